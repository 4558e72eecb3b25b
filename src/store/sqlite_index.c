/*
 * sqlite_index.c — the SQLite backend's query side tables (store.h "the side index"):
 * each object's time range, span class, uid, sort key and text fields, the span scan
 * of a window, sorted paging and the FTS5 text search; split from sqlite.c as the
 * part that serves /query.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_internal.h"
#include "util/util.h"

/* ---- query side tables ---------------------------------------------------------------- */

/* Takes out the object's row and its texts; *gone says whether it had one. */
static int index_del(struct store_conn *c, const char *account, const char *type, const char *id,
                     bool *gone);

int sq_index_put(struct store_conn *c, const char *account, const char *type, const char *id,
             const struct store_index *ix)
{
    bool gone = false;
    int rc = index_del(c, account, type, id, &gone);
    if (rc)
        return rc;
    int64_t rowid = 0;
    bool any_text = false;
    for (int i = 0; i < STORE_TEXT_FIELDS; i++)
        any_text |= ix->text[i] && *ix->text[i];
    if (any_text) {
        sqlite3_stmt *t = sq_stmt(c, "INSERT INTO object_fields(f0, f1, f2, f3, f4, f5) "
                                  "VALUES(?,?,?,?,?,?)");
        if (!t)
            return STORE_ERR;
        for (int i = 0; i < STORE_TEXT_FIELDS; i++)
            sq_bind_text(t, i + 1, ix->text[i] ? ix->text[i] : "");
        if ((rc = sq_step_done(c, t)))
            return rc;
        rowid = sqlite3_last_insert_rowid(c->db);
    }
    sqlite3_stmt *q =
        sq_stmt(c, "INSERT INTO object_index(account_id, type, id, uid, start, finish, "
                   "text_rowid, ord, span, exact, modseq) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,"
                   "?10,(SELECT updated_modseq FROM objects WHERE account_id=?1 AND type=?2 "
                   "AND id=?3))");
    if (!q)
        return STORE_ERR;
    sq_bind_text(q, 1, account);
    sq_bind_text(q, 2, type);
    sq_bind_text(q, 3, id);
    if (ix->uid)
        sq_bind_text(q, 4, ix->uid);
    if (ix->has_range) {
        sqlite3_bind_int64(q, 5, ix->start);
        if (!ix->unbounded)
            sqlite3_bind_int64(q, 6, ix->end);
        sqlite3_bind_int(q, 9, store_span_class(ix));
        sqlite3_bind_int(q, 10, ix->exact && !ix->unbounded);
    }
    if (rowid)
        sqlite3_bind_int64(q, 7, rowid);
    if (ix->has_order)
        sqlite3_bind_int64(q, 8, ix->order);
    rc = sq_step_done(c, q);
    return rc || gone ? rc : sq_count_add(c, account, type, 0, 1); /* a row more */
}

int sq_index_del(struct store_conn *c, const char *account, const char *type, const char *id)
{
    bool gone = false;
    int rc = index_del(c, account, type, id, &gone);
    return rc || !gone ? rc : sq_count_add(c, account, type, 0, -1);
}

static int index_del(struct store_conn *c, const char *account, const char *type, const char *id,
                     bool *gone)
{
    /* the row first (issue 21: an imported object has none, and the two deletes cost an
     * import ~17,000 instructions per object where this look-up costs a third of it) */
    sqlite3_stmt *s = sq_stmt(c, "SELECT text_rowid FROM object_index WHERE account_id=?1 AND "
                                 "type=?2 AND id=?3");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    int step = sqlite3_step(s);
    int64_t text_rowid = step == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    if (step != SQLITE_ROW)
        return step == SQLITE_DONE ? STORE_OK : STORE_ERR;
    int rc;
    if (text_rowid) {
        s = sq_stmt(c, "DELETE FROM object_fields WHERE rowid = ?");
        if (!s)
            return STORE_ERR;
        sqlite3_bind_int64(s, 1, text_rowid);
        if ((rc = sq_step_done(c, s)))
            return rc;
    }
    s = sq_stmt(c, "DELETE FROM object_index WHERE account_id=?1 AND type=?2 AND id=?3");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    rc = sq_step_done(c, s);
    *gone = rc == STORE_OK;
    return rc;
}

int sq_index_find_uid(struct store_conn *c, const char *account, const char *type,
                  const char *uid, int (*cb)(const char *id, void *ud), void *ud)
{
    sqlite3_stmt *s = sq_stmt(
        c, "SELECT id FROM object_index WHERE account_id=? AND type=? AND uid=? ORDER BY id");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, uid);
    while (sqlite3_step(s) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(s, 0), ud))
            break;
    sqlite3_reset(s);
    return STORE_OK;
}

int sq_index_spans(struct store_conn *c, const char *account, const char *type, bool has_from,
                   int64_t from, bool has_to, int64_t to, store_span_cb cb, void *ud)
{
    /* an object overlaps [from, to) if it starts before to and ends at or after from
     * (a superset: the caller checks exactly); objects without a range always
     * qualify. Per class k of range length (store_span_class), a row that reaches
     * from starts at or after from - 2^k: one short index range per class. Rows of
     * no class (no range, or indexed before the classes) are read as before. */
    sqlite3_stmt *s =
        has_from
            ? sq_stmt(c, "WITH RECURSIVE k(c) AS (SELECT 0 UNION ALL SELECT c + 1 FROM k WHERE "
                         "c < 40) SELECT i.id, i.modseq, i.start, i.finish, i.exact FROM k CROSS "
                         "JOIN object_index i WHERE i.account_id=?1 AND i.type=?2 AND i.span=k.c "
                         "AND i.start >= ?3 - (1 << k.c) AND i.start < ?4 AND i.finish >= ?3 "
                         "UNION ALL SELECT id, modseq, start, finish, exact FROM object_index "
                         "WHERE account_id=?1 AND type=?2 AND span=41 AND start < ?4 AND (finish "
                         "IS NULL OR finish >= ?3) UNION ALL SELECT id, modseq, start, finish, "
                         "exact FROM object_index WHERE account_id=?1 AND type=?2 AND span IS NULL "
                         "AND (start IS NULL OR (start < ?4 AND (finish IS NULL OR finish >= ?3)))")
            : sq_stmt(c, "SELECT id, modseq, start, finish, exact FROM object_index WHERE "
                         "account_id=?1 AND type=?2 AND (start IS NULL OR start < ?4)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sqlite3_bind_int64(s, 3, has_from ? from : 0);
    sqlite3_bind_int64(s, 4, has_to ? to : INT64_MAX);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        bool has_range = sqlite3_column_type(s, 2) != SQLITE_NULL;
        bool open = sqlite3_column_type(s, 3) == SQLITE_NULL;
        if (cb((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1), has_range,
               sqlite3_column_int(s, 4) != 0, sqlite3_column_int64(s, 2),
               open ? INT64_MAX : sqlite3_column_int64(s, 3), ud))
            break;
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

/* Runs s (bound from ?1 on by the caller) and calls cb per row of (id, modseq, order). */
static int each_ordered(sqlite3_stmt *s,
                        int (*cb)(const char *id, int64_t modseq, int64_t order, void *ud),
                        void *ud)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1),
               sqlite3_column_int64(s, 2), ud))
            break;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int sq_index_ordered(struct store_conn *c, const char *account, const char *type, bool desc,
                 int64_t offset, int64_t limit,
                 int (*cb)(const char *id, int64_t modseq, int64_t order, void *ud),
                 void *ud)
{
    /* the callback may not use the store: the statements are cached */
    sqlite3_stmt *s =
        desc ? sq_stmt(c, "SELECT id, modseq, ord FROM object_index WHERE account_id=?1 AND "
                       "type=?2 AND ord IS NOT NULL ORDER BY ord DESC, id LIMIT ?4 OFFSET ?3")
             : sq_stmt(c, "SELECT id, modseq, ord FROM object_index WHERE account_id=?1 AND "
                       "type=?2 AND ord IS NOT NULL ORDER BY ord, id LIMIT ?4 OFFSET ?3");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sqlite3_bind_int64(s, 3, offset < 0 ? 0 : offset);
    sqlite3_bind_int64(s, 4, limit < 0 ? -1 : limit);
    return each_ordered(s, cb, ud);
}

int sq_index_ordered_after(struct store_conn *c, const char *account, const char *type, bool desc,
                           int64_t order, const char *id, int64_t offset, int64_t limit,
                           int (*cb)(const char *id, int64_t modseq, int64_t order, void *ud),
                           void *ud)
{
    /* a range of the index from (order, id) on: the bound on ord seeks, the rows of
     * that one ord before id are stepped over */
    sqlite3_stmt *s =
        desc ? sq_stmt(c, "SELECT id, modseq, ord FROM object_index WHERE account_id=?1 AND "
                          "type=?2 AND ord IS NOT NULL AND ord <= ?3 AND (ord < ?3 OR id > ?4) "
                          "ORDER BY ord DESC, id LIMIT ?6 OFFSET ?5")
             : sq_stmt(c, "SELECT id, modseq, ord FROM object_index WHERE account_id=?1 AND "
                          "type=?2 AND ord >= ?3 AND (ord > ?3 OR id > ?4) ORDER BY ord, id "
                          "LIMIT ?6 OFFSET ?5");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sqlite3_bind_int64(s, 3, order);
    sq_bind_text(s, 4, id);
    sqlite3_bind_int64(s, 5, offset < 0 ? 0 : offset);
    sqlite3_bind_int64(s, 6, limit < 0 ? -1 : limit);
    return each_ordered(s, cb, ud);
}

int sq_index_unordered(struct store_conn *c, const char *account, const char *type,
                   int (*cb)(const char *id, int64_t modseq, int64_t order, void *ud),
                   void *ud)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT id, modseq, 0 FROM object_index WHERE account_id=?1 AND "
                              "type=?2 AND ord IS NULL ORDER BY id");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    return each_ordered(s, cb, ud);
}

int64_t sq_index_rank(struct store_conn *c, const char *account, const char *type, bool desc,
                  int64_t order, const char *id)
{
    sqlite3_stmt *s =
        desc ? sq_stmt(c,
                       "SELECT (SELECT count(*) FROM object_index WHERE account_id=?1 AND type=?2 "
                       "AND ord > ?3) + (SELECT count(*) FROM object_index WHERE account_id=?1 "
                       "AND type=?2 AND ord = ?3 AND id < ?4)")
             : sq_stmt(c,
                       "SELECT (SELECT count(*) FROM object_index WHERE account_id=?1 AND type=?2 "
                       "AND ord < ?3) + (SELECT count(*) FROM object_index WHERE account_id=?1 "
                       "AND type=?2 AND ord = ?3 AND id < ?4)");
    if (!s)
        return -1;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sqlite3_bind_int64(s, 3, order);
    sq_bind_text(s, 4, id);
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    return n;
}

int sq_index_count(struct store_conn *c, const char *account, const char *type, int64_t *ordered,
               int64_t *unordered)
{
    /* the rows counted on each write (sq_count_add; issue 21: count(*) walked every row,
     * 6-13 ms at 100,000 events per state), those without an order from the order's
     * index, where they come first; this transaction's own writes first */
    if (sq_count_flush(c))
        return STORE_ERR;
    sqlite3_stmt *s = sq_stmt(c, "SELECT coalesce((SELECT indexed FROM object_counts WHERE "
                                 "account_id=?1 AND type=?2), 0), (SELECT count(*) FROM "
                                 "object_index INDEXED BY object_index_order WHERE account_id=?1 "
                                 "AND type=?2 AND ord IS NULL)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    int rc = STORE_ERR;
    if (sqlite3_step(s) == SQLITE_ROW) {
        *unordered = sqlite3_column_int64(s, 1);
        *ordered = sqlite3_column_int64(s, 0) - *unordered;
        rc = STORE_OK;
    }
    sqlite3_reset(s);
    return rc;
}

/* A word character for the FTS5 translation: ASCII letters and digits, and every
 * byte of a non-ASCII character (unicode61 splits finer; a query word it splits
 * again becomes a phrase of its parts, which only narrows to what matches). */
static bool fts_word_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch >= 0x80;
}

/* Appends one term to an FTS5 MATCH expression: each word as a quoted string (no
 * quote can be inside: quotes are not word characters), a phrase as one string,
 * "*" for prefixes, "{fN} :" for a field. */
static void fts_term(struct buf *b, const struct store_text_term *t)
{
    struct buf phrase = {0};
    const char *p = t->text;
    for (;;) {
        while (*p && !fts_word_char((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && fts_word_char((unsigned char)*p))
            p++;
        if (t->phrase) {
            buf_printf(&phrase, "%s%.*s", phrase.len ? " " : "", (int)(p - w), w);
            continue;
        }
        if (b->len)
            buf_puts(b, " AND ");
        if (t->field >= 0)
            buf_printf(b, "{f%d} : ", t->field);
        buf_printf(b, "\"%.*s\"%s", (int)(p - w), w, t->prefix ? " *" : "");
    }
    if (phrase.len) {
        if (b->len)
            buf_puts(b, " AND ");
        if (t->field >= 0)
            buf_printf(b, "{f%d} : ", t->field);
        buf_printf(b, "\"%s\"%s", phrase.data, t->prefix ? " *" : "");
    }
    buf_free(&phrase);
}

struct text_cb {
    int (*ids)(const char *id, void *ud);
    int (*hits)(const char *id, int64_t modseq, bool has_order, int64_t order, void *ud);
    void *ud;
};

static int text_query(struct store_conn *c, const char *account, const char *type,
                      const struct store_text_term *terms, size_t nterms, const struct text_cb *cb)
{
    struct buf match = {0};
    for (size_t i = 0; i < nterms; i++) {
        assert(terms[i].field >= -1 && terms[i].field < STORE_TEXT_FIELDS);
        fts_term(&match, &terms[i]);
    }
    sqlite3_stmt *s = NULL;
    /* not cached: the expression differs from call to call */
    int prc = sqlite3_prepare_v2(
        c->db,
        /* CROSS JOIN: the full-text hits drive, each joined by object_index_text */
        match.len ? "SELECT i.id, i.modseq, i.ord FROM object_fields t CROSS JOIN object_index i "
                    "ON i.text_rowid = t.rowid WHERE object_fields MATCH ?3 AND "
                    "i.account_id=?1 AND i.type=?2"
                  : "SELECT id, modseq, ord FROM object_index WHERE account_id=?1 AND type=?2",
        -1, &s, NULL);
    if (prc != SQLITE_OK) {
        buf_free(&match);
        return STORE_ERR;
    }
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    if (match.len)
        sq_bind_text(s, 3, match.data);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        if (cb->ids
                ? cb->ids(id, cb->ud)
                : cb->hits(id, sqlite3_column_int64(s, 1), sqlite3_column_type(s, 2) != SQLITE_NULL,
                           sqlite3_column_int64(s, 2), cb->ud))
            break;
    }
    sqlite3_finalize(s);
    buf_free(&match);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int sq_text_search(struct store_conn *c, const char *account, const char *type,
               const struct store_text_term *terms, size_t nterms,
               int (*cb)(const char *id, void *ud), void *ud)
{
    const struct text_cb t = {cb, NULL, ud};
    return text_query(c, account, type, terms, nterms, &t);
}

int sq_text_hits(struct store_conn *c, const char *account, const char *type,
             const struct store_text_term *terms, size_t nterms,
             int (*cb)(const char *id, int64_t modseq, bool has_order, int64_t order,
                       void *ud),
             void *ud)
{
    const struct text_cb t = {NULL, cb, ud};
    return text_query(c, account, type, terms, nterms, &t);
}
