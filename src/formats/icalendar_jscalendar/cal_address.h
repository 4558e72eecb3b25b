/*
 * cal_address.h — calendar user addresses in the iCalendar <-> JSCalendar conversion: when two
 * addresses name the same calendar user, and which participant is the organizer's. The one
 * rule the reader (ORGANIZER and ATTENDEE merged into participants, overrides inheriting the
 * series' organizer) and the writer (ORGANIZER's parameters and JSID, an organizer written as
 * ORGANIZER only, the owner role an ORGANIZER implies) share, so that what one writes the
 * other reads back as the same participants (issue 12 §3.4).
 */
#ifndef JMAPD_FORMATS_CAL_ADDRESS_H
#define JMAPD_FORMATS_CAL_ADDRESS_H

#include <jansson.h>

/* 1 if a and b name the same calendar user. RFC 5545 §3.3.3 makes a CAL-ADDRESS a URI
 * (compared as written, §1.3), but its scheme and host are case-insensitive (RFC 3986
 * §6.2.2.1) and a mailbox's local part is not told apart by case in practice (RFC 5321
 * §2.4): producers write "MAILTO:A@Example.com" and "mailto:a@example.com" for one person.
 * So: equal ignoring ASCII case, as the scheduling code compares them. */
int cal_address_same(const char *a, const char *b);

/* The key of the participant in parts (a "participants" object) whose calendarAddress names
 * the calendar user addr, or NULL. Of several: the one spelt exactly as addr (draft-25
 * §2.3.4, §2.3.29 merge "equal" addresses), then, with owner_first, one with the owner role,
 * then the least key, a choice that does not depend on the order they were read in. */
const char *cal_address_participant(const json_t *parts, const char *addr, int owner_first);

/* The key of the participant in parts that is the organizer org's, or NULL: the one jsid
 * names (the ORGANIZER's JSID parameter, which draft-25 §2.3.29 makes its key) if it is
 * there with an address of the same calendar user, else cal_address_participant with the
 * owner first. jsid may be NULL. */
const char *cal_address_organizer(const json_t *parts, const char *org, const char *jsid);

/* 1 if the writer must name the organizer's participant key in the ORGANIZER's JSID
 * parameter for the reader to find it again: the key is not the UUIDv5 of org (draft-25
 * §2.3.29), or another participant has an address of the same calendar user, or another
 * has the owner role (the reader then makes no participant of a bare ORGANIZER, §2.3.29). */
int cal_address_organizer_needs_jsid(const json_t *parts, const char *org, const char *key);

/* 1 if a participant of parts has the owner role (then an ORGANIZER without parameters of
 * its own makes no participant, draft-25 §2.3.29). */
int cal_address_any_owner(const json_t *parts);

/* The calendar users that more than one participant of parts has an address of: an object
 * keyed by those addresses in lower case (cal_address_same's equivalence), or NULL if there
 * are none. The writer names the key of each such participant in its JSID parameter: the
 * reader merges an ATTENDEE without one into an earlier participant of the same calendar
 * user (draft-25 §2.3.4), and which one is earlier depends on the order the object lists
 * them in, which a patch changes (issue 12 §3.4). */
json_t *cal_address_shared_users(const json_t *parts);

/* 1 if addr names one of users (cal_address_shared_users; NULL: none). */
int cal_address_is_shared(const json_t *users, const char *addr);

#endif
