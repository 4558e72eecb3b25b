/*
 * instances.c — occurrences of recurring objects as objects (instances.h).
 */
#include <stdio.h>
#include <string.h>

#include "formats/jscalendar/jscal_util.h"
#include "formats/json/patch.h"
#include "formats/recurrence/recur.h"
#include "types/calendar_event.h"
#include "types/instances.h"
#include "util/util.h"

static bool listed(const char *const *list, const char *s)
{
    for (; list && *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

bool instance_is_recurring(const json_t *obj)
{
    return json_is_object(json_object_get(obj, "recurrenceRule")) ||
           json_object_size(json_object_get(obj, "recurrenceOverrides")) > 0;
}

static const char *anchor_of(const json_t *base)
{
    return json_object_get(base, "start") || !json_object_get(base, "due") ? "start" : "due";
}

/* jscalendarbis §4.3.3.1 rule 1: the start of a series is always its first occurrence,
 * whether or not a rule generates it. */
static bool is_series_start(const json_t *base, const char *rid)
{
    jscal_ldt a, b;
    const char *start = json_string_value(json_object_get(base, anchor_of(base)));
    return start && !jscal_ldt_parse(start, &a) && !jscal_ldt_parse(rid, &b) &&
           jscal_ldt_to_secs(&a) == jscal_ldt_to_secs(&b);
}

/* A Task with start and due: the instance's due keeps its distance from the start. */
static void move_due(json_t *inst, const json_t *base, const char *rid)
{
    jscal_ldt s, d, r;
    const char *start = json_string_value(json_object_get(base, "start")),
               *due = json_string_value(json_object_get(base, "due"));
    if (!start || !due || jscal_ldt_parse(start, &s) || jscal_ldt_parse(due, &d) ||
        jscal_ldt_parse(rid, &r))
        return;
    jscal_ldt out;
    jscal_secs_to_ldt(jscal_ldt_to_secs(&r) + jscal_ldt_to_secs(&d) - jscal_ldt_to_secs(&s), &out);
    char buf[32];
    jscal_ldt_format(&out, 0, buf);
    json_object_set_new(inst, "due", json_string(buf));
}

/* Whether applying override changes only top-level members (no JSON Pointer path
 * deeper than one level): then an instance sharing base's values stays correct. */
static bool override_is_flat(const json_t *override)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *) override, key, v)
    {
        if (strchr(key, '/'))
            return false;
    }
    return true;
}

/* base without the series' own members: sharing base's values (shared) or a deep copy */
static json_t *series_members(const json_t *base, bool shared, instance_keep keep)
{
    static const char *const series[] = {"recurrenceRule", "recurrenceOverrides",
                                         "excludedRecurrenceRules"};
    if (!shared) {
        json_t *inst = json_deep_copy(base);
        for (size_t i = 0; i < sizeof series / sizeof series[0]; i++)
            json_object_del(inst, series[i]);
        return inst;
    }
    json_t *inst = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)base, key, v)
    {
        if (keep && !keep(key))
            continue;
        if ((key[0] != 'r' && key[0] != 'e') ||
            (strcmp(key, series[0]) && strcmp(key, series[1]) && strcmp(key, series[2])))
            json_object_set_new_nocheck(inst, key, json_incref(v));
    }
    return inst;
}

static json_t *build(const struct instance_kind *k, const json_t *base, const char *base_id,
                     const char *rid, bool generated, bool shared, instance_keep keep)
{
    if (!instance_is_recurring(base))
        return NULL;
    json_t *override = json_object_get(json_object_get(base, "recurrenceOverrides"), rid);
    if (json_is_true(json_object_get(override, "excluded")))
        return NULL;
    if (!generated && !override && !is_series_start(base, rid) &&
        !recur_rule_generates(base, rid))
        return NULL;
    shared = shared && (!override || override_is_flat(override));
    json_t *inst = series_members(base, shared, shared ? keep : NULL);
    const char *anchor = anchor_of(base);
    if (strcmp(anchor, "start") == 0)
        move_due(inst, base, rid);
    json_object_set_new(inst, anchor, json_string(rid));
    if (override) {
        json_t *patch = shared ? json_copy(override) : json_deep_copy(override);
        json_object_del(patch, "excluded");
        patch_apply(inst, patch, NULL); /* a patch that does not apply changes nothing */
        json_decref(patch);
    }
    json_object_set_new(inst, "recurrenceId", json_string(rid));
    json_t *tz = json_object_get(base, "timeZone");
    if (json_is_string(tz))
        json_object_set(inst, "recurrenceIdTimeZone", tz);
    char id[96];
    event_instance_id(base_id, rid, id);
    json_object_set_new(inst, "id", json_string(id));
    json_object_set_new(inst, k->base_id_prop, json_string(base_id));
    return inst;
}

json_t *instance_build(const struct instance_kind *k, const json_t *base, const char *base_id,
                       const char *rid, bool generated)
{
    return build(k, base, base_id, rid, generated, false, NULL);
}

json_t *instance_build_shared(const struct instance_kind *k, const json_t *base,
                              const char *base_id, const char *rid, bool generated,
                              instance_keep keep)
{
    return build(k, base, base_id, rid, generated, true, keep);
}

json_t *instance_load(const struct instance_kind *k, struct jmap_req *r, const char *account,
                      const char *id)
{
    char base_id[64], rid[20];
    if (!event_instance_parse(id, base_id, rid))
        return NULL;
    json_t *base = store_object_get(jmap_req_conn(r), account, k->type->name, base_id);
    json_t *inst = base ? instance_build(k, base, base_id, rid, false) : NULL;
    json_decref(base);
    return inst;
}

static void strip(const struct instance_kind *k, json_t *obj)
{
    static const char *const series[] = {"id", "recurrenceId", "recurrenceIdTimeZone",
                                         "recurrenceRule", "recurrenceOverrides",
                                         "excludedRecurrenceRules"};
    for (size_t i = 0; i < sizeof series / sizeof series[0]; i++)
        json_object_del(obj, series[i]);
    for (const char *const *p = k->strip; p && *p; p++)
        json_object_del(obj, *p);
    json_object_del(obj, k->base_id_prop);
}

/* The override that turns the regular occurrence at rid (the base at that time,
 * without any override) into after (a new patch). */
static json_t *override_for(const struct instance_kind *k, json_t *base, const char *rid,
                            json_t *after)
{
    json_t *regular = json_deep_copy(base), *target = json_deep_copy(after);
    const char *anchor = anchor_of(base);
    if (strcmp(anchor, "start") == 0)
        move_due(regular, base, rid);
    json_object_set_new(regular, anchor, json_string(rid));
    strip(k, regular);
    strip(k, target);
    json_t *diff = patch_diff(regular, target);
    json_decref(regular);
    json_decref(target);
    return diff;
}

/* The patch's properties an instance may not change; a new array. */
static json_t *forbidden(const struct instance_kind *k, json_t *inst, json_t *patch)
{
    json_t *bad = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(patch, key, v)
    {
        size_t n = strcspn(key, "/");
        char top[64];
        snprintf(top, sizeof top, "%.*s", (int)(n < sizeof top ? n : sizeof top - 1), key);
        bool series = listed(k->base_only, top) || strcmp(top, "recurrenceRule") == 0 ||
                      strcmp(top, "recurrenceOverrides") == 0 || strcmp(top, "recurrenceId") == 0;
        if (series && !(n == strlen(key) && json_equal(json_object_get(inst, top), v)))
            json_array_append_new(bad, json_string(top));
    }
    return bad;
}

json_t *instance_update(const struct instance_kind *k, struct jset *s, const char *id,
                        json_t *patch, char **base_out, json_t **patch_out)
{
    return instance_update_split(k, s, id, patch, base_out, patch_out, NULL);
}

json_t *instance_update_split(const struct instance_kind *k, struct jset *s, const char *id,
                              json_t *patch, char **base_out, json_t **patch_out,
                              void (*to_base)(const json_t *base, json_t *override,
                                              json_t *base_patch))
{
    char base_id[64], rid[20];
    if (!event_instance_parse(id, base_id, rid))
        return jmap_seterror("notFound", "no %s %s", k->type->name, id);
    json_t *base = store_object_get(jset_conn(s), jset_account(s), k->type->name, base_id);
    json_t *inst = base ? instance_build(k, base, base_id, rid, false) : NULL;
    json_t *err = NULL, *override = NULL;
    if (!inst) {
        json_decref(base);
        return jmap_seterror("notFound", "no %s %s", k->type->name, id);
    }
    if (!patch) {
        override = json_pack("{s:b}", "excluded", 1);
    } else {
        json_t *bad = forbidden(k, inst, patch);
        char *where = NULL;
        json_t *after = json_deep_copy(inst);
        if (json_array_size(bad))
            err = jmap_seterror_props(json_incref(bad), "cannot be changed on an instance");
        else if (patch_apply(after, patch, &where) != 0)
            err = jmap_seterror("invalidPatch", "cannot apply '%s'", where ? where : "");
        else
            override = override_for(k, base, rid, after);
        free(where);
        json_decref(after);
        json_decref(bad);
    }
    if (!err) {
        json_t *overrides = json_deep_copy(json_object_get(base, "recurrenceOverrides"));
        if (!json_is_object(overrides)) {
            json_decref(overrides);
            overrides = json_object();
        }
        json_t *base_patch = json_object();
        if (to_base)
            to_base(base, override, base_patch);
        json_object_set_new(overrides, rid, override);
        json_object_set_new(base_patch, "recurrenceOverrides", overrides);
        *base_out = xstrdup(base_id);
        *patch_out = base_patch;
    }
    json_decref(inst);
    json_decref(base);
    return err;
}
