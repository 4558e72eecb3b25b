/*
 * jscal_util.h — small value-level helpers shared by the JSCalendar modules: parsing and
 * formatting of the JSCalendar date-time and duration types (draft-ietf-calext-jscalendarbis-08
 * §1.4), UUIDv5 keys (draft-ietf-calext-jscalendar-icalendar-25 §2.1.3) and a minimal
 * PatchObject applier (§1.4.9); the buffer, Id check, JSON Pointer tokens and JSON writer
 * are formats/json/ (included here). Pure functions, no global state.
 */
#ifndef JMAPD_FORMATS_JSCAL_UTIL_H
#define JMAPD_FORMATS_JSCAL_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "formats/json/buffer.h"
#include "formats/json/id.h"
#include "formats/json/pointer.h"
#include "formats/json/writer.h"

/* A broken-down wall-clock date-time without zone. */
typedef struct {
    int year, month, day, hour, minute, second;
} jscal_ldt;

/* A parsed Duration: non-negative components, sign is -1 or +1 (SignedDuration). */
typedef struct {
    int sign;
    int64_t weeks, days, hours, minutes, seconds;
} jscal_dur;

/* Parses a LocalDateTime ("2020-01-15T13:00:00"). Returns 0 on success, -1 if malformed. */
int jscal_ldt_parse(const char *s, jscal_ldt *out);
/* Parses a UTCDateTime ("2020-01-15T13:00:00Z"). Returns 0 on success, -1 if malformed. */
int jscal_utc_parse(const char *s, jscal_ldt *out);
/* 0 if the fields make a valid date and time (second 60 allowed), else -1. */
int jscal_ldt_check(const jscal_ldt *t);
/* Writes "YYYY-MM-DDTHH:MM:SS" (plus "Z" if utc) into buf (at least 21 bytes). */
void jscal_ldt_format(const jscal_ldt *t, int utc, char *buf);
/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
int64_t jscal_days_from_civil(int y, int m, int d);
/* Inverse of jscal_days_from_civil. */
void jscal_civil_from_days(int64_t z, int *y, int *m, int *d);
/* Seconds since the epoch treating the wall-clock time as UTC. */
int64_t jscal_ldt_to_secs(const jscal_ldt *t);
/* Inverse of jscal_ldt_to_secs. */
void jscal_secs_to_ldt(int64_t secs, jscal_ldt *out);

/* Parses a Duration (signed=0) or SignedDuration (signed=1). Returns 0 or -1. */
int jscal_dur_parse(const char *s, int allow_sign, jscal_dur *out);
/* The shortest decimal text (%.15g, or up to %.17g) that reads back as v exactly. */
void jscal_format_double(char *buf, size_t n, double v);
/* Formats a duration in the canonical JSCalendar form ("PT0S" for zero). buf >= 64 bytes. */
void jscal_dur_format(const jscal_dur *d, char *buf);
/* Total seconds of a duration counting a day as 86400 s (sign applied). */
int64_t jscal_dur_total_secs(const jscal_dur *d);

/* UUIDv5 of name in the draft -25 §2.1.3 namespace, as 36 lowercase chars + NUL. */
void jscal_uuidv5(const char *name, char out[37]);

/* Applies a PatchObject (jscalendarbis §1.4.9) to obj in place. Returns 0 on success, or -1
 * with *errpath (malloc'd) set to the offending key; obj is unchanged on failure.
 * A thin wrapper over patch_apply (formats/patch.h, RFC 8620 §5.3). */
int jscal_patch_apply(json_t *obj, json_t *patch, char **errpath);

/* 1 if a PatchObject key in recurrenceOverrides must be ignored (jscalendarbis-08 §4.3.4:
 * @type, method, organizerCalendarAddress, participants/x/calendarAddress, privacy,
 * prodId, recurrenceId, recurrenceIdTimeZone, recurrenceOverrides, recurrenceRule,
 * relatedTo, uid, and anything below them). */
int jscal_override_key_ignored(const char *key);
/* Copy of patch without the keys above (new reference). */
json_t *jscal_override_patch_filter(const json_t *patch);

/* Case-insensitive ASCII lowercase copy (malloc'd). */
char *jscal_strlower(const char *s);
/* Uppercase copy (malloc'd). */
char *jscal_strupper(const char *s);
/* printf into a malloc'd string. */
char *jscal_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The RRULE value of a RecurrenceRule (draft-ietf-calext-jscalendar-icalendar-25 §2.3.36),
 * the one writer for iCalendar output and for libical expansion. Parts in RFC 5545
 * §3.3.10's order as the draft's examples write them: RSCALE (RFC 7529) first, FREQ,
 * UNTIL, COUNT, INTERVAL, BYSECOND ... BYSETPOS, WKST, SKIP. until is the UNTIL value in
 * iCalendar form, or NULL. Output (flags 0) writes rscale as given and SKIP only with it;
 * JSCAL_RRULE_ITERATE writes what libical needs: RSCALE only when it is not gregorian or
 * SKIP is not omit (then GREGORIAN by default). Malloc'd. */
enum { JSCAL_RRULE_ITERATE = 1 };
char *jscal_rrule_text(const json_t *r, const char *until, int flags);

/* 1 if s is a CSS Color Module Level 3 color name (§4.3, case-insensitive) or an RGB value
 * "#RRGGBB" (§4.2.1; also "#RGB" unless six_only: jscalendarbis-17 §3.2.12 allows only the
 * six-digit form). */
int jscal_css_color(const char *s, int six_only);
/* 1 if s has the shape of an RFC 5322 §3.4.1 addr-spec (local-part "@" domain). */
int jscal_addr_spec(const char *s);
/* 1 if s has the shape of an absolute URI (RFC 3986 §3: scheme ":" and more, no spaces). */
int jscal_uri(const char *s);

#endif
