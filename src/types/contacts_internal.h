/*
 * contacts_internal.h — what the JMAP Contacts files (RFC 9610) share:
 * contacts.c (capability, registration, provisioning, .vcf import/export),
 * address_book.c (AddressBook), contact_card.c (ContactCard: validation, media
 * blobs, filter and sort hooks), contact_record.c (a card's texts and facets for
 * the store) and contact_index.c (the per-account in-memory index of facets that
 * answers ContactCard/query and uid lookups without parsing every stored card).
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
 * /set, NULL for an import) receives the reasons (jset_invalid). uid_found: the caller
 * found the card of this uid already (self_id, or none), so no other can have it. */
json_t *contact_card_prepare(struct jset *s, struct store_conn *c, const char *account,
                             json_t *card, json_t *old, const char *self_id, bool copy,
                             bool uid_found, json_t *invalid);
/* The card as plain JSContact for vCard export: without id and addressBookIds,
 * media blobIds turned back into data: URIs. A new object. */
json_t *contact_card_to_jscontact(struct store_conn *c, const char *account, json_t *card);

/* ---- contact_record.c: what a card gives the indexes (issue 21) -------------------------- */

/* The String conditions of RFC 9610 §3.3.1, each searching its own text. */
enum contact_field {
    CF_TEXT,
    CF_NAME,
    CF_GIVEN,
    CF_SURNAME,
    CF_SURNAME2,
    CF_NICKNAME,
    CF_ORG,
    CF_EMAIL,
    CF_PHONE,
    CF_ONLINE,
    CF_ADDRESS,
    CF_NOTE,
    CONTACT_NFIELDS
};
/* The store field a condition searches (store_grams): -1 (every field) for text. */
static inline int contact_gram_field(int f)
{
    return f == CF_TEXT ? -1 : f - 1;
}
/* §3.3.2 sorts over these name components: given, surname, surname2 */
#define CONTACT_NSORTS 3

/* A card's facets: what filters and sorts read besides text. One allocation. */
struct crec {
    char *id;
    char *uid, *kind;        /* NULL when absent */
    char **books, **members; /* addressBookIds and members set to true */
    size_t nbooks, nmembers;
    char *sort[CONTACT_NSORTS];    /* the first component of the kind, or NULL */
    char *sortkey[CONTACT_NSORTS]; /* its casemap key, or NULL */
    int64_t created, updated;      /* milliseconds since the epoch */
    bool has_created, has_updated;
    size_t pos; /* contact_index.c: its place in the index's id order */
};

/* UTCDateTime (RFC 8620 §1.4) to milliseconds, keeping up to 3 fraction digits. */
bool contact_utc_ms(json_t *v, int64_t *out);
/* The i;unicode-casemap key of s (RFC 5051), malloc'd: for ASCII, lower case. */
char *contact_casemap(const char *s);
struct buf;
/* The casemap key of b's text (b is emptied). */
char *contact_fold(struct buf *b);
/* The card's search texts, case-folded, values separated by '\n' (malloc'd). With
 * stored, text[CF_TEXT] holds only what no other field has (what the store's last
 * field holds); without, all of the card's text. */
void contact_texts(json_t *card, char *text[CONTACT_NFIELDS], bool stored);
/* The card's facets as a text (malloc'd), and a record made from one (free() it),
 * NULL if facets is not one. */
char *contact_facets(json_t *card);
struct crec *contact_rec_new(const char *id, const char *facets);
/* The type's index hook: the card's texts and facets into the store. */
int contact_card_index(struct store_conn *c, const char *account, const char *id, json_t *obj);
/* Cards stored before there were rows for them get theirs (jmodule.backfill). */
struct jmap_owner;
int contacts_backfill(struct store_conn *c, const struct jmap_owner *owner);

/* ---- contact_index.c ----------------------------------------------------------------- */

/* The filter hook (RFC 9610 §3.3.1) and comparator hook (§3.3.2) of ContactCard. */
int contact_filter_hook(struct jmap_req *r, json_t *obj, const char *key, json_t *value);
int contact_compare_hook(json_t *a, json_t *b, const char *property, bool *ok);
/* The query_run hook: answers from the account's index. */
json_t *contact_query_run(struct jmap_req *r, const char *account, json_t *filter, json_t *sort);
/* An unfiltered sorted ContactCard/query answered with its page from the index, or
 * an unsorted one of text conditions alone from the store's search, stopping at the
 * page (issue 21): 0, -1 after an error was emitted, 1 if it does not apply (the
 * caller runs the standard /query). */
int contact_query_page(struct jmap_req *r, json_t *args);
/* The store's sort key k (store_grams.key, 0 <= k < STORE_GRAM_KEYS) of a card's
 * record (its id set): *out malloc'd, the key's length returned. */
size_t contact_store_key(int k, const struct crec *rec, unsigned char **out);
/* The id of the live card with this uid in account, other than self_id (malloc'd),
 * or NULL. Sees the calling transaction's own writes. */
char *contact_index_find_uid(struct store_conn *c, const char *account, const char *uid,
                             const char *self_id);

#endif
