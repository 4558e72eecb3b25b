/*
 * calendar_event_notification.c — the CalendarEventNotification type
 * (draft-ietf-jmap-calendars-27 §7): what the server records in an account when
 * someone else changes its events; here, the scheduling messages it processed
 * automatically (scheduling.c). /get /changes /query /queryChanges, and /set that
 * only destroys.
 */
#include <string.h>

#include "jmap/engine.h"
#include "types/share.h"
#include "types/types.h"
#include "util/util.h"

static const struct jprop notification_props[] = {
    {"id", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"created", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"changedBy", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"comment", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"type", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"calendarEventId", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"isDraft", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"event", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"eventPatch", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {ITIP_METHOD_PROP, JP_SERVER_SET | JP_IMMUTABLE, NULL}, /* scheduling.c: COUNTER */
    {NULL, 0, NULL},
};

/* §7.4.1 */
static int event_notification_filter(struct jmap_req *r, json_t *obj, const char *key,
                                     json_t *value)
{
    (void)r;
    return notification_filter(obj, key, value, "calendarEventIds", "calendarEventId");
}

/* A sharee sees the notifications of the events they can see (share.h). */
static bool notification_visible_obj(struct jmap_req *r, const struct store_access *a, json_t *obj)
{
    const char *eid = json_string_value(json_object_get(obj, "calendarEventId"));
    return !a->shared || (eid && share_event_visible_id(r, a, eid));
}

static bool notification_visible(struct jmap_req *r, const struct store_access *a,
                                 const char *id)
{
    json_t *obj = store_object_get(jmap_req_conn(r), a->account_id,
                                   calendar_event_notification_type.name, id);
    bool yes = obj && notification_visible_obj(r, a, obj);
    json_decref(obj);
    return yes;
}

static json_t *notification_view(struct jmap_req *r, const struct store_access *a, json_t *obj,
                                 json_t *props, json_t *args)
{
    (void)args;
    if (!notification_visible_obj(r, a, obj))
        return NULL;
    return engine_select_props(json_incref(obj), props);
}

const struct jtype calendar_event_notification_type = {
    .name = "CalendarEventNotification",
    .capability = JMAP_CALENDARS,
    .props = notification_props,
    .methods = JM_GET | JM_SET | JM_CHANGES | JM_QUERY | JM_QUERYCHANGES,
    .id_prefix = 'n',
    .validate = notification_validate,
    .destroy = scheduling_decline_counter, /* RFC 5546 §3.2.8 */
    .set_args = decline_counter_args,
    .view = notification_view,
    .visible = notification_visible,
    .filter = event_notification_filter,
    .compare = notification_compare,
};

int calendar_event_notification_add(struct store_conn *c, struct jmap_req *r, const char *account,
                                    const char *type, const char *event_id, json_t *event,
                                    json_t *patch, const char *from_address)
{
    return calendar_event_notification_add_ex(c, r, account, type, event_id, event, patch,
                                              from_address, NULL);
}

int calendar_event_notification_add_ex(struct store_conn *c, struct jmap_req *r,
                                       const char *account, const char *type, const char *event_id,
                                       json_t *event, json_t *patch, const char *from_address,
                                       json_t *extra)
{
    char created[21], id[16];
    util_utc_format(util_now(), created);
    json_t *p = from_address ? principal_of_address(c, from_address) : NULL;
    if (!p && r && jmap_user_principal(r->user))
        p = principal_load(c, jmap_user_principal(r->user));
    json_t *by = json_pack(
        "{s:s, s:O, s:O, s:o}", "name",
        p ? json_string_value(json_object_get(p, "name"))
          : (from_address ? from_address : "unknown"),
        "email", p && json_object_get(p, "email") ? json_object_get(p, "email") : json_null(),
        "principalId", p ? json_object_get(p, "id") : json_null(), "calendarAddress",
        from_address ? json_string(from_address) : json_null());
    json_decref(p);
    json_t *obj =
        json_pack("{s:s, s:o, s:n, s:s, s:s, s:O}", "created", created, "changedBy", by, "comment",
                  "type", type, "calendarEventId", event_id, "event", event ? event : json_null());
    if (strcmp(type, "destroyed"))
        json_object_set_new(obj, "isDraft",
                            json_boolean(json_is_true(json_object_get(event, "isDraft"))));
    if (strcmp(type, "updated") == 0)
        json_object_set(obj, "eventPatch", patch ? patch : json_object());
    if (extra)
        json_object_update(obj, extra);
    util_random_id(id, 12, calendar_event_notification_type.id_prefix);
    json_object_set_new(obj, "id", json_string(id));
    int rc = jmap_object_write(c, r, &calendar_event_notification_type, account, id, obj, true);
    json_decref(obj);
    return rc ? STORE_ERR : STORE_OK;
}
