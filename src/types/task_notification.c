/*
 * task_notification.c — the TaskNotification type (draft-ietf-jmap-tasks-06 §6; the
 * same as calendars-27 §7 CalendarEventNotification): what the server records in an
 * account when someone other than its owner creates, changes or destroys one of its
 * tasks (a user with an account-wide grant, `jmapd user share`). /get /changes /query
 * /queryChanges, and /set that only destroys.
 *
 * A Task/set notes each change its hooks see (task_notify) and the /set's finish hook
 * (task_notify_flush) records a notification only for the changes that were stored.
 */
#include <string.h>

#include "formats/json/patch.h"
#include "jmap/engine.h"
#include "types/tasks.h"
#include "types/types.h"
#include "util/util.h"

static const struct jprop notification_props[] = {
    {"id", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"created", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"changedBy", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"comment", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"type", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"taskId", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"isDraft", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"task", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"taskPatch", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {ITIP_METHOD_PROP, JP_SERVER_SET | JP_IMMUTABLE, NULL}, /* scheduling.c: COUNTER */
    {NULL, 0, NULL},
};

/* calendars-27 §7.4.1 by analogy: after, before (created), type, taskIds */
static int task_notification_filter(struct jmap_req *r, json_t *obj, const char *key, json_t *value)
{
    (void)r;
    return notification_filter(obj, key, value, "taskIds", "taskId");
}

const struct jtype task_notification_type = {
    .name = "TaskNotification",
    .capability = JMAP_TASKS,
    .props = notification_props,
    .methods = JM_GET | JM_SET | JM_CHANGES | JM_QUERY | JM_QUERYCHANGES,
    .id_prefix = 'm',
    .validate = notification_validate,
    .destroy = scheduling_decline_counter, /* RFC 5546 §3.2.8 */
    .set_args = decline_counter_args,
    .filter = task_notification_filter,
    .compare = notification_compare,
};

/* tasks-06 §5.2 Person for who made the change: the principal at from_address (a
 * scheduling message's sender) or else the request's user; their name and id. */
static json_t *changed_by(struct store_conn *c, struct jmap_req *r, const char *from_address)
{
    json_t *p = from_address ? principal_of_address(c, from_address) : NULL;
    const char *pid = p ? json_string_value(json_object_get(p, "id")) : NULL;
    if (!p) {
        pid = r ? jmap_user_principal(r->user) : NULL;
        p = pid ? principal_load(c, pid) : NULL;
    }
    if (!p && from_address) { /* someone outside the server (iMIP) */
        json_t *by = json_pack("{s:s, s:s, s:s}", "@type", "Person", "name", from_address, "uri",
                               from_address);
        return by;
    }
    const char *name = json_string_value(json_object_get(p, "name"));
    json_t *by = json_pack("{s:s, s:s}", "@type", "Person", "name",
                           name ? name : (r ? r->user->name : "unknown"));
    if (pid)
        json_object_set_new(by, "principalId", json_string(pid));
    json_t *email = json_object_get(p, "email");
    if (json_is_string(email)) {
        char *uri = xasprintf("mailto:%s", json_string_value(email));
        json_object_set_new(by, "uri", json_string(uri));
        free(uri);
    }
    json_decref(p);
    return by;
}

int task_notification_add(struct store_conn *c, struct jmap_req *r, const char *account,
                          const char *type, const char *task_id, json_t *task, json_t *patch,
                          const char *from_address)
{
    return task_notification_add_ex(c, r, account, type, task_id, task, patch, from_address, NULL);
}

int task_notification_add_ex(struct store_conn *c, struct jmap_req *r, const char *account,
                             const char *type, const char *task_id, json_t *task, json_t *patch,
                             const char *from_address, json_t *extra)
{
    char created[21], id[16];
    util_utc_format(util_now(), created);
    json_t *obj = json_pack("{s:s, s:o, s:n, s:s, s:s, s:O}", "created", created, "changedBy",
                            changed_by(c, r, from_address), "comment", "type", type, "taskId",
                            task_id, "task", task ? task : json_null());
    if (strcmp(type, "destroyed"))
        json_object_set_new(obj, "isDraft",
                            json_boolean(json_is_true(json_object_get(task, "isDraft"))));
    if (strcmp(type, "updated") == 0)
        json_object_set(obj, "taskPatch", patch ? patch : json_object());
    if (extra)
        json_object_update(obj, extra);
    util_random_id(id, 12, task_notification_type.id_prefix);
    json_object_set_new(obj, "id", json_string(id));
    int rc = jmap_object_write(c, r, &task_notification_type, account, id, obj, true);
    json_decref(obj);
    return rc ? STORE_ERR : STORE_OK;
}

/* The changes noted during the /set in progress on this thread: task id -> {type,
 * before, after}. A /set runs on one worker thread from its hooks to its finish. */
static _Thread_local json_t *pending;

void task_notify(struct jset *s, const char *id, json_t *before, json_t *after)
{
    const struct store_access *a = jset_access(s);
    if (!a || a->is_personal || !id)
        return; /* the owner's own changes notify nobody */
    if (!pending)
        pending = json_object();
    json_t *prev = json_object_get(pending, id);
    json_t *first = prev ? json_object_get(prev, "before") : before; /* created + updated */
    json_object_set_new(pending, id,
                        json_pack("{s:O?, s:O?, s:s}", "before", first, "after", after,
                                  "account", a->account_id));
}

void task_notify_flush(struct jset *s, bool all_ok)
{
    (void)all_ok;
    json_t *p = pending;
    pending = NULL;
    const char *id;
    json_t *v;
    json_object_foreach(p, id, v)
    {
        /* a /set that ended without its finish leaves nothing for another account */
        if (strcmp(json_string_value(json_object_get(v, "account")), jset_account(s)) != 0)
            continue;
        json_t *before = json_object_get(v, "before"), *after = json_object_get(v, "after");
        before = json_is_null(before) ? NULL : before; /* stored as JSON null */
        after = json_is_null(after) ? NULL : after;
        json_t *now = store_object_get(jset_conn(s), jset_account(s), task_type.name, id);
        /* only what was stored: the task now is what the hook saw last */
        bool stored = after ? now && json_equal(json_object_get(now, "updated"),
                                                json_object_get(after, "updated"))
                            : now == NULL;
        if (stored && !before)
            task_notification_add(jset_conn(s), jset_req(s), jset_account(s), "created", id, now,
                                  NULL, NULL);
        else if (stored && after) {
            json_t *patch = patch_diff(before, now);
            task_notification_add(jset_conn(s), jset_req(s), jset_account(s), "updated", id, before,
                                  patch, NULL);
            json_decref(patch);
        } else if (stored)
            task_notification_add(jset_conn(s), jset_req(s), jset_account(s), "destroyed", id,
                                  before, NULL, NULL);
        json_decref(now);
    }
    json_decref(p);
}
