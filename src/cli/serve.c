/*
 * serve.c — `jmapd serve`: opens the store, starts the push hub and the HTTP
 * server, collects unreferenced blobs now and then, gives freed memory back to the
 * system every few seconds, and on SIGTERM or SIGINT stops cleanly (in-flight
 * requests finish, the database is closed) and exits 0.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "http/auth.h"
#include "http/server.h"
#include "jmap/jmap.h"
#include "push/hub.h"
#include "push/webpush.h"
#include "types/calendar_alert.h"
#include "types/subscription.h"
#include "types/event_cache.h"
#include "types/types.h"
#include "util/util.h"

#define GC_INTERVAL 600
#define TRIM_INTERVAL 5

/* Issue 19 §8: memory is given back. glibc raises its mmap threshold each time a large
 * block (an upload, a large request or response) is freed, up to 32 MiB, so later large
 * blocks come from the heaps, where what is freed stays mapped and fragments; and it
 * gives every contending thread an arena of its own (up to eight per core). Fixed
 * thresholds keep large blocks in mappings of their own, returned to the system when
 * freed, and heap tops trimmed past 1 MiB; the arenas are limited to the worker count
 * plus two (the push timer, this thread). The main loop also calls malloc_trim every
 * TRIM_INTERVAL seconds, which returns the free pages inside every arena as well. */
void cli_malloc_tune(int threads)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 256 << 10);
    mallopt(M_TRIM_THRESHOLD, 1 << 20);
    mallopt(M_ARENA_MAX, threads + 2);
#else
    (void)threads;
#endif
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Whether a PushSubscription's credential still holds (RFC 8620 §7.2: a subscription
 * goes with its credential), on the WebPush thread. */
static enum push_cred webpush_check_cred(const char *cred, void *ud)
{
    struct jmap_server *srv = ud;
    struct store_conn *sc = store_conn(srv->store);
    enum auth_result r = sc ? auth_credential_valid(sc, cred) : AUTH_ERROR;
    return r == AUTH_OK ? PUSH_CRED_OK : r == AUTH_FAILED ? PUSH_CRED_GONE : PUSH_CRED_UNKNOWN;
}

/* RFC 8620 §6: the uploads no object references, older than *ttl seconds. */
static int blob_gc(struct store_conn *c, void *ttl)
{
    return store_blob_gc(c, *(const int64_t *)ttl);
}

int cli_serve(int argc, char **argv)
{
    struct config cfg;
    if (cli_options(&cfg, &argc, argv))
        return 2;
    if (argc > 1) {
        fprintf(stderr, "jmapd serve: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    int level = log_level_parse(cfg.log_level);
    if (level < 0) {
        fprintf(stderr, "jmapd: unknown log_level '%s'\n", cfg.log_level);
        return 2;
    }
    log_set_level((enum log_level)level);
    if (!cfg.base_url[0])
        snprintf(cfg.base_url, sizeof cfg.base_url, "%s://%s", cfg.tls_cert[0] ? "https" : "http",
                 cfg.listen);
    size_t bl = strlen(cfg.base_url);
    while (bl && cfg.base_url[bl - 1] == '/')
        cfg.base_url[--bl] = 0;
    raise_fd_limit();
    cli_malloc_tune(cfg.threads > 0 ? (int)cfg.threads : (int)sysconf(_SC_NPROCESSORS_ONLN));

    /* Signals are taken synchronously by this thread; every thread started from
     * here on inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1); /* collect unreferenced blobs now */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    store_set_busy_timeout((int)cfg.db_busy_timeout);
    /* issue 21: the parsed-event cache's bound, in MiB (at most 1 TiB) */
    event_cache_set_limit((size_t)(cfg.cache_size < (1 << 20) ? cfg.cache_size : 1 << 20) << 20);
    struct store *st = cli_store(&cfg);
    if (!st)
        return 1;
    if (principals_backfill(store_conn(st)) != STORE_OK) /* RFC 9670: users before it */
        log_warn("principals: could not give every user their principal");
    if (jmap_backfill(store_conn(st)) != STORE_OK) /* what older accounts lack */
        log_warn("could not give every account what this release provisions");
    struct jmap_server srv = {.store = st, .hub = push_hub_new(), .cfg = &cfg};
    push_hub_on_accounts(srv.hub, jmap_accounts_changed_elsewhere); /* issue 14 */
    push_hub_attach(srv.hub, st);
    /* RFC 8620 §7.2: PushSubscriptions delivered by POST (before the first request) */
    srv.webpush = webpush_start(st, srv.hub, &cfg, webpush_check_cred, &srv);
    char *err = NULL;
    struct http_server *h = http_start(&srv, &err);
    if (!h) {
        fprintf(stderr, "jmapd: %s\n", err ? err : "cannot start the HTTP server");
        free(err);
        webpush_stop(srv.webpush);
        push_hub_free(srv.hub);
        store_close(st);
        return 1;
    }
    log_info("jmapd serving %s (data in %s)", cfg.base_url, cfg.data_dir);
    /* issue 17 §1: subscribed calendars follow their feeds */
    struct subscription_refresher *refresher = subscription_refresher_start(st, &cfg, srv.hub);
    /* issue 14, calendars-27 §6: alerts fired by the server (and the iMIP outbox
     * retried); JMAPD_TEST_CLOCK moves their clock in test mode only */
    calendar_alert_clock_init();
    struct calendar_alerter *alerter = calendar_alerter_start(&srv);
    struct store_conn *c = store_conn(st);
    int64_t next_gc = util_now() + GC_INTERVAL;
    for (;;) {
        struct timespec ts = {TRIM_INTERVAL, 0};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            log_info("signal %d: stopping", sig);
            break;
        }
        if (sig == SIGUSR1)
            next_gc = 0;
#ifdef __GLIBC__
        malloc_trim(0);
#endif
        if (util_now() < next_gc)
            continue;
        next_gc = util_now() + GC_INTERVAL;
        /* RFC 8620 §6: unreferenced uploads live at least blob_upload_ttl (>= 1 h). A
         * write transaction: on PostgreSQL it holds the writers' lock, so one front end
         * collects at a time (issue 15 §3) */
        if (store_write(c, blob_gc, &cfg.blob_upload_ttl, "blob collection") == STORE_OK)
            log_info("unreferenced blobs collected");
    }
    subscription_refresher_stop(refresher);
    calendar_alerter_stop(alerter);
    http_stop(h);
    webpush_stop(srv.webpush);
    push_hub_free(srv.hub);
    store_close(st);
    log_info("stopped");
    return 0;
}

int cli_push_key(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: jmapd push-key PATH\n");
        return 2;
    }
    char *pub = webpush_key_prepare(argv[1]);
    if (!pub)
        return 1; /* webpush_vapid_load said why */
    printf("%s\n", pub);
    free(pub);
    return 0;
}
