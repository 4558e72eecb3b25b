/*
 * dav_internal.h — what the files of dav/ share: the two kinds of collection
 * (calendars, address books) as data, the resource a URL names, the XML request
 * parser (dav_xml.c), the multistatus writer, resource names (dav_names.c), the
 * object resources (dav_object.c) and the reports (dav_report.c).
 */
#ifndef JMAPD_DAV_INTERNAL_H
#define JMAPD_DAV_INTERNAL_H

#include <libxml/tree.h>
#include <string.h>

#include "dav/dav.h"
#include "util/util.h"

#define NS_DAV "DAV:"
#define NS_CALDAV "urn:ietf:params:xml:ns:caldav"
#define NS_CARDDAV "urn:ietf:params:xml:ns:carddav"
#define NS_CS "http://calendarserver.org/ns/"
#define NS_APPLE "http://apple.com/ns/ical/"
/* our own privileges (RFC 3744 §3: "a namespace that they control"; dav_acl.c) */
#define NS_JMAPD "https://jmapd.org/ns/dav/"

/* Largest resource body accepted (CALDAV:max-resource-size, RFC 4791 §5.2.5). */
#define DAV_MAX_RESOURCE 1000000
/* CALDAV:min-date-time and max-date-time (RFC 4791 §5.2.6, §5.2.7): the times a calendar
 * object or a time range may name, as iCalendar UTC DATE-TIME and as seconds. 1600 keeps
 * Apple's birthdays of an unknown year (1604) storable. */
#define DAV_MIN_DATE "16000101T000000Z"
#define DAV_MAX_DATE "30000101T000000Z"
#define DAV_MIN_TIME ((int64_t)-11676096000)
#define DAV_MAX_TIME ((int64_t)32503680000)
/* Deepest XML element nesting accepted in a request body. */
#define DAV_XML_MAX_DEPTH 32

/* snprintf(dst, size, "%s", src) without the format's cost (a multiget of 100 made ~500
 * such copies, a fifth of its instructions): at most size - 1 bytes, NUL-terminated;
 * returns the length copied. */
static inline size_t dav_copy(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
    return n;
}

/* The decimal digits of v into out (at least 21 bytes, not NUL-terminated); their count. */
static inline size_t dav_digits(char *out, uint64_t v)
{
    char t[24], *d = t + sizeof t;
    do
        *--d = (char)('0' + v % 10);
    while ((v /= 10));
    size_t n = (size_t)(t + sizeof t - d);
    memcpy(out, d, n);
    return n;
}

/* A kind of collection: CalDAV calendars or CardDAV address books. */
struct dav_kind {
    const char *home;             /* URL segment of the homes: "calendars" */
    const char *coll_type;        /* JMAP type of the collections: "Calendar" */
    const char *obj_type;         /* JMAP type of the members: "CalendarEvent" */
    const char *member;           /* the members' collection property: "calendarIds" */
    const char *ext;              /* ".ics" */
    const char *mime;             /* content type of a resource */
    const char *capability;       /* JMAP capability of both types */
    const char *ns;               /* CalDAV or CardDAV namespace */
    const char *data_elem;        /* "calendar-data" / "address-data" */
    const char *valid_data;       /* precondition of a body that cannot be stored */
    const char *description;      /* "calendar-description" / "addressbook-description" */
    const char *destroy_arg;      /* the collection /set argument that destroys members too */
    const char *jscal_type;       /* "Event", "Task" (CalDAV), NULL for cards */
    const char *component;        /* "VEVENT", "VTODO" */
    const char *const *jmap_only; /* JMAP properties no part of the resource's body */
    bool calendar;                /* CalDAV (events or tasks) */
    bool single_member;           /* member names its collection by one id (taskListId) */
};
/* Calendars hold events; task lists (tasks-06) are CalDAV collections of VTODOs in
 * the same calendar home (RFC 4791 §5.2.3 supported-calendar-component-set). */
extern const struct dav_kind dav_calendars, dav_tasklists, dav_addressbooks;

/* DR_PRINCIPAL: the user's own principal; DR_GROUP: a group's they are in; DR_OTHER:
 * another principal of the directory, as a search finds it or its URL names it, with the
 * directory's properties alone (dav_principal.c) */
enum dav_rtype {
    DR_ROOT,
    DR_PRINCIPALS,
    DR_PRINCIPAL,
    DR_GROUP,
    DR_HOME,
    DR_COLL,
    DR_OBJ,
    DR_OTHER
};

/* The resource a path names; coll/obj are loaded when they exist. */
struct dav_res {
    enum dav_rtype t;
    const struct dav_kind *k;
    const struct store_access *acct;
    char coll_id[64];   /* the collection's JMAP id ("" if it does not exist) */
    char coll_seg[256]; /* the collection's name in the URL */
    char name[256];     /* a member's resource name */
    char obj_id[64];    /* the member's JMAP id ("" if it does not exist) */
    json_t *coll, *obj;
    int64_t modseq; /* the member's last change (its ETag) */
    /* a collection shared with the user, served in their own home (dav_shared.c): home
     * is the account whose URL space holds it (acct holds the data); shared_write when
     * the user's rights allow some writes */
    const struct store_access *home;
    bool shared, shared_write;
    unsigned rights; /* shared: the user's rights on the collection (types/share.h bits) */
    bool reserved;   /* an unmapped URL a LOCK reserved (dav_lock_reserved) */
    /* shared for free/busy alone (calendars-27 §4.1 mayReadFreeBusy without
     * mayReadItems; dav_shared.c): the collection answers free-busy-query and PROPFIND
     * of itself, nothing of its members */
    bool freebusy_only;
    char group[64]; /* DR_GROUP, DR_OTHER: the principal's id (DR_OTHER: its URL segment,
                     * a user's name or a group's id, in name) */
};

/* One request in progress. */
struct dav_ctx {
    struct jmap_server *srv;
    const struct jmap_user *u;
    struct store_conn *c;
    const struct dav_request *q;
    struct dav_response *out;
    /* how a report renders calendar-data / address-data (RFC 4791 §9.6.5 expand) */
    bool vcard3, expand;
    int64_t expand_start, expand_end;
    /* RFC 4791 §9.6.6 limit-recurrence-set: only the overrides within the range */
    bool limit_rs;
    int64_t limit_start, limit_end;
    /* the zone of floating times in a report's time ranges (RFC 4791 §7.3: dav_report.c) */
    char floating_tz[64];
    /* a calendar-data or address-data element that names the parts to answer
     * (RFC 4791 §9.6.1, RFC 6352 §10.4; dav_partial.c), or NULL: all of them */
    const xmlNode *partial;
    /* what listings of many members read once instead of per member (dav_members.c,
     * shared, never changed: id -> modseq, id -> chosen name, chosen name -> id, id ->
     * member value or NULL), base id -> expanded instances (owned) */
    json_t *modseqs, *names, *name_ids, *members, *instances;
    /* the live write locks, read from the store at the request's first need (dav_lock.c) */
    struct dav_locks *locks;
    /* the access of an account shared with the user for free/busy alone, which is none
     * of theirs (jmap_user.freebusy): what a dav_res of its calendar points to */
    struct store_access freebusy;
};

/* ---- dav_quick.c --------------------------------------------------------------------- */

/* A request like q took took_ns to answer (dav_handle, on whichever thread). */
void dav_quick_note(const struct dav_request *q, int64_t took_ns);

/* ---- dav_xml.c: request bodies and responses --------------------------------------- */

/* Parses a request body without DTDs, entities or network access and with the
 * nesting bounded; NULL with *why on anything else. */
xmlDoc *dav_xml_parse(const char *body, size_t len, const char **why);
bool dav_xml_is(const xmlNode *n, const char *ns, const char *name);
/* Whether n's attribute attr is value (ASCII-caseless when caseless: a component or
 * property name; "yes", "allof" and the like are matched exactly). */
bool dav_xml_attr_is(const xmlNode *n, const char *attr, const char *value, bool caseless);
/* The first element child of n (optionally with ns:name), or NULL. */
xmlNode *dav_xml_child(const xmlNode *n, const char *ns, const char *name);
xmlNode *dav_xml_next(xmlNode *n); /* the next element sibling */
/* Appends s XML-escaped. */
void dav_xml_text(struct buf *b, const char *s);
/* Appends a path percent-encoded as an href (segment characters kept). */
void dav_xml_href(struct buf *b, const char *path);
/* The multistatus document's start (namespace prefixes D, C, CR, CS, A) and end. */
void dav_ms_begin(struct buf *b);
void dav_ms_end(struct buf *b);
/* Opens a property element ns:name (known namespaces by prefix), closes it. */
void dav_prop_open(struct buf *b, const char *ns, const char *name, bool empty);
void dav_prop_close(struct buf *b, const char *ns, const char *name);
/* Sets the response to status with a body (taken) of content type type. */
void dav_reply(struct dav_ctx *x, int status, const char *type, char *body);
/* dav_reply of b's XML (an application/xml body), taken from b. */
void dav_reply_xml(struct dav_ctx *x, int status, struct buf *b);
/* An error response (RFC 4918 §16): status and, when pre is set, a DAV:error body
 * holding the precondition ns:pre (and href inside it when given). */
void dav_error(struct dav_ctx *x, int status, const char *ns, const char *pre, const char *href);

/* ---- dav.c: resources and properties --------------------------------------------------- */

/* The resource a (url-decoded) path names: 0, 400 or 404 (see dav.c). */
int dav_resolve(struct dav_ctx *x, const char *path, struct dav_res *r);
/* The href of a resource into b (escaped for XML). */
void dav_res_href(struct dav_ctx *x, const struct dav_res *r, struct buf *b);
void dav_res_clear(struct dav_res *r);
/* Whether obj belongs to collection coll_id of kind k. */
bool dav_is_member(const struct dav_kind *k, json_t *obj, const char *coll_id);
/* The requested properties of a prop element: one response with its propstats. */
void dav_propstats(struct dav_ctx *x, struct dav_res *r, const xmlNode *prop, struct buf *b);
/* The response for a member resource with the properties of prop (NULL: getetag). */
void dav_member_response(struct dav_ctx *x, struct dav_res *r, const xmlNode *prop, struct buf *b);
/* A response element with only a status for an href (written as given, escaped). */
void dav_status_response(struct buf *b, const char *href, int status);

/* The ids of a home's collections or of a collection's members (a new array). */
json_t *dav_member_ids(struct dav_ctx *x, const struct dav_res *r);
/* dav_members.c: the ids of collection r's members, from a membership map kept in
 * memory and brought up to date from the change log (a new array). */
json_t *dav_members_of(struct dav_ctx *x, const struct dav_res *r);
/* Calls fn with the id, resource name (percent-encoded as an href segment: the chosen
 * name or the server's {id}{ext}) and modseq of each member of collection r (not
 * shared), in id order, from the collection's member list (dav_members.c): no array of
 * ids, no store read, hash look-up or encoding per member. */
void dav_members_each(struct dav_ctx *x, const struct dav_res *r,
                      void (*fn)(const char *id, const char *href, int64_t modseq, void *ud),
                      void *ud);
/* The responses of collection r's members with the properties of prop (a PROPFIND
 * Depth 1, an initial sync-collection): the ETag-only question written from the member
 * index with the collection's href made once; anything else member by member. */
void dav_list_members(struct dav_ctx *x, struct dav_res *r, const xmlNode *prop, struct buf *b);
/* Forgets every kept map (tests, shutdown, a name written outside its object's change). */
void dav_members_clear(void);
/* Sets x->modseqs, x->names and x->name_ids (and x->members when members) for r's
 * member type, as of the request's snapshot. */
void dav_member_index(struct dav_ctx *x, const struct dav_res *r, bool members);
/* The live member of r's type a resource name names (id and modseq), from the index:
 * false if none. */
bool dav_member_find(struct dav_ctx *x, const struct dav_res *r, const char *name, char id[64],
                     int64_t *modseq);
/* Fills child: the collection id of home r, or the member id of collection r. */
void dav_child(struct dav_ctx *x, const struct dav_res *r, const char *id, struct dav_res *child);

/* ---- dav_collection.c: collection writes ------------------------------------------------- */
/* PROPPATCH (RFC 4918 §9.2) of displayname, description, colour. */
void dav_collection_proppatch(struct dav_ctx *x, struct dav_res *r);
/* MKCALENDAR (RFC 4791 §5.3.1) and extended MKCOL (RFC 5689 §3). */
void dav_collection_make(struct dav_ctx *x, struct dav_res *r);
void dav_collection_delete(struct dav_ctx *x, struct dav_res *r);

/* ---- dav_names.c: resource names ------------------------------------------------------ */

/* The resource name of object id of type in acct (the client's name from its
 * PUT or MKCOL, else id + ext) into out[256]. */
void dav_name_of(struct store_conn *c, const char *acct, const char *type, const char *id,
                 const char *ext, char out[256]);
/* The live object of type a resource name names in collection coll (a member of it; NULL
 * for a collection's name in its home), into id[64] (and its modseq into *modseq when not
 * NULL); false if none. */
bool dav_name_lookup(struct store_conn *c, const char *acct, const char *type, const char *coll,
                     const char *name, const char *ext, char id[64], int64_t *modseq);
/* Forgets the lookups kept in memory (after a name write; tests). */
void dav_name_hints_clear(void);
/* Remembers name for id inside the caller's write transaction (objects in other
 * collections may have it too: lookups go by membership). */
int dav_name_write(struct store_conn *c, const char *acct, const char *type, const char *name,
                   const char *id);
/* Issue 20 §4: the name a PUT or MKCOL chose, written in the transaction of the /set that
 * creates the object (creation id "dav") of type: arm before the JMAP call, disarm
 * after; written tells whether it ran. */
struct dav_name_hook {
    const char *type, *name;
    bool written;
};
void dav_name_arm(struct dav_name_hook *h, const char *type, const char *name);
void dav_name_disarm(void);
/* Remembers name for id (in a write transaction of its own). */
int dav_name_remember(struct store_conn *c, const char *acct, const char *type, const char *name,
                      const char *id);
/* MOVE's new name for id of type, written in the transaction of the /set that moves it
 * into collection coll_id of kind k (checked there): arm before, disarm (dav_name_disarm)
 * after; the old name no longer names anything and is kept as a former name of id
 * (dav_name_former) of the collections it was in (was_in: its member value before the
 * MOVE). rewrite: the /set leaves the object as it was (a rename in its own
 * collection), so the hook writes it again: a rename is a change. */
struct dav_rename_hook {
    const struct dav_kind *k;
    const char *id, *name, *old, *coll_id;
    json_t *was_in;
    bool rewrite, written;
};
/* The names id of type had in collection coll_id and left after since (a new array of
 * names), or NULL. */
json_t *dav_name_former(struct store_conn *c, const char *acct, const char *type, const char *id,
                        const char *coll_id, int64_t since);
void dav_name_arm_rename(struct dav_rename_hook *h);
/* Whether a resource name is acceptable (no traversal, no controls, bounded). */
bool dav_name_ok(const char *name);

/* ---- dav_object.c: member resources ----------------------------------------------------- */

/* The resource's body in the kind's format (vcard3: vCard 3.0), malloc'd, or NULL. */
char *dav_object_render(struct dav_ctx *x, const struct dav_res *r, json_t *obj, bool vcard3);
/* A writer of iCalendar for this request: with the IANA zones' VTIMEZONEs left out when
 * the client sent "CalDAV-Timezones: F" (RFC 7809 §3.1.2, §7.1). */
struct ical_writer *dav_ical_writer(const struct dav_ctx *x, const char *method);
bool dav_zones_by_reference(const struct dav_ctx *x);
/* The calendar-data or address-data of member r into v (escaped): 1, or 0 if it
 * cannot be rendered. */
int dav_object_data(struct dav_ctx *x, struct dav_res *r, struct buf *v);
void dav_object_get(struct dav_ctx *x, struct dav_res *r, bool head);
void dav_object_put(struct dav_ctx *x, struct dav_res *r);
void dav_object_delete(struct dav_ctx *x, struct dav_res *r);
/* Runs one JMAP method call as the user (a real JMAP request: validation, state
 * bump, push); the call's response arguments (new reference) or NULL. */
json_t *dav_jmap_call(struct dav_ctx *x, const struct dav_kind *k, const char *method,
                      json_t *args);

/* ---- dav_filter.c: the query reports' filters ------------------------------------------ */

/* An iCalendar UTC DATE-TIME (RFC 5545 §3.3.5 "20060104T000000Z") as seconds (dav_report.c). */
bool dav_ical_utc(const char *s, int64_t *t);
/* The start and end of a time-range element (an absent one open: DAV_MIN_TIME,
 * DAV_MAX_TIME); false after the error response (RFC 4791 §9.9 valid-filter, §7.8
 * min-date-time, max-date-time). */
bool dav_filter_time_range(struct dav_ctx *x, const xmlNode *tr, int64_t *start, int64_t *end);
/* Checks a CALDAV:filter (RFC 4791 §9.7) or CARDDAV:filter (RFC 6352 §10.5) whole:
 * false after the error response (valid-filter, supported-collation, 400). */
bool dav_filter_check_ical(struct dav_ctx *x, const xmlNode *filter);
bool dav_filter_check_vcard(struct dav_ctx *x, const xmlNode *filter);
/* Whether iCalendar text passes comp-filter vcal (a checked filter's VCALENDAR one);
 * done: the comp-filter whose time-range the caller tested over the recurrences; ftz: the
 * zone of floating times (RFC 4791 §7.3). */
bool dav_filter_ical(const char *text, const xmlNode *vcal, const xmlNode *done, const char *ftz);
/* Whether vcal asks nothing of a member's data beyond comp-filter ev's time-range. */
bool dav_filter_ical_trivial(const xmlNode *vcal, const xmlNode *ev);
/* Whether vCard text passes a checked CARDDAV:filter. */
bool dav_filter_vcard(const char *text, const xmlNode *filter);
/* ---- dav_partial.c: partial retrieval ------------------------------------------------------- */

/* Whether a calendar-data (calendar) or address-data element names parts. */
bool dav_partial_wanted(const xmlNode *data, bool calendar);
/* The parts of a member's text the element data names (malloc'd), or NULL. */
char *dav_partial(const char *text, const xmlNode *data, bool calendar);

/* The supported-collation elements (RFC 4791 §7.5.1, RFC 6352 §8.3.1) with prefix. */
void dav_filter_collation_set(struct buf *v, const char *prefix);
/* The times of a VTODO the table of RFC 4791 §9.9 looks at (UTC seconds). */
struct todo_times {
    bool has_start, has_dur, has_due, has_done, has_created;
    int64_t start, dur_end, due, done, created;
};
/* RFC 4791 §9.9: whether a VTODO with these times overlaps [s, e), by the table. */
bool dav_todo_times_in_range(const struct todo_times *t, int64_t s, int64_t e);

/* dav_copy.c: COPY (move false) or MOVE of member r to the Destination (RFC 4918 §9.8,
 * §9.9) within the same account and kind. */
void dav_object_copy(struct dav_ctx *x, struct dav_res *r, bool move);
/* The path of a Destination header or an If header's resource tag (an absolute URI or a
 * path), url-decoded, into out: false if it is none. */
bool dav_dest_path(const char *dest, char *out, size_t size);

/* ---- dav_lock.c: write locks (RFC 4918 §6, §9.10, §9.11) --------------------------------- */
/* Evaluates the If header (§10.4; etag: the request resource's ETag or NULL) and, for a
 * write, the locks on its URL(s): true to go on, else false with 400, 412 or 423 queued. */
bool dav_lock_check(struct dav_ctx *x, const char *etag);
void dav_lock(struct dav_ctx *x, struct dav_res *r);
void dav_unlock(struct dav_ctx *x);
/* Drops the locks of path and below (it was deleted or moved away): a write
 * transaction of its own when there are any. */
void dav_lock_forget(struct dav_ctx *x, const char *path);
/* DAV:lockdiscovery of (url-decoded) path, DAV:supportedlock: their values into v. */
void dav_lock_discovery(struct dav_ctx *x, const char *path, struct buf *v);
void dav_lock_supported(struct buf *v);
/* Whether r is an unmapped member or collection URL that a LOCK reserved (a lock rooted
 * there): the empty locked resource of RFC 4918 §9.10.4 while the lock lasts. */
bool dav_lock_reserved(struct dav_ctx *x, const struct dav_res *r);
/* The responses (properties of prop) of the reserved URLs in collection or home r, for
 * its PROPFIND Depth 1: RFC 4918 §9.10.4 (never in a REPORT: see dav_lock.c). */
void dav_lock_list_reserved(struct dav_ctx *x, const struct dav_res *r, const xmlNode *prop,
                            struct buf *b);
/* Frees a request's copy of the locks (dav_ctx.locks; NULL is fine). */
void dav_locks_free(struct dav_locks *s);

/* ---- dav_acl.c: access control (RFC 3744) from the JMAP rights ------------------------- */
/* Whether the user holds CALDAV:read-free-busy on r (RFC 4791 §6.1.1), as that set says. */
bool dav_acl_may_read_free_busy(const struct dav_res *r);
/* The properties current-user-privilege-set, supported-privilege-set, owner, acl and
 * acl-restrictions of r: 1 with the value in v, 0 when r has none, -1 when the user
 * may not read it (DAV:acl without read-acl). */
int dav_acl_prop(struct dav_ctx *x, struct dav_res *r, const char *name, struct buf *v);
/* The ACL method (§8.1) on collection r: its shareWith set from the ACEs. */
void dav_acl(struct dav_ctx *x, struct dav_res *r);

/* RFC 3744 §7.1.1: 403 with a DAV:need-privileges body naming the privilege ns:name the
 * user lacks and the resource it is needed on: r, or its parent (parent: a member's
 * collection, a collection's home, which RFC 3744 §7.2 names for bind and unbind); r
 * NULL: the request's path (or its parent). */
void dav_need_privilege(struct dav_ctx *x, const struct dav_res *r, bool parent, const char *ns,
                        const char *name);

/* ---- dav_principal.c: principals (RFC 3744 §2, §4) --------------------------------------- */
/* Makes r the principal of group id (or of the group named id) when the user is in that
 * group: true if it did. */
bool dav_principal_group(struct dav_ctx *x, const char *id, struct dav_res *r);
/* Another principal of the directory by its URL segment (a user's name, a group's id or
 * name), as DR_OTHER: false when the directory has none. */
bool dav_principal_other(struct dav_ctx *x, const char *seg, struct dav_res *r);
/* A principal's property of the DAV: namespace (displayname, principal-URL,
 * alternate-URI-set, group-member-set, group-membership): 1 with its value in v, 0 when
 * r has none, -1 when name is none of these. */
int dav_principal_prop(struct dav_ctx *x, const struct dav_res *r, const char *name, struct buf *v);
/* The responses of the principals the user may see (their own, their groups'), for a
 * Depth 1 PROPFIND of the principal collection. */
void dav_principal_list(struct dav_ctx *x, const xmlNode *what, struct buf *b);

/* The properties of another principal of the directory (DR_OTHER): resourcetype,
 * displayname, principal-URL, alternate-URI-set, principal-collection-set and the
 * directory's ones below; 1 with its value in v, or 0. */
int dav_principal_other_prop(struct dav_ctx *x, struct dav_res *r, const char *ns, const char *name,
                             struct buf *v);
/* RFC 6638 §2.4.1 calendar-user-address-set, §2.4.2 calendar-user-type and Apple's
 * email-address-set (CS:) of a principal from the directory: 1 with its value in v, or 0. */
int dav_principal_directory_prop(struct dav_ctx *x, struct dav_res *r, const char *ns,
                                 const char *name, struct buf *v);
/* RFC 3744 §9.4 principal-property-search and §9.5 principal-search-property-set:
 * answered (true) when root is one of them. */
bool dav_principal_report(struct dav_ctx *x, struct dav_res *r, xmlNode *root);
/* Those two reports as supported-report elements (a principal's supported-report-set). */
void dav_principal_report_set(struct buf *v);

/* ---- dav_schedule.c: RFC 6638 ------------------------------------------------------------ */
/* A scheduling property of the principal (schedule-inbox-URL, schedule-outbox-URL,
 * calendar-user-address-set, calendar-user-type): 1 with its value in v, or 0. */
int dav_schedule_principal_prop(struct dav_ctx *x, const char *name, struct buf *v);
/* Whether a write of obj schedules implicitly (§3.2): it has participants the server
 * schedules for (SCHEDULE-AGENT not CLIENT or NONE). */
bool dav_schedule_wanted(const json_t *obj);
/* The Schedule-Tag (§3.2.10) of obj as member of r into out[48] (quoted); false when obj
 * is no scheduling object resource (no participants). */
bool dav_schedule_tag(struct dav_ctx *x, const struct dav_res *r, const json_t *obj, char out[48]);
/* If-Schedule-Tag-Match (§8.3): true when absent or matching r's tag; else false with
 * 412 queued. */
bool dav_schedule_tag_matches(struct dav_ctx *x, const struct dav_res *r);
/* §3.2.10.1: a PUT under a matching If-Schedule-Tag-Match keeps the server's status of
 * the attendees other than the owner: copies it from r->obj into obj. */
void dav_schedule_merge_replies(struct dav_ctx *x, const struct dav_res *r, json_t *obj);

/* Whether a calendar user address is one of the user's (calendar-user-address-set). */
bool dav_schedule_address_mine(struct dav_ctx *x, const char *address);
/* dav_outbox.c: a busy time request POSTed to acct's scheduling outbox (RFC 6638 §5). */
void dav_outbox_post(struct dav_ctx *x, const struct store_access *acct);

/* dav_inbox.c: answers a request for the scheduling inbox or outbox of one of the
 * user's calendar homes (RFC 6638 §2.1-2.2); false (nothing done) for any other path. */
bool dav_inbox_handle(struct dav_ctx *x, const char *path);

/* dav_render_cache.c: a calendar member's calendar-data as a report writes it, kept by
 * its modseq and variant ("" plain, or the expand range it was rendered for).
 * dav_render_cached appends it to v (true) if kept; dav_render_keep keeps it. */
bool dav_render_cached(const struct dav_res *r, const char *variant, struct buf *v);
void dav_render_keep(const struct dav_res *r, const char *variant, const char *escaped, size_t len);
/* Whether member r (at r->modseq) belongs to collection coll_id, as kept beside its
 * rendering: 1 or 0, -1 when nothing is kept. */
int dav_render_member(const struct dav_res *r, const char *coll_id);

/* ---- dav_shared.c: collections shared with the user, in their own home ------------------ */
/* Resolves r->coll_seg "{account}~{collection id}" in the user's own home to a
 * collection shared with them they may read (r->acct becomes the sharer's account, r->home
 * the user's): true if it did. */
bool dav_shared_resolve(struct dav_ctx *x, struct dav_res *r);
/* Whether the user may write member obj of shared collection r (share.c's check of the
 * /set: mayWriteOwn and whether they own it, calendars-27 §4). */
bool dav_shared_may_write(struct dav_ctx *x, const struct dav_res *r, json_t *obj);
/* One response per collection shared with the user, for a listing of their home. */
void dav_shared_list(struct dav_ctx *x, const struct dav_res *home, const xmlNode *what,
                     struct buf *b);
/* Member id of r's type as the user may see it (the sharee's view in a shared
 * collection, NULL when hidden from them), or NULL if there is none. */
json_t *dav_member_load(struct dav_ctx *x, const struct dav_res *r, const char *id);

/* ---- dav_report.c ---------------------------------------------------------------------- */
void dav_report(struct dav_ctx *x, struct dav_res *r);
/* The sync-token of a collection (RFC 6578 §3): the JMAP state of its members. */
void dav_sync_token(struct dav_ctx *x, const struct dav_res *r, char out[64]);
/* A type's state as the requesting user sees it (CTags, sync tokens): another user's
 * private metadata writes do not change it (draft-ietf-jmap-metadata-02 §2.2, §7). */
int64_t dav_state(struct dav_ctx *x, const char *account, const char *type);

#endif
