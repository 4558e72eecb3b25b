/*
 * writer.h — compact JSON text from jansson values: like json_dumps(j, JSON_COMPACT)
 * (member order kept, the same text) but several times faster, for exporting large
 * calendars and address books; into a jbuf, or to a FILE in pieces.
 */
#ifndef JMAPD_FORMATS_JSON_WRITER_H
#define JMAPD_FORMATS_JSON_WRITER_H

#include <jansson.h>
#include <stdio.h>

#include "formats/json/buffer.h"

/* Appends the compact JSON text of j to b. */
void jwriter_append(const json_t *j, jbuf *b);
/* The same, written to f in pieces (no buffer the size of the output). */
void jwriter_fwrite(const json_t *j, FILE *f);
/* Raw JSON: a placeholder node standing for text that is already compact JSON (text the
 * server wrote itself, e.g. stored metadata), which the writer copies as it is instead of
 * it being parsed into a tree and written again. Outside this writer the placeholder is an
 * ordinary string, so put it only in a tree that nothing but the writer reads. The
 * placeholders of a thread stay registered (each holds a reference, so no other node can
 * take the address of one) until jwriter_raw_clear. New reference. */
json_t *jwriter_raw_new(const char *text, size_t n);
/* Forgets the thread's placeholders (after the tree holding them has been written). */
void jwriter_raw_clear(void);

/* Frees text from json_dumps with jansson's own free function (which a command-line tool
 * may have replaced with json_set_alloc_funcs), not with free(). */
void jwriter_text_free(char *s);

#endif
