/*
 * ical_syntax.h — the iCalendar content-line layer (RFC 5545 §3.1-§3.3): a lossless tree
 * of components, properties and parameters, the parser that builds it from text (unfolding,
 * parameter quoting, RFC 6868 caret escapes) and the writer that turns it back into text
 * (75-octet folding on UTF-8 boundaries, quoting, CRLF). Property values stay in their
 * escaped wire form; ical_text_unescape/ical_text_escape convert TEXT values.
 *
 * Why not libical's parser: libical 3.0.16 turns properties and parameters it does not know
 * (STYLED-DESCRIPTION, LINK, CONCEPT, JSID, JSPTR, DERIVED, ...) into X-LIC-ERROR or drops
 * them, and loses unknown components such as PARTICIPANT and VLOCATION, which breaks the
 * lossless conversion draft-ietf-calext-jscalendar-icalendar-25 asks for. libical is still
 * used for time zones and recurrence iteration.
 */
#ifndef JMAPD_FORMATS_ICAL_SYNTAX_H
#define JMAPD_FORMATS_ICAL_SYNTAX_H

#include <stddef.h>

#include <jansson.h>
#include <stdbool.h>

#include "formats/jscalendar/jscal_util.h"

typedef struct {
    char *name;    /* uppercase */
    char **values; /* decoded (no quotes, RFC 6868 carets resolved) */
    size_t nvalues;
} ical_param;

/* The memory of a parsed component tree (see ical_parse); NULL for a built one. */
typedef struct ical_arena ical_arena;

typedef struct {
    char *name;  /* uppercase */
    char *value; /* raw wire value (TEXT still escaped) */
    ical_param *params;
    size_t nparams;
    int line; /* first physical line of the content line, 1-based; 0 if built */
    ical_arena *arena; /* where its strings and arrays live: that of its component */
} ical_prop;

typedef struct ical_comp {
    char *name; /* uppercase */
    ical_prop *props;
    size_t nprops, capprops;
    struct ical_comp **comps;
    size_t ncomps, capcomps;
    int line;
    ical_arena *arena; /* where it and its strings and arrays live; NULL: malloc'd */
} ical_comp;

/* Parses text into a list of top-level components (normally one VCALENDAR). Returns the
 * number of components stored in *out (malloc'd array) or -1 with *err (malloc'd, naming
 * the line) on a syntax error. Limits nesting depth and sizes to keep hostile input cheap.
 * A parsed tree lives in arenas, one for each top-level component and one for each of their
 * children (the VEVENTs, VTODOs, VTIMEZONEs of a VCALENDAR), so that one event can be freed
 * as soon as it has been converted. It may be changed with the functions below like a built
 * one; its strings must not be freed or replaced by hand (ical_prop_set_value). */
int ical_parse(const char *text, size_t len, ical_comp ***out, char **err);
/* ical_parse for real-world files: bytes that are not UTF-8 are read as Windows-1252, NUL
 * bytes dropped, malformed lines, lines outside any component and unmatched END lines
 * skipped, components left open closed (a missing END). Each repair appends a string
 * naming the line to warnings (a JSON array; NULL: no messages). Fails only when no
 * component is left, or for nesting deeper than the limit. */
int ical_parse_repair(const char *text, size_t len, ical_comp ***out, json_t *warnings,
                      char **err);

/* Frees a component tree. On a parsed tree, freeing a component that does not own its
 * arena (one nested deeper than the children of a top-level component) only frees what
 * was added to it; the rest goes with its ancestor. */
void ical_comp_free(ical_comp *c);

/* Building. ical_comp_new takes a copy of name; add_prop copies name and value and returns
 * the new property (valid until the next add_prop on the same component). */
ical_comp *ical_comp_new(const char *name);
ical_prop *ical_comp_add_prop(ical_comp *c, const char *name, const char *value);
void ical_comp_add_comp(ical_comp *parent, ical_comp *child);
/* Adds (or appends a value to) a parameter. */
void ical_prop_add_param(ical_prop *p, const char *name, const char *value);
/* Removes all parameters named name. */
void ical_prop_del_param(ical_prop *p, const char *name);
/* Replaces the raw value with a copy of value. */
void ical_prop_set_value(ical_prop *p, const char *value);

/* Removes the i-th property (later ones move up). */
void ical_comp_remove_prop(ical_comp *c, size_t i);

/* Lookup helpers (names compared case-insensitively). */
ical_prop *ical_comp_get_prop(const ical_comp *c, const char *name);
const ical_param *ical_prop_get_param(const ical_prop *p, const char *name);
/* The first value of a parameter, or NULL. */
const char *ical_prop_param1(const ical_prop *p, const char *name);
/* Several parameters in one pass: out[i] gets the parameter named names[i] (upper-case),
 * or NULL. For converters that read most of a property's parameters. */
void ical_prop_params_pick(const ical_prop *p, const char *const *names, size_t n,
                           const ical_param **out);

/* 1 if c is a VTIMEZONE whose TZID names tzid. The TZID property is TEXT (RFC 5545
 * §3.8.3.1, §3.3.11): Outlook's "TZID:Canberra\, Melbourne\, Sydney" is the zone a
 * parameter names as TZID="Canberra, Melbourne, Sydney" (§3.2, a quoted value). */
int ical_vtimezone_is(const ical_comp *c, const char *tzid);

/* Appends the text form of a component (BEGIN..END, CRLF, folded) to b. */
void ical_comp_write(const ical_comp *c, jbuf *b);
/* Appends a single property as a folded content line. */
void ical_prop_write(const ical_prop *p, jbuf *b);

/* TEXT value helpers (RFC 5545 §3.3.11). Both return malloc'd strings. */
char *ical_text_unescape(const char *s);
char *ical_text_escape(const char *s);
/* Splits a multi-valued raw value on unescaped commas. Returns count; *out malloc'd array of
 * malloc'd raw (still escaped) strings. */
/* Whether s is an iCalendar name (RFC 5545 §3.1: iana-token / x-name, that is
 * 1*(ALPHA / DIGIT / "-")): what may stand as a component, property or parameter
 * name. Text that came from JSON is checked before it becomes one (issue 19 §5). */
bool ical_name_valid(const char *s);
/* Whether every parameter of a jCal/JSON parameters object has a valid name and a
 * string (or array of strings) value. */
bool ical_params_json_valid(const json_t *params);
size_t ical_split_values(const char *raw, char ***out);
void ical_free_strv(char **v, size_t n);

#endif
