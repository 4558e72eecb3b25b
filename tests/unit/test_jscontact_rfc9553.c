/*
 * test_jscontact_rfc9553.c — every JSON figure of RFC 9553 (extracted into
 * tests/formats/vcard/rfc9553/ by extract_rfc9553.py), one test case each:
 *
 *   the figure, wrapped into a Card if it is a fragment, is valid;
 *   Card → vCard 4.0 → Card gives the same Card (map keys compared modulo
 *   renaming), and a second round gives the same vCard (stable);
 *   Card → vCard 3.0 parses back, and carries no vCard 4.0 parameter.
 *
 * Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "formats/jscontact/jscontact.h"
#include "test_jscontact_util.h"

#define FIG_DIR "tests/formats/vcard/rfc9553"

/* RFC 6350 §5 / RFC 9554 §4 parameters that RFC 2426 does not have. */
static const char *const v4_params[] = {
    "PREF",    "ALTID",       "PID",      "MEDIATYPE", "CALSCALE",     "SORT-AS",
    "GEO",     "TZ",          "LABEL",    "INDEX",     "LEVEL",        "PROP-ID",
    "JSCOMPS", "DERIVED",     "PHONETIC", "SCRIPT",    "SERVICE-TYPE", "USERNAME",
    "AUTHOR",  "AUTHOR-NAME", "CREATED",  "CC",        "JSPTR",        NULL};

static void test_figure(void **state)
{
    const char *base = *state;
    char path[512], *err = NULL;
    snprintf(path, sizeof path, FIG_DIR "/%s.json", base);
    char *frag = tu_read(path, NULL);
    assert_non_null(frag);
    json_t *card = tu_wrap_json(frag);
    assert_non_null(card);

    json_t *msgs = NULL;
    size_t nbad = jscontact_card_validate(card, NULL, &msgs);
    if (nbad)
        fprintf(stderr, "%s: %s\n", base, json_string_value(json_array_get(msgs, 0)));
    assert_int_equal(nbad, 0);
    json_decref(msgs);

    /* 4.0 round trip: nothing lost */
    char *v1 = jscontact_to_vcard_text(card, 0, &err);
    assert_non_null(v1);
    json_t *back = jscontact_from_vcard_text(v1, strlen(v1), &err);
    assert_non_null(back);
    if (!tu_cards_equal(json_array_get(back, 0), card, base))
        fprintf(stderr, "%s: vCard was\n%s", base, v1);
    assert_true(tu_cards_equal(json_array_get(back, 0), card, base));
    /* and stable: the second vCard equals the first */
    char *v2 = jscontact_to_vcard_text(json_array_get(back, 0), 0, &err);
    assert_non_null(v2);
    assert_string_equal(v1, v2);

    /* 3.0: parses back, no 4.0-only parameters */
    char *v3 = jscontact_to_vcard_text(card, JSCONTACT_VCARD3, &err);
    assert_non_null(v3);
    assert_non_null(strstr(v3, "VERSION:3.0\r\n"));
    vcard *cards;
    size_t n;
    assert_int_equal(vcard_parse(v3, strlen(v3), &cards, &n, &err), 0);
    for (size_t i = 0; i < cards[0].nprops; i++)
        for (const char *const *p = v4_params; *p; p++) {
            if (vcard_param_get(&cards[0].props[i], *p))
                fprintf(stderr, "%s: %s;%s in 3.0 output\n", base, cards[0].props[i].name, *p);
            assert_null(vcard_param_get(&cards[0].props[i], *p));
        }
    vcard_list_free(cards, n);

    free(v1);
    free(v2);
    free(v3);
    json_decref(back);
    json_decref(card);
    free(frag);
}

int main(void)
{
    return tu_run_figures("rfc9553_figures", FIG_DIR, ".json", 42, test_figure);
}
