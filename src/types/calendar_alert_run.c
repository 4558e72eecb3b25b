/*
 * calendar_alert_run.c — the server side of alerts (draft-ietf-jmap-calendars-27 §6):
 * the test clock, the hooks that mark an event's schedule rows when it or what its
 * alerts depend on changes, and the scheduler thread. For each due row (store.h "the
 * alert schedule") the thread reads the event as that user sees it (per-user alerts
 * of a sharee, §5.4; the calendars' default alerts, §6.1), fires every trigger in
 * (fired_until, now] that is not acknowledged (§6.2) in a calendar the user is
 * subscribed to (§6), moves the row on to the next trigger, and commits before it
 * pushes: a CalendarAlert (§6.4) per trigger, a mail for an "email" alert (which is
 * then acknowledged, jscalendarbis §4.5.1). Fired triggers are rate limited per user
 * (§9.3.2). The same thread retries the iMIP outbox (RFC 6047) on a timer.
 *
 * Tasks' alerts go the same way (draft-ietf-jmap-tasks-06 "Alerts extension": the
 * alerts of JMAP for Calendars apply; docs/tasks.md "Alerts"): rows of type "Task",
 * the task list's defaults and isSubscribed, a CalendarAlert with `taskId`.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "formats/recurrence/recur.h"
#include "jmap/engine.h"
#include "push/hub.h"
#include "types/calendar_alert.h"
#include "types/calendar_event.h"
#include "types/share.h"
#include "types/tasks.h"
#include "types/types.h"
#include "util/config.h"
#include "util/util.h"

#define EVENT_TYPE "CalendarEvent"
#define TASK_TYPE "Task"
#define HORIZON (400 * 86400) /* how far ahead a row's next trigger is looked for */
#define BATCH 50              /* rows per transaction */
#define WAIT_MAX_MS 10000     /* the longest sleep (rows written by another process) */
#define TEST_TICK_MS 100      /* the test clock may jump: look this often */
#define SETTLE_MS 150         /* after a mark: the writer's commit */

/* ---- the clock ------------------------------------------------------------------------ */

static char clock_path[1024];
static bool clock_on;

void calendar_alert_clock_init(void)
{
    const char *p = getenv("JMAPD_TEST_CLOCK");
    if (!p || !*p)
        return;
    if (p[0] != '/') {
        log_error("JMAPD_TEST_CLOCK must be an absolute path: ignored");
        return;
    }
    snprintf(clock_path, sizeof clock_path, "%s", p);
    clock_on = true;
    log_warn("test mode: alerts follow the test clock in %s (JMAPD_TEST_CLOCK)", p);
}

int64_t calendar_alert_now(void)
{
    if (!clock_on)
        return util_now();
    int fd = open(clock_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return util_now();
    struct stat st;
    char buf[64] = {0};
    ssize_t n = -1;
    /* only a file of the server's own user that nobody else may write */
    if (fstat(fd, &st) == 0 && st.st_uid == geteuid() && !(st.st_mode & 022))
        n = read(fd, buf, sizeof buf - 1);
    close(fd);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    int64_t t;
    return n > 0 && util_utc_parse(buf, &t) == 0 ? t : util_now();
}

/* ---- the two kinds of objects with alerts ------------------------------------------------- */

struct alert_kind {
    const char *type, *collection; /* "CalendarEvent" in "Calendar", "Task" in "TaskList" */
    const char *set_prop;          /* calendarIds (Id[Boolean]), taskListId (one Id) */
    const char *id_prop;           /* the CalendarAlert's property naming the object */
    enum share_kind share;
    const struct jtype *jt;
};

static const struct alert_kind alert_kinds[] = {
    {EVENT_TYPE, "Calendar", "calendarIds", "calendarEventId", SHARE_CALENDAR,
     &calendar_event_type},
    {TASK_TYPE, "TaskList", "taskListId", "taskId", SHARE_TASK_LIST, &task_type},
};

static const struct alert_kind *kind_of(const char *type)
{
    for (size_t i = 0; i < sizeof alert_kinds / sizeof alert_kinds[0]; i++)
        if (strcmp(alert_kinds[i].type, type) == 0)
            return &alert_kinds[i];
    return NULL;
}

/* ---- marking rows ------------------------------------------------------------------------ */

struct calendar_alerter {
    struct jmap_server *srv;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kicked;
    json_t *rate; /* user id -> [minute, count] */
    int64_t next_drain;
};

static struct calendar_alerter *running;
static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool marked;

static void poke(void)
{
    pthread_mutex_lock(&running_lock);
    if (running) {
        pthread_mutex_lock(&running->mu);
        running->kicked = true;
        pthread_cond_signal(&running->cv);
        pthread_mutex_unlock(&running->mu);
    }
    pthread_mutex_unlock(&running_lock);
}

void calendar_alert_kick(struct jmap_server *srv)
{
    (void)srv;
    if (atomic_exchange(&marked, false))
        poke();
}

/* The row of (account, id, user) is looked at again at now. A row already due keeps
 * its fired_until (what is due still fires); otherwise the triggers up to now count
 * as passed, so a change never fires an alert whose time is already over. */
static void mark(struct store_conn *c, const char *type, const char *account, const char *id,
                 int64_t user_id, int64_t now)
{
    struct store_alert a = {.user_id = user_id};
    snprintf(a.account, sizeof a.account, "%s", account);
    snprintf(a.type, sizeof a.type, "%s", type);
    snprintf(a.object_id, sizeof a.object_id, "%s", id);
    int rc = store_alert_get(c, &a);
    if (rc == STORE_OK && a.next_check <= now)
        return;
    a.fired_until = rc == STORE_OK && a.fired_until > now ? a.fired_until : now;
    a.next_check = now;
    if (store_alert_put(c, &a) == STORE_OK)
        marked = true;
}

static void owner_row(struct store_conn *c, const struct alert_kind *k, const char *account,
                      const char *id, json_t *obj, int64_t user_id, int64_t now);

static int collect_user(int64_t user_id, void *ud)
{
    json_array_append_new(ud, json_integer(user_id));
    return 0;
}

static void object_changed(struct store_conn *c, const char *type, const char *account,
                           const char *id, json_t *obj)
{
    if (!obj) {
        store_alert_del(c, account, type, id);
        return;
    }
    int64_t now = calendar_alert_now();
    json_t *users = json_array();
    store_alert_users(c, account, type, id, collect_user, users);
    bool has = json_object_size(json_object_get(obj, "alerts")) ||
               json_is_true(json_object_get(obj, "useDefaultAlerts"));
    struct store_user owner = {0};
    int64_t owner_id = -1;
    if ((has || json_array_size(users)) && store_user_by_account(c, account, &owner) == STORE_OK)
        owner_id = owner.id;
    store_user_clear(&owner);
    bool owner_done = false;
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u)
    {
        if (json_integer_value(u) == owner_id) {
            owner_row(c, kind_of(type), account, id, obj, owner_id, now);
            owner_done = true;
        } else {
            mark(c, type, account, id, json_integer_value(u), now);
        }
    }
    if (has && owner_id >= 0 && !owner_done)
        owner_row(c, kind_of(type), account, id, obj, owner_id, now);
    json_decref(users);
    if (marked)
        poke();
}

void calendar_alert_event_changed(struct store_conn *c, const char *account, const char *id,
                                  json_t *obj)
{
    object_changed(c, EVENT_TYPE, account, id, obj);
}

void calendar_alert_task_changed(struct store_conn *c, const char *account, const char *id,
                                 json_t *obj)
{
    object_changed(c, TASK_TYPE, account, id, obj);
}

/* Every row of the member type in the account is looked at again (a collection's
 * default alerts, isSubscribed or time zone changed). */
static void collection_changed(struct store_conn *c, const char *account, const char *type)
{
    if (store_alert_touch(c, account, type, calendar_alert_now()) == STORE_OK) {
        marked = true;
        poke();
    }
}

void calendar_alert_user_changed(struct store_conn *c, const char *account, const char *type,
                                 const char *id, int64_t user_id)
{
    if (strcmp(type, "Calendar") == 0) {
        collection_changed(c, account, EVENT_TYPE);
    } else if (strcmp(type, "TaskList") == 0) {
        collection_changed(c, account, TASK_TYPE);
    } else if (kind_of(type)) {
        mark(c, type, account, id, user_id, calendar_alert_now());
        poke();
    }
}

void calendar_alert_calendar_changed(struct store_conn *c, const char *account)
{
    collection_changed(c, account, EVENT_TYPE);
}

void calendar_alert_task_list_changed(struct store_conn *c, const char *account)
{
    collection_changed(c, account, TASK_TYPE);
}

/* ---- one due row --------------------------------------------------------------------- */

/* What a batch hands to push after its commit. */
struct batch {
    struct calendar_alerter *al;
    struct store_conn *c;
    int64_t now;
    json_t *alerts;  /* [[user id, CalendarAlert], ...] */
    json_t *changed; /* accountId -> {type -> state} (acknowledged email alerts) */
    int n;
    json_t *counted; /* the user ids rate_ok counted */
};

/* The event (or task) as the user sees it, with its collections' defaults and time
 * zone. */
struct seen {
    const struct alert_kind *k;
    json_t *event, *with, *without;
    bool subscribed, personal;
    char tz[64];
};

static void seen_clear(struct seen *v)
{
    json_decref(v->event);
    json_decref(v->with);
    json_decref(v->without);
}

/* §6: only calendars the user is subscribed to fire; §6.1 their default alerts (a
 * sharee's own, §4 per-user); their time zone reads floating events. A task's one
 * task list likewise (tasks-06 §4: isSubscribed, default alerts, timeZone "e.g., for
 * alerts"). r NULL: the owner's, who sees the collections as stored (share.c). */
static void seen_calendars(struct store_conn *c, const char *account, struct jmap_req *r,
                           const struct store_access *a, struct seen *v)
{
    v->with = json_object();
    v->without = json_object();
    json_t *set = json_object_get(v->event, v->k->set_prop), *one = NULL;
    if (json_is_string(set)) /* a task's taskListId */
        set = one = json_pack("{s:b}", json_string_value(set), 1);
    const char *cid;
    json_t *x;
    json_object_foreach(set, cid, x)
    {
        json_t *cal = store_object_get(c, account, v->k->collection, cid);
        json_t *cv = !cal ? NULL
                     : r  ? share_collection_view(r, a, v->k->share, cal)
                          : json_incref(cal);
        json_decref(cal);
        if (!cv)
            continue;
        if (!json_is_false(json_object_get(cv, "isSubscribed")))
            v->subscribed = true;
        json_t *w = json_object_get(cv, "defaultAlertsWithTime"),
               *wo = json_object_get(cv, "defaultAlertsWithoutTime");
        if (json_is_object(w))
            json_object_update(v->with, w);
        if (json_is_object(wo))
            json_object_update(v->without, wo);
        const char *tz = json_string_value(json_object_get(cv, "timeZone"));
        if (tz && !v->tz[0])
            snprintf(v->tz, sizeof v->tz, "%s", tz);
        json_decref(cv);
    }
    json_decref(one);
}

/* Loads what the row's user sees of its event; false when they see nothing (the
 * event, the user or their access is gone: the row goes). */
static bool seen_load(struct batch *b, const struct store_alert *row, struct jmap_user *u,
                      struct seen *v)
{
    memset(v, 0, sizeof *v);
    v->k = kind_of(row->type);
    json_t *ev = v->k ? store_object_get(b->c, row->account, v->k->type, row->object_id) : NULL;
    if (!ev || jmap_user_load(b->c, row->user_id, u) != STORE_OK) {
        json_decref(ev);
        return false;
    }
    const struct store_access *a = NULL;
    for (int i = 0; i < u->naccounts && !a; i++)
        if (strcmp(u->accounts[i].account_id, row->account) == 0)
            a = &u->accounts[i];
    struct jmap_req r = {.srv = b->al->srv, .conn = b->c, .user = u};
    if (!a || (!a->is_personal && !a->shared) || !share_member_visible(&r, a, v->k->share, ev)) {
        json_decref(ev); /* an account-wide grant (`jmapd user share`) has no alerts of its own */
        return false;
    }
    share_member_view(&r, a, v->k->share, ev); /* a sharee's own alerts (§5.4) */
    v->event = ev;
    v->personal = a->is_personal;
    seen_calendars(b->c, row->account, &r, a, v);
    return true;
}

/* §9.3.2: at most alert_rate (config) fired alerts per user and minute. Each count is
 * noted in the batch, to be taken back if its transaction does not commit. */
static bool rate_ok(struct batch *b, int64_t user_id)
{
    struct calendar_alerter *al = b->al;
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)user_id);
    json_array_append_new(b->counted, json_string(key));
    json_t *e = json_object_get(al->rate, key);
    int64_t minute = b->now / 60;
    if (!e || json_integer_value(json_array_get(e, 0)) != minute) {
        json_object_set_new(al->rate, key, json_pack("[I, i]", (json_int_t)minute, 1));
        return true;
    }
    json_int_t n = json_integer_value(json_array_get(e, 1));
    json_array_set_new(e, 1, json_integer(n + 1));
    return n < al->srv->cfg->alert_rate;
}

/* Takes back the counts of rate_ok in a batch whose transaction did not commit. */
static void rate_undo(struct batch *b)
{
    size_t i;
    json_t *k;
    json_array_foreach(b->counted, i, k)
    {
        json_t *e = json_object_get(b->al->rate, json_string_value(k));
        json_int_t n = json_integer_value(json_array_get(e, 1));
        if (n <= 1)
            json_object_del(b->al->rate, json_string_value(k));
        else
            json_array_set_new(e, 1, json_integer(n - 1));
    }
    json_array_clear(b->counted);
}

static int fire_cb(const struct alert_fire *f, void *ud)
{
    json_array_append_new(ud,
                          json_pack("{s:s, s:s?, s:I, s:s, s:O}", "alertId", f->alert_id,
                                    "recurrenceId", f->recurrence_id, "when", (json_int_t)f->when,
                                    "action", f->action, "alert", f->alert));
    return json_array_size(ud) >= 100; /* a storm is cut short (§9.3.1) */
}

static int by_when(const void *x, const void *y)
{
    json_int_t a = json_integer_value(json_object_get(*(json_t *const *)x, "when")),
               b = json_integer_value(json_object_get(*(json_t *const *)y, "when"));
    return a < b ? -1 : a > b;
}

static void sort_fires(json_t *fires)
{
    size_t n = json_array_size(fires);
    json_t **v = xmalloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(fires, i));
    qsort(v, n, sizeof *v, by_when);
    json_array_clear(fires);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(fires, v[i]);
    free(v);
}

/* When the row is next due: the next trigger, or a later look while the series goes
 * on beyond the horizon; -1: never again. */
static int64_t next_due(const struct seen *v, int64_t now)
{
    const char *tz = v->tz[0] ? v->tz : NULL;
    int64_t next = calendar_alert_next(v->event, v->with, v->without, tz, now, HORIZON);
    if (next >= 0)
        return next;
    recur_limits lim = {0, 500};
    int64_t first = 0, last = 0;
    int unbounded = 0;
    char *err = NULL;
    int rc = recur_series_bounds(v->event, tz, &lim, &first, &last, &unbounded, &err);
    free(err);
    return rc == RECUR_OK && (unbounded || last > now + HORIZON) ? now + HORIZON / 2 : -1;
}

/* The owner's row at a write of their object: moved at once where the scheduler would
 * move it after reading the object (next_due), so that the schedule's index says when
 * the object is next looked at. A start after an import of thousands of events with
 * alerts then finds the few that are due instead of reading every one of them (issue
 * 20: ~99 M instructions at 10,000 events, in the first requests after the start). The
 * owner sees the object and its collections as stored (share.c: nothing is filtered in
 * their own account); a row already due stays due (what is due still fires), and the
 * triggers up to now count as passed, as mark() has them. A sharee's row is marked for
 * the scheduler, which applies their per-user values (§5.4). */
static void owner_row(struct store_conn *c, const struct alert_kind *k, const char *account,
                      const char *id, json_t *obj, int64_t user_id, int64_t now)
{
    struct store_alert a = {.user_id = user_id};
    snprintf(a.account, sizeof a.account, "%s", account);
    snprintf(a.type, sizeof a.type, "%s", k->type);
    snprintf(a.object_id, sizeof a.object_id, "%s", id);
    int rc = store_alert_get(c, &a);
    if (rc == STORE_OK && a.next_check <= now)
        return;
    struct seen v = {.k = k, .event = json_incref(obj)};
    seen_calendars(c, account, NULL, NULL, &v);
    int64_t next = next_due(&v, now);
    seen_clear(&v);
    if (next < 0) {
        if (rc == STORE_OK)
            store_alert_claim(c, &a, -1, 0); /* never again */
        return;
    }
    a.fired_until = rc == STORE_OK && a.fired_until > now ? a.fired_until : now;
    a.next_check = next;
    if (store_alert_put(c, &a) == STORE_OK)
        marked = true; /* the scheduler's next wake-up may now be sooner */
}

/* ---- email alerts (jscalendarbis §4.5.1 "email"; calendars-27 §6, §9.3.2) ----------------- */

/* The user's own address (their principal's email): the only one alert mail goes to. */
static char *user_address(struct store_conn *c, const struct jmap_user *u)
{
    const char *me = jmap_user_principal(u);
    json_t *p = me ? principal_load(c, me) : NULL;
    const char *email = json_string_value(json_object_get(p, "email"));
    char *out = email && *email ? xstrdup(email) : NULL;
    json_decref(p);
    return out;
}

/* The alert is acknowledged at now once its mail is on its way (jscalendarbis §4.5.1):
 * in the event for its owner, in their per-user alerts for a sharee (§5.4); a default
 * alert is added to the event to hold it (§6.2). The event is written again, so its
 * state moves and every client learns of it. */
static void acknowledge(struct batch *b, const struct store_alert *row, const struct seen *v,
                        json_t *fire)
{
    const char *aid = json_string_value(json_object_get(fire, "alertId"));
    const char *type = v->k->type;
    json_t *ev = store_object_get(b->c, row->account, type, row->object_id);
    json_t *mine =
        v->personal ? NULL
                    : store_user_props_get(b->c, row->user_id, row->account, type, row->object_id);
    json_t *holder = v->personal ? ev : mine ? mine : (mine = json_object());
    json_t *alerts = json_object_get(holder, "alerts");
    if (!json_is_object(alerts)) {
        alerts = json_object();
        json_object_set_new(holder, "alerts", alerts);
    }
    json_t *al = json_object_get(alerts, aid);
    if (!al) {
        al = json_deep_copy(json_object_get(fire, "alert"));
        json_object_set_new(alerts, aid, al);
    }
    char ts[21];
    util_utc_format(b->now, ts);
    json_object_set_new(al, "acknowledged", json_string(ts));
    if (!v->personal)
        store_user_props_put(b->c, row->user_id, row->account, type, row->object_id, mine);
    if (ev &&
        jmap_object_write(b->c, NULL, v->k->jt, row->account, row->object_id, ev, false) == 0) {
        json_t *acct = json_object_get(b->changed, row->account);
        if (!acct)
            json_object_set_new(b->changed, row->account, acct = json_object());
        json_object_set_new(acct, type,
                            jmap_state_string(store_state_get(b->c, row->account, type)));
    }
    json_decref(mine);
    json_decref(ev);
}

static void email_alert(struct batch *b, const struct store_alert *row, const struct jmap_user *u,
                        const struct seen *v, json_t *fire)
{
    char *to = user_address(b->c, u);
    if (!to || !b->al->srv->cfg->smtp_url[0]) {
        log_warn("alerts: an email alert of %s for %s cannot be sent (%s)", row->object_id, u->name,
                 to ? "no smtp_url" : "no address");
        free(to);
        return;
    }
    const char *title = json_string_value(json_object_get(v->event, "title"));
    const char *rid = json_string_value(json_object_get(fire, "recurrenceId"));
    const char *start = json_string_value(json_object_get(v->event, "start"));
    if (!start) /* a task without a start: its due */
        start = json_string_value(json_object_get(v->event, "due"));
    const char *tz = json_string_value(json_object_get(v->event, "timeZone"));
    char *subject = xasprintf("Reminder: %s", title && *title ? title : "(no title)");
    char *body = xasprintf("Reminder: %s\r\nWhen: %s%s%s\r\n", title ? title : "(no title)",
                           rid     ? rid
                           : start ? start
                                   : "?",
                           tz ? " " : "", tz ? tz : "");
    if (imip_queue_mail(b->c, to, to, subject, body) == 0) {
        acknowledge(b, row, v, fire);
        b->n++;
    }
    free(subject);
    free(body);
    free(to);
}

/* ---- the batch ------------------------------------------------------------------------ */

static void process_row(struct batch *b, const struct store_alert *row)
{
    if (strcmp(row->type, TASK_DUE_TYPE) == 0) { /* not an alert: a task's due time */
        task_due_fire(b->c, row, b->now, b->changed);
        return;
    }
    struct jmap_user u;
    struct seen v;
    if (!seen_load(b, row, &u, &v)) {
        store_alert_claim(b->c, row, -1, 0);
        seen_clear(&v);
        return;
    }
    /* a server down for long passes over what is stale (alert_stale, config) rather than
     * flood the user */
    int64_t stale = b->now - b->al->srv->cfg->alert_stale;
    int64_t from = row->fired_until > stale ? row->fired_until : stale;
    json_t *fires = json_array();
    /* calendars-27 §5, tasks-06 §5 isDraft: "The server will not send any push
     * notifications for alerts" (its triggers pass) */
    bool draft = json_is_true(json_object_get(v.event, "isDraft"));
    if (v.subscribed && !draft && from < b->now)
        calendar_alert_triggers(v.event, v.with, v.without, v.tz[0] ? v.tz : NULL, from, b->now,
                                fire_cb, fires);
    int64_t next = next_due(&v, b->now);
    if (store_alert_claim(b->c, row, next, b->now) != STORE_OK) {
        json_decref(fires); /* another front end took it */
        seen_clear(&v);
        return;
    }
    sort_fires(fires);
    const char *uid = json_string_value(json_object_get(v.event, "uid"));
    size_t i;
    json_t *f;
    json_array_foreach(fires, i, f)
    {
        if (!rate_ok(b, row->user_id)) {
            log_warn("alerts: %s has too many alerts this minute; one of %s dropped", u.name,
                     row->object_id);
            continue;
        }
        /* §6.4 CalendarAlert: the base event's id, never an instance's (a task's in
         * taskId, docs/tasks.md "Alerts") */
        json_t *ca =
            json_pack("{s:s, s:s, s:s, s:s?, s:O?, s:O}", "@type", "CalendarAlert", "accountId",
                      row->account, v.k->id_prop, row->object_id, "uid", uid, "recurrenceId",
                      json_object_get(f, "recurrenceId"), "alertId", json_object_get(f, "alertId"));
        if (!json_object_get(ca, "recurrenceId"))
            json_object_set_new(ca, "recurrenceId", json_null());
        json_array_append_new(b->alerts, json_pack("[I, o]", (json_int_t)row->user_id, ca));
        log_info("alerts: %s of %s fired for %s", json_string_value(json_object_get(f, "alertId")),
                 row->object_id, u.name);
        if (strcmp(json_string_value(json_object_get(f, "action")), "email") == 0)
            email_alert(b, row, &u, &v, f);
    }
    json_decref(fires);
    seen_clear(&v);
}

struct due {
    struct store_alert rows[BATCH];
    int n;
    int64_t earliest;
};

static int due_cb(const struct store_alert *a, void *ud)
{
    struct due *d = ud;
    d->rows[d->n++] = *a;
    return d->n >= BATCH;
}

static int earliest_cb(const struct store_alert *a, void *ud)
{
    *(int64_t *)ud = a->next_check;
    return 1;
}

/* The earliest next_check of any row (-1: none), read without the write lock. */
static int64_t earliest_row(struct store_conn *c)
{
    int64_t t = -1;
    if (store_begin(c, false) != STORE_OK)
        return -1;
    store_alert_due(c, INT64_MAX, 1, earliest_cb, &t);
    store_rollback(c);
    return t;
}

/* One transaction over at most BATCH due rows, then the pushes. Returns the number of
 * rows looked at, or -1. */
static int run_batch(struct calendar_alerter *al, struct store_conn *c, int64_t now)
{
    struct due d = {.n = 0};
    struct batch b = {al, c, now, json_array(), json_object(), 0, json_array()};
    int rc = -1;
    /* issue 15 §1: refused by the database, the batch runs again from its start; what
     * the refused run gathered (alerts to push, states, rate counts) goes with it */
    for (int attempt = 0;; attempt++) {
        store_retry_mark(c);
        if (store_begin(c, true) == STORE_OK) {
            store_alert_due(c, now, BATCH, due_cb, &d);
            for (int i = 0; i < d.n; i++)
                process_row(&b, &d.rows[i]);
            if (store_commit(c) == STORE_OK)
                break;
        }
        rate_undo(&b);
        if (!store_retry_again(c, attempt, "alerts")) {
            store_rollback(c);
            goto done;
        }
        d.n = 0;
        b.n = 0;
        json_array_clear(b.alerts);
        json_object_clear(b.changed);
    }
    rc = d.n;
    if (json_object_size(b.changed))
        push_hub_publish(al->srv->hub, b.changed);
    /* a few alerts per publish: each must fit one message to the other front ends */
    for (size_t i = 0; i < json_array_size(b.alerts); i += 16) {
        json_t *part = json_array();
        for (size_t j = i; j < i + 16 && j < json_array_size(b.alerts); j++)
            json_array_append(part, json_array_get(b.alerts, j));
        json_t *msg = json_pack("{s:o}", "#alerts", part);
        push_hub_publish(al->srv->hub, msg);
        json_decref(msg);
    }
    if (b.n)
        imip_drain(al->srv); /* alert mail now, not at the next retry */
done:
    json_decref(b.alerts);
    json_decref(b.changed);
    json_decref(b.counted);
    return rc;
}

/* Fires everything due; returns the earliest next_check left (-1: none). */
static int64_t run_due(struct calendar_alerter *al, struct store_conn *c)
{
    int64_t now = calendar_alert_now(), first = earliest_row(c);
    for (int rounds = 0; first >= 0 && first <= now && rounds < 100; rounds++) {
        if (run_batch(al, c, now) < BATCH)
            break;
    }
    return earliest_row(c);
}

static void wait_ms(struct calendar_alerter *al, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&al->cv, &al->mu, &ts);
}

static void *alerter_main(void *arg)
{
    struct calendar_alerter *al = arg;
    struct store_conn *c = store_conn(al->srv->store);
    pthread_mutex_lock(&al->mu);
    while (!al->stop) {
        pthread_mutex_unlock(&al->mu);
        int64_t earliest = c ? run_due(al, c) : -1;
        if (util_now_ms() >= al->next_drain) { /* the iMIP outbox, retried on a timer */
            imip_retry(al->srv);
            al->next_drain = util_now_ms() + al->srv->cfg->smtp_retry * 1000;
        }
        pthread_mutex_lock(&al->mu);
        if (al->stop)
            break;
        int64_t ms = WAIT_MAX_MS;
        if (clock_on)
            ms = TEST_TICK_MS;
        else if (earliest >= 0)
            ms = (earliest - util_now()) * 1000;
        ms = ms < 50 ? 50 : ms > WAIT_MAX_MS ? WAIT_MAX_MS : ms;
        if (!al->kicked)
            wait_ms(al, ms);
        if (al->kicked && !al->stop) {
            al->kicked = false;
            wait_ms(al, SETTLE_MS); /* the marking transaction commits meanwhile */
        }
    }
    pthread_mutex_unlock(&al->mu);
    return NULL;
}

struct calendar_alerter *calendar_alerter_start(struct jmap_server *srv)
{
    struct calendar_alerter *al = xcalloc(1, sizeof *al);
    al->srv = srv;
    al->rate = json_object();
    pthread_mutex_init(&al->mu, NULL);
    pthread_cond_init(&al->cv, NULL);
    if (pthread_create(&al->thread, NULL, alerter_main, al) != 0) {
        json_decref(al->rate);
        free(al);
        return NULL;
    }
    pthread_mutex_lock(&running_lock);
    running = al;
    pthread_mutex_unlock(&running_lock);
    return al;
}

void calendar_alerter_stop(struct calendar_alerter *al)
{
    if (!al)
        return;
    pthread_mutex_lock(&running_lock);
    running = NULL;
    pthread_mutex_unlock(&running_lock);
    pthread_mutex_lock(&al->mu);
    al->stop = true;
    pthread_cond_signal(&al->cv);
    pthread_mutex_unlock(&al->mu);
    pthread_join(al->thread, NULL);
    pthread_mutex_destroy(&al->mu);
    pthread_cond_destroy(&al->cv);
    json_decref(al->rate);
    free(al);
}
