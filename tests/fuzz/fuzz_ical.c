/*
 * fuzz_ical.c — libFuzzer target: iCalendar text -> JSCalendar (ical_to_jscal), then the
 * result back to iCalendar, which must parse again (bad input never produces invalid
 * output), plus a bounded recurrence expansion of every entry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/icalendar_jscalendar/ical.h"
#include "formats/jscalendar/jscal.h"
#include "formats/recurrence/recur.h"

static void expand(const json_t *e)
{
    recur_limits lim = {.max_instances = 2000, .max_millis = 100};
    char *err = NULL;
    int code;
    recur_iter *it = recur_iter_new(e, 946684800, 946684800 + 86400 * 400, "Europe/Berlin", &lim,
                                    RECUR_WANT_OBJECT, &code, &err);
    recur_occurrence occ;
    while (it && recur_iter_next(it, &occ))
        ;
    recur_iter_free(it);
    free(err);
    int64_t f, l;
    int unb;
    err = NULL;
    recur_series_bounds(e, NULL, &lim, &f, &l, &unb, &err);
    free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *err = NULL;
    json_t *j = ical_to_jscal((const char *)data, size, ICAL_TO_JSCAL_GROUP, &err);
    if (!j) {
        if (!err)
            abort(); /* a failure always says why */
        free(err);
        return 0;
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(j, "entries"), i, e) expand(e);
    json_t *inv = NULL;
    jscal_validate(j, JSCAL_ALLOW_MISSING_SERVER_SET | JSCAL_RELAXED, &inv);
    json_decref(inv);
    char *ics = jscal_to_ical(j, &err);
    if (ics) {
        char *err2 = NULL;
        json_t *back = ical_to_jscal(ics, strlen(ics), ICAL_TO_JSCAL_GROUP, &err2);
        if (!back)
            abort(); /* our own output must be readable */
        json_decref(back);
        free(ics);
    } else {
        free(err);
    }
    json_decref(j);
    return 0;
}
