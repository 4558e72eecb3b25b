/*
 * calendar_event_query.c — CalendarEvent/query and /queryChanges
 * (draft-ietf-jmap-calendars-27 §5.11, §5.12); CalendarEvent/parse (§5.13) is in
 * calendar_event_parse.c.
 * Candidates come from the side index: the time range of each series (so only
 * series that can overlap the window are expanded) and the FTS5 text index; every
 * candidate is then checked exactly. With expandRecurrences each instance in the
 * window is a result, with a synthetic id.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/icalendar_jscalendar/ical.h"
#include "formats/jscalendar/jscal_util.h"
#include "formats/recurrence/recur.h"
#include "formats/timezone/tz.h"
#include "jmap/collation.h"
#include "jmap/engine.h"
#include "types/calendar_event.h"
#include "types/event_cache.h"
#include "types/event_members.h"
#include "types/event_page_marks.h"
#include "types/share.h"
#include "types/text_match.h"
#include "types/types.h"
#include "util/util.h"

#define FAR_FUTURE 253402300799LL /* 9999-12-31T23:59:59Z */
#define MAX_EXPAND_SECONDS (400LL * 86400) /* maxExpandedQueryDuration P400D */

/* ---- text matching (§5.11.1) -----------------------------------------------------------
 * Case-insensitive and diacritic-insensitive; quoted text is a phrase (matched as
 * is), other words are tokens that must each start a word somewhere in the field
 * (types/text_match.c, shared with Task/query). */

static void add(struct buf *b, json_t *v)
{
    if (json_is_string(v)) {
        buf_puts(b, " ");
        buf_puts(b, json_string_value(v));
    }
}

/* The text of one field of an event or instance, as a match key. */
static char *field_text(json_t *obj, const char *field)
{
    struct buf b = {0};
    bool all = strcmp(field, "text") == 0;
    if (all || strcmp(field, "title") == 0)
        add(&b, json_object_get(obj, "title"));
    if (all || strcmp(field, "description") == 0)
        add(&b, json_object_get(obj, "description"));
    const char *k;
    json_t *v;
    if (all || strcmp(field, "location") == 0)
        json_object_foreach(json_object_get(obj, "locations"), k, v)
        {
            add(&b, json_object_get(v, "name"));
            add(&b, json_object_get(v, "description"));
        }
    bool owner = strcmp(field, "owner") == 0, attendee = strcmp(field, "attendee") == 0;
    if (all || owner || attendee)
        json_object_foreach(json_object_get(obj, "participants"), k, v)
        {
            json_t *roles = json_object_get(v, "roles");
            if ((owner && !json_is_true(json_object_get(roles, "owner"))) ||
                (attendee && roles && !json_is_true(json_object_get(roles, "attendee"))))
                continue;
            add(&b, json_object_get(v, "name"));
            add(&b, json_object_get(v, "email"));
            add(&b, json_object_get(v, "calendarAddress"));
        }
    if (all) {
        json_object_foreach(json_object_get(obj, "keywords"), k, v)
        {
            buf_puts(&b, " ");
            buf_puts(&b, k);
        }
        json_object_foreach(json_object_get(obj, "virtualLocations"), k, v)
        {
            add(&b, json_object_get(v, "name"));
            add(&b, json_object_get(v, "description"));
        }
    }
    char *key = text_match_key(b.data ? b.data : "");
    buf_free(&b);
    return key;
}

static bool text_matches(json_t *obj, const char *field, json_t *terms)
{
    char *key = field_text(obj, field);
    bool ok = text_match_all(key, terms);
    free(key);
    return ok;
}

/* ---- the query ------------------------------------------------------------------------------ */

static const char *const text_fields[] = {"text", "title", "description", "location", "owner",
                                          "attendee", NULL};

static bool is_text_field(const char *k)
{
    for (const char *const *f = text_fields; *f; f++)
        if (strcmp(*f, k) == 0)
            return true;
    return false;
}

/* Issue 21 §1: 40 bytes, the id in the query's pool: 2,800 items of 136 bytes (a month
 * at 100,000 events) and qsort's copy were mapped and unmapped by malloc per query, and
 * the other reader's page faults waited for the kernel's memory-map lock. */
struct item {
    json_t *obj; /* the event (or, with text filters, the instance): held in q->hold */
    int64_t start;
    uint32_t id_at; /* the id at ids.data + id_at */
    char rid[20];
};

/* an index row whose event is not cached (span_cb) */
struct missed {
    char *id;
    int64_t modseq;
};

struct query {
    struct jmap_req *r;
    const char *account;
    const char *tz;   /* timeZone argument */
    bool expand;
    bool instance_text; /* conditions that need each instance's own object */
    json_t *filter;   /* the FilterCondition tree */
    struct item *items;
    size_t nitems, cap;
    struct buf ids;   /* the items' ids, each ending in NUL */
    json_t *hold;     /* references that keep items' objects alive */
    json_t *times;    /* LocalDateTime argument -> UTC seconds */
    int64_t after, before;
    bool has_after, has_before;
    int code;         /* RECUR_ERR_LIMIT seen */
    bool by_span;     /* single events may be answered from their cached span */
    bool no_objects;  /* sorted by start or recurrenceId alone: items hold no cached tree,
                       * whose count two readers of a month bounced (issue 21 §1) */
    int64_t state;    /* the account's CalendarEvent state (expanded queries), for /get */
    json_t *rights;   /* a sharee's: calendar id -> CalendarRights bits; NULL: all */
    bool reads_all;   /* ... with mayReadItems on every calendar of the account */
    struct missed *missed; /* events of the span scan read after it (consider_missed) */
    size_t nmissed, capmissed;
};

/* The type's filter hook, for validation only (obj is NULL): -1 unsupported,
 * -2 bad value, 1 ok (§5.11.1). Matching is done here, per instance. */
int event_filter_condition(struct jmap_req *r, json_t *obj, const char *key, json_t *v)
{
    if (strcmp(key, "inCalendar") == 0)
        return json_is_string(v) ? 1 : -2;
    if (strcmp(key, "after") == 0 || strcmp(key, "before") == 0) {
        jscal_ldt t;
        return json_is_string(v) && jscal_ldt_parse(json_string_value(v), &t) == 0 ? 1 : -2;
    }
    if (is_text_field(key) || strcmp(key, "uid") == 0)
        return json_is_string(v) ? 1 : -2;
    return -1;
}

static bool filter_has_text(json_t *f)
{
    json_t *conds = json_object_get(f, "conditions");
    if (json_object_get(f, "operator")) {
        size_t i;
        json_t *c;
        json_array_foreach(conds, i, c)
        {
            if (filter_has_text(c))
                return true;
        }
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach(f, k, v)
    {
        if (is_text_field(k))
            return true;
    }
    return false;
}

/* A LocalDateTime argument read in the timeZone argument, converted once per
 * query (a time zone conversion costs far more than the lookup). */
static int64_t local_arg(struct query *q, json_t *v)
{
    const char *ldt = json_string_value(v);
    json_t *known = json_object_get(q->times, ldt);
    if (known)
        return json_integer_value(known);
    int64_t t = 0;
    event_local_to_utc(NULL, ldt, q->tz, NULL, &t);
    json_object_set_new(q->times, ldt, json_integer(t));
    return t;
}

/* Does the series have an occurrence overlapping [from, to)? */
static bool occurs_in(struct query *q, json_t *obj, bool has_from, int64_t from, bool has_to,
                      int64_t to)
{
    int code = 0;
    char *err = NULL;
    recur_limits lim = {0, 0};
    recur_iter *it = recur_iter_new(obj, has_from ? from : -FAR_FUTURE, has_to ? to : FAR_FUTURE,
                                    q->tz, &lim, 0, &code, &err);
    free(err);
    if (!it && code == RECUR_ERR_LIMIT) {
        /* Issue 19 §1: a stored series too expensive to expand (kept from before the
         * limits, or imported) must not fail or stall every query of its account. A
         * query without expandRecurrences matches it by its first occurrence only
         * (jscalendarbis §4.3.3.1 rule 1: the start always is one); an expanded query
         * still answers cannotCalculateOccurrences (jmap-calendars §5.11). */
        int64_t s = 0, e = 0;
        if (event_utc_span(obj, q->tz, &s, &e))
            return false;
        return (!has_from || e > from || (s == e && s >= from)) && (!has_to || s < to);
    }
    if (!it)
        return false;
    recur_occurrence occ;
    bool any = recur_iter_next(it, &occ) == 1;
    recur_iter_free(it);
    return any;
}

/* ---- a sharee's view (issue 14; calendars-27 §4, §5.7; RFC 9670 §4) ----------------------------
 * Rights are per calendar: the user's rights are read once per query (q->rights), and
 * each candidate is decided as the index yields it, before it is expanded: the owner's
 * index path, without a check of each result afterwards. */

/* Whether the user reads calendar cid: one a sharee cannot read is not there for them,
 * even for an event that is also in one they can (issue 14; RFC 9670 §4). */
static bool calendar_readable(struct query *q, const char *cid)
{
    return !q->rights || (json_integer_value(json_object_get(q->rights, cid)) & CR_READ);
}

/* share_member_visible for an event, with the query's rights: in a calendar the user
 * reads, and not secret (§5.7: as though it did not exist). */
static bool sharee_sees_obj(struct query *q, json_t *obj)
{
    if (!q->rights)
        return true;
    const char *privacy = json_string_value(json_object_get(obj, "privacy"));
    if (privacy && strcmp(privacy, "secret") == 0)
        return false;
    if (q->reads_all) /* every event is in one calendar at least */
        return true;
    const char *cid;
    json_t *v;
    json_object_foreach(json_object_get(obj, "calendarIds"), cid, v)
    {
        if (calendar_readable(q, cid))
            return true;
    }
    return false;
}

/* The query's state (read after the index scan, which it travelled with: event_query). */
static int64_t query_state(struct query *q)
{
    if (q->state < 0)
        q->state = store_state_get(jmap_req_conn(q->r), q->account, calendar_event_type.name);
    return q->state;
}

/* The same for an event the index answers without its object (its parsed entry is
 * usually cached: a query of the same window has read it). The entry is marked
 * current at the query's state, as consider() marks its own: the /get of the ids that
 * follows finds it without a look-up (issue 14: it read the store again, and a
 * sharee's view then took the copy-and-overlay path). */
static bool sharee_sees(struct query *q, const char *id, int64_t modseq)
{
    if (!q->rights)
        return true;
    struct event_cached *e = event_cache_peek(q->account, id, modseq);
    if (!e)
        e = event_cache_get(jmap_req_conn(q->r), q->account, id, modseq, q->tz);
    if (e && query_state(q) > 0) /* (an expanded query's: by_span) */
        event_cache_seen(e, q->state);
    bool yes = e && sharee_sees_obj(q, e->obj);
    event_cache_release(e);
    return yes;
}

/* A sharee's rights, read once per query (issue 14); nothing for the owner. */
static void query_rights(struct query *q, const struct store_access *a)
{
    if (!share_filtered(a))
        return;
    q->rights = share_collection_rights(q->r, a, SHARE_CALENDAR);
    const char *cid;
    json_t *v;
    q->reads_all = true;
    json_object_foreach(q->rights, cid, v)
    {
        q->reads_all &= (json_integer_value(v) & CR_READ) != 0;
    }
}

/* Matches one condition object against an event (whole series) or an instance. */
static bool match_condition(struct query *q, json_t *cond, json_t *obj, bool instance,
                            int64_t start, int64_t end)
{
    const char *key;
    json_t *v;
    bool has_after = false, has_before = false;
    int64_t after = 0, before = 0;
    int md;
    json_object_foreach(cond, key, v)
    {
        if (strcmp(key, "inCalendar") == 0) {
            if (!json_object_get(json_object_get(obj, "calendarIds"), json_string_value(v)) ||
                !calendar_readable(q, json_string_value(v)))
                return false;
        } else if (strcmp(key, "uid") == 0) {
            json_t *uid = json_object_get(obj, "uid");
            if (!json_is_string(uid) || strcmp(json_string_value(uid), json_string_value(v)))
                return false;
        } else if (strcmp(key, "after") == 0) {
            has_after = true;
            after = local_arg(q, v);
        } else if (strcmp(key, "before") == 0) {
            has_before = true;
            before = local_arg(q, v);
        } else if ((md = engine_metadata_match(q->r, &calendar_event_type, obj, key, v)) >= 0) {
            if (!md) /* draft-ietf-jmap-metadata-02 §3.5 (issue 18) */
                return false;
        } else {
            json_t *terms = text_match_terms(json_string_value(v));
            bool ok = text_matches(obj, key, terms);
            /* a series matches if any recurrence does (§5.11.1): overridden text too */
            if (!ok && !instance) {
                const char *rid;
                json_t *ov;
                json_object_foreach(json_object_get(obj, "recurrenceOverrides"), rid, ov)
                {
                    json_t *tmp = json_object();
                    const char *pk;
                    json_t *pv;
                    json_object_foreach(ov, pk, pv)
                    {
                        if (!strchr(pk, '/'))
                            json_object_set(tmp, pk, pv);
                    }
                    ok = json_object_size(tmp) && text_matches(tmp, key, terms);
                    json_decref(tmp);
                    if (ok)
                        break;
                }
            }
            json_decref(terms);
            if (!ok)
                return false;
        }
    }
    if (!has_after && !has_before)
        return true;
    /* after: the end must be after it; before: the start must be before it */
    if (instance)
        return (!has_after || end > after || (end == start && start == after)) &&
               (!has_before || start < before);
    return occurs_in(q, obj, has_after, after, has_before, before);
}

static bool match_filter(struct query *q, json_t *f, json_t *obj, bool instance, int64_t start,
                         int64_t end)
{
    json_t *op = json_object_get(f, "operator");
    if (!op)
        return match_condition(q, f, obj, instance, start, end);
    const char *o = json_string_value(op);
    size_t i;
    json_t *c;
    bool and_ = strcmp(o, "AND") == 0, any = false;
    json_array_foreach(json_object_get(f, "conditions"), i, c)
    {
        bool m = match_filter(q, c, obj, instance, start, end);
        if (and_ && !m)
            return false;
        any |= m;
    }
    return and_ ? true : strcmp(o, "OR") == 0 ? any : !any;
}

static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

static void add_item(struct query *q, const char *id, json_t *obj, int64_t start, const char *rid)
{
    if (q->nitems == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 256;
        q->items = xrealloc(q->items, q->cap * sizeof *q->items);
    }
    struct item *it = &q->items[q->nitems++];
    it->id_at = (uint32_t)q->ids.len;
    buf_append(&q->ids, id, strlen(id) + 1);
    it->obj = q->no_objects ? NULL : obj;
    it->start = start;
    copy_str(it->rid, sizeof it->rid, rid ? rid : "");
}

/* Expands one event directly over the query window (when its cached occurrences
 * do not cover it, or when conditions need each instance's object). */
static void consider_direct(struct query *q, const char *id, json_t *obj, bool recurring)
{
    int code = 0;
    char *err = NULL;
    recur_limits lim = {0, 0};
    recur_iter *it = recur_iter_new(obj, q->after, q->before, q->tz, &lim,
                                    q->instance_text ? RECUR_WANT_OBJECT : 0, &code, &err);
    free(err);
    if (!it) {
        if (code == RECUR_ERR_LIMIT)
            q->code = RECUR_ERR_LIMIT;
        return;
    }
    recur_occurrence occ;
    while (recur_iter_next(it, &occ) == 1) {
        json_t *inst = occ.object ? occ.object : obj;
        if (!match_filter(q, q->filter, inst, true, occ.utc_start, occ.utc_end))
            continue;
        if (!recurring) {
            add_item(q, id, obj, occ.utc_start, NULL);
            continue;
        }
        json_t *keep = inst == obj || q->no_objects ? obj : json_deep_copy(inst);
        if (keep != obj) {
            json_object_set_new(keep, "recurrenceId", json_string(occ.recurrence_id));
            json_array_append_new(q->hold, keep);
        }
        char sid[96];
        event_instance_id(id, occ.recurrence_id, sid);
        add_item(q, sid, keep, occ.utc_start, occ.recurrence_id);
    }
    recur_iter_free(it);
}

/* A single event in a time zone known by its UTC span [s0, e0) (by_span): what
 * consider_entry does for it, without its object. */
static void consider_span(struct query *q, const char *id, int64_t modseq, int64_t s0, int64_t e0)
{
    if ((e0 > q->after || (e0 == s0 && s0 == q->after)) && s0 < q->before &&
        sharee_sees(q, id, modseq))
        add_item(q, id, NULL, s0, NULL);
}

/* One stored event, its cache entry e (taken): its matching instances (expanded) or
 * itself. */
static void consider_entry(struct query *q, const char *id, struct event_cached *e)
{
    if (!sharee_sees_obj(q, e->obj)) {
        event_cache_release(e);
        return;
    }
    struct event_cached *longer = q->expand ? event_cache_extend(e, q->before) : NULL;
    if (longer) { /* a series without an end, asked past what is expanded (issue 21) */
        event_cache_release(e);
        e = longer;
    }
    /* the /get of the instances that follows trusts it without a look-up (issue 21 §2) */
    event_cache_seen(e, query_state(q));
    json_t *obj = e->obj;
    if (!q->no_objects)
        json_array_append(q->hold, obj);
    json_t *f = q->filter;
    if (!q->expand) {
        int64_t s = 0, end = 0;
        event_utc_span(obj, q->tz, &s, &end);
        if (!f || match_filter(q, f, obj, false, s, end))
            add_item(q, id, obj, s, NULL);
    } else if (!e->expanded || q->instance_text || q->before > e->covered_until) {
        consider_direct(q, id, obj, e->recurring);
    } else {
        /* the cached occurrences: those starting in [after - longest, before) */
        size_t lo = 0, hi = e->nocc;
        int64_t from = q->after - e->max_duration;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (e->occ[mid].start < from)
                lo = mid + 1;
            else
                hi = mid;
        }
        /* a plain condition's other keys (inCalendar, uid) are the same for
         * every instance: checked once, with only the window per instance */
        bool plain = !json_object_get(f, "operator");
        if (plain && !match_filter(q, f, obj, true, q->after, q->after + 1)) {
            event_cache_release(e);
            return;
        }
        for (size_t i = lo; i < e->nocc && e->occ[i].start < q->before; i++) {
            const struct event_occ *o = &e->occ[i];
            if (!(o->end > q->after || (o->end == o->start && o->start == q->after)))
                continue;
            if (!plain && !match_filter(q, f, obj, true, o->start, o->end))
                continue;
            char sid[96];
            if (e->recurring)
                event_instance_id(id, o->rid, sid);
            add_item(q, e->recurring ? sid : id, obj, o->start, e->recurring ? o->rid : NULL);
        }
    }
    event_cache_release(e);
}

/* One stored event at modseq. */
static void consider(struct query *q, const char *id, int64_t modseq)
{
    int64_t s0 = 0, e0 = 0;
    if (q->by_span && event_cache_span(q->account, id, modseq, &s0, &e0)) {
        consider_span(q, id, modseq, s0, e0);
        return;
    }
    struct event_cached *e = event_cache_get(jmap_req_conn(q->r), q->account, id, modseq, q->tz);
    if (e)
        consider_entry(q, id, e);
}

/* Candidate collection: the index narrows by time and text. */
static int cand_cb(const char *id, int64_t modseq, void *ud)
{
    json_object_set_new(ud, id, json_integer(modseq));
    return 0;
}

/* A row of the span scan: a single event in a time zone whose range is exact is
 * answered from the index when the query needs nothing else of it (by_span), one whose
 * span or entry at modseq (in the query's zone, if floating) is cached from the cache
 * (the entry found once: issue 21 §1, each look-up takes a stripe's lock, which two
 * readers of one month contend for); one not cached waits for the others
 * (consider_missed). */
static int span_cb(const char *id, int64_t modseq, bool has_range, bool exact, int64_t start,
                   int64_t end, void *ud)
{
    struct query *q = ud;
    if (q->by_span && has_range && exact) {
        consider_span(q, id, modseq, start, end);
        return 0;
    }
    /* a row with a range but not an exact one is a series or a floating event, which
     * has no span (or a row older than exact ranges: consider() still finds its span) */
    if (q->by_span && !has_range && event_cache_span(q->account, id, modseq, &start, &end)) {
        consider_span(q, id, modseq, start, end);
        return 0;
    }
    struct event_cached *e = event_cache_peek(q->account, id, modseq);
    if (!e || !e->obj || (e->floating && strcmp(e->float_tz, q->tz) != 0)) {
        event_cache_release(e);
        if (q->nmissed == q->capmissed) {
            q->capmissed = q->capmissed ? q->capmissed * 2 : 64;
            q->missed = xrealloc(q->missed, q->capmissed * sizeof *q->missed);
        }
        q->missed[q->nmissed++] = (struct missed){xstrdup(id), modseq};
        return 0;
    }
    consider_entry(q, id, e);
    return 0;
}

/* The events of the span scan that were not cached, read in one go where the store
 * is a server (issue 15 §3: a cold month cost PostgreSQL a round trip per event),
 * then considered; items are sorted afterwards, so their order does not matter. */
static void consider_missed(struct query *q)
{
    if (!q->nmissed)
        return;
    const char **ids = xcalloc(q->nmissed, sizeof *ids);
    for (size_t i = 0; i < q->nmissed; i++)
        ids[i] = q->missed[i].id;
    store_object_prefetch(jmap_req_conn(q->r), q->account, calendar_event_type.name, ids,
                          q->nmissed);
    free(ids);
    for (size_t i = 0; i < q->nmissed; i++) {
        consider(q, q->missed[i].id, q->missed[i].modseq);
        free(q->missed[i].id);
    }
    free(q->missed);
    q->missed = NULL;
    q->nmissed = q->capmissed = 0;
}

static int hit_cb(const char *id, void *ud)
{
    json_object_set_new(ud, id, json_true());
    return 0;
}

/* The store's text search for the text conditions at the top level (AND) of the
 * filter: a superset of what the exact match accepts. Every word of every search
 * term must start a word of the field (the exact matcher then checks phrases).
 * Fills *terms (a new array; the strings live in *hold) and returns the count, 0
 * if there are none. */
static size_t text_terms(json_t *filter, struct store_text_term **terms, json_t **hold)
{
    static const struct {
        const char *key;
        int field;
    } cols[] = {{"text", -1},
                {"title", EVENT_TEXT_TITLE},
                {"description", EVENT_TEXT_DESCRIPTION},
                {"location", EVENT_TEXT_LOCATION},
                {"owner", EVENT_TEXT_OWNER},
                {"attendee", EVENT_TEXT_ATTENDEE}};
    json_t *conds = json_array();
    if (json_is_string(json_object_get(filter, "operator"))) {
        if (strcmp(json_string_value(json_object_get(filter, "operator")), "AND") == 0)
            json_array_extend(conds, json_object_get(filter, "conditions"));
    } else if (filter) {
        json_array_append(conds, filter);
    }
    *hold = json_array();
    size_t n = 0, i;
    *terms = NULL;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
            json_t *v = json_object_get(c, cols[k].key);
            if (!json_is_string(v) || json_object_get(c, "operator"))
                continue;
            json_t *words = text_match_terms(json_string_value(v));
            text_match_store_terms(words, cols[k].field, terms, &n);
            json_array_append_new(*hold, words);
        }
    }
    json_decref(conds);
    return n;
}

static int load_cb(const char *id, json_t *obj, void *ud)
{
    struct query *q = ud;
    int64_t m = store_object_modseq(jmap_req_conn(q->r), q->account, calendar_event_type.name, id);
    if (m >= 0)
        consider(q, id, m);
    return 0;
}

/* ---- sorting ---------------------------------------------------------------------------------- */

/* A sort spec compiled once per query: the comparator runs n log n times. */
enum sort_prop { SORT_START, SORT_RID, SORT_OTHER };
struct sort_key {
    enum sort_prop prop;
    const char *name, *collation;
    bool desc;
};
struct sort_spec {
    struct sort_key keys[8];
    size_t n;
    const char *ids; /* the items' ids (struct query.ids) */
};

static int item_cmp(const void *pa, const void *pb, void *ctx)
{
    const struct item *a = pa, *b = pb;
    const struct sort_spec *spec = ctx;
    for (size_t i = 0; i < spec->n; i++) {
        const struct sort_key *k = &spec->keys[i];
        int d = 0;
        if (k->prop == SORT_START) {
            d = a->start < b->start ? -1 : a->start > b->start;
        } else if (k->prop == SORT_RID) {
            d = strcmp(a->rid, b->rid);
        } else {
            const char *x = json_string_value(json_object_get(a->obj, k->name)),
                       *y = json_string_value(json_object_get(b->obj, k->name));
            d = !x ? (y ? -1 : 0) : !y ? 1 : collation_compare(k->collation, x, y);
        }
        if (d)
            return k->desc ? -d : d;
    }
    return strcmp(spec->ids + a->id_at, spec->ids + b->id_at); /* ties in id order: stable */
}

static void sort_items(struct query *q, json_t *sort)
{
    struct sort_spec spec = {.n = 0, .ids = q->ids.data};
    size_t i;
    json_t *c;
    json_array_foreach(sort, i, c)
    {
        if (spec.n == sizeof spec.keys / sizeof spec.keys[0])
            break;
        struct sort_key *k = &spec.keys[spec.n++];
        k->name = json_string_value(json_object_get(c, "property"));
        k->prop = strcmp(k->name, "start") == 0          ? SORT_START
                  : strcmp(k->name, "recurrenceId") == 0 ? SORT_RID
                                                         : SORT_OTHER;
        k->collation = json_string_value(json_object_get(c, "collation"));
        if (!k->collation)
            k->collation = "i;octet";
        k->desc = json_is_false(json_object_get(c, "isAscending"));
    }
    if (q->nitems > 1)
        qsort_r(q->items, q->nitems, sizeof *q->items, item_cmp, &spec);
}

/* The type's compare hook, used to probe which properties sort (§5.11.2); the
 * comparison itself is item_cmp, over instances. */
int event_compare(json_t *a, json_t *b, const char *property, bool *ok)
{
    static const char *const props[] = {"start", "uid", "recurrenceId", "created", "updated"};
    *ok = false;
    for (size_t k = 0; k < sizeof props / sizeof props[0]; k++)
        *ok |= strcmp(props[k], property) == 0;
    return 0;
}

static const struct argspec event_query_args[] = {
    {"expandRecurrences", ARG_BOOL, 0},
    {"timeZone", ARG_STRING, 0},
    {NULL, 0, 0},
};

/* Whether sort compares only what an item has without its object. */
static bool sort_needs_no_object(json_t *sort)
{
    size_t i;
    json_t *c;
    json_array_foreach(sort, i, c)
    {
        const char *p = json_string_value(json_object_get(c, "property"));
        if (!p || (strcmp(p, "start") && strcmp(p, "recurrenceId")))
            return false;
    }
    return true;
}

/* Runs the query of args; fills q->items (sorted). Returns 0, or -1 after an error. */
static int run_event_query(struct jmap_req *r, const char *account, json_t *args, struct query *q)
{
    json_t *filter = json_object_get(args, "filter"), *sort = json_object_get(args, "sort");
    json_t *tzv = json_object_get(args, "timeZone");
    *q = (struct query){.r = r, .account = account,
                        .tz = json_is_string(tzv) ? json_string_value(tzv) : "Etc/UTC",
                        .expand = json_is_true(json_object_get(args, "expandRecurrences")),
                        .filter = json_is_object(filter) ? filter : NULL, .hold = json_array(),
                        .times = json_object()};
    query_rights(q, jmap_req_access(r, account)); /* decided per candidate below */
    if (!tz_is_iana(q->tz)) {
        jmap_error(r, "invalidArguments", "unknown timeZone");
        return -1;
    }
    if ((q->filter && engine_filter_check(r, &calendar_event_type, q->filter, 0)) ||
        (json_is_array(sort) && engine_sort_check(r, &calendar_event_type, sort)))
        return -1;
    q->instance_text = q->filter && filter_has_text(q->filter);
    q->no_objects = sort_needs_no_object(sort);
    json_t *cond = q->filter && !json_object_get(q->filter, "operator") ? q->filter : NULL;
    if (cond) {
        if ((q->has_after = json_object_get(cond, "after") != NULL))
            q->after = local_arg(q, json_object_get(cond, "after"));
        if ((q->has_before = json_object_get(cond, "before") != NULL))
            q->before = local_arg(q, json_object_get(cond, "before"));
    }
    if (q->expand) {
        /* §5.11: a FilterCondition with both after and before */
        if (!cond || !q->has_after || !q->has_before) {
            jmap_error(r, "invalidArguments",
                       "expandRecurrences needs a FilterCondition with after and before");
            return -1;
        }
        if (q->before - q->after > MAX_EXPAND_SECONDS) {
            jmap_error(r, "expandDurationTooLarge", "the window exceeds maxExpandedQueryDuration");
            return -1;
        }
        q->state = -1; /* read at the first event, after the index scan (consider) */
    }
    /* issue 21: an expanded query filtered by its window alone and sorted by start (or
     * recurrenceId) needs nothing of a single event but its span */
    q->by_span = q->expand && cond && json_object_size(cond) == 2 && sort_needs_no_object(sort);
    /* candidates: the time index, then the text index; with no text condition the
     * time index's rows go straight to consider() */
    json_t *cands = NULL;
    struct store_text_term *terms = NULL;
    json_t *hold = NULL;
    size_t nterms = text_terms(q->filter, &terms, &hold);
    if ((q->has_after || q->has_before) && !nterms) {
        free(terms);
        json_decref(hold);
        store_index_spans(jmap_req_conn(r), account, calendar_event_type.name, q->has_after,
                          q->after, q->has_before, q->before, span_cb, q);
        consider_missed(q);
        goto sorted;
    }
    if (q->has_after || q->has_before) {
        cands = json_object();
        store_index_range(jmap_req_conn(r), account, calendar_event_type.name, q->has_after, q->after,
                          q->has_before, q->before, cand_cb, cands);
    }
    if (nterms) {
        json_t *hits = json_object();
        if (store_text_search(jmap_req_conn(r), account, calendar_event_type.name, terms, nterms, hit_cb,
                              hits) == STORE_OK) {
            if (cands) {
                const char *id;
                json_t *v;
                void *tmp;
                json_object_foreach_safe(cands, tmp, id, v)
                {
                    if (!json_object_get(hits, id))
                        json_object_del(cands, id);
                }
                json_decref(hits);
            } else {
                cands = json_object(); /* text hits need their modseq */
                const char *id;
                json_t *v;
                json_object_foreach(hits, id, v)
                {
                    int64_t m = store_object_modseq(jmap_req_conn(r), account, calendar_event_type.name, id);
                    if (m >= 0)
                        json_object_set_new(cands, id, json_integer(m));
                }
                json_decref(hits);
            }
        } else {
            json_decref(hits);
        }
    }
    free(terms);
    json_decref(hold);
    if (cands) {
        const char *id;
        json_t *v;
        json_object_foreach(cands, id, v)
        {
            consider(q, id, json_integer_value(v));
        }
        json_decref(cands);
    } else {
        store_object_foreach(jmap_req_conn(r), account, calendar_event_type.name, load_cb, q);
    }
sorted:
    if (q->code == RECUR_ERR_LIMIT) {
        jmap_error(r, "cannotCalculateOccurrences", "a recurrence is too expensive to expand");
        return -1;
    }
    json_t *by_start = json_pack("[{s:s}]", "property", "start");
    sort_items(q, json_is_array(sort) && json_array_size(sort) ? sort : by_start);
    json_decref(by_start);
    return 0;
}

static void query_free(struct query *q)
{
    free(q->items);
    buf_free(&q->ids);
    json_decref(q->hold);
    json_decref(q->times);
    json_decref(q->rights);
    q->times = q->rights = NULL;
    q->items = NULL;
    q->hold = NULL;
}

static json_t *item_ids(struct query *q)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < q->nitems; i++)
        json_array_append_new(ids, json_string(q->ids.data + q->items[i].id_at));
    return ids;
}

/* ---- sorting and paging from the index (issue 21) ---------------------------------------------
 * An unfiltered, unexpanded query sorted by start alone (the default) reads its page
 * from the store's index: events in a time zone carry their UTC start as the index
 * order; the few without one (floating events, those indexed before the order
 * existed) are loaded and placed among them by rank. The results are those of the
 * general path (item_cmp: start, then id ascending, in either direction), without
 * parsing every event of the account. Small accounts keep the general path, which
 * also keeps a snapshot of the results for /queryChanges. */

#define FAST_MIN_EVENTS 1000    /* below this the general path is as fast */
#define FAST_MAX_UNORDERED 2000 /* beyond this loading them costs more than it saves */
#define QUERY_PAGE_MAX 10000    /* jmap/query.c's largest limit */

struct placed {
    char id[96];
    int64_t modseq, start, pos; /* pos: in the whole result */
};
struct placed_list {
    struct placed *v;
    size_t n, cap;
};

static int place_cb(const char *id, int64_t modseq, int64_t order, void *ud)
{
    struct placed_list *l = ud;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    struct placed *x = &l->v[l->n++];
    copy_str(x->id, sizeof x->id, id);
    x->modseq = modseq;
    x->start = order;
    x->pos = 0;
    return 0;
}

/* item_cmp's order for a sort by start alone */
static int placed_before(const struct placed *a, const struct placed *b, bool desc)
{
    if (a->start != b->start)
        return (a->start < b->start) != desc ? -1 : 1;
    return strcmp(a->id, b->id);
}

static int placed_cmp(const void *pa, const void *pb, void *ctx)
{
    return placed_before(pa, pb, *(const bool *)ctx);
}

/* Whether args ask for unexpanded results sorted by start alone, without an anchor
 * (and without a filter unless text_filter); *desc for a descending sort. */
static bool fast_applies(json_t *args, bool text_filter, bool *desc)
{
    json_t *f = json_object_get(args, "filter"), *sort = json_object_get(args, "sort");
    json_t *anchor = json_object_get(args, "anchor");
    if ((!text_filter && f && !json_is_null(f)) || (anchor && !json_is_null(anchor)) ||
        json_is_true(json_object_get(args, "expandRecurrences")))
        return false;
    *desc = false;
    if (!sort || json_is_null(sort) || (json_is_array(sort) && !json_array_size(sort)))
        return true;
    json_t *k = json_array_get(sort, 0);
    if (!json_is_array(sort) || json_array_size(sort) != 1 || !json_is_object(k))
        return false;
    const char *p = json_string_value(json_object_get(k, "property"));
    *desc = json_is_false(json_object_get(k, "isAscending"));
    return p && strcmp(p, "start") == 0;
}

/* The unordered events with their start in tz, sorted; drops those gone. */
static void load_unordered(struct jmap_req *r, const char *account, const char *tz, bool desc,
                           struct placed_list *u)
{
    store_index_unordered(jmap_req_conn(r), account, calendar_event_type.name, place_cb, u);
    size_t kept = 0;
    for (size_t i = 0; i < u->n; i++) {
        struct event_cached *e =
            event_cache_get(jmap_req_conn(r), account, u->v[i].id, u->v[i].modseq, tz);
        if (!e)
            continue;
        int64_t s = 0, end = 0;
        event_utc_span(e->obj, tz, &s, &end);
        event_cache_release(e);
        u->v[i].start = s;
        u->v[kept++] = u->v[i];
    }
    u->n = kept;
    if (u->n > 1)
        qsort_r(u->v, u->n, sizeof *u->v, placed_cmp, &desc);
}

/* The index's counts for (account, state): counting 100,000 rows costs more than the
 * page (6-13 ms), and they change only with the state. A few accounts are kept. */
static struct {
    char account[64];
    int64_t state, nord, nun;
} counts[16];
static size_t counts_next;
static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;

static int index_counts(struct store_conn *c, const char *account, int64_t state, int64_t *nord,
                        int64_t *nun)
{
    pthread_mutex_lock(&counts_lock);
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (counts[i].state == state && strcmp(counts[i].account, account) == 0) {
            *nord = counts[i].nord;
            *nun = counts[i].nun;
            pthread_mutex_unlock(&counts_lock);
            return STORE_OK;
        }
    pthread_mutex_unlock(&counts_lock);
    if (store_index_count(c, account, calendar_event_type.name, nord, nun) != STORE_OK)
        return STORE_ERR;
    pthread_mutex_lock(&counts_lock);
    size_t k = counts_next++ % (sizeof counts / sizeof counts[0]);
    copy_str(counts[k].account, sizeof counts[k].account, account);
    counts[k].state = state;
    counts[k].nord = *nord;
    counts[k].nun = *nun;
    pthread_mutex_unlock(&counts_lock);
    return STORE_OK;
}

/* ---- keyset checkpoints for deep sorted pages (issue 21 §0)
 * The (ord, id) of the row just before every CP_STRIDE-th position of the index's
 * ordered sequence, per (account, state, direction): a page at position p reads from
 * the checkpoint below p (store_index_ordered_after) and steps over fewer than
 * CP_STRIDE rows, where OFFSET stepped over all p. They are learned as pages are read
 * (the rows before a page are scanned once per state and direction) and forgotten
 * with the state, as the counts are. */

#define CP_STRIDE 256
#define CP_SLOTS 8

struct cp_key {
    int64_t ord;
    char id[64];
};
static struct cp_slot {
    char account[64];
    int64_t state;
    bool desc;
    struct cp_key *v; /* v[j - 1]: checkpoint j, the row at position j * CP_STRIDE - 1 */
    size_t n;
} cps[CP_SLOTS];
static size_t cp_next;
static pthread_mutex_t cp_lock = PTHREAD_MUTEX_INITIALIZER;

static struct cp_slot *cp_slot_of(const char *account, int64_t state, bool desc)
{
    for (size_t i = 0; i < CP_SLOTS; i++)
        if (cps[i].state == state && cps[i].desc == desc && strcmp(cps[i].account, account) == 0)
            return &cps[i];
    return NULL;
}

/* The highest checkpoint index at most want that is known (0: none), its key in *key. */
static size_t cp_find(const char *account, int64_t state, bool desc, size_t want,
                      struct cp_key *key)
{
    pthread_mutex_lock(&cp_lock);
    struct cp_slot *sl = cp_slot_of(account, state, desc);
    size_t m = sl ? (sl->n < want ? sl->n : want) : 0;
    if (m)
        *key = sl->v[m - 1];
    pthread_mutex_unlock(&cp_lock);
    return m;
}

/* Records checkpoints first, first + 1, ... (n of them) where they extend those known. */
static void cp_add(const char *account, int64_t state, bool desc, size_t first,
                   const struct cp_key *v, size_t n)
{
    pthread_mutex_lock(&cp_lock);
    struct cp_slot *sl = cp_slot_of(account, state, desc);
    if (!sl) { /* a new (account, state, direction) in the oldest slot */
        sl = &cps[cp_next++ % CP_SLOTS];
        free(sl->v);
        *sl = (struct cp_slot){.state = state, .desc = desc};
        copy_str(sl->account, sizeof sl->account, account);
    }
    if (first <= sl->n + 1 && first + n > sl->n + 1) {
        size_t skip = sl->n + 1 - first;
        sl->v = xrealloc(sl->v, (sl->n + n - skip) * sizeof *sl->v);
        memcpy(sl->v + sl->n, v + skip, (n - skip) * sizeof *v);
        sl->n += n - skip;
    }
    pthread_mutex_unlock(&cp_lock);
}

/* store_index_ordered's callback for one row: its key (ord stays INT64_MIN for an id
 * too long to be one) */
static int cp_key_cb(const char *id, int64_t modseq, int64_t order, void *ud)
{
    (void)modseq;
    struct cp_key *k = ud;
    if (strlen(id) < sizeof k->id) {
        k->ord = order;
        copy_str(k->id, sizeof k->id, id);
    }
    return 0;
}

/* The ordered rows at positions [from, from + count) into page (store_index_ordered's
 * order), from the checkpoint below from. The checkpoints up to it not known yet are
 * found first, each the row CP_STRIDE after the one before (OFFSET steps over those in
 * SQL: learning them costs what one deep page cost before). */
static int ordered_page(struct store_conn *c, const char *account, int64_t state, bool desc,
                        int64_t from, int64_t count, struct placed_list *page)
{
    const char *type = calendar_event_type.name;
    size_t want = (size_t)(from / CP_STRIDE);
    struct cp_key prev;
    size_t m = want ? cp_find(account, state, desc, want, &prev) : 0;
    if (m < want) {
        struct cp_key *keys = xcalloc(want - m, sizeof *keys);
        size_t n = 0;
        for (size_t j = m + 1; j <= want; j++) {
            struct cp_key *k = &keys[n];
            k->ord = INT64_MIN;
            int rc =
                j == 1 ? store_index_ordered(c, account, type, desc, CP_STRIDE - 1, 1, cp_key_cb, k)
                       : store_index_ordered_after(c, account, type, desc, prev.ord, prev.id,
                                                   CP_STRIDE - 1, 1, cp_key_cb, k);
            if (rc != STORE_OK || k->ord == INT64_MIN)
                break; /* past the end of the index, or an id too long for a key */
            prev = *k;
            n++;
        }
        if (n)
            cp_add(account, state, desc, m + 1, keys, n);
        free(keys);
        m += n;
    }
    if (m < want || want == 0) /* a first page, or no key to read it from */
        return store_index_ordered(c, account, type, desc, from, count, place_cb, page);
    return store_index_ordered_after(c, account, type, desc, prev.ord, prev.id,
                                     from - (int64_t)want * CP_STRIDE, count, place_cb, page);
}

/* Answers the query from the index: 0, -1 after an error, 1 if it does not apply. */
static int fast_query(struct jmap_req *r, const char *account, json_t *args, int64_t state)
{
    bool desc = false;
    if (!fast_applies(args, false, &desc))
        return 1;
    json_t *tzv = json_object_get(args, "timeZone"), *sort = json_object_get(args, "sort");
    const char *tz = json_is_string(tzv) ? json_string_value(tzv) : "Etc/UTC";
    if (!tz_is_iana(tz) || (json_is_array(sort) && json_array_size(sort) &&
                            engine_sort_check(r, &calendar_event_type, sort)))
        return tz_is_iana(tz) ? -1 : 1; /* the general path answers the bad zone */
    int64_t nord = 0, nun = 0;
    struct store_conn *c = jmap_req_conn(r);
    if (index_counts(c, account, state, &nord, &nun) != STORE_OK || nord + nun < FAST_MIN_EVENTS ||
        nun > FAST_MAX_UNORDERED)
        return 1;
    struct placed_list u = {0}, w = {0};
    load_unordered(r, account, tz, desc, &u);
    int64_t total = nord + (int64_t)u.n, k = (int64_t)u.n;
    int64_t p = json_integer_value(json_object_get(args, "position"));
    if (p < 0)
        p = total + p < 0 ? 0 : total + p;
    json_t *limitv = json_object_get(args, "limit");
    int64_t limit = json_is_integer(limitv) ? json_integer_value(limitv) : QUERY_PAGE_MAX;
    if (limit > QUERY_PAGE_MAX)
        limit = QUERY_PAGE_MAX;
    /* an ordered row at index i is at i + (unordered before it): the page's ordered
     * rows are among indexes [p - k, p + limit) */
    int64_t from = p - k < 0 ? 0 : p - k;
    ordered_page(c, account, state, desc, from, limit + k, &w);
    for (size_t i = 0; i < w.n; i++) {
        size_t lo = 0, hi = u.n; /* unordered ones before w[i] */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (placed_before(&u.v[mid], &w.v[i], desc) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        w.v[i].pos = from + (int64_t)i + (int64_t)lo;
    }
    for (size_t j = 0; j < u.n; j++)
        u.v[j].pos = (int64_t)j + store_index_rank(c, account, calendar_event_type.name, desc,
                                                   u.v[j].start, u.v[j].id);
    store_rollback(c);
    /* the page alone: results [p, p + limit) (issue 21: not a list of every result) */
    int64_t n = p >= total ? 0 : p + limit > total ? total - p : limit;
    json_t *ids = json_array();
    for (int64_t i = 0; i < n; i++)
        json_array_append(ids, json_null()); /* a singleton: no allocation */
    struct placed_list *lists[] = {&w, &u};
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++)
            if (lists[l]->v[i].pos >= p && lists[l]->v[i].pos < p + n)
                json_array_set_new(ids, (size_t)(lists[l]->v[i].pos - p),
                                   json_string(lists[l]->v[i].id));
    free(u.v);
    free(w.v);
    for (int64_t i = 0; i < n; i++)
        if (json_is_null(json_array_get(ids, (size_t)i))) {
            /* the index changed under the reads (it cannot inside one read
             * transaction) or disagrees with itself: the general path answers */
            log_warn("CalendarEvent/query: index page incomplete at %lld", (long long)(p + i));
            json_decref(ids);
            return 1;
        }
    int rc =
        engine_query_respond_page(r, &calendar_event_type, account, args, ids, p, total, state);
    json_decref(ids);
    return rc;
}

/* ---- a sharee's page from the index (issue 14; calendars-27 §4, §5.7) ------------------------
 * fast_query's page for a sharee: the ordered members of the calendars they read
 * (event_members.h; a secret event in none) walked in order and merged with the unordered
 * ones they see (sharee_sees) until the page is full (calculateTotal or a negative
 * position: every row), from the last mark before the page (event_page_marks.h) by
 * keyset. No event is read, nor a row of a calendar they cannot read. The results are
 * the general path's (item_cmp's order among the events the sharee sees). */

#define SHARED_CHUNK 64 /* ordered rows read at a time per calendar, at least */

struct shared_walk {
    struct query q;
    struct placed_list u; /* the unordered events the user sees, sorted */
    size_t next_u, mark;  /* the next mark to record (event_page_marks.h) */
    bool desc;
    int64_t pos, first, stop; /* results emitted; of ids[0]; where to stop (INT64_MAX: all) */
    int64_t state;
    uint64_t key;
    struct page_mark last; /* the last ordered row read */
    bool long_id;          /* an id too long for last: the general path answers */
    bool no_marks;         /* rows were stepped over: positions of no mark known */
    json_t *ids;           /* results [first, stop) */
};

static void walk_emit(struct shared_walk *w, const struct placed *x)
{
    if (w->pos >= w->first && w->pos < w->stop)
        json_array_append_new(w->ids, json_string(x->id));
    w->pos++;
}

/* One ordered row the user sees: the unordered ones before it, then it. */
static void walk_row(struct shared_walk *w, const struct placed *x)
{
    w->last.ord = x->start;
    w->long_id |= strlen(x->id) >= sizeof w->last.id;
    copy_str(w->last.id, sizeof w->last.id, x->id);
    while (w->next_u < w->u.n && placed_before(&w->u.v[w->next_u], x, w->desc) < 0)
        walk_emit(w, &w->u.v[w->next_u++]);
    walk_emit(w, x);
    if (w->pos < (int64_t)(w->mark * PAGE_MARK_STRIDE) || w->long_id || w->no_marks)
        return;
    w->last.pos = w->pos;
    w->last.next_u = (int64_t)w->next_u;
    page_marks_add(w->q.account, w->state, w->desc, w->key, w->mark++, &w->last);
}

/* 0, -1 after an error, 1 if it does not apply */
static int fast_shared_query(struct jmap_req *r, const struct store_access *a, json_t *args,
                             int64_t state)
{
    struct shared_walk w = {.q = {.r = r, .account = a->account_id}, .state = state, .mark = 1};
    json_t *tzv = json_object_get(args, "timeZone"), *sort = json_object_get(args, "sort");
    w.q.tz = json_is_string(tzv) ? json_string_value(tzv) : "Etc/UTC";
    if (!fast_applies(args, false, &w.desc) || !tz_is_iana(w.q.tz))
        return 1; /* the general path answers the bad zone */
    if (json_is_array(sort) && json_array_size(sort) &&
        engine_sort_check(r, &calendar_event_type, sort))
        return -1;
    int64_t nord = 0, nun = 0;
    struct store_conn *c = jmap_req_conn(r);
    if (index_counts(c, a->account_id, state, &nord, &nun) != STORE_OK ||
        nord + nun < FAST_MIN_EVENTS || nun > FAST_MAX_UNORDERED)
        return 1;
    query_rights(&w.q, a);
    if (!w.q.rights)
        return 1;
    load_unordered(r, a->account_id, w.q.tz, w.desc, &w.u);
    size_t kept = 0;
    for (size_t i = 0; i < w.u.n; i++)
        if (sharee_sees(&w.q, w.u.v[i].id, w.u.v[i].modseq))
            w.u.v[kept++] = w.u.v[i];
    w.u.n = kept;
    int64_t p = json_integer_value(json_object_get(args, "position"));
    json_t *limitv = json_object_get(args, "limit");
    int64_t limit = json_is_integer(limitv) ? json_integer_value(limitv) : QUERY_PAGE_MAX;
    if (limit > QUERY_PAGE_MAX)
        limit = QUERY_PAGE_MAX;
    bool all = p < 0 || json_is_true(json_object_get(args, "calculateTotal"));
    w.stop = all ? INT64_MAX : p + limit;
    w.first = p < 0 ? 0 : p;
    w.key = page_marks_key(r->user->id, w.q.rights, w.q.tz);
    bool keyed = false; /* reading on after w.last */
    if (p > 0 && (w.mark = page_marks_find(a->account_id, state, w.desc, w.key, p, &w.last)))
        w.pos = w.last.pos, w.next_u = (size_t)w.last.next_u, keyed = true; /* from the mark */
    w.mark++;
    w.ids = json_array();
    /* one calendar and no floating event: the rows before the page are the results
     * before it, stepped over in SQL as the owner's OFFSET does (no marks then) */
    int64_t skip = 0;
    if (!all && !w.u.n && w.first > w.pos && members_readable(w.q.rights) == 1)
        skip = w.first - w.pos, w.pos = w.first, w.no_marks = true;
    /* as many rows per calendar at a time as the page still needs */
    int64_t n = w.stop - w.pos < SHARED_CHUNK       ? SHARED_CHUNK
                : w.stop - w.pos > 8 * SHARED_CHUNK ? 8 * SHARED_CHUNK
                                                    : w.stop - w.pos;
    struct members_walk *mw = members_walk_new(c, a->account_id, w.q.rights, w.desc, keyed,
                                               w.last.ord, w.last.id, skip, n);
    struct placed x = {0};
    const char *xid;
    bool err = false;
    while (w.pos < w.stop && !w.long_id && members_walk_next(mw, &x.start, &xid, &err)) {
        copy_str(x.id, sizeof x.id, xid);
        walk_row(&w, &x);
    }
    members_walk_free(mw);
    while (w.next_u < w.u.n && w.pos < w.stop)
        walk_emit(&w, &w.u.v[w.next_u++]);
    store_rollback(c);
    /* the page of what the user sees: the total is exact when every row was walked,
     * else at least the page's end (not shown: calculateTotal walks every row) */
    int rc = w.long_id || err ? 1
                              : engine_query_respond_page(r, &calendar_event_type, a->account_id,
                                                          args, w.ids, w.first, w.pos, state);
    json_decref(w.ids);
    free(w.u.v);
    query_free(&w.q);
    return rc;
}

/* ---- text search that stops at the page (issue 21)
 * ------------------------------------------------- A query with one FilterCondition of text
 * conditions only, sorted by start alone, without calculateTotal, a negative position or an anchor:
 * the full-text index gives the candidates with their index order, they are sorted, and each is
 * checked exactly in that order until position + limit have matched. Few candidates keep the
 * general path (and its /queryChanges snapshot). */

#define TEXT_FAST_MIN_HITS 200

static int hit_place_cb(const char *id, int64_t modseq, bool has_order, int64_t order, void *ud)
{
    place_cb(id, modseq, order, ud);
    struct placed_list *l = ud;
    l->v[l->n - 1].pos = has_order ? 1 : 0; /* pos: whether start is known yet */
    return 0;
}

/* Only text conditions (§5.11.1), no operator. */
static bool text_only(json_t *f)
{
    if (!json_is_object(f) || json_object_get(f, "operator") || !json_object_size(f))
        return false;
    const char *k;
    json_t *v;
    json_object_foreach(f, k, v)
    {
        if (!is_text_field(k))
            return false;
    }
    return true;
}

/* Checks the candidates in order; the matching ids, at most want of them. */
static json_t *text_matches_in_order(struct query *q, struct placed_list *h, int64_t want)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < h->n && (int64_t)json_array_size(ids) < want; i++) {
        struct event_cached *e =
            event_cache_get(jmap_req_conn(q->r), q->account, h->v[i].id, h->v[i].modseq, q->tz);
        if (!e)
            continue;
        if (match_filter(q, q->filter, e->obj, false, 0, 0))
            json_array_append_new(ids, json_string(h->v[i].id));
        event_cache_release(e);
    }
    return ids;
}

/* 0, -1 after an error, 1 if it does not apply */
static int fast_text_query(struct jmap_req *r, const char *account, json_t *args, int64_t state)
{
    bool desc = false;
    json_t *filter = json_object_get(args, "filter"), *tzv = json_object_get(args, "timeZone");
    json_t *sort = json_object_get(args, "sort");
    int64_t p = json_integer_value(json_object_get(args, "position"));
    if (!fast_applies(args, true, &desc) || !text_only(filter) || p < 0 ||
        json_is_true(json_object_get(args, "calculateTotal")))
        return 1;
    struct query q = {.r = r,
                      .account = account,
                      .tz = json_is_string(tzv) ? json_string_value(tzv) : "Etc/UTC",
                      .filter = filter,
                      .times = json_object()};
    if (!tz_is_iana(q.tz) || engine_filter_check(r, &calendar_event_type, filter, 0) ||
        (json_is_array(sort) && json_array_size(sort) &&
         engine_sort_check(r, &calendar_event_type, sort))) {
        json_decref(q.times);
        return tz_is_iana(q.tz) ? -1 : 1;
    }
    struct store_text_term *terms = NULL;
    json_t *hold = NULL;
    size_t nterms = text_terms(filter, &terms, &hold);
    struct placed_list h = {0};
    int rc = 1;
    if (nterms &&
        store_text_hits(jmap_req_conn(r), account, calendar_event_type.name, terms, nterms,
                        hit_place_cb, &h) == STORE_OK &&
        h.n >= TEXT_FAST_MIN_HITS) {
        for (size_t i = 0; i < h.n; i++) {
            if (h.v[i].pos)
                continue;
            struct event_cached *e =
                event_cache_get(jmap_req_conn(r), account, h.v[i].id, h.v[i].modseq, q.tz);
            int64_t s = 0, end = 0;
            if (e)
                event_utc_span(e->obj, q.tz, &s, &end);
            event_cache_release(e);
            h.v[i].start = s; /* one gone is dropped by the exact check */
        }
        qsort_r(h.v, h.n, sizeof *h.v, placed_cmp, &desc);
        json_t *limitv = json_object_get(args, "limit");
        int64_t limit = json_is_integer(limitv) ? json_integer_value(limitv) : QUERY_PAGE_MAX;
        json_t *ids =
            text_matches_in_order(&q, &h, p + (limit > QUERY_PAGE_MAX ? QUERY_PAGE_MAX : limit));
        store_rollback(jmap_req_conn(r));
        rc = engine_query_respond(r, &calendar_event_type, account, args, ids, state);
        json_decref(ids);
    }
    free(h.v);
    free(terms);
    json_decref(hold);
    json_decref(q.times);
    return rc;
}

static int event_query(struct jmap_req *r, json_t *args)
{
    const struct store_access *a =
        jmap_method_begin(r, args, engine_query_args, event_query_args, "accountId", 0);
    if (!a)
        return -1;
    store_snapshot_gate(jmap_req_conn(r), a->account_id); /* store.h: the snapshot's cost */
    /* an expanded query takes none of the index paths: its state is read after its
     * index scan, which the read travels with (issue 15 §1: one round trip, W3) */
    bool expand = json_is_true(json_object_get(args, "expandRecurrences"));
    int64_t state = 0;
    int fast = 1;
    if (expand) {
        jmap_type_state_prefetch(r, &calendar_event_type, a->account_id);
    } else {
        state = jmap_type_state(r, &calendar_event_type, a->account_id);
        /* the index paths: a sharee's page walks the index with their rights (issue
         * 14); a sharee's text query takes the general path */
        fast = a->shared ? fast_shared_query(r, a, args, state)
                         : fast_query(r, a->account_id, args, state);
        if (fast == 1 && !a->shared)
            fast = fast_text_query(r, a->account_id, args, state);
    }
    if (fast <= 0) {
        store_rollback(jmap_req_conn(r));
        return fast;
    }
    struct query q;
    int rc = run_event_query(r, a->account_id, args, &q);
    if (expand && rc == 0)
        state = jmap_type_state(r, &calendar_event_type, a->account_id);
    json_t *ids = rc == 0 ? item_ids(&q) : NULL; /* a sharee's view: run_event_query */
    if (rc == 0) /* in the read transaction: its end commits it (store.h) */
        engine_snapshot_save(jmap_req_conn(r), a->account_id, calendar_event_type.name, args,
                             state, ids);
    store_rollback(jmap_req_conn(r));
    if (rc == 0) {
        rc = engine_query_respond(r, &calendar_event_type, a->account_id, args, ids, state);
        json_decref(ids);
    }
    query_free(&q);
    return rc;
}

/* ---- /queryChanges (§5.12) ------------------------------------------------------------------------ */

static int event_query_changes(struct jmap_req *r, json_t *args)
{
    if (jmap_args_check(r, args, engine_query_changes_args, event_query_args))
        return -1;
    int64_t since, current;
    const struct store_access *a = engine_changes_begin(r, &calendar_event_type, args,
                                                        "sinceQueryState", &since, &current);
    if (!a)
        return -1;
    struct query q = {.hold = NULL};
    json_t *changed = engine_changed_ids(jmap_req_conn(r), a->account_id, calendar_event_type.name, since);
    engine_metadata_changed_ids(r, &calendar_event_type, a->account_id, since, changed); /* issue 18 */
    int rc = run_event_query(r, a->account_id, args, &q);
    json_t *now = rc ? NULL : item_ids(&q); /* a sharee's view: run_event_query */
    store_rollback(jmap_req_conn(r));
    query_free(&q);
    if (rc == 0) {
        bool expand = json_is_true(json_object_get(args, "expandRecurrences"));
        rc = engine_query_changes_respond(r, &calendar_event_type, a->account_id, args, since,
                                          current, now, changed,
                                          expand ? event_instance_base : NULL);
    }
    json_decref(now);
    json_decref(changed);
    return rc;
}

void calendar_event_query_register(void)
{
    jmap_register_method("CalendarEvent/query", JMAP_CALENDARS, event_query);
    jmap_register_method("CalendarEvent/queryChanges", JMAP_CALENDARS, event_query_changes);
    jmap_register_method("CalendarEvent/parse", JMAP_CALENDARS_PARSE, calendar_event_parse);
}
