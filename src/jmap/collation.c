/*
 * collation.c — see collation.h. RFC 5051 i;unicode-casemap: each string is case
 * folded and then normalised to NFKD, and the results compared octet by octet.
 */
#include "jmap/collation.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "util/util.h"

bool collation_known(const char *name)
{
    return strcmp(name, "i;ascii-numeric") == 0 || strcmp(name, "i;ascii-casemap") == 0 ||
           strcmp(name, "i;octet") == 0 || strcmp(name, "i;unicode-casemap") == 0;
}

char *collation_casemap_key(const char *s)
{
    UErrorCode err = U_ZERO_ERROR;
    int32_t n = 0;
    u_strFromUTF8(NULL, 0, &n, s, -1, &err);
    err = U_ZERO_ERROR;
    UChar *u = xmalloc(sizeof(UChar) * (size_t)(n + 1));
    u_strFromUTF8(u, n + 1, NULL, s, -1, &err);
    if (U_FAILURE(err)) {
        free(u);
        return xstrdup(s);
    }
    UChar *folded = xmalloc(sizeof(UChar) * (size_t)(n * 3 + 1));
    err = U_ZERO_ERROR;
    int32_t fn = u_strFoldCase(folded, n * 3 + 1, u, n, U_FOLD_CASE_DEFAULT, &err);
    free(u);
    const UNormalizer2 *nfkd = unorm2_getNFKDInstance(&err);
    int32_t cap = fn * 4 + 1;
    UChar *norm = xmalloc(sizeof(UChar) * (size_t)cap);
    int32_t nn = U_SUCCESS(err) ? unorm2_normalize(nfkd, folded, fn, norm, cap, &err) : 0;
    free(folded);
    if (U_FAILURE(err)) {
        free(norm);
        return xstrdup(s);
    }
    int32_t out_len = 0;
    err = U_ZERO_ERROR;
    u_strToUTF8(NULL, 0, &out_len, norm, nn, &err);
    char *out = xmalloc((size_t)out_len + 1);
    err = U_ZERO_ERROR;
    u_strToUTF8(out, out_len + 1, NULL, norm, nn, &err);
    free(norm);
    out[out_len] = 0;
    return out;
}

/* RFC 4790 §9.1 i;ascii-numeric: the leading digits as a number; strings without
 * leading digits sort after all numbers and equal to each other. */
static int ascii_numeric(const char *a, const char *b)
{
    bool da = *a >= '0' && *a <= '9', db = *b >= '0' && *b <= '9';
    if (!da || !db)
        return da ? -1 : db ? 1 : 0;
    while (*a == '0')
        a++;
    while (*b == '0')
        b++;
    size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
    if (la != lb)
        return la < lb ? -1 : 1;
    return strncmp(a, b, la);
}

int collation_compare(const char *name, const char *a, const char *b)
{
    if (!name || strcmp(name, "i;unicode-casemap") == 0) {
        char *ka = collation_casemap_key(a), *kb = collation_casemap_key(b);
        int c = strcmp(ka, kb);
        free(ka);
        free(kb);
        return c;
    }
    if (strcmp(name, "i;ascii-casemap") == 0)
        return strcasecmp(a, b);
    if (strcmp(name, "i;ascii-numeric") == 0)
        return ascii_numeric(a, b);
    return strcmp(a, b);
}

bool collation_contains(const char *haystack, const char *needle)
{
    char *h = collation_casemap_key(haystack), *n = collation_casemap_key(needle);
    bool found = strstr(h, n) != NULL;
    free(h);
    free(n);
    return found;
}
