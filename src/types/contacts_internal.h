/*
 * contacts_internal.h — what the JMAP Contacts files (RFC 9610) share:
 * contacts.c (capability, registration, provisioning, .vcf import/export),
 * address_book.c (AddressBook), contact_card.c (ContactCard: validation, media
 * blobs, filter and sort hooks) and contact_index.c (the per-account in-memory
 * index that answers ContactCard/query and uid lookups without parsing every
 * stored card).
 */
#ifndef JMAPD_CONTACTS_INTERNAL_H
#define JMAPD_CONTACTS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "jmap/engine.h"

#define CONTACTS_MAX_BOOKS_PER_CARD 32 /* RFC 9610 §1.4.1 maxAddressBooksPerCard */

extern const struct jtype address_book_type;
extern const struct jtype contact_card_type;

/* ---- contact_card.c ---------------------------------------------------------------- */

/* Checks and completes a card about to be stored in account (old: the stored
 * version on update, else NULL): addressBookIds, uid (generated if missing, unique
 * in the account except for self_id), created/updated, media data: URIs turned
 * into blobs (RFC 9610 §3), JSContact validity (RFC 9553). Invalid property paths
 * go to invalid, "uid" among them for a duplicate uid; for a /copy (copy) a duplicate
 * uid is instead returned as an alreadyExists SetError with its existingId. s (the
 * /set, NULL for an import) receives the reasons (jset_invalid). */
json_t *contact_card_prepare(struct jset *s, struct store_conn *c, const char *account,
                             json_t *card, json_t *old,
                             const char *self_id, bool copy, json_t *invalid);
/* The card as plain JSContact for vCard export: without id and addressBookIds,
 * media blobIds turned back into data: URIs. A new object. */
json_t *contact_card_to_jscontact(struct store_conn *c, const char *account, json_t *card);

/* ---- contact_index.c ----------------------------------------------------------------- */

/* The filter hook (RFC 9610 §3.3.1) and comparator hook (§3.3.2) of ContactCard. */
int contact_filter_hook(struct jmap_req *r, json_t *obj, const char *key, json_t *value);
int contact_compare_hook(json_t *a, json_t *b, const char *property, bool *ok);
/* The query_run hook: answers from the account's index. */
json_t *contact_query_run(struct jmap_req *r, const char *account, json_t *filter, json_t *sort);
/* The id of the live card with this uid in account, other than self_id (malloc'd),
 * or NULL. Sees the calling transaction's own writes. */
char *contact_index_find_uid(struct store_conn *c, const char *account, const char *uid,
                             const char *self_id);

#endif
