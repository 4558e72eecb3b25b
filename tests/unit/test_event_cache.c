/* test_event_cache.c — the event cache is bounded in memory, not only in entries
 * (issue 19 §8): one entry of an unbounded daily series holds three years of
 * occurrences, so a hundred thousand of them would have held gigabytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "store/store.h"
#include "types/event_cache.h"

#define EVENTS 1500 /* about 52 kB of occurrences each: 78 MB unbounded */

static void test_cache_bounded_in_bytes(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/jmapd-evcache-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char *err = NULL;
    struct store *st = store_open(dir, &err);
    assert_non_null(st);
    struct store_conn *c = store_conn(st);
    assert_int_equal(store_user_add(c, "u", "x", "A1"), STORE_OK);
    assert_int_equal(store_begin(c, true), STORE_OK);
    int64_t m = store_state_bump(c, "A1", "CalendarEvent");
    char id[32];
    for (int i = 0; i < EVENTS; i++) {
        snprintf(id, sizeof id, "e%d", i);
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "@type", "Event", "id", id,
                      "start", "2026-01-01T10:00:00", "timeZone", "Etc/UTC", "duration", "PT1H",
                      "recurrenceRule", "@type", "RecurrenceRule", "frequency", "daily");
        assert_int_equal(store_object_put(c, "A1", "CalendarEvent", id, o, m, true, NULL), STORE_OK);
        json_decref(o);
    }
    assert_int_equal(store_commit(c), STORE_OK);
    size_t most = 0;
    for (int i = 0; i < EVENTS; i++) {
        snprintf(id, sizeof id, "e%d", i);
        struct event_cached *e = event_cache_get(c, "A1", id, m, NULL);
        assert_non_null(e);
        assert_true(e->expanded && e->nocc > 1000); /* three years of days */
        event_cache_release(e);
        if (event_cache_bytes() > most)
            most = event_cache_bytes();
    }
    assert_true(most <= EVENT_CACHE_MAX_BYTES);
    assert_true(most > EVENT_CACHE_MAX_BYTES / 2); /* it did fill, then gave way */
    event_cache_clear();
    assert_int_equal(event_cache_bytes(), 0);
    /* issue 21: cache_size sets the bound; the same events under 8 MiB */
    event_cache_set_limit((size_t)8 << 20);
    most = 0;
    for (int i = 0; i < EVENTS; i++) {
        snprintf(id, sizeof id, "e%d", i);
        struct event_cached *e = event_cache_get(c, "A1", id, m, NULL);
        assert_non_null(e);
        event_cache_release(e);
        if (event_cache_bytes() > most)
            most = event_cache_bytes();
    }
    assert_true(most <= (size_t)8 << 20);
    assert_true(most > (size_t)4 << 20);
    event_cache_set_limit(EVENT_CACHE_MAX_BYTES);
    event_cache_clear();
    assert_int_equal(event_cache_bytes(), 0);
    store_close(st);
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_bounded_in_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
