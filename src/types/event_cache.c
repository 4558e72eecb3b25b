/*
 * event_cache.c — see event_cache.h. A chained hash table, each chain under one of
 * STRIPES read-write locks (issue 21 §1: with one mutex for the table, two readers expanding a
 * month waited on each other for every span and entry they looked up), at
 * most MAX_ENTRIES entries and about the config's cache_size of memory (beyond either,
 * an old chain is dropped: entries of destroyed events stay until pushed out, and one
 * entry can hold 20,000 occurrences, issue 19 §8). Occurrences are computed over
 * the whole series when it ends, or over three years from its start when it does
 * not (covered_until says how far); a query beyond that expands directly.
 */
#include "types/event_cache.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/recurrence/recur.h"
#include "types/calendar_event.h"
#include "util/util.h"

#define SLOTS 16384
#define MAX_ENTRIES 100000
#define HORIZON (3LL * 366 * 86400)
#define MAX_OCC 20000
#define FAR_FUTURE 253402300799LL /* 9999-12-31T23:59:59Z */

static struct event_cached *slots[SLOTS];

/* single events in a zone: (key, modseq) -> their span (event_cache_span) */
struct span {
    struct span *next;
    int64_t modseq, start, end;
    char key[]; /* account \t id */
};
static struct span *spans[SLOTS];
/* The counts, the bound and the eviction cursors are atomics; a chain, its entries'
 * links and bytes and its spans are under its stripe's lock. No code holds two. */
static size_t span_bytes;
static size_t span_cursor;
static size_t nentries, nbytes, max_bytes = EVENT_CACHE_MAX_BYTES;
static size_t evict_cursor;
#define STRIPES 64
/* Read-write, each on a cache line of its own (issue 21 §1): two readers of one month
 * look up the same events in the same order, and with a mutex one often waited for
 * the other's stripe (the most frequent futex wait of two threads asking a month,
 * longer when the holder lost its core). Look-ups share a stripe; a change of a chain
 * (an entry or span put or dropped, a /get text added) takes it alone. */
struct stripe {
    pthread_rwlock_t m;
} __attribute__((aligned(64)));
static struct stripe locks[STRIPES] = {[0 ... STRIPES - 1] = {PTHREAD_RWLOCK_INITIALIZER}};

static pthread_rwlock_t *lock_of(size_t s)
{
    return &locks[s % STRIPES].m;
}

static size_t load(const size_t *v)
{
    return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static void add(size_t *v, size_t n)
{
    __atomic_add_fetch(v, n, __ATOMIC_RELAXED);
}

static void sub(size_t *v, size_t n)
{
    __atomic_sub_fetch(v, n, __ATOMIC_RELAXED);
}

static void entry_free(struct event_cached *e)
{
    json_decref(e->obj);
    free(e->occ);
    free(e->text);
    free(e);
}

void event_cache_release(struct event_cached *e)
{
    if (e && __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0)
        entry_free(e);
}

/* Unlinks slot s's chain onto *dead (call with its stripe's lock held); the entries are
 * released by release_dead() after the lock is let go: freeing parsed events is work
 * that other readers should not wait for (issue 21 §1). */
static void drop_chain(size_t s, struct event_cached **dead)
{
    struct event_cached *e = slots[s];
    slots[s] = NULL;
    while (e) {
        struct event_cached *next = e->next;
        sub(&nentries, 1);
        sub(&nbytes, e->bytes);
        e->linked = false;
        e->next = *dead;
        *dead = e;
        e = next;
    }
}

/* Bytes dropped from the table since the allocator was last asked to give free
 * memory back */
static size_t dropped_since_trim;

static void release_dead(struct event_cached *dead)
{
    size_t n = 0;
    while (dead) {
        struct event_cached *next = dead->next;
        n += dead->bytes;
        event_cache_release(dead);
        dead = next;
    }
    /* Issue 21 §0: entries are parsed on every worker thread, so their memory is
     * spread over glibc's per-thread arenas, and what eviction frees there stays
     * resident (27 MB of a 100,000-event server's 151 MiB after the bench's run).
     * After every eighth of the bound dropped, free pages go back to the system. */
    if (n && __atomic_add_fetch(&dropped_since_trim, n, __ATOMIC_RELAXED) >= load(&max_bytes) / 8) {
        __atomic_store_n(&dropped_since_trim, 0, __ATOMIC_RELAXED);
        malloc_trim(0);
    }
}

void event_cache_set_limit(size_t bytes)
{
    __atomic_store_n(&max_bytes, bytes, __ATOMIC_RELAXED);
}

size_t event_cache_limit(void)
{
    return load(&max_bytes);
}

/* What glibc's allocator gives a request of n bytes: a chunk of n plus its 8-byte
 * header, rounded up to 16, at least 32 (issue 21 §0: the cache's bound is resident
 * memory, and at 100,000 events a count of requested bytes fell 30% short of it). */
static size_t chunk(size_t n)
{
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

/* What jansson (2.14, Debian 12) allocates for v, as glibc's chunks: an object is its
 * node (72 bytes), a table of buckets (16 bytes each, a power of two above the member
 * count, at least 8) and per member a pair holding the key (56 bytes and the key);
 * an array its node (40) and a table of pointers (a power of two, at least 8); a
 * string its node (32) and its text; a number a node of 24. Within 1% of what glibc
 * reports in use for the stored events of bench/scale/gen.py (issue 21 §0). */
static size_t json_footprint(json_t *v)
{
    size_t n = 0, i, b;
    const char *k;
    json_t *x;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        for (b = 8; b <= json_object_size(v); b *= 2)
            ;
        n = chunk(72) + chunk(16 * b);
        json_object_foreach(v, k, x)
        {
            n += chunk(56 + strlen(k) + 1) + json_footprint(x);
        }
        return n;
    case JSON_ARRAY:
        for (b = 8; b < json_array_size(v); b *= 2)
            ;
        n = chunk(40) + chunk(8 * b);
        json_array_foreach(v, i, x)
        {
            n += json_footprint(x);
        }
        return n;
    case JSON_STRING:
        return chunk(32) + chunk(json_string_length(v) + 1);
    case JSON_INTEGER:
    case JSON_REAL:
        return chunk(24);
    default:
        return 0; /* true, false and null are shared */
    }
}

/* What entry e holds: itself, its occurrences, its parsed event and its /get text if it has them
 * yet (a text made later is added then). */
static size_t entry_footprint(const struct event_cached *e)
{
    size_t nocc = e->nocc ? e->nocc : 1;
    return chunk(sizeof *e) + (e->occ ? chunk(nocc * sizeof *e->occ) : 0) +
           (e->obj ? json_footprint(e->obj) : 0) + (e->text ? chunk(e->text_len + 1) : 0);
}

size_t event_cache_bytes(void)
{
    return load(&nbytes);
}

static void span_drop_chain(size_t s);

void event_cache_clear(void)
{
    struct event_cached *dead = NULL;
    for (size_t i = 0; i < SLOTS; i++) {
        pthread_rwlock_wrlock(lock_of(i));
        drop_chain(i, &dead);
        span_drop_chain(i);
        pthread_rwlock_unlock(lock_of(i));
    }
    release_dead(dead);
}

/* "account\tid" into key[200], cut short as snprintf would (a /get of a month's
 * instances looks up thousands: issue 21 §2) */
static void key_of(char key[200], const char *account, const char *id)
{
    size_t a = strlen(account), n = strlen(id);
    if (a > 199)
        a = 199;
    memcpy(key, account, a);
    if (a < 199)
        key[a++] = '\t';
    if (n > 199 - a)
        n = 199 - a;
    memcpy(key + a, id, n);
    key[a + n] = 0;
}

static size_t slot_of(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (size_t)(h % SLOTS);
}

/* Expands the whole series (or, for one without an end, HORIZON of it past its start
 * or past until, whichever is later) into e->occ. */
static void expand(struct event_cached *e, int64_t until)
{
    int64_t first = -FAR_FUTURE, last = FAR_FUTURE - 1;
    int unbounded = 0;
    char *err = NULL;
    recur_limits lim = {MAX_OCC, 0};
    /* Issue 21: a series with an end (a rule with count or until, or none) is expanded
     * in one pass over all time; only an endless one needs its bounds first (which
     * cost a pass of their own: 28% of a first query after a start). */
    json_t *rule = json_object_get(e->obj, "recurrenceRule");
    bool endless =
        json_is_object(rule) && !json_object_get(rule, "count") && !json_object_get(rule, "until");
    if (endless && recur_series_bounds(e->obj, e->float_tz, &lim, &first, &last, &unbounded,
                                       &err) != RECUR_OK) {
        log_debug("event cache: no bounds for %s: %s", e->key, err ? err : "?");
        free(err);
        return;
    }
    int64_t to = !unbounded ? last + 1 : until > first ? until + HORIZON : first + HORIZON;
    int code = 0;
    recur_iter *it = recur_iter_new(e->obj, first, to, e->float_tz, &lim, 0, &code, &err);
    if (!it) {
        log_debug("event cache: not expanded %s: %s", e->key, err ? err : "?");
        free(err);
        return; /* too many: queries expand their window directly */
    }
    free(err);
    size_t cap = 16;
    e->occ = xmalloc(cap * sizeof *e->occ);
    recur_occurrence o;
    while (recur_iter_next(it, &o) == 1) {
        if (e->nocc == cap) {
            cap *= 2;
            e->occ = xrealloc(e->occ, cap * sizeof *e->occ);
        }
        struct event_occ *x = &e->occ[e->nocc++];
        x->start = o.utc_start;
        x->end = o.utc_end;
        snprintf(x->rid, sizeof x->rid, "%s", e->recurring ? o.recurrence_id : "");
        if (x->end - x->start > e->max_duration)
            e->max_duration = x->end - x->start;
    }
    recur_iter_free(it);
    /* the array as long as it needs to be: most entries hold one occurrence or a few
     * dozen, in an array grown to 16 or 32 */
    e->occ = xrealloc(e->occ, (e->nocc ? e->nocc : 1) * sizeof *e->occ);
    e->covered_until = unbounded ? to : INT64_MAX;
    e->expanded = true;
}

/* Drops slot s's spans (call with its stripe's lock held) */
static void span_drop_chain(size_t s)
{
    struct span *x = spans[s];
    spans[s] = NULL;
    while (x) {
        struct span *next = x->next;
        sub(&span_bytes, chunk(sizeof *x + strlen(x->key) + 1));
        free(x);
        x = next;
    }
}

/* Records e's span if it is a single event in a zone; call with the lock of e's slot s
 * held (span_evict keeps the spans' bound after it is let go). */
static void span_put(const struct event_cached *e, size_t s)
{
    if (e->recurring || e->floating || !e->expanded || e->nocc != 1)
        return;
    for (struct span **pp = &spans[s]; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->key, e->key) == 0) {
            struct span *old = *pp;
            *pp = old->next;
            sub(&span_bytes, chunk(sizeof *old + strlen(old->key) + 1));
            free(old);
            break;
        }
    size_t n = strlen(e->key) + 1;
    struct span *x = xmalloc(sizeof *x + n);
    memcpy(x->key, e->key, n);
    x->modseq = e->modseq;
    x->start = e->occ[0].start;
    x->end = e->occ[0].end;
    x->next = spans[s];
    spans[s] = x;
    add(&span_bytes, chunk(sizeof *x + n));
}

/* Drops old chains of spans while they hold more than a quarter of the bound (s: the
 * slot just written, kept); call with no lock held. */
static void span_evict(size_t s)
{
    for (size_t i = 0; i < SLOTS && load(&span_bytes) > load(&max_bytes) / 4; i++) {
        size_t c = __atomic_add_fetch(&span_cursor, 1, __ATOMIC_RELAXED) % SLOTS;
        if (c == s)
            continue;
        pthread_rwlock_wrlock(lock_of(c));
        span_drop_chain(c);
        pthread_rwlock_unlock(lock_of(c));
    }
}

bool event_cache_span(const char *account, const char *id, int64_t modseq, int64_t *start,
                      int64_t *end)
{
    char key[200];
    key_of(key, account, id);
    size_t s = slot_of(key);
    bool found = false;
    pthread_rwlock_rdlock(lock_of(s));
    for (struct span *x = spans[s]; x; x = x->next)
        if (x->modseq == modseq && strcmp(x->key, key) == 0) {
            *start = x->start;
            *end = x->end;
            found = true;
            break;
        }
    pthread_rwlock_unlock(lock_of(s));
    return found;
}

struct event_cached *event_cache_peek(const char *account, const char *id, int64_t modseq)
{
    char key[200];
    key_of(key, account, id);
    size_t s = slot_of(key);
    pthread_rwlock_rdlock(lock_of(s));
    for (struct event_cached *e = slots[s]; e; e = e->next) {
        if (e->modseq == modseq && strcmp(e->key, key) == 0) {
            __atomic_add_fetch(&e->refs, 1, __ATOMIC_ACQ_REL);
            pthread_rwlock_unlock(lock_of(s));
            return e;
        }
    }
    pthread_rwlock_unlock(lock_of(s));
    return NULL;
}

void event_cache_seen(struct event_cached *e, int64_t state)
{
    /* a later state replaces an earlier one; readers of an older snapshot look up */
    int64_t was = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
    while (was < state && !__atomic_compare_exchange_n(&e->state, &was, state, false,
                                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        ;
}

struct event_cached *event_cache_current(const char *account, const char *id, int64_t state)
{
    char key[200];
    key_of(key, account, id);
    size_t s = slot_of(key);
    pthread_rwlock_rdlock(lock_of(s));
    for (struct event_cached *e = slots[s]; e; e = e->next) {
        if (state > 0 && __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == state &&
            strcmp(e->key, key) == 0) {
            __atomic_add_fetch(&e->refs, 1, __ATOMIC_ACQ_REL);
            pthread_rwlock_unlock(lock_of(s));
            return e;
        }
    }
    pthread_rwlock_unlock(lock_of(s));
    return NULL;
}

long event_cache_rid_index(const struct event_cached *e, const char *rid)
{
    if (!e->expanded || !e->recurring)
        return -1;
    /* occurrences are in start order, which is their recurrence ids' order unless an
     * override moved one: a binary search first, every occurrence if it misses */
    size_t lo = 0, hi = e->nocc;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int d = strcmp(e->occ[mid].rid, rid);
        if (d == 0)
            return (long)mid;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = 0; i < e->nocc; i++)
        if (strcmp(e->occ[i].rid, rid) == 0)
            return (long)i;
    return -1;
}

const char *event_cache_text(struct event_cached *e, char *(*make)(const json_t *obj, size_t *n),
                             size_t *n)
{
    char *t = __atomic_load_n(&e->text, __ATOMIC_ACQUIRE);
    if (t) {
        *n = e->text_len;
        return t;
    }
    size_t len = 0;
    char *mine = make(e->obj, &len);
    mine = xrealloc(mine, len + 1); /* a grown buffer's slack, a quarter on average, given back */
    pthread_rwlock_t *lock = lock_of(slot_of(e->key));
    pthread_rwlock_wrlock(lock); /* the length and the bytes with the text, under the lock */
    t = e->text;
    if (!t) {
        e->text_len = len;
        __atomic_store_n(&e->text, mine, __ATOMIC_RELEASE);
        e->bytes += chunk(len + 1);
        if (e->linked)
            add(&nbytes, chunk(len + 1));
        t = mine;
        mine = NULL;
    }
    pthread_rwlock_unlock(lock);
    free(mine); /* another thread made it first */
    *n = e->text_len;
    return t;
}

/* Puts e (one reference is the slot's) in slot s, in place of any entry of the same
 * event, and drops old chains past the bounds. */
static void insert(struct event_cached *e, size_t s)
{
    struct event_cached *dead = NULL;
    pthread_rwlock_wrlock(lock_of(s));
    /* replace any entry of the same event (an older modseq or another zone) */
    for (struct event_cached **pp = &slots[s]; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->key, e->key) == 0) {
            struct event_cached *old = *pp;
            *pp = old->next;
            sub(&nentries, 1);
            sub(&nbytes, old->bytes);
            old->linked = false;
            old->next = dead;
            dead = old;
            break;
        }
    }
    e->next = slots[s];
    slots[s] = e;
    e->linked = true;
    add(&nbytes, e->bytes);
    add(&nentries, 1);
    span_put(e, s);
    pthread_rwlock_unlock(lock_of(s));
    /* past a bound, old chains go, one stripe's lock at a time */
    for (size_t i = 0;
         i < SLOTS && (load(&nentries) > MAX_ENTRIES || load(&nbytes) > load(&max_bytes)); i++) {
        size_t c = __atomic_add_fetch(&evict_cursor, 1, __ATOMIC_RELAXED) % SLOTS;
        if (c == s)
            continue;
        pthread_rwlock_wrlock(lock_of(c));
        drop_chain(c, &dead);
        pthread_rwlock_unlock(lock_of(c));
    }
    span_evict(s);
    release_dead(dead);
}

struct event_cached *event_cache_get(struct store_conn *c, const char *account, const char *id,
                                     int64_t modseq, const char *float_tz)
{
    char key[200];
    key_of(key, account, id);
    size_t s = slot_of(key);
    if (!float_tz)
        float_tz = "Etc/UTC";
    pthread_rwlock_rdlock(lock_of(s));
    for (struct event_cached *e = slots[s]; e; e = e->next) {
        if (e->modseq == modseq && strcmp(e->key, key) == 0 &&
            (!e->floating || strcmp(e->float_tz, float_tz) == 0)) {
            __atomic_add_fetch(&e->refs, 1, __ATOMIC_ACQ_REL);
            pthread_rwlock_unlock(lock_of(s));
            return e;
        }
    }
    pthread_rwlock_unlock(lock_of(s));

    json_t *obj = store_object_get(c, account, calendar_event_type.name, id);
    if (!obj)
        return NULL;
    struct event_cached *e = xcalloc(1, sizeof *e);
    e->refs = 2; /* the slot's and the caller's */
    snprintf(e->key, sizeof e->key, "%s", key);
    snprintf(e->float_tz, sizeof e->float_tz, "%s", float_tz);
    e->modseq = modseq;
    e->obj = obj;
    e->floating = !json_is_string(json_object_get(obj, "timeZone"));
    e->recurring = json_is_object(json_object_get(obj, "recurrenceRule")) ||
                   json_object_size(json_object_get(obj, "recurrenceOverrides")) > 0;
    expand(e, 0);
    e->bytes = entry_footprint(e);

    insert(e, s);
    return e;
}

struct event_cached *event_cache_extend(struct event_cached *e, int64_t until)
{
    int64_t failed = __atomic_load_n(&e->no_extend_from, __ATOMIC_ACQUIRE);
    if (!e->expanded || e->covered_until >= until || (failed && until >= failed))
        return NULL;
    struct event_cached *x = xcalloc(1, sizeof *x);
    x->refs = 1; /* the caller's */
    memcpy(x->key, e->key, sizeof x->key);
    memcpy(x->float_tz, e->float_tz, sizeof x->float_tz);
    x->modseq = e->modseq;
    x->obj = json_incref(e->obj); /* read-only: shared with e while both live */
    x->floating = e->floating;
    x->recurring = e->recurring;
    expand(x, until);
    if (!x->expanded || x->covered_until < until) {                    /* too many occurrences */
        __atomic_store_n(&e->no_extend_from, until, __ATOMIC_RELEASE); /* not tried again */
        event_cache_release(x);
        return NULL;
    }
    x->refs++; /* and the slot's */
    x->bytes = entry_footprint(x);
    x->state = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
    insert(x, slot_of(x->key));
    return x;
}

/* A new entry for account/id known current at state, refs for the slot and the caller,
 * its slot in *s; NULL if the slot has one worth keeping already (a query's entry, with
 * occurrences, or a current one with the tree). */
static struct event_cached *fresh_entry(const char *account, const char *id, const json_t *obj,
                                        int64_t state, size_t *s)
{
    char key[200];
    key_of(key, account, id);
    *s = slot_of(key);
    pthread_rwlock_rdlock(lock_of(*s));
    bool keep = false;
    for (struct event_cached *e = slots[*s]; e; e = e->next)
        if (strcmp(e->key, key) == 0) {
            /* kept: a query's entry (its modseq known) or a current one with the tree;
             * replaced (insert): the text alone, which a view needing the tree (a
             * sharee's, issue 14) cannot use, and one of an older state: either kept
             * every later /get of the event reading the store again */
            keep =
                e->obj && (e->modseq >= 0 || __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == state);
            break;
        }
    pthread_rwlock_unlock(lock_of(*s));
    if (keep)
        return NULL;
    struct event_cached *e = xcalloc(1, sizeof *e);
    e->refs = 2; /* the slot's and the caller's */
    memcpy(e->key, key, sizeof key);
    e->modseq = -1; /* not known: found by state only */
    e->state = state;
    e->floating = !json_is_string(json_object_get(obj, "timeZone"));
    return e;
}

struct event_cached *event_cache_put_text(const char *account, const char *id, const json_t *obj,
                                          int64_t state,
                                          char *(*make)(const json_t *obj, size_t *n))
{
    size_t s;
    struct event_cached *e = fresh_entry(account, id, obj, state, &s);
    if (!e)
        return NULL;
    e->text = make(obj, &e->text_len);
    e->text = xrealloc(e->text, e->text_len + 1);
    e->bytes = entry_footprint(e);
    insert(e, s);
    return e;
}

struct event_cached *event_cache_put_current(const char *account, const char *id, json_t *obj,
                                             int64_t state)
{
    size_t s;
    struct event_cached *e = fresh_entry(account, id, obj, state, &s);
    if (!e)
        return NULL;
    e->obj = json_incref(obj);
    e->recurring = json_is_object(json_object_get(obj, "recurrenceRule")) ||
                   json_object_size(json_object_get(obj, "recurrenceOverrides")) > 0;
    e->bytes = entry_footprint(e);
    insert(e, s);
    return e;
}
