/* test_fetch_link.c — the Link header as the subscription upgrade reads it
 * (draft-ietf-calext-subscription-upgrade-13 §2, §7): RFC 8288 §3 link-values with
 * rel lists, quoted and bare, several links in one field, and targets resolved
 * against the feed's URL (§3.2); only http(s) targets are taken (issue 17 §5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "feeds/fetch.h"

static void expect(const char *link, const char *rel, const char *base, const char *want)
{
    char *got = fetch_link_target(link, rel, base);
    if (want)
        assert_string_equal(got ? got : "(null)", want);
    else
        assert_null(got);
    free(got);
}

/* §2's example, and the same target named relatively */
static void test_section2_example_and_relative_targets(void **state)
{
    (void)state;
    const char *base = "https://example.com/caldata/events.ics";
    expect("<https://example.com/subscribe/events.ics>; rel=\"subscribe-enhanced-get\"",
           "subscribe-enhanced-get", base, "https://example.com/subscribe/events.ics");
    expect("</subscribe/events.ics>; rel=subscribe-enhanced-get", "subscribe-enhanced-get", base,
           "https://example.com/subscribe/events.ics");
    expect("<sync.ics>;rel=\"subscribe-enhanced-get\"", "subscribe-enhanced-get", base,
           "https://example.com/caldata/sync.ics");
}

/* RFC 8288 §3.3: rel may hold several types; several link-values in one field */
static void test_rel_lists_and_several_links(void **state)
{
    (void)state;
    const char *base = "https://example.com/a.ics";
    const char *field = "<https://example.com/dav/cal/>; rel=\"subscribe-caldav-auth "
                        "subscribe-webdav-sync\", <https://example.com/e.ics>; "
                        "title=\"x, y\"; rel=\"subscribe-enhanced-get\"";
    expect(field, "subscribe-webdav-sync", base, "https://example.com/dav/cal/");
    expect(field, "subscribe-caldav-auth", base, "https://example.com/dav/cal/");
    expect(field, "subscribe-enhanced-get", base, "https://example.com/e.ics");
    expect(field, "subscribe-caldav", base, NULL); /* a prefix is not the type */
    expect("<https://example.com/x>; rel=\"alternate\"", "subscribe-enhanced-get", base, NULL);
    expect(NULL, "subscribe-enhanced-get", base, NULL);
    expect("<https://example.com/x", "subscribe-enhanced-get", base, NULL); /* no '>' */
}

/* issue 17 §5: only http and https are ever fetched */
static void test_only_http_targets(void **state)
{
    (void)state;
    expect("<file:///etc/passwd>; rel=subscribe-enhanced-get", "subscribe-enhanced-get",
           "https://example.com/a.ics", NULL);
    expect("<ftp://example.com/a.ics>; rel=subscribe-enhanced-get", "subscribe-enhanced-get",
           "https://example.com/a.ics", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_section2_example_and_relative_targets),
        cmocka_unit_test(test_rel_lists_and_several_links),
        cmocka_unit_test(test_only_http_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
