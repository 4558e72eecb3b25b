/*
 * test_jscontact_convert.c — conversion rules beyond the RFC figures: what has
 * no JSContact form goes to vCardProps/vCardParams (RFC 9555 §2.15), what has no
 * vCard form to JSPROP (§3.2.1), invalid input never yields an invalid Card,
 * localizations and phonetics both ways, vCard 3.0 shapes in and out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "formats/jscontact/jscontact.h"
#include "test_jscontact_util.h"

/* Converts one vCard body (wrapped as 4.0 unless it has BEGIN) to a Card. */
static json_t *card_of(const char *body)
{
    char *text = tu_wrap_vcard(body, TEST_UID);
    char *err = NULL;
    json_t *cards = jscontact_from_vcard_text(text, strlen(text), &err);
    if (!cards)
        fprintf(stderr, "parse error: %s\n", err);
    assert_non_null(cards);
    free(text);
    json_t *c = json_incref(json_array_get(cards, 0));
    json_decref(cards);
    /* every Card the converter makes is valid */
    json_t *msgs = NULL;
    if (jscontact_card_validate(c, NULL, &msgs))
        fprintf(stderr, "invalid: %s\n", json_string_value(json_array_get(msgs, 0)));
    assert_int_equal(json_array_size(msgs), 0);
    json_decref(msgs);
    return c;
}

/* Card → vCard 4.0 text → Card must give the Card back; returns the text. */
static char *round_trip(const json_t *card)
{
    char *err = NULL;
    char *v = jscontact_to_vcard_text(card, 0, &err);
    if (!v)
        fprintf(stderr, "to vCard: %s\n", err);
    assert_non_null(v);
    json_t *back = jscontact_from_vcard_text(v, strlen(v), &err);
    assert_non_null(back);
    json_t *a = json_deep_copy(json_array_get(back, 0)), *b = json_deep_copy(card);
    jscontact_card_normalise(a);
    jscontact_card_normalise(b);
    tu_sort_unordered(a);
    tu_sort_unordered(b);
    if (!json_equal(a, b)) {
        char *sa = json_dumps(a, JSON_INDENT(1) | JSON_SORT_KEYS);
        char *sb = json_dumps(b, JSON_INDENT(1) | JSON_SORT_KEYS);
        fprintf(stderr, "round trip differs\n--- got\n%s\n--- want\n%s\n--- vCard\n%s", sa, sb, v);
        free(sa);
        free(sb);
    }
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    json_decref(back);
    return v;
}

static json_t *path(json_t *j, const char *p)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", p);
    for (char *t = strtok(buf, "/"); t && j; t = strtok(NULL, "/"))
        j = json_is_array(j) ? json_array_get(j, (size_t)atoi(t)) : json_object_get(j, t);
    return j;
}

static const char *pstr(json_t *j, const char *p)
{
    return json_string_value(path(j, p));
}

static void test_unknown_goes_to_vcardprops(void **state)
{
    json_t *c = card_of("X-FOO;X-BAR=1,2;VALUE=text:a\\,b\r\n"
                        "GENDER:F\r\nBDAY;VALUE=text:circa 1800\r\nBDAY:--04\r\n"
                        "KIND:not a kind\r\nLANG:not a language tag\r\n"
                        "MEMBER:urn:uuid:m1\r\nEMAIL;PREF=0;X-Y=z:a@b\r\n");
    json_t *vp = json_object_get(c, "vCardProps");
    char *s = json_dumps(vp, JSON_COMPACT);
    /* text values are unescaped, multi-valued parameters are arrays (RFC 7095) */
    assert_non_null(strstr(s, "[\"x-foo\",{\"x-bar\":[\"1\",\"2\"]},\"text\",\"a,b\"]"));
    assert_non_null(strstr(s, "[\"gender\",{},\"unknown\",\"F\"]"));
    assert_non_null(strstr(s, "[\"bday\",{},\"text\",\"circa 1800\"]"));
    assert_non_null(strstr(s, "[\"bday\",{},\"unknown\",\"--04\"]")); /* month only: §2.2.2 */
    assert_non_null(strstr(s, "\"kind\",{},\"unknown\",\"not a kind\"]"));
    assert_non_null(strstr(s, "\"lang\",{},\"unknown\",\"not a language tag\"]"));
    assert_non_null(strstr(s, "\"member\",{},\"unknown\",\"urn:uuid:m1\"]")); /* no KIND:group */
    free(s);
    assert_null(json_object_get(c, "kind"));
    assert_null(json_object_get(c, "members"));
    /* PREF=0 is not a pref (1..100): it stays a parameter */
    json_t *e = json_object_get(json_object_get(c, "emails"), "EMAIL-1");
    assert_null(json_object_get(e, "pref"));
    assert_string_equal(pstr(e, "vCardParams/pref"), "0");
    assert_string_equal(pstr(e, "vCardParams/x-y"), "z");
    free(round_trip(c));
    json_decref(c);
}

static void test_jsprop_invalid_patch_is_kept(void **state)
{
    /* §3.2.1: an invalid PatchObject is not applied; the JSPROPs are kept */
    json_t *c = card_of("FN:A\r\nJSPROP;JSPTR=\"phones/nope/x\":1\r\n"
                        "JSPROP;JSPTR=\"example.com:v\":[1]\r\n");
    assert_null(json_object_get(c, "example.com:v"));
    assert_int_equal(json_array_size(json_object_get(c, "vCardProps")), 2);
    free(round_trip(c));
    json_decref(c);
    /* a patch with an invalid value is invalid too (RFC 9553 §1.4.3 rule 4) */
    c = card_of("FN:A\r\nJSPROP;JSPTR=\"kind\":\"Individual\"\r\n");
    assert_null(json_object_get(c, "kind"));
    json_decref(c);
    /* a valid one applies, after everything else */
    c = card_of("FN:A\r\nJSPROP;JSPTR=\"/name/full\":\"B\"\r\n");
    assert_string_equal(pstr(c, "name/full"), "B");
    json_decref(c);
}

static void test_safety_net(void **state)
{
    /* values with no vCard form survive the trip through JSPROP */
    json_t *card =
        json_loads("{\"@type\":\"Card\",\"version\":\"2.0\",\"name\":{\"full\":\"\"},"
                   "\"anniversaries\":{\"w\":{\"kind\":\"wedding\",\"date\":{\"year\":2000},"
                   "\"place\":{\"full\":\"Paris\"}}},"
                   "\"emails\":{\"e\":{\"address\":\"a@b\",\"contexts\":{\"example.com:x\":true},"
                   "\"label\":\"multi\\nline\\u0001\"}},\"example.com:n\":{\"@type\":\"Foo\"},"
                   "\"relatedTo\":{\"x\":{\"relation\":{\"friend\":true},\"example.com:k\":1}},"
                   "\"members\":{\"urn:uuid:1\":true},\"kind\":\"group\"}",
                   0, NULL);
    assert_non_null(card);
    assert_int_equal(jscontact_card_validate(card, NULL, NULL), 0); /* 2.0: no uid */
    char *v = round_trip(card);
    /* RFC 9982: a 2.0 Card without uid needs no JSPROP for version or uid */
    assert_null(strstr(v, "JSPTR=\"version\""));
    assert_null(strstr(v, "JSPTR=\"uid\""));
    assert_null(strstr(v, "\r\nUID"));
    free(v);
    json_decref(card);
}

static void test_localizations_both_ways(void **state)
{
    json_t *card = json_loads(
        "{\"@type\":\"Card\",\"version\":\"1.0\",\"uid\":\"u\",\"language\":\"en\","
        "\"name\":{\"full\":\"Gabriel\"},\"titles\":{\"t1\":{\"name\":\"novelist\"}},"
        "\"addresses\":{\"a\":{\"components\":[{\"kind\":\"locality\",\"value\":\"Rome\"}]}},"
        "\"localizations\":{\"es\":{\"titles/t1/name\":\"escritor\",\"name/full\":\"Gabriel\","
        "\"addresses/a/components\":[{\"kind\":\"locality\",\"value\":\"Roma\"}]},"
        "\"it\":{\"addresses/a\":{\"components\":[{\"kind\":\"locality\",\"value\":\"Roma\"}],"
        "\"countryCode\":\"IT\"}}}}",
        0, NULL);
    assert_non_null(card);
    char *v = round_trip(card);
    char *u = v;
    /* RFC 9555 §2.3.11 in reverse: alternatives share ALTID, carry LANGUAGE */
    assert_non_null(strstr(u, "TITLE;PROP-ID=t1;ALTID="));
    assert_non_null(strstr(u, ";LANGUAGE=es:escritor\r\n"));
    assert_non_null(strstr(u, ";LANGUAGE=it:;;;Roma;;;;;;;;;;;;;;\r\n")); /* RFC 9554 ADR */
    free(v);
    json_decref(card);
}

static void test_phonetic_same_language(void **state)
{
    /* a PHONETIC N in the Card's language sets the phonetics directly (§2.3.15) */
    json_t *c = card_of("N;ALTID=1:Smith;John;;;;;\r\n"
                        "N;ALTID=1;PHONETIC=ipa:/smɪθ/;/ˈdʒɑːn/;;;;;\r\n");
    assert_string_equal(pstr(c, "name/phoneticSystem"), "ipa");
    assert_string_equal(pstr(c, "name/components/0/phonetic"), "/smɪθ/");
    assert_string_equal(pstr(c, "name/components/1/phonetic"), "/ˈdʒɑːn/");
    assert_null(json_object_get(c, "localizations"));
    char *v = round_trip(c);
    assert_non_null(strstr(v, "N;ALTID=1;PHONETIC=ipa:/smɪθ/;/ˈdʒɑːn/;;;;;\r\n"));
    free(v);
    json_decref(c);
}

static void test_jscomps_invalid_is_ignored(void **state)
{
    /* §3.3.1: an invalid JSCOMPS means isOrdered false; the parameter is kept */
    json_t *c = card_of("N;JSCOMPS=\";9\":Doe;Jane;;;;;\r\n");
    assert_null(path(c, "name/isOrdered"));
    assert_string_equal(pstr(c, "name/vCardParams/jscomps"), ";9");
    assert_string_equal(pstr(c, "name/components/0/value"), "Doe");
    json_decref(c);
    /* a count mismatch is invalid too */
    c = card_of("N;JSCOMPS=\";1\":Doe;Jane;;;;;\r\n");
    assert_null(path(c, "name/isOrdered"));
    json_decref(c);
}

static void test_tz_geo_groups(void **state)
{
    /* §2.8.2 UTC offsets; §2.8.3 same group joins the ADR */
    json_t *c = card_of("TZ:+0000\r\nTZ;VALUE=utc-offset:+0530\r\nTZ:Europe/Berlin\r\n"
                        "g.ADR:;;Street;City;;;\r\ng.GEO:geo:1,2\r\ng.TZ:-03:00\r\n");
    json_t *a = json_object_get(c, "addresses");
    char *s = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(strstr(s, "\"timeZone\":\"Etc/UTC\""));
    assert_non_null(strstr(s, "\"timeZone\":\"Europe/Berlin\""));
    assert_non_null(strstr(s, "\"coordinates\":\"geo:1,2\""));
    assert_non_null(strstr(s, "\"timeZone\":\"Etc/GMT+3\""));
    free(s);
    /* +0530 has minutes: no IANA name, so the property is kept as it was */
    s = json_dumps(json_object_get(c, "vCardProps"), JSON_COMPACT);
    assert_non_null(strstr(s, "[\"tz\",{},\"utc-offset\",\"+0530\"]"));
    free(s);
    json_decref(c);
}

/* Issue 12 §4.7, RFC 9982 §2, §3: a vCard without UID converts to a version "2.0"
 * Card without uid (no uid is generated); a UID converts as before. A store that needs
 * a uid (RFC 9610 §3) gets a stable one from jscontact_uid_derive. */
static void test_rfc9982_3_vcard_without_uid(void **state)
{
    const char *v = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\n";
    const char *w = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:1\r\nFN:B\r\nEND:VCARD\r\n";
    char *err = NULL;
    json_t *a = jscontact_from_vcard_text(v, strlen(v), &err);
    json_t *d = jscontact_from_vcard_text(w, strlen(w), &err);
    json_t *ca = json_array_get(a, 0), *cd = json_array_get(d, 0);
    assert_null(json_object_get(ca, "uid"));
    assert_string_equal(pstr(ca, "version"), "2.0");
    assert_int_equal(jscontact_card_validate(ca, NULL, NULL), 0);
    assert_string_equal(pstr(cd, "uid"), "urn:uuid:1");
    assert_string_equal(pstr(cd, "version"), "2.0");
    /* the Card without uid writes no UID and reads back the same, without JSPROP */
    char *t = round_trip(ca);
    assert_null(strstr(t, "UID"));
    assert_null(strstr(t, "JSPROP"));
    free(t);
    /* a 1.0 Card without uid is invalid; the same as 2.0 is valid (RFC 9982 §2) */
    json_t *one = json_pack("{s:s,s:s}", "@type", "Card", "version", "1.0");
    assert_int_equal(jscontact_card_validate(one, NULL, NULL), 1);
    json_object_set_new(one, "version", json_string("2.0"));
    assert_int_equal(jscontact_card_validate(one, NULL, NULL), 0);
    json_decref(one);
    /* jscontact_uid_derive: stable for the same Card, different for another */
    char *u1 = jscontact_uid_derive(ca), *u2 = jscontact_uid_derive(ca),
         *u3 = jscontact_uid_derive(cd);
    assert_int_equal(strncmp(u1, "urn:uuid:", 9), 0);
    assert_int_equal(strlen(u1), 45);
    assert_string_equal(u1, u2);
    assert_string_not_equal(u1, u3);
    free(u1);
    free(u2);
    free(u3);
    json_decref(a);
    json_decref(d);
}

static void test_vcard3_out(void **state)
{
    json_t *card = json_loads(
        "{\"@type\":\"Card\",\"version\":\"1.0\",\"uid\":\"urn:uuid:1\",\"kind\":\"group\","
        "\"members\":{\"urn:uuid:2\":true},\"name\":{\"components\":[{\"kind\":\"given\","
        "\"value\":\"Ann\"},{\"kind\":\"surname\",\"value\":\"Lee\"},{\"kind\":\"surname2\","
        "\"value\":\"Ho\"},{\"kind\":\"generation\",\"value\":\"II\"}],\"isOrdered\":true},"
        "\"phones\":{\"p\":{\"number\":\"tel:+1-555\",\"pref\":1,\"features\":{\"mobile\":true}}},"
        "\"media\":{\"m\":{\"kind\":\"photo\",\"uri\":\"data:image/png;base64,iVBO\"}},"
        "\"anniversaries\":{\"b\":{\"kind\":\"birth\",\"date\":{\"month\":4,\"day\":1}}},"
        "\"addresses\":{\"a\":{\"components\":[{\"kind\":\"number\",\"value\":\"1\"},"
        "{\"kind\":\"name\",\"value\":\"Main St\"},{\"kind\":\"locality\",\"value\":\"X\"}],"
        "\"full\":\"1 Main St\\nX\",\"coordinates\":\"geo:1,2\"}},"
        "\"onlineServices\":{\"o\":{\"service\":\"Mastodon\",\"uri\":\"https://m/@a\"}}}",
        0, NULL);
    assert_non_null(card);
    char *err = NULL;
    char *v = jscontact_to_vcard_text(card, JSCONTACT_VCARD3, &err);
    assert_non_null(v);
    static const char *const want[] = {
        "VERSION:3.0\r\n",
        "\r\nX-ADDRESSBOOKSERVER-KIND:group\r\n",
        "\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:2\r\n",
        "\r\nFN:Ann Lee Ho II\r\n",
        "\r\nN:Lee,Ho;Ann;;;II\r\n",              /* 5 components in 3.0 */
        "\r\nTEL;TYPE=cell,pref:+1-555\r\n",      /* no tel: URI, PREF as TYPE */
        "\r\nPHOTO;ENCODING=b;TYPE=PNG:iVBO\r\n", /* RFC 2426 inline binary */
        "\r\nBDAY;X-APPLE-OMIT-YEAR=1604:1604-04-01\r\n",
        "\r\nADR:;;1 Main St;X;;;\r\n", /* 7 components */
        "\r\nLABEL:1 Main St\\nX\r\n",
        "\r\nX-SOCIALPROFILE;TYPE=Mastodon:https://m/@a\r\n",
        NULL};
    for (const char *const *w = want; *w; w++) {
        if (!strstr(v, *w))
            fprintf(stderr, "missing %s in\n%s", *w, v);
        assert_non_null(strstr(v, *w));
    }
    assert_null(strstr(v, "PROP-ID"));
    assert_null(strstr(v, "JSCOMPS"));
    assert_null(strstr(v, "DERIVED"));
    free(v);
    json_decref(card);
}

/* RFC 2426 inline binary: a TYPE that cannot be a media type stays a parameter and the
 * data is application/octet-stream (a long non-ASCII TYPE was once cut mid-character,
 * leaving the media without its uri). */
static void test_inline_photo_type(void **state)
{
    json_t *c = card_of("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\n"
                        "PHOTO;ENCODING=b;TYPE=JPEG:/9j/\r\n"
                        "LOGO;ENCODING=b;TYPE=\xc3\xbf\xc3\xbf\xc3\xbf:AAAA\r\nEND:VCARD\r\n");
    json_t *media = json_object_get(c, "media");
    const char *k;
    json_t *m;
    int seen = 0;
    json_object_foreach(media, k, m)
    {
        const char *uri = json_string_value(json_object_get(m, "uri"));
        assert_non_null(uri);
        if (!strcmp(json_string_value(json_object_get(m, "kind")), "photo")) {
            assert_string_equal(uri, "data:image/jpeg;base64,/9j/");
        } else {
            assert_string_equal(uri, "data:application/octet-stream;base64,AAAA");
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(m, "vCardParams"), "type")),
                "\xc3\xbf\xc3\xbf\xc3\xbf");
        }
        seen++;
    }
    assert_int_equal(seen, 2);
    json_decref(c);
}

static void test_group_and_label_collision(void **state)
{
    /* labels get their own item groups, never one the Card already uses (§2.3.9) */
    json_t *card =
        json_loads("{\"@type\":\"Card\",\"version\":\"1.0\",\"uid\":\"u\","
                   "\"emails\":{\"e\":{\"address\":\"a@b\",\"vCardParams\":{\"group\":\"item1\"}}},"
                   "\"phones\":{\"p\":{\"number\":\"1\",\"label\":\"Lab\"}},"
                   "\"vCardProps\":[[\"x-abadr\",{\"group\":\"item1\"},\"unknown\",\"us\"]]}",
                   0, NULL);
    char *v = round_trip(card);
    assert_non_null(strstr(v, "item1.EMAIL"));
    assert_non_null(strstr(v, "item2.TEL"));
    assert_non_null(strstr(v, "item2.X-ABLABEL:Lab\r\n"));
    free(v);
    json_decref(card);
}

static void test_to_vcard_rejects_invalid(void **state)
{
    json_t *bad = json_loads("[{\"@type\":\"Card\",\"version\":\"1.0\",\"uid\":\"a\"},"
                             "{\"@type\":\"Card\",\"version\":\"1.0\",\"uid\":\"b\","
                             "\"phones\":{\"p\":{\"number\":5}}}]",
                             0, NULL);
    char *err = NULL;
    assert_null(jscontact_to_vcard_text(bad, 0, &err));
    assert_non_null(strstr(err, "card 1"));
    assert_non_null(strstr(err, "phones/p/number"));
    free(err);
    json_decref(bad);
}

/* Issue 19 §5, RFC 6350 §3.3: a JSContact string never becomes vCard syntax. A
 * personalInfo kind, a vCardProps name, a vCardParams name or group that is not
 * 1*(ALPHA / DIGIT / "-") is kept as JSPROP; the text parses back to the same Card. */
static void test_rfc6350_3_3_names_from_json_are_checked(void **state)
{
    static const char *const cards[] = {
        "\"personalInfo\":{\"pi2\":{\"kind\":\"VERSION:e\",\"value\":\"chemistry\","
        "\"level\":\"high\"}}",
        "\"personalInfo\":{\"p\":{\"kind\":\"example.com:sport\",\"value\":\"v\"}}",
        "\"vCardProps\":[[\"x-a:b;c\",{},\"unknown\",\"v\"],[\"x-ok\",{},\"unknown\",\"w\"]]",
        "\"emails\":{\"e\":{\"address\":\"a@b\",\"vCardParams\":{\"x-p;q=r:s\":\"1\","
        "\"group\":\"g.h:i\"}}}",
        "\"vCardProps\":[[\"x-q\",{\"a=b\":\"c\",\"group\":\"a b\"},\"unknown\",\"v\"]]",
    };
    for (size_t i = 0; i < sizeof cards / sizeof *cards; i++) {
        char buf[512];
        snprintf(buf, sizeof buf,
                 "{\"@type\":\"Card\",\"version\":\"1.0\",\"uid\":\"urn:uuid:1\",%s}", cards[i]);
        json_t *card = json_loads(buf, 0, NULL);
        assert_non_null(card);
        assert_int_equal(jscontact_card_validate(card, NULL, NULL), 0);
        char *v = round_trip(card);
        assert_null(strstr(v, "\r\nVERSION:E"));
        assert_non_null(strstr(v, "JSPROP"));
        /* only one VERSION line */
        assert_non_null(strstr(v, "\r\nVERSION:4.0\r\n"));
        assert_null(strstr(strstr(v, "\r\nVERSION:4.0") + 1, "\r\nVERSION"));
        free(v);
        json_decref(card);
    }
}

/* RFC 6350 §3.3 in the writer itself: whatever the model holds, no line breaks the
 * grammar (names checked, bad parameters and groups left out). */
static void test_rfc6350_3_3_writer_checks_names(void **state)
{
    vcard vc = {0};
    vc.version = 40;
    vcard_prop *p = vcard_prop_add(&vc, NULL, "FN", "A");
    vcard_param_add(p, "X-BAD;Y", "1");
    vcard_param_add(p, "X-GOOD", "2");
    p->group = strdup("g:h");
    vcard_prop_add(&vc, NULL, "VERSION:E;LEVEL=high", "x");
    vcard_prop_add(&vc, NULL, "X_UNDERSCORE", "x");
    char *text = vcard_write(&vc, 1, 0);
    assert_string_equal(text, "BEGIN:VCARD\r\nVERSION:4.0\r\nFN;X-GOOD=2:A\r\nEND:VCARD\r\n");
    free(text);
    vcard_free(&vc);
}

/* Issue 12 §4.1, RFC 6350 §3.4: TEXT values escape backslash, comma and newline;
 * the semicolon only in a field of a compound property (ORG), never in FN, NOTE,
 * DEATHPLACE, TITLE; the reader takes both forms. */
static void test_rfc6350_3_4_text_escaping(void **state)
{
    json_t *card = json_loads(
        "{\"@type\":\"Card\",\"version\":\"1.0\",\"uid\":\"urn:uuid:1\","
        "\"name\":{\"full\":\"Doe, Jane; Dr.\\\\x\"},"
        "\"notes\":{\"n\":{\"note\":\"a,b;c\\nd\"}},"
        "\"titles\":{\"t\":{\"name\":\"CEO, CTO; more\"}},"
        "\"organizations\":{\"o\":{\"name\":\"A;B, C\",\"units\":[{\"name\":\"U;1,2\"}]}},"
        "\"anniversaries\":{\"d\":{\"kind\":\"death\",\"date\":{\"@type\":\"PartialDate\","
        "\"year\":1900},\"place\":{\"full\":\"Paris, France; rue x\"}}}}",
        0, NULL);
    assert_non_null(card);
    char *v = round_trip(card);
    assert_non_null(strstr(v, "\r\nFN:Doe\\, Jane; Dr.\\\\x\r\n"));
    assert_non_null(strstr(v, ":a\\,b;c\\nd\r\n"));
    assert_non_null(strstr(v, "\r\nTITLE;PROP-ID=t:CEO\\, CTO; more\r\n"));
    assert_non_null(strstr(v, ":A\\;B\\, C;U\\;1\\,2\r\n"));
    assert_non_null(strstr(v, "\r\nDEATHPLACE;PROP-ID=d:Paris\\, France; rue x\r\n"));
    free(v);
    json_decref(card);
    /* the reader accepts the unescaped comma and the escaped semicolon as well */
    json_t *c = card_of("FN:Doe, Jane\\; Dr.\r\nNOTE:a\\;b,c\r\nDEATHPLACE:Paris, France\r\n");
    assert_string_equal(pstr(c, "name/full"), "Doe, Jane; Dr.");
    json_t *n = json_object_iter_value(json_object_iter(json_object_get(c, "notes")));
    assert_string_equal(json_string_value(json_object_get(n, "note")), "a;b,c");
    json_decref(c);
}

/* Issue 12 §4.2, RFC 9555 §2.1 as updated by RFC 9982, RFC 6350 §6.7.6: a uid that is
 * a URI is written as a URI value (no VALUE), anything else with VALUE=text. */
static void test_rfc9555_2_1_uid_uri_or_text(void **state)
{
    static const struct {
        const char *uid, *line;
    } cases[] = {
        {"urn:uuid:1", "\r\nUID:urn:uuid:1\r\n"},
        {"urn:x;y,z", "\r\nUID:urn:x;y,z\r\n"},
        {"https://example.com/c?a=1&b=%20", "\r\nUID:https://example.com/c?a=1&b=%20\r\n"},
        {"abc", "\r\nUID;VALUE=text:abc\r\n"},
        {"1:2", "\r\nUID;VALUE=text:1:2\r\n"},
        {"x:a b", "\r\nUID;VALUE=text:x:a b\r\n"},
        {"x:a\\,b", "\r\nUID;VALUE=text:x:a\\\\\\,b\r\n"},
        {"%zz:1", "\r\nUID;VALUE=text:%zz:1\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *card =
            json_pack("{s:s,s:s,s:s}", "@type", "Card", "version", "1.0", "uid", cases[i].uid);
        char *v = round_trip(card);
        if (!strstr(v, cases[i].line))
            fprintf(stderr, "uid %s:\n%s", cases[i].uid, v);
        assert_non_null(strstr(v, cases[i].line));
        free(v);
        json_decref(card);
    }
}

/* Issue 12 §4.3, RFC 9555 §3.2.1: no JSPROP for what N already says. Unordered name
 * components (RFC 9553 §2.2.1.2: their order carries no meaning) read back from N in
 * N order (RFC 9555 §2.5.5); a localization of members leaves MEMBER plain; a Title
 * without kind (default "title", RFC 9553 §2.2.5) is what TITLE says. */
static void test_rfc9555_3_2_1_no_jsprop_for_converted(void **state)
{
    json_t *card = json_loads(
        "{\"@type\":\"Card\",\"version\":\"1.0\",\"uid\":\"urn:uuid:1\","
        "\"name\":{\"full\":\"Jane Doe\",\"components\":[{\"kind\":\"given\",\"value\":\"Jane\"},"
        "{\"kind\":\"surname\",\"value\":\"Doe\"},{\"kind\":\"title\",\"value\":\"Dr.\"}]},"
        "\"addresses\":{\"a\":{\"components\":[{\"kind\":\"locality\",\"value\":\"Reston\"},"
        "{\"kind\":\"name\",\"value\":\"Oak St\"},{\"kind\":\"number\",\"value\":\"54321\"}]}}}",
        0, NULL);
    assert_non_null(card);
    char *v = round_trip(card);
    assert_non_null(strstr(v, "\r\nN:Doe;Jane;;Dr.;;;\r\n"));
    assert_null(strstr(v, "JSPROP"));
    free(v);
    json_decref(card);
    card =
        json_loads("{\"@type\":\"Card\",\"version\":\"1.0\",\"uid\":\"urn:uuid:3\","
                   "\"kind\":\"group\",\"members\":{\"urn:uuid:a\":true},\"localizations\":{\"de\":"
                   "{\"members/urn:uuid:a\":null,\"members/urn:uuid:b\":true}},"
                   "\"titles\":{\"t\":{\"name\":\"Boss\"}}}",
                   0, NULL);
    v = round_trip(card);
    assert_non_null(strstr(v, "\r\nMEMBER:urn:uuid:a\r\n"));
    assert_null(strstr(v, "JSPTR=\"titles"));
    assert_null(strstr(v, "MEMBER;"));
    assert_null(strstr(v, "JSPTR=\"members"));
    assert_null(strstr(v, "JSPTR=\"vCardProps\""));
    free(v);
    json_decref(card);
}

/* Issue 12 §4.4, RFC 9555 §2.15.1, §2.3.9: vCardProps entries keep every parameter,
 * PREF and the group included, both ways. */
static void test_rfc9555_2_15_1_vcardprops_keep_params(void **state)
{
    json_t *c = card_of("item3.X-FOO;PREF=1;X-A=b:v\r\nGENDER;PREF=2:M\r\n"
                        "item1.XML;PREF=1:<a/>\r\nX-ABC;TYPE=work,home;PREF=1;LANGUAGE=de:x\r\n");
    char *s = json_dumps(json_object_get(c, "vCardProps"), JSON_COMPACT);
    assert_non_null(strstr(s, "[\"x-foo\",{\"pref\":\"1\",\"x-a\":\"b\",\"group\":\"item3\"},"));
    assert_non_null(strstr(s, "[\"gender\",{\"pref\":\"2\"},"));
    assert_non_null(strstr(s, "[\"xml\",{\"pref\":\"1\",\"group\":\"item1\"},"));
    free(s);
    char *v = round_trip(c);
    assert_non_null(strstr(v, "\r\nitem3.X-FOO;PREF=1;X-A=b:v\r\n"));
    assert_non_null(strstr(v, "\r\nGENDER;PREF=2:M\r\n"));
    assert_non_null(strstr(v, "\r\nitem1.XML;PREF=1:<a/>\r\n"));
    assert_non_null(strstr(v, "\r\nX-ABC;TYPE=work,home;PREF=1;LANGUAGE=de:x\r\n"));
    assert_null(strstr(v, "JSPROP"));
    free(v);
    json_decref(c);
    /* an integer pref as a jCard producer may write it: PREF=1 on the line */
    c = json_loads("{\"@type\":\"Card\",\"version\":\"1.0\",\"uid\":\"urn:uuid:1\",\"vCardProps\":"
                   "[[\"x-foo\",{\"pref\":1,\"group\":\"item7\"},\"unknown\",\"v\"]]}",
                   0, NULL);
    v = round_trip(c);
    assert_non_null(strstr(v, "\r\nitem7.X-FOO;PREF=1:v\r\n"));
    free(v);
    json_decref(c);
}

/* Issue 12 §4.6, RFC 9554 §2.1, RFC 9555 §2.6.1, §3.3.1: an ordered Address puts each
 * component at its RFC 9554 position (apartment 8, number 10, street name 11) and
 * JSCOMPS points there; the street and extended address hold the combined copies. */
static void test_rfc9554_2_1_ordered_adr_positions(void **state)
{
    json_t *card =
        json_loads("{\"@type\":\"Card\",\"version\":\"1.0\",\"uid\":\"urn:uuid:1\",\"addresses\":{"
                   "\"b\":{\"components\":[{\"kind\":\"name\",\"value\":\"Oak St\"},"
                   "{\"kind\":\"locality\",\"value\":\"Reston\"}],\"isOrdered\":true},"
                   "\"c\":{\"components\":[{\"kind\":\"apartment\",\"value\":\"3\"},"
                   "{\"kind\":\"separator\",\"value\":\" \"},{\"kind\":\"number\",\"value\":\"1\"},"
                   "{\"kind\":\"name\",\"value\":\"Main St\"}],\"isOrdered\":true}}}",
                   0, NULL);
    assert_non_null(card);
    char *v = round_trip(card);
    assert_non_null(
        strstr(v, "ADR;JSCOMPS=\";11;3\";PROP-ID=b:;;Oak St;Reston;;;;;;;;Oak St;;;;;;\r\n"));
    assert_non_null(strstr(v,
                           "ADR;JSCOMPS=\";8;s, ;10;11\";PROP-ID=c:;3;1 Main St;;;;;;3;;1;Main St"
                           ";;;;;;\r\n"));
    assert_null(strstr(v, "JSPROP"));
    free(v);
    json_decref(card);
}

/* Issue 12 §4, RFC 9555 §2.3.11: a Card without language whose localizations change
 * name/full (or the name components alone, with a derived FN) converts to proper
 * ALTID/LANGUAGE alternatives, no JSPROP, and reads back equal; and the §2.3.11 figure
 * "Property without Language" gives no Card language. */
static void test_rfc9555_2_3_11_localized_name_without_language(void **state)
{
    (void)state;
    static const char *const cards[] = {
        "{\"@type\":\"Card\",\"version\":\"2.0\",\"uid\":\"u\",\"name\":{\"full\":\"Ivan Petrov\"},"
        "\"localizations\":{\"ru\":{\"name/full\":\"Иван Петров\"}}}",
        "{\"@type\":\"Card\",\"version\":\"2.0\",\"uid\":\"u\",\"name\":{\"full\":\"Ivan Petrov\"},"
        "\"localizations\":{\"ru\":{\"name/full\":\"Иван Петров\"},\"de\":{\"name/full\":"
        "\"Iwan Petrow\"}}}",
        "{\"@type\":\"Card\",\"version\":\"2.0\",\"uid\":\"u\",\"name\":{\"components\":"
        "[{\"kind\":\"given\",\"value\":\"Ivan\"}]},\"localizations\":{\"ru\":{\"name/components\":"
        "[{\"kind\":\"given\",\"value\":\"Иван\"}]}}}",
        "{\"@type\":\"Card\",\"version\":\"2.0\",\"uid\":\"u\",\"name\":{\"full\":\"Ivan\"},"
        "\"titles\":{\"t\":{\"name\":\"Boss\"}},\"localizations\":{\"fr\":{\"titles/t/name\":"
        "\"Patron\",\"name/full\":\"Yvan\"}}}",
        NULL};
    for (int i = 0; cards[i]; i++) {
        json_t *card = json_loads(cards[i], 0, NULL);
        assert_non_null(card);
        char *v = round_trip(card);
        if (strstr(v, "JSPROP")) {
            fprintf(stderr, "JSPROP in\n%s", v);
            fail();
        }
        assert_null(strstr(v, "\r\nLANGUAGE:"));
        free(v);
        json_decref(card);
    }
    /* the figure: FN without LANGUAGE, TITLE with and without */
    json_t *c = card_of("FN:John Doe\nTITLE;ALTID=1:Boss\nTITLE;ALTID=1;LANGUAGE=fr:Patron\n");
    assert_null(json_object_get(c, "language"));
    assert_null(json_object_get(c, "vCardProps"));
    const char *tid = NULL;
    json_t *t;
    json_object_foreach(json_object_get(c, "titles"), tid, t) break;
    assert_non_null(tid);
    char key[64];
    snprintf(key, sizeof key, "titles/%s/name", tid);
    assert_string_equal(json_string_value(json_object_get(path(c, "localizations/fr"), key)),
                        "Patron");
    assert_string_equal(pstr(c, "name/full"), "John Doe");
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_goes_to_vcardprops),
        cmocka_unit_test(test_jsprop_invalid_patch_is_kept),
        cmocka_unit_test(test_safety_net),
        cmocka_unit_test(test_localizations_both_ways),
        cmocka_unit_test(test_phonetic_same_language),
        cmocka_unit_test(test_jscomps_invalid_is_ignored),
        cmocka_unit_test(test_tz_geo_groups),
        cmocka_unit_test(test_rfc9982_3_vcard_without_uid),
        cmocka_unit_test(test_vcard3_out),
        cmocka_unit_test(test_inline_photo_type),
        cmocka_unit_test(test_group_and_label_collision),
        cmocka_unit_test(test_to_vcard_rejects_invalid),
        cmocka_unit_test(test_rfc6350_3_3_names_from_json_are_checked),
        cmocka_unit_test(test_rfc6350_3_3_writer_checks_names),
        cmocka_unit_test(test_rfc6350_3_4_text_escaping),
        cmocka_unit_test(test_rfc9555_2_1_uid_uri_or_text),
        cmocka_unit_test(test_rfc9555_3_2_1_no_jsprop_for_converted),
        cmocka_unit_test(test_rfc9555_2_15_1_vcardprops_keep_params),
        cmocka_unit_test(test_rfc9554_2_1_ordered_adr_positions),
        cmocka_unit_test(test_rfc9555_2_3_11_localized_name_without_language),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
