/*
 * subscription.c — the subscribed calendar's rules (subscription.h): the vendor
 * property's validation on Calendar/set, the read-only myRights, and the check that
 * keeps users from changing the feed's events beyond their per-user properties.
 */
#include "types/subscription.h"

#include <string.h>

#include "types/types.h"
#include "util/util.h"

/* calendars-27 §5 (per-user properties): what a user may still change in an event
 * of a subscribed calendar (myRights.mayUpdatePrivate). */
static const char *const server_set[] = {
    "lastRefresh",    "lastError", "etag",      "lastModified",    "feedRefreshInterval",
    "syncToken",      "feedName",  "feedColor", "feedDescription", "enhancedUrl",
    "davUrl",         "davCaldav", "davToken",  "davRefused",      "skippedUids",
    "skippedRetryAt", NULL};

static bool url_ok(const char *u)
{
    if (!u || strlen(u) > 2048 || strpbrk(u, " \t\r\n"))
        return false;
    size_t p = strncasecmp(u, "http://", 7) == 0       ? 7
               : strncasecmp(u, "https://", 8) == 0    ? 8
               : strncasecmp(u, "webcal://", 9) == 0   ? 9
               : strncasecmp(u, "webcals://", 10) == 0 ? 10
                                                       : 0;
    return p && u[p] && u[p] != '/';
}

void subscription_calendar_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    json_t *sub = json_object_get(obj, SUBSCRIPTION_PROP);
    json_t *was = old ? json_object_get(old, SUBSCRIPTION_PROP) : NULL;
    if (!sub || json_is_null(sub)) {
        if (json_is_object(was)) /* a subscription stays one: it is deleted, not unset */
            jset_invalid(s, invalid, SUBSCRIPTION_PROP, "a subscription cannot be unset");
        else
            json_object_set_new(obj, SUBSCRIPTION_PROP, json_null());
        return;
    }
    if (!json_is_object(sub)) {
        jset_invalid(s, invalid, SUBSCRIPTION_PROP, "must be an object with a url, or null");
        return;
    }
    if (!old || !json_is_object(was)) {
        if (old) {
            jset_invalid(s, invalid, SUBSCRIPTION_PROP,
                         "only a new calendar can be a subscription");
            return;
        }
    }
    const char *key;
    json_t *v;
    json_object_foreach(sub, key, v)
    {
        if (strcmp(key, "url") && strcmp(key, "refreshInterval") &&
            !types_in_list(server_set, key)) {
            char *path = xasprintf("%s/%s", SUBSCRIPTION_PROP, key);
            jset_invalid(s, invalid, path, "unknown member");
            free(path);
        }
    }
    const char *url = json_string_value(json_object_get(sub, "url"));
    if (!url_ok(url))
        jset_invalid(s, invalid, SUBSCRIPTION_PROP "/url", "an http, https or webcal URL");
    v = json_object_get(sub, "refreshInterval");
    if (v && !json_is_null(v) &&
        !(json_is_string(v) && json_string_value(v)[0] == 'P' &&
          types_is_signed_duration(json_string_value(v))))
        jset_invalid(s, invalid, SUBSCRIPTION_PROP "/refreshInterval", "a Duration or null");
    if (was && url && strcmp(url, json_string_value(json_object_get(was, "url")) ?: "") != 0)
        jset_invalid(s, invalid, SUBSCRIPTION_PROP "/url", "immutable: subscribe anew");
    /* the server-set members are the server's: the stored ones, or null */
    json_t *clean = json_pack("{s:o, s:O}", "url", json_string(url ? url : ""), "refreshInterval",
                              v ? v : json_null());
    for (const char *const *k = server_set; *k; k++) {
        json_t *kept = was ? json_object_get(was, *k) : NULL;
        json_object_set(clean, *k, kept ? kept : json_null());
    }
    json_object_set_new(obj, SUBSCRIPTION_PROP, clean);
}

bool subscription_calendar_derived(json_t *calendar)
{
    return json_is_object(json_object_get(calendar, SUBSCRIPTION_PROP)) ||
           json_is_true(json_object_get(calendar, BIRTHDAYS_PROP));
}

void subscription_calendar_rights(json_t *calendar, json_t *rights)
{
    if (!subscription_calendar_derived(calendar))
        return;
    /* issue 17 §1: the feed writes the events; the user keeps per-user properties */
    static const char *const off[] = {"mayWriteAll", "mayWriteOwn", "mayRSVP"};
    for (size_t i = 0; i < sizeof off / sizeof *off; i++)
        json_object_set_new(rights, off[i], json_false());
}

/* Whether one of the event's calendars is a subscription. */
static bool in_subscribed(struct jset *s, json_t *event)
{
    const char *cid;
    json_t *v;
    json_object_foreach(json_object_get(event, "calendarIds"), cid, v)
    {
        json_t *cal = store_object_get(jset_conn(s), jset_account(s), "Calendar", cid);
        bool sub = subscription_calendar_derived(cal);
        json_decref(cal);
        if (sub)
            return true;
    }
    return false;
}

json_t *subscription_event_check(struct jset *s, json_t *obj, json_t *old)
{
    if (!s)
        return NULL;
    bool was = old && in_subscribed(s, old), is = obj && in_subscribed(s, obj);
    if (!was && !is)
        return NULL;
    static const char *const none[] = {NULL};
    if (obj && old && !types_changed_beyond(obj, old, types_per_user, none))
        return NULL;
    return jmap_seterror("forbidden",
                         "the events of a subscribed or birthdays calendar come from its feed or "
                         "the contacts: only per-user properties can change (mayUpdatePrivate)");
}
