/*
 * registry.c — the one list of data-type modules. Everything else (the session,
 * EventSource, Blob/lookup, provisioning, `jmapd import`/`export`, GET /export/...)
 * learns the types from jmap_init(types_registry). A new module is one line here
 * (docs/adding-a-type.md).
 */
#include "types/types.h"

const struct jmodule *const types_registry[] = {
    &calendars_module,
    &contacts_module,
    &tasks_module,
    &principals_module,
    NULL,
};
