/*
 * calendar_event.c — the CalendarEvent type (draft-ietf-jmap-calendars-27 §5): a
 * JSCalendar 2.0 Event plus id, baseEventId, calendarIds, isDraft, isOrigin,
 * utcStart/utcEnd and useDefaultAlerts. This file has the descriptor, validation
 * and the server-set rules of /set (§5.9), the /get view (§5.7, default alerts
 * §6.1), synthetic instance ids (§5.5) and the side index for queries. /get's
 * loading is in calendar_event_get.c; /query, /queryChanges and /parse are in
 * calendar_event_query.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "formats/jscalendar/jscal.h"
#include "formats/jscalendar/jscal_util.h"
#include "formats/json/patch.h"
#include "formats/recurrence/recur.h"
#include "formats/timezone/tz.h"
#include "jmap/blob.h"
#include "jmap/engine.h"
#include "types/calendar_alert.h"
#include "types/calendar_event.h"
#include "types/event_cache.h"
#include "types/instances.h"
#include "types/share.h"
#include "types/subscription.h"
#include "types/types.h"
#include "util/util.h"

#define MAX_CALENDARS_PER_EVENT 32
#define MAX_PARTICIPANTS 1000

/* ---- the descriptor's data ----------------------------------------------------------- */

static const struct jprop event_props[] = {
    {"id", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"baseEventId", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"calendarIds", JP_REQUIRED, NULL},
    {"isDraft", 0, "false"},
    {"isOrigin", JP_SERVER_SET, NULL},
    {"@type", 0, "\"Event\""},
    {NULL, 0, NULL},
};

static const struct argspec event_get_args[] = {
    {"recurrenceOverridesBefore", ARG_STRING, ARG_NULLABLE},
    {"recurrenceOverridesAfter", ARG_STRING, ARG_NULLABLE},
    {"reduceParticipants", ARG_BOOL, 0},
    {"timeZone", ARG_STRING, 0},
    {NULL, 0, 0},
};

static const struct argspec event_set_args[] = {
    {"sendSchedulingMessages", ARG_BOOL, 0},
    {NULL, 0, 0},
};

/* JMAP-only properties: not part of the JSCalendar object the validator sees. */
static const char *const jmap_only[] = {"id",        "baseEventId", "calendarIds", "isDraft",
                                        "isOrigin",  "utcStart",    "utcEnd",      NULL};
/* set by the server or by the container, not the per-user change mayUpdatePrivate allows */
static const char *const server_kept[] = {"calendarIds", "isDraft", "sequence", "isOrigin", NULL};
/* §5, §5.1: properties that MUST NOT appear in recurrenceOverrides */
static const char *const base_only[] = {"isDraft",        "mayInviteSelf", "mayInviteOthers",
                                        "hideAttendees",  "utcStart",      "utcEnd",
                                        "calendarIds",    "method",        "id",
                                        "baseEventId",    "isOrigin",      NULL};

static void add_invalid(json_t *invalid, const char *path)
{
    size_t i;
    json_t *v;
    json_array_foreach(invalid, i, v)
    {
        if (strcmp(json_string_value(v), path) == 0)
            return;
    }
    json_array_append_new(invalid, json_string(path));
}

/* ---- times ------------------------------------------------------------------------------ */

static icaltimezone *zone_for(const json_t *obj, const char *tzid, const char *float_tz,
                              icaltimezone **owned)
{
    *owned = NULL;
    int known = 0;
    if (!tzid)
        tzid = float_tz;
    if (!tzid || strcmp(tzid, "Etc/UTC") == 0 || strcmp(tzid, "UTC") == 0)
        return NULL;
    icaltimezone *z = recur_zone_lookup(obj, tzid, owned, &known);
    return known ? z : NULL;
}

int event_local_to_utc(const json_t *obj, const char *ldt, const char *tzid, const char *float_tz,
                       int64_t *out)
{
    jscal_ldt t;
    if (!ldt || jscal_ldt_parse(ldt, &t) != 0)
        return -1;
    icaltimezone *owned;
    icaltimezone *z = zone_for(obj, tzid, float_tz, &owned);
    *out = tz_local_to_utc(z, jscal_ldt_to_secs(&t));
    if (owned)
        icaltimezone_free(owned, 1);
    return 0;
}

/* RFC 8984 §1.4.6 (jscalendarbis-17 §1.4.6): the weeks and days of a duration are
 * nominal, added to the start on the wall clock of its zone; the hours, minutes and
 * seconds are exact, added after that. So P1D from 2024-03-30T12:00 Europe/Berlin ends
 * at 2024-03-31T12:00 local, 10:00Z: 23 hours across the change to summer time. The
 * expansion (recur.c) computes occurrence ends the same way. */
int event_utc_span(const json_t *obj, const char *float_tz, int64_t *start, int64_t *end)
{
    const char *tzid = json_string_value(json_object_get(obj, "timeZone"));
    jscal_ldt t;
    const char *ldt = json_string_value(json_object_get(obj, "start"));
    if (!ldt || jscal_ldt_parse(ldt, &t) != 0)
        return -1;
    jscal_dur d = {0};
    const char *dur = json_string_value(json_object_get(obj, "duration"));
    if (dur && jscal_dur_parse(dur, 0, &d) != 0)
        return -1;
    icaltimezone *owned;
    icaltimezone *z = zone_for(obj, tzid, float_tz, &owned);
    int64_t local = jscal_ldt_to_secs(&t);
    *start = tz_local_to_utc(z, local);
    *end = tz_local_to_utc(z, local + ((int64_t)d.weeks * 7 + d.days) * 86400) +
           (int64_t)d.hours * 3600 + (int64_t)d.minutes * 60 + d.seconds;
    if (owned)
        icaltimezone_free(owned, 1);
    return 0;
}

/* UTC secs -> LocalDateTime in tzid (or UTC). */
static void utc_to_local_ldt(const json_t *obj, int64_t utc, const char *tzid, char out[20])
{
    icaltimezone *owned;
    icaltimezone *z = zone_for(obj, tzid, NULL, &owned);
    jscal_ldt t;
    jscal_secs_to_ldt(tz_utc_to_local(z, utc), &t);
    jscal_ldt_format(&t, 0, out);
    if (owned)
        icaltimezone_free(owned, 1);
}

/* ---- instances (§5.5) ------------------------------------------------------------------------ */

void event_instance_id(const char *base, const char *rid, char out[96])
{
    size_t n = strlen(base);
    if (n > 96 - 17)
        n = 96 - 17;
    memcpy(out, base, n);
    out[n++] = '_';
    for (const char *p = rid; *p && n < 95; p++)
        if (*p != '-' && *p != ':')
            out[n++] = *p;
    out[n] = 0;
}

bool event_instance_parse(const char *id, char base[64], char rid[20])
{
    const char *u = strrchr(id, '_');
    if (!u || u == id || (size_t)(u - id) >= 64 || strlen(u + 1) != 15 || u[9] != 'T')
        return false;
    const char *c = u + 1;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (c[i] < '0' || c[i] > '9'))
            return false;
    memcpy(base, id, (size_t)(u - id)); /* a /get of a month parses thousands (issue 21) */
    base[u - id] = 0;
    /* YYYYMMDDTHHMMSS -> YYYY-MM-DDTHH:MM:SS */
    memcpy(rid, c, 4);
    memcpy(rid + 5, c + 4, 2);
    memcpy(rid + 8, c + 6, 2);
    memcpy(rid + 11, c + 9, 2);
    memcpy(rid + 14, c + 11, 2);
    memcpy(rid + 17, c + 13, 2);
    rid[4] = rid[7] = '-';
    rid[10] = 'T';
    rid[13] = rid[16] = ':';
    rid[19] = 0;
    jscal_ldt t;
    return jscal_ldt_parse(rid, &t) == 0;
}

const char *event_instance_base(const char *id, char buf[96])
{
    char base[64], rid[20];
    if (!event_instance_parse(id, base, rid))
        return id;
    snprintf(buf, 96, "%s", base);
    return buf;
}

static bool is_recurring(const json_t *obj)
{
    return json_is_object(json_object_get(obj, "recurrenceRule")) ||
           json_object_size(json_object_get(obj, "recurrenceOverrides")) > 0;
}

/* Issue 21: a /set checks a recurring series' bounds (validation: expandable within
 * the limits) and then indexes them: each pass ~1.5 M instructions for a weekly
 * series. The bounds depend on these properties only; the last result per thread
 * is kept under their text, so the second pass is a comparison. */
static const char *const bounds_props[] = {"@type",
                                           "start",
                                           "due",
                                           "timeZone",
                                           "duration",
                                           "showWithoutTime",
                                           "recurrenceRule",
                                           "recurrenceRules",
                                           "excludedRecurrenceRules",
                                           "recurrenceOverrides",
                                           "recurrenceId",
                                           "recurrenceIdTimeZone",
                                           "iCalendar",
                                           NULL};
struct bounds_memo {
    char *key;
    int rc, unbounded;
    int64_t first, last;
    char *err;
    /* the last account's identity addresses (account_addresses) */
    struct {
        const struct store_conn *c;
        char account[64];
        int64_t state;
        json_t *addresses;
        char *def;
    } ids;
};
static pthread_key_t memo_key;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;

static void memo_free(void *p)
{
    struct bounds_memo *m = p;
    free(m->key);
    free(m->err);
    json_decref(m->ids.addresses);
    free(m->ids.def);
    free(m);
}

static void memo_init(void)
{
    pthread_key_create(&memo_key, memo_free);
}

/* The calling thread's memo (freed when the thread ends). */
static struct bounds_memo *memo_get(void)
{
    pthread_once(&memo_once, memo_init);
    struct bounds_memo *m = pthread_getspecific(memo_key);
    if (!m) {
        m = xcalloc(1, sizeof *m);
        pthread_setspecific(memo_key, m);
    }
    return m;
}

static int series_bounds(const json_t *obj, int64_t *first, int64_t *last, int *unbounded,
                         char **err)
{
    recur_limits lim = {0, 0};
    if (!is_recurring(obj))
        return recur_series_bounds(obj, "Etc/UTC", &lim, first, last, unbounded, err);
    json_t *sub = json_object();
    for (const char *const *p = bounds_props; *p; p++) {
        json_t *v = json_object_get(obj, *p);
        if (v)
            json_object_set(sub, *p, v);
    }
    char *key = json_dumps(sub, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(sub);
    struct bounds_memo *m = memo_get();
    if (key && m->key && strcmp(key, m->key) == 0) {
        free(key);
        *first = m->first;
        *last = m->last;
        *unbounded = m->unbounded;
        *err = m->err ? xstrdup(m->err) : NULL;
        return m->rc;
    }
    int rc = recur_series_bounds(obj, "Etc/UTC", &lim, first, last, unbounded, err);
    free(m->key);
    free(m->err);
    m->key = key;
    m->rc = rc;
    m->first = *first;
    m->last = *last;
    m->unbounded = *unbounded;
    m->err = *err ? xstrdup(*err) : NULL;
    return rc;
}

/* Alert acknowledgements of an instance go to the base event's alert, never into an
 * override (§6.2). */
static void acknowledged_to_base(const json_t *base, json_t *override, json_t *base_patch)
{
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(override, tmp, key, v)
    {
        char alert[256];
        if (sscanf(key, "alerts/%255[^/]/acknowledged", alert) == 1 &&
            json_object_get(json_object_get(base, "alerts"), alert)) {
            json_object_set(base_patch, key, v);
            json_object_del(override, key);
        }
    }
}

/* Properties that describe an instance rather than the series (beside those
 * instances.c strips for every type). */
static const char *const instance_only[] = {"isOrigin", "utcStart", "utcEnd", NULL};
const struct instance_kind event_instance_kind = {&calendar_event_type, "baseEventId", base_only,
                                                  instance_only};

json_t *event_instance(const json_t *base, const char *base_id, const char *rid)
{
    return instance_build(&event_instance_kind, base, base_id, rid, false);
}

/* §5.9: an update of an instance is an update of its override on the base event;
 * a destroy excludes the instance (instances.c). */
static json_t *event_synthetic_update(struct jset *s, const char *id, json_t *patch,
                                      char **base_out, json_t **patch_out)
{
    return instance_update_split(&event_instance_kind, s, id, patch, base_out, patch_out,
                                 acknowledged_to_base);
}

/* ---- validation and server-set properties (§5.9) ------------------------------------------- */

struct identities {
    json_t *addresses; /* lowercased calendarAddress -> true */
    const char *first;
};

static int collect_identity(const char *id, json_t *obj, void *ud)
{
    struct identities *ids = ud;
    const char *addr = json_string_value(json_object_get(obj, "calendarAddress"));
    if (addr) {
        char *low = jscal_strlower(addr);
        json_object_set_new(ids->addresses, low, json_true());
        free(low);
    }
    return 0;
}

/* The account's ParticipantIdentity addresses; and the default one in *def. */
static json_t *read_addresses(struct store_conn *c, const char *account, char **def)
{
    struct identities ids = {json_object(), NULL};
    store_object_foreach(c, account, "ParticipantIdentity", collect_identity, &ids);
    if (def) {
        *def = NULL;
        const char *k;
        json_t *v;
        json_object_foreach(ids.addresses, k, v)
        {
            if (!*def)
                *def = xstrdup(k);
        }
    }
    return ids.addresses;
}

/* read_addresses, the result a new object the caller owns. Issue 21: validating an
 * event read and parsed every identity (6% of an import's instructions), so with
 * `kept` the last account's are kept per thread under the identities' state, read in
 * the caller's transaction: any write of an identity bumps it (jmap_object_write),
 * and the next call reads them again. Only for callers that never write identities in
 * the same transaction (an import): a write rolled back gives its state number to the
 * next one, with other identities. */
static json_t *account_addresses(struct store_conn *c, const char *account, char **def,
                                 bool kept)
{
    int64_t state = kept ? store_state_get(c, account, "ParticipantIdentity") : -1;
    if (state < 0)
        return read_addresses(c, account, def);
    struct bounds_memo *m = memo_get();
    if (!m->ids.addresses || m->ids.c != c || m->ids.state != state ||
        strcmp(m->ids.account, account) != 0) {
        json_decref(m->ids.addresses);
        free(m->ids.def);
        m->ids.addresses = read_addresses(c, account, &m->ids.def);
        m->ids.c = c;
        m->ids.state = state;
        snprintf(m->ids.account, sizeof m->ids.account, "%s", account);
    }
    if (def)
        *def = m->ids.def ? xstrdup(m->ids.def) : NULL;
    return json_copy(m->ids.addresses);
}

static bool is_mine(json_t *addresses, const char *addr)
{
    if (!addr)
        return false;
    char *low = jscal_strlower(addr);
    bool mine = json_object_get(addresses, low) != NULL;
    free(low);
    return mine;
}

struct uid_clash {
    const char *self, *rid;
    struct store_conn *c;
    const char *account;
    bool clash;
    char existing[64];
};

static int uid_cb(const char *id, void *ud)
{
    struct uid_clash *u = ud;
    if (u->self && strcmp(id, u->self) == 0)
        return 0;
    json_t *other = store_object_get(u->c, u->account, calendar_event_type.name, id);
    const char *orid = json_string_value(json_object_get(other, "recurrenceId"));
    if (other && ((!orid && !u->rid) || (orid && u->rid && strcmp(orid, u->rid) == 0))) {
        u->clash = true;
        snprintf(u->existing, sizeof u->existing, "%s", id);
    }
    json_decref(other);
    return u->clash;
}

static void check_calendar_ids(struct jset *s, json_t *obj, json_t *invalid)
{
    struct jmap_req *r = jset_req(s);
    json_t *ids = json_object_get(obj, "calendarIds");
    if (!json_is_object(ids) || json_object_size(ids) == 0 ||
        json_object_size(ids) > MAX_CALENDARS_PER_EVENT) {
        add_invalid(invalid, "calendarIds");
        return;
    }
    /* creation references ("#c1") become the created calendars' ids */
    json_t *resolved = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(ids, key, v)
    {
        const char *real = jmap_resolve_id(r, key);
        json_t *cal = real ? store_object_get(jmap_req_conn(r), jset_account(s), "Calendar", real) : NULL;
        if (!json_is_true(v) || !cal) {
            char path[320];
            snprintf(path, sizeof path, "calendarIds/%s", key);
            add_invalid(invalid, path);
        } else {
            json_object_set_new(resolved, real, json_true());
        }
        json_decref(cal);
    }
    json_object_set_new(obj, "calendarIds", resolved);
}

/* §5.9 utcStart/utcEnd on /set: translated into start (and timeZone) / duration. */
static void apply_utc_times(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    json_t *us = json_object_get(obj, "utcStart"), *ue = json_object_get(obj, "utcEnd");
    if (!us && !ue)
        return;
    int64_t start = 0, end = 0;
    if ((us && (!json_is_string(us) || util_utc_parse(json_string_value(us), &start))) ||
        (ue && (!json_is_string(ue) || util_utc_parse(json_string_value(ue), &end)))) {
        add_invalid(invalid, us ? "utcStart" : "utcEnd");
        return;
    }
    /* MUST NOT be set together with start / duration (create: the client sent both) */
    if (!old && us && json_object_get(obj, "start"))
        add_invalid(invalid, "utcStart");
    if (!old && ue && json_object_get(obj, "duration"))
        add_invalid(invalid, "utcEnd");
    if (json_array_size(invalid))
        return;
    if (!json_is_string(json_object_get(obj, "timeZone"))) {
        /* the calendars' common time zone, else Etc/UTC */
        char common[80] = "";
        bool same = true;
        const char *cid;
        json_t *v;
        json_object_foreach(json_object_get(obj, "calendarIds"), cid, v)
        {
            json_t *cal = store_object_get(jset_conn(s), jset_account(s), "Calendar", cid);
            const char *tz = json_string_value(json_object_get(cal, "timeZone"));
            if (!tz || (common[0] && strcmp(common, tz) != 0))
                same = false;
            if (!common[0] && tz)
                snprintf(common, sizeof common, "%s", tz);
            json_decref(cal);
        }
        json_object_set_new(obj, "timeZone", json_string(same && common[0] ? common : "Etc/UTC"));
    }
    const char *tzid = json_string_value(json_object_get(obj, "timeZone"));
    if (us) {
        char ldt[20];
        utc_to_local_ldt(obj, start, tzid, ldt);
        json_object_set_new(obj, "start", json_string(ldt));
    } else if (event_local_to_utc(obj, json_string_value(json_object_get(obj, "start")), tzid,
                                  NULL, &start)) {
        add_invalid(invalid, "utcEnd");
        return;
    }
    if (ue) {
        if (end < start) {
            add_invalid(invalid, "utcEnd");
            return;
        }
        /* exact time only: nominal days would differ from the span across a
         * daylight-saving change (RFC 8984 §1.4.6) */
        int64_t secs = end - start;
        jscal_dur d = {
            .sign = 1, .hours = secs / 3600, .minutes = secs % 3600 / 60, .seconds = secs % 60};
        char dur[64];
        jscal_dur_format(&d, dur);
        json_object_set_new(obj, "duration", json_string(dur));
    }
    json_object_del(obj, "utcStart");
    json_object_del(obj, "utcEnd");
}

/* §5.3: attachments may name a blob of the account instead of an href */
static void check_blobs(struct jset *s, json_t *obj, json_t *invalid)
{
    const char *lid;
    json_t *link;
    json_object_foreach(json_object_get(obj, "links"), lid, link)
    {
        json_t *blob = json_object_get(link, "blobId");
        if (!blob)
            continue;
        const char *bid = json_is_string(blob) ? jmap_resolve_id(jset_req(s), json_string_value(blob))
                                               : NULL;
        if (!bid || store_blob_size(jset_conn(s), jset_account(s), bid) < 0) {
            char path[320];
            snprintf(path, sizeof path, "links/%s/blobId", lid);
            add_invalid(invalid, path);
        } else {
            json_object_set_new(link, "blobId", json_string(bid));
        }
    }
}

/* Runs the JSCalendar validator on obj without its JMAP-only properties; each path
 * gets the validator's reason (issue 12 §1.8). old is the stored version of an update
 * (JSCAL_BIS17 checks only what changed from it), NULL for a create. */
static void check_jscalendar(struct jset *s, json_t *obj, const json_t *old, int flags,
                             json_t *invalid)
{
    json_t *js = json_copy(obj);
    for (const char *const *k = jmap_only; *k; k++)
        json_object_del(js, *k);
    /* §5.3: a link may name a blob instead of an href */
    json_t *links = json_object_get(js, "links");
    if (json_is_object(links)) {
        json_t *copy = json_deep_copy(links);
        const char *lid;
        json_t *link;
        json_object_foreach(copy, lid, link)
        {
            if (json_is_object(link) && json_object_get(link, "blobId")) {
                json_object_del(link, "blobId");
                if (!json_object_get(link, "href"))
                    json_object_set_new(link, "href", json_string("data:,"));
            }
        }
        json_object_set_new(js, "links", copy);
    }
    json_t *bad = NULL, *why = NULL;
    if (jscal_validate_why(js, flags, old, &bad, &why) != 0) {
        size_t i;
        json_t *v;
        json_array_foreach(bad, i, v)
        {
            jset_invalid(s, invalid, json_string_value(v), "%s",
                         json_string_value(json_array_get(why, i)));
        }
    }
    json_decref(bad);
    json_decref(why);
    json_decref(js);
}

static bool has_calendar_address(const json_t *participants)
{
    const char *k;
    json_t *p;
    json_object_foreach((json_t *)participants, k, p)
    {
        if (json_is_string(json_object_get(p, "calendarAddress")))
            return true;
    }
    return false;
}

/* (uid, recurrenceId) identifies an event within the account (§5). */
static json_t *check_uid(struct jset *s, struct store_conn *c, const char *account, json_t *obj,
                         json_t *old, json_t *invalid)
{
    struct uid_clash u = {old ? json_string_value(json_object_get(old, "id")) : NULL,
                          json_string_value(json_object_get(obj, "recurrenceId")), c, account,
                          false, ""};
    store_index_find_uid(c, account, calendar_event_type.name,
                         json_string_value(json_object_get(obj, "uid")), uid_cb, &u);
    /* RFC 8620 §5.4: a /copy onto an existing event is alreadyExists, with its id */
    if (u.clash && s && json_object_get(jset_args(s), "fromAccountId")) {
        json_t *e = jmap_seterror("alreadyExists", "an event with this uid exists");
        json_object_set_new(e, "existingId", json_string(u.existing));
        return e;
    }
    if (u.clash)
        jset_invalid(s, invalid, "uid", "another event of the account has this uid and recurrenceId");
    if (old && !json_equal(json_object_get(old, "uid"), json_object_get(obj, "uid")))
        jset_invalid(s, invalid, "uid", "the uid of an event never changes");
    return NULL;
}

/* Validates and completes one event; shared by /set, /copy and import. The uid
 * check (a read of other events) is left out when check_uid_now is false: the
 * caller runs it under the write lock. */
static json_t *validate_event(struct jset *s, struct store_conn *c, const char *account,
                              json_t *obj, json_t *old, json_t *invalid, int jscal_flags,
                              bool check_uid_now)
{
    /* issue 12 §2.3: RFC 8984 spellings become JSCalendar 2.0 or are invalid */
    json_t *legacy = json_array();
    jscal_upgrade(obj, legacy);
    size_t li;
    json_t *lv;
    json_array_foreach(legacy, li, lv) jset_invalid(s, invalid, json_string_value(lv), "%s",
                                                    jscal_upgrade_reason(json_string_value(lv)));
    json_decref(legacy);
    /* jscalendarbis-17 §4.1 "version": an Event without an enclosing Group MUST set
     * it; what is stored is JSCalendar 2.0 once upgraded (issue 12 §2.4) */
    json_object_set_new(obj, "version", json_string("2.0"));
    if (json_object_get(obj, "method"))
        jset_invalid(s, invalid, "method", "an event in a calendar has no method (§5)");
    json_t *type = json_object_get(obj, "@type");
    if (!json_is_string(type) || strcmp(json_string_value(type), "Event") != 0)
        jset_invalid(s, invalid, "@type", "must be \"Event\"");
    if (s)
        check_calendar_ids(s, obj, invalid);
    json_t *draft = json_object_get(obj, "isDraft");
    if (!json_is_boolean(draft) ||
        (old && json_is_false(json_object_get(old, "isDraft")) && json_is_true(draft)))
        jset_invalid(s, invalid, "isDraft", /* only true on creation, never back to true */
                     "a Boolean that cannot become true again");
    const char *ok;
    json_t *ov;
    json_object_foreach(json_object_get(obj, "recurrenceOverrides"), ok, ov)
    {
        const char *pk;
        json_t *pv;
        json_object_foreach(ov, pk, pv)
        {
            char top[64];
            snprintf(top, sizeof top, "%.*s", (int)strcspn(pk, "/"), pk);
            if (types_in_list(base_only, top)) {
                char path[400];
                snprintf(path, sizeof path, "recurrenceOverrides/%s/%s", ok, pk);
                jset_invalid(s, invalid, path, "only the base event has it (§5)");
            }
        }
    }
    if (json_object_size(json_object_get(obj, "participants")) > MAX_PARTICIPANTS)
        jset_invalid(s, invalid, "participants", "more than %d participants", MAX_PARTICIPANTS);
    if (s)
        apply_utc_times(s, obj, old, invalid);
    if (s)
        check_blobs(s, obj, invalid);
    if (json_array_size(invalid))
        return NULL;

    /* §5.9: if omitted, the server sets @type (a default), uid and created */
    if (!json_object_get(obj, "uid")) {
        char uuid[37];
        util_uuid4(uuid);
        json_object_set_new(obj, "uid", json_string(uuid));
    }
    char *def_addr = NULL;
    json_t *mine = account_addresses(c, account, &def_addr, s == NULL);
    /* organizer: set when participants with a calendarAddress appear and none is given
     * (jscalendarbis-17 §3.4.4: an organizer needs such a participant) */
    if (has_calendar_address(json_object_get(obj, "participants")) &&
        !json_object_get(obj, "organizerCalendarAddress") && def_addr)
        json_object_set_new(obj, "organizerCalendarAddress", json_string(def_addr));
    const char *org = json_string_value(json_object_get(obj, "organizerCalendarAddress"));
    bool origin = !org || is_mine(mine, org);
    json_object_set_new(obj, "isOrigin", json_boolean(origin));
    free(def_addr);
    json_decref(mine);

    char now[21];
    util_utc_format(util_now(), now);
    if (!old && !json_object_get(obj, "created"))
        json_object_set_new(obj, "created", json_string(now));
    if (origin) {
        bool changed = !old || !json_equal(obj, old);
        /* §5.4: per-user values of single occurrences are per-user changes too */
        if (old && changed && types_changed_beyond(obj, old, types_per_user, server_kept) &&
            !share_only_per_user(SHARE_CALENDAR, obj, old)) {
            json_int_t seq = json_integer_value(json_object_get(old, "sequence"));
            json_t *given = json_object_get(obj, "sequence");
            if (!json_is_integer(given) || json_integer_value(given) <= seq)
                json_object_set_new(obj, "sequence", json_integer(seq + 1));
        }
        if (changed) {
            json_object_set_new(obj, "updated", json_string(now));
            const char *created = json_string_value(json_object_get(obj, "created"));
            if (!old && created && strcmp(created, now) > 0)
                json_object_set_new(obj, "created", json_string(now));
        }
    }
    check_jscalendar(s, obj, old, jscal_flags, invalid);
    if (json_array_size(invalid))
        return NULL;
    /* Issue 19 §1: the series must be expandable within the limits every query uses
     * (bounded by instances and by the candidates examined), else it is refused here,
     * with the reason, instead of failing every later query. For a create this runs
     * in the precheck, before the write lock. */
    if (is_recurring(obj)) {
        int64_t first = 0, last = 0;
        int unbounded = 0;
        char *err = NULL;
        int rc = series_bounds(obj, &first, &last, &unbounded, &err);
        json_t *e = NULL;
        if (rc == RECUR_ERR_LIMIT)
            e = jmap_seterror_props(json_pack("[s]", "recurrenceRule"), err);
        free(err);
        if (e)
            return e;
    }
    if (!check_uid_now)
        return NULL;
    return check_uid(s, c, account, obj, old, invalid);
}

/* The whole check of an event on /set and /copy; with check_uid_now false, all
 * but the uid check (the create's precheck, before the write lock). */
static json_t *event_check(struct jset *s, json_t *obj, json_t *old, json_t *invalid,
                           bool check_uid_now)
{
    struct jmap_req *r = jset_req(s);
    /* §5.9: privacy other than public only in calendars of the user's own account */
    const char *privacy = json_string_value(json_object_get(obj, "privacy"));
    const struct store_access *acct = jset_access(s);
    bool personal = acct && acct->is_personal;
    if (privacy && strcmp(privacy, "public") != 0 && !personal)
        add_invalid(invalid, "privacy");
    if (!types_participants_within(obj, TYPES_MAX_PARTICIPANTS)) /* §1.5.1 */
        jset_invalid(s, invalid, "participants", "more than maxParticipantsPerEvent (%d)",
                     TYPES_MAX_PARTICIPANTS);
    /* issue 12 §2.4: the rules jscalendarbis-17 tightened, for what the /set writes */
    json_t *err = validate_event(s, jmap_req_conn(r), jset_account(s), obj, old, invalid,
                                 JSCAL_ALLOW_MISSING_SERVER_SET | JSCAL_BIS17, check_uid_now);
    if (err || json_array_size(invalid))
        return err;
    return NULL;
}

/* A create's checks before the write lock (issue 19 §4): JSCalendar validation
 * and everything else that reads no more than a read transaction shows. */
static json_t *event_precheck(struct jset *s, json_t *obj, json_t *invalid)
{
    return event_check(s, obj, NULL, invalid, false);
}

/* Under the write lock: for a prechecked create, what may have changed since:
 * its calendars still exist, and no other event took its uid; else everything. */
static json_t *event_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    json_t *denied = share_member_check(s, SHARE_CALENDAR, obj, old); /* §4 myRights */
    if (denied)
        return denied;
    json_t *feed_only = subscription_event_check(s, obj, old); /* issue 17 §1 */
    if (feed_only)
        return feed_only;
    json_t *err;
    if (old || !jset_prechecked(s)) {
        err = event_check(s, obj, old, invalid, true);
    } else {
        check_calendar_ids(s, obj, invalid);
        err = json_array_size(invalid) ? NULL
                                       : check_uid(s, jset_conn(s), jset_account(s), obj, NULL,
                                                   invalid);
    }
    if (err || json_array_size(invalid))
        return err;
    err = scheduling_check(s, obj, old); /* §5.9.2 sendSchedulingMessages */
    /* §5.4: the owner's write of per-user properties only keeps the shared `updated` */
    if (!err && old && !share_filtered(jset_access(s)))
        share_owner_updated(jset_conn(s), SHARE_CALENDAR, jset_account(s), obj, old);
    return err;
}

static json_t *event_destroy(struct jset *s, const char *id, json_t *old)
{
    json_t *denied = share_member_check(s, SHARE_CALENDAR, NULL, old); /* §4 myRights */
    if (denied)
        return denied;
    json_t *feed_only = subscription_event_check(s, NULL, old); /* issue 17 §1 */
    if (feed_only)
        return feed_only;
    json_t *err = scheduling_check(s, NULL, old); /* §5.9.2: CANCEL, or REPLY */
    if (!err)
        subscription_note_destroyed(s, old); /* its uid, for feeds' STATUS:DELETED */
    return err;
}

/* ---- the side index --------------------------------------------------------------------------- */

/* Text of one object (base or override patch) into the six index fields. */
_Static_assert(EVENT_TEXT_FIELDS <= STORE_TEXT_FIELDS, "the store indexes six text fields");

static void gather_text(json_t *obj, struct buf f[STORE_TEXT_FIELDS])
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (strcmp(k, "title") == 0)
            types_add_text(&f[EVENT_TEXT_TITLE], v);
        else if (strcmp(k, "description") == 0)
            types_add_text(&f[EVENT_TEXT_DESCRIPTION], v);
        else if (strcmp(k, "locations") == 0 || strncmp(k, "locations/", 10) == 0) {
            const char *lk;
            json_t *loc;
            json_t *map = strcmp(k, "locations") == 0 ? v : NULL;
            json_object_foreach(map, lk, loc)
            {
                types_add_text(&f[EVENT_TEXT_LOCATION], json_object_get(loc, "name"));
                types_add_text(&f[EVENT_TEXT_LOCATION], json_object_get(loc, "description"));
            }
            if (!map && json_is_string(v))
                types_add_text(&f[EVENT_TEXT_LOCATION], v);
        } else if (strcmp(k, "participants") == 0) {
            const char *pk;
            json_t *p;
            json_object_foreach(v, pk, p)
            {
                json_t *roles = json_object_get(p, "roles");
                bool owner = json_is_true(json_object_get(roles, "owner"));
                bool attendee = !roles || json_is_true(json_object_get(roles, "attendee"));
                for (int w = 0; w < 2; w++) {
                    if (!(w == 0 ? owner : attendee))
                        continue;
                    types_add_text(&f[3 + w], json_object_get(p, "name"));
                    types_add_text(&f[3 + w], json_object_get(p, "email"));
                    types_add_text(&f[3 + w], json_object_get(p, "calendarAddress"));
                }
            }
        } else if (strcmp(k, "keywords") == 0 || strcmp(k, "categories") == 0) {
            const char *kk;
            json_t *kv;
            json_object_foreach(v, kk, kv)
            {
                if (f[5].len)
                    buf_puts(&f[EVENT_TEXT_BODY], " ");
                buf_puts(&f[EVENT_TEXT_BODY], kk);
            }
        } else if (strcmp(k, "virtualLocations") == 0) {
            const char *vk;
            json_t *vl;
            json_object_foreach(v, vk, vl)
            {
                types_add_text(&f[EVENT_TEXT_BODY], json_object_get(vl, "name"));
                types_add_text(&f[EVENT_TEXT_BODY], json_object_get(vl, "description"));
            }
        }
    }
}

/* The calendars the event is shown in, in its index order (store_members_put; issue 14:
 * a sharee's sorted page reads the calendars they read): none for a secret event
 * (calendars-27 §5.7: it does not exist for anyone but the owner). */
static int event_members_put(struct store_conn *c, const char *account, const char *id, json_t *obj,
                             const struct store_index *ix)
{
    const char *privacy = json_string_value(json_object_get(obj, "privacy"));
    json_t *cals =
        privacy && strcmp(privacy, "secret") == 0 ? NULL : json_object_get(obj, "calendarIds");
    const char *v[64], *cid;
    size_t n = 0;
    json_t *x;
    json_object_foreach(cals, cid, x)
    {
        if (json_is_true(x) && n < sizeof v / sizeof v[0])
            v[n++] = cid;
    }
    return store_members_put(c, account, calendar_event_type.name, id, v, n, ix->has_order,
                             ix->order);
}

static int event_index(struct store_conn *c, const char *account, const char *id, json_t *obj)
{
    calendar_alert_event_changed(c, account, id, obj); /* §6: its alert schedule */
    if (share_exposure_update(c, SHARE_CALENDAR, account, id, obj)) /* sharees' /changes */
        return -1;
    if (!obj)
        return store_members_put(c, account, calendar_event_type.name, id, NULL, 0, false, 0) ||
                       store_index_del(c, account, calendar_event_type.name, id)
                   ? -1
                   : 0;
    struct store_index ix = {.uid = json_string_value(json_object_get(obj, "uid"))};
    int64_t first = 0, last = 0;
    int unbounded = 0;
    char *err = NULL;
    /* floating events are indexed as UTC and widened by a day either side, since a
     * query may read them in any zone */
    if (series_bounds(obj, &first, &last, &unbounded, &err) == RECUR_OK) {
        bool floating = !json_is_string(json_object_get(obj, "timeZone"));
        ix.has_range = true;
        ix.start = first - (floating ? 86400 : 0);
        ix.end = last + (floating ? 86400 : 0);
        ix.unbounded = unbounded != 0;
        /* issue 21: a single event in a time zone is its range: an expanded query
         * answers it from the index without reading it */
        ix.exact = !floating && !is_recurring(obj) && !ix.unbounded;
    }
    free(err);
    /* the sort key of an unexpanded query by start (issue 21): the event's UTC start,
     * for events in a time zone only (a floating one's depends on the query's zone) */
    int64_t s = 0, e = 0;
    if (json_is_string(json_object_get(obj, "timeZone")) &&
        event_utc_span(obj, NULL, &s, &e) == 0) {
        ix.has_order = true;
        ix.order = s;
    }
    struct buf f[STORE_TEXT_FIELDS] = {{0}};
    gather_text(obj, f);
    const char *ok;
    json_t *ov;
    json_object_foreach(json_object_get(obj, "recurrenceOverrides"), ok, ov)
    {
        gather_text(ov, f);
    }
    for (int i = 0; i < STORE_TEXT_FIELDS; i++)
        ix.text[i] = f[i].data;
    int rc = store_index_put(c, account, calendar_event_type.name, id, &ix);
    for (int i = 0; i < STORE_TEXT_FIELDS; i++)
        buf_free(&f[i]);
    return rc ? rc : event_members_put(c, account, id, obj, &ix);
}

static void event_writes_expect(struct store_conn *c, const char *account, const char *const *ids,
                                size_t n)
{
    share_exposure_prefetch(c, SHARE_CALENDAR, account, ids, n); /* event_index reads them */
}

/* The blobs of attachments (links with a blobId), for Blob/lookup and garbage
 * collection (RFC 9404 §4.3). */
static void event_blob_ids(json_t *obj, json_t *ids)
{
    const char *lid;
    json_t *link;
    json_object_foreach(json_object_get(obj, "links"), lid, link)
    {
        json_t *blob = json_object_get(link, "blobId");
        if (json_is_string(blob))
            json_array_append(ids, blob);
    }
}

/* ---- /get (§5.7) --------------------------------------------------------------------------------- */

/* §6.1: with useDefaultAlerts the alerts come from the event's calendars; the
 * event keeps acknowledgements of them and snoozes related to them. */
static void resolve_default_alerts(struct jmap_req *r, const char *account, json_t *out)
{
    if (!json_is_true(json_object_get(out, "useDefaultAlerts")))
        return;
    const char *which = json_is_true(json_object_get(out, "showWithoutTime"))
                            ? "defaultAlertsWithoutTime"
                            : "defaultAlertsWithTime";
    json_t *own = json_object_get(out, "alerts"), *alerts = json_object();
    const char *cid;
    json_t *v;
    const struct store_access *acc = jmap_req_access(r, account);
    json_object_foreach(json_object_get(out, "calendarIds"), cid, v)
    {
        /* §4: a sharee's default alerts are their own (share_collection_view) */
        json_t *cal = store_object_get(jmap_req_conn(r), account, "Calendar", cid);
        if (cal && share_filtered(acc)) {
            json_t *theirs = share_collection_view(r, acc, SHARE_CALENDAR, cal);
            json_decref(cal);
            cal = theirs;
        }
        const char *aid;
        json_t *a;
        json_object_foreach(json_object_get(cal, which), aid, a)
        {
            json_t *copy = json_deep_copy(a);
            json_t *ack = json_object_get(json_object_get(own, aid), "acknowledged");
            if (ack)
                json_object_set(copy, "acknowledged", ack);
            json_object_set_new(alerts, aid, copy);
        }
        json_decref(cal);
    }
    const char *aid;
    json_t *a;
    json_object_foreach(own, aid, a)
    {
        const char *rel;
        json_t *rv;
        json_object_foreach(json_object_get(a, "relatedTo"), rel, rv)
        {
            if (json_object_get(alerts, rel) && !json_object_get(alerts, aid))
                json_object_set(alerts, aid, a);
        }
    }
    json_object_set_new(out, "alerts", alerts);
}

/* Issue 21 §2: obj[key] made the view's own before it is changed (a shallow copy: the
 * view changes its members, not theirs); NULL if it is not an object. */
static json_t *own_member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_object(v))
        return NULL;
    v = json_copy(v);
    json_object_set_new(obj, key, v);
    return v;
}

/* reduceParticipants and hideAttendees (§5.7): owners and the user's identities */
static void reduce_participants(json_t *participants, json_t *mine)
{
    const char *pid;
    json_t *p;
    void *tmp;
    json_object_foreach_safe(participants, tmp, pid, p)
    {
        bool owner = json_is_true(json_object_get(json_object_get(p, "roles"), "owner"));
        if (!owner && !is_mine(mine, json_string_value(json_object_get(p, "calendarAddress"))))
            json_object_del(participants, pid);
    }
}

/* Whether event_view changes obj's members for the user (beside a sharee's view). */
static bool view_changes(json_t *obj, json_t *args, bool reduce)
{
    json_t *overrides = json_object_get(obj, "recurrenceOverrides");
    return !json_object_get(obj, "isDraft") || !json_object_get(obj, "version") ||
           json_is_true(json_object_get(obj, "useDefaultAlerts")) ||
           ((json_is_string(json_object_get(args, "recurrenceOverridesBefore")) ||
             json_is_string(json_object_get(args, "recurrenceOverridesAfter"))) &&
            json_is_object(overrides)) ||
           (reduce && json_object_get(obj, "participants"));
}

/* What a sharee's view (share_member_view) may change of obj, copied (issue 14: a deep
 * copy of every event was a third of a sharee's /get). Below the top it changes only
 * calendarIds and recurrenceOverrides, except for an occurrence (patched by the user's
 * own values of it) and a private event (its overrides cut): those are copied whole. */
static json_t *sharee_copy(json_t *obj)
{
    const char *privacy = json_string_value(json_object_get(obj, "privacy"));
    if (json_object_get(obj, "baseEventId") || (privacy && strcmp(privacy, "public")))
        return json_deep_copy(obj);
    json_t *out = json_copy(obj);
    own_member(out, "calendarIds");
    json_t *ovs = json_object_get(obj, "recurrenceOverrides");
    if (ovs)
        json_object_set_new(out, "recurrenceOverrides", json_deep_copy(ovs));
    return out;
}

/* The /get view of obj (§5.7). obj may be shared with the cache (event_load: its
 * reference is not the only one) and nested values of it may be (an instance,
 * instance_build_shared): a view that changes members works on a shallow copy then,
 * and changes a nested object only after own_member(). With nothing to change, the
 * view is obj itself. A sharee's view changes nested values in many places
 * (share_member_view): it works on a deep copy. */
static json_t *event_view(struct jmap_req *r, const struct store_access *a, json_t *obj,
                          json_t *props, json_t *args)
{
    if (json_is_string(obj))
        return json_incref(obj); /* the finished view, written as text (event_load) */
    /* a sharee's view of most events is the owner's (share_event_as_stored: nothing of
     * theirs to overlay, nothing to cut): no copy */
    json_t *base = json_object_get(obj, "baseEventId");
    bool sharee = !event_view_as_stored(
        r, a, obj, json_string_value(base ? base : json_object_get(obj, "id")));
    if (sharee && !share_member_visible(r, a, SHARE_CALENDAR, obj))
        return NULL; /* a sharee's unreadable calendars, secret events (§5.7) */
    bool reduce = json_is_true(json_object_get(args, "reduceParticipants"));
    bool hide = json_is_true(json_object_get(obj, "hideAttendees")) && !a->is_personal;
    json_t *out = sharee                                                         ? sharee_copy(obj)
                  : obj->refcount > 1 && view_changes(obj, args, reduce || hide) ? json_copy(obj)
                                                                                 : json_incref(obj);
    if (sharee)
        share_member_view(r, a, SHARE_CALENDAR, out); /* §5.4 per-user, §5.7 private */
    hide = json_is_true(json_object_get(out, "hideAttendees")) && !a->is_personal;
    const char *float_tz = json_string_value(json_object_get(args, "timeZone"));
    bool instance = json_object_get(out, "baseEventId") != NULL;
    if (!json_object_get(out, "isDraft"))
        json_object_set_new(out, "isDraft", json_false());
    if (!json_object_get(out, "version")) /* stored before -17 support: the same data */
        json_object_set_new(out, "version", json_string("2.0"));
    resolve_default_alerts(r, a->account_id, out);
    /* recurrence overrides in a UTC range */
    json_t *before = json_object_get(args, "recurrenceOverridesBefore"),
           *after = json_object_get(args, "recurrenceOverridesAfter");
    json_t *overrides = json_object_get(out, "recurrenceOverrides");
    if ((json_is_string(before) || json_is_string(after)) && json_is_object(overrides)) {
        overrides = own_member(out, "recurrenceOverrides");
        int64_t b = 0, f = 0;
        if (json_is_string(before))
            util_utc_parse(json_string_value(before), &b);
        if (json_is_string(after))
            util_utc_parse(json_string_value(after), &f);
        const char *rid;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(overrides, tmp, rid, v)
        {
            int64_t t;
            if (event_local_to_utc(obj, rid, json_string_value(json_object_get(obj, "timeZone")),
                                   float_tz, &t))
                continue;
            if ((json_is_string(before) && t >= b) || (json_is_string(after) && t < f))
                json_object_del(overrides, rid);
        }
    }
    if ((reduce || hide) && json_object_get(out, "participants")) {
        /* §5.7 "the user's participant identities": a sharee's are their own */
        const char *own = share_filtered(a) ? jmap_user_principal(r->user) : a->account_id;
        json_t *mine = own ? account_addresses(jmap_req_conn(r), own, NULL, false) : json_object();
        const char *addr;
        json_t *x;
        void *tmp;
        json_object_foreach_safe(mine, tmp, addr, x)
        {
            if (share_filtered(a) && !share_is_me(r, addr))
                json_object_del(mine, addr); /* never another user's address */
        }
        reduce_participants(own_member(out, "participants"), mine);
        json_t *overrides_own = own_member(out, "recurrenceOverrides");
        const char *rid;
        json_t *ov;
        json_object_foreach(overrides_own, rid, ov)
        {
            if (json_is_object(json_object_get(ov, "participants")))
                reduce_participants(own_member(own_member(overrides_own, rid), "participants"),
                                    mine);
        }
        json_decref(mine);
    }
    if (!props) {
        /* §5.7: everything but iCalendar; id, calendarIds, isDraft, isOrigin always */
        json_object_del(out, "iCalendar");
        return out;
    }
    json_t *sel = json_object();
    json_object_set(sel, "id", json_object_get(out, "id"));
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p)
    {
        const char *name = json_string_value(p);
        if (strcmp(name, "utcStart") == 0 || strcmp(name, "utcEnd") == 0) {
            int64_t s, e;
            if (event_utc_span(out, float_tz ? float_tz : "Etc/UTC", &s, &e) == 0) {
                char ts[21];
                util_utc_format(strcmp(name, "utcStart") == 0 ? s : e, ts);
                json_object_set_new(sel, name, json_string(ts));
            }
        } else if (instance && (strcmp(name, "recurrenceRule") == 0 ||
                                strcmp(name, "recurrenceOverrides") == 0)) {
            json_object_set_new(sel, name, json_null()); /* §5.7: null for an instance */
        } else {
            json_t *v = json_object_get(out, name);
            if (v)
                json_object_set(sel, name, v);
            else if (strcmp(name, "baseEventId") == 0)
                json_object_set_new(sel, name, json_null());
        }
    }
    json_decref(out);
    return sel;
}

/* ---- import (used by calendar_io.c) --------------------------------------------------------------- */

struct first_default {
    char *out;
    bool found;
};

static int find_default(const char *id, json_t *obj, void *ud)
{
    struct first_default *d = ud;
    if (!d->found || json_is_true(json_object_get(obj, "isDefault"))) {
        snprintf(d->out, 64, "%s", id);
        d->found = true;
    }
    return 0;
}

int event_default_calendar(struct store_conn *c, const char *account, char out[64])
{
    struct first_default d = {out, false};
    store_object_foreach(c, account, "Calendar", find_default, &d);
    return d.found ? 0 : -1;
}

/* An import's check: all but the uid check, which types_import_object made already (it
 * found the event of the same uid and recurrenceId, and writes over it: no other can
 * clash; the store's unique key holds anyway). Issue 21: the second look-up was ~1.5%
 * of an import. */
static void import_check(struct store_conn *c, const char *account, json_t *obj, json_t *old,
                         json_t *invalid)
{
    validate_event(NULL, c, account, obj, old, invalid, JSCAL_RELAXED, false);
}

static const struct types_import event_import = {&calendar_event_type, "event", import_check};

int event_import_one(struct store_conn *c, const char *account, const char *calendar_id,
                     json_t *event, bool *updated, char **err)
{
    return event_import_take(c, account, calendar_id, json_deep_copy(event), updated, err);
}

int event_import_take(struct store_conn *c, const char *account, const char *calendar_id,
                      json_t *obj, bool *updated, char **err)
{
    json_object_set_new(obj, "calendarIds", json_pack("{s:b}", calendar_id, 1));
    if (!json_object_get(obj, "isDraft"))
        json_object_set_new(obj, "isDraft", json_false());
    json_object_del(obj, "method");
    return types_import_object(c, account, &event_import, obj, updated, err);
}

/* ---- registration --------------------------------------------------------------------------------- */

const struct jtype calendar_event_type = {
    .metadata = true, /* draft-ietf-jmap-metadata-02 (issue 18) */
    .name = "CalendarEvent",
    .capability = JMAP_CALENDARS,
    .props = event_props,
    .methods = JM_GET | JM_SET | JM_CHANGES | JM_COPY,
    .id_prefix = 'e',
    .get_args = event_get_args,
    .set_args = event_set_args,
    .validate = event_validate,
    .precheck = event_precheck,
    .destroy = event_destroy,
    .open_props = true,
    .get_prepare = event_get_prepare,
    .view = event_view,
    .visible = share_event_visible_id,
    .was_visible = share_event_was_visible,
    .may_write = share_event_may_write,
    .finish = scheduling_finish,
    .load = event_load,
    .synthetic_update = event_synthetic_update,
    .index = event_index,
    .writes_expect = event_writes_expect,
    .blob_ids = event_blob_ids,
    .unique_key = types_uid_key,
    .uid_indexed = true, /* check_uid */
    .filter = event_filter_condition,
    .compare = event_compare,
};
