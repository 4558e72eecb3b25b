/*
 * task_query.c — Task/query's filter conditions and sorts. tasks-06 §5.8 says only
 * "the CalendarEvent/query method ... mainly filtering should be different" (TODO in
 * the draft), so the conditions follow CalendarEvent/query (calendars-27 §5.12) with
 * task lists for calendars and assignees for attendees, plus the task's own progress,
 * workflowStatus and keyword; docs/tasks.md lists them.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/jscalendar/jscal_util.h"
#include "jmap/collation.h"
#include "jmap/engine.h"
#include "types/tasks.h"
#include "types/types.h"
#include "util/util.h"

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

static bool text_in(json_t *v, const char *needle)
{
    return json_is_string(v) && collation_contains(json_string_value(v), needle);
}

/* owner (chair/owner roles) or assignee participants matching needle */
static bool participant_matches(json_t *task, const char *needle, bool owner)
{
    const char *k;
    json_t *p;
    json_object_foreach(json_object_get(task, "participants"), k, p)
    {
        json_t *roles = json_object_get(p, "roles");
        bool is_owner = json_is_true(json_object_get(roles, "owner")) ||
                        json_is_true(json_object_get(roles, "chair"));
        if (is_owner != owner)
            continue;
        if (text_in(json_object_get(p, "name"), needle) ||
            text_in(json_object_get(p, "email"), needle) ||
            text_in(json_object_get(p, "calendarAddress"), needle))
            return true;
    }
    return false;
}

static bool location_matches(json_t *task, const char *needle)
{
    const char *k;
    json_t *l;
    json_object_foreach(json_object_get(task, "locations"), k, l)
    {
        if (text_in(json_object_get(l, "name"), needle) ||
            text_in(json_object_get(l, "description"), needle))
            return true;
    }
    return false;
}

static bool body_matches(json_t *task, const char *needle)
{
    const char *k;
    json_t *v;
    static const char *const sets[] = {"keywords", "categories"};
    for (int i = 0; i < 2; i++)
        json_object_foreach(json_object_get(task, sets[i]), k, v)
        {
            if (collation_contains(k, needle))
                return true;
        }
    json_object_foreach(json_object_get(task, "checklists"), k, v)
    {
        if (text_in(json_object_get(v, "title"), needle))
            return true;
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(v, "checkItems"), i, it)
        {
            if (text_in(json_object_get(it, "title"), needle))
                return true;
        }
    }
    json_object_foreach(json_object_get(task, "comments"), k, v)
    {
        if (text_in(json_object_get(v, "message"), needle))
            return true;
    }
    return false;
}

static int text_condition(json_t *task, const char *key, const char *needle)
{
    if (strcmp(key, "title") == 0)
        return text_in(json_object_get(task, "title"), needle);
    if (strcmp(key, "description") == 0)
        return text_in(json_object_get(task, "description"), needle);
    if (strcmp(key, "location") == 0)
        return location_matches(task, needle);
    if (strcmp(key, "owner") == 0)
        return participant_matches(task, needle, true);
    if (strcmp(key, "assignee") == 0)
        return participant_matches(task, needle, false);
    /* "text": any of them */
    return text_in(json_object_get(task, "title"), needle) ||
           text_in(json_object_get(task, "description"), needle) ||
           location_matches(task, needle) || participant_matches(task, needle, true) ||
           participant_matches(task, needle, false) || body_matches(task, needle);
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
    static const char *const strings[] = {"text",     "title",    "description", "location",
                                          "owner",    "assignee", "uid",         "progress",
                                          "workflowStatus", "keyword", NULL};
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
    return text_condition(obj, key, s);
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
