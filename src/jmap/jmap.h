/*
 * jmap.h — the JMAP protocol layer (RFC 8620): the request object, method
 * registry, error catalogue, argument checking and the standard-method engine
 * driven by type descriptors. http/ hands a request body to jmap_api_handle();
 * types/ describe data types with struct jtype and register them here.
 */
#ifndef JMAPD_JMAP_H
#define JMAPD_JMAP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "util/config.h"

/* The capabilities of the protocol layer itself; the data types' own URIs live in
 * their modules (types/). */
#define JMAP_CORE "urn:ietf:params:jmap:core"
#define JMAP_BLOB "urn:ietf:params:jmap:blob"
#define JMAP_WEBPUSH_VAPID "urn:ietf:params:jmap:webpush-vapid" /* RFC 9749 */

struct push_hub;
struct webpush;

/* What a request runs against: shared by every request of the server. */
struct jmap_server {
    struct store *store;
    struct push_hub *hub;
    const struct config *cfg;
    struct webpush *webpush; /* PushSubscription delivery (RFC 8620 §7.2), or NULL */
};

/* The authenticated user, with the accounts they may use. */
#define JMAP_MAX_ACCOUNTS 32
struct jmap_user {
    int64_t id;
    char name[256];
    int naccounts;
    struct store_access accounts[JMAP_MAX_ACCOUNTS];
    char session_state[24]; /* changes when the accounts or their rights do */
    /* The principals the user acts as (RFC 9670 §2, issue 14): their own (the id of
     * their own account, jmap_user_principal) and the groups they are in, whose
     * rights reach them. */
#define JMAP_MAX_GROUPS 32
    int ngroups;
    char groups[JMAP_MAX_GROUPS][64];
    /* The accounts reached through shares of free/busy alone (store_access.readable
     * false; calendars-27 §2.1, §4.1): not among accounts, so no method, session, DAV
     * or push stream reaches them; Principal/getAvailability reads their calendars. */
    int nfreebusy;
    char freebusy[JMAP_MAX_ACCOUNTS][64];
    /* The credential of the request (http/auth.h's fingerprint): a PushSubscription
     * belongs to it (RFC 8620 §7.2). Empty when unknown. */
#define JMAP_CRED_LEN 96
    char cred[JMAP_CRED_LEN];
};
/* Who may use which account changed (a share, issue 14): anything that remembers a
 * user's accounts (the HTTP credential cache) must load them again. touch inside
 * the write, flush after its commit (the API does); generation counts changes. */
void jmap_accounts_touch(void);
/* true when the thread touched them since (the change then goes to the other front
 * ends too: push/hub.h "#accounts") */
bool jmap_accounts_flush(void);
uint64_t jmap_accounts_generation(void);
/* Another front end changed them (push_hub_on_accounts): a new generation. */
void jmap_accounts_changed_elsewhere(void);
/* The id of the user's own principal (their personal account's id), or NULL. */
const char *jmap_user_principal(const struct jmap_user *u);
/* Whether principal_id is the user's own principal or one of their groups. */
bool jmap_user_is_principal(const struct jmap_user *u, const char *principal_id);
/* Whether the user reaches account for free/busy alone (jmap_user.freebusy). */
bool jmap_user_freebusy(const struct jmap_user *u, const char *account);
/* Loads the user and their accounts; 0 or a STORE_ error. */
int jmap_user_load(struct store_conn *c, int64_t user_id, struct jmap_user *out);

/* One API request in progress. */
struct jmap_req {
    struct jmap_server *srv;
    struct store_conn *conn;
    const struct jmap_user *user;
    json_t *using;       /* capability URIs, borrowed from the request */
    json_t *responses;   /* methodResponses being built */
    json_t *created_ids; /* creation id -> id, for the whole request */
    const char *method;  /* name of the call being processed */
    const char *call_id;
    json_t *call_id_value; /* the call id as sent (it may hold U+0000), borrowed */
    json_t *call;          /* the invocation [name, args, callId], borrowed */
    const char *capability; /* of the method being processed */
    json_t *changed;     /* accountId -> {type -> state} to push after commit */
    bool referenced;     /* a later call refers to this call's result (RFC 8620 §3.7): its
                          * response holds no raw placeholder (formats/json/writer.h) */
};

/* Adds [name, args, callId] to the responses (steals args). */
void jmap_respond(struct jmap_req *r, const char *name, json_t *args);
/* Adds a method-level ["error", {type, description}, callId] (RFC 8620 §3.6.2). */
void jmap_error(struct jmap_req *r, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Steals v and returns it, or JSON null in its place if it is an empty object or
 * array (response arguments such as `created` are null when there are none). */
json_t *jmap_or_null(json_t *v);
/* A SetError object {type, description} (new reference). */
json_t *jmap_seterror(const char *type, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An invalidProperties SetError listing properties (steals the array). */
json_t *jmap_seterror_props(json_t *properties, const char *description);

/* Resolves "#creationId" through createdIds; other strings come back unchanged.
 * NULL if the reference is unknown. */
const char *jmap_resolve_id(struct jmap_req *r, const char *id);

/* Finds the account named by args[key] the user may use, checking the argument's
 * type; the account must have the method's capability, and with write=true it must
 * be writable. On failure the method error (invalidArguments, accountNotFound,
 * accountNotSupportedByMethod, accountReadOnly) is emitted and NULL returned. */
const struct store_access *jmap_account(struct jmap_req *r, json_t *args, const char *key,
                                        bool write);

/* Records that type's state in account is now state, for push after the commit. */
void jmap_note_change(struct jmap_req *r, const char *account, const char *type, int64_t state);

/* State strings: the modseq, encoded; parse returns -1 for anything else. */
json_t *jmap_state_string(int64_t modseq);
int64_t jmap_state_parse(const char *s);

/* ---- argument checking --------------------------------------------------------- */
enum arg_kind {
    ARG_ANY,
    ARG_ID,        /* Id (or "#creationId" when ARG_REF is set) */
    ARG_STRING,
    ARG_BOOL,
    ARG_UINT,      /* UnsignedInt */
    ARG_INT,
    ARG_OBJECT,
    ARG_ARRAY,
    ARG_ID_ARRAY,  /* Id[] */
    ARG_STRING_ARRAY,
};
struct argspec {
    const char *name;
    enum arg_kind kind;
    unsigned flags;
};
#define ARG_REQUIRED 1u
#define ARG_NULLABLE 2u
#define ARG_REF 4u /* ids may be "#creationId" references */

/* Checks args against one or two spec lists (unknown arguments are rejected).
 * Emits invalidArguments and returns -1 on the first problem. */
int jmap_args_check(struct jmap_req *r, json_t *args, const struct argspec *a,
                    const struct argspec *b);

/* ---- type descriptors and the standard-method engine ------------------------------ */

#define JP_SERVER_SET 1u /* only the server sets it (RFC 8620 §5.3) */
#define JP_IMMUTABLE 2u  /* set on create, never changed */
#define JP_REQUIRED 4u   /* must be given on create */

struct jprop {
    const char *name;
    unsigned flags;
    const char *dflt; /* JSON text of the default value, NULL if none */
};

enum { JM_GET = 1, JM_SET = 2, JM_CHANGES = 4, JM_QUERY = 8, JM_QUERYCHANGES = 16, JM_COPY = 32 };

struct jset; /* a /set in progress, see engine.c */

struct jtype {
    const char *name;       /* "Calendar" */
    const char *capability; /* the capability its methods need in `using` */
    const struct jprop *props;
    unsigned methods;
    char id_prefix;
    size_t max_size; /* serialized size limit of one object -> tooLarge (0: 1 MiB) */

    /* extra request arguments of /set and /get */
    const struct argspec *set_args;
    const struct argspec *get_args;
    const struct argspec *query_args;

    /* /get: fills computed properties (myRights...) on a copy about to be returned. */
    void (*decorate)(struct jmap_req *r, const struct store_access *acct, json_t *obj);
    /* /set: checks a complete object (create: old == NULL), may normalise it. Adds
     * invalid property names to `invalid`; may instead return a SetError. Runs
     * under the write lock; for a create that precheck passed, jset_prechecked(s)
     * is true and only what can change under it needs checking again. */
    json_t *(*validate)(struct jset *s, json_t *obj, json_t *old, json_t *invalid);
    /* /set and /copy creates, optional: the checks and completion that need no
     * write lock (format validation, expansion), run before the write transaction
     * with a read one open (issue 19 §4: other writers never wait for them). As
     * validate. */
    json_t *(*precheck)(struct jset *s, json_t *obj, json_t *invalid);
    /* /set: may refuse a destroy (return a SetError) or clean up what depends on it. */
    json_t *(*destroy)(struct jset *s, const char *id, json_t *old);
    /* /set and /copy: after all creates, updates and destroys (e.g. onSuccessSetIsDefault). */
    void (*finish)(struct jset *s, bool all_ok);
    /* /query: 1 match, 0 no match, -1 unsupported condition key (-> unsupportedFilter) */
    int (*filter)(struct jmap_req *r, json_t *obj, const char *key, json_t *value);
    /* /query: compares a and b on property; *ok = false if it cannot sort by it */
    int (*compare)(json_t *a, json_t *b, const char *property, bool *ok);

    /* Properties outside the table are allowed (the validate hook checks them). */
    bool open_props;
    /* /get: checks the type's own arguments once; -1 after emitting the error. */
    int (*get_prepare)(struct jmap_req *r, json_t *args);
    /* /get: builds the object to return from the stored one (replaces decorate and
     * the properties filter); props is NULL for "all". */
    json_t *(*view)(struct jmap_req *r, const struct store_access *a, json_t *obj, json_t *props,
                    json_t *args);
    /* An id that is not stored may name an object the type synthesizes (an
     * instance of a recurring event): a new reference, or NULL. */
    json_t *(*load_synthetic)(struct jmap_req *r, const char *account, const char *id);
    /* /get, if set: loads the object an id names in place of the store and
     * load_synthetic (issue 21 §2: from a type's cache, an instance without a failed
     * store look-up first). A new reference, or NULL. It may be shared (with the
     * type's cache, between threads): whoever changes it copies it first unless they
     * hold its only reference (view, metadata_attach); nested values only on copies.
     * props: the properties the /get returns (NULL: all), which is all the object
     * needs to hold for the view. It may instead return the finished view as a raw
     * placeholder (formats/json/writer.h; not when r->referenced), which the type's
     * view hook then passes on (CalendarEvent, issue 21 §2). */
    json_t *(*load)(struct jmap_req *r, const char *account, const char *id, json_t *props);
    /* /set on a synthetic id: rewrites the update (patch) or destroy (patch NULL)
     * into a patch of the stored object *base_id (both new). Returns a SetError or
     * NULL. */
    json_t *(*synthetic_update)(struct jset *s, const char *id, json_t *patch, char **base_id,
                                json_t **base_patch);
    /* After every stored change of an object of this type (obj NULL: destroyed):
     * keeps the type's side indexes in the same transaction. */
    int (*index)(struct store_conn *c, const char *account, const char *id, json_t *obj);
    /* Told of the objects a /set will update or destroy, before the first: index reads
     * per-object rows it may ask the store for at once (issue 15 §1); may be NULL. */
    void (*writes_expect)(struct store_conn *c, const char *account, const char *const *ids,
                          size_t n);
    /* /query, optional: the ordered ids matching filter and sort (both already
     * checked, either may be NULL), as a new array, inside the read transaction;
     * NULL falls back to loading every object. For types with an index or cache. */
    json_t *(*query_run)(struct jmap_req *r, const char *account, json_t *filter, json_t *sort);
    /* Blob references (RFC 9404 Blob/lookup, blob garbage collection): appends the
     * blobIds obj refers to to ids. A type with this hook is one of Blob/lookup's
     * supportedTypeNames; the object write keeps the references. */
    void (*blob_ids)(json_t *obj, json_t *ids);
    /* A key no two live objects of the type in an account may share (a uid), as a
     * new string, or NULL for none: the store enforces it (a unique index) and a
     * write that would break it fails with alreadyExists. */
    char *(*unique_key)(json_t *obj);
    /* Whether the validate hook looks up each create's `uid` property in the side index
     * (store_index_find_uid): a /set then announces its creates' uids with their keys
     * (store_keys_expect). */
    bool uid_indexed;
    /* Sharing (RFC 9670 §4, issue 14), optional: whether the user may see object id
     * in account a, asked only for an account reached through shares (a->shared).
     * /changes reports an object they may not see as destroyed (or not at all),
     * /query and /queryChanges leave it out, /copy cannot read it; /get relies on
     * view or decorate. */
    bool (*visible)(struct jmap_req *r, const struct store_access *a, const char *id);
    /* With visible, optional: whether an object the user may not see now (or one
     * destroyed) was visible to them at some point after the state since; /changes
     * reports it as destroyed only then (RFC 8620 §5.2: never an object they could
     * not see). Without it, every such object created before since is reported. */
    bool (*was_visible)(struct jmap_req *r, const struct store_access *a, const char *id,
                        int64_t since);
    /* Sharing, optional: whether the user may change obj (stored, visible to them) in
     * account a reached through shares. Without it such a user changes no shared
     * property of the type's objects (their metadata: draft-ietf-jmap-metadata-02 §4). */
    bool (*may_write)(struct jmap_req *r, const struct store_access *a, json_t *obj);
    /* Sharing, optional: whether an update (patch) changes only what a user reaching
     * the account through shares keeps for themselves (calendars-27 §4: isSubscribed and
     * the per-user properties). A /set of only such updates needs no write right on the
     * account (RFC 8620 accountReadOnly): the validate hook decides per object. */
    bool (*own_values_only)(json_t *patch);
    /* JMAP Object Metadata (draft-ietf-jmap-metadata-02, issue 18): the type gains
     * `metadata` and `privateMetadata`, which the engine keeps (jmap/metadata.c). */
    bool metadata;
};

/* Fills defaults for missing properties of obj from the type's table. */
void jtype_fill_defaults(const struct jtype *t, json_t *obj);
const struct jprop *jtype_prop(const struct jtype *t, const char *name);

/* ---- the method registry --------------------------------------------------------------- */
typedef int (*jmap_method_fn)(struct jmap_req *r, json_t *args);
void jmap_register_method(const char *name, const char *capability, jmap_method_fn fn);
/* Registers Type/get, /set, ... as the descriptor's `methods` says (jmap_init
 * does this for the modules' types). */
void jmap_register_type(const struct jtype *t);
/* Blob methods (RFC 8620 §6.3, RFC 9404) and their capability (blob.c). */
void blob_register(void);
/* PushSubscription/get and /set (RFC 8620 §7.2; push_subscription.c). */
void push_subscription_register(void);
const struct jtype *jmap_type_find(const char *name);
/* A capability of the session (RFC 8620 §2): its value in "capabilities" and its
 * value in each account's "accountCapabilities" (NULL: the account lacks it). */
struct jcapability {
    const char *uri;
    json_t *(*session_value)(const struct config *cfg);
    json_t *(*account_value)(const struct config *cfg, const struct store_access *a);
    /* whether an account has the capability (NULL: every account has it); a
     * method of the capability on another account is accountNotSupportedByMethod */
    bool (*account_supports)(const struct store_access *a);
    /* in place of account_value when the value depends on the user (RFC 9670 §1.5) */
    json_t *(*account_value_for)(const struct config *cfg, const struct jmap_user *user,
                                 const struct store_access *a);
    /* only a key of accountCapabilities, never in the session's capabilities nor in
     * `using` (RFC 9670 §1.5.2 urn:ietf:params:jmap:principals:owner) */
    bool account_only;
};
void jmap_register_capability(const struct jcapability *cap);
/* Whether account a has the capability uri (RFC 8620 §2 accountCapabilities). */
bool jmap_account_has(const char *uri, const struct store_access *a);

/* Exporters turn a collection into a file: `jmapd export` and
 * GET /export/{kind}/{accountId}/{id} (kind "calendar" -> .ics, "addressbook" ->
 * .vcf). The function streams the body through write (which returns 0, or -1 to
 * stop) and sets *content_type; args is the URL query or the CLI flags joined
 * ("vcard3"). Returns STORE_OK, STORE_NOTFOUND or STORE_ERR. Called inside a read
 * transaction. */
typedef int (*jmap_write_fn)(void *ud, const char *data, size_t len);
typedef int (*jmap_export_fn)(struct store_conn *c, const char *account, const char *id,
                              const char *args, jmap_write_fn write, void *ud,
                              const char **content_type);
jmap_export_fn jmap_exporter_find(const char *kind);

/* What an import did, for `jmapd import`'s progress and summary (issue 12 §5.2). An
 * importer that fills it counts updated objects (an object of the same uid replaced) among
 * the imported ones, appends one string per repair to warnings and one per refused object
 * (with the reason) to refused, and calls progress(ud, done, total) as it goes. */
struct jmap_import_report {
    int updated;
    json_t *warnings, *refused; /* arrays of strings */
    void (*progress)(void *ud, size_t done, size_t total);
    void *ud;
};

/* Importers read a file into an account (`jmapd import`), chosen by the file's
 * extension (".ics", ".vcf"). Called inside a write transaction; they store
 * objects through the type's validation. Returns the number of objects imported,
 * or -1 with *err (malloc'd) naming what was wrong. report may be NULL. */
typedef int (*jmap_import_fn)(struct store_conn *c, const char *account, const char *data,
                              size_t len, struct jmap_import_report *report, char **err);
jmap_import_fn jmap_importer_find(const char *extension);

/* ---- data-type modules ---------------------------------------------------------------- */

/* A module (types/) is everything the rest of the server needs to know of one
 * family of data types, as data: its capabilities, its types (each registered with
 * its standard methods; each type name is also its push name, RFC 8620 §7.1
 * TypeState), its custom methods, what a new account gets, and its file importers
 * and exporters. types/registry.c lists the modules; jmap/ knows them only through
 * jmap_init(). docs/adding-a-type.md says how to add one. */
struct jimporter {
    const char *extension; /* ".ics" */
    jmap_import_fn fn;
};
/* The sync state of a collection for the subscription upgrade's Enhanced GET
 * (draft-ietf-calext-subscription-upgrade-13 §3): the current state, and the lowest
 * state a delta can still be computed from. Called in a read transaction; returns
 * STORE_OK or STORE_NOTFOUND. With it, the exporter's args may be "since=N": only
 * what changed after state N, deletions as STATUS:DELETED skeletons (§3.2). */
typedef int (*jmap_sync_fn)(struct store_conn *c, const char *account, const char *id,
                            int64_t *current, int64_t *lowest);
struct jexporter {
    const char *kind; /* "calendar": GET /export/calendar/..., `jmapd export --calendar` */
    jmap_export_fn fn;
};
/* Paging an Enhanced GET (subscription-upgrade §3.3): writes one VCALENDAR of at
 * most limit (> 0) components. after not NULL: the full listing, the objects whose id
 * sorts after `after` ("" = from the start); next[] gets the last id written when
 * more follow, else "". after NULL: the delta since state `since`; *stop gets the
 * state the page is complete up to when more follow, else -1. In a read transaction;
 * STORE_OK or STORE_NOTFOUND. */
typedef int (*jmap_page_fn)(struct store_conn *c, const char *account, const char *id,
                            int64_t since, const char *after, size_t limit, jmap_write_fn write,
                            void *ud, char next[64], int64_t *stop);
struct jexport_sync {
    const char *kind; /* an exporter's kind */
    jmap_sync_fn fn;
    jmap_page_fn page; /* optional */
};
/* The sync state function of the exporter of kind, or NULL if it has none. */
jmap_sync_fn jmap_export_sync_find(const char *kind);
/* Its paging function, or NULL. */
jmap_page_fn jmap_export_page_find(const char *kind);
/* Who a new account belongs to, for the modules' provision hooks. */
struct jmap_owner {
    const char *account; /* the account id */
    const char *name;    /* the user name */
    const char *address; /* the user's calendar address, a URI (mailto:...) */
};
struct jmodule {
    const char *name;
    const struct jcapability *const *capabilities; /* NULL-terminated */
    const struct jtype *const *types;              /* NULL-terminated */
    /* Registers the module's custom methods (optional). */
    void (*register_methods)(void);
    /* Creates a new account's default objects (optional); 0 or a STORE_ error. */
    int (*provision)(struct store_conn *c, const struct jmap_owner *owner);
    const struct jimporter *importers; /* {NULL}-terminated, optional */
    const struct jexporter *exporters; /* {NULL}-terminated, optional */
    const struct jexport_sync *export_syncs; /* {NULL}-terminated, optional */
    /* Gives an account made before the module existed what provision would have given
     * it (optional; run at start for every user, in one transaction); 0 or a STORE_
     * error. */
    int (*backfill)(struct store_conn *c, const struct jmap_owner *owner);
};

/* Runs every module's backfill for every user (`jmapd serve` at start). */
int jmap_backfill(struct store_conn *c);
/* Registers everything: core, blob and each module of the NULL-terminated list;
 * idempotent (later calls are ignored). */
void jmap_init(const struct jmodule *const *modules);
/* The registered data types, in registration order (EventSource, Blob/lookup). */
size_t jmap_type_count(void);
const struct jtype *jmap_type_at(size_t i);
/* The registered exporters, for listing (`jmapd export`'s options). */
size_t jmap_exporter_count(void);
const char *jmap_exporter_kind(size_t i);
/* The registered importers' extensions, joined by ", " into buf. */
void jmap_importer_list(char *buf, size_t size);
/* Whether a capability URI is one this server supports. */
bool jmap_capability_known(const char *uri);

/* ---- the API and the session ----------------------------------------------------------- */
struct jmap_result {
    int status;      /* HTTP status */
    char *body;      /* malloc'd JSON text (answer_mem_give or free() drops it) */
    size_t len;      /* its length */
    bool problem;    /* body is an RFC 7807 problem document */
};
/* Processes one API request body (RFC 8620 §3): jmap_api_parse, then jmap_api_run. */
void jmap_api_handle(struct jmap_server *srv, const struct jmap_user *user, const char *body,
                     size_t len, struct jmap_result *out);
/* The request body parsed and checked (RFC 8620 §3.3 shape, §3.6.1 request-level errors,
 * the request limits), or NULL with the problem document in *out. */
json_t *jmap_api_parse(struct jmap_server *srv, const char *body, size_t len,
                       struct jmap_result *out);
/* Whether a parsed request is cheap and bounded enough to run on the connection's own
 * thread instead of a worker (issue 21 §1, §3): a few calls on an in-process store, each
 * Core/echo, a standard /changes, or a standard /get (of listed ids) or /query whose
 * method's late calls took under a millisecond; such a request writes no object. */
bool jmap_api_quick(struct jmap_server *srv, json_t *req);
/* Runs a parsed request (takes it) into *out; quick: one jmap_api_quick accepted (the
 * after-request hooks, which may send mail, are left to the threads that wrote). */
void jmap_api_run(struct jmap_server *srv, const struct jmap_user *user, json_t *req,
                  struct jmap_result *out, bool quick);
/* An RFC 7807 problem document (RFC 8620 §3.6.1) as malloc'd JSON text. */
char *jmap_problem(const char *type, int status, const char *detail, const char *limit);

/* The session's state string (RFC 8620 §2 "state"). */
const char *jmap_session_state(const struct jmap_user *user);

/* The Account object (RFC 8620 §2: name, isPersonal, isReadOnly,
 * accountCapabilities) of the user's account a, as the session shows it (new). */
json_t *jmap_account_object(const struct config *cfg, const struct jmap_user *user,
                            const struct store_access *a);

/* The session resource (RFC 8620 §2) for user, as a new JSON object. */
json_t *jmap_session(struct jmap_server *srv, const struct jmap_user *user);

/* Work to do after every API request, its calls committed (outgoing mail). */
void jmap_register_after_request(void (*fn)(struct jmap_server *srv));
void jmap_after_request(struct jmap_server *srv);

/* Creates a new user's account contents: each module's provision hook. */
int jmap_account_provision(struct jmap_server *srv, struct store_conn *c,
                           const struct jmap_owner *owner);

#endif
