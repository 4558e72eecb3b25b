/*
 * text_match.h — the text matching of the /query text conditions (calendars-27
 * §5.11.1 and the types that follow it): case- and diacritic-insensitive; quoted
 * text is a phrase matched as is, other words are tokens that must each start a
 * word somewhere in the field. And the store terms (store.h) that narrow a search
 * to a superset of what the exact match accepts.
 */
#ifndef JMAPD_TEXT_MATCH_H
#define JMAPD_TEXT_MATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* The match key of s (i;unicode-casemap, combining marks removed), malloc'd. */
char *text_match_key(const char *s);
/* The search string q as terms: a new array of {"t": key, "phrase": bool}. */
json_t *text_match_terms(const char *q);
/* Whether key (a match key) holds every term. */
bool text_match_all(const char *key, json_t *terms);
/* Appends to *out (realloc'd, count *n) one store term per word-bearing term of
 * terms, for field; the texts are borrowed from terms. */
void text_match_store_terms(json_t *terms, int field, struct store_text_term **out, size_t *n);

#endif
