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

#include "formats/icalendar/ical_internal.h"
#include "formats/icalendar_jscalendar/ical.h"
#include "formats/icalendar_jscalendar/ical_conv.h"
#include "formats/icalendar_jscalendar/jscal_conv.h"
#include "formats/jscalendar/jscal.h"
#include "formats/timezone/tz.h"

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
        /* §2.1.4: the end zone travels with the object too, when it is one (a floating
         * start has no endTimeZone, so nothing would write it back, issue 12 §3.4) */
        if (vtz2 && vtz2 != o->tz_vtz && tz1)
            i2j_keep_comp(o, vtz2);
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

/* The first of each date property, the object's time zone from DTSTART, else DUE (§2.3.16,
 * §2.3.17), and the checks a JSCalendar object needs. Returns 0 or -1 (cal->err set). */
static int entry_begin(entry_ctx *e, const ical_comp *c)
{
    obj_ctx *o = &e->o;
    e->dtstart = ical_comp_get_prop(c, "DTSTART");
    e->due = o->is_task ? ical_comp_get_prop(c, "DUE") : NULL;
    e->dtend = o->is_task ? NULL : ical_comp_get_prop(c, "DTEND");
    e->duration = ical_comp_get_prop(c, "DURATION");
    /* an instance: a RECURRENCE-ID that converts (one that does not is kept as it is,
     * and the component read as a whole event, now and on every later read: issue 12
     * §3.4) */
    const ical_prop *rid = ical_comp_get_prop(c, "RECURRENCE-ID");
    ical_dt rid_dt;
    e->is_instance = rid && ical_dt_parse(rid->value, &rid_dt) == 0;
    const ical_prop *base = e->dtstart ? e->dtstart : e->due;
    const ical_prop *uidp = ical_comp_get_prop(c, "UID");
    if (!uidp || !*uidp->value) {
        /* RFC 5545 §3.6.1 requires UID; a name-based UUID of the component's text is the same
         * for the same component every time it is read. */
        jbuf b = {0};
        ical_comp_write(c, &b);
        char uid[37];
        jscal_uuidv5(b.s, uid);
        free(b.s);
        json_object_set_new_nocheck(o->obj, "uid", json_string_nocheck(uid));
        char *m = jscal_strdupf("missing UID, derived %s from the content", uid);
        i2j_warn(o, NULL, m);
        free(m);
    }
    if (!o->is_task && !e->dtstart)
        return i2j_fail(o, NULL, "missing DTSTART (a JSCalendar Event needs a start)");
    if (!base)
        return 0;
    ical_dt d;
    if (ical_dt_parse(base->value, &d))
        return i2j_fail(o, base, "invalid DATE or DATE-TIME value");
    if (i2j_prop_zone(o, base, &d, &o->tzid, &o->zone, &o->tz_vtz))
        return -1;
    o->is_date = d.is_date;
    if (o->tzid)
        json_object_set_new_nocheck(o->obj, "timeZone", json_string_nocheck(o->tzid));
    if (o->tz_vtz)
        i2j_keep_comp(o, o->tz_vtz); /* §2.1.4: a non-IANA zone travels with the object */
    return 0;
}

/* start, due, duration and endTimeZone (§2.3.14, §2.3.16-§2.3.18). */
static int entry_dates(entry_ctx *e)
{
    static const char *const none[] = {NULL};
    obj_ctx *o = &e->o;
    jscal_ldt t;
    if (e->dtstart) {
        if (i2j_prop_local(o, e->dtstart, e->dtstart->value, &t, NULL))
            return -1;
        i2j_set_ldt(o->obj, "start", &t, 0);
        /* an Event's floating DATE-TIME at midnight shown without time (SHOW-WITHOUT-TIME)
         * and without end is noted as a DATE-TIME (settle_start_note keeps the note where
         * it matters) */
        int as_dt = !o->is_task && !e->is_instance && !o->is_date && !o->tzid && !t.hour &&
                    !t.minute && !t.second && !e->dtend && !e->duration &&
                    json_is_true(json_object_get(o->obj, "showWithoutTime"));
        i2j_note_converted(o, "start", e->dtstart, none, as_dt ? "date-time" : NULL, as_dt);
    }
    if (e->due) {
        if (i2j_prop_local(o, e->due, e->due->value, &t, NULL))
            return -1;
        i2j_set_ldt(o->obj, "due", &t, 0);
        i2j_note_converted(o, "due", e->due, none, NULL, 0);
    }
    if ((e->dtstart || e->due) && !json_object_get(o->obj, "showWithoutTime"))
        json_object_set_new_nocheck(o->obj, "showWithoutTime", json_boolean(o->is_date));
    if (e->dtend && e->dtstart) {
        if (duration_between(o, e->dtstart, e->dtend))
            return -1;
        if (!json_object_get(o->obj, "endTimeZone"))
            i2j_note_converted(o, "duration", e->dtend, none, NULL, 1);
        if (e->duration)
            i2j_keep_prop(o, e->duration);
    } else if (e->duration) {
        jscal_dur d;
        if (jscal_dur_parse(e->duration->value, 0, &d))
            return i2j_fail(o, e->duration, "invalid DURATION value");
        json_object_set_new_nocheck(o->obj, "duration", json_string_nocheck(e->duration->value));
    } else if (e->dtend) {
        i2j_keep_prop(o, e->dtend);
    } else if (e->dtstart && o->is_date && !o->is_task) {
        /* RFC 5545 §3.6.1: a DATE DTSTART without DTEND/DURATION lasts one day. */
        json_object_set_new_nocheck(o->obj, "duration", json_string_nocheck("P1D"));
    }
    return 0;
}

/* LOCATION (§2.3.25) and GEO (§2.3.21) into "locations"; lockey gets the LOCATION's key. */
static void entry_location_props(entry_ctx *e, char lockey[256])
{
    obj_ctx *o = &e->o;
    if (e->location) {
        const char *jsid = ical_prop_param1(e->location, "JSID");
        char *u = ical_text_unescape(e->location->value);
        if (jsid && jid_valid(jsid))
            i2j_key_copy(lockey, 256, jsid);
        else
            i2j_uuid(o->cal, u, lockey);
        json_t *loc = i2j_typed_object("Location");
        json_object_set_new_nocheck(loc, "name", json_string_nocheck(u));
        free(u);
        json_object_set_new_nocheck(i2j_get_map(o->obj, "locations"), lockey, loc);
        static const char *const consumed[] = {NULL};
        char *path = i2j_path2("locations", lockey);
        i2j_note_converted(o, path, e->location, consumed, NULL, 0);
        free(path);
    }
    for (size_t i = 0; i < e->ngeo; i++) {
        const ical_prop *g = e->geos[i];
        const char *jsid = ical_prop_param1(g, "JSID");
        char key[256];
        if (jsid && jid_valid(jsid))
            i2j_key_copy(key, sizeof key, jsid);
        else if (*lockey && i == 0)
            i2j_key_copy(key, sizeof key, lockey);
        else
            i2j_uuid(o->cal, g->value, key);
        json_t *locs = i2j_get_map(o->obj, "locations"), *loc = json_object_get(locs, key);
        if (!loc) {
            loc = i2j_typed_object("Location");
            json_object_set_new_nocheck(locs, key, loc);
        }
        char *path = jscal_strdupf("locations/%s/coordinates", key);
        i2j_add_geo_coordinates(o, loc, g, path);
        free(path);
    }
}

/* Locations: LOCATION, GEO and VLOCATION (§2.2.4); with VLOCATIONs, LOCATION names the main
 * location (§2.3.25). */
static void entry_locations(entry_ctx *e, const ical_comp *c)
{
    obj_ctx *o = &e->o;
    char lockey[256] = "";
    entry_location_props(e, lockey);
    size_t nvloc = 0;
    for (size_t i = 0; i < c->ncomps && !o->cal->timing_only; i++) {
        const ical_comp *sc = c->comps[i];
        if (i2j_is(sc->name, "VLOCATION")) {
            char key[256];
            json_t *locs = i2j_get_map(o->obj, "locations");
            i2j_comp_key_in(o->cal, sc, locs, key);
            json_object_set_new_nocheck(locs, key, i2j_convert_vlocation(o, sc));
            nvloc++;
        }
    }
    const ical_prop *derived = e->derived_location;
    if (nvloc >= 1 && (e->location || derived)) {
        if (e->location && nvloc > 1)
            json_object_set_new_nocheck(o->obj, "mainLocationId", json_string_nocheck(lockey));
        if (derived) {
            /* of the VLOCATIONs of that name, the least key: the writer's order differs
             * from the input's (issue 12 §3.4) */
            char *u = ical_text_unescape(derived->value);
            const char *k, *least = NULL;
            json_t *l;
            json_object_foreach(json_object_get(o->obj, "locations"), k, l)
            {
                json_t *nm = json_object_get(l, "name");
                if (json_is_string(nm) && !strcmp(json_string_value(nm), u) &&
                    json_object_get(l, "iCalendar") && (!least || strcmp(k, least) < 0))
                    least = k;
            }
            if (least) {
                json_object_set_new_nocheck(o->obj, "mainLocationId", json_string_nocheck(least));
                i2j_unkeep_prop(o, derived); /* regenerated from mainLocationId */
            }
            free(u);
        }
    }
}

/* PARTICIPANT (§2.2.1), VALARM (§2.2.2) and other sub-components. Returns 0 or -1. */
static int entry_components(entry_ctx *e, const ical_comp *c)
{
    obj_ctx *o = &e->o;
    for (size_t i = 0; i < c->ncomps && !o->cal->timing_only; i++) {
        const ical_comp *sc = c->comps[i];
        char key[256];
        if (i2j_is(sc->name, "PARTICIPANT")) {
            json_t *pt = i2j_convert_participant_comp(o, sc, key);
            json_object_set_new_nocheck(i2j_get_map(o->obj, "participants"), key, pt);
        } else if (i2j_is(sc->name, "VALARM") && !ical_comp_get_prop(sc, "TRIGGER")) {
            i2j_keep_comp(o, sc); /* RFC 5545 §3.6.6 needs TRIGGER; keep it as it is */
        } else if (i2j_is(sc->name, "VALARM")) {
            i2j_comp_key(o->cal, sc, key);
            json_t *al = i2j_convert_valarm(o, sc);
            if (!al)
                return -1;
            json_object_set_new_nocheck(i2j_get_map(o->obj, "alerts"), key, al);
        } else if (i2j_is(sc->name, "VTIMEZONE")) {
            /* RFC 5545 §3.6.5: a VTIMEZONE belongs to the VCALENDAR, and one inside an event
             * defines nothing (TZIDs resolve against the calendar's); the writer puts zones
             * at the calendar level, so kept here it would not read back (issue 12 §3.4) */
            const ical_prop *t = ical_comp_get_prop(sc, "TZID");
            i2j_warn(o, t, "VTIMEZONE inside an event or task dropped: it belongs to the calendar");
        } else if (!i2j_is(sc->name, "VLOCATION")) {
            i2j_keep_comp(o, sc);
        }
    }
    if (json_object_get(o->obj, "alerts"))
        i2j_resolve_alert_relations(json_object_get(o->obj, "alerts"));
    return 0;
}

/* ATTENDEE and ORGANIZER (§2.3.4, §2.3.29), merged into the PARTICIPANTs. */
static void entry_people(entry_ctx *e)
{
    obj_ctx *o = &e->o;
    json_t *merged = json_object(); /* the participants an ATTENDEE or ORGANIZER made */
    for (size_t i = 0; i < e->natt; i++)
        i2j_convert_attendee(o, e->attendees[i], merged);
    if (e->organizer)
        i2j_convert_organizer(o, e->organizer, merged);
    const char *k;
    json_t *pt;
    json_object_foreach(json_object_get(o->obj, "participants"), k, pt)
    {
        /* A PARTICIPANT whose address came only from CALENDAR-ADDRESS, not from an ATTENDEE
         * or ORGANIZER merged into it, says so (§2.3.5); one of the same calendar user that
         * its JSID kept apart is not merged (issue 12 §3.4: the writer names such keys) */
        json_t *ic = json_object_get(pt, "iCalendar");
        const char *addr = json_string_value(json_object_get(pt, "calendarAddress"));
        if (!ic || !addr)
            continue;
        if (!json_object_get(merged, k)) {
            json_t *n = i2j_typed_object("ICalProperty");
            json_object_set_new_nocheck(n, "name", json_string_nocheck("calendar-address"));
            json_object_set_new_nocheck(i2j_get_map(ic, "convertedProperties"), "calendarAddress",
                                        n);
        }
    }
    json_decref(merged);
}

/* A repeated UID or JSID in a PARTICIPANT, VLOCATION or VALARM (RFC 9073 §7, RFC 9074
 * §6 allow one): the first stays, the others go with a warning. */
static void dedupe_sub_ids(obj_ctx *o, const ical_comp *c)
{
    for (size_t i = 0; i < c->ncomps; i++) {
        ical_comp *sc = c->comps[i];
        int uid = 0, jsid = 0;
        for (size_t k = 0; k < sc->nprops;) {
            const ical_prop *p = &sc->props[k];
            int *seen = i2j_is(p->name, "UID") ? &uid : i2j_is(p->name, "JSID") ? &jsid : NULL;
            if (seen && (*seen)++) {
                i2j_warn(o, p, "repeated, allowed once: the first one kept, this one dropped");
                ical_comp_remove_prop(sc, k);
                continue;
            }
            k++;
        }
    }
}

/* Converts one VEVENT or VTODO; returns the object or NULL (cal->err set). */
static json_t *convert_entry(cal_ctx *cal, const ical_comp *c)
{
    entry_ctx *e = calloc(1, sizeof *e); /* 5 kB of gathered pointers: off the stack */
    obj_ctx *o = &e->o;
    o->cal = cal;
    o->comp = c;
    o->is_task = i2j_is(c->name, "VTODO");
    o->obj = i2j_typed_object(o->is_task ? "Task" : "Event");
    if (entry_begin(e, c))
        goto bad;
    dedupe_sub_ids(o, c);
    for (size_t i = 0; i < c->nprops; i++)
        if (i2j_entry_prop(e, &c->props[i]))
            goto bad;
    if (entry_dates(e))
        goto bad;
    entry_locations(e, c);
    if (entry_components(e, c))
        goto bad;
    entry_people(e);
    if (i2j_convert_jsprops(o, e->jsprops, e->njs))
        goto bad;
    if (o->ical && json_object_size(o->ical) > 2) /* more than @type and name */
        json_object_set_new_nocheck(o->obj, "iCalendar", o->ical);
    else
        json_decref(o->ical);
    json_t *obj = o->obj;
    free(e->geos);
    free(e);
    return obj;
bad:
    json_decref(o->ical);
    json_decref(o->obj);
    free(e->geos);
    free(e);
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
        /* an override without DTSTAMP keeps the series' updated (the writer gives it
         * that DTSTAMP; a null here became the time of writing, issue 12 §3.4) */
        if (depth == 0 && !strcmp(k, "updated"))
            continue;
        char *e = jptr_token_escape(k);
        char *path = *prefix ? jscal_strdupf("%s/%s", prefix, e) : strdup(e);
        free(e);
        json_object_set_new_nocheck(patch, path, json_null());
        free(path);
    }
}

/* Drops owner's empty convertedProperties, then its iCalendar if only @type and name are
 * left: nothing to say. */
static void tidy_ical(json_t *owner)
{
    json_t *ic = json_object_get(owner, "iCalendar");
    json_t *cp = json_object_get(ic, "convertedProperties");
    if (cp && !json_object_size(cp))
        json_object_del(ic, "convertedProperties");
    if (ic && json_object_size(ic) == 2)
        json_object_del(owner, "iCalendar");
}

/* The notes (convertedProperties) of what an override cannot change (jscalendarbis
 * §4.3.4: organizerCalendarAddress, a participant's calendarAddress...): the patch leaves
 * those out, so their notes would describe nothing (issue 12 §3.4). */
static void drop_ignored_notes(json_t *ov)
{
    json_t *ic = json_object_get(ov, "iCalendar");
    json_t *cp = json_object_get(ic, "convertedProperties");
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(cp, tmp, k, v)
    {
        if (patch_ignored(k))
            json_object_del(cp, k);
    }
    tidy_ical(ov);
}

/* An override cannot change a participant's calendarAddress (jscalendarbis-17 §4.3.4): one
 * of a key the series has is, after the patch, at the series' address, whatever the
 * override's ATTENDEE said. So it is taken as that address before anything looks for a
 * participant by address (same_organizer, override_organizer), as it will be read back
 * (issue 12 §3.4). */
static void series_addresses(json_t *main, json_t *ov)
{
    json_t *mparts = json_object_get(main, "participants"), *pt;
    const char *k;
    json_object_foreach(json_object_get(ov, "participants"), k, pt)
    {
        json_t *ma = json_object_get(json_object_get(mparts, k), "calendarAddress");
        if (json_is_string(ma) && json_object_get(pt, "calendarAddress"))
            json_object_set_nocheck(pt, "calendarAddress", ma);
    }
}

/* An override whose ORGANIZER is the series' organizer spelt in another case (libical's
 * 2446.ics: "MAILTO:A@Example.com" against "Mailto:A@example.com"): it cannot change
 * organizerCalendarAddress (jscalendarbis §3.3.4 ignores that key), so its organizer and
 * that participant take the series' spelling, or the instance would read back differently
 * once written (issue 12 §3.4). */
static void same_organizer(json_t *main, json_t *ov)
{
    const char *morg = json_string_value(json_object_get(main, "organizerCalendarAddress"));
    const char *oorg = json_string_value(json_object_get(ov, "organizerCalendarAddress"));
    if (!morg || !oorg || !strcmp(morg, oorg) || !cal_address_same(morg, oorg))
        return;
    char *from = strdup(oorg), *to = strdup(morg);
    json_t *parts = json_object_get(ov, "participants");
    char ok[37], nk[37];
    jscal_uuidv5(from, ok);
    jscal_uuidv5(to, nk);
    json_t *pt = json_object_get(parts, ok);
    if (pt && !json_object_get(parts, nk) &&
        !strcmp(json_string_value(json_object_get(pt, "calendarAddress")) ?: "", from)) {
        json_incref(pt);
        json_object_del(parts, ok);
        json_object_set_new_nocheck(pt, "calendarAddress", json_string(to));
        json_object_set_new_nocheck(parts, nk, pt);
        /* and the note of its ATTENDEE's parameters (§5.1.1) goes with it */
        json_t *cp = json_object_get(json_object_get(ov, "iCalendar"), "convertedProperties");
        char op[64], np[64];
        snprintf(op, sizeof op, "participants/%s", ok);
        snprintf(np, sizeof np, "participants/%s", nk);
        json_t *note = json_object_get(cp, op);
        if (note) {
            json_object_set_nocheck(cp, np, note);
            json_object_del(cp, op);
        }
    }
    json_object_set_new_nocheck(ov, "organizerCalendarAddress", json_string(to));
    free(from);
    free(to);
}

/* jscalendarbis §4.3.4: an override cannot change organizerCalendarAddress, so the
 * occurrence's organizer is the series' (after same_organizer, spelt alike), and the writer
 * gives the override the series' ORGANIZER, which the reader merges into the participant
 * of that calendar user (cal_address.h). So, as it will be when read back: that
 * participant of the override, if it has one, is the organizer's (owner), whether the
 * override has an ORGANIZER of its own or none; an override without ORGANIZER and without
 * such a participant keeps the series' organizer participant (issue 12 §3.4). */
static void override_organizer(json_t *main, json_t *ov)
{
    const char *morg = json_string_value(json_object_get(main, "organizerCalendarAddress"));
    if (!morg)
        return;
    json_t *parts = json_object_get(ov, "participants");
    json_t *mparts = json_object_get(main, "participants");
    const char *k = cal_address_organizer(parts, morg, NULL);
    const char *mk = cal_address_organizer(mparts, morg, NULL);
    /* the override's participant of the series' organizer's key has the series' address,
     * whatever its own (an override cannot change calendarAddress, §4.3.4) */
    if (!k && mk && json_object_get(parts, mk))
        k = mk;
    if (k) {
        json_t *pt = json_object_get(parts, k);
        json_object_set_new_nocheck(i2j_get_map(pt, "roles"), "owner", json_true());
        /* that ORGANIZER gives it its address: a PARTICIPANT's note that the address came
         * from CALENDAR-ADDRESS alone (entry_people) would not read back */
        json_object_del(json_object_get(json_object_get(pt, "iCalendar"), "convertedProperties"),
                        "calendarAddress");
        tidy_ical(pt);
        /* and the series' SENT-BY, which that ORGANIZER carries (sentBy is the series'
         * alone: jscalendarbis-17 §4.3.4) */
        json_t *sb = json_object_get(main, "sentBy");
        if (sb && !json_object_get(pt, "sentBy"))
            json_object_set_nocheck(pt, "sentBy", sb);
        return;
    }
    if (json_object_get(ov, "organizerCalendarAddress"))
        return;
    if (mk && !json_object_get(parts, mk)) {
        json_object_set_nocheck(i2j_get_map(ov, "participants"), mk, json_object_get(mparts, mk));
        return;
    }
    /* a series without the organizer's participant (an ATTENDEE has ROLE=OWNER, draft-25
     * §2.3.29) and an override without ORGANIZER and without any owner: the ORGANIZER the
     * override is written with makes one when read back (issue 12 §3.4), so it has it now */
    char u5[37];
    jscal_uuidv5(morg, u5);
    if (mk || cal_address_any_owner(parts) || json_object_get(parts, u5))
        return;
    json_t *np = i2j_typed_object("Participant");
    json_object_set_new_nocheck(np, "calendarAddress", json_string(morg));
    json_object_set_new_nocheck(i2j_get_map(np, "roles"), "owner", json_true());
    json_object_set_new_nocheck(i2j_get_map(ov, "participants"), u5, np);
}

/* The VTIMEZONE that h_recurrence_id kept for RECURRENCE-ID's zone: an override's
 * recurrenceIdTimeZone is its key's, not a patch (jscalendarbis §4.3.4), so the zone goes
 * with it unless the override's start or end is in it. */
static void drop_rid_zone(json_t *ov, const char *ridtz)
{
    const char *tz = json_string_value(json_object_get(ov, "timeZone"));
    const char *etz = json_string_value(json_object_get(ov, "endTimeZone"));
    json_t *ic = json_object_get(ov, "iCalendar");
    json_t *comps = json_object_get(ic, "components");
    if (!ridtz || !comps || (tz && !strcmp(tz, ridtz)) || (etz && !strcmp(etz, ridtz)))
        return;
    size_t i;
    json_t *c;
    json_array_foreach(comps, i, c)
    {
        if (strcmp(json_string_value(json_array_get(c, 0)) ?: "", "vtimezone"))
            continue;
        size_t k;
        json_t *p;
        json_array_foreach(json_array_get(c, 1), k, p)
        {
            if (!strcmp(json_string_value(json_array_get(p, 0)) ?: "", "tzid") &&
                !strcmp(json_string_value(json_array_get(p, 3)) ?: "", ridtz)) {
                json_array_remove(comps, i);
                if (!json_array_size(comps))
                    json_object_del(ic, "components");
                if (json_object_size(ic) == 2) /* @type and name: nothing to say */
                    json_object_del(ov, "iCalendar");
                return;
            }
        }
    }
}

/* Folds the override ov (a converted RECURRENCE-ID component) into main as a patch. seen
 * holds the instances already overridden by a component. */
static void add_override(json_t *main, json_t *ov, cal_ctx *cal, int line, json_t *seen)
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
        int64_t u = tz_local_to_utc(z1, jscal_ldt_to_secs(&t));
        jscal_secs_to_ldt(tz_utc_to_local(z2, u), &t);
    }
    char key[24];
    jscal_ldt_format(&t, 0, key);
    /* A second component for the same instance (same UID and RECURRENCE-ID): the first
     * one stays, as a repeated single-valued property keeps the first (issue 12 §3.5);
     * merging both patches could give one that contradicts itself ("alerts": null next
     * to "alerts/a/…"). */
    char *seen_key = jscal_strdupf("%p/%s", (void *)main, key);
    int again = json_object_get(seen, seen_key) != NULL;
    json_object_set_new(seen, seen_key, json_true());
    free(seen_key);
    if (again) {
        if (cal->warnings)
            json_array_append_new(cal->warnings,
                                  json_sprintf("line %d: RECURRENCE-ID %s: a second override of "
                                               "the same instance dropped",
                                               line, key));
        return;
    }
    /* The occurrence inherits everything but start (or due), which moves to the id. */
    json_t *base = json_deep_copy(main);
    json_object_del(base, "recurrenceOverrides");
    if (json_object_get(base, "start") || !json_object_get(base, "due"))
        json_object_set_new_nocheck(base, "start", json_string_nocheck(key));
    else
        json_object_set_new_nocheck(base, "due", json_string_nocheck(key));
    series_addresses(main, ov);
    same_organizer(main, ov);
    override_organizer(main, ov);
    drop_ignored_notes(ov);
    drop_rid_zone(ov, ridtz);
    json_t *patch = json_object();
    diff_into(patch, "", base, ov, 0);
    json_decref(base);
    json_t *ovs = i2j_get_map(main, "recurrenceOverrides");
    json_t *existing = json_object_get(ovs, key);
    if (json_is_true(json_object_get(existing, "excluded"))) {
        /* EXDATE removes the instance (RFC 5545 §3.8.5.1); an excluded override carries no
         * other patch (jscalendarbis §4.3.4), so the RECURRENCE-ID component goes. */
        if (cal->warnings)
            json_array_append_new(cal->warnings,
                                  json_sprintf("line %d: RECURRENCE-ID %s: override of an "
                                               "instance that EXDATE excludes dropped",
                                               line, key));
    } else if (existing)
        json_object_update(existing, patch);
    else
        json_object_set_nocheck(ovs, key, patch);
    json_decref(patch);
}

/* ---- VCALENDAR (§2.1.1) --------------------------------------------------------------- */

/* A calendar property whose value does not convert: kept as it is, with a warning. */
static void keep_invalid(obj_ctx *g, const ical_prop *p)
{
    char *m = jscal_strdupf("%s; kept as it is", g->cal->err);
    if (g->cal->warnings)
        json_array_append_new(g->cal->warnings, json_string(m));
    free(m);
    free(g->cal->err);
    g->cal->err = NULL;
    i2j_keep_prop(g, p);
}

/* nurl: the URLs of the group's calendars that became Links so far (several VCALENDARs make one
 * Group, and only its first URL is written back as URL: the others are noted, issue 12 §3.4) */
static void calendar_props(cal_ctx *cal, const ical_comp *vcal, json_t *group, char **method,
                           char **prodid, int *nurl)
{
    obj_ctx g;
    memset(&g, 0, sizeof g);
    g.cal = cal;
    g.comp = vcal;
    g.obj = group;
    /* several VCALENDARs make one Group: what a later one keeps or notes joins what the
     * earlier ones did (it replaced it, issue 12 §3.4) */
    g.ical = json_incref(json_object_get(group, "iCalendar"));
    /* the locale is the first NAME's LANGUAGE (draft-25 §2.3.28), whatever comes before
     * it; a DESCRIPTION's only without a NAME (the writer writes NAME first) */
    const ical_prop *name = ical_comp_get_prop((ical_comp *)vcal, "NAME");
    const char *name_lang = name ? ical_prop_param1(name, "LANGUAGE") : NULL;
    if (name_lang)
        json_object_set_new_nocheck(group, "locale", json_string_nocheck(name_lang));
    for (size_t i = 0; i < vcal->nprops; i++) {
        const ical_prop *p = &vcal->props[i];
        const char *n = p->name;
        if (i2j_is(n, "PRODID") && i2j_text_is(p, JSCAL_DEFAULT_PRODID)) {
            continue; /* our own placeholder for data that had none */
        } else if (i2j_is(n, "PRODID")) {
            i2j_set_text(group, "prodId", p->value);
            free(*prodid);
            *prodid = ical_text_unescape(p->value);
        } else if (i2j_is(n, "METHOD")) {
            free(*method);
            *method = jscal_strlower(p->value);
        } else if (i2j_is(n, "VERSION") && i2j_text_is(p, "2.0")) {
            continue;
        } else if (i2j_is(n, "CALSCALE") && i2j_text_is(p, "GREGORIAN")) {
            continue;
        } else if (i2j_is(n, "UID")) {
            i2j_set_text(group, "uid", p->value);
        } else if (i2j_is(n, "NAME") && !json_object_get(group, "title")) {
            i2j_set_text(group, "title", p->value);
            const char *l = ical_prop_param1(p, "LANGUAGE");
            if (l && !json_object_get(group, "locale"))
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
                keep_invalid(&g, p);
        } else if (i2j_is(n, "LAST-MODIFIED")) {
            if (i2j_set_utc(&g, p, group, "updated"))
                keep_invalid(&g, p);
        } else if (i2j_is(n, "SOURCE")) {
            json_object_set_new_nocheck(group, "source", json_string_nocheck(p->value));
        } else if (i2j_is(n, "ATTACH") || i2j_is(n, "IMAGE") || i2j_is(n, "LINK") ||
                   i2j_is(n, "URL")) {
            i2j_add_link(&g, p, nurl);
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
    return ical_to_jscal_stream(ics, len, flags, 0, NULL, NULL, &streamed, NULL, err);
}

json_t *ical_to_jscal_warn(const char *ics, size_t len, int flags, json_t *warnings, char **err)
{
    int streamed;
    return ical_to_jscal_stream(ics, len, flags, 0, NULL, NULL, &streamed, warnings, err);
}

/* One conversion of a whole text. */
typedef struct {
    cal_ctx cal;
    ical_comp **tops;
    int ntops;
    ical_comp ***comps; /* slots in the parsed tree, freed as soon as converted */
    int *lines;         /* their BEGIN lines */
    json_t **objs;      /* their conversions (NULL: refused, or handed to the caller) */
    size_t ncomps;
    json_t *group;
    char *method, *prodid;
    int nurl; /* calendar_props */
} conversion;

static void add_comp_slot(conversion *cv, ical_comp **slot)
{
    cv->comps = realloc(cv->comps, (cv->ncomps + 1) * sizeof *cv->comps);
    cv->lines = realloc(cv->lines, (cv->ncomps + 1) * sizeof *cv->lines);
    cv->lines[cv->ncomps] = (*slot)->line;
    cv->comps[cv->ncomps++] = slot;
}

/* Sorts the parsed components: calendar properties into the Group, VTIMEZONEs aside, the
 * VEVENTs and VTODOs in order. VEVENT, VTODO and VTIMEZONE components outside any VCALENDAR
 * (files some producers write) are read as if they were in one. */
static int gather(conversion *cv)
{
    cal_ctx *cal = &cv->cal;
    int bare = 0, vcal = 0;
    for (int t = 0; t < cv->ntops; t++) {
        ical_comp *top = cv->tops[t];
        ical_comp **slots = &cv->tops[t];
        size_t n = 1;
        if (i2j_is(top->name, "VCALENDAR")) {
            vcal = 1;
            if (!cal->timing_only)
                calendar_props(cal, top, cv->group, &cv->method, &cv->prodid, &cv->nurl);
            slots = top->comps;
            n = top->ncomps;
        } else if (!bare++ && cal->warnings) {
            json_array_append_new(cal->warnings,
                                  json_sprintf("line %d: BEGIN:%s outside of a VCALENDAR: "
                                               "read as if in one",
                                               top->line, top->name));
        }
        for (size_t i = 0; i < n; i++) {
            ical_comp *sc = slots[i];
            if (i2j_is(sc->name, "VTIMEZONE")) {
                cal->vtz = realloc(cal->vtz, (cal->nvtz + 1) * sizeof *cal->vtz);
                cal->vtz[cal->nvtz++] = sc;
            } else if (i2j_is(sc->name, "VEVENT") || i2j_is(sc->name, "VTODO")) {
                add_comp_slot(cv, &slots[i]);
            } else if (slots == &cv->tops[t] && cal->warnings) {
                json_array_append_new(cal->warnings,
                                      json_sprintf("line %d: BEGIN:%s outside of a VCALENDAR "
                                                   "ignored",
                                                   sc->line, sc->name));
            }
        }
    }
    if (!vcal && !cv->ncomps) {
        cal->err = jscal_strdupf("line %d: no BEGIN:VCALENDAR found", cv->tops[0]->line);
        return -1;
    }
    return 0;
}

/* Converts entry i. A component that cannot become an Event or Task is refused with a
 * warning and the others go on; the error of the first refusal is kept for a calendar
 * where nothing converts. Returns 0, or -1 if the caller stopped the conversion. */
static int convert_one(conversion *cv, size_t i, char **first_err)
{
    cal_ctx *cal = &cv->cal;
    json_t *obj = convert_entry(cal, *cv->comps[i]);
    ical_comp_free(*cv->comps[i]); /* keeps the peak memory of large imports down */
    *cv->comps[i] = NULL;
    if (!obj) {
        if (cal->warnings)
            json_array_append_new(cal->warnings, json_sprintf("%s (component refused)", cal->err));
        if (!*first_err)
            *first_err = cal->err;
        else
            free(cal->err);
        cal->err = NULL;
        return 0;
    }
    if (cv->method)
        json_object_set_new_nocheck(obj, "method", json_string_nocheck(cv->method));
    if (cv->prodid)
        json_object_set_new_nocheck(obj, "prodId", json_string_nocheck(cv->prodid));
    cv->objs[i] = obj;
    return 0;
}

/* The main component of override i (same type and UID, with a recurrence set), or NULL. */
static json_t *main_of(conversion *cv, size_t i)
{
    json_t *ov = cv->objs[i], *main = NULL;
    const char *uid = json_string_value(json_object_get(ov, "uid"));
    for (size_t k = 0; k < cv->ncomps && uid; k++) {
        json_t *m = cv->objs[k];
        if (k == i || !m || json_object_get(m, "recurrenceId"))
            continue;
        if (!json_equal(json_object_get(m, "@type"), json_object_get(ov, "@type")))
            continue;
        const char *u2 = json_string_value(json_object_get(m, "uid"));
        if (u2 && !strcmp(u2, uid) &&
            (json_object_get(m, "recurrenceRule") || json_object_get(m, "recurrenceOverrides")))
            main = m;
    }
    return main;
}

/* An Event {start at midnight, showWithoutTime, no duration} is what draft-25 §2.3.16
 * writes as DTSTART;VALUE=DATE, and a DATE without DTEND lasts a day (RFC 5545 §3.6.1),
 * so it reads back with duration P1D. One read from a DATE-TIME (entry_dates noted it)
 * keeps the note where the writer would otherwise write that DATE, so that it writes the
 * DATE-TIME it was (jscal_to_ical_parts.c j2i_choose_form); elsewhere the note goes. */
static void settle_start_note(json_t *entry)
{
    json_t *ic = json_object_get(entry, "iCalendar");
    json_t *cp = json_object_get(ic, "convertedProperties");
    json_t *note = json_object_get(cp, "start");
    const char *vt = json_string_value(json_object_get(note, "valueType"));
    if (!vt || strcmp(vt, "date-time"))
        return;
    json_incref(note);
    json_object_del(cp, "start");
    if (j2i_choose_form(entry) == 0) {
        json_object_set_nocheck(cp, "start", note); /* the writer would write a DATE */
    } else {
        tidy_ical(entry);
    }
    json_decref(note);
}

/* Main components first, then their overrides folded into them (§2.1.2); an instance
 * without its main component stands alone. */
static json_t *fold_entries(conversion *cv)
{
    json_t *entries = json_array(), *seen = json_object();
    for (size_t i = 0; i < cv->ncomps; i++)
        if (cv->objs[i] && !json_object_get(cv->objs[i], "recurrenceId"))
            json_array_append(entries, cv->objs[i]);
    for (size_t i = 0; i < cv->ncomps; i++) {
        if (!cv->objs[i] || !json_object_get(cv->objs[i], "recurrenceId"))
            continue;
        json_t *main = main_of(cv, i);
        if (main)
            add_override(main, cv->objs[i], &cv->cal, cv->lines[i], seen);
        else
            json_array_append(entries, cv->objs[i]);
    }
    json_decref(seen);
    size_t i;
    json_t *entry;
    json_array_foreach(entries, i, entry) settle_start_note(entry);
    return entries;
}

/* A lone entry with nothing of the calendar's own worth keeping, unless a Group is asked
 * for. Returns the result (a new reference) and drops the group. */
static json_t *unwrap(json_t *group, json_t *entries, int flags)
{
    if ((flags & ICAL_TO_JSCAL_GROUP) || json_array_size(entries) != 1)
        return group;
    const char *k;
    json_t *v;
    json_object_foreach(group, k, v)
    {
        (void)v;
        if (strcmp(k, "@type") && strcmp(k, "entries") && strcmp(k, "prodId") && strcmp(k, "version"))
            return group;
    }
    json_t *e = json_incref(json_array_get(entries, 0));
    json_decref(group);
    json_object_set_new_nocheck(e, "version", json_string_nocheck("2.0")); /* on its own */
    return e;
}

/* Takes back the warning about the refusal that becomes the error. */
static void unwarn_refusal(json_t *warnings, const char *err)
{
    size_t n = strlen(err);
    for (size_t i = 0; i < json_array_size(warnings); i++) {
        const char *w = json_string_value(json_array_get(warnings, i));
        if (w && !strncmp(w, err, n) && !strcmp(w + n, " (component refused)")) {
            json_array_remove(warnings, i);
            return;
        }
    }
}

static void conversion_free(conversion *cv)
{
    for (size_t i = 0; cv->objs && i < cv->ncomps; i++)
        json_decref(cv->objs[i]);
    free(cv->objs);
    free(cv->comps);
    free(cv->lines);
    free(cv->method);
    free(cv->prodid);
    for (size_t i = 0; i < cv->cal.ncz; i++) {
        free(cv->cal.cz[i].tzid);
        icaltimezone_free(cv->cal.cz[i].zone, 1);
    }
    free(cv->cal.cz);
    free(cv->cal.vtz);
    json_decref(cv->cal.warned);
    i2j_uuid_cache_free(&cv->cal);
    for (int t = 0; t < cv->ntops; t++)
        ical_comp_free(cv->tops[t]);
    free(cv->tops);
}

json_t *ical_to_jscal_stream(const char *ics, size_t len, int flags, size_t min_entries,
                             ical_entry_fn fn, void *ud, int *streamed, json_t *warnings,
                             char **err)
{
    conversion cv;
    memset(&cv, 0, sizeof cv);
    char *first_err = NULL;
    int stream = 0, stopped = 0;
    *err = NULL;
    *streamed = 0;
    cv.ntops = ical_parse_repair(ics, len, &cv.tops, warnings, err);
    if (cv.ntops < 0)
        return NULL;
    tz_init();
    cv.cal.timing_only = (flags & ICAL_TO_JSCAL_TIMING) != 0;
    cv.cal.warnings = warnings;
    cv.group = i2j_typed_object("Group");
    /* jscalendarbis-17 §4.1 "version": a Group sets it, its entries do not */
    json_object_set_new_nocheck(cv.group, "version", json_string_nocheck("2.0"));
    if (gather(&cv))
        goto done;
    if (fn && cv.ncomps >= min_entries) {
        stream = 1;
        for (size_t i = 0; i < cv.ncomps && stream; i++)
            stream = !may_be_override(*cv.comps[i]);
    }
    cv.objs = calloc(cv.ncomps ? cv.ncomps : 1, sizeof *cv.objs);
    size_t handed = 0;
    for (size_t i = 0; i < cv.ncomps; i++) {
        convert_one(&cv, i, &first_err);
        if (stream && cv.objs[i]) {
            /* no overrides: every object is an entry of its own, in this order */
            settle_start_note(cv.objs[i]);
            int r = fn(cv.objs[i], handed++, ud);
            json_decref(cv.objs[i]);
            cv.objs[i] = NULL;
            if (r) {
                stopped = 1;
                goto done;
            }
        }
    }
    int any = handed > 0;
    for (size_t i = 0; i < cv.ncomps; i++)
        any |= cv.objs[i] != NULL;
    if (first_err && !any) { /* nothing converted: refused for the first reason */
        unwarn_refusal(warnings, first_err);
        cv.cal.err = first_err;
        first_err = NULL;
        goto done;
    }
    if (stream) {
        *streamed = 1;
        goto done;
    }
    json_t *entries = fold_entries(&cv);
    json_object_set_new_nocheck(cv.group, "entries", entries);
    cv.group = unwrap(cv.group, entries, flags);
done:
    free(first_err);
    conversion_free(&cv);
    if (cv.cal.err || stopped) {
        json_decref(cv.group);
        *err = cv.cal.err;
        *streamed = 0;
        return NULL;
    }
    return cv.group;
}
