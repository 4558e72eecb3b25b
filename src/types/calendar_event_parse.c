/*
 * calendar_event_parse.c — CalendarEvent/parse (draft-ietf-jmap-calendars-27 §5.13):
 * the events of iCalendar blobs as JSCalendar, nothing stored, with what was repaired
 * to read them (issue 12 §3.5). Split from calendar_event_query.c, which registers it.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/icalendar_jscalendar/ical.h"
#include "jmap/engine.h"
#include "types/calendar_event.h"
#include "types/types.h"
#include "util/util.h"

/* ---- /parse (§5.13) ------------------------------------------------------------------------------- */

static const struct argspec parse_args[] = {
    {"accountId", ARG_ID, ARG_REQUIRED},
    {"blobIds", ARG_ID_ARRAY, ARG_REQUIRED | ARG_REF},
    {"properties", ARG_STRING_ARRAY, ARG_NULLABLE},
    {NULL, 0, 0},
};

static json_t *parsed_view(json_t *event, json_t *props)
{
    static const char *const meta[] = {"id", "baseEventId", "calendarIds", "isDraft", "isOrigin"};
    if (!props) {
        json_t *out = json_deep_copy(event);
        for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
            json_object_set_new(out, meta[i], json_null());
        return out;
    }
    json_t *out = json_object();
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p)
    {
        const char *name = json_string_value(p);
        bool is_meta = false;
        for (size_t k = 0; k < sizeof meta / sizeof meta[0]; k++)
            is_meta |= strcmp(meta[k], name) == 0;
        json_t *v = json_object_get(event, name);
        if (is_meta)
            json_object_set_new(out, name, json_null()); /* §5.13: null if requested */
        else if (v)
            json_object_set(out, name, v);
    }
    return out;
}

int calendar_event_parse(struct jmap_req *r, json_t *args)
{
    const struct store_access *a =
        jmap_method_begin(r, args, parse_args, NULL, "accountId", JMAP_BEGIN_NO_TXN);
    if (!a)
        return -1;
    json_t *props = json_object_get(args, "properties");
    if (json_is_null(props))
        props = NULL;
    json_t *parsed = json_object(), *not_found = json_array(), *not_parsable = json_array();
    json_t *warnings = json_object(); /* blobId -> the repairs made to read it */
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(args, "blobIds"), i, v)
    {
        const char *id = jmap_resolve_id(r, json_string_value(v));
        unsigned char *data = NULL;
        size_t len = 0;
        if (!id || store_blob_get(jmap_req_conn(r), a->account_id, id, &data, &len) != STORE_OK) {
            json_array_append(not_found, v);
            continue;
        }
        char *err = NULL;
        json_t *warned = json_array();
        json_t *group =
            ical_to_jscal_warn((const char *)data, len, ICAL_TO_JSCAL_GROUP, warned, &err);
        free(data);
        free(err);
        json_t *events = json_array();
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(group, "entries"), k, e)
        {
            const char *type = json_string_value(json_object_get(e, "@type"));
            if (type && strcmp(type, "Event") == 0)
                json_array_append_new(events, parsed_view(e, props));
        }
        if (!group || !json_array_size(events)) {
            json_array_append(not_parsable, v);
            json_decref(events);
            json_decref(warned);
        } else {
            json_object_set_new(parsed, json_string_value(v), events);
            /* issue 12 §3.5: what was repaired, next to what was parsed */
            if (json_array_size(warned))
                json_object_set_new(warnings, json_string_value(v), warned);
            else
                json_decref(warned);
        }
        json_decref(group);
    }
    json_t *resp = json_pack("{s:s}", "accountId", a->account_id);
    json_object_set_new(resp, "parsed", jmap_or_null(parsed));
    json_object_set_new(resp, "notFound", jmap_or_null(not_found));
    json_object_set_new(resp, "notParsable", jmap_or_null(not_parsable));
    json_object_set_new(resp, "warnings", jmap_or_null(warnings));
    jmap_respond(r, "CalendarEvent/parse", resp);
    return 0;
}

const struct jcapability calendar_parse_capability = {.uri = JMAP_CALENDARS_PARSE};
