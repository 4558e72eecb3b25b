/*
 * jscal_conv.h — internals shared by jscal_to_ical.c and jscal_to_ical_parts.c: the writer
 * state, the output context and the object converters (draft -25 §3).
 */
#ifndef JMAPD_FORMATS_JSCAL_CONV_H
#define JMAPD_FORMATS_JSCAL_CONV_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "formats/icalendar_jscalendar/cal_address.h"
#include "formats/icalendar_jscalendar/ical.h"
#include "formats/icalendar/ical_internal.h"
#include "formats/jscalendar/jscal.h"
#include "formats/recurrence/recur.h"
#include "formats/timezone/tz.h"

struct ical_writer {
    char *prodid, *method;
    char **zones; /* TZIDs referenced */
    int *zone_from; /* for each, the earliest year of a time written in it */
    size_t nzones;
    ical_comp **custom; /* VTIMEZONEs carried in iCalendar/components */
    size_t ncustom;
    /* RFC 7809 §3.1.2: IANA zones go by reference (their TZIDs alone); zones carried in
     * iCalendar/components are still written */
    bool zones_by_reference;
    /* the DTSTAMP of entries without "updated": one time for all the writer writes, or
     * a series and its overrides written across a second's tick would differ (issue 12
     * §3.4: the override's DTSTAMP read back as a patch of "updated") */
    int64_t now;
};

typedef struct {
    ical_writer *w;
    const json_t *obj;
    json_t *cp; /* convertedProperties of obj's iCalendar (borrowed) */
    const char *tz;
    int form; /* 0: DATE, 1: local (TZID or floating), 2: UTC */
    /* for an override: the main object's zone and form, in which its key (the
     * RECURRENCE-ID) is (jscalendarbis §3.3.4; the override may move to another zone) */
    const char *rid_tz;
    int rid_form;
    int as_override; /* writing an override instance */
    char *err;
} out_ctx;

int j2i_ofail(out_ctx *o, const char *path, const char *msg);
const char *j2i_jstr(const json_t *o, const char *k);
/* Notes that a time of year is written in zone tz (its VTIMEZONE goes at the end). */
void j2i_add_zone(ical_writer *w, const char *tz, int year);
void j2i_apply_cp(out_ctx *o, ical_prop *p, const char *path);
const char *j2i_cp_name(out_ctx *o, const char *path);
char *j2i_path2(const char *a, const char *key);
ical_prop *j2i_add_text(ical_comp *c, const char *name, const char *text);
/* DESCRIPTION, or STYLED-DESCRIPTION;VALUE=TEXT;FMTTYPE= for other content types. */
ical_prop *j2i_add_description(out_ctx *o, ical_comp *c, const char *desc,
                               const char *content_type);
void j2i_add_jsprops(ical_comp *c, const json_t *obj, const char *prefix,
                        const char *const *known);
int j2i_restore_ical(out_ctx *o, ical_comp *c, const json_t *obj, const char *path);
int j2i_add_dt(out_ctx *o, ical_comp *c, const char *name, const char *ldt, const char *path);
int j2i_add_utc(out_ctx *o, ical_comp *c, const char *name, const char *utc, const char *path);
int j2i_zero_time(const char *ldt);
int j2i_dur_has_time(const char *s);
int j2i_choose_form(const json_t *obj);
int j2i_add_rrule(out_ctx *o, ical_comp *c, const json_t *r);
void j2i_add_links(out_ctx *o, ical_comp *c, const json_t *links, const char *prefix);
int j2i_geo_from_uri(const char *uri, char *out, size_t n);
const char *j2i_preserved_uid(const json_t *al);
int j2i_location_propable(out_ctx *o, const char *k, const json_t *l);
void j2i_add_vlocation(out_ctx *o, ical_comp *c, const char *k, const json_t *l,
                          const char *path);
void j2i_add_location_prop(out_ctx *o, ical_comp *c, const char *k, const json_t *l,
                              const char *path);
void j2i_add_locations(out_ctx *o, ical_comp *c, const json_t *obj);
void j2i_add_virtual_locations(out_ctx *o, ical_comp *c, const json_t *vls);
void j2i_set_addr_param(ical_prop *p, const char *param, const json_t *set);
char *j2i_mailto(const char *s);
void j2i_add_participants(out_ctx *o, ical_comp *c, const json_t *obj, int is_task);
int j2i_add_alerts(out_ctx *o, ical_comp *c, const json_t *obj);

#endif
