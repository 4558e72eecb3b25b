/*
 * task_io.c — task lists as iCalendar files: the "tasklist" exporter (`jmapd export
 * --tasklist ID`, GET /export/tasklist/{accountId}/{id}) writes one VCALENDAR of
 * VTODOs (draft-ietf-calext-jscalendar-icalendar-25 §3), and the default task list
 * that `jmapd import` puts the VTODOs of an .ics file into (calendar_io.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/tasks.h"
#include "types/types.h"
#include "util/util.h"

struct default_list {
    char *out;
    bool inbox;
};

static int find_default(const char *id, json_t *obj, void *ud)
{
    struct default_list *d = ud;
    const char *role = json_string_value(json_object_get(obj, "role"));
    bool inbox = role && strcmp(role, "inbox") == 0;
    if (!d->out[0] || (inbox && !d->inbox)) {
        snprintf(d->out, 64, "%s", id);
        d->inbox = inbox;
    }
    return 0;
}

int task_default_list(struct store_conn *c, const char *account, char out[64])
{
    out[0] = 0;
    struct default_list d = {out, false};
    store_object_foreach(c, account, task_list_type.name, find_default, &d);
    return out[0] ? 0 : -1;
}

static bool in_list(json_t *task, const char *list)
{
    const char *id = json_string_value(json_object_get(task, "taskListId"));
    return id && strcmp(id, list) == 0;
}

static int export_task_list(struct store_conn *c, const char *account, const char *id,
                            const char *args, jmap_write_fn write, void *ud,
                            const char **content_type)
{
    /* the draft's own properties (checklists...) stay: the converter keeps what it
     * cannot map */
    static const char *const jmap_only[] = {"id",        "taskListId",     "isDraft",   "isOrigin",
                                            "sortOrder", "workflowStatus", "baseTaskId", NULL};
    struct ics_export e = {task_list_type.name, id, task_type.name, in_list, jmap_only};
    return ics_export(c, account, &e, write, ud, content_type);
}

const struct jexporter tasks_exporters[] = {
    {"tasklist", export_task_list},
    {NULL, NULL},
};
