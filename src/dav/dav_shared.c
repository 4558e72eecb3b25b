/*
 * dav_shared.c — collections shared with the user (RFC 9670 §4 shareWith, issue 14)
 * served inside the user's own calendar and address-book homes, as CalDAV clients
 * expect of Cyrus and iCloud: a calendar that alice shares with bob appears in bob's
 * home as "{alice's account}~{calendar id}", with bob's per-user name and colour
 * (calendars-27 §5.4) and the privileges his rights give (RFC 3744 §5.4). The data
 * stays in the sharer's account (the resource's acct; home is where its URL lives);
 * what the sharee reads is the member as share.c shows it to him (secret events do
 * not exist, private ones are reduced, calendars-27 §5.7), and every write is the
 * JMAP /set as him, so share.c's checks decide what is writable.
 *
 * A calendar shared for free/busy alone (mayReadFreeBusy without mayReadItems) is at the
 * same URL but not listed in the home (clients sync what a home lists, and there is
 * nothing to sync): its account is none of the user's (calendars-27 §4.1), but the
 * calendar answers CALDAV:free-busy-query (RFC 4791 §7.10) and a PROPFIND of itself
 * (resourcetype, current-user-privilege-set with CALDAV:read-free-busy alone); nothing of
 * its members, its name or its changes (dav.c, dav_report.c: 403 need-privileges DAV:read).
 */
#include <stdio.h>
#include <string.h>

#include "dav/dav_internal.h"
#include "jmap/jmap.h"
#include "types/share.h"

#define SHARED_SEP '~'

static enum share_kind kind_of(const struct dav_kind *k)
{
    return k == &dav_addressbooks ? SHARE_ADDRESS_BOOK
           : k == &dav_tasklists  ? SHARE_TASK_LIST
                                  : SHARE_CALENDAR;
}

/* The read and the write rights of a kind (CalendarRights, TaskRights, AddressBookRights). */
static unsigned read_bits(const struct dav_kind *k)
{
    return k == &dav_addressbooks ? AR_READ : k == &dav_tasklists ? TR_READ : CR_READ;
}

static unsigned write_bits(const struct dav_kind *k)
{
    return k == &dav_addressbooks ? AR_WRITE
           : k == &dav_tasklists  ? TR_WRITE_ALL | TR_WRITE_OWN
                                  : CR_WRITE_ALL | CR_WRITE_OWN;
}

/* The request share.c's checks read: the user and the connection. */
static void share_req(struct dav_ctx *x, struct jmap_req *q)
{
    memset(q, 0, sizeof *q);
    q->srv = x->srv;
    q->conn = x->c;
    q->user = x->u;
}

/* The user's access to account id when it is reached through shares, or NULL. */
static const struct store_access *shared_account(struct dav_ctx *x, const char *id)
{
    for (int i = 0; i < x->u->naccounts; i++)
        if (x->u->accounts[i].shared && !x->u->accounts[i].is_personal &&
            strcmp(x->u->accounts[i].account_id, id) == 0)
            return &x->u->accounts[i];
    return NULL;
}

/* Makes r (a collection of kind k in home, the user's own) the shared collection
 * coll_id of account a when the user may read it: the sharee's view of it in r->coll.
 * freebusy: also a calendar shared for free/busy alone, with no view of it but its id
 * and the user's rights (calendars-27 §4.1: its name, events and everything else are
 * not the user's to read). */
static bool shared_coll(struct dav_ctx *x, struct dav_res *r, const struct dav_kind *k,
                        const struct store_access *a, const char *coll_id, bool freebusy)
{
    json_t *coll = store_object_get(x->c, a->account_id, k->coll_type, coll_id);
    if (!coll)
        return false;
    struct jmap_req q;
    share_req(x, &q);
    unsigned bits = share_rights(&q, a, kind_of(k), coll);
    json_t *view = bits & read_bits(k) ? share_collection_view(&q, a, kind_of(k), coll) : NULL;
    json_decref(coll);
    r->freebusy_only = !view && freebusy && k == &dav_calendars && (bits & CR_FREEBUSY);
    if (r->freebusy_only)
        view = json_pack("{s:s, s:o}", "id", coll_id, "myRights",
                         share_rights_json(SHARE_CALENDAR, bits));
    if (!view)
        return false;
    if (!r->home)
        r->home = r->acct;
    r->k = k;
    r->acct = a;
    r->shared = true;
    r->shared_write = (bits & write_bits(k)) != 0;
    r->rights = bits;
    json_decref(r->coll);
    r->coll = view;
    snprintf(r->coll_id, sizeof r->coll_id, "%s", coll_id);
    snprintf(r->coll_seg, sizeof r->coll_seg, "%s%c%s", a->account_id, SHARED_SEP, coll_id);
    return true;
}

bool dav_shared_resolve(struct dav_ctx *x, struct dav_res *r)
{
    if (!r->acct->is_personal)
        return false; /* only the user's own home holds what others share */
    const char *sep = strchr(r->coll_seg, SHARED_SEP);
    if (!sep || sep == r->coll_seg || (size_t)(sep - r->coll_seg) >= 64)
        return false;
    char acct[64];
    snprintf(acct, sizeof acct, "%.*s", (int)(sep - r->coll_seg), r->coll_seg);
    const struct store_access *a = shared_account(x, acct);
    if (!a && jmap_user_freebusy(x->u, acct) &&
        (!x->freebusy.account_id[0] || strcmp(x->freebusy.account_id, acct) == 0)) {
        /* calendars-27 §4.1: an account shared for free/busy alone is none of the
         * user's, but its calendars answer free-busy-query (RFC 4791 §7.10) here (one
         * such account per request: x->freebusy is what every resource of it points to) */
        memset(&x->freebusy, 0, sizeof x->freebusy);
        snprintf(x->freebusy.account_id, sizeof x->freebusy.account_id, "%s", acct);
        x->freebusy.shared = true;
        a = &x->freebusy;
    }
    if (!a || !util_is_jmap_id(sep + 1))
        return false;
    if (shared_coll(x, r, r->k, a, sep + 1, true))
        return true;
    return r->k == &dav_calendars && shared_coll(x, r, &dav_tasklists, a, sep + 1, false);
}

json_t *dav_member_load(struct dav_ctx *x, const struct dav_res *r, const char *id)
{
    json_t *obj = store_object_get(x->c, r->acct->account_id, r->k->obj_type, id);
    if (!obj || !r->shared)
        return obj;
    struct jmap_req q;
    share_req(x, &q);
    if (!share_member_visible(&q, r->acct, kind_of(r->k), obj)) {
        json_decref(obj);
        return NULL; /* calendars-27 §5.7: a secret event does not exist for sharees */
    }
    share_member_view(&q, r->acct, kind_of(r->k), obj);
    return obj;
}

bool dav_shared_may_write(struct dav_ctx *x, const struct dav_res *r, json_t *obj)
{
    struct jmap_req q;
    share_req(x, &q);
    return r->k == &dav_addressbooks ? share_card_may_write(&q, r->acct, obj)
           : r->k == &dav_tasklists  ? share_task_may_write(&q, r->acct, obj)
                                     : share_event_may_write(&q, r->acct, obj);
}

static int id_cb(const char *id, json_t *obj, void *ud)
{
    (void)obj;
    json_array_append_new(ud, json_string(id));
    return 0;
}

/* The shared collections of kind k in account a the user may read, one response each. */
static void list_kind(struct dav_ctx *x, const struct dav_res *home, const struct dav_kind *k,
                      const struct store_access *a, const xmlNode *what, struct buf *b)
{
    json_t *ids = json_array();
    store_object_foreach(x->c, a->account_id, k->coll_type, id_cb, ids);
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        struct dav_res c;
        memset(&c, 0, sizeof c);
        c.t = DR_COLL;
        c.k = home->k;
        c.acct = home->acct;
        /* not those shared for free/busy alone: clients sync what a home lists, and
         * these have nothing to sync (reached by their URL, for free-busy-query) */
        if (shared_coll(x, &c, k, a, json_string_value(id), false))
            dav_propstats(x, &c, what, b);
        dav_res_clear(&c);
    }
    json_decref(ids);
}

void dav_shared_list(struct dav_ctx *x, const struct dav_res *home, const xmlNode *what,
                     struct buf *b)
{
    if (!home->acct->is_personal)
        return;
    for (int i = 0; i < x->u->naccounts; i++) {
        const struct store_access *a = &x->u->accounts[i];
        if (!a->shared || a->is_personal)
            continue;
        list_kind(x, home, home->k, a, what, b);
        if (home->k == &dav_calendars) /* task lists share the calendar home */
            list_kind(x, home, &dav_tasklists, a, what, b);
    }
}
