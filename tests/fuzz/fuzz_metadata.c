/*
 * fuzz_metadata.c — libFuzzer target for the namespace keys and depth of object
 * metadata (draft-ietf-jmap-metadata-02 §2.1, issue 18): the input's first line is a
 * namespace identifier, the rest a JSON value. metadata_ns_kind must agree with a
 * second reading of the grammar written differently (a scan of the labels), and
 * metadata_depth with a depth counted without recursion; neither may crash on deep
 * or large input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jmap/metadata.h"

/* The grammar again: registered = [A-Za-z0-9_-]+ (no dot); domain = labels of
 * [A-Za-z0-9-], 1..63 octets, not starting or ending with '-', joined by '.', at
 * least two, 253 octets at most. */
static int kind_reference(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    if (!memchr(s, '.', n))
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
    if (n > 253)
        return 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        size_t len = i - start;
        const char *l = s + start;
        if (len == 0 || len > 63 || l[0] == '-' || l[len - 1] == '-')
            return 0;
        for (size_t k = 0; k < len; k++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", l[k]))
                return 0;
        start = i + 1;
    }
    return 2;
}

/* §2.1 depth with an explicit stack: each object counts one level, arrays none. */
static size_t depth_reference(json_t *root)
{
    struct item {
        json_t *v;
        size_t objects; /* objects on the path down to v, v included */
    } *stack = malloc(sizeof *stack * 64);
    size_t top = 0, best = 0, cap = 64;
    stack[top++] = (struct item){root, json_is_object(root)};
    while (top) {
        struct item it = stack[--top];
        best = it.objects > best ? it.objects : best;
        const char *k;
        size_t i;
        json_t *x;
        if (json_is_object(it.v)) {
            json_object_foreach(it.v, k, x)
            {
                if (top == cap)
                    stack = realloc(stack, sizeof *stack * (cap *= 2));
                stack[top++] = (struct item){x, it.objects + json_is_object(x)};
            }
        } else if (json_is_array(it.v)) {
            json_array_foreach(it.v, i, x)
            {
                if (top == cap)
                    stack = realloc(stack, sizeof *stack * (cap *= 2));
                stack[top++] = (struct item){x, it.objects + json_is_object(x)};
            }
        }
    }
    free(stack);
    return best ? best : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    size_t klen = nl ? (size_t)(nl - (const char *)data) : size;
    char *key = malloc(klen + 1);
    memcpy(key, data, klen);
    key[klen] = 0;
    if (strlen(key) == klen) { /* a NUL inside is not a JSON string jmapd would pass */
        int got = metadata_ns_kind(key), want = kind_reference(key, klen);
        if (got != want) {
            fprintf(stderr, "namespace kind of '%s': %d, grammar says %d\n", key, got, want);
            abort();
        }
    }
    free(key);
    if (!nl)
        return 0;
    json_error_t e;
    json_t *v = json_loadb(nl + 1, size - klen - 1, JSON_DECODE_ANY, &e);
    if (!v)
        return 0;
    size_t got = metadata_depth(v), want = depth_reference(v);
    if (want < 900 && got != want) {
        fprintf(stderr, "depth %zu, counted %zu\n", got, want);
        abort();
    }
    json_decref(v);
    return 0;
}
