/*
 * recur_days.c — recurrence work that libical cannot be trusted to bound (issue 19 §1).
 *
 * libical 3 iterates DAILY, HOURLY, MINUTELY and SECONDLY rules period by period and
 * tests each period against the BYxxx parts inside icalrecur_iterator_next(), returning
 * only on a match: for `FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30` it steps through every
 * minute up to the year 2582 (about ten minutes) and no limit of ours can interrupt it.
 * For these frequencies every day-level part is a limit (RFC 5545 §3.3.10, the table
 * of BYxxx behaviour), so the walker here skips a failing day as a whole, skips a
 * failing hour or minute as a whole, expands the rest from the BYHOUR/BYMINUTE/BYSECOND
 * lists, and charges every candidate it looks at to a budget. A rule whose days can
 * never match is found up front over one 400-year Gregorian cycle.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/jscalendar/jscal_util.h"
#include "formats/recurrence/recur.h"
#include "formats/recurrence/recur_internal.h"

int recur_budget_charge(recur_budget *b, int64_t n)
{
    b->used += n;
    if (b->used > b->max)
        return RECUR_ERR_LIMIT;
    if (b->used >= b->next_clock) {
        b->next_clock = b->used + 4096;
        if (clock() > b->deadline)
            return RECUR_ERR_LIMIT;
    }
    return 0;
}

static int has(const short *a, int size, int v)
{
    for (int i = 0; i < size && a[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        if (a[i] == v)
            return 1;
    return 0;
}

static int unset(const short *a)
{
    return a[0] == ICAL_RECURRENCE_ARRAY_MAX;
}

int64_t recur_first_week(int year, int wkst)
{
    return recur_week_start(jscal_days_from_civil(year, 1, 4), wkst);
}

int recur_week_number(int64_t day, int year, int wkst, int *nweeks)
{
    int wy = year;
    if (day < recur_first_week(year, wkst))
        wy = year - 1;
    else if (day >= recur_first_week(year + 1, wkst))
        wy = year + 1;
    int64_t fw = recur_first_week(wy, wkst);
    *nweeks = (int)((recur_first_week(wy + 1, wkst) - fw) / 7);
    return (int)((recur_week_start(day, wkst) - fw) / 7) + 1;
}

static int weekno_matches(const struct icalrecurrencetype *r, int64_t day, int year)
{
    int wkst = r->week_start == ICAL_NO_WEEKDAY ? 1 : (int)r->week_start - 1;
    int nweeks;
    int wn = recur_week_number(day, year, wkst, &nweeks);
    return has(r->by_week_no, ICAL_BY_WEEKNO_SIZE, wn) ||
           has(r->by_week_no, ICAL_BY_WEEKNO_SIZE, wn - nweeks - 1);
}

int recur_day_matches(const struct icalrecurrencetype *r, int64_t day, int nth_scope)
{
    int y, m, d;
    jscal_civil_from_days(day, &y, &m, &d);
    if (!unset(r->by_month) && !has(r->by_month, ICAL_BY_MONTH_SIZE, m))
        return 0;
    int mlen = (int)(jscal_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) -
                     jscal_days_from_civil(y, m, 1));
    if (!unset(r->by_month_day) && !has(r->by_month_day, ICAL_BY_MONTHDAY_SIZE, d) &&
        !has(r->by_month_day, ICAL_BY_MONTHDAY_SIZE, d - mlen - 1))
        return 0;
    int64_t d0 = jscal_days_from_civil(y, 1, 1);
    int ylen = (int)(jscal_days_from_civil(y + 1, 1, 1) - d0), yd = (int)(day - d0) + 1;
    if (!unset(r->by_year_day) && !has(r->by_year_day, ICAL_BY_YEARDAY_SIZE, yd) &&
        !has(r->by_year_day, ICAL_BY_YEARDAY_SIZE, yd - ylen - 1))
        return 0;
    if (!unset(r->by_week_no) && !weekno_matches(r, day, y))
        return 0;
    if (unset(r->by_day))
        return 1;
    int wd = recur_dow(day) + 1; /* libical: SUNDAY = 1 */
    for (int i = 0; i < ICAL_BY_DAY_SIZE && r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
        if ((int)icalrecurrencetype_day_day_of_week(r->by_day[i]) != wd)
            continue;
        int pos = icalrecurrencetype_day_position(r->by_day[i]);
        if (!pos || !nth_scope)
            return 1;
        int at = nth_scope == 'M' ? d : yd, len = nth_scope == 'M' ? mlen : ylen;
        if (pos > 0 ? (at - 1) / 7 + 1 == pos : (len - at) / 7 + 1 == -pos)
            return 1;
    }
    return 0;
}

int recur_rule_never_matches(const struct icalrecurrencetype *r, int64_t start_day)
{
    if (r->rscale && strcasecmp(r->rscale, "GREGORIAN"))
        return 0; /* months of another calendar: not tested here */
    if (r->skip != ICAL_SKIP_OMIT)
        return 0; /* RFC 7529 §3.2: SKIP moves an invalid day rather than dropping it */
    struct icalrecurrencetype t = *r;
    icalrecurrencetype_frequency f = r->freq;
    /* RFC 5545 §3.3.10: the parts a MONTHLY or YEARLY rule takes from DTSTART when it
     * names no day (a start on the 31st with BYMONTH=2 never matches either) */
    int y, m, d;
    jscal_civil_from_days(start_day, &y, &m, &d);
    if (f == ICAL_MONTHLY_RECURRENCE && unset(t.by_day) && unset(t.by_month_day)) {
        t.by_month_day[0] = (short)d;
        t.by_month_day[1] = ICAL_RECURRENCE_ARRAY_MAX;
    }
    if (f == ICAL_YEARLY_RECURRENCE && unset(t.by_day) && unset(t.by_month_day) &&
        unset(t.by_year_day) && unset(t.by_week_no)) {
        t.by_month_day[0] = (short)d;
        t.by_month_day[1] = ICAL_RECURRENCE_ARRAY_MAX;
        if (unset(t.by_month)) {
            t.by_month[0] = (short)m;
            t.by_month[1] = ICAL_RECURRENCE_ARRAY_MAX;
        }
    }
    /* RFC 5545 §3.3.10: parts that do not apply at this frequency are left out */
    if (f == ICAL_WEEKLY_RECURRENCE)
        t.by_month_day[0] = ICAL_RECURRENCE_ARRAY_MAX;
    if (f == ICAL_WEEKLY_RECURRENCE || f == ICAL_MONTHLY_RECURRENCE) {
        t.by_year_day[0] = ICAL_RECURRENCE_ARRAY_MAX;
        t.by_week_no[0] = ICAL_RECURRENCE_ARRAY_MAX;
    }
    /* only a combination can be empty: one part alone always selects some day (the
     * ranges are checked by validation) unless it holds an ordinal BYDAY */
    int parts = !unset(t.by_month_day) + !unset(t.by_year_day) + !unset(t.by_week_no);
    int ordinal = 0;
    for (int i = 0; i < ICAL_BY_DAY_SIZE && t.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        ordinal |= icalrecurrencetype_day_position(t.by_day[i]) != 0;
    if (parts == 0 && !ordinal && (unset(t.by_month) || unset(t.by_day)))
        return 0;
    if (parts == 1 && unset(t.by_month) && unset(t.by_day))
        return 0;
    if (parts == 1 && !unset(t.by_month_day) && unset(t.by_day)) {
        /* the common case (a yearly birthday): some month of BYMONTH long enough */
        static const int longest[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        for (int i = 0; i < ICAL_BY_MONTH_SIZE && t.by_month[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
            for (int k = 0;
                 k < ICAL_BY_MONTHDAY_SIZE && t.by_month_day[k] != ICAL_RECURRENCE_ARRAY_MAX; k++) {
                int mo = t.by_month[i], md = t.by_month_day[k];
                if (mo >= 1 && mo <= 12 && md && abs(md) <= longest[mo])
                    return 0;
            }
        return 1;
    }
    /* An ordinal BYDAY selects within the month or year only where BYDAY expands
     * (MONTHLY without BYMONTHDAY; YEARLY without BYYEARDAY, BYMONTHDAY, BYWEEKNO);
     * elsewhere the ordinal is ignored, which can only make more days match. */
    int scope = 0;
    if (f == ICAL_MONTHLY_RECURRENCE && unset(t.by_month_day))
        scope = 'M';
    else if (f == ICAL_YEARLY_RECURRENCE && !parts)
        scope = unset(t.by_month) ? 'Y' : 'M';
    int64_t d0 = jscal_days_from_civil(2000, 1, 1);
    for (int64_t day = d0; day < d0 + RECUR_CYCLE_DAYS; day++)
        if (recur_day_matches(&t, day, scope))
            return 0;
    return 1;
}

/* ---- the walker for DAILY and shorter ---------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The first grid point g + k*step (k >= 1) at or after x. */
static int64_t grid_from(int64_t g, int64_t step, int64_t x)
{
    int64_t k = x > g ? (x - g + step - 1) / step : 1;
    return g + (k ? k : 1) * step;
}

static int list_of(const short *src, int size, short *out, int lo, int hi)
{
    int n = 0;
    for (int i = 0; i < size && src[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        if (src[i] >= lo && src[i] <= hi)
            out[n++] = src[i];
    for (int a = 1; a < n; a++) /* a few values: insertion sort */
        for (int b = a; b > 0 && out[b - 1] > out[b]; b--) {
            short x = out[b];
            out[b] = out[b - 1];
            out[b - 1] = x;
        }
    return n;
}

typedef struct {
    int64_t start, lo, hi, until, emitted, count;
    int has_until, saw_start, done;
    recur_inst_fn fn;
    void *ctx;
} emitter;

/* Emits the sorted candidates of one period: the start first if the rule does not produce
 * it (jscalendarbis §4.3.3.1 rule 1, which counts against COUNT), nothing before the
 * start (step 4), UNTIL and COUNT last. Returns fn's result when nonzero. */
static int emit(emitter *e, const int64_t *v, size_t n)
{
    for (size_t a = 0; a < n && !e->done; a++) {
        if (a && v[a] == v[a - 1])
            continue;
        int rc;
        if (!e->saw_start && v[a] >= e->start) {
            e->saw_start = 1;
            if (v[a] != e->start) {
                e->emitted++;
                if (e->start >= e->lo && e->start <= e->hi && (rc = e->fn(e->ctx, e->start)))
                    return rc;
            }
        }
        if (v[a] < e->start)
            continue;
        if ((e->has_until && v[a] > e->until) || (e->count && e->emitted >= e->count) ||
            v[a] > e->hi) {
            e->done = 1;
            break;
        }
        e->emitted++;
        if (v[a] >= e->lo && (rc = e->fn(e->ctx, v[a])))
            return rc;
    }
    return 0;
}

/* RFC 5545 §3.3.10 BYSETPOS: the positions of the period's set, in time order. */
static size_t setpos(const struct icalrecurrencetype *r, int64_t *cand, size_t n)
{
    int64_t sel[ICAL_BY_SETPOS_SIZE];
    size_t ns = 0;
    for (int k = 0; k < ICAL_BY_SETPOS_SIZE && r->by_set_pos[k] != ICAL_RECURRENCE_ARRAY_MAX; k++) {
        int pos = r->by_set_pos[k];
        int64_t idx = pos > 0 ? pos - 1 : (int64_t)n + pos;
        if (idx >= 0 && (size_t)idx < n)
            sel[ns++] = cand[idx];
    }
    for (size_t a = 1; a < ns; a++)
        for (size_t b = a; b > 0 && sel[b - 1] > sel[b]; b--) {
            int64_t x = sel[b];
            sel[b] = sel[b - 1];
            sel[b - 1] = x;
        }
    memcpy(cand, sel, ns * sizeof *sel);
    return ns;
}

typedef struct {
    short h[24], m[60], s[61];
    int nh, nm, ns;
} expansion;

/* The values a period expands to (RFC 5545 §3.3.10: BYHOUR expands DAILY, BYMINUTE
 * expands DAILY and HOURLY, BYSECOND expands all but SECONDLY); an absent part takes
 * the start's value. */
static void expansion_of(const struct icalrecurrencetype *r, int64_t start, expansion *x)
{
    icalrecurrencetype_frequency f = r->freq;
    int64_t tod = start - floor_div(start, 86400) * 86400;
    x->nh = x->nm = x->ns = 0;
    if (f == ICAL_DAILY_RECURRENCE &&
        !(x->nh = list_of(r->by_hour, ICAL_BY_HOUR_SIZE, x->h, 0, 23)))
        x->h[x->nh++] = (short)(tod / 3600);
    if ((f == ICAL_DAILY_RECURRENCE || f == ICAL_HOURLY_RECURRENCE) &&
        !(x->nm = list_of(r->by_minute, ICAL_BY_MINUTE_SIZE, x->m, 0, 59)))
        x->m[x->nm++] = (short)(tod / 60 % 60);
    if (f != ICAL_SECONDLY_RECURRENCE &&
        !(x->ns = list_of(r->by_second, ICAL_BY_SECOND_SIZE, x->s, 0, 60)))
        x->s[x->ns++] = (short)(tod % 60);
    if (!x->nh)
        x->h[x->nh++] = 0;
    if (!x->nm)
        x->m[x->nm++] = 0;
    if (!x->ns)
        x->s[x->ns++] = 0;
}

/* The grid point g fails a limiting BYHOUR/BYMINUTE/BYSECOND (sub-daily frequencies):
 * returns the next grid point worth a look, or g when g passes. */
static int64_t time_limits(const struct icalrecurrencetype *r, int64_t g, int64_t step)
{
    icalrecurrencetype_frequency f = r->freq;
    int64_t day = floor_div(g, 86400) * 86400, tod = g - day;
    int hh = (int)(tod / 3600), mm = (int)(tod / 60 % 60), ss = (int)(tod % 60);
    if (f == ICAL_DAILY_RECURRENCE)
        return g;
    if (!unset(r->by_hour) && !has(r->by_hour, ICAL_BY_HOUR_SIZE, hh))
        return grid_from(g, step, day + (hh + 1) * 3600);
    if (f == ICAL_HOURLY_RECURRENCE)
        return g;
    if (!unset(r->by_minute) && !has(r->by_minute, ICAL_BY_MINUTE_SIZE, mm))
        return grid_from(g, step, day + hh * 3600 + (mm + 1) * 60);
    if (f == ICAL_SECONDLY_RECURRENCE && !unset(r->by_second) &&
        !has(r->by_second, ICAL_BY_SECOND_SIZE, ss))
        return g + step;
    return g;
}

static size_t expand_period(const struct icalrecurrencetype *r, const expansion *x, int64_t g,
                            int64_t *cand)
{
    size_t n = 0;
    if (r->freq == ICAL_SECONDLY_RECURRENCE) {
        cand[n++] = g;
        return n;
    }
    int hours = r->freq == ICAL_DAILY_RECURRENCE, mins = hours || r->freq == ICAL_HOURLY_RECURRENCE;
    for (int a = 0; a < (hours ? x->nh : 1); a++)
        for (int b = 0; b < (mins ? x->nm : 1); b++)
            for (int c = 0; c < x->ns; c++)
                cand[n++] = g + (hours ? x->h[a] * 3600 : 0) + (mins ? x->m[b] * 60 : 0) + x->s[c];
    return n;
}

int recur_walk_short(const struct icalrecurrencetype *r, int64_t start, int64_t lo, int64_t hi,
                     recur_budget *b, recur_inst_fn fn, void *ctx)
{
    static const int64_t period[] = {[ICAL_SECONDLY_RECURRENCE] = 1,
                                     [ICAL_MINUTELY_RECURRENCE] = 60,
                                     [ICAL_HOURLY_RECURRENCE] = 3600,
                                     [ICAL_DAILY_RECURRENCE] = 86400};
    int64_t p = period[r->freq], step = p * (r->interval > 0 ? r->interval : 1);
    emitter e = {.start = start, .lo = lo, .hi = hi, .count = r->count, .fn = fn, .ctx = ctx};
    if ((e.has_until = !icaltime_is_null_time(r->until))) {
        struct icaltimetype u = r->until;
        e.until = jscal_days_from_civil(u.year, u.month, u.day) * 86400 +
                  (u.is_date ? 86399 : u.hour * 3600 + u.minute * 60 + u.second);
    }
    expansion x;
    expansion_of(r, start, &x);
    int64_t *cand = malloc(sizeof *cand * (size_t)(x.nh * x.nm * x.ns));
    int64_t g = floor_div(start, p) * p; /* the period of the start */
    /* without COUNT nothing before the window matters: jump to the period before it */
    if (!r->count && lo - p > g)
        g = grid_from(g, step, lo - p);
    /* A day that fails the day-level parts fails every 400 years: when every day is
     * visited (the step divides a day) or the visits repeat with the cycle (the step is
     * whole days), a cycle of failing days means no day will ever match again. */
    int cycle_rule = 86400 % step == 0 || step % 86400 == 0;
    int64_t limit_secs = jscal_days_from_civil(10000, 1, 1) * 86400, last_day = INT64_MIN, run = 0;
    /* When the step divides a day every day has the same grid times, so a valid day
     * walked from its first grid point without one time passing BYHOUR/BYMINUTE/
     * BYSECOND means no day ever will (SECONDLY;INTERVAL=2;BYSECOND=1 from an even
     * second). */
    int same_times = 86400 % step == 0, full = 0, passed = 0;
    int day_ok = 0, rc = 0, limited = 0;
    while (!e.done && !rc && g <= hi && g < limit_secs && !(e.has_until && g > e.until)) {
        if ((limited = recur_budget_charge(b, 1) != 0))
            break;
        int64_t day = floor_div(g, 86400);
        if (day != last_day) {
            if (same_times && full && day_ok && !passed && last_day != INT64_MIN)
                break;
            full = g - day * 86400 < step;
            passed = 0;
            last_day = day;
            day_ok = recur_day_matches(r, day, 0);
            run = day_ok ? 0 : run + 1;
            if (cycle_rule && run > RECUR_CYCLE_DAYS)
                break;
        }
        if (!day_ok) {
            g = grid_from(g, step, (day + 1) * 86400);
            continue;
        }
        int64_t next = time_limits(r, g, step);
        if (next != g) {
            g = next;
            continue;
        }
        passed = 1;
        size_t n = expand_period(r, &x, g, cand);
        if ((limited = recur_budget_charge(b, (int64_t)n) != 0))
            break;
        if (r->by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX)
            n = setpos(r, cand, n);
        rc = emit(&e, cand, n);
        g += step;
    }
    free(cand);
    if (limited)
        return RECUR_ERR_LIMIT;
    if (!rc && !e.saw_start && start >= lo && start <= hi && !(e.count && e.emitted >= e.count))
        rc = fn(ctx, start);
    return rc < 0 ? -1 : 0;
}
