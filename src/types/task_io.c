/*
 * task_io.c — task lists as iCalendar files: the "tasklist" exporter (`jmapd export
 * --tasklist ID`, GET /export/tasklist/{accountId}/{id}) writes one VCALENDAR of
 * VTODOs (draft-ietf-calext-jscalendar-icalendar-25 §3), and the default task list
 * that `jmapd import` puts the VTODOs of an .ics file into (calendar_io.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/icalendar_jscalendar/ical.h"
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

struct export_ctx {
    const char *list;
    ical_writer *w;
    jmap_write_fn write;
    void *ud;
    int rc;
};

static int emit(struct export_ctx *x, char *text)
{
    if (!text)
        return 0;
    if (x->rc == 0 && x->write(x->ud, text, strlen(text)) != 0)
        x->rc = STORE_ERR;
    free(text);
    return x->rc;
}

static int export_task(const char *id, json_t *obj, void *ud)
{
    struct export_ctx *x = ud;
    const char *list = json_string_value(json_object_get(obj, "taskListId"));
    if (!list || strcmp(list, x->list) != 0)
        return 0;
    json_t *js = json_copy(obj);
    /* JMAP-only properties; the draft's own ones (checklists...) travel as
     * JSCalendar vendor data would: the converter keeps what it cannot map */
    static const char *const jmap_only[] = {"id", "taskListId", "isDraft", "isOrigin",
                                            "sortOrder", "workflowStatus", "baseTaskId"};
    for (size_t i = 0; i < sizeof jmap_only / sizeof jmap_only[0]; i++)
        json_object_del(js, jmap_only[i]);
    char *err = NULL;
    char *text = ical_writer_add(x->w, js, &err);
    if (!text)
        log_warn("export: task %s skipped: %s", id, err ? err : "?");
    free(err);
    json_decref(js);
    return emit(x, text);
}

static int export_task_list(struct store_conn *c, const char *account, const char *id,
                            const char *args, jmap_write_fn write, void *ud,
                            const char **content_type)
{
    json_t *list = store_object_get(c, account, task_list_type.name, id);
    if (!list)
        return STORE_NOTFOUND;
    json_decref(list);
    *content_type = "text/calendar; charset=utf-8";
    struct export_ctx x = {id, ical_writer_new(NULL, NULL), write, ud, STORE_OK};
    emit(&x, ical_writer_begin(x.w));
    store_object_foreach(c, account, task_type.name, export_task, &x);
    emit(&x, ical_writer_end(x.w));
    ical_writer_free(x.w);
    return x.rc;
}

const struct jexporter tasks_exporters[] = {
    {"tasklist", export_task_list},
    {NULL, NULL},
};
