/*
 * scheduling.c — scheduling messages between users of this server
 * (draft-ietf-jmap-calendars-27 §5.9.2; iTIP, RFC 5546 §3.2). A CalendarEvent/set
 * with sendSchedulingMessages records each change in scheduling_check (the
 * validate hook); scheduling_finish, in the same transaction, applies the iTIP
 * method the change means straight to the recipients' data:
 *
 *   REQUEST (§3.2.2): the organizer created or changed the event: each attendee's
 *     copy (in their default calendar, found by uid) is created or replaced;
 *   CANCEL (§3.2.5): the event was destroyed, or an attendee removed: their copy
 *     gets status "cancelled";
 *   REPLY (§3.2.3): an attendee changed their participationStatus (or destroyed
 *     their copy after answering): the organizer's copy records it, unless the
 *     attendee answered an older sequence than the organizer's;
 *   delegation (§3.2.2.3): a REPLY "delegated" with delegatedTo, which adds the delegate
 *     to the organizer's copy, and the invitation forwarded to the delegate;
 *   COUNTER (§3.2.7): an attendee changed the time, place or description of their copy
 *     (or of some occurrences): the organizer gets a notification of the proposal, the
 *     event unchanged; DECLINECOUNTER (§3.2.8): the organizer destroys the COUNTER's
 *     notification with jmapd.org:declineCounter (docs/scheduling.md).
 *
 * Each processed message leaves a CalendarEventNotification (§7) in the
 * recipient's account. Recipients are found by calendar address (their principal's
 * email); others are reached by iMIP (imip.c) when an SMTP relay is set, else the
 * change gets noSupportedScheduleMethods.
 *
 * Tasks are scheduled the same way (draft-ietf-jmap-tasks-06 §5.4 assignees, RFC 5546
 * §3.4 VTODO): a Task/set with sendSchedulingMessages, the copies in the assignees'
 * default task lists, TaskNotifications; a REPLY also carries the assignee's progress
 * (jscalendarbis §5.2.5; PARTSTAT COMPLETED, IN-PROCESS, FAILED in iCalendar) and the
 * organizer's copy applies its TASK-MODE (ical-tasks-17 §5.3). struct sched_kind
 * holds what differs.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jmap/engine.h"
#include "types/calendar_event.h"
#include "types/tasks.h"
#include "types/types.h"
#include "util/util.h"

/* What scheduling an event and a task differ in. */
struct sched_kind {
    const struct jtype *type;
    const char *collections; /* the property naming where a copy lives */
    bool single;             /* ... one id (taskListId), not an Id[Boolean] */
    int (*default_collection)(struct store_conn *c, const char *account, char out[64]);
    int (*notify)(struct store_conn *c, struct jmap_req *r, const char *account, const char *type,
                  const char *id, json_t *obj, json_t *patch, const char *from_address);
    /* the same with extra properties: a COUNTER's or DECLINECOUNTER's ITIP_METHOD_PROP */
    int (*notify_ex)(struct store_conn *c, struct jmap_req *r, const char *account,
                     const char *type, const char *id, json_t *obj, json_t *patch,
                     const char *from_address, json_t *extra);
    int (*import_one)(struct store_conn *c, const char *account, const char *collection,
                      json_t *obj, bool *updated, char **err);
    /* RFC 5546 §3.2.5 CANCEL: an event's status, a task's progress (jscalendarbis §5.2.5) */
    const char *cancelled_prop;
};

static const struct sched_kind event_kind = {
    &calendar_event_type,
    "calendarIds",
    false,
    event_default_calendar,
    calendar_event_notification_add,
    calendar_event_notification_add_ex,
    event_import_one,
    "status",
};
static const struct sched_kind task_kind = {
    &task_type,
    "taskListId",
    true,
    task_default_list,
    task_notification_add,
    task_notification_add_ex,
    task_import_one,
    "progress",
};

static const struct sched_kind *kind_of(json_t *obj)
{
    const char *type = json_string_value(json_object_get(obj, "@type"));
    return type && strcmp(type, "Task") == 0 ? &task_kind : &event_kind;
}

/* The changes of the /set running on this thread: [{old, new}] */
static __thread json_t *pending;

/* The account of the user whose calendar address is address, into out[64]. */
static bool local_account(struct store_conn *c, const char *address, char out[64])
{
    return address && strncasecmp(address, "mailto:", 7) == 0 &&
           principal_find_email(c, address + 7, out) == 0;
}

static const char *address_of(json_t *participant)
{
    return json_string_value(json_object_get(participant, "calendarAddress"));
}

/* Whether iMIP can reach addresses outside the server (an SMTP relay is set). */
static bool imip_on(struct jmap_req *r)
{
    return r && r->srv && r->srv->cfg && r->srv->cfg->smtp_url[0];
}

json_t *scheduling_check(struct jset *s, json_t *obj, json_t *old)
{
    if (!json_is_true(json_object_get(jset_args(s), "sendSchedulingMessages")))
        return NULL;
    bool imip = imip_on(jset_req(s));
    json_t *ev = obj ? obj : old;
    bool origin = json_is_true(json_object_get(ev, "isOrigin"));
    struct store_conn *c = jset_conn(s);
    char acct[64];
    /* §5.9.2: every recipient must be reachable */
    if (origin) {
        const char *pid;
        json_t *p;
        json_object_foreach(json_object_get(ev, "participants"), pid, p)
        {
            const char *addr = address_of(p);
            if (addr && !local_account(c, addr, acct) && !imip)
                return jmap_seterror("noSupportedScheduleMethods",
                                     "%s is not a user of this server, and iMIP is not "
                                     "available",
                                     addr);
        }
    } else {
        const char *org = json_string_value(json_object_get(ev, "organizerCalendarAddress"));
        if (org && !local_account(c, org, acct) && !imip)
            return jmap_seterror("noSupportedScheduleMethods",
                                 "the organizer %s is not a user of this server", org);
    }
    if (!pending)
        pending = json_array();
    json_array_append_new(pending, json_pack("{s:O?, s:O?}", "old", old, "new", obj));
    return NULL;
}

/* ---- delivery ---------------------------------------------------------------------------- */

/* The id of the event with uid in account, into out[64]. */
struct find {
    char *out;
    bool found;
};

static int found_cb(const char *id, void *ud)
{
    struct find *f = ud;
    snprintf(f->out, 64, "%s", id);
    f->found = true;
    return 1;
}

static bool find_uid(struct store_conn *c, const struct sched_kind *k, const char *account,
                     const char *uid, char out[64])
{
    struct find f = {out, false};
    if (uid)
        store_index_find_uid(c, account, k->type->name, uid, found_cb, &f);
    return f.found;
}

/* The account's copy of ev (the event or task with its uid), into id[64]; or NULL. */
static json_t *copy_of(struct store_conn *c, const char *account, json_t *ev, char id[64])
{
    const struct sched_kind *k = kind_of(ev);
    return find_uid(c, k, account, json_string_value(json_object_get(ev, "uid")), id)
               ? store_object_get(c, account, k->type->name, id)
               : NULL;
}

/* A patch of the top-level changes from a to b (§7 eventPatch). */
static json_t *top_patch(json_t *a, json_t *b)
{
    json_t *patch = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(b, k, v)
    {
        if (!json_equal(v, json_object_get(a, k)))
            json_object_set(patch, k, v);
    }
    json_object_foreach(a, k, v)
    {
        if (!json_object_get(b, k))
            json_object_set_new(patch, k, json_null());
    }
    return patch;
}

/* Writes ev as account's event (or task) id (new: a create) and notifies the account. */
static int deliver(struct store_conn *c, struct jmap_req *r, const char *account, const char *id,
                   json_t *before, json_t *ev, bool create, const char *from)
{
    const struct sched_kind *k = kind_of(ev);
    if (jmap_object_write(c, r, k->type, account, id, ev, create))
        return -1;
    json_t *patch = create ? NULL : top_patch(before, ev);
    int rc = k->notify(c, r, account, create ? "created" : "updated", id, create ? ev : before,
                       patch, from);
    json_decref(patch);
    return rc ? -1 : 0;
}

/* calendars-27 §5.9.2.1 hideAttendees: a copy of ev where the recipient at address is
 * the only attendee (the owners stay). The copy is shallow (issue 14: a deep copy of an
 * invitation to 100 attendees for each of them was a sixth of its cost): its callers
 * change its top-level members only, and share the rest with ev while they use it. */
static json_t *for_recipient(json_t *ev, const char *address)
{
    json_t *copy = json_copy(ev);
    if (!json_is_true(json_object_get(ev, "hideAttendees")))
        return copy;
    json_t *parts = json_copy(json_object_get(ev, "participants"));
    const char *pid;
    json_t *p;
    void *tmp;
    json_object_foreach_safe(parts, tmp, pid, p)
    {
        bool owner = json_is_true(json_object_get(json_object_get(p, "roles"), "owner"));
        if (!owner && (!address_of(p) || strcasecmp(address_of(p), address)))
            json_object_del(parts, pid);
    }
    if (parts)
        json_object_set_new(copy, "participants", parts);
    return copy;
}

/* REQUEST (RFC 5546 §3.2.2) of ev to the attendee at address, whose account is acct. */
static void request_to(struct store_conn *c, struct jmap_req *r, json_t *ev, const char *address,
                       const char *acct)
{
    const struct sched_kind *k = kind_of(ev);
    const char *uid = json_string_value(json_object_get(ev, "uid"));
    char id[64];
    bool have = find_uid(c, k, acct, uid, id);
    json_t *old = have ? store_object_get(c, acct, k->type->name, id) : NULL;
    /* §3.2.2: an older sequence than the attendee's copy changes nothing */
    if (old && json_integer_value(json_object_get(old, "sequence")) >
                   json_integer_value(json_object_get(ev, "sequence"))) {
        json_decref(old);
        return;
    }
    json_t *copy = for_recipient(ev, address);
    json_object_set_new(copy, "isOrigin", json_false());
    for (const char *const *p = types_per_user; *p; p++)
        json_object_del(copy, *p);
    if (old) {
        json_object_set(copy, k->collections, json_object_get(old, k->collections));
        for (const char *const *p = types_per_user; *p; p++)
            if (json_object_get(old, *p))
                json_object_set(copy, *p, json_object_get(old, *p));
    } else {
        char cal[64];
        if (k->default_collection(c, acct, cal) != 0) {
            json_decref(copy);
            return;
        }
        json_object_set_new(copy, k->collections,
                            k->single ? json_string(cal) : json_pack("{s:b}", cal, 1));
        util_random_id(id, 12, k->type->id_prefix);
    }
    json_object_set_new(copy, "id", json_string(id));
    deliver(c, r, acct, id, old, copy, !old,
            json_string_value(json_object_get(ev, "organizerCalendarAddress")));
    json_decref(copy);
    json_decref(old);
}

/* CANCEL (RFC 5546 §3.2.5) of ev to the attendee's account. */
static int cancel_to(struct store_conn *c, struct jmap_req *r, json_t *ev, const char *acct)
{
    const struct sched_kind *k = kind_of(ev);
    char id[64];
    if (!find_uid(c, k, acct, json_string_value(json_object_get(ev, "uid")), id))
        return -1;
    json_t *old = store_object_get(c, acct, k->type->name, id);
    if (!old)
        return -1;
    json_t *copy = json_deep_copy(old);
    json_object_set_new(copy, k->cancelled_prop, json_string("cancelled"));
    json_object_set_new(copy, "sequence",
                        json_integer(json_integer_value(json_object_get(ev, "sequence")) + 1));
    int rc = deliver(c, r, acct, id, old, copy, false,
                     json_string_value(json_object_get(ev, "organizerCalendarAddress")));
    json_decref(copy);
    json_decref(old);
    return rc;
}

/* calendars-27 §5.2.1, §5.2.2: a response older than the one applied for the
 * participant (a lower sequence, or the same sequence and an earlier updated) is
 * discarded; an applied one is recorded in scheduleSequence and scheduleUpdated. */
static bool reply_is_older(json_t *participant, json_t *reply)
{
    json_int_t seq = json_integer_value(json_object_get(reply, "sequence"));
    json_int_t had = json_integer_value(json_object_get(participant, "scheduleSequence"));
    if (seq != had)
        return seq < had;
    int64_t at, before;
    const char *upd = json_string_value(json_object_get(reply, "updated"));
    const char *was = json_string_value(json_object_get(participant, "scheduleUpdated"));
    return upd && was && util_utc_parse(upd, &at) == 0 && util_utc_parse(was, &before) == 0 &&
           at < before;
}

static void reply_applied(json_t *participant, json_t *reply)
{
    json_object_set_new(participant, "scheduleSequence",
                        json_integer(json_integer_value(json_object_get(reply, "sequence"))));
    json_t *upd = json_object_get(reply, "updated");
    if (json_is_string(upd))
        json_object_set(participant, "scheduleUpdated", upd);
}

static json_t *participant_at(json_t *ev, const char *address);

/* ---- delegation (RFC 5546 §3.2.2.3; jscalendarbis participant delegatedTo, delegatedFrom) --
 * The delegator's REPLY has their participationStatus "delegated" and delegatedTo the
 * delegates' calendar addresses, with a participant for each delegate (delegatedFrom the
 * delegator): the organizer's copy records both, so the delegate's own REPLY is from an
 * invited participant and later REQUESTs reach them. */

/* The organizer's copy takes the delegation of the attendee at address from reply. */
static void take_delegates(json_t *copy, json_t *reply, const char *address)
{
    json_t *theirs = participant_at(reply, address), *mine = participant_at(copy, address);
    json_t *to = json_object_get(theirs, "delegatedTo");
    if (!mine || !json_is_object(to) || !json_object_size(to))
        return;
    json_object_set(mine, "delegatedTo", to);
    json_t *parts = json_object_get(copy, "participants");
    const char *addr;
    json_t *v;
    json_object_foreach(to, addr, v)
    {
        if (participant_at(copy, addr))
            continue;
        json_t *d = participant_at(reply, addr);
        /* not in the message: one in the delegator's role (attendee, a task's assignee) */
        d = d ? json_deep_copy(d)
              : json_pack("{s:s, s:s, s:O, s:s, s:b}", "@type", "Participant", "calendarAddress",
                          addr, "roles", json_object_get(mine, "roles"), "participationStatus",
                          "needs-action", "expectReply", 1);
        if (!d)
            continue; /* a delegator without roles */
        json_object_set_new(d, "delegatedFrom", json_pack("{s:b}", address, 1));
        char pid[16];
        util_random_id(pid, 10, 'p');
        json_object_set_new(parts, pid, d);
    }
}

/* Delegates in now's delegatedTo of the participant at address that old's had not. */
static json_t *new_delegates(json_t *old, json_t *now, const char *address)
{
    json_t *out = json_object();
    json_t *was = json_object_get(participant_at(old, address), "delegatedTo");
    const char *addr;
    json_t *v;
    json_object_foreach(json_object_get(participant_at(now, address), "delegatedTo"), addr, v)
    {
        if (!json_object_get(was, addr))
            json_object_set_new(out, addr, json_true());
    }
    return out;
}

/* ---- counter proposals (RFC 5546 §3.2.7, §3.2.8; §3.4.7, §3.4.8 for tasks) ---------------
 * An attendee proposes a change with COUNTER; the organizer's event does not change. The
 * organizer sees the proposal as a CalendarEventNotification (TaskNotification) of type
 * "updated" whose event is their copy as it is, whose eventPatch (taskPatch) is the
 * proposed change, and whose ITIP_METHOD_PROP is "COUNTER"; they accept it by updating the
 * event (a REQUEST to everyone, §3.2.2.1). A DECLINECOUNTER the attendee receives is a
 * notification with an empty patch and ITIP_METHOD_PROP "DECLINECOUNTER". */

/* What an attendee may propose: the time, place and description of the event or task. */
static const char *const counter_props[] = {"title",
                                            "description",
                                            "start",
                                            "duration",
                                            "timeZone",
                                            "showWithoutTime",
                                            "locations",
                                            "virtualLocations",
                                            "recurrenceRule",
                                            "recurrenceRules",
                                            "due",
                                            "estimatedDuration",
                                            NULL};

/* A property's value, or its default (jscalendarbis §4: absent means the default, so a
 * converted message that spells a default out proposes nothing). */
static json_t *value_of(json_t *obj, const char *name, json_t *defaults)
{
    json_t *v = json_object_get(obj, name);
    return v ? v : json_object_get(defaults, name);
}

/* The change proposal makes to ev: the counter_props that differ (null: removed). */
static json_t *proposal_patch(json_t *ev, json_t *proposal)
{
    json_t *patch = json_object();
    json_t *defaults = json_pack("{s:b, s:s, s:s, s:s}", "showWithoutTime", 0, "duration", "PT0S",
                                 "title", "", "description", "");
    for (const char *const *k = counter_props; *k; k++) {
        json_t *a = value_of(ev, *k, defaults), *b = value_of(proposal, *k, defaults);
        if (b && (!a || !json_equal(a, b)))
            json_object_set(patch, *k, b);
        else if (a && !b)
            json_object_set_new(patch, *k, json_null());
    }
    json_decref(defaults);
    return patch;
}

static int itip_note(struct store_conn *c, struct jmap_req *r, const char *account, const char *id,
                     json_t *ev, json_t *patch, const char *from, const char *method)
{
    json_t *extra = json_pack("{s:s}", ITIP_METHOD_PROP, method);
    int rc = kind_of(ev)->notify_ex(c, r, account, "updated", id, ev, patch, from, extra);
    json_decref(extra);
    return rc ? -1 : 0;
}

/* COUNTER (§3.2.7) from the attendee at address to the organizer's account org: 0, or -1
 * with *why when nothing is recorded. */
static int counter_to(struct store_conn *c, struct jmap_req *r, json_t *proposal,
                      const char *address, const char *org, const char **why)
{
    char id[64];
    json_t *theirs = copy_of(c, org, proposal, id);
    /* one occurrence (RECURRENCE-ID): compared with, and shown as, that occurrence
     * (calendars-27 §7 allows a notification of just the instance) */
    const char *rid = json_string_value(json_object_get(proposal, "recurrenceId"));
    json_t *inst =
        theirs && rid && kind_of(theirs) == &event_kind ? event_instance(theirs, id, rid) : NULL;
    json_t *patch = theirs ? proposal_patch(inst ? inst : theirs, proposal) : NULL;
    int rc = -1;
    if (!theirs || !json_is_true(json_object_get(theirs, "isOrigin")))
        *why = "the user organizes no event or task with this UID";
    else if (rid && kind_of(theirs) == &event_kind && !inst)
        *why = "the event has no occurrence at the proposal's RECURRENCE-ID";
    else if (!address || !participant_at(theirs, address))
        *why = "the sender is not a participant of the event";
    else if (json_integer_value(json_object_get(proposal, "sequence")) <
             json_integer_value(json_object_get(theirs, "sequence")))
        *why = "the proposal answers an older SEQUENCE than the event's"; /* §3.2.7 echo */
    else if (!json_object_size(patch))
        *why = "the proposal changes nothing";
    else
        rc = itip_note(c, r, org, id, inst ? inst : theirs, patch, address, "COUNTER");
    json_decref(patch);
    json_decref(inst);
    json_decref(theirs);
    return rc;
}

/* DECLINECOUNTER (§3.2.8) from the organizer to the user's account. */
static int apply_declinecounter(struct store_conn *c, const char *account, json_t *ev,
                                const char *from, const char **why)
{
    char id[64];
    json_t *mine = copy_of(c, account, ev, id);
    const char *org = json_string_value(json_object_get(mine, "organizerCalendarAddress"));
    int rc = -1;
    if (!mine || json_is_true(json_object_get(mine, "isOrigin")))
        *why = "the user has no invitation with this UID";
    else if (!org || strcasecmp(org, from))
        *why = "the sender is not the organizer of the user's copy";
    else {
        json_t *none = json_object();
        rc = itip_note(c, NULL, account, id, mine, none, from, "DECLINECOUNTER");
        json_decref(none);
    }
    json_decref(mine);
    return rc;
}

/* ---- DECLINECOUNTER sent (RFC 5546 §3.2.8, §3.4.8) -------------------------------------------
 * JMAP names no method for it; calendars-27 §7 makes a COUNTER reach the organizer as a
 * notification, which is what they answer: destroying a COUNTER's notification with the
 * /set argument jmapd.org:declineCounter declines the proposal (docs/scheduling.md).
 * Without it a destroy only dismisses the notification, as before. */

const struct argspec decline_counter_args[] = {
    {DECLINE_COUNTER_ARG, ARG_BOOL, 0},
    {NULL, 0, 0},
};

json_t *scheduling_decline_counter(struct jset *s, const char *note_id, json_t *note)
{
    (void)note_id;
    if (!json_is_true(json_object_get(jset_args(s), DECLINE_COUNTER_ARG)))
        return NULL;
    const char *method = json_string_value(json_object_get(note, ITIP_METHOD_PROP));
    if (!method || strcmp(method, "COUNTER"))
        return jmap_seterror_props(json_pack("[s]", ITIP_METHOD_PROP),
                                   "only the notification of a COUNTER can be declined");
    struct store_conn *c = jset_conn(s);
    json_t *proposed = json_object_get(note, "event"); /* a TaskNotification's: task */
    if (!json_is_object(proposed))
        proposed = json_object_get(note, "task");
    const struct sched_kind *k = kind_of(proposed);
    /* the proposer: calendars-27 §7 changedBy.calendarAddress; a TaskNotification's
     * changedBy is a Person (tasks-06 §5.2) whose uri is the address */
    json_t *by = json_object_get(note, "changedBy");
    const char *to = json_string_value(json_object_get(by, "calendarAddress"));
    if (!to)
        to = json_string_value(json_object_get(by, "uri"));
    char id[64], acct[64];
    json_t *mine = copy_of(c, jset_account(s), proposed, id);
    const char *org = json_string_value(json_object_get(mine, "organizerCalendarAddress"));
    /* the occurrence proposed (§3.2.7 RECURRENCE-ID): declined as that occurrence */
    const char *rid = json_string_value(json_object_get(proposed, "recurrenceId"));
    json_t *ev =
        mine && rid && k == &event_kind ? event_instance(mine, id, rid) : json_incref(mine);
    json_t *err = NULL;
    const char *why = NULL;
    if (!ev || !org || !json_is_true(json_object_get(mine, "isOrigin")))
        err = jmap_seterror("invalidProperties", "the user no longer organizes this event");
    else if (!to || !participant_at(mine, to))
        err = jmap_seterror("invalidProperties", "the proposer is no participant of the event");
    else if (local_account(c, to, acct)) { /* their copy stays; they get a notification */
        if (strcmp(acct, jset_account(s)) && apply_declinecounter(c, acct, ev, org, &why))
            log_info("DECLINECOUNTER to %s not recorded: %s", to, why);
    } else if (imip_on(jset_req(s))) {
        json_t *copy = for_recipient(ev, to); /* §3.2.8: SEQUENCE and UID echoed */
        if (imip_queue(c, "DECLINECOUNTER", copy, org, to))
            err = jmap_seterror("serverFail", "the DECLINECOUNTER could not be queued");
        json_decref(copy);
    } else {
        err = jmap_seterror("noSupportedScheduleMethods",
                            "%s is not a user of this server, and iMIP is not available", to);
    }
    json_decref(ev);
    json_decref(mine);
    return err;
}

/* The message an attendee sends the organizer (§3.2.3 REPLY, §3.2.7 COUNTER): ev with
 * the organizer, the attendee (status, unless NULL) and the attendee's delegates. */
static json_t *to_organizer(json_t *ev, const char *address, const char *org_addr,
                            const char *status)
{
    json_t *copy = json_deep_copy(ev), *parts = json_object();
    json_t *delegates = json_object_get(participant_at(ev, address), "delegatedTo");
    const char *pid;
    json_t *p;
    json_object_foreach(json_object_get(ev, "participants"), pid, p)
    {
        const char *a = address_of(p);
        if (a &&
            (!strcasecmp(a, address) || !strcasecmp(a, org_addr) || json_object_get(delegates, a)))
            json_object_set_new(parts, pid, json_deep_copy(p));
        if (a && !strcasecmp(a, address) && status)
            json_object_set_new(json_object_get(parts, pid), "participationStatus",
                                json_string(status));
    }
    json_object_set_new(copy, "participants", parts);
    return copy;
}

/* A task's assignee reports their progress with their answer (tasks-06 §5.4;
 * jscalendarbis §5.2.4 percentComplete, §5.2.5 progress, progressUpdated). */
static void take_progress(json_t *p, json_t *answer)
{
    static const char *const props[] = {"progress", "progressUpdated", "percentComplete", NULL};
    for (const char *const *k = props; *k; k++) {
        json_t *v = json_object_get(answer, *k);
        if (v)
            json_object_set(p, *k, v);
        else
            json_object_del(p, *k);
    }
}

/* REPLY (RFC 5546 §3.2.3): the attendee at address answered status (NULL: a task's
 * assignee reporting progress alone) to ev (their copy, or the message's event); the
 * organizer's copy in account org records it. Returns 0, or -1 with *why (static)
 * when nothing changes. */
static int reply_to(struct store_conn *c, struct jmap_req *r, json_t *ev, const char *address,
                    const char *status, const char *org, const char **why)
{
    const char *dummy;
    why = why ? why : &dummy;
    const struct sched_kind *k = kind_of(ev);
    char id[64];
    if (!find_uid(c, k, org, json_string_value(json_object_get(ev, "uid")), id))
        return *why = "no event or task of the organizer has this UID", -1;
    json_t *theirs = store_object_get(c, org, k->type->name, id);
    if (!theirs || !json_is_true(json_object_get(theirs, "isOrigin"))) {
        json_decref(theirs);
        return *why = "the user is not the organizer of this event", -1;
    }
    /* an answer to an older sequence than the organizer's changes nothing */
    if (json_integer_value(json_object_get(ev, "sequence")) <
        json_integer_value(json_object_get(theirs, "sequence"))) {
        json_decref(theirs);
        return *why = "the reply answers an older SEQUENCE than the event's", -1;
    }
    json_t *copy = json_deep_copy(theirs);
    const char *pid;
    json_t *p;
    bool invited = false, older = false;
    json_object_foreach(json_object_get(copy, "participants"), pid, p)
    {
        if (address && address_of(p) && !strcasecmp(address_of(p), address)) {
            invited = true;
            older |= reply_is_older(p, ev);
            if (older)
                continue;
            if (status)
                json_object_set_new(p, "participationStatus", json_string(status));
            if (k == &task_kind)
                take_progress(p, participant_at(ev, address));
            reply_applied(p, ev);
        }
    }
    if (invited && !older)
        take_delegates(copy, ev, address);
    if (k == &task_kind)
        task_apply_mode(copy); /* ical-tasks-17 §5.3 on the organizer's copy */
    int rc = -1;
    if (!invited) /* a reply from someone not invited is not trusted */
        *why = "the sender is not a participant of the event";
    else if (older)
        *why = "a later reply of this attendee was applied already (scheduleSequence, "
               "scheduleUpdated)";
    else if ((rc = deliver(c, r, org, id, theirs, copy, false, address)))
        *why = "the event could not be stored";
    json_decref(copy);
    json_decref(theirs);
    return rc;
}

/* RFC 5546 §3.2.2.3: "the Delegate MUST send a REPLY method to the Organizer, and
 * optionally to the Delegator": the delegate's answer recorded in the delegator's copy
 * (account acct), whose participant at address (the delegate they added) takes the
 * status. The delegator's copy is no organizer's: only that participant changes, and
 * only for a delegate who names them in delegatedFrom, not for an older answer. */
static int reply_to_delegator(struct store_conn *c, struct jmap_req *r, json_t *ev,
                              const char *address, const char *status, const char *delegator,
                              const char *acct, const char **why)
{
    char id[64];
    json_t *theirs = copy_of(c, acct, ev, id), *copy = NULL;
    json_t *p = participant_at(theirs, address);
    int rc = -1;
    if (!theirs || json_is_true(json_object_get(theirs, "isOrigin")))
        *why = "the user has no invitation with this UID";
    else if (!p || !json_object_get(json_object_get(participant_at(ev, address), "delegatedFrom"),
                                    delegator))
        *why = "the sender is no delegate of the user";
    else if (reply_is_older(p, ev))
        *why = "a later reply of this delegate was applied already";
    else {
        copy = json_copy(theirs);
        json_t *parts = json_copy(json_object_get(theirs, "participants"));
        json_object_set_new(copy, "participants", parts);
        const char *pid;
        json_t *q;
        json_object_foreach(parts, pid, q)
        {
            if (address_of(q) && !strcasecmp(address_of(q), address)) {
                q = json_deep_copy(q);
                if (status)
                    json_object_set_new(q, "participationStatus", json_string(status));
                reply_applied(q, ev);
                json_object_set_new(parts, pid, q);
                break;
            }
        }
        if ((rc = deliver(c, r, acct, id, theirs, copy, false, address)))
            *why = "the event could not be stored";
    }
    json_decref(copy);
    json_decref(theirs);
    return rc;
}

/* The delegate's answer to each delegator of theirs (§3.2.2.3): to a user of this
 * server, their copy; to others, the REPLY by iMIP. */
static void delegate_answers(struct jset *s, json_t *ev, json_t *me, const char *address,
                             const char *status)
{
    struct store_conn *c = jset_conn(s);
    const char *org_addr = json_string_value(json_object_get(ev, "organizerCalendarAddress"));
    const char *from, *why = NULL;
    json_t *v;
    char acct[64];
    json_object_foreach(json_object_get(me, "delegatedFrom"), from, v)
    {
        if (org_addr && !strcasecmp(from, org_addr))
            continue; /* the organizer has had the REPLY */
        if (local_account(c, from, acct)) {
            if (strcmp(acct, jset_account(s)) &&
                reply_to_delegator(c, jset_req(s), ev, address, status, from, acct, &why))
                log_info("REPLY to the delegator %s not recorded: %s", from, why);
        } else if (org_addr && imip_on(jset_req(s))) {
            json_t *copy = to_organizer(ev, address, org_addr, status);
            imip_queue(c, "REPLY", copy, address, from);
            json_decref(copy);
        }
    }
}

/* When a change of a recurring event touches only some occurrences (its overrides;
 * sequence and updated aside), the recurrence ids concerned; NULL when the series
 * itself changed. */
static json_t *changed_instances(json_t *old, json_t *now)
{
    if (!old || !now || !json_object_get(now, "recurrenceRule"))
        return NULL;
    static const char *const aside[] = {"recurrenceOverrides", "sequence", "updated", NULL};
    json_t *a = json_deep_copy(old), *b = json_deep_copy(now);
    for (const char *const *k = aside; *k; k++) {
        json_object_del(a, *k);
        json_object_del(b, *k);
    }
    bool series = !json_equal(a, b);
    json_decref(a);
    json_decref(b);
    if (series)
        return NULL;
    json_t *rids = json_object(), *oo = json_object_get(old, "recurrenceOverrides"),
           *no = json_object_get(now, "recurrenceOverrides");
    const char *rid;
    json_t *v;
    json_object_foreach(no, rid, v)
    {
        if (!json_equal(v, json_object_get(oo, rid) ? json_object_get(oo, rid) : json_null()))
            json_object_set_new(rids, rid, json_true());
    }
    json_object_foreach(oo, rid, v)
    {
        if (!json_object_get(no, rid))
            json_object_set_new(rids, rid, json_true());
    }
    return rids;
}

/* iMIP (RFC 6047) of a change of some occurrences only (RFC 5546 §3.2.2 and §3.2.5 with
 * RECURRENCE-ID): an occurrence newly excluded gets CANCEL, any other one REQUEST. */
static void imip_instances(struct store_conn *c, json_t *old, json_t *now, json_t *rids,
                           const char *org, const char *to)
{
    const char *id = json_string_value(json_object_get(now, "id"));
    const char *rid;
    json_t *v;
    json_object_foreach(rids, rid, v)
    {
        json_t *ov = json_object_get(json_object_get(now, "recurrenceOverrides"), rid);
        bool cancel = json_is_true(json_object_get(ov, "excluded"));
        json_t *inst = event_instance(cancel ? old : now, id, rid);
        if (!inst)
            continue;
        json_t *copy = for_recipient(inst, to);
        static const char *const series[] = {"recurrenceRule", "recurrenceRules",
                                             "excludedRecurrenceRules", "recurrenceOverrides",
                                             NULL};
        for (const char *const *k = series; *k; k++)
            json_object_del(copy, *k); /* one occurrence: RECURRENCE-ID, no rule */
        json_object_set(copy, "sequence", json_object_get(now, "sequence"));
        if (cancel)
            json_object_set_new(copy, kind_of(now)->cancelled_prop, json_string("cancelled"));
        imip_queue(c, cancel ? "CANCEL" : "REQUEST", copy, org, to);
        json_decref(copy);
        json_decref(inst);
    }
}

/* The organizer's side of a change (§5.9.2.1, §5.9.2.2). */
static void organizer_sends(struct jset *s, json_t *old, json_t *now)
{
    struct store_conn *c = jset_conn(s);
    const char *self = jset_account(s);
    char acct[64];
    const char *pid;
    json_t *p;
    const char *org =
        json_string_value(json_object_get(now ? now : old, "organizerCalendarAddress"));
    json_t *rids = changed_instances(old, now); /* per instance where only instances change */
    json_object_foreach(json_object_get(now, "participants"), pid, p)
    {
        const char *to = address_of(p);
        if (local_account(c, to, acct)) {
            if (strcmp(acct, self))
                request_to(c, jset_req(s), now, to, acct);
        } else if (to && org && imip_on(jset_req(s)) && rids) {
            imip_instances(c, old, now, rids, org, to);
        } else if (to && org && imip_on(jset_req(s))) {
            json_t *copy = for_recipient(now, to); /* RFC 6047 iMIP */
            imip_queue(c, "REQUEST", copy, org, to);
            json_decref(copy);
        }
    }
    json_decref(rids);
    /* removed participants, or everyone when the event is gone */
    json_object_foreach(json_object_get(old, "participants"), pid, p)
    {
        bool stays = false;
        const char *q;
        json_t *v;
        json_object_foreach(json_object_get(now, "participants"), q, v)
        {
            stays |= address_of(v) && address_of(p) && !strcasecmp(address_of(v), address_of(p));
        }
        if (stays || !address_of(p))
            continue;
        if (local_account(c, address_of(p), acct)) {
            if (strcmp(acct, self))
                cancel_to(c, jset_req(s), old, acct);
        } else if (org && imip_on(jset_req(s))) {
            json_t *copy = for_recipient(old, address_of(p));
            json_object_set_new(copy, kind_of(old)->cancelled_prop, json_string("cancelled"));
            json_object_set_new(
                copy, "sequence",
                json_integer(json_integer_value(json_object_get(old, "sequence")) + 1));
            imip_queue(c, "CANCEL", copy, org, address_of(p));
            json_decref(copy);
        }
    }
}

/* The participant of ev who is the user of account self (their principal's email). */
static json_t *me_in(struct store_conn *c, json_t *ev, const char *self, const char **pid_out)
{
    const char *pid;
    json_t *p;
    char acct[64];
    json_object_foreach(json_object_get(ev, "participants"), pid, p)
    {
        if (local_account(c, address_of(p), acct) && strcmp(acct, self) == 0) {
            *pid_out = pid;
            return p;
        }
    }
    return NULL;
}

/* §3.2.2.3: the delegator forwards the invitation to each new delegate. */
static void forward_to_delegates(struct jset *s, json_t *old, json_t *now, const char *address)
{
    struct store_conn *c = jset_conn(s);
    json_t *fresh = new_delegates(old, now, address);
    const char *to;
    json_t *v;
    char acct[64];
    json_object_foreach(fresh, to, v)
    {
        if (local_account(c, to, acct)) {
            if (strcmp(acct, jset_account(s)))
                request_to(c, jset_req(s), now, to, acct);
        } else if (imip_on(jset_req(s))) {
            json_t *copy = for_recipient(now, to);
            imip_queue(c, "REQUEST", copy, address, to);
            json_decref(copy);
        }
    }
    json_decref(fresh);
}

/* One COUNTER (§3.2.7) of proposal (the attendee's event, or one occurrence of it) to the
 * organizer: recorded for a user of this server, else mailed. */
static void counter_send(struct jset *s, json_t *proposal, const char *address)
{
    struct store_conn *c = jset_conn(s);
    char org[64];
    const char *org_addr = json_string_value(json_object_get(proposal, "organizerCalendarAddress"));
    const char *why = NULL;
    if (local_account(c, org_addr, org)) {
        counter_to(c, jset_req(s), proposal, address, org, &why);
    } else if (org_addr && imip_on(jset_req(s))) {
        json_t *copy = to_organizer(proposal, address, org_addr, NULL);
        imip_queue(c, "COUNTER", copy, address, org_addr);
        json_decref(copy);
    }
    if (why)
        log_info("scheduling: COUNTER from %s not recorded: %s", address, why);
}

/* COUNTER (§3.2.7): the attendee changed what only the organizer changes (counter_props)
 * on their copy, or on some occurrences of it (recurrenceOverrides: one COUNTER with
 * RECURRENCE-ID each). */
static void attendee_counters(struct jset *s, json_t *old, json_t *now, const char *address)
{
    if (!old || !now || !address)
        return;
    json_t *patch = proposal_patch(old, now);
    bool whole = json_object_size(patch) > 0;
    json_decref(patch);
    if (whole || kind_of(now) != &event_kind) {
        if (whole)
            counter_send(s, now, address);
        return;
    }
    const char *id = json_string_value(json_object_get(now, "id"));
    json_t *oo = json_object_get(old, "recurrenceOverrides");
    const char *rid;
    json_t *v;
    json_object_foreach(json_object_get(now, "recurrenceOverrides"), rid, v)
    {
        if (json_equal(v, json_object_get(oo, rid) ? json_object_get(oo, rid) : json_null()) ||
            json_is_true(json_object_get(v, "excluded")))
            continue;
        json_t *a = event_instance(old, id, rid), *b = event_instance(now, id, rid);
        json_t *p = a && b ? proposal_patch(a, b) : NULL;
        if (json_object_size(p)) {
            static const char *const series[] = {"recurrenceRule", "recurrenceRules",
                                                 "excludedRecurrenceRules", "recurrenceOverrides",
                                                 NULL};
            for (const char *const *k = series; *k; k++)
                json_object_del(b, *k); /* one occurrence: RECURRENCE-ID, no rule */
            counter_send(s, b, address);
        }
        json_decref(p);
        json_decref(a);
        json_decref(b);
    }
}

/* REPLY (RFC 5546 §3.2.3) of the attendee's answer to the organizer's copy. */
static void attendee_replies(struct jset *s, json_t *old, json_t *now)
{
    struct store_conn *c = jset_conn(s);
    const char *mine = NULL, *was_pid = NULL;
    json_t *me = now ? me_in(c, now, jset_account(s), &mine) : NULL;
    json_t *was = old ? me_in(c, old, jset_account(s), &was_pid) : NULL;
    const char *address = address_of(me ? me : was);
    attendee_counters(s, old, now, address);
    const char *status = json_string_value(json_object_get(me, "participationStatus"));
    const char *before = json_string_value(json_object_get(was, "participationStatus"));
    if (!now && before && strcmp(before, "needs-action"))
        status = "declined"; /* §5.9.2.3: destroyed after answering */
    bool answered =
        status && strcmp(status, "needs-action") && !(before && !strcmp(status, before));
    /* tasks-06 §5.4: an assignee's progress is news for the organizer too */
    bool progressed =
        now && me && kind_of(now) == &task_kind &&
        !json_equal(json_object_get(me, "progress") ? json_object_get(me, "progress") : json_null(),
                    json_object_get(was, "progress") ? json_object_get(was, "progress")
                                                     : json_null());
    /* §3.2.2.3: more delegates with the same "delegated" are news too */
    json_t *fresh = now && address ? new_delegates(old, now, address) : NULL;
    bool delegated = json_object_size(fresh) > 0;
    json_decref(fresh);
    if (!answered && !progressed && !delegated)
        return;
    if (!answered && !delegated)
        status = NULL;
    json_t *ev = now ? now : old;
    char org[64];
    const char *org_addr = json_string_value(json_object_get(ev, "organizerCalendarAddress"));
    if (local_account(c, org_addr, org)) {
        reply_to(c, jset_req(s), ev, address, status, org, NULL);
    } else if (org_addr && address && imip_on(jset_req(s))) {
        /* RFC 5546 §3.2.3: the REPLY holds the organizer and the replying attendee (and
         * §3.2.2.3 the delegates) */
        json_t *copy = to_organizer(ev, address, org_addr, status);
        imip_queue(c, "REPLY", copy, address, org_addr);
        json_decref(copy);
    }
    if (answered && address)
        delegate_answers(s, ev, me ? me : was, address, status);
    if (delegated)
        forward_to_delegates(s, old, now, address);
}

void scheduling_finish(struct jset *s, bool all_ok)
{
    (void)all_ok;
    json_t *list = pending;
    pending = NULL;
    struct store_conn *c = jset_conn(s);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        json_t *old = json_object_get(v, "old"), *now = json_object_get(v, "new");
        old = json_is_null(old) ? NULL : old;
        now = json_is_null(now) ? NULL : now;
        /* only what was stored: the write of each change may still have failed */
        const char *id = json_string_value(json_object_get(now ? now : old, "id"));
        json_t *stored =
            id ? store_object_get(c, jset_account(s), kind_of(now ? now : old)->type->name, id)
               : NULL;
        bool done = now ? stored && json_equal(stored, now) : !stored;
        json_decref(stored);
        if (!done)
            continue;
        if (json_is_true(json_object_get(now ? now : old, "isOrigin")))
            organizer_sends(s, old, now);
        else
            attendee_replies(s, old, now);
    }
    json_decref(list);
}

/* ---- incoming iTIP (`jmapd deliver`, RFC 6047 iMIP) --------------------------------------- */

/* The participant of ev at address, or NULL. */
static json_t *participant_at(json_t *ev, const char *address)
{
    const char *pid;
    json_t *p;
    json_object_foreach(json_object_get(ev, "participants"), pid, p)
    {
        if (address_of(p) && !strcasecmp(address_of(p), address))
            return p;
    }
    return NULL;
}

/* RFC 5546 §3.2.2.3: "The "Delegator" of an event forwards the existing "REQUEST" to
 * the "Delegate". The "REQUEST" method MUST include an "ATTENDEE" property with the
 * calendar address of the "Delegate"." Whether the sender of ev is an attendee of it
 * whose delegatedTo names a participant of ev that is the user (account); where the
 * user already has a copy, the sender must be invited in it, by the same organizer
 * (a forward cannot take over an event someone else sent them). */
static bool forwarded_by_delegator(struct store_conn *c, const char *account, json_t *ev,
                                   const char *from)
{
    json_t *delegator = participant_at(ev, from);
    const char *to;
    json_t *v;
    char acct[64], id[64];
    bool to_me = false;
    json_object_foreach(json_object_get(delegator, "delegatedTo"), to, v)
    {
        to_me |= json_is_true(v) && participant_at(ev, to) && local_account(c, to, acct) &&
                 strcmp(acct, account) == 0;
    }
    if (!to_me)
        return false;
    json_t *old = copy_of(c, account, ev, id);
    const char *org = json_string_value(json_object_get(ev, "organizerCalendarAddress")),
               *had = json_string_value(json_object_get(old, "organizerCalendarAddress"));
    bool ok = !old || (participant_at(old, from) && org && had && !strcasecmp(org, had));
    json_decref(old);
    return ok;
}

/* REQUEST (§3.2.2) received: the user's copy is created or replaced. */
static int apply_request(struct store_conn *c, const char *account, json_t *ev, const char *from,
                         const char **why)
{
    const struct sched_kind *k = kind_of(ev);
    char id[64], cal[64];
    json_t *old = copy_of(c, account, ev, id);
    int rc = -1;
    if (old && json_is_true(json_object_get(old, "isOrigin")))
        *why = "the user organizes this event: a REQUEST for it cannot come from elsewhere";
    else if (old && json_integer_value(json_object_get(old, "sequence")) >
                        json_integer_value(json_object_get(ev, "sequence")))
        *why = "the message has an older SEQUENCE than the user's copy";
    else if (k->default_collection(c, account, cal) != 0)
        *why = "the user has no calendar or task list";
    else
        rc = 0;
    char *err = NULL;
    bool updated = false;
    if (rc == 0 && k->import_one(c, account, cal, ev, &updated, &err) != 0) {
        *why = "the event or task is not valid";
        rc = -1;
    }
    free(err);
    json_t *now = rc == 0 ? copy_of(c, account, ev, id) : NULL;
    if (now) {
        json_t *patch = old ? top_patch(old, now) : NULL;
        rc = k->notify(c, NULL, account, old ? "updated" : "created", id, old ? old : now, patch,
                       from);
        json_decref(patch);
    }
    json_decref(now);
    json_decref(old);
    return rc;
}

/* CANCEL (§3.2.5) received: the user's copy gets status cancelled. */
static int apply_cancel(struct store_conn *c, const char *account, json_t *ev, const char *from,
                        const char **why)
{
    const struct sched_kind *k = kind_of(ev);
    char id[64];
    json_t *old = copy_of(c, account, ev, id);
    const char *org =
        old ? json_string_value(json_object_get(old, "organizerCalendarAddress")) : NULL;
    int rc = -1;
    if (!old)
        *why = "the user has no event with this UID";
    else if (!org || strcasecmp(org, from))
        *why = "the sender is not the organizer of the user's copy";
    else if (json_integer_value(json_object_get(old, "sequence")) >
             json_integer_value(json_object_get(ev, "sequence")))
        *why = "the message has an older SEQUENCE than the user's copy";
    else
        rc = 0;
    if (rc == 0) {
        json_t *copy = json_deep_copy(old);
        json_object_set_new(copy, k->cancelled_prop, json_string("cancelled"));
        json_object_set(copy, "sequence", json_object_get(ev, "sequence"));
        if (!json_is_integer(json_object_get(copy, "sequence")))
            json_object_set(copy, "sequence", json_object_get(old, "sequence"));
        rc = deliver(c, NULL, account, id, old, copy, false, from);
        json_decref(copy);
    }
    json_decref(old);
    return rc;
}

/* REFRESH (RFC 5546 §3.2.6) received by the organizer: the latest version of the
 * event goes again, as a REQUEST, to the invited attendee who asked for it. */
static int apply_refresh(struct store_conn *c, const char *account, json_t *ev, const char *from,
                         const char **why)
{
    char id[64], acct[64];
    json_t *mine = copy_of(c, account, ev, id);
    int rc = -1;
    const char *org = json_string_value(json_object_get(mine, "organizerCalendarAddress"));
    if (!mine || !json_is_true(json_object_get(mine, "isOrigin")) || !org)
        *why = "the user organizes no event with this UID";
    else if (!participant_at(mine, from))
        *why = "the sender is not a participant of the event";
    else
        rc = 0;
    if (rc == 0 && local_account(c, from, acct)) {
        if (strcmp(acct, account))
            request_to(c, NULL, mine, from, acct);
    } else if (rc == 0) {
        json_t *copy = for_recipient(mine, from);
        rc = imip_queue(c, "REQUEST", copy, org, from);
        json_decref(copy);
        if (rc)
            *why = "the REQUEST could not be queued";
    }
    json_decref(mine);
    return rc;
}

int scheduling_apply(struct store_conn *c, const char *account, const char *method, json_t *ev,
                     const char *from, const char **why)
{
    const char *org = json_string_value(json_object_get(ev, "organizerCalendarAddress"));
    if (!method || !from || !json_is_string(json_object_get(ev, "uid")))
        return *why = "an iTIP message needs METHOD, a sender and a UID", -1;
    if (strcasecmp(method, "reply") == 0) {
        json_t *p = participant_at(ev, from);
        const char *status = json_string_value(json_object_get(p, "participationStatus"));
        /* a task's assignee may report progress alone (PARTSTAT COMPLETED is
         * participationStatus accepted with progress, jscalendar-icalendar-25 §2.3.4) */
        bool progress = kind_of(ev) == &task_kind && json_object_get(p, "progress");
        if (!p || (!status && !progress))
            return *why = "the sender answers for no participant of the event", -1;
        const char *by;
        json_t *v;
        char acct[64], id[64];
        json_t *mine = copy_of(c, account, ev, id);
        bool organizer = !mine || json_is_true(json_object_get(mine, "isOrigin"));
        json_decref(mine);
        /* §3.2.2.3: a delegate's REPLY "optionally to the Delegator", the user */
        json_object_foreach(organizer ? NULL : json_object_get(p, "delegatedFrom"), by, v)
        {
            if (local_account(c, by, acct) && strcmp(acct, account) == 0)
                return reply_to_delegator(c, NULL, ev, from, status, by, account, why);
        }
        return reply_to(c, NULL, ev, from, status, account, why);
    }
    if (strcasecmp(method, "refresh") == 0)
        return apply_refresh(c, account, ev, from, why);
    if (strcasecmp(method, "counter") == 0)
        return counter_to(c, NULL, ev, from, account, why);
    /* RFC 6047 §3: the sender of a REQUEST or CANCEL is the organizer; RFC 5546
     * §3.2.2.3: or, of a REQUEST, a delegator forwarding it to the user */
    if ((!org || strcasecmp(org, from)) && strcasecmp(method, "request") == 0 &&
        forwarded_by_delegator(c, account, ev, from))
        return apply_request(c, account, ev, from, why);
    if (!org || strcasecmp(org, from))
        return *why = strcasecmp(method, "request") == 0
                          ? "the sender is neither the event's organizer nor an attendee who "
                            "delegated to the user (DELEGATED-TO, RFC 5546 §3.2.2.3)"
                          : "the sender is not the event's organizer",
               -1;
    if (strcasecmp(method, "request") == 0)
        return apply_request(c, account, ev, from, why);
    if (strcasecmp(method, "cancel") == 0)
        return apply_cancel(c, account, ev, from, why);
    if (strcasecmp(method, "declinecounter") == 0)
        return apply_declinecounter(c, account, ev, from, why);
    return *why = "this iTIP method is not supported (REQUEST, CANCEL, REPLY, REFRESH, COUNTER "
                  "and DECLINECOUNTER are)",
           -1;
}
