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

/* Property and parameter names that the parser and the conversion rules know (RFC 6350
 * §6, RFC 6474, RFC 6715, RFC 8605, RFC 9554 §3-§4, RFC 9555 §3.3, vCard 3.0 and the
 * vendor names the rules convert). Both kinds share one table, because several names are
 * both (LANGUAGE, TZ, GEO, LABEL, CREATED). Each name's id is VC_ and the name with '-'
 * written as '_': VC_ADR, VC_PROP_ID, VC_X_ABLABEL. */
/* clang-format off */
#define VCARD_NAMES(X)                                                                         \
    X(ADR, "ADR") X(AGENT, "AGENT") X(ALTID, "ALTID") X(ANNIVERSARY, "ANNIVERSARY")            \
    X(AUTHOR, "AUTHOR") X(AUTHOR_NAME, "AUTHOR-NAME") X(BDAY, "BDAY") X(BEGIN, "BEGIN")        \
    X(BIRTHPLACE, "BIRTHPLACE") X(CALADRURI, "CALADRURI") X(CALSCALE, "CALSCALE")              \
    X(CALURI, "CALURI") X(CATEGORIES, "CATEGORIES") X(CC, "CC") X(CHARSET, "CHARSET")          \
    X(CLASS, "CLASS") X(CLIENTPIDMAP, "CLIENTPIDMAP") X(CONTACT_URI, "CONTACT-URI")            \
    X(CREATED, "CREATED") X(DEATHDATE, "DEATHDATE") X(DEATHPLACE, "DEATHPLACE")                \
    X(DERIVED, "DERIVED") X(EMAIL, "EMAIL") X(ENCODING, "ENCODING") X(END, "END")              \
    X(EXPERTISE, "EXPERTISE") X(FBURL, "FBURL") X(FN, "FN") X(GENDER, "GENDER") X(GEO, "GEO")  \
    X(GRAMGENDER, "GRAMGENDER") X(HOBBY, "HOBBY") X(IMPP, "IMPP") X(INDEX, "INDEX")            \
    X(INTEREST, "INTEREST") X(JSCOMPS, "JSCOMPS") X(JSPROP, "JSPROP") X(JSPTR, "JSPTR")        \
    X(KEY, "KEY") X(KIND, "KIND") X(LABEL, "LABEL") X(LANG, "LANG") X(LANGUAGE, "LANGUAGE")    \
    X(LEVEL, "LEVEL") X(LOGO, "LOGO") X(MAILER, "MAILER") X(MEDIATYPE, "MEDIATYPE")            \
    X(MEMBER, "MEMBER") X(N, "N") X(NAME, "NAME") X(NICKNAME, "NICKNAME") X(NOTE, "NOTE")      \
    X(ORG, "ORG") X(ORG_DIRECTORY, "ORG-DIRECTORY") X(PHONETIC, "PHONETIC") X(PHOTO, "PHOTO")  \
    X(PID, "PID") X(PREF, "PREF") X(PRODID, "PRODID") X(PROFILE, "PROFILE")                    \
    X(PRONOUNS, "PRONOUNS") X(PROP_ID, "PROP-ID") X(RELATED, "RELATED") X(REV, "REV")          \
    X(ROLE, "ROLE") X(SCRIPT, "SCRIPT") X(SERVICE_TYPE, "SERVICE-TYPE")                        \
    X(SOCIALPROFILE, "SOCIALPROFILE") X(SORT_AS, "SORT-AS") X(SORT_STRING, "SORT-STRING")      \
    X(SOUND, "SOUND") X(SOURCE, "SOURCE") X(TEL, "TEL") X(TITLE, "TITLE") X(TYPE, "TYPE")      \
    X(TZ, "TZ") X(UID, "UID") X(URL, "URL") X(USERNAME, "USERNAME") X(VALUE, "VALUE")          \
    X(VERSION, "VERSION") X(X_ABLABEL, "X-ABLABEL")                                            \
    X(X_ADDRESSBOOKSERVER_KIND, "X-ADDRESSBOOKSERVER-KIND")                                    \
    X(X_ADDRESSBOOKSERVER_MEMBER, "X-ADDRESSBOOKSERVER-MEMBER")                                \
    X(X_APPLE_OMIT_YEAR, "X-APPLE-OMIT-YEAR") X(X_JMAPD_LABEL, "X-JMAPD-LABEL")                \
    X(X_SOCIALPROFILE, "X-SOCIALPROFILE") X(X_USER, "X-USER") X(XML, "XML")

typedef enum vcard_name_id {
    VC_OTHER = 0, /* a name not in the table (X- names, IANA names the rules ignore) */
#define VCARD_NAME_ENUM(id, name) VC_##id,
    VCARD_NAMES(VCARD_NAME_ENUM)
#undef VCARD_NAME_ENUM
    VC_NAME_COUNT
} vcard_name_id;
/* clang-format on */

/* The id of the name s[0..n), compared without regard to case; VC_OTHER if it is not in
 * the table. */
vcard_name_id vcard_name_lookup(const char *s, size_t n);
/* The upper-case name of an id; NULL for VC_OTHER. */
const char *vcard_name_str(vcard_name_id id);
/* True if s is a property, parameter or group name by RFC 6350 §3.3:
 * 1*(ALPHA / DIGIT / "-"). (The parser also tolerates "_"; the writer does not.) */
int vcard_name_valid(const char *s);

/* A parameter: its name in upper case and its values. A quoted value is one value
 * (commas kept); unquoted values are split at commas. RFC 6868 caret escapes and the
 * quotes are already removed. id is vcard_name_lookup(name). */
typedef struct vcard_param {
    char *name;
    char **values;
    size_t nvalues;
    vcard_name_id id;
} vcard_param;

/* A content line (RFC 6350 §3.3). id is vcard_name_lookup(name): change a name with
 * vcard_prop_rename, which keeps both in step. */
typedef struct vcard_prop {
    char *group; /* NULL if none; as written */
    char *name;  /* upper case */
    vcard_param *params;
    size_t nparams;
    char *value;   /* raw value text, UTF-8, still backslash-escaped */
    size_t lineno; /* first physical line of the content line; 0 if built in memory */
    vcard_name_id id;
    int in_block; /* parsed: the strings and arrays live in the card's block (vcard.mem) */
} vcard_prop;

/* A parsed card keeps its properties' strings and parameter arrays in a few large blocks
 * (one malloc for most cards instead of dozens, one free); vcard_free releases them. A
 * parsed property that is changed (vcard_param_add, _set, _del, vcard_prop_rename) gets
 * its own malloc'd copies first. Cards built with vcard_prop_add have no block. */
typedef struct vcard_mem vcard_mem;

typedef struct vcard {
    vcard_prop *props;
    size_t nprops, cap;
    int version;   /* 40 or 30 (21 read as 30) */
    size_t lineno; /* line of BEGIN:VCARD */
    vcard_mem *mem;
} vcard;

/* ---- parsing ---------------------------------------------------------------- */

/* A vCard with more properties than this is refused: the conversion rules that
 * join properties (ALTID, groups) look at pairs of properties, and no address book
 * entry needs thousands of them. */
#define VCARD_MAX_PROPS 5000

/* Parses text holding one or more vCards. On success returns 0 and stores a malloc'd
 * array of *ncards cards in *cards (free with vcard_list_free). On error returns -1
 * and, if err is not NULL, sets *err to a malloc'd message naming the line
 * ("line 12: ..."); the caller frees it.
 * Tolerates producer quirks: bare TYPE values (TEL;WORK;VOICE:), vCard 2.1 QP soft
 * line breaks, CHARSET, lower-case names, LF-only line ends, blank lines. */
int vcard_parse(const char *text, size_t len, vcard **cards, size_t *ncards, char **err);

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
/* Changes the name of a property (and its id). */
void vcard_prop_rename(vcard_prop *prop, const char *name);
/* Returns the parameter named (case-insensitive), or NULL. */
const vcard_param *vcard_param_get(const vcard_prop *prop, const char *name);
/* Returns the first value of the parameter, or NULL. */
const char *vcard_param_first(const vcard_prop *prop, const char *name);
/* True if the parameter has this value (case-insensitive), also looking inside
 * comma-separated quoted values (TYPE="home,voice"). */
int vcard_param_has(const vcard_prop *prop, const char *name, const char *value);
/* The same for a name in the table (id not VC_OTHER), without looking the name up. */
const vcard_param *vcard_param_get_id(const vcard_prop *prop, vcard_name_id id);
const char *vcard_param_first_id(const vcard_prop *prop, vcard_name_id id);
int vcard_param_has_id(const vcard_prop *prop, vcard_name_id id, const char *value);

/* ---- values ----------------------------------------------------------------- */

/* Unescapes a TEXT value (RFC 6350 §3.4): \n \N \\ \, \; \: → the character. A
 * lone backslash before another character is kept as is. Returns malloc'd text. */
char *vcard_value_unescape(const char *raw, size_t len);

/* Escapes text for a TEXT value by RFC 6350 §3.4: backslash, newline and comma
 * always (also in single-valued properties such as FN, NOTE, DEATHPLACE), and the
 * semicolon only in a field of a compound property (compound: N, ADR, ORG, GENDER
 * components), where the grammar needs it; "in all other cases, escaping MUST NOT
 * be used". Returns malloc'd text. */
char *vcard_value_escape(const char *text, int compound);

/* Splits raw at unescaped sep (';' or ','), returning malloc'd raw pieces (still
 * escaped) in *parts, their count in *nparts. Free with vcard_strv_free. */
void vcard_value_split(const char *raw, char sep, char ***parts, size_t *nparts);
void vcard_strv_free(char **v, size_t n);

/* ---- writing ---------------------------------------------------------------- */

#define VCARD_WRITE_V3 1 /* vCard 3.0 (RFC 2426) instead of 4.0 */

/* Serialises cards: BEGIN/VERSION/…/END, CRLF line ends, folded at 75 octets
 * without splitting UTF-8 sequences (RFC 6350 §3.2). A VERSION property in the card
 * is ignored (the writer writes its own). The writer never writes what breaks the
 * RFC 6350 §3.3 grammar: a property whose name is not vcard_name_valid is left out,
 * as is such a parameter, and such a group is not written (jscontact_to_vcard's
 * safety net then keeps the data as JSPROP). With VCARD_WRITE_V3 the card must already
 * be in 3.0 shape (jscontact_to_vcard does that); only parameter quoting differs.
 * Returns malloc'd text. */
char *vcard_write(const vcard *cards, size_t ncards, int flags);

#endif
