/*
 * ical_to_jscal.c — iCalendar -> JSCalendar, following
 * draft-ietf-calext-jscalendar-icalendar-25 §2 property by property. The VCALENDAR becomes a
 * Group (§2.1.1), VEVENT/VTODO become Event/Task entries, recurrence overrides become
 * PatchObjects on their main component (§2.1.2), and everything without a JSCalendar
 * counterpart is kept in the "iCalendar" property (§5.1.1) so the reverse direction
 * (jscal_to_ical.c) can restore it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/ical.h"
#include "formats/ical_internal.h"
#include "formats/jscal.h"
#include "formats/tz.h"

/* ---- contexts ------------------------------------------------------------------------- */

typedef struct {
    char *tzid;
    icaltimezone *zone;
} custom_zone;

typedef struct {
    ical_comp **vtz; /* VTIMEZONE components of the calendar */
    size_t nvtz;
    custom_zone *cz; /* libical zones built from them, on demand */
    size_t ncz;
    char *err;
} cal_ctx;

/* One JSCalendar object being built from one iCalendar component. */
typedef struct {
    cal_ctx *cal;
    const ical_comp *comp;
    json_t *obj;
    json_t *ical;        /* the ICalComponent, created on demand */
    const char *tzid;    /* JSCalendar timeZone (NULL: floating) */
    icaltimezone *zone;  /* zone of tzid, NULL for floating/UTC */
    ical_comp *tz_vtz;   /* VTIMEZONE when tzid is not IANA */
    int is_task, is_date;
} obj_ctx;

static int fail(obj_ctx *o, const ical_prop *p, const char *msg)
{
    if (!o->cal->err)
        o->cal->err = p ? jscal_strdupf("line %d: property %s: %s", p->line, p->name, msg)
                        : jscal_strdupf("line %d: component %s: %s", o->comp->line,
                                        o->comp->name, msg);
    return -1;
}

static json_t *ical_obj(obj_ctx *o)
{
    if (!o->ical) {
        o->ical = json_object();
        json_object_set_new(o->ical, "@type", json_string("ICalComponent"));
        char *n = jscal_strlower(o->comp->name);
        json_object_set_new(o->ical, "name", json_string(n));
        free(n);
    }
    return o->ical;
}

/* Keeps an unconverted property in iCalendar/properties. */
static void keep_prop(obj_ctx *o, const ical_prop *p)
{
    json_t *ic = ical_obj(o), *a = json_object_get(ic, "properties");
    if (!a) {
        a = json_array();
        json_object_set_new(ic, "properties", a);
    }
    json_array_append_new(a, ical_prop_to_jcal(p));
}

static void keep_comp(obj_ctx *o, const ical_comp *c)
{
    json_t *ic = ical_obj(o), *a = json_object_get(ic, "components");
    if (!a) {
        a = json_array();
        json_object_set_new(ic, "components", a);
    }
    json_array_append_new(a, ical_comp_to_jcal(c));
}

/* Records conversion information for the JSCalendar element at path (§5.1.1
 * convertedProperties): the iCalendar property name, optionally its value type, and its
 * parameters that did not convert. With force=0 nothing is recorded if no parameter is left. */
static void note_converted(obj_ctx *o, const char *path, const ical_prop *p,
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
    json_t *ic = ical_obj(o), *cp = json_object_get(ic, "convertedProperties");
    if (!cp) {
        cp = json_object();
        json_object_set_new(ic, "convertedProperties", cp);
    }
    json_t *e = json_object();
    json_object_set_new(e, "@type", json_string("ICalProperty"));
    char *ln = jscal_strlower(p->name);
    json_object_set_new(e, "name", json_string(ln));
    free(ln);
    if (value_type)
        json_object_set_new(e, "valueType", json_string(value_type));
    if (params)
        json_object_set_new(e, "parameters", params);
    json_object_set_new(cp, path, e);
}

/* JSON Pointer escaping (RFC 6901) of one path segment. Returns malloc'd string. */
static char *ptr_escape(const char *s)
{
    jscal_buf b = {0};
    for (; *s; s++) {
        if (*s == '~')
            jscal_buf_adds(&b, "~0");
        else if (*s == '/')
            jscal_buf_adds(&b, "~1");
        else
            jscal_buf_add(&b, s, 1);
    }
    return jscal_buf_take(&b);
}

static char *path2(const char *a, const char *key)
{
    char *e = ptr_escape(key);
    char *r = jscal_strdupf("%s/%s", a, e);
    free(e);
    return r;
}

static int param_is_true(const ical_prop *p, const char *name)
{
    const char *v = ical_prop_param1(p, name);
    return v && !strcasecmp(v, "TRUE");
}

static json_t *get_map(json_t *obj, const char *name)
{
    json_t *m = json_object_get(obj, name);
    if (!json_is_object(m)) {
        m = json_object();
        json_object_set_new(obj, name, m);
    }
    return m;
}

static json_t *typed_object(const char *type)
{
    json_t *o = json_object();
    json_object_set_new(o, "@type", json_string(type));
    return o;
}

static void set_text(json_t *obj, const char *name, const char *raw)
{
    char *u = ical_text_unescape(raw);
    json_t *s = json_string(u);
    json_object_set_new(obj, name, s ? s : json_string(""));
    free(u);
}

/* Adds every comma-separated TEXT value of p as a key of the set obj[name]. */
static void add_set_values(json_t *obj, const char *name, const char *raw, int lower, int text)
{
    char **v;
    size_t n = ical_split_values(raw, &v);
    json_t *set = get_map(obj, name);
    for (size_t i = 0; i < n; i++) {
        char *u = text ? ical_text_unescape(v[i]) : strdup(v[i]);
        if (lower) {
            char *l = jscal_strlower(u);
            free(u);
            u = l;
        }
        if (*u)
            json_object_set_new(set, u, json_true());
        free(u);
    }
    ical_free_strv(v, n);
    if (!json_object_size(set))
        json_object_del(obj, name);
}

static int parse_uint(const char *s, long long *out)
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

static ical_comp *find_vtz(cal_ctx *cal, const char *tzid)
{
    for (size_t i = 0; i < cal->nvtz; i++) {
        ical_prop *p = ical_comp_get_prop(cal->vtz[i], "TZID");
        if (p && !strcmp(p->value, tzid))
            return cal->vtz[i];
    }
    return NULL;
}

/* A libical zone for a VTIMEZONE of this calendar. */
static icaltimezone *custom_zone_get(cal_ctx *cal, ical_comp *vtz, const char *tzid)
{
    for (size_t i = 0; i < cal->ncz; i++)
        if (!strcmp(cal->cz[i].tzid, tzid))
            return cal->cz[i].zone;
    jscal_buf b = {0};
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
static int prop_zone(obj_ctx *o, const ical_prop *p, const ical_dt *d, const char **tzid,
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
    if (!t || d->is_date)
        return 0;
    const char *iana = tz_resolve_tzid(t);
    if (iana) {
        *tzid = iana;
        *zone = tz_builtin(iana);
        if (*zone == icaltimezone_get_utc_timezone())
            *zone = NULL;
        return 0;
    }
    ical_comp *v = find_vtz(o->cal, t);
    icaltimezone *z = v ? custom_zone_get(o->cal, v, t) : NULL;
    if (!z)
        return fail(o, p, "unknown TZID (not an IANA zone and no usable VTIMEZONE)");
    *tzid = ical_prop_get_param(p, "TZID")->values[0];
    *zone = z;
    if (vtz)
        *vtz = v;
    return 0;
}

/* Converts a DATE/DATE-TIME property value to a wall-clock time in the object's zone. */
static int prop_local(obj_ctx *o, const ical_prop *p, const char *raw, jscal_ldt *out,
                      ical_dt *dt)
{
    ical_dt d;
    if (ical_dt_parse(raw, &d))
        return fail(o, p, "invalid DATE or DATE-TIME value");
    if (dt)
        *dt = d;
    *out = d.t;
    if (d.is_date)
        return 0;
    const char *tzid;
    icaltimezone *zone;
    if (prop_zone(o, p, &d, &tzid, &zone, NULL))
        return -1;
    if (!tzid || !o->tzid || !strcmp(tzid, o->tzid))
        return 0; /* floating, or already in the object's zone */
    int64_t utc = d.is_utc ? jscal_ldt_to_secs(&d.t) : tz_local_to_utc(zone, jscal_ldt_to_secs(&d.t));
    jscal_secs_to_ldt(tz_utc_to_local(o->zone, utc), out);
    return 0;
}

static void set_ldt(json_t *obj, const char *name, const jscal_ldt *t, int utc)
{
    char buf[24];
    jscal_ldt_format(t, utc, buf);
    json_object_set_new(obj, name, json_string(buf));
}

/* UTCDateTime properties (DTSTAMP, CREATED, ACKNOWLEDGED, absolute TRIGGER). */
static int set_utc(obj_ctx *o, const ical_prop *p, json_t *obj, const char *name)
{
    ical_dt d;
    if (ical_dt_parse(p->value, &d) || d.is_date)
        return fail(o, p, "invalid DATE-TIME value");
    jscal_ldt t = d.t;
    if (!d.is_utc) {
        const char *tzid;
        icaltimezone *zone;
        if (prop_zone(o, p, &d, &tzid, &zone, NULL))
            return -1;
        jscal_secs_to_ldt(tz_local_to_utc(zone, jscal_ldt_to_secs(&d.t)), &t);
    }
    set_ldt(obj, name, &t, 1);
    return 0;
}

/* ---- links (ATTACH, IMAGE, URL, LINK: §2.3.3, §2.3.22, §2.3.24, §2.3.46) ---------------- */

static int add_link(obj_ctx *o, const ical_prop *p, int first_url)
{
    const char *vt = ical_prop_param1(p, "VALUE");
    int binary = (vt && !strcasecmp(vt, "BINARY")) ||
                 (ical_prop_param1(p, "ENCODING") &&
                  !strcasecmp(ical_prop_param1(p, "ENCODING"), "BASE64"));
    int is_link = !strcmp(p->name, "LINK");
    if (vt && !binary && strcasecmp(vt, "URI")) {
        keep_prop(o, p); /* e.g. LINK;VALUE=XML-REFERENCE: no JSCalendar equivalent */
        return 0;
    }
    const char *fmt = ical_prop_param1(p, "FMTTYPE");
    char *href = binary ? jscal_strdupf("data:%s;base64,%s", fmt ? fmt : "application/octet-stream",
                                        p->value)
                        : strdup(p->value);
    const char *jsid = ical_prop_param1(p, "JSID");
    char key[40];
    if (jsid && jscal_is_id(jsid))
        snprintf(key, sizeof key, "%.39s", jsid);
    else
        jscal_uuidv5(p->value, key);
    json_t *links = get_map(o->obj, "links");
    json_t *l = typed_object("Link");
    json_object_set_new(l, "href", json_string(href));
    free(href);
    if (fmt)
        json_object_set_new(l, "contentType", json_string(fmt));
    const char *rel = NULL;
    if (!strcmp(p->name, "ATTACH"))
        rel = "enclosure";
    else if (!strcmp(p->name, "IMAGE"))
        rel = "icon";
    else if (!strcmp(p->name, "URL"))
        rel = "describedby";
    else
        rel = ical_prop_param1(p, "LINKREL");
    if (rel)
        json_object_set_new(l, "rel", json_string(rel));
    const char *title = ical_prop_param1(p, is_link || !strcmp(p->name, "URL") ? "LABEL" : "FILENAME");
    if (title)
        json_object_set_new(l, "title", json_string(title));
    long long size;
    if (ical_prop_param1(p, "SIZE") && !parse_uint(ical_prop_param1(p, "SIZE"), &size))
        json_object_set_new(l, "size", json_integer(size));
    const ical_param *disp = ical_prop_get_param(p, "DISPLAY");
    if (disp && !strcmp(p->name, "IMAGE")) {
        json_t *d = json_object();
        for (size_t i = 0; i < disp->nvalues; i++) {
            char *lv = jscal_strlower(disp->values[i]);
            json_object_set_new(d, lv, json_true());
            free(lv);
        }
        json_object_set_new(l, "display", d);
    }
    json_object_set_new(links, key, l);
    /* Remember the property name where the reverse choice (§3.4) would differ. */
    int force = (is_link && rel &&
                 (!strcmp(rel, "enclosure") || !strcmp(rel, "icon") || !strcmp(rel, "describedby"))) ||
                (!strcmp(p->name, "URL") && !first_url);
    static const char *const consumed[] = {"FMTTYPE", "LINKREL", "LABEL", "FILENAME", "SIZE",
                                           "DISPLAY", "ENCODING", NULL};
    char *path = path2("links", key);
    note_converted(o, path, p, consumed, NULL, force);
    free(path);
    return 0;
}

/* ---- recurrence rules (§2.3.36) ------------------------------------------------------- */

static int int_list(json_t *rule, const char *name, const char *v, int allow_neg)
{
    json_t *a = json_array();
    const char *s = v;
    while (*s) {
        char *end;
        long n = strtol(s, &end, 10);
        if (end == s || (!allow_neg && n < 0)) {
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
    json_object_set_new(rule, name, a);
    return 0;
}

static int convert_rrule(obj_ctx *o, const ical_prop *p)
{
    json_t *rule = typed_object("RecurrenceRule");
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
            json_object_set_new(rule, "frequency", json_string(l));
            free(l);
            has_freq = 1;
        } else if (!strcasecmp(k, "INTERVAL") || !strcasecmp(k, "COUNT")) {
            long long n;
            if (parse_uint(v, &n) || (n < 1 && !strcasecmp(k, "INTERVAL")))
                bad = 1;
            else
                json_object_set_new(rule, !strcasecmp(k, "COUNT") ? "count" : "interval",
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
            set_ldt(rule, "until", &t, 0);
        } else if (!strcasecmp(k, "BYSECOND") || !strcasecmp(k, "BYMINUTE") ||
                   !strcasecmp(k, "BYHOUR")) {
            const char *name = !strcasecmp(k, "BYSECOND") ? "bySecond"
                               : !strcasecmp(k, "BYMINUTE") ? "byMinute"
                                                            : "byHour";
            bad = int_list(rule, name, v, 0) != 0;
        } else if (!strcasecmp(k, "BYMONTHDAY") || !strcasecmp(k, "BYYEARDAY") ||
                   !strcasecmp(k, "BYWEEKNO") || !strcasecmp(k, "BYSETPOS")) {
            const char *name = !strcasecmp(k, "BYMONTHDAY")  ? "byMonthDay"
                               : !strcasecmp(k, "BYYEARDAY") ? "byYearDay"
                               : !strcasecmp(k, "BYWEEKNO")  ? "byWeekNo"
                                                             : "bySetPosition";
            bad = int_list(rule, name, v, 1) != 0;
        } else if (!strcasecmp(k, "BYMONTH")) {
            json_t *a = json_array();
            char *d2 = strdup(v), *s2 = NULL;
            for (char *m = strtok_r(d2, ",", &s2); m; m = strtok_r(NULL, ",", &s2)) {
                char *mu = jscal_strupper(m);
                size_t ml = strlen(mu);
                size_t digits = strspn(mu, "0123456789");
                if (!digits || (digits != ml && !(digits + 1 == ml && mu[ml - 1] == 'L')))
                    bad = 1;
                json_array_append_new(a, json_string(mu));
                free(mu);
            }
            free(d2);
            json_object_set_new(rule, "byMonth", a);
        } else if (!strcasecmp(k, "BYDAY")) {
            json_t *a = json_array();
            char *d2 = strdup(v), *s2 = NULL;
            for (char *m = strtok_r(d2, ",", &s2); m; m = strtok_r(NULL, ",", &s2)) {
                size_t ml = strlen(m);
                if (ml < 2) {
                    bad = 1;
                    break;
                }
                char day[3] = {(char)tolower((unsigned char)m[ml - 2]),
                               (char)tolower((unsigned char)m[ml - 1]), 0};
                if (!strstr("mo tu we th fr sa su", day)) {
                    bad = 1;
                    break;
                }
                json_t *nd = typed_object("NDay");
                json_object_set_new(nd, "day", json_string(day));
                if (ml > 2) {
                    char num[16];
                    snprintf(num, sizeof num, "%.*s", (int)(ml - 2), m);
                    char *end;
                    long n = strtol(num, &end, 10);
                    if (*end || n == 0)
                        bad = 1;
                    json_object_set_new(nd, "nthOfPeriod", json_integer(n));
                }
                json_array_append_new(a, nd);
            }
            free(d2);
            json_object_set_new(rule, "byDay", a);
        } else if (!strcasecmp(k, "WKST")) {
            char *l = jscal_strlower(v);
            if (strlen(l) != 2 || !strstr("mo tu we th fr sa su", l))
                bad = 1;
            json_object_set_new(rule, "firstDayOfWeek", json_string(l));
            free(l);
        } else if (!strcasecmp(k, "RSCALE") || !strcasecmp(k, "SKIP")) {
            char *l = jscal_strlower(v);
            json_object_set_new(rule, !strcasecmp(k, "RSCALE") ? "rscale" : "skip",
                                json_string(l));
            free(l);
        } else {
            bad = 1;
        }
    }
    free(dup);
    if (bad || !has_freq || (json_object_get(rule, "count") && json_object_get(rule, "until"))) {
        json_decref(rule);
        return fail(o, p, "invalid recurrence rule");
    }
    json_object_set_new(o->obj, "recurrenceRule", rule);
    static const char *const none[] = {NULL};
    note_converted(o, "recurrenceRule", p, none, NULL, 0);
    return 0;
}

/* ---- sub-components ------------------------------------------------------------------- */

static int convert_jsprops(obj_ctx *o, const ical_prop *const *jsprops, size_t n);

static void sub_ctx(obj_ctx *sub, obj_ctx *parent, const ical_comp *c, const char *type)
{
    memset(sub, 0, sizeof *sub);
    sub->cal = parent->cal;
    sub->comp = c;
    sub->obj = typed_object(type);
    sub->tzid = parent->tzid;
    sub->zone = parent->zone;
    sub->is_task = parent->is_task;
}

static void sub_finish(obj_ctx *sub)
{
    if (sub->ical)
        json_object_set_new(sub->obj, "iCalendar", sub->ical);
    sub->ical = NULL;
}

static void comp_key(const ical_comp *c, char key[256])
{
    ical_prop *p = ical_comp_get_prop(c, "JSID");
    if (p && jscal_is_id(p->value)) {
        snprintf(key, 256, "%s", p->value);
        return;
    }
    p = ical_comp_get_prop(c, "UID");
    if (p && jscal_is_id(p->value)) {
        snprintf(key, 256, "%s", p->value);
        return;
    }
    jscal_buf b = {0};
    ical_comp_write(c, &b);
    char u[37];
    jscal_uuidv5(b.s, u);
    free(b.s);
    snprintf(key, 256, "%s", u);
}

/* VALARM -> Alert (§2.2.2). RELATED-TO is resolved by the caller once all keys are known. */
static json_t *convert_valarm(obj_ctx *parent, const ical_comp *c)
{
    obj_ctx a;
    sub_ctx(&a, parent, c, "Alert");
    const ical_prop *jsprops[32];
    size_t njs = 0;
    for (size_t i = 0; i < c->nprops; i++) {
        const ical_prop *p = &c->props[i];
        if (!strcmp(p->name, "TRIGGER")) {
            const char *vt = ical_prop_param1(p, "VALUE");
            json_t *t;
            if (vt && !strcasecmp(vt, "DATE-TIME")) {
                t = typed_object("AbsoluteTrigger");
                if (set_utc(&a, p, t, "when")) {
                    json_decref(t);
                    goto bad;
                }
            } else {
                jscal_dur d;
                if (jscal_dur_parse(p->value, 1, &d)) {
                    fail(&a, p, "invalid DURATION value");
                    goto bad;
                }
                t = typed_object("OffsetTrigger");
                json_object_set_new(t, "offset", json_string(p->value));
                const char *rel = ical_prop_param1(p, "RELATED");
                if (rel && !strcasecmp(rel, "END"))
                    json_object_set_new(t, "relativeTo", json_string("end"));
            }
            json_object_set_new(a.obj, "trigger", t);
            static const char *const consumed[] = {"RELATED", NULL};
            note_converted(&a, "trigger", p, consumed, NULL, 0);
        } else if (!strcmp(p->name, "ACTION") &&
                   (!strcasecmp(p->value, "DISPLAY") || !strcasecmp(p->value, "EMAIL"))) {
            char *l = jscal_strlower(p->value);
            json_object_set_new(a.obj, "action", json_string(l));
            free(l);
        } else if (!strcmp(p->name, "ACKNOWLEDGED")) {
            if (set_utc(&a, p, a.obj, "acknowledged"))
                goto bad;
        } else if (!strcmp(p->name, "JSID")) {
            /* the key */
        } else if (!strcmp(p->name, "JSPROP") && njs < 32) {
            jsprops[njs++] = p;
        } else {
            keep_prop(&a, p); /* RELATED-TO is moved out by the caller if it resolves */
        }
    }
    for (size_t i = 0; i < c->ncomps; i++)
        keep_comp(&a, c->comps[i]);
    if (convert_jsprops(&a, jsprops, njs))
        goto bad;
    sub_finish(&a);
    return a.obj;
bad:
    json_decref(a.ical);
    json_decref(a.obj);
    return NULL;
}

/* Moves RELATED-TO properties of alerts whose value is the UID of another alert into
 * relatedTo (§2.3.35). */
static void resolve_alert_relations(json_t *alerts)
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
            json_t *rel = typed_object("Relation");
            json_t *rt = json_object_get(json_array_get(jp, 1), "reltype");
            if (json_is_string(rt)) {
                json_t *set = json_object();
                char *l = jscal_strlower(json_string_value(rt));
                json_object_set_new(set, l, json_true());
                free(l);
                json_object_set_new(rel, "relation", set);
            }
            json_object_set_new(get_map(al, "relatedTo"), target, rel);
            json_array_remove(props, i);
        }
        json_t *ic = json_object_get(al, "iCalendar");
        if (props && !json_array_size(props))
            json_object_del(ic, "properties");
    }
}

static void add_geo_coordinates(obj_ctx *o, json_t *loc, const ical_prop *p, const char *path)
{
    const char *semi = strchr(p->value, ';');
    if (!semi)
        return;
    double lat = atof(p->value), lon = atof(semi + 1);
    char buf[96];
    snprintf(buf, sizeof buf, "geo:%.15g,%.15g", lat, lon);
    json_object_set_new(loc, "coordinates", json_string(buf));
    static const char *const none[] = {NULL};
    note_converted(o, path, p, none, NULL, 1);
}

/* VLOCATION -> Location (§2.2.4). */
static json_t *convert_vlocation(obj_ctx *parent, const ical_comp *c)
{
    obj_ctx l;
    sub_ctx(&l, parent, c, "Location");
    ical_obj(&l); /* a VLOCATION always records its origin */
    const ical_prop *jsprops[32];
    size_t njs = 0;
    int nurl = 0;
    for (size_t i = 0; i < c->nprops; i++) {
        const ical_prop *p = &c->props[i];
        if (!strcmp(p->name, "NAME"))
            set_text(l.obj, "name", p->value);
        else if (!strcmp(p->name, "COORDINATES"))
            json_object_set_new(l.obj, "coordinates", json_string(p->value));
        else if (!strcmp(p->name, "GEO") && !json_object_get(l.obj, "coordinates"))
            add_geo_coordinates(&l, l.obj, p, "coordinates");
        else if (!strcmp(p->name, "LOCATION-TYPE"))
            add_set_values(l.obj, "locationTypes", p->value, 0, 1);
        else if (!strcmp(p->name, "ATTACH") || !strcmp(p->name, "IMAGE") ||
                 !strcmp(p->name, "LINK") || !strcmp(p->name, "URL"))
            add_link(&l, p, !strcmp(p->name, "URL") && nurl++ == 0);
        else if (!strcmp(p->name, "JSID"))
            continue;
        else if (!strcmp(p->name, "JSPROP") && njs < 32)
            jsprops[njs++] = p;
        else
            keep_prop(&l, p);
    }
    for (size_t i = 0; i < c->ncomps; i++)
        keep_comp(&l, c->comps[i]);
    convert_jsprops(&l, jsprops, njs);
    sub_finish(&l);
    return l.obj;
}

static void set_description(obj_ctx *o, json_t *obj, const ical_prop *p, int styled)
{
    set_text(obj, "description", p->value);
    const char *fmt = ical_prop_param1(p, "FMTTYPE");
    if (styled && fmt)
        json_object_set_new(obj, "descriptionContentType", json_string(fmt));
    static const char *const consumed[] = {"FMTTYPE", "LANGUAGE", NULL};
    note_converted(o, "description", p, consumed, NULL, styled && !fmt);
}

static int styled_ok(const ical_prop *p)
{
    const char *vt = ical_prop_param1(p, "VALUE");
    const char *fmt = ical_prop_param1(p, "FMTTYPE");
    return (!vt || !strcasecmp(vt, "TEXT")) && (!fmt || !strncasecmp(fmt, "text/", 5)) &&
           !param_is_true(p, "DERIVED");
}

/* PARTICIPANT -> Participant (§2.2.1). Returns the object; *key gets its key. */
static json_t *convert_participant_comp(obj_ctx *parent, const ical_comp *c, char key[256])
{
    obj_ctx pc;
    sub_ctx(&pc, parent, c, "Participant");
    ical_obj(&pc);
    const ical_prop *jsprops[32];
    size_t njs = 0;
    int nurl = 0;
    ical_prop *jsid = ical_comp_get_prop(c, "JSID");
    ical_prop *addr = ical_comp_get_prop(c, "CALENDAR-ADDRESS");
    if (jsid && jscal_is_id(jsid->value))
        snprintf(key, 256, "%s", jsid->value);
    else if (addr) {
        char u[37];
        jscal_uuidv5(addr->value, u);
        snprintf(key, 256, "%s", u);
    } else
        comp_key(c, key);
    for (size_t i = 0; i < c->nprops; i++) {
        const ical_prop *p = &c->props[i];
        if (p == addr) {
            json_object_set_new(pc.obj, "calendarAddress", json_string(p->value));
        } else if (!strcmp(p->name, "DESCRIPTION") && !param_is_true(p, "DERIVED") &&
                   !json_object_get(pc.obj, "description")) {
            set_description(&pc, pc.obj, p, 0);
        } else if (!strcmp(p->name, "STYLED-DESCRIPTION") && styled_ok(p) &&
                   !json_object_get(pc.obj, "description")) {
            set_description(&pc, pc.obj, p, 1);
        } else if (!strcmp(p->name, "SUMMARY")) {
            set_text(pc.obj, "name", p->value);
        } else if (!strcmp(p->name, "PERCENT-COMPLETE")) {
            long long n;
            if (!parse_uint(p->value, &n) && n <= 100)
                json_object_set_new(pc.obj, "percentComplete", json_integer(n));
            else
                keep_prop(&pc, p);
        } else if (!strcmp(p->name, "ATTACH") || !strcmp(p->name, "IMAGE") ||
                   !strcmp(p->name, "LINK") || !strcmp(p->name, "URL")) {
            add_link(&pc, p, !strcmp(p->name, "URL") && nurl++ == 0);
        } else if (!strcmp(p->name, "JSID")) {
            continue;
        } else if (!strcmp(p->name, "JSPROP") && njs < 32) {
            jsprops[njs++] = p;
        } else {
            keep_prop(&pc, p);
        }
    }
    for (size_t i = 0; i < c->ncomps; i++)
        keep_comp(&pc, c->comps[i]);
    convert_jsprops(&pc, jsprops, njs);
    sub_finish(&pc);
    return pc.obj;
}

/* ---- participants from ORGANIZER and ATTENDEE (§2.3.4, §2.3.29) ------------------------- */

static const char *find_participant(json_t *parts, const char *addr)
{
    const char *k;
    json_t *v;
    json_object_foreach(parts, k, v)
    {
        json_t *a = json_object_get(v, "calendarAddress");
        if (json_is_string(a) && !strcasecmp(json_string_value(a), addr))
            return k;
    }
    return NULL;
}

static char *strip_mailto(const char *s)
{
    return strdup(!strncasecmp(s, "mailto:", 7) ? s + 7 : s);
}

static void set_addr_set(json_t *obj, const char *name, const ical_param *pa)
{
    if (!pa || !pa->nvalues)
        return;
    json_t *set = get_map(obj, name);
    for (size_t i = 0; i < pa->nvalues; i++)
        json_object_set_new(set, pa->values[i], json_true());
}

static void convert_attendee(obj_ctx *o, const ical_prop *p)
{
    json_t *parts = get_map(o->obj, "participants");
    const char *jsid = ical_prop_param1(p, "JSID");
    const char *existing = find_participant(parts, p->value);
    char key[256];
    if (jsid && jscal_is_id(jsid))
        snprintf(key, sizeof key, "%s", jsid);
    else if (existing)
        snprintf(key, sizeof key, "%s", existing);
    else {
        char u[37];
        jscal_uuidv5(p->value, u);
        snprintf(key, sizeof key, "%s", u);
    }
    json_t *pt = json_object_get(parts, key);
    if (!pt) {
        pt = typed_object("Participant");
        json_object_set_new(parts, key, pt);
    }
    json_object_set_new(pt, "calendarAddress", json_string(p->value));
    const char *v;
    if ((v = ical_prop_param1(p, "CN")))
        json_object_set_new(pt, "name", json_string(v));
    if ((v = ical_prop_param1(p, "EMAIL")))
        json_object_set_new(pt, "email", json_string(v));
    if ((v = ical_prop_param1(p, "CUTYPE"))) {
        char *l = jscal_strlower(v);
        json_object_set_new(pt, "kind", json_string(!strcmp(l, "room") ? "location" : l));
        free(l);
    }
    set_addr_set(pt, "delegatedTo", ical_prop_get_param(p, "DELEGATED-TO"));
    set_addr_set(pt, "delegatedFrom", ical_prop_get_param(p, "DELEGATED-FROM"));
    set_addr_set(pt, "memberOf", ical_prop_get_param(p, "MEMBER"));
    if ((v = ical_prop_param1(p, "PARTSTAT"))) {
        char *l = jscal_strlower(v);
        /* §2.3.4: VTODO-specific PARTSTAT values also set "progress". */
        if (o->is_task && (!strcmp(l, "completed") || !strcmp(l, "in-process") || !strcmp(l, "failed"))) {
            json_object_set_new(pt, "participationStatus", json_string("accepted"));
            json_object_set_new(pt, "progress", json_string(l));
        } else {
            json_object_set_new(pt, "participationStatus", json_string(l));
        }
        free(l);
    }
    const ical_param *role = ical_prop_get_param(p, "ROLE");
    for (size_t i = 0; role && i < role->nvalues; i++) {
        json_t *roles = get_map(pt, "roles");
        const char *r = role->values[i];
        if (!strcasecmp(r, "CHAIR")) {
            json_object_set_new(roles, "attendee", json_true());
            json_object_set_new(roles, "chair", json_true());
        } else if (!strcasecmp(r, "REQ-PARTICIPANT")) {
            json_object_set_new(roles, "attendee", json_true());
        } else if (!strcasecmp(r, "OPT-PARTICIPANT")) {
            json_object_set_new(roles, "attendee", json_true());
            json_object_set_new(roles, "optional", json_true());
        } else if (!strcasecmp(r, "NON-PARTICIPANT")) {
            json_object_set_new(roles, "informational", json_true());
        } else {
            char *l = jscal_strlower(r);
            json_object_set_new(roles, l, json_true());
            free(l);
        }
    }
    if (param_is_true(p, "RSVP"))
        json_object_set_new(pt, "expectReply", json_true());
    if ((v = ical_prop_param1(p, "SENT-BY"))) {
        char *s = strip_mailto(v);
        json_object_set_new(pt, "sentBy", json_string(s));
        free(s);
    }
    /* draft-ietf-jmap-calendars: scheduling parameters */
    if ((v = ical_prop_param1(p, "SCHEDULE-AGENT"))) {
        char *l = jscal_strlower(v);
        json_object_set_new(pt, "scheduleAgent", json_string(l));
        free(l);
    }
    if (param_is_true(p, "SCHEDULE-FORCE-SEND") || ical_prop_param1(p, "SCHEDULE-FORCE-SEND"))
        json_object_set_new(pt, "scheduleForceSend", json_true());
    const ical_param *ss = ical_prop_get_param(p, "SCHEDULE-STATUS");
    if (ss && ss->nvalues) {
        json_t *a = json_array();
        for (size_t i = 0; i < ss->nvalues; i++)
            json_array_append_new(a, json_string(ss->values[i]));
        json_object_set_new(pt, "scheduleStatus", a);
    }
    static const char *const consumed[] = {
        "CN",     "EMAIL", "CUTYPE",         "DELEGATED-TO",        "DELEGATED-FROM",
        "MEMBER", "PARTSTAT", "ROLE",        "RSVP",                "SENT-BY",
        "SCHEDULE-AGENT", "SCHEDULE-STATUS", "SCHEDULE-FORCE-SEND", NULL};
    char *path = path2("participants", key);
    note_converted(o, path, p, consumed, NULL, 0);
    free(path);
}

static void convert_organizer(obj_ctx *o, const ical_prop *p)
{
    json_object_set_new(o->obj, "organizerCalendarAddress", json_string(p->value));
    const char *cn = ical_prop_param1(p, "CN"), *email = ical_prop_param1(p, "EMAIL"),
               *sentby = ical_prop_param1(p, "SENT-BY");
    char *sb = sentby ? strip_mailto(sentby) : NULL;
    if (sb)
        json_object_set_new(o->obj, "sentBy", json_string(sb));
    json_t *parts = json_object_get(o->obj, "participants");
    const char *existing = parts ? find_participant(parts, p->value) : NULL;
    int other_owner = 0;
    const char *k;
    json_t *v;
    json_object_foreach(parts, k, v) if (json_is_true(json_object_get(json_object_get(v, "roles"), "owner")))
        other_owner = 1;
    static const char *const consumed[] = {"CN", "EMAIL", "SENT-BY", NULL};
    if (existing || cn || email || sentby || !other_owner) {
        char key[256];
        const char *jsid = ical_prop_param1(p, "JSID");
        if (existing)
            snprintf(key, sizeof key, "%s", existing);
        else if (jsid && jscal_is_id(jsid))
            snprintf(key, sizeof key, "%s", jsid);
        else {
            char u[37];
            jscal_uuidv5(p->value, u);
            snprintf(key, sizeof key, "%s", u);
        }
        parts = get_map(o->obj, "participants");
        json_t *pt = json_object_get(parts, key);
        if (!pt) {
            pt = typed_object("Participant");
            json_object_set_new(pt, "calendarAddress", json_string(p->value));
            json_object_set_new(parts, key, pt);
        }
        json_object_set_new(get_map(pt, "roles"), "owner", json_true());
        if (cn && !json_object_get(pt, "name"))
            json_object_set_new(pt, "name", json_string(cn));
        if (email && !json_object_get(pt, "email"))
            json_object_set_new(pt, "email", json_string(email));
        if (sb && !json_object_get(pt, "sentBy"))
            json_object_set_new(pt, "sentBy", json_string(sb));
    }
    free(sb);
    note_converted(o, "organizerCalendarAddress", p, consumed, NULL, 0);
}

/* ---- JSPROP (§4.1.2) ------------------------------------------------------------------ */

static int convert_jsprops(obj_ctx *o, const ical_prop *const *jsprops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const ical_prop *p = jsprops[i];
        const char *ptr = ical_prop_param1(p, "JSPTR");
        char *txt = ical_text_unescape(p->value);
        json_error_t jerr;
        json_t *val = json_loads(txt, JSON_DECODE_ANY, &jerr);
        free(txt);
        if (!ptr || *ptr == '/' || !val || json_is_null(val)) {
            json_decref(val);
            keep_prop(o, p);
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
        if (exists != -1 && last && json_is_object(cur) && !json_object_get(cur, last)) {
            json_t *patch = json_object();
            json_object_set(patch, ptr, val);
            jscal_patch_apply(o->obj, patch, NULL);
            json_decref(patch);
        }
        free(dup);
        json_decref(val);
    }
    return 0;
}

/* ---- VEVENT / VTODO (§2.2.3, §2.2.5) -------------------------------------------------- */

static int duration_between(obj_ctx *o, const ical_prop *ps, const ical_prop *pe)
{
    ical_dt ds, de;
    if (ical_dt_parse(ps->value, &ds) || ical_dt_parse(pe->value, &de))
        return fail(o, pe, "invalid DATE or DATE-TIME value");
    jscal_dur d = {.sign = 1};
    char buf[64];
    if (ds.is_date && de.is_date) {
        int64_t days = jscal_days_from_civil(de.t.year, de.t.month, de.t.day) -
                       jscal_days_from_civil(ds.t.year, ds.t.month, ds.t.day);
        if (days < 0)
            return fail(o, pe, "ends before DTSTART");
        d.days = days;
    } else {
        const char *tz1, *tz2;
        icaltimezone *z1, *z2;
        ical_comp *vtz2 = NULL;
        if (prop_zone(o, ps, &ds, &tz1, &z1, NULL) || prop_zone(o, pe, &de, &tz2, &z2, &vtz2))
            return -1;
        if (vtz2 && vtz2 != o->tz_vtz)
            keep_comp(o, vtz2); /* §2.1.4: the end zone travels with the object too */
        int64_t u1 = ds.is_utc ? jscal_ldt_to_secs(&ds.t) : tz_local_to_utc(z1, jscal_ldt_to_secs(&ds.t));
        int64_t u2 = de.is_utc ? jscal_ldt_to_secs(&de.t) : tz_local_to_utc(z2, jscal_ldt_to_secs(&de.t));
        if (!tz1 || !tz2) { /* floating: wall-clock difference */
            u1 = jscal_ldt_to_secs(&ds.t);
            u2 = jscal_ldt_to_secs(&de.t);
        }
        int64_t s = u2 - u1;
        if (s < 0)
            return fail(o, pe, "ends before DTSTART");
        /* Exact spans are hours; whole days only where no DST can apply. */
        if ((!o->zone) && s % 86400 == 0 && s > 0) {
            d.days = s / 86400;
        } else {
            d.hours = s / 3600;
            d.minutes = s % 3600 / 60;
            d.seconds = s % 60;
        }
        if (tz2 && tz1 && strcmp(tz1, tz2))
            json_object_set_new(o->obj, "endTimeZone", json_string(tz2));
    }
    jscal_dur_format(&d, buf);
    json_object_set_new(o->obj, "duration", json_string(buf));
    return 0;
}

/* Converts one VEVENT or VTODO; returns the object or NULL (cal->err set). */
static json_t *convert_entry(cal_ctx *cal, const ical_comp *c)
{
    obj_ctx o;
    memset(&o, 0, sizeof o);
    o.cal = cal;
    o.comp = c;
    o.is_task = !strcmp(c->name, "VTODO");
    o.obj = typed_object(o.is_task ? "Task" : "Event");
    const ical_prop *dtstart = ical_comp_get_prop(c, "DTSTART");
    const ical_prop *due = o.is_task ? ical_comp_get_prop(c, "DUE") : NULL;
    const ical_prop *dtend = o.is_task ? NULL : ical_comp_get_prop(c, "DTEND");
    const ical_prop *duration = ical_comp_get_prop(c, "DURATION");
    const ical_prop *base = dtstart ? dtstart : due;
    const ical_prop *attendees[512], *organizer = NULL, *geos[8], *jsprops[64];
    const ical_prop *location = NULL, *derived_location = NULL;
    size_t natt = 0, ngeo = 0, njs = 0;
    int nurl = 0, have_rrule = 0;

    if (!ical_comp_get_prop(c, "UID")) {
        fail(&o, NULL, "missing UID");
        goto bad;
    }
    if (!o.is_task && !dtstart) {
        fail(&o, NULL, "missing DTSTART (a JSCalendar Event needs a start)");
        goto bad;
    }
    /* The time zone of the object comes from DTSTART, else DUE (§2.3.16, §2.3.17). */
    if (base) {
        ical_dt d;
        if (ical_dt_parse(base->value, &d)) {
            fail(&o, base, "invalid DATE or DATE-TIME value");
            goto bad;
        }
        if (prop_zone(&o, base, &d, &o.tzid, &o.zone, &o.tz_vtz))
            goto bad;
        o.is_date = d.is_date;
        if (o.tzid)
            json_object_set_new(o.obj, "timeZone", json_string(o.tzid));
        if (o.tz_vtz)
            keep_comp(&o, o.tz_vtz); /* §2.1.4: a non-IANA zone travels with the object */
    }

    for (size_t i = 0; i < c->nprops; i++) {
        const ical_prop *p = &c->props[i];
        const char *n = p->name;
        static const char *const none[] = {NULL};
        static const char *const lang[] = {"LANGUAGE", NULL};
        if (!strcmp(n, "UID")) {
            set_text(o.obj, "uid", p->value);
        } else if (!strcmp(n, "DTSTAMP")) {
            if (set_utc(&o, p, o.obj, "updated"))
                goto bad;
        } else if (!strcmp(n, "CREATED")) {
            if (set_utc(&o, p, o.obj, "created"))
                goto bad;
        } else if (!strcmp(n, "SEQUENCE")) {
            long long v;
            if (parse_uint(p->value, &v)) {
                fail(&o, p, "not a non-negative integer");
                goto bad;
            }
            json_object_set_new(o.obj, "sequence", json_integer(v));
        } else if (!strcmp(n, "SUMMARY") && !json_object_get(o.obj, "title")) {
            set_text(o.obj, "title", p->value);
            const char *l = ical_prop_param1(p, "LANGUAGE");
            if (l && !json_object_get(o.obj, "locale"))
                json_object_set_new(o.obj, "locale", json_string(l));
            note_converted(&o, "title", p, lang, NULL, 0);
        } else if (!strcmp(n, "DESCRIPTION") && !param_is_true(p, "DERIVED") &&
                   !json_object_get(o.obj, "description")) {
            set_description(&o, o.obj, p, 0);
        } else if (!strcmp(n, "STYLED-DESCRIPTION") && styled_ok(p) &&
                   !json_object_get(o.obj, "description")) {
            set_description(&o, o.obj, p, 1);
        } else if (!strcmp(n, "LOCATION") && !location && !param_is_true(p, "DERIVED")) {
            location = p;
        } else if (!strcmp(n, "LOCATION") && param_is_true(p, "DERIVED") && !derived_location) {
            derived_location = p; /* kept below unless it names the main VLOCATION */
        } else if (!strcmp(n, "GEO") && !param_is_true(p, "DERIVED") && ngeo < 8) {
            geos[ngeo++] = p;
        } else if (!strcmp(n, "CONFERENCE")) {
            const char *jsid = ical_prop_param1(p, "JSID");
            char key[256];
            if (jsid && jscal_is_id(jsid))
                snprintf(key, sizeof key, "%s", jsid);
            else
                jscal_uuidv5(p->value, key);
            json_t *vl = typed_object("VirtualLocation");
            const char *label = ical_prop_param1(p, "LABEL");
            if (label)
                json_object_set_new(vl, "name", json_string(label));
            json_object_set_new(vl, "uri", json_string(p->value));
            const ical_param *f = ical_prop_get_param(p, "FEATURE");
            if (f && f->nvalues) {
                json_t *set = json_object();
                for (size_t k = 0; k < f->nvalues; k++) {
                    char *l = jscal_strlower(f->values[k]);
                    json_object_set_new(set, l, json_true());
                    free(l);
                }
                json_object_set_new(vl, "features", set);
            }
            json_object_set_new(get_map(o.obj, "virtualLocations"), key, vl);
            static const char *const consumed[] = {"LABEL", "FEATURE", NULL};
            char *path = path2("virtualLocations", key);
            note_converted(&o, path, p, consumed, NULL, 0);
            free(path);
        } else if (!strcmp(n, "ATTACH") || !strcmp(n, "IMAGE") || !strcmp(n, "LINK") ||
                   !strcmp(n, "URL")) {
            add_link(&o, p, !strcmp(n, "URL") && nurl++ == 0);
        } else if (!strcmp(n, "CATEGORIES")) {
            add_set_values(o.obj, "keywords", p->value, 0, 1);
        } else if (!strcmp(n, "CONCEPT")) {
            add_set_values(o.obj, "categories", p->value, 0, 0);
        } else if (!strcmp(n, "COLOR")) {
            set_text(o.obj, "color", p->value);
        } else if (!strcmp(n, "CLASS") && (!strcasecmp(p->value, "PUBLIC") ||
                                          !strcasecmp(p->value, "PRIVATE") ||
                                          !strcasecmp(p->value, "CONFIDENTIAL"))) {
            json_object_set_new(o.obj, "privacy",
                                json_string(!strcasecmp(p->value, "PUBLIC")    ? "public"
                                            : !strcasecmp(p->value, "PRIVATE") ? "private"
                                                                               : "secret"));
        } else if (!strcmp(n, "PRIORITY")) {
            long long v;
            if (parse_uint(p->value, &v) || v > 9) {
                fail(&o, p, "not an integer from 0 to 9");
                goto bad;
            }
            json_object_set_new(o.obj, "priority", json_integer(v));
        } else if (!strcmp(n, "TRANSP") && (!strcasecmp(p->value, "OPAQUE") ||
                                           !strcasecmp(p->value, "TRANSPARENT"))) {
            json_object_set_new(o.obj, "freeBusyStatus",
                                json_string(!strcasecmp(p->value, "OPAQUE") ? "busy" : "free"));
        } else if (!strcmp(n, "STATUS")) {
            char *l = jscal_strlower(p->value);
            json_object_set_new(o.obj, o.is_task ? "progress" : "status", json_string(l));
            free(l);
        } else if ((!strcmp(n, "RRULE") || !strcmp(n, "RDATE") || !strcmp(n, "EXDATE")) &&
                   ical_comp_get_prop(c, "RECURRENCE-ID")) {
            keep_prop(&o, p); /* jscalendarbis §4.3.1: an instance has no recurrence set */
        } else if (!strcmp(n, "RRULE") && !have_rrule) {
            have_rrule = 1;
            if (convert_rrule(&o, p))
                goto bad;
        } else if (!strcmp(n, "RDATE") || !strcmp(n, "EXDATE")) {
            const char *vt = ical_prop_param1(p, "VALUE");
            int period = vt && !strcasecmp(vt, "PERIOD");
            char **vals;
            size_t nv = ical_split_values(p->value, &vals);
            json_t *ov = get_map(o.obj, "recurrenceOverrides");
            for (size_t k = 0; k < nv; k++) {
                char *slash = period ? strchr(vals[k], '/') : NULL;
                if (slash)
                    *slash = 0;
                jscal_ldt t;
                ical_dt dt;
                if (prop_local(&o, p, vals[k], &t, &dt)) {
                    ical_free_strv(vals, nv);
                    goto bad;
                }
                char key[24];
                jscal_ldt_format(&t, 0, key);
                json_t *patch = json_object();
                if (!strcmp(n, "EXDATE")) {
                    json_object_set_new(patch, "excluded", json_true());
                } else if (slash) {
                    jscal_dur d;
                    ical_dt de;
                    if (!jscal_dur_parse(slash + 1, 0, &d)) {
                        json_object_set_new(patch, "duration", json_string(slash + 1));
                    } else if (!ical_dt_parse(slash + 1, &de)) {
                        int64_t s = jscal_ldt_to_secs(&de.t) - jscal_ldt_to_secs(&dt.t);
                        jscal_dur dd = {.sign = 1, .hours = s / 3600, .minutes = s % 3600 / 60,
                                        .seconds = s % 60};
                        char buf[64];
                        jscal_dur_format(&dd, buf);
                        json_object_set_new(patch, "duration", json_string(buf));
                    }
                    json_t *e = json_object();
                    json_object_set_new(e, "@type", json_string("ICalProperty"));
                    json_object_set_new(e, "name", json_string("rdate"));
                    json_object_set_new(e, "valueType", json_string("period"));
                    char *path = path2("recurrenceOverrides", key);
                    json_object_set_new(get_map(ical_obj(&o), "convertedProperties"), path, e);
                    free(path);
                }
                json_object_set_new(ov, key, patch);
            }
            ical_free_strv(vals, nv);
        } else if (!strcmp(n, "RECURRENCE-ID")) {
            ical_dt d;
            const char *tzid;
            icaltimezone *z;
            if (ical_dt_parse(p->value, &d)) {
                fail(&o, p, "invalid DATE or DATE-TIME value");
                goto bad;
            }
            if (prop_zone(&o, p, &d, &tzid, &z, NULL))
                goto bad;
            set_ldt(o.obj, "recurrenceId", &d.t, 0);
            if (tzid)
                json_object_set_new(o.obj, "recurrenceIdTimeZone", json_string(tzid));
            note_converted(&o, "recurrenceId", p, none, NULL, 0);
        } else if (!strcmp(n, "ORGANIZER") && !organizer) {
            organizer = p;
        } else if (!strcmp(n, "ATTENDEE") && natt < 512) {
            attendees[natt++] = p;
        } else if (!strcmp(n, "RELATED-TO")) {
            json_t *rel = typed_object("Relation");
            const ical_param *rt = ical_prop_get_param(p, "RELTYPE");
            if (rt && rt->nvalues) {
                json_t *set = json_object();
                for (size_t k = 0; k < rt->nvalues; k++) {
                    char *l = jscal_strlower(rt->values[k]);
                    json_object_set_new(set, l, json_true());
                    free(l);
                }
                json_object_set_new(rel, "relation", set);
            }
            char *u = ical_text_unescape(p->value);
            json_object_set_new(get_map(o.obj, "relatedTo"), u, rel);
            static const char *const consumed[] = {"RELTYPE", NULL};
            char *path = path2("relatedTo", u);
            note_converted(&o, path, p, consumed, NULL, 0);
            free(path);
            free(u);
        } else if (!strcmp(n, "PERCENT-COMPLETE") && o.is_task) {
            long long v;
            if (parse_uint(p->value, &v) || v > 100) {
                fail(&o, p, "not an integer from 0 to 100");
                goto bad;
            }
            json_object_set_new(o.obj, "percentComplete", json_integer(v));
        } else if (!strcmp(n, "ESTIMATED-DURATION") && o.is_task) {
            jscal_dur d;
            if (jscal_dur_parse(p->value, 0, &d)) {
                fail(&o, p, "invalid DURATION value");
                goto bad;
            }
            json_object_set_new(o.obj, "estimatedDuration", json_string(p->value));
        } else if (!strcmp(n, "SHOW-WITHOUT-TIME")) {
            /* icaljscalexts §3.2: ignored for DATE values and when FALSE. */
            if (!strcasecmp(p->value, "TRUE") && !o.is_date)
                json_object_set_new(o.obj, "showWithoutTime", json_true());
        } else if (p == dtstart || p == due || p == dtend || p == duration) {
            continue; /* handled below */
        } else if (!strcmp(n, "JSPROP") && njs < 64) {
            jsprops[njs++] = p;
        } else {
            keep_prop(&o, p);
        }
    }

    /* Dates (§2.3.14, §2.3.16-§2.3.18). */
    if (dtstart) {
        jscal_ldt t;
        if (prop_local(&o, dtstart, dtstart->value, &t, NULL))
            goto bad;
        set_ldt(o.obj, "start", &t, 0);
        static const char *const none[] = {NULL};
        note_converted(&o, "start", dtstart, none, NULL, 0);
    }
    if (due) {
        jscal_ldt t;
        if (prop_local(&o, due, due->value, &t, NULL))
            goto bad;
        set_ldt(o.obj, "due", &t, 0);
        static const char *const none[] = {NULL};
        note_converted(&o, "due", due, none, NULL, 0);
    }
    if (base && !json_object_get(o.obj, "showWithoutTime"))
        json_object_set_new(o.obj, "showWithoutTime", json_boolean(o.is_date));
    if (dtend && dtstart) {
        if (duration_between(&o, dtstart, dtend))
            goto bad;
        if (!json_object_get(o.obj, "endTimeZone")) {
            static const char *const none[] = {NULL};
            note_converted(&o, "duration", dtend, none, NULL, 1);
        }
        if (duration)
            keep_prop(&o, duration);
    } else if (duration) {
        jscal_dur d;
        if (jscal_dur_parse(duration->value, 0, &d)) {
            fail(&o, duration, "invalid DURATION value");
            goto bad;
        }
        json_object_set_new(o.obj, "duration", json_string(duration->value));
    } else if (dtend) {
        keep_prop(&o, dtend);
    } else if (dtstart && o.is_date && !o.is_task) {
        /* RFC 5545 §3.6.1: a DATE DTSTART without DTEND/DURATION lasts one day. */
        json_object_set_new(o.obj, "duration", json_string("P1D"));
    }

    /* Locations: LOCATION, GEO (§2.3.21, §2.3.25) and VLOCATION (§2.2.4). */
    char lockey[256] = "";
    if (location) {
        const char *jsid = ical_prop_param1(location, "JSID");
        char *u = ical_text_unescape(location->value);
        if (jsid && jscal_is_id(jsid))
            snprintf(lockey, sizeof lockey, "%s", jsid);
        else
            jscal_uuidv5(u, lockey);
        json_t *loc = typed_object("Location");
        json_object_set_new(loc, "name", json_string(u));
        free(u);
        json_object_set_new(get_map(o.obj, "locations"), lockey, loc);
        static const char *const consumed[] = {"LANGUAGE", NULL};
        char *path = path2("locations", lockey);
        note_converted(&o, path, location, consumed, NULL, 0);
        free(path);
    }
    for (size_t i = 0; i < ngeo; i++) {
        const ical_prop *g = geos[i];
        const char *jsid = ical_prop_param1(g, "JSID");
        char key[256];
        if (jsid && jscal_is_id(jsid))
            snprintf(key, sizeof key, "%s", jsid);
        else if (*lockey && i == 0)
            snprintf(key, sizeof key, "%s", lockey);
        else
            jscal_uuidv5(g->value, key);
        json_t *locs = get_map(o.obj, "locations"), *loc = json_object_get(locs, key);
        if (!loc) {
            loc = typed_object("Location");
            json_object_set_new(locs, key, loc);
        }
        char *path = jscal_strdupf("locations/%s/coordinates", key);
        add_geo_coordinates(&o, loc, g, path);
        free(path);
    }
    size_t nvloc = 0;
    char firstvloc[256] = "";
    for (size_t i = 0; i < c->ncomps; i++) {
        const ical_comp *sc = c->comps[i];
        if (!strcmp(sc->name, "VLOCATION")) {
            char key[256];
            comp_key(sc, key);
            json_t *loc = convert_vlocation(&o, sc);
            json_object_set_new(get_map(o.obj, "locations"), key, loc);
            if (!nvloc++)
                snprintf(firstvloc, sizeof firstvloc, "%s", key);
        }
    }
    if (nvloc >= 1 && (location || derived_location)) {
        /* §2.3.25: with VLOCATIONs, LOCATION names the main location. */
        if (location && nvloc > 1)
            json_object_set_new(o.obj, "mainLocationId", json_string(lockey));
        if (derived_location) {
            char *u = ical_text_unescape(derived_location->value);
            const char *k;
            json_t *l;
            json_object_foreach(json_object_get(o.obj, "locations"), k, l)
            {
                json_t *nm = json_object_get(l, "name");
                if (json_is_string(nm) && !strcmp(json_string_value(nm), u) &&
                    json_object_get(l, "iCalendar")) {
                    json_object_set_new(o.obj, "mainLocationId", json_string(k));
                    derived_location = NULL; /* regenerated from mainLocationId */
                    break;
                }
            }
            free(u);
        }
    }
    if (derived_location)
        keep_prop(&o, derived_location);

    /* Participants (§2.2.1, §2.3.4, §2.3.29), alerts (§2.2.2), other components. */
    for (size_t i = 0; i < c->ncomps; i++) {
        const ical_comp *sc = c->comps[i];
        if (!strcmp(sc->name, "PARTICIPANT")) {
            char key[256];
            json_t *pt = convert_participant_comp(&o, sc, key);
            json_t *parts = get_map(o.obj, "participants");
            json_object_set_new(parts, key, pt);
        } else if (!strcmp(sc->name, "VALARM") && !ical_comp_get_prop(sc, "TRIGGER")) {
            keep_comp(&o, sc); /* RFC 5545 §3.6.6 needs TRIGGER; keep it as it is */
        } else if (!strcmp(sc->name, "VALARM")) {
            char key[256];
            comp_key(sc, key);
            json_t *al = convert_valarm(&o, sc);
            if (!al)
                goto bad;
            json_object_set_new(get_map(o.obj, "alerts"), key, al);
        } else if (strcmp(sc->name, "VLOCATION")) {
            keep_comp(&o, sc);
        }
    }
    if (json_object_get(o.obj, "alerts"))
        resolve_alert_relations(json_object_get(o.obj, "alerts"));
    for (size_t i = 0; i < natt; i++) {
        /* An ATTENDEE merging into a PARTICIPANT: the address no longer comes only from
         * CALENDAR-ADDRESS, so drop that marker (§2.3.5). */
        convert_attendee(&o, attendees[i]);
    }
    if (organizer)
        convert_organizer(&o, organizer);
    {
        const char *k;
        json_t *pt;
        json_object_foreach(json_object_get(o.obj, "participants"), k, pt)
        {
            json_t *ic = json_object_get(pt, "iCalendar");
            if (!ic || !json_object_get(pt, "calendarAddress"))
                continue;
            int from_attendee = 0;
            for (size_t i = 0; i < natt; i++)
                if (!strcasecmp(attendees[i]->value,
                                json_string_value(json_object_get(pt, "calendarAddress"))))
                    from_attendee = 1;
            if (organizer && !strcasecmp(organizer->value, json_string_value(json_object_get(
                                                                pt, "calendarAddress"))))
                from_attendee = 1;
            if (!from_attendee) {
                json_t *e = typed_object("ICalProperty");
                json_object_set_new(e, "name", json_string("calendar-address"));
                json_object_set_new(get_map(ic, "convertedProperties"), "calendarAddress", e);
            }
        }
    }

    if (convert_jsprops(&o, jsprops, njs))
        goto bad;
    if (o.ical)
        json_object_set_new(o.obj, "iCalendar", o.ical);
    return o.obj;
bad:
    json_decref(o.ical);
    json_decref(o.obj);
    return NULL;
}

/* ---- recurrence overrides as patches (§2.1.2) ----------------------------------------- */

/* jscalendarbis §4.3.4: pointers with these prefixes are ignored in overrides. */
static int patch_ignored(const char *key)
{
    static const char *const ign[] = {"@type", "method", "organizerCalendarAddress", "privacy",
                                      "prodId", "recurrenceId", "recurrenceIdTimeZone",
                                      "recurrenceOverrides", "recurrenceRule", "relatedTo",
                                      "uid", NULL};
    for (const char *const *s = ign; *s; s++)
        if (!strcmp(key, *s))
            return 1;
    return 0;
}

static void diff_into(json_t *patch, const char *prefix, json_t *a, json_t *b, int depth)
{
    const char *k;
    json_t *bv;
    json_object_foreach(b, k, bv)
    {
        if (depth == 0 && patch_ignored(k))
            continue;
        char *e = ptr_escape(k);
        char *path = *prefix ? jscal_strdupf("%s/%s", prefix, e) : strdup(e);
        free(e);
        json_t *av = json_object_get(a, k);
        if (!av)
            json_object_set(patch, path, bv);
        else if (json_is_object(av) && json_is_object(bv) && depth < 3 &&
                 strcmp(k, "iCalendar") && strcmp(k, "trigger") && strcmp(k, "recurrenceRule"))
            diff_into(patch, path, av, bv, depth + 1);
        else if (!json_equal(av, bv))
            json_object_set(patch, path, bv);
        free(path);
    }
    json_t *av;
    json_object_foreach(a, k, av)
    {
        (void)av;
        if (json_object_get(b, k) || (depth == 0 && patch_ignored(k)))
            continue;
        if (depth == 0 && (!strcmp(k, "recurrenceRule") || !strcmp(k, "recurrenceOverrides")))
            continue;
        char *e = ptr_escape(k);
        char *path = *prefix ? jscal_strdupf("%s/%s", prefix, e) : strdup(e);
        free(e);
        json_object_set_new(patch, path, json_null());
        free(path);
    }
}

/* Folds the override ov (a converted RECURRENCE-ID component) into main as a patch. */
static void add_override(json_t *main, json_t *ov, cal_ctx *cal, const ical_comp *ovc)
{
    /* The key: RECURRENCE-ID in the main object's time zone. */
    const char *rid = json_string_value(json_object_get(ov, "recurrenceId"));
    const char *ridtz = json_string_value(json_object_get(ov, "recurrenceIdTimeZone"));
    const char *mtz = json_string_value(json_object_get(main, "timeZone"));
    jscal_ldt t;
    if (!rid || jscal_ldt_parse(rid, &t))
        return;
    if (ridtz && mtz && strcmp(ridtz, mtz)) {
        icaltimezone *z1 = tz_builtin(ridtz), *z2 = tz_builtin(mtz);
        (void)cal;
        int64_t u = tz_local_to_utc(z1, jscal_ldt_to_secs(&t));
        jscal_secs_to_ldt(tz_utc_to_local(z2, u), &t);
    }
    (void)ovc;
    char key[24];
    jscal_ldt_format(&t, 0, key);
    /* The occurrence inherits everything but start (or due), which moves to the id. */
    json_t *base = json_deep_copy(main);
    json_object_del(base, "recurrenceOverrides");
    if (json_object_get(base, "start") || !json_object_get(base, "due"))
        json_object_set_new(base, "start", json_string(key));
    else
        json_object_set_new(base, "due", json_string(key));
    json_t *patch = json_object();
    diff_into(patch, "", base, ov, 0);
    json_decref(base);
    json_t *ovs = get_map(main, "recurrenceOverrides");
    json_t *existing = json_object_get(ovs, key);
    if (existing)
        json_object_update(existing, patch);
    else
        json_object_set(ovs, key, patch);
    json_decref(patch);
}

/* ---- VCALENDAR (§2.1.1) --------------------------------------------------------------- */

static int calendar_props(cal_ctx *cal, const ical_comp *vcal, json_t *group, char **method,
                          char **prodid)
{
    obj_ctx g;
    memset(&g, 0, sizeof g);
    g.cal = cal;
    g.comp = vcal;
    g.obj = group;
    int nurl = 0;
    for (size_t i = 0; i < vcal->nprops; i++) {
        const ical_prop *p = &vcal->props[i];
        const char *n = p->name;
        if (!strcmp(n, "PRODID") && !strcmp(p->value, JSCAL_DEFAULT_PRODID)) {
            continue; /* our own placeholder for data that had none */
        } else if (!strcmp(n, "PRODID")) {
            set_text(group, "prodId", p->value);
            free(*prodid);
            *prodid = ical_text_unescape(p->value);
        } else if (!strcmp(n, "METHOD")) {
            free(*method);
            *method = jscal_strlower(p->value);
        } else if (!strcmp(n, "VERSION") && !strcmp(p->value, "2.0")) {
            continue;
        } else if (!strcmp(n, "CALSCALE") && !strcasecmp(p->value, "GREGORIAN")) {
            continue;
        } else if (!strcmp(n, "UID")) {
            set_text(group, "uid", p->value);
        } else if (!strcmp(n, "NAME") && !json_object_get(group, "title")) {
            set_text(group, "title", p->value);
            const char *l = ical_prop_param1(p, "LANGUAGE");
            if (l)
                json_object_set_new(group, "locale", json_string(l));
        } else if (!strcmp(n, "DESCRIPTION") && !json_object_get(group, "description") &&
                   !param_is_true(p, "DERIVED")) {
            set_description(&g, group, p, 0);
        } else if (!strcmp(n, "COLOR")) {
            set_text(group, "color", p->value);
        } else if (!strcmp(n, "CATEGORIES")) {
            add_set_values(group, "keywords", p->value, 0, 1);
        } else if (!strcmp(n, "CONCEPT")) {
            add_set_values(group, "categories", p->value, 0, 0);
        } else if (!strcmp(n, "CREATED")) {
            if (set_utc(&g, p, group, "created"))
                goto bad;
        } else if (!strcmp(n, "LAST-MODIFIED")) {
            if (set_utc(&g, p, group, "updated"))
                goto bad;
        } else if (!strcmp(n, "SOURCE")) {
            json_object_set_new(group, "source", json_string(p->value));
        } else if (!strcmp(n, "ATTACH") || !strcmp(n, "IMAGE") || !strcmp(n, "LINK") ||
                   !strcmp(n, "URL")) {
            add_link(&g, p, !strcmp(n, "URL") && nurl++ == 0);
        } else {
            keep_prop(&g, p);
        }
    }
    for (size_t i = 0; i < vcal->ncomps; i++) {
        const ical_comp *sc = vcal->comps[i];
        if (strcmp(sc->name, "VEVENT") && strcmp(sc->name, "VTODO") &&
            strcmp(sc->name, "VTIMEZONE"))
            keep_comp(&g, sc);
    }
    if (g.ical)
        json_object_set_new(group, "iCalendar", g.ical);
    return 0;
bad:
    json_decref(g.ical);
    return -1;
}

json_t *ical_to_jscal(const char *ics, size_t len, int flags, char **err)
{
    ical_comp **tops = NULL;
    *err = NULL;
    int ntops = ical_parse(ics, len, &tops, err);
    if (ntops < 0)
        return NULL;
    tz_init();
    cal_ctx cal;
    memset(&cal, 0, sizeof cal);
    json_t *group = typed_object("Group");
    json_t *entries = json_array();
    char *method = NULL, *prodid = NULL;
    const ical_comp **comps = NULL;
    json_t **objs = NULL;
    size_t ncomps = 0;

    for (int t = 0; t < ntops; t++) {
        if (strcmp(tops[t]->name, "VCALENDAR")) {
            cal.err = jscal_strdupf("line %d: expected BEGIN:VCALENDAR, found BEGIN:%s",
                                    tops[t]->line, tops[t]->name);
            goto done;
        }
        if (calendar_props(&cal, tops[t], group, &method, &prodid))
            goto done;
        for (size_t i = 0; i < tops[t]->ncomps; i++) {
            ical_comp *sc = tops[t]->comps[i];
            if (!strcmp(sc->name, "VTIMEZONE")) {
                cal.vtz = realloc(cal.vtz, (cal.nvtz + 1) * sizeof *cal.vtz);
                cal.vtz[cal.nvtz++] = sc;
            } else if (!strcmp(sc->name, "VEVENT") || !strcmp(sc->name, "VTODO")) {
                comps = realloc(comps, (ncomps + 1) * sizeof *comps);
                comps[ncomps++] = sc;
            }
        }
    }
    objs = calloc(ncomps ? ncomps : 1, sizeof *objs);
    for (size_t i = 0; i < ncomps; i++) {
        objs[i] = convert_entry(&cal, comps[i]);
        if (!objs[i])
            goto done;
        if (method)
            json_object_set_new(objs[i], "method", json_string(method));
        if (prodid)
            json_object_set_new(objs[i], "prodId", json_string(prodid));
    }
    /* Main components first, then fold their overrides into them (§2.1.2). */
    for (size_t i = 0; i < ncomps; i++) {
        if (json_object_get(objs[i], "recurrenceId"))
            continue;
        json_array_append(entries, objs[i]);
    }
    for (size_t i = 0; i < ncomps; i++) {
        if (!json_object_get(objs[i], "recurrenceId"))
            continue;
        const char *uid = json_string_value(json_object_get(objs[i], "uid"));
        json_t *main = NULL;
        for (size_t k = 0; k < ncomps && uid; k++) {
            if (k == i || json_object_get(objs[k], "recurrenceId"))
                continue;
            if (!json_equal(json_object_get(objs[k], "@type"), json_object_get(objs[i], "@type")))
                continue;
            const char *u2 = json_string_value(json_object_get(objs[k], "uid"));
            if (u2 && !strcmp(u2, uid) &&
                (json_object_get(objs[k], "recurrenceRule") ||
                 json_object_get(objs[k], "recurrenceOverrides")))
                main = objs[k];
        }
        if (main)
            add_override(main, objs[i], &cal, comps[i]);
        else
            json_array_append(entries, objs[i]); /* stand-alone instance */
    }
    json_object_set(group, "entries", entries);
    if (!(flags & ICAL_TO_JSCAL_GROUP) && json_array_size(entries) == 1) {
        /* A lone entry with nothing of the calendar's own worth keeping. */
        const char *k;
        json_t *v;
        int only = 1;
        json_object_foreach(group, k, v)
        {
            (void)v;
            if (strcmp(k, "@type") && strcmp(k, "entries") && strcmp(k, "prodId"))
                only = 0;
        }
        if (only) {
            json_t *e = json_incref(json_array_get(entries, 0));
            json_decref(group);
            group = e;
        }
    }

done:
    for (size_t i = 0; objs && i < ncomps; i++)
        json_decref(objs[i]);
    free(objs);
    free(comps);
    json_decref(entries);
    free(method);
    free(prodid);
    for (size_t i = 0; i < cal.ncz; i++) {
        free(cal.cz[i].tzid);
        icaltimezone_free(cal.cz[i].zone, 1);
    }
    free(cal.cz);
    free(cal.vtz);
    for (int t = 0; t < ntops; t++)
        ical_comp_free(tops[t]);
    free(tops);
    if (cal.err) {
        json_decref(group);
        *err = cal.err;
        return NULL;
    }
    return group;
}
