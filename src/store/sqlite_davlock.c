/*
 * sqlite_davlock.c — the SQLite backend's DAV write locks (store.h "DAV write locks";
 * RFC 4918 §6): one row per lock in dav_locks, so that every process on one data
 * directory honours the locks any of them granted. dav/dav_lock.c gives them meaning.
 */
#include "store/sqlite_internal.h"

int sq_davlock_put(struct store_conn *c, const struct store_davlock *l)
{
    sqlite3_stmt *s = sq_stmt(c, "INSERT OR REPLACE INTO dav_locks(token, path, user_id, "
                                 "exclusive, infinite, expires, seconds, owner) "
                                 "VALUES(?,?,?,?,?,?,?,?)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, l->token);
    sq_bind_text(s, 2, l->path);
    sqlite3_bind_int64(s, 3, l->user_id);
    sqlite3_bind_int(s, 4, l->exclusive);
    sqlite3_bind_int(s, 5, l->infinite);
    sqlite3_bind_int64(s, 6, l->expires);
    sqlite3_bind_int(s, 7, l->seconds);
    sq_bind_text(s, 8, l->owner);
    return sq_step_done(c, s);
}

int sq_davlock_del(struct store_conn *c, const char *token)
{
    sqlite3_stmt *s = sq_stmt(c, "DELETE FROM dav_locks WHERE token=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, token);
    return sq_step_done(c, s);
}

int sq_davlock_prune(struct store_conn *c, int64_t now)
{
    sqlite3_stmt *s = sq_stmt(c, "DELETE FROM dav_locks WHERE expires<=?");
    if (!s)
        return STORE_ERR;
    sqlite3_bind_int64(s, 1, now);
    return sq_step_done(c, s);
}

int sq_davlock_list(struct store_conn *c, int64_t now, store_davlock_cb cb, void *ud)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT token, path, user_id, exclusive, infinite, expires, "
                                 "seconds, owner FROM dav_locks WHERE expires>? ORDER BY token");
    if (!s)
        return STORE_ERR;
    sqlite3_bind_int64(s, 1, now);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_davlock l = {
            .token = (const char *)sqlite3_column_text(s, 0),
            .path = (const char *)sqlite3_column_text(s, 1),
            .user_id = sqlite3_column_int64(s, 2),
            .exclusive = sqlite3_column_int(s, 3) != 0,
            .infinite = sqlite3_column_int(s, 4) != 0,
            .expires = sqlite3_column_int64(s, 5),
            .seconds = sqlite3_column_int(s, 6),
            .owner = (const char *)sqlite3_column_text(s, 7),
        };
        if (cb(&l, ud))
            break;
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}
