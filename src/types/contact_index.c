/*
 * contact_index.c — ContactCard filtering (RFC 9610 §3.3.1), sorting (§3.3.2)
 * and the per-account in-memory index that lets ContactCard/query and the uid
 * uniqueness check (§3) run without parsing every stored card.
 *
 * The index holds, per account, each live card with its search texts already
 * case-folded (i;unicode-casemap, RFC 5051) and its sort keys. It is valid for
 * one ContactCard modseq: a caller brings it up to its transaction's state by
 * applying the change log since then (a few rows after a write), or rebuilds it
 * when that is not possible (first use, tombstones pruned, a state behind the
 * index after a rolled-back write). A reader whose snapshot is older than the
 * index lets the engine answer from the store instead. One mutex per account
 * guards it; filtering 10,000 cards takes about a millisecond, so queries simply
 * hold it. Known limit: a write whose commit fails, followed by a different write
 * reaching the same modseq before any card is validated, leaves the index stale
 * until the next write.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "jmap/collation.h"
#include "types/contacts_internal.h"
#include "util/util.h"

/* ---- records: one card's searchable and sortable values ------------------------------- */

/* The String conditions of §3.3.1, each searching its own text. */
enum field {
    F_TEXT, F_NAME, F_GIVEN, F_SURNAME, F_SURNAME2, F_NICKNAME, F_ORG,
    F_EMAIL, F_PHONE, F_ONLINE, F_ADDRESS, F_NOTE, NFIELDS
};
static const char *const field_names[NFIELDS] = {
    "text", "name", "name/given", "name/surname", "name/surname2", "nickname", "organization",
    "email", "phone", "onlineService", "address", "note",
};
/* §3.3.2 sorts over name components */
enum { S_GIVEN, S_SURNAME, S_SURNAME2, NSORTS };
static const char *const sort_kinds[NSORTS] = {"given", "surname", "surname2"};

/* Issue 21: a record keeps what filters and sorts read, not the card (whose parsed
 * form was most of the 1.19 GB a 100,000-card account held). */
struct crec {
    char *id;
    char *uid, *kind;            /* NULL when absent */
    json_t *books, *members;     /* the card's addressBookIds and members, or NULL */
    char *text[NFIELDS];         /* case-folded, values separated by '\n' */
    char *sort[NSORTS];          /* first component of the kind (copied), or NULL */
    char *sortkey[NSORTS];       /* its case-folded key, or NULL */
    int64_t created, updated;    /* milliseconds since the epoch */
    bool has_created, has_updated;
};

/* UTCDateTime (RFC 8620 §1.4) to milliseconds, keeping up to 3 fraction digits. */
static bool utc_ms(json_t *v, int64_t *out)
{
    const char *s = json_string_value(v);
    int64_t t;
    if (!s || util_utc_parse(s, &t))
        return false;
    int64_t ms = 0;
    const char *dot = strchr(s, '.');
    int d = 0;
    if (dot)
        for (const char *p = dot + 1; isdigit((unsigned char)*p) && d < 3; p++, d++)
            ms = ms * 10 + (*p - '0');
    for (; d < 3; d++)
        ms *= 10;
    *out = t * 1000 + ms;
    return true;
}

/* Appends s with whitespace runs collapsed to one space (so phrases match however
 * the value was spaced), after sep if the buffer is not empty. */
static void add_value(struct buf *b, json_t *v, char sep)
{
    const char *s = json_string_value(v);
    if (!s || !*s)
        return;
    if (b->len)
        buf_append(b, &sep, 1);
    bool space = false;
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            space = b->len > 0;
            continue;
        }
        if (space)
            buf_append(b, " ", 1);
        space = false;
        buf_append(b, s, 1);
    }
}

/* Adds member `key` of every entry of the Id map obj[map] to b. */
static void add_map(struct buf *b, json_t *card, const char *map, const char *const *keys)
{
    const char *id;
    json_t *e;
    json_object_foreach(json_object_get(card, map), id, e)
    {
        for (const char *const *k = keys; *k; k++)
            add_value(b, json_object_get(e, *k), '\n');
    }
}

/* The i;unicode-casemap key of s (RFC 5051). For ASCII text, which most
 * contact data is, that is just lower case, without the round trip through ICU. */
static char *casemap(const char *s)
{
    const char *p = s;
    while (*p && (unsigned char)*p < 0x80)
        p++;
    if (*p)
        return collation_casemap_key(s);
    char *key = xstrdup(s);
    for (char *q = key; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    return key;
}

static char *fold(struct buf *b)
{
    char *raw = buf_take(b);
    char *key = casemap(raw ? raw : "");
    free(raw);
    return key;
}

static struct crec *rec_new(const char *id, json_t *card)
{
    struct crec *r = xcalloc(1, sizeof *r);
    r->id = xstrdup(id);
    const char *uid = json_string_value(json_object_get(card, "uid"));
    const char *ckind = json_string_value(json_object_get(card, "kind"));
    r->uid = uid ? xstrdup(uid) : NULL;
    r->kind = ckind ? xstrdup(ckind) : NULL;
    r->books = json_incref(json_object_get(card, "addressBookIds")); /* outlives card */
    r->members = json_incref(json_object_get(card, "members"));
    struct buf b[NFIELDS] = {{0}};
    json_t *name = json_object_get(card, "name"), *comp;
    size_t i;
    /* §3.3.1 name: any NameComponent value or the full name */
    add_value(&b[F_NAME], json_object_get(name, "full"), '\n');
    struct buf comps = {0};
    json_array_foreach(json_object_get(name, "components"), i, comp)
    {
        const char *kind = json_string_value(json_object_get(comp, "kind"));
        json_t *value = json_object_get(comp, "value");
        if (!kind || !json_is_string(value) || strcmp(kind, "separator") == 0)
            continue;
        add_value(&comps, value, ' ');
        for (int k = 0; k < NSORTS; k++) {
            if (strcmp(kind, sort_kinds[k]))
                continue;
            add_value(&b[F_GIVEN + k], value, '\n');
            if (!r->sort[k])
                r->sort[k] = xstrdup(json_string_value(value));
        }
    }
    if (comps.len) {
        buf_append(&b[F_NAME], "\n", b[F_NAME].len ? 1 : 0);
        buf_append(&b[F_NAME], comps.data, comps.len);
    }
    buf_free(&comps);
    static const char *const k_name[] = {"name", NULL}, *const k_email[] = {"address", "label", NULL},
                             *const k_phone[] = {"number", "label", NULL},
                             *const k_online[] = {"service", "uri", "user", "label", NULL},
                             *const k_note[] = {"note", NULL}, *const k_full[] = {"full", NULL},
                             *const k_value[] = {"value", NULL};
    add_map(&b[F_NICKNAME], card, "nicknames", k_name);
    add_map(&b[F_ORG], card, "organizations", k_name);
    add_map(&b[F_EMAIL], card, "emails", k_email);
    add_map(&b[F_PHONE], card, "phones", k_phone);
    add_map(&b[F_ONLINE], card, "onlineServices", k_online);
    add_map(&b[F_ADDRESS], card, "addresses", k_full);
    const char *aid;
    json_t *addr;
    json_object_foreach(json_object_get(card, "addresses"), aid, addr)
    {
        json_array_foreach(json_object_get(addr, "components"), i, comp)
        {
            if (strcmp(json_string_value(json_object_get(comp, "kind")) ?: "", "separator"))
                add_value(&b[F_ADDRESS], json_object_get(comp, "value"), '\n');
        }
    }
    add_map(&b[F_NOTE], card, "notes", k_note);
    /* text: everything above, and titles, organization units, personal info, keywords */
    for (int f = F_NAME; f < NFIELDS; f++)
        if (b[f].len) {
            buf_append(&b[F_TEXT], "\n", b[F_TEXT].len ? 1 : 0);
            buf_append(&b[F_TEXT], b[f].data, b[f].len);
        }
    add_map(&b[F_TEXT], card, "titles", k_name);
    add_map(&b[F_TEXT], card, "personalInfo", k_value);
    json_t *org;
    json_object_foreach(json_object_get(card, "organizations"), aid, org)
    {
        json_array_foreach(json_object_get(org, "units"), i, comp)
        {
            add_value(&b[F_TEXT], json_object_get(comp, "name"), '\n');
        }
    }
    const char *kw;
    json_t *t;
    json_object_foreach(json_object_get(card, "keywords"), kw, t)
    {
        json_t *s = json_string(kw);
        add_value(&b[F_TEXT], s, '\n');
        json_decref(s);
    }
    for (int f = 0; f < NFIELDS; f++)
        r->text[f] = fold(&b[f]);
    for (int k = 0; k < NSORTS; k++)
        r->sortkey[k] = r->sort[k] ? casemap(r->sort[k]) : NULL;
    r->has_created = utc_ms(json_object_get(card, "created"), &r->created);
    r->has_updated = utc_ms(json_object_get(card, "updated"), &r->updated);
    return r;
}

static void rec_free(struct crec *r)
{
    if (!r)
        return;
    for (int f = 0; f < NFIELDS; f++)
        free(r->text[f]);
    for (int k = 0; k < NSORTS; k++) {
        free(r->sortkey[k]);
        free(r->sort[k]);
    }
    json_decref(r->books);
    json_decref(r->members);
    free(r->uid);
    free(r->kind);
    free(r->id);
    free(r);
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

static bool leaf_match(const struct cnode *n, const struct crec *r)
{
    if (n->key < NFIELDS) {
        const char *text = r->text[n->key];
        for (size_t i = 0; i < n->nterms; i++)
            if (!strstr(text, n->terms[i]))
                return false;
        /* an empty search matches any card with a value there */
        return n->nterms || *text;
    }
    switch (n->key) {
    case K_IN_BOOK:
        return json_is_true(json_object_get(r->books, n->str));
    case K_UID:
        return r->uid && strcmp(r->uid, n->str) == 0;
    case K_HAS_MEMBER:
        return json_is_true(json_object_get(r->members, n->str));
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
    struct crec *rec = rec_new("", obj);
    struct cnode *n = leaf_new(key, value);
    bool m = leaf_match(n, rec);
    cnode_free(n);
    rec_free(rec);
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
    struct crec *ra = rec_new("", a), *rb = rec_new("", b);
    struct comparator c = {p, false, NULL};
    int d = compare_on(&c, ra, rb);
    rec_free(ra);
    rec_free(rb);
    return d;
}

/* ---- the per-account index ------------------------------------------------------------------ */

/* One search field of every card, in record order, as one buffer of NUL-separated
 * texts: a term is looked for with one memmem over the buffer instead of one
 * strstr per card (RFC 9610 §3.3.1 text conditions). Built on first use after a
 * change. */
struct fieldbuf {
    char *text;
    size_t len;
    size_t *offs; /* offs[i]: start of record i's text; offs[n] = len */
    bool valid;
};

struct cindex {
    char account[64];
    struct fieldbuf fields[NFIELDS];
    pthread_mutex_t lock;
    bool built;
    bool in_id_order; /* recs sorted by id (the order of an unsorted query) */
    int64_t modseq;
    int stale_reads; /* readers in a row that found the index ahead of them */
    struct crec **recs;
    size_t n, cap;
    json_t *pos;  /* id -> index in recs */
    json_t *uids; /* uid -> id */
    /* issue 21: the order of the last sort asked for (indexes into recs), kept
     * until the next change, so that paging a sorted query does not sort again */
    char *sorted_by; /* the sort's canonical JSON, or NULL */
    size_t *sorted;
    /* the ids in that order when no filter applies, made on first use: a query pages
     * through a copy (a reference per id) instead of making 100,000 strings */
    json_t *sorted_ids;
    struct cindex *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cindex *registry;

/* After any change: the id order and the field buffers must be made again. */
static void index_dirty(struct cindex *x)
{
    x->in_id_order = false;
    free(x->sorted_by);
    free(x->sorted);
    x->sorted_by = NULL;
    x->sorted = NULL;
    json_decref(x->sorted_ids);
    x->sorted_ids = NULL;
    for (int f = 0; f < NFIELDS; f++)
        x->fields[f].valid = false;
}

static void index_remove(struct cindex *x, const char *id)
{
    json_t *p = json_object_get(x->pos, id);
    if (!p)
        return;
    size_t i = (size_t)json_integer_value(p);
    struct crec *r = x->recs[i];
    const char *owner = r->uid ? json_string_value(json_object_get(x->uids, r->uid)) : NULL;
    if (owner && strcmp(owner, r->id) == 0)
        json_object_del(x->uids, r->uid);
    json_object_del(x->pos, id);
    if (i != x->n - 1) {
        x->recs[i] = x->recs[x->n - 1];
        json_object_set_new(x->pos, x->recs[i]->id, json_integer((json_int_t)i));
    }
    x->n--;
    index_dirty(x);
    rec_free(r);
}

static void index_add(struct cindex *x, const char *id, json_t *card)
{
    index_remove(x, id);
    if (x->n == x->cap)
        x->recs = xrealloc(x->recs, (x->cap = x->cap ? x->cap * 2 : 256) * sizeof *x->recs);
    x->recs[x->n] = rec_new(id, card);
    json_object_set_new(x->pos, id, json_integer((json_int_t)x->n));
    const char *uid = json_string_value(json_object_get(card, "uid"));
    if (uid)
        json_object_set_new(x->uids, uid, json_string(id));
    x->n++;
    index_dirty(x);
}

static void index_clear(struct cindex *x)
{
    for (size_t i = 0; i < x->n; i++)
        rec_free(x->recs[i]);
    x->n = 0;
    json_object_clear(x->pos);
    json_object_clear(x->uids);
    x->built = false;
    index_dirty(x);
}

static int rebuild_cb(const char *id, json_t *obj, void *ud)
{
    index_add(ud, id, obj);
    return 0;
}

static int changed_cb(const char *id, int64_t created, int64_t updated, bool destroyed, void *ud)
{
    json_object_set_new(ud, id, json_boolean(destroyed));
    return 0;
}

/* Brings x to the state the connection's transaction sees: 0, or 1 if a reader
 * should rather not use it, or -1 on a store error. */
static int index_refresh(struct store_conn *c, struct cindex *x, bool reader)
{
    const char *type = contact_card_type.name;
    int64_t cur = store_state_get(c, x->account, type);
    if (x->built && cur == x->modseq)
        return 0;
    /* A reader whose snapshot predates a write the index already holds: answering
     * from the store is cheaper than rebuilding the index backwards, unless that
     * keeps happening (then the index is what is wrong: a rolled-back write). */
    if (reader && x->built && cur < x->modseq && ++x->stale_reads < 16)
        return 1;
    x->stale_reads = 0;
    if (!x->built || cur < x->modseq || x->modseq < store_state_lowest(c, x->account, type)) {
        index_clear(x);
        if (store_object_foreach(c, x->account, type, rebuild_cb, x) != STORE_OK) {
            index_clear(x);
            return -1;
        }
    } else {
        json_t *changed = json_object();
        if (store_changes(c, x->account, type, x->modseq, 0, changed_cb, changed) != STORE_OK) {
            json_decref(changed);
            index_clear(x);
            return -1;
        }
        const char *id;
        json_t *gone;
        json_object_foreach(changed, id, gone)
        {
            json_t *obj = json_is_true(gone) ? NULL : store_object_get(c, x->account, type, id);
            if (obj)
                index_add(x, id, obj);
            else
                index_remove(x, id);
            json_decref(obj);
        }
        json_decref(changed);
    }
    x->built = true;
    x->modseq = cur;
    return 0;
}

/* The account's index, locked and current; NULL on a store error (or for a
 * reader that should use the store instead). */
static struct cindex *index_acquire(struct store_conn *c, const char *account, bool reader)
{
    pthread_mutex_lock(&registry_lock);
    struct cindex *x = registry;
    while (x && strcmp(x->account, account))
        x = x->next;
    if (!x) {
        x = xcalloc(1, sizeof *x);
        snprintf(x->account, sizeof x->account, "%s", account);
        pthread_mutex_init(&x->lock, NULL);
        x->pos = json_object();
        x->uids = json_object();
        x->next = registry;
        registry = x;
    }
    pthread_mutex_unlock(&registry_lock);
    pthread_mutex_lock(&x->lock);
    if (index_refresh(c, x, reader)) {
        pthread_mutex_unlock(&x->lock);
        return NULL;
    }
    return x;
}

static void index_release(struct cindex *x)
{
    pthread_mutex_unlock(&x->lock);
}

char *contact_index_find_uid(struct store_conn *c, const char *account, const char *uid,
                             const char *self_id)
{
    struct cindex *x = index_acquire(c, account, false);
    if (!x)
        return NULL;
    const char *id = json_string_value(json_object_get(x->uids, uid));
    char *out = id && (!self_id || strcmp(id, self_id)) ? xstrdup(id) : NULL;
    index_release(x);
    return out;
}

static int compare_ids(const void *pa, const void *pb)
{
    return strcmp((*(struct crec *const *)pa)->id, (*(struct crec *const *)pb)->id);
}

/* Sorts the records by id once after changes, so that queries without a sort (and
 * ties) need no sorting of their own. */
static void index_order(struct cindex *x)
{
    if (x->in_id_order)
        return;
    if (x->n > 1) /* recs is NULL while the account has no card */
        qsort(x->recs, x->n, sizeof *x->recs, compare_ids);
    for (size_t i = 0; i < x->n; i++)
        json_object_set_new(x->pos, x->recs[i]->id, json_integer((json_int_t)i));
    x->in_id_order = true;
}

static struct fieldbuf *field_buf(struct cindex *x, int f)
{
    struct fieldbuf *b = &x->fields[f];
    if (b->valid)
        return b;
    size_t len = 0;
    for (size_t i = 0; i < x->n; i++)
        len += strlen(x->recs[i]->text[f]) + 1;
    b->text = xrealloc(b->text, len + 1);
    b->offs = xrealloc(b->offs, (x->n + 1) * sizeof *b->offs);
    size_t o = 0;
    for (size_t i = 0; i < x->n; i++) {
        size_t l = strlen(x->recs[i]->text[f]);
        b->offs[i] = o;
        memcpy(b->text + o, x->recs[i]->text[f], l + 1);
        o += l + 1;
    }
    b->offs[x->n] = o;
    b->len = o;
    b->valid = true;
    return b;
}

/* out[i] = 1 for each record whose field text holds every term of leaf n. */
static void text_bits(struct cindex *x, const struct cnode *n, unsigned char *out)
{
    struct fieldbuf *b = field_buf(x, n->key);
    unsigned char *hit = xmalloc(x->n + 1);
    memset(out, 1, x->n);
    for (size_t t = 0; t < n->nterms; t++) {
        const char *term = n->terms[t], *p = b->text, *end = b->text + b->len, *q;
        size_t tl = strlen(term);
        memset(hit, 0, x->n);
        /* texts are NUL-separated and terms hold no NUL: no match spans two cards */
        while (p < end && (q = memmem(p, (size_t)(end - p), term, tl))) {
            size_t off = (size_t)(q - b->text), lo = 0, hi = x->n;
            while (hi - lo > 1) { /* the record whose text holds off */
                size_t mid = lo + (hi - lo) / 2;
                if (b->offs[mid] <= off)
                    lo = mid;
                else
                    hi = mid;
            }
            hit[lo] = 1;
            p = b->text + b->offs[lo + 1];
        }
        for (size_t i = 0; i < x->n; i++)
            out[i] &= hit[i];
    }
    free(hit);
}

/* Evaluates a compiled filter over every record at once: out[i] is 1 or 0. */
static void eval(struct cindex *x, const struct cnode *n, unsigned char *out)
{
    if (n->op == OP_LEAF) {
        if (n->key < NFIELDS && n->nterms) {
            text_bits(x, n, out);
            return;
        }
        for (size_t i = 0; i < x->n; i++)
            out[i] = leaf_match(n, x->recs[i]);
        return;
    }
    bool all = n->op == OP_AND;
    unsigned char *kid = xmalloc(x->n + 1);
    memset(out, all, x->n);
    for (size_t k = 0; k < n->nkids; k++) {
        eval(x, n->kids[k], kid);
        for (size_t i = 0; i < x->n; i++)
            out[i] = all ? (out[i] & kid[i]) : (out[i] | kid[i]);
    }
    if (n->op == OP_NOT) /* none of the conditions */
        for (size_t i = 0; i < x->n; i++)
            out[i] = !out[i];
    free(kid);
}

static int compare_idx(const void *pa, const void *pb, void *ud)
{
    struct crec *const *recs = ((void **)ud)[0];
    const struct crec *a = recs[*(const size_t *)pa], *b = recs[*(const size_t *)pb];
    return compare_recs(&a, &b, ((void **)ud)[1]);
}

/* The indexes of x->recs in the order of spec (sort is its JSON), sorted once after
 * each change. Call with x in id order. */
static const size_t *sorted_order(struct cindex *x, json_t *sort, struct sort_spec *spec)
{
    char *key = json_dumps(sort, JSON_COMPACT | JSON_SORT_KEYS);
    if (x->sorted && key && strcmp(key, x->sorted_by) == 0) {
        free(key);
        return x->sorted;
    }
    free(x->sorted_by);
    free(x->sorted);
    json_decref(x->sorted_ids);
    x->sorted_ids = NULL;
    x->sorted_by = key;
    x->sorted = xmalloc((x->n + 1) * sizeof *x->sorted);
    for (size_t i = 0; i < x->n; i++)
        x->sorted[i] = i;
    void *ud[2] = {x->recs, spec};
    if (x->n > 1)
        qsort_r(x->sorted, x->n, sizeof *x->sorted, compare_idx, ud);
    if (!key) { /* not kept */
        const size_t *out = x->sorted;
        x->sorted = NULL;
        return out; /* the caller frees it: see contact_query_run */
    }
    return x->sorted;
}

json_t *contact_query_run(struct jmap_req *r, const char *account, json_t *filter, json_t *sort)
{
    struct cindex *x = index_acquire(jmap_req_conn(r), account, true);
    if (!x)
        return NULL; /* the engine's own path answers (or reports the store error) */
    index_order(x);
    struct cnode *f = filter ? compile(filter) : NULL;
    struct crec **hits = xmalloc((x->n + 1) * sizeof *hits);
    unsigned char *bits = xmalloc(x->n + 1);
    memset(bits, 1, x->n);
    if (f)
        eval(x, f, bits);
    size_t n = 0;
    struct sort_spec spec = {xcalloc(json_array_size(sort) + 1, sizeof *spec.c), 0};
    size_t i;
    json_t *c;
    json_array_foreach(sort, i, c)
    {
        const char *coll = json_string_value(json_object_get(c, "collation"));
        spec.c[spec.n++] = (struct comparator){
            sort_prop(json_string_value(json_object_get(c, "property"))),
            json_is_false(json_object_get(c, "isAscending")),
            coll && strcmp(coll, "i;unicode-casemap") ? coll : NULL};
    }
    if (spec.n && !f) { /* every card, in the kept order: a copy of its ids */
        const size_t *order = sorted_order(x, sort, &spec);
        json_t *ids = NULL;
        if (order == x->sorted) {
            if (!x->sorted_ids) {
                x->sorted_ids = json_array();
                for (size_t k = 0; k < x->n; k++)
                    json_array_append_new(x->sorted_ids,
                                          json_string_nocheck(x->recs[order[k]]->id));
            }
            ids = json_copy(x->sorted_ids);
        } else {
            ids = json_array();
            for (size_t k = 0; k < x->n; k++)
                json_array_append_new(ids, json_string_nocheck(x->recs[order[k]]->id));
            free((void *)order);
        }
        index_release(x);
        free(spec.c);
        free(hits);
        free(bits);
        return ids;
    }
    if (spec.n) { /* the hits in the sort's order */
        const size_t *order = sorted_order(x, sort, &spec);
        for (size_t k = 0; k < x->n; k++)
            if (bits[order[k]])
                hits[n++] = x->recs[order[k]];
        if (order != x->sorted)
            free((void *)order);
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
    free(spec.c);
    free(hits);
    cnode_free(f);
    return ids;
}
