/*
 * store.c — dispatch of store.h to the backend chosen at store_open (backend.h):
 * SQLite for "sqlite" (the default), PostgreSQL for a postgresql:// URL. The public
 * functions are generated from STORE_OPS; they read the backend's table from the
 * first member of the store or connection they are given.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "formats/json/writer.h"
#include "store/backend.h"
#include "util/util.h"

static const struct store_ops *ops_of_conn(const struct store_conn *c)
{
    return *(const struct store_ops *const *)(const void *)c;
}

static const struct store_ops *ops_of_store(const struct store *st)
{
    return *(const struct store_ops *const *)(const void *)st;
}

#define STORE_OP_DISPATCH(ret, name, params, args)                                                 \
    ret store_##name params                                                                        \
    {                                                                                              \
        return ops_of_conn(c)->name args;                                                          \
    }
STORE_OPS(STORE_OP_DISPATCH)

int store_span_class(const struct store_index *ix)
{
    if (!ix->has_range || ix->unbounded || ix->end < ix->start)
        return SPAN_CLASS_OPEN;
    uint64_t d = (uint64_t)(ix->end - ix->start);
    int k = 0;
    while (d && k < SPAN_CLASS_OPEN) {
        d >>= 1;
        k++;
    }
    return k; /* d < 2^k */
}

struct range_adapter {
    store_range_cb cb;
    void *ud;
};

static int range_adapt(const char *id, int64_t modseq, bool has_range, bool exact, int64_t start,
                       int64_t end, void *ud)
{
    (void)has_range, (void)exact, (void)start, (void)end;
    struct range_adapter *a = ud;
    return a->cb(id, modseq, a->ud);
}

int store_index_range(struct store_conn *c, const char *account, const char *type, bool has_from,
                      int64_t from, bool has_to, int64_t to, store_range_cb cb, void *ud)
{
    struct range_adapter a = {cb, ud};
    return ops_of_conn(c)->index_spans(c, account, type, has_from, from, has_to, to, range_adapt,
                                       &a);
}

void store_rollback(struct store_conn *c)
{
    ops_of_conn(c)->rollback(c);
}

void store_retry_mark(struct store_conn *c)
{
    ops_of_conn(c)->retry_mark(c);
}

bool store_retry_again(struct store_conn *c, int attempt, const char *what)
{
    if (attempt >= STORE_RETRIES || !store_retryable(c) || util_deadline_passed())
        return false;
    store_rollback(c);
    log_warn("%s: the database refused the transaction for another's sake; run again (%d of %d)",
             what, attempt + 1, STORE_RETRIES);
    unsigned char jitter;
    util_random_bytes(&jitter, 1);
    long ms = 1 + jitter % (4 << attempt); /* 1-4, 1-8, 1-16 ms */
    struct timespec ts = {0, ms * 1000000};
    nanosleep(&ts, NULL);
    return true;
}

int store_write(struct store_conn *c, int (*fn)(struct store_conn *c, void *ud), void *ud,
                const char *what)
{
    for (int attempt = 0;; attempt++) {
        store_retry_mark(c);
        int rc = store_begin(c, true);
        if (rc == STORE_OK)
            rc = fn(c, ud);
        if (rc == STORE_OK)
            rc = store_commit(c);
        if (rc == STORE_OK)
            return STORE_OK;
        if (!store_retry_again(c, attempt, what)) {
            store_rollback(c);
            return rc;
        }
    }
}

void store_set_busy_timeout(int ms)
{
    store_sqlite_set_busy_timeout(ms);
    store_pg_set_busy_timeout(ms);
}

void store_set_page_cache(int kib)
{
    store_sqlite_set_page_cache(kib);
}

void store_set_bulk_writes(bool on)
{
    store_sqlite_set_bulk_writes(on);
}

bool store_url_is_pg(const char *url)
{
    return url && (strncmp(url, "postgresql:", 11) == 0 || strncmp(url, "postgres:", 9) == 0);
}

struct store *store_open_url(const char *url, const char *dir, char **err)
{
    if (store_url_is_pg(url)) {
        /* the data directory still holds uploads in progress (private, as for SQLite) */
        if (dir && mkdir(dir, 0700) != 0 && errno != EEXIST) {
            *err = xasprintf("cannot create %s: %s", dir, strerror(errno));
            return NULL;
        }
        return store_pg_open(url, err);
    }
    if (url && *url && strcmp(url, "sqlite") != 0) {
        *err = xasprintf("unknown store '%s' (sqlite or postgresql://...)", url);
        return NULL;
    }
    return store_sqlite_open(dir, err);
}

struct store *store_open(const char *dir, char **err)
{
    return store_sqlite_open(dir, err);
}

void store_close(struct store *st)
{
    if (st)
        ops_of_store(st)->close(st);
}

struct store_conn *store_conn(struct store *st)
{
    return ops_of_store(st)->conn(st);
}

const char *store_backend_name(struct store *st)
{
    return ops_of_store(st)->name;
}

void store_user_clear(struct store_user *u)
{
    free(u->pwhash);
    u->pwhash = NULL;
}

struct store_bus *store_bus_open(struct store *st, void (*cb)(const char *msg, void *ud), void *ud)
{
    const struct store_ops *ops = ops_of_store(st);
    return ops->bus_open ? ops->bus_open(st, cb, ud) : NULL;
}

int store_bus_send(struct store_bus *b, const char *msg)
{
    if (!b)
        return STORE_OK;
    return store_sq_bus_owns(b) ? store_sq_bus_send(b, msg) : store_pg_bus_send(b, msg);
}

void store_bus_close(struct store_bus *b)
{
    if (b && store_sq_bus_owns(b))
        store_sq_bus_close(b);
    else if (b)
        store_pg_bus_close(b);
}

/* The per-viewer state (metadata-02 §2.2, issue 18): while the type's latest writes
 * are private metadata, a user sees the highest modseq everybody saw before them or
 * their own latest private write; otherwise the type's modseq. */
int64_t store_state_viewer(struct store_conn *c, const char *account, const char *type,
                           int64_t user_id)
{
    int64_t s = 0, last_private = 0, shared = 0, mine = 0;
    if (store_metadata_viewer(c, account, type, user_id, &s, &last_private, &shared, &mine) !=
        STORE_OK)
        return store_state_get(c, account, type);
    if (last_private != s || s == 0)
        return s; /* the latest change is one everybody sees */
    return mine > shared ? mine : shared;
}

char *store_json_text(const json_t *j)
{
    if (!j)
        return NULL;
    jbuf b = {0};
    jwriter_append(j, &b);
    return jbuf_take(&b);
}
