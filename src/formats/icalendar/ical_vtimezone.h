/*
 * ical_vtimezone.h — the VTIMEZONE component (RFC 5545 §3.6.5) of an IANA zone, as text,
 * generated once per TZID from the system zoneinfo and kept in a bounded, thread-safe
 * cache: a writer that renders many resources (a CalDAV calendar-multiget, an export)
 * pays for each zone once, not once per resource.
 */
#ifndef JMAPD_FORMATS_ICAL_VTIMEZONE_H
#define JMAPD_FORMATS_ICAL_VTIMEZONE_H

#include <stdbool.h>

#include "formats/jscalendar/jscal_util.h"

/* Appends the VTIMEZONE of the IANA zone tzid to b, its TZID property spelled as tzid.
 * Returns false (and appends nothing) when tzid names no zone of the system zoneinfo. */
bool ical_vtimezone_append(const char *tzid, jbuf *b);

/* How many zones the cache holds (for tests). */
int ical_vtimezone_cached(void);

#endif
