/*
 * calendar_event_query.c — CalendarEvent/query and /queryChanges
 * (draft-ietf-jmap-calendars-27 §5.11, §5.12) and CalendarEvent/parse (§5.13).
 * Candidates come from the side index: the time range of each series (so only
 * series that can overlap the window are expanded) and the FTS5 text index; every
 * candidate is then checked exactly. With expandRecurrences each instance in the
 * window is a result, with a synthetic id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/collation.h"
#include "formats/ical.h"
#include "formats/jscal_util.h"
#include "formats/recur.h"
#include "formats/tz.h"
#include "jmap/engine.h"
#include "types/calendar_event.h"
#include "types/types.h"
#include "util/util.h"

#define FAR_FUTURE 253402300799LL /* 9999-12-31T23:59:59Z */
#define MAX_EXPAND_SECONDS (400LL * 86400) /* maxExpandedQueryDuration P400D */

/* ---- text matching (§5.11.1) -----------------------------------------------------------
 * Case-insensitive and diacritic-insensitive; quoted text is a phrase (matched as
 * is), other words are tokens that must each start a word somewhere in the field. */

/* casemap key with combining marks (U+0300..U+036F) removed */
static char *text_key(const char *s)
{
    char *k = collation_casemap_key(s);
    size_t j = 0;
    for (size_t i = 0; k[i]; i++) {
        unsigned char c = (unsigned char)k[i], d = (unsigned char)k[i + 1];
        if ((c == 0xCC && d >= 0x80) || (c == 0xCD && d <= 0xAF)) {
            i++;
            continue;
        }
        k[j++] = k[i];
    }
    k[j] = 0;
    return k;
}

static bool word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* Splits a search string into terms: json array of {"t": key, "phrase": bool}. */
static json_t *search_terms(const char *q)
{
    json_t *terms = json_array();
    const char *p = q;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        struct buf b = {0};
        bool phrase = *p == '"' || *p == '\'';
        if (phrase) {
            char quote = *p++;
            while (*p && *p != quote) {
                if (*p == '\\' && (p[1] == '"' || p[1] == '\'' || p[1] == '\\'))
                    p++;
                buf_append(&b, p++, 1);
            }
            if (*p)
                p++;
        } else {
            while (*p && *p != ' ' && *p != '\t' && *p != '\n')
                buf_append(&b, p++, 1);
        }
        if (b.len) {
            char *k = text_key(b.data);
            json_array_append_new(terms, json_pack("{s:s, s:b}", "t", k, "phrase", phrase));
            free(k);
        }
        buf_free(&b);
    }
    return terms;
}

static bool term_in(const char *key, json_t *term)
{
    const char *t = json_string_value(json_object_get(term, "t"));
    if (json_is_true(json_object_get(term, "phrase")))
        return strstr(key, t) != NULL;
    for (const char *p = strstr(key, t); p; p = strstr(p + 1, t))
        if (p == key || !word_char((unsigned char)p[-1]) || !word_char((unsigned char)*t))
            return true;
    return false;
}

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
    char *key = text_key(b.data ? b.data : "");
    buf_free(&b);
    return key;
}

static bool text_matches(json_t *obj, const char *field, json_t *terms)
{
    char *key = field_text(obj, field);
    bool ok = true;
    size_t i;
    json_t *t;
    json_array_foreach(terms, i, t)
    {
        if (!term_in(key, t)) {
            ok = false;
            break;
        }
    }
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

struct query {
    struct jmap_req *r;
    const char *account;
    const char *tz;   /* timeZone argument */
    bool expand;
    json_t *filter;   /* the FilterCondition tree */
    json_t *terms;    /* per condition object: field -> terms, cached by pointer key */
    json_t *items;    /* [{id, obj, start, rid}] */
    int64_t after, before;
    bool has_after, has_before;
    int code;         /* RECUR_ERR_LIMIT seen */
};

/* Parses and checks a condition; returns -1 unsupported, -2 bad value, 1 ok. */
static int check_condition(const char *key, json_t *v, const char *tz)
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

static int check_filter(struct jmap_req *r, json_t *f, const char *tz, int depth)
{
    if (!json_is_object(f) || depth > 32) {
        jmap_error(r, "invalidArguments", "bad filter");
        return -1;
    }
    json_t *op = json_object_get(f, "operator");
    if (op) {
        const char *o = json_string_value(op);
        json_t *conds = json_object_get(f, "conditions");
        if (!o || (strcmp(o, "AND") && strcmp(o, "OR") && strcmp(o, "NOT")) ||
            !json_is_array(conds) || json_object_size(f) != 2) {
            jmap_error(r, "invalidArguments", "bad FilterOperator");
            return -1;
        }
        size_t i;
        json_t *c;
        json_array_foreach(conds, i, c)
        {
            if (check_filter(r, c, tz, depth + 1))
                return -1;
        }
        return 0;
    }
    const char *key;
    json_t *v;
    json_object_foreach(f, key, v)
    {
        int rc = check_condition(key, v, tz);
        if (rc == -1) {
            jmap_error(r, "unsupportedFilter", "cannot filter on '%s'", key);
            return -1;
        }
        if (rc == -2) {
            jmap_error(r, "invalidArguments", "bad value for filter '%s'", key);
            return -1;
        }
    }
    return 0;
}

static int64_t local_arg(struct query *q, json_t *v)
{
    int64_t t = 0;
    event_local_to_utc(NULL, json_string_value(v), q->tz, NULL, &t);
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
    if (!it) {
        if (code == RECUR_ERR_LIMIT)
            q->code = RECUR_ERR_LIMIT;
        return false;
    }
    recur_occurrence occ;
    bool any = recur_iter_next(it, &occ) == 1;
    recur_iter_free(it);
    return any;
}

/* Matches one condition object against an event (whole series) or an instance. */
static bool match_condition(struct query *q, json_t *cond, json_t *obj, bool instance,
                            int64_t start, int64_t end)
{
    const char *key;
    json_t *v;
    bool has_after = false, has_before = false;
    int64_t after = 0, before = 0;
    json_object_foreach(cond, key, v)
    {
        if (strcmp(key, "inCalendar") == 0) {
            if (!json_object_get(json_object_get(obj, "calendarIds"), json_string_value(v)))
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
        } else {
            json_t *terms = search_terms(json_string_value(v));
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

static void add_item(struct query *q, const char *id, json_t *obj, int64_t start, const char *rid)
{
    json_array_append_new(q->items, json_pack("{s:s, s:O, s:I, s:s}", "id", id, "obj", obj, "start",
                                              (json_int_t)start, "rid", rid ? rid : ""));
}

/* One stored event: its matching instances (expanded) or itself. */
static void consider(struct query *q, const char *id, json_t *obj)
{
    json_t *f = q->filter;
    if (!q->expand) {
        int64_t s = 0, e = 0;
        event_utc_span(obj, q->tz, &s, &e);
        if (!f || match_filter(q, f, obj, false, s, e))
            add_item(q, id, obj, s, NULL);
        return;
    }
    int code = 0;
    char *err = NULL;
    recur_limits lim = {0, 0};
    recur_iter *it = recur_iter_new(obj, q->after, q->before, q->tz, &lim, RECUR_WANT_OBJECT, &code,
                                    &err);
    free(err);
    if (!it) {
        if (code == RECUR_ERR_LIMIT)
            q->code = RECUR_ERR_LIMIT;
        return;
    }
    bool recurring = json_is_object(json_object_get(obj, "recurrenceRule")) ||
                     json_object_size(json_object_get(obj, "recurrenceOverrides"));
    recur_occurrence occ;
    while (recur_iter_next(it, &occ) == 1) {
        json_t *inst = occ.object ? occ.object : obj;
        if (!match_filter(q, f, inst, true, occ.utc_start, occ.utc_end))
            continue;
        if (!recurring) {
            add_item(q, id, obj, occ.utc_start, NULL);
            continue;
        }
        char sid[96];
        event_instance_id(id, occ.recurrence_id, sid);
        json_t *view = json_deep_copy(inst);
        json_object_set_new(view, "recurrenceId", json_string(occ.recurrence_id));
        add_item(q, sid, view, occ.utc_start, occ.recurrence_id);
        json_decref(view);
    }
    recur_iter_free(it);
}

/* Candidate collection: the index narrows by time and text. */
struct candidates {
    json_t *ids; /* id -> true */
};

static int cand_cb(const char *id, void *ud)
{
    json_object_set_new(ud, id, json_true());
    return 0;
}

/* An FTS5 expression for the text conditions at the top level (AND) of the filter:
 * a superset of what the exact match accepts. NULL if there are none. */
static char *fts_query(json_t *filter)
{
    static const char *const cols[] = {"text", NULL, "title", "{title}", "description",
                                       "{description}", "location", "{location}", "owner",
                                       "{owner}", "attendee", "{attendee}"};
    json_t *conds = json_array();
    if (json_is_string(json_object_get(filter, "operator"))) {
        if (strcmp(json_string_value(json_object_get(filter, "operator")), "AND") == 0)
            json_array_extend(conds, json_object_get(filter, "conditions"));
    } else if (filter) {
        json_array_append(conds, filter);
    }
    struct buf b = {0};
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k += 2) {
            json_t *v = json_object_get(c, cols[k]);
            if (!json_is_string(v) || json_object_get(c, "operator"))
                continue;
            /* the FTS tokenizer splits words as the exact matcher does, near enough:
             * each word of each term must start a word (prefix query) */
            json_t *terms = search_terms(json_string_value(v));
            size_t j;
            json_t *t;
            json_array_foreach(terms, j, t)
            {
                const char *s = json_string_value(json_object_get(t, "t"));
                struct buf w = {0};
                for (const char *p = s;; p++) {
                    if (*p && word_char((unsigned char)*p)) {
                        buf_append(&w, p, 1);
                        continue;
                    }
                    if (w.len) {
                        if (b.len)
                            buf_puts(&b, " AND ");
                        if (cols[k + 1])
                            buf_printf(&b, "%s : ", cols[k + 1]);
                        buf_printf(&b, "\"%s\" *", w.data);
                        w.len = 0;
                    }
                    if (!*p)
                        break;
                }
                buf_free(&w);
            }
            json_decref(terms);
        }
    }
    json_decref(conds);
    return b.len ? buf_take(&b) : (buf_free(&b), NULL);
}

static int load_cb(const char *id, json_t *obj, void *ud)
{
    consider(ud, id, obj);
    return 0;
}

/* ---- sorting ---------------------------------------------------------------------------------- */

static int item_cmp_on(json_t *a, json_t *b, json_t *sort)
{
    size_t i;
    json_t *c;
    json_array_foreach(sort, i, c)
    {
        const char *prop = json_string_value(json_object_get(c, "property"));
        const char *coll = json_string_value(json_object_get(c, "collation"));
        int d = 0;
        if (strcmp(prop, "start") == 0) {
            json_int_t x = json_integer_value(json_object_get(a, "start")),
                       y = json_integer_value(json_object_get(b, "start"));
            d = x < y ? -1 : x > y;
        } else if (strcmp(prop, "recurrenceId") == 0) {
            d = strcmp(json_string_value(json_object_get(a, "rid")),
                       json_string_value(json_object_get(b, "rid")));
        } else {
            const char *x = json_string_value(json_object_get(json_object_get(a, "obj"), prop)),
                       *y = json_string_value(json_object_get(json_object_get(b, "obj"), prop));
            d = !x ? (y ? -1 : 0) : !y ? 1 : collation_compare(coll ? coll : "i;octet", x, y);
        }
        if (d)
            return json_is_false(json_object_get(c, "isAscending")) ? -d : d;
    }
    return strcmp(json_string_value(json_object_get(a, "id")),
                  json_string_value(json_object_get(b, "id")));
}

static void sort_items(json_t *items, json_t *sort)
{
    /* a bottom-up merge sort over pointers: stable, and no global comparator state */
    size_t n = json_array_size(items);
    json_t **v = xmalloc((n + 1) * sizeof *v), **tmp = xmalloc((n + 1) * sizeof *tmp);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(items, i));
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = item_cmp_on(v[i], v[j], sort) <= 0 ? v[i++] : v[j++];
            while (i < mid)
                tmp[k++] = v[i++];
            while (j < hi)
                tmp[k++] = v[j++];
        }
        json_t **sw = v;
        v = tmp;
        tmp = sw;
    }
    json_array_clear(items);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, v[i]);
    free(v);
    free(tmp);
}

static int check_sort(struct jmap_req *r, json_t *sort)
{
    static const char *const ok[] = {"start", "uid", "recurrenceId", "created", "updated"};
    size_t i;
    json_t *c;
    json_array_foreach(sort, i, c)
    {
        json_t *prop = json_object_get(c, "property"), *asc = json_object_get(c, "isAscending"),
               *coll = json_object_get(c, "collation");
        if (!json_is_object(c) || !json_is_string(prop) || (asc && !json_is_boolean(asc)) ||
            (coll && !json_is_string(coll))) {
            jmap_error(r, "invalidArguments", "bad Comparator");
            return -1;
        }
        bool known = false;
        for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
            known |= strcmp(ok[k], json_string_value(prop)) == 0;
        if (!known || (coll && !collation_known(json_string_value(coll)))) {
            jmap_error(r, "unsupportedSort", "cannot sort by '%s'", json_string_value(prop));
            return -1;
        }
    }
    return 0;
}

static const struct argspec event_query_args[] = {
    {"expandRecurrences", ARG_BOOL, 0},
    {"timeZone", ARG_STRING, 0},
    {NULL, 0, 0},
};

/* Runs the query of args; fills q->items (sorted). Returns 0, or -1 after an error. */
static int run_event_query(struct jmap_req *r, const char *account, json_t *args, struct query *q)
{
    json_t *filter = json_object_get(args, "filter"), *sort = json_object_get(args, "sort");
    json_t *tzv = json_object_get(args, "timeZone");
    *q = (struct query){.r = r, .account = account,
                        .tz = json_is_string(tzv) ? json_string_value(tzv) : "Etc/UTC",
                        .expand = json_is_true(json_object_get(args, "expandRecurrences")),
                        .filter = json_is_object(filter) ? filter : NULL, .items = json_array()};
    if (!tz_is_iana(q->tz)) {
        jmap_error(r, "invalidArguments", "unknown timeZone");
        return -1;
    }
    if ((q->filter && check_filter(r, q->filter, q->tz, 0)) ||
        (json_is_array(sort) && check_sort(r, sort)))
        return -1;
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
    }
    /* candidates: the time index, then the text index */
    json_t *cands = NULL;
    if (q->has_after || q->has_before) {
        cands = json_object();
        store_index_range(r->conn, account, calendar_event_type.name, q->has_after, q->after,
                          q->has_before, q->before, cand_cb, cands);
    }
    char *fts = fts_query(q->filter);
    if (fts) {
        json_t *hits = json_object();
        if (store_text_search(r->conn, account, calendar_event_type.name, fts, cand_cb, hits) ==
            STORE_OK) {
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
                cands = hits;
            }
        } else {
            json_decref(hits);
        }
        free(fts);
    }
    if (cands) {
        const char *id;
        json_t *v;
        json_object_foreach(cands, id, v)
        {
            json_t *obj = store_object_get(r->conn, account, calendar_event_type.name, id);
            if (obj)
                consider(q, id, obj);
            json_decref(obj);
        }
        json_decref(cands);
    } else {
        store_object_foreach(r->conn, account, calendar_event_type.name, load_cb, q);
    }
    if (q->code == RECUR_ERR_LIMIT) {
        jmap_error(r, "cannotCalculateOccurrences", "a recurrence is too expensive to expand");
        return -1;
    }
    json_t *by_start = json_pack("[{s:s}]", "property", "start");
    sort_items(q->items, json_is_array(sort) && json_array_size(sort) ? sort : by_start);
    json_decref(by_start);
    return 0;
}

static json_t *item_ids(json_t *items)
{
    json_t *ids = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_array_append(ids, json_object_get(it, "id"));
    }
    return ids;
}

static int event_query(struct jmap_req *r, json_t *args)
{
    if (jmap_args_check(r, args, engine_query_args, event_query_args))
        return -1;
    const struct store_access *a = jmap_account(r, args, "accountId", false);
    if (!a)
        return -1;
    if (store_begin(r->conn, false)) {
        jmap_error(r, "serverFail", "database busy");
        return -1;
    }
    int64_t state = store_state_get(r->conn, a->account_id, calendar_event_type.name);
    struct query q;
    int rc = run_event_query(r, a->account_id, args, &q);
    store_rollback(r->conn);
    if (rc == 0) {
        json_t *ids = item_ids(q.items);
        engine_snapshot_save(a->account_id, calendar_event_type.name, args, state, ids);
        rc = engine_query_respond(r, &calendar_event_type, a->account_id, args, ids, state);
        json_decref(ids);
    }
    json_decref(q.items);
    return rc;
}

/* ---- /queryChanges (§5.12) ------------------------------------------------------------------------ */

static const char *base_of(const char *id, char buf[96])
{
    char base[64], rid[20];
    if (!event_instance_parse(id, base, rid))
        return id;
    snprintf(buf, 96, "%s", base);
    return buf;
}

struct changed_ids {
    int64_t since;
    json_t *ids;
};

static int changed_cb(const char *id, int64_t created, int64_t updated, bool destroyed, void *ud)
{
    struct changed_ids *c = ud;
    json_object_set_new(c->ids, id, json_boolean(created <= c->since));
    return 0;
}

static int event_query_changes(struct jmap_req *r, json_t *args)
{
    if (jmap_args_check(r, args, engine_query_changes_args, event_query_args))
        return -1;
    json_t *maxv = json_object_get(args, "maxChanges");
    if (json_is_integer(maxv) && json_integer_value(maxv) == 0) {
        jmap_error(r, "invalidArguments", "maxChanges must be greater than 0");
        return -1;
    }
    const struct store_access *a = jmap_account(r, args, "accountId", false);
    if (!a)
        return -1;
    if (store_begin(r->conn, false)) {
        jmap_error(r, "serverFail", "database busy");
        return -1;
    }
    int64_t current;
    int64_t since = engine_since(r, a->account_id, &calendar_event_type,
                                 json_string_value(json_object_get(args, "sinceQueryState")),
                                 &current);
    struct query q = {.items = NULL};
    if (since < 0) {
        store_rollback(r->conn);
        jmap_error(r, "cannotCalculateChanges", "unknown or expired query state");
        return -1;
    }
    struct changed_ids ch = {since, json_object()};
    store_changes(r->conn, a->account_id, calendar_event_type.name, since, 0, changed_cb, &ch);
    int rc = run_event_query(r, a->account_id, args, &q);
    store_rollback(r->conn);
    if (rc) {
        json_decref(ch.ids);
        json_decref(q.items);
        return -1;
    }
    json_t *now = item_ids(q.items);
    json_decref(q.items);
    json_t *old = engine_snapshot_load(a->account_id, calendar_event_type.name, args, since);
    json_t *removed = json_array(), *added = json_array();
    bool expand = json_is_true(json_object_get(args, "expandRecurrences"));
    rc = engine_query_diff(old, now, ch.ids, expand ? base_of : NULL, removed, added);
    json_decref(old);
    json_decref(ch.ids);
    if (rc == 0)
        engine_snapshot_save(a->account_id, calendar_event_type.name, args, current, now);
    size_t total = json_array_size(now);
    json_decref(now);
    if (rc != 0) {
        json_decref(removed);
        json_decref(added);
        jmap_error(r, "cannotCalculateChanges", "the old results of this query are not known");
        return -1;
    }
    if (json_is_integer(maxv) &&
        json_array_size(removed) + json_array_size(added) > (size_t)json_integer_value(maxv)) {
        json_decref(removed);
        json_decref(added);
        jmap_error(r, "tooManyChanges", "more changes than maxChanges");
        return -1;
    }
    json_t *resp = json_pack("{s:s, s:o, s:o, s:o, s:o}", "accountId", a->account_id,
                             "oldQueryState", jmap_state_string(since), "newQueryState",
                             jmap_state_string(current), "removed", removed, "added", added);
    if (json_is_true(json_object_get(args, "calculateTotal")))
        json_object_set_new(resp, "total", json_integer((json_int_t)total));
    jmap_respond(r, "CalendarEvent/queryChanges", resp);
    return 0;
}

/* ---- /parse (§5.13) ------------------------------------------------------------------------------- */

static const struct argspec parse_args[] = {
    {"accountId", ARG_ID, ARG_REQUIRED},
    {"blobIds", ARG_ID_ARRAY, ARG_REQUIRED | ARG_REF},
    {"properties", ARG_STRING_ARRAY, ARG_NULLABLE},
    {NULL, 0, 0},
};

static json_t *parsed_view(json_t *event, json_t *props)
{
    static const char *const meta[] = {"id", "baseEventId", "calendarIds", "isDraft", "isOrigin"};
    if (!props) {
        json_t *out = json_deep_copy(event);
        for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
            json_object_set_new(out, meta[i], json_null());
        return out;
    }
    json_t *out = json_object();
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p)
    {
        const char *name = json_string_value(p);
        bool is_meta = false;
        for (size_t k = 0; k < sizeof meta / sizeof meta[0]; k++)
            is_meta |= strcmp(meta[k], name) == 0;
        json_t *v = json_object_get(event, name);
        if (is_meta)
            json_object_set_new(out, name, json_null()); /* §5.13: null if requested */
        else if (v)
            json_object_set(out, name, v);
    }
    return out;
}

static int event_parse(struct jmap_req *r, json_t *args)
{
    if (jmap_args_check(r, args, parse_args, NULL))
        return -1;
    const struct store_access *a = jmap_account(r, args, "accountId", false);
    if (!a)
        return -1;
    json_t *props = json_object_get(args, "properties");
    if (json_is_null(props))
        props = NULL;
    json_t *parsed = json_object(), *not_found = json_array(), *not_parsable = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(args, "blobIds"), i, v)
    {
        const char *id = jmap_resolve_id(r, json_string_value(v));
        unsigned char *data = NULL;
        size_t len = 0;
        if (!id || store_blob_get(r->conn, a->account_id, id, &data, &len) != STORE_OK) {
            json_array_append(not_found, v);
            continue;
        }
        char *err = NULL;
        json_t *group = ical_to_jscal((const char *)data, len, ICAL_TO_JSCAL_GROUP, &err);
        free(data);
        free(err);
        json_t *events = json_array();
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(group, "entries"), k, e)
        {
            const char *type = json_string_value(json_object_get(e, "@type"));
            if (type && strcmp(type, "Event") == 0)
                json_array_append_new(events, parsed_view(e, props));
        }
        if (!group || !json_array_size(events)) {
            json_array_append(not_parsable, v);
            json_decref(events);
        } else {
            json_object_set_new(parsed, json_string_value(v), events);
        }
        json_decref(group);
    }
    json_t *resp = json_pack("{s:s}", "accountId", a->account_id);
    json_object_set_new(resp, "parsed", json_object_size(parsed) ? parsed
                                                                 : (json_decref(parsed), json_null()));
    json_object_set_new(resp, "notFound", json_array_size(not_found)
                                              ? not_found
                                              : (json_decref(not_found), json_null()));
    json_object_set_new(resp, "notParsable", json_array_size(not_parsable)
                                                 ? not_parsable
                                                 : (json_decref(not_parsable), json_null()));
    jmap_respond(r, "CalendarEvent/parse", resp);
    return 0;
}

static const struct jcapability parse_capability = {JMAP_CALENDARS_PARSE, NULL, NULL};

void calendar_event_query_register(void)
{
    jmap_register_method("CalendarEvent/query", JMAP_CALENDARS, event_query);
    jmap_register_method("CalendarEvent/queryChanges", JMAP_CALENDARS, event_query_changes);
    jmap_register_capability(&parse_capability);
    jmap_register_method("CalendarEvent/parse", JMAP_CALENDARS_PARSE, event_parse);
}
