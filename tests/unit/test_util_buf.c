/*
 * test_util_buf.c — the growable byte buffer of util.c, in particular buf_printf:
 * short results are formatted on the stack and appended, longer ones (256 bytes and
 * more) formatted a second time from the start of the arguments (the va_list restarted,
 * not reused), and every result is appended after what the buffer already holds,
 * NUL-terminated, with the arguments read exactly as printf would read them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* What snprintf makes of a string s of n copies of c between a prefix and a number. */
static char *expected(const char *prefix, size_t n, char c, long long num)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = 0;
    size_t size = strlen(prefix) + n + 32;
    char *out = malloc(size);
    snprintf(out, size, "%s%s-%lld", prefix, s, num);
    free(s);
    return out;
}

/* Every length around the stack buffer's size (256): each result equals snprintf's, after
 * the text already in the buffer, and the buffer stays NUL-terminated. */
static void test_printf_lengths_around_the_stack_buffer(void **state)
{
    (void)state;
    for (size_t n = 240; n < 270; n++) {
        char *arg = malloc(n + 1);
        memset(arg, 'x', n);
        arg[n] = 0;
        struct buf b = {0};
        buf_puts(&b, "head:");
        buf_printf(&b, "%s-%lld", arg, (long long)n * 1000003);
        char *want = expected("head:", n, 'x', (long long)n * 1000003);
        assert_int_equal(b.len, strlen(want));
        assert_memory_equal(b.data, want, b.len);
        assert_int_equal(b.data[b.len], 0);
        free(want);
        free(arg);
        buf_free(&b);
    }
}

/* A long result's arguments are read again from the first (a reused va_list would read
 * past them): several arguments of several types after a long string. */
static void test_printf_long_result_reads_every_argument(void **state)
{
    (void)state;
    char big[1000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = 0;
    struct buf b = {0};
    buf_printf(&b, "%s|%d|%s|%lld|%c", big, -42, "tail", (long long)1 << 40, 'z');
    char want[1100];
    int n =
        snprintf(want, sizeof want, "%s|%d|%s|%lld|%c", big, -42, "tail", (long long)1 << 40, 'z');
    assert_int_equal(b.len, (size_t)n);
    assert_string_equal(b.data, want);
    buf_free(&b);
}

/* Many short appends grow the buffer and keep every piece in order. */
static void test_printf_many_appends(void **state)
{
    (void)state;
    struct buf b = {0};
    for (int i = 0; i < 5000; i++)
        buf_printf(&b, "<%d>", i);
    size_t off = 0;
    for (int i = 0; i < 5000; i++) {
        char piece[16];
        int n = snprintf(piece, sizeof piece, "<%d>", i);
        assert_memory_equal(b.data + off, piece, (size_t)n);
        off += (size_t)n;
    }
    assert_int_equal(off, b.len);
    char *s = buf_take(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(strlen(s), off);
    free(s);
}

/* An empty format appends nothing; buf_take of an empty buffer is "" (never NULL). */
static void test_printf_empty(void **state)
{
    (void)state;
    struct buf b = {0};
    buf_printf(&b, "%s", "");
    assert_int_equal(b.len, 0);
    char *s = buf_take(&b);
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printf_lengths_around_the_stack_buffer),
        cmocka_unit_test(test_printf_long_result_reads_every_argument),
        cmocka_unit_test(test_printf_many_appends),
        cmocka_unit_test(test_printf_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
