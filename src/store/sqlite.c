/*
 * sqlite.c — the SQLite backend of store.h. One database file (data/jmapd.db) in WAL
 * mode; one connection per thread, opened on first use and closed with the thread
 * or at store_close; prepared statements cached per connection, keyed by the address
 * of their SQL text. The schema is versioned in PRAGMA user_version and migrated
 * forward at open. synchronous=FULL: a commit is on disk before it is acknowledged,
 * so acknowledged writes survive kill -9 and power loss alike.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/sqlite_internal.h"
#include "util/util.h"

struct store {
    const struct store_ops *ops; /* first: backend.h */
    char *path;
    pthread_key_t key;
    pthread_mutex_t lock;
    /* Writers of this process queue here rather than in SQLite's busy handler,
     * which sleeps in growing steps and makes long tails under load. */
    pthread_mutex_t write_lock;
    struct store_conn *conns;
};

static void sq_close(struct store *st);
static struct store_conn *sq_conn(struct store *st);
static void sq_rollback(struct store_conn *c);
static void sq_retry_mark(struct store_conn *c);
static struct store_bus *sq_bus_open(struct store *st, void (*cb)(const char *msg, void *ud),
                                     void *ud);
static const struct store_ops sq_ops = {.name = "sqlite",
                                        .close = sq_close,
                                        .conn = sq_conn,
                                        .rollback = sq_rollback,
                                        .retry_mark = sq_retry_mark,
                                        .bus_open = sq_bus_open,
                                        STORE_OPS(STORE_OP_INIT)};

/* The processes of one data directory tell each other what they committed
 * (sqlite_bus.c), as PostgreSQL's front ends do with LISTEN/NOTIFY. */
static struct store_bus *sq_bus_open(struct store *st, void (*cb)(const char *msg, void *ud),
                                     void *ud)
{
    return store_sq_bus_open(st->path, cb, ud);
}

/* ---- schema ------------------------------------------------------------------ */

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_error("sqlite: %s (in %.60s)", msg ? msg : "?", sql);
        sqlite3_free(msg);
        return STORE_ERR;
    }
    return STORE_OK;
}

static int migrate(sqlite3 *db)
{
    sqlite3_stmt *s;
    int version = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
        return STORE_ERR;
    if (sqlite3_step(s) == SQLITE_ROW)
        version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    int target = store_sqlite_schema();
    if (version > target) {
        log_error("database schema version %d is newer than this jmapd (%d)", version, target);
        return STORE_ERR;
    }
    for (int v = version; v < target; v++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", v + 1);
        if (exec(db, "BEGIN IMMEDIATE") || exec(db, sq_migration(v)) || exec(db, pragma)) {
            exec(db, "ROLLBACK");
            return STORE_ERR;
        }
        if (exec(db, "COMMIT"))
            return STORE_ERR;
        log_info("database migrated to schema version %d", v + 1);
    }
    return STORE_OK;
}

/* ---- connections --------------------------------------------------------------- */

static int busy_timeout_ms = 10000;

void store_sqlite_set_busy_timeout(int ms)
{
    busy_timeout_ms = ms;
}

static int page_cache_kib = 2000;

void store_sqlite_set_page_cache(int kib)
{
    page_cache_kib = kib;
}

/* Issue 21 §1: SQLite's memory statistics take one process-wide mutex on every
 * allocation and free of every connection, so concurrent readers on their own
 * connections still queue on it; nothing here reads those statistics (no heap limit).
 * Set before the library initialises (sqlite3_config refuses it after: harmless). */
static void memstatus_off(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static sqlite3 *open_db(const char *path)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, memstatus_off);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        log_error("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, busy_timeout_ms);
    /* 2 MB of page cache per connection (issue 21): every worker thread has its own
     * connection, and at 8 MB each they held 56 MB more of a 100,000-event server's
     * RSS than at 2 MB, for no measurable CPU per query (the pages stay in the OS's
     * file cache) */
    char cache[64];
    snprintf(cache, sizeof cache, "PRAGMA cache_size=-%d", page_cache_kib);
    /* Issue 21: pages of 8 KiB for a new database (an existing one keeps its size: the
     * pragma changes nothing once the file has pages). objects is a WITHOUT ROWID table,
     * whose cells hold at most about a quarter of a page: with 4 KiB pages every event of
     * more than ~1,000 bytes of JSON put its rest on an overflow page of its own, mostly
     * empty. 100,000 generated events took 365 MB, 191 MB with 8 KiB pages, and their
     * import 9.4 -> 7.0 CPU s (10,000: 0.80 -> 0.66 s). Before journal_mode, which
     * writes the new file's first page. */
    if (exec(db, "PRAGMA page_size=8192") ||
        exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                 "PRAGMA temp_store=MEMORY") ||
        exec(db, cache)) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static void conn_free(struct store_conn *c)
{
    /* what the page cache did for this connection (issue 21: how a bulk import's
     * B-trees fit in it; `log_level = debug`) */
    int hit = 0, miss = 0, write = 0, spill = 0, used = 0, hw;
    sqlite3_db_status(c->db, SQLITE_DBSTATUS_CACHE_HIT, &hit, &hw, 0);
    sqlite3_db_status(c->db, SQLITE_DBSTATUS_CACHE_MISS, &miss, &hw, 0);
    sqlite3_db_status(c->db, SQLITE_DBSTATUS_CACHE_WRITE, &write, &hw, 0);
    sqlite3_db_status(c->db, SQLITE_DBSTATUS_CACHE_SPILL, &spill, &hw, 0);
    sqlite3_db_status(c->db, SQLITE_DBSTATUS_CACHE_USED, &used, &hw, 0);
    log_debug("sqlite: connection closed: page cache %d hits, %d misses, %d writes, %d spills, "
              "%d KiB held",
              hit, miss, write, spill, used / 1024);
    for (int i = 0; i < STMT_CACHE; i++)
        if (c->cache[i].stmt)
            sqlite3_finalize(c->cache[i].stmt);
    sqlite3_close(c->db);
    free(c);
}

/* Thread exit: unlink and close this thread's connection. */
static void conn_release(void *p)
{
    struct store_conn *c = p;
    struct store *st = c->st;
    pthread_mutex_lock(&st->lock);
    for (struct store_conn **pp = &st->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    pthread_mutex_unlock(&st->lock);
    conn_free(c);
}

/* Issue 19 §13: the database holds every password hash and every user's data. A data
 * directory jmapd creates or initialises is made 0700, whatever the umask; jmapd.db is
 * created 0600 before SQLite opens it (SQLite creates -wal and -shm with the mode of
 * the database file), and files left wider by an older jmapd are narrowed. */
static int make_private(const char *dir, const char *db, char **err)
{
    struct stat sb;
    bool fresh = stat(db, &sb) != 0;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        if (asprintf(err, "cannot create %s: %s", dir, strerror(errno)) < 0)
            *err = NULL;
        return -1;
    }
    if (fresh && chmod(dir, 0700) != 0)
        log_warn("cannot make %s private: %s", dir, strerror(errno));
    else if (!fresh && stat(dir, &sb) == 0 && (sb.st_mode & 077))
        log_warn("%s is accessible to other users; it should be mode 0700", dir);
    int fd = open(db, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (asprintf(err, "cannot create %s: %s", db, strerror(errno)) < 0)
            *err = NULL;
        return -1;
    }
    if (fstat(fd, &sb) == 0 && (sb.st_mode & 077) && fchmod(fd, 0600) != 0)
        log_warn("cannot make %s private: %s", db, strerror(errno));
    close(fd);
    for (int i = 0; i < 2; i++) {
        char side[4200];
        snprintf(side, sizeof side, "%s%s", db, i ? "-shm" : "-wal");
        if (stat(side, &sb) == 0 && (sb.st_mode & 077) && chmod(side, 0600) != 0)
            log_warn("cannot make %s private: %s", side, strerror(errno));
    }
    return 0;
}

struct store *store_sqlite_open(const char *dir, char **err)
{
    struct store *st = xcalloc(1, sizeof *st);
    st->ops = &sq_ops;
    st->path = xasprintf("%s/jmapd.db", dir);
    if (make_private(dir, st->path, err) != 0) {
        free(st->path);
        free(st);
        return NULL;
    }
    pthread_mutex_init(&st->lock, NULL);
    pthread_mutex_init(&st->write_lock, NULL);
    pthread_key_create(&st->key, conn_release);
    sqlite3 *db = open_db(st->path);
    if (!db || migrate(db) != STORE_OK) {
        sqlite3_close(db);
        if (asprintf(err, "cannot open database %s", st->path) < 0)
            *err = NULL;
        pthread_key_delete(st->key);
        free(st->path);
        free(st);
        return NULL;
    }
    sqlite3_close(db);
    return st;
}

static void sq_close(struct store *st)
{
    pthread_mutex_lock(&st->lock);
    struct store_conn *c = st->conns;
    st->conns = NULL;
    pthread_mutex_unlock(&st->lock);
    while (c) {
        struct store_conn *next = c->next;
        if (!next)
            sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        conn_free(c);
        c = next;
    }
    pthread_setspecific(st->key, NULL);
    pthread_key_delete(st->key);
    pthread_mutex_destroy(&st->lock);
    pthread_mutex_destroy(&st->write_lock);
    free(st->path);
    free(st);
}

static int write_guard(void *ud);

static struct store_conn *sq_conn(struct store *st)
{
    struct store_conn *c = pthread_getspecific(st->key);
    if (c)
        return c;
    c = xcalloc(1, sizeof *c);
    c->ops = &sq_ops;
    c->st = st;
    c->db = open_db(st->path);
    if (!c->db) {
        free(c);
        return NULL;
    }
    sqlite3_commit_hook(c->db, write_guard, c);
    pthread_mutex_lock(&st->lock);
    c->next = st->conns;
    st->conns = c;
    pthread_mutex_unlock(&st->lock);
    pthread_setspecific(st->key, c);
    return c;
}

/* The cached statement for sql (a string literal: its address is the key), reset
 * and with bindings cleared. */
sqlite3_stmt *sq_stmt(struct store_conn *c, const char *sql)
{
    size_t h = ((uintptr_t)sql >> 3) % STMT_CACHE;
    for (size_t i = 0; i < STMT_CACHE; i++) {
        size_t k = (h + i) % STMT_CACHE;
        if (c->cache[k].sql == sql) {
            sqlite3_reset(c->cache[k].stmt);
            sqlite3_clear_bindings(c->cache[k].stmt);
            return c->cache[k].stmt;
        }
        if (!c->cache[k].sql) {
            sqlite3_stmt *s = NULL;
            if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
                SQLITE_OK) {
                log_error("sqlite prepare: %s", sqlite3_errmsg(c->db));
                return NULL;
            }
            c->cache[k].sql = sql;
            c->cache[k].stmt = s;
            return s;
        }
    }
    log_error("sqlite: statement cache full");
    return NULL;
}

/* Whether sql's cached statement is being stepped (a caller up the stack). */
static bool stmt_in_use(struct store_conn *c, const char *sql)
{
    for (size_t i = 0; i < STMT_CACHE; i++)
        if (c->cache[i].sql == sql)
            return sqlite3_stmt_busy(c->cache[i].stmt) != 0;
    return false;
}

void sq_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Runs a statement that returns no rows; maps constraint violations to EXISTS. */
int sq_step_done(struct store_conn *c, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return STORE_OK;
    if (c->writing && sqlite3_get_autocommit(c->db))
        c->lost = true; /* e.g. SQLITE_FULL: the transaction is gone (see write_guard) */
    if ((rc & 0xff) == SQLITE_CONSTRAINT && !c->lost)
        return STORE_EXISTS;
    log_error("sqlite step: %s", sqlite3_errmsg(c->db));
    return STORE_ERR;
}

static void write_unlock(struct store_conn *c)
{
    if (c->writing) {
        c->writing = false;
        pthread_mutex_unlock(&c->st->write_lock);
    }
}

/* ---- bulk writes (issue 21) -----------------------------------------------------------
 * FTS5 merges an index's segments as it writes them (automerge: four of a level into
 * one of the next), so each row is rewritten once per level, and the levels grow with
 * the index: at 20,000 imported cards nine tenths of the import's instructions beyond
 * ten times those of 2,000 were these merges. A bulk write (`jmapd import`) merges
 * nothing while it writes (automerge 0; a crisis merge only past 64 segments of a
 * level) and, before its commit, merges what it wrote in one pass of up to 16 segments
 * into one (usermerge 16), then sets the defaults again. All inside the transaction:
 * one rolled back leaves the settings as they were. */
static bool bulk_writes;

void store_sqlite_set_bulk_writes(bool on)
{
    bulk_writes = on;
}

static const char *const fts_tables[] = {"object_grams", "object_fields"};

/* Sets FTS5 option name to value on each full-text table. */
static int fts_option(struct store_conn *c, const char *name, int value)
{
    for (size_t i = 0; i < sizeof fts_tables / sizeof *fts_tables; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "INSERT INTO %s(%s, rank) VALUES('%s', %d)", fts_tables[i],
                 fts_tables[i], name, value);
        if (exec(c->db, sql))
            return STORE_ERR;
    }
    return STORE_OK;
}

static int bulk_begin(struct store_conn *c)
{
    return fts_option(c, "automerge", 0) || fts_option(c, "crisismerge", 64) ? STORE_ERR : STORE_OK;
}

static int bulk_end(struct store_conn *c)
{
    if (fts_option(c, "usermerge", 16))
        return STORE_ERR;
    for (size_t i = 0; i < sizeof fts_tables / sizeof *fts_tables; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "INSERT INTO %s(%s, rank) VALUES('merge', 4000)", fts_tables[i],
                 fts_tables[i]);
        /* FTS5: a 'merge' that changed fewer than two rows did no work (the command's
         * own row is one) */
        for (;;) {
            int before = sqlite3_total_changes(c->db);
            if (exec(c->db, sql))
                return STORE_ERR;
            if (sqlite3_total_changes(c->db) - before < 2)
                break;
        }
    }
    /* FTS5's defaults (fts5_config.c) */
    return fts_option(c, "usermerge", 4) || fts_option(c, "automerge", 4) ||
                   fts_option(c, "crisismerge", 16)
               ? STORE_ERR
               : STORE_OK;
}

int sq_begin(struct store_conn *c, bool write)
{
    static const char *const begin_w = "BEGIN IMMEDIATE", *const begin_r = "BEGIN";
    sqlite3_stmt *s = sq_stmt(c, write ? begin_w : begin_r);
    if (!s)
        return STORE_ERR;
    if (write) {
        pthread_mutex_lock(&c->st->write_lock);
        c->writing = true;
    }
    int rc = sq_step_done(c, s);
    c->lost = false; /* a BEGIN that failed (SQLITE_BUSY) had no transaction to lose */
    c->ncounts = 0;
    if (rc == STORE_OK && write && bulk_writes && bulk_begin(c)) {
        sq_rollback(c);
        return STORE_ERR;
    }
    if (rc != STORE_OK)
        write_unlock(c);
    return rc;
}

/* A write transaction SQLite rolled back by itself (SQLITE_FULL, SQLITE_IOERR,
 * SQLITE_NOMEM: "the transaction may be rolled back automatically") must not let the
 * caller's next statements run in autocommit mode: the writes of the call before the
 * failure would be gone while those after it were committed, one by one. So while
 * a store write transaction is open, SQLite commits only sq_commit's COMMIT; any
 * other commit is refused (the statement fails, nothing is written), the
 * transaction counts as still open for the caller (store_in_write) and lost, and
 * sq_commit of a lost transaction fails: the call answers serverFail having changed
 * nothing (RFC 8620 §3.6.2; issue 15: a full disk gives errors, not corruption). */
static int write_guard(void *ud)
{
    struct store_conn *c = ud;
    if (!c->writing || c->committing)
        return 0;
    c->lost = true;
    return 1;
}

bool sq_in_write(struct store_conn *c)
{
    return c->writing && (c->lost || !sqlite3_get_autocommit(c->db));
}

int sq_commit(struct store_conn *c)
{
    static const char *const sql = "COMMIT";
    if (c->lost) {
        log_error("sqlite: the write transaction was rolled back after an error");
        return STORE_ERR; /* the caller rolls back */
    }
    if (sq_count_flush(c) || (bulk_writes && bulk_end(c)))
        return STORE_ERR; /* the caller rolls back */
    sqlite3_stmt *s = sq_stmt(c, sql);
    c->committing = true;
    int rc = s ? sq_step_done(c, s) : STORE_ERR;
    c->committing = false;
    if (rc == STORE_OK)
        write_unlock(c); /* on failure the caller rolls back, which unlocks */
    return rc;
}

static void sq_rollback(struct store_conn *c)
{
    static const char *const sql = "ROLLBACK";
    if (!sqlite3_get_autocommit(c->db)) {
        sqlite3_stmt *s = sq_stmt(c, sql);
        if (s)
            sq_step_done(c, s);
    }
    c->lost = false;
    c->ncounts = 0; /* the transaction's count changes go with it */
    write_unlock(c);
}

/* store_retryable: never on SQLite (store.h), so there is nothing to mark. */
static void sq_retry_mark(struct store_conn *c)
{
    (void)c;
}

bool sq_retryable(struct store_conn *c)
{
    (void)c;
    return false;
}

/* The database file answers a trivial query (/health). */
int sq_ping(struct store_conn *c)
{
    return exec(c->db, "SELECT 1");
}

/* ---- users ------------------------------------------------------------------------ */


static int read_user(sqlite3_stmt *s, struct store_user *out)
{
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
    }
    out->id = sqlite3_column_int64(s, 0);
    snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(s, 1));
    out->pwhash = xstrdup((const char *)sqlite3_column_text(s, 2));
    snprintf(out->account_id, sizeof out->account_id, "%s",
             (const char *)sqlite3_column_text(s, 3));
    sqlite3_reset(s);
    return STORE_OK;
}

int sq_user_add(struct store_conn *c, const char *name, const char *pwhash,
            const char *account_id)
{
    sqlite3_stmt *s = sq_stmt(c, "INSERT INTO users(name, pwhash, account_id, created) "
                              "VALUES(?,?,?,?)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, name);
    sq_bind_text(s, 2, pwhash);
    sq_bind_text(s, 3, account_id);
    sqlite3_bind_int64(s, 4, util_now());
    int rc = sq_step_done(c, s);
    if (rc)
        return rc;
    int64_t uid = sqlite3_last_insert_rowid(c->db);
    return sq_access_grant(c, uid, account_id, true);
}

int sq_user_get(struct store_conn *c, const char *name, struct store_user *out)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT id, name, pwhash, account_id FROM users WHERE name=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, name);
    return read_user(s, out);
}

int sq_user_get_by_id(struct store_conn *c, int64_t id, struct store_user *out)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT id, name, pwhash, account_id FROM users WHERE id=?");
    if (!s)
        return STORE_ERR;
    sqlite3_bind_int64(s, 1, id);
    return read_user(s, out);
}

int sq_user_by_account(struct store_conn *c, const char *account_id, struct store_user *out)
{
    sqlite3_stmt *s =
        sq_stmt(c, "SELECT id, name, pwhash, account_id FROM users WHERE account_id=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account_id);
    return read_user(s, out);
}

int sq_user_del(struct store_conn *c, const char *name)
{
    struct store_user u = {0};
    int rc = sq_user_get(c, name, &u);
    if (rc)
        return rc;
    store_user_clear(&u);
    if ((rc = sq_count_flush(c))) /* the account's counts go below */
        return rc;
    static const char *const dels[] = {
        "DELETE FROM objects WHERE account_id=?1",
        ("DELETE FROM object_fields WHERE rowid IN (SELECT text_rowid FROM object_index WHERE "
         "account_id=?1)"),
        "DELETE FROM object_index WHERE account_id=?1",
        "DELETE FROM object_counts WHERE account_id=?1",
        ("INSERT INTO object_grams(object_grams, rowid, g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, "
         "g10, g11) SELECT 'delete', n, g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10, g11 FROM "
         "object_grams_src WHERE account_id=?1"),
        "DELETE FROM object_grams_src WHERE account_id=?1",
        "DELETE FROM object_grams_done WHERE account_id=?1",
        "DELETE FROM object_grams_keys WHERE account_id=?1",
        "DELETE FROM states WHERE account_id=?1",
        "DELETE FROM blob_uploads WHERE account_id=?1",
        "DELETE FROM blob_refs WHERE account_id=?1",
        "DELETE FROM access WHERE account_id=?1",
        "DELETE FROM shares WHERE account_id=?1 OR principal_id=?1",
        /* issue 20: anyone's DAV locks on the account's URLs (its homes, and its
         * collections shared into other homes as "{account}~{id}", dav_shared.c) */
        ("DELETE FROM dav_locks WHERE path IN ('/dav/calendars/'||?1, '/dav/addressbooks/'||?1) "
         "OR instr(path, '/dav/calendars/'||?1||'/')=1 OR instr(path, "
         "'/dav/addressbooks/'||?1||'/')=1 OR instr(path, '/'||?1||'~')>0"),
        "DELETE FROM object_members WHERE account_id=?1",
        "DELETE FROM user_props WHERE account_id=?1",
        "DELETE FROM object_metadata WHERE account_id=?1",
        "DELETE FROM metadata_usage WHERE account_id=?1",
        "DELETE FROM metadata_state WHERE account_id=?1",
    };
    for (size_t i = 0; i < sizeof dels / sizeof dels[0]; i++) {
        sqlite3_stmt *s = sq_stmt(c, dels[i]);
        if (!s)
            return STORE_ERR;
        sq_bind_text(s, 1, u.account_id);
        if ((rc = sq_step_done(c, s)))
            return rc;
    }
    static const char *const byuser[] = {
        "DELETE FROM access WHERE user_id=?1",
        "DELETE FROM group_members WHERE user_id=?1",
        "DELETE FROM user_props WHERE user_id=?1",
        /* a later user may get the same id: their private metadata must not be it */
        "DELETE FROM object_metadata WHERE user_id=?1",
        "DELETE FROM tokens WHERE user_id=?1",
        "DELETE FROM dav_locks WHERE user_id=?1", /* issue 20: their DAV locks (RFC 4918 §6) */
        "DELETE FROM users WHERE id=?1",
    };
    for (size_t i = 0; i < sizeof byuser / sizeof byuser[0]; i++) {
        sqlite3_stmt *s = sq_stmt(c, byuser[i]);
        if (!s)
            return STORE_ERR;
        sqlite3_bind_int64(s, 1, u.id);
        if ((rc = sq_step_done(c, s)))
            return rc;
    }
    return STORE_OK;
}

int sq_user_set_password(struct store_conn *c, const char *name, const char *pwhash)
{
    sqlite3_stmt *s = sq_stmt(c, "UPDATE users SET pwhash=? WHERE name=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, pwhash);
    sq_bind_text(s, 2, name);
    int rc = sq_step_done(c, s);
    if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
        return STORE_NOTFOUND;
    return rc;
}

int sq_user_list(struct store_conn *c, int (*cb)(const char *name, void *ud), void *ud)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT name FROM users ORDER BY name");
    if (!s)
        return STORE_ERR;
    while (sqlite3_step(s) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(s, 0), ud))
            break;
    sqlite3_reset(s);
    return STORE_OK;
}

int sq_user_count(struct store_conn *c)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT count(*) FROM users");
    if (!s)
        return -1;
    int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    sqlite3_reset(s);
    return n;
}

int sq_user_accounts(struct store_conn *c, int64_t user_id, struct store_access *out, int max)
{
    /* The accounts granted whole (access), then those reached through shares of
     * the user's principal or of a group they are in (issue 14), unless the user
     * has unsubscribed from every shared object of that account. */
    sqlite3_stmt *s = sq_stmt(
        c, "SELECT a.account_id, u.name, a.may_write, u.id = a.user_id, 0, 1, 1 "
           "FROM access a JOIN users u ON u.account_id = a.account_id WHERE a.user_id=?1 "
           "UNION ALL "
           "SELECT s.account_id, u.name, max(s.may_write), 0, 1, max(s.may_read AND NOT EXISTS("
           "  SELECT 1 FROM user_props p WHERE p.user_id=?1 AND p.account_id=s.account_id AND "
           "  p.type=s.type AND p.object_id=s.object_id AND "
           "  json_extract(p.data, '$.isSubscribed') = 0)), max(s.may_read) FROM shares s "
           "JOIN users u ON u.account_id = s.account_id "
           "WHERE (s.principal_id = (SELECT account_id FROM users WHERE id=?1) "
           "  OR s.principal_id IN (SELECT group_id FROM group_members WHERE user_id=?1)) "
           "  AND s.account_id NOT IN (SELECT account_id FROM access WHERE user_id=?1) "
           "GROUP BY s.account_id "
           "ORDER BY 4 DESC, 2");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, user_id);
    int n = 0;
    while (n < max && sqlite3_step(s) == SQLITE_ROW) {
        snprintf(out[n].account_id, sizeof out[n].account_id, "%s",
                 (const char *)sqlite3_column_text(s, 0));
        snprintf(out[n].name, sizeof out[n].name, "%s", (const char *)sqlite3_column_text(s, 1));
        out[n].may_write = sqlite3_column_int(s, 2) != 0;
        out[n].is_personal = sqlite3_column_int(s, 3) != 0;
        out[n].shared = sqlite3_column_int(s, 4) != 0;
        out[n].subscribed = sqlite3_column_int(s, 5) != 0;
        out[n].readable = sqlite3_column_int(s, 6) != 0;
        n++;
    }
    sqlite3_reset(s);
    return n;
}

int sq_access_grant(struct store_conn *c, int64_t user_id, const char *account_id,
                bool may_write)
{
    sqlite3_stmt *s =
        sq_stmt(c, "INSERT OR REPLACE INTO access(user_id, account_id, may_write) VALUES(?,?,?)");
    if (!s)
        return STORE_ERR;
    sqlite3_bind_int64(s, 1, user_id);
    sq_bind_text(s, 2, account_id);
    sqlite3_bind_int(s, 3, may_write);
    return sq_step_done(c, s);
}

/* ---- tokens --------------------------------------------------------------------------- */

int sq_token_add(struct store_conn *c, int64_t user_id, const char *token_hash,
             const char *token_id, const char *label)
{
    sqlite3_stmt *s =
        sq_stmt(c, "INSERT INTO tokens(hash, id, user_id, label, created) VALUES(?,?,?,?,?)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, token_hash);
    sq_bind_text(s, 2, token_id);
    sqlite3_bind_int64(s, 3, user_id);
    sq_bind_text(s, 4, label);
    sqlite3_bind_int64(s, 5, util_now());
    return sq_step_done(c, s);
}

int sq_token_lookup(struct store_conn *c, const char *token_hash, int64_t *user_id)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT user_id FROM tokens WHERE hash=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, token_hash);
    int rc = sqlite3_step(s) == SQLITE_ROW ? STORE_OK : STORE_NOTFOUND;
    if (rc == STORE_OK)
        *user_id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc;
}

int sq_token_list(struct store_conn *c, int64_t user_id,
              int (*cb)(const char *id, const char *label, int64_t created, void *ud),
              void *ud)
{
    sqlite3_stmt *s = sq_stmt(
        c, "SELECT id, coalesce(label,''), created FROM tokens WHERE user_id=? ORDER BY created");
    if (!s)
        return STORE_ERR;
    sqlite3_bind_int64(s, 1, user_id);
    while (sqlite3_step(s) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
               sqlite3_column_int64(s, 2), ud))
            break;
    sqlite3_reset(s);
    return STORE_OK;
}

int sq_token_revoke(struct store_conn *c, const char *token_id)
{
    sqlite3_stmt *s = sq_stmt(c, "DELETE FROM tokens WHERE id=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, token_id);
    int rc = sq_step_done(c, s);
    if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
        return STORE_NOTFOUND;
    return rc;
}

/* ---- states and objects ------------------------------------------------------------------- */

static int64_t state_col(struct store_conn *c, const char *sql, const char *account,
                         const char *type)
{
    sqlite3_stmt *s = sq_stmt(c, sql);
    if (!s)
        return -1;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    return v;
}

int64_t sq_state_get(struct store_conn *c, const char *account, const char *type)
{
    return state_col(c, "SELECT modseq FROM states WHERE account_id=? AND type=?", account, type);
}

int64_t sq_state_lowest(struct store_conn *c, const char *account, const char *type)
{
    return state_col(c, "SELECT lowest FROM states WHERE account_id=? AND type=?", account, type);
}

int64_t sq_state_bump(struct store_conn *c, const char *account, const char *type)
{
    assert(c->writing); /* store.h: every change runs in a write transaction */
    /* A plain UPDATE and a SELECT, or an INSERT for a type's first write: an upsert
     * (INSERT ... ON CONFLICT) or a RETURNING clause takes a statement journal, and a
     * statement journal inside a transaction that wrote to the full-text index makes
     * FTS5 flush its pending terms (xSavepoint): per object of an import, 20% of its
     * instructions (issue 21). The write lock makes the steps safe. */
    sqlite3_stmt *s = sq_stmt(c, "UPDATE states SET modseq=modseq+1 WHERE account_id=?1 AND "
                                 "type=?2");
    if (!s)
        return -1;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    if (sq_step_done(c, s) != STORE_OK)
        return -1;
    int64_t v = -1;
    if (sqlite3_changes(c->db) == 1) {
        s = sq_stmt(c, "SELECT modseq FROM states WHERE account_id=?1 AND type=?2");
        if (!s)
            return -1;
        sq_bind_text(s, 1, account);
        sq_bind_text(s, 2, type);
        v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
        sqlite3_reset(s);
    } else {
        s = sq_stmt(c, "INSERT INTO states(account_id, type, modseq) VALUES(?1,?2,1)");
        if (!s)
            return -1;
        sq_bind_text(s, 1, account);
        sq_bind_text(s, 2, type);
        v = sq_step_done(c, s) == STORE_OK ? 1 : -1;
    }
    assert(v != 0); /* modseqs start at 1 and only grow */
    return v;
}

json_t *sq_object_get(struct store_conn *c, const char *account, const char *type,
                  const char *id)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT data FROM objects WHERE account_id=? AND type=? AND id=? "
                              "AND destroyed=0");
    if (!s)
        return NULL;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    json_t *obj = NULL;
    if (sqlite3_step(s) == SQLITE_ROW) {
        json_error_t e;
        obj = json_loadb((const char *)sqlite3_column_blob(s, 0),
                         (size_t)sqlite3_column_bytes(s, 0), 0, &e);
    }
    sqlite3_reset(s);
    return obj;
}

bool sq_object_exists(struct store_conn *c, const char *account, const char *type,
                  const char *id)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT 1 FROM objects WHERE account_id=? AND type=? AND id=? "
                              "AND destroyed=0");
    if (!s)
        return false;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    bool found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_reset(s);
    return found;
}

char *sq_object_find_key(struct store_conn *c, const char *account, const char *type,
                         const char *key)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT id FROM objects WHERE account_id=? AND type=? AND "
                                 "ukey=? AND destroyed=0");
    if (!s)
        return NULL;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, key);
    char *id = sqlite3_step(s) == SQLITE_ROW ? xstrdup((const char *)sqlite3_column_text(s, 0))
                                             : NULL;
    sqlite3_reset(s);
    return id;
}

int sq_object_put(struct store_conn *c, const char *account, const char *type,
              const char *id, json_t *data, int64_t modseq, bool create,
              const char *unique_key)
{
    assert(c->writing && modseq > 0);
    char *text = store_json_text(data);
    if (!text)
        return STORE_ERR;
    /* A create may reuse the id of a destroyed object only if ids were ever reused;
     * they are random, so a conflicting live row means a genuine duplicate. */
    sqlite3_stmt *s =
        create ? sq_stmt(c, "INSERT INTO objects(account_id, type, id, data, created_modseq, "
                         "updated_modseq, ukey) VALUES(?1,?2,?3,?4,?5,?5,?6)")
               : sq_stmt(c, "UPDATE objects SET data=?4, updated_modseq=?5, ukey=?6 "
                         "WHERE account_id=?1 AND type=?2 AND id=?3 AND destroyed=0");
    if (!s) {
        free(text);
        return STORE_ERR;
    }
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    sqlite3_bind_text(s, 4, text, -1, free);
    sqlite3_bind_int64(s, 5, modseq);
    if (unique_key)
        sq_bind_text(s, 6, unique_key);
    else
        sqlite3_bind_null(s, 6);
    int rc = sq_step_done(c, s); /* the unique index answers STORE_EXISTS */
    if (rc == STORE_OK && !create && sqlite3_changes(c->db) == 0)
        return STORE_NOTFOUND;
    return rc == STORE_OK && create ? sq_count_add(c, account, type, 1, 0) : rc;
}

int sq_object_destroy(struct store_conn *c, const char *account, const char *type,
                  const char *id, int64_t modseq)
{
    assert(c->writing && modseq > 0);
    sqlite3_stmt *s =
        sq_stmt(c, "UPDATE objects SET data=NULL, ukey=NULL, destroyed=1, updated_modseq=?4 "
                   "WHERE account_id=?1 AND type=?2 AND id=?3 AND destroyed=0");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    sqlite3_bind_int64(s, 4, modseq);
    int rc = sq_step_done(c, s);
    if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
        return STORE_NOTFOUND;
    return rc == STORE_OK ? sq_count_add(c, account, type, -1, 0) : rc;
}

/* Two single-row statements, not an upsert or a trigger: a statement that may write more
 * than one row opens a savepoint, at which FTS5 flushes its pending terms (issue 21). */
static int count_write(struct store_conn *c, const char *account, const char *type, int live,
                       int indexed)
{
    static const char *const sql[] = {
        "UPDATE object_counts SET live=live+?3, indexed=indexed+?4 WHERE account_id=?1 AND "
        "type=?2",
        "INSERT INTO object_counts(account_id, type, live, indexed) VALUES(?1,?2,?3,?4)"};
    for (size_t k = 0; k < 2; k++) { /* the row's update, or its first insert */
        sqlite3_stmt *s = sq_stmt(c, sql[k]);
        if (!s)
            return STORE_ERR;
        sq_bind_text(s, 1, account);
        sq_bind_text(s, 2, type);
        sqlite3_bind_int(s, 3, live);
        sqlite3_bind_int(s, 4, indexed);
        int rc = sq_step_done(c, s);
        if (rc || sqlite3_changes(c->db))
            return rc;
    }
    return STORE_ERR;
}

int sq_count_flush(struct store_conn *c)
{
    int rc = STORE_OK;
    for (size_t k = 0; k < c->ncounts && rc == STORE_OK; k++)
        if (c->counts[k].live || c->counts[k].indexed)
            rc = count_write(c, c->counts[k].account, c->counts[k].type, c->counts[k].live,
                             c->counts[k].indexed);
    c->ncounts = 0;
    return rc;
}

/* Kept per (account, type) until the commit (issue 21: a row written per object cost an
 * import 2.4% more instructions; a transaction writes few pairs). */
int sq_count_add(struct store_conn *c, const char *account, const char *type, int live, int indexed)
{
    size_t k = 0;
    while (k < c->ncounts &&
           (strcmp(c->counts[k].account, account) || strcmp(c->counts[k].type, type)))
        k++;
    if (k == c->ncounts) {
        size_t cap = sizeof c->counts / sizeof c->counts[0];
        if (strlen(account) >= sizeof c->counts[0].account ||
            strlen(type) >= sizeof c->counts[0].type)
            return count_write(c, account, type, live, indexed);
        if (k == cap) {
            int rc = sq_count_flush(c);
            if (rc)
                return rc;
            k = 0;
        }
        snprintf(c->counts[k].account, sizeof c->counts[k].account, "%s", account);
        snprintf(c->counts[k].type, sizeof c->counts[k].type, "%s", type);
        c->counts[k].live = c->counts[k].indexed = 0;
        c->ncounts = k + 1;
    }
    c->counts[k].live += live;
    c->counts[k].indexed += indexed;
    return STORE_OK;
}

int sq_object_foreach(struct store_conn *c, const char *account, const char *type,
                  int (*cb)(const char *id, json_t *obj, void *ud), void *ud)
{
    /* The callback may itself use the store, even this query (re-entrancy): the
     * cached statement unless a caller is stepping it, else a fresh one (issue 21:
     * preparing it per call was 8% of an import, which reads the identities per
     * event) */
    static const char *const sql = "SELECT id, data FROM objects WHERE account_id=? AND "
                                   "type=? AND destroyed=0 ORDER BY id";
    bool fresh = stmt_in_use(c, sql);
    sqlite3_stmt *s = NULL;
    if (fresh ? sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK : !(s = sq_stmt(c, sql)))
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    int rc = STORE_OK;
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_error_t e;
        json_t *obj = json_loadb((const char *)sqlite3_column_blob(s, 1),
                                 (size_t)sqlite3_column_bytes(s, 1), 0, &e);
        if (!obj)
            continue;
        int stop = cb((const char *)sqlite3_column_text(s, 0), obj, ud);
        json_decref(obj);
        if (stop) {
            rc = stop;
            break;
        }
    }
    if (fresh)
        sqlite3_finalize(s);
    else
        sqlite3_reset(s);
    return rc;
}

int sq_object_count(struct store_conn *c, const char *account, const char *type)
{
    /* kept on each write (sq_count_add; issue 21: count(*) read every live object's row
     * of the change index, 17-19 ms at 100,000 cards); no row: none ever written */
    if (sq_count_flush(c)) /* this transaction's own writes */
        return -1;
    sqlite3_stmt *s = sq_stmt(c, "SELECT live FROM object_counts WHERE account_id=? AND type=?");
    if (!s)
        return -1;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    int step = sqlite3_step(s);
    int n = step == SQLITE_ROW ? sqlite3_column_int(s, 0) : step == SQLITE_DONE ? 0 : -1;
    sqlite3_reset(s);
    return n;
}

int sq_changes(struct store_conn *c, const char *account, const char *type, int64_t since,
           size_t max,
           int (*cb)(const char *id, int64_t created, int64_t updated, bool destroyed,
                     void *ud),
           void *ud)
{
    sqlite3_stmt *s =
        sq_stmt(c, "SELECT id, created_modseq, updated_modseq, destroyed FROM objects "
                   "WHERE account_id=? AND type=? AND updated_modseq>? "
                   "ORDER BY updated_modseq LIMIT ?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sqlite3_bind_int64(s, 3, since);
    sqlite3_bind_int64(s, 4, max ? (int64_t)max : -1);
    while (sqlite3_step(s) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1),
               sqlite3_column_int64(s, 2), sqlite3_column_int(s, 3) != 0, ud))
            break;
    sqlite3_reset(s);
    return STORE_OK;
}

/* ---- blobs ------------------------------------------------------------------------------ */

#define BLOB_CHUNK (256 * 1024) /* schema step 14 */

int sq_blob_put(struct store_conn *c, const char *account, const char *blob_id,
            const void *data, size_t len, const char *type)
{
    sqlite3_stmt *s = sq_stmt(c, "INSERT OR IGNORE INTO blobs(id, size, created) VALUES(?,?,?)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, blob_id);
    sqlite3_bind_int64(s, 2, (int64_t)len);
    sqlite3_bind_int64(s, 3, util_now());
    int rc = sq_step_done(c, s);
    /* new: its bytes (one empty chunk for an empty blob); else stored before */
    bool fresh = rc == STORE_OK && sqlite3_changes(c->db) == 1;
    const char *bytes = data ? data : ""; /* an empty blob is a chunk of no bytes */
    for (size_t off = 0, seq = 0; fresh && rc == STORE_OK && (off < len || seq == 0); seq++) {
        size_t n = len - off < BLOB_CHUNK ? len - off : BLOB_CHUNK;
        s = sq_stmt(c, "INSERT INTO blob_chunks(blob_id, seq, data) VALUES(?,?,?)");
        if (!s)
            return STORE_ERR;
        sq_bind_text(s, 1, blob_id);
        sqlite3_bind_int64(s, 2, (int64_t)seq);
        sqlite3_bind_blob64(s, 3, bytes + off, n, SQLITE_STATIC);
        rc = sq_step_done(c, s);
        off += n;
    }
    if (rc)
        return rc;
    s = sq_stmt(c, "INSERT OR REPLACE INTO blob_uploads(account_id, blob_id, type, created) "
                "VALUES(?,?,?,?)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, blob_id);
    sq_bind_text(s, 3, type);
    sqlite3_bind_int64(s, 4, util_now());
    return sq_step_done(c, s);
}

static const char *const blob_visible_size =
    "SELECT b.size FROM blobs b WHERE b.id=?2 AND ("
    " EXISTS(SELECT 1 FROM blob_uploads u WHERE u.account_id=?1 AND u.blob_id=?2) OR"
    " EXISTS(SELECT 1 FROM blob_refs r WHERE r.account_id=?1 AND r.blob_id=?2))";

int64_t sq_blob_size(struct store_conn *c, const char *account, const char *blob_id)
{
    sqlite3_stmt *s = sq_stmt(c, blob_visible_size);
    if (!s)
        return -1;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, blob_id);
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    return n;
}

/* Bytes [offset, offset + len) of a blob of size bytes, from the chunks they fall in
 * (of the first only from offset on, substr() counts bytes from 1): malloc'd. */
static int read_chunks(struct store_conn *c, const char *blob_id, uint64_t size, uint64_t offset,
                       size_t len, unsigned char **data, size_t *got)
{
    size_t n = offset >= size ? 0 : (size_t)(size - offset);
    n = n < len ? n : len;
    unsigned char *out = xmalloc(n + 1);
    size_t at = 0;
    sqlite3_stmt *s = NULL;
    if (n) {
        s = sq_stmt(c, "SELECT substr(data, CASE WHEN seq=?2 THEN ?4 ELSE 1 END) FROM blob_chunks"
                       " WHERE blob_id=?1 AND seq BETWEEN ?2 AND ?3 ORDER BY seq");
        if (!s) {
            free(out);
            return STORE_ERR;
        }
        sq_bind_text(s, 1, blob_id);
        sqlite3_bind_int64(s, 2, (int64_t)(offset / BLOB_CHUNK));
        sqlite3_bind_int64(s, 3, (int64_t)((offset + n - 1) / BLOB_CHUNK));
        sqlite3_bind_int64(s, 4, (int64_t)(offset % BLOB_CHUNK) + 1);
    }
    while (s && at < n && sqlite3_step(s) == SQLITE_ROW) {
        size_t k = (size_t)sqlite3_column_bytes(s, 0);
        k = k < n - at ? k : n - at;
        if (k)
            memcpy(out + at, sqlite3_column_blob(s, 0), k);
        at += k;
    }
    if (s)
        sqlite3_reset(s);
    if (at != n) {
        log_error("sqlite: blob %s has %zu of the %zu bytes asked for", blob_id, at, n);
        free(out);
        return STORE_ERR;
    }
    out[n] = 0;
    *data = out;
    *got = n;
    return STORE_OK;
}

int sq_blob_get(struct store_conn *c, const char *account, const char *blob_id,
                unsigned char **data, size_t *len)
{
    int64_t size = sq_blob_size(c, account, blob_id);
    if (size < 0)
        return STORE_NOTFOUND;
    return read_chunks(c, blob_id, (uint64_t)size, 0, (size_t)size, data, len);
}

/* Only the chunks the range falls in are read (issue 15: memory bounded for a
 * streamed download of a large blob). */
int sq_blob_read(struct store_conn *c, const char *account, const char *blob_id, uint64_t offset,
                 size_t len, unsigned char **data, size_t *got)
{
    int64_t size = sq_blob_size(c, account, blob_id);
    if (size < 0)
        return STORE_NOTFOUND;
    return read_chunks(c, blob_id, (uint64_t)size, offset, len, data, got);
}

int sq_blob_ref(struct store_conn *c, const char *account, const char *blob_id,
            const char *type, const char *id)
{
    sqlite3_stmt *s = sq_stmt(c, "INSERT OR IGNORE INTO blob_refs(account_id, blob_id, obj_type, "
                              "obj_id) VALUES(?,?,?,?)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, blob_id);
    sq_bind_text(s, 3, type);
    sq_bind_text(s, 4, id);
    return sq_step_done(c, s);
}

int sq_blob_unref_object(struct store_conn *c, const char *account, const char *type,
                     const char *id)
{
    sqlite3_stmt *s =
        sq_stmt(c, "DELETE FROM blob_refs WHERE account_id=? AND obj_type=? AND obj_id=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    return sq_step_done(c, s);
}

int sq_blob_refs(struct store_conn *c, const char *account, const char *blob_id,
             int (*cb)(const char *type, const char *id, void *ud), void *ud)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT obj_type, obj_id FROM blob_refs WHERE account_id=? AND "
                              "blob_id=? ORDER BY obj_type, obj_id");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, blob_id);
    while (sqlite3_step(s) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
               ud))
            break;
    sqlite3_reset(s);
    return STORE_OK;
}

int sq_blob_gc(struct store_conn *c, int64_t max_age)
{
    sqlite3_stmt *s = sq_stmt(c, "DELETE FROM blob_uploads WHERE created < ?");
    if (!s)
        return STORE_ERR;
    sqlite3_bind_int64(s, 1, util_now() - max_age);
    int rc = sq_step_done(c, s);
    if (rc)
        return rc;
    s = sq_stmt(c, "DELETE FROM blobs WHERE NOT EXISTS(SELECT 1 FROM blob_uploads u WHERE "
                "u.blob_id=blobs.id) AND NOT EXISTS(SELECT 1 FROM blob_refs r WHERE "
                "r.blob_id=blobs.id)");
    rc = s ? sq_step_done(c, s) : STORE_ERR;
    /* their chunks (the caller's write transaction: nothing refers to them again
     * between the two statements) */
    s = rc ? NULL
           : sq_stmt(c, "DELETE FROM blob_chunks WHERE blob_id NOT IN (SELECT id FROM blobs)");
    return rc ? rc : s ? sq_step_done(c, s) : STORE_ERR;
}

int64_t sq_object_modseq(struct store_conn *c, const char *account, const char *type,
                     const char *id)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT updated_modseq FROM objects WHERE account_id=? AND type=? "
                              "AND id=? AND destroyed=0");
    if (!s)
        return -1;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    int64_t m = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    return m;
}

/* Every get is a B-tree lookup in this process: nothing to gain from a prefetch. */
int sq_object_prefetch(struct store_conn *c, const char *account, const char *type,
                       const char *const *ids, size_t n)
{
    return STORE_OK;
}

/* Nor from reads sent ahead: each answers in this thread at once. */
int sq_changes_prefetch(struct store_conn *c, const char *account, const char *type, int64_t since,
                        size_t max)
{
    return STORE_OK;
}

int sq_state_prefetch(struct store_conn *c, const char *account, const char *type, int64_t user_id)
{
    return STORE_OK;
}

/* Nor from keys announced: each look-up is an index probe in this process. */
int sq_keys_expect(struct store_conn *c, const char *account, const char *type,
                   const char *const *keys, const char *const *uids, size_t n)
{
    return STORE_OK;
}

/* ---- query snapshots: one process, kept by the engine in memory (store.h) ---------- */

int sq_snapshot_put(struct store_conn *c, const char *account, const char *key,
                    const char *ids)
{
    return STORE_OK;
}

char *sq_snapshot_get(struct store_conn *c, const char *account, const char *key)
{
    return NULL;
}

int sq_snapshot_gate(struct store_conn *c, const char *account)
{
    return STORE_OK;
}

/* ---- limits every front end shares: one process, its own counters (store.h) ------ */

int64_t sq_counter_add(struct store_conn *c, const char *key, int64_t window, int64_t now)
{
    return 0;
}

int64_t sq_counter_get(struct store_conn *c, const char *key, int64_t window, int64_t now)
{
    return 0;
}

int sq_slot_take(struct store_conn *c, int64_t user_id, int kind, int64_t max, int64_t *slot)
{
    *slot = 0;
    return STORE_OK;
}

int sq_slot_release(struct store_conn *c, int64_t slot)
{
    return STORE_OK;
}

/* ---- feeds ------------------------------------------------------------------------------ */

int sq_feed_add(struct store_conn *c, const char *hash, const char *id, const char *account,
            const char *kind, const char *object_id)
{
    sqlite3_stmt *s =
        sq_stmt(c, "INSERT INTO feeds(hash, id, account_id, kind, object_id, created) "
                   "VALUES(?,?,?,?,?,?)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, hash);
    sq_bind_text(s, 2, id);
    sq_bind_text(s, 3, account);
    sq_bind_text(s, 4, kind);
    sq_bind_text(s, 5, object_id);
    sqlite3_bind_int64(s, 6, util_now());
    return sq_step_done(c, s);
}

int sq_feed_lookup(struct store_conn *c, const char *hash, char account[64], char kind[32],
               char object_id[64])
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT account_id, kind, object_id FROM feeds WHERE hash=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, hash);
    int rc = STORE_NOTFOUND;
    if (sqlite3_step(s) == SQLITE_ROW) {
        snprintf(account, 64, "%s", (const char *)sqlite3_column_text(s, 0));
        snprintf(kind, 32, "%s", (const char *)sqlite3_column_text(s, 1));
        snprintf(object_id, 64, "%s", (const char *)sqlite3_column_text(s, 2));
        rc = STORE_OK;
    }
    sqlite3_reset(s);
    return rc;
}

int sq_feed_revoke(struct store_conn *c, const char *id)
{
    sqlite3_stmt *s = sq_stmt(c, "DELETE FROM feeds WHERE id=?");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, id);
    int rc = sq_step_done(c, s);
    return rc == STORE_OK && sqlite3_changes(c->db) == 0 ? STORE_NOTFOUND : rc;
}
