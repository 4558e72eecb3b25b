/*
 * vcard_internal.h — small helpers shared by the vcard*.c, vcard_to_jscontact.c and
 * jscontact*.c files: allocation wrappers (the string buffer is formats/json/buffer.h) that abort
 * on out-of-memory (the same policy as jansson's default allocator failing loudly).
 * Not part of the public API.
 */
#ifndef JMAPD_FORMATS_VCARD_INTERNAL_H
#define JMAPD_FORMATS_VCARD_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "formats/json/buffer.h"

void *vc_malloc(size_t n);
void *vc_realloc(void *p, size_t n);
char *vc_strdup(const char *s);
char *vc_strndup(const char *s, size_t n);

/* vcard_value_unescape into out (at least len + 1 bytes); returns the length written. */
size_t vc_unescape_to(char *out, const char *raw, size_t len);

/* Length of the valid UTF-8 sequence starting at s (at most n bytes), or 0. */
size_t vc_utf8_seqlen(const unsigned char *s, size_t n);
/* True if s[0..n) is valid UTF-8 without NUL bytes. */
int vc_utf8_valid(const char *s, size_t n);

#endif
