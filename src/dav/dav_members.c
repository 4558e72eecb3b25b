/*
 * dav_members.c — which collection each member belongs to, kept between requests, so a
 * listing of one collection in an account with several (two calendars, a calendar and
 * task lists share nothing, but two address books do) does not read and parse every
 * object of the type. The store has no index of membership; this is one in memory:
 * per (account, type), id -> the member's collection property (calendarIds,
 * addressBookIds or taskListId), valid at a state. A later request brings it up to date
 * from the change log (store_changes since that state: it reads only what changed), and
 * rebuilds it from every object only the first time or when the changes are no longer
 * known (tombstones pruned). At most MEMB_SLOTS accounts and types, MEMB_MAX_IDS ids in
 * all; beyond that a listing reads the objects as before. One mutex; store reads happen
 * outside it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dav/dav_internal.h"

#define MEMB_SLOTS 32
#define MEMB_MAX_IDS 400000

static pthread_mutex_t memb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct memb_slot {
    char account[64], type[48];
    int64_t state; /* the map is complete up to this state */
    json_t *map;   /* id -> member value; NULL: free slot */
    uint64_t used; /* for eviction: the least recently used goes */
} slots[MEMB_SLOTS];
static uint64_t memb_clock;
static size_t memb_ids;

/* The slot of (account, type), or NULL. With memb_lock held. */
static struct memb_slot *slot_find(const char *account, const char *type)
{
    for (int i = 0; i < MEMB_SLOTS; i++)
        if (slots[i].map && !strcmp(slots[i].account, account) && !strcmp(slots[i].type, type))
            return &slots[i];
    return NULL;
}

static void slot_drop(struct memb_slot *s)
{
    memb_ids -= json_object_size(s->map);
    json_decref(s->map);
    s->map = NULL;
}

/* Installs map (taken) for (account, type) at state, evicting the least recently
 * used slot when all are taken; frees map when the bound on ids does not allow it.
 * With memb_lock held. */
static void slot_install(const char *account, const char *type, int64_t state, json_t *map)
{
    struct memb_slot *s = slot_find(account, type);
    if (s)
        slot_drop(s);
    for (int i = 0; i < MEMB_SLOTS && !s; i++)
        if (!slots[i].map)
            s = &slots[i];
    if (!s) {
        s = &slots[0];
        for (int i = 1; i < MEMB_SLOTS; i++)
            if (slots[i].used < s->used)
                s = &slots[i];
    }
    if (s->map)
        slot_drop(s);
    if (memb_ids + json_object_size(map) > MEMB_MAX_IDS) {
        json_decref(map);
        return;
    }
    snprintf(s->account, sizeof s->account, "%s", account);
    snprintf(s->type, sizeof s->type, "%s", type);
    s->state = state;
    s->map = map;
    s->used = ++memb_clock;
    memb_ids += json_object_size(map);
}

static bool value_has(const struct dav_kind *k, json_t *v, const char *coll_id)
{
    if (k->single_member)
        return json_is_string(v) && strcmp(json_string_value(v), coll_id) == 0;
    return json_is_true(json_object_get(v, coll_id));
}

struct build {
    const struct dav_kind *k;
    json_t *map;
};

static int build_cb(const char *id, json_t *obj, void *ud)
{
    struct build *b = ud;
    json_t *v = json_object_get(obj, b->k->member);
    json_object_set_new(b->map, id, v ? json_deep_copy(v) : json_null());
    return 0;
}

static int changed_cb(const char *id, int64_t created, int64_t updated, bool destroyed, void *ud)
{
    (void)created;
    (void)updated;
    json_object_set_new(ud, id, json_boolean(destroyed));
    return 0;
}

/* id -> member value (null: no longer a member of any) of the objects changed since. */
static json_t *changes_since(struct dav_ctx *x, const struct dav_res *r, int64_t since)
{
    json_t *changed = json_object(), *out = json_object();
    const char *a = r->acct->account_id, *id;
    json_t *gone;
    store_changes(x->c, a, r->k->obj_type, since, 0, changed_cb, changed);
    json_object_foreach(changed, id, gone)
    {
        json_t *obj = json_is_true(gone) ? NULL : store_object_get(x->c, a, r->k->obj_type, id);
        json_t *m = json_object_get(obj, r->k->member);
        json_object_set_new(out, id, m ? json_deep_copy(m) : json_null());
        json_decref(obj);
    }
    json_decref(changed);
    return out;
}

/* The ids of slot s's members in coll_id (a new array). With memb_lock held. */
static json_t *collect(struct memb_slot *s, const struct dav_kind *k, const char *coll_id)
{
    json_t *ids = json_array();
    const char *id;
    json_t *v;
    json_object_foreach(s->map, id, v)
    {
        if (value_has(k, v, coll_id))
            json_array_append_new(ids, json_string(id));
    }
    s->used = ++memb_clock;
    return ids;
}

json_t *dav_members_of(struct dav_ctx *x, const struct dav_res *r)
{
    const char *a = r->acct->account_id, *type = r->k->obj_type;
    int64_t state = store_state_get(x->c, a, type);
    json_t *ids = NULL;
    int64_t since = -1;
    pthread_mutex_lock(&memb_lock);
    struct memb_slot *s = slot_find(a, type);
    if (s && s->state == state)
        ids = collect(s, r->k, r->coll_id);
    else if (s)
        since = s->state;
    pthread_mutex_unlock(&memb_lock);
    if (ids)
        return ids;
    if (since >= 0 && since >= store_state_lowest(x->c, a, type) && since < state) {
        /* the changes since the cached state: only those objects are read */
        json_t *changes = changes_since(x, r, since);
        pthread_mutex_lock(&memb_lock);
        s = slot_find(a, type);
        if (s && s->state == since) {
            const char *id;
            json_t *v;
            json_object_foreach(changes, id, v)
            {
                size_t before = json_object_size(s->map);
                if (json_is_null(v))
                    json_object_del(s->map, id);
                else
                    json_object_set(s->map, id, v);
                memb_ids += json_object_size(s->map) - before;
            }
            s->state = state;
            ids = collect(s, r->k, r->coll_id);
        }
        pthread_mutex_unlock(&memb_lock);
        json_decref(changes);
        if (ids)
            return ids;
    }
    /* first listing of this account and type (or the changes are unknown): every object */
    struct build b = {r->k, json_object()};
    store_object_foreach(x->c, a, type, build_cb, &b);
    ids = json_array();
    const char *id;
    json_t *v;
    json_object_foreach(b.map, id, v)
    {
        if (value_has(r->k, v, r->coll_id))
            json_array_append_new(ids, json_string(id));
    }
    pthread_mutex_lock(&memb_lock);
    slot_install(a, type, state, b.map);
    pthread_mutex_unlock(&memb_lock);
    return ids;
}

void dav_members_clear(void)
{
    pthread_mutex_lock(&memb_lock);
    for (int i = 0; i < MEMB_SLOTS; i++)
        if (slots[i].map)
            slot_drop(&slots[i]);
    pthread_mutex_unlock(&memb_lock);
}
