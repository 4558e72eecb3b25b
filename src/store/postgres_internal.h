/*
 * postgres_internal.h — what postgres.c shares with the other files of the PostgreSQL
 * backend (postgres_*.c): the connection, statement parameters and the helpers
 * that run a cached prepared statement. Not for use outside src/store/.
 */
#ifndef JMAPD_STORE_POSTGRES_INTERNAL_H
#define JMAPD_STORE_POSTGRES_INTERNAL_H

#include <libpq-fe.h>

#include "store/backend.h"

#define STMT_CACHE 256 /* more than the backend has statements (session 6: push, grams, chunks, keys) */
#define MAX_PARAMS 20
/* statements queued before their answers are read (postgres_exec.c) */
#define PIPELINE_MAX 64
/* rows and states a transaction keeps (postgres_cache.c) */
#define ROWS_CACHE 16
#define STATES_CACHE 8

struct pg_rows {
    PGresult *r; /* (id, data) in id order */
    char account[64], type[64];
    bool whole; /* every object of the type: an id not here does not exist */
    bool stale; /* the transaction changed the type since: freed at its end */
};

/* the (account, type) a cache of one at a time holds (postgres_cache.c) */
struct pg_scope {
    char account[64], type[64];
    int64_t user; /* a user's rows (struct pg_ids of user_props); else 0 */
};

/* The object ids that have rows in a table, of one scope, loaded once a transaction
 * asks about a second object (postgres_cache.c): an id not among them, nor noted since,
 * has none, and its lookup costs no round trip. */
struct pg_ids {
    PGresult *r; /* (object_id) by object_id COLLATE "C" */
    struct pg_scope of;
    int uses;      /* lookups in this transaction */
    json_t *noted; /* ids the transaction may have given a row since */
};

struct pg_uids {
    PGresult *r; /* (uid, id) of every indexed object with a uid, by uid (COLLATE "C"), id */
    json_t *probed; /* or of some uids (store_keys_expect): uid -> [id, ...] */
    struct pg_scope of;
    int lookups;     /* in this transaction */
    json_t *changed; /* id -> uid or null: the transaction's own index changes */
};

struct pg_ukeys {
    PGresult *r; /* (ukey, id) of every object of the type with a unique key, by ukey */
    json_t *probed; /* or of some keys (store_keys_expect): ukey -> its id, or null (free) */
    struct pg_scope of;
    int creates;    /* in this transaction */
    json_t *by_id;  /* id -> ukey or null: the transaction's own changes */
    json_t *by_key; /* ukey -> id: the keys the transaction gave */
};

struct pg_state {
    char account[64], type[64];
    int64_t modseq, lowest;
    bool has_lowest; /* false: known from a bump only (postgres_cache.c) */
    bool dirty;      /* bumped in memory since the row was last written (pgc_states_flush) */
    /* the highest modseq of the metadata rows a viewer's /changes reads (pgc_meta_add) */
    bool has_meta;
    int64_t meta_user, meta_max;
    /* a read transaction's per-viewer state read (pg_metadata_viewer), for viewer_user */
    bool has_viewer;
    int64_t viewer_user, last_private, shared, mine;
};

/* A read transaction's change scan sent ahead (store_changes_prefetch): its arguments,
 * and its rows once the pipeline's answers were read (postgres_exec.c's keep). */
struct pg_ahead {
    bool queued;
    PGresult *r;
    char account[64], type[64];
    int64_t since;
    size_t max;
};

/* A read transaction's viewer state read sent ahead (store_state_prefetch). */
struct pg_state_ahead {
    bool queued;
    char account[64], type[64];
    int64_t user;
};

struct store_conn {
    const struct store_ops *ops; /* first: backend.h */
    PGconn *pg;
    PGconn *side; /* for counts that outlive pg's transaction (postgres_shared.c) */
    struct store *st;
    bool in_txn, writing, failed; /* failed: the transaction is aborted */
    bool pending;                 /* a ROLLBACK was sent whose answer is still to be read */
    int queued;                   /* statements in the pipeline whose answers are unread */
    bool want_row[PIPELINE_MAX + 2]; /* queued i must answer a row (pgq_defer_row) */
    /* queued i's answer is kept (pgq_defer_keep): the function takes it */
    void (*keep[PIPELINE_MAX + 2])(struct store_conn *c, PGresult *r);
    unsigned long waits;          /* answers waited for: round trips (tests count them) */
    bool fresh;                   /* a read transaction whose BEGIN is queued and nothing more */
    bool lost;                    /* the server ended the session (read from a pipeline) */
    bool gated;                   /* this read transaction holds its account's snapshot lock */
    bool commit_read;             /* this read transaction queued a snapshot: it ends with COMMIT */
    /* since store_retry_mark: a transaction was refused for another's sake (40001,
     * 40P01), and a write transaction committed (store_retryable) */
    bool refused, committed;
    /* what the current transaction read (postgres_cache.c) */
    struct pg_rows rows[ROWS_CACHE];
    int iterating; /* store_object_foreach calls under way */
    struct pg_state states[STATES_CACHE];
    int nstates;
    struct pg_ahead ahead;
    struct pg_state_ahead state_ahead;
    struct pg_uids uids;
    struct pg_ukeys ukeys;
    struct pg_ids props;  /* user_props of (user, account, type) */
    json_t *born;         /* objects the transaction created: "account\ttype\tid" (pgc_born) */
    /* objects the transaction wrote: "account\ttype\tid" -> [data text or null
     * (destroyed), unique key or null] (pgc_written) */
    json_t *written;
    /* per-user properties read ahead (store_user_props_prefetch): "user\taccount\ttype\tid"
     * -> data text or null (none); those asked whose answer is still to come */
    json_t *props_ahead, *props_asked;
    struct pg_ids alerts; /* alert_queue of (account, type) */
    char lock_key[16]; /* the writers' lock of this schema: hashtext(current_schema()) */
    /* objects the transaction created in one account, for its statistics (postgres_stats.c) */
    int64_t created;
    char created_account[64];
    bool analyze_due; /* an earlier account of the transaction reached its threshold */
    struct store_conn *next;
    const char *cache[STMT_CACHE]; /* statement name: "s" + index */
};

struct params {
    int n;
    const char *v[MAX_PARAMS];
    int len[MAX_PARAMS], fmt[MAX_PARAMS];
    char num[MAX_PARAMS][24];
};

/* Every operation of backend.h, as pg_NAME (postgres.c's table lists them). */
#define STORE_OP_PFX(name) pg_##name
#define STORE_OP_EXTERN(ret, name, params, args) ret STORE_OP_PFX(name) params;
STORE_OPS(STORE_OP_EXTERN)

/* Runs a function's statements in a write transaction of their own when the caller
 * has none (pg_auto_begin answers whether it began one), so a change of several rows
 * is atomic either way; pg_auto_end commits it, or rolls it back after an error. */
bool pg_auto_begin(struct store_conn *c);
int pg_auto_end(struct store_conn *c, bool began, int rc);

/* Parameters: text (NULL is SQL NULL), integers, booleans. An integer's text lives in
 * the params itself: fill a params where it is used, never return one by value
 * after pgq_int (pgq_two and pgq_three hold text only). */
void pgq_text(struct params *p, const char *s);
void pgq_int(struct params *p, int64_t v);
void pgq_bool(struct params *p, bool v);
struct params pgq_two(const char *a, const char *b);
/* The strings v[0, n) (NULL ones left out) as a text[] literal, appended to arr. */
struct buf;
void pgq_text_array(struct buf *arr, const char *const *v, size_t n);
struct params pgq_three(const char *a, const char *b, const char *d);
/* Runs sql (a string literal: prepared once per connection) with p: STORE_OK (with
 * *out, if out, for the caller to PQclear), STORE_EXISTS (a unique index) or STORE_ERR. */
int pgq_run(struct store_conn *c, const char *sql, const struct params *p, PGresult **out);
/* The same with the choice of a prepared (cache) or one-off statement and of binary
 * results. */
int pgq_exec(struct store_conn *c, const char *sql, bool cache, const struct params *p, int binary,
             PGresult **out);
/* Inside a transaction: sql is queued, its answer read with the next statement's (one
 * round trip for both); a failure fails the transaction (STORE_ERR at the next
 * statement and at COMMIT). Outside one it runs at once. For statements whose answer
 * the caller does not look at. */
int pgq_defer(struct store_conn *c, const char *sql, const struct params *p);
/* The same for an INSERT ... ON CONFLICT DO NOTHING RETURNING whose row must go in:
 * when it does not, the transaction fails (STORE_ERR, not STORE_EXISTS). */
int pgq_defer_row(struct store_conn *c, const char *sql, const struct params *p);
/* The same for a read whose answer is wanted later (a read sent ahead of the statement
 * that waits, so both cost one round trip): keep gets the answer (it owns the result)
 * when it is read, if the statement succeeded inside the same transaction; inside a
 * read transaction only. */
int pgq_defer_keep(struct store_conn *c, const char *sql, const struct params *p,
                   void (*keep)(struct store_conn *c, PGresult *r));
/* A statement built for one search, planned for its parameters' values (the session's
 * plans are generic: pg_session_setup), in the transaction's pipeline. The result is
 * the caller's (NULL: not sent); pgq_result_code maps it. */
PGresult *pgq_exec_custom(struct store_conn *c, const char *sql, int n, const char *const *vals);
/* A state read sent ahead (store_state_prefetch) of (account, type) still queued: its
 * answer read now, before the state is asked (postgres_metadata.c). */
void pg_state_ahead_wait(struct store_conn *c, const char *account, const char *type);
/* Forgets the span scan rows kept for st's windows (postgres_index.c), at its close. */
void pg_spans_forget(const struct store *st);
/* The settings every session gets at connect and after a reconnect (postgres.c). */
void pg_session_setup(PGconn *pg);
/* Reads every answer still due (a ROLLBACK sent without waiting, queued statements):
 * afterwards the connection takes statements of its own (PQexec). */
void pgq_settle(struct store_conn *c);
/* Sends ROLLBACK (or COMMIT: commit) without waiting for its answer (pgq_settle
 * reads it). */
void pgq_send_end(struct store_conn *c, bool commit);
/* The snapshot of key after waiting for the account's snapshot lock, read on the
 * thread's second connection (postgres_shared.c): NULL when there is none. */
char *pgs_snapshot_after_gate(struct store_conn *c, const char *account, const char *key);
/* A snapshot's ids (a JSON array of strings) in the compact text query_snapshots keeps
 * (postgres_snapcode.c), NULL when they are kept as JSON; and back: the JSON array
 * (malloc'd), NULL when text is not the compact form (JSON written before). */
char *pgs_snap_encode(const char *json);
char *pgs_snap_decode(const char *text);
/* Whether a statement that failed with SQLSTATE state (or NULL) outside a transaction
 * may run again: after a lost connection, reconnected here. */
bool pgq_retryable(struct store_conn *c, const char *state);
/* Whether the connection is gone (pgq_retryable reconnects it). */
bool pgq_lost(struct store_conn *c);
int pgq_result_code(struct store_conn *c, PGresult *r, const char *sql);
/* A binary parameter (bytea). */
void pgq_bin(struct params *p, const void *data, size_t len);
/* The same for a statement that must change a row (else STORE_NOTFOUND), and for an
 * INSERT ... ON CONFLICT DO NOTHING RETURNING (STORE_EXISTS when nothing went in). */
int pgq_change(struct store_conn *c, const char *sql, const struct params *p);
int pgq_insert(struct store_conn *c, const char *sql, const struct params *p);
/* Column 0 of the first row as an integer; none without a row, -1 on error. */
int64_t pgq_first_int(struct store_conn *c, const char *sql, const struct params *p, int64_t none);
/* cb with column 0 of each row until it returns non-zero. */
int pgq_each_name(struct store_conn *c, const char *sql, const struct params *p,
                  int (*cb)(const char *name, void *ud), void *ud);
/* cb with columns 0 and 1 of each row until it returns non-zero. */
int pgq_each_pair(struct store_conn *c, const char *sql, const struct params *p,
                  int (*cb)(const char *a, const char *b, void *ud), void *ud);
int64_t pgq_col_int(PGresult *r, int row, int col);
/* A statement without parameters, not prepared (SAVEPOINT and the like). */
int pgq_simple(struct store_conn *c, const char *sql);
bool pgq_col_bool(PGresult *r, int row, int col);

/* The words of the full-text index (postgres_text.c), split and folded as the SQLite
 * backend's FTS5 tables split them. pgt_tsvector: text as a tsvector literal (malloc'd),
 * NULL for no words. pgt_tsquery_words appends the words of text[0, n) to the tsquery
 * literal q, joined by <-> (adjacent, in order) and to what q holds, the last one a
 * prefix (:*) if prefix; returns their number, -1 when text cannot be split. */
char *pgt_tsvector(const char *text);
int pgt_tsquery_words(struct buf *q, const char *text, size_t n, bool prefix);

/* Planner statistics of accounts that grow (postgres_stats.c): pg_stats_created counts
 * an object the transaction created, pg_stats_commit (after its COMMIT) sends an
 * ANALYZE, not waited for, when the account's creates reached their next threshold;
 * pg_stats_forget drops the count of a transaction rolled back. pg_stats_grew adds n
 * creates of account to the process's count: whether a threshold was reached. */
void pg_stats_created(struct store_conn *c, const char *account);
void pg_stats_commit(struct store_conn *c);
void pg_stats_forget(struct store_conn *c);
bool pg_stats_grew(const char *account, int64_t n);

/* The transaction's cache (postgres_cache.c). pgc_clear at its end, pgc_forget before
 * a change of objects of (account, type); pgc_keep takes r (rows id, data in id order)
 * unless it answers false (outside a transaction, or full): then r stays the caller's.
 * pgc_get: 1 with *out (a new reference), 0 when the object does not exist, -1 when
 * the cache does not know. */
void pgc_clear(struct store_conn *c);
void pgc_forget(struct store_conn *c, const char *account, const char *type);
/* An object the transaction wrote (after pgc_forget): data, the text stored (NULL:
 * destroyed), and its unique key. Its row read before is not answered any more, and
 * pgc_get answers what was written: a /set that read the objects it updates at once
 * (store_object_prefetch) keeps the others' rows (issue 15 §1: an update waited for
 * its object's read). pgc_stored_key: 1 when the object is known live here, with *key
 * its unique key as stored (NULL: none; from rows read with their ukey column, or
 * written); 0 when not known. */
void pgc_written(struct store_conn *c, const char *account, const char *type, const char *id,
                 const char *data, const char *key);
int pgc_stored_key(struct store_conn *c, const char *account, const char *type, const char *id,
                   const char **key);
bool pgc_keep(struct store_conn *c, const char *account, const char *type, PGresult *r, bool whole);
int pgc_get(struct store_conn *c, const char *account, const char *type, const char *id,
            json_t **out);
PGresult *pgc_whole(struct store_conn *c, const char *account, const char *type);
bool pgc_state(struct store_conn *c, const char *account, const char *type, int64_t *modseq,
               int64_t *lowest);
void pgc_state_add(struct store_conn *c, const char *account, const char *type, int64_t modseq,
                   int64_t lowest);
/* Metadata rows (issue 18) of (account, type): pgc_meta_add records the highest modseq
 * of the shared rows and of user's, read with the type's state; pgc_meta_none_after
 * answers whether the transaction knows that none of them changed after since (its
 * change scan then needs no round trip); pgc_meta_forget, at a write of any. */
void pgc_meta_add(struct store_conn *c, const char *account, const char *type, int64_t user,
                  int64_t max);
bool pgc_meta_none_after(struct store_conn *c, const char *account, const char *type, int64_t user,
                         int64_t since);
void pgc_meta_forget(struct store_conn *c, const char *account, const char *type);
/* The per-viewer state of (account, type) for user in a read transaction (a snapshot:
 * the row does not change under it): pgc_viewer_add records what the viewer read
 * found (after pgc_state_add), pgc_viewer answers it (false: not known). */
void pgc_viewer_add(struct store_conn *c, const char *account, const char *type, int64_t user,
                    const int64_t v[3]);
bool pgc_viewer(struct store_conn *c, const char *account, const char *type, int64_t user,
                int64_t v[3]);
/* In a write transaction: the modseq a bump of (account, type) gives when an earlier
 * bump of it is known (pgc_bumped); false when not. */
bool pgc_bump(struct store_conn *c, const char *account, const char *type, int64_t *modseq);
void pgc_bumped(struct store_conn *c, const char *account, const char *type, int64_t modseq);
/* Writes the states the transaction bumped in memory since their last write (queued,
 * not waited for). Before COMMIT and before any statement that reads the states table:
 * one row version per state and transaction, where a bump per object made PostgreSQL
 * walk every earlier version of the row on the next (an import of 100,000 cards never
 * finished). */
void pgc_states_flush(struct store_conn *c);
/* uids: pgc_uid_lookups counts a lookup of (account, type) in the transaction and
 * returns the count (0 outside one); pgc_uid_keep takes the rows (uid, id) of every
 * indexed object of the type that has a uid; pgc_uid_changed records an index row
 * put (uid, or NULL) or deleted (NULL) since; pgc_uid_find calls cb with each id of
 * uid in id order (STORE_OK), -1 when nothing is kept. */
int pgc_uid_lookups(struct store_conn *c, const char *account, const char *type);
void pgc_uid_keep(struct store_conn *c, PGresult *r);
void pgc_uid_clear(struct store_conn *c);
void pgc_uid_changed(struct store_conn *c, const char *account, const char *type, const char *id,
                     const char *uid);
int pgc_uid_find(struct store_conn *c, const char *account, const char *type, const char *uid,
                 int (*cb)(const char *id, void *ud), void *ud);
/* The rows of some uids and unique keys only (store_keys_expect), taken in place of the
 * whole lists: pgc_uid_probe takes probed (uid -> array of ids, one entry per uid asked
 * for), pgc_ukey_probe probed (ukey -> id or null); a uid or key not among them is not
 * known (-1 above). pgc_uids_probed, pgc_ukeys_probed: whether (account, type) has such
 * rows (then the whole list is not loaded). */
void pgc_uid_probe(struct store_conn *c, const char *account, const char *type, json_t *probed);
void pgc_ukey_probe(struct store_conn *c, const char *account, const char *type, json_t *probed);
bool pgc_uids_probed(struct store_conn *c, const char *account, const char *type);
bool pgc_ukeys_probed(struct store_conn *c, const char *account, const char *type);
/* Unique keys, likewise: pgc_ukey_creates counts a create with a key; pgc_ukey_keep
 * takes the rows (ukey, id); pgc_ukey_taken answers 1 (taken), 0 (free) or -1 (not
 * kept); pgc_ukey_set records an object's key (NULL: none) as the transaction set it. */
int pgc_ukey_creates(struct store_conn *c, const char *account, const char *type);
void pgc_ukey_keep(struct store_conn *c, PGresult *r);
void pgc_ukey_clear(struct store_conn *c);
int pgc_ukey_taken(struct store_conn *c, const char *account, const char *type, const char *key);
void pgc_ukey_set(struct store_conn *c, const char *account, const char *type, const char *id,
                  const char *key);
/* Object ids with rows (struct pg_ids): pgc_ids_use counts a lookup of the scope in the
 * transaction and returns the count (0 outside one; 2: the time to load them, given
 * to pgc_ids_keep); pgc_ids_has answers 1 (the id may have rows: ask), 0 (it has
 * none) or -1 (not known here); pgc_ids_note records a row written for an id. */
int pgc_ids_use(struct store_conn *c, struct pg_ids *s, int64_t user, const char *account,
                const char *type);
void pgc_ids_keep(struct pg_ids *s, PGresult *r);
int pgc_ids_has(struct store_conn *c, const struct pg_ids *s, int64_t user, const char *account,
                const char *type, const char *id);
void pgc_ids_note(struct pg_ids *s, int64_t user, const char *account, const char *type,
                  const char *id);
/* Objects the transaction created (pgc_born_add, at their insert): their ids are new
 * (an insert finds no row, live or destroyed, of the id) and the writers' lock keeps
 * every other writer out, so their per-user properties and alerts are exactly those the
 * transaction wrote, and their lookups need no database (a /set of 100 events asked
 * for each one's sharing exposure, and loaded the ids of the account's). pgc_born: the
 * transaction's record of such an object (borrowed; NULL for any other; type may be
 * "T#name", user_props about objects of T): "p<user>:<type>", the properties it put
 * (null: none), "alerts" once it put an alert. */
void pgc_born_add(struct store_conn *c, const char *account, const char *type, const char *id);
json_t *pgc_born(struct store_conn *c, const char *account, const char *type, const char *id);

#endif
