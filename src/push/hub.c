/*
 * hub.c — see hub.h. One mutex guards the subscriber list and every
 * subscriber's pending changes; publish is O(subscribers) and only merges and
 * wakes, never writes to sockets.
 */
#include "push/hub.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/util.h"

struct push_sub {
    struct push_hub *hub;
    struct push_sub *prev, *next;
    int64_t user_id;
    json_t *accounts;  /* accountId -> true */
    json_t *types;     /* TypeName -> true, or NULL for all */
    json_t *pending;   /* accountId -> {type -> state} */
    int ping;          /* seconds, 0 = none */
    int64_t next_ping; /* monotonic ms */
    bool waiting;      /* suspended: needs wake() */
    void (*wake)(void *);
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
};

static void wake_locked(struct push_sub *s)
{
    if (s->waiting) {
        s->waiting = false;
        s->wake(s->ud);
    }
}

static void *timer_main(void *arg)
{
    struct push_hub *h = arg;
    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&h->cond, &h->lock, &ts);
        int64_t now = util_now_ms();
        for (struct push_sub *s = h->subs; s; s = s->next)
            if (s->ping && s->waiting && now >= s->next_ping)
                wake_locked(s);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
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
    push_hub_shutdown(h);
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

void push_hub_publish(struct push_hub *h, json_t *changed)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->seq++;
    for (struct push_sub *s = h->subs; s; s = s->next) {
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
    pthread_mutex_unlock(&h->lock);
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
    for (struct push_sub *s = h->subs; s; s = s->next)
        n += s->user_id == user_id;
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
    s->ping = ping_seconds;
    s->next_ping = util_now_ms() + (int64_t)ping_seconds * 1000;
    s->wake = wake;
    s->ud = ud;
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
    json_decref(s->accounts);
    json_decref(s->types);
    json_decref(s->pending);
    free(s);
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
    if (json_object_size(s->pending)) {
        /* RFC 8620 §7.1 StateChange */
        json_t *sc = json_pack("{s:s, s:O}", "@type", "StateChange", "changed", s->pending);
        *text = json_dumps(sc, JSON_COMPACT);
        json_decref(sc);
        json_object_clear(s->pending);
        *event_id = h->seq;
        s->next_ping = now + (int64_t)s->ping * 1000; /* §7.3: since the previous event */
        next = PUSH_STATE;
    } else if (h->stopping) {
        next = PUSH_CLOSED;
    } else if (s->ping && now >= s->next_ping) {
        s->next_ping = now + (int64_t)s->ping * 1000;
        next = PUSH_PING;
    } else {
        s->waiting = true;
        arm_wait(ud);
        next = PUSH_WAIT;
    }
    pthread_mutex_unlock(&h->lock);
    return next;
}
