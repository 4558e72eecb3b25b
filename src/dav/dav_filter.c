/*
 * dav_filter.c — the filters of the query reports, evaluated on a member's data:
 * calendar-query's CALDAV:filter (RFC 4791 §9.7: nested comp-filter, prop-filter,
 * param-filter, is-not-defined, time-range by the tables of §9.9) on the parsed
 * iCalendar tree, addressbook-query's CARDDAV:filter (RFC 6352 §10.5: anyof/allof at
 * both levels, param-filter, groups) on the parsed vCard, and their text-match with
 * the collations both advertise (RFC 4791 §7.5, RFC 6352 §8.3). A filter is checked
 * whole before any member is read (valid-filter, supported-collation), so evaluating
 * it cannot fail. Time ranges of a member's own events and tasks over their
 * recurrences are dav_report.c's (the JMAP query, the task table per instance); here a
 * nested component (VALARM) or a property is tested as it is written.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dav/dav_internal.h"
#include "formats/icalendar/ical_syntax.h"
#include "formats/jscalendar/jscal_util.h"
#include "formats/vcard/vcard.h"
#include "jmap/collation.h"
#include "types/calendar_event.h"

/* ---- text-match (RFC 4791 §9.7.5, RFC 6352 §10.5.4) ---------------------------------------- */

enum collation { COLL_ASCII, COLL_OCTET, COLL_UNICODE, COLL_UNKNOWN };

/* The collations both kinds support: CalDAV needs i;ascii-casemap and i;octet, CardDAV
 * i;ascii-casemap and i;unicode-casemap. */
void dav_filter_collation_set(struct buf *v, const char *prefix)
{
    static const char *const names[] = {"i;ascii-casemap", "i;octet", "i;unicode-casemap"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        buf_printf(v, "<%s:supported-collation>%s</%s:supported-collation>", prefix, names[i],
                   prefix);
}

/* A text-match's collation; its default is the kind's (§7.5: i;ascii-casemap for
 * CalDAV, §8.3: i;unicode-casemap for CardDAV), also for "default" (RFC 4790 §3.1). */
static enum collation collation_of(const xmlNode *tm, bool card)
{
    xmlChar *v = xmlGetProp(tm, (const xmlChar *)"collation");
    const char *s = (const char *)v;
    enum collation c = !s || strcmp(s, "default") == 0       ? (card ? COLL_UNICODE : COLL_ASCII)
                       : strcmp(s, "i;ascii-casemap") == 0   ? COLL_ASCII
                       : strcmp(s, "i;octet") == 0           ? COLL_OCTET
                       : strcmp(s, "i;unicode-casemap") == 0 ? COLL_UNICODE
                                                             : COLL_UNKNOWN;
    xmlFree(v);
    return c;
}

static char *fold(enum collation c, const char *s)
{
    if (c == COLL_UNICODE)
        return collation_casemap_key(s);
    char *out = xstrdup(s);
    if (c == COLL_ASCII)
        for (char *p = out; *p; p++)
            if ((unsigned char)*p < 128)
                *p = (char)tolower((unsigned char)*p);
    return out;
}

/* The match-type of a text-match (CardDAV's attribute; CalDAV's text-match is a
 * substring match, §9.7.5), 0 for a value no DTD allows. */
static char match_type_of(const xmlNode *tm)
{
    xmlChar *v = xmlGetProp(tm, (const xmlChar *)"match-type");
    const char *s = (const char *)v;
    char t = !s || strcmp(s, "contains") == 0 ? 'c'
             : strcmp(s, "equals") == 0       ? 'e'
             : strcmp(s, "starts-with") == 0  ? 's'
             : strcmp(s, "ends-with") == 0    ? 'x'
                                              : 0;
    xmlFree(v);
    return t;
}

static bool negated(const xmlNode *tm)
{
    return dav_xml_attr_is(tm, "negate-condition", "yes", false);
}

/* Whether value (unescaped) passes text-match tm. */
static bool text_match(const xmlNode *tm, const char *value, bool card)
{
    enum collation c = collation_of(tm, card);
    xmlChar *want = xmlNodeGetContent(tm);
    char *w = fold(c, want ? (const char *)want : ""), *v = fold(c, value);
    size_t wn = strlen(w), vn = strlen(v);
    bool m;
    switch (match_type_of(tm)) {
    case 'e':
        m = strcmp(v, w) == 0;
        break;
    case 's':
        m = strncmp(v, w, wn) == 0;
        break;
    case 'x':
        m = vn >= wn && memcmp(v + vn - wn, w, wn) == 0;
        break;
    default:
        m = strstr(v, w) != NULL;
    }
    free(w);
    free(v);
    xmlFree(want);
    return m != negated(tm);
}

/* ---- checking a filter before it is used ---------------------------------------------------- */

static bool name_is(const xmlNode *n, const char *name)
{
    return dav_xml_attr_is(n, "name", name, true);
}

/* RFC 4791 §9.9: the components and properties a time-range has a meaning for. */
static bool ranged_comp(const xmlNode *cf)
{
    static const char *const names[] = {"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VALARM"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (name_is(cf, names[i]))
            return true;
    return false;
}

static bool ranged_prop(const xmlNode *pf)
{
    static const char *const names[] = {"COMPLETED", "CREATED", "DTEND",        "DTSTAMP",
                                        "DTSTART",   "DUE",     "LAST-MODIFIED"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (name_is(pf, names[i]))
            return true;
    return false;
}

/* RFC 5545 §3.6: the components that may hold one named child (x-names anywhere). */
static bool may_nest(const xmlNode *parent, const xmlNode *child)
{
    static const char *const rules[][2] = {
        {"VCALENDAR", "VEVENT"},        {"VCALENDAR", "VTODO"},
        {"VCALENDAR", "VJOURNAL"},      {"VCALENDAR", "VFREEBUSY"},
        {"VCALENDAR", "VTIMEZONE"},     {"VCALENDAR", "VAVAILABILITY"},
        {"VEVENT", "VALARM"},           {"VTODO", "VALARM"},
        {"VTIMEZONE", "STANDARD"},      {"VTIMEZONE", "DAYLIGHT"},
        {"VAVAILABILITY", "AVAILABLE"}, {"VEVENT", "PARTICIPANT"},
        {"VTODO", "PARTICIPANT"},       {"VEVENT", "VLOCATION"},
        {"VTODO", "VLOCATION"}};
    xmlChar *c = xmlGetProp(child, (const xmlChar *)"name");
    bool x = c && (strncasecmp((const char *)c, "X-", 2) == 0);
    xmlFree(c);
    if (x)
        return true;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (name_is(parent, rules[i][0]) && name_is(child, rules[i][1]))
            return true;
    return false;
}

/* Checks a text-match's attributes: false after the error response. */
static bool check_text_match(struct dav_ctx *x, const xmlNode *tm, const char *ns, bool card)
{
    if (collation_of(tm, card) == COLL_UNKNOWN) { /* RFC 4791 §7.5, RFC 6352 §8.3 */
        dav_error(x, 403, ns, "supported-collation", NULL);
        return false;
    }
    xmlChar *neg = xmlGetProp(tm, (const xmlChar *)"negate-condition");
    bool bad = (neg && strcmp((const char *)neg, "yes") != 0 && strcmp((const char *)neg, "no")) ||
               !match_type_of(tm);
    xmlFree(neg);
    if (bad) {
        if (card)
            dav_reply(x, 400, "text/plain",
                      xstrdup("text-match: a value its DTD does not allow\n"));
        else
            dav_error(x, 403, NS_CALDAV, "valid-filter", NULL);
    }
    return !bad;
}

static bool has_name(const xmlNode *n)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)"name");
    bool has = v && *v;
    xmlFree(v);
    return has;
}

/* A prop-filter or param-filter of CalDAV (§9.7.2, §9.7.3): false after the error. */
static bool check_cal_filter(struct dav_ctx *x, const xmlNode *f, bool param)
{
    if (!has_name(f)) {
        dav_error(x, 403, NS_CALDAV, "valid-filter", NULL);
        return false;
    }
    for (xmlNode *c = dav_xml_child(f, NULL, NULL); c; c = dav_xml_next(c)) {
        int64_t s, e;
        if (dav_xml_is(c, NS_CALDAV, "is-not-defined"))
            continue;
        if (dav_xml_is(c, NS_CALDAV, "text-match")) {
            if (!check_text_match(x, c, NS_CALDAV, false))
                return false;
        } else if (!param && dav_xml_is(c, NS_CALDAV, "param-filter")) {
            if (!check_cal_filter(x, c, true))
                return false;
        } else if (!param && dav_xml_is(c, NS_CALDAV, "time-range") && ranged_prop(f)) {
            if (!dav_filter_time_range(x, c, &s, &e))
                return false;
        } else { /* §7.8: e.g. no time-range in a SUMMARY prop-filter */
            dav_error(x, 403, NS_CALDAV, "valid-filter", NULL);
            return false;
        }
    }
    return true;
}

/* A comp-filter (§9.7.1) and what it holds, nested in parent (NULL: the filter's own,
 * which names VCALENDAR): false after the error response. */
static bool check_comp_filter(struct dav_ctx *x, const xmlNode *cf, const xmlNode *parent)
{
    if (!has_name(cf) || (!parent && !name_is(cf, "VCALENDAR")) ||
        (parent && !may_nest(parent, cf))) {
        dav_error(x, 403, NS_CALDAV, "valid-filter", NULL);
        return false;
    }
    for (xmlNode *c = dav_xml_child(cf, NULL, NULL); c; c = dav_xml_next(c)) {
        if (dav_xml_is(c, NS_CALDAV, "is-not-defined"))
            continue;
        if (dav_xml_is(c, NS_CALDAV, "time-range")) {
            int64_t s, e;
            if (!ranged_comp(cf)) { /* §9.9: no meaning for other components */
                dav_error(x, 403, NS_CALDAV, "valid-filter", NULL);
                return false;
            }
            if (!dav_filter_time_range(x, c, &s, &e))
                return false;
        } else if (dav_xml_is(c, NS_CALDAV, "prop-filter")) {
            if (!check_cal_filter(x, c, false))
                return false;
        } else if (dav_xml_is(c, NS_CALDAV, "comp-filter")) {
            if (!check_comp_filter(x, c, cf))
                return false;
        } else {
            dav_error(x, 403, NS_CALDAV, "valid-filter", NULL);
            return false;
        }
    }
    return true;
}

bool dav_filter_check_ical(struct dav_ctx *x, const xmlNode *filter)
{
    const xmlNode *vcal = dav_xml_child(filter, NULL, NULL);
    if (!vcal || !dav_xml_is(vcal, NS_CALDAV, "comp-filter") || dav_xml_next((xmlNode *)vcal)) {
        dav_error(x, 403, NS_CALDAV, "valid-filter", NULL); /* §9.7: exactly one */
        return false;
    }
    return check_comp_filter(x, vcal, NULL);
}

bool dav_filter_check_vcard(struct dav_ctx *x, const xmlNode *filter)
{
    xmlChar *test = xmlGetProp(filter, (const xmlChar *)"test");
    bool bad = test && strcmp((const char *)test, "anyof") && strcmp((const char *)test, "allof");
    xmlFree(test);
    for (xmlNode *pf = dav_xml_child(filter, NULL, NULL); pf && !bad; pf = dav_xml_next(pf)) {
        bad = !dav_xml_is(pf, NS_CARDDAV, "prop-filter") || !has_name(pf);
        xmlChar *t = bad ? NULL : xmlGetProp(pf, (const xmlChar *)"test");
        bad |= t && strcmp((const char *)t, "anyof") && strcmp((const char *)t, "allof");
        xmlFree(t);
        for (xmlNode *c = bad ? NULL : dav_xml_child(pf, NULL, NULL); c && !bad;
             c = dav_xml_next(c)) {
            if (dav_xml_is(c, NS_CARDDAV, "text-match")) {
                if (!check_text_match(x, c, NS_CARDDAV, true))
                    return false;
            } else if (dav_xml_is(c, NS_CARDDAV, "param-filter")) {
                xmlNode *m = dav_xml_child(c, NULL, NULL);
                bad = !has_name(c) || (m && !dav_xml_is(m, NS_CARDDAV, "text-match") &&
                                       !dav_xml_is(m, NS_CARDDAV, "is-not-defined"));
                if (m && dav_xml_is(m, NS_CARDDAV, "text-match") &&
                    !check_text_match(x, m, NS_CARDDAV, true))
                    return false;
            } else {
                bad = !dav_xml_is(c, NS_CARDDAV, "is-not-defined");
            }
        }
    }
    if (bad) /* no DTD of §10.5 allows it */
        dav_reply(x, 400, "text/plain", xstrdup("the filter is not one RFC 6352 §10.5 allows\n"));
    return !bad;
}

/* ---- time ranges of what is written (RFC 4791 §9.9) ----------------------------------------- */

static bool range_of(const xmlNode *tr, int64_t *s, int64_t *e)
{
    *s = DAV_MIN_TIME;
    *e = DAV_MAX_TIME;
    for (int i = 0; i < 2; i++) {
        xmlChar *v = xmlGetProp(tr, (const xmlChar *)(i ? "end" : "start"));
        if (v && !dav_ical_utc((const char *)v, i ? e : s)) {
            xmlFree(v);
            return false;
        }
        xmlFree(v);
    }
    return true;
}

bool dav_filter_time_range(struct dav_ctx *x, const xmlNode *tr, int64_t *start, int64_t *end)
{
    bool has_start = xmlHasProp(tr, (const xmlChar *)"start") != NULL,
         has_end = xmlHasProp(tr, (const xmlChar *)"end") != NULL;
    /* §9.9: UTC times, at least one of them, the end after the start */
    if (!range_of(tr, start, end) || (!has_start && !has_end) || *end <= *start) {
        dav_error(x, 403, NS_CALDAV, "valid-filter", NULL);
        return false;
    }
    if ((has_start && *start < DAV_MIN_TIME) || (has_end && *end < DAV_MIN_TIME)) {
        dav_error(x, 403, NS_CALDAV, "min-date-time", NULL); /* §7.8 preconditions */
        return false;
    }
    if ((has_start && *start > DAV_MAX_TIME) || (has_end && *end > DAV_MAX_TIME)) {
        dav_error(x, 403, NS_CALDAV, "max-date-time", NULL);
        return false;
    }
    return true;
}

/* RFC 4791 §9.9: whether a VTODO with these times overlaps [s, e), by the table. */
bool dav_todo_times_in_range(const struct todo_times *t, int64_t s, int64_t e)
{
    if (t->has_dur)
        return s <= t->dur_end && (e > t->start || e >= t->dur_end);
    if (t->has_start && t->has_due)
        return (s < t->due || s <= t->start) && (e > t->start || e >= t->due);
    if (t->has_start)
        return s <= t->start && e > t->start;
    if (t->has_due)
        return s < t->due && e >= t->due;
    if (t->has_done && t->has_created)
        return (s <= t->created || s <= t->done) && (e >= t->created || e >= t->done);
    if (t->has_done)
        return s <= t->done && e >= t->done;
    if (t->has_created)
        return e > t->created;
    return true;
}

/* The zone of floating times of the filter dav_filter_ical is testing, on this thread
 * (RFC 4791 §7.3: the report's, dav_report.c floating_zone): set for the one call, so
 * that the dozen matchers below need not carry it. */
static _Thread_local const char *filter_ftz;

/* A DATE or DATE-TIME property's value as UTC seconds (a floating time in the report's
 * zone of floating times); *date tells a DATE. */
static bool prop_time(const ical_prop *p, int64_t *t, bool *date)
{
    const char *v = p ? p->value : NULL;
    size_t n = v ? strlen(v) : 0;
    *date = n == 8;
    if (!(n == 8 || ((n == 15 || (n == 16 && v[15] == 'Z')) && v[8] == 'T')))
        return false;
    char ldt[20];
    snprintf(ldt, sizeof ldt, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s", v, v + 4, v + 6,
             n == 8 ? "00" : v + 9, n == 8 ? "00" : v + 11, n == 8 ? "00" : v + 13);
    const char *tz = n == 15 ? ical_prop_param1(p, "TZID") : NULL;
    return event_local_to_utc(NULL, ldt, tz, filter_ftz ? filter_ftz : "Etc/UTC", t) == 0;
}

static bool prop_duration(const ical_prop *p, int64_t *secs)
{
    jscal_dur d;
    if (!p || jscal_dur_parse(p->value, 1, &d) != 0)
        return false;
    *secs = jscal_dur_total_secs(&d);
    return true;
}

static bool comp_time(const ical_comp *c, const char *name, int64_t *t, bool *date)
{
    return prop_time(ical_comp_get_prop(c, name), t, date);
}

/* The effective end of c: DTEND (or DUE), else DTSTART + DURATION. */
static bool comp_end(const ical_comp *c, const char *end_name, int64_t *t)
{
    bool date;
    int64_t s, d;
    if (comp_time(c, end_name, t, &date))
        return true;
    if (comp_time(c, "DTSTART", &s, &date) &&
        prop_duration(ical_comp_get_prop(c, "DURATION"), &d)) {
        *t = s + d;
        return true;
    }
    return false;
}

/* RFC 4791 §9.9's VALARM rule: a trigger (and each repetition) within [s, e). */
static bool alarm_in_range(const ical_comp *a, const ical_comp *parent, int64_t s, int64_t e)
{
    const ical_prop *tr = ical_comp_get_prop(a, "TRIGGER");
    int64_t t, d, rep = 0, step = 0;
    bool date;
    if (!tr)
        return false;
    if (!prop_time(tr, &t, &date)) {
        const char *rel = ical_prop_param1(tr, "RELATED");
        bool end = rel && strcasecmp(rel, "END") == 0;
        int64_t base;
        bool has =
            end ? comp_end(parent, strcmp(parent->name, "VTODO") == 0 ? "DUE" : "DTEND", &base)
                : comp_time(parent, "DTSTART", &base, &date);
        if (!has || !prop_duration(tr, &d))
            return false;
        t = base + d;
    }
    const ical_prop *r = ical_comp_get_prop(a, "REPEAT");
    if (r && prop_duration(ical_comp_get_prop(a, "DURATION"), &step) && step > 0)
        rep = strtoll(r->value, NULL, 10);
    if (rep < 0)
        rep = 0;
    for (int64_t i = 0; i <= rep && i < 1000; i++, t += step)
        if (s <= t && e > t)
            return true;
    return false;
}

/* Whether component c (in parent) overlaps [s, e) by the tables of §9.9, as written
 * (no recurrence: a member's own events and tasks are dav_report.c's). */
static bool comp_in_range(const ical_comp *c, const ical_comp *parent, int64_t s, int64_t e)
{
    int64_t st, en, d;
    bool date = false, has_start = comp_time(c, "DTSTART", &st, &date);
    if (strcmp(c->name, "VALARM") == 0)
        return parent && alarm_in_range(c, parent, s, e);
    if (strcmp(c->name, "VEVENT") == 0) {
        if (!has_start)
            return false;
        if (comp_time(c, "DTEND", &en, &(bool){0}))
            return s < en && e > st;
        if (prop_duration(ical_comp_get_prop(c, "DURATION"), &d))
            return d > 0 ? s < st + d && e > st : s <= st && e > st;
        return date ? s < st + 86400 && e > st : s <= st && e > st;
    }
    if (strcmp(c->name, "VJOURNAL") == 0)
        return has_start && (date ? s < st + 86400 && e > st : s <= st && e > st);
    if (strcmp(c->name, "VTODO") == 0) {
        struct todo_times t = {0};
        t.has_start = has_start, t.start = st;
        t.has_dur = has_start && prop_duration(ical_comp_get_prop(c, "DURATION"), &d);
        t.dur_end = st + (t.has_dur ? d : 0);
        t.has_due = comp_time(c, "DUE", &t.due, &date);
        t.has_done = comp_time(c, "COMPLETED", &t.done, &date);
        t.has_created = comp_time(c, "CREATED", &t.created, &date);
        return dav_todo_times_in_range(&t, s, e);
    }
    if (strcmp(c->name, "VFREEBUSY") == 0) {
        if (has_start && comp_time(c, "DTEND", &en, &date))
            return s <= en && e > st;
        for (size_t i = 0; i < c->nprops; i++) {
            if (strcmp(c->props[i].name, "FREEBUSY") != 0)
                continue;
            char **periods;
            size_t n = ical_split_values(c->props[i].value, &periods);
            for (size_t k = 0; k < n; k++) {
                char *slash = strchr(periods[k], '/');
                ical_prop from = {.value = periods[k]}, to = {0};
                int64_t ps, pe;
                bool hit = false;
                if (slash) {
                    *slash = 0;
                    to.value = slash + 1;
                    hit = prop_time(&from, &ps, &date) &&
                          (prop_time(&to, &pe, &date) ||
                           (prop_duration(&to, &d) && (pe = ps + d, true))) &&
                          s < pe && e > ps;
                }
                if (hit) {
                    ical_free_strv(periods, n);
                    return true;
                }
            }
            ical_free_strv(periods, n);
        }
    }
    return false;
}

/* ---- CALDAV:filter (RFC 4791 §9.7) ---------------------------------------------------------- */

/* §9.7.3: a param-filter on property p. */
static bool param_match(const ical_prop *p, const xmlNode *pf)
{
    xmlChar *name = xmlGetProp(pf, (const xmlChar *)"name");
    const ical_param *par = ical_prop_get_param(p, (const char *)name);
    xmlFree(name);
    const xmlNode *c = dav_xml_child(pf, NULL, NULL);
    if (c && dav_xml_is(c, NS_CALDAV, "is-not-defined"))
        return !par;
    if (!par)
        return false;
    if (!c || !dav_xml_is(c, NS_CALDAV, "text-match"))
        return true;
    for (size_t i = 0; i < par->nvalues; i++)
        if (text_match(c, par->values[i], false))
            return true;
    return false;
}

/* §9.7.2: whether one property p passes prop-filter pf (not is-not-defined). */
static bool prop_match(const ical_prop *p, const xmlNode *pf)
{
    for (xmlNode *c = dav_xml_child(pf, NULL, NULL); c; c = dav_xml_next(c)) {
        if (dav_xml_is(c, NS_CALDAV, "text-match")) {
            char *v = ical_text_unescape(p->value);
            bool m = text_match(c, v, false);
            free(v);
            if (!m)
                return false;
        } else if (dav_xml_is(c, NS_CALDAV, "time-range")) {
            int64_t s, e, t;
            bool date;
            if (!range_of(c, &s, &e) || !prop_time(p, &t, &date) || !(s <= t && e > t))
                return false;
        } else if (dav_xml_is(c, NS_CALDAV, "param-filter") && !param_match(p, c)) {
            return false;
        }
    }
    return true;
}

static bool prop_filter_match(const ical_comp *c, const xmlNode *pf)
{
    xmlChar *name = xmlGetProp(pf, (const xmlChar *)"name");
    bool undefined = dav_xml_child(pf, NS_CALDAV, "is-not-defined") != NULL, any = false,
         pass = false;
    for (size_t i = 0; i < c->nprops && !pass; i++) {
        if (strcasecmp(c->props[i].name, (const char *)name) != 0)
            continue;
        any = true;
        pass = !undefined && prop_match(&c->props[i], pf);
    }
    xmlFree(name);
    return undefined ? !any : pass;
}

/* §9.7.1: whether comp-filter cf matches in the scope of comps (the children of
 * parent, NULL for the top level); done: the comp-filter whose time-range the caller
 * tested over every recurrence (its member passed). */
static bool comp_filter_match(ical_comp *const *comps, size_t n, const ical_comp *parent,
                              const xmlNode *cf, const xmlNode *done)
{
    xmlChar *name = xmlGetProp(cf, (const xmlChar *)"name");
    bool undefined = dav_xml_child(cf, NS_CALDAV, "is-not-defined") != NULL, any = false,
         pass = false;
    for (size_t i = 0; i < n && !pass; i++) {
        const ical_comp *c = comps[i];
        if (strcasecmp(c->name, (const char *)name) != 0)
            continue;
        any = true;
        pass = !undefined;
        for (xmlNode *f = dav_xml_child(cf, NULL, NULL); f && pass; f = dav_xml_next(f)) {
            int64_t s, e;
            if (dav_xml_is(f, NS_CALDAV, "time-range"))
                pass = cf == done || (range_of(f, &s, &e) && comp_in_range(c, parent, s, e));
            else if (dav_xml_is(f, NS_CALDAV, "prop-filter"))
                pass = prop_filter_match(c, f);
            else if (dav_xml_is(f, NS_CALDAV, "comp-filter"))
                pass = comp_filter_match(c->comps, c->ncomps, c, f, done);
        }
    }
    xmlFree(name);
    return undefined ? !any : pass;
}

bool dav_filter_ical(const char *text, const xmlNode *vcal, const xmlNode *done, const char *ftz)
{
    ical_comp **comps = NULL;
    char *err = NULL;
    int n = ical_parse(text, strlen(text), &comps, &err);
    free(err);
    if (n < 0)
        return false;
    filter_ftz = ftz;
    bool pass = comp_filter_match(comps, (size_t)n, NULL, vcal, done);
    filter_ftz = NULL;
    for (int i = 0; i < n; i++)
        ical_comp_free(comps[i]);
    free(comps);
    return pass;
}

bool dav_filter_ical_trivial(const xmlNode *vcal, const xmlNode *ev)
{
    const xmlNode *only = dav_xml_child(vcal, NULL, NULL);
    if (!only)
        return true;
    if (only != ev || dav_xml_next((xmlNode *)only))
        return false;
    const xmlNode *c = dav_xml_child(ev, NULL, NULL);
    return !c || (dav_xml_is(c, NS_CALDAV, "time-range") && !dav_xml_next((xmlNode *)c));
}

/* ---- CARDDAV:filter (RFC 6352 §10.5) -------------------------------------------------------- */

static bool all_of(const xmlNode *n)
{
    return dav_xml_attr_is(n, "test", "allof", false);
}

/* §10.5.2: a param-filter on property p. */
static bool card_param_match(const vcard_prop *p, const xmlNode *pf)
{
    xmlChar *name = xmlGetProp(pf, (const xmlChar *)"name");
    const vcard_param *par = vcard_param_get(p, (const char *)name);
    xmlFree(name);
    const xmlNode *c = dav_xml_child(pf, NULL, NULL);
    if (c && dav_xml_is(c, NS_CARDDAV, "is-not-defined"))
        return !par;
    if (!par)
        return false;
    if (!c)
        return true;
    for (size_t i = 0; i < par->nvalues; i++)
        if (text_match(c, par->values[i], true))
            return true;
    return false;
}

/* §10.5.1: whether one property passes the text-matches and param-filters of pf,
 * any or all of them by its test. */
static bool card_prop_match(const vcard_prop *p, const xmlNode *pf)
{
    bool all = all_of(pf), tested = false;
    char *value = NULL;
    for (xmlNode *c = dav_xml_child(pf, NULL, NULL); c; c = dav_xml_next(c)) {
        bool m;
        if (dav_xml_is(c, NS_CARDDAV, "text-match")) {
            if (!value)
                value = vcard_value_unescape(p->value, strlen(p->value));
            m = text_match(c, value, true);
        } else if (dav_xml_is(c, NS_CARDDAV, "param-filter")) {
            m = card_param_match(p, c);
        } else {
            continue;
        }
        tested = true;
        if (m != all) { /* anyof: one match decides; allof: one miss */
            free(value);
            return m;
        }
    }
    free(value);
    return !tested || all;
}

/* The property names of pf: "TEL" matches TEL in any group, "X-ABC.TEL" only there. */
static bool card_name_is(const vcard_prop *p, const char *name)
{
    const char *dot = strchr(name, '.');
    if (!dot)
        return strcasecmp(p->name, name) == 0;
    size_t g = (size_t)(dot - name);
    return p->group && strlen(p->group) == g && strncasecmp(p->group, name, g) == 0 &&
           strcasecmp(p->name, dot + 1) == 0;
}

static bool card_prop_filter(const vcard *card, const xmlNode *pf)
{
    xmlChar *name = xmlGetProp(pf, (const xmlChar *)"name");
    bool undefined = dav_xml_child(pf, NS_CARDDAV, "is-not-defined") != NULL, any = false,
         pass = false;
    for (size_t i = 0; i < card->nprops && !pass; i++) {
        if (!card_name_is(&card->props[i], (const char *)name))
            continue;
        any = true;
        pass = !undefined && card_prop_match(&card->props[i], pf);
    }
    xmlFree(name);
    return undefined ? !any : pass;
}

bool dav_filter_vcard(const char *text, const xmlNode *filter)
{
    vcard *cards = NULL;
    size_t n = 0;
    if (vcard_parse(text, strlen(text), &cards, &n, NULL) != 0 || n == 0) {
        vcard_list_free(cards, n);
        return false;
    }
    bool all = all_of(filter), tested = false, pass = all;
    for (xmlNode *pf = dav_xml_child(filter, NS_CARDDAV, "prop-filter"); pf;
         pf = dav_xml_next(pf)) {
        bool m = card_prop_filter(&cards[0], pf);
        tested = true;
        if (m != all) {
            pass = m;
            break;
        }
    }
    vcard_list_free(cards, n);
    return !tested || pass;
}
