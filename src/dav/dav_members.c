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
 *
 * Beside the maps a slot keeps, per collection a listing asked for, the list of its
 * members (id, resource name as an href, modseq; sorted by id): a PROPFIND Depth 1 or an initial
 * sync-collection walks it, with no hash look-up per member (three per member of the
 * account before: its membership, its modseq, its name) and no walk over the members of
 * the account's other collections. A list is made from the maps once, then brought up to
 * date with the maps by merging the changes into it (the cost of the collection and the
 * changes, not of the account); lists are never changed once made (a merge makes a new
 * one), so a request reads the one it holds without the lock.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dav/dav_internal.h"

#define MEMB_SLOTS 32
#define MEMB_MAX_IDS 400000

/* One member in a collection's list: its id, its resource name as an href segment
 * (dav_xml_href of the chosen name, or of the server's {id}{ext}) and its modseq. */
struct memb_item {
    const char *id, *href;
    int64_t modseq;
};

/* The members of collection coll ("": every member of the type, the account's only
 * collection) as of its slot's state, sorted by id; the strings live in pool. Shared by
 * the slot and the requests that hold it (refs, changed under memb_lock). */
struct memb_list {
    struct memb_list *next; /* the slot's next list */
    int refs;
    const struct dav_kind *k;
    char coll[64];
    size_t n;
    struct memb_item *v;
    char *pool;
};

static pthread_mutex_t memb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct memb_slot {
    char account[64], type[48];
    int64_t state;   /* the maps are complete up to this state */
    json_t *modseqs; /* id -> modseq of each live member; NULL: free slot */
    json_t *names;   /* id -> chosen name */
    json_t *ids;     /* chosen name -> id, or true when several objects have that name (in
                      * different collections: dav_names.c; dav_member_find asks the store) */
    json_t *map;     /* id -> member value; NULL until a listing needs it */
    struct memb_list *lists; /* the member lists of the collections listed at this state */
    uint64_t used;           /* for eviction: the least recently used goes */
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

/* ---- member lists ------------------------------------------------------------------------ */

static void list_unref(struct memb_list *l) /* with memb_lock held */
{
    if (l && --l->refs == 0) {
        free(l->v);
        free(l->pool);
        free(l);
    }
}

static void list_release(struct memb_list *l)
{
    pthread_mutex_lock(&memb_lock);
    list_unref(l);
    pthread_mutex_unlock(&memb_lock);
}

/* An item of a list being made: its strings are still the sources'; href is NULL until
 * the chosen name (NULL: the server's) is written as one. */
struct build_item {
    const char *id, *name, *href;
    int64_t modseq;
};

struct list_build {
    struct build_item *v;
    size_t n, cap;
};

static void build_add(struct list_build *b, const char *id, const char *name, const char *href,
                      int64_t modseq)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->v = xrealloc(b->v, b->cap * sizeof *b->v);
    }
    b->v[b->n++] = (struct build_item){id, name, href, modseq};
}

static int item_cmp(const void *a, const void *b)
{
    return strcmp(((const struct build_item *)a)->id, ((const struct build_item *)b)->id);
}

/* The list of b's items (freed), sorted by id when sort, with their strings copied and
 * their hrefs written (percent-encoded once here, not once per listing). */
static struct memb_list *build_finish(struct list_build *b, const struct dav_kind *k,
                                      const char *coll, bool sort)
{
    if (sort && b->n > 1)
        qsort(b->v, b->n, sizeof *b->v, item_cmp);
    struct buf pool = {0};
    size_t *at = xmalloc((2 * b->n + 1) * sizeof *at);
    for (size_t i = 0; i < b->n; i++) {
        const struct build_item *e = &b->v[i];
        at[2 * i] = pool.len;
        buf_append(&pool, e->id, strlen(e->id) + 1);
        at[2 * i + 1] = pool.len;
        if (e->href) {
            buf_puts(&pool, e->href);
        } else {
            dav_xml_href(&pool, e->name ? e->name : e->id);
            if (!e->name)
                dav_xml_href(&pool, k->ext);
        }
        buf_append(&pool, "", 1);
    }
    struct memb_list *l = xcalloc(1, sizeof *l);
    l->refs = 1;
    l->k = k;
    snprintf(l->coll, sizeof l->coll, "%s", coll);
    l->n = b->n;
    l->v = xmalloc((b->n + 1) * sizeof *l->v);
    l->pool = pool.data ? buf_take(&pool) : xstrdup("");
    for (size_t i = 0; i < l->n; i++)
        l->v[i] = (struct memb_item){l->pool + at[2 * i], l->pool + at[2 * i + 1], b->v[i].modseq};
    free(at);
    free(b->v);
    return l;
}

static void slot_drop(struct memb_slot *s)
{
    while (s->lists) {
        struct memb_list *l = s->lists;
        s->lists = l->next;
        memb_ids -= l->n;
        list_unref(l);
    }
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
    s->lists = NULL;
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

/* Notes in ids (chosen name -> id) that id has name: a name two objects have (each in
 * collections of its own) becomes true, and stays so until the map is made again. */
static void ids_add(json_t *ids, const char *name, const char *id)
{
    json_t *had = json_object_get(ids, name);
    if (!had)
        json_object_set_new(ids, name, json_string(id));
    else if (json_is_string(had) && strcmp(json_string_value(had), id) != 0)
        json_object_set_new(ids, name, json_true());
}

/* Forgets that id has name (an ambiguous name stays so: the store is asked). */
static void ids_del(json_t *ids, const char *name, const char *id)
{
    json_t *had = json_object_get(ids, name);
    if (json_is_string(had) && strcmp(json_string_value(had), id) == 0)
        json_object_del(ids, name);
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
            ids_add(u->ids, json_string_value(v), id);
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

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* List l brought up to date with changes (their ids sorted in keys): a new list, l's
 * members less the changed, plus the changed that are members now. */
static struct memb_list *list_merge(const struct memb_list *l, json_t *changes, const char **keys,
                                    size_t nk)
{
    struct list_build b = {0};
    size_t i = 0, j = 0;
    while (i < l->n || j < nk) {
        int c = i == l->n ? 1 : j == nk ? -1 : strcmp(l->v[i].id, keys[j]);
        if (c < 0) { /* unchanged */
            build_add(&b, l->v[i].id, NULL, l->v[i].href, l->v[i].modseq);
            i++;
            continue;
        }
        if (c == 0)
            i++; /* changed: its entry as it was goes */
        json_t *ch = json_object_get(changes, keys[j]), *m = json_object_get(ch, "m");
        if (json_is_integer(m) &&
            (!l->coll[0] || value_has(l->k, json_object_get(ch, "v"), l->coll)))
            build_add(&b, keys[j], json_string_value(json_object_get(ch, "n")), NULL,
                      json_integer_value(m));
        j++;
    }
    return build_finish(&b, l->k, l->coll, false);
}

/* Merges changes into each list of s. With memb_lock held. */
static void slot_lists_apply(struct memb_slot *s, json_t *changes)
{
    size_t nk = json_object_size(changes), i = 0;
    if (!s->lists || !nk)
        return;
    const char **keys = xmalloc(nk * sizeof *keys), *id;
    json_t *c;
    json_object_foreach(changes, id, c) keys[i++] = id;
    qsort(keys, nk, sizeof *keys, key_cmp);
    for (struct memb_list **at = &s->lists; *at; at = &(*at)->next) {
        struct memb_list *old = *at, *l = list_merge(old, changes, keys, nk);
        l->next = old->next;
        *at = l;
        memb_ids += l->n - old->n;
        list_unref(old);
    }
    free(keys);
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
            ids_del(s->ids, old, id);
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
            ids_add(s->ids, json_string_value(n), id);
        }
        if (s->map)
            json_object_set(s->map, id, json_object_get(c, "v"));
    }
    memb_ids += json_object_size(s->modseqs) - before;
    slot_lists_apply(s, changes);
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

/* The member list of collection coll of r's kind ("": every member of the type) as of
 * x's maps (dav_member_index first, with the membership for a collection's): the slot's
 * when it was made at that state, else made from the maps and kept in the slot while it
 * is still at that state and the bound allows. A reference the caller releases. */
static struct memb_list *list_get(struct dav_ctx *x, const struct dav_res *r, const char *coll)
{
    const char *a = r->acct->account_id, *type = r->k->obj_type;
    struct memb_list *l = NULL;
    pthread_mutex_lock(&memb_lock);
    /* x holds its maps: the slot has them still only if nothing changed since */
    struct memb_slot *s = slot_find(a, type);
    for (l = s && s->modseqs == x->modseqs ? s->lists : NULL; l && strcmp(l->coll, coll);)
        l = l->next;
    if (l)
        l->refs++;
    pthread_mutex_unlock(&memb_lock);
    if (l)
        return l;
    struct list_build b = {0};
    const char *id;
    json_t *v, *m;
    if (!coll[0]) {
        json_object_foreach(x->modseqs, id, v)
        {
            build_add(&b, id, json_string_value(json_object_get(x->names, id)), NULL,
                      json_integer_value(v));
        }
    } else {
        json_object_foreach(x->members, id, v)
        {
            if (value_has(r->k, v, coll) && (m = json_object_get(x->modseqs, id)))
                build_add(&b, id, json_string_value(json_object_get(x->names, id)), NULL,
                          json_integer_value(m));
        }
    }
    l = build_finish(&b, r->k, coll, true);
    pthread_mutex_lock(&memb_lock);
    s = slot_find(a, type);
    struct memb_list *had = s && s->modseqs == x->modseqs ? s->lists : NULL;
    while (had && strcmp(had->coll, coll))
        had = had->next;
    if (s && s->modseqs == x->modseqs && !had && memb_ids + l->n <= MEMB_MAX_IDS) {
        l->next = s->lists;
        s->lists = l;
        l->refs++;
        memb_ids += l->n;
    }
    pthread_mutex_unlock(&memb_lock);
    return l;
}

json_t *dav_members_of(struct dav_ctx *x, const struct dav_res *r)
{
    dav_member_index(x, r, true);
    struct memb_list *l = list_get(x, r, r->coll_id);
    json_t *ids = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(ids, json_string(l->v[i].id));
    list_release(l);
    return ids;
}

void dav_members_each(struct dav_ctx *x, const struct dav_res *r,
                      void (*fn)(const char *id, const char *href, int64_t modseq, void *ud),
                      void *ud)
{
    /* the account's only collection of its type holds every member (see dav_member_ids) */
    bool only = store_object_count(x->c, r->acct->account_id, r->k->coll_type) == 1;
    dav_member_index(x, r, !only);
    struct memb_list *l = list_get(x, r, only ? "" : r->coll_id);
    for (size_t i = 0; i < l->n; i++)
        fn(l->v[i].id, l->v[i].href, l->v[i].modseq, ud);
    list_release(l);
}

bool dav_member_find(struct dav_ctx *x, const struct dav_res *r, const char *name, char id[64],
                     int64_t *modseq)
{
    dav_member_index(x, r, false);
    json_t *named = json_object_get(x->name_ids, name);
    if (json_is_true(named)) /* several objects have the name: the one of this collection */
        return dav_name_lookup(x->c, r->acct->account_id, r->k->obj_type, r->coll_id, name,
                               r->k->ext, id, modseq);
    const char *chosen = json_string_value(named);
    if (chosen) {
        dav_copy(id, 64, chosen);
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
