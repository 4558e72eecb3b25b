/*
 * event_cache.h — parsed CalendarEvents and their occurrences, kept in memory
 * between queries. An entry is valid for one modseq of one event (and, for a
 * floating event, one time zone); queries find the instances of a window by
 * binary search instead of re-parsing JSON and re-running the recurrence rules.
 * Entries are shared read-only between threads and reference-counted.
 */
#ifndef JMAPD_EVENT_CACHE_H
#define JMAPD_EVENT_CACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

struct event_occ {
    int64_t start, end;
    char rid[20]; /* "" for a non-recurring event */
};

struct event_cached {
    struct event_cached *next; /* hash chain */
    int refs;
    char key[200];
    int64_t modseq;
    int64_t state; /* the account's CalendarEvent state at which modseq was current (0: none) */
    char float_tz[64];
    json_t *obj;           /* the stored event, read-only (NULL: event_cache_put_text's) */
    struct event_occ *occ; /* in start order */
    size_t nocc;
    int64_t covered_until; /* every occurrence starting before this is in occ */
    int64_t max_duration;  /* of any occurrence */
    int64_t no_extend_from;   /* event_cache_extend failed for this until (0: never) */
    bool recurring, expanded; /* expanded: occ is usable */
    bool floating;            /* no timeZone: occurrences depend on float_tz */
    bool linked;              /* in the table (under its lock): bytes count in its total */
    size_t bytes;             /* about what the entry holds, for the cache's bound */
    char *text;               /* event_cache_text's, made on first use (atomic) */
    signed char shape;        /* a reader's memo of a question of obj alone, 0 until asked,
                                 then 1 or -1 (calendar_event_get.c; atomic) */
    size_t text_len;
};

/* The entry for (account, id) at modseq, loading and expanding it on a miss.
 * NULL if the event does not exist. Release with event_cache_release(). */
struct event_cached *event_cache_get(struct store_conn *c, const char *account, const char *id,
                                     int64_t modseq, const char *float_tz);
void event_cache_release(struct event_cached *e);
/* Issue 21: a series without an end is expanded over three years from its start; a
 * query past that gets an entry of the same version expanded up to three years past
 * until, in e's place (e stays valid for its holders). NULL if e needs no more or the
 * series has too many occurrences for that (the query expands its window itself).
 * Release it. */
struct event_cached *event_cache_extend(struct event_cached *e, int64_t until);
/* The entry for (account, id) at modseq if one is cached, in whichever zone a floating
 * event was expanded (its obj is the same); NULL if none. Release it. */
struct event_cached *event_cache_peek(const char *account, const char *id, int64_t modseq);
/* Issue 21: whether (account, id) at modseq is known to be a single event in a time
 * zone (not recurring, not floating), with its UTC [start, end): an expanded query
 * needs no more of it. Spans outlive the parsed entries (a few dozen bytes each, a
 * quarter of the cache's bound). */
bool event_cache_span(const char *account, const char *id, int64_t modseq, int64_t *start,
                      int64_t *end);
/* Issue 21 §2: records that e's modseq was its event's current one while the account's
 * CalendarEvent state was state (a query found it so in the index). Every write of an
 * event advances that state, so as long as it is unchanged the entry needs no look-up
 * of the event's modseq (event_cache_current). */
void event_cache_seen(struct event_cached *e, int64_t state);
/* The entry for (account, id) known current at the account's CalendarEvent state
 * (event_cache_seen), or NULL. Release it. */
struct event_cached *event_cache_current(const char *account, const char *id, int64_t state);
/* Keeps obj (a reference of its own), just read in a transaction at the account's
 * state, as (account, id) current at that state, unless the cache holds that event
 * already: a /get of a stored event (modseq not known; found by event_cache_current
 * only; not expanded). The entry kept (release it), or NULL if none was. */
struct event_cached *event_cache_put_current(const char *account, const char *id, json_t *obj,
                                             int64_t state);
/* Issue 21 §0: the same for a /get of a single event whose whole view is text: the
 * entry keeps make(obj)'s text and not obj (obj NULL; a parsed event holds eight times
 * its text), so the /get of a month's events keeps a tenth of the memory. Found by
 * event_cache_current only; a caller needing the tree reads the store. */
struct event_cached *event_cache_put_text(const char *account, const char *id, const json_t *obj,
                                          int64_t state,
                                          char *(*make)(const json_t *obj, size_t *n));
/* Issue 21 §2: a text that depends on e's event alone (the JSON a /get writes for it,
 * calendar_event_get.c), made by make(e->obj) on first use and kept with the entry
 * (counted in the cache's bound) for every holder of the entry after that. make
 * returns malloc'd text, its length in *n. */
const char *event_cache_text(struct event_cached *e, char *(*make)(const json_t *obj, size_t *n),
                             size_t *n);
/* The index of rid among e's cached occurrences, or -1 (not known, not "no"). */
long event_cache_rid_index(const struct event_cached *e, const char *rid);
/* The cache holds at most about this much by default (issue 19 §8); the config's
 * cache_size sets the bound (issue 21). event_cache_bytes: what it holds now. */
#define EVENT_CACHE_MAX_BYTES ((size_t)64 << 20)
void event_cache_set_limit(size_t bytes);
size_t event_cache_limit(void);
size_t event_cache_bytes(void);
/* Drops every entry (tests, shutdown). */
void event_cache_clear(void);

#endif
