/*
 * metadata.h — JMAP Object Metadata (draft-ietf-jmap-metadata-02, issue 18) in the
 * standard-method engine: every type whose descriptor sets `metadata` gains the
 * `metadata` and per-user `privateMetadata` properties, and the engine (engine.c,
 * query.c) calls these to check, store, show and report them. The values live
 * beside the objects (store.h object metadata), never inside them, so converters
 * and type hooks never see them. Engine-internal: types only set the flag.
 */
#ifndef JMAPD_METADATA_H
#define JMAPD_METADATA_H

#include "jmap/engine_internal.h"

#define METADATA_CAPABILITY "urn:ietf:params:jmap:metadata"

extern const struct jcapability metadata_capability;

/* §2.1: 1 a registered name, 2 a domain name, 0 not a namespace identifier. */
int metadata_ns_kind(const char *ns);
/* §2.1: the depth of a namespace value (an object of scalars: 1). */
size_t metadata_depth(json_t *v);

/* Whether the request sees t's metadata: t opts in and `using` names the capability. */
bool metadata_on(struct jmap_req *r, const struct jtype *t);

/* The type's state as this user sees it (§2.2): another user's private writes do
 * not advance it. Inside a transaction. */
int64_t metadata_type_state(struct jmap_req *r, const struct jtype *t, const char *account);

/* ---- /copy (RFC 8620 §5.4) ---- */
/* A copy carries the original's metadata and the user's privateMetadata like its other
 * properties (§2: they "behave like any other property"): puts both, as the user
 * sees them on object id of account, into given (the copy's create entry). */
void metadata_copy_into(struct jmap_req *r, const struct jtype *t, const char *account,
                        const char *id, json_t *given);

/* ---- /get (§3.1) ---- */
struct metadata_sel {
    bool shared_all, private_all;
    json_t *shared_ns, *private_ns; /* namespaces asked for by subselector, or NULL */
};
/* Takes the metadata entries out of props: *rest (new, or NULL when props is NULL)
 * is what the type's view gets. -1 after emitting invalidArguments. */
int metadata_props(struct jmap_req *r, const struct jtype *t, json_t *props, json_t **rest,
                   struct metadata_sel *sel);
/* Adds the selected metadata to every object of list (views, with their ids). */
void metadata_attach(struct jmap_req *r, const struct jtype *t, const char *account,
                     const struct metadata_sel *sel, json_t *list);
void metadata_sel_free(struct metadata_sel *sel);

/* ---- /set (§3.2) ---- */
/* create: moves `metadata` and `privateMetadata` of given (a copy the caller owns)
 * into *md ({"metadata":…, "privateMetadata":…}, new), checking them; problems go
 * to invalid. */
void metadata_create_take(struct jset *s, json_t *given, json_t *invalid, json_t **md);
/* create: after the object id is stored: quota, then the rows. A SetError or NULL. */
json_t *metadata_create_store(struct jset *s, const char *id, json_t *md);
/* update: whether the patch touches metadata, and the split of it: *md_patch the
 * metadata keys, *rest the others (both new). */
bool metadata_patch_split(struct jmap_req *r, const struct jtype *t, json_t *patch,
                          json_t **md_patch, json_t **rest);
/* update: checks md_patch on object old in the draft's order (forbidden, private
 * support, namespace, depth) and the quota; *plan (new) is what to store. */
json_t *metadata_update_check(struct jset *s, json_t *old, json_t *md_patch, json_t **plan);
/* Stores a checked plan for object id: each changed row at a new modseq. */
json_t *metadata_update_store(struct jset *s, const char *id, json_t *plan);
/* Whether every update of the /set is a metadata-only patch and there are no
 * creates and destroys: then a read-only sharee may write their privateMetadata. */
bool metadata_set_only(struct jmap_req *r, const struct jtype *t, json_t *args);
/* Destroyed object: its rows go, and their bytes from the usage. */
int metadata_object_destroyed(struct store_conn *c, const struct jtype *t, const char *account,
                              const char *id);

/* ---- /changes (§3.3) ---- */
extern const struct argspec metadata_changes_args[];
/* The whole /changes of a type with metadata (the caller began it): the objects'
 * and the metadata rows' changes as the user sees them; updatedProperties when the
 * request uses the capability (md). */
void metadata_changes(struct jmap_req *r, const struct jtype *t, const struct store_access *a,
                      json_t *args, int64_t since, int64_t current, size_t max, bool md);

/* ---- /query (§3.5) ---- */
/* A metadata FilterCondition key: 1 valid, -2 bad value (invalidArguments), 0 not
 * a metadata key. */
int metadata_filter_check(struct jmap_req *r, const struct jtype *t, const char *key,
                          json_t *value);
/* Whether the filter (any depth) holds a metadata condition. */
bool metadata_filter_uses(struct jmap_req *r, const struct jtype *t, json_t *filter);
/* 1 match, 0 not, -1 not a metadata key. */
int metadata_filter_match(struct jmap_req *r, const struct jtype *t, json_t *obj, const char *key,
                          json_t *value);
/* The ids that can match filter by its metadata conditions alone (new; from the
 * store's key index), or NULL when the filter does not narrow them (no metadata
 * condition on every path through it, or one under NOT). */
json_t *metadata_candidates(struct jmap_req *r, const struct jtype *t, json_t *filter);
/* Ends the query's metadata cache. */
void metadata_query_done(void);
/* /queryChanges: adds to changed the ids whose metadata (shared or the user's
 * private) changed since (true: they existed then). */
void metadata_changed_ids(struct jmap_req *r, const struct jtype *t, const char *account,
                          int64_t since, json_t *changed);

#endif
