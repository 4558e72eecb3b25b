/*
 * vcard_parse.c — reads vCard text (RFC 6350 §3: 4.0; RFC 2426: 3.0; vCard 2.1 as
 * written by old Outlook versions) into the content-line model of vcard.h.
 *
 * Steps per card: split physical lines, unfold (§3.2), split each content line into
 * group, name, parameters and value (§3.3), undo RFC 6868 caret escapes in parameter
 * values, undo 3.0 transfer encodings (QUOTED-PRINTABLE, CHARSET) so that every value
 * is UTF-8. Anything that is not a content line is an error naming its line.
 *
 * Names are looked up once in the name table (vcard_names.c) and stored with their id,
 * so that the conversion rules compare ids; a card's strings and arrays are carved out
 * of its memory blocks (vcard.h), because a converted address book is parsed once and
 * read, and a malloc and a free per string cost as much as the parsing.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/vcard/vcard.h"
#include "formats/vcard/vcard_internal.h"

/* ---- card memory -------------------------------------------------------------- */

/* A parsed card's strings and parameter arrays are carved out of blocks (vcard.h): most
 * cards fit in the first one. Allocations larger than a quarter block get a block of
 * their own, linked behind the current one, so that the current one stays in use. */
struct vcard_mem {
    vcard_mem *next;
    size_t used, size;
    _Alignas(16) char data[];
};

#define MEM_BLOCK 4096

static void *mem_alloc(vcard_mem **head, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    vcard_mem *b = *head;
    if (b && b->size - b->used >= n) {
        void *p = b->data + b->used;
        b->used += n;
        return p;
    }
    size_t size = n > MEM_BLOCK / 4 ? n : MEM_BLOCK - sizeof *b;
    vcard_mem *nb = vc_malloc(sizeof *nb + size);
    nb->used = n;
    nb->size = size;
    if (b && n > MEM_BLOCK / 4) {
        nb->next = b->next;
        b->next = nb;
    } else {
        nb->next = b;
        *head = nb;
    }
    return nb->data;
}

static char *mem_strndup(vcard_mem **head, const char *s, size_t n)
{
    char *d = mem_alloc(head, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static void mem_free(vcard_mem *b)
{
    while (b) {
        vcard_mem *next = b->next;
        free(b);
        b = next;
    }
}

/* ---- card building ---------------------------------------------------------- */

static void param_free(vcard_param *p)
{
    free(p->name);
    vcard_strv_free(p->values, p->nvalues);
}

static void prop_free(vcard_prop *p)
{
    if (p->in_block)
        return; /* vcard_free frees the block */
    free(p->group);
    free(p->name);
    for (size_t i = 0; i < p->nparams; i++)
        param_free(&p->params[i]);
    free(p->params);
    free(p->value);
}

void vcard_free(vcard *card)
{
    if (!card)
        return;
    for (size_t i = 0; i < card->nprops; i++)
        prop_free(&card->props[i]);
    free(card->props);
    mem_free(card->mem);
    card->props = NULL;
    card->mem = NULL;
    card->nprops = card->cap = 0;
}

void vcard_list_free(vcard *cards, size_t ncards)
{
    for (size_t i = 0; i < ncards; i++)
        vcard_free(&cards[i]);
    free(cards);
}

void vcard_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static char *str_upper(char *s)
{
    for (char *p = s; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return s;
}

/* Appends an empty property. */
static vcard_prop *prop_append(vcard *card)
{
    if (card->nprops == card->cap) {
        card->cap = card->cap ? card->cap * 2 : 20; /* 20 * 56 bytes: a small-bin size */
        card->props = vc_realloc(card->props, card->cap * sizeof *card->props);
    }
    vcard_prop *p = &card->props[card->nprops++];
    memset(p, 0, sizeof *p);
    return p;
}

vcard_prop *vcard_prop_add(vcard *card, const char *group, const char *name, const char *raw_value)
{
    vcard_prop *p = prop_append(card);
    p->group = group ? vc_strdup(group) : NULL;
    p->name = str_upper(vc_strdup(name));
    p->id = vcard_name_lookup(name, strlen(name));
    p->value = vc_strdup(raw_value ? raw_value : "");
    return p;
}

/* A parsed property about to change gets malloc'd copies of its strings and arrays, as
 * a built one has (vcard.h). */
static void prop_own(vcard_prop *p)
{
    if (!p->in_block)
        return;
    p->group = p->group ? vc_strdup(p->group) : NULL;
    p->name = vc_strdup(p->name);
    p->value = vc_strdup(p->value);
    vcard_param *params = p->nparams ? vc_malloc(p->nparams * sizeof *params) : NULL;
    for (size_t i = 0; i < p->nparams; i++) {
        const vcard_param *q = &p->params[i];
        params[i] = (vcard_param){vc_strdup(q->name), vc_malloc(q->nvalues * sizeof(char *)),
                                  q->nvalues, q->id};
        for (size_t k = 0; k < q->nvalues; k++)
            params[i].values[k] = vc_strdup(q->values[k]);
    }
    p->params = params;
    p->in_block = 0;
}

void vcard_prop_rename(vcard_prop *prop, const char *name)
{
    prop_own(prop);
    free(prop->name);
    prop->name = str_upper(vc_strdup(name));
    prop->id = vcard_name_lookup(name, strlen(name));
}

/* The parameter with this id (a name in the table), or NULL. */
static vcard_param *param_find(const vcard_prop *prop, vcard_name_id id)
{
    assert(id != VC_OTHER);
    for (size_t i = 0; i < prop->nparams; i++)
        if (prop->params[i].id == id)
            return &prop->params[i];
    return NULL;
}

/* The parameter named name (compared without regard to case), or NULL. */
static vcard_param *param_named(const vcard_prop *prop, const char *name)
{
    vcard_name_id id = vcard_name_lookup(name, strlen(name));
    if (id != VC_OTHER)
        return param_find(prop, id);
    for (size_t i = 0; i < prop->nparams; i++)
        if (prop->params[i].id == VC_OTHER && !strcasecmp(prop->params[i].name, name))
            return &prop->params[i];
    return NULL;
}

void vcard_param_add(vcard_prop *prop, const char *name, const char *value)
{
    prop_own(prop);
    vcard_param *p = param_named(prop, name);
    if (!p) {
        prop->params = vc_realloc(prop->params, (prop->nparams + 1) * sizeof *prop->params);
        p = &prop->params[prop->nparams++];
        p->name = str_upper(vc_strdup(name));
        p->id = vcard_name_lookup(name, strlen(name));
        p->values = NULL;
        p->nvalues = 0;
    }
    p->values = vc_realloc(p->values, (p->nvalues + 1) * sizeof *p->values);
    p->values[p->nvalues++] = vc_strdup(value);
}

void vcard_param_set(vcard_prop *prop, const char *name, const char *value)
{
    vcard_param_del(prop, name);
    vcard_param_add(prop, name, value);
}

void vcard_param_del(vcard_prop *prop, const char *name)
{
    if (!param_named(prop, name))
        return;
    prop_own(prop);
    vcard_param *p = param_named(prop, name);
    size_t i = (size_t)(p - prop->params);
    param_free(p);
    memmove(&prop->params[i], &prop->params[i + 1], (prop->nparams - i - 1) * sizeof *prop->params);
    prop->nparams--;
}

const vcard_param *vcard_param_get(const vcard_prop *prop, const char *name)
{
    return param_named(prop, name);
}

const vcard_param *vcard_param_get_id(const vcard_prop *prop, vcard_name_id id)
{
    return param_find(prop, id);
}

const char *vcard_param_first(const vcard_prop *prop, const char *name)
{
    const vcard_param *p = param_named(prop, name);
    return p && p->nvalues ? p->values[0] : NULL;
}

const char *vcard_param_first_id(const vcard_prop *prop, vcard_name_id id)
{
    const vcard_param *p = param_find(prop, id);
    return p && p->nvalues ? p->values[0] : NULL;
}

/* True if one of the values of pa, or an element of a comma-separated one, is value. */
static int param_has(const vcard_param *p, const char *value)
{
    if (!p)
        return 0;
    size_t vl = strlen(value);
    for (size_t i = 0; i < p->nvalues; i++) {
        const char *s = p->values[i];
        while (*s) {
            const char *e = strchr(s, ',');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            if (n == vl && strncasecmp(s, value, n) == 0)
                return 1;
            s += n;
            if (*s == ',')
                s++;
        }
    }
    return 0;
}

int vcard_param_has(const vcard_prop *prop, const char *name, const char *value)
{
    return param_has(param_named(prop, name), value);
}

int vcard_param_has_id(const vcard_prop *prop, vcard_name_id id, const char *value)
{
    return param_has(param_find(prop, id), value);
}

/* ---- values ----------------------------------------------------------------- */

char *vcard_value_unescape(const char *raw, size_t len)
{
    char *out = vc_malloc(len + 1);
    vc_unescape_to(out, raw, len);
    return out;
}

size_t vc_unescape_to(char *out, const char *raw, size_t len)
{
    char *o = out;
    for (size_t i = 0; i < len; i++) {
        if (raw[i] == '\\' && i + 1 < len) {
            char c = raw[i + 1];
            if (c == 'n' || c == 'N') {
                *o++ = '\n';
                i++;
                continue;
            }
            if (c == '\\' || c == ',' || c == ';' || c == ':') {
                *o++ = c;
                i++;
                continue;
            }
        }
        *o++ = raw[i];
    }
    *o = 0;
    return (size_t)(o - out);
}

char *vcard_value_escape(const char *text, int compound)
{
    jbuf b = {0};
    jbuf_grow(&b, strlen(text));
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '\\':
            jbuf_adds(&b, "\\\\");
            break;
        case '\n':
            jbuf_adds(&b, "\\n");
            break;
        case '\r':
            if (p[1] != '\n')
                jbuf_adds(&b, "\\n");
            break;
        case ',':
            jbuf_adds(&b, "\\,"); /* RFC 6350 §3.4: in every TEXT value */
            break;
        case ';':
            if (compound)
                jbuf_addc(&b, '\\'); /* §3.4: a field of N, ADR, ORG, GENDER */
            jbuf_addc(&b, ';');
            break;
        default:
            jbuf_addc(&b, *p);
        }
    }
    return jbuf_take(&b);
}

void vcard_value_split(const char *raw, char sep, char ***parts, size_t *nparts)
{
    size_t n = 1, cap = 8;
    char **v = vc_malloc(cap * sizeof *v);
    const char *start = raw, *p = raw;
    n = 0;
    for (;; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == sep || *p == 0) {
            if (n == cap) {
                cap *= 2;
                v = vc_realloc(v, cap * sizeof *v);
            }
            v[n++] = vc_strndup(start, (size_t)(p - start));
            if (*p == 0)
                break;
            start = p + 1;
        }
    }
    *parts = v;
    *nparts = n;
}

/* ---- transfer encodings (vCard 3.0 / 2.1) ----------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = toupper(c);
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 2045 §6.7 quoted-printable; soft line breaks ("=" at the end of a physical
 * line) were already joined by the line reader and are dropped here. */
static char *qp_decode(const char *s, size_t *outlen)
{
    size_t n = strlen(s);
    char *out = vc_malloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') {
            if (i + 2 < n + 0 && hexval((unsigned char)s[i + 1]) >= 0 &&
                hexval((unsigned char)s[i + 2]) >= 0) {
                *o++ =
                    (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
                i += 2;
                continue;
            }
            if (i + 1 == n)
                continue;           /* trailing soft break */
            if (s[i + 1] == '\n') { /* joined soft break */
                i++;
                continue;
            }
        }
        *o++ = s[i];
    }
    *o = 0;
    *outlen = (size_t)(o - out);
    return out;
}

/* Windows-1252 bytes 0x80..0x9F; the rest of the range is ISO-8859-1. */
static const unsigned short cp1252_high[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

static void put_utf8(jbuf *b, unsigned cp)
{
    char t[4];
    if (cp < 0x80) {
        jbuf_addc(b, (char)cp);
    } else if (cp < 0x800) {
        t[0] = (char)(0xC0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3F));
        jbuf_add(b, t, 2);
    } else {
        t[0] = (char)(0xE0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F));
        jbuf_add(b, t, 3);
    }
}

static char *cp1252_to_utf8(const char *s, size_t n)
{
    jbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 && c < 0xA0)
            put_utf8(&b, cp1252_high[c - 0x80]);
        else
            put_utf8(&b, c);
    }
    return jbuf_take(&b);
}

/* Converts n bytes in charset cs to UTF-8; NULL if the charset is unknown or the
 * bytes are invalid in it. */
static char *charset_to_utf8(const char *cs, const char *s, size_t n)
{
    if (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "UTF8") == 0 ||
        strcasecmp(cs, "US-ASCII") == 0)
        return vc_utf8_valid(s, n) ? vc_strndup(s, n) : NULL;
    if (strcasecmp(cs, "ISO-8859-1") == 0 || strcasecmp(cs, "WINDOWS-1252") == 0 ||
        strcasecmp(cs, "CP1252") == 0 || strcasecmp(cs, "LATIN1") == 0)
        return cp1252_to_utf8(s, n);
    iconv_t cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1)
        return NULL;
    size_t cap = n * 4 + 4, inleft = n, outleft = cap;
    char *out = vc_malloc(cap + 1), *in = (char *)s, *o = out;
    size_t r = iconv(cd, &in, &inleft, &o, &outleft);
    iconv_close(cd);
    if (r == (size_t)-1 || inleft) {
        free(out);
        return NULL;
    }
    *o = 0;
    if (!vc_utf8_valid(out, (size_t)(o - out))) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- content lines ---------------------------------------------------------- */

/* The parameters of the content line being parsed, gathered before they go into the
 * card's block with their final sizes: names in the order they first appear (a name
 * written twice, TYPE=a;TYPE=b, is one parameter), values in the order written. */
typedef struct line_param {
    const char *name; /* upper case: the name table's string or a copy in the block */
    vcard_name_id id;
    size_t nvalues, out;
    int deleted;
} line_param;

typedef struct line_value {
    size_t param; /* index in parser.params */
    char *s;      /* in the card's block */
} line_value;

typedef struct parser {
    char **err;         /* NULL: the caller wants no message */
    line_param *params; /* of the current content line */
    size_t nparams, capparams;
    line_value *values;
    size_t nvalues, capvalues;
} parser;

static int fail(parser *ps, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(parser *ps, size_t line, const char *fmt, ...)
{
    if (!ps->err)
        return -1;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    jbuf b = {0};
    jbuf_printf(&b, "line %zu: %s", line, msg);
    free(*ps->err);
    *ps->err = jbuf_take(&b);
    return -1;
}

static int is_name_char(int c)
{
    /* RFC 6350 §3.3: name = 1*(ALPHA / DIGIT / "-"); "_" is tolerated because
     * several producers write X-names with it. */
    return isalnum(c) || c == '-' || c == '_';
}

/* RFC 6868: ^n → newline, ^^ → ^, ^' → ". Other carets stay. The result goes into
 * the card's block. */
static char *caret_decode(vcard *card, const char *s, size_t n)
{
    if (!memchr(s, '^', n))
        return mem_strndup(&card->mem, s, n);
    char *out = mem_alloc(&card->mem, n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '^' && i + 1 < n) {
            if (s[i + 1] == 'n' || s[i + 1] == 'N') {
                *o++ = '\n';
                i++;
                continue;
            }
            if (s[i + 1] == '^') {
                *o++ = '^';
                i++;
                continue;
            }
            if (s[i + 1] == '\'') {
                *o++ = '"';
                i++;
                continue;
            }
        }
        *o++ = s[i];
    }
    *o = 0;
    return out;
}

/* RFC 6350 §3.3: SAFE-CHAR and QSAFE-CHAR have no control characters but HTAB */
static int has_ctl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return 1;
    }
    return 0;
}

static int param_name_ok(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_name_char((unsigned char)s[i]))
            return 0;
    return 1;
}

/* The live parameter of the current line with this id (and name, for VC_OTHER), or
 * SIZE_MAX. */
static size_t line_param_find(const parser *ps, vcard_name_id id, const char *name, size_t n)
{
    for (size_t k = 0; k < ps->nparams; k++) {
        const line_param *lp = &ps->params[k];
        if (lp->deleted || lp->id != id)
            continue;
        if (id != VC_OTHER || (strncasecmp(lp->name, name, n) == 0 && lp->name[n] == 0))
            return k;
    }
    return SIZE_MAX;
}

/* Adds a value (in the card's block) to the parameter name[0..n) of the current line. */
static void line_param_add(parser *ps, vcard *card, const char *name, size_t n, char *value)
{
    vcard_name_id id = vcard_name_lookup(name, n);
    size_t k = line_param_find(ps, id, name, n);
    if (k == SIZE_MAX) {
        if (ps->nparams == ps->capparams) {
            ps->capparams = ps->capparams ? ps->capparams * 2 : 16;
            ps->params = vc_realloc(ps->params, ps->capparams * sizeof *ps->params);
        }
        k = ps->nparams++;
        const char *stored =
            id != VC_OTHER ? vcard_name_str(id) : str_upper(mem_strndup(&card->mem, name, n));
        ps->params[k] = (line_param){stored, id, 0, 0, 0};
    }
    if (ps->nvalues == ps->capvalues) {
        ps->capvalues = ps->capvalues ? ps->capvalues * 2 : 16;
        ps->values = vc_realloc(ps->values, ps->capvalues * sizeof *ps->values);
    }
    ps->values[ps->nvalues++] = (line_value){k, value};
    ps->params[k].nvalues++;
}

/* The first value of a parameter of the current line, or NULL. */
static const char *line_param_first(const parser *ps, vcard_name_id id)
{
    size_t k = line_param_find(ps, id, NULL, 0);
    for (size_t i = 0; k != SIZE_MAX && i < ps->nvalues; i++)
        if (ps->values[i].param == k)
            return ps->values[i].s;
    return NULL;
}

static void line_param_del(parser *ps, vcard_name_id id)
{
    size_t k = line_param_find(ps, id, NULL, 0);
    if (k != SIZE_MAX)
        ps->params[k].deleted = 1;
}

/* Stores the parameters of the current line in prop, arrays in the card's block. */
static void line_params_store(parser *ps, vcard *card, vcard_prop *prop)
{
    size_t live = 0;
    for (size_t k = 0; k < ps->nparams; k++)
        live += !ps->params[k].deleted;
    if (!live)
        return;
    vcard_param *out = mem_alloc(&card->mem, live * sizeof *out);
    size_t j = 0;
    for (size_t k = 0; k < ps->nparams; k++) {
        line_param *lp = &ps->params[k];
        if (lp->deleted)
            continue;
        /* the table's names are never written through: a property that changes gets its
         * own copies first (prop_own) */
        out[j] = (vcard_param){(char *)lp->name,
                               mem_alloc(&card->mem, lp->nvalues * sizeof(char *)), 0, lp->id};
        lp->out = j++;
    }
    for (size_t i = 0; i < ps->nvalues; i++) {
        const line_param *lp = &ps->params[ps->values[i].param];
        if (!lp->deleted) {
            vcard_param *pa = &out[lp->out];
            pa->values[pa->nvalues++] = ps->values[i].s;
        }
    }
    prop->params = out;
    prop->nparams = live;
}

/* True if s[0..n) is UTF-8 without NUL and without control characters but HTAB and LF:
 * a value that needs no repair (RFC 6350 §3.1, §3.3). */
static int value_clean(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    /* eight bytes at a time while they are all printable ASCII (0x20..0x7E): a byte
     * below 0x20 sets its top bit in w - 0x20..., 0x7F and above in w + 0x01... or w */
    const uint64_t ones = 0x0101010101010101u, tops = 0x8080808080808080u;
    for (uint64_t w; i + 8 <= n; i += 8) {
        memcpy(&w, u + i, 8);
        if (((w - 0x20 * ones) | (w + ones) | w) & tops)
            break;
    }
    while (i < n) {
        unsigned c = u[i];
        if ((c >= 0x20 && c < 0x7F) || c == '\t' || c == '\n') {
            i++;
            continue;
        }
        size_t l = c < 0x80 ? 0 : vc_utf8_seqlen(u + i, n - i);
        if (!l)
            return 0;
        i += l;
    }
    return 1;
}

/* The name part of a content line: [ns, name_end) is "group.name" or "name". */
typedef struct line_name {
    const char *ns;       /* start of the line */
    const char *dot;      /* the group's '.', or NULL */
    const char *name;     /* the property name, after any group */
    const char *name_end; /* one past the name: the ';' or ':' that follows */
} line_name;

/* Reads the [group "."] name of a content line at *pp and leaves *pp on the ';' or ':'
 * that must follow it. */
static int parse_prop_name(parser *ps, const char **pp, const char *end, size_t lineno,
                           line_name *nm)
{
    const char *p = *pp;
    const char *dot = NULL, *ns = p;
    while (p < end && (is_name_char((unsigned char)*p) || *p == '.')) {
        if (*p == '.')
            dot = p;
        p++;
    }
    if (p == ns)
        return fail(ps, lineno, "expected a property name");
    if (p >= end || (*p != ':' && *p != ';'))
        return fail(ps, lineno, "expected ':' or ';' after the property name");
    const char *name = ns;
    if (dot) {
        /* RFC 6350 §3.3: group "." name; a single group level */
        if (dot == ns || dot + 1 == p || memchr(ns, '.', (size_t)(dot - ns)))
            return fail(ps, lineno, "malformed property group");
        name = dot + 1;
    }
    *nm = (line_name){ns, dot, name, p};
    *pp = p;
    return 0;
}

/* Reads the comma-separated values of parameter pn[0..pnlen) from *pp (just after
 * the '='), quoted or not, caret-decoded (RFC 6868), into the line's parameters. */
static int parse_param_values(parser *ps, vcard *card, const char **pp, const char *end,
                              size_t lineno, const char *pn, size_t pnlen)
{
    const char *p = *pp;
    for (;;) {
        if (p < end && *p == '"') {
            const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
            if (!q)
                return fail(ps, lineno, "unterminated quoted parameter value");
            if (has_ctl(p + 1, (size_t)(q - p - 1)))
                return fail(ps, lineno, "control character in parameter value");
            line_param_add(ps, card, pn, pnlen, caret_decode(card, p + 1, (size_t)(q - p - 1)));
            p = q + 1;
        } else {
            const char *vs = p;
            while (p < end && *p != ';' && *p != ':' && *p != ',' && *p != '"')
                p++;
            if (p < end && *p == '"')
                return fail(ps, lineno, "stray '\"' in parameter value");
            if (has_ctl(vs, (size_t)(p - vs)))
                return fail(ps, lineno, "control character in parameter value");
            line_param_add(ps, card, pn, pnlen, caret_decode(card, vs, (size_t)(p - vs)));
        }
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        break;
    }
    *pp = p;
    return 0;
}

/* Reads the ";param=value,..." list of a content line from *pp and leaves *pp on the
 * ':' that starts the value. */
static int parse_params(parser *ps, vcard *card, const char **pp, const char *end, size_t lineno)
{
    const char *p = *pp;
    while (p < end && *p == ';') {
        p++;
        const char *pn = p;
        while (p < end && is_name_char((unsigned char)*p))
            p++;
        size_t pnlen = (size_t)(p - pn);
        if (p < end && *p == '=') {
            if (!param_name_ok(pn, pnlen))
                return fail(ps, lineno, "malformed parameter name");
            p++;
            if (parse_param_values(ps, card, &p, end, lineno, pn, pnlen) < 0)
                return -1;
        } else if (p < end && (*p == ';' || *p == ':') && pnlen > 0) {
            /* vCard 2.1/3.0 quirk: a bare parameter value is a TYPE
             * (TEL;WORK;VOICE:..., EMAIL;INTERNET:...), except for the 2.1
             * encodings and charsets which name their own parameter. */
            char *v = mem_strndup(&card->mem, pn, pnlen);
            if (strcasecmp(v, "QUOTED-PRINTABLE") == 0 || strcasecmp(v, "BASE64") == 0 ||
                strcasecmp(v, "8BIT") == 0 || strcasecmp(v, "7BIT") == 0)
                line_param_add(ps, card, "ENCODING", 8, v);
            else
                line_param_add(ps, card, "TYPE", 4, v);
        } else {
            return fail(ps, lineno, "malformed parameter");
        }
    }
    if (p >= end || *p != ':')
        return fail(ps, lineno, "expected ':' before the property value");
    *pp = p;
    return 0;
}

/* Parameter values: UTF-8 as the values are (RFC 6350 §3.1); 3.0 producers may write
 * their code page, which is converted. */
static int params_to_utf8(parser *ps, vcard *card, size_t lineno)
{
    for (size_t k = 0; k < ps->nparams; k++)
        for (size_t i = 0; i < ps->nvalues; i++) {
            char **pv = &ps->values[i].s;
            if (ps->values[i].param != k || vc_utf8_valid(*pv, strlen(*pv)))
                continue;
            if (card->version == 40)
                return fail(ps, lineno, "parameter value is not valid UTF-8 (RFC 6350 §3.1)");
            char *conv = cp1252_to_utf8(*pv, strlen(*pv));
            *pv = mem_strndup(&card->mem, conv, strlen(conv));
            free(conv);
        }
    return 0;
}

/* Decodes a quoted-printable value owned[0..) in place of owned (freed); encoded line
 * breaks (=0D=0A) become the \n escape of a TEXT value. Sets *vlen. */
static char *qp_value_decode(char *owned, size_t *vlen)
{
    size_t n;
    char *dec = qp_decode(owned, &n);
    jbuf nb = {0};
    for (size_t k = 0; k < n; k++) {
        if (dec[k] == '\r' || dec[k] == '\n') {
            jbuf_adds(&nb, "\\n");
            if (dec[k] == '\r' && k + 1 < n && dec[k + 1] == '\n')
                k++;
        } else {
            jbuf_addc(&nb, dec[k]);
        }
    }
    free(dec);
    free(owned);
    *vlen = nb.len;
    return jbuf_take(&nb);
}

/* Undoes a transfer encoding (RFC 2426 §5.1 / vCard 2.1) named by ENCODING on the
 * owned value, and drops or normalises the parameter. Returns the (possibly new)
 * owned value and sets *vlen. */
static char *undo_transfer_encoding(parser *ps, vcard *card, const char *enc, char *owned,
                                    size_t *vlen)
{
    if (enc && (strcasecmp(enc, "QUOTED-PRINTABLE") == 0 || strcasecmp(enc, "QP") == 0)) {
        owned = qp_value_decode(owned, vlen);
        line_param_del(ps, VC_ENCODING);
    } else if (enc && (strcasecmp(enc, "B") == 0 || strcasecmp(enc, "BASE64") == 0)) {
        /* keep base64 text, without the whitespace of 2.1 continuation lines */
        char *o = owned;
        for (char *s = owned; *s; s++)
            if (!isspace((unsigned char)*s))
                *o++ = *s;
        *o = 0;
        *vlen = (size_t)(o - owned);
        line_param_del(ps, VC_ENCODING);
        line_param_add(ps, card, "ENCODING", 8, mem_strndup(&card->mem, "b", 1));
    } else if (enc && (strcasecmp(enc, "8BIT") == 0 || strcasecmp(enc, "7BIT") == 0)) {
        line_param_del(ps, VC_ENCODING);
    }
    return owned;
}

/* Repairs a value that is not clean: undoes its transfer encoding, converts its
 * CHARSET (or an undeclared code page of an older producer) to UTF-8, and rejects
 * NUL and control characters (RFC 6350 §3.1, §3.3). On success *owned is the new
 * value (malloc'd) and *vlen its length; on failure nothing is left allocated. */
static int repair_value(parser *ps, vcard *card, size_t lineno, const char *enc, const char *cs,
                        const char *value, char **owned_out, size_t *vlen)
{
    char *owned = vc_strndup(value, *vlen);
    owned = undo_transfer_encoding(ps, card, enc, owned, vlen);
    if (cs) {
        char *conv = charset_to_utf8(cs, owned, *vlen);
        if (!conv) {
            free(owned);
            return fail(ps, lineno, "value is not valid in CHARSET %s", cs);
        }
        free(owned);
        owned = conv;
        *vlen = strlen(owned);
        line_param_del(ps, VC_CHARSET);
    } else if (!vc_utf8_valid(owned, *vlen)) {
        if (memchr(owned, 0, *vlen)) {
            free(owned);
            return fail(ps, lineno, "NUL byte in value");
        }
        if (card->version == 40) {
            free(owned);
            return fail(ps, lineno, "value is not valid UTF-8 (RFC 6350 §3.1)");
        }
        /* Older producers write their platform code page without CHARSET. */
        char *conv = cp1252_to_utf8(owned, *vlen);
        free(owned);
        owned = conv;
        *vlen = strlen(owned);
    }
    for (size_t i = 0; i < *vlen; i++) {
        unsigned char c = (unsigned char)owned[i];
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) {
            free(owned);
            return fail(ps, lineno, "control character in value");
        }
    }
    *owned_out = owned;
    return 0;
}

/* Parses one unfolded content line into a new property of card. */
static int parse_line(parser *ps, vcard *card, const char *line, size_t len, size_t lineno)
{
    const char *p = line, *end = line + len;
    line_name nm = {0}; /* set by parse_prop_name; zeroed for -Wmaybe-uninitialized */
    if (parse_prop_name(ps, &p, end, lineno, &nm) < 0)
        return -1;
    ps->nparams = ps->nvalues = 0;
    if (parse_params(ps, card, &p, end, lineno) < 0 || params_to_utf8(ps, card, lineno) < 0)
        return -1;
    p++;
    const char *value = p; /* the raw value, or a decoded copy (owned) */
    size_t vlen = (size_t)(end - p);
    char *owned = NULL;

    /* Transfer encodings (RFC 2426 §5.1 / vCard 2.1) */
    const char *enc = line_param_first(ps, VC_ENCODING);
    const char *cs = line_param_first(ps, VC_CHARSET);
    if (!enc && !cs && value_clean(value, vlen)) {
        /* the common case: nothing to undo or repair */
    } else {
        if (repair_value(ps, card, lineno, enc, cs, value, &owned, &vlen) < 0)
            return -1;
        value = owned;
    }

    size_t name_len = (size_t)(nm.name_end - nm.name);
    vcard_prop *prop = prop_append(card);
    prop->in_block = 1;
    prop->lineno = lineno;
    prop->group = nm.dot ? mem_strndup(&card->mem, nm.ns, (size_t)(nm.dot - nm.ns)) : NULL;
    prop->id = vcard_name_lookup(nm.name, name_len);
    prop->name = prop->id != VC_OTHER
                     ? (char *)vcard_name_str(prop->id) /* never written through: prop_own */
                     : str_upper(mem_strndup(&card->mem, nm.name, name_len));
    prop->value = mem_strndup(&card->mem, value, vlen);
    free(owned);
    line_params_store(ps, card, prop);
    return 0;
}

/* ---- cards ------------------------------------------------------------------ */

/* A physical line: [s, s+n), numbered lineno. */
typedef struct pline {
    const char *s;
    size_t n, lineno;
} pline;

static int ieq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* Trims trailing spaces/tabs (some producers pad lines). */
static size_t rtrim(const char *s, size_t n)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n;
}

/* True if an unfolded line announces quoted-printable before its value: a parameter
 * ENCODING=QUOTED-PRINTABLE, or vCard 2.1's bare QUOTED-PRINTABLE parameter. The word
 * inside another parameter's value (X-FOO=QUOTED-PRINTABLE) does not count. */
static int line_is_qp(const char *s, size_t n)
{
    static const char qp[] = "QUOTED-PRINTABLE", enc[] = "ENCODING=";
    const size_t qn = sizeof qp - 1, en = sizeof enc - 1;
    const char *colon = memchr(s, ':', n);
    size_t hn = colon ? (size_t)(colon - s) : n;
    for (size_t i = 1; i + qn <= hn; i++) {
        if (strncasecmp(s + i, qp, qn) != 0)
            continue;
        bool ends = i + qn == hn || s[i + qn] == ';';
        bool starts = s[i - 1] == ';' || (i > en && s[i - en - 1] == ';' &&
                                          strncasecmp(s + i - en, enc, en) == 0);
        if (starts && ends)
            return 1;
    }
    return 0;
}

/* How the next physical line continues the logical line s[0..n): 1 if it is folded onto
 * it (RFC 6350 §3.2: CRLF followed by one space or tab), 2 if s ends in a vCard 2.1/3.0
 * quoted-printable soft line break ("=" ends the line and the value goes on at the start
 * of the next one; never in a 4.0 card, version 40, which has no transfer encodings),
 * 0 if it starts a content line of its own. */
static int continuation(const pline *next, const char *s, size_t n, int version)
{
    if (next->n > 0 && (next->s[0] == ' ' || next->s[0] == '\t'))
        return 1;
    if (version != 40 && n && s[n - 1] == '=' && line_is_qp(s, n))
        return 2;
    return 0;
}

/* Splits text into physical lines at CR, LF or CRLF, after any byte order mark. Returns
 * the lines (malloc'd), their count in *nl_out, and in *lineno_out the number the line
 * after the last would have. */
static pline *split_lines(const char *text, size_t len, size_t *nl_out, size_t *lineno_out)
{
    size_t nl = 0, capl = 64;
    pline *lines = vc_malloc(capl * sizeof *lines);
    size_t i = 0, lineno = 1;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3; /* byte order mark */
    while (i < len) {
        /* a line ends at CR, LF or CRLF; memchr finds the LF (and CR) of long lines
         * many bytes at a time */
        size_t s = i;
        const char *lf = memchr(text + s, '\n', len - s);
        const char *cr = memchr(text + s, '\r', (lf ? (size_t)(lf - text) : len) - s);
        i = cr ? (size_t)(cr - text) : lf ? (size_t)(lf - text) : len;
        if (nl == capl) {
            capl *= 2;
            lines = vc_realloc(lines, capl * sizeof *lines);
        }
        lines[nl++] = (pline){text + s, i - s, lineno};
        if (i < len && text[i] == '\r')
            i++;
        if (i < len && text[i] == '\n')
            i++;
        lineno++;
    }
    *nl_out = nl;
    *lineno_out = lineno;
    return lines;
}

/* The state of vcard_parse over the logical lines of its text. */
typedef struct card_reader {
    parser ps;
    const pline *lines;
    size_t nl, li; /* the physical lines, and the next one to read */
    jbuf logical;  /* a logical line joined from several physical ones */
    vcard *cards;  /* the cards read so far */
    size_t ncards, capc;
    vcard *cur; /* the card being read, NULL between cards */
} card_reader;

/* Joins the physical line pl with the lines that continue it (unfolding, RFC 6350 §3.2,
 * and quoted-printable soft line breaks) and sets *ls, *ln to the logical line: pl
 * itself where nothing continues it, else the reader's logical buffer. */
static void logical_line(card_reader *r, const pline *pl, const char **ls, size_t *ln)
{
    *ls = pl->s;
    *ln = pl->n;
    int version = r->cur ? r->cur->version : 0;
    if (r->li < r->nl && continuation(&r->lines[r->li], *ls, *ln, version)) {
        /* joined in logical; most lines are used where they stand */
        jbuf *logical = &r->logical;
        logical->len = 0;
        jbuf_add(logical, *ls, *ln);
        int how;
        while (r->li < r->nl &&
               (how = continuation(&r->lines[r->li], logical->s, logical->len, version))) {
            const pline *next = &r->lines[r->li];
            if (how == 1) {
                jbuf_add(logical, next->s + 1, next->n - 1);
            } else {
                logical->len--;
                jbuf_add(logical, next->s, next->n);
            }
            r->li++;
        }
        *ls = logical->s;
        *ln = logical->len;
    }
}

/* Starts a new card at "BEGIN:VCARD" on line start. */
static int begin_card(card_reader *r, const char *ls, size_t ln, size_t start)
{
    if (!ieq(ls, rtrim(ls, ln), "BEGIN:VCARD"))
        return fail(&r->ps, start, "expected BEGIN:VCARD");
    if (r->ncards == r->capc) {
        r->capc = r->capc ? r->capc * 2 : 4;
        r->cards = vc_realloc(r->cards, r->capc * sizeof *r->cards);
    }
    r->cur = &r->cards[r->ncards++];
    memset(r->cur, 0, sizeof *r->cur);
    r->cur->version = 0;
    r->cur->lineno = start;
    return 0;
}

/* Sets the current card's version from a "VERSION:" line: 4.0, or 3.0 for 3.0 and 2.1. */
static int set_version(card_reader *r, const char *ls, size_t ln, size_t start)
{
    const char *vs = ls + 8;
    size_t vn = rtrim(vs, ln - 8);
    while (vn && (*vs == ' ' || *vs == '\t')) /* "VERSION: 4.0" */
        vs++, vn--;
    if (ieq(vs, vn, "4.0"))
        r->cur->version = 40;
    else if (ieq(vs, vn, "3.0") || ieq(vs, vn, "2.1"))
        r->cur->version = 30;
    else {
        char v[32];
        snprintf(v, sizeof v, "%.*s", (int)(vn < 20 ? vn : 20), vs);
        return fail(&r->ps, start, "unsupported vCard VERSION '%s'", v);
    }
    return 0;
}

/* Handles one logical line ls[0..ln), which began on line start: BEGIN, END, VERSION
 * or a property of the current card. */
static int card_line(card_reader *r, const char *ls, size_t ln, size_t start)
{
    vcard *cur = r->cur;
    if (!cur)
        return begin_card(r, ls, ln, start);
    if (ieq(ls, rtrim(ls, ln), "END:VCARD")) {
        if (!cur->version)
            cur->version = 30; /* RFC 2425 producers without VERSION */
        r->cur = NULL;
        return 0;
    }
    if (ieq(ls, rtrim(ls, ln), "BEGIN:VCARD"))
        return fail(&r->ps, start, "nested BEGIN:VCARD (is an END:VCARD missing?)");
    if (ln > 8 && strncasecmp(ls, "VERSION:", 8) == 0)
        return set_version(r, ls, ln, start);
    if (cur->nprops >= VCARD_MAX_PROPS)
        return fail(&r->ps, start, "more than %d properties in one vCard", VCARD_MAX_PROPS);
    return parse_line(&r->ps, cur, ls, ln, start) < 0 ? -1 : 0;
}

int vcard_parse(const char *text, size_t len, vcard **cards_out, size_t *ncards_out, char **err)
{
    card_reader r = {.ps = {.err = err}};
    if (err)
        *err = NULL;
    *cards_out = NULL;
    *ncards_out = 0;

    size_t nl, lineno;
    pline *lines = split_lines(text, len, &nl, &lineno);
    r.lines = lines;
    r.nl = nl;

    int rc = 0;
    while (r.li < r.nl) {
        const pline *pl = &lines[r.li++];
        if (rtrim(pl->s, pl->n) == 0)
            continue; /* blank lines between or inside cards */
        if (pl->s[0] == ' ' || pl->s[0] == '\t') {
            rc = fail(&r.ps, pl->lineno, "continuation line without a content line");
            break;
        }
        size_t start = pl->lineno;
        const char *ls;
        size_t ln;
        logical_line(&r, pl, &ls, &ln);
        if ((rc = card_line(&r, ls, ln, start)) < 0)
            break;
    }
    if (rc == 0 && r.cur) {
        char b[32];
        snprintf(b, sizeof b, "%zu", r.cur->lineno);
        rc = fail(&r.ps, lineno > 1 ? lineno - 1 : 1, "missing END:VCARD for the vCard of line %s",
                  b);
    }
    if (rc == 0 && r.ncards == 0)
        rc = fail(&r.ps, 1, "no BEGIN:VCARD found");
    jbuf_free(&r.logical);
    free(lines);
    free(r.ps.params);
    free(r.ps.values);
    if (rc < 0) {
        vcard_list_free(r.cards, r.ncards);
        return -1;
    }
    *cards_out = r.cards;
    *ncards_out = r.ncards;
    return 0;
}
