/*
 * test_jscontact_validate.c — jscontact_card_validate (RFC 9553 §1.7, §2): each
 * case breaks one rule and checks that exactly the offending path is reported,
 * in the form ContactCard/set will put into invalidProperties.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/jscontact/jscontact.h"
#include "formats/json/id.h"

#define BASE "\"@type\":\"Card\",\"version\":\"1.0\",\"uid\":\"urn:uuid:1\""

/* Validates {BASE, extra} and returns the invalid paths as one "a|b" string. */
static char *problems(const char *extra)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "{" BASE "%s%s}", *extra ? "," : "", extra);
    json_error_t e;
    json_t *card = json_loads(buf, 0, &e);
    if (!card)
        fprintf(stderr, "bad test JSON: %s: %s\n", buf, e.text);
    assert_non_null(card);
    json_t *paths = NULL, *msgs = NULL;
    size_t n = jscontact_card_validate(card, &paths, &msgs);
    assert_int_equal(n, json_array_size(paths));
    assert_int_equal(n, json_array_size(msgs));
    char out[2048] = "";
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(out, "|");
        strcat(out, json_string_value(json_array_get(paths, i)));
    }
    json_decref(paths);
    json_decref(msgs);
    json_decref(card);
    return strdup(out);
}

#define EXPECT(extra, want)                                                                        \
    do {                                                                                           \
        char *got_ = problems(extra);                                                              \
        if (strcmp(got_, want))                                                                    \
            fprintf(stderr, "for %s\n", extra);                                                    \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
    } while (0)

static void test_valid_cards(void **state)
{
    EXPECT("", "");
    EXPECT("\"kind\":\"group\",\"members\":{\"urn:uuid:2\":true}", "");
    EXPECT("\"kind\":\"example.com:robot\"", ""); /* §1.8.2 vendor value */
    EXPECT("\"example.com:foo\":{\"x\":1}", "");  /* §1.8.1 vendor property */
    EXPECT("\"someFutureProperty\":[1,2]", "");   /* §1.7.4 unknown: preserved */
    EXPECT("\"emails\":{\"e1\":{\"@type\":\"EmailAddress\",\"address\":\"a@b\",\"pref\":1,"
           "\"contexts\":{\"work\":true}}}",
           "");
    EXPECT("\"anniversaries\":{\"a\":{\"kind\":\"birth\",\"date\":{\"@type\":\"Timestamp\","
           "\"utc\":\"2010-10-10T10:10:10.003Z\"}}}",
           "");
}

static void test_card_level(void **state)
{
    json_t *c = json_loads("{\"@type\":\"Card\",\"version\":\"1.0\"}", 0, NULL);
    json_t *paths;
    assert_int_equal(jscontact_card_validate(c, &paths, NULL), 1);
    assert_string_equal(json_string_value(json_array_get(paths, 0)), "uid");
    json_decref(paths);
    /* JSContact 2.0 (RFC 9982): uid is optional */
    json_object_set_new(c, "version", json_string("2.0"));
    assert_int_equal(jscontact_card_validate(c, NULL, NULL), 0);
    json_object_set_new(c, "version", json_string("1.1"));
    assert_int_equal(jscontact_card_validate(c, NULL, NULL), 2); /* version, uid */
    json_object_set_new(c, "@type", json_string("card"));
    json_object_set_new(c, "version", json_string("2.0"));
    assert_int_equal(jscontact_card_validate(c, &paths, NULL), 1);
    assert_string_equal(json_string_value(json_array_get(paths, 0)), "@type");
    json_decref(paths);
    json_decref(c);
    json_t *arr = json_array();
    assert_int_equal(jscontact_card_validate(arr, NULL, NULL), 1);
    json_decref(arr);
}

static void test_types_and_formats(void **state)
{
    EXPECT("\"emails\":{\"e1\":{\"address\":5}}", "emails/e1/address");
    EXPECT("\"emails\":{\"e1\":{}}", "emails/e1/address");
    EXPECT("\"emails\":{\"e 1\":{\"address\":\"x\"}}", "emails/e 1");
    EXPECT("\"emails\":[]", "emails");
    EXPECT("\"phones\":{\"p\":{\"number\":\"1\",\"pref\":0}}", "phones/p/pref");
    EXPECT("\"phones\":{\"p\":{\"number\":\"1\",\"pref\":101}}", "phones/p/pref");
    EXPECT("\"phones\":{\"p\":{\"number\":\"1\",\"features\":{\"fax\":false}}}",
           "phones/p/features/fax");
    EXPECT("\"created\":\"2010-10-10T10:10:10.000Z\"", "created"); /* §1.4.5 */
    EXPECT("\"updated\":\"2010-10-10T10:10:10+01:00\"", "updated");
    EXPECT("\"prodId\":\"\"", "prodId");
    EXPECT("\"language\":\"not a tag\"", "language");
    EXPECT("\"addresses\":{\"a\":{\"coordinates\":\"47,11\"}}", "addresses/a/coordinates");
    EXPECT("\"keywords\":{\"x\":false}", "keywords/x");
    EXPECT("\"media\":{\"m\":{\"uri\":\"https://x\"}}", "media/m/kind");
    EXPECT("\"media\":{\"m\":{\"kind\":\"photo\"}}", "media/m/uri");
    EXPECT("\"titles\":{\"t\":{\"name\":\"x\",\"organizationId\":\"o1\"}}",
           "titles/t/organizationId");
    EXPECT("\"vCardProps\":[[\"x-foo\",{}]]", "vCardProps/0");
    EXPECT("\"emails\":{\"e\":{\"address\":\"a\",\"vCardParams\":{\"x\":1}}}",
           "emails/e/vCardParams/x");
}

static void test_enums_and_case(void **state)
{
    EXPECT("\"kind\":\"Individual\"", "kind"); /* §1.7.1 */
    EXPECT("\"kind\":\"robot\"", "kind");      /* neither registered nor vendor */
    EXPECT("\"Emails\":{}", "Emails");         /* §1.7.1 property name case */
    EXPECT("\"extra\":1", "extra");            /* §1.7.3 reserved */
    EXPECT("\"bad name\":1", "bad name");
    EXPECT("\"name\":{\"components\":[{\"kind\":\"Given\",\"value\":\"x\"}]}",
           "name/components/0/kind");
    EXPECT("\"emails\":{\"e\":{\"@type\":\"Email\",\"address\":\"a\"}}", "emails/e/@type");
    EXPECT("\"speakToAs\":{\"grammaticalGender\":\"male\"}", "speakToAs/grammaticalGender");
    EXPECT("\"personalInfo\":{\"p\":{\"kind\":\"hobby\",\"value\":\"x\",\"level\":\"HIGH\"}}",
           "personalInfo/p/level");
}

static void test_cross_property_rules(void **state)
{
    EXPECT("\"members\":{\"urn:uuid:2\":true}", "members"); /* §2.1.6 needs kind group */
    EXPECT("\"name\":{\"isOrdered\":true}", "name/components");
    EXPECT("\"name\":{\"components\":[{\"kind\":\"separator\",\"value\":\" \"}],"
           "\"isOrdered\":true}",
           "name/components");
    EXPECT("\"name\":{\"components\":[{\"kind\":\"given\",\"value\":\"a\"},"
           "{\"kind\":\"separator\",\"value\":\" \"}]}",
           "name/components/1/kind");
    EXPECT("\"name\":{\"full\":\"a\",\"defaultSeparator\":\" \"}", "name/defaultSeparator");
    EXPECT("\"addresses\":{\"a\":{\"contexts\":{\"work\":true}}}", "addresses/a");
    EXPECT("\"organizations\":{\"o\":{\"units\":[]}}", "organizations/o/units");
    EXPECT("\"anniversaries\":{\"a\":{\"kind\":\"birth\",\"date\":{\"month\":2}}}",
           "anniversaries/a/date/month");
    EXPECT("\"anniversaries\":{\"a\":{\"kind\":\"birth\",\"date\":{\"day\":2}}}",
           "anniversaries/a/date/day");
    EXPECT("\"anniversaries\":{\"a\":{\"kind\":\"birth\",\"date\":{\"year\":1,\"month\":13}}}",
           "anniversaries/a/date/month");
    EXPECT("\"anniversaries\":{\"a\":{\"kind\":\"birth\",\"date\":{\"@type\":\"Timestamp\"}}}",
           "anniversaries/a/date/utc");
    EXPECT("\"localizations\":{\"de\":{\"titles/t1/name\":\"x\"}}", "localizations/de");
    EXPECT("\"localizations\":{\"de\":{\"localizations/fr\":{}}}",
           "localizations/de/localizations~1fr|localizations/de");
}

/* Issue 12 §4.5, RFC 9553 §2.7.1: "Its value MUST be a valid value according to the
 * definition of the patched property": the keys and values a localization patches in
 * follow the rules of the top level ("extra" is reserved there too, §1.7.3). */
static void test_rfc9553_2_7_1_localization_patches_are_validated(void **state)
{
    EXPECT("\"extra\":1", "extra");
    EXPECT("\"localizations\":{\"de\":{\"extra\":1}}", "localizations/de/extra");
    EXPECT("\"name\":{\"full\":\"A\"},\"localizations\":{\"de\":{\"name/extra\":1}}",
           "localizations/de/name~1extra");
    EXPECT("\"localizations\":{\"de\":{\"name\":{\"full\":\"B\",\"extra\":1}}}",
           "localizations/de/name");
    EXPECT("\"emails\":{\"e\":{\"address\":\"a@b\"}},"
           "\"localizations\":{\"de\":{\"emails/e/address\":5}}",
           "localizations/de/emails~1e~1address");
    EXPECT("\"localizations\":{\"de\":{\"Name\":{\"full\":\"B\"}}}", "localizations/de/Name");
    /* valid patches stay valid; a problem of the Card itself is reported once */
    EXPECT("\"name\":{\"full\":\"A\"},\"localizations\":{\"de\":{\"name/full\":\"B\","
           "\"example.com:x\":1}}",
           "");
    EXPECT("\"extra\":1,\"localizations\":{\"de\":{\"kind\":\"org\"}}", "extra");
}

static void test_several_problems(void **state)
{
    EXPECT("\"emails\":{\"e1\":{\"address\":1,\"pref\":\"1\"}},\"kind\":7",
           "emails/e1/address|emails/e1/pref|kind");
}

static void test_normalise(void **state)
{
    json_t *c = json_loads("{\"uid\":\"x\",\"language\":\"DE-at\",\"emails\":{\"e\":{\"@type\":"
                           "\"EmailAddress\",\"address\":\"a\"}},\"anniversaries\":{\"a\":{"
                           "\"kind\":\"birth\",\"date\":{\"@type\":\"Timestamp\",\"utc\":"
                           "\"2000-01-01T00:00:00Z\"}}}}",
                           0, NULL);
    assert_int_equal(jscontact_card_normalise(c), 0);
    assert_string_equal(json_string_value(json_object_get(c, "@type")), "Card");
    /* RFC 9982 §2: new data is 2.0 */
    assert_string_equal(json_string_value(json_object_get(c, "version")), "2.0");
    assert_string_equal(json_string_value(json_object_get(c, "language")), "de-AT");
    assert_null(json_object_get(json_object_get(json_object_get(c, "emails"), "e"), "@type"));
    json_t *d = json_object_get(json_object_get(json_object_get(c, "anniversaries"), "a"), "date");
    assert_string_equal(json_string_value(json_object_get(d, "@type")), "Timestamp");
    assert_int_equal(jscontact_card_validate(c, NULL, NULL), 0);
    json_decref(c);
    assert_int_equal(jscontact_card_normalise(NULL), -1);
}

static void test_patch_and_helpers(void **state)
{
    json_t *root = json_loads("{\"a\":{\"b\":[1,2]},\"c\":1}", 0, NULL);
    json_t *ok = json_loads("{\"a/b/1\":5,\"c\":null,\"a/x~1y\":true}", 0, NULL);
    json_t *r = jscontact_patch_apply(root, ok);
    assert_non_null(r);
    assert_int_equal(
        json_integer_value(json_array_get(json_object_get(json_object_get(r, "a"), "b"), 1)), 5);
    assert_null(json_object_get(r, "c"));
    assert_true(json_is_true(json_object_get(json_object_get(r, "a"), "x/y")));
    json_decref(r);
    static const char *const bad[] = {
        "{\"a/b/2\":5}",       /* no such member (§1.4.3 rule 2) */
        "{\"a/b/-\":5}",       /* "-" (rule 1) */
        "{\"a/b/0\":null}",    /* null at an index (rule 1) */
        "{\"x/y\":1}",         /* missing parent (rule 2) */
        "{\"a\":1,\"a/b\":2}", /* prefix (rule 3) */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *p = json_loads(bad[i], 0, NULL);
        assert_null(jscontact_patch_apply(root, p));
        json_decref(p);
    }
    json_decref(ok);
    json_decref(root);
    assert_true(jid_valid("A-z_09"));
    assert_false(jid_valid(""));
    assert_false(jid_valid("a.b"));
    char *t = jscontact_langtag_canon("ZH-hant-tw-X-PRIVATE");
    assert_string_equal(t, "zh-Hant-TW-x-private");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_cards),
        cmocka_unit_test(test_card_level),
        cmocka_unit_test(test_types_and_formats),
        cmocka_unit_test(test_enums_and_case),
        cmocka_unit_test(test_cross_property_rules),
        cmocka_unit_test(test_several_problems),
        cmocka_unit_test(test_rfc9553_2_7_1_localization_patches_are_validated),
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_patch_and_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
