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
#include "jmap/engine.h"
#include "types/calendar_event.h"
#include "types/event_cache.h"
#include "types/share.h"
#include "util/util.h"

/* ---- the two kinds ------------------------------------------------------------------------ */

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
/* calendars-27 §5.4 (§10.8.2) */
static const char *const event_per_user[] = {"keywords",         "color",  "freeBusyStatus",
                                             "useDefaultAlerts", "alerts", NULL};
static const char *const card_per_user[] = {NULL};

struct kind {
    const char *type, *member, *set_prop;
    const char *const *names;
    unsigned read, write, share, del, all;
    unsigned legacy_write, legacy_read; /* an account-wide grant (`jmapd user share`) */
    const char *const *per_user, *const *member_per_user;
};

static const struct kind kinds[] = {
    [SHARE_CALENDAR] = {"Calendar", "CalendarEvent", "calendarIds", calendar_rights, CR_READ,
                        CR_WRITE_ALL, CR_SHARE, CR_DELETE, 0xffu, 0x7fu, CR_FREEBUSY | CR_READ,
                        calendar_per_user, event_per_user},
    [SHARE_ADDRESS_BOOK] = {"AddressBook", "ContactCard", "addressBookIds", book_rights_names,
                            AR_READ, AR_WRITE, AR_SHARE, AR_DELETE, 0x0fu, AR_READ | AR_WRITE,
                            AR_READ, book_per_user, card_per_user},
};

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
    for (unsigned i = 0; kinds[k].names[i]; i++)
        json_object_set_new(o, kinds[k].names[i], json_boolean(bits & (1u << i)));
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
        while (kinds[k].names[i] && strcmp(kinds[k].names[i], key))
            i++;
        if (!kinds[k].names[i] || !json_is_boolean(b))
            return -1;
        if (json_is_true(b))
            bits |= 1u << i;
    }
    /* calendars-27 §4: mayWriteAll implies mayWriteOwn, mayUpdatePrivate, mayRSVP */
    if (k == SHARE_CALENDAR && (bits & CR_WRITE_ALL))
        bits |= CR_WRITE_OWN | CR_UPDATE_PRIVATE | CR_RSVP;
    return (int)bits;
}

unsigned share_rights(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                      json_t *collection)
{
    const struct kind *d = &kinds[k];
    if (a->is_personal)
        return d->all;
    if (!a->shared)
        return a->may_write ? d->legacy_write : d->legacy_read;
    unsigned bits = 0;
    const char *pid;
    json_t *v;
    json_object_foreach(json_object_get(collection, "shareWith"), pid, v)
    {
        if (jmap_user_is_principal(r->user, pid)) {
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

json_t *share_collection_rights(struct jmap_req *r, const struct store_access *a, enum share_kind k)
{
    struct store_conn *c = jmap_req_conn(r);
    int64_t modseq = store_state_get(c, a->account_id, kinds[k].type);
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
    store_object_foreach(c, a->account_id, kinds[k].type, fill_cb, &f);
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

static unsigned rights_of(struct jmap_req *r, const struct store_access *a, enum share_kind k,
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

/* The user's own values over obj's (props: the per-user names), or, where they have
 * none and fresh is set, the property removed (the default: calendars-27 §5.4). */
static void overlay(struct jmap_req *r, const char *account, const char *type, json_t *obj,
                    const char *const *props, bool fresh)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    json_t *mine =
        id ? store_user_props_get(jmap_req_conn(r), r->user->id, account, type, id) : NULL;
    for (; *props; props++) {
        json_t *v = json_object_get(mine, *props);
        if (v)
            json_object_set(obj, *props, v);
        else if (fresh)
            json_object_del(obj, *props);
    }
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
        jmap_accounts_touch(); /* isSubscribed decides the session's accounts */
        json_decref(mine);
    }
    free(bad);
    json_decref(view);
    json_decref(sub);
    return err;
}

/* ---- collections ----------------------------------------------------------------------------- */

json_t *share_collection_view(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                              json_t *obj)
{
    unsigned bits = share_rights(r, a, k, obj);
    json_t *out = json_deep_copy(obj);
    if (share_filtered(a)) {
        /* calendars-27 §4.1: with mayReadFreeBusy alone it does not exist */
        if (!(bits & kinds[k].read)) {
            json_decref(out);
            return NULL;
        }
        overlay(r, a->account_id, kinds[k].type, out, kinds[k].per_user, false);
        if (!(bits & kinds[k].share))
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
    json_object_foreach(keys, pid, v)
    {
        json_t *o = json_object_get(was, pid), *n = json_object_get(now, pid);
        if (same(o, n) || !id)
            continue;
        json_t *p = principal_load(jset_conn(s), pid);
        const char *type = json_string_value(json_object_get(p, "type"));
        if (type && n)
            grant_principal(s, pid, type);
        /* RFC 9670 §3: to the user; a group's members are not notified (MAY) */
        if (type && strcmp(type, "individual") == 0) {
            json_t *ob = o ? share_rights_json(k, (unsigned)rights_parse(k, o)) : NULL;
            json_t *nb = n ? share_rights_json(k, (unsigned)rights_parse(k, n)) : NULL;
            share_notification_add(jset_conn(s), jset_req(s), pid, kinds[k].type, jset_account(s),
                                   id, json_string_value(json_object_get(obj, "name")), ob, nb);
            json_decref(ob);
            json_decref(nb);
        }
        json_decref(p);
    }
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
    if (!same(sw, json_is_null(was) ? NULL : was) && !(mine & kinds[k].share))
        return jmap_seterror("forbidden", "changing shareWith needs the mayShare right");
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
                         pid, kinds[k].type);
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
        if (!(mine & kinds[k].read))
            return jmap_seterror("notFound", "no %s %s", kinds[k].type,
                                 json_string_value(json_object_get(old, "id")));
        json_t *err = keep_per_user(s, kinds[k].type, obj, old, kinds[k].per_user, false);
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
    if (share_filtered(a) && !(mine & kinds[k].read))
        return jmap_seterror("notFound", "no %s", kinds[k].type);
    if (!(mine & kinds[k].del))
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
        unsigned w = k == SHARE_CALENDAR ? CR_WRITE_ALL | CR_WRITE_OWN | CR_UPDATE_PRIVATE |
                                               CR_RSVP | CR_SHARE | CR_DELETE
                                         : AR_WRITE | AR_SHARE | AR_DELETE;
        shares[i++] = (struct store_share){pid, bits > 0 && ((unsigned)bits & w)};
    }
    int rc = store_share_set(c, account, kinds[k].type, id, shares, n);
    free(shares);
    jmap_accounts_touch(); /* the sharees' accounts may have changed */
    return rc ? -1 : 0;
}

/* ---- members: events and cards --------------------------------------------------------------- */

/* The addresses that are the user (calendars-27 §3 ParticipantIdentity; here the
 * calendar address of their principal). */
static bool is_me(struct jmap_req *r, const char *address)
{
    const char *me = jmap_user_principal(r->user);
    json_t *p = me && address ? principal_load(jmap_req_conn(r), me) : NULL;
    const char *email = json_string_value(json_object_get(p, "email"));
    bool yes =
        email && strncasecmp(address, "mailto:", 7) == 0 && strcasecmp(address + 7, email) == 0;
    json_decref(p);
    return yes;
}

bool share_member_visible(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                          json_t *obj)
{
    if (!share_filtered(a))
        return true;
    const char *privacy = json_string_value(json_object_get(obj, "privacy"));
    if (k == SHARE_CALENDAR && privacy && strcmp(privacy, "secret") == 0)
        return false; /* calendars-27 §5.7: as though it did not exist */
    const char *cid;
    json_t *v;
    json_object_foreach(json_object_get(obj, kinds[k].set_prop), cid, v)
    {
        if (rights_of(r, a, k, cid) & kinds[k].read)
            return true;
    }
    return false;
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
                                            NULL};

void share_member_view(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                       json_t *obj)
{
    if (!share_filtered(a))
        return;
    json_t *set = json_object_get(obj, kinds[k].set_prop);
    const char *cid;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(set, tmp, cid, v)
    {
        if (!(rights_of(r, a, k, cid) & kinds[k].read))
            json_object_del(set, cid); /* a collection they cannot see does not exist */
    }
    const char *privacy = json_string_value(json_object_get(obj, "privacy"));
    if (k == SHARE_CALENDAR && privacy && strcmp(privacy, "private") == 0) {
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
    overlay(r, a->account_id, kinds[k].member, obj, kinds[k].member_per_user, true);
}

/* calendars-27 §4: the user owns the event, or nobody does (mayWriteOwn) */
static bool own_or_unowned(struct jmap_req *r, json_t *event)
{
    bool any_owner = false;
    const char *pid;
    json_t *p;
    json_object_foreach(json_object_get(event, "participants"), pid, p)
    {
        if (!json_is_true(json_object_get(json_object_get(p, "roles"), "owner")))
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
                                       "scheduleAgent",       "scheduleForceSend",    "scheduleId",
                                       "delegatedTo",         "delegatedFrom",        "memberOf",
                                       "scheduleSequence",    "scheduleUpdated",      NULL};
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

/* The rights needed on calendar cid for a change of the event, or true. */
static bool may_change_in(struct jmap_req *r, const struct store_access *a, const char *cid,
                          json_t *event)
{
    unsigned bits = rights_of(r, a, SHARE_CALENDAR, cid);
    return (bits & CR_WRITE_ALL) || ((bits & CR_WRITE_OWN) && own_or_unowned(r, event));
}

static json_t *forbidden(const char *why)
{
    return jmap_seterror("forbidden", "%s (calendars-27 §4 myRights)", why);
}

/* calendars-27 §4 myRights rules for an event in several calendars. */
static json_t *event_check(struct jset *s, json_t *obj, json_t *old)
{
    struct jmap_req *r = jset_req(s);
    const struct store_access *a = jset_access(s);
    if (old && !share_member_visible(r, a, SHARE_CALENDAR, old))
        return jmap_seterror("notFound", "no CalendarEvent %s",
                             json_string_value(json_object_get(old, "id")));
    if (old && json_is_string(json_object_get(old, "privacy")) &&
        strcmp(json_string_value(json_object_get(old, "privacy")), "public"))
        return forbidden("a private event is changed only by the calendar's owner (§5.9)");
    if (obj && json_is_string(json_object_get(obj, "privacy")) &&
        strcmp(json_string_value(json_object_get(obj, "privacy")), "public"))
        return jmap_seterror_props(json_pack("[s]", "privacy"),
                                   "privacy must be public in a calendar of another user (§5.9)");
    json_t *now = obj ? json_object_get(obj, "calendarIds") : NULL,
           *was = old ? json_object_get(old, "calendarIds") : NULL;
    const char *cid;
    json_t *v;
    /* moving in or out of a calendar needs the right there */
    json_object_foreach(now, cid, v)
    {
        if (!json_object_get(was, cid) && !may_change_in(r, a, cid, obj))
            return forbidden("adding an event to this calendar needs mayWriteAll or mayWriteOwn");
    }
    json_object_foreach(was, cid, v)
    {
        if (!json_object_get(now, cid) && !may_change_in(r, a, cid, old))
            return forbidden("removing an event from this calendar needs mayWriteAll");
    }
    if (!old || !obj)
        return NULL;
    /* any other change: the right in every calendar it stays in */
    json_t *o2 = json_deep_copy(obj), *w2 = json_deep_copy(old);
    json_object_del(o2, "calendarIds");
    json_object_del(w2, "calendarIds");
    bool same = json_equal(o2, w2);
    bool rsvp = !same && only_rsvp(r, o2, w2);
    json_decref(o2);
    json_decref(w2);
    if (same)
        return NULL;
    json_object_foreach(now, cid, v)
    {
        if (!json_object_get(was, cid))
            continue;
        unsigned bits = rights_of(r, a, SHARE_CALENDAR, cid);
        if (!may_change_in(r, a, cid, old) && !(rsvp && (bits & CR_RSVP)))
            return forbidden("changing this event needs mayWriteAll, mayWriteOwn or mayRSVP "
                             "in each of its calendars");
    }
    return NULL;
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

json_t *share_member_check(struct jset *s, enum share_kind k, json_t *obj, json_t *old)
{
    json_t *err = member_check(s, k, obj, old);
    if (!err && k == SHARE_CALENDAR && share_filtered(jset_access(s)))
        notify_edit(s, obj, old);
    return err;
}

static json_t *member_check(struct jset *s, enum share_kind k, json_t *obj, json_t *old)
{
    const struct store_access *a = jset_access(s);
    if (!share_filtered(a))
        return NULL;
    struct jmap_req *r = jset_req(s);
    if (obj && old && kinds[k].member_per_user[0]) {
        /* §5.4: per-user properties are kept for the user, with mayUpdatePrivate
         * (or any write right) in a calendar they can see */
        if (!share_member_visible(r, a, k, old))
            return jmap_seterror("notFound", "no %s", kinds[k].member);
        bool per_user = false;
        for (const char *const *p = kinds[k].member_per_user; *p; p++)
            per_user |= !same(json_object_get(obj, *p), json_object_get(old, *p));
        if (per_user) {
            bool ok = false;
            const char *cid;
            json_t *v;
            json_object_foreach(json_object_get(old, kinds[k].set_prop), cid, v)
            {
                ok |= (rights_of(r, a, k, cid) & (CR_UPDATE_PRIVATE | CR_WRITE_ALL)) != 0;
            }
            const char *privacy = json_string_value(json_object_get(old, "privacy"));
            if (!ok || (privacy && strcmp(privacy, "public")))
                return forbidden("per-user properties need mayUpdatePrivate");
            json_t *err =
                keep_per_user(s, kinds[k].member, obj, old, kinds[k].member_per_user, true);
            if (err)
                return err;
        }
    }
    if (k == SHARE_CALENDAR)
        return event_check(s, obj, old);
    /* RFC 9610 §2: mayWrite on every address book concerned */
    json_t *now = obj ? json_object_get(obj, "addressBookIds") : NULL,
           *was = old ? json_object_get(old, "addressBookIds") : NULL;
    if (old && !share_member_visible(r, a, k, old))
        return jmap_seterror("notFound", "no ContactCard");
    const char *bid;
    json_t *v;
    json_object_foreach(now, bid, v)
    {
        if (!(rights_of(r, a, k, bid) & AR_WRITE))
            return forbidden("writing a card here needs mayWrite");
    }
    json_object_foreach(was, bid, v)
    {
        if (!(rights_of(r, a, k, bid) & AR_WRITE))
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
    if (k == SHARE_CALENDAR && event_instance_parse(id, base, rid))
        id = base;
    struct store_conn *c = jmap_req_conn(r);
    if (k == SHARE_CALENDAR) {
        /* the parsed events a query has just read (event_cache.h): no JSON parse */
        int64_t modseq = store_object_modseq(c, a->account_id, kinds[k].member, id);
        struct event_cached *e =
            modseq >= 0 ? event_cache_get(c, a->account_id, id, modseq, NULL) : NULL;
        bool yes = e && share_member_visible(r, a, k, e->obj);
        event_cache_release(e);
        return yes;
    }
    json_t *obj = store_object_get(c, a->account_id, kinds[k].member, id);
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
    return rights_of(r, a, SHARE_CALENDAR, id) & CR_READ;
}

bool share_book_visible_id(struct jmap_req *r, const struct store_access *a, const char *id)
{
    return rights_of(r, a, SHARE_ADDRESS_BOOK, id) & AR_READ;
}

/* ---- write access to a member (jtype.may_write; issue 18 metadata) ------------------------- */

bool share_event_may_write(struct jmap_req *r, const struct store_access *a, json_t *event)
{
    if (!share_filtered(a))
        return a->may_write;
    const char *privacy = json_string_value(json_object_get(event, "privacy"));
    if ((privacy && strcmp(privacy, "public")) ||
        !share_member_visible(r, a, SHARE_CALENDAR, event))
        return false;
    json_t *cals = json_object_get(event, "calendarIds");
    const char *cid;
    json_t *v;
    json_object_foreach(cals, cid, v)
    {
        if (!may_change_in(r, a, cid, event))
            return false;
    }
    return json_object_size(cals) > 0;
}

bool share_card_may_write(struct jmap_req *r, const struct store_access *a, json_t *card)
{
    if (!share_filtered(a))
        return a->may_write;
    json_t *books = json_object_get(card, "addressBookIds");
    const char *bid;
    json_t *v;
    json_object_foreach(books, bid, v)
    {
        if (!(rights_of(r, a, SHARE_ADDRESS_BOOK, bid) & AR_WRITE))
            return false;
    }
    return json_object_size(books) > 0;
}
