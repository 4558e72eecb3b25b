/* test_metadata.c — the pure rules of draft-ietf-jmap-metadata-02 (issue 18) in
 * jmap/metadata.c: namespace identifiers (§2.1: registered names and domain names)
 * and the depth of a namespace value (§2.1, with the draft's own examples); the raw
 * placeholders through which a /get copies stored metadata into its response
 * (formats/json/writer.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/json/writer.h"
#include "jmap/metadata.h"

static size_t depth_of(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    assert_non_null(v);
    size_t d = metadata_depth(v);
    json_decref(v);
    return d;
}

/* §2.1: "a sequence of US-ASCII letters, digits, hyphens, and underscores, with no
 * dot", or a domain name "containing at least one '.'" */
static void test_namespace_kinds_s2_1(void **state)
{
    (void)state;
    const char *registered[] = {"photography", "a", "x-y_z", "ABC123", "_", "-"};
    for (size_t i = 0; i < sizeof registered / sizeof *registered; i++)
        assert_int_equal(metadata_ns_kind(registered[i]), 1);
    const char *domains[] = {"example.com", "acme.example.org",      "acme.example.com",
                             "a.b",         "xn--bcher-kva.example", "1.2.3.4"};
    for (size_t i = 0; i < sizeof domains / sizeof *domains; i++)
        assert_int_equal(metadata_ns_kind(domains[i]), 2);
    const char *bad[] = {"",        ".",   "a.",  ".a",          "a..b", "-a.com", "a-.com",
                         "a_b.com", "a b", "a/b", "caf\xc3\xa9", "a.b!", "x~y"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(metadata_ns_kind(bad[i]), 0);
    char label[70];
    memset(label, 'a', 64);
    strcpy(label + 64, ".com"); /* a label of 64 octets */
    assert_int_equal(metadata_ns_kind(label), 0);
    label[1] = '.'; /* now "a." + 62 + ".com" */
    assert_int_equal(metadata_ns_kind(label), 2);
}

/* §2.1: "a flat object whose values are scalars or arrays has depth 1 ... {"x":
 * [{"y": 1}]} has depth 2 ... Scalar values ... and empty arrays or objects have
 * depth 1" */
static void test_depth_examples_s2_1(void **state)
{
    (void)state;
    assert_int_equal(depth_of("{}"), 1);
    assert_int_equal(depth_of("[]"), 1);
    assert_int_equal(depth_of("5"), 1);
    assert_int_equal(depth_of("{\"color\": \"blue\", \"tags\": [1, 2]}"), 1);
    assert_int_equal(depth_of("{\"x\": [{\"y\": 1}]}"), 2);
    assert_int_equal(depth_of("{\"x\": {}}"), 2);
    /* the §2.1 example namespace value: project is one level of nesting */
    assert_int_equal(depth_of("{\"color\": \"blue\", \"priority\": \"high\", \"project\": "
                              "{\"id\": \"ALPHA-2024\", \"deadline\": \"2024-12-31\"}}"),
                     2);
    assert_int_equal(depth_of("{\"a\": [[[{\"b\": {\"c\": 1}}]]], \"d\": 1}"), 3);
}

static char *write_text(json_t *j)
{
    jbuf b = {0};
    jwriter_append(j, &b);
    return jbuf_take(&b);
}

/* §3.1 /get: stored metadata text goes into the response as it is, through a raw
 * placeholder; an ordinary string with the same content is still a JSON string, and
 * after jwriter_raw_clear a placeholder is an ordinary string again. */
static void test_raw_placeholder_s3_1(void **state)
{
    (void)state;
    const char *stored = "{\"acme.example.com\":{\"q\":\"a\\\"b\",\"n\":[1,2.5]}}";
    json_t *raw = jwriter_raw_new(stored, strlen(stored));
    json_t *same = json_string(stored);
    json_t *obj = json_pack("{s:s, s:O, s:O}", "id", "e1", "metadata", raw, "title", same);
    char *text = write_text(obj);
    char *want = NULL;
    assert_true(asprintf(&want, "{\"id\":\"e1\",\"metadata\":%s,\"title\":\"%s\"}", stored,
                         "{\\\"acme.example.com\\\":{\\\"q\\\":\\\"a\\\\\\\"b\\\","
                         "\\\"n\\\":[1,2.5]}}") > 0);
    assert_string_equal(text, want);
    /* the response is one JSON text that reads back as the values written */
    json_t *back = json_loads(text, 0, NULL);
    assert_non_null(back);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(back, "metadata"), "acme.example.com"), "q")),
        "a\"b");
    json_decref(back);
    free(text);
    free(want);
    /* many placeholders (the set grows), each still found */
    json_t *list = json_array();
    for (int i = 0; i < 300; i++)
        json_array_append_new(list, jwriter_raw_new("{}", 2));
    text = write_text(list);
    assert_int_equal(strlen(text), 2 + 300 * 2 + 299);
    assert_null(strchr(text, '"'));
    free(text);
    jwriter_raw_clear();
    text = write_text(raw); /* forgotten: an ordinary string now */
    assert_int_equal(text[0], '"');
    free(text);
    json_decref(list);
    json_decref(obj);
    json_decref(raw);
    json_decref(same);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_namespace_kinds_s2_1),
        cmocka_unit_test(test_depth_examples_s2_1),
        cmocka_unit_test(test_raw_placeholder_s3_1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
