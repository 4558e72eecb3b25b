/*
 * tz.c — IANA zones from the system zoneinfo via libical, custom VTIMEZONE zones, and the
 * local <-> UTC conversions used by conversion and recurrence expansion. See tz.h.
 * The only mutable state is the zone cache (libical's builtin array plus a small table of
 * zones libical's zone.tab does not list, loaded on demand). Issue 21 §1: readers take no
 * lock. A zone is added under a mutex and published by one release store of the count;
 * with it goes the zone's table of UTC offset changes (libical's own, read once through
 * icaltimezone_dump_changes), so a conversion is a binary search instead of libical's
 * look-up, which takes libical's process-wide mutex on every call.
 */
#include "formats/timezone/tz.h"

#include <ctype.h>
#include <libical/icaltz-util.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/jscalendar/jscal_util.h"

static pthread_once_t tz_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* Changes of a zone's UTC offset, as libical computes them: from change i on (UTC
 * seconds at[i]) the offset is off[i], until at[i + 1]; valid from at[0] to before
 * `end` (TABLE_YEAR + 1). Outside that, libical answers. Read-only once published.
 * Reading the changes costs libical's expansion of the zone's rules to TABLE_YEAR
 * (Europe/Berlin: 4 M instructions to 2060, 29 M to 2200), once per zone. */
#define TABLE_YEAR 2060
struct zone_table {
    int64_t *at;
    int32_t *off;
    size_t n;
    int64_t end;
};

/* Every zone looked up so far (libical's own lookup is a linear scan over ~450 names), and
 * zones outside zone.tab (links such as "US/Eastern", "Etc/GMT+5") loaded from zoneinfo.
 * Entries below n_extra are complete and never change (n_extra: release store under
 * tz_lock, acquire load by readers). */
#define EXTRA_MAX 512
static struct {
    char *id;
    uint32_t hash; /* id_hash(id): most comparisons stop there */
    icaltimezone *zone;
    struct zone_table table; /* n == 0: none, libical answers */
} extra[EXTRA_MAX];
static int n_extra;

static uint32_t id_hash(const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

/* The cached zone of id, or NULL. No lock: the published entries only. */
static icaltimezone *extra_find(const char *id, uint32_t h)
{
    int n = __atomic_load_n(&n_extra, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n; i++)
        if (extra[i].hash == h && !strcmp(extra[i].id, id))
            return extra[i].zone;
    return NULL;
}

static int64_t civil_secs(int y, int m, int d, int hh, int mm, int ss)
{
    return jscal_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
}

/* One line of icaltimezone_dump_changes (libical's documented format: zone, tab, the
 * change's UTC date "D Mon YYYY", tab, its UTC time "H:MM:SS", tab, the offset after it
 * "+HHMM" or "+HHMMSS"). 0 if read. */
static int change_parse(const char *line, int64_t *at, int32_t *off)
{
    static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *tab = strchr(line, '\t');
    int d, y, hh, mm, ss;
    char ms[4], o[12];
    if (!tab || sscanf(tab + 1, "%d %3s %d\t%d:%d:%d\t%11s", &d, ms, &y, &hh, &mm, &ss, o) != 7)
        return -1;
    const char *mp = strlen(ms) == 3 ? strstr(mon, ms) : NULL;
    size_t ol = strlen(o);
    if (!mp || (mp - mon) % 3 || (o[0] != '+' && o[0] != '-') || (ol != 5 && ol != 7))
        return -1;
    for (size_t i = 1; i < ol; i++)
        if (!isdigit((unsigned char)o[i]))
            return -1;
    int secs = ((o[1] - '0') * 10 + (o[2] - '0')) * 3600 + ((o[3] - '0') * 10 + (o[4] - '0')) * 60 +
               (ol == 7 ? (o[5] - '0') * 10 + (o[6] - '0') : 0);
    *at = civil_secs(y, (int)((mp - mon) / 3) + 1, d, hh, mm, ss);
    *off = o[0] == '-' ? -secs : secs;
    return 0;
}

/* z's changes up to TABLE_YEAR, in order; an empty table (libical answers) if they
 * cannot be read. Called with tz_lock held, before the entry is published. */
static struct zone_table table_build(icaltimezone *z)
{
    struct zone_table t = {NULL, NULL, 0, civil_secs(TABLE_YEAR + 1, 1, 1, 0, 0, 0)};
    char *buf = NULL;
    size_t len = 0, cap = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return t;
    icaltimezone_dump_changes(z, TABLE_YEAR, f);
    fclose(f);
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        int64_t at;
        int32_t off;
        if (change_parse(line, &at, &off) || (t.n && at <= t.at[t.n - 1])) {
            t.n = 0; /* not as documented: leave it to libical */
            break;
        }
        if (t.n == cap) {
            cap = cap ? cap * 2 : 64;
            t.at = realloc(t.at, cap * sizeof *t.at);
            t.off = realloc(t.off, cap * sizeof *t.off);
            if (!t.at || !t.off)
                abort();
        }
        t.at[t.n] = at;
        t.off[t.n++] = off;
    }
    free(buf);
    if (!t.n) {
        free(t.at);
        free(t.off);
        t.at = NULL;
        t.off = NULL;
    }
    return t;
}

static void extra_add(const char *id, uint32_t h, icaltimezone *z)
{
    int n = n_extra;
    extra[n].id = strdup(id);
    extra[n].hash = h;
    extra[n].zone = z;
    extra[n].table = table_build(z);
    __atomic_store_n(&n_extra, n + 1, __ATOMIC_RELEASE);
}

/* The published table of z, or NULL (a zone of the caller's own, or none read). The
 * last one found is remembered per thread: a series converts in one zone. */
static const struct zone_table *table_of(const icaltimezone *z)
{
    static __thread const icaltimezone *last_zone;
    static __thread const struct zone_table *last_table;
    if (z == last_zone)
        return last_table;
    int n = __atomic_load_n(&n_extra, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n; i++)
        if (extra[i].zone == z) {
            last_zone = z;
            last_table = extra[i].table.n ? &extra[i].table : NULL;
            return last_table;
        }
    return NULL;
}

static void tz_init_once(void)
{
    /* Plain IANA ids as TZIDs in generated VTIMEZONEs (no "/freeassociation..." prefix). */
    icaltimezone_set_tzid_prefix("");
    icaltimezone_set_builtin_tzdata(0);
}

void tz_init(void)
{
    pthread_once(&tz_once, tz_init_once);
}

static int plausible_id(const char *id)
{
    if (!id || !*id || strlen(id) > 64 || id[0] == '/' || strstr(id, ".."))
        return 0;
    for (const char *p = id; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("/_-+", *p)))
            return 0;
    return 1;
}

icaltimezone *tz_builtin(const char *id)
{
    tz_init();
    if (!id)
        return NULL;
    /* Zones found before first, without a lock: every id in the cache passed the
     * checks below. */
    uint32_t h = id_hash(id);
    icaltimezone *z = extra_find(id, h);
    if (z)
        return z;
    if (!plausible_id(id))
        return NULL;
    if (!strcmp(id, "Etc/UTC") || !strcmp(id, "UTC") || !strcmp(id, "Etc/GMT") ||
        !strcmp(id, "GMT") || !strcmp(id, "Etc/Universal") || !strcmp(id, "Etc/Zulu"))
        return icaltimezone_get_utc_timezone();
    pthread_mutex_lock(&tz_lock);
    z = extra_find(id, h); /* another thread may have loaded it meanwhile */
    if (z)
        goto done;
    z = icaltimezone_get_builtin_timezone(id);
    if (z && strcmp(icaltimezone_get_location(z) ? icaltimezone_get_location(z) : "", id))
        z = NULL; /* libical may match loosely; require the exact id */
    if (z && n_extra < EXTRA_MAX)
        extra_add(id, h, z);
    if (!z && n_extra < EXTRA_MAX) {
        icalcomponent *c = icaltzutil_fetch_timezone(id);
        if (c) {
            z = icaltimezone_new();
            if (!icaltimezone_set_component(z, c)) {
                icaltimezone_free(z, 1);
                icalcomponent_free(c);
                z = NULL;
            } else {
                extra_add(id, h, z);
            }
        }
    }
done:
    pthread_mutex_unlock(&tz_lock);
    return z;
}

int tz_is_iana(const char *id)
{
    return tz_builtin(id) != NULL;
}

const char *tz_resolve_tzid(const char *tzid)
{
    if (!tzid || !*tzid)
        return NULL;
    /* The returned string is the caller's own (or static): libical may free and reload the
     * location strings of its builtin zones. */
    icaltimezone *z = tz_builtin(tzid);
    if (z)
        return z == icaltimezone_get_utc_timezone() ? "Etc/UTC" : tzid;
    /* Prefixed ids ("/mozilla.org/20050126_1/Europe/Berlin", "/freeassociation.sourceforge.net/
     * Tzfile/Europe/Berlin"): try the suffixes after each slash. */
    if (tzid[0] == '/') {
        for (const char *p = tzid + 1; (p = strchr(p, '/')); p++) {
            z = tz_builtin(p + 1);
            if (z)
                return z == icaltimezone_get_utc_timezone() ? "Etc/UTC" : p + 1;
        }
    }
    const char *w = tz_windows_to_iana(tzid);
    return w ? w : tz_offset_name(tzid);
}

/* "GMT+0100", "UTC+01:00", "GMT-5", "(UTC+02:00)": a fixed offset of whole hours is the
 * Etc/GMT zone of that offset (POSIX signs: Etc/GMT-1 is UTC+01:00). Other forms: NULL. */
const char *tz_offset_name(const char *tzid)
{
    static const char *const east[] = {"Etc/UTC",   "Etc/GMT-1",  "Etc/GMT-2",  "Etc/GMT-3",
                                       "Etc/GMT-4", "Etc/GMT-5",  "Etc/GMT-6",  "Etc/GMT-7",
                                       "Etc/GMT-8", "Etc/GMT-9",  "Etc/GMT-10", "Etc/GMT-11",
                                       "Etc/GMT-12", "Etc/GMT-13", "Etc/GMT-14"};
    static const char *const west[] = {"Etc/UTC",   "Etc/GMT+1",  "Etc/GMT+2",  "Etc/GMT+3",
                                       "Etc/GMT+4", "Etc/GMT+5",  "Etc/GMT+6",  "Etc/GMT+7",
                                       "Etc/GMT+8", "Etc/GMT+9",  "Etc/GMT+10", "Etc/GMT+11",
                                       "Etc/GMT+12"};
    const char *p = tzid;
    int paren = *p == '(';
    p += paren;
    if (strncasecmp(p, "GMT", 3) && strncasecmp(p, "UTC", 3))
        return NULL;
    p += 3;
    while (*p == ' ')
        p++;
    if (*p != '+' && *p != '-')
        return NULL;
    int west_of_utc = *p++ == '-', h = 0, m = 0, nd = 0;
    for (; isdigit((unsigned char)*p) && nd < 2; p++, nd++)
        h = h * 10 + (*p - '0');
    if (!nd)
        return NULL;
    if (*p == ':')
        p++;
    for (int k = 0; k < 2 && isdigit((unsigned char)*p); k++, p++)
        m = m * 10 + (*p - '0');
    if (paren && *p++ != ')')
        return NULL;
    if (*p || m || h > (west_of_utc ? 12 : 14))
        return NULL; /* trailing text (a city list) or a part-hour offset: not certain */
    return west_of_utc ? west[h] : east[h];
}

icaltimezone *tz_from_vtimezone(icalcomponent *vtz)
{
    tz_init();
    if (!vtz || icalcomponent_isa(vtz) != ICAL_VTIMEZONE_COMPONENT)
        return NULL;
    if (!icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY))
        return NULL;
    if (!icalcomponent_get_first_component(vtz, ICAL_XSTANDARD_COMPONENT) &&
        !icalcomponent_get_first_component(vtz, ICAL_XDAYLIGHT_COMPONENT))
        return NULL;
    icaltimezone *z = icaltimezone_new();
    if (!icaltimezone_set_component(z, icalcomponent_new_clone(vtz))) {
        icaltimezone_free(z, 1);
        return NULL;
    }
    return z;
}

/* libical expands a zone's rules with its recurrence iterator, which stops in 2582: a time
 * after that was never covered, so every look-up expanded the zone again from its start
 * (30 ms each; an event ending in 4058 made each of its instances cost that). The
 * Gregorian calendar repeats every 400 years (146,097 days, weekdays included), and so do
 * the rules of a zone: a later time takes the offset of the same instant whole cycles
 * before, within TZ_FOLD_YEAR. */
#define TZ_FOLD_YEAR 2400
#define TZ_CYCLE_SECS (146097LL * 86400)

int tz_libical_offset_at_utc(icaltimezone *zone, int64_t utc)
{
    jscal_ldt t;
    jscal_secs_to_ldt(utc, &t);
    struct icaltimetype tt = icaltime_null_time();
    tt.year = t.year;
    tt.month = t.month;
    tt.day = t.day;
    tt.hour = t.hour;
    tt.minute = t.minute;
    tt.second = t.second;
    tt.zone = icaltimezone_get_utc_timezone();
    int dst = 0;
    return icaltimezone_get_utc_offset_of_utc_time(zone, &tt, &dst);
}

/* libical's answer (under its mutex): zones of the caller's own, times outside the
 * table; a time after TZ_FOLD_YEAR folded back first */
static int libical_offset(icaltimezone *zone, int64_t utc)
{
    jscal_ldt t;
    jscal_secs_to_ldt(utc, &t);
    if (t.year > TZ_FOLD_YEAR)
        utc -= (int64_t)((t.year - TZ_FOLD_YEAR + 399) / 400) * TZ_CYCLE_SECS;
    return tz_libical_offset_at_utc(zone, utc);
}

int tz_offset_at_utc(icaltimezone *zone, int64_t utc)
{
    if (!zone || zone == icaltimezone_get_utc_timezone())
        return 0;
    const struct zone_table *t = table_of(zone);
    if (!t || utc < t->at[0] || utc >= t->end)
        return libical_offset(zone, utc);
    size_t lo = 0, hi = t->n; /* the last change at or before utc */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->at[mid] <= utc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return t->off[lo - 1];
}

int64_t tz_utc_to_local(icaltimezone *zone, int64_t utc)
{
    return utc + tz_offset_at_utc(zone, utc);
}

/* Candidates are the offsets in force a day before and a day after; a candidate is valid if
 * converting back gives the same offset. Two valid ones: a repeated hour, take the earlier
 * instant (first occurrence, RFC 5545 §3.3.5). None: a gap, use the offset before it. */
int64_t tz_local_to_utc(icaltimezone *zone, int64_t local)
{
    if (!zone || zone == icaltimezone_get_utc_timezone())
        return local;
    int oa = tz_offset_at_utc(zone, local - 86400);
    int ob = tz_offset_at_utc(zone, local + 86400);
    if (oa == ob && tz_offset_at_utc(zone, local - oa) == oa)
        return local - oa; /* no transition nearby: the common case */
    int64_t ua = local - oa, ub = local - ob;
    int va = tz_offset_at_utc(zone, ua) == oa;
    int vb = tz_offset_at_utc(zone, ub) == ob;
    if (va && vb)
        return ua < ub ? ua : ub;
    if (va)
        return ua;
    if (vb)
        return ub;
    /* Neither: either a gap, or a transition closer than a day to another one. Try the
     * offset in force just at local (as UTC) before falling back to the pre-gap offset. */
    int oc = tz_offset_at_utc(zone, local - oa);
    if (tz_offset_at_utc(zone, local - oc) == oc)
        return local - oc;
    return ua;
}
