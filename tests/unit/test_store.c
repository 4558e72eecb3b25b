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

#include "store/store.h"

static char dir[64];
static struct store *st;

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/jmapd-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char *err = NULL;
    st = store_open(dir, &err);
    assert_non_null(st);
    return 0;
}

static int teardown(void **state)
{
    store_close(st);
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
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
    assert_int_equal(store_object_put(c, "A1", "T", "x1", o, m1, true), STORE_OK);
    assert_int_equal(store_object_put(c, "A1", "T", "x1", o, m1, true), STORE_EXISTS);
    int64_t m2 = store_state_bump(c, "A1", "T");
    assert_int_equal(store_object_put(c, "A1", "T", "x1", o, m2, false), STORE_OK);
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

static void test_reopen_keeps_data(void **state)
{
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_begin(c, true), STORE_OK);
    json_t *o = json_pack("{s:s, s:i}", "id", "p1", "n", 42);
    int64_t m = store_state_bump(c, "A1", "P");
    assert_int_equal(store_object_put(c, "A1", "P", "p1", o, m, true), STORE_OK);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_users_and_access),
        cmocka_unit_test(test_modseq_and_changes),
        cmocka_unit_test(test_blob_lifetimes),
        cmocka_unit_test(test_reopen_keeps_data),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
