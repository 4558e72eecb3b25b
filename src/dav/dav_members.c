/*
 * dav_members.c — what listings and multigets need of every member of a type, kept
 * between requests: per (account, type) the modseq of each live object (its ETag), its
 * chosen resource name (dav_names.c) both ways, and, once a listing of one of several
 * collections asked for it, its collection property (calendarIds, addressBookIds or
 * taskListId: the store has no index of membership). Valid at a state; a later request
 * brings it up to date from the change log (store_changes since that state: it reads
 * only what changed, and a name written with its object changes with it), and rebuilds
 * it only the first time or when the changes are no longer known (tombstones pruned).
 * The modseqs and names come from the change index and the small name rows; only the
 * membership needs every object once. At most MEMB_SLOTS accounts and types and
 * MEMB_MAX_IDS ids in all; beyond that a request reads the store as before. One mutex;
 * store reads happen outside it; a request keeps references to the maps of the state it
 * read (they are copied, not changed, while a request holds them).
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
    int64_t state;   /* the maps are complete up to this state */
    json_t *modseqs; /* id -> modseq of each live member; NULL: free slot */
    json_t *names;   /* id -> chosen name */
    json_t *ids;     /* chosen name -> id */
    json_t *map;     /* id -> member value; NULL until a listing needs it */
    uint64_t used;   /* for eviction: the least recently used goes */
} slots[MEMB_SLOTS];
static uint64_t memb_clock;
static size_t memb_ids;

/* The slot of (account, type), or NULL. With memb_lock held. */
static struct memb_slot *slot_find(const char *account, const char *type)
{
    for (int i = 0; i < MEMB_SLOTS; i++)
        if (slots[i].modseqs && !strcmp(slots[i].account, account) && !strcmp(slots[i].type, type))
            return &slots[i];
    return NULL;
}

static void slot_drop(struct memb_slot *s)
{
    memb_ids -= json_object_size(s->modseqs);
    json_decref(s->modseqs);
    json_decref(s->names);
    json_decref(s->ids);
    json_decref(s->map);
    s->modseqs = s->names = s->ids = s->map = NULL;
}

/* Installs the maps of u (taken) for (account, type) at state, evicting the least
 * recently used slot when all are taken; frees them when the bound on ids does not
 * allow it. With memb_lock held. */
static void slot_install(const char *account, const char *type, int64_t state, struct memb_slot *u)
{
    struct memb_slot *s = slot_find(account, type);
    if (s)
        slot_drop(s);
    for (int i = 0; i < MEMB_SLOTS && !s; i++)
        if (!slots[i].modseqs)
            s = &slots[i];
    if (!s) {
        s = &slots[0];
        for (int i = 1; i < MEMB_SLOTS; i++)
            if (slots[i].used < s->used)
                s = &slots[i];
    }
    if (s->modseqs)
        slot_drop(s);
    if (memb_ids + json_object_size(u->modseqs) > MEMB_MAX_IDS) {
        slot_drop(u);
        return;
    }
    snprintf(s->account, sizeof s->account, "%s", account);
    snprintf(s->type, sizeof s->type, "%s", type);
    s->state = state;
    s->modseqs = u->modseqs;
    s->names = u->names;
    s->ids = u->ids;
    s->map = u->map;
    s->used = ++memb_clock;
    memb_ids += json_object_size(s->modseqs);
}

static bool value_has(const struct dav_kind *k, json_t *v, const char *coll_id)
{
    if (k->single_member)
        return json_is_string(v) && strcmp(json_string_value(v), coll_id) == 0;
    return json_is_true(json_object_get(v, coll_id));
}

/* ---- reading the store (outside the lock) ------------------------------------------------- */

static int build_cb(const char *id, json_t *obj, void *ud)
{
    const struct dav_kind *k = ((void **)ud)[0];
    json_t *v = json_object_get(obj, k->member);
    json_object_set_new(((void **)ud)[1], id, v ? json_deep_copy(v) : json_null());
    return 0;
}

static int modseq_cb(const char *id, int64_t created, int64_t updated, bool destroyed, void *ud)
{
    (void)created;
    json_object_set_new(ud, id, destroyed ? json_null() : json_integer(updated));
    return 0;
}

static int name_cb(const char *id, json_t *obj, void *ud)
{
    json_t *name = json_object_get(obj, "name");
    if (json_is_string(name))
        json_object_set(ud, id, name);
    return 0;
}

static void name_type(const struct dav_res *r, char t[96])
{
    snprintf(t, 96, "dav:href:%s", r->k->obj_type);
}

/* Every member's maps, read afresh into u (membership only when members is set). */
static void read_all(struct dav_ctx *x, const struct dav_res *r, bool members, struct memb_slot *u)
{
    const char *a = r->acct->account_id, *id;
    char t[96];
    json_t *v;
    memset(u, 0, sizeof *u);
    u->modseqs = json_object();
    u->names = json_object();
    u->ids = json_object();
    json_t *all = json_object();
    store_changes(x->c, a, r->k->obj_type, 0, 0, modseq_cb, all);
    json_object_foreach(all, id, v) if (!json_is_null(v)) json_object_set(u->modseqs, id, v);
    json_decref(all);
    name_type(r, t);
    json_t *names = json_object();
    store_object_foreach(x->c, a, t, name_cb, names);
    json_object_foreach(names, id, v)
    {
        if (json_object_get(u->modseqs, id)) { /* a name of a live object */
            json_object_set(u->names, id, v);
            json_object_set_new(u->ids, json_string_value(v), json_string(id));
        }
    }
    json_decref(names);
    if (members) {
        u->map = json_object();
        void *ud[2] = {(void *)r->k, u->map};
        store_object_foreach(x->c, a, r->k->obj_type, build_cb, ud);
    }
}

/* id -> {"m": modseq or null when gone, "n": chosen name, "v": member value (when
 * members)} of the objects changed since. */
static json_t *changes_since(struct dav_ctx *x, const struct dav_res *r, int64_t since,
                             bool members)
{
    json_t *changed = json_object(), *out = json_object();
    const char *a = r->acct->account_id, *id;
    char t[96];
    json_t *m;
    name_type(r, t);
    store_changes(x->c, a, r->k->obj_type, since, 0, modseq_cb, changed);
    json_object_foreach(changed, id, m)
    {
        json_t *c = json_pack("{s:O}", "m", m);
        if (!json_is_null(m)) {
            json_t *row = store_object_get(x->c, a, t, id);
            json_t *name = json_object_get(row, "name");
            if (json_is_string(name))
                json_object_set(c, "n", name);
            json_decref(row);
        }
        if (!json_is_null(m) && members) {
            json_t *obj = store_object_get(x->c, a, r->k->obj_type, id);
            json_t *v = json_object_get(obj, r->k->member);
            json_object_set_new(c, "v", v ? json_deep_copy(v) : json_null());
            json_decref(obj);
        }
        json_object_set_new(out, id, c);
    }
    json_decref(changed);
    return out;
}

/* Applies changes to slot s (copying a map a request still holds). With memb_lock held. */
static void slot_apply(struct memb_slot *s, json_t *changes, int64_t state)
{
    json_t **maps[] = {&s->modseqs, &s->names, &s->ids, &s->map};
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
        if (*maps[i] && (*maps[i])->refcount > 1) {
            json_t *copy = json_copy(*maps[i]);
            json_decref(*maps[i]);
            *maps[i] = copy;
        }
    const char *id;
    json_t *c;
    size_t before = json_object_size(s->modseqs);
    json_object_foreach(changes, id, c)
    {
        json_t *m = json_object_get(c, "m"), *n = json_object_get(c, "n");
        const char *old = json_string_value(json_object_get(s->names, id));
        if (old)
            json_object_del(s->ids, old);
        json_object_del(s->names, id);
        if (json_is_null(m)) {
            json_object_del(s->modseqs, id);
            if (s->map)
                json_object_del(s->map, id);
            continue;
        }
        json_object_set(s->modseqs, id, m);
        if (n) {
            json_object_set(s->names, id, n);
            json_object_set_new(s->ids, json_string_value(n), json_string(id));
        }
        if (s->map)
            json_object_set(s->map, id, json_object_get(c, "v"));
    }
    memb_ids += json_object_size(s->modseqs) - before;
    s->state = state;
}

/* ---- the index ------------------------------------------------------------------------------ */

/* Hands out references to s's maps into x. With memb_lock held. */
static void slot_lend(struct dav_ctx *x, struct memb_slot *s)
{
    x->modseqs = json_incref(s->modseqs);
    x->names = json_incref(s->names);
    x->name_ids = json_incref(s->ids);
    x->members = json_incref(s->map);
    s->used = ++memb_clock;
}

void dav_member_index(struct dav_ctx *x, const struct dav_res *r, bool members)
{
    if (x->modseqs && (!members || x->members))
        return;
    json_decref(x->modseqs);
    json_decref(x->names);
    json_decref(x->name_ids);
    json_decref(x->members);
    x->modseqs = x->names = x->name_ids = x->members = NULL;
    const char *a = r->acct->account_id, *type = r->k->obj_type;
    int64_t state = store_state_get(x->c, a, type), since = -1;
    bool had_members = false;
    pthread_mutex_lock(&memb_lock);
    struct memb_slot *s = slot_find(a, type);
    if (s && s->state == state && (!members || s->map))
        slot_lend(x, s);
    else if (s && s->state < state)
        since = s->state, had_members = s->map != NULL;
    pthread_mutex_unlock(&memb_lock);
    if (x->modseqs)
        return;
    if (since >= 0 && (had_members || !members) && since >= store_state_lowest(x->c, a, type)) {
        /* the changes since the kept state: only those objects are read */
        json_t *changes = changes_since(x, r, since, had_members);
        pthread_mutex_lock(&memb_lock);
        s = slot_find(a, type);
        if (s && s->state == since && (s->map != NULL) == had_members) {
            slot_apply(s, changes, state);
            slot_lend(x, s);
        }
        pthread_mutex_unlock(&memb_lock);
        json_decref(changes);
        if (x->modseqs)
            return;
    }
    /* first request for this account and type (or the changes are unknown) */
    struct memb_slot u;
    read_all(x, r, members, &u);
    x->modseqs = json_incref(u.modseqs);
    x->names = json_incref(u.names);
    x->name_ids = json_incref(u.ids);
    x->members = json_incref(u.map);
    pthread_mutex_lock(&memb_lock);
    s = slot_find(a, type);
    if (!s || s->state <= state) /* not over a newer one (this request's snapshot is older) */
        slot_install(a, type, state, &u);
    else
        slot_drop(&u);
    pthread_mutex_unlock(&memb_lock);
}

json_t *dav_members_of(struct dav_ctx *x, const struct dav_res *r)
{
    dav_member_index(x, r, true);
    json_t *ids = json_array();
    const char *id;
    json_t *v;
    json_object_foreach(x->members, id, v)
    {
        if (value_has(r->k, v, r->coll_id) && json_object_get(x->modseqs, id))
            json_array_append_new(ids, json_string(id));
    }
    return ids;
}

void dav_members_each(struct dav_ctx *x, const struct dav_res *r,
                      void (*fn)(const char *id, int64_t modseq, void *ud), void *ud)
{
    /* the account's only collection of its type holds every member (see dav_member_ids) */
    bool only = store_object_count(x->c, r->acct->account_id, r->k->coll_type) == 1;
    dav_member_index(x, r, !only);
    const char *id;
    json_t *v, *m;
    if (only) {
        json_object_foreach(x->modseqs, id, v) fn(id, json_integer_value(v), ud);
        return;
    }
    json_object_foreach(x->members, id, v)
    {
        if (value_has(r->k, v, r->coll_id) && (m = json_object_get(x->modseqs, id)))
            fn(id, json_integer_value(m), ud);
    }
}

bool dav_member_find(struct dav_ctx *x, const struct dav_res *r, const char *name, char id[64],
                     int64_t *modseq)
{
    dav_member_index(x, r, false);
    const char *chosen = json_string_value(json_object_get(x->name_ids, name));
    if (chosen) {
        snprintf(id, 64, "%s", chosen);
    } else {
        /* a server-made name {id}{ext} of an object without a chosen name */
        size_t n = strlen(name), e = strlen(r->k->ext);
        if (n <= e || n - e >= 64 || strcmp(name + n - e, r->k->ext) != 0)
            return false;
        snprintf(id, 64, "%.*s", (int)(n - e), name);
        if (json_object_get(x->names, id))
            return false; /* it has a chosen name: this is not it */
    }
    json_t *m = json_object_get(x->modseqs, id);
    if (!m)
        return false;
    *modseq = json_integer_value(m);
    return true;
}

void dav_members_clear(void)
{
    pthread_mutex_lock(&memb_lock);
    for (int i = 0; i < MEMB_SLOTS; i++)
        if (slots[i].modseqs)
            slot_drop(&slots[i]);
    pthread_mutex_unlock(&memb_lock);
}
