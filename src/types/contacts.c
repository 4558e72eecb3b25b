/*
 * contacts.c — placeholder for JMAP Contacts (RFC 9610), built in its own issue:
 * registers nothing yet. contacts_register() will register the contacts capability,
 * AddressBook and ContactCard; contacts_provision_account() will create the
 * default address book of a new account.
 */
#include "types/types.h"

void contacts_register(void)
{
}

int contacts_provision_account(struct store_conn *c, const char *account, const char *username)
{
    return STORE_OK;
}
