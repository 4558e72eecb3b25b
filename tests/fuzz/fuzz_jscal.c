/*
 * fuzz_jscal.c — libFuzzer target: JSON -> validation -> iCalendar (jscal_to_ical). Valid
 * JSCalendar must convert, and the iCalendar produced must convert back; everything else
 * must fail cleanly. Also a bounded expansion of the object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/icalendar_jscalendar/ical.h"
#include "formats/jscalendar/jscal.h"
#include "formats/recurrence/recur.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return 0;
    json_t *inv = NULL;
    int valid = jscal_validate(j, JSCAL_NORMALIZE, &inv) == 0;
    json_decref(inv);
    char *err = NULL;
    char *ics = jscal_to_ical(j, &err);
    if (ics) {
        char *err2 = NULL;
        json_t *back = ical_to_jscal(ics, strlen(ics), ICAL_TO_JSCAL_GROUP, &err2);
        if (!back && valid)
            abort(); /* valid JSCalendar must survive the round trip */
        free(err2);
        json_decref(back);
        free(ics);
    } else {
        free(err);
    }
    if (valid) {
        recur_limits lim = {.max_instances = 2000, .max_millis = 100};
        int code;
        err = NULL;
        recur_iter *it = recur_iter_new(j, 946684800, 946684800 + 86400 * 400, NULL, &lim,
                                        RECUR_WANT_OBJECT, &code, &err);
        recur_occurrence occ;
        while (it && recur_iter_next(it, &occ))
            ;
        recur_iter_free(it);
        free(err);
    }
    json_decref(j);
    return 0;
}
