/*
 * postgres_exec.c — how the PostgreSQL backend runs its statements (issue 15): the
 * parameters, the statements prepared once per connection (keyed by the address of
 * their SQL text), and libpq's pipeline mode, which saves round trips.
 *
 * A round trip to the database is the cost that counts here (0.1 ms on an idle
 * loopback, several on a busy machine): a statement whose answer nobody waits for is
 * queued, not run. Inside a transaction, pgq_defer puts a statement into the
 * connection's pipeline (PQenterPipelineMode) and returns; the next statement that
 * needs its answer goes into the same pipeline, a sync point follows, and all of them
 * cost one round trip. So BEGIN travels with the transaction's first statement, and
 * the index rows and blob references of a created object with the next object's
 * statements. A queued statement that fails aborts the transaction, as it would have
 * done run alone: the statement that waits answers STORE_ERR, and so does COMMIT.
 * A ROLLBACK is sent without waiting (pg_rollback); its answer is read by the next
 * use of the connection (pgq_settle). A read whose answer is wanted, but after another
 * one the caller must wait for first, is queued the same way (pgq_defer_keep) and its
 * answer handed over when read: /changes sends its change scan ahead of the state read
 * it checks sinceState against, an expanded /query its state read ahead of its index
 * scan (store.h store_changes_prefetch, store_state_prefetch).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_internal.h"
#include "util/util.h"

/* ---- parameters -------------------------------------------------------------------- */

void pgq_text(struct params *p, const char *s)
{
    assert(p->n < MAX_PARAMS);
    p->v[p->n++] = s; /* NULL is SQL NULL */
}

void pgq_int(struct params *p, int64_t v)
{
    assert(p->n < MAX_PARAMS);
    snprintf(p->num[p->n], sizeof p->num[0], "%lld", (long long)v);
    p->v[p->n] = p->num[p->n];
    p->n++;
}

void pgq_bool(struct params *p, bool v)
{
    pgq_text(p, v ? "t" : "f");
}

void pgq_bin(struct params *p, const void *data, size_t len)
{
    assert(p->n < MAX_PARAMS);
    p->v[p->n] = data;
    p->len[p->n] = (int)len;
    p->fmt[p->n++] = 1;
}

void pgq_text_array(struct buf *arr, const char *const *v, size_t n)
{
    bool first = true;
    buf_puts(arr, "{");
    for (size_t i = 0; i < n; i++) {
        if (!v[i])
            continue;
        buf_puts(arr, first ? "\"" : ",\"");
        first = false;
        for (const char *p = v[i]; *p; p++)
            buf_printf(arr, "%s%c", *p == '"' || *p == '\\' ? "\\" : "", *p);
        buf_puts(arr, "\"");
    }
    buf_puts(arr, "}");
}

struct params pgq_two(const char *a, const char *b)
{
    struct params p = {0};
    pgq_text(&p, a);
    pgq_text(&p, b);
    return p;
}

struct params pgq_three(const char *a, const char *b, const char *d)
{
    struct params p = pgq_two(a, b);
    pgq_text(&p, d);
    return p;
}

/* ---- the pipeline -------------------------------------------------------------------- */

static bool piped(struct store_conn *c)
{
    return PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF;
}

/* Whether SQLSTATE state says the transaction was refused for another's sake: a
 * serialization failure or a deadlock (store_retryable). */
static bool refusal(const char *state)
{
    return state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}

/* A statement of the current transaction failed with r: a refusal is noted for
 * store_retryable. */
static void note_failure(struct store_conn *c, const PGresult *r)
{
    if (c->in_txn && refusal(PQresultErrorField(r, PG_DIAG_SQLSTATE)))
        c->refused = true;
}

/* Reads the answers of the queued statements up to the sync point. The last one's
 * result is kept in *last (if last) when it is the waiting statement's. A failed one
 * fails the transaction. Leaves pipeline mode when the connection allows. */
static void collect(struct store_conn *c, PGresult **last)
{
    int n = c->queued;
    c->queued = 0;
    for (int i = 0; i < n; i++) {
        PGresult *r = PQgetResult(c->pg);
        while (r && PQresultStatus(r) == PGRES_PIPELINE_SYNC) { /* one inside (pgq_send_end) */
            PQclear(r);
            r = PQgetResult(c->pg);
        }
        if (!r) { /* the connection went away: nothing more will come */
            if (c->in_txn)
                c->failed = true;
            return;
        }
        ExecStatusType s = PQresultStatus(r);
        const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
        if (sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
            c->lost = true; /* the server ends the session (a restart): EOF follows */
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && c->in_txn) {
            if (!c->failed && s != PGRES_PIPELINE_ABORTED && !(last && i == n - 1))
                log_error("postgresql (queued): %s", PQresultErrorMessage(r));
            note_failure(c, r);
            c->failed = true;
        }
        if (s == PGRES_TUPLES_OK && c->want_row[i] && PQntuples(r) == 0 && c->in_txn) {
            log_error("postgresql: a queued insert found its row taken");
            c->failed = true; /* as a unique index would have answered */
        }
        if (last && i == n - 1)
            *last = r;
        else if (c->keep[i] && s == PGRES_TUPLES_OK && c->in_txn && !c->failed)
            c->keep[i](c, r); /* a read sent ahead (pgq_defer_keep): its answer is wanted */
        else
            PQclear(r);
        PGresult *more;
        while ((more = PQgetResult(c->pg)) != NULL) /* NULL ends each statement's answer */
            PQclear(more);
    }
    PGresult *sync = PQgetResult(c->pg);
    if (sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC)
        PQexitPipelineMode(c->pg);
    PQclear(sync);
}

/* Sends what is queued with a sync point and reads every answer: afterwards the
 * connection runs statements one by one again. */
static void flush_pipeline(struct store_conn *c)
{
    if (!piped(c))
        return;
    if (c->queued && PQpipelineSync(c->pg) == 1) {
        c->waits++;
        collect(c, NULL);
    } else if (c->queued) {
        c->queued = 0;
        if (c->in_txn)
            c->failed = true;
    }
    if (piped(c) && PQexitPipelineMode(c->pg) != 1)
        log_error("postgresql: cannot leave pipeline mode: %s", PQerrorMessage(c->pg));
}

/* Reads the answer to a ROLLBACK sent without waiting and everything queued: the
 * connection is then ready for a statement of its own. */
void pgq_settle(struct store_conn *c)
{
    if (c->pending) {
        c->pending = false;
        if (piped(c)) /* the ROLLBACK and its sync point are sent: read up to there */
            collect(c, NULL);
        else {
            PGresult *r;
            while ((r = PQgetResult(c->pg)) != NULL)
                PQclear(r);
        }
    }
    flush_pipeline(c);
}

/* ---- statements ------------------------------------------------------------------------ */

static void forget_statements(struct store_conn *c)
{
    memset(c->cache, 0, sizeof c->cache);
}

/* Whether the connection is gone: libpq says so, or the server said it ends the
 * session (a FATAL answer read from a pipeline, before the end of the stream). */
bool pgq_lost(struct store_conn *c)
{
    if (PQstatus(c->pg) == CONNECTION_OK && !c->lost)
        PQconsumeInput(c->pg);
    return c->lost || PQstatus(c->pg) != CONNECTION_OK;
}

/* Whether a failed statement may be retried: a serialization failure, a deadlock, or
 * a connection that went away (reconnected here). Only outside a transaction. */
bool pgq_retryable(struct store_conn *c, const char *state)
{
    if (c->in_txn)
        return false;
    if (pgq_lost(c)) {
        c->pending = c->lost = false;
        c->queued = 0;
        PQreset(c->pg);
        if (PQstatus(c->pg) == CONNECTION_OK)
            pg_session_setup(c->pg);
        if (piped(c))
            PQexitPipelineMode(c->pg);
        forget_statements(c);
        if (PQstatus(c->pg) == CONNECTION_OK)
            log_warn("postgresql: reconnected");
        return PQstatus(c->pg) == CONNECTION_OK;
    }
    return refusal(state);
}

/* The cache slot of sql on c, or -1 when it is not prepared there yet. */
static int slot_of(struct store_conn *c, const char *sql, bool *free_slot)
{
    size_t h = ((uintptr_t)sql >> 3) % STMT_CACHE;
    for (size_t i = 0; i < STMT_CACHE; i++) {
        size_t k = (h + i) % STMT_CACHE;
        if (c->cache[k] == sql || !c->cache[k]) {
            *free_slot = !c->cache[k];
            return (int)k;
        }
    }
    *free_slot = false;
    return -1;
}

/* The name of the prepared statement for sql on c, preparing it on first use (which
 * reads what the pipeline holds first). */
static const char *prepared(struct store_conn *c, const char *sql, char name[8])
{
    bool fresh;
    int k = slot_of(c, sql, &fresh);
    if (k < 0) {
        log_error("postgresql: statement cache full");
        return NULL;
    }
    snprintf(name, 8, "s%d", k);
    if (!fresh)
        return name;
    pgq_settle(c);
    c->waits++;
    PGresult *r = PQprepare(c->pg, name, sql, 0, NULL);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        log_error("postgresql prepare: %s(in %.80s)", PQerrorMessage(c->pg), sql);
    PQclear(r);
    if (!ok)
        return NULL;
    c->cache[k] = sql;
    return name;
}

/* Maps a result to STORE_OK, STORE_EXISTS (a unique violation) or STORE_ERR. */
int pgq_result_code(struct store_conn *c, PGresult *r, const char *sql)
{
    ExecStatusType s = PQresultStatus(r);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
        return STORE_OK;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    note_failure(c, r);
    if (c->in_txn)
        c->failed = true;
    if (state && strcmp(state, "23505") == 0)
        return STORE_EXISTS;
    if (s != PGRES_PIPELINE_ABORTED) /* the queued statement that failed was logged */
        log_error("postgresql: %s(in %.80s)", PQresultErrorMessage(r), sql);
    return STORE_ERR;
}

/* Records a statement sent into the pipeline: whether it must answer a row, and who
 * takes its answer (NULL: nobody). */
static void note_queued(struct store_conn *c, bool row,
                        void (*keep)(struct store_conn *, PGresult *))
{
    c->want_row[c->queued] = row;
    c->keep[c->queued++] = keep;
}

/* Queues sql into the pipeline (entering it); false when it could not be sent. */
static bool send_queued(struct store_conn *c, const char *name, const struct params *p, int binary,
                        bool row, void (*keep)(struct store_conn *, PGresult *))
{
    if (!piped(c) && PQenterPipelineMode(c->pg) != 1)
        return false;
    if (PQsendQueryPrepared(c->pg, name, p->n, p->v, p->len, p->fmt, binary) != 1)
        return false;
    note_queued(c, row, keep);
    return true;
}

/* The read transaction's statements so far are BEGIN (and the snapshot lock) only and
 * the connection was found lost, by a statement or by preparing one (the settling of
 * the pipeline before PQprepare reads BEGIN's answer): a new connection and a new
 * BEGIN make it as if nothing happened, so a database restart costs no request an
 * error. The snapshot lock is not taken again: store_snapshot_get then waits for it
 * as a transaction without it does. */
static bool restart_fresh(struct store_conn *c)
{
    if (!c->fresh || c->writing || !pgq_lost(c))
        return false;
    c->in_txn = false;
    c->failed = c->gated = false;
    if (!pgq_retryable(c, NULL))
        return false;
    return pg_begin(c, false) == STORE_OK;
}

/* The waiting statement behind what the pipeline holds: one round trip for all. */
static PGresult *run_piped(struct store_conn *c, const char *name, const struct params *p,
                           int binary)
{
    if (!send_queued(c, name, p, binary, false, NULL) || PQpipelineSync(c->pg) != 1) {
        c->queued = 0;
        c->failed = true;
        return NULL;
    }
    PGresult *r = NULL;
    c->waits++;
    collect(c, &r);
    return r;
}

/* Runs sql (a string literal, prepared once per connection; dynamic when !cache) with
 * p. On STORE_OK *out (if out) is the result for the caller to PQclear. binary asks
 * for results in binary (bytea). */
int pgq_exec(struct store_conn *c, const char *sql, bool cache, const struct params *p, int binary,
             PGresult **out)
{
    static const struct params none;
    if (!p)
        p = &none;
    if (c->failed) /* an aborted transaction answers nothing until rolled back */
        return STORE_ERR;
    for (int attempt = 0;; attempt++) {
        char name[8];
        const char *n = cache ? prepared(c, sql, name) : NULL;
        PGresult *r = NULL;
        if (n && c->in_txn && piped(c)) {
            r = run_piped(c, n, p, binary);
        } else if (n || !cache) {
            pgq_settle(c);
            c->waits++;
            r = cache ? PQexecPrepared(c->pg, n, p->n, p->v, p->len, p->fmt, binary)
                      : PQexecParams(c->pg, sql, p->n, NULL, p->v, p->len, p->fmt, binary);
        }
        ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && attempt == 0 && restart_fresh(c)) {
            PQclear(r);
            continue;
        }
        c->fresh = false; /* more than BEGIN ran: a restart would lose it */
        int rc = r ? pgq_result_code(c, r, sql) : STORE_ERR;
        if (!r && c->in_txn)
            c->failed = true;
        if (rc == STORE_OK && out) {
            *out = r;
            return rc;
        }
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        bool again = rc == STORE_ERR && attempt == 0 && pgq_retryable(c, state);
        PQclear(r);
        if (!again)
            return rc;
    }
}

/* Queues sql (a string literal) with p inside a transaction: STORE_OK unless it could
 * not be sent; a failure shows at the next statement that waits, and at COMMIT.
 * Outside a transaction it runs at once. */
static int defer(struct store_conn *c, const char *sql, const struct params *p, bool row,
                 void (*keep)(struct store_conn *, PGresult *))
{
    static const struct params none;
    if (!c->in_txn)
        return row ? pgq_insert(c, sql, p) : pgq_exec(c, sql, true, p, 0, NULL);
    if (c->failed)
        return STORE_ERR;
    char name[8];
    const char *n = prepared(c, sql, name);
    if (!n && restart_fresh(c)) /* preparing it found the connection lost */
        n = prepared(c, sql, name);
    if (!n)
        return STORE_ERR;
    if (c->pending)
        pgq_settle(c);
    c->fresh = false; /* more than BEGIN is queued: a restart would lose it */
    if (!send_queued(c, n, p ? p : &none, 0, row, keep)) {
        c->failed = true;
        return STORE_ERR;
    }
    if (c->queued >= PIPELINE_MAX) /* answers pile up in the server's send buffer */
        flush_pipeline(c);
    return STORE_OK;
}

int pgq_defer(struct store_conn *c, const char *sql, const struct params *p)
{
    return defer(c, sql, p, false, NULL);
}

int pgq_defer_row(struct store_conn *c, const char *sql, const struct params *p)
{
    return defer(c, sql, p, true, NULL);
}

int pgq_defer_keep(struct store_conn *c, const char *sql, const struct params *p,
                   void (*keep)(struct store_conn *c, PGresult *r))
{
    if (!c->in_txn || c->failed)
        return STORE_ERR; /* the caller reads it when it needs it */
    return defer(c, sql, p, false, keep);
}

/* Sends ROLLBACK without waiting: what was queued is dropped with it. Or COMMIT,
 * which keeps it (a read transaction's query snapshot, store.h). */
void pgq_send_end(struct store_conn *c, bool commit)
{
    const char *sql = commit ? "COMMIT" : "ROLLBACK";
    if (piped(c)) {
        /* the answers are read by pgq_settle, as outside a transaction. A sync point
         * first: after a queued statement that fails the server skips what follows up
         * to the next sync, and a COMMIT or ROLLBACK skipped would leave the
         * transaction (and its locks) open on an idle connection */
        if ((c->queued == 0 || PQpipelineSync(c->pg) == 1) &&
            PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0) == 1 &&
            PQpipelineSync(c->pg) == 1) {
            note_queued(c, false, NULL);
            c->pending = true;
        } else
            c->queued = 0;
        return;
    }
    if (!c->pending)
        c->pending = PQsendQuery(c->pg, sql) == 1;
}

int pgq_run(struct store_conn *c, const char *sql, const struct params *p, PGresult **out)
{
    return pgq_exec(c, sql, true, p, 0, out);
}

/* A statement built for one search (its own shape of conditions), planned for its
 * parameters' values: a text pattern or query of unknown selectivity may make a
 * generic plan scan where the value's would use an index. The session plans generic
 * plans (pg_session_setup): SET LOCAL turns custom planning on, queued with the
 * statement in the same pipeline (one round trip for all), and off again queued with
 * the transaction's next statement. Outside a transaction the statement runs alone.
 * The result (NULL when it could not be sent) is the caller's; its status says
 * whether it failed. */
PGresult *pgq_exec_custom(struct store_conn *c, const char *sql, int n, const char *const *vals)
{
    static const char *const custom = "SET LOCAL plan_cache_mode = auto";
    static const char *const generic = "SET LOCAL plan_cache_mode = force_generic_plan";
    if (!c->in_txn || c->failed || pgq_defer(c, custom, NULL) != STORE_OK || !piped(c)) {
        pgq_settle(c);
        c->waits++;
        return PQexecParams(c->pg, sql, n, NULL, vals, NULL, NULL, 0);
    }
    if (PQsendQueryParams(c->pg, sql, n, NULL, vals, NULL, NULL, 0) != 1 ||
        PQpipelineSync(c->pg) != 1) {
        c->queued = 0;
        c->failed = true;
        return NULL;
    }
    note_queued(c, false, NULL);
    PGresult *r = NULL;
    c->waits++;
    collect(c, &r);
    pgq_defer(c, generic, NULL); /* back for the rest: sent with the next statement */
    return r;
}

/* Runs a statement that must change a row: STORE_NOTFOUND when none changed. */
int pgq_change(struct store_conn *c, const char *sql, const struct params *p)
{
    PGresult *r;
    int rc = pgq_run(c, sql, p, &r);
    if (rc)
        return rc;
    rc = atoi(PQcmdTuples(r)) == 0 ? STORE_NOTFOUND : STORE_OK;
    PQclear(r);
    return rc;
}

/* Runs an INSERT ... ON CONFLICT DO NOTHING RETURNING: STORE_EXISTS if nothing went in. */
int pgq_insert(struct store_conn *c, const char *sql, const struct params *p)
{
    PGresult *r;
    int rc = pgq_run(c, sql, p, &r);
    if (rc)
        return rc;
    rc = PQntuples(r) == 0 ? STORE_EXISTS : STORE_OK;
    PQclear(r);
    return rc;
}

int pgq_simple(struct store_conn *c, const char *sql)
{
    pgq_settle(c);
    c->waits++;
    PGresult *r = PQexec(c->pg, sql);
    int rc = pgq_result_code(c, r, sql);
    PQclear(r);
    return rc;
}

int64_t pgq_first_int(struct store_conn *c, const char *sql, const struct params *p, int64_t none)
{
    PGresult *r;
    if (pgq_run(c, sql, p, &r))
        return -1;
    int64_t v =
        PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : none;
    PQclear(r);
    return v;
}

bool pgq_col_bool(PGresult *r, int row, int col)
{
    return PQgetvalue(r, row, col)[0] == 't';
}

int64_t pgq_col_int(PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}
