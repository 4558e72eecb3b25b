/*
 * pointer.h — JSON Pointer reference tokens (RFC 6901 §3, §4): "~" is written "~0" and
 * "/" is written "~1". One escaper and one decoder for every module that builds or reads
 * paths (PatchObject keys, JSPTR, convertedProperties, invalidProperties, result
 * references); pointer evaluation itself is in patch.h.
 */
#ifndef JMAPD_FORMATS_JSON_POINTER_H
#define JMAPD_FORMATS_JSON_POINTER_H

#include <stddef.h>

#include "formats/json/buffer.h"

/* Appends the escaped form of the token s to b. */
void jptr_token_encode(jbuf *b, const char *s);
/* The escaped form of the token s, malloc'd. */
char *jptr_token_escape(const char *s);
/* Decodes the token s[0..n) into a malloc'd string; NULL if it holds a "~" that is not
 * "~0" or "~1" (RFC 6901 §4: an error). */
char *jptr_token_decode(const char *s, size_t n);

#endif
