/*
 * dav_report.c — REPORT (RFC 3253 §3.6 as used by CalDAV and CardDAV):
 * calendar-multiget (RFC 4791 §7.9), calendar-query (§7.8: comp-filter,
 * time-range over recurrences, prop-filter/text-match, calendar-data with expand
 * §9.6.5), addressbook-multiget (RFC 6352 §8.7), addressbook-query (§8.6:
 * prop-filter, text-match) and sync-collection (RFC 6578 §3) with tokens that
 * are the JMAP state of the members' type (a change is its modseq), removed
 * members answered 404. Time ranges are answered by the JMAP event query
 * (CalendarEvent/query with expandRecurrences), so DAV and JMAP agree; the rest of a
 * filter is tested on each member's data (dav_filter.c), partial retrieval is
 * dav_partial.c's.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dav/dav_internal.h"
#include "formats/icalendar_jscalendar/ical.h"
#include "formats/json/patch.h"
#include "formats/recurrence/recur.h"
#include "formats/timezone/tz.h"
#include "types/calendar_event.h"
#include "types/share.h"

#define SYNC_PREFIX "https://jmapd.invalid/sync/"

int64_t dav_state(struct dav_ctx *x, const char *account, const char *type)
{
    return store_state_viewer(x->c, account, type, x->u ? x->u->id : -1);
}

void dav_sync_token(struct dav_ctx *x, const struct dav_res *r, char out[64])
{
    snprintf(out, 64, SYNC_PREFIX "%lld",
             (long long)dav_state(x, r->acct->account_id, r->k->obj_type));
}

/* ---- member data ------------------------------------------------------------------------ */

static json_t *events_in_range(struct dav_ctx *x, const struct dav_res *r, int64_t start,
                               int64_t end);

/* A LocalDateTime of obj's time zone as a UTC LocalDateTime into out[20]. */
static bool utc_of(const json_t *obj, const char *ldt, char out[20])
{
    int64_t t;
    char s[21];
    if (!ldt || event_local_to_utc(obj, ldt, json_string_value(json_object_get(obj, "timeZone")),
                                   "Etc/UTC", &t) != 0)
        return false;
    util_utc_format(t, s);
    snprintf(out, 20, "%.19s", s);
    return true;
}

/* An instance of base at rid, a recurrence id CalendarEvent/query produced (so the
 * rule is not asked again whether it generates rid, as event_instance() does for
 * ids a client sends): the base without its rules, moved to rid, with its
 * override; start and RECURRENCE-ID in UTC (RFC 4791 §9.6.5). */
static json_t *instance_at(json_t *base, const char *rid)
{
    json_t *override = json_object_get(json_object_get(base, "recurrenceOverrides"), rid);
    json_t *inst = json_deep_copy(base);
    static const char *const drop[] = {"recurrenceRule", "recurrenceRules", "recurrenceOverrides",
                                       "excludedRecurrenceRules"};
    for (size_t k = 0; k < sizeof drop / sizeof drop[0]; k++)
        json_object_del(inst, drop[k]);
    json_object_set_new(inst, "start", json_string(rid));
    if (override) {
        json_t *patch = json_deep_copy(override);
        json_object_del(patch, "excluded");
        patch_apply(inst, patch, NULL);
        json_decref(patch);
    }
    char start[20], id[20];
    if (utc_of(inst, json_string_value(json_object_get(inst, "start")), start) &&
        utc_of(base, rid, id)) {
        json_object_set_new(inst, "start", json_string(start));
        json_object_set_new(inst, "recurrenceId", json_string(id));
        json_object_set_new(inst, "timeZone", json_string("Etc/UTC"));
        json_object_set_new(inst, "recurrenceIdTimeZone", json_string("Etc/UTC"));
    } else {
        json_object_set_new(inst, "recurrenceId", json_string(rid));
        json_t *tz = json_object_get(base, "timeZone");
        if (json_is_string(tz))
            json_object_set(inst, "recurrenceIdTimeZone", tz);
    }
    return inst;
}

/* A non-recurring event as expand returns it (RFC 4791 §9.6.5): a start with a time zone
 * in UTC (no VTIMEZONE follows); a floating or all-day one stays as it is. */
static json_t *single_utc(json_t *ev)
{
    json_t *inst = json_copy(ev);
    char start[20];
    if (json_is_string(json_object_get(ev, "timeZone")) &&
        !json_is_true(json_object_get(ev, "showWithoutTime")) &&
        utc_of(ev, json_string_value(json_object_get(ev, "start")), start)) {
        json_object_set_new(inst, "start", json_string(start));
        json_object_set_new(inst, "timeZone", json_string("Etc/UTC"));
    }
    return inst;
}

/* The instances of an event within the expand range as one VCALENDAR (RFC 4791
 * §9.6.5): every instance a VEVENT with its RECURRENCE-ID, no RRULE. The
 * instances of the whole collection come from one query (x->instances). */
static char *render_expanded(struct dav_ctx *x, struct dav_res *r)
{
    if (!x->instances)
        x->instances = events_in_range(x, r, x->expand_start, x->expand_end);
    json_t *rids = json_object_get(x->instances, r->obj_id);
    ical_writer *w = dav_ical_writer(x, NULL);
    struct buf b = {0};
    char *s = ical_writer_begin(w), *err = NULL;
    buf_puts(&b, s ? s : "");
    free(s);
    json_t *plain = json_copy(r->obj);
    static const char *const jmap_only[] = {"id",       "baseEventId", "calendarIds", "isDraft",
                                            "isOrigin", "utcStart",    "utcEnd"};
    for (size_t k = 0; k < sizeof jmap_only / sizeof jmap_only[0]; k++)
        json_object_del(plain, jmap_only[k]);
    size_t n = json_array_size(rids);
    for (size_t i = 0; i < (n ? n : 1) && (n || rids); i++) {
        json_t *inst = n ? instance_at(plain, json_string_value(json_array_get(rids, i)))
                         : single_utc(plain); /* a single event inside the range */
        if ((s = ical_writer_add(w, inst, &err)))
            buf_puts(&b, s);
        json_decref(inst);
        free(s);
        free(err);
        err = NULL;
    }
    json_decref(plain);
    s = ical_writer_end(w);
    buf_puts(&b, s ? s : "");
    free(s);
    ical_writer_free(w);
    return buf_take(&b);
}

/* RFC 4791 §9.6.6 limit-recurrence-set: the master and only the overridden instances
 * that overlap [start, end) (an exclusion is no component of its own and stays). */
static json_t *limit_overrides(json_t *obj, int64_t start, int64_t end)
{
    json_t *copy = json_copy(obj);
    json_t *ov = json_object_get(obj, "recurrenceOverrides");
    if (!json_is_object(ov))
        return copy;
    json_t *kept = json_object();
    const char *rid;
    json_t *o;
    json_object_foreach(ov, rid, o)
    {
        int64_t s = 0, e = 0;
        json_t *inst = json_is_true(json_object_get(o, "excluded")) ? NULL : instance_at(obj, rid);
        bool keep = !inst || json_object_size(o) == 0 || /* an exclusion or an RDATE */
                    (event_utc_span(inst, "Etc/UTC", &s, &e) == 0 &&
                     (s < end && (e > start || (e == s && s >= start))));
        json_decref(inst);
        if (keep)
            json_object_set(kept, rid, o);
    }
    json_object_set_new(copy, "recurrenceOverrides", kept);
    return copy;
}

int dav_object_data(struct dav_ctx *x, struct dav_res *r, struct buf *v)
{
    bool expand = x->expand && r->k == &dav_calendars,
         keep = (!x->limit_rs || expand) && !x->partial;
    char variant[48] = "";
    if (expand)
        snprintf(variant, sizeof variant, "/E%lld-%lld", (long long)x->expand_start,
                 (long long)x->expand_end);
    if (dav_zones_by_reference(x) && r->k->calendar)
        strcat(variant, "/Z"); /* RFC 7809: a rendering of its own, without VTIMEZONEs */
    if (keep && dav_render_cached(r, variant, v))
        return 1; /* rendered before at this modseq */
    if (!r->obj)
        r->obj = dav_member_load(x, r, r->obj_id);
    if (!r->obj)
        return 0;
    char *text = NULL;
    if (expand) {
        text = render_expanded(x, r);
    } else if (x->limit_rs && r->k == &dav_calendars) {
        json_t *limited = limit_overrides(r->obj, x->limit_start, x->limit_end);
        text = dav_object_render(x, r, limited, false);
        json_decref(limited);
    } else {
        text = dav_object_render(x, r, r->obj, x->vcard3);
    }
    if (text && x->partial) { /* RFC 4791 §9.6.1, RFC 6352 §10.4 */
        char *part = dav_partial(text, x->partial, r->k->calendar);
        free(text);
        text = part;
    }
    if (!text)
        return 0;
    size_t at = v->len;
    dav_xml_text(v, text);
    free(text);
    if (keep)
        dav_render_keep(r, variant, v->data + at, v->len - at);
    return 1;
}

bool dav_ical_utc(const char *s, int64_t *t)
{
    char iso[32];
    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return false;
    snprintf(iso, sizeof iso, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", s, s + 4, s + 6, s + 9, s + 11,
             s + 13);
    return util_utc_parse(iso, t) == 0;
}

/* Whether the content-type and version a calendar-data or address-data element asks
 * for are the kind's (RFC 4791 §9.6: text/calendar 2.0; RFC 6352 §10.4: text/vcard
 * 3.0 or 4.0). */
static bool data_type_ok(const struct dav_res *r, const xmlNode *data)
{
    xmlChar *ct = xmlGetProp(data, (const xmlChar *)"content-type"),
            *ver = xmlGetProp(data, (const xmlChar *)"version");
    const char *c = (const char *)ct, *v = (const char *)ver;
    bool ok = (!c || strcasecmp(c, r->k->calendar ? "text/calendar" : "text/vcard") == 0) &&
              (!v || (r->k->calendar ? strcmp(v, "2.0") == 0
                                     : strcmp(v, "3.0") == 0 || strcmp(v, "4.0") == 0));
    xmlFree(ct);
    xmlFree(ver);
    return ok;
}

/* Reads how the report asks for the data: address-data version, expand range, the
 * parts; false after the error response (supported-calendar-data,
 * supported-address-data: RFC 4791 §7.8, RFC 6352 §8.6 preconditions). */
static bool data_options(struct dav_ctx *x, const struct dav_res *r, const xmlNode *prop)
{
    xmlNode *data = dav_xml_child(prop, r->k->ns, r->k->data_elem);
    if (!data)
        return true;
    if (!data_type_ok(r, data)) {
        dav_error(x, 403, r->k->ns,
                  r->k->calendar ? "supported-calendar-data" : "supported-address-data", NULL);
        return false;
    }
    if (dav_partial_wanted(data, r->k->calendar))
        x->partial = data;
    xmlChar *ver = xmlGetProp(data, (const xmlChar *)"version");
    x->vcard3 = ver && strcmp((const char *)ver, "3.0") == 0;
    xmlFree(ver);
    xmlNode *lim = dav_xml_child(data, NS_CALDAV, "limit-recurrence-set");
    if (lim && r->k == &dav_calendars) {
        xmlChar *s = xmlGetProp(lim, (const xmlChar *)"start"),
                *e = xmlGetProp(lim, (const xmlChar *)"end");
        x->limit_rs = s && e && dav_ical_utc((const char *)s, &x->limit_start) &&
                      dav_ical_utc((const char *)e, &x->limit_end);
        xmlFree(s);
        xmlFree(e);
    }
    /* limit-freebusy-set (§9.6.7) limits VFREEBUSY components: collections here hold
     * none, so there is nothing to limit */
    xmlNode *ex = dav_xml_child(data, NS_CALDAV, "expand");
    if (!ex || r->k != &dav_calendars)
        return true;
    xmlChar *s = xmlGetProp(ex, (const xmlChar *)"start"),
            *e = xmlGetProp(ex, (const xmlChar *)"end");
    x->expand = s && e && dav_ical_utc((const char *)s, &x->expand_start) &&
                dav_ical_utc((const char *)e, &x->expand_end);
    xmlFree(s);
    xmlFree(e);
    return true;
}

/* ---- multiget -------------------------------------------------------------------------------- */

static void url_decode(const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < size; p++) {
        if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char h[3] = {p[1], p[2], 0};
            out[o++] = (char)strtol(h, NULL, 16);
            p += 2;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = 0;
}

/* The member of the collection at base (its path, decoded) an href names: its name into
 * name[256]; false if the href is not directly below it. */
static bool href_member(const char *base, const char *href, char name[256])
{
    char path[1024];
    const char *p = href;
    if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0)
        p = strchr(strchr(p, ':') + 3, '/');
    if (!p)
        return false;
    url_decode(p, path, sizeof path);
    size_t n = strlen(base);
    if (strncmp(path, base, n) != 0 || !dav_name_ok(path + n) || strlen(path + n) >= 256)
        return false;
    dav_copy(name, 256, path + n);
    return true;
}

/* Member name of collection r as an href named it, with its id and modseq, without
 * reading the object (calendar-multiget asks for many). */
static void member_at(const struct dav_res *r, const char *id, const char *name, int64_t modseq,
                      struct dav_res *m)
{
    memset(m, 0, sizeof *m);
    m->t = DR_OBJ;
    m->k = r->k;
    m->acct = r->acct;
    m->home = r->home;
    m->shared = r->shared;
    m->shared_write = r->shared_write;
    m->rights = r->rights;
    memcpy(m->coll_id, r->coll_id, sizeof m->coll_id);
    memcpy(m->coll_seg, r->coll_seg, sizeof m->coll_seg);
    dav_copy(m->obj_id, sizeof m->obj_id, id);
    dav_copy(m->name, sizeof m->name, name);
    m->modseq = modseq;
}

/* Whether live member m of collection r (id and modseq set) belongs to r, without
 * reading the object when that is known: the only collection of its type holds every
 * member (only), else the render cache at m's modseq, else the membership map; else the
 * object is read (into m->obj). */
static bool member_in(struct dav_ctx *x, const struct dav_res *r, struct dav_res *m, bool only)
{
    if (r->shared) { /* what the sharee may see of it */
        if (!m->obj)
            m->obj = dav_member_load(x, r, m->obj_id);
        return m->obj && dav_is_member(r->k, m->obj, r->coll_id);
    }
    if (only)
        return true;
    int in = dav_render_member(m, r->coll_id);
    if (in < 0 && x->members) {
        json_t *v = json_object_get(x->members, m->obj_id);
        if (v) {
            json_t *holder = json_pack("{s:O}", r->k->member, v);
            in = dav_is_member(r->k, holder, r->coll_id);
            json_decref(holder);
        }
    }
    if (in < 0) {
        if (!m->obj)
            m->obj = dav_member_load(x, r, m->obj_id);
        in = m->obj && dav_is_member(r->k, m->obj, r->coll_id);
    }
    return in == 1;
}

/* RFC 4791 §7.9, RFC 6352 §8.7: one response per href, 404 for what is no member. Names
 * and modseqs come from the member index (dav_members.c), a member's collections and
 * data from the render cache at its modseq when kept there, else from the object: no
 * store read per href once both are warm. */
static bool multiget(struct dav_ctx *x, struct dav_res *r, xmlNode *root, struct buf *b)
{
    xmlNode *prop = dav_xml_child(root, NS_DAV, "prop");
    if (!data_options(x, r, prop))
        return false;
    bool only = store_object_count(x->c, r->acct->account_id, r->k->coll_type) == 1;
    char base[1024]; /* the collection's path, decoded, as hrefs are */
    struct buf own = {0};
    dav_res_href(x, r, &own);
    url_decode(own.data ? own.data : "", base, sizeof base);
    buf_free(&own);
    for (xmlNode *h = dav_xml_child(root, NS_DAV, "href"); h; h = dav_xml_next(h)) {
        if (!dav_xml_is(h, NS_DAV, "href"))
            continue;
        xmlChar *href = xmlNodeGetContent(h);
        char name[256], id[64];
        int64_t modseq = 0;
        struct dav_res m;
        bool found =
            href_member(base, (const char *)href, name) && dav_member_find(x, r, name, id, &modseq);
        if (found) {
            member_at(r, id, name, modseq, &m);
            if ((found = member_in(x, r, &m, only)))
                dav_propstats(x, &m, prop, b);
            dav_res_clear(&m);
        }
        if (!found)
            dav_status_response(b, (const char *)href, 404);
        xmlFree(href);
    }
    return true;
}

/* ---- calendar-query (RFC 4791 §7.8) -----------------------------------------------------------
 */

static bool attr_time(const xmlNode *n, const char *attr, int64_t *t, bool *bad)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
    bool ok = v && dav_ical_utc((const char *)v, t);
    *bad |= v && !ok;
    xmlFree(v);
    return ok;
}

/* The events of r with an instance in [start, end): base id -> the recurrence ids
 * of its instances there ([] for an event that does not recur), from one
 * CalendarEvent/query with expandRecurrences, so DAV and JMAP agree. */
static json_t *events_in_range(struct dav_ctx *x, const struct dav_res *r, int64_t start,
                               int64_t end)
{
    /* the range as LocalDateTimes in the zone of floating times (RFC 4791 §7.3): the
     * query reads floating events in its timeZone (calendars-27 §5.11) */
    const char *ftz = x->floating_tz[0] ? x->floating_tz : "Etc/UTC";
    icaltimezone *zone = tz_builtin(ftz);
    char from[21], to[21];
    util_utc_format(tz_utc_to_local(zone, start), from);
    util_utc_format(tz_utc_to_local(zone, end), to);
    from[19] = to[19] = 0;
    json_t *args = json_pack("{s:s, s:{s:s, s:s, s:s}, s:b, s:s}", "accountId", r->acct->account_id,
                             "filter", "inCalendar", r->coll_id, "after", from, "before", to,
                             "expandRecurrences", 1, "timeZone", ftz);
    const struct jmap_user *me = x->u;
    struct jmap_user *owner = NULL;
    struct store_user su;
    memset(&su, 0, sizeof su);
    if (r->freebusy_only && store_user_by_account(x->c, r->acct->account_id, &su) == STORE_OK) {
        /* a calendar shared for free/busy alone is in no account of the user's
         * (calendars-27 §4.1): its owner asks, and only busy time leaves this file */
        owner = xcalloc(1, sizeof *owner);
        if (jmap_user_load(x->c, su.id, owner) == STORE_OK)
            x->u = owner;
    }
    store_user_clear(&su);
    json_t *res = dav_jmap_call(x, r->k, "CalendarEvent/query", args);
    x->u = me;
    free(owner);
    json_decref(args);
    json_t *set = json_object();
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(res, "ids"), i, id)
    {
        char base[64], rid[20];
        const char *s = json_string_value(id);
        bool instance = event_instance_parse(s, base, rid);
        if (!instance)
            snprintf(base, sizeof base, "%s", s);
        json_t *rids = json_object_get(set, base);
        if (!rids)
            json_object_set_new(set, base, rids = json_array());
        if (instance)
            json_array_append_new(rids, json_string(rid));
    }
    json_decref(res);
    return set;
}

static bool comp_name_is(const xmlNode *n, const char *name)
{
    return dav_xml_attr_is(n, "name", name, true);
}

/* A local time of a task (in its time zone; floating in ftz, RFC 4791 §7.3) as UTC
 * seconds. */
static bool task_time(const json_t *t, const char *key, const char *ftz, int64_t *out)
{
    const char *ldt = json_string_value(json_object_get(t, key));
    const char *tz = json_string_value(json_object_get(t, "timeZone"));
    return ldt && event_local_to_utc(t, ldt, tz, ftz, out) == 0;
}

/* The COMPLETED time of a task: JSCalendar has no property for it, the conversion
 * keeps it among the task's iCalendar properties (jCal). */
static bool task_completed(const json_t *t, int64_t *out)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(json_object_get(t, "iCalendar"), "properties"), i, p)
    {
        const char *name = json_string_value(json_array_get(p, 0));
        const char *v = json_string_value(json_array_get(p, 3));
        if (name && v && strcasecmp(name, "completed") == 0)
            return util_utc_parse(v, out) == 0;
    }
    return false;
}

static void todo_times_of(const json_t *t, const char *ftz, struct todo_times *tt)
{
    memset(tt, 0, sizeof *tt);
    tt->has_start = task_time(t, "start", ftz, &tt->start);
    tt->has_dur = tt->has_start && json_is_string(json_object_get(t, "duration")) &&
                  event_utc_span(t, ftz, &tt->start, &tt->dur_end) == 0;
    tt->has_due = task_time(t, "due", ftz, &tt->due);
    tt->has_done = task_completed(t, &tt->done);
    const char *cr = json_string_value(json_object_get(t, "created"));
    tt->has_created = cr && util_utc_parse(cr, &tt->created) == 0;
}

/* The times of the instance o of series t (base times in base): its own start (the
 * recurrence id, or where an override moved it), its DUE moved as far as its recurrence
 * id is from the series' start unless the override sets one (RFC 5545 §3.8.5.3). */
static void instance_times(const json_t *t, const char *ftz, const struct todo_times *base,
                           const recur_occurrence *o, struct todo_times *it)
{
    todo_times_of(o->object, ftz, it);
    int64_t rid = 0;
    const char *tz = json_string_value(json_object_get(t, "timeZone"));
    bool shifted = base->has_start && base->has_due &&
                   !(o->patch && json_object_get(o->patch, "due")) &&
                   event_local_to_utc(t, o->recurrence_id, tz, ftz, &rid) == 0;
    if (shifted)
        it->due = base->due + (rid - base->start);
    it->has_done = base->has_done, it->done = base->done;
    it->has_created = base->has_created, it->created = base->created;
}

/* RFC 4791 §9.9: whether a VTODO overlaps [s, e); a recurring one when any of its
 * instances does ("every recurrence instance is tested"), each by the table. */
static bool todo_in_range(const json_t *t, const char *ftz, int64_t s, int64_t e)
{
    struct todo_times base;
    todo_times_of(t, ftz, &base);
    if (!json_object_get(t, "recurrenceRule") && !json_object_get(t, "recurrenceRules") &&
        !json_object_get(t, "recurrenceOverrides"))
        return dav_todo_times_in_range(&base, s, e);
    /* the instances that can pass start at most their DUE's lead before the range */
    int64_t lead =
        base.has_start && base.has_due && base.due > base.start ? base.due - base.start : 0;
    if (base.has_dur && base.dur_end - base.start > lead)
        lead = base.dur_end - base.start;
    int code = 0;
    char *err = NULL;
    recur_iter *it =
        recur_iter_new(t, s - lead - 1, e + 1, ftz, NULL, RECUR_WANT_OBJECT, &code, &err);
    if (!it) {
        free(err);
        return dav_todo_times_in_range(&base, s, e); /* as if it did not recur */
    }
    recur_occurrence o;
    bool hit = false;
    while (!hit && recur_iter_next(it, &o)) {
        struct todo_times one;
        instance_times(t, ftz, &base, &o, &one);
        hit = dav_todo_times_in_range(&one, s, e);
    }
    recur_iter_free(it);
    return hit;
}

/* The comp-filter of VCALENDAR's children that names the members' own component
 * (VEVENT in a calendar, VTODO in a task list) into *ev (NULL: none); false when
 * no member can pass: calendars hold only VEVENTs, task lists only VTODOs (and the
 * VTIMEZONEs of their times), and every member holds its own component. */
static bool own_comp_filter(const struct dav_res *r, xmlNode *vcal, xmlNode **ev)
{
    *ev = NULL;
    for (xmlNode *c = dav_xml_child(vcal, NS_CALDAV, "comp-filter"); c; c = dav_xml_next(c)) {
        if (!dav_xml_is(c, NS_CALDAV, "comp-filter"))
            continue;
        bool undefined = dav_xml_child(c, NS_CALDAV, "is-not-defined") != NULL;
        if (comp_name_is(c, r->k->component)) {
            if (undefined)
                return false;
            if (!*ev)
                *ev = c;
        } else if (!undefined && !comp_name_is(c, "VTIMEZONE")) {
            return false;
        }
    }
    return true;
}

/* The zone of floating dates and times for a report on r (RFC 4791 §7.3): the query's
 * CALDAV:timezone (§9.8: the TZID of its VTIMEZONE, when that names a zone the server
 * knows) or CALDAV:timezone-id (RFC 7809 §5.3), else the calendar's calendar-timezone
 * (its JMAP timeZone), else UTC. Into x->floating_tz. */
static void floating_zone(struct dav_ctx *x, const struct dav_res *r, const xmlNode *root)
{
    const char *coll_tz = json_string_value(json_object_get(r->coll, "timeZone"));
    snprintf(x->floating_tz, sizeof x->floating_tz, "%s", coll_tz ? coll_tz : "Etc/UTC");
    const xmlNode *id = dav_xml_child(root, NS_CALDAV, "timezone-id");
    const xmlNode *vtz = dav_xml_child(root, NS_CALDAV, "timezone");
    xmlChar *text = id ? xmlNodeGetContent(id) : vtz ? xmlNodeGetContent(vtz) : NULL;
    const char *t = (const char *)text, *found = NULL;
    char tzid[128] = "";
    if (t && id) {
        found = t + strspn(t, " \t\r\n");
        snprintf(tzid, sizeof tzid, "%.*s", (int)strcspn(found, " \t\r\n"), found);
    } else if (t && (found = strstr(t, "TZID:"))) {
        snprintf(tzid, sizeof tzid, "%.*s", (int)strcspn(found + 5, "\r\n"), found + 5);
    } else if (t && (found = strstr(t, "TZID;"))) { /* parameters before the value */
        const char *colon = strchr(found, ':');
        if (colon)
            snprintf(tzid, sizeof tzid, "%.*s", (int)strcspn(colon + 1, "\r\n"), colon + 1);
    }
    const char *iana = tzid[0] ? tz_resolve_tzid(tzid) : NULL;
    if (iana && tz_is_iana(iana))
        snprintf(x->floating_tz, sizeof x->floating_tz, "%s", iana);
    xmlFree(text);
}

/* Answers the members of r that pass filter into b; false (response set) if the
 * filter is not one RFC 4791 §9.7 allows. */
static bool calendar_query(struct dav_ctx *x, struct dav_res *r, xmlNode *root, struct buf *b)
{
    xmlNode *prop = dav_xml_child(root, NS_DAV, "prop");
    xmlNode *filter = dav_xml_child(root, NS_CALDAV, "filter");
    if (!filter) {
        dav_error(x, 403, NS_CALDAV, "valid-filter", NULL); /* §9.5: the filter is required */
        return false;
    }
    if (!dav_filter_check_ical(x, filter))
        return false;
    floating_zone(x, r, root);
    xmlNode *vcal = dav_xml_child(filter, NS_CALDAV, "comp-filter"), *ev;
    if (!data_options(x, r, prop))
        return false;
    if (!own_comp_filter(r, vcal, &ev))
        return true;
    /* a time-range selects events by their instances (one query), tasks by the
     * table of RFC 4791 §9.9 (each member); the rest of the filter is tested on each
     * member's data (dav_filter.c) */
    xmlNode *tr = ev ? dav_xml_child(ev, NS_CALDAV, "time-range") : NULL;
    bool trivial = dav_filter_ical_trivial(vcal, ev);
    json_t *in_range = NULL;
    int64_t start = DAV_MIN_TIME, end = DAV_MAX_TIME;
    if (tr && !dav_filter_time_range(x, tr, &start, &end))
        return false;
    if (tr && r->k == &dav_calendars) {
        if (end > 4102444800 && !xmlHasProp(tr, (const xmlChar *)"end"))
            end = 4102444800; /* an open end expands series until 2100 */
        in_range = events_in_range(x, r, start, end);
        if (x->expand && x->expand_start == start && x->expand_end == end)
            x->instances = json_incref(in_range); /* the same instances: one query */
    }
    if (r->k->calendar)
        dav_member_index(x, r, false); /* the members' names and ETags */
    json_t *ids;
    if (in_range) { /* the query found them: no need to look at every member */
        ids = json_array();
        const char *key;
        json_t *v;
        json_object_foreach(in_range, key, v) json_array_append_new(ids, json_string(key));
    } else {
        ids = dav_member_ids(x, r);
    }
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        const char *s = json_string_value(id);
        struct dav_res m;
        dav_child(x, r, s, &m);
        bool pass = true;
        if (tr && r->k != &dav_calendars) {
            m.obj = dav_member_load(x, r, s);
            pass = m.obj && todo_in_range(m.obj, x->floating_tz, start, end);
        }
        if (pass && !trivial) {
            if (!m.obj)
                m.obj = dav_member_load(x, r, s);
            char *text = m.obj ? dav_object_render(x, &m, m.obj, false) : NULL;
            pass = text && dav_filter_ical(text, vcal, ev, x->floating_tz);
            free(text);
        }
        if (pass)
            dav_propstats(x, &m, prop, b);
        dav_res_clear(&m);
    }
    json_decref(ids);
    json_decref(in_range);
    return true;
}

/* ---- free-busy-query (RFC 4791 §7.10) ------------------------------------------------------ */

struct busy {
    int64_t start, end;
    bool tentative;
};

static int busy_cmp(const void *a, const void *b)
{
    const struct busy *x = a, *y = b;
    if (x->tentative != y->tentative)
        return x->tentative ? 1 : -1;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Adds the busy time of one event or instance, clipped to [from, to): ev as stored
 * (status, privacy, time), fb_src as the user sees it (freeBusyStatus: a sharee's own,
 * calendars-27 §5.4). Neither transparent (RFC 4791 §7.10: FBTYPE=FREE is not listed),
 * cancelled nor, for a sharee (secret set), secret (calendars-27 §5.7). */
static void busy_add(struct buf *list, size_t *n, json_t *ev, json_t *fb_src, bool secret,
                     const char *ftz, int64_t from, int64_t to)
{
    const char *fb = json_string_value(json_object_get(fb_src, "freeBusyStatus"));
    const char *st = json_string_value(json_object_get(ev, "status"));
    const char *privacy = json_string_value(json_object_get(ev, "privacy"));
    int64_t s, e;
    if ((fb && strcmp(fb, "free") == 0) || (st && strcmp(st, "cancelled") == 0) ||
        (secret && privacy && strcmp(privacy, "secret") == 0) ||
        event_utc_span(ev, ftz, &s, &e) != 0 || e <= from || s >= to)
        return;
    struct busy b = {s < from ? from : s, e > to ? to : e, st && strcmp(st, "tentative") == 0};
    buf_append(list, &b, sizeof b);
    (*n)++;
}

/* The busy times of event id (its instances rids, or itself when none) into list: as
 * stored, with the freeBusyStatus the user sees (a sharee: their view, dav_shared.c). */
static void busy_event(struct dav_ctx *x, struct dav_res *r, const char *id, json_t *rids,
                       struct buf *list, size_t *n, int64_t from, int64_t to)
{
    json_t *obj = store_object_get(x->c, r->acct->account_id, r->k->obj_type, id);
    json_t *seen =
        obj && r->shared && !r->freebusy_only ? dav_member_load(x, r, id) : json_incref(obj);
    size_t k;
    json_t *rid;
    if (seen && json_array_size(rids) == 0)
        busy_add(list, n, obj, seen, r->shared, x->floating_tz, from, to);
    json_array_foreach(rids, k, rid)
    {
        json_t *inst = seen ? instance_at(obj, json_string_value(rid)) : NULL;
        json_t *inst_seen = inst && seen != obj ? instance_at(seen, json_string_value(rid)) : NULL;
        if (inst)
            busy_add(list, n, inst, inst_seen ? inst_seen : inst, r->shared, x->floating_tz, from,
                     to);
        json_decref(inst);
        json_decref(inst_seen);
    }
    json_decref(seen);
    json_decref(obj);
}

static void append_period(struct buf *out, const struct busy *b)
{
    char s[21], e[21];
    util_utc_format(b->start, s);
    util_utc_format(b->end, e);
    /* RFC 5545 §3.3.9 period, basic format */
    buf_printf(out, "FREEBUSY;FBTYPE=%s:%.4s%.2s%.2sT%.2s%.2s%.2sZ/%.4s%.2s%.2sT%.2s%.2s%.2sZ\r\n",
               b->tentative ? "BUSY-TENTATIVE" : "BUSY", s, s + 5, s + 8, s + 11, s + 14, s + 17, e,
               e + 5, e + 8, e + 11, e + 14, e + 17);
}

/* The VFREEBUSY of the calendar's events in the request's time-range, busy
 * periods merged per type. In a calendar shared with the user, as
 * Principal/getAvailability (calendars-27 §4: mayReadFreeBusy, else 403
 * need-privileges, RFC 3744 §7.1.1 and RFC 4791 §7.10's read-free-busy), from the
 * events as the user sees them (§5.4 their own freeBusyStatus, §5.7 no secret
 * event; a private one counts). */
static void free_busy_query(struct dav_ctx *x, struct dav_res *r, xmlNode *root)
{
    xmlNode *tr = dav_xml_child(root, NS_CALDAV, "time-range");
    int64_t from = 0, to = 0;
    bool bad = false;
    if (!tr || !attr_time(tr, "start", &from, &bad) || !attr_time(tr, "end", &to, &bad) ||
        to <= from) {
        dav_reply(x, 400, "text/plain", xstrdup("free-busy-query needs a time-range\n"));
        return;
    }
    if (from < DAV_MIN_TIME || to > DAV_MAX_TIME) { /* §7.10 preconditions */
        dav_error(x, 403, NS_CALDAV, from < DAV_MIN_TIME ? "min-date-time" : "max-date-time", NULL);
        return;
    }
    if (!dav_acl_may_read_free_busy(r)) { /* as current-user-privilege-set says */
        dav_need_privilege(x, r, false, NS_CALDAV, "read-free-busy");
        return;
    }
    floating_zone(x, r, root); /* §7.10: the calendar's zone, for floating times */
    json_t *in = events_in_range(x, r, from, to);
    struct buf list = {0};
    size_t n = 0;
    const char *id;
    json_t *rids;
    json_object_foreach(in, id, rids) busy_event(x, r, id, rids, &list, &n, from, to);
    json_decref(in);
    struct busy *b = (struct busy *)(void *)list.data;
    if (n)
        qsort(b, n, sizeof *b, busy_cmp);
    struct buf out = {0};
    char now[21], s[21], e[21];
    util_utc_format(util_now(), now);
    util_utc_format(from, s);
    util_utc_format(to, e);
    buf_printf(&out,
               "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//jmapd//dav//EN\r\n"
               "BEGIN:VFREEBUSY\r\nDTSTAMP:%.4s%.2s%.2sT%.2s%.2s%.2sZ\r\n"
               "DTSTART:%.4s%.2s%.2sT%.2s%.2s%.2sZ\r\nDTEND:%.4s%.2s%.2sT%.2s%.2s%.2sZ\r\n",
               now, now + 5, now + 8, now + 11, now + 14, now + 17, s, s + 5, s + 8, s + 11, s + 14,
               s + 17, e, e + 5, e + 8, e + 11, e + 14, e + 17);
    for (size_t i = 0; i < n;) {
        struct busy cur = b[i++];
        while (i < n && b[i].tentative == cur.tentative && b[i].start <= cur.end) {
            if (b[i].end > cur.end)
                cur.end = b[i].end;
            i++;
        }
        append_period(&out, &cur);
    }
    buf_puts(&out, "END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
    buf_free(&list);
    dav_reply(x, 200, "text/calendar; charset=utf-8", buf_take(&out));
}

/* ---- addressbook-query (RFC 6352 §8.6) ---------------------------------------------------------
 */

/* The limit of a report (RFC 6352 §10.6 CARDDAV:limit, RFC 5323 §5.17 DAV:limit in ns):
 * its nresults into *n (SIZE_MAX: none); false for a value that is no unsigned integer. */
static bool query_limit(const xmlNode *root, const char *ns, size_t *n)
{
    *n = SIZE_MAX;
    xmlNode *nr = dav_xml_child(dav_xml_child(root, ns, "limit"), ns, "nresults");
    if (!nr)
        return true;
    xmlChar *v = xmlNodeGetContent(nr);
    char *end = NULL;
    const char *t = v ? (const char *)v : "";
    while (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r')
        t++;
    unsigned long long u = isdigit((unsigned char)*t) ? strtoull(t, &end, 10) : 0;
    while (end && (*end == ' ' || *end == '\n' || *end == '\t' || *end == '\r'))
        end++;
    bool ok = end && !*end;
    *n = ok ? (size_t)u : SIZE_MAX;
    xmlFree(v);
    return ok;
}

/* RFC 6352 §8.6.2: a result set cut at the client's limit: 507 for the Request-URI with
 * DAV:number-of-matches-within-limits (RFC 3744 §9.2), not counted in the limit. */
static void truncated(struct dav_ctx *x, const struct dav_res *r, struct buf *b)
{
    buf_puts(b, "<D:response><D:href>");
    dav_res_href(x, r, b);
    buf_puts(b, "</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status>"
                "<D:error><D:number-of-matches-within-limits/></D:error></D:response>");
}

static bool addressbook_query(struct dav_ctx *x, struct dav_res *r, xmlNode *root, struct buf *b)
{
    xmlNode *prop = dav_xml_child(root, NS_DAV, "prop");
    xmlNode *filter = dav_xml_child(root, NS_CARDDAV, "filter");
    size_t limit;
    if (!query_limit(root, NS_CARDDAV, &limit)) {
        dav_reply(x, 400, "text/plain", xstrdup("nresults is no unsigned integer\n"));
        return false;
    }
    if (filter && !dav_filter_check_vcard(x, filter))
        return false;
    if (filter && !dav_xml_child(filter, NS_CARDDAV, "prop-filter"))
        filter = NULL; /* no test: every card */
    if (!data_options(x, r, prop))
        return false;
    json_t *ids = dav_member_ids(x, r);
    size_t i, found = 0;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        struct dav_res m;
        dav_child(x, r, json_string_value(id), &m);
        bool pass = true;
        if (filter) {
            m.obj = dav_member_load(x, r, m.obj_id);
            char *text = m.obj ? dav_object_render(x, &m, m.obj, false) : NULL;
            pass = text && dav_filter_vcard(text, filter);
            free(text);
        }
        if (pass && found == limit) {
            truncated(x, r, b);
            dav_res_clear(&m);
            break;
        }
        if (pass) {
            dav_propstats(x, &m, prop, b);
            found++;
        }
        dav_res_clear(&m);
    }
    json_decref(ids);
    return true;
}

/* ---- sync-collection (RFC 6578 §3) --------------------------------------------------------------
 */

struct change {
    char id[64];
    int64_t created;
    bool destroyed;
};

static int change_cb(const char *id, int64_t created, int64_t updated, bool destroyed, void *ud)
{
    json_t *list = ud;
    (void)updated;
    json_array_append_new(list, json_pack("{s:s, s:I, s:b}", "id", id, "created",
                                          (json_int_t)created, "destroyed", destroyed));
    return 0;
}

/* 404 responses for the names member m (changed since) left after since (a MOVE that
 * renamed it, dav_names.c): its old hrefs are removed members (§3.5.1), unless a name
 * is m's own again or now another live member's of the collection (that one is reported
 * itself). */
static void sync_former(struct dav_ctx *x, struct dav_res *m, int64_t since, struct buf *b)
{
    json_t *former =
        dav_name_former(x->c, m->acct->account_id, m->k->obj_type, m->obj_id, m->coll_id, since);
    size_t i;
    json_t *v;
    char now[256];
    snprintf(now, sizeof now, "%s", m->name);
    json_array_foreach(former, i, v)
    {
        const char *name = json_string_value(v);
        char other[64];
        if (strcmp(name, now) == 0 || strlen(name) > 255 ||
            (json_object_get(x->name_ids, name) &&
             dav_name_lookup(x->c, m->acct->account_id, m->k->obj_type, m->coll_id, name, m->k->ext,
                             other, NULL)))
            continue;
        snprintf(m->name, sizeof m->name, "%s", name);
        struct buf h = {0};
        dav_res_href(x, m, &h);
        char *href = buf_take(&h);
        dav_status_response(b, href, 404);
        free(href);
    }
    snprintf(m->name, sizeof m->name, "%s", now);
    json_decref(former);
}

/* The members of r changed since a state: present ones with their properties,
 * gone ones (destroyed, or moved out) as 404 (§3.5.1 "removed members"), and the
 * hrefs a rename left as 404 too. */
static void sync_changes(struct dav_ctx *x, struct dav_res *r, xmlNode *prop, int64_t since,
                         struct buf *b)
{
    json_t *list = json_array();
    const char *a = r->acct->account_id;
    store_changes(x->c, a, r->k->obj_type, since, 0, change_cb, list);
    size_t i;
    json_t *ch;
    dav_member_index(x, r, false); /* the modseqs and names of the changed */
    bool only = store_object_count(x->c, a, r->k->coll_type) == 1;
    json_array_foreach(list, i, ch)
    {
        const char *id = json_string_value(json_object_get(ch, "id"));
        bool new_since = json_integer_value(json_object_get(ch, "created")) > since;
        bool gone = json_is_true(json_object_get(ch, "destroyed"));
        struct dav_res m;
        dav_child(x, r, id, &m);
        if (!gone && member_in(x, r, &m, only)) {
            dav_propstats(x, &m, prop, b);
        } else if (!new_since) {
            struct buf h = {0};
            dav_res_href(x, &m, &h);
            char *href = buf_take(&h);
            dav_status_response(b, href, 404);
            free(href);
        }
        if (!new_since)
            sync_former(x, &m, since, b);
        dav_res_clear(&m);
    }
    json_decref(list);
}

/* Whether the multistatus text s holds more than limit responses. */
static bool responses_over(const char *s, size_t limit)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, "<D:response>")); p += 12)
        if (++n > limit)
            return true;
    return false;
}

static bool sync_collection(struct dav_ctx *x, struct dav_res *r, xmlNode *root, struct buf *b)
{
    /* §3.2: Depth 0 only. python3-caldav 0.11 sends Depth: 1, which older drafts
     * used for the scope (Appendix A): accepted as sync-level 1. */
    const char *depth = x->q->depth;
    if (depth && strcmp(depth, "0") != 0 && strcmp(depth, "1") != 0) {
        dav_reply(x, 400, "text/plain", xstrdup("sync-collection needs Depth: 0\n"));
        return false;
    }
    xmlNode *level = dav_xml_child(root, NS_DAV, "sync-level");
    xmlChar *lv = level ? xmlNodeGetContent(level) : NULL;
    bool infinite = lv && strcmp((const char *)lv, "infinite") == 0;
    xmlFree(lv);
    if (infinite) { /* §3.3: members are never collections here */
        dav_error(x, 403, NS_DAV, "sync-traversal-supported", NULL);
        return false;
    }
    xmlNode *tok = dav_xml_child(root, NS_DAV, "sync-token");
    xmlChar *t = tok ? xmlNodeGetContent(tok) : NULL;
    const char *ts = t ? (const char *)t : "";
    const char *a = r->acct->account_id;
    int64_t since = 0, current = dav_state(x, a, r->k->obj_type);
    bool ok = true;
    if (*ts) {
        char *end = NULL;
        size_t n = strlen(SYNC_PREFIX);
        ok = strncmp(ts, SYNC_PREFIX, n) == 0 && ts[n] >= '0' && ts[n] <= '9';
        since = ok ? strtoll(ts + n, &end, 10) : 0;
        ok =
            ok && !*end && since <= current && since >= store_state_lowest(x->c, a, r->k->obj_type);
    }
    xmlFree(t);
    if (!ok) { /* §3.2: an unknown or too old token */
        dav_error(x, 403, NS_DAV, "valid-sync-token", NULL);
        return false;
    }
    size_t limit;
    if (!query_limit(root, NS_DAV, &limit)) {
        dav_reply(x, 400, "text/plain", xstrdup("nresults is no unsigned integer\n"));
        return false;
    }
    xmlNode *prop = dav_xml_child(root, NS_DAV, "prop");
    if (!data_options(x, r, prop))
        return false;
    size_t at = b->len;
    if (since == 0) {
        dav_list_members(x, r, prop, b);
    } else {
        sync_changes(x, r, prop, since, b);
    }
    if (limit != SIZE_MAX && responses_over(b->data + at, limit)) {
        /* §3.7: a result this server does not cut at the client's limit fails (§3.12) */
        dav_error(x, 507, NS_DAV, "number-of-matches-within-limits", NULL);
        return false;
    }
    buf_printf(b, "<D:sync-token>" SYNC_PREFIX "%lld</D:sync-token>", (long long)current);
    return true;
}

/* ---- dispatch
 * ------------------------------------------------------------------------------------ */

void dav_report(struct dav_ctx *x, struct dav_res *r)
{
    const char *why;
    xmlDoc *d = dav_xml_parse(x->q->body, x->q->len, &why);
    if (!d) {
        dav_reply(x, 400, "text/plain", xstrdup(why));
        return;
    }
    xmlNode *root = xmlDocGetRootElement(d);
    if (dav_principal_report(x, r, root)) { /* RFC 3744 §9.4, §9.5 (dav_principal.c) */
        xmlFreeDoc(d);
        return;
    }
    const struct dav_kind *k = r->k;
    bool ok = true;
    struct buf b = {0};
    dav_ms_begin(&b);
    if (r->t != DR_COLL || !r->coll) {
        dav_error(x, r->t == DR_COLL ? 404 : 403, r->t == DR_COLL ? NULL : NS_DAV,
                  r->t == DR_COLL ? NULL : "supported-report", NULL);
        ok = false;
    } else if (r->freebusy_only && !dav_xml_is(root, NS_CALDAV, "free-busy-query")) {
        dav_need_privilege(x, r, false, NS_DAV, "read"); /* shared for free/busy alone */
        ok = false;
    } else if (dav_xml_is(root, NS_DAV, "sync-collection")) {
        ok = sync_collection(x, r, root, &b);
    } else if (dav_xml_is(root, k->ns,
                          k->calendar ? "calendar-multiget" : "addressbook-multiget")) {
        ok = multiget(x, r, root, &b);
    } else if (k->calendar && dav_xml_is(root, NS_CALDAV, "calendar-query")) {
        ok = calendar_query(x, r, root, &b);
    } else if (k == &dav_calendars && dav_xml_is(root, NS_CALDAV, "free-busy-query")) {
        free_busy_query(x, r, root);
        ok = false; /* answered as text/calendar, not a multistatus */
    } else if (!k->calendar && dav_xml_is(root, NS_CARDDAV, "addressbook-query")) {
        ok = addressbook_query(x, r, root, &b);
    } else {
        dav_error(x, 403, NS_DAV, "supported-report", NULL); /* RFC 3253 §3.6 */
        ok = false;
    }
    dav_ms_end(&b);
    if (ok)
        dav_reply_xml(x, 207, &b);
    buf_free(&b);
    xmlFreeDoc(d);
}
