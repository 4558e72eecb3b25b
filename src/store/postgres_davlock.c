/*
 * postgres_davlock.c — the PostgreSQL backend's DAV write locks (store.h "DAV write
 * locks"; RFC 4918 §6), as sqlite_davlock.c: a lock granted by one front end is a row
 * every front end on the database reads. A LOCK runs in a write transaction (the
 * writers' advisory lock, postgres.c), so two front ends cannot both grant
 * conflicting locks.
 */
#include "store/postgres_internal.h"

int pg_davlock_put(struct store_conn *c, const struct store_davlock *l)
{
    static const char *const sql =
        "INSERT INTO dav_locks(token, path, user_id, exclusive, infinite, expires, seconds, "
        "owner) VALUES($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT(token) DO UPDATE SET "
        "path=EXCLUDED.path, user_id=EXCLUDED.user_id, exclusive=EXCLUDED.exclusive, "
        "infinite=EXCLUDED.infinite, expires=EXCLUDED.expires, seconds=EXCLUDED.seconds, "
        "owner=EXCLUDED.owner";
    struct params p = {0};
    pgq_text(&p, l->token);
    pgq_text(&p, l->path);
    pgq_int(&p, l->user_id);
    pgq_bool(&p, l->exclusive);
    pgq_bool(&p, l->infinite);
    pgq_int(&p, l->expires);
    pgq_int(&p, l->seconds);
    pgq_text(&p, l->owner);
    return pgq_run(c, sql, &p, NULL);
}

int pg_davlock_del(struct store_conn *c, const char *token)
{
    struct params p = {0};
    pgq_text(&p, token);
    return pgq_run(c, "DELETE FROM dav_locks WHERE token=$1", &p, NULL);
}

int pg_davlock_prune(struct store_conn *c, int64_t now)
{
    struct params p = {0};
    pgq_int(&p, now);
    return pgq_run(c, "DELETE FROM dav_locks WHERE expires<=$1", &p, NULL);
}

int pg_davlock_list(struct store_conn *c, int64_t now, store_davlock_cb cb, void *ud)
{
    struct params p = {0};
    pgq_int(&p, now);
    PGresult *r;
    if (pgq_run(c,
                "SELECT token, path, user_id, exclusive, infinite, expires, seconds, owner "
                "FROM dav_locks WHERE expires>$1 ORDER BY token",
                &p, &r))
        return STORE_ERR;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_davlock l = {
            .token = PQgetvalue(r, i, 0),
            .path = PQgetvalue(r, i, 1),
            .user_id = pgq_col_int(r, i, 2),
            .exclusive = pgq_col_bool(r, i, 3),
            .infinite = pgq_col_bool(r, i, 4),
            .expires = pgq_col_int(r, i, 5),
            .seconds = (int)pgq_col_int(r, i, 6),
            .owner = PQgetisnull(r, i, 7) ? NULL : PQgetvalue(r, i, 7),
        };
        if (cb(&l, ud))
            break;
    }
    PQclear(r);
    return STORE_OK;
}
