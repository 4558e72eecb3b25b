/*
 * share.h — sharing of collections (RFC 9670 §4; draft-ietf-jmap-calendars-27 §4
 * CalendarRights, §5.4 per-user properties, §5.7 privacy; RFC 9610 §2
 * AddressBookRights; draft-ietf-jmap-tasks-06 §4 TaskRights): the user's rights on a
 * Calendar, AddressBook or TaskList, shareWith validation and its reverse index,
 * per-user properties, and the rights checks of the member objects (events, cards,
 * tasks). share.c implements it.
 *
 * Three kinds of access (struct store_access): the owner (is_personal) and an
 * account-wide grant (`jmapd user share`, !shared) have the same rights on every
 * collection and are never filtered; an account reached through shares (shared)
 * gives each collection the rights its shareWith grants to the user's principal
 * and groups, and everything the user cannot read behaves as if it did not exist.
 */
#ifndef JMAPD_SHARE_H
#define JMAPD_SHARE_H

#include "types/types.h"

struct jmap_user;

enum share_kind { SHARE_CALENDAR, SHARE_ADDRESS_BOOK, SHARE_TASK_LIST };

/* CalendarRights (calendars-27 §4) */
#define CR_FREEBUSY 0x01u
#define CR_READ 0x02u
#define CR_WRITE_ALL 0x04u
#define CR_WRITE_OWN 0x08u
#define CR_UPDATE_PRIVATE 0x10u
#define CR_RSVP 0x20u
#define CR_SHARE 0x40u
#define CR_DELETE 0x80u
/* AddressBookRights (RFC 9610 §2) */
#define AR_READ 0x01u
#define AR_WRITE 0x02u
#define AR_SHARE 0x04u
#define AR_DELETE 0x08u
/* TaskRights (tasks-06 §4) */
#define TR_READ 0x01u
#define TR_WRITE_ALL 0x02u
#define TR_WRITE_OWN 0x04u
#define TR_UPDATE_PRIVATE 0x08u
#define TR_RSVP 0x10u
#define TR_ADMIN 0x20u
#define TR_DELETE 0x40u

/* Whether access a is filtered by per-collection rights (reached through shares). */
static inline bool share_filtered(const struct store_access *a)
{
    return a && a->shared && !a->is_personal;
}

/* The user's rights on a collection (a stored Calendar / AddressBook object). */
unsigned share_rights(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                      json_t *collection);
/* The rights the collection's shareWith gives user u (any of their principals), as
 * share_rights for a user reaching it through shares. */
unsigned share_rights_of_user(const struct jmap_user *u, enum share_kind k, json_t *collection);
/* An event as a user whose per-user values (§5.4, store_user_props) are mine sees its
 * per-user properties: theirs, or the defaults (a new deep copy). */
json_t *share_event_with_values(json_t *event, json_t *mine);
/* The rights as a myRights object (new). */
json_t *share_rights_json(enum share_kind k, unsigned bits);
/* collection id -> rights (JSON integers) of every collection of the kind in the
 * account, for the request's user (a new reference; cached while nothing it
 * depends on changes). */
json_t *share_collection_rights(struct jmap_req *r, const struct store_access *a,
                                enum share_kind k);

/* The same borrowed from the memo of the method call running (valid while the call
 * only reads and asks for no other kind or account), or NULL where there is none
 * (then use share_collection_rights). */
json_t *share_collection_rights_peek(struct jmap_req *r, const struct store_access *a,
                                     enum share_kind k);

/* Collection /set: checks shareWith (principals that exist, not the owner, rights
 * objects; changed only with mayShare) and the sharee's other changes, stores the
 * sharee's per-user properties apart (and keeps the shared values in obj). Records
 * ShareNotifications for the principals whose rights change. Returns a SetError
 * or NULL. */
json_t *share_collection_validate(struct jset *s, enum share_kind k, json_t *obj, json_t *old,
                                  json_t *invalid);
/* Whether a collection's update (patch) changes only the user's own values
 * (calendars-27 §4 per-user properties and isSubscribed; jtype.own_values_only). */
bool share_patch_own_values(enum share_kind k, json_t *patch);
/* Collection destroy: mayDelete; a SetError or NULL. */
json_t *share_collection_destroy(struct jset *s, enum share_kind k, json_t *old);
/* Collection index hook: keeps the reverse index of shareWith (store_share_set). */
int share_collection_index(struct store_conn *c, enum share_kind k, const char *account,
                           const char *id, json_t *obj);
/* Collection /get view for a sharee: NULL if they may not see it; otherwise their
 * per-user properties over obj, shareWith only with mayShare, and myRights. */
json_t *share_collection_view(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                              json_t *obj);

/* Whether address is the request's user (calendars-27 §3): their principal's address or
 * an identity of their own account that is no other user's. */
bool share_is_me(struct jmap_req *r, const char *address);
/* Member objects (events: calendarIds, cards: addressBookIds, tasks: taskListId). Whether the user
 * may see it (some collection readable; calendars-27 §5.7: a secret event never). */
bool share_member_visible(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                          json_t *obj);
/* The member as a sharee sees it (in place): collections they cannot read left out
 * of its set, private events reduced (§5.7), per-user properties (§5.4) overlaid. */
void share_member_view(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                       json_t *obj);
/* Member /set by a sharee: the rights of every collection concerned (§4 myRights),
 * per-user properties stored for the user alone; SetError or NULL. old NULL: a
 * create; obj NULL: a destroy. */
json_t *share_member_check(struct jset *s, enum share_kind k, json_t *obj, json_t *old);
/* The engine's visibility hook for members (jtype.visible). */
bool share_event_visible_id(struct jmap_req *r, const struct store_access *a, const char *id);
/* /changes for a sharee (jtype.was_visible): whether the event left a calendar they
 * can read after since. share_exposure_update keeps the record it reads: the type's
 * index hook calls it on every write (obj NULL: destroyed). */
bool share_event_was_visible(struct jmap_req *r, const struct store_access *a, const char *id,
                             int64_t since);
/* The same for a card and the address books (RFC 9610 §2); contact_card.c's index hook
 * keeps its record. */
bool share_card_was_visible(struct jmap_req *r, const struct store_access *a, const char *id,
                            int64_t since);
int share_exposure_update(struct store_conn *c, enum share_kind k, const char *account,
                          const char *id, json_t *obj);
/* The records share_exposure_update will read for these objects, read at once
 * (store_user_props_prefetch; jtype.writes_expect). */
void share_exposure_prefetch(struct store_conn *c, enum share_kind k, const char *account,
                             const char *const *ids, size_t n);
bool share_card_visible_id(struct jmap_req *r, const struct store_access *a, const char *id);
/* The engine's may_write hook for members (jtype.may_write): an event with mayWriteAll
 * (or mayWriteOwn, their own) in every calendar it is in and not private (§5.9); a card
 * with mayWrite in every address book it is in. */
bool share_event_may_write(struct jmap_req *r, const struct store_access *a, json_t *event);
bool share_task_may_write(struct jmap_req *r, const struct store_access *a, json_t *task);
bool share_card_may_write(struct jmap_req *r, const struct store_access *a, json_t *card);
bool share_calendar_visible_id(struct jmap_req *r, const struct store_access *a, const char *id);
bool share_book_visible_id(struct jmap_req *r, const struct store_access *a, const char *id);
bool share_task_visible_id(struct jmap_req *r, const struct store_access *a, const char *id);
bool share_task_list_visible_id(struct jmap_req *r, const struct store_access *a, const char *id);

/* ---- the per-user `updated` (calendars-27 §5.4, tasks-06 §5.4; share_updated.c) ---- */
/* The member's per-user property names (calendars-27 §5.4 list), NULL-terminated. */
const char *const *share_member_per_user(enum share_kind k);
/* Whether obj differs from old only in per-user properties (per occurrence too) and
 * `updated`. */
bool share_only_per_user(enum share_kind k, json_t *obj, json_t *old);
/* After the owner's (or an account-wide grant's) update was checked and `updated`
 * set: a write of per-user properties only keeps the shared `updated` for the
 * others (a record under user 0); the object's is the writer's own. */
void share_owner_updated(struct store_conn *c, enum share_kind k, const char *account, json_t *obj,
                         json_t *old);
/* store_user_props_get within a method call that reads: after a few objects' reads, the
 * rest of the call's (user, type) are read at once (share_per_user.c, issue 14). New
 * reference. */
json_t *share_user_props(struct jmap_req *r, int64_t user_id, const char *account, const char *type,
                         const char *id);
/* The same values without a copy: borrowed (valid within the call, not to be changed);
 * where they were read for this one question, *held is the reference to release. */
json_t *share_user_props_peek(struct jmap_req *r, int64_t user_id, const char *account,
                              const char *type, const char *id, json_t **held);
/* Whether user_id has no per-user values of type in account: their rows read at once
 * for the rest of the method call (a /get of many objects asks of each); false if
 * there are some or they cannot be read at once (share_user_props then reads). */
bool share_user_props_none(struct jmap_req *r, int64_t user_id, const char *account,
                           const char *type);
/* Whether a sharee's view of the event obj (id: the stored event's, an occurrence's
 * series) is obj's own members (§5.4, §5.7: nothing to overlay, cut or reduce: public,
 * every calendar readable, no per-user values in obj or rows for the user, no record
 * of the shared `updated`). True for the owner and account-wide grants. */
bool share_event_as_stored(struct jmap_req *r, const struct store_access *a, json_t *obj,
                           const char *id);
/* share_event_as_stored in two parts, for a caller that asks the rest once per call
 * (share_user_props_none, share_updated_none, share_collection_rights_peek) and keeps
 * the first per event: whether obj's own members are what every sharee sees (public,
 * §5.7; no per-user values of the owner in it or its overrides, §5.4), and whether the
 * user reads every calendar it is in (§4). */
bool share_event_shape_plain(json_t *obj);
bool share_event_readable_in(json_t *rights, json_t *obj); /* share_collection_rights' map */
/* Whether the record of the shared `updated` of id counts for obj (share_updated.c). */
bool share_updated_recorded(struct jmap_req *r, enum share_kind k, const char *account,
                            const char *id, json_t *obj);
/* Whether no object of the kind in account has a record of the shared `updated` (read
 * at once for the rest of the call, as share_user_props_none). */
bool share_updated_none(struct jmap_req *r, enum share_kind k, const char *account);
/* A sharee's update after their per-user values were set apart: if nothing shared
 * changed, their `updated` (the server's time on the origin's copy and on tasks,
 * else the one they gave) is stored for them alone and obj keeps the shared one. */
void share_sharee_updated(struct jset *s, enum share_kind k, json_t *obj, json_t *old);
/* The `updated` a sharee sees (in obj, id the stored object's): the later of the
 * shared time and their own (mine: their per-user values, may be NULL). */
void share_view_updated(struct jmap_req *r, enum share_kind k, const char *account, const char *id,
                        json_t *obj, json_t *mine);

#endif
