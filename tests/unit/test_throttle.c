/* test_throttle.c — the login throttle's table (issue 19 §3): no key resets another's
 * counter, only expired counters are removed, and a full table refuses new keys
 * instead of forgetting live ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "http/throttle.h"

/* The attack of §3: failures for many other keys between the victim's never reset the
 * victim's count, however many keys there are. */
static void test_other_keys_do_not_reset_a_counter(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(100000, 60);
    char key[32];
    for (int i = 0; i < 10; i++) {
        assert_false(throttle_over(t, "u:victim", 10, 1000));
        throttle_fail(t, "u:victim", 1000);
        for (int j = 0; j < 2000; j++) {
            snprintf(key, sizeof key, "u:other%d", i * 2000 + j);
            throttle_fail(t, key, 1000);
        }
    }
    assert_int_equal(throttle_count(t, "u:victim", 1000), 10);
    assert_true(throttle_over(t, "u:victim", 10, 1000));
    assert_int_equal(throttle_size(t), 20001);
    throttle_free(t);
}

/* A counter lives for its window, then starts again; expired counters are swept. */
static void test_windows_expire(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(1000, 60);
    for (int i = 0; i < 5; i++)
        throttle_fail(t, "a:1.2.3.4", 100);
    assert_true(throttle_over(t, "a:1.2.3.4", 5, 159));
    assert_false(throttle_over(t, "a:1.2.3.4", 5, 160));
    assert_int_equal(throttle_count(t, "a:1.2.3.4", 160), 0);
    throttle_fail(t, "a:5.6.7.8", 200); /* a window later: the first is swept */
    assert_int_equal(throttle_size(t), 1);
    assert_int_equal(throttle_count(t, "a:5.6.7.8", 200), 1);
    throttle_free(t);
}

/* Full of live counters: existing ones keep counting, new keys are refused (over their
 * limit) until counters expire; nothing live is dropped to make room. */
static void test_full_table_refuses_instead_of_forgetting(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(100, 60);
    char key[32];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k%d", i);
        throttle_fail(t, key, 1000);
    }
    assert_int_equal(throttle_size(t), 100);
    throttle_fail(t, "newcomer", 1000);
    assert_int_equal(throttle_size(t), 100);
    assert_true(throttle_over(t, "newcomer", 10, 1000));
    assert_false(throttle_over(t, "k7", 10, 1000));
    throttle_fail(t, "k7", 1000);
    assert_int_equal(throttle_count(t, "k7", 1000), 2);
    assert_false(throttle_over(t, "newcomer", 10, 1060)); /* all expired: room again */
    throttle_fail(t, "newcomer", 1060);
    assert_int_equal(throttle_count(t, "newcomer", 1060), 1);
    throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_other_keys_do_not_reset_a_counter),
        cmocka_unit_test(test_windows_expire),
        cmocka_unit_test(test_full_table_refuses_instead_of_forgetting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
