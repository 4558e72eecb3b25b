/*
 * jscal_to_ical.c — JSCalendar -> iCalendar, following
 * draft-ietf-calext-jscalendar-icalendar-25 §3: Event/Task -> VEVENT/VTODO (§3.2), Group ->
 * VCALENDAR (§3.3), Link, Location, Participant, VirtualLocation and Alert as §3.1-§3.7
 * say, recurrence overrides as EXDATE, RDATE or RECURRENCE-ID components, the "iCalendar"
 * property (§5.1.1) restored, and every other JSCalendar property as JSPROP (§4.1.2).
 * VTIMEZONEs are generated for each zone used (libical builtin zones from zoneinfo).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "formats/ical.h"
#include "formats/ical_internal.h"
#include "formats/jscal.h"
#include "formats/recur.h"
#include "formats/tz.h"

struct ical_writer {
    char *prodid, *method;
    char **zones; /* TZIDs referenced */
    size_t nzones;
    ical_comp **custom; /* VTIMEZONEs carried in iCalendar/components */
    size_t ncustom;
};

typedef struct {
    ical_writer *w;
    const json_t *obj;
    json_t *cp; /* convertedProperties of obj's iCalendar (borrowed) */
    const char *tz;
    int form; /* 0: DATE, 1: local (TZID or floating), 2: UTC */
    char *err;
} out_ctx;

static int ofail(out_ctx *o, const char *path, const char *msg)
{
    if (!o->err)
        o->err = jscal_strdupf("%s: %s", path, msg);
    return -1;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void add_zone(ical_writer *w, const char *tz)
{
    for (size_t i = 0; i < w->nzones; i++)
        if (!strcmp(w->zones[i], tz))
            return;
    w->zones = realloc(w->zones, (w->nzones + 1) * sizeof *w->zones);
    w->zones[w->nzones++] = strdup(tz);
}

/* Parameters recorded for the element at path (convertedProperties, §5.1.1). */
static void apply_cp(out_ctx *o, ical_prop *p, const char *path)
{
    json_t *e = json_object_get(o->cp, path);
    if (e)
        ical_params_from_json(p, json_object_get(e, "parameters"));
}

static const char *cp_name(out_ctx *o, const char *path)
{
    return jstr(json_object_get(o->cp, path), "name");
}

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

static ical_prop *add_text(ical_comp *c, const char *name, const char *text)
{
    char *e = ical_text_escape(text);
    ical_prop *p = ical_comp_add_prop(c, name, e);
    free(e);
    return p;
}

/* JSPROP for each member of obj not in known (§4.1.2), pointer prefixed with prefix. */
static void add_jsprops(ical_comp *c, const json_t *obj, const char *prefix,
                        const char *const *known)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        int skip = !strcmp(k, "@type") || !strcmp(k, "iCalendar") || json_is_null(v);
        for (const char *const *s = known; !skip && *s; s++)
            skip = !strcmp(*s, k);
        if (skip)
            continue;
        char *val = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        char *ptr = prefix ? path2(prefix, k) : ptr_escape(k);
        ical_prop *p = add_text(c, "JSPROP", val ? val : "null");
        ical_prop_add_param(p, "JSPTR", ptr);
        free(val);
        free(ptr);
    }
}

/* Restores iCalendar/properties and iCalendar/components of obj into c. */
static int restore_ical(out_ctx *o, ical_comp *c, const json_t *obj, const char *path)
{
    json_t *ic = json_object_get(obj, "iCalendar");
    if (!json_is_object(ic))
        return 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(ic, "properties"), i, e)
    {
        char *err = NULL;
        if (!ical_prop_from_jcal(c, e, &err)) {
            char *p = jscal_strdupf("%s%siCalendar/properties/%zu", path, *path ? "/" : "", i);
            ofail(o, p, err);
            free(p);
            free(err);
            return -1;
        }
    }
    json_array_foreach(json_object_get(ic, "components"), i, e)
    {
        char *err = NULL;
        ical_comp *sc = ical_comp_from_jcal(e, &err);
        if (!sc) {
            char *p = jscal_strdupf("%s%siCalendar/components/%zu", path, *path ? "/" : "", i);
            ofail(o, p, err);
            free(p);
            free(err);
            return -1;
        }
        if (!strcmp(sc->name, "VTIMEZONE")) {
            /* §2.1.4: a zone that only exists as VTIMEZONE goes to the calendar level. */
            ical_prop *tzid = ical_comp_get_prop(sc, "TZID");
            int dup = !tzid;
            for (size_t k = 0; !dup && k < o->w->ncustom; k++) {
                ical_prop *t2 = ical_comp_get_prop(o->w->custom[k], "TZID");
                dup = t2 && !strcmp(t2->value, tzid->value);
            }
            if (dup) {
                ical_comp_free(sc);
            } else {
                o->w->custom = realloc(o->w->custom, (o->w->ncustom + 1) * sizeof *o->w->custom);
                o->w->custom[o->w->ncustom++] = sc;
            }
            continue;
        }
        ical_comp_add_comp(c, sc);
    }
    return 0;
}

/* ---- date-times (§3.2) ---------------------------------------------------------------- */

/* Adds NAME with the LocalDateTime ldt in the object's form and zone. */
static int add_dt(out_ctx *o, ical_comp *c, const char *name, const char *ldt, const char *path)
{
    jscal_ldt t;
    if (!ldt || jscal_ldt_parse(ldt, &t))
        return ofail(o, path, "not a LocalDateTime");
    ical_dt d = {.t = t, .is_date = o->form == 0, .is_utc = o->form == 2};
    char buf[20];
    ical_dt_format(&d, buf);
    ical_prop *p = ical_comp_add_prop(c, name, buf);
    if (o->form == 0)
        ical_prop_add_param(p, "VALUE", "DATE");
    else if (o->form == 1 && o->tz) {
        ical_prop_add_param(p, "TZID", o->tz);
        add_zone(o->w, o->tz);
    }
    apply_cp(o, p, path);
    return 0;
}

static int add_utc(out_ctx *o, ical_comp *c, const char *name, const char *utc, const char *path)
{
    jscal_ldt t;
    if (!utc || jscal_utc_parse(utc, &t))
        return ofail(o, path, "not a UTCDateTime");
    ical_dt d = {.t = t, .is_utc = 1};
    char buf[20];
    ical_dt_format(&d, buf);
    ical_comp_add_prop(c, name, buf);
    return 0;
}

static int zero_time(const char *ldt)
{
    return ldt && strlen(ldt) == 19 && !strcmp(ldt + 10, "T00:00:00");
}

static int dur_has_time(const char *s)
{
    return s && strchr(s, 'T') != NULL;
}

/* §3.2: DATE iff showWithoutTime, no timeZone, and every time of day is zero. */
static int choose_form(const json_t *obj)
{
    const char *tz = jstr(obj, "timeZone");
    if (json_is_true(json_object_get(obj, "showWithoutTime")) && !tz) {
        int ok = 1;
        const char *keys[] = {"start", "due", "recurrenceId", NULL};
        for (int i = 0; keys[i]; i++)
            if (json_object_get(obj, keys[i]) && !zero_time(jstr(obj, keys[i])))
                ok = 0;
        if (dur_has_time(jstr(obj, "duration")) || dur_has_time(jstr(obj, "estimatedDuration")))
            ok = 0;
        json_t *until = json_object_get(json_object_get(obj, "recurrenceRule"), "until");
        if (until && !zero_time(json_string_value(until)))
            ok = 0;
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(obj, "recurrenceOverrides"), k, v)
        {
            (void)v;
            if (!zero_time(k))
                ok = 0;
        }
        if (ok)
            return 0;
    }
    if (tz && !strcmp(tz, "Etc/UTC") && !json_object_get(obj, "endTimeZone"))
        return 2;
    return 1;
}

/* ---- recurrence rule (§2.3.36) -------------------------------------------------------- */

static int add_rrule(out_ctx *o, ical_comp *c, const json_t *r)
{
    if (!json_is_object(r))
        return ofail(o, "recurrenceRule", "not an object");
    jscal_buf b = {0};
    const char *freq = jstr(r, "frequency");
    if (!freq)
        return ofail(o, "recurrenceRule/frequency", "missing");
    char *up = jscal_strupper(freq);
    const char *rscale = jstr(r, "rscale");
    if (rscale) {
        char *u = jscal_strupper(rscale);
        jscal_buf_adds(&b, "RSCALE=");
        jscal_buf_adds(&b, u);
        jscal_buf_adds(&b, ";");
        free(u);
    }
    jscal_buf_adds(&b, "FREQ=");
    jscal_buf_adds(&b, up);
    free(up);
    char tmp[64];
    json_t *v;
    if ((v = json_object_get(r, "until"))) {
        jscal_ldt t;
        if (!json_is_string(v) || jscal_ldt_parse(json_string_value(v), &t)) {
            free(b.s);
            return ofail(o, "recurrenceRule/until", "not a LocalDateTime");
        }
        /* RFC 5545 §3.3.10: UNTIL is UTC if DTSTART has a zone, DATE if DTSTART is. */
        ical_dt d = {.t = t, .is_date = o->form == 0};
        if (o->form != 0 && o->tz) {
            icaltimezone *owned;
            int known;
            icaltimezone *z = recur_zone_lookup(o->obj, o->tz, &owned, &known);
            jscal_secs_to_ldt(tz_local_to_utc(z, jscal_ldt_to_secs(&t)), &d.t);
            d.is_utc = 1;
            if (owned)
                icaltimezone_free(owned, 1);
        }
        ical_dt_format(&d, tmp);
        jscal_buf_adds(&b, ";UNTIL=");
        jscal_buf_adds(&b, tmp);
    }
    if ((v = json_object_get(r, "count"))) {
        snprintf(tmp, sizeof tmp, ";COUNT=%lld", (long long)json_integer_value(v));
        jscal_buf_adds(&b, tmp);
    }
    if ((v = json_object_get(r, "interval"))) {
        snprintf(tmp, sizeof tmp, ";INTERVAL=%lld", (long long)json_integer_value(v));
        jscal_buf_adds(&b, tmp);
    }
    static const struct {
        const char *js, *ic;
    } lists[] = {{"bySecond", "BYSECOND"},   {"byMinute", "BYMINUTE"},   {"byHour", "BYHOUR"},
                 {"byDay", "BYDAY"},         {"byMonthDay", "BYMONTHDAY"}, {"byYearDay", "BYYEARDAY"},
                 {"byWeekNo", "BYWEEKNO"},   {"byMonth", "BYMONTH"},     {"bySetPosition", "BYSETPOS"}};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        json_t *a = json_object_get(r, lists[i].js);
        if (!json_is_array(a) || !json_array_size(a))
            continue;
        jscal_buf_adds(&b, ";");
        jscal_buf_adds(&b, lists[i].ic);
        jscal_buf_adds(&b, "=");
        size_t k;
        json_t *e;
        json_array_foreach(a, k, e)
        {
            if (k)
                jscal_buf_adds(&b, ",");
            if (json_is_integer(e)) {
                snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(e));
                jscal_buf_adds(&b, tmp);
            } else if (json_is_string(e)) {
                jscal_buf_adds(&b, json_string_value(e));
            } else if (json_is_object(e)) {
                json_t *nth = json_object_get(e, "nthOfPeriod");
                if (nth) {
                    snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(nth));
                    jscal_buf_adds(&b, tmp);
                }
                const char *day = jstr(e, "day");
                char *u = jscal_strupper(day ? day : "");
                jscal_buf_adds(&b, u);
                free(u);
            }
        }
    }
    const char *wkst = jstr(r, "firstDayOfWeek");
    if (wkst) {
        char *u = jscal_strupper(wkst);
        jscal_buf_adds(&b, ";WKST=");
        jscal_buf_adds(&b, u);
        free(u);
    }
    const char *skip = jstr(r, "skip");
    if (skip && rscale) {
        char *u = jscal_strupper(skip);
        jscal_buf_adds(&b, ";SKIP=");
        jscal_buf_adds(&b, u);
        free(u);
    }
    ical_prop *p = ical_comp_add_prop(c, "RRULE", b.s);
    free(b.s);
    apply_cp(o, p, "recurrenceRule");
    static const char *const known[] = {"frequency", "until", "count", "interval", "bySecond",
                                        "byMinute", "byHour", "byDay", "byMonthDay", "byYearDay",
                                        "byWeekNo", "byMonth", "bySetPosition", "firstDayOfWeek",
                                        "rscale", "skip", NULL};
    add_jsprops(c, r, "recurrenceRule", known);
    return 0;
}

/* ---- links (§3.4) --------------------------------------------------------------------- */

static void add_links(out_ctx *o, ical_comp *c, const json_t *links, const char *prefix)
{
    const char *k;
    json_t *l;
    int have_url = ical_comp_get_prop(c, "URL") != NULL;
    json_object_foreach((json_t *)links, k, l)
    {
        const char *href = jstr(l, "href");
        if (!href)
            continue;
        const char *rel = jstr(l, "rel");
        char *path = path2(prefix ? prefix : "links", k);
        const char *name = cp_name(o, path);
        /* §3.4 guideline, except that a Link without rel becomes ATTACH: RFC 9253 §8.2
         * requires LINKREL on LINK, and there is no relation to put there. */
        if (!name)
            name = !rel || !strcmp(rel, "enclosure")                 ? "attach"
                   : rel && !strcmp(rel, "icon")                     ? "image"
                   : rel && !strcmp(rel, "describedby") && !have_url ? "url"
                                                                     : "link";
        char *uname = jscal_strupper(name);
        int binary = !strncmp(href, "data:", 5) && strstr(href, ";base64,") &&
                     (!strcmp(uname, "ATTACH") || !strcmp(uname, "IMAGE"));
        ical_prop *p;
        if (binary) {
            p = ical_comp_add_prop(c, uname, strstr(href, ";base64,") + 8);
            ical_prop_add_param(p, "ENCODING", "BASE64");
            ical_prop_add_param(p, "VALUE", "BINARY");
        } else {
            p = ical_comp_add_prop(c, uname, href);
            if (!strcmp(uname, "LINK") || !strcmp(uname, "IMAGE"))
                ical_prop_add_param(p, "VALUE", "URI");
        }
        if (!strcmp(uname, "URL"))
            have_url = 1;
        const char *ct = jstr(l, "contentType");
        if (ct)
            ical_prop_add_param(p, "FMTTYPE", ct);
        if (rel && !strcmp(uname, "LINK"))
            ical_prop_add_param(p, "LINKREL", rel);
        const char *title = jstr(l, "title");
        if (title)
            ical_prop_add_param(p, !strcmp(uname, "LINK") || !strcmp(uname, "URL") ? "LABEL"
                                                                                    : "FILENAME",
                                title);
        json_t *size = json_object_get(l, "size");
        if (json_is_integer(size)) {
            char tmp[32];
            snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(size));
            ical_prop_add_param(p, "SIZE", tmp);
        }
        const char *dk;
        json_t *dv;
        json_object_foreach(json_object_get(l, "display"), dk, dv)
        {
            char *u = jscal_strupper(dk);
            ical_prop_add_param(p, "DISPLAY", u);
            free(u);
        }
        /* JSID unless the key is the UUIDv5 of the value (§2.3.3). */
        char u5[37];
        jscal_uuidv5(p->value, u5);
        if (strcmp(u5, k))
            ical_prop_add_param(p, "JSID", k);
        apply_cp(o, p, path);
        static const char *const known[] = {"href", "rel", "contentType", "title", "size",
                                            "display", NULL};
        add_jsprops(c, l, path, known);
        free(uname);
        free(path);
    }
}

/* ---- locations (§3.5) and virtual locations (§3.7) ------------------------------------ */

static int geo_from_uri(const char *uri, char *out, size_t n)
{
    double lat, lon;
    int used = 0;
    if (!uri || strncasecmp(uri, "geo:", 4) || sscanf(uri + 4, "%lf,%lf%n", &lat, &lon, &used) != 2)
        return -1;
    const char *rest = uri + 4 + used;
    if (*rest && *rest != ';' && *rest != ',')
        return -1;
    if (*rest) /* altitude, crs or uncertainty: only COORDINATES keeps them */
        return -1;
    snprintf(out, n, "%.15g;%.15g", lat, lon);
    return 0;
}

static const char *preserved_uid(const json_t *al)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(json_object_get(al, "iCalendar"), "properties"), i, e)
    {
        if (!strcmp(json_string_value(json_array_get(e, 0)) ?: "", "uid") &&
            json_is_string(json_array_get(e, 3)))
            return json_string_value(json_array_get(e, 3));
    }
    return NULL;
}

/* Whether a Location can be a LOCATION (+GEO) property: §3.5 guideline. */
static int location_propable(out_ctx *o, const char *k, const json_t *l)
{
    const char *icname = jstr(json_object_get(l, "iCalendar"), "name");
    if (icname && !strcasecmp(icname, "vlocation"))
        return 0;
    if (json_object_get(l, "locationTypes") || json_object_get(l, "links"))
        return 0;
    const char *coords = jstr(l, "coordinates");
    char geo[80];
    if (coords && geo_from_uri(coords, geo, sizeof geo))
        return 0;
    (void)o;
    (void)k;
    return jstr(l, "name") || coords;
}

static void add_vlocation(out_ctx *o, ical_comp *c, const char *k, const json_t *l,
                          const char *path)
{
    const char *name = jstr(l, "name"), *coords = jstr(l, "coordinates");
    json_t *ic = json_object_get(l, "iCalendar");
    char geo[80];
    ical_comp *v = ical_comp_new("VLOCATION");
    out_ctx sub = *o;
    sub.cp = json_object_get(ic, "convertedProperties");
    sub.err = NULL;
    const char *puid = preserved_uid(l);
    if (!puid || strcmp(puid, k))
        ical_comp_add_prop(v, "JSID", k);
    if (!puid)
        add_text(v, "UID", k);
    if (name)
        add_text(v, "NAME", name);
    if (coords) {
        if (cp_name(&sub, "coordinates") && !geo_from_uri(coords, geo, sizeof geo))
            ical_comp_add_prop(v, "GEO", geo);
        else {
            ical_prop *p = ical_comp_add_prop(v, "COORDINATES", coords);
            ical_prop_add_param(p, "VALUE", "URI");
        }
    }
    const char *tk;
    json_t *tv;
    jscal_buf types = {0};
    json_object_foreach(json_object_get(l, "locationTypes"), tk, tv)
    {
        char *e2 = ical_text_escape(tk);
        if (types.len)
            jscal_buf_adds(&types, ",");
        jscal_buf_adds(&types, e2);
        free(e2);
    }
    if (types.len)
        ical_comp_add_prop(v, "LOCATION-TYPE", types.s);
    free(types.s);
    add_links(&sub, v, json_object_get(l, "links"), "links");
    restore_ical(&sub, v, l, path);
    if (sub.err && !o->err)
        o->err = sub.err;
    else
        free(sub.err);
    static const char *const known[] = {"name", "coordinates", "locationTypes", "links", NULL};
    add_jsprops(v, l, NULL, known);
    ical_comp_add_comp(c, v);
}

static void add_location_prop(out_ctx *o, ical_comp *c, const char *k, const json_t *l,
                              const char *path)
{
    const char *name = jstr(l, "name"), *coords = jstr(l, "coordinates");
    char u5[37], geo[80];
    char *cpath = jscal_strdupf("%s/coordinates", path);
    if (name) {
        ical_prop *p = add_text(c, "LOCATION", name);
        jscal_uuidv5(name, u5);
        if (strcmp(u5, k))
            ical_prop_add_param(p, "JSID", k);
        apply_cp(o, p, path);
    }
    if (coords && !geo_from_uri(coords, geo, sizeof geo)) {
        ical_prop *p = ical_comp_add_prop(c, "GEO", geo);
        /* Without JSID a GEO joins the LOCATION, or takes the UUIDv5 of its value. */
        jscal_uuidv5(name ? name : geo, u5);
        if (strcmp(u5, k))
            ical_prop_add_param(p, "JSID", k);
        apply_cp(o, p, cpath);
    }
    static const char *const known[] = {"name", "coordinates", NULL};
    add_jsprops(c, l, path, known);
    free(cpath);
}

/* §3.5: at most one Location becomes LOCATION (+GEO); the main location is restorable on
 * import (§2.3.25) either as LOCATION with two or more VLOCATIONs, or as a VLOCATION with a
 * derived LOCATION naming it; where neither applies mainLocationId travels as JSPROP. */
static void add_locations(out_ctx *o, ical_comp *c, const json_t *obj)
{
    const char *main = jstr(obj, "mainLocationId");
    const json_t *locs = json_object_get(obj, "locations");
    const json_t *mainloc = main ? json_object_get(locs, main) : NULL;
    int main_prop = mainloc && location_propable(o, main, mainloc);
    const char *prop_key = main_prop ? main : NULL;
    const char *k;
    json_t *l;
    if (!prop_key && !mainloc) {
        json_object_foreach((json_t *)locs, k, l) if (!prop_key && jstr(l, "name") &&
                                                       location_propable(o, k, l)) prop_key = k;
    }
    int nvloc_other = 0;
    json_object_foreach((json_t *)locs, k, l)
    {
        if ((prop_key && !strcmp(k, prop_key)) || (main && !strcmp(k, main)))
            continue;
        char *cpath = jscal_strdupf("locations/%s/coordinates", k);
        int geo_only = !jstr(l, "name") && jstr(l, "coordinates") && cp_name(o, cpath) &&
                       location_propable(o, k, l);
        free(cpath);
        if (!geo_only)
            nvloc_other++;
    }
    int restorable = 0;
    json_object_foreach((json_t *)locs, k, l)
    {
        char *path = path2("locations", k);
        char *cpath = jscal_strdupf("%s/coordinates", path);
        int geo_only = !jstr(l, "name") && jstr(l, "coordinates") && cp_name(o, cpath) &&
                       location_propable(o, k, l);
        if (prop_key && !strcmp(k, prop_key)) {
            add_location_prop(o, c, k, l, path);
            if (main && !strcmp(k, main))
                restorable = nvloc_other >= 2;
        } else if (geo_only) {
            add_location_prop(o, c, k, l, path);
        } else {
            add_vlocation(o, c, k, l, path);
            if (main && !strcmp(k, main) && jstr(l, "name")) {
                ical_prop *p = add_text(c, "LOCATION", jstr(l, "name"));
                ical_prop_add_param(p, "DERIVED", "TRUE");
                restorable = 1;
            }
        }
        free(cpath);
        free(path);
    }
    if (main && !restorable) {
        char *val = json_dumps(json_object_get(obj, "mainLocationId"), JSON_ENCODE_ANY);
        ical_prop *p = add_text(c, "JSPROP", val);
        ical_prop_add_param(p, "JSPTR", "mainLocationId");
        free(val);
    }
}

static void add_virtual_locations(out_ctx *o, ical_comp *c, const json_t *vls)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)vls, k, v)
    {
        const char *uri = jstr(v, "uri");
        if (!uri)
            continue;
        ical_prop *p = ical_comp_add_prop(c, "CONFERENCE", uri);
        ical_prop_add_param(p, "VALUE", "URI");
        const char *fk;
        json_t *fv;
        json_object_foreach(json_object_get(v, "features"), fk, fv)
        {
            char *u = jscal_strupper(fk);
            ical_prop_add_param(p, "FEATURE", u);
            free(u);
        }
        const char *name = jstr(v, "name");
        if (name && *name)
            ical_prop_add_param(p, "LABEL", name);
        char u5[37];
        jscal_uuidv5(uri, u5);
        if (strcmp(u5, k))
            ical_prop_add_param(p, "JSID", k);
        char *path = path2("virtualLocations", k);
        apply_cp(o, p, path);
        static const char *const known[] = {"uri", "features", "name", NULL};
        add_jsprops(c, v, path, known);
        free(path);
    }
}


/* ---- participants (§3.6) -------------------------------------------------------------- */

static void set_addr_param(ical_prop *p, const char *param, const json_t *set)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)set, k, v) ical_prop_add_param(p, param, k);
}

static char *mailto(const char *s)
{
    return strchr(s, ':') ? strdup(s) : jscal_strdupf("mailto:%s", s);
}

static void add_participants(out_ctx *o, ical_comp *c, const json_t *obj, int is_task)
{
    const char *org = jstr(obj, "organizerCalendarAddress");
    const json_t *parts = json_object_get(obj, "participants");
    const char *k;
    json_t *pt;
    if (org) {
        ical_prop *p = ical_comp_add_prop(c, "ORGANIZER", org);
        json_object_foreach((json_t *)parts, k, pt)
        {
            const char *a = jstr(pt, "calendarAddress");
            if (!a || strcasecmp(a, org))
                continue;
            if (jstr(pt, "name"))
                ical_prop_add_param(p, "CN", jstr(pt, "name"));
            if (jstr(pt, "email"))
                ical_prop_add_param(p, "EMAIL", jstr(pt, "email"));
            if (jstr(pt, "sentBy")) {
                char *m = mailto(jstr(pt, "sentBy"));
                ical_prop_add_param(p, "SENT-BY", m);
                free(m);
            }
            char u5[37];
            jscal_uuidv5(org, u5);
            if (strcmp(u5, k))
                ical_prop_add_param(p, "JSID", k);
            break;
        }
        if (!ical_prop_get_param(p, "SENT-BY") && jstr(obj, "sentBy")) {
            char *m = mailto(jstr(obj, "sentBy"));
            ical_prop_add_param(p, "SENT-BY", m);
            free(m);
        }
        apply_cp(o, p, "organizerCalendarAddress");
    }
    json_object_foreach((json_t *)parts, k, pt)
    {
        const char *addr = jstr(pt, "calendarAddress");
        json_t *roles = json_object_get(pt, "roles");
        char *path = path2("participants", k);
        /* Fully represented by ORGANIZER: same address, only the owner role, only
         * properties that ORGANIZER parameters carry. */
        int org_only = org && addr && !strcasecmp(addr, org);
        const char *rk;
        json_t *rv;
        json_object_foreach(roles, rk, rv) if (strcmp(rk, "owner")) org_only = 0;
        const char *pk;
        json_t *pv;
        json_object_foreach(pt, pk, pv) if (strcmp(pk, "@type") && strcmp(pk, "calendarAddress") &&
                                            strcmp(pk, "roles") && strcmp(pk, "name") &&
                                            strcmp(pk, "email") && strcmp(pk, "sentBy"))
            org_only = 0;
        if (org_only) {
            free(path);
            continue;
        }
        json_t *ic = json_object_get(pt, "iCalendar");
        const char *ca_origin = jstr(json_object_get(json_object_get(ic, "convertedProperties"),
                                                     "calendarAddress"),
                                     "name");
        int want_attendee = addr && !(ca_origin && !strcasecmp(ca_origin, "calendar-address"));
        static const char *const att_known[] = {
            "calendarAddress", "name", "email", "kind", "roles", "participationStatus",
            "expectReply", "sentBy", "delegatedTo", "delegatedFrom", "memberOf", "progress",
            "scheduleAgent", "scheduleForceSend", "scheduleStatus", NULL};
        if (want_attendee) {
            ical_prop *p = ical_comp_add_prop(c, "ATTENDEE", addr);
            if (jstr(pt, "name"))
                ical_prop_add_param(p, "CN", jstr(pt, "name"));
            if (jstr(pt, "email"))
                ical_prop_add_param(p, "EMAIL", jstr(pt, "email"));
            const char *kind = jstr(pt, "kind");
            if (kind) {
                char *u = jscal_strupper(!strcmp(kind, "location") ? "room" : kind);
                ical_prop_add_param(p, "CUTYPE", u);
                free(u);
            }
            int chair = 0, optional = 0, info = 0, attendee = 0, req = 0, owner = 0;
            json_object_foreach(roles, rk, rv)
            {
                chair |= !strcmp(rk, "chair");
                optional |= !strcmp(rk, "optional");
                info |= !strcmp(rk, "informational");
                attendee |= !strcmp(rk, "attendee");
                req |= !strcmp(rk, "required");
                owner |= !strcmp(rk, "owner");
            }
            const char *role = chair      ? "CHAIR"
                               : req      ? "REQ-PARTICIPANT"
                               : optional ? "OPT-PARTICIPANT"
                               : info     ? "NON-PARTICIPANT"
                               : attendee ? "REQ-PARTICIPANT"
                                          : NULL;
            if (!role && owner && !(org && !strcasecmp(addr, org)))
                role = "OWNER";
            if (role)
                ical_prop_add_param(p, "ROLE", role);
            /* Roles ROLE cannot carry travel as JSPROP (§4.1.2): the import sets them
             * after ROLE has been converted, as they are new keys of "roles". (Collected
             * first: adding properties may move p.) */
            json_t *extra_roles = json_array();
            json_object_foreach(roles, rk, rv)
            {
                int implied = (!strcmp(rk, "attendee") && role && strcmp(role, "NON-PARTICIPANT") &&
                               strcmp(role, "OWNER")) ||
                              (!strcmp(rk, "chair") && role && !strcmp(role, "CHAIR")) ||
                              (!strcmp(rk, "optional") && role && !strcmp(role, "OPT-PARTICIPANT")) ||
                              (!strcmp(rk, "informational") && role && !strcmp(role, "NON-PARTICIPANT")) ||
                              (!strcmp(rk, "owner") && ((role && !strcmp(role, "OWNER")) ||
                                                        (org && !strcasecmp(addr, org))));
                if (!implied)
                    json_array_append_new(extra_roles, json_string(rk));
            }
            const char *ps = jstr(pt, "participationStatus"), *prog = jstr(pt, "progress");
            if (is_task && prog && (!ps || !strcmp(ps, "accepted"))) {
                char *u = jscal_strupper(prog);
                ical_prop_add_param(p, "PARTSTAT", u);
                free(u);
            } else if (ps) {
                char *u = jscal_strupper(ps);
                ical_prop_add_param(p, "PARTSTAT", u);
                free(u);
            }
            if (json_is_true(json_object_get(pt, "expectReply")))
                ical_prop_add_param(p, "RSVP", "TRUE");
            if (jstr(pt, "sentBy")) {
                char *m = mailto(jstr(pt, "sentBy"));
                ical_prop_add_param(p, "SENT-BY", m);
                free(m);
            }
            set_addr_param(p, "DELEGATED-TO", json_object_get(pt, "delegatedTo"));
            set_addr_param(p, "DELEGATED-FROM", json_object_get(pt, "delegatedFrom"));
            set_addr_param(p, "MEMBER", json_object_get(pt, "memberOf"));
            if (jstr(pt, "scheduleAgent")) {
                char *u = jscal_strupper(jstr(pt, "scheduleAgent"));
                ical_prop_add_param(p, "SCHEDULE-AGENT", u);
                free(u);
            }
            if (json_is_true(json_object_get(pt, "scheduleForceSend")))
                ical_prop_add_param(p, "SCHEDULE-FORCE-SEND", "REQUEST");
            size_t i;
            json_t *e;
            json_array_foreach(json_object_get(pt, "scheduleStatus"), i, e) if (json_is_string(e))
                ical_prop_add_param(p, "SCHEDULE-STATUS", json_string_value(e));
            char u5[37];
            jscal_uuidv5(addr, u5);
            if (strcmp(u5, k))
                ical_prop_add_param(p, "JSID", k);
            apply_cp(o, p, path);
            p = NULL;
            json_array_foreach(extra_roles, i, e)
            {
                ical_prop *jp = add_text(c, "JSPROP", "true");
                char *rkp = ptr_escape(json_string_value(e));
                char *full = jscal_strdupf("%s/roles/%s", path, rkp);
                ical_prop_add_param(jp, "JSPTR", full);
                free(full);
                free(rkp);
            }
            json_decref(extra_roles);
        }
        /* PARTICIPANT component for what ATTENDEE cannot carry (§3.6). */
        int want_comp = !want_attendee || ic || json_object_get(pt, "description") ||
                        json_object_get(pt, "links") || json_object_get(pt, "percentComplete");
        if (want_comp) {
            ical_comp *pc = ical_comp_new("PARTICIPANT");
            out_ctx sub = *o;
            sub.cp = json_object_get(ic, "convertedProperties");
            sub.err = NULL;
            const char *puid = preserved_uid(pt);
            char u5[37] = "";
            if (addr)
                jscal_uuidv5(addr, u5);
            if (addr ? strcmp(u5, k) != 0 : (puid && strcmp(puid, k)))
                ical_comp_add_prop(pc, "JSID", k);
            if (!puid)
                add_text(pc, "UID", k);
            if (addr)
                ical_comp_add_prop(pc, "CALENDAR-ADDRESS", addr);
            if (jstr(pt, "name") && !want_attendee)
                add_text(pc, "SUMMARY", jstr(pt, "name"));
            const char *desc = jstr(pt, "description"), *dct = jstr(pt, "descriptionContentType");
            if (desc) {
                int styled = dct && strcasecmp(dct, "text/plain");
                ical_prop *p = add_text(pc, styled ? "STYLED-DESCRIPTION" : "DESCRIPTION", desc);
                if (styled)
                    ical_prop_add_param(p, "FMTTYPE", dct);
                apply_cp(&sub, p, "description");
            }
            json_t *pcv = json_object_get(pt, "percentComplete");
            if (json_is_integer(pcv)) {
                char tmp[32];
                snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(pcv));
                ical_comp_add_prop(pc, "PERCENT-COMPLETE", tmp);
            }
            add_links(&sub, pc, json_object_get(pt, "links"), "links");
            restore_ical(&sub, pc, pt, path);
            if (sub.err && !o->err)
                o->err = sub.err;
            else
                free(sub.err);
            static const char *const with_att[] = {
                "calendarAddress", "name", "email", "kind", "roles", "participationStatus",
                "expectReply", "sentBy", "delegatedTo", "delegatedFrom", "memberOf", "progress",
                "scheduleAgent", "scheduleForceSend", "scheduleStatus", "description",
                "descriptionContentType", "percentComplete", "links", NULL};
            static const char *const alone[] = {"calendarAddress", "name", "description",
                                                "descriptionContentType", "percentComplete",
                                                "links", NULL};
            add_jsprops(pc, pt, NULL, want_attendee ? with_att : alone);
            ical_comp_add_comp(c, pc);
        } else {
            add_jsprops(c, pt, path, att_known);
        }
        free(path);
    }
}

/* ---- alerts (§3.1) -------------------------------------------------------------------- */

static int add_alerts(out_ctx *o, ical_comp *c, const json_t *obj)
{
    const json_t *alerts = json_object_get(obj, "alerts");
    const char *k;
    json_t *al;
    json_object_foreach((json_t *)alerts, k, al)
    {
        char *path = path2("alerts", k);
        ical_comp *v = ical_comp_new("VALARM");
        out_ctx sub = *o;
        sub.cp = json_object_get(json_object_get(al, "iCalendar"), "convertedProperties");
        sub.err = NULL;
        const char *uid = preserved_uid(al);
        /* An alert that others relate to needs a UID (§3.1). */
        int referenced = 0;
        const char *k2;
        json_t *al2;
        json_object_foreach((json_t *)alerts, k2, al2) if (json_object_get(json_object_get(al2, "relatedTo"), k))
            referenced = 1;
        if (!uid && referenced)
            ical_comp_add_prop(v, "UID", k);
        if (uid ? strcmp(uid, k) : !referenced)
            ical_comp_add_prop(v, "JSID", k);
        const char *action = jstr(al, "action");
        int kept_action = 0;
        size_t ki;
        json_t *ke;
        json_array_foreach(json_object_get(json_object_get(al, "iCalendar"), "properties"), ki, ke)
            kept_action |= !strcmp(json_string_value(json_array_get(ke, 0)) ?: "", "action");
        if (kept_action && !action)
            action = "x-kept"; /* e.g. AUDIO, restored from iCalendar/properties */
        if (!action || !strcmp(action, "display") || !strcmp(action, "email")) {
            char *u = jscal_strupper(action ? action : "display");
            ical_comp_add_prop(v, "ACTION", u);
            free(u);
        }
        json_t *t = json_object_get(al, "trigger");
        const char *tt = jstr(t, "@type");
        if (t && (!tt || !strcmp(tt, "OffsetTrigger"))) {
            const char *off = jstr(t, "offset");
            jscal_dur d;
            if (!off || jscal_dur_parse(off, 1, &d)) {
                char *p2 = jscal_strdupf("%s/trigger/offset", path);
                ofail(o, p2, "not a SignedDuration");
                free(p2);
            } else {
                ical_prop *p = ical_comp_add_prop(v, "TRIGGER", off);
                const char *rel = jstr(t, "relativeTo");
                if (rel && !strcmp(rel, "end"))
                    ical_prop_add_param(p, "RELATED", "END");
                apply_cp(&sub, p, "trigger");
            }
        } else if (t && !strcmp(tt, "AbsoluteTrigger")) {
            char *p2 = jscal_strdupf("%s/trigger/when", path);
            if (!add_utc(&sub, v, "TRIGGER", jstr(t, "when"), p2))
                ical_prop_add_param(&v->props[v->nprops - 1], "VALUE", "DATE-TIME");
            else if (!o->err)
                o->err = sub.err, sub.err = NULL;
            free(p2);
        }
        if (jstr(al, "acknowledged"))
            add_utc(&sub, v, "ACKNOWLEDGED", jstr(al, "acknowledged"), path);
        json_object_foreach(json_object_get(al, "relatedTo"), k2, al2)
        {
            json_t *target = json_object_get(alerts, k2);
            const char *tuid = target ? preserved_uid(target) : NULL;
            ical_prop *p = ical_comp_add_prop(v, "RELATED-TO", tuid ? tuid : k2);
            const char *rk;
            json_t *rv;
            json_object_foreach(json_object_get(al2, "relation"), rk, rv)
            {
                char *u = jscal_strupper(rk);
                ical_prop_add_param(p, "RELTYPE", u);
                free(u);
            }
        }
        restore_ical(&sub, v, al, path);
        int from_ical = json_object_get(al, "iCalendar") != NULL;
        if (!from_ical && !ical_comp_get_prop(v, "DESCRIPTION") &&
            (!action || !strcmp(action, "display") || !strcmp(action, "email"))) {
            /* RFC 5545 §3.6.6: DISPLAY and EMAIL alarms need a DESCRIPTION. */
            const char *title = jstr(obj, "title");
            add_text(v, "DESCRIPTION", title && *title ? title : "Reminder");
        }
        if (!from_ical && action && !strcmp(action, "email") && !ical_comp_get_prop(v, "SUMMARY")) {
            const char *title = jstr(obj, "title");
            add_text(v, "SUMMARY", title && *title ? title : "Reminder");
        }
        static const char *const known[] = {"trigger", "acknowledged", "relatedTo", NULL};
        static const char *const known_act[] = {"trigger", "acknowledged", "relatedTo", "action",
                                                NULL};
        add_jsprops(v, al, NULL,
                    (!action || !strcmp(action, "display") || !strcmp(action, "email")) ? known_act
                                                                                         : known);
        if (tt && strcmp(tt, "OffsetTrigger") && strcmp(tt, "AbsoluteTrigger")) {
            /* UnknownTrigger: preserved as JSPROP, MUST NOT be lost (jscalendarbis §4.5.1) */
            char *val = json_dumps(t, JSON_COMPACT);
            ical_prop *p = add_text(v, "JSPROP", val);
            ical_prop_add_param(p, "JSPTR", "trigger");
            free(val);
        }
        if (sub.err && !o->err)
            o->err = sub.err;
        else
            free(sub.err);
        ical_comp_add_comp(c, v);
        free(path);
    }
    return o->err ? -1 : 0;
}

/* ---- Event and Task (§3.2) ------------------------------------------------------------ */

static int build_entry(out_ctx *o, const json_t *obj, ical_comp *out, int as_override,
                       const char *rid);

static void add_set_prop(ical_comp *c, const char *name, const json_t *set, int text)
{
    if (!json_object_size(set))
        return;
    jscal_buf b = {0};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)set, k, v)
    {
        if (b.len)
            jscal_buf_adds(&b, ",");
        char *e = text ? ical_text_escape(k) : strdup(k);
        jscal_buf_adds(&b, e);
        free(e);
    }
    ical_comp_add_prop(c, name, b.s);
    free(b.s);
}

static int add_overrides(out_ctx *o, ical_comp *vcal_like, ical_comp *c, const json_t *obj)
{
    const json_t *ovs = json_object_get(obj, "recurrenceOverrides");
    const char *k;
    json_t *patch;
    json_object_foreach((json_t *)ovs, k, patch)
    {
        char *path = path2("recurrenceOverrides", k);
        if (!json_is_object(patch)) {
            ofail(o, path, "not a PatchObject");
            free(path);
            return -1;
        }
        jscal_ldt t;
        if (jscal_ldt_parse(k, &t)) {
            ofail(o, path, "key is not a LocalDateTime");
            free(path);
            return -1;
        }
        json_t *ex = json_object_get(patch, "excluded");
        const char *pn = cp_name(o, path);
        if (json_is_true(ex) && json_object_size(patch) == 1) {
            add_dt(o, c, "EXDATE", k, path);
        } else if (json_object_size(patch) == 0) {
            add_dt(o, c, "RDATE", k, path);
        } else if (pn && !strcasecmp(pn, "rdate") && json_object_size(patch) == 1 &&
                   jstr(patch, "duration")) {
            add_dt(o, c, "RDATE", k, path);
            ical_prop *p = &c->props[c->nprops - 1];
            char *v = jscal_strdupf("%s/%s", p->value, jstr(patch, "duration"));
            free(p->value);
            p->value = v;
            ical_prop_del_param(p, "VALUE");
            ical_prop_add_param(p, "VALUE", "PERIOD");
        } else {
            /* A recurrence override component (§2.1.2). An id the rule does not generate
             * is an extra occurrence and needs an RDATE as well. */
            if (!recur_rule_generates(obj, k))
                add_dt(o, c, "RDATE", k, path);
            json_t *inst = json_deep_copy(obj);
            json_object_del(inst, "recurrenceOverrides");
            json_object_del(inst, "recurrenceRule");
            if (json_object_get(inst, "start") || !json_object_get(inst, "due"))
                json_object_set_new(inst, "start", json_string(k));
            else
                json_object_set_new(inst, "due", json_string(k));
            json_t *p2 = json_deep_copy(patch);
            static const char *const ign[] = {"@type", "method", "organizerCalendarAddress",
                                              "privacy", "prodId", "recurrenceId",
                                              "recurrenceIdTimeZone", "recurrenceOverrides",
                                              "recurrenceRule", "relatedTo", "uid", NULL};
            const char *pk;
            json_t *pv;
            void *tmp;
            json_object_foreach_safe(p2, tmp, pk, pv)
            {
                (void)pv;
                for (const char *const *s = ign; *s; s++) {
                    size_t n = strlen(*s);
                    if (!strncmp(pk, *s, n) && (pk[n] == 0 || pk[n] == '/')) {
                        json_object_del(p2, pk);
                        break;
                    }
                }
            }
            char *perr = NULL;
            if (jscal_patch_apply(inst, p2, &perr)) {
                char *ep = jscal_strdupf("%s/%s", path, perr ? perr : "");
                ofail(o, ep, "invalid patch");
                free(ep);
                free(perr);
                json_decref(p2);
                json_decref(inst);
                free(path);
                return -1;
            }
            json_decref(p2);
            ical_comp *oc = ical_comp_new(!strcmp(c->name, "VTODO") ? "VTODO" : "VEVENT");
            out_ctx sub = *o;
            sub.err = NULL;
            int rc = build_entry(&sub, inst, oc, 1, k);
            json_decref(inst);
            if (rc) {
                o->err = sub.err ? jscal_strdupf("%s/%s", path, sub.err) : NULL;
                free(sub.err);
                ical_comp_free(oc);
                free(path);
                return -1;
            }
            ical_comp_add_comp(vcal_like, oc);
        }
        free(path);
    }
    return o->err ? -1 : 0;
}

/* Builds the component for obj into out. With as_override, rid is the RECURRENCE-ID in the
 * object's zone and no recurrence properties are written. */
static int build_entry(out_ctx *o, const json_t *obj, ical_comp *out, int as_override,
                       const char *rid)
{
    const char *type = jstr(obj, "@type");
    int is_task = type && !strcmp(type, "Task");
    o->obj = obj;
    o->cp = json_object_get(json_object_get(obj, "iCalendar"), "convertedProperties");
    o->tz = jstr(obj, "timeZone");
    o->form = choose_form(obj);
    if (o->tz && o->form == 1 && !tz_builtin(o->tz) &&
        !jscal_timezone_known(o->tz, obj))
        return ofail(o, "timeZone", "unknown time zone");
    const char *uid = jstr(obj, "uid");
    if (!uid)
        return ofail(o, "uid", "missing");
    add_text(out, "UID", uid);
    const char *updated = jstr(obj, "updated");
    if (updated) {
        if (add_utc(o, out, "DTSTAMP", updated, "updated"))
            return -1;
    } else {
        char buf[24];
        recur_format_utc((int64_t)time(NULL), buf);
        add_utc(o, out, "DTSTAMP", buf, "updated");
    }
    if (jstr(obj, "created") && add_utc(o, out, "CREATED", jstr(obj, "created"), "created"))
        return -1;
    json_t *v;
    char tmp[64];
    if ((v = json_object_get(obj, "sequence")) && json_is_integer(v)) {
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
        ical_comp_add_prop(out, "SEQUENCE", tmp);
    }
    const char *locale = jstr(obj, "locale");
    const char *title = jstr(obj, "title");
    if (title && *title) {
        ical_prop *p = add_text(out, "SUMMARY", title);
        if (locale)
            ical_prop_add_param(p, "LANGUAGE", locale);
        apply_cp(o, p, "title");
    }
    const char *desc = jstr(obj, "description"), *dct = jstr(obj, "descriptionContentType");
    if (desc) {
        int styled = dct && strcasecmp(dct, "text/plain");
        ical_prop *p = add_text(out, styled ? "STYLED-DESCRIPTION" : "DESCRIPTION", desc);
        if (styled)
            ical_prop_add_param(p, "FMTTYPE", dct);
        if (locale && !(title && *title))
            ical_prop_add_param(p, "LANGUAGE", locale);
        apply_cp(o, p, "description");
    }
    /* Dates */
    if (jstr(obj, "start") && add_dt(o, out, "DTSTART", jstr(obj, "start"), "start"))
        return -1;
    if (is_task && jstr(obj, "due") && add_dt(o, out, "DUE", jstr(obj, "due"), "due"))
        return -1;
    const char *dur = jstr(obj, "duration");
    if (dur) {
        jscal_dur d;
        if (jscal_dur_parse(dur, 0, &d))
            return ofail(o, "duration", "not a Duration");
        const char *etz = jstr(obj, "endTimeZone");
        const char *how = cp_name(o, "duration");
        if (!is_task && jstr(obj, "start") && ((etz && o->tz) || (how && !strcasecmp(how, "dtend")))) {
            /* DTEND = start + duration (jscalendarbis §1.4.6), in endTimeZone if set. */
            jscal_ldt st;
            if (jscal_ldt_parse(jstr(obj, "start"), &st))
                return ofail(o, "start", "not a LocalDateTime");
            int64_t local = jscal_ldt_to_secs(&st) + (d.weeks * 7 + d.days) * 86400;
            int64_t secs = d.hours * 3600 + d.minutes * 60 + d.seconds;
            icaltimezone *zo = NULL, *ezo = NULL;
            int known = 1, eknown = 1;
            icaltimezone *z = o->tz ? recur_zone_lookup(obj, o->tz, &zo, &known) : NULL;
            (void)known;
            ical_dt e = {.is_date = o->form == 0};
            const char *endtz = etz ? etz : o->tz;
            if (o->form == 0 || !o->tz) {
                jscal_secs_to_ldt(local + secs, &e.t);
            } else {
                int64_t utc = tz_local_to_utc(z, local) + secs;
                icaltimezone *ez = recur_zone_lookup(obj, endtz, &ezo, &eknown);
                if (eknown)
                    jscal_secs_to_ldt(tz_utc_to_local(ez, utc), &e.t);
                e.is_utc = !strcmp(endtz, "Etc/UTC") && (etz || o->form == 2);
            }
            if (zo)
                icaltimezone_free(zo, 1);
            if (ezo)
                icaltimezone_free(ezo, 1);
            if (!eknown)
                return ofail(o, "endTimeZone", "unknown time zone");
            ical_dt_format(&e, tmp);
            ical_prop *p = ical_comp_add_prop(out, "DTEND", tmp);
            if (e.is_date)
                ical_prop_add_param(p, "VALUE", "DATE");
            else if (!e.is_utc && o->tz) {
                ical_prop_add_param(p, "TZID", endtz);
                add_zone(o->w, endtz);
            }
            apply_cp(o, p, "duration");
        } else if (!(o->form == 0 && !strcmp(dur, "P1D") && !is_task) || as_override) {
            ical_comp_add_prop(out, "DURATION", dur);
        } else {
            ical_comp_add_prop(out, "DURATION", dur);
        }
    }
    if (as_override) {
        const char *ridtz = o->tz;
        ical_dt d;
        if (jscal_ldt_parse(rid, &d.t))
            return ofail(o, "recurrenceId", "not a LocalDateTime");
        d.is_date = o->form == 0;
        d.is_utc = o->form == 2;
        ical_dt_format(&d, tmp);
        ical_prop *p = ical_comp_add_prop(out, "RECURRENCE-ID", tmp);
        if (d.is_date)
            ical_prop_add_param(p, "VALUE", "DATE");
        else if (!d.is_utc && ridtz)
            ical_prop_add_param(p, "TZID", ridtz);
    } else if (jstr(obj, "recurrenceId")) {
        const char *ridtz = jstr(obj, "recurrenceIdTimeZone");
        ical_dt d;
        if (jscal_ldt_parse(jstr(obj, "recurrenceId"), &d.t))
            return ofail(o, "recurrenceId", "not a LocalDateTime");
        d.is_date = o->form == 0;
        d.is_utc = ridtz && !strcmp(ridtz, "Etc/UTC");
        ical_dt_format(&d, tmp);
        ical_prop *p = ical_comp_add_prop(out, "RECURRENCE-ID", tmp);
        if (d.is_date)
            ical_prop_add_param(p, "VALUE", "DATE");
        else if (!d.is_utc && ridtz) {
            ical_prop_add_param(p, "TZID", ridtz);
            add_zone(o->w, ridtz);
        }
        apply_cp(o, p, "recurrenceId");
    }
    if (!as_override && json_object_get(obj, "recurrenceRule") &&
        !json_is_null(json_object_get(obj, "recurrenceRule")) &&
        add_rrule(o, out, json_object_get(obj, "recurrenceRule")))
        return -1;
    /* Status, transparency, class, priority */
    const char *st = jstr(obj, is_task ? "progress" : "status");
    if (st) {
        char *u = jscal_strupper(st);
        ical_comp_add_prop(out, "STATUS", u);
        free(u);
    }
    const char *fb = jstr(obj, "freeBusyStatus");
    if (fb && (!strcmp(fb, "free") || !strcmp(fb, "busy")))
        ical_comp_add_prop(out, "TRANSP", !strcmp(fb, "free") ? "TRANSPARENT" : "OPAQUE");
    const char *priv = jstr(obj, "privacy");
    if (priv && (!strcmp(priv, "public") || !strcmp(priv, "private") || !strcmp(priv, "secret")))
        ical_comp_add_prop(out, "CLASS", !strcmp(priv, "public")    ? "PUBLIC"
                                         : !strcmp(priv, "private") ? "PRIVATE"
                                                                    : "CONFIDENTIAL");
    if ((v = json_object_get(obj, "priority")) && json_is_integer(v)) {
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
        ical_comp_add_prop(out, "PRIORITY", tmp);
    }
    if (jstr(obj, "color"))
        add_text(out, "COLOR", jstr(obj, "color"));
    add_set_prop(out, "CATEGORIES", json_object_get(obj, "keywords"), 1);
    {
        const char *k;
        json_object_foreach(json_object_get(obj, "categories"), k, v)
            ical_comp_add_prop(out, "CONCEPT", k);
    }
    if (json_is_true(json_object_get(obj, "showWithoutTime")) && o->form != 0) {
        ical_prop *p = ical_comp_add_prop(out, "SHOW-WITHOUT-TIME", "TRUE");
        ical_prop_add_param(p, "VALUE", "BOOLEAN");
    }
    if (is_task) {
        if ((v = json_object_get(obj, "percentComplete")) && json_is_integer(v)) {
            snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
            ical_comp_add_prop(out, "PERCENT-COMPLETE", tmp);
        }
        if (jstr(obj, "estimatedDuration"))
            ical_comp_add_prop(out, "ESTIMATED-DURATION", jstr(obj, "estimatedDuration"));
    }
    {
        const char *k;
        json_object_foreach(json_object_get(obj, "relatedTo"), k, v)
        {
            ical_prop *p = add_text(out, "RELATED-TO", k);
            const char *rk;
            json_t *rv;
            json_object_foreach(json_object_get(v, "relation"), rk, rv)
            {
                char *u = jscal_strupper(rk);
                ical_prop_add_param(p, "RELTYPE", u);
                free(u);
            }
            char *path = path2("relatedTo", k);
            apply_cp(o, p, path);
            free(path);
        }
    }
    add_locations(o, out, obj);
    add_virtual_locations(o, out, json_object_get(obj, "virtualLocations"));
    add_links(o, out, json_object_get(obj, "links"), "links");
    add_participants(o, out, obj, is_task);
    if (add_alerts(o, out, obj))
        return -1;
    if (restore_ical(o, out, obj, ""))
        return -1;
    static const char *const known[] = {
        "uid", "updated", "created", "sequence", "title", "description",
        "descriptionContentType", "locale", "start", "due", "duration", "endTimeZone",
        "timeZone", "recurrenceId", "recurrenceIdTimeZone", "recurrenceRule",
        "recurrenceOverrides", "status", "progress", "freeBusyStatus", "privacy", "priority",
        "color", "keywords", "categories", "showWithoutTime", "percentComplete",
        "estimatedDuration", "relatedTo", "locations", "mainLocationId", "virtualLocations",
        "links", "participants", "organizerCalendarAddress", "sentBy", "alerts", "method",
        "prodId", NULL};
    add_jsprops(out, obj, NULL, known);
    if (!is_task && jstr(obj, "progress")) {
        /* progress is Task-only; keep it anyway */
    }
    if (is_task && jstr(obj, "status")) {
        char *val = json_dumps(json_object_get(obj, "status"), JSON_ENCODE_ANY);
        ical_prop *p = add_text(out, "JSPROP", val);
        ical_prop_add_param(p, "JSPTR", "status");
        free(val);
    }
    return o->err ? -1 : 0;
}

/* ---- writer --------------------------------------------------------------------------- */

ical_writer *ical_writer_new(const char *prodid, const char *method)
{
    tz_init();
    ical_writer *w = calloc(1, sizeof *w);
    w->prodid = prodid ? strdup(prodid) : NULL;
    w->method = method ? strdup(method) : NULL;
    return w;
}

char *ical_writer_begin(ical_writer *w)
{
    jscal_buf b = {0};
    jscal_buf_adds(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
    ical_prop p = {.name = "PRODID"};
    char *e = ical_text_escape(w->prodid ? w->prodid : JSCAL_DEFAULT_PRODID);
    p.value = e;
    ical_prop_write(&p, &b);
    free(e);
    if (w->method) {
        char *u = jscal_strupper(w->method);
        ical_prop m = {.name = "METHOD", .value = u};
        ical_prop_write(&m, &b);
        free(u);
    }
    return jscal_buf_take(&b);
}

static char *entry_text(ical_writer *w, const json_t *obj, char **err)
{
    out_ctx o;
    memset(&o, 0, sizeof o);
    o.w = w;
    const char *type = jstr(obj, "@type");
    if (!json_is_object(obj) || !type || (strcmp(type, "Event") && strcmp(type, "Task"))) {
        *err = strdup("@type: not an Event or Task");
        return NULL;
    }
    ical_comp *holder = ical_comp_new("X-HOLDER");
    ical_comp *c = ical_comp_new(!strcmp(type, "Task") ? "VTODO" : "VEVENT");
    ical_comp_add_comp(holder, c);
    if (build_entry(&o, obj, c, 0, NULL) || add_overrides(&o, holder, c, obj)) {
        *err = o.err ? o.err : strdup("conversion failed");
        ical_comp_free(holder);
        return NULL;
    }
    jscal_buf b = {0};
    for (size_t i = 0; i < holder->ncomps; i++)
        ical_comp_write(holder->comps[i], &b);
    ical_comp_free(holder);
    return jscal_buf_take(&b);
}

char *ical_writer_add(ical_writer *w, const json_t *obj, char **err)
{
    *err = NULL;
    const char *type = jstr(obj, "@type");
    if (type && !strcmp(type, "Group")) {
        jscal_buf b = {0};
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(obj, "entries"), i, e)
        {
            const char *t = jstr(e, "@type");
            if (!t || (strcmp(t, "Event") && strcmp(t, "Task")))
                continue; /* jscalendarbis §5.3.1: ignore entries of unknown type */
            char *s = entry_text(w, e, err);
            if (!s) {
                char *m = jscal_strdupf("entries/%zu/%s", i, *err);
                free(*err);
                *err = m;
                free(b.s);
                return NULL;
            }
            jscal_buf_adds(&b, s);
            free(s);
        }
        return jscal_buf_take(&b);
    }
    return entry_text(w, obj, err);
}

char *ical_writer_end(ical_writer *w)
{
    jscal_buf b = {0};
    for (size_t i = 0; i < w->nzones; i++) {
        int custom = 0;
        for (size_t k = 0; k < w->ncustom; k++) {
            ical_prop *t = ical_comp_get_prop(w->custom[k], "TZID");
            if (t && !strcmp(t->value, w->zones[i])) {
                ical_comp_write(w->custom[k], &b);
                custom = 1;
            }
        }
        if (custom)
            continue;
        icaltimezone *z = tz_builtin(w->zones[i]);
        if (!z)
            continue;
        if (z == icaltimezone_get_utc_timezone()) {
            jscal_buf_adds(&b, "BEGIN:VTIMEZONE\r\nTZID:");
            jscal_buf_adds(&b, w->zones[i]);
            jscal_buf_adds(&b, "\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:"
                               "+0000\r\nTZOFFSETTO:+0000\r\nTZNAME:UTC\r\nEND:STANDARD\r\n"
                               "END:VTIMEZONE\r\n");
            continue;
        }
        icalcomponent *vc = icaltimezone_get_component(z);
        if (!vc)
            continue;
        char *s = icalcomponent_as_ical_string_r(vc);
        /* Reparse through our own layer so TZID is the IANA id and output is uniform. */
        ical_comp **tops = NULL;
        char *perr = NULL;
        int n = s ? ical_parse(s, strlen(s), &tops, &perr) : -1;
        free(s);
        free(perr);
        if (n == 1) {
            ical_prop *t = ical_comp_get_prop(tops[0], "TZID");
            if (t) {
                free(t->value);
                t->value = strdup(w->zones[i]);
            }
            ical_comp_write(tops[0], &b);
        }
        for (int k = 0; k < n; k++)
            ical_comp_free(tops[k]);
        free(tops);
    }
    jscal_buf_adds(&b, "END:VCALENDAR\r\n");
    return jscal_buf_take(&b);
}

void ical_writer_free(ical_writer *w)
{
    if (!w)
        return;
    free(w->prodid);
    free(w->method);
    for (size_t i = 0; i < w->nzones; i++)
        free(w->zones[i]);
    free(w->zones);
    for (size_t i = 0; i < w->ncustom; i++)
        ical_comp_free(w->custom[i]);
    free(w->custom);
    free(w);
}

/* Group-level properties (§3.3) go right after the VCALENDAR header. */
static int group_props(ical_writer *w, const json_t *g, jscal_buf *b, char **err)
{
    ical_comp *c = ical_comp_new("X-HOLDER");
    out_ctx o;
    memset(&o, 0, sizeof o);
    o.w = w;
    o.cp = json_object_get(json_object_get(g, "iCalendar"), "convertedProperties");
    if (jstr(g, "uid"))
        add_text(c, "UID", jstr(g, "uid"));
    if (jstr(g, "title")) {
        ical_prop *p = add_text(c, "NAME", jstr(g, "title"));
        if (jstr(g, "locale"))
            ical_prop_add_param(p, "LANGUAGE", jstr(g, "locale"));
    }
    if (jstr(g, "description")) {
        ical_prop *p = add_text(c, "DESCRIPTION", jstr(g, "description"));
        apply_cp(&o, p, "description");
    }
    if (jstr(g, "color"))
        add_text(c, "COLOR", jstr(g, "color"));
    add_set_prop(c, "CATEGORIES", json_object_get(g, "keywords"), 1);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(g, "categories"), k, v) ical_comp_add_prop(c, "CONCEPT", k);
    if (jstr(g, "created"))
        add_utc(&o, c, "CREATED", jstr(g, "created"), "created");
    if (jstr(g, "updated"))
        add_utc(&o, c, "LAST-MODIFIED", jstr(g, "updated"), "updated");
    if (jstr(g, "source")) {
        ical_prop *p = ical_comp_add_prop(c, "SOURCE", jstr(g, "source"));
        ical_prop_add_param(p, "VALUE", "URI");
    }
    add_links(&o, c, json_object_get(g, "links"), "links");
    restore_ical(&o, c, g, "");
    static const char *const known[] = {"uid", "title", "locale", "description", "color",
                                        "keywords", "categories", "created", "updated", "source",
                                        "links", "entries", "prodId", NULL};
    add_jsprops(c, g, NULL, known);
    for (size_t i = 0; i < c->nprops; i++)
        ical_prop_write(&c->props[i], b);
    for (size_t i = 0; i < c->ncomps; i++)
        ical_comp_write(c->comps[i], b);
    ical_comp_free(c);
    if (o.err) {
        *err = o.err;
        return -1;
    }
    return 0;
}

char *jscal_to_ical(const json_t *obj, char **err)
{
    *err = NULL;
    const json_t *first = json_is_array(obj) ? json_array_get(obj, 0) : obj;
    if (!json_is_object(first)) {
        *err = strdup("@type: expected a JSCalendar object");
        return NULL;
    }
    /* PRODID and METHOD: from the Group, else from the entries (§3.3 remarks). */
    const char *prodid = jstr(first, "prodId"), *method = jstr(first, "method");
    const json_t *e0 = json_array_get(json_object_get(first, "entries"), 0);
    if (!method && e0)
        method = jstr(e0, "method");
    if (!prodid && e0)
        prodid = jstr(e0, "prodId");
    ical_writer *w = ical_writer_new(prodid, method);
    jscal_buf b = {0};
    char *s = ical_writer_begin(w);
    jscal_buf_adds(&b, s);
    free(s);
    const char *type = jstr(first, "@type");
    if (!json_is_array(obj) && type && !strcmp(type, "Group") && group_props(w, obj, &b, err))
        goto fail;
    if (json_is_array(obj)) {
        size_t i;
        json_t *e;
        json_array_foreach(obj, i, e)
        {
            s = ical_writer_add(w, e, err);
            if (!s) {
                char *m = jscal_strdupf("%zu/%s", i, *err);
                free(*err);
                *err = m;
                goto fail;
            }
            jscal_buf_adds(&b, s);
            free(s);
        }
    } else {
        s = ical_writer_add(w, obj, err);
        if (!s)
            goto fail;
        jscal_buf_adds(&b, s);
        free(s);
    }
    s = ical_writer_end(w);
    jscal_buf_adds(&b, s);
    free(s);
    ical_writer_free(w);
    return jscal_buf_take(&b);
fail:
    free(b.s);
    ical_writer_free(w);
    return NULL;
}
