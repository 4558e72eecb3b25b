/*
 * task.c — the Task type (draft-ietf-jmap-tasks-06 §5 "Tasks"): a JSCalendar 2.0
 * Task (jscalendarbis-17 §5.2) plus id, taskListId, isDraft, isOrigin, sortOrder,
 * workflowStatus, utcStart/utcDue and the draft's estimatedWork, impact, checklists
 * and comments (§5.2). This file has the descriptor, validation and the server-set
 * rules of /set, the /get view and the side index; /query's filters and sorts are in
 * task_query.c. Where the draft says TODO or defers to calendars, it follows
 * draft-ietf-jmap-calendars-27 §5 by analogy: docs/tasks.md lists each choice.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/jscalendar/jscal.h"
#include "formats/jscalendar/jscal_util.h"
#include "formats/recurrence/recur.h"
#include "jmap/engine.h"
#include "types/calendar_alert.h"
#include "types/calendar_event.h"
#include "types/instances.h"
#include "types/share.h"
#include "types/tasks.h"
#include "types/types.h"
#include "util/util.h"

#define MAX_PARTICIPANTS 1000

static const struct jprop task_props[] = {
    {"id", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"taskListId", JP_REQUIRED, NULL},
    {"isDraft", 0, "false"},
    {"isOrigin", JP_SERVER_SET, NULL},
    {"sortOrder", 0, "0"},
    {"workflowStatus", 0, "null"},
    {"@type", 0, "\"Task\""},
    {NULL, 0, NULL},
};

/* tasks-06 §5.4 assignees: scheduling as CalendarEvent/set's (calendars-27 §5.9.2) */
static const struct argspec task_set_args[] = {
    {"sendSchedulingMessages", ARG_BOOL, 0},
    {NULL, 0, 0},
};

static const struct argspec task_get_args[] = {
    {"timeZone", ARG_STRING, 0}, /* how floating utcStart/utcDue are read (§5 utcStart) */
    {NULL, 0, 0},
};

/* JMAP-only and draft-only properties: not part of the JSCalendar object the
 * validator sees (the draft's own ones are checked here). */
static const char *const not_jscal[] = {"id",          "taskListId",     "isDraft",
                                        "isOrigin",    "utcStart",       "utcDue",
                                        "sortOrder",   "workflowStatus", "baseTaskId",
                                        "estimatedWork", "impact",       "checklists",
                                        "comments",    NULL};
/* calendars-27 §5.4 by analogy (tasks-06 "Per-user properties"): changing only these
 * does not bump the sequence */
/* set by the server or by the container, not the per-user change mayUpdatePrivate allows */
static const char *const server_kept[] = {"taskListId", "isDraft",   "sequence",
                                          "isOrigin",   "sortOrder", NULL};
/* calendars-27 §5 by analogy: properties only the base task has, never an override */
static const char *const base_only[] = {"isDraft", "taskListId", "mayInviteSelf", "mayInviteOthers",
                                        "hideAttendees", "utcStart", "utcDue", "method", "id",
                                        "baseTaskId", "isOrigin", "sortOrder", NULL};
static const char *const instance_only[] = {"isOrigin", "utcStart", "utcDue", NULL};
const struct instance_kind task_instances = {&task_type, "baseTaskId", base_only, instance_only};
/* Event-only JSCalendar properties (jscalendarbis-17 §5.1): a Task has neither */
static const char *const event_only[] = {"duration", "status", NULL};

/* ---- the draft's own properties (tasks-06 §5.2) ------------------------------------------- */

static bool is_uint31(json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0 &&
           json_integer_value(v) < 2147483648LL;
}

/* Person (tasks-06 §5.2 checklists): @type "Person", principalId or uri. */
static bool person_ok(json_t *p)
{
    if (!json_is_object(p))
        return false;
    json_t *t = json_object_get(p, "@type"), *n = json_object_get(p, "name"),
           *u = json_object_get(p, "uri"), *pid = json_object_get(p, "principalId");
    if (!json_is_string(t) || strcmp(json_string_value(t), "Person"))
        return false;
    if ((n && !json_is_string(n)) || (u && !json_is_string(u)) || (pid && !json_is_string(pid)))
        return false;
    return u || pid;
}

static bool check_item_ok(json_t *it)
{
    json_t *t = json_object_get(it, "@type"), *title = json_object_get(it, "title"),
           *so = json_object_get(it, "sortOrder"), *up = json_object_get(it, "updated"),
           *done = json_object_get(it, "isComplete"), *who = json_object_get(it, "assignee");
    return json_is_object(it) && json_is_string(t) && !strcmp(json_string_value(t), "CheckItem") &&
           json_is_string(title) && (!so || is_uint31(so)) && (!up || types_is_utc_datetime(up)) &&
           (!done || json_is_boolean(done)) && (!who || person_ok(who));
}

static void check_checklists(struct jset *s, json_t *obj, json_t *invalid)
{
    json_t *map = json_object_get(obj, "checklists");
    if (!map || json_is_null(map))
        return;
    if (!json_is_object(map)) {
        jset_invalid(s, invalid, "checklists", "must be an Id[Checklist] (tasks-06 §5.2)");
        return;
    }
    const char *id;
    json_t *cl;
    json_object_foreach(map, id, cl)
    {
        json_t *t = json_object_get(cl, "@type"), *title = json_object_get(cl, "title"),
               *items = json_object_get(cl, "checkItems");
        bool ok = util_is_jmap_id(id) && json_is_object(cl) && json_is_string(t) &&
                  !strcmp(json_string_value(t), "Checklist") && (!title || json_is_string(title)) &&
                  (!items || json_is_array(items));
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) ok = ok && check_item_ok(it);
        if (!ok) {
            char *path = xasprintf("checklists/%s", id);
            jset_invalid(s, invalid, path,
                         "a Checklist: @type \"Checklist\", optional title, CheckItem[] with "
                         "@type, title, sortOrder, updated, isComplete, assignee (tasks-06 §5.2)");
            free(path);
        }
    }
}

static void check_comments(struct jset *s, json_t *obj, json_t *invalid)
{
    json_t *map = json_object_get(obj, "comments");
    if (!map || json_is_null(map))
        return;
    if (!json_is_object(map)) {
        jset_invalid(s, invalid, "comments", "must be an Id[Comment] (tasks-06 §5.2)");
        return;
    }
    const char *id;
    json_t *c;
    json_object_foreach(map, id, c)
    {
        json_t *t = json_object_get(c, "@type"), *msg = json_object_get(c, "message"),
               *cr = json_object_get(c, "created"), *up = json_object_get(c, "updated"),
               *au = json_object_get(c, "author");
        if (!util_is_jmap_id(id) || !json_is_object(c) || !json_is_string(t) ||
            strcmp(json_string_value(t), "Comment") || !json_is_string(msg) ||
            (cr && !types_is_utc_datetime(cr)) || (up && !types_is_utc_datetime(up)) ||
            (au && !person_ok(au))) {
            char *path = xasprintf("comments/%s", id);
            jset_invalid(s, invalid, path,
                         "a Comment: @type \"Comment\", message, optional created, updated "
                         "(UTCDateTime) and author (Person) (tasks-06 §5.2)");
            free(path);
        }
    }
}

/* The task list (creation references resolved): its workflowStatuses decide which
 * workflowStatus values are allowed (tasks-06 §4, §5.1). */
static json_t *check_task_list(struct jset *s, struct store_conn *c, const char *account,
                               json_t *obj, json_t *invalid)
{
    json_t *v = json_object_get(obj, "taskListId");
    const char *real = !json_is_string(v) ? NULL
                       : s                ? jmap_resolve_id(jset_req(s), json_string_value(v))
                                          : json_string_value(v);
    json_t *list = real ? store_object_get(c, account, task_list_type.name, real) : NULL;
    if (!list) {
        jset_invalid(s, invalid, "taskListId", "must be the id of a TaskList of the account");
        return NULL;
    }
    json_object_set_new(obj, "taskListId", json_string(real));
    return list;
}

static void check_workflow(struct jset *s, json_t *obj, json_t *list, json_t *invalid)
{
    json_t *wf = json_object_get(obj, "workflowStatus");
    if (json_is_null(wf))
        return;
    bool known = false;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(list, "workflowStatuses"), i, v) known |= json_equal(v, wf);
    if (!json_is_string(wf) || !known)
        jset_invalid(s, invalid, "workflowStatus",
                     "must be null or one of the task list's workflowStatuses (tasks-06 §5.1)");
    else if (json_object_get(obj, "progress") && !json_is_null(json_object_get(obj, "progress")))
        jset_invalid(s, invalid, "progress", "must be null when workflowStatus is set (tasks-06 §5.1)");
}

static void check_draft_props(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    json_t *draft = json_object_get(obj, "isDraft");
    if (!json_is_boolean(draft) ||
        (old && json_is_false(json_object_get(old, "isDraft")) && json_is_true(draft)))
        jset_invalid(s, invalid, "isDraft", "a Boolean that cannot become true again (tasks-06 §5.1)");
    if (!is_uint31(json_object_get(obj, "sortOrder")))
        jset_invalid(s, invalid, "sortOrder", "must be an UnsignedInt below 2^31 (tasks-06 §5.1)");
    json_t *v = json_object_get(obj, "estimatedWork");
    if (v && !json_is_null(v) && !(json_is_integer(v) && json_integer_value(v) >= 0))
        jset_invalid(s, invalid, "estimatedWork", "must be an UnsignedInt or null (tasks-06 §5.2)");
    v = json_object_get(obj, "impact");
    if (v && !json_is_null(v) && !json_is_string(v))
        jset_invalid(s, invalid, "impact", "must be a String or null (tasks-06 §5.2)");
    check_checklists(s, obj, invalid);
    check_comments(s, obj, invalid);
    for (const char *const *k = event_only; *k; k++)
        if (json_object_get(obj, *k))
            jset_invalid(s, invalid, *k, "an Event property: a Task has none (jscalendarbis-17 §5.2)");
    if (json_object_get(obj, "method"))
        jset_invalid(s, invalid, "method", "a task in a task list has no method (tasks-06 §5.4)");
    if (json_object_size(json_object_get(obj, "participants")) > MAX_PARTICIPANTS)
        jset_invalid(s, invalid, "participants", "more than %d participants", MAX_PARTICIPANTS);
    const char *rid;
    json_t *ov;
    json_object_foreach(json_object_get(obj, "recurrenceOverrides"), rid, ov)
    {
        const char *pk;
        json_t *pv;
        json_object_foreach(ov, pk, pv)
        {
            char top[64];
            snprintf(top, sizeof top, "%.*s", (int)strcspn(pk, "/"), pk);
            if (types_in_list(base_only, top)) {
                char *path = xasprintf("recurrenceOverrides/%s/%s", rid, pk);
                jset_invalid(s, invalid, path, "only the base task has it (calendars-27 §5)");
                free(path);
            }
        }
    }
}

/* Issue 19 §1 as for events: a series must be expandable within the limits every
 * query uses, else it is refused here with the reason. */
static void check_series(struct jset *s, json_t *obj, json_t *invalid)
{
    if (!instance_is_recurring(obj))
        return;
    int64_t first, last;
    int unbounded;
    char *err = NULL;
    recur_limits lim = {0, 0};
    if (recur_series_bounds(obj, "Etc/UTC", &lim, &first, &last, &unbounded, &err) ==
        RECUR_ERR_LIMIT)
        jset_invalid(s, invalid, "recurrenceRule", "%s", err ? err : "cannot be expanded");
    free(err);
}

/* ---- utcStart / utcDue on /set (calendars-27 §5.9 by analogy) ------------------------- */

static void apply_utc_time(struct jset *s, json_t *obj, json_t *list, const char *utc_name,
                           const char *local_name, json_t *invalid)
{
    json_t *u = json_object_get(obj, utc_name);
    if (!u)
        return;
    int64_t t;
    if (!json_is_string(u) || util_utc_parse(json_string_value(u), &t)) {
        jset_invalid(s, invalid, utc_name, "must be a UTCDate");
        return;
    }
    if (!json_is_string(json_object_get(obj, "timeZone"))) {
        const char *tz = json_string_value(json_object_get(list, "timeZone"));
        json_object_set_new(obj, "timeZone", json_string(tz ? tz : "Etc/UTC"));
    }
    char ldt[20];
    task_utc_to_local(obj, t, json_string_value(json_object_get(obj, "timeZone")), ldt);
    json_object_set_new(obj, local_name, json_string(ldt));
    json_object_del(obj, utc_name);
}

/* ---- the whole check ---------------------------------------------------------------------- */

static void check_jscalendar(struct jset *s, json_t *obj, json_t *invalid)
{
    json_t *js = json_copy(obj);
    for (const char *const *k = not_jscal; *k; k++)
        json_object_del(js, *k);
    json_t *bad = NULL, *why = NULL;
    /* imports (no /set) take what real-world producers write, as events do */
    int flags = JSCAL_ALLOW_MISSING_SERVER_SET | (s ? 0 : JSCAL_RELAXED);
    if (jscal_validate_why(js, flags, NULL, &bad, &why) != 0) {
        size_t i;
        json_t *v;
        json_array_foreach(bad, i, v) /* the validator's reason (issue 12 §1.8) */
            jset_invalid(s, invalid, json_string_value(v), "%s",
                         json_string_value(json_array_get(why, i)));
    }
    json_decref(bad);
    json_decref(why);
    json_decref(js);
}

/* ical-tasks-17 §5.3 TASK-MODE, as JSCalendar keeps it (the Task's iCalendar
 * property, jscalendar-icalendar-25 §2.4): the mode, "CLIENT" when absent. */
const char *task_mode(const json_t *task)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(json_object_get(task, "iCalendar"), "properties"), i, p)
    {
        const char *name = json_string_value(json_array_get(p, 0));
        const char *value = json_string_value(json_array_get(p, 3));
        if (name && value && strcasecmp(name, "task-mode") == 0)
            return value;
    }
    return "CLIENT";
}

/* The attendees of a task (ical-tasks-17: those whose PARTSTAT counts): participants
 * that are attendees or assignees (no roles: an attendee, jscalendarbis-17 §4.4.6). */
static bool is_attendee(json_t *p)
{
    json_t *roles = json_object_get(p, "roles");
    return !roles || json_is_true(json_object_get(roles, "attendee")) ||
           json_is_true(json_object_get(roles, "assignee"));
}

/* ical-tasks-17 §5.3 on the organizer's copy: AUTOMATIC-COMPLETION completes the task
 * when every attendee has completed; AUTOMATIC-FAILURE fails it when one has failed;
 * AUTOMATIC does both; so does SERVER, whose "implementation defined business rules"
 * are these (docs/tasks.md). The failure at the due time: task_due.c. */
const char *const task_modes[] = {
    "AUTOMATIC-COMPLETION", "AUTOMATIC-FAILURE", "AUTOMATIC", "CLIENT", "SERVER", NULL};

bool task_mode_supported(const json_t *task)
{
    const char *mode = task_mode(task);
    for (const char *const *m = task_modes; *m; m++)
        if (strcasecmp(mode, *m) == 0)
            return true;
    return false;
}

bool task_mode_completes(const json_t *task)
{
    const char *mode = task_mode(task);
    return !strcasecmp(mode, "AUTOMATIC-COMPLETION") || !strcasecmp(mode, "AUTOMATIC") ||
           !strcasecmp(mode, "SERVER");
}

bool task_mode_fails(const json_t *task)
{
    const char *mode = task_mode(task);
    return !strcasecmp(mode, "AUTOMATIC-FAILURE") || !strcasecmp(mode, "AUTOMATIC") ||
           !strcasecmp(mode, "SERVER");
}

void task_apply_mode(json_t *task)
{
    bool complete = task_mode_completes(task), fail = task_mode_fails(task);
    if (!complete && !fail)
        return;
    size_t attendees = 0, completed = 0, failed = 0;
    const char *k;
    json_t *p;
    json_object_foreach(json_object_get(task, "participants"), k, p)
    {
        if (!is_attendee(p))
            continue;
        const char *progress = json_string_value(json_object_get(p, "progress"));
        attendees++;
        completed += progress && strcmp(progress, "completed") == 0;
        failed += progress && strcmp(progress, "failed") == 0;
    }
    const char *now = fail && failed                                    ? "failed"
                      : complete && attendees && completed == attendees ? "completed"
                                                                        : NULL;
    if (!now)
        return;
    const char *was = json_string_value(json_object_get(task, "progress"));
    if (!was || strcmp(was, now))
        task_record_status(task, now, util_now());
    json_object_set_new(task, "progress", json_string(now));
    json_object_del(task, "workflowStatus"); /* tasks-06 §5.1: progress or workflowStatus */
    json_object_set_new(task, "workflowStatus", json_null());
}

void task_record_status(json_t *task, const char *progress, int64_t when)
{
    json_t *ical = json_object_get(task, "iCalendar");
    if (!json_is_object(ical)) {
        ical = json_pack("{s:s, s:s}", "@type", "ICalComponent", "name", "vtodo");
        json_object_set_new(task, "iCalendar", ical);
    }
    json_t *comps = json_object_get(ical, "components");
    if (!json_is_array(comps)) {
        comps = json_array();
        json_object_set_new(ical, "components", comps);
    }
    char status[32], ts[21];
    size_t i = 0;
    for (; progress[i] && i < sizeof status - 1; i++)
        status[i] = (char)toupper((unsigned char)progress[i]);
    status[i] = 0;
    util_utc_format(when, ts);
    json_array_append_new(comps, json_pack("[s, [[s, {}, s, s], [s, {}, s, s]], []]", "vstatus",
                                           "status", "text", status, "dtstamp", "date-time", ts));
}

/* The server-set properties (calendars-27 §5.9 by analogy): uid, created, updated,
 * sequence and isOrigin. */
static void complete_task(struct store_conn *c, const char *account, json_t *obj, json_t *old)
{
    if (!json_object_get(obj, "uid")) {
        char uuid[37];
        util_uuid4(uuid);
        json_object_set_new(obj, "uid", json_string(uuid));
    }
    bool origin = task_is_origin(c, account, obj);
    json_object_set_new(obj, "isOrigin", json_boolean(origin));
    if (origin)
        task_apply_mode(obj);
    char now[21];
    util_utc_format(util_now(), now);
    if (!old && !json_object_get(obj, "created"))
        json_object_set_new(obj, "created", json_string(now));
    if (old && json_equal(obj, old))
        return;
    /* calendars-27 §5.9 by analogy: the organizer's copy counts changes (an assignee's
     * answers on theirs would otherwise outrun the organizer's sequence) */
    if (origin && old && types_changed_beyond(obj, old, types_per_user, server_kept) &&
        !share_only_per_user(SHARE_TASK_LIST, obj, old)) {
        json_int_t seq = json_integer_value(json_object_get(old, "sequence"));
        json_t *given = json_object_get(obj, "sequence");
        if (!json_is_integer(given) || json_integer_value(given) <= seq)
            json_object_set_new(obj, "sequence", json_integer(seq + 1));
    }
    json_object_set_new(obj, "updated", json_string(now));
}

/* Validates and completes one task; shared by /set, /copy (s set) and import (s NULL). */
static void check_task(struct jset *s, struct store_conn *c, const char *account, json_t *obj,
                       json_t *old, json_t *invalid)
{
    /* RFC 8984 spellings ("jstask", one-element recurrenceRules...) become 2.0 or are invalid */
    json_t *legacy = json_array();
    jscal_upgrade(obj, legacy);
    size_t li;
    json_t *lv;
    json_array_foreach(legacy, li, lv) jset_invalid(s, invalid, json_string_value(lv), "%s",
                                                    jscal_upgrade_reason(json_string_value(lv)));
    json_decref(legacy);
    json_object_set_new(obj, "version", json_string("2.0")); /* jscalendarbis-17 §4.1 */
    json_t *type = json_object_get(obj, "@type");
    if (!json_is_string(type) || strcmp(json_string_value(type), "Task") != 0)
        jset_invalid(s, invalid, "@type", "must be \"Task\" (tasks-06 §5)");
    if (!types_participants_within(obj, TYPES_MAX_PARTICIPANTS)) /* tasks-06 §1.5.3 */
        jset_invalid(s, invalid, "participants", "more than maxParticipantsPerTask (%d)",
                     TYPES_MAX_PARTICIPANTS);
    json_t *list = check_task_list(s, c, account, obj, invalid);
    check_draft_props(s, obj, old, invalid);
    if (list) {
        check_workflow(s, obj, list, invalid);
        apply_utc_time(s, obj, list, "utcStart", "start", invalid);
        apply_utc_time(s, obj, list, "utcDue", "due", invalid);
    }
    json_decref(list);
    if (json_array_size(invalid))
        return;
    complete_task(c, account, obj, old);
    check_jscalendar(s, obj, invalid);
    if (!json_array_size(invalid))
        check_series(s, obj, invalid);
    if (old && !json_equal(json_object_get(old, "uid"), json_object_get(obj, "uid")))
        jset_invalid(s, invalid, "uid", "the uid of a task never changes");
}

/* RFC 5545 §3.6.2: a VTODO has a DUE, or a DTSTART with a DURATION; the conversion
 * (jscalendar-icalendar-25 §2.3.18) makes the latter a `duration`, which a JSCalendar
 * 2.0 Task does not have (jscalendarbis-17 §5.2). What the task is due by is then its
 * effective due (ical-tasks-17 §5.3: "the combination of the DTSTART and DURATION"):
 * start plus the duration (days on the calendar, then hours in absolute time,
 * jscalendarbis-17 §1.4.6), as `due`. */
void task_duration_to_due(json_t *task)
{
    const char *dur = json_string_value(json_object_get(task, "duration"));
    const char *start = json_string_value(json_object_get(task, "start"));
    jscal_ldt s;
    jscal_dur d;
    if (!dur || !start || json_object_get(task, "due") || jscal_ldt_parse(start, &s) ||
        jscal_dur_parse(dur, 0, &d))
        return;
    jscal_ldt day;
    jscal_secs_to_ldt(jscal_ldt_to_secs(&s) + (d.weeks * 7 + d.days) * 86400, &day);
    char buf[32];
    jscal_ldt_format(&day, 0, buf);
    int64_t utc;
    const char *tz = json_string_value(json_object_get(task, "timeZone"));
    if (event_local_to_utc(task, buf, tz, "Etc/UTC", &utc) != 0)
        return;
    utc += d.hours * 3600 + d.minutes * 60 + d.seconds;
    char due[20];
    task_utc_to_local(task, utc, tz ? tz : "Etc/UTC", due);
    json_object_set_new(task, "due", json_string(due));
    json_object_del(task, "duration");
}

static void import_check(struct store_conn *c, const char *account, json_t *obj, json_t *old,
                         json_t *invalid)
{
    check_task(NULL, c, account, obj, old, invalid);
}

static const struct types_import task_import = {&task_type, "task", import_check};

int task_import_one(struct store_conn *c, const char *account, const char *list_id, json_t *task,
                    bool *updated, char **err)
{
    json_t *obj = json_deep_copy(task);
    task_duration_to_due(obj);
    json_object_set_new(obj, "taskListId", json_string(list_id));
    json_object_del(obj, "method");
    jtype_fill_defaults(&task_type, obj);
    return types_import_object(c, account, &task_import, obj, updated, err);
}

static json_t *task_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    json_t *denied = share_member_check(s, SHARE_TASK_LIST, obj, old); /* tasks-06 §4 */
    if (denied)
        return denied;
    check_task(s, jset_conn(s), jset_account(s), obj, old, invalid);
    if (json_array_size(invalid))
        return NULL;
    json_t *err = scheduling_check(s, obj, old); /* §5.4 assignees: REQUEST, REPLY */
    if (!err && old && !share_filtered(jset_access(s))) /* §5.4: the owner's `updated` */
        share_owner_updated(jset_conn(s), SHARE_TASK_LIST, jset_account(s), obj, old);
    /* a sharee's change of their own per-user values alone is nobody else's */
    if (!err && !(old && json_equal(obj, old)))
        task_notify(s, json_string_value(json_object_get(obj, "id")), old, obj);
    return err;
}

static json_t *task_destroy(struct jset *s, const char *id, json_t *old)
{
    json_t *denied = share_member_check(s, SHARE_TASK_LIST, NULL, old); /* tasks-06 §4 */
    if (denied)
        return denied;
    json_t *err = scheduling_check(s, NULL, old); /* CANCEL, or REPLY declined */
    if (!err)
        task_notify(s, id, old, NULL);
    return err;
}

/* The /set's end: the notifications of changes by others, the scheduling messages. */
static void task_finish(struct jset *s, bool all_ok)
{
    task_notify_flush(s, all_ok);
    scheduling_finish(s, all_ok);
}

/* ---- the side index: the time range and the text fields for /query -------------------- */

static void gather_text(json_t *obj, struct buf f[STORE_TEXT_FIELDS])
{
    types_add_text(&f[TASK_TEXT_TITLE], json_object_get(obj, "title"));
    types_add_text(&f[TASK_TEXT_DESCRIPTION], json_object_get(obj, "description"));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(obj, "locations"), k, v)
    {
        types_add_text(&f[TASK_TEXT_LOCATION], json_object_get(v, "name"));
        types_add_text(&f[TASK_TEXT_LOCATION], json_object_get(v, "description"));
    }
    /* the same text as task_query.c matches, field by field */
    json_object_foreach(json_object_get(obj, "participants"), k, v)
    {
        json_t *roles = json_object_get(v, "roles");
        bool owner = json_is_true(json_object_get(roles, "owner")) ||
                     json_is_true(json_object_get(roles, "chair"));
        int field = owner ? TASK_TEXT_OWNER : TASK_TEXT_ASSIGNEE;
        types_add_text(&f[field], json_object_get(v, "name"));
        types_add_text(&f[field], json_object_get(v, "email"));
        types_add_text(&f[field], json_object_get(v, "calendarAddress"));
    }
    static const char *const sets[] = {"keywords", "categories"};
    for (int i = 0; i < 2; i++)
        json_object_foreach(json_object_get(obj, sets[i]), k, v)
        {
            if (f[TASK_TEXT_BODY].len)
                buf_puts(&f[TASK_TEXT_BODY], " ");
            buf_puts(&f[TASK_TEXT_BODY], k);
        }
    json_object_foreach(json_object_get(obj, "checklists"), k, v)
    {
        types_add_text(&f[TASK_TEXT_BODY], json_object_get(v, "title"));
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(v, "checkItems"), i, it)
            types_add_text(&f[TASK_TEXT_BODY], json_object_get(it, "title"));
    }
    json_object_foreach(json_object_get(obj, "comments"), k, v)
        types_add_text(&f[TASK_TEXT_BODY], json_object_get(v, "message"));
}

static int task_index(struct store_conn *c, const char *account, const char *id, json_t *obj)
{
    task_due_changed(c, account, id, obj);            /* ical-tasks-17 §5.3 at the due time */
    calendar_alert_task_changed(c, account, id, obj); /* its alerts' schedule */
    if (!obj)
        return store_index_del(c, account, task_type.name, id);
    struct store_index ix = {.uid = json_string_value(json_object_get(obj, "uid"))};
    int64_t start, due;
    /* floating tasks are indexed in UTC, widened by a day either side (as events); a
     * series by the bounds of all its occurrences */
    bool has_start = task_utc(obj, "start", "Etc/UTC", &start) == 0,
         has_due = task_utc(obj, "due", "Etc/UTC", &due) == 0;
    int64_t pad = json_is_string(json_object_get(obj, "timeZone")) ? 0 : 86400;
    if (has_start || has_due) {
        ix.has_range = true;
        ix.start = (has_start ? start : due) - pad;
        ix.end = (has_due ? due : start) + pad;
    }
    if (ix.has_range && instance_is_recurring(obj)) {
        int64_t first, last;
        int unbounded = 0;
        char *err = NULL;
        recur_limits lim = {0, 0};
        if (recur_series_bounds(obj, "Etc/UTC", &lim, &first, &last, &unbounded, &err) ==
            RECUR_OK) {
            ix.start = (first < ix.start ? first : ix.start) - pad;
            ix.end = unbounded ? ix.end : (last > ix.end ? last : ix.end) + pad;
            ix.unbounded = unbounded != 0;
        } else {
            ix.unbounded = true; /* kept as a candidate of every range */
        }
        free(err);
    }
    struct buf f[STORE_TEXT_FIELDS] = {{0}};
    gather_text(obj, f);
    for (int i = 0; i < STORE_TEXT_FIELDS; i++)
        ix.text[i] = f[i].data;
    int rc = store_index_put(c, account, task_type.name, id, &ix);
    for (int i = 0; i < STORE_TEXT_FIELDS; i++)
        buf_free(&f[i]);
    return rc;
}

/* ---- /get ------------------------------------------------------------------------------------ */

static int task_get_prepare(struct jmap_req *r, json_t *args)
{
    json_t *tz = json_object_get(args, "timeZone");
    if (tz && !types_is_time_zone(json_string_value(tz)) &&
        strcmp(json_string_value(tz), "Etc/UTC")) {
        jmap_error(r, "invalidArguments", "timeZone: not a time zone id of the server");
        return -1;
    }
    return 0;
}

/* tasks-06 §5.1: utcStart/utcDue only when asked for; everything but iCalendar
 * otherwise (calendars-27 §5.7 by analogy). */
static json_t *task_view(struct jmap_req *r, const struct store_access *a, json_t *obj,
                         json_t *props, json_t *args)
{
    if (!share_member_visible(r, a, SHARE_TASK_LIST, obj))
        return NULL; /* a sharee's unreadable lists, secret tasks (calendars-27 §5.7) */
    json_t *mine = NULL;
    if (share_filtered(a)) { /* per-user properties, private tasks reduced */
        mine = json_deep_copy(obj);
        share_member_view(r, a, SHARE_TASK_LIST, mine);
        obj = mine;
    }
    const char *float_tz = json_string_value(json_object_get(args, "timeZone"));
    if (!props) {
        json_t *out = json_deep_copy(obj);
        json_object_del(out, "iCalendar");
        json_decref(mine);
        return out;
    }
    json_t *sel = json_object();
    json_object_set(sel, "id", json_object_get(obj, "id"));
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p)
    {
        const char *name = json_string_value(p);
        int64_t t;
        if (strcmp(name, "utcStart") == 0 || strcmp(name, "utcDue") == 0) {
            const char *local = strcmp(name, "utcStart") == 0 ? "start" : "due";
            if (task_utc(obj, local, float_tz ? float_tz : "Etc/UTC", &t) == 0) {
                char ts[21];
                util_utc_format(t, ts);
                json_object_set_new(sel, name, json_string(ts));
            } else {
                json_object_set_new(sel, name, json_null());
            }
        } else if (json_object_get(obj, "baseTaskId") && (strcmp(name, "recurrenceRule") == 0 ||
                                                          strcmp(name, "recurrenceOverrides") == 0)) {
            json_object_set_new(sel, name, json_null()); /* calendars-27 §5.7: an instance */
        } else if (json_object_get(obj, name)) {
            json_object_set(sel, name, json_object_get(obj, name));
        } else if (strcmp(name, "baseTaskId") == 0) {
            json_object_set_new(sel, name, json_null()); /* §5.3: only for instances */
        }
    }
    json_decref(mine);
    return sel;
}

static json_t *task_load_synthetic(struct jmap_req *r, const char *account, const char *id)
{
    return instance_load(&task_instances, r, account, id);
}

static json_t *task_synthetic_update(struct jset *s, const char *id, json_t *patch,
                                     char **base_id, json_t **base_patch)
{
    return instance_update(&task_instances, s, id, patch, base_id, base_patch);
}

const struct jtype task_type = {
    .metadata = true, /* draft-ietf-jmap-metadata-02 (issue 18) */
    .name = "Task",
    .capability = JMAP_TASKS,
    .props = task_props,
    .methods = JM_GET | JM_SET | JM_CHANGES | JM_COPY, /* /query, /queryChanges: task_query.c */
    .id_prefix = 't',
    .get_args = task_get_args,
    .open_props = true,
    .validate = task_validate,
    .destroy = task_destroy,
    .finish = task_finish,
    .set_args = task_set_args,
    .get_prepare = task_get_prepare,
    .view = task_view,
    .visible = share_task_visible_id,
    .may_write = share_task_may_write,
    .index = task_index,
    .unique_key = types_uid_key,
    .filter = task_filter_condition,
    .compare = task_compare,
    .load_synthetic = task_load_synthetic,
    .synthetic_update = task_synthetic_update,
};
