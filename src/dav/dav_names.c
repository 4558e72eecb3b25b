/*
 * dav_names.c — resource names. A DAV client chooses the name of a resource it
 * creates (PUT /.../{name}.ics, MKCALENDAR /.../{name}/) and expects it to stay
 * (RFC 4918 §5.2; RFC 4791 §5.3.2 lets it differ from the UID). JMAP ids are
 * chosen by the server, so the chosen names are kept beside the objects, in the
 * store's object table under two private types per JMAP type: "dav:name:T"
 * (name -> id) and "dav:href:T" (id -> name). They are no JMAP types: no state,
 * no push. Objects created over JMAP are named by their id. A name whose object
 * is gone is stale and is simply reused.
 *
 * A collection is a namespace of its own (RFC 4918 §5.2: a member's URL is the
 * collection's plus one segment), so two calendars may each hold an "event.ics": a name's
 * row holds every object that has the name ({"ids": [...]}; rows of before hold one,
 * {"id": ...}), and a member's name is looked up among them by membership. An object
 * keeps its name when JMAP moves it to another collection. A collection's own name (its
 * segment in the home) is a row of one.
 *
 * A MOVE that renames (dav_copy.c) is a change of its object even when the object's data
 * does not change: the object is written again (a new modseq, so its ETag, the type's
 * state, sync tokens and every front end's member index see it), and its href row keeps
 * the names it had, each with the modseq at which it was left ("former": name ->
 * modseq, those older than the change log's horizon dropped), so that a sync-collection
 * from before reports the old href as removed (RFC 6578 §3.5.1).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dav/dav_internal.h"
#include "jmap/engine.h"
#include "jmap/jmap.h"

bool dav_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 200 || name[0] == '.')
        return false; /* ".", "..", hidden names */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
            return false;
    return true;
}

static void private_type(char out[96], const char *kind, const char *type)
{
    snprintf(out, 96, "dav:%s:%s", kind, type);
}

void dav_name_of(struct store_conn *c, const char *acct, const char *type, const char *id,
                 const char *ext, char out[256])
{
    char t[96];
    private_type(t, "href", type);
    json_t *m = store_object_get(c, acct, t, id);
    const char *name = json_string_value(json_object_get(m, "name"));
    if (name)
        snprintf(out, 256, "%s", name);
    else
        snprintf(out, 256, "%s%s", id, ext);
    json_decref(m);
}

/* ---- the name hints ---------------------------------------------------------------------
 * (account, type, collection, name) -> id and modseq of the last successful lookup, so a
 * calendar-multiget of many hrefs finds each with one lookup (the id's modseq, which it
 * needs anyway) instead of three. A hint is only believed while its object has that
 * modseq: another object takes the name in that collection only once this one has left
 * it or is gone (a change of its modseq), and a rename writes its object again (a new
 * modseq) in whichever front end it happens;
 * every name this process writes drops all hints. Bounded by NAME_HINTS_MAX entries
 * (then it starts again empty). */
#define NAME_HINTS_MAX 200000

static pthread_mutex_t hint_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *hints;

static void hint_key(char out[512], const char *acct, const char *type, const char *coll,
                     const char *name)
{
    snprintf(out, 512, "%s/%s/%s/%s", acct, type, coll ? coll : "", name);
}

/* The kind whose members are objects of type (NULL for a collection type). */
static const struct dav_kind *member_kind(const char *type)
{
    static const struct dav_kind *const kinds[] = {&dav_calendars, &dav_tasklists,
                                                   &dav_addressbooks};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i]->obj_type, type) == 0)
            return kinds[i];
    return NULL;
}

/* The ids of the objects a name row holds (a new array; rows of before hold one). */
static json_t *row_ids(const json_t *row)
{
    json_t *ids = json_object_get(row, "ids");
    if (json_is_array(ids))
        return json_copy(ids);
    json_t *out = json_array();
    if (json_is_string(json_object_get(row, "id")))
        json_array_append(out, json_object_get(row, "id"));
    return out;
}

/* The live object the name's row holds (one of collection coll when given), into id. */
static bool row_read(struct store_conn *c, const char *acct, const char *type, const char *coll,
                     const char *name, char id[64])
{
    char t[96];
    private_type(t, "name", type);
    json_t *row = store_object_get(c, acct, t, name), *ids = row_ids(row), *v;
    const struct dav_kind *k = coll && *coll ? member_kind(type) : NULL;
    bool ok = false;
    size_t i;
    json_array_foreach(ids, i, v)
    {
        const char *mid = json_string_value(v);
        if (!mid || strlen(mid) >= 64)
            continue;
        if (k) {
            json_t *obj = store_object_get(c, acct, type, mid);
            ok = obj && dav_is_member(k, obj, coll);
            json_decref(obj);
        } else {
            ok = store_object_exists(c, acct, type, mid);
        }
        if (ok) {
            snprintf(id, 64, "%s", mid);
            break;
        }
    }
    json_decref(ids);
    json_decref(row);
    return ok;
}

static bool hint_get(const char *key, char id[64], int64_t *modseq)
{
    pthread_mutex_lock(&hint_lock);
    json_t *h = json_object_get(hints, key);
    const char *hid = json_string_value(json_object_get(h, "id"));
    if (hid) {
        snprintf(id, 64, "%s", hid);
        *modseq = json_integer_value(json_object_get(h, "m"));
    }
    pthread_mutex_unlock(&hint_lock);
    return hid != NULL;
}

static void hint_put(const char *key, const char *id, int64_t modseq)
{
    pthread_mutex_lock(&hint_lock);
    if (!hints || json_object_size(hints) >= NAME_HINTS_MAX) {
        json_decref(hints);
        hints = json_object();
    }
    json_object_set_new(hints, key, json_pack("{s:s, s:I}", "id", id, "m", (json_int_t)modseq));
    pthread_mutex_unlock(&hint_lock);
}

void dav_name_hints_clear(void)
{
    pthread_mutex_lock(&hint_lock);
    json_decref(hints);
    hints = NULL;
    pthread_mutex_unlock(&hint_lock);
}

/* The lookup itself, without hints: the id a name row binds (its object existing, in
 * coll), else a server-made name {id}{ext} of an object without a chosen name. */
static bool name_read(struct store_conn *c, const char *acct, const char *type, const char *coll,
                      const char *name, const char *ext, char id[64])
{
    if (row_read(c, acct, type, coll, name, id))
        return true;
    /* a server-made name: {id}{ext}, unless the object has a chosen name */
    size_t n = strlen(name), e = strlen(ext);
    if (n <= e || n - e >= 64 || strcmp(name + n - e, ext) != 0)
        return false;
    char cand[64];
    snprintf(cand, sizeof cand, "%.*s", (int)(n - e), name);
    if (!util_is_jmap_id(cand) || !store_object_exists(c, acct, type, cand))
        return false;
    char real[256];
    dav_name_of(c, acct, type, cand, ext, real);
    if (strcmp(real, name) != 0)
        return false;
    snprintf(id, 64, "%s", cand);
    return true;
}

bool dav_name_lookup(struct store_conn *c, const char *acct, const char *type, const char *coll,
                     const char *name, const char *ext, char id[64], int64_t *modseq)
{
    char key[512];
    int64_t hinted;
    hint_key(key, acct, type, coll, name);
    if (hint_get(key, id, &hinted)) {
        int64_t m = store_object_modseq(c, acct, type, id);
        if (m >= 0 && m == hinted) { /* the hinted object is unchanged: the name is its */
            if (modseq)
                *modseq = m;
            return true;
        }
    }
    if (!name_read(c, acct, type, coll, name, ext, id))
        return false;
    int64_t m = store_object_modseq(c, acct, type, id);
    hint_put(key, id, m);
    if (modseq)
        *modseq = m;
    return true;
}

json_t *dav_name_former(struct store_conn *c, const char *acct, const char *type, const char *id,
                        const char *coll_id, int64_t since)
{
    char t[96];
    private_type(t, "href", type);
    json_t *row = store_object_get(c, acct, t, id), *out = NULL, *e, *in;
    const char *name;
    size_t i;
    json_object_foreach(json_object_get(row, "former"), name, e)
    {
        if (json_integer_value(json_object_get(e, "m")) <= since)
            continue;
        json_array_foreach(json_object_get(e, "in"), i, in)
        {
            if (json_is_string(in) && strcmp(json_string_value(in), coll_id) == 0) {
                if (!out)
                    out = json_array();
                json_array_append_new(out, json_string(name));
                break;
            }
        }
    }
    json_decref(row);
    return out;
}

static int put_private(struct store_conn *c, const char *acct, const char *t, const char *key,
                       json_t *v)
{
    /* the private rows are never destroyed: a name is inserted once, then updated */
    bool exists = store_object_exists(c, acct, t, key);
    return store_object_put(c, acct, t, key, v, 1, !exists, NULL);
}

/* Whether object id of type is named name (its href row). */
static bool named(struct store_conn *c, const char *acct, const char *th, const char *id,
                  const char *name)
{
    json_t *h = store_object_get(c, acct, th, id);
    bool is = h && json_is_string(json_object_get(h, "name")) &&
              strcmp(json_string_value(json_object_get(h, "name")), name) == 0;
    json_decref(h);
    return is;
}

int dav_name_write(struct store_conn *c, const char *acct, const char *type, const char *name,
                   const char *id)
{
    char tn[96], th[96];
    private_type(tn, "name", type);
    private_type(th, "href", type);
    dav_name_hints_clear(); /* a name may now name another object */
    json_t *to_name = json_pack("{s:s}", "name", name);
    int rc = put_private(c, acct, th, id, to_name);
    json_decref(to_name);
    /* the name's row: id, and the others that still have the name (a member's name may be
     * another collection's member's too); a collection's name names one */
    json_t *row = store_object_get(c, acct, tn, name), *had = row_ids(row), *ids = json_array(), *v;
    json_array_append_new(ids, json_string(id));
    size_t i;
    json_array_foreach(had, i, v)
    {
        const char *other = json_string_value(v);
        if (member_kind(type) && other && strcmp(other, id) != 0 &&
            store_object_exists(c, acct, type, other) && named(c, acct, th, other, name))
            json_array_append(ids, v);
    }
    json_t *to_ids = json_pack("{s:o}", "ids", ids);
    if (rc == STORE_OK)
        rc = put_private(c, acct, tn, name, to_ids);
    json_decref(to_ids);
    json_decref(had);
    json_decref(row);
    return rc;
}

/* Takes id out of the row of name (it is named otherwise now). */
static int name_drop(struct store_conn *c, const char *acct, const char *type, const char *name,
                     const char *id)
{
    char tn[96];
    private_type(tn, "name", type);
    json_t *row = store_object_get(c, acct, tn, name);
    if (!row)
        return STORE_OK;
    json_t *had = row_ids(row), *ids = json_array(), *v;
    size_t i;
    json_array_foreach(had, i, v) if (json_is_string(v) && strcmp(json_string_value(v), id) != 0)
        json_array_append(ids, v);
    json_t *to_ids = json_pack("{s:o}", "ids", ids);
    int rc = put_private(c, acct, tn, name, to_ids);
    json_decref(to_ids);
    json_decref(had);
    json_decref(row);
    return rc;
}

struct name_write {
    const char *acct, *type, *name, *id;
};

static int name_write(struct store_conn *c, void *ud)
{
    const struct name_write *w = ud;
    return dav_name_write(c, w->acct, w->type, w->name, w->id);
}

int dav_name_remember(struct store_conn *c, const char *acct, const char *type, const char *name,
                      const char *id)
{
    dav_members_clear(); /* a name that changes with no change of its object */
    store_rollback(c);   /* the caller's read transaction */
    struct name_write w = {acct, type, name, id};
    int rc = store_write(c, name_write, &w, "dav name");
    store_begin(c, false);
    return rc;
}

/* The precommit hook of the /set that creates "dav" (see dav_name_arm). */
static int name_precommit(struct store_conn *c, const char *account, const char *type,
                          json_t *created, void *ud)
{
    struct dav_name_hook *h = ud;
    const char *id = json_string_value(json_object_get(json_object_get(created, "dav"), "id"));
    if (strcmp(type, h->type) != 0 || !id)
        return 0;
    int rc = dav_name_write(c, account, type, h->name, id);
    h->written = rc == STORE_OK;
    return rc == STORE_OK ? 0 : -1;
}

void dav_name_arm(struct dav_name_hook *h, const char *type, const char *name)
{
    h->type = type;
    h->name = name;
    h->written = false;
    jmap_precommit_set(name_precommit, h);
}

/* The collections of a member value (calendarIds, addressBookIds: the keys set to
 * true; taskListId: the string), a new array. */
static json_t *colls_of(json_t *v)
{
    json_t *out = json_array(), *on;
    const char *id;
    if (json_is_string(v))
        json_array_append(out, v);
    json_object_foreach(v, id, on) if (json_is_true(on))
        json_array_append_new(out, json_string(id));
    return out;
}

/* Writes id's href row for its new name h->name with the former names of before (its
 * row until now, or NULL) and h->old, left at the object's modseq now in the
 * collections it was in ({"m": modseq, "in": [collection ids]}): less the ones older
 * than the change log's horizon and the new name itself. */
static int former_write(struct store_conn *c, const char *account, const char *type,
                        const struct dav_rename_hook *h, json_t *before)
{
    char th[96];
    private_type(th, "href", type);
    json_t *former = json_object();
    int64_t lowest = store_state_lowest(c, account, type);
    const char *name;
    json_t *m;
    json_object_foreach(json_object_get(before, "former"), name, m)
    {
        if (json_integer_value(json_object_get(m, "m")) >= lowest && strcmp(name, h->name) != 0)
            json_object_set(former, name, m);
    }
    if (strcmp(h->old, h->name) != 0)
        json_object_set_new(former, h->old,
                            json_pack("{s:I, s:o}", "m",
                                      (json_int_t)store_object_modseq(c, account, type, h->id),
                                      "in", colls_of(h->was_in)));
    json_t *row = json_pack("{s:s, s:o}", "name", h->name, "former", former);
    int rc = put_private(c, account, th, h->id, row);
    json_decref(row);
    return rc;
}

/* The precommit hook of MOVE's /set (see dav_name_arm_rename): only once the object is in
 * the destination (a refused update leaves the names alone). */
static int rename_precommit(struct store_conn *c, const char *account, const char *type,
                            json_t *created, void *ud)
{
    (void)created;
    struct dav_rename_hook *h = ud;
    if (strcmp(type, h->k->obj_type) != 0)
        return 0;
    json_t *obj = store_object_get(c, account, type, h->id);
    bool moved = obj && dav_is_member(h->k, obj, h->coll_id);
    int rc = STORE_OK;
    /* a rename is a change: the object written again when the /set left it as it was */
    const struct jtype *t = jmap_type_find(type);
    if (moved && h->rewrite)
        rc = t && jmap_object_write(c, NULL, t, account, h->id, obj, false) == 0 ? STORE_OK
                                                                                 : STORE_ERR;
    if (!moved) {
        json_decref(obj);
        return 0;
    }
    json_decref(obj);
    if (rc == STORE_OK && strcmp(h->old, h->name) != 0)
        rc = name_drop(c, account, type, h->old, h->id); /* the old name names it no more */
    char th[96];
    private_type(th, "href", type);
    json_t *before = store_object_get(c, account, th, h->id);
    if (rc == STORE_OK)
        rc = dav_name_write(c, account, type, h->name, h->id);
    if (rc == STORE_OK)
        rc = former_write(c, account, type, h, before);
    json_decref(before);
    h->written = rc == STORE_OK;
    return rc == STORE_OK ? 0 : -1;
}

void dav_name_arm_rename(struct dav_rename_hook *h)
{
    h->written = false;
    jmap_precommit_set(rename_precommit, h);
}

void dav_name_disarm(void)
{
    jmap_precommit_set(NULL, NULL);
}
