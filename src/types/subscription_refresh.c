/*
 * subscription_refresh.c — keeping a subscribed calendar in step with its feed
 * (issue 17 §1): fetch (feeds/fetch.c, conditional on the last ETag and
 * Last-Modified), convert, and apply the difference in one write transaction
 * through the engine's object write: an event is keyed by uid and recurrenceId,
 * so one the feed still has keeps its id and state, one that changed is updated
 * (with the user's per-user properties kept), one that is gone is destroyed;
 * clients see exactly that in CalendarEvent/changes. An unchanged feed (a 304, or
 * the same events) writes nothing. A failure is recorded in lastError and never
 * touches the events. The refresher thread looks at every subscription each
 * subscription_scan seconds and refreshes the due ones; failures back off.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feeds/fetch.h"
#include "formats/icalendar_jscalendar/ical.h"
#include "push/hub.h"
#include "types/calendar_event.h"
#include "types/subscription.h"
#include "types/types.h"
#include "util/util.h"

#define DEFAULT_INTERVAL (6 * 3600) /* a feed that says nothing (RFC 7986 §5.7) */
#define MAX_BACKOFF (24 * 3600)

/* ---- durations and the feed's REFRESH-INTERVAL ------------------------------------------ */

/* A positive RFC 5545 §3.3.6 / RFC 8984 Duration in seconds, or -1. */
static int64_t duration_secs(const char *s)
{
    if (!s || *s++ != 'P')
        return -1;
    int64_t total = 0, n = 0;
    bool time = false, digits = false;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9') {
            n = n * 10 + (*s - '0');
            digits = true;
            if (n > 100000000)
                return -1;
            continue;
        }
        int64_t unit = *s == 'W'           ? 604800
                       : *s == 'D'         ? 86400
                       : *s == 'H' && time ? 3600
                       : *s == 'M' && time ? 60
                       : *s == 'S' && time ? 1
                                           : 0;
        if (*s == 'T') {
            time = true;
            continue;
        }
        if (!unit || !digits)
            return -1;
        total += n * unit;
        n = 0;
        digits = false;
    }
    return digits ? -1 : total;
}

/* RFC 7986 §5.7 REFRESH-INTERVAL (or the older X-PUBLISHED-TTL) of the VCALENDAR,
 * in seconds, or -1. Looked for before the first component. */
static int64_t feed_interval(const char *ics)
{
    const char *end = strstr(ics, "\nBEGIN:V");
    for (const char *p = ics; p && (!end || p < end); p = strchr(p, '\n')) {
        while (*p == '\n' || *p == '\r')
            p++;
        if (strncasecmp(p, "REFRESH-INTERVAL", 16) && strncasecmp(p, "X-PUBLISHED-TTL", 15))
            continue;
        const char *colon = strchr(p, ':');
        if (!colon)
            return -1;
        char v[64];
        size_t n = strcspn(colon + 1, "\r\n");
        snprintf(v, sizeof v, "%.*s", (int)(n < 63 ? n : 63), colon + 1);
        return duration_secs(v);
    }
    return -1;
}

/* ---- the difference ----------------------------------------------------------------------- */

/* What the server sets or derives on store, or the feed regenerates each time
 * (DTSTAMP): not a change of the event. */
static const char *const not_compared[] = {"id",      "calendarIds", "isDraft",  "isOrigin",
                                           "created", "updated",     "sequence", "version",
                                           "method",  NULL};

static bool same_event(json_t *feed, json_t *stored)
{
    const char *k;
    json_t *v;
    json_object_foreach(feed, k, v)
    {
        if (!types_in_list(not_compared, k) && !types_in_list(types_per_user, k) &&
            !json_equal(v, json_object_get(stored, k)))
            return false;
    }
    json_object_foreach(stored, k, v)
    {
        if (!types_in_list(not_compared, k) && !types_in_list(types_per_user, k) && !json_object_get(feed, k) &&
            strcmp(k, "organizerCalendarAddress") != 0)
            return false;
    }
    return true;
}

static char *event_key(json_t *e)
{
    const char *uid = json_string_value(json_object_get(e, "uid"));
    const char *rid = json_string_value(json_object_get(e, "recurrenceId"));
    return uid ? xasprintf("%s\x1f%s", uid, rid ? rid : "") : NULL;
}

struct stored {
    const char *cal;
    json_t *by_key; /* key -> stored event */
};

static int collect(const char *id, json_t *obj, void *ud)
{
    struct stored *st = ud;
    if (!json_object_get(json_object_get(obj, "calendarIds"), st->cal))
        return 0;
    char *key = event_key(obj);
    if (key)
        json_object_set(st->by_key, key, obj);
    free(key);
    return 0;
}

struct uid_taken {
    struct store_conn *c;
    const char *account, *rid;
    bool taken;
};

static int uid_taken_cb(const char *id, void *ud)
{
    struct uid_taken *u = ud;
    json_t *o = store_object_get(u->c, u->account, calendar_event_type.name, id);
    const char *orid = json_string_value(json_object_get(o, "recurrenceId"));
    if (o && ((!orid && !u->rid) || (orid && u->rid && strcmp(orid, u->rid) == 0)))
        u->taken = true;
    json_decref(o);
    return u->taken;
}

/* One feed event against the calendar's: created, updated or left alone. */
static void apply_one(struct store_conn *c, const char *account, const char *cal, json_t *e,
                      json_t *stored, struct diff_count *n)
{
    char *key = event_key(e);
    json_t *have = key ? json_object_get(stored, key) : NULL;
    if (!key) {
        n->skipped++;
        return;
    }
    if (have && same_event(e, have)) {
        json_object_del(stored, key); /* seen */
        free(key);
        return;
    }
    if (!have) { /* the uid may be another calendar's event of this account: leave it */
        struct uid_taken u = {c, account, json_string_value(json_object_get(e, "recurrenceId")),
                              false};
        store_index_find_uid(c, account, calendar_event_type.name,
                             json_string_value(json_object_get(e, "uid")), uid_taken_cb, &u);
        if (u.taken) {
            n->skipped++;
            if (n->taken)
                json_object_set_new(n->taken, json_string_value(json_object_get(e, "uid")),
                                    json_true());
            free(key);
            return;
        }
    }
    json_t *obj = types_with_per_user(e, have);
    char *why = NULL;
    bool updated = false;
    int wrc = event_import_one(c, account, cal, obj, &updated, &why);
    if (wrc == 0)
        updated ? n->updated++ : n->created++;
    else
        n->skipped++;
    if (why)
        log_debug("subscription %s: %s", cal, why);
    free(why);
    json_decref(obj);
    if (have)
        json_object_del(stored, key);
    free(key);
}

/* Applies the converted feed (a Group) to calendar cal inside a write transaction. */
static int apply_feed(struct store_conn *c, const char *account, const char *cal, json_t *group,
                      struct diff_count *n)
{
    struct stored st = {cal, json_object()};
    int64_t t0 = util_now_us();
    store_object_foreach(c, account, calendar_event_type.name, collect, &st);
    log_debug("subscription %s: %zu stored events read in %.1f ms", cal,
              json_object_size(st.by_key), (double)(util_now_us() - t0) / 1e3);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(group, "entries"), i, e)
    {
        const char *type = json_string_value(json_object_get(e, "@type"));
        if (type && strcmp(type, "Event") == 0)
            apply_one(c, account, cal, e, st.by_key, n);
    }
    log_debug("subscription %s: compared and written in %.1f ms", cal,
              (double)(util_now_us() - t0) / 1e3);
    /* what the feed no longer has */
    const char *key;
    json_t *gone;
    int rc = 0;
    json_object_foreach(st.by_key, key, gone)
    {
        const char *id = json_string_value(json_object_get(gone, "id"));
        subscription_refresher_destroyed(c, account, gone);
        if (jmap_object_write(c, NULL, &calendar_event_type, account, id, NULL, false))
            rc = -1;
        else
            n->destroyed++;
    }
    json_decref(st.by_key);
    return rc;
}

/* Enhanced GET (subscription-upgrade §3): the answer holds only what changed. The
 * calendar's events of the uids it names are found through the uid index (not by
 * reading the calendar); a STATUS:DELETED entry (§3.2) removes the whole entity (a
 * recurring event and its overrides, §3.1); nothing else is removed. */
struct uid_collect {
    struct store_conn *c;
    const char *account, *cal;
    json_t *by_key;
};

static int uid_collect_cb(const char *id, void *ud)
{
    struct uid_collect *u = ud;
    json_t *o = store_object_get(u->c, u->account, calendar_event_type.name, id);
    if (o && json_object_get(json_object_get(o, "calendarIds"), u->cal)) {
        char *key = event_key(o);
        if (key)
            json_object_set(u->by_key, key, o);
        free(key);
    }
    json_decref(o);
    return 0;
}

static int apply_delta(struct store_conn *c, const char *account, const char *cal, json_t *group,
                       struct diff_count *n)
{
    struct uid_collect u = {c, account, cal, json_object()};
    size_t i;
    json_t *e;
    int rc = 0;
    json_array_foreach(json_object_get(group, "entries"), i, e)
    {
        const char *uid = json_string_value(json_object_get(e, "uid"));
        if (uid)
            store_index_find_uid(c, account, calendar_event_type.name, uid, uid_collect_cb, &u);
    }
    json_array_foreach(json_object_get(group, "entries"), i, e)
    {
        const char *type = json_string_value(json_object_get(e, "@type"));
        const char *status = json_string_value(json_object_get(e, "status"));
        const char *uid = json_string_value(json_object_get(e, "uid"));
        if (!type || strcmp(type, "Event") || !uid)
            continue;
        if (!status || strcmp(status, "deleted")) {
            apply_one(c, account, cal, e, u.by_key, n);
            continue;
        }
        const char *key;
        json_t *have;
        void *tmp;
        json_object_foreach_safe(u.by_key, tmp, key, have)
        {
            if (strcmp(json_string_value(json_object_get(have, "uid")) ?: "", uid))
                continue;
            subscription_refresher_destroyed(c, account, have);
            if (jmap_object_write(c, NULL, &calendar_event_type, account,
                                  json_string_value(json_object_get(have, "id")), NULL, false))
                rc = -1;
            else
                n->destroyed++;
            json_object_del(u.by_key, key);
        }
    }
    json_decref(u.by_key);
    return rc;
}

/* ---- fetching: conditional, Enhanced GET, its pages, its Link ------------------------------ */

struct fetched {
    struct fetch_result res;
    json_t *group; /* the feed (every page of it), NULL on 304 or a failure */
    char *err;
    bool delta;    /* an Enhanced GET delta (§3.1), not the whole feed */
    bool via_link; /* fetched from the subscription's enhancedUrl */
    char *link;    /* §2, §7.5: another URL the feed offers Enhanced GET at */
    struct feed_cut *cut; /* a whole plain feed, cut but not converted (group NULL) */
    struct dav_fetched *dav; /* what a DAV sync brought (§7.2-§7.4), or NULL */
    char *dav_refused;       /* the DAV collection that failed this time (malloc'd) */
    char *dav_link;          /* §7.2-§7.4: a collection the feed offers (malloc'd) */
    bool dav_caldav;         /* ... which speaks CalDAV (calendar-multiget) */
};

static struct fetch_opts fetch_opts_of(const struct config *cfg)
{
    return (struct fetch_opts){.allow = cfg->fetch_allow,
                               .timeout = cfg->fetch_timeout,
                               .max_size = cfg->fetch_max_size,
                               .max_redirects = cfg->fetch_max_redirects};
}

/* §3.3: the pages after a truncated answer, fetched at once with the token each one
 * gives and merged into group; res keeps the last page's token. NULL, or why not. */
static char *fetch_rest(const char *url, struct fetch_opts o, struct fetch_result *res,
                        json_t *group)
{
    int64_t total = (int64_t)res->len;
    for (int n = 2; res->truncated; n++) {
        if (!res->sync_token || n > 10000)
            return xasprintf("page %d: a truncated answer without a Sync-Token (§3.3)", n - 1);
        o.sync_token = res->sync_token;
        o.etag = o.last_modified = NULL;
        struct fetch_result page;
        char *err = NULL;
        json_t *g = NULL;
        if (fetch_get(url, &o, &page) != 0)
            err = xasprintf("page %d: %s", n, page.error ? page.error : "?");
        else if (page.status == 200 && (total += (int64_t)page.len) > o.max_size)
            err = xasprintf("the feed is larger than %lld bytes", (long long)o.max_size);
        else if (page.status == 200 && (g = subscription_parse_feed(page.body, page.len, &err)))
            json_array_extend(json_object_get(group, "entries"), json_object_get(g, "entries"));
        json_decref(g);
        if (!err && page.sync_token) {
            free(res->sync_token);
            res->sync_token = page.sync_token;
            page.sync_token = NULL;
        }
        res->truncated = !err && page.status == 200 && page.truncated;
        fetch_result_clear(&page);
        if (err)
            return err;
    }
    return NULL;
}

/* Whether following from to would give up TLS (security: never). */
static bool downgrades(const char *from, const char *to)
{
    bool tls = strncasecmp(from, "https:", 6) == 0 || strncasecmp(from, "webcals:", 8) == 0;
    return tls && strncasecmp(to, "https:", 6) != 0;
}

/* §7.2-§7.4: the CalDAV or WebDAV-sync collection the answer's Link offers, to sync
 * from the next refresh on: subscribe-caldav (no authentication), subscribe-caldav-auth
 * only with credentials (the feed URL's own, for a collection of the same origin),
 * subscribe-webdav-sync (GET per resource, unless the same link is CalDAV too). Never
 * https to http, never the collection that failed before (sub's davRefused). */
static void find_dav_link(json_t *sub, const char *url, const char *at, struct fetched *f)
{
    static const struct {
        const char *rel;
        bool caldav, auth;
    } rels[] = {{"subscribe-caldav", true, false},
                {"subscribe-caldav-auth", true, true},
                {"subscribe-webdav-sync", false, false}};
    const char *refused = json_string_value(json_object_get(sub, "davRefused"));
    char *auth_target = NULL; /* a caldav-auth collection we have no credentials for */
    for (size_t i = 0; i < sizeof rels / sizeof *rels && !f->dav_link; i++) {
        char *t = fetch_link_target(f->res.link, rels[i].rel, at);
        char *full = t ? fetch_resolve(url, t, false) : NULL;
        bool creds = full && fetch_url_has_credentials(full);
        bool ok = full && !downgrades(url, full) && !(refused && strcmp(full, refused) == 0) &&
                  (!rels[i].auth || creds) &&
                  !(auth_target && !creds && strcmp(auth_target, t) == 0);
        if (ok) {
            f->dav_link = full;
            f->dav_caldav = rels[i].caldav;
            full = NULL;
        } else if (rels[i].auth && t && !creds) {
            auth_target = xstrdup(t);
        }
        free(full);
        free(t);
    }
    free(auth_target);
}

/* Fetches the feed of sub: from the Link's URL once one was found (else its url),
 * conditionally, as an Enhanced GET with its token (a refused one, §3.1: once more
 * without), every page of a paged answer (§3.3), and notes a Link to another URL
 * that speaks Enhanced GET (§2, §7.5). Every fetch, the Link's included, goes
 * through the same outbound rules (issue 17 §5, feeds/fetch.c). */
static void fetch_feed(const struct config *cfg, json_t *sub, const char *url, struct fetched *f)
{
    const char *link = json_string_value(json_object_get(sub, "enhancedUrl"));
    const char *target = link ? link : url;
    f->via_link = link != NULL;
    struct fetch_opts o = fetch_opts_of(cfg);
    o.etag = json_string_value(json_object_get(sub, "etag"));
    o.last_modified = json_string_value(json_object_get(sub, "lastModified"));
    o.sync_token = json_string_value(json_object_get(sub, "syncToken"));
    o.limit = cfg->subscription_page_limit;
    int ok = fetch_get(target, &o, &f->res);
    if (ok != 0 && f->res.status == 409 && o.sync_token) {
        /* §3.1: a refused token: discard it and fetch everything again */
        fetch_result_clear(&f->res);
        o.sync_token = NULL;
        o.etag = o.last_modified = NULL;
        ok = fetch_get(target, &o, &f->res);
    }
    f->delta = ok == 0 && o.sync_token && f->res.enhanced;
    f->err = f->res.error ? xstrdup(f->res.error) : NULL;
    if (ok == 0 && f->res.status == 200 && !f->delta && !f->res.truncated &&
        (f->cut = feed_cut_new(f->res.body, f->res.len))) {
        /* converted when applied: only the entities that changed, if it can */
    } else if (ok == 0 && f->res.status == 200) {
        f->group = subscription_parse_feed(f->res.body, f->res.len, &f->err);
        if (f->group && f->res.truncated && (f->err = fetch_rest(target, o, &f->res, f->group))) {
            json_decref(f->group);
            f->group = NULL;
        }
    }
    if (!f->err && !link && f->res.status == 200) {
        const char *at = f->res.url ? f->res.url : url;
        char *t = fetch_link_target(f->res.link, "subscribe-enhanced-get", at);
        if (t && strcmp(t, at) && strcmp(t, url) && !downgrades(url, t))
            f->link = t;
        else
            free(t);
        /* Enhanced GET (here or at the Link's URL) is one request a refresh: a DAV
         * collection is followed only when the feed offers no such thing */
        if (!f->link && !f->res.enhanced)
            find_dav_link(sub, url, at, f);
    }
}

/* ---- applying only what changed in a plain feed (subscription_digest.c) ------------------ */

/* Per subscribed calendar: {"salt", "blob"}: the feed as last applied, its digests
 * text (feed_cut_digests) kept as a blob (raw bytes: read and written without JSON
 * escaping, which cost more than the rest of a refresh), referenced by this object
 * so the blob collector keeps it. Not a JMAP type: written and read here only. */
static void digests_blob_ids(json_t *obj, json_t *ids)
{
    json_t *b = json_object_get(obj, "blob");
    if (json_is_string(b) && json_string_length(b))
        json_array_append(ids, b);
}
static const struct jtype digests_type = {.name = "SubscriptionDigests",
                                          .blob_ids = digests_blob_ids};

/* Stores what the calendar now holds of the feed (fc NULL: nothing known, the next
 * plain refresh converts the whole feed). */
static int digests_save(struct store_conn *c, const char *account, const char *cal,
                        const struct feed_cut *fc, json_t *retry)
{
    char id[66] = "";
    int rc = 0;
    if (fc) {
        char *text = feed_cut_digests(fc, retry);
        id[0] = 'G'; /* content-addressed, as every blob (jmap/blob.c) */
        util_sha256_hex(text, strlen(text), id + 1);
        rc = store_blob_put(c, account, id, text, strlen(text), "text/plain");
        free(text);
    }
    json_t *now = json_pack("{s:s, s:s}", "salt", fc ? fc->salt : "", "blob", id);
    json_t *old = store_object_get(c, account, digests_type.name, cal);
    /* an id destroyed is never created again: it is kept and emptied instead */
    if (!rc && (old || fc) && !json_equal(old, now))
        rc = jmap_object_write(c, NULL, &digests_type, account, cal, now, !old);
    json_decref(old);
    json_decref(now);
    return rc;
}

int subscription_calendar_forget(struct store_conn *c, const char *account, const char *cal)
{
    /* their blobs are no longer referenced */
    return digests_save(c, account, cal, NULL, NULL) || subscription_dav_forget(c, account, cal)
               ? -1
               : 0;
}

/* The digests text stored for the calendar with this salt, or NULL. */
static char *digests_load(struct store_conn *c, const char *account, const char *cal,
                          const char *salt)
{
    json_t *d = store_object_get(c, account, digests_type.name, cal);
    const char *blob = json_string_value(json_object_get(d, "blob"));
    unsigned char *data = NULL;
    size_t len = 0;
    char *text = NULL;
    if (blob && *blob && strcmp(json_string_value(json_object_get(d, "salt")) ?: "", salt) == 0 &&
        store_blob_get(c, account, blob, &data, &len) == STORE_OK)
        text = xstrndup((const char *)data, len);
    free(data);
    json_decref(d);
    return text;
}

/* The entities named (changed: converted again into group; gone: no longer in the
 * feed) replace the calendar's events of their uids: each converted event is applied
 * (its id kept), the events of those uids it did not produce are destroyed. */
int subscription_apply_entities(struct store_conn *c, const char *account, const char *cal,
                                json_t *group, json_t *uids, struct diff_count *n)
{
    struct uid_collect u = {c, account, cal, json_object()};
    size_t i;
    json_t *v;
    json_array_foreach(uids, i, v)
    {
        store_index_find_uid(c, account, calendar_event_type.name, json_string_value(v),
                             uid_collect_cb, &u);
    }
    json_array_foreach(json_object_get(group, "entries"), i, v)
    {
        const char *type = json_string_value(json_object_get(v, "@type"));
        if (type && strcmp(type, "Event") == 0)
            apply_one(c, account, cal, v, u.by_key, n);
    }
    int rc = 0;
    const char *key;
    json_t *gone;
    json_object_foreach(u.by_key, key, gone)
    {
        subscription_refresher_destroyed(c, account, gone);
        if (jmap_object_write(c, NULL, &calendar_event_type, account,
                              json_string_value(json_object_get(gone, "id")), NULL, false))
            rc = -1;
        else
            n->destroyed++;
    }
    json_decref(u.by_key);
    return rc;
}

/* Applies a cut plain feed against the digests of the last refresh: converts and
 * writes only the entities whose digest differs, destroys those gone, and keeps the
 * digests. 1 if there are none to compare with (or the salt changed): the caller
 * applies the whole feed. *group gets what was converted (the header at least). */
static int apply_cut(struct store_conn *c, const char *account, const char *cal, struct fetched *f,
                     json_t **group, struct diff_count *n, char **err)
{
    char *stored = digests_load(c, account, cal, f->cut->salt);
    json_t *uids = stored && *stored ? feed_cut_changed(f->cut, stored) : NULL;
    free(stored);
    if (!uids)
        return 1;
    char *text = feed_cut_calendar(f->cut, f->res.body, uids);
    *group = subscription_parse_feed(text, strlen(text), err);
    free(text);
    int rc = -1;
    if (*group && subscription_apply_entities(c, account, cal, *group, uids, n) == 0)
        rc = json_array_size(uids) ? digests_save(c, account, cal, f->cut, n->taken) : 0;
    json_decref(uids);
    return rc;
}

/* Applies the answer in the open write transaction: a delta, a cut plain feed (only
 * what changed), or the whole feed; keeps the digests for the next plain refresh. */
static int apply_answer(struct store_conn *c, const char *account, const char *cal,
                        struct fetched *f, json_t **group, struct diff_count *n, char **err)
{
    if (f->dav) { /* the plain feed's digests no longer describe the calendar */
        int rc = subscription_dav_apply(c, account, cal, f->dav, n);
        return rc ? rc : digests_save(c, account, cal, NULL, NULL);
    }
    if (f->dav_refused && subscription_dav_forget(c, account, cal))
        return -1;
    if (f->res.status == 304) /* not modified: nothing to apply */
        return 0;
    if (f->delta) {
        int rc = apply_delta(c, account, cal, *group, n);
        return rc ? rc : digests_save(c, account, cal, NULL, NULL);
    }
    if (f->cut) {
        int rc = apply_cut(c, account, cal, f, group, n, err);
        if (rc != 1)
            return rc;
        if (!(*group = subscription_parse_feed(f->res.body, f->res.len, err)))
            return -1;
    }
    int rc = apply_feed(c, account, cal, *group, n);
    return rc ? rc : digests_save(c, account, cal, f->cut, n->taken);
}

/* ---- one refresh ------------------------------------------------------------------------- */

static void set_str(json_t *sub, const char *key, const char *v)
{
    json_object_set_new(sub, key, v ? json_string(v) : json_null());
}

/* The feed's own value of a calendar property (RFC 7986 §5.1 NAME, §5.2
 * DESCRIPTION, §5.9 COLOR: the Group's title, description and color), else the
 * older X-WR-CALNAME / X-WR-CALDESC kept in its iCalendar properties; NULL if none. */
static const char *feed_meta(json_t *group, const char *member, const char *x_name)
{
    const char *v = json_string_value(json_object_get(group, member));
    if (v && *v)
        return v;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(json_object_get(group, "iCalendar"), "properties"), i, p)
    {
        const char *n = json_string_value(json_array_get(p, 0));
        const char *val = json_string_value(json_array_get(p, 3));
        if (x_name && n && strcasecmp(n, x_name) == 0 && val && *val)
            return val;
    }
    return NULL;
}

/* Adopts the feed's name, description and color (issue 17 §1, RFC 7986 §5) into the
 * calendar while the user has not chosen their own: a property still holding what
 * was adopted last (or, for the name, the URL the CLI names a calendar after; for the
 * others, null) follows the feed; one the user changed stays theirs. sub's feedName,
 * feedDescription and feedColor remember what was adopted. */
static void adopt_meta(json_t *cal, json_t *sub, json_t *group, const char *url)
{
    static const struct {
        const char *prop, *member, *x_name, *key;
    } m[] = {{"name", "title", "x-wr-calname", "feedName"},
             {"description", "description", "x-wr-caldesc", "feedDescription"},
             {"color", "color", NULL, "feedColor"}};
    for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
        const char *want = feed_meta(group, m[i].member, m[i].x_name);
        if (!want || (i == 0 && strlen(want) > 255) ||
            (i == 2 && !types_is_css_color(want))) /* calendars-27 §4's rules */
            continue;
        json_t *have = json_object_get(cal, m[i].prop), *last = json_object_get(sub, m[i].key);
        bool untouched = json_is_null(have) || !have || json_equal(have, last) ||
                         (i == 0 && !json_is_string(last) &&
                          strcmp(json_string_value(have) ?: "", url) == 0);
        if (untouched) {
            json_object_set_new(cal, m[i].prop, json_string(want));
            json_object_set_new(sub, m[i].key, json_string(want));
        }
    }
}

/* Stores the calendar's new subscription state and adopted properties if they
 * differ (one write). */
static int save_state(struct store_conn *c, const char *account, const char *cal_id, json_t *cal,
                      json_t *sub, bool meta_changed)
{
    if (!meta_changed && json_equal(sub, json_object_get(cal, SUBSCRIPTION_PROP)))
        return 0;
    json_object_set(cal, SUBSCRIPTION_PROP, sub);
    return jmap_object_write(c, NULL, &calendar_type, account, cal_id, cal, false);
}

/* Takes the write transaction and the calendar as it is now (it may have been
 * deleted, or re-created, while the feed was fetched): NULL if it is gone. */
static json_t *begin_apply(struct store_conn *c, const char *account, const char *cal_id,
                           const char *url)
{
    if (store_begin(c, true) != STORE_OK)
        return NULL;
    json_t *cal = store_object_get(c, account, calendar_type.name, cal_id);
    json_t *sub = json_object_get(cal, SUBSCRIPTION_PROP);
    if (!json_is_object(sub) || strcmp(json_string_value(json_object_get(sub, "url")) ?: "", url)) {
        json_decref(cal);
        store_rollback(c);
        return NULL;
    }
    return cal;
}

/* The converted feed, or NULL with *err: a body that is not iCalendar is refused
 * (an HTML error page served with 200 must not empty the calendar). */
json_t *subscription_parse_feed(const char *body, size_t len, char **err)
{
    const char *p = body;
    if ((unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb && (unsigned char)p[2] == 0xbf)
        p += 3;
    while (*p == ' ' || *p == '\r' || *p == '\n' || *p == '\t')
        p++;
    if (strncasecmp(p, "BEGIN:VCALENDAR", 15) != 0) {
        *err = xstrdup("the answer is not iCalendar (no BEGIN:VCALENDAR)");
        return NULL;
    }
    json_t *warnings = json_array();
    char *why = NULL;
    json_t *group = ical_to_jscal_warn(body, len, ICAL_TO_JSCAL_GROUP, warnings, &why);
    json_decref(warnings);
    if (!group)
        *err = xasprintf("not valid iCalendar: %s", why ? why : "?");
    free(why);
    return group;
}

/* The account's Calendar and CalendarEvent states, as a StateChange's changed. */
static json_t *calendar_states(struct store_conn *c, const char *account)
{
    json_t *types = json_object();
    const char *const names[] = {calendar_type.name, calendar_event_type.name};
    for (int i = 0; i < 2; i++)
        json_object_set_new(types, names[i], jmap_state_string(store_state_get(c, account, names[i])));
    return json_pack("{s:o}", account, types);
}

/* RFC 8620 §7: what the refresh changed goes to the push hub once committed, the
 * same way a /set's changes do (so open EventSource streams see it at once). */
static void publish_changes(struct push_hub *hub, json_t *before, json_t *after)
{
    if (!hub || !before || !after || json_equal(before, after))
        return;
    const char *acct;
    json_t *types;
    json_object_foreach(after, acct, types)
    {
        const char *t;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(types, tmp, t, v)
        {
            if (json_equal(v, json_object_get(json_object_get(before, acct), t)))
                json_object_del(types, t);
        }
    }
    push_hub_publish(hub, after);
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The feed's events skipped because another calendar of the account holds their uid
 * (issue 17: never taken from the user's own calendar): skippedUids names them, and
 * they are tried again whenever they are converted anew (a plain feed's digest of
 * them never matches; a DAV member's ETag is forgotten) and, while any remain, from a
 * full fetch at skippedRetryAt even if the feed says nothing changed. A pass that saw
 * only a delta keeps the ones it did not see. */
static void record_skipped(json_t *now, const struct fetched *f, json_t *taken, int64_t retry)
{
    bool full_pass = f->dav ? subscription_dav_full(f->dav) : !f->delta;
    json_t *all = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(full_pass ? NULL : json_object_get(now, "skippedUids"), i, v)
    {
        if (json_is_string(v))
            json_object_set(all, json_string_value(v), json_true());
    }
    json_object_update(all, taken);
    size_t n = json_object_size(all), k = 0;
    const char **uids = xcalloc(n ? n : 1, sizeof *uids);
    const char *uid;
    json_object_foreach(all, uid, v) uids[k++] = uid;
    qsort(uids, n, sizeof *uids, by_text);
    json_t *list = json_array();
    for (k = 0; k < n; k++)
        json_array_append_new(list, json_string(uids[k]));
    free(uids);
    const char *at = json_string_value(json_object_get(now, "skippedRetryAt"));
    char stamp[21];
    util_utc_format(util_now() + retry, stamp);
    json_object_set_new(now, "skippedUids", json_array_size(list) ? list : json_null());
    if (!json_array_size(list))
        json_decref(list);
    set_str(now, "skippedRetryAt", !json_object_size(all) ? NULL : !full_pass && at ? at : stamp);
    json_decref(all);
}

/* Whether the skipped events are due to be tried again (record_skipped). */
static bool skipped_retry_due(json_t *sub)
{
    const char *at = json_string_value(json_object_get(sub, "skippedRetryAt"));
    char stamp[21];
    util_utc_format(util_now(), stamp);
    return at && strcmp(at, stamp) <= 0; /* UTCDates compare as text */
}

/* What a successful refresh records in the subscription now: when, the validators
 * and tokens to ask with next time, the feed's interval, and the URLs it upgraded to
 * (§2 enhancedUrl; §7.2-§7.4 davUrl, followed from the next refresh, from scratch). */
static void record_success(json_t *now, const struct fetched *f, int64_t feed_secs)
{
    const struct fetch_result *res = &f->res;
    char stamp[21];
    util_utc_format(util_now(), stamp);
    set_str(now, "lastRefresh", stamp);
    char *every_s = feed_secs > 0 ? xasprintf("PT%lldS", (long long)feed_secs) : NULL;
    set_str(now, "feedRefreshInterval", every_s);
    free(every_s);
    if (f->dav) { /* the feed's own validators no longer describe the calendar */
        set_str(now, "davToken", subscription_dav_token(f->dav));
        set_str(now, "etag", NULL);
        set_str(now, "lastModified", NULL);
        set_str(now, "syncToken", NULL);
        return;
    }
    set_str(now, "etag", res->etag);
    set_str(now, "lastModified", res->last_modified);
    set_str(now, "syncToken", res->enhanced ? res->sync_token : NULL);
    if (f->link || f->dav_link) {
        set_str(now, f->link ? "enhancedUrl" : "davUrl", f->link ? f->link : f->dav_link);
        if (f->dav_link)
            json_object_set_new(now, "davCaldav", json_boolean(f->dav_caldav));
        set_str(now, "davToken", NULL);
        set_str(now, "etag", NULL);
        set_str(now, "lastModified", NULL);
        set_str(now, "syncToken", NULL);
    }
}

/* A collection that failed is given up (the feed's URL was fetched instead) and not
 * taken up again from the feed's Link. */
static void record_dav_refused(json_t *now, const struct fetched *f)
{
    if (!f->dav_refused)
        return;
    set_str(now, "davRefused", f->dav_refused);
    set_str(now, "davUrl", NULL);
    set_str(now, "davToken", NULL);
    json_object_set_new(now, "davCaldav", json_null());
}

/* Fetches what the subscription follows: its DAV collection (§7.2-§7.4) if it has
 * one, falling back at once to the feed's URL when that fails; else the feed. */
static void fetch_any(struct store_conn *c, const struct config *cfg, const char *account,
                      const char *cal_id, json_t *sub, const char *url, struct fetched *f)
{
    const char *dav = json_string_value(json_object_get(sub, "davUrl"));
    bool retry = skipped_retry_due(sub);
    if (dav) {
        struct fetch_opts o = fetch_opts_of(cfg);
        char *why = NULL;
        if (subscription_dav_fetch(c, &o, account, cal_id, sub, retry, &f->dav, &why) == 0)
            return;
        log_info("subscription %s/%s: the DAV collection failed (%s): the feed instead", account,
                 cal_id, why ? why : "?");
        free(why);
        f->dav_refused = xstrdup(dav);
        json_t *plain = json_copy(sub); /* unconditional: the calendar is what DAV made it */
        json_object_del(plain, "etag");
        json_object_del(plain, "lastModified");
        json_object_del(plain, "syncToken");
        json_object_set_new(plain, "davRefused", json_string(dav));
        fetch_feed(cfg, plain, url, f);
        json_decref(plain);
        return;
    }
    if (retry) { /* a full fetch: no validators, no token */
        json_t *plain = json_copy(sub);
        json_object_del(plain, "etag");
        json_object_del(plain, "lastModified");
        json_object_del(plain, "syncToken");
        fetch_feed(cfg, plain, url, f);
        json_decref(plain);
        return;
    }
    fetch_feed(cfg, sub, url, f);
}

/* Whether the answer changes nothing: a 304, or a DAV sync that reports no change
 * and the same token. */
static bool nothing_new(const struct fetched *f, json_t *sub)
{
    if (f->dav)
        return subscription_dav_unchanged(f->dav,
                                          json_string_value(json_object_get(sub, "davToken")));
    return !f->err && f->res.status == 304 && !f->dav_refused;
}

/* Applies what was fetched in one write transaction and records the outcome in the
 * subscription; publishes the new states. 0, or -1. */
static int apply_fetched(struct store_conn *c, struct push_hub *hub, const struct config *cfg,
                         const char *account, const char *cal_id, const char *url,
                         struct fetched *f, json_t **group, int64_t feed_secs, struct diff_count *n)
{
    json_t *cal = begin_apply(c, account, cal_id, url);
    if (!cal)
        return -1;
    json_t *before = calendar_states(c, account), *after = NULL;
    json_t *now = json_copy(json_object_get(cal, SUBSCRIPTION_PROP));
    int rc = f->err ? -1 : apply_answer(c, account, cal_id, f, group, n, &f->err);
    set_str(now, "lastError", f->err);
    record_dav_refused(now, f);
    if (!f->err) {
        record_success(now, f, feed_secs);
        record_skipped(now, f, n->taken, cfg->subscription_retry_skipped);
    } else if (f->via_link) /* the Link's URL failed: the feed's own URL next time */
        set_str(now, "enhancedUrl", NULL);
    json_t *was = json_copy(cal); /* shallow: adopt_meta replaces top-level members */
    if (!f->err)
        adopt_meta(cal, now, *group, url);
    bool meta_changed = !json_equal(was, cal);
    json_decref(was);
    int64_t t3 = util_now_us();
    if (save_state(c, account, cal_id, cal, now, meta_changed) ||
        !(after = calendar_states(c, account)) || store_commit(c) != STORE_OK) {
        store_rollback(c);
        rc = -1;
    } else {
        publish_changes(hub, before, after);
    }
    json_decref(before);
    json_decref(after);
    log_debug("subscription %s: committed in %.1f ms", cal_id, (double)(util_now_us() - t3) / 1e3);
    json_decref(now);
    json_decref(cal);
    return rc;
}

static int refresh_once(struct store_conn *c, const struct config *cfg, struct push_hub *hub,
                        const char *account, const char *cal_id, int64_t *interval)
{
    *interval = cfg->subscription_min_interval;
    if (store_begin(c, false) != STORE_OK)
        return -1;
    json_t *cal = store_object_get(c, account, calendar_type.name, cal_id);
    store_rollback(c);
    json_t *sub = json_copy(json_object_get(cal, SUBSCRIPTION_PROP));
    json_decref(cal);
    if (!json_is_object(sub)) {
        json_decref(sub);
        return -1;
    }
    char *url = xstrdup(json_string_value(json_object_get(sub, "url")) ?: "");
    struct fetched f = {0};
    int64_t t0 = util_now_us();
    fetch_any(c, cfg, account, cal_id, sub, url, &f);
    json_t *group = f.group;
    int64_t t1 = util_now_us(); /* fetched (a delta or pages: parsed) */
    int64_t feed_secs =
        (group || f.cut) && f.res.body
            ? feed_interval(f.res.body)
            : duration_secs(json_string_value(json_object_get(sub, "feedRefreshInterval")));
    int64_t user_secs = duration_secs(json_string_value(json_object_get(sub, "refreshInterval")));
    int64_t every = user_secs > 0 ? user_secs : feed_secs > 0 ? feed_secs : DEFAULT_INTERVAL;
    *interval = every > cfg->subscription_min_interval ? every : cfg->subscription_min_interval;
    int rc = 0;
    struct diff_count n = {.taken = json_object()};
    if (!nothing_new(&f, sub)) /* else (issue 17): no database write */
        rc = apply_fetched(c, hub, cfg, account, cal_id, url, &f, &group, feed_secs, &n);
    if (f.err)
        log_info("subscription %s/%s: %s", account, cal_id, f.err);
    else
        log_debug("subscription %s/%s: %ld, %d new, %d updated, %d gone, %d skipped (fetch "
                  "%.1f ms, apply %.1f ms)",
                  account, cal_id, f.res.status, n.created, n.updated, n.destroyed, n.skipped,
                  (double)(t1 - t0) / 1e3, (double)(util_now_us() - t1) / 1e3);
    json_decref(group);
    fetch_result_clear(&f.res);
    free(f.err);
    free(f.link);
    free(f.dav_link);
    free(f.dav_refused);
    subscription_dav_free(f.dav);
    json_decref(n.taken);
    feed_cut_free(f.cut);
    free(url);
    json_decref(sub);
    return rc;
}

/* Issue 15 §1: a refresh whose write the database refused runs again from the fetch (a
 * GET, REPORT or PROPFIND: safe to repeat, RFC 9110 §9.2.1), since applying it changes
 * the converted feed and the fetch's state as it goes; the refused run changed nothing
 * in the database and published nothing. */
int subscription_refresh(struct store_conn *c, const struct config *cfg, struct push_hub *hub,
                         const char *account, const char *cal_id, int64_t *interval)
{
    for (int attempt = 0;; attempt++) {
        store_retry_mark(c);
        int rc = refresh_once(c, cfg, hub, account, cal_id, interval);
        if (rc == 0 || !store_retry_again(c, attempt, "subscription"))
            return rc;
    }
}

/* ---- the refresher thread ------------------------------------------------------------------ */

struct subscription_refresher {
    struct store *st;
    const struct config *cfg;
    struct push_hub *hub;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    json_t *due; /* "account/calendar" -> [next refresh time, failures in a row] */
    int64_t next_prune; /* when the feeds' tombstones are pruned next */
};

struct scan {
    struct subscription_refresher *r;
    struct store_conn *c;
    json_t *todo; /* [account, calendar] pairs due now */
};

/* The subscribed calendars of one user's account. */
struct account_scan {
    const char *account;
    json_t *ids;
};

static int account_calendar(const char *id, json_t *obj, void *ud)
{
    struct account_scan *a = ud;
    if (json_is_object(json_object_get(obj, SUBSCRIPTION_PROP)))
        json_array_append_new(a->ids, json_pack("[s,s]", a->account, id));
    return 0;
}

static int scan_user(const char *name, void *ud)
{
    struct scan *sc = ud;
    struct store_user u = {0};
    if (store_user_get(sc->c, name, &u) == STORE_OK) {
        struct account_scan a = {u.account_id, sc->todo};
        store_object_foreach(sc->c, u.account_id, calendar_type.name, account_calendar, &a);
    }
    store_user_clear(&u);
    return 0;
}

/* One look: every subscription that is due is refreshed (a subscription not seen
 * before, e.g. after a restart, is due at once: a conditional request). */
static void refresh_due(struct subscription_refresher *r, struct store_conn *c)
{
    struct scan sc = {r, c, json_array()};
    if (store_begin(c, false) != STORE_OK) {
        json_decref(sc.todo);
        return;
    }
    store_user_list(c, scan_user, &sc);
    store_rollback(c);
    json_t *next_due = json_object();
    size_t i;
    json_t *pair;
    json_array_foreach(sc.todo, i, pair)
    {
        const char *account = json_string_value(json_array_get(pair, 0));
        const char *cal = json_string_value(json_array_get(pair, 1));
        char *key = xasprintf("%s/%s", account, cal);
        json_t *d = json_object_get(r->due, key);
        int64_t when = d ? json_integer_value(json_array_get(d, 0)) : 0;
        int64_t fails = d ? json_integer_value(json_array_get(d, 1)) : 0;
        if (util_now() >= when) {
            int64_t every;
            if (subscription_refresh(c, r->cfg, r->hub, account, cal, &every) == 0) {
                fails = 0;
            } else {
                fails++; /* back off: the minimum, doubled per failure, up to a day */
                int64_t wait = r->cfg->subscription_min_interval;
                for (int64_t k = 1; k < fails && wait < MAX_BACKOFF; k++)
                    wait *= 2;
                every = wait < MAX_BACKOFF ? wait : MAX_BACKOFF;
            }
            when = util_now() + every;
        }
        json_object_set_new(next_due, key, json_pack("[I,I]", (json_int_t)when, (json_int_t)fails));
        free(key);
        pthread_mutex_lock(&r->mu);
        bool stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
    }
    json_decref(r->due); /* forgets deleted subscriptions */
    r->due = next_due;
    json_decref(sc.todo);
}

static int collect_account(const char *name, void *ud)
{
    struct scan *sc = ud;
    struct store_user u = {0};
    if (store_user_get(sc->c, name, &u) == STORE_OK)
        json_array_append_new(sc->todo, json_string(u.account_id));
    store_user_clear(&u);
    return 0;
}

struct prune {
    const char *account;
    int64_t ttl;
};

static int prune_account(struct store_conn *c, void *ud)
{
    const struct prune *p = ud;
    return subscription_tombstones_prune(c, p->account, p->ttl);
}

/* Published feeds remember deletions for feed_tombstone_ttl (subscription_feed.c):
 * every account's older tombstones go, at most once an hour (or ttl), each account
 * in its own short write transaction. */
static void prune_due(struct subscription_refresher *r, struct store_conn *c)
{
    int64_t ttl = r->cfg->feed_tombstone_ttl;
    if (util_now() < r->next_prune)
        return;
    r->next_prune = util_now() + (ttl < 3600 ? ttl : 3600);
    struct scan sc = {r, c, json_array()};
    if (store_begin(c, false) == STORE_OK) {
        store_user_list(c, collect_account, &sc);
        store_rollback(c);
    }
    size_t i;
    json_t *acct;
    json_array_foreach(sc.todo, i, acct)
    {
        struct prune p = {json_string_value(acct), ttl};
        store_write(c, prune_account, &p, "tombstones"); /* else: at the next prune */
    }
    json_decref(sc.todo);
}

static void *refresher_main(void *arg)
{
    struct subscription_refresher *r = arg;
    struct store_conn *c = store_conn(r->st);
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        pthread_mutex_unlock(&r->mu);
        refresh_due(r, c);
        prune_due(r, c);
        pthread_mutex_lock(&r->mu);
        if (r->stop)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += r->cfg->subscription_scan;
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

struct subscription_refresher *subscription_refresher_start(struct store *st,
                                                            const struct config *cfg,
                                                            struct push_hub *hub)
{
    struct subscription_refresher *r = xcalloc(1, sizeof *r);
    r->st = st;
    r->hub = hub;
    r->cfg = cfg;
    r->due = json_object();
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, refresher_main, r) != 0) {
        json_decref(r->due);
        free(r);
        return NULL;
    }
    return r;
}

void subscription_refresher_stop(struct subscription_refresher *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    json_decref(r->due);
    free(r);
}
