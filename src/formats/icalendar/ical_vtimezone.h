/*
 * ical_vtimezone.h — the VTIMEZONE component (RFC 5545 §3.6.5) of an IANA zone, as text,
 * generated once per TZID (and first year) from the system zoneinfo and kept in a bounded,
 * thread-safe cache: a writer that renders many resources (a CalDAV calendar-multiget, an export)
 * pays for each zone once, not once per resource.
 */
#ifndef JMAPD_FORMATS_ICAL_VTIMEZONE_H
#define JMAPD_FORMATS_ICAL_VTIMEZONE_H

#include <stdbool.h>

#include "formats/jscalendar/jscal_util.h"

/* Appends the VTIMEZONE of the IANA zone tzid to b, its TZID property spelled as tzid.
 * With from_year > 0 only the observances that can be in effect from the start of the
 * year before from_year on (RFC 5545 §3.6.5: a VTIMEZONE must be valid for every time
 * that refers to it, not hold the zone's history: Europe/Berlin's goes back to 1893, 3.3
 * of an event's 4 KB): the writer passes the earliest year written in the zone.
 * Returns false (and appends nothing) when tzid names no zone of the system zoneinfo. */
bool ical_vtimezone_append(const char *tzid, int from_year, jbuf *b);

/* How many zones the cache holds (for tests). */
int ical_vtimezone_cached(void);

#endif
