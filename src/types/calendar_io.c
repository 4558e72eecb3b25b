/*
 * calendar_io.c — calendars as iCalendar files: the ".ics" importer (`jmapd import`)
 * and the "calendar" exporter (`jmapd export --calendar`, GET /export/calendar/...),
 * which streams one VCALENDAR with a VTIMEZONE for every zone used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/icalendar_jscalendar/ical.h"
#include "types/calendar_event.h"
#include "types/subscription.h"
#include "types/tasks.h"
#include "types/types.h"
#include "util/util.h"

/* A refusal for the summary: "line N: ..." from the converter, or the event's reason. */
static void refuse(struct jmap_import_report *rep, char *reason)
{
    if (rep && rep->refused && reason)
        json_array_append_new(rep->refused, json_string(reason));
    free(reason);
}

/* One Task (a VTODO) of an .ics file: into the account's default task list
 * (issue 16 §5). */
static int import_task(struct store_conn *c, const char *account, json_t *e, bool *updated,
                       char **why)
{
    char list[64];
    if (task_default_list(c, account, list) != 0) {
        const char *uid = json_string_value(json_object_get(e, "uid"));
        if (asprintf(why, "Task %s: the account has no task list", uid ? uid : "(no uid)") < 0)
            *why = NULL;
        return -1;
    }
    return task_import_one(c, account, list, e, updated, why);
}

/* Imports every Event of the file into the account's default calendar and every Task
 * into its default task list; an object whose uid (and recurrenceId) is already there
 * replaces it. The converter repairs what real-world producers write (each repair a
 * warning); an object that still cannot be stored is refused with its reason and the
 * others go on. */
static int import_ics(struct store_conn *c, const char *account, const char *data, size_t len,
                      struct jmap_import_report *rep, char **err)
{
    char cal[64];
    if (event_default_calendar(c, account, cal) != 0) {
        *err = xstrdup("the account has no calendar");
        return -1;
    }
    json_t *warnings = json_array();
    json_t *group = ical_to_jscal_warn(data, len, ICAL_TO_JSCAL_GROUP, warnings, err);
    size_t i;
    json_t *w;
    json_array_foreach(warnings, i, w)
    {
        const char *s = json_string_value(w);
        if (strstr(s, "(component refused)"))
            refuse(rep, xstrdup(s));
        else if (rep && rep->warnings)
            json_array_append(rep->warnings, w);
    }
    json_decref(warnings);
    if (!group)
        return -1;
    int n = 0;
    json_t *entries = json_object_get(group, "entries"), *e;
    json_array_foreach(entries, i, e)
    {
        if (rep && rep->progress)
            rep->progress(rep->ud, i, json_array_size(entries));
        const char *type = json_string_value(json_object_get(e, "@type"));
        bool task = type && strcmp(type, "Task") == 0;
        bool updated = false;
        char *why = NULL;
        if (task ? import_task(c, account, e, &updated, &why)
                 : event_import_one(c, account, cal, e, &updated, &why)) {
            refuse(rep, why ? why : xstrdup("cannot store the object"));
            continue;
        }
        if (updated && rep)
            rep->updated++;
        n++;
    }
    if (rep && rep->progress)
        rep->progress(rep->ud, json_array_size(entries), json_array_size(entries));
    json_decref(group);
    return n;
}

struct export_ctx {
    const struct ics_export *e;
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

static int export_one(const char *id, json_t *obj, void *ud)
{
    struct export_ctx *x = ud;
    if (!x->e->member(obj, x->e->collection_id))
        return 0;
    json_t *js = json_copy(obj);
    for (const char *const *k = x->e->jmap_only; *k; k++)
        json_object_del(js, *k);
    char *err = NULL;
    char *text = ical_writer_add(x->w, js, &err);
    if (!text)
        log_warn("export: %s %s skipped: %s", x->e->type, id, err ? err : "?");
    free(err);
    json_decref(js);
    return emit(x, text);
}

int ics_export(struct store_conn *c, const char *account, const struct ics_export *e,
               jmap_write_fn write, void *ud, const char **content_type)
{
    json_t *coll = store_object_get(c, account, e->collection_type, e->collection_id);
    if (!coll)
        return STORE_NOTFOUND;
    json_decref(coll);
    *content_type = "text/calendar; charset=utf-8";
    struct export_ctx x = {e, ical_writer_new(NULL, NULL), write, ud, STORE_OK};
    emit(&x, ical_writer_begin(x.w));
    store_object_foreach(c, account, e->type, export_one, &x);
    emit(&x, ical_writer_end(x.w));
    ical_writer_free(x.w);
    return x.rc;
}

static bool in_calendar(json_t *event, const char *calendar)
{
    return json_object_get(json_object_get(event, "calendarIds"), calendar) != NULL;
}

static int export_calendar(struct store_conn *c, const char *account, const char *id,
                           const char *args, jmap_write_fn write, void *ud,
                           const char **content_type)
{
    static const char *const jmap_only[] = {"id", "calendarIds", "isDraft", "isOrigin",
                                            "baseEventId", NULL};
    struct ics_export e = {"Calendar", id, calendar_event_type.name, in_calendar, jmap_only};
    long long since;
    if (args && sscanf(args, "since=%lld", &since) == 1) { /* subscription-upgrade §3 */
        if (!store_object_exists(c, account, "Calendar", id))
            return STORE_NOTFOUND;
        *content_type = "text/calendar; charset=utf-8";
        return subscription_feed_delta(c, account, id, since, write, ud);
    }
    return ics_export(c, account, &e, write, ud, content_type);
}

const struct jimporter calendar_io_importers[] = {
    {".ics", import_ics},
    {".ical", import_ics},
    {NULL, NULL},
};

const struct jexporter calendar_io_exporters[] = {
    {"calendar", export_calendar},
    {NULL, NULL},
};

const struct jexport_sync calendar_io_export_syncs[] = {
    {"calendar", subscription_feed_sync, subscription_feed_page},
    {NULL, NULL, NULL},
};
