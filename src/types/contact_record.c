/*
 * contact_record.c — what a ContactCard gives its account's indexes (issue 21): its
 * search texts, case-folded (i;unicode-casemap, RFC 5051), for the store's
 * substring search (store.h "substring search": the store owns text search), and
 * its facets, the few values ContactCard/query filters and sorts on besides text
 * (RFC 9610 §3.3.1, §3.3.2), as one short text stored beside them. The in-memory
 * index (contact_index.c) is built from the facets, never by parsing every card.
 * Also the type's index hook that writes both, and the backfill of accounts whose
 * cards were stored before there was a row for them.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "jmap/collation.h"
#include "types/contacts_internal.h"
#include "types/subscription.h"
#include "util/util.h"

static const char *const sort_kinds[CONTACT_NSORTS] = {"given", "surname", "surname2"};

/* ---- texts ---------------------------------------------------------------------------- */

bool contact_utc_ms(json_t *v, int64_t *out)
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

char *contact_casemap(const char *s)
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

char *contact_fold(struct buf *b)
{
    char *raw = buf_take(b);
    char *key = contact_casemap(raw ? raw : "");
    free(raw);
    return key;
}

/* §3.3.1 name: any NameComponent value or the full name; the components of the
 * kinds a sort reads into their own fields. */
static void name_texts(json_t *card, struct buf b[CONTACT_NFIELDS])
{
    json_t *name = json_object_get(card, "name"), *comp;
    size_t i;
    add_value(&b[CF_NAME], json_object_get(name, "full"), '\n');
    struct buf comps = {0};
    json_array_foreach(json_object_get(name, "components"), i, comp)
    {
        const char *kind = json_string_value(json_object_get(comp, "kind"));
        json_t *value = json_object_get(comp, "value");
        if (!kind || !json_is_string(value) || strcmp(kind, "separator") == 0)
            continue;
        add_value(&comps, value, ' ');
        for (int k = 0; k < CONTACT_NSORTS; k++)
            if (strcmp(kind, sort_kinds[k]) == 0)
                add_value(&b[CF_GIVEN + k], value, '\n');
    }
    if (comps.len) {
        buf_append(&b[CF_NAME], "\n", b[CF_NAME].len ? 1 : 0);
        buf_append(&b[CF_NAME], comps.data, comps.len);
    }
    buf_free(&comps);
}

void contact_texts(json_t *card, char *text[CONTACT_NFIELDS], bool stored)
{
    struct buf b[CONTACT_NFIELDS] = {{0}}, extra = {0};
    name_texts(card, b);
    static const char *const k_name[] = {"name", NULL},
                             *const k_email[] = {"address", "label", NULL},
                             *const k_phone[] = {"number", "label", NULL},
                             *const k_online[] = {"service", "uri", "user", "label", NULL},
                             *const k_note[] = {"note", NULL}, *const k_full[] = {"full", NULL},
                             *const k_value[] = {"value", NULL};
    add_map(&b[CF_NICKNAME], card, "nicknames", k_name);
    add_map(&b[CF_ORG], card, "organizations", k_name);
    add_map(&b[CF_EMAIL], card, "emails", k_email);
    add_map(&b[CF_PHONE], card, "phones", k_phone);
    add_map(&b[CF_ONLINE], card, "onlineServices", k_online);
    add_map(&b[CF_ADDRESS], card, "addresses", k_full);
    const char *aid;
    json_t *addr, *comp;
    size_t i;
    json_object_foreach(json_object_get(card, "addresses"), aid, addr)
    {
        json_array_foreach(json_object_get(addr, "components"), i, comp)
        {
            if (strcmp(json_string_value(json_object_get(comp, "kind")) ?: "", "separator"))
                add_value(&b[CF_ADDRESS], json_object_get(comp, "value"), '\n');
        }
    }
    add_map(&b[CF_NOTE], card, "notes", k_note);
    /* text: everything above, and titles, organization units, personal info, keywords */
    add_map(&extra, card, "titles", k_name);
    add_map(&extra, card, "personalInfo", k_value);
    json_t *org;
    json_object_foreach(json_object_get(card, "organizations"), aid, org)
    {
        json_array_foreach(json_object_get(org, "units"), i, comp)
        {
            add_value(&extra, json_object_get(comp, "name"), '\n');
        }
    }
    const char *kw;
    json_t *t;
    json_object_foreach(json_object_get(card, "keywords"), kw, t)
    {
        json_t *s = json_string(kw);
        add_value(&extra, s, '\n');
        json_decref(s);
    }
    if (stored) { /* the store's last field: the texts no other field has */
        buf_free(&b[CF_TEXT]);
        b[CF_TEXT] = extra;
        extra = (struct buf){0};
    } else {
        for (int f = CF_NAME; f < CONTACT_NFIELDS; f++)
            if (b[f].len) {
                buf_append(&b[CF_TEXT], "\n", b[CF_TEXT].len ? 1 : 0);
                buf_append(&b[CF_TEXT], b[f].data, b[f].len);
            }
        if (extra.len) {
            buf_append(&b[CF_TEXT], "\n", b[CF_TEXT].len ? 1 : 0);
            buf_append(&b[CF_TEXT], extra.data, extra.len);
        }
    }
    for (int f = 0; f < CONTACT_NFIELDS; f++)
        text[f] = contact_fold(&b[f]);
    buf_free(&extra);
}

/* ---- facets ---------------------------------------------------------------------------------
 * A sequence of values, each "-" (absent) or "<length>:<bytes>"; a list is its count
 * as such a value, then its items. In order: uid, kind, created, updated (milliseconds,
 * decimal), the first given, surname and surname2 components and their casemap keys,
 * the address books (addressBookIds set to true), the members (members set to true). */

static void put_value(struct buf *b, const char *s)
{
    if (!s)
        buf_puts(b, "-");
    else
        buf_printf(b, "%zu:%s", strlen(s), s);
}

static void put_set(struct buf *b, json_t *set)
{
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(set, k, v) n += json_is_true(v);
    char num[24];
    snprintf(num, sizeof num, "%zu", n);
    put_value(b, num);
    json_object_foreach(set, k, v)
    {
        if (json_is_true(v))
            put_value(b, k);
    }
}

char *contact_facets(json_t *card)
{
    struct buf b = {0};
    put_value(&b, json_string_value(json_object_get(card, "uid")));
    put_value(&b, json_string_value(json_object_get(card, "kind")));
    static const char *const dates[] = {"created", "updated"};
    for (int i = 0; i < 2; i++) {
        int64_t ms;
        char num[24];
        bool has = contact_utc_ms(json_object_get(card, dates[i]), &ms);
        if (has)
            snprintf(num, sizeof num, "%" PRId64, ms);
        put_value(&b, has ? num : NULL);
    }
    const char *sort[CONTACT_NSORTS] = {NULL};
    json_t *comp;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(card, "name"), "components"), i, comp)
    {
        const char *kind = json_string_value(json_object_get(comp, "kind"));
        const char *value = json_string_value(json_object_get(comp, "value"));
        for (int k = 0; kind && value && k < CONTACT_NSORTS; k++)
            if (!sort[k] && strcmp(kind, sort_kinds[k]) == 0)
                sort[k] = value;
    }
    for (int k = 0; k < CONTACT_NSORTS; k++)
        put_value(&b, sort[k]);
    for (int k = 0; k < CONTACT_NSORTS; k++) {
        char *key = sort[k] ? contact_casemap(sort[k]) : NULL;
        put_value(&b, key);
        free(key);
    }
    put_set(&b, json_object_get(card, "addressBookIds"));
    put_set(&b, json_object_get(card, "members"));
    return buf_take(&b);
}

struct cursor {
    const char *p, *end;
};

/* The next value (its bytes in [*s, *s + *len)): 1, 0 when absent, -1 when the
 * text is not facets. */
static int get_value(struct cursor *c, const char **s, size_t *len)
{
    if (c->p < c->end && *c->p == '-') {
        c->p++;
        return 0;
    }
    size_t n = 0;
    const char *q = c->p;
    for (; q < c->end && *q >= '0' && *q <= '9' && n < ((size_t)1 << 40); q++)
        n = n * 10 + (size_t)(*q - '0');
    if (q == c->p || q >= c->end || *q != ':' || (size_t)(c->end - q - 1) < n)
        return -1;
    *s = q + 1;
    *len = n;
    c->p = q + 1 + n;
    return 1;
}

/* A value that is a number, as get_value; *n 0 when absent. Digits read once, as
 * they come (issue 21: two dates per card, 100,000 cards at the first query). */
static int get_number(struct cursor *c, int64_t *n)
{
    *n = 0;
    if (c->p < c->end && *c->p == '-') {
        c->p++;
        return 0;
    }
    size_t len = 0;
    const char *q = c->p;
    for (; q < c->end && *q >= '0' && *q <= '9' && len < 32; q++)
        len = len * 10 + (size_t)(*q - '0');
    if (q == c->p || q >= c->end || *q != ':' || len > 20 || (size_t)(c->end - q - 1) < len)
        return -1;
    const char *s = q + 1, *end = s + len;
    bool neg = s < end && *s == '-';
    uint64_t v = 0;
    for (s += neg; s < end; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *n = neg ? -(int64_t)v : (int64_t)v;
    c->p = end;
    return 1;
}

/* Copies a value into the record's string space at *at; NULL when absent. */
static char *take(char **at, const char *s, size_t len, int have)
{
    if (have <= 0)
        return NULL;
    char *out = *at;
    memcpy(out, s, len);
    out[len] = 0;
    *at += len + 1;
    return out;
}

/* A list's items into out[] (*n of them; out has room for max). -1 if not facets. */
static int get_list(struct cursor *c, char **at, char **out, size_t max, size_t *n)
{
    int64_t count;
    if (get_number(c, &count) != 1 || count < 0 || (size_t)count > max)
        return -1;
    for (*n = 0; *n < (size_t)count; (*n)++) {
        const char *s;
        size_t len;
        if (get_value(c, &s, &len) != 1)
            return -1;
        out[*n] = take(at, s, len, 1);
    }
    return 0;
}

struct crec *contact_rec_new(const char *id, const char *facets)
{
    size_t flen = strlen(facets), ilen = strlen(id);
    /* the strings take fewer bytes than the facets; each list item a pointer, and
     * every item holds a ':' */
    size_t items = 0; /* memchr, not a loop per byte: 100,000 of these at a start */
    for (const char *p = facets; (p = memchr(p, ':', flen - (size_t)(p - facets))); p++)
        items++;
    /* the strings are written before they are read: only the record is cleared */
    struct crec *r = xmalloc(sizeof *r + (items + 1) * sizeof(char *) + flen + ilen + 2);
    memset(r, 0, sizeof *r);
    char **ptrs = (char **)(r + 1);
    char *at = (char *)(ptrs + items + 1);
    r->id = take(&at, id, ilen, 1);
    struct cursor c = {facets, facets + flen};
    const char *s = NULL;
    size_t len = 0;
    int have;
    char *str[2 + 2 * CONTACT_NSORTS];
    if ((have = get_value(&c, &s, &len)) < 0)
        goto bad;
    r->uid = take(&at, s, len, have);
    if ((have = get_value(&c, &s, &len)) < 0)
        goto bad;
    r->kind = take(&at, s, len, have);
    if ((have = get_number(&c, &r->created)) < 0)
        goto bad;
    r->has_created = have;
    if ((have = get_number(&c, &r->updated)) < 0)
        goto bad;
    r->has_updated = have;
    for (size_t i = 0; i < 2 * CONTACT_NSORTS; i++) {
        if ((have = get_value(&c, &s, &len)) < 0)
            goto bad;
        str[i] = take(&at, s, len, have);
    }
    for (int k = 0; k < CONTACT_NSORTS; k++) {
        r->sort[k] = str[k];
        r->sortkey[k] = str[CONTACT_NSORTS + k];
    }
    r->books = ptrs;
    if (get_list(&c, &at, r->books, items, &r->nbooks))
        goto bad;
    r->members = ptrs + r->nbooks;
    if (get_list(&c, &at, r->members, items - r->nbooks, &r->nmembers) || c.p != c.end)
        goto bad;
    return r;
bad:
    free(r);
    return NULL;
}

/* ---- the index hook and the backfill ---------------------------------------------------- */

static int put_card(struct store_conn *c, const char *account, const char *id, json_t *card)
{
    char *text[CONTACT_NFIELDS];
    contact_texts(card, text, true);
    struct store_grams g = {.facets = contact_facets(card)};
    _Static_assert(CONTACT_NFIELDS == STORE_GRAM_FIELDS, "a field per text, the rest in one");
    for (int f = 0; f < CONTACT_NFIELDS; f++)
        g.text[f == CF_TEXT ? STORE_GRAM_FIELDS - 1 : contact_gram_field(f)] = text[f];
    /* the sort keys the store keeps (issue 21), made from the facets as the index's */
    struct crec *rec = contact_rec_new(id, g.facets);
    unsigned char *keys[STORE_GRAM_KEYS] = {NULL};
    for (int k = 0; rec && k < STORE_GRAM_KEYS; k++) {
        g.key_len[k] = contact_store_key(k, rec, &keys[k]);
        g.key[k] = keys[k];
    }
    int rc = store_grams_put(c, account, contact_card_type.name, id, &g);
    for (int k = 0; k < STORE_GRAM_KEYS; k++)
        free(keys[k]);
    free(rec);
    for (int f = 0; f < CONTACT_NFIELDS; f++)
        free(text[f]);
    free((char *)g.facets);
    return rc;
}

int contact_card_index(struct store_conn *c, const char *account, const char *id, json_t *obj)
{
    int rc = obj ? put_card(c, account, id, obj)
                 : store_grams_del(c, account, contact_card_type.name, id);
    if (rc)
        return -1;
    return birthdays_card_index(c, account, id, obj); /* issue 17 §4 */
}

struct backfill {
    struct store_conn *c;
    const char *account;
    int rc;
    size_t n;
};

static int backfill_one(const char *id, void *ud)
{
    struct backfill *b = ud;
    json_t *card = store_object_get(b->c, b->account, contact_card_type.name, id);
    if (card)
        b->rc = put_card(b->c, b->account, id, card);
    json_decref(card);
    b->n += card != NULL;
    return b->rc;
}

int contacts_backfill(struct store_conn *c, const struct jmap_owner *owner)
{
    struct backfill b = {c, owner->account, STORE_OK, 0};
    int rc = store_grams_missing(c, owner->account, contact_card_type.name, backfill_one, &b);
    if (b.n)
        log_info("contacts: %zu cards of account %s indexed for search", b.n, owner->account);
    return rc ? rc : b.rc;
}
