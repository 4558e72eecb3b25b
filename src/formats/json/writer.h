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
/* Frees text from json_dumps with jansson's own free function (which a command-line tool
 * may have replaced with json_set_alloc_funcs), not with free(). */
void jwriter_text_free(char *s);

#endif
