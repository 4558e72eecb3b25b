/*
 * jscontact_internal.h — tables and helpers shared by vcard_to_jscontact.c,
 * jscontact_to_vcard.c and jscontact_validate.c: the N and ADR component positions
 * (RFC 9555 §2.5.5, §2.6.1), TYPE ↔ contexts/features (§2.3.22, §2.7.6), date and
 * timestamp syntax (§2.2.2). Not part of the public API.
 */
#ifndef JMAPD_FORMATS_JSCONTACT_INTERNAL_H
#define JMAPD_FORMATS_JSCONTACT_INTERNAL_H

#include <jansson.h>

#include "formats/json/id.h"
#include "formats/json/pointer.h"
#include "formats/vcard/vcard_internal.h"

/* RFC 9555 §2.5.5 N components, by position */
#define N_NCOMPS 7
extern const char *const jsc_n_kinds[N_NCOMPS];

/* RFC 9555 §2.6.1 / RFC 9554 §2.1 ADR components, by position */
#define ADR_NCOMPS 18
extern const char *const jsc_adr_kinds[ADR_NCOMPS];
/* The new components that make up the extended address (pos 1) and the street
 * address (pos 2), in the order RFC 9555 §2.6.1 lists them; -1 terminated. */
extern const int jsc_adr_ext_parts[];
extern const int jsc_adr_street_parts[];

/* TEL TYPE value ↔ Phone feature (§2.7.6) */
typedef struct jsc_pair {
    const char *vcard, *jscontact;
} jsc_pair;
extern const jsc_pair jsc_tel_features[];
/* JSContact kind lookups */
int jsc_n_pos(const char *kind);   /* position of a NameComponent kind, or -1 */
int jsc_adr_pos(const char *kind); /* position of an AddressComponent kind, or -1 */

/* Parses a vCard DATE (RFC 6350 §4.3.1, and the 3.0 extended form) into year, month,
 * day (0 when absent). Returns 1 on success. */
int jsc_parse_date(const char *s, int *year, int *month, int *day);
/* Parses a vCard TIMESTAMP / UTC DATE-TIME (basic or extended, Z or ±hh[mm]) and
 * writes the RFC 9553 UTCDateTime form to out (at least 32 bytes). Returns 1 on
 * success, 0 if the value is not a complete date-time with a UTC offset. */
int jsc_parse_timestamp(const char *s, char *out);
/* Converts UTCDateTime "2022-11-23T15:01:32Z" to vCard "20221123T150132Z". */
int jsc_utc_to_vcard(const char *utc, char *out);
/* True if s is an RFC 9553 §1.4.5 UTCDateTime. */
int jsc_is_utcdatetime(const char *s);
/* True if s is a URI by RFC 3986 §3 (a scheme, ':', and only URI characters), so that
 * it can be written as a vCard URI value as it is (UID, RELATED: RFC 6350 §6.7.6,
 * RFC 9555 §2.1 as updated by RFC 9982). */
int jsc_is_uri(const char *s);

/* Removes "@type" values that repeat the implied type (RFC 9553 §1.3.4) from the
 * known properties of a Card; unknown and vendor properties are left alone. */
void jsc_drop_implied_types(json_t *card);

/* Lower-cases s in place and returns it. */
char *jsc_lower(char *s);

#endif
