/*
 * postgres.c — the PostgreSQL backend of store.h (DESIGN.md §3), for several jmapd
 * front ends over one database. libpq; one connection per thread, opened on first use
 * and reopened after the server went away; statements prepared once per connection,
 * keyed by the address of their SQL text as in sqlite.c. The schema is versioned in
 * jmapd_schema and migrated forward at open under an advisory lock, so front ends
 * starting together migrate once.
 *
 * Isolation (store.h): a write transaction is READ COMMITTED behind one
 * transaction-scoped advisory lock taken at BEGIN, so writers run one after another
 * exactly as SQLite's BEGIN IMMEDIATE, whichever front end they run on, and each of
 * their statements sees every earlier writer's commit: serialization failures cannot
 * happen. Reads run at REPEATABLE READ (one snapshot). Uniqueness is a unique index;
 * an insert that would break one is ON CONFLICT DO NOTHING and an update runs inside a
 * savepoint, so the transaction survives the STORE_EXISTS answer. A statement that
 * fails outside a transaction because of a serialization failure, a deadlock or a lost
 * connection is retried once (after reconnecting).
 *
 * Text search: each of the six text fields is a tsvector of the words the SQLite
 * backend's FTS5 tokenizer (unicode61, diacritics removed) makes of it, split and
 * folded in jmapd (postgres_text.c), so case and diacritics fold as there and the two
 * backends find the same words. (Earlier jmapd had the server make them: jmapd_tsv,
 * in the "jmapd" configuration, simple with unaccent; rows written then keep those
 * words until their object is written again: the same words, but where unaccent
 * folds what unicode61 keeps, as ß, æ, ø.) Blobs are in postgres_blob.c, the query side
 * tables and text search in postgres_index.c.
 */
#include <assert.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/postgres.h"
#include "store/postgres_internal.h"
#include "util/util.h"

/* advisory lock keys: writers, schema migration */
#define PG_LOCK_WRITE "7428301"
#define PG_LOCK_MIGRATE 7428302

struct store {
    const struct store_ops *ops; /* first: backend.h */
    char *url;                   /* first after ops: postgres.h */
    pthread_key_t key;
    pthread_mutex_t lock;
    struct store_conn *conns;
};

static void pg_close(struct store *st);
static struct store_conn *pg_conn(struct store *st);
static void pg_rollback(struct store_conn *c);
static void pg_retry_mark(struct store_conn *c);
static const struct store_ops pg_ops = {.name = "postgresql",
                                        .close = pg_close,
                                        .conn = pg_conn,
                                        .rollback = pg_rollback,
                                        .retry_mark = pg_retry_mark,
                                        .bus_open = store_pg_bus_open,
                                        STORE_OPS(STORE_OP_INIT)};

static int busy_timeout_ms = 10000;
static char *password_file;

void store_pg_set_busy_timeout(int ms)
{
    busy_timeout_ms = ms;
}

void store_set_password_file(const char *path)
{
    free(password_file);
    password_file = path ? xstrdup(path) : NULL;
}

/* Runs a statement that may break a unique index inside a savepoint, so that the
 * STORE_EXISTS answer leaves the transaction usable (store.h: the caller goes on). The
 * SAVEPOINT travels with the statement and the RELEASE with the transaction's next
 * one (postgres_exec.c's pipeline): one waited round trip, not three, for an update of
 * an object with a unique key (an event's uid). */
static int run_guarded(struct store_conn *c, const char *sql, const struct params *p)
{
    static const char *const save = "SAVEPOINT jmapd_unique";
    static const char *const release = "RELEASE SAVEPOINT jmapd_unique";
    if (!c->in_txn)
        return pgq_change(c, sql, p);
    if (pgq_defer(c, save, NULL))
        return STORE_ERR;
    int rc = pgq_change(c, sql, p);
    if (rc == STORE_EXISTS) {
        c->failed = false;
        if (pgq_simple(c, "ROLLBACK TO SAVEPOINT jmapd_unique"))
            return STORE_ERR;
    }
    if (pgq_defer(c, release, NULL))
        return STORE_ERR;
    return rc;
}

/* ---- schema ------------------------------------------------------------------------ */

#define T " text COLLATE \"C\""
/* Each entry moves the schema from version i to i+1; never edit a released one. */
static const char *const migrations[] = {
    ("CREATE TABLE users(id bigserial PRIMARY KEY, name" T " UNIQUE NOT NULL,"
     "  pwhash text NOT NULL, account_id" T " NOT NULL, created bigint NOT NULL);"
     "CREATE TABLE access(user_id bigint NOT NULL, account_id" T " NOT NULL,"
     "  may_write boolean NOT NULL, PRIMARY KEY(user_id, account_id));"
     "CREATE TABLE tokens(hash" T " PRIMARY KEY, id" T " UNIQUE NOT NULL,"
     "  user_id bigint NOT NULL, label text, created bigint NOT NULL);"
     "CREATE INDEX tokens_user ON tokens(user_id);"
     "CREATE TABLE states(account_id" T " NOT NULL, type" T " NOT NULL,"
     "  modseq bigint NOT NULL, lowest bigint NOT NULL DEFAULT 0,"
     "  PRIMARY KEY(account_id, type));"
     "CREATE TABLE objects(account_id" T " NOT NULL, type" T " NOT NULL, id" T " NOT NULL,"
     "  data text, format integer NOT NULL DEFAULT 1, created_modseq bigint NOT NULL,"
     "  updated_modseq bigint NOT NULL, destroyed boolean NOT NULL DEFAULT false, ukey" T ","
     "  PRIMARY KEY(account_id, type, id));"
     "CREATE INDEX objects_changes ON objects(account_id, type, updated_modseq);"
     "CREATE UNIQUE INDEX objects_ukey ON objects(account_id, type, ukey) WHERE ukey IS NOT NULL;"
     "CREATE TABLE blobs(id" T " PRIMARY KEY, size bigint NOT NULL, created bigint NOT NULL);"
     "CREATE TABLE blob_chunks(blob_id" T " NOT NULL REFERENCES blobs(id) ON DELETE CASCADE,"
     "  seq integer NOT NULL, data bytea NOT NULL, PRIMARY KEY(blob_id, seq));"
     "CREATE TABLE blob_uploads(account_id" T " NOT NULL, blob_id" T " NOT NULL,"
     "  type text, created bigint NOT NULL, PRIMARY KEY(account_id, blob_id));"
     "CREATE INDEX blob_uploads_created ON blob_uploads(created);"
     "CREATE INDEX blob_uploads_blob ON blob_uploads(blob_id);"
     "CREATE TABLE blob_refs(account_id" T " NOT NULL, blob_id" T " NOT NULL,"
     "  obj_type" T " NOT NULL, obj_id" T " NOT NULL,"
     "  PRIMARY KEY(account_id, blob_id, obj_type, obj_id));"
     "CREATE INDEX blob_refs_obj ON blob_refs(account_id, obj_type, obj_id);"
     "CREATE INDEX blob_refs_blob ON blob_refs(blob_id);"
     "CREATE TABLE object_index(account_id" T " NOT NULL, type" T " NOT NULL, id" T " NOT NULL,"
     "  uid text, start bigint, finish bigint, modseq bigint, t0 tsvector, t1 tsvector,"
     "  t2 tsvector, t3 tsvector, t4 tsvector, t5 tsvector, PRIMARY KEY(account_id, type, id));"
     "CREATE INDEX object_index_uid ON object_index(account_id, type, uid);"
     "CREATE INDEX object_index_range ON object_index(account_id, type, start, finish, id, modseq);"
     "CREATE INDEX object_index_text ON object_index USING gin(t0, t1, t2, t3, t4, t5);"
     "CREATE TABLE feeds(hash" T " PRIMARY KEY, id" T " UNIQUE NOT NULL, account_id" T " NOT NULL,"
     "  kind text NOT NULL, object_id text NOT NULL, created bigint NOT NULL);"
     /* words split as unicode61 splits them: ASCII punctuation is a separator */
     "CREATE TEXT SEARCH CONFIGURATION jmapd (COPY = simple);"
     "CREATE FUNCTION jmapd_tsv(t text) RETURNS tsvector LANGUAGE sql STABLE AS $$"
     "  SELECT CASE WHEN t IS NULL OR t = '' THEN NULL ELSE to_tsvector('jmapd',"
     "  regexp_replace(t, '[[:punct:][:space:][:cntrl:]]+', ' ', 'g')) END $$;"),
    /* 2: query snapshots for /queryChanges on any front end: a cache, so unlogged
     * (no WAL, no fsync per query; emptied after a crash) */
    ("CREATE UNLOGGED TABLE query_snapshots(key" T " PRIMARY KEY, account_id" T
     " NOT NULL, ids text NOT NULL,"
     "  created bigint NOT NULL);"
     "CREATE INDEX query_snapshots_created ON query_snapshots(created);"),
    /* 3: as SQLite's 7 and 8: a sort key per indexed object (issue 21); groups of
     * users, the principals each collection is shared with, per-user properties of
     * shared objects (issue 14) */
    ("ALTER TABLE object_index ADD COLUMN ord bigint;"
     "CREATE INDEX object_index_order ON object_index(account_id, type, ord, id, modseq);"
     "CREATE TABLE groups(id" T " PRIMARY KEY, name" T " UNIQUE NOT NULL);"
     "CREATE TABLE group_members(group_id" T " NOT NULL, user_id bigint NOT NULL,"
     "  PRIMARY KEY(group_id, user_id));"
     "CREATE INDEX group_members_user ON group_members(user_id);"
     "CREATE TABLE shares(account_id" T " NOT NULL, type" T " NOT NULL, object_id" T " NOT NULL,"
     "  principal_id" T " NOT NULL, may_write boolean NOT NULL,"
     "  PRIMARY KEY(account_id, type, object_id, principal_id));"
     "CREATE INDEX shares_principal ON shares(principal_id, account_id);"
     "CREATE TABLE user_props(user_id bigint NOT NULL, account_id" T " NOT NULL,"
     "  type" T " NOT NULL, object_id" T " NOT NULL, data text NOT NULL,"
     "  PRIMARY KEY(user_id, account_id, type, object_id));"),
    /* 4: limits every front end shares (issue 15 §3): failed logins per key in a
     * window, uploads under way per user (a slot names the session that holds it).
     * Unlogged: counters, not data (emptied after a crash, as after a restart of
     * one front end) */
    ("CREATE UNLOGGED TABLE counters(key" T " PRIMARY KEY, since bigint NOT NULL,"
     "  count bigint NOT NULL);"
     "CREATE UNLOGGED TABLE slots(id bigserial PRIMARY KEY, user_id bigint NOT NULL,"
     "  kind integer NOT NULL, pid integer NOT NULL, taken bigint NOT NULL);"
     "CREATE INDEX slots_user ON slots(user_id, kind);"
     /* the text vector function IMMUTABLE (to_tsvector with a named configuration
      * is): a statement's constant arguments fold once and its plan is reused; as
      * STABLE, each index row cost 0.3 ms more of the server's time (issue 15, W1) */
     "CREATE OR REPLACE FUNCTION jmapd_tsv(t text) RETURNS tsvector LANGUAGE sql IMMUTABLE"
     "  PARALLEL SAFE AS $$ SELECT CASE WHEN t IS NULL OR t = '' THEN NULL ELSE"
     "  to_tsvector('jmapd'::regconfig, regexp_replace(t, '[[:punct:][:space:][:cntrl:]]+',"
     "  ' ', 'g')) END $$;"),
    /* 5: as SQLite's 10: the alert schedule (issue 14, calendars-27 §6) */
    ("CREATE TABLE alert_queue(account_id" T " NOT NULL, type" T " NOT NULL,"
     "  object_id" T " NOT NULL, user_id bigint NOT NULL, next_check bigint NOT NULL,"
     "  fired_until bigint NOT NULL, PRIMARY KEY(account_id, type, object_id, user_id));"
     "CREATE INDEX alert_queue_due ON alert_queue(next_check);"),
    /* 6: as SQLite's 11 (issue 20): the change scan answered from its index alone */
    ("DROP INDEX objects_changes;"
     "CREATE INDEX objects_changes ON objects(account_id, type, updated_modseq)"
     "  INCLUDE (id, created_modseq, destroyed);"),
    /* 7: as SQLite's 12 (issue 21): the class of each range's length and whether the
     * range is exact, for store_index_spans */
    ("ALTER TABLE object_index ADD COLUMN span integer;"
     "ALTER TABLE object_index ADD COLUMN exact integer;"
     "UPDATE object_index SET span = CASE WHEN finish IS NULL OR finish - start >= 1099511627776"
     "  THEN 41 WHEN finish <= start THEN 0 ELSE floor(log(2, (finish - start)::numeric))::int + 1"
     "  END WHERE start IS NOT NULL;"
     "DROP INDEX object_index_range;"
     "CREATE INDEX object_index_span ON object_index(account_id, type, span, start, finish, id,"
     "  modseq, exact);"),
    /* 8: as SQLite's 13: object metadata (issue 18, postgres_metadata.c) */
    ("CREATE TABLE object_metadata(account_id" T " NOT NULL, type" T " NOT NULL,"
     "  object_id" T " NOT NULL, user_id bigint NOT NULL, data text NOT NULL,"
     "  modseq bigint NOT NULL, PRIMARY KEY(account_id, type, object_id, user_id));"
     "CREATE INDEX object_metadata_changes ON object_metadata(account_id, type, user_id, modseq);"
     "CREATE TABLE metadata_usage(account_id" T " PRIMARY KEY, bytes bigint NOT NULL);"
     "CREATE TABLE metadata_state(account_id" T " NOT NULL, type" T " NOT NULL,"
     "  last_private bigint NOT NULL, shared bigint NOT NULL, PRIMARY KEY(account_id, type));"),
    /* 9: as SQLite's 14: push subscriptions (RFC 8620 §7.2, postgres_push.c) */
    ("CREATE TABLE push_subscriptions(id" T " PRIMARY KEY, user_id bigint NOT NULL,"
     "  cred" T " NOT NULL, data text NOT NULL);"
     "CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id);"),
    /* 10: as SQLite's 16: the top-level keys of each metadata row (metadata-02 §3.5),
     * kept by a trigger on object_metadata (postgres_metadata.c). PostgreSQL's JSON
     * functions refuse the escape \u0000, which a metadata string may hold: it reads as
     * \u0001 here (the same length and escapes; only the keys and shapes count) */
    ("CREATE TABLE metadata_keys(account_id" T " NOT NULL, type" T " NOT NULL,"
     "  user_id bigint NOT NULL, key" T " NOT NULL, object_id" T " NOT NULL,"
     "  PRIMARY KEY(account_id, type, user_id, key, object_id));"
     "INSERT INTO metadata_keys SELECT m.account_id, m.type, m.user_id, j.key, m.object_id"
     "  FROM object_metadata m, json_each(replace(m.data, '\\u0000', '\\u0001')::json) j"
     "  WHERE json_typeof(j.value) = 'object' AND j.value::text <> '{}' ON CONFLICT DO NOTHING;"
     "CREATE FUNCTION jmapd_metadata_keys() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
     "  IF TG_OP <> 'INSERT' THEN"
     "    DELETE FROM metadata_keys WHERE account_id = OLD.account_id AND type = OLD.type"
     "    AND user_id = OLD.user_id AND object_id = OLD.object_id"
     "    AND key IN (SELECT json_object_keys(replace(OLD.data, '\\u0000', '\\u0001')::json));"
     "  END IF;"
     "  IF TG_OP <> 'DELETE' THEN"
     "    INSERT INTO metadata_keys SELECT NEW.account_id, NEW.type, NEW.user_id, j.key,"
     "    NEW.object_id FROM json_each(replace(NEW.data, '\\u0000', '\\u0001')::json) j"
     "    WHERE json_typeof(j.value) = 'object'"
     "    AND j.value::text <> '{}' ON CONFLICT DO NOTHING;"
     "  END IF;"
     "  RETURN NULL;"
     "END $$;"
     "CREATE TRIGGER metadata_keys AFTER INSERT OR UPDATE OR DELETE ON object_metadata"
     "  FOR EACH ROW EXECUTE FUNCTION jmapd_metadata_keys();"),
    /* 11: as SQLite's 17 (issue 21): substring search (postgres_grams.c). Trigram
     * indexes (per field, and of all fields for a term in any) where pg_trgm can be had (a trusted extension: the database owner may
     * create it); without it a search scans the account's rows of the type */
    ("CREATE TABLE object_grams(account_id" T " NOT NULL, type" T " NOT NULL, id" T " NOT NULL,"
     "  g0 text NOT NULL DEFAULT '', g1 text NOT NULL DEFAULT '', g2 text NOT NULL DEFAULT '',"
     "  g3 text NOT NULL DEFAULT '', g4 text NOT NULL DEFAULT '', g5 text NOT NULL DEFAULT '',"
     "  g6 text NOT NULL DEFAULT '', g7 text NOT NULL DEFAULT '', g8 text NOT NULL DEFAULT '',"
     "  g9 text NOT NULL DEFAULT '', g10 text NOT NULL DEFAULT '', g11 text NOT NULL DEFAULT '',"
     "  facets text, PRIMARY KEY(account_id, type, id));"
     "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm;"
     "  EXECUTE 'CREATE INDEX object_grams_trgm ON object_grams USING gin(g0 gin_trgm_ops,"
     "  g1 gin_trgm_ops, g2 gin_trgm_ops, g3 gin_trgm_ops, g4 gin_trgm_ops, g5 gin_trgm_ops,"
     "  g6 gin_trgm_ops, g7 gin_trgm_ops, g8 gin_trgm_ops, g9 gin_trgm_ops, g10 gin_trgm_ops,"
     "  g11 gin_trgm_ops)';"
     /* a term in any field: one condition on the fields joined by newlines (no term
      * holds one), the expression of postgres_grams.c's GRAMS_ALL */
     "  EXECUTE 'CREATE INDEX object_grams_all ON object_grams USING gin((g0||chr(10)||g1||"
     "chr(10)||g2||chr(10)||g3||chr(10)||g4||chr(10)||g5||chr(10)||g6||chr(10)||g7||chr(10)||"
     "g8||chr(10)||g9||chr(10)||g10||chr(10)||g11) gin_trgm_ops)';"
     "EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'no pg_trgm: substring search scans'; END $$;"),
    /* 12 (issue 21): the trigram indexes where step 11 could not make them because
     * pg_trgm was already installed in another schema of the database (another jmapd's,
     * not on this one's search path: gin_trgm_ops was not found, and every card search
     * scanned the account's rows, 40 ms of PostgreSQL's CPU per query at 100,000
     * cards). The operator class named in the extension's own schema */
    ("DO $$ DECLARE s text; BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm;"
     "  SELECT extnamespace::regnamespace::text INTO s FROM pg_extension"
     "  WHERE extname = 'pg_trgm';"
     "  IF to_regclass('object_grams_trgm') IS NULL THEN"
     "  EXECUTE format('CREATE INDEX object_grams_trgm ON object_grams USING gin("
     "g0 %1$s.gin_trgm_ops, g1 %1$s.gin_trgm_ops, g2 %1$s.gin_trgm_ops, g3 %1$s.gin_trgm_ops,"
     " g4 %1$s.gin_trgm_ops, g5 %1$s.gin_trgm_ops, g6 %1$s.gin_trgm_ops, g7 %1$s.gin_trgm_ops,"
     " g8 %1$s.gin_trgm_ops, g9 %1$s.gin_trgm_ops, g10 %1$s.gin_trgm_ops,"
     " g11 %1$s.gin_trgm_ops)', s); END IF;"
     "  IF to_regclass('object_grams_all') IS NULL THEN"
     "  EXECUTE format('CREATE INDEX object_grams_all ON object_grams USING gin((g0||chr(10)||"
     "g1||chr(10)||g2||chr(10)||g3||chr(10)||g4||chr(10)||g5||chr(10)||g6||chr(10)||g7||"
     "chr(10)||g8||chr(10)||g9||chr(10)||g10||chr(10)||g11) %s.gin_trgm_ops)', s); END IF;"
     "EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'no pg_trgm: substring search scans'; END $$;"),
    /* 13 (issue 15 §1): the change index partial, on a condition every row meets and
     * only the statements that mean to use it state (updated_modseq > 0: the change
     * scan, the count), so it is no candidate for a lookup by id. It begins with
     * (account_id, type) as the primary key does; for an account the planner had no
     * statistics of (a new one) both were costed at a row, and it took this one and
     * read the account's every row for the id asked for (10 ms a lookup at 10,000) */
    ("DROP INDEX objects_changes;"
     "CREATE INDEX objects_changes ON objects(account_id, type, updated_modseq)"
     "  INCLUDE (id, created_modseq, destroyed) WHERE updated_modseq > 0;"),
    /* 14 (issue 20): as SQLite's 22: DAV write locks (RFC 4918 §6, postgres_davlock.c),
     * so a lock granted by one front end is honoured by every other */
    ("CREATE TABLE IF NOT EXISTS dav_locks(token" T " PRIMARY KEY, path" T " NOT NULL,"
     "  user_id bigint NOT NULL, exclusive boolean NOT NULL, infinite boolean NOT NULL,"
     "  expires bigint NOT NULL, seconds integer NOT NULL, owner text);"),
    /* 15 (issue 21): as SQLite's 23: a type's sort keys in its search row
     * (store_grams.key, postgres_grams.c), each in an index of its own (bytea compares
     * as memcmp, a prefix first); keyed says the row has them: one without counts as
     * missing (pg_grams_missing), so the next start gives older objects their keys.
     * Idempotent. */
    ("ALTER TABLE object_grams ADD COLUMN IF NOT EXISTS k0 bytea,"
     "  ADD COLUMN IF NOT EXISTS k1 bytea,"
     "  ADD COLUMN IF NOT EXISTS keyed boolean NOT NULL DEFAULT false;"
     "CREATE INDEX IF NOT EXISTS object_grams_k0 ON object_grams(account_id, type, k0)"
     "  INCLUDE (id) WHERE k0 IS NOT NULL;"
     "CREATE INDEX IF NOT EXISTS object_grams_k1 ON object_grams(account_id, type, k1)"
     "  INCLUDE (id) WHERE k1 IS NOT NULL;"),
    /* 16 (issue 14): as SQLite's 24: whether each share lets its principal read the
     * collection's items (calendars-27 §4.1), from its collection's shareWith */
    ("ALTER TABLE shares ADD COLUMN IF NOT EXISTS may_read boolean NOT NULL DEFAULT true;"
     "UPDATE shares s SET may_read = coalesce(((o.data::jsonb)->'shareWith'->s.principal_id->>"
     "  (CASE s.type WHEN 'AddressBook' THEN 'mayRead' ELSE 'mayReadItems' END)) = 'true', false)"
     "  FROM objects o WHERE o.account_id = s.account_id AND o.type = s.type"
     "  AND o.id = s.object_id AND NOT o.destroyed;"),
    /* 17 (issue 14): as SQLite's 25: the collections each object is shown in, in
     * index order (store_members_*), filled for the events stored before */
    ("CREATE TABLE IF NOT EXISTS object_members(account_id" T " NOT NULL, type" T " NOT NULL,"
     "  id" T " NOT NULL, collection_id" T " NOT NULL, ord bigint,"
     "  PRIMARY KEY(account_id, type, id, collection_id));"
     "CREATE INDEX IF NOT EXISTS object_members_order ON object_members(account_id, type,"
     "  collection_id, ord, id);"
     "CREATE INDEX IF NOT EXISTS object_members_order_desc ON object_members(account_id, type,"
     "  collection_id, ord DESC, id);"
     "INSERT INTO object_members SELECT o.account_id, o.type, o.id, j.key, i.ord"
     "  FROM objects o JOIN object_index i ON i.account_id = o.account_id AND i.type = o.type"
     "  AND i.id = o.id, jsonb_each(CASE WHEN jsonb_typeof(o.data::jsonb -> 'calendarIds') ="
     "  'object' THEN o.data::jsonb -> 'calendarIds' ELSE '{}'::jsonb END) j"
     "  WHERE o.type = 'CalendarEvent' AND NOT o.destroyed AND j.value = 'true'::jsonb"
     "  AND coalesce(o.data::jsonb ->> 'privacy', '') <> 'secret' ON CONFLICT DO NOTHING;"),
};

/* Diacritics fold with the unaccent extension when it can be had (it is trusted:
 * the database owner may create it); without it the search folds case only. */
static int text_config(struct store_conn *c)
{
    if (pgq_simple(c, "SAVEPOINT ext"))
        return STORE_ERR;
    if (pgq_simple(c, "CREATE EXTENSION IF NOT EXISTS unaccent")) {
        c->failed = false;
        pgq_simple(c, "ROLLBACK TO SAVEPOINT ext");
    }
    pgq_simple(c, "RELEASE SAVEPOINT ext");
    PGresult *r;
    if (pgq_exec(c,
                 "SELECT 1 FROM pg_ts_dict WHERE dictname = 'unaccent' AND "
                 "pg_ts_dict_is_visible(oid)",
                 false, NULL, 0, &r))
        return STORE_ERR;
    bool have = PQntuples(r) > 0;
    PQclear(r);
    if (!have) {
        log_warn("postgresql: no unaccent dictionary; text search folds case, not diacritics");
        return STORE_OK;
    }
    return pgq_simple(c, "ALTER TEXT SEARCH CONFIGURATION jmapd ALTER MAPPING FOR asciiword, word,"
                         " numword, asciihword, hword, hword_part, hword_asciipart, hword_numpart,"
                         " numhword WITH unaccent, simple");
}

static int migrate(struct store_conn *c)
{
    char sql[160];
    int rc = pgq_simple(c, "BEGIN");
    c->in_txn = true;
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%d)", PG_LOCK_MIGRATE);
    rc = rc ? rc : pgq_simple(c, sql);
    rc = rc ? rc
            : pgq_simple(c, "CREATE TABLE IF NOT EXISTS jmapd_schema(version integer NOT NULL);"
                            "INSERT INTO jmapd_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM "
                            "jmapd_schema)");
    int version = rc ? -1 : (int)pgq_first_int(c, "SELECT version FROM jmapd_schema", NULL, 0);
    int target = (int)(sizeof migrations / sizeof migrations[0]);
    if (version > target) {
        log_error("database schema version %d is newer than this jmapd (%d)", version, target);
        rc = STORE_ERR;
    }
    for (int v = version; rc == STORE_OK && v >= 0 && v < target; v++) {
        rc = pgq_simple(c, migrations[v]);
        if (rc == STORE_OK && v == 0)
            rc = text_config(c);
        snprintf(sql, sizeof sql, "UPDATE jmapd_schema SET version = %d", v + 1);
        rc = rc ? rc : pgq_simple(c, sql);
        if (rc == STORE_OK)
            log_info("database migrated to schema version %d", v + 1);
    }
    if (version < 0)
        rc = STORE_ERR;
    rc = rc ? rc : pgq_simple(c, "COMMIT");
    if (rc)
        pgq_simple(c, "ROLLBACK");
    c->in_txn = c->failed = false;
    return rc;
}

/* ---- connections ------------------------------------------------------------------- */

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* NOTICEs (e.g. "extension exists") are not errors */
}

static char *read_password(void)
{
    if (!password_file)
        return NULL;
    FILE *f = fopen(password_file, "r");
    if (!f) {
        log_error("cannot read the store password file %s", password_file);
        return NULL;
    }
    char line[1024] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = 0;
    fclose(f);
    line[strcspn(line, "\r\n")] = 0;
    return xstrdup(line);
}

/* The settings of every session, at connect and again after a reconnect (PQreset):
 * how long a statement waits for a lock, and plans made once. A prepared statement
 * is otherwise planned again for each of its first five runs on each connection
 * (0.1-0.2 ms of the server's CPU each: most of a /changes, W5, whose statements a
 * connection may run that few times), and a generic plan is what they get after
 * that anyway; a statement built for a search of its own shape keeps its custom
 * plan (pgq_exec_custom). */
void pg_session_setup(PGconn *pg)
{
    PQsetNoticeProcessor(pg, quiet, NULL);
    char sql[128];
    snprintf(sql, sizeof sql,
             "SET lock_timeout = %d; SET client_min_messages = warning;"
             " SET plan_cache_mode = force_generic_plan",
             busy_timeout_ms);
    PGresult *r = PQexec(pg, sql);
    PQclear(r);
}

/* A connection to url, made or not: libpq keeps its parameters (the password
 * included) for PQreset either way. */
static PGconn *connect_to(const char *url)
{
    char *pw = read_password();
    const char *keys[] = {"dbname", "password", "application_name", NULL};
    const char *vals[] = {url, pw, "jmapd", NULL};
    if (!pw)
        keys[1] = "application_name", vals[1] = "jmapd", keys[2] = NULL;
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    free(pw);
    return pg;
}

PGconn *store_pg_connect(const char *url, char **err)
{
    PGconn *pg = connect_to(url);
    if (PQstatus(pg) != CONNECTION_OK) {
        /* the message never holds the password; the URL may, so it is not repeated */
        if (err)
            *err = xasprintf("cannot connect to PostgreSQL: %s", PQerrorMessage(pg));
        else
            log_error("cannot connect to PostgreSQL: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return NULL;
    }
    pg_session_setup(pg);
    return pg;
}

static void conn_free(struct store_conn *c)
{
    pgc_clear(c);
    PQfinish(c->side);
    PQfinish(c->pg);
    free(c);
}

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

struct store *store_pg_open(const char *url, char **err)
{
    struct store_conn boot = {.ops = &pg_ops};
    boot.pg = store_pg_connect(url, err);
    if (!boot.pg)
        return NULL;
    int rc = migrate(&boot);
    PQfinish(boot.pg);
    if (rc) {
        *err = xasprintf("cannot migrate the PostgreSQL schema");
        return NULL;
    }
    struct store *st = xcalloc(1, sizeof *st);
    st->ops = &pg_ops;
    st->url = xstrdup(url);
    pthread_mutex_init(&st->lock, NULL);
    pthread_key_create(&st->key, conn_release);
    return st;
}

static void pg_close(struct store *st)
{
    pthread_mutex_lock(&st->lock);
    struct store_conn *c = st->conns;
    st->conns = NULL;
    pthread_mutex_unlock(&st->lock);
    while (c) {
        struct store_conn *next = c->next;
        conn_free(c);
        c = next;
    }
    pg_spans_forget(st);
    pthread_setspecific(st->key, NULL);
    pthread_key_delete(st->key);
    pthread_mutex_destroy(&st->lock);
    free(st->url);
    free(st);
}

/* The key of the writers' lock of the connection's schema, asked once per
 * connection: one writer at a time per schema, so databases sharing a server by
 * schema (as the tests do) do not wait for each other. False while it cannot be
 * asked (the connection is down): no write may begin without it. */
static bool know_lock_key(struct store_conn *c)
{
    if (c->lock_key[0])
        return true;
    PGresult *r = PQexec(c->pg, "SELECT hashtext(current_schema())");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok)
        snprintf(c->lock_key, sizeof c->lock_key, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return ok;
}

/* The thread's connection. One that cannot be made now (the database is down or
 * starting up) is still the thread's: its calls fail (STORE_ERR) and reconnect
 * when the database is back (pgq_retryable), as after a connection lost later;
 * callers never see NULL for a database that is away. */
static struct store_conn *pg_conn(struct store *st)
{
    struct store_conn *c = pthread_getspecific(st->key);
    if (c)
        return c;
    PGconn *pg = connect_to(st->url);
    if (!pg)
        return NULL; /* out of memory */
    if (PQstatus(pg) == CONNECTION_OK)
        pg_session_setup(pg);
    else
        log_error("cannot connect to PostgreSQL: %s", PQerrorMessage(pg));
    c = xcalloc(1, sizeof *c);
    c->ops = &pg_ops;
    c->st = st;
    c->pg = pg;
    if (PQstatus(pg) == CONNECTION_OK)
        know_lock_key(c);
    pthread_mutex_lock(&st->lock);
    c->next = st->conns;
    st->conns = c;
    pthread_mutex_unlock(&st->lock);
    pthread_setspecific(st->key, c);
    return c;
}

/* ---- transactions ------------------------------------------------------------------- */

int pg_begin(struct store_conn *c, bool write)
{
    static const char *const begin_w = "BEGIN ISOLATION LEVEL READ COMMITTED";
    static const char *const lock_w = "SELECT pg_advisory_xact_lock(" PG_LOCK_WRITE ", $1::int)";
    static const char *const begin_r = "BEGIN ISOLATION LEVEL REPEATABLE READ";
    assert(!c->in_txn);
    for (int attempt = 0;; attempt++) {
        if (pgq_lost(c) && !pgq_retryable(c, NULL))
            return STORE_ERR;
        pgc_clear(c);
        pg_stats_forget(c);
        /* the answers still due to the last transaction's end are read as its own: a
         * queued snapshot that failed (store.h) must not fail this one */
        if (c->pending)
            pgq_settle(c);
        if (write && !know_lock_key(c)) {
            if (attempt == 0 && pgq_lost(c))
                continue; /* reconnected at the top, or failing there */
            return STORE_ERR;
        }
        c->in_txn = true;
        c->failed = c->fresh = false;
        c->writing = write;
        /* BEGIN is queued: it travels with the transaction's first statement
         * (postgres_exec.c), for a write the lock, waited for here */
        int rc = pgq_defer(c, write ? begin_w : begin_r, NULL);
        if (rc == STORE_OK && write) {
            struct params p = {0};
            pgq_text(&p, c->lock_key);
            rc = pgq_run(c, lock_w, &p, NULL);
        }
        if (rc == STORE_OK) {
            c->fresh = !write; /* a lost connection found by the first read: begin again */
            return STORE_OK;
        }
        bool lost = pgq_lost(c);
        pg_rollback(c);
        if (!lost || attempt > 0)
            return rc;
    }
}

bool pg_in_write(struct store_conn *c)
{
    return c->in_txn && c->writing;
}

int pg_commit(struct store_conn *c)
{
    static const char *const sql = "COMMIT";
    if (!c->failed)
        pgc_states_flush(c);
    pgc_clear(c);
    if (c->failed) /* COMMIT of an aborted transaction would only roll back */
        return STORE_ERR;
    PGresult *r;
    int rc = pgq_run(c, sql, NULL, &r);
    if (rc == STORE_OK) {
        /* an aborted transaction answers COMMIT with ROLLBACK */
        if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
            rc = STORE_ERR;
        PQclear(r);
        if (rc == STORE_OK && c->writing)
            c->committed = true;
        c->in_txn = c->writing = c->failed = false;
        c->gated = c->commit_read = false;
        pg_stats_commit(c);
    }
    return rc;
}

static void pg_rollback(struct store_conn *c)
{
    /* sent, not waited for: nothing depends on its answer, which the next use of the
     * connection reads (pgq_settle); a lost connection shows there */
    pgc_clear(c);
    pg_stats_forget(c);
    if (c->in_txn)
        pgq_send_end(c, c->commit_read && !c->writing && !c->failed);
    c->in_txn = c->writing = c->failed = c->fresh = false;
    c->gated = c->commit_read = false;
}

/* Issue 15 §1 (store.h): the writers' lock makes write transactions take turns at READ
 * COMMITTED, so PostgreSQL has no reason to refuse one; a trigger, an administrator's
 * lock or a stricter isolation may still do so (40001, 40P01: postgres_exec.c notes
 * them), and the caller then runs the work again. */
static void pg_retry_mark(struct store_conn *c)
{
    c->refused = c->committed = false;
}

bool pg_retryable(struct store_conn *c)
{
    return c->refused && !c->committed;
}

/* Runs f's statements in a transaction of their own when the caller has none, so a
 * change of several rows is atomic either way. */
bool pg_auto_begin(struct store_conn *c)
{
    if (c->in_txn)
        return false;
    return pg_begin(c, true) == STORE_OK;
}

int pg_auto_end(struct store_conn *c, bool began, int rc)
{
    if (!began)
        return rc;
    if (rc == STORE_OK && pg_commit(c) == STORE_OK)
        return STORE_OK;
    pg_rollback(c);
    return rc ? rc : STORE_ERR;
}

int pg_ping(struct store_conn *c)
{
    static const char *const sql = "SELECT 1";
    return pgq_run(c, sql, NULL, NULL);
}

/* ---- users, accounts, tokens ----------------------------------------------------------- */

static int read_user(struct store_conn *c, const char *sql, const struct params *p,
                     struct store_user *out)
{
    PGresult *r;
    int rc = pgq_run(c, sql, p, &r);
    if (rc)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return STORE_NOTFOUND;
    }
    out->id = pgq_col_int(r, 0, 0);
    snprintf(out->name, sizeof out->name, "%s", PQgetvalue(r, 0, 1));
    out->pwhash = xstrdup(PQgetvalue(r, 0, 2));
    snprintf(out->account_id, sizeof out->account_id, "%s", PQgetvalue(r, 0, 3));
    PQclear(r);
    return STORE_OK;
}

int pg_user_add(struct store_conn *c, const char *name, const char *pwhash, const char *account_id)
{
    static const char *const sql = "INSERT INTO users(name, pwhash, account_id, created) "
                                   "VALUES($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING id";
    struct params p = {0};
    pgq_text(&p, name);
    pgq_text(&p, pwhash);
    pgq_text(&p, account_id);
    pgq_int(&p, util_now());
    bool began = pg_auto_begin(c);
    PGresult *r;
    int rc = pgq_run(c, sql, &p, &r);
    if (rc == STORE_OK) {
        int64_t id = PQntuples(r) ? pgq_col_int(r, 0, 0) : 0;
        PQclear(r);
        rc = id ? pg_access_grant(c, id, account_id, true) : STORE_EXISTS;
    }
    return pg_auto_end(c, began, rc);
}

int pg_user_get(struct store_conn *c, const char *name, struct store_user *out)
{
    static const char *const sql = "SELECT id, name, pwhash, account_id FROM users WHERE name=$1";
    struct params p = {0};
    pgq_text(&p, name);
    return read_user(c, sql, &p, out);
}

int pg_user_get_by_id(struct store_conn *c, int64_t id, struct store_user *out)
{
    static const char *const sql = "SELECT id, name, pwhash, account_id FROM users WHERE id=$1";
    struct params p = {0};
    pgq_int(&p, id);
    return read_user(c, sql, &p, out);
}

int pg_user_by_account(struct store_conn *c, const char *account_id, struct store_user *out)
{
    static const char *const sql = "SELECT id, name, pwhash, account_id FROM users WHERE "
                                   "account_id=$1";
    struct params p = {0};
    pgq_text(&p, account_id);
    return read_user(c, sql, &p, out);
}

int pg_user_del(struct store_conn *c, const char *name)
{
    static const char *const dels[] = {
        "DELETE FROM objects WHERE account_id=$1",
        "DELETE FROM object_index WHERE account_id=$1",
        "DELETE FROM object_grams WHERE account_id=$1",
        "DELETE FROM states WHERE account_id=$1",
        "DELETE FROM blob_uploads WHERE account_id=$1",
        "DELETE FROM blob_refs WHERE account_id=$1",
        "DELETE FROM access WHERE account_id=$1",
        "DELETE FROM feeds WHERE account_id=$1",
        "DELETE FROM shares WHERE account_id=$1 OR principal_id=$1",
        /* issue 20: anyone's DAV locks on the account's URLs (sqlite.c) */
        ("DELETE FROM dav_locks WHERE path IN ('/dav/calendars/'||$1::text, "
         "'/dav/addressbooks/'||$1::text) OR strpos(path, '/dav/calendars/'||$1::text||'/')=1 "
         "OR strpos(path, '/dav/addressbooks/'||$1::text||'/')=1 OR "
         "strpos(path, '/'||$1::text||'~')>0"),
        "DELETE FROM object_members WHERE account_id=$1",
        "DELETE FROM user_props WHERE account_id=$1",
        "DELETE FROM object_metadata WHERE account_id=$1",
        "DELETE FROM metadata_usage WHERE account_id=$1",
        "DELETE FROM metadata_state WHERE account_id=$1",
    };
    static const char *const byuser[] = {
        "DELETE FROM access WHERE user_id=$1",
        "DELETE FROM group_members WHERE user_id=$1",
        "DELETE FROM user_props WHERE user_id=$1",
        "DELETE FROM tokens WHERE user_id=$1",
        "DELETE FROM object_metadata WHERE user_id=$1", /* the id may come back */
        "DELETE FROM dav_locks WHERE user_id=$1",       /* issue 20: their DAV locks */
        "DELETE FROM users WHERE id=$1",
    };
    struct store_user u = {0};
    int rc = pg_user_get(c, name, &u);
    if (rc)
        return rc;
    store_user_clear(&u);
    bool began = pg_auto_begin(c);
    pgc_states_flush(c); /* the other accounts' states the transaction bumped */
    pgc_clear(c);        /* every object of the account goes */
    struct params pa = {0}, pu = {0};
    pgq_text(&pa, u.account_id);
    pgq_int(&pu, u.id);
    for (size_t i = 0; rc == STORE_OK && i < sizeof dels / sizeof dels[0]; i++)
        rc = pgq_run(c, dels[i], &pa, NULL);
    for (size_t i = 0; rc == STORE_OK && i < sizeof byuser / sizeof byuser[0]; i++)
        rc = pgq_run(c, byuser[i], &pu, NULL);
    return pg_auto_end(c, began, rc);
}

int pg_user_set_password(struct store_conn *c, const char *name, const char *pwhash)
{
    static const char *const sql = "UPDATE users SET pwhash=$1 WHERE name=$2";
    struct params p = {0};
    pgq_text(&p, pwhash);
    pgq_text(&p, name);
    return pgq_change(c, sql, &p);
}

/* Calls cb with column 0 of each row of sql; stops when cb returns non-zero. */
int pgq_each_name(struct store_conn *c, const char *sql, const struct params *p, store_name_cb cb,
                  void *ud)
{
    PGresult *r;
    int rc = pgq_run(c, sql, p, &r);
    if (rc)
        return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++)
        if (cb(PQgetvalue(r, i, 0), ud))
            break;
    PQclear(r);
    return STORE_OK;
}

/* Calls cb with columns 0 and 1 of each row of sql; stops when cb returns non-zero. */
int pgq_each_pair(struct store_conn *c, const char *sql, const struct params *p,
                  int (*cb)(const char *a, const char *b, void *ud), void *ud)
{
    PGresult *r;
    int rc = pgq_run(c, sql, p, &r);
    if (rc)
        return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++)
        if (cb(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), ud))
            break;
    PQclear(r);
    return STORE_OK;
}

int pg_user_list(struct store_conn *c, store_name_cb cb, void *ud)
{
    static const char *const sql = "SELECT name FROM users ORDER BY name";
    return pgq_each_name(c, sql, NULL, cb, ud);
}

int pg_user_count(struct store_conn *c)
{
    static const char *const sql = "SELECT count(*) FROM users";
    return (int)pgq_first_int(c, sql, NULL, -1);
}

int pg_user_accounts(struct store_conn *c, int64_t user_id, struct store_access *out, int max)
{
    /* as sqlite.c: the accounts granted whole, then those reached through shares of
     * the user's principal or of a group they are in (issue 14) */
    static const char *const sql =
        "SELECT a.account_id, u.name, a.may_write, u.id = a.user_id AS own, false, true, true "
        "FROM access a JOIN users u ON u.account_id = a.account_id WHERE a.user_id=$1 "
        "UNION ALL "
        "SELECT s.account_id, min(u.name), bool_or(s.may_write), false, true, "
        "  bool_or(s.may_read AND NOT EXISTS("
        "  SELECT 1 FROM user_props p WHERE p.user_id=$1 AND p.account_id=s.account_id AND "
        "  p.type=s.type AND p.object_id=s.object_id AND "
        "  (p.data::jsonb)->'isSubscribed' = 'false'::jsonb)), bool_or(s.may_read) FROM shares s "
        "JOIN users u ON u.account_id = s.account_id "
        "WHERE (s.principal_id = (SELECT account_id FROM users WHERE id=$1) "
        "  OR s.principal_id IN (SELECT group_id FROM group_members WHERE user_id=$1)) "
        "  AND s.account_id NOT IN (SELECT account_id FROM access WHERE user_id=$1) "
        "GROUP BY s.account_id "
        "ORDER BY 4 DESC, 2";
    struct params p = {0};
    pgq_int(&p, user_id);
    PGresult *r;
    if (pgq_run(c, sql, &p, &r))
        return -1;
    int n = 0;
    for (int rows = PQntuples(r); n < max && n < rows; n++) {
        snprintf(out[n].account_id, sizeof out[n].account_id, "%s", PQgetvalue(r, n, 0));
        snprintf(out[n].name, sizeof out[n].name, "%s", PQgetvalue(r, n, 1));
        out[n].may_write = pgq_col_bool(r, n, 2);
        out[n].is_personal = pgq_col_bool(r, n, 3);
        out[n].shared = pgq_col_bool(r, n, 4);
        out[n].subscribed = pgq_col_bool(r, n, 5);
        out[n].readable = pgq_col_bool(r, n, 6);
    }
    PQclear(r);
    return n;
}

int pg_access_grant(struct store_conn *c, int64_t user_id, const char *account_id, bool may_write)
{
    static const char *const sql = "INSERT INTO access(user_id, account_id, may_write) "
                                   "VALUES($1,$2,$3) ON CONFLICT(user_id, account_id) DO UPDATE "
                                   "SET may_write=EXCLUDED.may_write";
    struct params p = {0};
    pgq_int(&p, user_id);
    pgq_text(&p, account_id);
    pgq_bool(&p, may_write);
    return pgq_run(c, sql, &p, NULL);
}

int pg_token_add(struct store_conn *c, int64_t user_id, const char *token_hash,
                 const char *token_id, const char *label)
{
    static const char *const sql = "INSERT INTO tokens(hash, id, user_id, label, created) "
                                   "VALUES($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING RETURNING 1";
    struct params p = {0};
    pgq_text(&p, token_hash);
    pgq_text(&p, token_id);
    pgq_int(&p, user_id);
    pgq_text(&p, label);
    pgq_int(&p, util_now());
    return pgq_insert(c, sql, &p);
}

int pg_token_lookup(struct store_conn *c, const char *token_hash, int64_t *user_id)
{
    static const char *const sql = "SELECT user_id FROM tokens WHERE hash=$1";
    struct params p = {0};
    pgq_text(&p, token_hash);
    int64_t v = pgq_first_int(c, sql, &p, 0);
    if (v < 0)
        return STORE_ERR;
    if (v == 0)
        return STORE_NOTFOUND;
    *user_id = v;
    return STORE_OK;
}

int pg_token_list(struct store_conn *c, int64_t user_id, store_token_cb cb, void *ud)
{
    static const char *const sql = "SELECT id, coalesce(label,''), created FROM tokens "
                                   "WHERE user_id=$1 ORDER BY created, id";
    struct params p = {0};
    pgq_int(&p, user_id);
    PGresult *r;
    int rc = pgq_run(c, sql, &p, &r);
    if (rc)
        return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++)
        if (cb(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), pgq_col_int(r, i, 2), ud))
            break;
    PQclear(r);
    return STORE_OK;
}

int pg_token_revoke(struct store_conn *c, const char *token_id)
{
    static const char *const sql = "DELETE FROM tokens WHERE id=$1";
    struct params p = {0};
    pgq_text(&p, token_id);
    return pgq_change(c, sql, &p);
}

/* ---- states and objects ----------------------------------------------------------------- */

/* The state of (account, type) and the lowest modseq /changes can answer from: one
 * statement for both, kept for a read transaction (postgres_cache.c). -1 on error. */
static int64_t state_read(struct store_conn *c, const char *account, const char *type, bool lowest)
{
    static const char *const sql = "SELECT modseq, lowest FROM states WHERE account_id=$1 AND "
                                   "type=$2";
    int64_t v[2] = {0, 0};
    pg_state_ahead_wait(c, account, type); /* sent ahead (store_state_prefetch) */
    if (pgc_state(c, account, type, &v[0], &v[1]))
        return v[lowest];
    pgc_states_flush(c);
    struct params p = pgq_two(account, type);
    PGresult *r;
    if (pgq_run(c, sql, &p, &r))
        return -1;
    if (PQntuples(r) > 0)
        v[0] = pgq_col_int(r, 0, 0), v[1] = pgq_col_int(r, 0, 1);
    PQclear(r);
    pgc_state_add(c, account, type, v[0], v[1]);
    return v[lowest];
}

int64_t pg_state_get(struct store_conn *c, const char *account, const char *type)
{
    return state_read(c, account, type, false);
}

int64_t pg_state_lowest(struct store_conn *c, const char *account, const char *type)
{
    return state_read(c, account, type, true);
}

int64_t pg_state_bump(struct store_conn *c, const char *account, const char *type)
{
    static const char *const sql = "INSERT INTO states(account_id, type, modseq) VALUES($1,$2,1) "
                                   "ON CONFLICT(account_id, type) DO UPDATE SET "
                                   "modseq=states.modseq+1 RETURNING modseq";
    assert(pg_in_write(c)); /* store.h: every change runs in a write transaction */
    struct params p = pgq_two(account, type);
    int64_t v;
    /* the second bump in a transaction: the writers' lock keeps the row ours, so its
     * value is known; the row is written once, before COMMIT (pgc_states_flush) */
    if (pgc_bump(c, account, type, &v))
        return v;
    v = pgq_first_int(c, sql, &p, -1);
    assert(v != 0);
    if (v > 0)
        pgc_bumped(c, account, type, v);
    return v;
}

/* ---- prefetch: a /get's objects in one round trip ----------------------------------- */

int pg_object_prefetch(struct store_conn *c, const char *account, const char *type,
                       const char *const *ids, size_t n)
{
    /* one probe of the primary key per id, whatever the statistics say: as `id =
     * ANY($3)`, for an account the planner has no statistics of (a new one, or one
     * grown since the last ANALYZE: postgres_stats.c), it read the account's rows in
     * key order through (account_id, type) and tested each against the array (W2, 100
     * ids at 10,000 events: 11 ms against 0.4); as a join, it hashed the account's
     * rows. OFFSET 0 keeps the subquery a probe of its own per id */
    static const char *const sql =
        "SELECT o.id, o.data, o.ukey FROM (SELECT DISTINCT unnest($3::text[]) AS id) k CROSS "
        "JOIN LATERAL (SELECT id, data, ukey FROM objects WHERE account_id=$1 AND type=$2 AND "
        "id=k.id AND NOT destroyed OFFSET 0) o ORDER BY 1";
    /* kept for the transaction (postgres_cache.c) */
    if (!c->in_txn || n < 2 || pgc_whole(c, account, type))
        return STORE_OK;
    struct buf arr = {0};
    pgq_text_array(&arr, ids, n);
    struct params p = pgq_two(account, type);
    pgq_text(&p, arr.data);
    PGresult *r;
    int rc = pgq_run(c, sql, &p, &r);
    buf_free(&arr);
    if (rc == STORE_OK && !pgc_keep(c, account, type, r, false))
        PQclear(r);
    return rc;
}

json_t *pg_object_get(struct store_conn *c, const char *account, const char *type, const char *id)
{
    /* with its unique key: an update of it then need not wait (pg_object_put) */
    static const char *const sql = "SELECT id, data, ukey FROM objects WHERE account_id=$1 AND "
                                   "type=$2 AND id=$3 AND NOT destroyed";
    json_t *obj;
    if (pgc_get(c, account, type, id, &obj) >= 0)
        return obj;
    struct params p = pgq_three(account, type, id);
    PGresult *r;
    if (pgq_run(c, sql, &p, &r))
        return NULL;
    if (PQntuples(r) > 0)
        obj = json_loadb(PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1), 0, NULL);
    /* kept: a transaction asks for the same object again (a calendar per event) */
    if (PQntuples(r) == 0 || !pgc_keep(c, account, type, r, false))
        PQclear(r);
    return obj;
}

bool pg_object_exists(struct store_conn *c, const char *account, const char *type, const char *id)
{
    return pg_object_modseq(c, account, type, id) > 0;
}

char *pg_object_find_key(struct store_conn *c, const char *account, const char *type,
                         const char *key)
{
    static const char *const sql = "SELECT id FROM objects WHERE account_id=$1 AND type=$2 AND "
                                   "ukey=$3 AND NOT destroyed";
    struct params p = pgq_three(account, type, key);
    PGresult *r;
    if (pgq_run(c, sql, &p, &r))
        return NULL;
    char *id = PQntuples(r) > 0 ? xstrdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    return id;
}

/* Whether a create's unique key is taken (1), free (0) or not known (-1): the keys a
 * /set announced (pg_keys_expect) are known; without them, from the second create of
 * the type in a transaction, every key of the type is loaded once. */
static int ukey_taken(struct store_conn *c, const char *account, const char *type, const char *key)
{
    static const char *const all = "SELECT ukey, id FROM objects WHERE account_id=$1 AND type=$2 "
                                   "AND ukey IS NOT NULL ORDER BY ukey";
    if (pgc_ukey_creates(c, account, type) == 2 && !pgc_ukeys_probed(c, account, type)) {
        struct params p = pgq_two(account, type);
        PGresult *r;
        if (pgq_run(c, all, &p, &r) == STORE_OK)
            pgc_ukey_keep(c, r);
    }
    return pgc_ukey_taken(c, account, type, key);
}

int pg_keys_expect(struct store_conn *c, const char *account, const char *type,
                   const char *const *keys, const char *const *uids, size_t n)
{
    /* one probe of an index per key and per uid, as pg_object_prefetch probes ids; both
     * lists in one statement (one round trip): 0 and the key's holder, 1 and an id
     * with the uid */
    static const char *const sql =
        "SELECT 0, o.ukey, o.id FROM (SELECT DISTINCT unnest($3::text[]) AS k) k CROSS JOIN "
        "LATERAL (SELECT ukey, id FROM objects WHERE account_id=$1 AND type=$2 AND ukey=k.k "
        "OFFSET 0) o UNION ALL SELECT 1, i.uid, i.id FROM (SELECT DISTINCT unnest($4::text[]) "
        "AS u) u CROSS JOIN LATERAL (SELECT uid, id FROM object_index WHERE account_id=$1 AND "
        "type=$2 AND uid=u.u OFFSET 0) i";
    if (!pg_in_write(c) || c->failed)
        return STORE_OK;
    json_t *taken = json_object(), *with_uid = NULL;
    for (size_t i = 0; i < n; i++) {
        if (keys[i])
            json_object_set_new(taken, keys[i], json_null());
        if (uids[i] && !json_object_get(with_uid ? with_uid : (with_uid = json_object()), uids[i]))
            json_object_set_new(with_uid, uids[i], json_array());
    }
    struct buf k = {0}, u = {0};
    pgq_text_array(&k, keys, n);
    pgq_text_array(&u, uids, n);
    struct params p = pgq_two(account, type);
    pgq_text(&p, k.data);
    pgq_text(&p, u.data);
    PGresult *r;
    int rc = pgq_run(c, sql, &p, &r);
    buf_free(&k);
    buf_free(&u);
    if (rc) {
        json_decref(taken);
        json_decref(with_uid);
        return rc;
    }
    for (int i = 0, rows = PQntuples(r); i < rows; i++) {
        const char *v = PQgetvalue(r, i, 1), *id = PQgetvalue(r, i, 2);
        if (pgq_col_int(r, i, 0) == 0)
            json_object_set_new(taken, v, json_string(id));
        else
            json_array_append_new(json_object_get(with_uid, v), json_string(id));
    }
    PQclear(r);
    if (json_object_size(taken))
        pgc_ukey_probe(c, account, type, taken);
    else
        json_decref(taken);
    if (with_uid)
        pgc_uid_probe(c, account, type, with_uid);
    return STORE_OK;
}

int pg_object_put(struct store_conn *c, const char *account, const char *type, const char *id,
                  json_t *data, int64_t modseq, bool create, const char *unique_key)
{
    static const char *const ins = "INSERT INTO objects(account_id, type, id, data, "
                                   "created_modseq, updated_modseq, ukey) VALUES($1,$2,$3,$4,"
                                   "$5,$5,$6) ON CONFLICT DO NOTHING RETURNING 1";
    static const char *const upd = "UPDATE objects SET data=$4, updated_modseq=$5, ukey=$6 "
                                   "WHERE account_id=$1 AND type=$2 AND id=$3 AND NOT destroyed";
    static const char *const upd_row = "UPDATE objects SET data=$4, updated_modseq=$5, ukey=$6 "
                                       "WHERE account_id=$1 AND type=$2 AND id=$3 AND NOT "
                                       "destroyed RETURNING 1";
    assert(pg_in_write(c) && modseq > 0);
    pgc_forget(c, account, type);
    char *text = store_json_text(data);
    if (!text)
        return STORE_ERR;
    struct params p = pgq_three(account, type, id);
    pgq_text(&p, text);
    pgq_int(&p, modseq);
    pgq_text(&p, unique_key);
    /* the unique indexes answer STORE_EXISTS, storing nothing. A create has a new id
     * (random, or checked absent by the caller): when its key is known free too
     * (postgres_cache.c) it is queued (postgres_exec.c), and should the row be taken
     * after all, the transaction fails */
    int rc, taken = create && unique_key ? ukey_taken(c, account, type, unique_key) : 0;
    /* an update of an object the transaction read or wrote (live: the writers' lock
     * keeps it so) whose unique key stays as stored, or goes, cannot break the unique
     * index nor miss its row: queued too (a /set of 50 title changes waited 4.3 times
     * an event, issue 15 §1) */
    const char *stored;
    bool known = !create && pgc_stored_key(c, account, type, id, &stored) == 1 &&
                 (!unique_key || (stored && strcmp(stored, unique_key) == 0));
    if (taken == 1)
        rc = STORE_EXISTS;
    else if (create)
        rc = taken == 0 ? pgq_defer_row(c, ins, &p) : pgq_insert(c, ins, &p);
    else if (known)
        rc = pgq_defer_row(c, upd_row, &p);
    else
        rc = unique_key ? run_guarded(c, upd, &p) : pgq_change(c, upd, &p);
    if (rc == STORE_OK) {
        pgc_ukey_set(c, account, type, id, unique_key);
        pgc_written(c, account, type, id, text, unique_key);
    }
    if (rc == STORE_OK && create) {
        pg_stats_created(c, account);
        pgc_born_add(c, account, type, id);
    }
    free(text);
    return rc;
}

int pg_object_destroy(struct store_conn *c, const char *account, const char *type, const char *id,
                      int64_t modseq)
{
    static const char *const sql = "UPDATE objects SET data=NULL, ukey=NULL, destroyed=true, "
                                   "updated_modseq=$4 WHERE account_id=$1 AND type=$2 AND id=$3 "
                                   "AND NOT destroyed";
    assert(pg_in_write(c) && modseq > 0);
    pgc_forget(c, account, type);
    struct params p = pgq_three(account, type, id);
    pgq_int(&p, modseq);
    int rc = pgq_change(c, sql, &p);
    if (rc == STORE_OK) {
        pgc_ukey_set(c, account, type, id, NULL);
        pgc_written(c, account, type, id, NULL, NULL);
    }
    return rc;
}

int pg_object_foreach(struct store_conn *c, const char *account, const char *type,
                      store_object_cb cb, void *ud)
{
    static const char *const sql = "SELECT id, data FROM objects WHERE account_id=$1 AND "
                                   "type=$2 AND NOT destroyed ORDER BY id";
    /* the whole result is here: cb may use the connection again; in a transaction it
     * stays for the transaction (postgres_cache.c), which frees it */
    PGresult *r = pgc_whole(c, account, type);
    bool kept = r != NULL;
    if (!r) {
        struct params p = pgq_two(account, type);
        int rc = pgq_run(c, sql, &p, &r);
        if (rc)
            return rc;
        kept = pgc_keep(c, account, type, r, true);
    }
    int rc = STORE_OK;
    c->iterating++;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        json_t *obj = json_loadb(PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1), 0, NULL);
        if (!obj)
            continue;
        int stop = cb(PQgetvalue(r, i, 0), obj, ud);
        json_decref(obj);
        if (stop) {
            rc = stop;
            break;
        }
    }
    c->iterating--;
    if (!kept)
        PQclear(r);
    return rc;
}

int pg_object_count(struct store_conn *c, const char *account, const char *type)
{
    /* updated_modseq > 0: the change index (schema 13) counts without the rows */
    static const char *const sql = "SELECT count(*) FROM objects WHERE account_id=$1 AND type=$2 "
                                   "AND NOT destroyed AND updated_modseq > 0";
    struct params p = pgq_two(account, type);
    return (int)pgq_first_int(c, sql, &p, -1);
}

/* The change scan (store_changes), and the same sent ahead of the state read that
 * /changes checks its state against (store_changes_prefetch: one round trip for both). */
static const char *const changes_sql = "SELECT id, created_modseq, updated_modseq, destroyed FROM "
                                       "objects WHERE account_id=$1 AND type=$2 AND "
                                       "updated_modseq>$3 AND updated_modseq > 0 ORDER BY "
                                       "updated_modseq LIMIT $4";

static void changes_params(struct params *p, int64_t since, size_t max)
{
    pgq_int(p, since);
    if (max)
        pgq_int(p, (int64_t)max);
    else
        pgq_text(p, NULL); /* LIMIT NULL: all */
}

static void keep_changes(struct store_conn *c, PGresult *r)
{
    if (c->ahead.queued && !c->ahead.r)
        c->ahead.r = r;
    else
        PQclear(r);
}

int pg_changes_prefetch(struct store_conn *c, const char *account, const char *type, int64_t since,
                        size_t max)
{
    if (!c->in_txn || c->writing || strlen(account) >= sizeof c->ahead.account ||
        strlen(type) >= sizeof c->ahead.type)
        return STORE_OK; /* store_changes runs it then */
    PQclear(c->ahead.r);
    c->ahead = (struct pg_ahead){.since = since, .max = max};
    snprintf(c->ahead.account, sizeof c->ahead.account, "%s", account);
    snprintf(c->ahead.type, sizeof c->ahead.type, "%s", type);
    struct params p = pgq_two(account, type);
    changes_params(&p, since, max);
    c->ahead.queued = pgq_defer_keep(c, changes_sql, &p, keep_changes) == STORE_OK;
    return STORE_OK;
}

/* The rows of the scan sent ahead with these arguments (the caller's), else NULL. */
static PGresult *changes_ahead(struct store_conn *c, const char *account, const char *type,
                               int64_t since, size_t max)
{
    struct pg_ahead *a = &c->ahead;
    if (!c->in_txn || !a->queued || a->since != since || a->max != max ||
        strcmp(a->account, account) != 0 || strcmp(a->type, type) != 0)
        return NULL;
    if (!a->r)
        pgq_settle(c); /* still queued: its answer now (the round trip it would cost) */
    PGresult *r = a->r;
    *a = (struct pg_ahead){0};
    return r;
}

int pg_changes(struct store_conn *c, const char *account, const char *type, int64_t since,
               size_t max, store_change_cb cb, void *ud)
{
    PGresult *r = changes_ahead(c, account, type, since, max);
    if (!r) {
        struct params p = pgq_two(account, type);
        changes_params(&p, since, max);
        int rc = pgq_run(c, changes_sql, &p, &r);
        if (rc)
            return rc;
    }
    for (int i = 0, n = PQntuples(r); i < n; i++)
        if (cb(PQgetvalue(r, i, 0), pgq_col_int(r, i, 1), pgq_col_int(r, i, 2),
               pgq_col_bool(r, i, 3), ud))
            break;
    PQclear(r);
    return STORE_OK;
}

int64_t pg_object_modseq(struct store_conn *c, const char *account, const char *type,
                         const char *id)
{
    static const char *const sql = "SELECT updated_modseq FROM objects WHERE account_id=$1 AND "
                                   "type=$2 AND id=$3 AND NOT destroyed";
    struct params p = pgq_three(account, type, id);
    return pgq_first_int(c, sql, &p, -1);
}

/* ---- feeds ------------------------------------------------------------------------------ */

int pg_feed_add(struct store_conn *c, const char *hash, const char *id, const char *account,
                const char *kind, const char *object_id)
{
    static const char *const sql = "INSERT INTO feeds(hash, id, account_id, kind, object_id, "
                                   "created) VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING "
                                   "RETURNING 1";
    struct params p = pgq_three(hash, id, account);
    pgq_text(&p, kind);
    pgq_text(&p, object_id);
    pgq_int(&p, util_now());
    return pgq_insert(c, sql, &p);
}

int pg_feed_lookup(struct store_conn *c, const char *hash, char account[64], char kind[32],
                   char object_id[64])
{
    static const char *const sql = "SELECT account_id, kind, object_id FROM feeds WHERE hash=$1";
    struct params p = {0};
    pgq_text(&p, hash);
    PGresult *r;
    int rc = pgq_run(c, sql, &p, &r);
    if (rc)
        return rc;
    rc = STORE_NOTFOUND;
    if (PQntuples(r) > 0) {
        snprintf(account, 64, "%s", PQgetvalue(r, 0, 0));
        snprintf(kind, 32, "%s", PQgetvalue(r, 0, 1));
        snprintf(object_id, 64, "%s", PQgetvalue(r, 0, 2));
        rc = STORE_OK;
    }
    PQclear(r);
    return rc;
}

int pg_feed_revoke(struct store_conn *c, const char *id)
{
    static const char *const sql = "DELETE FROM feeds WHERE id=$1";
    struct params p = {0};
    pgq_text(&p, id);
    return pgq_change(c, sql, &p);
}

const char *store_pg_url(struct store *st)
{
    return st->url;
}
