/*
 * postgres_shared.c — limits every front end on one PostgreSQL database shares (issue
 * 15 §3, store.h): failed logins counted per key in fixed windows (table counters)
 * and uploads under way per user (table slots), so a client that moves from one front
 * end to another meets the same limit.
 *
 * A count must outlive the caller's transaction (the login check runs in a read
 * transaction that is rolled back), so the writes go through a second connection of
 * the thread, opened on first use, in transactions of their own. Keys are stored as
 * their SHA-256 (they hold user names and client addresses). A slot records the
 * backend process id of the session that took it: when a front end dies, its
 * sessions end, and the next take finds the slot's session gone and frees it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres.h"
#include "store/postgres_internal.h"
#include "util/util.h"

#define PG_LOCK_SLOTS "7428303"

/* The thread's second connection, (re)opened when needed; NULL when it cannot be. */
static PGconn *side(struct store_conn *c)
{
    if (c->side && PQstatus(c->side) != CONNECTION_OK) {
        PQreset(c->side);
        if (PQstatus(c->side) == CONNECTION_OK)
            pg_session_setup(c->side);
    }
    if (!c->side)
        c->side = store_pg_connect(store_pg_url(c->st), NULL);
    return c->side && PQstatus(c->side) == CONNECTION_OK ? c->side : NULL;
}

/* Runs sql on the side connection (NULL when there is none). A connection the
 * server dropped (a restart) shows only when used: outside a transaction of its own
 * the statement runs again on a new one. */
static PGresult *side_exec(struct store_conn *c, const char *sql, int n, const char *const *v)
{
    PGconn *pg = side(c);
    if (!pg)
        return NULL;
    bool idle = PQtransactionStatus(pg) == PQTRANS_IDLE;
    PGresult *r = PQexecParams(pg, sql, n, NULL, v, NULL, NULL, 0);
    if (idle && PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK &&
        PQstatus(pg) == CONNECTION_BAD) {
        PQclear(r);
        PQreset(pg);
        if (PQstatus(pg) == CONNECTION_OK)
            pg_session_setup(pg);
        log_warn("postgresql (limits): reconnected");
        r = PQexecParams(pg, sql, n, NULL, v, NULL, NULL, 0);
    }
    return r;
}

/* Runs sql on the side connection: column 0 of the first row as an integer (none
 * without a row), -1 on error. */
static int64_t side_int(struct store_conn *c, const char *sql, const struct params *p, int64_t none)
{
    PGresult *r = side_exec(c, sql, p ? p->n : 0, p ? p->v : NULL);
    if (!r)
        return -1;
    int64_t v = -1;
    ExecStatusType s = PQresultStatus(r);
    if (s == PGRES_TUPLES_OK)
        v = PQntuples(r) && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : none;
    else if (s == PGRES_COMMAND_OK)
        v = none;
    else
        log_error("postgresql (limits): %s", PQresultErrorMessage(r));
    PQclear(r);
    return v;
}

/* ---- failed logins ------------------------------------------------------------------- */

int64_t pg_counter_add(struct store_conn *c, const char *key, int64_t window, int64_t now)
{
    /* every SET expression sees the row as it was */
    static const char *const sql =
        "INSERT INTO counters(key, since, count) VALUES($1, $2, 1) ON CONFLICT(key) DO "
        "UPDATE SET count = CASE WHEN counters.since > $2::bigint - $3::bigint THEN "
        "counters.count + 1 ELSE 1 END, since = CASE WHEN counters.since > $2::bigint - "
        "$3::bigint THEN counters.since ELSE $2::bigint END RETURNING count";
    static const char *const prune = "DELETE FROM counters WHERE since <= $1::bigint - $2::bigint";
    char hash[65];
    util_sha256_hex(key, strlen(key), hash);
    struct params p = {0};
    pgq_text(&p, hash);
    pgq_int(&p, now);
    pgq_int(&p, window);
    int64_t n = side_int(c, sql, &p, -1);
    if (n >= 0 && now % 64 == 0) { /* now and then, the windows that have passed */
        struct params q = {0};
        pgq_int(&q, now);
        pgq_int(&q, window);
        side_int(c, prune, &q, 0);
    }
    return n;
}

int64_t pg_counter_get(struct store_conn *c, const char *key, int64_t window, int64_t now)
{
    static const char *const sql = "SELECT count FROM counters WHERE key=$1 AND since > "
                                   "$2::bigint - $3::bigint";
    char hash[65];
    util_sha256_hex(key, strlen(key), hash);
    struct params p = {0};
    pgq_text(&p, hash);
    pgq_int(&p, now);
    pgq_int(&p, window);
    return pgq_first_int(c, sql, &p, 0);
}

/* ---- uploads under way ------------------------------------------------------------------ */

int pg_slot_take(struct store_conn *c, int64_t user_id, int kind, int64_t max, int64_t *slot)
{
    /* one taker per user at a time (the lock), each statement seeing the others'
     * commits (READ COMMITTED): two front ends cannot both take the last slot */
    static const char *const lock = "SELECT pg_advisory_xact_lock(" PG_LOCK_SLOTS ", $1::int)";
    static const char *const gone = "DELETE FROM slots s WHERE user_id=$1 AND kind=$2 AND NOT "
                                    "EXISTS(SELECT 1 FROM pg_stat_activity a WHERE a.pid=s.pid)";
    static const char *const take = "INSERT INTO slots(user_id, kind, pid, taken) SELECT $1, $2, "
                                    "pg_backend_pid(), $4 WHERE (SELECT count(*) FROM slots "
                                    "WHERE user_id=$1 AND kind=$2) < $3::bigint RETURNING id";
    struct params p = {0};
    pgq_int(&p, user_id);
    pgq_int(&p, kind);
    pgq_int(&p, max);
    pgq_int(&p, util_now());
    struct params l = {0}, g = {0};
    pgq_int(&l, user_id % 2147483647);
    pgq_int(&g, user_id);
    pgq_int(&g, kind);
    if (side_int(c, "BEGIN", NULL, 0) < 0)
        return STORE_ERR;
    int64_t id = -1;
    if (side_int(c, lock, &l, 0) >= 0 && side_int(c, gone, &g, 0) >= 0)
        id = side_int(c, take, &p, 0);
    if (id < 0 || side_int(c, "COMMIT", NULL, 0) < 0) {
        side_int(c, "ROLLBACK", NULL, 0);
        return STORE_ERR;
    }
    *slot = id;
    return id > 0 ? STORE_OK : STORE_EXISTS;
}

int pg_slot_release(struct store_conn *c, int64_t slot)
{
    static const char *const sql = "DELETE FROM slots WHERE id=$1";
    struct params p = {0};
    pgq_int(&p, slot);
    return side_int(c, sql, &p, 0) < 0 ? STORE_ERR : STORE_OK;
}

/* ---- query snapshots (store.h) --------------------------------------------------------
 * A lookup that missed waits until no read transaction of the account that may be
 * saving a snapshot is still open (their shared lock, postgres_share.c), at most
 * five seconds, then looks again in a statement of its own, which sees what they
 * committed. On the second connection: the caller's transaction has its snapshot. */
char *pgs_snapshot_after_gate(struct store_conn *c, const char *account, const char *key)
{
    static const char *const wait =
        "WITH t AS MATERIALIZED (SELECT set_config('lock_timeout', '5000', true)) "
        "SELECT pg_advisory_xact_lock(hashtext(current_schema()), hashtext('snapshot ' || $1)) "
        "FROM t";
    static const char *const get = "SELECT ids FROM query_snapshots WHERE key=$1 AND "
                                   "account_id=$2";
    const char *a[1] = {account};
    PGresult *r = side_exec(c, wait, 1, a);
    bool ok = r && PQresultStatus(r) == PGRES_TUPLES_OK;
    if (r && !ok)
        log_error("postgresql (snapshot): %s", PQresultErrorMessage(r));
    PQclear(r);
    const char *kv[2] = {key, account};
    r = ok ? side_exec(c, get, 2, kv) : NULL;
    char *ids = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r)
                    ? xstrdup(PQgetvalue(r, 0, 0))
                    : NULL;
    PQclear(r);
    return ids;
}
