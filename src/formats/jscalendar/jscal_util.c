/*
 * jscal_util.c — value-level helpers for JSCalendar: LocalDateTime/UTCDateTime and
 * Duration parsing (draft-ietf-calext-jscalendarbis-08 §1.4), UUIDv5 keys
 * (draft-ietf-calext-jscalendar-icalendar-25 §2.1.3) and a minimal PatchObject applier
 * (buffers, Ids and JSON output are formats/json/). Everything here is pure and reentrant.
 */
#include "formats/jscalendar/jscal_util.h"

#include "formats/json/patch.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- dates ---------------------------------------------------------------------------- */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* jscalendarbis §1.4.4/§1.4.5: RFC 3339 date-time, uppercase, no fractions. */
static int parse_dt(const char *s, jscal_ldt *t, int utc)
{
    if (!s || strlen(s) != (size_t)(utc ? 20 : 19))
        return -1;
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return -1;
    if (utc && s[19] != 'Z')
        return -1;
    if (digits(s, 4, &t->year) || digits(s + 5, 2, &t->month) || digits(s + 8, 2, &t->day) ||
        digits(s + 11, 2, &t->hour) || digits(s + 14, 2, &t->minute) ||
        digits(s + 17, 2, &t->second))
        return -1;
    return jscal_ldt_check(t);
}

int jscal_ldt_check(const jscal_ldt *t)
{
    if (t->month < 1 || t->month > 12 || t->day < 1 || t->day > days_in_month(t->year, t->month))
        return -1;
    if (t->hour < 0 || t->hour > 23 || t->minute < 0 || t->minute > 59 || t->second < 0 ||
        t->second > 60)
        return -1;
    return 0;
}

int jscal_ldt_parse(const char *s, jscal_ldt *out)
{
    return parse_dt(s, out, 0);
}

int jscal_utc_parse(const char *s, jscal_ldt *out)
{
    return parse_dt(s, out, 1);
}

static char *put2(char *p, unsigned v)
{
    *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

void jscal_ldt_format(const jscal_ldt *t, int utc, char *buf)
{
    if (t->year >= 0 && t->year <= 9999 && t->month >= 0 && t->month < 100 && t->day >= 0 &&
        t->day < 100 && t->hour >= 0 && t->hour < 100 && t->minute >= 0 && t->minute < 100 &&
        t->second >= 0 && t->second < 100) {
        char *p = put2(put2(buf, (unsigned)t->year / 100), (unsigned)t->year % 100);
        *p++ = '-';
        p = put2(p, (unsigned)t->month);
        *p++ = '-';
        p = put2(p, (unsigned)t->day);
        *p++ = 'T';
        p = put2(p, (unsigned)t->hour);
        *p++ = ':';
        p = put2(p, (unsigned)t->minute);
        *p++ = ':';
        p = put2(p, (unsigned)t->second);
        if (utc)
            *p++ = 'Z';
        *p = 0;
        return;
    }
    snprintf(buf, 21, "%04u-%02u-%02uT%02u:%02u:%02u%s", (unsigned)t->year % 10000u, (unsigned)t->month % 100u,
             (unsigned)t->day % 100u, (unsigned)t->hour % 100u, (unsigned)t->minute % 100u, (unsigned)t->second % 100u, utc ? "Z" : "");
}

/* Howard Hinnant's civil-calendar algorithms (public domain description). */
int64_t jscal_days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void jscal_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

int64_t jscal_ldt_to_secs(const jscal_ldt *t)
{
    return jscal_days_from_civil(t->year, t->month, t->day) * 86400 + t->hour * 3600 +
           t->minute * 60 + t->second;
}

void jscal_secs_to_ldt(int64_t secs, jscal_ldt *out)
{
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    jscal_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(rem / 3600);
    out->minute = (int)(rem % 3600 / 60);
    out->second = (int)(rem % 60);
}

/* ---- durations ------------------------------------------------------------------------ */

static int read_num(const char **p, int64_t *v)
{
    const char *s = *p;
    if (!isdigit((unsigned char)*s))
        return -1;
    int64_t n = 0;
    while (isdigit((unsigned char)*s)) {
        if (n > 100000000000LL)
            return -1;
        n = n * 10 + (*s++ - '0');
    }
    *v = n;
    *p = s;
    return 0;
}

/* jscalendarbis §1.4.6 ABNF: P (dur-cal [dur-time] / dur-time), dur-cal = week [day] / day,
 * dur-time = T (hour [minute [second]] / minute [second] / second). */
void jscal_format_double(char *buf, size_t n, double v)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, n, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

int jscal_dur_parse(const char *s, int allow_sign, jscal_dur *d)
{
    memset(d, 0, sizeof *d);
    d->sign = 1;
    if (!s)
        return -1;
    if (allow_sign && (*s == '+' || *s == '-'))
        d->sign = *s++ == '-' ? -1 : 1;
    if (*s++ != 'P')
        return -1;
    int64_t v;
    int any = 0;
    if (*s != 'T') {
        if (read_num(&s, &v))
            return -1;
        if (*s == 'W') {
            d->weeks = v;
            s++;
            any = 1;
            if (*s && *s != 'T') {
                if (read_num(&s, &v) || *s != 'D')
                    return -1;
                d->days = v;
                s++;
            }
        } else if (*s == 'D') {
            d->days = v;
            s++;
            any = 1;
        } else {
            return -1;
        }
    }
    if (*s == 'T') {
        s++;
        int stage = 0; /* 0: H allowed, 1: M allowed, 2: S allowed */
        int got = 0;
        while (*s) {
            if (read_num(&s, &v))
                return -1;
            if (*s == 'H' && stage == 0) {
                d->hours = v;
                stage = 1;
            } else if (*s == 'M' && stage <= 1) {
                if (stage == 0 && got)
                    return -1;
                d->minutes = v;
                stage = 2;
            } else if (*s == 'S' && stage <= 2) {
                d->seconds = v;
                stage = 3;
            } else {
                return -1;
            }
            s++;
            got = 1;
        }
        if (!got)
            return -1;
        any = 1;
    }
    return (*s || !any) ? -1 : 0;
}

/* Writes v in decimal at p (what "%lld" prints); returns the end. */
static char *put_int(char *p, int64_t v)
{
    char tmp[24], *t = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v; /* -INT64_MIN does not fit */
    do {
        *--t = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--t = '-';
    size_t n = (size_t)(tmp + sizeof tmp - t);
    memcpy(p, t, n);
    return p + n;
}

void jscal_dur_format(const jscal_dur *d, char *buf)
{
    char full[128], *p = full; /* "-P" + 5 * (sign, 19 digits, letter) + "T" fit */
    if (d->sign < 0 && (d->weeks || d->days || d->hours || d->minutes || d->seconds))
        *p++ = '-';
    *p++ = 'P';
    if (d->weeks) {
        p = put_int(p, d->weeks);
        *p++ = 'W';
    }
    if (d->days) {
        p = put_int(p, d->days);
        *p++ = 'D';
    }
    if (d->hours || d->minutes || d->seconds || (!d->weeks && !d->days)) {
        *p++ = 'T';
        if (d->hours) {
            p = put_int(p, d->hours);
            *p++ = 'H';
        }
        if (d->minutes) {
            p = put_int(p, d->minutes);
            *p++ = 'M';
        }
        if (d->seconds || (!d->hours && !d->minutes)) {
            p = put_int(p, d->seconds);
            *p++ = 'S';
        }
    }
    size_t n = (size_t)(p - full);
    if (n > 63)
        n = 63; /* the 64 bytes buf promises */
    memcpy(buf, full, n);
    buf[n] = 0;
}

int64_t jscal_dur_total_secs(const jscal_dur *d)
{
    return d->sign * ((d->weeks * 7 + d->days) * 86400 + d->hours * 3600 + d->minutes * 60 +
                      d->seconds);
}

/* ---- ids ------------------------------------------------------------------------------ */

/* The SHA-1 implementation, fetched once (OpenSSL 3 looks it up on every EVP_sha1() use
 * otherwise); it is immutable and shared by all threads. */
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha1_md;

static void sha1_fetch(void)
{
    sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

void jscal_uuidv5(const char *name, char out[37])
{
    pthread_once(&sha1_once, sha1_fetch);
    /* draft -25 §2.1.3 namespace 7f1e1965-ae73-4454-b088-232c90730ce2 */
    static const unsigned char ns[16] = {0x7f, 0x1e, 0x19, 0x65, 0xae, 0x73, 0x44, 0x54,
                                         0xb0, 0x88, 0x23, 0x2c, 0x90, 0x73, 0x0c, 0xe2};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t n = strlen(name);
    unsigned char stackbuf[512];
    unsigned char *in = n + 16 <= sizeof stackbuf ? stackbuf : malloc(n + 16);
    memcpy(in, ns, 16);
    memcpy(in + 16, name, n);
    EVP_Digest(in, n + 16, md, &mdlen, sha1_md ? sha1_md : EVP_sha1(), NULL);
    if (in != stackbuf)
        free(in);
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* RFC 9562 §5.5: version 5 */
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* variant 10 */
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[md[i] >> 4];
        *p++ = hex[md[i] & 15];
    }
    *p = 0;
}

/* ---- buffers and strings -------------------------------------------------------------- */

char *jscal_strlower(const char *s)
{
    char *r = strdup(s);
    for (char *p = r; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return r;
}

char *jscal_strupper(const char *s)
{
    char *r = strdup(s);
    for (char *p = r; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return r;
}

char *jscal_strdupf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *r = NULL;
    if (vasprintf(&r, fmt, ap) < 0)
        r = NULL;
    va_end(ap);
    return r;
}

/* ---- PatchObject ---------------------------------------------------------------------- */

/* jscalendarbis §1.4.9 is RFC 8620 §5.3's PatchObject: one implementation (patch.h). */
int jscal_patch_apply(json_t *obj, json_t *patch, char **errpath)
{
    if (!json_is_object(obj) || !json_is_object(patch)) {
        if (errpath)
            *errpath = strdup("");
        return -1;
    }
    return patch_apply(obj, patch, errpath);
}

/* ---- recurrenceOverrides ------------------------------------------------------------- */

int jscal_override_key_ignored(const char *key)
{
    static const char *const ign[] = {"@type",
                                      "method",
                                      "organizerCalendarAddress",
                                      "privacy",
                                      "prodId",
                                      "recurrenceId",
                                      "recurrenceIdTimeZone",
                                      "recurrenceOverrides",
                                      "recurrenceRule",
                                      "relatedTo",
                                      "sentBy",
                                      "uid",
                                      NULL};
    if (*key == '/')
        key++;
    for (const char *const *s = ign; *s; s++) {
        size_t n = strlen(*s);
        if (!strncmp(key, *s, n) && (key[n] == 0 || key[n] == '/'))
            return 1;
    }
    /* participants/<id>/calendarAddress */
    if (!strncmp(key, "participants/", 13)) {
        const char *slash = strchr(key + 13, '/');
        if (slash && !strncmp(slash + 1, "calendarAddress", 15) &&
            (slash[16] == 0 || slash[16] == '/'))
            return 1;
    }
    return 0;
}

json_t *jscal_override_patch_filter(const json_t *patch)
{
    json_t *p = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v) if (!jscal_override_key_ignored(k))
        json_object_set(p, k, v);
    return p;
}

/* ---- RRULE text ----------------------------------------------------------------------- */

static void rrule_upper(jbuf *b, const char *prefix, const char *v)
{
    char *u = jscal_strupper(v);
    jbuf_adds(b, prefix);
    jbuf_adds(b, u);
    free(u);
}

/* ";BYxxx=a,b,c" of one list (integers, month strings, NDay objects). */
static void rrule_list(jbuf *b, const char *ic, const json_t *a)
{
    char tmp[32];
    size_t k;
    json_t *e;
    jbuf_adds(b, ";");
    jbuf_adds(b, ic);
    jbuf_adds(b, "=");
    json_array_foreach((json_t *)a, k, e)
    {
        if (k)
            jbuf_adds(b, ",");
        if (json_is_integer(e)) {
            snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(e));
            jbuf_adds(b, tmp);
        } else if (json_is_string(e)) {
            jbuf_adds(b, json_string_value(e));
        } else if (json_is_object(e)) {
            json_t *nth = json_object_get(e, "nthOfPeriod");
            if (nth) {
                snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(nth));
                jbuf_adds(b, tmp);
            }
            const char *day = json_string_value(json_object_get(e, "day"));
            rrule_upper(b, "", day ? day : "");
        }
    }
}

char *jscal_rrule_text(const json_t *r, const char *until, int flags)
{
    static const struct {
        const char *js, *ic;
    } lists[] = {{"bySecond", "BYSECOND"},   {"byMinute", "BYMINUTE"},     {"byHour", "BYHOUR"},
                 {"byDay", "BYDAY"},         {"byMonthDay", "BYMONTHDAY"}, {"byYearDay", "BYYEARDAY"},
                 {"byWeekNo", "BYWEEKNO"},   {"byMonth", "BYMONTH"},       {"bySetPosition", "BYSETPOS"}};
    jbuf b = {0};
    char tmp[64];
    const char *freq = json_string_value(json_object_get(r, "frequency"));
    const char *rscale = json_string_value(json_object_get(r, "rscale"));
    const char *skip = json_string_value(json_object_get(r, "skip"));
    int want_skip = skip && strcmp(skip, "omit");
    if (flags & JSCAL_RRULE_ITERATE) { /* RFC 7529: SKIP needs RSCALE */
        if ((rscale && strcmp(rscale, "gregorian")) || want_skip)
            rscale = rscale ? rscale : "gregorian";
        else
            rscale = NULL;
    } else if (want_skip && !rscale) {
        rscale = "gregorian"; /* RFC 7529 §4.1: SKIP MUST NOT be present without RSCALE */
    }
    if (rscale)
        rrule_upper(&b, "RSCALE=", rscale);
    rrule_upper(&b, rscale ? ";FREQ=" : "FREQ=", freq ? freq : "");
    if (until) {
        jbuf_adds(&b, ";UNTIL=");
        jbuf_adds(&b, until);
    }
    json_t *v;
    if ((v = json_object_get(r, "count"))) {
        snprintf(tmp, sizeof tmp, ";COUNT=%lld", (long long)json_integer_value(v));
        jbuf_adds(&b, tmp);
    }
    if ((v = json_object_get(r, "interval"))) {
        snprintf(tmp, sizeof tmp, ";INTERVAL=%lld", (long long)json_integer_value(v));
        jbuf_adds(&b, tmp);
    }
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        json_t *a = json_object_get(r, lists[i].js);
        if (json_is_array(a) && json_array_size(a))
            rrule_list(&b, lists[i].ic, a);
    }
    const char *wkst = json_string_value(json_object_get(r, "firstDayOfWeek"));
    if (wkst)
        rrule_upper(&b, ";WKST=", wkst);
    if (skip && rscale)
        rrule_upper(&b, ";SKIP=", skip);
    return jbuf_take(&b);
}

/* ---- value syntax (jscalendarbis-17 §3.2.12, §3.4.4, §3.4.6) ------------------------------ */

/* CSS Color Module Level 3 §4.3, the extended color keywords. */
/* clang-format off */
static const char *const css_names[] = {
    "aliceblue", "antiquewhite", "aqua", "aquamarine", "azure", "beige", "bisque", "black",
    "blanchedalmond", "blue", "blueviolet", "brown", "burlywood", "cadetblue", "chartreuse",
    "chocolate", "coral", "cornflowerblue", "cornsilk", "crimson", "cyan", "darkblue", "darkcyan",
    "darkgoldenrod", "darkgray", "darkgreen", "darkgrey", "darkkhaki", "darkmagenta",
    "darkolivegreen", "darkorange", "darkorchid", "darkred", "darksalmon", "darkseagreen",
    "darkslateblue", "darkslategray", "darkslategrey", "darkturquoise", "darkviolet", "deeppink",
    "deepskyblue", "dimgray", "dimgrey", "dodgerblue", "firebrick", "floralwhite", "forestgreen",
    "fuchsia", "gainsboro", "ghostwhite", "gold", "goldenrod", "gray", "green", "greenyellow",
    "grey", "honeydew", "hotpink", "indianred", "indigo", "ivory", "khaki", "lavender",
    "lavenderblush", "lawngreen", "lemonchiffon", "lightblue", "lightcoral", "lightcyan",
    "lightgoldenrodyellow", "lightgray", "lightgreen", "lightgrey", "lightpink", "lightsalmon",
    "lightseagreen", "lightskyblue", "lightslategray", "lightslategrey", "lightsteelblue",
    "lightyellow", "lime", "limegreen", "linen", "magenta", "maroon", "mediumaquamarine",
    "mediumblue", "mediumorchid", "mediumpurple", "mediumseagreen", "mediumslateblue",
    "mediumspringgreen", "mediumturquoise", "mediumvioletred", "midnightblue", "mintcream",
    "mistyrose", "moccasin", "navajowhite", "navy", "oldlace", "olive", "olivedrab", "orange",
    "orangered", "orchid", "palegoldenrod", "palegreen", "paleturquoise", "palevioletred",
    "papayawhip", "peachpuff", "peru", "pink", "plum", "powderblue", "purple", "red", "rosybrown",
    "royalblue", "saddlebrown", "salmon", "sandybrown", "seagreen", "seashell", "sienna", "silver",
    "skyblue", "slateblue", "slategray", "slategrey", "snow", "springgreen", "steelblue", "tan",
    "teal", "thistle", "tomato", "turquoise", "violet", "wheat", "white", "whitesmoke", "yellow",
    "yellowgreen"};
/* clang-format on */

int jscal_css_color(const char *s, int six_only)
{
    if (!s)
        return 0;
    if (s[0] == '#') {
        size_t n = strlen(s + 1);
        if (n != 6 && (six_only || n != 3))
            return 0;
        for (size_t i = 1; i <= n; i++)
            if (!isxdigit((unsigned char)s[i]))
                return 0;
        return 1;
    }
    for (size_t i = 0; i < sizeof css_names / sizeof css_names[0]; i++)
        if (!strcasecmp(s, css_names[i]))
            return 1;
    return 0;
}

int jscal_addr_spec(const char *s)
{
    if (!s)
        return 0;
    const char *at = strrchr(s, '@');
    if (!at || at == s || !at[1] || strstr(at, "..") || at[1] == '.' || at[strlen(at) - 1] == '.')
        return 0;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        /* no white space, controls or the specials that end an address (RFC 5322 §3.2.3)
         * outside a quoted local part */
        if (c <= 0x20 || c == 0x7f || (p > at && strchr("()<>[]:;,\\\"@", c)))
            return 0;
        if (p < at && *s != '"' && strchr("()<>[]:;,\\\"@", c))
            return 0;
    }
    return 1;
}

int jscal_uri(const char *s)
{
    if (!s || !isalpha((unsigned char)*s))
        return 0;
    const char *p = s + 1;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    if (*p != ':' || !p[1])
        return 0;
    for (; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}
