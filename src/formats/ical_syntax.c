/*
 * ical_syntax.c — RFC 5545 §3.1 content lines: parse text into an ical_comp tree and write
 * it back. See ical_syntax.h for why this does not go through libical's parser.
 */
#include "formats/ical_syntax.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 16
#define MAX_PARAMS 64

/* ---- tree building -------------------------------------------------------------------- */

static char *upper_dup(const char *s, size_t n)
{
    char *r = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        r[i] = (char)toupper((unsigned char)s[i]);
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
    unsigned a = (unsigned)toupper((unsigned char)s[0]), b = (unsigned)toupper((unsigned char)s[n - 1]);
    unsigned k = (a * 7 + b * 3 + (unsigned)n * 13) & 255;
    for (;;) {
        int i = known_slot[k];
        if (i < 0)
            return NULL;
        const char *c = known_names[i];
        if (c[n] == 0 && !strncasecmp(c, s, n))
            return c;
        k = (k + 1) & 255;
    }
}

/* An upper-case name: the table's entry, or a malloc'd copy. */
static char *name_dup(const char *s, size_t n)
{
    const char *k = known_name(s, n);
    return k ? (char *)k : upper_dup(s, n);
}

static void free_name(char *name)
{
    uintptr_t u = (uintptr_t)name, t = (uintptr_t)known_names;
    if (u < t || u >= t + sizeof known_names)
        free(name);
}

ical_comp *ical_comp_new(const char *name)
{
    ical_comp *c = calloc(1, sizeof *c);
    c->name = name_dup(name, strlen(name));
    return c;
}

static ical_prop *add_prop_take(ical_comp *c, char *name, char *value)
{
    if (c->nprops == c->capprops) {
        c->capprops = c->capprops ? c->capprops * 2 : 8;
        c->props = realloc(c->props, c->capprops * sizeof *c->props);
    }
    ical_prop *p = &c->props[c->nprops++];
    memset(p, 0, sizeof *p);
    p->name = name;
    p->value = value;
    return p;
}

ical_prop *ical_comp_add_prop(ical_comp *c, const char *name, const char *value)
{
    return add_prop_take(c, name_dup(name, strlen(name)), strdup(value ? value : ""));
}

void ical_comp_add_comp(ical_comp *parent, ical_comp *child)
{
    if (parent->ncomps == parent->capcomps) {
        parent->capcomps = parent->capcomps ? parent->capcomps * 2 : 4;
        parent->comps = realloc(parent->comps, parent->capcomps * sizeof *parent->comps);
    }
    parent->comps[parent->ncomps++] = child;
}

static ical_param *find_param(ical_prop *p, const char *name)
{
    /* stored names are uppercase: compare the first letter before the full comparison */
    int c0 = toupper((unsigned char)name[0]);
    for (size_t i = 0; i < p->nparams; i++)
        if (p->params[i].name[0] == c0 && !strcasecmp(p->params[i].name, name))
            return &p->params[i];
    return NULL;
}

/* Arrays of values and parameters grow to powers of two: room for n + 1 items is there
 * unless n is 0 or a power of two (deleting parameters only leaves more room). */
static int full(size_t n)
{
    return (n & (n - 1)) == 0;
}

static void param_add_value_take(ical_param *pa, char *v)
{
    if (full(pa->nvalues))
        pa->values = realloc(pa->values, (pa->nvalues ? 2 * pa->nvalues : 1) * sizeof *pa->values);
    pa->values[pa->nvalues++] = v;
}

static ical_param *param_new(ical_prop *p, char *uname)
{
    if (full(p->nparams))
        p->params = realloc(p->params, (p->nparams ? 2 * p->nparams : 1) * sizeof *p->params);
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
        pa = param_new(p, name_dup(name, strlen(name)));
    param_add_value_take(pa, strdup(value));
}

static void param_free(ical_param *pa)
{
    free_name(pa->name);
    for (size_t i = 0; i < pa->nvalues; i++)
        free(pa->values[i]);
    free(pa->values);
}

void ical_prop_del_param(ical_prop *p, const char *name)
{
    size_t w = 0;
    for (size_t i = 0; i < p->nparams; i++) {
        if (!strcasecmp(p->params[i].name, name))
            param_free(&p->params[i]);
        else
            p->params[w++] = p->params[i];
    }
    p->nparams = w;
}

static void prop_free(ical_prop *p)
{
    free_name(p->name);
    free(p->value);
    for (size_t i = 0; i < p->nparams; i++)
        param_free(&p->params[i]);
    free(p->params);
}

void ical_comp_free(ical_comp *c)
{
    if (!c)
        return;
    free_name(c->name);
    for (size_t i = 0; i < c->nprops; i++)
        prop_free(&c->props[i]);
    free(c->props);
    for (size_t i = 0; i < c->ncomps; i++)
        ical_comp_free(c->comps[i]);
    free(c->comps);
    free(c);
}

ical_prop *ical_comp_get_prop(const ical_comp *c, const char *name)
{
    int c0 = toupper((unsigned char)name[0]);
    for (size_t i = 0; i < c->nprops; i++)
        if (c->props[i].name[0] == c0 && !strcasecmp(c->props[i].name, name))
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

/* ---- parsing -------------------------------------------------------------------------- */

static int is_name_char(unsigned char c)
{
    return isalnum(c) || c == '-';
}

/* RFC 6868: ^n -> newline, ^^ -> ^, ^' -> DQUOTE; other carets stay as they are. */
static char *caret_decode(const char *s, size_t n)
{
    char *r = malloc(n + 1), *w = r;
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

/* Parses one unfolded content line into a property of c. Returns 0 or -1 with *err. */
static int parse_line(const char *s, size_t n, int line, ical_comp *c, char **err)
{
    size_t i = 0;
    while (i < n && is_name_char((unsigned char)s[i]))
        i++;
    if (i == 0 || i >= n || (s[i] != ';' && s[i] != ':')) {
        *err = errf(line, "malformed content line (expected NAME[;PARAM=..]:VALUE)", NULL);
        return -1;
    }
    ical_prop *p = add_prop_take(c, name_dup(s, i), NULL);
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
        char *pname = name_dup(s + ns, i - ns);
        ical_param *pa = find_param(p, pname);
        if (pa)
            free_name(pname);
        else
            pa = param_new(p, pname);
        i++; /* '=' */
        for (;;) {
            size_t vs, ve;
            if (i < n && s[i] == '"') {
                vs = ++i;
                while (i < n && s[i] != '"')
                    i++;
                if (i >= n) {
                    *err = errf(line, "unterminated quoted parameter value in property",
                                p->name);
                    return -1;
                }
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
            param_add_value_take(pa, caret_decode(s + vs, ve - vs));
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
    p->value = malloc(n - i + 1);
    memcpy(p->value, s + i, n - i);
    p->value[n - i] = 0;
    return 0;
}

int ical_parse(const char *text, size_t len, ical_comp ***out, char **err)
{
    ical_comp *stack[MAX_DEPTH];
    int depth = 0;
    ical_comp **tops = NULL;
    size_t ntops = 0;
    jscal_buf line = {0};
    size_t pos = 0;
    int physline = 0;
    *out = NULL;
    *err = NULL;

    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        pos = 3; /* UTF-8 byte order mark */

    while (pos < len) {
        /* Gather one logical line: a physical line plus continuation lines (RFC 5545 §3.1). */
        int startline = physline + 1;
        line.len = 0;
        if (line.s)
            line.s[0] = 0;
        int first = 1;
        for (;;) {
            size_t e = pos;
            while (e < len && text[e] != '\n')
                e++;
            size_t ce = e;
            if (ce > pos && text[ce - 1] == '\r')
                ce--;
            if (memchr(text + pos, 0, ce - pos)) {
                *err = errf(physline + 1, "NUL byte in content", NULL);
                goto fail;
            }
            if (!utf8_ok((const unsigned char *)text + pos, ce - pos)) {
                *err = errf(physline + 1, "invalid UTF-8", NULL);
                goto fail;
            }
            physline++;
            if (first)
                jscal_buf_add(&line, text + pos, ce - pos);
            else if (ce > pos)
                jscal_buf_add(&line, text + pos + 1, ce - pos - 1); /* drop the fold space */
            first = 0;
            pos = e < len ? e + 1 : e;
            if (pos < len && (text[pos] == ' ' || text[pos] == '\t'))
                continue;
            break;
        }
        if (line.len == 0)
            continue; /* blank line: tolerated */
        const char *s = line.s;
        size_t n = line.len;
        if (n > 6 && !strncasecmp(s, "BEGIN:", 6)) {
            if (depth >= MAX_DEPTH) {
                *err = errf(startline, "components nested too deeply", NULL);
                goto fail;
            }
            for (size_t k = 6; k < n; k++)
                if (!is_name_char((unsigned char)s[k])) {
                    *err = errf(startline, "invalid component name", s + 6);
                    goto fail;
                }
            ical_comp *c = ical_comp_new(s + 6);
            c->line = startline;
            if (depth > 0)
                ical_comp_add_comp(stack[depth - 1], c);
            else {
                tops = realloc(tops, (ntops + 1) * sizeof *tops);
                tops[ntops++] = c;
            }
            stack[depth++] = c;
        } else if (n > 4 && !strncasecmp(s, "END:", 4)) {
            if (depth == 0 || strcasecmp(stack[depth - 1]->name, s + 4)) {
                *err = depth ? jscal_strdupf("line %d: END:%s does not match BEGIN:%s at line %d",
                                             startline, s + 4, stack[depth - 1]->name,
                                             stack[depth - 1]->line)
                             : errf(startline, "END without BEGIN", s + 4);
                goto fail;
            }
            depth--;
        } else {
            if (depth == 0) {
                *err = errf(startline, "content line outside of any component", NULL);
                goto fail;
            }
            if (parse_line(s, n, startline, stack[depth - 1], err))
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
    free(line.s);
    *out = tops;
    return (int)ntops;
fail:
    free(line.s);
    for (size_t i = 0; i < ntops; i++)
        ical_comp_free(tops[i]);
    free(tops);
    return -1;
}

/* ---- writing -------------------------------------------------------------------------- */

/* Emits one logical line, folded so no physical line exceeds 75 octets (RFC 5545 §3.1),
 * never splitting a UTF-8 sequence. */
static void write_folded(jscal_buf *b, const char *s, size_t n)
{
    size_t col = 0, i = 0;
    while (i < n) {
        size_t room = 75 - col;
        if (n - i <= room) {
            jscal_buf_add(b, s + i, n - i);
            break;
        }
        size_t cut = i + room;
        while (cut > i && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
        if (cut == i)
            cut = i + room;
        jscal_buf_add(b, s + i, cut - i);
        jscal_buf_adds(b, "\r\n ");
        col = 1;
        i = cut;
    }
    jscal_buf_adds(b, "\r\n");
}

static void add_param_value(jscal_buf *b, const char *v, int force_quote)
{
    int quote = force_quote || strpbrk(v, ":;,") != NULL || *v == 0;
    if (quote)
        jscal_buf_adds(b, "\"");
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            jscal_buf_adds(b, "^'");
        else if (*p == '\n')
            jscal_buf_adds(b, "^n");
        else if (*p == '^')
            jscal_buf_adds(b, "^^");
        else if (*p == '\r' || ((unsigned char)*p < 0x20 && *p != '\t'))
            continue;
        else
            jscal_buf_add(b, p, 1);
    }
    if (quote)
        jscal_buf_adds(b, "\"");
}

void ical_prop_write(const ical_prop *p, jscal_buf *b)
{
    jscal_buf l = {0};
    jscal_buf_adds(&l, p->name);
    for (size_t i = 0; i < p->nparams; i++) {
        if (!p->params[i].nvalues)
            continue;
        jscal_buf_adds(&l, ";");
        jscal_buf_adds(&l, p->params[i].name);
        jscal_buf_adds(&l, "=");
        for (size_t k = 0; k < p->params[i].nvalues; k++) {
            if (k)
                jscal_buf_adds(&l, ",");
            /* draft-ietf-calext-jscalendar-icalendar-25 §4.2.2: JSPTR values MUST be quoted */
            add_param_value(&l, p->params[i].values[k], !strcmp(p->params[i].name, "JSPTR"));
        }
    }
    jscal_buf_adds(&l, ":");
    /* A raw value must not carry line breaks; escape any that slipped in. */
    for (const char *v = p->value ? p->value : ""; *v; v++) {
        if (*v == '\n')
            jscal_buf_adds(&l, "\\n");
        else if (*v != '\r')
            jscal_buf_add(&l, v, 1);
    }
    write_folded(b, l.s, l.len);
    free(l.s);
}

void ical_comp_write(const ical_comp *c, jscal_buf *b)
{
    jscal_buf_adds(b, "BEGIN:");
    jscal_buf_adds(b, c->name);
    jscal_buf_adds(b, "\r\n");
    for (size_t i = 0; i < c->nprops; i++)
        ical_prop_write(&c->props[i], b);
    for (size_t i = 0; i < c->ncomps; i++)
        ical_comp_write(c->comps[i], b);
    jscal_buf_adds(b, "END:");
    jscal_buf_adds(b, c->name);
    jscal_buf_adds(b, "\r\n");
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
    jscal_buf b = {0};
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '\\':
            jscal_buf_adds(&b, "\\\\");
            break;
        case ';':
            jscal_buf_adds(&b, "\\;");
            break;
        case ',':
            jscal_buf_adds(&b, "\\,");
            break;
        case '\n':
            jscal_buf_adds(&b, "\\n");
            break;
        case '\r':
            break;
        default:
            jscal_buf_add(&b, p, 1);
        }
    }
    return jscal_buf_take(&b);
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
