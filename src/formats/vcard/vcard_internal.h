/*
 * vcard_internal.h — small helpers shared by the vcard*.c, vcard_to_jscontact.c and
 * jscontact*.c files: a growable string buffer and allocation wrappers that abort
 * on out-of-memory (the same policy as jansson's default allocator failing loudly).
 * Not part of the public API.
 */
#ifndef JMAPD_FORMATS_VCARD_INTERNAL_H
#define JMAPD_FORMATS_VCARD_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

typedef struct vbuf {
    char *s;
    size_t len, cap;
} vbuf;

void *vc_malloc(size_t n);
void *vc_realloc(void *p, size_t n);
char *vc_strdup(const char *s);
char *vc_strndup(const char *s, size_t n);

void vbuf_grow(vbuf *b, size_t extra);
void vbuf_putn(vbuf *b, const char *s, size_t n);
void vbuf_puts(vbuf *b, const char *s);
void vbuf_putc(vbuf *b, char c);
void vbuf_printf(vbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the NUL-terminated contents (never NULL) and resets the buffer. */
char *vbuf_take(vbuf *b);
void vbuf_free(vbuf *b);

/* vcard_value_unescape into out (at least len + 1 bytes); returns the length written. */
size_t vc_unescape_to(char *out, const char *raw, size_t len);

/* Length of the valid UTF-8 sequence starting at s (at most n bytes), or 0. */
size_t vc_utf8_seqlen(const unsigned char *s, size_t n);
/* True if s[0..n) is valid UTF-8 without NUL bytes. */
int vc_utf8_valid(const char *s, size_t n);

#endif
