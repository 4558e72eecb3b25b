/*
 * fuzz_vcard.c — libFuzzer target for the vCard parser and the JSContact
 * converters. For any input that parses as vCard:
 *   - every converted Card is valid (the converter never produces a bad Card);
 *   - Card → vCard 4.0 → Card gives the same Card (lossless, RFC 9555 §3.2.1
 *     JSPROP as the safety net), and the vCard text parses again;
 *   - Card → vCard 3.0 parses again.
 * Input that starts with '{' or '[' is also tried as JSContact JSON: if it is a
 * valid Card, the same round trip must hold.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test_jscontact_util.h"
#include "formats/jscontact/jscontact.h"

static void check_card(const json_t *card)
{
    char *err = NULL;
    json_t *msgs = NULL;
    if (jscontact_card_validate(card, NULL, &msgs)) {
        fprintf(stderr, "invalid Card from the converter: %s\n",
                json_string_value(json_array_get(msgs, 0)));
        abort();
    }
    json_decref(msgs);
    char *v4 = jscontact_to_vcard_text(card, 0, &err);
    if (!v4) {
        fprintf(stderr, "to vCard failed: %s\n", err);
        abort();
    }
    json_t *back = jscontact_from_vcard_text(v4, strlen(v4), &err);
    if (!back) {
        fprintf(stderr, "our vCard does not parse: %s\n%s", err, v4);
        abort();
    }
    json_t *b0 = json_array_get(back, 0);
    json_t *want = json_deep_copy(card), *got = json_deep_copy(b0);
    jscontact_card_normalise(want);
    jscontact_card_normalise(got);
    tu_sort_unordered(want); /* RFC 9553 §2.2.1.2: that order carries no meaning */
    tu_sort_unordered(got);
    if (!json_equal(want, got)) {
        char *a = json_dumps(want, JSON_INDENT(1) | JSON_SORT_KEYS);
        char *b = json_dumps(got, JSON_INDENT(1) | JSON_SORT_KEYS);
        fprintf(stderr, "round trip changed the Card\n--- want\n%s\n--- got\n%s\n--- vCard\n%s", a,
                b, v4);
        abort();
    }
    json_decref(want);
    json_decref(got);
    json_decref(back);
    free(v4);
    char *v3 = jscontact_to_vcard_text(card, JSCONTACT_VCARD3, &err);
    if (!v3)
        abort();
    json_t *b3 = jscontact_from_vcard_text(v3, strlen(v3), &err);
    if (!b3) {
        fprintf(stderr, "our vCard 3.0 does not parse: %s\n%s", err, v3);
        abort();
    }
    json_decref(b3);
    free(v3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *err = NULL;
    json_t *cards = jscontact_from_vcard_text((const char *)data, size, &err);
    free(err); /* the message of a refused input: malloc'd (char **err convention) */
    if (cards) {
        size_t i;
        json_t *c;
        json_array_foreach(cards, i, c) check_card(c);
        json_decref(cards);
    }
    if (size && (data[0] == '{' || data[0] == '[')) {
        json_t *j = json_loadb((const char *)data, size, 0, NULL);
        if (json_is_object(j) && jscontact_card_validate(j, NULL, NULL) == 0)
            check_card(j);
        json_decref(j);
    }
    return 0;
}
