/*
 * subscription_digest.c — a plain feed cut into its entities without converting
 * them (issue 17: applying a 10-event change to a 10,000-event subscription within
 * 50 ms). A feed is a VCALENDAR header, VTIMEZONEs and top-level VEVENT/VTODO
 * components; the components of one UID are one entity (a recurring event with its
 * overrides, subscription-upgrade §3.1). Each entity gets a digest of its text
 * (without DTSTAMP, which feeds regenerate on every fetch and which is no change of
 * the event), so the refresher converts and writes only the entities whose digest
 * differs from the last refresh's. What could change how every entity converts (the
 * header's other properties, the VTIMEZONEs) goes into one salt: when it changes, the
 * whole feed is converted again. The digests are kept as one text, sorted by UID
 * ("DIGEST UID\n" lines), compared by a merge: no per-entity allocation beyond the
 * cut itself. Pure text work: no store, no conversion.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "types/subscription.h"
#include "util/util.h"

struct feed_comp {
    char *uid;
    size_t off, len;
};

struct feed_entity {
    const char *uid; /* its first component's */
    char digest[DIGEST_HEX + 1];
    size_t first, n; /* its components: comps[first .. first + n) */
};

/* ---- lines ---------------------------------------------------------------------------- */

/* The start of the next logical line (folded continuation lines, RFC 5545 §3.1,
 * belong to this one). */
static const char *line_end(const char *p, const char *end)
{
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return end;
        p = nl + 1;
        if (p >= end || (*p != ' ' && *p != '\t'))
            return p;
    }
}

static bool starts(const char *p, const char *end, const char *word)
{
    if (p >= end || (*p | 0x20) != (*word | 0x20)) /* most lines differ at once */
        return false;
    size_t n = strlen(word);
    return (size_t)(end - p) >= n && strncasecmp(p, word, n) == 0;
}

/* Header properties that say nothing about how an entity converts (they are read on
 * their own: the calendar's name, description, color, refresh interval). */
static bool head_neutral(const char *p, const char *end)
{
    static const char *const names[] = {"NAME",           "X-WR-CALNAME", "DESCRIPTION",
                                        "X-WR-CALDESC",   "COLOR",        "REFRESH-INTERVAL",
                                        "X-PUBLISHED-TTL"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t n = strlen(names[i]);
        if (starts(p, end, names[i]) && (size_t)(end - p) > n && (p[n] == ':' || p[n] == ';'))
            return true;
    }
    return false;
}

/* ---- the digest: two 64-bit hashes (a change detector, not a security measure: a
 * feed can only confuse its own subscribers) ------------------------------------------- */

struct hash {
    uint64_t a, b;
};

static void hash_init(struct hash *h)
{
    h->a = 0xcbf29ce484222325ull; /* FNV-1a 64 */
    h->b = 0x9e3779b97f4a7c15ull;
}

static void hash_add(struct hash *h, const char *p, size_t n)
{
    uint64_t a = h->a, b = h->b;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        a = (a ^ c) * 0x100000001b3ull;
        b = (b + c + 1) * 0xff51afd7ed558ccdull;
        b ^= b >> 29;
    }
    h->a = a;
    h->b = b;
}

static void hash_hex(const struct hash *h, char out[DIGEST_HEX + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t v[2] = {h->a, h->b};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 16; i++)
            out[k * 16 + i] = hex[(v[k] >> (60 - 4 * i)) & 15];
    out[DIGEST_HEX] = 0;
}

/* Adds the component [p, end) to h, leaving out its own DTSTAMP line. */
static void hash_component(struct hash *h, const char *p, const char *end)
{
    int depth = 0;
    for (const char *q = p, *e; q < end; q = e) {
        e = line_end(q, end);
        if (starts(q, e, "BEGIN:"))
            depth++;
        else if (starts(q, e, "END:"))
            depth--;
        else if (depth == 1 && starts(q, e, "DTSTAMP"))
            continue;
        hash_add(h, q, (size_t)(e - q));
    }
}

/* ---- cutting -------------------------------------------------------------------------- */

/* The UID value of the line [q, e) (after "UID:"), unfolded. */
static char *uid_value(const char *q, const char *e)
{
    const char *v = q + 4, *stop = e;
    while (stop > v && (stop[-1] == '\n' || stop[-1] == '\r'))
        stop--;
    size_t n = stop > v ? (size_t)(stop - v) : 0;
    if (!memchr(v, '\n', n)) /* not folded: the common case */
        return xstrndup(v, n);
    struct buf b = {0};
    for (const char *s = v; s < v + n; s++) {
        if (*s == '\r')
            continue;
        if (*s == '\n') {
            s++; /* a fold: the line break and one white space go */
            continue;
        }
        buf_append(&b, s, 1);
    }
    buf_append(&b, "", 1);
    return buf_take(&b);
}

static int by_uid(const void *x, const void *y)
{
    const struct feed_comp *a = x, *b = y;
    int c = strcmp(a->uid, b->uid);
    return c ? c : (a->off > b->off) - (a->off < b->off);
}

void feed_cut_free(struct feed_cut *fc)
{
    if (!fc)
        return;
    for (size_t i = 0; i < fc->ncomps; i++)
        free(fc->comps[i].uid);
    free(fc->comps);
    free(fc->ents);
    free(fc->head);
    free(fc);
}

/* The top-level component starting at q: its end (NULL if it is left open), and
 * its UID (its first "UID:" line at its own level, unfolded) into *uid. */
static const char *component_end(const char *q, const char *end, char **uid)
{
    int depth = 0;
    const char *c = q;
    *uid = NULL;
    do {
        const char *e = line_end(c, end);
        if (starts(c, e, "BEGIN:"))
            depth++;
        else if (starts(c, e, "END:"))
            depth--;
        else if (depth == 1 && !*uid && starts(c, e, "UID:"))
            *uid = uid_value(c, e);
        c = e;
    } while (depth > 0 && c < end);
    return depth ? NULL : c;
}

/* Groups the components by UID (sorted) into entities and digests them. */
static void cut_entities(struct feed_cut *fc, const char *ics)
{
    qsort(fc->comps, fc->ncomps, sizeof *fc->comps, by_uid);
    fc->ents = xcalloc(fc->ncomps ? fc->ncomps : 1, sizeof *fc->ents);
    for (size_t i = 0; i < fc->ncomps;) {
        struct feed_entity *en = &fc->ents[fc->nents++];
        en->uid = fc->comps[i].uid;
        en->first = i;
        struct hash h;
        hash_init(&h);
        hash_add(&h, fc->salt, DIGEST_HEX);
        for (; i < fc->ncomps && strcmp(fc->comps[i].uid, en->uid) == 0; i++, en->n++)
            hash_component(&h, ics + fc->comps[i].off, ics + fc->comps[i].off + fc->comps[i].len);
        hash_hex(&h, en->digest);
    }
}

struct feed_cut *feed_cut_new(const char *ics, size_t len)
{
    const char *end = ics + len, *p = ics;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    if (!starts(p, end, "BEGIN:VCALENDAR"))
        return NULL;
    struct feed_cut *fc = xcalloc(1, sizeof *fc);
    struct buf head = {0};
    struct hash salt;
    hash_init(&salt);
    size_t cap = 0;
    bool ok = true, ended = false;
    for (const char *q = line_end(p, end), *e; ok && q < end; q = e) {
        e = line_end(q, end);
        if (starts(q, e, "END:VCALENDAR")) {
            ended = true;
            break;
        }
        if (!starts(q, e, "BEGIN:")) { /* a header property */
            buf_append(&head, q, (size_t)(e - q));
            if (!head_neutral(q, e))
                hash_add(&salt, q, (size_t)(e - q));
            continue;
        }
        char *uid = NULL;
        if (!(e = component_end(q, end, &uid))) {
            ok = false; /* left open: the converter repairs it, no fast path */
        } else if (starts(q, e, "BEGIN:VEVENT") || starts(q, e, "BEGIN:VTODO")) {
            if (!uid || !*uid) { /* the converter derives one from the content */
                free(uid);
                ok = false;
                continue;
            }
            if (fc->ncomps == cap)
                fc->comps = xrealloc(fc->comps, (cap = cap ? 2 * cap : 64) * sizeof *fc->comps);
            fc->comps[fc->ncomps++] = (struct feed_comp){uid, (size_t)(q - ics), (size_t)(e - q)};
            uid = NULL;
        } else if (starts(q, e, "BEGIN:VTIMEZONE")) {
            buf_append(&head, q, (size_t)(e - q));
            hash_add(&salt, q, (size_t)(e - q));
        } else {
            ok = false; /* another kind of component: the whole feed is converted */
        }
        free(uid);
    }
    hash_hex(&salt, fc->salt);
    buf_append(&head, "", 1);
    fc->head = buf_take(&head);
    if (!ok || !ended) {
        feed_cut_free(fc);
        return NULL;
    }
    cut_entities(fc, ics);
    return fc;
}

/* ---- comparing with the last refresh -------------------------------------------------- */

char *feed_cut_digests(const struct feed_cut *fc, json_t *retry)
{
    static const char never[DIGEST_HEX + 1] = "00000000000000000000000000000000";
    struct buf b = {0};
    for (size_t i = 0; i < fc->nents; i++) {
        buf_puts(&b, json_object_get(retry, fc->ents[i].uid) ? never : fc->ents[i].digest);
        buf_puts(&b, " ");
        buf_puts(&b, fc->ents[i].uid);
        buf_puts(&b, "\n");
    }
    buf_append(&b, "", 1);
    return buf_take(&b);
}

/* strcmp of s against the n bytes at t */
static int cmp_n(const char *s, const char *t, size_t n)
{
    size_t sl = strlen(s);
    int c = memcmp(s, t, sl < n ? sl : n);
    return c ? c : (sl > n) - (sl < n);
}

json_t *feed_cut_changed(const struct feed_cut *fc, const char *stored)
{
    json_t *out = json_array();
    const char *p = stored ? stored : "";
    size_t i = 0;
    while (i < fc->nents || *p) {
        const char *nl = *p ? strchr(p, '\n') : NULL;
        if (*p && (!nl || nl - p < DIGEST_HEX + 1)) {
            json_decref(out); /* not our text: compare with nothing */
            return NULL;
        }
        const char *uid = *p ? p + DIGEST_HEX + 1 : NULL;
        size_t ulen = uid ? (size_t)(nl - uid) : 0;
        int c = i == fc->nents ? 1 : !uid ? -1 : cmp_n(fc->ents[i].uid, uid, ulen);
        if (c < 0) { /* new */
            json_array_append_new(out, json_string(fc->ents[i++].uid));
        } else if (c > 0) { /* gone */
            json_array_append_new(out, json_stringn(uid, ulen));
            p = nl + 1;
        } else {
            if (memcmp(fc->ents[i].digest, p, DIGEST_HEX) != 0)
                json_array_append_new(out, json_string(fc->ents[i].uid));
            i++;
            p = nl + 1;
        }
    }
    return out;
}

static const struct feed_entity *find_entity(const struct feed_cut *fc, const char *uid)
{
    size_t lo = 0, hi = fc->nents;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(fc->ents[mid].uid, uid);
        if (c == 0)
            return &fc->ents[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

char *feed_cut_calendar(const struct feed_cut *fc, const char *ics, json_t *uids)
{
    struct buf b = {0};
    buf_puts(&b, "BEGIN:VCALENDAR\r\n");
    buf_puts(&b, fc->head);
    size_t i;
    json_t *u;
    json_array_foreach(uids, i, u)
    {
        const struct feed_entity *en = find_entity(fc, json_string_value(u));
        for (size_t k = 0; en && k < en->n; k++)
            buf_append(&b, ics + fc->comps[en->first + k].off, fc->comps[en->first + k].len);
    }
    buf_puts(&b, "END:VCALENDAR\r\n");
    buf_append(&b, "", 1);
    return buf_take(&b);
}
