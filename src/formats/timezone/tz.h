/*
 * tz.h — time zones for the JSCalendar modules: IANA ids resolved against the system
 * zoneinfo through libical's builtin zones, Windows zone names (Outlook, Teams) mapped to
 * IANA ids, zones that only exist as a VTIMEZONE in an imported file, and the local <-> UTC
 * conversions with the JSCalendar rules for DST gaps and repeats
 * (draft-ietf-calext-jscalendarbis-08 §1.4.5, RFC 5545 §3.3.5).
 *
 * Thread safety: the first load of a libical builtin zone is serialised by a mutex here;
 * the returned builtin zones are shared and never freed. Custom zones (tz_from_vtimezone)
 * belong to the caller.
 */
#ifndef JMAPD_FORMATS_TZ_H
#define JMAPD_FORMATS_TZ_H

#include <libical/ical.h>
#include <stdint.h>

/* One-time libical set-up (TZID prefix "", system zoneinfo). Called implicitly by every
 * function below; exposed for servers that want to do it at start-up. Thread-safe. */
void tz_init(void);

/* Returns the shared builtin zone for an IANA id ("Europe/Berlin", "Etc/UTC", "UTC"), or
 * NULL if the system zoneinfo has no such zone. Thread-safe. */
icaltimezone *tz_builtin(const char *iana_id);

/* 1 if id names a zone in the system zoneinfo. */
int tz_is_iana(const char *id);

/* Maps a Microsoft/Windows zone name ("W. Europe Standard Time", also the display forms
 * like "(UTC+01:00) Amsterdam, Berlin, ...") to its IANA id, or NULL. */
const char *tz_windows_to_iana(const char *name);

/* Resolves a TZID parameter value found in iCalendar data to an IANA id (the id itself, a
 * libical/Mozilla-prefixed id like "/mozilla.org/20050126_1/Europe/Berlin", or a Windows
 * name, also Lotus Notes' form without " Standard Time", or a whole-hour GMT offset). Returns a pointer into tzid or to a static string (valid as long as tzid is), or
 * NULL if unknown. */
const char *tz_resolve_tzid(const char *tzid);

/* "GMT+0100", "UTC+01:00", "GMT-5": a whole-hour fixed offset as its Etc/GMT zone
 * ("Etc/GMT-1"; "Etc/UTC" for +0000), a static string; NULL for anything else. */
const char *tz_offset_name(const char *tzid);

/* Builds a caller-owned zone from a VTIMEZONE component (cloned). Free with
 * icaltimezone_free(zone, 1). NULL if the component is not a usable VTIMEZONE. */
icaltimezone *tz_from_vtimezone(icalcomponent *vtimezone);

/* UTC offset in seconds of zone at the UTC instant utc (NULL zone = UTC). */
int tz_offset_at_utc(icaltimezone *zone, int64_t utc);
/* libical's own answer for zone (not NULL) at utc, as tz_offset_at_utc would ask it
 * without its table and without folding late years (for tests that compare the two). */
int tz_libical_offset_at_utc(icaltimezone *zone, int64_t utc);

/* Converts a wall-clock time (seconds since epoch as if UTC) in zone to UTC seconds. A time
 * in a gap or a repeated hour uses the offset before the transition (jscalendarbis §1.4.5,
 * RFC 5545 §3.3.5). NULL zone = UTC. */
int64_t tz_local_to_utc(icaltimezone *zone, int64_t local);

/* Converts UTC seconds to wall-clock seconds in zone (NULL zone = UTC). */
int64_t tz_utc_to_local(icaltimezone *zone, int64_t utc);

#endif
