/* test_store_ids.c — the store's answers to "which objects have rows" inside one
 * transaction (issue 15 §1): on PostgreSQL, a write or read transaction that asks about
 * a second object of one (user, account, type) loads the ids with per-user properties
 * (user_props) or alerts (alert_queue) once, and answers later lookups from that list
 * and from the rows it wrote since (postgres_cache.c, struct pg_ids). Each answer must
 * be the database's own: the transaction's own writes seen, another scope not mixed
 * in, a rollback leaving nothing, a read transaction's snapshot kept. And the
 * thresholds at which a front end has PostgreSQL gather statistics of a growing
 * account (postgres_stats.c).
 *
 * Runs against the PostgreSQL database JMAPD_TEST_PG_URL names (a schema of its own:
 * tests/protocol/test_pg_store_ids.py starts one and runs this binary), else against
 * SQLite in a temporary directory, which must give the same answers. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "store/postgres_internal.h"
#include "store/store.h"
#include "test_store_util.h"

static char dir[64];
static struct store *st;

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
    } else
        st = ts_open(dir, "ids");
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

/* The per-user properties' "x" of object id for user, or -1 when it has none. */
static int prop(struct store_conn *c, int64_t user, const char *id)
{
    json_t *v = store_user_props_get(c, user, "A", "Ev", id);
    int x = v ? (int)json_integer_value(json_object_get(v, "x")) : -1;
    json_decref(v);
    return x;
}

static void put_prop(struct store_conn *c, int64_t user, const char *id, int x)
{
    json_t *v = x < 0 ? NULL : json_pack("{s:i}", "x", x);
    assert_int_equal(store_user_props_put(c, user, "A", "Ev", id, v), STORE_OK);
    json_decref(v);
}

static void test_user_props_in_a_write_transaction(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_begin(c, true), STORE_OK);
    put_prop(c, 7, "a1", 1);
    put_prop(c, 7, "a2", 2);
    put_prop(c, 9, "a9", 9);
    assert_int_equal(store_commit(c), STORE_OK);

    assert_int_equal(store_begin(c, true), STORE_OK);
    assert_int_equal(prop(c, 7, "a1"), 1);  /* the first lookup asks */
    assert_int_equal(prop(c, 7, "a2"), 2);  /* the second loads the ids */
    assert_int_equal(prop(c, 7, "a3"), -1); /* none: from the list */
    put_prop(c, 7, "a3", 3);                /* the transaction's own row */
    assert_int_equal(prop(c, 7, "a3"), 3);
    put_prop(c, 7, "a1", -1); /* removed */
    assert_int_equal(prop(c, 7, "a1"), -1);
    assert_int_equal(prop(c, 7, "a9"), -1); /* another user's object */
    assert_int_equal(prop(c, 9, "a9"), 9);  /* another scope: its own answers */
    assert_int_equal(prop(c, 9, "a2"), -1);
    assert_int_equal(prop(c, 9, "a3"), -1);
    assert_int_equal(prop(c, 7, "a3"), 3); /* back: loaded again, own rows included */
    assert_int_equal(prop(c, 7, "a2"), 2);
    assert_int_equal(prop(c, 7, "a1"), -1);
    store_rollback(c);

    /* the rollback left the committed rows only */
    assert_int_equal(store_begin(c, false), STORE_OK);
    assert_int_equal(prop(c, 7, "a1"), 1);
    assert_int_equal(prop(c, 7, "a2"), 2);
    assert_int_equal(prop(c, 7, "a3"), -1);
    store_rollback(c);
}

static void *add_a4(void *arg)
{
    (void)arg;
    struct store_conn *other = store_conn(st); /* this thread's own connection */
    if (store_begin(other, true) != STORE_OK)
        return (void *)1;
    json_t *v = json_pack("{s:i}", "x", 4);
    int rc = store_user_props_put(other, 7, "A", "Ev", "a4", v);
    json_decref(v);
    rc = rc ? rc : store_commit(other);
    if (rc)
        store_rollback(other);
    return rc ? (void *)1 : NULL;
}

static void test_user_props_keep_a_read_transactions_snapshot(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_begin(c, false), STORE_OK);
    assert_int_equal(prop(c, 7, "a1"), 1);
    assert_int_equal(prop(c, 7, "a2"), 2); /* the ids loaded */
    pthread_t t;
    void *rc = (void *)1;
    assert_int_equal(pthread_create(&t, NULL, add_a4, NULL), 0);
    assert_int_equal(pthread_join(t, &rc), 0);
    assert_null(rc);
    assert_int_equal(prop(c, 7, "a4"), -1); /* committed after the snapshot */
    store_rollback(c);
    assert_int_equal(store_begin(c, false), STORE_OK);
    assert_int_equal(prop(c, 7, "a2"), 2);
    assert_int_equal(prop(c, 7, "a4"), 4); /* the next transaction sees it */
    store_rollback(c);
}

static int add_user(int64_t user, void *ud)
{
    int64_t *sum = ud;
    *sum = *sum * 10 + user;
    return 0;
}

/* The users with alert rows for object, as digits in order (0: none). */
static int64_t alert_users(struct store_conn *c, const char *type, const char *object)
{
    int64_t sum = 0;
    assert_int_equal(store_alert_users(c, "A", type, object, add_user, &sum), STORE_OK);
    return sum;
}

static void put_alert(struct store_conn *c, const char *type, const char *object, int64_t user)
{
    struct store_alert a = {.user_id = user, .next_check = 100, .fired_until = 50};
    snprintf(a.account, sizeof a.account, "A");
    snprintf(a.type, sizeof a.type, "%s", type);
    snprintf(a.object_id, sizeof a.object_id, "%s", object);
    assert_int_equal(store_alert_put(c, &a), STORE_OK);
}

static void test_alert_rows_in_a_write_transaction(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_begin(c, true), STORE_OK);
    put_alert(c, "Ev", "o1", 1);
    put_alert(c, "Ev", "o1", 2);
    put_alert(c, "Ev", "o2", 1);
    put_alert(c, "Task", "o3", 3);
    assert_int_equal(store_commit(c), STORE_OK);

    assert_int_equal(store_begin(c, true), STORE_OK);
    assert_int_equal(alert_users(c, "Ev", "o1"), 12);
    assert_int_equal(alert_users(c, "Ev", "o2"), 1); /* the ids loaded */
    assert_int_equal(alert_users(c, "Ev", "o3"), 0); /* another type's object */
    put_alert(c, "Ev", "o3", 5);
    assert_int_equal(alert_users(c, "Ev", "o3"), 5);
    assert_int_equal(store_alert_del(c, "A", "Ev", "o1"), STORE_OK);
    assert_int_equal(alert_users(c, "Ev", "o1"), 0);
    assert_int_equal(alert_users(c, "Task", "o3"), 3);
    assert_int_equal(alert_users(c, "Task", "o1"), 0);
    assert_int_equal(alert_users(c, "Ev", "o2"), 1);
    assert_int_equal(store_commit(c), STORE_OK);
    assert_int_equal(alert_users(c, "Ev", "o3"), 5); /* outside a transaction: asks */
    assert_int_equal(alert_users(c, "Ev", "o1"), 0);
}

/* postgres_stats.c: an ANALYZE is due each time an account's creates in this process
 * reach 512, 1,024, 2,048, ...; accounts count apart. Plain arithmetic: no database. */
static void test_statistics_thresholds_double(void **state)
{
    assert_false(pg_stats_grew("grow-a", 511));
    assert_true(pg_stats_grew("grow-a", 1)); /* 512 */
    assert_false(pg_stats_grew("grow-b", 100));
    assert_false(pg_stats_grew("grow-a", 511));
    assert_true(pg_stats_grew("grow-a", 1));     /* 1,024 */
    assert_true(pg_stats_grew("grow-b", 5000));  /* 5,100: past 512 ... 4,096, due once */
    assert_false(pg_stats_grew("grow-b", 3091)); /* 8,191 */
    assert_true(pg_stats_grew("grow-b", 1));     /* 8,192 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_props_in_a_write_transaction),
        cmocka_unit_test(test_user_props_keep_a_read_transactions_snapshot),
        cmocka_unit_test(test_alert_rows_in_a_write_transaction),
        cmocka_unit_test(test_statistics_thresholds_double),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
