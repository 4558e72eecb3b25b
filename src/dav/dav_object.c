/*
 * dav_object.c — member resources: an event as an iCalendar object resource
 * (RFC 4791 §4.1), a card as a vCard object resource (RFC 6352 §5.1). GET renders
 * the stored JMAP object through formats/; PUT converts the body the other way
 * and stores it with a real JMAP /set (validation, state bump, push: DESIGN.md
 * §1), so what JMAP refuses DAV refuses, with the precondition that names why
 * (RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1). The ETag is the object's modseq: it
 * changes exactly when the object does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dav/dav_internal.h"
#include "formats/icalendar_jscalendar/ical.h"
#include "formats/jscontact/jscontact.h"
#include "types/calendar_event.h"
#include "types/contacts_internal.h"
#include "types/tasks.h"
#include "types/types.h"

/* JMAP properties that are no part of the resource's body. */
static const char *const event_jmap_only[] = {"id",       "baseEventId", "calendarIds", "isDraft",
                                              "isOrigin", "utcStart",    "utcEnd",      NULL};
static const char *const task_jmap_only[] = {
    "id",     "taskListId", "isDraft",        "isOrigin",   "utcStart",
    "utcDue", "sortOrder",  "workflowStatus", "baseTaskId", NULL};
static const char *const card_jmap_only[] = {"id", "addressBookIds", NULL};

const struct dav_kind dav_calendars = {
    .home = "calendars",
    .coll_type = "Calendar",
    .obj_type = "CalendarEvent",
    .member = "calendarIds",
    .ext = ".ics",
    .mime = "text/calendar; charset=utf-8",
    .capability = JMAP_CALENDARS,
    .ns = NS_CALDAV,
    .data_elem = "calendar-data",
    .valid_data = "valid-calendar-data",
    .description = "calendar-description",
    .destroy_arg = "onDestroyRemoveEvents",
    .jscal_type = "Event",
    .component = "VEVENT",
    .jmap_only = event_jmap_only,
    .calendar = true,
};

const struct dav_kind dav_tasklists = {
    .home = "calendars",
    .coll_type = "TaskList",
    .obj_type = "Task",
    .member = "taskListId",
    .ext = ".ics",
    .mime = "text/calendar; charset=utf-8",
    .capability = JMAP_TASKS,
    .ns = NS_CALDAV,
    .data_elem = "calendar-data",
    .valid_data = "valid-calendar-data",
    .description = "calendar-description",
    .destroy_arg = "onDestroyRemoveTasks",
    .jscal_type = "Task",
    .component = "VTODO",
    .jmap_only = task_jmap_only,
    .calendar = true,
    .single_member = true,
};

const struct dav_kind dav_addressbooks = {
    .home = "addressbooks",
    .coll_type = "AddressBook",
    .obj_type = "ContactCard",
    .member = "addressBookIds",
    .ext = ".vcf",
    .mime = "text/vcard; charset=utf-8",
    .capability = JMAP_CONTACTS,
    .ns = NS_CARDDAV,
    .data_elem = "address-data",
    .valid_data = "valid-address-data",
    .description = "addressbook-description",
    .destroy_arg = "onDestroyRemoveContents",
    .jmap_only = card_jmap_only,
    .calendar = false,
};

static bool in_list(const char *const *l, const char *s)
{
    for (; *l; l++)
        if (strcmp(*l, s) == 0)
            return true;
    return false;
}

/* ---- the JMAP write path ------------------------------------------------------------------ */

json_t *dav_jmap_call(struct dav_ctx *x, const struct dav_kind *k, const char *method, json_t *args)
{
    store_rollback(x->c); /* the API request runs its own transactions on this connection */
    json_t *req = json_pack("{s:[s,s], s:[[s,O,s]]}", "using", "urn:ietf:params:jmap:core",
                            k->capability, "methodCalls", method, args, "dav");
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    struct jmap_result res = {0};
    jmap_api_handle(x->srv, x->u, body, strlen(body), &res);
    free(body);
    json_t *resp = res.body && !res.problem ? json_loads(res.body, 0, NULL) : NULL;
    free(res.body);
    json_t *call = json_array_get(json_object_get(resp, "methodResponses"), 0);
    json_t *out = json_incref(json_array_get(call, 1));
    if (out && strcmp(json_string_value(json_array_get(call, 0)), "error") == 0) {
        log_warn("dav: %s refused: %s", method,
                 json_string_value(json_object_get(out, "description")));
        json_decref(out);
        out = NULL;
    }
    json_decref(resp);
    store_begin(x->c, false); /* back to reading, now with the write visible */
    return out;
}

/* ---- rendering ------------------------------------------------------------------------------ */

bool dav_zones_by_reference(const struct dav_ctx *x)
{
    /* RFC 7809 §7.1: "T" or "F"; §3.1.2: without the header the server decides, and
     * jmapd sends the VTIMEZONEs RFC 5545 §3.6.5 asks for (clients without RFC 7809) */
    const char *h = x->q->caldav_timezones;
    return h && (strcmp(h, "F") == 0 || strcmp(h, "f") == 0);
}

ical_writer *dav_ical_writer(const struct dav_ctx *x, const char *method)
{
    ical_writer *w = ical_writer_new(NULL, method);
    if (dav_zones_by_reference(x))
        ical_writer_zones_by_reference(w);
    return w;
}

char *dav_object_render(struct dav_ctx *x, const struct dav_res *r, json_t *obj, bool vcard3)
{
    char *err = NULL, *text = NULL;
    json_t *plain;
    if (r->k->calendar) {
        plain = json_copy(obj);
        for (const char *const *p = r->k->jmap_only; *p; p++)
            json_object_del(plain, *p);
        ical_writer *w = dav_ical_writer(x, NULL);
        struct buf b = {0};
        char *s = ical_writer_begin(w);
        buf_puts(&b, s ? s : "");
        free(s);
        if ((s = ical_writer_add(w, plain, &err))) {
            buf_puts(&b, s);
            free(s);
            s = ical_writer_end(w);
            buf_puts(&b, s ? s : "");
            free(s);
            text = buf_take(&b);
        } else {
            buf_free(&b);
        }
        ical_writer_free(w);
    } else {
        plain = contact_card_to_jscontact(x->c, r->acct->account_id, obj);
        text = jscontact_to_vcard_text(plain, vcard3 ? JSCONTACT_VCARD3 : 0, &err);
    }
    if (!text)
        log_warn("dav: %s %s cannot be rendered: %s", r->k->obj_type, r->obj_id, err ? err : "?");
    free(err);
    json_decref(plain);
    return text;
}

static void set_etag(struct dav_ctx *x, int64_t modseq)
{
    snprintf(x->out->etag, sizeof x->out->etag, "\"%lld\"", (long long)modseq);
}

/* vCard 3.0 when the client asks for it (RFC 6352 §5.1.1 Accept). */
static bool wants_vcard3(const char *accept)
{
    return accept && strstr(accept, "version=3.0") && !strstr(accept, "version=4.0");
}

void dav_object_get(struct dav_ctx *x, struct dav_res *r, bool head)
{
    if (!r->obj) {
        dav_reply(x, 404, "text/plain", xstrdup("not found\n"));
        return;
    }
    char *text = dav_object_render(x, r, r->obj, wants_vcard3(x->q->accept));
    if (!text) {
        dav_reply(x, 500, "text/plain", xstrdup("the object cannot be rendered\n"));
        return;
    }
    set_etag(x, r->modseq);
    dav_schedule_tag(x, r, r->obj, x->out->schedule_tag);
    dav_reply(x, 200, r->k->mime, text);
    (void)head; /* libmicrohttpd sends no body for HEAD */
}

/* ---- conditions (RFC 9110 §13.1.1, §13.1.2) -------------------------------------------------- */

static bool etag_listed(const char *header, int64_t modseq)
{
    char tag[48];
    snprintf(tag, sizeof tag, "\"%lld\"", (long long)modseq);
    const char *p = header;
    while (*p) {
        p += strspn(p, " \t,");
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t n = strcspn(p, ",");
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if ((n == 1 && *p == '*') || (n == strlen(tag) && strncmp(p, tag, n) == 0))
            return true;
        p += n;
        p += strcspn(p, ",");
    }
    return false;
}

/* false (412 queued) when If-Match / If-None-Match fail for r. */
static bool preconditions(struct dav_ctx *x, const struct dav_res *r)
{
    const char *im = x->q->if_match, *inm = x->q->if_none_match;
    bool fail = (im && (!r->obj || !etag_listed(im, r->modseq))) ||
                (inm && r->obj && etag_listed(inm, r->modseq));
    if (fail)
        dav_reply(x, 412, "text/plain", xstrdup("precondition failed\n"));
    return !fail;
}

/* ---- PUT ------------------------------------------------------------------------------------- */

/* A local time of a calendar object as UTC seconds: 0 if it is inside the range the
 * server supports, -1 before it, 1 after it (unreadable times are JMAP's to refuse). */
static int date_side(const json_t *obj, const char *ldt)
{
    int64_t t;
    const char *tz = json_string_value(json_object_get(obj, "timeZone"));
    if (!ldt || event_local_to_utc(obj, ldt, tz, "Etc/UTC", &t) != 0)
        return 0;
    return t < DAV_MIN_TIME ? -1 : t > DAV_MAX_TIME ? 1 : 0;
}

/* RFC 4791 §5.3.2.1 CALDAV:min-date-time / max-date-time: the start and due times of
 * the object and of each recurrence (its RECURRENCE-ID and an override's own start)
 * must lie within the collection's range. NULL, or the precondition it breaks. */
static const char *date_range_error(const json_t *obj)
{
    int side = date_side(obj, json_string_value(json_object_get(obj, "start")));
    if (!side)
        side = date_side(obj, json_string_value(json_object_get(obj, "due")));
    const char *rid;
    json_t *o;
    json_object_foreach(json_object_get(obj, "recurrenceOverrides"), rid, o)
    {
        if (!side)
            side = date_side(obj, rid);
        if (!side)
            side = date_side(obj, json_string_value(json_object_get(o, "start")));
    }
    return side < 0 ? "min-date-time" : side > 0 ? "max-date-time" : NULL;
}

/* The body as one JMAP object; NULL after the error response. */
static json_t *parse_body(struct dav_ctx *x, const struct dav_res *r)
{
    const struct dav_kind *k = r->k;
    const char *ct = x->q->content_type;
    const char *want = k->calendar ? "text/calendar" : "text/vcard";
    if (ct && strncasecmp(ct, want, strlen(want)) != 0 &&
        !(!k->calendar && strncasecmp(ct, "text/x-vcard", 12) == 0)) {
        dav_error(x, 403, k->ns, k->calendar ? "supported-calendar-data" : "supported-address-data",
                  NULL);
        return NULL;
    }
    if (x->q->len > DAV_MAX_RESOURCE) {
        dav_error(x, 403, k->ns, "max-resource-size", NULL);
        return NULL;
    }
    char *err = NULL;
    json_t *list = NULL;
    if (k->calendar) {
        json_t *warnings = json_array();
        json_t *group = ical_to_jscal_warn(x->q->body ? x->q->body : "", x->q->len,
                                           ICAL_TO_JSCAL_GROUP, warnings, &err);
        json_decref(warnings);
        list = group ? json_incref(json_object_get(group, "entries")) : NULL;
        json_decref(group);
    } else {
        list = jscontact_from_vcard_text(x->q->body ? x->q->body : "", x->q->len, &err);
    }
    free(err);
    if (!list || json_array_size(list) == 0) {
        json_decref(list);
        dav_error(x, 403, k->ns, k->valid_data, NULL);
        return NULL;
    }
    json_t *obj = json_array_get(list, 0);
    const char *type = json_string_value(json_object_get(obj, "@type"));
    if (k->calendar && json_array_size(list) == 1 && type && strcmp(type, k->jscal_type) != 0 &&
        (!strcmp(type, "Task") || !strcmp(type, "Event"))) {
        json_decref(
            list); /* RFC 4791 §5.3.2.1: a VTODO into a calendar, a VEVENT into a task list */
        dav_error(x, 403, k->ns, "supported-calendar-component", NULL);
        return NULL;
    }
    /* RFC 4791 §4.1: one UID per resource, one kind of component; RFC 6352 §5.1: one vCard */
    if (json_array_size(list) != 1 ||
        (k->calendar && (!type || strcmp(type, k->jscal_type) != 0))) {
        json_decref(list);
        dav_error(x, 403, k->ns,
                  k->calendar ? "valid-calendar-object-resource" : "valid-address-data", NULL);
        return NULL;
    }
    const char *range = k->calendar ? date_range_error(obj) : NULL;
    if (range) {
        json_decref(list);
        dav_error(x, 403, NS_CALDAV, range, NULL);
        return NULL;
    }
    /* ical-tasks-17 §8: a TASK-MODE the server does not implement is refused */
    if (k->calendar && strcmp(type, "Task") == 0 && !task_mode_supported(obj)) {
        json_decref(list);
        dav_error(x, 403, NS_CALDAV, "supported-task-mode", NULL);
        return NULL;
    }
    json_incref(obj);
    json_decref(list);
    if (k->calendar)
        json_object_del(obj, "method"); /* iTIP methods belong to scheduling, not storage */
    if (k->calendar && strcmp(type, "Task") == 0)
        task_duration_to_due(obj); /* RFC 5545 §3.6.2 DTSTART and DURATION */
    return obj;
}

static int uid_cb(const char *id, void *ud)
{
    snprintf(ud, 64, "%s", id);
    return 1;
}

/* A UID clash (RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1 no-uid-conflict) with the href
 * of the resource that holds the UID when it can be found. */
static void uid_conflict(struct dav_ctx *x, const struct dav_res *r, json_t *obj)
{
    const char *uid = json_string_value(json_object_get(obj, "uid"));
    const char *a = r->acct->account_id;
    char id[64] = "";
    if (uid && r->k->calendar) {
        store_index_find_uid(x->c, a, r->k->obj_type, uid, uid_cb, id);
    } else if (uid) {
        char *found = contact_index_find_uid(x->c, a, uid, NULL);
        if (found)
            snprintf(id, sizeof id, "%s", found);
        free(found);
    }
    json_t *other = id[0] ? store_object_get(x->c, a, r->k->obj_type, id) : NULL;
    json_t *coll = json_object_get(other, r->k->member);
    const char *coll_id = json_is_string(coll)     ? json_string_value(coll)
                          : json_object_size(coll) ? json_object_iter_key(json_object_iter(coll))
                                                   : NULL;
    if (!coll_id) {
        json_decref(other);
        dav_error(x, 403, r->k->ns, "no-uid-conflict", NULL);
        return;
    }
    struct buf b = {0};
    char seg[256], name[256];
    dav_name_of(x->c, a, r->k->coll_type, coll_id, "", seg);
    dav_name_of(x->c, a, r->k->obj_type, id, r->k->ext, name);
    buf_printf(&b, "/dav/%s/%s/%s/%s", r->k->home, a, seg, name);
    char *href = buf_take(&b);
    dav_error(x, 403, r->k->ns, "no-uid-conflict", href);
    free(href);
    json_decref(other);
}

/* Maps the SetError of a refused PUT to its precondition. */
static void put_refused(struct dav_ctx *x, const struct dav_res *r, json_t *obj, json_t *err)
{
    const char *type = json_string_value(json_object_get(err, "type"));
    json_t *props = json_object_get(err, "properties");
    bool uid = false;
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p) uid |= strcmp(json_string_value(p), "uid") == 0;
    log_info("dav: PUT %s refused: %s %s", r->name, type ? type : "?",
             json_string_value(json_object_get(err, "description")));
    if (type && (strcmp(type, "alreadyExists") == 0 || uid))
        uid_conflict(x, r, obj);
    else if (type && strcmp(type, "tooLarge") == 0)
        dav_error(x, 403, r->k->ns, "max-resource-size", NULL);
    else if (type && (strcmp(type, "forbidden") == 0 || strcmp(type, "accountReadOnly") == 0))
        dav_need_privilege(x, r, !r->obj, NS_DAV, r->obj ? "write-content" : "bind");
    else if (type && strcmp(type, "overQuota") == 0)
        dav_error(x, 507, NULL, NULL, NULL);
    else
        dav_error(x, 403, r->k->ns, r->k->valid_data, NULL);
}

/* A whole-resource replacement as a JMAP patch: every property of the new body,
 * null for every one it no longer has (JMAP-only properties stay). */
static json_t *replace_patch(const struct dav_kind *k, json_t *old, json_t *obj)
{
    json_t *patch = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (!in_list(k->jmap_only, key))
            json_object_set(patch, key, v);
    }
    json_object_foreach(old, key, v)
    {
        if (!in_list(k->jmap_only, key) && !json_object_get(obj, key))
            json_object_set_new(patch, key, json_null());
    }
    return patch;
}

/* Runs the create or update; the new object's id into id[64], or false after the
 * error response. */
static bool put_write(struct dav_ctx *x, const struct dav_res *r, json_t *obj, char id[64])
{
    const struct dav_kind *k = r->k;
    char method[64];
    snprintf(method, sizeof method, "%s/set", k->obj_type);
    json_t *args = json_pack("{s:s}", "accountId", r->acct->account_id);
    if (r->obj) {
        json_object_set_new(args, "update",
                            json_pack("{s:o}", r->obj_id, replace_patch(k, r->obj, obj)));
        snprintf(id, 64, "%s", r->obj_id);
    } else {
        json_object_set_new(obj, k->member,
                            k->single_member ? json_string(r->coll_id)
                                             : json_pack("{s:b}", r->coll_id, 1));
        json_object_set_new(args, "create", json_pack("{s:O}", "dav", obj));
    }
    if (k == &dav_calendars && dav_schedule_wanted(obj)) /* RFC 6638 §3.2 */
        json_object_set_new(args, "sendSchedulingMessages", json_true());
    json_t *res = dav_jmap_call(x, k, method, args);
    json_t *err = r->obj ? json_object_get(json_object_get(res, "notUpdated"), r->obj_id)
                         : json_object_get(json_object_get(res, "notCreated"), "dav");
    const char *etype = json_string_value(json_object_get(err, "type"));
    if (etype && json_object_get(args, "sendSchedulingMessages") &&
        strcmp(etype, "noSupportedScheduleMethods") == 0) {
        /* a recipient the server cannot reach (not a user here, no iMIP): the event is
         * stored as the client sent it, as with SCHEDULE-AGENT=CLIENT (§7.1) */
        json_object_del(args, "sendSchedulingMessages");
        json_decref(res);
        res = dav_jmap_call(x, k, method, args);
        err = r->obj ? json_object_get(json_object_get(res, "notUpdated"), r->obj_id)
                     : json_object_get(json_object_get(res, "notCreated"), "dav");
    }
    json_decref(args);
    if (!res) {
        dav_reply(x, 500, "text/plain", xstrdup("the write failed\n"));
        return false;
    }
    const char *nid = json_string_value(
        json_object_get(json_object_get(json_object_get(res, "created"), "dav"), "id"));
    bool ok = !err && (r->obj || nid);
    if (err)
        put_refused(x, r, obj, err);
    else if (!ok)
        dav_reply(x, 500, "text/plain", xstrdup("the write failed\n"));
    if (nid)
        snprintf(id, 64, "%s", nid);
    json_decref(res);
    return ok;
}

void dav_object_put(struct dav_ctx *x, struct dav_res *r)
{
    if (!preconditions(x, r))
        return;
    json_t *obj = parse_body(x, r);
    if (!obj)
        return;
    /* RFC 4791 §5.3.2.1: a resource keeps its UID */
    if (r->obj && !json_equal(json_object_get(r->obj, "uid"), json_object_get(obj, "uid"))) {
        dav_error(x, 403, r->k->ns, "no-uid-conflict", NULL);
        json_decref(obj);
        return;
    }
    if (!dav_schedule_tag_matches(x, r)) { /* RFC 6638 §3.2.10.1 */
        json_decref(obj);
        return;
    }
    if (x->q->if_schedule_tag_match)
        dav_schedule_merge_replies(x, r, obj);
    char id[64] = "";
    bool created = !r->obj;
    struct dav_name_hook hook = {0};
    if (created) /* the chosen name commits with the object (issue 20 §4) */
        dav_name_arm(&hook, r->k->obj_type, r->name);
    bool ok = put_write(x, r, obj, id);
    dav_name_disarm();
    json_decref(obj);
    if (!ok)
        return;
    const char *a = r->acct->account_id;
    if (created && !hook.written &&
        dav_name_remember(x->c, a, r->k->obj_type, r->name, id) != STORE_OK)
        log_warn("dav: the name %s of %s could not be kept", r->name, id);
    store_rollback(x->c);
    store_begin(x->c, false);
    set_etag(x, store_object_modseq(x->c, a, r->k->obj_type, id));
    json_t *now = store_object_get(x->c, a, r->k->obj_type, id);
    dav_schedule_tag(x, r, now, x->out->schedule_tag); /* RFC 6638 §3.2.10 */
    json_decref(now);
    dav_reply(x, created ? 201 : 204, NULL, NULL);
}

void dav_object_delete(struct dav_ctx *x, struct dav_res *r)
{
    if (!r->obj) {
        dav_reply(x, 404, "text/plain", xstrdup("not found\n"));
        return;
    }
    if (!preconditions(x, r) || !dav_schedule_tag_matches(x, r))
        return;
    char method[64];
    snprintf(method, sizeof method, "%s/set", r->k->obj_type);
    json_t *args =
        json_pack("{s:s, s:[s]}", "accountId", r->acct->account_id, "destroy", r->obj_id);
    bool sched = r->k == &dav_calendars && dav_schedule_wanted(r->obj);
    if (sched) /* RFC 6638 §3.2.1.3 (organizer: CANCEL), §3.2.2.3 (attendee: REPLY) */
        json_object_set_new(args, "sendSchedulingMessages", json_true());
    json_t *res = dav_jmap_call(x, r->k, method, args);
    json_t *err = json_object_get(json_object_get(res, "notDestroyed"), r->obj_id);
    if (sched && err) { /* unreachable recipients: delete without messages */
        json_object_del(args, "sendSchedulingMessages");
        json_decref(res);
        res = dav_jmap_call(x, r->k, method, args);
        err = json_object_get(json_object_get(res, "notDestroyed"), r->obj_id);
    }
    json_decref(args);
    if (!res || err)
        dav_need_privilege(x, r, true, NS_DAV, "unbind");
    else
        dav_reply(x, 204, NULL, NULL);
    json_decref(res);
}
