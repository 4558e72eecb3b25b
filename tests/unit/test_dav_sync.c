/*
 * test_dav_sync.c — reading an RFC 6578 sync-collection answer (feeds/dav_sync.c),
 * as a subscription that follows a CalDAV/WebDAV-sync collection does
 * (draft-ietf-calext-subscription-upgrade-13 §7.2-§7.4): changed members with their
 * ETags, removed ones (404, §3.5.2), a truncated answer (507 on the collection,
 * §3.6), hrefs of another origin left out, and answers that are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "feeds/dav_sync.h"

#define COLL "http://u:p@127.0.0.1:8080/dav/calendars/a/c/"

static int parse(const char *xml, struct dav_listing *l)
{
    memset(l, 0, sizeof *l);
    return dav_listing_parse(COLL, xml, strlen(xml), l);
}

static void test_rfc6578_section3_5_changed_and_removed_members(void **state)
{
    (void)state;
    struct dav_listing l;
    const char *xml = "<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\">"
                      "<d:response><d:href>/dav/calendars/a/c/one.ics</d:href><d:propstat><d:prop>"
                      "<d:getetag>\"e1\"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status>"
                      "</d:propstat></d:response>"
                      "<d:response><d:href>http://127.0.0.1:8080/dav/calendars/a/c/two.ics</d:href>"
                      "<d:status>HTTP/1.1 404 Not Found</d:status></d:response>"
                      "<d:sync-token>http://x/sync/7</d:sync-token></d:multistatus>";
    assert_int_equal(parse(xml, &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.m[0].href, "/dav/calendars/a/c/one.ics");
    assert_string_equal(l.m[0].etag, "\"e1\"");
    assert_false(l.m[0].gone);
    assert_string_equal(l.m[1].href, "/dav/calendars/a/c/two.ics"); /* one key per member */
    assert_true(l.m[1].gone);
    assert_string_equal(l.token, "http://x/sync/7");
    assert_false(l.truncated);
    dav_listing_clear(&l);
}

static void test_rfc6578_section3_6_truncated_and_foreign_hrefs(void **state)
{
    (void)state;
    struct dav_listing l;
    const char *xml =
        "<multistatus xmlns=\"DAV:\">"
        "<response><href>/dav/calendars/a/c/</href><status>HTTP/1.1 507 Insufficient "
        "Storage</status></response>"
        "<response><href>https://evil.example/x.ics</href><propstat><prop><getetag>\"x\""
        "</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>"
        "<response><href>/dav/calendars/a/c/three.ics</href><propstat><prop/><status>"
        "HTTP/1.1 200 OK</status></propstat></response>"
        "<sync-token>t2</sync-token></multistatus>";
    assert_int_equal(parse(xml, &l), 0);
    assert_true(l.truncated);
    assert_int_equal(l.n, 1); /* the collection itself and another origin: left out */
    assert_string_equal(l.m[0].href, "/dav/calendars/a/c/three.ics");
    assert_null(l.m[0].etag); /* no ETag: fetched every time it is listed */
    dav_listing_clear(&l);
}

static void test_answers_that_are_refused(void **state)
{
    (void)state;
    struct dav_listing l;
    /* no sync-token (RFC 6578 §3.2 MUST), not a multistatus, not XML, a DTD */
    const char *bad[] = {"<multistatus xmlns=\"DAV:\"></multistatus>",
                         "<error xmlns=\"DAV:\"><valid-sync-token/></error>", "BEGIN:VCALENDAR",
                         "<!DOCTYPE x [<!ENTITY a \"b\">]><multistatus xmlns=\"DAV:\">"
                         "<sync-token>&a;</sync-token></multistatus>"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(parse(bad[i], &l), -1);
        assert_non_null(l.error);
        dav_listing_clear(&l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6578_section3_5_changed_and_removed_members),
        cmocka_unit_test(test_rfc6578_section3_6_truncated_and_foreign_hrefs),
        cmocka_unit_test(test_answers_that_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
