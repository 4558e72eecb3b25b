/*
 * dav_render_cache.c — the calendar-data of calendar members as a report writes it
 * (iCalendar, XML-escaped), kept by (account, type, id, modseq): a member's rendering
 * depends on the object alone, and its modseq changes exactly when the object does (its
 * ETag), so an entry never goes stale; a changed object is looked up under its new
 * modseq. A calendar-multiget or a full listing with data then renders each object once,
 * not on every request. Bounded by RENDER_CACHE_BYTES: when full it starts again empty.
 * Plain renderings are kept, and expanded ones (RFC 4791 §9.6.5) under their range (a
 * client polls the same window; the instances depend on the object and the range
 * only), not limit-recurrence-set; cards are not (a
 * card's vCard also reads the account's groups). Beside the text an entry keeps the
 * member's collection property at that modseq, so a multiget that finds the entry
 * knows the member's collections without reading the object (dav_render_member).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dav/dav_internal.h"

#define RENDER_CACHE_BYTES ((size_t)32 << 20)

static pthread_mutex_t render_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *render_map; /* key -> {"t": escaped text, member property: its value} */
static size_t render_bytes;

/* variant: "" for the plain rendering, else what else it depends on (an expand range) */
static void render_key(const struct dav_res *r, const char *variant, char key[256])
{
    /* "%s/%s/%s/%lld%s" of account, type, id, modseq and variant, written without
     * snprintf (once per member of a multiget); bounded: 63 + 31 + 63 + 20 + 47 < 256 */
    char *p = key;
    p += dav_copy(p, 64, r->acct->account_id);
    *p++ = '/';
    p += dav_copy(p, 32, r->k->obj_type);
    *p++ = '/';
    p += dav_copy(p, 64, r->obj_id);
    *p++ = '/';
    p += dav_digits(p, r->modseq > 0 ? (uint64_t)r->modseq : 0);
    dav_copy(p, 48, variant);
}

bool dav_render_cached(const struct dav_res *r, const char *variant, struct buf *v)
{
    if (!r->k->calendar || r->modseq <= 0 || r->shared)
        return false; /* (a sharee's view is their own: dav_shared.c) */
    char key[256];
    render_key(r, variant, key);
    pthread_mutex_lock(&render_lock);
    json_t *hit = json_object_get(json_object_get(render_map, key), "t");
    if (hit)
        buf_append(v, json_string_value(hit), json_string_length(hit));
    pthread_mutex_unlock(&render_lock);
    return hit != NULL;
}

int dav_render_member(const struct dav_res *r, const char *coll_id)
{
    if (!r->k->calendar || r->modseq <= 0 || r->shared)
        return -1;
    char key[256];
    render_key(r, "", key);
    pthread_mutex_lock(&render_lock);
    json_t *hit = json_object_get(render_map, key);
    int m = hit ? dav_is_member(r->k, hit, coll_id) : -1;
    pthread_mutex_unlock(&render_lock);
    return m;
}

void dav_render_keep(const struct dav_res *r, const char *variant, const char *escaped, size_t len)
{
    if (!r->k->calendar || r->modseq <= 0 || !r->obj || r->shared)
        return;
    char key[256];
    render_key(r, variant, key);
    json_t *member = json_object_get(r->obj, r->k->member);
    json_t *entry = json_object();
    json_object_set_new_nocheck(entry, "t", json_stringn_nocheck(escaped, len));
    if (member)
        json_object_set_new_nocheck(entry, r->k->member, json_deep_copy(member));
    pthread_mutex_lock(&render_lock);
    if (!render_map || render_bytes + len > RENDER_CACHE_BYTES) {
        json_decref(render_map);
        render_map = json_object();
        render_bytes = 0;
    }
    if (len <= RENDER_CACHE_BYTES / 8) {
        json_object_set_new_nocheck(render_map, key, entry);
        entry = NULL;
        render_bytes += len + strlen(key) + 128;
    }
    pthread_mutex_unlock(&render_lock);
    json_decref(entry);
}
