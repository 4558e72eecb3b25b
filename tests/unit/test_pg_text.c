/* test_pg_text.c — the words of PostgreSQL's text index as jmapd writes them
 * (postgres_text.c, issue 15 §1): split and folded by the SQLite backend's own FTS5
 * tokenizer (unicode61, diacritics removed), as tsvector and tsquery literals, so the
 * two backends find the same words. No database: the literals themselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/postgres_internal.h"
#include "util/util.h"

static void vector_is(const char *text, const char *want)
{
    char *got = pgt_tsvector(text);
    if (!want)
        assert_null(got);
    else
        assert_string_equal(got, want);
    free(got);
}

static void test_vector_words_fold_case_and_diacritics(void **state)
{
    (void)state;
    vector_is("Café with Zoë", "'cafe':1 'with':2 'zoe':3");
    vector_is("e-mail alice@example.com 12:30", "'e':1 'mail':2 'alice':3 'example':4 'com':5 "
                                                "'12':6 '30':7");
    vector_is("O'Brien's pasta_bar", "'o':1 'brien':2 's':3 'pasta':4 'bar':5");
    /* what unicode61 keeps (unaccent folded it: PostgreSQL found "strasse") */
    vector_is("Straße Øresund", "'straße':1 'øresund':2");
    vector_is("Paris — La Défense", "'paris':1 'la':2 'defense':3");
}

static void test_vector_without_words_is_null(void **state)
{
    (void)state;
    vector_is(NULL, NULL);
    vector_is("", NULL);
    vector_is(" — !? ", NULL);
}

static void test_vector_skips_what_cannot_be_a_lexeme(void **state)
{
    (void)state;
    char *text = xmalloc(3000);
    memset(text, 'a', 2100);
    strcpy(text + 2100, " b");
    vector_is(text, "'b':2"); /* 2,100 bytes: more than a lexeme may have */
    free(text);
}

static void query_is(const char *words, bool prefix, const char *want, int n)
{
    struct buf q = {0};
    assert_int_equal(pgt_tsquery_words(&q, words, strlen(words), prefix), n);
    assert_string_equal(q.data ? q.data : "", want);
    buf_free(&q);
}

static void test_query_words(void **state)
{
    (void)state;
    query_is("CAFÉ", false, "'cafe'", 1);
    query_is("naïve", true, "'naive':*", 1);
    query_is("x—y", true, "'x' <-> 'y':*", 2); /* one query word, two index words */
    query_is("—", false, "", 0);
    struct buf q = {0}; /* a phrase: words appended to what is there */
    pgt_tsquery_words(&q, "daily", 5, false);
    pgt_tsquery_words(&q, "sync", 4, true);
    assert_string_equal(q.data, "'daily' <-> 'sync':*");
    buf_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_words_fold_case_and_diacritics),
        cmocka_unit_test(test_vector_without_words_is_null),
        cmocka_unit_test(test_vector_skips_what_cannot_be_a_lexeme),
        cmocka_unit_test(test_query_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
