/*
 * jscal_to_ical_parts.c — JSCalendar -> iCalendar building blocks (draft-ietf-calext-
 * jscalendar-icalendar-25 §3): output context, JSPROP and the "iCalendar" property, date-time
 * forms (§3.2), RRULE, Link (§3.4), Location (§3.5), VirtualLocation (§3.7), Participant
 * (§3.6) and Alert (§3.1). jscal_to_ical.c assembles components and calendars from them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "formats/icalendar_jscalendar/ical.h"
#include "formats/icalendar/ical_internal.h"
#include "formats/jscalendar/jscal.h"
#include "formats/recurrence/recur.h"
#include "formats/timezone/tz.h"
#include "formats/icalendar_jscalendar/jscal_conv.h"

int j2i_ofail(out_ctx *o, const char *path, const char *msg)
{
    if (!o->err)
        o->err = jscal_strdupf("%s: %s", path, msg);
    return -1;
}

const char *j2i_jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

void j2i_add_zone(ical_writer *w, const char *tz, int year)
{
    for (size_t i = 0; i < w->nzones; i++)
        if (!strcmp(w->zones[i], tz)) {
            if (year < w->zone_from[i])
                w->zone_from[i] = year;
            return;
        }
    w->zones = realloc(w->zones, (w->nzones + 1) * sizeof *w->zones);
    w->zone_from = realloc(w->zone_from, (w->nzones + 1) * sizeof *w->zone_from);
    if (!w->zones || !w->zone_from)
        abort();
    w->zone_from[w->nzones] = year;
    w->zones[w->nzones++] = strdup(tz);
}

/* Parameters recorded for the element at path (convertedProperties, §5.1.1). */
void j2i_apply_cp(out_ctx *o, ical_prop *p, const char *path)
{
    json_t *e = json_object_get(o->cp, path);
    if (e)
        ical_params_from_json(p, json_object_get(e, "parameters"));
}

/* The property name recorded for the element at path, if it is an iCalendar name
 * (RFC 5545 §3.1; the validator refuses others, issue 19 §5). */
const char *j2i_cp_name(out_ctx *o, const char *path)
{
    const char *name = j2i_jstr(json_object_get(o->cp, path), "name");
    return ical_name_valid(name) ? name : NULL;
}

char *j2i_path2(const char *a, const char *key)
{
    char *e = jptr_token_escape(key);
    char *r = jscal_strdupf("%s/%s", a, e);
    free(e);
    return r;
}

ical_prop *j2i_add_text(ical_comp *c, const char *name, const char *text)
{
    char *e = ical_text_escape(text);
    ical_prop *p = ical_comp_add_prop(c, name, e);
    free(e);
    return p;
}

/* JSPROP for each member of obj not in known (§4.1.2), pointer prefixed with prefix. */
void j2i_add_jsprops(ical_comp *c, const json_t *obj, const char *prefix,
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
        char *ptr = prefix ? j2i_path2(prefix, k) : jptr_token_escape(k);
        ical_prop *p = j2i_add_text(c, "JSPROP", val ? val : "null");
        ical_prop_add_param(p, "JSPTR", ptr);
        jwriter_text_free(val);
        free(ptr);
    }
}

/* Restores iCalendar/properties and iCalendar/components of obj into c. */
int j2i_restore_ical(out_ctx *o, ical_comp *c, const json_t *obj, const char *path)
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
            j2i_ofail(o, p, err);
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
            j2i_ofail(o, p, err);
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
int j2i_add_dt(out_ctx *o, ical_comp *c, const char *name, const char *ldt, const char *path)
{
    jscal_ldt t;
    if (!ldt || jscal_ldt_parse(ldt, &t))
        return j2i_ofail(o, path, "not a LocalDateTime");
    ical_dt d = {.t = t, .is_date = o->form == 0, .is_utc = o->form == 2};
    char buf[20];
    ical_dt_format(&d, buf);
    ical_prop *p = ical_comp_add_prop(c, name, buf);
    if (o->form == 0)
        ical_prop_add_param(p, "VALUE", "DATE");
    else if (o->form == 1 && o->tz) {
        ical_prop_add_param(p, "TZID", o->tz);
        j2i_add_zone(o->w, o->tz, t.year);
    }
    j2i_apply_cp(o, p, path);
    return 0;
}

int j2i_add_utc(out_ctx *o, ical_comp *c, const char *name, const char *utc, const char *path)
{
    jscal_ldt t;
    if (!utc || jscal_utc_parse(utc, &t))
        return j2i_ofail(o, path, "not a UTCDateTime");
    ical_dt d = {.t = t, .is_utc = 1};
    char buf[20];
    ical_dt_format(&d, buf);
    ical_comp_add_prop(c, name, buf);
    return 0;
}

int j2i_zero_time(const char *ldt)
{
    return ldt && strlen(ldt) == 19 && !strcmp(ldt + 10, "T00:00:00");
}

int j2i_dur_has_time(const char *s)
{
    return s && strchr(s, 'T') != NULL;
}

/* Whether the reader noted start as a DATE-TIME (ical_to_jscal.c settle_start_note). */
static int start_noted_date_time(const json_t *obj)
{
    json_t *cp = json_object_get(json_object_get(obj, "iCalendar"), "convertedProperties");
    const char *vt = j2i_jstr(json_object_get(cp, "start"), "valueType");
    return vt && !strcasecmp(vt, "date-time");
}

/* §3.2: DATE iff showWithoutTime, no timeZone, and every time of day is zero; not for a
 * start the reader noted as a DATE-TIME. */
int j2i_choose_form(const json_t *obj)
{
    const char *tz = j2i_jstr(obj, "timeZone");
    if (json_is_true(json_object_get(obj, "showWithoutTime")) && !tz) {
        int ok = 1;
        const char *keys[] = {"start", "due", "recurrenceId", NULL};
        for (int i = 0; keys[i]; i++)
            if (json_object_get(obj, keys[i]) && !j2i_zero_time(j2i_jstr(obj, keys[i])))
                ok = 0;
        if (j2i_dur_has_time(j2i_jstr(obj, "duration")) ||
            j2i_dur_has_time(j2i_jstr(obj, "estimatedDuration")) || start_noted_date_time(obj))
            ok = 0;
        json_t *until = json_object_get(json_object_get(obj, "recurrenceRule"), "until");
        if (until && !j2i_zero_time(json_string_value(until)))
            ok = 0;
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(obj, "recurrenceOverrides"), k, v)
        {
            (void)v;
            if (!j2i_zero_time(k))
                ok = 0;
        }
        if (ok)
            return 0;
    }
    if (tz && !strcmp(tz, "Etc/UTC") && !json_object_get(obj, "endTimeZone"))
        return 2;
    return 1;
}

/* draft -25 §2.3.13/§2.3.41: a text/plain (or untyped) description is DESCRIPTION, any
 * other STYLED-DESCRIPTION with VALUE=TEXT (RFC 9073 §6.5 gives the property no default
 * value type) and FMTTYPE, as the draft's example writes it. An untyped one read from a
 * STYLED-DESCRIPTION without FMTTYPE (o's convertedProperties name it) is written back as
 * it was: as DESCRIPTION it read back without that note. */
ical_prop *j2i_add_description(out_ctx *o, ical_comp *c, const char *desc, const char *content_type)
{
    int styled = content_type && strcasecmp(content_type, "text/plain");
    const char *was = content_type ? NULL : j2i_cp_name(o, "description");
    if (was && !strcasecmp(was, "STYLED-DESCRIPTION"))
        return j2i_add_text(c, "STYLED-DESCRIPTION", desc);
    ical_prop *p = j2i_add_text(c, styled ? "STYLED-DESCRIPTION" : "DESCRIPTION", desc);
    if (styled) {
        ical_prop_add_param(p, "VALUE", "TEXT");
        ical_prop_add_param(p, "FMTTYPE", content_type);
    }
    return p;
}

/* ---- recurrence rule (§2.3.36) -------------------------------------------------------- */

int j2i_add_rrule(out_ctx *o, ical_comp *c, const json_t *r)
{
    if (!json_is_object(r))
        return j2i_ofail(o, "recurrenceRule", "not an object");
    if (!j2i_jstr(r, "frequency"))
        return j2i_ofail(o, "recurrenceRule/frequency", "missing");
    char until[24];
    json_t *v = json_object_get(r, "until");
    if (v) {
        jscal_ldt t;
        if (!json_is_string(v) || jscal_ldt_parse(json_string_value(v), &t))
            return j2i_ofail(o, "recurrenceRule/until", "not a LocalDateTime");
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
        ical_dt_format(&d, until);
    }
    char *text = jscal_rrule_text(r, v ? until : NULL, 0);
    ical_prop *p = ical_comp_add_prop(c, "RRULE", text);
    free(text);
    j2i_apply_cp(o, p, "recurrenceRule");
    static const char *const known[] = {"frequency", "until", "count", "interval", "bySecond",
                                        "byMinute", "byHour", "byDay", "byMonthDay", "byYearDay",
                                        "byWeekNo", "byMonth", "bySetPosition", "firstDayOfWeek",
                                        "rscale", "skip", NULL};
    j2i_add_jsprops(c, r, "recurrenceRule", known);
    return 0;
}

/* ---- links (§3.4) --------------------------------------------------------------------- */

void j2i_add_links(out_ctx *o, ical_comp *c, const json_t *links, const char *prefix)
{
    const char *k;
    json_t *l;
    int have_url = ical_comp_get_prop(c, "URL") != NULL;
    /* Links noted as a later URL come after the others: the reader takes the first URL as
     * the one without a note (issue 12 §3.4) */
    for (int pass = 0; pass < 2; pass++)
        json_object_foreach((json_t *)links, k, l)
        {
            const char *href = j2i_jstr(l, "href");
            if (!href)
                continue;
            const char *rel = j2i_jstr(l, "rel");
            char *path = j2i_path2(prefix ? prefix : "links", k);
            const char *name = j2i_cp_name(o, path);
            if ((name && !strcasecmp(name, "url")) != pass) {
                free(path);
                continue;
            }
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
            const char *ct = j2i_jstr(l, "contentType");
            if (ct)
                ical_prop_add_param(p, "FMTTYPE", ct);
            if (rel && !strcmp(uname, "LINK"))
                ical_prop_add_param(p, "LINKREL", rel);
            const char *title = j2i_jstr(l, "title");
            if (title)
                ical_prop_add_param(
                    p, !strcmp(uname, "LINK") || !strcmp(uname, "URL") ? "LABEL" : "FILENAME",
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
            j2i_apply_cp(o, p, path);
            static const char *const known[] = {"href", "rel",     "contentType", "title",
                                                "size", "display", NULL};
            j2i_add_jsprops(c, l, path, known);
            free(uname);
            free(path);
        }
}

/* ---- locations (§3.5) and virtual locations (§3.7) ------------------------------------ */

int j2i_geo_from_uri(const char *uri, char *out, size_t n)
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
    char a[32], b[32];
    jscal_format_double(a, sizeof a, lat);
    jscal_format_double(b, sizeof b, lon);
    snprintf(out, n, "%s;%s", a, b);
    return 0;
}

const char *j2i_preserved_uid(const json_t *al)
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
int j2i_location_propable(out_ctx *o, const char *k, const json_t *l)
{
    const char *icname = j2i_jstr(json_object_get(l, "iCalendar"), "name");
    if (icname && !strcasecmp(icname, "vlocation"))
        return 0;
    if (json_object_get(l, "locationTypes") || json_object_get(l, "links"))
        return 0;
    const char *coords = j2i_jstr(l, "coordinates");
    char geo[80];
    if (coords && j2i_geo_from_uri(coords, geo, sizeof geo))
        return 0;
    (void)o;
    (void)k;
    return j2i_jstr(l, "name") || coords;
}

void j2i_add_vlocation(out_ctx *o, ical_comp *c, const char *k, const json_t *l,
                          const char *path)
{
    const char *name = j2i_jstr(l, "name"), *coords = j2i_jstr(l, "coordinates");
    json_t *ic = json_object_get(l, "iCalendar");
    char geo[80];
    ical_comp *v = ical_comp_new("VLOCATION");
    out_ctx sub = *o;
    sub.cp = json_object_get(ic, "convertedProperties");
    sub.err = NULL;
    const char *puid = j2i_preserved_uid(l);
    if (!puid || strcmp(puid, k))
        ical_comp_add_prop(v, "JSID", k);
    if (!puid)
        j2i_add_text(v, "UID", k);
    if (name)
        j2i_add_text(v, "NAME", name);
    if (coords) {
        if (j2i_cp_name(&sub, "coordinates") && !j2i_geo_from_uri(coords, geo, sizeof geo))
            ical_comp_add_prop(v, "GEO", geo);
        else {
            ical_prop *p = ical_comp_add_prop(v, "COORDINATES", coords);
            ical_prop_add_param(p, "VALUE", "URI");
        }
    }
    const char *tk;
    json_t *tv;
    jbuf types = {0};
    json_object_foreach(json_object_get(l, "locationTypes"), tk, tv)
    {
        char *e2 = ical_text_escape(tk);
        if (types.len)
            jbuf_adds(&types, ",");
        jbuf_adds(&types, e2);
        free(e2);
    }
    if (types.len)
        ical_comp_add_prop(v, "LOCATION-TYPE", types.s);
    free(types.s);
    j2i_add_links(&sub, v, json_object_get(l, "links"), "links");
    j2i_restore_ical(&sub, v, l, path);
    if (sub.err && !o->err)
        o->err = sub.err;
    else
        free(sub.err);
    static const char *const known[] = {"name", "coordinates", "locationTypes", "links", NULL};
    j2i_add_jsprops(v, l, NULL, known);
    ical_comp_add_comp(c, v);
}

void j2i_add_location_prop(out_ctx *o, ical_comp *c, const char *k, const json_t *l,
                              const char *path)
{
    const char *name = j2i_jstr(l, "name"), *coords = j2i_jstr(l, "coordinates");
    char u5[37], geo[80];
    char *cpath = jscal_strdupf("%s/coordinates", path);
    if (name) {
        ical_prop *p = j2i_add_text(c, "LOCATION", name);
        jscal_uuidv5(name, u5);
        if (strcmp(u5, k))
            ical_prop_add_param(p, "JSID", k);
        j2i_apply_cp(o, p, path);
    }
    if (coords && !j2i_geo_from_uri(coords, geo, sizeof geo)) {
        ical_prop *p = ical_comp_add_prop(c, "GEO", geo);
        /* Without JSID a GEO joins the LOCATION, or takes the UUIDv5 of its value. */
        jscal_uuidv5(name ? name : geo, u5);
        if (strcmp(u5, k))
            ical_prop_add_param(p, "JSID", k);
        j2i_apply_cp(o, p, cpath);
    }
    static const char *const known[] = {"name", "coordinates", NULL};
    j2i_add_jsprops(c, l, path, known);
    free(cpath);
}

/* §3.5: at most one Location becomes LOCATION (+GEO); the main location is restorable on
 * import (§2.3.25) either as LOCATION with two or more VLOCATIONs, or as a VLOCATION with a
 * derived LOCATION naming it; where neither applies mainLocationId travels as JSPROP. */
void j2i_add_locations(out_ctx *o, ical_comp *c, const json_t *obj)
{
    const char *main = j2i_jstr(obj, "mainLocationId");
    const json_t *locs = json_object_get(obj, "locations");
    const json_t *mainloc = main ? json_object_get(locs, main) : NULL;
    int main_prop = mainloc && j2i_location_propable(o, main, mainloc);
    const char *prop_key = main_prop ? main : NULL;
    const char *k;
    json_t *l;
    /* another location may be the LOCATION when there is no main one, or when the main one
     * goes as a VLOCATION with a name, restored by its DERIVED LOCATION (which the reader
     * prefers to a LOCATION) */
    if (!prop_key && (!mainloc || j2i_jstr(mainloc, "name"))) {
        json_object_foreach((json_t *)locs, k, l) if (!prop_key && j2i_jstr(l, "name") &&
                                                       j2i_location_propable(o, k, l)) prop_key = k;
    }
    int nvloc_other = 0;
    json_object_foreach((json_t *)locs, k, l)
    {
        if ((prop_key && !strcmp(k, prop_key)) || (main && !strcmp(k, main)))
            continue;
        char *cpath = jscal_strdupf("locations/%s/coordinates", k);
        int geo_only = !j2i_jstr(l, "name") && j2i_jstr(l, "coordinates") && j2i_cp_name(o, cpath) &&
                       j2i_location_propable(o, k, l);
        free(cpath);
        if (!geo_only)
            nvloc_other++;
    }
    int restorable = 0;
    if (prop_key) {
        /* first: the reader gives the first GEO to the LOCATION (§2.3.21), so its GEO goes
         * before those of locations that are coordinates alone */
        char *path = j2i_path2("locations", prop_key);
        j2i_add_location_prop(o, c, prop_key, json_object_get(locs, prop_key), path);
        if (main && !strcmp(prop_key, main))
            restorable = nvloc_other >= 2;
        free(path);
    }
    json_object_foreach((json_t *)locs, k, l)
    {
        if (prop_key && !strcmp(k, prop_key))
            continue;
        char *path = j2i_path2("locations", k);
        char *cpath = jscal_strdupf("%s/coordinates", path);
        int geo_only = !j2i_jstr(l, "name") && j2i_jstr(l, "coordinates") && j2i_cp_name(o, cpath) &&
                       j2i_location_propable(o, k, l);
        if (geo_only) {
            j2i_add_location_prop(o, c, k, l, path);
        } else {
            j2i_add_vlocation(o, c, k, l, path);
            if (main && !strcmp(k, main) && j2i_jstr(l, "name")) {
                ical_prop *p = j2i_add_text(c, "LOCATION", j2i_jstr(l, "name"));
                ical_prop_add_param(p, "DERIVED", "TRUE");
                restorable = 1;
            }
        }
        free(cpath);
        free(path);
    }
    if (main && !restorable) {
        char *val = json_dumps(json_object_get(obj, "mainLocationId"), JSON_ENCODE_ANY);
        ical_prop *p = j2i_add_text(c, "JSPROP", val);
        ical_prop_add_param(p, "JSPTR", "mainLocationId");
        jwriter_text_free(val);
    }
}

void j2i_add_virtual_locations(out_ctx *o, ical_comp *c, const json_t *vls)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)vls, k, v)
    {
        const char *uri = j2i_jstr(v, "uri");
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
        const char *name = j2i_jstr(v, "name");
        if (name) /* "" too: the reader keeps an empty LABEL as name "" (issue 12 §3.4) */
            ical_prop_add_param(p, "LABEL", name);
        char u5[37];
        jscal_uuidv5(uri, u5);
        if (strcmp(u5, k))
            ical_prop_add_param(p, "JSID", k);
        char *path = j2i_path2("virtualLocations", k);
        j2i_apply_cp(o, p, path);
        static const char *const known[] = {"uri", "features", "name", NULL};
        j2i_add_jsprops(c, v, path, known);
        free(path);
    }
}


/* ---- participants (§3.6) -------------------------------------------------------------- */

void j2i_set_addr_param(ical_prop *p, const char *param, const json_t *set)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)set, k, v) ical_prop_add_param(p, param, k);
}

char *j2i_mailto(const char *s)
{
    return strchr(s, ':') ? strdup(s) : jscal_strdupf("mailto:%s", s);
}

/* ORGANIZER, with the parameters of the organizer's participant okey (§3.6, §2.3.29; may be
 * NULL) and its JSID where the reader would not find it without (cal_address.h). */
static void add_organizer(out_ctx *o, ical_comp *c, const json_t *obj, const char *org,
                          const char *okey)
{
    const json_t *parts = json_object_get(obj, "participants");
    const json_t *pt = okey ? json_object_get(parts, okey) : NULL;
    ical_prop *p = ical_comp_add_prop(c, "ORGANIZER", org);
    if (pt) {
        if (j2i_jstr(pt, "name"))
            ical_prop_add_param(p, "CN", j2i_jstr(pt, "name"));
        if (j2i_jstr(pt, "email"))
            ical_prop_add_param(p, "EMAIL", j2i_jstr(pt, "email"));
        if (j2i_jstr(pt, "sentBy")) {
            char *m = j2i_mailto(j2i_jstr(pt, "sentBy"));
            ical_prop_add_param(p, "SENT-BY", m);
            free(m);
        }
        if (cal_address_organizer_needs_jsid(parts, org, okey))
            ical_prop_add_param(p, "JSID", okey);
    }
    /* the object's own sentBy, unless this is an override without the organizer's
     * participant: sentBy is the series' alone (jscalendarbis §4.3.4) and SENT-BY would
     * read back as a participant the override does not have (issue 12 §3.4) */
    if (!ical_prop_get_param(p, "SENT-BY") && j2i_jstr(obj, "sentBy") && (pt || !o->as_override)) {
        char *m = j2i_mailto(j2i_jstr(obj, "sentBy"));
        ical_prop_add_param(p, "SENT-BY", m);
        free(m);
    }
    j2i_apply_cp(o, p, "organizerCalendarAddress");
}

/* The ROLE parameter of an ATTENDEE for roles (draft-25 §2.3.4), set on p. Returns the
 * roles ROLE does not imply (a new array: they travel as JSPROP, §4.1.2) and sets
 * *roles_read to whether the reader makes a roles object before those JSPROPs apply. */
static json_t *attendee_role(ical_prop *p, const json_t *roles, int is_org, int *roles_read)
{
    const char *rk;
    json_t *rv;
    int chair = 0, optional = 0, info = 0, attendee = 0, req = 0, owner = 0;
    json_object_foreach((json_t *)roles, rk, rv)
    {
        chair |= !strcmp(rk, "chair");
        optional |= !strcmp(rk, "optional");
        info |= !strcmp(rk, "informational");
        attendee |= !strcmp(rk, "attendee");
        req |= !strcmp(rk, "required");
        owner |= !strcmp(rk, "owner");
    }
    /* OWNER first for anyone but the organizer (whose ORGANIZER gives it owner): whether an
     * ATTENDEE has ROLE=OWNER decides whether the reader makes a participant of a plain
     * ORGANIZER (draft-25 §2.3.29), so owner must not travel as JSPROP (issue 12 §3.4) */
    const char *role = owner && !is_org ? "OWNER"
                       : chair          ? "CHAIR"
                       : req            ? "REQ-PARTICIPANT"
                       : optional       ? "OPT-PARTICIPANT"
                       : info           ? "NON-PARTICIPANT"
                       : attendee       ? "REQ-PARTICIPANT"
                                        : NULL;
    /* No role ROLE names: an other one is the ROLE value, as the reader takes an unknown
     * ROLE as that role in lower case (draft-25 §2.3.4; issue 12 §3.4) */
    const char *other_role = NULL;
    char *other_upper = NULL;
    json_object_foreach((json_t *)roles, rk, rv)
    {
        if (role || other_role || !*rk ||
            strspn(rk, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(rk) ||
            !strcmp(rk, "owner"))
            continue;
        other_role = rk;
        role = other_upper = jscal_strupper(rk);
    }
    if (role)
        ical_prop_add_param(p, "ROLE", role);
    /* whether the reader gives this participant a roles object before its JSPROPs */
    *roles_read = role || (owner && is_org);
    /* Roles ROLE cannot carry travel as JSPROP (§4.1.2): the import sets them
     * after ROLE has been converted, as they are new keys of "roles". (Collected
     * first: adding properties may move p.) */
    json_t *extra_roles = json_array();
    json_object_foreach((json_t *)roles, rk, rv)
    {
        int implied = (other_role && !strcmp(rk, other_role)) ||
                      (!strcmp(rk, "attendee") && role && strcmp(role, "NON-PARTICIPANT") &&
                       strcmp(role, "OWNER")) ||
                      (!strcmp(rk, "chair") && role && !strcmp(role, "CHAIR")) ||
                      (!strcmp(rk, "optional") && role && !strcmp(role, "OPT-PARTICIPANT")) ||
                      (!strcmp(rk, "informational") && role && !strcmp(role, "NON-PARTICIPANT")) ||
                      (!strcmp(rk, "owner") && ((role && !strcmp(role, "OWNER")) || is_org));
        if (!implied)
            json_array_append_new(extra_roles, json_string(rk));
    }
    free(other_upper);
    return extra_roles;
}

/* ATTENDEE for a participant with a calendarAddress (§3.6, §2.3.4); shared: the calendar
 * users more than one participant names (cal_address_shared_users). */
static void add_attendee(out_ctx *o, ical_comp *c, const json_t *pt, const char *k,
                         const char *addr, int is_org, const char *path, int is_task,
                         const json_t *shared)
{
    json_t *roles = json_object_get(pt, "roles");
    ical_prop *p = ical_comp_add_prop(c, "ATTENDEE", addr);
    if (j2i_jstr(pt, "name"))
        ical_prop_add_param(p, "CN", j2i_jstr(pt, "name"));
    if (j2i_jstr(pt, "email"))
        ical_prop_add_param(p, "EMAIL", j2i_jstr(pt, "email"));
    const char *kind = j2i_jstr(pt, "kind");
    if (kind) {
        char *u = jscal_strupper(!strcmp(kind, "location") ? "room" : kind);
        ical_prop_add_param(p, "CUTYPE", u);
        free(u);
    }
    int roles_read;
    json_t *extra_roles = attendee_role(p, roles, is_org, &roles_read);
    const char *ps = j2i_jstr(pt, "participationStatus"), *prog = j2i_jstr(pt, "progress");
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
    if (j2i_jstr(pt, "sentBy")) {
        char *m = j2i_mailto(j2i_jstr(pt, "sentBy"));
        ical_prop_add_param(p, "SENT-BY", m);
        free(m);
    }
    j2i_set_addr_param(p, "DELEGATED-TO", json_object_get(pt, "delegatedTo"));
    j2i_set_addr_param(p, "DELEGATED-FROM", json_object_get(pt, "delegatedFrom"));
    j2i_set_addr_param(p, "MEMBER", json_object_get(pt, "memberOf"));
    if (j2i_jstr(pt, "scheduleAgent")) {
        char *u = jscal_strupper(j2i_jstr(pt, "scheduleAgent"));
        ical_prop_add_param(p, "SCHEDULE-AGENT", u);
        free(u);
    }
    if (json_is_true(json_object_get(pt, "scheduleForceSend")))
        ical_prop_add_param(p, "SCHEDULE-FORCE-SEND", "REQUEST");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(pt, "scheduleStatus"), i, e) if (json_is_string(e))
        ical_prop_add_param(p, "SCHEDULE-STATUS", json_string_value(e));
    /* the key, unless the reader makes it from the address (draft-25 §2.3.4) and merges
     * no other participant of that calendar user into it (issue 12 §3.4) */
    char u5[37];
    jscal_uuidv5(addr, u5);
    if (strcmp(u5, k) || cal_address_is_shared(shared, addr))
        ical_prop_add_param(p, "JSID", k);
    j2i_apply_cp(o, p, path);
    p = NULL;
    if (!roles_read && json_array_size(extra_roles)) {
        /* nothing makes "roles" on reading: one JSPROP for all of it (a patch of a key
         * below would have no parent, jscalendarbis §1.5.9) */
        json_t *all = json_object();
        json_array_foreach(extra_roles, i, e)
            json_object_set_new(all, json_string_value(e), json_true());
        char *val = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
        ical_prop *jp = j2i_add_text(c, "JSPROP", val);
        char *full = jscal_strdupf("%s/roles", path);
        ical_prop_add_param(jp, "JSPTR", full);
        free(full);
        jwriter_text_free(val);
        json_decref(all);
        json_array_clear(extra_roles);
    }
    json_array_foreach(extra_roles, i, e)
    {
        ical_prop *jp = j2i_add_text(c, "JSPROP", "true");
        char *rkp = jptr_token_escape(json_string_value(e));
        char *full = jscal_strdupf("%s/roles/%s", path, rkp);
        ical_prop_add_param(jp, "JSPTR", full);
        free(full);
        free(rkp);
    }
    json_decref(extra_roles);
}

/* PARTICIPANT component for what ATTENDEE cannot carry (§3.6). */
static void add_participant_comp(out_ctx *o, ical_comp *c, const json_t *pt, const char *k,
                                 const char *addr, const char *path, int want_attendee)
{
    json_t *ic = json_object_get(pt, "iCalendar");
    ical_comp *pc = ical_comp_new("PARTICIPANT");
    out_ctx sub = *o;
    sub.cp = json_object_get(ic, "convertedProperties");
    sub.err = NULL;
    const char *puid = j2i_preserved_uid(pt);
    char u5[37] = "";
    if (addr)
        jscal_uuidv5(addr, u5);
    if (!puid || (addr ? strcmp(u5, k) != 0 : strcmp(puid, k) != 0))
        ical_comp_add_prop(pc, "JSID", k); /* with no UID of its own: the UID below is k */
    if (!puid)
        j2i_add_text(pc, "UID", k);
    if (addr)
        ical_comp_add_prop(pc, "CALENDAR-ADDRESS", addr);
    if (j2i_jstr(pt, "name") && !want_attendee)
        j2i_add_text(pc, "SUMMARY", j2i_jstr(pt, "name"));
    const char *desc = j2i_jstr(pt, "description"), *dct = j2i_jstr(pt, "descriptionContentType");
    if (desc) {
        ical_prop *p = j2i_add_description(&sub, pc, desc, dct);
        j2i_apply_cp(&sub, p, "description");
    }
    json_t *pcv = json_object_get(pt, "percentComplete");
    if (json_is_integer(pcv)) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(pcv));
        ical_comp_add_prop(pc, "PERCENT-COMPLETE", tmp);
    }
    j2i_add_links(&sub, pc, json_object_get(pt, "links"), "links");
    j2i_restore_ical(&sub, pc, pt, path);
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
    j2i_add_jsprops(pc, pt, NULL, want_attendee ? with_att : alone);
    ical_comp_add_comp(c, pc);
}

void j2i_add_participants(out_ctx *o, ical_comp *c, const json_t *obj, int is_task)
{
    const char *org = j2i_jstr(obj, "organizerCalendarAddress");
    const json_t *parts = json_object_get(obj, "participants");
    const char *k;
    json_t *pt;
    /* the organizer's participant: the one the reader merges ORGANIZER into */
    const char *okey = org ? cal_address_organizer(parts, org, NULL) : NULL;
    if (org)
        add_organizer(o, c, obj, org, okey);
    json_t *shared = cal_address_shared_users(parts);
    json_object_foreach((json_t *)parts, k, pt)
    {
        const char *addr = j2i_jstr(pt, "calendarAddress");
        json_t *roles = json_object_get(pt, "roles");
        char *path = j2i_path2("participants", k);
        int is_org = okey && !strcmp(k, okey);
        /* Fully represented by ORGANIZER: the organizer's participant, its address spelt the
         * same way (an ATTENDEE's spelling would be lost, issue 12 §3.4), only the owner
         * role, only properties that ORGANIZER parameters carry. */
        int org_only = is_org && addr && !strcmp(addr, org);
        const char *rk;
        json_t *rv;
        json_object_foreach(roles, rk, rv) if (strcmp(rk, "owner")) org_only = 0;
        const char *pk;
        json_t *pv;
        json_object_foreach(pt, pk, pv) if (strcmp(pk, "@type") && strcmp(pk, "calendarAddress") &&
                                            strcmp(pk, "roles") && strcmp(pk, "name") &&
                                            strcmp(pk, "email") && strcmp(pk, "sentBy"))
            org_only = 0;
        /* ... unless it was read from an ATTENDEE too (convertedProperties, §5.1.1): the
         * organizer then stays in the attendee list (issue 12 §3.4) */
        const char *origin = j2i_jstr(json_object_get(o->cp, path), "name");
        if (origin && !strcasecmp(origin, "attendee"))
            org_only = 0;
        if (org_only) {
            free(path);
            continue;
        }
        json_t *ic = json_object_get(pt, "iCalendar");
        const char *ca_origin = j2i_jstr(json_object_get(json_object_get(ic, "convertedProperties"),
                                                     "calendarAddress"),
                                     "name");
        int want_attendee = addr && !(ca_origin && !strcasecmp(ca_origin, "calendar-address"));
        static const char *const att_known[] = {
            "calendarAddress", "name", "email", "kind", "roles", "participationStatus",
            "expectReply", "sentBy", "delegatedTo", "delegatedFrom", "memberOf", "progress",
            "scheduleAgent", "scheduleForceSend", "scheduleStatus", NULL};
        if (want_attendee)
            add_attendee(o, c, pt, k, addr, is_org, path, is_task, shared);
        /* PARTICIPANT component for what ATTENDEE cannot carry (§3.6). */
        int want_comp = !want_attendee || ic || json_object_get(pt, "description") ||
                        json_object_get(pt, "links") || json_object_get(pt, "percentComplete");
        if (want_comp) {
            add_participant_comp(o, c, pt, k, addr, path, want_attendee);
        } else {
            j2i_add_jsprops(c, pt, path, att_known);
        }
        free(path);
    }
    json_decref(shared);
}

/* ---- alerts (§3.1) -------------------------------------------------------------------- */

int j2i_add_alerts(out_ctx *o, ical_comp *c, const json_t *obj)
{
    const json_t *alerts = json_object_get(obj, "alerts");
    const char *k;
    json_t *al;
    json_object_foreach((json_t *)alerts, k, al)
    {
        char *path = j2i_path2("alerts", k);
        ical_comp *v = ical_comp_new("VALARM");
        out_ctx sub = *o;
        sub.cp = json_object_get(json_object_get(al, "iCalendar"), "convertedProperties");
        sub.err = NULL;
        const char *uid = j2i_preserved_uid(al);
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
        const char *action = j2i_jstr(al, "action");
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
        const char *tt = j2i_jstr(t, "@type");
        if (t && (!tt || !strcmp(tt, "OffsetTrigger"))) {
            const char *off = j2i_jstr(t, "offset");
            jscal_dur d;
            if (!off || jscal_dur_parse(off, 1, &d)) {
                char *p2 = jscal_strdupf("%s/trigger/offset", path);
                j2i_ofail(o, p2, "not a SignedDuration");
                free(p2);
            } else {
                ical_prop *p = ical_comp_add_prop(v, "TRIGGER", off);
                const char *rel = j2i_jstr(t, "relativeTo");
                if (rel && !strcmp(rel, "end"))
                    ical_prop_add_param(p, "RELATED", "END");
                j2i_apply_cp(&sub, p, "trigger");
            }
        } else if (t && !strcmp(tt, "AbsoluteTrigger")) {
            char *p2 = jscal_strdupf("%s/trigger/when", path);
            if (!j2i_add_utc(&sub, v, "TRIGGER", j2i_jstr(t, "when"), p2))
                ical_prop_add_param(&v->props[v->nprops - 1], "VALUE", "DATE-TIME");
            else if (!o->err)
                o->err = sub.err, sub.err = NULL;
            free(p2);
        }
        if (j2i_jstr(al, "acknowledged"))
            j2i_add_utc(&sub, v, "ACKNOWLEDGED", j2i_jstr(al, "acknowledged"), path);
        json_object_foreach(json_object_get(al, "relatedTo"), k2, al2)
        {
            json_t *target = json_object_get(alerts, k2);
            const char *tuid = target ? j2i_preserved_uid(target) : NULL;
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
        j2i_restore_ical(&sub, v, al, path);
        int from_ical = json_object_get(al, "iCalendar") != NULL;
        if (!from_ical && !ical_comp_get_prop(v, "DESCRIPTION") &&
            (!action || !strcmp(action, "display") || !strcmp(action, "email"))) {
            /* RFC 5545 §3.6.6: DISPLAY and EMAIL alarms need a DESCRIPTION. */
            const char *title = j2i_jstr(obj, "title");
            j2i_add_text(v, "DESCRIPTION", title && *title ? title : "Reminder");
        }
        if (!from_ical && action && !strcmp(action, "email") && !ical_comp_get_prop(v, "SUMMARY")) {
            const char *title = j2i_jstr(obj, "title");
            j2i_add_text(v, "SUMMARY", title && *title ? title : "Reminder");
        }
        static const char *const known[] = {"trigger", "acknowledged", "relatedTo", NULL};
        static const char *const known_act[] = {"trigger", "acknowledged", "relatedTo", "action",
                                                NULL};
        j2i_add_jsprops(v, al, NULL,
                    (!action || !strcmp(action, "display") || !strcmp(action, "email")) ? known_act
                                                                                         : known);
        if (tt && strcmp(tt, "OffsetTrigger") && strcmp(tt, "AbsoluteTrigger")) {
            /* UnknownTrigger: preserved as JSPROP, MUST NOT be lost (jscalendarbis §4.5.1) */
            char *val = json_dumps(t, JSON_COMPACT);
            ical_prop *p = j2i_add_text(v, "JSPROP", val);
            ical_prop_add_param(p, "JSPTR", "trigger");
            jwriter_text_free(val);
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
