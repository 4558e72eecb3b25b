/* test_store_prefetch.c — reads a transaction announces before it waits for another
 * (issue 15 §1, store.h store_changes_prefetch and store_state_prefetch): /changes
 * announces its change scan before it reads the state it checks sinceState against
 * (RFC 8620 §5.2), an expanded /query its state read before the index scan. On
 * PostgreSQL the announced read travels with the next statement that waits, so the two
 * cost one round trip (counted here: the connection's waits); on SQLite nothing
 * changes. Either way every answer must be the one the plain read gives: the same
 * rows, the same state, nothing carried into the next transaction, another read's
 * arguments not answered from it.
 *
 * Runs against the PostgreSQL database JMAPD_TEST_PG_URL names (a schema of its own:
 * tests/protocol/test_pg_store_prefetch.py starts one and runs this binary), else
 * against SQLite in a temporary directory, which must give the same answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "store/postgres_internal.h"
#include "store/store.h"
#include "test_store_util.h"

static char dir[64];
static struct store *st;
static bool pg;

static int setup(void **state)
{
    const char *url = getenv("JMAPD_TEST_PG_URL");
    if (url && *url) {
        char *err = NULL;
        st = store_open_url(url, NULL, &err);
        if (!st)
            fprintf(stderr, "%s\n", err ? err : "cannot open the store");
        assert_non_null(st);
        dir[0] = 0;
        pg = true;
    } else
        st = ts_open(dir, "prefetch");
    /* o1..o5 created at modseqs 1..5, o2 destroyed at 6 */
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_begin(c, true), STORE_OK);
    for (int i = 1; i <= 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "o%d", i);
        json_t *o = json_pack("{s:i}", "n", i);
        int64_t m = store_state_bump(c, "A", "Ev");
        assert_int_equal(m, i);
        assert_int_equal(store_object_put(c, "A", "Ev", id, o, m, true, NULL), STORE_OK);
        json_decref(o);
    }
    assert_int_equal(store_object_destroy(c, "A", "Ev", "o2", store_state_bump(c, "A", "Ev")),
                     STORE_OK);
    assert_int_equal(store_commit(c), STORE_OK);
    return 0;
}

static int teardown(void **state)
{
    if (dir[0])
        ts_close(st, dir);
    else
        store_close(st);
    return 0;
}

/* The round trips c waited for so far (0 on SQLite, which has none). */
static unsigned long waits(struct store_conn *c)
{
    return pg ? c->waits : 0;
}

static int add_change(const char *id, int64_t created, int64_t updated, bool destroyed, void *ud)
{
    char line[64];
    snprintf(line, sizeof line, "%s %lld %lld %d;", id, (long long)created, (long long)updated,
             destroyed);
    strncat(ud, line, 511 - strlen(ud));
    return 0;
}

/* The changes since, at most max, as text. */
static void changes(struct store_conn *c, int64_t since, size_t max, char out[512])
{
    out[0] = 0;
    assert_int_equal(store_changes(c, "A", "Ev", since, max, add_change, out), STORE_OK);
}

/* RFC 8620 §5.2: the scan sent ahead answers as the scan does, and with the state
 * read costs one round trip. */
static void test_changes_sent_ahead_answer_as_the_scan_rfc8620_5_2(void **state)
{
    struct store_conn *c = store_conn(st);
    char plain[512], ahead[512];
    assert_int_equal(store_begin(c, false), STORE_OK);
    assert_int_equal(store_state_get(c, "A", "Ev"), 6);
    changes(c, 2, 3, plain);
    store_rollback(c);
    assert_string_equal(plain, "o3 3 3 0;o4 4 4 0;o5 5 5 0;");

    assert_int_equal(store_begin(c, false), STORE_OK);
    unsigned long w = waits(c);
    assert_int_equal(store_changes_prefetch(c, "A", "Ev", 2, 3), STORE_OK);
    assert_int_equal(store_state_get(c, "A", "Ev"), 6);
    assert_int_equal(store_state_lowest(c, "A", "Ev"), 0);
    changes(c, 2, 3, ahead);
    if (pg)
        assert_int_equal(waits(c) - w, 1); /* BEGIN, the scan and the state: one */
    store_rollback(c);
    assert_string_equal(ahead, plain);

    /* every change, the destroyed one too, without a limit */
    assert_int_equal(store_begin(c, false), STORE_OK);
    assert_int_equal(store_changes_prefetch(c, "A", "Ev", 0, 0), STORE_OK);
    assert_int_equal(store_state_get(c, "A", "Ev"), 6);
    changes(c, 0, 0, ahead);
    store_rollback(c);
    assert_string_equal(ahead, "o1 1 1 0;o3 3 3 0;o4 4 4 0;o5 5 5 0;o2 2 6 1;");
}

/* A scan asked with other arguments than were sent ahead is its own; one sent ahead
 * and never asked for is not carried into the next transaction. */
static void test_changes_sent_ahead_for_other_arguments_rfc8620_5_2(void **state)
{
    struct store_conn *c = store_conn(st);
    char got[512];
    assert_int_equal(store_begin(c, false), STORE_OK);
    assert_int_equal(store_changes_prefetch(c, "A", "Ev", 1, 2), STORE_OK);
    assert_int_equal(store_state_get(c, "A", "Ev"), 6);
    changes(c, 4, 2, got); /* another since */
    assert_string_equal(got, "o5 5 5 0;o2 2 6 1;");
    changes(c, 1, 1, got); /* another max */
    assert_string_equal(got, "o3 3 3 0;");
    changes(c, 1, 2, got); /* the one sent ahead, once */
    assert_string_equal(got, "o3 3 3 0;o4 4 4 0;");
    changes(c, 1, 2, got); /* again: the scan itself */
    assert_string_equal(got, "o3 3 3 0;o4 4 4 0;");
    assert_int_equal(store_changes_prefetch(c, "A", "Ev", 5, 0), STORE_OK);
    store_rollback(c); /* sent ahead, never asked for */

    assert_int_equal(store_begin(c, true), STORE_OK);
    json_t *o = json_pack("{s:i}", "n", 7);
    int64_t m = store_state_bump(c, "A", "Ev");
    assert_int_equal(m, 7);
    assert_int_equal(store_object_put(c, "A", "Ev", "o7", o, m, true, NULL), STORE_OK);
    json_decref(o);
    assert_int_equal(store_commit(c), STORE_OK);

    assert_int_equal(store_begin(c, false), STORE_OK);
    changes(c, 5, 0, got); /* not the last transaction's rows */
    assert_string_equal(got, "o2 2 6 1;o7 7 7 0;");
    store_rollback(c);

    /* in a write transaction nothing is sent ahead, and the answer is the same */
    assert_int_equal(store_begin(c, true), STORE_OK);
    assert_int_equal(store_changes_prefetch(c, "A", "Ev", 5, 0), STORE_OK);
    changes(c, 5, 0, got);
    assert_string_equal(got, "o2 2 6 1;o7 7 7 0;");
    store_rollback(c);
}

/* The state read sent ahead of another read: the same state, lowest state and
 * viewer's state as read alone, the two reads one round trip. */
static void test_state_sent_ahead_of_a_read(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_begin(c, false), STORE_OK);
    int64_t s = store_state_get(c, "A", "Ev"), lowest = store_state_lowest(c, "A", "Ev");
    int64_t viewer = store_state_viewer(c, "A", "Ev", 7);
    json_t *o = store_object_get(c, "A", "Ev", "o3"); /* prepared, for the count below */
    assert_non_null(o);
    json_decref(o);
    store_rollback(c);
    assert_true(s >= 6);

    assert_int_equal(store_begin(c, false), STORE_OK);
    unsigned long w = waits(c);
    assert_int_equal(store_state_prefetch(c, "A", "Ev", 7), STORE_OK);
    o = store_object_get(c, "A", "Ev", "o3"); /* the read that waits */
    assert_non_null(o);
    json_decref(o);
    assert_int_equal(store_state_viewer(c, "A", "Ev", 7), viewer);
    assert_int_equal(store_state_get(c, "A", "Ev"), s);
    assert_int_equal(store_state_lowest(c, "A", "Ev"), lowest);
    if (pg)
        assert_int_equal(waits(c) - w, 1);
    store_rollback(c);

    /* asked before any other read: the read sent ahead answers, one round trip */
    assert_int_equal(store_begin(c, false), STORE_OK);
    w = waits(c);
    assert_int_equal(store_state_prefetch(c, "A", "Ev", 7), STORE_OK);
    assert_int_equal(store_state_get(c, "A", "Ev"), s);
    assert_int_equal(store_state_viewer(c, "A", "Ev", 7), viewer);
    if (pg)
        assert_int_equal(waits(c) - w, 1);
    store_rollback(c);

    /* for another viewer than was sent ahead: its own read, the same answer */
    assert_int_equal(store_begin(c, false), STORE_OK);
    assert_int_equal(store_state_prefetch(c, "A", "Ev", 8), STORE_OK);
    assert_int_equal(store_state_viewer(c, "A", "Ev", 7), viewer);
    assert_int_equal(store_state_get(c, "A", "Ev"), s);
    store_rollback(c);

    /* a type never written: state 0 */
    assert_int_equal(store_begin(c, false), STORE_OK);
    assert_int_equal(store_state_prefetch(c, "A", "None", -1), STORE_OK);
    assert_int_equal(store_state_get(c, "A", "None"), 0);
    store_rollback(c);
}

static int count_user(int64_t user, void *ud)
{
    (void)user;
    ++*(int *)ud;
    return 0;
}

/* An object the transaction created has no per-user properties or alerts but those it
 * writes: asked for them, PostgreSQL answers without a round trip (pgc_born). */
static void test_created_objects_have_no_props_or_alerts_yet(void **state)
{
    struct store_conn *c = store_conn(st);
    struct store_alert al = {.user_id = 9, .next_check = 100, .fired_until = 50};
    snprintf(al.account, sizeof al.account, "A");
    snprintf(al.type, sizeof al.type, "Ev");
    snprintf(al.object_id, sizeof al.object_id, "o1");
    json_t *v = json_pack("{s:i}", "x", 1);
    /* the statements prepared on this connection (a round trip each, once) */
    assert_int_equal(store_begin(c, true), STORE_OK);
    assert_int_equal(store_user_props_put(c, 7, "A", "Ev", "o1", v), STORE_OK);
    assert_int_equal(store_alert_put(c, &al), STORE_OK);
    store_rollback(c);

    assert_int_equal(store_begin(c, true), STORE_OK);
    int64_t m = store_state_bump(c, "A", "Ev");
    unsigned long w = waits(c);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "n%d", i);
        json_t *o = json_pack("{s:i}", "n", i);
        assert_int_equal(store_object_put(c, "A", "Ev", id, o, m, true, NULL), STORE_OK);
        json_decref(o);
        assert_null(store_user_props_get(c, 7, "A", "Ev", id));
        assert_null(store_user_props_get(c, 0, "A", "Ev#exposure", id));
        int users = 0;
        assert_int_equal(store_alert_users(c, "A", "Ev", id, count_user, &users), STORE_OK);
        assert_int_equal(users, 0);
    }
    if (pg)
        assert_int_equal(waits(c) - w, 0); /* nothing asked of the database */
    assert_int_equal(store_user_props_put(c, 7, "A", "Ev", "n1", v), STORE_OK);
    json_decref(v);
    snprintf(al.object_id, sizeof al.object_id, "n2");
    assert_int_equal(store_alert_put(c, &al), STORE_OK);
    v = store_user_props_get(c, 7, "A", "Ev", "n1"); /* written since: found */
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "x")), 1);
    json_decref(v);
    assert_null(store_user_props_get(c, 8, "A", "Ev", "n1"));       /* another user's: none */
    assert_null(store_user_props_get(c, 7, "A", "Ev#other", "n1")); /* another kind's */
    if (pg)
        assert_int_equal(waits(c) - w, 0); /* the writes queued, the reads answered here */
    int users = 0;
    assert_int_equal(store_alert_users(c, "A", "Ev", "n2", count_user, &users), STORE_OK);
    assert_int_equal(users, 1);
    assert_int_equal(store_commit(c), STORE_OK);

    /* the next transaction asks the database */
    assert_int_equal(store_begin(c, false), STORE_OK);
    v = store_user_props_get(c, 7, "A", "Ev", "n1");
    assert_non_null(v);
    json_decref(v);
    assert_null(store_user_props_get(c, 7, "A", "Ev", "n0"));
    users = 0;
    assert_int_equal(store_alert_users(c, "A", "Ev", "n2", count_user, &users), STORE_OK);
    assert_int_equal(users, 1);
    store_rollback(c);
}

static int n_of(json_t *o)
{
    int n = o ? (int)json_integer_value(json_object_get(o, "n")) : -1;
    json_decref(o);
    return n;
}

/* RFC 8620 §5.3, issue 15 §1: a /set's updates read their objects and their per-user
 * properties at once (store_object_prefetch, store_user_props_prefetch: on PostgreSQL one
 * round trip for both), and an update of an object so read whose unique key stays is
 * queued, not waited for. Every read answers what the transaction wrote since; the
 * next transaction finds it stored. */
static void test_updates_of_objects_read_at_once_rfc8620_5_3(void **state)
{
    struct store_conn *c = store_conn(st);
    const char *ids[] = {"o3", "o4", "o5"};
    json_t *v = json_pack("{s:i}", "x", 1);
    /* the statements prepared on this connection; o4 gets a record, o5 a unique key */
    assert_int_equal(store_begin(c, true), STORE_OK);
    assert_int_equal(store_user_props_put(c, 0, "A", "Ev#x", "o4", v), STORE_OK);
    json_decref(v);
    json_t *o = json_pack("{s:i}", "n", 50);
    assert_int_equal(
        store_object_put(c, "A", "Ev", "o5", o, store_state_bump(c, "A", "Ev"), false, "k5"),
        STORE_OK);
    json_decref(o);
    assert_int_equal(store_commit(c), STORE_OK);
    assert_int_equal(store_begin(c, true), STORE_OK);
    assert_int_equal(store_user_props_prefetch(c, 0, "A", "Ev#x", ids, 3), STORE_OK);
    assert_int_equal(store_object_prefetch(c, "A", "Ev", ids, 3), STORE_OK);
    assert_int_equal(n_of(store_object_get(c, "A", "Ev", "o3")), 3);
    o = json_pack("{s:i}", "n", 30);
    assert_int_equal(
        store_object_put(c, "A", "Ev", "o3", o, store_state_bump(c, "A", "Ev"), false, NULL),
        STORE_OK);
    json_decref(o);
    store_rollback(c);

    assert_int_equal(store_begin(c, true), STORE_OK);
    int64_t m = store_state_bump(c, "A", "Ev");
    unsigned long w = waits(c);
    assert_int_equal(store_user_props_prefetch(c, 0, "A", "Ev#x", ids, 3), STORE_OK);
    assert_int_equal(store_object_prefetch(c, "A", "Ev", ids, 3), STORE_OK);
    assert_int_equal(n_of(store_object_get(c, "A", "Ev", "o4")), 4);
    assert_null(store_user_props_get(c, 0, "A", "Ev#x", "o3"));
    v = store_user_props_get(c, 0, "A", "Ev#x", "o4");
    assert_int_equal(json_integer_value(json_object_get(v, "x")), 1);
    json_decref(v);
    o = json_pack("{s:i}", "n", 33);
    assert_int_equal(store_object_put(c, "A", "Ev", "o3", o, m, false, NULL), STORE_OK);
    json_decref(o);
    o = json_pack("{s:i}", "n", 55);
    assert_int_equal(store_object_put(c, "A", "Ev", "o5", o, m, false, "k5"), STORE_OK);
    json_decref(o);
    assert_int_equal(n_of(store_object_get(c, "A", "Ev", "o3")), 33); /* as written */
    assert_int_equal(n_of(store_object_get(c, "A", "Ev", "o4")), 4);  /* as read */
    assert_int_equal(n_of(store_object_get(c, "A", "Ev", "o5")), 55);
    if (pg)
        assert_int_equal(waits(c) - w, 1); /* both reads at once; the updates queued */
    v = json_pack("{s:i}", "x", 2);
    assert_int_equal(store_user_props_put(c, 0, "A", "Ev#x", "o4", v), STORE_OK);
    json_decref(v);
    v = store_user_props_get(c, 0, "A", "Ev#x", "o4"); /* written since: the new value */
    assert_int_equal(json_integer_value(json_object_get(v, "x")), 2);
    json_decref(v);
    assert_int_equal(store_object_destroy(c, "A", "Ev", "o4", m), STORE_OK);
    assert_null(store_object_get(c, "A", "Ev", "o4")); /* destroyed since */
    assert_int_equal(store_commit(c), STORE_OK);

    assert_int_equal(store_begin(c, false), STORE_OK);
    assert_int_equal(n_of(store_object_get(c, "A", "Ev", "o3")), 33);
    assert_null(store_object_get(c, "A", "Ev", "o4"));
    assert_int_equal(n_of(store_object_get(c, "A", "Ev", "o5")), 55);
    v = store_user_props_get(c, 0, "A", "Ev#x", "o4");
    assert_int_equal(json_integer_value(json_object_get(v, "x")), 2);
    json_decref(v);
    store_rollback(c);

    /* a key another object holds: the update is refused, as without the reads ahead */
    assert_int_equal(store_begin(c, true), STORE_OK);
    m = store_state_bump(c, "A", "Ev");
    assert_int_equal(store_object_prefetch(c, "A", "Ev", ids, 3), STORE_OK);
    o = json_pack("{s:i}", "n", 34);
    assert_int_equal(store_object_put(c, "A", "Ev", "o3", o, m, false, "k5"), STORE_EXISTS);
    json_decref(o);
    assert_int_equal(n_of(store_object_get(c, "A", "Ev", "o3")), 33);
    store_rollback(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_changes_sent_ahead_answer_as_the_scan_rfc8620_5_2),
        cmocka_unit_test(test_changes_sent_ahead_for_other_arguments_rfc8620_5_2),
        cmocka_unit_test(test_state_sent_ahead_of_a_read),
        cmocka_unit_test(test_created_objects_have_no_props_or_alerts_yet),
        cmocka_unit_test(test_updates_of_objects_read_at_once_rfc8620_5_3),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
