/* test_contacts_filter.c — ContactCard filter conditions (RFC 9610 §3.3.1) and
 * comparators (§3.3.2) as the filter/compare hooks evaluate them on one card:
 * the String matching rules (case-insensitive, tokens, quoted phrases with
 * escapes), which Card properties each condition searches, dates, and the
 * checks that turn bad conditions into unsupportedFilter / invalidArguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "types/contacts_internal.h"

static json_t *card;

static int setup(void **state)
{
    json_error_t e;
    card = json_loads(
        "{\"@type\":\"Card\",\"version\":\"1.0\",\"uid\":\"urn:uuid:1\",\"kind\":\"group\","
        "\"members\":{\"urn:uuid:2\":true},"
        "\"created\":\"2020-05-01T10:00:00Z\",\"updated\":\"2021-05-01T10:00:00.25Z\","
        "\"name\":{\"full\":\"Dr. Grüße Müller\",\"components\":["
        "{\"kind\":\"title\",\"value\":\"Dr.\"},{\"kind\":\"given\",\"value\":\"Grüße\"},"
        "{\"kind\":\"separator\",\"value\":\" \"},"
        "{\"kind\":\"surname\",\"value\":\"Müller\"},{\"kind\":\"surname2\",\"value\":\"Ávila\"}]},"
        "\"nicknames\":{\"n\":{\"name\":\"Gru\"}},"
        "\"organizations\":{\"o\":{\"name\":\"ACME  Inc\",\"units\":[{\"name\":\"Rockets\"}]}},"
        "\"titles\":{\"t\":{\"name\":\"Chief Engineer\"}},"
        "\"emails\":{\"e\":{\"address\":\"gm@example.com\",\"label\":\"office\"}},"
        "\"phones\":{\"p\":{\"number\":\"+1 555 0100\",\"label\":\"desk\"}},"
        "\"onlineServices\":{\"s\":{\"service\":\"XMPP\",\"user\":\"gm@jabber.example\","
        "\"uri\":\"xmpp:gm@jabber.example\",\"label\":\"chat\"}},"
        "\"addresses\":{\"a\":{\"full\":\"1 Road, Town\",\"components\":["
        "{\"kind\":\"locality\",\"value\":\"Springfield\"}]}},"
        "\"notes\":{\"x\":{\"note\":\"said \\\"hello\\\" and 'bye'\"}},"
        "\"keywords\":{\"vip\":true}}",
        0, &e);
    return card ? 0 : -1;
}

static int teardown(void **state)
{
    json_decref(card);
    return 0;
}

static int match(const char *key, const char *value)
{
    json_t *v = json_string(value);
    int rc = contact_filter_hook(NULL, card, key, v);
    json_decref(v);
    return rc;
}

static void test_strings_case_and_tokens(void **state)
{
    assert_int_equal(match("name", "müller"), 1);
    assert_int_equal(match("name", "MÜLLER grüsse"), 1); /* ß and ss fold alike */
    assert_int_equal(match("name", "GRÜSSE"), 1);        /* i;unicode-casemap folds ß to ss */
    assert_int_equal(match("name", "dr müller"), 1);     /* every token, anywhere */
    assert_int_equal(match("name", "dr smith"), 0);
    assert_int_equal(match("name", "\"grüße müller\""), 1); /* phrase over components */
    assert_int_equal(match("name", "\"müller grüße\""), 0);
    assert_int_equal(match("organization", "\"acme inc\""), 1); /* whitespace collapsed */
    assert_int_equal(match("note", "'said \"hello\"'"), 1);
    assert_int_equal(match("note", "\"said \\\"hello\\\" and\""), 1); /* \" in a phrase */
    assert_int_equal(match("note", "\"\\'bye\\'\""), 1);
    assert_int_equal(match("note", "\"hello and\""), 0);
}

static void test_which_properties(void **state)
{
    assert_int_equal(match("name/given", "grüße"), 1);
    assert_int_equal(match("name/given", "müller"), 0);
    assert_int_equal(match("name/surname", "müller"), 1);
    assert_int_equal(match("name/surname2", "ávila"), 1);
    assert_int_equal(match("name/surname2", "müller"), 0);
    assert_int_equal(match("nickname", "gru"), 1);
    assert_int_equal(match("nickname", "acme"), 0);
    assert_int_equal(match("organization", "acme"), 1);
    assert_int_equal(match("email", "example.com"), 1);
    assert_int_equal(match("email", "office"), 1);
    assert_int_equal(match("email", "555"), 0);
    assert_int_equal(match("phone", "555 0100"), 1);
    assert_int_equal(match("phone", "desk"), 1);
    assert_int_equal(match("onlineService", "xmpp"), 1);
    assert_int_equal(match("onlineService", "chat"), 1);
    assert_int_equal(match("onlineService", "jabber.example"), 1);
    assert_int_equal(match("address", "springfield"), 1);
    assert_int_equal(match("address", "town"), 1);
    assert_int_equal(match("note", "hello"), 1);
    assert_int_equal(match("note", "springfield"), 0);
    /* text: any of them, and titles, units, keywords */
    assert_int_equal(match("text", "springfield gru desk"), 1);
    assert_int_equal(match("text", "engineer rockets vip"), 1);
    assert_int_equal(match("text", "nowhere"), 0);
}

static void test_exact_conditions(void **state)
{
    assert_int_equal(match("uid", "urn:uuid:1"), 1);
    assert_int_equal(match("uid", "URN:UUID:1"), 0);
    assert_int_equal(match("kind", "group"), 1);
    assert_int_equal(match("kind", "individual"), 0);
    assert_int_equal(match("hasMember", "urn:uuid:2"), 1);
    assert_int_equal(match("hasMember", "urn:uuid:1"), 0);
    assert_int_equal(match("createdBefore", "2020-05-01T10:00:01Z"), 1);
    assert_int_equal(match("createdBefore", "2020-05-01T10:00:00Z"), 0); /* before, strictly */
    assert_int_equal(match("createdAfter", "2020-05-01T10:00:00Z"), 1);  /* same or after */
    assert_int_equal(match("updatedAfter", "2021-05-01T10:00:00.2Z"), 1);
    assert_int_equal(match("updatedAfter", "2021-05-01T10:00:00.3Z"), 0);
    assert_int_equal(match("updatedBefore", "2021-05-01T10:00:00.3Z"), 1);
}

static void test_condition_checks(void **state)
{
    json_t *s = json_string("x"), *n = json_integer(1), *d = json_string("2020-01-01");
    assert_int_equal(contact_filter_hook(NULL, NULL, "text", s), 1);
    assert_int_equal(contact_filter_hook(NULL, NULL, "inAddressBook", s), 1);
    assert_int_equal(contact_filter_hook(NULL, NULL, "bogus", s), -1);
    assert_int_equal(contact_filter_hook(NULL, NULL, "text", n), -2);
    assert_int_equal(contact_filter_hook(NULL, NULL, "createdAfter", d), -2);
    json_decref(s);
    json_decref(n);
    json_decref(d);
}

static void test_comparators(void **state)
{
    bool ok;
    json_error_t e;
    json_t *a = json_loads("{\"created\":\"2020-01-01T00:00:00Z\",\"name\":{\"components\":["
                           "{\"kind\":\"given\",\"value\":\"émile\"}]}}", 0, &e);
    json_t *b = json_loads("{\"created\":\"2020-01-01T00:00:00.5Z\",\"name\":{\"components\":["
                           "{\"kind\":\"given\",\"value\":\"Eve\"}]}}", 0, &e);
    assert_true(contact_compare_hook(a, b, "created", &ok) < 0 && ok);
    assert_true(contact_compare_hook(b, a, "created", &ok) > 0 && ok);
    /* RFC 5051: é decomposes to e + U+0301, compared by octets: "e\xcc\x81mile" > "eve" */
    assert_true(contact_compare_hook(a, b, "name/given", &ok) > 0 && ok);
    assert_int_equal(contact_compare_hook(a, b, "name/surname", &ok), 0);
    assert_true(ok);
    contact_compare_hook(a, b, "name", &ok);
    assert_false(ok);
    json_decref(a);
    json_decref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_case_and_tokens),
        cmocka_unit_test(test_which_properties),
        cmocka_unit_test(test_exact_conditions),
        cmocka_unit_test(test_condition_checks),
        cmocka_unit_test(test_comparators),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
