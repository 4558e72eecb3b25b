/*
 * engine.c — the standard methods /get, /set and /changes (RFC 8620 §5.1–5.3),
 * written once and driven by a type descriptor (struct jtype). /query,
 * /queryChanges are in query.c and /copy in copy.c; the create path is shared
 * with /copy through jset_create(). Every writing call is one transaction; each
 * object change takes its own modseq so /changes can stop between any two.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/json/patch.h"
#include "jmap/engine_internal.h"
#include "jmap/metadata.h"
#include "util/util.h"

/* ---- descriptors --------------------------------------------------------------- */

const struct jprop *jtype_prop(const struct jtype *t, const char *name)
{
    for (const struct jprop *p = t->props; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

void jtype_fill_defaults(const struct jtype *t, json_t *obj)
{
    for (const struct jprop *p = t->props; p->name; p++) {
        if (!p->dflt || json_object_get(obj, p->name))
            continue;
        json_error_t e;
        json_object_set_new(obj, p->name, json_loads(p->dflt, JSON_DECODE_ANY, &e));
    }
}

static char *method_name(const struct jtype *t, const char *suffix)
{
    char *name = NULL;
    name = xasprintf("%s/%s", t->name, suffix);
    return name;
}

void engine_respond(struct jmap_req *r, const struct jtype *t, const char *suffix, json_t *args)
{
    char *name = method_name(t, suffix);
    jmap_respond(r, name, args);
    free(name);
}

json_t *jmap_or_null(json_t *v)
{
    if (json_is_object(v) && json_object_size(v) == 0) {
        json_decref(v);
        return json_null();
    }
    if (json_is_array(v) && json_array_size(v) == 0) {
        json_decref(v);
        return json_null();
    }
    return v;
}

/* ---- the request ------------------------------------------------------------------------ */

struct store_conn *jmap_req_conn(struct jmap_req *r)
{
    return r->conn;
}

const struct store_access *jmap_req_access(struct jmap_req *r, const char *account)
{
    const struct jmap_user *u = r->user;
    for (int i = 0; u && i < u->naccounts; i++)
        if (strcmp(u->accounts[i].account_id, account) == 0)
            return &u->accounts[i];
    return NULL;
}

/* ---- a call the database refused, run again ---------------------------------------------- */

/* Issue 15 §1: every write transaction at the isolation store.h requires, with
 * serialization failures retried transparently. A call whose transaction the database
 * refused for another's sake (store_retryable: a serialization failure, a deadlock) is
 * run again from its start as store_retry_again says (at most STORE_RETRIES times,
 * after a short random pause). The refused attempt's transaction was rolled back, so
 * it changed nothing (RFC 8620 §5.3: a /set that fails as a whole changes nothing):
 * its responses, the creation ids it gave and the changes it noted for push are
 * dropped with it. After the last retry the call answers as the refused attempt did
 * (serverFail). */
void jmap_call_run(struct jmap_req *r, void (*run)(struct jmap_req *r, void *ud), void *ud)
{
    size_t from = json_array_size(r->responses);
    /* the request's creation ids so far (none, mostly: nothing to copy) */
    json_t *ids = json_object_size(r->created_ids) ? json_copy(r->created_ids) : NULL;
    for (int attempt = 0;; attempt++) {
        store_retry_mark(r->conn);
        run(r, ud);
        if (!store_retry_again(r->conn, attempt, r->method))
            break;
        while (json_array_size(r->responses) > from)
            json_array_remove(r->responses, from);
        json_object_clear(r->created_ids);
        if (ids)
            json_object_update(r->created_ids, ids);
        json_object_clear(r->changed); /* empty at a call's start: published after each */
    }
    json_decref(ids);
}

/* ---- a front end's hook before a /set commits ------------------------------------------ */

static __thread jmap_precommit_fn precommit_fn;
static __thread void *precommit_ud;

void jmap_precommit_set(jmap_precommit_fn fn, void *ud)
{
    precommit_fn = fn;
    precommit_ud = ud;
}

/* ---- the method prologue -------------------------------------------------------------- */

int jmap_txn_begin(struct jmap_req *r, bool write)
{
    if (store_begin(r->conn, write) == STORE_OK)
        return 0;
    jmap_error(r, "serverFail", "database busy");
    return -1;
}

const struct store_access *jmap_method_begin(struct jmap_req *r, json_t *args,
                                             const struct argspec *a, const struct argspec *b,
                                             const char *account_key, unsigned flags)
{
    bool write = flags & JMAP_BEGIN_WRITE;
    if (a && jmap_args_check(r, args, a, b))
        return NULL;
    const struct store_access *acct = jmap_account(r, args, account_key, write);
    if (!acct || (!(flags & JMAP_BEGIN_NO_TXN) && jmap_txn_begin(r, write)))
        return NULL;
    return acct;
}

const struct store_access *jmap_copy_accounts(struct jmap_req *r, json_t *args,
                                              const struct store_access **from)
{
    *from = jmap_account(r, args, "fromAccountId", false);
    return *from ? jmap_account(r, args, "accountId", true) : NULL;
}

/* ---- the object write ------------------------------------------------------------------- */

/* Replaces the blob references of (type, id) with the blobs obj names. */
static int write_blob_refs(struct store_conn *c, const struct jtype *t, const char *account,
                           const char *id, json_t *obj)
{
    if (store_blob_unref_object(c, account, t->name, id))
        return -1;
    if (!obj || !t->blob_ids)
        return 0;
    json_t *ids = json_array();
    t->blob_ids(obj, ids);
    int rc = 0;
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        if (!rc)
            rc = store_blob_ref(c, account, json_string_value(v), t->name, id);
    }
    json_decref(ids);
    return rc ? -1 : 0;
}

int jmap_object_write(struct store_conn *c, struct jmap_req *r, const struct jtype *t,
                      const char *account, const char *id, json_t *obj, bool create)
{
    assert(c && t && account && id);
    assert(store_in_write(c)); /* store.h: every change inside a write transaction */
    assert(obj || !create); /* a create stores an object */
    /* a write a type's index hook makes (e.g. the birthdays calendar following a
     * ContactCard, issue 17 §4) is pushed with the request that caused it */
    static __thread struct jmap_req *outer;
    if (!r && t->capability) /* a JMAP type: private ones (no capability) are not pushed */
        r = outer;
    int64_t m = store_state_bump(c, account, t->name);
    if (m < 0)
        return -1;
    assert(m > 0);
    if (r)
        jmap_note_change(r, account, t->name, m);
    char *key = obj && t->unique_key ? t->unique_key(obj) : NULL;
    int rc = obj ? store_object_put(c, account, t->name, id, obj, m, create, key)
                 : store_object_destroy(c, account, t->name, id, m);
    free(key);
    if (rc == STORE_EXISTS)
        return STORE_EXISTS;
    if (rc || write_blob_refs(c, t, account, id, obj))
        return -1;
    if (!obj && t->metadata && metadata_object_destroyed(c, t, account, id))
        return -1;
    if (!t->index)
        return 0;
    struct jmap_req *saved = outer;
    outer = r;
    rc = t->index(c, account, id, obj);
    outer = saved;
    return rc;
}

/* ---- /get ------------------------------------------------------------------------------ */

static const struct argspec get_args[] = {
    {"accountId", ARG_ID, ARG_REQUIRED},
    {"ids", ARG_ID_ARRAY, ARG_NULLABLE | ARG_REF},
    {"properties", ARG_STRING_ARRAY, ARG_NULLABLE},
    {NULL, 0, 0},
};

/* The object as /get shows it: decorated, limited to the requested properties. obj is
 * freshly loaded and dropped by the caller afterwards, so it is decorated in place. */
json_t *engine_get_view(struct jmap_req *r, const struct jtype *t, const struct store_access *a,
                        json_t *obj, json_t *props, json_t *args)
{
    if (t->view)
        return t->view(r, a, obj, props, args);
    json_t *out = json_incref(obj);
    if (t->decorate)
        t->decorate(r, a, out);
    return engine_select_props(out, props);
}

json_t *engine_select_props(json_t *obj, json_t *props)
{
    if (!props)
        return obj;
    json_t *sel = json_object();
    json_object_set(sel, "id", json_object_get(obj, "id"));
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p)
    {
        json_t *v = json_object_get(obj, json_string_value(p));
        if (v)
            json_object_set(sel, json_string_value(p), v);
    }
    json_decref(obj);
    return sel;
}

struct get_all {
    struct jmap_req *r;
    const struct jtype *t;
    const struct store_access *a;
    json_t *props, *list, *args;
};

static int get_all_cb(const char *id, json_t *obj, void *ud)
{
    struct get_all *g = ud;
    json_t *view = engine_get_view(g->r, g->t, g->a, obj, g->props, g->args);
    if (view)
        json_array_append_new(g->list, view);
    return 0;
}

int jmap_std_get(struct jmap_req *r, const struct jtype *t, json_t *args)
{
    const struct store_access *a =
        jmap_method_begin(r, args, get_args, t->get_args, "accountId", JMAP_BEGIN_NO_TXN);
    if (!a)
        return -1;
    json_t *ids = json_object_get(args, "ids"), *props = json_object_get(args, "properties");
    if (json_is_null(props))
        props = NULL;
    if (json_is_array(ids) && (int64_t)json_array_size(ids) > r->srv->cfg->max_objects_in_get) {
        jmap_error(r, "requestTooLarge", "more than maxObjectsInGet ids");
        return -1;
    }
    size_t i;
    json_t *v;
    if (t->get_prepare && t->get_prepare(r, args))
        return -1;
    /* metadata-02 §3.1: metadata and privateMetadata, whole or by namespace, are the
     * engine's; the type's view gets the other properties */
    struct metadata_sel sel = {0};
    json_t *type_props = NULL;
    bool md = metadata_on(r, t);
    if (md && metadata_props(r, t, props, &type_props, &sel))
        return -1;
    if (md)
        props = type_props;
    json_array_foreach(props, i, v)
    {
        if (!t->open_props && !jtype_prop(t, json_string_value(v))) {
            jmap_error(r, "invalidArguments", "unknown property '%s'", json_string_value(v));
            json_decref(type_props);
            metadata_sel_free(&sel);
            return -1;
        }
    }
    if (jmap_txn_begin(r, false)) {
        json_decref(type_props);
        metadata_sel_free(&sel);
        return -1;
    }
    json_t *list = json_array(), *not_found = json_array();
    /* the state is read with the objects: one round trip on PostgreSQL (issue 15 §1) */
    jmap_type_state_prefetch(r, t, a->account_id);
    if (!json_is_array(ids)) {
        if (store_object_count(r->conn, a->account_id, t->name) > r->srv->cfg->max_objects_in_get) {
            store_rollback(r->conn);
            json_decref(list);
            json_decref(not_found);
            json_decref(type_props);
            metadata_sel_free(&sel);
            jmap_error(r, "requestTooLarge", "more objects than maxObjectsInGet: give ids");
            return -1;
        }
        struct get_all g = {r, t, a, props, list, args};
        store_object_foreach(r->conn, a->account_id, t->name, get_all_cb, &g);
    } else {
        /* one round trip for all of them where the store is a server (issue 15) */
        const char **want = xcalloc(json_array_size(ids) + 1, sizeof *want);
        size_t nwant = 0;
        json_array_foreach(ids, i, v)
        {
            const char *id = jmap_resolve_id(r, json_string_value(v));
            if (id)
                want[nwant++] = id;
        }
        store_object_prefetch(r->conn, a->account_id, t->name, want, nwant);
        free(want);
        json_t *seen = json_object();
        json_array_foreach(ids, i, v)
        {
            const char *id = jmap_resolve_id(r, json_string_value(v));
            const char *key = id ? id : json_string_value(v);
            /* §5.1: each id once, in list or in notFound, even if asked for twice */
            if (json_object_get(seen, key))
                continue;
            json_object_set_new(seen, key, json_true());
            json_t *obj = NULL;
            if (id && t->load) {
                obj = t->load(r, a->account_id, id, props);
            } else if (id) {
                obj = store_object_get(r->conn, a->account_id, t->name, id);
                if (!obj && t->load_synthetic)
                    obj = t->load_synthetic(r, a->account_id, id);
            }
            json_t *view = obj ? engine_get_view(r, t, a, obj, props, args) : NULL;
            json_decref(obj);
            if (!view) {
                json_array_append(not_found, v);
                continue;
            }
            json_array_append_new(list, view);
        }
        json_decref(seen);
    }
    int64_t state = metadata_type_state(r, t, a->account_id);
    if (md)
        metadata_attach(r, t, a->account_id, &sel, list);
    json_decref(type_props);
    metadata_sel_free(&sel);
    store_rollback(r->conn);
    engine_respond(r, t, "get",
                   json_pack("{s:s, s:o, s:o, s:o}", "accountId", a->account_id, "state",
                             jmap_state_string(state), "list", list, "notFound", not_found));
    return 0;
}

/* ---- /changes ------------------------------------------------------------------------------- */

static const struct argspec changes_args[] = {
    {"accountId", ARG_ID, ARG_REQUIRED},
    {"sinceState", ARG_STRING, ARG_REQUIRED},
    {"maxChanges", ARG_UINT, ARG_NULLABLE},
    {NULL, 0, 0},
};

struct changes_acc {
    struct jmap_req *r;
    const struct jtype *t;
    const struct store_access *a; /* filtered by t->visible when reached through shares */
    int64_t since, last;
    json_t *created, *updated, *destroyed;
    size_t n, max;
    bool more;
};

enum sharee_change engine_sharee_change(struct jmap_req *r, const struct jtype *t,
                                        const struct store_access *a, const char *id, bool created,
                                        bool destroyed, int64_t since)
{
    /* a sharee never learns of an object they cannot see: one they could see before
     * but no longer can is gone for them; with was_visible, one they never could see
     * is nothing to them, destroyed or not */
    bool hidden = a && (t->was_visible ? destroyed || !t->visible(r, a, id)
                                       : !destroyed && !t->visible(r, a, id));
    if (!hidden)
        return SHAREE_AS_IS;
    return !created && (!t->was_visible || t->was_visible(r, a, id, since)) ? SHAREE_DESTROYED
                                                                            : SHAREE_NOTHING;
}

static int changes_cb(const char *id, int64_t created, int64_t updated, bool destroyed, void *ud)
{
    struct changes_acc *c = ud;
    if (c->n == c->max) {
        c->more = true;
        return 1;
    }
    c->n++;
    c->last = updated;
    switch (engine_sharee_change(c->r, c->t, c->a, id, created > c->since, destroyed, c->since)) {
    case SHAREE_DESTROYED:
        json_array_append_new(c->destroyed, json_string(id));
        return 0;
    case SHAREE_NOTHING:
        return 0;
    case SHAREE_AS_IS:
        break;
    }
    if (created > c->since) {
        if (!destroyed) /* created and destroyed since: the client never saw it */
            json_array_append_new(c->created, json_string(id));
    } else if (destroyed) {
        json_array_append_new(c->destroyed, json_string(id));
    } else {
        json_array_append_new(c->updated, json_string(id));
    }
    return 0;
}

int64_t engine_since(struct jmap_req *r, const char *account, const struct jtype *t,
                     const char *since, int64_t *current)
{
    int64_t s = jmap_state_parse(since);
    *current = metadata_type_state(r, t, account);
    if (s < 0 || s > *current || s < store_state_lowest(r->conn, account, t->name))
        return -1;
    return s;
}

/* engine_changes_begin; scan > 0: the caller's change scan (store_changes from the
 * client's state, at most scan) is announced before the state is read, so on
 * PostgreSQL the two cost one round trip (issue 15 §1, W5). */
static const struct store_access *changes_open(struct jmap_req *r, const struct jtype *t,
                                               json_t *args, const char *since_key, size_t scan,
                                               int64_t *since, int64_t *current)
{
    json_t *maxv = json_object_get(args, "maxChanges");
    if (json_is_integer(maxv) && json_integer_value(maxv) == 0) {
        jmap_error(r, "invalidArguments", "maxChanges must be greater than 0");
        return NULL;
    }
    const struct store_access *a = jmap_method_begin(r, args, NULL, NULL, "accountId", 0);
    if (!a)
        return NULL;
    int64_t given = jmap_state_parse(json_string_value(json_object_get(args, since_key)));
    if (scan && given >= 0)
        store_changes_prefetch(r->conn, a->account_id, t->name, given, scan);
    *since = engine_since(r, a->account_id, t, json_string_value(json_object_get(args, since_key)),
                          current);
    if (*since < 0) {
        store_rollback(r->conn);
        jmap_error(r, "cannotCalculateChanges", "unknown or expired state");
        return NULL;
    }
    return a;
}

const struct store_access *engine_changes_begin(struct jmap_req *r, const struct jtype *t,
                                                json_t *args, const char *since_key, int64_t *since,
                                                int64_t *current)
{
    return changes_open(r, t, args, since_key, 0, since, current);
}

int jmap_std_changes(struct jmap_req *r, const struct jtype *t, json_t *args)
{
    bool md = metadata_on(r, t);
    if (jmap_args_check(r, args, changes_args, md ? metadata_changes_args : NULL))
        return -1;
    json_t *maxv = json_object_get(args, "maxChanges");
    /* The server's own cap when the client gives none keeps responses bounded. */
    size_t max = json_is_integer(maxv) ? (size_t)json_integer_value(maxv) : 5000;
    if (max > 5000)
        max = 5000;
    int64_t since, current;
    /* the scan (one more than max: whether there are more) as both paths below make it */
    const struct store_access *a =
        changes_open(r, t, args, "sinceState", max + 1, &since, &current);
    if (!a)
        return -1;
    struct changes_acc c = {.r = r,
                            .t = t,
                            .a = a->shared && t->visible ? a : NULL,
                            .since = since,
                            .last = since,
                            .created = json_array(),
                            .updated = json_array(),
                            .destroyed = json_array(),
                            .max = max};
    if (t->metadata) { /* metadata-02 §3.3: with the metadata rows' changes */
        json_decref(c.created);
        json_decref(c.updated);
        json_decref(c.destroyed);
        metadata_changes(r, t, a, args, since, current, c.max, md);
        return 0;
    }
    store_changes(r->conn, a->account_id, t->name, since, c.max + 1, changes_cb, &c);
    store_rollback(r->conn);
    int64_t new_state = c.more ? c.last : current;
    engine_respond(r, t, "changes",
                   json_pack("{s:s, s:o, s:o, s:b, s:o, s:o, s:o}", "accountId", a->account_id,
                             "oldState", jmap_state_string(since), "newState",
                             jmap_state_string(new_state), "hasMoreChanges", c.more, "created",
                             c.created, "updated", c.updated, "destroyed", c.destroyed));
    return 0;
}

/* ---- /set ---------------------------------------------------------------------------------- */

struct jmap_req *jset_req(struct jset *s)
{
    return s->r;
}
struct store_conn *jset_conn(struct jset *s)
{
    return s->r->conn;
}
const char *jset_account(struct jset *s)
{
    return s->account;
}
bool jset_prechecked(struct jset *s)
{
    return s->prechecked;
}

const struct store_access *jset_access(struct jset *s)
{
    return jmap_req_access(s->r, s->account);
}
json_t *jset_args(struct jset *s)
{
    return s->args;
}
const struct jtype *jset_type(struct jset *s)
{
    return s->t;
}

void jset_invalid(struct jset *s, json_t *invalid, const char *path, const char *fmt, ...)
{
    size_t i;
    json_t *v;
    bool listed = false;
    json_array_foreach(invalid, i, v)
    {
        listed |= strcmp(json_string_value(v), path) == 0;
    }
    if (!listed)
        json_array_append_new(invalid, json_string(path));
    if (!s || json_object_get(s->reasons, path))
        return;
    char *why = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&why, fmt, ap) >= 0)
        json_object_set_new(s->reasons, path, json_string(why));
    va_end(ap);
    free(why);
}

/* The invalidProperties SetError for an object: its properties, and a description
 * that names each one with its reason. Clears the reasons for the next object. */
json_t *engine_invalid_error(struct jset *s, json_t *invalid)
{
    struct buf b = {0};
    buf_puts(&b, "invalid properties: ");
    size_t i;
    json_t *v;
    json_array_foreach(invalid, i, v)
    {
        const char *why = json_string_value(json_object_get(s->reasons, json_string_value(v)));
        buf_printf(&b, "%s%s: %s", i ? "; " : "", json_string_value(v), why ? why : "invalid value");
    }
    json_object_clear(s->reasons);
    json_t *e = jmap_seterror_props(json_incref(invalid), b.data);
    buf_free(&b);
    return e;
}

void jset_keep_apart(struct jset *s, const char *prop, json_t *value)
{
    if (!s->apart)
        s->apart = json_object();
    json_object_set(s->apart, prop, value);
}

json_t *jset_patch(struct jset *s)
{
    return s->patch;
}

json_t *jset_instance_patch(struct jset *s, const char **id)
{
    if (id)
        *id = s->inst_id;
    return s->inst_patch;
}

const char *jset_resolve(struct jset *s, const char *id)
{
    return jmap_resolve_id(s->r, id);
}

/* Merges the server's changes to id into created[cid] or updated[id]. */
static void report_server_change(struct jset *s, const char *id, json_t *changes)
{
    const char *cid = json_string_value(json_object_get(s->created_cids, id));
    if (cid) {
        json_object_update(json_object_get(s->created, cid), changes);
        return;
    }
    json_t *u = json_object_get(s->updated, id);
    if (json_is_object(u))
        json_object_update(u, changes);
    else
        json_object_set(s->updated, id, changes);
}

/* Stores obj under id (a create or a replacement) in the /set's account. */
static int put_object(struct jset *s, const struct jtype *t, const char *id, json_t *obj,
                      bool create)
{
    return jmap_object_write(s->r->conn, s->r, t, s->account, id, obj, create);
}

int jset_write_other(struct jset *s, const struct jtype *t, const char *id, json_t *obj,
                     json_t *server_changes)
{
    if (put_object(s, t, id, obj, false))
        return -1;
    if (t == s->t && server_changes)
        report_server_change(s, id, server_changes);
    return 0;
}

int jset_destroy_other(struct jset *s, const struct jtype *t, const char *id)
{
    return jmap_object_write(s->r->conn, s->r, t, s->account, id, NULL, false);
}

static size_t max_size(const struct jtype *t)
{
    return t->max_size ? t->max_size : 1 << 20;
}

/* Serialized size, for tooLarge. */
static size_t json_size(json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    size_t n = text ? strlen(text) : 0;
    free(text);
    return n;
}

/* The part of a create that needs no write lock: the §5.3 property rules, nulls,
 * defaults, required properties, then the type's precheck. Returns the complete
 * object (new), or NULL with *err set to the SetError. */
static json_t *create_prepare(struct jset *s, const char *cid, json_t *given, json_t **err_out)
{
    assert(json_is_object(given));
    const struct jtype *t = s->t;
    json_t *invalid = json_array();
    const char *key;
    json_t *v;
    void *tmp;
    json_object_clear(s->reasons);
    /* metadata-02 §3.2: metadata and privateMetadata are the engine's, kept apart */
    json_t *own = NULL, *md = NULL;
    if (metadata_on(s->r, t)) {
        given = own = json_deep_copy(given);
        metadata_create_take(s, given, invalid, &md);
    }
    json_object_foreach(given, key, v)
    {
        const struct jprop *p = jtype_prop(t, key);
        /* §5.3: the client MUST omit server-set properties */
        if (!p && !t->open_props)
            jset_invalid(s, invalid, key, "not a property of %s", t->name);
        else if (p && (p->flags & JP_SERVER_SET))
            jset_invalid(s, invalid, key, "server-set, the client must omit it (RFC 8620 §5.3)");
    }
    json_t *obj = json_deep_copy(given);
    /* a top-level null on create is the same as omitting the property (and so
     * gets the default) */
    json_object_foreach_safe(obj, tmp, key, v)
    {
        if (json_is_null(v))
            json_object_del(obj, key);
    }
    jtype_fill_defaults(t, obj);
    for (const struct jprop *p = t->props; p->name; p++)
        if ((p->flags & JP_REQUIRED) && !json_object_get(given, p->name) &&
            !json_object_get(obj, p->name))
            jset_invalid(s, invalid, p->name, "required on create");
    json_t *err = NULL;
    if (t->precheck && json_array_size(invalid) == 0)
        err = t->precheck(s, obj, invalid);
    if (!err && json_array_size(invalid))
        err = engine_invalid_error(s, invalid);
    json_decref(invalid);
    json_decref(own);
    if (err) {
        json_decref(md);
        json_decref(obj);
        *err_out = err;
        return NULL;
    }
    if (md)
        json_object_set_new(s->md_pending, cid, md);
    return obj;
}

/* The rest of a create, under the write lock: the type's validate hook, the size
 * limit, the store and the §5.3 created answer. Takes obj. */
static json_t *create_store(struct jset *s, const char *cid, json_t *given, json_t *obj,
                            json_t **created_out)
{
    const struct jtype *t = s->t;
    const char *key;
    json_t *v;
    json_t *invalid = json_array();
    json_object_clear(s->reasons);
    json_t *err = NULL;
    /* the id first, so validate knows the object it checks (share notifications) */
    char id[16];
    util_random_id(id, 12, t->id_prefix ? t->id_prefix : 'x');
    json_object_set_new(obj, "id", json_string(id));
    s->prechecked = t->precheck != NULL;
    if (t->validate)
        err = t->validate(s, obj, NULL, invalid);
    s->prechecked = false;
    if (!err && json_array_size(invalid))
        err = engine_invalid_error(s, invalid);
    json_decref(invalid);
    if (!err && json_size(obj) > max_size(t))
        err = jmap_seterror("tooLarge", "the object is larger than %zu octets", max_size(t));
    json_t *md = json_object_get(s->md_pending, cid);
    if (!err && md)
        err = metadata_create_store(s, NULL, md); /* the quota (metadata-02 §5) */
    if (err) {
        json_decref(obj);
        return err;
    }
    int rc = put_object(s, t, id, obj, true);
    if (rc) {
        json_decref(obj);
        return rc == STORE_EXISTS ? jmap_seterror("alreadyExists", "another %s has its key (uid)",
                                                  t->name)
                                  : jmap_seterror("serverFail", "could not store the object");
    }
    if (md && (err = metadata_create_store(s, id, md))) {
        json_decref(obj);
        return err;
    }
    /* §5.3 created: every property the client did not send (server-set ones
     * included, computed ones such as myRights too: the object as /get shows it),
     * and any the server changed */
    const struct store_access *acct = t->decorate ? jset_access(s) : NULL;
    json_t *shown = acct ? json_deep_copy(obj) : json_incref(obj);
    if (acct)
        t->decorate(s->r, acct, shown);
    json_t *created = json_object();
    json_object_foreach(shown, key, v)
    {
        if (!json_equal(json_object_get(given, key), v))
            json_object_set(created, key, v);
    }
    json_decref(shown);
    static const char *const roots[] = {"metadata", "privateMetadata"};
    for (int i = 0; md && i < 2; i++) /* defaults the client did not send */
        if (!json_object_get(given, roots[i]))
            json_object_set_new(created, roots[i], json_object());
    json_object_set_new(s->created_cids, id, json_string(cid));
    json_object_set_new(s->r->created_ids, cid, json_string(id));
    *created_out = created;
    json_decref(obj);
    return NULL;
}

json_t *jset_create(struct jset *s, const char *cid, json_t *given, json_t **created_out)
{
    assert(json_is_object(given) && created_out);
    json_t *err = NULL, *obj = create_prepare(s, cid, given, &err);
    return obj ? create_store(s, cid, given, obj, created_out) : err;
}

/* Top-level property named by a patch key ("a/b/c" -> "a"), unescaped. */
static char *patch_top(const char *key)
{
    const char *slash = strchr(key, '/');
    char *top = jpointer_unescape(key, slash ? (size_t)(slash - key) : strlen(key));
    return top ? top : xstrdup("");
}

static json_t *update_one(struct jset *s, const char *id, json_t *patch, json_t **updated_out);

/* An update (patch) or destroy (NULL) of a synthetic id, as an update of the
 * stored object it belongs to. */
static json_t *update_synthetic(struct jset *s, const char *id, json_t *patch,
                                json_t **updated_out)
{
    char *base = NULL;
    json_t *base_patch = NULL;
    json_t *err = s->t->synthetic_update(s, id, patch, &base, &base_patch);
    if (!err) {
        json_t *ignored = NULL;
        s->inst_patch = patch;
        s->inst_id = id;
        err = update_one(s, base, base_patch, &ignored);
        s->inst_patch = NULL;
        s->inst_id = NULL;
        json_decref(ignored);
        if (updated_out)
            *updated_out = json_null();
    }
    free(base);
    json_decref(base_patch);
    return err;
}

static json_t *update_one(struct jset *s, const char *id, json_t *patch, json_t **updated_out)
{
    const struct jtype *t = s->t;
    json_t *old = store_object_get(s->r->conn, s->account, t->name, id);
    if (!old && t->synthetic_update)
        return update_synthetic(s, id, patch, updated_out);
    if (!old)
        return jmap_seterror("notFound", "no %s %s", t->name, id);
    json_t *obj = json_deep_copy(old);
    char *bad = NULL;
    if (patch_apply(obj, patch, &bad) != 0) {
        json_t *e = jmap_seterror("invalidPatch", "cannot apply '%s'", bad ? bad : "");
        free(bad);
        json_decref(obj);
        json_decref(old);
        return e;
    }
    jtype_fill_defaults(t, obj); /* §5.3: null resets to the default */
    json_object_clear(s->reasons);
    json_t *invalid = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(patch, key, v)
    {
        char *top = patch_top(key);
        const struct jprop *p = jtype_prop(t, top);
        /* §5.3: server-set (and immutable) properties may appear only unchanged */
        bool changed = !json_equal(json_object_get(obj, top), json_object_get(old, top));
        if (!p && !t->open_props)
            jset_invalid(s, invalid, top, "not a property of %s", t->name);
        else if (p && (p->flags & JP_SERVER_SET) && changed)
            jset_invalid(s, invalid, top, "server-set, the client cannot change it (RFC 8620 §5.3)");
        else if (p && (p->flags & JP_IMMUTABLE) && changed)
            jset_invalid(s, invalid, top, "immutable, it cannot change after creation");
        free(top);
    }
    json_t *requested = json_deep_copy(obj);
    json_t *err = NULL;
    s->patch = patch;
    if (t->validate && json_array_size(invalid) == 0)
        err = t->validate(s, obj, old, invalid);
    s->patch = NULL;
    if (!err && json_array_size(invalid))
        err = engine_invalid_error(s, invalid);
    json_decref(invalid);
    if (!err && json_size(obj) > max_size(t))
        err = jmap_seterror("tooLarge", "the object is larger than %zu octets", max_size(t));
    bool apart = json_object_size(s->apart) > 0;
    int rc = !err && (apart || !json_equal(obj, old)) ? put_object(s, t, id, obj, false) : 0;
    if (rc == STORE_EXISTS)
        err = jmap_seterror("alreadyExists", "another %s has its key (uid)", t->name);
    else if (rc)
        err = jmap_seterror("serverFail", "could not store the object");
    if (!err) {
        /* §5.3 updated: what changed other than as the patch asked, or null */
        json_t *server = json_object();
        json_object_foreach(obj, key, v)
        {
            json_t *mine = json_object_get(s->apart, key);
            if (!json_equal(mine ? mine : v, json_object_get(requested, key)))
                json_object_set(server, key, mine ? mine : v);
        }
        *updated_out = jmap_or_null(server);
    }
    json_decref(requested);
    json_decref(obj);
    json_decref(old);
    json_decref(s->apart);
    s->apart = NULL;
    return err;
}

/* An update entry (RFC 8620 §5.3): its metadata part (metadata-02 §3.2) checked
 * first, so the object and its metadata change together or not at all. */
static json_t *update_entry(struct jset *s, const char *id, json_t *patch, json_t **updated_out)
{
    json_t *md = NULL, *rest = NULL;
    if (!metadata_patch_split(s->r, s->t, patch, &md, &rest))
        return update_one(s, id, patch, updated_out);
    json_t *old = store_object_get(s->r->conn, s->account, s->t->name, id), *plan = NULL, *err;
    if (!old && s->t->synthetic_update)
        err = jmap_seterror_props(json_pack("[s]", "metadata"),
                                  "metadata belongs to the stored object, not to an occurrence");
    else if (!old)
        err = jmap_seterror("notFound", "no %s %s", s->t->name, id);
    else
        err = metadata_update_check(s, old, md, &plan);
    if (!err && json_object_size(rest))
        err = update_one(s, id, rest, updated_out);
    else if (!err)
        *updated_out = json_null();
    if (!err)
        err = metadata_update_store(s, id, plan);
    json_decref(old);
    json_decref(plan);
    json_decref(md);
    json_decref(rest);
    return err;
}

static json_t *destroy_one(struct jset *s, const char *id)
{
    const struct jtype *t = s->t;
    json_t *old = store_object_get(s->r->conn, s->account, t->name, id);
    if (!old && t->synthetic_update)
        return update_synthetic(s, id, NULL, NULL);
    if (!old)
        return jmap_seterror("notFound", "no %s %s", t->name, id);
    json_t *err = t->destroy ? t->destroy(s, id, old) : NULL;
    json_decref(old);
    if (err)
        return err;
    if (jset_destroy_other(s, t, id))
        return jmap_seterror("serverFail", "could not destroy the object");
    return NULL;
}

static const struct argspec set_args[] = {
    {"accountId", ARG_ID, ARG_REQUIRED},
    {"ifInState", ARG_STRING, ARG_NULLABLE},
    {"create", ARG_OBJECT, ARG_NULLABLE},
    {"update", ARG_OBJECT, ARG_NULLABLE},
    {"destroy", ARG_ID_ARRAY, ARG_NULLABLE | ARG_REF},
    {NULL, 0, 0},
};

/* The unique keys (and uids) the prepared creates will ask the store about, said at
 * once (store_keys_expect; issue 15 §1 W1: PostgreSQL read every key and uid of the
 * account for a /set of more than one create, a list that grows with the account). */
static void expect_keys(struct jset *s, json_t *ready)
{
    const struct jtype *t = s->t;
    size_t n = json_object_size(ready), i = 0;
    if (!t->unique_key || n < 2)
        return;
    char **keys = xcalloc(n, sizeof *keys);
    const char **uids = xcalloc(n, sizeof *uids);
    const char *cid;
    json_t *obj;
    json_object_foreach(ready, cid, obj)
    {
        keys[i] = t->unique_key(obj);
        uids[i++] = t->uid_indexed ? json_string_value(json_object_get(obj, "uid")) : NULL;
    }
    store_keys_expect(s->r->conn, s->account, t->name, (const char *const *)keys, uids, n);
    for (i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    free(uids);
}

/* Every create of a /set, checked and completed before the write lock (issue 19
 * §4): creation id -> object, the refused ones in s->not_created. A type with a
 * precheck gets a read transaction for it. NULL after emitting serverFail. */
static json_t *prepare_creates(struct jset *s, json_t *create)
{
    bool read = s->t->precheck && json_object_size(create);
    if (read && jmap_txn_begin(s->r, false))
        return NULL;
    json_t *ready = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(create, key, v)
    {
        json_t *err = NULL, *obj = create_prepare(s, key, v, &err);
        if (obj)
            json_object_set_new(ready, key, obj);
        else
            json_object_set_new(s->not_created, key, err);
    }
    if (read)
        store_rollback(s->r->conn);
    return ready;
}

/* The objects the updates and destroys of a /set read first, read at once
 * (store_object_prefetch; issue 15 §1: on PostgreSQL each update waited for its own). */
static void expect_objects(struct jset *s, json_t *update, json_t *destroy)
{
    size_t n = json_object_size(update) + json_array_size(destroy), i = 0, k;
    if (n < 2)
        return;
    const char **ids = xcalloc(n, sizeof *ids);
    const char *key;
    json_t *v;
    json_object_foreach(update, key, v)
    {
        if ((ids[i] = jmap_resolve_id(s->r, key)) != NULL)
            i++;
    }
    json_array_foreach(destroy, k, v)
    {
        if ((ids[i] = jmap_resolve_id(s->r, json_string_value(v))) != NULL)
            i++;
    }
    if (s->t->writes_expect) /* sent ahead of the objects' read: one round trip for both */
        s->t->writes_expect(s->r->conn, s->account, ids, i);
    store_object_prefetch(s->r->conn, s->account, s->t->name, ids, i);
    free(ids);
}

static bool all_objects(json_t *map)
{
    const char *k;
    json_t *v;
    json_object_foreach(map, k, v)
    {
        if (!json_is_object(v))
            return false;
    }
    return true;
}

void jset_init(struct jset *s, struct jmap_req *r, const struct jtype *t, const char *account,
               json_t *args)
{
    *s = (struct jset){.r = r,
                       .t = t,
                       .account = account,
                       .args = args,
                       .created = json_object(),
                       .updated = json_object(),
                       .destroyed = json_array(),
                       .not_created = json_object(),
                       .not_updated = json_object(),
                       .not_destroyed = json_object(),
                       .created_cids = json_object(),
                       .reasons = json_object(),
                       .md_pending = json_object()};
}

void jset_fini(struct jset *s)
{
    json_decref(s->created);
    json_decref(s->updated);
    json_decref(s->destroyed);
    json_decref(s->not_created);
    json_decref(s->not_updated);
    json_decref(s->not_destroyed);
    json_decref(s->created_cids);
    json_decref(s->reasons);
    json_decref(s->md_pending);
}

/* Whether args update only what a sharee keeps for themselves (jtype.own_values_only). */
static bool own_values_only(const struct jtype *t, json_t *args)
{
    json_t *update = json_object_get(args, "update");
    if (!t->own_values_only || json_object_size(json_object_get(args, "create")) ||
        json_array_size(json_object_get(args, "destroy")) || !json_object_size(update))
        return false;
    const char *id;
    json_t *patch;
    json_object_foreach(update, id, patch)
    {
        if (!json_is_object(patch) || !t->own_values_only(patch))
            return false;
    }
    return true;
}

int jmap_std_set(struct jmap_req *r, const struct jtype *t, json_t *args)
{
    if (jmap_args_check(r, args, set_args, t->set_args))
        return -1;
    json_t *create = json_object_get(args, "create"), *update = json_object_get(args, "update"),
           *destroy = json_object_get(args, "destroy");
    if (!all_objects(create) || !all_objects(update)) {
        jmap_error(r, "invalidArguments", "create and update values must be objects");
        return -1;
    }
    size_t total = json_object_size(create) + json_object_size(update) + json_array_size(destroy);
    if ((int64_t)total > r->srv->cfg->max_objects_in_set) {
        jmap_error(r, "requestTooLarge", "more than maxObjectsInSet objects");
        return -1;
    }
    /* metadata-02 §4: writing privateMetadata needs read access only (checked per object);
     * so does a sharee's change of their own values (calendars-27 §4, own_values_only) */
    bool md_only = metadata_set_only(r, t, args), own_only = !md_only && own_values_only(t, args);
    unsigned how = (md_only || own_only ? 0 : JMAP_BEGIN_WRITE) | JMAP_BEGIN_NO_TXN;
    const struct store_access *a = jmap_method_begin(r, args, NULL, NULL, "accountId", how);
    if (!a)
        return -1;
    if (own_only && !a->may_write && !a->shared) { /* a read-only grant of the whole account */
        jmap_error(r, "accountReadOnly", "account %s is read-only", a->account_id);
        return -1;
    }
    struct jset s;
    jset_init(&s, r, t, a->account_id, args);
    json_t *ready = prepare_creates(&s, create);
    if (!ready || jmap_txn_begin(r, true)) {
        json_decref(ready);
        jset_fini(&s);
        return -1;
    }
    int64_t old_state = metadata_type_state(r, t, a->account_id);
    json_t *if_in = json_object_get(args, "ifInState");
    if (json_is_string(if_in) && jmap_state_parse(json_string_value(if_in)) != old_state) {
        store_rollback(r->conn);
        json_decref(ready);
        jset_fini(&s);
        jmap_error(r, "stateMismatch", "the state is not %s", json_string_value(if_in));
        return -1;
    }
    bool ok = json_object_size(s.not_created) == 0;
    expect_keys(&s, ready);

    const char *key;
    json_t *v;
    json_object_foreach(create, key, v)
    {
        json_t *obj = json_object_get(ready, key);
        if (!obj)
            continue; /* refused before the write lock */
        json_t *created = NULL, *err = create_store(&s, key, v, json_incref(obj), &created);
        if (err) {
            json_object_set_new(s.not_created, key, err);
            ok = false;
        } else {
            json_object_set_new(s.created, key, created);
        }
    }
    json_decref(ready);
    /* ids to destroy, resolved, so updates to them can get willDestroy */
    json_t *doomed = json_object();
    size_t i;
    json_array_foreach(destroy, i, v)
    {
        const char *id = jmap_resolve_id(r, json_string_value(v));
        if (id)
            json_object_set_new(doomed, id, json_true());
    }
    expect_objects(&s, update, destroy);
    json_object_foreach(update, key, v)
    {
        const char *id = jmap_resolve_id(r, key);
        json_t *updated = NULL, *err;
        if (!id)
            err = jmap_seterror("notFound", "unknown creation id %s", key);
        else if (json_object_get(doomed, id))
            err = jmap_seterror("willDestroy", "%s is destroyed in the same call", id);
        else
            err = update_entry(&s, id, v, &updated);
        if (err) {
            json_object_set_new(s.not_updated, key, err);
            ok = false;
        } else if (json_is_object(json_object_get(s.updated, id))) {
            json_object_update(json_object_get(s.updated, id), updated); /* hook wrote first */
            json_decref(updated);
        } else {
            json_object_set_new(s.updated, id, updated);
        }
    }
    json_decref(doomed);
    json_array_foreach(destroy, i, v)
    {
        const char *id = jmap_resolve_id(r, json_string_value(v));
        json_t *err = id ? destroy_one(&s, id)
                         : jmap_seterror("notFound", "unknown creation id %s", json_string_value(v));
        if (err) {
            json_object_set_new(s.not_destroyed, json_string_value(v), err);
            ok = false;
        } else {
            json_array_append_new(s.destroyed, json_string(id));
        }
    }
    if (t->finish)
        t->finish(&s, ok);

    int64_t new_state = metadata_type_state(r, t, a->account_id);
    /* modseqs never go back; no state at all (-1) when the database refused a write
     * that travelled without waiting for its answer (PostgreSQL's pipeline, e.g. on
     * a full disk): the transaction is lost and the call fails (issue 15) */
    assert(new_state < 0 || new_state >= old_state);
    if (new_state < 0 ||
        (precommit_fn &&
         precommit_fn(r->conn, a->account_id, t->name, s.created, precommit_ud) != 0) ||
        store_commit(r->conn) != STORE_OK) {
        store_rollback(r->conn);
        json_object_clear(r->changed);
        jset_fini(&s);
        jmap_error(r, "serverFail", "commit failed");
        return -1;
    }
    json_t *resp = json_pack("{s:s, s:o, s:o}", "accountId", a->account_id, "oldState",
                             jmap_state_string(old_state), "newState", jmap_state_string(new_state));
    json_object_set_new(resp, "created", jmap_or_null(json_incref(s.created)));
    json_object_set_new(resp, "updated", jmap_or_null(json_incref(s.updated)));
    json_object_set_new(resp, "destroyed", jmap_or_null(json_incref(s.destroyed)));
    json_object_set_new(resp, "notCreated", jmap_or_null(json_incref(s.not_created)));
    json_object_set_new(resp, "notUpdated", jmap_or_null(json_incref(s.not_updated)));
    json_object_set_new(resp, "notDestroyed", jmap_or_null(json_incref(s.not_destroyed)));
    engine_respond(r, t, "set", resp);
    jset_fini(&s);
    return 0;
}
