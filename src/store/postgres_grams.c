/*
 * postgres_grams.c — the PostgreSQL backend's substring search (store.h "substring
 * search", issue 21), as sqlite_grams.c: object_grams holds each object's texts and
 * facets; a term is a LIKE '%term%' on its field (or on any field), which pg_trgm's
 * GIN index answers where the extension could be had (the migration creates it),
 * else a scan of the account's rows of the type. LIKE compares exactly: the type's
 * folding is the only folding. k0 and k1 are each row's sort keys (store_grams.key),
 * each with its index.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_internal.h"
#include "util/util.h"

int pg_grams_put(struct store_conn *c, const char *account, const char *type, const char *id,
                 const struct store_grams *g)
{
    static const char *const sql =
        "INSERT INTO object_grams(account_id, type, id, g0, g1, g2, g3, g4, g5, g6, g7, g8, g9,"
        " g10, g11, facets, k0, k1, keyed) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,"
        "$14,$15,$16,$17,$18,true)"
        " ON CONFLICT(account_id, type, id) DO UPDATE SET g0=EXCLUDED.g0, g1=EXCLUDED.g1,"
        " g2=EXCLUDED.g2, g3=EXCLUDED.g3, g4=EXCLUDED.g4, g5=EXCLUDED.g5, g6=EXCLUDED.g6,"
        " g7=EXCLUDED.g7, g8=EXCLUDED.g8, g9=EXCLUDED.g9, g10=EXCLUDED.g10, g11=EXCLUDED.g11,"
        " facets=EXCLUDED.facets, k0=EXCLUDED.k0, k1=EXCLUDED.k1, keyed=true";
    _Static_assert(3 + STORE_GRAM_FIELDS + 1 + STORE_GRAM_KEYS <= MAX_PARAMS,
                   "a row is one statement");
    _Static_assert(STORE_GRAM_KEYS == 2, "the table's columns k0, k1");
    struct params p = pgq_three(account, type, id);
    for (int i = 0; i < STORE_GRAM_FIELDS; i++)
        pgq_text(&p, g->text[i] ? g->text[i] : "");
    pgq_text(&p, g->facets);
    for (int k = 0; k < STORE_GRAM_KEYS; k++) {
        if (g->key[k])
            pgq_bin(&p, g->key[k], g->key_len[k]);
        else
            pgq_text(&p, NULL);
    }
    return pgq_defer(c, sql, &p); /* nobody waits for it: with the next statement */
}

int pg_grams_del(struct store_conn *c, const char *account, const char *type, const char *id)
{
    static const char *const sql = "DELETE FROM object_grams WHERE account_id=$1 AND type=$2 AND "
                                   "id=$3";
    struct params p = pgq_three(account, type, id);
    return pgq_defer(c, sql, &p);
}

/* The fields joined by newlines, as the migration indexes them: a term (which holds
 * no newline) is in some field if it is in this. */
#define GRAMS_ALL                                                                                  \
    "(g0||chr(10)||g1||chr(10)||g2||chr(10)||g3||chr(10)||g4||chr(10)||g5||chr(10)||g6||"          \
    "chr(10)||g7||chr(10)||g8||chr(10)||g9||chr(10)||g10||chr(10)||g11)"

/* Appends the condition of a term (parameter param, unless empty): field gF (or any
 * field, for -1) holds it, or, for an empty text, is not empty. joined: the term
 * holds no newline, so that "any field" is one condition on GRAMS_ALL. */
static void cond_fields(struct buf *b, bool empty, bool joined, int field, int param)
{
    int lo = field < 0 ? 0 : field, hi = field < 0 ? STORE_GRAM_FIELDS : field + 1;
    if (field < 0 && !empty && joined) {
        buf_printf(b, " AND " GRAMS_ALL " LIKE $%d", param);
        return;
    }
    buf_puts(b, " AND (");
    for (int f = lo; f < hi; f++) {
        buf_puts(b, f > lo ? " OR " : "");
        if (empty)
            buf_printf(b, "g%d <> ''", f);
        else
            buf_printf(b, "g%d LIKE $%d", f, param);
    }
    buf_puts(b, ")");
}

/* A term as a LIKE pattern between two %, its \ % _ escaped (LIKE's escape
 * character is \). */
static void like_pattern(struct buf *b, const char *text)
{
    buf_puts(b, "%");
    for (const char *p = text; *p; p++) {
        if (*p == '\\' || *p == '%' || *p == '_')
            buf_puts(b, "\\");
        buf_append(b, p, 1);
    }
    buf_puts(b, "%");
}

/* The searches most queries are (issue 21): one term (or two) in any field, one term
 * in one field, as string literals: prepared once per connection and sent in the
 * transaction's pipeline, not planned again and waited for apart from the rest. */
#define GRAMS_SELECT "SELECT id FROM object_grams WHERE account_id=$1 AND type=$2 AND "
#define GRAMS_FIELD(n) GRAMS_SELECT "g" #n " LIKE $3"
static const char *const grams_field[STORE_GRAM_FIELDS] = {
    GRAMS_FIELD(0), GRAMS_FIELD(1), GRAMS_FIELD(2),  GRAMS_FIELD(3),
    GRAMS_FIELD(4), GRAMS_FIELD(5), GRAMS_FIELD(6),  GRAMS_FIELD(7),
    GRAMS_FIELD(8), GRAMS_FIELD(9), GRAMS_FIELD(10), GRAMS_FIELD(11),
};
static const char *const grams_any[2] = {
    GRAMS_SELECT GRAMS_ALL " LIKE $3",
    GRAMS_SELECT GRAMS_ALL " LIKE $3 AND " GRAMS_ALL " LIKE $4",
};

/* The literal statement for terms, or NULL when they have another shape. */
static const char *common_search(const struct store_gram_term *terms, size_t nterms)
{
    for (size_t i = 0; i < nterms; i++)
        if (!*terms[i].text || strchr(terms[i].text, '\n'))
            return NULL;
    if (nterms == 1)
        return terms[0].field < 0 ? grams_any[0] : grams_field[terms[0].field];
    if (nterms == 2 && terms[0].field < 0 && terms[1].field < 0)
        return grams_any[1];
    return NULL;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Calls cb with the ids of result r (its first column) in id order, the store's order
 * of hits (store.h; sorted here, in byte order, not by ORDER BY: the plan stays the
 * one the trigram indexes make), until cb returns nonzero. */
static void each_hit(const PGresult *r, store_name_cb cb, void *ud)
{
    int rows = PQntuples(r);
    const char **ids = xmalloc(((size_t)rows + 1) * sizeof *ids);
    for (int i = 0; i < rows; i++)
        ids[i] = PQgetvalue(r, i, 0);
    qsort(ids, (size_t)rows, sizeof *ids, compare_ids);
    for (int i = 0; i < rows; i++)
        if (cb(ids[i], ud))
            break;
    free(ids);
}

static int common_search_run(struct store_conn *c, const char *sql, const char *account,
                             const char *type, const struct store_gram_term *terms, size_t nterms,
                             store_name_cb cb, void *ud)
{
    struct buf pats[2] = {{0}};
    struct params p = pgq_two(account, type);
    for (size_t i = 0; i < nterms; i++) {
        like_pattern(&pats[i], terms[i].text);
        pgq_text(&p, pats[i].data);
    }
    PGresult *r = NULL;
    int rc = pgq_exec(c, sql, true, &p, 0, &r);
    if (rc == STORE_OK)
        each_hit(r, cb, ud);
    PQclear(r);
    for (size_t i = 0; i < nterms; i++)
        buf_free(&pats[i]);
    return rc;
}

/* The search of terms as one statement built for it: each hit's id, or (count) their
 * number. */
static PGresult *search_custom(struct store_conn *c, const char *account, const char *type,
                               const struct store_gram_term *terms, size_t nterms, bool count)
{
    struct buf sql = {0};
    struct buf *pats = xcalloc(nterms + 1, sizeof *pats);
    const char **vals = xcalloc(nterms + 2, sizeof *vals);
    int n = 2;
    vals[0] = account;
    vals[1] = type;
    buf_puts(&sql, count ? "SELECT count(*)" : "SELECT id");
    buf_puts(&sql, " FROM object_grams WHERE account_id=$1 AND type=$2");
    for (size_t i = 0; i < nterms; i++) {
        assert(terms[i].field >= -1 && terms[i].field < STORE_GRAM_FIELDS);
        if (!*terms[i].text) {
            cond_fields(&sql, true, false, terms[i].field, 0);
            continue;
        }
        like_pattern(&pats[i], terms[i].text);
        vals[n++] = pats[i].data;
        cond_fields(&sql, false, !strchr(terms[i].text, '\n'), terms[i].field, n);
    }
    PGresult *r = pgq_exec_custom(c, sql.data, n, vals);
    for (size_t i = 0; i < nterms; i++)
        buf_free(&pats[i]);
    free(pats);
    free(vals);
    buf_free(&sql);
    return r;
}

int pg_grams_search(struct store_conn *c, const char *account, const char *type,
                    const struct store_gram_term *terms, size_t nterms, store_name_cb cb, void *ud)
{
    const char *common = common_search(terms, nterms);
    if (common)
        return common_search_run(c, common, account, type, terms, nterms, cb, ud);
    PGresult *r = search_custom(c, account, type, terms, nterms, false);
    int rc = pgq_result_code(c, r, "substring search");
    if (rc == STORE_OK)
        each_hit(r, cb, ud);
    PQclear(r);
    return rc;
}

int64_t pg_grams_count_hits(struct store_conn *c, const char *account, const char *type,
                            const struct store_gram_term *terms, size_t nterms)
{
    PGresult *r = search_custom(c, account, type, terms, nterms, true);
    int64_t n = pgq_result_code(c, r, "substring count") == STORE_OK && PQntuples(r) == 1
                    ? pgq_col_int(r, 0, 0)
                    : -1;
    PQclear(r);
    return n;
}

int pg_grams_facets(struct store_conn *c, const char *account, const char *type, const char *id,
                    store_facets_cb cb, void *ud)
{
    static const char *const one = "SELECT id, facets FROM object_grams WHERE account_id=$1 AND "
                                   "type=$2 AND id=$3";
    static const char *const all = "SELECT id, facets FROM object_grams WHERE account_id=$1 AND "
                                   "type=$2 ORDER BY id";
    struct params p = id ? pgq_three(account, type, id) : pgq_two(account, type);
    return pgq_each_pair(c, id ? one : all, &p, cb, ud);
}

int pg_grams_missing(struct store_conn *c, const char *account, const char *type, store_name_cb cb,
                     void *ud)
{
    /* asked at every start: the counts first (two index scans); then the difference of
     * the two sets of ids (as an anti-join, stale statistics after a bulk import made
     * it a nested loop that read every row of the account per object: minutes at
     * 20,000 cards) */
    static const char *const count =
        "SELECT (SELECT count(*) FROM objects WHERE account_id=$1 AND type=$2 AND NOT destroyed)"
        " - (SELECT count(*) FROM object_grams WHERE account_id=$1 AND type=$2 AND keyed)";
    /* a row without its sort keys (written before there were any) counts as missing */
    static const char *const sql =
        "SELECT id FROM objects WHERE account_id=$1 AND type=$2 AND NOT destroyed EXCEPT "
        "SELECT id FROM object_grams WHERE account_id=$1 AND type=$2 AND keyed";
    struct params p = pgq_two(account, type);
    int64_t missing = pgq_first_int(c, count, &p, -1);
    if (missing == 0)
        return STORE_OK;
    return pgq_each_name(c, sql, &p, cb, ud);
}

/* The statements of one key: its index in its order, from its start or from a key. */
#define ORDERED(k, from)                                                                           \
    "SELECT id, " k " FROM object_grams WHERE account_id=$1 AND type=$2 AND " k                    \
    " IS NOT NULL" from " ORDER BY " k " LIMIT $3 OFFSET $4"
static const char *const ordered_sql[STORE_GRAM_KEYS][2] = {
    {ORDERED("k0", ""), ORDERED("k0", " AND k0 >= $5")},
    {ORDERED("k1", ""), ORDERED("k1", " AND k1 >= $5")},
};

int pg_grams_ordered(struct store_conn *c, const char *account, const char *type, int k,
                     const void *from, size_t from_len, int64_t offset, int64_t limit,
                     store_key_cb cb, void *ud)
{
    assert(k >= 0 && k < STORE_GRAM_KEYS);
    struct params p = pgq_two(account, type);
    if (limit < 0)
        pgq_text(&p, NULL); /* LIMIT NULL: no limit */
    else
        pgq_int(&p, limit);
    pgq_int(&p, offset < 0 ? 0 : offset);
    if (from)
        pgq_bin(&p, from, from_len);
    PGresult *r = NULL;
    /* binary results: the key as its bytes */
    int rc = pgq_exec(c, ordered_sql[k][from != NULL], true, &p, 1, &r);
    for (int i = 0, n = rc == STORE_OK ? PQntuples(r) : 0; i < n; i++) {
        char id[256];
        snprintf(id, sizeof id, "%.*s", PQgetlength(r, i, 0), PQgetvalue(r, i, 0));
        if (cb(id, PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1), ud))
            break;
    }
    PQclear(r);
    return rc;
}
