/*
 * postgres_alert.c — the PostgreSQL backend's alert schedule (store.h "the alert
 * schedule"; issue 14, draft-ietf-jmap-calendars-27 §6), as sqlite_alert.c. Several
 * front ends run a scheduler each: store_alert_claim's conditional UPDATE lets one
 * of them fire a due row and tells the others it is gone.
 */
#include <stdio.h>
#include <stdlib.h>

#include "store/postgres_internal.h"

static void key(struct params *p, const char *account, const char *type, const char *object_id,
                int64_t user_id)
{
    pgq_text(p, account);
    pgq_text(p, type);
    pgq_text(p, object_id);
    pgq_int(p, user_id);
}

int pg_alert_put(struct store_conn *c, const struct store_alert *a)
{
    static const char *const sql =
        "INSERT INTO alert_queue(account_id, type, object_id, user_id, next_check, fired_until) "
        "VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT(account_id, type, object_id, user_id) DO UPDATE "
        "SET next_check=EXCLUDED.next_check, fired_until=EXCLUDED.fired_until";
    struct params p = {0};
    key(&p, a->account, a->type, a->object_id, a->user_id);
    pgq_int(&p, a->next_check);
    pgq_int(&p, a->fired_until);
    pgc_ids_note(&c->alerts, 0, a->account, a->type, a->object_id);
    json_t *born = pgc_born(c, a->account, a->type, a->object_id);
    if (born)
        json_object_set_new(born, "alerts", json_true());
    return pgq_defer(c, sql, &p); /* queued with the next statement */
}

int pg_alert_get(struct store_conn *c, struct store_alert *a)
{
    static const char *const sql = "SELECT next_check, fired_until FROM alert_queue WHERE "
                                   "account_id=$1 AND type=$2 AND object_id=$3 AND user_id=$4";
    struct params p = {0};
    key(&p, a->account, a->type, a->object_id, a->user_id);
    PGresult *r;
    if (pgq_run(c, sql, &p, &r))
        return STORE_ERR;
    int rc = PQntuples(r) ? STORE_OK : STORE_NOTFOUND;
    if (rc == STORE_OK) {
        a->next_check = pgq_col_int(r, 0, 0);
        a->fired_until = pgq_col_int(r, 0, 1);
    }
    PQclear(r);
    return rc;
}

int pg_alert_claim(struct store_conn *c, const struct store_alert *old, int64_t next_check,
                   int64_t fired)
{
    static const char *const del = "DELETE FROM alert_queue WHERE account_id=$1 AND type=$2 AND "
                                   "object_id=$3 AND user_id=$4 AND next_check=$5 AND "
                                   "fired_until=$6";
    static const char *const upd = "UPDATE alert_queue SET next_check=$7, fired_until=$8 WHERE "
                                   "account_id=$1 AND type=$2 AND object_id=$3 AND user_id=$4 "
                                   "AND next_check=$5 AND fired_until=$6";
    struct params p = {0};
    key(&p, old->account, old->type, old->object_id, old->user_id);
    pgq_int(&p, old->next_check);
    pgq_int(&p, old->fired_until);
    if (next_check < 0)
        return pgq_change(c, del, &p);
    pgq_int(&p, next_check);
    pgq_int(&p, fired);
    return pgq_change(c, upd, &p);
}

int pg_alert_del(struct store_conn *c, const char *account, const char *type, const char *object_id)
{
    static const char *const sql =
        "DELETE FROM alert_queue WHERE account_id=$1 AND type=$2 AND object_id=$3";
    struct params p = pgq_three(account, type, object_id);
    return pgq_run(c, sql, &p, NULL);
}

int pg_alert_due(struct store_conn *c, int64_t now, int max, store_alert_cb cb, void *ud)
{
    static const char *const sql = "SELECT account_id, type, object_id, user_id, next_check, "
                                   "fired_until FROM alert_queue WHERE next_check <= $1 "
                                   "ORDER BY next_check LIMIT $2";
    struct params p = {0};
    pgq_int(&p, now);
    pgq_int(&p, max);
    PGresult *r;
    if (pgq_run(c, sql, &p, &r))
        return STORE_ERR;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_alert a = {.user_id = pgq_col_int(r, i, 3),
                                .next_check = pgq_col_int(r, i, 4),
                                .fired_until = pgq_col_int(r, i, 5)};
        snprintf(a.account, sizeof a.account, "%s", PQgetvalue(r, i, 0));
        snprintf(a.type, sizeof a.type, "%s", PQgetvalue(r, i, 1));
        snprintf(a.object_id, sizeof a.object_id, "%s", PQgetvalue(r, i, 2));
        if (cb(&a, ud))
            break;
    }
    PQclear(r);
    return STORE_OK;
}

int pg_alert_users(struct store_conn *c, const char *account, const char *type,
                   const char *object_id, store_member_cb cb, void *ud)
{
    static const char *const sql = "SELECT user_id FROM alert_queue WHERE account_id=$1 AND "
                                   "type=$2 AND object_id=$3 ORDER BY 1";
    static const char *const ids = "SELECT DISTINCT object_id COLLATE \"C\" FROM alert_queue "
                                   "WHERE account_id=$1 AND type=$2 ORDER BY 1";
    PGresult *r;
    json_t *born = pgc_born(c, account, type, object_id);
    if (born && !json_object_get(born, "alerts"))
        return STORE_OK; /* created by this transaction, which put no alert of it */
    struct params two = pgq_two(account, type);
    if (pgc_ids_use(c, &c->alerts, 0, account, type) == 2 && pgq_run(c, ids, &two, &r) == STORE_OK)
        pgc_ids_keep(&c->alerts, r);
    if (pgc_ids_has(c, &c->alerts, 0, account, type, object_id) == 0)
        return STORE_OK; /* none: no user to call cb with */
    struct params p = pgq_three(account, type, object_id);
    if (pgq_run(c, sql, &p, &r))
        return STORE_ERR;
    for (int i = 0; i < PQntuples(r); i++)
        if (cb(pgq_col_int(r, i, 0), ud))
            break;
    PQclear(r);
    return STORE_OK;
}

int pg_alert_touch(struct store_conn *c, const char *account, const char *type, int64_t now)
{
    /* a row already due keeps its fired_until: what is due still fires */
    static const char *const sql = "UPDATE alert_queue SET fired_until=CASE WHEN next_check <= $3 "
                                   "THEN fired_until ELSE GREATEST(fired_until, $3) END, "
                                   "next_check=$3 WHERE account_id=$1 AND type=$2";
    struct params p = {0};
    pgq_text(&p, account);
    pgq_text(&p, type);
    pgq_int(&p, now);
    return pgq_run(c, sql, &p, NULL);
}
