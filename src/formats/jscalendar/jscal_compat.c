/*
 * jscal_compat.c — older JSCalendar spellings brought to JSCalendar 2.0
 * (draft-ietf-calext-jscalendarbis-17) where the meaning is clear, and named as invalid
 * where it is not (issue 12 §2.3, §2.4), so that none is stored as opaque data the server
 * then ignores:
 *   RFC 8984 "recurrenceRules" with one rule     -> "recurrenceRule"
 *   RFC 8984 participants/x/"sendTo" one address -> "calendarAddress"
 *   RFC 8984 "replyTo" with one address          -> "organizerCalendarAddress"
 *   "@type": "jsevent" / "jstask" (early drafts) -> "Event" / "Task"
 *   -08 "timeZone": null (floating)              -> no timeZone
 * Several rules, "excludedRecurrenceRules", several sendTo/replyTo addresses: invalid.
 */
#include <string.h>
#include <strings.h>

#include "formats/jscalendar/jscal.h"
#include "formats/jscalendar/jscal_util.h"

/* The one address of an RFC 8984 sendTo/replyTo map ({"imip": "mailto:..."}), or NULL. */
static const char *single_address(const json_t *m)
{
    if (!json_is_object(m) || json_object_size(m) != 1)
        return NULL;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) return json_string_value(v);
    return NULL;
}

static void invalid_at(json_t *invalid, const char *prefix, const char *name)
{
    json_array_append_new(invalid, json_sprintf("%s%s%s", prefix, *prefix ? "/" : "", name));
}

static void upgrade_entry(json_t *o, const char *prefix, json_t *invalid)
{
    json_t *t = json_object_get(o, "@type");
    if (json_is_string(t) && !strcasecmp(json_string_value(t), "jsevent"))
        json_object_set_new(o, "@type", json_string("Event"));
    else if (json_is_string(t) && !strcasecmp(json_string_value(t), "jstask"))
        json_object_set_new(o, "@type", json_string("Task"));
    json_t *rules = json_object_get(o, "recurrenceRules");
    if (rules) {
        if (json_is_array(rules) && json_array_size(rules) == 1 &&
            !json_object_get(o, "recurrenceRule")) {
            json_object_set(o, "recurrenceRule", json_array_get(rules, 0));
            json_object_del(o, "recurrenceRules");
        } else if (json_is_array(rules) && json_array_size(rules) == 0) {
            json_object_del(o, "recurrenceRules");
        } else {
            invalid_at(invalid, prefix, "recurrenceRules"); /* JSCalendar 2.0: one rule */
        }
    }
    if (json_object_get(o, "excludedRecurrenceRules"))
        invalid_at(invalid, prefix, "excludedRecurrenceRules"); /* removed in 2.0 */
    json_t *reply = json_object_get(o, "replyTo");
    if (reply) {
        const char *a = single_address(reply);
        if (a && !json_object_get(o, "organizerCalendarAddress")) {
            json_object_set_new(o, "organizerCalendarAddress", json_string(a));
            json_object_del(o, "replyTo");
        } else {
            invalid_at(invalid, prefix, "replyTo");
        }
    }
    const char *k;
    json_t *pt;
    json_object_foreach(json_object_get(o, "participants"), k, pt)
    {
        json_t *send = json_object_get(pt, "sendTo");
        if (!send)
            continue;
        const char *a = single_address(send);
        if (a && !json_object_get(pt, "calendarAddress")) {
            json_object_set_new(pt, "calendarAddress", json_string(a));
            json_object_del(pt, "sendTo");
        } else {
            char *p = jscal_strdupf("participants/%s/sendTo", k);
            invalid_at(invalid, prefix, p);
            free(p);
        }
    }
    if (json_is_null(json_object_get(o, "timeZone")))
        json_object_del(o, "timeZone"); /* -08: null is floating */
    if (json_is_null(json_object_get(o, "recurrenceIdTimeZone")))
        json_object_del(o, "recurrenceIdTimeZone"); /* -08: null is floating */
}

const char *jscal_upgrade_reason(const char *path)
{
    const char *name = path ? strrchr(path, '/') : NULL;
    name = name ? name + 1 : path ? path : "";
    if (!strcmp(name, "recurrenceRules"))
        return "JSCalendar 2.0 has one recurrenceRule, RFC 8984 recurrenceRules with more "
               "than one rule has no JSCalendar 2.0 form (§7.4.2.1)";
    if (!strcmp(name, "excludedRecurrenceRules"))
        return "obsolete in JSCalendar 2.0 (§7.4.2.1, iCalendar deprecated EXRULE)";
    if (!strcmp(name, "replyTo"))
        return "JSCalendar 2.0 has one organizerCalendarAddress, RFC 8984 replyTo is obsolete "
               "(§7.4.2.2) and converts only with one address and no organizerCalendarAddress";
    if (!strcmp(name, "sendTo"))
        return "JSCalendar 2.0 has one calendarAddress, RFC 8984 sendTo is obsolete (§7.4.2.2) "
               "and converts only with one address and no calendarAddress";
    return "no JSCalendar 2.0 form";
}

int jscal_upgrade(json_t *obj, json_t *invalid)
{
    size_t before = json_array_size(invalid);
    json_t *t = json_object_get(obj, "@type");
    if (json_is_string(t) && !strcasecmp(json_string_value(t), "jsgroup"))
        json_object_set_new(obj, "@type", json_string("Group"));
    if (json_is_string(json_object_get(obj, "@type")) &&
        !strcmp(json_string_value(json_object_get(obj, "@type")), "Group")) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(obj, "entries"), i, e)
        {
            char *p = jscal_strdupf("entries/%zu", i);
            if (json_is_object(e))
                upgrade_entry(e, p, invalid);
            free(p);
        }
    } else if (json_is_object(obj)) {
        upgrade_entry(obj, "", invalid);
    }
    return (int)(json_array_size(invalid) - before);
}
