/*
 * event_members.h — a sharee's walk over the events of the calendars they may read, in
 * the index's order (issue 14; calendars-27 §4, §5.7): the store's membership rows
 * (store_members_ordered) of each readable calendar, read a chunk at a time and merged
 * by (order, id) as store_index_ordered orders them, each event once however many of
 * those calendars it is in; a secret event has no rows. What a sharee's sorted page
 * (calendar_event_query.c fast_shared_query) steps over costs what they see, not the
 * account's other calendars, and reads no event.
 */
#ifndef JMAPD_EVENT_MEMBERS_H
#define JMAPD_EVENT_MEMBERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct store_conn;
struct members_walk;

/* The number of calendars rights (calendar id -> CalendarRights bits) let the user read. */
size_t members_readable(json_t *rights);
/* A walk of account's events in the calendars rights let the user read, order
 * descending if desc, from the first or after the row (order, id) when after is set,
 * skipping skip events first (in SQL: only when one calendar is read, else 0); chunk:
 * rows read per calendar at a time (> 0). */
struct members_walk *members_walk_new(struct store_conn *c, const char *account, json_t *rights,
                                      bool desc, bool after, int64_t order, const char *id,
                                      int64_t skip, int64_t chunk);
/* The next event's order and id (valid until the next call): 1, or 0 at the end or
 * after an error of the store (*err set). */
int members_walk_next(struct members_walk *w, int64_t *order, const char **id, bool *err);
void members_walk_free(struct members_walk *w);

#endif
