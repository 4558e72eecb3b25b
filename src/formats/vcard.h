/*
 * vcard.h — the vCard data model, parser and writer (RFC 6350 vCard 4.0, with
 * vCard 3.0 / RFC 2426 input and output, and the RFC 9554 extensions).
 *
 * A parsed vCard is a flat list of content lines: group, name, parameters and the
 * raw value text. Transfer encodings (3.0 ENCODING=QUOTED-PRINTABLE, CHARSET) are
 * undone by the parser, but value escaping is kept, because how a value is escaped
 * depends on its type (TEXT, structured, URI): the vcard_value_* helpers unescape.
 * vcard_to_jscontact.c and jscontact_to_vcard.c sit on top of this module.
 *
 * Everything here is pure: no I/O, no global mutable state, safe from any thread.
 */
#ifndef JMAPD_FORMATS_VCARD_H
#define JMAPD_FORMATS_VCARD_H

#include <stddef.h>

/* A parameter: its name in upper case and its values. A quoted value is one value
 * (commas kept); unquoted values are split at commas. RFC 6868 caret escapes and the
 * quotes are already removed. */
typedef struct vcard_param {
    char *name;
    char **values;
    size_t nvalues;
} vcard_param;

/* A content line (RFC 6350 §3.3). */
typedef struct vcard_prop {
    char *group; /* NULL if none; as written */
    char *name;  /* upper case */
    vcard_param *params;
    size_t nparams;
    char *value;   /* raw value text, UTF-8, still backslash-escaped */
    size_t lineno; /* first physical line of the content line; 0 if built in memory */
} vcard_prop;

typedef struct vcard {
    vcard_prop *props;
    size_t nprops, cap;
    int version;   /* 40 or 30 (21 read as 30) */
    size_t lineno; /* line of BEGIN:VCARD */
} vcard;

/* ---- parsing ---------------------------------------------------------------- */

/* A vCard with more properties than this is refused: the conversion rules that
 * join properties (ALTID, groups) look at pairs of properties, and no address book
 * entry needs thousands of them. */
#define VCARD_MAX_PROPS 5000

/* Parses text holding one or more vCards. On success returns 0 and stores a malloc'd
 * array of *ncards cards in *cards (free with vcard_list_free). On error returns -1
 * and writes a message naming the line ("line 12: ...") to err (errlen bytes).
 * Tolerates producer quirks: bare TYPE values (TEL;WORK;VOICE:), vCard 2.1 QP soft
 * line breaks, CHARSET, lower-case names, LF-only line ends, blank lines. */
int vcard_parse(const char *text, size_t len, vcard **cards, size_t *ncards, char *err,
                size_t errlen);

void vcard_free(vcard *card);                      /* frees the contents of one card */
void vcard_list_free(vcard *cards, size_t ncards); /* frees the array from vcard_parse */

/* ---- building ---------------------------------------------------------------- */

/* Appends a property (group may be NULL; the name is stored in upper case, as the
 * parser stores it) with a raw (already escaped) value; returns it so that
 * parameters can be added. The pointer is valid until the next vcard_prop_add on
 * the same card (the array may move). */
vcard_prop *vcard_prop_add(vcard *card, const char *group, const char *name, const char *raw_value);
/* Appends a parameter value (adds the parameter if it is not yet there). */
void vcard_param_add(vcard_prop *prop, const char *name, const char *value);
/* Sets a parameter to exactly one value. */
void vcard_param_set(vcard_prop *prop, const char *name, const char *value);
/* Removes a parameter; no-op if absent. */
void vcard_param_del(vcard_prop *prop, const char *name);
/* Returns the parameter named (case-insensitive), or NULL. */
const vcard_param *vcard_param_get(const vcard_prop *prop, const char *name);
/* Returns the first value of the parameter, or NULL. */
const char *vcard_param_first(const vcard_prop *prop, const char *name);
/* True if the parameter has this value (case-insensitive), also looking inside
 * comma-separated quoted values (TYPE="home,voice"). */
int vcard_param_has(const vcard_prop *prop, const char *name, const char *value);

/* ---- values ----------------------------------------------------------------- */

/* Unescapes a TEXT value (RFC 6350 §3.4): \n \N \\ \, \; \: → the character. A
 * lone backslash before another character is kept as is. Returns malloc'd text. */
char *vcard_value_unescape(const char *raw, size_t len);

/* Escapes text for a TEXT value: backslash, newline, and (if list) comma and
 * semicolon. Returns malloc'd text. */
char *vcard_value_escape(const char *text, int list);

/* Splits raw at unescaped sep (';' or ','), returning malloc'd raw pieces (still
 * escaped) in *parts, their count in *nparts. Free with vcard_strv_free. */
void vcard_value_split(const char *raw, char sep, char ***parts, size_t *nparts);
void vcard_strv_free(char **v, size_t n);

/* ---- writing ---------------------------------------------------------------- */

#define VCARD_WRITE_V3 1 /* vCard 3.0 (RFC 2426) instead of 4.0 */

/* Serialises cards: BEGIN/VERSION/…/END, CRLF line ends, folded at 75 octets
 * without splitting UTF-8 sequences (RFC 6350 §3.2). A VERSION property in the card
 * is ignored (the writer writes its own). With VCARD_WRITE_V3 the card must already
 * be in 3.0 shape (jscontact_to_vcard does that); only parameter quoting differs.
 * Returns malloc'd text. */
char *vcard_write(const vcard *cards, size_t ncards, int flags);

#endif
