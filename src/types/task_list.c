/*
 * task_list.c — the TaskList type (draft-ietf-jmap-tasks-06 §4 "TaskLists"): property
 * table, validation, myRights (TaskRights), the inbox role, and the destroy rules
 * (taskListHasTask, onDestroyRemoveTasks) over the account's Tasks. Where the draft
 * is silent it follows the Calendar of draft-ietf-jmap-calendars-27 §4 (docs/tasks.md).
 */
#include <string.h>

#include "jmap/engine.h"
#include "types/calendar_alert.h"
#include "types/share.h"
#include "types/tasks.h"
#include "types/types.h"
#include "util/util.h"

/* tasks-06 §4 TaskList: workflowStatuses' default */
#define DEFAULT_WORKFLOW \
    "[\"completed\", \"failed\", \"in-process\", \"needs-action\", \"cancelled\", \"pending\"]"

static const struct jprop task_list_props[] = {
    {"id", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"role", 0, "null"},
    {"name", JP_REQUIRED, NULL},
    {"description", 0, "null"},
    {"color", 0, "null"},
    {"keywordColors", 0, "null"},
    {"categoryColors", 0, "null"},
    {"sortOrder", 0, "0"},
    {"isSubscribed", 0, "true"}, /* true for task lists the user creates */
    {"timeZone", 0, "null"},
    {"workflowStatuses", 0, DEFAULT_WORKFLOW},
    {"defaultAlertsWithTime", 0, "null"},
    {"defaultAlertsWithoutTime", 0, "null"},
    {"shareWith", 0, "null"},
    {"myRights", JP_SERVER_SET, NULL},
    {NULL, 0, NULL},
};

static const struct argspec task_list_set_args[] = {
    {"onDestroyRemoveTasks", ARG_BOOL, 0},
    {NULL, 0, 0},
};

/* tasks-06 §4 TaskRights: the owner may do everything; an account-wide grant gives
 * all but mayDelete (read-only: mayReadItems); a sharee what shareWith gives them. */
static void task_list_decorate(struct jmap_req *r, const struct store_access *a, json_t *obj)
{
    json_object_set_new(
        obj, "myRights",
        share_rights_json(SHARE_TASK_LIST, share_rights(r, a, SHARE_TASK_LIST, obj)));
}

/* A sharee's view: their per-user properties, shareWith only with mayAdmin (share.c). */
static json_t *task_list_view(struct jmap_req *r, const struct store_access *a, json_t *obj,
                              json_t *props, json_t *args)
{
    (void)args;
    json_t *out = share_collection_view(r, a, SHARE_TASK_LIST, obj);
    return out ? engine_select_props(out, props) : NULL;
}

static int task_list_index(struct store_conn *c, const char *account, const char *id, json_t *obj)
{
    calendar_alert_task_list_changed(c, account); /* default alerts, isSubscribed, timeZone */
    return share_collection_index(c, SHARE_TASK_LIST, account, id, obj);
}

static bool is_colour_map(json_t *v)
{
    if (json_is_null(v))
        return true;
    if (!json_is_object(v))
        return false;
    const char *k;
    json_t *c;
    json_object_foreach(v, k, c)
    {
        if (!*k || !json_is_string(c) || !types_is_css_color(json_string_value(c)))
            return false;
    }
    return true;
}

/* workflowStatuses: a non-empty String[] without duplicates (tasks-06 §4). */
static bool workflow_ok(json_t *v)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return false;
    size_t i, j;
    json_t *s, *t;
    json_array_foreach(v, i, s)
    {
        if (!json_is_string(s) || json_string_length(s) == 0)
            return false;
        json_array_foreach(v, j, t)
        {
            if (j < i && json_equal(s, t))
                return false;
        }
    }
    return true;
}

/* Id[Alert] of default alerts; unlike calendars (§4), ids need only be unique in the map. */
static bool alert_map_ok(json_t *v)
{
    if (!json_is_object(v))
        return false;
    const char *k;
    json_t *a;
    json_object_foreach(v, k, a)
    {
        if (!util_is_jmap_id(k) || !types_default_alert_ok(a))
            return false;
    }
    return true;
}

struct role_clash {
    const char *self, *role;
    bool clash;
};

static int role_cb(const char *id, json_t *obj, void *ud)
{
    struct role_clash *c = ud;
    const char *role = json_string_value(json_object_get(obj, "role"));
    if (role && strcmp(role, c->role) == 0 && (!c->self || strcmp(id, c->self) != 0))
        c->clash = true;
    return 0;
}

static void check_role(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    json_t *v = json_object_get(obj, "role");
    if (json_is_null(v))
        return;
    const char *role = json_string_value(v);
    if (!role || (strcmp(role, "inbox") && strcmp(role, "trash"))) {
        jset_invalid(s, invalid, "role", "must be \"inbox\", \"trash\" or null (tasks-06 §4)");
        return;
    }
    /* one task list of each role per account: "the principal's default task list" */
    struct role_clash c = {old ? json_string_value(json_object_get(old, "id")) : NULL, role, false};
    store_object_foreach(jset_conn(s), jset_account(s), task_list_type.name, role_cb, &c);
    if (c.clash)
        jset_invalid(s, invalid, "role", "another task list of the account has this role");
}

static void check_strings(struct jset *s, json_t *obj, json_t *invalid)
{
    json_t *v = json_object_get(obj, "name");
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 255)
        jset_invalid(s, invalid, "name", "must be a non-empty String of at most 255 octets (§4)");
    v = json_object_get(obj, "description");
    if (!json_is_null(v) && !json_is_string(v))
        jset_invalid(s, invalid, "description", "must be a String or null");
    v = json_object_get(obj, "color");
    if (!json_is_null(v) && !(json_is_string(v) && types_is_css_color(json_string_value(v))))
        jset_invalid(s, invalid, "color", "not a CSS color value (tasks-06 §4)");
    if (!is_colour_map(json_object_get(obj, "keywordColors")))
        jset_invalid(s, invalid, "keywordColors", "must be a String[String] of CSS colors or null");
    if (!is_colour_map(json_object_get(obj, "categoryColors")))
        jset_invalid(s, invalid, "categoryColors",
                     "must be a String[String] of CSS colors or null");
    v = json_object_get(obj, "timeZone");
    if (!json_is_null(v) && !(json_is_string(v) && types_is_time_zone(json_string_value(v))))
        jset_invalid(s, invalid, "timeZone", "not a time zone id of the server (IANA)");
}

static json_t *task_list_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    check_strings(s, obj, invalid);
    json_t *v = json_object_get(obj, "sortOrder");
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= 2147483648LL)
        jset_invalid(s, invalid, "sortOrder", "must be an UnsignedInt below 2^31");
    if (!json_is_boolean(json_object_get(obj, "isSubscribed")))
        jset_invalid(s, invalid, "isSubscribed", "must be a Boolean");
    if (!workflow_ok(json_object_get(obj, "workflowStatuses")))
        jset_invalid(s, invalid, "workflowStatuses",
                     "must be a non-empty String[] without duplicates (tasks-06 §4)");
    check_role(s, obj, old, invalid);
    static const char *const alerts[] = {"defaultAlertsWithTime", "defaultAlertsWithoutTime"};
    for (int i = 0; i < 2; i++) {
        v = json_object_get(obj, alerts[i]);
        if (!json_is_null(v) && !alert_map_ok(v))
            jset_invalid(s, invalid, alerts[i],
                         "must be an Id[Alert] of OffsetTrigger alerts or null (calendars-27 §4)");
    }
    json_object_del(obj, "myRights"); /* computed on /get, never stored */
    /* §4 shareWith (mayAdmin), and what a sharee may change: per-user properties */
    return share_collection_validate(s, SHARE_TASK_LIST, obj, old, invalid);
}

/* tasks-06 §4.3 TaskList/set: taskListHasTask unless onDestroyRemoveTasks, then the
 * tasks are destroyed (a task is in exactly one list). The inbox may not go. */
static json_t *task_list_destroy(struct jset *s, const char *id, json_t *old)
{
    json_t *err = share_collection_destroy(s, SHARE_TASK_LIST, old); /* myRights.mayDelete */
    if (err)
        return err;
    const char *role = json_string_value(json_object_get(old, "role"));
    if (role && strcmp(role, "inbox") == 0)
        return jmap_seterror("forbidden", "the default (inbox) task list cannot be destroyed");
    return types_destroy_collection(s, id, &task_type, "taskListId", "onDestroyRemoveTasks",
                                    "taskListHasTask");
}

const struct jtype task_list_type = {
    .metadata = true, /* draft-ietf-jmap-metadata-02 (issue 18) */
    .name = "TaskList",
    .capability = JMAP_TASKS,
    .props = task_list_props,
    .methods = JM_GET | JM_SET | JM_CHANGES,
    .id_prefix = 'l',
    .set_args = task_list_set_args,
    .decorate = task_list_decorate,
    .view = task_list_view,
    .validate = task_list_validate,
    .destroy = task_list_destroy,
    .index = task_list_index,
    .visible = share_task_list_visible_id,
};
