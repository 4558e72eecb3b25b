/*
 * instances.h — occurrences of recurring JSCalendar objects as JMAP objects of their
 * own (calendars-27 §5.5 "synthetic ids", tasks-06 §5.3 baseTaskId): building the
 * instance of a recurrence id, loading one by its synthetic id, and turning an update
 * or destroy of an instance into a patch of the base object's recurrenceOverrides
 * (§5.9). The ids are "<baseId>_<YYYYMMDDTHHMMSS>" (event_instance_id). Written for
 * any type with a `kind`; CalendarEvent and Task use it.
 */
#ifndef JMAPD_INSTANCES_H
#define JMAPD_INSTANCES_H

#include <stdbool.h>

#include "jmap/engine.h"

struct instance_kind {
    const struct jtype *type;
    const char *base_id_prop;     /* "baseTaskId" */
    const char *const *base_only; /* properties only the base object has (NULL-terminated) */
    const char *const *strip;     /* properties that describe an instance, not the series */
};

/* Whether obj has a recurrence (a rule, or overrides RDATE-style). */
bool instance_is_recurring(const json_t *obj);
/* The instance rid of base (new reference), or NULL if base does not recur there
 * (generated: the caller knows it does, from an expansion). The anchor is "start", or
 * "due" for a Task without start (jscalendarbis-17 §4.3.3); a Task's due moves with
 * its start. */
json_t *instance_build(const struct instance_kind *k, const json_t *base, const char *base_id,
                       const char *rid, bool generated);
/* The same instance for reading only (issue 21 §2): its members are base's own values,
 * not copies (except where an override changes them below the top level), so it costs
 * a small object instead of a deep copy. Changing its top-level members is fine;
 * nothing nested may be changed in place (base may be shared, e.g. event_cache.h).
 * keep (NULL: all): which of the base's members to take (a /get of some properties,
 * issue 21 §2); the instance's own are set whatever it says. */
typedef bool (*instance_keep)(const char *member);
json_t *instance_build_shared(const struct instance_kind *k, const json_t *base,
                              const char *base_id, const char *rid, bool generated,
                              instance_keep keep);
/* The type's load_synthetic hook: the instance a synthetic id names, or NULL. */
json_t *instance_load(const struct instance_kind *k, struct jmap_req *r, const char *account,
                      const char *id);
/* The type's synthetic_update hook: an update (patch) of an instance becomes its
 * override on the base; a destroy (patch NULL) excludes it. */
json_t *instance_update(const struct instance_kind *k, struct jset *s, const char *id,
                        json_t *patch, char **base_out, json_t **patch_out);
/* The same, where to_base moves what the instance's override must not hold into the
 * base's own patch (CalendarEvent: an alert acknowledged, calendars §6.2). */
json_t *instance_update_split(const struct instance_kind *k, struct jset *s, const char *id,
                              json_t *patch, char **base_out, json_t **patch_out,
                              void (*to_base)(const json_t *base, json_t *override,
                                              json_t *base_patch));

#endif
