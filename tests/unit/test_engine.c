/* test_engine.c — the standard-method engine driven by a test type with every
 * method (RFC 8620 §5.5 /query, §5.6 /queryChanges, §5.4 /copy), plus state
 * encoding and request limits, through jmap_api_handle() on a real store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "jmap/collation.h"
#include "jmap/jmap.h"
#include "push/hub.h"
#include "types/types.h"

/* ---- a test type: Note {id, title, rank} ----------------------------------------- */

static const struct jprop note_props[] = {
    {"id", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"title", JP_REQUIRED, NULL},
    {"rank", 0, "0"},
    {NULL, 0, NULL},
};

static int note_filter(struct jmap_req *r, json_t *obj, const char *key, json_t *value)
{
    if (strcmp(key, "title") == 0) {
        if (!json_is_string(value))
            return -2;
        return obj ? collation_contains(json_string_value(json_object_get(obj, "title")),
                                        json_string_value(value))
                   : 1;
    }
    if (strcmp(key, "minRank") == 0) {
        if (!json_is_integer(value))
            return -2;
        return obj ? json_integer_value(json_object_get(obj, "rank")) >= json_integer_value(value)
                   : 1;
    }
    return -1;
}

static int note_compare(json_t *a, json_t *b, const char *prop, bool *ok)
{
    *ok = strcmp(prop, "title") == 0 || strcmp(prop, "rank") == 0;
    if (!*ok || !json_object_get(a, "id"))
        return 0;
    if (strcmp(prop, "rank") == 0) {
        json_int_t x = json_integer_value(json_object_get(a, "rank")),
                   y = json_integer_value(json_object_get(b, "rank"));
        return x < y ? -1 : x > y;
    }
    return collation_compare("i;unicode-casemap", json_string_value(json_object_get(a, "title")),
                             json_string_value(json_object_get(b, "title")));
}

static json_t *note_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    if (!json_is_string(json_object_get(obj, "title")))
        json_array_append_new(invalid, json_string("title"));
    if (!json_is_integer(json_object_get(obj, "rank")))
        json_array_append_new(invalid, json_string("rank"));
    return NULL;
}

static const struct jtype note_type = {
    .name = "Note",
    .capability = JMAP_CALENDARS,
    .props = note_props,
    .methods = JM_GET | JM_SET | JM_CHANGES | JM_QUERY | JM_QUERYCHANGES | JM_COPY,
    .id_prefix = 'n',
    .validate = note_validate,
    .filter = note_filter,
    .compare = note_compare,
};

/* A type with a precheck (issue 19 §4): it must run before the write lock, and
 * validate under it; each hook records whether a write transaction was open. */
static int precheck_in_write = -1, validate_in_write = -1;
static json_t *checked_precheck(struct jset *s, json_t *obj, json_t *invalid)
{
    precheck_in_write = store_in_write(jset_conn(s));
    if (!json_is_string(json_object_get(obj, "title")))
        jset_invalid(s, invalid, "title", "must be a String");
    return NULL;
}
static json_t *checked_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    validate_in_write = store_in_write(jset_conn(s));
    assert_true(old || jset_prechecked(s));
    return NULL;
}
static const struct jtype checked_type = {
    .name = "CheckedNote",
    .capability = JMAP_CALENDARS,
    .props = note_props,
    .methods = JM_GET | JM_SET,
    .id_prefix = 'k',
    .precheck = checked_precheck,
    .validate = checked_validate,
};

/* A capability only personal accounts have, for accountNotSupportedByMethod. */
static bool personal_only(const struct store_access *a)
{
    return a->is_personal;
}
static const struct jcapability own_capability = {.uri = "urn:example:own",
                                                  .account_supports = personal_only};
static const struct jtype own_type = {
    .name = "OwnNote",
    .capability = "urn:example:own",
    .props = note_props,
    .methods = JM_GET | JM_SET,
    .id_prefix = 'o',
};

/* ---- fixture ---------------------------------------------------------------------- */

static char dir[64];
static struct config cfg;
static struct jmap_server srv;
static struct jmap_user user;

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/jmapd-engine-XXXXXX");
    assert_non_null(mkdtemp(dir));
    config_defaults(&cfg);
    char *err = NULL;
    srv.store = store_open(dir, &err);
    assert_non_null(srv.store);
    srv.hub = push_hub_new();
    srv.cfg = &cfg;
    jmap_init(types_registry);
    jmap_register_type(&note_type);
    jmap_register_capability(&own_capability);
    jmap_register_type(&own_type);
    jmap_register_type(&checked_type);
    struct store_conn *c = store_conn(srv.store);
    assert_int_equal(store_user_add(c, "u", "x", "A1"), 0);
    assert_int_equal(store_user_add(c, "v", "x", "A2"), 0);
    struct store_user v = {0};
    assert_int_equal(store_user_get(c, "u", &v), 0);
    assert_int_equal(store_access_grant(c, v.id, "A2", true), 0);
    assert_int_equal(jmap_user_load(c, v.id, &user), 0);
    store_user_clear(&v);
    assert_int_equal(user.naccounts, 2);
    return 0;
}

static int teardown(void **state)
{
    push_hub_free(srv.hub);
    store_close(srv.store);
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* Runs method calls (a JSON array text) and returns methodResponses. */
static json_t *run(const char *calls_fmt, ...)
{
    char *calls = NULL;
    va_list ap;
    va_start(ap, calls_fmt);
    assert_true(vasprintf(&calls, calls_fmt, ap) > 0);
    va_end(ap);
    char *body = NULL;
    assert_true(asprintf(&body,
                         "{\"using\":[\"urn:ietf:params:jmap:core\","
                         "\"urn:ietf:params:jmap:calendars\"],\"methodCalls\":%s}",
                         calls) > 0);
    struct jmap_result out;
    jmap_api_handle(&srv, &user, body, strlen(body), &out);
    json_error_t e;
    json_t *resp = json_loads(out.body, 0, &e);
    free(out.body);
    free(calls);
    free(body);
    assert_non_null(resp);
    if (out.status != 200)
        return resp; /* the problem document */
    json_t *mr = json_incref(json_object_get(resp, "methodResponses"));
    json_decref(resp);
    return mr;
}

static json_t *args_of(json_t *responses, size_t i)
{
    return json_array_get(json_array_get(responses, i), 1);
}

static const char *name_of(json_t *responses, size_t i)
{
    return json_string_value(json_array_get(json_array_get(responses, i), 0));
}

/* Creates notes (title, rank) in A1; returns their ids in creation order. */
static json_t *make_notes(void)
{
    json_t *r = run("[[\"Note/set\",{\"accountId\":\"A1\",\"create\":{"
                    "\"a\":{\"title\":\"apple\",\"rank\":3},"
                    "\"b\":{\"title\":\"Banana\",\"rank\":1},"
                    "\"c\":{\"title\":\"cherry\",\"rank\":2},"
                    "\"d\":{\"title\":\"Äpfel\",\"rank\":5},"
                    "\"e\":{\"title\":\"date\",\"rank\":4}}},\"0\"]]");
    json_t *created = json_object_get(args_of(r, 0), "created");
    json_t *ids = json_array();
    const char *keys[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++)
        json_array_append(ids, json_object_get(json_object_get(created, keys[i]), "id"));
    json_decref(r);
    return ids;
}

static void destroy_all(void)
{
    json_t *r = run("[[\"Note/query\",{\"accountId\":\"A1\"},\"q\"],"
                    "[\"Note/set\",{\"accountId\":\"A1\",\"#destroy\":{\"resultOf\":\"q\","
                    "\"name\":\"Note/query\",\"path\":\"/ids\"}},\"s\"],"
                    "[\"Note/query\",{\"accountId\":\"A2\"},\"q2\"],"
                    "[\"Note/set\",{\"accountId\":\"A2\",\"#destroy\":{\"resultOf\":\"q2\","
                    "\"name\":\"Note/query\",\"path\":\"/ids\"}},\"s2\"]]");
    assert_string_equal(name_of(r, 1), "Note/set");
    json_decref(r);
}

static const char *id_at(json_t *ids, size_t i)
{
    return json_string_value(json_array_get(ids, i));
}

/* ---- /query ------------------------------------------------------------------------ */

static void assert_ids(json_t *got, json_t *all, const char *order)
{
    /* order: letters a..e naming the expected notes */
    size_t n = strlen(order);
    if (json_array_size(got) != n)
        fail_msg("got %zu ids, want %zu (%s)", json_array_size(got), n, order);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(json_string_value(json_array_get(got, i)),
                            id_at(all, (size_t)(order[i] - 'a')));
}

static void test_query_sort_filter_window(void **state)
{
    json_t *ids = make_notes();
    json_t *r = run("[[\"Note/query\",{\"accountId\":\"A1\",\"sort\":[{\"property\":\"rank\","
                    "\"isAscending\":false}],\"calculateTotal\":true},\"0\"]]");
    json_t *a = args_of(r, 0);
    assert_ids(json_object_get(a, "ids"), ids, "deacb");
    assert_int_equal(json_integer_value(json_object_get(a, "total")), 5);
    assert_int_equal(json_integer_value(json_object_get(a, "position")), 0);
    assert_true(json_is_true(json_object_get(a, "canCalculateChanges")));
    assert_true(json_is_string(json_object_get(a, "queryState")));
    json_decref(r);

    /* i;unicode-casemap (RFC 5051): fold case, NFKD ("Äpfel" -> "a\u0308pfel", after
     * "apple"); i;octet: plain bytes ("Banana" first, "Äpfel" last) */
    r = run("[[\"Note/query\",{\"accountId\":\"A1\",\"sort\":[{\"property\":\"title\","
            "\"collation\":\"i;unicode-casemap\"}]},\"0\"],"
            "[\"Note/query\",{\"accountId\":\"A1\",\"sort\":[{\"property\":\"title\","
            "\"collation\":\"i;octet\"}]},\"1\"]]");
    assert_ids(json_object_get(args_of(r, 0), "ids"), ids, "adbce");
    assert_ids(json_object_get(args_of(r, 1), "ids"), ids, "baced");
    json_decref(r);

    /* AND / OR / NOT */
    r = run("[[\"Note/query\",{\"accountId\":\"A1\",\"filter\":{\"operator\":\"AND\","
            "\"conditions\":[{\"minRank\":2},{\"operator\":\"NOT\",\"conditions\":[{\"title\":"
            "\"CHERRY\"}]}]},\"sort\":[{\"property\":\"rank\"}]},\"0\"],"
            "[\"Note/query\",{\"accountId\":\"A1\",\"filter\":{\"operator\":\"OR\","
            "\"conditions\":[{\"title\":\"an\"},{\"title\":\"te\"}]},\"sort\":[{\"property\":"
            "\"rank\"}]},\"1\"],"
            "[\"Note/query\",{\"accountId\":\"A1\",\"filter\":{\"title\":\"a\",\"minRank\":4},"
            "\"sort\":[{\"property\":\"rank\"}]},\"2\"]]");
    assert_ids(json_object_get(args_of(r, 0), "ids"), ids, "aed");
    assert_ids(json_object_get(args_of(r, 1), "ids"), ids, "be");
    /* "Äpfel" folds to "a\u0308pfel", which contains "a" */
    assert_ids(json_object_get(args_of(r, 2), "ids"), ids, "ed");
    json_decref(r);

    /* position, negative position, limit, anchor + anchorOffset (rank order: b c a e d) */
    r = run("[[\"Note/query\",{\"accountId\":\"A1\",\"sort\":[{\"property\":\"rank\"}],"
            "\"position\":1,\"limit\":2},\"0\"],"
            "[\"Note/query\",{\"accountId\":\"A1\",\"sort\":[{\"property\":\"rank\"}],"
            "\"position\":-2},\"1\"],"
            "[\"Note/query\",{\"accountId\":\"A1\",\"sort\":[{\"property\":\"rank\"}],"
            "\"anchor\":\"%s\",\"anchorOffset\":-1,\"limit\":2},\"2\"],"
            "[\"Note/query\",{\"accountId\":\"A1\",\"sort\":[{\"property\":\"rank\"}],"
            "\"anchor\":\"%s\",\"anchorOffset\":-10},\"3\"],"
            "[\"Note/query\",{\"accountId\":\"A1\",\"position\":99},\"4\"],"
            "[\"Note/query\",{\"accountId\":\"A1\",\"position\":-99,\"limit\":1,"
            "\"sort\":[{\"property\":\"rank\"}]},\"5\"]]",
            id_at(ids, 4), id_at(ids, 2));
    assert_ids(json_object_get(args_of(r, 0), "ids"), ids, "ca");
    assert_ids(json_object_get(args_of(r, 1), "ids"), ids, "ed");
    assert_int_equal(json_integer_value(json_object_get(args_of(r, 1), "position")), 3);
    assert_ids(json_object_get(args_of(r, 2), "ids"), ids, "ae");
    assert_int_equal(json_integer_value(json_object_get(args_of(r, 2), "position")), 2);
    assert_ids(json_object_get(args_of(r, 3), "ids"), ids, "bcaed");
    assert_int_equal(json_integer_value(json_object_get(args_of(r, 3), "position")), 0);
    assert_ids(json_object_get(args_of(r, 4), "ids"), ids, "");
    assert_ids(json_object_get(args_of(r, 5), "ids"), ids, "b");
    json_decref(r);
    json_decref(ids);
    destroy_all();
}

static void test_query_errors(void **state)
{
    json_t *r = run("[[\"Note/query\",{\"accountId\":\"A1\",\"filter\":{\"colour\":\"x\"}},\"0\"],"
                    "[\"Note/query\",{\"accountId\":\"A1\",\"sort\":[{\"property\":\"colour\"}]},\"1\"],"
                    "[\"Note/query\",{\"accountId\":\"A1\",\"sort\":[{\"property\":\"title\","
                    "\"collation\":\"i;klingon\"}]},\"2\"],"
                    "[\"Note/query\",{\"accountId\":\"A1\",\"anchor\":\"nnothere\"},\"3\"],"
                    "[\"Note/query\",{\"accountId\":\"A1\",\"filter\":{\"operator\":\"XOR\","
                    "\"conditions\":[]}},\"4\"],"
                    "[\"Note/query\",{\"accountId\":\"A1\",\"filter\":{\"minRank\":\"x\"}},\"5\"],"
                    "[\"Note/query\",{\"accountId\":\"A1\",\"limit\":-1},\"6\"],"
                    "[\"Note/query\",{\"accountId\":\"A1\",\"sort\":[{\"isAscending\":true}]},\"7\"]]");
    const char *want[] = {"unsupportedFilter", "unsupportedSort", "unsupportedSort",
                          "anchorNotFound",    "invalidArguments", "invalidArguments",
                          "invalidArguments",  "invalidArguments"};
    for (size_t i = 0; i < 8; i++) {
        assert_string_equal(name_of(r, i), "error");
        assert_string_equal(json_string_value(json_object_get(args_of(r, i), "type")), want[i]);
    }
    json_decref(r);
}

/* ---- /queryChanges ------------------------------------------------------------------ */

static void test_query_changes(void **state)
{
    json_t *ids = make_notes();
    json_t *r = run("[[\"Note/query\",{\"accountId\":\"A1\",\"filter\":{\"minRank\":2},"
                    "\"sort\":[{\"property\":\"rank\"}]},\"0\"]]");
    char *qs = strdup(json_string_value(json_object_get(args_of(r, 0), "queryState")));
    json_t *old = json_deep_copy(json_object_get(args_of(r, 0), "ids"));
    json_decref(r);
    /* b (rank 1) rises into the results; e is destroyed; a new note f arrives */
    r = run("[[\"Note/set\",{\"accountId\":\"A1\",\"update\":{\"%s\":{\"rank\":10}},"
            "\"destroy\":[\"%s\"],\"create\":{\"f\":{\"title\":\"fig\",\"rank\":2}}},\"0\"],"
            "[\"Note/queryChanges\",{\"accountId\":\"A1\",\"filter\":{\"minRank\":2},"
            "\"sort\":[{\"property\":\"rank\"}],\"sinceQueryState\":\"%s\","
            "\"calculateTotal\":true},\"1\"],"
            "[\"Note/query\",{\"accountId\":\"A1\",\"filter\":{\"minRank\":2},"
            "\"sort\":[{\"property\":\"rank\"}]},\"2\"],"
            "[\"Note/queryChanges\",{\"accountId\":\"A1\",\"filter\":{\"minRank\":2},"
            "\"sort\":[{\"property\":\"rank\"}],\"sinceQueryState\":\"%s\","
            "\"maxChanges\":1},\"3\"],"
            "[\"Note/queryChanges\",{\"accountId\":\"A1\",\"sinceQueryState\":\"bogus\"},\"4\"]]",
            id_at(ids, 1), id_at(ids, 4), qs, qs);
    const char *f = json_string_value(json_object_get(
        json_object_get(json_object_get(args_of(r, 0), "created"), "f"), "id"));
    json_t *qc = args_of(r, 1), *now = json_object_get(args_of(r, 2), "ids");
    assert_string_equal(name_of(r, 1), "Note/queryChanges");
    assert_string_equal(json_string_value(json_object_get(qc, "oldQueryState")), qs);
    assert_string_equal(json_string_value(json_object_get(qc, "newQueryState")),
                        json_string_value(json_object_get(args_of(r, 2), "queryState")));
    assert_int_equal(json_integer_value(json_object_get(qc, "total")), 5);
    /* removed: e (destroyed); never the new f, never an id that was not there */
    json_t *removed = json_object_get(qc, "removed");
    size_t i;
    json_t *v;
    bool has_e = false;
    json_array_foreach(removed, i, v)
    {
        has_e |= strcmp(json_string_value(v), id_at(ids, 4)) == 0;
        bool was_there = false;
        size_t k;
        json_t *x;
        json_array_foreach(old, k, x)
        {
            was_there |= json_equal(x, v);
        }
        assert_true(was_there);
    }
    assert_true(has_e);
    /* added: b and f at their index in the new results */
    json_t *added = json_object_get(qc, "added");
    assert_int_equal(json_array_size(added), 2);
    json_array_foreach(added, i, v)
    {
        const char *id = json_string_value(json_object_get(v, "id"));
        size_t idx = (size_t)json_integer_value(json_object_get(v, "index"));
        assert_string_equal(json_string_value(json_array_get(now, idx)), id);
        assert_true(strcmp(id, f) == 0 || strcmp(id, id_at(ids, 1)) == 0);
    }
    /* §5.6: removing `removed` from the old results and inserting `added` at their
     * indexes (in index order) gives the new results */
    json_t *replay = json_array();
    json_array_foreach(old, i, v)
    {
        bool gone = false;
        size_t k;
        json_t *x;
        json_array_foreach(removed, k, x)
        {
            gone |= json_equal(x, v);
        }
        if (!gone)
            json_array_append(replay, v);
    }
    json_array_foreach(added, i, v)
    {
        json_array_insert(replay, (size_t)json_integer_value(json_object_get(v, "index")),
                          json_object_get(v, "id"));
    }
    assert_true(json_equal(replay, now));
    json_decref(replay);
    json_decref(old);
    assert_string_equal(name_of(r, 3), "error");
    assert_string_equal(json_string_value(json_object_get(args_of(r, 3), "type")),
                        "tooManyChanges");
    assert_string_equal(json_string_value(json_object_get(args_of(r, 4), "type")),
                        "cannotCalculateChanges");
    json_decref(r);
    free(qs);
    json_decref(ids);
    destroy_all();
}

/* ---- /copy --------------------------------------------------------------------------- */

static void test_copy(void **state)
{
    json_t *ids = make_notes();
    json_t *r = run("[[\"Note/get\",{\"accountId\":\"A1\",\"ids\":[]},\"s\"],"
                    "[\"Note/copy\",{\"fromAccountId\":\"A1\",\"accountId\":\"A2\","
                    "\"create\":{\"k1\":{\"id\":\"%s\",\"rank\":42},\"k2\":{\"id\":\"nmissing\"}},"
                    "\"onSuccessDestroyOriginal\":true},\"c\"],"
                    "[\"Note/get\",{\"accountId\":\"A2\",\"ids\":[\"#k1\"]},\"g\"],"
                    "[\"Note/copy\",{\"fromAccountId\":\"A1\",\"accountId\":\"A1\","
                    "\"create\":{\"x\":{\"id\":\"%s\"}}},\"same\"],"
                    "[\"Note/copy\",{\"fromAccountId\":\"A1\",\"accountId\":\"A2\","
                    "\"ifFromInState\":\"12345\",\"create\":{\"x\":{\"id\":\"%s\"}}},\"st\"],"
                    "[\"Note/copy\",{\"fromAccountId\":\"A1\",\"accountId\":\"A2\","
                    "\"create\":{\"y\":{\"id\":\"%s\",\"title\":5}}},\"inv\"]]",
                    id_at(ids, 0), id_at(ids, 1), id_at(ids, 1), id_at(ids, 1));
    assert_string_equal(name_of(r, 1), "Note/copy");
    json_t *c = args_of(r, 1);
    assert_string_equal(json_string_value(json_object_get(c, "fromAccountId")), "A1");
    assert_string_equal(json_string_value(json_object_get(c, "accountId")), "A2");
    const char *newid = json_string_value(
        json_object_get(json_object_get(json_object_get(c, "created"), "k1"), "id"));
    assert_non_null(newid);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(c, "notCreated"), "k2"), "type")),
                        "notFound");
    /* §5.4: the implicit Note/set destroying the original follows */
    assert_string_equal(name_of(r, 2), "Note/set");
    assert_string_equal(json_string_value(json_array_get(json_array_get(r, 2), 2)), "c");
    assert_string_equal(json_string_value(json_array_get(json_object_get(args_of(r, 2),
                                                                         "destroyed"), 0)),
                        id_at(ids, 0));
    json_t *copy = json_array_get(json_object_get(args_of(r, 3), "list"), 0);
    assert_string_equal(json_string_value(json_object_get(copy, "title")), "apple");
    assert_int_equal(json_integer_value(json_object_get(copy, "rank")), 42);
    assert_string_equal(json_string_value(json_object_get(args_of(r, 4), "type")),
                        "invalidArguments");
    assert_string_equal(json_string_value(json_object_get(args_of(r, 5), "type")),
                        "stateMismatch");
    json_t *inv = json_object_get(json_object_get(args_of(r, 6), "notCreated"), "y");
    assert_string_equal(json_string_value(json_object_get(inv, "type")), "invalidProperties");
    json_decref(r);
    json_decref(ids);
    destroy_all();
}

/* ---- states and limits ------------------------------------------------------------------ */

static void test_state_encoding(void **state)
{
    for (int64_t v = 0; v < 5000000000LL; v = v * 7 + 1) {
        json_t *s = jmap_state_string(v);
        assert_int_equal(jmap_state_parse(json_string_value(s)), v);
        json_decref(s);
    }
    const char *bad[] = {"", "-1", "01", "1a", "abc", " 1", "1 ", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(jmap_state_parse(bad[i]), -1);
}

static void test_limits(void **state)
{
    int64_t saved = cfg.max_calls_in_request;
    cfg.max_calls_in_request = 2;
    json_t *r = run("[[\"Core/echo\",{},\"0\"],[\"Core/echo\",{},\"1\"],[\"Core/echo\",{},\"2\"]]");
    assert_string_equal(json_string_value(json_object_get(r, "type")),
                        "urn:ietf:params:jmap:error:limit");
    assert_string_equal(json_string_value(json_object_get(r, "limit")), "maxCallsInRequest");
    json_decref(r);
    cfg.max_calls_in_request = saved;
    saved = cfg.max_objects_in_get;
    cfg.max_objects_in_get = 2;
    json_t *ids = make_notes();
    r = run("[[\"Note/get\",{\"accountId\":\"A1\"},\"0\"],"
            "[\"Note/get\",{\"accountId\":\"A1\",\"ids\":[\"a\",\"b\",\"c\"]},\"1\"],"
            "[\"Note/get\",{\"accountId\":\"A1\",\"ids\":[\"a\",\"b\"]},\"2\"]]");
    assert_string_equal(json_string_value(json_object_get(args_of(r, 0), "type")),
                        "requestTooLarge");
    assert_string_equal(json_string_value(json_object_get(args_of(r, 1), "type")),
                        "requestTooLarge");
    assert_string_equal(name_of(r, 2), "Note/get");
    json_decref(r);
    cfg.max_objects_in_get = saved;
    json_decref(ids);
    destroy_all();
}

static void test_account_not_supported(void **state)
{
    char *body = NULL;
    assert_true(asprintf(&body, "{\"using\":[\"urn:ietf:params:jmap:core\",\"urn:example:own\"],"
                                "\"methodCalls\":[[\"OwnNote/get\",{\"accountId\":\"A2\"},\"0\"],"
                                "[\"OwnNote/get\",{\"accountId\":\"A1\"},\"1\"]]}") > 0);
    struct jmap_result out;
    jmap_api_handle(&srv, &user, body, strlen(body), &out);
    json_error_t e;
    json_t *resp = json_loads(out.body, 0, &e);
    json_t *mr = json_object_get(resp, "methodResponses");
    /* A2 is shared with this user, and the capability is for personal accounts */
    assert_string_equal(name_of(mr, 0), "error");
    assert_string_equal(json_string_value(json_object_get(args_of(mr, 0), "type")),
                        "accountNotSupportedByMethod");
    assert_string_equal(name_of(mr, 1), "OwnNote/get");
    /* the session does not list the capability for that account either */
    json_t *session = jmap_session(&srv, &user);
    json_t *accts = json_object_get(session, "accounts");
    assert_non_null(json_object_get(json_object_get(json_object_get(accts, "A1"),
                                                    "accountCapabilities"),
                                    "urn:example:own"));
    assert_null(json_object_get(json_object_get(json_object_get(accts, "A2"),
                                                "accountCapabilities"),
                                "urn:example:own"));
    json_decref(session);
    json_decref(resp);
    free(out.body);
    free(body);
}

/* issue 19 §4, RFC 8620 §5.3: a create's precheck runs before the write
 * transaction (other writers never wait for it), validate inside it; an object the
 * precheck refuses never reaches the write path, and the SetError says why. */
static void test_precheck_before_the_write_lock(void **state)
{
    json_t *r = run("[[\"CheckedNote/set\",{\"accountId\":\"A1\",\"create\":{"
                    "\"ok\":{\"title\":\"fine\"},\"bad\":{\"title\":7}}},\"0\"]]");
    assert_string_equal(name_of(r, 0), "CheckedNote/set");
    json_t *a = args_of(r, 0);
    assert_non_null(json_object_get(json_object_get(a, "created"), "ok"));
    json_t *bad = json_object_get(json_object_get(a, "notCreated"), "bad");
    assert_string_equal(json_string_value(json_object_get(bad, "type")), "invalidProperties");
    assert_non_null(strstr(json_string_value(json_object_get(bad, "description")),
                           "title: must be a String"));
    assert_int_equal(precheck_in_write, 0);
    assert_int_equal(validate_in_write, 1);
    json_decref(r);
}

/* The front end's precommit hook (issue 20 §4): it runs inside the /set's transaction
 * with the created ids, its own write commits with the objects, and its failure rolls the
 * whole /set back. */
static int hook_calls;
static int hook(struct store_conn *c, const char *account, const char *type, json_t *created,
                void *ud)
{
    hook_calls++;
    const char *id = json_string_value(json_object_get(json_object_get(created, "n"), "id"));
    if (!id)
        return 0;
    json_t *mark = json_pack("{s:s}", "of", id);
    int rc = store_object_put(c, account, "HookMark", id, mark, 1, true, NULL);
    json_decref(mark);
    (void)type;
    return ud ? -1 : rc;
}

static void test_precommit_hook_in_the_same_transaction(void **state)
{
    jmap_precommit_set(hook, NULL);
    json_t *r = run("[[\"Note/set\",{\"accountId\":\"A1\",\"create\":{\"n\":{\"title\":\"x\"}}},"
                    "\"0\"]]");
    const char *id = json_string_value(
        json_object_get(json_object_get(json_object_get(args_of(r, 0), "created"), "n"), "id"));
    assert_non_null(id);
    assert_int_equal(hook_calls, 1);
    struct store_conn *c = store_conn(srv.store);
    store_begin(c, false);
    assert_true(store_object_exists(c, "A1", "HookMark", id));
    store_rollback(c);
    json_decref(r);
    /* a failing hook: the note is not created, the state does not move */
    jmap_precommit_set(hook, (void *)1);
    r = run("[[\"Note/set\",{\"accountId\":\"A1\",\"create\":{\"n\":{\"title\":\"y\"}}},\"0\"],"
            "[\"Note/query\",{\"accountId\":\"A1\",\"filter\":{\"title\":\"y\"}},\"1\"]]");
    jmap_precommit_set(NULL, NULL);
    assert_string_equal(name_of(r, 0), "error");
    assert_string_equal(json_string_value(json_object_get(args_of(r, 0), "type")), "serverFail");
    assert_int_equal(json_array_size(json_object_get(args_of(r, 1), "ids")), 0);
    json_decref(r);
    destroy_all();
    (void)state;
}

/* issue 21 §3: which parsed requests may run on the connection's own thread (few calls,
 * each Core/echo, a standard /changes on SQLite, a /get or /query lately quick), and that such a
 * run answers as jmap_api_handle does. */
static bool quick(const char *calls)
{
    char *body = NULL;
    assert_true(asprintf(&body,
                         "{\"using\":[\"urn:ietf:params:jmap:core\","
                         "\"urn:ietf:params:jmap:calendars\"],\"methodCalls\":%s}",
                         calls) > 0);
    struct jmap_result out = {0};
    json_t *req = jmap_api_parse(&srv, body, strlen(body), &out);
    assert_non_null(req);
    bool q = jmap_api_quick(&srv, req);
    json_decref(req);
    free(body);
    return q;
}

static void test_quick_requests(void **state)
{
    assert_true(quick("[[\"Core/echo\",{},\"0\"]]"));
    assert_true(quick("[[\"Note/changes\",{\"accountId\":\"A1\",\"sinceState\":\"0\"},\"0\"],"
                      "[\"Core/echo\",{},\"1\"]]"));
    assert_true(quick("[]"));
    assert_true(quick("[[\"Core/echo\",{},\"0\"],[\"Core/echo\",{},\"1\"],"
                      "[\"Core/echo\",{},\"2\"],[\"Core/echo\",{},\"3\"]]"));
    assert_false(quick("[[\"Core/echo\",{},\"0\"],[\"Core/echo\",{},\"1\"],[\"Core/echo\",{},"
                       "\"2\"],[\"Core/echo\",{},\"3\"],[\"Core/echo\",{},\"4\"]]"));
    assert_false(quick("[[\"Note/get\",{\"accountId\":\"A1\"},\"0\"]]"));
    assert_false(quick("[[\"Note/set\",{\"accountId\":\"A1\"},\"0\"]]"));
    assert_false(quick("[[\"No/such\",{},\"0\"]]"));

    /* the same answer either way */
    json_t *ids = make_notes();
    const char *body = "{\"using\":[\"urn:ietf:params:jmap:core\",\"urn:ietf:params:jmap:"
                       "calendars\"],\"methodCalls\":[[\"Note/changes\",{\"accountId\":\"A1\","
                       "\"sinceState\":\"0\"},\"0\"],[\"Core/echo\",{\"x\":1},\"1\"]]}";
    struct jmap_result a, b = {0};
    jmap_api_handle(&srv, &user, body, strlen(body), &a);
    json_t *req = jmap_api_parse(&srv, body, strlen(body), &b);
    assert_non_null(req);
    assert_true(jmap_api_quick(&srv, req));
    jmap_api_run(&srv, &user, req, &b, true);
    assert_int_equal(a.status, 200);
    assert_int_equal(b.status, 200);
    assert_string_equal(a.body, b.body);
    assert_non_null(strstr(a.body, "\"created\":[\""));
    free(a.body);
    free(b.body);
    json_decref(ids);
    destroy_all();

    /* issue 21 §1: a /get of listed ids or a /query is quick once its method's late calls
     * took under a millisecond (unknown before a first call); a /get of every object never */
    ids = make_notes();
    const char *get = "{\"using\":[\"urn:ietf:params:jmap:core\",\"urn:ietf:params:jmap:"
                      "calendars\"],\"methodCalls\":[[\"Note/get\",{\"accountId\":\"A1\","
                      "\"ids\":[]},\"0\"],[\"Note/query\",{\"accountId\":\"A1\"},\"1\"]]}";
    for (int i = 0; i < 8; i++) {
        struct jmap_result g = {0};
        jmap_api_handle(&srv, &user, get, strlen(get), &g);
        assert_int_equal(g.status, 200);
        free(g.body);
    }
    assert_true(quick("[[\"Note/get\",{\"accountId\":\"A1\",\"ids\":[\"x\"]},\"0\"]]"));
    assert_true(quick("[[\"Note/query\",{\"accountId\":\"A1\"},\"0\"],[\"Note/get\",{"
                      "\"accountId\":\"A1\",\"#ids\":{\"resultOf\":\"0\",\"name\":"
                      "\"Note/query\",\"path\":\"/ids\"}},\"1\"]]"));
    assert_false(quick("[[\"Note/get\",{\"accountId\":\"A1\"},\"0\"]]"));
    assert_false(quick("[[\"Note/get\",{\"accountId\":\"A1\",\"ids\":null},\"0\"]]"));
    assert_false(quick("[[\"Note/set\",{\"accountId\":\"A1\"},\"0\"]]"));
    json_decref(ids);
    destroy_all();

    /* a problem comes from the parse, with nothing to run */
    struct jmap_result p = {0};
    assert_null(jmap_api_parse(&srv, "{\"using\":", 9, &p));
    assert_int_equal(p.status, 400);
    assert_true(p.problem);
    assert_non_null(strstr(p.body, "notJSON"));
    free(p.body);
}

/* issue 21 §1: SQLite keeps no memory statistics (a process-wide mutex on every
 * allocation of every connection): after the store has served requests, it counted
 * nothing. */
static void test_sqlite_keeps_no_memory_statistics(void **state)
{
    json_t *ids = make_notes();
    json_t *r = run("[[\"Note/query\",{\"accountId\":\"A1\"},\"0\"]]");
    assert_string_equal(name_of(r, 0), "Note/query");
    json_decref(r);
    assert_true(sqlite3_memory_used() == 0);
    assert_true(sqlite3_memory_highwater(0) == 0);
    json_decref(ids);
    destroy_all();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_sort_filter_window),
        cmocka_unit_test(test_query_errors),
        cmocka_unit_test(test_query_changes),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_state_encoding),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_quick_requests),
        cmocka_unit_test(test_sqlite_keeps_no_memory_statistics),
        cmocka_unit_test(test_account_not_supported),
        cmocka_unit_test(test_precheck_before_the_write_lock),
        cmocka_unit_test(test_precommit_hook_in_the_same_transaction),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
