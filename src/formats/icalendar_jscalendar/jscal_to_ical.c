/*
 * jscal_to_ical.c — JSCalendar -> iCalendar, following
 * draft-ietf-calext-jscalendar-icalendar-25 §3: Event/Task -> VEVENT/VTODO (§3.2), Group ->
 * VCALENDAR (§3.3), Link, Location, Participant, VirtualLocation and Alert as §3.1-§3.7
 * say, recurrence overrides as EXDATE, RDATE or RECURRENCE-ID components, the "iCalendar"
 * property (§5.1.1) restored, and every other JSCalendar property as JSPROP (§4.1.2).
 * VTIMEZONEs are generated for each zone used (libical builtin zones from zoneinfo, cached
 * per TZID by ical_vtimezone.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "formats/icalendar_jscalendar/ical.h"
#include "formats/icalendar/ical_internal.h"
#include "formats/icalendar/ical_vtimezone.h"
#include "formats/jscalendar/jscal.h"
#include "formats/recurrence/recur.h"
#include "formats/timezone/tz.h"
#include "formats/icalendar_jscalendar/jscal_conv.h"

/* ---- Event and Task (§3.2) ------------------------------------------------------------ */

static int build_entry(out_ctx *o, const json_t *obj, ical_comp *out, int as_override,
                       const char *rid);

/* One property per member of a set, as draft -25 §2.3.6 writes CATEGORIES (one
 * "CATEGORIES:Favorites" line per keyword): strict string comparers of the draft's examples
 * agree, and a reader that takes only the first value of a list loses nothing. */
static void add_set_prop(ical_comp *c, const char *name, const json_t *set, int text)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)set, k, v)
    {
        char *e = text ? ical_text_escape(k) : strdup(k);
        ical_comp_add_prop(c, name, e);
        free(e);
    }
}

static int add_overrides_each(out_ctx *o, ical_comp *vcal_like, ical_comp *c, const json_t *obj,
                              const json_t *ovs, const json_t *generated);

static int add_overrides(out_ctx *o, ical_comp *vcal_like, ical_comp *c, const json_t *obj)
{
    const json_t *ovs = json_object_get(obj, "recurrenceOverrides");
    /* which override ids the rule generates, in one pass (issue 19 §4) */
    json_t *generated = recur_rule_generated(obj, ovs);
    int rc = add_overrides_each(o, vcal_like, c, obj, ovs, generated);
    json_decref(generated);
    return rc;
}

static int add_overrides_each(out_ctx *o, ical_comp *vcal_like, ical_comp *c, const json_t *obj,
                              const json_t *ovs, const json_t *generated)
{
    const char *k;
    json_t *patch;
    json_object_foreach((json_t *)ovs, k, patch)
    {
        char *path = j2i_path2("recurrenceOverrides", k);
        if (!json_is_object(patch)) {
            j2i_ofail(o, path, "not a PatchObject");
            free(path);
            return -1;
        }
        jscal_ldt t;
        if (jscal_ldt_parse(k, &t)) {
            j2i_ofail(o, path, "key is not a LocalDateTime");
            free(path);
            return -1;
        }
        json_t *ex = json_object_get(patch, "excluded");
        const char *pn = j2i_cp_name(o, path);
        if (json_is_true(ex) && json_object_size(patch) == 1) {
            j2i_add_dt(o, c, "EXDATE", k, path);
        } else if (json_object_size(patch) == 0) {
            j2i_add_dt(o, c, "RDATE", k, path);
        } else if (pn && !strcasecmp(pn, "rdate") && json_object_size(patch) == 1 &&
                   j2i_jstr(patch, "duration")) {
            j2i_add_dt(o, c, "RDATE", k, path);
            ical_prop *p = &c->props[c->nprops - 1];
            char *v = jscal_strdupf("%s/%s", p->value, j2i_jstr(patch, "duration"));
            free(p->value);
            p->value = v;
            ical_prop_del_param(p, "VALUE");
            ical_prop_add_param(p, "VALUE", "PERIOD");
        } else {
            /* A recurrence override component (§2.1.2). An id the rule does not generate
             * is an extra occurrence and needs an RDATE as well. */
            if (generated ? !json_object_get(generated, k) : !recur_rule_generates(obj, k))
                j2i_add_dt(o, c, "RDATE", k, path);
            json_t *top = json_copy((json_t *)obj); /* without the overrides: n^2 else */
            json_object_del(top, "recurrenceOverrides");
            json_object_del(top, "recurrenceRule");
            json_t *inst = json_deep_copy(top);
            json_decref(top);
            if (json_object_get(inst, "start") || !json_object_get(inst, "due"))
                json_object_set_new(inst, "start", json_string(k));
            else
                json_object_set_new(inst, "due", json_string(k));
            json_t *p2 = jscal_override_patch_filter(patch); /* jscalendarbis §4.3.4 */
            char *perr = NULL;
            if (jscal_patch_apply(inst, p2, &perr)) {
                char *ep = jscal_strdupf("%s/%s", path, perr ? perr : "");
                j2i_ofail(o, ep, "invalid patch");
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
            sub.rid_tz = o->tz; /* the key is in the main object's zone */
            sub.rid_form = o->form;
            sub.as_override = 1;
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

/* UID, DTSTAMP, CREATED, SEQUENCE, SUMMARY, DESCRIPTION (§3.1-§3.3). */
static int entry_texts(out_ctx *o, const json_t *obj, ical_comp *out)
{
    const char *uid = j2i_jstr(obj, "uid");
    if (!uid)
        return j2i_ofail(o, "uid", "missing");
    j2i_add_text(out, "UID", uid);
    const char *updated = j2i_jstr(obj, "updated");
    if (updated) {
        if (j2i_add_utc(o, out, "DTSTAMP", updated, "updated"))
            return -1;
    } else {
        char buf[24];
        recur_format_utc(o->w->now, buf);
        j2i_add_utc(o, out, "DTSTAMP", buf, "updated");
    }
    if (j2i_jstr(obj, "created") && j2i_add_utc(o, out, "CREATED", j2i_jstr(obj, "created"), "created"))
        return -1;
    json_t *v;
    char tmp[64];
    if ((v = json_object_get(obj, "sequence")) && json_is_integer(v)) {
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
        ical_comp_add_prop(out, "SEQUENCE", tmp);
    }
    const char *locale = j2i_jstr(obj, "locale");
    const char *title = j2i_jstr(obj, "title");
    const char *desc = j2i_jstr(obj, "description"), *dct = j2i_jstr(obj, "descriptionContentType");
    /* "" is the default title, but not in an instance: neither an override nor an entry
     * standing alone with a recurrenceId (the reader keeps an instance's empty SUMMARY),
     * nor an empty SUMMARY read with parameters (convertedProperties has them), nor one
     * that carries the locale (draft-25 §2.3.42: `SUMMARY;LANGUAGE=de:` reads as title ""
     * and locale; LANGUAGE goes on DESCRIPTION, §2.3.13, only without a SUMMARY) */
    int summary = title && (*title || o->as_override || json_object_get(obj, "recurrenceId") ||
                            json_object_get(o->cp, "title") || locale);
    if (summary) {
        ical_prop *p = j2i_add_text(out, "SUMMARY", title);
        if (locale)
            ical_prop_add_param(p, "LANGUAGE", locale);
        j2i_apply_cp(o, p, "title");
    }
    if (desc) {
        ical_prop *p = j2i_add_description(o, out, desc, dct);
        if (locale && !summary)
            ical_prop_add_param(p, "LANGUAGE", locale);
        j2i_apply_cp(o, p, "description");
    } else if (locale && !summary) { /* nothing carries LANGUAGE: a JSPROP (draft-25 §4.1.2) */
        json_t *one = json_pack("{s:s}", "locale", locale);
        static const char *const none[] = {NULL};
        j2i_add_jsprops(out, one, NULL, none);
        json_decref(one);
    }
    return 0;
}

/* DTEND = start + duration (jscalendarbis §1.4.6), in endTimeZone if set. */
static int entry_dtend(out_ctx *o, const json_t *obj, ical_comp *out, const jscal_dur *dp,
                       const char *etz)
{
    jscal_dur d = *dp;
    char tmp[64];
    jscal_ldt st;
    if (jscal_ldt_parse(j2i_jstr(obj, "start"), &st))
        return j2i_ofail(o, "start", "not a LocalDateTime");
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
        return j2i_ofail(o, "endTimeZone", "unknown time zone");
    ical_dt_format(&e, tmp);
    ical_prop *p = ical_comp_add_prop(out, "DTEND", tmp);
    if (e.is_date)
        ical_prop_add_param(p, "VALUE", "DATE");
    else if (!e.is_utc && o->tz) {
        ical_prop_add_param(p, "TZID", endtz);
        j2i_add_zone(o->w, endtz, e.t.year);
    }
    j2i_apply_cp(o, p, "duration");
    return 0;
}

/* duration: DTEND where it came from one or the end has a zone of its own, else DURATION. */
static int entry_duration(out_ctx *o, const json_t *obj, ical_comp *out, int is_task)
{
    const char *dur = j2i_jstr(obj, "duration");
    if (dur) {
        jscal_dur d;
        if (jscal_dur_parse(dur, 0, &d))
            return j2i_ofail(o, "duration", "not a Duration");
        const char *etz = j2i_jstr(obj, "endTimeZone");
        const char *how = j2i_cp_name(o, "duration");
        if (!is_task && j2i_jstr(obj, "start") && ((etz && o->tz) || (how && !strcasecmp(how, "dtend")))) {
            if (entry_dtend(o, obj, out, &d, etz))
                return -1;
        } else {
            ical_comp_add_prop(out, "DURATION", dur);
        }
    }
    return 0;
}

/* RECURRENCE-ID: rid for an override being written, else the object's recurrenceId. */
static int entry_recurrence_id(out_ctx *o, const json_t *obj, ical_comp *out, int as_override,
                               const char *rid)
{
    char tmp[64];
    if (as_override) {
        const char *ridtz = o->rid_tz;
        ical_dt d;
        if (jscal_ldt_parse(rid, &d.t))
            return j2i_ofail(o, "recurrenceId", "not a LocalDateTime");
        d.is_date = o->rid_form == 0;
        d.is_utc = o->rid_form == 2;
        ical_dt_format(&d, tmp);
        ical_prop *p = ical_comp_add_prop(out, "RECURRENCE-ID", tmp);
        if (d.is_date)
            ical_prop_add_param(p, "VALUE", "DATE");
        else if (!d.is_utc && ridtz)
            ical_prop_add_param(p, "TZID", ridtz);
        j2i_apply_cp(o, p, "recurrenceId"); /* RANGE=THISANDFUTURE, say */
    } else if (j2i_jstr(obj, "recurrenceId")) {
        const char *ridtz = j2i_jstr(obj, "recurrenceIdTimeZone");
        ical_dt d;
        if (jscal_ldt_parse(j2i_jstr(obj, "recurrenceId"), &d.t))
            return j2i_ofail(o, "recurrenceId", "not a LocalDateTime");
        /* A DATE only if that says all: an instance standing alone may have been read from
         * a DATE-TIME RECURRENCE-ID beside a DATE DTSTART (RFC 5545 §3.8.4.4 wants the same
         * type, real files differ); its zone or time would be lost (issue 12 §3.4) */
        d.is_date = o->form == 0 && !ridtz && !d.t.hour && !d.t.minute && !d.t.second;
        d.is_utc = ridtz && !strcmp(ridtz, "Etc/UTC");
        ical_dt_format(&d, tmp);
        ical_prop *p = ical_comp_add_prop(out, "RECURRENCE-ID", tmp);
        if (d.is_date)
            ical_prop_add_param(p, "VALUE", "DATE");
        else if (!d.is_utc && ridtz) {
            ical_prop_add_param(p, "TZID", ridtz);
            j2i_add_zone(o->w, ridtz, d.t.year);
        }
        j2i_apply_cp(o, p, "recurrenceId");
    }
    return 0;
}

/* STATUS, TRANSP, CLASS, PRIORITY, COLOR, CATEGORIES, CONCEPT, SHOW-WITHOUT-TIME, task
 * properties and RELATED-TO. */
static void entry_classification(out_ctx *o, const json_t *obj, ical_comp *out, int is_task)
{
    json_t *v;
    char tmp[64];
    /* Status, transparency, class, priority */
    const char *st = j2i_jstr(obj, is_task ? "progress" : "status");
    if (st) { /* TEXT (RFC 5545 §3.8.1.11): escaped, as the reader unescapes it */
        char *u = jscal_strupper(st), *e = ical_text_escape(u);
        ical_comp_add_prop(out, "STATUS", e);
        free(e);
        free(u);
    }
    const char *fb = j2i_jstr(obj, "freeBusyStatus");
    if (fb && (!strcmp(fb, "free") || !strcmp(fb, "busy")))
        ical_comp_add_prop(out, "TRANSP", !strcmp(fb, "free") ? "TRANSPARENT" : "OPAQUE");
    const char *priv = j2i_jstr(obj, "privacy");
    if (priv && (!strcmp(priv, "public") || !strcmp(priv, "private") || !strcmp(priv, "secret")))
        ical_comp_add_prop(out, "CLASS", !strcmp(priv, "public")    ? "PUBLIC"
                                         : !strcmp(priv, "private") ? "PRIVATE"
                                                                    : "CONFIDENTIAL");
    if ((v = json_object_get(obj, "priority")) && json_is_integer(v)) {
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
        ical_comp_add_prop(out, "PRIORITY", tmp);
    }
    if (j2i_jstr(obj, "color"))
        j2i_add_text(out, "COLOR", j2i_jstr(obj, "color"));
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
        if (j2i_jstr(obj, "estimatedDuration"))
            ical_comp_add_prop(out, "ESTIMATED-DURATION", j2i_jstr(obj, "estimatedDuration"));
    }
    {
        const char *k;
        json_object_foreach(json_object_get(obj, "relatedTo"), k, v)
        {
            ical_prop *p = j2i_add_text(out, "RELATED-TO", k);
            const char *rk;
            json_t *rv;
            json_object_foreach(json_object_get(v, "relation"), rk, rv)
            {
                char *u = jscal_strupper(rk);
                ical_prop_add_param(p, "RELTYPE", u);
                free(u);
            }
            char *path = j2i_path2("relatedTo", k);
            j2i_apply_cp(o, p, path);
            free(path);
        }
    }
}

/* Builds the component for obj into out. With as_override, rid is the RECURRENCE-ID in the
 * object's zone and no recurrence properties are written. */
static int build_entry(out_ctx *o, const json_t *obj, ical_comp *out, int as_override,
                       const char *rid)
{
    const char *type = j2i_jstr(obj, "@type");
    int is_task = type && !strcmp(type, "Task");
    o->obj = obj;
    o->cp = json_object_get(json_object_get(obj, "iCalendar"), "convertedProperties");
    o->tz = j2i_jstr(obj, "timeZone");
    o->form = j2i_choose_form(obj);
    if (o->tz && o->form == 1 && !tz_builtin(o->tz) &&
        !jscal_timezone_known(o->tz, obj))
        return j2i_ofail(o, "timeZone", "unknown time zone");
    if (entry_texts(o, obj, out))
        return -1;
    /* Dates */
    if (j2i_jstr(obj, "start") && j2i_add_dt(o, out, "DTSTART", j2i_jstr(obj, "start"), "start"))
        return -1;
    if (is_task && j2i_jstr(obj, "due") && j2i_add_dt(o, out, "DUE", j2i_jstr(obj, "due"), "due"))
        return -1;
    if (entry_duration(o, obj, out, is_task))
        return -1;
    if (entry_recurrence_id(o, obj, out, as_override, rid))
        return -1;
    if (!as_override && json_object_get(obj, "recurrenceRule") &&
        !json_is_null(json_object_get(obj, "recurrenceRule")) &&
        j2i_add_rrule(o, out, json_object_get(obj, "recurrenceRule")))
        return -1;
    entry_classification(o, obj, out, is_task);
    j2i_add_locations(o, out, obj);
    j2i_add_virtual_locations(o, out, json_object_get(obj, "virtualLocations"));
    j2i_add_links(o, out, json_object_get(obj, "links"), "links");
    j2i_add_participants(o, out, obj, is_task);
    if (j2i_add_alerts(o, out, obj))
        return -1;
    if (j2i_restore_ical(o, out, obj, ""))
        return -1;
    static const char *const known[] = {
        "uid", "updated", "created", "sequence", "title", "description",
        "descriptionContentType", "locale", "start", "due", "duration", "endTimeZone",
        "timeZone", "recurrenceId", "recurrenceIdTimeZone", "recurrenceRule",
        "recurrenceOverrides", "status", "progress", "freeBusyStatus", "privacy", "priority",
        "color", "keywords", "categories", "showWithoutTime", "percentComplete",
        "estimatedDuration", "relatedTo", "locations", "mainLocationId", "virtualLocations",
        "links", "participants", "organizerCalendarAddress", "sentBy", "alerts", "method",
        "prodId", "version", NULL};
    j2i_add_jsprops(out, obj, NULL, known);
    /* STATUS carries status (Event) or progress (Task); the other one, if present, travels
     * as JSPROP so nothing is lost. */
    const char *other = is_task ? "status" : "progress";
    if (json_object_get(obj, other)) {
        char *val = json_dumps(json_object_get(obj, other), JSON_ENCODE_ANY);
        ical_prop *p = j2i_add_text(out, "JSPROP", val);
        ical_prop_add_param(p, "JSPTR", other);
        jwriter_text_free(val);
    }
    return o->err ? -1 : 0;
}

/* ---- writer --------------------------------------------------------------------------- */

ical_writer *ical_writer_new(const char *prodid, const char *method)
{
    tz_init();
    ical_writer *w = calloc(1, sizeof *w);
    w->now = (int64_t)time(NULL);
    w->prodid = prodid ? strdup(prodid) : NULL;
    w->method = method ? strdup(method) : NULL;
    return w;
}

void ical_writer_zones_by_reference(ical_writer *w)
{
    w->zones_by_reference = true;
}

char *ical_writer_begin(ical_writer *w)
{
    jbuf b = {0};
    jbuf_adds(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
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
    return jbuf_take(&b);
}

static char *entry_text(ical_writer *w, const json_t *obj, char **err)
{
    out_ctx o;
    memset(&o, 0, sizeof o);
    o.w = w;
    const char *type = j2i_jstr(obj, "@type");
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
    jbuf b = {0};
    for (size_t i = 0; i < holder->ncomps; i++)
        ical_comp_write(holder->comps[i], &b);
    ical_comp_free(holder);
    return jbuf_take(&b);
}

char *ical_writer_add(ical_writer *w, const json_t *obj, char **err)
{
    *err = NULL;
    const char *type = j2i_jstr(obj, "@type");
    if (type && !strcmp(type, "Group")) {
        jbuf b = {0};
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(obj, "entries"), i, e)
        {
            const char *t = j2i_jstr(e, "@type");
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
            jbuf_adds(&b, s);
            free(s);
        }
        return jbuf_take(&b);
    }
    return entry_text(w, obj, err);
}

char *ical_writer_end(ical_writer *w)
{
    jbuf b = {0};
    for (size_t i = 0; i < w->nzones; i++) {
        int custom = 0;
        for (size_t k = 0; k < w->ncustom; k++) {
            if (ical_vtimezone_is(w->custom[k], w->zones[i])) { /* commas, too (§3.8.3.1) */
                ical_comp_write(w->custom[k], &b);
                custom = 1;
            }
        }
        if (custom || w->zones_by_reference)
            continue;
        /* generated once per TZID and year (ical_vtimezone.c), from the year before the
         * earliest time written in it; unknown zones are left out */
        ical_vtimezone_append(w->zones[i], w->zone_from[i], &b);
    }
    jbuf_adds(&b, "END:VCALENDAR\r\n");
    return jbuf_take(&b);
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
    free(w->zone_from);
    for (size_t i = 0; i < w->ncustom; i++)
        ical_comp_free(w->custom[i]);
    free(w->custom);
    free(w);
}

/* Group-level properties (§3.3) go right after the VCALENDAR header. */
static int group_props(ical_writer *w, const json_t *g, jbuf *b, char **err)
{
    ical_comp *c = ical_comp_new("X-HOLDER");
    out_ctx o;
    memset(&o, 0, sizeof o);
    o.w = w;
    o.cp = json_object_get(json_object_get(g, "iCalendar"), "convertedProperties");
    if (j2i_jstr(g, "uid"))
        j2i_add_text(c, "UID", j2i_jstr(g, "uid"));
    if (j2i_jstr(g, "title")) {
        ical_prop *p = j2i_add_text(c, "NAME", j2i_jstr(g, "title"));
        if (j2i_jstr(g, "locale"))
            ical_prop_add_param(p, "LANGUAGE", j2i_jstr(g, "locale"));
    }
    const char *glocale = j2i_jstr(g, "locale");
    if (j2i_jstr(g, "description")) {
        ical_prop *p = j2i_add_text(c, "DESCRIPTION", j2i_jstr(g, "description"));
        if (glocale && !j2i_jstr(g, "title")) /* the locale on NAME, else here */
            ical_prop_add_param(p, "LANGUAGE", glocale);
        j2i_apply_cp(&o, p, "description");
    }
    if (j2i_jstr(g, "color"))
        j2i_add_text(c, "COLOR", j2i_jstr(g, "color"));
    add_set_prop(c, "CATEGORIES", json_object_get(g, "keywords"), 1);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(g, "categories"), k, v) ical_comp_add_prop(c, "CONCEPT", k);
    if (j2i_jstr(g, "created"))
        j2i_add_utc(&o, c, "CREATED", j2i_jstr(g, "created"), "created");
    if (j2i_jstr(g, "updated"))
        j2i_add_utc(&o, c, "LAST-MODIFIED", j2i_jstr(g, "updated"), "updated");
    if (j2i_jstr(g, "source")) {
        ical_prop *p = ical_comp_add_prop(c, "SOURCE", j2i_jstr(g, "source"));
        ical_prop_add_param(p, "VALUE", "URI");
    }
    j2i_add_links(&o, c, json_object_get(g, "links"), "links");
    j2i_restore_ical(&o, c, g, "");
    static const char *const known[] = {"uid", "title", "locale", "description", "color",
                                        "keywords", "categories", "created", "updated", "source",
                                        "links", "entries", "prodId", "version", NULL};
    j2i_add_jsprops(c, g, NULL, known);
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
    const char *prodid = j2i_jstr(first, "prodId"), *method = j2i_jstr(first, "method");
    const json_t *e0 = json_array_get(json_object_get(first, "entries"), 0);
    if (!method && e0)
        method = j2i_jstr(e0, "method");
    if (!prodid && e0)
        prodid = j2i_jstr(e0, "prodId");
    ical_writer *w = ical_writer_new(prodid, method);
    jbuf b = {0};
    char *s = ical_writer_begin(w);
    jbuf_adds(&b, s);
    free(s);
    const char *type = j2i_jstr(first, "@type");
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
            jbuf_adds(&b, s);
            free(s);
        }
    } else {
        s = ical_writer_add(w, obj, err);
        if (!s)
            goto fail;
        jbuf_adds(&b, s);
        free(s);
    }
    s = ical_writer_end(w);
    jbuf_adds(&b, s);
    free(s);
    ical_writer_free(w);
    return jbuf_take(&b);
fail:
    free(b.s);
    ical_writer_free(w);
    return NULL;
}
