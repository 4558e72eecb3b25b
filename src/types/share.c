/*
 * share.c — sharing of calendars and address books (see share.h): the rights of
 * the user on each collection from its shareWith (RFC 9670 §4; calendars-27 §4;
 * RFC 9610 §2), their enforcement on the collections and on their members
 * (events, cards), per-user properties (calendars-27 §4, §5.4) and privacy
 * (§5.7). Only accounts reached through shares (share_filtered) are checked here:
 * the owner and account-wide grants keep their fixed rights and the fast path.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/json/patch.h"
#include "formats/recurrence/recur.h"
#include "jmap/engine.h"
#include "types/calendar_alert.h"
#include "types/calendar_event.h"
#include "types/event_cache.h"
#include "types/share.h"
#include "types/share_internal.h"
#include "util/util.h"

/* ---- the three kinds ---------------------------------------------------------------------- */

static const char *const calendar_rights[] = {"mayReadFreeBusy", "mayReadItems",     "mayWriteAll",
                                              "mayWriteOwn",     "mayUpdatePrivate", "mayRSVP",
                                              "mayShare",        "mayDelete",        NULL};
static const char *const book_rights_names[] = {"mayRead", "mayWrite", "mayShare", "mayDelete",
                                                NULL};
/* calendars-27 §4: what a sharee sets for themselves alone */
static const char *const calendar_per_user[] = {"name",
                                                "color",
                                                "sortOrder",
                                                "isVisible",
                                                "isSubscribed",
                                                "timeZone",
                                                "includeInAvailability",
                                                "defaultAlertsWithoutTime",
                                                "defaultAlertsWithTime",
                                                NULL};
static const char *const book_per_user[] = {"isSubscribed", NULL};
/* tasks-06 §4 TaskRights, in bit order (TR_*) */
static const char *const task_list_rights[] = {"mayReadItems",     "mayWriteAll", "mayWriteOwn",
                                               "mayUpdatePrivate", "mayRSVP",     "mayAdmin",
                                               "mayDelete",        NULL};
/* tasks-06 §4.3: "stored per-user" (isSubscribed as for calendars, §4) */
static const char *const task_list_per_user[] = {"name",
                                                 "color",
                                                 "sortOrder",
                                                 "isSubscribed",
                                                 "timeZone",
                                                 "defaultAlertsWithoutTime",
                                                 "defaultAlertsWithTime",
                                                 NULL};
/* the members' per-user properties: events' and tasks' types_per_user (calendars-27 §5.4,
 * §10.8.2; tasks-06 §4 names no list of its own, docs/tasks.md); a card has none */
static const char *const card_per_user[] = {NULL};

const struct kind share_kinds[] = {
    [SHARE_CALENDAR] = {"Calendar", "CalendarEvent", "calendarIds", calendar_rights, CR_READ,
                        CR_WRITE_ALL, CR_SHARE, CR_DELETE, 0xffu, 0x7fu, CR_FREEBUSY | CR_READ,
                        calendar_per_user, types_per_user, "owner", CR_WRITE_OWN, CR_UPDATE_PRIVATE,
                        CR_RSVP, false},
    [SHARE_ADDRESS_BOOK] = {"AddressBook", "ContactCard", "addressBookIds", book_rights_names,
                            AR_READ, AR_WRITE, AR_SHARE, AR_DELETE, 0x0fu, AR_READ | AR_WRITE,
                            AR_READ, book_per_user, card_per_user, NULL, 0, 0, 0, false},
    /* tasks-06 §4: the owner of a task is a participant with the "chair" role */
    [SHARE_TASK_LIST] = {"TaskList", "Task", "taskListId", task_list_rights, TR_READ, TR_WRITE_ALL,
                         TR_ADMIN, TR_DELETE, 0x7fu, 0x3fu, TR_READ, task_list_per_user,
                         types_per_user, "chair", TR_WRITE_OWN, TR_UPDATE_PRIVATE, TR_RSVP, true},
};

const char *const *share_member_per_user(enum share_kind k)
{
    return share_kinds[k].member_per_user;
}

/* The collections a member is in, as an Id[Boolean] (a new reference). */
json_t *share_member_collections(enum share_kind k, json_t *obj)
{
    json_t *v = json_object_get(obj, share_kinds[k].set_prop);
    if (!share_kinds[k].single)
        return json_incref(json_is_object(v) ? v : NULL);
    json_t *set = json_object();
    if (json_is_string(v))
        json_object_set_new(set, json_string_value(v), json_true());
    return set;
}

/* json_equal, where two missing values are equal too */
static bool same(json_t *a, json_t *b)
{
    return a == b || (a && b && json_equal(a, b));
}

static bool listed(const char *const *names, const char *name)
{
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

json_t *share_rights_json(enum share_kind k, unsigned bits)
{
    json_t *o = json_object();
    for (unsigned i = 0; share_kinds[k].names[i]; i++)
        json_object_set_new(o, share_kinds[k].names[i], json_boolean(bits & (1u << i)));
    return o;
}

/* A rights object of the kind: every key known, every value a Boolean; -1 if not. */
static int rights_parse(enum share_kind k, json_t *v)
{
    if (!json_is_object(v))
        return -1;
    unsigned bits = 0;
    const char *key;
    json_t *b;
    json_object_foreach(v, key, b)
    {
        int i = 0;
        while (share_kinds[k].names[i] && strcmp(share_kinds[k].names[i], key))
            i++;
        if (!share_kinds[k].names[i] || !json_is_boolean(b))
            return -1;
        if (json_is_true(b))
            bits |= 1u << i;
    }
    /* calendars-27 §4, tasks-06 §4: mayWriteAll implies mayWriteOwn, mayUpdatePrivate,
     * mayRSVP */
    if (bits & share_kinds[k].write && share_kinds[k].write_own)
        bits |= share_kinds[k].write_own | share_kinds[k].update_private | share_kinds[k].rsvp;
    return (int)bits;
}

unsigned share_rights(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                      json_t *collection)
{
    const struct kind *d = &share_kinds[k];
    if (a->is_personal)
        return d->all;
    if (!a->shared)
        return a->may_write ? d->legacy_write : d->legacy_read;
    return share_rights_of_user(r->user, k, collection);
}

unsigned share_rights_of_user(const struct jmap_user *u, enum share_kind k, json_t *collection)
{
    unsigned bits = 0;
    const char *pid;
    json_t *v;
    json_object_foreach(json_object_get(collection, "shareWith"), pid, v)
    {
        if (jmap_user_is_principal(u, pid)) {
            int b = rights_parse(k, v);
            bits |= b > 0 ? (unsigned)b : 0;
        }
    }
    return bits;
}

/* ---- the per-request map of collection rights ---------------------------------------------- */

/* A few recent maps, shared by the threads (a global: nothing is lost at a thread's
 * exit); keyed by everything the rights depend on: the user, their groups (the
 * session state), the account and the collections' state. */
#define RIGHTS_SLOTS 8
struct rights_cache {
    int64_t user_id, modseq;
    uint64_t used;
    char session[24], account[64];
    enum share_kind kind;
    json_t *map;
};
static struct rights_cache slots[RIGHTS_SLOTS];
static uint64_t slots_clock;
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

struct fill {
    struct jmap_req *r;
    const struct store_access *a;
    enum share_kind k;
    json_t *map;
};

static int fill_cb(const char *id, json_t *obj, void *ud)
{
    struct fill *f = ud;
    json_object_set_new(f->map, id, json_integer(share_rights(f->r, f->a, f->k, obj)));
    return 0;
}

static bool slot_is(const struct rights_cache *c, struct jmap_req *r, const char *account,
                    enum share_kind k, int64_t modseq)
{
    return c->map && c->user_id == r->user->id && c->modseq == modseq && c->kind == k &&
           strcmp(c->account, account) == 0 && strcmp(c->session, r->user->session_state) == 0;
}

/* The map of the method call running on this thread (issue 14): a sharee's /get asked
 * for it several times per object, each time reading the collections' state (a store
 * read). Kept within one call while it only reads (a write forgets it): the memo
 * holds a reference to the call's invocation, so no other call can have its address;
 * freed at the thread's exit (the key's destructor). */
struct rights_memo {
    json_t *call, *map;
    enum share_kind kind;
    char account[64];
};
static pthread_key_t memo_key;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;

static void memo_free(void *p)
{
    struct rights_memo *m = p;
    json_decref(m->call);
    json_decref(m->map);
    free(m);
}

static void memo_init(void)
{
    pthread_key_create(&memo_key, memo_free);
}

static struct rights_memo *memo_for(struct jmap_req *r)
{
    if (!r->call)
        return NULL;
    pthread_once(&memo_once, memo_init);
    struct rights_memo *m = pthread_getspecific(memo_key);
    if (m && store_in_write(jmap_req_conn(r))) { /* a write may change the rights: the */
        json_decref(m->call);                    /* reads after it read them again */
        m->call = NULL;
    }
    if (store_in_write(jmap_req_conn(r)))
        return NULL;
    if (!m) {
        m = xcalloc(1, sizeof *m);
        pthread_setspecific(memo_key, m);
    }
    return m;
}

static json_t *rights_read(struct jmap_req *r, const struct store_access *a, enum share_kind k);

json_t *share_collection_rights(struct jmap_req *r, const struct store_access *a, enum share_kind k)
{
    struct rights_memo *m = memo_for(r);
    if (m && m->call == r->call && m->kind == k && strcmp(m->account, a->account_id) == 0)
        return json_incref(m->map);
    json_t *map = rights_read(r, a, k);
    if (m) {
        json_decref(m->call);
        json_decref(m->map);
        m->call = json_incref(r->call);
        m->map = json_incref(map);
        m->kind = k;
        snprintf(m->account, sizeof m->account, "%s", a->account_id);
    }
    return map;
}

json_t *share_collection_rights_peek(struct jmap_req *r, const struct store_access *a,
                                     enum share_kind k)
{
    json_t *map = share_collection_rights(r, a, k);
    struct rights_memo *m = memo_for(r);
    bool held = m && m->map == map && m->call == r->call;
    json_decref(map); /* the memo's reference stays */
    return held ? map : NULL;
}

static json_t *rights_read(struct jmap_req *r, const struct store_access *a, enum share_kind k)
{
    struct store_conn *c = jmap_req_conn(r);
    int64_t modseq = store_state_get(c, a->account_id, share_kinds[k].type);
    pthread_mutex_lock(&slots_lock);
    for (size_t i = 0; i < RIGHTS_SLOTS; i++)
        if (slot_is(&slots[i], r, a->account_id, k, modseq)) {
            slots[i].used = ++slots_clock;
            json_t *map = json_incref(slots[i].map);
            pthread_mutex_unlock(&slots_lock);
            return map;
        }
    pthread_mutex_unlock(&slots_lock);
    struct fill f = {r, a, k, json_object()};
    store_object_foreach(c, a->account_id, share_kinds[k].type, fill_cb, &f);
    pthread_mutex_lock(&slots_lock);
    size_t slot = 0;
    for (size_t i = 1; i < RIGHTS_SLOTS; i++)
        if (slots[i].used < slots[slot].used)
            slot = i;
    json_decref(slots[slot].map);
    slots[slot] = (struct rights_cache){.user_id = r->user->id,
                                        .modseq = modseq,
                                        .kind = k,
                                        .used = ++slots_clock,
                                        .map = json_incref(f.map)};
    snprintf(slots[slot].session, sizeof slots[slot].session, "%s", r->user->session_state);
    snprintf(slots[slot].account, sizeof slots[slot].account, "%s", a->account_id);
    pthread_mutex_unlock(&slots_lock);
    return f.map;
}

unsigned share_rights_of(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                         const char *collection_id)
{
    if (!share_filtered(a))
        return share_rights(r, a, k, NULL);
    json_t *map = share_collection_rights(r, a, k);
    unsigned bits = (unsigned)json_integer_value(json_object_get(map, collection_id));
    json_decref(map);
    return bits;
}

/* ---- per-user properties --------------------------------------------------------------------- */

static bool patch_touches(const char *key, const char *prop);

bool share_patch_own_values(enum share_kind k, json_t *patch)
{
    const char *key;
    json_t *v;
    json_object_foreach(patch, key, v)
    {
        bool own = false;
        for (const char *const *p = share_kinds[k].per_user; *p && !own; p++)
            own = patch_touches(key, *p);
        if (!own)
            return false;
    }
    return true;
}

/* The user's own values over obj's (props: the per-user names), or, where they have
 * none and fresh is set, the property removed (the default: calendars-27 §5.4). */
static void overlay_mine(json_t *obj, json_t *mine, const char *const *props, bool fresh)
{
    for (; *props; props++) {
        json_t *v = json_object_get(mine, *props);
        if (v)
            json_object_set(obj, *props, v);
        else if (fresh)
            json_object_del(obj, *props);
    }
}

static void overlay(struct jmap_req *r, const char *account, const char *type, json_t *obj,
                    const char *const *props, bool fresh)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    json_t *mine =
        id ? store_user_props_get(jmap_req_conn(r), r->user->id, account, type, id) : NULL;
    overlay_mine(obj, mine, props, fresh);
    json_decref(mine);
}

/* Whether the patch key (a JSON pointer without the leading "/") is prop or under it. */
static bool patch_touches(const char *key, const char *prop)
{
    size_t n = strlen(prop);
    return strncmp(key, prop, n) == 0 && (key[n] == 0 || key[n] == '/');
}

/* An update by a sharee: the patch's changes of per-user properties apply to their
 * own values (over the shared ones, or the defaults when fresh) and are kept for
 * them alone; obj keeps the shared values. Returns a SetError or NULL. */
static json_t *keep_per_user(struct jset *s, const char *type, json_t *obj, json_t *old,
                             const char *const *props, bool fresh)
{
    struct jmap_req *r = jset_req(s);
    json_t *patch = jset_patch(s), *sub = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(patch, key, v)
    {
        for (const char *const *p = props; *p; p++)
            if (patch_touches(key, *p))
                json_object_set(sub, key, v);
    }
    if (json_object_size(sub) == 0) {
        json_decref(sub);
        return NULL;
    }
    json_t *view = json_deep_copy(old);
    overlay(r, jset_account(s), type, view, props, fresh);
    char *bad = NULL;
    json_t *err = NULL;
    if (patch_apply(view, sub, &bad) != 0) {
        err = jmap_seterror("invalidPatch", "cannot apply '%s'", bad ? bad : "");
    } else {
        const char *id = json_string_value(json_object_get(old, "id"));
        json_t *mine = store_user_props_get(jset_conn(s), r->user->id, jset_account(s), type, id);
        if (!mine)
            mine = json_object();
        for (const char *const *p = props; *p; p++) {
            bool touched = false;
            json_object_foreach(sub, key, v)
            {
                touched |= patch_touches(key, *p);
            }
            if (!touched)
                continue;
            json_t *nv = json_object_get(view, *p), *ov = json_object_get(old, *p);
            if (nv && !json_is_null(nv))
                json_object_set(mine, *p, nv);
            else
                json_object_del(mine, *p);
            jset_keep_apart(s, *p, nv ? nv : json_null());
            if (ov)
                json_object_set(obj, *p, ov);
            else
                json_object_del(obj, *p);
        }
        store_user_props_put(jset_conn(s), r->user->id, jset_account(s), type, id, mine);
        calendar_alert_user_changed(jset_conn(s), jset_account(s), type, id, r->user->id);
        jmap_accounts_touch(); /* isSubscribed decides the session's accounts */
        json_decref(mine);
    }
    free(bad);
    json_decref(view);
    json_decref(sub);
    return err;
}

/* ---- collections ----------------------------------------------------------------------------- */

/* calendars-27 §4: "The "sortOrder", "isVisible", "includeInAvailability",
 * "defaultAlertsWithTime", and "defaultAlertsWithoutTime" properties are initially the
 * default value for each user with whom the calendar is shared; they are not inherited
 * from the owner" ("none" for includeInAvailability: "should default to [...] "none"
 * for calendars shared with the user"). */
static void sharee_defaults(struct jmap_req *r, const char *account, json_t *cal)
{
    static const char *const names[] = {"sortOrder", "isVisible", "includeInAvailability",
                                        "defaultAlertsWithTime", "defaultAlertsWithoutTime"};
    const char *id = json_string_value(json_object_get(cal, "id"));
    json_t *mine = id ? share_user_props(r, r->user->id, account, "Calendar", id) : NULL;
    json_t *defaults[] = {json_integer(0), json_true(), json_string("none"), json_null(),
                          json_null()};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!json_object_get(mine, names[i]))
            json_object_set(cal, names[i], defaults[i]);
        json_decref(defaults[i]);
    }
    json_decref(mine);
}

json_t *share_collection_view(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                              json_t *obj)
{
    unsigned bits = share_rights(r, a, k, obj);
    json_t *out = json_deep_copy(obj);
    if (share_filtered(a)) {
        /* calendars-27 §4.1: with mayReadFreeBusy alone it does not exist */
        if (!(bits & share_kinds[k].read)) {
            json_decref(out);
            return NULL;
        }
        overlay(r, a->account_id, share_kinds[k].type, out, share_kinds[k].per_user, false);
        if (k == SHARE_CALENDAR)
            sharee_defaults(r, a->account_id, out);
        if (!(bits & share_kinds[k].share))
            json_object_set_new(out, "shareWith", json_null());
    }
    json_object_set_new(out, "myRights", share_rights_json(k, bits));
    return out;
}

/* For push (hub.h "#grants"): the account reaches user_id's open streams. */
static void grant_push(struct jmap_req *r, int64_t user_id, const char *account)
{
    if (!r || !r->changed)
        return;
    json_t *grants = json_object_get(r->changed, "#grants");
    if (!grants) {
        grants = json_array();
        json_object_set_new(r->changed, "#grants", grants);
    }
    json_array_append_new(grants, json_pack("[I, s]", (json_int_t)user_id, account));
}

static int grant_member(int64_t user_id, void *ud)
{
    struct jset *s = ud;
    grant_push(jset_req(s), user_id, jset_account(s));
    return 0;
}

/* The users a principal stands for get the account on their push streams. */
static void grant_principal(struct jset *s, const char *pid, const char *type)
{
    if (strcmp(type, "group") == 0) {
        store_group_members(jset_conn(s), pid, grant_member, s);
        return;
    }
    struct store_user u = {0};
    if (store_user_by_account(jset_conn(s), pid, &u) == STORE_OK)
        grant_push(jset_req(s), u.id, jset_account(s));
    store_user_clear(&u);
}

static int collect_group(const char *group_id, void *ud)
{
    json_object_set_new(ud, group_id, json_true());
    return 0;
}

/* The rights a shareWith gives to the principals of principals (id -> true). */
static unsigned rights_for(enum share_kind k, json_t *share_with, json_t *principals)
{
    unsigned bits = 0;
    const char *pid;
    json_t *v;
    json_object_foreach(share_with, pid, v)
    {
        int b = json_object_get(principals, pid) ? rights_parse(k, v) : 0;
        bits |= b > 0 ? (unsigned)b : 0;
    }
    return bits;
}

/* RFC 9670 §3: "whenever the user's permissions change": each user concerned (a
 * sharee named, each member of a group named; users: id -> true) whose own rights,
 * through all their principals, change gets a ShareNotification in their own account. */
static void notify_users(struct jset *s, enum share_kind k, json_t *users, json_t *obj,
                         json_t *was, json_t *now)
{
    struct store_conn *c = jset_conn(s);
    const char *key;
    json_t *x;
    json_object_foreach(users, key, x)
    {
        struct store_user u = {0};
        if (store_user_get_by_id(c, strtoll(key, NULL, 10), &u) != STORE_OK ||
            strcmp(u.account_id, jset_account(s)) == 0) {
            store_user_clear(&u);
            continue;
        }
        json_t *mine = json_object();
        json_object_set_new(mine, u.account_id, json_true());
        store_user_groups(c, u.id, collect_group, mine);
        unsigned ob = rights_for(k, was, mine), nb = rights_for(k, now, mine);
        if (ob != nb) {
            json_t *oj = ob ? share_rights_json(k, ob) : NULL;
            json_t *nj = nb ? share_rights_json(k, nb) : NULL;
            share_notification_add(c, jset_req(s), u.account_id, share_kinds[k].type,
                                   jset_account(s), json_string_value(json_object_get(obj, "id")),
                                   json_string_value(json_object_get(obj, "name")), oj, nj);
            json_decref(oj);
            json_decref(nj);
        }
        json_decref(mine);
        store_user_clear(&u);
    }
}

static int collect_member(int64_t user_id, void *ud)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)user_id);
    json_object_set_new(ud, key, json_true());
    return 0;
}

/* The owner's principal id of an account: the account id (principal.c). */
static void notify_changes(struct jset *s, enum share_kind k, json_t *obj, json_t *old)
{
    json_t *was = old ? json_object_get(old, "shareWith") : NULL,
           *now = json_object_get(obj, "shareWith");
    json_t *keys = json_object();
    const char *pid;
    json_t *v;
    json_object_foreach(was, pid, v)
    {
        json_object_set_new(keys, pid, json_true());
    }
    json_object_foreach(now, pid, v)
    {
        json_object_set_new(keys, pid, json_true());
    }
    const char *id = json_string_value(json_object_get(obj, "id"));
    json_t *users = json_object();
    json_object_foreach(keys, pid, v)
    {
        json_t *o = json_object_get(was, pid), *n = json_object_get(now, pid);
        if (same(o, n) || !id)
            continue;
        json_t *p = principal_load(jset_conn(s), pid);
        const char *type = json_string_value(json_object_get(p, "type"));
        /* RFC 9670 §1.4: only an account the user may read reaches their push streams
         * (calendars-27 §4.1: a share of free/busy alone is none) */
        int nb = n ? rights_parse(k, n) : 0;
        if (type && nb > 0 && ((unsigned)nb & share_kinds[k].read))
            grant_principal(s, pid, type);
        /* RFC 9670 §3: the user, or each member of the group */
        if (type && strcmp(type, "group") == 0) {
            store_group_members(jset_conn(s), pid, collect_member, users);
        } else if (type && strcmp(type, "individual") == 0) {
            struct store_user u = {0};
            if (store_user_by_account(jset_conn(s), pid, &u) == STORE_OK)
                collect_member(u.id, users);
            store_user_clear(&u);
        }
        json_decref(p);
    }
    notify_users(s, k, users, obj, was, now);
    json_decref(users);
    json_decref(keys);
}

/* RFC 9670 §4, calendars-27 §4.3: principals that exist, never the owner, rights
 * objects; a right given only by one who has it. */
static json_t *check_share_with(struct jset *s, enum share_kind k, json_t *obj, json_t *old,
                                unsigned mine, json_t *invalid)
{
    json_t *sw = json_object_get(obj, "shareWith"),
           *was = old ? json_object_get(old, "shareWith") : NULL;
    if (json_is_null(sw) || (json_is_object(sw) && json_object_size(sw) == 0)) {
        json_object_set_new(obj, "shareWith", json_null());
        sw = NULL;
    } else if (!json_is_object(sw)) {
        jset_invalid(s, invalid, "shareWith", "must be a map of principal id to rights, or null");
        return NULL;
    }
    if (!same(sw, json_is_null(was) ? NULL : was) && !(mine & share_kinds[k].share))
        return jmap_seterror("forbidden", "changing shareWith needs the %s right",
                             k == SHARE_TASK_LIST ? "mayAdmin" : "mayShare");
    const char *pid;
    json_t *v;
    json_object_foreach(sw, pid, v)
    {
        json_t *p = principal_load(jset_conn(s), pid);
        int bits = rights_parse(k, v), before = rights_parse(k, json_object_get(was, pid));
        json_decref(p);
        if (!p || strcmp(pid, jset_account(s)) == 0)
            jset_invalid(s, invalid, "shareWith",
                         "%s is not a principal other than the owner (RFC 9670 §4)", pid);
        else if (bits < 0)
            jset_invalid(s, invalid, "shareWith",
                         "the rights of %s must be a %sRights object "
                         "of Booleans",
                         pid, share_kinds[k].type);
        else if ((unsigned)bits & ~mine & ~(unsigned)(before < 0 ? 0 : before))
            return jmap_seterror("forbidden", "a right can be given only by one who has it");
    }
    return NULL;
}

json_t *share_collection_validate(struct jset *s, enum share_kind k, json_t *obj, json_t *old,
                                  json_t *invalid)
{
    const struct store_access *a = jset_access(s);
    if (!old && share_filtered(a))
        return jmap_seterror("forbidden", "only the owner creates collections in this account");
    unsigned mine = share_rights(jset_req(s), a, k, old ? old : obj);
    if (share_filtered(a) && old) {
        if (!(mine & share_kinds[k].read))
            return jmap_seterror("notFound", "no %s %s", share_kinds[k].type,
                                 json_string_value(json_object_get(old, "id")));
        json_t *err =
            keep_per_user(s, share_kinds[k].type, obj, old, share_kinds[k].per_user, false);
        if (err)
            return err;
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
            if (strcmp(key, "shareWith") && !same(v, json_object_get(old, key)))
                return jmap_seterror("forbidden", "a sharee may change only their own properties "
                                                  "and, with mayShare, shareWith");
        }
    }
    json_t *err = check_share_with(s, k, obj, old, mine, invalid);
    if (!err && json_array_size(invalid) == 0)
        notify_changes(s, k, obj, old);
    return err;
}

json_t *share_collection_destroy(struct jset *s, enum share_kind k, json_t *old)
{
    const struct store_access *a = jset_access(s);
    unsigned mine = share_rights(jset_req(s), a, k, old);
    if (share_filtered(a) && !(mine & share_kinds[k].read))
        return jmap_seterror("notFound", "no %s", share_kinds[k].type);
    if (!(mine & share_kinds[k].del))
        return jmap_seterror("forbidden", "deleting it needs the mayDelete right");
    if (json_object_size(json_object_get(old, "shareWith"))) {
        json_t *gone = json_deep_copy(old);
        json_object_set_new(gone, "shareWith", json_null());
        notify_changes(s, k, gone, old);
        json_decref(gone);
    }
    return NULL;
}

int share_collection_index(struct store_conn *c, enum share_kind k, const char *account,
                           const char *id, json_t *obj)
{
    json_t *sw = obj ? json_object_get(obj, "shareWith") : NULL;
    size_t n = json_object_size(sw), i = 0;
    struct store_share *shares = n ? xmalloc(n * sizeof *shares) : NULL;
    const char *pid;
    json_t *v;
    json_object_foreach(sw, pid, v)
    {
        int bits = rights_parse(k, v);
        /* any right but reading (and free/busy) */
        unsigned w =
            share_kinds[k].all & ~share_kinds[k].read & ~(k == SHARE_CALENDAR ? CR_FREEBUSY : 0u);
        /* may_read: calendars-27 §4.1, free/busy alone is no calendar of theirs */
        shares[i++] = (struct store_share){pid, bits > 0 && ((unsigned)bits & w),
                                           bits > 0 && ((unsigned)bits & share_kinds[k].read)};
    }
    int rc = store_share_set(c, account, share_kinds[k].type, id, shares, n);
    free(shares);
    jmap_accounts_touch(); /* the sharees' accounts may have changed */
    return rc ? -1 : 0;
}

/* ---- members: events, cards and tasks ---------------------------------------------------------
 */

struct identity_find {
    const char *address;
    bool found;
};

static int identity_cb(const char *id, json_t *obj, void *ud)
{
    struct identity_find *f = ud;
    const char *addr = json_string_value(json_object_get(obj, "calendarAddress"));
    f->found |= addr && strcasecmp(addr, f->address) == 0;
    return f->found;
}

/* The addresses that are the user (calendars-27 §3): the calendar address of their
 * principal and those of the ParticipantIdentities of their own account; never an
 * address that is another user's (an identity is not verified: it cannot claim
 * someone else's participant). */
static bool is_me(struct jmap_req *r, const char *address)
{
    const char *me = jmap_user_principal(r->user);
    if (!me || !address)
        return false;
    struct store_conn *c = jmap_req_conn(r);
    json_t *p = principal_load(c, me);
    const char *email = json_string_value(json_object_get(p, "email"));
    bool mailto = strncasecmp(address, "mailto:", 7) == 0;
    bool yes = email && mailto && strcasecmp(address + 7, email) == 0;
    json_decref(p);
    if (yes)
        return true;
    struct identity_find f = {address, false};
    store_object_foreach(c, me, participant_identity_type.name, identity_cb, &f);
    char other[64];
    if (f.found && mailto && principal_find_email(c, address + 7, other) == STORE_OK &&
        strcmp(other, me) != 0)
        return false;
    return f.found;
}

bool share_is_me(struct jmap_req *r, const char *address)
{
    return is_me(r, address);
}

bool share_member_visible(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                          json_t *obj)
{
    if (!share_filtered(a))
        return true;
    const char *privacy = json_string_value(json_object_get(obj, "privacy"));
    if (share_kinds[k].owner_role && privacy && strcmp(privacy, "secret") == 0)
        return false; /* calendars-27 §5.7: as though it did not exist (tasks by analogy) */
    json_t *set = share_member_collections(k, obj);
    const char *cid;
    json_t *v;
    bool yes = false;
    json_object_foreach(set, cid, v)
    {
        yes |= (share_rights_of(r, a, k, cid) & share_kinds[k].read) != 0;
    }
    json_decref(set);
    return yes;
}

/* jscalendarbis §4.4.3 "private": the basic time and metadata, and calendars-27
 * §5.7's JMAP properties */
static const char *const private_props[] = {"@type",
                                            "created",
                                            "due",
                                            "duration",
                                            "estimatedDuration",
                                            "freeBusyStatus",
                                            "privacy",
                                            "recurrenceId",
                                            "recurrenceIdTimeZone",
                                            "recurrenceOverrides",
                                            "recurrenceRule",
                                            "recurrenceRules",
                                            "excludedRecurrenceRules",
                                            "sequence",
                                            "showWithoutTime",
                                            "start",
                                            "timeZone",
                                            "uid",
                                            "updated",
                                            "id",
                                            "baseEventId",
                                            "calendarIds",
                                            "isDraft",
                                            "isOrigin",
                                            "utcStart",
                                            "utcEnd",
                                            "taskListId",
                                            "baseTaskId",
                                            "utcDue",
                                            NULL};

/* participants: only the owners and the user (tasks-06 §5.4 hideAttendees) */
static void keep_owners_and_me(struct jmap_req *r, enum share_kind k, json_t *participants)
{
    const char *pid;
    json_t *p;
    void *tmp;
    json_object_foreach_safe(participants, tmp, pid, p)
    {
        bool owner =
            json_is_true(json_object_get(json_object_get(p, "roles"), share_kinds[k].owner_role));
        if (!owner && !is_me(r, json_string_value(json_object_get(p, "calendarAddress"))))
            json_object_del(participants, pid);
    }
}

/* tasks-06 §5.4 hideAttendees: "only the owners of the task may see the full set of
 * participants. Other sharees of the task may only see the owners and themselves." */
static void hide_attendees(struct jmap_req *r, enum share_kind k, json_t *obj)
{
    const char *pid;
    json_t *p;
    json_object_foreach(json_object_get(obj, "participants"), pid, p)
    {
        if (json_is_true(json_object_get(json_object_get(p, "roles"), share_kinds[k].owner_role)) &&
            is_me(r, json_string_value(json_object_get(p, "calendarAddress"))))
            return; /* an owner sees everyone */
    }
    json_t *all = json_deep_copy(json_object_get(obj, "participants"));
    keep_owners_and_me(r, k, json_object_get(obj, "participants"));
    json_t *kept = json_object_get(obj, "participants");
    const char *rid;
    json_t *ov;
    json_object_foreach(json_object_get(obj, "recurrenceOverrides"), rid, ov)
    {
        keep_owners_and_me(r, k, json_object_get(ov, "participants"));
        /* patches of one hidden participant ("participants/ID/...") go too */
        const char *key;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(ov, tmp, key, v)
        {
            if (strncmp(key, "participants/", 13))
                continue;
            char id[256];
            snprintf(id, sizeof id, "%s", key + 13);
            char *slash = strchr(id, '/');
            if (slash)
                *slash = 0;
            bool keep;
            if (json_object_get(all, id)) /* as the series' participant */
                keep = json_object_get(kept, id) != NULL;
            else /* one the instance adds: whole, an owner or the user */
                keep = !slash && json_is_object(v) &&
                       (json_is_true(json_object_get(json_object_get(v, "roles"),
                                                     share_kinds[k].owner_role)) ||
                        is_me(r, json_string_value(json_object_get(v, "calendarAddress"))));
            if (!keep)
                json_object_del(ov, key);
        }
    }
    json_decref(all);
}

static void overlay_overrides(json_t *obj, json_t *mine);

/* An occurrence (a synthetic instance of base) as the sharee sees it: their values of
 * the series, then their values of this occurrence (§5.4). */
static void instance_overlay(struct jmap_req *r, const char *account, const char *base,
                             json_t *obj)
{
    json_t *mine =
        share_user_props(r, r->user->id, account, share_kinds[SHARE_CALENDAR].member, base);
    share_view_updated(r, SHARE_CALENDAR, account, base, obj, mine);
    for (const char *const *p = share_kinds[SHARE_CALENDAR].member_per_user; *p; p++) {
        json_t *v = json_object_get(mine, *p);
        if (v)
            json_object_set(obj, *p, v);
        else
            json_object_del(obj, *p);
    }
    const char *rid = json_string_value(json_object_get(obj, "recurrenceId"));
    json_t *ov = rid ? json_object_get(json_object_get(mine, "#overrides"), rid) : NULL;
    if (json_is_object(ov)) {
        json_t *patch = json_deep_copy(ov);
        char *bad = NULL;
        patch_apply(obj, patch, &bad); /* a path that no longer applies is left out */
        free(bad);
        json_decref(patch);
    }
    json_decref(mine);
}

void share_member_view(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                       json_t *obj)
{
    if (!share_filtered(a))
        return;
    json_t *set = share_kinds[k].single ? NULL : json_object_get(obj, share_kinds[k].set_prop);
    const char *cid;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(set, tmp, cid, v)
    {
        if (!(share_rights_of(r, a, k, cid) & share_kinds[k].read))
            json_object_del(set, cid); /* a collection they cannot see does not exist */
    }
    const char *privacy = json_string_value(json_object_get(obj, "privacy"));
    if (share_kinds[k].owner_role && privacy && strcmp(privacy, "private") == 0) {
        const char *key;
        json_object_foreach_safe(obj, tmp, key, v)
        {
            if (!listed(private_props, key))
                json_object_del(obj, key);
        }
        const char *rid;
        json_t *ov;
        json_object_foreach(json_object_get(obj, "recurrenceOverrides"), rid, ov)
        {
            json_object_foreach_safe(ov, tmp, key, v)
            {
                if (!listed(private_props, key))
                    json_object_del(ov, key);
            }
        }
    }
    if (k == SHARE_TASK_LIST && json_is_true(json_object_get(obj, "hideAttendees")))
        hide_attendees(r, k, obj);
    const char *base = json_string_value(json_object_get(obj, "baseEventId"));
    if (k == SHARE_CALENDAR && base) {
        instance_overlay(r, a->account_id, base, obj); /* §5.4: an occurrence */
        return;
    }
    /* §5.4: the user's own values, of the series and per occurrence (one read); an
     * instance of a task has its series' (tasks-06 §5.3) */
    const char *id = json_string_value(json_object_get(obj, "id"));
    if (k == SHARE_TASK_LIST && json_is_string(json_object_get(obj, "baseTaskId")))
        id = json_string_value(json_object_get(obj, "baseTaskId"));
    json_t *mine =
        id ? share_user_props(r, r->user->id, a->account_id, share_kinds[k].member, id) : NULL;
    if (k == SHARE_CALENDAR)
        overlay_overrides(obj, mine);
    overlay_mine(obj, mine, share_kinds[k].member_per_user, true);
    if (id && share_kinds[k].owner_role)
        share_view_updated(r, k, a->account_id, id, obj, mine); /* §5.4 */
    json_decref(mine);
}

/* calendars-27 §4, tasks-06 §4: the user owns the event or task (is a participant
 * with the owner's role: "owner", for tasks "chair"), or nobody does (mayWriteOwn) */
static bool own_or_unowned(struct jmap_req *r, enum share_kind k, json_t *event)
{
    bool any_owner = false;
    const char *pid;
    json_t *p;
    json_object_foreach(json_object_get(event, "participants"), pid, p)
    {
        if (!json_is_true(json_object_get(json_object_get(p, "roles"), share_kinds[k].owner_role)))
            continue;
        any_owner = true;
        if (is_me(r, json_string_value(json_object_get(p, "calendarAddress"))))
            return true;
    }
    return !any_owner;
}

/* Whether obj differs from old only in the RSVP properties of the user's own
 * participants (calendars-27 §4 mayRSVP). */
static bool only_rsvp(struct jmap_req *r, json_t *obj, json_t *old)
{
    static const char *const rsvp[] = {"participationStatus", "participationComment", "expectReply",
                                       "scheduleAgent", "scheduleForceSend", "scheduleId",
                                       "delegatedTo", "delegatedFrom", "memberOf",
                                       "scheduleSequence", "scheduleUpdated",
                                       /* a task's assignee reports their progress
                                          (jscalendarbis §5.2.4, §5.2.5) */
                                       "progress", "progressUpdated", "percentComplete", NULL};
    json_t *a = json_deep_copy(obj), *b = json_deep_copy(old);
    json_t *pa = json_object_get(a, "participants"), *pb = json_object_get(b, "participants");
    const char *pid;
    json_t *p;
    json_object_foreach(pa, pid, p)
    {
        json_t *q = json_object_get(pb, pid);
        if (!q || !is_me(r, json_string_value(json_object_get(q, "calendarAddress"))))
            continue;
        for (const char *const *k = rsvp; *k; k++) {
            json_object_del(p, *k);
            json_object_del(q, *k);
        }
    }
    bool same = json_equal(a, b);
    json_decref(a);
    json_decref(b);
    return same;
}

/* Whether the user has the rights on collection cid for a change of the member. */
bool share_may_change_in(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                         const char *cid, json_t *member)
{
    unsigned bits = share_rights_of(r, a, k, cid);
    return (bits & share_kinds[k].write) ||
           ((bits & share_kinds[k].write_own) && own_or_unowned(r, k, member));
}

static json_t *forbidden(const char *why)
{
    return jmap_seterror("forbidden", "%s (calendars-27 §4, tasks-06 §4 myRights)", why);
}

/* Whether the member's collections changed: moving in or out needs the right in each
 * collection concerned (calendars-27 §4; tasks-06 §4 "appropriate permission"). */
static json_t *moves_check(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                           json_t *obj, json_t *old)
{
    json_t *now = obj ? share_member_collections(k, obj) : NULL,
           *was = old ? share_member_collections(k, old) : NULL;
    json_t *err = NULL;
    const char *cid;
    json_t *v;
    json_object_foreach(now, cid, v)
    {
        if (!err && !json_object_get(was, cid) && !share_may_change_in(r, a, k, cid, obj))
            err = forbidden("adding it to this collection needs mayWriteAll or mayWriteOwn");
    }
    json_object_foreach(was, cid, v)
    {
        if (!err && !json_object_get(now, cid) && !share_may_change_in(r, a, k, cid, old))
            err = forbidden("removing it from this collection needs mayWriteAll");
    }
    json_decref(now);
    json_decref(was);
    return err;
}

/* calendars-27 §4 myRights rules for an event in several calendars, and tasks-06 §4's
 * for a task in its list. */
static json_t *owned_member_check(struct jset *s, enum share_kind k, json_t *obj, json_t *old)
{
    struct jmap_req *r = jset_req(s);
    const struct store_access *a = jset_access(s);
    const char *type = share_kinds[k].member;
    if (old && !share_member_visible(r, a, k, old))
        return jmap_seterror("notFound", "no %s %s", type,
                             json_string_value(json_object_get(old, "id")));
    if (old && json_is_string(json_object_get(old, "privacy")) &&
        strcmp(json_string_value(json_object_get(old, "privacy")), "public"))
        return forbidden("a private item is changed only by the collection's owner (§5.9)");
    if (obj && json_is_string(json_object_get(obj, "privacy")) &&
        strcmp(json_string_value(json_object_get(obj, "privacy")), "public"))
        return jmap_seterror_props(json_pack("[s]", "privacy"),
                                   "privacy must be public in a collection of another user (§5.9)");
    json_t *err = moves_check(r, a, k, obj, old);
    if (err || !old || !obj)
        return err;
    /* any other change: the right in every collection it stays in */
    json_t *o2 = json_deep_copy(obj), *w2 = json_deep_copy(old);
    json_object_del(o2, share_kinds[k].set_prop);
    json_object_del(w2, share_kinds[k].set_prop);
    bool same = json_equal(o2, w2);
    bool rsvp = !same && only_rsvp(r, o2, w2);
    json_decref(o2);
    json_decref(w2);
    if (same)
        return NULL;
    json_t *now = share_member_collections(k, obj), *was = share_member_collections(k, old);
    const char *cid;
    json_t *v;
    json_object_foreach(now, cid, v)
    {
        if (err || !json_object_get(was, cid))
            continue;
        unsigned bits = share_rights_of(r, a, k, cid);
        if (!share_may_change_in(r, a, k, cid, old) && !(rsvp && (bits & share_kinds[k].rsvp)))
            err = forbidden("changing it needs mayWriteAll, mayWriteOwn or mayRSVP in each of "
                            "its collections");
    }
    json_decref(now);
    json_decref(was);
    return err;
}

/* calendars-27 §7: a change a sharee makes to an event leaves a notification in
 * the account for the others who can see it (the owner, other sharees). */
static void notify_edit(struct jset *s, json_t *obj, json_t *old)
{
    const char *id = json_string_value(json_object_get(obj ? obj : old, "id"));
    if (!id)
        return;
    json_t *patch = NULL;
    if (obj && old) {
        patch = json_object();
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
            if (!same(v, json_object_get(old, key)))
                json_object_set(patch, key, v);
        }
        json_object_foreach(old, key, v)
        {
            if (!json_object_get(obj, key))
                json_object_set_new(patch, key, json_null());
        }
    }
    calendar_event_notification_add(jset_conn(s), jset_req(s), jset_account(s),
                                    !old ? "created" : !obj ? "destroyed" : "updated", id,
                                    old ? old : obj, patch, NULL);
    json_decref(patch);
}

static json_t *member_check(struct jset *s, enum share_kind k, json_t *obj, json_t *old);

/* ---- per-user properties of single occurrences (§5.4) ------------------------------------ */

/* Whether a key of an override (a PatchObject: keys are paths) sets a per-user property. */
static bool per_user_path(enum share_kind k, const char *key)
{
    for (const char *const *p = share_kinds[k].member_per_user; *p; p++)
        if (patch_touches(key, *p))
            return true;
    return false;
}

static void add_per_user_keys(enum share_kind k, json_t *keys, json_t *ov)
{
    const char *key;
    json_t *v;
    json_object_foreach(ov, key, v)
    {
        if (per_user_path(k, key))
            json_object_set_new(keys, key, json_true());
    }
}

/* The first segment of a patch path (unescaped, new), within len. */
static char *path_head(const char *path, size_t len)
{
    const char *slash = memchr(path, '/', len);
    return jpointer_unescape(path, slash ? (size_t)(slash - path) : len);
}

static void name_key(enum share_kind k, json_t *named, const char *rid, const char *path)
{
    char *prop = path_head(path, strlen(path));
    bool per_user = false;
    for (const char *const *p = share_kinds[k].member_per_user; prop && *p && !per_user; p++)
        per_user = strcmp(prop, *p) == 0;
    if (per_user) {
        json_t *keys = json_object_get(named, rid);
        if (!keys)
            json_object_set_new(named, rid, keys = json_object());
        json_object_set_new(keys, prop, json_true());
    }
    free(prop);
}

/* §5.4: the per-user properties of occurrences a sharee's update names (rid -> {prop:
 * true}), also where the value they give is the owner's: the update's own paths
 * (recurrenceOverrides/<rid>/<prop>...) and, for an update of an occurrence's id, that
 * patch's (<prop>...: the engine turns it into a whole recurrenceOverrides, which says
 * nothing of what was named). New object. */
static json_t *named_override_keys(struct jset *s, enum share_kind k)
{
    json_t *named = json_object();
    const char *key, *inst = NULL;
    json_t *v;
    static const char pre[] = "recurrenceOverrides/";
    json_object_foreach(jset_patch(s), key, v)
    {
        if (strncmp(key, pre, sizeof pre - 1) != 0)
            continue;
        const char *rest = key + sizeof pre - 1, *slash = strchr(rest, '/');
        char *rid = slash ? path_head(rest, strlen(rest)) : NULL;
        if (rid)
            name_key(k, named, rid, slash + 1);
        free(rid);
    }
    json_t *ip = jset_instance_patch(s, &inst);
    char base[64], rid[20];
    if (ip && inst && event_instance_parse(inst, base, rid)) {
        json_object_foreach(ip, key, v)
        {
            name_key(k, named, rid, key);
        }
    }
    return named;
}

/* Whether named (named_override_keys) names the property key (a path) of override rid. */
static bool key_named(json_t *named, const char *rid, const char *key)
{
    const char *prop;
    json_t *v;
    json_object_foreach(json_object_get(named, rid), prop, v)
    {
        if (patch_touches(key, prop))
            return true;
    }
    return false;
}

/* §5.4 "if the user modifies any such properties on a per-occurrence basis": the
 * per-user keys of obj's recurrenceOverrides that differ from old's or that the update
 * names (named, may be NULL). With mine (rid -> {key: value}) they are moved there (a
 * named key obj no longer has leaves mine: back to the default) and obj gets old's
 * shared values back; without, only whether there are any is answered. */
static bool split_overrides(enum share_kind k, json_t *obj, json_t *old, json_t *mine,
                            json_t *named)
{
    json_t *no = json_object_get(obj, "recurrenceOverrides"),
           *oo = json_object_get(old, "recurrenceOverrides"), *rids = json_object();
    bool changed = false;
    const char *rid, *key;
    json_t *v;
    json_object_foreach(no, rid, v)
    {
        json_object_set_new(rids, rid, json_true());
    }
    json_object_foreach(named, rid, v)
    {
        json_object_set_new(rids, rid, json_true());
    }
    json_object_foreach(rids, rid, v)
    {
        json_t *n = json_object_get(no, rid), *o = json_object_get(oo, rid);
        if ((n && !json_is_object(n)) || (o && !json_is_object(o)))
            continue;
        json_t *keys = json_object(), *mr = mine ? json_object_get(mine, rid) : NULL;
        add_per_user_keys(k, keys, n);
        add_per_user_keys(k, keys, o);
        add_per_user_keys(k, keys, mr);
        json_t *x;
        json_object_foreach(keys, key, x)
        {
            json_t *nv = json_object_get(n, key), *ov = json_object_get(o, key);
            bool is_named = key_named(named, rid, key);
            if ((nv && !same(nv, ov)) || is_named) {
                changed = true;
                if (mine && nv) {
                    if (!mr)
                        json_object_set_new(mine, rid, mr = json_object());
                    json_object_set(mr, key, nv);
                } else if (mr) {
                    json_object_del(mr, key);
                }
            }
            if (mine && n && ov)
                json_object_set(n, key, ov);
            else if (mine && n)
                json_object_del(n, key);
        }
        json_decref(keys);
        if (mr && json_object_size(mr) == 0)
            json_object_del(mine, rid);
        if (mine && n && !o && json_object_size(n) == 0)
            json_object_del(no, rid); /* nothing shared was overridden */
    }
    json_decref(rids);
    if (mine && json_is_object(no) && json_object_size(no) == 0 && !oo)
        json_object_del(obj, "recurrenceOverrides"); /* as it was */
    return changed;
}

static void keep_per_user_overrides(struct jset *s, json_t *obj, json_t *old, json_t *named)
{
    struct jmap_req *r = jset_req(s);
    const char *id = json_string_value(json_object_get(old, "id"));
    json_t *mine = store_user_props_get(jset_conn(s), r->user->id, jset_account(s),
                                        share_kinds[SHARE_CALENDAR].member, id);
    if (!mine)
        mine = json_object();
    json_t *mo = json_object_get(mine, "#overrides");
    if (!json_is_object(mo))
        json_object_set_new(mine, "#overrides", mo = json_object());
    split_overrides(SHARE_CALENDAR, obj, old, mo, named);
    if (json_object_size(mo) == 0)
        json_object_del(mine, "#overrides");
    store_user_props_put(jset_conn(s), r->user->id, jset_account(s),
                         share_kinds[SHARE_CALENDAR].member, id, mine);
    calendar_alert_user_changed(jset_conn(s), jset_account(s), share_kinds[SHARE_CALENDAR].member,
                                id, r->user->id);
    json_decref(mine);
}

/* The sharee's view of the overrides: the owner's per-user values left out, theirs put
 * in (on occurrences that exist). */
static void overlay_overrides(json_t *obj, json_t *mine)
{
    json_t *ovs = json_object_get(obj, "recurrenceOverrides");
    const char *rid, *key;
    json_t *ov, *v;
    void *tmp, *otmp;
    size_t had = json_object_size(ovs);
    json_object_foreach_safe(ovs, otmp, rid, ov)
    {
        size_t n = json_object_size(ov);
        json_object_foreach_safe(ov, tmp, key, v)
        {
            if (per_user_path(SHARE_CALENDAR, key))
                json_object_del(ov, key);
        }
        if (n && json_object_size(ov) == 0)
            json_object_del(ovs, rid); /* the owner's values of it alone: nothing shared */
    }
    if (had && json_object_size(ovs) == 0)
        json_object_del(obj, "recurrenceOverrides");
    ovs = json_object_get(obj, "recurrenceOverrides");
    json_object_foreach(json_object_get(mine, "#overrides"), rid, v)
    {
        json_t *target = json_object_get(ovs, rid);
        if (!target && recur_rule_generates(obj, rid) == 1) {
            if (!json_is_object(ovs))
                json_object_set_new(obj, "recurrenceOverrides", ovs = json_object());
            json_object_set_new(ovs, rid, target = json_object());
        }
        if (json_is_object(target))
            json_object_update(target, v);
    }
}

json_t *share_event_with_values(json_t *event, json_t *mine)
{
    json_t *out = json_deep_copy(event);
    overlay_overrides(out, mine);
    overlay_mine(out, mine, share_kinds[SHARE_CALENDAR].member_per_user, true);
    return out;
}

json_t *share_member_check(struct jset *s, enum share_kind k, json_t *obj, json_t *old)
{
    json_t *err = member_check(s, k, obj, old);
    /* a change of the user's own per-user values alone is nobody else's (§5.4) */
    if (!err && k == SHARE_CALENDAR && share_filtered(jset_access(s)) &&
        !(obj && old && json_equal(obj, old)))
        notify_edit(s, obj, old);
    return err;
}

static json_t *member_check(struct jset *s, enum share_kind k, json_t *obj, json_t *old)
{
    const struct store_access *a = jset_access(s);
    if (!share_filtered(a))
        return NULL;
    struct jmap_req *r = jset_req(s);
    if (obj && old && share_kinds[k].member_per_user[0]) {
        /* §5.4: per-user properties are kept for the user, with mayUpdatePrivate
         * (or any write right) in a calendar they can see */
        if (!share_member_visible(r, a, k, old))
            return jmap_seterror("notFound", "no %s", share_kinds[k].member);
        bool per_user = false;
        const char *key;
        json_t *pv;
        for (const char *const *p = share_kinds[k].member_per_user; *p; p++) {
            per_user |= !same(json_object_get(obj, *p), json_object_get(old, *p));
            /* the user's own value, also where it equals the owner's (§5.4) */
            json_object_foreach(jset_patch(s), key, pv)
            {
                per_user |= patch_touches(key, *p);
            }
        }
        json_t *named = k == SHARE_CALENDAR ? named_override_keys(s, k) : NULL;
        per_user |= k == SHARE_CALENDAR && split_overrides(k, obj, old, NULL, named);
        if (per_user) {
            bool ok = false;
            json_t *set = share_member_collections(k, old);
            const char *cid;
            json_t *v;
            json_object_foreach(set, cid, v)
            {
                ok |= (share_rights_of(r, a, k, cid) &
                       (share_kinds[k].update_private | share_kinds[k].write)) != 0;
            }
            json_decref(set);
            const char *privacy = json_string_value(json_object_get(old, "privacy"));
            if (!ok || (privacy && strcmp(privacy, "public"))) {
                json_decref(named);
                return forbidden("per-user properties need mayUpdatePrivate");
            }
            json_t *err = keep_per_user(s, share_kinds[k].member, obj, old,
                                        share_kinds[k].member_per_user, true);
            if (err) {
                json_decref(named);
                return err;
            }
            if (k == SHARE_CALENDAR && split_overrides(k, obj, old, NULL, named))
                keep_per_user_overrides(s, obj, old, named);
            share_sharee_updated(s, k, obj, old); /* §5.4: their `updated` */
        }
        json_decref(named);
    }
    if (share_kinds[k].owner_role)
        return owned_member_check(s, k, obj, old);
    /* RFC 9610 §2: mayWrite on every address book concerned */
    json_t *now = obj ? json_object_get(obj, "addressBookIds") : NULL,
           *was = old ? json_object_get(old, "addressBookIds") : NULL;
    if (old && !share_member_visible(r, a, k, old))
        return jmap_seterror("notFound", "no ContactCard");
    const char *bid;
    json_t *v;
    json_object_foreach(now, bid, v)
    {
        if (!(share_rights_of(r, a, k, bid) & AR_WRITE))
            return forbidden("writing a card here needs mayWrite");
    }
    json_object_foreach(was, bid, v)
    {
        if (!(share_rights_of(r, a, k, bid) & AR_WRITE))
            return forbidden("writing a card here needs mayWrite");
    }
    return NULL;
}

/* ---- the engine's visibility hooks ------------------------------------------------------------
 */

static bool member_visible_id(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                              const char *id)
{
    char base[64], rid[20];
    if (share_kinds[k].owner_role && event_instance_parse(id, base, rid))
        id = base; /* an instance (types/instances.c): its series decides */
    struct store_conn *c = jmap_req_conn(r);
    if (k == SHARE_CALENDAR) {
        /* the parsed events a query has just read (event_cache.h): no JSON parse */
        int64_t modseq = store_object_modseq(c, a->account_id, share_kinds[k].member, id);
        struct event_cached *e =
            modseq >= 0 ? event_cache_get(c, a->account_id, id, modseq, NULL) : NULL;
        bool yes = e && share_member_visible(r, a, k, e->obj);
        event_cache_release(e);
        return yes;
    }
    json_t *obj = store_object_get(c, a->account_id, share_kinds[k].member, id);
    bool yes = obj && share_member_visible(r, a, k, obj);
    json_decref(obj);
    return yes;
}

bool share_event_visible_id(struct jmap_req *r, const struct store_access *a, const char *id)
{
    return member_visible_id(r, a, SHARE_CALENDAR, id);
}

bool share_card_visible_id(struct jmap_req *r, const struct store_access *a, const char *id)
{
    return member_visible_id(r, a, SHARE_ADDRESS_BOOK, id);
}

bool share_calendar_visible_id(struct jmap_req *r, const struct store_access *a, const char *id)
{
    return share_rights_of(r, a, SHARE_CALENDAR, id) & CR_READ;
}

bool share_book_visible_id(struct jmap_req *r, const struct store_access *a, const char *id)
{
    return share_rights_of(r, a, SHARE_ADDRESS_BOOK, id) & AR_READ;
}

bool share_task_visible_id(struct jmap_req *r, const struct store_access *a, const char *id)
{
    return member_visible_id(r, a, SHARE_TASK_LIST, id);
}

bool share_task_list_visible_id(struct jmap_req *r, const struct store_access *a, const char *id)
{
    return share_rights_of(r, a, SHARE_TASK_LIST, id) & TR_READ;
}
