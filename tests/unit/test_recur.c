/*
 * test_recur.c — the expansion API of recur.h: window semantics, overrides (patches, added
 * and excluded occurrences), patched occurrence objects, series bounds, the work bound and
 * rule membership. Cross-checks against an oracle live in tests/formats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "formats/recurrence/recur.h"

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    assert_non_null(j);
    return j;
}

static int64_t U(const char *s)
{
    int64_t t;
    assert_int_equal(recur_parse_utc(s, &t), 0);
    return t;
}

/* jscalendarbis-08 §6.9 (Recurring Event with Overrides) */
static const char *calculus =
    "{\"@type\":\"Event\",\"uid\":\"c\",\"updated\":\"2020-01-01T00:00:00Z\",\"title\":\"Calculus I\","
    "\"start\":\"2020-01-08T09:00:00\",\"timeZone\":\"Europe/London\",\"duration\":\"PT1H30M\","
    "\"recurrenceRule\":{\"frequency\":\"weekly\",\"until\":\"2020-06-24T09:00:00\"},"
    "\"recurrenceOverrides\":{\"2020-01-07T14:00:00\":{\"title\":\"Introduction to Calculus I (optional)\"},"
    "\"2020-04-01T09:00:00\":{\"excluded\":true},"
    "\"2020-06-25T09:00:00\":{\"title\":\"Calculus I Exam\",\"start\":\"2020-06-25T10:00:00\","
    "\"duration\":\"PT2H\"}}}";

static void test_overrides(void **state)
{
    (void)state;
    json_t *o = J(calculus);
    char *err = NULL;
    int code;
    recur_iter *it = recur_iter_new(o, U("2020-01-01T00:00:00Z"), U("2020-12-31T00:00:00Z"), NULL,
                                    NULL, RECUR_WANT_OBJECT, &code, &err);
    assert_non_null(it);
    recur_occurrence occ;
    int n = 0, saw_intro = 0, saw_exam = 0, saw_april = 0;
    int64_t last = INT64_MIN;
    while (recur_iter_next(it, &occ)) {
        n++;
        assert_true(occ.utc_start >= last); /* in start order */
        last = occ.utc_start;
        const char *title = json_string_value(json_object_get(occ.object, "title"));
        assert_string_equal(json_string_value(json_object_get(occ.object, "recurrenceId")),
                            occ.recurrence_id);
        if (!strcmp(occ.recurrence_id, "2020-01-07T14:00:00")) {
            saw_intro = 1;
            assert_string_equal(title, "Introduction to Calculus I (optional)");
            assert_int_equal(occ.utc_start, U("2020-01-07T14:00:00Z"));
        }
        if (!strcmp(occ.recurrence_id, "2020-06-25T09:00:00")) {
            saw_exam = 1;
            assert_non_null(occ.patch);
            /* BST: 10:00 London is 09:00Z, two hours long */
            assert_int_equal(occ.utc_start, U("2020-06-25T09:00:00Z"));
            assert_int_equal(occ.utc_end, U("2020-06-25T11:00:00Z"));
        }
        if (!strcmp(occ.recurrence_id, "2020-04-01T09:00:00"))
            saw_april = 1;
    }
    /* 25 Wednesdays from 8 Jan to 24 Jun, minus 1 April, plus intro and exam */
    assert_int_equal(n, 25 - 1 + 2);
    assert_true(saw_intro && saw_exam && !saw_april);
    recur_iter_free(it);

    it = recur_iter_new(o, U("2020-03-30T00:00:00Z"), U("2020-04-05T00:00:00Z"), NULL, NULL,
                        RECUR_WANT_EXCLUDED, &code, &err);
    assert_non_null(it);
    assert_int_equal(recur_iter_next(it, &occ), 1);
    assert_string_equal(occ.recurrence_id, "2020-04-01T09:00:00");
    assert_true(occ.excluded);
    assert_int_equal(recur_iter_next(it, &occ), 0);
    recur_iter_free(it);

    int64_t first, lastend;
    int unb;
    assert_int_equal(recur_series_bounds(o, NULL, NULL, &first, &lastend, &unb, &err), RECUR_OK);
    assert_false(unb);
    assert_int_equal(first, U("2020-01-07T14:00:00Z"));
    assert_int_equal(lastend, U("2020-06-25T11:00:00Z"));
    assert_true(recur_rule_generates(o, "2020-06-24T09:00:00"));
    assert_false(recur_rule_generates(o, "2020-06-25T09:00:00"));
    json_decref(o);
}

static void test_window_and_unbounded(void **state)
{
    (void)state;
    json_t *o = J("{\"@type\":\"Event\",\"uid\":\"y\",\"start\":\"2020-01-01T07:00:00\",\"duration\":\"PT30M\","
                  "\"recurrenceRule\":{\"frequency\":\"daily\"}}");
    char *err = NULL;
    int code;
    /* floating: 07:00 in Tokyo is 22:00Z the day before */
    recur_iter *it = recur_iter_new(o, U("2030-06-01T00:00:00Z"), U("2030-06-03T00:00:00Z"),
                                    "Asia/Tokyo", NULL, 0, &code, &err);
    assert_non_null(it);
    recur_occurrence occ;
    /* 1 June 07:00 Tokyo is 31 May 22:00-22:30Z: before the window, not included */
    assert_int_equal(recur_iter_next(it, &occ), 1);
    assert_string_equal(occ.recurrence_id, "2030-06-02T07:00:00");
    assert_int_equal(occ.utc_start, U("2030-06-01T22:00:00Z"));
    assert_int_equal(occ.utc_end, U("2030-06-01T22:30:00Z"));
    int n = 1;
    while (recur_iter_next(it, &occ))
        n++;
    assert_int_equal(n, 2);
    recur_iter_free(it);
    int64_t first, last = 42;
    int unb;
    assert_int_equal(recur_series_bounds(o, NULL, NULL, &first, &last, &unb, &err), RECUR_OK);
    assert_true(unb);
    assert_int_equal(last, 42);
    assert_int_equal(first, U("2020-01-01T07:00:00Z"));
    json_decref(o);
}

static void test_limits_and_errors(void **state)
{
    (void)state;
    json_t *o = J("{\"@type\":\"Event\",\"uid\":\"s\",\"start\":\"2000-01-01T00:00:00\",\"timeZone\":\"Etc/UTC\","
                  "\"recurrenceRule\":{\"frequency\":\"secondly\",\"count\":100000000}}");
    char *err = NULL;
    int code = 0;
    recur_limits lim = {.max_instances = 1000};
    int64_t f, l;
    int unb;
    assert_int_equal(recur_series_bounds(o, NULL, &lim, &f, &l, &unb, &err), RECUR_ERR_LIMIT);
    assert_non_null(strstr(err, "limit"));
    free(err);
    err = NULL;
    recur_iter *it = recur_iter_new(o, U("2000-01-01T00:00:00Z"), U("2001-01-01T00:00:00Z"), NULL,
                                    &lim, 0, &code, &err);
    assert_null(it);
    assert_int_equal(code, RECUR_ERR_LIMIT);
    free(err);
    json_decref(o);

    o = J("{\"@type\":\"Event\",\"uid\":\"s\",\"start\":\"2000-01-01T00:00:00\",\"timeZone\":\"Mars/Base\"}");
    it = recur_iter_new(o, 0, 1, NULL, NULL, 0, &code, &err);
    assert_null(it);
    assert_int_equal(code, RECUR_ERR_INVALID);
    assert_non_null(strstr(err, "timeZone"));
    free(err);
    json_decref(o);
}

static void test_standalone_instance(void **state)
{
    (void)state;
    /* draft -25 §2.1.2 stand-alone instance: recurrence id 14:00, moved to 16:00 */
    json_t *o = J("{\"@type\":\"Event\",\"uid\":\"i\",\"recurrenceId\":\"2024-02-02T14:00:00\","
                  "\"recurrenceIdTimeZone\":\"Europe/Berlin\",\"start\":\"2024-02-02T16:00:00\","
                  "\"timeZone\":\"Europe/Berlin\"}");
    char *err = NULL;
    int code;
    recur_iter *it = recur_iter_new(o, U("2024-02-01T00:00:00Z"), U("2024-02-03T00:00:00Z"), NULL,
                                    NULL, 0, &code, &err);
    recur_occurrence occ;
    assert_int_equal(recur_iter_next(it, &occ), 1);
    assert_string_equal(occ.recurrence_id, "2024-02-02T14:00:00");
    assert_int_equal(occ.utc_start, U("2024-02-02T15:00:00Z"));
    recur_iter_free(it);
    it = recur_iter_new(o, U("2024-02-01T00:00:00Z"), U("2024-02-03T00:00:00Z"), NULL, NULL,
                        RECUR_WANT_OBJECT, &code, &err);
    assert_int_equal(recur_iter_next(it, &occ), 1);
    assert_string_equal(json_string_value(json_object_get(occ.object, "start")), "2024-02-02T16:00:00");
    recur_iter_free(it);
    json_decref(o);
}

static void test_dst_and_days(void **state)
{
    (void)state;
    /* jscalendarbis §1.4.6: P1D across the spring-forward change is 23 hours */
    json_t *o = J("{\"@type\":\"Event\",\"uid\":\"d\",\"start\":\"2021-03-13T12:00:00\","
                  "\"timeZone\":\"America/New_York\",\"duration\":\"P1D\"}");
    char *err = NULL;
    int code;
    recur_iter *it = recur_iter_new(o, U("2021-03-01T00:00:00Z"), U("2021-04-01T00:00:00Z"), NULL,
                                    NULL, 0, &code, &err);
    recur_occurrence occ;
    assert_int_equal(recur_iter_next(it, &occ), 1);
    assert_int_equal(occ.utc_end - occ.utc_start, 23 * 3600);
    recur_iter_free(it);
    json_decref(o);
}

static void collect(const char *js, const char *from, const char *to, char out[][20], int *n)
{
    json_t *o = J(js);
    char *err = NULL;
    int code;
    recur_iter *it = recur_iter_new(o, U(from), U(to), NULL, NULL, 0, &code, &err);
    if (!it)
        print_error("%s\n", err);
    assert_non_null(it);
    recur_occurrence occ;
    *n = 0;
    while (recur_iter_next(it, &occ) && *n < 16)
        memcpy(out[(*n)++], occ.recurrence_id, 20);
    recur_iter_free(it);
    json_decref(o);
}

/* RFC 7529 §4.1 and jscalendarbis §4.3.3.1: SKIP decides what an invalid date becomes. */
static void test_rscale_skip(void **state)
{
    (void)state;
    char got[16][20];
    int n;
    collect("{\"@type\":\"Event\",\"uid\":\"s\",\"start\":\"2024-01-31T00:00:00\",\"timeZone\":\"Etc/UTC\","
            "\"recurrenceRule\":{\"frequency\":\"monthly\",\"count\":4}}",
            "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", got, &n);
    assert_int_equal(n, 4); /* omit: Jan, Mar, May, Jul */
    assert_string_equal(got[1], "2024-03-31T00:00:00");
    collect("{\"@type\":\"Event\",\"uid\":\"s\",\"start\":\"2024-01-31T00:00:00\",\"timeZone\":\"Etc/UTC\","
            "\"recurrenceRule\":{\"frequency\":\"monthly\",\"skip\":\"forward\",\"count\":3}}",
            "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", got, &n);
    assert_int_equal(n, 3);
    assert_string_equal(got[1], "2024-03-01T00:00:00");
    collect("{\"@type\":\"Event\",\"uid\":\"s\",\"start\":\"2024-01-31T00:00:00\",\"timeZone\":\"Etc/UTC\","
            "\"recurrenceRule\":{\"frequency\":\"monthly\",\"skip\":\"backward\",\"count\":3}}",
            "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", got, &n);
    assert_string_equal(got[1], "2024-02-29T00:00:00");
    if (icalrecurrencetype_rscale_is_supported()) {
        /* Chinese New Year, RFC 7529 §4.2 style */
        collect("{\"@type\":\"Event\",\"uid\":\"c\",\"start\":\"2024-02-10T00:00:00\",\"showWithoutTime\":true,"
                "\"recurrenceRule\":{\"frequency\":\"yearly\",\"rscale\":\"chinese\",\"count\":3}}",
                "2024-01-01T00:00:00Z", "2028-01-01T00:00:00Z", got, &n);
        assert_int_equal(n, 3);
        assert_string_equal(got[1], "2025-01-29T00:00:00");
        assert_string_equal(got[2], "2026-02-17T00:00:00");
    }
}

static int count_in(const char *js, const char *from, const char *to, const recur_limits *lim,
                    int *code, char first[20])
{
    json_t *o = J(js);
    char *err = NULL;
    recur_iter *it = recur_iter_new(o, U(from), U(to), NULL, lim, 0, code, &err);
    free(err);
    int n = -1;
    if (it) {
        recur_occurrence occ;
        for (n = 0; recur_iter_next(it, &occ); n++)
            if (!n && first)
                memcpy(first, occ.recurrence_id, 20);
    }
    recur_iter_free(it);
    json_decref(o);
    return n;
}

/* Issue 19 §1, RFC 5545 §3.3.10: BYMONTHDAY=30 with BYMONTH=2 selects no day, at any
 * frequency; the start is still the one occurrence (jscalendarbis §4.3.3.1 rule 1). The
 * rule is answered at once instead of iterating to libical's year limit. */
static void test_never_matching_rule_is_start_only(void **state)
{
    (void)state;
    /* (WEEKLY takes no BYMONTHDAY, RFC 5545 §3.3.10: libical refuses the rule) */
    static const char *const freqs[] = {"secondly", "minutely", "hourly",
                                        "daily",    "monthly",  "yearly"};
    for (size_t i = 0; i < sizeof freqs / sizeof *freqs; i++) {
        for (int counted = 0; counted < 2; counted++) {
            char js[400];
            snprintf(js, sizeof js,
                     "{\"@type\":\"Event\",\"uid\":\"n\",\"start\":\"2024-01-01T10:00:00\","
                     "\"timeZone\":\"Etc/UTC\",\"duration\":\"PT1M\",\"recurrenceRule\":{"
                     "\"frequency\":\"%s\",\"byMonth\":[\"2\"],\"byMonthDay\":[30]%s}}",
                     freqs[i], counted ? ",\"count\":5" : "");
            int code = 0;
            char first[20] = "";
            assert_int_equal(
                count_in(js, "2023-01-01T00:00:00Z", "2100-01-01T00:00:00Z", NULL, &code, first),
                1);
            assert_string_equal(first, "2024-01-01T10:00:00");
            json_t *o = J(js);
            int64_t f = 0, l = 0;
            int unb = 0;
            char *err = NULL;
            assert_int_equal(recur_series_bounds(o, NULL, NULL, &f, &l, &unb, &err), RECUR_OK);
            assert_int_equal(f, U("2024-01-01T10:00:00Z"));
            assert_int_equal(unb, !counted);
            if (counted)
                assert_int_equal(l, U("2024-01-01T10:01:00Z"));
            json_decref(o);
        }
    }
    /* other combinations no day satisfies: day 60 is never in January, week 1 never in
     * June, the 31st never in April; the fifth Monday of February needs a leap year
     * whose 1 February is a Monday, which does exist (2016, 2044) */
    static const char *const parts[] = {
        "\"frequency\":\"minutely\",\"byYearDay\":[60],\"byMonth\":[\"1\"]",
        "\"frequency\":\"yearly\",\"byWeekNo\":[1],\"byMonth\":[\"6\"]",
        "\"frequency\":\"hourly\",\"byMonthDay\":[31],\"byMonth\":[\"4\",\"6\"]",
        "\"frequency\":\"monthly\",\"byDay\":[{\"day\":\"mo\",\"nthOfPeriod\":6}]"};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        char js[400];
        snprintf(js, sizeof js,
                 "{\"@type\":\"Event\",\"uid\":\"n\",\"start\":\"2024-01-01T10:00:00\","
                 "\"timeZone\":\"Etc/UTC\",\"recurrenceRule\":{%s,\"count\":3}}",
                 parts[i]);
        int code = 0;
        assert_int_equal(
            count_in(js, "2023-01-01T00:00:00Z", "2100-01-01T00:00:00Z", NULL, &code, NULL), 1);
    }
    int code = 0;
    char first[20] = "";
    assert_int_equal(
        count_in("{\"@type\":\"Event\",\"uid\":\"n\",\"start\":\"2024-01-01T10:00:00\","
                 "\"timeZone\":\"Etc/UTC\",\"recurrenceRule\":{\"frequency\":\"monthly\","
                 "\"byMonth\":[\"2\"],\"byDay\":[{\"day\":\"mo\",\"nthOfPeriod\":5}],"
                 "\"count\":2}}",
                 "2024-06-01T00:00:00Z", "2100-01-01T00:00:00Z", NULL, &code, first),
        1);
    assert_string_equal(first, "2044-02-29T10:00:00");
}

/* Issue 19 §1: a rule whose days are rare is walked a day at a time (February 29th, every
 * minute: 1,440 instances once in four years), and a rule that finds no instance stops
 * on the candidates it examined, not on instances it never finds. */
static void test_sparse_rules_count_candidates(void **state)
{
    (void)state;
#define LEAP                                                                                       \
    "{\"@type\":\"Event\",\"uid\":\"l\",\"start\":\"2024-03-01T00:00:00\","                        \
    "\"timeZone\":\"Etc/UTC\",\"recurrenceRule\":{\"frequency\":\"minutely\","                     \
    "\"byMonth\":[\"2\"],\"byMonthDay\":[29]%s}}"
    char js[400], first[20] = "";
    int code = 0;
    snprintf(js, sizeof js, LEAP, "");
    assert_int_equal(
        count_in(js, "2025-01-01T00:00:00Z", "2029-01-01T00:00:00Z", NULL, &code, first), 1440);
    assert_string_equal(first, "2028-02-29T00:00:00");
    snprintf(js, sizeof js, LEAP, ",\"count\":1442"); /* the start, 2028 and one in 2032 */
    json_t *o = J(js);
    int64_t f = 0, l = 0;
    int unb = 1;
    char *err = NULL;
    assert_int_equal(recur_series_bounds(o, NULL, NULL, &f, &l, &unb, &err), RECUR_OK);
    assert_false(unb);
    assert_int_equal(l, U("2032-02-29T00:00:00Z"));
    json_decref(o);
    /* every other second, only at second 1 of a minute, from an even second: no instance
     * ever; 1,000 instances allowed is 16,000 candidates */
    recur_limits lim = {.max_instances = 1000};
    assert_int_equal(
        count_in("{\"@type\":\"Event\",\"uid\":\"e\",\"start\":\"2024-01-01T00:00:00\","
                 "\"timeZone\":\"Etc/UTC\",\"recurrenceRule\":{\"frequency\":\"secondly\","
                 "\"interval\":2,\"bySecond\":[1],\"count\":5}}",
                 "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", &lim, &code, NULL),
        -1);
    assert_int_equal(code, RECUR_ERR_LIMIT);
    /* with the default budget the first whole day shows no time of day can pass: the
     * start is the only occurrence, over any window */
    assert_int_equal(count_in("{\"@type\":\"Event\",\"uid\":\"e\",\"start\":\"2024-01-01T00:00:00\","
                              "\"timeZone\":\"Etc/UTC\",\"recurrenceRule\":{\"frequency\":\"secondly\","
                              "\"interval\":2,\"bySecond\":[1],\"count\":5}}",
                              "2024-01-01T00:00:00Z", "2100-01-01T00:00:00Z", NULL, &code, NULL),
                     1);
}

/* RFC 5545 §3.3.10 INTERVAL: the grid counts from the start, also in a window far from it
 * (libical's iterator restarted near the window lost the grid). */
static void test_interval_grid_far_from_start(void **state)
{
    (void)state;
    char first[20] = "";
    int code = 0;
    /* every 60 hours from 2024-02-09T12:00: the 22nd at 00:00, the 24th at 12:00 ... */
    assert_int_equal(
        count_in("{\"@type\":\"Event\",\"uid\":\"h\",\"start\":\"2024-02-09T12:00:51\","
                 "\"timeZone\":\"Etc/UTC\",\"recurrenceRule\":{\"frequency\":\"hourly\","
                 "\"interval\":60}}",
                 "2024-02-20T00:00:00Z", "2024-03-05T00:00:00Z", NULL, &code, first),
        5);
    assert_string_equal(first, "2024-02-22T00:00:51");
    /* every 7 minutes from 2024-02-04T22:30, hours 1 and 14 only: 01:00 is on the grid */
    assert_int_equal(
        count_in("{\"@type\":\"Event\",\"uid\":\"m\",\"start\":\"2024-02-04T22:30:00\","
                 "\"timeZone\":\"Etc/UTC\",\"recurrenceRule\":{\"frequency\":\"minutely\","
                 "\"interval\":7,\"byHour\":[1]}}",
                 "2024-06-01T00:00:00Z", "2024-06-02T00:00:00Z", NULL, &code, first),
        9);
    assert_string_equal(first, "2024-06-01T01:00:00");
}

/* Issue 19 §4: which override ids a rule generates, in one pass (export asked each). */
static void test_rule_generated_set(void **state)
{
    (void)state;
    json_t *o = J("{\"@type\":\"Event\",\"uid\":\"g\",\"start\":\"2024-01-01T10:00:00\","
                  "\"timeZone\":\"Etc/UTC\","
                  "\"recurrenceRule\":{\"frequency\":\"weekly\",\"count\":10}}");
    json_t *keys = J("{\"2024-01-01T10:00:00\":{},\"2024-01-15T10:00:00\":{},"
                     "\"2024-01-16T10:00:00\":{},\"2024-03-04T10:00:00\":{},"
                     "\"2024-03-11T10:00:00\":{}}");
    json_t *gen = recur_rule_generated(o, keys);
    assert_non_null(gen);
    /* the start, week 3 and week 10; not a Tuesday, not week 11 (past the count) */
    assert_int_equal(json_object_size(gen), 3);
    assert_non_null(json_object_get(gen, "2024-01-01T10:00:00"));
    assert_non_null(json_object_get(gen, "2024-01-15T10:00:00"));
    assert_non_null(json_object_get(gen, "2024-03-04T10:00:00"));
    const char *k;
    json_t *v;
    json_object_foreach(keys, k, v)
    {
        assert_int_equal(recur_rule_generates(o, k), json_object_get(gen, k) != NULL);
    }
    json_decref(gen);
    json_decref(keys);
    json_decref(o);
}


/* RFC 5545 §3.3.10 / jscalendarbis "until" is a LocalDateTime and "count" a positive
 * UnsignedInt: one that does not parse is an invalid rule, never an unbounded walk of
 * a series counted as bounded (fuzz_expand found 6 s of CPU with byWeekNo). */
static void test_unparsable_until_or_count_is_invalid(void **state)
{
    (void)state;
    static const char *const rules[] = {
        "\"until\":\"2-9009*-01T00:00:00\",\"byWeekNo\":[44]",
        "\"until\":7",
        "\"count\":\"5\"",
        "\"count\":0",
    };
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
        char js[400];
        snprintf(js, sizeof js,
                 "{\"@type\":\"Event\",\"uid\":\"n\",\"start\":\"2024-01-31T10:30:00\","
                 "\"timeZone\":\"Etc/UTC\",\"recurrenceRule\":{\"@type\":\"RecurrenceRule\","
                 "\"frequency\":\"daily\",\"interval\":42,%s}}",
                 rules[i]);
        json_t *o = J(js);
        int code = 0;
        char *err = NULL;
        recur_iter *it = recur_iter_new(o, U("2024-01-01T00:00:00Z"), U("2030-01-01T00:00:00Z"),
                                        NULL, NULL, 0, &code, &err);
        assert_null(it);
        assert_int_equal(code, RECUR_ERR_INVALID);
        free(err);
        json_decref(o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_window_and_unbounded),
        cmocka_unit_test(test_limits_and_errors),
        cmocka_unit_test(test_dst_and_days),
        cmocka_unit_test(test_rscale_skip),
        cmocka_unit_test(test_standalone_instance),
        cmocka_unit_test(test_never_matching_rule_is_start_only),
        cmocka_unit_test(test_sparse_rules_count_candidates),
        cmocka_unit_test(test_interval_grid_far_from_start),
        cmocka_unit_test(test_rule_generated_set),
        cmocka_unit_test(test_unparsable_until_or_count_is_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
