/*
 * recur_internal.h — what recur.c shares with recur_days.c: the day-level test of a rule
 * (BYMONTH, BYWEEKNO, BYYEARDAY, BYMONTHDAY, BYDAY), the up-front test for rules that can
 * never match, and the walker for DAILY and shorter frequencies, which counts every
 * candidate it examines against a budget (issue 19 §1). Not a public interface.
 */
#ifndef JMAPD_FORMATS_RECUR_INTERNAL_H
#define JMAPD_FORMATS_RECUR_INTERNAL_H

#include <libical/ical.h>
#include <stdint.h>
#include <time.h>

/* The weekday of a day (days since 1970-01-01, a Thursday): 0 = Sunday. */
static inline int recur_dow(int64_t day)
{
    return (int)(((day % 7) + 7 + 4) % 7);
}

/* The first day of the week holding day, weeks starting on wkst (0 = Sunday). */
static inline int64_t recur_week_start(int64_t day, int wkst)
{
    return day - ((recur_dow(day) - wkst + 7) % 7);
}

/* Week 1 of year holds at least four of its days: it is the week of 4 January (RFC 5545
 * §3.3.10 BYWEEKNO; jscalendarbis §4.3.3.1, firstDayOfWeek as the week start). */
int64_t recur_first_week(int year, int wkst);
/* The week number of day (in calendar year `year`) in its own week-numbering year, and
 * in *nweeks how many weeks that year has (52 or 53), for BYWEEKNO's negative numbers. */
int recur_week_number(int64_t day, int year, int wkst, int *nweeks);

/* Days in a Gregorian cycle: dates, weekdays and week numbers repeat after 400 years. */
#define RECUR_CYCLE_DAYS 146097

/* Candidate work: `used` grows with every candidate examined (by us, or estimated for
 * libical from the periods it stepped over); past `max`, or past the CPU deadline, the
 * expansion stops with RECUR_ERR_LIMIT. */
typedef struct {
    int64_t used, max, next_clock;
    clock_t deadline;
} recur_budget;

/* Adds n candidates; 0, or RECUR_ERR_LIMIT when the budget or the time is used up. */
int recur_budget_charge(recur_budget *b, int64_t n);

/* Called for each wall-clock instance (seconds); nonzero stops the walk. */
typedef int (*recur_inst_fn)(void *ctx, int64_t local);

/* 1 if the day (days since 1970-01-01) passes the day-level parts of r. nth_scope says how
 * an ordinal BYDAY (2MO, -1FR) is read: 0 ignores the ordinal, 'M' within the month, 'Y'
 * within the year. */
int recur_day_matches(const struct icalrecurrencetype *r, int64_t day, int nth_scope);

/* 1 if the day-level parts of r can never select a day (BYMONTH=2 with BYMONTHDAY=30,
 * BYYEARDAY=60 with BYMONTH=1, ...): then the rule adds nothing to its start (RFC 5545
 * §3.3.10; jscalendarbis §4.3.3.1: the start is always the first occurrence). Only parts
 * that apply at r's frequency are read (with the day and month a MONTHLY or YEARLY rule
 * takes from the start, start_day), and ordinals only where they select, so a rule
 * called impossible here is impossible. Tests at most one Gregorian cycle of days. */
int recur_rule_never_matches(const struct icalrecurrencetype *r, int64_t start_day);

/* Expands a Gregorian DAILY, HOURLY, MINUTELY or SECONDLY rule from start (wall-clock
 * seconds), calling fn for each instance in [lo, hi] in order; the start itself counts
 * as the first instance (jscalendarbis §4.3.3.1 rule 1). Returns 0, RECUR_ERR_LIMIT
 * when the budget runs out, or -1 when fn returned a negative value. */
int recur_walk_short(const struct icalrecurrencetype *r, int64_t start, int64_t lo, int64_t hi,
                     recur_budget *b, recur_inst_fn fn, void *ctx);

#endif
