/*
 * dav_collection.c — writes of collections: PROPPATCH of the properties a
 * calendar or address book holds (RFC 4918 §9.2: DAV:displayname, the
 * description, Apple's calendar-color), MKCALENDAR (RFC 4791 §5.3.1), extended
 * MKCOL (RFC 5689 §3) and DELETE, each as a JMAP Calendar/set or AddressBook/set.
 * The segment the client chose for a new collection is kept as its name.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dav/dav_internal.h"
#include "types/types.h"

/* The JMAP property and value for a DAV property; NULL if it cannot be set. A
 * NULL node is a remove. */
static const char *jmap_prop(const struct dav_kind *k, const xmlNode *p, json_t **value)
{
    char *text = p && p->children ? (char *)xmlNodeGetContent(p) : NULL;
    const char *name = NULL;
    *value = NULL;
    if (dav_xml_is(p, NS_DAV, "displayname")) {
        name = "name";
    } else if (dav_xml_is(p, k->ns, k->description)) {
        name = "description";
    } else if (k->calendar && dav_xml_is(p, NS_APPLE, "calendar-color")) {
        name = "color";
        /* Apple writes #RRGGBBAA; CSS takes #RRGGBB */
        if (text && text[0] == '#' && strlen(text) == 9)
            text[7] = 0;
    } else if (k->calendar && (dav_xml_is(p, NS_CALDAV, "calendar-timezone-id") ||
                               dav_xml_is(p, NS_CALDAV, "calendar-timezone"))) {
        /* RFC 7809 §5.2 the zone's id; RFC 4791 §5.2.2 a VTIMEZONE, of which the
         * TZID names the zone (an IANA name; others are refused) */
        name = "timeZone";
        if (text && dav_xml_is(p, NS_CALDAV, "calendar-timezone")) {
            char *tzid = strstr(text, "TZID:");
            size_t n = tzid ? strcspn(tzid + 5, "\r\n") : 0;
            memmove(text, tzid ? tzid + 5 : "", n);
            text[n] = 0;
        }
        if (text && !types_is_time_zone(text))
            name = NULL;
    }
    if (name)
        *value = text ? json_string(text) : json_null();
    if (name && !strcmp(name, "name") && !text) {
        json_decref(*value); /* a calendar always has a name */
        *value = NULL;
        name = NULL;
    }
    xmlFree(text);
    return name;
}

/* Collects the set/remove of a propertyupdate (or of mkcol/mkcalendar's set)
 * into patch; the DAV properties that cannot be set go to refused, the others to
 * taken (when not NULL). */
static void collect_props(const struct dav_kind *k, xmlNode *update, json_t *patch,
                          struct buf *refused, struct buf *taken, bool allow_type)
{
    for (xmlNode *op = dav_xml_child(update, NULL, NULL); op; op = dav_xml_next(op)) {
        bool remove = dav_xml_is(op, NS_DAV, "remove");
        if (!remove && !dav_xml_is(op, NS_DAV, "set"))
            continue;
        xmlNode *prop = dav_xml_child(op, NS_DAV, "prop");
        for (xmlNode *p = dav_xml_child(prop, NULL, NULL); p; p = dav_xml_next(p)) {
            json_t *v;
            const char *name = jmap_prop(k, p, &v);
            if (name && remove) { /* a removed description or colour is null; a name stays */
                json_decref(v);
                v = strcmp(name, "name") != 0 ? json_null() : NULL;
            }
            bool ns = p->ns && p->ns->href;
            if (name && v) {
                json_object_set_new(patch, name, v);
                if (taken && ns)
                    dav_prop_open(taken, (const char *)p->ns->href, (const char *)p->name, true);
                continue;
            }
            json_decref(v);
            if (allow_type && (dav_xml_is(p, NS_DAV, "resourcetype") ||
                               dav_xml_is(p, NS_CALDAV, "supported-calendar-component-set")))
                continue; /* checked by the caller */
            if (ns)
                dav_prop_open(refused, (const char *)p->ns->href, (const char *)p->name, true);
        }
    }
}

/* The multistatus of a PROPPATCH (RFC 4918 §9.2): all or nothing. The properties that
 * cannot be set are 403 (§9.2.1: cannot-modify-protected-property), each of the others
 * once with the one status of the rest: 424 Failed Dependency when some were refused,
 * else 200 or, when the update failed, 403. */
static char *proppatch_status(struct dav_ctx *x, struct dav_res *r, int ok, struct buf *taken,
                              struct buf *refused)
{
    struct buf b = {0};
    dav_ms_begin(&b);
    buf_puts(&b, "<D:response><D:href>");
    dav_res_href(x, r, &b);
    buf_puts(&b, "</D:href>");
    if (refused->len) {
        buf_puts(&b, "<D:propstat><D:prop>");
        buf_append(&b, refused->data, refused->len);
        buf_puts(&b, "</D:prop><D:status>HTTP/1.1 403 Forbidden</D:status><D:error>"
                     "<D:cannot-modify-protected-property/></D:error></D:propstat>");
    }
    if (taken->len) {
        buf_puts(&b, "<D:propstat><D:prop>");
        buf_append(&b, taken->data, taken->len);
        buf_printf(&b, "</D:prop><D:status>HTTP/1.1 %s</D:status></D:propstat>",
                   ok == 200   ? "200 OK"
                   : ok == 424 ? "424 Failed Dependency"
                               : "403 Forbidden");
    }
    buf_puts(&b, "</D:response>");
    dav_ms_end(&b);
    return buf_take(&b);
}

static bool set_collection(struct dav_ctx *x, const struct dav_kind *k, const char *acct,
                           const char *op, const char *id, json_t *value, char out_id[64])
{
    char method[64];
    snprintf(method, sizeof method, "%s/set", k->coll_type);
    json_t *args = json_pack("{s:s, s:{s:O}}", "accountId", acct, op, id, value);
    json_t *res = dav_jmap_call(x, k, method, args);
    json_decref(args);
    const char *done = strcmp(op, "create") == 0 ? "created" : "updated";
    bool ok = res && json_object_get(json_object_get(res, done), id);
    if (ok && out_id)
        snprintf(out_id, 64, "%s",
                 json_string_value(
                     json_object_get(json_object_get(json_object_get(res, done), id), "id")));
    json_decref(res);
    return ok;
}

void dav_collection_proppatch(struct dav_ctx *x, struct dav_res *r)
{
    if (r->t != DR_COLL) {
        dav_error(x, 403, NS_DAV, "cannot-modify-protected-property", NULL);
        return;
    }
    if (!r->coll) {
        dav_reply(x, 404, "text/plain", xstrdup("not found\n"));
        return;
    }
    const char *why;
    xmlDoc *d = dav_xml_parse(x->q->body, x->q->len, &why);
    xmlNode *root = d ? xmlDocGetRootElement(d) : NULL;
    if (!dav_xml_is(root, NS_DAV, "propertyupdate")) {
        xmlFreeDoc(d);
        dav_reply(x, 400, "text/plain", xstrdup(d ? "the body is no DAV:propertyupdate" : why));
        return;
    }
    json_t *patch = json_object();
    struct buf refused = {0}, taken = {0};
    collect_props(r->k, root, patch, &refused, &taken, false);
    int status = refused.len ? 424 : 200;
    if (!refused.len && json_object_size(patch) &&
        !set_collection(x, r->k, r->acct->account_id, "update", r->coll_id, patch, NULL))
        status = 403;
    dav_reply(x, 207, "application/xml; charset=utf-8",
              proppatch_status(x, r, status, &taken, &refused));
    buf_free(&refused);
    buf_free(&taken);
    json_decref(patch);
    xmlFreeDoc(d);
}

/* The kind a MKCALENDAR or MKCOL in the calendar home asks for by its
 * supported-calendar-component-set (RFC 4791 §5.2.3): a task list for VTODO alone,
 * else a calendar; NULL for a set without VEVENT or VTODO. */
static const struct dav_kind *component_kind(const struct dav_kind *k, xmlNode *root)
{
    if (!k->calendar)
        return k;
    for (xmlNode *op = dav_xml_child(root, NS_DAV, "set"); op; op = dav_xml_next(op)) {
        xmlNode *set = dav_xml_child(dav_xml_child(op, NS_DAV, "prop"), NS_CALDAV,
                                     "supported-calendar-component-set");
        if (!set)
            continue;
        bool event = false, todo = false;
        for (xmlNode *c = dav_xml_child(set, NS_CALDAV, "comp"); c; c = dav_xml_next(c)) {
            xmlChar *name = xmlGetProp(c, (const xmlChar *)"name");
            event |= name && strcmp((const char *)name, "VEVENT") == 0;
            todo |= name && strcmp((const char *)name, "VTODO") == 0;
            xmlFree(name);
        }
        return event ? &dav_calendars : todo ? &dav_tasklists : NULL;
    }
    return k;
}

/* Which kind an extended MKCOL asks for (RFC 5689 §3): its resourcetype. */
static bool mkcol_type_ok(const struct dav_kind *k, xmlNode *root)
{
    for (xmlNode *op = dav_xml_child(root, NS_DAV, "set"); op; op = dav_xml_next(op)) {
        xmlNode *rt = dav_xml_child(dav_xml_child(op, NS_DAV, "prop"), NS_DAV, "resourcetype");
        if (rt)
            return dav_xml_child(rt, k->ns, k->calendar ? "calendar" : "addressbook") != NULL;
    }
    return true; /* no resourcetype: a collection of the home's kind */
}

void dav_collection_make(struct dav_ctx *x, struct dav_res *r)
{
    bool mkcal = strcmp(x->q->method, "MKCALENDAR") == 0;
    if (r->t != DR_COLL || (mkcal && !r->k->calendar)) {
        dav_error(x, 403, NS_DAV, "resource-must-be-null", NULL);
        return;
    }
    if (r->coll) { /* RFC 4918 §9.3.1, RFC 4791 §5.3.1.2 */
        dav_error(x, 405, NS_DAV, "resource-must-be-null", NULL);
        return;
    }
    xmlDoc *d = NULL;
    xmlNode *root = NULL;
    json_t *obj = json_pack("{s:s}", "name", r->coll_seg);
    struct buf refused = {0};
    if (x->q->len) {
        const char *why;
        d = dav_xml_parse(x->q->body, x->q->len, &why);
        root = d ? xmlDocGetRootElement(d) : NULL;
        if (!root ||
            !dav_xml_is(root, mkcal ? NS_CALDAV : NS_DAV, mkcal ? "mkcalendar" : "mkcol")) {
            dav_reply(x, 400, "text/plain", xstrdup(d ? "unexpected body" : why));
            goto done;
        }
        if (!mkcal && !mkcol_type_ok(r->k, root)) {
            dav_error(x, 403, NS_DAV, "valid-resourcetype", NULL);
            goto done;
        }
        if (!(r->k = component_kind(r->k, root))) {
            r->k = &dav_calendars;
            dav_error(x, 403, NS_CALDAV, "supported-calendar-component", NULL);
            goto done;
        }
        collect_props(r->k, root, obj, &refused, NULL, true);
    }
    char id[64] = "";
    struct dav_name_hook hook = {0};
    if (!refused.len) /* the chosen name commits with the collection (issue 20 §4) */
        dav_name_arm(&hook, r->k->coll_type, r->coll_seg);
    bool made =
        !refused.len && set_collection(x, r->k, r->acct->account_id, "create", "dav", obj, id);
    dav_name_disarm();
    if (refused.len) {
        dav_error(x, 403, NS_DAV, "cannot-modify-protected-property", NULL);
    } else if (!made) {
        dav_need_privilege(x, r, true, NS_DAV, "bind");
    } else {
        if (!hook.written &&
            dav_name_remember(x->c, r->acct->account_id, r->k->coll_type, r->coll_seg, id))
            log_warn("dav: the name %s of %s could not be kept", r->coll_seg, id);
        dav_reply(x, 201, NULL, NULL);
    }
done:
    buf_free(&refused);
    json_decref(obj);
    xmlFreeDoc(d);
}

void dav_collection_delete(struct dav_ctx *x, struct dav_res *r)
{
    if (!r->coll) {
        dav_reply(x, 404, "text/plain", xstrdup("not found\n"));
        return;
    }
    char method[64];
    snprintf(method, sizeof method, "%s/set", r->k->coll_type);
    json_t *args = json_pack("{s:s, s:[s], s:b}", "accountId", r->acct->account_id, "destroy",
                             r->coll_id, r->k->destroy_arg, 1);
    json_t *res = dav_jmap_call(x, r->k, method, args);
    json_decref(args);
    json_t *err = json_object_get(json_object_get(res, "notDestroyed"), r->coll_id);
    if (!res || err)
        dav_need_privilege(x, r, false, NS_JMAPD, "remove-collection");
    else
        dav_reply(x, 204, NULL, NULL);
    json_decref(res);
}
