/*
 * text_match.c — text conditions of /query (text_match.h): match keys, search
 * terms, and the store terms that narrow a search by the full-text index.
 */
#include <string.h>

#include "jmap/collation.h"
#include "types/text_match.h"
#include "util/util.h"

char *text_match_key(const char *s)
{
    char *k = collation_casemap_key(s);
    size_t j = 0;
    for (size_t i = 0; k[i]; i++) {
        unsigned char c = (unsigned char)k[i], d = (unsigned char)k[i + 1];
        if ((c == 0xCC && d >= 0x80) || (c == 0xCD && d <= 0xAF)) { /* U+0300..U+036F */
            i++;
            continue;
        }
        k[j++] = k[i];
    }
    k[j] = 0;
    return k;
}

static bool word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

json_t *text_match_terms(const char *q)
{
    json_t *terms = json_array();
    const char *p = q;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        struct buf b = {0};
        bool phrase = *p == '"' || *p == '\'';
        if (phrase) {
            char quote = *p++;
            while (*p && *p != quote) {
                if (*p == '\\' && (p[1] == '"' || p[1] == '\'' || p[1] == '\\'))
                    p++;
                buf_append(&b, p++, 1);
            }
            if (*p)
                p++;
        } else {
            while (*p && *p != ' ' && *p != '\t' && *p != '\n')
                buf_append(&b, p++, 1);
        }
        if (b.len) {
            char *k = text_match_key(b.data);
            json_array_append_new(terms, json_pack("{s:s, s:b}", "t", k, "phrase", phrase));
            free(k);
        }
        buf_free(&b);
    }
    return terms;
}

static bool term_in(const char *key, json_t *term)
{
    const char *t = json_string_value(json_object_get(term, "t"));
    if (json_is_true(json_object_get(term, "phrase")))
        return strstr(key, t) != NULL;
    for (const char *p = strstr(key, t); p; p = strstr(p + 1, t))
        if (p == key || !word_char((unsigned char)p[-1]) || !word_char((unsigned char)*t))
            return true;
    return false;
}

bool text_match_all(const char *key, json_t *terms)
{
    size_t i;
    json_t *t;
    json_array_foreach(terms, i, t)
    {
        if (!term_in(key, t))
            return false;
    }
    return true;
}

void text_match_store_terms(json_t *terms, int field, struct store_text_term **out, size_t *n)
{
    size_t j;
    json_t *t;
    json_array_foreach(terms, j, t)
    {
        const char *s = json_string_value(json_object_get(t, "t"));
        bool any = false;
        for (const char *p = s; *p && !any; p++)
            any = word_char((unsigned char)*p);
        if (!any)
            continue;
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        /* every word must start a word of the field; the exact matcher checks phrases */
        (*out)[(*n)++] = (struct store_text_term){s, field, false, true};
    }
}
