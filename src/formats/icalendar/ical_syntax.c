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

void ical_comp_remove_prop(ical_comp *c, size_t i)
{
    if (i >= c->nprops)
        return;
    if (!c->arena)
        prop_free(&c->props[i]);
    memmove(&c->props[i], &c->props[i + 1], (c->nprops - i - 1) * sizeof *c->props);
    c->nprops--;
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

/* Checks one physical line: no NUL, well-formed UTF-8, and with ctl set no control
 * character but HTAB (RFC 5545 §3.1: CONTROL is not part of any value). Returns 0 or -1
 * with *err. Most lines are plain printable ASCII, checked eight bytes at a time. */
static int check_line(const unsigned char *s, size_t n, int line, int ctl, char **err)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    const uint64_t below = ctl ? 0x2020202020202020u : ones; /* bytes under it stop the run */
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t v;
        memcpy(&v, s + i, 8);
        if ((v & highs) || ((v - below) & ~v & highs)) /* >= 0x80, or under the bound */
            break;
    }
    while (i < n && s[i] < 0x80 && (ctl ? s[i] >= 0x20 : s[i] != 0))
        i++;
    if (i == n)
        return 0;
    if (memchr(s + i, 0, n - i)) {
        *err = errf(line, "NUL byte in content", NULL);
        return -1;
    }
    for (size_t k = i; ctl && k < n; k++)
        if ((s[k] < 0x20 && s[k] != '\t') || s[k] == 0x7F) {
            *err = errf(line, "control character in content", NULL);
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

/* ---- repairs of real-world text ------------------------------------------------------- */

/* Windows-1252 0x80..0x9F as Unicode (0: undefined, read as U+FFFD). */
static const uint16_t cp1252_c1[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

static void put_utf8(jbuf *b, unsigned cp)
{
    char u[3];
    if (cp < 0x80) {
        u[0] = (char)cp;
        jbuf_add(b, u, 1);
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        jbuf_add(b, u, 2);
    } else {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        jbuf_add(b, u, 3);
    }
}

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80 ? 1 : (s[0] >> 5) == 6 ? 2 : (s[0] >> 4) == 14 ? 3 : (s[0] >> 3) == 30 ? 4 : 0;
    return len && len <= n && utf8_ok(s, len) ? len : 0;
}

static void warnf(json_t *warnings, int line, const char *msg, const char *detail)
{
    if (!warnings)
        return;
    char *w = errf(line, msg, detail);
    json_array_append_new(warnings, json_string(w));
    free(w);
}

/* 1 if the byte at text[i] is a control character no content line may hold (CR only as
 * the CR of CRLF). */
static int stray_control(const char *text, size_t len, size_t i)
{
    unsigned char c = (unsigned char)text[i];
    if (c == '\r')
        return i + 1 >= len || text[i + 1] != '\n';
    return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7F;
}

/* A copy of text in which every byte that does not start well-formed UTF-8 is read as
 * Windows-1252 (what Outlook and Lotus Notes exports without a charset are) and control
 * characters are dropped, but for a file with CR line ends only (classic Mac OS), whose CRs
 * end lines; one warning for each line changed. */
static char *repair_encoding(const char *text, size_t len, size_t *outlen, json_t *warnings)
{
    jbuf b = {0};
    jbuf_grow(&b, len + len / 8 + 16);
    int line = 1, warned_line = 0, nwarned = 0;
    int cr_lines = !memchr(text, '\n', len);
    for (size_t i = 0; i < len;) {
        const unsigned char *u = (const unsigned char *)text + i;
        if (*u == '\r' && cr_lines) {
            jbuf_add(&b, "\n", 1);
            line++;
            i++;
            continue;
        }
        size_t k = stray_control(text, len, i) ? 0 : utf8_seq(u, len - i);
        if (k) {
            jbuf_add(&b, text + i, k);
            line += *u == '\n';
            i += k;
            continue;
        }
        if (*u >= 0x80)
            put_utf8(&b, *u >= 0xA0 ? *u : cp1252_c1[*u - 0x80] ? cp1252_c1[*u - 0x80] : 0xFFFD);
        if (warned_line != line && nwarned++ < 20)
            warnf(warnings, line,
                  *u >= 0x80 ? "invalid UTF-8, read as Windows-1252" : "control character dropped",
                  NULL);
        warned_line = line;
        i++;
    }
    *outlen = b.len;
    return jbuf_take(&b);
}

/* ---- the parser ----------------------------------------------------------------------- */

typedef struct {
    const char *text;
    size_t len, pos;
    int physline;
    ical_comp *stack[MAX_DEPTH];
    int depth;
    ical_comp **tops;
    size_t ntops;
    jbuf folded;
    prop_vec props[MAX_DEPTH];
    json_t *warnings; /* repair mode: fix what real-world producers write, and say so */
    int repair;
    char *err;
} parser;

/* A problem on a line: an error, or in repair mode a warning and the line is skipped.
 * Returns -1 for an error, 0 to go on. */
static int problem(parser *ps, char *msg)
{
    if (!ps->repair) {
        ps->err = msg;
        return -1;
    }
    char *w = jscal_strdupf("%s (line skipped)", msg);
    if (ps->warnings)
        json_array_append_new(ps->warnings, json_string(w));
    free(w);
    free(msg);
    return 0;
}

/* The next logical line: a physical line plus its continuation lines (RFC 5545 §3.1). Most
 * lines are not folded and are returned where they are; folded ones are joined. Returns 1
 * with *s, *n, *line set, 0 at the end, -1 on an error. */
static int next_line(parser *ps, const char **s, size_t *n, int *line)
{
    const char *text = ps->text;
    size_t len = ps->len;
    if (ps->pos >= len)
        return 0;
    *line = ps->physline + 1;
    size_t pos = ps->pos, e = line_end(text, len, pos), ce = e;
    if (ce > pos && text[ce - 1] == '\r')
        ce--;
    if (check_line((const unsigned char *)text + pos, ce - pos, ps->physline + 1, ps->repair,
                   &ps->err))
        return -1;
    ps->physline++;
    *s = text + pos;
    *n = ce - pos;
    pos = e < len ? e + 1 : e;
    if (pos < len && (text[pos] == ' ' || text[pos] == '\t')) {
        ps->folded.len = 0;
        jbuf_add(&ps->folded, *s, *n);
        while (pos < len && (text[pos] == ' ' || text[pos] == '\t')) {
            e = line_end(text, len, pos);
            ce = e;
            if (ce > pos && text[ce - 1] == '\r')
                ce--;
            if (check_line((const unsigned char *)text + pos, ce - pos, ps->physline + 1, ps->repair,
                   &ps->err))
                return -1;
            ps->physline++;
            jbuf_add(&ps->folded, text + pos + 1, ce - pos - 1); /* drop the fold space */
            pos = e < len ? e + 1 : e;
        }
        *s = ps->folded.s;
        *n = ps->folded.len;
    }
    ps->pos = pos;
    return 1;
}

static int on_begin(parser *ps, const char *s, size_t n, int line)
{
    /* A component outside any VCALENDAR is written back inside one: one level less here. */
    int bare = ps->depth > 0 && strcasecmp(ps->stack[0]->name, "VCALENDAR");
    if (ps->depth >= MAX_DEPTH - (ps->repair && bare)) {
        ps->err = errf(line, "components nested too deeply", NULL);
        return -1;
    }
    for (size_t k = 6; k < n; k++)
        if (!is_name_char((unsigned char)s[k]))
            return problem(ps, errfn(line, "invalid component name", s + 6, n - 6));
    /* the top-level components and their children get arenas of their own */
    ical_comp *c = comp_new_parsed(ps->depth >= 2 ? ps->stack[ps->depth - 1]->arena : NULL,
                                   ps->depth == 0, s + 6, n - 6, line);
    if (ps->depth > 0) {
        ical_comp_add_comp(ps->stack[ps->depth - 1], c);
    } else {
        ps->tops = realloc(ps->tops, (ps->ntops + 1) * sizeof *ps->tops);
        ps->tops[ps->ntops++] = c;
    }
    ps->stack[ps->depth++] = c;
    return 0;
}

/* Closes the innermost open component. */
static void close_comp(parser *ps)
{
    ps->depth--;
    prop_vec_finish(&ps->props[ps->depth], ps->stack[ps->depth]);
}

static int on_end(parser *ps, const char *s, size_t n, int line)
{
    const char *name = s + 4;
    size_t nl = n - 4;
    int match = -1; /* the innermost open component of that name */
    for (int d = ps->depth - 1; d >= 0 && match < 0; d--)
        if (strlen(ps->stack[d]->name) == nl && !strncasecmp(ps->stack[d]->name, name, nl))
            match = d;
    if (match >= 0 && match == ps->depth - 1) {
        close_comp(ps);
        return 0;
    }
    if (match >= 0 && ps->repair) { /* END:VCALENDAR after a VEVENT without its END */
        while (ps->depth - 1 > match) {
            warnf(ps->warnings, line, "missing END, component closed",
                  ps->stack[ps->depth - 1]->name);
            close_comp(ps);
        }
        close_comp(ps);
        return 0;
    }
    char *nm = strndup(name, nl);
    char *msg = ps->depth ? jscal_strdupf("line %d: END:%s does not match BEGIN:%s at line %d",
                                          line, nm, ps->stack[ps->depth - 1]->name,
                                          ps->stack[ps->depth - 1]->line)
                          : errf(line, "END without BEGIN", nm);
    free(nm);
    return problem(ps, msg);
}

static int on_prop(parser *ps, const char *s, size_t n, int line)
{
    if (ps->depth == 0)
        return problem(ps, errf(line, "content line outside of any component", NULL));
    prop_vec *pv = &ps->props[ps->depth - 1];
    size_t before = pv->n;
    char *msg = NULL;
    if (!parse_line(s, n, line, ps->stack[ps->depth - 1], pv, &msg))
        return 0;
    pv->n = before; /* a half-parsed property is not kept */
    return problem(ps, msg);
}

static void parser_free(parser *ps, int keep_tops)
{
    free(ps->folded.s);
    for (int d = 0; d < MAX_DEPTH; d++)
        free(ps->props[d].v); /* unfinished components keep no properties */
    for (size_t i = 0; !keep_tops && i < ps->ntops; i++)
        ical_comp_free(ps->tops[i]);
    if (!keep_tops)
        free(ps->tops);
}

/* One pass over text. Returns the number of top-level components or -1 (ps->err set). */
static int parse_text(parser *ps)
{
    const char *s;
    size_t n;
    int line, r;
    if (ps->len >= 3 && (unsigned char)ps->text[0] == 0xEF &&
        (unsigned char)ps->text[1] == 0xBB && (unsigned char)ps->text[2] == 0xBF)
        ps->pos = 3; /* UTF-8 byte order mark */
    while ((r = next_line(ps, &s, &n, &line)) == 1) {
        if (n == 0)
            continue; /* blank line: tolerated */
        if (n > 6 && (s[0] == 'B' || s[0] == 'b') && !strncasecmp(s, "BEGIN:", 6))
            r = on_begin(ps, s, n, line);
        else if (n > 4 && (s[0] == 'E' || s[0] == 'e') && !strncasecmp(s, "END:", 4))
            r = on_end(ps, s, n, line);
        else
            r = on_prop(ps, s, n, line);
        if (r)
            return -1;
    }
    if (r < 0)
        return -1;
    if (ps->depth > 0 && !ps->repair) {
        ps->err = jscal_strdupf("line %d: missing END:%s for BEGIN at line %d", ps->physline,
                                ps->stack[ps->depth - 1]->name, ps->stack[ps->depth - 1]->line);
        return -1;
    }
    while (ps->depth > 0) { /* a file cut short: close what is open */
        warnf(ps->warnings, ps->physline, "missing END at the end of the file, component closed",
              ps->stack[ps->depth - 1]->name);
        close_comp(ps);
    }
    if (ps->ntops == 0) {
        ps->err = jscal_strdupf("line %d: no BEGIN:VCALENDAR found", ps->physline > 0 ? ps->physline : 1);
        return -1;
    }
    return (int)ps->ntops;
}

static int parse(const char *text, size_t len, ical_comp ***out, int repair, json_t *warnings,
                 char **err)
{
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.text = text;
    ps.len = len;
    ps.repair = repair;
    ps.warnings = warnings;
    size_t nwarn = warnings ? json_array_size(warnings) : 0;
    char *fixed = NULL;
    *out = NULL;
    *err = NULL;
    int n = parse_text(&ps);
    if (n < 0 && repair && !fixed && ps.err &&
        (strstr(ps.err, "invalid UTF-8") || strstr(ps.err, "NUL byte") ||
         strstr(ps.err, "control character"))) {
        /* not UTF-8: once more over a Windows-1252 reading of the text */
        parser_free(&ps, 0);
        free(ps.err);
        while (warnings && json_array_size(warnings) > nwarn)
            json_array_remove(warnings, json_array_size(warnings) - 1);
        size_t flen;
        fixed = repair_encoding(text, len, &flen, warnings);
        memset(&ps, 0, sizeof ps);
        ps.text = fixed;
        ps.len = flen;
        ps.repair = repair;
        ps.warnings = warnings;
        n = parse_text(&ps);
    }
    free(fixed);
    parser_free(&ps, n >= 0);
    if (n < 0) {
        *err = ps.err;
        return -1;
    }
    *out = ps.tops;
    return n;
}

int ical_parse(const char *text, size_t len, ical_comp ***out, char **err)
{
    return parse(text, len, out, 0, NULL, err);
}

int ical_parse_repair(const char *text, size_t len, ical_comp ***out, json_t *warnings,
                      char **err)
{
    return parse(text, len, out, 1, warnings, err);
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

bool ical_name_valid(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-'))
            return false;
    return true;
}

bool ical_params_json_valid(const json_t *params)
{
    const char *k;
    json_t *v;
    if (!json_is_object(params))
        return false;
    json_object_foreach((json_t *)params, k, v)
    {
        if (!ical_name_valid(k))
            return false;
        size_t i;
        json_t *e;
        if (json_is_array(v)) {
            json_array_foreach(v, i, e) if (!json_is_string(e)) return false;
        } else if (!json_is_string(v)) {
            return false;
        }
    }
    return true;
}

/* ---- TEXT values ---------------------------------------------------------------------- */

int ical_vtimezone_is(const ical_comp *c, const char *tzid)
{
    if (strcasecmp(c->name, "VTIMEZONE"))
        return 0;
    const ical_prop *p = ical_comp_get_prop(c, "TZID");
    if (!p)
        return 0;
    if (!strcmp(p->value, tzid))
        return 1;
    if (!strchr(p->value, '\\'))
        return 0;
    char *u = ical_text_unescape(p->value);
    int same = u && !strcmp(u, tzid);
    free(u);
    return same;
}

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
