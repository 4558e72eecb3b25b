/*
 * collation.h — string comparison under the collations JMAP advertises in
 * collationAlgorithms (RFC 8620 §2, RFC 4790 registry): i;ascii-numeric,
 * i;ascii-casemap, i;octet and i;unicode-casemap (RFC 5051: NFKD after simple
 * case folding, via ICU).
 */
#ifndef JMAPD_COLLATION_H
#define JMAPD_COLLATION_H

#include <stdbool.h>
#include <stddef.h>

bool collation_known(const char *name);
/* <0, 0, >0 as a sorts before, equal to, after b. */
int collation_compare(const char *name, const char *a, const char *b);
/* The i;unicode-casemap key of s: malloc'd UTF-8 whose byte order is the
 * collation's order; also used for case-insensitive substring matching. */
char *collation_casemap_key(const char *s);
/* Case-insensitive (i;unicode-casemap) substring test. */
bool collation_contains(const char *haystack, const char *needle);

#endif
