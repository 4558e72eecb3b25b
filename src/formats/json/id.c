/*
 * id.c — the Id check of id.h.
 */
#include "formats/json/id.h"

#include <stddef.h>

int jid_valid(const char *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '-' ||
              c == '_'))
            return 0;
    }
    return n >= 1 && n <= 255;
}
