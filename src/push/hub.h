/*
 * hub.h — push fan-out (RFC 8620 §7). After a method call commits, jmap/ publishes
 * the new states; the hub merges them into every subscriber that can see the
 * account and wants the type, and wakes it. Subscribers are EventSource
 * connections (http/eventsource.c); they take pending StateChanges when woken.
 * A timer thread wakes subscribers whose ping interval has elapsed, and ends streams
 * whose client has gone or whose credential was revoked. The only reading of the
 * database is that credential check (another process, the CLI, may revoke).
 */
#ifndef JMAPD_PUSH_HUB_H
#define JMAPD_PUSH_HUB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct push_hub;
struct push_sub;
struct store;

struct push_hub *push_hub_new(void);
/* Joins the other front ends of the same database (issue 15 §4): what is published
 * here reaches their subscribers and theirs reach ours. Nothing with SQLite. */
void push_hub_attach(struct push_hub *h, struct store *st);
/* Stops the timer and wakes every subscriber for the last time (they see closing). */
void push_hub_shutdown(struct push_hub *h);
void push_hub_free(struct push_hub *h);
/* changed: accountId -> {TypeName -> state string}. Thread-safe. The key "#grants"
 * (not an account id) holds [[user id, account id], ...]: accounts newly shared
 * with a user (issue 14), added first to that user's open subscriptions so they see
 * the account's changes from now on. */
void push_hub_publish(struct push_hub *h, json_t *changed);
/* The key "#accounts" (true): who may use which account changed in the call (a share
 * given or taken, issue 14). Another front end that receives it calls the function
 * push_hub_on_accounts gave, so its open streams read their accounts again (the
 * generation of jmap_accounts_generation is per process). */
void push_hub_on_accounts(struct push_hub *h, void (*cb)(void));
/* The key "#alerts" holds [[user id, CalendarAlert object], ...] (calendars-27 §6.4):
 * each goes to that user's subscribers that see its accountId and registered for the
 * pseudo-type "CalendarAlert" (or every type); push_sub_next gives it as PUSH_ALERT. */
/* The key "#user" holds [[user id, account id, type, state], ...]: a state for that
 * user's subscriptions alone (issue 18: a private metadata write moves only its
 * writer's state), applied after the account-wide part and never lowering it. */
/* Number of subscribers (for limits and tests). */
int push_hub_count(struct push_hub *h);
/* Open subscribers of one user, for the per-user limit: those whose client has gone
 * are ended first (push_sub_watch) and not counted, nor are ended ones on their way out. */
int push_hub_count_user(struct push_hub *h, int64_t user_id);

/* wake(ud) is called with the hub lock held, at most once per push_sub_wait. */
struct push_sub *push_sub_new(struct push_hub *h, int64_t user_id, const char *const *accounts,
                              int naccounts, json_t *types /* array or NULL = all */,
                              int ping_seconds, void (*wake)(void *ud), void *ud);
void push_sub_free(struct push_sub *s);
/* Whether a stream's credential still holds: checked every PUSH_CHECK_MS for every
 * distinct credential of the open subscribers, on the hub's timer thread. */
enum push_cred { PUSH_CRED_OK, PUSH_CRED_GONE, PUSH_CRED_UNKNOWN };
void push_hub_set_check(struct push_hub *h, enum push_cred (*check)(const char *cred, void *ud),
                        void *ud);
/* Watches a subscriber: cred is its credential fingerprint (for the hub's check; NULL
 * for none), gone(ud) says whether its peer has closed the connection (called on the
 * timer thread, under the hub lock, while the subscriber is suspended; NULL for none).
 * Either ends the subscriber: push_sub_next answers PUSH_CLOSED or PUSH_GONE. */
void push_sub_watch(struct push_sub *s, const char *cred, bool (*gone)(void *ud));
/* The accounts the subscriber sees, replaced (a share given or taken): pending changes
 * of the accounts it no longer sees are dropped. */
void push_sub_set_accounts(struct push_sub *s, const char *const *accounts, int naccounts);
/* The subscriber takes only what this process publishes, not what other front ends
 * publish over the bus (a WebPush subscription: every front end holds it, and each
 * delivers the changes it made, so each change is POSTed once). */
void push_sub_local_only(struct push_sub *s);
/* Queues changes for this subscriber alone (e.g. current states on reconnect). */
void push_sub_prime(struct push_sub *s, json_t *changed);

/* A stream with nothing to send gets a comment line this often, so a peer that
 * went away is noticed (a suspended connection sees no disconnect by itself). */
#define PUSH_KEEPALIVE_MS 120000
/* The timer's period, and how often credentials are checked: a revoked token, a
 * changed password or a removed user ends its streams within PUSH_CHECK_MS plus one
 * tick (README: within one second). */
#define PUSH_TICK_MS 200
#define PUSH_CHECK_MS 500

enum push_next { PUSH_STATE, PUSH_ALERT, PUSH_PING, PUSH_KEEPALIVE, PUSH_WAIT, PUSH_CLOSED, PUSH_GONE };
/* What the subscriber should send next. PUSH_STATE sets *text to the malloc'd
 * StateChange JSON and *event_id; PUSH_ALERT *text to a CalendarAlert's JSON; PUSH_WAIT means nothing is due: the caller must
 * suspend, and arm_wait() is called under the hub lock so no wake is lost.
 * Returns PUSH_CLOSED once the hub is shutting down or the credential no longer holds
 * (end the stream), PUSH_GONE once the peer has gone (drop the connection). */
enum push_next push_sub_next(struct push_sub *s, char **text, uint64_t *event_id,
                             void (*arm_wait)(void *ud), void *ud);

#endif
