/*
 * throttle.c — see throttle.h. Buckets hold singly linked chains of counters; a key is
 * stored as SHA-256(secret || key), 32 bytes whatever the key's length, so a counter
 * costs about 64 bytes and the table at most max_entries of them. Expired counters are
 * swept once per window (and when the table is full); a live one is never dropped.
 */
#include "http/throttle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct counter {
    struct counter *next;
    unsigned char key[32];
    int64_t count, window_start;
};

struct throttle {
    pthread_mutex_t lock;
    unsigned char secret[32];
    struct counter **buckets;
    size_t nbuckets, size, max;
    int64_t window, last_sweep;
    bool warned;
};

struct throttle *throttle_new(size_t max_entries, int64_t window)
{
    struct throttle *t = xcalloc(1, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    util_random_bytes(t->secret, sizeof t->secret);
    t->max = max_entries ? max_entries : 1;
    t->nbuckets = 64;
    while (t->nbuckets < t->max / 2)
        t->nbuckets *= 2;
    t->buckets = xcalloc(t->nbuckets, sizeof *t->buckets);
    t->window = window > 0 ? window : 1;
    return t;
}

void throttle_free(struct throttle *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nbuckets; i++)
        for (struct counter *c = t->buckets[i], *next; c; c = next) {
            next = c->next;
            free(c);
        }
    free(t->buckets);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static void key_hash(const struct throttle *t, const char *key, unsigned char out[32])
{
    size_t n = strlen(key);
    char *m = xmalloc(sizeof t->secret + n);
    memcpy(m, t->secret, sizeof t->secret);
    memcpy(m + sizeof t->secret, key, n);
    util_sha256(m, sizeof t->secret + n, out);
    free(m);
}

static size_t bucket_of(const struct throttle *t, const unsigned char k[32])
{
    uint64_t v;
    memcpy(&v, k, sizeof v);
    return (size_t)(v & (t->nbuckets - 1));
}

static bool expired(const struct throttle *t, const struct counter *c, int64_t now)
{
    return now - c->window_start >= t->window;
}

/* Removes every expired counter. Caller holds the lock. */
static void sweep(struct throttle *t, int64_t now)
{
    for (size_t i = 0; i < t->nbuckets; i++)
        for (struct counter **pp = &t->buckets[i]; *pp;) {
            struct counter *c = *pp;
            if (expired(t, c, now)) {
                *pp = c->next;
                free(c);
                t->size--;
            } else {
                pp = &c->next;
            }
        }
    t->last_sweep = now;
}

static void maybe_sweep(struct throttle *t, int64_t now)
{
    if (now - t->last_sweep >= t->window || (t->size >= t->max && now != t->last_sweep))
        sweep(t, now);
}

static struct counter *find(struct throttle *t, const unsigned char k[32])
{
    for (struct counter *c = t->buckets[bucket_of(t, k)]; c; c = c->next)
        if (memcmp(c->key, k, 32) == 0)
            return c;
    return NULL;
}

bool throttle_over(struct throttle *t, const char *key, int64_t limit, int64_t now)
{
    unsigned char k[32];
    key_hash(t, key, k);
    pthread_mutex_lock(&t->lock);
    maybe_sweep(t, now);
    struct counter *c = find(t, k);
    bool over = c ? !expired(t, c, now) && c->count >= limit : t->size >= t->max;
    pthread_mutex_unlock(&t->lock);
    return over;
}

int64_t throttle_count(struct throttle *t, const char *key, int64_t now)
{
    unsigned char k[32];
    key_hash(t, key, k);
    pthread_mutex_lock(&t->lock);
    struct counter *c = find(t, k);
    int64_t n = c && !expired(t, c, now) ? c->count : 0;
    pthread_mutex_unlock(&t->lock);
    return n;
}

void throttle_fail(struct throttle *t, const char *key, int64_t now)
{
    unsigned char k[32];
    key_hash(t, key, k);
    pthread_mutex_lock(&t->lock);
    maybe_sweep(t, now);
    struct counter *c = find(t, k);
    if (c && expired(t, c, now)) {
        c->window_start = now; /* its own window is over: nothing live is lost */
        c->count = 0;
    }
    if (!c && t->size < t->max) {
        c = xcalloc(1, sizeof *c);
        memcpy(c->key, k, sizeof c->key);
        c->window_start = now;
        size_t b = bucket_of(t, k);
        c->next = t->buckets[b];
        t->buckets[b] = c;
        t->size++;
    } else if (!c && !t->warned) {
        /* full of live counters: new keys are refused by throttle_over until some expire */
        log_warn("login throttle full (%zu live counters): refusing new clients for now", t->size);
        t->warned = true;
    }
    if (c)
        c->count++;
    if (t->size < t->max)
        t->warned = false;
    pthread_mutex_unlock(&t->lock);
}

size_t throttle_size(struct throttle *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->size;
    pthread_mutex_unlock(&t->lock);
    return n;
}
