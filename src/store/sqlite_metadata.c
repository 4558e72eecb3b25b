/*
 * sqlite_metadata.c — the SQLite backend's object metadata (store.h; issue 18,
 * draft-ietf-jmap-metadata-02): the shared and per-user metadata rows beside the
 * objects, their change log (each row's modseq), the account's metadata usage for
 * the quota and the per-viewer state of a type. Kept apart from sqlite.c, whose
 * object rows a metadata change never touches.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_internal.h"
#include "util/util.h"

static int rows(sqlite3_stmt *s, bool with_created, store_metadata_cb cb, void *ud)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (cb((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1),
               (const char *)sqlite3_column_text(s, 2), sqlite3_column_int64(s, 3),
               with_created ? sqlite3_column_int64(s, 4) : 0, ud)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int sq_metadata_get(struct store_conn *c, const char *account, const char *type,
                    const char *const *ids, size_t n, int64_t user_id, store_metadata_cb cb,
                    void *ud)
{
    if (n == 0)
        return STORE_OK;
    /* one statement for the whole list (the ids as a JSON array, json_each): a /get of
     * 50 objects took 50 statements, 30,000 instructions each even when none had
     * metadata (issue 18's /get bound); one seek per id ("+user_id": the rows of
     * an object are its shared row and one per user who wrote private metadata) */
    struct buf list = {0};
    buf_puts(&list, "[");
    for (size_t i = 0; i < n; i++) {
        buf_puts(&list, i ? ",\"" : "\"");
        for (const char *p = ids[i]; *p; p++) { /* a JSON string (RFC 8259 §7) */
            if ((unsigned char)*p < 0x20) {
                buf_printf(&list, "\\u%04x", (unsigned)*p);
                continue;
            }
            if (*p == '"' || *p == '\\')
                buf_append(&list, "\\", 1);
            buf_append(&list, p, 1);
        }
        buf_puts(&list, "\"");
    }
    buf_puts(&list, "]");
    sqlite3_stmt *s = sq_stmt(c, "SELECT object_id, user_id, data, modseq FROM object_metadata "
                                 "WHERE account_id=?1 AND type=?2 AND object_id IN (SELECT value "
                                 "FROM json_each(?3)) AND +user_id IN (0, ?4)");
    if (!s) {
        buf_free(&list);
        return STORE_ERR;
    }
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, list.data);
    sqlite3_bind_int64(s, 4, user_id);
    int rc = rows(s, false, cb, ud);
    buf_free(&list);
    return rc;
}

int sq_metadata_scan(struct store_conn *c, const char *account, const char *type, int64_t user_id,
                     store_metadata_cb cb, void *ud)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT object_id, user_id, data, modseq FROM object_metadata "
                                 "WHERE account_id=? AND type=? AND user_id IN (0, ?)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sqlite3_bind_int64(s, 3, user_id);
    return rows(s, false, cb, ud);
}

int sq_metadata_put(struct store_conn *c, const char *account, const char *type, const char *id,
                    int64_t user_id, const char *data, int64_t modseq)
{
    /* an upsert, not INSERT OR REPLACE: its UPDATE trigger keeps metadata_keys */
    sqlite3_stmt *s = sq_stmt(c, "INSERT INTO object_metadata(account_id, type, object_id, "
                                 "user_id, data, modseq) VALUES(?,?,?,?,?,?) ON CONFLICT("
                                 "account_id, type, object_id, user_id) DO UPDATE SET "
                                 "data=excluded.data, modseq=excluded.modseq");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    sqlite3_bind_int64(s, 4, user_id);
    sq_bind_text(s, 5, data);
    sqlite3_bind_int64(s, 6, modseq);
    return sq_step_done(c, s);
}

int sq_metadata_drop(struct store_conn *c, const char *account, const char *type, const char *id,
                     int64_t *freed)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT coalesce(sum(length(data)), 0) FROM object_metadata "
                                 "WHERE account_id=? AND type=? AND object_id=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    *freed = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    if (*freed == 0)
        return STORE_OK; /* the common case: an object without metadata */
    s = sq_stmt(c, "DELETE FROM object_metadata WHERE account_id=? AND type=? AND object_id=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    return sq_step_done(c, s);
}

int sq_metadata_changes(struct store_conn *c, const char *account, const char *type,
                        int64_t user_id, int64_t since, size_t max, store_metadata_cb cb, void *ud)
{
    /* one range of the index per owner, in its order: "user_id IN (0, ?)" had SQLite
     * sort the rows in a temporary b-tree, 60,000 instructions per /changes even with
     * no metadata at all (issue 21 §5) */
    sqlite3_stmt *s =
        sq_stmt(c, "SELECT m.object_id, m.user_id, m.data, m.modseq, o.created_modseq FROM "
                   "object_metadata m INDEXED BY object_metadata_changes JOIN objects o ON "
                   "o.account_id=m.account_id AND o.type=m.type "
                   "AND o.id=m.object_id WHERE m.account_id=?1 AND m.type=?2 AND m.user_id=?3 "
                   "AND m.modseq > ?4 AND o.destroyed=0 ORDER BY m.modseq LIMIT ?5");
    if (!s)
        return STORE_ERR;
    int64_t owners[2] = {STORE_METADATA_SHARED, user_id};
    for (int i = 0; i < (user_id != STORE_METADATA_SHARED ? 2 : 1); i++) {
        sq_bind_text(s, 1, account);
        sq_bind_text(s, 2, type);
        sqlite3_bind_int64(s, 3, owners[i]);
        sqlite3_bind_int64(s, 4, since);
        sqlite3_bind_int64(s, 5, max ? (int64_t)max : -1);
        int rc = rows(s, true, cb, ud);
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

static int64_t one_int(struct store_conn *c, sqlite3_stmt *s, int64_t none)
{
    int rc = sqlite3_step(s);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : none;
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("sqlite step: %s", sqlite3_errmsg(c->db));
        return -1;
    }
    return v;
}

int64_t sq_metadata_usage(struct store_conn *c, const char *account)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT bytes FROM metadata_usage WHERE account_id=?");
    if (!s)
        return -1;
    sq_bind_text(s, 1, account);
    return one_int(c, s, 0);
}

int sq_metadata_usage_add(struct store_conn *c, const char *account, int64_t delta)
{
    sqlite3_stmt *s = sq_stmt(c, "INSERT INTO metadata_usage(account_id, bytes) VALUES(?1, "
                                 "max(?2, 0)) ON CONFLICT(account_id) DO UPDATE SET "
                                 "bytes=max(bytes + ?2, 0)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sqlite3_bind_int64(s, 2, delta);
    return sq_step_done(c, s);
}

int sq_metadata_state_get(struct store_conn *c, const char *account, const char *type,
                          int64_t *last_private, int64_t *shared)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT last_private, shared FROM metadata_state WHERE "
                                 "account_id=? AND type=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    int rc = sqlite3_step(s);
    *last_private = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    *shared = rc == SQLITE_ROW ? sqlite3_column_int64(s, 1) : 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int sq_metadata_state_put(struct store_conn *c, const char *account, const char *type,
                          int64_t last_private, int64_t shared)
{
    sqlite3_stmt *s = sq_stmt(c, "INSERT OR REPLACE INTO metadata_state(account_id, type, "
                                 "last_private, shared) VALUES(?,?,?,?)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sqlite3_bind_int64(s, 3, last_private);
    sqlite3_bind_int64(s, 4, shared);
    return sq_step_done(c, s);
}

int sq_metadata_viewer(struct store_conn *c, const char *account, const char *type, int64_t user_id,
                       int64_t *modseq, int64_t *last_private, int64_t *shared, int64_t *mine)
{
    sqlite3_stmt *s = sq_stmt(
        c, "SELECT (SELECT modseq FROM states WHERE account_id=?1 AND type=?2), m.last_private, "
           "m.shared, (SELECT max(modseq) FROM object_metadata WHERE account_id=?1 AND type=?2 "
           "AND user_id=?3) FROM (SELECT 1) LEFT JOIN metadata_state m ON m.account_id=?1 AND "
           "m.type=?2");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sqlite3_bind_int64(s, 3, user_id);
    int rc = sqlite3_step(s);
    int64_t *out[] = {modseq, last_private, shared, mine};
    for (int i = 0; i < 4; i++)
        *out[i] = rc == SQLITE_ROW ? sqlite3_column_int64(s, i) : 0; /* NULL reads as 0 */
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? STORE_OK : STORE_ERR;
}

int sq_metadata_with_key(struct store_conn *c, const char *account, const char *type,
                         int64_t user_id, const char *key, store_metadata_cb cb, void *ud)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT object_id FROM metadata_keys WHERE account_id=? AND "
                                 "type=? AND user_id=? AND key=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sqlite3_bind_int64(s, 3, user_id);
    sq_bind_text(s, 4, key);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(s, 0), user_id, NULL, 0, 0, ud)) {
            rc = SQLITE_DONE;
            break;
        }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}
