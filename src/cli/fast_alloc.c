/*
 * fast_alloc.c — a size-class slab allocator for jansson in the short-lived `jmapd convert`
 * and `jmapd expand` processes (see fast_alloc.h). Every block lives in a 64 KiB-aligned
 * slab whose header names its size class, so json_free finds the class from the pointer
 * alone and puts the block on a free list of the freeing thread; the next allocation of
 * that class takes it from there. Freed temporaries are reused at once, so the process
 * touches (and the kernel zeroes) far less memory than a pure bump allocator, and there is
 * none of glibc's per-block bookkeeping. Nothing is returned to the OS before exit.
 * Slabs, the input and output buffers and the malloc heap of a large conversion are advised
 * for transparent huge pages (cli_advise_huge, cli_fast_heap): a page fault costs about as
 * much as converting a small property, and 4 KiB pages meant thousands of them.
 */
#include "cli/fast_alloc.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FAST_ALLOC_OFF 1
#endif
#endif
#if !defined(__SANITIZE_ADDRESS__) && !defined(JMAPD_FUZZING) && !defined(FAST_ALLOC_OFF)

#include <jansson.h>
#include <malloc.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLAB_SIZE ((size_t)64 << 10)
#define SLAB_HDR 64 /* keeps payloads 16-byte aligned */
#define CHUNK_SIZE ((size_t)8 << 20)

/* Classes: 16-byte steps up to 256, then coarser steps up to 16 KiB; larger blocks get
 * a mapping of their own. */
static const uint32_t class_size[] = {16,   32,   48,   64,   80,   96,   112,  128,  144,
                                      160,  176,  192,  208,  224,  240,  256,  320,  384,
                                      448,  512,  640,  768,  1024, 1536, 2048, 3072, 4096,
                                      6144, 8192, 12288, 16384};
#define NCLASSES (sizeof class_size / sizeof class_size[0])
#define LARGE_CLASS 0xffffu

typedef struct slab_hdr {
    uint32_t cls;
} slab_hdr;

typedef struct free_block {
    struct free_block *next;
} free_block;

typedef struct {
    char *chunk_cur, *chunk_end;     /* unused slabs of the current chunk */
    char *cur[NCLASSES], *end[NCLASSES]; /* bump region of each class's current slab */
    free_block *free[NCLASSES];
} arena_t;

static _Thread_local arena_t arena;

static unsigned class_of(size_t n)
{
    if (n <= 256)
        return n ? (unsigned)((n - 1) >> 4) : 0;
    unsigned c = 16;
    while (class_size[c] < n)
        c++;
    return c;
}

static char *new_slab(void)
{
    arena_t *a = &arena;
    if (a->chunk_cur == a->chunk_end) {
        char *m = mmap(NULL, CHUNK_SIZE + SLAB_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        char *start = (char *)(((uintptr_t)m + SLAB_SIZE - 1) & ~(uintptr_t)(SLAB_SIZE - 1));
        madvise(start, CHUNK_SIZE, MADV_HUGEPAGE);
        a->chunk_cur = start;
        a->chunk_end = start + CHUNK_SIZE;
    }
    char *s = a->chunk_cur;
    a->chunk_cur += SLAB_SIZE;
    return s;
}

static void *large_malloc(size_t n)
{
    if (n > SIZE_MAX - 2 * SLAB_SIZE)
        return NULL;
    size_t len = n + SLAB_HDR + SLAB_SIZE;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    char *start = (char *)(((uintptr_t)m + SLAB_SIZE - 1) & ~(uintptr_t)(SLAB_SIZE - 1));
    ((slab_hdr *)start)->cls = LARGE_CLASS;
    return start + SLAB_HDR;
}

static void *fast_malloc(size_t n)
{
    if (n > 16384)
        return large_malloc(n);
    arena_t *a = &arena;
    unsigned c = class_of(n);
    free_block *f = a->free[c];
    if (f) {
        a->free[c] = f->next;
        return f;
    }
    size_t sz = class_size[c];
    if ((size_t)(a->end[c] - a->cur[c]) < sz) {
        char *s = new_slab();
        if (!s)
            return NULL;
        ((slab_hdr *)s)->cls = c;
        a->cur[c] = s + SLAB_HDR;
        a->end[c] = s + SLAB_SIZE;
    }
    void *p = a->cur[c];
    a->cur[c] += sz;
    return p;
}

static void fast_free(void *p)
{
    if (!p)
        return;
    slab_hdr *h = (slab_hdr *)((uintptr_t)p & ~(uintptr_t)(SLAB_SIZE - 1));
    if (h->cls >= NCLASSES)
        return; /* a large block: left to the OS at exit */
    free_block *f = p;
    f->next = arena.free[h->cls];
    arena.free[h->cls] = f;
}

void cli_fast_json_alloc(void)
{
    json_set_alloc_funcs(fast_malloc, fast_free);
    /* glibc's fast bins make every free that coalesces into a large free chunk walk all of
     * them (malloc_consolidate): parse trees freed in order did that for most frees. The
     * per-thread caches still serve small blocks. */
    mallopt(M_MXFAST, 0);
}

#define HUGE_PAGE ((uintptr_t)2 << 20)

void cli_advise_huge(void *p, size_t n)
{
    uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(HUGE_PAGE - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* advice: failure changes nothing */
}

void cli_fast_heap(size_t expect)
{
    if (expect > ((size_t)1 << 30))
        expect = (size_t)1 << 30;
    char *lo = sbrk(0);
    /* glibc extends the heap by the next request plus M_TOP_PAD and trims it back to no less
     * than that: allocate until it extends once, then give the blocks back; the room stays */
    mallopt(M_TOP_PAD, (int)expect);
    void *held[64];
    int k = 0;
    while (k < 64 && sbrk(0) == lo && (held[k] = malloc(64 << 10)))
        k++;
    char *hi = sbrk(0);
    while (k)
        free(held[--k]);
    if (lo != (char *)-1 && hi != (char *)-1 && hi > lo)
        cli_advise_huge(lo, (size_t)(hi - lo));
}

#else

void cli_fast_json_alloc(void)
{
}

void cli_advise_huge(void *p, size_t n)
{
    (void)p;
    (void)n;
}

void cli_fast_heap(size_t expect)
{
    (void)expect;
}

#endif
