/*
 * subscription.h — calendars that follow a remote iCalendar feed (issue 17 §1).
 * A subscribed calendar carries the vendor property SUBSCRIPTION_PROP:
 *   {"url", "refreshInterval" (a Duration or null: the feed's REFRESH-INTERVAL),
 *    "lastRefresh", "lastError" (server-set), "etag", "lastModified" (server-set,
 *    the validators of the last answer, for conditional requests), and
 *    "feedRefreshInterval" (server-set: the feed's REFRESH-INTERVAL, RFC 7986 §5.7),
 *    "syncToken" (server-set: the feed's Sync-Token when it speaks Enhanced GET,
 *    draft-ietf-calext-subscription-upgrade-13 §3)}.
 * Its events come from the feed only: users may change per-user properties
 * (calendars-27 §4 mayUpdatePrivate) but not the events (subscription.c). The
 * refresher (subscription_refresh.c) fetches (feeds/fetch.c) and applies the
 * difference through the engine's object write, so events keep their ids.
 */
#ifndef JMAPD_TYPES_SUBSCRIPTION_H
#define JMAPD_TYPES_SUBSCRIPTION_H

#include "jmap/engine.h"
#include "util/config.h"

#define SUBSCRIPTION_PROP "https://jmapd.org/ns/subscription"
/* issue 17 §4: true on the account's birthdays calendar (birthdays.c) */
#define BIRTHDAYS_PROP "https://jmapd.org/ns/birthdays"
/* ... and its events' titles: null (English), or {"language": a built-in language,
 * "birth"/"wedding"/"death": a template with "{name}"} (birthdays.c) */
#define BIRTHDAY_TITLES_PROP "https://jmapd.org/ns/birthdayTitles"

/* Whether the calendar's events come from elsewhere (a feed, or the contacts'
 * anniversaries): read-only for users but for per-user properties. */
bool subscription_calendar_derived(json_t *calendar);

/* Calendar hooks (calendar.c): checks the property on /set (keeping the server-set
 * members), and takes the write rights off a subscribed calendar's myRights. */
void subscription_calendar_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid);
void subscription_calendar_rights(json_t *calendar, json_t *rights);
/* CalendarEvent hook: a SetError (forbidden) if the change (obj NULL: destroy;
 * old NULL: create) touches an event of a subscribed calendar beyond its per-user
 * properties, else NULL. */
json_t *subscription_event_check(struct jset *s, json_t *obj, json_t *old);

/* Fetches the feed of calendar cal_id of account now and applies it (its own
 * transactions on c). Returns 0 if the calendar is up to date, -1 with the error
 * recorded in lastError. *interval gets the seconds until the next refresh. The
 * new Calendar and CalendarEvent states go to hub (may be NULL) after the commit,
 * as a JMAP /set's do (RFC 8620 §7). */
struct push_hub;
/* A destroyed calendar: what the refresher kept of its feed goes (in the write
 * transaction of the destroy). */
int subscription_calendar_forget(struct store_conn *c, const char *account, const char *cal);
int subscription_refresh(struct store_conn *c, const struct config *cfg, struct push_hub *hub,
                         const char *account, const char *cal_id, int64_t *interval);

/* The subscription upgrade, server side (subscription_feed.c; draft-ietf-calext-
 * subscription-upgrade-13 §3): a destroyed event's tombstone (its uid), written by
 * CalendarEvent's destroy hook and by the refresher; the calendar exporter's sync
 * state; and the delta since a state as one VCALENDAR. */
void subscription_note_destroyed(struct jset *s, json_t *old);
void subscription_refresher_destroyed(struct store_conn *c, const char *account, json_t *old);
int subscription_feed_sync(struct store_conn *c, const char *account, const char *id,
                           int64_t *current, int64_t *lowest);
/* Forgets the tombstones older than ttl seconds in one account and raises the
 * lowest state a delta can start from past their destroys (a token from before
 * gets 409, §3.1). Inside a write transaction; 0 or -1. */
int subscription_tombstones_prune(struct store_conn *c, const char *account, int64_t ttl);
int subscription_feed_page(struct store_conn *c, const char *account, const char *cal,
                           int64_t since, const char *after, size_t limit, jmap_write_fn write,
                           void *ud, char next[64], int64_t *stop);
int subscription_feed_delta(struct store_conn *c, const char *account, const char *cal,
                            int64_t since, jmap_write_fn write, void *ud);

/* The birthdays calendar (birthdays.c, issue 17 §4): Calendar/set's check of
 * BIRTHDAYS_PROP (at most one per account, only on create, a default all-day alert),
 * Calendar's index hook (fills a new one from every card, forgets a destroyed one)
 * and ContactCard's index hook (obj NULL: destroyed; keeps the events in step). */
void birthdays_calendar_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid);
int birthdays_calendar_index(struct store_conn *c, const char *account, const char *id,
                             json_t *obj);
bool birthdays_calendar_exists(struct store_conn *c, const char *account);
int birthdays_card_index(struct store_conn *c, const char *account, const char *id, json_t *obj);

/* A plain feed cut into entities by UID without converting them, each with a digest
 * (subscription_digest.c), so a refresh converts only what changed. NULL from
 * feed_cut_new for a feed the cut does not handle (a component without UID, one of
 * another kind, one left open): then the whole feed is converted. */
#define DIGEST_HEX 32
struct feed_comp;
struct feed_entity;
struct feed_cut {
    char *head;                /* the header lines and VTIMEZONEs, as the text has them */
    char salt[DIGEST_HEX + 1]; /* digest of what in head changes how entities convert */
    struct feed_comp *comps;   /* the components, sorted by UID */
    size_t ncomps;
    struct feed_entity *ents; /* the entities (components of one UID), sorted by UID */
    size_t nents;
};
struct feed_cut *feed_cut_new(const char *ics, size_t len);
void feed_cut_free(struct feed_cut *fc);
/* The entities' digests as one text to keep ("DIGEST UID\n" lines, sorted by UID);
 * the uids of retry (an object, may be NULL) get a digest no entity has, so they
 * count as changed next time (tried again). */
char *feed_cut_digests(const struct feed_cut *fc, json_t *retry);
/* The UIDs whose entity differs from the text feed_cut_digests gave last time: new,
 * changed and gone ones (a new array), or NULL if stored is not such a text. */
json_t *feed_cut_changed(const struct feed_cut *fc, const char *stored);
/* A VCALENDAR of the head and the entities of the uids (an array) of text ics. */
char *feed_cut_calendar(const struct feed_cut *fc, const char *ics, json_t *uids);

/* Shared by the refresher's parts (subscription_refresh.c, subscription_dav.c). */
struct diff_count {
    int created, updated, destroyed, skipped;
    json_t *taken; /* uid -> true: feed events skipped because another calendar of the
                      account holds their uid (tried again later), or NULL */
};
/* A feed's text converted to a Group, or NULL with *err (not iCalendar). */
json_t *subscription_parse_feed(const char *body, size_t len, char **err);
/* In the open write transaction: the converted events of group replace the
 * calendar's events of the uids (an array); those not produced are destroyed. */
int subscription_apply_entities(struct store_conn *c, const char *account, const char *cal,
                                json_t *group, json_t *uids, struct diff_count *n);

/* A subscription upgraded to a CalDAV or WebDAV-sync collection (§7.2-§7.4,
 * subscription_dav.c): the sync fetched outside any transaction, then applied in the
 * refresh's write transaction. sub's davUrl names the collection, davCaldav whether
 * calendar-multiget may be used, davToken the last DAV:sync-token. */
struct dav_fetched;
struct fetch_opts;
/* 0 with *out, or -1 with *err (the caller falls back to the feed's URL). */
/* relist: the full listing (RFC 6578 §3.4) compared with the members known, so
 * those whose ETag was forgotten (skipped events) are fetched again. */
int subscription_dav_fetch(struct store_conn *c, const struct fetch_opts *o, const char *account,
                           const char *cal, json_t *sub, bool relist, struct dav_fetched **out,
                           char **err);
/* Whether the sync was a full listing (every member seen). */
bool subscription_dav_full(const struct dav_fetched *df);
int subscription_dav_apply(struct store_conn *c, const char *account, const char *cal,
                           struct dav_fetched *df, struct diff_count *n);
const char *subscription_dav_token(const struct dav_fetched *df);
/* Whether the sync found nothing changed and the token is old_token. */
bool subscription_dav_unchanged(const struct dav_fetched *df, const char *old_token);
void subscription_dav_free(struct dav_fetched *df);
/* Forgets what the DAV sync kept of the calendar (its hrefs), in a write transaction. */
int subscription_dav_forget(struct store_conn *c, const char *account, const char *cal);

/* The server's refresher thread (serve.c). */
struct subscription_refresher;
struct subscription_refresher *subscription_refresher_start(struct store *st,
                                                            const struct config *cfg,
                                                            struct push_hub *hub);
void subscription_refresher_stop(struct subscription_refresher *r);

#endif
