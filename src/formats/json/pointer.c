/*
 * pointer.c — JSON Pointer reference tokens (see pointer.h).
 */
#include "formats/json/pointer.h"

#include <stdlib.h>
#include <string.h>

void jptr_token_encode(jbuf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '~')
            jbuf_add(b, "~0", 2);
        else if (*p == '/')
            jbuf_add(b, "~1", 2);
        else
            jbuf_addc(b, *p);
    }
}

char *jptr_token_escape(const char *s)
{
    if (!strpbrk(s, "~/")) { /* nothing to escape: the common case */
        size_t n = strlen(s);
        char *r = malloc(n + 1);
        if (!r)
            abort();
        return memcpy(r, s, n + 1);
    }
    jbuf b = {0};
    jptr_token_encode(&b, s);
    return jbuf_take(&b);
}

char *jptr_token_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out)
        abort();
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '~') {
            if (i + 1 >= n || (s[i + 1] != '0' && s[i + 1] != '1')) {
                free(out);
                return NULL;
            }
            out[j++] = s[i + 1] == '0' ? '~' : '/';
            i++;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = 0;
    return out;
}
