/*
 * ical_internal.h — helpers shared by the two conversion directions (ical_to_jscal.c,
 * jscal_to_ical.c) and recurrence expansion: iCalendar DATE/DATE-TIME values, jCal
 * (RFC 7265) encoding of properties and components for the "iCalendar" property of
 * draft-ietf-calext-jscalendar-icalendar-25 §5.1.1, and parameter maps.
 */
#ifndef JMAPD_FORMATS_ICAL_INTERNAL_H
#define JMAPD_FORMATS_ICAL_INTERNAL_H

#include <jansson.h>

#include "formats/icalendar/ical_syntax.h"
#include "formats/jscalendar/jscal_util.h"

/* An iCalendar DATE or DATE-TIME value (RFC 5545 §3.3.4, §3.3.5). */
typedef struct {
    jscal_ldt t;
    int is_date, is_utc;
} ical_dt;

/* Parses "YYYYMMDD" or "YYYYMMDDTHHMMSS[Z]". Returns 0 or -1. */
int ical_dt_parse(const char *s, ical_dt *out);
/* Formats in iCalendar basic form (buf >= 17 bytes). */
void ical_dt_format(const ical_dt *d, char *buf);

/* The default value type (lowercase, jCal spelling) of an iCalendar property, or "unknown". */
const char *ical_default_type(const char *propname);

/* jCal encodings. ical_prop_to_jcal: ["name", {params}, "type", value, ...]. The tree's
 * strings must be UTF-8 (those of a parsed or a JSON-built tree are); they are not checked
 * again (see ical_conv.h). */
json_t *ical_prop_to_jcal(const ical_prop *p);
json_t *ical_comp_to_jcal(const ical_comp *c);
/* Inverse; return NULL (and *err) if the jCal is malformed. */
ical_prop *ical_prop_from_jcal(ical_comp *into, const json_t *j, char **err);
ical_comp *ical_comp_from_jcal(const json_t *j, char **err);

/* Parameters as a jCal parameter object, leaving out the names in skip (NULL-terminated,
 * uppercase). Returns NULL if nothing is left. Strings as for ical_prop_to_jcal. */
json_t *ical_params_to_json(const ical_prop *p, const char *const *skip);
/* Adds the parameters of a jCal parameter object to p (skipping any already present). */
void ical_params_from_json(ical_prop *p, const json_t *params);

#endif
