/* test_util.c — util/util.c: random bytes from the kernel's CSPRNG (getrandom(2); issue
 * 21 §3: OpenSSL is no longer initialised at start for them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/util.h"

/* Every byte of a buffer larger than one getrandom call is guaranteed to return (256)
 * is written, and two draws differ: each of the 1,000 bytes, filled from a marker
 * twice, keeps the marker in both draws with chance 2^-16. */
static void test_random_bytes_fill_the_buffer(void **state)
{
    (void)state;
    unsigned char a[1000], b[1000];
    memset(a, 0xa5, sizeof a);
    memset(b, 0xa5, sizeof b);
    util_random_bytes(a, sizeof a);
    util_random_bytes(b, sizeof b);
    assert_true(memcmp(a, b, sizeof a) != 0);
    size_t untouched = 0, counts[256] = {0};
    for (size_t i = 0; i < sizeof a; i++) {
        untouched += a[i] == 0xa5 && b[i] == 0xa5;
        counts[a[i]]++;
    }
    assert_true(untouched < 3);
    for (int v = 0; v < 256; v++)
        assert_true(counts[v] < 30); /* expected ~4 each: no stuck value */
    util_random_bytes(a, 0);         /* nothing asked, nothing done */
}

/* Issue 21: the ids of an import come in runs that share their first characters and
 * ascend (so the B-trees keyed by id grow in one place per run), yet each is a valid id
 * of util_random_id's shape, none repeats, and each character after the run's head is
 * as random as before (every one of the 36 appears about equally often). */
static void test_clustered_ids_ascend_in_runs_and_stay_random(void **state)
{
    (void)state;
    enum { N = 20000 };
    static char ids[N][13];
    size_t runs = 1, counts[128] = {0};
    for (size_t i = 0; i < N; i++) {
        util_random_id_clustered(ids[i], 12, 'e');
        assert_int_equal(strlen(ids[i]), 12);
        assert_true(ids[i][0] == 'e' && util_is_jmap_id(ids[i]));
        for (size_t k = 1; k < 12; k++)
            assert_true(strchr("abcdefghijklmnopqrstuvwxyz0123456789", ids[i][k]) != NULL);
        counts[(unsigned char)ids[i][11]]++;
        if (i && memcmp(ids[i], ids[i - 1], 4) == 0)
            assert_true(strcmp(ids[i], ids[i - 1]) > 0); /* a run ascends */
        else if (i)
            runs++;
    }
    /* runs of up to 4,096: at least five, and not one per id */
    assert_true(runs >= N / 4096 && runs < N / 1000);
    qsort(ids, N, sizeof ids[0], (int (*)(const void *, const void *))strcmp);
    for (size_t i = 1; i < N; i++)
        assert_true(strcmp(ids[i], ids[i - 1]) != 0);
    /* the last character: 20,000 / 36 = 556 each; 400..720 is beyond 6 sigma */
    for (const char *c = "abcdefghijklmnopqrstuvwxyz0123456789"; *c; c++)
        assert_true(counts[(unsigned char)*c] > 400 && counts[(unsigned char)*c] < 720);
    /* another length keeps util_random_id's ids */
    char other[11];
    util_random_id_clustered(other, 10, 't');
    assert_true(strlen(other) == 10 && other[0] == 't');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_bytes_fill_the_buffer),
        cmocka_unit_test(test_clustered_ids_ascend_in_runs_and_stay_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
