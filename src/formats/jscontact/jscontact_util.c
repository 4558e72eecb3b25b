/*
 * jscontact_util.c — small JSContact building blocks shared by the validator and
 * both converters: PatchObject application (RFC 9553 §1.4.3), the Id type (§1.4.1),
 * language tag case (RFC 5646 §2.1.1) and JSON pointer tokens (RFC 6901).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/jscontact/jscontact.h"
#include "formats/jscontact/jscontact_internal.h"
#include "formats/json/id.h"
#include "formats/json/pointer.h"
#include "formats/json/writer.h"
#include "formats/vcard/vcard_internal.h"

char *jscontact_langtag_canon(const char *tag)
{
    /* RFC 5646 §2.1.1: language lower case, script title case, region upper case;
     * everything after a singleton (extensions, private use) lower case. */
    char *out = vc_strdup(tag);
    size_t idx = 0;
    int after_singleton = 0;
    char *p = out;
    while (*p) {
        char *e = p;
        while (*e && *e != '-')
            e++;
        size_t n = (size_t)(e - p);
        for (char *q = p; q < e; q++)
            *q = (char)tolower((unsigned char)*q);
        if (idx > 0 && !after_singleton) {
            if (n == 1)
                after_singleton = 1;
            else if (n == 4 && isalpha((unsigned char)*p))
                *p = (char)toupper((unsigned char)*p);
            else if (n == 2)
                for (char *q = p; q < e; q++)
                    *q = (char)toupper((unsigned char)*q);
        } else if (idx == 0 && n == 1) {
            after_singleton = 1; /* "x-..." private use, "i-..." grandfathered */
        }
        idx++;
        p = *e ? e + 1 : e;
    }
    return out;
}

/* ---- JSON pointer ------------------------------------------------------------ */

static int array_index(const char *tok, size_t *idx)
{
    if (!*tok || (tok[0] == '0' && tok[1]))
        return 0;
    size_t v = 0;
    for (const char *p = tok; *p; p++) {
        if (!isdigit((unsigned char)*p) || v > 100000000)
            return 0;
        v = v * 10 + (size_t)(*p - '0');
    }
    *idx = v;
    return 1;
}

/* Splits a patch path into decoded tokens. Returns the count; *toks malloc'd. */
static size_t path_tokens(const char *path, char ***toks)
{
    size_t n = 0, cap = 4;
    char **v = vc_malloc(cap * sizeof *v);
    const char *p = path;
    for (;;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n == cap) {
            cap *= 2;
            v = vc_realloc(v, cap * sizeof *v);
        }
        /* a bad escape stays as it is written (as it always did here) */
        char *tok = jptr_token_decode(p, len);
        v[n++] = tok ? tok : vc_strndup(p, len);
        if (!e)
            break;
        p = e + 1;
    }
    *toks = v;
    return n;
}

/* Applies one patch to root (modified in place). Returns 0, or -1 if invalid. */
static int patch_one(json_t *root, const char *path, json_t *value)
{
    char **toks;
    size_t n = path_tokens(path, &toks);
    int rc = -1;
    json_t *cur = root;
    for (size_t i = 0; i + 1 < n; i++) {
        size_t idx;
        if (json_is_object(cur))
            cur = json_object_get(cur, toks[i]);
        else if (json_is_array(cur) && array_index(toks[i], &idx))
            cur = json_array_get(cur, idx);
        else
            cur = NULL;
        if (!cur)
            goto done; /* §1.4.3 rule 2: parents must exist */
    }
    const char *last = toks[n - 1];
    if (json_is_object(cur)) {
        if (json_is_null(value))
            json_object_del(cur, last);
        else
            json_object_set(cur, last, value);
        rc = 0;
    } else if (json_is_array(cur)) {
        size_t idx;
        /* rule 1: no "-", no null at an index; rule 2: the member must exist */
        if (!array_index(last, &idx) || idx >= json_array_size(cur) || json_is_null(value))
            goto done;
        json_array_set(cur, idx, value);
        rc = 0;
    }
done:
    vcard_strv_free(toks, n);
    return rc;
}

json_t *jscontact_patch_apply(const json_t *root, const json_t *patch)
{
    if (!json_is_object(root) || !json_is_object(patch))
        return NULL;
    const char *k1, *k2;
    json_t *v;
    /* rule 3: no key may be a prefix path of another */
    json_object_foreach((json_t *)patch, k1, v)
    {
        size_t l1 = strlen(k1);
        json_t *v2;
        json_object_foreach((json_t *)patch, k2, v2)
        {
            if (k1 != k2 && strncmp(k1, k2, l1) == 0 && k2[l1] == '/')
                return NULL;
        }
    }
    json_t *copy = json_deep_copy(root);
    json_object_foreach((json_t *)patch, k1, v)
    {
        if (patch_one(copy, k1, v) < 0) {
            json_decref(copy);
            return NULL;
        }
    }
    return copy;
}

char *jscontact_uid_derive(const json_t *card)
{
    /* two FNV-style hashes of the canonical (sorted, compact) JSON text */
    char *text = json_dumps(card, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    uint64_t h1 = 1469598103934665603ULL, h2 = 0x9E3779B97F4A7C15ULL;
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        h1 = (h1 ^ *p) * 1099511628211ULL;
        h2 = (h2 ^ *p) * 0x100000001B3ULL + (h2 >> 29);
    }
    jwriter_text_free(text); /* jansson's free, which may not be free() */
    char uid[64];
    snprintf(uid, sizeof uid, "urn:uuid:%08x-%04x-5%03x-%04x-%012llx", (unsigned)(h1 >> 32),
             (unsigned)(h1 >> 16) & 0xFFFF, (unsigned)h1 & 0xFFF,
             (unsigned)(0x8000 | ((h2 >> 48) & 0x3FFF)),
             (unsigned long long)(h2 & 0xFFFFFFFFFFFFULL));
    return vc_strdup(uid);
}
