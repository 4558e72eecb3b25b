/*
 * calendar.c — the Calendar type (draft-ietf-jmap-calendars-27 §4): property
 * table, validation, myRights, default alerts, isDefault / onSuccessSetIsDefault,
 * and the destroy rules (calendarHasEvent, onDestroyRemoveEvents) over the
 * CalendarEvent objects of the account.
 */
#include <string.h>

#include "jmap/engine.h"
#include "types/calendar_alert.h"
#include "types/calendar_event.h"
#include "types/subscription.h"
#include "types/share.h"
#include "types/types.h"
#include "util/util.h"

/* ---- the descriptor's data ---------------------------------------------------------- */

static const struct jprop calendar_props[] = {
    {"id", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"name", JP_REQUIRED, NULL},
    {"description", 0, "null"},
    {"color", 0, "null"},
    {"sortOrder", 0, "0"},
    {"isSubscribed", 0, "true"}, /* §4: true for calendars the user creates */
    {"isVisible", 0, "true"},
    {"isDefault", JP_SERVER_SET, "false"},
    {"includeInAvailability", 0, "\"all\""},
    {"defaultAlertsWithTime", 0, "null"},
    {"defaultAlertsWithoutTime", 0, "null"},
    {"timeZone", 0, "null"},
    {"shareWith", 0, "null"},
    {"myRights", JP_SERVER_SET, NULL},
    {SUBSCRIPTION_PROP, 0, "null"},    /* issue 17: a calendar that follows a feed */
    {BIRTHDAYS_PROP, 0, "false"},      /* issue 17 §4: the contacts' anniversaries */
    {BIRTHDAY_TITLES_PROP, 0, "null"}, /* ... and how its events are titled */
    {NULL, 0, NULL},
};

static const struct argspec calendar_set_args[] = {
    {"onDestroyRemoveEvents", ARG_BOOL, 0},
    {"onSuccessSetIsDefault", ARG_ID, ARG_NULLABLE | ARG_REF},
    {NULL, 0, 0},
};

static json_t *calendar_account_capability(const struct config *cfg, const struct store_access *a)
{
    /* §1.5.1 */
    return json_pack("{s:i, s:s, s:s, s:s, s:i, s:b}", "maxCalendarsPerEvent", 32, "minDateTime",
                     "0001-01-01T00:00:00Z", "maxDateTime", "9999-12-31T23:59:59Z",
                     "maxExpandedQueryDuration", "P400D", "maxParticipantsPerEvent",
                     TYPES_MAX_PARTICIPANTS, "mayCreateCalendar", a->may_write && !a->shared);
}

/* §4 CalendarRights (share.c): the owner may do everything; an account-wide grant
 * reads (and writes) every calendar; a sharee has what shareWith gives them. */
static void calendar_decorate(struct jmap_req *r, const struct store_access *a, json_t *obj)
{
    json_object_set_new(obj, "myRights",
                        share_rights_json(SHARE_CALENDAR, share_rights(r, a, SHARE_CALENDAR, obj)));
    subscription_calendar_rights(obj, json_object_get(obj, "myRights")); /* issue 17 */
}

/* §4.1: a sharee sees their own per-user properties, and no calendar they cannot
 * read. */
static json_t *calendar_view(struct jmap_req *r, const struct store_access *a, json_t *obj,
                             json_t *props, json_t *args)
{
    (void)args;
    json_t *out = share_collection_view(r, a, SHARE_CALENDAR, obj);
    if (out) /* issue 17: a subscribed calendar's events come from its feed */
        subscription_calendar_rights(out, json_object_get(out, "myRights"));
    return out ? engine_select_props(out, props) : NULL;
}

static int calendar_index(struct store_conn *c, const char *account, const char *id, json_t *obj)
{
    calendar_alert_calendar_changed(c, account); /* §6.1 default alerts, §6 isSubscribed */
    int rc = share_collection_index(c, SHARE_CALENDAR, account, id, obj);
    if (!rc && !obj) /* issue 17: a destroyed subscription's digests */
        rc = subscription_calendar_forget(c, account, id);
    return rc ? rc : birthdays_calendar_index(c, account, id, obj); /* issue 17 §4 */
}

/* ---- validation ------------------------------------------------------------------------ */

/* jscalendarbis §4.5.1 Alert, with calendars §4's rule that default alerts MUST NOT
 * use an AbsoluteTrigger (also TaskList's, tasks-06 §4). */
bool types_default_alert_ok(json_t *alert)
{
    if (!json_is_object(alert))
        return false;
    json_t *type = json_object_get(alert, "@type"), *trigger = json_object_get(alert, "trigger");
    if (type && (!json_is_string(type) || strcmp(json_string_value(type), "Alert")))
        return false;
    if (!json_is_object(trigger))
        return false;
    json_t *ttype = json_object_get(trigger, "@type");
    if (ttype && !json_is_string(ttype))
        return false;
    const char *tt = ttype ? json_string_value(ttype) : "OffsetTrigger";
    if (strcmp(tt, "AbsoluteTrigger") == 0)
        return false;
    if (strcmp(tt, "OffsetTrigger") == 0) {
        json_t *off = json_object_get(trigger, "offset"), *rel = json_object_get(trigger, "relativeTo");
        if (!json_is_string(off) || !types_is_signed_duration(json_string_value(off)))
            return false;
        if (rel && (!json_is_string(rel) || (strcmp(json_string_value(rel), "start") &&
                                             strcmp(json_string_value(rel), "end"))))
            return false;
    }
    json_t *ack = json_object_get(alert, "acknowledged"), *action = json_object_get(alert, "action"),
           *related = json_object_get(alert, "relatedTo");
    if (ack && !types_is_utc_datetime(ack))
        return false;
    if (action && !json_is_string(action))
        return false;
    if (related && !json_is_object(related))
        return false;
    return true;
}

struct alert_ids {
    const char *self; /* the calendar being validated (NULL on create) */
    json_t *ids;      /* alert id -> true, from the other calendars */
};

static int collect_alert_ids(const char *id, json_t *obj, void *ud)
{
    struct alert_ids *a = ud;
    if (a->self && strcmp(a->self, id) == 0)
        return 0;
    static const char *const keys[] = {"defaultAlertsWithTime", "defaultAlertsWithoutTime"};
    for (int k = 0; k < 2; k++) {
        const char *aid;
        json_t *v;
        json_object_foreach(json_object_get(obj, keys[k]), aid, v)
        {
            json_object_set_new(a->ids, aid, json_true());
        }
    }
    return 0;
}

static void check_default_alerts(struct jset *s, json_t *obj, const char *self, json_t *invalid)
{
    static const char *const keys[] = {"defaultAlertsWithTime", "defaultAlertsWithoutTime"};
    json_t *seen = json_object();
    struct alert_ids others = {self, json_object()};
    bool loaded = false;
    for (int k = 0; k < 2; k++) {
        json_t *map = json_object_get(obj, keys[k]);
        if (json_is_null(map))
            continue;
        if (!json_is_object(map)) {
            jset_invalid(s, invalid, keys[k], "must be an Id[Alert] map or null");
            continue;
        }
        const char *aid;
        json_t *alert;
        json_object_foreach(map, aid, alert)
        {
            if (!loaded) {
                store_object_foreach(jset_conn(s), jset_account(s), calendar_type.name,
                                     collect_alert_ids, &others);
                loaded = true;
            }
            /* §4: ids MUST be unique across all default alerts in the account */
            if (!util_is_jmap_id(aid) || !types_default_alert_ok(alert) || json_object_get(seen, aid) ||
                json_object_get(others.ids, aid)) {
                char *path = xasprintf("%s/%s", keys[k], aid);
                jset_invalid(s, invalid, path,
                             "an Alert with a trigger, under an Id unique in the account (§4)");
                free(path);
            }
            json_object_set_new(seen, aid, json_true());
        }
    }
    json_decref(seen);
    json_decref(others.ids);
}

static json_t *calendar_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    json_t *v = json_object_get(obj, "name");
    /* §4: name MUST NOT be empty nor longer than 255 octets */
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 255)
        jset_invalid(s, invalid, "name", "must be a non-empty String of at most 255 octets (§4)");
    v = json_object_get(obj, "description");
    if (!json_is_null(v) && !json_is_string(v))
        jset_invalid(s, invalid, "description", "must be a String or null");
    v = json_object_get(obj, "color");
    if (!json_is_null(v) && !(json_is_string(v) && types_is_css_color(json_string_value(v))))
        jset_invalid(s, invalid, "color", "not a CSS color value (RFC 7986 §5.9)");
    v = json_object_get(obj, "sortOrder");
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= 2147483648LL)
        jset_invalid(s, invalid, "sortOrder", "must be an UnsignedInt below 2^31");
    static const char *const bools[] = {"isSubscribed", "isVisible"};
    for (int i = 0; i < 2; i++)
        if (!json_is_boolean(json_object_get(obj, bools[i])))
            jset_invalid(s, invalid, bools[i], "must be a Boolean");
    v = json_object_get(obj, "includeInAvailability");
    const char *inc = json_string_value(v);
    if (!inc || (strcmp(inc, "all") && strcmp(inc, "attending") && strcmp(inc, "none")))
        jset_invalid(s, invalid, "includeInAvailability",
                     "must be \"all\", \"attending\" or \"none\"");
    v = json_object_get(obj, "timeZone");
    if (!json_is_null(v) && !(json_is_string(v) && types_is_time_zone(json_string_value(v))))
        jset_invalid(s, invalid, "timeZone", "not a time zone id of the server (IANA)");
    check_default_alerts(s, obj, old ? json_string_value(json_object_get(old, "id")) : NULL,
                         invalid);
    json_object_del(obj, "myRights"); /* computed on /get, never stored */
    subscription_calendar_validate(s, obj, old, invalid);
    birthdays_calendar_validate(s, obj, old, invalid);
    /* §4.3 shareWith, and what a sharee may change (share.c) */
    return share_collection_validate(s, SHARE_CALENDAR, obj, old, invalid);
}

/* ---- destroy: calendarHasEvent / onDestroyRemoveEvents ---------------------------------- */

static json_t *calendar_destroy(struct jset *s, const char *id, json_t *old)
{
    json_t *err = share_collection_destroy(s, SHARE_CALENDAR, old); /* myRights.mayDelete */
    if (err)
        return err;
    /* §4.3: events leave it; those in no other calendar are destroyed */
    return types_destroy_collection(s, id, &calendar_event_type, "calendarIds",
                                    "onDestroyRemoveEvents", "calendarHasEvent");
}

const struct jcapability calendar_capability = {.uri = JMAP_CALENDARS,
                                                .account_value = calendar_account_capability};

const struct jtype calendar_type = {
    .metadata = true, /* draft-ietf-jmap-metadata-02 (issue 18) */
    .name = "Calendar",
    .capability = JMAP_CALENDARS,
    .props = calendar_props,
    .methods = JM_GET | JM_SET | JM_CHANGES,
    .id_prefix = 'c',
    .set_args = calendar_set_args,
    .decorate = calendar_decorate,
    .view = calendar_view,
    .validate = calendar_validate,
    .destroy = calendar_destroy,
    .index = calendar_index,
    .visible = share_calendar_visible_id,
    .finish = types_finish_set_default,
};
