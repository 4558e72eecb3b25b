/*
 * jscontact.h — JSContact Cards (RFC 9553) and their conversion from and to vCard
 * (RFC 9555, with the RFC 9554 vCard extensions). This is the API the ContactCard
 * data type and `jmapd convert` are built on.
 *
 * Cards are jansson objects. Conversion is lossless both ways: vCard data without a
 * JSContact form goes to vCardProps/vCardParams (RFC 9555 §2.15), JSContact data
 * without a vCard form goes to JSPROP properties (§3.2.1), map keys to PROP-ID.
 *
 * All functions are pure (no I/O, no global mutable state) and thread-safe.
 */
#ifndef JMAPD_FORMATS_JSCONTACT_H
#define JMAPD_FORMATS_JSCONTACT_H

#include <jansson.h>
#include <stddef.h>

#include "formats/vcard/vcard.h"

/* Flags for the vCard writers. */
#define JSCONTACT_VCARD3 VCARD_WRITE_V3 /* write vCard 3.0 (lossy; for old clients) */

/* ---- vCard → JSContact -------------------------------------------------------- */

/* Parses vCard text (one or more cards) and converts each to a Card.
 * Returns a new JSON array of Cards, or NULL with *err (if err is not NULL) set to a
 * malloc'd message naming the line; the caller frees it. */
json_t *jscontact_from_vcard_text(const char *text, size_t len, char **err);

/* Converts one parsed vCard to a new Card object (RFC 9555 §2), of version "2.0"
 * (RFC 9982): a vCard without UID gives a Card without uid. Never fails: data
 * without a JSContact form goes to vCardProps/vCardParams. The card is as vcard_parse
 * makes it: values and parameter values UTF-8 without NUL bytes. */
json_t *jscontact_from_vcard(const vcard *card);

/* ---- JSContact → vCard -------------------------------------------------------- */

/* Converts a Card, or an array of Cards, to vCard text (4.0, or 3.0 with
 * JSCONTACT_VCARD3). Each Card is validated first. Returns malloc'd text, or NULL
 * with *err (if err is not NULL) set to a malloc'd message naming the card and
 * property path; the caller frees it. */
char *jscontact_to_vcard_text(const json_t *cards, int flags, char **err);

/* Converts one Card (assumed valid) to the vCard model in *out (initialised here;
 * release with vcard_free). RFC 9555 §3. Returns 0, or -1 with *err (if err is not
 * NULL) set to a malloc'd message. */
int jscontact_to_vcard(const json_t *card, vcard *out, int flags, char **err);

/* ---- validation --------------------------------------------------------------- */

/* Validates a Card (RFC 9553 §1.7 and §2; version "1.0", and "2.0" where uid is
 * optional). Returns the number of problems found (0 if valid). If invalid is not
 * NULL, *invalid receives a new array of the offending property paths in the form
 * ContactCard/set reports them ("emails/e1/address", "name/components/0/kind");
 * if messages is not NULL, *messages receives a parallel array of explanations. */
size_t jscontact_card_validate(const json_t *card, json_t **invalid, json_t **messages);

/* Normalises a valid Card in place: sets "@type" if missing and "version" to "2.0" if
 * missing or "1.0" (RFC 9982 §2: every valid 1.0 Card is a valid 2.0 Card), removes
 * redundant nested "@type" values, and writes language tags in their canonical case
 * (RFC 5646 §2.1.1). Returns 0, or -1 if card is not an object. */
int jscontact_card_normalise(json_t *card);

/* ---- helpers shared by the converters (also useful to the server) -------------- */

/* Applies a PatchObject (RFC 9553 §1.4.3) to a copy of root; returns the patched
 * copy, or NULL if any patch is invalid (then nothing is applied). */
json_t *jscontact_patch_apply(const json_t *root, const json_t *patch);

/* A stable "urn:uuid:" uid for a Card that has none, made from a hash of its content
 * (the same Card gives the same uid). For a store that needs one (RFC 9610 §3), never
 * for a conversion (RFC 9982 §3). Returns malloc'd text. */
char *jscontact_uid_derive(const json_t *card);

/* Writes the canonical-case form of a language tag (RFC 5646 §2.1.1) to a new string. */
char *jscontact_langtag_canon(const char *tag);

#endif
