/*
 * event_page_marks.c — the marks of event_page_marks.h: a few sequences, each an
 * array of marks, shared by the threads under one lock (a query reads or extends
 * one sequence's marks; the oldest sequence makes room for a new one).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/event_page_marks.h"
#include "types/share.h"
#include "util/util.h"

#define PAGE_MARK_SLOTS 8

static struct mark_slot {
    char account[64];
    int64_t state;
    bool desc;
    uint64_t key;
    struct page_mark *v; /* v[j - 1]: mark j */
    size_t n;
} slots[PAGE_MARK_SLOTS];
static size_t slots_next;
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t fnv(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

uint64_t page_marks_key(int64_t user_id, json_t *rights, const char *tz)
{
    char user[24];
    snprintf(user, sizeof user, "%lld", (long long)user_id);
    uint64_t key = fnv(tz ? tz : "", fnv(user, 14695981039346656037ULL));
    const char *cid;
    json_t *v;
    json_object_foreach(rights, cid, v)
    {
        if (json_integer_value(v) & CR_READ)
            key ^= fnv(cid, 1469598103934665603ULL) * 31; /* in any order */
    }
    return key;
}

static struct mark_slot *slot_of(const char *account, int64_t state, bool desc, uint64_t key)
{
    for (size_t i = 0; i < PAGE_MARK_SLOTS; i++)
        if (slots[i].state == state && slots[i].desc == desc && slots[i].key == key &&
            strcmp(slots[i].account, account) == 0)
            return &slots[i];
    return NULL;
}

size_t page_marks_find(const char *account, int64_t state, bool desc, uint64_t key, int64_t at_most,
                       struct page_mark *out)
{
    pthread_mutex_lock(&slots_lock);
    struct mark_slot *sl = slot_of(account, state, desc, key);
    size_t j = 0;
    while (sl && j < sl->n && sl->v[j].pos <= at_most)
        j++;
    if (j)
        *out = sl->v[j - 1];
    pthread_mutex_unlock(&slots_lock);
    return j;
}

void page_marks_add(const char *account, int64_t state, bool desc, uint64_t key, size_t j,
                    const struct page_mark *m)
{
    if (strlen(account) >= sizeof slots[0].account)
        return;
    pthread_mutex_lock(&slots_lock);
    struct mark_slot *sl = slot_of(account, state, desc, key);
    if (!sl) { /* a new sequence in the oldest slot */
        sl = &slots[slots_next++ % PAGE_MARK_SLOTS];
        free(sl->v);
        *sl = (struct mark_slot){.state = state, .desc = desc, .key = key};
        snprintf(sl->account, sizeof sl->account, "%s", account);
    }
    if (j == sl->n + 1) {
        sl->v = xrealloc(sl->v, j * sizeof *sl->v);
        sl->v[sl->n++] = *m;
    }
    pthread_mutex_unlock(&slots_lock);
}
