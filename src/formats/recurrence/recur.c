/*
 * recur.c — recurrence expansion of JSCalendar objects over a UTC window (see recur.h).
 * The rule is iterated by libical in wall-clock time of the series' zone (so UNTIL, a
 * LocalDateTime, compares as jscalendarbis §4.3.3 says); every instance is then converted
 * to UTC with the offset-before-transition rule. Overrides (§4.3.4) are not looked up in
 * the rule: every non-excluded override key is an occurrence, patched.
 */
#include "formats/recurrence/recur.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/icalendar/ical_internal.h"
#include "formats/jscalendar/jscal.h"
#include "formats/recurrence/recur_internal.h"
#include "formats/timezone/tz.h"

#define SLACK (27 * 3600) /* more than any UTC offset */
/* The candidates a rule may examine per instance allowed: enough for a rule that matches
 * one day in four years at every minute, never enough to run for minutes. */
#define CANDIDATES_PER_INSTANCE 16

struct recur_iter {
    recur_occurrence *occ;
    size_t n, cap, pos;
};

typedef struct {
    const json_t *obj;
    const char *base_prop; /* "start" or "due" */
    jscal_ldt start;
    icaltimezone *zone, *owned_zone;
    jscal_dur dur;
    int64_t dur_max_secs;
    int has_rule, bounded;
    int never; /* the rule can never match: only the start occurs */
    int libical_only; /* RECUR_LIBICAL */
    struct icalrecurrencetype rule;
    int64_t max_instances;
    clock_t deadline;
    int64_t work;
    recur_budget budget; /* candidates examined (issue 19 §1) */
    char *err;
    int code;
} series;

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

int recur_parse_utc(const char *s, int64_t *out)
{
    jscal_ldt t;
    ical_dt d;
    if (s && !jscal_utc_parse(s, &t)) {
        *out = jscal_ldt_to_secs(&t);
        return 0;
    }
    if (s && !ical_dt_parse(s, &d) && d.is_utc) {
        *out = jscal_ldt_to_secs(&d.t);
        return 0;
    }
    return -1;
}

void recur_format_utc(int64_t t, char *buf)
{
    jscal_ldt l;
    jscal_secs_to_ldt(t, &l);
    jscal_ldt_format(&l, 1, buf);
}

static int sfail(series *s, int code, const char *path, const char *msg)
{
    if (!s->err)
        s->err = jscal_strdupf("%s: %s", path, msg);
    s->code = code;
    return -1;
}

/* The RRULE text of a RecurrenceRule for iteration in floating wall-clock time (UNTIL as
 * a floating local time): jscal_rrule_text, the one RRULE writer. */
static char *rule_text(const json_t *r)
{
    char until[24];
    jscal_ldt t;
    json_t *v = json_object_get(r, "until");
    int have = v && !jscal_ldt_parse(json_string_value(v), &t);
    if (have)
        snprintf(until, sizeof until, "%04u%02u%02uT%02u%02u%02u", (unsigned)t.year % 10000u,
                 (unsigned)t.month % 100u, (unsigned)t.day % 100u, (unsigned)t.hour % 100u,
                 (unsigned)t.minute % 100u, (unsigned)t.second % 100u);
    return jscal_rrule_text(r, have ? until : NULL, JSCAL_RRULE_ITERATE);
}

/* A zone carried as VTIMEZONE (jCal) in obj's iCalendar/components. */
static icaltimezone *carried_zone(const json_t *obj, const char *tzid)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(json_object_get(obj, "iCalendar"), "components"), i, e)
    {
        char *err = NULL;
        ical_comp *c = ical_comp_from_jcal(e, &err);
        free(err);
        if (!c)
            continue;
        icaltimezone *z = NULL;
        if (ical_vtimezone_is(c, tzid)) { /* TZIDs holding commas, too */
            jbuf b = {0};
            ical_comp_write(c, &b);
            icalcomponent *ic = icalparser_parse_string(b.s);
            free(b.s);
            if (ic) {
                z = tz_from_vtimezone(ic);
                icalcomponent_free(ic);
            }
        }
        ical_comp_free(c);
        if (z)
            return z;
    }
    return NULL;
}

icaltimezone *recur_zone_lookup(const json_t *obj, const char *tzid, icaltimezone **owned,
                               int *known)
{
    *owned = NULL;
    *known = 1;
    if (!tzid)
        return NULL;
    icaltimezone *z = tz_builtin(tzid);
    if (!z)
        z = *owned = carried_zone(obj, tzid);
    if (!z)
        *known = 0;
    return z == icaltimezone_get_utc_timezone() ? NULL : z;
}

static int series_init(series *s, const json_t *obj, const char *float_tz,
                       const recur_limits *lim)
{
    memset(s, 0, sizeof s[0]);
    tz_init();
    s->obj = obj;
    s->max_instances = lim && lim->max_instances ? lim->max_instances : 100000;
    int64_t ms = lim && lim->max_millis ? lim->max_millis : 2000;
    s->deadline = clock() + (clock_t)(ms * (CLOCKS_PER_SEC / 1000));
    s->budget.max = s->max_instances * CANDIDATES_PER_INSTANCE;
    s->budget.deadline = s->deadline;
    if (!json_is_object(obj))
        return sfail(s, RECUR_ERR_INVALID, "@type", "not a JSCalendar object");
    s->base_prop = json_object_get(obj, "start") || !json_object_get(obj, "due") ? "start" : "due";
    if (jscal_ldt_parse(jstr(obj, s->base_prop), &s->start))
        return sfail(s, RECUR_ERR_INVALID, s->base_prop, "missing or not a LocalDateTime");
    const char *tz = jstr(obj, "timeZone");
    if (tz) {
        s->zone = tz_builtin(tz);
        if (!s->zone) {
            s->zone = s->owned_zone = carried_zone(obj, tz);
            if (!s->zone)
                return sfail(s, RECUR_ERR_INVALID, "timeZone", "unknown time zone");
        }
    } else if (float_tz) {
        s->zone = tz_builtin(float_tz);
        if (!s->zone)
            return sfail(s, RECUR_ERR_INVALID, "timeZone", "unknown zone for floating times");
    }
    if (s->zone == icaltimezone_get_utc_timezone())
        s->zone = NULL;
    const char *dur = jstr(obj, "duration");
    if (dur && jscal_dur_parse(dur, 0, &s->dur))
        return sfail(s, RECUR_ERR_INVALID, "duration", "not a Duration");
    if (!dur)
        s->dur.sign = 1;
    s->dur_max_secs = jscal_dur_total_secs(&s->dur) + 2 * 3600;
    const json_t *r = json_object_get(obj, "recurrenceRule");
    if (json_is_object(r)) {
        /* an until or count that does not parse would leave the rule unbounded while
         * the series counts as bounded (and be walked to the end of time): invalid */
        json_t *until = json_object_get(r, "until"), *count = json_object_get(r, "count");
        jscal_ldt ut;
        if (until && (!json_is_string(until) || jscal_ldt_parse(json_string_value(until), &ut)))
            return sfail(s, RECUR_ERR_INVALID, "recurrenceRule/until", "not a LocalDateTime");
        if (count && (!json_is_integer(count) || json_integer_value(count) < 1))
            return sfail(s, RECUR_ERR_INVALID, "recurrenceRule/count", "not a positive integer");
        char *txt = rule_text(r);
        icalerror_clear_errno();
        s->rule = icalrecurrencetype_from_string(txt);
        free(txt);
        if (s->rule.freq == ICAL_NO_RECURRENCE)
            return sfail(s, RECUR_ERR_INVALID, "recurrenceRule", "invalid recurrence rule");
        const char *rscale = jstr(r, "rscale");
        if (rscale && strcmp(rscale, "gregorian") && !icalrecurrencetype_rscale_is_supported())
            return sfail(s, RECUR_ERR_INVALID, "recurrenceRule/rscale", "unsupported calendar");
        s->has_rule = 1;
        s->bounded = json_object_get(r, "count") || json_object_get(r, "until");
        s->never = recur_rule_never_matches(
            &s->rule, jscal_days_from_civil(s->start.year, s->start.month, s->start.day));
    } else {
        s->bounded = 1;
    }
    return 0;
}

static void series_free(series *s)
{
    free(s->rule.rscale); /* owned by the parsed rule (libical 3.0 strdups it) */
    s->rule.rscale = NULL;
    if (s->owned_zone)
        icaltimezone_free(s->owned_zone, 1);
    free(s->err);
}

/* jscalendarbis §1.4.6: days and weeks on the wall clock, then time in absolute time. */
static void span(series *s, const jscal_dur *d, int64_t local, icaltimezone *zone,
                 int64_t *ustart, int64_t *uend)
{
    (void)s;
    *ustart = tz_local_to_utc(zone, local);
    int64_t l2 = local + (d->weeks * 7 + d->days) * 86400;
    *uend = tz_local_to_utc(zone, l2) + d->hours * 3600 + d->minutes * 60 + d->seconds;
}

static int budget_fail(series *s)
{
    return sfail(s, RECUR_ERR_LIMIT, "recurrenceRule",
                 clock() > s->deadline ? "expansion limit exceeded (time)"
                                       : "expansion limit exceeded (too many candidates)");
}

static int work(series *s)
{
    if (++s->work > s->max_instances)
        return sfail(s, RECUR_ERR_LIMIT, "recurrenceRule",
                     "expansion limit exceeded (too many instances)");
    if (recur_budget_charge(&s->budget, 1))
        return budget_fail(s);
    return 0;
}

static struct icaltimetype to_itt(const jscal_ldt *t)
{
    struct icaltimetype tt = icaltime_null_time();
    tt.year = t->year;
    tt.month = t->month;
    tt.day = t->day;
    tt.hour = t->hour;
    tt.minute = t->minute;
    tt.second = t->second;
    tt.is_date = 0;
    return tt;
}

static int64_t itt_secs(struct icaltimetype t)
{
    return jscal_days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 +
           t.minute * 60 + t.second;
}

/* Calls fn for each wall-clock instance of the rule (plus the start itself, jscalendarbis
 * §4.3.3.1 rule 1) whose local time lies in [lo, hi]. fn returns nonzero to stop. */
typedef int (*inst_fn)(void *ctx, int64_t local);

static int in_list(const short *a, int size, int v);

/* The period (RFC 5545 §3.3.10 "interval") a wall-clock time belongs to, as a number. */
static int64_t period_of(const series *s, int64_t l)
{
    jscal_ldt t;
    jscal_secs_to_ldt(l, &t);
    int64_t day = l >= 0 ? l / 86400 : -((-l + 86399) / 86400);
    switch (s->rule.freq) {
    case ICAL_YEARLY_RECURRENCE:
        return t.year;
    case ICAL_MONTHLY_RECURRENCE:
        return (int64_t)t.year * 12 + t.month;
    case ICAL_WEEKLY_RECURRENCE: {
        /* 1970-01-01 was a Thursday; libical weekdays: SUNDAY = 1 .. SATURDAY = 7 */
        int dow = (int)(((day % 7) + 7 + 4) % 7); /* 0 = Sunday */
        int wkst = s->rule.week_start == ICAL_NO_WEEKDAY ? 1 : (int)s->rule.week_start - 1;
        return day - ((dow - wkst + 7) % 7);
    }
    case ICAL_DAILY_RECURRENCE:
        return day;
    case ICAL_HOURLY_RECURRENCE:
        return l >= 0 ? l / 3600 : -((-l + 3599) / 3600);
    case ICAL_MINUTELY_RECURRENCE:
        return l >= 0 ? l / 60 : -((-l + 59) / 60);
    default:
        return l;
    }
}

/* ---- selection and emission per period, shared by the BYSETPOS and BYWEEKNO walkers ---- */

/* A growable list of candidate wall-clock times (seconds). */
typedef struct {
    int64_t *v;
    size_t n, cap;
} cand_list;

static inline void cand_push(cand_list *c, int64_t v)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = realloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = v;
}

/* Insertion sort: the lists are short, or sorted but for the times within a day. */
static inline void sort_times(int64_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && a[j - 1] > a[j]; j--) {
            int64_t x = a[j];
            a[j] = a[j - 1];
            a[j - 1] = x;
        }
}

/* The BYHOUR, BYMINUTE and BYSECOND values of a rule. */
typedef struct {
    short h[ICAL_BY_HOUR_SIZE], m[ICAL_BY_MINUTE_SIZE], s[ICAL_BY_SECOND_SIZE];
    int nh, nm, ns;
} day_times;

static void collect_times(const struct icalrecurrencetype *r, day_times *t)
{
    t->nh = t->nm = t->ns = 0;
    for (int i = 0; i < ICAL_BY_HOUR_SIZE && r->by_hour[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        t->h[t->nh++] = r->by_hour[i];
    for (int i = 0; i < ICAL_BY_MINUTE_SIZE && r->by_minute[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        t->m[t->nm++] = r->by_minute[i];
    for (int i = 0; i < ICAL_BY_SECOND_SIZE && r->by_second[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        t->s[t->ns++] = r->by_second[i];
}

/* Appends the times of day `day` that are before `below`, in BYHOUR/BYMINUTE/BYSECOND order. */
static inline void push_day_times(cand_list *c, const day_times *t, int64_t day, int64_t below)
{
    for (int a = 0; a < t->nh; a++)
        for (int b = 0; b < t->nm; b++)
            for (int k = 0; k < t->ns; k++) {
                int64_t v = day * 86400 + t->h[a] * 3600 + t->m[b] * 60 + t->s[k];
                if (v < below)
                    cand_push(c, v);
            }
}

/* The candidates at the BYSETPOS positions of one period's n candidates, sorted into sel
 * (RFC 5545 §3.3.10, jscalendarbis §4.3.3.1 step 3); returns how many. */
static size_t select_setpos(const short *by_set_pos, const int64_t *cand, size_t n, int64_t *sel)
{
    size_t ns = 0;
    for (int k = 0; k < ICAL_BY_SETPOS_SIZE && by_set_pos[k] != ICAL_RECURRENCE_ARRAY_MAX; k++) {
        int pos = by_set_pos[k];
        int64_t idx = pos > 0 ? pos - 1 : (int64_t)n + pos;
        if (idx >= 0 && (size_t)idx < n)
            sel[ns++] = cand[idx];
    }
    sort_times(sel, ns);
    return ns;
}

/* Where a walk over one series stands: the window, UNTIL and COUNT, and what was emitted. */
typedef struct {
    int64_t start, lo, hi, until, emitted;
    int has_until, count;
    int rc, done, saw_start;
    inst_fn fn;
    void *ctx;
} emit_state;

/* A walk of s over [lo, hi) emitting to fn: COUNT and UNTIL (a DATE to its day's end) from
 * its rule. */
static emit_state emit_begin(const series *s, int64_t lo, int64_t hi, inst_fn fn, void *ctx)
{
    const struct icalrecurrencetype *r = &s->rule;
    emit_state e = {.start = jscal_ldt_to_secs(&s->start),
                    .lo = lo,
                    .hi = hi,
                    .has_until = !icaltime_is_null_time(r->until),
                    .count = r->count,
                    .fn = fn,
                    .ctx = ctx};
    e.until = e.has_until ? itt_secs(r->until) + (r->until.is_date ? 86399 : 0) : 0;
    return e;
}

/* Emits one period's sorted instances (duplicates once): the start itself first when the
 * rule's first instance is later (jscalendarbis §4.3.3.1 rule 1), nothing before the start
 * (step 4); sets done at UNTIL, COUNT or the window's end, rc when fn stops the walk. */
static void emit_period(emit_state *e, const int64_t *v, size_t n)
{
    for (size_t a = 0; a < n && !e->done && !e->rc; a++) {
        if (a && v[a] == v[a - 1])
            continue;
        int64_t x = v[a];
        if (!e->saw_start && x >= e->start) {
            e->saw_start = 1;
            if (x != e->start) {
                e->emitted++;
                if (e->start >= e->lo && e->start <= e->hi && (e->rc = e->fn(e->ctx, e->start)))
                    break;
            }
        }
        if (x < e->start)
            continue; /* jscalendarbis §4.3.3.1 step 4 */
        if ((e->has_until && x > e->until) || (e->count && e->emitted >= e->count) || x > e->hi) {
            e->done = 1;
            break;
        }
        e->emitted++;
        if (x >= e->lo && (e->rc = e->fn(e->ctx, x)))
            break;
    }
}

/* Ends a walk: the start itself when no instance reached it (jscalendarbis §4.3.3.1 rule 1);
 * returns the walker's result. */
static int emit_finish(emit_state *e)
{
    if (!e->rc && !e->saw_start && e->start >= e->lo && e->start <= e->hi &&
        !(e->count && e->emitted >= e->count))
        e->rc = e->fn(e->ctx, e->start);
    return e->rc < 0 ? -1 : 0;
}

/* ---- BYSETPOS ------------------------------------------------------------------------ */

/* The values libical would take from DTSTART, made explicit (jscalendarbis §4.3.3.1, extra
 * rule 3), so that iterating from the start of DTSTART's period yields the same candidates.
 * wd is DTSTART's weekday, libical style (SUNDAY = 1). */
static void setpos_explicit_start(struct icalrecurrencetype *r, const jscal_ldt *st, short wd)
{
#define UNSET(a) ((a)[0] == ICAL_RECURRENCE_ARRAY_MAX)
#define SET1(a, v) ((a)[0] = (short)(v), (a)[1] = ICAL_RECURRENCE_ARRAY_MAX)
    icalrecurrencetype_frequency fq = r->freq;
    if (fq != ICAL_SECONDLY_RECURRENCE && UNSET(r->by_second))
        SET1(r->by_second, st->second);
    if (fq != ICAL_SECONDLY_RECURRENCE && fq != ICAL_MINUTELY_RECURRENCE && UNSET(r->by_minute))
        SET1(r->by_minute, st->minute);
    if (fq != ICAL_SECONDLY_RECURRENCE && fq != ICAL_MINUTELY_RECURRENCE &&
        fq != ICAL_HOURLY_RECURRENCE && UNSET(r->by_hour))
        SET1(r->by_hour, st->hour);
    if (fq == ICAL_WEEKLY_RECURRENCE && UNSET(r->by_day))
        SET1(r->by_day, wd);
    if (fq == ICAL_MONTHLY_RECURRENCE && UNSET(r->by_day) && UNSET(r->by_month_day))
        SET1(r->by_month_day, st->day);
    if (fq == ICAL_YEARLY_RECURRENCE && UNSET(r->by_year_day)) {
        int had_md = !UNSET(r->by_month_day), had_day = !UNSET(r->by_day),
            had_wk = !UNSET(r->by_week_no);
        if (UNSET(r->by_month) && !had_wk && (had_md || !had_day))
            SET1(r->by_month, st->month);
        if (!had_md && !had_wk && !had_day)
            SET1(r->by_month_day, st->day);
        if (had_wk && !had_md && !had_day)
            SET1(r->by_day, wd);
    }
#undef UNSET
#undef SET1
}

/* The start of the period (RFC 5545 §3.3.10 "interval") DTSTART is in; for WEEKLY DTSTART
 * itself. */
static jscal_ldt setpos_period_start(const jscal_ldt *st, icalrecurrencetype_frequency fq)
{
    jscal_ldt ps = *st;
    switch (fq) {
    case ICAL_YEARLY_RECURRENCE:
        ps.month = 1;
        /* fall through */
    case ICAL_MONTHLY_RECURRENCE:
        ps.day = 1;
        /* fall through */
    case ICAL_DAILY_RECURRENCE:
        ps.hour = 0;
        /* fall through */
    case ICAL_HOURLY_RECURRENCE:
        ps.minute = 0;
        /* fall through */
    case ICAL_MINUTELY_RECURRENCE:
        ps.second = 0;
        break;
    default:
        /* WEEKLY: libical 3.0.16 skips the first week when DTSTART is moved to the week
         * start, so it iterates from DTSTART and the first week's earlier candidates are
         * computed here. */
        break;
    }
    return ps;
}

/* WEEKLY: the candidates of DTSTART's week before DTSTART (libical yields the others), each
 * day's times in order. sday is DTSTART's day number, dow its weekday (0 = Sunday). */
static void setpos_first_week(const struct icalrecurrencetype *r, int64_t sday, int dow,
                              int64_t start, cand_list *c)
{
    int wkst = r->week_start == ICAL_NO_WEEKDAY ? 1 : (int)r->week_start - 1;
    int64_t ws = sday - ((dow - wkst + 7) % 7);
    day_times t;
    collect_times(r, &t);
    for (int64_t day = ws; day < ws + 7; day++) {
        int wdi = (int)(((day % 7) + 7 + 4) % 7) + 1, ok = 0;
        for (int i = 0; i < ICAL_BY_DAY_SIZE && r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
            ok |= (int)icalrecurrencetype_day_day_of_week(r->by_day[i]) == wdi;
        int y, m, d;
        jscal_civil_from_days(day, &y, &m, &d);
        if (!ok || (r->by_month[0] != ICAL_RECURRENCE_ARRAY_MAX &&
                    !in_list(r->by_month, ICAL_BY_MONTH_SIZE, m)))
            continue;
        size_t first = c->n;
        push_day_times(c, &t, day, start);
        if (c->n > first) /* (c->v is NULL while nothing was pushed) */
            sort_times(c->v + first, c->n - first); /* times of a day in order */
    }
}

/* Walks libical's candidates period by period, emitting each finished period's BYSETPOS
 * selection; c holds the candidates gathered so far (the first week's, for WEEKLY). */
static void setpos_walk(series *s, icalrecur_iterator *it, cand_list *c, emit_state *e)
{
    int64_t cur = c->n ? period_of(s, c->v[0]) : INT64_MIN;
    while (!e->done && !e->rc) {
        struct icaltimetype t = icalrecur_iterator_next(it);
        int end = icaltime_is_null_time(t);
        int64_t l = end ? 0 : itt_secs(t);
        if (!end && (e->rc = work(s)))
            break;
        if (end || (c->n && period_of(s, l) != cur)) {
            /* flush the finished period */
            int64_t sel[ICAL_BY_SETPOS_SIZE];
            size_t ns = select_setpos(s->rule.by_set_pos, c->v, c->n, sel);
            emit_period(e, sel, ns);
            c->n = 0;
            if (end)
                break;
            if (e->has_until && period_of(s, l) > period_of(s, e->until))
                e->done = 1;
        }
        cand_push(c, l);
        cur = period_of(s, l);
        if (l > e->hi + 400 * 86400LL && (int64_t)c->n > 0 && cur > period_of(s, e->hi) + 1)
            e->done = 1; /* far beyond the window: no later period can matter */
    }
}

/* BYSETPOS done here rather than by libical (3.0.16 applies it wrongly when BYHOUR/BYMINUTE
 * or WEEKLY expansions are involved): libical generates the candidates of each period
 * without BYSETPOS, COUNT and UNTIL; we select positions per period (RFC 5545 §3.3.10,
 * jscalendarbis §4.3.3.1 step 3), then apply UNTIL and COUNT. */
static int each_setpos_instance(series *s, int64_t lo, int64_t hi, inst_fn fn, void *ctx)
{
    struct icalrecurrencetype r = s->rule;
    emit_state e = emit_begin(s, lo, hi, fn, ctx);
    r.count = 0;
    r.until = icaltime_null_time();
    r.by_set_pos[0] = ICAL_RECURRENCE_ARRAY_MAX;
    /* The first period's candidates before DTSTART count for BYSETPOS (jscalendarbis
     * §4.3.3.1, extra rule 2), so iterate from the start of that period, with the values
     * libical would take from DTSTART made explicit (extra rule 3). */
    const jscal_ldt *st = &s->start;
    int64_t sday = jscal_days_from_civil(st->year, st->month, st->day);
    int dow = (int)(((sday % 7) + 7 + 4) % 7); /* 0 = Sunday */
    setpos_explicit_start(&r, st, (short)(dow + 1));
    jscal_ldt ps = setpos_period_start(st, r.freq);
    icalrecur_iterator *it = icalrecur_iterator_new(r, to_itt(&ps));
    if (!it)
        return sfail(s, RECUR_ERR_INVALID, "recurrenceRule", "cannot iterate this rule");
    cand_list c = {NULL, 0, 0};
    if (r.freq == ICAL_WEEKLY_RECURRENCE)
        setpos_first_week(&r, sday, dow, e.start, &c);
    setpos_walk(s, it, &c, &e);
    int rc = emit_finish(&e);
    free(c.v);
    icalrecur_iterator_free(it);
    return rc;
}

/* ---- YEARLY with BYWEEKNO ------------------------------------------------------------ */


static int in_list(const short *a, int size, int v)
{
    for (int i = 0; i < size && a[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        if (a[i] == v)
            return 1;
    return 0;
}

static int list_empty(const short *a)
{
    return a[0] == ICAL_RECURRENCE_ARRAY_MAX;
}

/* What a day must match to be a candidate of a YEARLY rule with BYWEEKNO. */
typedef struct {
    const struct icalrecurrencetype *r;
    int wkst;        /* week start, 0 = Sunday */
    int implicit_wd; /* no BYMONTHDAY nor BYDAY: DTSTART's weekday */
    int start_dow;   /* DTSTART's weekday, 0 = Sunday */
} weekno_filter;

/* Whether day (of year, which runs from day d0 to d1) passes BYMONTH, BYWEEKNO, BYYEARDAY,
 * BYMONTHDAY and BYDAY (jscalendarbis §4.3.3.1 step 2). */
static int weekno_day_matches(const weekno_filter *f, int64_t day, int year, int64_t d0, int64_t d1)
{
    const struct icalrecurrencetype *r = f->r;
    int wkst = f->wkst;
    int y, m, d;
    jscal_civil_from_days(day, &y, &m, &d);
    if (!list_empty(r->by_month) && !in_list(r->by_month, ICAL_BY_MONTH_SIZE, m))
        return 0;
    int nweeks;
    int wn = recur_week_number(day, year, wkst, &nweeks);
    if (!in_list(r->by_week_no, ICAL_BY_WEEKNO_SIZE, wn) &&
        !in_list(r->by_week_no, ICAL_BY_WEEKNO_SIZE, wn - nweeks - 1))
        return 0;
    int yd = (int)(day - d0) + 1, ylen = (int)(d1 - d0);
    if (!list_empty(r->by_year_day) && !in_list(r->by_year_day, ICAL_BY_YEARDAY_SIZE, yd) &&
        !in_list(r->by_year_day, ICAL_BY_YEARDAY_SIZE, yd - ylen - 1))
        return 0;
    int mlen = (int)(jscal_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) -
                     jscal_days_from_civil(y, m, 1));
    if (!list_empty(r->by_month_day) && !in_list(r->by_month_day, ICAL_BY_MONTHDAY_SIZE, d) &&
        !in_list(r->by_month_day, ICAL_BY_MONTHDAY_SIZE, d - mlen - 1))
        return 0;
    int wd = recur_dow(day) + 1; /* libical SUNDAY = 1 */
    if (f->implicit_wd)
        return recur_dow(day) == f->start_dow;
    if (!list_empty(r->by_day)) {
        int ok = 0;
        for (int i = 0; i < ICAL_BY_DAY_SIZE && r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
            ok |= (int)icalrecurrencetype_day_day_of_week(r->by_day[i]) == wd;
        return ok;
    }
    return 1;
}

/* Replaces c with the candidates of one year, in order; returns nonzero when the work
 * budget runs out. */
static int weekno_year_candidates(series *s, const weekno_filter *f, const day_times *t, int year,
                                  cand_list *c)
{
    int64_t d0 = jscal_days_from_civil(year, 1, 1), d1 = jscal_days_from_civil(year + 1, 1, 1);
    int rc = 0;
    c->n = 0;
    for (int64_t day = d0; day < d1; day++) {
        if ((rc = work(s)))
            return rc;
        if (weekno_day_matches(f, day, year, d0, d1))
            push_day_times(c, t, day, INT64_MAX);
    }
    /* sort (times are per day, so only within a day can order be off) */
    sort_times(c->v, c->n);
    return 0;
}

/* libical 3.0.16 drops the days of week 1 that fall in the previous December (and of the
 * last week in the next January), which jscalendarbis §4.3.3.1 step 2 matches ("the
 * date-time is in the nth week of the year"). Yearly rules with BYWEEKNO are therefore
 * expanded here, candidate by candidate, as §4.3.3.1 describes. */
static int each_weekno_instance(series *s, int64_t lo, int64_t hi, inst_fn fn, void *ctx)
{
    const struct icalrecurrencetype *r = &s->rule;
    const jscal_ldt *st = &s->start;
    weekno_filter f = {r, r->week_start == ICAL_NO_WEEKDAY ? 1 : (int)r->week_start - 1,
                       list_empty(r->by_month_day) && list_empty(r->by_day),
                       recur_dow(jscal_days_from_civil(st->year, st->month, st->day))};
    int interval = r->interval > 0 ? r->interval : 1;
    emit_state e = emit_begin(s, lo, hi, fn, ctx);
    day_times t;
    collect_times(r, &t);
    if (!t.nh)
        t.h[t.nh++] = (short)st->hour;
    if (!t.nm)
        t.m[t.nm++] = (short)st->minute;
    if (!t.ns)
        t.s[t.ns++] = (short)st->second;
    cand_list c = {malloc(sizeof *c.v * 366 * 4), 0, 366 * 4};
    for (int year = st->year; !e.done && !e.rc; year += interval) {
        if (jscal_days_from_civil(year, 1, 1) * 86400 > hi || year > 9999)
            break;
        if ((e.rc = weekno_year_candidates(s, &f, &t, year, &c)))
            break;
        if (r->by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX) {
            int64_t sel[ICAL_BY_SETPOS_SIZE];
            size_t ns = select_setpos(r->by_set_pos, c.v, c.n, sel);
            emit_period(&e, sel, ns);
        } else {
            emit_period(&e, c.v, c.n);
        }
        if (e.has_until && jscal_days_from_civil(year + interval, 1, 1) * 86400 > e.until)
            e.done = 1;
    }
    int rc = emit_finish(&e);
    free(c.v);
    return rc;
}

/* Counts each instance the walker hands over against max_instances, then passes it on. */
typedef struct {
    series *s;
    inst_fn fn;
    void *ctx;
} counted_ctx;

static int counted(void *vctx, int64_t local)
{
    counted_ctx *c = vctx;
    if (work(c->s))
        return -1;
    return c->fn(c->ctx, local);
}

static int gregorian(const struct icalrecurrencetype *r)
{
    return !r->rscale || !strcasecmp(r->rscale, "GREGORIAN");
}

/* ---- plain WEEKLY, MONTHLY and YEARLY rules ---------------------------------------------- */

/* Issue 21 §3: a Gregorian WEEKLY rule with at most a BYDAY of weekdays without
 * ordinals (every week), or a MONTHLY or YEARLY rule on the start's day (up to the 28th, which
 * every month has), and no other BY part: most series. Their instances are plain
 * arithmetic on days; libical steps to them through ICU's calendar (55% of a first
 * expansion's instructions). */
static int simple_rule(const struct icalrecurrencetype *r, const jscal_ldt *st)
{
    if (!gregorian(r) || !list_empty(r->by_second) || !list_empty(r->by_minute) ||
        !list_empty(r->by_hour) || !list_empty(r->by_month_day) || !list_empty(r->by_year_day) ||
        !list_empty(r->by_week_no) || !list_empty(r->by_month) || !list_empty(r->by_set_pos))
        return 0;
    switch (r->freq) {
    case ICAL_WEEKLY_RECURRENCE:
        /* every INTERVAL weeks, BYDAY's days: libical 3.0.16 groups the weeks from
         * Monday whatever WKST says (RFC 5545 §3.3.10 groups them from WKST), so only
         * where the grouping cannot matter */
        if (!list_empty(r->by_day) && r->interval > 1)
            return 0;
        for (int i = 0; i < ICAL_BY_DAY_SIZE && r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
            if (icalrecurrencetype_day_position(r->by_day[i]) != 0)
                return 0;
        return 1;
    case ICAL_MONTHLY_RECURRENCE:
    case ICAL_YEARLY_RECURRENCE:
        return list_empty(r->by_day) && st->day <= 28;
    default:
        return 0;
    }
}

/* The instances of a simple_rule rule from the start, in order, through emit_period (which
 * applies jscalendarbis §4.3.3.1 rules 1 and 4, COUNT, UNTIL and the window). Without a
 * COUNT the walk starts at the period holding lo. */
static int each_simple_instance(series *s, int64_t lo, int64_t hi, inst_fn fn, void *ctx)
{
    const struct icalrecurrencetype *r = &s->rule;
    const jscal_ldt *st = &s->start;
    int64_t interval = r->interval > 0 ? r->interval : 1;
    int64_t tod = st->hour * 3600 + st->minute * 60 + st->second;
    int64_t sday = jscal_days_from_civil(st->year, st->month, st->day);
    emit_state e = emit_begin(s, lo, hi, fn, ctx);
    if (e.has_until && e.until < e.start)
        return emit_finish(&e); /* libical generates nothing: the start alone (rule 1) */
    /* the first period to walk: the start's, or without COUNT the one holding lo */
    int64_t k = 0, skip = lo - 2 * 86400 > e.start && !r->count;
    if (r->freq == ICAL_WEEKLY_RECURRENCE) {
        int wkst = r->week_start == ICAL_NO_WEEKDAY ? 1 : (int)r->week_start - 1;
        int64_t w0 = recur_week_start(sday, wkst);
        int offs[7], n = 0; /* the rule's days, as days after the week's start, in order */
        for (int d = 0; d < 7; d++) {
            int wd = (wkst + d) % 7, on = list_empty(r->by_day) && wd == recur_dow(sday);
            for (int i = 0; i < ICAL_BY_DAY_SIZE && r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
                on |= (int)icalrecurrencetype_day_day_of_week(r->by_day[i]) == wd + 1;
            if (on)
                offs[n++] = d;
        }
        if (skip)
            k = (lo / 86400 - 2 - w0) / (7 * interval);
        for (; !e.done && !e.rc; k++) {
            int64_t v[7], w = w0 + k * 7 * interval;
            for (int i = 0; i < n; i++)
                v[i] = (w + offs[i]) * 86400 + tod;
            if ((e.rc = work(s)))
                break;
            emit_period(&e, v, (size_t)n);
            if (!n || w * 86400 > e.hi)
                break;
        }
        return emit_finish(&e);
    }
    int64_t m0 = (int64_t)st->year * 12 + (st->month - 1); /* months since year 0 */
    int64_t step = r->freq == ICAL_MONTHLY_RECURRENCE ? interval : 12 * interval;
    if (skip) {
        jscal_ldt l;
        jscal_secs_to_ldt(lo - 2 * 86400, &l);
        int64_t ml = (int64_t)l.year * 12 + (l.month - 1);
        k = ml > m0 ? (ml - m0) / step : 0;
    }
    for (; !e.done && !e.rc; k++) {
        int64_t m = m0 + k * step;
        if (m / 12 > 9999)
            break;
        int64_t v = jscal_days_from_civil((int)(m / 12), (int)(m % 12) + 1, st->day) * 86400 + tod;
        if ((e.rc = work(s)))
            break;
        emit_period(&e, &v, 1);
    }
    return emit_finish(&e);
}

/* ---- MONTHLY and YEARLY rules by their days ------------------------------------------------ */

/* Issue 21 §3: a Gregorian MONTHLY or YEARLY rule of BYMONTH, BYMONTHDAY, BYDAY (with
 * ordinals: the second Tuesday, the last Friday of the month) and BYHOUR, BYMINUTE,
 * BYSECOND, without BYYEARDAY, BYWEEKNO, BYSETPOS (their own walkers or libical's) or
 * a SKIP: the next most common rules (DST-style YEARLY;BYMONTH=3;BYDAY=-1SU, MONTHLY
 * on the 2nd Tuesday, on the 1st and 15th). Each period's days are tested one by one
 * (recur_day_matches) where libical steps through ICU's calendar. A BYDAY with
 * ordinals beside a BYMONTHDAY (RFC 5545 §3.3.10 notes 1 and 2: BYDAY then limits)
 * stays with libical. */
static int day_rule(const struct icalrecurrencetype *r, const jscal_ldt *st)
{
    if ((r->freq != ICAL_MONTHLY_RECURRENCE && r->freq != ICAL_YEARLY_RECURRENCE) ||
        !gregorian(r) || r->skip != ICAL_SKIP_OMIT || !list_empty(r->by_year_day) ||
        !list_empty(r->by_week_no) || !list_empty(r->by_set_pos))
        return 0;
    for (int i = 0; i < ICAL_BY_DAY_SIZE && r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        if (icalrecurrencetype_day_position(r->by_day[i]) != 0 && !list_empty(r->by_month_day))
            return 0;
    /* MONTHLY every INTERVAL months that never reach a BYMONTH month: libical refuses
     * to iterate it (an error the series keeps) */
    if (r->freq == ICAL_MONTHLY_RECURRENCE && !list_empty(r->by_month)) {
        struct icalrecurrencetype t = *r; /* BYMONTH as the months reached */
        int n = 0, interval = r->interval > 0 ? r->interval : 1;
        for (int mo = 1; mo <= 12; mo++) {
            int reached = 0;
            for (int k = 0; k < 12 && !reached; k++)
                reached = (st->month - 1 + k * interval) % 12 + 1 == mo;
            if (reached && in_list(r->by_month, ICAL_BY_MONTH_SIZE, mo))
                t.by_month[n++] = (short)mo;
        }
        t.by_month[n] = ICAL_RECURRENCE_ARRAY_MAX;
        if (!n || recur_rule_never_matches(&t, jscal_days_from_civil(st->year, st->month, st->day)))
            return 0;
    }
    /* YEARLY;BYMONTHDAY without BYMONTH: every month by §3.3.10, DTSTART's month alone
     * in libical 3.0.16, whose expansion `jmapd expand` keeps */
    return r->freq == ICAL_MONTHLY_RECURRENCE || list_empty(r->by_month_day) ||
           !list_empty(r->by_month);
}

/* The candidates of the period of months [m, m + n) (months since year 0) in order
 * into c: each day t passes, at the times of dt. */
static void day_period(const struct icalrecurrencetype *t, int scope, const day_times *dt,
                       int64_t m, int n, cand_list *c)
{
    c->n = 0;
    for (int64_t mm = m; mm < m + n; mm++) {
        int y = (int)(mm / 12), mo = (int)(mm % 12) + 1;
        if (!list_empty(t->by_month) && !in_list(t->by_month, ICAL_BY_MONTH_SIZE, mo))
            continue;
        int64_t d0 = jscal_days_from_civil(y, mo, 1);
        int64_t d1 = jscal_days_from_civil(mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1, 1);
        for (int64_t day = d0; day < d1; day++)
            if (recur_day_matches(t, day, scope))
                push_day_times(c, dt, day, INT64_MAX);
    }
    sort_times(c->v, c->n); /* only the times within a day can be out of order */
}

/* The instances of a day_rule rule, through emit_period as each_simple_instance's:
 * the parts RFC 5545 §3.3.10 takes from DTSTART made explicit (the day of the month,
 * for YEARLY also the month, when no day is named; the time of day), BYDAY ordinals
 * counted within the month for MONTHLY and for YEARLY with BYMONTH, else within the
 * year. Without a COUNT the walk starts at the period holding lo. */
static int each_day_instance(series *s, int64_t lo, int64_t hi, inst_fn fn, void *ctx)
{
    struct icalrecurrencetype t = s->rule;
    const jscal_ldt *st = &s->start;
    int monthly = t.freq == ICAL_MONTHLY_RECURRENCE;
    if (list_empty(t.by_day) && list_empty(t.by_month_day)) {
        t.by_month_day[0] = (short)st->day;
        t.by_month_day[1] = ICAL_RECURRENCE_ARRAY_MAX;
        if (!monthly && list_empty(t.by_month)) {
            t.by_month[0] = (short)st->month;
            t.by_month[1] = ICAL_RECURRENCE_ARRAY_MAX;
        }
    }
    int scope = monthly || !list_empty(t.by_month) ? 'M' : 'Y';
    day_times dt;
    collect_times(&t, &dt);
    if (!dt.nh)
        dt.h[dt.nh++] = (short)st->hour;
    if (!dt.nm)
        dt.m[dt.nm++] = (short)st->minute;
    if (!dt.ns)
        dt.s[dt.ns++] = (short)st->second;
    int64_t interval = t.interval > 0 ? t.interval : 1;
    int64_t m0 = (int64_t)st->year * 12 + (monthly ? st->month - 1 : 0);
    int64_t step = monthly ? interval : 12 * interval;
    emit_state e = emit_begin(s, lo, hi, fn, ctx);
    if (e.has_until && e.until < e.start)
        return emit_finish(&e); /* libical generates nothing: the start alone (rule 1) */
    int64_t k = 0;
    if (lo - 2 * 86400 > e.start && !t.count) {
        jscal_ldt l;
        jscal_secs_to_ldt(lo - 2 * 86400, &l);
        int64_t ml = (int64_t)l.year * 12 + (l.month - 1);
        k = ml > m0 ? (ml - m0) / step : 0;
    }
    cand_list c = {0};
    for (; !e.done && !e.rc; k++) {
        int64_t m = m0 + k * step;
        int64_t first = jscal_days_from_civil((int)(m / 12), (int)(m % 12) + 1, 1) * 86400;
        if (m / 12 > 9999 || first > e.hi || (e.has_until && first > e.until))
            break;
        if ((e.rc = work(s)))
            break;
        day_period(&t, scope, &dt, m, monthly ? 1 : 12, &c);
        emit_period(&e, c.v, c.n);
    }
    int rc = emit_finish(&e);
    free(c.v);
    return rc;
}

static int each_instance(series *s, int64_t lo, int64_t hi, inst_fn fn, void *ctx)
{
    int64_t start = jscal_ldt_to_secs(&s->start);
    if (!s->has_rule || s->never)
        return start >= lo && start <= hi ? fn(ctx, start) : 0;
    icalrecurrencetype_frequency fq = s->rule.freq;
    if ((fq == ICAL_DAILY_RECURRENCE || fq == ICAL_HOURLY_RECURRENCE ||
         fq == ICAL_MINUTELY_RECURRENCE || fq == ICAL_SECONDLY_RECURRENCE) &&
        gregorian(&s->rule)) {
        counted_ctx c = {s, fn, ctx};
        int rc = recur_walk_short(&s->rule, start, lo, hi, &s->budget, counted, &c);
        return rc == RECUR_ERR_LIMIT ? budget_fail(s) : rc;
    }
    if (!s->libical_only && simple_rule(&s->rule, &s->start))
        return each_simple_instance(s, lo, hi, fn, ctx);
    if (!s->libical_only && day_rule(&s->rule, &s->start))
        return each_day_instance(s, lo, hi, fn, ctx);
    if (s->rule.freq == ICAL_YEARLY_RECURRENCE && !list_empty(s->rule.by_week_no))
        return each_weekno_instance(s, lo, hi, fn, ctx);
    if (s->rule.by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX)
        return each_setpos_instance(s, lo, hi, fn, ctx);
    struct icaltimetype dt = to_itt(&s->start);
    icalrecur_iterator *it = icalrecur_iterator_new(s->rule, dt);
    if (!it)
        return sfail(s, RECUR_ERR_INVALID, "recurrenceRule", "cannot iterate this rule");
    /* Jump close to the window when the rule allows it (no COUNT). */
    if (s->rule.count == 0 && lo - 2 * 86400 > start) {
        jscal_ldt j;
        jscal_secs_to_ldt(lo - 2 * 86400, &j);
        icalrecur_iterator_set_start(it, to_itt(&j));
    }
    int rc = 0, saw_start = 0;
    int64_t emitted = 0, prev = INT64_MIN;
    int interval = s->rule.interval > 0 ? s->rule.interval : 1;
    for (;;) {
        struct icaltimetype t = icalrecur_iterator_next(it);
        if (icaltime_is_null_time(t))
            break;
        if ((rc = work(s)))
            break;
        int64_t l = itt_secs(t);
        /* libical stepped over the periods between two instances: charge them */
        if (prev != INT64_MIN &&
            recur_budget_charge(&s->budget, (period_of(s, l) - period_of(s, prev)) / interval)) {
            rc = budget_fail(s);
            break;
        }
        prev = l;
        if (!saw_start && l >= start) {
            saw_start = 1;
            if (l != start) {
                /* jscalendarbis §4.3.3.1 rule 1: a start the rule does not produce is
                 * still the first occurrence and counts against `count` (libical
                 * does not count it) */
                emitted++;
                if (start >= lo && start <= hi && (rc = fn(ctx, start)))
                    break;
            }
        }
        if (l < start)
            continue; /* jscalendarbis §4.3.3.1 step 4 */
        if (s->rule.count && emitted >= s->rule.count)
            break;
        emitted++;
        if (l > hi)
            break;
        if (l >= lo && (rc = fn(ctx, l)))
            break;
    }
    if (!rc && !saw_start && start >= lo && start <= hi)
        rc = fn(ctx, start);
    icalrecur_iterator_free(it);
    return rc < 0 ? -1 : 0;
}

/* ---- iterator ------------------------------------------------------------------------- */

typedef struct {
    series *s;
    recur_iter *it;
    int64_t from, to;
    int flags;
    const json_t *ovs;
} expand_ctx;

static int in_window(int64_t st, int64_t en, int64_t from, int64_t to)
{
    if (st == en)
        return st >= from && st < to;
    return st < to && en > from;
}

static recur_occurrence *push(recur_iter *it)
{
    if (it->n == it->cap) {
        it->cap = it->cap ? it->cap * 2 : 16;
        it->occ = realloc(it->occ, it->cap * sizeof *it->occ);
    }
    recur_occurrence *o = &it->occ[it->n++];
    memset(o, 0, sizeof *o);
    return o;
}

static int on_rule_instance(void *vctx, int64_t local)
{
    expand_ctx *c = vctx;
    jscal_ldt t;
    jscal_secs_to_ldt(local, &t);
    char key[24];
    jscal_ldt_format(&t, 0, key);
    if (json_object_get(c->ovs, key))
        return 0; /* the override decides */
    int64_t st, en;
    span(c->s, &c->s->dur, local, c->s->zone, &st, &en);
    if (!in_window(st, en, c->from, c->to))
        return 0;
    recur_occurrence *o = push(c->it);
    memcpy(o->recurrence_id, key, 20);
    /* A single instance of a series (jscalendarbis §4.3.1) keeps its own recurrence id. */
    const char *rid = jstr(c->s->obj, "recurrenceId");
    jscal_ldt rt;
    if (!c->s->has_rule && rid && !jscal_ldt_parse(rid, &rt))
        jscal_ldt_format(&rt, 0, o->recurrence_id);
    o->utc_start = st;
    o->utc_end = en;
    return 0;
}

/* A deep copy of a series without its rule and overrides. Copying the overrides only to
 * delete them made n overrides cost n^2 (issue 19 §4). */
static json_t *series_copy(const json_t *obj)
{
    json_t *top = json_copy((json_t *)obj); /* shallow: shares the values */
    json_object_del(top, "recurrenceRule");
    json_object_del(top, "recurrenceOverrides");
    json_t *inst = json_deep_copy(top);
    json_decref(top);
    return inst;
}

/* The occurrence object for key with patch applied (jscalendarbis §4.3.4). */
static json_t *instance_object(series *s, const char *key, const json_t *patch, char **errpath)
{
    if (!s->has_rule && json_object_get(s->obj, "recurrenceId") && !patch)
        return json_deep_copy(s->obj); /* already an instance */
    json_t *inst = series_copy(s->obj);
    json_object_set_new(inst, s->base_prop, json_string(key));
    if (patch && json_object_size(patch)) {
        json_t *p = jscal_override_patch_filter(patch); /* §4.3.4 */
        int rc = jscal_patch_apply(inst, p, errpath);
        json_decref(p);
        if (rc) {
            json_decref(inst);
            return NULL;
        }
    }
    json_object_set_new(inst, "recurrenceId", json_string(key));
    if (jstr(s->obj, "timeZone"))
        json_object_set_new(inst, "recurrenceIdTimeZone", json_string(jstr(s->obj, "timeZone")));
    return inst;
}

/* Start/end in UTC of an occurrence object (patched start, duration, timeZone). */
static int instance_span(series *s, const json_t *inst, int64_t *st, int64_t *en)
{
    jscal_ldt t;
    const char *bp = json_object_get(inst, "start") ? "start" : "due";
    if (jscal_ldt_parse(jstr(inst, bp), &t))
        return -1;
    jscal_dur d = s->dur;
    const char *dur = jstr(inst, "duration");
    if (dur && jscal_dur_parse(dur, 0, &d))
        return -1;
    icaltimezone *z = s->zone;
    const char *tz = jstr(inst, "timeZone"), *btz = jstr(s->obj, "timeZone");
    if (tz && (!btz || strcmp(tz, btz))) {
        z = tz_builtin(tz);
        if (z == icaltimezone_get_utc_timezone())
            z = NULL;
    }
    span(s, &d, jscal_ldt_to_secs(&t), z, st, en);
    return 0;
}

static int occ_cmp(const void *a, const void *b)
{
    const recur_occurrence *x = a, *y = b;
    if (x->utc_start != y->utc_start)
        return x->utc_start < y->utc_start ? -1 : 1;
    return strcmp(x->recurrence_id, y->recurrence_id);
}

recur_iter *recur_iter_new(const json_t *obj, int64_t from, int64_t to, const char *float_tz,
                           const recur_limits *limits, int flags, int *code, char **err)
{
    series s;
    *err = NULL;
    if (code)
        *code = RECUR_OK;
    recur_iter *it = calloc(1, sizeof *it);
    if (series_init(&s, obj, float_tz, limits))
        goto fail;
    s.libical_only = (flags & RECUR_LIBICAL) != 0;
    const json_t *ovs = json_object_get(obj, "recurrenceOverrides");
    expand_ctx c = {.s = &s, .it = it, .from = from, .to = to, .flags = flags, .ovs = ovs};
    if (each_instance(&s, from - s.dur_max_secs - SLACK, to + SLACK, on_rule_instance, &c))
        goto fail;
    const char *k;
    json_t *patch;
    json_object_foreach((json_t *)ovs, k, patch)
    {
        jscal_ldt t;
        if (jscal_ldt_parse(k, &t) || !json_is_object(patch)) {
            char *p = jscal_strdupf("recurrenceOverrides/%s", k);
            sfail(&s, RECUR_ERR_INVALID, p, "invalid override");
            free(p);
            goto fail;
        }
        int excluded = json_is_true(json_object_get(patch, "excluded"));
        if (excluded && !(flags & RECUR_WANT_EXCLUDED))
            continue;
        if (work(&s))
            goto fail;
        char *perr = NULL;
        json_t *inst = instance_object(&s, k, patch, &perr);
        int64_t st, en;
        if (!inst || instance_span(&s, inst, &st, &en)) {
            char *p = jscal_strdupf("recurrenceOverrides/%s%s%s", k, perr ? "/" : "", perr ? perr : "");
            sfail(&s, RECUR_ERR_INVALID, p, "invalid patch");
            free(p);
            free(perr);
            json_decref(inst);
            goto fail;
        }
        if (!in_window(st, en, from, to)) {
            json_decref(inst);
            continue;
        }
        recur_occurrence *o = push(it);
        snprintf(o->recurrence_id, sizeof o->recurrence_id, "%s", k);
        o->utc_start = st;
        o->utc_end = en;
        o->excluded = excluded;
        o->patch = patch;
        if (flags & RECUR_WANT_OBJECT)
            o->object = inst;
        else
            json_decref(inst);
    }
    if (it->n > 1)
        qsort(it->occ, it->n, sizeof *it->occ, occ_cmp);
    if (flags & RECUR_WANT_OBJECT) {
        for (size_t i = 0; i < it->n; i++)
            if (!it->occ[i].object)
                it->occ[i].object = instance_object(&s, it->occ[i].recurrence_id, NULL, NULL);
    }
    series_free(&s);
    return it;
fail:
    if (code)
        *code = s.code ? s.code : RECUR_ERR_INVALID;
    *err = s.err ? s.err : strdup("invalid object");
    s.err = NULL;
    series_free(&s);
    recur_iter_free(it);
    return NULL;
}

int recur_iter_next(recur_iter *it, recur_occurrence *occ)
{
    if (!it || it->pos >= it->n)
        return 0;
    *occ = it->occ[it->pos++];
    return 1;
}

void recur_iter_free(recur_iter *it)
{
    if (!it)
        return;
    for (size_t i = 0; i < it->n; i++)
        json_decref(it->occ[i].object);
    free(it->occ);
    free(it);
}

/* ---- bounds and membership ------------------------------------------------------------ */

typedef struct {
    series *s;
    const json_t *ovs;
    int64_t first, last;
    int any;
} bounds_ctx;

static int on_bounds(void *vctx, int64_t local)
{
    bounds_ctx *b = vctx;
    jscal_ldt t;
    jscal_secs_to_ldt(local, &t);
    char key[24];
    jscal_ldt_format(&t, 0, key);
    if (json_object_get(b->ovs, key))
        return 0;
    int64_t st, en;
    span(b->s, &b->s->dur, local, b->s->zone, &st, &en);
    if (!b->any || st < b->first)
        b->first = st;
    if (!b->any || en > b->last)
        b->last = en;
    b->any = 1;
    return 0;
}

int recur_series_bounds(const json_t *obj, const char *float_tz, const recur_limits *limits,
                        int64_t *first_start, int64_t *last_end, int *unbounded, char **err)
{
    series s;
    *err = NULL;
    *unbounded = 0;
    if (series_init(&s, obj, float_tz, limits)) {
        *err = s.err;
        s.err = NULL;
        int code = s.code;
        series_free(&s);
        return code ? code : RECUR_ERR_INVALID;
    }
    bounds_ctx b = {.s = &s, .ovs = json_object_get(obj, "recurrenceOverrides")};
    int64_t start = jscal_ldt_to_secs(&s.start);
    if (s.bounded) {
        if (each_instance(&s, INT64_MIN / 4, INT64_MAX / 4, on_bounds, &b))
            goto fail;
    } else {
        /* jscalendarbis §4.3.3.1 rule 1: the start is the first occurrence of an infinite
         * series, so no iteration is needed (an overridden start is bounded by its
         * override, below, and the start is still a safe lower bound) */
        *unbounded = 1;
        on_bounds(&b, start);
    }
    const char *k;
    json_t *patch;
    json_object_foreach((json_t *)b.ovs, k, patch)
    {
        if (json_is_true(json_object_get(patch, "excluded")))
            continue;
        json_t *inst = instance_object(&s, k, patch, NULL);
        int64_t st, en;
        if (inst && !instance_span(&s, inst, &st, &en)) {
            if (!b.any || st < b.first)
                b.first = st;
            if (!b.any || en > b.last)
                b.last = en;
            b.any = 1;
        }
        json_decref(inst);
    }
    if (!b.any) {
        /* everything excluded: an empty series, bounds at the start */
        int64_t st, en;
        span(&s, &s.dur, start, s.zone, &st, &en);
        b.first = st;
        b.last = en;
    }
    *first_start = b.first;
    if (!*unbounded)
        *last_end = b.last;
    series_free(&s);
    return RECUR_OK;
fail:
    *err = s.err;
    s.err = NULL;
    {
        int code = s.code;
        series_free(&s);
        return code ? code : RECUR_ERR_INVALID;
    }
}

typedef struct {
    int64_t target;
    int found;
} gen_ctx;

static int on_gen(void *vctx, int64_t local)
{
    gen_ctx *g = vctx;
    if (local == g->target)
        g->found = 1;
    return local >= g->target ? 1 : 0;
}

int recur_rule_generates(const json_t *obj, const char *ldt)
{
    series s;
    jscal_ldt t;
    if (jscal_ldt_parse(ldt, &t) || !json_is_object(json_object_get(obj, "recurrenceRule")))
        return 0;
    /* one date's membership: a quarter of a second at most (it is asked per override
     * when exporting, and per instance id on /get) */
    recur_limits lim = {.max_instances = 100000, .max_millis = 250};
    if (series_init(&s, obj, NULL, &lim)) {
        series_free(&s);
        return 0;
    }
    gen_ctx g = {.target = jscal_ldt_to_secs(&t)};
    each_instance(&s, g.target, g.target, on_gen, &g);
    series_free(&s);
    return g.found;
}

/* ---- membership of many dates at once ------------------------------------------------- */

typedef struct {
    json_t *norm; /* normalized LocalDateTime -> the caller's key */
    json_t *out;
} genset_ctx;

static int on_genset(void *vctx, int64_t local)
{
    genset_ctx *g = vctx;
    jscal_ldt t;
    jscal_secs_to_ldt(local, &t);
    char key[24];
    jscal_ldt_format(&t, 0, key);
    const char *orig = json_string_value(json_object_get(g->norm, key));
    if (orig)
        json_object_set_new(g->out, orig, json_true());
    return 0;
}

json_t *recur_rule_generated(const json_t *obj, const json_t *keys)
{
    if (!json_is_object(json_object_get(obj, "recurrenceRule")))
        return json_object();
    genset_ctx g = {json_object(), json_object()};
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)keys, k, v)
    {
        jscal_ldt t;
        if (jscal_ldt_parse(k, &t))
            continue;
        char key[24];
        jscal_ldt_format(&t, 0, key);
        json_object_set_new(g.norm, key, json_string(k));
        int64_t secs = jscal_ldt_to_secs(&t);
        lo = secs < lo ? secs : lo;
        hi = secs > hi ? secs : hi;
    }
    series s;
    int rc = -1;
    if (lo <= hi && !series_init(&s, obj, NULL, NULL))
        rc = each_instance(&s, lo, hi, on_genset, &g);
    else if (lo > hi)
        rc = 0;
    if (lo <= hi)
        series_free(&s);
    json_decref(g.norm);
    if (rc) {
        json_decref(g.out);
        return NULL;
    }
    return g.out;
}
