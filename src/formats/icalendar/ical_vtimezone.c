/*
 * ical_vtimezone.c — VTIMEZONE text of IANA zones (RFC 5545 §3.6.5), cached per TZID.
 * Generating one means libical's component of the zone, written by libical, parsed again
 * through our own layer (so the TZID is the plain IANA id and the layout is ours) and
 * written: about 40% of a CalDAV calendar-multiget when done per resource. The text only
 * depends on the TZID and the zoneinfo of this process, so it is generated once. The cache
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
    char *text;
} cache[CACHE_MAX];
static int n_cache;
static size_t cache_bytes;

/* The cached text of tzid or NULL. Called with cache_lock held. */
static const char *cache_find(const char *tzid)
{
    for (int i = 0; i < n_cache; i++)
        if (!strcmp(cache[i].tzid, tzid))
            return cache[i].text;
    return NULL;
}

/* Keeps text (taking it) for tzid if the bounds allow; frees it otherwise. */
static void cache_add_take(const char *tzid, char *text)
{
    size_t len = strlen(text) + strlen(tzid);
    pthread_mutex_lock(&cache_lock);
    if (!cache_find(tzid) && n_cache < CACHE_MAX && cache_bytes + len <= CACHE_BYTES) {
        cache[n_cache].tzid = strdup(tzid);
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

/* The VTIMEZONE of a builtin zone as text (malloc'd), or NULL. */
static char *generate(const char *tzid)
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

bool ical_vtimezone_append(const char *tzid, jbuf *b)
{
    pthread_mutex_lock(&cache_lock);
    const char *hit = cache_find(tzid);
    if (hit)
        jbuf_adds(b, hit);
    pthread_mutex_unlock(&cache_lock);
    if (hit)
        return true;
    char *text = generate(tzid);
    if (!text)
        return false;
    jbuf_adds(b, text);
    cache_add_take(tzid, text);
    return true;
}

int ical_vtimezone_cached(void)
{
    pthread_mutex_lock(&cache_lock);
    int n = n_cache;
    pthread_mutex_unlock(&cache_lock);
    return n;
}
