/*
 * tasks.h — what the Task files share (tasks.c: the module and time helpers;
 * task_list.c: TaskList; task.c: Task; task_query.c: Task/query's filters and
 * sorts). draft-ietf-jmap-tasks-06; docs/tasks.md records where it is silent.
 */
#ifndef JMAPD_TASKS_H
#define JMAPD_TASKS_H

#include <stdbool.h>
#include <stdint.h>

#include "jmap/engine.h"

extern const struct jtype task_list_type;
extern const struct jtype task_type;

/* The text fields Task declares to the store's full-text index. */
enum {
    TASK_TEXT_TITLE,
    TASK_TEXT_DESCRIPTION,
    TASK_TEXT_LOCATION,
    TASK_TEXT_OWNER,
    TASK_TEXT_ASSIGNEE,
    TASK_TEXT_BODY, /* keywords, categories, checklists, comments */
    TASK_TEXT_FIELDS
};

/* The UTC time of the task's LocalDateTime property local ("start" or "due") in its
 * timeZone (floating: float_tz). 0, or -1 if the task has none. */
int task_utc(const json_t *task, const char *local, const char *float_tz, int64_t *out);
/* UTC seconds as a LocalDateTime of zone tzid (time zones the task carries included). */
void task_utc_to_local(const json_t *task, int64_t utc, const char *tzid, char out[20]);
/* tasks-06 §5.4 isOrigin: no organizer, or one of the account's ParticipantIdentity
 * addresses is the organizer (JSCalendar 2.0's organizerCalendarAddress replaces
 * RFC 8984's replyTo). */
bool task_is_origin(struct store_conn *c, const char *account, const json_t *task);

/* The account's default task list (role "inbox"; else the first), id into out[64];
 * -1 if it has none. */
int task_default_list(struct store_conn *c, const char *account, char out[64]);
/* Creates (or, with the same uid and recurrenceId, replaces) a task imported from
 * iCalendar in list_id, through the type's validation in relaxed mode. Returns 0
 * (*updated set when it replaced one), or -1 with *err. */
int task_import_one(struct store_conn *c, const char *account, const char *list_id, json_t *task,
                    bool *updated, char **err);
/* The "tasklist" exporter (task_io.c): GET /export/tasklist/..., `jmapd export --tasklist`. */
extern const struct jexporter tasks_exporters[];

/* Task/query (task_query.c): the type's filter and compare hooks. */
int task_filter_condition(struct jmap_req *r, json_t *obj, const char *key, json_t *v);
int task_compare(json_t *a, json_t *b, const char *property, bool *ok);
extern const struct jtype task_notification_type;
/* TaskNotification (task_notification.c): notes a change of task id in the /set in
 * progress (before NULL: created; after NULL: destroyed), when the user is not the
 * account's owner; the /set's finish records one notification per stored change. */
void task_notify(struct jset *s, const char *id, json_t *before, json_t *after);
/* Records a TaskNotification (type "created", "updated" or "destroyed") in account,
 * changed by the principal at from_address or else the request's user (scheduling.c,
 * as calendar_event_notification_add). STORE_OK or STORE_ERR. */
int task_notification_add(struct store_conn *c, struct jmap_req *r, const char *account,
                          const char *type, const char *task_id, json_t *task, json_t *patch,
                          const char *from_address);
int task_notification_add_ex(struct store_conn *c, struct jmap_req *r, const char *account,
                             const char *type, const char *task_id, json_t *task, json_t *patch,
                             const char *from_address, json_t *extra);
/* ical-tasks-17 §5.3 TASK-MODE on the organizer's copy (task.c). */
void task_apply_mode(json_t *task);
/* ical-tasks-17 §4 "Updating the overall status": a VSTATUS component (STATUS, DTSTAMP)
 * recording that the server set progress at when, in the task's iCalendar property. */
void task_record_status(json_t *task, const char *progress, int64_t when);
/* The task's TASK-MODE as its iCalendar property keeps it; "CLIENT" when absent. */
const char *task_mode(const json_t *task);
/* Whether the server implements the task's TASK-MODE (ical-tasks-17 §5.3: the five
 * values; CALDAV:supported-task-mode-set, §8), and whether it completes the task when
 * every attendee has, or fails it when one has or its due time passes (AUTOMATIC-*,
 * AUTOMATIC, and SERVER, whose business rules are these). */
extern const char *const task_modes[]; /* NULL-terminated */
bool task_mode_supported(const json_t *task);
bool task_mode_completes(const json_t *task);
bool task_mode_fails(const json_t *task);
/* A task converted from a VTODO with DTSTART and DURATION (RFC 5545 §3.6.2): its
 * effective due (ical-tasks-17 §5.3) as `due`, and no `duration` (jscalendarbis-17
 * §5.2 has none for a Task). Unchanged otherwise. */
void task_duration_to_due(json_t *task);

/* TASK-MODE at the due time (task_due.c): the alert schedule's rows of this type. */
#define TASK_DUE_TYPE "Task#due"
struct store_alert;
/* Task's index hook: keeps the task's row (obj NULL: destroyed). */
void task_due_changed(struct store_conn *c, const char *account, const char *id, json_t *obj);
/* The scheduler: a row came due at now; the failed task's state goes into changed
 * (account -> {type: state}). 0, or -1 if the task could not be written. */
int task_due_fire(struct store_conn *c, const struct store_alert *row, int64_t now,
                  json_t *changed);
void task_notify_flush(struct jset *s, bool all_ok);

/* Registers Task/query and Task/queryChanges (task_query.c: narrowed by the store's
 * indexes, expandRecurrences). */
void task_query_register(void);
/* How Task instances are built and updated (instances.h; task.c). */
struct instance_kind;
extern const struct instance_kind task_instances;

#endif
