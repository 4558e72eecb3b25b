/*
 * throttle.h — counters of failed logins in fixed windows, keyed by strings (a client
 * address, a user name and address pair, a user name). A hash table with chaining:
 * a counter is never overwritten by another key and only expired counters are removed.
 * Memory is bounded by a maximum number of counters; when that many are live, a key
 * that has no counter yet is refused (reported over its limit) rather than an existing
 * counter forgotten, so flooding the table cannot reset a victim's count (issue 19 §3).
 * Keys are hashed with a per-process secret, so chains cannot be made long on purpose.
 */
#ifndef JMAPD_HTTP_THROTTLE_H
#define JMAPD_HTTP_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct throttle;

/* A table of at most max_entries live counters, each counting over window seconds. */
struct throttle *throttle_new(size_t max_entries, int64_t window);
void throttle_free(struct throttle *t);

/* True when key has limit or more failures in its current window, or when the table is
 * full of live counters and key has none (refused rather than forgotten). now: seconds. */
bool throttle_over(struct throttle *t, const char *key, int64_t limit, int64_t now);
/* Counts one failure for key (a new window when its previous one has expired). */
void throttle_fail(struct throttle *t, const char *key, int64_t now);
/* Failures counted for key in its current window (0 when none or expired). */
int64_t throttle_count(struct throttle *t, const char *key, int64_t now);
/* Number of counters held (live or not yet swept), for tests. */
size_t throttle_size(struct throttle *t);

#endif
