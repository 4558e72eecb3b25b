/*
 * test_dav_xml.c — the DAV front end's XML and naming helpers (dav_xml.c,
 * dav_names.c): request bodies without DTDs or entities and with bounded nesting
 * (RFC 4918 §20.6), namespace-aware element matching, escaping of text and hrefs
 * in responses, and which resource names are acceptable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "dav/dav_internal.h"

static xmlDoc *parse(const char *s, const char **why)
{
    *why = NULL;
    return dav_xml_parse(s, strlen(s), why);
}

static void test_parse_propfind(void **state)
{
    (void)state;
    const char *why;
    xmlDoc *d = parse("<?xml version=\"1.0\"?><A:propfind xmlns:A=\"DAV:\"><A:prop>"
                      "<A:getetag/><x xmlns=\"urn:other\"/></A:prop></A:propfind>",
                      &why);
    assert_non_null(d);
    xmlNode *root = xmlDocGetRootElement(d);
    /* RFC 4918 §8.3: elements are matched by namespace and name, not by prefix */
    assert_true(dav_xml_is(root, NS_DAV, "propfind"));
    xmlNode *prop = dav_xml_child(root, NS_DAV, "prop");
    assert_non_null(prop);
    xmlNode *first = dav_xml_child(prop, NULL, NULL);
    assert_true(dav_xml_is(first, NS_DAV, "getetag"));
    xmlNode *second = dav_xml_next(first);
    assert_true(dav_xml_is(second, "urn:other", "x"));
    assert_false(dav_xml_is(second, NS_DAV, "x"));
    assert_null(dav_xml_next(second));
    xmlFreeDoc(d);
}

static void test_parse_refuses_dtd_and_entities(void **state)
{
    (void)state;
    const char *why;
    assert_null(parse("<!DOCTYPE l [<!ENTITY a \"aaaa\">]><l>&a;</l>", &why));
    assert_non_null(why);
    assert_null(
        parse("<?xml version=\"1.0\"?><!DOCTYPE x SYSTEM \"file:///etc/passwd\"><x/>", &why));
    /* an undeclared entity reference is not well-formed */
    assert_null(parse("<x xmlns=\"DAV:\">&xxe;</x>", &why));
}

static void test_parse_bounds(void **state)
{
    (void)state;
    const char *why;
    assert_null(parse("", &why));
    assert_null(parse("<a><b></a>", &why));
    char deep[2000] = "";
    for (int i = 0; i < DAV_XML_MAX_DEPTH + 1; i++)
        strcat(deep, "<a>");
    for (int i = 0; i < DAV_XML_MAX_DEPTH + 1; i++)
        strcat(deep, "</a>");
    assert_null(parse(deep, &why));
    assert_string_equal(why, "the XML body is nested too deeply");
    deep[0] = 0;
    for (int i = 0; i < DAV_XML_MAX_DEPTH; i++)
        strcat(deep, "<a>");
    for (int i = 0; i < DAV_XML_MAX_DEPTH; i++)
        strcat(deep, "</a>");
    xmlDoc *d = parse(deep, &why);
    assert_non_null(d);
    xmlFreeDoc(d);
}

static void test_text_and_href_escaping(void **state)
{
    (void)state;
    struct buf b = {0};
    dav_xml_text(&b, "a<b>&\"c\"\x01\td");
    buf_append(&b, "", 1);
    /* XML 1.0 §2.2: a C0 control other than tab/newline becomes U+FFFD */
    assert_string_equal(b.data, "a&lt;b&gt;&amp;&quot;c&quot;\xef\xbf\xbd\td");
    buf_free(&b);
    dav_xml_href(&b, "/dav/calendars/a1/my event&<x>.ics");
    buf_append(&b, "", 1);
    assert_string_equal(b.data, "/dav/calendars/a1/my%20event%26%3Cx%3E.ics");
    buf_free(&b);
    dav_xml_href(&b, "/x/caf\xc3\xa9@home.ics");
    buf_append(&b, "", 1);
    assert_string_equal(b.data, "/x/caf%C3%A9@home.ics");
    buf_free(&b);
}

static void test_names(void **state)
{
    (void)state;
    assert_true(dav_name_ok("event.ics"));
    assert_true(dav_name_ok("uid@example.com.ics"));
    assert_false(dav_name_ok(""));
    assert_false(dav_name_ok(".."));
    assert_false(dav_name_ok("."));
    assert_false(dav_name_ok(".hidden"));
    assert_false(dav_name_ok("a/b.ics"));
    assert_false(dav_name_ok("a\\b.ics"));
    assert_false(dav_name_ok("a\nb.ics"));
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_false(dav_name_ok(longname));
}

static void test_paths(void **state)
{
    (void)state;
    assert_true(dav_path("/dav/", "GET"));
    assert_true(dav_path("/dav", "PROPFIND"));
    assert_true(dav_path("/", "PROPFIND"));
    assert_false(dav_path("/", "GET"));
    assert_false(dav_path("/davx", "PROPFIND"));
    assert_false(dav_path("/jmap/api", "PROPFIND"));
    assert_string_equal(dav_well_known("/.well-known/caldav"), "/dav/");
    assert_string_equal(dav_well_known("/.well-known/carddav/"), "/dav/");
    assert_null(dav_well_known("/.well-known/jmap"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_propfind),
        cmocka_unit_test(test_parse_refuses_dtd_and_entities),
        cmocka_unit_test(test_parse_bounds),
        cmocka_unit_test(test_text_and_href_escaping),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
