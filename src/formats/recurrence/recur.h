/*
 * recur.h — recurrence expansion of JSCalendar Events and Tasks
 * (draft-ietf-calext-jscalendarbis-08 §4.3, RFC 5545 §3.3.10, RFC 7529 RSCALE/SKIP as far
 * as libical supports them): the occurrences of a series inside a UTC window, in start
 * order, with recurrenceOverrides applied (patches, added dates, exclusions), floating
 * times resolved in a caller-given zone, and DST gaps/repeats resolved with the offset
 * before the transition (jscalendarbis §1.4.5, RFC 5545 §3.3.5). Also the bounds of a
 * series for indexing. Times are seconds since the epoch, UTC.
 *
 * Work is bounded: more than limits.max_instances generated instances (counting those
 * before the window) or more than limits.max_millis of CPU time gives RECUR_ERR_LIMIT.
 */
#ifndef JMAPD_FORMATS_RECUR_H
#define JMAPD_FORMATS_RECUR_H

#include <jansson.h>
#include <stdint.h>

enum { RECUR_OK = 0, RECUR_ERR_INVALID = -1, RECUR_ERR_LIMIT = -2 };

typedef struct {
    int64_t max_instances; /* 0: default 100000 */
    int64_t max_millis;    /* 0: default 2000 */
} recur_limits;

enum {
    RECUR_WANT_OBJECT = 1,   /* build the patched occurrence object (recur_occurrence.object) */
    RECUR_WANT_EXCLUDED = 2, /* also report excluded occurrences (excluded = 1) */
    /* WEEKLY, MONTHLY and YEARLY rules through libical's iterator only, not the day
     * walkers that stand in for it (the tests compare the two) */
    RECUR_LIBICAL = 4,
};

typedef struct {
    char recurrence_id[20]; /* LocalDateTime in the series' time zone */
    int64_t utc_start, utc_end;
    int excluded;        /* only with RECUR_WANT_EXCLUDED */
    const json_t *patch; /* the override patch, or NULL (borrowed, valid until next/free) */
    json_t *object;      /* RECUR_WANT_OBJECT: patched copy, owned by the iterator */
} recur_occurrence;

typedef struct recur_iter recur_iter;

/* Starts an expansion of obj (Event or Task) over the UTC window [from, to): an occurrence
 * is included if it overlaps the window (start < to and end > from); a zero-length one if
 * from <= start < to. Occurrences come in UTC start order. float_tz is the IANA zone in
 * which floating times are resolved (NULL: UTC). The whole window is computed here (within
 * the limits), so next() never fails. Returns NULL and sets *err (malloc'd, naming the
 * property) and *code (RECUR_ERR_INVALID or RECUR_ERR_LIMIT) on failure. The iterator keeps
 * no reference to obj's memory beyond `patch` pointers, so obj must outlive it. */
recur_iter *recur_iter_new(const json_t *obj, int64_t from, int64_t to, const char *float_tz,
                           const recur_limits *limits, int flags, int *code, char **err);
/* Fetches the next occurrence: returns 1 with *occ filled, 0 at the end. */
int recur_iter_next(recur_iter *it, recur_occurrence *occ);
void recur_iter_free(recur_iter *it);

/* Series bounds for indexing: first start and last end in UTC over all occurrences
 * (overrides included). *unbounded = 1 (and *last_end untouched) for an infinite rule.
 * Returns RECUR_OK or an error code with *err. */
int recur_series_bounds(const json_t *obj, const char *float_tz, const recur_limits *limits,
                        int64_t *first_start, int64_t *last_end, int *unbounded, char **err);

/* 1 if the recurrence rule of obj (without overrides) generates the LocalDateTime ldt. */
int recur_rule_generates(const json_t *obj, const char *ldt);
/* The keys of `keys` (LocalDateTimes, e.g. recurrenceOverrides) that the rule of obj
 * generates, as an object of key -> true, found in one pass over the rule (asking
 * recur_rule_generates() per key is n passes). NULL when the rule cannot be expanded
 * within the default limits. */
json_t *recur_rule_generated(const json_t *obj, const json_t *keys);

/* The zone for a time zone id used by obj: a builtin IANA zone, or one carried as VTIMEZONE
 * in obj's iCalendar/components (then *owned is set and the caller frees it with
 * icaltimezone_free(z, 1)). NULL for UTC or when unknown (*known = 0). */
struct _icaltimezone;
struct _icaltimezone *recur_zone_lookup(const json_t *obj, const char *tzid,
                                        struct _icaltimezone **owned, int *known);

/* Parses "YYYY-MM-DDTHH:MM:SSZ" (or "YYYYMMDDTHHMMSSZ") into UTC seconds; 0 or -1. */
int recur_parse_utc(const char *s, int64_t *out);
/* Formats UTC seconds as a UTCDateTime into buf (>= 21 bytes). */
void recur_format_utc(int64_t t, char *buf);

#endif
