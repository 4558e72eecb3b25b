/*
 * test_ical.c — the iCalendar side: content-line syntax (RFC 5545 §3.1 folding, §3.3.11
 * escaping, RFC 6868 parameter encoding), precise errors, the streaming writer, time zones
 * that only exist as VTIMEZONE, the per-TZID VTIMEZONE cache, Windows zone names, task
 * properties and concurrent use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "formats/icalendar/ical_syntax.h"
#include "formats/icalendar/ical_vtimezone.h"
#include "formats/icalendar_jscalendar/ical.h"
#include "formats/jscalendar/jscal.h"
#include "formats/json/buffer.h"
#include "formats/recurrence/recur.h"
#include "formats/timezone/tz.h"

#define CAL(body)                                                                                \
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:u1\r\n"         \
    "DTSTAMP:20240101T000000Z\r\n" body "END:VEVENT\r\nEND:VCALENDAR\r\n"

static json_t *conv(const char *ics)
{
    char *err = NULL;
    json_t *j = ical_to_jscal(ics, strlen(ics), 0, &err);
    if (!j)
        print_error("conversion failed: %s\n", err);
    free(err);
    assert_non_null(j);
    return j;
}

static void test_folding_and_escaping(void **state)
{
    (void)state;
    /* a long UTF-8 summary with characters that need escaping */
    char title[600] = "";
    for (int i = 0; i < 40; i++)
        strcat(title, "Fête; à, \\ ");
    strcat(title, "\nline two");
    json_t *e = json_pack("{s:s,s:s,s:s,s:s,s:s}", "@type", "Event", "uid", "u", "updated",
                          "2024-01-01T00:00:00Z", "start", "2024-01-01T10:00:00", "title", title);
    char *err = NULL;
    char *ics = jscal_to_ical(e, &err);
    assert_non_null(ics);
    for (char *l = ics; *l;) {
        char *crlf = strstr(l, "\r\n");
        assert_non_null(crlf);                 /* every line ends in CRLF */
        assert_true(crlf - l <= 75);           /* §3.1: at most 75 octets */
        /* no line starts inside a UTF-8 sequence (after the fold space) */
        if (*l == ' ')
            assert_false(((unsigned char)l[1] & 0xC0) == 0x80);
        l = crlf + 2;
    }
    assert_non_null(strstr(ics, "\\;"));
    assert_non_null(strstr(ics, "\\,"));
    json_t *back = conv(ics);
    assert_string_equal(json_string_value(json_object_get(back, "title")), title);
    free(ics);
    json_decref(back);
    json_decref(e);
}

static void test_parameters(void **state)
{
    (void)state;
    /* RFC 6868 caret escapes and quoted values with ':' ';' ',' */
    json_t *j = conv(CAL("DTSTART:20240101T100000Z\r\n"
                         "ATTENDEE;CN=\"Doe, Jane; ^'JD^'\":mailto:jd@example.com\r\n"
                         "ORGANIZER:mailto:o@example.com\r\n"));
    json_t *parts = json_object_get(j, "participants");
    const char *k;
    json_t *p;
    int found = 0;
    json_object_foreach(parts, k, p) if (json_string_value(json_object_get(p, "name")) &&
                                         !strcmp(json_string_value(json_object_get(p, "name")),
                                                 "Doe, Jane; \"JD\"")) found = 1;
    assert_true(found);
    char *err = NULL;
    char *ics = jscal_to_ical(j, &err);
    assert_non_null(strstr(ics, "CN=\"Doe, Jane; ^'JD^'\""));
    free(ics);
    json_decref(j);
}

/* Issue 12 §3.5: a real-world file is repaired where it can be, each repair a warning
 * naming the line or property; what cannot be repaired is an error that does. Either way
 * the message mentions needle. want_result: 1 converts, 0 is refused. */
static void expect_problem(const char *ics, const char *needle, int want_result)
{
    char *err = NULL;
    json_t *warnings = json_array();
    json_t *j = ical_to_jscal_warn(ics, strlen(ics), 0, warnings, &err);
    assert_int_equal(j != NULL, want_result);
    assert_true(j ? err == NULL : err != NULL);
    int found = err && strstr(err, needle);
    size_t i;
    json_t *w;
    json_array_foreach(warnings, i, w) found |= strstr(json_string_value(w), needle) != NULL;
    if (!found) {
        char *ws = json_dumps(warnings, 0);
        print_error("'%s' / %s do not mention '%s'\n", err ? err : "", ws, needle);
        free(ws);
        fail();
    }
    free(err);
    json_decref(j);
    json_decref(warnings);
}

static void test_errors_name_line_or_property(void **state)
{
    (void)state;
    expect_problem("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nbroken line\r\n"
                   "DTSTART:20240101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                   "line 5", 1);
    expect_problem("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VTODO\r\nEND:VCALENDAR\r\n", "line 3", 0);
    expect_problem("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20240101T100000Z\r\n",
                   "missing END", 1);
    expect_problem(CAL("DTSTART:2024-01-01\r\n"), "DTSTART", 0);
    expect_problem(CAL("DTSTART:20240101T100000Z\r\nRRULE:FREQ=SOMETIMES\r\n"), "RRULE", 1);
    expect_problem(CAL("DTSTART;TZID=Nowhere/Special:20240101T100000\r\n"), "TZID", 1);
    expect_problem(CAL("DTSTART:20240101T100000Z\r\nPRIORITY:high\r\n"), "PRIORITY", 1);
    expect_problem("", "VCALENDAR", 0);
    expect_problem("hello", "line 1", 0);
    /* the strict parser (our own output, jCal) still refuses */
    ical_comp **tops = NULL;
    char *err = NULL;
    const char *bad = "BEGIN:VCALENDAR\r\nbroken line\r\nEND:VCALENDAR\r\n";
    assert_int_equal(ical_parse(bad, strlen(bad), &tops, &err), -1);
    assert_non_null(strstr(err, "line 2"));
    free(err);
}

static void test_streaming_writer(void **state)
{
    (void)state;
    ical_writer *w = ical_writer_new("-//jmapd//export//EN", NULL);
    char *head = ical_writer_begin(w);
    assert_non_null(strstr(head, "PRODID:-//jmapd//export//EN"));
    json_t *e1 = json_pack("{s:s,s:s,s:s,s:s,s:s}", "@type", "Event", "uid", "a", "updated",
                           "2024-01-01T00:00:00Z", "start", "2024-03-31T10:00:00", "timeZone",
                           "Europe/Berlin");
    json_t *e2 = json_pack("{s:s,s:s,s:s,s:s,s:s}", "@type", "Task", "uid", "b", "updated",
                           "2024-01-01T00:00:00Z", "due", "2024-04-01T10:00:00", "timeZone",
                           "America/New_York");
    json_t *bad = json_pack("{s:s}", "@type", "Event");
    char *err = NULL;
    char *s1 = ical_writer_add(w, e1, &err), *s2 = ical_writer_add(w, e2, &err);
    assert_non_null(s1);
    assert_non_null(s2);
    char *s3 = ical_writer_add(w, bad, &err);
    assert_null(s3);
    assert_non_null(strstr(err, "uid"));
    free(err);
    char *tail = ical_writer_end(w);
    /* one VTIMEZONE per zone used (RFC 5545 §3.6.5) */
    assert_non_null(strstr(tail, "TZID:Europe/Berlin"));
    assert_non_null(strstr(tail, "TZID:America/New_York"));
    assert_non_null(strstr(tail, "END:VCALENDAR"));
    size_t n = strlen(head) + strlen(s1) + strlen(s2) + strlen(tail) + 1;
    char *all = malloc(n);
    snprintf(all, n, "%s%s%s%s", head, s1, s2, tail);
    char *cerr = NULL;
    json_t *g = ical_to_jscal(all, strlen(all), 0, &cerr);
    assert_non_null(g);
    assert_int_equal(json_array_size(json_object_get(g, "entries")), 2);
    json_decref(g);
    free(all);
    free(head);
    free(s1);
    free(s2);
    free(tail);
    ical_writer_free(w);
    json_decref(e1);
    json_decref(e2);
    json_decref(bad);
}

static const char *custom_tz =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:My Office Time\r\n"
    "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
    "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nUID:c1\r\nDTSTAMP:20240101T000000Z\r\n"
    "DTSTART;TZID=My Office Time:20240701T090000\r\nRRULE:FREQ=DAILY;COUNT=2\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n";

static void test_vtimezone_only_zone(void **state)
{
    (void)state;
    json_t *j = conv(custom_tz);
    assert_string_equal(json_string_value(json_object_get(j, "timeZone")), "My Office Time");
    assert_int_equal(jscal_validate(j, 0, NULL), 0);
    char *err = NULL;
    int code;
    int64_t from, to;
    recur_parse_utc("2024-07-01T00:00:00Z", &from);
    recur_parse_utc("2024-07-03T00:00:00Z", &to);
    recur_iter *it = recur_iter_new(j, from, to, NULL, NULL, 0, &code, &err);
    assert_non_null(it);
    recur_occurrence occ;
    assert_int_equal(recur_iter_next(it, &occ), 1);
    char buf[24];
    recur_format_utc(occ.utc_start, buf);
    assert_string_equal(buf, "2024-07-01T07:00:00Z"); /* +0200 in summer */
    recur_iter_free(it);
    char *ics = jscal_to_ical(j, &err);
    assert_non_null(ics);
    assert_non_null(strstr(ics, "TZID:My Office Time"));
    json_t *back = conv(ics);
    assert_true(json_equal(j, back));
    free(ics);
    json_decref(back);
    json_decref(j);
}

static void test_windows_zone(void **state)
{
    (void)state;
    json_t *j = conv(CAL("DTSTART;TZID=W. Europe Standard Time:20240701T090000\r\n"
                         "DTEND;TZID=\"(UTC-05:00) Eastern Time (US & Canada)\":20240701T100000\r\n"));
    assert_string_equal(json_string_value(json_object_get(j, "timeZone")), "Europe/Berlin");
    assert_string_equal(json_string_value(json_object_get(j, "endTimeZone")), "America/New_York");
    assert_string_equal(json_string_value(json_object_get(j, "duration")), "PT7H");
    json_decref(j);
}

static void test_task_properties(void **state)
{
    (void)state;
    const char *ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VTODO\r\n"
                      "UID:t1\r\nDTSTAMP:20240101T000000Z\r\nDUE;TZID=Europe/Vienna:20240119T180000\r\n"
                      "ESTIMATED-DURATION:PT1H\r\nPERCENT-COMPLETE:40\r\nSTATUS:FAILED\r\n"
                      "REASON:https://example.com/reason/42\r\nSUBSTATE:ERROR\r\nTASK-MODE:AUTOMATIC\r\n"
                      "ORGANIZER:mailto:o@example.com\r\n"
                      "ATTENDEE;PARTSTAT=IN-PROCESS:mailto:a@example.com\r\n"
                      "END:VTODO\r\nEND:VCALENDAR\r\n";
    json_t *j = conv(ics);
    assert_string_equal(json_string_value(json_object_get(j, "@type")), "Task");
    assert_string_equal(json_string_value(json_object_get(j, "due")), "2024-01-19T18:00:00");
    assert_string_equal(json_string_value(json_object_get(j, "timeZone")), "Europe/Vienna");
    assert_string_equal(json_string_value(json_object_get(j, "estimatedDuration")), "PT1H");
    assert_int_equal(json_integer_value(json_object_get(j, "percentComplete")), 40);
    assert_string_equal(json_string_value(json_object_get(j, "progress")), "failed");
    const char *k;
    json_t *p;
    int saw = 0;
    json_object_foreach(json_object_get(j, "participants"), k, p) if (json_object_get(p, "progress"))
    {
        assert_string_equal(json_string_value(json_object_get(p, "progress")), "in-process");
        assert_string_equal(json_string_value(json_object_get(p, "participationStatus")), "accepted");
        saw = 1;
    }
    assert_true(saw);
    /* ical-tasks-17 properties without a JSCalendar counterpart are kept */
    char *s = json_dumps(json_object_get(j, "iCalendar"), 0);
    assert_non_null(strstr(s, "\"reason\""));
    assert_non_null(strstr(s, "\"substate\""));
    assert_non_null(strstr(s, "\"task-mode\""));
    free(s);
    char *err = NULL;
    char *out = jscal_to_ical(j, &err);
    assert_non_null(strstr(out, "STATUS:FAILED"));
    assert_non_null(strstr(out, "PARTSTAT=IN-PROCESS"));
    assert_non_null(strstr(out, "REASON"));
    json_t *back = conv(out);
    assert_true(json_equal(j, back));
    free(out);
    json_decref(back);
    json_decref(j);
}

static void test_structured_and_unknown_roundtrip(void **state)
{
    (void)state;
    const char *ics = CAL("DTSTART:20240101T100000Z\r\nREQUEST-STATUS:3.7;Invalid user;mailto:a\\;b@x\r\n"
                          "X-EMPTY;X-P=\"a:b\":\r\nRESOURCES:Projector,Room\\, big\r\n"
                          "BEGIN:X-THING\r\nX-A;VALUE=INTEGER:5\r\nEND:X-THING\r\n");
    json_t *j = conv(ics);
    char *err = NULL;
    char *out = jscal_to_ical(j, &err);
    assert_non_null(out);
    assert_non_null(strstr(out, "REQUEST-STATUS:3.7;Invalid user;mailto:a\\;b@x\r\n"));
    assert_non_null(strstr(out, "RESOURCES:Projector,Room\\, big\r\n"));
    assert_non_null(strstr(out, "X-EMPTY;X-P=\"a:b\":\r\n"));
    assert_non_null(strstr(out, "X-A;VALUE=INTEGER:5\r\n"));
    /* a vendor property travels as JSPROP with a quoted JSPTR (draft -25 §4.2.2) */
    json_object_set_new(j, "example.com:flag", json_true());
    free(out);
    out = jscal_to_ical(j, &err);
    assert_non_null(strstr(out, "JSPROP;JSPTR=\"example.com:flag\":true\r\n"));
    json_object_del(j, "example.com:flag");
    free(out);
    out = jscal_to_ical(j, &err);
    json_t *back = conv(out);
    assert_true(json_equal(j, back));
    free(out);
    json_decref(back);
    json_decref(j);
}

static void test_timing_mode(void **state)
{
    (void)state;
    const char *ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:t\r\n"
                      "DTSTAMP:20240101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20240101T100000\r\n"
                      "DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEXDATE;TZID=Europe/Berlin:20240102T100000\r\n"
                      "SUMMARY:x\r\nATTENDEE:mailto:a@example.com\r\nBEGIN:VALARM\r\nTRIGGER:-PT5M\r\n"
                      "ACTION:DISPLAY\r\nDESCRIPTION:x\r\nEND:VALARM\r\nEND:VEVENT\r\n"
                      "BEGIN:VEVENT\r\nUID:t\r\nDTSTAMP:20240101T000000Z\r\n"
                      "RECURRENCE-ID;TZID=Europe/Berlin:20240103T100000\r\n"
                      "DTSTART;TZID=Europe/Berlin:20240103T120000\r\nDURATION:PT2H\r\nSUMMARY:y\r\n"
                      "END:VEVENT\r\nEND:VCALENDAR\r\n";
    char *err = NULL;
    json_t *j = ical_to_jscal(ics, strlen(ics), ICAL_TO_JSCAL_TIMING, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "start")), "2024-01-01T10:00:00");
    assert_non_null(json_object_get(j, "recurrenceRule"));
    json_t *ov = json_object_get(json_object_get(j, "recurrenceOverrides"), "2024-01-03T10:00:00");
    assert_string_equal(json_string_value(json_object_get(ov, "start")), "2024-01-03T12:00:00");
    assert_string_equal(json_string_value(json_object_get(ov, "duration")), "PT2H");
    assert_null(json_object_get(ov, "title"));
    assert_true(json_is_true(json_object_get(json_object_get(json_object_get(j, "recurrenceOverrides"),
                                                             "2024-01-02T10:00:00"), "excluded")));
    assert_null(json_object_get(j, "title"));
    assert_null(json_object_get(j, "participants"));
    assert_null(json_object_get(j, "alerts"));
    json_decref(j);
}

static void test_group_and_unwrap(void **state)
{
    (void)state;
    json_t *j = conv(CAL("DTSTART:20240101T100000Z\r\n"));
    assert_string_equal(json_string_value(json_object_get(j, "@type")), "Event");
    char *err = NULL;
    const char *two = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nNAME:Cal\r\nMETHOD:REQUEST\r\n"
                      "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\nEND:VEVENT\r\n"
                      "END:VCALENDAR\r\n";
    json_t *g = ical_to_jscal(two, strlen(two), 0, &err);
    assert_string_equal(json_string_value(json_object_get(g, "@type")), "Group");
    assert_string_equal(json_string_value(json_object_get(g, "title")), "Cal");
    json_t *e = json_array_get(json_object_get(g, "entries"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "method")), "request");
    json_decref(g);
    g = ical_to_jscal(two, strlen(two), ICAL_TO_JSCAL_GROUP, &err);
    assert_string_equal(json_string_value(json_object_get(g, "@type")), "Group");
    json_decref(g);
    json_decref(j);
}

/* The VTIMEZONE of a zone (RFC 5545 §3.6.5) is generated once per TZID and kept: the second
 * resource in the same zone gets the same text from the cache, and an alias keeps its own
 * spelling as TZID (the cache is keyed by the TZID as written). */
static char *zone_ics(const char *tz)
{
    json_t *e = json_pack("{s:s,s:s,s:s,s:s,s:s}", "@type", "Event", "uid", "z", "updated",
                          "2024-01-01T00:00:00Z", "start", "2024-07-01T10:00:00", "timeZone", tz);
    char *err = NULL;
    char *ics = jscal_to_ical(e, &err);
    assert_non_null(ics);
    json_decref(e);
    return ics;
}

static void test_vtimezone_cache(void **state)
{
    (void)state;
    int before = ical_vtimezone_cached();
    char *a = zone_ics("Australia/Sydney");
    assert_int_equal(ical_vtimezone_cached(), before + 1);
    char *b = zone_ics("Australia/Sydney");
    assert_int_equal(ical_vtimezone_cached(), before + 1);
    assert_string_equal(a, b);
    const char *vtz = strstr(a, "BEGIN:VTIMEZONE\r\nTZID:Australia/Sydney\r\n");
    assert_non_null(vtz);
    assert_non_null(strstr(vtz, "BEGIN:DAYLIGHT"));
    assert_non_null(strstr(vtz, "TZOFFSETTO:+1100"));
    json_t *back = conv(a); /* the generated zone reads back as the IANA zone */
    assert_string_equal(json_string_value(json_object_get(back, "timeZone")), "Australia/Sydney");
    json_decref(back);
    char *c = zone_ics("US/Pacific");
    assert_non_null(strstr(c, "BEGIN:VTIMEZONE\r\nTZID:US/Pacific\r\n"));
    assert_int_equal(ical_vtimezone_cached(), before + 2);
    jbuf j = {0};
    assert_false(ical_vtimezone_append("No/Such_Zone", 0, &j));
    assert_int_equal(j.len, 0);
    assert_true(ical_vtimezone_append("UTC", 0, &j));
    assert_non_null(strstr(j.s, "TZOFFSETTO:+0000"));
    jbuf_free(&j);
    free(a);
    free(b);
    free(c);
}

/* The VTIMEZONE an event of year written in tz gets (malloc'd text of the component). */
static char *vtimezone_of(const char *tz, const char *start)
{
    json_t *e = json_pack("{s:s,s:s,s:s,s:s,s:s}", "@type", "Event", "uid", "y", "updated",
                          "2024-01-01T00:00:00Z", "start", start, "timeZone", tz);
    char *err = NULL;
    char *ics = jscal_to_ical(e, &err);
    assert_non_null(ics);
    json_decref(e);
    const char *a = strstr(ics, "BEGIN:VTIMEZONE"), *z = a ? strstr(a, "END:VTIMEZONE\r\n") : NULL;
    assert_non_null(z);
    char *v = strndup(a, (size_t)(z - a) + 15);
    free(ics);
    return v;
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (; (s = strstr(s, what)); s++)
        n++;
    return n;
}

/* RFC 5545 §3.6.5: a VTIMEZONE "MUST provide valid time zone information for all
 * recurrence instances", not the zone's history. An event's VTIMEZONE keeps the
 * observances from the year before its earliest time on, and gives the same offsets as
 * the whole zone at every hour from then to 2045. */
static void test_rfc5545_3_6_5_vtimezone_from_the_years_written(void **state)
{
    (void)state;
    static const char *const zones[] = {"Europe/Berlin", "America/New_York", "Australia/Sydney",
                                        "America/Sao_Paulo",
                                        "Asia/Tokyo"}; /* Tokyo: no change since 1951 */
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        jbuf whole = {0};
        assert_true(ical_vtimezone_append(zones[z], 0, &whole));
        char *v = vtimezone_of(zones[z], "2025-03-01T10:00:00");
        assert_true(count(v, "BEGIN:STANDARD") + count(v, "BEGIN:DAYLIGHT") >= 1);
        assert_true(count(v, "BEGIN:STANDARD") + count(v, "BEGIN:DAYLIGHT") <
                    count(whole.s, "BEGIN:STANDARD") + count(whole.s, "BEGIN:DAYLIGHT"));
        assert_null(strstr(v, "DTSTART:18")); /* no nineteenth-century observance */
        icalcomponent *c = icalparser_parse_string(v);
        assert_non_null(c);
        icaltimezone *cut = tz_from_vtimezone(c), *full = tz_builtin(zones[z]);
        assert_non_null(cut);
        assert_non_null(full);
        for (int64_t t = 1704067200; t < 2398377600; t += 3 * 3600) /* 2024-01-01 .. 2046 */
            assert_int_equal(tz_libical_offset_at_utc(cut, t), tz_libical_offset_at_utc(full, t));
        icaltimezone_free(cut, 1);
        icalcomponent_free(c);
        free(v);
        jbuf_free(&whole);
    }
    /* an event of 1900 keeps the zone's first observance (1893) */
    char *old = vtimezone_of("Europe/Berlin", "1900-05-01T10:00:00");
    assert_non_null(strstr(old, "DTSTART:18930401T000000"));
    free(old);
}

/* Writes obj with one writer, its IANA zones by reference or not (RFC 7809 §3.1.2). */
static char *write_one(const json_t *obj, bool by_reference)
{
    ical_writer *w = ical_writer_new(NULL, NULL);
    if (by_reference)
        ical_writer_zones_by_reference(w);
    char *err = NULL, *head = ical_writer_begin(w), *body = ical_writer_add(w, obj, &err);
    char *tail = ical_writer_end(w);
    assert_non_null(body);
    size_t n = strlen(head) + strlen(body) + strlen(tail) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%s%s%s", head, body, tail);
    free(head);
    free(body);
    free(tail);
    ical_writer_free(w);
    return out;
}

static void test_rfc7809_3_1_2_iana_zones_by_reference(void **state)
{
    (void)state;
    json_t *e = json_pack("{s:s,s:s,s:s,s:s,s:s}", "@type", "Event", "uid", "z", "updated",
                          "2024-01-01T00:00:00Z", "start", "2025-03-01T10:00:00", "timeZone",
                          "Europe/Berlin");
    char *full = write_one(e, false), *lean = write_one(e, true);
    assert_non_null(strstr(full, "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin"));
    assert_null(strstr(lean, "BEGIN:VTIMEZONE"));
    assert_non_null(strstr(lean, "DTSTART;TZID=Europe/Berlin:20250301T100000"));
    free(full);
    free(lean);
    json_decref(e);
    /* a zone the data carries as a VTIMEZONE of its own has no reference: still written */
    json_t *j = conv(custom_tz);
    char *custom = write_one(j, true);
    assert_int_equal(count(custom, "BEGIN:VTIMEZONE"), 1);
    assert_non_null(strstr(custom, "TZID:My Office Time"));
    free(custom);
    json_decref(j);
}

/* RFC 5545 §3.6.5: an observance that ended before the year before the earliest time is
 * kept only while it is the one in effect then. Europe/Berlin's standard time rule of
 * 1980-1995 is not (the rule of 1996 had begun), nor any other rule with an UNTIL before
 * 2024 in a zone whose kept rules began before 2024. The offsets stay the whole zone's,
 * and a zone whose rules all ended keeps the last (the test above). */
static void
test_rfc5545_3_6_5_vtimezone_without_an_ended_rule_beside_the_one_in_effect(void **state)
{
    (void)state;
    static const char *const zones[] = {"Europe/Berlin", "America/New_York", "Australia/Sydney",
                                        "Europe/London"};
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        char *v = vtimezone_of(zones[z], "2025-03-01T10:00:00");
        for (const char *u = v; (u = strstr(u, "UNTIL=")); u++)
            assert_true(strncmp(u + 6, "2024", 4) >= 0);
        assert_true(count(v, "BEGIN:STANDARD") + count(v, "BEGIN:DAYLIGHT") >= 2);
        free(v);
    }
    char *berlin = vtimezone_of("Europe/Berlin", "2025-03-01T10:00:00");
    assert_null(strstr(berlin, "DTSTART:19800928T030000"));
    free(berlin);
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        char *err = NULL;
        json_t *j = ical_to_jscal(custom_tz, strlen(custom_tz), 0, &err);
        if (!j)
            return (void *)1;
        char *ics = jscal_to_ical(j, &err);
        json_t *k = json_pack("{s:s,s:s,s:s,s:s,s:s}", "@type", "Event", "uid", "x", "updated",
                              "2024-01-01T00:00:00Z", "start", "2024-01-01T10:00:00", "timeZone",
                              i % 2 ? "Asia/Kolkata" : "America/Sao_Paulo");
        char *ics2 = jscal_to_ical(k, &err);
        int ok = ics && ics2;
        free(ics);
        free(ics2);
        json_decref(j);
        json_decref(k);
        if (!ok)
            return (void *)1;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folding_and_escaping),
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_errors_name_line_or_property),
        cmocka_unit_test(test_streaming_writer),
        cmocka_unit_test(test_vtimezone_only_zone),
        cmocka_unit_test(test_windows_zone),
        cmocka_unit_test(test_task_properties),
        cmocka_unit_test(test_structured_and_unknown_roundtrip),
        cmocka_unit_test(test_timing_mode),
        cmocka_unit_test(test_group_and_unwrap),
        cmocka_unit_test(test_vtimezone_cache),
        cmocka_unit_test(test_rfc5545_3_6_5_vtimezone_from_the_years_written),
        cmocka_unit_test(test_rfc7809_3_1_2_iana_zones_by_reference),
        cmocka_unit_test(
            test_rfc5545_3_6_5_vtimezone_without_an_ended_rule_beside_the_one_in_effect),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
