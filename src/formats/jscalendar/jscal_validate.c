/*
 * jscal_validate.c — validation and normalisation of JSCalendar objects
 * (draft-ietf-calext-jscalendarbis-08 §1.4, §4, §5; the "iCalendar" property of
 * draft-ietf-calext-jscalendar-icalendar-25 §5.1.1). Every problem is reported as a
 * property path; unknown and vendor properties are left alone.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "formats/icalendar/ical_internal.h"
#include "formats/jscalendar/jscal.h"
#include "formats/recurrence/recur.h"
#include "formats/timezone/tz.h"

typedef struct {
    json_t *invalid;
    int flags;
    const json_t *root; /* the Event/Task being checked (for carried time zones) */
    int is_task;
} vctx;

static void bad(vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(vctx *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (!s)
        return;
    /* one entry per path */
    size_t i;
    json_t *e;
    json_array_foreach(v->invalid, i, e) if (!strcmp(json_string_value(e), s))
    {
        free(s);
        return;
    }
    json_array_append_new(v->invalid, json_string(s));
    free(s);
}

static char *join(const char *prefix, const char *name)
{
    return *prefix ? jscal_strdupf("%s/%s", prefix, name) : strdup(name);
}

/* ---- primitive checks ----------------------------------------------------------------- */

static int is_uint(const json_t *j)
{
    return json_is_integer(j) && json_integer_value(j) >= 0 &&
           json_integer_value(j) <= 9007199254740991LL;
}

static int is_int(const json_t *j)
{
    return json_is_integer(j) && json_integer_value(j) >= -9007199254740991LL &&
           json_integer_value(j) <= 9007199254740991LL;
}

static int is_ldt(const json_t *j)
{
    jscal_ldt t;
    return json_is_string(j) && !jscal_ldt_parse(json_string_value(j), &t);
}

static int is_utc(const json_t *j)
{
    jscal_ldt t;
    return json_is_string(j) && !jscal_utc_parse(json_string_value(j), &t);
}

static int is_dur(const json_t *j, int sign)
{
    jscal_dur d;
    return json_is_string(j) && !jscal_dur_parse(json_string_value(j), sign, &d);
}

int jscal_timezone_known(const char *s, const json_t *obj)
{
    if (!s)
        return 0;
    if (tz_builtin(s))
        return 1;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(obj, "iCalendar"), "components"), i, c)
    {
        const char *name = json_string_value(json_array_get(c, 0));
        if (!name || strcasecmp(name, "vtimezone"))
            continue;
        size_t k;
        json_t *p;
        json_array_foreach(json_array_get(c, 1), k, p)
        {
            const char *pn = json_string_value(json_array_get(p, 0));
            const char *pv = json_string_value(json_array_get(p, 3));
            if (pn && pv && !strcasecmp(pn, "tzid") && !strcmp(pv, s))
                return 1;
        }
    }
    return 0;
}

/* Checks obj[name] with a predicate; reports prefix/name. Returns the value or NULL. */
typedef enum { T_STRING, T_BOOL, T_UINT, T_INT, T_LDT, T_UTC, T_DUR, T_SDUR, T_TZ, T_OBJ } vtype;

static json_t *check(vctx *v, json_t *obj, const char *prefix, const char *name, vtype t,
                     int mandatory)
{
    json_t *j = json_object_get(obj, name);
    if (!j) {
        if (mandatory)
            goto fail;
        return NULL;
    }
    int ok = 0;
    switch (t) {
    case T_STRING:
        ok = json_is_string(j);
        break;
    case T_BOOL:
        ok = json_is_boolean(j);
        break;
    case T_UINT:
        ok = is_uint(j);
        break;
    case T_INT:
        ok = is_int(j);
        break;
    case T_LDT:
        ok = is_ldt(j);
        break;
    case T_UTC:
        ok = is_utc(j);
        break;
    case T_DUR:
        ok = is_dur(j, 0);
        break;
    case T_SDUR:
        ok = is_dur(j, 1);
        break;
    case T_TZ:
        ok = json_is_null(j) || (json_is_string(j) && jscal_timezone_known(json_string_value(j), v->root));
        break;
    case T_OBJ:
        ok = json_is_object(j);
        break;
    }
    if (ok)
        return j;
fail:;
    char *p = join(prefix, name);
    bad(v, "%s", p);
    free(p);
    return NULL;
}

static void check_type(vctx *v, json_t *obj, const char *prefix, const char *type, int required)
{
    json_t *t = json_object_get(obj, "@type");
    if (!t) {
        if (required) {
            char *p = join(prefix, "@type");
            bad(v, "%s", p);
            free(p);
        } else if (v->flags & JSCAL_NORMALIZE) {
            json_object_set_new(obj, "@type", json_string(type));
        }
        return;
    }
    if (!json_is_string(t) || strcmp(json_string_value(t), type)) {
        char *p = join(prefix, "@type");
        bad(v, "%s", p);
        free(p);
    }
}

/* String[Boolean] with all values true; keys optionally restricted. */
static void check_set(vctx *v, json_t *obj, const char *prefix, const char *name, int nonempty,
                      const char *const *allowed)
{
    json_t *j = json_object_get(obj, name);
    if (!j)
        return;
    char *p = join(prefix, name);
    if (!json_is_object(j) || (nonempty && !json_object_size(j))) {
        bad(v, "%s", p);
        free(p);
        return;
    }
    const char *k;
    json_t *e;
    json_object_foreach(j, k, e)
    {
        int ok = json_is_true(e) && *k;
        if (ok && allowed && !strchr(k, ':')) {
            ok = 0;
            for (const char *const *a = allowed; *a; a++)
                ok |= !strcmp(*a, k);
        }
        if (!ok)
            bad(v, "%s/%s", p, k);
    }
    free(p);
}

static void check_enum(vctx *v, json_t *obj, const char *prefix, const char *name,
                       const char *const *allowed, int vendor_ok)
{
    json_t *j = check(v, obj, prefix, name, T_STRING, 0);
    if (!j)
        return;
    const char *s = json_string_value(j);
    if (vendor_ok && strchr(s, ':'))
        return;
    for (const char *const *a = allowed; *a; a++)
        if (!strcmp(*a, s))
            return;
    char *p = join(prefix, name);
    bad(v, "%s", p);
    free(p);
}

/* Id[...] maps: keys must be Ids, values objects; calls fn for each. */
typedef void (*entry_fn)(vctx *v, json_t *val, const char *path);

static void check_map(vctx *v, json_t *obj, const char *prefix, const char *name, entry_fn fn,
                      int ids)
{
    json_t *j = json_object_get(obj, name);
    if (!j)
        return;
    char *p = join(prefix, name);
    if (!json_is_object(j)) {
        bad(v, "%s", p);
        free(p);
        return;
    }
    const char *k;
    json_t *e;
    json_object_foreach(j, k, e)
    {
        char *ep = jscal_strdupf("%s/%s", p, k);
        if ((ids && !jid_valid(k)) || !json_is_object(e))
            bad(v, "%s", ep);
        else
            fn(v, e, ep);
        free(ep);
    }
    free(p);
}

/* ---- object types --------------------------------------------------------------------- */

static void check_link(vctx *v, json_t *l, const char *p)
{
    check_type(v, l, p, "Link", 0);
    check(v, l, p, "href", T_STRING, 1);
    check(v, l, p, "contentType", T_STRING, 0);
    check(v, l, p, "size", T_UINT, 0);
    check(v, l, p, "rel", T_STRING, 0);
    check(v, l, p, "title", T_STRING, 0);
    static const char *const disp[] = {"badge", "graphic", "fullsize", "thumbnail", NULL};
    check_set(v, l, p, "display", 0, disp);
}

static void check_relation(vctx *v, json_t *r, const char *p)
{
    check_type(v, r, p, "Relation", 0);
    check_set(v, r, p, "relation", 0, NULL);
}

static void check_location(vctx *v, json_t *l, const char *p)
{
    check_type(v, l, p, "Location", 0);
    size_t n = json_object_size(l) - (json_object_get(l, "@type") ? 1 : 0);
    if (n == 0)
        bad(v, "%s", p);
    check(v, l, p, "name", T_STRING, 0);
    check_set(v, l, p, "locationTypes", 0, NULL);
    json_t *c = check(v, l, p, "coordinates", T_STRING, 0);
    if (c && strncasecmp(json_string_value(c), "geo:", 4))
        bad(v, "%s/coordinates", p);
    check_map(v, l, p, "links", check_link, 1);
}

static void check_vloc(vctx *v, json_t *l, const char *p)
{
    check_type(v, l, p, "VirtualLocation", 0);
    check(v, l, p, "uri", T_STRING, 1);
    check(v, l, p, "name", T_STRING, 0);
    check_set(v, l, p, "features", 0, NULL);
}

static void check_participant(vctx *v, json_t *pt, const char *p)
{
    check_type(v, pt, p, "Participant", 0);
    check(v, pt, p, "name", T_STRING, 0);
    check(v, pt, p, "email", T_STRING, 0);
    check(v, pt, p, "description", T_STRING, 0);
    if (check(v, pt, p, "descriptionContentType", T_STRING, 0) &&
        !json_object_get(pt, "description"))
        bad(v, "%s/descriptionContentType", p);
    json_t *addr = check(v, pt, p, "calendarAddress", T_STRING, 0);
    check(v, pt, p, "kind", T_STRING, 0);
    check_set(v, pt, p, "roles", 1, NULL);
    check(v, pt, p, "participationStatus", T_STRING, 0);
    check(v, pt, p, "expectReply", T_BOOL, 0);
    check(v, pt, p, "sentBy", T_STRING, 0);
    check_set(v, pt, p, "delegatedTo", 1, NULL);
    check_set(v, pt, p, "delegatedFrom", 1, NULL);
    check_set(v, pt, p, "memberOf", 1, NULL);
    check_map(v, pt, p, "links", check_link, 1);
    /* draft-ietf-jmap-calendars-27 §5.2 */
    check(v, pt, p, "scheduleSequence", T_UINT, 0);
    check(v, pt, p, "scheduleUpdated", T_UTC, 0);
    check(v, pt, p, "scheduleForceSend", T_BOOL, 0);
    check(v, pt, p, "scheduleAgent", T_STRING, 0);
    json_t *prog = check(v, pt, p, "progress", T_STRING, 0);
    json_t *pc = check(v, pt, p, "percentComplete", T_UINT, 0);
    if (pc && json_integer_value(pc) > 100)
        bad(v, "%s/percentComplete", p);
    if (!v->is_task && prog)
        bad(v, "%s/progress", p);
    if (!v->is_task && pc)
        bad(v, "%s/percentComplete", p);
    if (prog) {
        json_t *ps = json_object_get(pt, "participationStatus");
        if (ps && (!json_is_string(ps) || strcmp(json_string_value(ps), "accepted")))
            bad(v, "%s/progress", p);
    }
    /* jscalendarbis §4.4.5: these require calendarAddress. */
    static const char *const need_addr[] = {"kind", "roles", "participationStatus", "expectReply",
                                            "sentBy", "delegatedTo", "delegatedFrom",
                                            "memberOf", "progress", NULL};
    if (!addr && !(v->flags & JSCAL_RELAXED))
        for (const char *const *n = need_addr; *n; n++)
            if (json_object_get(pt, *n))
                bad(v, "%s/%s", p, *n);
}

static void check_alert(vctx *v, json_t *a, const char *p)
{
    check_type(v, a, p, "Alert", 0);
    json_t *t = json_object_get(a, "trigger");
    char *tp = jscal_strdupf("%s/trigger", p);
    if (!json_is_object(t)) {
        bad(v, "%s", tp);
    } else {
        json_t *ty = json_object_get(t, "@type");
        const char *type = json_is_string(ty) ? json_string_value(ty) : NULL;
        if (ty && !type)
            bad(v, "%s/@type", tp);
        else if (!type || !strcmp(type, "OffsetTrigger")) {
            if (!type && (v->flags & JSCAL_NORMALIZE))
                json_object_set_new(t, "@type", json_string("OffsetTrigger"));
            check(v, t, tp, "offset", T_SDUR, 1);
            static const char *const rel[] = {"start", "end", NULL};
            check_enum(v, t, tp, "relativeTo", rel, 0);
        } else if (!strcmp(type, "AbsoluteTrigger")) {
            check(v, t, tp, "when", T_UTC, 1);
        } /* UnknownTrigger: preserved as is */
    }
    free(tp);
    check(v, a, p, "acknowledged", T_UTC, 0);
    check_map(v, a, p, "relatedTo", check_relation, 0);
    check(v, a, p, "action", T_STRING, 0);
}

static void check_int_list(vctx *v, json_t *r, const char *p, const char *name, long lo,
                           long hi, int nonzero)
{
    json_t *a = json_object_get(r, name);
    if (!a)
        return;
    if (!json_is_array(a) || !json_array_size(a)) {
        bad(v, "%s/%s", p, name);
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e)
    {
        if (!json_is_integer(e) || json_integer_value(e) < lo || json_integer_value(e) > hi ||
            (nonzero && json_integer_value(e) == 0)) {
            bad(v, "%s/%s", p, name);
            return;
        }
    }
}

static void check_rrule(vctx *v, json_t *r, const char *p)
{
    check_type(v, r, p, "RecurrenceRule", 0);
    static const char *const freqs[] = {"yearly", "monthly", "weekly", "daily", "hourly",
                                        "minutely", "secondly", NULL};
    static const char *const days[] = {"mo", "tu", "we", "th", "fr", "sa", "su", NULL};
    static const char *const skips[] = {"omit", "backward", "forward", NULL};
    if (!json_object_get(r, "frequency"))
        bad(v, "%s/frequency", p);
    check_enum(v, r, p, "frequency", freqs, 0);
    json_t *iv = check(v, r, p, "interval", T_UINT, 0);
    if (iv && json_integer_value(iv) < 1)
        bad(v, "%s/interval", p);
    check(v, r, p, "rscale", T_STRING, 0);
    check_enum(v, r, p, "skip", skips, 0);
    check_enum(v, r, p, "firstDayOfWeek", days, 0);
    json_t *bd = json_object_get(r, "byDay");
    if (bd) {
        if (!json_is_array(bd) || !json_array_size(bd))
            bad(v, "%s/byDay", p);
        size_t i;
        json_t *e;
        json_array_foreach(bd, i, e)
        {
            char *ep = jscal_strdupf("%s/byDay", p);
            if (!json_is_object(e)) {
                bad(v, "%s", ep);
            } else {
                check_type(v, e, ep, "NDay", 0);
                check_enum(v, e, ep, "day", days, 0);
                if (!json_object_get(e, "day"))
                    bad(v, "%s/day", ep);
                json_t *n = check(v, e, ep, "nthOfPeriod", T_INT, 0);
                if (n && (json_integer_value(n) == 0 || json_integer_value(n) > 53 ||
                          json_integer_value(n) < -53))
                    bad(v, "%s/nthOfPeriod", ep);
            }
            free(ep);
        }
    }
    check_int_list(v, r, p, "byMonthDay", -31, 31, 1);
    check_int_list(v, r, p, "byYearDay", -366, 366, 1);
    check_int_list(v, r, p, "byWeekNo", -53, 53, 1);
    check_int_list(v, r, p, "byHour", 0, 23, 0);
    check_int_list(v, r, p, "byMinute", 0, 59, 0);
    check_int_list(v, r, p, "bySecond", 0, 60, 0);
    check_int_list(v, r, p, "bySetPosition", -366, 366, 1);
    json_t *bm = json_object_get(r, "byMonth");
    if (bm) {
        int ok = json_is_array(bm) && json_array_size(bm);
        size_t i;
        json_t *e;
        json_array_foreach(bm, i, e)
        {
            const char *s = json_string_value(e);
            char *end = NULL;
            long m = s ? strtol(s, &end, 10) : 0;
            if (!s || end == s || m < 1 || m > 13 || (*end && strcmp(end, "L")))
                ok = 0;
        }
        if (!ok)
            bad(v, "%s/byMonth", p);
    }
    check(v, r, p, "count", T_UINT, 0);
    check(v, r, p, "until", T_LDT, 0);
    if (json_object_get(r, "count") && json_object_get(r, "until"))
        bad(v, "%s/until", p);
}

static void check_icalendar(vctx *v, json_t *ic, const char *p)
{
    check_type(v, ic, p, "ICalComponent", 0);
    check(v, ic, p, "name", T_STRING, 1);
    json_t *props = json_object_get(ic, "properties");
    if (props) {
        ical_comp *tmp = ical_comp_new("X");
        size_t i;
        json_t *e;
        if (!json_is_array(props))
            bad(v, "%s/properties", p);
        json_array_foreach(props, i, e)
        {
            char *err = NULL;
            if (!ical_prop_from_jcal(tmp, e, &err))
                bad(v, "%s/properties/%zu", p, i);
            free(err);
        }
        ical_comp_free(tmp);
    }
    json_t *comps = json_object_get(ic, "components");
    if (comps) {
        size_t i;
        json_t *e;
        if (!json_is_array(comps))
            bad(v, "%s/components", p);
        json_array_foreach(comps, i, e)
        {
            char *err = NULL;
            ical_comp *c = ical_comp_from_jcal(e, &err);
            if (!c)
                bad(v, "%s/components/%zu", p, i);
            ical_comp_free(c);
            free(err);
        }
    }
    json_t *cp = json_object_get(ic, "convertedProperties");
    if (cp && !json_is_object(cp))
        bad(v, "%s/convertedProperties", p);
    const char *k;
    json_t *e;
    /* draft-ietf-calext-jscalendar-icalendar-25 §5.1.1: name is an iCalendar property
     * name and parameters iCalendar parameters (RFC 5545 §3.1), never other syntax */
    json_object_foreach(cp, k, e)
    {
        json_t *params = json_object_get(e, "parameters");
        if (!json_is_object(e) || !ical_name_valid(json_string_value(json_object_get(e, "name"))) ||
            (params && !ical_params_json_valid(params)))
            bad(v, "%s/convertedProperties/%s", p, k);
    }
}

static void check_entry(vctx *v, json_t *o, const char *prefix, int in_patch);

/* RFC 8984 names that JSCalendar 2.0 replaced are never kept as unknown data the server
 * would then ignore (issue 12 §2.3): jscal_upgrade converts them where the meaning is
 * clear; what is left here is invalid. "version" is "1.0" or "2.0" (jscalendarbis-17
 * §4.1.x "version"). */
static void check_legacy(vctx *v, json_t *o, const char *prefix)
{
    static const char *const gone[] = {"recurrenceRules", "excludedRecurrenceRules", "replyTo",
                                       NULL};
    for (const char *const *g = gone; *g; g++)
        if (json_object_get(o, *g)) {
            char *p = join(prefix, *g);
            bad(v, "%s", p);
            free(p);
        }
    json_t *ver = json_object_get(o, "version");
    if (ver && (!json_is_string(ver) || (strcmp(json_string_value(ver), "2.0") &&
                                         strcmp(json_string_value(ver), "1.0")))) {
        char *p = join(prefix, "version");
        bad(v, "%s", p);
        free(p);
    }
    const char *k;
    json_t *pt;
    json_object_foreach(json_object_get(o, "participants"), k, pt)
    {
        if (json_is_object(pt) && json_object_get(pt, "sendTo")) {
            char *p = jscal_strdupf("%s%sparticipants/%s/sendTo", prefix, *prefix ? "/" : "", k);
            bad(v, "%s", p);
            free(p);
        }
    }
}

static void check_overrides(vctx *v, json_t *o, const char *prefix)
{
    json_t *ovs = json_object_get(o, "recurrenceOverrides");
    if (!ovs)
        return;
    char *p = join(prefix, "recurrenceOverrides");
    if (!json_is_object(ovs)) {
        bad(v, "%s", p);
        free(p);
        return;
    }
    const char *k;
    json_t *patch;
    json_object_foreach(ovs, k, patch)
    {
        jscal_ldt t;
        if (jscal_ldt_parse(k, &t) || !json_is_object(patch)) {
            bad(v, "%s/%s", p, k);
            continue;
        }
        /* jmap-calendars §5.1: these may only be set on the base object */
        static const char *const base_only[] = {"mayInviteSelf", "mayInviteOthers", "hideAttendees",
                                                NULL};
        for (const char *const *b = base_only; *b; b++)
            if (json_object_get(patch, *b))
                bad(v, "%s/%s/%s", p, k, *b);
        json_t *ex = json_object_get(patch, "excluded");
        if (ex) {
            if (!json_is_true(ex) || json_object_size(patch) != 1)
                bad(v, "%s/%s/excluded", p, k);
            continue;
        }
        /* Apply the patch to the object and validate the result (§1.4.9 rule 4). The
         * copy leaves out the overrides: copying them for each one was n^2 (issue 19 §4). */
        json_t *top = json_copy(o);
        json_object_del(top, "recurrenceOverrides");
        json_object_del(top, "recurrenceRule");
        json_t *inst = json_deep_copy(top);
        json_decref(top);
        json_object_set_new(inst, json_object_get(o, "start") || !json_object_get(o, "due") ? "start" : "due",
                            json_string(k));
        char *errpath = NULL;
        json_t *fp = jscal_override_patch_filter(patch); /* ignored keys, §4.3.4 */
        int prc = jscal_patch_apply(inst, fp, &errpath);
        json_decref(fp);
        if (prc) {
            bad(v, "%s/%s/%s", p, k, errpath ? errpath : "");
            free(errpath);
        } else {
            vctx sub = {.invalid = json_array(), .flags = v->flags & ~JSCAL_NORMALIZE, .root = inst};
            json_object_del(inst, "recurrenceId");
            check_entry(&sub, inst, "", 1);
            size_t i;
            json_t *e;
            json_array_foreach(sub.invalid, i, e) bad(v, "%s/%s/%s", p, k, json_string_value(e));
            json_decref(sub.invalid);
        }
        json_decref(inst);
    }
    free(p);
}

/* The descriptive and relation properties of an entry, uid to mainLocationId. */
static void check_entry_basics(vctx *v, json_t *o, const char *prefix, int server_set_ok)
{
    json_t *uid = check(v, o, prefix, "uid", T_STRING, !server_set_ok);
    if (uid && !*json_string_value(uid)) {
        char *p = join(prefix, "uid");
        bad(v, "%s", p);
        free(p);
    }
    check(v, o, prefix, "updated", T_UTC, !server_set_ok);
    check_legacy(v, o, prefix);
    check(v, o, prefix, "created", T_UTC, 0);
    check(v, o, prefix, "sequence", T_UINT, 0);
    check(v, o, prefix, "method", T_STRING, 0);
    check(v, o, prefix, "prodId", T_STRING, 0);
    check(v, o, prefix, "title", T_STRING, 0);
    check(v, o, prefix, "description", T_STRING, 0);
    json_t *dct = check(v, o, prefix, "descriptionContentType", T_STRING, 0);
    if (dct && strncasecmp(json_string_value(dct), "text/", 5)) {
        char *p = join(prefix, "descriptionContentType");
        bad(v, "%s", p);
        free(p);
    }
    check(v, o, prefix, "showWithoutTime", T_BOOL, 0);
    check(v, o, prefix, "locale", T_STRING, 0);
    check(v, o, prefix, "color", T_STRING, 0);
    check_set(v, o, prefix, "keywords", 0, NULL);
    check_set(v, o, prefix, "categories", 0, NULL);
    check_map(v, o, prefix, "relatedTo", check_relation, 0);
    check_map(v, o, prefix, "locations", check_location, 1);
    check_map(v, o, prefix, "virtualLocations", check_vloc, 1);
    check_map(v, o, prefix, "links", check_link, 1);
    json_t *main = check(v, o, prefix, "mainLocationId", T_STRING, 0);
    if (main) {
        json_t *l = json_object_get(json_object_get(o, "locations"), json_string_value(main));
        if (!l || !json_is_string(json_object_get(l, "name"))) {
            char *p = join(prefix, "mainLocationId");
            bad(v, "%s", p);
            free(p);
        }
    }
}

/* timeZone and the recurrence properties; sets *tz and *rr to the timeZone and
 * recurrenceRule values, which the start/due checks use. */
static void check_entry_recurrence(vctx *v, json_t *o, const char *prefix, json_t **tz, json_t **rr)
{
    *tz = check(v, o, prefix, "timeZone", T_TZ, 0);
    json_t *rid = check(v, o, prefix, "recurrenceId", T_LDT, 0);
    if (check(v, o, prefix, "recurrenceIdTimeZone", T_TZ, 0) && !rid) {
        char *p = join(prefix, "recurrenceIdTimeZone");
        bad(v, "%s", p);
        free(p);
    }
    *rr = json_object_get(o, "recurrenceRule");
    if (*rr && !json_is_null(*rr)) {
        char *p = join(prefix, "recurrenceRule");
        if (!json_is_object(*rr))
            bad(v, "%s", p);
        else
            check_rrule(v, *rr, p);
        if (rid)
            bad(v, "%s", p);
        free(p);
    }
    if (rid && json_object_get(o, "recurrenceOverrides")) {
        char *p = join(prefix, "recurrenceOverrides");
        bad(v, "%s", p);
        free(p);
    }
}

/* priority to the CalendarEvent booleans: scheduling, participants, alerts, iCalendar. */
static void check_entry_scheduling(vctx *v, json_t *o, const char *prefix)
{
    json_t *prio = check(v, o, prefix, "priority", T_INT, 0);
    if (prio && (json_integer_value(prio) < 0 || json_integer_value(prio) > 9)) {
        char *p = join(prefix, "priority");
        bad(v, "%s", p);
        free(p);
    }
    static const char *const fbs[] = {"free", "busy", NULL};
    static const char *const privs[] = {"public", "private", "secret", NULL};
    check_enum(v, o, prefix, "freeBusyStatus", fbs, 1);
    check_enum(v, o, prefix, "privacy", privs, 1);
    json_t *org = check(v, o, prefix, "organizerCalendarAddress", T_STRING, 0);
    check_map(v, o, prefix, "participants", check_participant, 1);
    if (!org && !(v->flags & JSCAL_RELAXED)) {
        const char *k;
        json_t *pt;
        json_object_foreach(json_object_get(o, "participants"), k, pt)
        {
            if (json_object_get(pt, "calendarAddress")) {
                char *p = join(prefix, "organizerCalendarAddress");
                bad(v, "%s", p);
                free(p);
                break;
            }
        }
    }
    check_map(v, o, prefix, "alerts", check_alert, 1);
    json_t *ic = json_object_get(o, "iCalendar");
    if (ic) {
        char *p = join(prefix, "iCalendar");
        if (!json_is_object(ic))
            bad(v, "%s", p);
        else
            check_icalendar(v, ic, p);
        free(p);
    }
    check(v, o, prefix, "duration", T_DUR, 0);
    /* draft-ietf-jmap-calendars-27 §5.1 and the CalendarEvent properties */
    static const char *const bools[] = {"mayInviteSelf",    "mayInviteOthers", "hideAttendees",
                                        "useDefaultAlerts", "isDraft",         NULL};
    for (const char *const *b = bools; *b; b++)
        check(v, o, prefix, *b, T_BOOL, 0);
}

/* The Event-only properties: start is required, endTimeZone needs a timeZone. */
static void check_event_times(vctx *v, json_t *o, const char *prefix, const json_t *tz)
{
    json_t *st = check(v, o, prefix, "start", T_LDT, 1);
    (void)st;
    json_t *etz = check(v, o, prefix, "endTimeZone", T_TZ, 0);
    if (etz && (!tz || json_is_null(tz))) {
        char *p = join(prefix, "endTimeZone");
        bad(v, "%s", p);
        free(p);
    }
    check(v, o, prefix, "status", T_STRING, 0);
}

/* The Task-only properties; a Task with neither start nor due may not have a timeZone,
 * showWithoutTime true or a recurrenceRule. */
static void check_task_times(vctx *v, json_t *o, const char *prefix, const json_t *tz,
                             const json_t *rr)
{
    json_t *st = check(v, o, prefix, "start", T_LDT, 0);
    json_t *due = check(v, o, prefix, "due", T_LDT, 0);
    check(v, o, prefix, "estimatedDuration", T_DUR, 0);
    json_t *pc = check(v, o, prefix, "percentComplete", T_UINT, 0);
    if (pc && json_integer_value(pc) > 100) {
        char *p = join(prefix, "percentComplete");
        bad(v, "%s", p);
        free(p);
    }
    check(v, o, prefix, "progress", T_STRING, 0);
    /* jscalendarbis §5.2 and §4.3.3 */
    if (!st && !due &&
        ((tz && !json_is_null(tz)) || json_is_true(json_object_get(o, "showWithoutTime")))) {
        char *p = join(prefix, "start");
        bad(v, "%s", p);
        free(p);
    }
    if (!st && !due && rr && !json_is_null(rr)) {
        char *p = join(prefix, "recurrenceRule");
        bad(v, "%s", p);
        free(p);
    }
}

/* JSCAL_STRICT_VENDOR: every property name is a known one or vendor-prefixed ("x:y"). */
static void check_vendor_names(vctx *v, json_t *o, const char *prefix)
{
    static const char *const known[] = {
        "@type", "uid", "updated", "created", "sequence", "method", "prodId", "title",
        "description", "descriptionContentType", "showWithoutTime", "locale", "color", "keywords",
        "categories", "relatedTo", "locations", "virtualLocations", "links", "mainLocationId",
        "timeZone", "recurrenceId", "recurrenceIdTimeZone", "recurrenceRule", "recurrenceOverrides",
        "priority", "freeBusyStatus", "privacy", "organizerCalendarAddress", "participants",
        "alerts", "iCalendar", "duration", "start", "endTimeZone", "status", "due",
        "estimatedDuration", "percentComplete", "progress", "sentBy", "excluded",
        /* draft-ietf-jmap-calendars-27 additions */
        "id", "calendarIds", "isDraft", "isOrigin", "utcStart", "utcEnd", "baseEventId",
        "useDefaultAlerts", "mayInviteSelf", "mayInviteOthers", "hideAttendees", "blobId", NULL};
    const char *k;
    json_t *e;
    json_object_foreach(o, k, e)
    {
        int ok = strchr(k, ':') != NULL;
        for (const char *const *s = known; !ok && *s; s++)
            ok = !strcmp(*s, k);
        if (!ok) {
            char *p = join(prefix, k);
            bad(v, "%s", p);
            free(p);
        }
    }
}

/* Checks one Event or Task (or a patched override instance, in_patch), reporting invalid
 * properties in the order of the checks. */
static void check_entry(vctx *v, json_t *o, const char *prefix, int in_patch)
{
    const json_t *saved_root = v->root;
    v->root = o;
    const char *type = json_string_value(json_object_get(o, "@type"));
    int is_task = type && !strcmp(type, "Task");
    v->is_task = is_task;
    int server_set_ok = (v->flags & JSCAL_ALLOW_MISSING_SERVER_SET) || in_patch;
    json_t *tz, *rr;
    check_entry_basics(v, o, prefix, server_set_ok);
    check_entry_recurrence(v, o, prefix, &tz, &rr);
    check_entry_scheduling(v, o, prefix);
    if (!is_task)
        check_event_times(v, o, prefix, tz);
    else
        check_task_times(v, o, prefix, tz, rr);
    if (v->flags & JSCAL_STRICT_VENDOR)
        check_vendor_names(v, o, prefix);
    if (!in_patch)
        check_overrides(v, o, prefix);
    v->root = saved_root;
}

int jscal_validate(json_t *obj, int flags, json_t **invalid)
{
    vctx v = {.invalid = json_array(), .flags = flags, .root = obj};
    if (invalid)
        *invalid = NULL;
    if (!json_is_object(obj)) {
        bad(&v, "%s", "@type");
        goto done;
    }
    const char *type = json_string_value(json_object_get(obj, "@type"));
    if (!type) {
        bad(&v, "%s", "@type");
        goto done;
    }
    if (!strcmp(type, "Event") || !strcmp(type, "Task")) {
        check_entry(&v, obj, "", 0);
    } else if (!strcmp(type, "Group")) {
        int ss = flags & JSCAL_ALLOW_MISSING_SERVER_SET;
        check(&v, obj, "", "uid", T_STRING, !ss);
        check(&v, obj, "", "updated", T_UTC, !ss);
        check(&v, obj, "", "created", T_UTC, 0);
        check(&v, obj, "", "title", T_STRING, 0);
        check(&v, obj, "", "description", T_STRING, 0);
        check(&v, obj, "", "source", T_STRING, 0);
        check_map(&v, obj, "", "links", check_link, 1);
        json_t *entries = json_object_get(obj, "entries");
        if (!json_is_array(entries)) {
            bad(&v, "%s", "entries");
        } else {
            size_t i;
            json_t *e;
            json_array_foreach(entries, i, e)
            {
                char *p = jscal_strdupf("entries/%zu", i);
                const char *t = json_string_value(json_object_get(e, "@type"));
                if (!json_is_object(e) || !t)
                    bad(&v, "%s", p);
                else if (!strcmp(t, "Event") || !strcmp(t, "Task"))
                    check_entry(&v, e, p, 0); /* §5.3.1: unknown types are ignored */
                free(p);
            }
        }
    } else {
        bad(&v, "%s", "@type");
    }
done:
    if (json_array_size(v.invalid)) {
        if (invalid)
            *invalid = v.invalid;
        else
            json_decref(v.invalid);
        return -1;
    }
    json_decref(v.invalid);
    return 0;
}
