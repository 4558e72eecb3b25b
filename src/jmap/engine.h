/*
 * engine.h — the standard-method engine's public API (RFC 8620 §5), for the data
 * types' hooks and custom methods (types/): the method prologue, the one object
 * write, accessors of a /set in progress, and the pieces a custom /query or
 * /queryChanges is built from. The engine's own state (struct jset) stays in
 * engine_internal.h.
 */
#ifndef JMAPD_ENGINE_H
#define JMAPD_ENGINE_H

#include "jmap/jmap.h"

/* ---- the request ---------------------------------------------------------------- */

/* The request's database connection (the method's transaction runs on it). */
struct store_conn *jmap_req_conn(struct jmap_req *r);
/* The user's access to account id, or NULL if they cannot use it. */
const struct store_access *jmap_req_access(struct jmap_req *r, const char *account);

/* The state string's modseq of type t in account as the request's user sees it:
 * the type's state, except that another user's private metadata writes do not
 * advance it (draft-ietf-jmap-metadata-02 §2.2). Inside a transaction. */
int64_t jmap_type_state(struct jmap_req *r, const struct jtype *t, const char *account);
/* Says that jmap_type_state(r, t, account) will be asked after the transaction's next
 * read (store_state_prefetch: on PostgreSQL both cost one round trip). */
void jmap_type_state_prefetch(struct jmap_req *r, const struct jtype *t, const char *account);

/* Runs one method call, run(r, ud), and runs it again from its start when the database
 * refused its transaction for another's sake (store_retryable; issue 15 §1): the
 * refused attempt's responses, creation ids and push changes are dropped. */
void jmap_call_run(struct jmap_req *r, void (*run)(struct jmap_req *r, void *ud), void *ud);

/* ---- the method prologue ---------------------------------------------------------- */

/* Opens the method's transaction (a write one if write); -1 after emitting
 * serverFail if the database cannot start one. */
int jmap_txn_begin(struct jmap_req *r, bool write);
/* The start of most methods on one account: checks args against a and b (skipped
 * when a is NULL), finds the account args[account_key] and opens the transaction.
 * flags: JMAP_BEGIN_WRITE (the account must be writable; a write transaction),
 * JMAP_BEGIN_NO_TXN (the caller opens it later, after checks that need no
 * database: validation never waits for or holds the write lock). Returns the
 * account, or NULL after emitting the method error. */
#define JMAP_BEGIN_WRITE 1u
#define JMAP_BEGIN_NO_TXN 2u
const struct store_access *jmap_method_begin(struct jmap_req *r, json_t *args,
                                             const struct argspec *a, const struct argspec *b,
                                             const char *account_key, unsigned flags);
/* The two accounts of a copy (RFC 8620 §5.4, §6.3): args.fromAccountId, readable
 * (else fromAccountNotFound), into *from, and the writable args.accountId,
 * returned; NULL after emitting the method error. Opens no transaction. */
const struct store_access *jmap_copy_accounts(struct jmap_req *r, json_t *args,
                                              const struct store_access **from);

/* ---- the object write ---------------------------------------------------------------- */

/* The one way an object of type t is stored, inside the caller's write
 * transaction: bumps t's state in account, stores obj under id (create: a new
 * object; obj NULL: destroys it), keeps its blob references (t->blob_ids) and the
 * type's side indexes (t->index), and, within a request (r not NULL), records the
 * new state for push after the commit. The engine, provisioning and importers all
 * write through it. Returns 0, STORE_EXISTS if t->unique_key's key is another
 * live object's (nothing is stored), or -1. */
int jmap_object_write(struct store_conn *c, struct jmap_req *r, const struct jtype *t,
                      const char *account, const char *id, json_t *obj, bool create);

/* A front end's hook around the API requests it runs on its thread (DAV: the resource
 * name a PUT chose is written in the same transaction as the object, issue 20 §4): each
 * /set calls fn inside its write transaction just before the commit, with the type and
 * its created map (creation id -> {"id": ...}); a non-zero return rolls the /set back
 * (serverFail). NULL clears it. */
typedef int (*jmap_precommit_fn)(struct store_conn *c, const char *account, const char *type,
                                 json_t *created, void *ud);
void jmap_precommit_set(jmap_precommit_fn fn, void *ud);

/* ---- a /set in progress (type hooks) --------------------------------------------------- */

/* Accessors for type hooks during a /set. */
struct jmap_req *jset_req(struct jset *s);
struct store_conn *jset_conn(struct jset *s);
const char *jset_account(struct jset *s);
/* The user's access to the /set's account. */
const struct store_access *jset_access(struct jset *s);
/* In a validate hook: whether the type's precheck already passed this object. */
bool jset_prechecked(struct jset *s);
json_t *jset_args(struct jset *s);
const struct jtype *jset_type(struct jset *s);
/* Writes another object of the same account during the /set (server-side changes,
 * e.g. clearing isDefault elsewhere) through jmap_object_write, and reports
 * server_changes in created/updated as the server's change. Returns 0 or -1. */
int jset_write_other(struct jset *s, const struct jtype *t, const char *id, json_t *obj,
                     json_t *server_changes);
/* Destroys an object of another type (e.g. events of a destroyed calendar). */
int jset_destroy_other(struct jset *s, const struct jtype *t, const char *id);
/* Adds path to invalid (once) and says why it is invalid: the invalidProperties
 * SetError's description names each property and the reason (RFC 8620 §5.3).
 * s may be NULL (imports), then only the path is added. */
void jset_invalid(struct jset *s, json_t *invalid, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* In a validate hook of an update: the user's new value of prop is stored for them
 * alone (a per-user property of a shared object, calendars-27 §5.4), so obj keeps the
 * shared value; the update is still a change (state bump) and `updated` does not
 * report prop as the server's change. */
void jset_keep_apart(struct jset *s, const char *prop, json_t *value);
/* In a validate hook: the PatchObject of the update being checked, or NULL. */
json_t *jset_patch(struct jset *s);
/* In a validate hook of the stored object's update made for an update of one of its
 * synthetic ids (jtype.synthetic_update): the client's patch of that id, and the id in
 * *id; NULL otherwise (calendars-27 §5.4: what a sharee named on an occurrence). */
json_t *jset_instance_patch(struct jset *s, const char **id);
/* The real id of a creation made in this request, or the id itself. */
const char *jset_resolve(struct jset *s, const char *id);

int jmap_std_get(struct jmap_req *r, const struct jtype *t, json_t *args);
int jmap_std_set(struct jmap_req *r, const struct jtype *t, json_t *args);
int jmap_std_changes(struct jmap_req *r, const struct jtype *t, json_t *args);
int jmap_std_query(struct jmap_req *r, const struct jtype *t, json_t *args);
int jmap_std_query_changes(struct jmap_req *r, const struct jtype *t, json_t *args);
int jmap_std_copy(struct jmap_req *r, const struct jtype *t, json_t *args);

/* ---- building blocks of a custom /query, /queryChanges ------------------------------ */

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
/* A metadata FilterCondition (draft-ietf-jmap-metadata-02 §3.5) for a type's own
 * matcher: 1 obj matches, 0 not, -1 key is not a metadata condition. */
int engine_metadata_match(struct jmap_req *r, const struct jtype *t, json_t *obj, const char *key,
                          json_t *value);
/* A /get view's last step: obj (taken) limited to id and props (NULL: all of it). */
json_t *engine_select_props(json_t *obj, json_t *props);
/* For a type's query_run that narrowed the candidates by an index: the ids of the
 * objects (borrowed) that match filter, ordered by sort, as the standard /query
 * would order them (a new array). */
json_t *engine_query_filter_sort(struct jmap_req *r, const struct jtype *t, json_t *objects,
                                 json_t *filter, json_t *sort);
/* Responds to a /query with the window of ids that position/anchor/limit select. */
int engine_query_respond(struct jmap_req *r, const struct jtype *t, const char *account,
                         json_t *args, json_t *ids, int64_t state);
/* The same for a type that found the page itself (issue 21: from an index, without a
 * list of every result): ids are the results from index first on, at least the page
 * position/limit select (position already made non-negative against total, no anchor). */
int engine_query_respond_page(struct jmap_req *r, const struct jtype *t, const char *account,
                              json_t *args, json_t *ids, int64_t first, int64_t total,
                              int64_t state);
/* Sharing (issue 14): removes from ids (in place) the objects the user may not see
 * (t->visible) when a is reached through shares; inside a read transaction. */
void engine_visible_filter(struct jmap_req *r, const struct jtype *t, const struct store_access *a,
                           json_t *ids);
/* Sharing (issue 14, RFC 9670 §4) in /changes: what a change of object id means for a
 * user who reaches account a through shares (a NULL: not filtered). created: the object
 * was created after since; destroyed: it is gone. SHAREE_AS_IS: report it as it is;
 * SHAREE_DESTROYED: report it destroyed (they saw it, and no longer can); SHAREE_NOTHING:
 * report nothing (they never could see it). */
enum sharee_change { SHAREE_AS_IS, SHAREE_DESTROYED, SHAREE_NOTHING };
enum sharee_change engine_sharee_change(struct jmap_req *r, const struct jtype *t,
                                        const struct store_access *a, const char *id, bool created,
                                        bool destroyed, int64_t since);
/* Whose view the next snapshots hold (jmap_account sets it: "" or the sharee). */
void engine_snapshot_scope(const char *scope);
/* The user of the method (jmap_account sets it): a query on private metadata
 * (draft-ietf-jmap-metadata-02 §3.5) is the user's own even on a full view. */
void engine_snapshot_user(const char *user);
/* Query result snapshots for exact /queryChanges (query.c). */
void engine_snapshot_save(struct store_conn *c, const char *account, const char *type,
                          json_t *args, int64_t state,
                          json_t *ids);
/* The ids of type changed in account since a state, each mapped to true if it may
 * have been in results at that state (it existed then), for engine_query_diff. */
json_t *engine_changed_ids(struct store_conn *c, const char *account, const char *type,
                           int64_t since);
/* Adds to changed (as engine_changed_ids) the ids of t whose metadata the user can
 * see changed since (draft-ietf-jmap-metadata-02 §3.4: another user's private
 * metadata never); nothing for a type without metadata. */
void engine_metadata_changed_ids(struct jmap_req *r, const struct jtype *t, const char *account,
                                 int64_t since, json_t *changed);
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
