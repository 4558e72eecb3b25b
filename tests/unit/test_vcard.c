/*
 * test_vcard.c — the vCard parser and writer (formats/vcard/vcard.h): RFC 6350 §3.2
 * unfolding and folding, §3.3 content lines, groups and parameters, §3.4 escaping,
 * RFC 6868 caret encoding, vCard 3.0/2.1 transfer encodings and charsets, producer
 * quirks, and errors that name their line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/vcard/vcard.h"

static vcard *parse_ok(const char *text, size_t *n)
{
    vcard *cards;
    char *err = NULL;
    int rc = vcard_parse(text, strlen(text), &cards, n, &err);
    if (rc)
        fprintf(stderr, "unexpected error: %s\n", err);
    assert_int_equal(rc, 0);
    return cards;
}

static void parse_fails(const char *text, const char *want)
{
    vcard *cards;
    size_t n;
    char *err = NULL;
    assert_int_equal(vcard_parse(text, strlen(text), &cards, &n, &err), -1);
    if (!strstr(err, want))
        fprintf(stderr, "error was: %s\n", err);
    assert_non_null(strstr(err, want));
    free(err);
}

static const vcard_prop *find(const vcard *c, const char *name)
{
    for (size_t i = 0; i < c->nprops; i++)
        if (!strcmp(c->props[i].name, name))
            return &c->props[i];
    return NULL;
}

static void test_unfold_crlf_and_lf(void **state)
{
    size_t n;
    vcard *c = parse_ok("BEGIN:VCARD\r\nVERSION:4.0\r\nNOTE:This is a long\r\n  description\r\n\t"
                        "that exists\r\nFN:A\nEND:VCARD\r\n",
                        &n);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].version, 40);
    /* RFC 6350 §3.2: CRLF + one white space character are removed */
    assert_string_equal(find(&c[0], "NOTE")->value, "This is a long descriptionthat exists");
    assert_string_equal(find(&c[0], "FN")->value, "A");
    vcard_list_free(c, n);
}

static void test_group_params_quotes(void **state)
{
    size_t n;
    vcard *c = parse_ok("BEGIN:VCARD\r\nVERSION:4.0\r\nitem1.TEL;TYPE=\"voice,home\";PREF=1;"
                        "X-A=\"a:b;c\",d:tel:+1\r\nEND:VCARD\r\n",
                        &n);
    const vcard_prop *p = &c[0].props[0];
    assert_string_equal(p->group, "item1");
    assert_string_equal(p->name, "TEL");
    assert_string_equal(p->value, "tel:+1");
    assert_true(vcard_param_has(p, "type", "home"));
    assert_true(vcard_param_has(p, "TYPE", "VOICE"));
    assert_false(vcard_param_has(p, "TYPE", "work"));
    assert_string_equal(vcard_param_first(p, "PREF"), "1");
    const vcard_param *x = vcard_param_get(p, "x-a");
    assert_int_equal(x->nvalues, 2);
    assert_string_equal(x->values[0], "a:b;c");
    assert_string_equal(x->values[1], "d");
    vcard_list_free(c, n);
}

static void test_caret_encoding(void **state)
{
    /* RFC 6868 §3 */
    size_t n;
    vcard *c = parse_ok("BEGIN:VCARD\r\nVERSION:4.0\r\nADR;LABEL=\"1 Main St^nSpringfield ^'"
                        "x^' ^^ ^a\":;;;;;;\r\nEND:VCARD\r\n",
                        &n);
    assert_string_equal(vcard_param_first(&c[0].props[0], "LABEL"),
                        "1 Main St\nSpringfield \"x\" ^ ^a");
    char *out = vcard_write(c, n, 0);
    assert_non_null(strstr(out, "LABEL=\"1 Main St^nSpringfield ^'x^' ^^ ^^a\""));
    free(out);
    vcard_list_free(c, n);
}

static void test_value_escaping(void **state)
{
    char *u = vcard_value_unescape("a\\,b\\;c\\nd\\\\e\\Nf\\x", 19);
    assert_string_equal(u, "a,b;c\nd\\e\nf\\x");
    free(u);
    char *e = vcard_value_escape("a,b;c\nd\\e", 1);
    assert_string_equal(e, "a\\,b\\;c\\nd\\\\e");
    free(e);
    /* RFC 6350 §3.4: a comma is escaped in every value, a semicolon only in a field
     * of a compound property ("in all other cases, escaping MUST NOT be used") */
    e = vcard_value_escape("a,b;c\\d", 0);
    assert_string_equal(e, "a\\,b;c\\\\d");
    free(e);
    char **parts;
    size_t np;
    vcard_value_split("Doe;Jane\\;x;;a,b", ';', &parts, &np);
    assert_int_equal(np, 4);
    assert_string_equal(parts[0], "Doe");
    assert_string_equal(parts[1], "Jane\\;x");
    assert_string_equal(parts[2], "");
    assert_string_equal(parts[3], "a,b");
    vcard_strv_free(parts, np);
}

static void test_v3_quoted_printable_charset(void **state)
{
    size_t n;
    /* vCard 2.1 as old Outlook writes it: bare TYPE values, QP with soft breaks,
     * CHARSET */
    vcard *c = parse_ok("BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:"
                        "M=C3=BCller;J=\r\n=C3=BCrgen\r\nTEL;WORK;VOICE:+49 1\r\n"
                        "NOTE;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Gr=FC=DFe\r\n"
                        "END:VCARD\r\n",
                        &n);
    assert_int_equal(c[0].version, 30);
    const vcard_prop *nn = find(&c[0], "N");
    assert_string_equal(nn->value, "M\xc3\xbcller;J\xc3\xbcrgen");
    assert_null(vcard_param_get(nn, "ENCODING"));
    assert_null(vcard_param_get(nn, "CHARSET"));
    const vcard_prop *tel = find(&c[0], "TEL");
    assert_true(vcard_param_has(tel, "TYPE", "work"));
    assert_true(vcard_param_has(tel, "TYPE", "voice"));
    assert_string_equal(find(&c[0], "NOTE")->value, "Gr\xc3\xbc\xc3\x9f"
                                                    "e");
    vcard_list_free(c, n);
}

/* A soft line break belongs to quoted-printable only: the word inside another parameter's
 * value does not join lines, nor does anything in a 4.0 card (RFC 6350 has no ENCODING). */
static void test_qp_soft_break_only_when_announced(void **state)
{
    size_t n;
    vcard *c = parse_ok("BEGIN:VCARD\r\nVERSION:2.1\r\nNOTE;QUOTED-PRINTABLE:a=\r\nb\r\n"
                        "X-A;X-E=QUOTED-PRINTABLE:c=\r\nX-B:d\r\nEND:VCARD\r\n",
                        &n);
    assert_string_equal(find(&c[0], "NOTE")->value, "ab");
    assert_string_equal(find(&c[0], "X-A")->value, "c=");
    assert_string_equal(find(&c[0], "X-B")->value, "d");
    vcard_list_free(c, n);
    c = parse_ok("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\n"
                 "X-A;ENCODING=QUOTED-PRINTABLE:c=\r\nEND:VCARD\r\n",
                 &n);
    assert_int_equal(n, 1);
    assert_non_null(find(&c[0], "X-A"));
    vcard_list_free(c, n);
}

static void test_v3_base64(void **state)
{
    size_t n;
    vcard *c = parse_ok("BEGIN:VCARD\r\nVERSION:3.0\r\nPHOTO;ENCODING=BASE64;TYPE=JPEG:\r\n"
                        " /9j/4AAQ\r\n SkZJRg==\r\nEND:VCARD\r\n",
                        &n);
    const vcard_prop *p = find(&c[0], "PHOTO");
    assert_string_equal(p->value, "/9j/4AAQSkZJRg==");
    assert_string_equal(vcard_param_first(p, "ENCODING"), "b");
    vcard_list_free(c, n);
}

static void test_latin1_without_charset(void **state)
{
    size_t n;
    /* 3.0 without CHARSET in a legacy code page: read as Windows-1252 */
    vcard *c = parse_ok("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ren\xe9 \x80\r\nEND:VCARD\r\n", &n);
    assert_string_equal(find(&c[0], "FN")->value, "Ren\xc3\xa9 \xe2\x82\xac");
    vcard_list_free(c, n);
    /* in 4.0 that is an error (RFC 6350 §3.1: UTF-8 only) */
    parse_fails("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ren\xe9\r\nEND:VCARD\r\n",
                "line 3: value is not valid UTF-8");
}

static void test_several_cards_and_bom(void **state)
{
    size_t n;
    vcard *c = parse_ok("\xEF\xBB\xBF"
                        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD\r\n\r\n"
                        "begin:vcard\r\nversion:3.0\r\nfn:B\r\nend:vcard\r\n",
                        &n);
    assert_int_equal(n, 2);
    assert_string_equal(find(&c[1], "FN")->value, "B");
    assert_int_equal(c[1].version, 30);
    assert_int_equal(c[1].lineno, 6);
    vcard_list_free(c, n);
}

static void test_errors_name_the_line(void **state)
{
    parse_fails("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nthis is garbage\r\nEND:VCARD\r\n",
                "line 4: expected ':' or ';'");
    parse_fails("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\n",
                "missing END:VCARD for the vCard of line 1");
    parse_fails("FN:A\r\n", "line 1: expected BEGIN:VCARD");
    parse_fails("", "no BEGIN:VCARD");
    parse_fails("BEGIN:VCARD\r\nVERSION:5.0\r\nEND:VCARD\r\n", "line 2: unsupported vCard VERSION");
    parse_fails("BEGIN:VCARD\r\nVERSION:4.0\r\nTEL;TYPE=\"home:+1\r\nEND:VCARD\r\n",
                "line 3: unterminated quoted parameter value");
    parse_fails("BEGIN:VCARD\r\nVERSION:4.0\r\n:novalue\r\nEND:VCARD\r\n",
                "line 3: expected a property name");
    parse_fails("BEGIN:VCARD\r\nVERSION:4.0\r\nBEGIN:VCARD\r\nEND:VCARD\r\n", "line 3: nested");
    parse_fails("BEGIN:VCARD\r\nVERSION:4.0\r\nNOTE:a\x01z\r\nEND:VCARD\r\n",
                "line 3: control character");
    parse_fails("BEGIN:VCARD\r\nVERSION:4.0\r\na.b.FN:x\r\nEND:VCARD\r\n",
                "line 3: malformed property group");
    parse_fails("BEGIN:VCARD\r\nVERSION:4.0\r\nFN;=x:y\r\nEND:VCARD\r\n",
                "line 3: malformed parameter");
}

static void test_property_limit(void **state)
{
    size_t cap = 64 + (VCARD_MAX_PROPS + 1) * 8;
    char *text = malloc(cap), *o = text;
    o += sprintf(o, "BEGIN:VCARD\r\nVERSION:4.0\r\n");
    for (int i = 0; i <= VCARD_MAX_PROPS; i++)
        o += sprintf(o, "FN:x\r\n");
    sprintf(o, "END:VCARD\r\n");
    char want[64];
    snprintf(want, sizeof want, "line %d: more than %d properties", VCARD_MAX_PROPS + 3,
             VCARD_MAX_PROPS);
    parse_fails(text, want);
    free(text);
}

static void test_write_folds_utf8(void **state)
{
    vcard c = {0};
    c.version = 40;
    /* 40 two-byte characters: 80 octets of value, must fold and never split one */
    char val[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(val, "\xc3\xa9");
    vcard_prop *p = vcard_prop_add(&c, "g1", "note", val);
    vcard_param_add(p, "X-Q", "a;b");
    vcard_param_add(p, "TYPE", "home");
    vcard_param_add(p, "TYPE", "work");
    char *out = vcard_write(&c, 1, 0);
    assert_non_null(
        strstr(out, "BEGIN:VCARD\r\nVERSION:4.0\r\ng1.NOTE;X-Q=\"a;b\";TYPE=home,work:"));
    /* every physical line at most 75 octets, and each a valid UTF-8 string */
    const char *s = out;
    while (*s) {
        const char *e = strstr(s, "\r\n");
        assert_non_null(e);
        assert_true(e - s <= 75);
        const unsigned char *f = (const unsigned char *)s;
        assert_false((f[0] == ' ' ? f[1] : f[0]) >= 0x80 && (f[0] == ' ' ? f[1] : f[0]) < 0xC0);
        s = e + 2;
    }
    /* and it reads back the same */
    vcard *back;
    size_t n;
    char *err = NULL;
    assert_int_equal(vcard_parse(out, strlen(out), &back, &n, &err), 0);
    assert_string_equal(back[0].props[0].value, val);
    assert_string_equal(vcard_param_get(&back[0].props[0], "X-Q")->values[0], "a;b");
    vcard_list_free(back, n);
    free(out);
    vcard_free(&c);
}

static void test_write_v3_params(void **state)
{
    vcard c = {0};
    vcard_prop *p = vcard_prop_add(&c, NULL, "ADR", ";;x;;;;");
    vcard_param_add(p, "X-LABEL", "say \"hi\"\nbye");
    char *out = vcard_write(&c, 1, VCARD_WRITE_V3);
    /* RFC 2426 has no caret escapes: the quote and the newline cannot be kept */
    assert_non_null(strstr(out, "VERSION:3.0\r\nADR;X-LABEL=\"say 'hi' bye\":;;x;;;;\r\n"));
    free(out);
    vcard_free(&c);
}

static void test_param_edit(void **state)
{
    vcard c = {0};
    vcard_prop *p = vcard_prop_add(&c, NULL, "EMAIL", "a@b");
    vcard_param_set(p, "PREF", "1");
    vcard_param_set(p, "pref", "2");
    assert_int_equal(p->nparams, 1);
    assert_string_equal(vcard_param_first(p, "PREF"), "2");
    vcard_param_del(p, "PREF");
    assert_null(vcard_param_get(p, "PREF"));
    vcard_param_del(p, "PREF");
    vcard_free(&c);
}

static void test_parsed_card_edit(void **state)
{
    /* a parsed property lives in the card's block; editing it gives it its own copies */
    size_t n;
    vcard *c = parse_ok("BEGIN:VCARD\r\nVERSION:4.0\r\ng.tel;type=home;X-A=1,2:tel:+1\r\n"
                        "NOTE:x\r\nEND:VCARD\r\n",
                        &n);
    vcard_prop *p = &c[0].props[0];
    assert_int_equal(p->id, VC_TEL);
    assert_int_equal(p->params[0].id, VC_TYPE);
    assert_int_equal(p->params[1].id, VC_OTHER);
    vcard_param_add(p, "TYPE", "work");
    vcard_param_set(p, "x-a", "3");
    vcard_param_del(p, "NOPE");
    assert_true(vcard_param_has(p, "TYPE", "work"));
    assert_true(vcard_param_has_id(p, VC_TYPE, "home"));
    assert_string_equal(vcard_param_first(p, "X-A"), "3");
    assert_string_equal(p->params[1].name, "X-A");
    vcard_prop_rename(&c[0].props[1], "x-note");
    assert_string_equal(c[0].props[1].name, "X-NOTE");
    assert_int_equal(c[0].props[1].id, VC_OTHER);
    vcard_prop_rename(p, "email");
    assert_int_equal(p->id, VC_EMAIL);
    assert_string_equal(p->group, "g");
    assert_string_equal(p->value, "tel:+1");
    vcard_prop_add(&c[0], NULL, "FN", "A");
    char *out = vcard_write(c, n, 0);
    assert_non_null(strstr(out, "g.EMAIL;TYPE=home,work;X-A=3:tel:+1\r\nX-NOTE:x\r\nFN:A\r\n"));
    free(out);
    vcard_list_free(c, n);
}

static void test_large_card(void **state)
{
    /* more than one block of memory: many properties and a long value */
    size_t cap = 20000 + 300 * 40;
    char *text = malloc(cap), *o = text;
    o += sprintf(o, "BEGIN:VCARD\r\nVERSION:4.0\r\nNOTE:");
    for (int i = 0; i < 5000; i++)
        *o++ = (char)('a' + i % 26);
    o += sprintf(o, "\r\n");
    for (int i = 0; i < 300; i++)
        o += sprintf(o, "X-P%d;X-Q=%d:v%d\r\n", i, i, i);
    sprintf(o, "END:VCARD\r\n");
    size_t n;
    vcard *c = parse_ok(text, &n);
    assert_int_equal(c[0].nprops, 301);
    assert_int_equal(strlen(c[0].props[0].value), 5000);
    assert_string_equal(c[0].props[300].name, "X-P299");
    assert_string_equal(vcard_param_first(&c[0].props[300], "X-Q"), "299");
    assert_string_equal(c[0].props[300].value, "v299");
    vcard_list_free(c, n);
    free(text);
}

/* The hash of vcard_names.c, to rebuild its slot table. */
static unsigned name_hash(const char *s, size_t n)
{
    uint32_t h = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        h = h * 31 + ((unsigned char)s[i] & 0xDF);
    return (uint32_t)(h * 2654435761u) >> 24;
}

static void test_name_table(void **state)
{
    int ok = 1;
    for (int id = 1; id < VC_NAME_COUNT; id++) {
        const char *name = vcard_name_str((vcard_name_id)id);
        char lower[64];
        size_t n = strlen(name);
        for (size_t i = 0; i <= n; i++)
            lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
        if (vcard_name_lookup(name, n) != (vcard_name_id)id ||
            vcard_name_lookup(lower, n) != (vcard_name_id)id)
            ok = 0;
    }
    if (!ok) {
        /* a name was added: print the slot table for vcard_names.c */
        unsigned char slot[256] = {0};
        for (int id = 1; id < VC_NAME_COUNT; id++) {
            const char *name = vcard_name_str((vcard_name_id)id);
            unsigned k = name_hash(name, strlen(name));
            while (slot[k])
                k = (k + 1) & 255;
            slot[k] = (unsigned char)id;
        }
        for (int k = 0; k < 256; k++)
            fprintf(stderr, "%s%2d,%s", k % 16 ? " " : "    ", slot[k], k % 16 == 15 ? "\n" : "");
    }
    assert_true(ok);
    assert_int_equal(vcard_name_lookup("X-FOO", 5), VC_OTHER);
    assert_int_equal(vcard_name_lookup("TYP", 3), VC_OTHER);
    assert_int_equal(vcard_name_lookup("TYPE", 3), VC_OTHER);
    assert_int_equal(vcard_name_lookup("X_ABLABEL", 9), VC_OTHER);
    assert_int_equal(vcard_name_lookup("", 0), VC_OTHER);
    assert_null(vcard_name_str(VC_OTHER));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unfold_crlf_and_lf),
        cmocka_unit_test(test_group_params_quotes),
        cmocka_unit_test(test_caret_encoding),
        cmocka_unit_test(test_value_escaping),
        cmocka_unit_test(test_v3_quoted_printable_charset),
        cmocka_unit_test(test_qp_soft_break_only_when_announced),
        cmocka_unit_test(test_v3_base64),
        cmocka_unit_test(test_latin1_without_charset),
        cmocka_unit_test(test_several_cards_and_bom),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_property_limit),
        cmocka_unit_test(test_write_folds_utf8),
        cmocka_unit_test(test_write_v3_params),
        cmocka_unit_test(test_param_edit),
        cmocka_unit_test(test_parsed_card_edit),
        cmocka_unit_test(test_large_card),
        cmocka_unit_test(test_name_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
