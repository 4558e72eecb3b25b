/*
 * dav.c — the DAV front end's entry: the URL space (principal, homes,
 * collections, resources), dispatch by method, PROPFIND (RFC 4918 §9.1) with
 * the discovery properties (RFC 5397 current-user-principal, RFC 4791 §6.2.1
 * calendar-home-set, RFC 6352 §7.1.1 addressbook-home-set, RFC 3744 §5
 * privileges), and OPTIONS. Collection writes are in dav_collection.c, member
 * resources in dav_object.c, reports in dav_report.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dav/dav_internal.h"
#include "types/tasks.h"

bool dav_path(const char *path, const char *method)
{
    if (strcmp(path, "/dav") == 0 || strncmp(path, "/dav/", 5) == 0)
        return true;
    /* many clients start with PROPFIND / (iOS, macOS): the root is DAV's for DAV methods */
    return strcmp(path, "/") == 0 && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "POST") != 0;
}

const char *dav_well_known(const char *path)
{
    /* RFC 6764 §5: the context path of both services */
    if (strcmp(path, "/.well-known/caldav") == 0 || strcmp(path, "/.well-known/caldav/") == 0 ||
        strcmp(path, "/.well-known/carddav") == 0 || strcmp(path, "/.well-known/carddav/") == 0)
        return "/dav/";
    return NULL;
}

/* ---- the URL space ---------------------------------------------------------------------- */

/* An account reached through per-collection shares (issue 14) has no home of its own
 * here: its collections the user may read appear in the user's own home
 * (dav_shared.c), where their rights are checked per collection. */
static const struct store_access *account_find(const struct jmap_user *u, const char *id)
{
    for (int i = 0; i < u->naccounts; i++)
        if (strcmp(u->accounts[i].account_id, id) == 0 && !u->accounts[i].shared)
            return &u->accounts[i];
    return NULL;
}

static const struct dav_kind *kind_find(const char *home)
{
    if (strcmp(home, dav_calendars.home) == 0)
        return &dav_calendars;
    if (strcmp(home, dav_addressbooks.home) == 0)
        return &dav_addressbooks;
    return NULL;
}

void dav_res_clear(struct dav_res *r)
{
    json_decref(r->coll);
    json_decref(r->obj);
    r->coll = r->obj = NULL;
}

/* Resolves the collection segment of r (coll_seg set) and, for a member, its name. */
static void resolve_members(struct dav_ctx *x, struct dav_res *r)
{
    const char *a = r->acct->account_id;
    if (dav_name_lookup(x->c, a, r->k->coll_type, NULL, r->coll_seg, "", r->coll_id, NULL))
        r->coll = store_object_get(x->c, a, r->k->coll_type, r->coll_id);
    if (!r->coll && r->k == &dav_calendars &&
        dav_name_lookup(x->c, a, dav_tasklists.coll_type, NULL, r->coll_seg, "", r->coll_id,
                        NULL)) {
        r->k = &dav_tasklists; /* a task list in the calendar home */
        r->coll = store_object_get(x->c, a, r->k->coll_type, r->coll_id);
    }
    if (!r->coll)
        r->coll_id[0] = 0;
    if (!r->coll && dav_shared_resolve(x, r))
        a = r->acct->account_id; /* shared with the user: the sharer's data */
    const struct dav_kind *k = r->k;
    if (r->t != DR_OBJ || !r->coll)
        return;
    if (dav_name_lookup(x->c, a, k->obj_type, r->coll_id, r->name, k->ext, r->obj_id, &r->modseq)) {
        r->obj = dav_member_load(x, r, r->obj_id);
        if (r->obj && !dav_is_member(k, r->obj, r->coll_id)) {
            json_decref(r->obj);
            r->obj = NULL;
        }
    }
    if (!r->obj) {
        r->obj_id[0] = 0;
        r->modseq = 0;
    }
}

/* The resource of a path: 0, 400 for a path that tries to leave its place
 * (traversal, control characters), 404 for one that names nothing the user may see. */
static int res_resolve(struct dav_ctx *x, const char *path, struct dav_res *r)
{
    memset(r, 0, sizeof *r);
    char segs[5][256];
    int n = 0;
    const char *p = path;
    while (*p == '/')
        p++;
    while (*p) {
        size_t len = strcspn(p, "/");
        if (n == 5 || len >= sizeof segs[0])
            return 404;
        snprintf(segs[n], sizeof segs[0], "%.*s", (int)len, p);
        if (strcmp(segs[n], "..") == 0 || strcmp(segs[n], ".") == 0)
            return 400;
        n++;
        p += len;
        if (*p == '/' && p[1] == '/')
            return 404;
        while (*p == '/')
            p++;
    }
    if (n == 0 || (n == 1 && strcmp(segs[0], "dav") == 0)) {
        r->t = DR_ROOT;
        return 0;
    }
    if (strcmp(segs[0], "dav") != 0)
        return 404;
    if (strcmp(segs[1], "principals") == 0) {
        if (n == 2)
            r->t = DR_PRINCIPALS;
        else if (n == 3 && strcmp(segs[2], x->u->name) == 0)
            r->t = DR_PRINCIPAL;
        else if (n != 3 ||
                 (!dav_principal_group(x, segs[2], r) && !dav_principal_other(x, segs[2], r)))
            return 404; /* no principal of the directory */
        return 0;
    }
    if (!(r->k = kind_find(segs[1])) || n < 3 || !(r->acct = account_find(x->u, segs[2])))
        return 404;
    r->t = n == 3 ? DR_HOME : n == 4 ? DR_COLL : DR_OBJ;
    if (n >= 4) {
        if (!dav_name_ok(segs[3]))
            return 400;
        snprintf(r->coll_seg, sizeof r->coll_seg, "%s", segs[3]);
    }
    if (n == 5) {
        if (!dav_name_ok(segs[4]))
            return 400;
        snprintf(r->name, sizeof r->name, "%s", segs[4]);
    }
    if (n >= 4)
        resolve_members(x, r);
    return 0;
}

int dav_resolve(struct dav_ctx *x, const char *path, struct dav_res *r)
{
    return res_resolve(x, path, r);
}

static void principal_href(struct dav_ctx *x, struct buf *b)
{
    buf_puts(b, "<D:href>");
    dav_xml_href(b, "/dav/principals/");
    dav_xml_href(b, x->u->name);
    buf_puts(b, "/</D:href>");
}

void dav_res_href(struct dav_ctx *x, const struct dav_res *r, struct buf *b)
{
    switch (r->t) {
    case DR_ROOT:
        buf_puts(b, "/dav/");
        return;
    case DR_PRINCIPALS:
        buf_puts(b, "/dav/principals/");
        return;
    case DR_PRINCIPAL:
    case DR_GROUP:
    case DR_OTHER:
        buf_puts(b, "/dav/principals/");
        dav_xml_href(b, r->t == DR_GROUP ? r->group : r->t == DR_OTHER ? r->name : x->u->name);
        buf_puts(b, "/");
        return;
    default:
        break;
    }
    buf_puts(b, "/dav/");
    buf_puts(b, r->k->home);
    buf_puts(b, "/");
    dav_xml_href(b, (r->home ? r->home : r->acct)->account_id);
    buf_puts(b, "/");
    if (r->t == DR_HOME)
        return;
    dav_xml_href(b, r->coll_seg);
    buf_puts(b, "/");
    if (r->t == DR_OBJ)
        dav_xml_href(b, r->name);
}

bool dav_is_member(const struct dav_kind *k, json_t *obj, const char *coll_id)
{
    json_t *m = json_object_get(obj, k->member);
    if (k->single_member)
        return json_is_string(m) && strcmp(json_string_value(m), coll_id) == 0;
    return json_is_true(json_object_get(m, coll_id));
}

/* ---- properties ------------------------------------------------------------------------- */

static void home_hrefs(struct dav_ctx *x, const struct dav_kind *k, struct buf *b)
{
    /* the personal account first: clients take the first home */
    for (int i = 0; i < x->u->naccounts; i++) {
        if (x->u->accounts[i].shared)
            continue; /* see account_find */
        buf_printf(b, "<D:href>/dav/%s/", k->home);
        dav_xml_href(b, x->u->accounts[i].account_id);
        buf_puts(b, "/</D:href>");
    }
}

static void report_set(const struct dav_res *r, struct buf *b)
{
    const char *reports[5] = {"sync-collection", NULL, NULL, NULL, NULL};
    const char *ns = r->k->ns;
    if (r->k->calendar) {
        reports[1] = "calendar-multiget";
        reports[2] = "calendar-query";
        reports[3] = r->k == &dav_calendars ? "free-busy-query" : NULL;
    } else {
        reports[1] = "addressbook-multiget";
        reports[2] = "addressbook-query";
    }
    for (int i = 0; reports[i]; i++) {
        buf_puts(b, "<D:supported-report><D:report>");
        dav_prop_open(b, i == 0 ? NS_DAV : ns, reports[i], true);
        buf_puts(b, "</D:report></D:supported-report>");
    }
}

/* A getctag/getetag of a collection: its own state and its members'. */
static void coll_tag(struct dav_ctx *x, const struct dav_res *r, struct buf *b)
{
    const char *a = r->acct->account_id;
    buf_printf(b, "\"%lld-%lld\"", (long long)dav_state(x, a, r->k->coll_type),
               (long long)dav_state(x, a, r->k->obj_type));
}

/* A member's ETag, "modseq", written without printf: a listing writes one per member. */
static void etag_write(struct buf *b, int64_t modseq)
{
    char tag[24] = {'"'};
    size_t n = 1 + dav_digits(tag + 1, modseq > 0 ? (uint64_t)modseq : 0);
    tag[n++] = '"';
    buf_append(b, tag, n);
}

/* Properties of the DAV: namespace; 1 if r has ns:name (its value appended to v). */
static int prop_dav(struct dav_ctx *x, struct dav_res *r, const char *name, struct buf *v)
{
    if (r->reserved) { /* RFC 4918 §9.10.4: an empty, locked, non-collection resource */
        if (strcmp(name, "getcontentlength") == 0)
            buf_puts(v, "0");
        else if (strcmp(name, "lockdiscovery") != 0 && strcmp(name, "supportedlock") != 0 &&
                 strcmp(name, "resourcetype") != 0)
            return 0;
        if (strcmp(name, "getcontentlength") == 0 || strcmp(name, "resourcetype") == 0)
            return 1; /* the locks below, from its own href (also in its collection's listing) */
    }
    if (strcmp(name, "resourcetype") == 0) {
        if (r->t == DR_PRINCIPAL || r->t == DR_GROUP)
            buf_puts(v, "<D:principal/>"); /* RFC 3744 §4 */
        else if (r->t != DR_OBJ)
            buf_puts(v, "<D:collection/>");
        if (r->t == DR_COLL)
            buf_puts(v, r->k->calendar ? "<C:calendar/>" : "<CR:addressbook/>");
        return 1;
    }
    if (strcmp(name, "current-user-principal") == 0) {
        principal_href(x, v);
        return 1;
    }
    if (r->t == DR_PRINCIPAL || r->t == DR_GROUP) { /* RFC 3744 §4 */
        int got = dav_principal_prop(x, r, name, v);
        if (got >= 0)
            return got;
    }
    if (strcmp(name, "owner") == 0 && (r->t == DR_COLL || r->t == DR_OBJ))
        return dav_acl_prop(x, r, name, v); /* RFC 3744 §5.1: a sharer's too */
    if (strcmp(name, "principal-URL") == 0 || strcmp(name, "owner") == 0) {
        if (r->t != DR_PRINCIPAL && !r->acct)
            return 0;
        principal_href(x, v);
        return 1;
    }
    if (strcmp(name, "principal-collection-set") == 0) {
        buf_puts(v, "<D:href>/dav/principals/</D:href>");
        return 1;
    }
    if (strcmp(name, "displayname") == 0) {
        const char *n =
            r->t == DR_COLL ? json_string_value(json_object_get(r->coll, "name")) : NULL;
        if (!n)
            return 0; /* a calendar shared for free/busy alone shows none (dav_shared.c) */
        dav_xml_text(v, n);
        return 1;
    }
    if (strcmp(name, "supported-report-set") == 0 && (r->t == DR_COLL || r->t == DR_HOME)) {
        report_set(r, v);
        return 1;
    }
    if (strcmp(name, "supported-report-set") == 0 &&
        (r->t == DR_PRINCIPALS || r->t == DR_PRINCIPAL || r->t == DR_GROUP)) {
        dav_principal_report_set(v); /* RFC 3744 §9.4, §9.5 */
        return 1;
    }
    if (strcmp(name, "current-user-privilege-set") == 0 || strcmp(name, "acl") == 0 ||
        strcmp(name, "supported-privilege-set") == 0 || strcmp(name, "acl-restrictions") == 0)
        return dav_acl_prop(x, r, name, v); /* RFC 3744 §5 */
    if (strcmp(name, "sync-token") == 0 && r->t == DR_COLL) {
        char tok[64];
        dav_sync_token(x, r, tok);
        dav_xml_text(v, tok);
        return 1;
    }
    if (strcmp(name, "getetag") == 0 && r->t == DR_OBJ) {
        etag_write(v, r->modseq);
        return 1;
    }
    if (strcmp(name, "getetag") == 0 && r->t == DR_COLL) {
        coll_tag(x, r, v);
        return 1;
    }
    if (strcmp(name, "getcontentlength") == 0 && r->t == DR_OBJ) {
        /* RFC 4918 §15.4: a resource a GET answers with a Content-Length has it */
        if (!r->obj)
            r->obj = dav_member_load(x, r, r->obj_id);
        char *text = r->obj ? dav_object_render(x, r, r->obj, false) : NULL;
        if (!text)
            return 0;
        buf_printf(v, "%zu", strlen(text));
        free(text);
        return 1;
    }
    if (strcmp(name, "getcontenttype") == 0 && r->t == DR_OBJ) {
        dav_xml_text(v, r->k->mime);
        return 1;
    }
    if (strcmp(name, "supportedlock") == 0) { /* RFC 4918 §15.10 */
        dav_lock_supported(v);
        return 1;
    }
    if (strcmp(name, "lockdiscovery") == 0) { /* §15.8: the locks over the resource */
        struct buf h = {0};
        char path[600];
        dav_res_href(x, r, &h);
        buf_puts(&h, "");
        if (dav_dest_path(h.data, path, sizeof path))
            dav_lock_discovery(x, path, v);
        buf_free(&h);
        return 1;
    }
    return 0;
}

/* Properties of the CalDAV and CardDAV namespaces. */
static int prop_groupware(struct dav_ctx *x, struct dav_res *r, const char *ns, const char *name,
                          struct buf *v)
{
    bool cal = strcmp(ns, NS_CALDAV) == 0;
    const struct dav_kind *k = r->k && r->k->calendar == cal ? r->k
                               : cal                         ? &dav_calendars
                                                             : &dav_addressbooks;
    if (r->t == DR_OBJ && r->k == k && strcmp(name, k->data_elem) == 0)
        return dav_object_data(x, r, v);
    if (strcmp(name, cal ? "calendar-home-set" : "addressbook-home-set") == 0) {
        if (r->t == DR_OBJ || r->t == DR_GROUP)
            return 0; /* a group has no account, so no home */
        home_hrefs(x, k, v);
        return 1;
    }
    if (cal && r->t == DR_PRINCIPAL)
        return dav_schedule_principal_prop(x, name, v); /* RFC 6638 §2.1, §2.4.1 */
    if (cal && r->t == DR_GROUP &&
        (strcmp(name, "calendar-user-type") == 0 || strcmp(name, "calendar-user-address-set") == 0))
        return dav_principal_directory_prop(x, r, ns, name, v); /* RFC 6638 §2.4.1, §2.4.2 */
    if (cal && r->t == DR_OBJ && strcmp(name, "schedule-tag") == 0) {
        char tag[48]; /* RFC 6638 §3.2.10 */
        if (!r->obj)
            r->obj = store_object_get(x->c, r->acct->account_id, r->k->obj_type, r->obj_id);
        if (!dav_schedule_tag(x, r, r->obj, tag))
            return 0;
        dav_xml_text(v, tag);
        return 1;
    }
    /* ical-tasks-17 §8.1: the TASK-MODE values the server implements, on the calendar
     * home and on calendar collections of tasks (protected, not in allprop) */
    if (cal && strcmp(name, "supported-task-mode-set") == 0 &&
        (r->t == DR_HOME || (r->t == DR_COLL && strcmp(k->component, "VTODO") == 0))) {
        for (const char *const *m = task_modes; *m; m++)
            buf_printf(v, "<C:supported-task-mode>%s</C:supported-task-mode>", *m);
        return 1;
    }
    if (r->t != DR_COLL || r->k != k)
        return 0;
    if (strcmp(name, k->description) == 0) {
        const char *d = json_string_value(json_object_get(r->coll, "description"));
        if (!d)
            return 0;
        dav_xml_text(v, d);
        return 1;
    }
    if (strcmp(name, "supported-collation-set") == 0) {
        dav_filter_collation_set(v, cal ? "C" : "CR"); /* RFC 4791 §7.5.1, RFC 6352 §8.3.1 */
        return 1;
    }
    if (strcmp(name, "max-resource-size") == 0) {
        buf_printf(v, "%d", DAV_MAX_RESOURCE);
        return 1;
    }
    if (cal && strcmp(name, "supported-calendar-component-set") == 0) {
        buf_printf(v, "<C:comp name=\"%s\"/>", k->component); /* calendar or task list */
        return 1;
    }
    if (cal && strcmp(name, "calendar-timezone-id") == 0) { /* RFC 7809 §5.2 */
        const char *tz = json_string_value(json_object_get(r->coll, "timeZone"));
        if (!tz)
            return 0;
        dav_xml_text(v, tz);
        return 1;
    }
    if (cal && (strcmp(name, "min-date-time") == 0 || strcmp(name, "max-date-time") == 0)) {
        buf_puts(v, name[1] == 'i' ? DAV_MIN_DATE : DAV_MAX_DATE); /* RFC 4791 §5.2.6-7 */
        return 1;
    }
    if (cal && strcmp(name, "supported-calendar-data") == 0) {
        buf_puts(v, "<C:calendar-data content-type=\"text/calendar\" version=\"2.0\"/>");
        return 1;
    }
    if (!cal && strcmp(name, "supported-address-data") == 0) {
        buf_puts(v, "<CR:address-data-type content-type=\"text/vcard\" version=\"3.0\"/>"
                    "<CR:address-data-type content-type=\"text/vcard\" version=\"4.0\"/>");
        return 1;
    }
    return 0;
}

static int prop_value(struct dav_ctx *x, struct dav_res *r, const char *ns, const char *name,
                      struct buf *v)
{
    if (r->reserved && strcmp(ns, NS_DAV) != 0)
        return 0;
    if (r->t == DR_OTHER)
        return dav_principal_other_prop(x, r, ns, name, v);
    if (r->t == DR_PRINCIPAL && strcmp(ns, NS_CS) == 0 && strcmp(name, "email-address-set") == 0)
        return dav_principal_directory_prop(x, r, ns, name, v);
    if (r->freebusy_only && (strcmp(name, "getetag") == 0 || strcmp(name, "getctag") == 0 ||
                             strcmp(name, "sync-token") == 0))
        return 0; /* its changes are not the user's to follow (dav_shared.c) */
    if (strcmp(ns, NS_DAV) == 0)
        return prop_dav(x, r, name, v);
    if (strcmp(ns, NS_CALDAV) == 0 || strcmp(ns, NS_CARDDAV) == 0)
        return prop_groupware(x, r, ns, name, v);
    if (strcmp(ns, NS_CS) == 0 && strcmp(name, "getctag") == 0 && r->t == DR_COLL) {
        coll_tag(x, r, v); /* Apple's collection tag, still read by clients */
        return 1;
    }
    if (strcmp(ns, NS_APPLE) == 0 && strcmp(name, "calendar-color") == 0 && r->t == DR_COLL) {
        const char *c = json_string_value(json_object_get(r->coll, "color"));
        if (!c)
            return 0;
        dav_xml_text(v, c);
        return 1;
    }
    return 0;
}

/* The properties allprop and propname list (RFC 4918 §9.1: the live properties of
 * RFC 4918 a resource has; not DAV:sync-token, RFC 6578 §4, nor
 * DAV:current-user-principal, RFC 5397 §3, which SHOULD NOT be). */
static const char *const allprops[][2] = {
    {NS_DAV, "resourcetype"},
    {NS_DAV, "displayname"},
    {NS_DAV, "getetag"},
    {NS_DAV, "getcontenttype"},
    {NS_DAV, "getcontentlength"},
    {NS_DAV, "supportedlock"},
    {NS_DAV, "lockdiscovery"},
    {NS_CALDAV, "calendar-description"},
    {NS_CARDDAV, "addressbook-description"},
    {NS_CS, "getctag"},
    {NS_APPLE, "calendar-color"},
};

static bool in_allprop(const char *ns, const char *name)
{
    for (size_t i = 0; i < sizeof allprops / sizeof allprops[0]; i++)
        if (strcmp(allprops[i][0], ns) == 0 && strcmp(allprops[i][1], name) == 0)
            return true;
    return false;
}

void dav_status_response(struct buf *b, const char *href, int status)
{
    buf_puts(b, "<D:response><D:href>");
    dav_xml_text(b, href); /* as the client wrote it, or as dav_res_href made it */
    buf_printf(b, "</D:href><D:status>HTTP/1.1 %d %s</D:status></D:response>", status,
               status == 404   ? "Not Found"
               : status == 403 ? "Forbidden"
                               : "Error");
}

/* One propstat: the properties of one status, or nothing when there are none. */
static void propstat(struct buf *b, struct buf *props, const char *status)
{
    if (!props->len)
        return;
    buf_puts(b, "<D:propstat><D:prop>");
    buf_append(b, props->data, props->len);
    buf_puts(b, "</D:prop><D:status>HTTP/1.1 ");
    buf_puts(b, status);
    buf_puts(b, "</D:status></D:propstat>");
}

/* One property into ok, or into missing (not there) or forbidden (RFC 3744 §5.5: the
 * user may not read it; missing when forbidden is NULL). Its value is written straight
 * into ok (a calendar-data of a multiget is kilobytes: no copy of it on the way), taken
 * back when there is none. */
static void one_prop(struct dav_ctx *x, struct dav_res *r, const char *ns, const char *name,
                     bool names_only, struct buf *ok, struct buf *missing, struct buf *forbidden)
{
    size_t mark = ok->len;
    dav_prop_open(ok, ns, name, false);
    size_t at = ok->len;
    int got = prop_value(x, r, ns, name, ok);
    bool refused = got < 0 && forbidden && !names_only;
    if (got && !refused && !names_only && ok->len > at) {
        dav_prop_close(ok, ns, name);
        return;
    }
    ok->len = mark; /* no value to show: the open tag goes too */
    ok->data[mark] = 0;
    if (refused)
        dav_prop_open(forbidden, ns, name, true);
    else if (got)
        dav_prop_open(ok, ns, name, true);
    else if (missing)
        dav_prop_open(missing, ns, name, true);
}

/* Whether prop asks for the ETag alone (a sync-collection or a listing's usual question). */
static bool etag_only(const xmlNode *prop)
{
    if (!prop || !dav_xml_is(prop, NS_DAV, "prop"))
        return false;
    const xmlNode *p = dav_xml_child(prop, NULL, NULL);
    return p && dav_xml_is(p, NS_DAV, "getetag") && !dav_xml_next((xmlNode *)p);
}

void dav_propstats(struct dav_ctx *x, struct dav_res *r, const xmlNode *prop, struct buf *b)
{
    if (r->t == DR_OBJ && r->modseq > 0 && etag_only(prop)) {
        /* one member of a listing of thousands: written in one go */
        buf_puts(b, "<D:response><D:href>");
        dav_res_href(x, r, b);
        buf_puts(b, "</D:href><D:propstat><D:prop><D:getetag>");
        etag_write(b, r->modseq);
        buf_puts(b, "</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>"
                    "</D:response>");
        return;
    }
    struct buf missing = {0}, forbidden = {0};
    buf_puts(b, "<D:response><D:href>");
    dav_res_href(x, r, b);
    buf_puts(b, "</D:href>");
    /* the 200 propstat is written in place (one_prop), and taken back when empty */
    size_t mark = b->len;
    buf_puts(b, "<D:propstat><D:prop>");
    size_t first = b->len;
    if (prop && dav_xml_is(prop, NS_DAV, "prop")) {
        for (xmlNode *p = dav_xml_child(prop, NULL, NULL); p; p = dav_xml_next(p))
            if (p->ns && p->ns->href)
                one_prop(x, r, (const char *)p->ns->href, (const char *)p->name, false, b, &missing,
                         &forbidden);
    } else {
        bool names = prop && dav_xml_is(prop, NS_DAV, "propname");
        for (size_t i = 0; i < sizeof allprops / sizeof allprops[0]; i++)
            one_prop(x, r, allprops[i][0], allprops[i][1], names, b, NULL, NULL);
        /* RFC 4918 §9.1, §14.8: allprop with include answers those too */
        xmlNode *inc =
            prop && dav_xml_is(prop, NS_DAV, "allprop") ? dav_xml_next((xmlNode *)prop) : NULL;
        for (xmlNode *p = inc && dav_xml_is(inc, NS_DAV, "include") ? dav_xml_child(inc, NULL, NULL)
                                                                    : NULL;
             p; p = dav_xml_next(p))
            if (p->ns && p->ns->href &&
                !in_allprop((const char *)p->ns->href, (const char *)p->name))
                one_prop(x, r, (const char *)p->ns->href, (const char *)p->name, false, b, &missing,
                         &forbidden);
    }
    if (b->len == first) {
        b->len = mark;
        b->data[mark] = 0;
    } else {
        buf_puts(b, "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>");
    }
    propstat(b, &forbidden, "403 Forbidden");
    propstat(b, &missing, "404 Not Found");
    buf_puts(b, "</D:response>");
    buf_free(&missing);
    buf_free(&forbidden);
}

/* ---- listings of a collection's members -------------------------------------------------- */

struct etag_list {
    struct buf *b;
    const struct buf *prefix; /* the collection's href */
};

#define PUT(p, s) (memcpy(p, s, sizeof s - 1), (p) + sizeof s - 1)

/* One member's response to the ETag-only question (as dav_propstats writes it), in one
 * piece: a listing writes 10,000 of them (five appends each were a third of its
 * instructions). */
static void etag_member(const char *id, const char *href, int64_t modseq, void *ud)
{
    (void)id;
    struct etag_list *l = ud;
    static const char head[] = "<D:response><D:href>",
                      mid[] = "</D:href><D:propstat><D:prop><D:getetag>\"",
                      tail[] = "\"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status>"
                               "</D:propstat></D:response>";
    size_t n = strlen(href);
    char *p = buf_room(l->b, sizeof head + l->prefix->len + n + sizeof mid + 21 + sizeof tail);
    char *start = p;
    p = PUT(p, head);
    memcpy(p, l->prefix->data, l->prefix->len);
    p += l->prefix->len;
    memcpy(p, href, n);
    p = PUT(p + n, mid);
    p += dav_digits(p, modseq > 0 ? (uint64_t)modseq : 0);
    p = PUT(p, tail);
    l->b->len += (size_t)(p - start);
    *p = 0;
}

void dav_list_members(struct dav_ctx *x, struct dav_res *r, const xmlNode *prop, struct buf *b)
{
    if (r->t == DR_COLL && !r->shared && etag_only(prop)) {
        struct buf prefix = {0};
        dav_res_href(x, r, &prefix);
        struct etag_list l = {b, &prefix};
        dav_members_each(x, r, etag_member, &l);
        buf_free(&prefix);
        return;
    }
    json_t *ids = dav_member_ids(x, r);
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        struct dav_res child;
        dav_child(x, r, json_string_value(id), &child);
        dav_propstats(x, &child, prop, b);
        dav_res_clear(&child);
    }
    json_decref(ids);
}

/* ---- PROPFIND (RFC 4918 §9.1) ------------------------------------------------------------ */

struct members {
    const struct dav_kind *k;
    const char *coll_id;
    json_t *ids;
};

static int member_cb(const char *id, json_t *obj, void *ud)
{
    struct members *m = ud;
    if (!m->coll_id || dav_is_member(m->k, obj, m->coll_id))
        json_array_append_new(m->ids, json_string(id));
    return 0;
}

/* The ids of a home's collections (coll_id NULL) or of a collection's members; for
 * members also the modseqs and chosen names of the type (dav_members.c), so a
 * listing of 10,000 members costs no query per member. */
/* The ids of shared collection r's members the user may see (a new array; ids taken). */
static json_t *visible_only(struct dav_ctx *x, const struct dav_res *r, json_t *ids)
{
    json_t *out = json_array();
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        json_t *obj = dav_member_load(x, r, json_string_value(id));
        if (obj && dav_is_member(r->k, obj, r->coll_id))
            json_array_append(out, id);
        json_decref(obj);
    }
    json_decref(ids);
    return out;
}

json_t *dav_member_ids(struct dav_ctx *x, const struct dav_res *r)
{
    const char *a = r->acct->account_id;
    bool home = r->t == DR_HOME;
    if (!home && store_object_count(x->c, a, r->k->coll_type) == 1) {
        /* the account's only collection of its type holds every member (each names
         * at least one existing collection): no member needs to be read */
        dav_member_index(x, r, false);
        json_t *ids = json_array();
        const char *id;
        json_t *v;
        json_object_foreach(x->modseqs, id, v) json_array_append_new(ids, json_string(id));
        return r->shared ? visible_only(x, r, ids) : ids;
    }
    if (!home) { /* several collections: the membership map, not every object */
        json_t *ids = dav_members_of(x, r);
        return r->shared ? visible_only(x, r, ids) : ids;
    }
    struct members m = {r->k, NULL, json_array()};
    store_object_foreach(x->c, a, r->k->coll_type, member_cb, &m);
    if (r->k == &dav_calendars) /* task lists share the calendar home */
        store_object_foreach(x->c, a, dav_tasklists.coll_type, member_cb, &m);
    return m.ids;
}

/* Fills child (a collection of home, or a member of collection r) for id. */
void dav_child(struct dav_ctx *x, const struct dav_res *r, const char *id, struct dav_res *child)
{
    memset(child, 0, sizeof *child);
    child->k = r->k;
    child->acct = r->acct;
    child->home = r->home;
    child->shared = r->shared;
    child->shared_write = r->shared_write;
    child->rights = r->rights;
    const char *a = r->acct->account_id;
    if (r->t == DR_HOME) {
        child->t = DR_COLL;
        if (r->k == &dav_calendars && !store_object_exists(x->c, a, r->k->coll_type, id))
            child->k = &dav_tasklists;
        snprintf(child->coll_id, sizeof child->coll_id, "%s", id);
        dav_name_of(x->c, a, child->k->coll_type, id, "", child->coll_seg);
        child->coll = store_object_get(x->c, a, child->k->coll_type, id);
        return;
    }
    child->t = DR_OBJ;
    memcpy(child->coll_id, r->coll_id, sizeof child->coll_id);
    memcpy(child->coll_seg, r->coll_seg, sizeof child->coll_seg);
    size_t idn = strlen(id);
    if (idn < sizeof child->obj_id)
        memcpy(child->obj_id, id, idn + 1);
    json_t *ms = json_object_get(x->modseqs, id);
    if (ms) { /* from the member index: no store read (and no printf: once per member) */
        const char *name = json_string_value(json_object_get(x->names, id));
        size_t n = strlen(name ? name : id), e = name ? 0 : strlen(r->k->ext);
        if (n + e < sizeof child->name) {
            memcpy(child->name, name ? name : id, n);
            memcpy(child->name + n, r->k->ext, e);
            child->name[n + e] = 0;
        }
        child->modseq = json_integer_value(ms);
        return;
    }
    dav_name_of(x->c, a, r->k->obj_type, id, r->k->ext, child->name);
    child->modseq = store_object_modseq(x->c, a, r->k->obj_type, id);
}

static void propfind(struct dav_ctx *x, struct dav_res *r)
{
    const char *depth = x->q->depth;
    if (!depth || strcasecmp(depth, "infinity") == 0) {
        /* RFC 4918 §9.1.1: a server may refuse Depth: infinity */
        dav_error(x, 403, NS_DAV, "propfind-finite-depth", NULL);
        return;
    }
    if (strcmp(depth, "0") != 0 && strcmp(depth, "1") != 0) {
        dav_error(x, 400, NULL, NULL, NULL);
        return;
    }
    xmlDoc *d = NULL;
    const xmlNode *what = NULL;
    if (x->q->len) { /* an empty body is allprop (§9.1) */
        const char *why;
        if (!(d = dav_xml_parse(x->q->body, x->q->len, &why))) {
            dav_reply(x, 400, "text/plain", xstrdup(why));
            return;
        }
        xmlNode *root = xmlDocGetRootElement(d);
        if (!dav_xml_is(root, NS_DAV, "propfind") || !(what = dav_xml_child(root, NULL, NULL))) {
            xmlFreeDoc(d);
            dav_reply(x, 400, "text/plain", xstrdup("the body is no DAV:propfind"));
            return;
        }
    }
    struct buf b = {0};
    dav_ms_begin(&b);
    dav_propstats(x, r, what, &b);
    if (depth[0] == '1' && !r->reserved &&
        (r->t == DR_HOME || (r->t == DR_COLL && !r->freebusy_only))) {
        dav_list_members(x, r, what, &b);
        dav_lock_list_reserved(x, r, what, &b); /* RFC 4918 §9.10.4 (see dav_lock.c) */
        if (r->t == DR_HOME)
            dav_shared_list(x, r, what, &b); /* what others share with the user */
    } else if (depth[0] == '1' && r->t == DR_PRINCIPALS) {
        dav_principal_list(x, what, &b); /* the user's own and their groups' */
    }
    dav_ms_end(&b);
    xmlFreeDoc(d);
    dav_reply_xml(x, 207, &b);
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static bool is_write(const char *m)
{
    return strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0 || strcmp(m, "PROPPATCH") == 0 ||
           strcmp(m, "MKCALENDAR") == 0 || strcmp(m, "MKCOL") == 0 || strcmp(m, "COPY") == 0 ||
           strcmp(m, "MOVE") == 0 || strcmp(m, "LOCK") == 0;
}

/* A member or collection URL that names nothing: 404, but RFC 4918 §9.10.4's empty
 * resource where a LOCK reserved it (dav_lock.c) for GET, HEAD, PROPFIND and DELETE (whose
 * lock check already asked for the token; dav_handle then drops the lock). True when
 * answered. */
static bool unmapped(struct dav_ctx *x, struct dav_res *r)
{
    const char *m = x->q->method;
    bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    bool asks = get || strcmp(m, "PROPFIND") == 0 || strcmp(m, "DELETE") == 0;
    bool missing = r->t == DR_OBJ ? !r->obj : r->t == DR_COLL && !r->coll;
    if (!missing || !asks)
        return false;
    if (!(r->reserved = dav_lock_reserved(x, r))) {
        dav_reply(x, 404, "text/plain", xstrdup("not found\n"));
        return true;
    }
    if (get || m[0] == 'D')
        dav_reply(x, 204, NULL, NULL);
    return get || m[0] == 'D';
}

static void dispatch(struct dav_ctx *x, struct dav_res *r)
{
    const char *m = x->q->method;
    if (r->freebusy_only &&
        (r->t != DR_COLL || (strcmp(m, "PROPFIND") != 0 && strcmp(m, "REPORT") != 0))) {
        /* shared for free/busy alone (dav_shared.c): no member, no body (RFC 3744 §7.2) */
        dav_need_privilege(x, r, false, NS_DAV, "read");
        return;
    }
    if (r->t == DR_OTHER && strcmp(m, "PROPFIND") != 0 && strcmp(m, "REPORT") != 0 &&
        strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
        /* another's principal is the directory's to change, not the user's (RFC 3744 §3.3:
         * write-properties on it is not granted; §7.1.1) */
        dav_need_privilege(x, r, false, NS_DAV, strcmp(m, "ACL") == 0 ? "write-acl" : "write");
        return;
    }
    if (unmapped(x, r))
        return;
    if (strcmp(m, "PROPFIND") == 0)
        return propfind(x, r);
    if (strcmp(m, "REPORT") == 0)
        return dav_report(x, r);
    if (strcmp(m, "PROPPATCH") == 0)
        return dav_collection_proppatch(x, r);
    if (strcmp(m, "MKCALENDAR") == 0 || strcmp(m, "MKCOL") == 0)
        return dav_collection_make(x, r);
    if (r->t == DR_COLL && strcmp(m, "DELETE") == 0)
        return dav_collection_delete(x, r);
    if (r->t == DR_OBJ && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0))
        return dav_object_get(x, r, m[0] == 'H');
    if (r->t == DR_OBJ && strcmp(m, "PUT") == 0)
        return dav_object_put(x, r);
    if (r->t == DR_OBJ && strcmp(m, "DELETE") == 0)
        return dav_object_delete(x, r);
    if (r->t == DR_OBJ && (strcmp(m, "COPY") == 0 || strcmp(m, "MOVE") == 0))
        return dav_object_copy(x, r, m[0] == 'M'); /* RFC 4918 §9.8, §9.9 */
    if (strcmp(m, "LOCK") == 0 && r->t >= DR_COLL)
        return dav_lock(x, r); /* RFC 4918 §9.10 */
    if (strcmp(m, "UNLOCK") == 0 && r->t >= DR_COLL)
        return dav_unlock(x); /* §9.11 */
    if (strcmp(m, "ACL") == 0)
        return dav_acl(x, r); /* RFC 3744 §8.1 */
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) {
        /* a collection has no body of its own: a short note for browsers */
        dav_reply(x, r->t == DR_OBJ ? 404 : 200, "text/plain; charset=utf-8",
                  xstrdup("jmapd CalDAV/CardDAV collection\n"));
        return;
    }
    dav_reply(x, 405, "text/plain", xstrdup("method not allowed here\n"));
}

/* RFC 3744 §7.1.1 for a write the user may not make on r: the privilege §7.2 says the
 * method needs, on the resource it needs it on. */
static void need_write(struct dav_ctx *x, const struct dav_res *r)
{
    const char *m = x->q->method;
    if (strcmp(m, "PROPPATCH") == 0)
        dav_need_privilege(x, r, false, NS_DAV, "write-properties");
    else if (strcmp(m, "MKCALENDAR") == 0 || strcmp(m, "MKCOL") == 0)
        dav_need_privilege(x, r, true, NS_DAV, "bind");
    else if (r->t == DR_COLL && (strcmp(m, "DELETE") == 0 || strcmp(m, "MOVE") == 0))
        dav_need_privilege(x, r, false, NS_JMAPD, "remove-collection"); /* dav_acl.c */
    else if (strcmp(m, "DELETE") == 0 || strcmp(m, "MOVE") == 0)
        dav_need_privilege(x, r, true, NS_DAV, "unbind");
    else if (r->obj || r->t != DR_OBJ) /* PUT or LOCK of what exists */
        dav_need_privilege(x, r, false, NS_DAV, "write-content");
    else
        dav_need_privilege(x, r, true, NS_DAV, "bind");
}

/* The If header and the locks before a request on r (dav_lock.c), with r's ETag. */
static bool lock_ok(struct dav_ctx *x, const struct dav_res *r)
{
    struct buf tag = {0};
    if (r->t == DR_OBJ && r->modseq > 0)
        etag_write(&tag, r->modseq);
    buf_puts(&tag, "");
    bool ok = dav_lock_check(x, tag.data);
    buf_free(&tag);
    return ok;
}

void dav_handle(struct jmap_server *srv, const struct jmap_user *u, const struct dav_request *q,
                struct dav_response *out)
{
    memset(out, 0, sizeof *out);
    int64_t t0 = util_now_us();
    struct dav_ctx x = {.srv = srv, .u = u, .c = store_conn(srv->store), .q = q, .out = out};
    if (!x.c || store_begin(x.c, false) != STORE_OK) {
        dav_reply(&x, 503, "text/plain", xstrdup("database unavailable\n"));
        return;
    }
    struct dav_res r;
    int rc = 0;
    memset(&r, 0, sizeof r);
    if (q->too_large) {
        /* RFC 4791 §5.3.2.1 CALDAV:max-resource-size; other bodies: 413 */
        if (strcmp(q->method, "PUT") == 0 && res_resolve(&x, q->path, &r) == 0 && r.k)
            dav_error(&x, 403, r.k->ns, "max-resource-size", NULL);
        else
            dav_reply(&x, 413, "text/plain", xstrdup("the request body is too large\n"));
    } else if (dav_inbox_handle(&x, q->path)) {
        /* RFC 6638 §2.1-2.2: the scheduling inbox and outbox */
    } else if ((rc = res_resolve(&x, q->path, &r)) != 0) {
        dav_reply(&x, rc, "text/plain", xstrdup(rc == 400 ? "bad path\n" : "not found\n"));
    } else if (r.t == DR_OBJ && !r.coll) {
        /* RFC 4918 §9.7.1: a PUT into a missing collection is 409, and so is a LOCK,
         * which would create the resource as a PUT (§7.3) */
        bool creates = strcmp(q->method, "PUT") == 0 || strcmp(q->method, "LOCK") == 0;
        dav_reply(&x, creates ? 409 : 404, "text/plain", xstrdup("no such collection\n"));
    } else if (r.t == DR_COLL && !r.coll && strcmp(q->method, "MKCALENDAR") != 0 &&
               strcmp(q->method, "MKCOL") != 0 && strcmp(q->method, "LOCK") != 0 &&
               strcmp(q->method, "UNLOCK") != 0 && !dav_lock_reserved(&x, &r)) {
        dav_reply(&x, 404, "text/plain", xstrdup("not found\n"));
    } else if (is_write(q->method) && strcmp(q->method, "COPY") != 0 && /* dav_copy.c checks */
               (!r.acct || !(r.shared ? r.shared_write : r.acct->may_write))) {
        need_write(&x, &r); /* RFC 3744 §7.1.1 */
    } else if ((is_write(q->method) || !strcmp(q->method, "ACL") || q->if_header) &&
               !lock_ok(&x, &r)) {
        /* RFC 4918 §10.4 a false If header (412), §7 a lock not submitted (423); the ACL
         * method's own privilege (write-acl, not write) is dav_acl.c's to check */
    } else {
        dispatch(&x, &r);
        if (x.out->status / 100 == 2 &&
            (!strcmp(q->method, "DELETE") || !strcmp(q->method, "MOVE")))
            dav_lock_forget(&x, q->path); /* RFC 4918 §9.6, §9.9: its locks go with it */
    }
    store_rollback(x.c);
    dav_res_clear(&r);
    json_decref(x.modseqs);
    json_decref(x.names);
    json_decref(x.name_ids);
    json_decref(x.members);
    json_decref(x.instances);
    dav_locks_free(x.locks);
    dav_quick_note(q, (util_now_us() - t0) * 1000);
}
