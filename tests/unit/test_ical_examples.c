/*
 * test_ical_examples.c — every example of draft-ietf-calext-jscalendar-icalendar-25 (iCalendar
 * and JSCalendar pairs) and of draft-ietf-calext-jscalendarbis-08 §6, read from the spec
 * texts in ../shared/specs and completed as §1.3 ("How to Read the Examples") defines:
 *
 *  - iCalendar -> JSCalendar: the converted Group must contain the expected JSON ("..."
 *    marks where more is allowed; we check containment everywhere);
 *  - JSCalendar -> iCalendar -> JSCalendar: the expected JSON survives the trip, and every
 *    property of the iCalendar example reappears in the generated iCalendar.
 *
 * Known deviations are listed in `known` with the reason; everything else must pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/icalendar_jscalendar/ical.h"
#include "formats/icalendar/ical_syntax.h"
#include "formats/jscalendar/jscal.h"
#include "formats/jscalendar/jscal_util.h"

static char *slurp(const char *name)
{
    const char *dirs[] = {"../shared/specs/", "/work/shared/specs/", NULL};
    for (int i = 0; dirs[i]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s", dirs[i], name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *s = malloc((size_t)n + 1);
        size_t r = fread(s, 1, (size_t)n, f);
        s[r] = 0;
        fclose(f);
        return s;
    }
    return NULL;
}

/* ---- example extraction --------------------------------------------------------------- */

typedef struct {
    char *ics, *json, *title;
    int line;
} example;

/* Reads the fenced block starting at *p (just after the ``` line), stripping the fence's
 * indentation. Returns malloc'd text and advances *p past the closing fence. */
static char *read_block(const char **p, int indent)
{
    jbuf b = {0};
    const char *s = *p;
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        const char *l = s;
        size_t skip = 0;
        while (skip < (size_t)indent && skip < n && l[skip] == ' ')
            skip++;
        if (n - skip >= 3 && !strncmp(l + skip, "```", 3)) {
            *p = e ? e + 1 : s + n;
            return jbuf_take(&b);
        }
        jbuf_add(&b, l + skip, n - skip);
        jbuf_adds(&b, "\n");
        s = e ? e + 1 : s + n;
    }
    *p = s;
    return jbuf_take(&b);
}

static size_t extract(const char *doc, example *out, size_t max, int need_ics)
{
    size_t n = 0;
    int line = 1;
    const char *title = "";
    const char *p = doc;
    char *pending_ics = NULL;
    int pending_line = 0;
    while (*p && n < max) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int indent = 0;
        while (indent < (int)len && p[indent] == ' ')
            indent++;
        const char *t = p + indent;
        if (!strncmp(t, "Figure:", 7) || !strncmp(p, "#", 1))
            title = p;
        if (!strncmp(t, "```text/calendar", 16)) {
            p = e ? e + 1 : p + len;
            line++;
            free(pending_ics);
            pending_line = line;
            pending_ics = read_block(&p, indent);
            continue;
        }
        if (!strncmp(t, "```json", 7)) {
            p = e ? e + 1 : p + len;
            char *json = read_block(&p, indent);
            if (pending_ics || !need_ics) {
                out[n].ics = pending_ics;
                out[n].json = json;
                const char *te = strchr(title, '\n');
                out[n].title = strndup(title, te ? (size_t)(te - title) : strlen(title));
                out[n].line = pending_ics ? pending_line : line;
                n++;
                pending_ics = NULL;
            } else {
                free(json);
            }
            continue;
        }
        if (len && *t && strncmp(t, "```", 3) && pending_ics && strncmp(t, "Figure", 6)) {
            /* prose between the two blocks: not a pair */
            free(pending_ics);
            pending_ics = NULL;
        }
        p = e ? e + 1 : p + len;
        line++;
    }
    free(pending_ics);
    return n;
}

/* ---- completing the iCalendar side (§1.3.1) ------------------------------------------- */

static int has_line(const char *ics, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = ics; p; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (!strncasecmp(p, prefix, n))
            return 1;
    }
    return 0;
}

static char *complete_ics(const char *ex)
{
    /* Drop "..." lines and trailing blanks; note which components are opened. */
    jbuf body = {0};
    const char *stack[16];
    int depth = 0, top_comp = 0, saw_content = 0;
    char names[16][32];
    for (const char *p = ex; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char l[4096];
        snprintf(l, sizeof l, "%.*s", (int)n, p);
        p = e ? e + 1 : p + n;
        if (!strcmp(l, "...") || !*l)
            continue;
        if (!strncmp(l, "BEGIN:", 6) && depth < 16) {
            snprintf(names[depth], sizeof names[depth], "%.31s", l + 6);
            stack[depth] = names[depth];
            if (depth == 0 && !saw_content)
                top_comp = 1;
            depth++;
        } else if (!strncmp(l, "END:", 4) && depth > 0) {
            depth--;
        } else if (l[0] != ' ' && depth == 0) {
            saw_content = 1;
        }
        jbuf_adds(&body, l);
        jbuf_adds(&body, "\r\n");
    }
    /* close what "..." left open */
    while (depth > 0) {
        depth--;
        jbuf_adds(&body, "END:");
        jbuf_adds(&body, stack[depth]);
        jbuf_adds(&body, "\r\n");
    }
    char *b = jbuf_take(&body);
    jbuf out = {0};
    int has_vcal = !strncmp(b, "BEGIN:VCALENDAR", 15);
    int top_entry = top_comp && (!strncmp(b, "BEGIN:VEVENT", 12) || !strncmp(b, "BEGIN:VTODO", 11));
    if (!has_vcal)
        jbuf_adds(&out, "BEGIN:VCALENDAR\r\n");
    if (!has_vcal && !top_entry) {
        jbuf_adds(&out, "BEGIN:VEVENT\r\n");
        jbuf_adds(&out, b);
        jbuf_adds(&out, "END:VEVENT\r\n");
    } else {
        jbuf_adds(&out, b);
    }
    if (!has_vcal)
        jbuf_adds(&out, "END:VCALENDAR\r\n");
    free(b);
    char *full = jbuf_take(&out);
    /* Mandatory properties with some value (§1.3.1 "implicit components"). */
    ical_comp **tops = NULL;
    char *err = NULL;
    int nt = ical_parse(full, strlen(full), &tops, &err);
    free(full);
    if (nt != 1) {
        free(err);
        return NULL;
    }
    ical_comp *vcal = tops[0];
    free(tops);
    if (!ical_comp_get_prop(vcal, "PRODID"))
        ical_comp_add_prop(vcal, "PRODID", "-//example//example//EN");
    if (!ical_comp_get_prop(vcal, "VERSION"))
        ical_comp_add_prop(vcal, "VERSION", "2.0");
    int entries = 0;
    for (size_t i = 0; i < vcal->ncomps; i++) {
        ical_comp *c = vcal->comps[i];
        if (strcmp(c->name, "VEVENT") && strcmp(c->name, "VTODO"))
            continue;
        entries++;
        if (!ical_comp_get_prop(c, "UID"))
            ical_comp_add_prop(c, "UID", "CC0A494A-6E07-4827-8294-0752DD1ECFA4");
        if (!ical_comp_get_prop(c, "DTSTAMP"))
            ical_comp_add_prop(c, "DTSTAMP", "20060102T030405Z");
        if (!strcmp(c->name, "VEVENT") && !ical_comp_get_prop(c, "DTSTART"))
            ical_comp_add_prop(c, "DTSTART", "20060102T030405Z");
        for (size_t k = 0; k < c->ncomps; k++) {
            ical_comp *a = c->comps[k];
            if (!strcmp(a->name, "VALARM")) {
                if (!ical_comp_get_prop(a, "TRIGGER"))
                    ical_comp_add_prop(a, "TRIGGER", "-PT5M");
                if (!ical_comp_get_prop(a, "ACTION"))
                    ical_comp_add_prop(a, "ACTION", "DISPLAY");
            }
        }
    }
    if (!entries) {
        ical_comp *ev = ical_comp_new("VEVENT");
        ical_comp_add_prop(ev, "UID", "CC0A494A-6E07-4827-8294-0752DD1ECFA4");
        ical_comp_add_prop(ev, "DTSTAMP", "20060102T030405Z");
        ical_comp_add_prop(ev, "DTSTART", "20060102T030405Z");
        ical_comp_add_comp(vcal, ev);
    }
    jbuf w = {0};
    ical_comp_write(vcal, &w);
    ical_comp_free(vcal);
    (void)has_line;
    return jbuf_take(&w);
}

/* ---- completing the JSON side (§1.3.2) ------------------------------------------------ */

static json_t *complete_json(const char *ex)
{
    const char *s = ex;
    while (*s == ' ' || *s == '\n')
        s++;
    char *text = *s == '{' ? strdup(ex) : jscal_strdupf("{%s}", ex);
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    free(text);
    if (!j)
        return NULL;
    const char *type = json_string_value(json_object_get(j, "@type"));
    if (!type && json_object_get(j, "due")) {
        json_object_set_new(j, "@type", json_string("Task"));
        json_object_set_new(j, "...", json_string(""));
        type = "Task";
    }
    if (!type) {
        json_object_set_new(j, "@type", json_string("Event"));
        json_object_set_new(j, "...", json_string(""));
        type = "Event";
    }
    if (strcmp(type, "Group")) {
        json_t *g = json_object();
        json_object_set_new(g, "@type", json_string("Group"));
        json_t *a = json_array();
        json_array_append_new(a, j);
        json_object_set_new(g, "entries", a);
        json_object_set_new(g, "...", json_string(""));
        j = g;
    }
    return j;
}

/* ---- containment ---------------------------------------------------------------------- */

static int contains(const json_t *want, const json_t *got, const char *path, char *why,
                    size_t whylen);

static int contains_array(const json_t *want, const json_t *got, const char *path, char *why,
                          size_t whylen, int unordered)
{
    if (!json_is_array(got)) {
        snprintf(why, whylen, "%s: not an array", path);
        return 0;
    }
    size_t i;
    json_t *w;
    json_array_foreach(want, i, w)
    {
        int found = 0;
        if (unordered) {
            size_t k;
            json_t *g;
            char tmp[8];
            json_array_foreach(got, k, g) if (contains(w, g, path, tmp, sizeof tmp)) found = 1;
        } else {
            found = i < json_array_size(got) && contains(w, json_array_get(got, i), path, why, whylen);
        }
        if (!found) {
            if (unordered || !*why)
                snprintf(why, whylen, "%s/%zu: missing", path, i);
            return 0;
        }
    }
    return 1;
}

static int contains(const json_t *want, const json_t *got, const char *path, char *why,
                    size_t whylen)
{
    if (json_is_object(want)) {
        if (!json_is_object(got)) {
            snprintf(why, whylen, "%s: not an object", path);
            return 0;
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)want, k, v)
        {
            if (!strcmp(k, "..."))
                continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", path, k);
            json_t *g = json_object_get(got, k);
            if (!g && json_is_object(v) && json_object_size(got) == 1 &&
                json_object_size(want) - (json_object_get(want, "...") ? 1 : 0) == 1) {
                /* a key generated from a UID the example hides behind "..." */
                void *it = json_object_iter((json_t *)got);
                g = json_object_iter_value(it);
            }
            if (!g) {
                snprintf(why, whylen, "%s: missing", p);
                return 0;
            }
            int unordered = !strcmp(k, "properties") || !strcmp(k, "components");
            if (json_is_array(v) ? !contains_array(v, g, p, why, whylen, unordered)
                                 : !contains(v, g, p, why, whylen))
                return 0;
        }
        return 1;
    }
    if (json_is_array(want))
        return contains_array(want, got, path, why, whylen, 0);
    if (json_is_number(want) && json_is_number(got) &&
        json_number_value(want) == json_number_value(got))
        return 1;
    if (!json_equal(want, got)) {
        char *a = json_dumps(want, JSON_ENCODE_ANY), *b = json_dumps(got, JSON_ENCODE_ANY);
        snprintf(why, whylen, "%s: want %s got %s", path, a, b);
        free(a);
        free(b);
        return 0;
    }
    return 1;
}

/* Removes "..." members and fills what an implicit Event/Task needs to be converted. */
static void strip_dots(json_t *j)
{
    if (json_is_object(j)) {
        json_object_del(j, "...");
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) strip_dots(v);
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) strip_dots(v);
    }
}

static void fill_entry(json_t *e)
{
    if (!json_object_get(e, "uid"))
        json_object_set_new(e, "uid", json_string("CC0A494A-6E07-4827-8294-0752DD1ECFA4"));
    if (!json_object_get(e, "updated"))
        json_object_set_new(e, "updated", json_string("2006-01-02T03:04:05Z"));
    const char *t = json_string_value(json_object_get(e, "@type"));
    if (t && !strcmp(t, "Event") && !json_object_get(e, "start")) {
        json_object_set_new(e, "start", json_string("2006-01-02T03:04:05"));
        if (!json_object_get(e, "timeZone"))
            json_object_set_new(e, "timeZone", json_string("Etc/UTC"));
    }
    json_t *al;
    const char *k;
    json_object_foreach(json_object_get(e, "alerts"), k, al) if (!json_object_get(al, "trigger"))
    {
        json_t *tr = json_object();
        json_object_set_new(tr, "@type", json_string("OffsetTrigger"));
        json_object_set_new(tr, "offset", json_string("-PT5M"));
        json_object_set_new(al, "trigger", tr);
    }
}

/* Replaces each override patch by the occurrence it produces, so that two different but
 * equivalent PatchObjects (jscalendarbis §1.4.9) compare equal. */
static void normalize_overrides(json_t *g)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(g, "entries"), i, e)
    {
        json_t *ovs = json_object_get(e, "recurrenceOverrides");
        const char *k;
        json_t *patch;
        json_object_foreach(ovs, k, patch)
        {
            if (json_object_get(patch, "excluded"))
                continue;
            json_t *inst = json_deep_copy(e);
            json_object_del(inst, "recurrenceOverrides");
            json_object_del(inst, "recurrenceRule");
            json_object_del(inst, "...");
            json_object_set_new(inst, "start", json_string(k));
            json_t *p = json_deep_copy(patch);
            json_object_del(p, "...");
            if (!jscal_patch_apply(inst, p, NULL))
                json_object_set(ovs, k, inst);
            json_decref(p);
            json_decref(inst);
        }
    }
}

/* Every property of the iCalendar example appears in generated (name, value, params). */
static int ics_contains(const char *example_ics, const char *generated, char *why, size_t whylen)
{
    ical_comp **a = NULL, **b = NULL;
    char *err = NULL;
    int na = ical_parse(example_ics, strlen(example_ics), &a, &err);
    free(err);
    err = NULL;
    int nb = ical_parse(generated, strlen(generated), &b, &err);
    free(err);
    int ok = na == 1 && nb == 1;
    if (!ok)
        snprintf(why, whylen, "unparseable");
    /* flatten both trees' properties, compare by name+value */
    for (int pass = 0; ok && pass < 1; pass++) {
        ical_comp *stack[64];
        int sp = 0;
        stack[sp++] = a[0];
        while (sp && ok) {
            ical_comp *c = stack[--sp];
            for (size_t i = 0; i < c->ncomps && sp < 64; i++)
                stack[sp++] = c->comps[i];
            for (size_t i = 0; i < c->nprops && ok; i++) {
                ical_prop *p = &c->props[i];
                /* filler properties and ones the reverse direction regenerates */
                if (!strcmp(p->name, "DTSTAMP") || !strcmp(p->name, "VERSION") ||
                    !strcmp(p->name, "PRODID") || !strcmp(p->name, "JSID"))
                    continue;
                int found = 0;
                ical_comp *st2[64];
                int sp2 = 0;
                st2[sp2++] = b[0];
                while (sp2 && !found) {
                    ical_comp *d = st2[--sp2];
                    for (size_t k = 0; k < d->ncomps && sp2 < 64; k++)
                        st2[sp2++] = d->comps[k];
                    for (size_t k = 0; k < d->nprops && !found; k++) {
                        ical_prop *q = &d->props[k];
                        if (strcmp(q->name, p->name))
                            continue;
                        if (!strcmp(p->name, "RRULE")) {
                            /* rule parts are unordered */
                            char **va, **vb;
                            char *x = strdup(p->value), *y = strdup(q->value);
                            for (char *ch = x; *ch; ch++)
                                if (*ch == ';')
                                    *ch = ',';
                            for (char *ch = y; *ch; ch++)
                                if (*ch == ';')
                                    *ch = ',';
                            size_t na2 = ical_split_values(x, &va), nb2 = ical_split_values(y, &vb);
                            size_t hit = 0;
                            for (size_t i2 = 0; i2 < na2; i2++)
                                for (size_t j2 = 0; j2 < nb2; j2++)
                                    if (!strcmp(va[i2], vb[j2])) {
                                        hit++;
                                        break;
                                    }
                            found = hit == na2;
                            ical_free_strv(va, na2);
                            ical_free_strv(vb, nb2);
                            free(x);
                            free(y);
                            continue;
                        }
                        char *u1 = ical_text_unescape(p->value), *u2 = ical_text_unescape(q->value);
                        found = !strcasecmp(u1, u2);
                        free(u1);
                        free(u2);
                        if (!found) {
                            /* multi-valued properties may be grouped differently */
                            char **va, **vb;
                            size_t na2 = ical_split_values(p->value, &va);
                            size_t nb2 = ical_split_values(q->value, &vb);
                            size_t hit = 0;
                            for (size_t x = 0; x < na2; x++)
                                for (size_t y = 0; y < nb2; y++)
                                    if (!strcmp(va[x], vb[y])) {
                                        hit++;
                                        break;
                                    }
                            found = hit == na2;
                            ical_free_strv(va, na2);
                            ical_free_strv(vb, nb2);
                        }
                    }
                }
                if (!found) {
                    snprintf(why, whylen, "iCalendar property %s:%.60s not generated", p->name, p->value);
                    ok = 0;
                }
            }
        }
    }
    for (int i = 0; i < na; i++)
        ical_comp_free(a[i]);
    for (int i = 0; i < nb; i++)
        ical_comp_free(b[i]);
    free(a);
    free(b);
    return ok;
}

/* Examples that cannot pass as written, with the reason (checked to still fail). */
static const struct {
    const char *title_part, *reason;
} known[] = {
    {NULL, NULL},
};

static int is_known(const char *title)
{
    for (size_t i = 0; known[i].title_part; i++)
        if (strstr(title, known[i].title_part))
            return 1;
    return 0;
}

static void test_draft25_examples(void **state)
{
    (void)state;
    char *doc = slurp("draft-ietf-calext-jscalendar-icalendar-25.md");
    if (!doc)
        skip();
    /* §1.3 defines the notation; the examples proper start at §2. */
    const char *from = strstr(doc, "\n## 2. Converting iCalendar to JSCalendar");
    assert_non_null(from);
    example ex[200];
    size_t n = extract(from, ex, 200, 1);
    assert_true(n >= 60);
    int failures = 0, passed = 0;
    for (size_t i = 0; i < n; i++) {
        char why[512] = "";
        char *ics = complete_ics(ex[i].ics);
        json_t *want = complete_json(ex[i].json);
        int ok = ics && want;
        if (!ok)
            snprintf(why, sizeof why, "example does not parse");
        /* iCalendar -> JSCalendar */
        char *err = NULL;
        json_t *got = ok ? ical_to_jscal(ics, strlen(ics), ICAL_TO_JSCAL_GROUP, &err) : NULL;
        if (ok && !got) {
            snprintf(why, sizeof why, "ics->json failed: %s", err);
            ok = 0;
        }
        free(err);
        if (ok && !contains(want, got, "", why, sizeof why))
            ok = 0;
        /* JSCalendar -> iCalendar -> JSCalendar */
        if (ok) {
            json_t *in = json_deep_copy(want);
            strip_dots(in);
            size_t k;
            json_t *e;
            if (!json_object_get(in, "entries"))
                json_object_set_new(in, "entries", json_array());
            if (!json_array_size(json_object_get(in, "entries"))) {
                json_t *ev = json_object();
                json_object_set_new(ev, "@type", json_string("Event"));
                json_array_append_new(json_object_get(in, "entries"), ev);
            }
            json_array_foreach(json_object_get(in, "entries"), k, e) fill_entry(e);
            char *out = jscal_to_ical(in, &err);
            if (!out) {
                snprintf(why, sizeof why, "json->ics failed: %s", err);
                ok = 0;
            } else {
                json_t *back = ical_to_jscal(out, strlen(out), ICAL_TO_JSCAL_GROUP, &err);
                if (!back) {
                    snprintf(why, sizeof why, "json->ics->json failed: %s", err);
                    ok = 0;
                } else if (!contains(want, back, "(back)", why, sizeof why)) {
                    ok = 0;
                } else if (!ics_contains(ics, out, why, sizeof why)) {
                    ok = 0;
                }
                json_decref(back);
            }
            free(err);
            free(out);
            json_decref(in);
        }
        if (!ok && !is_known(ex[i].title)) {
            failures++;
            print_message("draft-25 example at line %d (%s): %s\n", ex[i].line, ex[i].title, why);
        } else if (ok) {
            passed++;
        }
        json_decref(got);
        json_decref(want);
        free(ics);
        free(ex[i].ics);
        free(ex[i].json);
        free(ex[i].title);
    }
    print_message("draft-25 examples: %d passed, %d failed, %zu total\n", passed, failures, n);
    free(doc);
    assert_int_equal(failures, 0);
}

static void test_jscalendarbis_examples(void **state)
{
    (void)state;
    char *doc = slurp("draft-ietf-calext-jscalendarbis-08.md");
    if (!doc)
        skip();
    const char *from = strstr(doc, "\n## 6. Examples");
    const char *to = strstr(doc, "\n## 7. Security");
    assert_non_null(from);
    assert_non_null(to);
    char *sec = strndup(from, (size_t)(to - from));
    example ex[32];
    size_t n = extract(sec, ex, 32, 0);
    assert_true(n >= 10);
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        char why[512] = "";
        /* §6.10 shows two objects in one block; split them. */
        char *text = ex[i].json;
        char *second = NULL;
        char *split = strstr(text, "\n}\n{");
        if (split) {
            split[2] = 0;
            second = split + 3;
        }
        for (int part = 0; part < (second ? 2 : 1); part++) {
            char *src = part ? second : text;
            /* §6.10's second object has a typo ("::"); the example is about relations */
            char *typo = strstr(src, ": :");
            if (typo)
                typo[2] = ' ';
            json_t *want = complete_json(src);
            int ok = want != NULL;
            if (!ok)
                snprintf(why, sizeof why, "does not parse");
            json_t *in = ok ? json_deep_copy(want) : NULL;
            if (ok) {
                strip_dots(in);
                size_t k;
                json_t *e;
                json_array_foreach(json_object_get(in, "entries"), k, e) fill_entry(e);
                json_array_foreach(json_object_get(in, "entries"), k, e)
                {
                    json_t *inv = NULL;
                    if (jscal_validate(e, JSCAL_NORMALIZE, &inv)) {
                        char *s = json_dumps(inv, 0);
                        snprintf(why, sizeof why, "invalid: %s", s);
                        free(s);
                        ok = 0;
                    }
                    json_decref(inv);
                }
            }
            if (ok) {
                char *err = NULL;
                char *out = jscal_to_ical(in, &err);
                json_t *back = out ? ical_to_jscal(out, strlen(out), ICAL_TO_JSCAL_GROUP, &err) : NULL;
                if (back) {
                    normalize_overrides(want);
                    normalize_overrides(back);
                }
                if (!back) {
                    snprintf(why, sizeof why, "round trip failed: %s", err);
                    ok = 0;
                } else if (!contains(want, back, "", why, sizeof why)) {
                    ok = 0;
                }
                free(err);
                free(out);
                json_decref(back);
            }
            if (!ok) {
                failures++;
                print_message("jscalendarbis example %s: %s\n", ex[i].title, why);
            }
            json_decref(in);
            json_decref(want);
        }
        free(ex[i].json);
        free(ex[i].ics);
        free(ex[i].title);
    }
    free(sec);
    free(doc);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draft25_examples),
        cmocka_unit_test(test_jscalendarbis_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
