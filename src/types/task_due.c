/*
 * task_due.c — ical-tasks-17 §5.3 TASK-MODE at the due time: on the organizer's copy
 * of a task whose mode is AUTOMATIC-FAILURE or AUTOMATIC, the task fails when its due
 * time passes while it is not done. The time is the alert scheduler's
 * (calendar_alert_now: the real time, or the test clock in test mode).
 *
 * The store's alert schedule (store.h) holds one row per such task, type "Task#due",
 * user 0, next_check its due time: task_due_changed keeps it in step from Task's index
 * hook, in the writer's transaction; the scheduler thread (calendar_alert_run.c) hands
 * a row that comes due to task_due_fire, in its own transaction, which claims it (so
 * one front end acts) and writes the failed task.
 */
#include <string.h>
#include <strings.h>

#include "jmap/engine.h"
#include "types/calendar_alert.h"
#include "types/tasks.h"
#include "types/types.h"
#include "util/util.h"

/* Whether the task fails by itself at its due time: the organizer's copy, a mode that
 * fails, a due time, and not finished (jscalendarbis §5.2.5 progress). */
static bool fails_when_due(const json_t *task, int64_t *due)
{
    if (!json_is_true(json_object_get(task, "isOrigin")))
        return false;
    if (!task_mode_fails(task)) /* AUTOMATIC-FAILURE, AUTOMATIC, SERVER */
        return false;
    const char *progress = json_string_value(json_object_get(task, "progress"));
    if (progress && (!strcmp(progress, "completed") || !strcmp(progress, "failed") ||
                     !strcmp(progress, "cancelled")))
        return false;
    /* a floating due time is read in UTC, as the index reads it */
    return task_utc(task, "due", "Etc/UTC", due) == 0;
}

void task_due_changed(struct store_conn *c, const char *account, const char *id, json_t *obj)
{
    int64_t due;
    struct store_alert a = {.user_id = 0};
    snprintf(a.account, sizeof a.account, "%s", account);
    snprintf(a.type, sizeof a.type, "%s", TASK_DUE_TYPE);
    snprintf(a.object_id, sizeof a.object_id, "%s", id);
    if (!obj || !fails_when_due(obj, &due)) {
        /* most tasks never had a row: a lookup, not a delete, on every write */
        if (store_alert_get(c, &a) == STORE_OK)
            store_alert_del(c, account, TASK_DUE_TYPE, id);
        return;
    }
    a.next_check = due;
    a.fired_until = 0;
    store_alert_put(c, &a);
}

int task_due_fire(struct store_conn *c, const struct store_alert *row, int64_t now,
                  json_t *changed)
{
    if (store_alert_claim(c, row, -1, now) != STORE_OK)
        return 0; /* another front end took it */
    json_t *task = store_object_get(c, row->account, task_type.name, row->object_id);
    int64_t due;
    int rc = 0;
    if (task && fails_when_due(task, &due)) {
        if (due > now) { /* not yet: the row follows the task (a write moved it) */
            task_due_changed(c, row->account, row->object_id, task);
        } else {
            char ts[21];
            util_utc_format(now, ts);
            json_object_set_new(task, "progress", json_string("failed"));
            task_record_status(task, "failed", now); /* ical-tasks-17: a VSTATUS with it */
            json_object_set_new(task, "progressUpdated", json_string(ts));
            json_object_set_new(task, "workflowStatus", json_null()); /* tasks-06 §5.1 */
            json_object_set_new(task, "updated", json_string(ts));
            json_object_set_new(task, "sequence",
                                json_integer(json_integer_value(json_object_get(task, "sequence")) +
                                             1));
            rc = jmap_object_write(c, NULL, &task_type, row->account, row->object_id, task, false);
            if (rc == 0) {
                json_t *acct = json_object_get(changed, row->account);
                if (!acct)
                    json_object_set_new(changed, row->account, acct = json_object());
                json_object_set_new(
                    acct, task_type.name,
                    jmap_state_string(store_state_get(c, row->account, task_type.name)));
                log_info("tasks: %s failed at its due time (TASK-MODE)", row->object_id);
            }
        }
    }
    json_decref(task);
    return rc;
}
