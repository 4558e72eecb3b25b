/*
 * address_book.c — the AddressBook type (RFC 9610 §2): property table,
 * validation, myRights, isDefault / onSuccessSetIsDefault, and the destroy rules
 * (addressBookHasContents, onDestroyRemoveContents) over the account's
 * ContactCards.
 */
#include <string.h>

#include "jmap/engine.h"
#include "types/contacts_internal.h"
#include "types/types.h"

static const struct jprop book_props[] = {
    {"id", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"name", JP_REQUIRED, NULL},
    {"description", 0, "null"},
    {"sortOrder", 0, "0"},
    {"isDefault", JP_SERVER_SET, "false"},
    {"isSubscribed", 0, "true"}, /* §2: true for address books the user creates */
    {"shareWith", 0, "null"},
    {"myRights", JP_SERVER_SET, NULL},
    {NULL, 0, NULL},
};

static const struct argspec book_set_args[] = {
    {"onDestroyRemoveContents", ARG_BOOL, 0},
    {"onSuccessSetIsDefault", ARG_ID, ARG_NULLABLE | ARG_REF},
    {NULL, 0, 0},
};

/* §2 AddressBookRights: the owner may do everything; a user with write access to
 * the account may read and write cards; a read-only sharee may only read. Only
 * the owner may share or delete the address book itself. */
static json_t *book_rights(const struct store_access *a)
{
    bool w = a->may_write, owner = a->may_write && a->is_personal;
    return json_pack("{s:b, s:b, s:b, s:b}", "mayRead", 1, "mayWrite", w, "mayShare", owner,
                     "mayDelete", owner);
}

static void book_decorate(struct jmap_req *r, const struct store_access *a, json_t *obj)
{
    json_object_set_new(obj, "myRights", book_rights(a));
}

static json_t *book_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    json_t *v = json_object_get(obj, "name");
    /* §2: name MUST NOT be empty nor longer than 255 octets */
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 255)
        jset_invalid(s, invalid, "name", "must be a non-empty String of at most 255 octets (§2)");
    v = json_object_get(obj, "description");
    if (!json_is_null(v) && !json_is_string(v))
        jset_invalid(s, invalid, "description", "must be a String or null");
    v = json_object_get(obj, "sortOrder");
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= 2147483648LL)
        jset_invalid(s, invalid, "sortOrder", "must be an UnsignedInt below 2^31");
    if (!json_is_boolean(json_object_get(obj, "isSubscribed")))
        jset_invalid(s, invalid, "isSubscribed", "must be a Boolean");
    v = json_object_get(obj, "shareWith");
    bool changed = !old || !json_equal(v, json_object_get(old, "shareWith"));
    const struct store_access *a = jset_access(s);
    if (changed && !(json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0))) {
        /* §2.3: shareWith may only be set with the mayShare right; and sharing needs
         * Principals (RFC 9670), which this server does not have: no principal id
         * can be valid. */
        if (a && !(a->may_write && a->is_personal))
            return jmap_seterror("forbidden", "only the owner may share this address book");
        jset_invalid(s, invalid, "shareWith", "sharing needs principals, which this server has not");
    } else if (json_is_object(v)) {
        json_object_set_new(obj, "shareWith", json_null());
    }
    json_object_del(obj, "myRights"); /* computed on /get, never stored */
    return NULL;
}

/* ---- destroy: addressBookHasContents / onDestroyRemoveContents ---------------------- */

static json_t *book_destroy(struct jset *s, const char *id, json_t *old)
{
    const struct store_access *a = jset_access(s);
    if (a && !(a->may_write && a->is_personal)) /* §2 mayDelete */
        return jmap_seterror("forbidden", "only the owner may destroy this address book");
    /* §2.3: cards leave it; those in no other address book are destroyed */
    return types_destroy_collection(s, id, &contact_card_type, "addressBookIds",
                                    "onDestroyRemoveContents", "addressBookHasContents");
}

const struct jtype address_book_type = {
    .name = "AddressBook",
    .capability = JMAP_CONTACTS,
    .props = book_props,
    .methods = JM_GET | JM_SET | JM_CHANGES,
    .id_prefix = 'b',
    .set_args = book_set_args,
    .decorate = book_decorate,
    .validate = book_validate,
    .destroy = book_destroy,
    .finish = types_finish_set_default, /* onSuccessSetIsDefault (§2.3) */
};
