/* test_pg_snapcode.c — the compact text of query snapshots (postgres_snapcode.c,
 * issue 15 §3): an expanded query's instance ids (draft-ietf-jmap-calendars
 * expandRecurrences, "<base>_<YYYYMMDDTHHMMSS>") say each base id once, and read back
 * as the same ids in the same order (RFC 8620 §5.6 diffs them); JSON written before
 * reads as it is. No database: the texts themselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/postgres_internal.h"
#include "util/util.h"

static void round_trip(const char *json, const char *want)
{
    char *text = pgs_snap_encode(json);
    assert_non_null(text);
    if (want)
        assert_string_equal(text, want);
    char *back = pgs_snap_decode(text);
    assert_non_null(back);
    assert_string_equal(back, json);
    free(back);
    free(text);
}

static void test_instances_name_their_base_once(void **state)
{
    (void)state;
    round_trip("[\"Eab_20260302T100000\",\"Ecd_20260302T120000\",\"Eab_20260309T100000\","
               "\"Eab_20260316T113000\",\"Eab_20260323T113000\",\"Ecd_20260303T120000\"]",
               "~1 Eab_20260302T100000 Ecd_20260302T120000 0.20260309 0.20260316T113000 "
               "0.20260323 1.20260303");
}

static void test_plain_ids_and_empty(void **state)
{
    (void)state;
    round_trip("[]", "~1");
    round_trip("[\"Ex1\",\"Ex2\",\"Eab_20260302T100000\",\"Ex1\"]",
               "~1 Ex1 Ex2 Eab_20260302T100000 Ex1");
    /* an underscore without a recurrence id after it is an id as any other */
    round_trip("[\"a_b\",\"a_b\",\"c_2026030T100000\"]", "~1 a_b a_b c_2026030T100000");
}

static void test_a_month_is_smaller(void **state)
{
    (void)state;
    struct buf json = {0};
    buf_puts(&json, "[");
    for (int day = 1; day <= 28; day++)
        for (int ev = 0; ev < 70; ev++) /* 1,960 instances of 70 daily events */
            buf_printf(&json, "%s\"E%08dxyzw_202603%02dT%02d0000\"", json.len > 1 ? "," : "", ev,
                       day, ev % 24);
    buf_puts(&json, "]");
    char *text = pgs_snap_encode(json.data);
    assert_non_null(text);
    assert_true(strlen(text) * 2 < json.len); /* under half: ~60 KB -> ~24 KB */
    char *back = pgs_snap_decode(text);
    assert_string_equal(back, json.data);
    free(back);
    free(text);
    buf_free(&json);
}

static void test_what_it_does_not_expect_stays_json(void **state)
{
    (void)state;
    assert_null(pgs_snap_encode("[\"a.b\"]"));     /* a '.' is the compact form's own */
    assert_null(pgs_snap_encode("[\"a\\\"b\"]"));  /* an escape */
    assert_null(pgs_snap_encode("{\"a\":1}"));     /* not an array */
    assert_null(pgs_snap_encode("[\"a\",]"));      /* not JSON */
    assert_null(pgs_snap_decode("[\"Ex1\"]"));     /* JSON written before: as it is */
    assert_null(pgs_snap_decode("~1 5.20260301")); /* no base 5 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_instances_name_their_base_once),
        cmocka_unit_test(test_plain_ids_and_empty),
        cmocka_unit_test(test_a_month_is_smaller),
        cmocka_unit_test(test_what_it_does_not_expect_stays_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
