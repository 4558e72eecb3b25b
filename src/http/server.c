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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/auth.h"
#include "http/internal.h"
#include "push/hub.h"

void http_cors(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(r, "Access-Control-Expose-Headers",
                            "Content-Disposition, Content-Range, WWW-Authenticate, Retry-After");
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
    rq->status = status;
    http_cors(r);
    enum MHD_Result res = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return res;
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
    if (ar == AUTH_OK && load && jmap_user_load(sc, rq->user_id, load) != STORE_OK)
        ar = AUTH_FAILED; /* removed since the credential was checked */
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
    http_cors(r);
    *res = MHD_queue_response(c, (unsigned)rq->status, r);
    MHD_destroy_response(r);
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

static void slot_release(struct http_server *h, struct http_req *rq)
{
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
    if (!e || strcmp(e->key, key) != 0 || util_now_ms() - e->checked_ms > CRED_FRESH_MS)
        return false;
    memcpy(u, &e->user, sizeof *u);
    return true;
}

static void cred_store(const char *key, const struct jmap_user *u)
{
    struct cred_entry *e = key ? cred_slot(key) : NULL;
    if (!e)
        return;
    snprintf(e->key, sizeof e->key, "%s", key);
    e->checked_ms = util_now_ms();
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

static enum MHD_Result route_api(struct http_server *h, struct MHD_Connection *c,
                                 struct http_req *rq, const struct jmap_user *u)
{
    const struct config *cfg = h->srv->cfg;
    if (rq->too_large)
        return http_problem(c, rq, 400, "urn:ietf:params:jmap:error:limit",
                            "the request is larger than maxSizeRequest", "maxSizeRequest");
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (!ctype || strncasecmp(ctype, "application/json", 16) != 0 ||
        (ctype[16] && ctype[16] != ';' && ctype[16] != ' '))
        return http_problem(c, rq, 400, "urn:ietf:params:jmap:error:notJSON",
                            "the content type must be application/json", NULL);
    if (!slot_take(h, rq, 1, cfg->max_concurrent_requests))
        return http_problem(c, rq, 400, "urn:ietf:params:jmap:error:limit",
                            "too many concurrent requests", "maxConcurrentRequests");
    struct jmap_result out;
    jmap_api_handle(h->srv, u, rq->body.data ? rq->body.data : "", rq->body.len, &out);
    if (!out.body) /* a response that could not be serialized: never crash on it */
        return http_problem(c, rq, 500, "about:blank", "the response could not be encoded", NULL);
    enum MHD_Result res = http_send(c, rq, out.status, out.problem ? "application/problem+json" : "application/json",
                    out.body, strlen(out.body));
    free(out.body);
    return res;
}

static bool path_is(const char *url, const char *path)
{
    size_t n = strlen(path);
    return strncmp(url, path, n) == 0 && (url[n] == 0 || (url[n] == '/' && url[n + 1] == 0));
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
        return MHD_YES;
    }
    if (*upload_size) {
        bool upload = strncmp(url, "/jmap/upload/", 13) == 0;
        int64_t limit = upload ? h->srv->cfg->max_size_upload : h->srv->cfg->max_size_request;
        if (!rq->too_large && (int64_t)(rq->body.len + *upload_size) <= limit) {
            buf_append(&rq->body, upload_data, *upload_size);
        } else {
            rq->too_large = true; /* keep reading, keep nothing */
            buf_free(&rq->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "OPTIONS") == 0) {
        /* CORS preflight: any origin may call, with these methods and headers */
        struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        http_cors(r);
        MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS");
        MHD_add_response_header(r, "Access-Control-Allow-Headers",
                                "Authorization, Content-Type, Last-Event-ID, Range");
        MHD_add_response_header(r, "Access-Control-Max-Age", "86400");
        rq->status = 204;
        enum MHD_Result res = MHD_queue_response(c, 204, r);
        MHD_destroy_response(r);
        return res;
    }
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    enum MHD_Result res;

    if (strcmp(url, "/health") == 0)
        return http_send(c, rq, 200, "text/plain", "ok\n", 3);
    if (path_is(url, "/.well-known/jmap")) {
        /* RFC 8620 §2.2: redirect to the session resource */
        char loc[700];
        snprintf(loc, sizeof loc, "%s/jmap/session", h->srv->cfg->base_url);
        struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, loc);
        rq->status = 301;
        http_cors(r);
        res = MHD_queue_response(c, 301, r);
        MHD_destroy_response(r);
        return res;
    }
    if (strncmp(url, "/feed/", 6) == 0) {
        if (!get)
            return http_problem(c, rq, 405, "about:blank", "method not allowed", NULL);
        return http_feed(h, c, rq, url + 6); /* the secret in the URL is the credential */
    }
    bool exports = strncmp(url, "/export/", 8) == 0;
    bool session = path_is(url, "/jmap/session"), api = path_is(url, "/jmap/api"),
         events = path_is(url, "/jmap/eventsource"),
         upload = strncmp(url, "/jmap/upload/", 13) == 0,
         download = strncmp(url, "/jmap/download/", 15) == 0;
    if (!session && !api && !events && !upload && !download && !exports)
        return http_problem(c, rq, 404, "about:blank", "no such resource", NULL);
    if (((session || events || download || exports) && !get) || ((api || upload) && !post)) {
        char *body = jmap_problem("about:blank", 405, "method not allowed", NULL);
        struct MHD_Response *r =
            MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/problem+json");
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
                                get || session || events || download || exports
                                                              ? "GET, HEAD"
                                                              : "POST");
        rq->status = 405;
        http_cors(r);
        res = MHD_queue_response(c, 405, r);
        MHD_destroy_response(r);
        return res;
    }
    struct jmap_user *u = xmalloc(sizeof *u);
    const char *cred = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    bool ok = (session || api) && cred_lookup(cred, u);
    if (ok) {
        rq->user_id = u->id;
    } else {
        /* one read transaction for the credential check and the user's accounts */
        struct store_conn *sc = store_conn(h->srv->store);
        bool txn = sc && store_begin(sc, false) == STORE_OK;
        ok = authenticate(h, c, rq, events, (session || api) ? u : NULL, &res);
        if (txn)
            store_rollback(sc);
        if (ok && (session || api))
            cred_store(cred, u);
    }
    if (!ok || session || api) {
        if (ok)
            res = session ? route_session(h, c, rq, u) : route_api(h, c, rq, u);
        free(u);
        return res;
    }
    free(u);
    if (events)
        return http_eventsource(h, c, rq, rq->user_id);
    if (download)
        return http_download(h, c, rq, rq->user_id, url + 15);
    if (exports)
        return http_export(h, c, rq, rq->user_id, url + 8);
    if (rq->too_large)
        return http_problem(c, rq, 413, "urn:ietf:params:jmap:error:limit",
                            "the upload is larger than maxSizeUpload", "maxSizeUpload");
    if (!slot_take(h, rq, 2, h->srv->cfg->max_concurrent_upload))
        return http_problem(c, rq, 429, "urn:ietf:params:jmap:error:limit",
                            "too many concurrent uploads", "maxConcurrentUpload");
    return http_upload(h, c, rq, rq->user_id, url + 13);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct http_server *h = cls;
    struct http_req *rq = *con_cls;
    if (!rq)
        return;
    char addr[64];
    client_address(c, addr, sizeof addr);
    log_info("access %s \"%s %s\" %d %.2fms%s", addr, rq->method, rq->path, rq->status,
             (double)(util_now_us() - rq->started_us) / 1000.0,
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
    slot_release(h, rq);
    buf_free(&rq->body);
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
    log_debug("microhttpd: %s", msg);
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
    int threads = cfg->threads > 0 ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
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
        flags, (uint16_t)port, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR, &ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_CONNECTION_LIMIT, 20000u,
        MHD_OPTION_CONNECTION_TIMEOUT, 300u, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    free(cert);
    free(key);
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
    MHD_stop_daemon(h->daemon);
    pthread_cond_destroy(&h->idle);
    pthread_mutex_destroy(&h->lock);
    free(h);
}
