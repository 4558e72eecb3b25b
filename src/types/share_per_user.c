/*
 * share_per_user.c — a sharee's per-user values read per method call
 * (draft-ietf-jmap-calendars-27 §5.4 "Per-user properties"; issue 14's bound: a
 * read-only sharee's CalendarEvent/get within 20% of the owner's). share.c overlays
 * the values (share_member_view); this file answers where they come from and whether
 * an event needs an overlay at all (share_event_as_stored): most events of a shared
 * calendar have no per-user row for the sharee, and their view is the owner's one,
 * written by the same path (calendar_event_get.c) without a copy.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jmap/engine.h"
#include "types/share.h"
#include "types/share_internal.h"
#include "util/util.h"

/* Read at once (issue 14): a sharee's /get read each object's per-user values, and the
 * record of its shared `updated`, one store read each. Within one method call that only
 * reads (the rights memo's rule: the call's invocation held, a write forgets it), after
 * PROPS_EAGER single reads of one (user, type) the rest are read at once, if there are at
 * most PROPS_MAX of them, and answered from there. */
#define PROPS_EAGER 4
#define PROPS_MAX 512
#define PROPS_SETS 4 /* (user, type) pairs per call: the user's and the records of user 0 */

struct props_set {
    int64_t user;
    char type[32];
    int reads;   /* single reads so far */
    bool over;   /* more than PROPS_MAX rows: single reads */
    json_t *all; /* id -> values, once read */
};

struct props_memo {
    json_t *call;
    char account[64];
    size_t n;
    struct props_set sets[PROPS_SETS];
};
static pthread_key_t props_key;
static pthread_once_t props_once = PTHREAD_ONCE_INIT;

static void props_memo_clear(struct props_memo *m)
{
    json_decref(m->call);
    for (size_t i = 0; i < m->n; i++)
        json_decref(m->sets[i].all);
    memset(m, 0, sizeof *m);
}

static void props_memo_free(void *p)
{
    props_memo_clear(p);
    free(p);
}

static void props_init(void)
{
    pthread_key_create(&props_key, props_memo_free);
}

static struct props_memo *props_memo_for(struct jmap_req *r, const char *account)
{
    if (!r || !r->call)
        return NULL;
    pthread_once(&props_once, props_init);
    struct props_memo *m = pthread_getspecific(props_key);
    bool writing = store_in_write(jmap_req_conn(r));
    if (m && m->call && (writing || m->call != r->call || strcmp(m->account, account)))
        props_memo_clear(m);
    if (writing || strlen(account) >= sizeof m->account)
        return NULL;
    if (!m) {
        m = xcalloc(1, sizeof *m);
        pthread_setspecific(props_key, m);
    }
    if (!m->call) {
        m->call = json_incref(r->call);
        snprintf(m->account, sizeof m->account, "%s", account);
    }
    return m;
}

static struct props_set *props_set_for(struct props_memo *m, int64_t user, const char *type)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->sets[i].user == user && strcmp(m->sets[i].type, type) == 0)
            return &m->sets[i];
    if (m->n == PROPS_SETS || strlen(type) >= sizeof m->sets[0].type)
        return NULL;
    struct props_set *s = &m->sets[m->n++];
    memset(s, 0, sizeof *s);
    s->user = user;
    snprintf(s->type, sizeof s->type, "%s", type);
    return s;
}

static int props_collect(const char *object_id, json_t *data, void *ud)
{
    json_object_set(ud, object_id, data);
    return 0;
}

/* The memo's rows of (user, type), read at once if they are not yet and now is true
 * or enough single reads were made; NULL where the store must be asked (few reads yet,
 * too many rows, no read call). */
static json_t *props_memo_all(struct jmap_req *r, int64_t user, const char *account,
                              const char *type, bool now)
{
    struct props_memo *m = props_memo_for(r, account);
    struct props_set *s = m ? props_set_for(m, user, type) : NULL;
    if (!s || s->over)
        return NULL;
    if (!s->all && ++s->reads < PROPS_EAGER && !now)
        return NULL;
    if (!s->all) {
        json_t *all = json_object();
        int64_t got = store_user_props_list(jmap_req_conn(r), user, account, type, PROPS_MAX + 1,
                                            props_collect, all);
        if (got < 0 || got > PROPS_MAX) {
            json_decref(all);
            s->over = true;
            return false;
        }
        s->all = all;
    }
    return s->all;
}

/* The memo's answer for id: true with *out the values (borrowed, NULL: none) or false
 * where the store must be asked. */
static bool props_memo_answer(struct jmap_req *r, int64_t user, const char *account,
                              const char *type, const char *id, json_t **out)
{
    json_t *all = props_memo_all(r, user, account, type, false);
    if (!all)
        return false;
    *out = json_object_size(all) ? json_object_get(all, id) : NULL;
    return true;
}

bool share_user_props_none(struct jmap_req *r, int64_t user_id, const char *account,
                           const char *type)
{
    json_t *all = props_memo_all(r, user_id, account, type, true);
    return all && json_object_size(all) == 0;
}

json_t *share_user_props(struct jmap_req *r, int64_t user_id, const char *account, const char *type,
                         const char *id)
{
    json_t *v;
    if (props_memo_answer(r, user_id, account, type, id, &v))
        return v ? json_deep_copy(v) : NULL; /* callers change them */
    return store_user_props_get(jmap_req_conn(r), user_id, account, type, id);
}

json_t *share_user_props_peek(struct jmap_req *r, int64_t user_id, const char *account,
                              const char *type, const char *id, json_t **held)
{
    json_t *v;
    *held = NULL;
    if (props_memo_answer(r, user_id, account, type, id, &v))
        return v;
    return *held = store_user_props_get(jmap_req_conn(r), user_id, account, type, id);
}

/* ---- events without an overlay ----------------------------------------------------------------
 */

/* Whether a recurrenceOverrides PatchObject key names a per-user property (§5.4) or the
 * privacy (§5.7) of one occurrence. */
static bool override_key_personal(const char *key)
{
    if (strncmp(key, "privacy", 7) == 0 && (key[7] == 0 || key[7] == '/'))
        return true;
    for (const char *const *p = share_member_per_user(SHARE_CALENDAR); *p; p++) {
        size_t n = strlen(*p);
        if (strncmp(key, *p, n) == 0 && (key[n] == 0 || key[n] == '/'))
            return true;
    }
    return false;
}

/* What share_member_view changes of obj whoever the sharee: a private or secret event
 * (§5.7), per-user values of the owner (the sharee sees the defaults, §5.4),
 * per-occurrence ones. */
bool share_event_shape_plain(json_t *obj)
{
    const char *privacy = json_string_value(json_object_get(obj, "privacy"));
    if (privacy && strcmp(privacy, "public"))
        return false;
    for (const char *const *p = share_member_per_user(SHARE_CALENDAR); *p; p++)
        if (json_object_get(obj, *p))
            return false;
    const char *rid, *key;
    json_t *ov, *v;
    json_object_foreach(json_object_get(obj, "recurrenceOverrides"), rid, ov)
    {
        json_object_foreach(ov, key, v)
        {
            if (override_key_personal(key))
                return false;
        }
    }
    return true;
}

bool share_event_readable_in(json_t *rights, json_t *obj)
{
    json_t *ids = json_object_get(obj, "calendarIds");
    const char *key;
    json_t *v;
    if (!json_is_object(ids) || json_object_size(ids) == 0)
        return false;
    json_object_foreach(ids, key, v)
    {
        if (!(json_integer_value(json_object_get(rights, key)) & CR_READ))
            return false;
    }
    return true;
}

bool share_event_as_stored(struct jmap_req *r, const struct store_access *a, json_t *obj,
                           const char *id)
{
    if (!share_filtered(a))
        return true;
    if (!id || !share_event_shape_plain(obj))
        return false;
    json_t *rights = share_collection_rights(r, a, SHARE_CALENDAR);
    bool readable = share_event_readable_in(rights, obj);
    json_decref(rights);
    if (!readable)
        return false;
    json_t *held, *mine = share_user_props_peek(r, r->user->id, a->account_id,
                                                share_kinds[SHARE_CALENDAR].member, id, &held);
    bool as_stored = !mine && !share_updated_recorded(r, SHARE_CALENDAR, a->account_id, id, obj);
    json_decref(held);
    return as_stored;
}
