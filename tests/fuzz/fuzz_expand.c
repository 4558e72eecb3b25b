/*
 * fuzz_expand.c — libFuzzer target: the expansion of arbitrary recurrences must stay
 * within its bounds (issue 19 §1). The input is a JSCalendar Event or Task, or a bare
 * RecurrenceRule (given a fixed start). It is expanded over a window at its start and
 * one decades later, its series bounds and rule membership are computed, all with
 * small limits (200 ms a call, 250 ms for membership: about 1 s of CPU in all by
 * design, more under the sanitizers). An input that takes more than 5 s of wall-clock
 * time with more than 1.5 s of CPU, or more than 2 s of CPU in any case, aborts: then
 * some loop (ours or libical's) ran past the limits. The CPU condition keeps a loaded
 * machine's waiting from counting as slowness.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/recurrence/recur.h"

static double now(clockid_t which)
{
    struct timespec ts;
    clock_gettime(which, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void expand(const json_t *ev, int64_t from, int64_t to, const recur_limits *lim)
{
    int code = 0;
    char *err = NULL;
    recur_iter *it =
        recur_iter_new(ev, from, to, "Europe/Berlin", lim, RECUR_WANT_EXCLUDED, &code, &err);
    recur_occurrence occ;
    int64_t last = INT64_MIN;
    while (it && recur_iter_next(it, &occ)) {
        if (occ.utc_start < last)
            abort(); /* recur.h: occurrences come in start order */
        last = occ.utc_start;
    }
    recur_iter_free(it);
    free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(j)) {
        json_decref(j);
        return 0;
    }
    json_t *ev = j;
    if (json_object_get(j, "frequency")) { /* a bare rule */
        ev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:O}", "@type", "Event", "uid", "f", "start",
                       "2024-01-31T10:30:00", "timeZone", "Europe/Berlin", "duration", "PT1H",
                       "recurrenceRule", j);
        json_decref(j);
    }
    double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);
    recur_limits lim = {.max_instances = 5000, .max_millis = 200};
    expand(ev, 1704067200, 1704067200 + 86400 * 60, &lim);  /* 2024-01, 2 months */
    expand(ev, 2524608000, 2524608000 + 86400 * 366, &lim); /* 2050 */
    int64_t first, last;
    int unbounded;
    char *err = NULL;
    recur_series_bounds(ev, NULL, &lim, &first, &last, &unbounded, &err);
    free(err);
    recur_rule_generates(ev, "2030-02-28T10:30:00");
    double dt = now(CLOCK_MONOTONIC) - t0, cpu = now(CLOCK_THREAD_CPUTIME_ID) - c0;
    if ((dt > 5.0 && cpu > 1.5) || cpu > 2.0) {
        fprintf(stderr, "fuzz_expand: one input took %.2f s (%.2f s of CPU)\n", dt, cpu);
        abort();
    }
    json_decref(ev);
    return 0;
}
