/*
 * core.c — what every JMAP server has (RFC 8620): Core/echo, the user and their
 * accounts, the session resource and its state, and jmap_init(), which registers
 * core, blob and the data-type modules it is given (types/registry.c): their
 * capabilities, types, methods, provisioning, importers and exporters. jmap/
 * knows the types only through these registrations.
 */
#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jmap/jmap.h"
#include "jmap/metadata.h"
#include "push/webpush.h"
#include "util/util.h"

/* RFC 8620 §4: Core/echo returns its arguments unchanged. */
static int core_echo(struct jmap_req *r, json_t *args)
{
    jmap_respond(r, "Core/echo", json_incref(args));
    return 0;
}

static const struct jmodule *const *modules;

void jmap_init(const struct jmodule *const *mods)
{
    static int done;
    if (done++)
        return;
    modules = mods;
    jmap_register_method("Core/echo", JMAP_CORE, core_echo);
    push_subscription_register();
    blob_register();
    for (size_t m = 0; modules && modules[m]; m++) {
        const struct jmodule *mod = modules[m];
        for (size_t i = 0; mod->capabilities && mod->capabilities[i]; i++)
            jmap_register_capability(mod->capabilities[i]);
        for (size_t i = 0; mod->types && mod->types[i]; i++)
            jmap_register_type(mod->types[i]);
        if (mod->register_methods)
            mod->register_methods();
    }
    /* draft-ietf-jmap-metadata-02 §1.1.1: advertised once a type opts in */
    for (size_t i = 0; i < jmap_type_count(); i++)
        if (jmap_type_at(i)->metadata) {
            jmap_register_capability(&metadata_capability);
            break;
        }
}

static _Atomic uint64_t accounts_generation;
static __thread bool accounts_dirty;

void jmap_accounts_touch(void)
{
    accounts_dirty = true;
    accounts_generation++; /* a reader loading now may see the old rows: flush again */
}

bool jmap_accounts_flush(void)
{
    if (!accounts_dirty)
        return false;
    accounts_dirty = false;
    accounts_generation++;
    return true;
}

void jmap_accounts_changed_elsewhere(void)
{
    accounts_generation++;
}

uint64_t jmap_accounts_generation(void)
{
    return accounts_generation;
}

static int add_group(const char *group_id, void *ud)
{
    struct jmap_user *u = ud;
    if (u->ngroups == JMAP_MAX_GROUPS)
        return 1;
    snprintf(u->groups[u->ngroups++], sizeof u->groups[0], "%s", group_id);
    return 0;
}

const char *jmap_user_principal(const struct jmap_user *u)
{
    for (int i = 0; i < u->naccounts; i++)
        if (u->accounts[i].is_personal)
            return u->accounts[i].account_id;
    return NULL;
}

bool jmap_user_is_principal(const struct jmap_user *u, const char *principal_id)
{
    const char *own = jmap_user_principal(u);
    if (own && strcmp(own, principal_id) == 0)
        return true;
    for (int i = 0; i < u->ngroups; i++)
        if (strcmp(u->groups[i], principal_id) == 0)
            return true;
    return false;
}

bool jmap_user_freebusy(const struct jmap_user *u, const char *account)
{
    for (int i = 0; i < u->nfreebusy; i++)
        if (strcmp(u->freebusy[i], account) == 0)
            return true;
    return false;
}

int jmap_user_load(struct store_conn *c, int64_t user_id, struct jmap_user *out)
{
    struct store_user u = {0};
    int rc = store_user_get_by_id(c, user_id, &u);
    if (rc)
        return rc;
    memset(out, 0, offsetof(struct jmap_user, accounts));
    out->id = u.id;
    snprintf(out->name, sizeof out->name, "%s", u.name);
    store_user_clear(&u);
    out->naccounts = store_user_accounts(c, user_id, out->accounts, JMAP_MAX_ACCOUNTS);
    if (out->naccounts < 0)
        return STORE_ERR;
    /* calendars-27 §4.1: an account shared for free/busy alone is none of theirs */
    int kept = 0;
    out->nfreebusy = 0;
    for (int i = 0; i < out->naccounts; i++) {
        if (out->accounts[i].readable)
            out->accounts[kept++] = out->accounts[i];
        else /* both char[64], NUL-terminated */
            memcpy(out->freebusy[out->nfreebusy++], out->accounts[i].account_id,
                   sizeof out->freebusy[0]);
    }
    out->naccounts = kept;
    out->ngroups = 0;
    if (store_user_groups(c, user_id, add_group, out) != STORE_OK)
        return STORE_ERR;
    /* The session state covers what the session shows: accounts and rights. */
    struct buf b = {0};
    buf_printf(&b, "%s", out->name);
    for (int i = 0; i < out->naccounts; i++)
        buf_printf(&b, "|%s:%d:%d:%d", out->accounts[i].account_id, out->accounts[i].may_write,
                   out->accounts[i].shared, out->accounts[i].subscribed);
    for (int i = 0; i < out->ngroups; i++)
        buf_printf(&b, "|g%s", out->groups[i]);
    for (int i = 0; i < out->nfreebusy; i++)
        buf_printf(&b, "|f%s", out->freebusy[i]);
    char hex[65];
    util_sha256_hex(b.data, b.len, hex);
    buf_free(&b);
    snprintf(out->session_state, sizeof out->session_state, "%.16s", hex);
    return STORE_OK;
}

const char *jmap_session_state(const struct jmap_user *user)
{
    return user->session_state;
}

static json_t *core_capability(const struct config *cfg)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:[s,s,s,s]}", "maxSizeUpload",
                     (json_int_t)cfg->max_size_upload, "maxConcurrentUpload",
                     (json_int_t)cfg->max_concurrent_upload, "maxSizeRequest",
                     (json_int_t)cfg->max_size_request, "maxConcurrentRequests",
                     (json_int_t)cfg->max_concurrent_requests, "maxCallsInRequest",
                     (json_int_t)cfg->max_calls_in_request, "maxObjectsInGet",
                     (json_int_t)cfg->max_objects_in_get, "maxObjectsInSet",
                     (json_int_t)cfg->max_objects_in_set, "collationAlgorithms", "i;ascii-numeric",
                     "i;ascii-casemap", "i;unicode-casemap", "i;octet");
}

/* ---- capabilities and exporters ------------------------------------------------------- */

#define MAX_CAPS 16
static const struct jcapability *caps[MAX_CAPS];
static size_t ncaps;

void jmap_register_capability(const struct jcapability *cap)
{
    assert(ncaps < MAX_CAPS); /* a fixed list, sized for the server's capabilities */
    caps[ncaps++] = cap;
}

bool jmap_account_has(const char *uri, const struct store_access *a)
{
    for (size_t i = 0; i < ncaps; i++)
        if (strcmp(caps[i]->uri, uri) == 0)
            return !caps[i]->account_supports || caps[i]->account_supports(a);
    return true; /* core */
}

bool jmap_capability_known(const char *uri)
{
    if (strcmp(uri, JMAP_CORE) == 0)
        return true;
    for (size_t i = 0; i < ncaps; i++)
        if (!caps[i]->account_only && strcmp(caps[i]->uri, uri) == 0)
            return true;
    return false;
}

/* Importers and exporters come from the modules, in registry order. */
jmap_sync_fn jmap_export_sync_find(const char *kind)
{
    for (size_t m = 0; modules && modules[m]; m++)
        for (const struct jexport_sync *x = modules[m]->export_syncs; x && x->kind; x++)
            if (strcmp(x->kind, kind) == 0)
                return x->fn;
    return NULL;
}

jmap_page_fn jmap_export_page_find(const char *kind)
{
    for (size_t m = 0; modules && modules[m]; m++)
        for (const struct jexport_sync *x = modules[m]->export_syncs; x && x->kind; x++)
            if (strcmp(x->kind, kind) == 0)
                return x->page;
    return NULL;
}

jmap_export_fn jmap_exporter_find(const char *kind)
{
    for (size_t m = 0; modules && modules[m]; m++)
        for (const struct jexporter *x = modules[m]->exporters; x && x->kind; x++)
            if (strcmp(x->kind, kind) == 0)
                return x->fn;
    return NULL;
}

size_t jmap_exporter_count(void)
{
    size_t n = 0;
    for (size_t m = 0; modules && modules[m]; m++)
        for (const struct jexporter *x = modules[m]->exporters; x && x->kind; x++)
            n++;
    return n;
}

const char *jmap_exporter_kind(size_t i)
{
    for (size_t m = 0; modules && modules[m]; m++)
        for (const struct jexporter *x = modules[m]->exporters; x && x->kind; x++)
            if (i-- == 0)
                return x->kind;
    return NULL;
}

jmap_import_fn jmap_importer_find(const char *ext)
{
    for (size_t m = 0; modules && modules[m]; m++)
        for (const struct jimporter *x = modules[m]->importers; x && x->extension; x++)
            if (strcasecmp(x->extension, ext) == 0)
                return x->fn;
    return NULL;
}

void jmap_importer_list(char *buf, size_t size)
{
    assert(size > 0);
    size_t off = 0;
    buf[0] = 0;
    for (size_t m = 0; modules && modules[m]; m++)
        for (const struct jimporter *x = modules[m]->importers; x && x->extension; x++) {
            int n = snprintf(buf + off, size - off, "%s%s", off ? ", " : "", x->extension);
            if (n < 0 || (size_t)n >= size - off)
                return;
            off += (size_t)n;
        }
}

/* ---- the session resource -------------------------------------------------------------- */

json_t *jmap_account_object(const struct config *cfg, const struct jmap_user *user,
                            const struct store_access *a)
{
    json_t *acaps = json_object();
    for (size_t k = 0; k < ncaps; k++) {
        if (caps[k]->account_supports && !caps[k]->account_supports(a))
            continue;
        json_t *v = caps[k]->account_value_for ? caps[k]->account_value_for(cfg, user, a)
                    : caps[k]->account_value ? caps[k]->account_value(cfg, a)
                                             : json_object();
        if (v)
            json_object_set_new(acaps, caps[k]->uri, v);
    }
    return json_pack("{s:s, s:b, s:b, s:o}", "name", a->name, "isPersonal", a->is_personal,
                     "isReadOnly", !a->may_write, "accountCapabilities", acaps);
}

json_t *jmap_session(struct jmap_server *srv, const struct jmap_user *user)
{
    const struct config *cfg = srv->cfg;
    json_t *capabilities = json_object();
    json_object_set_new(capabilities, JMAP_CORE, core_capability(cfg));
    /* RFC 9749 §3: the key a push service may check our VAPID signatures with */
    const char *vapid = webpush_public_key(srv->webpush);
    if (vapid)
        json_object_set_new(capabilities, JMAP_WEBPUSH_VAPID,
                            json_pack("{s:s}", "applicationServerKey", vapid));
    for (size_t i = 0; i < ncaps; i++)
        if (!caps[i]->account_only)
            json_object_set_new(capabilities, caps[i]->uri,
                                caps[i]->session_value ? caps[i]->session_value(cfg)
                                                       : json_object());

    json_t *accounts = json_object(), *primary = json_object();
    for (int i = 0; i < user->naccounts; i++) {
        const struct store_access *a = &user->accounts[i];
        if (!a->subscribed)
            continue; /* RFC 9670 §1.4: reachable, but not listed */
        json_t *account = jmap_account_object(cfg, user, a);
        /* RFC 8620 §2: the primary account for a capability is the user's own */
        const char *uri;
        json_t *v;
        json_object_foreach(json_object_get(account, "accountCapabilities"), uri, v)
        {
            if (a->is_personal && jmap_capability_known(uri))
                json_object_set_new(primary, uri, json_string(a->account_id));
        }
        json_object_set_new(accounts, a->account_id, account);
    }
    const char *base = cfg->base_url;
    char *api = xasprintf("%s/jmap/api/", base),
         *down = xasprintf("%s/jmap/download/{accountId}/{blobId}/{name}?type={type}", base),
         *up = xasprintf("%s/jmap/upload/{accountId}/", base),
         *ev = xasprintf("%s/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}",
                         base);
    json_t *s = json_pack("{s:o, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s}", "capabilities",
                          capabilities,
                          "accounts", accounts, "primaryAccounts", primary, "username", user->name,
                          "apiUrl", api, "downloadUrl", down, "uploadUrl", up, "eventSourceUrl", ev,
                          "state", user->session_state);
    free(api);
    free(down);
    free(up);
    free(ev);
    return s;
}

static void (*after_request[4])(struct jmap_server *srv);

void jmap_register_after_request(void (*fn)(struct jmap_server *srv))
{
    for (size_t i = 0; i < sizeof after_request / sizeof after_request[0]; i++)
        if (!after_request[i]) {
            after_request[i] = fn;
            return;
        }
    assert(!"too many after-request hooks");
}

void jmap_after_request(struct jmap_server *srv)
{
    for (size_t i = 0; i < sizeof after_request / sizeof after_request[0] && after_request[i];
         i++)
        after_request[i](srv);
}

static int collect_user(const char *name, void *ud)
{
    json_array_append_new(ud, json_string(name));
    return 0;
}

static int backfill(struct store_conn *c, void *ud)
{
    (void)ud;
    json_t *names = json_array();
    int rc = store_user_list(c, collect_user, names);
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        struct store_user u = {0};
        if (!rc && store_user_get(c, json_string_value(v), &u) == STORE_OK) {
            struct jmap_owner owner = {u.account_id, u.name, NULL};
            for (size_t m = 0; !rc && modules && modules[m]; m++)
                rc = modules[m]->backfill ? modules[m]->backfill(c, &owner) : STORE_OK;
        }
        store_user_clear(&u);
    }
    json_decref(names);
    return rc;
}

int jmap_backfill(struct store_conn *c)
{
    return store_write(c, backfill, NULL, "backfill");
}

int jmap_account_provision(struct jmap_server *srv, struct store_conn *c,
                           const struct jmap_owner *owner)
{
    for (size_t m = 0; modules && modules[m]; m++) {
        int rc = modules[m]->provision ? modules[m]->provision(c, owner) : STORE_OK;
        if (rc)
            return rc;
    }
    return STORE_OK;
}
