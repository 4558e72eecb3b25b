/*
 * types.h — the data-type modules and the pieces they share. Each type lives in
 * its own file (calendar.c, participant_identity.c, ...); each family of types is
 * one module (calendars.c, contacts.c: struct jmodule), and registry.c lists the
 * modules in one place (docs/adding-a-type.md). Blob methods are in jmap/blob.c.
 */
#ifndef JMAPD_TYPES_H
#define JMAPD_TYPES_H

#include "jmap/engine.h"

/* The capability URIs of the modules. */
#define JMAP_CALENDARS "urn:ietf:params:jmap:calendars" /* draft-ietf-jmap-calendars §1.5.1 */
#define JMAP_CONTACTS "urn:ietf:params:jmap:contacts"   /* RFC 9610 §1.4.1 */
#define JMAP_TASKS "urn:ietf:params:jmap:tasks"         /* draft-ietf-jmap-tasks-06 §1.5.1 */
#define JMAP_PRINCIPALS "urn:ietf:params:jmap:principals" /* RFC 9670 §1.5.1 */
#define JMAP_PRINCIPALS_OWNER "urn:ietf:params:jmap:principals:owner" /* RFC 9670 §1.5.2 */
/* draft-ietf-jmap-calendars-27 §1.5.2 */
#define JMAP_PRINCIPALS_AVAILABILITY "urn:ietf:params:jmap:principals:availability"

/* The registry: every module of the server, NULL-terminated (registry.c). */
extern const struct jmodule *const types_registry[];
extern const struct jmodule calendars_module; /* calendars.c */
extern const struct jmodule contacts_module;  /* contacts.c */
extern const struct jmodule tasks_module;     /* tasks.c */
extern const struct jmodule principals_module; /* principal.c */

/* ---- principals and sharing (RFC 9670; principal.c, share_notification.c) ---------- */
extern const struct jtype principal_type;
extern const struct jtype share_notification_type;
/* Creates or updates the directory entry of a principal: a user (type
 * "individual", id = their account id) or a group ("group"); address is the
 * calendar address (mailto:) or NULL. Inside a write transaction. */
int principal_put(struct store_conn *c, const char *id, const char *type, const char *name,
                  const char *address);
/* Gives every user without one their principal (a database made before principals
 * existed); `jmapd serve` runs it at start. 0 or a STORE_ error. */
int principals_backfill(struct store_conn *c);
/* Removes a principal from the directory (a user or group deleted). */
int principal_remove(struct store_conn *c, const char *id);
/* The user principal (their account id into out[64]) whose email is email (no
 * "mailto:"), case-insensitively: 0 or STORE_NOTFOUND. */
int principal_find_email(struct store_conn *c, const char *email, char out[64]);
/* The stored principal (new reference) or NULL. */
json_t *principal_load(struct store_conn *c, const char *id);
/* Calls cb with each principal of the directory (borrowed), users and groups, in id
 * order (RFC 9670 §2: what Principal/query searches). */
int principal_foreach(struct store_conn *c, int (*cb)(const char *id, json_t *obj, void *ud),
                      void *ud);
/* The principal whose calendar address (mailto:) is address, as a new reference. */
json_t *principal_of_address(struct store_conn *c, const char *address);
void share_notification_register_methods(void);
/* Principal/getAvailability (availability.c, calendars-27 §2.2) and its capability. */
extern const struct jcapability availability_capability;
void availability_register(void);
/* What the notification types share (RFC 9670 §3, calendars-27 §7): /set allows
 * destroy only (the validate hook), the after/before conditions (-1: another key)
 * and sorting by created. */
json_t *notification_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid);
int notification_created_filter(json_t *obj, const char *key, json_t *value);
/* The filter of the notifications about one kind of object (calendars-27 §7.4.1): the
 * above, "type", and ids_key (an Id[] or null) matched against the property id_prop. */
int notification_filter(json_t *obj, const char *key, json_t *value, const char *ids_key,
                        const char *id_prop);
int notification_compare(json_t *a, json_t *b, const char *property, bool *ok);

/* ---- scheduling (calendars-27 §5.9.2, §7; RFC 5546; scheduling.c) ----------------- */
extern const struct jtype calendar_event_notification_type;
/* Records a CalendarEventNotification (§7) in account about event id: type
 * "created", "updated" or "destroyed", event the data before (after, for created),
 * patch the change (updated only, may be NULL); by r's user (r NULL: nobody known)
 * or, for a scheduling message, from address. */
int calendar_event_notification_add(struct store_conn *c, struct jmap_req *r,
                                    const char *account, const char *type, const char *event_id,
                                    json_t *event, json_t *patch, const char *from_address);
/* The same with extra properties (scheduling.c: ITIP_METHOD_PROP of a COUNTER or
 * DECLINECOUNTER, RFC 5546 §3.2.7, §3.2.8, which changes no event). */
int calendar_event_notification_add_ex(struct store_conn *c, struct jmap_req *r,
                                       const char *account, const char *type, const char *event_id,
                                       json_t *event, json_t *patch, const char *from_address,
                                       json_t *extra);
/* A notification's vendor property (named with a domain, as RFC 8984 §3.3's): the
 * iTIP method of a message that proposed or refused a change without making one. */
#define ITIP_METHOD_PROP "jmapd.org:itipMethod"
/* The CalendarEventNotification/set and TaskNotification/set argument (a vendor one,
 * named as ITIP_METHOD_PROP) that makes destroying a COUNTER's notification decline the
 * proposal (RFC 5546 §3.2.8, §3.4.8). */
#define DECLINE_COUNTER_ARG "jmapd.org:declineCounter"
/* The notifications' destroy hook: with DECLINE_COUNTER_ARG, sends the DECLINECOUNTER
 * of the COUNTER whose notification note is (to a user of this server, or by iMIP), or
 * refuses (a SetError: not a COUNTER, the event no longer organized, unreachable). */
json_t *scheduling_decline_counter(struct jset *s, const char *id, json_t *note);
extern const struct argspec decline_counter_args[]; /* the notifications' set_args */
/* CalendarEvent/set with sendSchedulingMessages (§5.9.2): checks that every
 * recipient can be reached (else the noSupportedScheduleMethods SetError) and
 * records the change (old NULL: create; obj NULL: destroy) to deliver at finish. */
json_t *scheduling_check(struct jset *s, json_t *obj, json_t *old);
/* The /set's finish hook: delivers the recorded messages between users of this
 * server, in the same transaction (REQUEST, CANCEL, REPLY of RFC 5546 §3.2). */
void scheduling_finish(struct jset *s, bool all_ok);
/* Applies one received iTIP message (RFC 5546; from iMIP, RFC 6047) to the data of
 * account: method "request", "cancel" or "reply", ev the message's event
 * (JSCalendar), from the sender's calendar address (mailto:). Refuses what does not
 * match an event of the user or cannot be trusted (a REQUEST or CANCEL not from the
 * organizer, a REPLY from someone not invited, an older SEQUENCE): -1 with *why.
 * Inside a write transaction; 0 when applied. */
/* iMIP out (imip.c, RFC 6047): queues the iTIP message (method "REQUEST",
 * "CANCEL", "REPLY") of ev from one address to another in the caller's write
 * transaction; imip_drain sends the queue through smtp_url after the request. */
int imip_queue(struct store_conn *c, const char *method, json_t *ev, const char *from,
               const char *to);
void imip_drain(struct jmap_server *srv);
/* The same whether or not this process queued anything (the server's timer). */
void imip_retry(struct jmap_server *srv);
/* A plain-text mail (an "email" alert, calendars-27 §6) through the same outbox. */
int imip_queue_mail(struct store_conn *c, const char *from, const char *to, const char *subject,
                    const char *body);
int scheduling_apply(struct store_conn *c, const char *account, const char *method, json_t *ev,
                     const char *from, const char **why);
/* RFC 9670 §3: records in user_account (the sharee's own) that their rights on an
 * object changed from old_rights to new_rights (either NULL: none), made by r's
 * user (r NULL: the administrator). */
int share_notification_add(struct store_conn *c, struct jmap_req *r, const char *user_account,
                           const char *object_type, const char *object_account,
                           const char *object_id, const char *name, json_t *old_rights,
                           json_t *new_rights);

extern const struct jtype calendar_type;
extern const struct jtype participant_identity_type;
/* ParticipantIdentity/set (it checks ownership before the standard /set). */
int participant_identity_set(struct jmap_req *r, json_t *args);

/* The urn:ietf:params:jmap:calendars capability (draft-ietf-jmap-calendars §1.5.1). */
extern const struct jcapability calendar_capability;

/* ---- shared helpers ------------------------------------------------------------- */
/* Stores a new object created by the server itself (provisioning); fills defaults,
 * assigns the id into id_out[16]. */
int types_create_direct(struct store_conn *c, const struct jtype *t, const char *account,
                        json_t *obj, char id_out[16]);
/* onSuccessSetIsDefault (calendars §4.3, §3.3): makes the object named by the
 * argument the only one with isDefault true, if it exists; ignored otherwise. */
void types_finish_set_default(struct jset *s, bool all_ok);
/* Destroying a collection (calendars §4.3, RFC 9610 §2.3): its members are the
 * objects of member_type whose set_prop (calendarIds, addressBookIds; or a single
 * Id such as taskListId, then a member is always destroyed) names it.
 * Unless the remove_arg argument is true, members give the SetError
 * has_members_error; with it, each member leaves the collection and one left in
 * none is destroyed. Returns a SetError or NULL. */
json_t *types_destroy_collection(struct jset *s, const char *id, const struct jtype *member_type,
                                 const char *set_prop, const char *remove_arg,
                                 const char *has_members_error);
/* One collection (a calendar, a task list) as one VCALENDAR (calendar_io.c): the objects
 * of type for which member(obj, collection_id) holds, without the JMAP-only properties
 * (NULL-terminated), streamed through write. STORE_NOTFOUND if the collection (of
 * collection_type) does not exist. */
struct ics_export {
    const char *collection_type, *collection_id, *type;
    bool (*member)(json_t *obj, const char *collection_id);
    const char *const *jmap_only;
};
int ics_export(struct store_conn *c, const char *account, const struct ics_export *e,
               jmap_write_fn write, void *ud, const char **content_type);
struct buf;
/* The helpers of the JSCalendar types (events and tasks), common.c: */
/* Whether s is one of the NULL-terminated list. */
bool types_in_list(const char *const *list, const char *s);
/* A non-empty string v appended to b, a space before it unless b is empty (the text
 * fields the store's word index takes, store.h). */
void types_add_text(struct buf *b, json_t *v);
/* (uid, recurrenceId) as one key, the identity of an event or a task within its
 * account that the store keeps unique (calendars-27 §5, tasks-06 §5.1); NULL without a
 * uid. Free it. */
char *types_uid_key(json_t *obj);
/* Whether an update from old to obj changes more than the per-user properties
 * (calendars-27 §5.1, mayUpdatePrivate): a member of obj not in per_user or also_ignored
 * differs from old's, or old has one obj lacks; `updated` is never counted. */
bool types_changed_beyond(json_t *obj, json_t *old, const char *const *per_user,
                          const char *const *also_ignored);
/* The per-user properties of an event or a task (calendars-27 §5.4), NULL-terminated. */
extern const char *const types_per_user[];
/* A copy of obj (an event regenerated from a feed or a card) with the per-user values
 * of have, the stored event (NULL: obj's own). */
json_t *types_with_per_user(json_t *obj, json_t *have);
/* One event or task read from a file (an .ics import, a subscription, a scheduling
 * message): stored as an update of the object of the same uid and recurrenceId when
 * there is one (its id kept, *updated set), else created. check validates and completes
 * obj as the type's /set does (old: the object it updates, or NULL), adding the
 * paths of invalid properties to invalid; what names the kind in *err. obj is taken.
 * 0, or -1 with *err (free it). */
struct types_import {
    const struct jtype *type;
    const char *what;
    void (*check)(struct store_conn *c, const char *account, json_t *obj, json_t *old,
                  json_t *invalid);
};
int types_import_object(struct store_conn *c, const char *account, const struct types_import *im,
                        json_t *obj, bool *updated, char **err);
/* Value checks shared by the types: */
bool types_is_utc_datetime(json_t *v);
bool types_is_signed_duration(const char *s);
bool types_is_time_zone(const char *tzid);
bool types_is_css_color(const char *s);
/* Whether obj and each of its occurrences have at most max participants (the
 * accounts' maxParticipantsPerEvent, maxParticipantsPerTask). */
bool types_participants_within(const json_t *obj, size_t max);
#define TYPES_MAX_PARTICIPANTS 1000
/* A default alert (calendars-27 §4, tasks-06 §4): an Alert whose trigger is an
 * OffsetTrigger (calendar.c). */
bool types_default_alert_ok(json_t *alert);

#endif
