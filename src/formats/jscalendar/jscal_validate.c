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
    json_t *invalid; /* the paths */
    json_t *reasons; /* parallel to invalid: why each is invalid (issue 12 §1.8) */
    int flags;
    const json_t *root; /* the Event/Task being checked (for carried time zones) */
    const json_t *old;  /* JSCAL_BIS17 on an update: what root was before (or NULL) */
    int is_task;
} vctx;

/* Reports the path made from fmt, once, with the reason why (a fixed text that says
 * what the value must be and cites the section). */
static void bad(vctx *v, const char *why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void bad(vctx *v, const char *why, const char *fmt, ...)
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
    json_array_append_new(v->reasons, json_string(why));
    free(s);
}

static char *join(const char *prefix, const char *name)
{
    return *prefix ? jscal_strdupf("%s/%s", prefix, name) : strdup(name);
}

/* Reports prefix/name. */
static void bad_at(vctx *v, const char *prefix, const char *name, const char *why)
{
    if (*prefix)
        bad(v, why, "%s/%s", prefix, name);
    else
        bad(v, why, "%s", name);
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

/* What a value of type t must be, for the reason of a wrong one (§1.5). */
static const char *type_reason(vtype t)
{
    switch (t) {
    case T_STRING:
        return "not a String";
    case T_BOOL:
        return "not a Boolean";
    case T_UINT:
        return "not an UnsignedInt (JSCalendar 2.0 §1.5.3)";
    case T_INT:
        return "not an Int (JSCalendar 2.0 §1.5.2)";
    case T_LDT:
        return "not a LocalDateTime (JSCalendar 2.0 §1.5.5)";
    case T_UTC:
        return "not a UTCDateTime (JSCalendar 2.0 §1.5.4)";
    case T_DUR:
        return "not a Duration (JSCalendar 2.0 §1.5.6)";
    case T_SDUR:
        return "not a SignedDuration (JSCalendar 2.0 §1.5.7)";
    case T_TZ:
        return "not a TimeZoneId this server knows (JSCalendar 2.0 §1.5.8: an IANA name, or "
               "a VTIMEZONE carried in iCalendar)";
    case T_OBJ:
        return "not an object";
    }
    return "invalid value";
}

static json_t *check(vctx *v, json_t *obj, const char *prefix, const char *name, vtype t,
                     int mandatory)
{
    json_t *j = json_object_get(obj, name);
    if (!j) {
        if (mandatory)
            bad_at(v, prefix, name, "required (JSCalendar 2.0: a mandatory property)");
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
    bad_at(v, prefix, name, type_reason(t));
    return NULL;
}

static void check_type(vctx *v, json_t *obj, const char *prefix, const char *type, int required)
{
    json_t *t = json_object_get(obj, "@type");
    if (!t) {
        if (required) {
            bad_at(v, prefix, "@type", "required (JSCalendar 2.0 §1.4.4)");
        } else if (v->flags & JSCAL_NORMALIZE) {
            json_object_set_new(obj, "@type", json_string(type));
        }
        return;
    }
    if (!json_is_string(t) || strcmp(json_string_value(t), type)) {
        char why[80];
        snprintf(why, sizeof why, "must be \"%s\" (JSCalendar 2.0 §1.4.4)", type);
        bad_at(v, prefix, "@type", why);
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
        bad(v,
            json_is_object(j) ? "must not be empty: omit it instead (JSCalendar 2.0 §3.4.6)"
                              : "not a String[Boolean] set",
            "%s", p);
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
            bad(v,
                !json_is_true(e) ? "the value of a set member must be true"
                : !*k            ? "an empty key"
                                 : "not one of the values this property allows",
                "%s/%s", p, k);
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
    bad_at(v, prefix, name,
           vendor_ok
               ? "not one of the enumerated values, nor vendor-specific (JSCalendar 2.0 §1.7.5)"
               : "not one of the enumerated values (JSCalendar 2.0 §1.7.5)");
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
        bad(v, "not a map (a JSON object)", "%s", p);
        free(p);
        return;
    }
    const char *k;
    json_t *e;
    json_object_foreach(j, k, e)
    {
        char *ep = jscal_strdupf("%s/%s", p, k);
        if (ids && !jid_valid(k))
            bad(v, "the key is not an Id (JSCalendar 2.0 §1.5.1)", "%s", ep);
        else if (!json_is_object(e))
            bad(v, "not an object", "%s", ep);
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
        bad(v, "a Location needs a property other than @type (JSCalendar 2.0 §3.2.5)", "%s", p);
    check(v, l, p, "name", T_STRING, 0);
    check_set(v, l, p, "locationTypes", 0, NULL);
    json_t *c = check(v, l, p, "coordinates", T_STRING, 0);
    if (c && strncasecmp(json_string_value(c), "geo:", 4))
        bad(v, "not a geo: URI (RFC 5870, JSCalendar 2.0 §3.2.5)", "%s/coordinates", p);
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
        bad(v, "needs description (JSCalendar 2.0 §3.4.6)", "%s/descriptionContentType", p);
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
        bad(v, "must be 0 to 100 (JSCalendar 2.0 §3.4.6)", "%s/percentComplete", p);
    if (!v->is_task && prog)
        bad(v, "only a participant of a Task has it (JSCalendar 2.0 §3.4.6)", "%s/progress", p);
    if (!v->is_task && pc)
        bad(v, "only a participant of a Task has it (JSCalendar 2.0 §3.4.6)", "%s/percentComplete",
            p);
    if (prog) {
        json_t *ps = json_object_get(pt, "participationStatus");
        if (ps && (!json_is_string(ps) || strcmp(json_string_value(ps), "accepted")))
            bad(v, "needs participationStatus \"accepted\" (JSCalendar 2.0 §3.4.6)", "%s/progress",
                p);
    }
    /* jscalendarbis §3.4.6: these require calendarAddress. The dependent property and
     * the missing calendarAddress are both named, so the client sees what to add. */
    static const char *const need_addr[] = {"kind", "roles", "participationStatus", "expectReply",
                                            "sentBy", "delegatedTo", "delegatedFrom",
                                            "memberOf", "progress", NULL};
    if (!addr && !(v->flags & JSCAL_RELAXED))
        for (const char *const *n = need_addr; *n; n++)
            if (json_object_get(pt, *n)) {
                bad(v, "needs calendarAddress (JSCalendar 2.0 §3.4.6)", "%s/%s", p, *n);
                bad(v,
                    json_object_get(pt, "sendTo")
                        ? "required (JSCalendar 2.0 §3.4.6, RFC 8984 sendTo is obsolete)"
                        : "required when kind, roles, participationStatus, expectReply, sentBy, "
                          "delegatedTo, delegatedFrom, memberOf or progress is set (JSCalendar "
                          "2.0 §3.4.6, RFC 8984 sendTo is obsolete)",
                    "%s/calendarAddress", p);
            }
}

static void check_alert(vctx *v, json_t *a, const char *p)
{
    check_type(v, a, p, "Alert", 0);
    json_t *t = json_object_get(a, "trigger");
    char *tp = jscal_strdupf("%s/trigger", p);
    if (!json_is_object(t)) {
        bad(v, "required: an OffsetTrigger or AbsoluteTrigger object (JSCalendar 2.0 §3.5.1)", "%s",
            tp);
    } else {
        json_t *ty = json_object_get(t, "@type");
        const char *type = json_is_string(ty) ? json_string_value(ty) : NULL;
        if (ty && !type)
            bad(v, "not a String", "%s/@type", tp);
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
        bad(v, "must be a non-empty array (JSCalendar 2.0 §3.3.3)", "%s/%s", p, name);
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e)
    {
        if (!json_is_integer(e) || json_integer_value(e) < lo || json_integer_value(e) > hi ||
            (nonzero && json_integer_value(e) == 0)) {
            char why[120];
            snprintf(why, sizeof why,
                     "each entry must be an integer from %ld to %ld%s (JSCalendar 2.0 §3.3.3)", lo,
                     hi, nonzero ? ", not 0" : "");
            bad(v, why, "%s/%s", p, name);
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
        bad(v, "required (JSCalendar 2.0 §3.3.3)", "%s/frequency", p);
    check_enum(v, r, p, "frequency", freqs, 0);
    json_t *iv = check(v, r, p, "interval", T_UINT, 0);
    if (iv && json_integer_value(iv) < 1)
        bad(v, "must be at least 1 (JSCalendar 2.0 §3.3.3)", "%s/interval", p);
    check(v, r, p, "rscale", T_STRING, 0);
    check_enum(v, r, p, "skip", skips, 0);
    check_enum(v, r, p, "firstDayOfWeek", days, 0);
    json_t *bd = json_object_get(r, "byDay");
    if (bd) {
        if (!json_is_array(bd) || !json_array_size(bd))
            bad(v, "must be a non-empty array of NDay (JSCalendar 2.0 §3.3.3)", "%s/byDay", p);
        size_t i;
        json_t *e;
        json_array_foreach(bd, i, e)
        {
            char *ep = jscal_strdupf("%s/byDay", p);
            if (!json_is_object(e)) {
                bad(v, "must be a non-empty array of NDay (JSCalendar 2.0 §3.3.3)", "%s", ep);
            } else {
                check_type(v, e, ep, "NDay", 0);
                check_enum(v, e, ep, "day", days, 0);
                if (!json_object_get(e, "day"))
                    bad(v, "required (JSCalendar 2.0 §3.3.3)", "%s/day", ep);
                json_t *n = check(v, e, ep, "nthOfPeriod", T_INT, 0);
                if (n && (json_integer_value(n) == 0 || json_integer_value(n) > 53 ||
                          json_integer_value(n) < -53))
                    bad(v, "must be -53 to 53, not 0 (JSCalendar 2.0 §3.3.3)", "%s/nthOfPeriod",
                        ep);
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
            bad(v,
                "must be a non-empty array of month numbers as strings, \"1\" to \"13\", with an "
                "optional \"L\" (JSCalendar 2.0 §3.3.3)",
                "%s/byMonth", p);
    }
    check(v, r, p, "count", T_UINT, 0);
    check(v, r, p, "until", T_LDT, 0);
    if (json_object_get(r, "count") && json_object_get(r, "until"))
        bad(v, "count and until exclude each other (JSCalendar 2.0 §3.3.3)", "%s/until", p);
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
            bad(v, "not an array of jCal properties (RFC 7265 §3.4)", "%s/properties", p);
        json_array_foreach(props, i, e)
        {
            char *err = NULL;
            if (!ical_prop_from_jcal(tmp, e, &err)) {
                char why[300];
                snprintf(why, sizeof why, "not a jCal property (RFC 7265 §3.4)%s%.200s",
                         err ? ": " : "", err ? err : "");
                bad(v, why, "%s/properties/%zu", p, i);
            }
            free(err);
        }
        ical_comp_free(tmp);
    }
    json_t *comps = json_object_get(ic, "components");
    if (comps) {
        size_t i;
        json_t *e;
        if (!json_is_array(comps))
            bad(v, "not an array of jCal components (RFC 7265 §3.3)", "%s/components", p);
        json_array_foreach(comps, i, e)
        {
            char *err = NULL;
            ical_comp *c = ical_comp_from_jcal(e, &err);
            if (!c) {
                char why[300];
                snprintf(why, sizeof why, "not a jCal component (RFC 7265 §3.3)%s%.200s",
                         err ? ": " : "", err ? err : "");
                bad(v, why, "%s/components/%zu", p, i);
            }
            ical_comp_free(c);
            free(err);
        }
    }
    json_t *cp = json_object_get(ic, "convertedProperties");
    if (cp && !json_is_object(cp))
        bad(v, "not an object", "%s/convertedProperties", p);
    const char *k;
    json_t *e;
    /* draft-ietf-calext-jscalendar-icalendar-25 §5.1.1: name is an iCalendar property
     * name and parameters iCalendar parameters (RFC 5545 §3.1), never other syntax */
    json_object_foreach(cp, k, e)
    {
        json_t *params = json_object_get(e, "parameters");
        if (!json_is_object(e) || !ical_name_valid(json_string_value(json_object_get(e, "name"))) ||
            (params && !ical_params_json_valid(params)))
            bad(v,
                "needs an iCalendar property name and iCalendar parameters (RFC 5545 §3.1, "
                "draft-ietf-calext-jscalendar-icalendar-25 §5.1.1)",
                "%s/convertedProperties/%s", p, k);
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
            char why[200];
            snprintf(why, sizeof why, "obsolete RFC 8984 property (JSCalendar 2.0 §7.4.2.%d)%s",
                     strcmp(*g, "replyTo") ? 1 : 2,
                     !strcmp(*g, "replyTo")           ? ": use organizerCalendarAddress"
                     : !strcmp(*g, "recurrenceRules") ? ": use recurrenceRule (one rule)"
                                                      : "");
            bad_at(v, prefix, *g, why);
        }
    json_t *ver = json_object_get(o, "version");
    if (ver && (!json_is_string(ver) || (strcmp(json_string_value(ver), "2.0") &&
                                         strcmp(json_string_value(ver), "1.0")))) {
        bad_at(v, prefix, "version", "must be \"2.0\" (or \"1.0\") (JSCalendar 2.0 §3.1.2)");
    }
    const char *k;
    json_t *pt;
    json_object_foreach(json_object_get(o, "participants"), k, pt)
    {
        if (json_is_object(pt) && json_object_get(pt, "sendTo")) {
            char *p = jscal_strdupf("%s%sparticipants/%s/sendTo", prefix, *prefix ? "/" : "", k);
            bad(v,
                "obsolete RFC 8984 property (JSCalendar 2.0 §7.4.2.2): use calendarAddress, "
                "which holds one address",
                "%s", p);
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
        bad(v, "not a map of LocalDateTime to PatchObject (JSCalendar 2.0 §3.3.4)", "%s", p);
        free(p);
        return;
    }
    const char *k;
    json_t *patch;
    json_object_foreach(ovs, k, patch)
    {
        jscal_ldt t;
        if (jscal_ldt_parse(k, &t) || !json_is_object(patch)) {
            bad(v,
                json_is_object(patch) ? "the key is not a LocalDateTime (JSCalendar 2.0 §3.3.4)"
                                      : "not a PatchObject (JSCalendar 2.0 §1.5.9)",
                "%s/%s", p, k);
            continue;
        }
        /* jmap-calendars §5.1: these may only be set on the base object */
        static const char *const base_only[] = {"mayInviteSelf", "mayInviteOthers", "hideAttendees",
                                                NULL};
        for (const char *const *b = base_only; *b; b++)
            if (json_object_get(patch, *b))
                bad(v, "only the base event has it (draft-ietf-jmap-calendars-27 §5.1)", "%s/%s/%s",
                    p, k, *b);
        json_t *ex = json_object_get(patch, "excluded");
        if (ex) {
            if (!json_is_true(ex) || json_object_size(patch) != 1)
                bad(v,
                    "an excluded override is {\"excluded\": true} and nothing else (JSCalendar "
                    "2.0 §3.3.4)",
                    "%s/%s/excluded", p, k);
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
        /* -17 rules (JSCAL_BIS17) check in an override only what its patch changes; the
         * rest is the base event's, checked there */
        json_t *unpatched = json_deep_copy(inst);
        json_object_del(unpatched, "recurrenceId");
        char *errpath = NULL;
        json_t *fp = jscal_override_patch_filter(patch); /* ignored keys, §4.3.4 */
        int prc = jscal_patch_apply(inst, fp, &errpath);
        json_decref(fp);
        if (prc) {
            bad(v, "the patch does not apply to the event (JSCalendar 2.0 §1.5.9)", "%s/%s/%s", p,
                k, errpath ? errpath : "");
            free(errpath);
        } else {
            vctx sub = {.invalid = json_array(),
                        .reasons = json_array(),
                        .flags = v->flags & ~JSCAL_NORMALIZE,
                        .root = inst,
                        .old = unpatched};
            json_object_del(inst, "recurrenceId");
            check_entry(&sub, inst, "", 1);
            size_t i;
            json_t *e;
            json_array_foreach(sub.invalid, i, e)
                bad(v, json_string_value(json_array_get(sub.reasons, i)), "%s/%s/%s", p, k,
                    json_string_value(e));
            json_decref(sub.invalid);
            json_decref(sub.reasons);
        }
        json_decref(unpatched);
        json_decref(inst);
    }
    free(p);
}

/* The descriptive and relation properties of an entry, uid to mainLocationId. */
static void check_entry_basics(vctx *v, json_t *o, const char *prefix, int server_set_ok)
{
    json_t *uid = check(v, o, prefix, "uid", T_STRING, !server_set_ok);
    if (uid && !*json_string_value(uid)) {
        bad_at(v, prefix, "uid", "must not be empty (JSCalendar 2.0 §3.1.1)");
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
        bad_at(v, prefix, "descriptionContentType",
               "must be a text/ media type (JSCalendar 2.0 §3.2.3)");
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
            bad_at(v, prefix, "mainLocationId",
                   "must name a Location of locations that has a name (JSCalendar 2.0 §3.2.6)");
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
        bad_at(v, prefix, "recurrenceIdTimeZone", "needs recurrenceId (JSCalendar 2.0 §3.3.2)");
    }
    *rr = json_object_get(o, "recurrenceRule");
    if (*rr && !json_is_null(*rr)) {
        char *p = join(prefix, "recurrenceRule");
        if (!json_is_object(*rr))
            bad(v, "not a RecurrenceRule object (JSCalendar 2.0 §3.3.3)", "%s", p);
        else
            check_rrule(v, *rr, p);
        if (rid)
            bad(v, "an instance (with recurrenceId) has no recurrenceRule (JSCalendar 2.0 §3.3.1)",
                "%s", p);
        free(p);
    }
    if (rid && json_object_get(o, "recurrenceOverrides")) {
        bad_at(
            v, prefix, "recurrenceOverrides",
            "an instance (with recurrenceId) has no recurrenceOverrides (JSCalendar 2.0 §3.3.1)");
    }
}

/* priority to the CalendarEvent booleans: scheduling, participants, alerts, iCalendar. */
static void check_entry_scheduling(vctx *v, json_t *o, const char *prefix)
{
    json_t *prio = check(v, o, prefix, "priority", T_INT, 0);
    if (prio && (json_integer_value(prio) < 0 || json_integer_value(prio) > 9)) {
        bad_at(v, prefix, "priority", "must be 0 to 9 (JSCalendar 2.0 §3.4.1)");
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
                bad_at(v, prefix, "organizerCalendarAddress",
                       "required when a participant has a calendarAddress (JSCalendar 2.0 "
                       "§3.4.6, RFC 8984 replyTo is obsolete)");
                break;
            }
        }
    }
    check_map(v, o, prefix, "alerts", check_alert, 1);
    json_t *ic = json_object_get(o, "iCalendar");
    if (ic) {
        char *p = join(prefix, "iCalendar");
        if (!json_is_object(ic))
            bad(v, "not an ICalComponent object (draft-ietf-calext-jscalendar-icalendar-25 §5.1)",
                "%s", p);
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
        bad_at(v, prefix, "endTimeZone", "needs timeZone (JSCalendar 2.0 §4.1.3)");
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
        bad_at(v, prefix, "percentComplete", "must be 0 to 100 (JSCalendar 2.0 §4.2.4)");
    }
    check(v, o, prefix, "progress", T_STRING, 0);
    /* jscalendarbis §5.2 and §4.3.3 */
    if (!st && !due &&
        ((tz && !json_is_null(tz)) || json_is_true(json_object_get(o, "showWithoutTime")))) {
        bad_at(v, prefix, "start",
               "a Task with timeZone or showWithoutTime true needs start or due (JSCalendar 2.0 "
               "§4.2)");
    }
    if (!st && !due && rr && !json_is_null(rr)) {
        bad_at(v, prefix, "recurrenceRule", "a Task needs start to recur (JSCalendar 2.0 §4.2.2)");
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
            bad_at(v, prefix, k,
                   "not a property of JSCalendar 2.0 and not vendor-specific (JSCalendar 2.0 "
                   "§1.8.1: a vendor property is \"domain:name\")");
        }
    }
}

/* ---- the rules jscalendarbis-17 tightened (issue 12 §2.4) --------------------------------
 *
 * -17 made MUST rules of what -08 left open: an organizer needs a participant with a
 * calendarAddress (§3.4.4), a participant's email needs its calendarAddress (§3.4.6), the
 * Event/Task sentBy is an addr-spec and needs the organizer (§3.4.5), color is a CSS
 * color name or #RRGGBB (§3.2.12), delegatedTo/delegatedFrom/memberOf keys are calendar
 * addresses (§3.4.6), timeZone and recurrenceIdTimeZone are never null (§3.6.1, §3.3.2),
 * and obsolete or reserved properties are not set (§1.7.3, §7.4.2.1-2).
 *
 * Decision: these apply to new data only, with JSCAL_BIS17. A create is checked whole; an
 * update (old given) only in the properties it changes, compared property by property
 * with the stored version (for participants, each participant's own properties). Data
 * stored under the -08 rules thus reads back unchanged and can still be updated in what
 * the rules do not touch; §7.2 (registry "obsolete" usage) likewise says implementations
 * MUST expect such items in data of the versions they were valid in. */

/* 1 if the value at root/a/b/c differs from the stored version's (or there is none). */
static int touched(const vctx *v, const char *a, const char *b, const char *c)
{
    if (!v->old)
        return 1;
    const json_t *n = json_object_get(v->root, a), *o = json_object_get(v->old, a);
    if (b) {
        n = json_object_get(n, b);
        o = json_object_get(o, b);
    }
    if (c) {
        n = json_object_get(n, c);
        o = json_object_get(o, c);
    }
    if (!n && !o)
        return 0;
    return !n || !o || !json_equal((json_t *)n, (json_t *)o);
}

static int any_calendar_address(const json_t *participants)
{
    const char *k;
    json_t *pt;
    json_object_foreach((json_t *)participants, k,
                        pt) if (json_is_string(json_object_get(pt, "calendarAddress"))) return 1;
    return 0;
}

/* Obsolete (§7.4.2.1) and reserved (§7.4.2.2) properties a new object must not set; the
 * ones JMAP for Calendars defines (useDefaultAlerts, scheduleAgent, …) are not listed. */
static const char *const bis17_gone_top[] = {"timeZones", "localizations", "requestStatus",
                                             "progressUpdated", NULL};
static const char *const bis17_gone_participant[] = {
    "locationId", "language", "progressUpdated", "invitedBy", "participationComment", NULL};

static void bis17_participant(vctx *v, const char *prefix, const char *k, json_t *pt)
{
    char *p = jscal_strdupf("%s%sparticipants/%s", prefix, *prefix ? "/" : "", k);
    json_t *email = json_object_get(pt, "email");
    int has_addr = json_is_string(json_object_get(pt, "calendarAddress"));
    if (json_is_string(email) && touched(v, "participants", k, "email")) {
        if (!jscal_addr_spec(json_string_value(email)))
            bad(v, "not an addr-spec (RFC 5322 §3.4.1, JSCalendar 2.0 §3.4.6)", "%s/email", p);
        if (!has_addr)
            bad(v, "needs calendarAddress (JSCalendar 2.0 §3.4.6)", "%s/email", p);
    }
    if (!has_addr && json_is_string(email) &&
        (touched(v, "participants", k, "email") ||
         touched(v, "participants", k, "calendarAddress")))
        bad(v, "required when email is set (JSCalendar 2.0 §3.4.6)", "%s/calendarAddress", p);
    json_t *sb = json_object_get(pt, "sentBy");
    if (json_is_string(sb) && !jscal_addr_spec(json_string_value(sb)) &&
        touched(v, "participants", k, "sentBy"))
        bad(v, "not an addr-spec (RFC 5322 §3.4.1, JSCalendar 2.0 §3.4.6)", "%s/sentBy", p);
    static const char *const addr_sets[] = {"delegatedTo", "delegatedFrom", "memberOf", NULL};
    for (const char *const *a = addr_sets; *a; a++) {
        if (!touched(v, "participants", k, *a))
            continue;
        const char *key;
        json_t *val;
        json_object_foreach(json_object_get(pt, *a), key, val) if (!jscal_uri(key))
        {
            bad(v, "each key is a calendar address, a URI (JSCalendar 2.0 §3.4.6)", "%s/%s/%s", p,
                *a, key);
        }
    }
    for (const char *const *g = bis17_gone_participant; *g; g++)
        if (json_object_get(pt, *g) && touched(v, "participants", k, *g))
            bad(v, "obsolete or reserved in JSCalendar 2.0 (§7.4.2.1, §7.4.2.2)", "%s/%s", p, *g);
    free(p);
}

static void check_bis17(vctx *v, json_t *o, const char *prefix)
{
    json_t *org = json_object_get(o, "organizerCalendarAddress");
    json_t *parts = json_object_get(o, "participants");
    if (json_is_string(org) && !any_calendar_address(parts) &&
        (touched(v, "organizerCalendarAddress", NULL, NULL) ||
         touched(v, "participants", NULL, NULL)))
        bad_at(v, prefix, "organizerCalendarAddress",
               "needs a participant with a calendarAddress (JSCalendar 2.0 §3.4.4)");
    json_t *sb = json_object_get(o, "sentBy");
    if (sb &&
        (touched(v, "sentBy", NULL, NULL) || touched(v, "organizerCalendarAddress", NULL, NULL))) {
        if (!json_is_string(sb) || !jscal_addr_spec(json_string_value(sb)))
            bad_at(v, prefix, "sentBy",
                   "not an addr-spec (RFC 5322 §3.4.1, JSCalendar 2.0 §3.4.5)");
        else if (!json_is_string(org))
            bad_at(v, prefix, "sentBy", "needs organizerCalendarAddress (JSCalendar 2.0 §3.4.5)");
    }
    json_t *color = json_object_get(o, "color");
    if (json_is_string(color) && !jscal_css_color(json_string_value(color), 1) &&
        touched(v, "color", NULL, NULL))
        bad_at(v, prefix, "color",
               "not a CSS color: a CSS3 color name or #RRGGBB (JSCalendar 2.0 §3.2.12)");
    static const char *const zones[] = {"timeZone", "recurrenceIdTimeZone", NULL};
    for (const char *const *z = zones; *z; z++)
        if (json_is_null(json_object_get(o, *z)) && touched(v, *z, NULL, NULL))
            bad_at(v, prefix, *z,
                   "never null in JSCalendar 2.0: omit it for floating time (§3.6.1)");
    for (const char *const *g = bis17_gone_top; *g; g++)
        if (json_object_get(o, *g) && touched(v, *g, NULL, NULL))
            bad_at(v, prefix, *g, "obsolete or reserved in JSCalendar 2.0 (§7.4.2.1, §7.4.2.2)");
    const char *k;
    json_t *e;
    json_object_foreach(json_object_get(o, "locations"), k, e)
    {
        static const char *const gone[] = {"relativeTo", "timeZone", "description", NULL};
        for (const char *const *g = gone; *g; g++)
            if (json_is_object(e) && json_object_get(e, *g) && touched(v, "locations", k, *g))
                bad(v, "obsolete or reserved in JSCalendar 2.0 (§7.4.2.1, §7.4.2.2)",
                    "%s%slocations/%s/%s", prefix, *prefix ? "/" : "", k, *g);
    }
    json_object_foreach(json_object_get(o, "virtualLocations"), k, e)
    {
        if (json_is_object(e) && json_object_get(e, "description") &&
            touched(v, "virtualLocations", k, "description"))
            bad(v, "reserved in JSCalendar 2.0 (§7.4.2.2)", "%s%svirtualLocations/%s/description",
                prefix, *prefix ? "/" : "", k);
    }
    json_object_foreach(json_object_get(o, "links"), k, e)
    {
        if (json_is_object(e) && json_object_get(e, "cid") && touched(v, "links", k, "cid"))
            bad(v, "obsolete in JSCalendar 2.0 (§7.4.2.1)", "%s%slinks/%s/cid", prefix,
                *prefix ? "/" : "", k);
    }
    json_object_foreach(parts, k, e)
    {
        if (json_is_object(e))
            bis17_participant(v, prefix, k, e);
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
    if (v->flags & JSCAL_BIS17)
        check_bis17(v, o, prefix);
    if (!in_patch)
        check_overrides(v, o, prefix);
    v->root = saved_root;
}

int jscal_validate(json_t *obj, int flags, json_t **invalid)
{
    return jscal_validate_why(obj, flags, NULL, invalid, NULL);
}

int jscal_validate_why(json_t *obj, int flags, const json_t *old, json_t **invalid,
                       json_t **reasons)
{
    vctx v = {
        .invalid = json_array(), .reasons = json_array(), .flags = flags, .root = obj, .old = old};
    if (invalid)
        *invalid = NULL;
    if (reasons)
        *reasons = NULL;
    if (!json_is_object(obj)) {
        bad(&v, "a JSCalendar object is a JSON object", "%s", "@type");
        goto done;
    }
    const char *type = json_string_value(json_object_get(obj, "@type"));
    if (!type) {
        bad(&v, "required (JSCalendar 2.0 §1.4.4)", "%s", "@type");
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
            bad(&v, "required: an array of Event and Task (JSCalendar 2.0 §4.3.1)", "%s",
                "entries");
        } else {
            size_t i;
            json_t *e;
            json_array_foreach(entries, i, e)
            {
                char *p = jscal_strdupf("entries/%zu", i);
                const char *t = json_string_value(json_object_get(e, "@type"));
                if (!json_is_object(e) || !t)
                    bad(&v, "an entry is an object with @type (JSCalendar 2.0 §4.3.1)", "%s", p);
                else if (!strcmp(t, "Event") || !strcmp(t, "Task"))
                    check_entry(&v, e, p, 0); /* §5.3.1: unknown types are ignored */
                free(p);
            }
        }
    } else {
        bad(&v, "must be \"Event\", \"Task\" or \"Group\" (JSCalendar 2.0 §2)", "%s", "@type");
    }
done:
    if (json_array_size(v.invalid)) {
        if (invalid)
            *invalid = v.invalid;
        else
            json_decref(v.invalid);
        if (reasons)
            *reasons = v.reasons;
        else
            json_decref(v.reasons);
        return -1;
    }
    json_decref(v.invalid);
    json_decref(v.reasons);
    return 0;
}
