/*
 * share_exposure.c — what a sharee could see before (the /changes of a shared account:
 * an object that left the sharee's view is reported destroyed, calendars-27 §4, RFC
 * 9610 §2) and whether a sharee may write a member (jtype.may_write, the metadata of
 * issue 18). The rights themselves are share.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jmap/engine.h"
#include "types/share.h"
#include "types/share_internal.h"
#include "util/util.h"

/* ---- what a sharee could see before: /changes (issue 14) ------------------------------------
 * RFC 8620 §5.2 with RFC 9670 §4: a sharee's /changes reports as destroyed a member
 * object that is gone for them (destroyed, moved out of the collections they read, made
 * secret), and nothing of one they never could see. Each member keeps a record, under
 * the server's own user id 0, of the collections it is exposed in ("in") and the modseq
 * at which it left each one ("left"); was_visible asks whether it left, after the
 * client's state, a collection the user can read. */

#define EXPOSURE_USER 0 /* no user has id 0 */

static const char *exposure_type(enum share_kind k)
{
    static const char *const types[] = {[SHARE_CALENDAR] = "CalendarEvent#exposure",
                                        [SHARE_ADDRESS_BOOK] = "ContactCard#exposure",
                                        [SHARE_TASK_LIST] = "Task#exposure"};
    return types[k];
}

int share_exposure_update(struct store_conn *c, enum share_kind k, const char *account,
                          const char *id, json_t *obj)
{
    const struct kind *d = &share_kinds[k];
    json_t *now = json_object();
    const char *privacy = json_string_value(json_object_get(obj, "privacy"));
    bool secret = d->owner_role && privacy && strcmp(privacy, "secret") == 0;
    json_t *set = secret ? NULL : share_member_collections(k, obj);
    const char *cid;
    json_t *v;
    json_object_foreach(set, cid, v)
    {
        json_object_set_new(now, cid, json_true());
    }
    json_decref(set);
    json_t *rec = store_user_props_get(c, EXPOSURE_USER, account, exposure_type(k), id);
    if (!rec && json_object_size(now) == 0) {
        json_decref(now);
        return 0;
    }
    int64_t m = -1; /* the state, read once a collection was left (issue 21: not on a create) */
    json_t *left = json_object_get(rec, "left");
    left = json_is_object(left) ? json_deep_copy(left) : json_object();
    json_object_foreach(json_object_get(rec, "in"), cid, v)
    {
        if (json_object_get(now, cid))
            continue;
        if (m < 0)
            m = store_state_get(c, account, d->member);
        json_object_set_new(left, cid, json_integer(m));
    }
    json_object_foreach(now, cid, v)
    {
        json_object_del(left, cid);
    }
    json_t *next = json_pack("{s:o, s:o}", "in", now, "left", left);
    int rc = 0;
    if (!rec || !json_equal(rec, next))
        rc = store_user_props_put(c, EXPOSURE_USER, account, exposure_type(k), id, next);
    json_decref(next);
    json_decref(rec);
    return rc;
}

void share_exposure_prefetch(struct store_conn *c, enum share_kind k, const char *account,
                             const char *const *ids, size_t n)
{
    store_user_props_prefetch(c, EXPOSURE_USER, account, exposure_type(k), ids, n);
}

static bool was_visible(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                        const char *id, int64_t since)
{
    json_t *rec =
        store_user_props_get(jmap_req_conn(r), EXPOSURE_USER, a->account_id, exposure_type(k), id);
    if (!rec)
        return true; /* last written before records were kept: not known, so reported */
    bool yes = false;
    const char *cid;
    json_t *m;
    json_object_foreach(json_object_get(rec, "left"), cid, m)
    {
        if (json_integer_value(m) > since && (share_rights_of(r, a, k, cid) & share_kinds[k].read))
            yes = true;
    }
    json_decref(rec);
    return yes;
}

bool share_event_was_visible(struct jmap_req *r, const struct store_access *a, const char *id,
                             int64_t since)
{
    return was_visible(r, a, SHARE_CALENDAR, id, since);
}

bool share_card_was_visible(struct jmap_req *r, const struct store_access *a, const char *id,
                            int64_t since)
{
    return was_visible(r, a, SHARE_ADDRESS_BOOK, id, since);
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
        if (!share_may_change_in(r, a, SHARE_CALENDAR, cid, event))
            return false;
    }
    return json_object_size(cals) > 0;
}

bool share_task_may_write(struct jmap_req *r, const struct store_access *a, json_t *task)
{
    if (!share_filtered(a))
        return a->may_write;
    const char *privacy = json_string_value(json_object_get(task, "privacy"));
    const char *list = json_string_value(json_object_get(task, "taskListId"));
    return !(privacy && strcmp(privacy, "public")) &&
           share_member_visible(r, a, SHARE_TASK_LIST, task) && list &&
           share_may_change_in(r, a, SHARE_TASK_LIST, list, task);
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
        if (!(share_rights_of(r, a, SHARE_ADDRESS_BOOK, bid) & AR_WRITE))
            return false;
    }
    return json_object_size(books) > 0;
}
