/*
 * calendar_event_get.c — CalendarEvent/get's loading (draft-ietf-jmap-calendars-27
 * §5.7; the view itself is event_view in calendar_event.c): events and the instances
 * of an expanded query's ids (§5.5) come from the parsed-event cache (event_cache.h)
 * while the account's state is the one the query saw, and where the view would be the
 * event's own members (all properties, the owner's view) the instance is written
 * straight from text made once per series (issue 21 §2: no JSON tree per instance).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/json/buffer.h"
#include "formats/json/writer.h"
#include "formats/timezone/tz.h"
#include "jmap/engine.h"
#include "jmap/metadata.h"
#include "types/calendar_event.h"
#include "types/event_cache.h"
#include "types/instances.h"
#include "types/share.h"
#include "util/util.h"

/* The account's CalendarEvent state, read once per /get call: event_get_prepare forgets
 * it, and every load of the call is in the call's one read transaction. */
static __thread struct {
    bool known;
    char account[128];
    int64_t state;
    json_t *props;         /* the call's properties ... */
    const char *names[48]; /* ... and the members the view reads for them (members_for) */
    size_t nnames;
    bool args_plain; /* the call's arguments leave the owner's view as stored (raw_view) */
    bool plain;      /* ... and so does the access to the account (call_state) */
    bool sharee;     /* ... or would, for a sharee's events as stored (share_event_as_stored) */
    bool personal;   /* the account is the user's own */
    bool many;       /* the call asks for several events (or all) */
    bool bare;       /* a sharee with no per-user values and no shared `updated` record in
                        the account: as stored is the event's shape and rights (as_stored) */
    json_t *rights;  /* with bare: the call's rights map (borrowed, share_collection_rights_peek) */
    const json_t *verdict_obj;  /* the object event_load returned last and its as_stored, */
    const json_t *verdict_call; /* for event_view_as_stored in the same call */
    bool verdict;
} get_state;

/* instances.c's keep: whether a member is among get_state's names */
static bool member_wanted(const char *key)
{
    for (size_t i = 0; i < get_state.nnames; i++)
        if (strcmp(get_state.names[i], key) == 0)
            return true;
    return false;
}

/* Whether an instance for a /get of props needs only some members (issue 21 §2: the
 * others are not copied): props and what event_view reads to compute them (alerts
 * §6.1, utcStart and utcEnd, hidden attendees §5.7), listed in get_state for
 * member_wanted. False for all. */
static bool members_for(json_t *props)
{
    if (!props)
        return false;
    if (get_state.props == props)
        return true;
    static const char *const always[] = {"id", "isDraft", "version", "calendarIds"};
    static const char *const needs[][4] = {
        {"alerts", "useDefaultAlerts", "showWithoutTime", NULL},
        {"utcStart", "start", "timeZone", "duration"},
        {"utcEnd", "start", "timeZone", "duration"},
        {"participants", "hideAttendees", NULL, NULL},
    };
    size_t n = 0, cap = sizeof get_state.names / sizeof get_state.names[0];
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        get_state.names[n++] = always[i];
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p)
    {
        const char *name = json_string_value(p);
        if (n + 4 > cap)
            return false; /* many: all of them */
        get_state.names[n++] = name;
        for (size_t k = 0; k < sizeof needs / sizeof needs[0]; k++)
            for (size_t j = 1; strcmp(name, needs[k][0]) == 0 && j < 4 && needs[k][j]; j++)
                get_state.names[n++] = needs[k][j];
    }
    get_state.nnames = n;
    get_state.props = props;
    return true;
}

static int64_t call_state(struct jmap_req *r, const char *account)
{
    if (!get_state.known || strcmp(get_state.account, account) != 0) {
        struct store_conn *c = jmap_req_conn(r);
        const struct store_access *a = jmap_req_access(r, account);
        get_state.personal = a && a->is_personal;
        get_state.plain = get_state.args_plain && a && !share_filtered(a);
        get_state.sharee = get_state.args_plain && share_filtered(a);
        get_state.state = store_state_get(c, account, calendar_event_type.name);
        /* issue 14: what share_event_as_stored asks of every event of a sharee's /get
         * that is the same for all of them, asked once */
        get_state.rights = share_filtered(a) && get_state.many
                               ? share_collection_rights_peek(r, a, SHARE_CALENDAR)
                               : NULL;
        get_state.bare = get_state.rights &&
                         share_user_props_none(r, r->user->id, account, calendar_event_type.name) &&
                         share_updated_none(r, SHARE_CALENDAR, account);
        snprintf(get_state.account, sizeof get_state.account, "%s", account);
        get_state.known = strlen(account) < sizeof get_state.account;
    }
    return get_state.state;
}

/* The cache's entry for the stored event id, current in this read transaction, or
 * NULL if there is none (issue 21 §2). The query that gave the ids of a /get marked
 * the events it read current at the account's state (event_cache_seen): while the
 * state is the same, the event's modseq is not looked up again. */
static struct event_cached *current_entry(struct jmap_req *r, const char *account, const char *id)
{
    struct store_conn *c = jmap_req_conn(r);
    int64_t state = call_state(r, account);
    struct event_cached *e = event_cache_current(account, id, state);
    if (e && e->expanded)
        return e;
    event_cache_release(e); /* a /get's entry (event_cache_put_current): no occurrences */
    int64_t m = store_object_modseq(c, account, calendar_event_type.name, id);
    if (m < 0)
        return NULL;
    e = event_cache_peek(account, id, m);
    if (!e)
        e = event_cache_get(c, account, id, m, NULL);
    if (e)
        event_cache_seen(e, state);
    return e;
}

/* ---- the owner's whole view, written from text (issue 21 §2) ------------------------------ */

/* Members an instance does not take from its series: the series' own, those the
 * instance sets (instances.c build), and iCalendar (§5.7: not in a view of all). */
static bool instance_sets(const char *key)
{
    static const char *const own[] = {"id",
                                      "baseEventId",
                                      "start",
                                      "recurrenceId",
                                      "recurrenceRule",
                                      "recurrenceOverrides",
                                      "excludedRecurrenceRules",
                                      "iCalendar",
                                      NULL};
    for (const char *const *k = own; *k; k++)
        if (strcmp(*k, key) == 0)
            return true;
    return false;
}

/* Appends "key":value (after a comma unless first) to b: keys as JSON strings (the
 * writer's escaping for any that needs it, rare in a stored event), values by the
 * writer. */
static void add_member(jbuf *b, const char *key, const json_t *v, bool *first)
{
    if (!*first)
        jbuf_addc(b, ',');
    *first = false;
    size_t n = strlen(key);
    bool plain = true;
    for (size_t i = 0; i < n && plain; i++)
        plain = key[i] != '"' && key[i] != '\\' && (unsigned char)key[i] >= 0x20;
    if (plain) {
        jbuf_addc(b, '"');
        jbuf_add(b, key, n);
        jbuf_addc(b, '"');
    } else {
        json_t *k = json_stringn(key, n);
        jwriter_append(k, b);
        json_decref(k);
    }
    jbuf_addc(b, ':');
    jwriter_append(v, b);
}

/* The members of obj's view (event_view with no properties, the owner's view) as
 * compact JSON text (event_cache_text's make): a single event's whole object; for a
 * series, the members its instances share, without braces, for instance_text. Written
 * member by member, without a copy of obj to change. */
static char *view_text(const json_t *obj, size_t *n)
{
    bool series = instance_is_recurring(obj), first = true;
    jbuf b = {0};
    if (!series)
        jbuf_addc(&b, '{');
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (series ? instance_sets(key) : strcmp(key, "iCalendar") == 0)
            continue;
        if (series && strcmp(key, "recurrenceIdTimeZone") == 0 &&
            json_is_string(json_object_get(obj, "timeZone")))
            continue; /* the series' timeZone, below */
        add_member(&b, key, v, &first);
    }
    json_t *tz = json_object_get(obj, "timeZone");
    if (series && json_is_string(tz))
        add_member(&b, "recurrenceIdTimeZone", tz, &first);
    /* event_view's defaults */
    if (!json_object_get(obj, "isDraft"))
        add_member(&b, "isDraft", json_false(), &first);
    if (!json_object_get(obj, "version")) {
        json_t *version = json_string("2.0");
        add_member(&b, "version", version, &first);
        json_decref(version);
    }
    if (!series)
        jbuf_addc(&b, '}');
    *n = b.len;
    return jbuf_take(&b);
}

/* share_event_as_stored for the request's user, with what is the same for every event
 * of the call asked once (get_state.bare) and what depends on obj alone once per cache
 * entry e (NULL: obj is in none; else obj is e's): a sharee's /get of 200 events cost
 * 1.3 times the owner's, nearly all of it in these questions (issue 14). */
static bool as_stored(struct jmap_req *r, const struct store_access *a, json_t *obj, const char *id,
                      struct event_cached *e)
{
    if (!share_filtered(a))
        return true;
    if (!get_state.bare || !id)
        return share_event_as_stored(r, a, obj, id);
    signed char shape = e ? __atomic_load_n(&e->shape, __ATOMIC_RELAXED) : 0;
    if (!shape) {
        shape = share_event_shape_plain(obj) ? 1 : -1;
        if (e)
            __atomic_store_n(&e->shape, shape, __ATOMIC_RELAXED);
    }
    return shape > 0 && share_event_readable_in(get_state.rights, obj);
}

/* event_load returns obj, whose view event_view computes next: as_stored's answer is
 * kept for it (event_view_as_stored) */
static json_t *returning(struct jmap_req *r, const char *account, const char *id, json_t *obj,
                         struct event_cached *e)
{
    const struct store_access *a = jmap_req_access(r, account);
    if (obj && share_filtered(a)) {
        get_state.verdict = as_stored(r, a, obj, id, e);
        get_state.verdict_obj = obj;
        get_state.verdict_call = r->call;
    }
    return obj;
}

bool event_view_as_stored(struct jmap_req *r, const struct store_access *a, json_t *obj,
                          const char *id)
{
    if (get_state.verdict_obj == obj && get_state.verdict_call == r->call && obj) {
        get_state.verdict_obj = NULL;
        return get_state.verdict;
    }
    return share_event_as_stored(r, a, obj, id);
}

/* Whether event_view would return obj's own members (with its defaults) for this
 * call: all properties, the owner's view (or a sharee's that is the same, id the
 * stored event's), nothing the arguments or obj ask to change (§5.7
 * reduceParticipants and hideAttendees, §6.1 default alerts, overrides in a range),
 * and no later call reads the response as a tree (RFC 8620 §3.7). */
static bool plain_view(struct jmap_req *r, const char *account, const char *id, json_t *obj,
                       struct event_cached *e, json_t *props)
{
    return !props && (get_state.plain || get_state.sharee) &&
           !json_is_true(json_object_get(obj, "useDefaultAlerts")) &&
           (get_state.personal || !json_is_true(json_object_get(obj, "hideAttendees"))) &&
           (get_state.plain || as_stored(r, jmap_req_access(r, account), obj, id, e));
}

/* ids written without escaping: the store's own (never '"', '\\' or controls) */
static bool id_plain(const char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            return false;
    return true;
}

/* The instance rid of e as a raw placeholder (writer.h) holding its whole view, or
 * NULL where the view needs a tree: an override at rid (an excluded one too), a rid
 * the expansion did not generate, a Task-like due (instances.c move_due). */
static json_t *instance_text(struct event_cached *e, const char *base_id, const char *rid)
{
    if (json_object_get(json_object_get(e->obj, "recurrenceOverrides"), rid) ||
        json_object_get(e->obj, "due") || event_cache_rid_index(e, rid) < 0 || !id_plain(base_id))
        return NULL;
    size_t n;
    const char *shared = event_cache_text(e, view_text, &n);
    char id[96], small[4096];
    event_instance_id(base_id, rid, id);
    const char *parts[] = {"{\"id\":\"",
                           id,
                           "\",\"baseEventId\":\"",
                           base_id,
                           "\",\"start\":\"",
                           rid,
                           "\",\"recurrenceId\":\"",
                           rid,
                           "\""};
    size_t len[sizeof parts / sizeof parts[0]], need = n + 3;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        need += len[i] = strlen(parts[i]);
    char *t = need <= sizeof small ? small : xmalloc(need), *w = t; /* no buffer kept */
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        memcpy(w, parts[i], len[i]);
        w += len[i];
    }
    if (n) {
        *w++ = ',';
        memcpy(w, shared, n);
        w += n;
    }
    *w++ = '}';
    json_t *raw = jwriter_raw_new(t, (size_t)(w - t));
    if (t != small)
        free(t);
    return raw;
}

/* ---- loading ------------------------------------------------------------------------------ */

/* An instance for /get (§5.11: the ids of an expanded query). The series comes from
 * the parsed-event cache with its occurrences, rather than being read, parsed and its
 * rule run again per instance (the /get of a month's 530 instances cost 20 times the
 * query). The owner's whole view is written from the series' text (instance_text);
 * any other shares the cached series' values (instance_build_shared: event_view
 * changes only its top level). */
static json_t *load_instance(struct jmap_req *r, const char *account, const char *base_id,
                             const char *rid, json_t *props)
{
    struct event_cached *e = current_entry(r, account, base_id);
    if (!e)
        return NULL;
    json_t *inst =
        plain_view(r, account, base_id, e->obj, e, props) ? instance_text(e, base_id, rid) : NULL;
    /* a sharee's view reads more than the properties asked for (share_member_view) */
    bool some = !share_filtered(jmap_req_access(r, account));
    if (!inst)
        inst = instance_build_shared(&event_instance_kind, e->obj, base_id, rid,
                                     event_cache_rid_index(e, rid) >= 0,
                                     some && members_for(props) ? member_wanted : NULL);
    event_cache_release(e);
    return inst;
}

/* The /get hook (jmap.h load): an instance by its synthetic id, or a stored event,
 * or NULL. A stored event comes from the cache when it is known current there (a
 * month's /get asks for the same events again), else from the store (where each call
 * is a round trip, PostgreSQL, /get prefetched it) and is kept for the next /get. The
 * object is shared with the cache: event_view copies before it changes anything. A
 * raw placeholder (a single event's whole view, instance_text) is the finished view:
 * event_view passes it on. */
json_t *event_load(struct jmap_req *r, const char *account, const char *id, json_t *props)
{
    char base_id[64], rid[20];
    get_state.verdict_obj = NULL;
    if (event_instance_parse(id, base_id, rid))
        return load_instance(r, account, base_id, rid, props);
    struct store_conn *c = jmap_req_conn(r);
    int64_t state = call_state(r, account);
    struct event_cached *e = event_cache_current(account, id, state);
    if (e && (e->obj || (!props && get_state.plain))) {
        json_t *obj = NULL;
        if (!e->recurring && (!e->obj || plain_view(r, account, id, e->obj, e, props))) {
            size_t n;
            const char *text = event_cache_text(e, view_text, &n);
            obj = jwriter_raw_new(text, n);
        } else {
            obj = returning(r, account, id, json_incref(e->obj), e);
        }
        event_cache_release(e);
        return obj;
    }
    event_cache_release(e); /* text only, and this view needs the tree: read it */
    json_t *obj = store_object_get(c, account, calendar_event_type.name, id);
    if (obj && !instance_is_recurring(obj) && get_state.plain &&
        plain_view(r, account, id, obj, NULL, props) &&
        !json_is_true(json_object_get(obj, "hideAttendees"))) {
        /* issue 21 §0: the whole view as text is all a later /get of it needs, and an
         * eighth of the memory of the parsed event (an entry of text alone is plain
         * for every owner's view: neither default alerts nor hidden attendees) */
        e = event_cache_put_text(account, id, obj, state, view_text);
        if (e) {
            json_decref(obj);
            obj = jwriter_raw_new(e->text, e->text_len);
            event_cache_release(e);
            return obj;
        }
    }
    e = obj ? event_cache_put_current(account, id, obj, state) : NULL;
    if (e && !e->recurring && plain_view(r, account, id, e->obj, e, props)) {
        size_t n;
        const char *text = event_cache_text(e, view_text, &n);
        json_decref(obj);
        obj = jwriter_raw_new(text, n);
    }
    event_cache_release(e);
    return obj;
}

int event_get_prepare(struct jmap_req *r, json_t *args)
{
    get_state.known = false; /* a new call, a new transaction (call_state) */
    get_state.props = NULL;  /* members_for */
    get_state.verdict_obj = NULL;
    /* as share_per_user.c's rule: a few ids are read one at a time */
    json_t *ids = json_object_get(args, "ids");
    get_state.many = !json_is_array(ids) || json_array_size(ids) >= 4;
    /* raw views (plain_view): see event_view */
    get_state.args_plain = !r->referenced && !metadata_on(r, &calendar_event_type) &&
                           !json_is_true(json_object_get(args, "reduceParticipants")) &&
                           !json_is_string(json_object_get(args, "recurrenceOverridesBefore")) &&
                           !json_is_string(json_object_get(args, "recurrenceOverridesAfter"));
    json_t *props = json_object_get(args, "properties");
    bool utc = false, overrides = false;
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p)
    {
        const char *n = json_string_value(p);
        utc |= strcmp(n, "utcStart") == 0 || strcmp(n, "utcEnd") == 0;
        overrides |= strcmp(n, "recurrenceOverrides") == 0;
    }
    if (utc && overrides) {
        jmap_error(r, "invalidArguments",
                   "recurrenceOverrides cannot be requested with utcStart or utcEnd");
        return -1;
    }
    json_t *tz = json_object_get(args, "timeZone");
    if (tz && !tz_is_iana(json_string_value(tz))) {
        jmap_error(r, "invalidArguments", "unknown timeZone");
        return -1;
    }
    static const char *const utc_args[] = {"recurrenceOverridesBefore", "recurrenceOverridesAfter"};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(args, utc_args[k]);
        int64_t t;
        if (json_is_string(v) && util_utc_parse(json_string_value(v), &t)) {
            jmap_error(r, "invalidArguments", "%s must be a UTCDateTime", utc_args[k]);
            return -1;
        }
    }
    return 0;
}
