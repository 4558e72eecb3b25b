/*
 * vcard_write.c — serialises the content-line model of vcard.h as vCard text:
 * RFC 6350 §3.2 line folding (75 octets, never inside a UTF-8 sequence), CRLF line
 * ends, §3.3 parameter quoting and RFC 6868 caret escapes (4.0 only; 3.0 has no
 * caret escapes, so characters that cannot be represented are replaced).
 */
#include <string.h>
#include <strings.h>

#include "formats/vcard/vcard.h"
#include "formats/vcard/vcard_internal.h"

/* Appends one content line to out, folded at 75 octets. */
static void put_folded(jbuf *out, const char *line, size_t n)
{
    size_t col = 0, i = 0;
    while (i < n) {
        size_t l = vc_utf8_seqlen((const unsigned char *)line + i, n - i);
        if (l == 0)
            l = 1;
        if (col + l > 75) {
            jbuf_add(out, "\r\n ", 3);
            col = 1;
        }
        jbuf_add(out, line + i, l);
        col += l;
        i += l;
    }
    jbuf_add(out, "\r\n", 2);
}

static int needs_quotes(const char *v)
{
    if (!*v)
        return 0;
    for (const char *p = v; *p; p++)
        if (*p == ':' || *p == ';' || *p == ',' || *p == '"' || *p == '\n' || *p == ' ' ||
            *p == '^')
            return 1;
    return 0;
}

static void put_param_value(jbuf *b, const char *v, int v3, int quote)
{
    int q = quote || needs_quotes(v);
    if (q)
        jbuf_addc(b, '"');
    for (const char *p = v; *p; p++) {
        if (v3) {
            /* RFC 2426 has no way to write these inside a parameter value */
            if (*p == '"')
                jbuf_addc(b, '\'');
            else if (*p == '\n' || *p == '\r')
                jbuf_addc(b, ' ');
            else if (((unsigned char)*p >= 0x20 && *p != 0x7F) || *p == '\t')
                jbuf_addc(b, *p);
            continue;
        }
        /* RFC 6868 §3 */
        if (*p == '^')
            jbuf_adds(b, "^^");
        else if (*p == '"')
            jbuf_adds(b, "^'");
        else if (*p == '\n')
            jbuf_adds(b, "^n");
        else if (((unsigned char)*p >= 0x20 && *p != 0x7F) || *p == '\t')
            jbuf_addc(b, *p); /* no control characters but HTAB in a param-value */
    }
    if (q)
        jbuf_addc(b, '"');
}

static void put_prop(jbuf *out, jbuf *line, const vcard_prop *p, int v3)
{
    line->len = 0;
    if (p->group && vcard_name_valid(p->group)) {
        jbuf_adds(line, p->group);
        jbuf_addc(line, '.');
    }
    jbuf_adds(line, p->name);
    for (size_t i = 0; i < p->nparams; i++) {
        const vcard_param *pa = &p->params[i];
        if (!vcard_name_valid(pa->name))
            continue; /* RFC 6350 §3.3 param-name; see vcard.h */
        jbuf_addc(line, ';');
        jbuf_adds(line, pa->name);
        jbuf_addc(line, '=');
        /* RFC 9555 §3.3.1, §3.3.2: JSCOMPS and JSPTR values are always quoted */
        int quote = !strcasecmp(pa->name, "JSPTR") || !strcasecmp(pa->name, "JSCOMPS");
        for (size_t j = 0; j < pa->nvalues; j++) {
            if (j)
                jbuf_addc(line, ',');
            put_param_value(line, pa->values[j], v3, quote);
        }
    }
    jbuf_addc(line, ':');
    for (const char *v = p->value; *v; v++) {
        /* values are escaped by their builders; never let a raw line break through */
        unsigned char ch = (unsigned char)*v;
        if (ch == '\n')
            jbuf_adds(line, "\\n");
        else if ((ch >= 0x20 && ch != 0x7F) || ch == '\t')
            jbuf_addc(line, *v); /* RFC 6350 §3.3 VALUE-CHAR has no control characters */
    }
    put_folded(out, line->s, line->len);
}

char *vcard_write(const vcard *cards, size_t ncards, int flags)
{
    int v3 = (flags & VCARD_WRITE_V3) != 0;
    jbuf out = {0}, line = {0};
    jbuf_grow(&out, 256 * ncards);
    for (size_t c = 0; c < ncards; c++) {
        jbuf_adds(&out, "BEGIN:VCARD\r\n");
        jbuf_adds(&out, v3 ? "VERSION:3.0\r\n" : "VERSION:4.0\r\n");
        for (size_t i = 0; i < cards[c].nprops; i++) {
            const vcard_prop *p = &cards[c].props[i];
            if (strcasecmp(p->name, "VERSION") == 0 || strcasecmp(p->name, "BEGIN") == 0 ||
                strcasecmp(p->name, "END") == 0 || !vcard_name_valid(p->name))
                continue;
            put_prop(&out, &line, p, v3);
        }
        jbuf_adds(&out, "END:VCARD\r\n");
    }
    jbuf_free(&line);
    return jbuf_take(&out);
}
