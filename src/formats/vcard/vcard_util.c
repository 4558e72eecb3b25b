/*
 * vcard_util.c — allocation wrappers and UTF-8 checks used by the
 * vCard and JSContact modules (see vcard_internal.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/vcard/vcard_internal.h"

void *vc_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

void *vc_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

char *vc_strndup(const char *s, size_t n)
{
    char *d = vc_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *vc_strdup(const char *s)
{
    return vc_strndup(s, strlen(s));
}

size_t vc_utf8_seqlen(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    else if ((c & 0xE0) == 0xC0)
        len = 2, min = 0x80, c &= 0x1F;
    else if ((c & 0xF0) == 0xE0)
        len = 3, min = 0x800, c &= 0x0F;
    else if ((c & 0xF8) == 0xF0)
        len = 4, min = 0x10000, c &= 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0; /* overlong, out of range or a surrogate */
    return len;
}

int vc_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (p[i] == 0)
            return 0;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = vc_utf8_seqlen(p + i, n - i);
        if (!l)
            return 0;
        i += l;
    }
    return 1;
}
