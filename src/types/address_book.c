/*
 * address_book.c — the AddressBook type (RFC 9610 §2): property table,
 * validation, myRights, isDefault / onSuccessSetIsDefault, and the destroy rules
 * (addressBookHasContents, onDestroyRemoveContents) over the account's
 * ContactCards.
 */
#include <string.h>

#include "jmap/engine.h"
#include "types/contacts_internal.h"
#include "types/share.h"
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

/* §2 AddressBookRights (share.c): the owner may do everything; a user with write
 * access to the whole account may read and write cards, a read-only one only read;
 * a sharee has what shareWith gives them. */
static void book_decorate(struct jmap_req *r, const struct store_access *a, json_t *obj)
{
    json_object_set_new(
        obj, "myRights",
        share_rights_json(SHARE_ADDRESS_BOOK, share_rights(r, a, SHARE_ADDRESS_BOOK, obj)));
}

static json_t *book_view(struct jmap_req *r, const struct store_access *a, json_t *obj,
                         json_t *props, json_t *args)
{
    (void)args;
    json_t *out = share_collection_view(r, a, SHARE_ADDRESS_BOOK, obj);
    return out ? engine_select_props(out, props) : NULL;
}

static int book_index(struct store_conn *c, const char *account, const char *id, json_t *obj)
{
    return share_collection_index(c, SHARE_ADDRESS_BOOK, account, id, obj);
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
    json_object_del(obj, "myRights"); /* computed on /get, never stored */
    /* §2.3 shareWith (mayShare) and what a sharee may change (share.c) */
    return share_collection_validate(s, SHARE_ADDRESS_BOOK, obj, old, invalid);
}

/* ---- destroy: addressBookHasContents / onDestroyRemoveContents ---------------------- */

static json_t *book_destroy(struct jset *s, const char *id, json_t *old)
{
    json_t *err = share_collection_destroy(s, SHARE_ADDRESS_BOOK, old); /* §2 mayDelete */
    if (err)
        return err;
    /* §2.3: cards leave it; those in no other address book are destroyed */
    return types_destroy_collection(s, id, &contact_card_type, "addressBookIds",
                                    "onDestroyRemoveContents", "addressBookHasContents");
}

const struct jtype address_book_type = {
    .metadata = true, /* draft-ietf-jmap-metadata-02 (issue 18) */
    .name = "AddressBook",
    .capability = JMAP_CONTACTS,
    .props = book_props,
    .methods = JM_GET | JM_SET | JM_CHANGES,
    .id_prefix = 'b',
    .set_args = book_set_args,
    .decorate = book_decorate,
    .view = book_view,
    .validate = book_validate,
    .destroy = book_destroy,
    .index = book_index,
    .visible = share_book_visible_id,
    .finish = types_finish_set_default, /* onSuccessSetIsDefault (§2.3) */
};
