/*
 * test_jscontact_rfc9555.c — every vCard/JSON figure pair of RFC 9555, in both
 * directions. The figures live in tests/formats/vcard/rfc9555/ (extracted by
 * extract_rfc9555.py, errata noted there); one test case per figure:
 *
 *   vCard → JSContact: the vCard figure converts to the JSON figure;
 *   JSContact → vCard: the JSON figure is a valid Card, converts to vCard and back
 *                      to the same Card (nothing lost);
 *   for the §3 figures (JSON → vCard), every property of the vCard figure also
 *   appears in our vCard output (same name, value and parameters).
 *
 * Map keys are compared modulo renaming (RFC 9555 §2.1.2 leaves them free).
 * Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "formats/jscontact/jscontact.h"
#include "test_jscontact_util.h"

#define FIG_DIR "tests/formats/vcard/rfc9555"

static void param_values(const vcard_param *pa, char *out, size_t n)
{
    /* comma-joined values, so that TYPE="voice,home" equals TYPE=voice,home */
    out[0] = 0;
    for (size_t i = 0; i < pa->nvalues; i++) {
        if (i)
            strncat(out, ",", n - strlen(out) - 1);
        strncat(out, pa->values[i], n - strlen(out) - 1);
    }
}

static void trim_structured(char *v)
{
    /* "Doe;Jane;;;;;;" and "Doe;Jane;;;;;" hold the same N */
    size_t n = strlen(v);
    while (n && v[n - 1] == ';' && (n < 2 || v[n - 2] != '\\'))
        v[--n] = 0;
}

/* True if the figure's property appears in out with its value and parameters. */
static int has_prop(const vcard *out, const vcard_prop *fp)
{
    for (size_t i = 0; i < out->nprops; i++) {
        const vcard_prop *p = &out->props[i];
        if (strcasecmp(p->name, fp->name))
            continue;
        char a[1024], b[1024];
        snprintf(a, sizeof a, "%s", p->value);
        snprintf(b, sizeof b, "%s", fp->value);
        trim_structured(a);
        trim_structured(b);
        if (strcmp(a, b))
            continue;
        int ok = 1;
        for (size_t k = 0; k < fp->nparams && ok; k++) {
            const vcard_param *want = &fp->params[k];
            const vcard_param *got = vcard_param_get(p, want->name);
            if (!got) {
                ok = 0;
                break;
            }
            param_values(want, a, sizeof a);
            param_values(got, b, sizeof b);
            if (strcasecmp(a, b))
                ok = 0;
        }
        if (ok)
            return 1;
    }
    return 0;
}

static void test_figure(void **state)
{
    const char *base = *state;
    char path[512];
    snprintf(path, sizeof path, FIG_DIR "/%s.vcf", base);
    char *vfrag = tu_read(path, NULL);
    snprintf(path, sizeof path, FIG_DIR "/%s.json", base);
    char *jfrag = tu_read(path, NULL);
    snprintf(path, sizeof path, FIG_DIR "/%s.j2v", base);
    char *j2v = tu_read(path, NULL);
    assert_non_null(vfrag);
    assert_non_null(jfrag);

    json_t *want = tu_wrap_json(jfrag);
    assert_non_null(want);
    char *vtext = tu_wrap_vcard(vfrag, json_string_value(json_object_get(want, "uid")));

    /* the JSON figure is a valid Card */
    json_t *msgs = NULL;
    size_t nbad = jscontact_card_validate(want, NULL, &msgs);
    if (nbad)
        fprintf(stderr, "%s: %s\n", base, json_string_value(json_array_get(msgs, 0)));
    assert_int_equal(nbad, 0);
    json_decref(msgs);

    /* vCard → JSContact */
    char *err = NULL;
    json_t *cards = jscontact_from_vcard_text(vtext, strlen(vtext), &err);
    if (!cards)
        fprintf(stderr, "%s: %s\n", base, err);
    assert_non_null(cards);
    assert_int_equal(json_array_size(cards), 1);
    assert_true(tu_cards_equal(json_array_get(cards, 0), want, base));

    /* JSContact → vCard → JSContact */
    char *out = jscontact_to_vcard_text(want, 0, &err);
    if (!out)
        fprintf(stderr, "%s: %s\n", base, err);
    assert_non_null(out);
    json_t *back = jscontact_from_vcard_text(out, strlen(out), &err);
    assert_non_null(back);
    if (!tu_cards_equal(json_array_get(back, 0), want, base))
        fprintf(stderr, "%s: vCard written was:\n%s", base, out);
    assert_true(tu_cards_equal(json_array_get(back, 0), want, base));

    /* §3 figures: our vCard says what the figure says */
    if (j2v) {
        vcard *fig, *mine;
        size_t nf, nm;
        assert_int_equal(vcard_parse(vtext, strlen(vtext), &fig, &nf, &err), 0);
        assert_int_equal(vcard_parse(out, strlen(out), &mine, &nm, &err), 0);
        for (size_t i = 0; i < fig[0].nprops; i++) {
            const vcard_prop *fp = &fig[0].props[i];
            if (!strcasecmp(fp->name, "UID"))
                continue;
            int found = has_prop(&mine[0], fp);
            if (!found)
                fprintf(stderr, "%s: %s:%s missing from\n%s", base, fp->name, fp->value, out);
            assert_true(found);
        }
        vcard_list_free(fig, nf);
        vcard_list_free(mine, nm);
    }
    json_decref(back);
    free(out);
    json_decref(cards);
    free(vtext);
    json_decref(want);
    free(vfrag);
    free(jfrag);
    free(j2v);
}

/* RFC 9555 has 53 figure pairs; fewer means the extraction lost some */
int main(void)
{
    return tu_run_figures("rfc9555_figures", FIG_DIR, ".vcf", 53, test_figure);
}
