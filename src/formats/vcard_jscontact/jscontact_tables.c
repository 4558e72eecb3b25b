/*
 * jscontact_tables.c — the conversion tables of RFC 9555 (N and ADR components,
 * TEL features) and the date syntax helpers both conversion directions share.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "formats/jscontact/jscontact_internal.h"

const char *const jsc_n_kinds[N_NCOMPS] = {"surname",    "given",    "given2",    "title",
                                           "credential", "surname2", "generation"};

const char *const jsc_adr_kinds[ADR_NCOMPS] = {
    "postOfficeBox", "apartment", "name",        "locality", "region",   "postcode",
    "country",       "room",      "apartment",   "floor",    "number",   "name",
    "building",      "block",     "subdistrict", "district", "landmark", "direction"};

/* RFC 9555 §2.6.1 table: extended address = room, floor, apartment, building;
 * street address = number, name, block, direction, landmark, subdistrict, district */
const int jsc_adr_ext_parts[] = {7, 9, 8, 12, -1};
const int jsc_adr_street_parts[] = {10, 11, 13, 17, 16, 14, 15, -1};

const jsc_pair jsc_tel_features[] = {
    {"cell", "mobile"}, {"fax", "fax"},     {"main-number", "main-number"},
    {"pager", "pager"}, {"text", "text"},   {"textphone", "textphone"},
    {"video", "video"}, {"voice", "voice"}, {NULL, NULL}};

int jsc_n_pos(const char *kind)
{
    for (int i = 0; i < N_NCOMPS; i++)
        if (strcmp(jsc_n_kinds[i], kind) == 0)
            return i;
    return -1;
}

int jsc_adr_pos(const char *kind)
{
    /* the RFC 9554 positions win over the backwards-compatible ones */
    for (int i = ADR_NCOMPS - 1; i >= 0; i--)
        if (strcmp(jsc_adr_kinds[i], kind) == 0)
            return i;
    return -1;
}

char *jsc_lower(char *s)
{
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return s;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

int jsc_parse_date(const char *s, int *year, int *month, int *day)
{
    *year = *month = *day = 0;
    size_t n = strlen(s);
    /* RFC 6350 §4.3.1: date = year [month day] / year "-" month / "--" month [day]
     * / "--" "-" day; 3.0 also writes YYYY-MM-DD. */
    if (n == 8 && digits(s, 4, year) && digits(s + 4, 2, month) && digits(s + 6, 2, day))
        ;
    else if (n == 10 && s[4] == '-' && s[7] == '-' && digits(s, 4, year) &&
             digits(s + 5, 2, month) && digits(s + 8, 2, day))
        ;
    else if (n == 7 && s[4] == '-' && digits(s, 4, year) && digits(s + 5, 2, month))
        ;
    else if (n == 4 && digits(s, 4, year))
        ;
    else if (n == 6 && s[0] == '-' && s[1] == '-' && digits(s + 2, 2, month) &&
             digits(s + 4, 2, day))
        ;
    else if (n == 7 && s[0] == '-' && s[1] == '-' && s[4] == '-' && digits(s + 2, 2, month) &&
             digits(s + 5, 2, day))
        ;
    else if (n == 4 && s[0] == '-' && s[1] == '-' && digits(s + 2, 2, month))
        ;
    else if (n == 5 && s[0] == '-' && s[1] == '-' && s[2] == '-' && digits(s + 3, 2, day))
        ;
    else
        return 0;
    if (*month < 0 || *month > 12 || *day < 0 || *day > 31)
        return 0;
    if ((n == 8 || n == 10 || n == 6 || n == 7) && (*month == 0 || (*day == 0 && n != 7)))
        return 0;
    return 1;
}

static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, int *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long yy = yoe + era * 400;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

/* Writes v (0 <= v < 10^width) as width decimal digits; returns the end. */
static char *put_digits(char *o, int v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        o[i] = (char)('0' + v % 10);
    return o + width;
}

int jsc_parse_timestamp(const char *s, char *out)
{
    int Y, M, D, h, mi, sec = 0;
    const char *p = s;
    /* date part: basic or extended */
    if (digits(p, 4, &Y) && p[4] == '-' && digits(p + 5, 2, &M) && p[7] == '-' &&
        digits(p + 8, 2, &D))
        p += 10;
    else if (digits(p, 4, &Y) && digits(p + 4, 2, &M) && digits(p + 6, 2, &D))
        p += 8;
    else
        return 0;
    if (*p++ != 'T')
        return 0;
    if (digits(p, 2, &h) && p[2] == ':' && digits(p + 3, 2, &mi)) {
        p += 5;
        if (*p == ':') {
            if (!digits(p + 1, 2, &sec))
                return 0;
            p += 3;
        }
    } else if (digits(p, 2, &h) && digits(p + 2, 2, &mi)) {
        p += 4;
        if (digits(p, 2, &sec))
            p += 2;
    } else {
        return 0;
    }
    char frac[10] = "";
    if (*p == '.' || *p == ',') {
        size_t i = 0;
        p++;
        while (isdigit((unsigned char)*p) && i < sizeof frac - 2)
            frac[i++] = *p++;
        while (isdigit((unsigned char)*p))
            p++;
        frac[i] = 0;
        while (i && frac[i - 1] == '0') /* RFC 9553 §1.4.5: no trailing zeros */
            frac[--i] = 0;
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om = 0, sign = *p == '-' ? -1 : 1;
        p++;
        if (!digits(p, 2, &oh))
            return 0;
        p += 2;
        if (*p == ':')
            p++;
        if (digits(p, 2, &om))
            p += 2;
        off = sign * (oh * 60 + om);
    } else {
        return 0; /* local time: no UTCDateTime form */
    }
    if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || sec > 60)
        return 0;
    long long t = days_from_civil(Y, M, D) * 1440 + h * 60 + mi - off;
    long long days = t >= 0 ? t / 1440 : -((-t + 1439) / 1440);
    int mins = (int)(t - days * 1440);
    civil_from_days(days, &Y, &M, &D);
    if (Y < 0 || Y > 9999)
        return 0;
    /* YYYY-MM-DDThh:mm:ss[.frac]Z: at most 29 bytes (frac has at most 8 digits) */
    char *o = out;
    o = put_digits(o, Y, 4);
    *o++ = '-';
    o = put_digits(o, M, 2);
    *o++ = '-';
    o = put_digits(o, D, 2);
    *o++ = 'T';
    o = put_digits(o, mins / 60, 2);
    *o++ = ':';
    o = put_digits(o, mins % 60, 2);
    *o++ = ':';
    o = put_digits(o, sec, 2);
    if (frac[0]) {
        *o++ = '.';
        for (const char *f = frac; *f; f++)
            *o++ = *f;
    }
    *o++ = 'Z';
    *o = 0;
    return 1;
}

int jsc_is_utcdatetime(const char *s)
{
    /* RFC 9553 §1.4.5 */
    int v;
    size_t n = strlen(s);
    if (n < 20 || !digits(s, 4, &v) || s[4] != '-' || !digits(s + 5, 2, &v) || v < 1 || v > 12 ||
        s[7] != '-' || !digits(s + 8, 2, &v) || v < 1 || v > 31 || s[10] != 'T' ||
        !digits(s + 11, 2, &v) || v > 23 || s[13] != ':' || !digits(s + 14, 2, &v) || v > 59 ||
        s[16] != ':' || !digits(s + 17, 2, &v) || v > 60)
        return 0;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        const char *f = p;
        while (isdigit((unsigned char)*p))
            p++;
        if (p == f || p[-1] == '0')
            return 0;
    }
    return p[0] == 'Z' && p[1] == 0;
}

int jsc_utc_to_vcard(const char *utc, char *out)
{
    if (!jsc_is_utcdatetime(utc))
        return 0;
    /* RFC 6350 §4.3.5 TIMESTAMP has no fractional seconds: they are dropped */
    snprintf(out, 32, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", utc, utc + 5, utc + 8, utc + 11, utc + 14,
             utc + 17);
    return 1;
}

int jsc_is_uri(const char *s)
{
    /* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
    if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return 0;
    const char *p = s + 1;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           *p == '+' || *p == '-' || *p == '.')
        p++;
    if (*p != ':')
        return 0;
    /* §2: the rest is unreserved, reserved or pct-encoded characters */
    for (p++; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
                return 0;
            p += 2;
        } else if (c <= 0x20 || c >= 0x7F || strchr("\"<>\\^`{|}", c)) {
            return 0;
        }
    }
    return 1;
}
