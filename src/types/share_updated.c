/*
 * share_updated.c — the per-user `updated` of a shared event or task
 * (draft-ietf-jmap-calendars-27 §5.4, draft-ietf-jmap-tasks-06 §5.4 "Per-user
 * properties"): "When writing only per-user properties, the updated property MUST
 * also be stored just for that user, if set. When fetching the updated property, the
 * value to return is whichever is later of the per-user updated time or the updated
 * time of the base event."
 *
 * Where the times live (share.h): a sharee's own `updated` is kept with their other
 * per-user values (store_user_props, key "updated"). The owner's per-user values are
 * the object's own, so an owner's write of per-user properties only moves the
 * object's `updated` (the owner sees it at no cost) and records, under the server's
 * user id 0, the shared time the others keep seeing: {"base": <shared updated>,
 * "at": <the object's updated then>}. The record counts only while the object's
 * `updated` is still "at": any later write that moves it (a shared change, a
 * scheduling message) makes the object's value the shared one again.
 */
#include <string.h>

#include "jmap/engine.h"
#include "types/share.h"
#include "util/util.h"

#define SHARED_USER 0 /* no user has id 0 (as share.c's exposure records) */

static const char *record_type(enum share_kind k)
{
    return k == SHARE_TASK_LIST ? "Task#updated" : "CalendarEvent#updated";
}

/* Whether a (UTCDateTime) is later than b; a missing time is the earliest. */
static bool later(json_t *a, json_t *b)
{
    int64_t ta, tb;
    if (!json_is_string(a) || util_utc_parse(json_string_value(a), &ta) != 0)
        return false;
    if (!json_is_string(b) || util_utc_parse(json_string_value(b), &tb) != 0)
        return true;
    return ta > tb;
}

static bool is_per_user_key(enum share_kind k, const char *key)
{
    for (const char *const *p = share_member_per_user(k); *p; p++) {
        size_t n = strlen(*p);
        if (strncmp(key, *p, n) == 0 && (key[n] == 0 || key[n] == '/'))
            return true;
    }
    return false;
}

/* A copy of o without `updated`, the per-user properties and their per-occurrence
 * values (the keys of a recurrenceOverrides PatchObject that name them). */
static json_t *shared_part(enum share_kind k, json_t *o)
{
    json_t *c = json_deep_copy(o);
    json_object_del(c, "updated");
    for (const char *const *p = share_member_per_user(k); *p; p++)
        json_object_del(c, *p);
    const char *rid, *key;
    json_t *ov, *v;
    void *tmp;
    json_t *ovs = json_object_get(c, "recurrenceOverrides");
    void *otmp;
    json_object_foreach_safe(ovs, otmp, rid, ov)
    {
        size_t n = json_object_size(ov);
        json_object_foreach_safe(ov, tmp, key, v)
        {
            if (is_per_user_key(k, key))
                json_object_del(ov, key);
        }
        if (n && json_object_size(ov) == 0)
            json_object_del(ovs, rid); /* an override of per-user values alone */
    }
    if (json_is_object(ovs) && json_object_size(ovs) == 0)
        json_object_del(c, "recurrenceOverrides");
    return c;
}

bool share_only_per_user(enum share_kind k, json_t *obj, json_t *old)
{
    json_t *a = shared_part(k, obj), *b = shared_part(k, old);
    bool yes = json_equal(a, b);
    json_decref(a);
    json_decref(b);
    return yes;
}

void share_owner_updated(struct store_conn *c, enum share_kind k, const char *account, json_t *obj,
                         json_t *old)
{
    const char *id = json_string_value(json_object_get(old, "id"));
    json_t *now = json_object_get(obj, "updated"), *was = json_object_get(old, "updated");
    if (!id || json_equal(obj, old))
        return;
    bool only = share_only_per_user(k, obj, old);
    if (!only && !(now && was && json_equal(now, was)))
        return; /* a shared change that moved `updated`: any record is stale by itself */
    json_t *rec = store_user_props_get(c, SHARED_USER, account, record_type(k), id);
    if (!only) { /* a shared change within the second of the record: it ends */
        if (rec)
            store_user_props_put(c, SHARED_USER, account, record_type(k), id, NULL);
        json_decref(rec);
        return;
    }
    if (!now || (was && json_equal(now, was))) {
        json_decref(rec);
        return; /* `updated` not set (not the origin), or the same second */
    }
    /* the shared time: the record's while it still counted, else the object's */
    json_t *base =
        rec && json_equal(json_object_get(rec, "at"), was) ? json_object_get(rec, "base") : was;
    json_t *next = json_pack("{s:O?, s:O}", "base", base, "at", now);
    store_user_props_put(c, SHARED_USER, account, record_type(k), id, next);
    json_decref(next);
    json_decref(rec);
}

void share_sharee_updated(struct jset *s, enum share_kind k, json_t *obj, json_t *old)
{
    json_t *given = json_object_get(obj, "updated"), *was = json_object_get(old, "updated");
    json_t *a = json_deep_copy(obj), *b = json_deep_copy(old);
    json_object_del(a, "updated");
    json_object_del(b, "updated");
    bool only = json_equal(a, b);
    json_decref(a);
    json_decref(b);
    if (!only)
        return; /* shared properties changed too: the shared `updated` tells it */
    /* calendars-27 §5.9: the server sets `updated` only on the origin's copy (jmapd
     * sets a task's on every write, docs/tasks.md); otherwise the client's value */
    char now[21];
    const char *value = NULL;
    if (k == SHARE_TASK_LIST || json_is_true(json_object_get(old, "isOrigin"))) {
        util_utc_format(util_now(), now);
        value = now;
    } else if (json_is_string(given) && !(was && json_equal(given, was))) {
        value = json_string_value(given);
    }
    json_t *v = value ? json_string(value) : NULL;
    if (was) /* the shared value stays (before `given` goes with it) */
        json_object_set(obj, "updated", was);
    else
        json_object_del(obj, "updated");
    if (!v)
        return;
    const char *id = json_string_value(json_object_get(old, "id"));
    struct jmap_req *r = jset_req(s);
    const char *type = k == SHARE_TASK_LIST ? "Task" : "CalendarEvent";
    json_t *mine = store_user_props_get(jset_conn(s), r->user->id, jset_account(s), type, id);
    if (!mine)
        mine = json_object();
    json_object_set(mine, "updated", v);
    store_user_props_put(jset_conn(s), r->user->id, jset_account(s), type, id, mine);
    jset_keep_apart(s, "updated", v);
    json_decref(mine);
    json_decref(v);
}

void share_view_updated(struct jmap_req *r, enum share_kind k, const char *account, const char *id,
                        json_t *obj, json_t *mine)
{
    json_t *held, *rec = share_user_props_peek(r, SHARED_USER, account, record_type(k), id, &held);
    if (rec && json_equal(json_object_get(rec, "at"), json_object_get(obj, "updated"))) {
        json_t *base = json_object_get(rec, "base");
        if (base)
            json_object_set(obj, "updated", base); /* the owner's own time is theirs */
        else
            json_object_del(obj, "updated");
    }
    json_decref(held);
    json_t *own = json_object_get(mine, "updated");
    if (later(own, json_object_get(obj, "updated")))
        json_object_set(obj, "updated", own);
}

bool share_updated_recorded(struct jmap_req *r, enum share_kind k, const char *account,
                            const char *id, json_t *obj)
{
    json_t *held, *rec = share_user_props_peek(r, SHARED_USER, account, record_type(k), id, &held);
    bool yes = rec && json_equal(json_object_get(rec, "at"), json_object_get(obj, "updated"));
    json_decref(held);
    return yes;
}

bool share_updated_none(struct jmap_req *r, enum share_kind k, const char *account)
{
    return share_user_props_none(r, SHARED_USER, account, record_type(k));
}
