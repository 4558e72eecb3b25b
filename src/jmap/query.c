/*
 * query.c — /query and /queryChanges (RFC 8620 §5.5, §5.6) for any type whose
 * descriptor supplies filter and compare hooks. The query state is the type's
 * state: results change only when objects of the type do. /queryChanges re-runs
 * the query and reports, from the change log, every changed id that may have left
 * the results as removed and every changed id now in them as added (§5.6 allows
 * extra removed ids), so it works for any filter and sort.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/collation.h"
#include "jmap/engine.h"
#include "util/util.h"

#define QUERY_MAX_LIMIT 10000

/* ---- filter ------------------------------------------------------------------------ */

/* Checks the filter's shape and that the type supports every condition.
 * Returns 0, or emits invalidArguments / unsupportedFilter and returns -1. */
static int filter_check(struct jmap_req *r, const struct jtype *t, json_t *f, int depth)
{
    if (!json_is_object(f) || depth > 32) {
        jmap_error(r, "invalidArguments", "a filter must be a FilterOperator or FilterCondition");
        return -1;
    }
    json_t *op = json_object_get(f, "operator");
    if (op) {
        json_t *conds = json_object_get(f, "conditions");
        const char *o = json_string_value(op);
        if (!o || (strcmp(o, "AND") && strcmp(o, "OR") && strcmp(o, "NOT")) ||
            !json_is_array(conds) || json_object_size(f) != 2) {
            jmap_error(r, "invalidArguments", "bad FilterOperator");
            return -1;
        }
        size_t i;
        json_t *c;
        json_array_foreach(conds, i, c)
        {
            if (filter_check(r, t, c, depth + 1))
                return -1;
        }
        return 0;
    }
    const char *key;
    json_t *v;
    json_object_foreach(f, key, v)
    {
        int rc = t->filter ? t->filter(r, NULL, key, v) : -1;
        if (rc == -1) {
            jmap_error(r, "unsupportedFilter", "cannot filter on '%s'", key);
            return -1;
        }
        if (rc == -2) {
            jmap_error(r, "invalidArguments", "bad value for filter '%s'", key);
            return -1;
        }
    }
    return 0;
}

static bool filter_match(struct jmap_req *r, const struct jtype *t, json_t *f, json_t *obj)
{
    json_t *op = json_object_get(f, "operator");
    if (op) {
        const char *o = json_string_value(op);
        json_t *conds = json_object_get(f, "conditions");
        size_t i;
        json_t *c;
        if (strcmp(o, "AND") == 0) {
            json_array_foreach(conds, i, c)
            {
                if (!filter_match(r, t, c, obj))
                    return false;
            }
            return true;
        }
        bool any = false;
        json_array_foreach(conds, i, c)
        {
            if (filter_match(r, t, c, obj)) {
                any = true;
                break;
            }
        }
        return strcmp(o, "OR") == 0 ? any : !any; /* NOT: none of the conditions */
    }
    const char *key;
    json_t *v;
    json_object_foreach(f, key, v)
    {
        if (t->filter(r, obj, key, v) != 1)
            return false;
    }
    return true;
}

/* ---- sort ------------------------------------------------------------------------------ */

static int sort_check(struct jmap_req *r, const struct jtype *t, json_t *sort)
{
    size_t i;
    json_t *c;
    json_array_foreach(sort, i, c)
    {
        json_t *prop = json_object_get(c, "property"), *asc = json_object_get(c, "isAscending"),
               *coll = json_object_get(c, "collation");
        if (!json_is_object(c) || !json_is_string(prop) || (asc && !json_is_boolean(asc)) ||
            (coll && !json_is_string(coll))) {
            jmap_error(r, "invalidArguments", "bad Comparator");
            return -1;
        }
        bool ok = false;
        if (t->compare) {
            json_t *probe = json_object();
            t->compare(probe, probe, json_string_value(prop), &ok);
            json_decref(probe);
        }
        if (!ok || (coll && !collation_known(json_string_value(coll)))) {
            jmap_error(r, "unsupportedSort", "cannot sort by '%s'", json_string_value(prop));
            return -1;
        }
    }
    return 0;
}

struct sort_ctx {
    const struct jtype *t;
    json_t *sort;
};

static int compare_objects(json_t *a, json_t *b, const struct sort_ctx *sc)
{
    size_t i;
    json_t *c;
    json_array_foreach(sc->sort, i, c)
    {
        const char *prop = json_string_value(json_object_get(c, "property"));
        json_t *asc = json_object_get(c, "isAscending");
        const char *coll = json_string_value(json_object_get(c, "collation"));
        bool ok = true;
        int d;
        json_t *va = json_object_get(a, prop), *vb = json_object_get(b, prop);
        if (json_is_string(va) && json_is_string(vb) && coll)
            d = collation_compare(coll, json_string_value(va), json_string_value(vb));
        else
            d = sc->t->compare(a, b, prop, &ok);
        if (d)
            return json_is_false(asc) ? -d : d;
    }
    /* ties in id order, so results are stable across calls */
    return strcmp(json_string_value(json_object_get(a, "id")),
                  json_string_value(json_object_get(b, "id")));
}

/* qsort_r-free merge sort over an array of json_t* */
static void msort(json_t **v, json_t **tmp, size_t n, const struct sort_ctx *sc)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    msort(v, tmp, h, sc);
    msort(v + h, tmp, n - h, sc);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = compare_objects(v[i], v[j], sc) <= 0 ? v[i++] : v[j++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

/* ---- running a query ------------------------------------------------------------------------ */

struct collect {
    struct jmap_req *r;
    const struct jtype *t;
    json_t *filter;
    json_t *list;
};

static int collect_cb(const char *id, json_t *obj, void *ud)
{
    struct collect *c = ud;
    if (!c->filter || filter_match(c->r, c->t, c->filter, obj))
        json_array_append(c->list, obj);
    return 0;
}

/* The ordered ids matching filter and sort, as a new array. */
static json_t *run_query(struct jmap_req *r, const struct jtype *t, const char *account,
                         json_t *filter, json_t *sort)
{
    if (t->query_run) {
        json_t *ids = t->query_run(r, account, json_is_object(filter) ? filter : NULL,
                                   json_is_array(sort) && json_array_size(sort) ? sort : NULL);
        if (ids)
            return ids;
    }
    struct collect c = {r, t, json_is_object(filter) ? filter : NULL, json_array()};
    store_object_foreach(r->conn, account, t->name, collect_cb, &c);
    size_t n = json_array_size(c.list);
    json_t **v = xmalloc((n + 1) * sizeof *v), **tmp = xmalloc((n + 1) * sizeof *tmp);
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(c.list, i);
    struct sort_ctx sc = {t, json_is_array(sort) ? sort : NULL};
    json_t *empty = json_array();
    if (!sc.sort)
        sc.sort = empty;
    msort(v, tmp, n, &sc);
    json_t *ids = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(ids, json_object_get(v[i], "id"));
    free(v);
    free(tmp);
    json_decref(empty);
    json_decref(c.list);
    return ids;
}

static const struct argspec query_args[] = {
    {"accountId", ARG_ID, ARG_REQUIRED},
    {"filter", ARG_OBJECT, ARG_NULLABLE},
    {"sort", ARG_ARRAY, ARG_NULLABLE},
    {"position", ARG_INT, 0},
    {"anchor", ARG_ID, ARG_NULLABLE},
    {"anchorOffset", ARG_INT, 0},
    {"limit", ARG_UINT, ARG_NULLABLE},
    {"calculateTotal", ARG_BOOL, 0},
    {NULL, 0, 0},
};

static int query_prepare(struct jmap_req *r, const struct jtype *t, json_t *args)
{
    json_t *filter = json_object_get(args, "filter"), *sort = json_object_get(args, "sort");
    if (json_is_object(filter) && filter_check(r, t, filter, 0))
        return -1;
    if (json_is_array(sort) && sort_check(r, t, sort))
        return -1;
    return 0;
}

int jmap_std_query(struct jmap_req *r, const struct jtype *t, json_t *args)
{
    if (jmap_args_check(r, args, query_args, t->query_args))
        return -1;
    const struct store_access *a = jmap_account(r, args, "accountId", false);
    if (!a || query_prepare(r, t, args))
        return -1;
    if (store_begin(r->conn, false)) {
        jmap_error(r, "serverFail", "database busy");
        return -1;
    }
    int64_t state = store_state_get(r->conn, a->account_id, t->name);
    json_t *ids = run_query(r, t, a->account_id, json_object_get(args, "filter"),
                            json_object_get(args, "sort"));
    store_rollback(r->conn);

    int64_t total = (int64_t)json_array_size(ids);
    int64_t position = json_integer_value(json_object_get(args, "position"));
    json_t *anchor = json_object_get(args, "anchor");
    if (json_is_string(anchor)) {
        /* §5.5: the anchor's index plus anchorOffset, clamped to 0; position ignored */
        int64_t idx = -1;
        size_t i;
        json_t *v;
        json_array_foreach(ids, i, v)
        {
            if (json_equal(v, anchor)) {
                idx = (int64_t)i;
                break;
            }
        }
        if (idx < 0) {
            json_decref(ids);
            jmap_error(r, "anchorNotFound", "the anchor is not in the results");
            return -1;
        }
        position = idx + json_integer_value(json_object_get(args, "anchorOffset"));
        if (position < 0)
            position = 0;
    } else if (position < 0) {
        position = total + position; /* negative: from the end, clamped to 0 */
        if (position < 0)
            position = 0;
    }
    json_t *limitv = json_object_get(args, "limit");
    int64_t limit = json_is_integer(limitv) ? json_integer_value(limitv) : QUERY_MAX_LIMIT;
    bool clamped = limit > QUERY_MAX_LIMIT;
    if (clamped)
        limit = QUERY_MAX_LIMIT;
    json_t *page = json_array();
    for (int64_t i = position; i < total && i - position < limit; i++)
        json_array_append(page, json_array_get(ids, (size_t)i));
    json_decref(ids);
    json_t *resp = json_pack("{s:s, s:o, s:b, s:I, s:o}", "accountId", a->account_id, "queryState",
                             jmap_state_string(state), "canCalculateChanges", 1, "position",
                             (json_int_t)position, "ids", page);
    if (json_is_true(json_object_get(args, "calculateTotal")))
        json_object_set_new(resp, "total", json_integer(total));
    if (clamped || !json_is_integer(limitv))
        json_object_set_new(resp, "limit", json_integer(limit));
    engine_respond(r, t, "query", resp);
    return 0;
}

/* ---- /queryChanges ---------------------------------------------------------------------------- */

static const struct argspec query_changes_args[] = {
    {"accountId", ARG_ID, ARG_REQUIRED},
    {"filter", ARG_OBJECT, ARG_NULLABLE},
    {"sort", ARG_ARRAY, ARG_NULLABLE},
    {"sinceQueryState", ARG_STRING, ARG_REQUIRED},
    {"maxChanges", ARG_UINT, ARG_NULLABLE},
    {"upToId", ARG_ID, ARG_NULLABLE},
    {"calculateTotal", ARG_BOOL, 0},
    {NULL, 0, 0},
};

struct changed {
    int64_t since;
    json_t *ids; /* id -> true if it may have been in the old results */
};

static int changed_cb(const char *id, int64_t created, int64_t updated, bool destroyed, void *ud)
{
    struct changed *c = ud;
    json_object_set_new(c->ids, id, json_boolean(created <= c->since));
    return 0;
}

int jmap_std_query_changes(struct jmap_req *r, const struct jtype *t, json_t *args)
{
    if (jmap_args_check(r, args, query_changes_args, t->query_args))
        return -1;
    json_t *maxv = json_object_get(args, "maxChanges");
    if (json_is_integer(maxv) && json_integer_value(maxv) == 0) {
        jmap_error(r, "invalidArguments", "maxChanges must be greater than 0");
        return -1;
    }
    const struct store_access *a = jmap_account(r, args, "accountId", false);
    if (!a || query_prepare(r, t, args))
        return -1;
    if (store_begin(r->conn, false)) {
        jmap_error(r, "serverFail", "database busy");
        return -1;
    }
    int64_t current;
    int64_t since = engine_since(r, a->account_id, t,
                                 json_string_value(json_object_get(args, "sinceQueryState")),
                                 &current);
    if (since < 0) {
        store_rollback(r->conn);
        jmap_error(r, "cannotCalculateChanges", "unknown or expired query state");
        return -1;
    }
    struct changed ch = {since, json_object()};
    store_changes(r->conn, a->account_id, t->name, since, 0, changed_cb, &ch);
    json_t *ids = run_query(r, t, a->account_id, json_object_get(args, "filter"),
                            json_object_get(args, "sort"));
    store_rollback(r->conn);

    json_t *removed = json_array(), *added = json_array();
    const char *id;
    json_t *v;
    json_object_foreach(ch.ids, id, v)
    {
        if (json_is_true(v))
            json_array_append_new(removed, json_string(id));
    }
    size_t i;
    json_array_foreach(ids, i, v)
    {
        if (json_object_get(ch.ids, json_string_value(v)))
            json_array_append_new(added, json_pack("{s:O, s:I}", "id", v, "index", (json_int_t)i));
    }
    size_t total = json_array_size(ids);
    json_decref(ids);
    json_decref(ch.ids);
    if (json_is_integer(maxv) &&
        json_array_size(removed) + json_array_size(added) > (size_t)json_integer_value(maxv)) {
        json_decref(removed);
        json_decref(added);
        jmap_error(r, "tooManyChanges", "more changes than maxChanges");
        return -1;
    }
    json_t *resp = json_pack("{s:s, s:o, s:o, s:o, s:o}", "accountId", a->account_id,
                             "oldQueryState", jmap_state_string(since), "newQueryState",
                             jmap_state_string(current), "removed", removed, "added", added);
    if (json_is_true(json_object_get(args, "calculateTotal")))
        json_object_set_new(resp, "total", json_integer((json_int_t)total));
    engine_respond(r, t, "queryChanges", resp);
    return 0;
}
