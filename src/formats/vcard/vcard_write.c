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
static void put_folded(vbuf *out, const char *line, size_t n)
{
    size_t col = 0, i = 0;
    while (i < n) {
        size_t l = vc_utf8_seqlen((const unsigned char *)line + i, n - i);
        if (l == 0)
            l = 1;
        if (col + l > 75) {
            vbuf_putn(out, "\r\n ", 3);
            col = 1;
        }
        vbuf_putn(out, line + i, l);
        col += l;
        i += l;
    }
    vbuf_putn(out, "\r\n", 2);
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

static void put_param_value(vbuf *b, const char *v, int v3, int quote)
{
    int q = quote || needs_quotes(v);
    if (q)
        vbuf_putc(b, '"');
    for (const char *p = v; *p; p++) {
        if (v3) {
            /* RFC 2426 has no way to write these inside a parameter value */
            if (*p == '"')
                vbuf_putc(b, '\'');
            else if (*p == '\n' || *p == '\r')
                vbuf_putc(b, ' ');
            else if (((unsigned char)*p >= 0x20 && *p != 0x7F) || *p == '\t')
                vbuf_putc(b, *p);
            continue;
        }
        /* RFC 6868 §3 */
        if (*p == '^')
            vbuf_puts(b, "^^");
        else if (*p == '"')
            vbuf_puts(b, "^'");
        else if (*p == '\n')
            vbuf_puts(b, "^n");
        else if (((unsigned char)*p >= 0x20 && *p != 0x7F) || *p == '\t')
            vbuf_putc(b, *p); /* no control characters but HTAB in a param-value */
    }
    if (q)
        vbuf_putc(b, '"');
}

static void put_prop(vbuf *out, vbuf *line, const vcard_prop *p, int v3)
{
    line->len = 0;
    if (p->group && vcard_name_valid(p->group)) {
        vbuf_puts(line, p->group);
        vbuf_putc(line, '.');
    }
    vbuf_puts(line, p->name);
    for (size_t i = 0; i < p->nparams; i++) {
        const vcard_param *pa = &p->params[i];
        if (!vcard_name_valid(pa->name))
            continue; /* RFC 6350 §3.3 param-name; see vcard.h */
        vbuf_putc(line, ';');
        vbuf_puts(line, pa->name);
        vbuf_putc(line, '=');
        /* RFC 9555 §3.3.1, §3.3.2: JSCOMPS and JSPTR values are always quoted */
        int quote = !strcasecmp(pa->name, "JSPTR") || !strcasecmp(pa->name, "JSCOMPS");
        for (size_t j = 0; j < pa->nvalues; j++) {
            if (j)
                vbuf_putc(line, ',');
            put_param_value(line, pa->values[j], v3, quote);
        }
    }
    vbuf_putc(line, ':');
    for (const char *v = p->value; *v; v++) {
        /* values are escaped by their builders; never let a raw line break through */
        unsigned char ch = (unsigned char)*v;
        if (ch == '\n')
            vbuf_puts(line, "\\n");
        else if ((ch >= 0x20 && ch != 0x7F) || ch == '\t')
            vbuf_putc(line, *v); /* RFC 6350 §3.3 VALUE-CHAR has no control characters */
    }
    put_folded(out, line->s, line->len);
}

char *vcard_write(const vcard *cards, size_t ncards, int flags)
{
    int v3 = (flags & VCARD_WRITE_V3) != 0;
    vbuf out = {0}, line = {0};
    vbuf_grow(&out, 256 * ncards);
    for (size_t c = 0; c < ncards; c++) {
        vbuf_puts(&out, "BEGIN:VCARD\r\n");
        vbuf_puts(&out, v3 ? "VERSION:3.0\r\n" : "VERSION:4.0\r\n");
        for (size_t i = 0; i < cards[c].nprops; i++) {
            const vcard_prop *p = &cards[c].props[i];
            if (strcasecmp(p->name, "VERSION") == 0 || strcasecmp(p->name, "BEGIN") == 0 ||
                strcasecmp(p->name, "END") == 0 || !vcard_name_valid(p->name))
                continue;
            put_prop(&out, &line, p, v3);
        }
        vbuf_puts(&out, "END:VCARD\r\n");
    }
    vbuf_free(&line);
    return vbuf_take(&out);
}
