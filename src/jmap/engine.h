/*
 * engine.h — internals shared by the standard-method files (engine.c, query.c,
 * copy.c). Types use the jset_* accessors in jmap.h, not this struct.
 */
#ifndef JMAPD_ENGINE_H
#define JMAPD_ENGINE_H

#include "jmap/jmap.h"

struct jset {
    struct jmap_req *r;
    const struct jtype *t;
    const char *account;
    json_t *args;
    json_t *created, *updated, *destroyed;
    json_t *not_created, *not_updated, *not_destroyed;
    json_t *created_cids; /* new id -> creation id, for reporting server changes */
};

void jset_init(struct jset *s, struct jmap_req *r, const struct jtype *t, const char *account,
               json_t *args);
void jset_fini(struct jset *s);
/* Validates and stores one new object; returns a SetError or NULL with *created
 * set to the properties the client did not send. */
json_t *jset_create(struct jset *s, const char *cid, json_t *given, json_t **created);

/* Responds with "<Type>/<suffix>". */
void engine_respond(struct jmap_req *r, const struct jtype *t, const char *suffix, json_t *args);
/* Parses a client state for account/type inside a transaction: the modseq, or -1
 * if it is not one the server can calculate changes from. */
int64_t engine_since(struct jmap_req *r, const char *account, const struct jtype *t,
                     const char *since, int64_t *current);

/* The start of /changes and /queryChanges: maxChanges > 0, the account, a read
 * transaction, and the client's state (args[since_key]) checked. Returns the
 * account with the transaction open, or NULL after emitting the error. */
const struct store_access *engine_changes_begin(struct jmap_req *r, const struct jtype *t,
                                                json_t *args, const char *since_key,
                                                int64_t *since, int64_t *current);
/* Checks a sort's comparators against the type's compare hook and collations. */
int engine_sort_check(struct jmap_req *r, const struct jtype *t, json_t *sort);
/* Checks a filter's shape and that the type's filter hook (called with a NULL
 * object) accepts every condition; emits invalidArguments or unsupportedFilter
 * and returns -1 otherwise. */
int engine_filter_check(struct jmap_req *r, const struct jtype *t, json_t *f, int depth);
/* Responds to a /query with the window of ids that position/anchor/limit select. */
int engine_query_respond(struct jmap_req *r, const struct jtype *t, const char *account,
                         json_t *args, json_t *ids, int64_t state);
/* Query result snapshots for exact /queryChanges (query.c). */
void engine_snapshot_save(const char *account, const char *type, json_t *args, int64_t state,
                          json_t *ids);
json_t *engine_snapshot_load(const char *account, const char *type, json_t *args, int64_t state);
void engine_snapshot_clear(void);
/* The removed/added lists of §5.6 (see query.c). */
int engine_query_diff(json_t *old, json_t *now, json_t *changed,
                      const char *(*base_of)(const char *id, char buf[96]), json_t *removed,
                      json_t *added);
/* The ids of type changed in account since a state, each mapped to true if it may
 * have been in results at that state (it existed then), for engine_query_diff. */
json_t *engine_changed_ids(struct store_conn *c, const char *account, const char *type,
                           int64_t since);
/* Finishes a /queryChanges (RFC 8620 §5.6): the diff of the results at since (from
 * the snapshot, else from changed) against now, now kept as current's snapshot, then
 * the response, or cannotCalculateChanges / tooManyChanges (maxChanges). base_of as
 * for engine_query_diff. Borrows now and changed. */
int engine_query_changes_respond(struct jmap_req *r, const struct jtype *t, const char *account,
                                 json_t *args, int64_t since, int64_t current, json_t *now,
                                 json_t *changed,
                                 const char *(*base_of)(const char *id, char buf[96]));
/* Validates and applies the common /query and /queryChanges argument shapes. */
extern const struct argspec engine_query_args[], engine_query_changes_args[];

#endif
