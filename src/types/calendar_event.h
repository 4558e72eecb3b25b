/*
 * calendar_event.h — what the CalendarEvent files share (calendar_event.c: the type,
 * validation, views and instances; calendar_event_get.c: /get's loading;
 * calendar_event_query.c: /query, /queryChanges
 * and /parse; calendar_io.c: .ics import and export).
 */
#ifndef JMAPD_CALENDAR_EVENT_H
#define JMAPD_CALENDAR_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "jmap/jmap.h"

#define JMAP_CALENDARS_PARSE "urn:ietf:params:jmap:calendars:parse"

extern const struct jtype calendar_event_type;

/* The text fields CalendarEvent declares to the store's full-text index (numbers
 * of store_index.text[]); "text" in a filter searches them all. */
enum {
    EVENT_TEXT_TITLE,
    EVENT_TEXT_DESCRIPTION,
    EVENT_TEXT_LOCATION,
    EVENT_TEXT_OWNER,
    EVENT_TEXT_ATTENDEE,
    EVENT_TEXT_BODY,
    EVENT_TEXT_FIELDS
};

/* Synthetic instance ids: "<baseId>_<YYYYMMDDTHHMMSS>" (base ids never hold '_').
 * Formats the id into out[96]; parses one back into base[64] and the recurrence id
 * as a LocalDateTime rid[20]. */
void event_instance_id(const char *base, const char *rid, char out[96]);
bool event_instance_parse(const char *id, char base[64], char rid[20]);
/* The base id of an instance id (into buf), or id itself: /queryChanges of expanded
 * queries (events, tasks). */
const char *event_instance_base(const char *id, char buf[96]);

/* The UTC start and end of an event (not of its recurrences): floating times are
 * read in float_tz. Returns 0, or -1 if start/timeZone/duration cannot be read. */
int event_utc_span(const json_t *obj, const char *float_tz, int64_t *start, int64_t *end);
/* A LocalDateTime in zone tzid (NULL or unknown: float_tz, then UTC) as UTC secs. */
int event_local_to_utc(const json_t *obj, const char *ldt, const char *tzid, const char *float_tz,
                       int64_t *out);

/* Builds the instance rid of a stored recurring event (NULL if it has none). */
json_t *event_instance(const json_t *base, const char *base_id, const char *rid);

/* CalendarEvent as a type of instances (instances.h), for calendar_event_get.c. */
struct instance_kind;
extern const struct instance_kind event_instance_kind;
/* The type's /get hooks (calendar_event_get.c): get_prepare checks the arguments and
 * starts the call's state; load finds an event or instance in the parsed-event cache
 * (or the store), and may return the finished view as a raw placeholder
 * (formats/json/writer.h) that the view hook passes on. */
int event_get_prepare(struct jmap_req *r, json_t *args);
json_t *event_load(struct jmap_req *r, const char *account, const char *id, json_t *props);
/* share_event_as_stored(r, a, obj, id) for event_view: answered from what event_load
 * found when obj is what it returned last (issue 14) */
bool event_view_as_stored(struct jmap_req *r, const struct store_access *a, json_t *obj,
                          const char *id);

/* The default calendar of an account (id into out[64]); -1 if there is none. */
int event_default_calendar(struct store_conn *c, const char *account, char out[64]);
/* Creates (or, with the same uid, replaces) an event imported from iCalendar in
 * calendar_id, through the type's validation in relaxed mode. Returns 0 (*updated set
 * when it replaced one; updated may be NULL), or -1 with *err. */
int event_import_one(struct store_conn *c, const char *account, const char *calendar_id,
                     json_t *event, bool *updated, char **err);
/* event_import_one, taking the reference to event, which it completes and stores in
 * place (issue 21: the copy was 5% of an import's CPU): for an event nobody reads after. */
int event_import_take(struct store_conn *c, const char *account, const char *calendar_id,
                      json_t *event, bool *updated, char **err);

/* Which properties sort (the type's compare hook, probe only). */
int event_compare(json_t *a, json_t *b, const char *property, bool *ok);
/* Validates one FilterCondition key (the type's filter hook). */
int event_filter_condition(struct jmap_req *r, json_t *obj, const char *key, json_t *v);

/* Registers CalendarEvent/query, /queryChanges and /parse (calendar_event_query.c). */
void calendar_event_query_register(void);
/* CalendarEvent/parse (calendar_event_parse.c; registered with /query). */
int calendar_event_parse(struct jmap_req *r, json_t *args);
/* The .ics importer and the calendar exporter (calendar_io.c). */
extern const struct jimporter calendar_io_importers[];
extern const struct jexporter calendar_io_exporters[];
extern const struct jexport_sync calendar_io_export_syncs[]; /* Enhanced GET (issue 17 §3) */
/* The urn:ietf:params:jmap:calendars:parse capability (calendar_event_parse.c). */
extern const struct jcapability calendar_parse_capability;

#endif
