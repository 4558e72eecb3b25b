/*
 * vcard_names.c — the table of property and parameter names of vcard.h (VCARD_NAMES):
 * the parser looks every name up once, so that the conversion rules compare ids instead
 * of strings and find a property's handler by indexing.
 *
 * name_slot is an open-addressing hash of the table (hash as in name_hash; 0 is an empty
 * slot, since VC_OTHER is never in the table). test_vcard.c rebuilds it from the names
 * and prints the new table when a name is added.
 */
#include <stdint.h>
#include <string.h>

#include "formats/vcard/vcard.h"

static const char *const names[VC_NAME_COUNT] = {[VC_OTHER] = "",
#define VCARD_NAME_STR(id, name) [VC_##id] = name,
                                                 VCARD_NAMES(VCARD_NAME_STR)
#undef VCARD_NAME_STR
};

static const unsigned char name_slot[256] = {
    79, 0,  0,  0,  20, 35, 0,  0,  0,  0,  0,  0,  0,  58, 0,  0,  0,  18, 67, 0,  41, 32, 22, 69,
    44, 75, 0,  0,  0,  0,  0,  54, 46, 84, 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  50,
    0,  10, 0,  25, 28, 0,  0,  0,  0,  7,  0,  0,  0,  61, 0,  0,  0,  12, 80, 0,  0,  0,  0,  0,
    60, 0,  0,  77, 0,  0,  0,  0,  11, 34, 0,  52, 2,  39, 0,  0,  0,  13, 8,  74, 0,  49, 0,  0,
    15, 33, 0,  0,  0,  0,  0,  0,  0,  29, 0,  0,  0,  30, 0,  23, 36, 0,  0,  0,  0,  65, 0,  0,
    0,  88, 0,  0,  0,  27, 0,  0,  0,  0,  21, 0,  0,  0,  0,  0,  0,  1,  0,  0,  0,  0,  0,  0,
    0,  0,  0,  0,  0,  26, 0,  0,  0,  0,  0,  37, 0,  0,  40, 86, 0,  63, 0,  81, 57, 0,  85, 0,
    9,  72, 51, 31, 73, 70, 6,  48, 66, 5,  55, 78, 83, 89, 0,  71, 0,  19, 0,  0,  0,  45, 0,  0,
    0,  0,  87, 0,  0,  16, 0,  47, 38, 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  56, 0,  43,
    76, 82, 62, 17, 3,  0,  0,  0,  0,  42, 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  14, 0,  24,
    4,  0,  0,  0,  0,  0,  68, 0,  59, 0,  0,  0,  0,  64, 0,  53,
};

/* Case-insensitive for letters: & 0xDF folds a-z onto A-Z (other name characters map to
 * themselves or to control codes, the same for any input). */
static unsigned name_hash(const char *s, size_t n)
{
    uint32_t h = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        h = h * 31 + ((unsigned char)s[i] & 0xDF);
    return (uint32_t)(h * 2654435761u) >> 24;
}

/* True if the table's (upper-case) name is s[0..n), in any case. */
static int same_name(const char *name, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)name[i], b = (unsigned char)s[i];
        if (!a || (a != b && !(a >= 'A' && a <= 'Z' && a == (b & 0xDF))))
            return 0;
    }
    return name[n] == 0;
}

vcard_name_id vcard_name_lookup(const char *s, size_t n)
{
    for (unsigned k = name_hash(s, n);; k = (k + 1) & 255) {
        unsigned id = name_slot[k];
        if (id == VC_OTHER || same_name(names[id], s, n))
            return (vcard_name_id)id;
    }
}

const char *vcard_name_str(vcard_name_id id)
{
    return id > VC_OTHER && id < VC_NAME_COUNT ? names[id] : NULL;
}

int vcard_name_valid(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return 0;
    }
    return 1;
}
