/*
 * contact_index.c — ContactCard filtering (RFC 9610 §3.3.1), sorting (§3.3.2)
 * and the per-account in-memory index that lets ContactCard/query run without
 * parsing every stored card. (The uid uniqueness check of §3 asks the store's
 * unique-key index: writes do not use this index.)
 *
 * Text conditions are the store's (issue 21): a substring search of the texts
 * contact_record.c folded (i;unicode-casemap, RFC 5051) when the card was written;
 * a query of text conditions alone, unsorted, is answered by the store without this
 * index, in the store's order, reading its hits only up to the page when no total
 * is asked for. The index holds, per account, each live card's facets
 * (contact_record.c: uid, kind, dates, address books, members, sort keys), read
 * from the store's rows beside the texts, never by parsing the cards. It is valid
 * for one ContactCard modseq: a query brings it up to its transaction's state by
 * applying the change log since then (a few rows after a write), or rebuilds it
 * when that is not possible (first use, tombstones pruned, a state behind the
 * index). A query whose snapshot is older than the index lets the engine answer
 * from the store instead. A read-write lock per account guards it (issue 21 target
 * 1): queries that find it current, and the order they ask for kept, run side by
 * side; bringing it up to date and keeping a new order take it alone (the
 * store-only text queries do not take it). The order of the last sort asked for is
 * kept and follows each change. Queries read committed states only, so the index
 * never holds a write that is rolled back.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jmap/collation.h"
#include "jmap/metadata.h"
#include "types/contacts_internal.h"
#include "util/util.h"

/* Names of the String conditions (enum contact_field) and the sort components. */
enum { NFIELDS = CONTACT_NFIELDS, NSORTS = CONTACT_NSORTS };
static const char *const field_names[NFIELDS] = {
    "text",         "name",  "name/given", "name/surname",  "name/surname2", "nickname",
    "organization", "email", "phone",      "onlineService", "address",       "note",
};

static bool utc_ms(json_t *v, int64_t *out)
{
    return contact_utc_ms(v, out);
}

static char *fold(struct buf *b)
{
    return contact_fold(b);
}

/* A record of a card given as JSON (the engine's per-object hooks). */
static struct crec *rec_of_card(json_t *card)
{
    char *facets = contact_facets(card);
    struct crec *r = contact_rec_new("", facets);
    free(facets);
    return r;
}

static bool in_list(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* ---- compiled filters ---------------------------------------------------------------------- */

enum cond_key {
    K_IN_BOOK = NFIELDS, K_UID, K_HAS_MEMBER, K_KIND, K_CREATED_BEFORE, K_CREATED_AFTER,
    K_UPDATED_BEFORE, K_UPDATED_AFTER,
};
static const char *const cond_names[] = {
    "inAddressBook", "uid", "hasMember", "kind", "createdBefore", "createdAfter",
    "updatedBefore", "updatedAfter",
};

enum { OP_AND, OP_OR, OP_NOT, OP_LEAF };

struct cnode {
    int op;
    struct cnode **kids;
    size_t nkids;
    int key;         /* leaf: an enum field or cond_key */
    const char *str; /* leaf: the value (borrowed from the request) */
    int64_t ms;      /* leaf: a date value */
    char **terms;    /* leaf, text fields: case-folded tokens and phrases */
    size_t nterms;
};

static int cond_key_find(const char *key)
{
    for (int f = 0; f < NFIELDS; f++)
        if (strcmp(key, field_names[f]) == 0)
            return f;
    for (size_t i = 0; i < sizeof cond_names / sizeof cond_names[0]; i++)
        if (strcmp(key, cond_names[i]) == 0)
            return K_IN_BOOK + (int)i;
    return -1;
}

/* §3.3.1: whitespace separates tokens that must all be present; text in single or
 * double quotes is a phrase, in which \" \' \\ stand for the character. Each term
 * is case-folded, so matching is case-insensitive. */
static void split_terms(struct cnode *n, const char *s)
{
    size_t cap = 4;
    n->terms = xmalloc(cap * sizeof *n->terms);
    while (*s) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        struct buf b = {0};
        if (*s == '"' || *s == '\'') {
            char q = *s++;
            bool space = false;
            for (; *s && *s != q; s++) {
                if (*s == '\\' && (s[1] == '"' || s[1] == '\'' || s[1] == '\\'))
                    s++;
                else if (isspace((unsigned char)*s)) {
                    space = b.len > 0;
                    continue;
                }
                if (space)
                    buf_append(&b, " ", 1);
                space = false;
                buf_append(&b, s, 1);
            }
            if (*s == q)
                s++;
        } else {
            for (; *s && !isspace((unsigned char)*s); s++)
                buf_append(&b, s, 1);
        }
        if (!b.len) {
            buf_free(&b);
            continue;
        }
        if (n->nterms == cap)
            n->terms = xrealloc(n->terms, (cap *= 2) * sizeof *n->terms);
        n->terms[n->nterms++] = fold(&b);
    }
}

static void cnode_free(struct cnode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        cnode_free(n->kids[i]);
    for (size_t i = 0; i < n->nterms; i++)
        free(n->terms[i]);
    free(n->terms);
    free(n->kids);
    free(n);
}

/* Checks one condition's value: 1 ok, -1 unknown key, -2 bad value. */
static int cond_check(const char *key, json_t *value)
{
    int k = cond_key_find(key);
    if (k < 0)
        return -1;
    if (!json_is_string(value))
        return -2;
    int64_t ms;
    if (k >= K_CREATED_BEFORE && !utc_ms(value, &ms))
        return -2; /* UTCDate */
    return 1;
}

static struct cnode *leaf_new(const char *key, json_t *value)
{
    struct cnode *n = xcalloc(1, sizeof *n);
    n->op = OP_LEAF;
    n->key = cond_key_find(key);
    n->str = json_string_value(value);
    if (n->key >= K_CREATED_BEFORE)
        utc_ms(value, &n->ms);
    else if (n->key < NFIELDS)
        split_terms(n, n->str);
    return n;
}

/* Compiles a filter the engine has already checked. */
static struct cnode *compile(json_t *f)
{
    struct cnode *n = xcalloc(1, sizeof *n);
    json_t *op = json_object_get(f, "operator");
    json_t *kids = op ? json_object_get(f, "conditions") : NULL;
    n->op = !op ? OP_AND
            : strcmp(json_string_value(op), "AND") == 0 ? OP_AND
            : strcmp(json_string_value(op), "OR") == 0  ? OP_OR
                                                         : OP_NOT;
    n->kids = xcalloc(json_array_size(kids) + json_object_size(f) + 1, sizeof *n->kids);
    size_t i;
    json_t *v;
    if (op) {
        json_array_foreach(kids, i, v) n->kids[n->nkids++] = compile(v);
        return n;
    }
    /* §3.3.1: several properties in one condition must all apply */
    const char *key;
    json_object_foreach(f, key, v) n->kids[n->nkids++] = leaf_new(key, v);
    return n;
}

/* Whether a card's text (one field's, as contact_texts gives it) holds every term
 * of leaf n: what the store's substring search answers for the index. */
static bool text_match(const struct cnode *n, const char *text)
{
    for (size_t i = 0; i < n->nterms; i++)
        if (!strstr(text, n->terms[i]))
            return false;
    /* an empty search matches any card with a value there */
    return n->nterms || *text;
}

/* A leaf that is not a text condition against a card's facets. */
static bool leaf_match(const struct cnode *n, const struct crec *r)
{
    switch (n->key) {
    case K_IN_BOOK:
        return in_list(r->books, r->nbooks, n->str);
    case K_UID:
        return r->uid && strcmp(r->uid, n->str) == 0;
    case K_HAS_MEMBER:
        return in_list(r->members, r->nmembers, n->str);
    case K_KIND:
        /* RFC 9553 §2.1.4: kind defaults to "individual" */
        return strcmp(r->kind ? r->kind : "individual", n->str) == 0;
    case K_CREATED_BEFORE:
        return r->has_created && r->created < n->ms;
    case K_CREATED_AFTER:
        return r->has_created && r->created >= n->ms;
    case K_UPDATED_BEFORE:
        return r->has_updated && r->updated < n->ms;
    case K_UPDATED_AFTER:
        return r->has_updated && r->updated >= n->ms;
    }
    return false;
}

int contact_filter_hook(struct jmap_req *r, json_t *obj, const char *key, json_t *value)
{
    int rc = cond_check(key, value);
    if (!obj || rc != 1)
        return rc;
    struct cnode *n = leaf_new(key, value);
    bool m = false;
    if (n->key < NFIELDS) {
        char *text[NFIELDS];
        contact_texts(obj, text, false);
        m = text_match(n, text[n->key]);
        for (int f = 0; f < NFIELDS; f++)
            free(text[f]);
    } else {
        struct crec *rec = rec_of_card(obj);
        m = rec && leaf_match(n, rec);
        free(rec);
    }
    cnode_free(n);
    return m;
}

/* ---- sorting -------------------------------------------------------------------------------- */

enum { P_CREATED, P_UPDATED, P_GIVEN, P_SURNAME, P_SURNAME2 };

static int sort_prop(const char *property)
{
    static const char *const names[] = {"created", "updated", "name/given", "name/surname",
                                        "name/surname2"};
    for (int i = 0; i < 5; i++)
        if (strcmp(property, names[i]) == 0)
            return i;
    return -1;
}

struct comparator {
    int prop;
    bool desc;
    const char *collation; /* NULL: i;unicode-casemap on the precomputed keys */
};

static int cmp_i64(bool ha, int64_t a, bool hb, int64_t b)
{
    if (ha != hb)
        return ha ? 1 : -1; /* a card without the value sorts first */
    return a < b ? -1 : a > b;
}

static int compare_on(const struct comparator *c, const struct crec *a, const struct crec *b)
{
    switch (c->prop) {
    case P_CREATED:
        return cmp_i64(a->has_created, a->created, b->has_created, b->created);
    case P_UPDATED:
        return cmp_i64(a->has_updated, a->updated, b->has_updated, b->updated);
    default: {
        int k = c->prop - P_GIVEN;
        if (!a->sort[k] || !b->sort[k])
            return !!a->sort[k] - !!b->sort[k];
        if (c->collation)
            return collation_compare(c->collation, a->sort[k], b->sort[k]);
        return strcmp(a->sortkey[k], b->sortkey[k]);
    }
    }
}

struct sort_spec {
    struct comparator *c;
    size_t n;
};

static int compare_recs(const void *pa, const void *pb, void *ud)
{
    const struct crec *a = *(struct crec *const *)pa, *b = *(struct crec *const *)pb;
    const struct sort_spec *s = ud;
    for (size_t i = 0; i < s->n; i++) {
        int d = compare_on(&s->c[i], a, b);
        if (d)
            return s->c[i].desc ? -d : d;
    }
    return strcmp(a->id, b->id); /* ties in id order, as the engine does */
}

int contact_compare_hook(json_t *a, json_t *b, const char *property, bool *ok)
{
    int p = sort_prop(property);
    *ok = p >= 0;
    if (p < 0)
        return 0;
    struct crec *ra = rec_of_card(a), *rb = rec_of_card(b);
    struct comparator c = {p, false, NULL};
    int d = ra && rb ? compare_on(&c, ra, rb) : 0;
    free(ra);
    free(rb);
    return d;
}

/* ---- the per-account index ------------------------------------------------------------------ */

struct cindex {
    char account[64];
    /* issue 21 target 1: queries that find the index current (and the order they ask
     * for kept) share it; a refresh or a new kept order take it alone. Writers first:
     * readers arriving while one waits queue behind it. */
    pthread_rwlock_t lock;
    bool built;
    int64_t modseq;
    atomic_int stale_reads; /* readers in a row that found the index ahead of them */
    /* in id order (the order of an unsorted query, and of ties), found by bsearch */
    struct crec **recs;
    size_t n, cap;
    /* issue 21: the order of the last sort asked for, kept and kept in step with
     * each change (a card moves to its place), so that paging a sorted query, and
     * one after a write, does not sort every card again */
    char *sorted_by;       /* the sort's canonical JSON, or NULL */
    json_t *sort_json;     /* a copy of the sort: the spec's collations point into it */
    struct sort_spec spec; /* its comparators */
    struct crec **sorted;  /* every record, in that order */
    struct key_marks *marks; /* a store key's marks (issue 21), under registry_lock */
    struct cindex *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cindex *registry;

/* Forgets the kept order. */
static void kept_clear(struct cindex *x)
{
    free(x->sorted_by);
    free(x->sorted);
    free(x->spec.c);
    json_decref(x->sort_json);
    x->sorted_by = NULL;
    x->sorted = NULL;
    x->spec = (struct sort_spec){NULL, 0};
    x->sort_json = NULL;
}

/* Where r is (or would go) in the kept order of its n records. */
static size_t kept_find(struct cindex *x, const struct crec *r, size_t n, bool *found)
{
    size_t lo = 0, hi = n;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = compare_recs(&x->sorted[mid], &r, &x->spec);
        if (d == 0) {
            *found = true;
            return mid;
        }
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* r leaves the kept order, which held n records (r among them). */
static void kept_remove(struct cindex *x, const struct crec *r, size_t n)
{
    if (!x->sorted)
        return;
    bool found;
    size_t i = kept_find(x, r, n, &found);
    if (!found) { /* cannot be: the order is total; start again rather than be wrong */
        kept_clear(x);
        return;
    }
    memmove(x->sorted + i, x->sorted + i + 1, (n - i - 1) * sizeof *x->sorted);
}

/* r joins the kept order, which held n records. */
static void kept_insert(struct cindex *x, struct crec *r, size_t n)
{
    if (!x->sorted)
        return;
    bool found;
    size_t i = kept_find(x, r, n, &found);
    x->sorted = xrealloc(x->sorted, (n + 2) * sizeof *x->sorted);
    memmove(x->sorted + i + 1, x->sorted + i, (n - i) * sizeof *x->sorted);
    x->sorted[i] = r;
}

/* The position of id in recs, or where it would go (*found false). */
static size_t index_find(const struct cindex *x, const char *id, bool *found)
{
    size_t lo = 0, hi = x->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = strcmp(x->recs[mid]->id, id);
        if (d == 0) {
            *found = true;
            return mid;
        }
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static void index_remove(struct cindex *x, const char *id)
{
    bool found;
    size_t i = index_find(x, id, &found);
    if (!found)
        return;
    struct crec *r = x->recs[i];
    kept_remove(x, r, x->n);
    memmove(x->recs + i, x->recs + i + 1, (x->n - i - 1) * sizeof *x->recs);
    x->n--;
    free(r);
}

/* Adds (or replaces) the card id with these facets, in id order; a row that is not
 * facets leaves the card out (logged). */
static int index_add(const char *id, const char *facets, void *ud)
{
    struct cindex *x = ud;
    struct crec *r = contact_rec_new(id, facets);
    if (!r) {
        log_warn("contacts: card %s of account %s has no usable index row", id, x->account);
        index_remove(x, id);
        return 0;
    }
    bool found = false;
    /* the store gives a whole account's rows in id order: each one goes last */
    size_t i = x->n && strcmp(x->recs[x->n - 1]->id, id) < 0 ? x->n : index_find(x, id, &found);
    if (found) {
        kept_remove(x, x->recs[i], x->n);
        free(x->recs[i]);
        x->n--; /* for kept_insert: one fewer in the kept order */
    } else {
        if (x->n == x->cap)
            x->recs = xrealloc(x->recs, (x->cap = x->cap ? x->cap * 2 : 256) * sizeof *x->recs);
        memmove(x->recs + i + 1, x->recs + i, (x->n - i) * sizeof *x->recs);
        x->n++;
    }
    x->recs[i] = r;
    kept_insert(x, r, found ? x->n++ : x->n - 1);
    return 0;
}

static void index_clear(struct cindex *x)
{
    for (size_t i = 0; i < x->n; i++)
        free(x->recs[i]);
    x->n = 0;
    x->built = false;
    kept_clear(x);
}

static int changed_cb(const char *id, int64_t created, int64_t updated, bool destroyed, void *ud)
{
    json_object_set_new(ud, id, json_boolean(destroyed));
    return 0;
}

/* Whether x serves the connection's transaction as it is (under either lock): 0
 * yes, 1 a reader should rather use the store, 2 it needs a refresh; *cur the state
 * the transaction sees. */
static int index_state(struct store_conn *c, struct cindex *x, int64_t *cur)
{
    *cur = store_state_get(c, x->account, contact_card_type.name);
    if (x->built && *cur == x->modseq)
        return 0;
    /* A reader whose snapshot predates a write the index already holds: answering
     * from the store is cheaper than rebuilding the index backwards, unless that
     * keeps happening (then the index is what is wrong: a rolled-back write). */
    if (x->built && *cur < x->modseq && atomic_fetch_add(&x->stale_reads, 1) < 15)
        return 1;
    return 2;
}

/* Brings x (locked alone) to the state the connection's transaction sees, from the
 * facets the store keeps (never parsing a card): 0, or 1 if a reader should rather
 * not use it, or -1 on a store error. */
static int index_refresh(struct store_conn *c, struct cindex *x)
{
    const char *type = contact_card_type.name;
    int64_t cur;
    int st = index_state(c, x, &cur);
    if (st < 2)
        return st;
    atomic_store(&x->stale_reads, 0);
    if (!x->built || cur < x->modseq || x->modseq < store_state_lowest(c, x->account, type)) {
        index_clear(x);
        if (store_grams_facets(c, x->account, type, NULL, index_add, x) != STORE_OK) {
            index_clear(x);
            return -1;
        }
    } else {
        json_t *changed = json_object();
        int rc = store_changes(c, x->account, type, x->modseq, 0, changed_cb, changed);
        const char *id;
        json_t *gone;
        json_object_foreach(changed, id, gone)
        {
            index_remove(x, id);
            if (rc == STORE_OK && !json_is_true(gone))
                rc = store_grams_facets(c, x->account, type, id, index_add, x);
        }
        json_decref(changed);
        if (rc != STORE_OK) {
            index_clear(x);
            return -1;
        }
    }
    for (size_t i = 0; i < x->n; i++) /* where a filter's marks for it are */
        x->recs[i]->pos = i;
    x->built = true;
    x->modseq = cur;
    return 0;
}

/* The account's index (made, empty, on first use). */
static struct cindex *index_get(const char *account)
{
    pthread_mutex_lock(&registry_lock);
    struct cindex *x = registry;
    while (x && strcmp(x->account, account))
        x = x->next;
    if (!x) {
        x = xcalloc(1, sizeof *x);
        snprintf(x->account, sizeof x->account, "%s", account);
        pthread_rwlockattr_t attr;
        pthread_rwlockattr_init(&attr);
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        pthread_rwlock_init(&x->lock, &attr);
        pthread_rwlockattr_destroy(&attr);
        x->next = registry;
        registry = x;
    }
    pthread_mutex_unlock(&registry_lock);
    return x;
}

static bool kept_is(const struct cindex *x, const char *key);
static void kept_make(struct cindex *x, json_t *sort, char *key);

/* The account's index, current for the connection's transaction, with the order of
 * sort kept (if given): shared when it needs no change, else held alone. NULL on a
 * store error, or when the caller should rather use the store. */
static struct cindex *index_acquire(struct store_conn *c, const char *account, json_t *sort)
{
    struct cindex *x = index_get(account);
    char *key = sort ? json_dumps(sort, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    pthread_rwlock_rdlock(&x->lock);
    int64_t cur;
    int st = index_state(c, x, &cur);
    if (st == 0 && (!key || kept_is(x, key))) {
        free(key);
        return x;
    }
    pthread_rwlock_unlock(&x->lock);
    if (st == 1) {
        free(key);
        return NULL;
    }
    /* alone: another thread may have done it meanwhile; each step checks again */
    pthread_rwlock_wrlock(&x->lock);
    if (index_refresh(c, x)) {
        pthread_rwlock_unlock(&x->lock);
        free(key);
        return NULL;
    }
    if (key)
        kept_make(x, sort, key);
    return x;
}

static void index_release(struct cindex *x)
{
    pthread_rwlock_unlock(&x->lock);
}

char *contact_index_find_uid(struct store_conn *c, const char *account, const char *uid,
                             const char *self_id)
{
    /* the store's unique-key index (a card's key is its uid): a write, and an import's
     * every card, no longer brings this index up to date to ask it (issue 21) */
    char *id = store_object_find_key(c, account, contact_card_type.name, uid);
    if (id && self_id && strcmp(id, self_id) == 0) {
        free(id);
        return NULL;
    }
    return id;
}

/* ---- text conditions from the store (issue 21) ---------------------------------------------- */

/* The store terms of a text leaf: each term in the leaf's field, or one empty term
 * (a value there) when the leaf has none. Appended to *t (count *n). */
static void leaf_terms(const struct cnode *n, struct store_gram_term **t, size_t *nt)
{
    *t = xrealloc(*t, (*nt + n->nterms + 1) * sizeof **t);
    int field = contact_gram_field(n->key);
    for (size_t i = 0; i < n->nterms; i++)
        (*t)[(*nt)++] = (struct store_gram_term){n->terms[i], field};
    if (!n->nterms)
        (*t)[(*nt)++] = (struct store_gram_term){"", field};
}

struct mark {
    struct cindex *x;
    unsigned char *out;
};

static int mark_id(const char *id, void *ud)
{
    struct mark *m = ud;
    bool found;
    size_t i = index_find(m->x, id, &found);
    if (found) /* a card the store has and the index not cannot be: the same transaction */
        m->out[i] = 1;
    return 0;
}

/* out[i] = 1 for each record whose card's field holds every term of leaf n. */
static int text_bits(struct store_conn *c, struct cindex *x, const struct cnode *n,
                     unsigned char *out)
{
    struct store_gram_term *t = NULL;
    size_t nt = 0;
    leaf_terms(n, &t, &nt);
    memset(out, 0, x->n);
    struct mark m = {x, out};
    int rc = store_grams_search(c, x->account, contact_card_type.name, t, nt, mark_id, &m);
    free(t);
    return rc;
}

/* Evaluates a compiled filter over every record at once: out[i] is 1 or 0. */
static int eval(struct store_conn *c, struct cindex *x, const struct cnode *n, unsigned char *out)
{
    if (n->op == OP_LEAF) {
        if (n->key < NFIELDS)
            return text_bits(c, x, n, out);
        for (size_t i = 0; i < x->n; i++)
            out[i] = leaf_match(n, x->recs[i]);
        return 0;
    }
    bool all = n->op == OP_AND;
    unsigned char *kid = xmalloc(x->n + 1);
    memset(out, all, x->n);
    int rc = 0;
    for (size_t k = 0; k < n->nkids && !rc; k++) {
        rc = eval(c, x, n->kids[k], kid);
        for (size_t i = 0; i < x->n; i++)
            out[i] = all ? (out[i] & kid[i]) : (out[i] | kid[i]);
    }
    if (n->op == OP_NOT) /* none of the conditions */
        for (size_t i = 0; i < x->n; i++)
            out[i] = !out[i];
    free(kid);
    return rc;
}

/* Whether the store alone answers filter f: text conditions joined by AND (a
 * condition object's properties, or the AND operator), at least one. */
static bool store_only(const struct cnode *f)
{
    if (f->op == OP_LEAF)
        return f->key >= 0 && f->key < NFIELDS;
    if (f->op != OP_AND || !f->nkids)
        return false;
    for (size_t k = 0; k < f->nkids; k++)
        if (!store_only(f->kids[k]))
            return false;
    return true;
}

static void all_terms(const struct cnode *f, struct store_gram_term **t, size_t *nt)
{
    if (f->op == OP_LEAF)
        leaf_terms(f, t, nt);
    for (size_t k = 0; k < f->nkids; k++)
        all_terms(f->kids[k], t, nt);
}

/* The first max hits of a search (in the store's order) as one buffer of NUL-ended
 * ids, and where each starts. */
struct hits {
    struct buf ids;
    size_t *at;
    size_t n, cap, max;
};

static int collect_id(const char *id, void *ud)
{
    struct hits *h = ud;
    if (h->n == h->cap)
        h->at = xrealloc(h->at, (h->cap = h->cap ? 2 * h->cap : 64) * sizeof *h->at);
    h->at[h->n++] = h->ids.len;
    buf_append(&h->ids, id, strlen(id) + 1);
    return h->n >= h->max; /* enough: the search stops */
}

/* The hits of text filter f, up to max: STORE_OK or the store's error. */
static int store_hits(struct store_conn *c, const char *account, const struct cnode *f, size_t max,
                      struct hits *h)
{
    struct store_gram_term *t = NULL;
    size_t nt = 0;
    all_terms(f, &t, &nt);
    *h = (struct hits){.max = max};
    int rc = store_grams_search(c, account, contact_card_type.name, t, nt, collect_id, h);
    free(t);
    return rc;
}

static void hits_free(struct hits *h)
{
    buf_free(&h->ids);
    free(h->at);
}

/* The ids of hits [from, from + n), a new array. */
static json_t *hits_ids(const struct hits *h, size_t from, size_t n)
{
    json_t *ids = json_array();
    for (size_t i = from; i < from + n; i++) /* ids are checked JMAP Ids: ASCII */
        json_array_append_new(ids, json_string_nocheck(h->ids.data + h->at[i]));
    return ids;
}

/* An unsorted query of text conditions, from the store's search alone: the ids in
 * the store's order (store.h: stable between writes, RFC 8620 §5.5), or NULL on a
 * store error. The first such query after a start reads no card and builds no index
 * (issue 21). */
static json_t *store_query(struct store_conn *c, const char *account, const struct cnode *f)
{
    struct hits h;
    json_t *ids = NULL;
    if (store_hits(c, account, f, SIZE_MAX, &h) == STORE_OK)
        ids = hits_ids(&h, 0, h.n);
    hits_free(&h);
    return ids;
}

/* Issue 21: a sort whose comparators are casemap keys and dates (every sort but one
 * with another collation) as one byte string per card, compared with memcmp instead
 * of a chain of comparators (the first sorted query after a start sorts every card).
 * Per comparator: a presence byte (absent sorts first), then the key and a 0 (keys
 * hold no 0) or a date's 8 bytes; all of it inverted for a descending one; then the
 * id. Every part ends where it can be told to: the strings compare as the parts.
 * The first 8 bytes are also an integer, which ends most comparisons; the sort is a
 * merge sort of these small records (qsort's copies of them were a quarter of it). */
struct keyed {
    uint64_t pre;           /* the key's first 8 bytes, big-endian, 0 after its end */
    const unsigned char *k; /* the key */
    uint32_t len, idx;      /* its length; the record's index */
};

static size_t key_part(unsigned char *out, bool desc, bool have, const void *bytes, size_t len,
                       bool str)
{
    size_t n = 1;
    out[0] = have;
    if (have) {
        memcpy(out + 1, bytes, len);
        n += len;
        if (str)
            out[n++] = 0;
    }
    for (size_t i = 0; desc && i < n; i++)
        out[i] = (unsigned char)~out[i];
    return n;
}

static inline int compare_keyed(const struct keyed *a, const struct keyed *b)
{
    if (a->pre != b->pre)
        return a->pre < b->pre ? -1 : 1;
    uint32_t n = a->len < b->len ? a->len : b->len;
    int d = n > 8 ? memcmp(a->k + 8, b->k + 8, n - 8) : 0;
    return d ? d : (a->len > b->len) - (a->len < b->len);
}

/* Sorts a[0, n): runs of 8 by insertion, then merged pairwise. */
static void sort_keyed(struct keyed *a, size_t n)
{
    for (size_t lo = 0; lo < n; lo += 8)
        for (size_t i = lo + 1; i < lo + 8 && i < n; i++) {
            struct keyed v = a[i];
            size_t j = i;
            for (; j > lo && compare_keyed(&v, &a[j - 1]) < 0; j--)
                a[j] = a[j - 1];
            a[j] = v;
        }
    struct keyed *tmp = xmalloc((n + 1) * sizeof *tmp), *src = a, *dst = tmp;
    for (size_t w = 8; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = compare_keyed(&src[j], &src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        struct keyed *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    free(tmp);
}

/* The length of the key of rec under spec. */
static size_t key_size(const struct sort_spec *spec, const struct crec *rec)
{
    size_t n = strlen(rec->id);
    for (size_t i = 0; i < spec->n; i++) {
        const struct comparator *c = &spec->c[i];
        const char *key = c->prop >= P_GIVEN ? rec->sortkey[c->prop - P_GIVEN] : NULL;
        n += 1 + (c->prop < P_GIVEN ? 8 : key ? strlen(key) + 1 : 0);
    }
    return n;
}

/* Writes the key of rec under spec at out; its length. */
static size_t key_write(const struct sort_spec *spec, const struct crec *rec, unsigned char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < spec->n; i++) {
        const struct comparator *c = &spec->c[i];
        if (c->prop == P_CREATED || c->prop == P_UPDATED) {
            bool have = c->prop == P_CREATED ? rec->has_created : rec->has_updated;
            uint64_t v = (uint64_t)(c->prop == P_CREATED ? rec->created : rec->updated) ^
                         ((uint64_t)1 << 63);
            unsigned char be[8];
            for (int k = 0; k < 8; k++)
                be[k] = (unsigned char)(v >> (56 - 8 * k));
            n += key_part(out + n, c->desc, have, be, 8, false);
        } else {
            const char *key = rec->sortkey[c->prop - P_GIVEN];
            n += key_part(out + n, c->desc, key != NULL, key, key ? strlen(key) : 0, true);
        }
    }
    size_t idlen = strlen(rec->id);
    memcpy(out + n, rec->id, idlen); /* ties in id order */
    return n + idlen;
}

static bool sort_by_keys(const struct cindex *x, const struct sort_spec *spec, struct crec **out)
{
    for (size_t i = 0; i < spec->n; i++)
        if (spec->c[i].collation)
            return false;
    size_t total = 0;
    for (size_t r = 0; r < x->n; r++)
        total += key_size(spec, x->recs[r]);
    unsigned char *keys = xmalloc(total + 1);
    struct keyed *k = xmalloc((x->n + 1) * sizeof *k);
    size_t at = 0;
    for (size_t r = 0; r < x->n; r++) {
        size_t len = key_write(spec, x->recs[r], keys + at);
        uint64_t pre = 0;
        for (size_t b = 0; b < 8; b++)
            pre = pre << 8 | (b < len ? keys[at + b] : 0);
        k[r] = (struct keyed){pre, keys + at, (uint32_t)len, (uint32_t)r};
        at += len;
    }
    sort_keyed(k, x->n);
    for (size_t r = 0; r < x->n; r++)
        out[r] = x->recs[k[r].idx];
    free(k);
    free(keys);
    return true;
}

/* The comparators of sort (checked by the engine); their collations point into it. */
static struct sort_spec spec_of(json_t *sort)
{
    struct sort_spec spec = {xcalloc(json_array_size(sort) + 1, sizeof *spec.c), 0};
    size_t i;
    json_t *c;
    json_array_foreach(sort, i, c)
    {
        const char *coll = json_string_value(json_object_get(c, "collation"));
        spec.c[spec.n++] =
            (struct comparator){sort_prop(json_string_value(json_object_get(c, "property"))),
                                json_is_false(json_object_get(c, "isAscending")),
                                coll && strcmp(coll, "i;unicode-casemap") ? coll : NULL};
    }
    return spec;
}

/* ---- sort keys in the store (issue 21) ------------------------------------------------------
 * The store keeps, per card, the key of each of these sorts (store_grams.key): the
 * bytes sort_by_keys compares, so the order of a key's index is the order the index
 * here makes. Client sorts by name, each ascending: an unfiltered query with one of
 * them reads its page from the key's index, without the facets of every card. */
static const struct comparator store_orders[STORE_GRAM_KEYS][2] = {
    {{P_SURNAME, false, NULL}, {P_GIVEN, false, NULL}},
    {{P_GIVEN, false, NULL}, {P_SURNAME, false, NULL}},
};

size_t contact_store_key(int k, const struct crec *rec, unsigned char **out)
{
    struct sort_spec spec = {(struct comparator *)store_orders[k], 2};
    *out = xmalloc(key_size(&spec, rec) + 1);
    return key_write(&spec, rec, *out);
}

/* The store key whose order is spec's, or -1. */
static int store_order_of(const struct sort_spec *spec)
{
    for (int k = 0; k < STORE_GRAM_KEYS; k++) {
        bool same = spec->n == 2;
        for (size_t i = 0; same && i < 2; i++)
            same = spec->c[i].prop == store_orders[k][i].prop && !spec->c[i].desc &&
                   !spec->c[i].collation;
        if (same)
            return k;
    }
    return -1;
}

/* Every record of x in the order of spec, a new array. */
static struct crec **order_make(const struct cindex *x, const struct sort_spec *spec)
{
    struct crec **order = xmalloc((x->n + 1) * sizeof *order);
    if (!sort_by_keys(x, spec, order)) {
        if (x->n) /* an empty index has no records array (memcpy from NULL is undefined) */
            memcpy(order, x->recs, x->n * sizeof *order);
        if (x->n > 1)
            qsort_r(order, x->n, sizeof *order, compare_recs, (void *)spec);
    }
    return order;
}

/* Whether x keeps the order of the sort whose canonical JSON is key. */
static bool kept_is(const struct cindex *x, const char *key)
{
    return x->sorted && key && strcmp(key, x->sorted_by) == 0;
}

/* Keeps the order of sort (canonical JSON key, taken) in x, locked alone: sorts only
 * when another sort is asked for, or after a start. */
static void kept_make(struct cindex *x, json_t *sort, char *key)
{
    if (kept_is(x, key)) {
        free(key);
        return;
    }
    kept_clear(x);
    x->sort_json = json_deep_copy(sort);
    x->spec = spec_of(x->sort_json);
    x->sorted = order_make(x, &x->spec);
    x->sorted_by = key;
}

/* Every record in the order of sort: x's kept order (index_acquire keeps it), or NULL
 * if it could not be kept: then *out is a new array the caller frees. */
static struct crec **sorted_order(const struct cindex *x, json_t *sort, struct crec ***out)
{
    char *key = json_dumps(sort, JSON_COMPACT | JSON_SORT_KEYS);
    bool kept = kept_is(x, key);
    free(key);
    if (kept)
        return *out = x->sorted;
    json_t *copy = json_deep_copy(sort);
    struct sort_spec spec = spec_of(copy);
    *out = order_make(x, &spec);
    free(spec.c);
    json_decref(copy);
    return NULL;
}

/* ---- a sorted page from the kept order (issue 21) -------------------------------------------
 * An unfiltered sorted ContactCard/query takes its page from the order the index
 * keeps, not from a list of every card's id (100,000 strings made and copied per
 * query). Small accounts also keep the engine's snapshot for /queryChanges; larger
 * ones answer it from the change log (RFC 8620 §5.6 allows the extra removals), as
 * CalendarEvent's index pages do. */

#define PAGE_LIMIT_MAX 10000   /* jmap/query.c's largest limit */
#define PAGE_SNAPSHOT_MAX 1000 /* below this the whole list is cheap: a snapshot */

/* The limit of a page: the one asked for, at most the engine's. */
static int64_t page_limit(json_t *args)
{
    json_t *limitv = json_object_get(args, "limit");
    return json_is_integer(limitv) && json_integer_value(limitv) < PAGE_LIMIT_MAX
               ? json_integer_value(limitv)
               : PAGE_LIMIT_MAX;
}

/* The ids of order[from, from + n), a new array. */
static json_t *ids_of(struct crec *const *order, size_t from, size_t n)
{
    json_t *ids = json_array();
    for (size_t k = from; k < from + n; k++) /* ids are checked JMAP Ids: ASCII */
        json_array_append_new(ids, json_string_nocheck(order[k]->id));
    return ids;
}

/* ---- sorted pages from a store key's index (issue 21) -----------------------------------------
 * A page of a sort the store keeps a key of is read from the key's index. To start
 * near any position, the rows walked are marked: every KEY_STEP-th key is kept, and a
 * page starts at the key at or before its position and steps over fewer than KEY_STEP
 * rows. The marks are learned as pages need them: a page at position p without a total
 * walks only the rows before it that no mark covers yet, so the first page after a
 * start or a write costs what comes before it and the page, not the whole address book
 * (which every first page walked until session 11: 25-30 ms of CPU at 100,000 cards,
 * 2.4 ms for the page at 0 now). A total asked for is the store's count of the
 * account's cards (kept on each write: one row read). The marks of the last state and
 * key asked for are kept per account. */

#define KEY_STEP 256

struct key_marks {
    int64_t modseq;
    int k;
    int64_t total;   /* -1 until counted or walked to the end */
    int64_t walked;  /* rows [0, walked) are marked */
    struct buf keys; /* mark i (the key of row i * KEY_STEP) at at[i], len[i] bytes */
    size_t *at, *len, n;
};

static void marks_free(struct key_marks *m)
{
    if (!m)
        return;
    buf_free(&m->keys);
    free(m->at);
    free(m->len);
    free(m);
}

static int mark_row(const char *id, const void *key, size_t len, void *ud)
{
    struct key_marks *m = ud;
    if (m->walked++ == (int64_t)m->n * KEY_STEP) {
        if (!(m->n & (m->n + 1))) { /* 0, 1, 3, 7, ...: room for twice as many */
            m->at = xrealloc(m->at, 2 * (m->n + 1) * sizeof *m->at);
            m->len = xrealloc(m->len, 2 * (m->n + 1) * sizeof *m->len);
        }
        m->at[m->n] = m->keys.len;
        m->len[m->n++] = len;
        buf_append(&m->keys, key, len);
    }
    return 0;
}

/* Marks of store key k at state, none walked yet: a new record. */
static struct key_marks *marks_new(int k, int64_t state)
{
    struct key_marks *m = xcalloc(1, sizeof *m);
    m->modseq = state;
    m->k = k;
    m->total = -1;
    return m;
}

/* Marks every row up to row upto, walking on from the last mark (or from the start);
 * a walk that ends before it knows the total. */
static int marks_extend(struct store_conn *c, const char *account, struct key_marks *m,
                        int64_t upto)
{
    if (upto < m->walked || (m->total >= 0 && m->walked >= m->total))
        return STORE_OK;
    int64_t from_row = m->n ? (int64_t)(m->n - 1) * KEY_STEP : 0;
    m->walked = from_row; /* the last mark's row again: it is not marked twice */
    int rc = store_grams_ordered(c, account, contact_card_type.name, m->k,
                                 m->n ? m->keys.data + m->at[m->n - 1] : NULL,
                                 m->n ? m->len[m->n - 1] : 0, 0, upto + 1 - from_row, mark_row, m);
    if (rc == STORE_OK && m->walked <= upto)
        m->total = m->walked;
    return rc;
}

static int collect_json(const char *id, const void *key, size_t len, void *ud)
{
    json_array_append_new(ud, json_string_nocheck(id)); /* checked JMAP Ids: ASCII */
    return 0;
}

/* The ids of rows [p, p + n) of store key k, from the mark at or before p (marked
 * first if need be); fewer at the end of the rows. */
static int marks_page(struct store_conn *c, const char *account, struct key_marks *m, int64_t p,
                      int64_t n, json_t *ids)
{
    size_t i = (size_t)(p / KEY_STEP);
    int rc = marks_extend(c, account, m, (int64_t)i * KEY_STEP);
    if (rc != STORE_OK || i >= m->n) /* at or past the end (or an empty index) */
        return rc;
    rc = store_grams_ordered(c, account, contact_card_type.name, m->k, m->keys.data + m->at[i],
                             m->len[i], p - (int64_t)i * KEY_STEP, n, collect_json, ids);
    if (rc == STORE_OK && (int64_t)json_array_size(ids) < n && (json_array_size(ids) || !p))
        m->total = p + (int64_t)json_array_size(ids); /* the page reached the end */
    return rc;
}

/* Answers from the index of store key k (store_order_of): 0, -1 after an error, 1 if
 * the general path should (a store error: it reports it). */
static int store_page_answer(struct jmap_req *r, const char *account, json_t *args, int k,
                             int64_t state)
{
    struct store_conn *c = jmap_req_conn(r);
    struct cindex *x = index_get(account);
    /* the account's marks, taken while in use (a concurrent query makes its own) */
    pthread_mutex_lock(&registry_lock);
    struct key_marks *m = x->marks;
    if (m && m->modseq == state && m->k == k)
        x->marks = NULL;
    else
        m = NULL;
    pthread_mutex_unlock(&registry_lock);
    if (!m)
        m = marks_new(k, state);
    int64_t p = json_integer_value(json_object_get(args, "position"));
    /* a small address book is walked whole: its total is known, and its ids are kept
     * for /queryChanges below */
    int rc = marks_extend(c, account, m, PAGE_SNAPSHOT_MAX);
    /* a total asked for and not walked: the account's cards, which the store counts on
     * each write (issue 21: every key was walked for it, 25 ms at 100,000 cards) */
    int64_t count = m->total;
    if (rc == STORE_OK && count < 0 &&
        (p < 0 || json_is_true(json_object_get(args, "calculateTotal")))) {
        count = store_object_count(c, account, contact_card_type.name);
        rc = count < 0 ? STORE_ERR : rc;
    }
    if (p < 0)
        p = count + p < 0 ? 0 : count + p;
    json_t *ids = json_array(), *all = NULL;
    if (rc == STORE_OK)
        rc = marks_page(c, account, m, p, page_limit(args), ids);
    /* unknown and not asked for: the window is what the page holds */
    int64_t total = m->total >= 0 ? m->total
                    : count >= 0  ? count
                                  : p + (int64_t)json_array_size(ids);
    if (rc == STORE_OK && m->total >= 0 && total <= PAGE_SNAPSHOT_MAX) {
        all = json_array();
        rc = marks_page(c, account, m, 0, total, all);
    }
    if (rc == STORE_OK && all)
        engine_snapshot_save(c, account, contact_card_type.name, args, state, all);
    json_decref(all);
    pthread_mutex_lock(&registry_lock); /* back, unless another's are newer */
    if (!x->marks || x->marks->modseq <= m->modseq) {
        struct key_marks *old = x->marks;
        x->marks = m;
        m = old;
    }
    pthread_mutex_unlock(&registry_lock);
    marks_free(m);
    if (rc != STORE_OK) {
        json_decref(ids);
        return 1;
    }
    store_rollback(c);
    rc = engine_query_respond_page(r, &contact_card_type, account, args, ids, p, total, state);
    json_decref(ids);
    return rc;
}

/* The account's index, shared, if it is current for the connection's transaction and
 * keeps the order whose canonical JSON is key; else NULL, and nothing is built. */
static struct cindex *index_if_kept(struct store_conn *c, const char *account, const char *key)
{
    struct cindex *x = index_get(account);
    pthread_rwlock_rdlock(&x->lock);
    int64_t cur;
    if (index_state(c, x, &cur) == 0 && kept_is(x, key))
        return x;
    pthread_rwlock_unlock(&x->lock);
    return NULL;
}

/* Answers from the index: 0, -1 after an error, 1 if the page path does not apply. A
 * sort the store keeps a key of is read from the key's index unless the index here
 * keeps its order already (issue 21: the first sorted query after a start sorted
 * every card's facets, 110 ms of CPU at 100,000 cards). */
static int page_answer(struct jmap_req *r, const char *account, json_t *args, json_t *sort,
                       int64_t state)
{
    struct store_conn *c = jmap_req_conn(r);
    json_t *copy = json_deep_copy(sort);
    struct sort_spec spec = spec_of(copy);
    int k = store_order_of(&spec);
    free(spec.c);
    json_decref(copy);
    struct cindex *x = NULL;
    if (k >= 0) {
        char *key = json_dumps(sort, JSON_COMPACT | JSON_SORT_KEYS);
        x = index_if_kept(c, account, key);
        free(key);
        if (!x)
            return store_page_answer(r, account, args, k, state);
    }
    if (!x)
        x = index_acquire(c, account, sort);
    if (!x)
        return 1;
    struct crec **order;
    bool kept = sorted_order(x, sort, &order) != NULL;
    int64_t total = (int64_t)x->n;
    int64_t p = json_integer_value(json_object_get(args, "position"));
    if (p < 0)
        p = total + p < 0 ? 0 : total + p;
    int64_t limit = page_limit(args);
    int64_t n = p >= total ? 0 : p + limit > total ? total - p : limit;
    json_t *ids = ids_of(order, (size_t)p, (size_t)n);
    if (x->n <= PAGE_SNAPSHOT_MAX) {
        json_t *all = ids_of(order, 0, x->n);
        engine_snapshot_save(c, account, contact_card_type.name, args, state, all);
        json_decref(all);
    }
    if (!kept)
        free(order);
    index_release(x);
    store_rollback(c);
    int rc = engine_query_respond_page(r, &contact_card_type, account, args, ids, p, total, state);
    json_decref(ids);
    return rc;
}

/* ---- a page of a text query from the store (issue 21) ---------------------------------------
 * An unsorted ContactCard/query of text conditions alone takes its hits in the
 * store's order (store.h) and, when the position counts from the start, stops at the
 * end of the page: the order of an unsorted query is the server's, stable between
 * calls (RFC 8620 §5.5), and nothing else in the response needs the hits after the
 * page but calculateTotal's total, which the store counts (store_grams_count_hits). One hit more
 * than the page is read, to tell a result that ends within it: that one is known whole and kept for
 * /queryChanges (up to PAGE_SNAPSHOT_MAX ids); the /queryChanges of a longer one answers from the
 * change log (§5.6 allows the extra removals), as the sorted pages' do. */

/* Answers text filter f from the store: 0, -1 after an error, 1 if the general path
 * should (a store error: it reports it). */
static int text_answer(struct jmap_req *r, const char *account, json_t *args, const struct cnode *f,
                       int64_t state)
{
    struct store_conn *c = jmap_req_conn(r);
    int64_t p = json_integer_value(json_object_get(args, "position"));
    int64_t limit = page_limit(args);
    size_t max = SIZE_MAX; /* every hit: a position from the end */
    if (p >= 0)
        max = (size_t)(p + limit) + 1;
    struct hits h;
    if (store_hits(c, account, f, max, &h) != STORE_OK) {
        hits_free(&h);
        return 1;
    }
    bool whole = h.n < max; /* else the search stopped at max */
    int64_t total = (int64_t)h.n;
    /* a total beyond the hits read: counted by the store (issue 21: reading every hit
     * cost ~2,600 instructions each) */
    if (!whole && json_is_true(json_object_get(args, "calculateTotal"))) {
        struct store_gram_term *t = NULL;
        size_t nt = 0;
        all_terms(f, &t, &nt);
        total = store_grams_count_hits(c, account, contact_card_type.name, t, nt);
        free(t);
        if (total < (int64_t)h.n) { /* a store error (the count sees what the search saw) */
            hits_free(&h);
            return 1;
        }
    }
    if (p < 0)
        p = total + p < 0 ? 0 : total + p;
    int64_t n = p >= total ? 0 : p + limit > total ? total - p : limit;
    json_t *ids = hits_ids(&h, (size_t)p, (size_t)n);
    if (whole && h.n <= PAGE_SNAPSHOT_MAX) {
        json_t *all = hits_ids(&h, 0, h.n);
        engine_snapshot_save(c, account, contact_card_type.name, args, state, all);
        json_decref(all);
    }
    hits_free(&h);
    store_rollback(c);
    /* a search that stopped: the window lies within the hits, the total was counted */
    int rc = engine_query_respond_page(r, &contact_card_type, account, args, ids, p, total, state);
    json_decref(ids);
    return rc;
}

/* The text filter of a query the store answers alone (compiled), or NULL. */
static struct cnode *text_only(struct jmap_req *r, json_t *filter)
{
    if (metadata_filter_uses(r, &contact_card_type, filter))
        return NULL; /* metadata-02 §3.5: the engine's */
    struct cnode *f = compile(filter);
    if (store_only(f))
        return f;
    cnode_free(f);
    return NULL;
}

int contact_query_page(struct jmap_req *r, json_t *args)
{
    json_t *filter = json_object_get(args, "filter"), *sort = json_object_get(args, "sort");
    json_t *anchor = json_object_get(args, "anchor");
    bool filtered = filter && !json_is_null(filter);
    bool sorted = json_is_array(sort) && json_array_size(sort);
    /* sorted and unfiltered (the kept order), or filtered and unsorted (the store) */
    if ((anchor && !json_is_null(anchor)) || filtered == sorted)
        return 1;
    const struct store_access *a = jmap_method_begin(
        r, args, engine_query_args, contact_card_type.query_args, "accountId", JMAP_BEGIN_NO_TXN);
    if (!a)
        return -1;
    /* one reached through shares of some books only (issue 14): the general path */
    if (a->shared)
        return 1;
    if (sorted ? engine_sort_check(r, &contact_card_type, sort)
               : engine_filter_check(r, &contact_card_type, filter, 0))
        return -1;
    struct cnode *f = filtered ? text_only(r, filter) : NULL;
    if (filtered && !f)
        return 1;
    if (jmap_txn_begin(r, false)) {
        cnode_free(f);
        return -1;
    }
    store_snapshot_gate(jmap_req_conn(r), a->account_id); /* store.h: the snapshot's cost */
    int64_t state = jmap_type_state(r, &contact_card_type, a->account_id);
    int rc = f ? text_answer(r, a->account_id, args, f, state)
               : page_answer(r, a->account_id, args, sort, state);
    cnode_free(f);
    if (rc == 1)
        store_rollback(jmap_req_conn(r));
    return rc;
}

json_t *contact_query_run(struct jmap_req *r, const char *account, json_t *filter, json_t *sort)
{
    struct store_conn *conn = jmap_req_conn(r);
    struct cnode *f = filter ? compile(filter) : NULL;
    if (f && !json_array_size(sort) && store_only(f)) {
        json_t *ids = store_query(conn, account, f);
        cnode_free(f);
        return ids; /* NULL: the engine's own path answers (or reports the store error) */
    }
    bool sorted = json_array_size(sort) > 0;
    struct cindex *x = index_acquire(conn, account, sorted ? sort : NULL);
    if (!x) {
        cnode_free(f);
        return NULL;
    }
    struct crec **hits = xmalloc((x->n + 1) * sizeof *hits);
    unsigned char *bits = xmalloc(x->n + 1);
    memset(bits, 1, x->n);
    if (f && eval(conn, x, f, bits)) {
        index_release(x);
        cnode_free(f);
        free(hits);
        free(bits);
        return NULL;
    }
    size_t n = 0;
    if (sorted) { /* the hits in the sort's order */
        struct crec **order;
        bool kept = sorted_order(x, sort, &order) != NULL;
        for (size_t k = 0; k < x->n; k++)
            if (bits[order[k]->pos])
                hits[n++] = order[k];
        if (!kept)
            free(order);
    } else { /* in id order already */
        for (size_t k = 0; k < x->n; k++)
            if (bits[k])
                hits[n++] = x->recs[k];
    }
    free(bits);
    json_t *ids = json_array();
    for (size_t k = 0; k < n; k++) /* ids are checked JMAP Ids: ASCII */
        json_array_append_new(ids, json_string_nocheck(hits[k]->id));
    index_release(x);
    free(hits);
    cnode_free(f);
    return ids;
}
