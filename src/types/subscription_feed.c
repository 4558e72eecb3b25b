/*
 * subscription_feed.c — the server side of the subscription upgrade
 * (draft-ietf-calext-subscription-upgrade-13 §3, issue 17 §3): a calendar's feed
 * answered with only what changed since a sync token (the account's CalendarEvent
 * state), deletions as skeleton VEVENTs with STATUS:DELETED (§3.2, §4.1). The store
 * keeps no data of a destroyed object, so a destroyed event leaves a tombstone (its
 * uid and calendars, under its id) in a private object type that the delta reads.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/icalendar_jscalendar/ical.h"
#include "types/calendar_event.h"
#include "types/subscription.h"
#include "types/types.h"
#include "util/util.h"

/* Tombstones are not a JMAP type: never registered, only written and read here. */
static const struct jtype tombstone_type = {.name = "CalendarEventTombstone"};

/* Per account: {"lowest"}: the oldest state a delta can start from now that
 * tombstones before it are pruned (subscription_tombstones_prune). */
static const struct jtype horizon_type = {.name = "CalendarEventTombstoneHorizon"};
#define HORIZON_ID "_"

/* A tombstone: the event's uid and calendars, when (at) and after which state it
 * was destroyed (the destroy's own state is later; the pruning finds it). */
static void tombstone_write(struct store_conn *c, const char *account, json_t *old)
{
    const char *id = json_string_value(json_object_get(old, "id"));
    const char *uid = json_string_value(json_object_get(old, "uid"));
    if (!id || !uid)
        return;
    json_t *t =
        json_pack("{s:s, s:O, s:I, s:I}", "uid", uid, "calendarIds",
                  json_object_get(old, "calendarIds"), "at", (json_int_t)util_now(), "state",
                  (json_int_t)store_state_get(c, account, calendar_event_type.name));
    jmap_object_write(c, NULL, &tombstone_type, account, id, t, true);
    json_decref(t);
}

void subscription_note_destroyed(struct jset *s, json_t *old)
{
    if (s)
        tombstone_write(jset_conn(s), jset_account(s), old);
}

void subscription_refresher_destroyed(struct store_conn *c, const char *account, json_t *old)
{
    tombstone_write(c, account, old);
}

int subscription_feed_sync(struct store_conn *c, const char *account, const char *id,
                           int64_t *current, int64_t *lowest)
{
    if (!store_object_exists(c, account, calendar_type.name, id))
        return STORE_NOTFOUND;
    *current = store_state_get(c, account, calendar_event_type.name);
    *lowest = store_state_lowest(c, account, calendar_event_type.name);
    json_t *h = store_object_get(c, account, horizon_type.name, HORIZON_ID);
    int64_t pruned = json_integer_value(json_object_get(h, "lowest"));
    json_decref(h);
    if (pruned > *lowest) /* §3.1: a token from before it gets 409 and starts over */
        *lowest = pruned;
    return STORE_OK;
}

/* ---- pruning: deletions are remembered for a bounded time --------------------------------- */

struct prune {
    int64_t before, from; /* prune what was destroyed before this time; after this state */
    json_t *ids;          /* tombstone id -> true */
    int64_t horizon;      /* the latest destroy state among them */
};

static int prune_pick(const char *id, json_t *obj, void *ud)
{
    struct prune *p = ud;
    if (json_integer_value(json_object_get(obj, "at")) >= p->before)
        return 0;
    int64_t st = json_integer_value(json_object_get(obj, "state"));
    if (!json_object_size(p->ids) || st < p->from)
        p->from = st;
    json_object_set_new(p->ids, id, json_true());
    return 0;
}

static int prune_state(const char *id, int64_t created, int64_t updated, bool destroyed, void *ud)
{
    struct prune *p = ud;
    (void)created;
    if (destroyed && json_object_get(p->ids, id) && updated > p->horizon)
        p->horizon = updated;
    return 0;
}

int subscription_tombstones_prune(struct store_conn *c, const char *account, int64_t ttl)
{
    struct prune p = {util_now() - ttl, 0, json_object(), 0};
    store_object_foreach(c, account, tombstone_type.name, prune_pick, &p);
    int rc = 0;
    if (json_object_size(p.ids)) {
        /* the destroys' own states, from the change log (a tombstone knows the state
         * before its destroy only) */
        store_changes(c, account, calendar_event_type.name, p.from, 0, prune_state, &p);
        const char *id;
        json_t *v;
        json_object_foreach(p.ids, id, v)
        {
            if (jmap_object_write(c, NULL, &tombstone_type, account, id, NULL, false))
                rc = -1;
        }
        json_t *h = store_object_get(c, account, horizon_type.name, HORIZON_ID);
        json_t *now = json_pack("{s:I}", "lowest", (json_int_t)p.horizon);
        if (p.horizon > json_integer_value(json_object_get(h, "lowest")) &&
            jmap_object_write(c, NULL, &horizon_type, account, HORIZON_ID, now, !h))
            rc = -1;
        json_decref(now);
        json_decref(h);
    }
    json_decref(p.ids);
    return rc;
}

/* An iCalendar TEXT value (RFC 5545 §3.3.11) of the line "NAME:value", folded at 75
 * octets (§3.1). */
static void text_line(struct buf *b, const char *name, const char *v)
{
    struct buf line = {0};
    buf_printf(&line, "%s:", name);
    for (; *v; v++) {
        if (*v == '\\' || *v == ';' || *v == ',')
            buf_printf(&line, "\\%c", *v);
        else if (*v == '\n')
            buf_puts(&line, "\\n");
        else if (*v != '\r')
            buf_append(&line, v, 1);
    }
    size_t col = 0;
    for (size_t i = 0; i < line.len; i++) {
        /* never split a UTF-8 sequence: fold before a lead byte only */
        if (col >= 74 && ((unsigned char)line.data[i] & 0xc0) != 0x80) {
            buf_puts(b, "\r\n ");
            col = 1;
        }
        buf_append(b, line.data + i, 1);
        col++;
    }
    buf_puts(b, "\r\n");
    buf_free(&line);
}

/* §3.2: "a skeleton, but valid, entity ... with STATUS:DELETED": UID, DTSTAMP and
 * DTSTART (generated). */
static char *skeleton(const char *uid)
{
    struct buf b = {0};
    char now[21], stamp[17];
    util_utc_format(util_now(), now);
    snprintf(stamp, sizeof stamp, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", now, now + 5, now + 8, now + 11,
             now + 14, now + 17);
    buf_puts(&b, "BEGIN:VEVENT\r\n");
    text_line(&b, "UID", uid);
    buf_printf(&b, "DTSTAMP:%s\r\nDTSTART:%s\r\nSTATUS:DELETED\r\nEND:VEVENT\r\n", stamp, stamp);
    return buf_take(&b);
}

struct delta {
    struct store_conn *c;
    const char *account, *cal;
    ical_writer *w;
    jmap_write_fn write;
    void *ud;
    int rc;
    json_t *deleted_uids; /* uid -> true, one skeleton per entity */
    size_t limit, count;  /* §3.3: components at most (0: no limit), written */
    int64_t last, stop;   /* the state of the last change taken; where a page ended */
};

static void emit(struct delta *d, char *text)
{
    if (text && d->rc == 0 && d->write(d->ud, text, strlen(text)) != 0)
        d->rc = STORE_ERR;
    free(text);
}

/* One component of the answer (counted for §3.3 paging). */
static void emit_component(struct delta *d, char *text)
{
    if (text)
        d->count++;
    emit(d, text);
}

/* An event as the feed shows it. */
static char *event_text(struct delta *d, json_t *e)
{
    static const char *const jmap_only[] = {"id", "calendarIds", "isDraft", "isOrigin",
                                            "baseEventId"};
    json_t *js = json_copy(e);
    for (size_t i = 0; i < sizeof jmap_only / sizeof *jmap_only; i++)
        json_object_del(js, jmap_only[i]);
    char *err = NULL;
    char *text = ical_writer_add(d->w, js, &err);
    free(err);
    json_decref(js);
    return text;
}

static void deleted(struct delta *d, const char *uid)
{
    if (!uid || json_object_get(d->deleted_uids, uid))
        return;
    json_object_set_new(d->deleted_uids, uid, json_true());
    emit_component(d, skeleton(uid));
}

static int changed(const char *id, int64_t created, int64_t updated, bool destroyed, void *ud)
{
    struct delta *d = ud;
    (void)created;
    if (d->limit && d->count >= d->limit) { /* §3.3: the page is full, more follow */
        d->stop = d->last;
        return 1;
    }
    d->last = updated;
    if (destroyed) {
        json_t *t = store_object_get(d->c, d->account, tombstone_type.name, id);
        if (t && json_object_get(json_object_get(t, "calendarIds"), d->cal))
            deleted(d, json_string_value(json_object_get(t, "uid")));
        json_decref(t);
        return d->rc;
    }
    json_t *e = store_object_get(d->c, d->account, calendar_event_type.name, id);
    if (!e)
        return d->rc;
    if (!json_object_get(json_object_get(e, "calendarIds"), d->cal)) {
        /* moved out of this calendar since: deleted from its feed. (An event that was
         * never in it also lands here: a skeleton for an unknown uid is harmless, §3.2
         * lets the client drop it.) */
        deleted(d, json_string_value(json_object_get(e, "uid")));
    } else {
        emit_component(d, event_text(d, e));
    }
    json_decref(e);
    return d->rc;
}

int subscription_feed_delta(struct store_conn *c, const char *account, const char *cal,
                            int64_t since, jmap_write_fn write, void *ud)
{
    int64_t stop;
    char next[64];
    return subscription_feed_page(c, account, cal, since, NULL, 0, write, ud, next, &stop);
}

/* §3.3 for the full listing. A listing in pages is of the calendar as it was at the
 * state of its first page (base, which every page's token carries): what changes
 * after is the next delta's. So the calendar's member ids, sorted, are read once per
 * (calendar, base) and kept here for the pages after, each of which then costs only
 * its own events (a binary search and `limit` reads), not a read of every event of
 * the account. A member gone or moved out since base is skipped when read. The
 * listings are bounded (cleared when full; a miss only reads them again). */
#define LISTINGS_MAX 64
static pthread_mutex_t listings_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *listings; /* "account/cal/base" -> [sorted member ids] */

struct listing {
    const char *cal;
    json_t *ids;
};

static int list_member(const char *id, json_t *obj, void *ud)
{
    struct listing *l = ud;
    if (json_object_get(json_object_get(obj, "calendarIds"), l->cal))
        json_array_append_new(l->ids, json_string(id));
    return 0;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* The calendar's member ids at base, sorted (a new reference). */
static json_t *listing_get(struct delta *d, int64_t base)
{
    char *key = xasprintf("%s/%s/%lld", d->account, d->cal, (long long)base);
    pthread_mutex_lock(&listings_mu);
    json_t *ids = json_incref(json_object_get(listings, key));
    pthread_mutex_unlock(&listings_mu);
    if (!ids) {
        struct listing l = {d->cal, json_array()};
        store_object_foreach(d->c, d->account, calendar_event_type.name, list_member, &l);
        size_t n = json_array_size(l.ids);
        json_t **v = xcalloc(n ? n : 1, sizeof *v);
        for (size_t i = 0; i < n; i++)
            v[i] = json_incref(json_array_get(l.ids, i));
        qsort(v, n, sizeof *v, by_id);
        ids = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(ids, v[i]);
        free(v);
        json_decref(l.ids);
        pthread_mutex_lock(&listings_mu);
        if (!listings || json_object_size(listings) >= LISTINGS_MAX) {
            json_decref(listings);
            listings = json_object();
        }
        json_object_set(listings, key, ids);
        pthread_mutex_unlock(&listings_mu);
    }
    free(key);
    return ids;
}

/* The next `limit` members after `after` of the listing at base. */
static void full_page(struct delta *d, int64_t base, const char *after, char next[64])
{
    json_t *ids = listing_get(d, base);
    size_t n = json_array_size(ids), lo = 0, hi = n;
    while (lo < hi) { /* the first id after `after` */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(json_string_value(json_array_get(ids, mid)), after) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = d->limit && d->limit < n - lo ? lo + d->limit : n;
    for (size_t i = lo; i < end; i++) {
        json_t *e = store_object_get(d->c, d->account, calendar_event_type.name,
                                     json_string_value(json_array_get(ids, i)));
        if (e && json_object_get(json_object_get(e, "calendarIds"), d->cal))
            emit_component(d, event_text(d, e));
        json_decref(e);
    }
    if (end < n)
        snprintf(next, 64, "%s", json_string_value(json_array_get(ids, end - 1)));
    json_decref(ids);
}

int subscription_feed_page(struct store_conn *c, const char *account, const char *cal,
                           int64_t since, const char *after, size_t limit, jmap_write_fn write,
                           void *ud, char next[64], int64_t *stop)
{
    if (!store_object_exists(c, account, calendar_type.name, cal))
        return STORE_NOTFOUND;
    struct delta d = {
        c, account, cal, ical_writer_new(NULL, NULL), write, ud, 0, json_object(), limit, 0, 0, -1};
    next[0] = 0;
    emit(&d, ical_writer_begin(d.w));
    if (after) /* the listing of the first page's state (since on the pages after it) */
        full_page(&d, since >= 0 ? since : store_state_get(c, account, calendar_event_type.name),
                  after, next);
    else
        store_changes(c, account, calendar_event_type.name, since, 0, changed, &d);
    emit(&d, ical_writer_end(d.w));
    ical_writer_free(d.w);
    json_decref(d.deleted_uids);
    *stop = d.stop;
    return d.rc;
}
