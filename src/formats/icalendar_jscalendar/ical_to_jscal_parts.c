/*
 * ical_to_jscal_parts.c — iCalendar -> JSCalendar building blocks (draft-ietf-calext-
 * jscalendar-icalendar-25 §2): contexts and the "iCalendar" property (§5.1.1), date-times
 * and zones (§2.1.4, §2.1.5), links, RRULE, VALARM, VLOCATION, PARTICIPANT, ATTENDEE and
 * ORGANIZER, JSPROP. ical_to_jscal.c assembles Events, Tasks and Groups from them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/icalendar_jscalendar/ical.h"
#include "formats/icalendar/ical_internal.h"
#include "formats/jscalendar/jscal.h"
#include "formats/timezone/tz.h"
#include "formats/icalendar_jscalendar/ical_conv.h"

/* ---- contexts ------------------------------------------------------------------------- */





/* One JSCalendar object being built from one iCalendar component. */


void i2j_uuid(cal_ctx *cal, const char *name, char out[37])
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    if (!cal->uuids && !(cal->uuids = calloc(I2J_UUID_CACHE, sizeof *cal->uuids)))
        abort();
    uuid_slot *s = &cal->uuids[h % I2J_UUID_CACHE];
    if (s->name && s->hash == h && !strcmp(s->name, name)) {
        memcpy(out, s->uuid, 37);
        return;
    }
    jscal_uuidv5(name, out);
    free(s->name);
    s->name = strdup(name);
    s->hash = h;
    memcpy(s->uuid, out, 37);
}

void i2j_uuid_cache_free(cal_ctx *cal)
{
    for (unsigned i = 0; cal->uuids && i < I2J_UUID_CACHE; i++)
        free(cal->uuids[i].name);
    free(cal->uuids);
}

void i2j_key_copy(char *key, size_t size, const char *s)
{
    size_t n = strlen(s);
    if (n >= size)
        n = size - 1;
    memcpy(key, s, n);
    key[n] = 0;
}

int i2j_fail(obj_ctx *o, const ical_prop *p, const char *msg)
{
    if (!o->cal->err)
        o->cal->err = p ? jscal_strdupf("line %d: property %s: %s", p->line, p->name, msg)
                        : jscal_strdupf("line %d: component %s: %s", o->comp->line,
                                        o->comp->name, msg);
    return -1;
}

void i2j_warn(obj_ctx *o, const ical_prop *p, const char *msg)
{
    if (!o->cal->warnings)
        return;
    char *w = p ? jscal_strdupf("line %d: property %s: %s", p->line, p->name, msg)
                : jscal_strdupf("line %d: component %s: %s", o->comp->line, o->comp->name, msg);
    json_array_append_new(o->cal->warnings, json_string(w)); /* checks UTF-8 */
    free(w);
}

void i2j_warn_once(obj_ctx *o, const ical_prop *p, const char *key, const char *msg)
{
    if (!o->cal->warnings)
        return;
    if (!o->cal->warned)
        o->cal->warned = json_object();
    if (json_object_get(o->cal->warned, key))
        return;
    json_object_set_new(o->cal->warned, key, json_true());
    i2j_warn(o, p, msg);
}

json_t *i2j_ical_obj(obj_ctx *o)
{
    if (!o->ical) {
        o->ical = json_object();
        json_object_set_new_nocheck(o->ical, "@type", json_string_nocheck("ICalComponent"));
        char *n = jscal_strlower(o->comp->name);
        json_object_set_new_nocheck(o->ical, "name", json_string_nocheck(n));
        free(n);
    }
    return o->ical;
}

/* Keeps an unconverted property in iCalendar/properties. */
void i2j_keep_prop(obj_ctx *o, const ical_prop *p)
{
    json_t *ic = i2j_ical_obj(o), *a = json_object_get(ic, "properties");
    if (!a) {
        a = json_array();
        json_object_set_new_nocheck(ic, "properties", a);
    }
    json_array_append_new(a, ical_prop_to_jcal(p));
}

void i2j_unkeep_prop(obj_ctx *o, const ical_prop *p)
{
    json_t *a = o->ical ? json_object_get(o->ical, "properties") : NULL;
    json_t *j = ical_prop_to_jcal(p);
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e)
    {
        if (json_equal(e, j)) {
            json_array_remove(a, i);
            break;
        }
    }
    json_decref(j);
    if (a && !json_array_size(a)) /* an iCalendar left with @type and name is not set */
        json_object_del(o->ical, "properties");
}

void i2j_keep_comp(obj_ctx *o, const ical_comp *c)
{
    const ical_prop *tzid = i2j_is(c->name, "VTIMEZONE") ? ical_comp_get_prop(c, "TZID") : NULL;
    if (i2j_is(c->name, "VTIMEZONE") && !i2j_is(o->comp->name, "VEVENT") &&
        !i2j_is(o->comp->name, "VTODO")) {
        /* RFC 5545 §3.6.5: a VTIMEZONE inside a VLOCATION, PARTICIPANT or VALARM defines
         * nothing, and the writer puts zones at the calendar level (issue 12 §3.4) */
        i2j_warn(o, tzid, "VTIMEZONE inside a sub-component dropped: it belongs to the calendar");
        return;
    }
    json_t *ic = i2j_ical_obj(o), *a = json_object_get(ic, "components");
    char *tz = tzid ? ical_text_unescape(tzid->value) : NULL; /* as jCal holds it */
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e)
    {
        /* RFC 5545 §3.6.5: one VTIMEZONE per TZID, the first (the writer writes one of
         * each, issue 12 §3.4) */
        const char *n = json_string_value(json_array_get(e, 0));
        const char *other = NULL;
        size_t k;
        json_t *p;
        json_array_foreach(json_array_get(e, 1), k,
                           p) if (!other &&
                                  !strcmp(json_string_value(json_array_get(p, 0)) ?: "", "tzid"))
            other = json_string_value(json_array_get(p, 3));
        if (tz && n && !strcasecmp(n, "vtimezone") && other && !strcmp(other, tz)) {
            i2j_warn(o, tzid, "a second VTIMEZONE with this TZID dropped");
            free(tz);
            return;
        }
    }
    free(tz);
    if (!a) {
        a = json_array();
        json_object_set_new_nocheck(ic, "components", a);
    }
    json_array_append_new(a, ical_comp_to_jcal(c));
}

/* Records conversion information for the JSCalendar element at path (§5.1.1
 * convertedProperties): the iCalendar property name, optionally its value type, and its
 * parameters that did not convert. With force=0 nothing is recorded if no parameter is left. */
void i2j_note_converted(obj_ctx *o, const char *path, const ical_prop *p,
                           const char *const *consumed, const char *value_type, int force)
{
    static const char *const always[] = {"VALUE", "JSID", "TZID", NULL};
    const char *skip[48];
    size_t n = 0;
    for (const char *const *s = always; *s; s++)
        skip[n++] = *s;
    for (const char *const *s = consumed; s && *s && n < 46; s++)
        skip[n++] = *s;
    skip[n] = NULL;
    json_t *params = ical_params_to_json(p, skip);
    if (!params && !force)
        return;
    json_t *ic = i2j_ical_obj(o), *cp = json_object_get(ic, "convertedProperties");
    if (!cp) {
        cp = json_object();
        json_object_set_new_nocheck(ic, "convertedProperties", cp);
    }
    json_t *e = json_object();
    json_object_set_new_nocheck(e, "@type", json_string_nocheck("ICalProperty"));
    char *ln = jscal_strlower(p->name);
    json_object_set_new_nocheck(e, "name", json_string_nocheck(ln));
    free(ln);
    if (value_type)
        json_object_set_new_nocheck(e, "valueType", json_string_nocheck(value_type));
    if (params)
        json_object_set_new_nocheck(e, "parameters", params);
    json_object_set_new_nocheck(cp, path, e);
}

/* JSON Pointer escaping (RFC 6901) of one path segment. Returns malloc'd string. */
char *i2j_path2(const char *a, const char *key)
{
    char *e = jptr_token_escape(key);
    size_t na = strlen(a), ne = strlen(e);
    char *r = malloc(na + ne + 2); /* a "/" e, without a printf */
    if (!r)
        abort();
    memcpy(r, a, na);
    r[na] = '/';
    memcpy(r + na + 1, e, ne + 1);
    free(e);
    return r;
}

int i2j_param_is_true(const ical_prop *p, const char *name)
{
    const char *v = ical_prop_param1(p, name);
    return v && !strcasecmp(v, "TRUE");
}

json_t *i2j_get_map(json_t *obj, const char *name)
{
    json_t *m = json_object_get(obj, name);
    if (!json_is_object(m)) {
        m = json_object();
        json_object_set_new_nocheck(obj, name, m);
    }
    return m;
}

json_t *i2j_typed_object(const char *type)
{
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "@type", json_string_nocheck(type));
    return o;
}

void i2j_set_text(json_t *obj, const char *name, const char *raw)
{
    char *u = ical_text_unescape(raw);
    json_object_set_new_nocheck(obj, name, json_string_nocheck(u));
    free(u);
}

/* Adds every comma-separated TEXT value of p as a key of the set obj[name]. */
void i2j_add_set_values(json_t *obj, const char *name, const char *raw, int lower, int text)
{
    char **v;
    size_t n = ical_split_values(raw, &v);
    json_t *set = i2j_get_map(obj, name);
    for (size_t i = 0; i < n; i++) {
        char *u = text ? ical_text_unescape(v[i]) : strdup(v[i]);
        if (lower) {
            char *l = jscal_strlower(u);
            free(u);
            u = l;
        }
        if (*u)
            json_object_set_new_nocheck(set, u, json_true());
        free(u);
    }
    ical_free_strv(v, n);
    if (!json_object_size(set))
        json_object_del(obj, name);
}

/* Whether a TEXT value is s, compared unescaped and without case (CLASS, TRANSP, ACTION,
 * CALSCALE and VERSION are TEXT: RFC 5545 §3.8.1.3, §3.8.2.7, §3.8.6.1, §3.7.1, §3.7.4),
 * so "\\OPAQUE" is OPAQUE, as it is once a kept property is written back (issue 12 §3.4). */
bool i2j_text_is(const ical_prop *p, const char *s)
{
    if (!strchr(p->value, '\\'))
        return !strcasecmp(p->value, s);
    char *u = ical_text_unescape(p->value);
    bool yes = !strcasecmp(u, s);
    free(u);
    return yes;
}

/* The JSCalendar value an enumerated TEXT property maps to (map: pairs of iCalendar
 * value and JSCalendar value, ending in NULL; i2j_text_is), or NULL. */
const char *i2j_enum_value(const ical_prop *p, const char *const *map)
{
    for (; *map; map += 2)
        if (i2j_text_is(p, map[0]))
            return map[1];
    return NULL;
}

int i2j_parse_uint(const char *s, long long *out)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    long long v = strtoll(s, &end, 10);
    if (*end || v < 0 || v > 9007199254740991LL)
        return -1;
    *out = v;
    return 0;
}

/* ---- time zones and date-times -------------------------------------------------------- */

ical_comp *i2j_find_vtz(cal_ctx *cal, const char *tzid)
{
    for (size_t i = 0; i < cal->nvtz; i++)
        if (ical_vtimezone_is(cal->vtz[i], tzid))
            return cal->vtz[i];
    return NULL;
}

/* A libical zone for a VTIMEZONE of this calendar. */
icaltimezone *i2j_custom_zone_get(cal_ctx *cal, ical_comp *vtz, const char *tzid)
{
    for (size_t i = 0; i < cal->ncz; i++)
        if (!strcmp(cal->cz[i].tzid, tzid))
            return cal->cz[i].zone;
    jbuf b = {0};
    ical_comp_write(vtz, &b);
    icalcomponent *c = icalparser_parse_string(b.s);
    free(b.s);
    icaltimezone *z = c ? tz_from_vtimezone(c) : NULL;
    if (c)
        icalcomponent_free(c);
    if (!z)
        return NULL;
    cal->cz = realloc(cal->cz, (cal->ncz + 1) * sizeof *cal->cz);
    cal->cz[cal->ncz].tzid = strdup(tzid);
    cal->cz[cal->ncz].zone = z;
    cal->ncz++;
    return z;
}

/* Resolves the zone of a date-time property (draft -25 §2.1.4). *tzid gets the JSCalendar
 * time zone id (NULL for floating), *zone the libical zone (NULL for UTC and floating).
 * Returns 0, or -1 if the TZID is unknown. */
int i2j_prop_zone(obj_ctx *o, const ical_prop *p, const ical_dt *d, const char **tzid,
                     icaltimezone **zone, ical_comp **vtz)
{
    *tzid = NULL;
    *zone = NULL;
    if (vtz)
        *vtz = NULL;
    if (d->is_utc) {
        *tzid = "Etc/UTC";
        return 0;
    }
    const char *t = ical_prop_param1(p, "TZID");
    if (!t)
        return 0;
    if (d->is_date) { /* RFC 5545 §3.2.19: no TZID on DATE values */
        i2j_warn(o, p, "TZID on a DATE value ignored");
        return 0;
    }
    const char *iana = tz_resolve_tzid(t);
    if (iana) {
        *tzid = iana;
        *zone = tz_builtin(iana);
        if (*zone == icaltimezone_get_utc_timezone())
            *zone = NULL;
        if (strcmp(iana, t) && !tz_is_iana(t) && !i2j_find_vtz(o->cal, t)) {
            char *m = jscal_strdupf("TZID \"%s\" without VTIMEZONE read as %s", t, iana);
            i2j_warn_once(o, p, t, m);
            free(m);
        }
        return 0;
    }
    ical_comp *v = i2j_find_vtz(o->cal, t);
    icaltimezone *z = v ? i2j_custom_zone_get(o->cal, v, t) : NULL;
    if (!z) {
        /* Not certain what zone it is: floating time, as RFC 5545 §3.3.5 form 1. */
        char *m = jscal_strdupf("unknown TZID \"%s\" (not an IANA zone, no usable VTIMEZONE): "
                                "read as floating time",
                                t);
        i2j_warn_once(o, p, t, m);
        free(m);
        return 0;
    }
    *tzid = ical_prop_get_param(p, "TZID")->values[0];
    *zone = z;
    if (vtz)
        *vtz = v;
    return 0;
}

/* Converts a DATE/DATE-TIME property value to a wall-clock time in the object's zone. */
int i2j_prop_local(obj_ctx *o, const ical_prop *p, const char *raw, jscal_ldt *out,
                      ical_dt *dt)
{
    ical_dt d;
    if (ical_dt_parse(raw, &d))
        return i2j_fail(o, p, "invalid DATE or DATE-TIME value");
    if (dt)
        *dt = d;
    *out = d.t;
    if (d.is_date)
        return 0;
    const char *tzid;
    icaltimezone *zone;
    if (i2j_prop_zone(o, p, &d, &tzid, &zone, NULL))
        return -1;
    if (!tzid || !o->tzid || !strcmp(tzid, o->tzid))
        return 0; /* floating, or already in the object's zone */
    int64_t utc = d.is_utc ? jscal_ldt_to_secs(&d.t) : tz_local_to_utc(zone, jscal_ldt_to_secs(&d.t));
    jscal_secs_to_ldt(tz_utc_to_local(o->zone, utc), out);
    return 0;
}

void i2j_set_ldt(json_t *obj, const char *name, const jscal_ldt *t, int utc)
{
    char buf[24];
    jscal_ldt_format(t, utc, buf);
    json_object_set_new_nocheck(obj, name, json_string_nocheck(buf));
}

/* UTCDateTime properties (DTSTAMP, CREATED, ACKNOWLEDGED, absolute TRIGGER). */
int i2j_set_utc(obj_ctx *o, const ical_prop *p, json_t *obj, const char *name)
{
    ical_dt d;
    if (ical_dt_parse(p->value, &d) || d.is_date)
        return i2j_fail(o, p, "invalid DATE-TIME value");
    jscal_ldt t = d.t;
    if (!d.is_utc) {
        const char *tzid;
        icaltimezone *zone;
        if (i2j_prop_zone(o, p, &d, &tzid, &zone, NULL))
            return -1;
        jscal_secs_to_ldt(tz_local_to_utc(zone, jscal_ldt_to_secs(&d.t)), &t);
    }
    i2j_set_ldt(obj, name, &t, 1);
    return 0;
}

/* ---- links (ATTACH, IMAGE, URL, LINK: §2.3.3, §2.3.22, §2.3.24, §2.3.46) ---------------- */

int i2j_add_link(obj_ctx *o, const ical_prop *p, int *nurl)
{
    const char *vt = ical_prop_param1(p, "VALUE");
    int binary = (vt && !strcasecmp(vt, "BINARY")) ||
                 (ical_prop_param1(p, "ENCODING") &&
                  !strcasecmp(ical_prop_param1(p, "ENCODING"), "BASE64"));
    int is_link = i2j_is(p->name, "LINK");
    if (vt && !binary && strcasecmp(vt, "URI")) {
        i2j_keep_prop(o, p); /* e.g. LINK;VALUE=XML-REFERENCE: no JSCalendar equivalent */
        return 0;
    }
    const char *fmt = ical_prop_param1(p, "FMTTYPE");
    char *href = binary ? jscal_strdupf("data:%s;base64,%s", fmt ? fmt : "application/octet-stream",
                                        p->value)
                        : strdup(p->value);
    const char *jsid = ical_prop_param1(p, "JSID");
    char key[40];
    if (jsid && jid_valid(jsid))
        snprintf(key, sizeof key, "%.39s", jsid);
    else
        i2j_uuid(o->cal, p->value, key);
    if (json_object_get(json_object_get(o->obj, "links"), key)) {
        /* the same link again (same value, no JSID): the first is the Link, this one is
         * kept as it is, or it would replace the first (issue 12 §3.4) */
        free(href);
        i2j_keep_prop(o, p);
        return 0;
    }
    /* Only a URL that becomes a Link counts: one kept as it is (an unknown value type, or
     * a repetition) is written back after the Links (§5.1.1 properties), so counting it
     * made a Link first on one read and second, noted as URL, on the next (issue 12 §3.4) */
    int first_url = i2j_is(p->name, "URL") && (*nurl)++ == 0;
    json_t *links = i2j_get_map(o->obj, "links");
    json_t *l = i2j_typed_object("Link");
    json_object_set_new_nocheck(l, "href", json_string_nocheck(href));
    free(href);
    if (fmt)
        json_object_set_new_nocheck(l, "contentType", json_string_nocheck(fmt));
    const char *rel = NULL;
    if (i2j_is(p->name, "ATTACH"))
        rel = "enclosure";
    else if (i2j_is(p->name, "IMAGE"))
        rel = "icon";
    else if (i2j_is(p->name, "URL"))
        rel = "describedby";
    else
        rel = ical_prop_param1(p, "LINKREL");
    if (rel)
        json_object_set_new_nocheck(l, "rel", json_string_nocheck(rel));
    const char *title =
        ical_prop_param1(p, is_link || i2j_is(p->name, "URL") ? "LABEL" : "FILENAME");
    if (title)
        json_object_set_new_nocheck(l, "title", json_string_nocheck(title));
    long long size;
    if (ical_prop_param1(p, "SIZE") && !i2j_parse_uint(ical_prop_param1(p, "SIZE"), &size))
        json_object_set_new_nocheck(l, "size", json_integer(size));
    const ical_param *disp = ical_prop_get_param(p, "DISPLAY");
    if (disp && i2j_is(p->name, "IMAGE")) {
        json_t *d = json_object();
        for (size_t i = 0; i < disp->nvalues; i++) {
            char *lv = jscal_strlower(disp->values[i]);
            json_object_set_new_nocheck(d, lv, json_true());
            free(lv);
        }
        json_object_set_new_nocheck(l, "display", d);
    }
    json_object_set_new_nocheck(links, key, l);
    /* Remember the property name where the reverse choice (§3.4) would differ: a LINK
     * without LINKREL (which RFC 9253 §6.1 requires) gives a Link without rel, which would
     * be written as ATTACH and read back as rel "enclosure" (issue 12 §3.4). */
    int force = (is_link && (!rel || !strcmp(rel, "enclosure") || !strcmp(rel, "icon") ||
                             !strcmp(rel, "describedby"))) ||
                (i2j_is(p->name, "URL") && !first_url);
    static const char *const consumed[] = {"FMTTYPE", "LINKREL", "LABEL", "FILENAME", "SIZE",
                                           "DISPLAY", "ENCODING", NULL};
    char *path = i2j_path2("links", key);
    i2j_note_converted(o, path, p, consumed, NULL, force);
    free(path);
    return 0;
}

/* ---- recurrence rules (§2.3.36) ------------------------------------------------------- */

/* RFC 5545 §3.3.10: the range of each BYxxx list (negative values: counted from the end,
 * never 0). */
static const struct {
    const char *name;
    long hi;
    int neg;
} int_lists[] = {{"bySecond", 60, 0},    {"byMinute", 59, 0},  {"byHour", 23, 0},
                 {"byMonthDay", 31, 1},  {"byYearDay", 366, 1}, {"byWeekNo", 53, 1},
                 {"bySetPosition", 366, 1}};

int i2j_int_list(json_t *rule, const char *name, const char *v, int allow_neg)
{
    long hi = 366;
    for (size_t i = 0; i < sizeof int_lists / sizeof *int_lists; i++)
        if (!strcmp(int_lists[i].name, name))
            hi = int_lists[i].hi;
    json_t *a = json_array();
    const char *s = v;
    while (*s) {
        char *end;
        long n = strtol(s, &end, 10);
        if (end == s || (!allow_neg && n < 0) || n > hi || n < -hi || (allow_neg && n == 0)) {
            json_decref(a);
            return -1;
        }
        json_array_append_new(a, json_integer(n));
        s = end;
        if (*s == ',')
            s++;
        else if (*s) {
            json_decref(a);
            return -1;
        }
    }
    if (!json_array_size(a)) {
        json_decref(a);
        return -1;
    }
    json_object_set_new_nocheck(rule, name, a);
    return 0;
}

/* BYMONTH (RFC 7529: "5L" leap months too) into rule's byMonth. Returns 1 if invalid. */
static int rrule_by_month(json_t *rule, const char *v)
{
    int bad = 0;
    json_t *a = json_array();
    char *d2 = strdup(v), *s2 = NULL;
    for (char *m = strtok_r(d2, ",", &s2); m; m = strtok_r(NULL, ",", &s2)) {
        char *mu = jscal_strupper(m);
        size_t ml = strlen(mu);
        size_t digits = strspn(mu, "0123456789");
        long month = strtol(mu, NULL, 10);
        if (!digits || (digits != ml && !(digits + 1 == ml && mu[ml - 1] == 'L')) ||
            month < 1 || month > 13) /* RFC 7529 §4.1: 13 months in some calendars */
            bad = 1;
        json_array_append_new(a, json_string_nocheck(mu));
        free(mu);
    }
    free(d2);
    bad |= !json_array_size(a);
    json_object_set_new_nocheck(rule, "byMonth", a);
    return bad;
}

/* BYDAY ("MO", "-1SU") into rule's byDay as NDay objects. Returns 1 if invalid. */
static int rrule_by_day(json_t *rule, const char *v)
{
    int bad = 0;
    json_t *a = json_array();
    char *d2 = strdup(v), *s2 = NULL;
    for (char *m = strtok_r(d2, ",", &s2); m && !bad; m = strtok_r(NULL, ",", &s2)) {
        size_t ml = strlen(m);
        char day[3] = {0};
        if (ml >= 2) {
            day[0] = (char)tolower((unsigned char)m[ml - 2]);
            day[1] = (char)tolower((unsigned char)m[ml - 1]);
        }
        if (ml < 2 || !strstr("mo tu we th fr sa su", day)) {
            bad = 1;
            break;
        }
        json_t *nd = i2j_typed_object("NDay");
        json_object_set_new_nocheck(nd, "day", json_string_nocheck(day));
        if (ml > 2) {
            char num[16];
            snprintf(num, sizeof num, "%.*s", (int)(ml - 2), m);
            char *end;
            long n = strtol(num, &end, 10);
            if (*end || n == 0 || n > 53 || n < -53) /* RFC 5545 §3.3.10 ordwk */
                bad = 1;
            json_object_set_new_nocheck(nd, "nthOfPeriod", json_integer(n));
        }
        json_array_append_new(a, nd);
    }
    free(d2);
    bad |= !json_array_size(a);
    json_object_set_new_nocheck(rule, "byDay", a);
    return bad;
}

int i2j_convert_rrule(obj_ctx *o, const ical_prop *p)
{
    json_t *rule = i2j_typed_object("RecurrenceRule");
    char *dup = strdup(p->value), *save = NULL;
    int bad = 0, has_freq = 0;
    for (char *part = strtok_r(dup, ";", &save); part && !bad; part = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(part, '=');
        if (!eq) {
            bad = 1;
            break;
        }
        *eq = 0;
        const char *k = part, *v = eq + 1;
        if (!strcasecmp(k, "FREQ")) {
            static const char *const f[] = {"SECONDLY", "MINUTELY", "HOURLY", "DAILY",
                                            "WEEKLY", "MONTHLY", "YEARLY"};
            int ok = 0;
            for (size_t i = 0; i < 7; i++)
                ok |= !strcasecmp(v, f[i]);
            if (!ok)
                bad = 1;
            char *l = jscal_strlower(v);
            json_object_set_new_nocheck(rule, "frequency", json_string_nocheck(l));
            free(l);
            has_freq = 1;
        } else if (!strcasecmp(k, "INTERVAL") || !strcasecmp(k, "COUNT")) {
            long long n;
            if (i2j_parse_uint(v, &n) || (n < 1 && !strcasecmp(k, "INTERVAL")))
                bad = 1;
            else
                json_object_set_new_nocheck(rule, !strcasecmp(k, "COUNT") ? "count" : "interval",
                                            json_integer(n));
        } else if (!strcasecmp(k, "UNTIL")) {
            /* UNTIL converts to a LocalDateTime in the object's time zone. */
            ical_dt d;
            if (ical_dt_parse(v, &d)) {
                bad = 1;
                break;
            }
            jscal_ldt t = d.t;
            if (d.is_utc && o->tzid && strcmp(o->tzid, "Etc/UTC"))
                jscal_secs_to_ldt(tz_utc_to_local(o->zone, jscal_ldt_to_secs(&d.t)), &t);
            i2j_set_ldt(rule, "until", &t, 0);
        } else if (!strcasecmp(k, "BYSECOND") || !strcasecmp(k, "BYMINUTE") ||
                   !strcasecmp(k, "BYHOUR")) {
            const char *name = !strcasecmp(k, "BYSECOND") ? "bySecond"
                               : !strcasecmp(k, "BYMINUTE") ? "byMinute"
                                                            : "byHour";
            bad = i2j_int_list(rule, name, v, 0) != 0;
        } else if (!strcasecmp(k, "BYMONTHDAY") || !strcasecmp(k, "BYYEARDAY") ||
                   !strcasecmp(k, "BYWEEKNO") || !strcasecmp(k, "BYSETPOS")) {
            const char *name = !strcasecmp(k, "BYMONTHDAY")  ? "byMonthDay"
                               : !strcasecmp(k, "BYYEARDAY") ? "byYearDay"
                               : !strcasecmp(k, "BYWEEKNO")  ? "byWeekNo"
                                                             : "bySetPosition";
            bad = i2j_int_list(rule, name, v, 1) != 0;
        } else if (!strcasecmp(k, "BYMONTH")) {
            bad = rrule_by_month(rule, v);
        } else if (!strcasecmp(k, "BYDAY")) {
            bad = rrule_by_day(rule, v);
        } else if (!strcasecmp(k, "WKST")) {
            char *l = jscal_strlower(v);
            if (strlen(l) != 2 || !strstr("mo tu we th fr sa su", l))
                bad = 1;
            json_object_set_new_nocheck(rule, "firstDayOfWeek", json_string_nocheck(l));
            free(l);
        } else if (!strcasecmp(k, "RSCALE") || !strcasecmp(k, "SKIP")) {
            /* RFC 7529 §3.1: SKIP is OMIT, BACKWARD or FORWARD */
            if (!strcasecmp(k, "SKIP") && strcasecmp(v, "OMIT") && strcasecmp(v, "BACKWARD") &&
                strcasecmp(v, "FORWARD"))
                bad = 1;
            char *l = jscal_strlower(v);
            json_object_set_new_nocheck(rule, !strcasecmp(k, "RSCALE") ? "rscale" : "skip",
                                        json_string_nocheck(l));
            free(l);
        } else {
            bad = 1;
        }
    }
    free(dup);
    if (bad || !has_freq || (json_object_get(rule, "count") && json_object_get(rule, "until"))) {
        json_decref(rule);
        return i2j_fail(o, p, "invalid recurrence rule");
    }
    /* RFC 7529 §4.1: SKIP only with RSCALE; one without is read as the Gregorian scale's
     * (jscalendarbis: the default rscale), written back with RSCALE=GREGORIAN */
    if (json_object_get(rule, "skip") && !json_object_get(rule, "rscale")) {
        json_object_set_new_nocheck(rule, "rscale", json_string_nocheck("gregorian"));
        i2j_warn(o, p, "SKIP without RSCALE: read as RSCALE=GREGORIAN (RFC 7529 §4.1)");
    }
    json_object_set_new_nocheck(o->obj, "recurrenceRule", rule);
    static const char *const none[] = {NULL};
    i2j_note_converted(o, "recurrenceRule", p, none, NULL, 0);
    return 0;
}

/* ---- sub-components ------------------------------------------------------------------- */


void i2j_sub_ctx(obj_ctx *sub, obj_ctx *parent, const ical_comp *c, const char *type)
{
    memset(sub, 0, sizeof *sub);
    sub->cal = parent->cal;
    sub->comp = c;
    sub->obj = i2j_typed_object(type);
    sub->tzid = parent->tzid;
    sub->zone = parent->zone;
    sub->is_task = parent->is_task;
}

void i2j_sub_finish(obj_ctx *sub)
{
    if (sub->ical)
        json_object_set_new_nocheck(sub->obj, "iCalendar", sub->ical);
    sub->ical = NULL;
}

/* The UUIDv5 of the component's text (§2.1.3), into u. */
static void comp_text_uuid(cal_ctx *cal, const ical_comp *c, char u[37])
{
    jbuf b = {0};
    ical_comp_write(c, &b);
    i2j_uuid(cal, b.s, u);
    free(b.s);
}

void i2j_comp_key(cal_ctx *cal, const ical_comp *c, char key[256])
{
    ical_prop *p = ical_comp_get_prop(c, "JSID");
    if (p && jid_valid(p->value)) {
        i2j_key_copy(key, 256, p->value);
        return;
    }
    p = ical_comp_get_prop(c, "UID");
    if (p && jid_valid(p->value)) {
        i2j_key_copy(key, 256, p->value);
        return;
    }
    char u[37];
    comp_text_uuid(cal, c, u);
    i2j_key_copy(key, 256, u);
}

/* i2j_comp_key, unless map already has that key (a VLOCATION whose UID is a LOCATION's
 * JSID, or two VLOCATIONs of one UID): then one made from the component's text, counted
 * on while taken. The writer gives a key that is not the UID as JSID, so it reads back
 * (draft-25 §2.3.29; issue 12 §3.4: the second replaced the first, which a mainLocationId
 * named). */
void i2j_comp_key_in(cal_ctx *cal, const ical_comp *c, const json_t *map, char key[256])
{
    i2j_comp_key(cal, c, key);
    if (!json_object_get(map, key))
        return;
    char u[37];
    comp_text_uuid(cal, c, u);
    i2j_key_copy(key, 256, u);
    for (int n = 2; json_object_get(map, key); n++)
        snprintf(key, 256, "%s-%d", u, n);
}

/* VALARM -> Alert (§2.2.2). RELATED-TO is resolved by the caller once all keys are known. */
json_t *i2j_convert_valarm(obj_ctx *parent, const ical_comp *c)
{
    static const char *const actions[] = {"DISPLAY", "display", "EMAIL", "email", NULL};
    const char *known;
    obj_ctx a;
    i2j_sub_ctx(&a, parent, c, "Alert");
    const ical_prop *jsprops[32];
    size_t njs = 0;
    for (size_t i = 0; i < c->nprops; i++) {
        const ical_prop *p = &c->props[i];
        if (i2j_is(p->name, "TRIGGER")) {
            const char *vt = ical_prop_param1(p, "VALUE");
            json_t *t;
            if (vt && !strcasecmp(vt, "DATE-TIME")) {
                t = i2j_typed_object("AbsoluteTrigger");
                if (i2j_set_utc(&a, p, t, "when")) {
                    json_decref(t);
                    goto bad;
                }
            } else {
                jscal_dur d;
                if (jscal_dur_parse(p->value, 1, &d)) {
                    i2j_fail(&a, p, "invalid DURATION value");
                    goto bad;
                }
                t = i2j_typed_object("OffsetTrigger");
                json_object_set_new_nocheck(t, "offset", json_string_nocheck(p->value));
                const char *rel = ical_prop_param1(p, "RELATED");
                if (rel && !strcasecmp(rel, "END"))
                    json_object_set_new_nocheck(t, "relativeTo", json_string_nocheck("end"));
            }
            json_object_set_new_nocheck(a.obj, "trigger", t);
            static const char *const consumed[] = {"RELATED", NULL};
            i2j_note_converted(&a, "trigger", p, consumed, NULL, 0);
        } else if (i2j_is(p->name, "ACTION") && (known = i2j_enum_value(p, actions))) {
            json_object_set_new_nocheck(a.obj, "action", json_string_nocheck(known));
        } else if (i2j_is(p->name, "ACKNOWLEDGED")) {
            if (i2j_set_utc(&a, p, a.obj, "acknowledged"))
                goto bad;
        } else if (i2j_is(p->name, "JSID")) {
            /* the key */
        } else if (i2j_is(p->name, "JSPROP") && njs < 32) {
            jsprops[njs++] = p;
        } else {
            i2j_keep_prop(&a, p); /* RELATED-TO is moved out by the caller if it resolves */
        }
    }
    for (size_t i = 0; i < c->ncomps; i++)
        i2j_keep_comp(&a, c->comps[i]);
    /* RFC 5545 §3.6.6 requires ACTION; without one the alarm is the JSCalendar default
     * "display", as the writer writes it (issue 12 §3.4) */
    if (!ical_comp_get_prop(c, "ACTION"))
        json_object_set_new_nocheck(a.obj, "action", json_string_nocheck("display"));
    /* A DISPLAY or EMAIL alarm without DESCRIPTION (RFC 5545 §3.6.6 wants one) records
     * that it came from iCalendar, so that the writer does not make one up that would
     * read back as a kept property (issue 12 §3.4) */
    const char *act = json_string_value(json_object_get(a.obj, "action"));
    if (act && !ical_comp_get_prop(c, "DESCRIPTION"))
        i2j_ical_obj(&a);
    if (i2j_convert_jsprops(&a, jsprops, njs))
        goto bad;
    i2j_sub_finish(&a);
    return a.obj;
bad:
    json_decref(a.ical);
    json_decref(a.obj);
    return NULL;
}

/* Moves RELATED-TO properties of alerts whose value is the UID of another alert into
 * relatedTo (§2.3.35). */
void i2j_resolve_alert_relations(json_t *alerts)
{
    const char *key;
    json_t *al;
    json_object_foreach(alerts, key, al)
    {
        json_t *props = json_object_get(json_object_get(al, "iCalendar"), "properties");
        for (size_t i = 0; i < json_array_size(props);) {
            json_t *jp = json_array_get(props, i);
            if (strcmp(json_string_value(json_array_get(jp, 0)), "related-to")) {
                i++;
                continue;
            }
            const char *uid = json_string_value(json_array_get(jp, 3));
            const char *target = NULL, *k2;
            json_t *al2;
            json_object_foreach(alerts, k2, al2)
            {
                json_t *p2 = json_object_get(json_object_get(al2, "iCalendar"), "properties");
                size_t j;
                json_t *e;
                json_array_foreach(p2, j, e)
                {
                    if (!strcmp(json_string_value(json_array_get(e, 0)), "uid") && uid &&
                        json_is_string(json_array_get(e, 3)) &&
                        !strcmp(json_string_value(json_array_get(e, 3)), uid))
                        target = k2;
                }
            }
            if (!target) {
                i++;
                continue;
            }
            json_t *rel = i2j_typed_object("Relation");
            json_t *rt = json_object_get(json_array_get(jp, 1), "reltype");
            if (json_is_string(rt)) {
                json_t *set = json_object();
                char *l = jscal_strlower(json_string_value(rt));
                json_object_set_new_nocheck(set, l, json_true());
                free(l);
                json_object_set_new_nocheck(rel, "relation", set);
            }
            json_object_set_new_nocheck(i2j_get_map(al, "relatedTo"), target, rel);
            json_array_remove(props, i);
        }
        json_t *ic = json_object_get(al, "iCalendar");
        if (props && !json_array_size(props))
            json_object_del(ic, "properties");
    }
}

int i2j_geo_ok(const char *v)
{
    char *end;
    double lat = strtod(v, &end); /* NaN fails every bound below */
    if (end == v || *end != ';' || !(lat >= -90 && lat <= 90))
        return 0;
    const char *s = end + 1;
    double lon = strtod(s, &end);
    return end != s && !*end && lon >= -180 && lon <= 180;
}

void i2j_add_geo_coordinates(obj_ctx *o, json_t *loc, const ical_prop *p, const char *path)
{
    const char *semi = strchr(p->value, ';');
    if (!semi)
        return;
    double lat = atof(p->value), lon = atof(semi + 1);
    char buf[96], a[32], b[32];
    jscal_format_double(a, sizeof a, lat);
    jscal_format_double(b, sizeof b, lon);
    snprintf(buf, sizeof buf, "geo:%s,%s", a, b);
    json_object_set_new_nocheck(loc, "coordinates", json_string_nocheck(buf));
    static const char *const none[] = {NULL};
    i2j_note_converted(o, path, p, none, NULL, 1);
}

/* VLOCATION -> Location (§2.2.4). */
json_t *i2j_convert_vlocation(obj_ctx *parent, const ical_comp *c)
{
    obj_ctx l;
    i2j_sub_ctx(&l, parent, c, "Location");
    i2j_ical_obj(&l); /* a VLOCATION always records its origin */
    const ical_prop *jsprops[32];
    size_t njs = 0;
    int nurl = 0;
    /* A UID equal to the JSID is the one the writer makes from the Location's id when it
     * has none of its own (RFC 9073 §7.2 needs one): the id says it already (issue 12
     * §3.4: keeping it added a UID on each round trip) */
    const ical_prop *jsid = ical_comp_get_prop(c, "JSID");
    for (size_t i = 0; i < c->nprops; i++) {
        const ical_prop *p = &c->props[i];
        if (i2j_is(p->name, "UID") && jsid && !strcmp(p->value, jsid->value) &&
            jid_valid(jsid->value))
            continue;
        if (i2j_is(p->name, "NAME"))
            i2j_set_text(l.obj, "name", p->value);
        else if (i2j_is(p->name, "COORDINATES"))
            json_object_set_new_nocheck(l.obj, "coordinates", json_string_nocheck(p->value));
        else if (i2j_is(p->name, "GEO") && !json_object_get(l.obj, "coordinates") &&
                 i2j_geo_ok(p->value))
            i2j_add_geo_coordinates(&l, l.obj, p, "coordinates");
        else if (i2j_is(p->name, "LOCATION-TYPE"))
            i2j_add_set_values(l.obj, "locationTypes", p->value, 0, 1);
        else if (i2j_is(p->name, "ATTACH") || i2j_is(p->name, "IMAGE") || i2j_is(p->name, "LINK") ||
                 i2j_is(p->name, "URL"))
            i2j_add_link(&l, p, &nurl);
        else if (i2j_is(p->name, "JSID"))
            continue;
        else if (i2j_is(p->name, "JSPROP") && njs < 32)
            jsprops[njs++] = p;
        else
            i2j_keep_prop(&l, p);
    }
    for (size_t i = 0; i < c->ncomps; i++)
        i2j_keep_comp(&l, c->comps[i]);
    i2j_convert_jsprops(&l, jsprops, njs);
    i2j_sub_finish(&l);
    return l.obj;
}

/* LANGUAGE on SUMMARY/DESCRIPTION/NAME converts to "locale" (draft -25 §2.3.42, §3.2 table):
 * it sets locale if unset, and is consumed if it equals it; a different language stays
 * with the property in convertedProperties. Returns 1 if consumed. */
int i2j_take_language(json_t *obj, const ical_prop *p)
{
    const char *l = ical_prop_param1(p, "LANGUAGE");
    if (!l)
        return 0;
    json_t *cur = json_object_get(obj, "locale");
    if (!cur) {
        json_object_set_new_nocheck(obj, "locale", json_string_nocheck(l));
        return 1;
    }
    return json_is_string(cur) && !strcmp(json_string_value(cur), l);
}

void i2j_set_description(obj_ctx *o, json_t *obj, const ical_prop *p, int styled)
{
    i2j_set_text(obj, "description", p->value);
    const char *fmt = ical_prop_param1(p, "FMTTYPE");
    if (styled && fmt)
        json_object_set_new_nocheck(obj, "descriptionContentType", json_string_nocheck(fmt));
    static const char *const with_lang[] = {"FMTTYPE", "LANGUAGE", NULL};
    static const char *const without[] = {"FMTTYPE", NULL};
    const char *const *consumed = i2j_take_language(obj, p) ? with_lang : without;
    i2j_note_converted(o, "description", p, consumed, NULL, styled && !fmt);
}

int i2j_styled_ok(const ical_prop *p)
{
    const char *vt = ical_prop_param1(p, "VALUE");
    const char *fmt = ical_prop_param1(p, "FMTTYPE");
    return (!vt || !strcasecmp(vt, "TEXT")) && (!fmt || !strncasecmp(fmt, "text/", 5)) &&
           !i2j_param_is_true(p, "DERIVED");
}

/* PARTICIPANT -> Participant (§2.2.1). Returns the object; *key gets its key. */
json_t *i2j_convert_participant_comp(obj_ctx *parent, const ical_comp *c, char key[256])
{
    obj_ctx pc;
    i2j_sub_ctx(&pc, parent, c, "Participant");
    i2j_ical_obj(&pc);
    const ical_prop *jsprops[32];
    size_t njs = 0;
    int nurl = 0;
    ical_prop *jsid = ical_comp_get_prop(c, "JSID");
    ical_prop *addr = ical_comp_get_prop(c, "CALENDAR-ADDRESS");
    if (jsid && jid_valid(jsid->value))
        i2j_key_copy(key, 256, jsid->value);
    else if (addr) {
        char u[37];
        i2j_uuid(parent->cal, addr->value, u);
        i2j_key_copy(key, 256, u);
    } else
        i2j_comp_key(parent->cal, c, key);
    for (size_t i = 0; i < c->nprops; i++) {
        const ical_prop *p = &c->props[i];
        if (p == addr) {
            json_object_set_new_nocheck(pc.obj, "calendarAddress", json_string_nocheck(p->value));
        } else if (i2j_is(p->name, "DESCRIPTION") && !i2j_param_is_true(p, "DERIVED") &&
                   !json_object_get(pc.obj, "description")) {
            i2j_set_description(&pc, pc.obj, p, 0);
        } else if (i2j_is(p->name, "STYLED-DESCRIPTION") && i2j_styled_ok(p) &&
                   !json_object_get(pc.obj, "description")) {
            i2j_set_description(&pc, pc.obj, p, 1);
        } else if (i2j_is(p->name, "SUMMARY")) {
            i2j_set_text(pc.obj, "name", p->value);
        } else if (i2j_is(p->name, "PERCENT-COMPLETE")) {
            long long n;
            if (!i2j_parse_uint(p->value, &n) && n <= 100 && parent->is_task) /* Tasks only */
                json_object_set_new_nocheck(pc.obj, "percentComplete", json_integer(n));
            else
                i2j_keep_prop(&pc, p);
        } else if (i2j_is(p->name, "ATTACH") || i2j_is(p->name, "IMAGE") ||
                   i2j_is(p->name, "LINK") || i2j_is(p->name, "URL")) {
            i2j_add_link(&pc, p, &nurl);
        } else if (i2j_is(p->name, "JSID")) {
            continue;
        } else if (i2j_is(p->name, "UID") && jsid && !strcmp(p->value, jsid->value)) {
            /* a UID equal to the JSID is the one the writer makes from the key when there
             * is none (RFC 9073 §6.2 needs one): the key says it (issue 12 §3.4: kept, it
             * was new on each round trip); any other UID is kept (draft-25 §2.2.1) */
            continue;
        } else if (i2j_is(p->name, "JSPROP") && njs < 32) {
            jsprops[njs++] = p;
        } else {
            i2j_keep_prop(&pc, p);
        }
    }
    for (size_t i = 0; i < c->ncomps; i++)
        i2j_keep_comp(&pc, c->comps[i]);
    i2j_convert_jsprops(&pc, jsprops, njs);
    i2j_sub_finish(&pc);
    return pc.obj;
}

/* ---- participants from ORGANIZER and ATTENDEE (§2.3.4, §2.3.29) ------------------------- */

char *i2j_strip_mailto(const char *s)
{
    return strdup(!strncasecmp(s, "mailto:", 7) ? s + 7 : s);
}

void i2j_set_addr_set(json_t *obj, const char *name, const ical_param *pa)
{
    if (!pa || !pa->nvalues)
        return;
    json_t *set = i2j_get_map(obj, name);
    for (size_t i = 0; i < pa->nvalues; i++)
        json_object_set_new_nocheck(set, pa->values[i], json_true());
}

/* The parameters of ATTENDEE that convert (§2.3.4), looked up in one pass. */
enum {
    ATT_JSID,
    ATT_CN,
    ATT_EMAIL,
    ATT_CUTYPE,
    ATT_DELEGATED_TO,
    ATT_DELEGATED_FROM,
    ATT_MEMBER,
    ATT_PARTSTAT,
    ATT_ROLE,
    ATT_RSVP,
    ATT_SENT_BY,
    ATT_SCHEDULE_AGENT,
    ATT_SCHEDULE_FORCE_SEND,
    ATT_SCHEDULE_STATUS,
    ATT_N
};
static const char *const att_params[ATT_N] = {"JSID",
                                              "CN",
                                              "EMAIL",
                                              "CUTYPE",
                                              "DELEGATED-TO",
                                              "DELEGATED-FROM",
                                              "MEMBER",
                                              "PARTSTAT",
                                              "ROLE",
                                              "RSVP",
                                              "SENT-BY",
                                              "SCHEDULE-AGENT",
                                              "SCHEDULE-FORCE-SEND",
                                              "SCHEDULE-STATUS"};

/* The first value of a picked parameter, or NULL (ical_prop_param1). */
static const char *value1(const ical_param *pa)
{
    return pa && pa->nvalues ? pa->values[0] : NULL;
}

void i2j_convert_attendee(obj_ctx *o, const ical_prop *p, json_t *into)
{
    const ical_param *pa[ATT_N];
    ical_prop_params_pick(p, att_params, ATT_N, pa);
    json_t *parts = i2j_get_map(o->obj, "participants");
    const char *jsid = value1(pa[ATT_JSID]);
    const char *existing = cal_address_participant(parts, p->value, 0);
    char key[256];
    if (jsid && jid_valid(jsid))
        i2j_key_copy(key, sizeof key, jsid);
    else if (existing)
        i2j_key_copy(key, sizeof key, existing);
    else {
        char u[37];
        i2j_uuid(o->cal, p->value, u);
        i2j_key_copy(key, sizeof key, u);
    }
    json_t *pt = json_object_get(parts, key);
    if (!pt) {
        pt = i2j_typed_object("Participant");
        json_object_set_new_nocheck(parts, key, pt);
    }
    json_object_set_new_nocheck(into, key, json_true());
    json_object_set_new_nocheck(pt, "calendarAddress", json_string_nocheck(p->value));
    const char *v;
    if ((v = value1(pa[ATT_CN])))
        json_object_set_new_nocheck(pt, "name", json_string_nocheck(v));
    if ((v = value1(pa[ATT_EMAIL])))
        json_object_set_new_nocheck(pt, "email", json_string_nocheck(v));
    if ((v = value1(pa[ATT_CUTYPE]))) {
        char *l = jscal_strlower(v);
        json_object_set_new_nocheck(pt, "kind",
                                    json_string_nocheck(!strcmp(l, "room") ? "location" : l));
        free(l);
    }
    i2j_set_addr_set(pt, "delegatedTo", pa[ATT_DELEGATED_TO]);
    i2j_set_addr_set(pt, "delegatedFrom", pa[ATT_DELEGATED_FROM]);
    i2j_set_addr_set(pt, "memberOf", pa[ATT_MEMBER]);
    if ((v = value1(pa[ATT_PARTSTAT]))) {
        char *l = jscal_strlower(v);
        /* §2.3.4: VTODO-specific PARTSTAT values also set "progress". */
        if (o->is_task && (!strcmp(l, "completed") || !strcmp(l, "in-process") || !strcmp(l, "failed"))) {
            json_object_set_new_nocheck(pt, "participationStatus", json_string_nocheck("accepted"));
            json_object_set_new_nocheck(pt, "progress", json_string_nocheck(l));
        } else {
            json_object_set_new_nocheck(pt, "participationStatus", json_string_nocheck(l));
            json_object_del(pt, "progress"); /* an earlier ATTENDEE of the same address */
        }
        free(l);
    }
    const ical_param *role = pa[ATT_ROLE];
    for (size_t i = 0; role && i < role->nvalues; i++) {
        const char *r = role->values[i];
        if (!*r)
            continue; /* ROLE= names no role; a roles key is never empty (jscalendarbis §4.4.6) */
        json_t *roles = i2j_get_map(pt, "roles");
        if (!strcasecmp(r, "CHAIR")) {
            json_object_set_new_nocheck(roles, "attendee", json_true());
            json_object_set_new_nocheck(roles, "chair", json_true());
        } else if (!strcasecmp(r, "REQ-PARTICIPANT")) {
            json_object_set_new_nocheck(roles, "attendee", json_true());
        } else if (!strcasecmp(r, "OPT-PARTICIPANT")) {
            json_object_set_new_nocheck(roles, "attendee", json_true());
            json_object_set_new_nocheck(roles, "optional", json_true());
        } else if (!strcasecmp(r, "NON-PARTICIPANT")) {
            json_object_set_new_nocheck(roles, "informational", json_true());
        } else {
            char *l = jscal_strlower(r);
            json_object_set_new_nocheck(roles, l, json_true());
            free(l);
        }
    }
    if ((v = value1(pa[ATT_RSVP])) && !strcasecmp(v, "TRUE"))
        json_object_set_new_nocheck(pt, "expectReply", json_true());
    if ((v = value1(pa[ATT_SENT_BY]))) {
        char *s = i2j_strip_mailto(v);
        json_object_set_new_nocheck(pt, "sentBy", json_string_nocheck(s));
        free(s);
    }
    /* draft-ietf-jmap-calendars: scheduling parameters */
    if ((v = value1(pa[ATT_SCHEDULE_AGENT]))) {
        char *l = jscal_strlower(v);
        json_object_set_new_nocheck(pt, "scheduleAgent", json_string_nocheck(l));
        free(l);
    }
    if (value1(pa[ATT_SCHEDULE_FORCE_SEND])) /* any value, TRUE included */
        json_object_set_new_nocheck(pt, "scheduleForceSend", json_true());
    const ical_param *ss = pa[ATT_SCHEDULE_STATUS];
    if (ss && ss->nvalues) {
        json_t *a = json_array();
        for (size_t i = 0; i < ss->nvalues; i++)
            json_array_append_new(a, json_string_nocheck(ss->values[i]));
        json_object_set_new_nocheck(pt, "scheduleStatus", a);
    }
    static const char *const consumed[] = {
        "CN",     "EMAIL", "CUTYPE",         "DELEGATED-TO",        "DELEGATED-FROM",
        "MEMBER", "PARTSTAT", "ROLE",        "RSVP",                "SENT-BY",
        "SCHEDULE-AGENT", "SCHEDULE-STATUS", "SCHEDULE-FORCE-SEND", NULL};
    char *path = i2j_path2("participants", key);
    i2j_note_converted(o, path, p, consumed, NULL, 0);
    free(path);
}

void i2j_convert_organizer(obj_ctx *o, const ical_prop *p, json_t *into)
{
    json_object_set_new_nocheck(o->obj, "organizerCalendarAddress", json_string_nocheck(p->value));
    const char *cn = ical_prop_param1(p, "CN"), *email = ical_prop_param1(p, "EMAIL"),
               *sentby = ical_prop_param1(p, "SENT-BY");
    char *sb = sentby ? i2j_strip_mailto(sentby) : NULL;
    if (sb)
        json_object_set_new_nocheck(o->obj, "sentBy", json_string_nocheck(sb));
    json_t *parts = json_object_get(o->obj, "participants");
    /* The key is the JSID if set (draft-25 §2.3.29), a new participant if none has it;
     * else the participant of the same calendar user (cal_address.h) */
    const char *jsid = ical_prop_param1(p, "JSID");
    if (jsid && !jid_valid(jsid))
        jsid = NULL;
    int jsid_new = jsid && !json_object_get(parts, jsid);
    const char *existing = parts && !jsid_new ? cal_address_organizer(parts, p->value, jsid) : NULL;
    int other_owner = cal_address_any_owner(parts);
    static const char *const consumed[] = {"CN", "EMAIL", "SENT-BY", NULL};
    if (existing || jsid_new || cn || email || sentby || !other_owner) {
        char key[256];
        if (existing)
            i2j_key_copy(key, sizeof key, existing);
        else if (jsid_new)
            i2j_key_copy(key, sizeof key, jsid);
        else {
            char u[37];
            i2j_uuid(o->cal, p->value, u);
            i2j_key_copy(key, sizeof key, u);
        }
        parts = i2j_get_map(o->obj, "participants");
        json_t *pt = json_object_get(parts, key);
        if (!pt) {
            pt = i2j_typed_object("Participant");
            json_object_set_new_nocheck(pt, "calendarAddress", json_string_nocheck(p->value));
            json_object_set_new_nocheck(parts, key, pt);
        }
        json_object_set_new_nocheck(i2j_get_map(pt, "roles"), "owner", json_true());
        json_object_set_new_nocheck(into, key, json_true());
        if (cn && !json_object_get(pt, "name"))
            json_object_set_new_nocheck(pt, "name", json_string_nocheck(cn));
        if (email && !json_object_get(pt, "email"))
            json_object_set_new_nocheck(pt, "email", json_string_nocheck(email));
        /* SENT-BY converts to the participant's sentBy and to the object's (draft-25
         * §2.3.29), and the writer gives ORGANIZER the participant's: so ORGANIZER's own
         * SENT-BY wins over a merged ATTENDEE's, and without one the participant's (from
         * its ATTENDEE) is the object's too, as it reads back (issue 12 §3.4) */
        json_t *psb = json_object_get(pt, "sentBy");
        if (sb)
            json_object_set_new_nocheck(pt, "sentBy", json_string_nocheck(sb));
        else if (json_is_string(psb) && !json_object_get(o->obj, "sentBy"))
            json_object_set_nocheck(o->obj, "sentBy", psb);
    }
    free(sb);
    i2j_note_converted(o, "organizerCalendarAddress", p, consumed, NULL, 0);
}

/* ---- JSPROP (§4.1.2) ------------------------------------------------------------------ */

/* The invalid paths of obj as the validator sees it: an Event or Task as it is, an Alert,
 * Participant or Location inside a minimal Event. NULL if none. */
static json_t *invalid_paths(json_t *obj)
{
    const char *type = json_string_value(json_object_get(obj, "@type"));
    const char *in = !type                          ? NULL
                     : !strcmp(type, "Alert")       ? "alerts"
                     : !strcmp(type, "Participant") ? "participants"
                     : !strcmp(type, "Location")    ? "locations"
                                                    : NULL;
    json_t *doc = in ? json_pack("{s:s, s:s, s:s, s:{s:O}}", "@type", "Event", "uid", "u", "start",
                                 "2000-01-01T00:00:00", in, "k", obj)
                     : json_incref(obj);
    json_t *inv = NULL;
    jscal_validate(doc, JSCAL_ALLOW_MISSING_SERVER_SET | JSCAL_RELAXED, &inv);
    json_decref(doc);
    return inv;
}

/* How many invalid paths obj has as the validator sees it. */
static size_t invalid_count(json_t *obj)
{
    json_t *inv = invalid_paths(obj);
    size_t n = json_array_size(inv);
    json_decref(inv);
    return n;
}

/* Sets ptr to val in o's object (ptr names a new member of an object, see below). A JSPROP
 * may carry any JSON, but the converter never produces what the validator rejects (issue 12
 * §3.4), so `JSPROP;JSPTR=title:1` is taken back and kept as a property: 0 then. A
 * vendor-prefixed member of a typed object (`example.com:foo`, which the validator leaves
 * alone, RFC 8984 §3.3) needs no check; *ninvalid carries the object's count of invalid
 * paths from one JSPROP to the next ((size_t)-1 until counted), so each JSPROP that names a
 * JSCalendar property costs one validation (a deep copy and two validations per JSPROP made
 * 64 JSPROPs on an event of 500 participants nine times dearer than the event). */
static int jsprop_set_valid(obj_ctx *o, json_t *parent, const char *member, const char *ptr,
                            json_t *val, size_t *ninvalid)
{
    int vendor = json_is_string(json_object_get(parent, "@type")) && strchr(member, ':');
    if (!vendor && *ninvalid == (size_t)-1)
        *ninvalid = invalid_count(o->obj);
    json_t *patch = json_object();
    json_object_set_nocheck(patch, ptr, val);
    jscal_patch_apply(o->obj, patch, NULL);
    if (vendor) {
        json_decref(patch);
        return 1;
    }
    size_t n = invalid_count(o->obj);
    if (n <= *ninvalid) {
        *ninvalid = n;
        json_decref(patch);
        return 1;
    }
    json_object_set_nocheck(patch, ptr, json_null()); /* RFC 8620 §5.3: null removes */
    jscal_patch_apply(o->obj, patch, NULL);
    json_decref(patch);
    return 0;
}

int i2j_convert_jsprops(obj_ctx *o, const ical_prop *const *jsprops, size_t n)
{
    size_t ninvalid = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        const ical_prop *p = jsprops[i];
        const char *ptr = ical_prop_param1(p, "JSPTR");
        char *txt = ical_text_unescape(p->value);
        json_error_t jerr;
        json_t *val = json_loads(txt, JSON_DECODE_ANY, &jerr);
        free(txt);
        if (!ptr || *ptr == '/' || !val || json_is_null(val)) {
            json_decref(val);
            i2j_keep_prop(o, p);
            continue;
        }
        /* Only new properties may be set; pointers to existing ones are ignored. */
        json_t *cur = o->obj;
        char *dup = strdup(ptr), *save = NULL, *tok, *last = NULL;
        int exists = 1;
        for (tok = strtok_r(dup, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
            if (last) {
                cur = json_object_get(cur, last);
                if (!json_is_object(cur)) {
                    exists = -1;
                    break;
                }
            }
            last = tok;
        }
        if (exists != -1 && last && json_is_object(cur) && !json_object_get(cur, last) &&
            !jsprop_set_valid(o, cur, last, ptr, val, &ninvalid)) {
            i2j_warn(o, p, "JSPROP value not valid at its JSPTR: kept as a property");
            i2j_keep_prop(o, p);
        }
        free(dup);
        json_decref(val);
    }
    return 0;
}
