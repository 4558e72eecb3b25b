/*
 * common.c — helpers the data types share: server-side creation, the
 * onSuccessSetIsDefault rule, and value-format checks (UTCDateTime, Duration,
 * time zone ids, CSS colors).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "formats/jscalendar/jscal_util.h"
#include "jmap/engine.h"
#include "types/types.h"
#include "util/util.h"

int types_create_direct(struct store_conn *c, const struct jtype *t, const char *account,
                        json_t *obj, char id_out[16])
{
    jtype_fill_defaults(t, obj);
    util_random_id(id_out, 12, t->id_prefix);
    json_object_set_new(obj, "id", json_string(id_out));
    return jmap_object_write(c, NULL, t, account, id_out, obj, true) ? STORE_ERR : STORE_OK;
}

static int collect_defaults(const char *id, json_t *obj, void *ud)
{
    if (json_is_true(json_object_get(obj, "isDefault")))
        json_array_append_new(ud, json_string(id));
    return 0;
}

/* Sets isDefault on one object, reporting it as the server's change. */
static int write_default(struct jset *s, const char *id, bool value)
{
    struct jmap_req *r = jset_req(s);
    const struct jtype *t = jset_type(s);
    json_t *obj = store_object_get(jmap_req_conn(r), jset_account(s), t->name, id);
    if (!obj)
        return -1;
    json_object_set_new(obj, "isDefault", json_boolean(value));
    json_t *change = json_pack("{s:b}", "isDefault", value);
    int rc = jset_write_other(s, t, id, obj, change);
    json_decref(change);
    json_decref(obj);
    return rc;
}

void types_finish_set_default(struct jset *s, bool all_ok)
{
    json_t *arg = json_object_get(jset_args(s), "onSuccessSetIsDefault");
    if (!all_ok || !json_is_string(arg))
        return;
    const char *id = jset_resolve(s, json_string_value(arg));
    struct jmap_req *r = jset_req(s);
    const struct jtype *t = jset_type(s);
    json_t *obj = id ? store_object_get(jmap_req_conn(r), jset_account(s), t->name, id) : NULL;
    if (!obj)
        return; /* calendars §4.3: an unknown id is ignored, without error */
    bool already = json_is_true(json_object_get(obj, "isDefault"));
    json_decref(obj);
    if (already)
        return;
    json_t *defaults = json_array();
    store_object_foreach(jmap_req_conn(r), jset_account(s), t->name, collect_defaults, defaults);
    size_t i;
    json_t *v;
    json_array_foreach(defaults, i, v)
    {
        write_default(s, json_string_value(v), false); /* MUST NOT be true for more than one */
    }
    json_decref(defaults);
    write_default(s, id, true);
}

bool types_is_utc_datetime(json_t *v)
{
    int64_t t;
    return json_is_string(v) && util_utc_parse(json_string_value(v), &t) == 0;
}

static const char *digits(const char *p)
{
    const char *q = p;
    while (isdigit((unsigned char)*q))
        q++;
    return q > p ? q : NULL;
}

/* RFC 8984 §1.4.6 Duration / §1.4.7 SignedDuration (the jscalendarbis grammar is
 * the same): "P" (nW [nD] [time] / nD [time] / time), time = "T" (nH [nM] [nS] /
 * nM [nS] / nS), seconds may have a fraction. */
bool types_is_signed_duration(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    if (*s++ != 'P')
        return false;
    const char *q;
    bool any = false;
    if ((q = digits(s)) && *q == 'W') {
        s = q + 1;
        any = true;
    }
    if ((q = digits(s)) && *q == 'D') {
        s = q + 1;
        any = true;
    }
    if (*s == 'T') {
        s++;
        int stage = 0; /* H=1, M=2, S=3: each at most once, in order */
        bool t_any = false;
        while (*s) {
            q = digits(s);
            if (!q)
                return false;
            if (*q == '.') {
                q = digits(q + 1);
                if (!q || *q != 'S')
                    return false;
            }
            int st = *q == 'H' ? 1 : *q == 'M' ? 2 : *q == 'S' ? 3 : 0;
            if (st <= stage)
                return false;
            if (st != 3 && strchr(s, '.') && strchr(s, '.') < q)
                return false;
            stage = st;
            t_any = true;
            s = q + 1;
        }
        return t_any;
    }
    return any && *s == 0;
}

bool types_is_time_zone(const char *tzid)
{
    /* An IANA id names a file in the system zoneinfo; reject anything that could
     * walk the file system. */
    if (!*tzid || strlen(tzid) > 64 || tzid[0] == '/' || strstr(tzid, ".."))
        return false;
    for (const char *p = tzid; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
            return false;
    char path[128];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tzid);
    return access(path, R_OK) == 0 && strncmp(tzid, "posix", 5) != 0 &&
           strncmp(tzid, "right", 5) != 0;
}

/* CSS Color Module Level 3: a §4.3 color name or #RGB/#RRGGBB (the one table is
 * formats/jscalendar's, which JSCalendar 2.0 §3.2.12 uses in its six-digit form). */
bool types_is_css_color(const char *s)
{
    return jscal_css_color(s, 0);
}

struct members {
    const char *collection, *set_prop;
    json_t *ids;
};

static int collect_member(const char *id, json_t *obj, void *ud)
{
    struct members *m = ud;
    json_t *in = json_object_get(obj, m->set_prop); /* Id[Boolean], or one Id (taskListId) */
    if (json_is_string(in) ? strcmp(json_string_value(in), m->collection) == 0
                           : json_object_get(in, m->collection) != NULL)
        json_array_append_new(m->ids, json_string(id));
    return 0;
}

json_t *types_destroy_collection(struct jset *s, const char *id, const struct jtype *member_type,
                                 const char *set_prop, const char *remove_arg,
                                 const char *has_members_error)
{
    struct jmap_req *r = jset_req(s);
    const char *account = jset_account(s);
    struct members m = {id, set_prop, json_array()};
    store_object_foreach(jmap_req_conn(r), account, member_type->name, collect_member, &m);
    json_t *err = NULL;
    if (json_array_size(m.ids) && !json_is_true(json_object_get(jset_args(s), remove_arg))) {
        err = jmap_seterror(has_members_error, "it holds %zu objects", json_array_size(m.ids));
    } else {
        size_t i;
        json_t *v;
        json_array_foreach(m.ids, i, v)
        {
            const char *mid = json_string_value(v);
            json_t *obj = store_object_get(jmap_req_conn(r), account, member_type->name, mid);
            if (!obj)
                continue;
            json_object_del(json_object_get(obj, set_prop), id);
            int rc = json_object_size(json_object_get(obj, set_prop)) /* 0 for a single Id */
                         ? jset_write_other(s, member_type, mid, obj, NULL)
                         : jset_destroy_other(s, member_type, mid);
            json_decref(obj);
            if (rc) {
                err = jmap_seterror("serverFail", "could not remove the contents");
                break;
            }
        }
    }
    json_decref(m.ids);
    return err;
}

bool types_participants_within(const json_t *obj, size_t max)
{
    if (json_object_size(json_object_get(obj, "participants")) > max)
        return false;
    const char *rid;
    json_t *ov;
    json_object_foreach(json_object_get(obj, "recurrenceOverrides"), rid, ov)
    {
        json_t *p = json_object_get(ov, "participants"); /* an occurrence's whole set */
        if (json_object_size(p) > max)
            return false;
    }
    return true;
}

bool types_in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

void types_add_text(struct buf *b, json_t *v)
{
    if (json_is_string(v) && json_string_length(v)) {
        if (b->len)
            buf_puts(b, " ");
        buf_append(b, json_string_value(v), json_string_length(v));
    }
}

char *types_uid_key(json_t *obj)
{
    const char *uid = json_string_value(json_object_get(obj, "uid"));
    const char *rid = json_string_value(json_object_get(obj, "recurrenceId"));
    char *key = NULL;
    if (!uid || asprintf(&key, "%s\x1f%s", uid, rid ? rid : "") < 0)
        return NULL;
    return key;
}

bool types_changed_beyond(json_t *obj, json_t *old, const char *const *per_user,
                          const char *const *also_ignored)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (strcmp(k, "updated") && !types_in_list(also_ignored, k) &&
            !types_in_list(per_user, k) && !json_equal(v, json_object_get(old, k)))
            return true;
    }
    json_object_foreach(old, k, v)
    {
        if (!json_object_get(obj, k) && !types_in_list(per_user, k) && strcmp(k, "updated"))
            return true;
    }
    return false;
}

struct uid_find {
    const struct jtype *type;
    const char *rid;
    struct store_conn *c;
    const char *account;
    char id[64];
};

/* The object of the uid with the same recurrenceId (both absent, or equal). */
static int uid_find_cb(const char *id, void *ud)
{
    struct uid_find *u = ud;
    json_t *other = store_object_get(u->c, u->account, u->type->name, id);
    const char *orid = json_string_value(json_object_get(other, "recurrenceId"));
    if (other && ((!orid && !u->rid) || (orid && u->rid && strcmp(orid, u->rid) == 0)))
        snprintf(u->id, sizeof u->id, "%s", id);
    json_decref(other);
    return u->id[0] != 0;
}

int types_import_object(struct store_conn *c, const char *account, const struct types_import *im,
                        json_t *obj, bool *updated, char **err)
{
    const struct jtype *t = im->type;
    struct uid_find u = {t, json_string_value(json_object_get(obj, "recurrenceId")), c, account,
                         ""};
    const char *uid = json_string_value(json_object_get(obj, "uid"));
    if (uid)
        store_index_find_uid(c, account, t->name, uid, uid_find_cb, &u);
    json_t *old = u.id[0] ? store_object_get(c, account, t->name, u.id) : NULL;
    char id[64];
    if (old) /* the same object again: an update that keeps the id */
        snprintf(id, sizeof id, "%s", u.id);
    else
        util_random_id_clustered(id, 12, t->id_prefix);
    json_object_set_new(obj, "id", json_string(id));
    if (updated)
        *updated = old != NULL;
    json_t *invalid = json_array();
    im->check(c, account, obj, old, invalid);
    int rc = 0;
    if (json_array_size(invalid)) {
        char *list = json_dumps(invalid, JSON_COMPACT);
        if (asprintf(err, "invalid %s %s: %s", im->what, uid ? uid : "(no uid)", list) < 0)
            *err = NULL;
        free(list);
        rc = -1;
    } else if (jmap_object_write(c, NULL, t, account, id, obj, !old)) {
        if (asprintf(err, "cannot store %s %s", im->what, uid ? uid : "") < 0)
            *err = NULL;
        rc = -1;
    }
    json_decref(invalid);
    json_decref(old);
    json_decref(obj);
    return rc;
}

/* calendars-27 §5.4 (per-user properties, §10.8.2); tasks-06 §4's mayUpdatePrivate names
 * no list of its own, so a task's are the same (docs/tasks.md). */
const char *const types_per_user[] = {"keywords",         "color",  "freeBusyStatus",
                                      "useDefaultAlerts", "alerts", NULL};

json_t *types_with_per_user(json_t *obj, json_t *have)
{
    json_t *out = json_deep_copy(obj);
    for (const char *const *k = types_per_user; have && *k; k++) {
        json_t *mine = json_object_get(have, *k);
        if (mine)
            json_object_set(out, *k, mine);
        else
            json_object_del(out, *k);
    }
    return out;
}
