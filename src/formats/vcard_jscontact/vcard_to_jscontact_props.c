/*
 * vcard_to_jscontact_props.c — RFC 9555 §2.4–§2.13: one handler per vCard
 * property. A handler converts the current property (conv.cur) into the Card or
 * into a scratch object (for localizations), consumes the parameters it maps and
 * leaves the others to vCardParams; it returns NULL to send the property to
 * vCardProps. The table at the bottom maps property names to handlers.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/jscontact/jscontact.h"
#include "formats/jscontact/jscontact_internal.h"
#include "formats/vcard_jscontact/vcard_to_jscontact.h"

/* ---- handlers --------------------------------------------------------------- */

typedef struct resource_spec {
    vcard_name_id prop;
    const char *map, *prefix, *kind;
} resource_spec;

static const resource_spec resources[] = {
    {VC_PHOTO, "media", "PHOTO", "photo"},
    {VC_LOGO, "media", "LOGO", "logo"},
    {VC_SOUND, "media", "SOUND", "sound"},
    {VC_KEY, "cryptoKeys", "KEY", NULL},
    {VC_URL, "links", "LINK", NULL},
    {VC_CONTACT_URI, "links", "CONTACT", "contact"},
    {VC_CALURI, "calendars", "CAL", "calendar"},
    {VC_FBURL, "calendars", "FBURL", "freeBusy"},
    {VC_SOURCE, "directories", "ENTRY", "entry"},
    {VC_ORG_DIRECTORY, "directories", "DIRECTORY", "directory"},
    {VC_CALADRURI, "schedulingAddresses", "SCHEDULING", NULL},
    {VC_OTHER, NULL, NULL, NULL}};

/* vCard 3.0 ENCODING=b;TYPE=JPEG → a data: URI (RFC 2397), as 4.0 writes it. */
/* True if s can stand in a data: URI's media type (RFC 2397, RFC 2045 tokens): ASCII
 * token characters with at most one '/'. */
static int media_type_token(const char *s)
{
    int slashes = 0;
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '/')
            slashes++;
        else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || strchr("!#$&^_.+-", ch)))
            return 0;
    }
    return slashes <= 1;
}

/* vCard 3.0 ENCODING=b inline data as a data: URI. The TYPE parameter names the media
 * type (a full one, or an image subtype); one that cannot stand in a URI stays a
 * parameter (vCardParams) and the data is application/octet-stream. */
static char *inline_data_uri(conv *c, int is_key)
{
    const char *enc = vcard_param_first_id(c->cur, VC_ENCODING);
    if (!enc || strcasecmp(enc, "b") != 0)
        return NULL;
    v2j_take(c, VC_ENCODING);
    const char *type = vcard_param_first_id(c->cur, VC_TYPE);
    if (type && !media_type_token(type))
        type = NULL;
    else if (type)
        type = v2j_take(c, VC_TYPE);
    jbuf b = {0};
    jbuf_adds(&b, "data:");
    if (type && strchr(type, '/'))
        jbuf_adds(&b, type);
    else if (is_key)
        jbuf_adds(&b, type && strcasecmp(type, "X509") == 0 ? "application/pkix-cert"
                                                            : "application/pgp-keys");
    else if (type) {
        char *l = jsc_lower(vc_strdup(type));
        jbuf_printf(&b, "image/%s", l);
        free(l);
    } else
        jbuf_adds(&b, "application/octet-stream");
    jbuf_printf(&b, ";base64,%s", c->cur->value);
    return jbuf_take(&b);
}

static json_t *h_resource(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    const resource_spec *rs = resources;
    while (rs->prop != c->cur->id)
        rs++;
    if (v2j_value_type_is(c, "text") && strcmp(rs->map, "cryptoKeys") == 0)
        return NULL; /* inline key text has no Resource form */
    json_t *obj = json_object();
    if (rs->kind)
        json_object_set_new_nocheck(obj, "kind", json_string(rs->kind));
    char *data = inline_data_uri(c, strcmp(rs->map, "cryptoKeys") == 0);
    if (data) {
        json_object_set_new_nocheck(obj, "uri", json_string(data));
        free(data);
        c->types_done = 1;
    } else {
        char *u = v2j_uri_value(c->cur->value);
        json_object_set_new_nocheck(obj, "uri", json_string(u));
        free(u);
    }
    if (v2j_value_type_is(c, "uri"))
        v2j_take(c, VC_VALUE);
    const char *mt = v2j_take(c, VC_MEDIATYPE);
    if (mt)
        json_object_set_new_nocheck(obj, "mediaType", json_string(mt));
    if (!strcmp(rs->map, "directories")) {
        const char *ix = vcard_param_first_id(c->cur, VC_INDEX);
        char *end;
        long n = ix ? strtol(ix, &end, 10) : 0;
        if (ix && *ix && !*end && n >= 0) {
            v2j_take(c, VC_INDEX);
            json_object_set_new_nocheck(obj, "listAs", json_integer(n));
        }
    }
    v2j_finish(c, obj, 1, 1);
    *map = rs->map;
    return v2j_add_entry(c, card, rs->map, rs->prefix, obj, fid, id);
}

static json_t *h_email(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    v2j_set_text(obj, "address", c->cur->value);
    if (v2j_value_type_is(c, "text"))
        v2j_take(c, VC_VALUE);
    v2j_finish(c, obj, 1, 1);
    *map = "emails";
    return v2j_add_entry(c, card, "emails", "EMAIL", obj, fid, id);
}

static json_t *h_tel(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    if (v2j_value_type_is(c, "uri")) {
        v2j_take(c, VC_VALUE);
        char *u = v2j_uri_value(c->cur->value);
        json_object_set_new_nocheck(obj, "number", json_string(u));
        free(u);
    } else {
        if (v2j_value_type_is(c, "text"))
            v2j_take(c, VC_VALUE);
        v2j_set_text(obj, "number", c->cur->value);
    }
    v2j_conv_pref(c, obj);
    c->pref_ok = 1;
    v2j_conv_types(c, obj, jsc_tel_features, "features", 1);
    c->types_done = 1;
    v2j_finish(c, obj, 0, 1);
    *map = "phones";
    return v2j_add_entry(c, card, "phones", "PHONE", obj, fid, id);
}

static json_t *h_online(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    int impp = c->cur->id == VC_IMPP;
    int apple = c->cur->id == VC_X_SOCIALPROFILE;
    if (!impp && v2j_value_type_is(c, "text")) {
        v2j_take(c, VC_VALUE);
        v2j_set_text(obj, "user", c->cur->value);
    } else {
        if (v2j_value_type_is(c, "uri"))
            v2j_take(c, VC_VALUE);
        char *u = v2j_uri_value(c->cur->value);
        json_object_set_new_nocheck(obj, "uri", json_string(u));
        free(u);
    }
    const char *st = v2j_take(c, VC_SERVICE_TYPE);
    if (st)
        json_object_set_new_nocheck(obj, "service", json_string(st));
    const char *un = v2j_take(c, VC_USERNAME);
    if (!un && apple)
        un = v2j_take(c, VC_X_USER);
    if (un && !json_object_get(obj, "user"))
        json_object_set_new_nocheck(obj, "user", json_string(un));
    if (apple && !st) {
        /* Apple: X-SOCIALPROFILE;TYPE=twitter names the service in TYPE */
        const vcard_param *pa = vcard_param_get_id(c->cur, VC_TYPE);
        if (pa && pa->nvalues == 1 && strcasecmp(pa->values[0], "home") &&
            strcasecmp(pa->values[0], "work") && strcasecmp(pa->values[0], "pref")) {
            v2j_take(c, VC_TYPE);
            json_object_set_new_nocheck(obj, "service", json_string(pa->values[0]));
            c->types_done = 1;
        }
    }
    if (impp)
        json_object_set_new_nocheck(obj, "vCardName", json_string("impp"));
    v2j_finish(c, obj, 1, 1);
    *map = "onlineServices";
    return v2j_add_entry(c, card, "onlineServices", "OS", obj, fid, id);
}

static json_t *h_lang(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    json_object_set_new_nocheck(obj, "language", json_string(c->cur->value));
    v2j_finish(c, obj, 1, 1);
    *map = "preferredLanguages";
    return v2j_add_entry(c, card, "preferredLanguages", "LANG", obj, fid, id);
}

static json_t *h_nickname(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    char **parts;
    size_t n;
    vcard_value_split(c->cur->value, ',', &parts, &n);
    json_t *first = NULL;
    unsigned char *used0 = vc_malloc(c->cur->nparams + 1);
    memcpy(used0, c->used, c->cur->nparams);
    for (size_t i = 0; i < n; i++) {
        if (!*parts[i] && n > 1)
            continue;
        memcpy(c->used, used0, c->cur->nparams);
        json_t *obj = json_object();
        v2j_set_text(obj, "name", parts[i]);
        v2j_finish(c, obj, 1, 1);
        v2j_add_entry(c, card, "nicknames", "NICK", obj, first ? NULL : fid, first ? NULL : id);
        if (!first)
            first = obj;
    }
    free(used0);
    vcard_strv_free(parts, n);
    *map = "nicknames";
    return first;
}

static json_t *h_pronouns(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    v2j_set_text(obj, "pronouns", c->cur->value);
    v2j_finish(c, obj, 1, 1);
    json_t *sta = v2j_get_map(card, "speakToAs");
    *map = "speakToAs/pronouns";
    return v2j_add_entry(c, sta, "pronouns", "PRONOUNS", obj, fid, id);
}

static json_t *h_gramgender(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    char *v = jsc_lower(v2j_text_value(c->cur));
    json_object_set_new(v2j_get_map(card, "speakToAs"), "grammaticalGender", json_string(v));
    free(v);
    *map = "speakToAs";
    return card;
}

static json_t *h_title(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    json_object_set_new_nocheck(obj, "kind", json_string(c->cur->id == VC_ROLE ? "role" : "title"));
    v2j_set_text(obj, "name", c->cur->value);
    v2j_finish(c, obj, 0, 0);
    *map = "titles";
    return v2j_add_entry(c, card, "titles", "TITLE", obj, fid, id);
}

static json_t *h_org(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    char **parts;
    size_t n;
    vcard_value_split(c->cur->value, ';', &parts, &n);
    char **sorts = NULL;
    size_t nsorts = 0;
    const char *sa = v2j_take(c, VC_SORT_AS);
    if (sa)
        vcard_value_split(sa, ',', &sorts, &nsorts);
    char *name = vcard_value_unescape(parts[0], strlen(parts[0]));
    if (*name || n == 1)
        json_object_set_new_nocheck(obj, "name", json_string(name));
    free(name);
    if (nsorts && *sorts[0])
        json_object_set_new_nocheck(obj, "sortAs", json_string(sorts[0]));
    if (n > 1) {
        json_t *units = json_array();
        for (size_t i = 1; i < n; i++) {
            json_t *u = json_object();
            v2j_set_text(u, "name", parts[i]);
            if (i < nsorts && *sorts[i])
                json_object_set_new_nocheck(u, "sortAs", json_string(sorts[i]));
            json_array_append_new(units, u);
        }
        json_object_set_new_nocheck(obj, "units", units);
    }
    vcard_strv_free(parts, n);
    if (sorts)
        vcard_strv_free(sorts, nsorts);
    v2j_finish(c, obj, 0, 1);
    *map = "organizations";
    return v2j_add_entry(c, card, "organizations", "ORG", obj, fid, id);
}

static json_t *h_note(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    v2j_set_text(obj, "note", c->cur->value);
    const char *cr = vcard_param_first_id(c->cur, VC_CREATED);
    char ts[32];
    if (cr && jsc_parse_timestamp(cr, ts)) {
        v2j_take(c, VC_CREATED);
        json_object_set_new_nocheck(obj, "created", json_string(ts));
    }
    const char *au = v2j_take(c, VC_AUTHOR), *an = v2j_take(c, VC_AUTHOR_NAME);
    if (au || an) {
        json_t *a = json_object();
        if (an)
            json_object_set_new_nocheck(a, "name", json_string(an));
        if (au)
            json_object_set_new_nocheck(a, "uri", json_string(au));
        json_object_set_new_nocheck(obj, "author", a);
    }
    v2j_finish(c, obj, 0, 0);
    *map = "notes";
    return v2j_add_entry(c, card, "notes", "NOTE", obj, fid, id);
}

static json_t *h_persinfo(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    char *kind = jsc_lower(vc_strdup(c->cur->name));
    json_object_set_new_nocheck(obj, "kind", json_string(kind));
    v2j_set_text(obj, "value", c->cur->value);
    const char *lv = v2j_take(c, VC_LEVEL);
    if (lv) {
        /* §2.3.13 */
        const char *m = NULL;
        if (!strcmp(kind, "expertise")) {
            if (!strcasecmp(lv, "beginner"))
                m = "low";
            else if (!strcasecmp(lv, "average"))
                m = "medium";
            else if (!strcasecmp(lv, "expert"))
                m = "high";
        }
        char *l = jsc_lower(vc_strdup(m ? m : lv));
        json_object_set_new_nocheck(obj, "level", json_string(l));
        free(l);
    }
    free(kind);
    const char *ix = vcard_param_first_id(c->cur, VC_INDEX);
    char *end;
    long n = ix ? strtol(ix, &end, 10) : 0;
    if (ix && *ix && !*end && n >= 0) {
        v2j_take(c, VC_INDEX);
        json_object_set_new_nocheck(obj, "listAs", json_integer(n));
    }
    v2j_finish(c, obj, 0, 0);
    *map = "personalInfo";
    return v2j_add_entry(c, card, "personalInfo", "PERSINFO", obj, fid, id);
}

/* The values of a structured N or ADR value (RFC 6350 §6.2.2, §6.3.1; RFC 9554 §2.1):
 * component by component, each component a comma-separated list, every value unescaped
 * (§3.4). One pass over the raw value, into one buffer; small values need no malloc. */
typedef struct structured {
    const char **val; /* the values of component p: val[first[p] .. first[p + 1]) */
    size_t first[ADR_NCOMPS + 1];
    unsigned char *counts; /* per value: does it count (§3.3.1 deduplication)? */
    char *buf;             /* the unescaped values, each NUL-terminated */
    const char *small_val[32];
    unsigned char small_counts[32];
    char small_buf[256];
} structured;

static void structured_parse(structured *st, const char *raw, int ncomp)
{
    size_t len = strlen(raw), nv = 1;
    for (const char *q = raw; *q; q++)
        nv += *q == ';' || *q == ',';
    st->buf = len < sizeof st->small_buf ? st->small_buf : vc_malloc(len + 1);
    st->val = nv <= 32 ? st->small_val : vc_malloc(nv * sizeof *st->val);
    st->counts = nv <= 32 ? st->small_counts : vc_malloc(nv);
    /* a separator preceded by a backslash is part of the value, as in vcard_value_split;
     * the escapes then read as in vcard_value_unescape */
    char *o = st->buf;
    size_t n = 0;
    int p = 0;
    st->first[0] = 0;
    st->val[n++] = o;
    for (const char *q = raw; p < ncomp; q++) {
        char ch = *q;
        if (ch == ',' || ch == ';' || ch == 0) {
            *o++ = 0;
            if (ch == ',') {
                st->val[n++] = o;
                continue;
            }
            st->first[++p] = n;
            if (ch == 0)
                break;
            if (p < ncomp)
                st->val[n++] = o;
            continue;
        }
        if (ch == '\\' && q[1]) {
            ch = *++q;
            if (ch == 'n' || ch == 'N')
                ch = '\n';
            else if (ch != '\\' && ch != ',' && ch != ';' && ch != ':')
                *o++ = '\\';
        }
        *o++ = ch;
    }
    while (p < ncomp) /* components the value leaves out have no values */
        st->first[++p] = n;
}

static void structured_free(structured *st)
{
    if (st->buf != st->small_buf)
        free(st->buf);
    if (st->val != st->small_val) {
        free(st->val);
        free(st->counts);
    }
}

static size_t structured_n(const structured *st, int p)
{
    return st->first[p + 1] - st->first[p];
}

static const char *structured_get(const structured *st, int p, size_t i)
{
    return st->val[st->first[p] + i];
}

/* {"kind": kind, "value": value} */
static json_t *component_new(const char *kind, const char *value)
{
    json_t *comp = json_object();
    json_object_set_new_nocheck(comp, "kind", json_string_nocheck(kind));
    json_object_set_new_nocheck(comp, "value", json_string_nocheck(value));
    return comp;
}

/* Converts a structured N/ADR value (with optional JSCOMPS) to components.
 * Returns a new array, sets *ordered and *defsep (malloc'd or NULL). */
static json_t *components(conv *c, int is_adr, int *ordered, char **defsep)
{
    int ncomp = is_adr ? ADR_NCOMPS : N_NCOMPS;
    const char *const *kinds = is_adr ? jsc_adr_kinds : jsc_n_kinds;
    structured st;
    structured_parse(&st, c->cur->value, ncomp);
    int newfmt = 0;
    if (is_adr)
        for (size_t k = st.first[7]; k < st.first[ADR_NCOMPS]; k++)
            if (*st.val[k])
                newfmt = 1;
    size_t total = 0;
    for (int p = 0; p < ncomp; p++) {
        for (size_t i = 0; i < structured_n(&st, p); i++) {
            const char *v = structured_get(&st, p, i);
            int ok = *v != 0;
            if (ok && is_adr && newfmt && (p == 1 || p == 2))
                ok = 0;
            if (ok && !is_adr && (p == 0 || p == 4)) {
                int other = p == 0 ? 5 : 6;
                for (size_t j = 0; j < structured_n(&st, other); j++)
                    if (!strcmp(structured_get(&st, other, j), v))
                        ok = 0;
            }
            st.counts[st.first[p] + i] = (unsigned char)ok;
            total += (size_t)ok;
        }
    }
    json_t *comps = json_array();
    *ordered = 0;
    *defsep = NULL;
    const char *jscomps = vcard_param_first_id(c->cur, VC_JSCOMPS);
    if (jscomps) {
        /* RFC 9555 §3.3.1 */
        char **ent;
        size_t nent;
        vcard_value_split(jscomps, ';', &ent, &nent);
        int valid = nent >= 2 && (!*ent[0] || strncmp(ent[0], "s,", 2) == 0);
        size_t npositional = 0;
        for (size_t e = 1; valid && e < nent; e++) {
            json_t *comp = json_object();
            if (strncmp(ent[e], "s,", 2) == 0) {
                char *v = vcard_value_unescape(ent[e] + 2, strlen(ent[e] + 2));
                json_object_set_new_nocheck(comp, "kind", json_string("separator"));
                json_object_set_new_nocheck(comp, "value", json_string(v));
                free(v);
            } else {
                char *end;
                long p = strtol(ent[e], &end, 10), i = 0;
                if (end == ent[e] || !isdigit((unsigned char)ent[e][0]))
                    valid = 0;
                else if (*end == ',') {
                    char *e2;
                    i = strtol(end + 1, &e2, 10);
                    if (e2 == end + 1 || *e2 || i == 0)
                        valid = 0;
                } else if (*end)
                    valid = 0;
                if (valid &&
                    (p < 0 || p >= ncomp || i < 0 || (size_t)i >= structured_n(&st, (int)p)))
                    valid = 0;
                if (valid) {
                    json_object_set_new_nocheck(comp, "kind", json_string(kinds[p]));
                    json_object_set_new_nocheck(
                        comp, "value", json_string(structured_get(&st, (int)p, (size_t)i)));
                    npositional++;
                }
            }
            json_array_append_new(comps, comp);
        }
        if (valid && npositional == total) {
            v2j_take(c, VC_JSCOMPS);
            *ordered = 1;
            if (*ent[0])
                *defsep = vcard_value_unescape(ent[0] + 2, strlen(ent[0] + 2));
        } else {
            json_array_clear(comps);
        }
        vcard_strv_free(ent, nent);
    }
    if (!*ordered) {
        /* left to right; the RFC 9554 parts stand where the old component stood */
        for (int p = 0; p < (is_adr ? 7 : ncomp); p++) {
            const int *sub = NULL;
            if (is_adr && newfmt && p == 1)
                sub = jsc_adr_ext_parts;
            else if (is_adr && newfmt && p == 2)
                sub = jsc_adr_street_parts;
            int single[2] = {p, -1};
            for (const int *q = sub ? sub : single; *q >= 0; q++)
                for (size_t k = st.first[*q]; k < st.first[*q + 1]; k++)
                    if (st.counts[k])
                        json_array_append_new(comps, component_new(kinds[*q], st.val[k]));
        }
    }
    structured_free(&st);
    return comps;
}

static void set_phonetic_params(conv *c, json_t *obj)
{
    const char *ph = v2j_take(c, VC_PHONETIC);
    const char *sc = v2j_take(c, VC_SCRIPT);
    if (ph && strcasecmp(ph, "script") != 0) {
        char *l = jsc_lower(vc_strdup(ph));
        json_object_set_new_nocheck(obj, "phoneticSystem", json_string(l));
        free(l);
    }
    if (sc)
        json_object_set_new_nocheck(obj, "phoneticScript", json_string(sc));
}

/* The components, isOrdered and defaultSeparator of a Name or Address (obj) from the
 * structured N or ADR value. */
static void set_components(conv *c, json_t *obj, int is_adr)
{
    int ordered;
    char *defsep;
    json_t *comps = components(c, is_adr, &ordered, &defsep);
    if (json_array_size(comps))
        json_object_set_new_nocheck(obj, "components", comps);
    else
        json_decref(comps);
    if (ordered)
        json_object_set_new_nocheck(obj, "isOrdered", json_true());
    if (defsep)
        json_object_set_new_nocheck(obj, "defaultSeparator", json_string(defsep));
    free(defsep);
}

static json_t *h_n(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *name = v2j_get_map(card, "name");
    set_components(c, name, 0);
    const char *sa = v2j_take(c, VC_SORT_AS);
    if (sa) {
        /* §2.3.21: SORT-AS is structured like N: "surname,given" */
        char **s;
        size_t ns;
        vcard_value_split(sa, ',', &s, &ns);
        json_t *so = json_object();
        for (size_t i = 0; i < ns && i < N_NCOMPS; i++)
            if (*s[i]) {
                char *u = vcard_value_unescape(s[i], strlen(s[i]));
                json_object_set_new(so, jsc_n_kinds[i], json_string(u));
                free(u);
            }
        vcard_strv_free(s, ns);
        if (json_object_size(so))
            json_object_set_new_nocheck(name, "sortAs", so);
        else
            json_decref(so);
    }
    set_phonetic_params(c, name);
    v2j_finish(c, name, 0, 0);
    *map = "name";
    return name;
}

static json_t *h_fn(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    const char *d = vcard_param_first_id(c->cur, VC_DERIVED);
    if (d && strcasecmp(d, "true") == 0)
        return card; /* §3.1: a derived FN only stands in for name.full; drop it */
    if (!*c->cur->value)
        return card; /* §3.1: the empty FN of a Card without a name */
    size_t me = (size_t)(c->cur - c->vc->props);
    if (card == c->card && c->fn_main != SIZE_MAX && me != c->fn_main &&
        !vcard_param_get_id(c->cur, VC_LANGUAGE) && !vcard_param_get_id(c->cur, VC_ALTID))
        return NULL; /* §2.5.2: not the chosen FN: vCardProps */
    json_t *name = v2j_get_map(card, "name");
    if (json_object_get(name, "full"))
        return NULL; /* §2.5.2: a second FN goes to vCardProps */
    v2j_set_text(name, "full", c->cur->value);
    v2j_finish(c, name, 0, 0);
    *map = "name";
    return name;
}

/* §2.3.12, §2.3.8, §2.3.23, §2.3.5 */
static json_t *h_adr(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    set_components(c, obj, 1);
    const char *v;
    if ((v = v2j_take(c, VC_LABEL))) {
        /* RFC 6350 §6.3.1 writes line breaks in LABEL as "\n" (its own example),
         * though parameter values know only RFC 6868 ^n */
        char *u = vcard_value_unescape(v, strlen(v));
        json_object_set_new_nocheck(obj, "full", json_string(u));
        free(u);
    }
    if ((v = v2j_take(c, VC_GEO)))
        json_object_set_new_nocheck(obj, "coordinates", json_string(v));
    if ((v = v2j_take(c, VC_TZ)))
        json_object_set_new_nocheck(obj, "timeZone", json_string(v));
    if ((v = v2j_take(c, VC_CC)))
        json_object_set_new_nocheck(obj, "countryCode", json_string(v));
    set_phonetic_params(c, obj);
    v2j_conv_pref(c, obj);
    c->pref_ok = 1;
    static const jsc_pair adr_ctx[] = {
        {"billing", "billing"}, {"delivery", "delivery"}, {NULL, NULL}};
    v2j_conv_types(c, obj, adr_ctx, "contexts", 1);
    c->types_done = 1;
    v2j_finish(c, obj, 0, 1);
    *map = "addresses";
    return v2j_add_entry(c, card, "addresses", "ADDR", obj, fid, id);
}

/* §2.8.2: a TZ value as an IANA name, or NULL. out holds at least 16 bytes. */
static const char *tz_name(conv *c, char *out)
{
    const char *v = c->cur->value;
    if (v2j_value_type_is(c, "utc-offset") ||
        ((v[0] == '+' || v[0] == '-') && isdigit((unsigned char)v[1]))) {
        int h, m = 0;
        char sign = v[0];
        const char *p = v + 1;
        if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
            return NULL;
        h = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])) {
            m = (p[0] - '0') * 10 + (p[1] - '0');
            p += 2;
        }
        if (*p || m != 0 || (sign != '+' && sign != '-'))
            return NULL;
        int off = sign == '-' ? -h : h;
        if (off < -12 || off > 14)
            return NULL;
        if (off == 0)
            snprintf(out, 16, "Etc/UTC");
        else
            snprintf(out, 16, "Etc/GMT%c%d", off > 0 ? '-' : '+', off > 0 ? off : -off);
        v2j_take(c, VC_VALUE);
        return out;
    }
    if (v2j_value_type_is(c, "uri"))
        return NULL;
    if (v2j_value_type_is(c, "text"))
        v2j_take(c, VC_VALUE);
    return v;
}

static json_t *h_geo_tz(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    int geo = c->cur->id == VC_GEO;
    char buf[16];
    const char *v = geo ? c->cur->value : tz_name(c, buf);
    if (!v)
        return NULL;
    char *tv;
    if (geo && strncasecmp(v, "geo:", 4) != 0 && strchr(v, ';')) {
        /* vCard 3.0 GEO is "lat;lon"; JSContact coordinates are a geo: URI */
        jbuf g = {0};
        jbuf_adds(&g, "geo:");
        for (const char *q = v; *q; q++)
            jbuf_addc(&g, *q == ';' ? ',' : *q);
        tv = jbuf_take(&g);
    } else {
        tv = geo ? v2j_uri_value(v) : vcard_value_unescape(v, strlen(v));
    }
    const char *key = geo ? "coordinates" : "timeZone";
    /* §2.8.3: join the ADR of the same group, if it has no such value yet */
    if (c->cur->group && card == c->card) {
        for (size_t i = 0; i < c->vc->nprops; i++) {
            const vcard_prop *q = &c->vc->props[i];
            if (q == c->cur || !c->target[i] || !q->group ||
                strcasecmp(q->group, c->cur->group) != 0 || q->id != VC_ADR)
                continue;
            json_t *a = c->target[i];
            if (json_object_get(a, key))
                continue;
            json_object_set_new(a, key, json_string(tv));
            free(tv);
            if (geo && v2j_value_type_is(c, "uri"))
                v2j_take(c, VC_VALUE);
            if (c->cur->nparams > 0) {
                for (size_t k = 0; k < c->cur->nparams; k++)
                    if (!c->used[k]) {
                        /* parameters of the joined property have no place */
                        json_object_del(a, key);
                        return NULL;
                    }
            }
            *map = "addresses";
            *id = vc_strdup(c->target_id[i]);
            c->explained[i] = 1;
            c->explained[c->cur - c->vc->props] = 1;
            return a;
        }
    }
    json_t *obj = json_object();
    json_object_set_new(obj, key, json_string(tv));
    free(tv);
    if (geo && v2j_value_type_is(c, "uri"))
        v2j_take(c, VC_VALUE);
    v2j_finish(c, obj, 1, 1);
    *map = "addresses";
    return v2j_add_entry(c, card, "addresses", geo ? "GEO" : "TZ", obj, fid, id);
}

/* True if both properties have the same TYPE values, in any order and case. */
static int same_types(const vcard_prop *a, const vcard_prop *b)
{
    const vcard_prop *pr[2] = {a, b};
    for (int w = 0; w < 2; w++) {
        pv_iter it = {vcard_param_get_id(pr[w], VC_TYPE), 0, NULL, {0}};
        const char *t;
        while ((t = v2j_pv_next(&it)))
            if (!vcard_param_has_id(pr[1 - w], VC_TYPE, t))
                return 0;
    }
    return 1;
}

/* vCard 3.0 LABEL property (RFC 2426 §3.2.2): the full form of the ADR with the
 * same TYPE, as the 4.0 LABEL parameter is (RFC 9555 §2.3.12). */
static json_t *h_label(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    if (card != c->card)
        return NULL;
    for (size_t i = 0; i < c->vc->nprops; i++) {
        const vcard_prop *q = &c->vc->props[i];
        if (!c->target[i] || q->id != VC_ADR || json_object_get(c->target[i], "full") ||
            !same_types(q, c->cur))
            continue;
        for (size_t k = 0; k < c->cur->nparams; k++)
            if (c->cur->params[k].id != VC_TYPE)
                return NULL; /* other parameters have no place */
        char *t = v2j_text_value(c->cur);
        json_object_set_new_nocheck(c->target[i], "full", json_string(t));
        free(t);
        v2j_take(c, VC_TYPE);
        *map = "addresses";
        *id = vc_strdup(c->target_id[i]);
        c->explained[c->cur - c->vc->props] = 1;
        return c->target[i];
    }
    return NULL;
}

static json_t *anniversary_for(conv *c, json_t *card, const char *kind, const char *fid, char **id)
{
    /* BDAY and BIRTHPLACE (DEATHDATE and DEATHPLACE) share one Anniversary */
    json_t *map = v2j_get_map(card, "anniversaries");
    const char *pid = vcard_param_first_id(c->cur, VC_PROP_ID);
    json_t *same = pid && !fid ? json_object_get(map, pid) : NULL;
    const char *sk = json_string_value(json_object_get(same, "kind"));
    if (same && sk && !strcmp(sk, kind)) {
        /* BDAY and BIRTHPLACE written with the same PROP-ID */
        v2j_take(c, VC_PROP_ID);
        *id = vc_strdup(pid);
        return same;
    }
    if (strcmp(kind, "wedding") != 0 && !fid && !pid) {
        const char *k;
        json_t *v;
        json_object_foreach(map, k, v)
        {
            const char *vk = json_string_value(json_object_get(v, "kind"));
            if (vk && !strcmp(vk, kind) &&
                !(json_object_get(v, "place") && json_object_get(v, "date")))
                return *id = vc_strdup(k), v;
        }
    }
    json_t *obj = json_object();
    json_object_set_new_nocheck(obj, "kind", json_string(kind));
    return v2j_add_entry(c, card, "anniversaries", "ANNIVERSARY", obj, fid, id);
}

static json_t *h_date(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    vcard_name_id name = c->cur->id;
    const char *kind = name == VC_BDAY ? "birth" : name == VC_DEATHDATE ? "death" : "wedding";
    const char *v = c->cur->value;
    if (v2j_value_type_is(c, "text"))
        return NULL;
    json_t *date = json_object();
    char ts[32];
    int y, m, d;
    if (jsc_parse_timestamp(v, ts)) {
        /* §2.2.2: TIMESTAMP → Timestamp */
        json_object_set_new_nocheck(date, "@type", json_string("Timestamp"));
        json_object_set_new_nocheck(date, "utc", json_string(ts));
    } else if (jsc_parse_date(v, &y, &m, &d) && !((!y) && (!m || !d))) {
        const char *omit = vcard_param_first_id(c->cur, VC_X_APPLE_OMIT_YEAR);
        if (omit && atoi(omit) == y && m && d) { /* a year-only date keeps its year */
            v2j_take(c, VC_X_APPLE_OMIT_YEAR);   /* Apple writes 1604-MM-DD for "no year" */
            y = 0;
        }
        if (y)
            json_object_set_new_nocheck(date, "year", json_integer(y));
        if (m)
            json_object_set_new_nocheck(date, "month", json_integer(m));
        if (d)
            json_object_set_new_nocheck(date, "day", json_integer(d));
        const char *cs = v2j_take(c, VC_CALSCALE);
        if (cs) {
            char *l = jsc_lower(vc_strdup(cs));
            json_object_set_new_nocheck(date, "calendarScale", json_string(l));
            free(l);
        }
    } else {
        json_decref(date);
        return NULL; /* DATE-TIME, TIME, month or day only: §2.2.2 → vCardProps */
    }
    if (vcard_param_first_id(c->cur, VC_VALUE) &&
        (v2j_value_type_is(c, "date") || v2j_value_type_is(c, "timestamp") ||
         v2j_value_type_is(c, "date-and-or-time") || v2j_value_type_is(c, "date-time")))
        v2j_take(c, VC_VALUE);
    json_t *ann = anniversary_for(c, card, kind, fid, id);
    json_object_set_new_nocheck(ann, "date", date);
    v2j_finish(c, ann, 0, 0);
    *map = "anniversaries";
    return ann;
}

static json_t *h_place(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    const char *kind = c->cur->id == VC_BIRTHPLACE ? "birth" : "death";
    json_t *place = json_object();
    const char *v = c->cur->value;
    if (v2j_value_type_is(c, "uri")) {
        if (strncasecmp(v, "geo:", 4) != 0) {
            json_decref(place);
            return NULL;
        }
        v2j_take(c, VC_VALUE);
        json_object_set_new_nocheck(place, "coordinates", json_string(v));
    } else {
        if (v2j_value_type_is(c, "text"))
            v2j_take(c, VC_VALUE);
        v2j_set_text(place, "full", v);
    }
    json_t *ann = anniversary_for(c, card, kind, fid, id);
    if (json_object_get(ann, "place")) {
        json_decref(place);
        return NULL;
    }
    json_object_set_new_nocheck(ann, "place", place);
    v2j_finish(c, place, 0, 0);
    *map = "anniversaries";
    return ann;
}

static json_t *h_related(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *rel = v2j_get_map(card, "relatedTo");
    char *key =
        v2j_value_type_is(c, "text") ? v2j_text_value(c->cur) : v2j_uri_value(c->cur->value);
    v2j_take(c, VC_VALUE);
    if (json_object_get(rel, key)) {
        free(key);
        return NULL;
    }
    json_t *obj = json_object();
    json_t *r = json_object();
    const vcard_param *pa = v2j_take_param(c, VC_TYPE);
    pv_iter it = {pa, 0, NULL, {0}};
    const char *t;
    while ((t = v2j_pv_next(&it))) {
        char *l = jsc_lower(vc_strdup(t));
        json_object_set_new(r, l, json_true());
        free(l);
    }
    json_object_set_new_nocheck(obj, "relation", r);
    c->types_done = 1;
    v2j_finish(c, obj, 0, 0);
    json_object_set_new(rel, key, obj);
    free(key);
    *map = "relatedTo";
    return card;
}

static json_t *h_member(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    if (c->cur->nparams > (size_t)(vcard_param_get_id(c->cur, VC_PREF) ? 1 : 0))
        return NULL;      /* parameters other than PREF have no place in members */
    v2j_take(c, VC_PREF); /* §2.9.3: PREF does not convert */
    char *u = v2j_uri_value(c->cur->value);
    json_object_set_new(v2j_get_map(card, "members"), u, json_true());
    free(u);
    *map = "members";
    return card;
}

static json_t *h_categories(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    if (c->cur->nparams > (size_t)(vcard_param_get_id(c->cur, VC_PREF) ? 1 : 0))
        return NULL;
    v2j_take(c, VC_PREF);
    char **parts;
    size_t n;
    vcard_value_split(c->cur->value, ',', &parts, &n);
    json_t *kw = v2j_get_map(card, "keywords");
    for (size_t i = 0; i < n; i++) {
        char *t = vcard_value_unescape(parts[i], strlen(parts[i]));
        if (*t)
            json_object_set_new(kw, t, json_true());
        free(t);
    }
    vcard_strv_free(parts, n);
    *map = "keywords";
    return card;
}

/* Single-valued top-level String properties; parameters other than VALUE=text
 * would be lost, so such properties go to vCardProps instead. */
static json_t *top_string(conv *c, json_t *card, const char *key, char *val, const char **map)
{
    *map = key;
    if (v2j_value_type_is(c, "text") || v2j_value_type_is(c, "uri") ||
        v2j_value_type_is(c, "language-tag") || v2j_value_type_is(c, "timestamp"))
        v2j_take(c, VC_VALUE);
    for (size_t i = 0; i < c->cur->nparams; i++)
        if (!c->used[i]) {
            free(val);
            return NULL;
        }
    if (json_object_get(card, key)) {
        free(val);
        return NULL;
    }
    json_object_set_new(card, key, json_string(val));
    free(val);
    return card;
}

static json_t *h_uid(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    return top_string(
        c, card, "uid",
        v2j_value_type_is(c, "text") ? v2j_text_value(c->cur) : v2j_uri_value(c->cur->value), map);
}

static json_t *h_kind(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    return top_string(c, card, "kind", jsc_lower(v2j_text_value(c->cur)), map);
}

static json_t *h_prodid(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    return top_string(c, card, "prodId", v2j_text_value(c->cur), map);
}

static json_t *h_language(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    return top_string(c, card, "language", jscontact_langtag_canon(c->cur->value), map);
}

static json_t *h_stamp(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    char ts[32];
    if (!jsc_parse_timestamp(c->cur->value, ts))
        return NULL;
    return top_string(c, card, c->cur->id == VC_REV ? "updated" : "created", vc_strdup(ts), map);
}

/* §3.2.1: JSPROP values form a PatchObject applied at the end. */
static json_t *h_jsprop(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    if (card != c->card)
        return NULL;
    const char *ptr = v2j_take(c, VC_JSPTR);
    if (!ptr)
        return NULL;
    if (v2j_value_type_is(c, "text"))
        v2j_take(c, VC_VALUE);
    for (size_t i = 0; i < c->cur->nparams; i++)
        if (!c->used[i])
            return NULL;
    char *txt = v2j_text_value(c->cur);
    json_error_t jerr;
    json_t *v = json_loads(txt, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    free(txt);
    if (!v)
        return NULL;
    if (*ptr == '/')
        ptr++; /* the root is the Card either way */
    if (json_object_get(c->jsprops, ptr)) {
        json_decref(v);
        return NULL;
    }
    if (!c->jsprops)
        c->jsprops = json_object();
    json_object_set_new(c->jsprops, ptr, v);
    *map = "@jsprop";
    return card;
}

/* The handler of each property that converts (RFC 9555 §2.4-§2.13); the others go to
 * vCardProps (§2.15.1). */
static const handler_fn rules[VC_NAME_COUNT] = {
    [VC_ADR] = h_adr,
    [VC_ANNIVERSARY] = h_date,
    [VC_BDAY] = h_date,
    [VC_BIRTHPLACE] = h_place,
    [VC_CALADRURI] = h_resource,
    [VC_CALURI] = h_resource,
    [VC_CATEGORIES] = h_categories,
    [VC_CONTACT_URI] = h_resource,
    [VC_CREATED] = h_stamp,
    [VC_DEATHDATE] = h_date,
    [VC_DEATHPLACE] = h_place,
    [VC_EMAIL] = h_email,
    [VC_EXPERTISE] = h_persinfo,
    [VC_FBURL] = h_resource,
    [VC_FN] = h_fn,
    [VC_GEO] = h_geo_tz,
    [VC_GRAMGENDER] = h_gramgender,
    [VC_HOBBY] = h_persinfo,
    [VC_IMPP] = h_online,
    [VC_INTEREST] = h_persinfo,
    [VC_JSPROP] = h_jsprop,
    [VC_KEY] = h_resource,
    [VC_KIND] = h_kind,
    [VC_LABEL] = h_label,
    [VC_LANG] = h_lang,
    [VC_LANGUAGE] = h_language,
    [VC_LOGO] = h_resource,
    [VC_MEMBER] = h_member,
    [VC_N] = h_n,
    [VC_NICKNAME] = h_nickname,
    [VC_NOTE] = h_note,
    [VC_ORG] = h_org,
    [VC_ORG_DIRECTORY] = h_resource,
    [VC_PHOTO] = h_resource,
    [VC_PRODID] = h_prodid,
    [VC_PRONOUNS] = h_pronouns,
    [VC_RELATED] = h_related,
    [VC_REV] = h_stamp,
    [VC_ROLE] = h_title,
    [VC_SOCIALPROFILE] = h_online,
    [VC_SOUND] = h_resource,
    [VC_SOURCE] = h_resource,
    [VC_TEL] = h_tel,
    [VC_TITLE] = h_title,
    [VC_TZ] = h_geo_tz,
    [VC_UID] = h_uid,
    [VC_URL] = h_resource,
    [VC_X_ADDRESSBOOKSERVER_KIND] = h_kind,
    [VC_X_ADDRESSBOOKSERVER_MEMBER] = h_member,
    [VC_X_SOCIALPROFILE] = h_online,
};

handler_fn v2j_rule_for(vcard_name_id name)
{
    return rules[name];
}
