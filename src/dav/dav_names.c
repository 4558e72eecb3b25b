/*
 * dav_names.c — resource names. A DAV client chooses the name of a resource it
 * creates (PUT /.../{name}.ics, MKCALENDAR /.../{name}/) and expects it to stay
 * (RFC 4918 §5.2; RFC 4791 §5.3.2 lets it differ from the UID). JMAP ids are
 * chosen by the server, so the chosen names are kept beside the objects, in the
 * store's object table under two private types per JMAP type: "dav:name:T"
 * (name -> id) and "dav:href:T" (id -> name). They are no JMAP types: no state,
 * no push. Objects created over JMAP are named by their id. A name whose object
 * is gone is stale and is simply reused.
 */
#include <stdio.h>
#include <string.h>

#include "dav/dav_internal.h"
#include "jmap/engine.h"

bool dav_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 200 || name[0] == '.')
        return false; /* ".", "..", hidden names */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
            return false;
    return true;
}

static void private_type(char out[96], const char *kind, const char *type)
{
    snprintf(out, 96, "dav:%s:%s", kind, type);
}

void dav_name_of(struct store_conn *c, const char *acct, const char *type, const char *id,
                 const char *ext, char out[256])
{
    char t[96];
    private_type(t, "href", type);
    json_t *m = store_object_get(c, acct, t, id);
    const char *name = json_string_value(json_object_get(m, "name"));
    if (name)
        snprintf(out, 256, "%s", name);
    else
        snprintf(out, 256, "%s%s", id, ext);
    json_decref(m);
}

bool dav_name_lookup(struct store_conn *c, const char *acct, const char *type, const char *name,
                     const char *ext, char id[64])
{
    char t[96];
    private_type(t, "name", type);
    json_t *m = store_object_get(c, acct, t, name);
    const char *mid = json_string_value(json_object_get(m, "id"));
    if (mid && strlen(mid) < 64 && store_object_exists(c, acct, type, mid)) {
        snprintf(id, 64, "%s", mid);
        json_decref(m);
        return true;
    }
    json_decref(m);
    /* a server-named object: {id}{ext}, unless the object has a chosen name */
    size_t n = strlen(name), e = strlen(ext);
    if (n <= e || n - e >= 64 || strcmp(name + n - e, ext) != 0)
        return false;
    char cand[64];
    snprintf(cand, sizeof cand, "%.*s", (int)(n - e), name);
    if (!util_is_jmap_id(cand) || !store_object_exists(c, acct, type, cand))
        return false;
    char real[256];
    dav_name_of(c, acct, type, cand, ext, real);
    if (strcmp(real, name) != 0)
        return false;
    snprintf(id, 64, "%s", cand);
    return true;
}

static int put_private(struct store_conn *c, const char *acct, const char *t, const char *key,
                       json_t *v)
{
    /* the private rows are never destroyed: a name is inserted once, then updated */
    bool exists = store_object_exists(c, acct, t, key);
    return store_object_put(c, acct, t, key, v, 1, !exists, NULL);
}

int dav_name_write(struct store_conn *c, const char *acct, const char *type, const char *name,
                   const char *id)
{
    char tn[96], th[96];
    private_type(tn, "name", type);
    private_type(th, "href", type);
    json_t *to_id = json_pack("{s:s}", "id", id), *to_name = json_pack("{s:s}", "name", name);
    int rc = put_private(c, acct, tn, name, to_id);
    if (rc == STORE_OK)
        rc = put_private(c, acct, th, id, to_name);
    json_decref(to_id);
    json_decref(to_name);
    return rc;
}

int dav_name_remember(struct store_conn *c, const char *acct, const char *type, const char *name,
                      const char *id)
{
    store_rollback(c); /* the caller's read transaction */
    if (store_begin(c, true) != STORE_OK)
        return STORE_ERR;
    int rc = dav_name_write(c, acct, type, name, id);
    if (rc == STORE_OK)
        rc = store_commit(c);
    else
        store_rollback(c);
    store_begin(c, false);
    return rc;
}

/* The precommit hook of the /set that creates "dav" (see dav_name_arm). */
static int name_precommit(struct store_conn *c, const char *account, const char *type,
                          json_t *created, void *ud)
{
    struct dav_name_hook *h = ud;
    const char *id = json_string_value(json_object_get(json_object_get(created, "dav"), "id"));
    if (strcmp(type, h->type) != 0 || !id)
        return 0;
    int rc = dav_name_write(c, account, type, h->name, id);
    h->written = rc == STORE_OK;
    return rc == STORE_OK ? 0 : -1;
}

void dav_name_arm(struct dav_name_hook *h, const char *type, const char *name)
{
    h->type = type;
    h->name = name;
    h->written = false;
    jmap_precommit_set(name_precommit, h);
}

void dav_name_disarm(void)
{
    jmap_precommit_set(NULL, NULL);
}
