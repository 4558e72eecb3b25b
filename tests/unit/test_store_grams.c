/* test_store_grams.c — the store's substring search (store.h "substring search",
 * issue 21) on SQLite: every search of random terms, long and short (the trigram
 * index has nothing under three characters), in one field or any, against the
 * same search done by strstr over what was put; rows replaced and deleted; facets
 * read back; the objects without a row found for the backfill. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "test_store_util.h"

static char dir[64];
static struct store *st;

static int setup(void **state)
{
    st = ts_open(dir, "grams");
    return 0;
}

static int teardown(void **state)
{
    ts_close(st, dir);
    return 0;
}

enum { N = 400 };
/* a small alphabet, so that short and long terms both hit: ASCII, a quote, a
 * space, a newline (between values) and two-byte characters (é, ü) */
static const char *const pieces[] = {"a",  "b",        "c",        "ab", "\"", " ",
                                     "\n", "\xc3\xa9", "\xc3\xbc", "%",  "_",  "x"};

static void random_text(char *out, size_t max)
{
    size_t len = (size_t)rand() % 12, n = 0;
    out[0] = 0;
    for (size_t i = 0; i < len; i++) {
        const char *p = pieces[rand() % (sizeof pieces / sizeof pieces[0])];
        if (n + strlen(p) + 1 >= max)
            break;
        strcat(out, p);
        n += strlen(p);
    }
}

static char texts[N][STORE_GRAM_FIELDS][40];
static bool live[N];

static int mark(const char *id, void *ud)
{
    int i = atoi(id + 1);
    char *hit = ud;
    assert_true(i >= 0 && i < N);
    assert_int_equal(hit[i], 0); /* each id once */
    hit[i] = 1;
    return 0;
}

static bool model_term(int i, const struct store_gram_term *t)
{
    for (int f = 0; f < STORE_GRAM_FIELDS; f++) {
        if (t->field >= 0 && f != t->field)
            continue;
        if (*t->text ? strstr(texts[i][f], t->text) != NULL : texts[i][f][0] != 0)
            return true;
    }
    return false;
}

static void put_row(struct store_conn *c, int i)
{
    char id[16], facets[32];
    snprintf(id, sizeof id, "c%d", i);
    snprintf(facets, sizeof facets, "facets of %d", i);
    struct store_grams g = {.facets = facets};
    for (int f = 0; f < STORE_GRAM_FIELDS; f++) {
        random_text(texts[i][f], sizeof texts[i][f]);
        g.text[f] = texts[i][f];
    }
    assert_int_equal(store_grams_put(c, "A1", "Card", id, &g), STORE_OK);
    live[i] = true;
}

static void check_searches(struct store_conn *c, int rounds)
{
    for (int r = 0; r < rounds; r++) {
        struct store_gram_term t[3];
        char words[3][16];
        size_t nt = 1 + (size_t)rand() % 3;
        for (size_t k = 0; k < nt; k++) {
            random_text(words[k], (size_t)(rand() % 2 ? 6 : 12));
            t[k] = (struct store_gram_term){words[k], rand() % 3 ? rand() % STORE_GRAM_FIELDS : -1};
        }
        char hit[N] = {0};
        assert_int_equal(store_grams_search(c, "A1", "Card", t, nt, mark, hit), STORE_OK);
        for (int i = 0; i < N; i++) {
            bool want = live[i];
            for (size_t k = 0; k < nt && want; k++)
                want = model_term(i, &t[k]);
            if (want != (hit[i] != 0))
                fail_msg("card %d, term \"%s\" in %d: store %d, model %d", i, t[0].text, t[0].field,
                         hit[i], want);
        }
    }
}

static void test_search_is_exact_substrings(void **state)
{
    struct store_conn *c = store_conn(st);
    srand(9610);
    assert_int_equal(store_begin(c, true), STORE_OK);
    for (int i = 0; i < N; i++)
        put_row(c, i);
    /* another account's and another type's rows are not found */
    struct store_grams other = {.text = {"abc", "ab", "a"}, .facets = ""};
    assert_int_equal(store_grams_put(c, "A2", "Card", "c1", &other), STORE_OK);
    assert_int_equal(store_grams_put(c, "A1", "Other", "c2", &other), STORE_OK);
    check_searches(c, 300);
    /* replaced rows and deleted rows */
    for (int i = 0; i < N; i += 3)
        put_row(c, i);
    for (int i = 1; i < N; i += 7) {
        char id[16];
        snprintf(id, sizeof id, "c%d", i);
        assert_int_equal(store_grams_del(c, "A1", "Card", id), STORE_OK);
        live[i] = false;
    }
    check_searches(c, 300);
    assert_int_equal(store_commit(c), STORE_OK);
    /* the trigram index holds exactly the rows' texts (FTS5's own check) */
    char path[128];
    snprintf(path, sizeof path, "%s/jmapd.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "INSERT INTO object_grams(object_grams) VALUES('integrity-check')", NULL,
                     NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
}

static int facets_cb(const char *id, const char *facets, void *ud)
{
    char want[32];
    snprintf(want, sizeof want, "facets of %d", atoi(id + 1));
    assert_string_equal(facets, want);
    (*(int *)ud)++;
    return 0;
}

static int missing_cb(const char *id, void *ud)
{
    assert_string_equal(id, "old");
    (*(int *)ud)++;
    return 0;
}

static void test_facets_and_missing_rows(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_begin(c, true), STORE_OK);
    int n = 0;
    assert_int_equal(store_grams_facets(c, "A1", "Card", NULL, facets_cb, &n), STORE_OK);
    int want = 0;
    for (int i = 0; i < N; i++)
        want += live[i];
    assert_int_equal(n, want);
    n = 0;
    assert_int_equal(store_grams_facets(c, "A1", "Card", "c3", facets_cb, &n), STORE_OK);
    assert_int_equal(n, 1);
    /* objects: one with a row, one without (stored before there were rows) */
    json_t *o = json_object();
    int64_t m = store_state_bump(c, "A1", "Card");
    assert_int_equal(store_object_put(c, "A1", "Card", "c0", o, m, true, NULL), STORE_OK);
    assert_int_equal(store_object_put(c, "A1", "Card", "old", o, m, true, NULL), STORE_OK);
    json_decref(o);
    n = 0;
    assert_int_equal(store_grams_missing(c, "A1", "Card", missing_cb, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_commit(c), STORE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_is_exact_substrings),
        cmocka_unit_test(test_facets_and_missing_rows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
