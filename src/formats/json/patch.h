/*
 * patch.h — JSON Pointer (RFC 6901) with JMAP's "*" extension for result references
 * (RFC 8620 §3.7), and PatchObject application (RFC 8620 §5.3, also used by
 * JSCalendar recurrenceOverrides). Pure functions over jansson values.
 */
#ifndef JMAPD_PATCH_H
#define JMAPD_PATCH_H

#include <jansson.h>

#include "formats/json/pointer.h"

/* Evaluates pointer against root as RFC 8620 §3.7 says: RFC 6901 plus "*", which
 * maps the rest of the path over every item of an array and flattens array results
 * one level. Returns a new reference, or NULL if the path does not resolve. */
json_t *jpointer_eval(json_t *root, const char *pointer);

/* Decodes one reference token ("~1" -> "/", "~0" -> "~") into a malloc'd string;
 * NULL if the token has a bad escape. The one decoder is pointer.h's; this name is
 * kept for jmap/engine.c. */
static inline char *jpointer_unescape(const char *token, size_t len)
{
    return jptr_token_decode(token, len);
}

/* Applies the PatchObject patch to obj in place (RFC 8620 §5.3): every key is a
 * pointer (implicit leading "/") to set; a null value removes the property. Rejects,
 * before changing anything, a pointer into an array, a pointer whose parent does not
 * exist or is not an object, and two pointers where one is a prefix of the other.
 * Returns 0, or -1 with *errpath (if not NULL) set to a malloc'd copy of the
 * offending key. */
int patch_apply(json_t *obj, json_t *patch, char **errpath);

/* Builds the PatchObject that turns from into to (object properties recursively,
 * arrays and scalars replaced whole); returns a new object, empty if equal. */
json_t *patch_diff(json_t *from, json_t *to);

#endif
