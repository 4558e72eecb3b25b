/*
 * patch.c — JSON Pointer evaluation and PatchObject application (see patch.h).
 */
#include "formats/json/patch.h"

#include "formats/json/pointer.h"

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* RFC 6901 §4: an array index is "0" or digits without a leading zero. */
static int parse_index(const char *tok, size_t *idx)
{
    if (!*tok || (tok[0] == '0' && tok[1]))
        return -1;
    size_t v = 0;
    for (const char *p = tok; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000000)
            return -1;
        v = v * 10 + (size_t)(*p - '0');
    }
    *idx = v;
    return 0;
}

static json_t *eval(json_t *cur, const char *p, int depth)
{
    if (depth > 64)
        return NULL;
    if (*p == 0)
        return json_incref(cur);
    if (*p != '/')
        return NULL;
    p++;
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    const char *rest = p + len;
    char *tok = jptr_token_decode(p, len);
    if (!tok)
        return NULL;
    json_t *result = NULL;
    if (json_is_object(cur)) {
        json_t *v = json_object_get(cur, tok);
        if (v)
            result = eval(v, rest, depth + 1);
    } else if (json_is_array(cur)) {
        size_t idx;
        if (strcmp(tok, "*") == 0) {
            /* RFC 8620 §3.7: apply the rest to each item; flatten array results. */
            result = json_array();
            size_t i;
            json_t *item;
            json_array_foreach(cur, i, item)
            {
                json_t *r = eval(item, rest, depth + 1);
                if (!r) {
                    json_decref(result);
                    result = NULL;
                    break;
                }
                if (json_is_array(r))
                    json_array_extend(result, r);
                else
                    json_array_append(result, r);
                json_decref(r);
            }
        } else if (parse_index(tok, &idx) == 0 && idx < json_array_size(cur)) {
            result = eval(json_array_get(cur, idx), rest, depth + 1);
        }
    }
    free(tok);
    return result;
}

json_t *jpointer_eval(json_t *root, const char *pointer)
{
    return eval(root, pointer, 0);
}

/* Walks obj along all but the last token of path (no leading "/"); returns the
 * parent object and sets *last to the malloc'd final token, or NULL if the path
 * crosses an array, a missing member or a non-object. */
static json_t *patch_parent(json_t *obj, const char *path, char **last)
{
    json_t *cur = obj;
    const char *p = path;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        char *tok = jptr_token_decode(p, len);
        if (!tok)
            return NULL;
        if (!slash) {
            *last = tok;
            return cur;
        }
        json_t *next = json_object_get(cur, tok);
        free(tok);
        if (!json_is_object(next))
            return NULL; /* missing, or an array / scalar: §5.3 forbids both */
        cur = next;
        p = slash + 1;
    }
}

static int is_prefix_path(const char *a, const char *b)
{
    size_t n = strlen(a);
    return strncmp(a, b, n) == 0 && b[n] == '/';
}

int patch_apply(json_t *obj, json_t *patch, char **errpath)
{
    const char *key;
    json_t *value;
    if (!json_is_object(obj) || !json_is_object(patch))
        return -1;
    /* Validate everything first so a rejected patch changes nothing. */
    json_object_foreach(patch, key, value)
    {
        const char *bad = NULL;
        const char *k2;
        json_t *v2;
        if (*key == 0 || *key == '/')
            bad = key;
        json_object_foreach(patch, k2, v2)
        {
            if (!bad && k2 != key && is_prefix_path(key, k2))
                bad = k2;
        }
        char *last = NULL;
        if (!bad && !patch_parent(obj, key, &last))
            bad = key;
        free(last);
        if (bad) {
            if (errpath)
                *errpath = xstrdup(bad);
            return -1;
        }
    }
    json_object_foreach(patch, key, value)
    {
        char *last = NULL;
        json_t *parent = patch_parent(obj, key, &last);
        if (json_is_null(value))
            json_object_del(parent, last);
        else
            json_object_set(parent, last, value);
        free(last);
    }
    return 0;
}

static void diff_into(json_t *out, const char *prefix, json_t *from, json_t *to)
{
    const char *key;
    json_t *v;
    json_object_foreach(from, key, v)
    {
        if (!json_object_get(to, key)) {
            char *tok = jptr_token_escape(key);
            char *path = NULL;
            if (asprintf(&path, "%s%s", prefix, tok) < 0)
                abort();
            json_object_set_new(out, path, json_null());
            free(path);
            free(tok);
        }
    }
    json_object_foreach(to, key, v)
    {
        json_t *old = json_object_get(from, key);
        if (old && json_equal(old, v))
            continue;
        char *tok = jptr_token_escape(key);
        char *path = NULL;
        if (asprintf(&path, "%s%s", prefix, tok) < 0)
            abort();
        if (old && json_is_object(old) && json_is_object(v)) {
            char *sub = NULL;
            if (asprintf(&sub, "%s/", path) < 0)
                abort();
            diff_into(out, sub, old, v);
            free(sub);
        } else {
            json_object_set(out, path, v);
        }
        free(path);
        free(tok);
    }
}

json_t *patch_diff(json_t *from, json_t *to)
{
    json_t *out = json_object();
    diff_into(out, "", from, to);
    return out;
}
