/*
 * event_page_marks.h — where a sharee's unexpanded CalendarEvent/query pages begin
 * (issue 14; calendars-27 §4, §5.7, RFC 8620 §5.5): the index's ordered rows a
 * sharee sees are a subsequence of the account's, decided event by event
 * (calendar_event_query.c fast_shared_query). A mark remembers, every
 * PAGE_MARK_STRIDE results of that subsequence, the ordered row just emitted, so a
 * later page of the same sequence starts there instead of walking every row before
 * it (the sharee's counterpart of the owner's keyset checkpoints). Marks are kept
 * per (account, CalendarEvent state, direction, key): the key names what else the
 * subsequence depends on (the user, the calendars they read, the time zone floating
 * events are placed in). A few sequences are kept; a new state forgets them.
 */
#ifndef JMAPD_EVENT_PAGE_MARKS_H
#define JMAPD_EVENT_PAGE_MARKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define PAGE_MARK_STRIDE 32

struct page_mark {
    int64_t ord; /* the ordered row (ord, id) just emitted */
    char id[64];
    int64_t pos;    /* results emitted up to and including it */
    int64_t next_u; /* ... of which unordered (floating) events */
};

/* The key of a sequence: user, the calendars rights (calendar id -> CalendarRights
 * bits) let them read, and tz. */
uint64_t page_marks_key(int64_t user_id, json_t *rights, const char *tz);
/* The last mark at or before result position at_most (into *out): its number
 * (1-based), or 0 if none is known. */
size_t page_marks_find(const char *account, int64_t state, bool desc, uint64_t key, int64_t at_most,
                       struct page_mark *out);
/* Records mark number j (the first ordered row emitted at or after position
 * j * PAGE_MARK_STRIDE) if marks 1 .. j - 1 are known and j is not. */
void page_marks_add(const char *account, int64_t state, bool desc, uint64_t key, size_t j,
                    const struct page_mark *m);

#endif
