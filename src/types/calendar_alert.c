/*
 * calendar_alert.c — the triggers of an event's alerts (draft-ietf-jmap-calendars-27
 * §6; jscalendarbis-08 §4.5.1 Alert, OffsetTrigger, AbsoluteTrigger): the alerts that
 * apply (§6.1 default alerts, §6.3 snoozes), and when each fires for each occurrence
 * of a recurring event (overrides applied), in UTC. A Task's alerts too
 * (draft-ietf-jmap-tasks-06 "Alerts extension"): relative to its start or its due.
 * Pure: no store, no clock.
 */
#include <string.h>

#include "formats/jscalendar/jscal_util.h"
#include "formats/recurrence/recur.h"
#include "types/calendar_alert.h"
#include "types/calendar_event.h"
#include "util/util.h"

#define DAY 86400

json_t *calendar_alert_effective(const json_t *event, const json_t *defaults)
{
    json_t *own = json_object_get(event, "alerts");
    if (!json_is_true(json_object_get(event, "useDefaultAlerts")))
        return json_is_object(own) ? json_deep_copy(own) : json_object();
    json_t *out = json_object();
    const char *aid;
    json_t *a;
    json_object_foreach((json_t *)defaults, aid, a)
    {
        json_t *copy = json_deep_copy(a);
        /* §6.1: the acknowledged time of a default alert is kept in the event */
        json_t *ack = json_object_get(json_object_get(own, aid), "acknowledged");
        if (ack)
            json_object_set(copy, "acknowledged", ack);
        json_object_set_new(out, aid, copy);
    }
    json_object_foreach(own, aid, a)
    {
        const char *rel;
        json_t *rv;
        json_object_foreach(json_object_get(a, "relatedTo"), rel, rv)
        {
            if (json_object_get(defaults, rel) && !json_object_get(out, aid))
                json_object_set_new(out, aid, json_deep_copy(a)); /* §6.1: a snooze */
        }
    }
    return out;
}

enum trig { TRIG_NONE, TRIG_START, TRIG_END, TRIG_ABSOLUTE };

/* What kind of trigger an alert has, and its offset or instant. */
static enum trig trigger_of(const json_t *alert, int64_t *value)
{
    json_t *t = json_object_get(alert, "trigger");
    if (!json_is_object(t))
        return TRIG_NONE;
    const char *type = json_string_value(json_object_get(t, "@type"));
    if (!type || strcmp(type, "OffsetTrigger") == 0) { /* defaultType: OffsetTrigger */
        jscal_dur d;
        const char *off = json_string_value(json_object_get(t, "offset"));
        if (!off || jscal_dur_parse(off, 1, &d))
            return TRIG_NONE;
        *value = jscal_dur_total_secs(&d);
        const char *rel = json_string_value(json_object_get(t, "relativeTo"));
        return rel && strcmp(rel, "end") == 0 ? TRIG_END : TRIG_START;
    }
    if (strcmp(type, "AbsoluteTrigger") == 0) {
        const char *when = json_string_value(json_object_get(t, "when"));
        return when && util_utc_parse(when, value) == 0 ? TRIG_ABSOLUTE : TRIG_NONE;
    }
    return TRIG_NONE; /* UnknownTrigger: kept, never fired */
}

/* Whether the alert's acknowledged time suppresses a trigger at when (§6.2). */
static bool acknowledged(const json_t *alert, int64_t when)
{
    int64_t ack;
    const char *s = json_string_value(json_object_get(alert, "acknowledged"));
    return s && util_utc_parse(s, &ack) == 0 && ack >= when;
}

static bool is_recurring(const json_t *ev)
{
    return json_object_get(ev, "recurrenceRule") || json_object_get(ev, "recurrenceRules") ||
           json_object_size(json_object_get(ev, "recurrenceOverrides"));
}

struct walk {
    int64_t from, to;
    int (*cb)(const struct alert_fire *f, void *ud);
    void *ud;
    int stop;
};

static void emit(struct walk *w, const char *aid, const char *rid, int64_t when,
                 const json_t *alert)
{
    if (w->stop || when <= w->from || when > w->to || acknowledged(alert, when))
        return;
    const char *action = json_string_value(json_object_get(alert, "action"));
    struct alert_fire f = {aid, rid, when, action ? action : "display", alert};
    w->stop = w->cb(&f, w->ud);
}

/* The times an occurrence's offset triggers are relative to (jscalendarbis-17
 * §4.5.1 relativeTo): an event's start and end; a task's start and due, each only
 * if it has one (RFC 5545 §3.8.6.3: a VTODO alarm relative to START needs DTSTART,
 * to END a DUE). */
struct times {
    int64_t start, end;
    bool has_start, has_end;
};

static bool is_task(const json_t *obj)
{
    const char *type = json_string_value(json_object_get(obj, "@type"));
    return type && strcmp(type, "Task") == 0;
}

/* The local distance from a task's start to its due (0 unless it has both). */
static int64_t task_span(const json_t *task)
{
    jscal_ldt s, d;
    const char *start = json_string_value(json_object_get(task, "start")),
               *due = json_string_value(json_object_get(task, "due"));
    if (!start || !due || jscal_ldt_parse(start, &s) || jscal_ldt_parse(due, &d))
        return 0;
    return jscal_ldt_to_secs(&d) - jscal_ldt_to_secs(&s);
}

static void occurrence_times(const json_t *obj, const recur_occurrence *o, const char *float_tz,
                             struct times *t)
{
    *t = (struct times){o->utc_start, o->utc_end, true, true};
    if (!is_task(obj))
        return;
    t->has_start = json_object_get(obj, "start") != NULL;
    t->has_end = json_object_get(obj, "due") != NULL;
    if (!t->has_end || !t->has_start)
        return; /* without a start the series recurs on its due: utc_start is the due */
    const json_t *occ = o->object ? o->object : obj;
    const char *tz = json_string_value(json_object_get(occ, "timeZone"));
    const char *due = json_string_value(json_object_get(occ, "due"));
    char moved[32];
    if (o->object && !(o->patch && json_object_get(o->patch, "due"))) {
        /* an occurrence's due keeps its distance from its recurrence id (docs/tasks.md
         * "Instances"), unless its override moves the due itself */
        jscal_ldt r, out;
        if (jscal_ldt_parse(o->recurrence_id, &r) == 0) {
            jscal_secs_to_ldt(jscal_ldt_to_secs(&r) + task_span(obj), &out);
            jscal_ldt_format(&out, 0, moved);
            due = moved;
        }
    }
    t->has_end = due && event_local_to_utc(occ, due, tz, float_tz, &t->end) == 0;
}

/* The offset triggers of one occurrence, and the absolute ones an override adds or
 * changes (base: the series' own alerts; NULL for an event that does not recur). */
static void occurrence(struct walk *w, json_t *alerts, const json_t *base, const struct times *t,
                       const char *rid)
{
    const char *aid;
    json_t *a;
    json_object_foreach(alerts, aid, a)
    {
        int64_t v = 0;
        enum trig k = trigger_of(a, &v);
        if ((k == TRIG_START && t->has_start) || (k == TRIG_END && t->has_end))
            emit(w, aid, rid, (k == TRIG_START ? t->start : t->end) + v, a);
        else if (k == TRIG_ABSOLUTE && base && !json_equal(a, json_object_get(base, aid)))
            emit(w, aid, rid, v, a);
    }
}

int calendar_alert_triggers(const json_t *event, const json_t *defaults_with,
                            const json_t *defaults_without, const char *float_tz, int64_t from,
                            int64_t to, int (*cb)(const struct alert_fire *f, void *ud), void *ud)
{
    bool untimed = json_is_true(json_object_get(event, "showWithoutTime"));
    const json_t *defaults = untimed ? defaults_without : defaults_with;
    json_t *base = calendar_alert_effective(event, defaults);
    struct walk w = {from, to, cb, ud, 0};
    /* the absolute triggers of the series fire once; the offsets bound the window of
     * occurrences whose triggers can fall in (from, to] */
    int64_t lo = 0, hi = 0;
    const char *aid;
    json_t *a;
    json_object_foreach(base, aid, a)
    {
        int64_t v = 0;
        enum trig k = trigger_of(a, &v);
        if (k == TRIG_ABSOLUTE)
            emit(&w, aid, NULL, v, a);
        else if (k != TRIG_NONE) {
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    }
    bool recurring = is_recurring(event);
    recur_limits lim = {0, 500};
    int code = 0;
    char *err = NULL;
    /* overrides may change an alert's offset: a day's margin either side; a task's
     * due may lie after its start by the span */
    int64_t span = is_task(event) ? task_span(event) : 0;
    recur_iter *it = recur_iter_new(event, from - hi - DAY - (span > 0 ? span : 0), to - lo + DAY,
                                    float_tz, &lim, recurring ? RECUR_WANT_OBJECT : 0, &code, &err);
    free(err);
    bool ok = it || json_object_size(base) == 0;
    recur_occurrence o;
    while (it && !w.stop && recur_iter_next(it, &o) == 1) {
        struct times t;
        occurrence_times(event, &o, float_tz, &t);
        if (!recurring) {
            occurrence(&w, base, NULL, &t, NULL);
            continue;
        }
        json_t *own = o.patch && o.object ? calendar_alert_effective(o.object, defaults) : NULL;
        occurrence(&w, own ? own : base, own ? base : NULL, &t, o.recurrence_id);
        json_decref(own);
    }
    recur_iter_free(it);
    json_decref(base);
    return ok ? 0 : -1;
}

static int earliest_cb(const struct alert_fire *f, void *ud)
{
    int64_t *best = ud;
    if (*best < 0 || f->when < *best)
        *best = f->when;
    return 0;
}

int64_t calendar_alert_next(const json_t *event, const json_t *defaults_with,
                            const json_t *defaults_without, const char *float_tz, int64_t after,
                            int64_t horizon)
{
    /* near windows first: most events fire soon or not at all */
    const int64_t steps[] = {2 * DAY, 40 * DAY, horizon};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int64_t span = steps[i] < horizon ? steps[i] : horizon, best = -1;
        calendar_alert_triggers(event, defaults_with, defaults_without, float_tz, after,
                                after + span, earliest_cb, &best);
        if (best >= 0 || span == horizon)
            return best;
    }
    return -1;
}
