/*
 * share_notification.c — the ShareNotification type (RFC 9670 §3): the server
 * records in a user's own account (the account holding the principals) each
 * change of their rights on a shared object; the user reads them with
 * /get /changes /query /queryChanges and dismisses them with /set destroy. Made by
 * share_notification_add(), from the collections' shareWith changes.
 */
#include <string.h>

#include "jmap/engine.h"
#include "types/types.h"
#include "util/util.h"

static const struct jprop share_notification_props[] = {
    {"id", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"created", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"changedBy", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"objectType", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"objectAccountId", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"objectId", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"oldRights", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"newRights", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"name", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {NULL, 0, NULL},
};

/* §3.3: only destroy; create and update are forbidden. */
json_t *notification_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    (void)s;
    (void)obj;
    (void)old;
    (void)invalid;
    return jmap_seterror("forbidden", "notifications are made by the server; only destroy");
}

int notification_filter(json_t *obj, const char *key, json_t *value, const char *ids_key,
                        const char *id_prop)
{
    int rc = notification_created_filter(obj, key, value);
    if (rc != -1)
        return rc;
    if (strcmp(key, "type") == 0) {
        if (!json_is_string(value))
            return -2;
        return !obj || json_equal(json_object_get(obj, "type"), value);
    }
    if (strcmp(key, ids_key))
        return -1;
    if (!json_is_null(value) && !json_is_array(value))
        return -2;
    if (!obj || json_is_null(value))
        return 1;
    size_t i;
    json_t *v;
    json_array_foreach(value, i, v)
    {
        if (json_equal(v, json_object_get(obj, id_prop)))
            return 1;
    }
    return 0;
}

int notification_created_filter(json_t *obj, const char *key, json_t *value)
{
    if (strcmp(key, "after") && strcmp(key, "before"))
        return -1;
    if (!json_is_null(value) && !types_is_utc_datetime(value))
        return -2;
    if (!obj || json_is_null(value))
        return 1;
    int64_t t, c;
    if (util_utc_parse(json_string_value(value), &t) ||
        util_utc_parse(json_string_value(json_object_get(obj, "created")), &c))
        return 0;
    return key[0] == 'a' ? c >= t : c < t;
}

/* §3.4.1 */
static int share_notification_filter(struct jmap_req *r, json_t *obj, const char *key,
                                     json_t *value)
{
    (void)r;
    int rc = notification_created_filter(obj, key, value);
    if (rc != -1)
        return rc;
    if (strcmp(key, "objectType") && strcmp(key, "objectAccountId"))
        return -1;
    if (!json_is_string(value))
        return -2;
    return !obj || json_equal(json_object_get(obj, key), value);
}

/* §3.4.2: "created" (UTCDate strings sort as text) */
int notification_compare(json_t *a, json_t *b, const char *property, bool *ok)
{
    if (strcmp(property, "created")) {
        *ok = false;
        return 0;
    }
    *ok = true;
    const char *x = json_string_value(json_object_get(a, property)),
               *y = json_string_value(json_object_get(b, property));
    return strcmp(x ? x : "", y ? y : "");
}

const struct jtype share_notification_type = {
    .name = "ShareNotification",
    .capability = JMAP_PRINCIPALS,
    .props = share_notification_props,
    .methods = JM_GET | JM_SET | JM_CHANGES | JM_QUERY | JM_QUERYCHANGES,
    .id_prefix = 'N',
    .validate = notification_validate,
    .filter = share_notification_filter,
    .compare = notification_compare,
};

void share_notification_register_methods(void)
{
}

int share_notification_add(struct store_conn *c, struct jmap_req *r, const char *user_account,
                           const char *object_type, const char *object_account,
                           const char *object_id, const char *name, json_t *old_rights,
                           json_t *new_rights)
{
    char created[21], id[16];
    util_utc_format(util_now(), created);
    json_t *by = json_null();
    const char *me = r ? jmap_user_principal(r->user) : NULL;
    if (r) {
        json_t *p = me ? principal_load(c, me) : NULL;
        by = json_pack("{s:s, s:O, s:o}", "name", r->user->name, "email",
                       p && json_object_get(p, "email") ? json_object_get(p, "email") : json_null(),
                       "principalId", me ? json_string(me) : json_null());
        json_decref(p);
    } else {
        by = json_pack("{s:s, s:n, s:n}", "name", "administrator", "email", "principalId");
    }
    json_t *obj =
        json_pack("{s:s, s:o, s:s, s:s, s:s, s:O, s:O, s:s}", "created", created, "changedBy", by,
                  "objectType", object_type, "objectAccountId", object_account, "objectId",
                  object_id, "oldRights", old_rights ? old_rights : json_null(), "newRights",
                  new_rights ? new_rights : json_null(), "name", name ? name : "");
    util_random_id(id, 12, share_notification_type.id_prefix);
    json_object_set_new(obj, "id", json_string(id));
    int rc = jmap_object_write(c, r, &share_notification_type, user_account, id, obj, true);
    json_decref(obj);
    return rc ? STORE_ERR : STORE_OK;
}
