/*
 * postgres_index.c — the PostgreSQL backend's query side tables (store.h "the side
 * index"), as sqlite_index.c: each object's time range, span class, uid, sort key and
 * text fields (tsvectors in the "jmapd" configuration), the span scan of a window,
 * sorted paging and the full-text search; split from postgres.c as the part that
 * serves /query.
 */
#include <assert.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_internal.h"
#include "util/util.h"

/* ---- query side tables ---------------------------------------------------------------- */

int pg_index_put(struct store_conn *c, const char *account, const char *type, const char *id,
                 const struct store_index *ix)
{
    static const char *const sql =
        "INSERT INTO object_index(account_id, type, id, uid, start, finish, modseq, t0, t1, t2,"
        " t3, t4, t5, ord, span, exact) VALUES($1,$2,$3,$4,$5,$6,(SELECT updated_modseq FROM"
        " objects WHERE account_id=$1 AND type=$2 AND id=$3), $7::tsvector, $8::tsvector,"
        " $9::tsvector, $10::tsvector, $11::tsvector, $12::tsvector, $13, $14, $15)"
        " ON CONFLICT(account_id, type, id) DO UPDATE SET uid=EXCLUDED.uid,"
        " start=EXCLUDED.start, finish=EXCLUDED.finish, modseq=EXCLUDED.modseq, t0=EXCLUDED.t0,"
        " t1=EXCLUDED.t1, t2=EXCLUDED.t2, t3=EXCLUDED.t3, t4=EXCLUDED.t4, t5=EXCLUDED.t5,"
        " ord=EXCLUDED.ord, span=EXCLUDED.span, exact=EXCLUDED.exact";
    struct params p = pgq_three(account, type, id);
    pgq_text(&p, ix->uid);
    if (ix->has_range)
        pgq_int(&p, ix->start);
    else
        pgq_text(&p, NULL);
    if (ix->has_range && !ix->unbounded)
        pgq_int(&p, ix->end);
    else
        pgq_text(&p, NULL);
    /* the words as the SQLite backend splits them, lexemes only (postgres_text.c) */
    char *vec[STORE_TEXT_FIELDS];
    for (int i = 0; i < STORE_TEXT_FIELDS; i++)
        pgq_text(&p, vec[i] = pgt_tsvector(ix->text[i]));
    if (ix->has_order)
        pgq_int(&p, ix->order);
    else
        pgq_text(&p, NULL);
    if (ix->has_range) {
        pgq_int(&p, store_span_class(ix));
        pgq_int(&p, ix->exact && !ix->unbounded);
    } else {
        pgq_text(&p, NULL);
        pgq_text(&p, NULL);
    }
    pgc_uid_changed(c, account, type, id, ix->uid);
    int rc = pgq_defer(c, sql, &p); /* nobody waits for it: with the next statement */
    for (int i = 0; i < STORE_TEXT_FIELDS; i++)
        free(vec[i]); /* sent (libpq copies what it sends) */
    return rc;
}

int pg_index_del(struct store_conn *c, const char *account, const char *type, const char *id)
{
    static const char *const sql = "DELETE FROM object_index WHERE account_id=$1 AND type=$2 AND "
                                   "id=$3";
    struct params p = pgq_three(account, type, id);
    pgc_uid_changed(c, account, type, id, NULL);
    return pgq_defer(c, sql, &p);
}

int pg_index_find_uid(struct store_conn *c, const char *account, const char *type, const char *uid,
                      store_name_cb cb, void *ud)
{
    static const char *const sql = "SELECT id FROM object_index WHERE account_id=$1 AND type=$2 "
                                   "AND uid=$3 ORDER BY id";
    static const char *const all = "SELECT uid, id FROM object_index WHERE account_id=$1 AND "
                                   "type=$2 AND uid IS NOT NULL ORDER BY uid COLLATE \"C\", id";
    /* the uids a /set announced are known (pg_keys_expect); else a transaction's second
     * lookup loads them all (postgres_cache.c): a /set creating a hundred events then
     * asks twice, not a hundred times */
    if (pgc_uid_lookups(c, account, type) == 2 && !pgc_uids_probed(c, account, type)) {
        struct params a = pgq_two(account, type);
        PGresult *r;
        if (pgq_run(c, all, &a, &r) == STORE_OK)
            pgc_uid_keep(c, r);
    }
    int rc = pgc_uid_find(c, account, type, uid, cb, ud);
    if (rc >= 0)
        return rc;
    struct params p = pgq_three(account, type, uid);
    return pgq_each_name(c, sql, &p, cb, ud);
}

/* ---- the span scan's rows, per state -------------------------------------------------
 * Issue 15 §1 (W3): a calendar view asked again, nothing written since, cost PostgreSQL
 * the same span scan each time: ~1,000 index rows for a month of 10,000 events, most
 * of the backend CPU PostgreSQL adds to SQLite's path (session 9: ~1.6 ms a query).
 * What a scan of a window answers depends on the window and on the object_index rows
 * of (account, type), which change only in a transaction that bumps the type's state
 * (jmap_object_write: the bump, then the index hook; a read transaction sees both or
 * neither). So a read transaction that knows its state answers a window this process
 * scanned at that state from the rows kept then, and scans only at a state (or a
 * window) it has not seen. The state is the one store_state_prefetch sent ahead: its
 * answer is waited for here (one round trip, as the scan it replaces) when the window
 * was seen before; a window never seen is scanned at once, the state read travelling
 * with it, and kept at the state that read answers. Entries are never changed once
 * made (a newer state makes a new one), so a reader holds one without the lock.
 * Bounded: SPAN_SLOTS windows, the least recently used goes first. */

#define SPAN_SLOTS 32
#define SPAN_ROWS_MAX 50000

struct span_row {
    const char *id;
    int64_t modseq, start, end;
    bool has_range, exact;
};

struct span_rows {
    int refs; /* under span_lock */
    const struct store *st;
    char account[64], type[64];
    int64_t from, to, state;
    uint64_t used;
    size_t n;
    struct span_row *rows;
    char *ids; /* the ids' text, one block */
};

static struct span_rows *span_slots[SPAN_SLOTS];
static uint64_t span_clock;
static pthread_mutex_t span_lock = PTHREAD_MUTEX_INITIALIZER;

static void span_unref_locked(struct span_rows *e)
{
    if (e && --e->refs == 0) {
        free(e->rows);
        free(e->ids);
        free(e);
    }
}

static bool span_window_is(const struct span_rows *e, const struct store *st, const char *account,
                           const char *type, int64_t from, int64_t to)
{
    return e && e->st == st && e->from == from && e->to == to && strcmp(e->account, account) == 0 &&
           strcmp(e->type, type) == 0;
}

/* The slot of the window (any state), or -1. Under span_lock. */
static int span_find_locked(const struct store *st, const char *account, const char *type,
                            int64_t from, int64_t to)
{
    for (int i = 0; i < SPAN_SLOTS; i++)
        if (span_window_is(span_slots[i], st, account, type, from, to))
            return i;
    return -1;
}

static bool span_seen(const struct store *st, const char *account, const char *type, int64_t from,
                      int64_t to)
{
    pthread_mutex_lock(&span_lock);
    bool seen = span_find_locked(st, account, type, from, to) >= 0;
    pthread_mutex_unlock(&span_lock);
    return seen;
}

/* The rows of the window at state (a reference, for span_release), or NULL. */
static struct span_rows *span_get(const struct store *st, const char *account, const char *type,
                                  int64_t from, int64_t to, int64_t state)
{
    pthread_mutex_lock(&span_lock);
    int i = span_find_locked(st, account, type, from, to);
    struct span_rows *e = i >= 0 && span_slots[i]->state == state ? span_slots[i] : NULL;
    if (e) {
        e->refs++;
        e->used = ++span_clock;
    }
    pthread_mutex_unlock(&span_lock);
    return e;
}

static void span_release(struct span_rows *e)
{
    pthread_mutex_lock(&span_lock);
    span_unref_locked(e);
    pthread_mutex_unlock(&span_lock);
}

/* The rows of a scan's result (its columns: id, modseq, start, finish, exact), as an
 * entry of nobody's window yet (one reference, the caller's). */
static struct span_rows *span_rows_of(PGresult *r)
{
    size_t n = (size_t)PQntuples(r), text = 0;
    for (size_t i = 0; i < n; i++)
        text += (size_t)PQgetlength(r, (int)i, 0) + 1;
    struct span_rows *e = xcalloc(1, sizeof *e);
    e->rows = xcalloc(n ? n : 1, sizeof *e->rows);
    e->ids = xmalloc(text ? text : 1);
    e->refs = 1;
    char *at = e->ids;
    for (int i = 0; i < (int)n; i++) {
        size_t len = (size_t)PQgetlength(r, i, 0);
        memcpy(at, PQgetvalue(r, i, 0), len + 1);
        bool has_range = !PQgetisnull(r, i, 2), open = PQgetisnull(r, i, 3);
        e->rows[i] = (struct span_row){.id = at,
                                       .modseq = PQgetisnull(r, i, 1) ? 0 : pgq_col_int(r, i, 1),
                                       .start = has_range ? pgq_col_int(r, i, 2) : 0,
                                       .end = open ? INT64_MAX : pgq_col_int(r, i, 3),
                                       .has_range = has_range,
                                       .exact = !PQgetisnull(r, i, 4) && pgq_col_int(r, i, 4) != 0};
        at += len + 1;
    }
    e->n = n;
    return e;
}

/* Keeps e (a reference more) as the window's rows at state, in place of the window's
 * rows at an older state or of the least recently used window. */
static void span_keep(const struct store *st, const char *account, const char *type, int64_t from,
                      int64_t to, int64_t state, struct span_rows *e)
{
    if (e->n > SPAN_ROWS_MAX || strlen(account) >= sizeof e->account ||
        strlen(type) >= sizeof e->type)
        return;
    e->st = st;
    snprintf(e->account, sizeof e->account, "%s", account);
    snprintf(e->type, sizeof e->type, "%s", type);
    e->from = from, e->to = to, e->state = state;
    pthread_mutex_lock(&span_lock);
    int slot = span_find_locked(st, account, type, from, to);
    if (slot >= 0 && span_slots[slot]->state > state) { /* a transaction of an older snapshot */
        pthread_mutex_unlock(&span_lock);
        return;
    }
    for (int i = 0; slot < 0 && i < SPAN_SLOTS; i++)
        if (!span_slots[i])
            slot = i;
    if (slot < 0) {
        slot = 0;
        for (int i = 1; i < SPAN_SLOTS; i++)
            if (span_slots[i]->used < span_slots[slot]->used)
                slot = i;
    }
    span_unref_locked(span_slots[slot]);
    span_slots[slot] = e;
    e->refs++;
    e->used = ++span_clock;
    pthread_mutex_unlock(&span_lock);
}

void pg_spans_forget(const struct store *st)
{
    pthread_mutex_lock(&span_lock);
    for (int i = 0; i < SPAN_SLOTS; i++)
        if (span_slots[i] && span_slots[i]->st == st) {
            span_unref_locked(span_slots[i]);
            span_slots[i] = NULL;
        }
    pthread_mutex_unlock(&span_lock);
}

/* The state of (account, type) the read transaction sees, if known (or sent ahead:
 * then waited for when wait); false in a write transaction, whose own changes are
 * not committed under any state. */
static bool span_state(struct store_conn *c, const char *account, const char *type, bool wait,
                       int64_t *state)
{
    int64_t lowest;
    if (!c->in_txn || c->writing || c->failed)
        return false;
    if (wait)
        pg_state_ahead_wait(c, account, type);
    return pgc_state(c, account, type, state, &lowest);
}

int pg_index_spans(struct store_conn *c, const char *account, const char *type, bool has_from,
                   int64_t from, bool has_to, int64_t to, store_span_cb cb, void *ud)
{
    /* as sqlite.c: a superset of the objects overlapping [from, to), plus those
     * without a range; per class k of range length only rows starting at or after
     * from - 2^k. A LATERAL subquery behind OFFSET 0, so that the planner keeps one
     * index range per class (a plain join became a hash join over a sequential scan:
     * 27 ms against 5 ms for a month of 100,000 rows). Each part is ORDER BY span, start,
     * the order of object_index_span under its equalities: before the table has been
     * analyzed (a new or small account) the planner costs object_index_order the same
     * and took it, reading every row of the account once per class (500 events: 17 ms
     * against 0.35 ms); only the span index gives that order without a sort, so the
     * plan no longer depends on the statistics. */
    static const char *const by_class =
        "SELECT i.* FROM generate_series(0, 40) k(c) CROSS JOIN LATERAL (SELECT id, modseq,"
        " start, finish, exact FROM object_index WHERE account_id=$1 AND type=$2 AND span=k.c"
        " AND start >= $3 - (1::bigint << k.c) AND start < $4 AND finish >= $3"
        " ORDER BY span, start OFFSET 0) i"
        " UNION ALL (SELECT id, modseq, start, finish, exact FROM object_index WHERE"
        " account_id=$1 AND type=$2 AND span=41 AND start < $4 AND (finish IS NULL OR"
        " finish >= $3) ORDER BY span, start) UNION ALL (SELECT id, modseq, start, finish,"
        " exact FROM object_index WHERE account_id=$1 AND type=$2 AND span IS NULL AND"
        " (start IS NULL OR (start < $4 AND (finish IS NULL OR finish >= $3)))"
        " ORDER BY span, start)";
    static const char *const all =
        "SELECT id, modseq, start, finish, exact FROM object_index WHERE account_id=$1 AND"
        " type=$2 AND (start IS NULL OR start < $4) AND $3::bigint IS NOT NULL";
    int64_t f = has_from ? from : 0, t = has_to ? to : INT64_MAX, state;
    /* a window seen before: its rows at this state may be kept (above) */
    bool seen = has_from && span_seen(c->st, account, type, f, t);
    struct span_rows *e = seen && span_state(c, account, type, true, &state)
                              ? span_get(c->st, account, type, f, t, state)
                              : NULL;
    if (!e) {
        struct params p = pgq_two(account, type);
        pgq_int(&p, f);
        pgq_int(&p, t);
        PGresult *r;
        int rc = pgq_run(c, has_from ? by_class : all, &p, &r);
        if (rc)
            return rc;
        e = span_rows_of(r);
        PQclear(r);
        if (has_from && span_state(c, account, type, false, &state)) /* read with the scan */
            span_keep(c->st, account, type, f, t, state, e);
    }
    for (size_t i = 0; i < e->n; i++) {
        const struct span_row *w = &e->rows[i];
        if (cb(w->id, w->modseq, w->has_range, w->exact, w->start, w->end, ud))
            break;
    }
    span_release(e);
    return STORE_OK;
}

/* ---- sorting and paging from the index ----------------------------------------------- */

static int each_ordered(struct store_conn *c, const char *sql, const struct params *p,
                        store_order_cb cb, void *ud)
{
    PGresult *r;
    int rc = pgq_run(c, sql, p, &r);
    if (rc)
        return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++)
        if (cb(PQgetvalue(r, i, 0), PQgetisnull(r, i, 1) ? 0 : pgq_col_int(r, i, 1),
               pgq_col_int(r, i, 2), ud))
            break;
    PQclear(r);
    return STORE_OK;
}

/* A page's OFFSET and LIMIT (negative: to the end, LIMIT NULL). */
static void page_params(struct params *p, int64_t offset, int64_t limit)
{
    pgq_int(p, offset < 0 ? 0 : offset);
    if (limit < 0)
        pgq_text(p, NULL);
    else
        pgq_int(p, limit);
}

int pg_index_ordered(struct store_conn *c, const char *account, const char *type, bool desc,
                     int64_t offset, int64_t limit, store_order_cb cb, void *ud)
{
    static const char *const asc_sql = "SELECT id, modseq, ord FROM object_index WHERE "
                                       "account_id=$1 AND type=$2 AND ord IS NOT NULL ORDER BY "
                                       "ord, id LIMIT $4 OFFSET $3";
    static const char *const desc_sql = "SELECT id, modseq, ord FROM object_index WHERE "
                                        "account_id=$1 AND type=$2 AND ord IS NOT NULL ORDER BY "
                                        "ord DESC, id LIMIT $4 OFFSET $3";
    struct params p = pgq_two(account, type);
    page_params(&p, offset, limit);
    return each_ordered(c, desc ? desc_sql : asc_sql, &p, cb, ud);
}

int pg_index_ordered_after(struct store_conn *c, const char *account, const char *type, bool desc,
                           int64_t order, const char *id, int64_t offset, int64_t limit,
                           store_order_cb cb, void *ud)
{
    static const char *const asc_sql =
        "SELECT id, modseq, ord FROM object_index WHERE account_id=$1 AND type=$2 AND "
        "ord >= $3 AND (ord > $3 OR id > $4) ORDER BY ord, id LIMIT $6 OFFSET $5";
    static const char *const desc_sql =
        "SELECT id, modseq, ord FROM object_index WHERE account_id=$1 AND type=$2 AND "
        "ord IS NOT NULL AND ord <= $3 AND (ord < $3 OR id > $4) ORDER BY ord DESC, id "
        "LIMIT $6 OFFSET $5";
    struct params p = pgq_two(account, type);
    pgq_int(&p, order);
    pgq_text(&p, id);
    page_params(&p, offset, limit);
    return each_ordered(c, desc ? desc_sql : asc_sql, &p, cb, ud);
}

int pg_index_unordered(struct store_conn *c, const char *account, const char *type,
                       store_order_cb cb, void *ud)
{
    static const char *const sql = "SELECT id, modseq, 0 FROM object_index WHERE account_id=$1 "
                                   "AND type=$2 AND ord IS NULL ORDER BY id";
    struct params p = pgq_two(account, type);
    return each_ordered(c, sql, &p, cb, ud);
}

int64_t pg_index_rank(struct store_conn *c, const char *account, const char *type, bool desc,
                      int64_t order, const char *id)
{
    static const char *const asc_sql =
        "SELECT (SELECT count(*) FROM object_index WHERE account_id=$1 AND type=$2 AND ord < $3)"
        " + (SELECT count(*) FROM object_index WHERE account_id=$1 AND type=$2 AND ord = $3 AND"
        " id < $4)";
    static const char *const desc_sql =
        "SELECT (SELECT count(*) FROM object_index WHERE account_id=$1 AND type=$2 AND ord > $3)"
        " + (SELECT count(*) FROM object_index WHERE account_id=$1 AND type=$2 AND ord = $3 AND"
        " id < $4)";
    struct params p = pgq_two(account, type);
    pgq_int(&p, order);
    pgq_text(&p, id);
    return pgq_first_int(c, desc ? desc_sql : asc_sql, &p, -1);
}

int pg_index_count(struct store_conn *c, const char *account, const char *type, int64_t *ordered,
                   int64_t *unordered)
{
    static const char *const sql = "SELECT count(ord), count(*) - count(ord) FROM object_index "
                                   "WHERE account_id=$1 AND type=$2";
    struct params p = pgq_two(account, type);
    PGresult *r;
    int rc = pgq_run(c, sql, &p, &r);
    if (rc)
        return rc;
    *ordered = pgq_col_int(r, 0, 0);
    *unordered = pgq_col_int(r, 0, 1);
    PQclear(r);
    return STORE_OK;
}

/* ---- text search ---------------------------------------------------------------------- */

/* A word character, as sqlite.c splits query text: ASCII letters and digits and every
 * byte of a non-ASCII character (the tokenizer splits those further). */
static bool word_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch >= 0x80;
}

/* The next piece of a term's tsquery literal from p on, into q: a word, or for a phrase
 * all of its words, each split and folded as the SQLite backend's FTS5 tables split
 * them (postgres_text.c), joined by <-> (adjacent, in order), the last a prefix (:*)
 * for a prefix term. Words of a term that is no phrase are separate pieces, each of
 * which may match in another field, as in FTS5. A piece left empty (no word in it
 * survives the split: "—") matches nothing, as FTS5's empty phrase. Returns where to
 * go on, or NULL when no word is left. */
static const char *ts_next(const struct store_text_term *t, const char *p, struct buf *q)
{
    bool any = false;
    for (;;) {
        while (*p && !word_char((unsigned char)*p))
            p++;
        if (!*p)
            return any ? p : NULL;
        const char *w = p;
        while (*p && word_char((unsigned char)*p))
            p++;
        bool last = true;
        for (const char *r = p; *r && last; r++)
            last = !word_char((unsigned char)*r);
        pgt_tsquery_words(q, w, (size_t)(p - w), t->prefix && (!t->phrase || last));
        any = true;
        if (!t->phrase)
            return p;
    }
}

/* Appends the condition that piece number n (a parameter) matches in field (or any). */
static void ts_cond(struct buf *sql, int field, int n)
{
    if (field >= 0) {
        buf_printf(sql, " AND t%d @@ $%d::tsquery", field, n);
        return;
    }
    buf_puts(sql, " AND (");
    for (int f = 0; f < STORE_TEXT_FIELDS; f++)
        buf_printf(sql, "%st%d @@ $%d::tsquery", f ? " OR " : "", f, n);
    buf_puts(sql, ")");
}

#define TEXT_PIECES 64

/* store_text_search and store_text_hits: one of ids, hits is set. */
static int text_query(struct store_conn *c, const char *account, const char *type,
                      const struct store_text_term *terms, size_t nterms, store_name_cb ids,
                      store_hit_cb hits, void *ud)
{
    struct buf sql = {0};
    struct buf pieces[TEXT_PIECES] = {{0}};
    const char *vals[TEXT_PIECES + 2] = {account, type};
    int n = 2, rc = STORE_OK;
    buf_puts(&sql, "SELECT id, modseq, ord FROM object_index WHERE account_id=$1 AND type=$2");
    for (size_t i = 0; i < nterms && rc == STORE_OK; i++) {
        assert(terms[i].field >= -1 && terms[i].field < STORE_TEXT_FIELDS);
        /* a term without any word matches everything: it adds no condition */
        const char *at = terms[i].text;
        while (rc == STORE_OK && (at = ts_next(&terms[i], at, &pieces[n - 2])) != NULL) {
            if (!pieces[n - 2].len) { /* no word survived the split */
                buf_puts(&sql, " AND false");
                continue;
            }
            vals[n] = pieces[n - 2].data;
            ts_cond(&sql, terms[i].field, ++n);
            if (n - 2 == TEXT_PIECES)
                rc = STORE_ERR; /* more words than a search may have */
        }
    }
    PGresult *r = NULL;
    if (rc == STORE_OK) {
        r = pgq_exec_custom(c, sql.data, n, vals);
        rc = pgq_result_code(c, r, "text search");
    }
    if (rc == STORE_OK)
        for (int i = 0, rows = PQntuples(r); i < rows; i++) {
            const char *id = PQgetvalue(r, i, 0);
            bool has_order = !PQgetisnull(r, i, 2);
            if (ids ? ids(id, ud)
                    : hits(id, PQgetisnull(r, i, 1) ? 0 : pgq_col_int(r, i, 1), has_order,
                           has_order ? pgq_col_int(r, i, 2) : 0, ud))
                break;
        }
    PQclear(r);
    for (int i = 0; i < TEXT_PIECES; i++)
        buf_free(&pieces[i]);
    buf_free(&sql);
    return rc;
}

int pg_text_search(struct store_conn *c, const char *account, const char *type,
                   const struct store_text_term *terms, size_t nterms, store_name_cb cb, void *ud)
{
    return text_query(c, account, type, terms, nterms, cb, NULL, ud);
}

int pg_text_hits(struct store_conn *c, const char *account, const char *type,
                 const struct store_text_term *terms, size_t nterms, store_hit_cb cb, void *ud)
{
    return text_query(c, account, type, terms, nterms, NULL, cb, ud);
}
