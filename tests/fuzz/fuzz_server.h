/* fuzz_server.h — what the store-backed fuzz targets (fuzz_request, fuzz_dav, fuzz_http)
 * set up alike: a server over a fresh store on tmpfs, and users owning provisioned
 * accounts. Static functions: each target includes it once. */
#ifndef JMAPD_FUZZ_SERVER_H
#define JMAPD_FUZZ_SERVER_H

#include <stdio.h>
#include <stdlib.h>

#include "jmap/jmap.h"
#include "push/hub.h"
#include "types/types.h"

/* srv over a new store in dir (a mkdtemp template, filled in) with cfg (defaults set by
 * the caller, who may change them until the first request). Aborts on failure. */
static void fuzz_server_open(struct jmap_server *srv, struct config *cfg, char *dir)
{
    if (!mkdtemp(dir))
        abort();
    char *err = NULL;
    srv->store = store_open(dir, &err);
    if (!srv->store)
        abort();
    srv->hub = push_hub_new();
    srv->cfg = cfg;
    jmap_init(types_registry);
}

/* Adds user name (hash: the stored credential) owning account, provisioned as a new
 * account is (a calendar, an address book, ...); c is in a write transaction. Returns
 * the user's id. */
static int64_t fuzz_user_add(struct jmap_server *srv, struct store_conn *c, const char *name,
                             const char *hash, const char *account)
{
    store_user_add(c, name, hash, account);
    char address[128];
    snprintf(address, sizeof address, "mailto:%s@localhost", name);
    jmap_account_provision(srv, c, &(struct jmap_owner){account, name, address});
    struct store_user u = {0};
    store_user_get(c, name, &u);
    int64_t id = u.id;
    store_user_clear(&u);
    return id;
}

#endif
