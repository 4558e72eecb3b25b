/* test_patch.c — JSON Pointer (RFC 6901 + RFC 8620 §3.7 "*") and PatchObject
 * (RFC 8620 §5.3) against the specs' own rules and examples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/json/patch.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    assert_non_null(v);
    return v;
}

static void assert_json(json_t *got, const char *want)
{
    json_t *w = J(want);
    char *g = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!json_equal(got, w))
        fail_msg("got %s want %s", g, want);
    free(g);
    json_decref(w);
}

static void test_pointer_rfc6901(void **state)
{
    /* RFC 6901 §5 example document. */
    json_t *doc = J("{\"foo\":[\"bar\",\"baz\"],\"\":0,\"a/b\":1,\"c%d\":2,\"e^f\":3,"
                    "\"g|h\":4,\"i\\\\j\":5,\"k\\\"l\":6,\" \":7,\"m~n\":8}");
    json_t *v;
    v = jpointer_eval(doc, "");
    assert_true(json_equal(v, doc));
    json_decref(v);
    v = jpointer_eval(doc, "/foo");
    assert_json(v, "[\"bar\",\"baz\"]");
    json_decref(v);
    v = jpointer_eval(doc, "/foo/0");
    assert_json(v, "\"bar\"");
    json_decref(v);
    const char *paths[] = {"/", "/a~1b", "/c%d", "/e^f", "/g|h", "/i\\j", "/k\"l", "/ ", "/m~0n"};
    int want[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    for (int i = 0; i < 9; i++) {
        v = jpointer_eval(doc, paths[i]);
        assert_non_null(v);
        assert_int_equal(json_integer_value(v), want[i]);
        json_decref(v);
    }
    assert_null(jpointer_eval(doc, "/foo/2"));
    assert_null(jpointer_eval(doc, "/foo/01"));
    assert_null(jpointer_eval(doc, "/foo/-"));
    assert_null(jpointer_eval(doc, "/nope"));
    assert_null(jpointer_eval(doc, "foo"));
    assert_null(jpointer_eval(doc, "/m~2n"));
    json_decref(doc);
}

static void test_pointer_star(void **state)
{
    /* RFC 8620 §3.7 example: "/list/STAR/id" over Foo/get, and flattening of arrays. */
    json_t *doc = J("{\"list\":[{\"id\":\"a\",\"ids\":[\"x\",\"y\"]},"
                    "{\"id\":\"b\",\"ids\":[\"z\"]}]}");
    json_t *v = jpointer_eval(doc, "/list/*/id");
    assert_json(v, "[\"a\",\"b\"]");
    json_decref(v);
    v = jpointer_eval(doc, "/list/*/ids");
    assert_json(v, "[\"x\",\"y\",\"z\"]");
    json_decref(v);
    assert_null(jpointer_eval(doc, "/list/*/missing"));
    v = jpointer_eval(doc, "/list/1/ids/0");
    assert_json(v, "\"z\"");
    json_decref(v);
    json_decref(doc);
}

static void test_patch_basic(void **state)
{
    json_t *obj = J("{\"name\":\"a\",\"alerts\":{\"1\":{\"offset\":\"-PT5M\",\"x\":1}},"
                    "\"keywords\":{\"k\":true}}");
    json_t *patch = J("{\"name\":\"b\",\"alerts/1/offset\":\"-PT10M\",\"alerts/1/x\":null,"
                      "\"keywords/j\":true,\"new\":[1,2]}");
    assert_int_equal(patch_apply(obj, patch, NULL), 0);
    assert_json(obj, "{\"name\":\"b\",\"alerts\":{\"1\":{\"offset\":\"-PT10M\"}},"
                     "\"keywords\":{\"k\":true,\"j\":true},\"new\":[1,2]}");
    json_decref(obj);
    json_decref(patch);
}

static void expect_invalid(const char *objtext, const char *patchtext, const char *badkey)
{
    json_t *obj = J(objtext), *before = json_deep_copy(obj), *patch = J(patchtext);
    char *err = NULL;
    assert_int_equal(patch_apply(obj, patch, &err), -1);
    assert_non_null(err);
    assert_string_equal(err, badkey);
    assert_true(json_equal(obj, before)); /* nothing changed */
    free(err);
    json_decref(obj);
    json_decref(before);
    json_decref(patch);
}

static void test_patch_invalid(void **state)
{
    /* §5.3: MUST NOT reference inside an array */
    expect_invalid("{\"a\":[1,2]}", "{\"a/0\":3}", "a/0");
    /* §5.3: all parts prior to the last MUST already exist */
    expect_invalid("{\"a\":{}}", "{\"b/c\":1}", "b/c");
    /* parent exists but is not an object */
    expect_invalid("{\"a\":\"s\"}", "{\"a/b\":1}", "a/b");
    /* §5.3: no pointer may be a prefix of another ("alerts/1/offset" and "alerts") */
    json_t *obj = J("{\"alerts\":{\"1\":{}}}");
    json_t *patch = J("{\"alerts\":{},\"alerts/1/offset\":\"x\"}");
    char *err = NULL;
    assert_int_equal(patch_apply(obj, patch, &err), -1);
    assert_string_equal(err, "alerts/1/offset");
    free(err);
    json_decref(obj);
    json_decref(patch);
    /* prefix of the string but not of the path is fine */
    obj = J("{\"ab\":1,\"a\":{}}");
    patch = J("{\"a/x\":1,\"ab\":2}");
    assert_int_equal(patch_apply(obj, patch, NULL), 0);
    json_decref(obj);
    json_decref(patch);
    expect_invalid("{}", "{\"\":1}", "");
}

static void test_patch_escapes_and_diff(void **state)
{
    json_t *obj = J("{\"a/b\":{\"c~d\":1}}");
    json_t *patch = J("{\"a~1b/c~0d\":2}");
    assert_int_equal(patch_apply(obj, patch, NULL), 0);
    assert_json(obj, "{\"a/b\":{\"c~d\":2}}");
    json_decref(patch);
    json_t *to = J("{\"a/b\":{\"c~d\":3,\"e\":[1]},\"z\":true}");
    json_t *d = patch_diff(obj, to);
    assert_json(d, "{\"a~1b/c~0d\":3,\"a~1b/e\":[1],\"z\":true}");
    assert_int_equal(patch_apply(obj, d, NULL), 0);
    assert_true(json_equal(obj, to));
    json_decref(d);
    json_decref(to);
    json_decref(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pointer_rfc6901),       cmocka_unit_test(test_pointer_star),
        cmocka_unit_test(test_patch_basic),           cmocka_unit_test(test_patch_invalid),
        cmocka_unit_test(test_patch_escapes_and_diff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
