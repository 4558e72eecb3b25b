/*
 * copy.c — /copy (RFC 8620 §5.4): copies objects between two accounts of the user
 * in one transaction through the /set create path, then, with
 * onSuccessDestroyOriginal, destroys the originals with an implicit /set call
 * whose response follows the /copy response.
 */
#include <stdlib.h>
#include <string.h>

#include "jmap/engine_internal.h"
#include "jmap/metadata.h"
#include "util/util.h"

static const struct argspec copy_args[] = {
    {"fromAccountId", ARG_ID, ARG_REQUIRED},
    {"ifFromInState", ARG_STRING, ARG_NULLABLE},
    {"accountId", ARG_ID, ARG_REQUIRED},
    {"ifInState", ARG_STRING, ARG_NULLABLE},
    {"create", ARG_OBJECT, ARG_REQUIRED},
    {"onSuccessDestroyOriginal", ARG_BOOL, 0},
    {"destroyFromIfInState", ARG_STRING, ARG_NULLABLE},
    {NULL, 0, 0},
};

static bool state_mismatch(struct jmap_req *r, json_t *want, const char *account,
                           const struct jtype *t)
{
    return json_is_string(want) &&
           jmap_state_parse(json_string_value(want)) != jmap_type_state(r, t, account);
}

int jmap_std_copy(struct jmap_req *r, const struct jtype *t, json_t *args)
{
    if (jmap_args_check(r, args, copy_args, NULL))
        return -1;
    json_t *create = json_object_get(args, "create");
    const char *key;
    json_t *v;
    json_object_foreach(create, key, v)
    {
        if (!json_is_object(v) || !json_is_string(json_object_get(v, "id"))) {
            jmap_error(r, "invalidArguments", "each create must be an object with the source id");
            return -1;
        }
    }
    if ((int64_t)json_object_size(create) > r->srv->cfg->max_objects_in_set) {
        jmap_error(r, "requestTooLarge", "more than maxObjectsInSet objects");
        return -1;
    }
    const struct store_access *from, *to = jmap_copy_accounts(r, args, &from);
    if (!to)
        return -1;
    if (strcmp(from->account_id, to->account_id) == 0) {
        jmap_error(r, "invalidArguments", "fromAccountId and accountId must differ");
        return -1;
    }
    bool destroy_original = json_is_true(json_object_get(args, "onSuccessDestroyOriginal"));
    if (destroy_original && !from->may_write) {
        jmap_error(r, "accountReadOnly", "cannot destroy originals in a read-only account");
        return -1;
    }
    if (jmap_txn_begin(r, true))
        return -1;
    if (state_mismatch(r, json_object_get(args, "ifFromInState"), from->account_id, t) ||
        state_mismatch(r, json_object_get(args, "ifInState"), to->account_id, t)) {
        store_rollback(r->conn);
        jmap_error(r, "stateMismatch", "the state does not match");
        return -1;
    }
    int64_t old_state = jmap_type_state(r, t, to->account_id);
    struct jset s;
    jset_init(&s, r, t, to->account_id, args);
    json_t *originals = json_array();
    json_object_foreach(create, key, v)
    {
        const char *src_id = jmap_resolve_id(r, json_string_value(json_object_get(v, "id")));
        json_t *src = src_id ? store_object_get(r->conn, from->account_id, t->name, src_id) : NULL;
        if (src && from->shared && t->visible) {
            /* a sharee copies what they see, and nothing they cannot (issue 14) */
            json_t *seen =
                t->visible(r, from, src_id) && t->view ? t->view(r, from, src, NULL, NULL) : NULL;
            json_decref(src);
            src = seen;
        }
        if (!src) {
            json_object_set_new(s.not_created, key,
                                jmap_seterror("notFound", "no %s to copy", t->name));
            continue;
        }
        /* the copy: the original's client-settable properties, overridden by the
         * given ones; server-set properties are the target's to set */
        json_t *given = json_object();
        const char *pk;
        json_t *pv;
        json_object_foreach(src, pk, pv)
        {
            const struct jprop *p = jtype_prop(t, pk);
            if (p ? !(p->flags & JP_SERVER_SET) : t->open_props)
                json_object_set(given, pk, pv);
        }
        /* metadata-02 §2: metadata and privateMetadata travel as the other properties */
        metadata_copy_into(r, t, from->account_id, src_id, given);
        json_object_foreach(v, pk, pv)
        {
            if (strcmp(pk, "id") != 0)
                json_object_set(given, pk, pv);
        }
        json_t *created = NULL, *err = jset_create(&s, key, given, &created);
        if (err) {
            json_object_set_new(s.not_created, key, err);
        } else {
            json_object_set_new(s.created, key, created);
            json_array_append_new(originals, json_string(src_id));
        }
        json_decref(given);
        json_decref(src);
    }
    if (t->finish) /* e.g. records the copies' blob references, now that they have ids */
        t->finish(&s, json_object_size(s.not_created) == 0);
    int64_t new_state = jmap_type_state(r, t, to->account_id);
    if (store_commit(r->conn) != STORE_OK) {
        store_rollback(r->conn);
        json_object_clear(r->changed);
        jset_fini(&s);
        json_decref(originals);
        jmap_error(r, "serverFail", "commit failed");
        return -1;
    }
    json_t *resp = json_pack("{s:s, s:s, s:o, s:o}", "fromAccountId", from->account_id, "accountId",
                             to->account_id, "oldState", jmap_state_string(old_state), "newState",
                             jmap_state_string(new_state));
    json_object_set_new(resp, "created", jmap_or_null(json_incref(s.created)));
    json_object_set_new(resp, "notCreated", jmap_or_null(json_incref(s.not_created)));
    engine_respond(r, t, "copy", resp);
    jset_fini(&s);
    if (destroy_original && json_array_size(originals)) {
        json_t *set = json_pack("{s:s, s:O}", "accountId", from->account_id, "destroy", originals);
        json_t *if_in = json_object_get(args, "destroyFromIfInState");
        if (json_is_string(if_in))
            json_object_set(set, "ifInState", if_in);
        jmap_std_set(r, t, set); /* its response is the implicit Foo/set (§5.4) */
        json_decref(set);
    }
    json_decref(originals);
    return 0;
}
