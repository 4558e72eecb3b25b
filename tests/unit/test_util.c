/* test_util.c — util/util.c: random bytes from the kernel's CSPRNG (getrandom(2); issue
 * 21 §3: OpenSSL is no longer initialised at start for them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_bytes_fill_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
