/* test_event_cache.c — the event cache is bounded in memory, not only in entries
 * (issue 19 §8): one entry of an unbounded daily series holds three years of
 * occurrences, so a hundred thousand of them would have held gigabytes. Issue 21: an
 * entry known current at a state is found by that state only; a series without an end
 * is expanded further for a query past its first three years; a recurrence id is found
 * among the occurrences whether or not an override moved it; an entry's /get text is
 * made once and counted in the bound; the bytes counted are the memory the entries
 * hold (issue 21 §0: RSS at 100,000 events within its bound); threads share it. */
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#ifdef __SANITIZE_ADDRESS__
size_t __sanitizer_get_current_allocated_bytes(void); /* the ASan runtime's */
#endif

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


/* A fresh store with account A1; *dir to remove afterwards. */
static struct store *open_store(char dir[64], struct store_conn **c)
{
    snprintf(dir, 64, "/tmp/jmapd-evcache-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char *err = NULL;
    struct store *st = store_open(dir, &err);
    assert_non_null(st);
    *c = store_conn(st);
    assert_int_equal(store_user_add(*c, "u", "x", "A1"), STORE_OK);
    return st;
}

static void close_store(struct store *st, const char *dir)
{
    event_cache_clear();
    store_close(st);
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static int64_t put(struct store_conn *c, const char *id, json_t *o)
{
    assert_int_equal(store_begin(c, true), STORE_OK);
    int64_t m = store_state_bump(c, "A1", "CalendarEvent");
    json_object_set_new(o, "id", json_string(id));
    assert_int_equal(store_object_put(c, "A1", "CalendarEvent", id, o, m, true, NULL), STORE_OK);
    assert_int_equal(store_commit(c), STORE_OK);
    json_decref(o);
    return m;
}

static void test_current_at_a_state_only(void **state)
{
    (void)state;
    char dir[64];
    struct store_conn *c;
    struct store *st = open_store(dir, &c);
    int64_t m = put(c, "e1",
                    json_pack("{s:s, s:s, s:s, s:s}", "@type", "Event", "start",
                              "2026-01-01T10:00:00", "timeZone", "Etc/UTC", "duration", "PT1H"));
    assert_null(event_cache_current("A1", "e1", m)); /* nobody said so yet */
    struct event_cached *e = event_cache_get(c, "A1", "e1", m, NULL);
    assert_non_null(e);
    event_cache_seen(e, m);
    event_cache_seen(e, m - 1); /* an older snapshot's word does not go back */
    struct event_cached *x = event_cache_current("A1", "e1", m);
    assert_ptr_equal(x, e);
    event_cache_release(x);
    assert_null(event_cache_current("A1", "e1", m + 1)); /* the state moved on */
    assert_null(event_cache_current("A1", "e2", m));
    assert_null(event_cache_current("A1", "e1", 0));
    event_cache_release(e);
    close_store(st, dir);
}

static void test_endless_series_extended(void **state)
{
    (void)state;
    char dir[64];
    struct store_conn *c;
    struct store *st = open_store(dir, &c);
    int64_t m = put(c, "y",
                    json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "@type", "Event", "start",
                              "2000-05-01T10:00:00", "timeZone", "Etc/UTC", "duration", "PT1H",
                              "recurrenceRule", "@type", "RecurrenceRule", "frequency", "yearly"));
    struct event_cached *e = event_cache_get(c, "A1", "y", m, NULL);
    assert_true(e->expanded && e->nocc == 4); /* 2000-2003: three years past the start */
    int64_t until = 1893456000;                /* 2030-01-01 */
    assert_true(e->covered_until < until);
    struct event_cached *x = event_cache_extend(e, until);
    assert_non_null(x);
    assert_true(x->covered_until >= until && x->nocc == 33); /* 2000-2032 */
    assert_int_equal(x->modseq, e->modseq);
    assert_ptr_equal(x->obj, e->obj); /* the same parsed event */
    assert_null(event_cache_extend(x, until)); /* nothing more to do */
    event_cache_release(e);                    /* still valid for its holder until now */
    struct event_cached *again = event_cache_get(c, "A1", "y", m, NULL);
    assert_ptr_equal(again, x); /* x took its place */
    event_cache_release(again);
    event_cache_release(x);
    /* a daily series to year 9000 has too many occurrences: not extended, not retried */
    m = put(c, "d",
            json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "@type", "Event", "start",
                      "2026-01-01T10:00:00", "timeZone", "Etc/UTC", "duration", "PT1H",
                      "recurrenceRule", "@type", "RecurrenceRule", "frequency", "daily"));
    e = event_cache_get(c, "A1", "d", m, NULL);
    int64_t far = 221845392000LL; /* 9000-01-01 */
    assert_null(event_cache_extend(e, far));
    assert_int_equal(e->no_extend_from, far);
    assert_null(event_cache_extend(e, far + 86400));
    event_cache_release(e);
    close_store(st, dir);
}

static void test_rid_index(void **state)
{
    (void)state;
    char dir[64];
    struct store_conn *c;
    struct store *st = open_store(dir, &c);
    /* the second week's occurrence moved after the third's: start order is not rid order */
    int64_t m = put(c, "w",
                    json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:i}, s:{s:{s:s}}}", "@type",
                              "Event", "start", "2026-01-05T10:00:00", "timeZone", "Etc/UTC",
                              "duration", "PT1H", "recurrenceRule", "@type", "RecurrenceRule",
                              "frequency", "weekly", "count", 4, "recurrenceOverrides",
                              "2026-01-12T10:00:00", "start", "2026-01-20T10:00:00"));
    struct event_cached *e = event_cache_get(c, "A1", "w", m, NULL);
    assert_true(e->expanded && e->nocc == 4);
    const char *rids[] = {"2026-01-05T10:00:00", "2026-01-12T10:00:00", "2026-01-19T10:00:00",
                          "2026-01-26T10:00:00"};
    for (size_t i = 0; i < 4; i++) {
        long k = event_cache_rid_index(e, rids[i]);
        assert_true(k >= 0);
        assert_string_equal(e->occ[k].rid, rids[i]);
    }
    assert_int_equal(event_cache_rid_index(e, "2026-01-13T10:00:00"), -1);
    assert_int_equal(event_cache_rid_index(e, "2026-02-02T10:00:00"), -1);
    event_cache_release(e);
    close_store(st, dir);
}

/* glibc's chunk for a request of n bytes (the cache counts its text so) */
static size_t chunk(size_t n)
{
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

static int makes;
static char *make_text(const json_t *obj, size_t *n)
{
    makes++;
    char *d = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS), *t = strdup(d);
    free(d); /* jansson's default allocator */
    *n = strlen(t);
    return t;
}

/* Issue 21 §2: an entry's text is made once, kept for every holder, counted in the
 * cache's bytes while the entry is in the table, and goes with the entry. */
static void test_text_made_once_and_counted(void **state)
{
    (void)state;
    char dir[64];
    struct store_conn *c;
    struct store *st = open_store(dir, &c);
    int64_t m = put(c, "t",
                    json_pack("{s:s, s:s, s:s, s:s}", "@type", "Event", "start",
                              "2026-01-05T10:00:00", "timeZone", "Etc/UTC", "title", "T"));
    struct event_cached *e = event_cache_get(c, "A1", "t", m, NULL);
    size_t before = event_cache_bytes(), n = 0, n2 = 0;
    makes = 0;
    const char *t = event_cache_text(e, make_text, &n);
    assert_int_equal(makes, 1);
    assert_int_equal(n, strlen(t));
    assert_non_null(strstr(t, "\"title\":\"T\""));
    assert_int_equal(event_cache_bytes(), before + chunk(n + 1));
    struct event_cached *again = event_cache_get(c, "A1", "t", m, NULL);
    assert_ptr_equal(again, e);
    assert_ptr_equal(event_cache_text(again, make_text, &n2), t);
    assert_int_equal(makes, 1);
    assert_int_equal(n2, n);
    event_cache_release(again);
    /* out of the table (a newer version replaced it): its text no longer counts */
    json_t *u = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@type", "Event", "id", "t", "start",
                          "2026-01-05T10:00:00", "timeZone", "Etc/UTC", "title", "U");
    assert_int_equal(store_begin(c, true), STORE_OK);
    int64_t m2 = store_state_bump(c, "A1", "CalendarEvent");
    assert_int_equal(store_object_put(c, "A1", "CalendarEvent", "t", u, m2, false, NULL), STORE_OK);
    assert_int_equal(store_commit(c), STORE_OK);
    json_decref(u);
    struct event_cached *newer = event_cache_get(c, "A1", "t", m2, NULL);
    size_t with_newer = event_cache_bytes();
    assert_non_null(strstr(event_cache_text(e, make_text, &n2), "\"T\""));
    assert_int_equal(event_cache_bytes(), with_newer);
    const char *t2 = event_cache_text(newer, make_text, &n2);
    assert_non_null(strstr(t2, "\"U\""));
    assert_int_equal(event_cache_bytes(), with_newer + chunk(n2 + 1));
    event_cache_release(newer);
    event_cache_release(e);
    event_cache_clear();
    assert_int_equal(event_cache_bytes(), 0);
    close_store(st, dir);
}

/* Issue 21 §0: a /get's entry of text alone holds the text, not the parsed event,
 * and counts only that; it is found at its state (event_cache_current) and by nothing
 * that needs the tree or the occurrences (event_cache_get, _peek, _extend). */
static void test_text_only_entry(void **state)
{
    (void)state;
    char dir[64];
    struct store_conn *c;
    struct store *st = open_store(dir, &c);
    int64_t m = put(c, "t",
                    json_pack("{s:s, s:s, s:s, s:s}", "@type", "Event", "start",
                              "2026-01-05T10:00:00", "timeZone", "Etc/UTC", "title", "T"));
    json_t *obj = store_object_get(c, "A1", "CalendarEvent", "t");
    makes = 0;
    struct event_cached *e = event_cache_put_text("A1", "t", obj, m, make_text);
    assert_non_null(e);
    assert_int_equal(makes, 1);
    assert_null(e->obj);
    assert_false(e->expanded);
    assert_non_null(strstr(e->text, "\"title\":\"T\""));
    assert_int_equal(e->text_len, strlen(e->text));
    assert_true(event_cache_bytes() < 1024); /* the entry and its text, no tree */
    size_t n;
    assert_ptr_equal(event_cache_text(e, make_text, &n), e->text); /* not made again */
    assert_int_equal(makes, 1);
    struct event_cached *x = event_cache_current("A1", "t", m);
    assert_ptr_equal(x, e);
    event_cache_release(x);
    assert_null(event_cache_current("A1", "t", m + 1));
    assert_null(event_cache_peek("A1", "t", m));
    assert_null(event_cache_extend(e, INT64_MAX));
    /* a query's entry of the same event is parsed and takes its place */
    x = event_cache_get(c, "A1", "t", m, NULL);
    assert_non_null(x);
    assert_ptr_not_equal(x, e);
    assert_non_null(x->obj);
    assert_null(event_cache_put_text("A1", "t", obj, m, make_text)); /* kept */
    event_cache_release(x);
    event_cache_release(e);
    json_decref(obj);
    close_store(st, dir);
}

/* Issue 21 §1: the table is locked by stripes, its counts are atomics: threads reading,
 * adding texts and evicting at once (a bound a few entries wide) leave the count at 0
 * when the cache is cleared, and each thread always gets the event it asked for. */
struct reader {
    struct store *st;
    int64_t m;
    int k, bad;
};

static void *reader_main(void *arg)
{
    struct reader *rd = arg;
    struct store_conn *c = store_conn(rd->st);
    char id[32];
    for (int round = 0; round < 40; round++)
        for (int i = 0; i < 50; i++) {
            snprintf(id, sizeof id, "r%d", (i * 7 + rd->k * 13 + round) % 50);
            struct event_cached *e = event_cache_get(c, "A1", id, rd->m, NULL);
            if (!e || strcmp(json_string_value(json_object_get(e->obj, "id")), id) != 0) {
                rd->bad++;
                event_cache_release(e);
                continue;
            }
            size_t n;
            const char *t = event_cache_text(e, make_text, &n);
            rd->bad += !strstr(t, id);
            int64_t s0, e0;
            event_cache_span("A1", id, rd->m, &s0, &e0);
            event_cache_release(e);
        }
    return NULL;
}

static void test_threads_share_the_cache(void **state)
{
    (void)state;
    char dir[64];
    struct store_conn *c;
    struct store *st = open_store(dir, &c);
    assert_int_equal(store_begin(c, true), STORE_OK);
    int64_t m = store_state_bump(c, "A1", "CalendarEvent");
    char id[32];
    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof id, "r%d", i);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@type", "Event", "id", id, "start",
                              "2026-01-05T10:00:00", "timeZone", "Etc/UTC", "title", id);
        assert_int_equal(store_object_put(c, "A1", "CalendarEvent", id, o, m, true, NULL),
                         STORE_OK);
        json_decref(o);
    }
    assert_int_equal(store_commit(c), STORE_OK);
    event_cache_set_limit(16 << 10); /* a few entries */
    struct reader rd[4];
    pthread_t th[4];
    for (int k = 0; k < 4; k++) {
        rd[k] = (struct reader){st, m, k, 0};
        assert_int_equal(pthread_create(&th[k], NULL, reader_main, &rd[k]), 0);
    }
    for (int k = 0; k < 4; k++) {
        assert_int_equal(pthread_join(th[k], NULL), 0);
        assert_int_equal(rd[k].bad, 0);
    }
    assert_true(event_cache_bytes() <= (16 << 10) + 8192); /* an entry past it at most */
    event_cache_set_limit(EVENT_CACHE_MAX_BYTES);
    event_cache_clear();
    assert_int_equal(event_cache_bytes(), 0);
    close_store(st, dir);
}

/* Bytes the allocator has handed out and not had back */
static size_t in_use(void)
{
#ifdef __SANITIZE_ADDRESS__
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

/* Issue 21 §0: the bytes the cache counts against cache_size are the memory its
 * entries hold (the parsed event as jansson allocates it, the occurrences, the /get
 * text, the entry itself): at 100,000 events the old count was 30% short of what
 * clearing the cache gave back, and the server's RSS passed its bound. Events shaped
 * like bench/scale/gen.py's, a fifth of them weekly series. Exact against glibc's
 * count of bytes in use (the release build); under ASan, which counts requested bytes
 * without glibc's chunk headers, the count is at least those. */
static void test_bytes_counted_are_memory_held(void **state)
{
    (void)state;
    char dir[64];
    struct store_conn *c;
    struct store *st = open_store(dir, &c);
    enum { N = 300 };
    int64_t m[N];
    char id[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "e%d", i);
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:{s:{s:s, s:s}}, s:{s:{s:s, s:s, s:s, "
            "s:s}}, s:{s:b}, s:s}",
            "@type", "Event", "uid", "scale-1@jmapd.test", "title", "Retro flight planning",
            "description", "review launch workshop meeting", "start", "2018-05-05T10:00:00",
            "timeZone", "America/New_York", "duration", "PT1H", "isDraft", 0, "locations", "l1",
            "@type", "Location", "name", "Room 136", "participants", "p1", "@type", "Participant",
            "calendarAddress", "mailto:p0@example.com", "name", "Person 0", "participationStatus",
            "accepted", "calendarIds", "c1", 1, "created", "2026-12-07T07:36:14Z");
        if (i % 5 == 0)
            json_object_set_new(o, "recurrenceRule",
                                json_pack("{s:s, s:s, s:i}", "@type", "RecurrenceRule", "frequency",
                                          "weekly", "count", 20 + i % 7));
        m[i] = put(c, id, o);
    }
    event_cache_clear();
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "e%d", i);
        struct event_cached *e = event_cache_get(c, "A1", id, m[i], NULL);
        assert_non_null(e);
        size_t n;
        if (i % 2)
            event_cache_text(e, make_text, &n);
        event_cache_release(e);
    }
    size_t counted = event_cache_bytes(), before = in_use();
    event_cache_clear();
    size_t freed = before - in_use();
    print_message("counted %zu, freed %zu\n", counted, freed);
    /* freed also has the spans of the single events (event_cache_span), 0.5% here */
    assert_true(counted >= freed - freed / 50);
#ifndef __SANITIZE_ADDRESS__
    assert_true(counted <= freed + freed / 20);
#endif
    close_store(st, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_bounded_in_bytes),
        cmocka_unit_test(test_current_at_a_state_only),
        cmocka_unit_test(test_endless_series_extended),
        cmocka_unit_test(test_rid_index),
        cmocka_unit_test(test_text_made_once_and_counted),
        cmocka_unit_test(test_bytes_counted_are_memory_held),
        cmocka_unit_test(test_text_only_entry),
        cmocka_unit_test(test_threads_share_the_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
