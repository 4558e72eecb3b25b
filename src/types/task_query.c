/*
 * task_query.c — Task/query: its filter conditions and sorts, and the run that
 * narrows the candidates by the store's indexes. tasks-06 §5.8 says only
 * "the CalendarEvent/query method ... mainly filtering should be different" (TODO in
 * the draft), so the conditions follow CalendarEvent/query (calendars-27 §5.12) with
 * task lists for calendars and assignees for attendees, plus the task's own progress,
 * workflowStatus and keyword; docs/tasks.md lists them.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/jscalendar/jscal_util.h"
#include "formats/recurrence/recur.h"
#include "jmap/collation.h"
#include "jmap/engine.h"
#include "types/calendar_event.h"
#include "types/instances.h"
#include "types/tasks.h"
#include "types/text_match.h"
#include "types/types.h"
#include "util/util.h"

#define MAX_EXPAND_SECONDS (400LL * 86400) /* maxExpandedQueryDuration P400D */

/* A date-time argument: a UTCDate, or a LocalDateTime read in UTC. */
static bool time_arg(json_t *v, int64_t *out)
{
    const char *s = json_string_value(v);
    jscal_ldt t;
    if (!s)
        return false;
    if (util_utc_parse(s, out) == 0)
        return true;
    if (jscal_ldt_parse(s, &t) != 0)
        return false;
    *out = jscal_ldt_to_secs(&t);
    return true;
}

static void add(struct buf *b, json_t *v)
{
    if (json_is_string(v)) {
        buf_puts(b, " ");
        buf_puts(b, json_string_value(v));
    }
}

static void add_participants(struct buf *b, json_t *task, int which)
{
    const char *k;
    json_t *p;
    json_object_foreach(json_object_get(task, "participants"), k, p)
    {
        json_t *roles = json_object_get(p, "roles");
        bool owner = json_is_true(json_object_get(roles, "owner")) ||
                     json_is_true(json_object_get(roles, "chair"));
        if (which >= 0 && owner != (which == TASK_TEXT_OWNER))
            continue;
        add(b, json_object_get(p, "name"));
        add(b, json_object_get(p, "email"));
        add(b, json_object_get(p, "calendarAddress"));
    }
}

static void add_body(struct buf *b, json_t *task)
{
    const char *k;
    json_t *v;
    static const char *const sets[] = {"keywords", "categories"};
    for (int i = 0; i < 2; i++)
        json_object_foreach(json_object_get(task, sets[i]), k, v)
        {
            buf_puts(b, " ");
            buf_puts(b, k);
        }
    json_object_foreach(json_object_get(task, "checklists"), k, v)
    {
        add(b, json_object_get(v, "title"));
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(v, "checkItems"), i, it)
            add(b, json_object_get(it, "title"));
    }
    json_object_foreach(json_object_get(task, "comments"), k, v)
        add(b, json_object_get(v, "message"));
}

/* The text conditions and the index fields they search (-1: all of them). */
static const struct {
    const char *key;
    int field;
} text_conds[] = {{"text", -1},
                  {"title", TASK_TEXT_TITLE},
                  {"description", TASK_TEXT_DESCRIPTION},
                  {"location", TASK_TEXT_LOCATION},
                  {"owner", TASK_TEXT_OWNER},
                  {"assignee", TASK_TEXT_ASSIGNEE}};

static int text_field(const char *key)
{
    for (size_t i = 0; i < sizeof text_conds / sizeof text_conds[0]; i++)
        if (strcmp(text_conds[i].key, key) == 0)
            return text_conds[i].field;
    return -2;
}

/* The match key of one text field of a task (-1: all), as task.c indexes it. */
static char *field_key(json_t *task, int field)
{
    struct buf b = {0};
    const char *k;
    json_t *v;
    if (field < 0 || field == TASK_TEXT_TITLE)
        add(&b, json_object_get(task, "title"));
    if (field < 0 || field == TASK_TEXT_DESCRIPTION)
        add(&b, json_object_get(task, "description"));
    if (field < 0 || field == TASK_TEXT_LOCATION)
        json_object_foreach(json_object_get(task, "locations"), k, v)
        {
            add(&b, json_object_get(v, "name"));
            add(&b, json_object_get(v, "description"));
        }
    if (field < 0 || field == TASK_TEXT_OWNER || field == TASK_TEXT_ASSIGNEE)
        add_participants(&b, task, field);
    if (field < 0)
        add_body(&b, task);
    char *key = text_match_key(b.data ? b.data : "");
    buf_free(&b);
    return key;
}

static int text_condition(json_t *task, int field, const char *q)
{
    json_t *terms = text_match_terms(q);
    char *key = field_key(task, field);
    int ok = text_match_all(key, terms);
    free(key);
    json_decref(terms);
    return ok;
}

/* The task's span in UTC: [start or due, due or start]; -1 if it has neither. */
static int task_span(json_t *task, int64_t *from, int64_t *to)
{
    int64_t s, d;
    bool hs = task_utc(task, "start", "Etc/UTC", &s) == 0,
         hd = task_utc(task, "due", "Etc/UTC", &d) == 0;
    if (!hs && !hd)
        return -1;
    *from = hs ? s : d;
    *to = hd ? d : s;
    return 0;
}

/* jscalendarbis-17 §5.2.5: a task's progress, "needs-action" when it has none */
static const char *progress_of(json_t *task)
{
    const char *p = json_string_value(json_object_get(task, "progress"));
    return p ? p : "needs-action";
}

static int check_condition(const char *key, json_t *v)
{
    static const char *const strings[] = {"uid", "progress", "workflowStatus", "keyword", NULL};
    if (text_field(key) > -2)
        return json_is_string(v) ? 1 : -2;
    int64_t t;
    if (strcmp(key, "inTaskLists") == 0) {
        size_t i;
        json_t *id;
        if (!json_is_array(v))
            return -2;
        json_array_foreach(v, i, id) if (!json_is_string(id)) return -2;
        return 1;
    }
    if (strcmp(key, "after") == 0 || strcmp(key, "before") == 0)
        return time_arg(v, &t) ? 1 : -2;
    for (const char *const *s = strings; *s; s++)
        if (strcmp(key, *s) == 0)
            return json_is_string(v) ? 1 : -2;
    return -1;
}

int task_filter_condition(struct jmap_req *r, json_t *obj, const char *key, json_t *v)
{
    if (!obj)
        return check_condition(key, v);
    int64_t t, from, to;
    if (strcmp(key, "inTaskLists") == 0) {
        size_t i;
        json_t *id;
        json_array_foreach(v, i, id)
        {
            const char *real = jmap_resolve_id(r, json_string_value(id));
            if (real && json_is_string(json_object_get(obj, "taskListId")) &&
                strcmp(real, json_string_value(json_object_get(obj, "taskListId"))) == 0)
                return 1;
        }
        return 0;
    }
    if (strcmp(key, "after") == 0 || strcmp(key, "before") == 0) {
        /* as CalendarEvent/query: after — it ends after t; before — it starts before t */
        time_arg(v, &t);
        if (task_span(obj, &from, &to))
            return 0;
        return strcmp(key, "after") == 0 ? to > t : from < t;
    }
    const char *s = json_string_value(v);
    if (strcmp(key, "uid") == 0)
        return json_equal(json_object_get(obj, "uid"), v);
    if (strcmp(key, "progress") == 0)
        return strcmp(progress_of(obj), s) == 0;
    if (strcmp(key, "workflowStatus") == 0)
        return json_equal(json_object_get(obj, "workflowStatus"), v);
    if (strcmp(key, "keyword") == 0)
        return json_is_true(json_object_get(json_object_get(obj, "keywords"), s));
    return text_condition(obj, text_field(key), s);
}

/* Compares two optional numbers; a missing one sorts last. */
static int cmp_opt(bool ha, int64_t a, bool hb, int64_t b)
{
    if (ha != hb)
        return ha ? -1 : 1;
    return !ha ? 0 : a < b ? -1 : a > b;
}

static int cmp_time(json_t *a, json_t *b, const char *local)
{
    int64_t ta = 0, tb = 0;
    bool ha = task_utc(a, local, "Etc/UTC", &ta) == 0, hb = task_utc(b, local, "Etc/UTC", &tb) == 0;
    return cmp_opt(ha, ta, hb, tb);
}

static int cmp_int(json_t *a, json_t *b, const char *prop)
{
    json_t *va = json_object_get(a, prop), *vb = json_object_get(b, prop);
    return cmp_opt(json_is_integer(va), json_integer_value(va), json_is_integer(vb),
                   json_integer_value(vb));
}

static int cmp_string(json_t *a, json_t *b, const char *prop)
{
    const char *sa = json_string_value(json_object_get(a, prop)),
               *sb = json_string_value(json_object_get(b, prop));
    if (!sa || !sb)
        return cmp_opt(sa != NULL, 0, sb != NULL, 0);
    return collation_compare("i;unicode-casemap", sa, sb);
}

int task_compare(json_t *a, json_t *b, const char *property, bool *ok)
{
    *ok = true;
    if (strcmp(property, "start") == 0 || strcmp(property, "due") == 0)
        return cmp_time(a, b, property);
    if (strcmp(property, "sortOrder") == 0 || strcmp(property, "estimatedWork") == 0 ||
        strcmp(property, "percentComplete") == 0)
        return cmp_int(a, b, property);
    if (strcmp(property, "priority") == 0) {
        /* jscalendarbis-17 §4.4.1: 1 is the highest, 9 the lowest, 0 undefined (last) */
        int64_t pa = json_integer_value(json_object_get(a, "priority")),
                pb = json_integer_value(json_object_get(b, "priority"));
        return cmp_opt(pa > 0, pa, pb > 0, pb);
    }
    if (strcmp(property, "title") == 0 || strcmp(property, "uid") == 0 ||
        strcmp(property, "created") == 0 || strcmp(property, "updated") == 0)
        return cmp_string(a, b, property);
    *ok = false;
    return 0;
}

/* ---- the run: candidates from the indexes ---------------------------------------------- */

struct narrow {
    json_t *hold;                 /* the term arrays the store terms point into */
    bool exact;                   /* the index's answer is the exact answer */
    struct store_text_term *terms;
    size_t nterms;
    bool has_after, has_before;
    int64_t after, before;
};

static void narrow_by(struct narrow *n, json_t *cond)
{
    const char *key;
    json_t *v;
    json_object_foreach(cond, key, v)
    {
        int field = text_field(key);
        int64_t t;
        if (field > -2 && json_is_string(v)) {
            json_t *terms = text_match_terms(json_string_value(v));
            size_t i;
            json_t *term;
            json_array_foreach(terms, i, term) /* a phrase is checked on the text itself */
                n->exact &= !json_is_true(json_object_get(term, "phrase"));
            text_match_store_terms(terms, field, &n->terms, &n->nterms);
            json_array_append_new(n->hold, terms);
        } else if (strcmp(key, "after") == 0 && time_arg(v, &t)) {
            n->after = n->has_after && n->after > t ? n->after : t;
            n->has_after = true;
            n->exact = false; /* the range index is widened for floating tasks */
        } else if (strcmp(key, "before") == 0 && time_arg(v, &t)) {
            n->before = n->has_before && n->before < t ? n->before : t;
            n->has_before = true;
            n->exact = false;
        } else {
            n->exact = false;
        }
    }
}

static int range_cb(const char *id, int64_t modseq, void *ud)
{
    json_object_set_new(ud, id, json_true());
    return 0;
}

static int hit_cb(const char *id, void *ud)
{
    json_object_set_new(ud, id, json_true());
    return 0;
}

/* The candidates of the top-level (AND) conditions' text (the full-text index) and
 * time range (the range index); NULL when there is nothing to narrow by. *exact is
 * set when they are the answer itself: one condition of words only (the index
 * matches each word at the start of a word of the field, as text_match does). */
static json_t *candidates(struct jmap_req *r, const char *account, json_t *filter, bool *exact)
{
    struct narrow n = {.hold = json_array(), .exact = true};
    const char *op = json_string_value(json_object_get(filter, "operator"));
    size_t i;
    json_t *c;
    if (!op)
        narrow_by(&n, filter);
    else if (strcmp(op, "AND") == 0)
        json_array_foreach(json_object_get(filter, "conditions"), i, c)
        {
            if (!json_object_get(c, "operator"))
                narrow_by(&n, c);
        }
    *exact = !op && n.exact && n.nterms;
    json_t *cands = NULL;
    struct store_conn *conn = jmap_req_conn(r);
    if (n.has_after || n.has_before) {
        cands = json_object();
        store_index_range(conn, account, task_type.name, n.has_after, n.after, n.has_before,
                          n.before, range_cb, cands);
    }
    if (n.nterms) {
        json_t *hits = json_object();
        store_text_search(conn, account, task_type.name, n.terms, n.nterms, hit_cb, hits);
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
    }
    free(n.terms);
    json_decref(n.hold);
    return cands;
}

static int collect_cb(const char *id, json_t *obj, void *ud)
{
    json_array_append(ud, obj);
    return 0;
}

/* Appends every occurrence of the series obj in [from, to) to out as an instance;
 * nonzero when the series is beyond the expansion limits. */
static int expand_into(json_t *obj, const char *id, int64_t from, int64_t to, const char *tz,
                       json_t *out)
{
    int code = 0;
    char *err = NULL;
    recur_iter *it = recur_iter_new(obj, from, to, tz, NULL, 0, &code, &err);
    free(err);
    if (!it)
        return code == RECUR_ERR_LIMIT;
    recur_occurrence occ;
    while (recur_iter_next(it, &occ) == 1) {
        json_t *inst = instance_build(&task_instances, obj, id, occ.recurrence_id, true);
        if (inst)
            json_array_append_new(out, inst);
    }
    recur_iter_free(it);
    return 0;
}

static int id_order(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ids of cands in the engine's order without a sort: by id. */
static json_t *ids_by_id(json_t *cands)
{
    size_t n = json_object_size(cands), k = 0;
    const char **v = xmalloc((n + 1) * sizeof *v);
    const char *id;
    json_t *x;
    json_object_foreach(cands, id, x) v[k++] = id;
    qsort(v, n, sizeof *v, id_order);
    json_t *ids = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(ids, json_string(v[i]));
    free(v);
    return ids;
}

/* The ids of the tasks filter and sort select, without expansion; a new array. */
static json_t *plain_query(struct jmap_req *r, const char *account, json_t *filter, json_t *sort)
{
    bool exact = false;
    json_t *cands = filter ? candidates(r, account, filter, &exact) : NULL;
    if (cands && exact && !sort) {
        json_t *ids = ids_by_id(cands);
        json_decref(cands);
        return ids;
    }
    json_t *objs = json_array();
    if (cands) {
        const char *id;
        json_t *v;
        json_object_foreach(cands, id, v)
        {
            json_t *obj = store_object_get(jmap_req_conn(r), account, task_type.name, id);
            if (obj)
                json_array_append_new(objs, obj);
        }
        json_decref(cands);
    } else {
        store_object_foreach(jmap_req_conn(r), account, task_type.name, collect_cb, objs);
    }
    json_t *ids = engine_query_filter_sort(r, &task_type, objs, filter, sort);
    json_decref(objs);
    return ids;
}

/* expandRecurrences (calendars-27 §5.11 by analogy): every occurrence of the candidate
 * series in [after, before) as an instance with its synthetic id, then the filter
 * (on each instance) and the sort. A new array, or NULL after the error. */
static json_t *expanded_query(struct jmap_req *r, const char *account, json_t *args)
{
    json_t *filter = json_object_get(args, "filter"), *sort = json_object_get(args, "sort");
    json_t *tzv = json_object_get(args, "timeZone");
    int64_t after = 0, before = 0;
    if (!json_is_object(filter) || json_object_get(filter, "operator") ||
        !time_arg(json_object_get(filter, "after"), &after) ||
        !time_arg(json_object_get(filter, "before"), &before)) {
        jmap_error(r, "invalidArguments",
                   "expandRecurrences needs a FilterCondition with after and before");
        return NULL;
    }
    if (before - after > MAX_EXPAND_SECONDS) {
        jmap_error(r, "tooLarge", "the window is longer than maxExpandedQueryDuration (P400D)");
        return NULL;
    }
    bool exact;
    json_t *cands = candidates(r, account, filter, &exact), *objs = json_array();
    const char *id;
    json_t *v;
    int code = 0;
    json_object_foreach(cands, id, v)
    {
        json_t *obj = store_object_get(jmap_req_conn(r), account, task_type.name, id);
        if (obj && instance_is_recurring(obj))
            code |= expand_into(obj, id, after, before, json_string_value(tzv), objs);
        else if (obj)
            json_array_append(objs, obj);
        json_decref(obj);
    }
    json_decref(cands);
    json_t *ids = NULL;
    if (code)
        jmap_error(r, "tooLarge", "a series has more occurrences than the server expands");
    else
        ids = engine_query_filter_sort(r, &task_type, objs, filter,
                                       json_is_array(sort) && json_array_size(sort) ? sort : NULL);
    json_decref(objs);
    return ids;
}

static const struct argspec task_query_args[] = {
    {"expandRecurrences", ARG_BOOL, 0},
    {"timeZone", ARG_STRING, 0},
    {NULL, 0, 0},
};

/* Checks the arguments and runs the query inside the open read transaction. */
static json_t *run_task_query(struct jmap_req *r, const char *account, json_t *args)
{
    json_t *filter = json_object_get(args, "filter"), *sort = json_object_get(args, "sort");
    json_t *tz = json_object_get(args, "timeZone");
    if ((json_is_object(filter) && engine_filter_check(r, &task_type, filter, 0)) ||
        (json_is_array(sort) && engine_sort_check(r, &task_type, sort)))
        return NULL;
    if (tz && !types_is_time_zone(json_string_value(tz)) &&
        strcmp(json_string_value(tz), "Etc/UTC")) {
        jmap_error(r, "invalidArguments", "timeZone: not a time zone id of the server");
        return NULL;
    }
    if (json_is_true(json_object_get(args, "expandRecurrences")))
        return expanded_query(r, account, args);
    return plain_query(r, account, json_is_object(filter) ? filter : NULL,
                       json_is_array(sort) && json_array_size(sort) ? sort : NULL);
}

static int task_query(struct jmap_req *r, json_t *args)
{
    const struct store_access *a =
        jmap_method_begin(r, args, engine_query_args, task_query_args, "accountId", 0);
    if (!a)
        return -1;
    store_snapshot_gate(jmap_req_conn(r), a->account_id); /* store.h: the snapshot's cost */
    int64_t state = jmap_type_state(r, &task_type, a->account_id);
    json_t *ids = run_task_query(r, a->account_id, args);
    if (ids) {
        engine_visible_filter(r, &task_type, a, ids); /* a sharee's lists (tasks-06 §4) */
        engine_snapshot_save(jmap_req_conn(r), a->account_id, task_type.name, args, state, ids);
    }
    store_rollback(jmap_req_conn(r));
    if (!ids)
        return -1;
    int rc = engine_query_respond(r, &task_type, a->account_id, args, ids, state);
    json_decref(ids);
    return rc;
}

static int task_query_changes(struct jmap_req *r, json_t *args)
{
    if (jmap_args_check(r, args, engine_query_changes_args, task_query_args))
        return -1;
    int64_t since, current;
    const struct store_access *a =
        engine_changes_begin(r, &task_type, args, "sinceQueryState", &since, &current);
    if (!a)
        return -1;
    json_t *changed = engine_changed_ids(jmap_req_conn(r), a->account_id, task_type.name, since);
    engine_metadata_changed_ids(r, &task_type, a->account_id, since, changed); /* issue 18 */
    json_t *now = run_task_query(r, a->account_id, args);
    if (now)
        engine_visible_filter(r, &task_type, a, now); /* a sharee's lists (tasks-06 §4) */
    store_rollback(jmap_req_conn(r));
    int rc = -1;
    if (now) {
        bool expand = json_is_true(json_object_get(args, "expandRecurrences"));
        rc = engine_query_changes_respond(r, &task_type, a->account_id, args, since, current, now,
                                          changed, expand ? event_instance_base : NULL);
    }
    json_decref(now);
    json_decref(changed);
    return rc;
}

void task_query_register(void)
{
    jmap_register_method("Task/query", JMAP_TASKS, task_query);
    jmap_register_method("Task/queryChanges", JMAP_TASKS, task_query_changes);
}
