/*
 * vcard_to_jscontact.c — RFC 9555 §2: converts a parsed vCard (vcard.h) to a
 * JSContact Card (RFC 9553).
 *
 * One pass converts each property with a handler from the table at the bottom; a
 * handler returns the JSON object it built (so that parameters it did not consume
 * go to vCardParams, §2.15.2) or declines, and then the property goes verbatim to
 * vCardProps (§2.15.1). Properties sharing an ALTID become one value plus
 * localizations (§2.3.11); after the pass come the rules that join properties:
 * groups (X-ABLabel §2.11.11, ORG/TITLE §2.9.6, ADR/GEO/TZ §2.8.3) and JSPROP
 * patches (§3.2.1), which go last.
 */
#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/jscontact/jscontact.h"
#include "formats/jscontact/jscontact_internal.h"
#include "formats/vcard_jscontact/vcard_to_jscontact.h"

/* ---- parameters ------------------------------------------------------------- */

size_t v2j_param_index(const vcard_prop *p, const vcard_param *pa)
{
    return (size_t)(pa - p->params);
}

/* Returns the first value of the parameter and marks it consumed. */
const char *v2j_take(conv *c, vcard_name_id name)
{
    const vcard_param *pa = vcard_param_get_id(c->cur, name);
    if (!pa)
        return NULL;
    c->used[v2j_param_index(c->cur, pa)] = 1;
    return pa->nvalues ? pa->values[0] : "";
}

/* Returns the whole parameter and marks it consumed. */
const vcard_param *v2j_take_param(conv *c, vcard_name_id name)
{
    const vcard_param *pa = vcard_param_get_id(c->cur, name);
    if (pa)
        c->used[v2j_param_index(c->cur, pa)] = 1;
    return pa;
}

const char *v2j_pv_next(pv_iter *it)
{
    while (it->pa && it->i < it->pa->nvalues) {
        if (!it->s)
            it->s = it->pa->values[it->i];
        if (!*it->s) {
            it->s = NULL;
            it->i++;
            continue;
        }
        const char *e = strchr(it->s, ',');
        size_t n = e ? (size_t)(e - it->s) : strlen(it->s);
        size_t kept = n < sizeof it->buf ? n : sizeof it->buf - 1; /* longer ones are cut */
        memcpy(it->buf, it->s, kept);
        it->buf[kept] = 0;
        it->s += n;
        if (*it->s == ',')
            it->s++;
        if (!*it->s) {
            it->s = NULL;
            it->i++;
        }
        if (n)
            return it->buf;
    }
    return NULL;
}

/* jCard form of a parameter value: a string, or an array of strings (RFC 7095 §3.4). */
json_t *v2j_param_json(const vcard_param *pa)
{
    if (pa->nvalues == 1)
        return json_string(pa->values[0]);
    json_t *a = json_array();
    for (size_t i = 0; i < pa->nvalues; i++)
        json_array_append_new(a, json_string(pa->values[i]));
    return a;
}

json_t *v2j_lower_name(const char *name)
{
    char *s = jsc_lower(vc_strdup(name));
    json_t *j = json_string(s);
    free(s);
    return j;
}

/* Puts every parameter the handler did not consume into obj.vCardParams (§2.15.2);
 * unconsumed TYPE values are collected in extra_types by the handler. */
void v2j_leftover_params(conv *c, json_t *obj, json_t *extra_types)
{
    size_t unused = 0;
    for (size_t i = 0; i < c->cur->nparams; i++)
        unused += !c->used[i];
    if (!unused && !json_array_size(extra_types))
        return; /* the common case: every parameter converted */
    json_t *vp = json_object_get(obj, "vCardParams");
    for (size_t i = 0; i < c->cur->nparams; i++) {
        const vcard_param *pa = &c->cur->params[i];
        if (c->used[i])
            continue;
        if (!vp) {
            vp = json_object();
            json_object_set_new_nocheck(obj, "vCardParams", vp);
        }
        char *k = jsc_lower(vc_strdup(pa->name));
        json_object_set_new(vp, k, v2j_param_json(pa));
        free(k);
    }
    if (extra_types && json_array_size(extra_types)) {
        if (!vp) {
            vp = json_object();
            json_object_set_new_nocheck(obj, "vCardParams", vp);
        }
        if (json_array_size(extra_types) == 1)
            json_object_set(vp, "type", json_array_get(extra_types, 0));
        else
            json_object_set(vp, "type", extra_types);
    }
}

/* ---- values ----------------------------------------------------------------- */

char *v2j_text_value(const vcard_prop *p)
{
    return vcard_value_unescape(p->value, strlen(p->value));
}

/* A URI value: RFC 6350 does not escape URIs, but many producers escape commas
 * and semicolons anyway (GEO:geo:1\,2); a URI cannot contain a backslash, so
 * dropping it before , ; : and \ is safe. */
char *v2j_uri_value(const char *raw)
{
    char *out = vc_strdup(raw), *o = out;
    for (const char *p = raw; *p; p++) {
        if (*p == '\\' && (p[1] == ',' || p[1] == ';' || p[1] == ':' || p[1] == '\\'))
            p++;
        *o++ = *p;
    }
    *o = 0;
    return out;
}

/* Sets obj.key to the TEXT value raw, unescaped (RFC 6350 §3.4). raw is (part of) a
 * parsed value, UTF-8 without NUL (vcard_parse checked it), and unescaping keeps it
 * so: jansson need not check it again. */
void v2j_set_text(json_t *obj, const char *key, const char *raw)
{
    size_t n = strlen(raw);
    char small[256];
    char *t = n < sizeof small ? small : vc_malloc(n + 1);
    size_t len = vc_unescape_to(t, raw, n);
    json_object_set_new_nocheck(obj, key, json_stringn_nocheck(t, len));
    if (t != small)
        free(t);
}

int v2j_value_type_is(conv *c, const char *type)
{
    const char *v = vcard_param_first_id(c->cur, VC_VALUE);
    return v && strcasecmp(v, type) == 0;
}

/* ---- ids -------------------------------------------------------------------- */

/* RFC 9555 §2.1.2/§2.3.18: the PROP-ID, or PREFIX-n not used by any PROP-ID. */
char *v2j_new_id(conv *c, json_t *map, const char *prefix)
{
    const char *pid = vcard_param_first_id(c->cur, VC_PROP_ID);
    if (pid && jid_valid(pid) && !json_object_get(map, pid))
        return vc_strdup(pid);
    /* prefixes are string literals: one counter per literal */
    size_t k = 0;
    while (k < c->nctr && c->ctr_prefix[k] != prefix)
        k++;
    if (k == c->nctr && k < sizeof c->ctr / sizeof c->ctr[0]) {
        c->ctr_prefix[k] = prefix;
        c->ctr[k] = 0;
        c->nctr++;
    }
    unsigned n = k < c->nctr ? c->ctr[k] : 0;
    char id[64];
    size_t pl = strlen(prefix);
    assert(pl < 40);
    memcpy(id, prefix, pl);
    id[pl] = '-';
    do {
        /* PREFIX-n, without the cost of snprintf */
        char digits[16];
        int nd = 0;
        unsigned v = ++n;
        do
            digits[nd++] = (char)('0' + v % 10);
        while ((v /= 10) && nd < 15);
        for (int k2 = 0; k2 < nd; k2++)
            id[pl + 1 + k2] = digits[nd - 1 - k2];
        id[pl + 1 + nd] = 0;
    } while (json_object_get(map, id) || json_object_get(c->propids, id));
    if (k < c->nctr)
        c->ctr[k] = n;
    return vc_strdup(id);
}

json_t *v2j_get_map(json_t *card, const char *name)
{
    json_t *m = json_object_get(card, name);
    if (!json_is_object(m)) {
        m = json_object();
        json_object_set_new(card, name, m);
    }
    return m;
}

/* ---- common parameters ------------------------------------------------------ */

/* PREF (§2.3.17); vCard 3.0 TYPE=pref means the most preferred. */
void v2j_conv_pref(conv *c, json_t *obj)
{
    const char *v = vcard_param_first_id(c->cur, VC_PREF);
    if (v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*v && !*end && n >= 1 && n <= 100) {
            v2j_take(c, VC_PREF);
            json_object_set_new_nocheck(obj, "pref", json_integer(n));
        }
    }
}

/* TYPE (§2.3.22): home/work (and extra pairs) to contexts or another key; values
 * with no JSContact form end up in vCardParams. */
void v2j_conv_types(conv *c, json_t *obj, const jsc_pair *extra, const char *extra_key,
                    int allow_contexts)
{
    const vcard_param *pa = v2j_take_param(c, VC_TYPE);
    c->types_done = 1;
    if (!pa)
        return;
    pv_iter it = {pa, 0, NULL, {0}};
    const char *t;
    while ((t = v2j_pv_next(&it))) {
        const char *ctx = NULL;
        if (allow_contexts && strcasecmp(t, "home") == 0)
            ctx = "private";
        else if (allow_contexts && strcasecmp(t, "work") == 0)
            ctx = "work";
        if (ctx) {
            json_t *m = v2j_get_map(obj, "contexts");
            json_object_set_new_nocheck(m, ctx, json_true());
            continue;
        }
        if (strcasecmp(t, "pref") == 0 && !json_object_get(obj, "pref") && c->pref_ok) {
            json_object_set_new_nocheck(obj, "pref", json_integer(1));
            continue;
        }
        /* vCard 3.0 EMAIL;TYPE=internet is the default and carries nothing */
        if (strcasecmp(t, "internet") == 0 && c->cur->id == VC_EMAIL)
            continue;
        int found = 0;
        for (const jsc_pair *e = extra; e && e->vcard; e++) {
            if (strcasecmp(t, e->vcard) == 0) {
                json_object_set_new_nocheck(v2j_get_map(obj, extra_key), e->jscontact, json_true());
                found = 1;
                break;
            }
        }
        if (!found) {
            if (!c->extra_types)
                c->extra_types = json_array();
            json_array_append_new(c->extra_types, json_string(t));
        }
    }
}

/* Finishes an object built from the current property: pref, contexts, leftovers. */
void v2j_finish(conv *c, json_t *obj, int pref, int contexts)
{
    if (pref) {
        v2j_conv_pref(c, obj);
        c->pref_ok = 1;
    }
    if (!c->types_done)
        v2j_conv_types(c, obj, NULL, NULL, contexts);
    v2j_leftover_params(c, obj, c->extra_types);
    json_decref(c->extra_types);
    c->extra_types = NULL;
    c->pref_ok = c->types_done = 0;
}

/* Adds obj to map under a new id; records the target for the group rules. */
json_t *v2j_add_entry(conv *c, json_t *card, const char *mapname, const char *prefix, json_t *obj,
                      const char *forced_id, char **id_out)
{
    json_t *map = v2j_get_map(card, mapname);
    char *id = forced_id ? vc_strdup(forced_id) : v2j_new_id(c, map, prefix);
    if (forced_id)
        v2j_take(c, VC_PROP_ID);
    /* ids are ASCII: a valid PROP-ID (jid_valid) or PREFIX-n */
    json_object_set_new_nocheck(map, id, obj);
    if (id_out)
        *id_out = id;
    else
        free(id);
    return obj;
}

/* ---- vCardProps --------------------------------------------------------------- */

/* §2.15.1: the property as a jCard array [name, params, type, value]. */
json_t *v2j_jcard_prop(const vcard_prop *p)
{
    json_t *params = json_object();
    const char *type = "unknown";
    for (size_t i = 0; i < p->nparams; i++) {
        if (p->params[i].id == VC_VALUE && p->params[i].nvalues) {
            type = p->params[i].values[0];
            continue;
        }
        char *k = jsc_lower(vc_strdup(p->params[i].name));
        json_object_set_new(params, k, v2j_param_json(&p->params[i]));
        free(k);
    }
    if (p->group)
        json_object_set_new_nocheck(params, "group", json_string(p->group));
    json_t *a = json_array();
    json_array_append_new(a, v2j_lower_name(p->name));
    json_array_append_new(a, params);
    json_array_append_new(a, v2j_lower_name(type));
    if (strcasecmp(type, "text") == 0) {
        char *t = v2j_text_value(p);
        json_array_append_new(a, json_string(t));
        free(t);
    } else {
        json_array_append_new(a, json_string(p->value));
    }
    return a;
}

/* ---- localizations (§2.3.11, §2.3.15) ------------------------------------------ */

static void loc_patch(conv *c, const char *lang, const char *path, json_t *value)
{
    json_t *locs = v2j_get_map(c->card, "localizations");
    json_t *po = v2j_get_map(locs, lang);
    json_object_set_new(po, path, value);
}

/* Patches for every member of alt that differs from base (§2.3.11 "one patch per
 * property"), under prefix. */
static void loc_diff(conv *c, const char *lang, const char *prefix, json_t *base, json_t *alt)
{
    const char *k;
    json_t *v;
    json_object_foreach(alt, k, v)
    {
        if (!strcmp(k, "vCardParams") || !strcmp(k, "label"))
            continue;
        if (json_equal(json_object_get(base, k), v))
            continue;
        jbuf b = {0};
        jbuf_adds(&b, prefix);
        jbuf_addc(&b, '/');
        jptr_token_encode(&b, k);
        loc_patch(c, lang, b.s, json_incref(v));
        jbuf_free(&b);
    }
}

/* Applies the phonetic N/ADR alt (converted into a scratch object) to base, either
 * directly or as localization patches for lang. */
static void phonetic_merge(conv *c, const char *lang, const char *prefix, json_t *base, json_t *alt)
{
    json_t *bc = json_object_get(base, "components"), *ac = json_object_get(alt, "components");
    size_t j = 0;
    for (size_t i = 0; i < json_array_size(ac); i++) {
        json_t *a = json_array_get(ac, i);
        const char *ak = json_string_value(json_object_get(a, "kind"));
        if (!ak || !strcmp(ak, "separator"))
            continue;
        /* the next base component of the same kind */
        for (; j < json_array_size(bc); j++) {
            const char *bk = json_string_value(json_object_get(json_array_get(bc, j), "kind"));
            if (bk && !strcmp(bk, ak))
                break;
        }
        if (j >= json_array_size(bc))
            break;
        json_t *val = json_object_get(a, "value");
        if (lang) {
            char path[300];
            snprintf(path, sizeof path, "%s/components/%zu/phonetic", prefix, j);
            loc_patch(c, lang, path, json_incref(val));
        } else {
            json_object_set(json_array_get(bc, j), "phonetic", val);
        }
        j++;
    }
    static const char *const keys[] = {"phoneticSystem", "phoneticScript"};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(alt, keys[k]);
        if (!v)
            continue;
        if (lang) {
            char path[300];
            snprintf(path, sizeof path, "%s/%s", prefix, keys[k]);
            loc_patch(c, lang, path, json_incref(v));
        } else {
            json_object_set(base, keys[k], v);
        }
    }
}

/* ---- the pass --------------------------------------------------------------- */

static void to_vcardprops(conv *c, size_t i)
{
    if (!c->vcardprops)
        c->vcardprops = json_array();
    json_array_append_new(c->vcardprops, v2j_jcard_prop(&c->vc->props[i]));
    c->done[i] = 2; /* 2: in vCardProps */
}

static int maybe_invalid(vcard_name_id name, const json_t *obj);

/* Runs the handler for property i into card. Returns the object or NULL. */
static json_t *run(conv *c, size_t i, json_t *card, const char *fid, const char **map, char **id)
{
    handler_fn fn = v2j_rule_for(c->vc->props[i].id);
    if (!fn)
        return NULL;
    c->cur = &c->vc->props[i];
    if (c->cur->nparams + 1 > c->used_cap) {
        c->used_cap = c->cur->nparams + 8;
        c->used = vc_realloc(c->used, c->used_cap);
    }
    memset(c->used, 0, c->cur->nparams + 1);
    c->pref_ok = c->types_done = 0;
    json_decref(c->extra_types);
    c->extra_types = NULL;
    /* ALTID and LANGUAGE belong to convert_bucket */
    const vcard_param *pa;
    if ((pa = vcard_param_get_id(c->cur, VC_ALTID)))
        c->used[v2j_param_index(c->cur, pa)] = 1;
    if ((pa = vcard_param_get_id(c->cur, VC_LANGUAGE)))
        c->used[v2j_param_index(c->cur, pa)] = 1;
    /* a valid PROP-ID becomes the map key (add_entry) */
    if ((pa = vcard_param_get_id(c->cur, VC_PROP_ID)) && pa->nvalues == 1 &&
        jid_valid(pa->values[0]))
        c->used[v2j_param_index(c->cur, pa)] = 1;
    *map = NULL;
    *id = NULL;
    json_t *r = fn(c, card, fid, map, id);
    if (r && !c->risky)
        c->risky = maybe_invalid(c->cur->id, r);
    if (!r) {
        free(*id); /* a handler may decline after choosing an id */
        *id = NULL;
        *map = NULL;
    }
    return r;
}

static int nonempty(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return !v || (json_is_string(v) && *json_string_value(v));
}

static int one_of(const json_t *v, const char *const *set)
{
    if (!v)
        return 1;
    for (; *set; set++)
        if (json_is_string(v) && !strcmp(json_string_value(v), *set))
            return 1;
    return 0;
}

/* True if what a handler built might not be valid JSContact, so that the Card must
 * go through the validator (fix_invalid). Validating every Card costs about a sixth
 * of the conversion; most properties cannot produce an invalid value. The fuzz
 * target checks that every converted Card is valid, whatever this says. */
static int maybe_invalid(vcard_name_id name, const json_t *obj)
{
    static const char *const kinds[] = {"individual", "group",       "org", "location",
                                        "device",     "application", NULL};
    static const char *const levels[] = {"high", "medium", "low", NULL};
    switch (name) {
    case VC_ANNIVERSARY:
    case VC_BDAY:
    case VC_CATEGORIES:
    case VC_CREATED:
    case VC_DEATHDATE:
    case VC_EMAIL:
    case VC_FN:
    case VC_NICKNAME:
    case VC_ORG:
    case VC_PRONOUNS:
    case VC_RELATED:
    case VC_REV:
    case VC_ROLE:
    case VC_TEL:
    case VC_TITLE:
    case VC_UID:
        return 0;
    /* resources (h_resource) and online services */
    case VC_CALADRURI:
    case VC_CALURI:
    case VC_CONTACT_URI:
    case VC_FBURL:
    case VC_KEY:
    case VC_LOGO:
    case VC_ORG_DIRECTORY:
    case VC_PHOTO:
    case VC_SOUND:
    case VC_SOURCE:
    case VC_URL:
    case VC_IMPP:
    case VC_SOCIALPROFILE:
    case VC_X_SOCIALPROFILE:
        return !nonempty(obj, "uri");
    case VC_NOTE:
        return !nonempty(json_object_get(obj, "author"), "uri");
    case VC_EXPERTISE:
    case VC_HOBBY:
    case VC_INTEREST:
        return !one_of(json_object_get(obj, "level"), levels);
    case VC_KIND:
        return !one_of(json_object_get(obj, "kind"), kinds);
    case VC_N:
    case VC_ADR:
        /* JSCOMPS, phonetics, parameters as values: let the validator look */
        if (json_object_get(obj, "isOrdered") || json_object_get(obj, "phoneticSystem") ||
            json_object_get(obj, "phoneticScript") || json_object_get(obj, "coordinates") ||
            json_object_get(obj, "timeZone"))
            return 1;
        return name == VC_ADR && !json_object_get(obj, "components") &&
               !json_object_get(obj, "full") && !json_object_get(obj, "countryCode");
    default:
        return 1;
    }
}

static int is_phonetic(const vcard_prop *p)
{
    return vcard_param_get_id(p, VC_PHONETIC) || vcard_param_get_id(p, VC_SCRIPT);
}

static char *canon_lang_of(const vcard_prop *p)
{
    const char *l = vcard_param_first_id(p, VC_LANGUAGE);
    return l && *l ? jscontact_langtag_canon(l) : NULL;
}

/* Path of a converted value: "name", "titles/t1", "speakToAs/pronouns/p1" */
static char *value_path(const char *map, const char *id)
{
    jbuf b = {0};
    jbuf_adds(&b, map);
    if (id) {
        jbuf_addc(&b, '/');
        jptr_token_encode(&b, id);
    }
    return jbuf_take(&b);
}

/* Converts the base property i and its ALTID/LANGUAGE alternatives. */
static void convert_bucket(conv *c, size_t i)
{
    const vcard_prop *p = &c->vc->props[i];
    const char *altid = vcard_param_first_id(p, VC_ALTID);
    /* members: same name and same ALTID (a property without ALTID stands alone) */
    size_t one, nm = 0;
    size_t *mem = altid ? vc_malloc((c->vc->nprops + 1) * sizeof *mem) : &one;
    for (size_t j = i; j < c->vc->nprops; j++) {
        const vcard_prop *q = &c->vc->props[j];
        if (c->done[j] || q->id != p->id) /* p has a rule: its name is in the table */
            continue;
        const char *qa = vcard_param_first_id(q, VC_ALTID);
        if (j == i || (altid && qa && strcmp(qa, altid) == 0))
            mem[nm++] = j;
        if (!altid)
            break;
    }
    /* the base: not phonetic; without LANGUAGE, or in the Card language, or first */
    size_t base = SIZE_MAX;
    for (int pass = 0; pass < 3 && base == SIZE_MAX; pass++)
        for (size_t k = 0; k < nm && base == SIZE_MAX; k++) {
            const vcard_prop *q = &c->vc->props[mem[k]];
            if (is_phonetic(q) && pass < 2)
                continue;
            char *l = canon_lang_of(q);
            if ((pass == 0 && !l) || (pass == 1 && l && c->lang && !strcmp(l, c->lang)) ||
                pass == 2)
                base = mem[k];
            free(l);
        }
    const char *map;
    char *id;
    json_t *bobj = run(c, base, c->card, NULL, &map, &id);
    if (!bobj) {
        to_vcardprops(c, base);
        for (size_t k = 0; k < nm; k++)
            if (!c->done[mem[k]])
                to_vcardprops(c, mem[k]);
        if (mem != &one)
            free(mem);
        return;
    }
    /* LANGUAGE and ALTID of the base */
    char *blang = canon_lang_of(&c->vc->props[base]);
    const vcard_param *altp = vcard_param_get_id(&c->vc->props[base], VC_ALTID);
    const vcard_param *langp = vcard_param_get_id(&c->vc->props[base], VC_LANGUAGE);
    int keep_lang = blang && (!c->lang || strcmp(blang, c->lang) != 0) && bobj != c->card;
    if (bobj != c->card && (keep_lang || (altp && nm == 1))) {
        /* a LANGUAGE that is not the Card's, or a lone ALTID: keep them */
        json_t *vp = v2j_get_map(bobj, "vCardParams");
        if (keep_lang)
            json_object_set_new_nocheck(vp, "language", json_string(langp->values[0]));
        if (altp && nm == 1)
            json_object_set_new_nocheck(vp, "altid", v2j_param_json(altp));
    }
    c->done[base] = 1;
    c->target[base] = bobj == c->card ? NULL : bobj;
    c->target_map[base] = map;
    c->target_id[base] = id;
    if (nm == 1) { /* no alternatives: the common case */
        free(blang);
        if (mem != &one)
            free(mem);
        return;
    }
    char *prefix = map && bobj != c->card ? value_path(map, id) : NULL;
    json_t *seen = json_object(); /* languages already localized */
    if (blang)
        json_object_set_new(seen, blang, json_true());
    for (size_t k = 0; k < nm; k++) {
        size_t j = mem[k];
        if (j == base)
            continue;
        const vcard_prop *q = &c->vc->props[j];
        const char *der = vcard_param_first_id(q, VC_DERIVED);
        if (bobj == c->card && q->id == VC_FN && der && !strcasecmp(der, "true")) {
            /* §3.1: the localized twin of a derived FN is derived too (the writer makes
             * it again from the localized name); dropped like its base */
            c->done[j] = 1;
            continue;
        }
        char *l = canon_lang_of(q);
        int phon = is_phonetic(q);
        int samelang = !l || (c->lang && !strcmp(l, c->lang)) || (blang && !strcmp(l, blang));
        if (!prefix || (!phon && (samelang || json_object_get(seen, l)))) {
            free(l);
            to_vcardprops(c, j);
            continue;
        }
        json_t *scratch = json_object();
        const char *m2;
        char *id2;
        json_t *aobj = run(c, j, scratch, id, &m2, &id2);
        free(id2);
        if (!aobj || aobj == scratch) {
            json_decref(scratch);
            free(l);
            to_vcardprops(c, j);
            continue;
        }
        if (phon)
            phonetic_merge(c, samelang ? NULL : l, prefix, bobj, aobj);
        else {
            loc_diff(c, l, prefix, bobj, aobj);
            json_object_set_new(seen, l, json_true());
        }
        json_decref(scratch);
        free(l);
        c->done[j] = 1;
        c->target_map[j] = "localizations";
    }
    json_decref(seen);
    free(prefix);
    free(blang);
    if (mem != &one)
        free(mem);
}

/* Group rules: X-ABLabel (§2.11.11), ORG/TITLE (§2.9.6), and keeping the group of
 * converted properties that share it with vCardProps entries (§2.3.9). */
static void apply_groups(conv *c)
{
    const vcard *vc = c->vc;
    for (size_t i = 0; i < vc->nprops; i++) {
        const vcard_prop *p = &vc->props[i];
        if (!p->group)
            continue;
        if (p->id == VC_X_ABLABEL && !c->done[i] && p->nparams == 0) {
            for (size_t j = 0; j < vc->nprops; j++) {
                const vcard_prop *q = &vc->props[j];
                if (j == i || !c->target[j] || !q->group || strcmp(q->group, p->group) != 0)
                    continue;
                if (json_object_get(c->target[j], "label"))
                    continue;
                char *t = v2j_text_value(p);
                json_object_set_new_nocheck(c->target[j], "label", json_string(t));
                free(t);
                c->done[i] = 1;
                c->explained[j] = 1;
                break;
            }
        }
        if ((p->id == VC_TITLE || p->id == VC_ROLE) && c->target[i] && c->target_map[i] &&
            !strcmp(c->target_map[i], "titles")) {
            size_t org = SIZE_MAX, norgs = 0;
            for (size_t j = 0; j < vc->nprops; j++) {
                const vcard_prop *q = &vc->props[j];
                if (q->group && !strcmp(q->group, p->group) && q->id == VC_ORG && c->target_id[j]) {
                    org = j;
                    norgs++;
                }
            }
            if (norgs == 1) {
                json_object_set_new_nocheck(c->target[i], "organizationId",
                                            json_string(c->target_id[org]));
                c->explained[i] = c->explained[org] = 1;
            }
        }
    }
}

static void keep_groups(conv *c)
{
    const vcard *vc = c->vc;
    for (size_t i = 0; i < vc->nprops; i++) {
        const vcard_prop *p = &vc->props[i];
        if (!p->group || !c->target[i])
            continue;
        int shared = 0;
        for (size_t j = 0; j < vc->nprops && !shared; j++)
            if (j != i && !c->target[j] && vc->props[j].group &&
                !strcmp(vc->props[j].group, p->group) && c->done[j] == 2)
                shared = 1;
        /* §2.3.9: a group that no rule explains is kept too */
        if (shared || !c->explained[i]) {
            json_t *vp = v2j_get_map(c->target[i], "vCardParams");
            json_object_set_new_nocheck(vp, "group", json_string(p->group));
        }
    }
}

/* Whatever the conversion made invalid (a MEMBER without KIND:group, LANG with a
 * value that is no language tag, ...) goes back to vCardProps: the value of the
 * first path segment (or the map entry) is removed and its properties kept as
 * they were. */
static void fix_invalid(conv *c)
{
    for (int round = 0; round < 4; round++) {
        json_t *paths = NULL;
        if (!jscontact_card_validate(c->card, &paths, NULL)) {
            json_decref(paths);
            return;
        }
        size_t i;
        json_t *pj;
        json_array_foreach(paths, i, pj)
        {
            const char *path = json_string_value(pj);
            char top[128], id[256] = "";
            const char *sl = strchr(path, '/');
            snprintf(top, sizeof top, "%.*s", (int)(sl ? (size_t)(sl - path) : strlen(path)), path);
            json_t *topv = json_object_get(c->card, top);
            int is_map = sl && json_is_object(topv) && strcmp(top, "name") &&
                         strcmp(top, "speakToAs") && strcmp(top, "localizations") &&
                         strcmp(top, "members") && strcmp(top, "keywords") &&
                         strcmp(top, "relatedTo");
            if (is_map) {
                const char *e = strchr(sl + 1, '/');
                size_t tn = e ? (size_t)(e - sl - 1) : strlen(sl + 1);
                char *tok = jptr_token_decode(sl + 1, tn);
                /* a bad escape stays as it is written (as it always did here) */
                snprintf(id, sizeof id, "%.*s", (int)(tok ? strlen(tok) : tn), tok ? tok : sl + 1);
                free(tok);
            }
            for (size_t k = 0; k < c->vc->nprops; k++) {
                const char *m = c->target_map[k];
                if (!m || strcmp(m, top) != 0 || c->done[k] == 2)
                    continue;
                if (is_map && (!c->target_id[k] || strcmp(c->target_id[k], id) != 0))
                    continue;
                c->target[k] = NULL;
                c->target_map[k] = NULL;
                if (!c->vcardprops)
                    c->vcardprops = json_array();
                json_array_append_new(c->vcardprops, v2j_jcard_prop(&c->vc->props[k]));
                c->done[k] = 2;
            }
            if (is_map) {
                json_object_del(topv, id);
                if (!json_object_size(topv))
                    json_object_del(c->card, top);
            } else if (strcmp(top, "@type") && strcmp(top, "version") && strcmp(top, "uid")) {
                json_object_del(c->card, top);
            }
        }
        json_decref(paths);
        if (json_array_size(c->vcardprops))
            json_object_set(c->card, "vCardProps", c->vcardprops);
    }
}

/* Sets up the conversion of vc: a new Card with @type and version, and the zeroed
 * per-property tables. */
static void conv_init(conv *c, const vcard *vc)
{
    *c = (conv){0};
    c->vc = vc;
    c->card = json_object();
    json_object_set_new_nocheck(c->card, "@type", json_string("Card"));
    /* RFC 9982 §2: implementations MUST create JSContact "2.0" data */
    json_object_set_new_nocheck(c->card, "version", json_string("2.0"));
    /* propids, vcardprops and jsprops are made when first needed */
    c->fn_main = SIZE_MAX;
    size_t n = vc->nprops;
    c->target = vc_malloc((n + 1) * sizeof *c->target);
    c->target_map = vc_malloc((n + 1) * sizeof *c->target_map);
    c->target_id = vc_malloc((n + 1) * sizeof *c->target_id);
    c->done = vc_malloc(n + 1);
    c->explained = vc_malloc(n + 1);
    memset(c->explained, 0, n + 1);
    memset(c->target, 0, (n + 1) * sizeof *c->target);
    memset(c->target_map, 0, (n + 1) * sizeof *c->target_map);
    memset(c->target_id, 0, (n + 1) * sizeof *c->target_id);
    memset(c->done, 0, n + 1);
}

/* Prescan: PROP-IDs, the Card language (§2.7.4, else the LANGUAGE of the FNs when every
 * FN has one: an FN without LANGUAGE is the non-localized name, §2.3.11's "Property
 * without Language", and the others localize it) and the main FN (§2.5.2). */
static void prescan(conv *c)
{
    const vcard *vc = c->vc;
    const char *fnlang = NULL;
    int fn_without_lang = 0;
    for (size_t i = 0; i < vc->nprops; i++) {
        const vcard_prop *p = &vc->props[i];
        const char *pid = vcard_param_first_id(p, VC_PROP_ID);
        if (pid) {
            if (!c->propids)
                c->propids = json_object();
            json_object_set_new(c->propids, pid, json_true());
        }
        if (!c->lang && p->id == VC_LANGUAGE && p->nparams == 0)
            c->lang = jscontact_langtag_canon(p->value);
        if (p->id == VC_FN) {
            const char *l = vcard_param_first_id(p, VC_LANGUAGE);
            if (!fnlang && l && *l)
                fnlang = l;
            fn_without_lang |= !l || !*l;
        }
        /* §2.5.2: of several FN without LANGUAGE, the one with the least parameters */
        const char *der = vcard_param_first_id(p, VC_DERIVED);
        if (p->id == VC_FN && !vcard_param_get_id(p, VC_LANGUAGE) &&
            !vcard_param_get_id(p, VC_ALTID) && !(der && !strcasecmp(der, "true")) && *p->value &&
            (c->fn_main == SIZE_MAX || p->nparams < vc->props[c->fn_main].nparams))
            c->fn_main = i;
    }
    if (!c->lang && fnlang && !fn_without_lang) {
        c->lang = jscontact_langtag_canon(fnlang);
        json_object_set_new_nocheck(c->card, "language", json_string(c->lang));
    }
}

/* The pass over the properties; GEO and TZ wait for the ADRs they may join,
 * X-ABLabel for groups. */
static void convert_props(conv *c)
{
    const vcard *vc = c->vc;
    for (int phase = 0; phase < 2; phase++)
        for (size_t i = 0; i < vc->nprops; i++) {
            const vcard_prop *p = &vc->props[i];
            int late = p->id == VC_GEO || p->id == VC_TZ || p->id == VC_LABEL;
            if (c->done[i] || late != phase)
                continue;
            if (p->id == VC_X_ABLABEL && p->group)
                continue;
            if (!v2j_rule_for(p->id)) {
                to_vcardprops(c, i);
                continue;
            }
            convert_bucket(c, i);
        }
}

/* An Anniversary needs a date (RFC 9553 §2.8.1): a lone BIRTHPLACE stays a vCard
 * property. */
static void drop_dateless_anniversaries(conv *c)
{
    for (size_t i = 0; i < c->vc->nprops; i++) {
        json_t *t = c->target[i];
        if (t && c->target_map[i] && !strcmp(c->target_map[i], "anniversaries") &&
            !json_object_get(t, "date")) {
            json_object_del(json_object_get(c->card, "anniversaries"), c->target_id[i]);
            c->target[i] = NULL;
            to_vcardprops(c, i);
        }
    }
    if (!json_object_size(json_object_get(c->card, "anniversaries")))
        json_object_del(c->card, "anniversaries");
}

/* §3.2.1: the JSPROP PatchObject goes last, and only if it is valid; otherwise the
 * JSPROPs are kept verbatim in vCardProps. */
static void apply_jsprops(conv *c)
{
    if (!json_object_size(c->jsprops))
        return;
    json_t *patched = jscontact_patch_apply(c->card, c->jsprops);
    /* §1.4.3 rule 4: the values must be valid too */
    if (patched && jscontact_card_validate(patched, NULL, NULL)) {
        json_decref(patched);
        patched = NULL;
    }
    if (patched) {
        json_decref(c->card);
        c->card = patched;
        return;
    }
    /* keep the JSPROPs verbatim rather than lose them */
    json_t *vps = json_object_get(c->card, "vCardProps");
    if (!vps) {
        vps = json_array();
        json_object_set_new_nocheck(c->card, "vCardProps", vps);
    }
    for (size_t i = 0; i < c->vc->nprops; i++)
        if (c->target_map[i] && !strcmp(c->target_map[i], "@jsprop"))
            json_array_append_new(vps, v2j_jcard_prop(&c->vc->props[i]));
}

/* Frees everything of the conversion but the Card. */
static void conv_free(conv *c)
{
    json_decref(c->propids);
    json_decref(c->vcardprops);
    json_decref(c->jsprops);
    for (size_t i = 0; i < c->vc->nprops; i++)
        free(c->target_id[i]);
    free(c->target);
    free(c->target_map);
    free(c->target_id);
    free(c->done);
    free(c->explained);
    free(c->used);
    json_decref(c->extra_types);
    free(c->lang);
}

json_t *jscontact_from_vcard(const vcard *vc)
{
    conv c;
    conv_init(&c, vc);
    prescan(&c);
    convert_props(&c);
    apply_groups(&c);
    drop_dateless_anniversaries(&c);
    for (size_t i = 0; i < vc->nprops; i++)
        if (!c.done[i])
            to_vcardprops(&c, i); /* X-ABLabel without a labelled property */
    keep_groups(&c);

    /* RFC 9982 §3: a vCard without UID becomes a version "2.0" Card without uid (the
     * converter MUST NOT generate one) */
    if (json_array_size(c.vcardprops))
        json_object_set(c.card, "vCardProps", c.vcardprops);
    /* a name needs full or components (RFC 9553 §2.2.1.1) */
    json_t *nm = json_object_get(c.card, "name");
    if (nm && !json_object_get(nm, "full") && !json_object_get(nm, "components"))
        c.risky = 1;
    if (c.risky || c.lang || json_object_get(c.card, "localizations"))
        fix_invalid(&c);
    apply_jsprops(&c);
    conv_free(&c);
    return c.card;
}

json_t *jscontact_from_vcard_text(const char *text, size_t len, char **err)
{
    vcard *cards;
    size_t n;
    if (vcard_parse(text, len, &cards, &n, err) < 0)
        return NULL;
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, jscontact_from_vcard(&cards[i]));
    vcard_list_free(cards, n);
    return out;
}
