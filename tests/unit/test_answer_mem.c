/* test_answer_mem.c — the buffers of large answers kept for the next answer
 * (util/answer_mem.c; issue 21 §2, issue 20): kept only within their bounds, so the
 * memory held stays bounded (issue 21 §0: RSS with a bound). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/answer_mem.h"

/* takes and frees whatever is kept; returns how many there were */
static int drain(void)
{
    int n = 0;
    size_t cap;
    void *p;
    while ((p = answer_mem_take(&cap)) != NULL) {
        free(p);
        n++;
    }
    assert_int_equal(cap, 0);
    return n;
}

static void test_a_large_answer_is_taken_again(void **state)
{
    (void)state;
    drain();
    char *p = malloc(1u << 20);
    assert_non_null(p);
    memset(p, 'x', 1u << 20);
    answer_mem_give(p);
    size_t cap = 0;
    char *q = answer_mem_take(&cap);
    assert_ptr_equal(q, p);
    assert_true(cap >= 1u << 20);
    q[cap - 1] = 0; /* the whole capacity is usable */
    answer_mem_give(q);
    assert_int_equal(drain(), 1);
}

static void test_small_and_huge_ones_are_freed(void **state)
{
    (void)state;
    drain();
    answer_mem_give(malloc(16u << 10)); /* below the mmap threshold: malloc keeps its pages */
    answer_mem_give(malloc(12u << 20)); /* larger than any answer worth a place */
    answer_mem_give(NULL);
    assert_int_equal(drain(), 0);
}

static void test_few_are_kept_and_bounded_in_all(void **state)
{
    (void)state;
    drain();
    for (int i = 0; i < 6; i++)
        answer_mem_give(malloc(256u << 10));
    assert_int_equal(drain(), 4); /* at most four */
    for (int i = 0; i < 4; i++)
        answer_mem_give(malloc(6u << 20));
    assert_int_equal(drain(), 2); /* 16 MiB in all: a third of 6 MiB would pass it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_large_answer_is_taken_again),
        cmocka_unit_test(test_small_and_huge_ones_are_freed),
        cmocka_unit_test(test_few_are_kept_and_bounded_in_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
