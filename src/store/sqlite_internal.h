/*
 * sqlite_internal.h — what the SQLite backend's files share (sqlite.c: schema,
 * connections, users, objects, blobs, feeds; sqlite_index.c: the query side tables and
 * text search; sqlite_share.c: groups, shares, per-user properties; sqlite_alert.c,
 * sqlite_metadata.c): the connection, the statement cache and its helpers, and the
 * backend's functions (backend.h) as sq_NAME, which sqlite.c's table lists.
 */
#ifndef JMAPD_STORE_SQLITE_INTERNAL_H
#define JMAPD_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "store/backend.h"

#define STMT_CACHE 256 /* more than the backend has statements (session 6: push, grams, chunks, keys) */

struct store_conn {
    const struct store_ops *ops; /* first: backend.h */
    sqlite3 *db;
    struct store *st;
    bool writing;            /* holds st->write_lock */
    bool committing;         /* sq_commit's COMMIT runs (the commit hook lets it pass) */
    bool lost;               /* SQLite rolled the write transaction back on its own */
    struct store_conn *next; /* all connections, for store_close */
    /* count changes of the write transaction not yet written (sq_count_add) */
    struct {
        char account[64], type[40];
        int live, indexed;
    } counts[8];
    size_t ncounts;
    struct {
        const char *sql;
        sqlite3_stmt *stmt;
    } cache[STMT_CACHE];
};

#define STORE_OP_PFX(name) sq_##name
#define STORE_OP_EXTERN(ret, name, params, args) ret STORE_OP_PFX(name) params;
STORE_OPS(STORE_OP_EXTERN)

/* The cached statement for sql (a string literal: its address is the key), reset
 * and with bindings cleared; NULL (logged) if it cannot be prepared. */
sqlite3_stmt *sq_stmt(struct store_conn *c, const char *sql);
/* The SQL of schema step v (to version v + 1), 0 <= v < store_sqlite_schema() (sqlite_schema.c). */
const char *sq_migration(int v);
void sq_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Runs a statement that returns no rows; maps constraint violations to EXISTS. */
int sq_step_done(struct store_conn *c, sqlite3_stmt *s);
/* Adds to the counts of (account, type)'s live objects and side-index rows (schema 26),
 * in the write transaction: kept on the connection and written by sq_count_flush. */
int sq_count_add(struct store_conn *c, const char *account, const char *type, int live,
                 int indexed);
/* Writes the count changes kept (before the commit, and before a count is read). */
int sq_count_flush(struct store_conn *c);

#endif
