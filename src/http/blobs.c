/*
 * blobs.c — the upload and download endpoints (RFC 8620 §6.1, §6.2). Uploads are
 * stored content-addressed and kept at least blob_upload_ttl seconds unless
 * referenced; downloads honour the `type` and `name` URL variables, set
 * Content-Disposition safely for any name, and answer single byte ranges. Uploads
 * stream to a temporary file, never whole into memory (see below). Also the
 * export endpoint, which serves a whole collection (.ics, .vcf) as a file.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "dav/dav.h"
#include "http/internal.h"
#include "jmap/blob.h"
#include "jmap/engine.h"

static const struct store_access *find_account(const struct jmap_user *u, const char *id)
{
    for (int i = 0; i < u->naccounts; i++)
        if (strcmp(u->accounts[i].account_id, id) == 0)
            return &u->accounts[i];
    return NULL;
}

/* A media type is echoed only if it looks like one: type "/" subtype and simple
 * parameters, no controls or quotes, so nothing can be injected into headers. */
static bool safe_media_type(const char *t)
{
    if (!t || !*t || strlen(t) > 200 || !strchr(t, '/'))
        return false;
    for (const char *p = t; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("!#$&^_.+-/;= ", *p))
            return false;
    return true;
}

/* RFC 6266 + RFC 8187: an ASCII fallback filename and the exact UTF-8 name. */
static char *content_disposition(const char *name)
{
    struct buf b = {0};
    buf_puts(&b, "attachment; filename=\"");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        buf_append(&b, (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' || *p == '/') ? "_"
                                                                                            : (const char *)p,
                   1);
    buf_puts(&b, "\"; filename*=UTF-8''");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (isalnum(*p) || strchr("!#$&+-.^_`|~", *p))
            buf_append(&b, p, 1);
        else
            buf_printf(&b, "%%%02X", *p);
    }
    return buf_take(&b);
}

/* Parses a single "bytes=" range against size. Returns 1 with [*start, *end]
 * (inclusive), 0 if there is no usable Range header (serve all), -1 if
 * unsatisfiable (416). */
static int parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *end)
{
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    const char *p = h + 6;
    char *e;
    if (*p == '-') {
        if (!isdigit((unsigned char)p[1]))
            return 0;
        uint64_t n = strtoull(p + 1, &e, 10);
        if (*e)
            return 0;
        if (n == 0 || size == 0)
            return -1;
        *start = n >= size ? 0 : size - n;
        *end = size - 1;
        return 1;
    }
    if (!isdigit((unsigned char)*p))
        return 0;
    uint64_t a = strtoull(p, &e, 10);
    if (*e != '-')
        return 0;
    uint64_t b = size ? size - 1 : 0;
    if (e[1]) {
        if (!isdigit((unsigned char)e[1]))
            return 0;
        char *e2;
        b = strtoull(e + 1, &e2, 10);
        if (*e2 || b < a)
            return 0;
        if (b >= size)
            b = size - 1;
    }
    if (a >= size)
        return -1;
    *start = a;
    *end = b;
    return 1;
}

/* ---- downloads (RFC 8620 §6.2) ----------------------------------------------------------
 * The bytes [start, end] of a blob (all of it, or an HTTP Range, RFC 9110 §14) stream
 * to the client a store chunk at a time: the answer never holds more than one chunk
 * of the blob in memory, whatever its size (issue 15 §5). Reads are aligned to the
 * store's chunks (PostgreSQL keeps bytea rows of DOWNLOAD_CHUNK), so each reads one.
 * The first chunk is read before the answer is queued, so a blob that cannot be read
 * gets an error status, not a 200 that breaks off; a later failure ends the body
 * early (the client sees fewer bytes than Content-Length). */
#define DOWNLOAD_CHUNK (256 * 1024)

struct blob_stream {
    struct store *st;
    char account[256], blob[256];
    uint64_t next;      /* blob offset of the next store read */
    uint64_t end;       /* blob offset one past the last byte served */
    unsigned char *buf; /* the chunk being served */
    size_t len, at;     /* its length and how much of it went out */
};

/* Reads the chunk at s->next into s->buf: STORE_OK with at least one byte. */
static int stream_fill(struct blob_stream *s, struct store_conn *sc)
{
    uint64_t want = DOWNLOAD_CHUNK - s->next % DOWNLOAD_CHUNK;
    if (want > s->end - s->next)
        want = s->end - s->next;
    free(s->buf);
    s->buf = NULL;
    s->len = s->at = 0;
    int rc = sc ? store_blob_read(sc, s->account, s->blob, s->next, (size_t)want, &s->buf, &s->len)
                : STORE_ERR;
    if (rc == STORE_OK && s->len == 0)
        rc = STORE_ERR; /* shorter than its recorded size */
    if (rc == STORE_OK)
        s->next += s->len;
    return rc;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos; /* MHD asks for the body in order */
    struct blob_stream *s = cls;
    if (s->at == s->len) {
        if (s->next >= s->end)
            return MHD_CONTENT_READER_END_OF_STREAM;
        /* this runs on the MHD thread that owns the connection: its store connection */
        if (stream_fill(s, store_conn(s->st)) != STORE_OK) {
            log_error("download: blob %s breaks off at %" PRIu64, s->blob, s->next);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    size_t n = s->len - s->at < max ? s->len - s->at : max;
    memcpy(out, s->buf + s->at, n);
    s->at += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct blob_stream *s = cls;
    free(s->buf);
    free(s);
}

/* The response for bytes [start, start + count) of the blob, or NULL with *rc set. */
static struct MHD_Response *stream_response(struct store_conn *sc, struct store *st,
                                            const char *account, const char *blob, uint64_t start,
                                            uint64_t count, int *rc)
{
    if (count == 0)
        return MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    struct blob_stream *s = xcalloc(1, sizeof *s);
    s->st = st;
    snprintf(s->account, sizeof s->account, "%s", account);
    snprintf(s->blob, sizeof s->blob, "%s", blob);
    s->next = start;
    s->end = start + count;
    *rc = stream_fill(s, sc);
    struct MHD_Response *r =
        *rc == STORE_OK
            ? MHD_create_response_from_callback(count, 32 * 1024, stream_read, s, stream_free)
            : NULL;
    if (!r)
        stream_free(s);
    return r;
}

enum MHD_Result http_download(struct http_server *h, struct MHD_Connection *c,
                              struct http_req *rq, int64_t user_id, const char *path)
{
    char account[256], blob[256];
    const char *s1 = strchr(path, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s1 || !s2 || (size_t)(s1 - path) >= sizeof account || (size_t)(s2 - s1 - 1) >= sizeof blob)
        return http_problem(c, rq, 404, "about:blank", "no such blob", NULL);
    snprintf(account, sizeof account, "%.*s", (int)(s1 - path), path);
    snprintf(blob, sizeof blob, "%.*s", (int)(s2 - s1 - 1), s1 + 1);
    const char *name = s2 + 1;
    struct store_conn *sc = store_conn(h->srv->store);
    struct jmap_user u;
    if (!sc || jmap_user_load(sc, user_id, &u) != STORE_OK || !find_account(&u, account))
        return http_problem(c, rq, 404, "about:blank", "no such blob", NULL);
    int64_t size = store_blob_size(sc, account, blob);
    if (size < 0)
        return http_problem(c, rq, 404, "about:blank", "no such blob", NULL);
    uint64_t len = (uint64_t)size;
    const char *type = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "type");
    uint64_t start = 0, end = len ? len - 1 : 0;
    int range =
        parse_range(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range"), len, &start, &end);
    struct MHD_Response *r;
    char cr[96];
    if (range < 0) {
        r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        snprintf(cr, sizeof cr, "bytes */%" PRIu64, len);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
        rq->status = 416;
    } else {
        int rc = STORE_OK;
        r = stream_response(sc, h->srv->store, account, blob, start, len ? end - start + 1 : 0,
                            &rc);
        if (!r)
            return rc == STORE_NOTFOUND
                       ? http_problem(c, rq, 404, "about:blank", "no such blob", NULL)
                       : http_problem(c, rq, 500, "about:blank", "could not read the blob", NULL);
        if (range) {
            snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, start, end, len);
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
        }
        rq->status = range ? 206 : 200;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            safe_media_type(type) ? type : "application/octet-stream");
    char *cd = content_disposition(name);
    MHD_add_response_header(r, "Content-Disposition", cd);
    free(cd);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    /* blob ids name immutable content (RFC 8620 §6) */
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "private, immutable, max-age=31536000");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    return http_queue(c, rq, rq->status, r);
}

/* ---- uploads (RFC 8620 §6.1) ------------------------------------------------------------
 * Checked on the request's headers, before a byte of the body is read: the account
 * exists and is writable; then the body streams into an unlinked temporary file in
 * the data directory while its SHA-256 (the blob id) is computed, so an upload never
 * sits whole in the heap. At the end the file is mapped and handed to the store. */

struct http_upload {
    int fd;
    EVP_MD_CTX *md;
    size_t len;
    bool failed; /* a write to the temporary file failed */
    char account[256];
    char type[256];
};

void http_upload_free(struct http_req *rq)
{
    struct http_upload *up = rq->upload;
    if (!up)
        return;
    if (up->fd >= 0)
        close(up->fd);
    EVP_MD_CTX_free(up->md);
    free(up);
    rq->upload = NULL;
}

bool http_upload_begin(struct http_server *h, struct MHD_Connection *c, struct http_req *rq,
                       const char *path, enum MHD_Result *res)
{
    char account[256];
    size_t n = strcspn(path, "/");
    if (n == 0 || n >= sizeof account || (path[n] == '/' && path[n + 1])) {
        *res = http_problem(c, rq, 404, "about:blank", "no such upload resource", NULL);
        return false;
    }
    snprintf(account, sizeof account, "%.*s", (int)n, path);
    struct store_conn *sc = store_conn(h->srv->store);
    struct jmap_user u;
    if (!sc || jmap_user_load(sc, rq->user_id, &u) != STORE_OK) {
        *res = http_problem(c, rq, 401, "about:blank", "the user no longer exists", NULL);
        return false;
    }
    const struct store_access *a = find_account(&u, account);
    if (!a || !a->may_write) {
        *res = !a ? http_problem(c, rq, 404, "about:blank", "no such account", NULL)
                  : http_problem(c, rq, 403, "about:blank", "the account is read-only", NULL);
        return false;
    }
    struct http_upload *up = xcalloc(1, sizeof *up);
    rq->upload = up;
    snprintf(up->account, sizeof up->account, "%s", account);
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    snprintf(up->type, sizeof up->type, "%s",
             safe_media_type(ctype) ? ctype : "application/octet-stream");
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s/.upload-XXXXXX", h->srv->cfg->data_dir);
    up->fd = mkstemp(tmp);
    if (up->fd >= 0)
        unlink(tmp); /* gone with the descriptor, whatever happens to the request */
    up->md = EVP_MD_CTX_new();
    if (up->fd < 0 || !up->md || EVP_DigestInit_ex(up->md, EVP_sha256(), NULL) != 1) {
        log_error("upload: cannot create a temporary file in %s: %s", h->srv->cfg->data_dir,
                  strerror(errno));
        http_upload_free(rq);
        *res = http_problem(c, rq, 500, "about:blank", "could not store the upload", NULL);
        return false;
    }
    return true;
}

size_t http_upload_size(const struct http_req *rq)
{
    return rq->upload->len;
}

void http_upload_write(struct http_req *rq, const char *data, size_t len)
{
    struct http_upload *up = rq->upload;
    if (up->failed)
        return;
    EVP_DigestUpdate(up->md, data, len);
    up->len += len;
    while (len) {
        ssize_t w = write(up->fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            up->failed = true;
            return;
        }
        data += w;
        len -= (size_t)w;
    }
}

/* RFC 8620 §6.1: the upload's blob, stored in a write transaction of its own. */
struct blob_write {
    const struct http_upload *up;
    const char *id;
    const void *data;
};

static int blob_put(struct store_conn *c, void *ud)
{
    const struct blob_write *w = ud;
    return store_blob_put(c, w->up->account, w->id, w->data, w->up->len, w->up->type);
}

enum MHD_Result http_upload_finish(struct http_server *h, struct MHD_Connection *c,
                                   struct http_req *rq)
{
    struct http_upload *up = rq->upload;
    unsigned char md[32];
    char id[BLOB_ID_SIZE] = "G";
    unsigned mdlen = 0;
    EVP_DigestFinal_ex(up->md, md, &mdlen);
    for (int i = 0; i < 32; i++)
        snprintf(id + 1 + 2 * i, 3, "%02x", md[i]);
    void *map = up->len ? mmap(NULL, up->len, PROT_READ, MAP_PRIVATE, up->fd, 0) : NULL;
    struct store_conn *sc = store_conn(h->srv->store);
    /* the bytes are in the temporary file, so a refused write is run again from them */
    struct blob_write w = {up, id, map ? map : ""};
    bool ready = !up->failed && map != MAP_FAILED && sc;
    int rc = ready ? store_write(sc, blob_put, &w, "upload") : STORE_ERR;
    if (map && map != MAP_FAILED)
        munmap(map, up->len);
    if (rc != STORE_OK && ready && store_retryable(sc)) /* refused each time: RFC 9110 §15.6.4 */
        return http_problem(c, rq, 503, "about:blank", "the upload could not be stored now", NULL);
    if (rc != STORE_OK)
        return http_problem(c, rq, 500, "about:blank", "could not store the upload", NULL);
    json_t *resp = json_pack("{s:s, s:s, s:s, s:I}", "accountId", up->account, "blobId", id, "type",
                             up->type, "size", (json_int_t)up->len);
    char *body = json_dumps(resp, JSON_COMPACT);
    json_decref(resp);
    enum MHD_Result res = http_send(c, rq, 201, "application/json", body, strlen(body));
    free(body);
    return res;
}

static int write_buf(void *ud, const char *data, size_t len)
{
    buf_append(ud, data, len);
    return 0;
}

/* draft-ietf-calext-subscription-upgrade-13 §3.1: whether the request's Prefer
 * header (RFC 7240) carries the preference name, and its value (limit=N) if asked. */
static bool prefers(struct MHD_Connection *c, const char *name)
{
    const char *p = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Prefer");
    size_t n = strlen(name);
    while (p && *p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t len = strcspn(p, ",;= \t");
        if (len == n && strncasecmp(p, name, n) == 0)
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

/* §6.2: the value of the Prefer header's "limit" BWS "=" BWS 1*DIGIT preference, at
 * most 100000; 0 when there is none. */
static size_t prefer_limit(struct MHD_Connection *c)
{
    const char *p = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Prefer");
    while (p && *p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t len = strcspn(p, ",;= \t");
        if (len == 5 && strncasecmp(p, "limit", 5) == 0) {
            const char *v = p + 5 + strspn(p + 5, " \t");
            if (*v++ != '=')
                return 0;
            v += strspn(v, " \t");
            if (*v < '0' || *v > '9')
                return 0;
            unsigned long long n = strtoull(v, NULL, 10);
            return n > 100000 ? 100000 : (size_t)n;
        }
        p += strcspn(p, ",");
    }
    return 0;
}

/* §5: Sync-Token = DQUOTE URI DQUOTE; ours are "data:,N", or "data:,N/ID" in the
 * middle of a paged full listing at state N (§3.3: "the current position in the
 * resource is encoded ... within the sync token"), after[] then gets ID. -1 if it
 * is not one. */
static int64_t parse_sync_token(const char *v, char after[64])
{
    long long n;
    int used = 0;
    after[0] = 0;
    if (!v || sscanf(v, " \"data:,%lld%n", &n, &used) != 1 || used == 0 || n < 0)
        return -1;
    const char *p = v + used;
    if (*p == '/') {
        size_t k =
            strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
        if (k == 0 || k >= 64)
            return -1;
        memcpy(after, p + 1, k);
        after[k] = 0;
        p += 1 + k;
    }
    return *p == '"' ? n : -1;
}

/* ---- Last-Modified of a feed (RFC 9110 §8.8.2, §13.1.3) ----------------------------------
 * The store keeps states, not times: a feed's Last-Modified is the time a jmapd
 * process first answered for the collection at its current sync state, kept in the
 * account as a FeedTime record (so every front end and every restart agrees on it).
 * That is never earlier than the real change, so If-Modified-Since can only cost a
 * transfer, never hide a change; a state first seen in the same second as the one
 * before it is marked, and then If-Modified-Since of that very second is not enough
 * for a 304. Records are read through a bounded cache (cleared when full). */
#define FEED_TIMES_MAX 10000
static pthread_mutex_t feed_times_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *feed_times; /* "kind/account/id" -> [state, time, same second as before] */
static const struct jtype feed_time_type = {.name = "FeedTime"};

struct feed_time {
    char id[300];   /* the record's id in the account: "kind/collection id" */
    json_t *record; /* to store once the read transaction is over, or NULL */
    bool create;    /* ... as a new record */
};

static time_t feed_last_modified(struct store_conn *sc, const char *kind, const char *account,
                                 const char *id, int64_t state, bool *ambiguous,
                                 struct feed_time *ft)
{
    char *key = xasprintf("%s/%s/%s", kind, account, id);
    snprintf(ft->id, sizeof ft->id, "%s/%s", kind, id);
    time_t now = time(NULL), t;
    pthread_mutex_lock(&feed_times_mu);
    if (!feed_times || json_object_size(feed_times) >= FEED_TIMES_MAX) {
        json_decref(feed_times);
        feed_times = json_object();
    }
    json_t *e = json_incref(json_object_get(feed_times, key));
    pthread_mutex_unlock(&feed_times_mu);
    json_t *stored = NULL;
    if (!e || json_integer_value(json_array_get(e, 0)) != state) {
        stored = store_object_get(sc, account, feed_time_type.name, ft->id);
        json_decref(e);
        e = stored ? json_incref(json_object_get(stored, "t")) : NULL;
    }
    if (e && json_integer_value(json_array_get(e, 0)) == state) {
        t = (time_t)json_integer_value(json_array_get(e, 1));
        *ambiguous = json_is_true(json_array_get(e, 2));
    } else { /* first seen now: remembered, and stored once the read is over */
        *ambiguous = e && json_integer_value(json_array_get(e, 1)) == (json_int_t)now;
        t = now;
        json_decref(e);
        e = json_pack("[I, I, b]", (json_int_t)state, (json_int_t)now, *ambiguous);
        ft->record = json_pack("{s:O}", "t", e);
        ft->create = !stored;
    }
    pthread_mutex_lock(&feed_times_mu);
    json_object_set(feed_times, key, e);
    pthread_mutex_unlock(&feed_times_mu);
    json_decref(e);
    json_decref(stored);
    free(key);
    return t;
}

struct feed_time_write {
    const char *account;
    const struct feed_time *ft;
};

static int feed_time_put(struct store_conn *c, void *ud)
{
    const struct feed_time_write *w = ud;
    json_t *old = store_object_get(c, w->account, feed_time_type.name, w->ft->id);
    int rc =
        jmap_object_write(c, NULL, &feed_time_type, w->account, w->ft->id, w->ft->record, !old);
    json_decref(old);
    return rc;
}

/* Stores the time first seen (a short write transaction of its own; a failure only
 * means another front end or the next answer stores it). */
static void feed_time_store(struct store_conn *sc, const char *account, struct feed_time *ft)
{
    if (!ft->record)
        return;
    struct feed_time_write w = {account, ft};
    store_write(sc, feed_time_put, &w, "feed time");
    json_decref(ft->record);
    ft->record = NULL;
}

/* An HTTP-date (RFC 9110 §5.6.7, IMF-fixdate only), or -1. */
static time_t parse_http_date(const char *v)
{
    struct tm tm = {0};
    const char *end = v ? strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
    return end && !*end ? timegm(&tm) : -1;
}

struct export_answer {
    int status;
    struct buf body;
    const char *ctype;
    char etag[48], sync[128];
    char dav[600]; /* the collection in the DAV tree (an /export/ answer only), or "" */
    char last_modified[40]; /* the feed's Last-Modified, or "" */
    bool enhanced, cache_private, paged;
    size_t limit_applied; /* §3.3: the limit that truncated the answer, or 0 */
};

/* §3.3 paging: one page of the full listing (no token, or a "data:,N/ID" one) or of
 * the delta since the token's state; the token to continue from in a->sync. */
static int run_page(struct store_conn *sc, jmap_page_fn page, const char *account, const char *id,
                    int64_t cur, int64_t since, bool has_token, const char *after, size_t limit,
                    struct export_answer *a)
{
    bool full = !has_token || after[0];
    int64_t base = has_token ? since : cur, stop = -1;
    char next[64] = "";
    int rc =
        page(sc, account, id, since, full ? after : NULL, limit, write_buf, &a->body, next, &stop);
    if (next[0])
        snprintf(a->sync, sizeof a->sync, "\"data:,%" PRId64 "/%s\"", base, next);
    else if (full)
        snprintf(a->sync, sizeof a->sync, "\"data:,%" PRId64 "\"", base);
    else if (stop >= 0)
        snprintf(a->sync, sizeof a->sync, "\"data:,%" PRId64 "\"", stop);
    a->limit_applied = next[0] || stop >= 0 ? limit : 0;
    a->paged = true;
    a->ctype = "text/calendar; charset=utf-8";
    a->status = 200;
    return rc;
}

/* Runs the exporter (kind's) and decides the answer: with a sync state (§3) an
 * Enhanced GET gets the delta since its Sync-Token, 304 when nothing changed, 409
 * for a token that is not (or no longer) valid, pages of it with Prefer: limit=N
 * (§3.3); a plain GET gets the whole file, or 304 for a matching If-None-Match. */
static int run_export(struct http_server *h, struct MHD_Connection *c, const char *kind,
                      jmap_export_fn fn, const char *account, const char *id, const char *args,
                      struct export_answer *a)
{
    struct store_conn *sc = store_conn(h->srv->store);
    jmap_sync_fn sync = jmap_export_sync_find(kind);
    jmap_page_fn page = jmap_export_page_find(kind);
    a->ctype = "application/octet-stream";
    a->enhanced = sync && prefers(c, "subscribe-enhanced-get");
    int rc = sc ? store_begin(sc, false) : STORE_ERR;
    int64_t cur = 0, low = 0, since = -1;
    char after[64] = "";
    struct feed_time ft = {0};
    const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sync-Token");
    if (rc == STORE_OK && sync)
        rc = sync(sc, account, id, &cur, &low);
    /* §7.3, §7.4: only to the authenticated user, never on a secret feed URL, whose
     * holders need not know the account (§9) */
    if (rc == STORE_OK && a->cache_private &&
        !dav_collection_path(sc, kind, account, id, a->dav, sizeof a->dav))
        a->dav[0] = 0;
    if (rc == STORE_OK && sync) {
        snprintf(a->etag, sizeof a->etag, "\"s%" PRId64 "\"", cur);
        snprintf(a->sync, sizeof a->sync, "\"data:,%" PRId64 "\"", cur);
        const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
        if (a->enhanced && tok) {
            since = parse_sync_token(tok, after);
            a->status = since < 0 || since > cur || since < low ? 409
                        : since == cur && !after[0]             ? 304
                                                                : 0;
        } else if (inm && strstr(inm, a->etag)) {
            a->status = 304;
        }
        bool ambiguous = false;
        time_t lm = feed_last_modified(sc, kind, account, id, cur, &ambiguous, &ft);
        struct tm tm;
        strftime(a->last_modified, sizeof a->last_modified, "%a, %d %b %Y %H:%M:%S GMT",
                 gmtime_r(&lm, &tm));
        /* §13.1.3: If-Modified-Since only without If-None-Match, on a plain GET */
        time_t ims = parse_http_date(
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MODIFIED_SINCE));
        if (!a->status && !inm && !(a->enhanced && tok) && ims >= 0 && ims <= time(NULL) &&
            (ims > lm || (ims == lm && !ambiguous)))
            a->status = 304;
        size_t limit = a->enhanced && page ? prefer_limit(c) : 0;
        if (!a->status && (limit || after[0]))
            rc = run_page(sc, page, account, id, cur, since, a->enhanced && tok, after,
                          limit ? limit : 100000, a);
    }
    if (rc == STORE_OK && !a->status) {
        char delta[48];
        snprintf(delta, sizeof delta, "since=%" PRId64, since);
        rc = fn(sc, account, id, since >= 0 ? delta : args, write_buf, &a->body, &a->ctype);
        a->status = 200;
    }
    if (sc)
        store_rollback(sc);
    if (sc && rc == STORE_OK)
        feed_time_store(sc, account, &ft);
    json_decref(ft.record);
    return rc;
}

/* Runs an exporter and queues its output. */
static enum MHD_Result send_export(struct http_server *h, struct MHD_Connection *c,
                                   struct http_req *rq, const char *kind, jmap_export_fn fn,
                                   const char *account, const char *id, const char *args,
                                   bool cache_private)
{
    struct export_answer a = {.cache_private = cache_private};
    int rc = run_export(h, c, kind, fn, account, id, args, &a);
    if (rc != STORE_OK) {
        buf_free(&a.body);
        return rc == STORE_NOTFOUND
                   ? http_problem(c, rq, 404, "about:blank", "no such collection", NULL)
                   : http_problem(c, rq, 500, "about:blank", "export failed", NULL);
    }
    size_t len = a.body.len;
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, len ? buf_take(&a.body) : NULL, len ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    buf_free(&a.body);
    if (a.status == 200)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a.ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                            cache_private ? "private, no-cache" : "no-cache");
    if (a.etag[0]) {
        /* §2, §7.5: the same URL answers Enhanced GET; §3.4: caches key on these */
        char *link = a.dav[0]
                         ? xasprintf("<%s%s>; rel=\"subscribe-enhanced-get\", <%s%s>; "
                                     "rel=\"subscribe-caldav-auth subscribe-webdav-sync\"",
                                     h->srv->cfg->base_url, rq->url, h->srv->cfg->base_url, a.dav)
                         : xasprintf("<%s%s>; rel=\"subscribe-enhanced-get\"",
                                     h->srv->cfg->base_url, rq->url);
        MHD_add_response_header(r, "Link", link);
        free(link);
        MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Prefer, Sync-Token");
        if (a.status != 409) {
            if (!a.paged) { /* a page is not the representation the validators name */
                MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, a.etag);
                if (a.last_modified[0])
                    MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED, a.last_modified);
            }
            MHD_add_response_header(r, "Sync-Token", a.sync); /* §3.1: MAY without Prefer */
        }
        if (a.enhanced && a.limit_applied) { /* §3.3: the limit that truncated it */
            char applied[64];
            snprintf(applied, sizeof applied, "subscribe-enhanced-get, limit=%zu", a.limit_applied);
            MHD_add_response_header(r, "Preference-Applied", applied);
        } else if (a.enhanced) {
            MHD_add_response_header(r, "Preference-Applied", "subscribe-enhanced-get");
        }
    }
    return http_queue(c, rq, a.status, r);
}

enum MHD_Result http_feed(struct http_server *h, struct MHD_Connection *c, struct http_req *rq,
                          const char *token)
{
    char secret[128];
    size_t n = strcspn(token, ".");
    if (n == 0 || n >= sizeof secret)
        return http_problem(c, rq, 404, "about:blank", "no such feed", NULL);
    snprintf(secret, sizeof secret, "%.*s", (int)n, token);
    char hash[65], account[64], kind[32], id[64];
    util_sha256_hex(secret, strlen(secret), hash);
    struct store_conn *sc = store_conn(h->srv->store);
    jmap_export_fn fn = NULL;
    if (sc && store_feed_lookup(sc, hash, account, kind, id) == STORE_OK)
        fn = jmap_exporter_find(kind);
    if (!fn)
        return http_problem(c, rq, 404, "about:blank", "no such feed", NULL);
    return send_export(h, c, rq, kind, fn, account, id, "", false);
}

enum MHD_Result http_export(struct http_server *h, struct MHD_Connection *c, struct http_req *rq,
                            int64_t user_id, const char *path)
{
    char kind[32], account[256], id[256];
    const char *s1 = strchr(path, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s1 || !s2 || strchr(s2 + 1, '/') || (size_t)(s1 - path) >= sizeof kind ||
        (size_t)(s2 - s1 - 1) >= sizeof account || strlen(s2 + 1) >= sizeof id || !s2[1])
        return http_problem(c, rq, 404, "about:blank", "no such collection", NULL);
    snprintf(kind, sizeof kind, "%.*s", (int)(s1 - path), path);
    snprintf(account, sizeof account, "%.*s", (int)(s2 - s1 - 1), s1 + 1);
    snprintf(id, sizeof id, "%s", s2 + 1);
    char *ext = strrchr(id, '.'); /* "/export/calendar/A/C.ics" names the same as ".../C" */
    if (ext && (strcmp(ext, ".ics") == 0 || strcmp(ext, ".vcf") == 0))
        *ext = 0;
    jmap_export_fn fn = jmap_exporter_find(kind);
    struct store_conn *sc = store_conn(h->srv->store);
    struct jmap_user u;
    if (!fn || !sc || jmap_user_load(sc, user_id, &u) != STORE_OK || !find_account(&u, account))
        return http_problem(c, rq, 404, "about:blank", "no such collection", NULL);
    const char *args = MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, "vcard3", 6, NULL,
                                                     NULL) == MHD_YES
                           ? "vcard3"
                           : "";
    return send_export(h, c, rq, kind, fn, account, id, args, true);
}
