/*
 * metadata.c — JMAP Object Metadata (draft-ietf-jmap-metadata-02, issue 18) for
 * every type whose descriptor sets `metadata` (see metadata.h): the capability and
 * its dataTypes (§1.1.1), namespace keys and depth (§2.1), /get subselectors (§3.1),
 * /set creates and PatchObject updates with the draft's validation order and the
 * quota (§3.2, §5), /changes with updatedProperties and ignoreMetadataOnlyChanges
 * (§3.3), the per-viewer state (§2.2) and the /query conditions (§3.5).
 *
 * Storage: rows beside the objects (store.h object metadata), user 0 the shared
 * metadata, a user's id their private metadata, each stamped with a modseq of the
 * type's sequence. A private write takes a modseq too, but only its writer sees
 * it: the state a user sees is the highest modseq visible to them (metadata_state),
 * so the object rows are never copied per user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/json/patch.h"
#include "formats/json/writer.h"
#include "jmap/collation.h"
#include "jmap/metadata.h"
#include "util/util.h"

#define ROOT_SHARED "metadata"
#define ROOT_PRIVATE "privateMetadata"
#define MAX_WALK 1000 /* depth beyond which a value is refused without counting further */

/* ---- the capability (§1.1.1) ------------------------------------------------------------ */

static json_t *registered_names(const struct config *cfg)
{
    json_t *a = json_array();
    char buf[sizeof cfg->metadata_namespaces], *save = NULL;
    snprintf(buf, sizeof buf, "%s", cfg->metadata_namespaces);
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
        json_array_append_new(a, json_string(tok));
    return a;
}

static json_t *session_value(const struct config *cfg)
{
    return json_object();
}

static json_t *account_value(const struct config *cfg, const struct store_access *a)
{
    json_t *types = json_object();
    for (size_t i = 0; i < jmap_type_count(); i++) {
        const struct jtype *t = jmap_type_at(i);
        if (!t->metadata)
            continue;
        json_t *depth =
            cfg->metadata_max_depth ? json_integer(cfg->metadata_max_depth) : json_null();
        json_object_set_new(types, t->name,
                            json_pack("{s:o, s:b, s:b, s:o}", "namespaces", registered_names(cfg),
                                      "supportsVendorNamespaces", 1, "supportsPrivate", 1,
                                      "maxDepth", depth));
    }
    return json_pack("{s:o}", "dataTypes", types);
}

const struct jcapability metadata_capability = {
    .uri = METADATA_CAPABILITY,
    .session_value = session_value,
    .account_value = account_value,
};

bool metadata_on(struct jmap_req *r, const struct jtype *t)
{
    if (!t->metadata)
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(r->using, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), METADATA_CAPABILITY) == 0)
            return true;
    }
    return false;
}

/* ---- namespaces and depth (§2.1) ---------------------------------------------------------------
 */

static bool label_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-';
}

/* 1: a registered name (letters, digits, '-', '_'; no dot), 2: a domain name (at
 * least two dot-separated labels of letters, digits and inner hyphens, each 1-63
 * octets, 253 in all), 0: neither. */
int metadata_ns_kind(const char *ns)
{
    size_t n = strlen(ns);
    if (n == 0)
        return 0;
    if (!strchr(ns, '.')) {
        for (const char *p = ns; *p; p++)
            if (!label_char(*p) && *p != '_')
                return 0;
        return 1;
    }
    if (n > 253)
        return 0;
    const char *label = ns;
    for (const char *p = ns;; p++) {
        if (*p == '.' || *p == 0) {
            size_t len = (size_t)(p - label);
            if (len == 0 || len > 63 || label[0] == '-' || p[-1] == '-')
                return 0;
            if (*p == 0)
                return 2;
            label = p + 1;
        } else if (!label_char(*p)) {
            return 0;
        }
    }
}

/* Whether ns is supported on the type: a registered name the server lists, or any
 * domain name (supportsVendorNamespaces is true for every type here). */
static bool ns_supported(const struct config *cfg, const char *ns)
{
    int kind = metadata_ns_kind(ns);
    if (kind != 1)
        return kind == 2;
    char buf[sizeof cfg->metadata_namespaces], *save = NULL;
    snprintf(buf, sizeof buf, "%s", cfg->metadata_namespaces);
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
        if (strcmp(tok, ns) == 0)
            return true;
    return false;
}

/* §2.1: the depth of v at its position: an object 1 + its deepest object below
 * (through arrays), anything else 1 (0 inside the count); stops past MAX_WALK. */
static size_t depth_below(json_t *v, size_t level)
{
    if (level > MAX_WALK)
        return level;
    size_t best = 0, i;
    const char *k;
    json_t *x;
    if (json_is_object(v)) {
        json_object_foreach(v, k, x)
        {
            size_t d = depth_below(x, level + 1);
            best = d > best ? d : best;
        }
        return 1 + best;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            size_t d = depth_below(x, level + 1);
            best = d > best ? d : best;
        }
        return best;
    }
    return 0;
}

size_t metadata_depth(json_t *v)
{
    size_t d = depth_below(v, 0);
    return d ? d : 1;
}

/* ---- the rows of a /get ------------------------------------------------------------------------
 */

struct rows_acc {
    json_t *map; /* id -> {"s": shared, "p": private} */
};

static int rows_cb(const char *id, int64_t user, const char *data, int64_t modseq, int64_t created,
                   void *ud)
{
    struct rows_acc *acc = ud;
    json_t *e = json_object_get(acc->map, id);
    if (!e) {
        e = json_object();
        json_object_set_new(acc->map, id, e);
    }
    json_t *v = json_loads(data, 0, NULL);
    if (json_is_object(v))
        json_object_set_new(e, user == STORE_METADATA_SHARED ? "s" : "p", v);
    else
        json_decref(v);
    return 0;
}

static int64_t user_of(struct jmap_req *r)
{
    return r->user ? r->user->id : -1; /* -1: nobody's private rows */
}

/* The stored metadata of one object: *shared and *private (new, {} if none). */
static void load_one(struct jmap_req *r, const struct jtype *t, const char *account, const char *id,
                     json_t **shared, json_t **priv)
{
    struct rows_acc acc = {json_object()};
    const char *ids[1] = {id};
    store_metadata_get(r->conn, account, t->name, ids, 1, user_of(r), rows_cb, &acc);
    json_t *e = json_object_get(acc.map, id);
    json_t *s = json_object_get(e, "s"), *p = json_object_get(e, "p");
    *shared = s ? json_incref(s) : json_object();
    *priv = p ? json_incref(p) : json_object();
    json_decref(acc.map);
}

/* ---- /copy (RFC 8620 §5.4) ---------------------------------------------------------------- */

void metadata_copy_into(struct jmap_req *r, const struct jtype *t, const char *account,
                        const char *id, json_t *given)
{
    if (!metadata_on(r, t))
        return;
    json_t *shared, *priv;
    load_one(r, t, account, id, &shared, &priv);
    json_object_set_new(given, ROOT_SHARED, shared);
    json_object_set_new(given, ROOT_PRIVATE, priv);
}

/* ---- /get (§3.1) ----------------------------------------------------------------------------- */

void metadata_sel_free(struct metadata_sel *sel)
{
    json_decref(sel->shared_ns);
    json_decref(sel->private_ns);
    *sel = (struct metadata_sel){0};
}

int metadata_props(struct jmap_req *r, const struct jtype *t, json_t *props, json_t **rest,
                   struct metadata_sel *sel)
{
    *sel = (struct metadata_sel){0};
    *rest = NULL;
    if (!props) {
        sel->shared_all = sel->private_all = true;
        return 0;
    }
    json_t *keep = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(props, i, v)
    {
        const char *p = json_string_value(v);
        bool shared = strncmp(p, ROOT_SHARED, 8) == 0 && (p[8] == 0 || p[8] == '/');
        bool priv = strncmp(p, ROOT_PRIVATE, 15) == 0 && (p[15] == 0 || p[15] == '/');
        if (!shared && !priv) {
            json_array_append(keep, v);
            continue;
        }
        const char *sub = p + (shared ? 8 : 15);
        if (!*sub) {
            *(shared ? &sel->shared_all : &sel->private_all) = true;
            continue;
        }
        sub++;
        /* exactly two segments (§3.1), the namespace a JSON Pointer token */
        char *ns = *sub && !strchr(sub, '/') ? jpointer_unescape(sub, strlen(sub)) : NULL;
        if (!ns) {
            json_decref(keep);
            metadata_sel_free(sel);
            jmap_error(r, "invalidArguments", "'%s': a metadata subselector is <root>/<namespace>",
                       p);
            return -1;
        }
        json_t **set = shared ? &sel->shared_ns : &sel->private_ns;
        if (!*set)
            *set = json_object();
        if (ns_supported(r->srv->cfg, ns)) /* an unsupported one is silently left out */
            json_object_set_new(*set, ns, json_true());
        free(ns);
    }
    *rest = keep;
    return 0;
}

/* The part of stored that sel asks for under one root (all, or the listed
 * namespaces), or NULL when the root is not asked for. */
static json_t *selected(json_t *stored, bool all, json_t *names)
{
    if (all)
        return stored ? json_incref(stored) : json_object();
    if (!names)
        return NULL;
    json_t *out = json_object();
    const char *ns;
    json_t *v;
    json_object_foreach(names, ns, v)
    {
        json_t *x = json_object_get(stored, ns);
        if (x)
            json_object_set(out, ns, x);
    }
    return out;
}

/* Whether data is stored text that can be copied into a response as it is: the
 * server's own compact JSON of an object (write_row), checked at both ends. */
static bool raw_ok(const char *data, size_t n)
{
    return n >= 2 && data[0] == '{' && data[n - 1] == '}';
}

struct attach_acc {
    json_t *views; /* id -> the object's view in the /get list */
    const struct metadata_sel *sel;
    bool raw; /* whole roots may go out as their stored text */
};

/* One stored row into its object's view. A whole root goes into the response as the
 * stored text, unparsed and not written again (issue 18's /get bound: parsing and
 * writing 1 KB per object cost more than the rest of the /get). */
static int attach_cb(const char *id, int64_t user, const char *data, int64_t modseq,
                     int64_t created, void *ud)
{
    (void)modseq, (void)created;
    struct attach_acc *acc = ud;
    json_t *view = json_object_get(acc->views, id);
    bool shared = user == STORE_METADATA_SHARED;
    bool all = shared ? acc->sel->shared_all : acc->sel->private_all;
    json_t *names = shared ? acc->sel->shared_ns : acc->sel->private_ns;
    if (!view || (!all && !names))
        return 0;
    size_t n = strlen(data);
    json_t *out = NULL;
    if (all && acc->raw && raw_ok(data, n)) {
        out = jwriter_raw_new(data, n);
    } else {
        json_t *v = json_loadb(data, n, 0, NULL);
        out = json_is_object(v) ? selected(v, all, names) : NULL;
        json_decref(v);
    }
    if (out) /* in the place of the {} put first, so the member order stays */
        json_object_set_new(view, shared ? ROOT_SHARED : ROOT_PRIVATE, out);
    return 0;
}

void metadata_attach(struct jmap_req *r, const struct jtype *t, const char *account,
                     const struct metadata_sel *sel, json_t *list)
{
    bool want_s = sel->shared_all || sel->shared_ns, want_p = sel->private_all || sel->private_ns;
    if (!want_s && !want_p)
        return;
    size_t n = json_array_size(list), i;
    const char **ids = xcalloc(n + 1, sizeof *ids);
    json_t *v, *views = json_object();
    json_array_foreach(list, i, v)
    {
        if (v->refcount > 1) {
            /* a view shared with a type's cache (jmap.h load): this answer's own copy */
            json_t *own = json_copy(v);
            json_array_set_new(list, i, own);
            v = own;
        }
        ids[i] = json_string_value(json_object_get(v, "id"));
        if (!ids[i])
            ids[i] = "";
        json_object_set(views, ids[i], v);
        /* §2: always present, {} when there is none */
        if (want_s)
            json_object_set_new(v, ROOT_SHARED, json_object());
        if (want_p)
            json_object_set_new(v, ROOT_PRIVATE, json_object());
    }
    /* unparsed stored text, unless a later call's result reference must walk into
     * this response (RFC 8620 §3.7) */
    struct attach_acc acc = {views, sel, !r->referenced};
    /* one look-up for the whole list (one statement; one round trip on PostgreSQL) */
    store_metadata_get(r->conn, account, t->name, ids, n, want_p ? user_of(r) : -1, attach_cb,
                       &acc);
    free(ids);
    json_decref(views);
}

/* ---- state per viewer (§2.2) --------------------------------------------------------------- */

int64_t metadata_type_state(struct jmap_req *r, const struct jtype *t, const char *account)
{
    if (!t->metadata)
        return store_state_get(r->conn, account, t->name);
    /* one statement, as the plain state read it replaces (one round trip) */
    return store_state_viewer(r->conn, account, t->name, user_of(r));
}

int64_t jmap_type_state(struct jmap_req *r, const struct jtype *t, const char *account)
{
    return metadata_type_state(r, t, account);
}

void jmap_type_state_prefetch(struct jmap_req *r, const struct jtype *t, const char *account)
{
    store_state_prefetch(r->conn, account, t->name, t->metadata ? user_of(r) : -1);
}

/* The modseq of a metadata write: shared ones advance everybody's state (and are
 * pushed to everyone), a private one only its writer's (§2.2), so it is pushed to
 * the writer's streams alone: other users' would learn that something changed. */
static int64_t write_modseq(struct jset *s, bool priv)
{
    struct store_conn *c = s->r->conn;
    const char *type = s->t->name;
    if (!priv) {
        int64_t m = store_state_bump(c, s->account, type);
        if (m > 0)
            jmap_note_change(s->r, s->account, type, m);
        return m;
    }
    int64_t before = store_state_get(c, s->account, type), last = 0, shared = 0;
    if (store_metadata_state_get(c, s->account, type, &last, &shared) != STORE_OK)
        return -1;
    int64_t seen = last == before && last ? shared : before;
    int64_t m = store_state_bump(c, s->account, type);
    if (m < 0 || store_metadata_state_put(c, s->account, type, m, seen) != STORE_OK)
        return -1;
    /* pushed to the writer's own streams only (push/hub.h "#user") */
    json_t *mine = json_object_get(s->r->changed, "#user");
    if (!mine) {
        mine = json_array();
        json_object_set_new(s->r->changed, "#user", mine);
    }
    json_array_append_new(mine, json_pack("[I, s, s, o]", (json_int_t)s->r->user->id, s->account,
                                          type, jmap_state_string(m)));
    return m;
}

static int64_t text_len(json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    int64_t n = text ? (int64_t)strlen(text) : 0;
    free(text);
    return n;
}

/* Writes one root's new value (both the row and the usage). 0 or -1. */
static int write_row(struct jset *s, const char *id, bool priv, json_t *value, int64_t delta)
{
    int64_t m = write_modseq(s, priv);
    if (m < 0)
        return -1;
    char *text = json_dumps(value, JSON_COMPACT);
    int rc = text ? store_metadata_put(s->r->conn, s->account, s->t->name, id,
                                       priv ? s->r->user->id : STORE_METADATA_SHARED, text, m)
                  : STORE_ERR;
    free(text);
    if (rc == STORE_OK && delta)
        rc = store_metadata_usage_add(s->r->conn, s->account, delta);
    return rc == STORE_OK ? 0 : -1;
}

/* ---- /set checks (§3.2) ---------------------------------------------------------------------- */

/* Rules 3 and 4 for the namespaces of root that differ between was and now. */
static void check_namespaces(struct jset *s, const char *root, json_t *was, json_t *now,
                             json_t *invalid)
{
    const struct config *cfg = s->r->srv->cfg;
    const char *ns;
    json_t *v;
    json_object_foreach(now, ns, v)
    {
        if (json_equal(v, json_object_get(was, ns)))
            continue; /* untouched, even under a namespace no longer advertised (§2.1.1) */
        char path[600];
        snprintf(path, sizeof path, "%s/%s", root, ns);
        if (!ns_supported(cfg, ns))
            jset_invalid(s, invalid, path,
                         metadata_ns_kind(ns) ? "namespace not supported on %s"
                                              : "not a namespace identifier (§2.1) on %s",
                         s->t->name);
        else if (!json_is_object(v))
            jset_invalid(s, invalid, path, "a namespace value is an object");
        else if (cfg->metadata_max_depth && metadata_depth(v) > (size_t)cfg->metadata_max_depth)
            jset_invalid(s, invalid, path, "deeper than maxDepth %lld",
                         (long long)cfg->metadata_max_depth);
    }
}

/* The quota (§5): overQuota if growing by delta would exceed the account's. */
static json_t *quota_check(struct jset *s, int64_t delta)
{
    int64_t quota = s->r->srv->cfg->metadata_quota;
    if (delta <= 0)
        return NULL;
    int64_t used = store_metadata_usage(s->r->conn, s->account);
    if (used >= 0 && used + delta <= quota)
        return NULL;
    return jmap_seterror("overQuota", "the account's metadata would exceed %lld octets",
                         (long long)quota);
}

void metadata_create_take(struct jset *s, json_t *given, json_t *invalid, json_t **md)
{
    *md = json_object();
    static const char *const roots[] = {ROOT_SHARED, ROOT_PRIVATE};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(given, roots[i]);
        if (!v)
            continue;
        if (!json_is_object(v)) {
            /* §3.2: a complete object on create; null is refused ({} is "none") */
            jset_invalid(s, invalid, roots[i], "must be an object of namespaces");
        } else {
            json_t *none = json_object();
            check_namespaces(s, roots[i], none, v, invalid);
            json_decref(none);
            json_object_set(*md, roots[i], v);
        }
        json_object_del(given, roots[i]);
    }
}

json_t *metadata_create_store(struct jset *s, const char *id, json_t *md)
{
    json_t *sv = json_object_get(md, ROOT_SHARED), *pv = json_object_get(md, ROOT_PRIVATE);
    bool ws = json_object_size(sv) > 0, wp = json_object_size(pv) > 0 && s->r->user;
    int64_t ls = ws ? text_len(sv) : 0, lp = wp ? text_len(pv) : 0;
    if (!id)
        return quota_check(s, ls + lp);
    if ((ws && write_row(s, id, false, sv, ls)) || (wp && write_row(s, id, true, pv, lp)))
        return jmap_seterror("serverFail", "could not store the metadata");
    return NULL;
}

static bool is_root(const char *key, const char *root, size_t n)
{
    return strncmp(key, root, n) == 0 && (key[n] == 0 || key[n] == '/');
}

bool metadata_patch_split(struct jmap_req *r, const struct jtype *t, json_t *patch,
                          json_t **md_patch, json_t **rest)
{
    *md_patch = *rest = NULL;
    if (!metadata_on(r, t))
        return false;
    const char *key;
    json_t *v;
    json_object_foreach(patch, key, v)
    {
        bool md = is_root(key, ROOT_SHARED, 8) || is_root(key, ROOT_PRIVATE, 15);
        json_t **dst = md ? md_patch : rest;
        if (!*dst)
            *dst = json_object();
        json_object_set(*dst, key, v);
    }
    if (!*md_patch) {
        json_decref(*rest);
        *rest = NULL;
        return false;
    }
    if (!*rest)
        *rest = json_object();
    return true;
}

bool metadata_set_only(struct jmap_req *r, const struct jtype *t, json_t *args)
{
    json_t *update = json_object_get(args, "update");
    if (!metadata_on(r, t) || json_object_size(json_object_get(args, "create")) ||
        json_array_size(json_object_get(args, "destroy")) || !json_object_size(update))
        return false;
    const char *id;
    json_t *patch;
    json_object_foreach(update, id, patch)
    {
        json_t *md = NULL, *rest = NULL;
        bool split = metadata_patch_split(r, t, patch, &md, &rest);
        bool only = split && json_object_size(rest) == 0;
        json_decref(md);
        json_decref(rest);
        if (!only)
            return false;
    }
    return true;
}

static json_t *forbidden(const char *what)
{
    return jmap_seterror("forbidden", "%s", what);
}

/* Rule 1 (§3.2, §4): shared metadata needs write access to the object, the user's
 * private metadata read access. An account reached through shares decides per
 * object: read access is the object as the user sees it (none: notFound, as for
 * any property of an object they cannot read), write access the type's may_write
 * hook (a type without one: none for such a user). */
static json_t *access_check(struct jset *s, json_t *old, bool shared, bool priv)
{
    const struct store_access *a = jset_access(s);
    if (!a || (priv && !s->r->user))
        return forbidden("no access to this account");
    if (!(a->shared && !a->is_personal))
        return shared && !a->may_write ? forbidden("writing metadata needs write access") : NULL;
    const char *id = json_string_value(json_object_get(old, "id"));
    json_t *copy = json_deep_copy(old);
    json_t *view = engine_get_view(s->r, s->t, a, copy, NULL, NULL);
    bool readable = view && (!s->t->visible || s->t->visible(s->r, a, id));
    json_decref(view);
    json_decref(copy);
    if (!readable)
        return jmap_seterror("notFound", "no %s %s", s->t->name, id);
    if (shared && !(s->t->may_write && s->t->may_write(s->r, a, old)))
        return forbidden("writing shared metadata needs write access to the object");
    return NULL;
}

/* Applies the keys of md_patch under root to a copy of was: the new value (new) or
 * NULL with *err (invalidPatch / invalidProperties). */
static json_t *apply_root(struct jset *s, const char *root, size_t n, json_t *was, json_t *md_patch,
                          json_t *invalid, json_t **err)
{
    json_t *now = NULL, *sub = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(md_patch, key, v)
    {
        if (!is_root(key, root, n))
            continue;
        if (key[n] == 0) { /* the whole property replaced; null resets it to {} */
            if (!json_is_object(v) && !json_is_null(v)) {
                jset_invalid(s, invalid, root, "must be an object of namespaces");
                json_decref(sub);
                return NULL;
            }
            now = json_is_object(v) ? json_deep_copy(v) : json_object();
        } else {
            json_object_set(sub, key + n + 1, v);
        }
    }
    if (now && json_object_size(sub)) { /* RFC 8620 §5.3: one key a prefix of another */
        *err = jmap_seterror("invalidPatch", "'%s' and a path under it in one patch", root);
        json_decref(now);
        json_decref(sub);
        return NULL;
    }
    if (!now)
        now = json_deep_copy(was);
    char *bad = NULL;
    if (json_object_size(sub) && patch_apply(now, sub, &bad) != 0) {
        *err = jmap_seterror("invalidPatch", "cannot apply '%s/%s'", root, bad ? bad : "");
        json_decref(now);
        now = NULL;
    }
    free(bad);
    json_decref(sub);
    return now;
}

json_t *metadata_update_check(struct jset *s, json_t *old, json_t *md_patch, json_t **plan)
{
    *plan = NULL;
    bool ts = false, tp = false;
    const char *key;
    json_t *v;
    json_object_foreach(md_patch, key, v)
    {
        ts |= is_root(key, ROOT_SHARED, 8);
        tp |= is_root(key, ROOT_PRIVATE, 15);
    }
    json_t *err = access_check(s, old, ts, tp); /* rule 1 */
    if (err)
        return err;
    /* rule 2 never applies: supportsPrivate is true on every type */
    json_t *was_s, *was_p, *invalid = json_array();
    load_one(s->r, s->t, s->account, json_string_value(json_object_get(old, "id")), &was_s, &was_p);
    json_object_clear(s->reasons);
    json_t *now_s = ts ? apply_root(s, ROOT_SHARED, 8, was_s, md_patch, invalid, &err) : NULL;
    json_t *now_p =
        !err && tp ? apply_root(s, ROOT_PRIVATE, 15, was_p, md_patch, invalid, &err) : NULL;
    if (!err && now_s) /* rules 3 and 4 */
        check_namespaces(s, ROOT_SHARED, was_s, now_s, invalid);
    if (!err && now_p)
        check_namespaces(s, ROOT_PRIVATE, was_p, now_p, invalid);
    if (!err && json_array_size(invalid))
        err = engine_invalid_error(s, invalid);
    int64_t ds = now_s && !json_equal(now_s, was_s) ? text_len(now_s) - text_len(was_s) : 0;
    int64_t dp = now_p && !json_equal(now_p, was_p) ? text_len(now_p) - text_len(was_p) : 0;
    if (!err)
        err = quota_check(s, ds + dp);
    if (!err) {
        *plan = json_object();
        if (now_s && !json_equal(now_s, was_s))
            json_object_set_new(*plan, ROOT_SHARED, json_pack("[O, I]", now_s, (json_int_t)ds));
        if (now_p && !json_equal(now_p, was_p))
            json_object_set_new(*plan, ROOT_PRIVATE, json_pack("[O, I]", now_p, (json_int_t)dp));
    }
    json_decref(now_s);
    json_decref(now_p);
    json_decref(was_s);
    json_decref(was_p);
    json_decref(invalid);
    return err;
}

json_t *metadata_update_store(struct jset *s, const char *id, json_t *plan)
{
    static const char *const roots[] = {ROOT_SHARED, ROOT_PRIVATE};
    for (int i = 0; i < 2; i++) {
        json_t *e = json_object_get(plan, roots[i]);
        if (e && write_row(s, id, i == 1, json_array_get(e, 0),
                           json_integer_value(json_array_get(e, 1))))
            return jmap_seterror("serverFail", "could not store the metadata");
    }
    return NULL;
}

int metadata_object_destroyed(struct store_conn *c, const struct jtype *t, const char *account,
                              const char *id)
{
    int64_t freed = 0;
    if (store_metadata_drop(c, account, t->name, id, &freed) != STORE_OK)
        return -1;
    return freed > 0 && store_metadata_usage_add(c, account, -freed) != STORE_OK ? -1 : 0;
}

/* ---- /changes (§3.3) --------------------------------------------------------------------------
 */

const struct argspec metadata_changes_args[] = {
    {"ignoreMetadataOnlyChanges", ARG_BOOL, 0},
    {NULL, 0, 0},
};

enum { CH_CREATED = 1, CH_DESTROYED = 2, CH_DATA = 4, CH_SHARED = 8, CH_PRIVATE = 16 };

struct change_ev {
    char *id;
    int64_t modseq;
    unsigned what; /* the CH_ flag of this change */
};

struct change_acc {
    int64_t since;
    struct change_ev *ev;
    size_t n, cap;
};

static void ev_add(struct change_acc *acc, const char *id, int64_t modseq, unsigned what)
{
    if (acc->n == acc->cap) {
        acc->cap = acc->cap ? acc->cap * 2 : 64;
        acc->ev = xrealloc(acc->ev, acc->cap * sizeof *acc->ev);
    }
    acc->ev[acc->n++] = (struct change_ev){xstrdup(id), modseq, what};
}

static int object_ev(const char *id, int64_t created, int64_t updated, bool destroyed, void *ud)
{
    struct change_acc *acc = ud;
    unsigned what = created > acc->since ? (destroyed ? 0 : CH_CREATED)
                    : destroyed          ? CH_DESTROYED
                                         : CH_DATA;
    ev_add(acc, id, updated, what); /* 0: created and destroyed since, never seen */
    return 0;
}

static int metadata_ev(const char *id, int64_t user, const char *data, int64_t modseq,
                       int64_t created, void *ud)
{
    struct change_acc *acc = ud;
    ev_add(acc, id, modseq,
           created > acc->since            ? CH_CREATED
           : user == STORE_METADATA_SHARED ? CH_SHARED
                                           : CH_PRIVATE);
    return 0;
}

static int ev_cmp(const void *a, const void *b)
{
    const struct change_ev *x = a, *y = b;
    return x->modseq < y->modseq ? -1 : x->modseq > y->modseq;
}

/* updatedProperties (§3.3): the metadata roots when every updated id changed in
 * them alone, else null. */
static json_t *updated_properties(json_t *flags, json_t *updated)
{
    unsigned all = 0;
    size_t i;
    json_t *v;
    json_array_foreach(updated, i, v)
    {
        all |= (unsigned)json_integer_value(json_object_get(flags, json_string_value(v)));
    }
    if (!json_array_size(updated) || (all & CH_DATA))
        return json_null();
    json_t *p = json_array();
    if (all & CH_SHARED)
        json_array_append_new(p, json_string(ROOT_SHARED));
    if (all & CH_PRIVATE)
        json_array_append_new(p, json_string(ROOT_PRIVATE));
    return p;
}

void metadata_changes(struct jmap_req *r, const struct jtype *t, const struct store_access *a,
                      json_t *args, int64_t since, int64_t current, size_t max, bool md)
{
    bool ignore = json_is_true(json_object_get(args, "ignoreMetadataOnlyChanges"));
    struct change_acc acc = {.since = since};
    /* both logs in modseq order, each cut after max + 1: O(changes) */
    store_changes(r->conn, a->account_id, t->name, since, max + 1, object_ev, &acc);
    store_metadata_changes(r->conn, a->account_id, t->name, user_of(r), since, max + 1, metadata_ev,
                           &acc);
    if (acc.n)
        qsort(acc.ev, acc.n, sizeof *acc.ev, ev_cmp);
    bool more = acc.n > max;
    size_t upto = more ? max : acc.n;
    int64_t new_state = more ? acc.ev[max - 1].modseq : current;
    json_t *flags = json_object(); /* id -> CH_ flags, in order of first change */
    for (size_t i = 0; i < upto; i++) {
        json_t *f = json_object_get(flags, acc.ev[i].id);
        unsigned now = (f ? (unsigned)json_integer_value(f) : 0) | acc.ev[i].what;
        if (!acc.ev[i].what)
            now = 0; /* created and destroyed since: the client never saw it */
        else if (now & CH_CREATED)
            now = CH_CREATED; /* its metadata is part of the new object */
        else if (now & CH_DESTROYED)
            now = CH_DESTROYED;
        json_object_set_new(flags, acc.ev[i].id, json_integer(now));
    }
    json_t *created = json_array(), *updated = json_array(), *destroyed = json_array();
    const struct store_access *shared = a->shared && !a->is_personal && t->visible ? a : NULL;
    const char *id;
    json_t *v;
    json_object_foreach(flags, id, v)
    {
        unsigned f = (unsigned)json_integer_value(v);
        if (f) /* a sharee's view (RFC 9670 §4, issue 14), as the engine's /changes */
            switch (
                engine_sharee_change(r, t, shared, id, f & CH_CREATED, f & CH_DESTROYED, since)) {
            case SHAREE_DESTROYED:
                f = CH_DESTROYED;
                break;
            case SHAREE_NOTHING:
                f = 0;
                break;
            case SHAREE_AS_IS:
                break;
            }
        if (f & CH_CREATED)
            json_array_append_new(created, json_string(id));
        else if (f & CH_DESTROYED)
            json_array_append_new(destroyed, json_string(id));
        else if (f && (!ignore || (f & CH_DATA)))
            json_array_append_new(updated, json_string(id));
    }
    json_t *props = ignore ? json_null() : updated_properties(flags, updated);
    for (size_t i = 0; i < acc.n; i++)
        free(acc.ev[i].id);
    free(acc.ev);
    json_decref(flags);
    store_rollback(r->conn);
    json_t *resp = json_pack("{s:s, s:o, s:o, s:b, s:o, s:o, s:o}", "accountId", a->account_id,
                             "oldState", jmap_state_string(since), "newState",
                             jmap_state_string(new_state), "hasMoreChanges", more, "created",
                             created, "updated", updated, "destroyed", destroyed);
    if (md)
        json_object_set_new(resp, "updatedProperties", props);
    else
        json_decref(props);
    engine_respond(r, t, "changes", resp);
}

/* ---- /query (§3.5) ------------------------------------------------------------------------------
 */

static const char *const filter_keys[] = {"metadataExists",
                                          "privateMetadataExists",
                                          "metadataTextContains",
                                          "privateMetadataTextContains",
                                          "metadataTextEquals",
                                          "privateMetadataTextEquals",
                                          NULL};

static int filter_index(const char *key)
{
    for (int i = 0; filter_keys[i]; i++)
        if (strcmp(filter_keys[i], key) == 0)
            return i;
    return -1;
}

/* A path of a condition: "<namespace>" or "<namespace>/<key>..." of RFC 6901 tokens. */
static bool path_ok(json_t *p)
{
    const char *s = json_string_value(p);
    if (!s || !*s || *s == '/')
        return false;
    for (const char *tok = s;;) {
        const char *end = strchr(tok, '/');
        size_t n = end ? (size_t)(end - tok) : strlen(tok);
        char *d = jpointer_unescape(tok, n);
        bool ok = d != NULL && (tok != s || metadata_ns_kind(d));
        free(d);
        if (!ok)
            return false;
        if (!end)
            return true;
        tok = end + 1;
    }
}

int metadata_filter_check(struct jmap_req *r, const struct jtype *t, const char *key, json_t *value)
{
    int i = filter_index(key);
    if (i < 0 || !metadata_on(r, t))
        return 0;
    if (i < 2)
        return path_ok(value) ? 1 : -2;
    json_t *p = json_object_get(value, "path"), *v = json_object_get(value, "value");
    return json_is_object(value) && json_object_size(value) == 2 && path_ok(p) && json_is_string(v)
               ? 1
               : -2;
}

bool metadata_filter_uses(struct jmap_req *r, const struct jtype *t, json_t *filter)
{
    if (!json_is_object(filter) || !metadata_on(r, t))
        return false;
    json_t *conds = json_object_get(filter, "conditions");
    if (json_object_get(filter, "operator")) {
        size_t i;
        json_t *c;
        json_array_foreach(conds, i, c)
        {
            if (metadata_filter_uses(r, t, c))
                return true;
        }
        return false;
    }
    const char *key;
    json_t *v;
    json_object_foreach(filter, key, v)
    {
        if (filter_index(key) >= 0)
            return true;
    }
    return false;
}

/* A query's metadata (metadata-02 §3.5), read once per (request, account, type): for
 * each condition's namespace the objects that hold it (the store's key index), and
 * the metadata rows of those objects only when a condition needs more than the
 * namespace. Cost follows the objects that have the namespace, not the account. */
static __thread struct {
    const struct jmap_req *req;
    char key[160];
    json_t *sets;   /* "s/<ns>" or "p/<ns>" -> {id: true} */
    json_t *rows;   /* id -> {"s": shared, "p": private}, for the ids read so far */
    json_t *loaded; /* the set keys whose rows are in rows */
} qc;

void metadata_query_done(void)
{
    json_decref(qc.sets);
    json_decref(qc.rows);
    json_decref(qc.loaded);
    qc.sets = qc.rows = qc.loaded = NULL;
    qc.req = NULL;
}

static const char *query_account(struct jmap_req *r)
{
    return json_string_value(json_object_get(json_array_get(r->call, 1), "accountId"));
}

/* Makes qc the cache of this call's (account, type). */
static void qc_for(struct jmap_req *r, const struct jtype *t)
{
    const char *account = query_account(r);
    char key[160];
    snprintf(key, sizeof key, "%s/%s", account ? account : "", t->name);
    if (qc.sets && qc.req == r && strcmp(key, qc.key) == 0)
        return;
    metadata_query_done();
    qc.sets = json_object();
    qc.rows = json_object();
    qc.loaded = json_object();
    qc.req = r;
    snprintf(qc.key, sizeof qc.key, "%s", key);
}

static int set_cb(const char *id, int64_t user, const char *data, int64_t modseq, int64_t created,
                  void *ud)
{
    (void)user, (void)data, (void)modseq, (void)created;
    json_object_set_new(ud, id, json_true());
    return 0;
}

/* The ids whose shared (or the user's private) metadata holds ns with something in
 * it (borrowed); *name gets the set's key. A namespace the type does not support
 * matches nothing (§3.5). */
static json_t *cand_set(struct jmap_req *r, const struct jtype *t, bool priv, const char *ns,
                        char name[300])
{
    qc_for(r, t);
    snprintf(name, 300, "%c/%s", priv ? 'p' : 's', ns);
    json_t *set = json_object_get(qc.sets, name);
    if (set)
        return set;
    set = json_object();
    json_object_set_new(qc.sets, name, set);
    const char *account = query_account(r);
    int64_t user = priv ? user_of(r) : STORE_METADATA_SHARED;
    if (account && user >= 0 && ns_supported(r->srv->cfg, ns))
        store_metadata_with_key(r->conn, account, t->name, user, ns, set_cb, set);
    return set;
}

/* The rows of every id of the set name (read in one look-up the first time). */
static json_t *cand_rows(struct jmap_req *r, const struct jtype *t, const char *name)
{
    if (json_object_get(qc.loaded, name))
        return qc.rows;
    json_object_set_new(qc.loaded, name, json_true());
    json_t *set = json_object_get(qc.sets, name);
    const char **ids = xcalloc(json_object_size(set) + 1, sizeof *ids);
    size_t n = 0;
    const char *id;
    json_t *v;
    json_object_foreach(set, id, v)
    {
        if (!json_object_get(qc.rows, id))
            ids[n++] = id;
    }
    struct rows_acc acc = {.map = qc.rows};
    const char *account = query_account(r);
    if (n && account)
        store_metadata_get(r->conn, account, t->name, ids, n, user_of(r), rows_cb, &acc);
    for (size_t i = 0; i < n; i++) /* read, even without rows: not read again */
        if (!json_object_get(qc.rows, ids[i]))
            json_object_set_new(qc.rows, ids[i], json_object());
    free(ids);
    return qc.rows;
}

/* The first token of a condition's path (unescaped, new), NULL if malformed. */
static char *path_ns(const char *path)
{
    if (!path)
        return NULL;
    const char *end = strchr(path, '/');
    return jpointer_unescape(path, end ? (size_t)(end - path) : strlen(path));
}

/* The value at path inside root (borrowed), NULL if absent. */
static json_t *at_path(json_t *root, const char *path)
{
    json_t *cur = root;
    for (const char *tok = path; cur;) {
        const char *end = strchr(tok, '/');
        size_t n = end ? (size_t)(end - tok) : strlen(tok);
        char *d = jpointer_unescape(tok, n);
        if (!d)
            return NULL;
        cur = json_is_object(cur) ? json_object_get(cur, d) : NULL;
        free(d);
        if (!end)
            break;
        tok = end + 1;
    }
    return cur;
}

/* The path of condition i's value. */
static const char *cond_path(int i, json_t *value)
{
    return json_string_value(i < 2 ? value : json_object_get(value, "path"));
}

int metadata_filter_match(struct jmap_req *r, const struct jtype *t, json_t *obj, const char *key,
                          json_t *value)
{
    int i = filter_index(key);
    if (i < 0)
        return -1;
    const char *path = cond_path(i, value), *id = json_string_value(json_object_get(obj, "id"));
    char *ns = path_ns(path), name[300];
    if (!ns || !id) {
        free(ns);
        return 0;
    }
    json_t *set = cand_set(r, t, i % 2, ns, name);
    free(ns);
    if (!json_object_get(set, id))
        return 0; /* the namespace is absent or empty: nothing below it either */
    if (i < 2 && !strchr(path, '/'))
        return 1; /* a namespace alone must hold something (§3.5): it does */
    json_t *e = json_object_get(cand_rows(r, t, name), id);
    json_t *x = at_path(json_object_get(e, i % 2 ? "p" : "s"), path);
    if (i < 2)
        return x != NULL;
    const char *want = json_string_value(json_object_get(value, "value"));
    if (!json_is_string(x))
        return 0;
    /* Contains: case-insensitive substring (i;unicode-casemap, RFC 5051); Equals: octets */
    return i < 4 ? collation_contains(json_string_value(x), want)
                 : strcmp(json_string_value(x), want) == 0;
}

/* Intersection (a, b both new or NULL: NULL is "everything"); returns a new set. */
static json_t *set_and(json_t *a, json_t *b)
{
    if (!a || !b)
        return a ? a : b;
    json_t *out = json_object();
    const char *id;
    json_t *v;
    json_object_foreach(json_object_size(a) <= json_object_size(b) ? a : b, id, v)
    {
        if (json_object_get(json_object_size(a) <= json_object_size(b) ? b : a, id))
            json_object_set_new(out, id, json_true());
    }
    json_decref(a);
    json_decref(b);
    return out;
}

json_t *metadata_candidates(struct jmap_req *r, const struct jtype *t, json_t *filter)
{
    if (!json_is_object(filter) || !metadata_on(r, t))
        return NULL;
    const char *op = json_string_value(json_object_get(filter, "operator"));
    json_t *conds = json_object_get(filter, "conditions"), *c, *out = NULL;
    size_t i;
    if (op && strcmp(op, "AND") == 0) {
        json_array_foreach(conds, i, c) out = set_and(out, metadata_candidates(r, t, c));
        return out;
    }
    if (op && strcmp(op, "OR") == 0) { /* a union, if every branch narrows */
        out = json_object();
        json_array_foreach(conds, i, c)
        {
            json_t *x = metadata_candidates(r, t, c);
            if (!x) {
                json_decref(out);
                return NULL;
            }
            json_object_update(out, x);
            json_decref(x);
        }
        return out;
    }
    if (op)
        return NULL; /* NOT: its objects are those without */
    const char *key;
    json_t *v;
    json_object_foreach(filter, key, v)
    {
        int k = filter_index(key);
        char *ns = k >= 0 ? path_ns(cond_path(k, v)) : NULL, name[300];
        if (ns)
            out = set_and(out, json_copy(cand_set(r, t, k % 2, ns, name)));
        else if (k >= 0)
            out = set_and(out, json_object()); /* a malformed path matches nothing */
        free(ns);
    }
    return out;
}

int engine_metadata_match(struct jmap_req *r, const struct jtype *t, json_t *obj, const char *key,
                          json_t *value)
{
    return t->metadata && metadata_on(r, t) ? metadata_filter_match(r, t, obj, key, value) : -1;
}

void metadata_changed_ids(struct jmap_req *r, const struct jtype *t, const char *account,
                          int64_t since, json_t *changed)
{
    struct change_acc acc = {.since = since};
    store_metadata_changes(r->conn, account, t->name, user_of(r), since, 0, metadata_ev, &acc);
    for (size_t i = 0; i < acc.n; i++) {
        if (!json_object_get(changed, acc.ev[i].id))
            json_object_set_new(changed, acc.ev[i].id,
                                json_boolean(!(acc.ev[i].what & CH_CREATED)));
        free(acc.ev[i].id);
    }
    free(acc.ev);
}

void engine_metadata_changed_ids(struct jmap_req *r, const struct jtype *t, const char *account,
                                 int64_t since, json_t *changed)
{
    if (t->metadata)
        metadata_changed_ids(r, t, account, since, changed);
}
