/*
 * query.c — /query and /queryChanges (RFC 8620 §5.5, §5.6) for any type whose
 * descriptor supplies filter and compare hooks. The query state is the type's
 * state: results change only when objects of the type do. /queryChanges re-runs
 * the query and reports, from the change log, every changed id that may have left
 * the results as removed and every changed id now in them as added (§5.6 allows
 * extra removed ids), so it works for any filter and sort.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "formats/json/writer.h"
#include "jmap/collation.h"
#include "jmap/engine_internal.h"
#include "jmap/metadata.h"
#include "util/util.h"

#define QUERY_MAX_LIMIT 10000

/* ---- filter ------------------------------------------------------------------------ */

/* Checks the filter's shape and that the type supports every condition.
 * Returns 0, or emits invalidArguments / unsupportedFilter and returns -1. */
int engine_filter_check(struct jmap_req *r, const struct jtype *t, json_t *f, int depth)
{
    if (depth == 0)
        metadata_query_done(); /* a new query: the metadata rows are read afresh */
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
            if (engine_filter_check(r, t, c, depth + 1))
                return -1;
        }
        return 0;
    }
    const char *key;
    json_t *v;
    json_object_foreach(f, key, v)
    {
        int md = metadata_filter_check(r, t, key, v); /* metadata-02 §3.5 */
        int rc = md ? md : t->filter ? t->filter(r, NULL, key, v) : -1;
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
        int md = t->metadata ? metadata_filter_match(r, t, obj, key, v) : -1;
        if ((md < 0 ? t->filter(r, obj, key, v) : md) != 1)
            return false;
    }
    return true;
}

/* ---- sort ------------------------------------------------------------------------------ */

int engine_sort_check(struct jmap_req *r, const struct jtype *t, json_t *sort)
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

/* Sorts list (objects, borrowed) by sort and returns their ids in order (new array). */
static json_t *sorted_ids(const struct jtype *t, json_t *list, json_t *sort)
{
    size_t n = json_array_size(list);
    json_t **v = xmalloc((n + 1) * sizeof *v), **tmp = xmalloc((n + 1) * sizeof *tmp);
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(list, i);
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
    return ids;
}

json_t *engine_query_filter_sort(struct jmap_req *r, const struct jtype *t, json_t *objects,
                                 json_t *filter, json_t *sort)
{
    json_t *list = json_array();
    size_t i;
    json_t *obj;
    json_array_foreach(objects, i, obj)
    {
        if (!json_is_object(filter) || filter_match(r, t, filter, obj))
            json_array_append(list, obj);
    }
    json_t *ids = sorted_ids(t, list, sort);
    json_decref(list);
    return ids;
}

static int id_order(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ordered ids matching filter and sort, as a new array. */
static json_t *run_query(struct jmap_req *r, const struct jtype *t, const char *account,
                         json_t *filter, json_t *sort)
{
    /* a type's index knows nothing of metadata: such a filter reads the objects */
    if (t->query_run && !metadata_filter_uses(r, t, filter)) {
        json_t *ids = t->query_run(r, account, json_is_object(filter) ? filter : NULL,
                                   json_is_array(sort) && json_array_size(sort) ? sort : NULL);
        if (ids)
            return ids;
    }
    struct collect c = {r, t, json_is_object(filter) ? filter : NULL, json_array()};
    /* metadata-02 §3.5 (issue 18): the objects that hold the conditions' namespaces
     * (the store's key index) are the only candidates, when the filter says so */
    json_t *cands = metadata_candidates(r, t, c.filter);
    if (cands) {
        const char **want = xcalloc(json_object_size(cands) + 1, sizeof *want);
        size_t n = 0;
        const char *id;
        json_t *v;
        json_object_foreach(cands, id, v) want[n++] = id;
        qsort(want, n, sizeof *want, id_order); /* as store_object_foreach: by id */
        store_object_prefetch(r->conn, account, t->name, want, n);
        for (size_t i = 0; i < n; i++) {
            json_t *obj = store_object_get(r->conn, account, t->name, want[i]);
            if (obj)
                collect_cb(want[i], obj, &c);
            json_decref(obj);
        }
        free(want);
        json_decref(cands);
    } else {
        store_object_foreach(r->conn, account, t->name, collect_cb, &c);
    }
    json_t *ids = sorted_ids(t, c.list, sort);
    json_decref(c.list);
    return ids;
}

const struct argspec engine_query_args[] = {
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
    if (json_is_object(filter) && engine_filter_check(r, t, filter, 0))
        return -1;
    if (json_is_array(sort) && engine_sort_check(r, t, sort))
        return -1;
    return 0;
}

int jmap_std_query(struct jmap_req *r, const struct jtype *t, json_t *args)
{
    const struct store_access *a = jmap_method_begin(r, args, engine_query_args, t->query_args,
                                                     "accountId", JMAP_BEGIN_NO_TXN);
    if (!a || query_prepare(r, t, args) || jmap_txn_begin(r, false))
        return -1;
    store_snapshot_gate(r->conn, a->account_id); /* store.h: the snapshot costs no wait */
    int64_t state = metadata_type_state(r, t, a->account_id);
    json_t *ids = run_query(r, t, a->account_id, json_object_get(args, "filter"),
                            json_object_get(args, "sort"));
    engine_visible_filter(r, t, a, ids);
    metadata_query_done();
    engine_snapshot_save(r->conn, a->account_id, t->name, args, state, ids);
    store_rollback(r->conn);

    int rc = engine_query_respond(r, t, a->account_id, args, ids, state);
    json_decref(ids);
    return rc;
}

/* ---- the result window (§5.5 position, anchor, anchorOffset, limit) ---------------------- */

static int respond_window(struct jmap_req *r, const struct jtype *t, const char *account,
                          json_t *args, json_t *ids, int64_t first, int64_t total, int64_t position,
                          int64_t state);

int engine_query_respond(struct jmap_req *r, const struct jtype *t, const char *account,
                         json_t *args, json_t *ids, int64_t state)
{
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
    return respond_window(r, t, account, args, ids, 0, total, position, state);
}

int engine_query_respond_page(struct jmap_req *r, const struct jtype *t, const char *account,
                              json_t *args, json_t *ids, int64_t first, int64_t total,
                              int64_t state)
{
    int64_t position = json_integer_value(json_object_get(args, "position"));
    if (position < 0)
        position = total + position < 0 ? 0 : total + position;
    return respond_window(r, t, account, args, ids, first, total, position, state);
}

/* The response: the results [position, position + limit) of total, of which ids holds
 * those from index first on. */
static int respond_window(struct jmap_req *r, const struct jtype *t, const char *account,
                          json_t *args, json_t *ids, int64_t first, int64_t total, int64_t position,
                          int64_t state)
{
    json_t *limitv = json_object_get(args, "limit");
    int64_t limit = json_is_integer(limitv) ? json_integer_value(limitv) : QUERY_MAX_LIMIT;
    bool clamped = limit > QUERY_MAX_LIMIT;
    if (clamped)
        limit = QUERY_MAX_LIMIT;
    json_t *page = json_array();
    for (int64_t i = position; i < total && i - position < limit; i++)
        json_array_append(page, json_array_get(ids, (size_t)(i - first)));
    json_t *resp = json_pack("{s:s, s:o, s:b, s:I, s:o}", "accountId", account, "queryState",
                             jmap_state_string(state), "canCalculateChanges", 1, "position",
                             (json_int_t)position, "ids", page);
    if (json_is_true(json_object_get(args, "calculateTotal")))
        json_object_set_new(resp, "total", json_integer(total));
    if (clamped || !json_is_integer(limitv))
        json_object_set_new(resp, "limit", json_integer(limit));
    engine_respond(r, t, "query", resp);
    return 0;
}

/* ---- query snapshots ----------------------------------------------------------------------
 * The results of recent queries, by (account, type, query, state), so /queryChanges
 * can diff exactly: needed where result ids are not stored objects (expanded
 * recurrences), and exact everywhere. Bounded; lost on restart, after which
 * /queryChanges falls back to the change log or cannotCalculateChanges. */

#define SNAPSHOTS 64
#define SNAPSHOT_MAX_IDS 50000

static struct {
    char *key; /* account \n type \n canonical query \n state */
    json_t *ids;
    uint64_t used;
} snapshots[SNAPSHOTS];
static uint64_t snapshot_clock;
static pthread_mutex_t snapshot_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whose results a snapshot holds: "" for an account's full view, the user for one
 * reached through shares (their results are filtered by their rights, issue 14).
 * Set by jmap_account() for the method that runs on the thread. */
static __thread char snapshot_scope[280];

static __thread char snapshot_user[260];

void engine_snapshot_scope(const char *scope)
{
    snprintf(snapshot_scope, sizeof snapshot_scope, "%s", scope ? scope : "");
}

void engine_snapshot_user(const char *user)
{
    snprintf(snapshot_user, sizeof snapshot_user, "%s", user ? user : "");
}

void engine_visible_filter(struct jmap_req *r, const struct jtype *t, const struct store_access *a,
                           json_t *ids)
{
    if (!a->shared || !t->visible)
        return;
    for (size_t i = json_array_size(ids); i-- > 0;)
        if (!t->visible(r, a, json_string_value(json_array_get(ids, i))))
            json_array_remove(ids, i);
}

static char *snapshot_key(const char *account, const char *type, json_t *args, int64_t state)
{
    /* the arguments that decide the results: everything but the window */
    json_t *q = json_object();
    static const char *const keys[] = {"filter", "sort", "expandRecurrences", "timeZone"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(args, keys[i]);
        if (v && !json_is_null(v))
            json_object_set(q, keys[i], v);
    }
    char *canon = json_dumps(q, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(q);
    char *key = NULL;
    /* a filter on private metadata gives each user their own results (issue 18) */
    bool own = strstr(canon, "\"privateMetadata") != NULL;
    key = xasprintf("%s\n%s\n%s\n%lld\n%s%s%s", account, type, canon, (long long)state,
                    snapshot_scope, own ? "\n" : "", own ? snapshot_user : "");
    free(canon);
    return key;
}

/* The store's copy (issue 15: several front ends), keyed by the hash of the key. */
static void snapshot_store_key(const char *key, char out[65])
{
    util_sha256_hex(key, strlen(key), out);
}

void engine_snapshot_save(struct store_conn *c, const char *account, const char *type,
                          json_t *args, int64_t state, json_t *ids)
{
    if (json_array_size(ids) > SNAPSHOT_MAX_IDS)
        return;
    char *key = snapshot_key(account, type, args, state);
    char skey[65];
    snapshot_store_key(key, skey);
    if (c && !store_in_write(c)) {
        jbuf text = {0}; /* the fast writer: an expanded month has thousands of ids (issue 21) */
        jwriter_append(ids, &text);
        store_snapshot_put(c, account, skey, text.s);
        jbuf_free(&text);
    }
    /* Issue 21 §1: nothing is freed or copied under the lock. The same key at the same
     * state has the same results: a repeated query only marks its snapshot used (two
     * readers of one month each replaced the other's, freeing its strings in the other
     * thread's malloc arena while holding this lock) */
    pthread_mutex_lock(&snapshot_lock);
    for (size_t i = 0; i < SNAPSHOTS; i++)
        if (snapshots[i].key && strcmp(snapshots[i].key, key) == 0) {
            snapshots[i].used = ++snapshot_clock;
            pthread_mutex_unlock(&snapshot_lock);
            free(key);
            return;
        }
    pthread_mutex_unlock(&snapshot_lock);
    /* the array is the snapshot's own; its strings are shared (immutable, and jansson
     * counts references atomically) */
    json_t *copy = json_copy(ids);
    pthread_mutex_lock(&snapshot_lock);
    size_t slot = 0;
    for (size_t i = 0; i < SNAPSHOTS; i++) {
        if (snapshots[i].key && strcmp(snapshots[i].key, key) == 0) {
            slot = i; /* saved meanwhile by another thread: replaced, as before */
            break;
        }
        if (snapshots[i].used < snapshots[slot].used)
            slot = i;
    }
    char *old_key = snapshots[slot].key;
    json_t *old_ids = snapshots[slot].ids;
    snapshots[slot].key = key;
    snapshots[slot].ids = copy;
    snapshots[slot].used = ++snapshot_clock;
    pthread_mutex_unlock(&snapshot_lock);
    free(old_key);
    json_decref(old_ids);
}

json_t *engine_snapshot_load(struct store_conn *c, const char *account, const char *type,
                             json_t *args, int64_t state)
{
    char *key = snapshot_key(account, type, args, state);
    json_t *ids = NULL;
    pthread_mutex_lock(&snapshot_lock);
    for (size_t i = 0; i < SNAPSHOTS; i++)
        if (snapshots[i].key && strcmp(snapshots[i].key, key) == 0) {
            ids = json_copy(snapshots[i].ids); /* the strings stay shared */
            snapshots[i].used = ++snapshot_clock;
            break;
        }
    pthread_mutex_unlock(&snapshot_lock);
    if (!ids && c) { /* another front end's query (issue 15), or before a restart */
        char skey[65];
        snapshot_store_key(key, skey);
        char *text = store_snapshot_get(c, account, skey);
        json_error_t e;
        ids = text ? json_loads(text, 0, &e) : NULL;
        free(text);
        if (ids && !json_is_array(ids)) {
            json_decref(ids);
            ids = NULL;
        }
    }
    free(key);
    return ids;
}

void engine_snapshot_clear(void)
{
    pthread_mutex_lock(&snapshot_lock);
    for (size_t i = 0; i < SNAPSHOTS; i++) {
        free(snapshots[i].key);
        json_decref(snapshots[i].ids);
        snapshots[i].key = NULL;
        snapshots[i].ids = NULL;
        snapshots[i].used = 0;
    }
    pthread_mutex_unlock(&snapshot_lock);
}

/* The diff of §5.6 from the old results (if known), the new results, and the set
 * of changed stored ids (key: id, value: true if it existed at the old state).
 * base_of maps a result id to its stored object's id (NULL: itself). Returns 0, or
 * -1 if old is unknown and result ids are not stored ids. */
int engine_query_diff(json_t *old, json_t *now, json_t *changed,
                      const char *(*base_of)(const char *id, char buf[96]), json_t *removed,
                      json_t *added)
{
    char buf[96];
    size_t i;
    json_t *v;
    if (!old) {
        if (base_of)
            return -1;
        /* from the change log: every changed id that may have been there is removed,
         * every changed id now there is added (§5.6 allows the extra removals) */
        const char *id;
        json_object_foreach(changed, id, v)
        {
            if (json_is_true(v))
                json_array_append_new(removed, json_string(id));
        }
        json_array_foreach(now, i, v)
        {
            if (json_object_get(changed, json_string_value(v)))
                json_array_append_new(added, json_pack("{s:O, s:I}", "id", v, "index",
                                                       (json_int_t)i));
        }
        return 0;
    }
    json_t *in_old = json_object(), *in_now = json_object();
    json_array_foreach(old, i, v)
    {
        json_object_set_new(in_old, json_string_value(v), json_true());
    }
    json_array_foreach(now, i, v)
    {
        json_object_set_new(in_now, json_string_value(v), json_true());
    }
    json_array_foreach(old, i, v)
    {
        const char *id = json_string_value(v), *base = base_of ? base_of(id, buf) : id;
        if (!json_object_get(in_now, id) || json_object_get(changed, base))
            json_array_append(removed, v);
    }
    json_array_foreach(now, i, v)
    {
        const char *id = json_string_value(v), *base = base_of ? base_of(id, buf) : id;
        if (!json_object_get(in_old, id) || json_object_get(changed, base))
            json_array_append_new(added, json_pack("{s:O, s:I}", "id", v, "index",
                                                   (json_int_t)i));
    }
    json_decref(in_old);
    json_decref(in_now);
    return 0;
}

/* ---- /queryChanges ---------------------------------------------------------------------------- */

const struct argspec engine_query_changes_args[] = {
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

json_t *engine_changed_ids(struct store_conn *c, const char *account, const char *type,
                           int64_t since)
{
    struct changed ch = {since, json_object()};
    store_changes(c, account, type, since, 0, changed_cb, &ch);
    return ch.ids;
}

int engine_query_changes_respond(struct jmap_req *r, const struct jtype *t, const char *account,
                                 json_t *args, int64_t since, int64_t current, json_t *now,
                                 json_t *changed,
                                 const char *(*base_of)(const char *id, char buf[96]))
{
    json_t *old = engine_snapshot_load(r->conn, account, t->name, args, since);
    json_t *removed = json_array(), *added = json_array();
    int rc = engine_query_diff(old, now, changed, base_of, removed, added);
    json_decref(old);
    if (rc == 0)
        engine_snapshot_save(r->conn, account, t->name, args, current, now);
    json_t *maxv = json_object_get(args, "maxChanges");
    if (rc != 0) {
        jmap_error(r, "cannotCalculateChanges", "the old results of this query are not known");
    } else if (json_is_integer(maxv) && json_array_size(removed) + json_array_size(added) >
                                            (size_t)json_integer_value(maxv)) {
        jmap_error(r, "tooManyChanges", "more changes than maxChanges");
        rc = -1;
    }
    if (rc != 0) {
        json_decref(removed);
        json_decref(added);
        return -1;
    }
    json_t *resp = json_pack("{s:s, s:o, s:o, s:o, s:o}", "accountId", account,
                             "oldQueryState", jmap_state_string(since), "newQueryState",
                             jmap_state_string(current), "removed", removed, "added", added);
    if (json_is_true(json_object_get(args, "calculateTotal")))
        json_object_set_new(resp, "total", json_integer((json_int_t)json_array_size(now)));
    engine_respond(r, t, "queryChanges", resp);
    return 0;
}

int jmap_std_query_changes(struct jmap_req *r, const struct jtype *t, json_t *args)
{
    if (jmap_args_check(r, args, engine_query_changes_args, t->query_args))
        return -1;
    if (query_prepare(r, t, args))
        return -1;
    int64_t since, current;
    const struct store_access *a =
        engine_changes_begin(r, t, args, "sinceQueryState", &since, &current);
    if (!a)
        return -1;
    json_t *changed = engine_changed_ids(r->conn, a->account_id, t->name, since);
    if (t->metadata) /* metadata-02 §3.4: as this user sees the metadata */
        metadata_changed_ids(r, t, a->account_id, since, changed);
    json_t *ids = run_query(r, t, a->account_id, json_object_get(args, "filter"),
                            json_object_get(args, "sort"));
    engine_visible_filter(r, t, a, ids);
    metadata_query_done();
    store_rollback(r->conn);
    int rc = engine_query_changes_respond(r, t, a->account_id, args, since, current, ids,
                                          changed, NULL);
    json_decref(ids);
    json_decref(changed);
    return rc;
}
