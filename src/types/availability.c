/*
 * availability.c — Principal/getAvailability and the
 * urn:ietf:params:jmap:principals:availability capability
 * (draft-ietf-jmap-calendars-27 §1.5.2, §2.2): the busy periods of a user over a
 * window, from the events of the calendars they subscribe to and count for
 * availability — their own, and those of other accounts shared with them, by their
 * own per-user isSubscribed, includeInAvailability (§4: "none" unless they set it)
 * and freeBusyStatus (§5.4) — that the asking user may read free/busy of
 * (mayReadFreeBusy), recurring events expanded; periods without details merged
 * (§2.2's precedence confirmed > unavailable > tentative).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/recurrence/recur.h"
#include "jmap/engine.h"
#include "types/calendar_event.h"
#include "types/share.h"
#include "types/types.h"
#include "util/util.h"

#define MAX_AVAILABILITY_DAYS 400 /* maxAvailabilityDuration */

static json_t *availability_account_value(const struct config *cfg, const struct store_access *a)
{
    (void)cfg;
    (void)a;
    return json_pack("{s:s}", "maxAvailabilityDuration", "P400D");
}

static bool availability_supported(const struct store_access *a)
{
    return a->is_personal; /* where the principals are */
}

const struct jcapability availability_capability = {
    .uri = JMAP_PRINCIPALS_AVAILABILITY,
    .account_value = availability_account_value,
    .account_supports = availability_supported,
};

/* ---- busy periods ------------------------------------------------------------------------ */

struct period {
    int64_t start, end;
    int rank; /* 3 confirmed > 2 unavailable > 1 tentative */
};

static const char *rank_name(int rank)
{
    return rank == 3 ? "confirmed" : rank == 1 ? "tentative" : "unavailable";
}

struct avail {
    struct jmap_req *r;
    const struct store_access *target; /* the user's access to the principal's account */
    const char *account, *address;     /* the account walked; the principal's address */
    int64_t sharee;                    /* the principal's user id in another's account, or 0 */
    json_t *calendars;                 /* calendar id -> "all" | "attending" */
    json_t *readable;                  /* calendar id -> true with mayReadItems */
    int64_t from, to;
    bool details;
    json_t *props, *list;
    struct period *p;
    size_t n, cap;
};

/* §2.2: the principal's participant status, or NULL. */
static const char *my_status(json_t *ev, const char *address)
{
    const char *pid;
    json_t *p;
    json_object_foreach(json_object_get(ev, "participants"), pid, p)
    {
        const char *a = json_string_value(json_object_get(p, "calendarAddress"));
        if (a && address && !strcasecmp(a, address)) {
            const char *st = json_string_value(json_object_get(p, "participationStatus"));
            return st ? st : "needs-action";
        }
    }
    return NULL;
}

/* Whether the event counts, through any of its calendars (§2.2's list). */
static bool relevant(struct avail *v, json_t *ev, bool *readable)
{
    const char *privacy = json_string_value(json_object_get(ev, "privacy"));
    const char *fb = json_string_value(json_object_get(ev, "freeBusyStatus"));
    const char *status = json_string_value(json_object_get(ev, "status"));
    if ((privacy && !strcmp(privacy, "secret")) || (fb && strcmp(fb, "busy")) ||
        (status && !strcmp(status, "cancelled")))
        return false;
    const char *st = my_status(ev, v->address);
    bool attending = st && (!strcmp(st, "accepted") || !strcmp(st, "tentative"));
    bool yes = false;
    *readable = false;
    const char *cid;
    json_t *x;
    json_object_foreach(json_object_get(ev, "calendarIds"), cid, x)
    {
        const char *mode = json_string_value(json_object_get(v->calendars, cid));
        if (mode && (!strcmp(mode, "all") || attending))
            yes = true;
        *readable |= json_object_get(v->readable, cid) != NULL;
    }
    return yes;
}

static void add_period(struct avail *v, int64_t s, int64_t e, int rank)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 32;
        v->p = xrealloc(v->p, v->cap * sizeof *v->p);
    }
    v->p[v->n++] = (struct period){s < v->from ? v->from : s, e > v->to ? v->to : e, rank};
}

static json_t *utc(int64_t t)
{
    char buf[21];
    util_utc_format(t, buf);
    return json_string(buf);
}

/* §2.2's busyStatus of an event or occurrence (3 confirmed, 2 unavailable, 1 tentative). */
static int rank_of(struct avail *v, json_t *ev)
{
    const char *status = json_string_value(json_object_get(ev, "status"));
    const char *st = my_status(ev, v->address);
    if ((status && !strcmp(status, "tentative")) || (st && !strcmp(st, "tentative")))
        return 1;
    return (!status || !strcmp(status, "confirmed")) && st && !strcmp(st, "accepted") ? 3 : 2;
}

/* Each occurrence in the window counts as it is: an override (jscalendarbis §4.3.5) may
 * make one free, cancelled, declined or tentative, or another time (issue 14). */
static int event_cb(const char *id, int64_t modseq, void *ud)
{
    struct avail *v = ud;
    (void)modseq;
    struct store_conn *c = jmap_req_conn(v->r);
    json_t *ev = store_object_get(c, v->account, calendar_event_type.name, id);
    if (ev && v->sharee) { /* §5.4: the principal's own freeBusyStatus (default busy) */
        json_t *mine = store_user_props_get(c, v->sharee, v->account, "CalendarEvent", id);
        json_t *theirs = share_event_with_values(ev, mine);
        json_decref(mine);
        json_decref(ev);
        ev = theirs;
    }
    bool readable = false;
    bool overrides = json_object_size(json_object_get(ev, "recurrenceOverrides")) > 0;
    if (!ev || (!overrides && !relevant(v, ev, &readable))) {
        json_decref(ev);
        return 0;
    }
    recur_limits lim = {0, 0};
    int code = 0;
    char *err = NULL;
    recur_iter *it = recur_iter_new(ev, v->from, v->to, NULL, &lim,
                                    overrides ? RECUR_WANT_OBJECT : 0, &code, &err);
    free(err);
    recur_occurrence o;
    while (it && recur_iter_next(it, &o) == 1) {
        json_t *inst = o.object ? o.object : ev;
        if (inst != ev && !relevant(v, inst, &readable))
            continue;
        int rank = rank_of(v, inst);
        const char *privacy = json_string_value(json_object_get(inst, "privacy"));
        if (!v->details || !readable || (privacy && !strcmp(privacy, "private"))) {
            add_period(v, o.utc_start, o.utc_end, rank);
            continue;
        }
        json_t *shown = json_deep_copy(inst);
        for (const char *const *k = types_per_user; v->sharee && v->sharee != v->r->user->id && *k;
             k++)
            json_object_del(shown, *k); /* the principal's own values are theirs (§5.4) */
        shown = engine_select_props(shown, v->props);
        json_array_append_new(v->list,
                              json_pack("{s:o, s:o, s:s, s:o, s:s}", "utcStart", utc(o.utc_start),
                                        "utcEnd", utc(o.utc_end), "busyStatus", rank_name(rank),
                                        "event", shown, "accountId", v->account));
    }
    recur_iter_free(it);
    json_decref(ev);
    return 0;
}

/* §2.2: periods without an event merged: no overlap, and adjacent ones differ in
 * busyStatus; where they overlap the higher rank wins. */
static void merge_periods(struct avail *v)
{
    int64_t *cuts = xmalloc((2 * v->n + 1) * sizeof *cuts);
    size_t nc = 0;
    for (size_t i = 0; i < v->n; i++) {
        cuts[nc++] = v->p[i].start;
        cuts[nc++] = v->p[i].end;
    }
    for (size_t i = 1; i < nc; i++) /* insertion sort: few periods */
        for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            int64_t t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
    json_t *last = NULL;
    int last_rank = 0;
    for (size_t i = 0; i + 1 < nc; i++) {
        int64_t a = cuts[i], b = cuts[i + 1];
        if (a == b)
            continue;
        int rank = 0;
        for (size_t k = 0; k < v->n; k++)
            if (v->p[k].start <= a && v->p[k].end >= b && v->p[k].rank > rank)
                rank = v->p[k].rank;
        if (!rank) {
            last = NULL;
            continue;
        }
        if (last && last_rank == rank) {
            json_object_set_new(last, "utcEnd", utc(b));
            continue;
        }
        last = json_pack("{s:o, s:o, s:s, s:n, s:n}", "utcStart", utc(a), "utcEnd", utc(b),
                         "busyStatus", rank_name(rank), "event", "accountId");
        last_rank = rank;
        json_array_append_new(v->list, last);
    }
    free(cuts);
}

static int calendar_cb(const char *id, json_t *cal, void *ud)
{
    struct avail *v = ud;
    unsigned bits = share_rights(v->r, v->target, SHARE_CALENDAR, cal);
    const char *mode = json_string_value(json_object_get(cal, "includeInAvailability"));
    if (bits & CR_READ)
        json_object_set_new(v->readable, id, json_true());
    /* §2.2: subscribed by the principal, counted, and free/busy readable by the user */
    if (json_is_false(json_object_get(cal, "isSubscribed")) || !mode || !strcmp(mode, "none") ||
        !(bits & CR_FREEBUSY))
        return 0;
    json_object_set_new(v->calendars, id, json_string(mode));
    return 0;
}

/* A calendar of another account shared with the principal (p): it counts by their
 * own per-user values (§4: isSubscribed, includeInAvailability "none" unless they set
 * it) while they may still read it, and the asking user's rights on it. */
struct shared_pick {
    struct avail *v;
    const struct jmap_user *p;
    const struct store_access *mine; /* the asking user's access to the account, or NULL */
};

static int shared_calendar_cb(const char *id, json_t *cal, void *ud)
{
    struct shared_pick *sp = ud;
    struct avail *v = sp->v;
    if (!(share_rights_of_user(sp->p, SHARE_CALENDAR, cal) & CR_READ))
        return 0; /* not theirs to subscribe to (§4.1: free/busy alone is no calendar) */
    unsigned bits = sp->mine ? share_rights(v->r, sp->mine, SHARE_CALENDAR, cal) : 0;
    if (bits & CR_READ)
        json_object_set_new(v->readable, id, json_true());
    json_t *own = store_user_props_get(jmap_req_conn(v->r), sp->p->id, v->account, "Calendar", id);
    const char *mode = json_string_value(json_object_get(own, "includeInAvailability"));
    if (!json_is_false(json_object_get(own, "isSubscribed")) && mode && strcmp(mode, "none") &&
        (bits & CR_FREEBUSY))
        json_object_set_new(v->calendars, id, json_string(mode));
    json_decref(own);
    return 0;
}

/* The busy periods of one account's events in the window, with v's calendars. */
static void account_periods(struct avail *v)
{
    if (json_object_size(v->calendars))
        store_index_range(jmap_req_conn(v->r), v->account, calendar_event_type.name, true, v->from,
                          true, v->to, event_cb, v);
    json_object_clear(v->calendars);
    json_object_clear(v->readable);
}

/* The accounts that share calendars with the principal (user p), theirs excepted. */
static void shared_periods(struct avail *v, const struct jmap_user *p)
{
    for (int i = 0; i < p->naccounts; i++) {
        const struct store_access *pa = &p->accounts[i];
        if (pa->is_personal || !pa->shared)
            continue; /* an account-wide grant shows the owner's values: not theirs */
        struct shared_pick sp = {v, p, jmap_req_access(v->r, pa->account_id)};
        struct store_access fb = {.shared = true}; /* the user's free/busy alone (§4.1) */
        if (!sp.mine && jmap_user_freebusy(v->r->user, pa->account_id)) {
            snprintf(fb.account_id, sizeof fb.account_id, "%s", pa->account_id);
            sp.mine = &fb;
        }
        v->account = pa->account_id;
        v->sharee = p->id;
        store_object_foreach(jmap_req_conn(v->r), v->account, "Calendar", shared_calendar_cb, &sp);
        account_periods(v);
    }
}

static const struct argspec availability_args[] = {
    {"accountId", ARG_ID, ARG_REQUIRED},
    {"id", ARG_ID, ARG_REQUIRED},
    {"utcStart", ARG_STRING, ARG_REQUIRED},
    {"utcEnd", ARG_STRING, ARG_REQUIRED},
    {"showDetails", ARG_BOOL, 0},
    {"eventProperties", ARG_STRING_ARRAY, ARG_NULLABLE},
    {NULL, 0, 0},
};

static int get_availability(struct jmap_req *r, json_t *args)
{
    const struct store_access *a =
        jmap_method_begin(r, args, availability_args, NULL, "accountId", JMAP_BEGIN_NO_TXN);
    if (!a)
        return -1;
    int64_t from, to;
    if (util_utc_parse(json_string_value(json_object_get(args, "utcStart")), &from) ||
        util_utc_parse(json_string_value(json_object_get(args, "utcEnd")), &to) || to <= from) {
        jmap_error(r, "invalidArguments", "utcStart and utcEnd must be UTCDateTimes, in order");
        return -1;
    }
    if (to - from > (int64_t)MAX_AVAILABILITY_DAYS * 86400) {
        jmap_error(r, "tooLarge", "longer than maxAvailabilityDuration (P400D)");
        return -1;
    }
    const char *pid = json_string_value(json_object_get(args, "id"));
    if (jmap_txn_begin(r, false))
        return -1;
    json_t *p = principal_load(jmap_req_conn(r), pid);
    const char *type = json_string_value(json_object_get(p, "type"));
    const struct store_access *target = p ? jmap_req_access(r, pid) : NULL;
    /* §2.1, §4.1: an account shared with the user for free/busy alone is no account of
     * theirs, but its calendars' shareWith still give them mayReadFreeBusy */
    struct store_access fb = {.shared = true};
    if (p && !target && jmap_user_freebusy(r->user, pid)) {
        snprintf(fb.account_id, sizeof fb.account_id, "%s", pid);
        target = &fb;
    }
    struct avail v = {.r = r,
                      .target = target,
                      .account = pid,
                      .from = from,
                      .to = to,
                      .details = json_is_true(json_object_get(args, "showDetails")),
                      .props = json_object_get(args, "eventProperties"),
                      .list = json_array(),
                      .calendars = json_object(),
                      .readable = json_object()};
    if (json_is_null(v.props))
        v.props = NULL;
    char *address = p && json_string_value(json_object_get(p, "email"))
                        ? xasprintf("mailto:%s", json_string_value(json_object_get(p, "email")))
                        : NULL;
    v.address = address;
    int rc = 0;
    if (!p) {
        jmap_error(r, "notFound", "no principal %s", pid);
        rc = -1;
    } else if (type && strcmp(type, "individual") == 0 && !target) {
        jmap_error(r, "forbidden", "you may not read the availability of %s", pid);
        rc = -1;
    } else if (target) {
        store_object_foreach(jmap_req_conn(r), pid, "Calendar", calendar_cb, &v);
        account_periods(&v);
        struct store_user owner = {0};
        struct jmap_user *pu = xcalloc(1, sizeof *pu);
        if (store_user_by_account(jmap_req_conn(r), pid, &owner) == STORE_OK &&
            jmap_user_load(jmap_req_conn(r), owner.id, pu) == STORE_OK)
            shared_periods(&v, pu);
        store_user_clear(&owner);
        free(pu);
        merge_periods(&v);
    }
    store_rollback(jmap_req_conn(r));
    if (rc == 0)
        jmap_respond(r, "Principal/getAvailability",
                     json_pack("{s:s, s:O}", "accountId", a->account_id, "list", v.list));
    free(v.p);
    free(address);
    json_decref(v.list);
    json_decref(v.calendars);
    json_decref(v.readable);
    json_decref(p);
    return rc;
}

void availability_register(void)
{
    jmap_register_method("Principal/getAvailability", JMAP_PRINCIPALS_AVAILABILITY,
                         get_availability);
}
