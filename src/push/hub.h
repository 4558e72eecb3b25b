/*
 * hub.h — push fan-out (RFC 8620 §7). After a method call commits, jmap/ publishes
 * the new states; the hub merges them into every subscriber that can see the
 * account and wants the type, and wakes it. Subscribers are EventSource
 * connections (http/eventsource.c); they take pending StateChanges when woken.
 * A timer thread wakes subscribers whose ping interval has elapsed. No polling of
 * the database anywhere.
 */
#ifndef JMAPD_PUSH_HUB_H
#define JMAPD_PUSH_HUB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct push_hub;
struct push_sub;

struct push_hub *push_hub_new(void);
/* Stops the timer and wakes every subscriber for the last time (they see closing). */
void push_hub_shutdown(struct push_hub *h);
void push_hub_free(struct push_hub *h);
/* changed: accountId -> {TypeName -> state string}. Thread-safe. */
void push_hub_publish(struct push_hub *h, json_t *changed);
/* Number of subscribers (for limits and tests). */
int push_hub_count(struct push_hub *h);
/* Subscribers of one user, for the per-user limit. */
int push_hub_count_user(struct push_hub *h, int64_t user_id);

/* wake(ud) is called with the hub lock held, at most once per push_sub_wait. */
struct push_sub *push_sub_new(struct push_hub *h, int64_t user_id, const char *const *accounts,
                              int naccounts, json_t *types /* array or NULL = all */,
                              int ping_seconds, void (*wake)(void *ud), void *ud);
void push_sub_free(struct push_sub *s);
/* Queues changes for this subscriber alone (e.g. current states on reconnect). */
void push_sub_prime(struct push_sub *s, json_t *changed);

enum push_next { PUSH_STATE, PUSH_PING, PUSH_WAIT, PUSH_CLOSED };
/* What the subscriber should send next. PUSH_STATE sets *text to the malloc'd
 * StateChange JSON and *event_id; PUSH_WAIT means nothing is due: the caller must
 * suspend, and arm_wait() is called under the hub lock so no wake is lost.
 * Returns PUSH_CLOSED once the hub is shutting down. */
enum push_next push_sub_next(struct push_sub *s, char **text, uint64_t *event_id,
                             void (*arm_wait)(void *ud), void *ud);

#endif
