/*
 * postgres_text.c — the words of the PostgreSQL backend's full-text index, split and
 * folded in jmapd by the tokenizer the SQLite backend indexes with (FTS5's unicode61
 * with diacritics removed, from libsqlite3), so that both backends find the same
 * words (issue 15 §1) and PostgreSQL only stores and compares lexemes: a text field
 * goes to it as a tsvector literal (each folded word with its positions), a search
 * word as a tsquery literal. Building the vectors in PostgreSQL (regexp_replace,
 * to_tsvector's parser, the unaccent dictionary) was most of its CPU per created
 * event (W1, ~90 us per index row).
 */
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>

#include "store/postgres_internal.h"
#include "util/util.h"

/* PostgreSQL's limits (tsvector.h): a lexeme's bytes, a word position */
#define LEXEME_MAX 2047
#define POSITION_MAX 16383

static pthread_once_t once = PTHREAD_ONCE_INIT;
static sqlite3 *tok_db; /* holds the tokenizer module for the process's lifetime */
static fts5_tokenizer tok_fns;
static void *tok_ud;
static bool tok_ok;

/* unicode61 from FTS5's own table of tokenizers (sqlite.c's object_fields use it) */
static void tok_init(void)
{
    fts5_api *api = NULL;
    sqlite3_stmt *s = NULL;
    if (sqlite3_open(":memory:", &tok_db) != SQLITE_OK ||
        sqlite3_prepare_v2(tok_db, "SELECT fts5(?1)", -1, &s, NULL) != SQLITE_OK) {
        log_error("postgresql: no SQLite FTS5 to split text with");
        return;
    }
    sqlite3_bind_pointer(s, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(s);
    sqlite3_finalize(s);
    tok_ok = api && api->xFindTokenizer(api, "unicode61", &tok_ud, &tok_fns) == SQLITE_OK;
    if (!tok_ok)
        log_error("postgresql: no unicode61 tokenizer to split text with");
}

/* Calls cb with each folded word of text[0, n) as sqlite.c's FTS5 tables split it.
 * False when the tokenizer is not there. */
static bool each_word(const char *text, size_t n, void *ctx,
                      int (*cb)(void *ctx, int flags, const char *w, int len, int start, int end))
{
    const char *args[] = {"remove_diacritics", "2"};
    pthread_once(&once, tok_init);
    Fts5Tokenizer *t = NULL;
    if (!tok_ok || tok_fns.xCreate(tok_ud, args, 2, &t) != SQLITE_OK)
        return false;
    int rc = tok_fns.xTokenize(t, ctx, FTS5_TOKENIZE_DOCUMENT, text, (int)n, cb);
    tok_fns.xDelete(t);
    return rc == SQLITE_OK;
}

/* A lexeme quoted for a tsvector or tsquery literal (a word holds neither quotes nor
 * backslashes: they are separators; escaped all the same). */
static void put_lexeme(struct buf *b, const char *w, int len)
{
    buf_puts(b, "'");
    for (int i = 0; i < len; i++) {
        if (w[i] == '\'' || w[i] == '\\')
            buf_append(b, w[i] == '\'' ? "'" : "\\", 1);
        buf_append(b, &w[i], 1);
    }
    buf_puts(b, "'");
}

struct vec {
    struct buf b;
    int pos;
};

static int vec_word(void *ctx, int flags, const char *w, int len, int start, int end)
{
    (void)flags, (void)start, (void)end;
    struct vec *v = ctx;
    if (v->pos < POSITION_MAX)
        v->pos++;
    if (len <= 0 || len > LEXEME_MAX) /* to_tsvector too skips what cannot be a lexeme */
        return SQLITE_OK;
    if (v->b.len)
        buf_puts(&v->b, " ");
    put_lexeme(&v->b, w, len);
    buf_printf(&v->b, ":%d", v->pos);
    return SQLITE_OK;
}

char *pgt_tsvector(const char *text)
{
    if (!text || !*text)
        return NULL;
    struct vec v = {{0}, 0};
    if (!each_word(text, strlen(text), &v, vec_word) || !v.b.len) {
        buf_free(&v.b);
        return NULL; /* no word: as an empty field, nothing matches it */
    }
    return buf_take(&v.b);
}

struct query {
    struct buf *q;
    int words;
    size_t last_end; /* where the last word ends in q */
};

static int query_word(void *ctx, int flags, const char *w, int len, int start, int end)
{
    (void)flags, (void)start, (void)end;
    struct query *qs = ctx;
    if (len <= 0 || len > LEXEME_MAX)
        return SQLITE_OK;
    if (qs->q->len)
        buf_puts(qs->q, " <-> ");
    put_lexeme(qs->q, w, len);
    qs->last_end = qs->q->len;
    qs->words++;
    return SQLITE_OK;
}

int pgt_tsquery_words(struct buf *q, const char *text, size_t n, bool prefix)
{
    struct query qs = {q, 0, 0};
    if (!each_word(text, n, &qs, query_word))
        return -1;
    if (prefix && qs.words && qs.last_end == q->len)
        buf_puts(q, ":*");
    return qs.words;
}
