/*
 * participant_identity.c — the ParticipantIdentity type
 * (draft-ietf-jmap-calendars-27 §3): who the user is in events' participants.
 * Standard /get, /changes, /set plus onSuccessSetIsDefault.
 */
#include <ctype.h>
#include <string.h>

#include "jmap/engine.h"
#include "types/types.h"

static const struct jprop identity_props[] = {
    {"id", JP_SERVER_SET | JP_IMMUTABLE, NULL},
    {"name", 0, "\"\""},
    {"calendarAddress", JP_REQUIRED, NULL},
    {"isDefault", JP_SERVER_SET, "false"},
    {NULL, 0, NULL},
};

static const struct argspec identity_set_args[] = {
    {"onSuccessSetIsDefault", ARG_ID, ARG_NULLABLE | ARG_REF},
    {NULL, 0, 0},
};

/* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" ... */
static bool is_uri(const char *s)
{
    if (!isalpha((unsigned char)*s))
        return false;
    const char *p = s + 1;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    if (*p != ':' || !p[1])
        return false;
    for (; *p; p++)
        if ((unsigned char)*p <= ' ')
            return false;
    return true;
}

static json_t *identity_validate(struct jset *s, json_t *obj, json_t *old, json_t *invalid)
{
    if (!json_is_string(json_object_get(obj, "name")))
        jset_invalid(s, invalid, "name", "must be a String");
    json_t *addr = json_object_get(obj, "calendarAddress");
    if (!json_is_string(addr) || !is_uri(json_string_value(addr)))
        jset_invalid(s, invalid, "calendarAddress", "must be a URI (a mailto: address)");
    return NULL;
}

/* Identities say who the account's owner is: only the owner changes them. */
int participant_identity_set(struct jmap_req *r, json_t *args)
{
    json_t *acct = json_object_get(args, "accountId");
    const struct store_access *a =
        json_is_string(acct) ? jmap_req_access(r, json_string_value(acct)) : NULL;
    bool writes = json_object_size(json_object_get(args, "create")) ||
                  json_object_size(json_object_get(args, "update")) ||
                  json_array_size(json_object_get(args, "destroy"));
    if (a && a->may_write && !a->is_personal && writes) {
        jmap_error(r, "forbidden", "only the owner of an account changes its identities");
        return -1;
    }
    return jmap_std_set(r, &participant_identity_type, args);
}

const struct jtype participant_identity_type = {
    .metadata = true, /* draft-ietf-jmap-metadata-02 (issue 18) */
    .name = "ParticipantIdentity",
    .capability = JMAP_CALENDARS,
    .props = identity_props,
    .methods = JM_GET | JM_CHANGES, /* /set: participant_identity_set */
    .id_prefix = 'p',
    .set_args = identity_set_args,
    .validate = identity_validate,
    .finish = types_finish_set_default,
};
