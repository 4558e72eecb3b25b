/*
 * postgres_snapcode.c — the compact text of a query snapshot's ids (issue 15 §3,
 * store.h: query snapshots), as PostgreSQL keeps them in query_snapshots.ids.
 *
 * An expanded query (draft-ietf-jmap-calendars, expandRecurrences) answers instance
 * ids, "<base>_<YYYYMMDDTHHMMSS>" (calendar_event.h), a month thousands of them, most
 * repeating a base id and its time of day: as a JSON array, 2,000 instances were
 * ~60 KB a row to compress, cut into TOAST chunks and log, for every new state of a
 * month shown. The compact text keeps the ids and their order (the diff of RFC 8620
 * §5.6 reads them back as they were) and says each base id once:
 *
 *   "~1" then one token per id, each after a space:
 *   - an id as it is (it holds no '.', no space: RFC 8620 §1.2's alphabet); an
 *     instance id written so names its base the next number (0, 1, …);
 *   - "N.YYYYMMDD": an instance of base N at the time of day of its previous one;
 *   - "N.YYYYMMDDTHHMMSS": one at another time.
 *
 * A reader tells the forms apart by the first character ('[' is JSON, rows written
 * before; '~' the compact form); what the encoder does not expect (an id with a quote,
 * an escape, a '.') is kept as JSON.
 */
#include <assert.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_internal.h"
#include "util/util.h"

#define MARK "~1"

#define BASE_MAX 64 /* calendar_event.h: a base id is shorter */

/* The length of the base of an instance id (the part before "_YYYYMMDDTHHMMSS"), or
 * 0 when id is none (the rule of event_instance_parse). */
static size_t base_len(const char *id, size_t n)
{
    if (n < 17 || n - 16 >= BASE_MAX || id[n - 16] != '_' || id[n - 7] != 'T')
        return 0;
    for (size_t i = n - 15; i < n; i++)
        if (i != n - 7 && (id[i] < '0' || id[i] > '9'))
            return 0;
    return n - 16;
}

/* Base ids by number (and number by base id), with the time of day each was last
 * seen at. */
struct base {
    const char *id; /* not owned: in the text being read */
    size_t len;
    char time[7];
};

struct bases {
    struct base *v;
    size_t n, cap;
    json_t *number; /* base id -> its number */
};

/* The number of base (id, len), or -1; with add, a new one gets the next. */
static long bases_find(struct bases *b, const char *id, size_t len, bool add)
{
    char key[BASE_MAX];
    assert(len < sizeof key); /* base_len */
    memcpy(key, id, len);
    key[len] = 0;
    if (!b->number)
        b->number = json_object();
    json_t *k = json_object_get(b->number, key);
    if (k || !add)
        return k ? (long)json_integer_value(k) : -1;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->v = xrealloc(b->v, b->cap * sizeof *b->v);
    }
    b->v[b->n] = (struct base){.id = id, .len = len};
    json_object_set_new(b->number, key, json_integer((json_int_t)b->n));
    return (long)b->n++;
}

static void bases_free(struct bases *b)
{
    free(b->v);
    json_decref(b->number);
}

/* Appends one id (n bytes) to out as the compact form writes it. */
static void encode_id(struct bases *b, struct buf *out, const char *id, size_t n)
{
    buf_append(out, " ", 1);
    size_t bl = base_len(id, n);
    long k = bl ? bases_find(b, id, bl, false) : -1;
    if (k < 0) {
        buf_append(out, id, n);
        if (bl) {
            long added = bases_find(b, id, bl, true); /* before b->v is read: it moves */
            memcpy(b->v[added].time, id + n - 6, 6);
        }
        return;
    }
    struct base *e = &b->v[k];
    const char *date = id + bl + 1, *time = id + n - 6;
    bool same = memcmp(e->time, time, 6) == 0;
    buf_printf(out, "%ld.%.8s", k, date);
    if (!same) {
        buf_append(out, date + 8, 7);
        memcpy(e->time, time, 6);
    }
}

char *pgs_snap_encode(const char *json)
{
    const char *p = json;
    if (*p++ != '[')
        return NULL;
    struct bases b = {0};
    struct buf out = {0};
    buf_puts(&out, MARK);
    bool ok = true;
    while (*p == ' ')
        p++;
    if (*p == ']')
        p++;
    else
        for (;;) {
            if (*p++ != '"') {
                ok = false;
                break;
            }
            size_t n = strcspn(p, "\"\\. ");
            if (p[n] != '"' || n == 0) {
                ok = false;
                break;
            }
            encode_id(&b, &out, p, n);
            p += n + 1;
            while (*p == ' ')
                p++;
            if (*p == ']') {
                p++;
                break;
            }
            if (*p++ != ',') {
                ok = false;
                break;
            }
            while (*p == ' ')
                p++;
        }
    bases_free(&b);
    if (!ok || *p) {
        buf_free(&out);
        return NULL;
    }
    return buf_take(&out);
}

char *pgs_snap_decode(const char *text)
{
    if (strncmp(text, MARK, strlen(MARK)) != 0)
        return NULL;
    const char *p = text + strlen(MARK);
    struct bases b = {0};
    struct buf out = {0};
    buf_puts(&out, "[");
    bool ok = true, first = true;
    while (ok && *p == ' ') {
        p++;
        size_t n = strcspn(p, " ");
        const char *dot = memchr(p, '.', n);
        buf_puts(&out, first ? "\"" : ",\"");
        first = false;
        if (!dot) {
            buf_append(&out, p, n);
            size_t bl = base_len(p, n);
            if (bl) {
                long added = bases_find(&b, p, bl, true);
                memcpy(b.v[added].time, p + n - 6, 6);
            }
        } else {
            char *end;
            long k = strtol(p, &end, 10);
            size_t rest = n - (size_t)(dot + 1 - p);
            ok = end == dot && k >= 0 && (size_t)k < b.n &&
                 (rest == 8 || (rest == 15 && dot[9] == 'T'));
            if (ok) {
                struct base *e = &b.v[k];
                buf_append(&out, e->id, e->len);
                buf_append(&out, "_", 1);
                buf_append(&out, dot + 1, 8);
                if (rest == 15)
                    memcpy(e->time, dot + 10, 6);
                buf_printf(&out, "T%.6s", e->time);
            }
        }
        buf_puts(&out, "\"");
        p += n;
    }
    bases_free(&b);
    if (!ok || *p) {
        buf_free(&out);
        return NULL;
    }
    buf_puts(&out, "]");
    return buf_take(&out);
}
