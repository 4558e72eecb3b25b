/*
 * server.h — the HTTP front end (libmicrohttpd): routes, authentication, request
 * bodies, limits, the access log, and a clean stop that lets in-flight requests
 * finish. Knows nothing of data types: API bodies go to jmap_api_handle().
 */
#ifndef JMAPD_HTTP_SERVER_H
#define JMAPD_HTTP_SERVER_H

#include "jmap/jmap.h"

struct http_server;

/* Starts listening on cfg->listen; NULL with *err on failure. */
struct http_server *http_start(struct jmap_server *srv, char **err);
/* Stops accepting, ends push streams, waits for in-flight requests, stops. */
void http_stop(struct http_server *h);

#endif
