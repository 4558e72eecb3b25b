/*
 * answer_mem.c — see answer_mem.h. The buffers kept are few and bounded: what is
 * smaller than KEEP_MIN comes and goes with malloc (below the mmap threshold, its pages
 * stay with the allocator anyway), what is larger than KEEP_MAX is given back (rare: a
 * DAV listing of 30,000 events), and no more than KEEP_TOTAL is held in all.
 */
#include "util/answer_mem.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#define KEEP_N 4
#define KEEP_MIN (64u << 10)
#define KEEP_MAX (8u << 20) /* a 4 MiB capacity, as jbuf doubles to it, is a little more */
#define KEEP_TOTAL (16u << 20)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *kept[KEEP_N];
static size_t sizes[KEEP_N], total;
static int n;

void *answer_mem_take(size_t *cap)
{
    void *p = NULL;
    *cap = 0;
    pthread_mutex_lock(&lock);
    if (n) {
        p = kept[--n];
        *cap = sizes[n];
        total -= *cap;
    }
    pthread_mutex_unlock(&lock);
    return p;
}

void answer_mem_give(void *p)
{
    if (!p)
        return;
    size_t size = malloc_usable_size(p);
    if (size >= KEEP_MIN && size <= KEEP_MAX) {
        pthread_mutex_lock(&lock);
        if (n < KEEP_N && total + size <= KEEP_TOTAL) {
            kept[n] = p;
            sizes[n++] = size;
            total += size;
            p = NULL;
        }
        pthread_mutex_unlock(&lock);
    }
    free(p);
}
