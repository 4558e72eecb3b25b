/*
 * dav_sync.h — the WebDAV/CalDAV side of following a subscription upgrade
 * (draft-ietf-calext-subscription-upgrade-13 §7.2 subscribe-caldav, §7.3
 * subscribe-caldav-auth, §7.4 subscribe-webdav-sync): the RFC 6578 sync-collection
 * REPORT (what changed since a token, removed members as 404), then the changed
 * resources, by RFC 4791 §7.9 calendar-multiget where the collection is CalDAV, or a
 * GET each where it only promises WebDAV sync. Every request goes through fetch.c
 * (address policy, timeouts, size cap, redirects). libxml2 parses the answers with
 * no network access and no DTD (entities, external subsets refused).
 */
#ifndef JMAPD_FEEDS_DAV_SYNC_H
#define JMAPD_FEEDS_DAV_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "feeds/fetch.h"

struct dav_member {
    char *href; /* as the server wrote it */
    char *etag; /* NULL if none was given */
    bool gone;  /* a 404 response: removed since the token (RFC 6578 §3.5.2) */
};

struct dav_listing {
    struct dav_member *m;
    size_t n;
    char *token;    /* the new DAV:sync-token */
    bool truncated; /* §3.6: a 507 for the collection itself: ask again from token */
    bool bad_token; /* §3.2 DAV:valid-sync-token failed: start again with no token */
    char *error;    /* NULL on success */
};

/* One sync-collection REPORT (sync-level 1, DAV:getetag) on collection coll from
 * token (NULL or "": the initial listing, §3.4). 0, or -1 with l->error (or
 * l->bad_token). Members outside coll's origin are dropped. */
int dav_sync_collection(const char *coll, const char *token, const struct fetch_opts *o,
                        struct dav_listing *l);
void dav_listing_clear(struct dav_listing *l);
/* The members of a sync-collection answer (a DAV:multistatus) into l (zeroed by the
 * caller): each href as its path, 404 as gone; one of another origin than coll, or
 * coll itself, is left out (a 507 for coll: truncated). 0, or -1 with l->error. */
int dav_listing_parse(const char *coll, const char *body, size_t len, struct dav_listing *l);

/* Gets the resources hrefs[0..n) of coll: cb(ud, href, text, len, etag) for each one
 * (text NULL: it is gone, a 404). multiget: CalDAV calendar-multiget in batches;
 * else one GET each. The bodies together may not pass o->max_size. 0, or -1 with
 * *err (cb's non-zero answer stops and is returned). */
typedef int (*dav_resource_fn)(void *ud, const char *href, const char *text, size_t len,
                               const char *etag);
int dav_get_resources(const char *coll, bool multiget, char *const *hrefs, size_t n,
                      const struct fetch_opts *o, dav_resource_fn cb, void *ud, char **err);

#endif
