/*
 * postgres_stats.c — planner statistics for accounts that grow (issue 15 §1).
 *
 * PostgreSQL plans each statement from the statistics ANALYZE gathers; autovacuum
 * gathers them again only once a tenth of a table has changed. An account they do
 * not know (a new one in a table analyzed before it existed, or a first import into
 * a new database) is estimated at a row or two, and every index whose first columns
 * are (account_id, type) then costs the same as the primary key: a lookup by id or by
 * uid read every row of the account through one of them (W2's /get of 100 ids at
 * 10,000 events: 11-19 ms of PostgreSQL's CPU against 0.4 ms once analyzed; the
 * index rows of an update likewise). So a front end that has created many objects in
 * one account analyzes the account-keyed tables itself: each time its count of the
 * account's creates (since the process started) reaches 512, 1,024, 2,048, ... A few
 * times per import, log2 of its size; an ANALYZE samples at most 30,000 rows a table
 * (50 ms at 10,000 events). It is sent after the COMMIT and not waited for: the
 * connection's next use reads its answer (pgq_settle), as it does a ROLLBACK's.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/postgres_internal.h"

#define GROWN_ACCOUNTS 64
#define GROWN_FIRST 512

static struct grown {
    char account[64];
    int64_t created, next; /* creates seen; the count that analyzes next */
    uint64_t used;
} grown[GROWN_ACCOUNTS];
static uint64_t grown_clock;
static pthread_mutex_t grown_lock = PTHREAD_MUTEX_INITIALIZER;

/* Counts n more creates in account; whether that reaches its next threshold. */
bool pg_stats_grew(const char *account, int64_t n)
{
    pthread_mutex_lock(&grown_lock);
    struct grown *g = NULL, *oldest = &grown[0];
    for (size_t i = 0; i < GROWN_ACCOUNTS && !g; i++) {
        if (strcmp(grown[i].account, account) == 0 && grown[i].next)
            g = &grown[i];
        else if (grown[i].used < oldest->used)
            oldest = &grown[i];
    }
    if (!g) { /* a new one takes the slot used longest ago */
        g = oldest;
        snprintf(g->account, sizeof g->account, "%s", account);
        g->created = 0;
        g->next = GROWN_FIRST;
    }
    g->used = ++grown_clock;
    g->created += n;
    bool grew = g->created >= g->next;
    while (g->created >= g->next)
        g->next *= 2;
    pthread_mutex_unlock(&grown_lock);
    return grew;
}

void pg_stats_created(struct store_conn *c, const char *account)
{
    if (c->created && strcmp(c->created_account, account) != 0) {
        /* another account in the same transaction: counted apart */
        c->analyze_due = pg_stats_grew(c->created_account, c->created) || c->analyze_due;
        c->created = 0;
    }
    snprintf(c->created_account, sizeof c->created_account, "%s", account);
    c->created++;
}

void pg_stats_forget(struct store_conn *c)
{
    c->created = 0;
    c->analyze_due = false;
}

void pg_stats_commit(struct store_conn *c)
{
    /* every column a statement filters or orders by: a column left out keeps no
     * statistics, and a condition on it is guessed at a third of the rows (W5's
     * change scan went from its index to a sort of the account). Not the JSON, text
     * vectors and trigram text: the most costly to sample, and no plan reads them */
    static const char *const sql =
        "ANALYZE (SKIP_LOCKED) objects(account_id, type, id, created_modseq, updated_modseq,"
        " destroyed, ukey), object_index(account_id, type, id, uid, start, finish, modseq, ord,"
        " span, exact), object_grams(account_id, type, id), user_props(user_id, account_id,"
        " type, object_id), alert_queue(account_id, type, object_id, user_id, next_check),"
        " blob_refs(account_id, blob_id, obj_type, obj_id), object_metadata(account_id, type,"
        " object_id, user_id, modseq), object_members(account_id, type, id, collection_id, ord)";
    bool due = c->analyze_due || (c->created && pg_stats_grew(c->created_account, c->created));
    pg_stats_forget(c);
    if (!due || c->in_txn || c->pending || PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF)
        return; /* not now: the next threshold will */
    c->pending = PQsendQuery(c->pg, sql) == 1;
}
