/*
 * engine_internal.h — internals shared by the standard-method files (engine.c,
 * query.c, copy.c): the /set in progress and the create path /copy shares. Types
 * never include this; they use the public API in engine.h.
 */
#ifndef JMAPD_ENGINE_INTERNAL_H
#define JMAPD_ENGINE_INTERNAL_H

#include "jmap/engine.h"

struct jset {
    struct jmap_req *r;
    const struct jtype *t;
    const char *account;
    json_t *args;
    json_t *created, *updated, *destroyed;
    json_t *not_created, *not_updated, *not_destroyed;
    json_t *created_cids; /* new id -> creation id, for reporting server changes */
    json_t *reasons;      /* path -> why it is invalid, for the object being checked */
    bool prechecked;      /* validate runs on an object precheck passed */
    json_t *apart;        /* property -> value stored for the user alone (jset_keep_apart) */
    json_t *patch;        /* the update being applied (borrowed), NULL otherwise */
    json_t *inst_patch;   /* ... when it is that of an instance (synthetic id): its own */
    const char *inst_id;  /* patch and the id (borrowed), NULL otherwise (jset_instance_patch) */
    json_t *md_pending;   /* creation id -> its metadata (metadata.c), checked before the lock */
};

void jset_init(struct jset *s, struct jmap_req *r, const struct jtype *t, const char *account,
               json_t *args);
void jset_fini(struct jset *s);
/* Validates and stores one new object; returns a SetError or NULL with *created
 * set to the properties the client did not send. */
json_t *jset_create(struct jset *s, const char *cid, json_t *given, json_t **created);

/* The object as /get shows it to the user of access a (obj borrowed; decorated in
 * place); NULL if hidden. */
json_t *engine_get_view(struct jmap_req *r, const struct jtype *t, const struct store_access *a,
                        json_t *obj, json_t *props, json_t *args);
/* The invalidProperties SetError of invalid with the reasons jset_invalid gave. */
json_t *engine_invalid_error(struct jset *s, json_t *invalid);

/* Responds with "<Type>/<suffix>". */
void engine_respond(struct jmap_req *r, const struct jtype *t, const char *suffix, json_t *args);
/* Parses a client state for account/type inside a transaction: the modseq, or -1
 * if it is not one the server can calculate changes from. */
int64_t engine_since(struct jmap_req *r, const char *account, const struct jtype *t,
                     const char *since, int64_t *current);

/* Query result snapshots for exact /queryChanges (query.c). */
json_t *engine_snapshot_load(struct store_conn *c, const char *account, const char *type,
                             json_t *args, int64_t state);
void engine_snapshot_clear(void);
/* The removed/added lists of §5.6 (see query.c). */
int engine_query_diff(json_t *old, json_t *now, json_t *changed,
                      const char *(*base_of)(const char *id, char buf[96]), json_t *removed,
                      json_t *added);
#endif
