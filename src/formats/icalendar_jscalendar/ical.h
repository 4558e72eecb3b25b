/*
 * ical.h — iCalendar (RFC 5545) <-> JSCalendar 2.0 (draft-ietf-calext-jscalendarbis-08)
 * conversion, property by property as draft-ietf-calext-jscalendar-icalendar-25 specifies,
 * lossless: iCalendar elements without a JSCalendar counterpart go to the "iCalendar"
 * property (§5.1.1) and JSCalendar properties without an iCalendar counterpart to JSPROP
 * (§4.1.2). JSON values are jansson json_t; all functions are reentrant and thread-safe.
 */
#ifndef JMAPD_FORMATS_ICAL_H
#define JMAPD_FORMATS_ICAL_H

#include <jansson.h>
#include <stddef.h>

/* PRODID written when the JSCalendar data names none; not converted back to prodId. */
#define JSCAL_DEFAULT_PRODID "-//jmapd//jscalendar//EN"

/* Flags for ical_to_jscal. */
enum {
    ICAL_TO_JSCAL_GROUP = 1, /* always return a Group, even for a single entry */
    /* Only what recurrence expansion and indexing need (uid, type, start/due/duration and
     * their zones, recurrence rule, RDATE/EXDATE, overrides): a lossy, much faster mode for
     * `jmapd expand` and for computing index columns of large imports. */
    ICAL_TO_JSCAL_TIMING = 2,
};

/* Parses iCalendar text (one VCALENDAR) into JSCalendar: a Group (draft -25 §2.1.1) whose
 * entries are the Events (VEVENT) and Tasks (VTODO), recurrence overrides folded into their
 * main component as patches (§2.1.2). Without ICAL_TO_JSCAL_GROUP, a calendar with exactly one
 * entry and no calendar-level data of its own returns that Event or Task directly.
 * Returns a new reference, or NULL with *err (malloc'd) naming the line or property. */
json_t *ical_to_jscal(const char *ics, size_t len, int flags, char **err);

/* Real-world files are repaired rather than refused, each repair reported: ical_to_jscal_warn
 * (and ical_to_jscal, which drops the messages) reads bytes that are not UTF-8 as
 * Windows-1252, skips malformed lines, closes components left open, reads VEVENT/VTODO
 * outside a VCALENDAR as if in one, derives a missing UID from the component's content, maps
 * non-IANA TZIDs without VTIMEZONE where the mapping is certain (Windows and Outlook names,
 * Mozilla prefixes, whole-hour GMT offsets) and reads the rest as floating time, ignores TZID
 * on DATE values, keeps the first of a repeated single-valued property, keeps a property
 * whose value does not convert as it is (in "iCalendar"), and refuses a VEVENT/VTODO that
 * cannot become an object while converting the others. Each repair appends a string
 * ("line N: ...") to warnings, a JSON array (may be NULL). Fails only when nothing of the
 * calendar converts. */
json_t *ical_to_jscal_warn(const char *ics, size_t len, int flags, json_t *warnings, char **err);

/* Streaming form of ical_to_jscal for large calendars: when the calendar has at least
 * min_entries entries and none of them can be a recurrence override (no RECURRENCE-ID and
 * no JSPROP property), each entry is handed to fn(entry, index, ud) as soon as it is
 * converted, in the order ical_to_jscal would list them, and freed after the call; the
 * Group returned then has no "entries" and *streamed is 1. Otherwise fn is never called,
 * *streamed is 0 and the result is exactly that of ical_to_jscal(ics, len, flags, err).
 * Repairs are reported into warnings as for ical_to_jscal_warn (the index passed to fn
 * counts the entries handed over). fn returns 0 to go on; a non-zero return stops the conversion, which then returns NULL
 * with *err NULL. On a conversion error entries already handed over stay valid output of
 * the earlier entries only: callers buffer what they write until the Group returns. */
typedef int (*ical_entry_fn)(json_t *entry, size_t index, void *ud);
json_t *ical_to_jscal_stream(const char *ics, size_t len, int flags, size_t min_entries,
                             ical_entry_fn fn, void *ud, int *streamed, json_t *warnings,
                             char **err);

/* Converts one JSCalendar object (Event, Task or Group), or a JSON array of them, into a
 * complete VCALENDAR (RFC 5545 text with CRLF, folding, escaping and one VTIMEZONE per zone
 * used). Returns malloc'd text, or NULL with *err (malloc'd) naming the property path. */
char *jscal_to_ical(const json_t *obj, char **err);

/* Streaming writer for exporting a whole calendar without holding it in memory:
 *   w = ical_writer_new(prodid, method);  s = ical_writer_begin(w);   (header text)
 *   for each object: s = ical_writer_add(w, obj, &err);               (its components)
 *   s = ical_writer_end(w);  (VTIMEZONEs for every zone seen, END:VCALENDAR)
 *   ical_writer_free(w);
 * Every returned string is malloc'd and owned by the caller. prodid/method may be NULL. */
typedef struct ical_writer ical_writer;
ical_writer *ical_writer_new(const char *prodid, const char *method);
char *ical_writer_begin(ical_writer *w);
/* Leaves out the VTIMEZONEs of IANA zones (RFC 7809 §3.1.2: time zones by reference, for
 * a client that asked for none); a zone known only from a VTIMEZONE the object carries
 * is still written. Before the first ical_writer_add. */
void ical_writer_zones_by_reference(ical_writer *w);
/* Returns the VEVENT/VTODO text for obj (Event, Task, or each entry of a Group), or NULL
 * with *err set; the writer stays usable after an error. */
char *ical_writer_add(ical_writer *w, const json_t *obj, char **err);
char *ical_writer_end(ical_writer *w);
void ical_writer_free(ical_writer *w);

#endif
