/*
 * migrate.c — `jmapd migrate --to postgresql://…` (issue 15 §6): copies a SQLite data
 * directory into an empty PostgreSQL database, table by table and row by row, in one
 * PostgreSQL transaction, keeping every id, modseq and state, so clients go on
 * syncing from the states they hold. The SQLite file is opened read-only and left
 * as it was. Counts are verified on both sides before the commit.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/postgres.h"
#include "store/postgres_internal.h"
#include "util/util.h"

/* The source must be at this jmapd's SQLite schema (store_sqlite_schema: 9 when this
 * was written); the tables below are those of that schema (a migration that adds a
 * table adds it here too). */

struct table {
    const char *name, *select, *insert;
    int ncols;
};

static const struct table tables[] = {
    {"users", "SELECT id, name, pwhash, account_id, created FROM users",
     "INSERT INTO users(id, name, pwhash, account_id, created) VALUES($1,$2,$3,$4,$5)", 5},
    {"access", "SELECT user_id, account_id, may_write FROM access",
     "INSERT INTO access(user_id, account_id, may_write) VALUES($1,$2,$3)", 3},
    {"tokens", "SELECT hash, id, user_id, label, created FROM tokens",
     "INSERT INTO tokens(hash, id, user_id, label, created) VALUES($1,$2,$3,$4,$5)", 5},
    {"states", "SELECT account_id, type, modseq, lowest FROM states",
     "INSERT INTO states(account_id, type, modseq, lowest) VALUES($1,$2,$3,$4)", 4},
    {"objects",
     "SELECT account_id, type, id, data, format, created_modseq, updated_modseq, destroyed, "
     "ukey FROM objects",
     "INSERT INTO objects(account_id, type, id, data, format, created_modseq, updated_modseq, "
     "destroyed, ukey) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9)",
     9},
    {"blob_uploads", "SELECT account_id, blob_id, type, created FROM blob_uploads",
     "INSERT INTO blob_uploads(account_id, blob_id, type, created) VALUES($1,$2,$3,$4)", 4},
    {"blob_refs", "SELECT account_id, blob_id, obj_type, obj_id FROM blob_refs",
     "INSERT INTO blob_refs(account_id, blob_id, obj_type, obj_id) VALUES($1,$2,$3,$4)", 4},
    {"groups", "SELECT id, name FROM groups", "INSERT INTO groups(id, name) VALUES($1,$2)", 2},
    {"group_members", "SELECT group_id, user_id FROM group_members",
     "INSERT INTO group_members(group_id, user_id) VALUES($1,$2)", 2},
    {"shares", "SELECT account_id, type, object_id, principal_id, may_write, may_read FROM shares",
     "INSERT INTO shares(account_id, type, object_id, principal_id, may_write, may_read) "
     "VALUES($1,$2,$3,$4,$5,$6)",
     6},
    {"object_members", "SELECT account_id, type, id, collection_id, ord FROM object_members",
     "INSERT INTO object_members(account_id, type, id, collection_id, ord) "
     "VALUES($1,$2,$3,$4,$5)",
     5},
    {"user_props", "SELECT user_id, account_id, type, object_id, data FROM user_props",
     "INSERT INTO user_props(user_id, account_id, type, object_id, data) VALUES($1,$2,$3,$4,$5)",
     5},
    {"alert_queue",
     "SELECT account_id, type, object_id, user_id, next_check, fired_until FROM alert_queue",
     "INSERT INTO alert_queue(account_id, type, object_id, user_id, next_check, fired_until) "
     "VALUES($1,$2,$3,$4,$5,$6)",
     6},
    /* object metadata (issue 18) */
    {"object_metadata",
     "SELECT account_id, type, object_id, user_id, data, modseq FROM object_metadata",
     "INSERT INTO object_metadata(account_id, type, object_id, user_id, data, modseq) "
     "VALUES($1,$2,$3,$4,$5,$6)",
     6},
    {"metadata_usage", "SELECT account_id, bytes FROM metadata_usage",
     "INSERT INTO metadata_usage(account_id, bytes) VALUES($1,$2)", 2},
    {"metadata_state", "SELECT account_id, type, last_private, shared FROM metadata_state",
     "INSERT INTO metadata_state(account_id, type, last_private, shared) VALUES($1,$2,$3,$4)", 4},
    {"push_subscriptions", "SELECT id, user_id, cred, data FROM push_subscriptions",
     "INSERT INTO push_subscriptions(id, user_id, cred, data) VALUES($1,$2,$3,$4)", 4},
    {"feeds", "SELECT hash, id, account_id, kind, object_id, created FROM feeds",
     "INSERT INTO feeds(hash, id, account_id, kind, object_id, created) VALUES($1,$2,$3,$4,$5,"
     "$6)",
     6},
    /* the text of the side table comes from its FTS5 row, split again as PostgreSQL's
     * index rows are (postgres_text.c) */
    {"object_index",
     "SELECT i.account_id, i.type, i.id, i.uid, i.start, i.finish, i.modseq, f.f0, f.f1, f.f2, "
     "f.f3, f.f4, f.f5, i.ord, i.span, i.exact FROM object_index i LEFT JOIN object_fields f ON "
     "f.rowid = i.text_rowid",
     "INSERT INTO object_index(account_id, type, id, uid, start, finish, modseq, t0, t1, t2, t3, "
     "t4, t5, ord, span, exact) VALUES($1,$2,$3,$4,$5,$6,$7,$8::tsvector,$9::tsvector,"
     "$10::tsvector,$11::tsvector,$12::tsvector,$13::tsvector,$14,$15,$16)",
     16},
    {"blobs", "SELECT id, size, created FROM blobs",
     "INSERT INTO blobs(id, size, created) VALUES($1,$2,$3)", 3},
    /* DAV write locks (issue 20, RFC 4918 §6): a lock granted before the move holds after
     * it (its expiry is wall-clock time; 0/1 are booleans to PostgreSQL) */
    {"dav_locks",
     "SELECT token, path, user_id, exclusive, infinite, expires, seconds, owner FROM dav_locks",
     "INSERT INTO dav_locks(token, path, user_id, exclusive, infinite, expires, seconds, owner) "
     "VALUES($1,$2,$3,$4,$5,$6,$7,$8)",
     8},
    /* the same layout on both (SQLite's schema step 19): bytes go as they are */
    {"blob_chunks", "SELECT blob_id, seq, data FROM blob_chunks",
     "INSERT INTO blob_chunks(blob_id, seq, data) VALUES($1,$2,$3)", 3},
};

static bool pg_ok(PGconn *pg, PGresult *r, char **err)
{
    ExecStatusType s = PQresultStatus(r);
    bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok && !*err)
        *err = xasprintf("postgresql: %s", PQerrorMessage(pg));
    PQclear(r);
    return ok;
}

static int64_t pg_count(PGconn *pg, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    PGresult *r = PQexec(pg, sql);
    int64_t n = PQresultStatus(r) == PGRES_TUPLES_OK ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return n;
}

static int64_t sq_count(sqlite3 *db, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *s = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

/* Copies one table; returns the number of rows copied, or -1. */
static int64_t copy_table(sqlite3 *db, PGconn *pg, const struct table *t, char **err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, t->select, -1, &s, NULL) != SQLITE_OK) {
        *err = xasprintf("sqlite: %s", sqlite3_errmsg(db));
        return -1;
    }
    PGresult *pr = PQprepare(pg, t->name, t->insert, 0, NULL);
    /* the side table's six texts ($8..$13) go as their tsvectors (pgt_tsvector) */
    unsigned vectors = strcmp(t->name, "object_index") == 0 ? 0x3fu << 7 : 0;
    int64_t n = pg_ok(pg, pr, err) ? 0 : -1;
    while (n >= 0 && sqlite3_step(s) == SQLITE_ROW) {
        const char *vals[16];
        char *vec[16] = {NULL};
        int lens[16], fmts[16];
        for (int i = 0; i < t->ncols; i++) {
            /* a BLOB goes in binary (bytea), anything else as text; NULL stays NULL */
            fmts[i] = sqlite3_column_type(s, i) == SQLITE_BLOB;
            vals[i] = fmts[i] ? sqlite3_column_blob(s, i) : (const char *)sqlite3_column_text(s, i);
            lens[i] = sqlite3_column_bytes(s, i);
            if (fmts[i] && !vals[i])
                vals[i] = ""; /* an empty BLOB */
            if (vectors & (1u << i) && !fmts[i])
                vals[i] = vec[i] = pgt_tsvector(vals[i]);
        }
        PGresult *r = PQexecPrepared(pg, t->name, t->ncols, vals, lens, fmts, 0);
        for (int i = 0; i < t->ncols; i++)
            free(vec[i]);
        if (!pg_ok(pg, r, err))
            n = -1;
        else
            n++;
    }
    sqlite3_finalize(s);
    return n;
}

static sqlite3 *open_source(const char *dir, char **err)
{
    char *path = xasprintf("%s/jmapd.db", dir);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    free(path);
    sqlite3_stmt *s = NULL;
    int version = -1;
    if (rc == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (version != store_sqlite_schema()) {
        *err = version < 0 ? xasprintf("cannot read %s/jmapd.db", dir)
                           : xasprintf("%s/jmapd.db has schema version %d, not %d: open it once "
                                       "with this jmapd (jmapd user list) first",
                                       dir, version, store_sqlite_schema());
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static bool copy_all(sqlite3 *db, PGconn *pg, FILE *out, char **err)
{
    size_t n = sizeof tables / sizeof tables[0];
    for (size_t i = 0; i < n; i++) {
        int64_t copied = copy_table(db, pg, &tables[i], err);
        if (copied < 0)
            return false;
        int64_t src = sq_count(db, tables[i].name), dst = pg_count(pg, tables[i].name);
        if (src != copied || dst != copied) {
            *err = xasprintf("%s: %lld rows in SQLite, %lld copied, %lld in PostgreSQL",
                             tables[i].name, (long long)src, (long long)copied, (long long)dst);
            return false;
        }
        fprintf(out, "%-13s %lld rows\n", tables[i].name, (long long)copied);
    }
    /* new users continue after the copied ids */
    PGresult *r = PQexec(pg, "SELECT setval(pg_get_serial_sequence('users', 'id'), "
                             "coalesce(max(id), 0) + 1, false) FROM users");
    return pg_ok(pg, r, err);
}

int store_migrate_sqlite_to_pg(const char *dir, const char *url, FILE *out, char **err)
{
    *err = NULL;
    sqlite3 *db = open_source(dir, err);
    if (!db)
        return -1;
    struct store *st = store_pg_open(url, err); /* creates and migrates the schema */
    PGconn *pg = st ? store_pg_connect(url, err) : NULL;
    bool ok = pg != NULL;
    if (ok && (pg_count(pg, "users") != 0 || pg_count(pg, "objects") != 0 ||
               pg_count(pg, "blobs") != 0)) {
        *err = xasprintf("the PostgreSQL database is not empty");
        ok = false;
    }
    /* a snapshot of the source: a serve still running on it changes nothing here */
    ok = ok && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    ok = ok && pg_ok(pg, PQexec(pg, "BEGIN"), err);
    ok = ok && copy_all(db, pg, out, err);
    ok = ok && pg_ok(pg, PQexec(pg, "COMMIT"), err);
    if (!ok && pg)
        PQclear(PQexec(pg, "ROLLBACK"));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    PQfinish(pg);
    store_close(st);
    return ok ? 0 : -1;
}
