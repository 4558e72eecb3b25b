/*
 * test_tz.c — the UTC offsets of tz.h's zones (issue 21 §1): a builtin zone's offsets
 * come from a table of libical's own changes, read once and then searched without a
 * lock; they must be libical's answers at every instant (DST both ways, half-hour and
 * negative DST, zones that skipped a day, fixed offsets, before the first change and
 * past the table), and zones looked up and converted from several threads at once
 * must give every thread the same answers.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/jscalendar/jscal_util.h"
#include "formats/timezone/tz.h"

static const char *const zones[] = {
    "Europe/Berlin",    "America/New_York", "Australia/Lord_Howe", "Africa/Casablanca",
    "Pacific/Apia",     "Europe/Dublin",    "Asia/Kolkata",        "America/Sao_Paulo",
    "Antarctica/Troll", "Etc/GMT+5",        "US/Eastern",          "Asia/Tokyo",
};

static int64_t at(int y, int m, int d)
{
    return jscal_days_from_civil(y, m, d) * 86400;
}

/* Every step from..to, and where libical's offset changes between two steps, the
 * seconds either side of the change (found by bisection) */
static void compare(icaltimezone *z, const char *name, int64_t from, int64_t to, int64_t step)
{
    int64_t prev = from;
    int po = tz_libical_offset_at_utc(z, from);
    for (int64_t t = from; t < to; t += step) {
        int o = tz_libical_offset_at_utc(z, t), mine = tz_offset_at_utc(z, t);
        if (o != mine)
            fail_msg("%s at %lld: libical %d, tz.c %d", name, (long long)t, o, mine);
        if (o != po) {
            int64_t lo = prev, hi = t; /* po at lo, another at hi */
            while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (tz_libical_offset_at_utc(z, mid) == po)
                    lo = mid;
                else
                    hi = mid;
            }
            for (int64_t e = lo - 2; e <= hi + 2; e++)
                if (tz_libical_offset_at_utc(z, e) != tz_offset_at_utc(z, e))
                    fail_msg("%s at %lld (a change): libical %d, tz.c %d", name, (long long)e,
                             tz_libical_offset_at_utc(z, e), tz_offset_at_utc(z, e));
        }
        po = o;
        prev = t;
    }
}

static void test_offsets_are_libicals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
        icaltimezone *z = tz_builtin(zones[i]);
        assert_non_null(z);
        /* the years events live in, hour by hour (odd steps: every hour of the day) */
        compare(z, zones[i], at(2015, 1, 1), at(2030, 1, 1), 3 * 3600 + 17);
        /* before the first change (LMT) to past the table's end (2060), by weeks */
        compare(z, zones[i], at(1800, 1, 1), at(2300, 1, 1), 7 * 86400 + 3601);
    }
}

/* jscalendarbis §1.4.5: conversions through the table keep the gap and repeat rules */
static void test_gap_and_repeat(void **state)
{
    (void)state;
    icaltimezone *b = tz_builtin("Europe/Berlin");
    /* 2026-03-29 02:30 does not exist: the offset before the gap (+01:00) */
    assert_int_equal(tz_local_to_utc(b, at(2026, 3, 29) + 2 * 3600 + 1800),
                     at(2026, 3, 29) + 3600 + 1800);
    /* 2026-10-25 02:30 happens twice: the first (+02:00) */
    assert_int_equal(tz_local_to_utc(b, at(2026, 10, 25) + 2 * 3600 + 1800),
                     at(2026, 10, 25) + 1800);
    assert_int_equal(tz_utc_to_local(b, at(2026, 7, 1)), at(2026, 7, 1) + 7200);
    /* Pacific/Apia skipped 2011-12-30 (UTC-10 to UTC+14) */
    icaltimezone *a = tz_builtin("Pacific/Apia");
    assert_int_equal(tz_offset_at_utc(a, at(2011, 12, 30) + 9 * 3600), -10 * 3600);
    assert_int_equal(tz_offset_at_utc(a, at(2011, 12, 30) + 11 * 3600), 14 * 3600);
    assert_int_equal(tz_offset_at_utc(NULL, at(2026, 7, 1)), 0);
    assert_int_equal(tz_offset_at_utc(icaltimezone_get_utc_timezone(), at(2026, 7, 1)), 0);
}

/* Several threads looking up zones (the first lookup of each adds it) and converting */
static void *worker(void *arg)
{
    intptr_t k = (intptr_t)arg, bad = 0;
    for (int round = 0; round < 200; round++) {
        const char *name = zones[(size_t)(k + round) % (sizeof zones / sizeof zones[0])];
        icaltimezone *z = tz_builtin(name);
        if (!z || z != tz_builtin(name))
            bad++;
        for (int64_t t = at(2020, 1, 1); t < at(2021, 1, 1); t += 86400 * 5 + 3600 * k)
            if (tz_offset_at_utc(z, t) != tz_libical_offset_at_utc(z, t))
                bad++;
    }
    return (void *)bad;
}

static void test_threads_agree(void **state)
{
    (void)state;
    pthread_t th[4];
    for (intptr_t k = 0; k < 4; k++)
        assert_int_equal(pthread_create(&th[k], NULL, worker, (void *)k), 0);
    for (int k = 0; k < 4; k++) {
        void *bad;
        assert_int_equal(pthread_join(th[k], &bad), 0);
        assert_int_equal((intptr_t)bad, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* the threads first: their first lookups add the zones */
        cmocka_unit_test(test_threads_agree),
        cmocka_unit_test(test_offsets_are_libicals),
        cmocka_unit_test(test_gap_and_repeat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
