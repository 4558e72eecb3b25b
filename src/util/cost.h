/*
 * cost.h — the smoothed running time of a kind of work (a JMAP method, a kind of DAV
 * read), which decides whether the next such work is cheap enough to run on a
 * connection's own thread instead of an API worker (jmap_api_quick, dav_quick).
 */
#ifndef JMAPD_UTIL_COST_H
#define JMAPD_UTIL_COST_H

#include <stdint.h>

/* Notes in *cost that one more run took `took` (any unit; *cost is 0 until the first):
 * a dearer run counts at once, a cheaper one moves the cost a quarter of the way (so one
 * slow run sends the next ones to the workers until cheap runs have brought it down
 * again). Relaxed atomics: two threads noting at once may lose one note. */
static inline void util_cost_note(int64_t *cost, int64_t took)
{
    int64_t old = __atomic_load_n(cost, __ATOMIC_RELAXED);
    if (took < 1)
        took = 1;
    __atomic_store_n(cost, took >= old ? took : old + (took - old) / 4, __ATOMIC_RELAXED);
}

/* The smoothed cost noted so far; 0 before the first run. */
static inline int64_t util_cost(const int64_t *cost)
{
    return __atomic_load_n(cost, __ATOMIC_RELAXED);
}

#endif
