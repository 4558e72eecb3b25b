/*
 * server.c — the HTTP server: libmicrohttpd with a thread pool over epoll, routes
 * (RFC 8620 §2 session, §3 API, §6 upload/download, §7.3 event source), request
 * bodies with their size limits, authentication, per-user concurrency limits and
 * the access log. Blob endpoints are in blobs.c, the event source in
 * eventsource.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dav/dav.h"
#include "http/auth.h"
#include "http/internal.h"
#include "push/hub.h"
#include "util/answer_mem.h"

void http_cors(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(r, "Access-Control-Expose-Headers",
                            "Content-Disposition, Content-Range, WWW-Authenticate, Retry-After");
}

enum MHD_Result http_queue(struct MHD_Connection *c, struct http_req *rq, int status,
                           struct MHD_Response *r)
{
    http_cors(r);
    rq->status = status;
    enum MHD_Result res = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return res;
}

enum MHD_Result http_send(struct MHD_Connection *c, struct http_req *rq, int status,
                          const char *type, const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache, no-store");
    return http_queue(c, rq, status, r);
}

enum MHD_Result http_problem(struct MHD_Connection *c, struct http_req *rq, int status,
                             const char *type, const char *detail, const char *limit)
{
    char *body = jmap_problem(type, status, detail, limit);
    if (!body)
        return http_send(c, rq, 500, "text/plain", "internal error\n", 15);
    enum MHD_Result res = http_send(c, rq, status, "application/problem+json", body, strlen(body));
    free(body);
    return res;
}

static void client_address(struct MHD_Connection *c, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = 0;
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)n);
}

/* Authenticates the request; on failure queues the answer and returns false. */
static bool authenticate(struct http_server *h, struct MHD_Connection *c, struct http_req *rq,
                         bool allow_query_token, struct jmap_user *load, enum MHD_Result *res)
{
    const char *header = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *token =
        allow_query_token ? MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "access_token")
                          : NULL;
    char addr[64];
    client_address(c, addr, sizeof addr);
    struct store_conn *sc = store_conn(h->srv->store);
    enum auth_result ar = sc ? auth_check(sc, header, token, addr, h->srv->cfg->auth_fail_limit,
                                          &rq->user_id)
                             : AUTH_ERROR;
    int loaded = ar == AUTH_OK && load ? jmap_user_load(sc, rq->user_id, load) : STORE_OK;
    if (loaded == STORE_NOTFOUND)
        ar = AUTH_FAILED; /* removed since the credential was checked */
    else if (loaded != STORE_OK)
        ar = AUTH_ERROR; /* the database went away meanwhile: 503, not 401 (issue 15 §7) */
    if (ar == AUTH_OK)
        return true;
    rq->user_id = 0;
    if (ar == AUTH_ERROR) {
        *res = http_problem(c, rq, 503, "about:blank", "authentication unavailable", NULL);
        return false;
    }
    const char *detail = ar == AUTH_THROTTLED ? "too many failed logins; try again later"
                                              : "authentication required";
    char *body = jmap_problem("about:blank", ar == AUTH_THROTTLED ? 429 : 401, detail, NULL);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/problem+json");
    if (ar == AUTH_THROTTLED) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "60");
        rq->status = 429;
    } else {
        /* RFC 7235 §4.1; RFC 7617 Basic, RFC 6750 Bearer */
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"jmapd\", charset=\"UTF-8\"");
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"jmapd\"");
        rq->status = 401;
    }
    *res = http_queue(c, rq, rq->status, r);
    return false;
}

/* Takes a per-user concurrency slot (kind 1 = api, 2 = upload); false if full. */
static bool slot_take(struct http_server *h, struct http_req *rq, int kind, int64_t max)
{
    bool ok = false;
    pthread_mutex_lock(&h->lock);
    int free_i = -1;
    for (int i = 0; i < 256; i++) {
        if (h->users[i].user_id == rq->user_id) {
            free_i = i;
            break;
        }
        if (free_i < 0 && h->users[i].api == 0 && h->users[i].upload == 0)
            free_i = i;
    }
    if (free_i >= 0) {
        int *n = kind == 1 ? &h->users[free_i].api : &h->users[free_i].upload;
        if (*n < max) {
            h->users[free_i].user_id = rq->user_id;
            (*n)++;
            rq->counted = kind;
            ok = true;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return ok;
}

/* The upload's slot among those of every front end on the database (issue 15 §3: the
 * limit holds whichever front end the uploads reach; SQLite: this process's count
 * above is the whole count). Taken after this front end's own. */
static bool shared_slot_take(struct http_server *h, struct http_req *rq, int64_t max)
{
    struct store_conn *sc = store_conn(h->srv->store);
    int64_t slot = 0;
    if (!sc || store_slot_take(sc, rq->user_id, 2, max, &slot) != STORE_OK)
        return false;
    rq->shared_slot = slot;
    return true;
}

static void slot_release(struct http_server *h, struct http_req *rq)
{
    if (rq->shared_slot) {
        struct store_conn *sc = store_conn(h->srv->store);
        if (sc)
            store_slot_release(sc, rq->shared_slot);
        rq->shared_slot = 0;
    }
    if (!rq->counted)
        return;
    pthread_mutex_lock(&h->lock);
    for (int i = 0; i < 256; i++)
        if (h->users[i].user_id == rq->user_id) {
            int *n = rq->counted == 1 ? &h->users[i].api : &h->users[i].upload;
            if (*n > 0)
                (*n)--;
            break;
        }
    pthread_mutex_unlock(&h->lock);
    rq->counted = 0;
}

/* ---- per-thread cache of checked credentials -----------------------------------------
 * A keep-alive client presents the same Authorization value on every request. Each
 * worker thread remembers, for a few such values, the user and accounts it loaded,
 * and skips the database for CRED_FRESH_MS after a check: so a password change,
 * a revoked token or a removed user takes effect within that time (the argon2
 * verification itself is cached longer, in auth.c, and always revalidated). */
#define CRED_SLOTS 8
#define CRED_FRESH_MS 1000

struct cred_entry {
    char key[400];
    int64_t checked_ms;
    uint64_t generation; /* jmap_accounts_generation() before the load: shares */
    struct jmap_user user;
};

static pthread_key_t cred_key;
static pthread_once_t cred_once = PTHREAD_ONCE_INIT;

static void cred_key_make(void)
{
    pthread_key_create(&cred_key, free);
}

static struct cred_entry *cred_slot(const char *key)
{
    if (strlen(key) >= sizeof ((struct cred_entry *)0)->key)
        return NULL;
    pthread_once(&cred_once, cred_key_make);
    struct cred_entry *slots = pthread_getspecific(cred_key);
    if (!slots) {
        slots = xcalloc(CRED_SLOTS, sizeof *slots);
        pthread_setspecific(cred_key, slots);
    }
    unsigned h = 5381;
    for (const char *p = key; *p; p++)
        h = h * 33 + (unsigned char)*p;
    return &slots[h % CRED_SLOTS];
}

static bool cred_lookup(const char *key, struct jmap_user *u)
{
    struct cred_entry *e = key ? cred_slot(key) : NULL;
    if (!e || strcmp(e->key, key) != 0 || util_now_ms() - e->checked_ms > CRED_FRESH_MS ||
        e->generation != jmap_accounts_generation())
        return false;
    memcpy(u, &e->user, sizeof *u);
    return true;
}

static void cred_store(const char *key, const struct jmap_user *u, uint64_t generation)
{
    struct cred_entry *e = key ? cred_slot(key) : NULL;
    if (!e)
        return;
    snprintf(e->key, sizeof e->key, "%s", key);
    e->checked_ms = util_now_ms();
    e->generation = generation;
    memcpy(&e->user, u, sizeof *u);
}

static enum MHD_Result route_session(struct http_server *h, struct MHD_Connection *c,
                                     struct http_req *rq, const struct jmap_user *u)
{
    json_t *s = jmap_session(h->srv, u);
    char *body = json_dumps(s, JSON_COMPACT);
    json_decref(s);
    enum MHD_Result res = http_send(c, rq, 200, "application/json", body, strlen(body));
    free(body);
    return res;
}

/* Queues the answer to an API request, whose concurrency slot goes now: the request is
 * no longer being processed (RFC 8620 §2 maxConcurrentRequests). Released at the
 * connection's completion instead, a client that sent its next request as soon as it
 * had read this one's answer could be refused while the thread sending it had not got
 * that far (issue 21 §1). */
static enum MHD_Result api_answer(struct http_server *h, struct MHD_Connection *c,
                                  struct http_req *rq, struct jmap_result out)
{
    slot_release(h, rq);
    if (!out.body) /* a response that could not be serialized: never crash on it */
        return http_problem(c, rq, 500, "about:blank", "the response could not be encoded", NULL);
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback(out.len, out.body, answer_mem_give);
    if (!r) {
        answer_mem_give(out.body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            out.problem ? "application/problem+json" : "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache, no-store");
    return http_queue(c, rq, out.status, r);
}

/* An API request on a worker: parsed already (api_inline), or parsed here. */
static enum MHD_Result route_api(struct http_server *h, struct MHD_Connection *c,
                                 struct http_req *rq, const struct jmap_user *u)
{
    struct jmap_result out;
    if (rq->parsed) {
        json_t *req = rq->parsed;
        rq->parsed = NULL;
        jmap_api_run(h->srv, u, req, &out, false);
    } else {
        jmap_api_handle(h->srv, u, rq->body.data ? rq->body.data : "", rq->body.len, &out);
    }
    buf_free(&rq->body); /* the request's memory goes before the response is queued */
    return api_answer(h, c, rq, out);
}

/* A small API body that names Core/echo, a /changes, a /get or a /query is parsed on the
 * connection's thread (issue 21 §1, §3): a request-level problem is answered here, and a
 * quick request (jmap_api_quick: Core/echo, /changes, the /get and /query that have been
 * quick lately) runs here, saving the hand-over to a worker and back (the suspend, two
 * thread wake-ups and the resume cost twice what an echo itself does). Anything else goes
 * to a worker, parsed; a large body goes unparsed (its parsing would hold up this thread's
 * other connections). True if the request was answered here. */
#define API_INLINE_MAX 4096

static bool api_inline(struct http_server *h, struct MHD_Connection *c, struct http_req *rq,
                       enum MHD_Result *res)
{
    /* only a body that may hold a quick call is parsed here: any other is parsed by its
     * worker, which then frees the tree in its own malloc arena */
    const char *b = rq->body.data;
    if (rq->body.len > API_INLINE_MAX || !b ||
        (!memmem(b, rq->body.len, "\"Core/echo\"", 11) &&
         !memmem(b, rq->body.len, "/changes\"", 9) && !memmem(b, rq->body.len, "/get\"", 5) &&
         !memmem(b, rq->body.len, "/query\"", 7)))
        return false;
    struct jmap_result out;
    json_t *req = jmap_api_parse(h->srv, b, rq->body.len, &out);
    buf_free(&rq->body);
    if (req && !jmap_api_quick(h->srv, req)) {
        rq->parsed = req;
        return false;
    }
    if (req)
        jmap_api_run(h->srv, rq->user, req, &out, true);
    *res = api_answer(h, c, rq, out);
    return true;
}

static bool path_is(const char *url, const char *path)
{
    size_t n = strlen(path);
    return strncmp(url, path, n) == 0 && (url[n] == 0 || (url[n] == '/' && url[n + 1] == 0));
}

/* ---- the access log (CWE-117) ----------------------------------------------------------------
 * Every byte a client chose (method, path) is written so that it cannot forge a
 * line or a field: control characters (C0, DEL, C1, U+2028/9), '"', '\' and bytes
 * that are not well-formed UTF-8 become \xNN; other UTF-8 is kept as it is. */

/* Length of the well-formed UTF-8 sequence (RFC 3629 §4) of a printable character
 * at p, or 0. */
static size_t utf8_printable(const unsigned char *p)
{
    size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (!n || p[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) || /* overlong, surrogate */
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90) ||
        (p[0] == 0xc2 && p[1] < 0xa0) ||                                  /* C1 controls */
        (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))) /* line separators */
        return 0;
    return n;
}

static void log_escape(const char *in, char *out, size_t size)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)in;
    while (*p && o + 5 < size) {
        size_t n = *p >= 0x80 ? utf8_printable(p) : 0;
        if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') {
            out[o++] = (char)*p++;
        } else if (n && o + n < size) {
            memcpy(out + o, p, n);
            o += n;
            p += n;
        } else {
            snprintf(out + o, 5, "\\x%02x", *p++);
            o += 4;
        }
    }
    out[o] = 0;
}

/* ---- request framing (RFC 9112 §6) ---------------------------------------------------------- */

struct framing {
    int content_length, transfer_encoding, host;
    bool bad_name;
    const char *last_te;
};

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct framing *f = cls;
    (void)kind;
    if (strcasecmp(key, "Content-Length") == 0)
        f->content_length++;
    if (strcasecmp(key, "Host") == 0)
        f->host++;
    if (strpbrk(key, " \t")) /* "Content-Length : 5" is no Content-Length to us */
        f->bad_name = true;
    if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->transfer_encoding++;
        f->last_te = value ? value : "";
    }
    return MHD_YES;
}

/* A 4xx/5xx problem after which the connection closes: what follows on it cannot
 * be trusted to start a new request. */
static enum MHD_Result answer_and_close(struct MHD_Connection *c, struct http_req *rq, int status,
                                        const char *detail)
{
    char *body = jmap_problem("about:blank", status, detail, NULL);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/problem+json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    return http_queue(c, rq, status, r);
}

/* RFC 9112 §6.3: a request whose body length is ambiguous gets 400 and the
 * connection is closed (a proxy in front may have framed it differently: request
 * smuggling). libmicrohttpd 0.9.75 takes the first of several Content-Length
 * fields, accepts Content-Length beside Transfer-Encoding, waits forever for a
 * body in an unknown coding, and reads "Content-Length : 5" as another field (the
 * body then starts the next request); a malformed Content-Length it refuses
 * itself. Also RFC 9112 §3.2: one Host. Returns false after queuing the answer. */
static bool framing_ok(struct MHD_Connection *c, struct http_req *rq, const char *version,
                       enum MHD_Result *res)
{
    struct framing f = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, framing_header, &f);
    const char *why = NULL;
    int status = 400;
    if (f.bad_name)
        why = "whitespace in a header field name"; /* RFC 9112 §5.1 */
    else if (f.host > 1 || (!f.host && strcmp(version, "HTTP/1.1") == 0))
        why = "an HTTP/1.1 request needs exactly one Host"; /* RFC 9112 §3.2 */
    else if (f.content_length > 1)
        why = "more than one Content-Length"; /* RFC 9110 §8.6 */
    else if (f.content_length && f.transfer_encoding)
        why = "Content-Length together with Transfer-Encoding"; /* RFC 9112 §6.1 */
    else if (f.transfer_encoding) {
        /* the final coding must be chunked; we decode no other (RFC 9112 §6.1: 501) */
        const char *last = strrchr(f.last_te, ',');
        last = last ? last + 1 : f.last_te;
        last += strspn(last, " \t");
        size_t n = strcspn(last, " \t");
        bool chunked_last =
            n == 7 && strncasecmp(last, "chunked", 7) == 0 && !last[n + strspn(last + n, " \t")];
        if (!chunked_last)
            why = "the final Transfer-Encoding is not chunked";
        else if (f.transfer_encoding > 1 || last != f.last_te) {
            why = "transfer codings other than chunked are not supported";
            status = 501;
        }
    }
    if (!why)
        return true;
    *res = answer_and_close(c, rq, status, why);
    return false;
}

/* ---- DAV (dav/) ------------------------------------------------------------------------------ */

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* The request as dav/ sees it (dav.h): the headers it reads, the body. */
static struct dav_request dav_request_of(struct MHD_Connection *c, struct http_req *rq)
{
    return (struct dav_request){rq->method,
                                rq->url,
                                header(c, "Depth"),
                                header(c, "If-Match"),
                                header(c, "If-None-Match"),
                                header(c, "Content-Type"),
                                header(c, "Accept"),
                                header(c, "Brief"),
                                header(c, "Prefer"),
                                header(c, "If-Schedule-Tag-Match"),
                                rq->body.data,
                                rq->body.len,
                                rq->too_large,
                                header(c, "Destination"),
                                header(c, "Overwrite"),
                                header(c, "If"),
                                header(c, "Lock-Token"),
                                header(c, "Timeout"),
                                header(c, "CalDAV-Timezones")};
}

/* Hands a DAV request to dav/ and sends its answer: on a worker (DAV requests read and
 * write the store like API requests), or a quick read on the connection's thread. */
static enum MHD_Result route_dav(struct http_server *h, struct MHD_Connection *c,
                                 struct http_req *rq)
{
    struct dav_request q = dav_request_of(c, rq);
    struct dav_response out;
    dav_handle(h->srv, rq->user, &q, &out);
    buf_free(&rq->body);
    struct MHD_Response *r =
        out.body
            ? MHD_create_response_from_buffer_with_free_callback(out.len, out.body, answer_mem_give)
            : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        answer_mem_give(out.body);
        return MHD_NO;
    }
    if (out.content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, out.content_type);
    if (out.etag[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, out.etag);
    if (out.location[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, out.location);
    if (out.schedule_tag[0])
        MHD_add_response_header(r, "Schedule-Tag", out.schedule_tag);
    if (out.lock_token[0])
        MHD_add_response_header(r, "Lock-Token", out.lock_token);
    if (out.status == 405) /* RFC 9110 §15.5.6 */
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, DAV_ALLOW);
    MHD_add_response_header(r, "DAV", DAV_COMPLIANCE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return http_queue(c, rq, out.status, r);
}

/* 301 to target below the base URL: /.well-known/jmap to the session resource (RFC 8620
 * §2.2), /.well-known/caldav and /carddav to the DAV context path (RFC 6764 §5). */
static enum MHD_Result answer_moved(struct http_server *h, struct MHD_Connection *c,
                                    struct http_req *rq, const char *target)
{
    char loc[700];
    snprintf(loc, sizeof loc, "%s%s", h->srv->cfg->base_url, target);
    struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, loc);
    return http_queue(c, rq, 301, r);
}

/* ---- API worker pool ------------------------------------------------------------------------
 * API requests and exports can run for long (a big /set, a query over a large
 * account, another process holding the database lock). The HTTP thread suspends
 * the connection and hands the request over; a worker (pool.c: the one idle last, whose
 * caches are warm) runs it, queues the response (allowed on a suspended connection) and
 * resumes it. */

/* Runs one request a worker took (pool.c). */
static void worker_run(struct pool_job *job, void *ud)
{
    struct http_server *h = ud;
    struct http_req *rq = (struct http_req *)(void *)((char *)job - offsetof(struct http_req, job));
    struct MHD_Connection *c = rq->conn;
    enum MHD_Result res;
    if (rq->route == ROUTE_API)
        res = route_api(h, c, rq, rq->user);
    else if (rq->route == ROUTE_DAV)
        res = route_dav(h, c, rq);
    else if (rq->route == ROUTE_EXPORT)
        res = http_export(h, c, rq, rq->user_id, rq->url + 8);
    else
        res = http_feed(h, c, rq, rq->url + 6);
    rq->answered = res == MHD_YES;
    rq->failed = res != MHD_YES;
    MHD_resume_connection(c);
}

static enum MHD_Result offload(struct http_server *h, struct MHD_Connection *c, struct http_req *rq)
{
    rq->conn = c;
    MHD_suspend_connection(c);
    http_pool_push(h->workers, &rq->job);
    return MHD_YES;
}

/* ---- routing ------------------------------------------------------------------------------- */

/* RFC 9112 §3: longer request targets get 414. libmicrohttpd's per-connection
 * buffer (32 kB by default; more costs memory on every idle push connection) holds
 * such a request line and its headers, so the handler answers; a request line that
 * does not fit gets libmicrohttpd's own 414 (or 431 when the headers overflow). */
#define HTTP_URL_MAX 8192

static enum MHD_Result answer_options(struct MHD_Connection *c, struct http_req *rq)
{
    /* CORS preflight: any origin may call, with these methods and headers */
    struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS");
    MHD_add_response_header(r, "Access-Control-Allow-Headers",
                            "Authorization, Content-Type, Last-Event-ID, Range");
    MHD_add_response_header(r, "Access-Control-Max-Age", "86400");
    /* RFC 4918 §10.1, RFC 4791 §5.1, RFC 6352 §6.1: what the DAV tree supports */
    MHD_add_response_header(r, "DAV", DAV_COMPLIANCE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, DAV_ALLOW);
    return http_queue(c, rq, 204, r);
}

static enum MHD_Result answer_405(struct MHD_Connection *c, struct http_req *rq, const char *allow)
{
    char *body = jmap_problem("about:blank", 405, "method not allowed", NULL);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/problem+json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    return http_queue(c, rq, 405, r);
}

/* ---- the routes ---------------------------------------------------------------------- */

static enum MHD_Result finish_session(struct http_server *h, struct MHD_Connection *c,
                                      struct http_req *rq)
{
    return route_session(h, c, rq, rq->user);
}

static enum MHD_Result finish_api(struct http_server *h, struct MHD_Connection *c,
                                  struct http_req *rq)
{
    if (rq->too_large)
        return http_problem(c, rq, 400, "urn:ietf:params:jmap:error:limit",
                            "the request is larger than maxSizeRequest", "maxSizeRequest");
    enum MHD_Result res;
    if (api_inline(h, c, rq, &res))
        return res;
    return offload(h, c, rq);
}

static enum MHD_Result finish_events(struct http_server *h, struct MHD_Connection *c,
                                     struct http_req *rq)
{
    return http_eventsource(h, c, rq, rq->user_id);
}

static enum MHD_Result finish_download(struct http_server *h, struct MHD_Connection *c,
                                       struct http_req *rq)
{
    return http_download(h, c, rq, rq->user_id, rq->url + strlen("/jmap/download/"));
}

static enum MHD_Result finish_upload(struct http_server *h, struct MHD_Connection *c,
                                     struct http_req *rq)
{
    if (rq->too_large)
        return http_problem(c, rq, 413, "urn:ietf:params:jmap:error:limit",
                            "the upload is larger than maxSizeUpload", "maxSizeUpload");
    return http_upload_finish(h, c, rq);
}

/* Path pattern -> route, method, authentication and the handler that answers once
 * the body is in: RFC 8620 §2 session, §3.1 API, §7.3 EventSource, §6.1 upload,
 * §6.2 download; calendar/address book exports; read-only feeds, whose secret URL
 * is their credential. A pattern ending in '/' is a prefix, others match exactly
 * (with an optional final '/'). */
static const struct route {
    const char *path;
    enum http_route id;
    bool post; /* POST, else GET and HEAD */
    bool auth;
    enum MHD_Result (*finish)(struct http_server *, struct MHD_Connection *, struct http_req *);
} routes[] = {
    {"/jmap/session", ROUTE_SESSION, false, true, finish_session},
    {"/jmap/api", ROUTE_API, true, true, finish_api},
    {"/jmap/eventsource", ROUTE_EVENTS, false, true, finish_events},
    {"/jmap/upload/", ROUTE_UPLOAD, true, true, finish_upload},
    {"/jmap/download/", ROUTE_DOWNLOAD, false, true, finish_download},
    {"/export/", ROUTE_EXPORT, false, true, offload},
    {"/feed/", ROUTE_FEED, false, false, offload},
};

static const struct route *route_find(const char *url)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const char *p = routes[i].path;
        size_t n = strlen(p);
        if (p[n - 1] == '/' ? strncmp(url, p, n) == 0 : path_is(url, p))
            return &routes[i];
    }
    return NULL;
}

static const struct route *route_by_id(enum http_route id)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (routes[i].id == id)
            return &routes[i];
    return NULL;
}

/* Authenticates on the headers (the session and API requests load the user's
 * accounts in the same read transaction); false after queuing the answer. */
static bool request_auth(struct http_server *h, struct MHD_Connection *c, struct http_req *rq,
                         enum MHD_Result *res)
{
    bool load = rq->route == ROUTE_SESSION || rq->route == ROUTE_API || rq->route == ROUTE_DAV;
    struct jmap_user *u = xmalloc(sizeof *u);
    const char *cred = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    bool ok = load && cred_lookup(cred, u);
    if (ok) {
        rq->user_id = u->id;
    } else {
        /* one read transaction for the credential check and the user's accounts */
        struct store_conn *sc = store_conn(h->srv->store);
        uint64_t generation = jmap_accounts_generation();
        bool txn = sc && store_begin(sc, false) == STORE_OK;
        ok = authenticate(h, c, rq, rq->route == ROUTE_EVENTS, load ? u : NULL, res);
        /* the credential's fingerprint, for what belongs to it (RFC 8620 §7.2) */
        _Static_assert(JMAP_CRED_LEN == AUTH_CRED_KEY_LEN, "one fingerprint size");
        if (ok && load && (!sc || !auth_credential_key(sc, cred, NULL, u->id, u->cred)))
            u->cred[0] = 0;
        if (txn)
            store_rollback(sc);
        if (ok && load)
            cred_store(cred, u, generation);
    }
    if (ok && load)
        rq->user = u;
    else
        free(u);
    return ok;
}

/* The body's declared length, or -1 if there is none (chunked or no body). */
static int64_t declared_length(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    return v && *v >= '0' && *v <= '9' ? (int64_t)strtoll(v, NULL, 10) : -1;
}

/* What can be decided on the headers alone, before a byte of the body is read
 * (issue 19 §2): framing, routing, authentication, declared size against the
 * endpoint's limit, concurrency slots. Anything refused here is answered at once;
 * for a request with a body libmicrohttpd then closes the connection unread. */
static enum MHD_Result request_begin(struct http_server *h, struct MHD_Connection *c,
                                     struct http_req *rq, const char *url, const char *method,
                                     const char *version)
{
    enum MHD_Result res = MHD_YES;
    if (!framing_ok(c, rq, version, &res))
        return res;
    if (strlen(url) > HTTP_URL_MAX)
        return answer_and_close(c, rq, 414, "the request target is longer than 8192 octets");
    if (strcmp(method, "OPTIONS") == 0)
        return answer_options(c, rq);
    if (strcmp(url, "/health") == 0) {
        /* issue 15 §7: healthy means the database answers (a load balancer then
         * sends no request to a front end that cannot reach it) */
        struct store_conn *sc = store_conn(h->srv->store);
        if (!sc || store_ping(sc) != STORE_OK)
            return http_send(c, rq, 503, "text/plain", "database unreachable\n", 21);
        return http_send(c, rq, 200, "text/plain", "ok\n", 3);
    }
    if (path_is(url, "/.well-known/jmap"))
        return answer_moved(h, c, rq, "/jmap/session");
    const char *dav_target = dav_well_known(url);
    if (dav_target)
        return answer_moved(h, c, rq, dav_target);
    if (dav_path(url, method)) { /* any method: dav/ answers what it does not support */
        rq->route = ROUTE_DAV;
        return request_auth(h, c, rq, &res) ? MHD_YES : res;
    }
    const struct route *rt = route_find(url);
    if (!rt)
        return http_problem(c, rq, 404, "about:blank", "no such resource", NULL);
    rq->route = rt->id;
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    if (rt->post ? !post : !get)
        return answer_405(c, rq, rt->post ? "POST" : "GET, HEAD");
    if (!rt->auth)
        return MHD_YES;
    if (!request_auth(h, c, rq, &res))
        return res;
    const struct config *cfg = h->srv->cfg;
    int64_t declared = declared_length(c);
    if (rq->route == ROUTE_API) {
        const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        if (!ctype || strncasecmp(ctype, "application/json", 16) != 0 ||
            (ctype[16] && ctype[16] != ';' && ctype[16] != ' '))
            return http_problem(c, rq, 400, "urn:ietf:params:jmap:error:notJSON",
                                "the content type must be application/json", NULL);
        if (declared > cfg->max_size_request)
            return http_problem(c, rq, 400, "urn:ietf:params:jmap:error:limit",
                                "the request is larger than maxSizeRequest", "maxSizeRequest");
        if (!slot_take(h, rq, 1, cfg->max_concurrent_requests))
            return http_problem(c, rq, 400, "urn:ietf:params:jmap:error:limit",
                                "too many concurrent requests", "maxConcurrentRequests");
    }
    if (rq->route == ROUTE_UPLOAD) {
        if (declared > cfg->max_size_upload)
            return http_problem(c, rq, 413, "urn:ietf:params:jmap:error:limit",
                                "the upload is larger than maxSizeUpload", "maxSizeUpload");
        if (!slot_take(h, rq, 2, cfg->max_concurrent_upload) ||
            !shared_slot_take(h, rq, cfg->max_concurrent_upload))
            return http_problem(c, rq, 429, "urn:ietf:params:jmap:error:limit",
                                "too many concurrent uploads", "maxConcurrentUpload");
        if (!http_upload_begin(h, c, rq, url + 13, &res))
            return res;
    }
    return MHD_YES;
}

/* A piece of the body: uploads go to their file, API requests to memory, both
 * only up to the endpoint's limit (a chunked body has no declared length). */
static void request_body(struct http_server *h, struct http_req *rq, const char *data, size_t n)
{
    bool upload = rq->route == ROUTE_UPLOAD;
    int64_t limit = upload ? h->srv->cfg->max_size_upload : h->srv->cfg->max_size_request;
    size_t have = upload ? (rq->upload ? http_upload_size(rq) : 0) : rq->body.len;
    if (rq->too_large || (int64_t)(have + n) > limit) {
        rq->too_large = true; /* keep reading, keep nothing */
        buf_free(&rq->body);
        return;
    }
    if (upload && rq->upload)
        http_upload_write(rq, data, n);
    else if (!upload)
        buf_append(&rq->body, data, n);
}

/* The whole request is in: answer it here, or hand it to a worker. */
static enum MHD_Result request_finish(struct http_server *h, struct MHD_Connection *c,
                                      struct http_req *rq, const char *url)
{
    rq->url = url; /* lives in the connection's memory until the request completes */
    if (rq->route == ROUTE_DAV) {
        /* a quick read (dav_quick: a multiget, an incremental sync, a resource) is answered
         * here, saving the hand-over to a worker and back (issue 20) */
        struct dav_request q = dav_request_of(c, rq);
        return dav_quick(h->srv, &q) ? route_dav(h, c, rq) : offload(h, c, rq);
    }
    const struct route *rt = route_by_id(rq->route);
    return rt ? rt->finish(h, c, rq)
              : http_problem(c, rq, 404, "about:blank", "no such resource", NULL);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_size, void **con_cls)
{
    struct http_server *h = cls;
    struct http_req *rq = *con_cls;
    if (!rq) {
        rq = xcalloc(1, sizeof *rq);
        rq->started_us = util_now_us();
        snprintf(rq->method, sizeof rq->method, "%s", method);
        snprintf(rq->path, sizeof rq->path, "%s", url);
        *con_cls = rq;
        pthread_mutex_lock(&h->lock);
        h->active++;
        pthread_mutex_unlock(&h->lock);
        /* libmicrohttpd closes the connection after an answer queued before the
         * body: decide here only when there is a body to refuse unread */
        if (declared_length(c) <= 0 &&
            !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding"))
            return MHD_YES;
        rq->begun = true;
        enum MHD_Result res = request_begin(h, c, rq, url, method, version);
        rq->answered = rq->status != 0;
        return res;
    }
    if (rq->failed)
        return MHD_NO; /* a worker could not queue its answer: close */
    if (*upload_size) {
        if (!rq->answered)
            request_body(h, rq, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->answered || rq->conn)
        return MHD_YES; /* already answered, or a worker has it */
    if (!rq->begun) {
        rq->begun = true;
        enum MHD_Result res = request_begin(h, c, rq, url, method, version);
        rq->answered = rq->status != 0;
        if (rq->answered || res != MHD_YES)
            return res;
    }
    return request_finish(h, c, rq, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct http_server *h = cls;
    struct http_req *rq = *con_cls;
    if (!rq)
        return;
    char addr[64], method[sizeof rq->method * 4], path[sizeof rq->path * 4];
    client_address(c, addr, sizeof addr);
    log_escape(rq->method, method, sizeof method);
    log_escape(rq->path, path, sizeof path);
    log_info("access %s \"%s %s\" %d %.2fms%s", addr, method, path, rq->status,
             (double)(util_now_us() - rq->started_us) / 1000.0,
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
    slot_release(h, rq);
    buf_free(&rq->body);
    json_decref(rq->parsed);
    http_upload_free(rq);
    free(rq->user);
    free(rq);
    *con_cls = NULL;
    pthread_mutex_lock(&h->lock);
    if (--h->active == 0)
        pthread_cond_broadcast(&h->idle);
    pthread_mutex_unlock(&h->lock);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    return buf_take(&b);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = 0;
    char clean[sizeof msg * 4];
    log_escape(msg, clean, sizeof clean); /* messages may quote the client's bytes */
    log_debug("microhttpd: %s", clean);
}

struct http_server *http_start(struct jmap_server *srv, char **err)
{
    const struct config *cfg = srv->cfg;
    char host[256];
    snprintf(host, sizeof host, "%s", cfg->listen);
    char *colon = strrchr(host, ':');
    if (!colon) {
        if (asprintf(err, "listen address '%s' is not ADDR:PORT", cfg->listen) < 0)
            *err = NULL;
        return NULL;
    }
    *colon = 0;
    int port = atoi(colon + 1);
    struct sockaddr_storage ss = {0};
    socklen_t sslen;
    char *h6 = host;
    if (host[0] == '[') {
        h6 = host + 1;
        h6[strlen(h6) - 1] = 0;
    }
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        sslen = sizeof *in4;
    } else if (inet_pton(AF_INET6, h6, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        sslen = sizeof *in6;
        flags |= MHD_USE_IPv6;
    } else {
        if (asprintf(err, "cannot parse listen address '%s'", cfg->listen) < 0)
            *err = NULL;
        return NULL;
    }
    (void)sslen;
    struct http_server *h = xcalloc(1, sizeof *h);
    h->srv = srv;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->idle, NULL);
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    /* twice the cores, at least 4: cheap reads run on these threads (jmap_api_quick), and a
     * connection waits for the others of its thread */
    int threads = cfg->threads > 0 ? cfg->threads : (2 * cores < 4 ? 4 : 2 * cores);
    if (threads < 1)
        threads = 1;
    int api_threads = cfg->api_threads > 0 ? cfg->api_threads : (4 * cores < 8 ? 8 : 4 * cores);
    char *cert = NULL, *key = NULL;
    if (cfg->tls_cert[0]) {
        cert = read_file(cfg->tls_cert);
        key = read_file(cfg->tls_key);
        if (!cert || !key) {
            if (asprintf(err, "cannot read TLS certificate or key") < 0)
                *err = NULL;
            free(cert);
            free(key);
            free(h);
            return NULL;
        }
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem tls_opts[] = {
        {cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
        {MHD_OPTION_END, 0, NULL},
    };
    h->daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, handler, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
        MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
        MHD_OPTION_CONNECTION_LIMIT, 20000u, MHD_OPTION_CONNECTION_TIMEOUT, 300u,
        MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
        MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    free(cert);
    free(key);
    if (h->daemon && !(h->workers = http_pool_start(api_threads, worker_run, h))) {
        MHD_stop_daemon(h->daemon);
        h->daemon = NULL;
    }
    if (!h->daemon) {
        if (asprintf(err, "cannot listen on %s: %s", cfg->listen, strerror(errno)) < 0)
            *err = NULL;
        pthread_mutex_destroy(&h->lock);
        pthread_cond_destroy(&h->idle);
        free(h);
        return NULL;
    }
    return h;
}

void http_stop(struct http_server *h)
{
    if (!h)
        return;
    /* Stop accepting; end push streams; let in-flight requests finish (10 s cap). */
    MHD_quiesce_daemon(h->daemon);
    push_hub_shutdown(h->srv->hub);
    pthread_mutex_lock(&h->lock);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    while (h->active > 0)
        if (pthread_cond_timedwait(&h->idle, &h->lock, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&h->lock);
    /* the workers finish what is queued, before the daemon: a worker resumes connections
     * it owns */
    http_pool_stop(h->workers);
    MHD_stop_daemon(h->daemon);
    pthread_cond_destroy(&h->idle);
    pthread_mutex_destroy(&h->lock);
    free(h);
}
