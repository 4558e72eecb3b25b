/*
 * subscription_dav.c — a subscription that follows a CalDAV or WebDAV-sync
 * collection its feed advertised (draft-ietf-calext-subscription-upgrade-13 §7.2
 * subscribe-caldav, §7.3 subscribe-caldav-auth, §7.4 subscribe-webdav-sync). Each
 * refresh asks the collection what changed since the last DAV:sync-token (RFC 6578
 * §3.2), gets only the changed resources (calendar-multiget, or GET each; feeds/
 * dav_sync.c), and replaces the calendar's events of the uids those resources held
 * and hold; a member reported 404 takes its uid's events with it. The collection's
 * members are remembered as "href etag uid" lines in a blob (one per calendar, the
 * object SubscriptionDav keeps it referenced), so a deleted href finds its events,
 * and after a refused token the full listing (§3.4) downloads only the resources
 * whose ETag changed. Fetching happens outside any transaction; applying in the
 * refresh's write transaction (subscription_refresh.c).
 */
#include <stdlib.h>
#include <string.h>

#include "feeds/dav_sync.h"
#include "types/calendar_event.h"
#include "types/subscription.h"
#include "util/util.h"

#define MAX_ROUNDS 1000 /* §3.6 truncated answers followed at most this often */

struct dav_fetched {
    json_t *group;   /* the changed resources' entries, as one Group */
    json_t *touched; /* uid -> true: the uids whose events are replaced */
    json_t *map;     /* href path -> [etag, uid]: the collection after this sync */
    char *token;     /* the new DAV:sync-token */
    bool full;       /* a full listing: events of no listed member's uid go */
};

/* ---- the remembered members ----------------------------------------------------------- */

static void dav_blob_ids(json_t *obj, json_t *ids)
{
    json_t *b = json_object_get(obj, "blob");
    if (json_is_string(b) && json_string_length(b))
        json_array_append(ids, b);
}
static const struct jtype dav_state_type = {.name = "SubscriptionDav", .blob_ids = dav_blob_ids};

/* The members of the calendar's collection as last synchronised, or NULL. */
static json_t *map_load(struct store_conn *c, const char *account, const char *cal)
{
    if (store_begin(c, false) != STORE_OK)
        return NULL;
    json_t *d = store_object_get(c, account, dav_state_type.name, cal);
    const char *blob = json_string_value(json_object_get(d, "blob"));
    unsigned char *data = NULL;
    size_t len = 0;
    json_t *map = NULL;
    if (blob && *blob && store_blob_get(c, account, blob, &data, &len) == STORE_OK) {
        map = json_object();
        char *text = xstrndup((const char *)data, len), *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
            if (!t2)
                continue;
            *t1 = *t2 = 0;
            json_object_set_new(map, line, json_pack("[s,s]", t1 + 1, t2 + 1));
        }
        free(text);
    }
    free(data);
    json_decref(d);
    store_rollback(c);
    return map;
}

/* Keeps map (NULL: nothing) as the calendar's members, in the open write transaction. */
static int map_save(struct store_conn *c, const char *account, const char *cal, json_t *map)
{
    char id[66] = "";
    int rc = 0;
    if (map) {
        struct buf b = {0};
        const char *href;
        json_t *v;
        json_object_foreach(map, href, v)
        {
            buf_printf(&b, "%s\t%s\t%s\n", href, json_string_value(json_array_get(v, 0)),
                       json_string_value(json_array_get(v, 1)));
        }
        id[0] = 'G'; /* content-addressed, as every blob */
        util_sha256_hex(b.data ? b.data : "", b.len, id + 1);
        rc = store_blob_put(c, account, id, b.data ? b.data : "", b.len, "text/plain");
        buf_free(&b);
    }
    json_t *now = json_pack("{s:s}", "blob", id);
    json_t *old = store_object_get(c, account, dav_state_type.name, cal);
    /* an id destroyed is never created again: kept and emptied instead */
    if (!rc && (old || map) && !json_equal(old, now))
        rc = jmap_object_write(c, NULL, &dav_state_type, account, cal, now, !old);
    json_decref(old);
    json_decref(now);
    return rc;
}

int subscription_dav_forget(struct store_conn *c, const char *account, const char *cal)
{
    return map_save(c, account, cal, NULL);
}

/* ---- fetching --------------------------------------------------------------------------- */

/* Every member changed since token (NULL: all, §3.4), following truncated answers
 * (§3.6): href path -> etag ("" if none given), or null for a removed one. A refused
 * token (§3.2) starts over with none: *full says so. NULL with *err. */
static json_t *list_changes(const char *coll, const char *token, const struct fetch_opts *o,
                            bool *full, char **next, char **err)
{
    json_t *listed = json_object();
    char *tok = token && *token ? xstrdup(token) : NULL;
    *full = !tok;
    for (int round = 0; round < MAX_ROUNDS; round++) {
        struct dav_listing l;
        if (dav_sync_collection(coll, tok, o, &l) != 0) {
            bool retry = l.bad_token && !*full;
            if (!retry)
                *err = xstrdup(l.error ? l.error : "sync-collection failed");
            dav_listing_clear(&l);
            free(tok);
            tok = NULL;
            if (!retry)
                break;
            *full = true; /* RFC 6578 §3.2: full synchronisation with the report */
            json_object_clear(listed);
            continue;
        }
        for (size_t i = 0; i < l.n; i++)
            json_object_set_new(listed, l.m[i].href,
                                l.m[i].gone ? json_null() : json_string(l.m[i].etag ?: ""));
        free(tok);
        tok = xstrdup(l.token);
        bool more = l.truncated;
        dav_listing_clear(&l);
        if (!more) {
            *next = tok;
            return listed;
        }
    }
    if (!*err)
        *err = xstrdup("sync-collection: too many truncated answers");
    free(tok);
    json_decref(listed);
    return NULL;
}

/* A resource's text (NULL: it is gone) into df: its events join the group, its old
 * and new uids are touched, the map follows. */
static int take_resource(void *ud, const char *href, const char *text, size_t len, const char *etag)
{
    struct dav_fetched *df = ud;
    json_t *old = json_object_get(df->map, href);
    const char *old_uid = json_string_value(json_array_get(old, 1));
    if (old_uid && *old_uid)
        json_object_set_new(df->touched, old_uid, json_true());
    char *why = NULL;
    json_t *g = text ? subscription_parse_feed(text, len, &why) : NULL;
    const char *uid = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(g, "entries"), i, e)
    {
        const char *u = json_string_value(json_object_get(e, "uid"));
        if (!u || strpbrk(u, "\t\n"))
            continue;
        uid = uid ? uid : u;
        json_object_set_new(df->touched, u, json_true());
        json_array_append(json_object_get(df->group, "entries"), e);
    }
    if (uid)
        json_object_set_new(df->map, href, json_pack("[s,s]", etag ? etag : "", uid));
    else
        json_object_del(df->map, href); /* gone, or not iCalendar: not one of ours */
    if (why)
        log_debug("subscription: %s: %s", href, why);
    free(why);
    json_decref(g);
    return 0;
}

int subscription_dav_fetch(struct store_conn *c, const struct fetch_opts *o, const char *account,
                           const char *cal, json_t *sub, bool relist, struct dav_fetched **out,
                           char **err)
{
    const char *coll = json_string_value(json_object_get(sub, "davUrl"));
    const char *token = json_string_value(json_object_get(sub, "davToken"));
    bool incremental = token && *token && !relist;
    struct dav_fetched *df = xcalloc(1, sizeof *df);
    df->group = json_pack("{s:s, s:[]}", "@type", "Group", "entries");
    df->touched = json_object();
    json_t *listed = list_changes(coll, incremental ? token : NULL, o, &df->full, &df->token, err);
    json_t *map = NULL;
    if (listed && incremental && !df->full && !json_object_size(listed)) {
        *out = df; /* nothing changed: the members need not be read (nor written) */
        json_decref(listed);
        return 0;
    }
    if (listed && (incremental || relist)) /* after a first listing: changed ETags only */
        map = map_load(c, account, cal);
    if (listed && !map && incremental && !df->full) { /* members unknown: list them all */
        json_decref(listed);
        free(df->token);
        df->token = NULL;
        listed = list_changes(coll, NULL, o, &df->full, &df->token, err);
    }
    df->map = map ? map : json_object();
    if (!listed) {
        subscription_dav_free(df);
        return -1;
    }
    /* what to get: new members and those whose ETag changed; what went */
    json_t *get = json_array();
    const char *href;
    json_t *etag;
    void *tmp;
    json_object_foreach(listed, href, etag)
    {
        json_t *have = json_object_get(df->map, href);
        if (json_is_null(etag))
            take_resource(df, href, NULL, 0, NULL);
        else if (!have || !json_string_length(etag) ||
                 strcmp(json_string_value(json_array_get(have, 0)) ?: "", json_string_value(etag)))
            json_array_append_new(get, json_string(href));
    }
    json_object_foreach_safe(df->map, tmp, href, etag)
    {
        if (df->full && !json_object_get(listed, href)) /* §3.4: not listed, so gone */
            take_resource(df, href, NULL, 0, NULL);
    }
    size_t n = json_array_size(get);
    char **hrefs = xcalloc(n + 1, sizeof *hrefs);
    for (size_t i = 0; i < n; i++)
        hrefs[i] = (char *)json_string_value(json_array_get(get, i));
    bool caldav = json_is_true(json_object_get(sub, "davCaldav"));
    int rc = dav_get_resources(coll, caldav, hrefs, n, o, take_resource, df, err);
    free(hrefs);
    json_decref(get);
    json_decref(listed);
    if (rc) {
        subscription_dav_free(df);
        return -1;
    }
    *out = df;
    return 0;
}

/* ---- applying ------------------------------------------------------------------------------ */

struct strays {
    const char *cal;
    json_t *keep; /* uid -> true */
    json_t *ids;  /* the calendar's events of other uids */
};

static int stray_cb(const char *id, json_t *obj, void *ud)
{
    struct strays *s = ud;
    const char *uid = json_string_value(json_object_get(obj, "uid"));
    if (json_object_get(json_object_get(obj, "calendarIds"), s->cal) &&
        !(uid && json_object_get(s->keep, uid)))
        json_array_append_new(s->ids, json_string(id));
    return 0;
}

/* After a full listing: the calendar's events that no member holds (those of the
 * plain feed it followed before, or of members gone while the token was refused). */
static int destroy_strays(struct store_conn *c, const char *account, const char *cal, json_t *map,
                          struct diff_count *n)
{
    struct strays s = {cal, json_object(), json_array()};
    const char *href;
    json_t *v;
    json_object_foreach(map, href, v)
    {
        json_object_set_new(s.keep, json_string_value(json_array_get(v, 1)), json_true());
    }
    store_object_foreach(c, account, calendar_event_type.name, stray_cb, &s);
    int rc = 0;
    size_t i;
    json_t *id;
    json_array_foreach(s.ids, i, id)
    {
        json_t *old = store_object_get(c, account, calendar_event_type.name, json_string_value(id));
        if (old)
            subscription_refresher_destroyed(c, account, old);
        json_decref(old);
        if (jmap_object_write(c, NULL, &calendar_event_type, account, json_string_value(id), NULL,
                              false))
            rc = -1;
        else
            n->destroyed++;
    }
    json_decref(s.keep);
    json_decref(s.ids);
    return rc;
}

int subscription_dav_apply(struct store_conn *c, const char *account, const char *cal,
                           struct dav_fetched *df, struct diff_count *n)
{
    json_t *uids = json_array();
    const char *uid;
    json_t *v;
    json_object_foreach(df->touched, uid, v)
    {
        json_array_append_new(uids, json_string(uid));
    }
    int rc = subscription_apply_entities(c, account, cal, df->group, uids, n);
    json_decref(uids);
    const char *href;
    json_object_foreach(df->map, href, v)
    {
        /* a member whose events were skipped (their uid is another calendar's) is
         * fetched again by the next full listing: its ETag is forgotten */
        if (json_object_get(n->taken, json_string_value(json_array_get(v, 1))))
            json_array_set_new(v, 0, json_string(""));
    }
    if (!rc && df->full)
        rc = destroy_strays(c, account, cal, df->map, n);
    return rc || !df->map ? rc : map_save(c, account, cal, df->map);
}

const char *subscription_dav_token(const struct dav_fetched *df)
{
    return df ? df->token : NULL;
}

bool subscription_dav_full(const struct dav_fetched *df)
{
    return df->full;
}

bool subscription_dav_unchanged(const struct dav_fetched *df, const char *old_token)
{
    return !df->full && !json_object_size(df->touched) && old_token &&
           strcmp(old_token, df->token) == 0;
}

void subscription_dav_free(struct dav_fetched *df)
{
    if (!df)
        return;
    json_decref(df->group);
    json_decref(df->touched);
    json_decref(df->map);
    free(df->token);
    free(df);
}
