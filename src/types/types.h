/*
 * types.h — the data types registered on the engine, and the pieces they share.
 * Each type lives in its own file (calendar.c, participant_identity.c, ...);
 * blob methods are in jmap/blob.c.
 */
#ifndef JMAPD_TYPES_H
#define JMAPD_TYPES_H

#include "jmap/jmap.h"

/* Registers every data type's methods. */
void types_register(void);
/* Creates the default objects of a new account (default calendar, identity). */
int types_provision_account(struct store_conn *c, const char *account, const char *username);

extern const struct jtype calendar_type;
extern const struct jtype participant_identity_type;
/* ParticipantIdentity's methods (its /set checks ownership first). */
void participant_identity_register(void);

/* The urn:ietf:params:jmap:calendars capability (draft-ietf-jmap-calendars §1.5.1). */
extern const struct jcapability calendar_capability;

/* Blob methods (RFC 8620 §6.3, RFC 9404) and their capability. */
void blob_register(void);

/* JMAP Contacts (RFC 9610): AddressBook and ContactCard, in contacts.c /
 * address_book.c / contact_card.c. */
void contacts_register(void);
int contacts_provision_account(struct store_conn *c, const char *account, const char *username);

/* ---- shared helpers ------------------------------------------------------------- */
/* Stores a new object created by the server itself (provisioning); fills defaults,
 * assigns the id into id_out[16]. */
int types_create_direct(struct store_conn *c, const struct jtype *t, const char *account,
                        json_t *obj, char id_out[16]);
/* onSuccessSetIsDefault (calendars §4.3, §3.3): makes the object named by the
 * argument the only one with isDefault true, if it exists; ignored otherwise. */
void types_finish_set_default(struct jset *s, bool all_ok);
/* The user's access to the account of a /set. */
const struct store_access *types_access(struct jset *s);
/* Destroying a collection (calendars §4.3, RFC 9610 §2.3): its members are the
 * objects of member_type whose set_prop (calendarIds, addressBookIds) names it.
 * Unless the remove_arg argument is true, members give the SetError
 * has_members_error; with it, each member leaves the collection and one left in
 * none is destroyed. Returns a SetError or NULL. */
json_t *types_destroy_collection(struct jset *s, const char *id, const struct jtype *member_type,
                                 const char *set_prop, const char *remove_arg,
                                 const char *has_members_error);
/* Value checks shared by the types: */
bool types_is_utc_datetime(json_t *v);
bool types_is_signed_duration(const char *s);
bool types_is_time_zone(const char *tzid);
bool types_is_css_color(const char *s);

#endif
