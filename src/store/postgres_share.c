/*
 * postgres_share.c — the PostgreSQL backend's groups, shares and per-user properties
 * (issue 14), as sqlite_share.c has them (the same tables, the same answers), and the
 * query snapshots every front end shares (issue 15). The rest of store.h is in
 * postgres.c and the files beside it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_internal.h"
#include "util/util.h"

/* ---- groups, shares, per-user properties (issue 14) ---------------------------------- */

int pg_group_add(struct store_conn *c, const char *id, const char *name)
{
    static const char *const sql = "INSERT INTO groups(id, name) VALUES($1,$2) ON CONFLICT DO "
                                   "NOTHING RETURNING 1";
    struct params p = pgq_two(id, name);
    return pgq_insert(c, sql, &p);
}

int pg_group_get(struct store_conn *c, const char *name, char id[64])
{
    static const char *const sql = "SELECT id FROM groups WHERE name=$1";
    struct params p = {0};
    pgq_text(&p, name);
    PGresult *r;
    int rc = pgq_run(c, sql, &p, &r);
    if (rc)
        return rc;
    rc = PQntuples(r) ? STORE_OK : STORE_NOTFOUND;
    if (rc == STORE_OK)
        snprintf(id, 64, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

int pg_group_del(struct store_conn *c, const char *id)
{
    static const char *const dels[] = {
        "DELETE FROM group_members WHERE group_id=$1",
        "DELETE FROM shares WHERE principal_id=$1",
    };
    static const char *const del_group = "DELETE FROM groups WHERE id=$1";
    struct params p = {0};
    pgq_text(&p, id);
    int rc = STORE_OK;
    for (size_t i = 0; i < sizeof dels / sizeof dels[0] && rc == STORE_OK; i++)
        rc = pgq_run(c, dels[i], &p, NULL);
    return rc ? rc : pgq_change(c, del_group, &p);
}

int pg_group_member(struct store_conn *c, const char *group_id, int64_t user_id, bool add)
{
    static const char *const ins = "INSERT INTO group_members(group_id, user_id) VALUES($1,$2) "
                                   "ON CONFLICT DO NOTHING";
    static const char *const del = "DELETE FROM group_members WHERE group_id=$1 AND user_id=$2";
    struct params p = {0};
    pgq_text(&p, group_id);
    pgq_int(&p, user_id);
    return add ? pgq_run(c, ins, &p, NULL) : pgq_change(c, del, &p);
}

int pg_user_groups(struct store_conn *c, int64_t user_id, store_name_cb cb, void *ud)
{
    static const char *const sql = "SELECT group_id FROM group_members WHERE user_id=$1 "
                                   "ORDER BY 1";
    struct params p = {0};
    pgq_int(&p, user_id);
    return pgq_each_name(c, sql, &p, cb, ud);
}

int pg_group_members(struct store_conn *c, const char *group_id, store_member_cb cb, void *ud)
{
    static const char *const sql = "SELECT user_id FROM group_members WHERE group_id=$1 "
                                   "ORDER BY 1";
    struct params p = {0};
    pgq_text(&p, group_id);
    PGresult *r;
    int rc = pgq_run(c, sql, &p, &r);
    if (rc)
        return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++)
        if (cb(pgq_col_int(r, i, 0), ud))
            break;
    PQclear(r);
    return STORE_OK;
}

int pg_share_set(struct store_conn *c, const char *account, const char *type, const char *object_id,
                 const struct store_share *shares, size_t n)
{
    static const char *const del = "DELETE FROM shares WHERE account_id=$1 AND type=$2 AND "
                                   "object_id=$3";
    static const char *const ins = "INSERT INTO shares(account_id, type, object_id, principal_id,"
                                   " may_write, may_read) VALUES($1,$2,$3,$4,$5,$6) ON "
                                   "CONFLICT(account_id, type, object_id, principal_id) DO UPDATE "
                                   "SET may_write=EXCLUDED.may_write, may_read=EXCLUDED.may_read";
    struct params p = pgq_three(account, type, object_id);
    int rc = pgq_run(c, del, &p, NULL);
    for (size_t i = 0; i < n && rc == STORE_OK; i++) {
        struct params q = pgq_three(account, type, object_id);
        pgq_text(&q, shares[i].principal_id);
        pgq_bool(&q, shares[i].may_write);
        pgq_bool(&q, shares[i].may_read);
        rc = pgq_run(c, ins, &q, NULL);
    }
    return rc;
}

/* Fills p (in place: an integer parameter points into p itself, so a params is
 * never returned by value once it holds one). */
static void props_key(struct params *p, int64_t user_id, const char *account, const char *type,
                      const char *object_id)
{
    pgq_int(p, user_id);
    pgq_text(p, account);
    pgq_text(p, type);
    pgq_text(p, object_id);
}

static char *ahead_key(int64_t user_id, const char *account, const char *type, const char *id)
{
    return xasprintf("%lld\t%s\t%s\t%s", (long long)user_id, account, type, id);
}

/* The properties read ahead: the rows (user, account, type, object, data) of the ids
 * asked; an id asked without a row has none. */
static void keep_props(struct store_conn *c, PGresult *r)
{
    if (!c->props_ahead)
        c->props_ahead = json_object();
    /* only those still asked: one the transaction wrote since is its own (put) */
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        char *key = ahead_key(pgq_col_int(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                              PQgetvalue(r, i, 3));
        if (json_object_get(c->props_asked, key))
            json_object_set_new(c->props_ahead, key, json_string(PQgetvalue(r, i, 4)));
        free(key);
    }
    const char *k;
    json_t *v;
    json_object_foreach(c->props_asked, k, v)
    {
        if (!json_object_get(c->props_ahead, k))
            json_object_set_new(c->props_ahead, k, json_null());
    }
    json_decref(c->props_asked);
    c->props_asked = NULL;
    PQclear(r);
}

int pg_user_props_prefetch(struct store_conn *c, int64_t user_id, const char *account,
                           const char *type, const char *const *ids, size_t n)
{
    /* one probe of the primary key per id (as pg_object_prefetch) */
    static const char *const sql =
        "SELECT p.user_id, p.account_id, p.type, p.object_id, p.data FROM (SELECT DISTINCT "
        "unnest($4::text[]) AS id) k CROSS JOIN LATERAL (SELECT * FROM user_props WHERE "
        "user_id=$1 AND account_id=$2 AND type=$3 AND object_id=k.id OFFSET 0) p";
    if (!c->in_txn || c->failed || n < 2 || c->props_asked)
        return STORE_OK;
    struct buf arr = {0};
    pgq_text_array(&arr, ids, n);
    struct params p = {0};
    pgq_int(&p, user_id);
    pgq_text(&p, account);
    pgq_text(&p, type);
    pgq_text(&p, arr.data);
    c->props_asked = json_object();
    for (size_t i = 0; i < n; i++) {
        char *key = ids[i] ? ahead_key(user_id, account, type, ids[i]) : NULL;
        if (key && !pgc_born(c, account, type, ids[i]))
            json_object_set_new(c->props_asked, key, json_true());
        free(key);
    }
    if (pgq_defer_keep(c, sql, &p, keep_props) != STORE_OK) {
        json_decref(c->props_asked);
        c->props_asked = NULL;
    }
    buf_free(&arr);
    return STORE_OK;
}

json_t *pg_user_props_get(struct store_conn *c, int64_t user_id, const char *account,
                          const char *type, const char *object_id)
{
    static const char *const sql = "SELECT data FROM user_props WHERE user_id=$1 AND "
                                   "account_id=$2 AND type=$3 AND object_id=$4";
    static const char *const ids = "SELECT object_id FROM user_props WHERE user_id=$1 AND "
                                   "account_id=$2 AND type=$3 ORDER BY object_id COLLATE \"C\"";
    struct params p = {0};
    props_key(&p, user_id, account, type, object_id);
    PGresult *r;
    json_t *born = pgc_born(c, account, type, object_id);
    if (born) { /* created by this transaction: what it put, if anything */
        char key[160];
        snprintf(key, sizeof key, "p%lld:%s", (long long)user_id, type);
        json_t *v = json_object_get(born, key);
        return json_is_object(v) ? json_deep_copy(v) : NULL;
    }
    if (c->in_txn && (c->props_ahead || c->props_asked)) { /* read ahead */
        char *key = ahead_key(user_id, account, type, object_id);
        if (c->props_asked && json_object_get(c->props_asked, key))
            pgq_settle(c); /* its answer now: the round trip it was to share */
        json_t *v = c->props_ahead ? json_object_get(c->props_ahead, key) : NULL;
        free(key);
        if (json_is_null(v))
            return NULL;
        if (v)
            return json_loads(json_string_value(v), 0, NULL);
    }
    if (pgc_ids_use(c, &c->props, user_id, account, type) == 2) {
        struct params q = {0};
        pgq_int(&q, user_id);
        pgq_text(&q, account);
        pgq_text(&q, type);
        if (pgq_run(c, ids, &q, &r) == STORE_OK)
            pgc_ids_keep(&c->props, r);
    }
    if (pgc_ids_has(c, &c->props, user_id, account, type, object_id) == 0)
        return NULL;
    if (pgq_run(c, sql, &p, &r))
        return NULL;
    json_t *v = PQntuples(r) ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    return v;
}

int64_t pg_user_props_list(struct store_conn *c, int64_t user_id, const char *account,
                           const char *type, int64_t limit,
                           int (*cb)(const char *object_id, json_t *data, void *ud), void *ud)
{
    static const char *const sql = "SELECT object_id, data FROM user_props WHERE user_id=$1 AND "
                                   "account_id=$2 AND type=$3 LIMIT $4";
    struct params p = {0};
    pgq_int(&p, user_id);
    pgq_text(&p, account);
    pgq_text(&p, type);
    pgq_int(&p, limit);
    PGresult *r;
    if (pgq_run(c, sql, &p, &r))
        return -1;
    int64_t n = PQntuples(r);
    for (int64_t i = 0; i < n; i++) {
        json_t *v = json_loads(PQgetvalue(r, (int)i, 1), 0, NULL);
        int stop = v ? cb(PQgetvalue(r, (int)i, 0), v, ud) : 0;
        json_decref(v);
        if (stop)
            break;
    }
    PQclear(r);
    return n;
}

int pg_user_props_put(struct store_conn *c, int64_t user_id, const char *account, const char *type,
                      const char *object_id, json_t *data)
{
    static const char *const del = "DELETE FROM user_props WHERE user_id=$1 AND account_id=$2 "
                                   "AND type=$3 AND object_id=$4";
    static const char *const put = "INSERT INTO user_props(user_id, account_id, type, object_id,"
                                   " data) VALUES($1,$2,$3,$4,$5) ON CONFLICT(user_id, "
                                   "account_id, type, object_id) DO UPDATE SET "
                                   "data=EXCLUDED.data";
    struct params p = {0};
    props_key(&p, user_id, account, type, object_id);
    pgc_ids_note(&c->props, user_id, account, type, object_id);
    if (c->props_ahead || c->props_asked) { /* what was read ahead is the old value */
        char *key = ahead_key(user_id, account, type, object_id);
        if (c->props_asked)
            json_object_del(c->props_asked, key);
        if (c->props_ahead)
            json_object_del(c->props_ahead, key);
        free(key);
    }
    json_t *born = pgc_born(c, account, type, object_id);
    if (born) {
        char key[160];
        snprintf(key, sizeof key, "p%lld:%s", (long long)user_id, type);
        json_object_set_new(born, key,
                            data && json_object_size(data) ? json_deep_copy(data) : json_null());
    }
    /* nobody waits for it: queued with the transaction's next statement (a /set of 100
     * events waited for one per event) */
    if (!data || json_object_size(data) == 0)
        return pgq_defer(c, del, &p);
    char *text = json_dumps(data, JSON_COMPACT);
    if (!text)
        return STORE_ERR;
    pgq_text(&p, text);
    int rc = pgq_defer(c, put, &p);
    free(text);
    return rc;
}

/* ---- query snapshots ------------------------------------------------------------------ */

#define SNAPSHOT_TTL 3600

/* store.h: the account's snapshot lock (two keys: this schema, the account; the
 * writers' lock uses one key, a space of its own), shared by read transactions
 * that save a snapshot, taken alone by a lookup that missed. */
#define SNAPSHOT_LOCK "hashtext(current_schema()), hashtext('snapshot ' || $1)"

int pg_snapshot_gate(struct store_conn *c, const char *account)
{
    static const char *const sql = "SELECT pg_advisory_xact_lock_shared(" SNAPSHOT_LOCK ")";
    if (!c->in_txn || c->writing || c->gated)
        return STORE_OK;
    struct params p = {0};
    pgq_text(&p, account);
    bool fresh = c->fresh; /* a restart may still begin again: the lock is only a help */
    int rc = pgq_defer(c, sql, &p);
    c->fresh = fresh;
    c->gated = rc == STORE_OK;
    return rc;
}

static int snapshot_write(struct store_conn *c, const char *account, const char *key,
                          const char *ids)
{
    static const char *const put = "INSERT INTO query_snapshots(key, account_id, ids, created) "
                                   "VALUES($1,$2,$3,$4) ON CONFLICT(key) DO UPDATE SET "
                                   "ids=EXCLUDED.ids, created=EXCLUDED.created";
    static const char *const prune = "DELETE FROM query_snapshots WHERE created < $1";
    struct params p = pgq_two(key, account);
    pgq_text(&p, ids);
    pgq_int(&p, util_now());
    struct params q = {0};
    pgq_int(&q, util_now() - SNAPSHOT_TTL);
    bool now_and_then = util_now() % 60 == 0; /* the ones nobody will ask for any more */
    if (c->in_txn && !c->writing) {
        /* queued; the read transaction ends with a COMMIT nobody waits for (store.h).
         * A failure (two front ends saving the same snapshot) only loses it */
        int rc = pgq_defer(c, put, &p);
        rc = rc || !now_and_then ? rc : pgq_defer(c, prune, &q);
        c->commit_read = c->commit_read || rc == STORE_OK;
        return rc;
    }
    /* inside a write transaction a savepoint keeps a failure from aborting it */
    if (c->in_txn && pgq_simple(c, "SAVEPOINT jmapd_snapshot"))
        return STORE_ERR;
    int rc = pgq_run(c, put, &p, NULL);
    if (c->in_txn) {
        if (rc) {
            c->failed = false;
            pgq_simple(c, "ROLLBACK TO SAVEPOINT jmapd_snapshot");
        }
        pgq_simple(c, "RELEASE SAVEPOINT jmapd_snapshot");
    }
    if (rc == STORE_OK && now_and_then)
        rc = pgq_run(c, prune, &q, NULL);
    return rc;
}

/* The snapshots this process saved lately (issue 15 §1). A key names the query and
 * the state, so one key always has the same ids, and a client asking the same query
 * again at the same state (a calendar view shown again; W3's second pass) wrote the
 * same row again: 1.4 ms of PostgreSQL's CPU for a month of 2,000 instances. A key is
 * remembered SAVED_FOR seconds, well inside the row's hour (the prune), so its row is
 * still there. A save that failed after all (its COMMIT is not waited for) leaves the
 * other front ends without the row for that long: their /queryChanges from that
 * state answers cannotCalculateChanges (RFC 8620 §5.6), as after a restart. */
#define SAVED_SLOTS 1024
#define SAVED_FOR 600

static struct saved {
    char key[72];
    int64_t at;
} saved[SAVED_SLOTS];
static pthread_mutex_t saved_lock = PTHREAD_MUTEX_INITIALIZER;

static struct saved *saved_slot(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = key; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return &saved[h % SAVED_SLOTS];
}

/* Whether key was saved less than SAVED_FOR seconds ago; with note, remembers it as
 * saved now (a slot holds the last key that fell in it). */
static bool saved_lately(const char *key, int64_t now, bool note)
{
    pthread_mutex_lock(&saved_lock);
    struct saved *s = saved_slot(key);
    bool hit = strcmp(s->key, key) == 0 && now - s->at < SAVED_FOR;
    if (note) {
        snprintf(s->key, sizeof s->key, "%s", key);
        s->at = now;
    }
    pthread_mutex_unlock(&saved_lock);
    return hit;
}

int pg_snapshot_put(struct store_conn *c, const char *account, const char *key, const char *ids)
{
    if (saved_lately(key, util_now(), false))
        return STORE_OK;
    char *compact = pgs_snap_encode(ids);
    int rc = snapshot_write(c, account, key, compact ? compact : ids);
    free(compact);
    if (rc == STORE_OK)
        saved_lately(key, util_now(), true);
    return rc;
}

char *pg_snapshot_get(struct store_conn *c, const char *account, const char *key)
{
    static const char *const sql = "SELECT ids FROM query_snapshots WHERE key=$1 AND "
                                   "account_id=$2";
    struct params p = pgq_two(key, account);
    PGresult *r;
    if (pgq_run(c, sql, &p, &r))
        return NULL;
    char *ids = PQntuples(r) ? xstrdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    /* a snapshot another front end's read transaction may still be committing */
    if (!ids && !c->gated)
        ids = pgs_snapshot_after_gate(c, account, key);
    char *json = ids ? pgs_snap_decode(ids) : NULL; /* NULL: JSON as written before */
    if (json) {
        free(ids);
        ids = json;
    }
    return ids;
}

/* ---- collection membership (issue 14), as sqlite_share.c ------------------------------ */

int pg_members_put(struct store_conn *c, const char *account, const char *type, const char *id,
                   const char *const *collections, size_t n, bool has_order, int64_t order)
{
    static const char *const del = "DELETE FROM object_members WHERE account_id=$1 AND type=$2 "
                                   "AND id=$3";
    static const char *const ins = "INSERT INTO object_members(account_id, type, id, "
                                   "collection_id, ord) VALUES($1,$2,$3,$4,$5) ON CONFLICT DO "
                                   "NOTHING";
    /* queued, not waited for (issue 15 §1, W1: two round trips an event created): a
     * failure fails the transaction; an object the transaction created has no rows */
    struct params p = pgq_three(account, type, id);
    int rc = pgc_born(c, account, type, id) ? STORE_OK : pgq_defer(c, del, &p);
    for (size_t i = 0; i < n && rc == STORE_OK; i++) {
        struct params q = pgq_three(account, type, id);
        pgq_text(&q, collections[i]);
        if (has_order)
            pgq_int(&q, order);
        else
            pgq_text(&q, NULL);
        rc = pgq_defer(c, ins, &q);
    }
    return rc;
}

int pg_members_ordered(struct store_conn *c, const char *account, const char *type,
                       const char *collection, bool desc, bool after, int64_t order, const char *id,
                       int64_t offset, int64_t limit,
                       int (*cb)(const char *id, int64_t modseq, int64_t order, void *ud), void *ud)
{
    static const char *const sql[2][2] = {
        {"SELECT id, ord FROM object_members WHERE account_id=$1 AND type=$2 AND "
         "collection_id=$3 AND ord IS NOT NULL ORDER BY ord, id LIMIT $4 OFFSET $5",
         "SELECT id, ord FROM object_members WHERE account_id=$1 AND type=$2 AND "
         "collection_id=$3 AND ord >= $6 AND (ord > $6 OR id > $7) ORDER BY ord, id LIMIT $4 "
         "OFFSET $5"},
        {"SELECT id, ord FROM object_members WHERE account_id=$1 AND type=$2 AND "
         "collection_id=$3 AND ord IS NOT NULL ORDER BY ord DESC, id LIMIT $4 OFFSET $5",
         "SELECT id, ord FROM object_members WHERE account_id=$1 AND type=$2 AND "
         "collection_id=$3 AND ord IS NOT NULL AND ord <= $6 AND (ord < $6 OR id > $7) "
         "ORDER BY ord DESC, id LIMIT $4 OFFSET $5"}};
    struct params p = pgq_three(account, type, collection);
    if (limit < 0)
        pgq_text(&p, NULL);
    else
        pgq_int(&p, limit);
    pgq_int(&p, offset < 0 ? 0 : offset);
    if (after) {
        pgq_int(&p, order);
        pgq_text(&p, id);
    }
    PGresult *r;
    int rc = pgq_run(c, sql[desc][after], &p, &r);
    if (rc)
        return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++)
        if (cb(PQgetvalue(r, i, 0), 0, pgq_col_int(r, i, 1), ud))
            break;
    PQclear(r);
    return STORE_OK;
}
