/*
 * vcard_to_jscontact.h — private to vcard_to_jscontact.c (the pass: ALTID buckets,
 * localizations, groups, JSPROP, fix-ups) and vcard_to_jscontact_props.c (one
 * handler per vCard property, RFC 9555 §2.4–§2.13): the conversion state and the
 * helpers both use. Not part of the public API (see jscontact.h).
 */
#ifndef JMAPD_FORMATS_VCARD_TO_JSCONTACT_H
#define JMAPD_FORMATS_VCARD_TO_JSCONTACT_H

#include <jansson.h>

#include "formats/jscontact/jscontact_internal.h"
#include "formats/vcard/vcard.h"

typedef struct conv {
    const vcard *vc;
    json_t *card;               /* the Card being built */
    json_t *propids;            /* set of all PROP-ID values in the vCard */
    const char *ctr_prefix[32]; /* id prefix (a literal) -> last number used */
    unsigned ctr[32];
    size_t nctr;
    char *lang;         /* the Card language (canonical case) or NULL */
    json_t *vcardprops; /* vCardProps array being built */
    json_t *jsprops;    /* JSPROP PatchObject */
    json_t *jsprop_src; /* the JSPROP properties, as jCard, in case the patch fails */
    /* per property: what it converted to (borrowed), for the group rules */
    json_t **target;
    const char **target_map;
    char **target_id;
    unsigned char *done;
    unsigned char *explained; /* the group is implied by a rule (label, org, geo) */
    unsigned char *used;      /* per parameter of the current property */
    size_t used_cap;
    const vcard_prop *cur;
    int risky;           /* a value may be invalid: validate the Card (fix_invalid) */
    size_t fn_main; /* the FN that becomes name.full (§2.5.2), or SIZE_MAX */
    /* state of the current property's handler */
    int pref_ok;         /* TYPE=pref may set pref */
    int types_done;      /* TYPE was converted by the handler */
    json_t *extra_types; /* TYPE values with no JSContact form */
} conv;

/* Iterates over the comma-separated values of a parameter, including commas
 * inside quoted values (TYPE="voice,home"). */
typedef struct pv_iter {
    const vcard_param *pa;
    size_t i;
    const char *s;
    char buf[128];
} pv_iter;

/* A handler converts c->cur into card (the Card or a scratch object used for
 * localizations). It returns the object built (or the Card for top-level values),
 * sets map and id for map entries, or returns NULL to send the property to
 * vCardProps. */
typedef json_t *(*handler_fn)(conv *c, json_t *card, const char *forced_id, const char **map,
                              char **id);

size_t v2j_param_index(const vcard_prop *p, const vcard_param *pa);
const char *v2j_take(conv *c, vcard_name_id name);
const vcard_param *v2j_take_param(conv *c, vcard_name_id name);
const char *v2j_pv_next(pv_iter *it);
json_t *v2j_param_json(const vcard_param *pa);
json_t *v2j_lower_name(const char *name);
void v2j_leftover_params(conv *c, json_t *obj, json_t *extra_types);
char *v2j_text_value(const vcard_prop *p);
char *v2j_uri_value(const char *raw);
void v2j_set_text(json_t *obj, const char *key, const char *raw);
int v2j_value_type_is(conv *c, const char *type);
char *v2j_new_id(conv *c, json_t *map, const char *prefix);
json_t *v2j_get_map(json_t *card, const char *name);
void v2j_conv_pref(conv *c, json_t *obj);
void v2j_conv_types(conv *c, json_t *obj, const jsc_pair *extra, const char *extra_key,
                    int allow_contexts);
void v2j_finish(conv *c, json_t *obj, int pref, int contexts);
json_t *v2j_add_entry(conv *c, json_t *card, const char *mapname, const char *prefix, json_t *obj,
                      const char *forced_id, char **id_out);
handler_fn v2j_rule_for(vcard_name_id name);
json_t *v2j_jcard_prop(const vcard_prop *p);

#endif
