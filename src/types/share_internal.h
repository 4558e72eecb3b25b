/*
 * share_internal.h — what share.c and share_exposure.c share: the three kinds of shared
 * collection (calendars, address books, task lists) and their members, and the rights
 * of the request's user on one collection.
 */
#ifndef JMAPD_SHARE_INTERNAL_H
#define JMAPD_SHARE_INTERNAL_H

#include "types/share.h"

struct kind {
    const char *type, *member, *set_prop;
    const char *const *names;
    unsigned read, write, share, del, all;
    unsigned legacy_write, legacy_read; /* an account-wide grant (`jmapd user share`) */
    const char *const *per_user, *const *member_per_user;
    /* members with owners (events, tasks): the owner's role, and the rights */
    const char *owner_role;
    unsigned write_own, update_private, rsvp;
    bool single; /* set_prop is one collection id (a task's taskListId), not an Id[Boolean] */
};

/* Indexed by enum share_kind. */
extern const struct kind share_kinds[];

/* The collections obj (a member) is in, as a set {id: true}, or NULL. */
json_t *share_member_collections(enum share_kind k, json_t *obj);
/* The user's rights on one collection of a's account (the per-call map when the
 * account is reached through shares). */
unsigned share_rights_of(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                         const char *collection_id);
/* Whether the user may put member into (or change it in) collection cid: mayWriteAll,
 * or mayWriteOwn on a member they own or nobody owns. */
bool share_may_change_in(struct jmap_req *r, const struct store_access *a, enum share_kind k,
                         const char *cid, json_t *member);

#endif
