/*
 * sqlite_alert.c — the SQLite backend's alert schedule (store.h "the alert schedule";
 * issue 14, draft-ietf-jmap-calendars-27 §6): one row per object and user, found by
 * its next_check through the alert_queue_due index, so the scheduler reads only what
 * is due.
 */
#include <stdio.h>

#include "store/sqlite_internal.h"

static void bind_key(sqlite3_stmt *s, const char *account, const char *type, const char *object_id)
{
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, object_id);
}

int sq_alert_put(struct store_conn *c, const struct store_alert *a)
{
    sqlite3_stmt *s = sq_stmt(c, "INSERT OR REPLACE INTO alert_queue(account_id, type, object_id, "
                                 "user_id, next_check, fired_until) VALUES(?,?,?,?,?,?)");
    if (!s)
        return STORE_ERR;
    bind_key(s, a->account, a->type, a->object_id);
    sqlite3_bind_int64(s, 4, a->user_id);
    sqlite3_bind_int64(s, 5, a->next_check);
    sqlite3_bind_int64(s, 6, a->fired_until);
    return sq_step_done(c, s);
}

int sq_alert_get(struct store_conn *c, struct store_alert *a)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT next_check, fired_until FROM alert_queue WHERE "
                                 "account_id=? AND type=? AND object_id=? AND user_id=?");
    if (!s)
        return STORE_ERR;
    bind_key(s, a->account, a->type, a->object_id);
    sqlite3_bind_int64(s, 4, a->user_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        a->next_check = sqlite3_column_int64(s, 0);
        a->fired_until = sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

int sq_alert_claim(struct store_conn *c, const struct store_alert *old, int64_t next_check,
                   int64_t fired)
{
    sqlite3_stmt *s =
        next_check < 0
            ? sq_stmt(c, "DELETE FROM alert_queue WHERE account_id=?1 AND type=?2 AND "
                         "object_id=?3 AND user_id=?4 AND next_check=?5 AND fired_until=?6")
            : sq_stmt(c, "UPDATE alert_queue SET next_check=?7, fired_until=?8 WHERE "
                         "account_id=?1 AND type=?2 AND object_id=?3 AND user_id=?4 AND "
                         "next_check=?5 AND fired_until=?6");
    if (!s)
        return STORE_ERR;
    bind_key(s, old->account, old->type, old->object_id);
    sqlite3_bind_int64(s, 4, old->user_id);
    sqlite3_bind_int64(s, 5, old->next_check);
    sqlite3_bind_int64(s, 6, old->fired_until);
    if (next_check >= 0) {
        sqlite3_bind_int64(s, 7, next_check);
        sqlite3_bind_int64(s, 8, fired);
    }
    int rc = sq_step_done(c, s);
    return rc == STORE_OK && sqlite3_changes(c->db) == 0 ? STORE_NOTFOUND : rc;
}

int sq_alert_del(struct store_conn *c, const char *account, const char *type, const char *object_id)
{
    sqlite3_stmt *s =
        sq_stmt(c, "DELETE FROM alert_queue WHERE account_id=? AND type=? AND object_id=?");
    if (!s)
        return STORE_ERR;
    bind_key(s, account, type, object_id);
    return sq_step_done(c, s);
}

int sq_alert_due(struct store_conn *c, int64_t now, int max, store_alert_cb cb, void *ud)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT account_id, type, object_id, user_id, next_check, "
                                 "fired_until FROM alert_queue WHERE next_check <= ? "
                                 "ORDER BY next_check LIMIT ?");
    if (!s)
        return STORE_ERR;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int(s, 2, max);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_alert a = {.user_id = sqlite3_column_int64(s, 3),
                                .next_check = sqlite3_column_int64(s, 4),
                                .fired_until = sqlite3_column_int64(s, 5)};
        snprintf(a.account, sizeof a.account, "%s", (const char *)sqlite3_column_text(s, 0));
        snprintf(a.type, sizeof a.type, "%s", (const char *)sqlite3_column_text(s, 1));
        snprintf(a.object_id, sizeof a.object_id, "%s", (const char *)sqlite3_column_text(s, 2));
        if (cb(&a, ud))
            break;
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int sq_alert_users(struct store_conn *c, const char *account, const char *type,
                   const char *object_id, store_member_cb cb, void *ud)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT user_id FROM alert_queue WHERE account_id=? AND "
                                 "type=? AND object_id=? ORDER BY 1");
    if (!s)
        return STORE_ERR;
    bind_key(s, account, type, object_id);
    while (sqlite3_step(s) == SQLITE_ROW)
        if (cb(sqlite3_column_int64(s, 0), ud))
            break;
    sqlite3_reset(s);
    return STORE_OK;
}

int sq_alert_touch(struct store_conn *c, const char *account, const char *type, int64_t now)
{
    /* a row already due keeps its fired_until: what is due still fires */
    sqlite3_stmt *s = sq_stmt(c, "UPDATE alert_queue SET fired_until=CASE WHEN next_check <= ?3 "
                                 "THEN fired_until ELSE MAX(fired_until, ?3) END, next_check=?3 "
                                 "WHERE account_id=?1 AND type=?2");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sqlite3_bind_int64(s, 3, now);
    return sq_step_done(c, s);
}
