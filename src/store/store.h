/*
 * store.h — the storage interface (DESIGN.md §2). Users, credentials, accounts,
 * JMAP objects with their change log, and blobs. Knows ids, types and modification
 * sequences; nothing of JMAP semantics. store.c dispatches it to sqlite.c or
 * postgres.c (backend.h); every call takes
 * the calling thread's connection (store_conn), which caches prepared statements.
 *
 * Errors: functions returning int give 0 on success, STORE_NOTFOUND, STORE_EXISTS,
 * or STORE_ERR (logged).
 *
 * Isolation. Every write (store_begin(c, true) ... store_commit) must run as if
 * alone: serializable. A method reads a type's state, checks, and bumps it in one
 * transaction, and /changes depends on modseqs being handed out in commit order,
 * so a backend serializes the writers of an account: SQLite takes the database
 * write lock at BEGIN IMMEDIATE; a PostgreSQL backend uses SERIALIZABLE (or locks
 * the account's state rows with SELECT ... FOR UPDATE at the first bump) and
 * reports a serialization failure as STORE_ERR, and as store_retryable for the
 * caller to run the transaction's work again. Reads
 * (store_begin(c, false)) need a consistent snapshot: repeatable read. Uniqueness
 * (user names, tokens, an object's unique key) is a database constraint that
 * answers STORE_EXISTS, never a read-then-write that relies on the isolation.
 */
#ifndef JMAPD_STORE_H
#define JMAPD_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { STORE_OK = 0, STORE_NOTFOUND = 1, STORE_EXISTS = 2, STORE_ERR = -1 };

struct store;
struct store_conn;

/* How long a connection waits for another process's lock before failing (ms);
 * applies to connections opened afterwards. */
void store_set_busy_timeout(int ms);
/* The page cache (KiB) of SQLite connections opened afterwards (default 2,000 KiB,
 * sized for a server's many connections): a bulk job (`jmapd import`) wants its
 * B-trees in memory, else each object reads and spills pages (issue 21). */
void store_set_page_cache(int kib);
/* A process of bulk writes (`jmapd import`, issue 21): each write transaction defers
 * the full-text index's merges to its commit, where they run in one pass (SQLite;
 * nothing on PostgreSQL). Set before the first transaction. */
void store_set_bulk_writes(bool on);
/* Opens (creating and migrating) the SQLite database in dir. NULL with *err on failure. */
struct store *store_open(const char *dir, char **err);
/* Opens the backend url names: "sqlite" (or NULL or "": the SQLite database in dir)
 * or a postgresql:// URL (any libpq connection URI; the password comes from the
 * environment, PGPASSWORD or PGPASSFILE, never from the command line). */
struct store *store_open_url(const char *url, const char *dir, char **err);
bool store_url_is_pg(const char *url);
/* A file holding the PostgreSQL password alone (NULL: libpq's own sources). */
void store_set_password_file(const char *path);
/* "sqlite" or "postgresql". */
const char *store_backend_name(struct store *st);
/* Closes every connection and checkpoints the WAL. */
void store_close(struct store *st);
/* The calling thread's connection, opened on first use. */
struct store_conn *store_conn(struct store *st);

/* Transactions: write=true takes the write lock at once (BEGIN IMMEDIATE). */
int store_begin(struct store_conn *c, bool write);
/* Whether c is inside a write transaction (for assertions and tests). */
bool store_in_write(struct store_conn *c);
int store_commit(struct store_conn *c);
/* Whether the database answers (for /health): STORE_OK or STORE_ERR. */
int store_ping(struct store_conn *c);
void store_rollback(struct store_conn *c);
/* Transactions the database refused for another's sake (issue 15 §1). A unit of work
 * on c that may span several transactions (a JMAP method call) starts with
 * store_retry_mark; store_retryable then says whether one of its transactions failed
 * only because a concurrent transaction or a lock was in its way, and none of its
 * write transactions has committed since the mark: rolled back, the same work run
 * again from its start may succeed. PostgreSQL: a statement or the COMMIT of a
 * transaction answered serialization_failure (SQLSTATE 40001) or deadlock_detected
 * (40P01). SQLite: never (BEGIN IMMEDIATE serializes the writers, and a writer that
 * waits does so at BEGIN, for store_set_busy_timeout). */
void store_retry_mark(struct store_conn *c);
bool store_retryable(struct store_conn *c);
/* How often a refused unit of work is run again (issue 15 §1), after the first run. */
#define STORE_RETRIES 3
/* After run number attempt (0 for the first) of a unit of work on c that began with
 * store_retry_mark: whether to run it again. Yes when the database refused it
 * (store_retryable), fewer than STORE_RETRIES runs were repeated and the request's
 * deadline (util_deadline_set) has not passed; then the refused transaction is rolled
 * back, the log says that what is run again, and a short random pause (1-4, 1-8,
 * 1-16 ms: the other transaction ends meanwhile, and two refused ones do not meet
 * again in step) is taken. */
bool store_retry_again(struct store_conn *c, int attempt, const char *what);
/* One write transaction of its own, run again while the database refuses it: begins,
 * runs fn(c, ud) and commits if it answers STORE_OK; a refusal of one of its
 * statements or of the COMMIT rolls back and runs fn again from its start, as
 * store_retry_again says (what names the work in the log). So fn must change nothing
 * outside the transaction that a second run would repeat (or undo it itself), and
 * must read whatever it consumes so that it can read it again. Returns STORE_OK once
 * committed, fn's other answer after a rollback, or STORE_ERR (no transaction, or the
 * COMMIT failed); store_retryable(c) then says whether the last run was refused (a
 * server answers 503 to that). Called outside a transaction; leaves none open. */
int store_write(struct store_conn *c, int (*fn)(struct store_conn *c, void *ud), void *ud,
                const char *what);

/* ---- users, accounts, tokens ----------------------------------------------- */
struct store_user {
    int64_t id;
    char name[256];
    char account_id[64];
    char *pwhash; /* malloc'd */
};
void store_user_clear(struct store_user *u);
int store_user_add(struct store_conn *c, const char *name, const char *pwhash,
                   const char *account_id);
int store_user_get(struct store_conn *c, const char *name, struct store_user *out);
int store_user_get_by_id(struct store_conn *c, int64_t id, struct store_user *out);
int store_user_del(struct store_conn *c, const char *name);
int store_user_set_password(struct store_conn *c, const char *name, const char *pwhash);
/* Calls cb for each user name in order; stops if cb returns non-zero. */
int store_user_list(struct store_conn *c, int (*cb)(const char *name, void *ud), void *ud);
int store_user_count(struct store_conn *c);

struct store_access {
    char account_id[64];
    char name[256];
    bool may_write;
    bool is_personal;
    bool shared; /* reached through shares of its collections only (issue 14): the
                    rights are per collection (its shareWith), may_write says some
                    share grants a write right */
    bool subscribed; /* RFC 9670 §1.4: the user's own, granted whole, or subscribed to
                        (isSubscribed, per user) at least one shared collection */
    bool readable;   /* the user's own, granted whole, or some share lets the user read
                        items (store_share.may_read); a shared account that is not is
                        reached for free/busy alone (calendars-27 §2.1, §4.1) */
};
/* Accounts the user may use (their own first). Returns the count (≤ max) or -1. */
int store_user_accounts(struct store_conn *c, int64_t user_id, struct store_access *out,
                        int max);
/* Accounts are the user's own, those granted whole (store_access_grant) and those
 * where a collection is shared (store_share_set) with the user's principal (the id
 * of their own account) or with a group they are in. */
/* The user whose own account is account_id. */
int store_user_by_account(struct store_conn *c, const char *account_id, struct store_user *out);
/* Grants user access to the account owned by owner_name. */
int store_access_grant(struct store_conn *c, int64_t user_id, const char *account_id,
                       bool may_write);

int store_token_add(struct store_conn *c, int64_t user_id, const char *token_hash,
                    const char *token_id, const char *label);
/* Looks a token up by its hash; returns the owner's user id in *user_id. */
int store_token_lookup(struct store_conn *c, const char *token_hash, int64_t *user_id);
int store_token_list(struct store_conn *c, int64_t user_id,
                     int (*cb)(const char *id, const char *label, int64_t created, void *ud),
                     void *ud);
int store_token_revoke(struct store_conn *c, const char *token_id);

/* ---- modification sequences and objects --------------------------------------- */
/* Current modseq of (account, type); 0 for a type never written. */
int64_t store_state_get(struct store_conn *c, const char *account, const char *type);
/* Lowest modseq from which changes can still be calculated (tombstone horizon). */
int64_t store_state_lowest(struct store_conn *c, const char *account, const char *type);
/* Increments and returns the modseq; call inside a write transaction. */
int64_t store_state_bump(struct store_conn *c, const char *account, const char *type);

/* Loads a live object (a new reference) or NULL. */
json_t *store_object_get(struct store_conn *c, const char *account, const char *type,
                         const char *id);
/* Whether a live object exists (no parsing). */
bool store_object_exists(struct store_conn *c, const char *account, const char *type,
                         const char *id);
/* Says that store_object_get will be asked for these ids of (account, type) in the
 * current transaction (a /get's; a /set's updates and destroys): a backend whose every
 * call is a round trip to a server (PostgreSQL) loads them in one; SQLite does nothing. */
int store_object_prefetch(struct store_conn *c, const char *account, const char *type,
                          const char *const *ids, size_t n);
/* Inserts (create) or replaces a live object, stamping modseq. unique_key (may be
 * NULL) is a key no other live object of (account, type) may hold: the database
 * enforces it and the put answers STORE_EXISTS, storing nothing, when it is taken. */
int store_object_put(struct store_conn *c, const char *account, const char *type, const char *id,
                     json_t *data, int64_t modseq, bool create, const char *unique_key);
/* Marks the object destroyed at modseq (a tombstone for /changes). */
int store_object_destroy(struct store_conn *c, const char *account, const char *type,
                         const char *id, int64_t modseq);
/* Calls cb with each live object of the type (borrowed reference) in id order. */
int store_object_foreach(struct store_conn *c, const char *account, const char *type,
                         int (*cb)(const char *id, json_t *obj, void *ud), void *ud);
int store_object_count(struct store_conn *c, const char *account, const char *type);
/* The id (malloc'd) of the live object of (account, type) that holds unique_key (as
 * store_object_put stored it), or NULL: from the database's unique index, the
 * caller's own writes included (issue 21: a write's uniqueness check reads no index
 * of every object). */
char *store_object_find_key(struct store_conn *c, const char *account, const char *type,
                            const char *key);

/* Objects whose last change is after since, in modseq order, at most max (0 = no
 * limit): cb gets id, its creation modseq, its change modseq and the destroyed flag. */
int store_changes(struct store_conn *c, const char *account, const char *type, int64_t since,
                  size_t max,
                  int (*cb)(const char *id, int64_t created, int64_t updated, bool destroyed,
                            void *ud),
                  void *ud);
/* Say what the current read transaction will ask next, before it asks for the state
 * it checks (issue 15 §1): a backend whose every call is a round trip to a server
 * (PostgreSQL) sends the read with the transaction's next statement that waits, so
 * both cost one; SQLite does nothing. store_changes_prefetch: store_changes of these
 * arguments follows (/changes checks sinceState against the state, then scans).
 * store_state_prefetch: the state of (account, type) as user_id sees it
 * (store_state_viewer; -1: store_state_get) follows a read that waits (an expanded
 * /query reads the index first). Either is only a hint: what is asked is answered
 * the same with or without it. */
int store_changes_prefetch(struct store_conn *c, const char *account, const char *type,
                           int64_t since, size_t max);
int store_state_prefetch(struct store_conn *c, const char *account, const char *type,
                         int64_t user_id);
/* Says what the creates of the current write transaction will ask about (issue 15 §1,
 * W1): store_object_put with these unique keys and store_index_find_uid with these
 * uids, of (account, type); NULL entries are none. A backend whose every call is a
 * round trip (PostgreSQL) reads those keys' rows at once, where it read every key and
 * uid of the account (their number grows with it); SQLite does nothing. Only a hint:
 * what is asked is answered the same with or without it. */
int store_keys_expect(struct store_conn *c, const char *account, const char *type,
                      const char *const *keys, const char *const *uids, size_t n);

/* ---- blobs ------------------------------------------------------------------------- */
/* Stores data under its id (idempotent) and records that account uploaded it now. */
int store_blob_put(struct store_conn *c, const char *account, const char *blob_id, const void *data,
                   size_t len, const char *type);
/* Loads a blob the account may see (uploaded or referenced): malloc'd data. */
int store_blob_get(struct store_conn *c, const char *account, const char *blob_id,
                   unsigned char **data, size_t *len);
/* Size only (-1 if the account cannot see it). */
int64_t store_blob_size(struct store_conn *c, const char *account, const char *blob_id);
/* Bytes [offset, offset + len) of a blob the account may see (fewer at its end; none
 * past it), malloc'd in *data, their number in *got; only those bytes are read (an
 * HTTP Range request on a large blob, issue 15). STORE_NOTFOUND as store_blob_get. */
int store_blob_read(struct store_conn *c, const char *account, const char *blob_id, uint64_t offset,
                    size_t len, unsigned char **data, size_t *got);
/* Adds / removes a reference from an object to a blob. */
int store_blob_ref(struct store_conn *c, const char *account, const char *blob_id, const char *type,
                   const char *id);
int store_blob_unref_object(struct store_conn *c, const char *account, const char *type,
                            const char *id);
/* Objects referencing a blob: cb(type, id). */
int store_blob_refs(struct store_conn *c, const char *account, const char *blob_id,
                    int (*cb)(const char *type, const char *id, void *ud), void *ud);
/* Drops uploads older than max_age seconds and blobs nothing refers to any more. */
int store_blob_gc(struct store_conn *c, int64_t max_age);

/* ---- query side tables ---------------------------------------------------------------- */
/* What a type extracts from an object for its queries (DESIGN.md §2): a uid, a
 * UTC time range [start, end) (end open when unbounded), and up to
 * STORE_TEXT_FIELDS text fields for the full-text index, numbered and named by the
 * type (any may be NULL). The store knows them only by number. */
#define STORE_TEXT_FIELDS 6
struct store_index {
    const char *uid;
    bool has_range, unbounded;
    int64_t start, end;
    const char *text[STORE_TEXT_FIELDS];
    /* An integer the type's common sort reads from the index (an event's UTC start),
     * absent where the object has none independent of the query (issue 21). */
    bool has_order;
    int64_t order;
    /* The range is the object's one occurrence, exactly (a single event in a time
     * zone): a windowed query needs nothing more of it than [start, end) (issue 21). */
    bool exact;
};
int store_index_put(struct store_conn *c, const char *account, const char *type, const char *id,
                    const struct store_index *ix);
int store_index_del(struct store_conn *c, const char *account, const char *type, const char *id);
/* ids with this uid */
int store_index_find_uid(struct store_conn *c, const char *account, const char *type,
                         const char *uid, int (*cb)(const char *id, void *ud), void *ud);
/* ids (with their modseq) whose range overlaps [from, to) (either side may be
 * open), plus ids without a range */
int store_index_range(struct store_conn *c, const char *account, const char *type, bool has_from,
                      int64_t from, bool has_to, int64_t to,
                      int (*cb)(const char *id, int64_t modseq, void *ud), void *ud);
/* As store_index_range, each row with its range and whether it is exact
 * (store_index.exact; has_range false for a row without one, end INT64_MAX when
 * open). The scan reads, per class of range length, only rows that start late
 * enough to reach from: its cost follows the rows that overlap the window, not the
 * account (issue 21). */
int store_index_spans(struct store_conn *c, const char *account, const char *type, bool has_from,
                      int64_t from, bool has_to, int64_t to,
                      int (*cb)(const char *id, int64_t modseq, bool has_range, bool exact,
                                int64_t start, int64_t end, void *ud),
                      void *ud);
/* The modseq of a live object's last change, or -1. */
int64_t store_object_modseq(struct store_conn *c, const char *account, const char *type,
                            const char *id);
/* A text search is a list of terms that must all match (AND). Matching is by
 * words, as the backend splits text into words, case-insensitive with diacritics
 * folded. A term's text is one or more words: without phrase each word must occur,
 * with phrase they must occur in order and adjacent; with prefix each word (in a
 * phrase, the last) may be the start of a longer one. field is a text field's
 * number, or -1 for any field. */
struct store_text_term {
    const char *text;
    int field;
    bool phrase, prefix;
};
/* ids of (account, type) whose indexed text matches every term (nterms > 0); a
 * term without any word matches everything. */
int store_text_search(struct store_conn *c, const char *account, const char *type,
                      const struct store_text_term *terms, size_t nterms,
                      int (*cb)(const char *id, void *ud), void *ud);

/* ---- query snapshots -------------------------------------------------------------------
 * The ids a query gave at a state (RFC 8620 §5.6), kept where every front end finds
 * them, so /queryChanges works whichever front end answers (issue 15 §3). key is the
 * engine's (at most 64 characters); ids a JSON array. PostgreSQL keeps them for an
 * hour; SQLite serves one process, whose engine keeps them in memory: there put does
 * nothing and get finds nothing. */
int store_snapshot_put(struct store_conn *c, const char *account, const char *key,
                       const char *ids);
/* The ids (malloc'd JSON text) or NULL. */
char *store_snapshot_get(struct store_conn *c, const char *account, const char *key);
/* Saving a query's snapshot costs the query no round trip on PostgreSQL: in the
 * query's read transaction store_snapshot_gate (right after store_begin, queued with
 * the first read) takes a shared lock of the account's snapshots, store_snapshot_put
 * (before store_rollback) queues the row, and store_rollback then ends the
 * transaction with a COMMIT it does not wait for. A store_snapshot_get on another
 * front end that misses waits for the account's lock (held until that COMMIT) and
 * looks again, so a client that saw the /query answer never misses its snapshot.
 * Outside a read transaction put runs at once; on SQLite neither does anything. */
int store_snapshot_gate(struct store_conn *c, const char *account);

/* ---- limits every front end shares (issue 15 §3) -----------------------------------------
 * Failed logins and concurrent uploads counted across the front ends of one PostgreSQL
 * database, so a limit holds whichever front end a client reaches. SQLite serves one
 * process, whose own counters are the whole count: there the counters count nothing
 * (0) and every slot is granted (*slot = 0). Both work outside the caller's
 * transaction: a count outlives its rollback. */
/* Adds one to key's count in the current window of window seconds (a new window once
 * the last has passed) and returns the count; -1 on error. */
int64_t store_counter_add(struct store_conn *c, const char *key, int64_t window, int64_t now);
/* key's count in its current window (0 when it has passed); -1 on error. */
int64_t store_counter_get(struct store_conn *c, const char *key, int64_t window, int64_t now);
/* Takes one of user_id's max slots of kind (uploads under way): STORE_OK with *slot for
 * store_slot_release, STORE_EXISTS when all are taken. A slot whose front end has gone
 * (its database session ended) is free again. */
int store_slot_take(struct store_conn *c, int64_t user_id, int kind, int64_t max, int64_t *slot);
int store_slot_release(struct store_conn *c, int64_t slot);

/* ---- messages between front ends (DESIGN.md §3) ------------------------------------------
 * Several jmapd processes on one PostgreSQL database tell each other what they
 * committed (LISTEN/NOTIFY); on one SQLite data directory, the server and commands
 * run beside it do (Unix datagram sockets, sqlite_bus.c). store_bus_open starts
 * listening: cb gets each message another process sends (at most about 7,900 bytes;
 * on a thread of the bus). NULL when it cannot; sending to NULL does nothing. */
struct store_bus;
struct store_bus *store_bus_open(struct store *st, void (*cb)(const char *msg, void *ud), void *ud);
int store_bus_send(struct store_bus *b, const char *msg);
void store_bus_close(struct store_bus *b);

/* Copies the SQLite database in dir into the empty PostgreSQL database url (issue 15
 * §6), ids, modseqs and states as they are, and verifies every table's count; the
 * SQLite file is only read. Prints a line per table to out. 0, or -1 with *err. */
int store_migrate_sqlite_to_pg(const char *dir, const char *url, FILE *out, char **err);

/* Sorting and paging from the index (issue 21): indexed objects with an order, by
 * (order, id) — order descending if desc, id always ascending — at positions
 * [offset, offset + limit) among them (limit < 0: to the end): cb gets id, modseq
 * and order. */
int store_index_ordered(struct store_conn *c, const char *account, const char *type, bool desc,
                        int64_t offset, int64_t limit,
                        int (*cb)(const char *id, int64_t modseq, int64_t order, void *ud),
                        void *ud);
/* The same after the row (order, id) of that sequence (keyset paging: a deep page
 * steps over offset rows after a row it knows, not over every row before it). */
int store_index_ordered_after(struct store_conn *c, const char *account, const char *type,
                              bool desc, int64_t order, const char *id, int64_t offset,
                              int64_t limit,
                              int (*cb)(const char *id, int64_t modseq, int64_t order, void *ud),
                              void *ud);
/* Indexed objects without an order: cb gets id and modseq (order 0). */
int store_index_unordered(struct store_conn *c, const char *account, const char *type,
                          int (*cb)(const char *id, int64_t modseq, int64_t order, void *ud),
                          void *ud);
/* How many indexed objects with an order come before (order, id) in the sequence of
 * store_index_ordered; -1 on error. */
int64_t store_index_rank(struct store_conn *c, const char *account, const char *type, bool desc,
                         int64_t order, const char *id);
/* The number of indexed objects with an order and without one; STORE_OK or STORE_ERR. */
int store_index_count(struct store_conn *c, const char *account, const char *type, int64_t *ordered,
                      int64_t *unordered);

/* The objects of store_text_search, each with its modseq and its index order
 * (has_order false where it has none), in no particular order (issue 21: a caller
 * sorts and checks the hits and stops at the page it needs). */
int store_text_hits(struct store_conn *c, const char *account, const char *type,
                    const struct store_text_term *terms, size_t nterms,
                    int (*cb)(const char *id, int64_t modseq, bool has_order, int64_t order,
                              void *ud),
                    void *ud);

/* ---- substring search (issue 21) ---------------------------------------------------------
 * Per object up to STORE_GRAM_FIELDS texts searched for substrings, exactly: a term
 * matches a field that contains it as given (the type folds case, and whatever else
 * it folds, before it puts and before it searches), and a short opaque text (facets)
 * the type reads back instead of parsing every object: the store owns text search
 * for types whose conditions match anywhere in a value (ContactCard, RFC 9610
 * §3.3.1). SQLite: an FTS5 trigram index; PostgreSQL: pg_trgm where it can be had,
 * else a scan of the account's rows. */
#define STORE_GRAM_FIELDS 12
#define STORE_GRAM_KEYS 2
struct store_grams {
    const char *text[STORE_GRAM_FIELDS]; /* NULL is empty */
    const char *facets;
    /* Up to STORE_GRAM_KEYS sort keys (issue 21): byte strings the type makes so that
     * their byte order (memcmp, a prefix first) is the order of one of its sorts, kept
     * with the row on each write, each in an index of its own (NULL: none) */
    const void *key[STORE_GRAM_KEYS];
    size_t key_len[STORE_GRAM_KEYS];
};
int store_grams_put(struct store_conn *c, const char *account, const char *type, const char *id,
                    const struct store_grams *g);
int store_grams_del(struct store_conn *c, const char *account, const char *type, const char *id);
/* A term: text must occur in field (-1: in any field); an empty text asks for a
 * non-empty field. */
struct store_gram_term {
    const char *text;
    int field;
};
/* The ids of (account, type) whose fields hold every term (nterms > 0), in the
 * store's order: a total order of the type's objects in which an object keeps its
 * place among the others until it is written (a write may move it; SQLite: the
 * search row's number, PostgreSQL: id order), so that the hits of an unsorted query
 * are stable between writes (RFC 8620 §5.5) and a caller that needs the first few
 * stops (cb returns nonzero; issue 21). cb may not use the store (the statement is
 * cached). */
int store_grams_search(struct store_conn *c, const char *account, const char *type,
                       const struct store_gram_term *terms, size_t nterms,
                       int (*cb)(const char *id, void *ud), void *ud);
/* How many objects store_grams_search would give for terms; -1 on error (issue 21: a
 * total counted by the database, without handing over each hit). */
int64_t store_grams_count_hits(struct store_conn *c, const char *account, const char *type,
                               const struct store_gram_term *terms, size_t nterms);
/* The facets of one object (id), or of every object of (account, type) (id NULL)
 * in id order (byte order). */
int store_grams_facets(struct store_conn *c, const char *account, const char *type, const char *id,
                       int (*cb)(const char *id, const char *facets, void *ud), void *ud);
/* The objects of (account, type) that have sort key k (store_grams.key), in the keys'
 * byte order, from the first whose key is at least from (from_len bytes; NULL: from
 * the first), skipping offset of them, at most limit (< 0: all): cb gets each id and
 * key. Read from the key's index (issue 21: a sorted page without sorting every
 * object; a caller that keeps a key every so many rows starts near any position).
 * cb may not use the store. */
int store_grams_ordered(struct store_conn *c, const char *account, const char *type, int k,
                        const void *from, size_t from_len, int64_t offset, int64_t limit,
                        int (*cb)(const char *id, const void *key, size_t len, void *ud), void *ud);
/* The live objects of (account, type) without a row (indexed before there was one):
 * for the type to put theirs. SQLite remembers, inside a write transaction, that the
 * callback put every one (returned 0 for each): later calls then answer at once, as
 * each write of the type keeps its row (issue 21: not a read of every object at each
 * start). */
int store_grams_missing(struct store_conn *c, const char *account, const char *type,
                        int (*cb)(const char *id, void *ud), void *ud);

/* ---- read-only feeds ------------------------------------------------------------------- */
/* A secret URL token (stored as its hash) that names one collection of an account. */
int store_feed_add(struct store_conn *c, const char *hash, const char *id, const char *account,
                   const char *kind, const char *object_id);
int store_feed_lookup(struct store_conn *c, const char *hash, char account[64], char kind[32],
                      char object_id[64]);
int store_feed_revoke(struct store_conn *c, const char *id);

/* ---- groups, shares and per-user properties (issue 14, RFC 9670) ------------------------ */
/* A group is a principal (its id, unique name) whose rights reach its member users. */
int store_group_add(struct store_conn *c, const char *id, const char *name);
/* The id of the group named name. */
int store_group_get(struct store_conn *c, const char *name, char id[64]);
/* Removes the group, its memberships and the shares made to it. */
int store_group_del(struct store_conn *c, const char *id);
/* Adds (add) or removes a user from a group; removing a non-member is NOTFOUND. */
int store_group_member(struct store_conn *c, const char *group_id, int64_t user_id, bool add);
/* The ids of the groups user_id is in, and the users of a group. */
int store_user_groups(struct store_conn *c, int64_t user_id,
                      int (*cb)(const char *group_id, void *ud), void *ud);
int store_group_members(struct store_conn *c, const char *group_id,
                        int (*cb)(int64_t user_id, void *ud), void *ud);
/* Replaces the principals a collection (account, type, object_id) is shared with
 * (n may be 0: not shared); may_write says whether the share grants any write right,
 * may_read whether it lets the principal read the collection's items (a share of
 * free/busy alone does not: calendars-27 §4.1). */
struct store_share {
    const char *principal_id;
    bool may_write, may_read;
};
int store_share_set(struct store_conn *c, const char *account, const char *type,
                    const char *object_id, const struct store_share *shares, size_t n);
/* The per-user properties of one object for one user, a JSON object (new
 * reference), or NULL; put with NULL or {} removes them. */
json_t *store_user_props_get(struct store_conn *c, int64_t user_id, const char *account,
                             const char *type, const char *object_id);
int store_user_props_put(struct store_conn *c, int64_t user_id, const char *account,
                         const char *type, const char *object_id, json_t *data);
/* At most limit of the user's per-user properties of type in account, in no particular
 * order (cb borrows data): the number given, or -1 on error (issue 14: a sharee's
 * /get of many objects reads them at once instead of one read per object). */
/* Says that store_user_props_get will be asked for these objects' properties of user_id
 * in the current transaction (a /set's updates: the sharing exposure of each event,
 * issue 15 §1): a backend whose every call is a round trip (PostgreSQL) reads them with
 * its next statement that waits; SQLite does nothing. Only a hint. */
int store_user_props_prefetch(struct store_conn *c, int64_t user_id, const char *account,
                              const char *type, const char *const *ids, size_t n);
int64_t store_user_props_list(struct store_conn *c, int64_t user_id, const char *account,
                              const char *type, int64_t limit,
                              int (*cb)(const char *object_id, json_t *data, void *ud), void *ud);

/* ---- collection membership (issue 14) -----------------------------------------------------
 * The collections each object is shown in (an event's calendars, none for a secret one),
 * with its index order (store_index.order), so that the members of a few collections are
 * read in that order without reading the others: a sharee's sorted page reads the
 * calendars they may read, not the account. The type keeps the rows beside its index. */
/* Replaces the rows of object id (n may be 0: none). */
int store_members_put(struct store_conn *c, const char *account, const char *type, const char *id,
                      const char *const *collections, size_t n, bool has_order, int64_t order);
/* The members of collection with an order, by (order, id) as store_index_ordered (order
 * descending if desc, id ascending), after the row (order, id) when after is set, at
 * positions [offset, offset + limit) from there (limit < 0: to the end): cb gets id,
 * modseq 0 and order. */
int store_members_ordered(struct store_conn *c, const char *account, const char *type,
                          const char *collection, bool desc, bool after, int64_t order,
                          const char *id, int64_t offset, int64_t limit,
                          int (*cb)(const char *id, int64_t modseq, int64_t order, void *ud),
                          void *ud);

/* ---- the alert schedule (issue 14; draft-ietf-jmap-calendars-27 §6) ----------------------
 * For each object with alerts and each user they fire for: next_check, the UTC time
 * (seconds) at which something may next be due, and fired_until: every trigger at or
 * before it is done (fired or passed over). A row's key is (account, type, object_id,
 * user_id). Rows are small and changed one at a time, never through the change log. */
struct store_alert {
    char account[64], type[32], object_id[64];
    int64_t user_id, next_check, fired_until;
};
/* Inserts or replaces the row of a. */
int store_alert_put(struct store_conn *c, const struct store_alert *a);
/* Fills a's next_check and fired_until from its row: STORE_OK or STORE_NOTFOUND. */
int store_alert_get(struct store_conn *c, struct store_alert *a);
/* Moves old's row on to (next_check, fired), or removes it when next_check < 0, if it
 * still holds old's values: STORE_OK, or STORE_NOTFOUND when another process (a
 * front end on the same PostgreSQL database) got there first: it fires, not we. */
int store_alert_claim(struct store_conn *c, const struct store_alert *old, int64_t next_check,
                      int64_t fired);
/* Removes the rows of an object (every user). */
int store_alert_del(struct store_conn *c, const char *account, const char *type,
                    const char *object_id);
/* The rows with next_check <= now, earliest first, at most max. */
int store_alert_due(struct store_conn *c, int64_t now, int max,
                    int (*cb)(const struct store_alert *a, void *ud), void *ud);
/* The users with a row for an object. */
int store_alert_users(struct store_conn *c, const char *account, const char *type,
                      const char *object_id, int (*cb)(int64_t user_id, void *ud), void *ud);
/* Every row of (account, type) is looked at again at now (what it depends on changed,
 * e.g. a calendar's default alerts): next_check = now, fired_until at least now. */
int store_alert_touch(struct store_conn *c, const char *account, const char *type, int64_t now);
/* ---- push subscriptions (RFC 8620 §7.2) ---------------------------------------------------
 * One row per PushSubscription: its id, its user, the fingerprint of the credential that
 * created it (auth.h: only that credential sees it, and it goes when the credential
 * does) and the object as JSON text, url and keys included (they are never returned by
 * /get). Not account data: no change log, no state. */
typedef int (*store_pushsub_cb)(const char *id, int64_t user_id, const char *cred,
                                const char *data, void *ud);
/* Inserts or replaces the subscription id. */
int store_pushsub_put(struct store_conn *c, const char *id, int64_t user_id, const char *cred,
                      const char *data);
/* Removes it (STORE_OK also when it was not there). */
int store_pushsub_del(struct store_conn *c, const char *id);
/* The subscriptions of user_id, or every one when user_id is 0, in id order. */
int store_pushsub_list(struct store_conn *c, int64_t user_id, store_pushsub_cb cb, void *ud);
/* ---- object metadata (draft-ietf-jmap-metadata-02, issue 18) -----------------------------
 * A JMAP object's `metadata` and each user's `privateMetadata`, beside the object (never
 * in its row, so a change to either is not a change of the object): one row per
 * (account, type, object, user), user STORE_METADATA_SHARED for the shared metadata,
 * with the modseq of its last change (taken from the type's sequence, as an object's).
 * data is the JSON text of the namespaces object; a row emptied to "{}" is kept (its
 * modseq is a change /changes reports) until the object is destroyed. */
#define STORE_METADATA_SHARED 0
/* A row: the object id, whose it is (STORE_METADATA_SHARED or a user id), its JSON
 * text, its modseq and (store_metadata_changes only, else 0) the object's creation
 * modseq. Non-zero stops. */
typedef int (*store_metadata_cb)(const char *id, int64_t user_id, const char *data, int64_t modseq,
                                 int64_t created, void *ud);
/* The rows of the shared metadata and of user_id (0: shared only) of the n ids. */
int store_metadata_get(struct store_conn *c, const char *account, const char *type,
                       const char *const *ids, size_t n, int64_t user_id, store_metadata_cb cb,
                       void *ud);
/* Every row of the shared metadata and of user_id of (account, type) (queries). */
int store_metadata_scan(struct store_conn *c, const char *account, const char *type,
                        int64_t user_id, store_metadata_cb cb, void *ud);
/* Writes one row (data: JSON text) stamped with modseq, inside a write transaction. */
int store_metadata_put(struct store_conn *c, const char *account, const char *type, const char *id,
                       int64_t user_id, const char *data, int64_t modseq);
/* Removes every row of an object (it was destroyed); the freed bytes into *freed. */
int store_metadata_drop(struct store_conn *c, const char *account, const char *type, const char *id,
                        int64_t *freed);
/* The rows of the shared metadata and of user_id changed after since, of live
 * objects, with each object's creation modseq: in modseq order and at most max of
 * each of the two (SQLite: the shared rows first, then user_id's; the caller merges). */
int store_metadata_changes(struct store_conn *c, const char *account, const char *type,
                           int64_t user_id, int64_t since, size_t max, store_metadata_cb cb,
                           void *ud);
/* The bytes of metadata the account holds (the quota's measure), and a change of it. */
int64_t store_metadata_usage(struct store_conn *c, const char *account);
int store_metadata_usage_add(struct store_conn *c, const char *account, int64_t delta);
/* Per-viewer state (metadata-02 §2.2): the modseq of the type's last private write
 * and the highest modseq every user could see at that moment (0, 0 if none). */
int store_metadata_state_get(struct store_conn *c, const char *account, const char *type,
                             int64_t *last_private, int64_t *shared);
int store_metadata_state_put(struct store_conn *c, const char *account, const char *type,
                             int64_t last_private, int64_t shared);
/* In one statement: the type's modseq (*modseq), the state row above (0, 0 if none)
 * and user_id's highest private modseq (*mine, 0 if none): what the per-viewer state
 * is computed from, in the one round trip a plain state read takes. */
int store_metadata_viewer(struct store_conn *c, const char *account, const char *type,
                          int64_t user_id, int64_t *modseq, int64_t *last_private,
                          int64_t *shared, int64_t *mine);
/* The objects whose metadata row of user_id (STORE_METADATA_SHARED: the shared row)
 * holds top-level key with a non-empty object as its value (metadata-02 §3.5: the
 * candidates of a filter condition on that namespace), from an index kept beside
 * the rows: cb gets each id (data NULL, modseq 0). */
int store_metadata_with_key(struct store_conn *c, const char *account, const char *type,
                            int64_t user_id, const char *key, store_metadata_cb cb, void *ud);
/* The type's state as user_id sees it (-1: nobody's private writes): another
 * user's private metadata writes do not advance it (metadata-02 §2.2). What JMAP
 * and DAV (CTag, sync token) show a user. */
int64_t store_state_viewer(struct store_conn *c, const char *account, const char *type,
                           int64_t user_id);

/* ---- DAV write locks (issue 20; RFC 4918 §6, §9.10) --------------------------------------
 * The locks WebDAV clients take, one row per lock, kept in the store so that every front
 * end on one database (and every process on one SQLite data directory) honours a lock
 * any of them granted. Not account data: no change log, no state. dav/dav_lock.c gives
 * the rows their meaning; expires is Unix time (seconds), owner XML text or NULL. A
 * user's locks go with the user (store_user_del); `jmapd migrate` copies them. */
struct store_davlock {
    const char *token, *path, *owner;
    int64_t user_id, expires;
    int seconds;
    bool exclusive, infinite;
};
typedef int (*store_davlock_cb)(const struct store_davlock *l, void *ud);
/* Inserts a lock or replaces the one with its token. */
int store_davlock_put(struct store_conn *c, const struct store_davlock *l);
/* Removes the lock token (STORE_OK also when it was not there). */
int store_davlock_del(struct store_conn *c, const char *token);
/* Removes the locks expired at now. */
int store_davlock_prune(struct store_conn *c, int64_t now);
/* cb with each lock not expired at now, in token order, until it returns non-zero. */
int store_davlock_list(struct store_conn *c, int64_t now, store_davlock_cb cb, void *ud);

#endif
