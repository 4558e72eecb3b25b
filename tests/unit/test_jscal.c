/*
 * test_jscal.c — JSCalendar value types (jscalendarbis-08 §1.4), UUIDv5 keys
 * (draft-ietf-calext-jscalendar-icalendar-25 §2.1.3), PatchObject (§1.4.9), validation
 * with property paths (jscal.h) and time zones (tz.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "formats/jscalendar/jscal.h"
#include "formats/jscalendar/jscal_util.h"
#include "formats/timezone/tz.h"

static void test_datetimes(void **state)
{
    (void)state;
    jscal_ldt t;
    assert_int_equal(jscal_ldt_parse("2006-01-02T15:04:05", &t), 0);
    assert_int_equal(t.year, 2006);
    assert_int_equal(t.second, 5);
    /* §1.4.4: uppercase, Z only, no fractions */
    assert_int_equal(jscal_utc_parse("2010-10-10T10:10:10Z", &t), 0);
    assert_int_not_equal(jscal_utc_parse("2010-10-10T10:10:10.0Z", &t), 0);
    assert_int_not_equal(jscal_utc_parse("2010-10-10T10:10:10.123Z", &t), 0);
    assert_int_not_equal(jscal_utc_parse("2010-10-10t10:10:10z", &t), 0);
    assert_int_not_equal(jscal_ldt_parse("2006-01-02T15:04:05Z", &t), 0);
    assert_int_not_equal(jscal_ldt_parse("2006-02-30T15:04:05", &t), 0);
    assert_int_equal(jscal_ldt_parse("2024-02-29T00:00:00", &t), 0);
    assert_int_not_equal(jscal_ldt_parse("2023-02-29T00:00:00", &t), 0);
    char buf[24];
    jscal_ldt_parse("1969-12-31T23:59:59", &t);
    int64_t s = jscal_ldt_to_secs(&t);
    assert_int_equal(s, -1);
    jscal_secs_to_ldt(s, &t);
    jscal_ldt_format(&t, 1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
}

static void test_durations(void **state)
{
    (void)state;
    jscal_dur d;
    char buf[64];
    static const char *const ok[] = {"PT1H", "P1D", "P1W", "P1WT1H", "P2W3D", "PT1H30M", "PT0S",
                                     "P1DT12H", "PT15M10S", "PT5S", NULL};
    static const char *const bad[] = {"P", "PT", "1H", "PT1H1H", "P1H", "PT1D", "P1.5D",
                                      "-PT1H", "PT1S1M", "P1DT", "", NULL};
    for (int i = 0; ok[i]; i++) {
        assert_int_equal(jscal_dur_parse(ok[i], 0, &d), 0);
        jscal_dur_format(&d, buf);
        assert_string_equal(buf, ok[i]);
    }
    for (int i = 0; bad[i]; i++)
        assert_int_not_equal(jscal_dur_parse(bad[i], 0, &d), 0);
    /* §1.4.7 SignedDuration */
    assert_int_equal(jscal_dur_parse("-PT30M", 1, &d), 0);
    assert_int_equal(jscal_dur_total_secs(&d), -1800);
    assert_int_equal(jscal_dur_parse("+PT5M", 1, &d), 0);
    assert_int_equal(jscal_dur_total_secs(&d), 300);
}

static void test_ids_and_uuidv5(void **state)
{
    (void)state;
    assert_true(jid_valid("abc-DEF_123"));
    assert_false(jid_valid(""));
    assert_false(jid_valid("a b"));
    assert_false(jid_valid("a=b"));
    char big[300];
    memset(big, 'a', 299);
    big[299] = 0;
    assert_false(jid_valid(big));
    /* keys from the draft -25 examples (§2.3.46, §2.3.4, §2.3.29) */
    char u[37];
    jscal_uuidv5("https://example.com/myurl", u);
    assert_string_equal(u, "6669391a-2c73-5b89-9cfe-7a6c95a855e3");
    jscal_uuidv5("mailto:hcabot@example.com", u);
    assert_string_equal(u, "0b235cc4-f04d-5fc4-98a3-c066650b3fbf");
    jscal_uuidv5("mailto:organizer@example.com", u);
    assert_string_equal(u, "251d3e9f-d83f-534c-8c45-c2896c75670c");
}

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    assert_non_null(j);
    return j;
}

static void test_patch(void **state)
{
    (void)state;
    json_t *o = J("{\"a\":1,\"b\":{\"c\":2,\"d\":[1,2]}}");
    json_t *p = J("{\"a\":null,\"b/c\":3,\"b/e\":true}");
    char *err = NULL;
    assert_int_equal(jscal_patch_apply(o, p, &err), 0);
    json_t *want = J("{\"b\":{\"c\":3,\"d\":[1,2],\"e\":true}}");
    assert_true(json_equal(o, want));
    json_decref(p);
    json_decref(want);
    /* §1.4.9: never into arrays, parents must exist, no prefix pairs; all or nothing */
    static const char *const bad[] = {"{\"b/d/0\":5}", "{\"x/y\":1}", "{\"b\":{},\"b/c\":1}", NULL};
    for (int i = 0; bad[i]; i++) {
        json_t *before = json_deep_copy(o);
        p = J(bad[i]);
        assert_int_not_equal(jscal_patch_apply(o, p, &err), 0);
        assert_non_null(err);
        free(err);
        err = NULL;
        assert_true(json_equal(o, before));
        json_decref(p);
        json_decref(before);
    }
    json_decref(o);
}

static int has_path(json_t *inv, const char *path)
{
    size_t i;
    json_t *e;
    json_array_foreach(inv, i, e) if (!strcmp(json_string_value(e), path)) return 1;
    return 0;
}

static const char *base_event =
    "{\"@type\":\"Event\",\"uid\":\"u1\",\"updated\":\"2020-01-02T18:23:04Z\","
    "\"title\":\"Some event\",\"start\":\"2020-01-15T13:00:00\","
    "\"timeZone\":\"America/New_York\",\"duration\":\"PT1H\"}";

static void expect_invalid(const char *patch_json, const char *path)
{
    json_t *o = J(base_event);
    json_t *p = J(patch_json);
    assert_int_equal(jscal_patch_apply(o, p, NULL), 0);
    json_t *inv = NULL;
    assert_int_equal(jscal_validate(o, 0, &inv), -1);
    if (!has_path(inv, path)) {
        char *s = json_dumps(inv, 0);
        print_error("expected %s in %s\n", path, s);
        free(s);
        fail();
    }
    json_decref(inv);
    json_decref(o);
    json_decref(p);
}

static void test_validate_paths(void **state)
{
    (void)state;
    json_t *o = J(base_event), *inv = NULL;
    assert_int_equal(jscal_validate(o, 0, &inv), 0);
    assert_null(inv);
    /* vendor properties are kept and fine (§3.3) */
    json_object_set_new(o, "example.com:foo", json_true());
    assert_int_equal(jscal_validate(o, 0, NULL), 0);
    json_decref(o);

    expect_invalid("{\"recurrenceRule\":{\"@type\":\"RecurrenceRule\"}}", "recurrenceRule/frequency");
    expect_invalid("{\"recurrenceRule\":{\"frequency\":\"fortnightly\"}}", "recurrenceRule/frequency");
    expect_invalid("{\"recurrenceRule\":{\"frequency\":\"daily\",\"count\":2,\"until\":\"2020-02-01T00:00:00\"}}",
                   "recurrenceRule/until");
    expect_invalid("{\"recurrenceRule\":{\"frequency\":\"daily\",\"byHour\":[24]}}", "recurrenceRule/byHour");
    expect_invalid("{\"recurrenceRule\":{\"frequency\":\"daily\",\"interval\":0}}", "recurrenceRule/interval");
    expect_invalid("{\"recurrenceRule\":{\"frequency\":\"monthly\",\"byDay\":[{\"day\":\"xx\"}]}}",
                   "recurrenceRule/byDay/day");
    expect_invalid("{\"organizerCalendarAddress\":\"mailto:o@example.com\",\"participants\":{\"p1\":"
                   "{\"calendarAddress\":\"mailto:a@example.com\",\"roles\":{\"attendee\":false}}}}",
                   "participants/p1/roles/attendee");
    expect_invalid("{\"participants\":{\"p1\":{\"roles\":{\"attendee\":true}}}}", "participants/p1/roles");
    expect_invalid("{\"participants\":{\"p1\":{\"calendarAddress\":\"mailto:a@example.com\"}}}",
                   "organizerCalendarAddress");
    expect_invalid("{\"start\":\"2020-01-15 13:00\"}", "start");
    expect_invalid("{\"start\":null}", "start");
    expect_invalid("{\"updated\":\"2020-01-02T18:23:04\"}", "updated");
    expect_invalid("{\"duration\":\"1 hour\"}", "duration");
    expect_invalid("{\"timeZone\":\"Mars/Olympus_Mons\"}", "timeZone");
    expect_invalid("{\"timeZone\":null,\"endTimeZone\":\"Europe/Berlin\"}", "endTimeZone");
    expect_invalid("{\"priority\":10}", "priority");
    expect_invalid("{\"sequence\":-1}", "sequence");
    expect_invalid("{\"locations\":{\"bad id\":{\"name\":\"x\"}}}", "locations/bad id");
    expect_invalid("{\"locations\":{\"l1\":{}}}", "locations/l1");
    expect_invalid("{\"mainLocationId\":\"nope\"}", "mainLocationId");
    expect_invalid("{\"links\":{\"l1\":{\"rel\":\"icon\"}}}", "links/l1/href");
    expect_invalid("{\"virtualLocations\":{\"v1\":{\"name\":\"x\"}}}", "virtualLocations/v1/uri");
    expect_invalid("{\"alerts\":{\"a1\":{\"trigger\":{\"offset\":\"15 minutes\"}}}}", "alerts/a1/trigger/offset");
    expect_invalid("{\"alerts\":{\"a1\":{\"trigger\":{\"@type\":\"AbsoluteTrigger\",\"when\":\"2020-01-01T00:00:00\"}}}}",
                   "alerts/a1/trigger/when");
    expect_invalid("{\"alerts\":{\"a1\":{}}}", "alerts/a1/trigger");
    expect_invalid("{\"keywords\":{\"a\":false}}", "keywords/a");
    expect_invalid("{\"recurrenceOverrides\":{\"2020-02-01T13:00:00\":{\"excluded\":true,\"title\":\"x\"}}}",
                   "recurrenceOverrides/2020-02-01T13:00:00/excluded");
    expect_invalid("{\"recurrenceOverrides\":{\"2020-02-01T13:00:00\":{\"duration\":\"x\"}}}",
                   "recurrenceOverrides/2020-02-01T13:00:00/duration");
    expect_invalid("{\"recurrenceOverrides\":{\"not-a-date\":{}}}", "recurrenceOverrides/not-a-date");
    expect_invalid("{\"recurrenceId\":\"2020-01-15T13:00:00\",\"recurrenceRule\":{\"frequency\":\"daily\"}}",
                   "recurrenceRule");
    expect_invalid("{\"@type\":\"Banana\"}", "@type");
    expect_invalid("{\"hideAttendees\":\"yes\"}", "hideAttendees");
    expect_invalid("{\"recurrenceRule\":{\"frequency\":\"daily\"},\"recurrenceOverrides\":"
                   "{\"2020-01-16T13:00:00\":{\"mayInviteSelf\":true}}}",
                   "recurrenceOverrides/2020-01-16T13:00:00/mayInviteSelf");
    expect_invalid("{\"organizerCalendarAddress\":\"mailto:o@example.com\",\"participants\":{\"p1\":"
                   "{\"calendarAddress\":\"mailto:a@example.com\",\"scheduleSequence\":-1}}}",
                   "participants/p1/scheduleSequence");
    expect_invalid("{\"descriptionContentType\":\"application/pdf\"}", "descriptionContentType");
    expect_invalid("{\"iCalendar\":{\"@type\":\"ICalComponent\"}}", "iCalendar/name");
    expect_invalid("{\"iCalendar\":{\"name\":\"vevent\",\"properties\":[[\"x-a\",{},\"text\"]]}}",
                   "iCalendar/properties/0");
}

static void test_validate_task_group_normalize(void **state)
{
    (void)state;
    json_t *t = J("{\"@type\":\"Task\",\"uid\":\"t\",\"updated\":\"2020-01-09T14:32:01Z\","
                  "\"title\":\"Do something\"}");
    assert_int_equal(jscal_validate(t, 0, NULL), 0);
    json_object_set_new(t, "timeZone", json_string("Europe/Vienna"));
    json_t *inv = NULL;
    assert_int_equal(jscal_validate(t, 0, &inv), -1); /* §5.2: zone needs start or due */
    assert_true(has_path(inv, "start"));
    json_decref(inv);
    json_object_set_new(t, "due", json_string("2020-01-19T18:00:00"));
    json_object_set_new(t, "percentComplete", json_integer(101));
    assert_int_equal(jscal_validate(t, 0, &inv), -1);
    assert_true(has_path(inv, "percentComplete"));
    json_decref(inv);
    json_decref(t);

    json_t *g = J("{\"@type\":\"Group\",\"uid\":\"g\",\"updated\":\"2020-01-15T18:00:00Z\","
                  "\"entries\":[{\"@type\":\"Event\",\"uid\":\"e\",\"updated\":\"2020-01-02T18:23:04Z\","
                  "\"start\":\"bad\"},{\"@type\":\"example.com:Thing\"}]}");
    assert_int_equal(jscal_validate(g, 0, &inv), -1);
    assert_true(has_path(inv, "entries/0/start"));
    assert_int_equal(json_array_size(inv), 1); /* unknown entry types are ignored (§5.3.1) */
    json_decref(inv);
    json_decref(g);

    /* JMAP create: server-set uid/updated may be missing */
    json_t *e = J("{\"@type\":\"Event\",\"start\":\"2020-01-15T13:00:00\",\"locations\":{\"l\":{\"name\":\"x\"}},"
                  "\"alerts\":{\"a\":{\"trigger\":{\"offset\":\"-PT5M\"}}}}");
    assert_int_equal(jscal_validate(e, 0, NULL), -1);
    assert_int_equal(jscal_validate(e, JSCAL_ALLOW_MISSING_SERVER_SET | JSCAL_NORMALIZE, NULL), 0);
    /* normalisation fills implied @types (§1.3.3) */
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(e, "locations"), "l"), "@type")),
                        "Location");
    json_t *trig = json_object_get(json_object_get(json_object_get(e, "alerts"), "a"), "trigger");
    assert_string_equal(json_string_value(json_object_get(trig, "@type")), "OffsetTrigger");
    json_object_set_new(e, "banana", json_true());
    assert_int_equal(jscal_validate(e, JSCAL_ALLOW_MISSING_SERVER_SET | JSCAL_STRICT_VENDOR, &inv), -1);
    assert_true(has_path(inv, "banana"));
    json_decref(inv);
    json_decref(e);
}

static void test_timezones(void **state)
{
    (void)state;
    assert_true(tz_is_iana("Europe/Berlin"));
    assert_true(tz_is_iana("Etc/UTC"));
    assert_true(tz_is_iana("America/Indiana/Indianapolis"));
    assert_false(tz_is_iana("Mars/Olympus_Mons"));
    assert_false(tz_is_iana("../../etc/passwd"));
    assert_string_equal(tz_windows_to_iana("W. Europe Standard Time"), "Europe/Berlin");
    assert_string_equal(tz_windows_to_iana("Pacific Standard Time"), "America/Los_Angeles");
    assert_string_equal(tz_windows_to_iana("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"),
                        "Europe/Berlin");
    assert_null(tz_windows_to_iana("Nowhere Standard Time"));
    assert_string_equal(tz_resolve_tzid("/mozilla.org/20050126_1/America/New_York"), "America/New_York");
    assert_string_equal(tz_resolve_tzid("Eastern Standard Time"), "America/New_York");
    /* jscalendarbis §1.4.5 examples */
    icaltimezone *la = tz_builtin("America/Los_Angeles"), *mel = tz_builtin("Australia/Melbourne");
    jscal_ldt t;
    jscal_ldt_parse("2020-11-01T01:30:00", &t);
    char buf[24];
    jscal_ldt u;
    jscal_secs_to_ldt(tz_local_to_utc(la, jscal_ldt_to_secs(&t)), &u);
    jscal_ldt_format(&u, 1, buf);
    assert_string_equal(buf, "2020-11-01T08:30:00Z");
    jscal_ldt_parse("2020-10-04T02:30:00", &t);
    jscal_secs_to_ldt(tz_local_to_utc(mel, jscal_ldt_to_secs(&t)), &u);
    jscal_ldt_format(&u, 1, buf);
    assert_string_equal(buf, "2020-10-03T16:30:00Z");
    /* beyond libical's reach (its rule iterator stops in 2582) a zone's rules still hold:
     * the offsets of 2024 again 400 years on, and in 4058 those of 2058 */
    icaltimezone *berlin = tz_builtin("Europe/Berlin");
    const char *same[][2] = {{"2024-07-01T12:00:00", "2424-07-01T12:00:00"},
                             {"2024-03-31T01:30:00", "2424-03-31T01:30:00"},
                             {"2058-01-15T12:00:00", "4058-01-15T12:00:00"},
                             {"2058-07-15T12:00:00", "4058-07-15T12:00:00"}};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        jscal_ldt a, b;
        jscal_ldt_parse(same[i][0], &a);
        jscal_ldt_parse(same[i][1], &b);
        assert_int_equal(tz_offset_at_utc(berlin, jscal_ldt_to_secs(&a)),
                         tz_offset_at_utc(berlin, jscal_ldt_to_secs(&b)));
    }
    jscal_ldt_parse("4058-07-15T12:00:00", &t);
    assert_int_equal(tz_offset_at_utc(berlin, jscal_ldt_to_secs(&t)), 7200);
    jscal_ldt_parse("4058-01-15T12:00:00", &t);
    assert_int_equal(tz_offset_at_utc(berlin, jscal_ldt_to_secs(&t)), 3600);
}

static void test_override_ignored_keys(void **state)
{
    (void)state;
    /* jscalendarbis-17 §4.3.4, sentBy included */
    static const char *const ign[] = {"uid",
                                      "@type",
                                      "recurrenceRule/frequency",
                                      "participants/p1/calendarAddress",
                                      "relatedTo/x",
                                      "sentBy",
                                      "privacy",
                                      "method",
                                      "prodId",
                                      NULL};
    static const char *const ok[] = {"title", "participants/p1/name", "participants",
                                     "uidx", "start", NULL};
    for (int i = 0; ign[i]; i++)
        assert_true(jscal_override_key_ignored(ign[i]));
    for (int i = 0; ok[i]; i++)
        assert_false(jscal_override_key_ignored(ok[i]));
    /* an ignored key in a patch does not make the object invalid */
    json_t *o = J("{\"@type\":\"Event\",\"uid\":\"u\",\"updated\":\"2020-01-01T00:00:00Z\","
                  "\"start\":\"2020-01-01T10:00:00\",\"recurrenceRule\":{\"frequency\":\"daily\"},"
                  "\"recurrenceOverrides\":{\"2020-01-02T10:00:00\":{\"uid\":5,\"title\":\"x\"}}}");
    assert_int_equal(jscal_validate(o, 0, NULL), 0);
    json_decref(o);
}

static void test_json_writer(void **state)
{
    (void)state;
    json_t *j = J("{\"a\":[1,-2,true,false,null,\"x\\\"y\\\\z\\n\\t\\u0001\\u00e9\"],"
                  "\"b\":{\"\\u2603\":{}},\"c\":[],\"d\":1.5}");
    jbuf b = {0};
    jwriter_append(j, &b);
    json_error_t e;
    json_t *back = json_loads(b.s, 0, &e);
    assert_non_null(back);
    assert_true(json_equal(j, back));
    char *ref = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_t *refj = json_loads(ref, 0, &e);
    assert_true(json_equal(refj, back));
    free(ref);
    free(b.s);
    json_decref(refj);
    json_decref(back);
    json_decref(j);
}

/* The reason the validator gives for path, or NULL if path is not reported. */
static const char *reason_of(json_t *obj, int flags, const json_t *old, const char *path)
{
    static char buf[512];
    json_t *inv = NULL, *why = NULL;
    const char *r = NULL;
    if (jscal_validate_why(obj, flags, old, &inv, &why)) {
        assert_int_equal(json_array_size(inv), json_array_size(why));
        size_t i;
        json_t *e;
        json_array_foreach(inv, i, e) if (!strcmp(json_string_value(e), path))
        {
            snprintf(buf, sizeof buf, "%s", json_string_value(json_array_get(why, i)));
            r = buf;
        }
    }
    json_decref(inv);
    json_decref(why);
    return r;
}

static json_t *event_with(const char *patch_json)
{
    json_t *o = J(base_event), *p = J(patch_json);
    assert_int_equal(jscal_patch_apply(o, p, NULL), 0);
    json_decref(p);
    return o;
}

#define assert_reason(obj, flags, old, path, text)                                                 \
    do {                                                                                           \
        const char *r_ = reason_of(obj, flags, old, path);                                         \
        if (!r_ || !strstr(r_, text)) {                                                            \
            print_error("%s: expected a reason with \"%s\", got \"%s\"\n", path, text,             \
                        r_ ? r_ : "(not reported)");                                               \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* Issue 12 §1.8 / RFC 8620 §5.3: every path the validator reports comes with the reason:
 * what the value must be, with the JSCalendar 2.0 (jscalendarbis-17) section. */
static void test_issue12_1_8_reason_per_path(void **state)
{
    (void)state;
    json_t *o = event_with("{\"start\":\"2020-01-15 13:00\",\"duration\":\"one hour\","
                           "\"priority\":12,\"timeZone\":\"Mars/Olympus\","
                           "\"participants\":{\"p1\":{\"name\":\"A\",\"roles\":{\"chair\":true}}},"
                           "\"recurrenceRule\":{\"frequency\":\"daily\",\"byHour\":[25]},"
                           "\"alerts\":{\"a\":{\"trigger\":{\"offset\":\"soon\"}}}}");
    assert_reason(o, 0, NULL, "start", "not a LocalDateTime (JSCalendar 2.0 §1.5.5)");
    assert_reason(o, 0, NULL, "duration", "not a Duration");
    assert_reason(o, 0, NULL, "priority", "0 to 9");
    assert_reason(o, 0, NULL, "timeZone", "TimeZoneId");
    assert_reason(o, 0, NULL, "participants/p1/roles", "needs calendarAddress");
    assert_reason(o, 0, NULL, "participants/p1/calendarAddress", "required when kind, roles");
    assert_reason(o, 0, NULL, "participants/p1/calendarAddress", "RFC 8984 sendTo is obsolete");
    assert_reason(o, 0, NULL, "recurrenceRule/byHour", "integer from 0 to 23");
    assert_reason(o, 0, NULL, "alerts/a/trigger/offset", "SignedDuration");
    json_decref(o);
    /* inside an override: the path and the reason of the patched instance */
    o = event_with("{\"recurrenceRule\":{\"frequency\":\"daily\"},\"recurrenceOverrides\":"
                   "{\"2020-01-16T13:00:00\":{\"duration\":\"PT1X\"},"
                   "\"2020-01-17T13:00:00\":{\"excluded\":true,\"title\":\"x\"}}}");
    assert_reason(o, 0, NULL, "recurrenceOverrides/2020-01-16T13:00:00/duration", "not a Duration");
    assert_reason(o, 0, NULL, "recurrenceOverrides/2020-01-17T13:00:00/excluded",
                  "{\"excluded\": true} and nothing else");
    json_decref(o);
    /* a missing mandatory property, the wrong @type, an obsolete RFC 8984 name */
    o = event_with("{\"start\":null,\"@type\":\"Evnt\"}");
    assert_reason(o, 0, NULL, "@type", "must be \"Event\", \"Task\" or \"Group\"");
    json_decref(o);
    o = event_with("{\"start\":null,\"replyTo\":{\"imip\":\"mailto:a@example.com\"}}");
    assert_reason(o, 0, NULL, "start", "required");
    assert_reason(o, 0, NULL, "replyTo", "use organizerCalendarAddress");
    json_decref(o);
    /* the one reason for what jscal_upgrade cannot convert */
    assert_non_null(
        strstr(jscal_upgrade_reason("participants/p1/sendTo"), "RFC 8984 sendTo is obsolete"));
    assert_non_null(strstr(jscal_upgrade_reason("recurrenceRules"), "one recurrenceRule"));
}

/* Issue 12 §2.4: the rules jscalendarbis-17 tightened hold for new data (JSCAL_BIS17);
 * without the flag (data stored before, imports) they are not applied. */
static void test_jscalendarbis17_tightened_rules_issue12_2_4(void **state)
{
    (void)state;
    struct {
        const char *patch, *path, *why;
    } cases[] = {
        /* §3.4.4: an organizer needs a participant with a calendarAddress */
        {"{\"organizerCalendarAddress\":\"mailto:o@example.com\"}", "organizerCalendarAddress",
         "needs a participant with a calendarAddress (JSCalendar 2.0 §3.4.4)"},
        {"{\"organizerCalendarAddress\":\"mailto:o@example.com\",\"participants\":{\"p\":"
         "{\"name\":\"P\"}}}",
         "organizerCalendarAddress", "§3.4.4"},
        /* §3.4.6: email needs calendarAddress, and is an addr-spec */
        {"{\"participants\":{\"p\":{\"email\":\"p@example.com\"}}}", "participants/p/email",
         "needs calendarAddress"},
        {"{\"participants\":{\"p\":{\"email\":\"p@example.com\"}}}",
         "participants/p/calendarAddress", "required when email is set"},
        {"{\"organizerCalendarAddress\":\"mailto:o@example.com\",\"participants\":{\"p\":"
         "{\"calendarAddress\":\"mailto:p@example.com\",\"email\":\"not an address\"}}}",
         "participants/p/email", "not an addr-spec"},
        /* §3.4.5: sentBy of the event */
        {"{\"sentBy\":\"s@example.com\"}", "sentBy", "needs organizerCalendarAddress"},
        /* §3.2.12: a CSS3 color name or #RRGGBB, nothing else */
        {"{\"color\":\"#abc\"}", "color", "not a CSS color"},
        {"{\"color\":\"no-such-colour\"}", "color", "not a CSS color"},
        {"{\"color\":\"rgb(1,2,3)\"}", "color", "#RRGGBB"},
        /* §3.4.6: delegatedTo keys are calendar addresses */
        {"{\"organizerCalendarAddress\":\"mailto:o@example.com\",\"participants\":{\"p\":"
         "{\"calendarAddress\":\"mailto:p@example.com\",\"delegatedTo\":{\"p2\":true}}}}",
         "participants/p/delegatedTo/p2", "a URI"},
        /* §7.4.2.1-2: obsolete and reserved properties */
        {"{\"localizations\":{\"de\":{\"title\":\"x\"}}}", "localizations", "reserved"},
        {"{\"locations\":{\"l\":{\"name\":\"x\",\"timeZone\":\"Europe/Berlin\"}}}",
         "locations/l/timeZone", "obsolete"},
        {"{\"links\":{\"k\":{\"href\":\"data:,x\",\"cid\":\"c@x\"}}}", "links/k/cid", "obsolete"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *o = event_with(cases[i].patch);
        assert_reason(o, JSCAL_BIS17, NULL, cases[i].path, cases[i].why);
        /* -08 rules alone (stored data): not these */
        assert_null(reason_of(o, 0, NULL, cases[i].path));
        json_decref(o);
    }
    /* §3.6.1: never null (a PatchObject null removes, so set it) */
    json_t *floating = J(base_event);
    json_object_set_new(floating, "timeZone", json_null());
    assert_reason(floating, JSCAL_BIS17, NULL, "timeZone", "never null");
    assert_null(reason_of(floating, 0, NULL, "timeZone"));
    json_decref(floating);
    /* what -17 allows */
    static const char *const good[] = {
        "{\"color\":\"#A0b1C2\"}", "{\"color\":\"DarkSlateGrey\"}",
        "{\"organizerCalendarAddress\":\"mailto:o@example.com\",\"sentBy\":\"s@example.com\","
        "\"participants\":{\"p\":{\"calendarAddress\":\"mailto:p@example.com\",\"email\":"
        "\"p@example.com\",\"roles\":{\"owner\":true},\"delegatedTo\":{\"mailto:d@example.com\":"
        "true}}}}",
        "{\"participants\":{\"p\":{\"name\":\"no address, no organizer\"}}}", NULL};
    for (int i = 0; good[i]; i++) {
        json_t *o = event_with(good[i]), *inv = NULL;
        if (jscal_validate_why(o, JSCAL_BIS17, NULL, &inv, NULL)) {
            char *d = json_dumps(inv, 0);
            print_error("%s: %s\n", good[i], d);
            free(d);
            fail();
        }
        json_decref(o);
    }
}

/* Issue 12 §2.4, the decision for stored data: an update is checked by the -17 rules only
 * in what it changes; what it leaves as stored (under the -08 rules) stays valid. */
static void test_jscalendarbis17_update_checks_what_changes_issue12_2_4(void **state)
{
    (void)state;
    json_t *old =
        event_with("{\"color\":\"#abc\",\"organizerCalendarAddress\":"
                   "\"mailto:o@example.com\",\"participants\":{\"o\":{\"calendarAddress\":"
                   "\"mailto:o@example.com\"},\"p\":{\"email\":\"p@example.com\"}},"
                   "\"recurrenceRule\":{\"frequency\":\"daily\"}}");
    assert_non_null(reason_of(old, JSCAL_BIS17, NULL, "color")); /* as new data: refused */
    /* a new title: valid */
    json_t *n = json_deep_copy(old);
    json_object_set_new(n, "title", json_string("new title"));
    assert_int_equal(jscal_validate_why(n, JSCAL_BIS17, old, NULL, NULL), 0);
    /* another participant's RSVP, an override: valid */
    json_object_set_new(json_object_get(json_object_get(n, "participants"), "o"),
                        "participationStatus", json_string("accepted"));
    json_object_set_new(n, "recurrenceOverrides",
                        J("{\"2020-01-16T13:00:00\":{\"title\":\"moved\"}}"));
    assert_int_equal(jscal_validate_why(n, JSCAL_BIS17, old, NULL, NULL), 0);
    /* a changed color, an override that sets one: checked */
    json_object_set_new(n, "color", json_string("#abd"));
    assert_reason(n, JSCAL_BIS17, old, "color", "not a CSS color");
    json_object_set_new(n, "color", json_string("#abc"));
    json_object_set_new(n, "recurrenceOverrides",
                        J("{\"2020-01-16T13:00:00\":{\"color\":\"#123\"}}"));
    assert_reason(n, JSCAL_BIS17, old, "recurrenceOverrides/2020-01-16T13:00:00/color",
                  "not a CSS color");
    json_object_del(n, "recurrenceOverrides");
    /* a changed email of the participant without calendarAddress: checked */
    json_object_set_new(json_object_get(json_object_get(n, "participants"), "p"), "email",
                        json_string("q@example.com"));
    assert_reason(n, JSCAL_BIS17, old, "participants/p/email", "needs calendarAddress");
    json_decref(n);
    json_decref(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datetimes),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_ids_and_uuidv5),
        cmocka_unit_test(test_patch),
        cmocka_unit_test(test_validate_paths),
        cmocka_unit_test(test_validate_task_group_normalize),
        cmocka_unit_test(test_timezones),
        cmocka_unit_test(test_json_writer),
        cmocka_unit_test(test_override_ignored_keys),
        cmocka_unit_test(test_issue12_1_8_reason_per_path),
        cmocka_unit_test(test_jscalendarbis17_tightened_rules_issue12_2_4),
        cmocka_unit_test(test_jscalendarbis17_update_checks_what_changes_issue12_2_4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
