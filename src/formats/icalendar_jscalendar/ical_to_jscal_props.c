/*
 * ical_to_jscal_props.c — draft-ietf-calext-jscalendar-icalendar-25 §2.3: one handler per
 * property of a VEVENT or VTODO. A handler converts the property into the Event or Task
 * (e->o.obj) or gathers it for the steps that need the whole component (dates, locations,
 * participants: ical_to_jscal.c); it returns I2J_KEEP to send the property unchanged to the
 * "iCalendar" property (§5.1.1). The table at the bottom maps property names to handlers.
 */
#include "formats/icalendar_jscalendar/ical_conv.h"

static const char *const none[] = {NULL};

/* ---- identity and bookkeeping (§2.3.12, §2.3.37, §2.3.43, §2.3.45) ------------------- */

static int h_uid(entry_ctx *e, const ical_prop *p)
{
    if (!*p->value) { /* entry_begin derived one */
        i2j_warn(&e->o, p, "empty; dropped");
        return I2J_DONE;
    }
    i2j_set_text(e->o.obj, "uid", p->value);
    return I2J_DONE;
}

static int h_dtstamp(entry_ctx *e, const ical_prop *p)
{
    if (!i2j_set_utc(&e->o, p, e->o.obj, "updated"))
        return I2J_DONE;
    /* The writer makes a new DTSTAMP (RFC 5545 requires one): an invalid one is dropped. */
    free(e->o.cal->err);
    e->o.cal->err = NULL;
    i2j_warn(&e->o, p, "not a UTC DATE-TIME; dropped");
    return I2J_DONE;
}

static int h_created(entry_ctx *e, const ical_prop *p)
{
    return i2j_set_utc(&e->o, p, e->o.obj, "created") ? I2J_FAIL : I2J_DONE;
}

static int h_sequence(entry_ctx *e, const ical_prop *p)
{
    long long v;
    if (i2j_parse_uint(p->value, &v))
        return i2j_fail(&e->o, p, "not a non-negative integer");
    json_object_set_new_nocheck(e->o.obj, "sequence", json_integer(v));
    return I2J_DONE;
}

/* ---- texts (§2.3.13, §2.3.41, §2.3.42) ------------------------------------------------ */

/* Whether p has a parameter that its conversion keeps (i2j_note_converted records all
 * but VALUE, JSID and TZID; LANGUAGE becomes the locale). */
static int kept_params(const ical_prop *p)
{
    for (size_t i = 0; i < p->nparams; i++)
        if (strcasecmp(p->params[i].name, "VALUE") && strcasecmp(p->params[i].name, "JSID") &&
            strcasecmp(p->params[i].name, "TZID"))
            return 1;
    return 0;
}

static int h_summary(entry_ctx *e, const ical_prop *p)
{
    static const char *const lang[] = {"LANGUAGE", NULL};
    if (json_object_get(e->o.obj, "title"))
        return I2J_KEEP;
    /* an empty SUMMARY is the default title "" (jscalendarbis §3.2.1), which the writer
     * leaves out, unless it has parameters to keep; an instance's empty SUMMARY still
     * overrides the series' (issue 12 §3.4) */
    if (!*p->value && !kept_params(p) && !e->is_instance)
        return I2J_DONE;
    i2j_set_text(e->o.obj, "title", p->value);
    i2j_note_converted(&e->o, "title", p, i2j_take_language(e->o.obj, p) ? lang : none, NULL, 0);
    return I2J_DONE;
}

/* The locale is the LANGUAGE of the SUMMARY that h_summary takes, whatever the order of
 * the properties (draft-25 §2.3.42; §2.3.13 only without one): the writer writes SUMMARY
 * first, so a DESCRIPTION's other language before it would be the locale only once. That
 * is the first SUMMARY (a repeated one is dropped), and none if it is the default title
 * (issue 12 §3.4: a later SUMMARY's language became the locale, which the writer then gave
 * the DESCRIPTION). */
static void summary_locale_first(entry_ctx *e)
{
    if (json_object_get(e->o.obj, "locale") || json_object_get(e->o.obj, "title"))
        return;
    for (size_t i = 0; i < e->o.comp->nprops; i++) {
        const ical_prop *s = &e->o.comp->props[i];
        if (strcasecmp(s->name, "SUMMARY"))
            continue;
        if (*s->value || kept_params(s) || e->is_instance)
            i2j_take_language(e->o.obj, s);
        return;
    }
}

static int h_description(entry_ctx *e, const ical_prop *p)
{
    if (i2j_param_is_true(p, "DERIVED") || json_object_get(e->o.obj, "description"))
        return I2J_KEEP;
    summary_locale_first(e);
    i2j_set_description(&e->o, e->o.obj, p, 0);
    return I2J_DONE;
}

static int h_styled_description(entry_ctx *e, const ical_prop *p)
{
    if (!i2j_styled_ok(p) || json_object_get(e->o.obj, "description"))
        return I2J_KEEP;
    summary_locale_first(e);
    i2j_set_description(&e->o, e->o.obj, p, 1);
    return I2J_DONE;
}

/* ---- places (§2.3.10, §2.3.21, §2.3.25): gathered, converted after the loop ----------- */

static int h_location(entry_ctx *e, const ical_prop *p)
{
    int derived = i2j_param_is_true(p, "DERIVED");
    if (!derived && !e->location)
        e->location = p;
    else if (!derived)
        return I2J_KEEP;
    else {
        /* a DERIVED one is kept in its place (issue 12 §3.4: deferred, it moved behind
         * the others on every round); the first is taken out again if it names the main
         * VLOCATION (entry_locations): the writer regenerates that one from mainLocationId,
         * before any kept property, so the first DERIVED is the one it wrote */
        if (!e->derived_location)
            e->derived_location = p;
        return I2J_KEEP;
    }
    return I2J_DONE;
}

static int h_geo(entry_ctx *e, const ical_prop *p)
{
    if (i2j_param_is_true(p, "DERIVED"))
        return I2J_KEEP;
    if (!i2j_geo_ok(p->value)) {
        /* kept, it would come back after the converted GEOs and change their order */
        i2j_warn(&e->o, p, "not latitude;longitude in range (RFC 5545 §3.8.1.6); dropped");
        return I2J_DONE;
    }
    if (e->ngeo == e->geocap) {
        size_t cap = e->geocap ? 2 * e->geocap : 4;
        const ical_prop **g = realloc(e->geos, cap * sizeof *g);
        if (!g)
            return I2J_KEEP;
        e->geos = g;
        e->geocap = cap;
    }
    e->geos[e->ngeo++] = p;
    return I2J_DONE;
}

/* A set of lower-case parameter values ({"video": true, ...}), or NULL if there are none. */
static json_t *lower_set(const ical_param *pa)
{
    if (!pa || !pa->nvalues)
        return NULL;
    json_t *set = json_object();
    for (size_t k = 0; k < pa->nvalues; k++) {
        if (!*pa->values[k])
            continue; /* FEATURE=, : no value */
        char *l = jscal_strlower(pa->values[k]);
        json_object_set_new_nocheck(set, l, json_true());
        free(l);
    }
    if (!json_object_size(set)) {
        json_decref(set);
        return NULL;
    }
    return set;
}

/* A VALUE parameter naming another type than the property's (RFC 5545 §3.2.20: data of a
 * type not recognised is preserved, not interpreted): the property is kept as it is. */
static int other_value_type(const ical_prop *p, const char *const *types)
{
    const char *vt = ical_prop_param1(p, "VALUE");
    if (!vt)
        return 0;
    for (; *types; types++)
        if (!strcasecmp(vt, *types))
            return 0;
    return 1;
}

static int h_conference(entry_ctx *e, const ical_prop *p)
{
    static const char *const uri[] = {"URI", NULL}; /* RFC 7986 §5.11 */
    if (other_value_type(p, uri))
        return I2J_KEEP;
    const char *jsid = ical_prop_param1(p, "JSID");
    char key[256];
    if (jsid && jid_valid(jsid))
        i2j_key_copy(key, sizeof key, jsid);
    else
        i2j_uuid(e->o.cal, p->value, key);
    /* the same one again (same value, no JSID) is kept as it is, or it would replace the
     * first, as for links (draft-25 §2.3.10) */
    if (json_object_get(json_object_get(e->o.obj, "virtualLocations"), key))
        return I2J_KEEP;
    json_t *vl = i2j_typed_object("VirtualLocation");
    const char *label = ical_prop_param1(p, "LABEL");
    if (label)
        json_object_set_new_nocheck(vl, "name", json_string_nocheck(label));
    json_object_set_new_nocheck(vl, "uri", json_string_nocheck(p->value));
    json_t *features = lower_set(ical_prop_get_param(p, "FEATURE"));
    if (features)
        json_object_set_new_nocheck(vl, "features", features);
    json_object_set_new_nocheck(i2j_get_map(e->o.obj, "virtualLocations"), key, vl);
    static const char *const consumed[] = {"LABEL", "FEATURE", NULL};
    char *path = i2j_path2("virtualLocations", key);
    i2j_note_converted(&e->o, path, p, consumed, NULL, 0);
    free(path);
    return I2J_DONE;
}

/* ATTACH, IMAGE, LINK, URL (§2.3.3, §2.3.22, §2.3.24, §2.3.46); i2j_add_link treats the
 * first URL that becomes a Link apart. */
static int h_link(entry_ctx *e, const ical_prop *p)
{
    i2j_add_link(&e->o, p, &e->nurl);
    return I2J_DONE;
}

/* ---- classification (§2.3.6-§2.3.9, §2.3.33, §2.3.44) --------------------------------- */

static int h_categories(entry_ctx *e, const ical_prop *p)
{
    i2j_add_set_values(e->o.obj, "keywords", p->value, 0, 1);
    return I2J_DONE;
}

static int h_concept(entry_ctx *e, const ical_prop *p)
{
    i2j_add_set_values(e->o.obj, "categories", p->value, 0, 0);
    return I2J_DONE;
}

static int h_color(entry_ctx *e, const ical_prop *p)
{
    i2j_set_text(e->o.obj, "color", p->value);
    return I2J_DONE;
}

/* CLASS and TRANSP are TEXT (RFC 5545 §3.8.1.3, §3.8.2.7), compared unescaped
 * (i2j_enum_value). */
static int h_class(entry_ctx *e, const ical_prop *p)
{
    static const char *const map[] = {"PUBLIC", "public", "PRIVATE", "private",
                                      "CONFIDENTIAL", "secret", NULL};
    const char *v = i2j_enum_value(p, map);
    if (!v && e->is_instance) {
        /* an override cannot change privacy (jscalendarbis-17 §4.3.4): the writer gives it
         * the series' CLASS, and a kept one beside it would be a second CLASS */
        i2j_warn(&e->o, p, "CLASS of a recurrence instance dropped: privacy is the series'");
        return I2J_DONE;
    }
    if (!v)
        return I2J_KEEP;
    json_object_set_new_nocheck(e->o.obj, "privacy", json_string_nocheck(v));
    return I2J_DONE;
}

static int h_priority(entry_ctx *e, const ical_prop *p)
{
    long long v;
    if (i2j_parse_uint(p->value, &v) || v > 9)
        return i2j_fail(&e->o, p, "not an integer from 0 to 9");
    json_object_set_new_nocheck(e->o.obj, "priority", json_integer(v));
    return I2J_DONE;
}

static int h_transp(entry_ctx *e, const ical_prop *p)
{
    static const char *const map[] = {"OPAQUE", "busy", "TRANSPARENT", "free", NULL};
    const char *v = i2j_enum_value(p, map);
    if (!v)
        return I2J_KEEP;
    json_object_set_new_nocheck(e->o.obj, "freeBusyStatus", json_string_nocheck(v));
    return I2J_DONE;
}

/* STATUS is TEXT (RFC 5545 §3.8.1.11): unescaped, then lowercased (§2.3.40 of the mapping) */
static int h_status(entry_ctx *e, const ical_prop *p)
{
    char *u = ical_text_unescape(p->value);
    char *l = jscal_strlower(u);
    json_object_set_new_nocheck(e->o.obj, e->o.is_task ? "progress" : "status",
                                json_string_nocheck(l));
    free(l);
    free(u);
    return I2J_DONE;
}

/* ---- recurrence (§2.3.15, §2.3.34-§2.3.36) -------------------------------------------- */

/* 1 if the entry has what a recurrence set starts from (RFC 5545 §3.8.5.3: DTSTART; a
 * Task may have DUE instead, jscalendarbis §5.2); a rule without it is kept as it is. */
static int anchored(entry_ctx *e, const ical_prop *p)
{
    if (e->dtstart || e->due)
        return 1;
    i2j_warn_once(&e->o, p, "recurrence without start", "recurrence without DTSTART or DUE; kept as it is");
    return 0;
}

static int h_rrule(entry_ctx *e, const ical_prop *p)
{
    if (e->is_instance || e->have_rrule || !anchored(e, p))
        return I2J_KEEP; /* jscalendarbis §4.3.1: an instance has no recurrence set */
    e->have_rrule = 1;
    return i2j_convert_rrule(&e->o, p) ? I2J_FAIL : I2J_DONE;
}

/* The patch of one RDATE;VALUE=PERIOD value: its duration, and a note that the value was a
 * period so that it is written back as one. */
static void rdate_period(entry_ctx *e, const ical_prop *p, json_t *patch, const char *end,
                         const ical_dt *start, const char *key)
{
    jscal_dur d;
    ical_dt de;
    int is_dur = !jscal_dur_parse(end, 0, &d), is_dt = !is_dur && !ical_dt_parse(end, &de);
    if (is_dt && jscal_ldt_to_secs(&de.t) < jscal_ldt_to_secs(&start->t)) {
        /* RFC 5545 §3.3.9: a period ends after its start; a negative duration is invalid
         * JSCalendar (jscalendarbis §1.4.6) */
        i2j_warn(&e->o, p, "a PERIOD that ends before its start: its end dropped, the start kept");
        return;
    }
    if (!is_dur && !is_dt) {
        /* RFC 5545 §3.3.9: the end is a DATE-TIME or a DURATION; anything else goes, and
         * the RDATE is its start alone (noting it a period would write back what was not
         * read, issue 12 §3.4) */
        i2j_warn(&e->o, p,
                 "the end of a PERIOD is neither a DATE-TIME nor a DURATION: "
                 "dropped, the start kept");
        return;
    }
    if (is_dur) {
        json_object_set_new_nocheck(patch, "duration", json_string_nocheck(end));
    } else {
        int64_t s = jscal_ldt_to_secs(&de.t) - jscal_ldt_to_secs(&start->t);
        jscal_dur dd = {.sign = 1, .hours = s / 3600, .minutes = s % 3600 / 60, .seconds = s % 60};
        char buf[64];
        jscal_dur_format(&dd, buf);
        json_object_set_new_nocheck(patch, "duration", json_string_nocheck(buf));
    }
    json_t *n = i2j_typed_object("ICalProperty");
    json_object_set_new_nocheck(n, "name", json_string_nocheck("rdate"));
    json_object_set_new_nocheck(n, "valueType", json_string_nocheck("period"));
    char *path = i2j_path2("recurrenceOverrides", key);
    json_object_set_new_nocheck(i2j_get_map(i2j_ical_obj(&e->o), "convertedProperties"), path, n);
    free(path);
}

/* Drops the note that the RDATE of key was a period, and what is left empty by it. */
static void forget_period(entry_ctx *e, const char *key)
{
    char *path = i2j_path2("recurrenceOverrides", key);
    json_t *cp = e->o.ical ? json_object_get(e->o.ical, "convertedProperties") : NULL;
    if (cp && !json_object_del(cp, path) && !json_object_size(cp)) {
        json_object_del(e->o.ical, "convertedProperties");
        if (json_object_size(e->o.ical) == 2) { /* @type and name: nothing to say */
            json_decref(e->o.ical);
            e->o.ical = NULL;
        }
    }
    free(path);
}

/* RDATE and EXDATE: one recurrenceOverrides entry per value. */
static int h_rdate_exdate(entry_ctx *e, const ical_prop *p)
{
    if (e->is_instance || !anchored(e, p))
        return I2J_KEEP;
    const char *vt = ical_prop_param1(p, "VALUE");
    int period = vt && !strcasecmp(vt, "PERIOD"), exdate = i2j_is(p->name, "EXDATE");
    char **vals;
    size_t nv = ical_split_values(p->value, &vals);
    /* every value first: a property that does not convert is kept whole, so nothing of
     * it may be converted (issue 12 §3.4) */
    ical_dt *dts = calloc(nv ? nv : 1, sizeof *dts);
    jscal_ldt *ts = calloc(nv ? nv : 1, sizeof *ts);
    int rc = dts && ts ? I2J_DONE : I2J_KEEP;
    for (size_t k = 0; k < nv && rc == I2J_DONE; k++) {
        char *slash = period ? strchr(vals[k], '/') : NULL;
        if (slash)
            *slash = 0;
        if (i2j_prop_local(&e->o, p, vals[k], &ts[k], &dts[k]))
            rc = I2J_FAIL;
        if (slash)
            *slash = '/';
    }
    json_t *ov = rc == I2J_DONE ? i2j_get_map(e->o.obj, "recurrenceOverrides") : NULL;
    for (size_t k = 0; k < nv && rc == I2J_DONE; k++) {
        char *slash = period ? strchr(vals[k], '/') : NULL;
        char key[24];
        jscal_ldt_format(&ts[k], 0, key);
        if (json_object_get(ov, key)) {
            /* the same date twice: a repeated RDATE keeps the first; an EXDATE removes
             * the date whatever added it (RFC 5545 §3.8.5.1), and with it the note that
             * an RDATE was a period (issue 12 §3.4) */
            if (!exdate)
                continue;
            forget_period(e, key);
        }
        json_t *patch = json_object();
        if (exdate)
            json_object_set_new_nocheck(patch, "excluded", json_true());
        else if (slash)
            rdate_period(e, p, patch, slash + 1, &dts[k], key);
        json_object_set_new_nocheck(ov, key, patch);
    }
    free(dts);
    free(ts);
    ical_free_strv(vals, nv);
    return rc;
}

static int h_recurrence_id(entry_ctx *e, const ical_prop *p)
{
    ical_dt d;
    const char *tzid;
    icaltimezone *z;
    ical_comp *vtz = NULL;
    if (ical_dt_parse(p->value, &d))
        return i2j_fail(&e->o, p, "invalid DATE or DATE-TIME value");
    if (i2j_prop_zone(&e->o, p, &d, &tzid, &z, &vtz))
        return I2J_FAIL;
    i2j_set_ldt(e->o.obj, "recurrenceId", &d.t, 0);
    if (tzid)
        json_object_set_new_nocheck(e->o.obj, "recurrenceIdTimeZone", json_string_nocheck(tzid));
    /* §2.1.4: a non-IANA zone travels with the object, this one too (the validator knows
     * a zone by its VTIMEZONE there; an instance standing alone kept only its start's) */
    if (tzid && vtz)
        i2j_keep_comp(&e->o, vtz);
    i2j_note_converted(&e->o, "recurrenceId", p, none, NULL, 0);
    return I2J_DONE;
}

/* DTSTART, DUE, DTEND, DURATION: the ones convert_entry picked (the first of each) are
 * converted after the loop (§2.3.14, §2.3.16-§2.3.18); any other is kept. */
static int h_timing(entry_ctx *e, const ical_prop *p)
{
    return p == e->dtstart || p == e->due || p == e->dtend || p == e->duration ? I2J_DONE
                                                                               : I2J_KEEP;
}

/* ---- people and relations (§2.3.4, §2.3.29, §2.3.34) ---------------------------------- */

static int h_organizer(entry_ctx *e, const ical_prop *p)
{
    if (e->organizer)
        return I2J_KEEP;
    e->organizer = p;
    return I2J_DONE;
}

static int h_attendee(entry_ctx *e, const ical_prop *p)
{
    if (e->natt >= I2J_MAX_ATTENDEES)
        return I2J_KEEP;
    e->attendees[e->natt++] = p;
    return I2J_DONE;
}

static int h_related_to(entry_ctx *e, const ical_prop *p)
{
    /* RFC 5545 §3.8.4.5: TEXT; RFC 9253 §9.1: URI or UID */
    static const char *const types[] = {"TEXT", "URI", "UID", NULL};
    if (other_value_type(p, types))
        return I2J_KEEP;
    json_t *rel = i2j_typed_object("Relation");
    json_t *set = lower_set(ical_prop_get_param(p, "RELTYPE"));
    if (set)
        json_object_set_new_nocheck(rel, "relation", set);
    char *u = ical_text_unescape(p->value);
    json_object_set_new_nocheck(i2j_get_map(e->o.obj, "relatedTo"), u, rel);
    static const char *const consumed[] = {"RELTYPE", NULL};
    char *path = i2j_path2("relatedTo", u);
    i2j_note_converted(&e->o, path, p, consumed, NULL, 0);
    free(path);
    free(u);
    return I2J_DONE;
}

/* ---- tasks (draft -25 §2.3.19, §2.3.31) and display (§2.3.38) ------------------------- */

static int h_percent_complete(entry_ctx *e, const ical_prop *p)
{
    long long v;
    if (!e->o.is_task)
        return I2J_KEEP;
    if (i2j_parse_uint(p->value, &v) || v > 100)
        return i2j_fail(&e->o, p, "not an integer from 0 to 100");
    json_object_set_new_nocheck(e->o.obj, "percentComplete", json_integer(v));
    return I2J_DONE;
}

static int h_estimated_duration(entry_ctx *e, const ical_prop *p)
{
    jscal_dur d;
    if (!e->o.is_task)
        return I2J_KEEP;
    if (jscal_dur_parse(p->value, 0, &d))
        return i2j_fail(&e->o, p, "invalid DURATION value");
    json_object_set_new_nocheck(e->o.obj, "estimatedDuration", json_string_nocheck(p->value));
    return I2J_DONE;
}

static int h_show_without_time(entry_ctx *e, const ical_prop *p)
{
    /* icaljscalexts §3.2: ignored for DATE values and when FALSE. A Task with neither
     * start nor due cannot have it true (jscalendarbis §5.2): kept as it was. */
    if (e->o.is_task && !ical_comp_get_prop(e->o.comp, "DTSTART") &&
        !ical_comp_get_prop(e->o.comp, "DUE"))
        return I2J_KEEP;
    if (!strcasecmp(p->value, "TRUE") && !e->o.is_date)
        json_object_set_new_nocheck(e->o.obj, "showWithoutTime", json_true());
    return I2J_DONE;
}

/* JSPROP (§4.1.2): applied after everything else. */
static int h_jsprop(entry_ctx *e, const ical_prop *p)
{
    if (e->njs >= I2J_MAX_JSPROPS)
        return I2J_KEEP;
    e->jsprops[e->njs++] = p;
    return I2J_DONE;
}

/* ---- the table ------------------------------------------------------------------------ */

/* I2J_TIMING: converted in ICAL_TO_JSCAL_TIMING mode too (the rest is skipped there).
 * I2J_SINGLE: RFC 5545 §3.6.1/§3.6.2 allow it once; a repetition is dropped with a warning. */
enum { I2J_TIMING = 1, I2J_SINGLE = 2 };

typedef struct {
    const char *name; /* upper-case, the table sorted by it (strcmp) */
    int (*fn)(entry_ctx *e, const ical_prop *p);
    int flags;
} prop_rule;

static const prop_rule rules[] = {
    {"ATTACH", h_link, 0},
    {"ATTENDEE", h_attendee, 0},
    {"CATEGORIES", h_categories, 0},
    {"CLASS", h_class, I2J_SINGLE},
    {"COLOR", h_color, 0},
    {"CONCEPT", h_concept, 0},
    {"CONFERENCE", h_conference, 0},
    {"CREATED", h_created, I2J_SINGLE},
    {"DESCRIPTION", h_description, 0},
    {"DTEND", h_timing, I2J_TIMING | I2J_SINGLE},
    {"DTSTAMP", h_dtstamp, I2J_SINGLE},
    {"DTSTART", h_timing, I2J_TIMING | I2J_SINGLE},
    {"DUE", h_timing, I2J_TIMING | I2J_SINGLE},
    {"DURATION", h_timing, I2J_TIMING | I2J_SINGLE},
    {"ESTIMATED-DURATION", h_estimated_duration, 0},
    {"EXDATE", h_rdate_exdate, I2J_TIMING},
    {"GEO", h_geo, 0},
    {"IMAGE", h_link, 0},
    {"JSPROP", h_jsprop, 0},
    {"LINK", h_link, 0},
    {"LOCATION", h_location, 0},
    {"ORGANIZER", h_organizer, I2J_SINGLE},
    {"PERCENT-COMPLETE", h_percent_complete, I2J_SINGLE},
    {"PRIORITY", h_priority, I2J_SINGLE},
    {"RDATE", h_rdate_exdate, I2J_TIMING},
    {"RECURRENCE-ID", h_recurrence_id, I2J_TIMING | I2J_SINGLE},
    {"RELATED-TO", h_related_to, 0},
    {"RRULE", h_rrule, I2J_TIMING},
    {"SEQUENCE", h_sequence, I2J_SINGLE},
    {"SHOW-WITHOUT-TIME", h_show_without_time, 0},
    {"STATUS", h_status, I2J_SINGLE},
    {"STYLED-DESCRIPTION", h_styled_description, 0},
    {"SUMMARY", h_summary, I2J_SINGLE},
    {"TRANSP", h_transp, I2J_SINGLE},
    {"UID", h_uid, I2J_TIMING | I2J_SINGLE},
    {"URL", h_link, 0},
};
_Static_assert(sizeof rules / sizeof *rules <= 64, "entry_ctx.seen has 64 bits");

static int rule_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const prop_rule *)elem)->name);
}

/* 1 if p repeats a property allowed once: the first one stays (entry_begin picked the
 * first DTSTART, DTEND, DUE and DURATION too). */
static int repeated(entry_ctx *e, const prop_rule *r, const ical_prop *p)
{
    uint64_t bit = (uint64_t)1 << (r - rules);
    if (!(e->seen & bit)) {
        e->seen |= bit;
        return 0;
    }
    char *m = jscal_strdupf("repeated, allowed once: the first one kept, this one dropped "
                            "(RFC 5545 §3.6.1)");
    i2j_warn(&e->o, p, m);
    free(m);
    return 1;
}

int i2j_entry_prop(entry_ctx *e, const ical_prop *p)
{
    const prop_rule *r =
        bsearch(p->name, rules, sizeof rules / sizeof *rules, sizeof *rules, rule_cmp);
    if (e->o.cal->timing_only) {
        /* only what expansion needs: the chosen dates and the recurrence set */
        if (!r || !(r->flags & I2J_TIMING) || (r->fn == h_timing && h_timing(e, p) == I2J_KEEP))
            return 0;
    }
    if (r && (r->flags & I2J_SINGLE) && repeated(e, r, p))
        return 0;
    int rc = r ? r->fn(e, p) : I2J_KEEP;
    if (rc == I2J_FAIL) {
        /* A value that does not convert: the property is kept as it is, so nothing is
         * lost, and the rest of the component converts. */
        char *m = jscal_strdupf("%s; kept as it is", e->o.cal->err);
        if (e->o.cal->warnings)
            json_array_append_new(e->o.cal->warnings, json_string(m));
        free(m);
        free(e->o.cal->err);
        e->o.cal->err = NULL;
        rc = I2J_KEEP;
    }
    if (rc == I2J_KEEP)
        i2j_keep_prop(&e->o, p);
    return 0;
}
