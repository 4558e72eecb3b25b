/*
 * event_members.c — the merged walk of event_members.h: one stream per readable calendar,
 * each a buffer of its next rows read by keyset after its own last row, and the smallest
 * head taken each step (a few calendars: a linear pick).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "types/calendar_event.h"
#include "types/event_members.h"
#include "types/share.h"
#include "util/util.h"

struct row {
    int64_t order;
    char *id;
};

struct stream {
    const char *cid; /* borrowed from the rights map */
    struct row *v;
    size_t n, cap, i;
    bool after, done; /* read on after (order, id); nothing more to read */
    int64_t skip;     /* rows to step over at the first read */
    int64_t order;
    char *id;
};

struct members_walk {
    struct store_conn *c;
    char *account;
    json_t *rights;
    bool desc, err;
    int64_t chunk;
    struct stream *s;
    size_t ns;
    char *cur; /* the id last returned */
};

static int row_cb(const char *id, int64_t modseq, int64_t order, void *ud)
{
    (void)modseq;
    struct stream *s = ud;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = (struct row){order, xstrdup(id)};
    return 0;
}

static void rows_clear(struct stream *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].id);
    s->n = s->i = 0;
}

/* The stream's next row, reading its next chunk when its buffer is spent; NULL at its end. */
static struct row *head(struct members_walk *w, struct stream *s)
{
    if (s->i < s->n)
        return &s->v[s->i];
    if (s->done)
        return NULL;
    if (s->n) { /* read on after the last row read */
        free(s->id);
        s->id = xstrdup(s->v[s->n - 1].id);
        s->order = s->v[s->n - 1].order;
        s->after = true;
    }
    rows_clear(s);
    if (store_members_ordered(w->c, w->account, calendar_event_type.name, s->cid, w->desc, s->after,
                              s->order, s->id ? s->id : "", s->skip, w->chunk, row_cb,
                              s) != STORE_OK)
        w->err = true;
    s->skip = 0;
    s->done = (int64_t)s->n < w->chunk;
    return s->i < s->n ? &s->v[s->i] : NULL;
}

/* store_index_ordered's order: order (descending if desc), then id ascending */
static int row_cmp(const struct row *a, const struct row *b, bool desc)
{
    if (a->order != b->order)
        return (a->order < b->order) != desc ? -1 : 1;
    return strcmp(a->id, b->id);
}

size_t members_readable(json_t *rights)
{
    size_t n = 0;
    const char *cid;
    json_t *v;
    json_object_foreach(rights, cid, v)
    {
        n += (json_integer_value(v) & CR_READ) != 0;
    }
    return n;
}

struct members_walk *members_walk_new(struct store_conn *c, const char *account, json_t *rights,
                                      bool desc, bool after, int64_t order, const char *id,
                                      int64_t skip, int64_t chunk)
{
    assert(skip == 0 || members_readable(rights) == 1);
    struct members_walk *w = xcalloc(1, sizeof *w);
    *w = (struct members_walk){.c = c,
                               .account = xstrdup(account),
                               .rights = json_incref(rights),
                               .desc = desc,
                               .chunk = chunk > 0 ? chunk : 64};
    w->s = xcalloc(json_object_size(rights) + 1, sizeof *w->s);
    const char *cid;
    json_t *v;
    json_object_foreach(w->rights, cid, v)
    {
        if (json_integer_value(v) & CR_READ)
            w->s[w->ns++] = (struct stream){.cid = cid,
                                            .after = after,
                                            .skip = skip,
                                            .order = order,
                                            .id = after ? xstrdup(id) : NULL};
    }
    return w;
}

int members_walk_next(struct members_walk *w, int64_t *order, const char **id, bool *err)
{
    struct row *best = NULL;
    for (size_t k = 0; k < w->ns; k++) {
        struct row *h = head(w, &w->s[k]);
        if (h && (!best || row_cmp(h, best, w->desc) < 0))
            best = h;
    }
    *err = w->err;
    if (!best || w->err)
        return 0;
    free(w->cur);
    w->cur = xstrdup(best->id);
    *order = best->order;
    /* every stream at this row steps past it: an event in several calendars once */
    for (size_t k = 0; k < w->ns; k++) {
        struct stream *s = &w->s[k];
        if (s->i < s->n && s->v[s->i].order == *order && strcmp(s->v[s->i].id, w->cur) == 0)
            s->i++;
    }
    *id = w->cur;
    return 1;
}

void members_walk_free(struct members_walk *w)
{
    if (!w)
        return;
    for (size_t k = 0; k < w->ns; k++) {
        rows_clear(&w->s[k]);
        free(w->s[k].v);
        free(w->s[k].id);
    }
    free(w->s);
    free(w->cur);
    free(w->account);
    json_decref(w->rights);
    free(w);
}
