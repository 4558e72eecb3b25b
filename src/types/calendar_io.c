/*
 * calendar_io.c — calendars as iCalendar files: the ".ics" importer (`jmapd import`)
 * and the "calendar" exporter (`jmapd export --calendar`, GET /export/calendar/...),
 * which streams one VCALENDAR with a VTIMEZONE for every zone used.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/icalendar_jscalendar/ical.h"
#include "types/calendar_event.h"
#include "types/types.h"
#include "util/util.h"

/* Imports every Event of the file into the account's default calendar; an event
 * whose uid (and recurrenceId) is already there replaces it. Tasks are skipped
 * (they belong to task lists). */
static int import_ics(struct store_conn *c, const char *account, const char *data, size_t len,
                      char **err)
{
    char cal[64];
    if (event_default_calendar(c, account, cal) != 0) {
        *err = xstrdup("the account has no calendar");
        return -1;
    }
    json_t *group = ical_to_jscal(data, len, ICAL_TO_JSCAL_GROUP, err);
    if (!group)
        return -1;
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(group, "entries"), i, e)
    {
        const char *type = json_string_value(json_object_get(e, "@type"));
        if (!type || strcmp(type, "Event") != 0)
            continue;
        if (event_import_one(c, account, cal, e, err) != 0) {
            json_decref(group);
            return -1;
        }
        n++;
    }
    json_decref(group);
    return n;
}

struct export_ctx {
    const char *calendar;
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

static int export_event(const char *id, json_t *obj, void *ud)
{
    struct export_ctx *x = ud;
    if (!json_object_get(json_object_get(obj, "calendarIds"), x->calendar))
        return 0;
    json_t *js = json_copy(obj);
    static const char *const jmap_only[] = {"id", "calendarIds", "isDraft", "isOrigin",
                                            "baseEventId"};
    for (size_t i = 0; i < sizeof jmap_only / sizeof jmap_only[0]; i++)
        json_object_del(js, jmap_only[i]);
    char *err = NULL;
    char *text = ical_writer_add(x->w, js, &err);
    if (!text)
        log_warn("export: event %s skipped: %s", id, err ? err : "?");
    free(err);
    json_decref(js);
    return emit(x, text);
}

static int export_calendar(struct store_conn *c, const char *account, const char *id,
                           const char *args, jmap_write_fn write, void *ud,
                           const char **content_type)
{
    json_t *cal = store_object_get(c, account, "Calendar", id);
    if (!cal)
        return STORE_NOTFOUND;
    json_decref(cal);
    *content_type = "text/calendar; charset=utf-8";
    struct export_ctx x = {id, ical_writer_new(NULL, NULL), write, ud, STORE_OK};
    emit(&x, ical_writer_begin(x.w));
    store_object_foreach(c, account, calendar_event_type.name, export_event, &x);
    emit(&x, ical_writer_end(x.w));
    ical_writer_free(x.w);
    return x.rc;
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
