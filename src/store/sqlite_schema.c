/*
 * sqlite_schema.c — the SQLite store's schema as versioned migrations (PRAGMA user_version):
 * sqlite.c's migrate runs the steps a database has not had yet, each in its own transaction.
 */
#include "store/backend.h"
#include "store/sqlite_internal.h"

/* Each entry moves the schema from version i to i+1; never edit a released one. */
static const char *const migrations[] = {
    ("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
     "  pwhash TEXT NOT NULL, account_id TEXT NOT NULL, created INTEGER NOT NULL);"
     "CREATE TABLE access(user_id INTEGER NOT NULL, account_id TEXT NOT NULL,"
     "  may_write INTEGER NOT NULL, PRIMARY KEY(user_id, account_id)) WITHOUT ROWID;"
     "CREATE TABLE tokens(hash TEXT PRIMARY KEY, id TEXT UNIQUE NOT NULL,"
     "  user_id INTEGER NOT NULL, label TEXT, created INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE TABLE states(account_id TEXT NOT NULL, type TEXT NOT NULL,"
     "  modseq INTEGER NOT NULL, lowest INTEGER NOT NULL DEFAULT 0,"
     "  PRIMARY KEY(account_id, type)) WITHOUT ROWID;"
     "CREATE TABLE objects(account_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,"
     "  data TEXT, format INTEGER NOT NULL DEFAULT 1, created_modseq INTEGER NOT NULL,"
     "  updated_modseq INTEGER NOT NULL, destroyed INTEGER NOT NULL DEFAULT 0,"
     "  PRIMARY KEY(account_id, type, id)) WITHOUT ROWID;"
     "CREATE INDEX objects_changes ON objects(account_id, type, updated_modseq);"
     "CREATE TABLE blobs(id TEXT PRIMARY KEY, data BLOB NOT NULL, size INTEGER NOT NULL,"
     "  created INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE TABLE blob_uploads(account_id TEXT NOT NULL, blob_id TEXT NOT NULL,"
     "  type TEXT, created INTEGER NOT NULL, PRIMARY KEY(account_id, blob_id)) WITHOUT ROWID;"
     "CREATE INDEX blob_uploads_created ON blob_uploads(created);"
     "CREATE TABLE blob_refs(account_id TEXT NOT NULL, blob_id TEXT NOT NULL,"
     "  obj_type TEXT NOT NULL, obj_id TEXT NOT NULL,"
     "  PRIMARY KEY(account_id, blob_id, obj_type, obj_id)) WITHOUT ROWID;"
     "CREATE INDEX blob_refs_obj ON blob_refs(account_id, obj_type, obj_id);"),
    /* 2: query side tables (DESIGN.md §2): time range and uid per object, and a
     * full-text index of its text fields */
    ("CREATE TABLE object_index(account_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,"
     "  uid TEXT, start INTEGER, finish INTEGER, text_rowid INTEGER,"
     "  PRIMARY KEY(account_id, type, id)) WITHOUT ROWID;"
     "CREATE INDEX object_index_uid ON object_index(account_id, type, uid);"
     "CREATE INDEX object_index_start ON object_index(account_id, type, start);"
     "CREATE VIRTUAL TABLE object_text USING fts5(title, description, location, owner, attendee,"
     "  body, tokenize = 'unicode61 remove_diacritics 2');"),
    /* 3: the object's modseq beside its range, so a range scan needs no join */
    ("ALTER TABLE object_index ADD COLUMN modseq INTEGER;"
     "UPDATE object_index SET modseq = (SELECT updated_modseq FROM objects o WHERE "
     "  o.account_id = object_index.account_id AND o.type = object_index.type AND "
     "  o.id = object_index.id);"
     /* covering: a range scan reads the index alone */
     "DROP INDEX object_index_start;"
     "CREATE INDEX object_index_range ON object_index(account_id, type, start, finish, id, "
     "modseq);"),
    /* 4: read-only feed URLs: a secret token (stored hashed) names a collection */
    ("CREATE TABLE feeds(hash TEXT PRIMARY KEY, id TEXT UNIQUE NOT NULL, account_id TEXT NOT NULL,"
     "  kind TEXT NOT NULL, object_id TEXT NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;"),
    /* 5: the store knows text fields by number only (f0..f5, named by each type),
     * and an object's unique key is a constraint of the database (store.h) */
    ("CREATE VIRTUAL TABLE object_fields USING fts5(f0, f1, f2, f3, f4, f5,"
     "  tokenize = 'unicode61 remove_diacritics 2');"
     "INSERT INTO object_fields(rowid, f0, f1, f2, f3, f4, f5) SELECT rowid, title, description,"
     "  location, owner, attendee, body FROM object_text;"
     "DROP TABLE object_text;"
     "ALTER TABLE objects ADD COLUMN ukey TEXT;"
     "CREATE UNIQUE INDEX objects_ukey ON objects(account_id, type, ukey) WHERE ukey IS NOT NULL;"),
    /* 6: a text search starts from the full-text hits and finds each one's row by
     * its text rowid (issue 21: without this index SQLite scanned the account's rows
     * and ran the MATCH once per row: 0.6 s at 20,000 events) */
    ("CREATE INDEX object_index_text ON object_index(text_rowid, account_id, type, id);"),
    /* 7: a sort key per object (store_index.order), so a sorted, paged query reads a
     * page of the index instead of every object; rows indexed before have none */
    ("ALTER TABLE object_index ADD COLUMN ord INTEGER;"
     "CREATE INDEX object_index_order ON object_index(account_id, type, ord, id, modseq);"),
    /* 8: groupware (issue 14): groups of users (principals, RFC 9670 §2), the
     * principals each collection is shared with (the reverse of a shareWith
     * property, to find a sharee's accounts) and per-user properties of shared
     * objects (draft-ietf-jmap-calendars §4, §5.4) */
    ("CREATE TABLE groups(id TEXT PRIMARY KEY, name TEXT UNIQUE NOT NULL) WITHOUT ROWID;"
     "CREATE TABLE group_members(group_id TEXT NOT NULL, user_id INTEGER NOT NULL,"
     "  PRIMARY KEY(group_id, user_id)) WITHOUT ROWID;"
     "CREATE INDEX group_members_user ON group_members(user_id);"
     "CREATE TABLE shares(account_id TEXT NOT NULL, type TEXT NOT NULL, object_id TEXT NOT NULL,"
     "  principal_id TEXT NOT NULL, may_write INTEGER NOT NULL,"
     "  PRIMARY KEY(account_id, type, object_id, principal_id)) WITHOUT ROWID;"
     "CREATE INDEX shares_principal ON shares(principal_id, account_id);"
     "CREATE TABLE user_props(user_id INTEGER NOT NULL, account_id TEXT NOT NULL,"
     "  type TEXT NOT NULL, object_id TEXT NOT NULL, data TEXT NOT NULL,"
     "  PRIMARY KEY(user_id, account_id, type, object_id)) WITHOUT ROWID;"),
    /* 9 (issue 21): the text search's index also covers what the search returns
     * (store_text_hits: modseq and order); without them SQLite went back to scanning
     * the account's rows once per hit */
    ("DROP INDEX object_index_text;"
     "CREATE INDEX object_index_text ON object_index(text_rowid, account_id, type, id, modseq, "
     "ord);"),
    /* 10 (issue 14, calendars-27 §6): when each object's alerts are next due, per
     * user, and until when they have fired (store.h "the alert schedule") */
    ("CREATE TABLE alert_queue(account_id TEXT NOT NULL, type TEXT NOT NULL,"
     "  object_id TEXT NOT NULL, user_id INTEGER NOT NULL, next_check INTEGER NOT NULL,"
     "  fired_until INTEGER NOT NULL, PRIMARY KEY(account_id, type, object_id, user_id))"
     "  WITHOUT ROWID;"
     "CREATE INDEX alert_queue_due ON alert_queue(next_check);"),
    /* 11 (issue 20): the change scan (store_changes, a DAV full sync's ETags) covered by
     * its index: created_modseq and destroyed lie after the data column, and reading them
     * from the row walked each object's overflow pages (270 ms for 10,000 events, 10 ms
     * from the index) */
    ("DROP INDEX objects_changes;"
     "CREATE INDEX objects_changes ON objects(account_id, type, updated_modseq, created_modseq,"
     "  destroyed);"),
    /* 12 (issue 21): the class of each range's length (store_span_class), so a window
     * reads per class only the rows that start late enough to reach it (the range
     * index read every row starting before the window's end: half an account for a
     * month in its middle), and whether the range is the object's one occurrence
     * (exact: unknown, so not exact, for rows indexed before) */
    ("ALTER TABLE object_index ADD COLUMN span INTEGER;"
     "ALTER TABLE object_index ADD COLUMN exact INTEGER;"
     "UPDATE object_index SET span = CASE WHEN finish IS NULL OR finish - start >= 1099511627776 "
     "  THEN 41 WHEN finish <= start THEN 0 ELSE CAST(floor(log2(finish - start)) AS INTEGER) + 1 "
     "  END WHERE start IS NOT NULL;"
     "DROP INDEX object_index_range;"
     "CREATE INDEX object_index_span ON object_index(account_id, type, span, start, finish, id, "
     "  modseq, exact);"),
    /* 13 (issue 18, draft-ietf-jmap-metadata-02): object metadata beside the objects:
     * user 0 the shared `metadata`, a user's id their `privateMetadata`, each row
     * with the modseq of its change; the account's metadata bytes (quota) and the
     * per-viewer state of a type (sqlite_metadata.c) */
    ("CREATE TABLE object_metadata(account_id TEXT NOT NULL, type TEXT NOT NULL,"
     "  object_id TEXT NOT NULL, user_id INTEGER NOT NULL, data TEXT NOT NULL,"
     "  modseq INTEGER NOT NULL, PRIMARY KEY(account_id, type, object_id, user_id)) WITHOUT ROWID;"
     "CREATE INDEX object_metadata_changes ON object_metadata(account_id, type, user_id, modseq);"
     "CREATE TABLE metadata_usage(account_id TEXT PRIMARY KEY, bytes INTEGER NOT NULL)"
     "  WITHOUT ROWID;"
     "CREATE TABLE metadata_state(account_id TEXT NOT NULL, type TEXT NOT NULL,"
     "  last_private INTEGER NOT NULL, shared INTEGER NOT NULL,"
     "  PRIMARY KEY(account_id, type)) WITHOUT ROWID;"),
    /* 14 (RFC 8620 §7.2): push subscriptions, per user and credential (sqlite_push.c) */
    ("CREATE TABLE push_subscriptions(id TEXT PRIMARY KEY, user_id INTEGER NOT NULL,"
     "  cred TEXT NOT NULL, data TEXT NOT NULL) WITHOUT ROWID;"
     "CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id);"),
    /* 15 (issue 18): object_metadata becomes a rowid table. WITHOUT ROWID kept each
     * row in its key's b-tree cell, and a row of about 1 KB or more spills out of
     * the cell: every key comparison of a look-up then read the whole row from its
     * overflow page (a /get of 50 events with 1 KB of metadata each spent more on
     * these look-ups than on reading the events). The key is now a small index. */
    ("CREATE TABLE object_metadata_rows(account_id TEXT NOT NULL, type TEXT NOT NULL,"
     "  object_id TEXT NOT NULL, user_id INTEGER NOT NULL, data TEXT NOT NULL,"
     "  modseq INTEGER NOT NULL, PRIMARY KEY(account_id, type, object_id, user_id));"
     "INSERT INTO object_metadata_rows SELECT account_id, type, object_id, user_id, data, modseq"
     "  FROM object_metadata;"
     "DROP TABLE object_metadata;"
     "ALTER TABLE object_metadata_rows RENAME TO object_metadata;"
     "CREATE INDEX object_metadata_changes ON object_metadata(account_id, type, user_id, modseq);"),
    /* 16 (issue 18, metadata-02 §3.5): which objects have which top-level keys (the
     * namespaces holding a non-empty object) in their shared metadata (user 0) and in
     * each user's private metadata, kept by triggers on object_metadata (so the deletion
     * of a user or an account keeps it too): a metadata filter condition reads its
     * candidates here instead of checking every object (sqlite_metadata.c) */
    ("CREATE TABLE metadata_keys(account_id TEXT NOT NULL, type TEXT NOT NULL,"
     "  user_id INTEGER NOT NULL, key TEXT NOT NULL, object_id TEXT NOT NULL,"
     "  PRIMARY KEY(account_id, type, user_id, key, object_id)) WITHOUT ROWID;"
     "INSERT OR IGNORE INTO metadata_keys SELECT m.account_id, m.type, m.user_id, j.key,"
     "  m.object_id FROM object_metadata m, json_each(m.data) j"
     "  WHERE j.type = 'object' AND j.value <> '{}';"
     "CREATE TRIGGER metadata_keys_insert AFTER INSERT ON object_metadata BEGIN"
     "  INSERT OR IGNORE INTO metadata_keys SELECT NEW.account_id, NEW.type, NEW.user_id,"
     "  j.key, NEW.object_id FROM json_each(NEW.data) j"
     "  WHERE j.type = 'object' AND j.value <> '{}'; END;"
     "CREATE TRIGGER metadata_keys_update AFTER UPDATE OF data ON object_metadata BEGIN"
     "  DELETE FROM metadata_keys WHERE account_id = OLD.account_id AND type = OLD.type"
     "  AND user_id = OLD.user_id AND object_id = OLD.object_id"
     "  AND key IN (SELECT key FROM json_each(OLD.data));"
     "  INSERT OR IGNORE INTO metadata_keys SELECT NEW.account_id, NEW.type, NEW.user_id,"
     "  j.key, NEW.object_id FROM json_each(NEW.data) j"
     "  WHERE j.type = 'object' AND j.value <> '{}'; END;"
     "CREATE TRIGGER metadata_keys_delete AFTER DELETE ON object_metadata BEGIN"
     "  DELETE FROM metadata_keys WHERE account_id = OLD.account_id AND type = OLD.type"
     "  AND user_id = OLD.user_id AND object_id = OLD.object_id"
     "  AND key IN (SELECT key FROM json_each(OLD.data)); END;"),
    /* 17 (issue 21): substring search (store_grams_*, sqlite_grams.c): each object's
     * texts as the type folded them, a trigram index over them (exact substrings,
     * case as given: sqlite_grams.c keeps it in step), and its facets beside its id in
     * an index, so
     * that a type reads them without reading the texts or the objects. Rows for the
     * objects of older databases come from the type (store_grams_missing). */
    ("CREATE TABLE object_grams_src(n INTEGER PRIMARY KEY, account_id TEXT NOT NULL,"
     "  type TEXT NOT NULL, id TEXT NOT NULL, g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10, g11,"
     "  facets TEXT,"
     "  UNIQUE(account_id, type, id));"
     "CREATE INDEX object_grams_facets ON object_grams_src(account_id, type, id, facets);"
     /* a hit's id without reading its row of texts */
     "CREATE INDEX object_grams_hit ON object_grams_src(n, account_id, type, id);"
     "CREATE VIRTUAL TABLE object_grams USING fts5(g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10,"
     "  g11, content='object_grams_src',"
     "  content_rowid='n', columnsize=0, tokenize='trigram case_sensitive 1');"),
    /* 18 (issue 21): a descending sorted page (store_index_ordered: ord DESC, ties by id
     * ascending) read from an index in its order; with the ascending index alone SQLite
     * sorted every group of equal ord on the way to the page in a temporary B-tree (a
     * page at offset 30,000 of 100,000 events: 8.8 ms, 1.3 ms from this index) */
    ("CREATE INDEX object_index_order_desc ON object_index(account_id, type, ord DESC, id, "
     "  modseq);"),
    /* 19 (issue 15 §5): a blob's bytes in chunks of 256 KiB, as on PostgreSQL, so a
     * download reads one chunk at a time: a column value is always read whole, even
     * for substr(), and incremental blob I/O needs a rowid the blobs table has not.
     * A rowid table: its rows are large (SQLite's advice for WITHOUT ROWID). An empty
     * blob is one empty chunk (substr() of it is NULL). Every step after this one
     * must be idempotent (IF NOT EXISTS): test_pg_blob_stream.py rebuilds the layout
     * before it and runs it and the later steps again. */
    ("CREATE TABLE blob_chunks(blob_id TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,"
     "  PRIMARY KEY(blob_id, seq));"
     "WITH RECURSIVE s(id, seq) AS (SELECT id, 0 FROM blobs UNION ALL SELECT s.id, s.seq + 1"
     "  FROM s JOIN blobs b ON b.id = s.id WHERE (s.seq + 1) * 262144 < b.size)"
     "  INSERT INTO blob_chunks SELECT s.id, s.seq,"
     "  coalesce(substr(b.data, s.seq * 262144 + 1, 262144), x'') FROM s JOIN blobs b ON b.id = "
     "s.id;"
     "ALTER TABLE blobs DROP COLUMN data;"),
    /* 20 (issue 21): the (account, type) pairs whose objects all have their search
     * rows (sq_grams_missing): the check at each start read every object of the type
     * (0.25 s of CPU at 100,000 cards); a pair is written once the backfill of its
     * objects is done, after which each write of the type keeps its row */
    ("CREATE TABLE IF NOT EXISTS object_grams_done(account_id TEXT NOT NULL, type TEXT NOT NULL,"
     "  PRIMARY KEY(account_id, type)) WITHOUT ROWID;"),
    /* 21 (issue 21): a ContactCard's uid check asks the unique-key index
     * (store_object_find_key), not an index of every card in memory: cards written
     * before step 5 get the key their uid is (idempotent: only rows without one; a
     * uid two old cards share stays with the first) */
    ("UPDATE OR IGNORE objects SET ukey = json_extract(data, '$.uid') WHERE type = 'ContactCard'"
     "  AND ukey IS NULL AND destroyed = 0 AND json_type(data, '$.uid') = 'text';"),
    /* 22 (issue 20): DAV write locks (RFC 4918 §6, sqlite_davlock.c), in the store so
     * every process on the data directory honours them; expires is Unix time */
    ("CREATE TABLE IF NOT EXISTS dav_locks(token TEXT PRIMARY KEY, path TEXT NOT NULL,"
     "  user_id INTEGER NOT NULL, exclusive INTEGER NOT NULL, infinite INTEGER NOT NULL,"
     "  expires INTEGER NOT NULL, seconds INTEGER NOT NULL, owner TEXT);"),
    /* 23 (issue 21): a type's sort keys beside its search row (store_grams.key,
     * sqlite_grams.c), each in an index of its own, so that a sorted page is read from
     * an index instead of sorting every object's facets (the first name-sorted query
     * after a start: 110 ms of CPU at 100,000 cards). An object without its key row is
     * one without its search row (sq_grams_missing): dropping the marks of step 20
     * has the next start give every older object its keys. Idempotent: run again, the
     * marks go and the next start finds every row and marks again. */
    ("CREATE TABLE IF NOT EXISTS object_grams_keys(account_id TEXT NOT NULL,"
     "  type TEXT NOT NULL, id TEXT NOT NULL, k0 BLOB, k1 BLOB,"
     "  PRIMARY KEY(account_id, type, id)) WITHOUT ROWID;"
     "CREATE INDEX IF NOT EXISTS object_grams_k0 ON object_grams_keys(account_id, type, k0)"
     "  WHERE k0 IS NOT NULL;"
     "CREATE INDEX IF NOT EXISTS object_grams_k1 ON object_grams_keys(account_id, type, k1)"
     "  WHERE k1 IS NOT NULL;"
     "DELETE FROM object_grams_done;"),
    /* 24 (issue 14, calendars-27 §4.1): whether each share lets its principal read the
     * collection's items (store_share.may_read): an account shared for free/busy alone
     * is no account of the sharee's. The table is made again with the column
     * (idempotent, unlike ADD COLUMN), each row's value read from its collection's
     * shareWith (mayRead for an address book, mayReadItems otherwise) */
    ("CREATE TABLE IF NOT EXISTS shares_readable(account_id TEXT NOT NULL, type TEXT NOT NULL,"
     "  object_id TEXT NOT NULL, principal_id TEXT NOT NULL, may_write INTEGER NOT NULL,"
     "  may_read INTEGER NOT NULL DEFAULT 1,"
     "  PRIMARY KEY(account_id, type, object_id, principal_id)) WITHOUT ROWID;"
     "INSERT OR REPLACE INTO shares_readable(account_id, type, object_id, principal_id, may_write,"
     "  may_read) SELECT s.account_id, s.type, s.object_id, s.principal_id, s.may_write,"
     "  coalesce((SELECT coalesce(json_extract(o.data, '$.shareWith.\"' || s.principal_id ||"
     "  '\".' || CASE s.type WHEN 'AddressBook' THEN 'mayRead' ELSE 'mayReadItems' END), 0)"
     "  FROM objects o WHERE o.account_id = s.account_id AND o.type = s.type"
     "  AND o.id = s.object_id AND o.destroyed = 0), 1) FROM shares s;"
     "DROP TABLE shares;"
     "ALTER TABLE shares_readable RENAME TO shares;"
     "CREATE INDEX IF NOT EXISTS shares_principal ON shares(principal_id, account_id);"),
    /* 25 (issue 14): the collections each object is shown in, in index order
     * (store_members_*: a sharee's sorted page reads the calendars they read, not the
     * account), filled for the events stored before from their calendarIds (a secret
     * event is shown in none, calendars-27 §5.7) */
    ("CREATE TABLE IF NOT EXISTS object_members(account_id TEXT NOT NULL, type TEXT NOT NULL,"
     "  id TEXT NOT NULL, collection_id TEXT NOT NULL, ord INTEGER,"
     "  PRIMARY KEY(account_id, type, id, collection_id)) WITHOUT ROWID;"
     "CREATE INDEX IF NOT EXISTS object_members_order ON object_members(account_id, type,"
     "  collection_id, ord, id);"
     "CREATE INDEX IF NOT EXISTS object_members_order_desc ON object_members(account_id, type,"
     "  collection_id, ord DESC, id);"
     "INSERT OR IGNORE INTO object_members SELECT o.account_id, o.type, o.id, j.key, i.ord"
     "  FROM objects o JOIN object_index i ON i.account_id = o.account_id AND i.type = o.type"
     "  AND i.id = o.id, json_each(o.data, '$.calendarIds') j WHERE o.type = 'CalendarEvent'"
     "  AND o.destroyed = 0 AND json_type(o.data, '$.calendarIds') = 'object'"
     "  AND j.type = 'true' AND coalesce(json_extract(o.data, '$.privacy'), '') <> 'secret';"),
    /* 26 (issue 21): per (account, type) the number of live objects (store_object_count)
     * and of side-index rows (store_index_count), kept by the writes of sqlite.c and
     * sqlite_index.c in their transaction (sq_count_add), so that a total reads one row:
     * counting 100,000 rows cost 6-19 ms of CPU at each new state (a name-sorted card
     * page with calculateTotal walked every key instead; an unfiltered event page counted
     * the index). Not triggers: a trigger's statement opens a savepoint, at which FTS5
     * flushes its pending terms (an import took twice the instructions). Idempotent: run
     * again, the counts are made again from the rows */
    ("CREATE TABLE IF NOT EXISTS object_counts(account_id TEXT NOT NULL, type TEXT NOT NULL,"
     "  live INTEGER NOT NULL DEFAULT 0, indexed INTEGER NOT NULL DEFAULT 0,"
     "  PRIMARY KEY(account_id, type)) WITHOUT ROWID;"
     "DELETE FROM object_counts;"
     "INSERT INTO object_counts(account_id, type, live) SELECT account_id, type, count(*)"
     "  FROM objects WHERE destroyed = 0 GROUP BY account_id, type;"
     "INSERT INTO object_counts(account_id, type, indexed) SELECT account_id, type, count(*)"
     "  FROM object_index GROUP BY account_id, type"
     "  ON CONFLICT(account_id, type) DO UPDATE SET indexed = excluded.indexed;"),
};

int store_sqlite_schema(void)
{
    return (int)(sizeof migrations / sizeof migrations[0]);
}

const char *sq_migration(int v)
{
    return migrations[v];
}
