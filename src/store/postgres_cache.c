/*
 * postgres_cache.c — what the current transaction already read from PostgreSQL, so it
 * is not asked for again (issue 15: a round trip is the cost that counts).
 *
 * Object rows (id, data) read by store_object_get, _foreach and _prefetch, and the
 * states read by store_state_get/_lowest. Valid for one transaction only, and only
 * because nothing else can change those rows meanwhile: a read transaction sees one
 * snapshot (REPEATABLE READ), and a write transaction holds the writers' lock, which
 * every write of objects takes (postgres.c), so the only changes are its own, and each
 * of them (store_object_put/_destroy) forgets the rows of its account and type first.
 * States: a read transaction keeps what it read; a write transaction keeps the modseq
 * of each of its bumps, so that the next bump of the same state needs no answer from
 * the database (only this transaction changes states: the writers' lock).
 * The uids of a type, for a transaction that looks many up, likewise; the
 * transaction's own index changes are laid over them.
 * Everything is forgotten at COMMIT and ROLLBACK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_internal.h"
#include "util/util.h"

static void ids_clear(void *p);
static int find_row(PGresult *r, const char *id);

static bool same(const struct pg_rows *e, const char *account, const char *type)
{
    return e->r && !e->stale && strcmp(e->account, account) == 0 && strcmp(e->type, type) == 0;
}

void pgc_clear(struct store_conn *c)
{
    for (int i = 0; i < ROWS_CACHE; i++) {
        PQclear(c->rows[i].r);
        c->rows[i].r = NULL;
        c->rows[i].stale = false;
    }
    c->nstates = 0;
    PQclear(c->ahead.r); /* a read sent ahead and not asked for */
    c->ahead = (struct pg_ahead){0};
    c->state_ahead.queued = false;
    pgc_uid_clear(c);
    pgc_ukey_clear(c);
    ids_clear(&c->props);
    ids_clear(&c->alerts);
    json_decref(c->born);
    c->born = NULL;
    json_decref(c->written);
    c->written = NULL;
    json_decref(c->props_ahead);
    json_decref(c->props_asked);
    c->props_ahead = c->props_asked = NULL;
}

void pgc_forget(struct store_conn *c, const char *account, const char *type)
{
    /* every object of the type is no longer what the rows hold; rows of some ids stay,
     * the written ones answered from c->written (pgc_written). A foreach may be going
     * through the rows: they are freed at the end only */
    for (int i = 0; i < ROWS_CACHE; i++)
        if (same(&c->rows[i], account, type) && c->rows[i].whole)
            c->rows[i].stale = true;
}

static char *written_key(const char *account, const char *type, const char *id)
{
    return xasprintf("%s\t%s\t%s", account, type, id);
}

void pgc_written(struct store_conn *c, const char *account, const char *type, const char *id,
                 const char *data, const char *key)
{
    if (!c->in_txn)
        return;
    if (!c->written)
        c->written = json_object();
    char *k = written_key(account, type, id);
    json_object_set_new(c->written, k, json_pack("[s?, s?]", data, key)); /* NULL: JSON null */
    free(k);
}

/* What the transaction wrote of id ([data or null, key or null]), or NULL. */
static json_t *written_of(struct store_conn *c, const char *account, const char *type,
                          const char *id)
{
    if (!c->written)
        return NULL;
    char *k = written_key(account, type, id);
    json_t *w = json_object_get(c->written, k);
    free(k);
    return w;
}

int pgc_stored_key(struct store_conn *c, const char *account, const char *type, const char *id,
                   const char **key)
{
    *key = NULL;
    if (!c->in_txn)
        return 0;
    json_t *w = written_of(c, account, type, id);
    if (w) {
        *key = json_string_value(json_array_get(w, 1));
        return json_is_string(json_array_get(w, 0));
    }
    for (int i = 0; i < ROWS_CACHE; i++) {
        struct pg_rows *e = &c->rows[i];
        if (!same(e, account, type) || PQnfields(e->r) < 3)
            continue;
        int row = find_row(e->r, id);
        if (row >= 0) {
            *key = PQgetisnull(e->r, row, 2) ? NULL : PQgetvalue(e->r, row, 2);
            return 1;
        }
    }
    return 0;
}

bool pgc_keep(struct store_conn *c, const char *account, const char *type, PGresult *r, bool whole)
{
    if (!c->in_txn || strlen(account) >= sizeof c->rows[0].account ||
        strlen(type) >= sizeof c->rows[0].type)
        return false;
    for (int i = 0; i < ROWS_CACHE; i++) {
        struct pg_rows *e = &c->rows[i];
        if (e->r && !(e->stale && c->iterating == 0))
            continue;
        PQclear(e->r);
        e->r = r;
        e->whole = whole;
        e->stale = false;
        snprintf(e->account, sizeof e->account, "%s", account);
        snprintf(e->type, sizeof e->type, "%s", type);
        return true;
    }
    return false; /* full: the transaction reads more kinds of rows than it repeats */
}

/* The row of id in r (rows in id order, COLLATE "C": strcmp's), or -1. */
static int find_row(PGresult *r, const char *id)
{
    int lo = 0, hi = PQntuples(r) - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, cmp = strcmp(PQgetvalue(r, mid, 0), id);
        if (cmp == 0)
            return mid;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int pgc_get(struct store_conn *c, const char *account, const char *type, const char *id,
            json_t **out)
{
    *out = NULL;
    if (!c->in_txn)
        return -1;
    json_t *w = written_of(c, account, type, id);
    if (w) {
        const char *data = json_string_value(json_array_get(w, 0));
        if (!data)
            return 0; /* destroyed */
        *out = json_loads(data, 0, NULL);
        return *out ? 1 : -1;
    }
    bool absent = false;
    for (int i = 0; i < ROWS_CACHE; i++) {
        struct pg_rows *e = &c->rows[i];
        if (!same(e, account, type))
            continue;
        int row = find_row(e->r, id);
        if (row >= 0) {
            *out = json_loadb(PQgetvalue(e->r, row, 1), (size_t)PQgetlength(e->r, row, 1), 0, NULL);
            return *out ? 1 : -1;
        }
        absent = absent || e->whole;
    }
    return absent ? 0 : -1;
}

PGresult *pgc_whole(struct store_conn *c, const char *account, const char *type)
{
    if (!c->in_txn)
        return NULL;
    for (int i = 0; i < ROWS_CACHE; i++)
        if (same(&c->rows[i], account, type) && c->rows[i].whole)
            return c->rows[i].r;
    return NULL;
}

/* States a transaction read or bumped. A read transaction sees one snapshot; a write
 * transaction holds the writers' lock, so no other front end changes a state under it
 * and its own bumps are counted here (pgc_bump): either way a state read once is known
 * for the rest of the transaction (a /set creating 100 events read a type's state once
 * per event, each a waited round trip). */
static struct pg_state *state_find(struct store_conn *c, const char *account, const char *type)
{
    for (int i = 0; i < c->nstates; i++)
        if (strcmp(c->states[i].account, account) == 0 && strcmp(c->states[i].type, type) == 0)
            return &c->states[i];
    return NULL;
}

bool pgc_state(struct store_conn *c, const char *account, const char *type, int64_t *modseq,
               int64_t *lowest)
{
    struct pg_state *s = c->in_txn ? state_find(c, account, type) : NULL;
    if (!s || !s->has_lowest)
        return false;
    *modseq = s->modseq;
    *lowest = s->lowest;
    return true;
}

bool pgc_bump(struct store_conn *c, const char *account, const char *type, int64_t *modseq)
{
    struct pg_state *s = c->in_txn && c->writing ? state_find(c, account, type) : NULL;
    if (!s)
        return false;
    *modseq = ++s->modseq;
    s->dirty = true;
    return true;
}

void pgc_states_flush(struct store_conn *c)
{
    /* an upsert: the state read first may have found no row (0) */
    static const char *const sql = "INSERT INTO states(account_id, type, modseq) VALUES($1,$2,$3) "
                                   "ON CONFLICT(account_id, type) DO UPDATE SET "
                                   "modseq=EXCLUDED.modseq";
    for (int i = 0; c->in_txn && c->writing && i < c->nstates; i++) {
        struct pg_state *s = &c->states[i];
        if (!s->dirty)
            continue;
        struct params p = pgq_two(s->account, s->type);
        pgq_int(&p, s->modseq);
        pgq_defer(c, sql, &p);
        s->dirty = false;
    }
}

static void state_add(struct store_conn *c, const char *account, const char *type, int64_t modseq,
                      bool has_lowest, int64_t lowest)
{
    struct pg_state *s = state_find(c, account, type);
    if (!s) {
        if (c->nstates == STATES_CACHE || strlen(account) >= sizeof c->states[0].account ||
            strlen(type) >= sizeof c->states[0].type)
            return;
        s = &c->states[c->nstates++];
        s->has_meta = s->has_viewer = false;
        snprintf(s->account, sizeof s->account, "%s", account);
        snprintf(s->type, sizeof s->type, "%s", type);
    }
    s->modseq = modseq;
    s->has_lowest = has_lowest;
    s->lowest = lowest;
    s->dirty = false;
}

void pgc_state_add(struct store_conn *c, const char *account, const char *type, int64_t modseq,
                   int64_t lowest)
{
    if (c->in_txn)
        state_add(c, account, type, modseq, true, lowest);
}

void pgc_bumped(struct store_conn *c, const char *account, const char *type, int64_t modseq)
{
    if (c->in_txn && c->writing)
        state_add(c, account, type, modseq, false, 0);
}

void pgc_meta_add(struct store_conn *c, const char *account, const char *type, int64_t user,
                  int64_t max)
{
    struct pg_state *s = c->in_txn ? state_find(c, account, type) : NULL;
    if (!s)
        return;
    s->has_meta = true;
    s->meta_user = user;
    s->meta_max = max;
}

bool pgc_meta_none_after(struct store_conn *c, const char *account, const char *type, int64_t user,
                         int64_t since)
{
    struct pg_state *s = c->in_txn ? state_find(c, account, type) : NULL;
    return s && s->has_meta && s->meta_user == user && s->meta_max <= since;
}

void pgc_meta_forget(struct store_conn *c, const char *account, const char *type)
{
    struct pg_state *s = c->in_txn ? state_find(c, account, type) : NULL;
    if (s)
        s->has_meta = false;
}

void pgc_viewer_add(struct store_conn *c, const char *account, const char *type, int64_t user,
                    const int64_t v[3])
{
    struct pg_state *s = c->in_txn && !c->writing ? state_find(c, account, type) : NULL;
    if (!s)
        return;
    s->has_viewer = true;
    s->viewer_user = user;
    s->last_private = v[0], s->shared = v[1], s->mine = v[2];
}

bool pgc_viewer(struct store_conn *c, const char *account, const char *type, int64_t user,
                int64_t v[3])
{
    struct pg_state *s = c->in_txn && !c->writing ? state_find(c, account, type) : NULL;
    if (!s || !s->has_viewer || s->viewer_user != user)
        return false;
    v[0] = s->last_private, v[1] = s->shared, v[2] = s->mine;
    return true;
}

/* ---- the (account, type) a per-transaction cache holds ------------------------------- */

static bool scope_is(const struct pg_scope *s, int64_t user, const char *account, const char *type)
{
    return s->user == user && strcmp(s->account, account) == 0 && strcmp(s->type, type) == 0;
}

/* Counts a use of (account, type) by a cache that holds one (account, type) at a time
 * (*count: its uses in this transaction) and returns the count; a use of another one
 * clears the cache first (clear empties the struct holding s and count), and outside
 * a transaction nothing is kept (0). */
static bool scope_enter(struct store_conn *c, struct pg_scope *s, int64_t user, const char *account,
                        const char *type, void (*clear)(void *), void *arg)
{
    if (!c->in_txn || strlen(account) >= sizeof s->account || strlen(type) >= sizeof s->type)
        return false;
    if (!scope_is(s, user, account, type)) {
        clear(arg);
        snprintf(s->account, sizeof s->account, "%s", account);
        snprintf(s->type, sizeof s->type, "%s", type);
        s->user = user;
    }
    return true;
}

static int scope_count(struct store_conn *c, struct pg_scope *s, int *count, int64_t user,
                       const char *account, const char *type, void (*clear)(void *), void *arg)
{
    return scope_enter(c, s, user, account, type, clear, arg) ? ++*count : 0;
}

/* The first row of r (sorted by column 0, COLLATE "C") whose column 0 is not below key. */
static int lower_bound(PGresult *r, const char *key)
{
    int lo = 0, hi = PQntuples(r);
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (strcmp(PQgetvalue(r, mid, 0), key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void uid_clear(void *c)
{
    pgc_uid_clear(c);
}

static void ukey_clear(void *c)
{
    pgc_ukey_clear(c);
}

/* ---- uids: a transaction that looks up many (a /set creating events) ------------------
 * The first lookup of (account, type) asks the database; the second loads every (uid,
 * id) of the type once, and the rest are answered here. The transaction's own index
 * changes (pgc_uid_changed) are laid over what was loaded. */

static bool uids_for(struct store_conn *c, const char *account, const char *type)
{
    return scope_is(&c->uids.of, 0, account, type);
}

int pgc_uid_lookups(struct store_conn *c, const char *account, const char *type)
{
    return scope_count(c, &c->uids.of, &c->uids.lookups, 0, account, type, uid_clear, c);
}

void pgc_uid_keep(struct store_conn *c, PGresult *r)
{
    PQclear(c->uids.r);
    c->uids.r = r;
}

void pgc_uid_clear(struct store_conn *c)
{
    PQclear(c->uids.r);
    json_decref(c->uids.probed);
    json_decref(c->uids.changed);
    memset(&c->uids, 0, sizeof c->uids);
}

void pgc_uid_changed(struct store_conn *c, const char *account, const char *type, const char *id,
                     const char *uid)
{
    if ((!c->uids.r && !c->uids.probed) || !uids_for(c, account, type))
        return;
    if (!c->uids.changed)
        c->uids.changed = json_object();
    json_object_set_new(c->uids.changed, id, uid ? json_string(uid) : json_null());
}

static int by_id(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int pgc_uid_find(struct store_conn *c, const char *account, const char *type, const char *uid,
                 int (*cb)(const char *id, void *ud), void *ud)
{
    if (!c->in_txn || (!c->uids.r && !c->uids.probed) || !uids_for(c, account, type))
        return -1;
    PGresult *r = c->uids.r;
    json_t *some = r ? NULL : json_object_get(c->uids.probed, uid);
    if (!r && !some)
        return -1; /* a uid not probed */
    int lo = r ? lower_bound(r, uid) : 0, rows = r ? PQntuples(r) : (int)json_array_size(some);
    size_t n = 0, cap = 8;
    const char **ids = malloc(cap * sizeof *ids);
    for (int i = lo; ids && i < rows && (!r || strcmp(PQgetvalue(r, i, 0), uid) == 0); i++) {
        const char *id = r ? PQgetvalue(r, i, 1) : json_string_value(json_array_get(some, i));
        if (json_object_get(c->uids.changed, id))
            continue; /* changed since: as the transaction left it, below */
        if (n == cap && !(ids = realloc(ids, (cap *= 2) * sizeof *ids)))
            break;
        ids[n++] = id;
    }
    const char *id;
    json_t *v;
    json_object_foreach(c->uids.changed, id, v)
    {
        if (!ids || !json_is_string(v) || strcmp(json_string_value(v), uid) != 0)
            continue;
        if (n == cap && !(ids = realloc(ids, (cap *= 2) * sizeof *ids)))
            break;
        ids[n++] = id;
    }
    if (!ids)
        return STORE_ERR;
    qsort(ids, n, sizeof *ids, by_id);
    for (size_t i = 0; i < n; i++)
        if (cb(ids[i], ud))
            break;
    free(ids);
    return STORE_OK;
}

/* ---- unique keys: a transaction that creates many objects with one ------------------
 * As the uids: the second create of (account, type) in a transaction loads every
 * (ukey, id) of the type; a key is then known taken or free here, so the insert need
 * not wait for the unique index's answer (postgres.c queues it). */

static bool ukeys_for(struct store_conn *c, const char *account, const char *type)
{
    return scope_is(&c->ukeys.of, 0, account, type);
}

int pgc_ukey_creates(struct store_conn *c, const char *account, const char *type)
{
    return scope_count(c, &c->ukeys.of, &c->ukeys.creates, 0, account, type, ukey_clear, c);
}

void pgc_ukey_keep(struct store_conn *c, PGresult *r)
{
    PQclear(c->ukeys.r);
    c->ukeys.r = r;
    c->ukeys.by_id = json_object();
    c->ukeys.by_key = json_object();
}

void pgc_ukey_clear(struct store_conn *c)
{
    PQclear(c->ukeys.r);
    json_decref(c->ukeys.probed);
    json_decref(c->ukeys.by_id);
    json_decref(c->ukeys.by_key);
    memset(&c->ukeys, 0, sizeof c->ukeys);
}

int pgc_ukey_taken(struct store_conn *c, const char *account, const char *type, const char *key)
{
    if (!c->in_txn || (!c->ukeys.r && !c->ukeys.probed) || !ukeys_for(c, account, type))
        return -1;
    if (json_object_get(c->ukeys.by_key, key))
        return 1; /* the transaction gave it to an object */
    PGresult *r = c->ukeys.r;
    if (!r) { /* some keys only (pgc_ukey_probe) */
        json_t *holder = json_object_get(c->ukeys.probed, key);
        if (!holder)
            return -1;
        return json_is_string(holder) &&
               !json_object_get(c->ukeys.by_id, json_string_value(holder));
    }
    int lo = 0, hi = PQntuples(r) - 1;
    while (lo <= hi) { /* ukeys are unique and COLLATE "C": strcmp's order */
        int mid = lo + (hi - lo) / 2, cmp = strcmp(PQgetvalue(r, mid, 0), key);
        if (cmp == 0) /* taken, unless the transaction changed that object's key since */
            return json_object_get(c->ukeys.by_id, PQgetvalue(r, mid, 1)) ? 0 : 1;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 0;
}

void pgc_ukey_set(struct store_conn *c, const char *account, const char *type, const char *id,
                  const char *key)
{
    if ((!c->ukeys.r && !c->ukeys.probed) || !ukeys_for(c, account, type))
        return;
    json_t *old = json_object_get(c->ukeys.by_id, id);
    if (json_is_string(old)) {
        json_t *holder = json_object_get(c->ukeys.by_key, json_string_value(old));
        if (json_is_string(holder) && strcmp(json_string_value(holder), id) == 0)
            json_object_del(c->ukeys.by_key, json_string_value(old));
    }
    json_object_set_new(c->ukeys.by_id, id, key ? json_string(key) : json_null());
    if (key)
        json_object_set_new(c->ukeys.by_key, key, json_string(id));
}

/* ---- some keys only: what the creates of a /set announced (store_keys_expect) ----------- */

void pgc_uid_probe(struct store_conn *c, const char *account, const char *type, json_t *probed)
{
    if (!scope_enter(c, &c->uids.of, 0, account, type, uid_clear, c) || c->uids.r) {
        json_decref(probed); /* outside a transaction, or every uid is known already */
        return;
    }
    json_decref(c->uids.probed);
    c->uids.probed = probed;
}

void pgc_ukey_probe(struct store_conn *c, const char *account, const char *type, json_t *probed)
{
    if (!scope_enter(c, &c->ukeys.of, 0, account, type, ukey_clear, c) || c->ukeys.r) {
        json_decref(probed);
        return;
    }
    json_decref(c->ukeys.probed);
    c->ukeys.probed = probed;
    if (!c->ukeys.by_id)
        c->ukeys.by_id = json_object();
    if (!c->ukeys.by_key)
        c->ukeys.by_key = json_object();
}

bool pgc_uids_probed(struct store_conn *c, const char *account, const char *type)
{
    return c->in_txn && c->uids.probed && uids_for(c, account, type);
}

bool pgc_ukeys_probed(struct store_conn *c, const char *account, const char *type)
{
    return c->in_txn && c->ukeys.probed && ukeys_for(c, account, type);
}

/* ---- object ids with rows: user_props, alert_queue ----------------------------------
 * A /set creating many events asks for each whether it has per-user properties (share
 * exposure) and alerts (the alert schedule): new objects have none, and each answer
 * was a waited round trip. */

static void ids_clear(void *p)
{
    struct pg_ids *s = p;
    PQclear(s->r);
    json_decref(s->noted);
    memset(s, 0, sizeof *s);
}

int pgc_ids_use(struct store_conn *c, struct pg_ids *s, int64_t user, const char *account,
                const char *type)
{
    return scope_count(c, &s->of, &s->uses, user, account, type, ids_clear, s);
}

void pgc_ids_keep(struct pg_ids *s, PGresult *r)
{
    PQclear(s->r);
    s->r = r;
}

int pgc_ids_has(struct store_conn *c, const struct pg_ids *s, int64_t user, const char *account,
                const char *type, const char *id)
{
    if (!c->in_txn || !s->r || !scope_is(&s->of, user, account, type))
        return -1;
    if (json_object_get(s->noted, id))
        return 1;
    int i = lower_bound(s->r, id);
    return i < PQntuples(s->r) && strcmp(PQgetvalue(s->r, i, 0), id) == 0;
}

/* A type "T#name" (user_props of a kind of its own about objects of T, as
 * share_exposure.c's) is about the objects of T. */
static char *born_key(const char *account, const char *type, const char *id)
{
    return xasprintf("%s\t%.*s\t%s", account, (int)strcspn(type, "#"), type, id);
}

void pgc_born_add(struct store_conn *c, const char *account, const char *type, const char *id)
{
    if (!c->in_txn)
        return;
    if (!c->born)
        c->born = json_object();
    char *k = born_key(account, type, id);
    json_object_set_new(c->born, k, json_object());
    free(k);
}

json_t *pgc_born(struct store_conn *c, const char *account, const char *type, const char *id)
{
    if (!c->in_txn || !c->writing || !c->born)
        return NULL;
    char *k = born_key(account, type, id);
    json_t *b = json_object_get(c->born, k);
    free(k);
    return b;
}

void pgc_ids_note(struct pg_ids *s, int64_t user, const char *account, const char *type,
                  const char *id)
{
    if (!s->r || !scope_is(&s->of, user, account, type))
        return;
    if (!s->noted)
        s->noted = json_object();
    json_object_set_new(s->noted, id, json_true());
}
