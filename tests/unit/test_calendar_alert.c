/*
 * test_calendar_alert.c — the triggers of calendar_alert.h (draft-ietf-jmap-calendars-27
 * §6; jscalendarbis-08 §4.5.1): offset triggers relative to start and end, absolute
 * triggers once per series, acknowledged alerts suppressed (§6.2), snoozes of default
 * alerts (§6.1, §6.3), recurring events across a DST change and overrides, unknown
 * trigger types never fired, and the next trigger. Tasks (draft-ietf-jmap-tasks-06
 * alerts extension): "start" is the task's start, "end" its due; a time it lacks
 * never triggers; a recurring task's due keeps its distance from its start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "types/calendar_alert.h"
#include "util/util.h"

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        fail_msg("bad JSON: %s", e.text);
    return j;
}

static int64_t U(const char *s)
{
    int64_t t;
    assert_int_equal(util_utc_parse(s, &t), 0);
    return t;
}

/* "alertId@recurrenceId=UTC" per trigger, space-separated */
static int list_cb(const struct alert_fire *f, void *ud)
{
    char ts[21];
    util_utc_format(f->when, ts);
    char *out = ud;
    size_t n = strlen(out);
    snprintf(out + n, 1024 - n, "%s%s@%s=%s", n ? " " : "", f->alert_id,
             f->recurrence_id ? f->recurrence_id : "-", ts);
    return 0;
}

static void expect(const char *event, const char *defaults, const char *from, const char *to,
                   const char *want)
{
    json_t *ev = J(event), *d = defaults ? J(defaults) : json_object();
    char out[1024] = "";
    assert_int_equal(calendar_alert_triggers(ev, d, d, NULL, U(from), U(to), list_cb, out), 0);
    assert_string_equal(out, want);
    json_decref(ev);
    json_decref(d);
}

static void offset_start_and_end(void **state)
{
    (void)state;
    const char *ev = "{\"start\":\"2026-03-01T10:00:00\",\"timeZone\":\"Europe/Berlin\","
                     "\"duration\":\"PT1H\",\"alerts\":{"
                     "\"a\":{\"trigger\":{\"offset\":\"-PT15M\"}},"
                     "\"b\":{\"trigger\":{\"@type\":\"OffsetTrigger\",\"offset\":\"PT5M\","
                     "\"relativeTo\":\"end\"}}}}";
    /* 10:00 CET is 09:00Z: a at 08:45Z, b at 10:05Z; the window is (from, to] */
    expect(ev, NULL, "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z",
           "a@-=2026-03-01T08:45:00Z b@-=2026-03-01T10:05:00Z");
    expect(ev, NULL, "2026-03-01T08:45:00Z", "2026-03-01T10:05:00Z", "b@-=2026-03-01T10:05:00Z");
}

static void recurring_across_dst(void **state)
{
    (void)state;
    /* daily 09:00 Europe/Berlin; CET -> CEST on 2026-03-29 */
    expect("{\"start\":\"2026-03-27T09:00:00\",\"timeZone\":\"Europe/Berlin\","
           "\"duration\":\"PT1H\",\"recurrenceRule\":{\"frequency\":\"daily\"},"
           "\"alerts\":{\"d\":{\"trigger\":{\"offset\":\"-PT30M\"}}}}",
           NULL, "2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z",
           "d@2026-03-28T09:00:00=2026-03-28T07:30:00Z "
           "d@2026-03-29T09:00:00=2026-03-29T06:30:00Z");
}

static void overrides_and_absolute(void **state)
{
    (void)state;
    /* the second occurrence moved to 15:00 and its alert acknowledged; an absolute
     * alert fires once, not per occurrence */
    expect("{\"start\":\"2026-04-01T12:00:00\",\"timeZone\":\"Etc/UTC\",\"duration\":\"PT1H\","
           "\"recurrenceRule\":{\"frequency\":\"daily\",\"count\":3},"
           "\"recurrenceOverrides\":{\"2026-04-02T12:00:00\":{\"start\":\"2026-04-02T15:00:00\"},"
           "\"2026-04-03T12:00:00\":{\"alerts/x/acknowledged\":\"2026-04-03T11:00:00Z\"}},"
           "\"alerts\":{\"x\":{\"trigger\":{\"offset\":\"-PT1H\"}},"
           "\"abs\":{\"trigger\":{\"@type\":\"AbsoluteTrigger\",\"when\":\"2026-04-02T00:00:00Z\"}},"
           "\"odd\":{\"trigger\":{\"@type\":\"FutureTrigger\",\"offset\":\"-PT1H\"}}}}",
           NULL, "2026-03-31T00:00:00Z", "2026-04-05T00:00:00Z",
           "abs@-=2026-04-02T00:00:00Z x@2026-04-01T12:00:00=2026-04-01T11:00:00Z "
           "x@2026-04-02T12:00:00=2026-04-02T14:00:00Z");
}

static void acknowledged_and_default_snooze(void **state)
{
    (void)state;
    const char *defaults = "{\"dflt\":{\"trigger\":{\"offset\":\"-PT10M\"}}}";
    /* §6.1: the event's own alert is ignored; the default's acknowledgement is kept in
     * the event; a snooze related to the default fires */
    expect("{\"start\":\"2026-03-01T09:00:00\",\"timeZone\":\"Etc/UTC\",\"duration\":\"PT1H\","
           "\"useDefaultAlerts\":true,\"alerts\":{"
           "\"own\":{\"trigger\":{\"offset\":\"-PT30M\"}},"
           "\"dflt\":{\"acknowledged\":\"2026-03-01T08:51:00Z\",\"trigger\":{\"offset\":\"-PT10M\"}},"
           "\"snz\":{\"trigger\":{\"@type\":\"AbsoluteTrigger\",\"when\":\"2026-03-01T08:56:00Z\"},"
           "\"relatedTo\":{\"dflt\":{\"relation\":{\"snooze\":true}}}}}}",
           defaults, "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "snz@-=2026-03-01T08:56:00Z");
    expect("{\"start\":\"2026-03-01T09:00:00\",\"timeZone\":\"Etc/UTC\",\"duration\":\"PT1H\","
           "\"useDefaultAlerts\":true}",
           defaults, "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "dflt@-=2026-03-01T08:50:00Z");
}

static void next_trigger(void **state)
{
    (void)state;
    json_t *ev = J("{\"start\":\"2026-01-05T09:00:00\",\"timeZone\":\"Etc/UTC\","
                   "\"duration\":\"PT1H\",\"recurrenceRule\":{\"frequency\":\"yearly\"},"
                   "\"alerts\":{\"y\":{\"trigger\":{\"offset\":\"-P1D\"}}}}");
    json_t *none = json_object();
    assert_int_equal(calendar_alert_next(ev, none, none, NULL, U("2026-01-04T09:00:00Z"),
                                         400 * 86400),
                     U("2027-01-04T09:00:00Z"));
    assert_int_equal(calendar_alert_next(ev, none, none, NULL, U("2026-01-04T09:00:00Z"),
                                         100 * 86400),
                     -1);
    json_decref(ev);
    json_decref(none);
}

static void task_start_and_due(void **state)
{
    (void)state;
    /* jscalendarbis-17 §4.5.1 relativeTo "end": the due time */
    const char *t = "{\"@type\":\"Task\",\"start\":\"2026-03-01T10:00:00\","
                    "\"due\":\"2026-03-01T12:00:00\",\"timeZone\":\"Etc/UTC\",\"alerts\":{"
                    "\"s\":{\"trigger\":{\"offset\":\"-PT15M\"}},"
                    "\"d\":{\"trigger\":{\"offset\":\"-PT30M\",\"relativeTo\":\"end\"}}}}";
    expect(t, NULL, "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z",
           "s@-=2026-03-01T09:45:00Z d@-=2026-03-01T11:30:00Z");
    /* no start: only the due-relative one (RFC 5545 §3.8.6.3) */
    expect("{\"@type\":\"Task\",\"due\":\"2026-03-01T12:00:00\",\"timeZone\":\"Etc/UTC\","
           "\"alerts\":{\"s\":{\"trigger\":{\"offset\":\"-PT15M\"}},"
           "\"d\":{\"trigger\":{\"offset\":\"-PT30M\",\"relativeTo\":\"end\"}}}}",
           NULL, "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "d@-=2026-03-01T11:30:00Z");
    /* no due: only the start-relative one */
    expect("{\"@type\":\"Task\",\"start\":\"2026-03-01T10:00:00\",\"timeZone\":\"Etc/UTC\","
           "\"alerts\":{\"s\":{\"trigger\":{\"offset\":\"-PT15M\"}},"
           "\"d\":{\"trigger\":{\"offset\":\"-PT30M\",\"relativeTo\":\"end\"}}}}",
           NULL, "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "s@-=2026-03-01T09:45:00Z");
}

static void recurring_task_due(void **state)
{
    (void)state;
    /* daily, start 09:00, due two days later at 17:00 Europe/Berlin: each due keeps its
     * local distance (the window reaches back over it), across the DST change of 03-29;
     * the override of 03-28 moves that due itself */
    expect("{\"@type\":\"Task\",\"start\":\"2026-03-26T09:00:00\","
           "\"due\":\"2026-03-28T17:00:00\",\"timeZone\":\"Europe/Berlin\","
           "\"recurrenceRule\":{\"frequency\":\"daily\"},\"recurrenceOverrides\":{"
           "\"2026-03-28T09:00:00\":{\"due\":\"2026-03-30T18:00:00\"}},"
           "\"alerts\":{\"d\":{\"trigger\":{\"offset\":\"-PT1H\",\"relativeTo\":\"end\"}}}}",
           NULL, "2026-03-28T00:00:00Z", "2026-03-30T23:00:00Z",
           "d@2026-03-26T09:00:00=2026-03-28T15:00:00Z d@2026-03-27T09:00:00=2026-03-29T14:00:00Z "
           "d@2026-03-28T09:00:00=2026-03-30T15:00:00Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offset_start_and_end),   cmocka_unit_test(recurring_across_dst),
        cmocka_unit_test(overrides_and_absolute), cmocka_unit_test(acknowledged_and_default_snooze),
        cmocka_unit_test(next_trigger),           cmocka_unit_test(task_start_and_due),
        cmocka_unit_test(recurring_task_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
