/*
 * push_subscription.c — PushSubscription/get and /set (RFC 8620 §7.2). Not account
 * data: no accountId, no state, no ifInState. A subscription belongs to the credential
 * that created it (auth.h's fingerprint, jmap_user.cred): only that credential sees it,
 * and push/webpush.c destroys it when the credential goes. The server's verification
 * code is kept beside the object ("#code", never returned); the subscription is
 * verified once the client has set verificationCode to it. Delivery is webpush.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jmap/engine.h"
#include "jmap/jmap.h"
#include "push/webpush.h"
#include "util/util.h"

#define PS_MAX_URL 2048

/* The properties of a PushSubscription; url and keys are never returned (§7.2.1). */
static const char *const ps_props[] = {
    "id", "deviceClientId", "url", "keys", "verificationCode", "expires", "types", NULL};

static bool ps_prop_known(const char *name)
{
    for (size_t i = 0; ps_props[i]; i++)
        if (strcmp(ps_props[i], name) == 0)
            return true;
    return false;
}

/* The user's subscriptions made with this credential: id -> stored object. */
struct ps_list {
    const char *cred;
    json_t *out;
    int64_t total; /* the user's subscriptions, every credential's */
};

static int ps_collect(const char *id, int64_t user_id, const char *cred, const char *data, void *ud)
{
    struct ps_list *l = ud;
    (void)user_id;
    l->total++;
    json_t *o = strcmp(cred, l->cred) == 0 ? json_loads(data, 0, NULL) : NULL;
    if (o)
        json_object_set_new(l->out, id, o);
    return 0;
}

static json_t *ps_mine(struct jmap_req *r, int64_t *total)
{
    struct ps_list l = {.cred = r->user->cred, .out = json_object()};
    if (r->user->cred[0] && store_pushsub_list(r->conn, r->user->id, ps_collect, &l) != STORE_OK) {
        json_decref(l.out);
        return NULL;
    }
    if (total)
        *total = l.total;
    return l.out;
}

/* The expiry the server grants for what the client asked (§7.2: at most
 * push_max_expiry ahead, the same when none is asked), as a UTCDate. */
static json_t *ps_expiry(struct jmap_req *r, const json_t *asked)
{
    int64_t now = util_now(), max = now + r->srv->cfg->push_max_expiry, t = max;
    if (json_is_string(asked) && util_utc_parse(json_string_value(asked), &t) == 0 && t > max)
        t = max;
    char buf[21];
    util_utc_format(t, buf);
    return json_string(buf);
}

/* ---- PushSubscription/get ----------------------------------------------------------------- */

static const struct argspec ps_get_args[] = {
    {"ids", ARG_ID_ARRAY, ARG_NULLABLE | ARG_REF},
    {"properties", ARG_STRING_ARRAY, ARG_NULLABLE},
    {NULL, 0, 0},
};

/* The object as /get returns it: the properties asked for (all but url and keys). */
static json_t *ps_view(const char *id, json_t *o, json_t *props)
{
    json_t *v = json_object();
    for (size_t i = 0; ps_props[i]; i++) {
        const char *p = ps_props[i];
        if (!strcmp(p, "url") || !strcmp(p, "keys"))
            continue;
        bool want = !props || !strcmp(p, "id");
        size_t k;
        json_t *x;
        json_array_foreach(props, k, x) want |= !strcmp(json_string_value(x), p);
        if (!want)
            continue;
        json_t *val = !strcmp(p, "id") ? json_string(id) : json_incref(json_object_get(o, p));
        json_object_set_new(v, p, val ? val : json_null());
    }
    return v;
}

static int ps_get(struct jmap_req *r, json_t *args)
{
    if (jmap_args_check(r, args, ps_get_args, NULL))
        return -1;
    json_t *ids = json_object_get(args, "ids"), *props = json_object_get(args, "properties");
    size_t i;
    json_t *v;
    json_array_foreach(props, i, v)
    {
        const char *p = json_string_value(v);
        if (!strcmp(p, "url") || !strcmp(p, "keys")) { /* §7.2.1 */
            jmap_error(r, "forbidden", "the '%s' property is never returned", p);
            return -1;
        }
        if (!ps_prop_known(p)) {
            jmap_error(r, "invalidArguments", "unknown property '%s'", p);
            return -1;
        }
    }
    if ((int64_t)json_array_size(ids) > r->srv->cfg->max_objects_in_get) {
        jmap_error(r, "requestTooLarge", "more than maxObjectsInGet ids");
        return -1;
    }
    if (jmap_txn_begin(r, false))
        return -1;
    json_t *mine = ps_mine(r, NULL);
    store_rollback(r->conn);
    if (!mine) {
        jmap_error(r, "serverFail", "the subscriptions could not be read");
        return -1;
    }
    json_t *list = json_array(), *not_found = json_array(), *seen = json_object();
    const char *id;
    json_t *o;
    if (json_is_array(ids)) {
        json_array_foreach(ids, i, v)
        {
            const char *given = json_string_value(v), *rid = jmap_resolve_id(r, given);
            if (json_object_get(seen, given))
                continue; /* §5.1: an id asked twice is answered once */
            json_object_set_new(seen, given, json_true());
            o = rid ? json_object_get(mine, rid) : NULL;
            if (o)
                json_array_append_new(list, ps_view(rid, o, props));
            else
                json_array_append_new(not_found, json_string(given));
        }
    } else {
        json_object_foreach(mine, id, o) json_array_append_new(list, ps_view(id, o, props));
    }
    json_decref(seen);
    json_decref(mine);
    jmap_respond(r, "PushSubscription/get",
                 json_pack("{s:o, s:o}", "list", list, "notFound", not_found));
    return 0;
}

/* ---- PushSubscription/set ----------------------------------------------------------------- */

static const struct argspec ps_set_args[] = {
    {"create", ARG_OBJECT, ARG_NULLABLE},
    {"update", ARG_OBJECT, ARG_NULLABLE},
    {"destroy", ARG_ID_ARRAY, ARG_NULLABLE | ARG_REF},
    {NULL, 0, 0},
};

static void bad(json_t *invalid, const char *prop)
{
    json_array_append_new(invalid, json_string(prop));
}

/* types: null or a list of type names (§7.2). */
static bool types_valid(const json_t *t)
{
    if (json_is_null(t))
        return true;
    if (!json_is_array(t))
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(t, i, v) if (!json_is_string(v) || !*json_string_value(v)) return false;
    return true;
}

static bool expires_valid(const json_t *e)
{
    int64_t t;
    return json_is_null(e) ||
           (json_is_string(e) && util_utc_parse(json_string_value(e), &t) == 0 && t > util_now());
}

/* keys: null or {p256dh, auth}, a P-256 point and a 16-octet secret (RFC 8291). */
static bool keys_valid(const json_t *k)
{
    if (json_is_null(k))
        return true;
    const char *p = json_string_value(json_object_get(k, "p256dh")),
               *a = json_string_value(json_object_get(k, "auth"));
    return json_is_object(k) && json_object_size(k) == 2 && p && a && webpush_keys_valid(p, a);
}

/* A new subscription from spec, or a SetError. */
static json_t *ps_create_one(struct jmap_req *r, json_t *spec, json_t **made, char **code_out)
{
    json_t *invalid = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(spec, k, v)
    {
        if (!ps_prop_known(k) || !strcmp(k, "id"))
            bad(invalid, k); /* unknown, or server-set (§5.3) */
    }
    const char *dci = json_string_value(json_object_get(spec, "deviceClientId"));
    if (!dci || !*dci || strlen(dci) > 255)
        bad(invalid, "deviceClientId");
    const char *url = json_string_value(json_object_get(spec, "url"));
    if (!url || strncasecmp(url, "https://", 8) != 0 || strlen(url) > PS_MAX_URL || !url[8] ||
        strpbrk(url, " \t\r\n"))
        bad(invalid, "url"); /* §7.2: "This MUST begin with https://" */
    json_t *keys = json_object_get(spec, "keys");
    if (keys && !keys_valid(keys))
        bad(invalid, "keys");
    json_t *vc = json_object_get(spec, "verificationCode");
    if (vc && !json_is_null(vc))
        bad(invalid, "verificationCode"); /* "MUST be null (or omitted)" on create */
    json_t *exp = json_object_get(spec, "expires");
    if (exp && !expires_valid(exp))
        bad(invalid, "expires");
    json_t *types = json_object_get(spec, "types");
    if (types && !types_valid(types))
        bad(invalid, "types");
    if (json_array_size(invalid))
        return jmap_seterror_props(invalid, "invalid PushSubscription properties");
    json_decref(invalid);
    unsigned char raw[16];
    util_random_bytes(raw, sizeof raw); /* §7.2.2: enough entropy not to be guessed */
    char hex[33];
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    json_t *o = json_pack("{s:s, s:s, s:O, s:n, s:o, s:O, s:s}", "deviceClientId", dci, "url", url,
                          "keys", keys ? keys : json_null(), "verificationCode", "expires",
                          ps_expiry(r, exp), "types", types ? types : json_null(), "#code", hex);
    *made = o;
    *code_out = xstrdup(hex);
    return NULL;
}

/* An update of o (verificationCode, expires, types; §7.2.2), or a SetError. Sets
 * *changed to the properties the server set otherwise than asked. */
static json_t *ps_update_one(struct jmap_req *r, json_t *o, json_t *patch, json_t *changed)
{
    json_t *invalid = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(patch, k, v)
    {
        if (!strcmp(k, "verificationCode")) {
            const char *code = json_string_value(json_object_get(o, "#code"));
            if (!json_is_string(v) || !code || strcmp(json_string_value(v), code) != 0)
                bad(invalid, k); /* §7.2.2: "MUST be rejected ... invalidProperties" */
        } else if (!strcmp(k, "expires")) {
            if (!expires_valid(v))
                bad(invalid, k);
        } else if (!strcmp(k, "types")) {
            if (!types_valid(v))
                bad(invalid, k);
        } else {
            bad(invalid, k); /* id, deviceClientId, url, keys are immutable; others unknown */
        }
    }
    if (json_array_size(invalid))
        return jmap_seterror_props(invalid, "invalid PushSubscription update");
    json_decref(invalid);
    json_object_foreach(patch, k, v)
    {
        if (!strcmp(k, "expires")) {
            json_t *e = ps_expiry(r, v);
            if (!json_equal(e, v))
                json_object_set(changed, "expires", e);
            json_object_set_new(o, k, e);
        } else {
            json_object_set(o, k, v);
        }
    }
    return NULL;
}

static char *ps_dump(json_t *o)
{
    return json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
}

struct ps_set {
    json_t *mine;
    int64_t total; /* the user's subscriptions (push_max_per_user) */
    json_t *created, *not_created, *updated, *not_updated, *destroyed, *not_destroyed;
    json_t *verify; /* [[id, url, keys, code]] to send after the commit */
    bool wrote;
};

static void ps_creates(struct jmap_req *r, struct ps_set *st, json_t *create)
{
    const char *cid;
    json_t *spec;
    json_object_foreach(create, cid, spec)
    {
        json_t *made = NULL, *err = NULL;
        char *code = NULL;
        if (!r->user->cred[0])
            err = jmap_seterror("forbidden", "this credential cannot hold push subscriptions");
        else if (!json_is_object(spec))
            err = jmap_seterror("invalidProperties", "not a PushSubscription object");
        else if (st->total >= r->srv->cfg->push_max_per_user)
            err = jmap_seterror("overQuota", "at most %lld push subscriptions per user",
                                (long long)r->srv->cfg->push_max_per_user);
        else
            err = ps_create_one(r, spec, &made, &code);
        char id[24];
        util_random_id(id, 20, 'P');
        char *data = made ? ps_dump(made) : NULL;
        if (!err && store_pushsub_put(r->conn, id, r->user->id, r->user->cred, data) != STORE_OK)
            err = jmap_seterror("serverFail", "could not store the subscription");
        if (err) {
            json_object_set_new(st->not_created, cid, err);
        } else {
            /* §5.3: the server-set and defaulted properties */
            json_t *c =
                json_pack("{s:s, s:O}", "id", id, "expires", json_object_get(made, "expires"));
            if (!json_object_get(spec, "keys"))
                json_object_set_new(c, "keys", json_null());
            if (!json_object_get(spec, "types"))
                json_object_set_new(c, "types", json_null());
            if (!json_object_get(spec, "verificationCode"))
                json_object_set_new(c, "verificationCode", json_null());
            json_object_set_new(st->created, cid, c);
            json_object_set_new(r->created_ids, cid, json_string(id));
            json_object_set(st->mine, id, made);
            st->total++;
            json_array_append_new(st->verify,
                                  json_pack("[s, O, O, s]", id, json_object_get(made, "url"),
                                            json_object_get(made, "keys"), code));
            st->wrote = true;
        }
        free(data);
        free(code);
        json_decref(made);
    }
}

static void ps_updates(struct jmap_req *r, struct ps_set *st, json_t *update)
{
    const char *given;
    json_t *patch;
    json_object_foreach(update, given, patch)
    {
        const char *id = jmap_resolve_id(r, given);
        json_t *o = id ? json_object_get(st->mine, id) : NULL;
        json_t *err = NULL, *changed = json_object();
        if (!o)
            err = jmap_seterror("notFound", "no such push subscription");
        else if (!json_is_object(patch))
            err = jmap_seterror("invalidPatch", "not a PatchObject");
        json_t *copy = o ? json_deep_copy(o) : NULL;
        if (!err)
            err = ps_update_one(r, copy, patch, changed);
        char *data = !err ? ps_dump(copy) : NULL;
        if (!err && store_pushsub_put(r->conn, id, r->user->id, r->user->cred, data) != STORE_OK)
            err = jmap_seterror("serverFail", "could not store the subscription");
        if (err) {
            json_object_set_new(st->not_updated, given, err);
            json_decref(changed);
        } else {
            json_object_set_new(st->updated, id, json_object_size(changed) ? changed : json_null());
            if (!json_object_size(changed))
                json_decref(changed);
            json_object_set(st->mine, id, copy);
            st->wrote = true;
        }
        free(data);
        json_decref(copy);
    }
}

static void ps_destroys(struct jmap_req *r, struct ps_set *st, json_t *destroy)
{
    size_t i;
    json_t *v;
    json_array_foreach(destroy, i, v)
    {
        const char *given = json_string_value(v), *id = jmap_resolve_id(r, given);
        if (!id || !json_object_get(st->mine, id)) {
            json_object_set_new(st->not_destroyed, given,
                                jmap_seterror("notFound", "no such push subscription"));
        } else if (store_pushsub_del(r->conn, id) != STORE_OK) {
            json_object_set_new(st->not_destroyed, given,
                                jmap_seterror("serverFail", "could not destroy the subscription"));
        } else {
            json_array_append_new(st->destroyed, json_string(id));
            json_object_del(st->mine, id);
            st->total--;
            st->wrote = true;
        }
    }
}

static int ps_set(struct jmap_req *r, json_t *args)
{
    if (jmap_args_check(r, args, ps_set_args, NULL))
        return -1;
    json_t *create = json_object_get(args, "create"), *update = json_object_get(args, "update"),
           *destroy = json_object_get(args, "destroy");
    if ((int64_t)(json_object_size(create) + json_object_size(update) + json_array_size(destroy)) >
        r->srv->cfg->max_objects_in_set) {
        jmap_error(r, "requestTooLarge", "more than maxObjectsInSet objects");
        return -1;
    }
    if (jmap_txn_begin(r, true))
        return -1;
    struct ps_set st = {.mine = NULL,
                        .created = json_object(),
                        .not_created = json_object(),
                        .updated = json_object(),
                        .not_updated = json_object(),
                        .destroyed = json_array(),
                        .not_destroyed = json_object(),
                        .verify = json_array()};
    st.mine = ps_mine(r, &st.total);
    if (!st.mine) {
        store_rollback(r->conn);
        jmap_error(r, "serverFail", "the subscriptions could not be read");
    } else {
        ps_creates(r, &st, create);
        ps_updates(r, &st, update);
        ps_destroys(r, &st, destroy);
        if (store_commit(r->conn) != STORE_OK) {
            store_rollback(r->conn);
            jmap_error(r, "serverFail", "commit failed");
            st.mine = (json_decref(st.mine), NULL);
        }
    }
    if (st.mine) {
        /* §7.2.2: the PushVerification goes at once (after the commit, so that the
         * client's update with the code finds the subscription) */
        size_t i;
        json_t *x;
        json_array_foreach(st.verify, i, x)
        {
            json_t *keys = json_array_get(x, 2);
            webpush_verify(r->srv->webpush, json_string_value(json_array_get(x, 0)),
                           json_string_value(json_array_get(x, 1)),
                           json_string_value(json_object_get(keys, "p256dh")),
                           json_string_value(json_object_get(keys, "auth")),
                           json_string_value(json_array_get(x, 3)));
        }
        if (st.wrote)
            webpush_reload(r->srv->webpush);
        json_t *resp = json_object();
        json_object_set_new(resp, "created", jmap_or_null(json_incref(st.created)));
        json_object_set_new(resp, "updated", jmap_or_null(json_incref(st.updated)));
        json_object_set_new(resp, "destroyed", jmap_or_null(json_incref(st.destroyed)));
        json_object_set_new(resp, "notCreated", jmap_or_null(json_incref(st.not_created)));
        json_object_set_new(resp, "notUpdated", jmap_or_null(json_incref(st.not_updated)));
        json_object_set_new(resp, "notDestroyed", jmap_or_null(json_incref(st.not_destroyed)));
        jmap_respond(r, "PushSubscription/set", resp);
    }
    json_decref(st.mine);
    json_decref(st.created);
    json_decref(st.not_created);
    json_decref(st.updated);
    json_decref(st.not_updated);
    json_decref(st.destroyed);
    json_decref(st.not_destroyed);
    json_decref(st.verify);
    return 0;
}

void push_subscription_register(void)
{
    jmap_register_method("PushSubscription/get", JMAP_CORE, ps_get);
    jmap_register_method("PushSubscription/set", JMAP_CORE, ps_set);
}
