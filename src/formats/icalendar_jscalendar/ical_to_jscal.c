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

#include "formats/icalendar_jscalendar/ical.h"
#include "formats/icalendar/ical_internal.h"
#include "formats/jscalendar/jscal.h"
#include "formats/timezone/tz.h"
#include "formats/icalendar_jscalendar/ical_conv.h"

/* ---- VEVENT / VTODO (§2.2.3, §2.2.5) -------------------------------------------------- */

static int duration_between(obj_ctx *o, const ical_prop *ps, const ical_prop *pe)
{
    ical_dt ds, de;
    if (ical_dt_parse(ps->value, &ds) || ical_dt_parse(pe->value, &de))
        return i2j_fail(o, pe, "invalid DATE or DATE-TIME value");
    jscal_dur d = {.sign = 1};
    char buf[64];
    if (ds.is_date && de.is_date) {
        int64_t days = jscal_days_from_civil(de.t.year, de.t.month, de.t.day) -
                       jscal_days_from_civil(ds.t.year, ds.t.month, ds.t.day);
        if (days < 0)
            return i2j_fail(o, pe, "ends before DTSTART");
        d.days = days;
    } else {
        const char *tz1, *tz2;
        icaltimezone *z1, *z2;
        ical_comp *vtz2 = NULL;
        if (i2j_prop_zone(o, ps, &ds, &tz1, &z1, NULL) || i2j_prop_zone(o, pe, &de, &tz2, &z2, &vtz2))
            return -1;
        if (vtz2 && vtz2 != o->tz_vtz)
            i2j_keep_comp(o, vtz2); /* §2.1.4: the end zone travels with the object too */
        int64_t u1 = ds.is_utc ? jscal_ldt_to_secs(&ds.t) : tz_local_to_utc(z1, jscal_ldt_to_secs(&ds.t));
        int64_t u2 = de.is_utc ? jscal_ldt_to_secs(&de.t) : tz_local_to_utc(z2, jscal_ldt_to_secs(&de.t));
        if (!tz1 || !tz2) { /* floating: wall-clock difference */
            u1 = jscal_ldt_to_secs(&ds.t);
            u2 = jscal_ldt_to_secs(&de.t);
        }
        int64_t s = u2 - u1;
        if (s < 0)
            return i2j_fail(o, pe, "ends before DTSTART");
        /* Exact spans are hours; whole days only where no DST can apply. */
        if ((!o->zone) && s % 86400 == 0 && s > 0) {
            d.days = s / 86400;
        } else {
            d.hours = s / 3600;
            d.minutes = s % 3600 / 60;
            d.seconds = s % 60;
        }
        if (tz2 && tz1 && strcmp(tz1, tz2))
            json_object_set_new_nocheck(o->obj, "endTimeZone", json_string_nocheck(tz2));
    }
    jscal_dur_format(&d, buf);
    json_object_set_new_nocheck(o->obj, "duration", json_string_nocheck(buf));
    return 0;
}

/* Converts one VEVENT or VTODO; returns the object or NULL (cal->err set). */
static json_t *convert_entry(cal_ctx *cal, const ical_comp *c)
{
    obj_ctx o;
    memset(&o, 0, sizeof o);
    o.cal = cal;
    o.comp = c;
    o.is_task = i2j_is(c->name, "VTODO");
    o.obj = i2j_typed_object(o.is_task ? "Task" : "Event");
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
        i2j_fail(&o, NULL, "missing UID");
        goto bad;
    }
    if (!o.is_task && !dtstart) {
        i2j_fail(&o, NULL, "missing DTSTART (a JSCalendar Event needs a start)");
        goto bad;
    }
    /* The time zone of the object comes from DTSTART, else DUE (§2.3.16, §2.3.17). */
    if (base) {
        ical_dt d;
        if (ical_dt_parse(base->value, &d)) {
            i2j_fail(&o, base, "invalid DATE or DATE-TIME value");
            goto bad;
        }
        if (i2j_prop_zone(&o, base, &d, &o.tzid, &o.zone, &o.tz_vtz))
            goto bad;
        o.is_date = d.is_date;
        if (o.tzid)
            json_object_set_new_nocheck(o.obj, "timeZone", json_string_nocheck(o.tzid));
        if (o.tz_vtz)
            i2j_keep_comp(&o, o.tz_vtz); /* §2.1.4: a non-IANA zone travels with the object */
    }

    for (size_t i = 0; i < c->nprops; i++) {
        const ical_prop *p = &c->props[i];
        const char *n = p->name;
        static const char *const none[] = {NULL};
        static const char *const lang[] = {"LANGUAGE", NULL};
        if (cal->timing_only && !i2j_is(n, "UID") && !i2j_is(n, "RRULE") && !i2j_is(n, "RDATE") &&
            !i2j_is(n, "EXDATE") && !i2j_is(n, "RECURRENCE-ID") && p != dtstart && p != due &&
            p != dtend && p != duration)
            continue;
        if (i2j_is(n, "UID")) {
            i2j_set_text(o.obj, "uid", p->value);
        } else if (i2j_is(n, "DTSTAMP")) {
            if (i2j_set_utc(&o, p, o.obj, "updated"))
                goto bad;
        } else if (i2j_is(n, "CREATED")) {
            if (i2j_set_utc(&o, p, o.obj, "created"))
                goto bad;
        } else if (i2j_is(n, "SEQUENCE")) {
            long long v;
            if (i2j_parse_uint(p->value, &v)) {
                i2j_fail(&o, p, "not a non-negative integer");
                goto bad;
            }
            json_object_set_new_nocheck(o.obj, "sequence", json_integer(v));
        } else if (i2j_is(n, "SUMMARY") && !json_object_get(o.obj, "title")) {
            i2j_set_text(o.obj, "title", p->value);
            i2j_note_converted(&o, "title", p, i2j_take_language(o.obj, p) ? lang : none, NULL, 0);
        } else if (i2j_is(n, "DESCRIPTION") && !i2j_param_is_true(p, "DERIVED") &&
                   !json_object_get(o.obj, "description")) {
            i2j_set_description(&o, o.obj, p, 0);
        } else if (i2j_is(n, "STYLED-DESCRIPTION") && i2j_styled_ok(p) &&
                   !json_object_get(o.obj, "description")) {
            i2j_set_description(&o, o.obj, p, 1);
        } else if (i2j_is(n, "LOCATION") && !location && !i2j_param_is_true(p, "DERIVED")) {
            location = p;
        } else if (i2j_is(n, "LOCATION") && i2j_param_is_true(p, "DERIVED") && !derived_location) {
            derived_location = p; /* kept below unless it names the main VLOCATION */
        } else if (i2j_is(n, "GEO") && !i2j_param_is_true(p, "DERIVED") && ngeo < 8) {
            geos[ngeo++] = p;
        } else if (i2j_is(n, "CONFERENCE")) {
            const char *jsid = ical_prop_param1(p, "JSID");
            char key[256];
            if (jsid && jid_valid(jsid))
                i2j_key_copy(key, sizeof key, jsid);
            else
                i2j_uuid(o.cal, p->value, key);
            json_t *vl = i2j_typed_object("VirtualLocation");
            const char *label = ical_prop_param1(p, "LABEL");
            if (label)
                json_object_set_new_nocheck(vl, "name", json_string_nocheck(label));
            json_object_set_new_nocheck(vl, "uri", json_string_nocheck(p->value));
            const ical_param *f = ical_prop_get_param(p, "FEATURE");
            if (f && f->nvalues) {
                json_t *set = json_object();
                for (size_t k = 0; k < f->nvalues; k++) {
                    char *l = jscal_strlower(f->values[k]);
                    json_object_set_new_nocheck(set, l, json_true());
                    free(l);
                }
                json_object_set_new_nocheck(vl, "features", set);
            }
            json_object_set_new_nocheck(i2j_get_map(o.obj, "virtualLocations"), key, vl);
            static const char *const consumed[] = {"LABEL", "FEATURE", NULL};
            char *path = i2j_path2("virtualLocations", key);
            i2j_note_converted(&o, path, p, consumed, NULL, 0);
            free(path);
        } else if (i2j_is(n, "ATTACH") || i2j_is(n, "IMAGE") || i2j_is(n, "LINK") ||
                   i2j_is(n, "URL")) {
            i2j_add_link(&o, p, i2j_is(n, "URL") && nurl++ == 0);
        } else if (i2j_is(n, "CATEGORIES")) {
            i2j_add_set_values(o.obj, "keywords", p->value, 0, 1);
        } else if (i2j_is(n, "CONCEPT")) {
            i2j_add_set_values(o.obj, "categories", p->value, 0, 0);
        } else if (i2j_is(n, "COLOR")) {
            i2j_set_text(o.obj, "color", p->value);
        } else if (i2j_is(n, "CLASS") &&
                   (!strcasecmp(p->value, "PUBLIC") || !strcasecmp(p->value, "PRIVATE") ||
                    !strcasecmp(p->value, "CONFIDENTIAL"))) {
            json_object_set_new_nocheck(
                o.obj, "privacy",
                json_string_nocheck(!strcasecmp(p->value, "PUBLIC")    ? "public"
                                    : !strcasecmp(p->value, "PRIVATE") ? "private"
                                                                       : "secret"));
        } else if (i2j_is(n, "PRIORITY")) {
            long long v;
            if (i2j_parse_uint(p->value, &v) || v > 9) {
                i2j_fail(&o, p, "not an integer from 0 to 9");
                goto bad;
            }
            json_object_set_new_nocheck(o.obj, "priority", json_integer(v));
        } else if (i2j_is(n, "TRANSP") &&
                   (!strcasecmp(p->value, "OPAQUE") || !strcasecmp(p->value, "TRANSPARENT"))) {
            json_object_set_new_nocheck(
                o.obj, "freeBusyStatus",
                json_string_nocheck(!strcasecmp(p->value, "OPAQUE") ? "busy" : "free"));
        } else if (i2j_is(n, "STATUS")) {
            char *l = jscal_strlower(p->value);
            json_object_set_new_nocheck(o.obj, o.is_task ? "progress" : "status",
                                        json_string_nocheck(l));
            free(l);
        } else if ((i2j_is(n, "RRULE") || i2j_is(n, "RDATE") || i2j_is(n, "EXDATE")) &&
                   ical_comp_get_prop(c, "RECURRENCE-ID")) {
            i2j_keep_prop(&o, p); /* jscalendarbis §4.3.1: an instance has no recurrence set */
        } else if (i2j_is(n, "RRULE") && !have_rrule) {
            have_rrule = 1;
            if (i2j_convert_rrule(&o, p))
                goto bad;
        } else if (i2j_is(n, "RDATE") || i2j_is(n, "EXDATE")) {
            const char *vt = ical_prop_param1(p, "VALUE");
            int period = vt && !strcasecmp(vt, "PERIOD");
            char **vals;
            size_t nv = ical_split_values(p->value, &vals);
            json_t *ov = i2j_get_map(o.obj, "recurrenceOverrides");
            for (size_t k = 0; k < nv; k++) {
                char *slash = period ? strchr(vals[k], '/') : NULL;
                if (slash)
                    *slash = 0;
                jscal_ldt t;
                ical_dt dt;
                if (i2j_prop_local(&o, p, vals[k], &t, &dt)) {
                    ical_free_strv(vals, nv);
                    goto bad;
                }
                char key[24];
                jscal_ldt_format(&t, 0, key);
                json_t *patch = json_object();
                if (i2j_is(n, "EXDATE")) {
                    json_object_set_new_nocheck(patch, "excluded", json_true());
                } else if (slash) {
                    jscal_dur d;
                    ical_dt de;
                    if (!jscal_dur_parse(slash + 1, 0, &d)) {
                        json_object_set_new_nocheck(patch, "duration",
                                                    json_string_nocheck(slash + 1));
                    } else if (!ical_dt_parse(slash + 1, &de)) {
                        int64_t s = jscal_ldt_to_secs(&de.t) - jscal_ldt_to_secs(&dt.t);
                        jscal_dur dd = {.sign = 1, .hours = s / 3600, .minutes = s % 3600 / 60,
                                        .seconds = s % 60};
                        char buf[64];
                        jscal_dur_format(&dd, buf);
                        json_object_set_new_nocheck(patch, "duration", json_string_nocheck(buf));
                    }
                    json_t *e = json_object();
                    json_object_set_new_nocheck(e, "@type", json_string_nocheck("ICalProperty"));
                    json_object_set_new_nocheck(e, "name", json_string_nocheck("rdate"));
                    json_object_set_new_nocheck(e, "valueType", json_string_nocheck("period"));
                    char *path = i2j_path2("recurrenceOverrides", key);
                    json_object_set_new_nocheck(
                        i2j_get_map(i2j_ical_obj(&o), "convertedProperties"), path, e);
                    free(path);
                }
                json_object_set_new_nocheck(ov, key, patch);
            }
            ical_free_strv(vals, nv);
        } else if (i2j_is(n, "RECURRENCE-ID")) {
            ical_dt d;
            const char *tzid;
            icaltimezone *z;
            if (ical_dt_parse(p->value, &d)) {
                i2j_fail(&o, p, "invalid DATE or DATE-TIME value");
                goto bad;
            }
            if (i2j_prop_zone(&o, p, &d, &tzid, &z, NULL))
                goto bad;
            i2j_set_ldt(o.obj, "recurrenceId", &d.t, 0);
            if (tzid)
                json_object_set_new_nocheck(o.obj, "recurrenceIdTimeZone",
                                            json_string_nocheck(tzid));
            i2j_note_converted(&o, "recurrenceId", p, none, NULL, 0);
        } else if (i2j_is(n, "ORGANIZER") && !organizer) {
            organizer = p;
        } else if (i2j_is(n, "ATTENDEE") && natt < 512) {
            attendees[natt++] = p;
        } else if (i2j_is(n, "RELATED-TO")) {
            json_t *rel = i2j_typed_object("Relation");
            const ical_param *rt = ical_prop_get_param(p, "RELTYPE");
            if (rt && rt->nvalues) {
                json_t *set = json_object();
                for (size_t k = 0; k < rt->nvalues; k++) {
                    char *l = jscal_strlower(rt->values[k]);
                    json_object_set_new_nocheck(set, l, json_true());
                    free(l);
                }
                json_object_set_new_nocheck(rel, "relation", set);
            }
            char *u = ical_text_unescape(p->value);
            json_object_set_new_nocheck(i2j_get_map(o.obj, "relatedTo"), u, rel);
            static const char *const consumed[] = {"RELTYPE", NULL};
            char *path = i2j_path2("relatedTo", u);
            i2j_note_converted(&o, path, p, consumed, NULL, 0);
            free(path);
            free(u);
        } else if (i2j_is(n, "PERCENT-COMPLETE") && o.is_task) {
            long long v;
            if (i2j_parse_uint(p->value, &v) || v > 100) {
                i2j_fail(&o, p, "not an integer from 0 to 100");
                goto bad;
            }
            json_object_set_new_nocheck(o.obj, "percentComplete", json_integer(v));
        } else if (i2j_is(n, "ESTIMATED-DURATION") && o.is_task) {
            jscal_dur d;
            if (jscal_dur_parse(p->value, 0, &d)) {
                i2j_fail(&o, p, "invalid DURATION value");
                goto bad;
            }
            json_object_set_new_nocheck(o.obj, "estimatedDuration", json_string_nocheck(p->value));
        } else if (i2j_is(n, "SHOW-WITHOUT-TIME")) {
            /* icaljscalexts §3.2: ignored for DATE values and when FALSE. */
            if (!strcasecmp(p->value, "TRUE") && !o.is_date)
                json_object_set_new_nocheck(o.obj, "showWithoutTime", json_true());
        } else if (p == dtstart || p == due || p == dtend || p == duration) {
            continue; /* handled below */
        } else if (i2j_is(n, "JSPROP") && njs < 64) {
            jsprops[njs++] = p;
        } else {
            i2j_keep_prop(&o, p);
        }
    }

    /* Dates (§2.3.14, §2.3.16-§2.3.18). */
    if (dtstart) {
        jscal_ldt t;
        if (i2j_prop_local(&o, dtstart, dtstart->value, &t, NULL))
            goto bad;
        i2j_set_ldt(o.obj, "start", &t, 0);
        static const char *const none[] = {NULL};
        i2j_note_converted(&o, "start", dtstart, none, NULL, 0);
    }
    if (due) {
        jscal_ldt t;
        if (i2j_prop_local(&o, due, due->value, &t, NULL))
            goto bad;
        i2j_set_ldt(o.obj, "due", &t, 0);
        static const char *const none[] = {NULL};
        i2j_note_converted(&o, "due", due, none, NULL, 0);
    }
    if (base && !json_object_get(o.obj, "showWithoutTime"))
        json_object_set_new_nocheck(o.obj, "showWithoutTime", json_boolean(o.is_date));
    if (dtend && dtstart) {
        if (duration_between(&o, dtstart, dtend))
            goto bad;
        if (!json_object_get(o.obj, "endTimeZone")) {
            static const char *const none[] = {NULL};
            i2j_note_converted(&o, "duration", dtend, none, NULL, 1);
        }
        if (duration)
            i2j_keep_prop(&o, duration);
    } else if (duration) {
        jscal_dur d;
        if (jscal_dur_parse(duration->value, 0, &d)) {
            i2j_fail(&o, duration, "invalid DURATION value");
            goto bad;
        }
        json_object_set_new_nocheck(o.obj, "duration", json_string_nocheck(duration->value));
    } else if (dtend) {
        i2j_keep_prop(&o, dtend);
    } else if (dtstart && o.is_date && !o.is_task) {
        /* RFC 5545 §3.6.1: a DATE DTSTART without DTEND/DURATION lasts one day. */
        json_object_set_new_nocheck(o.obj, "duration", json_string_nocheck("P1D"));
    }

    /* Locations: LOCATION, GEO (§2.3.21, §2.3.25) and VLOCATION (§2.2.4). */
    char lockey[256] = "";
    if (location) {
        const char *jsid = ical_prop_param1(location, "JSID");
        char *u = ical_text_unescape(location->value);
        if (jsid && jid_valid(jsid))
            i2j_key_copy(lockey, sizeof lockey, jsid);
        else
            i2j_uuid(o.cal, u, lockey);
        json_t *loc = i2j_typed_object("Location");
        json_object_set_new_nocheck(loc, "name", json_string_nocheck(u));
        free(u);
        json_object_set_new_nocheck(i2j_get_map(o.obj, "locations"), lockey, loc);
        static const char *const consumed[] = {NULL};
        char *path = i2j_path2("locations", lockey);
        i2j_note_converted(&o, path, location, consumed, NULL, 0);
        free(path);
    }
    for (size_t i = 0; i < ngeo; i++) {
        const ical_prop *g = geos[i];
        const char *jsid = ical_prop_param1(g, "JSID");
        char key[256];
        if (jsid && jid_valid(jsid))
            i2j_key_copy(key, sizeof key, jsid);
        else if (*lockey && i == 0)
            i2j_key_copy(key, sizeof key, lockey);
        else
            i2j_uuid(o.cal, g->value, key);
        json_t *locs = i2j_get_map(o.obj, "locations"), *loc = json_object_get(locs, key);
        if (!loc) {
            loc = i2j_typed_object("Location");
            json_object_set_new_nocheck(locs, key, loc);
        }
        char *path = jscal_strdupf("locations/%s/coordinates", key);
        i2j_add_geo_coordinates(&o, loc, g, path);
        free(path);
    }
    size_t nvloc = 0;
    char firstvloc[256] = "";
    for (size_t i = 0; i < c->ncomps && !cal->timing_only; i++) {
        const ical_comp *sc = c->comps[i];
        if (i2j_is(sc->name, "VLOCATION")) {
            char key[256];
            i2j_comp_key(cal, sc, key);
            json_t *loc = i2j_convert_vlocation(&o, sc);
            json_object_set_new_nocheck(i2j_get_map(o.obj, "locations"), key, loc);
            if (!nvloc++)
                i2j_key_copy(firstvloc, sizeof firstvloc, key);
        }
    }
    if (nvloc >= 1 && (location || derived_location)) {
        /* §2.3.25: with VLOCATIONs, LOCATION names the main location. */
        if (location && nvloc > 1)
            json_object_set_new_nocheck(o.obj, "mainLocationId", json_string_nocheck(lockey));
        if (derived_location) {
            char *u = ical_text_unescape(derived_location->value);
            const char *k;
            json_t *l;
            json_object_foreach(json_object_get(o.obj, "locations"), k, l)
            {
                json_t *nm = json_object_get(l, "name");
                if (json_is_string(nm) && !strcmp(json_string_value(nm), u) &&
                    json_object_get(l, "iCalendar")) {
                    json_object_set_new_nocheck(o.obj, "mainLocationId", json_string_nocheck(k));
                    derived_location = NULL; /* regenerated from mainLocationId */
                    break;
                }
            }
            free(u);
        }
    }
    if (derived_location)
        i2j_keep_prop(&o, derived_location);

    /* Participants (§2.2.1, §2.3.4, §2.3.29), alerts (§2.2.2), other components. */
    for (size_t i = 0; i < c->ncomps && !cal->timing_only; i++) {
        const ical_comp *sc = c->comps[i];
        if (i2j_is(sc->name, "PARTICIPANT")) {
            char key[256];
            json_t *pt = i2j_convert_participant_comp(&o, sc, key);
            json_t *parts = i2j_get_map(o.obj, "participants");
            json_object_set_new_nocheck(parts, key, pt);
        } else if (i2j_is(sc->name, "VALARM") && !ical_comp_get_prop(sc, "TRIGGER")) {
            i2j_keep_comp(&o, sc); /* RFC 5545 §3.6.6 needs TRIGGER; keep it as it is */
        } else if (i2j_is(sc->name, "VALARM")) {
            char key[256];
            i2j_comp_key(cal, sc, key);
            json_t *al = i2j_convert_valarm(&o, sc);
            if (!al)
                goto bad;
            json_object_set_new_nocheck(i2j_get_map(o.obj, "alerts"), key, al);
        } else if (!i2j_is(sc->name, "VLOCATION")) {
            i2j_keep_comp(&o, sc);
        }
    }
    if (json_object_get(o.obj, "alerts"))
        i2j_resolve_alert_relations(json_object_get(o.obj, "alerts"));
    for (size_t i = 0; i < natt; i++) {
        /* An ATTENDEE merging into a PARTICIPANT: the address no longer comes only from
         * CALENDAR-ADDRESS, so drop that marker (§2.3.5). */
        i2j_convert_attendee(&o, attendees[i]);
    }
    if (organizer)
        i2j_convert_organizer(&o, organizer);
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
                json_t *e = i2j_typed_object("ICalProperty");
                json_object_set_new_nocheck(e, "name", json_string_nocheck("calendar-address"));
                json_object_set_new_nocheck(i2j_get_map(ic, "convertedProperties"),
                                            "calendarAddress", e);
            }
        }
    }

    if (i2j_convert_jsprops(&o, jsprops, njs))
        goto bad;
    if (o.ical)
        json_object_set_new_nocheck(o.obj, "iCalendar", o.ical);
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
    return jscal_override_key_ignored(key); /* jscalendarbis §4.3.4 */
}

static void diff_into(json_t *patch, const char *prefix, json_t *a, json_t *b, int depth)
{
    const char *k;
    json_t *bv;
    json_object_foreach(b, k, bv)
    {
        if (depth == 0 && patch_ignored(k))
            continue;
        char *e = jptr_token_escape(k);
        char *path = *prefix ? jscal_strdupf("%s/%s", prefix, e) : strdup(e);
        free(e);
        if (patch_ignored(path)) { /* e.g. participants/x/calendarAddress */
            free(path);
            continue;
        }
        json_t *av = json_object_get(a, k);
        if (!av)
            json_object_set_nocheck(patch, path, bv);
        else if (json_is_object(av) && json_is_object(bv) && depth < 3 &&
                 strcmp(k, "iCalendar") && strcmp(k, "trigger") && strcmp(k, "recurrenceRule"))
            diff_into(patch, path, av, bv, depth + 1);
        else if (!json_equal(av, bv))
            json_object_set_nocheck(patch, path, bv);
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
        char *e = jptr_token_escape(k);
        char *path = *prefix ? jscal_strdupf("%s/%s", prefix, e) : strdup(e);
        free(e);
        json_object_set_new_nocheck(patch, path, json_null());
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
        json_object_set_new_nocheck(base, "start", json_string_nocheck(key));
    else
        json_object_set_new_nocheck(base, "due", json_string_nocheck(key));
    json_t *patch = json_object();
    diff_into(patch, "", base, ov, 0);
    json_decref(base);
    json_t *ovs = i2j_get_map(main, "recurrenceOverrides");
    json_t *existing = json_object_get(ovs, key);
    if (existing)
        json_object_update(existing, patch);
    else
        json_object_set_nocheck(ovs, key, patch);
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
        if (i2j_is(n, "PRODID") && !strcmp(p->value, JSCAL_DEFAULT_PRODID)) {
            continue; /* our own placeholder for data that had none */
        } else if (i2j_is(n, "PRODID")) {
            i2j_set_text(group, "prodId", p->value);
            free(*prodid);
            *prodid = ical_text_unescape(p->value);
        } else if (i2j_is(n, "METHOD")) {
            free(*method);
            *method = jscal_strlower(p->value);
        } else if (i2j_is(n, "VERSION") && !strcmp(p->value, "2.0")) {
            continue;
        } else if (i2j_is(n, "CALSCALE") && !strcasecmp(p->value, "GREGORIAN")) {
            continue;
        } else if (i2j_is(n, "UID")) {
            i2j_set_text(group, "uid", p->value);
        } else if (i2j_is(n, "NAME") && !json_object_get(group, "title")) {
            i2j_set_text(group, "title", p->value);
            const char *l = ical_prop_param1(p, "LANGUAGE");
            if (l)
                json_object_set_new_nocheck(group, "locale", json_string_nocheck(l));
        } else if (i2j_is(n, "DESCRIPTION") && !json_object_get(group, "description") &&
                   !i2j_param_is_true(p, "DERIVED")) {
            i2j_set_description(&g, group, p, 0);
        } else if (i2j_is(n, "COLOR")) {
            i2j_set_text(group, "color", p->value);
        } else if (i2j_is(n, "CATEGORIES")) {
            i2j_add_set_values(group, "keywords", p->value, 0, 1);
        } else if (i2j_is(n, "CONCEPT")) {
            i2j_add_set_values(group, "categories", p->value, 0, 0);
        } else if (i2j_is(n, "CREATED")) {
            if (i2j_set_utc(&g, p, group, "created"))
                goto bad;
        } else if (i2j_is(n, "LAST-MODIFIED")) {
            if (i2j_set_utc(&g, p, group, "updated"))
                goto bad;
        } else if (i2j_is(n, "SOURCE")) {
            json_object_set_new_nocheck(group, "source", json_string_nocheck(p->value));
        } else if (i2j_is(n, "ATTACH") || i2j_is(n, "IMAGE") || i2j_is(n, "LINK") ||
                   i2j_is(n, "URL")) {
            i2j_add_link(&g, p, i2j_is(n, "URL") && nurl++ == 0);
        } else {
            i2j_keep_prop(&g, p);
        }
    }
    for (size_t i = 0; i < vcal->ncomps; i++) {
        const ical_comp *sc = vcal->comps[i];
        if (!i2j_is(sc->name, "VEVENT") && !i2j_is(sc->name, "VTODO") &&
            !i2j_is(sc->name, "VTIMEZONE"))
            i2j_keep_comp(&g, sc);
    }
    if (g.ical)
        json_object_set_new_nocheck(group, "iCalendar", g.ical);
    return 0;
bad:
    json_decref(g.ical);
    return -1;
}

/* 1 if a VEVENT/VTODO may convert to an object with a recurrenceId: a RECURRENCE-ID, or a
 * JSPROP (which may set any new property). */
static int may_be_override(const ical_comp *c)
{
    for (size_t i = 0; i < c->nprops; i++) {
        const char *n = c->props[i].name;
        if ((n[0] == 'R' && i2j_is(n, "RECURRENCE-ID")) || (n[0] == 'J' && i2j_is(n, "JSPROP")))
            return 1;
    }
    return 0;
}

json_t *ical_to_jscal(const char *ics, size_t len, int flags, char **err)
{
    int streamed;
    return ical_to_jscal_stream(ics, len, flags, 0, NULL, NULL, &streamed, err);
}

json_t *ical_to_jscal_stream(const char *ics, size_t len, int flags, size_t min_entries,
                             ical_entry_fn fn, void *ud, int *streamed, char **err)
{
    ical_comp **tops = NULL;
    int stream = 0, stopped = 0;
    *err = NULL;
    *streamed = 0;
    int ntops = ical_parse(ics, len, &tops, err);
    if (ntops < 0)
        return NULL;
    tz_init();
    cal_ctx cal;
    memset(&cal, 0, sizeof cal);
    cal.timing_only = (flags & ICAL_TO_JSCAL_TIMING) != 0;
    json_t *group = i2j_typed_object("Group");
    json_t *entries = json_array();
    char *method = NULL, *prodid = NULL;
    ical_comp ***comps = NULL; /* slots in the parsed tree, freed as soon as converted */
    json_t **objs = NULL;
    size_t ncomps = 0;

    for (int t = 0; t < ntops; t++) {
        if (strcmp(tops[t]->name, "VCALENDAR")) {
            cal.err = jscal_strdupf("line %d: expected BEGIN:VCALENDAR, found BEGIN:%s",
                                    tops[t]->line, tops[t]->name);
            goto done;
        }
        if (!cal.timing_only && calendar_props(&cal, tops[t], group, &method, &prodid))
            goto done;
        for (size_t i = 0; i < tops[t]->ncomps; i++) {
            ical_comp *sc = tops[t]->comps[i];
            if (i2j_is(sc->name, "VTIMEZONE")) {
                cal.vtz = realloc(cal.vtz, (cal.nvtz + 1) * sizeof *cal.vtz);
                cal.vtz[cal.nvtz++] = sc;
            } else if (i2j_is(sc->name, "VEVENT") || i2j_is(sc->name, "VTODO")) {
                comps = realloc(comps, (ncomps + 1) * sizeof *comps);
                comps[ncomps++] = &tops[t]->comps[i];
            }
        }
    }
    if (fn && ncomps >= min_entries) {
        stream = 1;
        for (size_t i = 0; i < ncomps && stream; i++)
            stream = !may_be_override(*comps[i]);
    }
    objs = calloc(ncomps ? ncomps : 1, sizeof *objs);
    for (size_t i = 0; i < ncomps; i++) {
        objs[i] = convert_entry(&cal, *comps[i]);
        ical_comp_free(*comps[i]); /* keeps the peak memory of large imports down */
        *comps[i] = NULL;
        if (!objs[i])
            goto done;
        if (method)
            json_object_set_new_nocheck(objs[i], "method", json_string_nocheck(method));
        if (prodid)
            json_object_set_new_nocheck(objs[i], "prodId", json_string_nocheck(prodid));
        if (stream) {
            /* no overrides: every object is an entry of its own, in this order */
            int r = fn(objs[i], i, ud);
            json_decref(objs[i]);
            objs[i] = NULL;
            if (r) {
                stopped = 1;
                goto done;
            }
        }
    }
    if (stream) {
        *streamed = 1;
        goto done;
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
            add_override(main, objs[i], &cal, NULL);
        else
            json_array_append(entries, objs[i]); /* stand-alone instance */
    }
    json_object_set_nocheck(group, "entries", entries);
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
    i2j_uuid_cache_free(&cal);
    for (int t = 0; t < ntops; t++)
        ical_comp_free(tops[t]);
    free(tops);
    if (cal.err || stopped) {
        json_decref(group);
        *err = cal.err;
        *streamed = 0;
        return NULL;
    }
    return group;
}
