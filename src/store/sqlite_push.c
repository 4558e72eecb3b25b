/*
 * sqlite_push.c — the SQLite backend's push subscriptions (store.h "push
 * subscriptions"; RFC 8620 §7.2). A destroyed subscription's row is deleted with
 * secure_delete on, so its URL and keys are overwritten in the database file, not
 * left in a free block (§7.2: "securely erase ... as soon as possible").
 */
#include "store/sqlite_internal.h"

int sq_pushsub_put(struct store_conn *c, const char *id, int64_t user_id, const char *cred,
                   const char *data)
{
    sqlite3_stmt *s = sq_stmt(c, "INSERT OR REPLACE INTO push_subscriptions(id, user_id, cred, "
                                 "data) VALUES(?,?,?,?)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, id);
    sqlite3_bind_int64(s, 2, user_id);
    sq_bind_text(s, 3, cred);
    sq_bind_text(s, 4, data);
    return sq_step_done(c, s);
}

int sq_pushsub_del(struct store_conn *c, const char *id)
{
    sqlite3_stmt *s = sq_stmt(c, "DELETE FROM push_subscriptions WHERE id=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, id);
    sqlite3_exec(c->db, "PRAGMA secure_delete=ON", NULL, NULL, NULL);
    int rc = sq_step_done(c, s);
    sqlite3_exec(c->db, "PRAGMA secure_delete=OFF", NULL, NULL, NULL);
    return rc;
}

int sq_pushsub_list(struct store_conn *c, int64_t user_id, store_pushsub_cb cb, void *ud)
{
    sqlite3_stmt *s =
        user_id ? sq_stmt(c, "SELECT id, user_id, cred, data FROM push_subscriptions WHERE "
                             "user_id=? ORDER BY id")
                : sq_stmt(c, "SELECT id, user_id, cred, data FROM push_subscriptions ORDER BY id");
    if (!s)
        return STORE_ERR;
    if (user_id)
        sqlite3_bind_int64(s, 1, user_id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1),
               (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3),
               ud))
            break;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}
