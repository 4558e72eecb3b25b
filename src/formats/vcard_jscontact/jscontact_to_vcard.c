/*
 * jscontact_to_vcard.c — RFC 9555 §3: converts a JSContact Card to vCard 4.0 (or,
 * lossy, 3.0) by the reverse of the §2 rules (the Appendix A table).
 *
 * Every map entry becomes one property carrying its key in PROP-ID (§3.1); labels
 * become Apple-style item groups with X-ABLabel (§2.11.11); vCardProps and
 * vCardParams are written back verbatim (§2.15). Localizations become ALTID/LANGUAGE
 * alternatives (§2.3.11): the Card is generated once as is and once per language
 * with its patches applied, and every property that differs is written as an
 * alternative. Finally the vCard is converted back and compared with the Card;
 * whatever did not survive (vendor properties, values with no vCard form) is added
 * as JSPROP properties (§3.2.1), so that vCard → JSContact gives the Card back.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/jscontact/jscontact.h"
#include "formats/jscontact/jscontact_internal.h"
#include "formats/json/writer.h"

typedef struct gen {
    vcard *vc;
    char **tags; /* per property: the Card path it came from ("titles/t1") */
    size_t ntags;
    const char *tag; /* tag for properties added now */
    int v3;
    int groupno;
    const char *lang;
    json_t *groups; /* group names the Card already uses (vCardParams, vCardProps) */
} gen;

static vcard_prop *add(gen *g, const char *name, const char *raw)
{
    vcard_prop *p = vcard_prop_add(g->vc, NULL, name, raw);
    g->tags = vc_realloc(g->tags, g->vc->cap * sizeof *g->tags);
    g->tags[g->vc->nprops - 1] = vc_strdup(g->tag ? g->tag : "");
    g->ntags = g->vc->nprops;
    return p;
}

static void add_text(gen *g, const char *name, const char *text, vcard_prop **out)
{
    char *e = vcard_value_escape(text, 0);
    vcard_prop *p = add(g, name, e);
    free(e);
    if (out)
        *out = p;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static char *upper(const char *s)
{
    char *u = vc_strdup(s);
    for (char *p = u; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return u;
}

/* ---- common properties of objects ----------------------------------------------- */

static void set_group(gen *g, vcard_prop *p)
{
    if (p->group)
        return;
    char b[32];
    do
        snprintf(b, sizeof b, "item%d", ++g->groupno);
    while (g->groups && json_object_get(g->groups, b));
    p->group = vc_strdup(b);
}

/* Collects the group names kept in vCardParams and vCardProps (§2.3.9), so that
 * the groups made for labels do not collide with them. */
static void collect_groups(json_t *set, const json_t *v, int depth)
{
    if (depth > 6)
        return;
    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e)
        {
            if (!strcmp(k, "vCardParams") && json_is_string(json_object_get(e, "group")))
                json_object_set_new(set, json_string_value(json_object_get(e, "group")),
                                    json_true());
            else if (!strcmp(k, "vCardProps") && json_is_array(e)) {
                size_t i;
                json_t *jp;
                json_array_foreach(e, i, jp)
                {
                    const char *gn =
                        json_string_value(json_object_get(json_array_get(jp, 1), "group"));
                    if (gn)
                        json_object_set_new(set, gn, json_true());
                }
            } else
                collect_groups(set, e, depth + 1);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach((json_t *)v, i, e) collect_groups(set, e, depth + 1);
    }
}

/* vCardParams (§2.15.2): written back as they were; "group" is the property group. */
static void put_vcardparams(vcard_prop *p, const json_t *obj)
{
    const json_t *vp = json_object_get(obj, "vCardParams");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)vp, k, v)
    {
        if (!strcasecmp(k, "group")) {
            if (json_is_string(v) && !p->group)
                p->group = vc_strdup(json_string_value(v));
            continue;
        }
        if (json_is_string(v)) {
            vcard_param_add(p, k, json_string_value(v));
        } else if (json_is_integer(v)) {
            /* a jCard producer may write "pref": 1: the vCard still gets PREF=1
             * (issue 12 §4.4); the safety net keeps the JSON type */
            char b[24];
            snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v));
            vcard_param_add(p, k, b);
        } else if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) if (json_is_string(e))
                vcard_param_add(p, k, json_string_value(e));
        }
    }
}

/* PROP-ID (§3.1), PREF, contexts (§2.3.22), mediaType, label, vCardParams. */
static void put_common(gen *g, vcard_prop *p, const char *id, const json_t *obj, int adr)
{
    if (id && !g->v3)
        vcard_param_set(p, "PROP-ID", id);
    json_t *pref = json_object_get(obj, "pref");
    if (json_is_integer(pref)) {
        char b[24];
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(pref));
        vcard_param_set(p, "PREF", b);
    }
    const json_t *ctx = json_object_get(obj, "contexts");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ctx, k, v)
    {
        if (!json_is_true(v))
            continue;
        if (!strcmp(k, "private"))
            vcard_param_add(p, "TYPE", "home");
        else if (!strcmp(k, "work"))
            vcard_param_add(p, "TYPE", "work");
        else if (adr && (!strcmp(k, "billing") || !strcmp(k, "delivery")))
            vcard_param_add(p, "TYPE", k);
    }
    const char *mt = str(obj, "mediaType");
    if (mt)
        vcard_param_set(p, "MEDIATYPE", mt);
    put_vcardparams(p, obj);
    const char *label = str(obj, "label");
    if (label) {
        set_group(g, p);
        char *group = vc_strdup(p->group);
        vcard_prop *lp;
        add_text(g, "X-ABLabel", label, &lp);
        lp->group = group;
    }
}

/* ---- structured values: N and ADR --------------------------------------------- */

typedef struct slots {
    jbuf v[ADR_NCOMPS];
    int n[ADR_NCOMPS];
} slots;

static void slot_add(slots *s, int pos, const char *val)
{
    if (s->n[pos]++)
        jbuf_addc(&s->v[pos], ',');
    char *e = vcard_value_escape(val, 1);
    jbuf_adds(&s->v[pos], e);
    free(e);
}

static char *slots_join(slots *s, int count)
{
    jbuf b = {0};
    for (int i = 0; i < count; i++) {
        if (i)
            jbuf_addc(&b, ';');
        if (s->v[i].s)
            jbuf_adds(&b, s->v[i].s);
        jbuf_free(&s->v[i]);
    }
    for (int i = count; i < ADR_NCOMPS; i++)
        jbuf_free(&s->v[i]);
    return jbuf_take(&b);
}

static void jscomps_sep(jbuf *b, const char *sep)
{
    jbuf_adds(b, "s,");
    for (const char *p = sep; *p; p++) {
        if (*p == ',' || *p == ';' || *p == '\\')
            jbuf_addc(b, '\\');
        jbuf_addc(b, *p);
    }
}

/* True if the Address uses RFC 9554 components that the 7-component ADR of RFC 6350
 * cannot hold ("apartment" and "name" have a backwards-compatible place). */
static int adr_is_new(const json_t *comps)
{
    size_t i;
    json_t *c;
    json_array_foreach(comps, i, c)
    {
        const char *k = str(c, "kind");
        if (k && jsc_adr_pos(k) >= 7 && strcmp(k, "apartment") && strcmp(k, "name"))
            return 1;
    }
    return 0;
}

/* Builds the structured value of a Name or Address; with phonetic set, the values
 * are the components' phonetic values (§2.3.15). jscomps receives the JSCOMPS
 * value for ordered components (§3.3.1). Returns NULL if there is nothing. */
static char *structured(const json_t *obj, int is_adr, int phonetic, char **jscomps, int v3)
{
    const json_t *comps = json_object_get(obj, "components");
    slots s;
    memset(&s, 0, sizeof s);
    int ordered = json_is_true(json_object_get(obj, "isOrdered"));
    /* RFC 9555 §2.6.1: the RFC 9554 components SHOULD be written even if empty. An
     * ordered Address always puts each component at its RFC 9554 position (street
     * name at 11, and in the street address at 2 as well), so that JSCOMPS points
     * at the component itself (issue 12 §4.6); an unordered one without RFC 9554
     * parts keeps "apartment" and "name" at their RFC 6350 positions. */
    int newfmt = is_adr && (ordered || adr_is_new(comps));
    int count = is_adr ? ADR_NCOMPS : N_NCOMPS;
    /* what is written: 3.0 has 5 N and 7 ADR components */
    int outcount = v3 ? (is_adr ? 7 : 5) : count;
    jbuf jc = {0};
    if (ordered) {
        const char *ds = str(obj, "defaultSeparator");
        if (ds)
            jscomps_sep(&jc, ds);
    }
    size_t i;
    json_t *c;
    int any = 0;
    /* §2.5.5: generation values also go to the honorific suffixes, first (as in
     * the RFC 9555 §3.3.1 figure, "Jr.,M.D.") */
    if (!is_adr)
        json_array_foreach(comps, i, c)
        {
            const char *k = str(c, "kind"), *v = str(c, phonetic ? "phonetic" : "value");
            if (k && v && !strcmp(k, "generation"))
                slot_add(&s, 4, v);
        }
    json_array_foreach(comps, i, c)
    {
        const char *k = str(c, "kind");
        const char *v = str(c, phonetic ? "phonetic" : "value");
        if (!k)
            continue;
        if (!strcmp(k, "separator")) {
            if (ordered && !phonetic) {
                jbuf_addc(&jc, ';');
                jscomps_sep(&jc, str(c, "value") ? str(c, "value") : "");
            }
            continue;
        }
        if (!v)
            v = "";
        int pos = is_adr ? jsc_adr_pos(k) : jsc_n_pos(k);
        if (is_adr && !newfmt)
            pos = !strcmp(k, "apartment") ? 1 : !strcmp(k, "name") ? 2 : pos;
        if (pos < 0 || pos >= count)
            continue;
        if (ordered) {
            jbuf_addc(&jc, ';');
            if (s.n[pos])
                jbuf_printf(&jc, "%d,%d", pos, s.n[pos]);
            else
                jbuf_printf(&jc, "%d", pos);
        }
        slot_add(&s, pos, v);
        any = 1;
    }
    /* backwards-compatible copies: surname2 → family, generation → suffix (§2.5.5),
     * new ADR parts → extended and street address (§2.6.1) */
    if (!is_adr) {
        json_array_foreach(comps, i, c)
        {
            const char *k = str(c, "kind"), *v = str(c, phonetic ? "phonetic" : "value");
            if (!k || !v)
                continue;
            if (!strcmp(k, "surname2"))
                slot_add(&s, 0, v);
        }
    } else if (newfmt) {
        const int *parts[2] = {jsc_adr_ext_parts, jsc_adr_street_parts};
        for (int w = 0; w < 2; w++) {
            jbuf j = {0};
            for (const int *q = parts[w]; *q >= 0; q++) {
                json_array_foreach(comps, i, c)
                {
                    const char *k = str(c, "kind"), *v = str(c, phonetic ? "phonetic" : "value");
                    if (k && v && *v && jsc_adr_pos(k) == *q) {
                        if (j.len)
                            jbuf_addc(&j, ' ');
                        jbuf_adds(&j, v);
                    }
                }
            }
            if (j.len)
                slot_add(&s, w + 1, j.s);
            jbuf_free(&j);
        }
    }
    if (jscomps)
        *jscomps = ordered && !phonetic && any ? jbuf_take(&jc) : NULL;
    jbuf_free(&jc);
    return slots_join(&s, outcount);
}

static int has_phonetics(const json_t *obj)
{
    if (json_object_get(obj, "phoneticSystem") || json_object_get(obj, "phoneticScript"))
        return 1;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(obj, "components"), i,
                       c) if (json_object_get(c, "phonetic")) return 1;
    return 0;
}

static int altid_counter(gen *g)
{
    int max = 0;
    for (size_t i = 0; i < g->vc->nprops; i++) {
        const char *a = vcard_param_first(&g->vc->props[i], "ALTID");
        if (a && atoi(a) > max)
            max = atoi(a);
    }
    return max + 1;
}

/* The phonetic twin of an N or ADR (§2.3.15), joined by ALTID. */
static void put_phonetic(gen *g, vcard_prop *base, const json_t *obj, int is_adr,
                         const char *tagbase)
{
    if (g->v3 || !has_phonetics(obj))
        return;
    char *val = structured(obj, is_adr, 1, NULL, 0);
    char tag[300];
    snprintf(tag, sizeof tag, "%s#phonetic", tagbase);
    const char *old = g->tag;
    g->tag = tag;
    size_t bi = (size_t)(base - g->vc->props);
    vcard_prop *p = add(g, is_adr ? "ADR" : "N", val);
    base = &g->vc->props[bi];
    free(val);
    g->tag = old;
    const char *a = vcard_param_first(base, "ALTID");
    char b[16];
    if (!a) {
        snprintf(b, sizeof b, "%d", altid_counter(g));
        vcard_param_set(base, "ALTID", b);
        a = b;
    }
    vcard_param_set(p, "ALTID", a);
    const char *sys = str(obj, "phoneticSystem"), *scr = str(obj, "phoneticScript");
    vcard_param_set(p, "PHONETIC", sys ? sys : "script");
    if (scr)
        vcard_param_set(p, "SCRIPT", scr);
}

/* ---- the Card's properties ------------------------------------------------------ */

static void gen_name(gen *g, const json_t *card)
{
    const json_t *name = json_object_get(card, "name");
    const char *full = str(name, "full");
    vcard_prop *fn;
    g->tag = "name/full";
    if (full) {
        add_text(g, "FN", full, &fn);
        put_vcardparams(fn, name);
    } else {
        /* §3.1: derive FN from the components, marked DERIVED. Components that are
         * not ordered (RFC 9553 §2.2.1.2) are taken in one fixed order, title to
         * credential, so that the FN does not depend on their order in the array
         * (which N does not keep: RFC 9555 §2.5.5). */
        static const char *const order[] = {"title",    "given",      "given2",     "surname",
                                            "surname2", "generation", "credential", NULL};
        jbuf b = {0};
        const json_t *comps = json_object_get(name, "components");
        int ordered = json_is_true(json_object_get(name, "isOrdered"));
        const char *ds = str(name, "defaultSeparator");
        size_t n = json_array_size(comps);
        int prev_sep = 1;
        for (size_t it = 0; it < (ordered ? n : n * 8); it++) {
            const json_t *c = json_array_get(comps, ordered ? it : it % n);
            const char *k = str(c, "kind"), *v = str(c, "value");
            if (!k || !v)
                continue;
            if (!ordered) {
                /* pass it / n: the kind order[pass], then (pass 7) any other kind */
                size_t pass = it / n, o = 0;
                while (order[o] && strcmp(order[o], k))
                    o++;
                if (o != pass)
                    continue;
            }
            if (!strcmp(k, "separator")) {
                if (ordered) {
                    jbuf_adds(&b, v);
                    prev_sep = 1;
                }
                continue;
            }
            if (!*v)
                continue;
            if (!prev_sep || (b.len && !ordered))
                jbuf_adds(&b, ordered && ds ? ds : " ");
            jbuf_adds(&b, v);
            prev_sep = 0;
        }
        add_text(g, "FN", b.s ? b.s : "", &fn);
        if (b.len && !g->v3)
            vcard_param_set(fn, "DERIVED", "TRUE");
        jbuf_free(&b);
    }
    if (!name)
        return;
    const json_t *comps = json_object_get(name, "components");
    const json_t *sort = json_object_get(name, "sortAs");
    if (!comps && !sort && !has_phonetics(name) && !g->v3)
        return;
    g->tag = "name";
    char *jscomps;
    char *val = structured(name, 0, 0, &jscomps, g->v3);
    vcard_prop *n = add(g, "N", val);
    free(val);
    if (jscomps && !g->v3)
        vcard_param_set(n, "JSCOMPS", jscomps);
    free(jscomps);
    if (json_object_size(sort)) {
        /* §2.3.21: SORT-AS is structured like N */
        jbuf b = {0};
        int last = -1;
        for (int i = 0; i < N_NCOMPS; i++)
            if (str(sort, jsc_n_kinds[i]))
                last = i;
        for (int i = 0; i <= last; i++) {
            if (i)
                jbuf_addc(&b, ',');
            const char *v = str(sort, jsc_n_kinds[i]);
            if (v) {
                char *e = vcard_value_escape(v, 1);
                jbuf_adds(&b, e);
                free(e);
            }
        }
        if (b.s)
            vcard_param_set(n, "SORT-AS", b.s);
        jbuf_free(&b);
    }
    if (!full)
        put_vcardparams(n, name);
    put_phonetic(g, n, name, 0, "name");
}

typedef void (*entry_fn)(gen *g, const char *id, const json_t *obj);

static void each_entry(gen *g, const json_t *card, const char *mapname, entry_fn fn)
{
    const char *id;
    json_t *obj;
    char tag[300];
    json_object_foreach((json_t *)json_object_get(card, mapname), id, obj)
    {
        if (!json_is_object(obj))
            continue;
        jbuf b = {0};
        jbuf_adds(&b, mapname);
        jbuf_addc(&b, '/');
        jptr_token_encode(&b, id);
        snprintf(tag, sizeof tag, "%s", b.s);
        jbuf_free(&b);
        g->tag = tag;
        fn(g, id, obj);
    }
}

static void e_email(gen *g, const char *id, const json_t *o)
{
    vcard_prop *p;
    add_text(g, "EMAIL", str(o, "address") ? str(o, "address") : "", &p);
    put_common(g, p, id, o, 0);
}

static void e_phone(gen *g, const char *id, const json_t *o)
{
    const char *num = str(o, "number") ? str(o, "number") : "";
    vcard_prop *p;
    if (!strncasecmp(num, "tel:", 4) && !g->v3) {
        p = add(g, "TEL", num);
        vcard_param_set(p, "VALUE", "uri");
    } else {
        add_text(g, "TEL", !strncasecmp(num, "tel:", 4) ? num + 4 : num, &p);
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(o, "features"), k, v)
    {
        for (const jsc_pair *f = jsc_tel_features; f->vcard; f++)
            if (json_is_true(v) && !strcmp(f->jscontact, k))
                vcard_param_add(p, "TYPE", f->vcard);
    }
    put_common(g, p, id, o, 0);
}

static void e_online(gen *g, const char *id, const json_t *o)
{
    const char *vn = str(o, "vCardName");
    const char *uri = str(o, "uri"), *user = str(o, "user"), *svc = str(o, "service");
    vcard_prop *p;
    if (vn && !strcasecmp(vn, "impp") && uri) {
        p = add(g, "IMPP", uri);
    } else if (uri) {
        p = add(g, g->v3 ? "X-SOCIALPROFILE" : "SOCIALPROFILE", uri);
    } else {
        add_text(g, g->v3 ? "X-SOCIALPROFILE" : "SOCIALPROFILE", user ? user : "", &p);
        vcard_param_set(p, "VALUE", "text");
        user = NULL;
    }
    if (svc)
        vcard_param_set(p, g->v3 ? "TYPE" : "SERVICE-TYPE", svc);
    if (user)
        vcard_param_set(p, g->v3 ? "X-USER" : "USERNAME", user);
    put_common(g, p, id, o, 0);
}

static void e_lang(gen *g, const char *id, const json_t *o)
{
    vcard_prop *p = add(g, "LANG", str(o, "language") ? str(o, "language") : "");
    put_common(g, p, id, o, 0);
}

static void e_nickname(gen *g, const char *id, const json_t *o)
{
    /* RFC 6350 §6.2.3 NICKNAME is a text-list: not compound */
    char *e = vcard_value_escape(str(o, "name") ? str(o, "name") : "", 0);
    vcard_prop *p = add(g, "NICKNAME", e);
    free(e);
    put_common(g, p, id, o, 0);
}

static void e_pronouns(gen *g, const char *id, const json_t *o)
{
    vcard_prop *p;
    add_text(g, "PRONOUNS", str(o, "pronouns") ? str(o, "pronouns") : "", &p);
    put_common(g, p, id, o, 0);
}

static void e_org(gen *g, const char *id, const json_t *o)
{
    jbuf b = {0}, sort = {0};
    char *e = vcard_value_escape(str(o, "name") ? str(o, "name") : "", 1);
    jbuf_adds(&b, e);
    free(e);
    const char *sa = str(o, "sortAs");
    int anysort = sa != NULL;
    if (sa) {
        e = vcard_value_escape(sa, 1);
        jbuf_adds(&sort, e);
        free(e);
    }
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(o, "units"), i, u)
    {
        jbuf_addc(&b, ';');
        e = vcard_value_escape(str(u, "name") ? str(u, "name") : "", 1);
        jbuf_adds(&b, e);
        free(e);
        jbuf_addc(&sort, ',');
        if (str(u, "sortAs")) {
            e = vcard_value_escape(str(u, "sortAs"), 1);
            jbuf_adds(&sort, e);
            free(e);
            anysort = 1;
        }
    }
    vcard_prop *p = add(g, "ORG", b.s);
    if (anysort && !g->v3) {
        /* drop trailing empty items */
        while (sort.len && sort.s[sort.len - 1] == ',')
            sort.s[--sort.len] = 0;
        vcard_param_set(p, "SORT-AS", sort.s);
    }
    jbuf_free(&b);
    jbuf_free(&sort);
    put_common(g, p, id, o, 0);
}

static void e_title(gen *g, const char *id, const json_t *o)
{
    const char *kind = str(o, "kind");
    vcard_prop *p;
    add_text(g, kind && !strcmp(kind, "role") ? "ROLE" : "TITLE",
             str(o, "name") ? str(o, "name") : "", &p);
    put_common(g, p, id, o, 0);
}

static void e_note(gen *g, const char *id, const json_t *o)
{
    vcard_prop *p;
    add_text(g, "NOTE", str(o, "note") ? str(o, "note") : "", &p);
    char ts[32];
    if (str(o, "created") && jsc_utc_to_vcard(str(o, "created"), ts))
        vcard_param_set(p, "CREATED", ts);
    const json_t *a = json_object_get(o, "author");
    if (str(a, "name"))
        vcard_param_set(p, "AUTHOR-NAME", str(a, "name"));
    if (str(a, "uri"))
        vcard_param_set(p, "AUTHOR", str(a, "uri"));
    put_common(g, p, id, o, 0);
}

static void e_persinfo(gen *g, const char *id, const json_t *o)
{
    const char *kind = str(o, "kind") ? str(o, "kind") : "interest";
    /* RFC 9555 §2.8.4: only these kinds have a vCard property. Any other kind is never
     * made a property name (it could be "VERSION:e", issue 19 §5): the safety net
     * keeps the entry as JSPROP instead. */
    if (strcmp(kind, "expertise") && strcmp(kind, "hobby") && strcmp(kind, "interest"))
        return;
    char *name = upper(kind);
    vcard_prop *p;
    add_text(g, name, str(o, "value") ? str(o, "value") : "", &p);
    free(name);
    const char *lv = str(o, "level");
    if (lv) {
        /* §2.3.13, reversed for EXPERTISE */
        if (!strcmp(kind, "expertise"))
            lv = !strcmp(lv, "low")      ? "beginner"
                 : !strcmp(lv, "medium") ? "average"
                 : !strcmp(lv, "high")   ? "expert"
                                         : lv;
        vcard_param_set(p, "LEVEL", lv);
    }
    json_t *la = json_object_get(o, "listAs");
    if (json_is_integer(la)) {
        char b[24];
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(la));
        vcard_param_set(p, "INDEX", b);
    }
    put_common(g, p, id, o, 0);
}

static void e_resource(gen *g, const char *id, const json_t *o, const char *name)
{
    vcard_prop *p = add(g, name, str(o, "uri") ? str(o, "uri") : "");
    put_common(g, p, id, o, 0);
}

static void e_media(gen *g, const char *id, const json_t *o)
{
    const char *k = str(o, "kind");
    e_resource(g, id, o,
               k && !strcmp(k, "logo")    ? "LOGO"
               : k && !strcmp(k, "sound") ? "SOUND"
                                          : "PHOTO");
}

static void e_link(gen *g, const char *id, const json_t *o)
{
    const char *k = str(o, "kind");
    e_resource(g, id, o, k && !strcmp(k, "contact") ? "CONTACT-URI" : "URL");
}

static void e_calendar(gen *g, const char *id, const json_t *o)
{
    const char *k = str(o, "kind");
    e_resource(g, id, o, k && !strcmp(k, "freeBusy") ? "FBURL" : "CALURI");
}

static void e_sched(gen *g, const char *id, const json_t *o)
{
    e_resource(g, id, o, "CALADRURI");
}

static void e_key(gen *g, const char *id, const json_t *o)
{
    e_resource(g, id, o, "KEY");
}

static void e_directory(gen *g, const char *id, const json_t *o)
{
    const char *k = str(o, "kind");
    int entry = k && !strcmp(k, "entry");
    e_resource(g, id, o, entry ? "SOURCE" : "ORG-DIRECTORY");
    json_t *la = json_object_get(o, "listAs");
    if (json_is_integer(la)) {
        char b[24];
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(la));
        vcard_param_set(&g->vc->props[g->vc->nprops - 1 - (str(o, "label") ? 1 : 0)], "INDEX", b);
    }
}

static void e_address(gen *g, const char *id, const json_t *o)
{
    const char *geo = str(o, "coordinates"), *tz = str(o, "timeZone");
    int only_geo = 1, only_tz = 1;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        if (!strcmp(k, "@type") || !strcmp(k, "pref") || !strcmp(k, "contexts") ||
            !strcmp(k, "label") || !strcmp(k, "vCardParams"))
            continue;
        if (strcmp(k, "coordinates"))
            only_geo = 0;
        if (strcmp(k, "timeZone"))
            only_tz = 0;
    }
    vcard_prop *p;
    if (geo && only_geo) {
        p = add(g, "GEO", geo); /* §2.8.1 */
    } else if (tz && only_tz) {
        add_text(g, "TZ", tz, &p); /* §2.8.2 */
    } else {
        char *jscomps;
        char *val = structured(o, 1, 0, &jscomps, g->v3);
        p = add(g, "ADR", val);
        free(val);
        if (jscomps && !g->v3)
            vcard_param_set(p, "JSCOMPS", jscomps);
        free(jscomps);
        if (str(o, "full"))
            vcard_param_set(p, "LABEL", str(o, "full"));
        if (geo)
            vcard_param_set(p, "GEO", geo);
        if (tz)
            vcard_param_set(p, "TZ", tz);
        if (str(o, "countryCode"))
            vcard_param_set(p, "CC", str(o, "countryCode"));
    }
    size_t pi = (size_t)(p - g->vc->props);
    put_common(g, p, id, o, 1); /* may add X-ABLabel and move the properties */
    if (!strcmp(g->vc->props[pi].name, "ADR"))
        put_phonetic(g, &g->vc->props[pi], o, 1, g->tag);
}

/* A PartialDate or Timestamp as a vCard date (§2.2.2); NULL if it has none. */
static char *date_value(const json_t *d, const char **calscale)
{
    *calscale = NULL;
    const char *ty = str(d, "@type");
    if (ty && !strcmp(ty, "Timestamp")) {
        char ts[32];
        return str(d, "utc") && jsc_utc_to_vcard(str(d, "utc"), ts) ? vc_strdup(ts) : NULL;
    }
    json_int_t y = json_integer_value(json_object_get(d, "year"));
    json_int_t m = json_integer_value(json_object_get(d, "month"));
    json_int_t dd = json_integer_value(json_object_get(d, "day"));
    *calscale = str(d, "calendarScale");
    char b[32];
    if (y > 9999 || y < 0 || m < 0 || m > 12 || dd < 0 || dd > 31)
        return NULL;
    if (y && m && dd)
        snprintf(b, sizeof b, "%04d%02d%02d", (int)y, (int)m, (int)dd);
    else if (y && m)
        snprintf(b, sizeof b, "%04d-%02d", (int)y, (int)m);
    else if (y && !m && !dd)
        snprintf(b, sizeof b, "%04d", (int)y);
    else if (!y && m && dd)
        snprintf(b, sizeof b, "--%02d%02d", (int)m, (int)dd);
    else
        return NULL;
    return vc_strdup(b);
}

static void e_anniversary(gen *g, const char *id, const json_t *o)
{
    const char *kind = str(o, "kind") ? str(o, "kind") : "";
    int birth = !strcmp(kind, "birth"), death = !strcmp(kind, "death");
    const char *cs;
    char *dv = date_value(json_object_get(o, "date"), &cs);
    if (!dv)
        return; /* no vCard form: JSPROP takes it */
    vcard_prop *p = add(g, birth ? "BDAY" : death ? "DEATHDATE" : "ANNIVERSARY", dv);
    free(dv);
    if (cs)
        vcard_param_set(p, "CALSCALE", cs);
    put_common(g, p, id, o, 0);
    const json_t *place = json_object_get(o, "place");
    if (place && (birth || death)) {
        const char *full = str(place, "full"), *geo = str(place, "coordinates");
        vcard_prop *pp = NULL;
        if (full)
            add_text(g, birth ? "BIRTHPLACE" : "DEATHPLACE", full, &pp);
        else if (geo) {
            pp = add(g, birth ? "BIRTHPLACE" : "DEATHPLACE", geo);
            vcard_param_set(pp, "VALUE", "uri");
        }
        if (pp && !g->v3)
            vcard_param_set(pp, "PROP-ID", id);
        if (pp)
            put_vcardparams(pp, place);
    }
}

/* ---- vCardProps ---------------------------------------------------------------- */

static void jcard_value(jbuf *b, const json_t *v, int text, int depth)
{
    if (json_is_string(v)) {
        if (text) {
            char *e = vcard_value_escape(json_string_value(v), depth > 0);
            jbuf_adds(b, e);
            free(e);
        } else {
            jbuf_adds(b, json_string_value(v));
        }
    } else if (json_is_integer(v)) {
        jbuf_printf(b, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        jbuf_printf(b, "%.17g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        jbuf_adds(b, json_is_true(v) ? "TRUE" : "FALSE");
    } else if (json_is_array(v) && depth < 2) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (i)
                jbuf_addc(b, depth == 0 ? ';' : ',');
            jcard_value(b, e, 1, depth + 1);
        }
    }
}

static void gen_vcardprops(gen *g, const json_t *card)
{
    size_t i;
    json_t *jp;
    g->tag = "vCardProps";
    json_array_foreach(json_object_get(card, "vCardProps"), i, jp)
    {
        const char *name = json_string_value(json_array_get(jp, 0));
        const json_t *params = json_array_get(jp, 1);
        const char *type = json_string_value(json_array_get(jp, 2));
        if (!name || !json_is_object(params) || !type || json_array_size(jp) < 4)
            continue;
        /* VERSION is the writer's; a JSPROP kept here failed as a patch before and
         * would fail again, taking the safety net's patches with it: the safety
         * net restores these entries instead */
        if (!strcasecmp(name, "version") || !strcasecmp(name, "begin") ||
            !strcasecmp(name, "end") || !strcasecmp(name, "jsprop"))
            continue;
        jbuf b = {0};
        int text = !strcasecmp(type, "text");
        if (json_array_size(jp) == 4) {
            jcard_value(&b, json_array_get(jp, 3), text, 0);
        } else {
            /* multiple values: a comma-separated list (RFC 7095 §3.3.1.3) */
            for (size_t k = 3; k < json_array_size(jp); k++) {
                if (k > 3)
                    jbuf_addc(&b, ',');
                jcard_value(&b, json_array_get(jp, k), text, 1);
            }
        }
        char *up = upper(name);
        vcard_prop *p = add(g, up, b.s ? b.s : "");
        free(up);
        jbuf_free(&b);
        if (strcasecmp(type, "unknown") != 0)
            vcard_param_set(p, "VALUE", type);
        json_t *wrap = json_object();
        json_object_set(wrap, "vCardParams", (json_t *)params);
        put_vcardparams(p, wrap);
        json_decref(wrap);
    }
}

/* ---- the whole Card ------------------------------------------------------------- */

static void add_simple(gen *g, const char *name, const char *val, int escape)
{
    if (!val)
        return;
    g->tag = name;
    if (escape)
        add_text(g, name, val, NULL);
    else
        add(g, name, val);
}

static void gen_card(gen *g, const json_t *card)
{
    const char *uid = str(card, "uid");
    if (uid) {
        g->tag = "uid";
        /* RFC 6350 §6.7.6: a URI (written as it is, without VALUE), or free text
         * with VALUE=text (RFC 9555 §2.1 as updated by RFC 9982) */
        int uri = jsc_is_uri(uid);
        vcard_prop *p = uri ? add(g, "UID", uid) : NULL;
        if (!uri) {
            add_text(g, "UID", uid, &p);
            if (!g->v3)
                vcard_param_set(p, "VALUE", "text");
        }
    }
    const char *kind = str(card, "kind");
    add_simple(g, "KIND", kind, 1);
    add_simple(g, "LANGUAGE", str(card, "language"), 0);
    add_simple(g, "PRODID", str(card, "prodId"), 1);
    char ts[32];
    if (str(card, "created") && jsc_utc_to_vcard(str(card, "created"), ts))
        add_simple(g, "CREATED", ts, 0);
    if (str(card, "updated") && jsc_utc_to_vcard(str(card, "updated"), ts))
        add_simple(g, "REV", ts, 0);
    gen_name(g, card);
    each_entry(g, card, "nicknames", e_nickname);
    each_entry(g, card, "organizations", e_org);
    each_entry(g, card, "titles", e_title);
    const json_t *sta = json_object_get(card, "speakToAs");
    if (str(sta, "grammaticalGender")) {
        char *up = upper(str(sta, "grammaticalGender"));
        add_simple(g, "GRAMGENDER", up, 1);
        free(up);
    }
    if (sta) {
        json_t *wrap = json_object();
        json_object_set(wrap, "speakToAs/pronouns", json_object_get(sta, "pronouns"));
        each_entry(g, wrap, "speakToAs/pronouns", e_pronouns);
        json_decref(wrap);
    }
    each_entry(g, card, "emails", e_email);
    each_entry(g, card, "phones", e_phone);
    each_entry(g, card, "onlineServices", e_online);
    each_entry(g, card, "preferredLanguages", e_lang);
    each_entry(g, card, "addresses", e_address);
    each_entry(g, card, "anniversaries", e_anniversary);
    each_entry(g, card, "calendars", e_calendar);
    each_entry(g, card, "schedulingAddresses", e_sched);
    each_entry(g, card, "cryptoKeys", e_key);
    each_entry(g, card, "directories", e_directory);
    each_entry(g, card, "links", e_link);
    each_entry(g, card, "media", e_media);
    each_entry(g, card, "notes", e_note);
    each_entry(g, card, "personalInfo", e_persinfo);

    const char *k;
    json_t *v;
    g->tag = "relatedTo";
    json_object_foreach(json_object_get(card, "relatedTo"), k, v)
    {
        /* §2.9.5: a key that is not a URI is written as text */
        int uri = jsc_is_uri(k);
        vcard_prop *p;
        if (uri)
            p = add(g, "RELATED", k);
        else {
            add_text(g, "RELATED", k, &p);
            vcard_param_set(p, "VALUE", "text");
        }
        const char *rk;
        json_t *rv;
        json_object_foreach(json_object_get(v, "relation"), rk, rv) if (json_is_true(rv))
            vcard_param_add(p, "TYPE", rk);
        put_vcardparams(p, v);
    }
    g->tag = "members";
    json_object_foreach(json_object_get(card, "members"), k, v)
        add(g, g->v3 ? "X-ADDRESSBOOKSERVER-MEMBER" : "MEMBER", k);
    if (json_object_size(json_object_get(card, "keywords"))) {
        jbuf b = {0};
        json_object_foreach(json_object_get(card, "keywords"), k, v)
        {
            if (b.len)
                jbuf_addc(&b, ',');
            char *e = vcard_value_escape(k, 0); /* CATEGORIES: text-list */
            jbuf_adds(&b, e);
            free(e);
        }
        g->tag = "keywords";
        add(g, "CATEGORIES", b.s);
        jbuf_free(&b);
    }
    gen_vcardprops(g, card);
}

static void gen_free(gen *g)
{
    for (size_t i = 0; i < g->ntags; i++)
        free(g->tags[i]);
    free(g->tags);
    g->tags = NULL;
    g->ntags = 0;
}

/* Compares two properties, ignoring group and PROP-ID/ALTID. */
static int prop_same(const vcard_prop *a, const vcard_prop *b)
{
    if (strcmp(a->name, b->name) || strcmp(a->value, b->value) || a->nparams != b->nparams)
        return 0;
    for (size_t i = 0; i < a->nparams; i++) {
        const vcard_param *pa = &a->params[i], *pb = vcard_param_get(b, pa->name);
        if (!pb || pa->nvalues != pb->nvalues)
            return 0;
        for (size_t j = 0; j < pa->nvalues; j++)
            if (strcmp(pa->values[j], pb->values[j]))
                return 0;
    }
    return 1;
}

static void tag_root(const char *tag, char *out, size_t n)
{
    snprintf(out, n, "%s", tag);
    char *h = strchr(out, '#');
    if (h)
        *h = 0;
}

/* §2.3.11 in reverse: one alternative per property that a localization changes. */
static void gen_localizations(gen *g, const json_t *card)
{
    const json_t *locs = json_object_get(card, "localizations");
    if (!json_object_size(locs))
        return;
    json_t *plain = json_deep_copy(card);
    json_object_del(plain, "localizations");
    json_t *altids = json_object(); /* tag root -> ALTID */
    const char *lang;
    json_t *patch;
    json_object_foreach((json_t *)locs, lang, patch)
    {
        json_t *loc = jscontact_patch_apply(plain, patch);
        if (!loc)
            continue; /* an invalid PatchObject: JSPROP keeps it */
        vcard lv = {0};
        gen lg = {&lv, NULL, 0, NULL, 0, 0, NULL, g->groups};
        gen_card(&lg, loc);
        size_t nbase = g->vc->nprops;
        for (size_t i = 0; i < lv.nprops; i++) {
            vcard_prop *lp = &lv.props[i];
            const char *tag = lg.tags[i];
            /* MEMBER, UID and KIND have no language alternatives (RFC 6350 §6.6.5,
             * §6.7.6, §6.1.4): such a localization stays in the JSPROP of
             * localizations, and these properties stay plain (issue 12 §4.3) */
            if (!*tag || !strcmp(tag, "vCardProps") || !strcasecmp(lp->name, "X-ABLABEL") ||
                !strcmp(tag, "members") || !strcmp(tag, "uid") || !strcmp(tag, "KIND"))
                continue;
            int same = 0;
            for (size_t j = 0; j < nbase && !same; j++)
                if (!strcmp(g->tags[j], tag) && prop_same(&g->vc->props[j], lp))
                    same = 1;
            if (same)
                continue;
            char root[300];
            tag_root(tag, root, sizeof root);
            json_int_t alt = json_integer_value(json_object_get(altids, root));
            if (!alt) {
                alt = altid_counter(g);
                json_object_set_new(altids, root, json_integer(alt));
            }
            char ab[24];
            snprintf(ab, sizeof ab, "%lld", (long long)alt);
            /* the base properties of this value join the ALTID set */
            for (size_t j = 0; j < nbase; j++) {
                char r2[300];
                tag_root(g->tags[j], r2, sizeof r2);
                if (strcmp(r2, root) || !strcasecmp(g->vc->props[j].name, "X-ABLABEL"))
                    continue;
                if (!vcard_param_get(&g->vc->props[j], "ALTID"))
                    vcard_param_set(&g->vc->props[j], "ALTID", ab);
                if (g->lang && !vcard_param_get(&g->vc->props[j], "LANGUAGE"))
                    vcard_param_set(&g->vc->props[j], "LANGUAGE", g->lang);
            }
            g->tag = tag;
            vcard_prop *np = add(g, lp->name, lp->value);
            for (size_t k = 0; k < lp->nparams; k++)
                for (size_t m = 0; m < lp->params[k].nvalues; m++)
                    vcard_param_add(np, lp->params[k].name, lp->params[k].values[m]);
            vcard_param_set(np, "ALTID", ab);
            vcard_param_set(np, "LANGUAGE", lang);
        }
        gen_free(&lg);
        vcard_free(&lv);
        json_decref(loc);
    }
    json_decref(altids);
    json_decref(plain);
}

/* ---- the safety net: JSPROP for whatever did not survive -------------------------- */

static void add_jsprop(gen *g, const char *path, const json_t *value)
{
    char *js = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    /* control characters cannot stand in a vCard value: JSON escapes them */
    jbuf jb = {0};
    for (const char *q = js ? js : "null"; *q; q++) {
        if ((unsigned char)*q < 0x20 || *q == 0x7F)
            jbuf_printf(&jb, "\\u%04x", (unsigned)(unsigned char)*q);
        else
            jbuf_addc(&jb, *q);
    }
    char *e = vcard_value_escape(jb.s, 0);
    jbuf_free(&jb);
    g->tag = "";
    vcard_prop *p = add(g, "JSPROP", e);
    vcard_param_set(p, "JSPTR", path);
    free(e);
    jwriter_text_free(js); /* json_dumps text: jansson's free, which may not be free() */
}

/* Emits patches that turn got into want, at most three levels deep, never into
 * arrays (§3.2.1), and only where the parent exists in got. */
static void diff(gen *g, const json_t *want, const json_t *got, jbuf *path, int depth)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)want, k, v)
    {
        if (depth == 0 && (!strcmp(k, "@type")))
            continue;
        json_t *o = json_object_get(got, k);
        if (o && json_equal(o, v))
            continue;
        size_t mark = path->len;
        if (path->len)
            jbuf_addc(path, '/');
        jptr_token_encode(path, k);
        if (o && json_is_object(o) && json_is_object(v) && depth < 3)
            diff(g, v, o, path, depth + 1);
        else
            add_jsprop(g, path->s, v);
        path->len = mark;
        path->s[mark] = 0;
    }
    json_object_foreach((json_t *)got, k, v)
    {
        if (json_object_get(want, k))
            continue;
        size_t mark = path->len;
        if (path->len)
            jbuf_addc(path, '/');
        jptr_token_encode(path, k);
        add_jsprop(g, path->s, json_null());
        path->len = mark;
        path->s[mark] = 0;
    }
}

/* Returns 0, or -1 if the written text does not parse back (the writer keeps to the
 * RFC 6350 §3.3 grammar, so this is a bug: the Card is refused rather than written). */
/* True if arrays a and b hold the same elements in some order (small arrays only). */
static int same_multiset(const json_t *a, const json_t *b)
{
    size_t n = json_array_size(a);
    if (!json_is_array(a) || !json_is_array(b) || n != json_array_size(b) || n > 64)
        return 0;
    char used[64] = {0};
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < n && (used[j] || !json_equal(json_array_get(a, i), json_array_get(b, j))))
            j++;
        if (j == n)
            return 0;
        used[j] = 1;
    }
    return 1;
}

/* RFC 9553 §2.2.1.2, §2.5.1.3: the order of the components of a Name or Address whose
 * isOrdered is not true carries no meaning, and RFC 9555 §2.5.5, §2.6.1 read them back
 * in N/ADR order. Where the text gives the same components in another order, take that
 * order into want, so that the safety net writes no JSPROP for them (issue 12 §4.3). */
static void unordered_as_read(json_t *want_obj, const json_t *got_obj)
{
    if (!json_is_object(want_obj) || json_is_true(json_object_get(want_obj, "isOrdered")))
        return;
    const json_t *got = json_object_get(got_obj, "components");
    if (same_multiset(json_object_get(want_obj, "components"), got))
        json_object_set_new(want_obj, "components", json_deep_copy(got));
}

static int safety_net(gen *g, const json_t *card)
{
    /* compare with what the written text reads as, not with the model: the
     * writer may still change a value (line breaks, control characters) */
    char *text = vcard_write(g->vc, 1, 0);
    vcard *reread;
    size_t n;
    json_t *back;
    if (vcard_parse(text, strlen(text), &reread, &n, NULL) == 0 && n == 1) {
        back = jscontact_from_vcard(&reread[0]);
        vcard_list_free(reread, n);
    } else {
        free(text);
        return -1;
    }
    free(text);
    json_t *want = json_deep_copy(card);
    /* RFC 9982 §2: the text reads back as "2.0", which a valid "1.0" Card also is */
    const char *ver = str(want, "version");
    if (ver && !strcmp(ver, "1.0") && str(back, "version") && !strcmp(str(back, "version"), "2.0"))
        json_object_set_new(want, "version", json_string("2.0"));
    unordered_as_read(json_object_get(want, "name"), json_object_get(back, "name"));
    /* RFC 9553 §2.2.5: a Title's kind defaults to "title", which RFC 9555 §2.9.6 reads
     * back explicitly: the same Title, so no JSPROP (issue 12 §4.3) */
    const char *tk;
    json_t *tv;
    json_object_foreach(json_object_get(want, "titles"), tk, tv)
    {
        const json_t *bt = json_object_get(json_object_get(back, "titles"), tk);
        if (json_is_object(tv) && !json_object_get(tv, "kind") && str(bt, "kind") &&
            !strcmp(str(bt, "kind"), "title"))
            json_object_set_new(tv, "kind", json_string("title"));
    }
    const char *ak;
    json_t *av;
    json_object_foreach(json_object_get(want, "addresses"), ak, av)
        unordered_as_read(av, json_object_get(json_object_get(back, "addresses"), ak));
    jsc_drop_implied_types(back);
    jsc_drop_implied_types(want);
    jbuf path = {0};
    jbuf_adds(&path, "");
    diff(g, want, back, &path, 0);
    jbuf_free(&path);
    json_decref(back);
    json_decref(want);
    return 0;
}

/* ---- vCard 3.0 ---------------------------------------------------------------- */

/* RFC 2426 knows only these parameters (and X- ones). */
static int v3_param_ok(const char *name)
{
    return !strcasecmp(name, "TYPE") || !strcasecmp(name, "ENCODING") ||
           !strcasecmp(name, "VALUE") || !strcasecmp(name, "LANGUAGE") ||
           !strncasecmp(name, "X-", 2);
}

static const char *const v3_props[] = {
    "FN",    "N",          "NICKNAME", "PHOTO",  "BDAY",   "ADR",         "LABEL", "TEL",
    "EMAIL", "MAILER",     "TZ",       "GEO",    "TITLE",  "ROLE",        "LOGO",  "AGENT",
    "ORG",   "CATEGORIES", "NOTE",     "PRODID", "REV",    "SORT-STRING", "SOUND", "UID",
    "URL",   "CLASS",      "KEY",      "IMPP",   "CALURI", "CALADRURI",   "FBURL", NULL};

/* Rewrites a 4.0-shaped vCard into 3.0: data: URIs to ENCODING=b, PREF to
 * TYPE=pref, KIND:group to Apple's X-ADDRESSBOOKSERVER-KIND, 4.0-only properties
 * to X- names and 4.0-only parameters dropped. */
static void downgrade_v3(vcard *vc)
{
    for (size_t i = 0; i < vc->nprops; i++) {
        vcard_prop *p = &vc->props[i];
        const char *lab = vcard_param_first(p, "LABEL");
        if (lab && !strcasecmp(p->name, "ADR"))
            vcard_param_set(p, "X-JMAPD-LABEL", lab); /* becomes a LABEL property below */
        const char *pref = vcard_param_first(p, "PREF");
        if (pref && atoi(pref) == 1)
            vcard_param_add(p, "TYPE", "pref");
        if (!strncasecmp(p->value, "data:", 5) && strstr(p->value, ";base64,")) {
            /* RFC 2426 §3.1.4: inline binary */
            char *comma = strstr(p->value, ";base64,");
            char mt[64];
            snprintf(mt, sizeof mt, "%.*s", (int)(comma - p->value - 5), p->value + 5);
            char *slash = strchr(mt, '/');
            char *b64 = vc_strdup(comma + 8);
            free(p->value);
            p->value = b64;
            vcard_param_del(p, "VALUE");
            vcard_param_set(p, "ENCODING", "b");
            if (slash) {
                char *t = upper(slash + 1);
                vcard_param_set(p, "TYPE", t);
                free(t);
            }
        } else if (!strcasecmp(p->name, "PHOTO") || !strcasecmp(p->name, "LOGO") ||
                   !strcasecmp(p->name, "SOUND") || !strcasecmp(p->name, "KEY")) {
            vcard_param_set(p, "VALUE", "uri");
        }
        for (size_t k = 0; k < p->nparams;) {
            if (!v3_param_ok(p->params[k].name) ||
                (!strcasecmp(p->params[k].name, "VALUE") && p->params[k].nvalues &&
                 strcasecmp(p->params[k].values[0], "uri") &&
                 strcasecmp(p->params[k].values[0], "text")))
                vcard_param_del(p, p->params[k].name);
            else
                k++;
        }
        if (!strcasecmp(p->name, "KIND")) {
            vcard_prop_rename(p, "X-ADDRESSBOOKSERVER-KIND");
        } else if (!strcasecmp(p->name, "GEO") && !strncasecmp(p->value, "geo:", 4)) {
            char *v = vc_strdup(p->value + 4);
            char *c = strchr(v, ',');
            if (c)
                *c = ';';
            free(p->value);
            p->value = v;
        } else if (!strcasecmp(p->name, "TZ")) {
            vcard_param_set(p, "VALUE", "text");
        } else if ((!strcasecmp(p->name, "BDAY") || !strcasecmp(p->name, "ANNIVERSARY")) &&
                   strlen(p->value) == 6 && !strncmp(p->value, "--", 2)) {
            /* RFC 2426 dates need a year: write Apple's 1604 placeholder */
            char d[16];
            snprintf(d, sizeof d, "1604-%.2s-%.2s", p->value + 2, p->value + 4);
            free(p->value);
            p->value = vc_strdup(d);
            vcard_param_set(p, "X-APPLE-OMIT-YEAR", "1604");
        }
        int known = 0;
        for (const char *const *n = v3_props; *n; n++)
            if (!strcasecmp(*n, p->name))
                known = 1;
        if (!known && strncasecmp(p->name, "X-", 2) != 0) {
            char *nn = vc_malloc(strlen(p->name) + 3);
            sprintf(nn, "X-%s", p->name);
            vcard_prop_rename(p, nn);
            free(nn);
        }
    }
    /* RFC 2426 §3.2.2: the 4.0 LABEL parameter of an ADR is a LABEL property */
    for (size_t i = 0, n = vc->nprops; i < n; i++) {
        if (strcasecmp(vc->props[i].name, "ADR"))
            continue;
        const char *label = NULL;
        for (size_t k = 0; k < vc->props[i].nparams; k++)
            if (!strcasecmp(vc->props[i].params[k].name, "X-JMAPD-LABEL"))
                label = vc->props[i].params[k].values[0];
        if (!label)
            continue;
        char *e = vcard_value_escape(label, 0);
        vcard_prop *lp = vcard_prop_add(vc, vc->props[i].group, "LABEL", e);
        free(e);
        const vcard_param *ty = vcard_param_get(&vc->props[i], "TYPE");
        for (size_t k = 0; ty && k < ty->nvalues; k++)
            vcard_param_add(lp, "TYPE", ty->values[k]);
        vcard_param_del(&vc->props[i], "X-JMAPD-LABEL");
    }
    /* RFC 2426 §3.1.2: N is required */
    int hasn = 0;
    for (size_t i = 0; i < vc->nprops; i++)
        if (!strcasecmp(vc->props[i].name, "N"))
            hasn = 1;
    if (!hasn)
        vcard_prop_add(vc, NULL, "N", ";;;;");
}

/* ---- entry points --------------------------------------------------------------- */

/* Sets *err (if err is not NULL) to a malloc'd message. */
static void set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(char **err, const char *fmt, ...)
{
    if (!err)
        return;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(*err);
    *err = vc_strdup(msg);
}

int jscontact_to_vcard(const json_t *card, vcard *out, int flags, char **err)
{
    if (err)
        *err = NULL;
    memset(out, 0, sizeof *out);
    if (!json_is_object(card)) {
        set_err(err, "not a Card object");
        return -1;
    }
    gen g = {out,          NULL, 0, NULL, (flags & JSCONTACT_VCARD3) != 0, 0, str(card, "language"),
             json_object()};
    collect_groups(g.groups, card, 0);
    out->version = g.v3 ? 30 : 40;
    gen_card(&g, card);
    int rc = 0;
    if (!g.v3) {
        gen_localizations(&g, card);
        rc = safety_net(&g, card);
    } else {
        downgrade_v3(out);
    }
    json_decref(g.groups);
    gen_free(&g);
    if (rc < 0) {
        vcard_free(out);
        memset(out, 0, sizeof *out);
        set_err(err, "the Card has no vCard form that parses back (RFC 6350 §3.3)");
    }
    return rc;
}

char *jscontact_to_vcard_text(const json_t *cards, int flags, char **err)
{
    if (err)
        *err = NULL;
    size_t n = json_is_array(cards) ? json_array_size(cards) : 1;
    vcard *vcs = vc_malloc((n + 1) * sizeof *vcs);
    memset(vcs, 0, (n + 1) * sizeof *vcs);
    char *text = NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_is_array(cards) ? json_array_get(cards, i) : cards;
        json_t *invalid = NULL, *msgs = NULL;
        if (jscontact_card_validate(c, &invalid, &msgs)) {
            const char *m = json_string_value(json_array_get(msgs, 0));
            if (json_is_array(cards))
                set_err(err, "card %zu: invalid: %s", i, m ? m : "?");
            else
                set_err(err, "invalid Card: %s", m ? m : "?");
            json_decref(invalid);
            json_decref(msgs);
            goto done;
        }
        json_decref(invalid);
        json_decref(msgs);
        if (jscontact_to_vcard(c, &vcs[i], flags, err) < 0)
            goto done;
    }
    text = vcard_write(vcs, n, flags & JSCONTACT_VCARD3);
done:
    for (size_t i = 0; i < n; i++)
        vcard_free(&vcs[i]);
    free(vcs);
    return text;
}
