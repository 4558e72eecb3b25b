/*
 * test_recur_simple.c — issue 21 §3: plain WEEKLY (BYDAY weekdays at most), MONTHLY and
 * YEARLY (on the start's day, up to the 28th) Gregorian rules are expanded by day
 * arithmetic in recur.c instead of libical's iterator. Their occurrences must be
 * libical's: each rule is compared with a rule that means the same but is not plain
 * (an added BYMONTH of every month, or BYMONTHDAY of the start's day), which libical
 * still expands, over many starts (DST days, times in a gap, month ends), zones, intervals,
 * week starts, COUNT, UNTIL, windows far from the start and series bounds
 * (RFC 5545 §3.3.10, jscalendarbis-08 §4.3.3). BYSETPOS rules keep their own path.
 * The MONTHLY and YEARLY rules of BYMONTH, BYMONTHDAY and BYDAY (ordinals too) that
 * recur.c walks by their days are compared with libical's iterator itself
 * (RECUR_LIBICAL), thousands of random ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/recurrence/recur.h"

static int64_t U(const char *s)
{
    int64_t t;
    assert_int_equal(recur_parse_utc(s, &t), 0);
    return t;
}

/* The occurrences of obj in [from, to) as text, one per line (rid, UTC start and end) */
#define RECUR_TRY 0x100 /* the test's own: NULL when the series is refused */

/* The same with recur_iter_new's flags (RECUR_LIBICAL), and RECUR_TRY */
static char *occurrences_with(json_t *obj, int64_t from, int64_t to, int flags)
{
    char *err = NULL;
    int code = 0;
    recur_iter *it =
        recur_iter_new(obj, from, to, "Europe/Paris", NULL, flags & ~RECUR_TRY, &code, &err);
    if (!it && (flags & RECUR_TRY)) {
        free(err); /* the caller compares the refusals */
        return NULL;
    }
    if (!it) {
        char *j = json_dumps(obj, JSON_COMPACT);
        fail_msg("not expanded (%s): %s", j, err ? err : "?");
    }
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    out[0] = 0;
    recur_occurrence o;
    while (recur_iter_next(it, &o)) {
        char line[80];
        int n = snprintf(line, sizeof line, "%s %lld %lld\n", o.recurrence_id,
                         (long long)o.utc_start, (long long)o.utc_end);
        if (len + (size_t)n + 1 > cap)
            out = realloc(out, cap *= 2);
        memcpy(out + len, line, (size_t)n + 1);
        len += (size_t)n;
    }
    recur_iter_free(it);
    return out;
}

static char *occurrences(json_t *obj, int64_t from, int64_t to)
{
    return occurrences_with(obj, from, to, 0);
}

static unsigned seed = 2121;
static unsigned rnd(unsigned n)
{
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % n;
}

static const char *const zones[] = {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                                    "Etc/UTC", NULL};
static const char *const days[] = {"su", "mo", "tu", "we", "th", "fr", "sa"};

/* A random plain rule on a random start, and the same rule made not plain */
static void make_pair(json_t **plain, json_t **other)
{
    static const char *const freqs[] = {"weekly", "monthly", "yearly"};
    const char *freq = freqs[rnd(3)];
    int y = 1995 + (int)rnd(40), m = 1 + (int)rnd(12), d = 1 + (int)rnd(28);
    /* DST days and the hour of the change often */
    if (rnd(3) == 0) {
        m = rnd(2) ? 3 : 10;
        d = 24 + (int)rnd(5);
    }
    int h = rnd(4) == 0 ? 2 : (int)rnd(24);
    char start[24];
    snprintf(start, sizeof start, "%04d-%02d-%02dT%02d:%02d:00", y, m, d, h, rnd(2) ? 30 : 0);
    json_t *rule = json_pack("{s:s, s:s}", "@type", "RecurrenceRule", "frequency", freq);
    if (rnd(2))
        json_object_set_new(rule, "interval", json_integer(1 + rnd(3)));
    if (rnd(2))
        json_object_set_new(rule, "firstDayOfWeek", json_string(days[rnd(7)]));
    unsigned end = rnd(3);
    if (end == 0)
        json_object_set_new(rule, "count", json_integer(1 + rnd(60)));
    if (end == 1) {
        char until[24];
        snprintf(until, sizeof until, "%04d-%02d-%02dT%02d:00:00", y + (int)rnd(4),
                 1 + (int)rnd(12), 1 + (int)rnd(28), (int)rnd(24));
        json_object_set_new(rule, "until", json_string(until));
    }
    if (!strcmp(freq, "weekly") && rnd(2)) {
        json_t *bd = json_array();
        for (int k = 0; k < 7; k++)
            if (rnd(3) == 0)
                json_array_append_new(bd, json_pack("{s:s, s:s}", "@type", "NDay", "day", days[k]));
        if (json_array_size(bd))
            json_object_set_new(rule, "byDay", bd);
        else
            json_decref(bd);
    }
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "@type", "Event", "uid", "u", "start", start,
                           "duration", rnd(4) ? "PT1H" : "P1DT2H");
    const char *zone = zones[rnd(5)];
    if (zone)
        json_object_set_new(ev, "timeZone", json_string(zone));
    *plain = json_deep_copy(ev);
    json_object_set(*plain, "recurrenceRule", rule);
    json_t *r2 = json_deep_copy(rule);
    if (!strcmp(freq, "weekly")) { /* a BYMONTH of every month limits nothing */
        json_t *months = json_array();
        for (int k = 1; k <= 12; k++) {
            char s[12];
            snprintf(s, sizeof s, "%d", k);
            json_array_append_new(months, json_string(s));
        }
        json_object_set_new(r2, "byMonth", months);
    } else { /* the start's day, and month, said explicitly */
        json_object_set_new(r2, "byMonthDay", json_pack("[i]", d));
        if (!strcmp(freq, "yearly")) {
            char s[12];
            snprintf(s, sizeof s, "%d", m);
            json_object_set_new(r2, "byMonth", json_pack("[s]", s));
        }
    }
    *other = ev;
    json_object_set_new(*other, "recurrenceRule", r2);
    json_decref(rule);
}

static void test_plain_rules_are_libicals(void **state)
{
    (void)state;
    for (int i = 0; i < 600; i++) {
        json_t *a, *b;
        make_pair(&a, &b);
        /* the series' first years, and a window years later (the walk starts there) */
        int64_t s = U("1995-01-01T00:00:00Z") + (int64_t)rnd(45 * 366) * 86400;
        int64_t windows[][2] = {{U("1990-01-01T00:00:00Z"), U("2045-01-01T00:00:00Z")},
                                {s, s + (int64_t)(1 + rnd(400)) * 86400}};
        for (int w = 0; w < 2; w++) {
            char *x = occurrences(a, windows[w][0], windows[w][1]);
            char *y = occurrences(b, windows[w][0], windows[w][1]);
            if (strcmp(x, y)) {
                char *ja = json_dumps(a, JSON_COMPACT);
                print_message("libical:\n%s\n", y);
                fail_msg("case %d window %d: %s\nplain:\n%s", i, w, ja, x);
            }
            free(x);
            free(y);
        }
        int64_t f1 = 0, l1 = 0, f2 = 0, l2 = 0;
        int u1 = 0, u2 = 0;
        char *e1 = NULL, *e2 = NULL;
        assert_int_equal(recur_series_bounds(a, NULL, NULL, &f1, &l1, &u1, &e1), RECUR_OK);
        assert_int_equal(recur_series_bounds(b, NULL, NULL, &f2, &l2, &u2, &e2), RECUR_OK);
        assert_true(f1 == f2 && u1 == u2 && (u1 || l1 == l2));
        json_decref(a);
        json_decref(b);
    }
}

/* RFC 5545 §3.3.5, jscalendarbis §1.4.5: a weekly 02:30 in Berlin; on 2026-03-29 that
 * time does not exist (the offset before the gap, 01:30 UTC), on 2026-10-25 it is
 * there twice (the first, 00:30 UTC); the rest at +01:00 or +02:00. The hour of the
 * duration is absolute time (§1.4.6). */
static void test_weekly_across_dst(void **state)
{
    (void)state;
    json_t *ev =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "@type", "Event", "uid", "d", "start",
                  "2026-03-22T02:30:00", "timeZone", "Europe/Berlin", "duration", "PT1H",
                  "recurrenceRule", "@type", "RecurrenceRule", "frequency", "weekly");
    char *x = occurrences(ev, U("2026-03-20T00:00:00Z"), U("2026-04-06T00:00:00Z"));
    char want[256];
    snprintf(want, sizeof want,
             "2026-03-22T02:30:00 %lld %lld\n2026-03-29T02:30:00 %lld %lld\n"
             "2026-04-05T02:30:00 %lld %lld\n",
             (long long)U("2026-03-22T01:30:00Z"), (long long)U("2026-03-22T02:30:00Z"),
             (long long)U("2026-03-29T01:30:00Z"), (long long)U("2026-03-29T02:30:00Z"),
             (long long)U("2026-04-05T00:30:00Z"), (long long)U("2026-04-05T01:30:00Z"));
    assert_string_equal(x, want);
    free(x);
    json_object_set_new(ev, "start", json_string("2026-10-18T02:30:00"));
    x = occurrences(ev, U("2026-10-24T00:00:00Z"), U("2026-10-26T00:00:00Z"));
    snprintf(want, sizeof want, "2026-10-25T02:30:00 %lld %lld\n",
             (long long)U("2026-10-25T00:30:00Z"), (long long)U("2026-10-25T01:30:00Z"));
    assert_string_equal(x, want);
    free(x);
    json_decref(ev);
}

/* BYSETPOS is not a plain rule: the last weekday of each month (RFC 5545 §3.8.5.3's
 * example), counted, its own path unchanged */
static void test_bysetpos_keeps_its_path(void **state)
{
    (void)state;
    json_t *ev = json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:i, s:[i], s:[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}]}}",
        "@type", "Event", "uid", "p", "start", "2026-01-30T09:00:00", "timeZone",
        "America/New_York", "recurrenceRule", "@type", "RecurrenceRule", "frequency", "monthly",
        "count", 4, "bySetPosition", -1, "byDay", "day", "mo", "day", "tu", "day", "we", "day",
        "th", "day", "fr");
    char *x = occurrences(ev, U("2026-01-01T00:00:00Z"), U("2027-01-01T00:00:00Z"));
    char want[256];
    snprintf(want, sizeof want,
             "2026-01-30T09:00:00 %lld %lld\n2026-02-27T09:00:00 %lld %lld\n"
             "2026-03-31T09:00:00 %lld %lld\n2026-04-30T09:00:00 %lld %lld\n",
             (long long)U("2026-01-30T14:00:00Z"), (long long)U("2026-01-30T14:00:00Z"),
             (long long)U("2026-02-27T14:00:00Z"), (long long)U("2026-02-27T14:00:00Z"),
             (long long)U("2026-03-31T13:00:00Z"), (long long)U("2026-03-31T13:00:00Z"),
             (long long)U("2026-04-30T13:00:00Z"), (long long)U("2026-04-30T13:00:00Z"));
    assert_string_equal(x, want);
    free(x);
    json_decref(ev);
}

/* ---- MONTHLY and YEARLY rules by their days (issue 21 §3) ---------------------------------- */

static json_t *nday(int wd, int nth)
{
    json_t *d = json_pack("{s:s, s:s}", "@type", "NDay", "day", days[wd]);
    if (nth)
        json_object_set_new(d, "nthOfPeriod", json_integer(nth));
    return d;
}

static json_t *month_list(int n)
{
    json_t *a = json_array();
    for (int k = 0; k < n; k++) {
        char s[12];
        snprintf(s, sizeof s, "%d", 1 + (int)rnd(12));
        json_array_append_new(a, json_string(s));
    }
    return a;
}

/* The BY parts of a random day_rule shape (RFC 5545 §3.3.10): ordinal weekdays in the
 * month or year (2TU, -1FR, 20MO), weekdays, month days (negative ones too), months,
 * hours; the shapes real calendars use most (DST-style YEARLY;BYMONTH=3;BYDAY=-1SU,
 * MONTHLY;BYDAY=2TU, MONTHLY;BYMONTHDAY=1,15) among them */
static void day_parts(json_t *rule, int monthly)
{
    static const int nths[] = {1, 2, 3, 4, -1, -2, 5, -5};
    unsigned shape = rnd(6);
    json_t *bd = json_array();
    if (shape == 0 || shape == 1) { /* ordinal weekdays (within the year: up to 53) */
        for (unsigned k = 0, n = 1 + rnd(2); k < n; k++)
            json_array_append_new(bd, nday((int)rnd(7), !monthly && !rnd(3)
                                                            ? (rnd(2) ? 1 : -1) * (1 + (int)rnd(53))
                                                            : nths[rnd(8)]));
        if (!monthly && (shape == 0 || rnd(2)))
            json_object_set_new(rule, "byMonth", month_list(1 + (int)rnd(2)));
    } else if (shape == 2) { /* weekdays, every one of the period */
        for (unsigned k = 0, n = 1 + rnd(3); k < n; k++)
            json_array_append_new(bd, nday((int)rnd(7), 0));
        if (rnd(2))
            json_object_set_new(rule, "byMonth", month_list(1 + (int)rnd(3)));
    } else { /* month days, with weekdays or months that limit them */
        json_t *md = json_array();
        for (unsigned k = 0, n = 1 + rnd(3); k < n; k++)
            json_array_append_new(md, json_integer(rnd(4) ? 1 + (int)rnd(31) : -1 - (int)rnd(3)));
        json_object_set_new(rule, "byMonthDay", md);
        if (shape == 4)
            json_array_append_new(bd, nday((int)rnd(7), 0));
        if (shape == 5 || rnd(3) == 0)
            json_object_set_new(rule, "byMonth", month_list(1 + (int)rnd(4)));
    }
    if (json_array_size(bd))
        json_object_set_new(rule, "byDay", bd);
    else
        json_decref(bd);
    if (rnd(5) == 0) /* two times a day */
        json_object_set_new(rule, "byHour", json_pack("[i, i]", (int)rnd(12), 12 + (int)rnd(12)));
}

/* A random MONTHLY or YEARLY day_rule series: starts on any day (the 29th to 31st too),
 * DST days and hours often, in a zone or floating, COUNT, UNTIL or neither */
static json_t *day_series(void)
{
    int monthly = (int)rnd(2);
    int y = 1995 + (int)rnd(40), m = 1 + (int)rnd(12), d = 1 + (int)rnd(31);
    if (rnd(3) == 0) {
        m = rnd(2) ? 3 : 10;
        d = 24 + (int)rnd(5);
    }
    if (d > 28 && m == 2)
        d = 28;
    if (d == 31 && (m == 4 || m == 6 || m == 9 || m == 11))
        d = 30;
    int h = rnd(4) == 0 ? 2 : (int)rnd(24);
    char start[24];
    snprintf(start, sizeof start, "%04d-%02d-%02dT%02d:%02d:00", y, m, d, h, rnd(2) ? 30 : 0);
    json_t *rule = json_pack("{s:s, s:s}", "@type", "RecurrenceRule", "frequency",
                             monthly ? "monthly" : "yearly");
    if (rnd(3) == 0)
        json_object_set_new(rule, "interval", json_integer(2 + rnd(2)));
    if (rnd(3) == 0)
        json_object_set_new(rule, "firstDayOfWeek", json_string(days[rnd(7)]));
    unsigned end = rnd(3);
    if (end == 0)
        json_object_set_new(rule, "count", json_integer(1 + rnd(60)));
    if (end == 1) {
        char until[24];
        snprintf(until, sizeof until, "%04d-%02d-%02dT%02d:00:00", y + (int)rnd(6),
                 1 + (int)rnd(12), 1 + (int)rnd(28), (int)rnd(24));
        json_object_set_new(rule, "until", json_string(until));
    }
    day_parts(rule, monthly);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:o}", "@type", "Event", "uid", "u", "start",
                           start, "duration", rnd(4) ? "PT1H" : "P1DT2H", "recurrenceRule", rule);
    const char *zone = zones[rnd(5)];
    if (zone)
        json_object_set_new(ev, "timeZone", json_string(zone));
    return ev;
}

/* Each random day_rule series expands as libical's iterator expands it (RECUR_LIBICAL),
 * over its first decades and over a window years later (where the walk starts). */
static void test_day_rules_are_libicals(void **state)
{
    (void)state;
    const int lib = RECUR_LIBICAL;
    int refused = 0;
    for (int i = 0; i < 2000; i++) {
        json_t *a = day_series();
        int64_t s = U("1995-01-01T00:00:00Z") + (int64_t)rnd(45 * 366) * 86400;
        int64_t windows[][2] = {{U("1990-01-01T00:00:00Z"), U("2045-01-01T00:00:00Z")},
                                {s, s + (int64_t)(1 + rnd(800)) * 86400}};
        for (int w = 0; w < 2; w++) {
            /* a rule libical refuses to iterate is refused by both */
            char *x = occurrences_with(a, windows[w][0], windows[w][1], RECUR_TRY);
            char *y = occurrences_with(a, windows[w][0], windows[w][1], lib | RECUR_TRY);
            refused += !y;
            if (x && y ? strcmp(x, y) != 0 : x != y) {
                char *ja = json_dumps(a, JSON_COMPACT);
                print_message("libical:\n%s\n", y ? y : "(refused)");
                fail_msg("case %d window %d: %s\nby days:\n%s", i, w, ja, x ? x : "(refused)");
            }
            free(x);
            free(y);
        }
        json_decref(a);
    }
    assert_true(refused < 100); /* the comparisons are of expansions */
}

/* The plain rules against libical's iterator directly too (RECUR_LIBICAL) */
static void test_plain_rules_are_libicals_directly(void **state)
{
    (void)state;
    const int lib = RECUR_LIBICAL;
    for (int i = 0; i < 300; i++) {
        json_t *a, *b;
        make_pair(&a, &b);
        char *x = occurrences(a, U("1990-01-01T00:00:00Z"), U("2045-01-01T00:00:00Z"));
        char *y = occurrences_with(a, U("1990-01-01T00:00:00Z"), U("2045-01-01T00:00:00Z"), lib);
        assert_string_equal(x, y);
        free(x);
        free(y);
        json_decref(a);
        json_decref(b);
    }
}

/* RFC 5545 §3.3.10's own examples of the new shapes, as written there: "every month on
 * the second-to-last Monday" style (here the second Tuesday and the last Friday), and
 * the US DST rule of §3.6.5 (YEARLY;BYMONTH=3;BYDAY=2SU) */
static void test_day_rule_examples(void **state)
{
    (void)state;
    json_t *ev =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:i, s:[o, o]}}", "@type", "Event", "uid",
                  "x", "start", "2026-01-13T10:00:00", "timeZone", "Europe/Berlin", "duration",
                  "PT1H", "recurrenceRule", "@type", "RecurrenceRule", "frequency", "monthly",
                  "count", 4, "byDay", nday(2, 2), nday(5, -1));
    char *x = occurrences(ev, U("2026-01-01T00:00:00Z"), U("2027-01-01T00:00:00Z"));
    char want[512];
    snprintf(want, sizeof want,
             "2026-01-13T10:00:00 %lld %lld\n2026-01-30T10:00:00 %lld %lld\n"
             "2026-02-10T10:00:00 %lld %lld\n2026-02-27T10:00:00 %lld %lld\n",
             (long long)U("2026-01-13T09:00:00Z"), (long long)U("2026-01-13T10:00:00Z"),
             (long long)U("2026-01-30T09:00:00Z"), (long long)U("2026-01-30T10:00:00Z"),
             (long long)U("2026-02-10T09:00:00Z"), (long long)U("2026-02-10T10:00:00Z"),
             (long long)U("2026-02-27T09:00:00Z"), (long long)U("2026-02-27T10:00:00Z"));
    assert_string_equal(x, want);
    free(x);
    json_decref(ev);
    ev = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:[s], s:[o]}}", "@type", "Event", "uid", "y",
                   "start", "2007-03-11T02:00:00", "timeZone", "America/New_York", "recurrenceRule",
                   "@type", "RecurrenceRule", "frequency", "yearly", "byMonth", "3", "byDay",
                   nday(0, 2));
    x = occurrences(ev, U("2025-01-01T00:00:00Z"), U("2027-01-01T00:00:00Z"));
    /* 02:00 does not exist on those days: the offset before the gap (RFC 5545 §3.3.5) */
    snprintf(want, sizeof want, "2025-03-09T02:00:00 %lld %lld\n2026-03-08T02:00:00 %lld %lld\n",
             (long long)U("2025-03-09T07:00:00Z"), (long long)U("2025-03-09T07:00:00Z"),
             (long long)U("2026-03-08T07:00:00Z"), (long long)U("2026-03-08T07:00:00Z"));
    assert_string_equal(x, want);
    free(x);
    json_decref(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_rule_examples),
        cmocka_unit_test(test_day_rules_are_libicals),
        cmocka_unit_test(test_plain_rules_are_libicals_directly),
        cmocka_unit_test(test_plain_rules_are_libicals),
        cmocka_unit_test(test_weekly_across_dst),
        cmocka_unit_test(test_bysetpos_keeps_its_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
