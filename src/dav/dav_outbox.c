/*
 * dav_outbox.c — busy time requests (RFC 6638 §5): a POST of an iTIP REQUEST with one
 * VFREEBUSY (RFC 5546 §3.3.2) to the user's scheduling outbox is answered with a
 * CALDAV:schedule-response (§10.1) holding, per ATTENDEE, its request-status and, for a
 * user of this server whose busy time the requester may read, a VFREEBUSY REPLY. The busy
 * periods are Principal/getAvailability's (draft-ietf-jmap-calendars-27 §2.2) as the
 * requesting user, so mayReadFreeBusy and includeInAvailability decide what is shown,
 * exactly as over JMAP. Everything else is implicit scheduling (§3.2): nothing else is
 * accepted here.
 */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dav/dav_internal.h"
#include "types/types.h"

/* The folded content line of the first property of kind in c, or "" (libical's buffer). */
static const char *line_of(icalcomponent *c, icalproperty_kind kind)
{
    icalproperty *p = icalcomponent_get_first_property(c, kind);
    return p ? icalproperty_as_ical_string(p) : "";
}

/* A DATE-TIME property of c in UTC as seconds; false if absent or not UTC. */
static bool utc_time(icalcomponent *c, icalproperty_kind kind, int64_t *out)
{
    icalproperty *p = icalcomponent_get_first_property(c, kind);
    if (!p)
        return false;
    struct icaltimetype t = icalvalue_get_datetime(icalproperty_get_value(p));
    if (icaltime_is_null_time(t) || t.is_date || !icaltime_is_utc(t))
        return false;
    *out = (int64_t)icaltime_as_timet(t);
    return true;
}

static void fb_time(int64_t t, char out[17])
{
    struct icaltimetype it =
        icaltime_from_timet_with_zone((time_t)t, 0, icaltimezone_get_utc_timezone());
    snprintf(out, 17, "%04d%02d%02dT%02d%02d%02dZ", it.year, it.month, it.day, it.hour, it.minute,
             it.second);
}

/* The VFREEBUSY REPLY (RFC 5546 §3.3.3) of one attendee from their busy periods. */
static char *reply_of(icalcomponent *req, icalproperty *attendee, json_t *periods)
{
    struct buf b = {0};
    char now[17], s[17], e[17];
    fb_time(util_now(), now);
    buf_puts(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//jmapd//CalDAV//EN\r\n"
                 "METHOD:REPLY\r\nBEGIN:VFREEBUSY\r\n");
    buf_puts(&b, line_of(req, ICAL_UID_PROPERTY));
    buf_printf(&b, "DTSTAMP:%s\r\n", now);
    buf_puts(&b, line_of(req, ICAL_DTSTART_PROPERTY));
    buf_puts(&b, line_of(req, ICAL_DTEND_PROPERTY));
    buf_puts(&b, line_of(req, ICAL_ORGANIZER_PROPERTY));
    buf_puts(&b, icalproperty_as_ical_string(attendee));
    size_t i;
    json_t *p;
    json_array_foreach(periods, i, p)
    {
        int64_t ps, pe;
        const char *st = json_string_value(json_object_get(p, "busyStatus"));
        if (util_utc_parse(json_string_value(json_object_get(p, "utcStart")), &ps) != 0 ||
            util_utc_parse(json_string_value(json_object_get(p, "utcEnd")), &pe) != 0)
            continue;
        fb_time(ps, s);
        fb_time(pe, e);
        /* calendars-27 §2.2 calls an event busy time "unavailable" unless the user
         * accepted it ("confirmed"): both are events that take the time, RFC 5545
         * §3.2.9 BUSY (BUSY-UNAVAILABLE is for time outside working hours) */
        buf_printf(&b, "FREEBUSY;FBTYPE=%s:%s/%s\r\n",
                   st && !strcmp(st, "tentative") ? "BUSY-TENTATIVE" : "BUSY", s, e);
    }
    buf_puts(&b, "END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
    return buf_take(&b);
}

/* One CALDAV:response for attendee a over [start, end). */
static void attendee_response(struct dav_ctx *x, const struct store_access *acct,
                              icalcomponent *req, icalproperty *a, int64_t start, int64_t end,
                              struct buf *out)
{
    const char *addr = icalproperty_get_attendee(a);
    char pid[64], from[21], to[21];
    buf_puts(out, "<C:response><C:recipient><D:href>");
    dav_xml_text(out, addr ? addr : "");
    buf_puts(out, "</D:href></C:recipient><C:request-status>");
    if (!addr || strncasecmp(addr, "mailto:", 7) != 0 ||
        principal_find_email(x->c, addr + 7, pid) != STORE_OK) {
        buf_puts(out, "3.7;Invalid calendar user</C:request-status></C:response>");
        return;
    }
    util_utc_format(start, from);
    util_utc_format(end, to);
    struct dav_kind avail = dav_calendars; /* the call's capability */
    avail.capability = JMAP_PRINCIPALS_AVAILABILITY;
    json_t *args = json_pack("{s:s, s:s, s:s, s:s}", "accountId", acct->account_id, "id", pid,
                             "utcStart", from, "utcEnd", to);
    json_t *res = dav_jmap_call(x, &avail, "Principal/getAvailability", args);
    json_decref(args);
    if (!res) { /* not allowed to see it (no mayReadFreeBusy) or out of bounds */
        buf_puts(out, "3.8;No authority</C:request-status></C:response>");
        return;
    }
    char *text = reply_of(req, a, json_object_get(res, "list"));
    buf_puts(out, "2.0;Success</C:request-status><C:calendar-data>");
    dav_xml_text(out, text);
    buf_puts(out, "</C:calendar-data></C:response>");
    free(text);
    json_decref(res);
}

/* The VFREEBUSY of a busy time request, or NULL with the error response queued. */
static icalcomponent *request_of(struct dav_ctx *x, icalcomponent *cal, int64_t *start,
                                 int64_t *end)
{
    icalcomponent *fb = icalcomponent_get_first_component(cal, ICAL_VFREEBUSY_COMPONENT);
    icalproperty *m = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY);
    /* RFC 5546 §3.3.2: METHOD:REQUEST, one VFREEBUSY with DTSTAMP, DTSTART and DTEND in UTC,
     * ORGANIZER, at least one ATTENDEE, UID; nothing else */
    bool valid = fb && m && icalproperty_get_method(m) == ICAL_METHOD_REQUEST &&
                 !icalcomponent_get_next_component(cal, ICAL_VFREEBUSY_COMPONENT) &&
                 icalcomponent_count_components(cal, ICAL_ANY_COMPONENT) ==
                     icalcomponent_count_components(cal, ICAL_VFREEBUSY_COMPONENT) +
                         icalcomponent_count_components(cal, ICAL_VTIMEZONE_COMPONENT) &&
                 utc_time(fb, ICAL_DTSTART_PROPERTY, start) &&
                 utc_time(fb, ICAL_DTEND_PROPERTY, end) && *end > *start &&
                 icalcomponent_get_first_property(fb, ICAL_UID_PROPERTY) &&
                 icalcomponent_get_first_property(fb, ICAL_ORGANIZER_PROPERTY) &&
                 icalcomponent_get_first_property(fb, ICAL_ATTENDEE_PROPERTY);
    if (!valid) {
        dav_error(x, 400, NS_CALDAV, "valid-scheduling-message", NULL); /* §5.2.1 */
        return NULL;
    }
    const char *org =
        icalproperty_get_organizer(icalcomponent_get_first_property(fb, ICAL_ORGANIZER_PROPERTY));
    if (!org || !dav_schedule_address_mine(x, org)) {
        dav_error(x, 403, NS_CALDAV, "valid-organizer", NULL); /* §5.2.2 */
        return NULL;
    }
    return fb;
}

void dav_outbox_post(struct dav_ctx *x, const struct store_access *acct)
{
    const char *ct = x->q->content_type;
    if (!acct->is_personal) { /* another user's outbox (RFC 6638 §6.2.1 schedule-send) */
        dav_need_privilege(x, NULL, false, NS_CALDAV, "schedule-send");
        return;
    }
    if (!ct || strncasecmp(ct, "text/calendar", 13) != 0) {
        dav_error(x, 403, NS_CALDAV, "supported-calendar-data", NULL);
        return;
    }
    char *body = xstrndup(x->q->body ? x->q->body : "", x->q->len);
    icalcomponent *cal = icalparser_parse_string(body);
    free(body);
    if (!cal || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
        if (cal)
            icalcomponent_free(cal);
        dav_error(x, 403, NS_CALDAV, "valid-calendar-data", NULL);
        return;
    }
    int64_t start = 0, end = 0;
    icalcomponent *fb = request_of(x, cal, &start, &end);
    if (!fb) {
        icalcomponent_free(cal);
        return;
    }
    struct buf out = {0};
    buf_puts(&out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<C:schedule-response "
                   "xmlns:D=\"DAV:\" xmlns:C=\"" NS_CALDAV "\">");
    /* the attendees first: reading other properties moves the component's iterator */
    icalproperty *att[100];
    int n = 0;
    for (icalproperty *a = icalcomponent_get_first_property(fb, ICAL_ATTENDEE_PROPERTY);
         a && n < 100; a = icalcomponent_get_next_property(fb, ICAL_ATTENDEE_PROPERTY))
        att[n++] = a;
    for (int i = 0; i < n; i++)
        attendee_response(x, acct, fb, att[i], start, end, &out);
    buf_puts(&out, "</C:schedule-response>\n");
    icalcomponent_free(cal);
    dav_reply_xml(x, 200, &out);
}
