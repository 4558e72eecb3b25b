/*
 * ical_jcal.c — jCal (RFC 7265) encoding of iCalendar properties and components, used for
 * the "iCalendar" property (draft-ietf-calext-jscalendar-icalendar-25 §5.1.1) that keeps
 * every element without a JSCalendar counterpart, and iCalendar DATE/DATE-TIME values.
 */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/icalendar/ical_internal.h"

/* ---- DATE / DATE-TIME ----------------------------------------------------------------- */

static int two_digits(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

int ical_dt_parse(const char *s, ical_dt *d)
{
    memset(d, 0, sizeof *d);
    size_t n = s ? strlen(s) : 0;
    if (n == 8)
        d->is_date = 1;
    else if ((n == 15 || (n == 16 && (s[15] == 'Z' || s[15] == 'z'))) && s[8] == 'T')
        d->is_utc = n == 16;
    else
        return -1;
    for (size_t i = 0; i < n; i++)
        if (i != 8 && i != 15 && (unsigned)(s[i] - '0') > 9)
            return -1;
    d->t.year = two_digits(s) * 100 + two_digits(s + 2);
    d->t.month = two_digits(s + 4);
    d->t.day = two_digits(s + 6);
    if (!d->is_date) {
        d->t.hour = two_digits(s + 9);
        d->t.minute = two_digits(s + 11);
        d->t.second = two_digits(s + 13);
    }
    return jscal_ldt_check(&d->t);
}

void ical_dt_format(const ical_dt *d, char *buf)
{
    if (d->is_date)
        snprintf(buf, 17, "%04u%02u%02u", (unsigned)d->t.year % 10000u, (unsigned)d->t.month % 100u, (unsigned)d->t.day % 100u);
    else
        snprintf(buf, 17, "%04u%02u%02uT%02u%02u%02u%s", (unsigned)d->t.year % 10000u, (unsigned)d->t.month % 100u,
                 (unsigned)d->t.day % 100u, (unsigned)d->t.hour % 100u, (unsigned)d->t.minute % 100u, (unsigned)d->t.second % 100u,
                 d->is_utc ? "Z" : "");
}

/* ---- value types ---------------------------------------------------------------------- */

static const struct {
    const char *name, *type;
} default_types[] = {
    {"ACKNOWLEDGED", "date-time"},   {"ACTION", "text"},
    {"ATTACH", "uri"},               {"ATTENDEE", "cal-address"},
    {"CALSCALE", "text"},            {"CATEGORIES", "text"},
    {"CLASS", "text"},               {"COLOR", "text"},
    {"COMMENT", "text"},             {"COMPLETED", "date-time"},
    {"CONCEPT", "uri"},              {"CONFERENCE", "uri"},
    {"CONTACT", "text"},             {"COORDINATES", "uri"},
    {"CREATED", "date-time"},        {"CALENDAR-ADDRESS", "cal-address"},
    {"DESCRIPTION", "text"},         {"DTEND", "date-time"},
    {"DTSTAMP", "date-time"},        {"DTSTART", "date-time"},
    {"DUE", "date-time"},            {"DURATION", "duration"},
    {"ESTIMATED-DURATION", "duration"}, {"EXDATE", "date-time"},
    {"EXRULE", "recur"},             {"FREEBUSY", "period"},
    {"GEO", "float"},                {"IMAGE", "uri"},
    {"LAST-MODIFIED", "date-time"},  {"LINK", "uri"},
    {"LOCATION", "text"},            {"LOCATION-TYPE", "text"},
    {"METHOD", "text"},              {"NAME", "text"},
    {"ORGANIZER", "cal-address"},    {"PARTICIPANT-TYPE", "text"},
    {"PERCENT-COMPLETE", "integer"}, {"PRIORITY", "integer"},
    {"PRODID", "text"},              {"RDATE", "date-time"},
    {"REASON", "uri"},               {"RECURRENCE-ID", "date-time"},
    {"REFRESH-INTERVAL", "duration"}, {"RELATED-TO", "text"},
    {"REPEAT", "integer"},           {"REQUEST-STATUS", "text"},
    {"RESOURCE-TYPE", "text"},       {"RESOURCES", "text"},
    {"RRULE", "recur"},              {"SEQUENCE", "integer"},
    {"SHOW-WITHOUT-TIME", "boolean"}, {"SOURCE", "uri"},
    {"STATUS", "text"},              {"STRUCTURED-DATA", "text"},
    {"STYLED-DESCRIPTION", "text"},  {"SUBSTATE", "text"},
    {"SUMMARY", "text"},             {"TASK-MODE", "text"},
    {"TRANSP", "text"},              {"TRIGGER", "duration"},
    {"TZID", "text"},                {"TZNAME", "text"},
    {"TZOFFSETFROM", "utc-offset"},  {"TZOFFSETTO", "utc-offset"},
    {"TZURL", "uri"},                {"UID", "text"},
    {"URL", "uri"},                  {"VERSION", "text"},
    {"JSID", "text"},                {"JSPROP", "text"},
};

const char *ical_default_type(const char *name)
{
    int c0 = toupper((unsigned char)name[0]); /* the table is upper-case */
    for (size_t i = 0; i < sizeof default_types / sizeof *default_types; i++)
        if (default_types[i].name[0] == c0 && !strcasecmp(default_types[i].name, name))
            return default_types[i].type;
    return "unknown";
}

static int multi_text(const char *name)
{
    return !strcasecmp(name, "CATEGORIES") || !strcasecmp(name, "RESOURCES") ||
           !strcasecmp(name, "LOCATION-TYPE");
}

/* ---- properties ----------------------------------------------------------------------- */

json_t *ical_params_to_json(const ical_prop *p, const char *const *skip)
{
    json_t *o = NULL;
    for (size_t i = 0; i < p->nparams; i++) {
        const ical_param *pa = &p->params[i];
        int skipped = 0;
        for (const char *const *s = skip; s && *s && !skipped; s++)
            skipped = (*s)[0] == pa->name[0] && !strcmp(*s, pa->name); /* both upper-case */
        if (skipped || !pa->nvalues)
            continue;
        if (!o)
            o = json_object();
        char *lname = jscal_strlower(pa->name);
        if (pa->nvalues == 1) {
            json_object_set_new_nocheck(o, lname, json_string_nocheck(pa->values[0]));
        } else {
            json_t *a = json_array();
            for (size_t k = 0; k < pa->nvalues; k++)
                json_array_append_new(a, json_string_nocheck(pa->values[k]));
            json_object_set_new_nocheck(o, lname, a);
        }
        free(lname);
    }
    return o;
}

void ical_params_from_json(ical_prop *p, const json_t *params)
{
    const char *k;
    json_t *v;
    if (!json_is_object(params))
        return;
    json_object_foreach((json_t *)params, k, v)
    {
        if (ical_prop_get_param(p, k) || !ical_name_valid(k))
            continue; /* an invalid name never reaches the output; validation refuses it */
        if (json_is_string(v)) {
            ical_prop_add_param(p, k, json_string_value(v));
        } else if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) if (json_is_string(e))
                ical_prop_add_param(p, k, json_string_value(e));
        }
    }
}

/* One raw (wire) value -> jCal JSON value for the given type (RFC 7265 §3.6). */
static json_t *raw_to_jcal(const char *type, const char *raw)
{
    if (!strcmp(type, "text")) {
        char *u = ical_text_unescape(raw);
        json_t *j = json_string_nocheck(u);
        free(u);
        return j;
    }
    if (!strcmp(type, "integer")) {
        /* only the canonical spelling as a number: "+0" or "007" stay as written, so a
         * property kept raw writes back the same line (issue 12 §3.4) */
        char *end, canon[24];
        long long v = strtoll(raw, &end, 10);
        snprintf(canon, sizeof canon, "%lld", v);
        if (*raw && !*end && strcmp(canon, raw) == 0)
            return json_integer(v);
    } else if (!strcmp(type, "boolean")) {
        if (!strcasecmp(raw, "TRUE"))
            return json_true();
        if (!strcasecmp(raw, "FALSE"))
            return json_false();
    } else if (!strcmp(type, "date-time") || !strcmp(type, "date")) {
        ical_dt d;
        if (!ical_dt_parse(raw, &d)) {
            char buf[24];
            jscal_ldt_format(&d.t, d.is_utc, buf);
            if (d.is_date)
                buf[10] = 0;
            return json_string_nocheck(buf);
        }
    }
    return json_string_nocheck(raw);
}

/* RFC 5545 §3.8.1.6 geo-value: float ";" float, nothing else; finite (JSON has no
 * infinity: "45.5;5E977943" became [45.5] and was written back as "45.5"). */
static bool geo_pair(const char *v)
{
    char *end;
    double a = strtod(v, &end);
    if (end == v || *end != ';' || !isfinite(a))
        return false;
    const char *s = end + 1;
    double b = strtod(s, &end);
    return end != s && *end == 0 && isfinite(b);
}

json_t *ical_prop_to_jcal(const ical_prop *p)
{
    json_t *a = json_array();
    char *lname = jscal_strlower(p->name);
    json_array_append_new(a, json_string_nocheck(lname));
    free(lname);
    static const char *const skip_value[] = {"VALUE", NULL};
    json_t *params = ical_params_to_json(p, skip_value);
    json_array_append_new(a, params ? params : json_object());
    const char *vt = ical_prop_param1(p, "VALUE");
    char *type = vt ? jscal_strlower(vt) : strdup(ical_default_type(p->name));
    json_array_append_new(a, json_string_nocheck(type));
    int split = strcmp(type, "text") ? (!strcmp(type, "date-time") || !strcmp(type, "date") ||
                                        !strcmp(type, "period"))
                                     : multi_text(p->name);
    if (!strcmp(type, "text") && !strcasecmp(p->name, "REQUEST-STATUS")) {
        /* RFC 7265 §3.4.1.3: a structured value, its parts as an array */
        json_t *parts = json_array();
        const char *start = p->value;
        for (const char *q = p->value;; q++) {
            if (*q == '\\' && q[1]) {
                q++;
                continue;
            }
            if (*q == ';' || !*q) {
                char *raw = strndup(start, (size_t)(q - start));
                json_array_append_new(parts, raw_to_jcal("text", raw));
                free(raw);
                if (!*q)
                    break;
                start = q + 1;
            }
        }
        json_array_append_new(a, parts);
    } else if (!strcmp(type, "float") && !strcasecmp(p->name, "GEO") && geo_pair(p->value)) {
        /* RFC 7265 §3.4.1.2: GEO is one value, an array of two floats. */
        json_t *pair = json_array();
        const char *semi = strchr(p->value, ';');
        json_array_append_new(pair, json_real(atof(p->value)));
        json_array_append_new(pair, json_real(atof(semi + 1)));
        json_array_append_new(a, pair);
    } else if (!strcmp(type, "float") && !strcasecmp(p->name, "GEO")) {
        /* not two floats (RFC 5545 §3.8.1.6): kept as written, so that writing it back
         * gives the same line (issue 12 §3.4: a GEO read as [45, 0] from "45. 002" was
         * written as a valid GEO and converted on the next read) */
        json_array_set_new(a, 2, json_string_nocheck("unknown"));
        json_array_append_new(a, json_string_nocheck(p->value));
    } else if (split) {
        char **vals;
        size_t n = ical_split_values(p->value, &vals);
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, raw_to_jcal(type, vals[i]));
        ical_free_strv(vals, n);
    } else {
        json_array_append_new(a, raw_to_jcal(type, p->value));
    }
    free(type);
    return a;
}

json_t *ical_comp_to_jcal(const ical_comp *c)
{
    json_t *a = json_array(), *props = json_array(), *comps = json_array();
    char *lname = jscal_strlower(c->name);
    json_array_append_new(a, json_string_nocheck(lname));
    free(lname);
    for (size_t i = 0; i < c->nprops; i++)
        json_array_append_new(props, ical_prop_to_jcal(&c->props[i]));
    for (size_t i = 0; i < c->ncomps; i++)
        json_array_append_new(comps, ical_comp_to_jcal(c->comps[i]));
    json_array_append_new(a, props);
    json_array_append_new(a, comps);
    return a;
}

/* 1 if s has the jCal form of a DATE or DATE-TIME ("2024-01-02", "2024-01-02T10:00:00Z",
 * RFC 7265 §3.6.4/§3.6.5); an invalid value kept from a real-world file is raw text, and
 * taking its dashes and colons out would change it. */
static int jcal_date_form(const char *s)
{
    size_t n = strlen(s);
    if (n < 10 || s[4] != '-' || s[7] != '-')
        return 0;
    return n == 10 || (n >= 19 && s[10] == 'T' && s[13] == ':' && s[16] == ':');
}

/* One jCal value -> raw wire text appended to b. */
static int jcal_value_to_raw(const char *type, const json_t *v, jbuf *b)
{
    char tmp[64];
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!strcmp(type, "text")) {
            char *e = ical_text_escape(s);
            jbuf_adds(b, e);
            free(e);
        } else if ((!strcmp(type, "date-time") || !strcmp(type, "date")) && jcal_date_form(s)) {
            for (; *s; s++)
                if (*s != '-' && *s != ':')
                    jbuf_add(b, s, 1);
        } else {
            jbuf_adds(b, s);
        }
    } else if (json_is_integer(v)) {
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
        jbuf_adds(b, tmp);
    } else if (json_is_real(v)) {
        jscal_format_double(tmp, sizeof tmp, json_real_value(v)); /* reads back the same */
        jbuf_adds(b, tmp);
    } else if (json_is_boolean(v)) {
        jbuf_adds(b, json_is_true(v) ? "TRUE" : "FALSE");
    } else if (json_is_array(v)) {
        /* structured values (GEO pair, REQUEST-STATUS): joined with ';' */
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (i)
                jbuf_adds(b, ";");
            if (jcal_value_to_raw(json_is_string(e) ? type : "float", e, b))
                return -1;
        }
    } else {
        return -1;
    }
    return 0;
}

ical_prop *ical_prop_from_jcal(ical_comp *into, const json_t *j, char **err)
{
    if (!json_is_array(j) || json_array_size(j) < 4 || !json_is_string(json_array_get(j, 0)) ||
        !json_is_object(json_array_get(j, 1)) || !json_is_string(json_array_get(j, 2))) {
        *err = strdup("malformed jCal property");
        return NULL;
    }
    const char *name = json_string_value(json_array_get(j, 0));
    const char *type = json_string_value(json_array_get(j, 2));
    if (!ical_name_valid(name)) {
        *err = strdup("malformed jCal property name (RFC 5545 §3.1)");
        return NULL;
    }
    if (!ical_params_json_valid(json_array_get(j, 1))) {
        *err = jscal_strdupf("malformed jCal parameters of property %s (RFC 5545 §3.1)", name);
        return NULL;
    }
    jbuf b = {0};
    for (size_t i = 3; i < json_array_size(j); i++) {
        if (i > 3)
            jbuf_adds(&b, ",");
        if (jcal_value_to_raw(type, json_array_get(j, i), &b)) {
            free(b.s);
            *err = jscal_strdupf("malformed jCal value of property %s", name);
            return NULL;
        }
    }
    char *raw = jbuf_take(&b);
    ical_prop *p = ical_comp_add_prop(into, name, raw);
    free(raw);
    ical_params_from_json(p, json_array_get(j, 1));
    char *ltype = jscal_strlower(type);
    if (strcmp(ltype, "unknown") && strcmp(ltype, ical_default_type(name)) &&
        !ical_prop_get_param(p, "VALUE")) {
        char *ut = jscal_strupper(ltype);
        ical_prop_add_param(p, "VALUE", ut);
        free(ut);
    }
    free(ltype);
    return p;
}

ical_comp *ical_comp_from_jcal(const json_t *j, char **err)
{
    if (!json_is_array(j) || json_array_size(j) != 3 || !json_is_string(json_array_get(j, 0)) ||
        !json_is_array(json_array_get(j, 1)) || !json_is_array(json_array_get(j, 2))) {
        *err = strdup("malformed jCal component");
        return NULL;
    }
    const char *name = json_string_value(json_array_get(j, 0));
    if (!ical_name_valid(name)) {
        *err = strdup("malformed jCal component name (RFC 5545 §3.1)");
        return NULL;
    }
    ical_comp *c = ical_comp_new(name);
    size_t i;
    json_t *e;
    json_array_foreach(json_array_get(j, 1), i, e) if (!ical_prop_from_jcal(c, e, err))
    {
        ical_comp_free(c);
        return NULL;
    }
    json_array_foreach(json_array_get(j, 2), i, e)
    {
        ical_comp *sub = ical_comp_from_jcal(e, err);
        if (!sub) {
            ical_comp_free(c);
            return NULL;
        }
        ical_comp_add_comp(c, sub);
    }
    return c;
}
