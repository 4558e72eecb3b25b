/* fuzz_dav.c — libFuzzer target over the DAV front end's request handling: the
 * XML request parser (dav_xml.c) and what reads its tree (PROPFIND, REPORT,
 * PROPPATCH, MKCALENDAR, extended MKCOL) and the resource bodies of PUT, against a
 * real store (on tmpfs) with one user. The first three bytes choose the method, the
 * resource and the Depth; the rest is the body. Every answer must have a status
 * the server is known to give, and a multistatus or error body must be
 * well-formed XML. */
#include <libxml/parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dav/dav.h"
#include "fuzz_server.h"

static struct config cfg;
static struct jmap_server srv;
static struct jmap_user user;
static char paths[6][300];

static int first_id(const char *id, json_t *obj, void *ud)
{
    (void)obj;
    snprintf(ud, 64, "%s", id);
    return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/dev/shm/jmapd-fuzz-dav-XXXXXX";
    config_defaults(&cfg);
    fuzz_server_open(&srv, &cfg, dir);
    struct store_conn *c = store_conn(srv.store);
    store_begin(c, true);
    int64_t uid = fuzz_user_add(&srv, c, "u", "x", "A1");
    store_commit(c);
    jmap_user_load(c, uid, &user);
    char cal[64] = "", book[64] = "";
    store_begin(c, false);
    store_object_foreach(c, "A1", "Calendar", first_id, cal);
    store_object_foreach(c, "A1", "AddressBook", first_id, book);
    store_rollback(c);
    snprintf(paths[0], sizeof paths[0], "/");
    snprintf(paths[1], sizeof paths[1], "/dav/principals/u/");
    snprintf(paths[2], sizeof paths[2], "/dav/calendars/A1/%s/", cal);
    snprintf(paths[3], sizeof paths[3], "/dav/calendars/A1/%s/e.ics", cal);
    snprintf(paths[4], sizeof paths[4], "/dav/addressbooks/A1/%s/", book);
    snprintf(paths[5], sizeof paths[5], "/dav/addressbooks/A1/%s/c.vcf", book);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"PROPFIND", "REPORT", "PROPPATCH", "MKCALENDAR",
                                          "MKCOL",    "PUT",    "GET",       "DELETE"};
    static const char *const depths[] = {"0", "1", "infinity", NULL};
    if (size < 3)
        return 0;
    const char *method = methods[data[0] % 8];
    char path[320];
    snprintf(path, sizeof path, "%s", paths[data[1] % 6]);
    if (data[0] % 8 == 3 || data[0] % 8 == 4) /* a new collection, not the default one */
        snprintf(path, sizeof path, "/dav/%s/A1/new%u/", data[1] & 1 ? "calendars" : "addressbooks",
                 data[2]);
    struct dav_request q = {.method = method,
                            .path = path,
                            .depth = depths[data[2] % 4],
                            .body = (const char *)data + 3,
                            .len = size - 3};
    struct dav_response out;
    dav_handle(&srv, &user, &q, &out);
    /* 507: a sync-collection past its DAV:limit (RFC 6578 §3.7) */
    static const int known[] = {200, 201, 204, 207, 400, 403, 404, 405, 409, 412, 413, 500, 507};
    bool ok = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        ok |= out.status == known[i];
    if (ok && out.body && out.content_type && strstr(out.content_type, "xml")) {
        xmlDoc *d = xmlReadMemory(out.body, (int)out.len, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        ok = d != NULL;
        xmlFreeDoc(d);
    }
    if (!ok) {
        fprintf(stderr, "bad answer to %s %s: %d %.2000s\n", method, path, out.status,
                out.body ? out.body : "");
        abort();
    }
    free(out.body);
    return 0;
}
