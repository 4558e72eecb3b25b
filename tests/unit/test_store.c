/* test_store.c — the SQLite store: users and access, modseqs and the change log,
 * and blob lifetimes (RFC 8620 §6: an unreferenced upload lives at least its TTL,
 * a referenced blob as long as it is referenced). */
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
    st = ts_open(dir, "store");
    return 0;
}

static int teardown(void **state)
{
    ts_close(st, dir);
    return 0;
}

static void test_users_and_access(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_user_add(c, "ann", "h1", "A1"), STORE_OK);
    assert_int_equal(store_user_add(c, "ann", "h2", "A9"), STORE_EXISTS);
    assert_int_equal(store_user_add(c, "ben", "h2", "A2"), STORE_OK);
    struct store_user u = {0};
    assert_int_equal(store_user_get(c, "ann", &u), STORE_OK);
    assert_string_equal(u.account_id, "A1");
    assert_string_equal(u.pwhash, "h1");
    assert_int_equal(store_access_grant(c, u.id, "A2", false), STORE_OK);
    struct store_access a[4];
    int n = store_user_accounts(c, u.id, a, 4);
    assert_int_equal(n, 2);
    assert_string_equal(a[0].account_id, "A1"); /* the user's own account first */
    assert_true(a[0].is_personal && a[0].may_write);
    assert_string_equal(a[1].account_id, "A2");
    assert_false(a[1].is_personal || a[1].may_write);
    store_user_clear(&u);
    assert_int_equal(store_user_set_password(c, "nobody", "x"), STORE_NOTFOUND);
    assert_int_equal(store_user_del(c, "ben"), STORE_OK);
    assert_int_equal(store_user_get(c, "ben", &u), STORE_NOTFOUND);
}

struct two_users {
    const char *a, *b;
    int runs;
};

static int add_two(struct store_conn *c, void *ud)
{
    struct two_users *t = ud;
    t->runs++;
    assert_true(store_in_write(c)); /* store.h: fn runs inside the write transaction */
    int rc = store_user_add(c, t->a, "h", t->a);
    return rc ? rc : store_user_add(c, t->b, "h", t->b);
}

/* Issue 15 §1 store_write: fn's STORE_OK commits everything it wrote; any other answer
 * rolls everything back and is returned; no transaction stays open; on SQLite nothing
 * is refused, so fn runs once (store_retryable never holds). */
static void test_store_write_commits_or_changes_nothing(void **state)
{
    struct store_conn *c = store_conn(st);
    struct two_users ok = {"wa", "wb", 0}, clash = {"wc", "wa", 0};
    assert_int_equal(store_write(c, add_two, &ok, "test"), STORE_OK);
    assert_int_equal(ok.runs, 1);
    assert_false(store_in_write(c));
    assert_int_equal(store_write(c, add_two, &clash, "test"), STORE_EXISTS);
    assert_int_equal(clash.runs, 1);
    assert_false(store_in_write(c) || store_retryable(c));
    struct store_user u = {0};
    assert_int_equal(store_user_get(c, "wb", &u), STORE_OK);
    store_user_clear(&u);
    assert_int_equal(store_user_get(c, "wc", &u), STORE_NOTFOUND); /* rolled back */
    assert_false(store_retry_again(c, 0, "test"));
}

static int count_changes(const char *id, int64_t created, int64_t updated, bool destroyed,
                         void *ud)
{
    (*(int *)ud)++;
    return 0;
}

static void test_modseq_and_changes(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_state_get(c, "A1", "T"), 0);
    assert_int_equal(store_begin(c, true), STORE_OK);
    json_t *o = json_pack("{s:s}", "id", "x1");
    int64_t m1 = store_state_bump(c, "A1", "T");
    assert_int_equal(store_object_put(c, "A1", "T", "x1", o, m1, true, NULL), STORE_OK);
    assert_int_equal(store_object_put(c, "A1", "T", "x1", o, m1, true, NULL), STORE_EXISTS);
    int64_t m2 = store_state_bump(c, "A1", "T");
    assert_int_equal(store_object_put(c, "A1", "T", "x1", o, m2, false, NULL), STORE_OK);
    int64_t m3 = store_state_bump(c, "A1", "T");
    assert_int_equal(store_object_destroy(c, "A1", "T", "x1", m3), STORE_OK);
    assert_int_equal(store_object_destroy(c, "A1", "T", "x1", m3), STORE_NOTFOUND);
    assert_int_equal(store_commit(c), STORE_OK);
    json_decref(o);
    assert_true(m1 < m2 && m2 < m3);
    assert_int_equal(store_state_get(c, "A1", "T"), m3);
    assert_null(store_object_get(c, "A1", "T", "x1"));
    /* one row per object in the change log, whatever happened to it */
    int n = 0;
    store_changes(c, "A1", "T", 0, 0, count_changes, &n);
    assert_int_equal(n, 1);
    n = 0;
    store_changes(c, "A1", "T", m3, 0, count_changes, &n);
    assert_int_equal(n, 0);
    /* a rolled-back transaction leaves nothing */
    assert_int_equal(store_begin(c, true), STORE_OK);
    assert_true(store_state_bump(c, "A1", "T") > m3);
    store_rollback(c);
    assert_int_equal(store_state_get(c, "A1", "T"), m3);
}

static void test_blob_lifetimes(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_begin(c, true), STORE_OK);
    assert_int_equal(store_blob_put(c, "A1", "Gkept", "abc", 3, "text/plain"), STORE_OK);
    assert_int_equal(store_blob_put(c, "A1", "Gref", "def", 3, NULL), STORE_OK);
    assert_int_equal(store_blob_ref(c, "A1", "Gref", "T", "o1"), STORE_OK);
    assert_int_equal(store_commit(c), STORE_OK);
    assert_int_equal(store_blob_size(c, "A1", "Gkept"), 3);
    assert_int_equal(store_blob_size(c, "A2", "Gkept"), -1); /* another account's */
    /* collection within the upload lifetime keeps both */
    assert_int_equal(store_blob_gc(c, 3600), STORE_OK);
    assert_int_equal(store_blob_size(c, "A1", "Gkept"), 3);
    /* past it, the unreferenced upload goes; the referenced blob stays */
    assert_int_equal(store_blob_gc(c, -1), STORE_OK);
    assert_int_equal(store_blob_size(c, "A1", "Gkept"), -1);
    assert_int_equal(store_blob_size(c, "A1", "Gref"), 3);
    /* once unreferenced, it is collected too */
    assert_int_equal(store_blob_unref_object(c, "A1", "T", "o1"), STORE_OK);
    assert_int_equal(store_blob_gc(c, -1), STORE_OK);
    assert_int_equal(store_blob_size(c, "A1", "Gref"), -1);
}

/* store.h: an object's unique key is a database constraint: a second live object
 * with the key is STORE_EXISTS and stores nothing; destroying frees the key. */
static void test_unique_key_is_a_constraint(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_begin(c, true), STORE_OK);
    json_t *o = json_pack("{s:s}", "uid", "u1");
    int64_t m = store_state_bump(c, "A1", "K");
    assert_int_equal(store_object_put(c, "A1", "K", "k1", o, m, true, "u1"), STORE_OK);
    assert_int_equal(store_object_put(c, "A1", "K", "k2", o, m, true, "u1"), STORE_EXISTS);
    assert_false(store_object_exists(c, "A1", "K", "k2"));
    /* other accounts and types have their own keys; an update keeps its own */
    assert_int_equal(store_object_put(c, "A2", "K", "k2", o, m, true, "u1"), STORE_OK);
    assert_int_equal(store_object_put(c, "A1", "L", "k2", o, m, true, "u1"), STORE_OK);
    assert_int_equal(store_object_put(c, "A1", "K", "k1", o, m, false, "u1"), STORE_OK);
    assert_int_equal(store_object_put(c, "A1", "K", "k3", o, m, true, "u2"), STORE_OK);
    assert_int_equal(store_object_put(c, "A1", "K", "k3", o, m, false, "u1"), STORE_EXISTS);
    assert_int_equal(store_object_destroy(c, "A1", "K", "k1", m + 1), STORE_OK);
    assert_int_equal(store_object_put(c, "A1", "K", "k2", o, m + 1, true, "u1"), STORE_OK);
    json_decref(o);
    assert_int_equal(store_commit(c), STORE_OK);
}

static int collect_id(const char *id, void *ud)
{
    json_array_append_new(ud, json_string(id));
    return 0;
}

/* The ids a text search finds, sorted, as compact JSON text (malloc'd). */
static char *search(struct store_conn *c, const struct store_text_term *t, size_t n)
{
    json_t *ids = json_array();
    assert_int_equal(store_text_search(c, "A1", "S", t, n, collect_id, ids), STORE_OK);
    size_t count = json_array_size(ids);
    for (size_t i = 0; i + 1 < count; i++)
        for (size_t j = 0; j + 1 < count - i; j++)
            if (strcmp(json_string_value(json_array_get(ids, j)),
                       json_string_value(json_array_get(ids, j + 1))) > 0) {
                json_t *x = json_incref(json_array_get(ids, j));
                json_array_set(ids, j, json_array_get(ids, j + 1));
                json_array_set_new(ids, j + 1, x);
            }
    char *text = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    return text;
}

/* store.h: text search is a structured query (words, phrases, prefixes, fields by
 * number), case- and diacritic-insensitive, all terms ANDed. */
static void test_structured_text_search(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_begin(c, true), STORE_OK);
    static const char *const docs[][3] = {
        {"s1", "Team meeting", "Weekly sync about the café"},
        {"s2", "Meeting notes", "team lunch"},
        {"s3", "Lunch", "with the whole team, \"quoted\""},
    };
    for (size_t i = 0; i < 3; i++) {
        json_t *o = json_object();
        int64_t m = store_state_bump(c, "A1", "S");
        assert_int_equal(store_object_put(c, "A1", "S", docs[i][0], o, m, true, NULL), STORE_OK);
        struct store_index ix = {.text = {docs[i][1], docs[i][2]}};
        assert_int_equal(store_index_put(c, "A1", "S", docs[i][0], &ix), STORE_OK);
        json_decref(o);
    }
    struct {
        struct store_text_term t[2];
        size_t n;
        const char *want;
    } cases[] = {
        {{{"team", -1, false, false}}, 1, "[\"s1\",\"s2\",\"s3\"]"},
        {{{"team", 0, false, false}}, 1, "[\"s1\"]"},
        {{{"TEAM meeting", -1, true, false}}, 1, "[\"s1\"]"},       /* in order, adjacent */
        {{{"meeting team", -1, false, false}}, 1, "[\"s1\",\"s2\"]"}, /* each word */
        {{{"meet", -1, false, false}}, 1, "[]"},
        {{{"meet", 0, false, true}}, 1, "[\"s1\",\"s2\"]"},
        {{{"team lun", 1, true, true}}, 1, "[\"s2\"]"}, /* the last word a prefix */
        {{{"CAFE", 1, false, false}}, 1, "[\"s1\"]"},   /* diacritics folded */
        {{{"lunch", -1, false, false}, {"whole", 1, false, false}}, 2, "[\"s3\"]"},
        {{{"\"quoted\" OR NOT", -1, false, false}}, 1, "[]"}, /* no query syntax */
        {{{"\"quoted\"", 1, false, false}}, 1, "[\"s3\"]"},
        {{{"--", 0, false, false}}, 1, "[\"s1\",\"s2\",\"s3\"]"}, /* no word: all */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = search(c, cases[i].t, cases[i].n);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: got %s, want %s", i, got, cases[i].want);
        free(got);
    }
    store_rollback(c);
}

/* Whether SQLite's plan of sql (on the test's database) has a step whose detail
 * holds want. */
static bool plan_has(const char *sql, const char *want)
{
    char path[128];
    snprintf(path, sizeof path, "%s/jmapd.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    char *explain = NULL;
    assert_true(asprintf(&explain, "EXPLAIN QUERY PLAN %s", sql) > 0);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, explain, -1, &s, NULL), SQLITE_OK);
    bool found = false;
    while (sqlite3_step(s) == SQLITE_ROW)
        found |= strstr((const char *)sqlite3_column_text(s, 3), want) != NULL;
    sqlite3_finalize(s);
    sqlite3_close(db);
    free(explain);
    return found;
}

/* Issue 21: a text search starts from the full-text hits and finds each hit's row
 * through an index on its text rowid, rather than scanning the account's rows and
 * running the MATCH once per row (0.6 s at 20,000 events). The plan of the join
 * store_text_search runs must search object_index by text_rowid. */
static void test_text_search_plan_is_driven_by_hits(void **state)
{
    assert_true(plan_has("SELECT i.id, i.modseq, i.ord FROM object_fields t CROSS JOIN "
                         "object_index i ON i.text_rowid = t.rowid WHERE object_fields MATCH 'x' "
                         "AND i.account_id='A' AND i.type='T'",
                         "SEARCH i USING COVERING INDEX object_index_text"));
}

/* Issue 21: store_index_spans gives exactly the rows whose range overlaps the window
 * [from, to) (starts before to, ends at or after from), those without a range, and
 * each row's range and exact flag as put; ranges of every length class (a second to
 * centuries, open ones) against a brute-force check of random windows. */
struct span_row {
    char id[16];
    bool has_range, open, exact;
    int64_t start, end;
};

struct span_seen {
    const struct span_row *rows;
    size_t n;
    char *hit; /* per row: returned */
    bool bad;
};

static int span_seen_cb(const char *id, int64_t modseq, bool has_range, bool exact, int64_t start,
                        int64_t end, void *ud)
{
    struct span_seen *s = ud;
    size_t i = (size_t)atoi(id + 1);
    const struct span_row *r = &s->rows[i];
    s->hit[i]++;
    if (has_range != r->has_range || (has_range && (start != r->start || exact != r->exact ||
                                                    end != (r->open ? INT64_MAX : r->end))))
        s->bad = true;
    (void)modseq;
    return 0;
}

static void test_index_spans_are_the_overlapping_rows(void **state)
{
    enum { N = 3000 };
    static struct span_row rows[N];
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_begin(c, true), STORE_OK);
    srand(21);
    const int64_t base = 1700000000;
    for (size_t i = 0; i < N; i++) {
        struct span_row *r = &rows[i];
        snprintf(r->id, sizeof r->id, "r%zu", i);
        int kind = rand() % 10;
        r->has_range = kind != 0;
        r->open = kind == 1;
        r->exact = kind > 5;
        r->start = base + (int64_t)(rand() % 100000000) - 50000000;
        int64_t len =
            kind == 2 ? (int64_t)rand() % 3000000000LL : (int64_t)(rand() % 4) << (rand() % 30);
        r->end = r->start + len;
        json_t *o = json_object();
        int64_t m = store_state_bump(c, "A1", "R");
        assert_int_equal(store_object_put(c, "A1", "R", r->id, o, m, true, NULL), STORE_OK);
        json_decref(o);
        struct store_index ix = {.has_range = r->has_range,
                                 .unbounded = r->open,
                                 .start = r->start,
                                 .end = r->end,
                                 .exact = r->exact};
        assert_int_equal(store_index_put(c, "A1", "R", r->id, &ix), STORE_OK);
    }
    char hit[N];
    for (int w = 0; w < 200; w++) {
        int64_t from = base + (int64_t)(rand() % 120000000) - 60000000;
        int64_t to = from + ((int64_t)1 << (rand() % 28));
        bool has_from = w % 10 != 0;
        memset(hit, 0, sizeof hit);
        struct span_seen seen = {rows, N, hit, false};
        assert_int_equal(
            store_index_spans(c, "A1", "R", has_from, from, true, to, span_seen_cb, &seen),
            STORE_OK);
        assert_false(seen.bad);
        for (size_t i = 0; i < N; i++) {
            const struct span_row *r = &rows[i];
            bool want =
                !r->has_range || (r->start < to && (!has_from || r->open || r->end >= from));
            if (hit[i] != (want ? 1 : 0))
                fail_msg("window %d [%lld, %lld): row %zu [%lld, %lld%s) returned %d times", w,
                         (long long)from, (long long)to, i, (long long)r->start, (long long)r->end,
                         r->open ? " open" : "", hit[i]);
        }
    }
    store_rollback(c);
}

/* Issue 21: the span scan reads one index range per class of range length, bounded on
 * both sides by start (not every row starting before the window's end). The plan of
 * the per-class part of store_index_spans must search object_index_span so. */
static void test_span_scan_plan_is_one_range_per_class(void **state)
{
    assert_true(plan_has("WITH RECURSIVE k(c) AS (SELECT 0 UNION ALL SELECT c + 1 FROM k "
                         "WHERE c < 40) SELECT i.id, i.modseq, i.start, i.finish, i.exact FROM "
                         "k CROSS JOIN object_index i WHERE i.account_id=?1 AND i.type=?2 AND "
                         "i.span=k.c AND i.start >= ?3 - (1 << k.c) AND i.start < ?4 AND "
                         "i.finish >= ?3",
                         "SEARCH i USING COVERING INDEX object_index_span (account_id=? AND "
                         "type=? AND span=? AND start>? AND start<?)"));
}

/* Issue 21: the sorted page in both directions (store_index_ordered) is read from an
 * index in its order, ties by id ascending; descending, SQLite sorted every group of
 * equal order in a temporary B-tree on the way to the page (8.8 ms at offset 30,000). */
static void test_ordered_page_plans_read_an_index_in_order(void **state)
{
    static const char *const sql[] = {
        "SELECT id, modseq, ord FROM object_index WHERE account_id=?1 AND type=?2 AND ord IS "
        "NOT NULL ORDER BY ord DESC, id LIMIT ?4 OFFSET ?3",
        "SELECT id, modseq, ord FROM object_index WHERE account_id=?1 AND type=?2 AND ord IS "
        "NOT NULL ORDER BY ord, id LIMIT ?4 OFFSET ?3"};
    for (size_t i = 0; i < 2; i++) {
        assert_true(plan_has(sql[i], "USING COVERING INDEX object_index_order"));
        assert_false(plan_has(sql[i], "TEMP B-TREE"));
    }
}

/* Issue 14 (calendars-27 §4.1): an account reached through shares is readable, and
 * subscribed, only through a share that lets the user read items; a share of free/busy
 * alone (may_read false) leaves it neither. */
static void test_free_busy_share_is_no_readable_account(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_user_add(c, "own", "h", "AO"), STORE_OK);
    assert_int_equal(store_user_add(c, "sha", "h", "AS"), STORE_OK);
    struct store_user u = {0};
    assert_int_equal(store_user_get(c, "sha", &u), STORE_OK);
    struct store_share fb = {"AS", false, false}, rd = {"AS", false, true};
    assert_int_equal(store_share_set(c, "AO", "Calendar", "c1", &fb, 1), STORE_OK);
    struct store_access a[4];
    int n = store_user_accounts(c, u.id, a, 4);
    assert_int_equal(n, 2);
    assert_string_equal(a[1].account_id, "AO");
    assert_true(a[1].shared && !a[1].readable && !a[1].subscribed);
    assert_true(a[0].readable); /* their own */
    assert_int_equal(store_share_set(c, "AO", "Calendar", "c2", &rd, 1), STORE_OK);
    n = store_user_accounts(c, u.id, a, 4);
    assert_int_equal(n, 2);
    assert_true(a[1].readable && a[1].subscribed);
    store_user_clear(&u);
}

static int member_cb(const char *id, int64_t modseq, int64_t order, void *ud)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%s%s@%lld", *(char *)ud ? "," : "", id, (long long)order);
    strcat(ud, buf);
    return 0;
}

/* Issue 14: the members of a collection in index order (order, then id ascending; order
 * descending with desc), from the first or after a row, bounded; a put replaces an
 * object's rows; each direction read from its index in order. */
static void test_members_in_index_order(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_begin(c, true), STORE_OK);
    const char *both[] = {"K1", "K2"}, *one[] = {"K1"};
    assert_int_equal(store_members_put(c, "A1", "E", "b", both, 2, true, 20), STORE_OK);
    assert_int_equal(store_members_put(c, "A1", "E", "a", one, 1, true, 20), STORE_OK);
    assert_int_equal(store_members_put(c, "A1", "E", "c", one, 1, true, 10), STORE_OK);
    assert_int_equal(store_members_put(c, "A1", "E", "d", one, 1, false, 0), STORE_OK);
    assert_int_equal(store_members_put(c, "A1", "E", "x", both, 2, true, 5), STORE_OK);
    assert_int_equal(store_members_put(c, "A1", "E", "x", NULL, 0, true, 5), STORE_OK);
    assert_int_equal(store_commit(c), STORE_OK);
    char got[256] = "";
    assert_int_equal(
        store_members_ordered(c, "A1", "E", "K1", false, false, 0, "", 0, -1, member_cb, got),
        STORE_OK);
    assert_string_equal(got, "c@10,a@20,b@20");
    got[0] = 0;
    store_members_ordered(c, "A1", "E", "K1", true, false, 0, "", 0, -1, member_cb, got);
    assert_string_equal(got, "a@20,b@20,c@10");
    got[0] = 0;
    store_members_ordered(c, "A1", "E", "K1", false, true, 20, "a", 0, 5, member_cb, got);
    assert_string_equal(got, "b@20");
    got[0] = 0;
    store_members_ordered(c, "A1", "E", "K1", true, true, 20, "a", 0, 1, member_cb, got);
    assert_string_equal(got, "b@20");
    got[0] = 0;
    store_members_ordered(c, "A1", "E", "K2", false, false, 0, "", 0, -1, member_cb, got);
    assert_string_equal(got, "b@20");
    got[0] = 0; /* positions [1, 2) */
    store_members_ordered(c, "A1", "E", "K1", false, false, 0, "", 1, 1, member_cb, got);
    assert_string_equal(got, "a@20");
    static const char *const sql[] = {
        "SELECT id, ord FROM object_members WHERE account_id=?1 AND type=?2 AND "
        "collection_id=?3 AND ord IS NOT NULL ORDER BY ord DESC, id LIMIT ?6 OFFSET ?7",
        "SELECT id, ord FROM object_members WHERE account_id=?1 AND type=?2 AND "
        "collection_id=?3 AND ord >= ?4 AND (ord > ?4 OR id > ?5) ORDER BY ord, id LIMIT ?6 "
        "OFFSET ?7"};
    for (size_t i = 0; i < 2; i++) {
        assert_true(plan_has(sql[i], "USING COVERING INDEX object_members_order"));
        assert_false(plan_has(sql[i], "TEMP B-TREE"));
    }
}

/* Issue 21: the counts of live objects (store_object_count) and of side-index rows with
 * and without an order (store_index_count) are kept on each write (SQLite schema 26's
 * table), read as one row: creates, updates, destroys, an index row written again or
 * taken out and a rolled-back write keep them exact; the rows without an order are
 * counted from the order's index. */
static void test_counts_follow_writes(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_object_count(c, "C1", "T"), 0);
    assert_int_equal(store_begin(c, true), STORE_OK);
    json_t *o = json_pack("{s:i}", "n", 1);
    int64_t m = store_state_bump(c, "C1", "T");
    const char *ids[] = {"a", "b", "c", "d"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(store_object_put(c, "C1", "T", ids[i], o, m, true, NULL), STORE_OK);
        struct store_index ix = {.has_order = i < 3, .order = (int64_t)i};
        assert_int_equal(store_index_put(c, "C1", "T", ids[i], &ix), STORE_OK);
    }
    assert_int_equal(store_object_count(c, "C1", "T"), 4); /* the transaction's own */
    assert_int_equal(store_object_put(c, "C1", "T", "a", o, m, false, NULL), STORE_OK);
    struct store_index moved = {.has_order = true, .order = 9};
    assert_int_equal(store_index_put(c, "C1", "T", "a", &moved), STORE_OK); /* again */
    assert_int_equal(store_object_destroy(c, "C1", "T", "b", m), STORE_OK);
    assert_int_equal(store_index_del(c, "C1", "T", "b"), STORE_OK);
    assert_int_equal(store_object_put(c, "C1", "U", "a", o, m, true, NULL), STORE_OK);
    assert_int_equal(store_commit(c), STORE_OK);
    assert_int_equal(store_object_count(c, "C1", "T"), 3);
    assert_int_equal(store_object_count(c, "C1", "U"), 1);
    int64_t ordered = -1, unordered = -1;
    assert_int_equal(store_index_count(c, "C1", "T", &ordered, &unordered), STORE_OK);
    assert_true(ordered == 2 && unordered == 1);
    assert_int_equal(store_begin(c, true), STORE_OK); /* rolled back: nothing counted */
    assert_int_equal(store_object_put(c, "C1", "T", "e", o, m, true, NULL), STORE_OK);
    assert_int_equal(store_object_destroy(c, "C1", "T", "a", m), STORE_OK);
    store_rollback(c);
    assert_int_equal(store_object_count(c, "C1", "T"), 3);
    /* more (account, type) pairs in one transaction than the connection keeps */
    assert_int_equal(store_begin(c, true), STORE_OK);
    for (int k = 0; k < 12; k++) {
        char type[16];
        snprintf(type, sizeof type, "V%d", k);
        for (int i = 0; i <= k && i < 4; i++) /* V0: one object, V3 and on: four */
            assert_int_equal(store_object_put(c, "C1", type, ids[i], o, m, true, NULL), STORE_OK);
    }
    assert_int_equal(store_commit(c), STORE_OK);
    json_decref(o);
    assert_int_equal(store_object_count(c, "C1", "V0"), 1);
    assert_int_equal(store_object_count(c, "C1", "V11"), 4);
    assert_true(plan_has("SELECT count(*) FROM object_index INDEXED BY object_index_order "
                         "WHERE account_id='C1' AND type='T' AND ord IS NULL",
                         "ord=?"));
}

static void test_reopen_keeps_data(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_begin(c, true), STORE_OK);
    json_t *o = json_pack("{s:s, s:i}", "id", "p1", "n", 42);
    int64_t m = store_state_bump(c, "A1", "P");
    assert_int_equal(store_object_put(c, "A1", "P", "p1", o, m, true, NULL), STORE_OK);
    assert_int_equal(store_commit(c), STORE_OK);
    json_decref(o);
    store_close(st);
    char *err = NULL;
    st = store_open(dir, &err); /* migrations run again: a no-op on a current schema */
    assert_non_null(st);
    json_t *back = store_object_get(store_conn(st), "A1", "P", "p1");
    assert_non_null(back);
    assert_int_equal(json_integer_value(json_object_get(back, "n")), 42);
    json_decref(back);
}

/* Issue 21: a new database has pages of 8 KiB, so that an object of a few KB of JSON (an
 * event with a description and attendees) stays in its cell of the objects table (a
 * WITHOUT ROWID table's cell holds about a quarter of a page) instead of spilling onto an
 * overflow page of its own; and a database made with 4 KiB pages opens and works as
 * before, keeping them. */
static int page_size_of(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static int overflow_pages(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM dbstat WHERE name='objects' AND "
                                            "pagetype='overflow'",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static void put_large_objects(struct store *s, int n)
{
    struct store_conn *c = store_conn(s);
    assert_int_equal(store_begin(c, true), STORE_OK);
    char text[1801];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = 0;
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "big%d", i);
        json_t *o = json_pack("{s:s, s:s}", "id", id, "description", text);
        int64_t m = store_state_bump(c, "A8", "Big");
        assert_int_equal(store_object_put(c, "A8", "Big", id, o, m, true, NULL), STORE_OK);
        json_decref(o);
    }
    assert_int_equal(store_commit(c), STORE_OK);
}

static void test_new_database_keeps_a_2_kb_object_in_its_page(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/jmapd.db", dir);
    assert_int_equal(page_size_of(path), 8192);
    put_large_objects(st, 20);
    assert_int_equal(overflow_pages(path), 0);
    /* a database made with 4 KiB pages (by an older jmapd) keeps them and works */
    char old[64], oldpath[128];
    snprintf(old, sizeof old, "/tmp/jmapd-store4k-XXXXXX");
    assert_non_null(mkdtemp(old));
    snprintf(oldpath, sizeof oldpath, "%s/jmapd.db", old);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(oldpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; "
                                      "CREATE TABLE t(x)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    char *err = NULL;
    struct store *s4 = store_open(old, &err);
    assert_non_null(s4);
    put_large_objects(s4, 20);
    json_t *back = store_object_get(store_conn(s4), "A8", "Big", "big7");
    assert_non_null(back);
    assert_int_equal(strlen(json_string_value(json_object_get(back, "description"))), 1800);
    json_decref(back);
    assert_int_equal(page_size_of(oldpath), 4096);
    assert_true(overflow_pages(oldpath) >= 20); /* what 8 KiB pages avoid */
    ts_close(s4, old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_users_and_access),
        cmocka_unit_test(test_store_write_commits_or_changes_nothing),
        cmocka_unit_test(test_modseq_and_changes),
        cmocka_unit_test(test_blob_lifetimes),
        cmocka_unit_test(test_unique_key_is_a_constraint),
        cmocka_unit_test(test_structured_text_search),
        cmocka_unit_test(test_text_search_plan_is_driven_by_hits),
        cmocka_unit_test(test_index_spans_are_the_overlapping_rows),
        cmocka_unit_test(test_span_scan_plan_is_one_range_per_class),
        cmocka_unit_test(test_ordered_page_plans_read_an_index_in_order),
        cmocka_unit_test(test_free_busy_share_is_no_readable_account),
        cmocka_unit_test(test_members_in_index_order),
        cmocka_unit_test(test_counts_follow_writes),
        cmocka_unit_test(test_reopen_keeps_data),
        cmocka_unit_test(test_new_database_keeps_a_2_kb_object_in_its_page),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
