/*
 * postgres_push.c — the PostgreSQL backend's push subscriptions (store.h "push
 * subscriptions"; RFC 8620 §7.2), as sqlite_push.c. A deleted row's old version stays
 * in the table's pages until PostgreSQL's vacuum reclaims them.
 */
#include "store/postgres_internal.h"

int pg_pushsub_put(struct store_conn *c, const char *id, int64_t user_id, const char *cred,
                   const char *data)
{
    static const char *const sql =
        "INSERT INTO push_subscriptions(id, user_id, cred, data) VALUES($1,$2,$3,$4) "
        "ON CONFLICT(id) DO UPDATE SET user_id=EXCLUDED.user_id, cred=EXCLUDED.cred, "
        "data=EXCLUDED.data";
    struct params p = {0};
    pgq_text(&p, id);
    pgq_int(&p, user_id);
    pgq_text(&p, cred);
    pgq_text(&p, data);
    return pgq_run(c, sql, &p, NULL);
}

int pg_pushsub_del(struct store_conn *c, const char *id)
{
    struct params p = {0};
    pgq_text(&p, id);
    return pgq_run(c, "DELETE FROM push_subscriptions WHERE id=$1", &p, NULL);
}

int pg_pushsub_list(struct store_conn *c, int64_t user_id, store_pushsub_cb cb, void *ud)
{
    struct params p = {0};
    if (user_id)
        pgq_int(&p, user_id);
    PGresult *r;
    if (pgq_run(c,
                user_id ? "SELECT id, user_id, cred, data FROM push_subscriptions WHERE "
                          "user_id=$1 ORDER BY id"
                        : "SELECT id, user_id, cred, data FROM push_subscriptions ORDER BY id",
                &p, &r))
        return STORE_ERR;
    for (int i = 0; i < PQntuples(r); i++)
        if (cb(PQgetvalue(r, i, 0), pgq_col_int(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
               ud))
            break;
    PQclear(r);
    return STORE_OK;
}
