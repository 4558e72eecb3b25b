/*
 * test_ical_interop.c — iCalendar ⇄ JSCalendar behaviours other producers and strict
 * comparers rely on (issue 12 §3): the draft-ietf-calext-jscalendar-icalendar-25 spellings
 * of the written text, TZIDs holding commas, round-trip stability and the repairs of
 * real-world files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "formats/icalendar_jscalendar/ical.h"
#include "formats/jscalendar/jscal.h"
#include "formats/recurrence/recur.h"

#define CAL(body)                                                                                \
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:u1\r\n"         \
    "DTSTAMP:20240101T000000Z\r\n" body "END:VEVENT\r\nEND:VCALENDAR\r\n"

static json_t *conv(const char *ics, int flags)
{
    char *err = NULL;
    json_t *j = ical_to_jscal(ics, strlen(ics), flags, &err);
    if (!j)
        print_error("conversion failed: %s\n", err);
    free(err);
    assert_non_null(j);
    return j;
}

static char *to_ics(const json_t *j)
{
    char *err = NULL;
    char *ics = jscal_to_ical(j, &err);
    if (!ics)
        print_error("conversion failed: %s\n", err);
    free(err);
    assert_non_null(ics);
    return ics;
}

/* ics -> json -> ics -> json: the two JSON trees are equal (draft -25 §1.4). */
static void assert_stable(const char *ics)
{
    json_t *a = conv(ics, ICAL_TO_JSCAL_GROUP);
    char *t = to_ics(a);
    json_t *b = conv(t, ICAL_TO_JSCAL_GROUP);
    if (!json_equal(a, b)) {
        char *sa = json_dumps(a, JSON_SORT_KEYS), *sb = json_dumps(b, JSON_SORT_KEYS);
        print_error("unstable:\n%s\n%s\n%s\n", sa, t, sb);
        free(sa);
        free(sb);
    }
    assert_true(json_equal(a, b));
    free(t);
    json_decref(a);
    json_decref(b);
}

/* draft -25 §2.3.41: STYLED-DESCRIPTION is written as the draft's example writes it,
 * VALUE=TEXT first, then FMTTYPE; and it reads back. */
static void test_draft25_2_3_41_styled_description_value_text(void **state)
{
    (void)state;
    const char *ics = CAL("DTSTART:20240101T100000Z\r\nSTYLED-DESCRIPTION;VALUE=TEXT;FMTTYPE=text/"
                          "html:<b>hi</b>\r\n");
    json_t *e = conv(ics, 0);
    assert_string_equal(json_string_value(json_object_get(e, "descriptionContentType")),
                        "text/html");
    char *t = to_ics(e);
    assert_non_null(strstr(t, "\r\nSTYLED-DESCRIPTION;VALUE=TEXT;FMTTYPE=text/html:<b>hi</b>\r\n"));
    free(t);
    json_decref(e);
    assert_stable(ics);
}

/* draft -25 §2.3.6: one CATEGORIES per keyword, as the draft's example writes them. */
static void test_draft25_2_3_6_one_categories_per_keyword(void **state)
{
    (void)state;
    const char *ics = CAL("DTSTART:20240101T100000Z\r\nCATEGORIES:Favorites,Meeting\r\n"
                          "CATEGORIES:a\\,b\r\n");
    json_t *e = conv(ics, 0);
    assert_int_equal(json_object_size(json_object_get(e, "keywords")), 3);
    char *t = to_ics(e);
    assert_non_null(strstr(t, "\r\nCATEGORIES:Favorites\r\nCATEGORIES:Meeting\r\nCATEGORIES:a\\,b\r\n"));
    free(t);
    json_decref(e);
    assert_stable(ics);
}

/* draft -25 §2.3.36 with RFC 5545 §3.3.10: RRULE parts in the grammar's order (FREQ, UNTIL
 * or COUNT, INTERVAL, BYSECOND ... BYSETPOS, WKST), RFC 7529's RSCALE first and SKIP last,
 * whatever order the JSON members or the input had. */
static void test_draft25_2_3_36_rrule_canonical_order(void **state)
{
    (void)state;
    const char *ics = CAL("DTSTART;TZID=Europe/Berlin:20240101T010000\r\n"
                          "RRULE:WKST=MO;BYMINUTE=30;BYHOUR=8,9;BYDAY=SU;BYMONTH=1;INTERVAL=2;"
                          "UNTIL=20240930T120000Z;FREQ=YEARLY\r\n");
    json_t *e = conv(ics, 0);
    char *t = to_ics(e);
    assert_non_null(strstr(t, "\r\nRRULE:FREQ=YEARLY;UNTIL=20240930T120000Z;INTERVAL=2;BYMINUTE=30;"
                              "BYHOUR=8,9;\r\n BYDAY=SU;BYMONTH=1;WKST=MO\r\n"));
    free(t);
    json_decref(e);
    json_t *r = json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:i,s:s}}", "@type", "Event", "uid", "r",
                          "start", "2024-01-01T10:00:00", "updated", "2024-01-01T00:00:00Z",
                          "recurrenceRule", "skip", "forward", "rscale", "gregorian", "count", 3,
                          "frequency", "monthly");
    t = to_ics(r);
    assert_non_null(strstr(t, "\r\nRRULE:RSCALE=GREGORIAN;FREQ=MONTHLY;COUNT=3;SKIP=FORWARD\r\n"));
    free(t);
    json_decref(r);
    assert_stable(ics);
}

/* Occurrence starts (UTC, "YYYY-MM-DDTHH:MM:SSZ" joined by spaces) of obj in January 2024. */
static char *expand_jan(const json_t *obj)
{
    int64_t from, to;
    assert_int_equal(recur_parse_utc("2024-01-01T00:00:00Z", &from), 0);
    assert_int_equal(recur_parse_utc("2024-02-01T00:00:00Z", &to), 0);
    int code = 0;
    char *err = NULL;
    recur_iter *it = recur_iter_new(obj, from, to, NULL, NULL, 0, &code, &err);
    if (!it)
        print_error("expand: %s\n", err);
    assert_non_null(it);
    char *out = calloc(1, 1024);
    recur_occurrence occ;
    while (recur_iter_next(it, &occ)) {
        char s[24];
        recur_format_utc(occ.utc_start, s);
        strcat(out, s);
        strcat(out, " ");
    }
    recur_iter_free(it);
    return out;
}

#define SYDNEY_VTZ                                                                               \
    "BEGIN:VTIMEZONE\r\nTZID:Canberra\\, Melbourne\\, Sydney\r\nBEGIN:STANDARD\r\n"           \
    "DTSTART:16010401T030000\r\nTZOFFSETFROM:+1100\r\nTZOFFSETTO:+1000\r\n"                   \
    "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"              \
    "DTSTART:16011007T020000\r\nTZOFFSETFROM:+1000\r\nTZOFFSETTO:+1100\r\n"                   \
    "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=10\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"

/* RFC 5545 §3.2 (quoted parameter values), §3.8.3.1 (TZID is TEXT, commas escaped) and
 * draft -25 §2.1.4: Outlook's "Canberra, Melbourne, Sydney" zone converts, round-trips with
 * its VTIMEZONE and expands in its own offsets (+11:00 in January). */
static void test_rfc5545_3_8_3_1_tzid_with_commas(void **state)
{
    (void)state;
    const char *ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" SYDNEY_VTZ
                      "BEGIN:VEVENT\r\nUID:syd\r\nDTSTAMP:20240101T000000Z\r\n"
                      "DTSTART;TZID=\"Canberra, Melbourne, Sydney\":20240105T090000\r\n"
                      "DURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n"
                      "EXDATE;TZID=\"Canberra, Melbourne, Sydney\":20240112T090000\r\n"
                      "END:VEVENT\r\nEND:VCALENDAR\r\n";
    json_t *e = conv(ics, 0);
    assert_string_equal(json_string_value(json_object_get(e, "timeZone")),
                        "Canberra, Melbourne, Sydney");
    char *x = expand_jan(e);
    assert_string_equal(x, "2024-01-04T22:00:00Z 2024-01-18T22:00:00Z ");
    free(x);
    char *t = to_ics(e);
    assert_non_null(strstr(t, "\r\nTZID:Canberra\\, Melbourne\\, Sydney\r\n"));
    assert_non_null(strstr(t, "DTSTART;TZID=\"Canberra, Melbourne, Sydney\":20240105T090000"));
    json_t *back = conv(t, 0);
    x = expand_jan(back);
    assert_string_equal(x, "2024-01-04T22:00:00Z 2024-01-18T22:00:00Z ");
    free(x);
    free(t);
    json_decref(back);
    json_decref(e);
    assert_stable(ics);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draft25_2_3_41_styled_description_value_text),
        cmocka_unit_test(test_draft25_2_3_6_one_categories_per_keyword),
        cmocka_unit_test(test_draft25_2_3_36_rrule_canonical_order),
        cmocka_unit_test(test_rfc5545_3_8_3_1_tzid_with_commas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
