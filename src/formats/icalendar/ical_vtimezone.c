/*
 * ical_vtimezone.c — VTIMEZONE text of IANA zones (RFC 5545 §3.6.5), cached per TZID.
 * Generating one means libical's component of the zone, written by libical, parsed again
 * through our own layer (so the TZID is the plain IANA id and the layout is ours) and
 * written: about 40% of a CalDAV calendar-multiget when done per resource. The text only
 * depends on the TZID, the first year asked for (observances that ended before it are left
 * out) and the zoneinfo of this process, so it is generated once. The cache
 * holds at most CACHE_MAX zones and CACHE_BYTES of text; beyond that zones are generated
 * on every call. One mutex guards it; generation happens outside the lock.
 */
#include "formats/icalendar/ical_vtimezone.h"

#include <libical/ical.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "formats/icalendar/ical_syntax.h"
#include "formats/json/buffer.h"
#include "formats/timezone/tz.h"

#define CACHE_MAX 256
#define CACHE_BYTES (2u << 20)

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char *tzid;
    int from_year;
    char *text;
} cache[CACHE_MAX];
static int n_cache;
static size_t cache_bytes;

/* The cached text of tzid from from_year or NULL. Called with cache_lock held. */
static const char *cache_find(const char *tzid, int from_year)
{
    for (int i = 0; i < n_cache; i++)
        if (cache[i].from_year == from_year && !strcmp(cache[i].tzid, tzid))
            return cache[i].text;
    return NULL;
}

/* Keeps text (taking it) for tzid from from_year if the bounds allow; frees it otherwise. */
static void cache_add_take(const char *tzid, int from_year, char *text)
{
    size_t len = strlen(text) + strlen(tzid);
    pthread_mutex_lock(&cache_lock);
    if (!cache_find(tzid, from_year) && n_cache < CACHE_MAX && cache_bytes + len <= CACHE_BYTES) {
        cache[n_cache].tzid = strdup(tzid);
        cache[n_cache].from_year = from_year;
        cache[n_cache].text = text;
        if (cache[n_cache].tzid) {
            n_cache++;
            cache_bytes += len;
            text = NULL;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    free(text);
}

/* The last onset of observance o as text that strcmp orders ("YYYYMMDDTHHMMSS", a
 * trailing Z ignored): the latest of its DTSTART, its RDATEs and its RRULE's UNTIL; "~"
 * (after every date) for a rule without UNTIL, which goes on. */
static void last_onset(const ical_comp *o, char out[17])
{
    strcpy(out, "0");
    for (size_t i = 0; i < o->nprops; i++) {
        const ical_prop *p = &o->props[i];
        const char *v = NULL;
        if (!strcmp(p->name, "RRULE")) {
            v = strstr(p->value, "UNTIL=");
            if (!v) {
                strcpy(out, "~");
                return;
            }
            v += 6;
        } else if (!strcmp(p->name, "DTSTART") || !strcmp(p->name, "RDATE")) {
            v = p->value;
        }
        for (; v && *v; v = strchr(v, ',') ? strchr(v, ',') + 1 : NULL) { /* RDATE lists */
            char t[17];
            size_t n = strcspn(v, ",;Z/");
            if (n >= sizeof t)
                n = sizeof t - 1;
            memcpy(t, v, n);
            t[n] = 0;
            if (strcmp(t, out) > 0)
                strcpy(out, t);
            if (!strcmp(p->name, "RRULE"))
                break;
        }
    }
}

/* The first onset (DTSTART) of observance o as text that strcmp orders, as last_onset. */
static void first_onset(const ical_comp *o, char out[17])
{
    const ical_prop *p = ical_comp_get_prop(o, "DTSTART");
    size_t n = p ? strcspn(p->value, "Z") : 0;
    if (n > 16)
        n = 16;
    memcpy(out, p ? p->value : "", n);
    out[n] = 0;
}

/* Leaves out of vtz the observances that ended before the start of the year before
 * from_year. The last of them stays when it is still in effect then, that is when no
 * observance kept began after it ended (a zone without changes since, as Asia/Tokyo,
 * keeps only that one); Europe/Berlin's standard time of 1980-1995 does not, as the
 * rule of 1996 had begun by then (~150 bytes of each event's calendar-data). */
static void truncate_from(ical_comp *vtz, int from_year)
{
    char cut[32], best[17] = "", on[17];
    int year = from_year > 1 ? from_year - 1 : 0;
    snprintf(cut, sizeof cut, "%04d0101T000000", year < 9999 ? year : 9999);
    size_t latest = vtz->ncomps; /* the observance before cut that ended last */
    for (size_t i = 0; i < vtz->ncomps; i++) {
        last_onset(vtz->comps[i], on);
        if (strcmp(on, cut) < 0 && strcmp(on, best) > 0) {
            strcpy(best, on);
            latest = i;
        }
    }
    for (size_t i = 0; i < vtz->ncomps && latest < vtz->ncomps; i++) {
        char first[17];
        last_onset(vtz->comps[i], on);
        first_onset(vtz->comps[i], first);
        if (strcmp(on, cut) >= 0 && strcmp(first, best) > 0 && strcmp(first, cut) <= 0)
            latest = vtz->ncomps; /* a kept one took over before cut */
    }
    size_t n = 0;
    for (size_t i = 0; i < vtz->ncomps; i++) {
        last_onset(vtz->comps[i], on);
        if (i == latest || strcmp(on, cut) >= 0)
            vtz->comps[n++] = vtz->comps[i];
        else
            ical_comp_free(vtz->comps[i]);
    }
    vtz->ncomps = n;
}

/* The VTIMEZONE of a builtin zone as text (malloc'd), from from_year on, or NULL. */
static char *generate(const char *tzid, int from_year)
{
    icaltimezone *z = tz_builtin(tzid);
    if (!z)
        return NULL;
    jbuf b = {0};
    if (z == icaltimezone_get_utc_timezone()) {
        jbuf_adds(&b, "BEGIN:VTIMEZONE\r\nTZID:");
        jbuf_adds(&b, tzid);
        jbuf_adds(&b, "\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:"
                      "+0000\r\nTZOFFSETTO:+0000\r\nTZNAME:UTC\r\nEND:STANDARD\r\n"
                      "END:VTIMEZONE\r\n");
        return jbuf_take(&b);
    }
    icalcomponent *vc = icaltimezone_get_component(z);
    char *s = vc ? icalcomponent_as_ical_string_r(vc) : NULL;
    ical_comp **tops = NULL;
    char *perr = NULL;
    int n = s ? ical_parse(s, strlen(s), &tops, &perr) : -1;
    free(s);
    free(perr);
    if (n == 1) {
        ical_prop *t = ical_comp_get_prop(tops[0], "TZID");
        if (t)
            ical_prop_set_value(t, tzid);
        if (from_year > 0)
            truncate_from(tops[0], from_year);
        ical_comp_write(tops[0], &b);
    }
    for (int k = 0; k < n; k++)
        ical_comp_free(tops[k]);
    free(tops);
    if (n != 1) {
        free(b.s);
        return NULL;
    }
    return jbuf_take(&b);
}

bool ical_vtimezone_append(const char *tzid, int from_year, jbuf *b)
{
    pthread_mutex_lock(&cache_lock);
    const char *hit = cache_find(tzid, from_year);
    if (hit)
        jbuf_adds(b, hit);
    pthread_mutex_unlock(&cache_lock);
    if (hit)
        return true;
    char *text = generate(tzid, from_year);
    if (!text)
        return false;
    jbuf_adds(b, text);
    cache_add_take(tzid, from_year, text);
    return true;
}

int ical_vtimezone_cached(void)
{
    pthread_mutex_lock(&cache_lock);
    int n = n_cache;
    pthread_mutex_unlock(&cache_lock);
    return n;
}
