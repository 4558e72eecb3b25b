/*
 * dav.h — the WebDAV front end (RFC 4918) with CalDAV (RFC 4791) and CardDAV
 * (RFC 6352) on the same calendars, events, address books and cards as JMAP
 * (DESIGN.md §1). http/ routes the DAV paths here after authentication with the
 * whole request in memory; dav/ answers with a status, headers and a body.
 *
 * URLs: /dav/principals/{user}/ (the principal), /dav/calendars/{accountId}/ and
 * /dav/addressbooks/{accountId}/ (the homes), a collection below a home, and its
 * resources (.ics, .vcf) below it. The server root "/" and "/dav/" answer
 * PROPFIND with current-user-principal (RFC 5397); /.well-known/caldav and
 * /.well-known/carddav redirect to /dav/ (RFC 6764 §5).
 */
#ifndef JMAPD_DAV_H
#define JMAPD_DAV_H

#include <stdbool.h>
#include <stddef.h>

#include "jmap/jmap.h"

/* RFC 4918 §10.1 (class 2: dav_lock.c), RFC 4791 §5.1, RFC 6352 §6.1, RFC 5689 §3, RFC 6638 §2,
 * RFC 7809 §3 (time zones by reference: dav_ical_writer) */
#define DAV_COMPLIANCE                                                                             \
    "1, 2, 3, access-control, calendar-access, calendar-auto-schedule, addressbook, "              \
    "extended-mkcol, calendar-no-timezone"
#define DAV_ALLOW                                                                                  \
    "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCALENDAR, MKCOL, COPY, "      \
    "MOVE, LOCK, UNLOCK, ACL"

/* The request as http/ saw it: url-decoded path, the headers DAV reads (NULL
 * when absent) and the body. */
struct dav_request {
    const char *method;
    const char *path;
    const char *depth, *if_match, *if_none_match, *content_type, *accept, *brief, *prefer;
    const char *if_schedule_tag_match; /* RFC 6638 §8.3 */
    const char *body;
    size_t len;
    bool too_large; /* the body passed the request size limit and was dropped */
    const char *destination, *overwrite;          /* RFC 4918 §10.3, §10.6 (COPY, MOVE) */
    const char *if_header, *lock_token, *timeout; /* RFC 4918 §10.4, §10.5, §10.7 */
    const char *caldav_timezones;                 /* RFC 7809 §7.1 */
};

/* The answer: body malloc'd (may be NULL), content type and ETag/Location when set. */
struct dav_response {
    int status;
    char *body;
    size_t len;
    const char *content_type;
    char etag[48];
    char schedule_tag[48]; /* RFC 6638 §8.2 */
    char location[600];
    char lock_token[80]; /* RFC 4918 §10.5: the Lock-Token of a new lock */
};

/* Whether path belongs to the DAV front end for this method ("/" only for DAV
 * methods: GET / stays with http/). */
bool dav_path(const char *path, const char *method);
/* The redirect target of a well-known URI (RFC 6764 §5), or NULL. */
const char *dav_well_known(const char *path);
/* Whether a request is a read cheap and bounded enough to answer on the connection's own
 * thread instead of a worker (dav_quick.c): GET, HEAD, PROPFIND Depth 0 or 1 or a REPORT
 * with a small body on an in-process store, of a kind whose late requests took under a
 * millisecond. */
bool dav_quick(struct jmap_server *srv, const struct dav_request *q);
/* Answers one DAV request of an authenticated user. */
void dav_handle(struct jmap_server *srv, const struct jmap_user *u, const struct dav_request *q,
                struct dav_response *out);

/* The DAV collection path (/dav/calendars/{account}/{name}/) of the collection id
 * of an exporter's kind, for the subscription upgrade's Link relations (draft §7.3,
 * §7.4); false for a kind DAV does not serve. In a read transaction. */
bool dav_collection_path(struct store_conn *c, const char *kind, const char *account,
                         const char *id, char *out, size_t size);

#endif
