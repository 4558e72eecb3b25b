/*
 * internal.h — what the files of http/ share: the server struct, the per-request
 * state, and response helpers.
 */
#ifndef JMAPD_HTTP_INTERNAL_H
#define JMAPD_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>

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
};

struct http_req {
    int64_t started_us;
    struct buf body;
    bool too_large;
    int status;
    int64_t user_id;      /* 0 until authenticated */
    int counted;          /* 1 api, 2 upload: concurrency slot held */
    char method[8];
    char path[128];       /* for the access log */
};

/* Adds the CORS headers every response carries: browsers' JMAP clients run on
 * other origins, and credentials travel in Authorization headers, not cookies. */
void http_cors(struct MHD_Response *r);
/* Queues a response with body (copied) and content type; returns MHD result. */
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
enum MHD_Result http_upload(struct http_server *h, struct MHD_Connection *c, struct http_req *rq,
                            int64_t user_id, const char *path);

#endif
