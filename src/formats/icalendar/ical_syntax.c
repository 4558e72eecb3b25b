/*
 * ical_syntax.c — RFC 5545 §3.1 content lines: parse text into an ical_comp tree and write
 * it back. See ical_syntax.h for why this does not go through libical's parser.
 */
#include "formats/icalendar/ical_syntax.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 16
#define MAX_PARAMS 64

/* ---- memory --------------------------------------------------------------------------- */

/* An arena: blocks handed out front to back and freed together with the component that
 * owns it. Parsing a calendar this way costs a few mallocs per event instead of a few per
 * parameter value, and freeing an event is one free per block. The arena itself lives at
 * the start of its first block. */
typedef struct arena_block {
    struct arena_block *next;
} arena_block;

struct ical_arena {
    arena_block *blocks;
    char *cur, *end;
    size_t next_size;
    int steady;
    const ical_comp *owner; /* the component whose ical_comp_free releases the arena */
};

#define ARENA_ALIGN 8 /* enough for every node: pointers and size_t */
#define ARENA_MAX_BLOCK ((size_t)1 << 20)
#define ARENA_CHILD_BLOCK 512 /* an event's arena: 2-4 blocks, little of it unused */

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        abort();
    return p;
}

static arena_block *block_new(size_t size)
{
    arena_block *b = xmalloc(sizeof *b + size);
    b->next = NULL;
    return b;
}

/* An arena whose first block has room for first bytes; later blocks double up to
 * ARENA_MAX_BLOCK, or stay at first if steady (many small arenas: little left unused). */
static ical_arena *arena_new(size_t first, int steady)
{
    arena_block *b = block_new(sizeof(ical_arena) + first);
    ical_arena *a = (ical_arena *)(b + 1);
    a->blocks = b;
    a->cur = (char *)(a + 1);
    a->end = a->cur + first;
    a->next_size = steady ? first : first * 2;
    a->steady = steady;
    a->owner = NULL;
    return a;
}

static void *arena_alloc(ical_arena *a, size_t n)
{
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if ((size_t)(a->end - a->cur) < n) {
        size_t size = a->next_size > n ? a->next_size : n;
        arena_block *b = block_new(size);
        b->next = a->blocks->next; /* the first block, holding a, stays first */
        a->blocks->next = b;
        a->cur = (char *)(b + 1);
        a->end = a->cur + size;
        if (!a->steady && a->next_size < ARENA_MAX_BLOCK)
            a->next_size *= 2;
    }
    void *p = a->cur;
    a->cur += n;
    return p;
}

static void arena_free(ical_arena *a)
{
    arena_block *first = a->blocks, *b = first->next;
    while (b) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
    free(first);
}

/* Allocation for a node in arena a, or on the heap when a is NULL. */
static void *mem_alloc(ical_arena *a, size_t n)
{
    return a ? arena_alloc(a, n) : xmalloc(n);
}

/* Grows an array of used bytes to n bytes (an arena copies: it never frees). */
static void *mem_grow(ical_arena *a, void *p, size_t used, size_t n)
{
    if (!a) {
        void *q = realloc(p, n);
        if (!q)
            abort();
        return q;
    }
    void *q = arena_alloc(a, n);
    if (used)
        memcpy(q, p, used);
    return q;
}

static void mem_free(ical_arena *a, void *p)
{
    if (!a)
        free(p);
}

static char *mem_strndup(ical_arena *a, const char *s, size_t n)
{
    char *r = mem_alloc(a, n + 1);
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

/* ---- tree building -------------------------------------------------------------------- */

/* ASCII only, as names are (RFC 5545 §3.1: iana-token / x-name). */
static inline unsigned char ascii_upper(unsigned char c)
{
    return c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
}

static char *upper_dup(ical_arena *a, const char *s, size_t n)
{
    char *r = mem_alloc(a, n + 1);
    for (size_t i = 0; i < n; i++)
        r[i] = (char)ascii_upper((unsigned char)s[i]);
    r[n] = 0;
    return r;
}

/* Names of components, properties and parameters that nearly every calendar uses are not
 * copied: they point into this table (never written through, never freed; see free_name).
 * known_slot is an open-addressing hash of the table (generated; hash as in known_name). */
static const char known_names[][16] = {
    "VCALENDAR", "VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE", "STANDARD",
    "DAYLIGHT", "VALARM", "VLOCATION", "PARTICIPANT", "VRESOURCE", "UID", "DTSTAMP", "DTSTART",
    "DTEND", "DURATION", "DUE", "SUMMARY", "DESCRIPTION", "LOCATION", "ORGANIZER", "ATTENDEE",
    "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "SEQUENCE", "STATUS", "TRANSP", "CLASS",
    "CREATED", "LAST-MODIFIED", "CATEGORIES", "PRIORITY", "URL", "GEO", "ACTION", "TRIGGER",
    "REPEAT", "PRODID", "VERSION", "CALSCALE", "METHOD", "TZID", "TZOFFSETFROM", "TZOFFSETTO",
    "TZNAME", "TZURL", "COMMENT", "CONTACT", "RELATED-TO", "ATTACH", "COLOR", "IMAGE",
    "CONFERENCE", "COMPLETED", "RESOURCES", "REQUEST-STATUS", "X-WR-CALNAME", "X-WR-TIMEZONE",
    "CN", "PARTSTAT", "ROLE", "RSVP", "VALUE", "CUTYPE", "LANGUAGE", "ALTREP", "RELATED",
    "ENCODING", "FMTTYPE", "EMAIL", "DELEGATED-TO", "DELEGATED-FROM", "SENT-BY", "DIR",
    "MEMBER", "RELTYPE", "RANGE", "FBTYPE", "X-LIC-LOCATION",
};
static const signed char known_slot[256] = {
    25, -1, -1, -1, -1, 36, 68, 80, 72, 81, -1, -1, 42, 53, -1, 30,
    54, -1, -1, -1, 71, -1, 56, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    70, -1, -1, -1, -1, -1, 55, 13, -1, -1, -1, -1, 49, 50, 16, -1,
    -1, -1, -1, 14, -1, 43, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    7, 63, -1, -1, -1, -1, 12, -1, -1, -1, 40, 67, 44, -1, 23, 24,
    33, 79, -1, -1, -1, 19, -1, -1, -1, -1, -1, -1, -1, -1, 35, 77,
    -1, -1, 64, -1, -1, 69, 20, 73, 78, 47, 65, -1, -1, -1, -1, -1,
    -1, 48, -1, -1, -1, -1, -1, -1, -1, 6, 74, -1, 27, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, 2, 32, 29, 39, 28, -1, -1, 8,
    -1, -1, -1, -1, 21, 62, -1, -1, -1, -1, -1, -1, -1, 38, 5, 11,
    41, -1, -1, 34, 1, -1, 3, -1, -1, -1, -1, 18, 57, 51, 75, -1,
    -1, -1, -1, 26, -1, -1, -1, -1, -1, 9, -1, 10, 46, -1, -1, -1,
    -1, -1, -1, -1, -1, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, 45,
    -1, -1, 17, 59, -1, -1, -1, -1, -1, 61, 4, -1, -1, -1, -1, -1,
    60, -1, -1, -1, -1, -1, -1, -1, -1, 15, -1, -1, -1, 52, 58, -1,
    -1, -1, 66, -1, -1, -1, -1, -1, -1, 76, -1, -1, 31, -1, 22, 37,
};

/* The table's upper-case copy of s[0..n), or NULL if not in the table. */
static const char *known_name(const char *s, size_t n)
{
    if (n == 0 || n >= sizeof known_names[0])
        return NULL;
    unsigned a = ascii_upper((unsigned char)s[0]), b = ascii_upper((unsigned char)s[n - 1]);
    unsigned k = (a * 7 + b * 3 + (unsigned)n * 13) & 255;
    for (;;) {
        int i = known_slot[k];
        if (i < 0)
            return NULL;
        const char *c = known_names[i];
        if (c[n] == 0) {
            size_t j = 0;
            while (j < n && (unsigned char)c[j] == ascii_upper((unsigned char)s[j]))
                j++;
            if (j == n)
                return c;
        }
        k = (k + 1) & 255;
    }
}

/* An upper-case name: the table's entry, or a copy. */
static char *name_dup(ical_arena *a, const char *s, size_t n)
{
    const char *k = known_name(s, n);
    return k ? (char *)k : upper_dup(a, s, n);
}

static void free_name(ical_arena *a, char *name)
{
    uintptr_t u = (uintptr_t)name, t = (uintptr_t)known_names;
    if (u < t || u >= t + sizeof known_names)
        mem_free(a, name);
}

ical_comp *ical_comp_new(const char *name)
{
    ical_comp *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->name = name_dup(NULL, name, strlen(name));
    return c;
}

static ical_prop *add_prop_take(ical_comp *c, char *name, char *value)
{
    if (c->nprops == c->capprops) {
        size_t cap = c->capprops ? c->capprops * 2 : 8;
        c->props =
            mem_grow(c->arena, c->props, c->nprops * sizeof *c->props, cap * sizeof *c->props);
        c->capprops = cap;
    }
    ical_prop *p = &c->props[c->nprops++];
    memset(p, 0, sizeof *p);
    p->name = name;
    p->value = value;
    p->arena = c->arena;
    return p;
}

ical_prop *ical_comp_add_prop(ical_comp *c, const char *name, const char *value)
{
    value = value ? value : "";
    return add_prop_take(c, name_dup(c->arena, name, strlen(name)),
                         mem_strndup(c->arena, value, strlen(value)));
}

void ical_comp_add_comp(ical_comp *parent, ical_comp *child)
{
    if (parent->ncomps == parent->capcomps) {
        size_t cap = parent->capcomps ? parent->capcomps * 2 : 4;
        parent->comps =
            mem_grow(parent->arena, parent->comps, parent->ncomps * sizeof *parent->comps,
                     cap * sizeof *parent->comps);
        parent->capcomps = cap;
    }
    parent->comps[parent->ncomps++] = child;
}

/* 1 if the stored (upper-case) name equals name in any case: strcasecmp for ASCII names. */
static int name_eq(const char *stored, const char *name)
{
    size_t i = 0;
    while (stored[i] && stored[i] == (char)ascii_upper((unsigned char)name[i]))
        i++;
    return stored[i] == 0 && name[i] == 0;
}

static ical_param *find_param(ical_prop *p, const char *name)
{
    for (size_t i = 0; i < p->nparams; i++)
        if (name_eq(p->params[i].name, name))
            return &p->params[i];
    return NULL;
}

/* Arrays of values and parameters grow to powers of two: room for n + 1 items is there
 * unless n is 0 or a power of two (deleting parameters only leaves more room). */
static int full(size_t n)
{
    return (n & (n - 1)) == 0;
}

static void param_add_value_take(ical_arena *a, ical_param *pa, char *v)
{
    if (full(pa->nvalues))
        pa->values = mem_grow(a, pa->values, pa->nvalues * sizeof *pa->values,
                              (pa->nvalues ? 2 * pa->nvalues : 1) * sizeof *pa->values);
    pa->values[pa->nvalues++] = v;
}

static ical_param *param_new(ical_prop *p, char *uname)
{
    if (full(p->nparams))
        p->params = mem_grow(p->arena, p->params, p->nparams * sizeof *p->params,
                             (p->nparams ? 2 * p->nparams : 1) * sizeof *p->params);
    ical_param *pa = &p->params[p->nparams++];
    pa->name = uname;
    pa->values = NULL;
    pa->nvalues = 0;
    return pa;
}

void ical_prop_add_param(ical_prop *p, const char *name, const char *value)
{
    ical_param *pa = find_param(p, name);
    if (!pa)
        pa = param_new(p, name_dup(p->arena, name, strlen(name)));
    param_add_value_take(p->arena, pa, mem_strndup(p->arena, value, strlen(value)));
}

static void param_free(ical_arena *a, ical_param *pa)
{
    if (a)
        return;
    free_name(a, pa->name);
    for (size_t i = 0; i < pa->nvalues; i++)
        free(pa->values[i]);
    free(pa->values);
}

void ical_prop_del_param(ical_prop *p, const char *name)
{
    size_t w = 0;
    for (size_t i = 0; i < p->nparams; i++) {
        if (!strcasecmp(p->params[i].name, name))
            param_free(p->arena, &p->params[i]);
        else
            p->params[w++] = p->params[i];
    }
    p->nparams = w;
}

void ical_prop_set_value(ical_prop *p, const char *value)
{
    mem_free(p->arena, p->value);
    p->value = mem_strndup(p->arena, value, strlen(value));
}

static void prop_free(ical_prop *p)
{
    if (p->arena)
        return;
    free_name(NULL, p->name);
    free(p->value);
    for (size_t i = 0; i < p->nparams; i++)
        param_free(NULL, &p->params[i]);
    free(p->params);
}

void ical_comp_free(ical_comp *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->ncomps; i++)
        ical_comp_free(c->comps[i]); /* each goes its own way: heap, arena of its own, ours */
    if (c->arena) {
        if (c->arena->owner == c)
            arena_free(c->arena);
        return;
    }
    free_name(NULL, c->name);
    for (size_t i = 0; i < c->nprops; i++)
        prop_free(&c->props[i]);
    free(c->props);
    free(c->comps);
    free(c);
}

ical_prop *ical_comp_get_prop(const ical_comp *c, const char *name)
{
    for (size_t i = 0; i < c->nprops; i++)
        if (name_eq(c->props[i].name, name))
            return &c->props[i];
    return NULL;
}

const ical_param *ical_prop_get_param(const ical_prop *p, const char *name)
{
    return find_param((ical_prop *)p, name);
}

const char *ical_prop_param1(const ical_prop *p, const char *name)
{
    const ical_param *pa = ical_prop_get_param(p, name);
    return pa && pa->nvalues ? pa->values[0] : NULL;
}

void ical_prop_params_pick(const ical_prop *p, const char *const *names, size_t n,
                           const ical_param **out)
{
    memset(out, 0, n * sizeof *out);
    for (size_t i = 0; i < p->nparams; i++) {
        const char *pn = p->params[i].name; /* upper-case, like names */
        for (size_t k = 0; k < n; k++)
            if (!out[k] && pn[0] == names[k][0] && !strcmp(pn, names[k])) {
                out[k] = &p->params[i];
                break;
            }
    }
}

/* ---- parsing -------------------------------------------------------------------------- */

/* Name characters (RFC 5545 §3.1: ALPHA / DIGIT / "-"). */
static inline int is_name_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '-';
}

/* RFC 6868: ^n -> newline, ^^ -> ^, ^' -> DQUOTE; other carets stay as they are. */
static char *caret_decode(ical_arena *a, const char *s, size_t n)
{
    if (!memchr(s, '^', n))
        return mem_strndup(a, s, n);
    char *r = mem_alloc(a, n + 1), *w = r;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '^' && i + 1 < n && (s[i + 1] == 'n' || s[i + 1] == 'N')) {
            *w++ = '\n';
            i++;
        } else if (s[i] == '^' && i + 1 < n && s[i + 1] == '^') {
            *w++ = '^';
            i++;
        } else if (s[i] == '^' && i + 1 < n && s[i + 1] == '\'') {
            *w++ = '"';
            i++;
        } else {
            *w++ = s[i];
        }
    }
    *w = 0;
    return r;
}

/* RFC 5545 §3.1.4 / RFC 3629: content is UTF-8. Returns 1 if s[0..n) is well-formed. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4))
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        if (len == 3 && ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F)))
            return 0;
        if (len == 4 && ((c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] > 0x8F)))
            return 0;
        i += len;
    }
    return 1;
}

static char *errf(int line, const char *msg, const char *detail)
{
    return jscal_strdupf("line %d: %s%s%s", line, msg, detail ? ": " : "", detail ? detail : "");
}

/* errf with the detail s[0..n), which need not end in a NUL. */
static char *errfn(int line, const char *msg, const char *s, size_t n)
{
    char *d = strndup(s, n);
    char *e = errf(line, msg, d);
    free(d);
    return e;
}

/* Checks one physical line: no NUL, well-formed UTF-8. Returns 0 or -1 with *err. Most
 * lines are plain ASCII, checked eight bytes at a time. */
static int check_line(const unsigned char *s, size_t n, int line, char **err)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t v;
        memcpy(&v, s + i, 8);
        if ((v & highs) || ((v - ones) & ~v & highs)) /* a byte >= 0x80, or a zero byte */
            break;
    }
    while (i < n && s[i] && s[i] < 0x80)
        i++;
    if (i == n)
        return 0;
    if (memchr(s + i, 0, n - i)) {
        *err = errf(line, "NUL byte in content", NULL);
        return -1;
    }
    if (!utf8_ok(s + i, n - i)) { /* s[0..i) is ASCII: i starts a character */
        *err = errf(line, "invalid UTF-8", NULL);
        return -1;
    }
    return 0;
}

/* The properties of a component being parsed, gathered on the heap and copied into the arena
 * at END with the exact size (an array grown inside the arena would leave its old copies). */
typedef struct {
    ical_prop *v;
    size_t n, cap;
} prop_vec;

static ical_prop *prop_vec_push(prop_vec *pv, ical_arena *a)
{
    if (pv->n == pv->cap) {
        pv->cap = pv->cap ? pv->cap * 2 : 16;
        pv->v = realloc(pv->v, pv->cap * sizeof *pv->v);
        if (!pv->v)
            abort();
    }
    ical_prop *p = &pv->v[pv->n++];
    memset(p, 0, sizeof *p);
    p->arena = a;
    return p;
}

/* Moves the gathered properties into c (in its arena) and empties pv. */
static void prop_vec_finish(prop_vec *pv, ical_comp *c)
{
    if (pv->n) {
        c->props = arena_alloc(c->arena, pv->n * sizeof *c->props);
        memcpy(c->props, pv->v, pv->n * sizeof *c->props);
    }
    c->nprops = c->capprops = pv->n;
    pv->n = 0;
}

/* Parses one unfolded content line s[0..n) into a property of c (gathered in props).
 * Returns 0 or -1 with *err. */
static int parse_line(const char *s, size_t n, int line, ical_comp *c, prop_vec *props, char **err)
{
    ical_arena *a = c->arena;
    size_t i = 0;
    while (i < n && is_name_char((unsigned char)s[i]))
        i++;
    if (i == 0 || i >= n || (s[i] != ';' && s[i] != ':')) {
        *err = errf(line, "malformed content line (expected NAME[;PARAM=..]:VALUE)", NULL);
        return -1;
    }
    ical_prop *p = prop_vec_push(props, a);
    p->name = name_dup(a, s, i);
    p->line = line;
    while (i < n && s[i] == ';') {
        size_t ns = ++i;
        while (i < n && is_name_char((unsigned char)s[i]))
            i++;
        if (i == ns || i >= n || s[i] != '=') {
            *err = errf(line, "malformed parameter in property", p->name);
            return -1;
        }
        if (p->nparams >= MAX_PARAMS) {
            *err = errf(line, "too many parameters in property", p->name);
            return -1;
        }
        char *pname = name_dup(a, s + ns, i - ns);
        ical_param *pa = find_param(p, pname);
        if (pa)
            free_name(a, pname);
        else
            pa = param_new(p, pname);
        i++; /* '=' */
        for (;;) {
            size_t vs, ve;
            if (i < n && s[i] == '"') {
                vs = ++i;
                const char *q = memchr(s + i, '"', n - i);
                if (!q) {
                    *err = errf(line, "unterminated quoted parameter value in property",
                                p->name);
                    return -1;
                }
                i = (size_t)(q - s);
                ve = i++;
            } else {
                vs = i;
                while (i < n && s[i] != ',' && s[i] != ';' && s[i] != ':' && s[i] != '"')
                    i++;
                ve = i;
                if (i < n && s[i] == '"') {
                    *err = errf(line, "stray quote in parameter value of property", p->name);
                    return -1;
                }
            }
            param_add_value_take(a, pa, caret_decode(a, s + vs, ve - vs));
            if (i < n && s[i] == ',') {
                i++;
                continue;
            }
            break;
        }
    }
    if (i >= n || s[i] != ':') {
        *err = errf(line, "missing ':' after parameters of property", p->name);
        return -1;
    }
    i++;
    p->value = mem_strndup(a, s + i, n - i);
    return 0;
}

/* A component of a parsed tree, in arena a, or in a new arena of its own if a is NULL: a
 * large one for a top-level component, steady blocks of ARENA_CHILD_BLOCK bytes for the
 * many children (an event needs one to three). */
static ical_comp *comp_new_parsed(ical_arena *a, int top, const char *name, size_t n, int line)
{
    int own = !a;
    if (own)
        a = top ? arena_new(4096, 0) : arena_new(ARENA_CHILD_BLOCK, 1);
    ical_comp *c = arena_alloc(a, sizeof *c);
    memset(c, 0, sizeof *c);
    c->arena = a;
    c->name = name_dup(a, name, n);
    c->line = line;
    if (own)
        a->owner = c;
    return c;
}

/* Index of the end of the physical line starting at pos: its '\n', or len. */
static size_t line_end(const char *text, size_t len, size_t pos)
{
    const char *nl = memchr(text + pos, '\n', len - pos);
    return nl ? (size_t)(nl - text) : len;
}

int ical_parse(const char *text, size_t len, ical_comp ***out, char **err)
{
    ical_comp *stack[MAX_DEPTH];
    int depth = 0;
    ical_comp **tops = NULL;
    size_t ntops = 0;
    jbuf folded = {0};
    prop_vec props[MAX_DEPTH] = {{0}};
    size_t pos = 0;
    int physline = 0;
    *out = NULL;
    *err = NULL;

    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        pos = 3; /* UTF-8 byte order mark */

    while (pos < len) {
        /* One logical line: a physical line plus continuation lines (RFC 5545 §3.1). Most
         * lines are not folded and are parsed where they are; folded ones are joined. */
        int startline = physline + 1;
        size_t e = line_end(text, len, pos), ce = e;
        if (ce > pos && text[ce - 1] == '\r')
            ce--;
        if (check_line((const unsigned char *)text + pos, ce - pos, physline + 1, err))
            goto fail;
        physline++;
        const char *s = text + pos;
        size_t n = ce - pos;
        pos = e < len ? e + 1 : e;
        if (pos < len && (text[pos] == ' ' || text[pos] == '\t')) {
            folded.len = 0;
            jbuf_add(&folded, s, n);
            while (pos < len && (text[pos] == ' ' || text[pos] == '\t')) {
                e = line_end(text, len, pos);
                ce = e;
                if (ce > pos && text[ce - 1] == '\r')
                    ce--;
                if (check_line((const unsigned char *)text + pos, ce - pos, physline + 1, err))
                    goto fail;
                physline++;
                jbuf_add(&folded, text + pos + 1, ce - pos - 1); /* drop the fold space */
                pos = e < len ? e + 1 : e;
            }
            s = folded.s;
            n = folded.len;
        }
        if (n == 0)
            continue; /* blank line: tolerated */
        if (n > 6 && (s[0] == 'B' || s[0] == 'b') && !strncasecmp(s, "BEGIN:", 6)) {
            if (depth >= MAX_DEPTH) {
                *err = errf(startline, "components nested too deeply", NULL);
                goto fail;
            }
            for (size_t k = 6; k < n; k++)
                if (!is_name_char((unsigned char)s[k])) {
                    *err = errfn(startline, "invalid component name", s + 6, n - 6);
                    goto fail;
                }
            /* the top-level components and their children get arenas of their own */
            ical_comp *c = comp_new_parsed(depth >= 2 ? stack[depth - 1]->arena : NULL, depth == 0,
                                           s + 6, n - 6, startline);
            if (depth > 0) {
                ical_comp_add_comp(stack[depth - 1], c);
            } else {
                tops = realloc(tops, (ntops + 1) * sizeof *tops);
                tops[ntops++] = c;
            }
            stack[depth++] = c;
        } else if (n > 4 && (s[0] == 'E' || s[0] == 'e') && !strncasecmp(s, "END:", 4)) {
            const char *open = depth ? stack[depth - 1]->name : NULL;
            if (!open || strlen(open) != n - 4 || strncasecmp(open, s + 4, n - 4)) {
                char *name = strndup(s + 4, n - 4);
                *err = open ? jscal_strdupf("line %d: END:%s does not match BEGIN:%s at line %d",
                                            startline, name, open, stack[depth - 1]->line)
                            : errf(startline, "END without BEGIN", name);
                free(name);
                goto fail;
            }
            depth--;
            prop_vec_finish(&props[depth], stack[depth]);
        } else {
            if (depth == 0) {
                *err = errf(startline, "content line outside of any component", NULL);
                goto fail;
            }
            if (parse_line(s, n, startline, stack[depth - 1], &props[depth - 1], err))
                goto fail;
        }
    }
    if (depth > 0) {
        *err = jscal_strdupf("line %d: missing END:%s for BEGIN at line %d", physline,
                             stack[depth - 1]->name, stack[depth - 1]->line);
        goto fail;
    }
    if (ntops == 0) {
        *err = jscal_strdupf("line %d: no BEGIN:VCALENDAR found", physline > 0 ? physline : 1);
        goto fail;
    }
    free(folded.s);
    for (int d = 0; d < MAX_DEPTH; d++)
        free(props[d].v);
    *out = tops;
    return (int)ntops;
fail:
    free(folded.s);
    for (int d = 0; d < MAX_DEPTH; d++)
        free(props[d].v); /* unfinished components keep no properties */
    for (size_t i = 0; i < ntops; i++)
        ical_comp_free(tops[i]);
    free(tops);
    return -1;
}

/* ---- writing -------------------------------------------------------------------------- */

/* Emits one logical line, folded so no physical line exceeds 75 octets (RFC 5545 §3.1),
 * never splitting a UTF-8 sequence. */
static void write_folded(jbuf *b, const char *s, size_t n)
{
    size_t col = 0, i = 0;
    while (i < n) {
        size_t room = 75 - col;
        if (n - i <= room) {
            jbuf_add(b, s + i, n - i);
            break;
        }
        size_t cut = i + room;
        while (cut > i && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
        if (cut == i)
            cut = i + room;
        jbuf_add(b, s + i, cut - i);
        jbuf_adds(b, "\r\n ");
        col = 1;
        i = cut;
    }
    jbuf_adds(b, "\r\n");
}

static void add_param_value(jbuf *b, const char *v, int force_quote)
{
    int quote = force_quote || strpbrk(v, ":;,") != NULL || *v == 0;
    if (quote)
        jbuf_adds(b, "\"");
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            jbuf_adds(b, "^'");
        else if (*p == '\n')
            jbuf_adds(b, "^n");
        else if (*p == '^')
            jbuf_adds(b, "^^");
        else if (*p == '\r' || ((unsigned char)*p < 0x20 && *p != '\t'))
            continue;
        else
            jbuf_add(b, p, 1);
    }
    if (quote)
        jbuf_adds(b, "\"");
}

void ical_prop_write(const ical_prop *p, jbuf *b)
{
    jbuf l = {0};
    jbuf_adds(&l, p->name);
    for (size_t i = 0; i < p->nparams; i++) {
        if (!p->params[i].nvalues)
            continue;
        jbuf_adds(&l, ";");
        jbuf_adds(&l, p->params[i].name);
        jbuf_adds(&l, "=");
        for (size_t k = 0; k < p->params[i].nvalues; k++) {
            if (k)
                jbuf_adds(&l, ",");
            /* draft-ietf-calext-jscalendar-icalendar-25 §4.2.2: JSPTR values MUST be quoted */
            add_param_value(&l, p->params[i].values[k], !strcmp(p->params[i].name, "JSPTR"));
        }
    }
    jbuf_adds(&l, ":");
    /* A raw value must not carry line breaks; escape any that slipped in. */
    for (const char *v = p->value ? p->value : ""; *v; v++) {
        if (*v == '\n')
            jbuf_adds(&l, "\\n");
        else if (*v != '\r')
            jbuf_add(&l, v, 1);
    }
    write_folded(b, l.s, l.len);
    free(l.s);
}

void ical_comp_write(const ical_comp *c, jbuf *b)
{
    jbuf_adds(b, "BEGIN:");
    jbuf_adds(b, c->name);
    jbuf_adds(b, "\r\n");
    for (size_t i = 0; i < c->nprops; i++)
        ical_prop_write(&c->props[i], b);
    for (size_t i = 0; i < c->ncomps; i++)
        ical_comp_write(c->comps[i], b);
    jbuf_adds(b, "END:");
    jbuf_adds(b, c->name);
    jbuf_adds(b, "\r\n");
}

/* ---- TEXT values ---------------------------------------------------------------------- */

char *ical_text_unescape(const char *s)
{
    size_t n = strlen(s);
    char *r = malloc(n + 1), *w = r;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[++i];
            *w++ = (c == 'n' || c == 'N') ? '\n' : c;
        } else {
            *w++ = s[i];
        }
    }
    *w = 0;
    return r;
}

char *ical_text_escape(const char *s)
{
    jbuf b = {0};
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '\\':
            jbuf_adds(&b, "\\\\");
            break;
        case ';':
            jbuf_adds(&b, "\\;");
            break;
        case ',':
            jbuf_adds(&b, "\\,");
            break;
        case '\n':
            jbuf_adds(&b, "\\n");
            break;
        case '\r':
            break;
        default:
            jbuf_add(&b, p, 1);
        }
    }
    return jbuf_take(&b);
}

size_t ical_split_values(const char *raw, char ***out)
{
    size_t n = 0;
    char **v = NULL;
    const char *start = raw;
    for (const char *p = raw;; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == ',' || *p == 0) {
            v = realloc(v, (n + 1) * sizeof *v);
            v[n] = strndup(start, (size_t)(p - start));
            n++;
            if (!*p)
                break;
            start = p + 1;
        }
    }
    *out = v;
    return n;
}

void ical_free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
