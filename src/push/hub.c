/*
 * hub.c — see hub.h. One mutex guards the subscriber list and every
 * subscriber's pending changes; publish is O(subscribers) and only merges and
 * wakes, never writes to sockets. The timer thread, every PUSH_TICK_MS, wakes
 * subscribers whose ping or keep-alive is due, ends those whose peer has gone and,
 * every PUSH_CHECK_MS, those whose credential no longer holds (issue 19 §9).
 * With several front ends on one PostgreSQL database (issue 15 §4), a publish also
 * goes to the others over the store's bus (LISTEN/NOTIFY), and what they publish
 * arrives here as if published locally.
 */
#include "push/hub.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "util/util.h"

struct push_sub {
    struct push_hub *hub;
    struct push_sub *prev, *next;
    int64_t user_id;
    json_t *accounts;  /* accountId -> true */
    json_t *types;     /* TypeName -> true, or NULL for all */
    json_t *pending;   /* accountId -> {type -> state} */
    json_t *alerts;    /* CalendarAlert objects to send, oldest first */
    int ping;          /* seconds, 0 = none */
    int64_t next_ping; /* monotonic ms */
    int64_t next_keepalive; /* monotonic ms: a comment line finds dead peers */
    bool waiting;      /* suspended: needs wake() */
    enum push_next end; /* PUSH_WAIT while open; PUSH_CLOSED or PUSH_GONE once ended */
    char *cred;         /* credential fingerprint to re-check, or NULL */
    bool local_only;    /* takes no other front end's publishes (WebPush: each delivers its own) */
    void (*wake)(void *);
    bool (*gone)(void *); /* has the peer gone away? */
    void *ud;
};

struct push_hub {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t timer;
    bool stopping;
    uint64_t seq; /* event ids: every publish advances it */
    struct push_sub *subs;
    int count;
    enum push_cred (*check)(const char *cred, void *ud);
    void *check_ud;
    int64_t next_check; /* monotonic ms */
    struct store_bus *bus; /* other front ends, or NULL */
    void (*accounts_cb)(void); /* push_hub_on_accounts */
};

static void wake_locked(struct push_sub *s)
{
    if (s->waiting) {
        s->waiting = false;
        s->wake(s->ud);
    }
}

/* Ends a subscriber: it sends nothing more and its stream is closed when it is next
 * asked (at once when suspended). Caller holds the lock. */
static void end_locked(struct push_sub *s, enum push_next how)
{
    if (s->end != PUSH_WAIT)
        return;
    s->end = how;
    wake_locked(s);
}

/* Every distinct credential of the subscribers is checked again without the lock (the
 * check reads the database); subscribers whose credential no longer holds are ended. */
static void check_credentials(struct push_hub *h)
{
    size_t n = 0, cap = 0;
    char **creds = NULL;
    for (struct push_sub *s = h->subs; s; s = s->next) {
        if (!s->cred || s->end != PUSH_WAIT)
            continue;
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = strcmp(creds[i], s->cred) == 0;
        if (seen)
            continue;
        if (n == cap)
            creds = xrealloc(creds, (cap = cap ? 2 * cap : 16) * sizeof *creds);
        creds[n++] = xstrdup(s->cred);
    }
    enum push_cred (*check)(const char *, void *) = h->check;
    void *ud = h->check_ud;
    pthread_mutex_unlock(&h->lock);
    bool *bad = xcalloc(n ? n : 1, sizeof *bad);
    for (size_t i = 0; i < n; i++)
        bad[i] = check(creds[i], ud) == PUSH_CRED_GONE;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < n; i++) {
        for (struct push_sub *s = h->subs; bad[i] && s; s = s->next)
            if (s->cred && strcmp(s->cred, creds[i]) == 0)
                end_locked(s, PUSH_CLOSED);
        free(creds[i]);
    }
    free(creds);
    free(bad);
}

static void *timer_main(void *arg)
{
    struct push_hub *h = arg;
    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += PUSH_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->cond, &h->lock, &ts);
        if (h->stopping)
            break;
        int64_t now = util_now_ms();
        for (struct push_sub *s = h->subs; s; s = s->next) {
            if (!s->waiting)
                continue;
            if (s->gone && s->gone(s->ud))
                end_locked(s, PUSH_GONE); /* closed by the client: free it now */
            else if ((s->ping && now >= s->next_ping) || now >= s->next_keepalive)
                wake_locked(s);
        }
        if (h->check && now >= h->next_check) {
            check_credentials(h);
            h->next_check = util_now_ms() + PUSH_CHECK_MS;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

void push_hub_set_check(struct push_hub *h, enum push_cred (*check)(const char *cred, void *ud),
                        void *ud)
{
    pthread_mutex_lock(&h->lock);
    h->check = check;
    h->check_ud = ud;
    pthread_mutex_unlock(&h->lock);
}

struct push_hub *push_hub_new(void)
{
    struct push_hub *h = xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    if (pthread_create(&h->timer, NULL, timer_main, h) != 0)
        abort();
    return h;
}

void push_hub_shutdown(struct push_hub *h)
{
    pthread_mutex_lock(&h->lock);
    if (h->stopping) {
        pthread_mutex_unlock(&h->lock);
        return;
    }
    h->stopping = true;
    for (struct push_sub *s = h->subs; s; s = s->next)
        wake_locked(s);
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->timer, NULL);
}

void push_hub_free(struct push_hub *h)
{
    if (!h)
        return;
    store_bus_close(h->bus); /* first: its thread publishes here */
    push_hub_shutdown(h);
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

/* "#alerts": [[user id, CalendarAlert], ...] (calendars-27 §6.4) to the user's
 * subscribers that registered for the pseudo-type CalendarAlert (or every type) and
 * see the alert's account. Caller holds the lock. */
static void alerts_locked(struct push_hub *h, json_t *alerts, bool remote)
{
    size_t i;
    json_t *pair;
    json_array_foreach(alerts, i, pair)
    {
        json_int_t uid = json_integer_value(json_array_get(pair, 0));
        json_t *alert = json_array_get(pair, 1);
        const char *acct = json_string_value(json_object_get(alert, "accountId"));
        for (struct push_sub *s = h->subs; s && acct; s = s->next) {
            if (s->user_id != uid || !json_object_get(s->accounts, acct) ||
                (s->types && !json_object_get(s->types, "CalendarAlert")) ||
                (remote && s->local_only))
                continue;
            json_array_append(s->alerts, alert);
            wake_locked(s);
        }
    }
}

/* remote: published by another front end (over the bus) */
static void publish_local(struct push_hub *h, json_t *changed, bool remote)
{
    /* before the changes are queued: a stream woken by them reads its accounts again
     * first (issue 14), so what it lost sends nothing */
    if (remote && h->accounts_cb && json_is_true(json_object_get(changed, "#accounts")))
        h->accounts_cb();
    pthread_mutex_lock(&h->lock);
    h->seq++;
    alerts_locked(h, json_object_get(changed, "#alerts"), remote);
    size_t gi;
    json_t *g;
    json_array_foreach(json_object_get(changed, "#grants"), gi, g)
    {
        json_int_t uid = json_integer_value(json_array_get(g, 0));
        const char *acct = json_string_value(json_array_get(g, 1));
        for (struct push_sub *s = h->subs; s && acct; s = s->next)
            if (s->user_id == uid)
                json_object_set_new(s->accounts, acct, json_true());
    }
    for (struct push_sub *s = h->subs; s; s = s->next) {
        if (remote && s->local_only)
            continue;
        bool any = false;
        const char *acct;
        json_t *types;
        json_object_foreach(changed, acct, types)
        {
            if (!json_object_get(s->accounts, acct))
                continue;
            const char *type;
            json_t *state;
            json_object_foreach(types, type, state)
            {
                if (s->types && !json_object_get(s->types, type))
                    continue;
                json_t *mine = json_object_get(s->pending, acct);
                if (!mine) {
                    mine = json_object();
                    json_object_set_new(s->pending, acct, mine);
                }
                json_object_set(mine, type, state);
                any = true;
            }
        }
        if (any)
            wake_locked(s);
    }
    /* "#user": [[user id, account, type, state], ...]: states only that user sees (a
     * private metadata write, draft-ietf-jmap-metadata-02 §2.2), never lower than
     * what the account-wide part gave them */
    json_array_foreach(json_object_get(changed, "#user"), gi, g)
    {
        json_int_t uid = json_integer_value(json_array_get(g, 0));
        const char *acct = json_string_value(json_array_get(g, 1)),
                   *type = json_string_value(json_array_get(g, 2));
        json_t *state = json_array_get(g, 3);
        for (struct push_sub *s = h->subs; s && acct && type && json_is_string(state);
             s = s->next) {
            if (s->user_id != uid || !json_object_get(s->accounts, acct) ||
                (s->types && !json_object_get(s->types, type)) || (remote && s->local_only))
                continue;
            json_t *mine = json_object_get(s->pending, acct);
            if (!mine) {
                mine = json_object();
                json_object_set_new(s->pending, acct, mine);
            }
            const char *had = json_string_value(json_object_get(mine, type));
            if (had && strtoll(had, NULL, 10) >= strtoll(json_string_value(state), NULL, 10))
                continue;
            json_object_set(mine, type, state);
            wake_locked(s);
        }
    }
    pthread_mutex_unlock(&h->lock);
}

/* A NOTIFY payload is at most 8000 bytes: one message per account when together
 * they would not fit (a single account's states always do: a few types). */
#define BUS_MESSAGE_MAX 7800

void push_hub_publish(struct push_hub *h, json_t *changed)
{
    if (!h)
        return;
    publish_local(h, changed, false);
    if (!h->bus)
        return;
    char *all = json_dumps(changed, JSON_COMPACT);
    if (all && strlen(all) <= BUS_MESSAGE_MAX) {
        store_bus_send(h->bus, all);
        free(all);
        return;
    }
    free(all);
    const char *acct;
    json_t *types;
    json_object_foreach(changed, acct, types)
    {
        json_t *one = json_pack("{s:O}", acct, types);
        char *text = json_dumps(one, JSON_COMPACT);
        if (text && strlen(text) <= BUS_MESSAGE_MAX)
            store_bus_send(h->bus, text);
        free(text);
        json_decref(one);
    }
}

/* Another front end's publish (on the bus's thread). */
static void bus_message(const char *msg, void *ud)
{
    json_error_t e;
    json_t *changed = json_loads(msg, 0, &e);
    if (json_is_object(changed))
        publish_local(ud, changed, true);
    json_decref(changed);
}

void push_hub_on_accounts(struct push_hub *h, void (*cb)(void))
{
    h->accounts_cb = cb; /* before push_hub_attach: the bus's thread reads it */
}

void push_hub_attach(struct push_hub *h, struct store *st)
{
    if (!h->bus)
        h->bus = store_bus_open(st, bus_message, h);
}

int push_hub_count(struct push_hub *h)
{
    pthread_mutex_lock(&h->lock);
    int n = h->count;
    pthread_mutex_unlock(&h->lock);
    return n;
}

int push_hub_count_user(struct push_hub *h, int64_t user_id)
{
    int n = 0;
    pthread_mutex_lock(&h->lock);
    for (struct push_sub *s = h->subs; s; s = s->next) {
        if (s->user_id != user_id)
            continue;
        if (s->waiting && s->gone && s->gone(s->ud))
            end_locked(s, PUSH_GONE); /* do not wait for the timer to find it */
        n += s->end == PUSH_WAIT;
    }
    pthread_mutex_unlock(&h->lock);
    return n;
}

struct push_sub *push_sub_new(struct push_hub *h, int64_t user_id, const char *const *accounts,
                              int naccounts, json_t *types, int ping_seconds,
                              void (*wake)(void *ud), void *ud)
{
    struct push_sub *s = xcalloc(1, sizeof *s);
    s->hub = h;
    s->user_id = user_id;
    s->accounts = json_object();
    for (int i = 0; i < naccounts; i++)
        json_object_set_new(s->accounts, accounts[i], json_true());
    if (types) {
        s->types = json_object();
        size_t i;
        json_t *t;
        json_array_foreach(types, i, t)
        {
            json_object_set_new(s->types, json_string_value(t), json_true());
        }
    }
    s->pending = json_object();
    s->alerts = json_array();
    s->ping = ping_seconds;
    s->next_ping = util_now_ms() + (int64_t)ping_seconds * 1000;
    s->next_keepalive = util_now_ms() + PUSH_KEEPALIVE_MS;
    s->wake = wake;
    s->ud = ud;
    s->end = PUSH_WAIT;
    pthread_mutex_lock(&h->lock);
    s->next = h->subs;
    if (h->subs)
        h->subs->prev = s;
    h->subs = s;
    h->count++;
    pthread_mutex_unlock(&h->lock);
    return s;
}

void push_sub_free(struct push_sub *s)
{
    if (!s)
        return;
    struct push_hub *h = s->hub;
    pthread_mutex_lock(&h->lock);
    if (s->prev)
        s->prev->next = s->next;
    else
        h->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    h->count--;
    pthread_mutex_unlock(&h->lock);
    free(s->cred);
    json_decref(s->accounts);
    json_decref(s->types);
    json_decref(s->pending);
    json_decref(s->alerts);
    free(s);
}

void push_sub_watch(struct push_sub *s, const char *cred, bool (*gone)(void *ud))
{
    pthread_mutex_lock(&s->hub->lock);
    free(s->cred);
    s->cred = cred ? xstrdup(cred) : NULL;
    s->gone = gone;
    pthread_mutex_unlock(&s->hub->lock);
}

void push_sub_set_accounts(struct push_sub *s, const char *const *accounts, int naccounts)
{
    json_t *now = json_object();
    for (int i = 0; i < naccounts; i++)
        json_object_set_new(now, accounts[i], json_true());
    pthread_mutex_lock(&s->hub->lock);
    const char *acct;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(s->pending, tmp, acct, v)
    {
        if (!json_object_get(now, acct))
            json_object_del(s->pending, acct); /* not theirs any more: nothing of it goes */
    }
    json_decref(s->accounts);
    s->accounts = now;
    pthread_mutex_unlock(&s->hub->lock);
}

void push_sub_local_only(struct push_sub *s)
{
    pthread_mutex_lock(&s->hub->lock);
    s->local_only = true;
    pthread_mutex_unlock(&s->hub->lock);
}

void push_sub_prime(struct push_sub *s, json_t *changed)
{
    pthread_mutex_lock(&s->hub->lock);
    json_object_update_recursive(s->pending, changed);
    pthread_mutex_unlock(&s->hub->lock);
}

enum push_next push_sub_next(struct push_sub *s, char **text, uint64_t *event_id,
                             void (*arm_wait)(void *ud), void *ud)
{
    struct push_hub *h = s->hub;
    enum push_next next;
    pthread_mutex_lock(&h->lock);
    int64_t now = util_now_ms();
    if (s->end != PUSH_WAIT) {
        next = s->end; /* revoked or gone: nothing more, not even pending changes */
    } else if (json_object_size(s->pending)) {
        /* RFC 8620 §7.1 StateChange */
        json_t *sc = json_pack("{s:s, s:O}", "@type", "StateChange", "changed", s->pending);
        *text = json_dumps(sc, JSON_COMPACT);
        json_decref(sc);
        json_object_clear(s->pending);
        *event_id = h->seq;
        s->next_ping = now + (int64_t)s->ping * 1000; /* §7.3: since the previous event */
        s->next_keepalive = now + PUSH_KEEPALIVE_MS;
        next = PUSH_STATE;
    } else if (json_array_size(s->alerts)) {
        *text = json_dumps(json_array_get(s->alerts, 0), JSON_COMPACT);
        json_array_remove(s->alerts, 0);
        *event_id = h->seq;
        s->next_ping = now + (int64_t)s->ping * 1000;
        s->next_keepalive = now + PUSH_KEEPALIVE_MS;
        next = PUSH_ALERT;
    } else if (h->stopping) {
        next = PUSH_CLOSED;
    } else if (s->ping && now >= s->next_ping) {
        s->next_ping = now + (int64_t)s->ping * 1000;
        s->next_keepalive = now + PUSH_KEEPALIVE_MS;
        next = PUSH_PING;
    } else if (now >= s->next_keepalive) {
        s->next_keepalive = now + PUSH_KEEPALIVE_MS;
        next = PUSH_KEEPALIVE;
    } else {
        s->waiting = true;
        arm_wait(ud);
        next = PUSH_WAIT;
    }
    pthread_mutex_unlock(&h->lock);
    return next;
}
