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

/* Where an import stands: the account, its default calendar, what it reported */
struct ics_import {
    struct store_conn *c;
    const char *account;
    char cal[64];
    struct jmap_import_report *rep;
    json_t *refused; /* the objects refused, after the converter's refusals */
    size_t total;    /* entries expected (progress) */
    int n;
};

/* One converted entry (an Event or a Task) into the account (ical_entry_fn); an Event
 * is stored in place: the converter drops each entry after this call, and the whole-file
 * path drops the entries once imported. */
static int import_entry(json_t *e, size_t i, void *ud)
{
    struct ics_import *im = ud;
    if (im->rep && im->rep->progress)
        im->rep->progress(im->rep->ud, i, im->total > i ? im->total : i + 1);
    const char *type = json_string_value(json_object_get(e, "@type"));
    bool task = type && strcmp(type, "Task") == 0, updated = false;
    char *why = NULL;
    if (task ? import_task(im->c, im->account, e, &updated, &why)
             : event_import_take(im->c, im->account, im->cal, json_incref(e), &updated, &why)) {
        json_array_append_new(im->refused, json_string(why ? why : "cannot store the object"));
        free(why);
        return 0;
    }
    if (updated && im->rep)
        im->rep->updated++;
    im->n++;
    return 0;
}

/* How many VEVENT and VTODO components the text has (the progress's total) */
static size_t count_components(const char *data, size_t len)
{
    size_t n = 0;
    const char *end = data + len;
    for (const char *p = data; (p = memmem(p, (size_t)(end - p), "BEGIN:V", 7)); p += 7)
        n +=
            (size_t)(end - p) >= 12 && (!memcmp(p + 7, "EVENT", 5) || !memcmp(p + 7, "TODO\r", 5) ||
                                        !memcmp(p + 7, "TODO\n", 5));
    return n;
}

/* Imports every Event of the file into the account's default calendar and every Task
 * into its default task list; an object whose uid (and recurrenceId) is already there
 * replaces it. The converter repairs what real-world producers write (each repair a
 * warning); an object that still cannot be stored is refused with its reason and the
 * others go on. Issue 21 §0: a large file is stored entry by entry as the converter
 * hands them over (ical_to_jscal_stream), not converted whole first: 100,000 events
 * held at once took 955 MB and made every later allocation slower. */
static int import_ics(struct store_conn *c, const char *account, const char *data, size_t len,
                      struct jmap_import_report *rep, char **err)
{
    struct ics_import im = {.c = c, .account = account, .rep = rep, .refused = json_array()};
    if (event_default_calendar(c, account, im.cal) != 0) {
        *err = xstrdup("the account has no calendar");
        json_decref(im.refused);
        return -1;
    }
    im.total = count_components(data, len);
    json_t *warnings = json_array();
    int streamed = 0;
    json_t *group = ical_to_jscal_stream(data, len, ICAL_TO_JSCAL_GROUP, 1000, import_entry, &im,
                                         &streamed, warnings, err);
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
    json_t *entries = json_object_get(group, "entries"), *e;
    if (group && !streamed) {
        im.total = json_array_size(entries);
        json_array_foreach(entries, i, e) import_entry(e, i, &im);
    }
    json_array_foreach(im.refused, i, w) refuse(rep, xstrdup(json_string_value(w)));
    json_decref(im.refused);
    if (!group)
        return -1;
    if (rep && rep->progress)
        rep->progress(rep->ud, im.total, im.total);
    json_decref(group);
    return im.n;
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
