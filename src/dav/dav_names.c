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
#include <pthread.h>
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

/* ---- the name hints ---------------------------------------------------------------------
 * (account, type, name) -> id of the last successful lookup, so a calendar-multiget of many
 * hrefs finds each with one lookup (the id's modseq, which it needs anyway) instead of
 * three. A hint is only believed while its object exists: a name is bound to another id
 * only once its object is gone (dav_name_write), and every name this process writes
 * drops all hints. Bounded by NAME_HINTS_MAX entries (then it starts again empty). */
#define NAME_HINTS_MAX 200000

static pthread_mutex_t hint_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *hints;

static void hint_key(char out[512], const char *acct, const char *type, const char *name)
{
    snprintf(out, 512, "%s/%s/%s", acct, type, name);
}

static bool hint_get(const char *key, char id[64])
{
    pthread_mutex_lock(&hint_lock);
    const char *h = json_string_value(json_object_get(hints, key));
    if (h)
        snprintf(id, 64, "%s", h);
    pthread_mutex_unlock(&hint_lock);
    return h != NULL;
}

static void hint_put(const char *key, const char *id)
{
    pthread_mutex_lock(&hint_lock);
    if (!hints || json_object_size(hints) >= NAME_HINTS_MAX) {
        json_decref(hints);
        hints = json_object();
    }
    json_object_set_new(hints, key, json_string(id));
    pthread_mutex_unlock(&hint_lock);
}

void dav_name_hints_clear(void)
{
    pthread_mutex_lock(&hint_lock);
    json_decref(hints);
    hints = NULL;
    pthread_mutex_unlock(&hint_lock);
}

/* The lookup itself, without hints: the id a name row binds (its object existing), else a
 * server-made name {id}{ext} of an object without a chosen name. */
static bool name_read(struct store_conn *c, const char *acct, const char *type, const char *name,
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

bool dav_name_lookup(struct store_conn *c, const char *acct, const char *type, const char *name,
                     const char *ext, char id[64], int64_t *modseq)
{
    char key[512];
    hint_key(key, acct, type, name);
    if (hint_get(key, id)) {
        int64_t m = store_object_modseq(c, acct, type, id);
        if (m >= 0) { /* the hinted object still exists: the name is still its */
            if (modseq)
                *modseq = m;
            return true;
        }
    }
    if (!name_read(c, acct, type, name, ext, id))
        return false;
    hint_put(key, id);
    if (modseq)
        *modseq = store_object_modseq(c, acct, type, id);
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
    dav_name_hints_clear(); /* a name may now name another object */
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
    dav_members_clear(); /* a name that changes with no change of its object */
    store_rollback(c);   /* the caller's read transaction */
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

/* The precommit hook of MOVE's /set (see dav_name_arm_rename): only once the object is in
 * the destination (a refused update leaves the names alone). */
static int rename_precommit(struct store_conn *c, const char *account, const char *type,
                            json_t *created, void *ud)
{
    (void)created;
    struct dav_rename_hook *h = ud;
    if (strcmp(type, h->k->obj_type) != 0)
        return 0;
    json_t *obj = store_object_get(c, account, type, h->id);
    bool moved = obj && dav_is_member(h->k, obj, h->coll_id);
    json_decref(obj);
    if (!moved)
        return 0;
    char t[96];
    private_type(t, "name", type);
    json_t *none = json_object(); /* the old name names nothing now */
    int rc = put_private(c, account, t, h->old, none);
    json_decref(none);
    if (rc == STORE_OK)
        rc = dav_name_write(c, account, type, h->name, h->id);
    h->written = rc == STORE_OK;
    return rc == STORE_OK ? 0 : -1;
}

void dav_name_arm_rename(struct dav_rename_hook *h)
{
    h->written = false;
    jmap_precommit_set(rename_precommit, h);
}

void dav_name_disarm(void)
{
    jmap_precommit_set(NULL, NULL);
}
