/*
 * principal.c — the Principal type (RFC 9670 §2) and the principals module: the
 * capabilities urn:ietf:params:jmap:principals (each user's own account holds the
 * principals) and :principals:owner (every account names its owner), Principal
 * /get /changes /query /queryChanges /set, and the calendars capability data of a
 * principal (draft-ietf-jmap-calendars-27 §2.1). Users and groups are principals;
 * a user's principal id is the id of their own account, a group's is its own.
 *
 * The principals are one directory shared by every user: stored once, under the
 * account id PRINCIPALS_ACCOUNT, and shown in each user's own account. The methods
 * run the standard engine on that directory (principal_run) and answer with the
 * account id the client named.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jmap/engine.h"
#include "types/types.h"
#include "util/util.h"

/* Real account ids start with "a" (jmapd user add), so never this one. */
#define PRINCIPALS_ACCOUNT "_principals"

static const struct jprop principal_props[] = {
    {"id", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"type", 0, "\"individual\""},
    {"name", JP_REQUIRED, NULL},
    {"description", 0, "null"},
    {"email", 0, "null"},
    {"timeZone", 0, "null"},
    {"capabilities", JP_SERVER_SET, NULL},
    {"accounts", JP_SERVER_SET, NULL},
    {NULL, 0, NULL},
};

/* ---- capabilities (RFC 9670 §1.5) -------------------------------------------------------- */

static bool principals_supported(const struct store_access *a)
{
    return a->is_personal; /* the user's own account holds the principals */
}

static json_t *principals_account_value(const struct config *cfg, const struct jmap_user *user,
                                        const struct store_access *a)
{
    (void)cfg;
    const char *me = jmap_user_principal(user);
    return json_pack("{s:o}", "currentUserPrincipalId", me ? json_string(me) : json_null());
}

/* §1.5.2: every account here belongs to a user, whose principal id is the
 * account's id; the principals are in the requesting user's own account. */
static json_t *owner_account_value(const struct config *cfg, const struct jmap_user *user,
                                   const struct store_access *a)
{
    (void)cfg;
    const char *me = jmap_user_principal(user);
    if (!me)
        return NULL;
    return json_pack("{s:s, s:s}", "accountIdForPrincipal", me, "principalId", a->account_id);
}

const struct jcapability principals_capability = {
    .uri = JMAP_PRINCIPALS,
    .account_supports = principals_supported,
    .account_value_for = principals_account_value,
};
static const struct jcapability owner_capability = {
    .uri = JMAP_PRINCIPALS_OWNER,
    .account_value_for = owner_account_value,
    .account_only = true,
};

/* ---- the computed properties -------------------------------------------------------------- */

/* calendars-27 §2.1 and RFC 9670 §2 accounts: what the requesting user may reach. */
static void principal_compute(struct jmap_req *r, json_t *obj)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    bool group = json_is_string(json_object_get(obj, "type")) &&
                 strcmp(json_string_value(json_object_get(obj, "type")), "individual") != 0;
    const struct store_access *acc = id && !group ? jmap_req_access(r, id) : NULL;
    json_t *accounts = json_null();
    if (acc) {
        accounts = json_object();
        json_object_set_new(accounts, id, jmap_account_object(r->srv->cfg, r->user, acc));
    }
    /* §2.2: availability of a user whose account the asking user reaches (their
     * calendars with mayReadFreeBusy count), also for free/busy alone, when §2.1's
     * accountId is null ("the user does not have access to any data in the account
     * (with the exception of free/busy ...)") */
    bool fb = acc || (id && !group && jmap_user_freebusy(r->user, id));
    json_t *cal = json_pack("{s:o, s:b, s:b}", "accountId", acc ? json_string(id) : json_null(),
                            "mayGetAvailability", fb, "mayShareWith",
                            !jmap_user_principal(r->user) || !id ||
                                strcmp(jmap_user_principal(r->user), id) != 0);
    const char *email = json_string_value(json_object_get(obj, "email"));
    if (!group && email)
        json_object_set_new(cal, "calendarAddress", json_sprintf("mailto:%s", email));
    /* tasks-06 §3.1: the same account and sharing; sendTo as a Participant's
     * (jscalendarbis §4.4.6: "imip" to a mailto: URI) */
    json_t *tasks =
        json_pack("{s:O, s:O, s:o}", "accountId", json_object_get(cal, "accountId"), "mayShareWith",
                  json_object_get(cal, "mayShareWith"), "sendTo",
                  !group && email ? json_pack("{s:o}", "imip", json_sprintf("mailto:%s", email))
                                  : json_null());
    json_object_set_new(obj, "capabilities",
                        json_pack("{s:o, s:o}", JMAP_CALENDARS, cal, JMAP_TASKS, tasks));
    json_object_set_new(obj, "accounts", accounts);
}

static json_t *principal_view(struct jmap_req *r, const struct store_access *a, json_t *obj,
                              json_t *props, json_t *args)
{
    (void)a;
    (void)args;
    json_t *out = json_deep_copy(obj);
    principal_compute(r, out);
    return engine_select_props(out, props);
}

/* ---- /query (RFC 9670 §2.4.1) -------------------------------------------------------------- */

static bool contains(json_t *obj, const char *prop, const char *needle)
{
    const char *v = json_string_value(json_object_get(obj, prop));
    return v && strcasestr(v, needle);
}

static int principal_filter(struct jmap_req *r, json_t *obj, const char *key, json_t *value)
{
    bool text = strcmp(key, "email") == 0 || strcmp(key, "name") == 0 || strcmp(key, "text") == 0 ||
                strcmp(key, "type") == 0 || strcmp(key, "timeZone") == 0;
    if (strcmp(key, "accountIds") == 0) {
        if (!json_is_array(value))
            return -2;
        size_t i;
        json_t *v;
        json_array_foreach(value, i, v)
        {
            if (!json_is_string(v))
                return -2;
        }
    } else if (!text) {
        return -1;
    } else if (!json_is_string(value)) {
        return -2;
    }
    if (!obj)
        return 1;
    const char *s = json_string_value(value);
    if (strcmp(key, "accountIds") == 0) {
        /* the principal's accounts the user may reach: a user's own account */
        const char *id = json_string_value(json_object_get(obj, "id"));
        size_t i;
        json_t *v;
        json_array_foreach(value, i, v)
        {
            if (strcmp(json_string_value(v), id) == 0 &&
                strcmp(json_string_value(json_object_get(obj, "type")), "individual") == 0 &&
                jmap_req_access(r, id))
                return 1;
        }
        return 0;
    }
    if (strcmp(key, "text") == 0)
        return contains(obj, "name", s) || contains(obj, "email", s) ||
               contains(obj, "description", s);
    if (strcmp(key, "email") == 0 || strcmp(key, "name") == 0)
        return contains(obj, key, s);
    const char *v = json_string_value(json_object_get(obj, key));
    return v && strcmp(v, s) == 0; /* type, timeZone: exactly */
}

static int principal_compare(json_t *a, json_t *b, const char *property, bool *ok)
{
    if (strcmp(property, "name") && strcmp(property, "email") && strcmp(property, "type")) {
        *ok = false;
        return 0;
    }
    *ok = true;
    const char *x = json_string_value(json_object_get(a, property)),
               *y = json_string_value(json_object_get(b, property));
    return strcmp(x ? x : "", y ? y : "");
}

/* ---- /set (RFC 9670 §2.3) ------------------------------------------------------------------ */

static json_t *principal_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    if (!old)
        return jmap_seterror("forbidden", "principals are managed by the server's administrator");
    const char *me = jmap_user_principal(jset_req(s)->user);
    const char *id = json_string_value(json_object_get(old, "id"));
    if (!me || !id || strcmp(me, id) != 0)
        return jmap_seterror("forbidden", "a user may change only their own principal");
    /* §2.3: the user's own name, description and timeZone; nothing else */
    static const char *const fixed[] = {"type", "email"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!json_equal(json_object_get(obj, fixed[i]), json_object_get(old, fixed[i])))
            return jmap_seterror("forbidden", "%s is managed by the server's administrator",
                                 fixed[i]);
    json_t *v = json_object_get(obj, "name");
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 255)
        jset_invalid(s, invalid, "name", "must be a non-empty String of at most 255 octets");
    v = json_object_get(obj, "description");
    if (!json_is_null(v) && !json_is_string(v))
        jset_invalid(s, invalid, "description", "must be a String or null");
    v = json_object_get(obj, "timeZone");
    if (!json_is_null(v) && !(json_is_string(v) && types_is_time_zone(json_string_value(v))))
        jset_invalid(s, invalid, "timeZone", "not an IANA time zone name");
    return NULL;
}

static json_t *principal_destroy(struct jset *s, const char *id, json_t *old)
{
    (void)s;
    (void)id;
    (void)old;
    return jmap_seterror("forbidden", "principals are managed by the server's administrator");
}

const struct jtype principal_type = {
    .name = "Principal",
    .capability = JMAP_PRINCIPALS,
    .props = principal_props,
    .methods = 0, /* registered by principal_register_methods through principal_run */
    .id_prefix = 'P',
    .view = principal_view,
    .validate = principal_validate,
    .destroy = principal_destroy,
    .filter = principal_filter,
    .compare = principal_compare,
};

/* ---- the methods on the directory -------------------------------------------------------- */

typedef int (*std_fn)(struct jmap_req *, const struct jtype *, json_t *);

/* Runs a standard method on the directory for the user's own account named by
 * args.accountId; any other account gets the engine's own error. */
static int principal_run(struct jmap_req *r, json_t *args, std_fn fn)
{
    json_t *acc = json_object_get(args, "accountId");
    const struct store_access *a =
        json_is_string(acc) ? jmap_req_access(r, json_string_value(acc)) : NULL;
    if (!a || !a->is_personal)
        return fn(r, &principal_type, args);
    struct jmap_user *u = xmalloc(sizeof *u);
    *u = *r->user;
    if (u->naccounts == JMAP_MAX_ACCOUNTS)
        u->naccounts--;
    struct store_access *dir = &u->accounts[u->naccounts++];
    *dir = *a;
    snprintf(dir->account_id, sizeof dir->account_id, "%s", PRINCIPALS_ACCOUNT);
    char *asked = xstrdup(json_string_value(acc));
    json_t *copy = json_copy(args);
    json_object_set_new(copy, "accountId", json_string(PRINCIPALS_ACCOUNT));
    const struct jmap_user *saved = r->user;
    size_t before = json_array_size(r->responses);
    r->user = u;
    int rc = fn(r, &principal_type, copy);
    r->user = saved;
    for (size_t i = before; i < json_array_size(r->responses); i++) {
        json_t *resp = json_array_get(json_array_get(r->responses, i), 1);
        const char *rid = json_string_value(json_object_get(resp, "accountId"));
        if (rid && strcmp(rid, PRINCIPALS_ACCOUNT) == 0)
            json_object_set_new(resp, "accountId", json_string(asked));
    }
    /* the directory's new state reaches the user's push through their account */
    json_t *changed = json_object_get(r->changed, PRINCIPALS_ACCOUNT);
    if (changed) {
        json_t *mine = json_object_get(r->changed, asked);
        if (!mine)
            json_object_set(r->changed, asked, changed);
        else
            json_object_update(mine, changed);
        json_object_del(r->changed, PRINCIPALS_ACCOUNT);
    }
    free(asked);
    json_decref(copy);
    free(u);
    return rc;
}

static int principal_get(struct jmap_req *r, json_t *args)
{
    return principal_run(r, args, jmap_std_get);
}
static int principal_changes(struct jmap_req *r, json_t *args)
{
    return principal_run(r, args, jmap_std_changes);
}
static int principal_set(struct jmap_req *r, json_t *args)
{
    return principal_run(r, args, jmap_std_set);
}
static int principal_query(struct jmap_req *r, json_t *args)
{
    return principal_run(r, args, jmap_std_query);
}
static int principal_query_changes(struct jmap_req *r, json_t *args)
{
    return principal_run(r, args, jmap_std_query_changes);
}

static void principals_register_methods(void)
{
    jmap_register_method("Principal/get", JMAP_PRINCIPALS, principal_get);
    jmap_register_method("Principal/changes", JMAP_PRINCIPALS, principal_changes);
    jmap_register_method("Principal/set", JMAP_PRINCIPALS, principal_set);
    jmap_register_method("Principal/query", JMAP_PRINCIPALS, principal_query);
    jmap_register_method("Principal/queryChanges", JMAP_PRINCIPALS, principal_query_changes);
    share_notification_register_methods();
    availability_register();
}

/* ---- the directory's entries --------------------------------------------------------------- */

int principal_put(struct store_conn *c, const char *id, const char *type, const char *name,
                  const char *address)
{
    json_t *old = store_object_get(c, PRINCIPALS_ACCOUNT, principal_type.name, id);
    json_t *obj = old ? json_incref(old) : json_object();
    json_object_set_new(obj, "id", json_string(id));
    json_object_set_new(obj, "type", json_string(type));
    if (!old)
        json_object_set_new(obj, "name", json_string(name));
    if (address && strncmp(address, "mailto:", 7) == 0)
        address += 7;
    json_object_set_new(obj, "email", address ? json_string(address) : json_null());
    jtype_fill_defaults(&principal_type, obj);
    int rc = jmap_object_write(c, NULL, &principal_type, PRINCIPALS_ACCOUNT, id, obj, !old);
    json_decref(obj);
    json_decref(old);
    return rc ? STORE_ERR : STORE_OK;
}

int principal_remove(struct store_conn *c, const char *id)
{
    if (!store_object_exists(c, PRINCIPALS_ACCOUNT, principal_type.name, id))
        return STORE_NOTFOUND;
    return jmap_object_write(c, NULL, &principal_type, PRINCIPALS_ACCOUNT, id, NULL, false)
               ? STORE_ERR
               : STORE_OK;
}

json_t *principal_load(struct store_conn *c, const char *id)
{
    return store_object_get(c, PRINCIPALS_ACCOUNT, principal_type.name, id);
}

int principal_foreach(struct store_conn *c, int (*cb)(const char *id, json_t *obj, void *ud),
                      void *ud)
{
    return store_object_foreach(c, PRINCIPALS_ACCOUNT, principal_type.name, cb, ud);
}

static int email_map_cb(const char *id, json_t *obj, void *ud)
{
    const char *email = json_string_value(json_object_get(obj, "email"));
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (email && type && strcmp(type, "individual") == 0) {
        char *low = xstrdup(email);
        for (char *p = low; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        json_object_set_new(ud, low, json_string(id));
        free(low);
    }
    return 0;
}

/* email (lower case) -> principal id of the users, rebuilt when the directory's
 * state changes: scheduling asks once per participant (an invitation to 100 users). */
static struct {
    pthread_mutex_t lock;
    int64_t state;
    json_t *map;
} emails = {PTHREAD_MUTEX_INITIALIZER, -1, NULL};

int principal_find_email(struct store_conn *c, const char *email, char out[64])
{
    int64_t state = store_state_get(c, PRINCIPALS_ACCOUNT, principal_type.name);
    pthread_mutex_lock(&emails.lock);
    json_t *map = emails.state == state && emails.map ? json_incref(emails.map) : NULL;
    pthread_mutex_unlock(&emails.lock);
    if (!map) {
        map = json_object();
        store_object_foreach(c, PRINCIPALS_ACCOUNT, principal_type.name, email_map_cb, map);
        pthread_mutex_lock(&emails.lock);
        json_decref(emails.map);
        emails.map = json_incref(map);
        emails.state = state;
        pthread_mutex_unlock(&emails.lock);
    }
    char *low = xstrdup(email);
    for (char *p = low; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *id = json_string_value(json_object_get(map, low));
    if (id)
        snprintf(out, 64, "%s", id);
    free(low);
    json_decref(map);
    return id ? STORE_OK : STORE_NOTFOUND;
}

/* ---- users made before principals existed ------------------------------------------------ */

static int collect_name(const char *name, void *ud)
{
    json_array_append_new(ud, json_string(name));
    return 0;
}

static int default_identity(const char *id, json_t *obj, void *ud)
{
    char **addr = ud; /* obj is borrowed for the call: keep a copy */
    const char *a = json_string_value(json_object_get(obj, "calendarAddress"));
    if (a && (!*addr || json_is_true(json_object_get(obj, "isDefault")))) {
        free(*addr);
        *addr = xstrdup(a);
    }
    return 0;
}

json_t *principal_of_address(struct store_conn *c, const char *address)
{
    if (!address || strncasecmp(address, "mailto:", 7))
        return NULL;
    char id[64];
    return principal_find_email(c, address + 7, id) == 0 ? principal_load(c, id) : NULL;
}

static int backfill(struct store_conn *c, void *added)
{
    json_t *names = json_array();
    int rc = store_user_list(c, collect_name, names);
    size_t i;
    json_t *v;
    *(size_t *)added = 0;
    json_array_foreach(names, i, v)
    {
        struct store_user u = {0};
        if (rc || store_user_get(c, json_string_value(v), &u) != STORE_OK ||
            store_object_exists(c, PRINCIPALS_ACCOUNT, principal_type.name, u.account_id)) {
            store_user_clear(&u);
            continue;
        }
        /* the calendar address: the default ParticipantIdentity's (calendars-27 §3) */
        char *own = NULL;
        store_object_foreach(c, u.account_id, "ParticipantIdentity", default_identity, &own);
        rc = principal_put(c, u.account_id, "individual", u.name, own);
        *(size_t *)added += rc == STORE_OK;
        free(own);
        store_user_clear(&u);
    }
    json_decref(names);
    return rc;
}

int principals_backfill(struct store_conn *c)
{
    size_t added = 0;
    int rc = store_write(c, backfill, &added, "principals");
    if (!rc && added)
        log_info("principals: %zu users of an older database got their principal", added);
    return rc;
}

/* RFC 9670 §2: every user is an individual principal. */
static int principals_provision(struct store_conn *c, const struct jmap_owner *owner)
{
    return principal_put(c, owner->account, "individual", owner->name, owner->address);
}

static const struct jcapability *const principals_capabilities[] = {
    &principals_capability,
    &owner_capability,
    &availability_capability,
    NULL,
};

static const struct jtype *const principals_types[] = {
    &principal_type,
    &share_notification_type,
    NULL,
};

const struct jmodule principals_module = {
    .name = "principals",
    .capabilities = principals_capabilities,
    .types = principals_types,
    .register_methods = principals_register_methods,
    .provision = principals_provision,
};
