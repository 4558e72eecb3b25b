/*
 * buffer.c — the growable string buffer of buffer.h.
 */
#include "formats/json/buffer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void jbuf_grow(jbuf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s)
        abort();
    b->s = s;
    b->cap = cap;
}

void jbuf_adds(jbuf *b, const char *s)
{
    jbuf_add(b, s, strlen(s));
}

void jbuf_printf(jbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    jbuf_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *jbuf_take(jbuf *b)
{
    char *s = b->s;
    if (s) {
        s[b->len] = 0; /* jbuf_grow alone leaves it unterminated */
    } else {
        s = malloc(1);
        if (!s)
            abort();
        *s = 0;
    }
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

void jbuf_free(jbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}
