/*
 * dav_link.c — where a calendar lives in the DAV tree, for the Link relations of
 * the subscription upgrade (draft-ietf-calext-subscription-upgrade-13 §7.3
 * subscribe-caldav-auth, §7.4 subscribe-webdav-sync) that http/ adds to a
 * calendar's /export/ answers: the collection URL a DAV client would use.
 */
#include <stdio.h>
#include <string.h>

#include "dav/dav.h"
#include "dav/dav_internal.h"

bool dav_collection_path(struct store_conn *c, const char *kind, const char *account,
                         const char *id, char *out, size_t size)
{
    if (strcmp(kind, "calendar") != 0)
        return false;
    char seg[256];
    dav_name_of(c, account, dav_calendars.coll_type, id, "", seg);
    struct buf b = {0};
    buf_printf(&b, "/dav/%s/", dav_calendars.home);
    dav_xml_href(&b, account);
    buf_puts(&b, "/");
    dav_xml_href(&b, seg);
    buf_puts(&b, "/");
    bool ok = b.len < size;
    if (ok)
        snprintf(out, size, "%.*s", (int)b.len, b.data);
    buf_free(&b);
    return ok;
}
