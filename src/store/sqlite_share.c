/*
 * sqlite_share.c — the SQLite backend's groups, shares and per-user properties
 * (store.h; issue 14: RFC 9670 groups, calendars-27 §4 and §5.4 per-user values),
 * split from sqlite.c as postgres_share.c is from postgres.c.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_internal.h"
#include "util/util.h"

/* ---- groups, shares, per-user properties (issue 14) ---------------------------------- */

int sq_group_add(struct store_conn *c, const char *id, const char *name)
{
    sqlite3_stmt *s = sq_stmt(c, "INSERT INTO groups(id, name) VALUES(?,?)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, id);
    sq_bind_text(s, 2, name);
    return sq_step_done(c, s);
}

int sq_group_get(struct store_conn *c, const char *name, char id[64])
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT id FROM groups WHERE name=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, name);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        snprintf(id, 64, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

int sq_group_del(struct store_conn *c, const char *id)
{
    static const char *const dels[] = {
        "DELETE FROM group_members WHERE group_id=?1",
        "DELETE FROM shares WHERE principal_id=?1",
        "DELETE FROM groups WHERE id=?1",
    };
    int rc = STORE_OK;
    for (size_t i = 0; i < sizeof dels / sizeof dels[0] && rc == STORE_OK; i++) {
        sqlite3_stmt *s = sq_stmt(c, dels[i]);
        if (!s)
            return STORE_ERR;
        sq_bind_text(s, 1, id);
        rc = sq_step_done(c, s);
    }
    return rc == STORE_OK && sqlite3_changes(c->db) == 0 ? STORE_NOTFOUND : rc;
}

int sq_group_member(struct store_conn *c, const char *group_id, int64_t user_id, bool add)
{
    sqlite3_stmt *s =
        sq_stmt(c, add ? "INSERT OR IGNORE INTO group_members(group_id, user_id) VALUES(?,?)"
                       : "DELETE FROM group_members WHERE group_id=? AND user_id=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, group_id);
    sqlite3_bind_int64(s, 2, user_id);
    int rc = sq_step_done(c, s);
    return rc == STORE_OK && !add && sqlite3_changes(c->db) == 0 ? STORE_NOTFOUND : rc;
}

int sq_user_groups(struct store_conn *c, int64_t user_id, int (*cb)(const char *group_id, void *ud),
                   void *ud)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT group_id FROM group_members WHERE user_id=? ORDER BY 1");
    if (!s)
        return STORE_ERR;
    sqlite3_bind_int64(s, 1, user_id);
    while (sqlite3_step(s) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(s, 0), ud))
            break;
    sqlite3_reset(s);
    return STORE_OK;
}

int sq_group_members(struct store_conn *c, const char *group_id,
                     int (*cb)(int64_t user_id, void *ud), void *ud)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT user_id FROM group_members WHERE group_id=? ORDER BY 1");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, group_id);
    while (sqlite3_step(s) == SQLITE_ROW)
        if (cb(sqlite3_column_int64(s, 0), ud))
            break;
    sqlite3_reset(s);
    return STORE_OK;
}

int sq_share_set(struct store_conn *c, const char *account, const char *type, const char *object_id,
                 const struct store_share *shares, size_t n)
{
    sqlite3_stmt *s =
        sq_stmt(c, "DELETE FROM shares WHERE account_id=? AND type=? AND object_id=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, object_id);
    int rc = sq_step_done(c, s);
    for (size_t i = 0; i < n && rc == STORE_OK; i++) {
        s = sq_stmt(c, "INSERT OR REPLACE INTO shares(account_id, type, object_id, principal_id, "
                       "may_write, may_read) VALUES(?,?,?,?,?,?)");
        if (!s)
            return STORE_ERR;
        sq_bind_text(s, 1, account);
        sq_bind_text(s, 2, type);
        sq_bind_text(s, 3, object_id);
        sq_bind_text(s, 4, shares[i].principal_id);
        sqlite3_bind_int(s, 5, shares[i].may_write);
        sqlite3_bind_int(s, 6, shares[i].may_read);
        rc = sq_step_done(c, s);
    }
    return rc;
}

json_t *sq_user_props_get(struct store_conn *c, int64_t user_id, const char *account,
                          const char *type, const char *object_id)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT data FROM user_props WHERE user_id=? AND account_id=? AND "
                                 "type=? AND object_id=?");
    if (!s)
        return NULL;
    sqlite3_bind_int64(s, 1, user_id);
    sq_bind_text(s, 2, account);
    sq_bind_text(s, 3, type);
    sq_bind_text(s, 4, object_id);
    json_t *v = NULL;
    if (sqlite3_step(s) == SQLITE_ROW)
        v = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
    sqlite3_reset(s);
    return v;
}

/* Each read is a B-tree lookup in this process: nothing to gain. */
int sq_user_props_prefetch(struct store_conn *c, int64_t user_id, const char *account,
                           const char *type, const char *const *ids, size_t n)
{
    return STORE_OK;
}

int64_t sq_user_props_list(struct store_conn *c, int64_t user_id, const char *account,
                           const char *type, int64_t limit,
                           int (*cb)(const char *object_id, json_t *data, void *ud), void *ud)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT object_id, data FROM user_props WHERE user_id=? AND "
                                 "account_id=? AND type=? LIMIT ?");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, user_id);
    sq_bind_text(s, 2, account);
    sq_bind_text(s, 3, type);
    sqlite3_bind_int64(s, 4, limit);
    int64_t n = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        json_t *v = json_loads((const char *)sqlite3_column_text(s, 1), 0, NULL);
        n++;
        int stop = v ? cb((const char *)sqlite3_column_text(s, 0), v, ud) : 0;
        json_decref(v);
        if (stop)
            break;
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : -1;
}

int sq_user_props_put(struct store_conn *c, int64_t user_id, const char *account, const char *type,
                      const char *object_id, json_t *data)
{
    sqlite3_stmt *s;
    if (!data || json_object_size(data) == 0) {
        s = sq_stmt(c, "DELETE FROM user_props WHERE user_id=? AND account_id=? AND type=? AND "
                       "object_id=?");
    } else {
        s = sq_stmt(c, "INSERT OR REPLACE INTO user_props(user_id, account_id, type, object_id, "
                       "data) VALUES(?,?,?,?,?)");
    }
    if (!s)
        return STORE_ERR;
    sqlite3_bind_int64(s, 1, user_id);
    sq_bind_text(s, 2, account);
    sq_bind_text(s, 3, type);
    sq_bind_text(s, 4, object_id);
    /* the fast writer (issue 21: json_dumps was a fifth of an import's exposure records) */
    char *text = data && json_object_size(data) ? store_json_text(data) : NULL;
    if (text)
        sqlite3_bind_text(s, 5, text, -1, free);
    return sq_step_done(c, s);
}

/* ---- collection membership (issue 14) ------------------------------------------------- */

int sq_members_put(struct store_conn *c, const char *account, const char *type, const char *id,
                   const char *const *collections, size_t n, bool has_order, int64_t order)
{
    sqlite3_stmt *s =
        sq_stmt(c, "DELETE FROM object_members WHERE account_id=? AND type=? AND id=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    int rc = sq_step_done(c, s);
    for (size_t i = 0; i < n && rc == STORE_OK; i++) {
        s = sq_stmt(c, "INSERT OR IGNORE INTO object_members(account_id, type, id, "
                       "collection_id, ord) VALUES(?,?,?,?,?)");
        if (!s)
            return STORE_ERR;
        sq_bind_text(s, 1, account);
        sq_bind_text(s, 2, type);
        sq_bind_text(s, 3, id);
        sq_bind_text(s, 4, collections[i]);
        if (has_order)
            sqlite3_bind_int64(s, 5, order);
        rc = sq_step_done(c, s);
    }
    return rc;
}

int sq_members_ordered(struct store_conn *c, const char *account, const char *type,
                       const char *collection, bool desc, bool after, int64_t order, const char *id,
                       int64_t offset, int64_t limit,
                       int (*cb)(const char *id, int64_t modseq, int64_t order, void *ud), void *ud)
{
    /* each a range of one of the two order indexes (the bound on ord seeks; the rows of
     * that one ord up to id are stepped over), as sq_index_ordered_after */
    static const char *const sql[2][2] = {
        {"SELECT id, ord FROM object_members WHERE account_id=?1 AND type=?2 AND "
         "collection_id=?3 AND ord IS NOT NULL ORDER BY ord, id LIMIT ?6 OFFSET ?7",
         "SELECT id, ord FROM object_members WHERE account_id=?1 AND type=?2 AND "
         "collection_id=?3 AND ord >= ?4 AND (ord > ?4 OR id > ?5) ORDER BY ord, id LIMIT ?6 "
         "OFFSET ?7"},
        {"SELECT id, ord FROM object_members WHERE account_id=?1 AND type=?2 AND "
         "collection_id=?3 AND ord IS NOT NULL ORDER BY ord DESC, id LIMIT ?6 OFFSET ?7",
         "SELECT id, ord FROM object_members WHERE account_id=?1 AND type=?2 AND "
         "collection_id=?3 AND ord IS NOT NULL AND ord <= ?4 AND (ord < ?4 OR id > ?5) "
         "ORDER BY ord DESC, id LIMIT ?6 OFFSET ?7"}};
    sqlite3_stmt *s = sq_stmt(c, sql[desc][after]);
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, collection);
    if (after) {
        sqlite3_bind_int64(s, 4, order);
        sq_bind_text(s, 5, id);
    }
    sqlite3_bind_int64(s, 6, limit < 0 ? -1 : limit);
    sqlite3_bind_int64(s, 7, offset < 0 ? 0 : offset);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(s, 0), 0, sqlite3_column_int64(s, 1), ud))
            break;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}
