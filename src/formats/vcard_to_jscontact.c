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
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/jscontact.h"
#include "formats/jscontact_internal.h"

typedef struct conv {
    const vcard *vc;
    json_t *card;       /* the Card being built */
    json_t *propids;    /* set of all PROP-ID values in the vCard */
    json_t *counters;   /* id prefix -> last number used */
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
    unsigned char *used; /* per parameter of the current property */
    size_t used_cap;
    const vcard_prop *cur;
    /* state of the current property's handler */
    int pref_ok;         /* TYPE=pref may set pref */
    int types_done;      /* TYPE was converted by the handler */
    json_t *extra_types; /* TYPE values with no JSContact form */
} conv;

/* ---- parameters ------------------------------------------------------------- */

static size_t param_index(const vcard_prop *p, const vcard_param *pa)
{
    return (size_t)(pa - p->params);
}

/* Returns the first value of the parameter and marks it consumed. */
static const char *take(conv *c, const char *name)
{
    const vcard_param *pa = vcard_param_get(c->cur, name);
    if (!pa)
        return NULL;
    c->used[param_index(c->cur, pa)] = 1;
    return pa->nvalues ? pa->values[0] : "";
}

/* Returns the whole parameter and marks it consumed. */
static const vcard_param *take_param(conv *c, const char *name)
{
    const vcard_param *pa = vcard_param_get(c->cur, name);
    if (pa)
        c->used[param_index(c->cur, pa)] = 1;
    return pa;
}

/* Iterates over the comma-separated values of a parameter, including commas
 * inside quoted values (TYPE="voice,home"). */
typedef struct pv_iter {
    const vcard_param *pa;
    size_t i;
    const char *s;
    char buf[128];
} pv_iter;

static const char *pv_next(pv_iter *it)
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
        snprintf(it->buf, sizeof it->buf, "%.*s", (int)n, it->s);
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
static json_t *param_json(const vcard_param *pa)
{
    if (pa->nvalues == 1)
        return json_string(pa->values[0]);
    json_t *a = json_array();
    for (size_t i = 0; i < pa->nvalues; i++)
        json_array_append_new(a, json_string(pa->values[i]));
    return a;
}

static json_t *lower_name(const char *name)
{
    char *s = jsc_lower(vc_strdup(name));
    json_t *j = json_string(s);
    free(s);
    return j;
}

/* Puts every parameter the handler did not consume into obj.vCardParams (§2.15.2);
 * unconsumed TYPE values are collected in extra_types by the handler. */
static void leftover_params(conv *c, json_t *obj, json_t *extra_types)
{
    json_t *vp = json_object_get(obj, "vCardParams");
    for (size_t i = 0; i < c->cur->nparams; i++) {
        const vcard_param *pa = &c->cur->params[i];
        if (c->used[i])
            continue;
        if (!vp) {
            vp = json_object();
            json_object_set_new(obj, "vCardParams", vp);
        }
        char *k = jsc_lower(vc_strdup(pa->name));
        json_object_set_new(vp, k, param_json(pa));
        free(k);
    }
    if (extra_types && json_array_size(extra_types)) {
        if (!vp) {
            vp = json_object();
            json_object_set_new(obj, "vCardParams", vp);
        }
        if (json_array_size(extra_types) == 1)
            json_object_set(vp, "type", json_array_get(extra_types, 0));
        else
            json_object_set(vp, "type", extra_types);
    }
}

/* ---- values ----------------------------------------------------------------- */

static char *text_value(const vcard_prop *p)
{
    return vcard_value_unescape(p->value, strlen(p->value));
}

/* A URI value: RFC 6350 does not escape URIs, but many producers escape commas
 * and semicolons anyway (GEO:geo:1\,2); a URI cannot contain a backslash, so
 * dropping it before , ; : and \ is safe. */
static char *uri_value(const char *raw)
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

static void set_text(json_t *obj, const char *key, const char *raw)
{
    char *t = vcard_value_unescape(raw, strlen(raw));
    json_object_set_new(obj, key, json_string(t));
    free(t);
}

static int value_type_is(conv *c, const char *type)
{
    const char *v = vcard_param_first(c->cur, "VALUE");
    return v && strcasecmp(v, type) == 0;
}

/* ---- ids -------------------------------------------------------------------- */

/* RFC 9555 §2.1.2/§2.3.18: the PROP-ID, or PREFIX-n not used by any PROP-ID. */
static char *new_id(conv *c, json_t *map, const char *prefix)
{
    const char *pid = vcard_param_first(c->cur, "PROP-ID");
    if (pid && jscontact_is_id(pid) && !json_object_get(map, pid))
        return vc_strdup(pid);
    json_int_t n = json_integer_value(json_object_get(c->counters, prefix));
    char id[64];
    do
        snprintf(id, sizeof id, "%s-%lld", prefix, (long long)++n);
    while (json_object_get(map, id) || json_object_get(c->propids, id));
    json_object_set_new(c->counters, prefix, json_integer(n));
    return vc_strdup(id);
}

static json_t *get_map(json_t *card, const char *name)
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
static void conv_pref(conv *c, json_t *obj)
{
    const char *v = vcard_param_first(c->cur, "PREF");
    if (v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*v && !*end && n >= 1 && n <= 100) {
            take(c, "PREF");
            json_object_set_new(obj, "pref", json_integer(n));
        }
    }
}

/* TYPE (§2.3.22): home/work (and extra pairs) to contexts or another key; values
 * with no JSContact form end up in vCardParams. */
static void conv_types(conv *c, json_t *obj, const jsc_pair *extra, const char *extra_key,
                       int allow_contexts)
{
    const vcard_param *pa = take_param(c, "TYPE");
    c->types_done = 1;
    if (!pa)
        return;
    pv_iter it = {pa, 0, NULL, {0}};
    const char *t;
    while ((t = pv_next(&it))) {
        const char *ctx = NULL;
        if (allow_contexts && strcasecmp(t, "home") == 0)
            ctx = "private";
        else if (allow_contexts && strcasecmp(t, "work") == 0)
            ctx = "work";
        if (ctx) {
            json_t *m = get_map(obj, "contexts");
            json_object_set_new(m, ctx, json_true());
            continue;
        }
        if (strcasecmp(t, "pref") == 0 && !json_object_get(obj, "pref") && c->pref_ok) {
            json_object_set_new(obj, "pref", json_integer(1));
            continue;
        }
        /* vCard 3.0 EMAIL;TYPE=internet is the default and carries nothing */
        if (strcasecmp(t, "internet") == 0 && strcmp(c->cur->name, "EMAIL") == 0)
            continue;
        int found = 0;
        for (const jsc_pair *e = extra; e && e->vcard; e++) {
            if (strcasecmp(t, e->vcard) == 0) {
                json_object_set_new(get_map(obj, extra_key), e->jscontact, json_true());
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
static void finish(conv *c, json_t *obj, int pref, int contexts)
{
    if (pref) {
        conv_pref(c, obj);
        c->pref_ok = 1;
    }
    if (!c->types_done)
        conv_types(c, obj, NULL, NULL, contexts);
    leftover_params(c, obj, c->extra_types);
    json_decref(c->extra_types);
    c->extra_types = NULL;
    c->pref_ok = c->types_done = 0;
}

/* Adds obj to map under a new id; records the target for the group rules. */
static json_t *add_entry(conv *c, json_t *card, const char *mapname, const char *prefix,
                         json_t *obj, const char *forced_id, char **id_out)
{
    json_t *map = get_map(card, mapname);
    char *id = forced_id ? vc_strdup(forced_id) : new_id(c, map, prefix);
    if (forced_id)
        take(c, "PROP-ID");
    json_object_set_new(map, id, obj);
    if (id_out)
        *id_out = id;
    else
        free(id);
    return obj;
}

/* ---- handlers --------------------------------------------------------------- */

/* A handler converts c->cur into card (the Card or a scratch object used for
 * localizations). It returns the object built (or the Card for top-level values),
 * sets map and id for map entries, or returns NULL to send the property to
 * vCardProps. */
typedef json_t *(*handler_fn)(conv *c, json_t *card, const char *forced_id, const char **map,
                              char **id);

typedef struct resource_spec {
    const char *prop, *map, *prefix, *kind;
} resource_spec;

static const resource_spec resources[] = {
    {"PHOTO", "media", "PHOTO", "photo"},
    {"LOGO", "media", "LOGO", "logo"},
    {"SOUND", "media", "SOUND", "sound"},
    {"KEY", "cryptoKeys", "KEY", NULL},
    {"URL", "links", "LINK", NULL},
    {"CONTACT-URI", "links", "CONTACT", "contact"},
    {"CALURI", "calendars", "CAL", "calendar"},
    {"FBURL", "calendars", "FBURL", "freeBusy"},
    {"SOURCE", "directories", "ENTRY", "entry"},
    {"ORG-DIRECTORY", "directories", "DIRECTORY", "directory"},
    {"CALADRURI", "schedulingAddresses", "SCHEDULING", NULL},
    {NULL, NULL, NULL, NULL}};

/* vCard 3.0 ENCODING=b;TYPE=JPEG → a data: URI (RFC 2397), as 4.0 writes it. */
static char *inline_data_uri(conv *c, int is_key)
{
    const char *enc = vcard_param_first(c->cur, "ENCODING");
    if (!enc || strcasecmp(enc, "b") != 0)
        return NULL;
    take(c, "ENCODING");
    const char *type = take(c, "TYPE");
    char mt[96];
    if (type && strchr(type, '/'))
        snprintf(mt, sizeof mt, "%s", type);
    else if (is_key)
        snprintf(mt, sizeof mt, "%s",
                 type && strcasecmp(type, "X509") == 0 ? "application/pkix-cert"
                                                       : "application/pgp-keys");
    else if (type && *type) {
        char *l = jsc_lower(vc_strdup(type));
        snprintf(mt, sizeof mt, "image/%s", l);
        free(l);
    } else
        snprintf(mt, sizeof mt, "application/octet-stream");
    vbuf b = {0};
    vbuf_printf(&b, "data:%s;base64,%s", mt, c->cur->value);
    return vbuf_take(&b);
}

static json_t *h_resource(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    const resource_spec *rs = resources;
    while (strcmp(rs->prop, c->cur->name) != 0)
        rs++;
    if (value_type_is(c, "text") && strcmp(rs->map, "cryptoKeys") == 0)
        return NULL; /* inline key text has no Resource form */
    json_t *obj = json_object();
    if (rs->kind)
        json_object_set_new(obj, "kind", json_string(rs->kind));
    char *data = inline_data_uri(c, strcmp(rs->map, "cryptoKeys") == 0);
    if (data) {
        json_object_set_new(obj, "uri", json_string(data));
        free(data);
        c->types_done = 1;
    } else {
        char *u = uri_value(c->cur->value);
        json_object_set_new(obj, "uri", json_string(u));
        free(u);
    }
    if (value_type_is(c, "uri"))
        take(c, "VALUE");
    const char *mt = take(c, "MEDIATYPE");
    if (mt)
        json_object_set_new(obj, "mediaType", json_string(mt));
    if (!strcmp(rs->map, "directories")) {
        const char *ix = vcard_param_first(c->cur, "INDEX");
        char *end;
        long n = ix ? strtol(ix, &end, 10) : 0;
        if (ix && *ix && !*end && n >= 0) {
            take(c, "INDEX");
            json_object_set_new(obj, "listAs", json_integer(n));
        }
    }
    finish(c, obj, 1, 1);
    *map = rs->map;
    return add_entry(c, card, rs->map, rs->prefix, obj, fid, id);
}

static json_t *h_email(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    set_text(obj, "address", c->cur->value);
    if (value_type_is(c, "text"))
        take(c, "VALUE");
    finish(c, obj, 1, 1);
    *map = "emails";
    return add_entry(c, card, "emails", "EMAIL", obj, fid, id);
}

static json_t *h_tel(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    if (value_type_is(c, "uri")) {
        take(c, "VALUE");
        char *u = uri_value(c->cur->value);
        json_object_set_new(obj, "number", json_string(u));
        free(u);
    } else {
        if (value_type_is(c, "text"))
            take(c, "VALUE");
        set_text(obj, "number", c->cur->value);
    }
    conv_pref(c, obj);
    c->pref_ok = 1;
    conv_types(c, obj, jsc_tel_features, "features", 1);
    c->types_done = 1;
    finish(c, obj, 0, 1);
    *map = "phones";
    return add_entry(c, card, "phones", "PHONE", obj, fid, id);
}

static json_t *h_online(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    int impp = strcmp(c->cur->name, "IMPP") == 0;
    int apple = strcmp(c->cur->name, "X-SOCIALPROFILE") == 0;
    if (!impp && value_type_is(c, "text")) {
        take(c, "VALUE");
        set_text(obj, "user", c->cur->value);
    } else {
        if (value_type_is(c, "uri"))
            take(c, "VALUE");
        char *u = uri_value(c->cur->value);
        json_object_set_new(obj, "uri", json_string(u));
        free(u);
    }
    const char *st = take(c, "SERVICE-TYPE");
    if (st)
        json_object_set_new(obj, "service", json_string(st));
    const char *un = take(c, "USERNAME");
    if (!un && apple)
        un = take(c, "X-USER");
    if (un && !json_object_get(obj, "user"))
        json_object_set_new(obj, "user", json_string(un));
    if (apple && !st) {
        /* Apple: X-SOCIALPROFILE;TYPE=twitter names the service in TYPE */
        const vcard_param *pa = vcard_param_get(c->cur, "TYPE");
        if (pa && pa->nvalues == 1 && strcasecmp(pa->values[0], "home") &&
            strcasecmp(pa->values[0], "work") && strcasecmp(pa->values[0], "pref")) {
            take(c, "TYPE");
            json_object_set_new(obj, "service", json_string(pa->values[0]));
            c->types_done = 1;
        }
    }
    if (impp)
        json_object_set_new(obj, "vCardName", json_string("impp"));
    finish(c, obj, 1, 1);
    *map = "onlineServices";
    return add_entry(c, card, "onlineServices", "OS", obj, fid, id);
}

static json_t *h_lang(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    json_object_set_new(obj, "language", json_string(c->cur->value));
    finish(c, obj, 1, 1);
    *map = "preferredLanguages";
    return add_entry(c, card, "preferredLanguages", "LANG", obj, fid, id);
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
        set_text(obj, "name", parts[i]);
        finish(c, obj, 1, 1);
        add_entry(c, card, "nicknames", "NICK", obj, first ? NULL : fid, first ? NULL : id);
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
    set_text(obj, "pronouns", c->cur->value);
    finish(c, obj, 1, 1);
    json_t *sta = get_map(card, "speakToAs");
    *map = "speakToAs/pronouns";
    return add_entry(c, sta, "pronouns", "PRONOUNS", obj, fid, id);
}

static json_t *h_gramgender(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    char *v = jsc_lower(text_value(c->cur));
    json_object_set_new(get_map(card, "speakToAs"), "grammaticalGender", json_string(v));
    free(v);
    *map = "speakToAs";
    return card;
}

static json_t *h_title(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    json_object_set_new(obj, "kind",
                        json_string(strcmp(c->cur->name, "ROLE") == 0 ? "role" : "title"));
    set_text(obj, "name", c->cur->value);
    finish(c, obj, 0, 0);
    *map = "titles";
    return add_entry(c, card, "titles", "TITLE", obj, fid, id);
}

static json_t *h_org(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    char **parts;
    size_t n;
    vcard_value_split(c->cur->value, ';', &parts, &n);
    char **sorts = NULL;
    size_t nsorts = 0;
    const char *sa = take(c, "SORT-AS");
    if (sa)
        vcard_value_split(sa, ',', &sorts, &nsorts);
    char *name = vcard_value_unescape(parts[0], strlen(parts[0]));
    if (*name || n == 1)
        json_object_set_new(obj, "name", json_string(name));
    free(name);
    if (nsorts && *sorts[0])
        json_object_set_new(obj, "sortAs", json_string(sorts[0]));
    if (n > 1) {
        json_t *units = json_array();
        for (size_t i = 1; i < n; i++) {
            json_t *u = json_object();
            set_text(u, "name", parts[i]);
            if (i < nsorts && *sorts[i])
                json_object_set_new(u, "sortAs", json_string(sorts[i]));
            json_array_append_new(units, u);
        }
        json_object_set_new(obj, "units", units);
    }
    vcard_strv_free(parts, n);
    if (sorts)
        vcard_strv_free(sorts, nsorts);
    finish(c, obj, 0, 1);
    *map = "organizations";
    return add_entry(c, card, "organizations", "ORG", obj, fid, id);
}

static json_t *h_note(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    set_text(obj, "note", c->cur->value);
    const char *cr = vcard_param_first(c->cur, "CREATED");
    char ts[32];
    if (cr && jsc_parse_timestamp(cr, ts)) {
        take(c, "CREATED");
        json_object_set_new(obj, "created", json_string(ts));
    }
    const char *au = take(c, "AUTHOR"), *an = take(c, "AUTHOR-NAME");
    if (au || an) {
        json_t *a = json_object();
        if (an)
            json_object_set_new(a, "name", json_string(an));
        if (au)
            json_object_set_new(a, "uri", json_string(au));
        json_object_set_new(obj, "author", a);
    }
    finish(c, obj, 0, 0);
    *map = "notes";
    return add_entry(c, card, "notes", "NOTE", obj, fid, id);
}

static json_t *h_persinfo(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    char *kind = jsc_lower(vc_strdup(c->cur->name));
    json_object_set_new(obj, "kind", json_string(kind));
    set_text(obj, "value", c->cur->value);
    const char *lv = take(c, "LEVEL");
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
        json_object_set_new(obj, "level", json_string(l));
        free(l);
    }
    free(kind);
    const char *ix = vcard_param_first(c->cur, "INDEX");
    char *end;
    long n = ix ? strtol(ix, &end, 10) : 0;
    if (ix && *ix && !*end && n >= 0) {
        take(c, "INDEX");
        json_object_set_new(obj, "listAs", json_integer(n));
    }
    finish(c, obj, 0, 0);
    *map = "personalInfo";
    return add_entry(c, card, "personalInfo", "PERSINFO", obj, fid, id);
}

/* Converts a structured N/ADR value (with optional JSCOMPS) to components.
 * Returns a new array, sets *ordered and *defsep (malloc'd or NULL). */
static json_t *components(conv *c, int is_adr, int *ordered, char **defsep)
{
    char **pos;
    size_t npos;
    vcard_value_split(c->cur->value, ';', &pos, &npos);
    int ncomp = is_adr ? ADR_NCOMPS : N_NCOMPS;
    const char *const *kinds = is_adr ? jsc_adr_kinds : jsc_n_kinds;
    /* values[p][i], unescaped */
    char ***vals = vc_malloc((size_t)ncomp * sizeof *vals);
    size_t *nvals = vc_malloc((size_t)ncomp * sizeof *nvals);
    for (int p = 0; p < ncomp; p++) {
        if ((size_t)p < npos) {
            char **raw;
            vcard_value_split(pos[p], ',', &raw, &nvals[p]);
            for (size_t i = 0; i < nvals[p]; i++) {
                char *u = vcard_value_unescape(raw[i], strlen(raw[i]));
                free(raw[i]);
                raw[i] = u;
            }
            vals[p] = raw;
        } else {
            vals[p] = NULL;
            nvals[p] = 0;
        }
    }
    vcard_strv_free(pos, npos);
    int newfmt = 0;
    if (is_adr)
        for (int p = 7; p < ADR_NCOMPS; p++)
            for (size_t i = 0; i < nvals[p]; i++)
                if (*vals[p][i])
                    newfmt = 1;
    /* counts[p][i]: does value i of component p count (§3.3.1 deduplication)? */
    int (*counts)(int, size_t);
    (void)counts;
    unsigned char **cnt = vc_malloc((size_t)ncomp * sizeof *cnt);
    size_t total = 0;
    for (int p = 0; p < ncomp; p++) {
        cnt[p] = vc_malloc(nvals[p] + 1);
        for (size_t i = 0; i < nvals[p]; i++) {
            int ok = *vals[p][i] != 0;
            if (ok && is_adr && newfmt && (p == 1 || p == 2))
                ok = 0;
            if (ok && !is_adr && (p == 0 || p == 4)) {
                int other = p == 0 ? 5 : 6;
                for (size_t j = 0; j < nvals[other]; j++)
                    if (!strcmp(vals[other][j], vals[p][i]))
                        ok = 0;
            }
            cnt[p][i] = (unsigned char)ok;
            total += (size_t)ok;
        }
    }
    json_t *comps = json_array();
    *ordered = 0;
    *defsep = NULL;
    const char *jscomps = vcard_param_first(c->cur, "JSCOMPS");
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
                json_object_set_new(comp, "kind", json_string("separator"));
                json_object_set_new(comp, "value", json_string(v));
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
                if (valid && (p < 0 || p >= ncomp || i < 0 || (size_t)i >= nvals[p]))
                    valid = 0;
                if (valid) {
                    json_object_set_new(comp, "kind", json_string(kinds[p]));
                    json_object_set_new(comp, "value", json_string(vals[p][i]));
                    npositional++;
                }
            }
            json_array_append_new(comps, comp);
        }
        if (valid && npositional == total) {
            take(c, "JSCOMPS");
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
                for (size_t i = 0; i < nvals[*q]; i++) {
                    if (!cnt[*q][i])
                        continue;
                    json_t *comp = json_object();
                    json_object_set_new(comp, "kind", json_string(kinds[*q]));
                    json_object_set_new(comp, "value", json_string(vals[*q][i]));
                    json_array_append_new(comps, comp);
                }
        }
    }
    for (int p = 0; p < ncomp; p++) {
        if (vals[p])
            vcard_strv_free(vals[p], nvals[p]);
        free(cnt[p]);
    }
    free(vals);
    free(nvals);
    free(cnt);
    return comps;
}

static void set_phonetic_params(conv *c, json_t *obj)
{
    const char *ph = take(c, "PHONETIC");
    const char *sc = take(c, "SCRIPT");
    if (ph && strcasecmp(ph, "script") != 0) {
        char *l = jsc_lower(vc_strdup(ph));
        json_object_set_new(obj, "phoneticSystem", json_string(l));
        free(l);
    }
    if (sc)
        json_object_set_new(obj, "phoneticScript", json_string(sc));
}

static json_t *h_n(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *name = get_map(card, "name");
    int ordered;
    char *defsep;
    json_t *comps = components(c, 0, &ordered, &defsep);
    if (json_array_size(comps))
        json_object_set_new(name, "components", comps);
    else
        json_decref(comps);
    if (ordered)
        json_object_set_new(name, "isOrdered", json_true());
    if (defsep)
        json_object_set_new(name, "defaultSeparator", json_string(defsep));
    free(defsep);
    const char *sa = take(c, "SORT-AS");
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
            json_object_set_new(name, "sortAs", so);
        else
            json_decref(so);
    }
    set_phonetic_params(c, name);
    finish(c, name, 0, 0);
    *map = "name";
    return name;
}

static json_t *h_fn(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    const char *d = vcard_param_first(c->cur, "DERIVED");
    if (d && strcasecmp(d, "true") == 0)
        return card; /* §3.1: a derived FN only stands in for name.full; drop it */
    if (!*c->cur->value)
        return card; /* §3.1: the empty FN of a Card without a name */
    json_t *name = get_map(card, "name");
    if (json_object_get(name, "full"))
        return NULL; /* §2.5.2: a second FN goes to vCardProps */
    set_text(name, "full", c->cur->value);
    finish(c, name, 0, 0);
    *map = "name";
    return name;
}

/* §2.3.12, §2.3.8, §2.3.23, §2.3.5 */
static json_t *h_adr(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *obj = json_object();
    int ordered;
    char *defsep;
    json_t *comps = components(c, 1, &ordered, &defsep);
    if (json_array_size(comps))
        json_object_set_new(obj, "components", comps);
    else
        json_decref(comps);
    if (ordered)
        json_object_set_new(obj, "isOrdered", json_true());
    if (defsep)
        json_object_set_new(obj, "defaultSeparator", json_string(defsep));
    free(defsep);
    const char *v;
    if ((v = take(c, "LABEL"))) {
        /* RFC 6350 §6.3.1 writes line breaks in LABEL as "\n" (its own example),
         * though parameter values know only RFC 6868 ^n */
        char *u = vcard_value_unescape(v, strlen(v));
        json_object_set_new(obj, "full", json_string(u));
        free(u);
    }
    if ((v = take(c, "GEO")))
        json_object_set_new(obj, "coordinates", json_string(v));
    if ((v = take(c, "TZ")))
        json_object_set_new(obj, "timeZone", json_string(v));
    if ((v = take(c, "CC")))
        json_object_set_new(obj, "countryCode", json_string(v));
    set_phonetic_params(c, obj);
    conv_pref(c, obj);
    c->pref_ok = 1;
    static const jsc_pair adr_ctx[] = {{"billing", "billing"}, {"delivery", "delivery"},
                                       {NULL, NULL}};
    conv_types(c, obj, adr_ctx, "contexts", 1);
    c->types_done = 1;
    finish(c, obj, 0, 1);
    *map = "addresses";
    return add_entry(c, card, "addresses", "ADDR", obj, fid, id);
}

/* §2.8.2: a TZ value as an IANA name, or NULL. out holds at least 16 bytes. */
static const char *tz_name(conv *c, char *out)
{
    const char *v = c->cur->value;
    if (value_type_is(c, "utc-offset") || ((v[0] == '+' || v[0] == '-') && isdigit((unsigned char)v[1]))) {
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
        take(c, "VALUE");
        return out;
    }
    if (value_type_is(c, "uri"))
        return NULL;
    if (value_type_is(c, "text"))
        take(c, "VALUE");
    return v;
}

static json_t *h_geo_tz(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    int geo = strcmp(c->cur->name, "GEO") == 0;
    char buf[16];
    const char *v = geo ? c->cur->value : tz_name(c, buf);
    if (!v)
        return NULL;
    char *tv;
    if (geo && strncasecmp(v, "geo:", 4) != 0 && strchr(v, ';')) {
        /* vCard 3.0 GEO is "lat;lon"; JSContact coordinates are a geo: URI */
        vbuf g = {0};
        vbuf_puts(&g, "geo:");
        for (const char *q = v; *q; q++)
            vbuf_putc(&g, *q == ';' ? ',' : *q);
        tv = vbuf_take(&g);
    } else {
        tv = geo ? uri_value(v) : vcard_value_unescape(v, strlen(v));
    }
    const char *key = geo ? "coordinates" : "timeZone";
    /* §2.8.3: join the ADR of the same group, if it has no such value yet */
    json_t *addrs = json_object_get(card, "addresses");
    if (c->cur->group && card == c->card) {
        for (size_t i = 0; i < c->vc->nprops; i++) {
            const vcard_prop *q = &c->vc->props[i];
            if (q == c->cur || !c->target[i] || !q->group ||
                strcasecmp(q->group, c->cur->group) != 0 || strcmp(q->name, "ADR") != 0)
                continue;
            json_t *a = c->target[i];
            if (json_object_get(a, key))
                continue;
            json_object_set_new(a, key, json_string(tv));
            free(tv);
            if (geo && value_type_is(c, "uri"))
                take(c, "VALUE");
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
    (void)addrs;
    json_t *obj = json_object();
    json_object_set_new(obj, key, json_string(tv));
    free(tv);
    if (geo && value_type_is(c, "uri"))
        take(c, "VALUE");
    finish(c, obj, 1, 1);
    *map = "addresses";
    return add_entry(c, card, "addresses", geo ? "GEO" : "TZ", obj, fid, id);
}

/* True if both properties have the same TYPE values, in any order and case. */
static int same_types(const vcard_prop *a, const vcard_prop *b)
{
    const vcard_prop *pr[2] = {a, b};
    for (int w = 0; w < 2; w++) {
        pv_iter it = {vcard_param_get(pr[w], "TYPE"), 0, NULL, {0}};
        const char *t;
        while ((t = pv_next(&it)))
            if (!vcard_param_has(pr[1 - w], "TYPE", t))
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
        if (!c->target[i] || strcmp(q->name, "ADR") || json_object_get(c->target[i], "full") ||
            !same_types(q, c->cur))
            continue;
        for (size_t k = 0; k < c->cur->nparams; k++)
            if (strcasecmp(c->cur->params[k].name, "TYPE"))
                return NULL; /* other parameters have no place */
        char *t = text_value(c->cur);
        json_object_set_new(c->target[i], "full", json_string(t));
        free(t);
        take(c, "TYPE");
        *map = "addresses";
        *id = vc_strdup(c->target_id[i]);
        c->explained[c->cur - c->vc->props] = 1;
        return c->target[i];
    }
    return NULL;
}

static json_t *anniversary_for(conv *c, json_t *card, const char *kind, const char *fid,
                               char **id)
{
    /* BDAY and BIRTHPLACE (DEATHDATE and DEATHPLACE) share one Anniversary */
    json_t *map = get_map(card, "anniversaries");
    const char *pid = vcard_param_first(c->cur, "PROP-ID");
    json_t *same = pid && !fid ? json_object_get(map, pid) : NULL;
    const char *sk = json_string_value(json_object_get(same, "kind"));
    if (same && sk && !strcmp(sk, kind)) {
        /* BDAY and BIRTHPLACE written with the same PROP-ID */
        take(c, "PROP-ID");
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
    json_object_set_new(obj, "kind", json_string(kind));
    return add_entry(c, card, "anniversaries", "ANNIVERSARY", obj, fid, id);
}

static json_t *h_date(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    const char *name = c->cur->name;
    const char *kind = !strcasecmp(name, "BDAY")        ? "birth"
                       : !strcasecmp(name, "DEATHDATE") ? "death"
                                                        : "wedding";
    const char *v = c->cur->value;
    if (value_type_is(c, "text"))
        return NULL;
    json_t *date = json_object();
    char ts[32];
    int y, m, d;
    if (jsc_parse_timestamp(v, ts)) {
        /* §2.2.2: TIMESTAMP → Timestamp */
        json_object_set_new(date, "@type", json_string("Timestamp"));
        json_object_set_new(date, "utc", json_string(ts));
    } else if (jsc_parse_date(v, &y, &m, &d) && !((!y) && (!m || !d))) {
        const char *omit = vcard_param_first(c->cur, "X-APPLE-OMIT-YEAR");
        if (omit && atoi(omit) == y) {
            take(c, "X-APPLE-OMIT-YEAR"); /* Apple writes 1604-MM-DD for "no year" */
            y = 0;
        }
        if (y)
            json_object_set_new(date, "year", json_integer(y));
        if (m)
            json_object_set_new(date, "month", json_integer(m));
        if (d)
            json_object_set_new(date, "day", json_integer(d));
        const char *cs = take(c, "CALSCALE");
        if (cs) {
            char *l = jsc_lower(vc_strdup(cs));
            json_object_set_new(date, "calendarScale", json_string(l));
            free(l);
        }
    } else {
        json_decref(date);
        return NULL; /* DATE-TIME, TIME, month or day only: §2.2.2 → vCardProps */
    }
    if (vcard_param_first(c->cur, "VALUE") &&
        (value_type_is(c, "date") || value_type_is(c, "timestamp") ||
         value_type_is(c, "date-and-or-time") || value_type_is(c, "date-time")))
        take(c, "VALUE");
    json_t *ann = anniversary_for(c, card, kind, fid, id);
    json_object_set_new(ann, "date", date);
    finish(c, ann, 0, 0);
    *map = "anniversaries";
    return ann;
}

static json_t *h_place(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    const char *kind = !strcmp(c->cur->name, "BIRTHPLACE") ? "birth" : "death";
    json_t *place = json_object();
    const char *v = c->cur->value;
    if (value_type_is(c, "uri")) {
        if (strncasecmp(v, "geo:", 4) != 0) {
            json_decref(place);
            return NULL;
        }
        take(c, "VALUE");
        json_object_set_new(place, "coordinates", json_string(v));
    } else {
        if (value_type_is(c, "text"))
            take(c, "VALUE");
        set_text(place, "full", v);
    }
    json_t *ann = anniversary_for(c, card, kind, fid, id);
    if (json_object_get(ann, "place")) {
        json_decref(place);
        return NULL;
    }
    json_object_set_new(ann, "place", place);
    finish(c, place, 0, 0);
    *map = "anniversaries";
    return ann;
}

static json_t *h_related(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    json_t *rel = get_map(card, "relatedTo");
    char *key = value_type_is(c, "text") ? text_value(c->cur) : uri_value(c->cur->value);
    take(c, "VALUE");
    if (json_object_get(rel, key)) {
        free(key);
        return NULL;
    }
    json_t *obj = json_object();
    json_t *r = json_object();
    const vcard_param *pa = take_param(c, "TYPE");
    pv_iter it = {pa, 0, NULL, {0}};
    const char *t;
    while ((t = pv_next(&it))) {
        char *l = jsc_lower(vc_strdup(t));
        json_object_set_new(r, l, json_true());
        free(l);
    }
    json_object_set_new(obj, "relation", r);
    c->types_done = 1;
    finish(c, obj, 0, 0);
    json_object_set_new(rel, key, obj);
    free(key);
    *map = "relatedTo";
    return card;
}

static json_t *h_member(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    if (c->cur->nparams > (size_t)(vcard_param_get(c->cur, "PREF") ? 1 : 0))
        return NULL; /* parameters other than PREF have no place in members */
    take(c, "PREF"); /* §2.9.3: PREF does not convert */
    char *u = uri_value(c->cur->value);
    json_object_set_new(get_map(card, "members"), u, json_true());
    free(u);
    *map = "members";
    return card;
}

static json_t *h_categories(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    if (c->cur->nparams > (size_t)(vcard_param_get(c->cur, "PREF") ? 1 : 0))
        return NULL;
    take(c, "PREF");
    char **parts;
    size_t n;
    vcard_value_split(c->cur->value, ',', &parts, &n);
    json_t *kw = get_map(card, "keywords");
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
    if (value_type_is(c, "text") || value_type_is(c, "uri") ||
        value_type_is(c, "language-tag") || value_type_is(c, "timestamp"))
        take(c, "VALUE");
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
    return top_string(c, card, "uid",
                      value_type_is(c, "text") ? text_value(c->cur) : uri_value(c->cur->value),
                      map);
}

static json_t *h_kind(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    return top_string(c, card, "kind", jsc_lower(text_value(c->cur)), map);
}

static json_t *h_prodid(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    return top_string(c, card, "prodId", text_value(c->cur), map);
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
    return top_string(c, card, !strcmp(c->cur->name, "REV") ? "updated" : "created",
                      vc_strdup(ts), map);
}

/* §3.2.1: JSPROP values form a PatchObject applied at the end. */
static json_t *h_jsprop(conv *c, json_t *card, const char *fid, const char **map, char **id)
{
    if (card != c->card)
        return NULL;
    const char *ptr = take(c, "JSPTR");
    if (!ptr)
        return NULL;
    if (value_type_is(c, "text"))
        take(c, "VALUE");
    for (size_t i = 0; i < c->cur->nparams; i++)
        if (!c->used[i])
            return NULL;
    char *txt = text_value(c->cur);
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
    json_object_set_new(c->jsprops, ptr, v);
    *map = "@jsprop";
    return card;
}

typedef struct prop_rule {
    const char *name;
    handler_fn fn;
} prop_rule;

/* Sorted by name (strcmp order) for bsearch in rule_for. */
static const prop_rule rules[] = {
    {"ADR", h_adr},
    {"ANNIVERSARY", h_date},
    {"BDAY", h_date},
    {"BIRTHPLACE", h_place},
    {"CALADRURI", h_resource},
    {"CALURI", h_resource},
    {"CATEGORIES", h_categories},
    {"CONTACT-URI", h_resource},
    {"CREATED", h_stamp},
    {"DEATHDATE", h_date},
    {"DEATHPLACE", h_place},
    {"EMAIL", h_email},
    {"EXPERTISE", h_persinfo},
    {"FBURL", h_resource},
    {"FN", h_fn},
    {"GEO", h_geo_tz},
    {"GRAMGENDER", h_gramgender},
    {"HOBBY", h_persinfo},
    {"IMPP", h_online},
    {"INTEREST", h_persinfo},
    {"JSPROP", h_jsprop},
    {"KEY", h_resource},
    {"KIND", h_kind},
    {"LABEL", h_label},
    {"LANG", h_lang},
    {"LANGUAGE", h_language},
    {"LOGO", h_resource},
    {"MEMBER", h_member},
    {"N", h_n},
    {"NICKNAME", h_nickname},
    {"NOTE", h_note},
    {"ORG", h_org},
    {"ORG-DIRECTORY", h_resource},
    {"PHOTO", h_resource},
    {"PRODID", h_prodid},
    {"PRONOUNS", h_pronouns},
    {"RELATED", h_related},
    {"REV", h_stamp},
    {"ROLE", h_title},
    {"SOCIALPROFILE", h_online},
    {"SOUND", h_resource},
    {"SOURCE", h_resource},
    {"TEL", h_tel},
    {"TITLE", h_title},
    {"TZ", h_geo_tz},
    {"UID", h_uid},
    {"URL", h_resource},
    {"X-ADDRESSBOOKSERVER-KIND", h_kind},
    {"X-ADDRESSBOOKSERVER-MEMBER", h_member},
    {"X-SOCIALPROFILE", h_online},
};

static int rule_cmp(const void *key, const void *elem)
{
    /* property names are upper case in the vcard model (vcard.h) */
    return strcmp(key, ((const prop_rule *)elem)->name);
}

static handler_fn rule_for(const char *name)
{
    const prop_rule *r =
        bsearch(name, rules, sizeof rules / sizeof rules[0], sizeof rules[0], rule_cmp);
    return r ? r->fn : NULL;
}

/* ---- vCardProps --------------------------------------------------------------- */

/* §2.15.1: the property as a jCard array [name, params, type, value]. */
static json_t *jcard_prop(const vcard_prop *p)
{
    json_t *params = json_object();
    const char *type = "unknown";
    for (size_t i = 0; i < p->nparams; i++) {
        if (strcasecmp(p->params[i].name, "VALUE") == 0 && p->params[i].nvalues) {
            type = p->params[i].values[0];
            continue;
        }
        char *k = jsc_lower(vc_strdup(p->params[i].name));
        json_object_set_new(params, k, param_json(&p->params[i]));
        free(k);
    }
    if (p->group)
        json_object_set_new(params, "group", json_string(p->group));
    json_t *a = json_array();
    json_array_append_new(a, lower_name(p->name));
    json_array_append_new(a, params);
    json_array_append_new(a, lower_name(type));
    if (strcasecmp(type, "text") == 0) {
        char *t = text_value(p);
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
    json_t *locs = get_map(c->card, "localizations");
    json_t *po = get_map(locs, lang);
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
        vbuf b = {0};
        vbuf_puts(&b, prefix);
        vbuf_putc(&b, '/');
        jsptr_token_encode(&b, k);
        loc_patch(c, lang, b.s, json_incref(v));
        vbuf_free(&b);
    }
}

/* Applies the phonetic N/ADR alt (converted into a scratch object) to base, either
 * directly or as localization patches for lang. */
static void phonetic_merge(conv *c, const char *lang, const char *prefix, json_t *base,
                           json_t *alt)
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
    json_array_append_new(c->vcardprops, jcard_prop(&c->vc->props[i]));
    c->done[i] = 2; /* 2: in vCardProps */
}

/* Runs the handler for property i into card. Returns the object or NULL. */
static json_t *run(conv *c, size_t i, json_t *card, const char *fid, const char **map, char **id)
{
    handler_fn fn = rule_for(c->vc->props[i].name);
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
    if ((pa = vcard_param_get(c->cur, "ALTID")))
        c->used[param_index(c->cur, pa)] = 1;
    if ((pa = vcard_param_get(c->cur, "LANGUAGE")))
        c->used[param_index(c->cur, pa)] = 1;
    /* a valid PROP-ID becomes the map key (add_entry) */
    if ((pa = vcard_param_get(c->cur, "PROP-ID")) && pa->nvalues == 1 &&
        jscontact_is_id(pa->values[0]))
        c->used[param_index(c->cur, pa)] = 1;
    *map = NULL;
    *id = NULL;
    return fn(c, card, fid, map, id);
}

static int is_phonetic(const vcard_prop *p)
{
    return vcard_param_get(p, "PHONETIC") || vcard_param_get(p, "SCRIPT");
}

static char *canon_lang_of(const vcard_prop *p)
{
    const char *l = vcard_param_first(p, "LANGUAGE");
    return l && *l ? jscontact_langtag_canon(l) : NULL;
}

/* Path of a converted value: "name", "titles/t1", "speakToAs/pronouns/p1" */
static char *value_path(const char *map, const char *id)
{
    vbuf b = {0};
    vbuf_puts(&b, map);
    if (id) {
        vbuf_putc(&b, '/');
        jsptr_token_encode(&b, id);
    }
    return vbuf_take(&b);
}

/* Converts the base property i and its ALTID/LANGUAGE alternatives. */
static void convert_bucket(conv *c, size_t i)
{
    const vcard_prop *p = &c->vc->props[i];
    const char *altid = vcard_param_first(p, "ALTID");
    /* members: same name and same ALTID (a property without ALTID stands alone) */
    size_t *mem = vc_malloc((c->vc->nprops + 1) * sizeof *mem), nm = 0;
    for (size_t j = i; j < c->vc->nprops; j++) {
        const vcard_prop *q = &c->vc->props[j];
        if (c->done[j] || strcmp(q->name, p->name) != 0)
            continue;
        const char *qa = vcard_param_first(q, "ALTID");
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
        free(mem);
        return;
    }
    /* LANGUAGE and ALTID of the base */
    char *blang = canon_lang_of(&c->vc->props[base]);
    const vcard_param *altp = vcard_param_get(&c->vc->props[base], "ALTID");
    const vcard_param *langp = vcard_param_get(&c->vc->props[base], "LANGUAGE");
    int keep_lang = blang && (!c->lang || strcmp(blang, c->lang) != 0) && bobj != c->card;
    if (bobj != c->card && (keep_lang || (altp && nm == 1))) {
        /* a LANGUAGE that is not the Card's, or a lone ALTID: keep them */
        json_t *vp = get_map(bobj, "vCardParams");
        if (keep_lang)
            json_object_set_new(vp, "language", json_string(langp->values[0]));
        if (altp && nm == 1)
            json_object_set_new(vp, "altid", param_json(altp));
    }
    c->done[base] = 1;
    c->target[base] = bobj == c->card ? NULL : bobj;
    c->target_map[base] = map;
    c->target_id[base] = id;
    char *prefix = map && bobj != c->card ? value_path(map, id) : NULL;
    json_t *seen = json_object(); /* languages already localized */
    if (blang)
        json_object_set_new(seen, blang, json_true());
    for (size_t k = 0; k < nm; k++) {
        size_t j = mem[k];
        if (j == base)
            continue;
        const vcard_prop *q = &c->vc->props[j];
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
    free(mem);
}

/* §2.1.1: a stable uid for a vCard without UID — a name-based UUID from a hash of
 * the properties, so converting the same vCard twice gives the same uid. */
static void derive_uid(conv *c)
{
    uint64_t h1 = 1469598103934665603ULL, h2 = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < c->vc->nprops; i++) {
        const vcard_prop *p = &c->vc->props[i];
        const char *parts[2] = {p->name, p->value};
        for (int k = 0; k < 2; k++)
            for (const unsigned char *s = (const unsigned char *)parts[k]; *s; s++) {
                h1 = (h1 ^ *s) * 1099511628211ULL;
                h2 = (h2 ^ *s) * 0x100000001B3ULL + (h2 >> 29);
            }
        h1 = (h1 ^ 0xFF) * 1099511628211ULL;
    }
    char uid[64];
    snprintf(uid, sizeof uid, "urn:uuid:%08x-%04x-5%03x-%04x-%012llx", (unsigned)(h1 >> 32),
             (unsigned)(h1 >> 16) & 0xFFFF, (unsigned)h1 & 0xFFF,
             (unsigned)(0x8000 | ((h2 >> 48) & 0x3FFF)),
             (unsigned long long)(h2 & 0xFFFFFFFFFFFFULL));
    json_object_set_new(c->card, "uid", json_string(uid));
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
        if (strcmp(p->name, "X-ABLABEL") == 0 && !c->done[i] && p->nparams == 0) {
            for (size_t j = 0; j < vc->nprops; j++) {
                const vcard_prop *q = &vc->props[j];
                if (j == i || !c->target[j] || !q->group || strcmp(q->group, p->group) != 0)
                    continue;
                if (json_object_get(c->target[j], "label"))
                    continue;
                char *t = text_value(p);
                json_object_set_new(c->target[j], "label", json_string(t));
                free(t);
                c->done[i] = 1;
                c->explained[j] = 1;
                break;
            }
        }
        if ((!strcmp(p->name, "TITLE") || !strcmp(p->name, "ROLE")) && c->target[i] &&
            c->target_map[i] && !strcmp(c->target_map[i], "titles")) {
            size_t org = SIZE_MAX, norgs = 0;
            for (size_t j = 0; j < vc->nprops; j++) {
                const vcard_prop *q = &vc->props[j];
                if (q->group && !strcmp(q->group, p->group) && !strcmp(q->name, "ORG") &&
                    c->target_id[j]) {
                    org = j;
                    norgs++;
                }
            }
            if (norgs == 1) {
                json_object_set_new(c->target[i], "organizationId",
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
                !strcmp(vc->props[j].group, p->group) &&
                c->done[j] == 2)
                shared = 1;
        /* §2.3.9: a group that no rule explains is kept too */
        if (shared || !c->explained[i]) {
            json_t *vp = get_map(c->target[i], "vCardParams");
            json_object_set_new(vp, "group", json_string(p->group));
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
            snprintf(top, sizeof top, "%.*s", (int)(sl ? (size_t)(sl - path) : strlen(path)),
                     path);
            json_t *topv = json_object_get(c->card, top);
            int is_map = sl && json_is_object(topv) && strcmp(top, "name") &&
                         strcmp(top, "speakToAs") && strcmp(top, "localizations") &&
                         strcmp(top, "members") && strcmp(top, "keywords") &&
                         strcmp(top, "relatedTo");
            if (is_map) {
                const char *e = strchr(sl + 1, '/');
                char *tok = jsptr_token_decode(sl + 1, e ? (size_t)(e - sl - 1) : strlen(sl + 1));
                snprintf(id, sizeof id, "%s", tok);
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
                json_array_append_new(c->vcardprops, jcard_prop(&c->vc->props[k]));
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

json_t *jscontact_from_vcard(const vcard *vc)
{
    conv c = {0};
    c.vc = vc;
    c.card = json_object();
    json_object_set_new(c.card, "@type", json_string("Card"));
    json_object_set_new(c.card, "version", json_string("1.0"));
    c.propids = json_object();
    c.counters = json_object();
    c.vcardprops = json_array();
    c.jsprops = json_object();
    size_t n = vc->nprops;
    c.target = vc_malloc((n + 1) * sizeof *c.target);
    c.target_map = vc_malloc((n + 1) * sizeof *c.target_map);
    c.target_id = vc_malloc((n + 1) * sizeof *c.target_id);
    c.done = vc_malloc(n + 1);
    c.explained = vc_malloc(n + 1);
    memset(c.explained, 0, n + 1);
    memset(c.target, 0, (n + 1) * sizeof *c.target);
    memset(c.target_map, 0, (n + 1) * sizeof *c.target_map);
    memset(c.target_id, 0, (n + 1) * sizeof *c.target_id);
    memset(c.done, 0, n + 1);

    /* prescan: PROP-IDs, the Card language (§2.7.4, else the FN's LANGUAGE) */
    const char *fnlang = NULL;
    for (size_t i = 0; i < n; i++) {
        const vcard_prop *p = &vc->props[i];
        const char *pid = vcard_param_first(p, "PROP-ID");
        if (pid)
            json_object_set_new(c.propids, pid, json_true());
        if (!c.lang && !strcmp(p->name, "LANGUAGE") && p->nparams == 0)
            c.lang = jscontact_langtag_canon(p->value);
        if (!fnlang && !strcmp(p->name, "FN"))
            fnlang = vcard_param_first(p, "LANGUAGE");
    }
    if (!c.lang && fnlang && *fnlang) {
        c.lang = jscontact_langtag_canon(fnlang);
        json_object_set_new(c.card, "language", json_string(c.lang));
    }

    /* the pass; GEO and TZ wait for the ADRs they may join, X-ABLabel for groups */
    for (int phase = 0; phase < 2; phase++)
        for (size_t i = 0; i < n; i++) {
            const vcard_prop *p = &vc->props[i];
            int late = !strcmp(p->name, "GEO") || !strcmp(p->name, "TZ") ||
                       !strcmp(p->name, "LABEL");
            if (c.done[i] || late != phase)
                continue;
            if (!strcmp(p->name, "X-ABLABEL") && p->group)
                continue;
            if (!rule_for(p->name)) {
                to_vcardprops(&c, i);
                continue;
            }
            convert_bucket(&c, i);
        }
    apply_groups(&c);
    /* an Anniversary needs a date (RFC 9553 §2.8.1): a lone BIRTHPLACE stays a
     * vCard property */
    for (size_t i = 0; i < n; i++) {
        json_t *t = c.target[i];
        if (t && c.target_map[i] && !strcmp(c.target_map[i], "anniversaries") &&
            !json_object_get(t, "date")) {
            json_object_del(json_object_get(c.card, "anniversaries"), c.target_id[i]);
            c.target[i] = NULL;
            to_vcardprops(&c, i);
        }
    }
    if (!json_object_size(json_object_get(c.card, "anniversaries")))
        json_object_del(c.card, "anniversaries");
    for (size_t i = 0; i < n; i++)
        if (!c.done[i])
            to_vcardprops(&c, i); /* X-ABLabel without a labelled property */
    keep_groups(&c);

    if (!json_object_get(c.card, "uid"))
        derive_uid(&c);
    if (json_array_size(c.vcardprops))
        json_object_set(c.card, "vCardProps", c.vcardprops);
    fix_invalid(&c);
    /* §3.2.1: the JSPROP PatchObject goes last, and only if it is valid */
    if (json_object_size(c.jsprops)) {
        json_t *patched = jscontact_patch_apply(c.card, c.jsprops);
        /* §1.4.3 rule 4: the values must be valid too */
        if (patched && jscontact_card_validate(patched, NULL, NULL)) {
            json_decref(patched);
            patched = NULL;
        }
        if (patched) {
            json_decref(c.card);
            c.card = patched;
        } else {
            /* keep the JSPROPs verbatim rather than lose them */
            json_t *vps = json_object_get(c.card, "vCardProps");
            if (!vps) {
                vps = json_array();
                json_object_set_new(c.card, "vCardProps", vps);
            }
            for (size_t i = 0; i < n; i++)
                if (c.target_map[i] && !strcmp(c.target_map[i], "@jsprop"))
                    json_array_append_new(vps, jcard_prop(&vc->props[i]));
        }
    }
    json_decref(c.propids);
    json_decref(c.counters);
    json_decref(c.vcardprops);
    json_decref(c.jsprops);
    for (size_t i = 0; i < n; i++)
        free(c.target_id[i]);
    free(c.target);
    free(c.target_map);
    free(c.target_id);
    free(c.done);
    free(c.explained);
    free(c.used);
    json_decref(c.extra_types);
    free(c.lang);
    return c.card;
}

json_t *jscontact_from_vcard_text(const char *text, size_t len, char *err, size_t errlen)
{
    vcard *cards;
    size_t n;
    if (vcard_parse(text, len, &cards, &n, err, errlen) < 0)
        return NULL;
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, jscontact_from_vcard(&cards[i]));
    vcard_list_free(cards, n);
    return out;
}
