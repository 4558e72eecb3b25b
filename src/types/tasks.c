/*
 * tasks.c — JMAP Tasks (draft-ietf-jmap-tasks-06) as a module: its capabilities,
 * its types (TaskList in task_list.c, Task in task.c and task_query.c), what a new
 * account gets (a default task list, role "inbox") and the time helpers the Task
 * files share. registry.c lists it.
 */
#include <string.h>

#include <libical/ical.h>

#include "formats/jscalendar/jscal_util.h"
#include "formats/recurrence/recur.h"
#include "formats/timezone/tz.h"
#include "jmap/engine.h"
#include "types/calendar_event.h"
#include "types/tasks.h"
#include "types/types.h"
#include "util/util.h"

int task_utc(const json_t *task, const char *local, const char *float_tz, int64_t *out)
{
    const char *ldt = json_string_value(json_object_get(task, local));
    if (!ldt)
        return -1;
    return event_local_to_utc(task, ldt, json_string_value(json_object_get(task, "timeZone")),
                              float_tz, out);
}

void task_utc_to_local(const json_t *task, int64_t utc, const char *tzid, char out[20])
{
    icaltimezone *owned = NULL, *z = NULL;
    int known = 0;
    if (tzid && strcmp(tzid, "Etc/UTC") && strcmp(tzid, "UTC"))
        z = recur_zone_lookup(task, tzid, &owned, &known);
    jscal_ldt t;
    jscal_secs_to_ldt(tz_utc_to_local(known ? z : NULL, utc), &t);
    jscal_ldt_format(&t, 0, out);
    if (owned)
        icaltimezone_free(owned, 1);
}

struct origin {
    const char *organizer;
    bool mine;
};

static int identity_cb(const char *id, json_t *obj, void *ud)
{
    struct origin *o = ud;
    const char *addr = json_string_value(json_object_get(obj, "calendarAddress"));
    if (addr && strcasecmp(addr, o->organizer) == 0)
        o->mine = true;
    return o->mine;
}

bool task_is_origin(struct store_conn *c, const char *account, const json_t *task)
{
    struct origin o = {json_string_value(json_object_get(task, "organizerCalendarAddress")), false};
    if (!o.organizer)
        return true;
    store_object_foreach(c, account, "ParticipantIdentity", identity_cb, &o);
    return o.mine;
}

/* tasks-06 §1.5.1: the account's values of urn:ietf:params:jmap:tasks */
static json_t *tasks_account_capability(const struct config *cfg, const struct store_access *a)
{
    return json_pack("{s:s, s:s, s:b}", "minDateTime", "0001-01-01T00:00:00", "maxDateTime",
                     "9999-12-31T23:59:59", "mayCreateTaskList", a->may_write && !a->shared);
}

static json_t *empty_object(const struct config *cfg, const struct store_access *a)
{
    return json_object();
}

/* What works is advertised (issue 16 §1): the core; recurrences (expansion, instance
 * ids); assignees (scheduling.c sends and applies REQUEST, CANCEL and REPLY for
 * tasks); and the alerts, multilingual and custom time zone properties, which are
 * stored and validated as JSCalendar 2.0 says. */
static const struct jcapability tasks_capability = {.uri = JMAP_TASKS,
                                                    .account_value = tasks_account_capability};
/* tasks-06 §1.5.2 */
static json_t *recurrences_value(const struct config *cfg, const struct store_access *a)
{
    return json_pack("{s:s}", "maxExpandedQueryDuration", "P400D");
}

static const struct jcapability tasks_recurrences = {.uri = JMAP_TASKS ":recurrences",
                                                     .account_value = recurrences_value};
/* tasks-06 §1.5.3: participants scheduled as calendars-27 §5.9.2 (scheduling.c) */
static json_t *assignees_value(const struct config *cfg, const struct store_access *a)
{
    return json_pack("{s:i}", "maxParticipantsPerTask", TYPES_MAX_PARTICIPANTS);
}

static const struct jcapability tasks_assignees = {.uri = JMAP_TASKS ":assignees",
                                                   .account_value = assignees_value};
static const struct jcapability tasks_alerts = {.uri = JMAP_TASKS ":alerts",
                                                .account_value = empty_object};
static const struct jcapability tasks_multilingual = {.uri = JMAP_TASKS ":multilingual",
                                                      .account_value = empty_object};
static const struct jcapability tasks_customtimezones = {.uri = JMAP_TASKS ":customtimezones",
                                                         .account_value = empty_object};

static const struct jcapability *const tasks_capabilities[] = {
    &tasks_capability,
    &tasks_recurrences,
    &tasks_assignees,
    &tasks_alerts,
    &tasks_multilingual,
    &tasks_customtimezones,
    NULL,
};

static const struct jtype *const tasks_types[] = {
    &task_list_type,
    &task_type,
    &task_notification_type,
    NULL,
};

/* tasks-06 §4 role "inbox": the principal's default task list. */
static int tasks_provision(struct store_conn *c, const struct jmap_owner *owner)
{
    char id[16];
    json_t *list = json_pack("{s:s, s:s}", "name", "Tasks", "role", "inbox");
    int rc = types_create_direct(c, &task_list_type, owner->account, list, id);
    json_decref(list);
    return rc;
}

static int any_cb(const char *id, json_t *obj, void *ud)
{
    *(bool *)ud = true;
    return 1;
}

/* An account older than tasks gets its default list too. */
static int tasks_backfill(struct store_conn *c, const struct jmap_owner *owner)
{
    bool any = false;
    store_object_foreach(c, owner->account, task_list_type.name, any_cb, &any);
    if (any)
        return STORE_OK;
    log_info("tasks: account %s of an older database got its default task list", owner->account);
    return tasks_provision(c, owner);
}

const struct jmodule tasks_module = {
    .name = "tasks",
    .capabilities = tasks_capabilities,
    .types = tasks_types,
    .register_methods = task_query_register,
    .provision = tasks_provision,
    .exporters = tasks_exporters,
    .backfill = tasks_backfill,
};
