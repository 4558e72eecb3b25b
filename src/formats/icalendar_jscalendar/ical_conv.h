/*
 * ical_conv.h — internals shared by ical_to_jscal.c and ical_to_jscal_parts.c: the
 * conversion contexts and the property/component converters (draft -25 §2).
 *
 * Strings and keys go into JSON with jansson's _nocheck functions: every byte comes from
 * ical_parse, which rejected anything that is not UTF-8 (RFC 5545 §3.1.4), or is ASCII made
 * here, and no step cuts a string inside a UTF-8 sequence. Checking again would cost a tenth
 * of a conversion.
 */
#ifndef JMAPD_FORMATS_ICAL_CONV_H
#define JMAPD_FORMATS_ICAL_CONV_H

#include <stdint.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/icalendar_jscalendar/cal_address.h"
#include "formats/icalendar_jscalendar/ical.h"
#include "formats/icalendar/ical_internal.h"
#include "formats/jscalendar/jscal.h"
#include "formats/timezone/tz.h"

typedef struct {
    char *tzid;
    icaltimezone *zone;
} custom_zone;

/* UUIDv5 keys of values seen before: a calendar repeats the same organizer, attendees,
 * rooms and alarms in event after event, and SHA-1 is the most expensive step of a key.
 * Direct-mapped by hash; a slot keeps the last value that hashed to it. */
#define I2J_UUID_CACHE 1024
typedef struct {
    char *name;
    uint32_t hash; /* FNV-1a of name */
    char uuid[37];
} uuid_slot;

typedef struct {
    uuid_slot *uuids; /* I2J_UUID_CACHE slots, allocated on first use */
    int timing_only; /* ICAL_TO_JSCAL_TIMING */
    ical_comp **vtz; /* VTIMEZONE components of the calendar */
    size_t nvtz;
    custom_zone *cz; /* libical zones built from them, on demand */
    size_t ncz;
    char *err;
    json_t *warnings; /* repairs made, for the caller (NULL: not wanted) */
    json_t *warned;   /* what was warned about once per calendar (TZIDs) */
} cal_ctx;

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

/* One VEVENT or VTODO being converted (ical_to_jscal.c): the properties that need the whole
 * component are gathered by the property handlers (ical_to_jscal_props.c) and converted
 * after them. */
#define I2J_MAX_ATTENDEES 512
#define I2J_MAX_JSPROPS 64
typedef struct {
    obj_ctx o;
    const ical_prop *dtstart, *due, *dtend, *duration; /* the first of each that applies */
    const ical_prop *location, *derived_location, *organizer;
    const ical_prop *attendees[I2J_MAX_ATTENDEES];
    /* every GEO: a cap would keep the ones past it raw, and a repeated GEO collapsing
     * into one Location would move that cap on the next read (issue 12 §3.4) */
    const ical_prop **geos;
    const ical_prop *jsprops[I2J_MAX_JSPROPS];
    size_t natt, ngeo, geocap, njs;
    int nurl, have_rrule;
    int is_instance; /* has a RECURRENCE-ID */
    uint64_t seen;   /* the single-valued properties met, by table row */
} entry_ctx;

/* What a property handler did: converted (or gathered) it, left it for the "iCalendar"
 * property (§5.1.1), or failed (cal->err set). */
enum { I2J_FAIL = -1, I2J_DONE = 0, I2J_KEEP = 1 };
/* Converts one property of the entry through the property table
 * (ical_to_jscal_props.c). Returns 0, or -1 with cal->err set. */
int i2j_entry_prop(entry_ctx *e, const ical_prop *p);

int i2j_fail(obj_ctx *o, const ical_prop *p, const char *msg);
/* A repair made: "line N: property NAME: msg" (p NULL: the component) into the warnings. */
void i2j_warn(obj_ctx *o, const ical_prop *p, const char *msg);
/* The same, once per calendar for each key. */
void i2j_warn_once(obj_ctx *o, const ical_prop *p, const char *key, const char *msg);
/* Copies s into key[size], cut to fit like snprintf "%s" (keys are ASCII Ids or UUIDs). */
void i2j_key_copy(char *key, size_t size, const char *s);
/* 1 if the (upper-case) name n is lit: a first-letter test spares most strcmp calls in the
 * property dispatch chains. */
static inline int i2j_is(const char *n, const char *lit)
{
    return n[0] == lit[0] && !strcmp(n, lit);
}
/* jscal_uuidv5 through the calendar's cache. */
void i2j_uuid(cal_ctx *cal, const char *name, char out[37]);
/* Frees the cache. */
void i2j_uuid_cache_free(cal_ctx *cal);
json_t *i2j_ical_obj(obj_ctx *o);
void i2j_keep_prop(obj_ctx *o, const ical_prop *p);
/* Takes back the first kept property equal to p (i2j_keep_prop). */
void i2j_unkeep_prop(obj_ctx *o, const ical_prop *p);
void i2j_keep_comp(obj_ctx *o, const ical_comp *c);
void i2j_note_converted(obj_ctx *o, const char *path, const ical_prop *p,
                        const char *const *consumed, const char *value_type, int force);
char *i2j_path2(const char *a, const char *key);
int i2j_param_is_true(const ical_prop *p, const char *name);
json_t *i2j_get_map(json_t *obj, const char *name);
json_t *i2j_typed_object(const char *type);
void i2j_set_text(json_t *obj, const char *name, const char *raw);
void i2j_add_set_values(json_t *obj, const char *name, const char *raw, int lower, int text);
int i2j_parse_uint(const char *s, long long *out);
bool i2j_text_is(const ical_prop *p, const char *s);
const char *i2j_enum_value(const ical_prop *p, const char *const *map);
ical_comp *i2j_find_vtz(cal_ctx *cal, const char *tzid);
icaltimezone *i2j_custom_zone_get(cal_ctx *cal, ical_comp *vtz, const char *tzid);
int i2j_prop_zone(obj_ctx *o, const ical_prop *p, const ical_dt *d, const char **tzid,
                     icaltimezone **zone, ical_comp **vtz);
int i2j_prop_local(obj_ctx *o, const ical_prop *p, const char *raw, jscal_ldt *out,
                      ical_dt *dt);
void i2j_set_ldt(json_t *obj, const char *name, const jscal_ldt *t, int utc);
int i2j_set_utc(obj_ctx *o, const ical_prop *p, json_t *obj, const char *name);
/* nurl: the URLs of the object that became Links so far (§2.3.46: the first one is
 * written back as URL without a note). */
int i2j_add_link(obj_ctx *o, const ical_prop *p, int *nurl);
int i2j_int_list(json_t *rule, const char *name, const char *v, int allow_neg);
int i2j_convert_rrule(obj_ctx *o, const ical_prop *p);
void i2j_sub_ctx(obj_ctx *sub, obj_ctx *parent, const ical_comp *c, const char *type);
void i2j_sub_finish(obj_ctx *sub);
void i2j_comp_key(cal_ctx *cal, const ical_comp *c, char key[256]);
void i2j_comp_key_in(cal_ctx *cal, const ical_comp *c, const json_t *map, char key[256]);
json_t *i2j_convert_valarm(obj_ctx *parent, const ical_comp *c);
void i2j_resolve_alert_relations(json_t *alerts);
/* 1 if v is a GEO value (RFC 5545 §3.8.1.6: latitude;longitude, in range). */
int i2j_geo_ok(const char *v);
void i2j_add_geo_coordinates(obj_ctx *o, json_t *loc, const ical_prop *p, const char *path);
json_t *i2j_convert_vlocation(obj_ctx *parent, const ical_comp *c);
int i2j_take_language(json_t *obj, const ical_prop *p);
void i2j_set_description(obj_ctx *o, json_t *obj, const ical_prop *p, int styled);
int i2j_styled_ok(const ical_prop *p);
json_t *i2j_convert_participant_comp(obj_ctx *parent, const ical_comp *c, char key[256]);
char *i2j_strip_mailto(const char *s);
void i2j_set_addr_set(json_t *obj, const char *name, const ical_param *pa);
/* ATTENDEE and ORGANIZER into participants (§2.3.4, §2.3.29); each adds the key of the
 * participant it made or merged into to the set into. */
void i2j_convert_attendee(obj_ctx *o, const ical_prop *p, json_t *into);
void i2j_convert_organizer(obj_ctx *o, const ical_prop *p, json_t *into);
int i2j_convert_jsprops(obj_ctx *o, const ical_prop *const *jsprops, size_t n);

#endif
