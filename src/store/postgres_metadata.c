/*
 * postgres_metadata.c — the PostgreSQL backend's object metadata (store.h; issue
 * 18, draft-ietf-jmap-metadata-02), as sqlite_metadata.c: the shared and per-user
 * metadata rows beside the objects with their modseqs, the account's metadata usage
 * and the per-viewer state of a type. A /get's rows come in one round trip.
 */
#include <stdlib.h>
#include <string.h>

#include "store/postgres_internal.h"
#include "util/util.h"

static int rows(PGresult *r, bool with_created, store_metadata_cb cb, void *ud)
{
    for (int i = 0, n = PQntuples(r); i < n; i++)
        if (cb(PQgetvalue(r, i, 0), pgq_col_int(r, i, 1), PQgetvalue(r, i, 2), pgq_col_int(r, i, 3),
               with_created ? pgq_col_int(r, i, 4) : 0, ud))
            break;
    PQclear(r);
    return STORE_OK;
}

int pg_metadata_get(struct store_conn *c, const char *account, const char *type,
                    const char *const *ids, size_t n, int64_t user_id, store_metadata_cb cb,
                    void *ud)
{
    static const char *const sql = "SELECT object_id, user_id, data, modseq FROM object_metadata "
                                   "WHERE account_id=$1 AND type=$2 AND object_id = "
                                   "ANY($3::text[]) AND user_id IN (0, $4)";
    if (n == 0)
        return STORE_OK;
    struct buf arr = {0};
    pgq_text_array(&arr, ids, n);
    struct params p = pgq_two(account, type);
    pgq_text(&p, arr.data);
    pgq_int(&p, user_id);
    PGresult *r;
    int rc = pgq_run(c, sql, &p, &r);
    buf_free(&arr);
    return rc ? rc : rows(r, false, cb, ud);
}

int pg_metadata_scan(struct store_conn *c, const char *account, const char *type, int64_t user_id,
                     store_metadata_cb cb, void *ud)
{
    static const char *const sql = "SELECT object_id, user_id, data, modseq FROM object_metadata "
                                   "WHERE account_id=$1 AND type=$2 AND user_id IN (0, $3)";
    struct params p = pgq_two(account, type);
    pgq_int(&p, user_id);
    PGresult *r;
    int rc = pgq_run(c, sql, &p, &r);
    return rc ? rc : rows(r, false, cb, ud);
}

int pg_metadata_put(struct store_conn *c, const char *account, const char *type, const char *id,
                    int64_t user_id, const char *data, int64_t modseq)
{
    static const char *const sql =
        "INSERT INTO object_metadata(account_id, type, object_id, user_id, data, modseq) "
        "VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT(account_id, type, object_id, user_id) DO UPDATE "
        "SET data=EXCLUDED.data, modseq=EXCLUDED.modseq";
    struct params p = pgq_three(account, type, id);
    pgq_int(&p, user_id);
    pgq_text(&p, data);
    pgq_int(&p, modseq);
    pgc_meta_forget(c, account, type);
    return pgq_run(c, sql, &p, NULL);
}

int pg_metadata_drop(struct store_conn *c, const char *account, const char *type, const char *id,
                     int64_t *freed)
{
    static const char *const sql = "WITH d AS (DELETE FROM object_metadata WHERE account_id=$1 "
                                   "AND type=$2 AND object_id=$3 RETURNING length(data) AS n) "
                                   "SELECT coalesce(sum(n), 0) FROM d";
    struct params p = pgq_three(account, type, id);
    pgc_meta_forget(c, account, type);
    *freed = pgq_first_int(c, sql, &p, 0);
    return *freed < 0 ? STORE_ERR : STORE_OK;
}

int pg_metadata_changes(struct store_conn *c, const char *account, const char *type,
                        int64_t user_id, int64_t since, size_t max, store_metadata_cb cb, void *ud)
{
    static const char *const sql =
        "SELECT m.object_id, m.user_id, m.data, m.modseq, o.created_modseq FROM object_metadata "
        "m JOIN objects o ON o.account_id=m.account_id AND o.type=m.type AND o.id=m.object_id "
        "WHERE m.account_id=$1 AND m.type=$2 AND m.user_id IN (0, $3) AND m.modseq > $4 AND NOT "
        "o.destroyed ORDER BY m.modseq LIMIT $5";
    /* none changed since: known from the viewer's state read (W5: one round trip less) */
    if (pgc_meta_none_after(c, account, type, user_id, since))
        return STORE_OK;
    struct params p = pgq_two(account, type);
    pgq_int(&p, user_id);
    pgq_int(&p, since);
    if (max)
        pgq_int(&p, (int64_t)max);
    else
        pgq_text(&p, NULL); /* LIMIT NULL: no limit */
    PGresult *r;
    int rc = pgq_run(c, sql, &p, &r);
    return rc ? rc : rows(r, true, cb, ud);
}

int64_t pg_metadata_usage(struct store_conn *c, const char *account)
{
    static const char *const sql = "SELECT bytes FROM metadata_usage WHERE account_id=$1";
    struct params p = {0};
    pgq_text(&p, account);
    return pgq_first_int(c, sql, &p, 0);
}

int pg_metadata_usage_add(struct store_conn *c, const char *account, int64_t delta)
{
    static const char *const sql = "INSERT INTO metadata_usage(account_id, bytes) VALUES($1, "
                                   "greatest($2::bigint, 0)) ON CONFLICT(account_id) DO UPDATE "
                                   "SET bytes=greatest(metadata_usage.bytes + $2::bigint, 0)";
    struct params p = {0};
    pgq_text(&p, account);
    pgq_int(&p, delta);
    return pgq_run(c, sql, &p, NULL);
}

int pg_metadata_state_get(struct store_conn *c, const char *account, const char *type,
                          int64_t *last_private, int64_t *shared)
{
    static const char *const sql = "SELECT last_private, shared FROM metadata_state WHERE "
                                   "account_id=$1 AND type=$2";
    struct params p = pgq_two(account, type);
    PGresult *r;
    int rc = pgq_run(c, sql, &p, &r);
    if (rc)
        return rc;
    bool row = PQntuples(r) > 0;
    *last_private = row ? pgq_col_int(r, 0, 0) : 0;
    *shared = row ? pgq_col_int(r, 0, 1) : 0;
    PQclear(r);
    return STORE_OK;
}

int pg_metadata_state_put(struct store_conn *c, const char *account, const char *type,
                          int64_t last_private, int64_t shared)
{
    static const char *const sql = "INSERT INTO metadata_state(account_id, type, last_private, "
                                   "shared) VALUES($1,$2,$3,$4) ON CONFLICT(account_id, type) DO "
                                   "UPDATE SET last_private=EXCLUDED.last_private, "
                                   "shared=EXCLUDED.shared";
    struct params p = pgq_two(account, type);
    pgq_int(&p, last_private);
    pgq_int(&p, shared);
    return pgq_run(c, sql, &p, NULL);
}

/* The per-viewer state read: the type's state, the metadata states, the highest modseq
 * of the user's metadata rows; and the type's lowest state too, for the transaction's
 * state cache: the state read every method makes after this one (store_state_get,
 * store_state_lowest) is then answered without another round trip (issue 15: 3.1 ->
 * 2.1 waited round trips per /get or expanded /query); and the highest modseq of the
 * shared metadata rows: with the user's (column 3), whether a /changes has metadata
 * rows to read at all (pgc_meta_none_after) */
static const char *const viewer_sql =
    "SELECT coalesce(s.modseq, 0), coalesce(m.last_private, 0), coalesce(m.shared, 0), "
    "coalesce((SELECT max(modseq) FROM object_metadata WHERE account_id=$1 AND type=$2 AND "
    "user_id=$3), 0), coalesce(s.lowest, 0), coalesce((SELECT max(modseq) FROM "
    "object_metadata WHERE account_id=$1 AND type=$2 AND user_id=0), 0) FROM (SELECT 1) AS "
    "one LEFT JOIN states s ON s.account_id=$1 AND s.type=$2 LEFT JOIN metadata_state m ON "
    "m.account_id=$1 AND m.type=$2";

/* Takes the viewer read's row into the transaction's caches; v: modseq, last_private,
 * shared, mine. False without a row. */
static bool viewer_take(struct store_conn *c, const char *account, const char *type,
                        int64_t user_id, PGresult *r, int64_t v[4])
{
    bool row = PQntuples(r) > 0;
    for (int i = 0; i < 4; i++)
        v[i] = row ? pgq_col_int(r, 0, i) : 0;
    if (row) {
        pgc_state_add(c, account, type, v[0], pgq_col_int(r, 0, 4));
        int64_t shared_max = pgq_col_int(r, 0, 5);
        pgc_meta_add(c, account, type, user_id, v[3] > shared_max ? v[3] : shared_max);
        if (!c->writing)
            pgc_viewer_add(c, account, type, user_id, v + 1);
    }
    PQclear(r);
    return row;
}

static void keep_viewer(struct store_conn *c, PGresult *r)
{
    struct pg_state_ahead *a = &c->state_ahead;
    int64_t v[4];
    if (!a->queued) {
        PQclear(r);
        return;
    }
    a->queued = false;
    viewer_take(c, a->account, a->type, a->user, r, v);
}

void pg_state_ahead_wait(struct store_conn *c, const char *account, const char *type)
{
    struct pg_state_ahead *a = &c->state_ahead;
    if (a->queued && strcmp(a->account, account) == 0 && strcmp(a->type, type) == 0)
        pgq_settle(c); /* its answer now: the round trip it was to share */
}

int pg_state_prefetch(struct store_conn *c, const char *account, const char *type, int64_t user_id)
{
    struct pg_state_ahead *a = &c->state_ahead;
    int64_t m, l;
    if (!c->in_txn || c->writing || a->queued || pgc_state(c, account, type, &m, &l) ||
        strlen(account) >= sizeof a->account || strlen(type) >= sizeof a->type)
        return STORE_OK; /* the read runs when asked */
    snprintf(a->account, sizeof a->account, "%s", account);
    snprintf(a->type, sizeof a->type, "%s", type);
    a->user = user_id < 0 ? 0 : user_id;
    struct params p = pgq_two(account, type);
    pgq_int(&p, a->user);
    a->queued = pgq_defer_keep(c, viewer_sql, &p, keep_viewer) == STORE_OK;
    return STORE_OK;
}

int pg_metadata_viewer(struct store_conn *c, const char *account, const char *type, int64_t user_id,
                       int64_t *modseq, int64_t *last_private, int64_t *shared, int64_t *mine)
{
    int64_t v[4], lowest;
    /* known in this read transaction (store_state_prefetch, or read before) */
    pg_state_ahead_wait(c, account, type);
    if (pgc_state(c, account, type, &v[0], &lowest) &&
        pgc_viewer(c, account, type, user_id, v + 1)) {
        *modseq = v[0], *last_private = v[1], *shared = v[2], *mine = v[3];
        return STORE_OK;
    }
    pgc_states_flush(c); /* it reads the states table */
    struct params p = pgq_two(account, type);
    pgq_int(&p, user_id);
    PGresult *r;
    int rc = pgq_run(c, viewer_sql, &p, &r);
    if (rc)
        return rc;
    bool row = viewer_take(c, account, type, user_id, r, v);
    *modseq = v[0], *last_private = v[1], *shared = v[2], *mine = v[3];
    return row ? STORE_OK : STORE_ERR;
}

int pg_metadata_with_key(struct store_conn *c, const char *account, const char *type,
                         int64_t user_id, const char *key, store_metadata_cb cb, void *ud)
{
    static const char *const sql = "SELECT object_id FROM metadata_keys WHERE account_id=$1 "
                                   "AND type=$2 AND user_id=$3 AND key=$4";
    struct params p = pgq_two(account, type);
    pgq_int(&p, user_id);
    pgq_text(&p, key);
    PGresult *r;
    int rc = pgq_run(c, sql, &p, &r);
    if (rc)
        return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++)
        if (cb(PQgetvalue(r, i, 0), user_id, NULL, 0, 0, ud))
            break;
    PQclear(r);
    return STORE_OK;
}
