/*
 * internal.h — what the files of http/ share: the server struct, the per-request
 * state, and response helpers.
 */
#ifndef JMAPD_HTTP_INTERNAL_H
#define JMAPD_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>

#include "http/pool.h"
#include "http/server.h"
#include "util/util.h"

struct http_server {
    struct MHD_Daemon *daemon;
    struct jmap_server *srv;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    int active; /* requests in flight */
    /* per-user counters for maxConcurrentRequests / maxConcurrentUpload */
    struct {
        int64_t user_id;
        int api, upload;
    } users[256];
    /* workers for API requests and exports (pool.c): the HTTP threads suspend the
     * connection and hand the request over, so they stay free for cheap requests (/health) */
    struct http_pool *workers;
};

enum http_route {
    ROUTE_NONE,
    ROUTE_SESSION,
    ROUTE_API,
    ROUTE_EVENTS,
    ROUTE_UPLOAD,
    ROUTE_DOWNLOAD,
    ROUTE_EXPORT,
    ROUTE_FEED,
    ROUTE_DAV, /* WebDAV, CalDAV, CardDAV (dav/) */
};

struct http_upload;

struct http_req {
    int64_t started_us;
    struct buf body;
    bool too_large;
    bool begun;    /* request_begin ran: on the headers, or with no body at the end */
    bool answered; /* a response is queued (possibly before the body) */
    bool failed;   /* a worker could not queue one: close the connection */
    int status;
    int64_t user_id;      /* 0 until authenticated */
    int counted;          /* 1 api, 2 upload: concurrency slot held */
    int64_t shared_slot;  /* an upload's slot among every front end's (store_slot_take) */
    enum http_route route;
    struct jmap_user *user;      /* session and API requests: loaded with the credential */
    json_t *parsed;              /* an API body parsed before it went to a worker */
    struct http_upload *upload;  /* an upload's body on its way to the store (blobs.c) */
    struct MHD_Connection *conn; /* while a worker has it */
    const char *url;             /* libmicrohttpd's, valid until the request completes */
    struct pool_job job;         /* on its way to a worker (pool.h) */
    char method[16];
    char path[256]; /* for the access log (escaped when written) */
};

/* Adds the CORS headers every response carries: browsers' JMAP clients run on
 * other origins, and credentials travel in Authorization headers, not cookies. */
void http_cors(struct MHD_Response *r);
/* Queues a response with body (copied) and content type; returns MHD result. */
/* Queues r (taken) with the CORS headers and status, noted in rq for the access log. */
enum MHD_Result http_queue(struct MHD_Connection *c, struct http_req *rq, int status,
                           struct MHD_Response *r);
enum MHD_Result http_send(struct MHD_Connection *c, struct http_req *rq, int status,
                          const char *type, const char *body, size_t len);
/* An RFC 7807 problem response. */
enum MHD_Result http_problem(struct MHD_Connection *c, struct http_req *rq, int status,
                             const char *type, const char *detail, const char *limit);

/* GET /jmap/eventsource/ (eventsource.c) */
enum MHD_Result http_eventsource(struct http_server *h, struct MHD_Connection *c,
                                 struct http_req *rq, int64_t user_id);
/* GET /jmap/download/..., POST /jmap/upload/... (blobs.c) */
enum MHD_Result http_download(struct http_server *h, struct MHD_Connection *c,
                              struct http_req *rq, int64_t user_id, const char *path);
/* GET /export/{kind}/{accountId}/{id}: a collection as a file (blobs.c) */
enum MHD_Result http_export(struct http_server *h, struct MHD_Connection *c, struct http_req *rq,
                            int64_t user_id, const char *path);
/* GET /feed/{token}.ics: a read-only subscription feed (blobs.c) */
enum MHD_Result http_feed(struct http_server *h, struct MHD_Connection *c, struct http_req *rq,
                          const char *token);
/* POST /jmap/upload/{accountId}/ (blobs.c), in three steps: on the headers, check
 * the account and open the body's temporary file (false: an answer is queued in
 * *res); each piece of the body; at the end, store it and answer. */
bool http_upload_begin(struct http_server *h, struct MHD_Connection *c, struct http_req *rq,
                       const char *path, enum MHD_Result *res);
void http_upload_write(struct http_req *rq, const char *data, size_t len);
size_t http_upload_size(const struct http_req *rq);
enum MHD_Result http_upload_finish(struct http_server *h, struct MHD_Connection *c,
                                   struct http_req *rq);
void http_upload_free(struct http_req *rq);

#endif
