/*
 * backend.h — the boundary between store.h and its backends (DESIGN.md §1, §3).
 * store.c dispatches every store.h call through a table of operations that the
 * backend chosen at store_open fills: sqlite.c (embedded, the default) or
 * postgres.c (scale-out). Each backend defines its own struct store and struct
 * store_conn; both must begin with a pointer to the backend's table, which is all
 * store.c reads of them. STORE_OPS lists every per-connection operation once:
 * X(return type, name, (parameters), (arguments)); store.c generates the public
 * functions from it and each backend its table, so a new store.h function is one
 * line here plus one function per backend.
 */
#ifndef JMAPD_STORE_BACKEND_H
#define JMAPD_STORE_BACKEND_H

#include "store/store.h"

typedef int (*store_name_cb)(const char *name, void *ud);
typedef int (*store_token_cb)(const char *id, const char *label, int64_t created, void *ud);
typedef int (*store_object_cb)(const char *id, json_t *obj, void *ud);
typedef int (*store_change_cb)(const char *id, int64_t created, int64_t updated, bool destroyed,
                               void *ud);
typedef int (*store_ref_cb)(const char *type, const char *id, void *ud);
typedef int (*store_range_cb)(const char *id, int64_t modseq, void *ud);
typedef int (*store_span_cb)(const char *id, int64_t modseq, bool has_range, bool exact,
                             int64_t start, int64_t end, void *ud);
typedef int (*store_order_cb)(const char *id, int64_t modseq, int64_t order, void *ud);
typedef int (*store_member_cb)(int64_t user_id, void *ud);
typedef int (*store_hit_cb)(const char *id, int64_t modseq, bool has_order, int64_t order,
                            void *ud);
typedef int (*store_facets_cb)(const char *id, const char *facets, void *ud);
typedef int (*store_key_cb)(const char *id, const void *key, size_t len, void *ud);
typedef int (*store_alert_cb)(const struct store_alert *a, void *ud);

#define SC struct store_conn *c
#define STORE_OPS(X)                                                                               \
    X(int, begin, (SC, bool write), (c, write))                                                    \
    X(bool, in_write, (SC), (c))                                                                   \
    X(int, commit, (SC), (c))                                                                      \
    X(int, ping, (SC), (c))                                                                        \
    X(bool, retryable, (SC), (c))                                                                  \
    X(int, user_add, (SC, const char *name, const char *pwhash, const char *account_id),           \
      (c, name, pwhash, account_id))                                                               \
    X(int, user_get, (SC, const char *name, struct store_user *out), (c, name, out))               \
    X(int, user_get_by_id, (SC, int64_t id, struct store_user * out), (c, id, out))                \
    X(int, user_del, (SC, const char *name), (c, name))                                            \
    X(int, user_set_password, (SC, const char *name, const char *pwhash), (c, name, pwhash))       \
    X(int, user_list, (SC, store_name_cb cb, void *ud), (c, cb, ud))                               \
    X(int, user_count, (SC), (c))                                                                  \
    X(int, user_accounts, (SC, int64_t user_id, struct store_access * out, int max),               \
      (c, user_id, out, max))                                                                      \
    X(int, access_grant, (SC, int64_t user_id, const char *account_id, bool may_write),            \
      (c, user_id, account_id, may_write))                                                         \
    X(int, token_add,                                                                              \
      (SC, int64_t user_id, const char *token_hash, const char *token_id, const char *label),      \
      (c, user_id, token_hash, token_id, label))                                                   \
    X(int, token_lookup, (SC, const char *token_hash, int64_t *user_id), (c, token_hash, user_id)) \
    X(int, token_list, (SC, int64_t user_id, store_token_cb cb, void *ud), (c, user_id, cb, ud))   \
    X(int, token_revoke, (SC, const char *token_id), (c, token_id))                                \
    X(int64_t, state_get, (SC, const char *account, const char *type), (c, account, type))         \
    X(int64_t, state_lowest, (SC, const char *account, const char *type), (c, account, type))      \
    X(int64_t, state_bump, (SC, const char *account, const char *type), (c, account, type))        \
    X(json_t *, object_get, (SC, const char *account, const char *type, const char *id),           \
      (c, account, type, id))                                                                      \
    X(bool, object_exists, (SC, const char *account, const char *type, const char *id),            \
      (c, account, type, id))                                                                      \
    X(int, object_put,                                                                             \
      (SC, const char *account, const char *type, const char *id, json_t *data, int64_t modseq,    \
       bool create, const char *unique_key),                                                       \
      (c, account, type, id, data, modseq, create, unique_key))                                    \
    X(int, object_destroy,                                                                         \
      (SC, const char *account, const char *type, const char *id, int64_t modseq),                 \
      (c, account, type, id, modseq))                                                              \
    X(int, object_foreach,                                                                         \
      (SC, const char *account, const char *type, store_object_cb cb, void *ud),                   \
      (c, account, type, cb, ud))                                                                  \
    X(int, object_count, (SC, const char *account, const char *type), (c, account, type))          \
    X(char *, object_find_key, (SC, const char *account, const char *type, const char *key),       \
      (c, account, type, key))                                                                     \
    X(int, changes,                                                                                \
      (SC, const char *account, const char *type, int64_t since, size_t max, store_change_cb cb,   \
       void *ud),                                                                                  \
      (c, account, type, since, max, cb, ud))                                                      \
    X(int, blob_put,                                                                               \
      (SC, const char *account, const char *blob_id, const void *data, size_t len,                 \
       const char *type),                                                                          \
      (c, account, blob_id, data, len, type))                                                      \
    X(int, blob_get,                                                                               \
      (SC, const char *account, const char *blob_id, unsigned char **data, size_t *len),           \
      (c, account, blob_id, data, len))                                                            \
    X(int64_t, blob_size, (SC, const char *account, const char *blob_id), (c, account, blob_id))   \
    X(int, blob_read,                                                                              \
      (SC, const char *account, const char *blob_id, uint64_t offset, size_t len,                  \
       unsigned char **data, size_t *got),                                                         \
      (c, account, blob_id, offset, len, data, got))                                               \
    X(int, blob_ref,                                                                               \
      (SC, const char *account, const char *blob_id, const char *type, const char *id),            \
      (c, account, blob_id, type, id))                                                             \
    X(int, blob_unref_object, (SC, const char *account, const char *type, const char *id),         \
      (c, account, type, id))                                                                      \
    X(int, blob_refs, (SC, const char *account, const char *blob_id, store_ref_cb cb, void *ud),   \
      (c, account, blob_id, cb, ud))                                                               \
    X(int, blob_gc, (SC, int64_t max_age), (c, max_age))                                           \
    X(int, index_put,                                                                              \
      (SC, const char *account, const char *type, const char *id, const struct store_index *ix),   \
      (c, account, type, id, ix))                                                                  \
    X(int, index_del, (SC, const char *account, const char *type, const char *id),                 \
      (c, account, type, id))                                                                      \
    X(int, index_find_uid,                                                                         \
      (SC, const char *account, const char *type, const char *uid, store_name_cb cb, void *ud),    \
      (c, account, type, uid, cb, ud))                                                             \
    X(int, index_spans,                                                                            \
      (SC, const char *account, const char *type, bool has_from, int64_t from, bool has_to,        \
       int64_t to, store_span_cb cb, void *ud),                                                    \
      (c, account, type, has_from, from, has_to, to, cb, ud))                                      \
    X(int64_t, object_modseq, (SC, const char *account, const char *type, const char *id),         \
      (c, account, type, id))                                                                      \
    X(int, text_search,                                                                            \
      (SC, const char *account, const char *type, const struct store_text_term *terms,             \
       size_t nterms, store_name_cb cb, void *ud),                                                 \
      (c, account, type, terms, nterms, cb, ud))                                                   \
    X(int, feed_add,                                                                               \
      (SC, const char *hash, const char *id, const char *account, const char *kind,                \
       const char *object_id),                                                                     \
      (c, hash, id, account, kind, object_id))                                                     \
    X(int, feed_lookup,                                                                            \
      (SC, const char *hash, char account[64], char kind[32], char object_id[64]),                 \
      (c, hash, account, kind, object_id))                                                         \
    X(int, feed_revoke, (SC, const char *id), (c, id))                                             \
    X(int, index_ordered,                                                                          \
      (SC, const char *account, const char *type, bool desc, int64_t offset, int64_t limit,        \
       store_order_cb cb, void *ud),                                                               \
      (c, account, type, desc, offset, limit, cb, ud))                                             \
    X(int, index_ordered_after,                                                                    \
      (SC, const char *account, const char *type, bool desc, int64_t order, const char *id,        \
       int64_t offset, int64_t limit, store_order_cb cb, void *ud),                                \
      (c, account, type, desc, order, id, offset, limit, cb, ud))                                  \
    X(int, index_unordered,                                                                        \
      (SC, const char *account, const char *type, store_order_cb cb, void *ud),                    \
      (c, account, type, cb, ud))                                                                  \
    X(int64_t, index_rank,                                                                         \
      (SC, const char *account, const char *type, bool desc, int64_t order, const char *id),       \
      (c, account, type, desc, order, id))                                                         \
    X(int, index_count,                                                                            \
      (SC, const char *account, const char *type, int64_t *ordered, int64_t *unordered),           \
      (c, account, type, ordered, unordered))                                                      \
    X(int, group_add, (SC, const char *id, const char *name), (c, id, name))                       \
    X(int, group_get, (SC, const char *name, char id[64]), (c, name, id))                          \
    X(int, group_del, (SC, const char *id), (c, id))                                               \
    X(int, group_member, (SC, const char *group_id, int64_t user_id, bool add),                    \
      (c, group_id, user_id, add))                                                                 \
    X(int, user_groups, (SC, int64_t user_id, store_name_cb cb, void *ud), (c, user_id, cb, ud))   \
    X(int, group_members, (SC, const char *group_id, store_member_cb cb, void *ud),                \
      (c, group_id, cb, ud))                                                                       \
    X(int, share_set,                                                                              \
      (SC, const char *account, const char *type, const char *object_id,                           \
       const struct store_share *shares, size_t n),                                                \
      (c, account, type, object_id, shares, n))                                                    \
    X(json_t *, user_props_get,                                                                    \
      (SC, int64_t user_id, const char *account, const char *type, const char *object_id),         \
      (c, user_id, account, type, object_id))                                                      \
    X(int, user_props_put,                                                                         \
      (SC, int64_t user_id, const char *account, const char *type, const char *object_id,          \
       json_t *data),                                                                              \
      (c, user_id, account, type, object_id, data))                                                \
    X(int, user_props_prefetch,                                                                    \
      (SC, int64_t user_id, const char *account, const char *type, const char *const *ids,         \
       size_t n),                                                                                  \
      (c, user_id, account, type, ids, n))                                                         \
    X(int64_t, user_props_list,                                                                    \
      (SC, int64_t user_id, const char *account, const char *type, int64_t limit,                  \
       int (*cb)(const char *object_id, json_t *data, void *ud), void *ud),                        \
      (c, user_id, account, type, limit, cb, ud))                                                  \
    X(int, members_put,                                                                            \
      (SC, const char *account, const char *type, const char *id, const char *const *collections,  \
       size_t n, bool has_order, int64_t order),                                                   \
      (c, account, type, id, collections, n, has_order, order))                                    \
    X(int, members_ordered,                                                                        \
      (SC, const char *account, const char *type, const char *collection, bool desc, bool after,   \
       int64_t order, const char *id, int64_t offset, int64_t limit, store_order_cb cb, void *ud), \
      (c, account, type, collection, desc, after, order, id, offset, limit, cb, ud))               \
    X(int, object_prefetch,                                                                        \
      (SC, const char *account, const char *type, const char *const *ids, size_t n),               \
      (c, account, type, ids, n))                                                                  \
    X(int, user_by_account, (SC, const char *account_id, struct store_user *out),                  \
      (c, account_id, out))                                                                        \
    X(int, text_hits,                                                                              \
      (SC, const char *account, const char *type, const struct store_text_term *terms,             \
       size_t nterms, store_hit_cb cb, void *ud),                                                  \
      (c, account, type, terms, nterms, cb, ud))                                                   \
    X(int, grams_put,                                                                              \
      (SC, const char *account, const char *type, const char *id, const struct store_grams *g),    \
      (c, account, type, id, g))                                                                   \
    X(int, grams_del, (SC, const char *account, const char *type, const char *id),                 \
      (c, account, type, id))                                                                      \
    X(int, grams_search,                                                                           \
      (SC, const char *account, const char *type, const struct store_gram_term *terms,             \
       size_t nterms, store_name_cb cb, void *ud),                                                 \
      (c, account, type, terms, nterms, cb, ud))                                                   \
    X(int, grams_facets,                                                                           \
      (SC, const char *account, const char *type, const char *id, store_facets_cb cb, void *ud),   \
      (c, account, type, id, cb, ud))                                                              \
    X(int, grams_missing, (SC, const char *account, const char *type, store_name_cb cb, void *ud), \
      (c, account, type, cb, ud))                                                                  \
    X(int, grams_ordered,                                                                          \
      (SC, const char *account, const char *type, int k, const void *from, size_t from_len,        \
       int64_t offset, int64_t limit, store_key_cb cb, void *ud),                                  \
      (c, account, type, k, from, from_len, offset, limit, cb, ud))                                \
    X(int64_t, grams_count_hits,                                                                   \
      (SC, const char *account, const char *type, const struct store_gram_term *terms,             \
       size_t nterms),                                                                             \
      (c, account, type, terms, nterms))                                                           \
    X(int, snapshot_put, (SC, const char *account, const char *key, const char *ids),              \
      (c, account, key, ids))                                                                      \
    X(char *, snapshot_get, (SC, const char *account, const char *key), (c, account, key))         \
    X(int, snapshot_gate, (SC, const char *account), (c, account))                                 \
    X(int64_t, counter_add, (SC, const char *key, int64_t window, int64_t now),                    \
      (c, key, window, now))                                                                       \
    X(int64_t, counter_get, (SC, const char *key, int64_t window, int64_t now),                    \
      (c, key, window, now))                                                                       \
    X(int, slot_take, (SC, int64_t user_id, int kind, int64_t max, int64_t *slot),                 \
      (c, user_id, kind, max, slot))                                                               \
    X(int, slot_release, (SC, int64_t slot), (c, slot))                                            \
    X(int, alert_put, (SC, const struct store_alert *a), (c, a))                                   \
    X(int, alert_get, (SC, struct store_alert * a), (c, a))                                        \
    X(int, alert_claim, (SC, const struct store_alert *old, int64_t next_check, int64_t fired),    \
      (c, old, next_check, fired))                                                                 \
    X(int, alert_del, (SC, const char *account, const char *type, const char *object_id),          \
      (c, account, type, object_id))                                                               \
    X(int, alert_due, (SC, int64_t now, int max, store_alert_cb cb, void *ud),                     \
      (c, now, max, cb, ud))                                                                       \
    X(int, alert_users,                                                                            \
      (SC, const char *account, const char *type, const char *object_id, store_member_cb cb,       \
       void *ud),                                                                                  \
      (c, account, type, object_id, cb, ud))                                                       \
    X(int, alert_touch, (SC, const char *account, const char *type, int64_t now),                  \
      (c, account, type, now))                                                                     \
    X(int, pushsub_put, (SC, const char *id, int64_t user_id, const char *cred, const char *data), \
      (c, id, user_id, cred, data))                                                                \
    X(int, pushsub_del, (SC, const char *id), (c, id))                                             \
    X(int, pushsub_list, (SC, int64_t user_id, store_pushsub_cb cb, void *ud),                     \
      (c, user_id, cb, ud))                                                                        \
    X(int, metadata_get,                                                                           \
      (SC, const char *account, const char *type, const char *const *ids, size_t n,                \
       int64_t user_id, store_metadata_cb cb, void *ud),                                           \
      (c, account, type, ids, n, user_id, cb, ud))                                                 \
    X(int, metadata_scan,                                                                          \
      (SC, const char *account, const char *type, int64_t user_id, store_metadata_cb cb,           \
       void *ud),                                                                                  \
      (c, account, type, user_id, cb, ud))                                                         \
    X(int, metadata_put,                                                                           \
      (SC, const char *account, const char *type, const char *id, int64_t user_id,                 \
       const char *data, int64_t modseq),                                                          \
      (c, account, type, id, user_id, data, modseq))                                               \
    X(int, metadata_drop,                                                                          \
      (SC, const char *account, const char *type, const char *id, int64_t *freed),                 \
      (c, account, type, id, freed))                                                               \
    X(int, metadata_changes,                                                                       \
      (SC, const char *account, const char *type, int64_t user_id, int64_t since, size_t max,      \
       store_metadata_cb cb, void *ud),                                                            \
      (c, account, type, user_id, since, max, cb, ud))                                             \
    X(int64_t, metadata_usage, (SC, const char *account), (c, account))                            \
    X(int, metadata_usage_add, (SC, const char *account, int64_t delta), (c, account, delta))      \
    X(int, metadata_state_get,                                                                     \
      (SC, const char *account, const char *type, int64_t *last_private, int64_t *shared),         \
      (c, account, type, last_private, shared))                                                    \
    X(int, metadata_state_put,                                                                     \
      (SC, const char *account, const char *type, int64_t last_private, int64_t shared),           \
      (c, account, type, last_private, shared))                                                    \
    X(int, metadata_viewer,                                                                        \
      (SC, const char *account, const char *type, int64_t user_id, int64_t *modseq,                \
       int64_t *last_private, int64_t *shared, int64_t *mine),                                     \
      (c, account, type, user_id, modseq, last_private, shared, mine))                             \
    X(int, metadata_with_key,                                                                      \
      (SC, const char *account, const char *type, int64_t user_id, const char *key,                \
       store_metadata_cb cb, void *ud),                                                            \
      (c, account, type, user_id, key, cb, ud))                                                    \
    X(int, davlock_put, (SC, const struct store_davlock *l), (c, l))                               \
    X(int, davlock_del, (SC, const char *token), (c, token))                                       \
    X(int, davlock_prune, (SC, int64_t now), (c, now))                                             \
    X(int, davlock_list, (SC, int64_t now, store_davlock_cb cb, void *ud), (c, now, cb, ud))       \
    X(int, changes_prefetch,                                                                       \
      (SC, const char *account, const char *type, int64_t since, size_t max),                      \
      (c, account, type, since, max))                                                              \
    X(int, state_prefetch, (SC, const char *account, const char *type, int64_t user_id),           \
      (c, account, type, user_id))                                                                 \
    X(int, keys_expect,                                                                            \
      (SC, const char *account, const char *type, const char *const *keys,                         \
       const char *const *uids, size_t n),                                                         \
      (c, account, type, keys, uids, n))

#define STORE_OP_FIELD(ret, name, params, args) ret(*name) params;
struct store_ops {
    const char *name; /* "sqlite", "postgresql" */
    void (*close)(struct store *st);
    struct store_conn *(*conn)(struct store *st);
    void (*rollback)(struct store_conn *c);
    void (*retry_mark)(struct store_conn *c);
    /* NULL: one process only, nothing to tell others */
    struct store_bus *(*bus_open)(struct store *st, void (*cb)(const char *msg, void *ud),
                                  void *ud);
    STORE_OPS(STORE_OP_FIELD)
};

/* Declares a backend's functions as static prefix_name and its table as
 * prefix_ops; the backend then defines each function. */
#define STORE_OP_DECL(ret, name, params, args) static ret STORE_OP_PFX(name) params;
#define STORE_OP_INIT(ret, name, params, args) .name = STORE_OP_PFX(name),

/* The backends' open functions (store.c chooses). */
struct store *store_sqlite_open(const char *dir, char **err);
struct store *store_pg_open(const char *url, char **err);
void store_sqlite_set_busy_timeout(int ms);
void store_sqlite_set_page_cache(int kib);
void store_sqlite_set_bulk_writes(bool on);
/* Issue 21: the class of a range's length for the span scan (store_index_spans):
 * the bit length of end - start, SPAN_CLASS_OPEN for an open or longer range. A
 * row of class k < SPAN_CLASS_OPEN that reaches from starts after from - 2^k. */
#define SPAN_CLASS_OPEN 41
int store_span_class(const struct store_index *ix);
/* The SQLite schema version this jmapd writes (sqlite.c's migrations). */
int store_sqlite_schema(void);
void store_pg_set_busy_timeout(int ms);
int store_pg_bus_send(struct store_bus *b, const char *msg);
/* SQLite's bus between the processes of one data directory (sqlite_bus.c). */
struct store_bus *store_sq_bus_open(const char *db_path, void (*cb)(const char *msg, void *ud),
                                    void *ud);
bool store_sq_bus_owns(struct store_bus *b);
int store_sq_bus_send(struct store_bus *b, const char *msg);
void store_sq_bus_close(struct store_bus *b);
void store_pg_bus_close(struct store_bus *b);

/* An object's stored text: compact JSON, the text of json_dumps(j, JSON_COMPACT) made by
 * formats/json/writer.c several times faster (issue 14: half the cost of an invitation to
 * 100 attendees was json_dumps). malloc'd; NULL for NULL. */
char *store_json_text(const json_t *j);

#endif
