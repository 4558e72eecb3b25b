/*
 * calendars.c — JMAP Calendars (draft-ietf-jmap-calendars) as a module: its
 * capabilities, its types (Calendar in calendar.c, ParticipantIdentity in
 * participant_identity.c, CalendarEvent in calendar_event*.c), its custom methods,
 * what a new account gets (§4: a default calendar; §3: an identity) and its .ics
 * importer and calendar exporter (calendar_io.c). registry.c lists it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "types/calendar_alert.h"
#include "types/calendar_event.h"
#include "types/types.h"

/* calendars §4: every user gets a default calendar; §3: and an identity with the
 * owner's calendar address (`jmapd user add --email`, or NAME@default_domain). */
static int calendars_provision(struct store_conn *c, const struct jmap_owner *owner)
{
    char id[16];
    json_t *cal = json_pack("{s:s, s:b}", "name", "Calendar", "isDefault", 1);
    int rc = types_create_direct(c, &calendar_type, owner->account, cal, id);
    json_decref(cal);
    if (rc)
        return rc;
    json_t *ident = json_pack("{s:s, s:s, s:b}", "name", owner->name, "calendarAddress",
                              owner->address, "isDefault", 1);
    rc = types_create_direct(c, &participant_identity_type, owner->account, ident, id);
    json_decref(ident);
    return rc;
}

static void calendars_register_methods(void)
{
    jmap_register_method("ParticipantIdentity/set", JMAP_CALENDARS, participant_identity_set);
    calendar_event_query_register();
    jmap_register_after_request(imip_drain); /* iMIP out, after the commit */
    jmap_register_after_request(calendar_alert_kick); /* §6: a changed alert schedule */
}

static const struct jcapability *const calendars_capabilities[] = {
    &calendar_capability,
    &calendar_parse_capability,
    NULL,
};

static const struct jtype *const calendars_types[] = {
    &calendar_type,
    &participant_identity_type,
    &calendar_event_type,
    &calendar_event_notification_type,
    NULL,
};

const struct jmodule calendars_module = {
    .name = "calendars",
    .capabilities = calendars_capabilities,
    .types = calendars_types,
    .register_methods = calendars_register_methods,
    .provision = calendars_provision,
    .importers = calendar_io_importers,
    .exporters = calendar_io_exporters,
    .export_syncs = calendar_io_export_syncs,
};
