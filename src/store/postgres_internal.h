/*
 * postgres_internal.h — what postgres.c shares with the other files of the PostgreSQL
 * backend (postgres_share.c): the connection, statement parameters and the helpers
 * that run a cached prepared statement. Not for use outside src/store/.
 */
#ifndef JMAPD_STORE_POSTGRES_INTERNAL_H
#define JMAPD_STORE_POSTGRES_INTERNAL_H

#include <libpq-fe.h>

#include "store/backend.h"

#define STMT_CACHE 160 /* distinct statements a connection may use (issue 18 added 11) */
#define MAX_PARAMS 14

struct store_conn {
    const struct store_ops *ops; /* first: backend.h */
    PGconn *pg;
    struct store *st;
    bool in_txn, writing, failed; /* failed: the transaction is aborted */
    bool pending;                 /* a ROLLBACK was sent whose answer is still to be read */
    /* store_object_prefetch: rows (id, data) in id order of (pre_account, pre_type),
     * for the current read transaction only */
    PGresult *pre;
    char pre_account[64], pre_type[64];
    char lock_key[16]; /* the writers' lock of this schema: hashtext(current_schema()) */
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

/* Parameters: text (NULL is SQL NULL), integers, booleans. An integer's text lives in
 * the params itself: fill a params where it is used, never return one by value
 * after pgq_int (pgq_two and pgq_three hold text only). */
void pgq_text(struct params *p, const char *s);
void pgq_int(struct params *p, int64_t v);
void pgq_bool(struct params *p, bool v);
struct params pgq_two(const char *a, const char *b);
struct params pgq_three(const char *a, const char *b, const char *d);
/* Runs sql (a string literal: prepared once per connection) with p: STORE_OK (with
 * *out, if out, for the caller to PQclear), STORE_EXISTS (a unique index) or STORE_ERR. */
int pgq_run(struct store_conn *c, const char *sql, const struct params *p, PGresult **out);
/* The same for a statement that must change a row (else STORE_NOTFOUND), and for an
 * INSERT ... ON CONFLICT DO NOTHING RETURNING (STORE_EXISTS when nothing went in). */
int pgq_change(struct store_conn *c, const char *sql, const struct params *p);
int pgq_insert(struct store_conn *c, const char *sql, const struct params *p);
/* Column 0 of the first row as an integer; none without a row, -1 on error. */
int64_t pgq_first_int(struct store_conn *c, const char *sql, const struct params *p, int64_t none);
/* cb with column 0 of each row until it returns non-zero. */
int pgq_each_name(struct store_conn *c, const char *sql, const struct params *p,
                  int (*cb)(const char *name, void *ud), void *ud);
int64_t pgq_col_int(PGresult *r, int row, int col);
/* A statement without parameters, not prepared (SAVEPOINT and the like). */
int pgq_simple(struct store_conn *c, const char *sql);
bool pgq_col_bool(PGresult *r, int row, int col);

#endif
