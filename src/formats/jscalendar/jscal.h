/*
 * jscal.h — JSCalendar 2.0 objects (draft-ietf-calext-jscalendarbis-08, with the JMAP
 * additions of draft-ietf-jmap-calendars-27): validation and normalisation.
 *
 * Validation checks types, mandatory properties, value formats (Id, UTCDateTime,
 * LocalDateTime, Duration, SignedDuration, TimeZoneId, enumerations), cross-property rules
 * and the patches in recurrenceOverrides, and reports every offending property as a path
 * relative to the object ("recurrenceRule/frequency", "participants/p1/roles"), which is
 * what JMAP's invalidProperties SetError wants (RFC 8620 §5.3). Unknown properties,
 * including vendor properties ("example.com:foo"), are kept untouched.
 */
#ifndef JMAPD_FORMATS_JSCAL_H
#define JMAPD_FORMATS_JSCAL_H

#include <jansson.h>

enum {
    /* Normalise: fill in the @type of nested objects where implied, lowercase enumerations
     * that are case-insensitive in iCalendar, drop properties equal to their default. */
    JSCAL_NORMALIZE = 1,
    /* Accept an object without uid/updated (a JMAP create, where the server sets them). */
    JSCAL_ALLOW_MISSING_SERVER_SET = 2,
    JSCAL_STRICT_VENDOR = 4, /* reject unknown properties that are not vendor-prefixed */
    /* Skip the cross-property rules that real-world iCalendar data often breaks
     * (participants without organizerCalendarAddress, participant properties without
     * calendarAddress); used when converting imported data, not for JMAP /set. */
    JSCAL_RELAXED = 8,
    /* New data: also the rules jscalendarbis-17 tightened (organizer and participants'
     * calendarAddress together, email needs calendarAddress, sentBy, color syntax, calendar
     * addresses as delegatedTo/delegatedFrom/memberOf keys, no null time zones, no obsolete
     * or reserved properties). With an old version (jscal_validate_why), only in what
     * changed from it: stored -08 data stays readable and updatable (issue 12 §2.4). */
    JSCAL_BIS17 = 16,
};

/* Validates (and with JSCAL_NORMALIZE, normalises in place) an Event, Task or Group.
 * Returns 0 if valid. Otherwise returns -1 and, if invalid is not NULL, sets *invalid to a
 * new JSON array of property path strings (for Group entries: "entries/3/start"). */
int jscal_validate(json_t *obj, int flags, json_t **invalid);

/* jscal_validate, and: *reasons (if reasons is not NULL) receives a new array parallel to
 * *invalid that says why each path is invalid, citing the section ("not a LocalDateTime
 * (JSCalendar 2.0 §1.5.5)"), for the description of an invalidProperties SetError
 * (issue 12 §1.8). old, for JSCAL_BIS17, is the stored version an update changes (NULL for
 * a create): the -17 rules then apply only to what differs from it. */
int jscal_validate_why(json_t *obj, int flags, const json_t *old, json_t **invalid,
                       json_t **reasons);

/* Brings older spellings to JSCalendar 2.0 in place where the meaning is clear (RFC 8984
 * recurrenceRules with one rule, sendTo and replyTo with one address, "jsevent"/"jstask"
 * types, jscalendarbis-08's null timeZone) and appends to invalid the path of each that is
 * not (several rules, excludedRecurrenceRules, several addresses). Returns how many paths
 * it appended. For an Event, Task or Group (its entries). */
int jscal_upgrade(json_t *obj, json_t *invalid);
/* Why jscal_upgrade named path (the reason for an invalidProperties description). */
const char *jscal_upgrade_reason(const char *path);

/* 1 if s is a TimeZoneId this server knows (IANA, from the system zoneinfo), or, when obj
 * is not NULL, a zone carried as a VTIMEZONE in obj's iCalendar/components. */
int jscal_timezone_known(const char *s, const json_t *obj);

#endif
