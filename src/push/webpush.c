/*
 * webpush.c — see webpush.h. One thread owns every subscription and a libcurl multi
 * handle: it loads the subscriptions from the store (at start, when this process
 * changed them, and every WP_RELOAD_MS for those another front end changed), gives
 * each verified one a hub subscriber (push_sub, local to this process), and POSTs
 * what the hub has for it, one request in flight per subscription. The hub's wake
 * calls curl_multi_wakeup, so a change is on its way at once.
 *
 * libcurl (and with it OpenSSL) and the VAPID private key are set up only when there is
 * something to send: a server nobody subscribed to stays small (issue 21 §3, idle RSS
 * ≤ 15 MiB). Until then the thread waits on a condition variable, and the session's
 * public key comes from a copy kept beside the key file (<key>.pub).
 */
#include "push/webpush.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "feeds/fetch.h"
#include "push/hub.h"
#include "store/store.h"
#include "util/config.h"
#include "util/util.h"

extern char **environ;

#define WP_RELOAD_MS 5000     /* subscriptions changed by another front end are seen after */
#define WP_CHECK_MS 1000      /* credentials and expiry looked at this often */
#define WP_BACKOFF_MIN 1000   /* ms after a failed POST, doubling... */
#define WP_BACKOFF_MAX 600000 /* ...up to ten minutes */
#define WP_MAX_ACCOUNTS 32    /* as many as a session shows (jmap.h JMAP_MAX_ACCOUNTS) */

struct wp_sub {
    struct wp_sub *next;
    char *id, *cred, *url, *p256dh, *auth, *data; /* data: the stored JSON text */
    int64_t user_id, expires;
    bool verified, seen;
    struct push_sub *hub; /* while verified */
    CURL *inflight;
    json_t *queue;      /* messages to send in order; the first is in flight or next */
    int64_t not_before; /* monotonic ms: backing off */
    int64_t backoff;
};

/* One POST in flight: for a subscription, or a PushVerification (sub NULL). */
struct wp_post {
    struct wp_post *next; /* every POST in flight, for the stop */
    CURL *h;
    struct wp_sub *sub;
    struct curl_slist *headers;
    unsigned char *body;
    json_t *message; /* what was sent, kept for a retry */
    char *retry_after;
};

struct webpush {
    struct store *store;
    struct push_hub *hub;
    const struct config *cfg;
    enum push_cred (*check)(const char *cred, void *ud);
    void *check_ud;
    struct webpush_vapid *vapid; /* loaded with libcurl, at the first thing to send */
    char *vapid_path, *public_b64;
    char *subject;  /* VAPID "sub" (RFC 8292 §2.1) */
    CURLM *multi;   /* NULL until there is something to send; set under lock */
    pthread_cond_t idle; /* the thread's wait while multi is NULL */
    pthread_t thread;
    pthread_mutex_t lock; /* stopping, reload, verifications, multi */
    bool stopping, reload;
    /* webpush_reload's requests and the last one a reload has answered (after the
     * thread's read of the store), signalled on reloaded */
    int64_t reload_asked, reload_done;
    pthread_cond_t reloaded;
    json_t *verifications; /* [{id, url, p256dh, auth, code}] to send */
    struct wp_sub *subs;
    struct wp_post *posts;
    int64_t next_reload, next_check;
    json_t *users; /* during a reload: user id -> [account id], each user read once */
};

#define WP_RELOAD_WAIT_MS 3000 /* webpush_reload waits for the reload at most this */
#define WP_QUEUE_MAX 64 /* messages waiting per subscription (StateChanges merge) */

static void sub_free(struct wp_sub *s)
{
    push_sub_free(s->hub);
    free(s->id);
    free(s->cred);
    free(s->url);
    free(s->p256dh);
    free(s->auth);
    free(s->data);
    json_decref(s->queue);
    free(s);
}

static void wake(void *ud)
{
    struct webpush *w = ud;
    pthread_mutex_lock(&w->lock);
    if (w->multi)
        curl_multi_wakeup(w->multi);
    else
        pthread_cond_signal(&w->idle);
    pthread_mutex_unlock(&w->lock);
}

/* libcurl and the VAPID key, once there is something to send. */
static void start_curl(struct webpush *w)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    w->vapid = webpush_vapid_load(w->vapid_path);
    CURLM *m = curl_multi_init();
    pthread_mutex_lock(&w->lock);
    w->multi = m;
    pthread_mutex_unlock(&w->lock);
}

/* Nothing to send yet: wait until woken or until the next reload or check is due. */
static void wait_idle(struct webpush *w)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 500 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->lock);
    if (!w->stopping && !w->reload && !json_array_size(w->verifications))
        pthread_cond_timedwait(&w->idle, &w->lock, &until);
    pthread_mutex_unlock(&w->lock);
}

static void no_arm(void *ud)
{
    (void)ud;
}

/* ---- delivery --------------------------------------------------------------------------- */

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    struct wp_post *p = ud;
    size_t len = size * n;
    if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
        free(p->retry_after);
        p->retry_after = xstrndup(data + 12, len - 12);
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    (void)data;
    (void)ud;
    return size * n; /* a push service's answer body says nothing we use */
}

static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct webpush *w = ud;
    (void)purpose;
    if (!fetch_address_allowed(&a->addr, w->cfg->push_allow))
        return CURL_SOCKET_BAD; /* RFC 8620 §8.6: no requests into private networks */
    return socket(a->family, a->socktype, a->protocol);
}

/* Starts the POST of message to url (RFC 8030 §5; RFC 8620 §7.2: application/json
 * with a TTL header), encrypted for the keys when given (RFC 8291). */
static bool post(struct webpush *w, struct wp_sub *sub, const char *url, const char *p256dh,
                 const char *auth, json_t *message, const char *urgency, const char *topic)
{
    char *text = json_dumps(message, JSON_COMPACT);
    struct wp_post *p = xcalloc(1, sizeof *p);
    p->sub = sub;
    p->message = json_incref(message);
    size_t len = strlen(text);
    p->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (p256dh && auth) {
        p->body = webpush_encrypt(p256dh, auth, text, &len);
        p->headers = curl_slist_append(p->headers, "Content-Encoding: aes128gcm");
        free(text);
    } else {
        p->body = (unsigned char *)text;
    }
    char line[96];
    snprintf(line, sizeof line, "TTL: %lld", (long long)w->cfg->push_ttl);
    p->headers = curl_slist_append(p->headers, line);
    snprintf(line, sizeof line, "Urgency: %s", urgency);
    p->headers = curl_slist_append(p->headers, line);
    if (topic) {
        snprintf(line, sizeof line, "Topic: %s", topic);
        p->headers = curl_slist_append(p->headers, line);
    }
    char *vapid =
        w->vapid ? webpush_vapid_header(w->vapid, url, w->subject, util_now() + 12 * 3600) : NULL;
    if (vapid)
        p->headers = curl_slist_append(p->headers, vapid);
    free(vapid);
    CURL *h = curl_easy_init();
    if (!p->body || !h) {
        log_error("webpush: cannot prepare a message for %s", sub ? sub->id : "a verification");
        curl_easy_cleanup(h);
        curl_slist_free_all(p->headers);
        free(p->body);
        json_decref(p->message);
        free(p);
        return false;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "jmapd");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(w->cfg->push_timeout * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(w->cfg->push_timeout * 1000));
    if (w->cfg->push_ca_file[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, w->cfg->push_ca_file);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, w);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, p);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_PRIVATE, p);
    if (sub)
        sub->inflight = h;
    p->h = h;
    p->next = w->posts;
    w->posts = p;
    curl_multi_add_handle(w->multi, h);
    return true;
}

static int pushsub_del(struct store_conn *c, void *id)
{
    return store_pushsub_del(c, id);
}

static void destroy_sub(struct webpush *w, struct wp_sub *s, const char *why)
{
    log_info("webpush: subscription %s destroyed: %s", s->id, why);
    struct store_conn *c = store_conn(w->store);
    if (c)
        store_write(c, pushsub_del, s->id, "webpush");
    s->seen = false; /* the next sweep frees it */
}

/* A finished POST: 2xx done; 404 and 410 end the subscription (RFC 8030 §6.2, §7.3);
 * 429 backs off as Retry-After says (RFC 8620 §7.2: "MUST cause the JMAP server to
 * reduce the frequency"), as do 5xx and transport failures; the message is kept and
 * merged with what comes meanwhile. Other answers drop the message. */
static void finished(struct webpush *w, CURL *h, CURLcode rc)
{
    struct wp_post *p = NULL;
    curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&p);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    struct wp_sub *s = p->sub;
    if (s) {
        s->inflight = NULL;
        if (rc == CURLE_OK && status >= 200 && status < 300) {
            s->backoff = 0;
            json_array_remove(s->queue, 0);
        } else if (rc == CURLE_OK && (status == 404 || status == 410)) {
            destroy_sub(w, s, "the push service says it is gone");
        } else if (rc != CURLE_OK || status == 429 || status >= 500) {
            s->backoff = s->backoff ? s->backoff * 2 : WP_BACKOFF_MIN;
            if (s->backoff > WP_BACKOFF_MAX)
                s->backoff = WP_BACKOFF_MAX;
            int64_t after = p->retry_after ? strtoll(p->retry_after, NULL, 10) * 1000 : 0;
            s->not_before = util_now_ms() + (after > s->backoff ? after : s->backoff);
            log_info("webpush: %s: %s; again in %lld ms", s->id,
                     rc != CURLE_OK  ? curl_easy_strerror(rc)
                     : status == 429 ? "429"
                                     : "5xx",
                     (long long)(s->not_before - util_now_ms()));
        } else {
            log_info("webpush: %s: HTTP %ld; message dropped", s->id, status);
            json_array_remove(s->queue, 0);
        }
    } else if (rc != CURLE_OK || status < 200 || status >= 300) {
        log_info("webpush: a PushVerification was not taken (%s, HTTP %ld)",
                 rc != CURLE_OK ? curl_easy_strerror(rc) : "answered", status);
    }
    for (struct wp_post **pp = &w->posts; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    curl_multi_remove_handle(w->multi, h);
    curl_easy_cleanup(h);
    curl_slist_free_all(p->headers);
    free(p->body);
    free(p->retry_after);
    json_decref(p->message);
    free(p);
}

static bool is_state_change(const json_t *m)
{
    const char *t = json_string_value(json_object_get(m, "@type"));
    return t && strcmp(t, "StateChange") == 0;
}

/* Takes what the hub has for s into its queue: a StateChange merges into a waiting
 * one (RFC 8620 §7.1: changes may be amalgamated; the newer state wins). */
static bool take(struct webpush *w, struct wp_sub *s)
{
    for (;;) {
        char *text = NULL;
        uint64_t eid;
        enum push_next n = push_sub_next(s->hub, &text, &eid, no_arm, NULL);
        if (n == PUSH_CLOSED || n == PUSH_GONE)
            return false; /* the hub is stopping; credentials are check()'s to judge */
        if (n == PUSH_WAIT)
            return true;
        json_t *m = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        if (!m)
            continue; /* a keep-alive: nothing to send */
        size_t q = json_array_size(s->queue);
        json_t *last = q ? json_array_get(s->queue, q - 1) : NULL;
        /* never called while the first is in flight: nothing queued is delivered yet */
        if (is_state_change(m) && last && is_state_change(last))
            json_object_update_recursive(json_object_get(last, "changed"),
                                         json_object_get(m, "changed"));
        else if (q < WP_QUEUE_MAX)
            json_array_append(s->queue, m);
        json_decref(m);
    }
}

/* Sends the first queued message of s, if it may send now. */
static void pump(struct webpush *w, struct wp_sub *s, int64_t now)
{
    if (!s->hub || s->inflight || !take(w, s) || now < s->not_before)
        return;
    s->not_before = 0;
    json_t *m = json_array_get(s->queue, 0);
    if (!m)
        return;
    bool sc = is_state_change(m);
    /* a CalendarAlert is urgent (RFC 8030 §5.3); StateChanges replace each other at the
     * push service while undelivered (§5.4 Topic) */
    if (!post(w, s, s->url, s->p256dh, s->auth, m, sc ? "normal" : "high",
              sc ? "StateChange" : NULL))
        json_array_remove(s->queue, 0);
}

/* ---- the subscriptions ---------------------------------------------------------------------- */

static struct wp_sub *find(struct webpush *w, const char *id)
{
    for (struct wp_sub *s = w->subs; s; s = s->next)
        if (strcmp(s->id, id) == 0)
            return s;
    return NULL;
}

/* The user's accounts (what the API lets them use) for a hub subscriber: read once per
 * user and reload (issue 14: once per subscription before), ids valid until the
 * reload ends. -1 when they cannot be read. */
static int accounts_of(struct webpush *w, struct store_conn *c, int64_t user_id, const char **ids)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)user_id);
    json_t *known = w->users ? json_object_get(w->users, key) : NULL;
    if (!known) {
        struct store_access *acc = xcalloc(WP_MAX_ACCOUNTS, sizeof *acc);
        int n = store_user_accounts(c, user_id, acc, WP_MAX_ACCOUNTS);
        known = n < 0 ? json_null() : json_array();
        for (int i = 0; i < n; i++) /* calendars-27 §4.1: free/busy alone is none */
            if (acc[i].readable)
                json_array_append_new(known, json_string(acc[i].account_id));
        free(acc);
        if (!w->users)
            w->users = json_object();
        json_object_set_new(w->users, key, known);
    }
    size_t i;
    json_t *v;
    json_array_foreach(known, i, v)
    {
        ids[i] = json_string_value(v);
    }
    return json_is_array(known) ? (int)json_array_size(known) : -1;
}

/* A verified subscription's hub subscriber: the user's accounts and the types the
 * subscription asks for. In reload's read transaction. */
static void attach(struct webpush *w, struct store_conn *c, struct wp_sub *s, json_t *types)
{
    const char *ids[WP_MAX_ACCOUNTS];
    int n = accounts_of(w, c, s->user_id, ids);
    if (n < 0) {
        log_warn("webpush: subscription %s: its user's accounts cannot be read", s->id);
    } else {
        s->hub = push_sub_new(w->hub, s->user_id, ids, n, json_is_array(types) ? types : NULL, 0,
                              wake, w);
        push_sub_local_only(s->hub);
    }
}

/* The accounts of an unchanged subscriber looked at again: a share given or taken
 * since (on any front end) reaches its pushes within a reload. */
static void refresh_accounts(struct webpush *w, struct store_conn *c, struct wp_sub *s)
{
    const char *ids[WP_MAX_ACCOUNTS];
    int n = accounts_of(w, c, s->user_id, ids);
    if (n >= 0)
        push_sub_set_accounts(s->hub, ids, n);
}

static int load_one(const char *id, int64_t user_id, const char *cred, const char *data, void *ud)
{
    struct webpush *w = ud;
    struct wp_sub *s = find(w, id);
    if (s && strcmp(s->data, data) == 0) {
        s->seen = true;
        if (s->hub)
            refresh_accounts(w, store_conn(w->store), s);
        return 0;
    }
    json_t *o = json_loads(data, 0, NULL);
    if (!o)
        return 0;
    if (s) { /* changed: verified now, or other types or expiry; built again */
        s->seen = false;
        s->id[0] = 0;
    }
    s = xcalloc(1, sizeof *s);
    s->id = xstrdup(id);
    s->user_id = user_id;
    s->cred = xstrdup(cred);
    s->data = xstrdup(data);
    s->queue = json_array();
    s->url = xstrdup(json_string_value(json_object_get(o, "url")) ?: "");
    json_t *keys = json_object_get(o, "keys");
    if (json_is_object(keys)) {
        s->p256dh = xstrdup(json_string_value(json_object_get(keys, "p256dh")) ?: "");
        s->auth = xstrdup(json_string_value(json_object_get(keys, "auth")) ?: "");
    }
    const char *exp = json_string_value(json_object_get(o, "expires"));
    if (exp)
        util_utc_parse(exp, &s->expires);
    const char *vc = json_string_value(json_object_get(o, "verificationCode"));
    const char *code = json_string_value(json_object_get(o, "#code"));
    s->verified = vc && code && strcmp(vc, code) == 0;
    s->seen = true;
    if (s->verified)
        attach(w, store_conn(w->store), s, json_object_get(o, "types"));
    json_decref(o);
    s->next = w->subs;
    w->subs = s;
    return 0;
}

/* Frees what is no longer stored (or was replaced), waiting for its POST first. */
static void sweep(struct webpush *w)
{
    for (struct wp_sub **pp = &w->subs; *pp;) {
        struct wp_sub *s = *pp;
        if (!s->seen && !s->inflight) {
            *pp = s->next;
            sub_free(s);
        } else {
            pp = &s->next;
        }
    }
}

static void reload(struct webpush *w)
{
    struct store_conn *c = store_conn(w->store);
    if (!c || store_begin(c, false) != STORE_OK)
        return;
    for (struct wp_sub *s = w->subs; s; s = s->next)
        s->seen = false;
    if (store_pushsub_list(c, 0, load_one, w) != STORE_OK) {
        for (struct wp_sub *s = w->subs; s; s = s->next)
            s->seen = true; /* nothing known: nothing dropped */
    }
    store_rollback(c);
    json_decref(w->users);
    w->users = NULL;
    sweep(w);
}

/* RFC 8620 §7.2: a subscription ends with its credential and at its expiry. */
static void check(struct webpush *w)
{
    int64_t now = util_now();
    json_t *gone = json_object(); /* each distinct credential checked once */
    for (struct wp_sub *s = w->subs; s; s = s->next) {
        if (!s->seen)
            continue;
        json_t *known = json_object_get(gone, s->cred);
        if (!known && w->check) {
            known = json_boolean(w->check(s->cred, w->check_ud) == PUSH_CRED_GONE);
            json_object_set_new(gone, s->cred, known);
        }
        if (s->expires && s->expires <= now)
            destroy_sub(w, s, "expired");
        else if (json_is_true(known))
            destroy_sub(w, s, "its credential no longer holds");
    }
    json_decref(gone);
    sweep(w);
}

static void *run(void *arg)
{
    struct webpush *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        bool stop = w->stopping, again = w->reload;
        int64_t asked = w->reload_asked;
        w->reload = false;
        json_t *verifs = w->verifications;
        w->verifications = json_array();
        pthread_mutex_unlock(&w->lock);
        if (stop) {
            json_decref(verifs);
            break;
        }
        int64_t now = util_now_ms();
        if (again || now >= w->next_reload) {
            reload(w);
            w->next_reload = now + WP_RELOAD_MS;
            pthread_mutex_lock(&w->lock);
            w->reload_done = asked;
            pthread_cond_broadcast(&w->reloaded);
            pthread_mutex_unlock(&w->lock);
        }
        if (now >= w->next_check) {
            check(w);
            w->next_check = now + WP_CHECK_MS;
        }
        if (!w->multi) {
            if (!w->subs && !json_array_size(verifs)) {
                json_decref(verifs);
                wait_idle(w);
                continue;
            }
            start_curl(w);
        }
        size_t i;
        json_t *v;
        json_array_foreach(verifs, i, v)
        {
            /* RFC 8620 §7.2.2: the PushVerification object */
            json_t *msg =
                json_pack("{s:s, s:O, s:O}", "@type", "PushVerification", "pushSubscriptionId",
                          json_object_get(v, "id"), "verificationCode", json_object_get(v, "code"));
            post(w, NULL, json_string_value(json_object_get(v, "url")),
                 json_string_value(json_object_get(v, "p256dh")),
                 json_string_value(json_object_get(v, "auth")), msg, "normal", NULL);
            json_decref(msg);
        }
        json_decref(verifs);
        for (struct wp_sub *s = w->subs; s; s = s->next)
            if (s->seen)
                pump(w, s, now);
        int running = 0;
        curl_multi_perform(w->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(w->multi, &left)))
            if (m->msg == CURLMSG_DONE)
                finished(w, m->easy_handle, m->data.result);
        sweep(w);
        curl_multi_poll(w->multi, NULL, 0, 500, NULL);
    }
    return NULL;
}

/* The key's public half from <path>.pub when that is at least as new as the key, or
 * NULL. */
static char *public_key_kept(const char *path)
{
    char *pub_path = xasprintf("%s.pub", path);
    struct stat ks, ps;
    char buf[128] = "";
    if (stat(path, &ks) == 0 && stat(pub_path, &ps) == 0 && ps.st_mtime >= ks.st_mtime) {
        FILE *f = fopen(pub_path, "r");
        if (f && fgets(buf, sizeof buf, f))
            buf[strcspn(buf, "\r\n")] = 0;
        if (f)
            fclose(f);
    }
    free(pub_path);
    return strlen(buf) == 87 ? xstrdup(buf) : NULL; /* 65 octets, URL-safe base64 */
}

char *webpush_key_prepare(const char *path)
{
    struct webpush_vapid *v = webpush_vapid_load(path);
    char *pub = webpush_vapid_public(v) ? xstrdup(webpush_vapid_public(v)) : NULL;
    webpush_vapid_free(v);
    char *pub_path = xasprintf("%s.pub", path);
    FILE *f = pub ? fopen(pub_path, "w") : NULL;
    if (f) {
        fprintf(f, "%s\n", pub);
        fclose(f);
    }
    free(pub_path);
    return pub;
}

/* `jmapd push-key path` run as a process of its own: the server never loads a key
 * with OpenSSL before its first push (libcrypto's initialisation is 2-3 MB of its idle
 * RSS; issue 21 §3). False when it could not run or failed. */
static bool key_prepared_apart(const char *path)
{
    char *argv[] = {"jmapd", "push-key", (char *)path, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none;
    sigemptyset(&none);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_init(&at);
    posix_spawnattr_setsigmask(&at, &none); /* serve's threads block every signal */
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0)
        return false;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return false;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The VAPID public key (RFC 8292 §3.2 "k") for the session: from <path>.pub when it is
 * at least as new as the key, else made (with the key itself on the first start, RFC
 * 9749) by `jmapd push-key` apart, or here if that cannot run. NULL when there is no
 * usable key. */
static char *public_key(const char *path)
{
    char *pub = public_key_kept(path);
    if (!pub && key_prepared_apart(path))
        pub = public_key_kept(path);
    return pub ? pub : webpush_key_prepare(path);
}

struct webpush *webpush_start(struct store *st, struct push_hub *hub, const struct config *cfg,
                              enum push_cred (*check_fn)(const char *cred, void *ud), void *ud)
{
    struct webpush *w = xcalloc(1, sizeof *w);
    w->store = st;
    w->hub = hub;
    w->cfg = cfg;
    w->check = check_fn;
    w->check_ud = ud;
    w->verifications = json_array();
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->idle, NULL);
    pthread_cond_init(&w->reloaded, NULL);
    w->vapid_path = cfg->push_vapid_key[0] ? xstrdup(cfg->push_vapid_key)
                                           : xasprintf("%s/webpush-vapid.pem", cfg->data_dir);
    w->public_b64 = public_key(w->vapid_path);
    w->subject = strncasecmp(cfg->base_url, "https://", 8) == 0
                     ? xstrdup(cfg->base_url)
                     : xasprintf("mailto:postmaster@%s",
                                 cfg->default_domain[0] ? cfg->default_domain : "localhost");
    if (pthread_create(&w->thread, NULL, run, w) != 0)
        abort();
    return w;
}

void webpush_stop(struct webpush *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_broadcast(&w->reloaded); /* no request waits for a reload any more */
    pthread_mutex_unlock(&w->lock);
    wake(w);
    pthread_join(w->thread, NULL);
    while (w->posts)
        finished(w, w->posts->h, CURLE_ABORTED_BY_CALLBACK);
    while (w->subs) {
        struct wp_sub *s = w->subs;
        w->subs = s->next;
        sub_free(s);
    }
    if (w->multi)
        curl_multi_cleanup(w->multi);
    json_decref(w->verifications);
    webpush_vapid_free(w->vapid);
    free(w->vapid_path);
    free(w->public_b64);
    free(w->subject);
    pthread_cond_destroy(&w->idle);
    pthread_cond_destroy(&w->reloaded);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

const char *webpush_public_key(const struct webpush *w)
{
    return w ? w->public_b64 : NULL;
}

void webpush_reload(struct webpush *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->reload = true;
    int64_t mine = ++w->reload_asked;
    pthread_mutex_unlock(&w->lock);
    wake(w);
    /* RFC 8620 §7.2.2: a subscription verified by this request is pushed the changes
     * after it: its hub subscriber is in place before the client has the answer (a
     * change the client made at once was lost to a reload still on its way). At most
     * WP_RELOAD_WAIT_MS: the thread reloads at the top of each turn of at most ~0.5 s. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WP_RELOAD_WAIT_MS / 1000;
    pthread_mutex_lock(&w->lock);
    while (w->reload_done < mine && !w->stopping)
        if (pthread_cond_timedwait(&w->reloaded, &w->lock, &until) != 0)
            break;
    pthread_mutex_unlock(&w->lock);
}

void webpush_verify(struct webpush *w, const char *id, const char *url, const char *p256dh,
                    const char *auth, const char *code)
{
    if (!w)
        return;
    json_t *v = json_pack("{s:s, s:s, s:s}", "id", id, "url", url, "code", code);
    if (p256dh && auth) {
        json_object_set_new(v, "p256dh", json_string(p256dh));
        json_object_set_new(v, "auth", json_string(auth));
    }
    pthread_mutex_lock(&w->lock);
    json_array_append_new(w->verifications, v);
    pthread_mutex_unlock(&w->lock);
    wake(w);
}
