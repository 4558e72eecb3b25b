/*
 * sqlite_grams.c — the SQLite backend's substring search (store.h "substring
 * search", issue 21): object_grams_src holds each object's texts and facets,
 * object_grams is an FTS5 trigram index over the texts (external content), written
 * here beside each row.
 * A term of three characters or more is a trigram phrase (exact: the phrase's
 * trigrams at consecutive positions are the substring); a shorter one has no
 * trigram and is looked for with instr() in the rows the other terms leave.
 * object_grams_done marks the (account, type) pairs whose every object has its row.
 * object_grams_keys holds each object's sort keys (store_grams.key), an index per key.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_internal.h"
#include "util/util.h"

/* Takes a row's texts out of the trigram index: its row number, or 0 if there is
 * none, or -1 on an error. One statement per row, each writing the index once: a
 * statement that wrote it from a trigger (or many rows) would open a statement
 * journal, and FTS5 flushes its pending terms at each (issue 21: that doubled an
 * import's time). */
static int64_t unindex(struct store_conn *c, const char *account, const char *type, const char *id)
{
    sqlite3_stmt *s = sq_stmt(c, "SELECT n, g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10, g11 "
                                 "FROM object_grams_src WHERE account_id=?1 AND type=?2 AND id=?3");
    if (!s)
        return -1;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    int step = sqlite3_step(s);
    if (step != SQLITE_ROW) {
        sqlite3_reset(s);
        return step == SQLITE_DONE ? 0 : -1;
    }
    int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_stmt *d = sq_stmt(c, "INSERT INTO object_grams(object_grams, rowid, g0, g1, g2, g3, "
                                 "g4, g5, g6, g7, g8, g9, g10, g11) "
                                 "VALUES('delete',?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!d) {
        sqlite3_reset(s);
        return -1;
    }
    sqlite3_bind_int64(d, 1, n);
    for (int i = 0; i < STORE_GRAM_FIELDS; i++)
        sqlite3_bind_value(d, 2 + i, sqlite3_column_value(s, 1 + i));
    int rc = sq_step_done(c, d);
    sqlite3_reset(s);
    return rc ? -1 : n;
}

/* Takes out the row of texts and facets (not the keys). */
static int src_del(struct store_conn *c, const char *account, const char *type, const char *id)
{
    int64_t n = unindex(c, account, type, id);
    if (n <= 0)
        return n ? STORE_ERR : STORE_OK;
    sqlite3_stmt *s = sq_stmt(c, "DELETE FROM object_grams_src WHERE n=?");
    if (!s)
        return STORE_ERR;
    sqlite3_bind_int64(s, 1, n);
    return sq_step_done(c, s);
}

int sq_grams_del(struct store_conn *c, const char *account, const char *type, const char *id)
{
    int rc = src_del(c, account, type, id);
    if (rc)
        return rc;
    sqlite3_stmt *s = sq_stmt(c, "DELETE FROM object_grams_keys WHERE account_id=?1 AND "
                                 "type=?2 AND id=?3");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    return sq_step_done(c, s);
}

/* The row of sort keys (every object with a search row has one, its keys or NULLs). */
static int keys_put(struct store_conn *c, const char *account, const char *type, const char *id,
                    const struct store_grams *g)
{
    _Static_assert(STORE_GRAM_KEYS == 2, "the table's columns k0, k1");
    sqlite3_stmt *s = sq_stmt(c, "INSERT OR REPLACE INTO object_grams_keys(account_id, type, id, "
                                 "k0, k1) VALUES(?,?,?,?,?)");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    for (int k = 0; k < STORE_GRAM_KEYS; k++)
        if (g->key[k])
            sqlite3_bind_blob(s, 4 + k, g->key[k], (int)g->key_len[k], SQLITE_STATIC);
    return sq_step_done(c, s);
}

int sq_grams_put(struct store_conn *c, const char *account, const char *type, const char *id,
                 const struct store_grams *g)
{
    int rc = src_del(c, account, type, id);
    if (!rc)
        rc = keys_put(c, account, type, id, g);
    if (rc)
        return rc;
    sqlite3_stmt *s = sq_stmt(c, "INSERT INTO object_grams_src(account_id, type, id, g0, g1, g2, "
                                 "g3, g4, g5, g6, g7, g8, g9, g10, g11, facets) "
                                 "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    sqlite3_stmt *t = sq_stmt(c, "INSERT INTO object_grams(rowid, g0, g1, g2, g3, g4, g5, g6, g7, "
                                 "g8, g9, g10, g11) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!s || !t)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sq_bind_text(s, 3, id);
    for (int i = 0; i < STORE_GRAM_FIELDS; i++)
        if (g->text[i] && *g->text[i]) {
            sq_bind_text(s, 4 + i, g->text[i]);
            sq_bind_text(t, 2 + i, g->text[i]);
        }
    if (g->facets)
        sq_bind_text(s, 4 + STORE_GRAM_FIELDS, g->facets);
    if ((rc = sq_step_done(c, s)))
        return rc;
    sqlite3_bind_int64(t, 1, sqlite3_last_insert_rowid(c->db));
    return sq_step_done(c, t);
}

/* Whether s has three characters (the trigram tokenizer's unit) or more. */
static bool has_trigram(const char *s)
{
    int n = 0;
    for (; *s && n < 3; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80; /* a UTF-8 lead byte */
    return n >= 3;
}

/* Appends the condition of a term without a trigram, parameter param: field gF (or
 * any field, for -1) holds the text, or, for an empty text, is not empty. */
static void cond_fields(struct buf *b, bool empty, int field, int param)
{
    buf_puts(b, "(");
    for (int f = field < 0 ? 0 : field; f < (field < 0 ? STORE_GRAM_FIELDS : field + 1); f++) {
        buf_puts(b, f > (field < 0 ? 0 : field) ? " OR " : "");
        if (empty)
            buf_printf(b, "s.g%d <> ''", f);
        else
            buf_printf(b, "instr(s.g%d, ?%d) > 0", f, param);
    }
    buf_puts(b, ")");
}

/* A search: the trigram index's hits (a hit's id from a covering index), or, when no
 * term has a trigram, the account's rows; then the short terms' conditions. Hits in
 * row number order (store.h: the store's order), which the trigram index gives as it
 * goes (no sort: a caller that needs the first 50 hits reads 50). */
#define GRAMS_MATCH                                                                                \
    "SELECT s.id FROM object_grams g CROSS JOIN object_grams_src s INDEXED BY object_grams_hit "   \
    "ON s.n = g.rowid WHERE object_grams MATCH ?4 AND s.account_id=?1 AND s.type=?2"
#define GRAMS_MATCH_ORDER " ORDER BY g.rowid"
#define GRAMS_MATCH_COUNT                                                                          \
    "SELECT count(*) FROM object_grams g CROSS JOIN object_grams_src s INDEXED BY "                \
    "object_grams_hit ON s.n = g.rowid WHERE object_grams MATCH ?4 AND s.account_id=?1 AND "       \
    "s.type=?2"
#define GRAMS_SCAN "SELECT s.id FROM object_grams_src s WHERE s.account_id=?1 AND s.type=?2"
#define GRAMS_SCAN_ORDER " ORDER BY s.n"

/* The search of terms: cb gets each hit's id in the store's order, or (cb NULL) *count
 * their number, counted by SQLite (issue 21: a total without a row per hit here). */
static int grams_run(struct store_conn *c, const char *account, const char *type,
                     const struct store_gram_term *terms, size_t nterms, store_name_cb cb, void *ud,
                     int64_t *count)
{
    struct buf match = {0}, where = {0};
    for (size_t i = 0; i < nterms; i++) {
        assert(terms[i].field >= -1 && terms[i].field < STORE_GRAM_FIELDS);
        if (!has_trigram(terms[i].text))
            continue;
        buf_puts(&match, match.len ? " AND " : "");
        if (terms[i].field >= 0)
            buf_printf(&match, "g%d : ", terms[i].field);
        buf_puts(&match, "\"");
        for (const char *p = terms[i].text; *p; p++) { /* a string: "" is a quote */
            if (*p == '"')
                buf_puts(&match, "\"\"");
            else
                buf_append(&match, p, 1);
        }
        buf_puts(&match, "\"");
    }
    for (size_t i = 0; i < nterms; i++) {
        if (has_trigram(terms[i].text))
            continue;
        buf_puts(&where, " AND ");
        /* ?4 is the MATCH expression; the short terms are ?5 on */
        cond_fields(&where, !*terms[i].text, terms[i].field, (int)i + 5);
    }
    struct buf sql = {0};
    if (!cb) /* a count: the same rows, in no order */
        buf_printf(&sql, "SELECT count(*) FROM (%s%s)", match.len ? GRAMS_MATCH : GRAMS_SCAN,
                   where.len ? where.data : "");
    else
        buf_printf(
            &sql, match.len ? GRAMS_MATCH "%s" GRAMS_MATCH_ORDER : GRAMS_SCAN "%s" GRAMS_SCAN_ORDER,
            where.len ? where.data : "");
    sqlite3_stmt *s = NULL;
    /* every term a trigram phrase (most searches): one statement, cached (issue 21:
     * 4% of a search was preparing it); else one for this search's short terms */
    bool cached = match.len && !where.len;
    int rc = STORE_OK;
    if (cached)
        rc = (s = sq_stmt(c, cb ? GRAMS_MATCH GRAMS_MATCH_ORDER : GRAMS_MATCH_COUNT)) ? STORE_OK
                                                                                      : STORE_ERR;
    else
        rc = sqlite3_prepare_v2(c->db, sql.data, -1, &s, NULL) == SQLITE_OK ? STORE_OK : STORE_ERR;
    if (rc == STORE_OK) {
        sq_bind_text(s, 1, account);
        sq_bind_text(s, 2, type);
        if (match.len)
            sq_bind_text(s, 4, match.data);
        for (size_t i = 0; i < nterms; i++)
            if (!has_trigram(terms[i].text) && *terms[i].text)
                sq_bind_text(s, (int)i + 5, terms[i].text);
        int step;
        while ((step = sqlite3_step(s)) == SQLITE_ROW) {
            if (!cb) {
                *count = sqlite3_column_int64(s, 0);
                continue;
            }
            if (cb((const char *)sqlite3_column_text(s, 0), ud))
                break;
        }
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? STORE_OK : STORE_ERR;
    }
    if (rc)
        log_error("sqlite: substring search: %s", sqlite3_errmsg(c->db));
    if (cached)
        sqlite3_reset(s);
    else
        sqlite3_finalize(s);
    buf_free(&sql);
    buf_free(&match);
    buf_free(&where);
    return rc;
}

int sq_grams_search(struct store_conn *c, const char *account, const char *type,
                    const struct store_gram_term *terms, size_t nterms, store_name_cb cb, void *ud)
{
    return grams_run(c, account, type, terms, nterms, cb, ud, NULL);
}

int64_t sq_grams_count_hits(struct store_conn *c, const char *account, const char *type,
                            const struct store_gram_term *terms, size_t nterms)
{
    int64_t n = -1;
    return grams_run(c, account, type, terms, nterms, NULL, NULL, &n) == STORE_OK ? n : -1;
}

int sq_grams_facets(struct store_conn *c, const char *account, const char *type, const char *id,
                    store_facets_cb cb, void *ud)
{
    /* the callback may not use the store: the statements are cached */
    sqlite3_stmt *s =
        id ? sq_stmt(c, "SELECT id, facets FROM object_grams_src WHERE account_id=?1 AND "
                        "type=?2 AND id=?3")
           : sq_stmt(c, "SELECT id, facets FROM object_grams_src INDEXED BY object_grams_facets "
                        "WHERE account_id=?1 AND type=?2 ORDER BY id");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    if (id)
        sq_bind_text(s, 3, id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(s, 0),
               (const char *)sqlite3_column_text(s, 1) ?: "", ud))
            break;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int sq_grams_missing(struct store_conn *c, const char *account, const char *type, store_name_cb cb,
                     void *ud)
{
    /* issue 21: once every object of (account, type) had its row, each write keeps it
     * (the type's index hook): the pair's marker answers without reading the objects */
    sqlite3_stmt *d = sq_stmt(c, "SELECT 1 FROM object_grams_done WHERE account_id=?1 AND "
                                 "type=?2");
    if (!d)
        return STORE_ERR;
    sq_bind_text(d, 1, account);
    sq_bind_text(d, 2, type);
    int rc = sqlite3_step(d);
    sqlite3_reset(d);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    if (rc != SQLITE_DONE)
        return STORE_ERR;
    sqlite3_stmt *s = sq_stmt(c, "SELECT o.id FROM objects o WHERE o.account_id=?1 AND o.type=?2 "
                                 "AND o.destroyed=0 AND (NOT EXISTS(SELECT 1 FROM object_grams_src "
                                 "g WHERE g.account_id=?1 AND g.type=?2 AND g.id=o.id) OR NOT "
                                 "EXISTS(SELECT 1 FROM object_grams_keys k WHERE k.account_id=?1 "
                                 "AND k.type=?2 AND k.id=o.id))");
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    /* collected first: the caller puts rows while we would still be reading */
    json_t *ids = json_array();
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        json_array_append_new(ids, json_string((const char *)sqlite3_column_text(s, 0)));
    sqlite3_reset(s);
    rc = rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
    bool all = true; /* the caller put every row it was given */
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        if (rc == STORE_OK && cb(json_string_value(v), ud)) {
            all = false;
            break;
        }
    }
    json_decref(ids);
    if (rc == STORE_OK && all && store_in_write(c)) {
        sqlite3_stmt *m = sq_stmt(c, "INSERT OR IGNORE INTO object_grams_done(account_id, type) "
                                     "VALUES(?1, ?2)");
        if (!m)
            return STORE_ERR;
        sq_bind_text(m, 1, account);
        sq_bind_text(m, 2, type);
        rc = sq_step_done(c, m);
    }
    return rc;
}

/* The statements of one key: its index in its order, from its start or from a key. */
#define ORDERED(k, from)                                                                           \
    "SELECT id, " k " FROM object_grams_keys INDEXED BY object_grams_" k " WHERE account_id=?1 "   \
    "AND type=?2 AND " k " IS NOT NULL" from " ORDER BY " k " LIMIT ?3 OFFSET ?4"
static const char *const ordered_sql[STORE_GRAM_KEYS][2] = {
    {ORDERED("k0", ""), ORDERED("k0", " AND k0 >= ?5")},
    {ORDERED("k1", ""), ORDERED("k1", " AND k1 >= ?5")},
};

int sq_grams_ordered(struct store_conn *c, const char *account, const char *type, int k,
                     const void *from, size_t from_len, int64_t offset, int64_t limit,
                     store_key_cb cb, void *ud)
{
    assert(k >= 0 && k < STORE_GRAM_KEYS);
    sqlite3_stmt *s = sq_stmt(c, ordered_sql[k][from != NULL]);
    if (!s)
        return STORE_ERR;
    sq_bind_text(s, 1, account);
    sq_bind_text(s, 2, type);
    sqlite3_bind_int64(s, 3, limit < 0 ? -1 : limit);
    sqlite3_bind_int64(s, 4, offset < 0 ? 0 : offset);
    if (from)
        sqlite3_bind_blob(s, 5, from, (int)from_len, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(s, 0), sqlite3_column_blob(s, 1),
               (size_t)sqlite3_column_bytes(s, 1), ud))
            break;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}
