/*
 * test_jscontact_util.h — helpers for the vCard/JSContact unit tests: reading test
 * data, wrapping RFC figure fragments into whole vCards and Cards, and comparing
 * Cards modulo the map keys a converter may choose freely (RFC 9555 §2.1.2).
 * Header-only: each test binary is one translation unit.
 */
#ifndef TEST_JSCONTACT_UTIL_H
#define TEST_JSCONTACT_UTIL_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/jscontact/jscontact.h"

#define TEST_UID "urn:uuid:00000000-0000-4000-8000-000000009555"

static __attribute__((unused)) char *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t r = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[r] = 0;
    if (len)
        *len = r;
    return buf;
}

/* A vCard figure fragment as a whole vCard 4.0 (CRLF), with UID unless it has one. */
static __attribute__((unused)) char *tu_wrap_vcard(const char *frag, const char *uid)
{
    size_t n = strlen(frag);
    char *out = malloc(n * 2 + 256);
    char *o = out;
    int whole = strncasecmp(frag, "BEGIN:VCARD", 11) == 0;
    if (!whole)
        o += sprintf(o, "BEGIN:VCARD\r\nVERSION:4.0\r\n");
    if (!whole && !strstr(frag, "\nUID:") && strncmp(frag, "UID:", 4) != 0)
        o += sprintf(o, "UID:%s\r\n", uid);
    for (const char *p = frag; *p; p++) {
        if (*p == '\n' && (p == frag || p[-1] != '\r'))
            *o++ = '\r';
        *o++ = *p;
    }
    if (n && frag[n - 1] != '\n')
        o += sprintf(o, "\r\n");
    if (!whole)
        o += sprintf(o, "END:VCARD\r\n");
    *o = 0;
    return out;
}

/* A JSON figure fragment ("key": value, ...) as a whole Card. */
static __attribute__((unused)) json_t *tu_wrap_json(const char *frag)
{
    const char *p = frag;
    while (*p == ' ' || *p == '\n')
        p++;
    json_error_t e;
    json_t *j;
    if (*p == '{') {
        j = json_loads(frag, 0, &e);
    } else {
        size_t n = strlen(frag);
        char *w = malloc(n + 4);
        sprintf(w, "{%s}", frag);
        j = json_loads(w, 0, &e);
        free(w);
    }
    if (!j) {
        fprintf(stderr, "bad JSON figure: %s (line %d)\n", e.text, e.line);
        return NULL;
    }
    if (!json_object_get(j, "@type"))
        json_object_set_new(j, "@type", json_string("Card"));
    if (!json_object_get(j, "version"))
        json_object_set_new(j, "version", json_string("1.0"));
    if (!json_object_get(j, "uid"))
        json_object_set_new(j, "uid", json_string(TEST_UID));
    return j;
}

static const char *const tu_id_maps[] = {"organizations",
                                         "nicknames",
                                         "titles",
                                         "emails",
                                         "onlineServices",
                                         "phones",
                                         "preferredLanguages",
                                         "calendars",
                                         "schedulingAddresses",
                                         "addresses",
                                         "cryptoKeys",
                                         "directories",
                                         "links",
                                         "media",
                                         "anniversaries",
                                         "notes",
                                         "personalInfo",
                                         NULL};

static int tu_cmp_dump(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the components of a Name or Address whose isOrdered is not true: their
 * order carries no meaning (RFC 9553 §2.2.1.2), and the converter may give them back
 * in N/ADR order (RFC 9555 §2.5.5, §2.6.1). */
static __attribute__((unused)) void tu_sort_unordered_one(json_t *obj)
{
    json_t *comps = json_object_get(obj, "components");
    if (!json_is_array(comps) || json_is_true(json_object_get(obj, "isOrdered")))
        return;
    size_t n = json_array_size(comps);
    char **dumps = calloc(n + 1, sizeof *dumps);
    for (size_t i = 0; i < n; i++) {
        char *d = json_dumps(json_array_get(comps, i), JSON_COMPACT | JSON_SORT_KEYS);
        dumps[i] = malloc(strlen(d) + 24);
        sprintf(dumps[i], "%s\x01%zu", d, i);
        free(d);
    }
    qsort(dumps, n, sizeof *dumps, tu_cmp_dump);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append(out,
                          json_array_get(comps, strtoul(strrchr(dumps[i], '\x01') + 1, NULL, 10)));
        free(dumps[i]);
    }
    free(dumps);
    json_object_set_new(obj, "components", out);
}

/* What a round trip may change without changing the Card's meaning: the order of
 * unordered components, and a default written out (Title kind "title", RFC 9553
 * §2.2.5, which RFC 9555 §2.9.6 reads back explicitly). */
static __attribute__((unused)) void tu_sort_unordered(json_t *card)
{
    tu_sort_unordered_one(json_object_get(card, "name"));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(card, "addresses"), k, v) tu_sort_unordered_one(v);
    json_object_foreach(json_object_get(card, "titles"), k, v)
    {
        const char *tk = json_string_value(json_object_get(v, "kind"));
        if (tk && !strcmp(tk, "title"))
            json_object_del(v, "kind");
    }
}

/* Renames the keys of one Id map to k1, k2... in the order of their serialised
 * values; records old -> new in renames. */
static void tu_canon_map(json_t *parent, const char *key, json_t *renames)
{
    json_t *map = json_object_get(parent, key);
    if (!json_is_object(map))
        return;
    size_t n = json_object_size(map), i = 0;
    char **dumps = calloc(n + 1, sizeof *dumps);
    const char *k;
    json_t *v;
    json_object_foreach(map, k, v)
    {
        char *d = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        dumps[i] = malloc(strlen(d) + strlen(k) + 2);
        sprintf(dumps[i], "%s\x01%s", d, k);
        free(d);
        i++;
    }
    qsort(dumps, n, sizeof *dumps, tu_cmp_dump);
    json_t *out = json_object();
    json_t *ren = json_object();
    for (i = 0; i < n; i++) {
        const char *old = strchr(dumps[i], '\x01') + 1;
        char nk[32];
        snprintf(nk, sizeof nk, "k%zu", i + 1);
        json_object_set(out, nk, json_object_get(map, old));
        json_object_set_new(ren, old, json_string(nk));
        free(dumps[i]);
    }
    free(dumps);
    json_object_set_new(renames, key, ren);
    json_object_set_new(parent, key, out);
}

/* A copy of card with every Id map key renamed canonically, and the references to
 * them (organizationId, localization paths) rewritten. */
static void tu_drop_default(json_t *obj, const char *key, const char *value)
{
    const char *v = json_string_value(json_object_get(obj, key));
    if (v && !strcmp(v, value))
        json_object_del(obj, key);
}

static json_t *tu_canon(const json_t *card)
{
    json_t *c = json_deep_copy(card);
    /* RFC 9553 defaults are equal to their absence (Title kind §2.2.5, Card kind
     * §2.1.4, isOrdered §2.2.1.1/§2.5.1.1) */
    tu_drop_default(c, "kind", "individual");
    {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(c, "titles"), k, v) tu_drop_default(v, "kind", "title");
        json_object_foreach(json_object_get(c, "addresses"), k,
                            v) if (json_is_false(json_object_get(v, "isOrdered")))
            json_object_del(v, "isOrdered");
        json_t *nm = json_object_get(c, "name");
        if (json_is_false(json_object_get(nm, "isOrdered")))
            json_object_del(nm, "isOrdered");
    }
    tu_sort_unordered(c);
    /* RFC 9982 §2: a valid 1.0 Card is a valid 2.0 Card; the converter writes 2.0 */
    const char *ver = json_string_value(json_object_get(c, "version"));
    if (ver && !strcmp(ver, "1.0"))
        json_object_set_new(c, "version", json_string("2.0"));
    json_t *ren = json_object();
    /* organizations first: titles refer to them */
    tu_canon_map(c, "organizations", ren);
    json_t *orgren = json_object_get(ren, "organizations");
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(c, "titles"), k, v)
    {
        const char *oid = json_string_value(json_object_get(v, "organizationId"));
        json_t *n = oid ? json_object_get(orgren, oid) : NULL;
        if (n)
            json_object_set(v, "organizationId", n);
    }
    for (const char *const *m = tu_id_maps + 1; *m; m++)
        tu_canon_map(c, *m, ren);
    json_t *sta = json_object_get(c, "speakToAs");
    if (json_is_object(sta)) {
        json_t *r2 = json_object();
        tu_canon_map(sta, "pronouns", r2);
        json_object_set(ren, "speakToAs/pronouns", json_object_get(r2, "pronouns"));
        json_decref(r2);
    }
    json_t *locs = json_object_get(c, "localizations");
    json_object_foreach(locs, k, v)
    {
        json_t *np = json_object();
        const char *pk;
        json_t *pv;
        json_object_foreach(v, pk, pv)
        {
            char buf[512];
            snprintf(buf, sizeof buf, "%s", pk);
            char *s1 = strchr(buf, '/');
            json_t *r = NULL;
            if (s1) {
                *s1 = 0;
                r = json_object_get(ren, buf);
                *s1 = '/';
            }
            if (r) {
                char *s2 = strchr(s1 + 1, '/');
                char idb[300];
                snprintf(idb, sizeof idb, "%.*s", (int)(s2 ? s2 - s1 - 1 : (long)strlen(s1 + 1)),
                         s1 + 1);
                const char *nid = json_string_value(json_object_get(r, idb));
                if (nid) {
                    char nb[600];
                    snprintf(nb, sizeof nb, "%.*s/%s%s", (int)(s1 - buf), buf, nid, s2 ? s2 : "");
                    json_object_set(np, nb, pv);
                    continue;
                }
            }
            json_object_set(np, pk, pv);
        }
        json_object_set_new(locs, k, np);
    }
    json_decref(ren);
    return c;
}

/* True if the Cards are equal modulo map keys; prints both if not. */
static __attribute__((unused)) int tu_cards_equal(const json_t *got, const json_t *want,
                                                  const char *what)
{
    json_t *a = tu_canon(got), *b = tu_canon(want);
    int eq = json_equal(a, b);
    if (!eq) {
        char *sa = json_dumps(a, JSON_INDENT(1) | JSON_SORT_KEYS);
        char *sb = json_dumps(b, JSON_INDENT(1) | JSON_SORT_KEYS);
        fprintf(stderr, "%s: cards differ\n--- got\n%s\n--- want\n%s\n", what, sa, sb);
        free(sa);
        free(sb);
    }
    json_decref(a);
    json_decref(b);
    return eq;
}

#ifdef CMOCKA_H_
#include <dirent.h>

static int tu_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The figure suites' main: one test case per file of dir ending in suffix (its name
 * without the suffix is the case's name and initial state), in name order; fails
 * when dir cannot be read or holds fewer than min figures (the extraction lost some).
 * Include after cmocka.h. */
static __attribute__((unused)) int tu_run_figures(const char *group, const char *dir,
                                                  const char *suffix, size_t min,
                                                  CMUnitTestFunction test)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, sl = strlen(suffix);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > sl && !strcmp(e->d_name + l - sl, suffix)) {
            names = realloc(names, (n + 1) * sizeof *names);
            names[n++] = strndup(e->d_name, l - sl);
        }
    }
    closedir(d);
    qsort(names, n, sizeof *names, tu_cmp_names);
    int rc = 1;
    struct CMUnitTest *tests = calloc(n ? n : 1, sizeof *tests);
    for (size_t i = 0; i < n; i++) {
        tests[i].name = names[i];
        tests[i].test_func = test;
        tests[i].initial_state = names[i];
    }
    if (n < min)
        fprintf(stderr, "only %zu figures in %s\n", n, dir);
    else
        rc = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(tests);
    return rc;
}
#endif

#endif
