/*
 * buffer.h — the growable string buffer every formats/ module writes text into (vCard,
 * iCalendar, JSON, JSON Pointer). The text is always NUL-terminated after an append;
 * allocation failure aborts (the policy of the whole formats/ tree). A zeroed jbuf is
 * empty and ready; jbuf_take hands the text over, jbuf_free drops it.
 */
#ifndef JMAPD_FORMATS_JSON_BUFFER_H
#define JMAPD_FORMATS_JSON_BUFFER_H

#include <stddef.h>
#include <string.h>

typedef struct jbuf {
    char *s;
    size_t len, cap;
} jbuf;

/* Makes room for n more bytes and the NUL (aborts when out of memory). */
void jbuf_grow(jbuf *b, size_t n);

/* Appends s[0..n). Inline: the writers call it for every token. */
static inline void jbuf_add(jbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap)
        jbuf_grow(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static inline void jbuf_addc(jbuf *b, char c)
{
    if (b->len + 2 > b->cap)
        jbuf_grow(b, 1);
    b->s[b->len++] = c;
    b->s[b->len] = 0;
}

void jbuf_adds(jbuf *b, const char *s);
void jbuf_printf(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns the malloc'd NUL-terminated text (never NULL; "" when empty) and resets b. */
char *jbuf_take(jbuf *b);
/* Frees the text and resets b. */
void jbuf_free(jbuf *b);

#endif
