/*
 * fetch.h — outbound HTTP GET of a remote calendar feed (issue 17 §1, §5): libcurl
 * with a timeout, a size cap, a bounded number of redirects (each new address
 * checked again), conditional requests (ETag / If-None-Match, Last-Modified /
 * If-Modified-Since), and the address policy: loopback, private, link-local,
 * multicast and reserved ranges are refused unless a CIDR range of allow lets them
 * through. No proxy from the environment is used (it would bypass the policy).
 */
#ifndef JMAPD_FEEDS_FETCH_H
#define JMAPD_FEEDS_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fetch_opts {
    const char *allow; /* comma-separated CIDR ranges, may be NULL */
    int64_t timeout;   /* seconds */
    int64_t max_size;  /* bytes */
    int64_t max_redirects;
    const char *etag;          /* If-None-Match, may be NULL */
    const char *last_modified; /* If-Modified-Since, may be NULL */
    const char *sync_token;    /* subscription-upgrade §3: Sync-Token, may be NULL */
    int64_t limit;             /* §3.3: Prefer: limit=N asked (0: none) */
};

struct fetch_result {
    long status; /* HTTP status (304: not modified), 0 on a transport failure */
    char *body;  /* malloc'd, NUL-terminated (200 only) */
    size_t len;
    char *etag, *last_modified; /* response validators, malloc'd or NULL */
    char *sync_token;           /* the answer's Sync-Token (§5), malloc'd or NULL */
    bool enhanced;              /* Preference-Applied: subscribe-enhanced-get (§3.1) */
    bool truncated;             /* ... and a limit (§3.3): more pages follow */
    char *url;                  /* the URL answered, after redirects (malloc'd) */
    char *link;                 /* the Link header fields, joined by ", " (malloc'd) */
    char *error;                /* why it failed (malloc'd), NULL on 200 and 304 */
};

/* Fetches url (http, https; webcal is fetched as https), always with
 * Prefer: subscribe-enhanced-get (draft-ietf-calext-subscription-upgrade-13 §3.1,
 * harmless to a plain server) and the Sync-Token if one is given. Returns 0 when
 * the answer is 200 or 304, -1 with res->error otherwise (409: the token was
 * refused, §3.1). */
int fetch_get(const char *url, const struct fetch_opts *o, struct fetch_result *res);
/* A WebDAV request (RFC 4918; RFC 6578 REPORT sync-collection, RFC 4791 REPORT
 * calendar-multiget): method, an XML body and its Depth, under the same rules as
 * fetch_get (addresses, timeouts, size cap, redirects; credentials only from the
 * URL's userinfo, which curl never sends to another host). 0 for a 200 or 207; -1
 * otherwise, with res->body kept for any answer below 500 (a 403 names the
 * precondition that failed). */
struct fetch_dav {
    const char *method, *body, *depth;
};
int fetch_request(const char *url, const struct fetch_opts *o, const struct fetch_dav *dav,
                  struct fetch_result *res);
void fetch_result_clear(struct fetch_result *res);
/* The target of the Link relation rel (RFC 8288 §3: "<URI-Reference>; rel=..."
 * with rel one of a space-separated list) in link, resolved against base (§3.2),
 * as a malloc'd absolute http(s) URL, or NULL. */
char *fetch_link_target(const char *link, const char *rel, const char *base);
/* ref resolved against base (RFC 3986 §5) as a malloc'd absolute http(s) URL; with
 * base's userinfo (credentials) when ref has none and both have the same origin
 * (scheme, host, port). NULL if it cannot be resolved, or (same_origin) if the
 * origins differ. */
char *fetch_resolve(const char *base, const char *ref, bool same_origin);
/* Whether url carries a user name (userinfo) to authenticate with. */
bool fetch_url_has_credentials(const char *url);
/* Whether the address policy lets addr (a struct sockaddr) through; for tests. */
bool fetch_address_allowed(const void *sockaddr, const char *allow);

#endif
