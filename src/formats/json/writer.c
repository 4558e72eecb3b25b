/*
 * writer.c — compact JSON output (see writer.h): strings are copied eight bytes at a
 * time while none needs escaping (RFC 8259 §7); raw placeholders are copied whole.
 */
#include "formats/json/writer.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void jwriter_text_free(char *s)
{
    json_free_t f;
    json_get_alloc_funcs(NULL, &f);
    if (s)
        f(s);
}

/* What each byte becomes in a JSON string (RFC 8259 §7): 0 for itself, else the letter
 * after the backslash ('u' for \u00XX). */
static const char json_escape[256] = {
    ['\0'] = 'u', [1] = 'u',    [2] = 'u',    [3] = 'u',     [4] = 'u',    [5] = 'u',
    [6] = 'u',    [7] = 'u',    ['\b'] = 'b', ['\t'] = 't',  ['\n'] = 'n', [11] = 'u',
    ['\f'] = 'f', ['\r'] = 'r', [14] = 'u',   [15] = 'u',    [16] = 'u',   [17] = 'u',
    [18] = 'u',   [19] = 'u',   [20] = 'u',   [21] = 'u',    [22] = 'u',   [23] = 'u',
    [24] = 'u',   [25] = 'u',   [26] = 'u',   [27] = 'u',    [28] = 'u',   [29] = 'u',
    [30] = 'u',   [31] = 'u',   ['"'] = '"',  ['\\'] = '\\',
};

/* 1 if one of the eight bytes in v needs escaping: a control character, '"' or '\\' (the
 * "has a byte less than" word tricks are exact as yes/no answers). */
static inline int word_needs_escape(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\');
    return (((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs ? 1 : 0;
}

/* Appends s[0..n) as a JSON string. jansson strings are valid UTF-8, so everything but the
 * bytes above is copied through. Room for the worst case is made first, then the text is
 * written in place, eight bytes at a time while none needs escaping. */
static void json_write_string(const char *s, size_t n, jbuf *b)
{
    static const char hex[] = "0123456789abcdef";
    if (n > (SIZE_MAX - 3) / 6)
        abort();
    if (b->len + 6 * n + 3 > b->cap)
        jbuf_grow(b, 6 * n + 2);
    char *w = b->s + b->len;
    *w++ = '"';
    size_t i = 0;
    while (i < n) {
        size_t stop = n;
        if (n - i >= 8) {
            uint64_t v;
            memcpy(&v, s + i, 8);
            if (!word_needs_escape(v)) {
                memcpy(w, s + i, 8);
                w += 8;
                i += 8;
                continue;
            }
            stop = i + 8;
        } else if (n >= 8) {
            /* The last bytes: the word ending at n overlaps what is written; if none of its
             * bytes needs escaping, those before i were copied as they are. */
            uint64_t v;
            memcpy(&v, s + n - 8, 8);
            if (!word_needs_escape(v)) {
                memcpy(w - (8 - (n - i)), s + n - 8, 8);
                w += n - i;
                break;
            }
        }
        for (; i < stop; i++) {
            unsigned char c = (unsigned char)s[i];
            char e = json_escape[c];
            if (!e) {
                *w++ = (char)c;
                continue;
            }
            *w++ = '\\';
            *w++ = e;
            if (e == 'u') {
                *w++ = '0';
                *w++ = '0';
                *w++ = hex[c >> 4];
                *w++ = hex[c & 15];
            }
        }
    }
    *w++ = '"';
    *w = 0;
    b->len = (size_t)(w - b->s);
}

/* Appends a JSON integer (what "%" JSON_INTEGER_FORMAT prints). */
static void json_write_integer(json_int_t v, jbuf *b)
{
    char tmp[24], *p = tmp + sizeof tmp;
    /* through unsigned: -INT64_MIN does not fit */
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    jbuf_add(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* ---- raw placeholders: an open-addressing set of node addresses per thread ---- */

static __thread json_t **raw_set;
static __thread size_t raw_cap, raw_count;

static size_t raw_slot(const json_t *j, size_t cap)
{
    uintptr_t h = (uintptr_t)j;
    h ^= h >> 17;
    h *= 0x9e3779b97f4a7c15u;
    return (size_t)(h >> 7) & (cap - 1);
}

static void raw_insert(json_t **set, size_t cap, json_t *j)
{
    size_t i = raw_slot(j, cap);
    while (set[i])
        i = (i + 1) & (cap - 1);
    set[i] = j;
}

json_t *jwriter_raw_new(const char *text, size_t n)
{
    json_t *j = json_stringn_nocheck(text, n);
    if (!j)
        return NULL;
    if (2 * (raw_count + 1) > raw_cap) { /* at most half full */
        size_t cap = raw_cap ? 2 * raw_cap : 64;
        json_t **set = calloc(cap, sizeof *set);
        if (!set)
            abort();
        for (size_t i = 0; i < raw_cap; i++)
            if (raw_set[i])
                raw_insert(set, cap, raw_set[i]);
        free(raw_set);
        raw_set = set;
        raw_cap = cap;
    }
    raw_insert(raw_set, raw_cap, json_incref(j));
    raw_count++;
    return j;
}

void jwriter_raw_clear(void)
{
    for (size_t i = 0; i < raw_cap; i++)
        json_decref(raw_set[i]);
    free(raw_set);
    raw_set = NULL;
    raw_cap = raw_count = 0;
}

static bool raw_has(const json_t *j)
{
    for (size_t i = raw_slot(j, raw_cap); raw_set[i]; i = (i + 1) & (raw_cap - 1))
        if (raw_set[i] == j)
            return true;
    return false;
}

static void json_write_rec(const json_t *j, jbuf *b, FILE *f)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        jbuf_add(b, "{", 1);
        int first = 1;
        for (void *it = json_object_iter((json_t *)j); it;
             it = json_object_iter_next((json_t *)j, it)) {
            if (!first)
                jbuf_add(b, ",", 1);
            first = 0;
            json_write_string(json_object_iter_key(it), json_object_iter_key_len(it), b);
            jbuf_add(b, ":", 1);
            json_write_rec(json_object_iter_value(it), b, f);
        }
        jbuf_add(b, "}", 1);
        break;
    }
    case JSON_ARRAY: {
        jbuf_add(b, "[", 1);
        size_t n = json_array_size(j);
        for (size_t i = 0; i < n; i++) {
            if (i)
                jbuf_add(b, ",", 1);
            json_write_rec(json_array_get(j, i), b, f);
            if (f && b->len > (1u << 18)) { /* stream large output in 256 KiB pieces */
                fwrite(b->s, 1, b->len, f);
                b->len = 0;
            }
        }
        jbuf_add(b, "]", 1);
        break;
    }
    case JSON_STRING:
        if (raw_count && raw_has(j))
            jbuf_add(b, json_string_value(j), json_string_length(j));
        else
            json_write_string(json_string_value(j), json_string_length(j), b);
        break;
    case JSON_INTEGER:
        json_write_integer(json_integer_value(j), b);
        break;
    case JSON_REAL: {
        char *s = json_dumps(j, JSON_ENCODE_ANY);
        jbuf_adds(b, s ? s : "0");
        jwriter_text_free(s);
        break;
    }
    case JSON_TRUE:
        jbuf_add(b, "true", 4);
        break;
    case JSON_FALSE:
        jbuf_add(b, "false", 5);
        break;
    default:
        jbuf_add(b, "null", 4);
    }
}

void jwriter_append(const json_t *j, jbuf *b)
{
    json_write_rec(j, b, NULL);
}

void jwriter_fwrite(const json_t *j, FILE *f)
{
    jbuf b = {0};
    json_write_rec(j, &b, f);
    if (b.len)
        fwrite(b.s, 1, b.len, f);
    free(b.s);
}
