/*
 * dav_report.c — REPORT (RFC 3253 §3.6 as used by CalDAV and CardDAV):
 * calendar-multiget (RFC 4791 §7.9), calendar-query (§7.8: comp-filter,
 * time-range over recurrences, prop-filter/text-match, calendar-data with expand
 * §9.6.5), addressbook-multiget (RFC 6352 §8.7), addressbook-query (§8.6:
 * prop-filter, text-match) and sync-collection (RFC 6578 §3) with tokens that
 * are the JMAP state of the members' type (a change is its modseq), removed
 * members answered 404. Time ranges are answered by the JMAP event query
 * (CalendarEvent/query with expandRecurrences), so DAV and JMAP agree.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dav/dav_internal.h"
#include "formats/icalendar_jscalendar/ical.h"

#define SYNC_PREFIX "https://jmapd.invalid/sync/"

void dav_sync_token(struct dav_ctx *x, const struct dav_res *r, char out[64])
{
    snprintf(out, 64, SYNC_PREFIX "%lld",
             (long long)store_state_get(x->c, r->acct->account_id, r->k->obj_type));
}

/* ---- member data ------------------------------------------------------------------------ */

/* The instances of an event within the expand range as one VCALENDAR (RFC 4791
 * §9.6.5): every instance a VEVENT with its RECURRENCE-ID, no RRULE. */
static char *render_expanded(struct dav_ctx *x, struct dav_res *r)
{
    char from[21], to[21];
    util_utc_format(x->expand_start, from);
    util_utc_format(x->expand_end, to);
    from[19] = to[19] = 0; /* LocalDateTime in the query's Etc/UTC */
    json_t *args =
        json_pack("{s:s, s:{s:s, s:s, s:s}, s:b}", "accountId", r->acct->account_id, "filter",
                  "inCalendar", r->coll_id, "after", from, "before", to, "expandRecurrences", 1);
    json_t *res = dav_jmap_call(x, r->k, "CalendarEvent/query", args);
    json_decref(args);
    json_t *ids = json_array();
    size_t i;
    json_t *id;
    size_t n = strlen(r->obj_id);
    json_array_foreach(json_object_get(res, "ids"), i, id)
    {
        const char *s = json_string_value(id);
        if (strncmp(s, r->obj_id, n) == 0 && (s[n] == 0 || s[n] == '_'))
            json_array_append(ids, id);
    }
    json_decref(res);
    args = json_pack("{s:s, s:o}", "accountId", r->acct->account_id, "ids", ids);
    res = dav_jmap_call(x, r->k, "CalendarEvent/get", args);
    json_decref(args);
    ical_writer *w = ical_writer_new(NULL, NULL);
    struct buf b = {0};
    char *s = ical_writer_begin(w), *err = NULL;
    buf_puts(&b, s ? s : "");
    free(s);
    json_array_foreach(json_object_get(res, "list"), i, id)
    {
        static const char *const drop[] = {"id",
                                           "baseEventId",
                                           "calendarIds",
                                           "isDraft",
                                           "isOrigin",
                                           "utcStart",
                                           "utcEnd",
                                           "recurrenceRule",
                                           "recurrenceRules",
                                           "recurrenceOverrides",
                                           "excludedRecurrenceRules"};
        for (size_t k = 0; k < sizeof drop / sizeof drop[0]; k++)
            json_object_del(id, drop[k]);
        if ((s = ical_writer_add(w, id, &err)))
            buf_puts(&b, s);
        free(s);
        free(err);
        err = NULL;
    }
    s = ical_writer_end(w);
    buf_puts(&b, s ? s : "");
    free(s);
    ical_writer_free(w);
    json_decref(res);
    return buf_take(&b);
}

int dav_object_data(struct dav_ctx *x, struct dav_res *r, struct buf *v)
{
    if (!r->obj)
        r->obj = store_object_get(x->c, r->acct->account_id, r->k->obj_type, r->obj_id);
    if (!r->obj)
        return 0;
    char *text = x->expand && r->k->calendar ? render_expanded(x, r)
                                             : dav_object_render(x, r, r->obj, x->vcard3);
    if (!text)
        return 0;
    dav_xml_text(v, text);
    free(text);
    return 1;
}

/* An iCalendar UTC DATE-TIME (RFC 5545 §3.3.5 "20060104T000000Z") as seconds. */
static bool ical_utc(const char *s, int64_t *t)
{
    char iso[32];
    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return false;
    snprintf(iso, sizeof iso, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", s, s + 4, s + 6, s + 9, s + 11,
             s + 13);
    return util_utc_parse(iso, t) == 0;
}

/* Reads how the report asks for the data: address-data version, expand range. */
static void data_options(struct dav_ctx *x, const struct dav_res *r, const xmlNode *prop)
{
    xmlNode *data = dav_xml_child(prop, r->k->ns, r->k->data_elem);
    if (!data)
        return;
    xmlChar *ver = xmlGetProp(data, (const xmlChar *)"version");
    x->vcard3 = ver && strcmp((const char *)ver, "3.0") == 0;
    xmlFree(ver);
    xmlNode *ex = dav_xml_child(data, NS_CALDAV, "expand");
    if (!ex || !r->k->calendar)
        return;
    xmlChar *s = xmlGetProp(ex, (const xmlChar *)"start"),
            *e = xmlGetProp(ex, (const xmlChar *)"end");
    x->expand = s && e && ical_utc((const char *)s, &x->expand_start) &&
                ical_utc((const char *)e, &x->expand_end);
    xmlFree(s);
    xmlFree(e);
}

/* ---- multiget -------------------------------------------------------------------------------- */

static void url_decode(const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < size; p++) {
        if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char h[3] = {p[1], p[2], 0};
            out[o++] = (char)strtol(h, NULL, 16);
            p += 2;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = 0;
}

/* The member of collection r an href names: its name into name[256]; false if the
 * href is not directly below r. */
static bool href_member(struct dav_ctx *x, const struct dav_res *r, const char *href,
                        char name[256])
{
    char path[1024], base[1024];
    const char *p = href;
    if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0)
        p = strchr(strchr(p, ':') + 3, '/');
    if (!p)
        return false;
    url_decode(p, path, sizeof path);
    struct buf b = {0};
    dav_res_href(x, r, &b);
    url_decode(b.data ? b.data : "", base, sizeof base);
    buf_free(&b);
    size_t n = strlen(base);
    if (strncmp(path, base, n) != 0 || !dav_name_ok(path + n) || strlen(path + n) >= 256)
        return false;
    snprintf(name, 256, "%s", path + n);
    return true;
}

static void multiget(struct dav_ctx *x, struct dav_res *r, xmlNode *root, struct buf *b)
{
    xmlNode *prop = dav_xml_child(root, NS_DAV, "prop");
    data_options(x, r, prop);
    for (xmlNode *h = dav_xml_child(root, NS_DAV, "href"); h; h = dav_xml_next(h)) {
        if (!dav_xml_is(h, NS_DAV, "href"))
            continue;
        xmlChar *href = xmlNodeGetContent(h);
        char name[256], id[64];
        struct dav_res m;
        bool found =
            href_member(x, r, (const char *)href, name) &&
            dav_name_lookup(x->c, r->acct->account_id, r->k->obj_type, name, r->k->ext, id);
        if (found) {
            dav_child(x, r, id, &m);
            m.obj = store_object_get(x->c, r->acct->account_id, r->k->obj_type, id);
            found = m.obj && dav_is_member(r->k, m.obj, r->coll_id);
            if (found)
                dav_propstats(x, &m, prop, b);
            dav_res_clear(&m);
        }
        if (!found)
            dav_status_response(b, (const char *)href, 404);
        xmlFree(href);
    }
}

/* ---- text-match and prop-filter (RFC 4791 §9.7, RFC 6352 §10.5) -------------------------------
 */

static bool text_match(const xmlNode *tm, const char *value)
{
    xmlChar *want = xmlNodeGetContent(tm);
    xmlChar *type = xmlGetProp(tm, (const xmlChar *)"match-type");
    xmlChar *neg = xmlGetProp(tm, (const xmlChar *)"negate-condition");
    const char *w = (const char *)want, *t = type ? (const char *)type : "contains";
    size_t wn = strlen(w), vn = strlen(value);
    bool m;
    /* i;ascii-casemap / i;unicode-casemap on ASCII: case-insensitive */
    if (strcmp(t, "equals") == 0)
        m = strcasecmp(value, w) == 0;
    else if (strcmp(t, "starts-with") == 0)
        m = strncasecmp(value, w, wn) == 0;
    else if (strcmp(t, "ends-with") == 0)
        m = vn >= wn && strcasecmp(value + vn - wn, w) == 0;
    else
        m = strcasestr(value, w) != NULL;
    if (neg && strcmp((const char *)neg, "yes") == 0)
        m = !m;
    xmlFree(want);
    xmlFree(type);
    xmlFree(neg);
    return m;
}

/* Whether the unfolded content lines of text satisfy a prop-filter: a property
 * of that name (any group) exists / is absent, and a value text-matches. */
static bool prop_filter(const char *text, const xmlNode *pf)
{
    xmlChar *pname = xmlGetProp(pf, (const xmlChar *)"name");
    const char *name = pname ? (const char *)pname : "";
    bool undefined =
        dav_xml_child(pf, NULL, NULL) &&
        strcmp((const char *)dav_xml_child(pf, NULL, NULL)->name, "is-not-defined") == 0;
    const xmlNode *tm = NULL;
    for (xmlNode *c = dav_xml_child(pf, NULL, NULL); c; c = dav_xml_next(c))
        if (strcmp((const char *)c->name, "text-match") == 0)
            tm = c;
    bool any = false, matched = false;
    struct buf line = {0};
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\r\n");
        buf_append(&line, p, n);
        p += n;
        p += *p == '\r' ? 1 : 0;
        p += *p == '\n' ? 1 : 0;
        if (*p == ' ' || *p == '\t') { /* RFC 5545 §3.1 folding */
            p++;
            continue;
        }
        buf_append(&line, "", 1);
        char *l = line.data, *dot = strchr(l, '.'), *end = l + strcspn(l, ";:");
        char *pn = dot && dot < end ? dot + 1 : l;
        if ((size_t)(end - pn) == strlen(name) && strncasecmp(pn, name, strlen(name)) == 0) {
            any = true;
            char *colon = strchr(end, ':');
            matched |= !tm || (colon && text_match(tm, colon + 1));
        }
        line.len = 0;
    }
    buf_free(&line);
    xmlFree(pname);
    return undefined ? !any : matched;
}

/* addressbook-query's filter (RFC 6352 §10.5): prop-filters, anyof (default) or allof. */
static bool card_matches(const xmlNode *filter, const char *text)
{
    xmlChar *test = xmlGetProp(filter, (const xmlChar *)"test");
    bool all = test && strcmp((const char *)test, "allof") == 0, any = false, every = true;
    int n = 0;
    xmlFree(test);
    for (xmlNode *pf = dav_xml_child(filter, NS_CARDDAV, "prop-filter"); pf;
         pf = dav_xml_next(pf)) {
        if (!dav_xml_is(pf, NS_CARDDAV, "prop-filter"))
            continue;
        bool m = prop_filter(text, pf);
        any |= m;
        every &= m;
        n++;
    }
    return n == 0 || (all ? every : any);
}

/* ---- calendar-query (RFC 4791 §7.8) -----------------------------------------------------------
 */

static bool attr_time(const xmlNode *n, const char *attr, int64_t *t, bool *bad)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
    bool ok = v && ical_utc((const char *)v, t);
    *bad |= v && !ok;
    xmlFree(v);
    return ok;
}

/* The ids of the events of r with an instance in [start, end), as object keys. */
static json_t *events_in_range(struct dav_ctx *x, struct dav_res *r, int64_t start, int64_t end)
{
    char from[21], to[21];
    util_utc_format(start, from);
    util_utc_format(end, to);
    from[19] = to[19] = 0;
    json_t *args =
        json_pack("{s:s, s:{s:s, s:s, s:s}, s:b}", "accountId", r->acct->account_id, "filter",
                  "inCalendar", r->coll_id, "after", from, "before", to, "expandRecurrences", 1);
    json_t *res = dav_jmap_call(x, r->k, "CalendarEvent/query", args);
    json_decref(args);
    json_t *set = json_object();
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(res, "ids"), i, id)
    {
        char base[64];
        const char *s = json_string_value(id);
        snprintf(base, sizeof base, "%.*s", (int)strcspn(s, "_"), s);
        json_object_set_new(set, base, json_true());
    }
    json_decref(res);
    return set;
}

static bool comp_name_is(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)"name");
    bool is = v && strcasecmp((const char *)v, name) == 0;
    xmlFree(v);
    return is;
}

/* Answers the members of r that pass filter into b; false (response set) if the
 * filter is not one RFC 4791 §9.7 allows. */
static bool calendar_query(struct dav_ctx *x, struct dav_res *r, xmlNode *root, struct buf *b)
{
    xmlNode *prop = dav_xml_child(root, NS_DAV, "prop");
    xmlNode *vcal =
        dav_xml_child(dav_xml_child(root, NS_CALDAV, "filter"), NS_CALDAV, "comp-filter");
    if (!vcal || !comp_name_is(vcal, "VCALENDAR")) {
        dav_error(x, 403, NS_CALDAV, "valid-filter", NULL);
        return false;
    }
    data_options(x, r, prop);
    xmlNode *ev = dav_xml_child(vcal, NS_CALDAV, "comp-filter");
    if (ev && (!comp_name_is(ev, "VEVENT") || dav_xml_child(ev, NS_CALDAV, "is-not-defined")))
        return true; /* only events live in calendars here: nothing matches */
    xmlNode *tr = ev ? dav_xml_child(ev, NS_CALDAV, "time-range") : NULL;
    json_t *in_range = NULL;
    if (tr) {
        int64_t start = 0, end = 4102444800; /* open ends: 1970 .. 2100 */
        bool bad = false;
        attr_time(tr, "start", &start, &bad);
        attr_time(tr, "end", &end, &bad);
        if (bad || end <= start) {
            dav_error(x, 403, NS_CALDAV, "valid-filter", NULL);
            return false;
        }
        in_range = events_in_range(x, r, start, end);
    }
    json_t *ids = dav_member_ids(x, r);
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        const char *s = json_string_value(id);
        if (in_range && !json_object_get(in_range, s))
            continue;
        struct dav_res m;
        dav_child(x, r, s, &m);
        bool pass = true;
        for (xmlNode *pf = ev ? dav_xml_child(ev, NS_CALDAV, "prop-filter") : NULL; pf && pass;
             pf = dav_xml_next(pf)) {
            if (!dav_xml_is(pf, NS_CALDAV, "prop-filter"))
                continue;
            if (!m.obj)
                m.obj = store_object_get(x->c, r->acct->account_id, r->k->obj_type, s);
            char *text = m.obj ? dav_object_render(x, &m, m.obj, false) : NULL;
            pass = text && prop_filter(text, pf);
            free(text);
        }
        if (pass)
            dav_propstats(x, &m, prop, b);
        dav_res_clear(&m);
    }
    json_decref(ids);
    json_decref(in_range);
    return true;
}

/* ---- addressbook-query (RFC 6352 §8.6) ---------------------------------------------------------
 */

static void addressbook_query(struct dav_ctx *x, struct dav_res *r, xmlNode *root, struct buf *b)
{
    xmlNode *prop = dav_xml_child(root, NS_DAV, "prop");
    xmlNode *filter = dav_xml_child(root, NS_CARDDAV, "filter");
    data_options(x, r, prop);
    json_t *ids = dav_member_ids(x, r);
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        struct dav_res m;
        dav_child(x, r, json_string_value(id), &m);
        bool pass = true;
        if (filter) {
            m.obj = store_object_get(x->c, r->acct->account_id, r->k->obj_type, m.obj_id);
            char *text = m.obj ? dav_object_render(x, &m, m.obj, false) : NULL;
            pass = text && card_matches(filter, text);
            free(text);
        }
        if (pass)
            dav_propstats(x, &m, prop, b);
        dav_res_clear(&m);
    }
    json_decref(ids);
}

/* ---- sync-collection (RFC 6578 §3) --------------------------------------------------------------
 */

struct change {
    char id[64];
    int64_t created;
    bool destroyed;
};

static int change_cb(const char *id, int64_t created, int64_t updated, bool destroyed, void *ud)
{
    json_t *list = ud;
    (void)updated;
    json_array_append_new(list, json_pack("{s:s, s:I, s:b}", "id", id, "created",
                                          (json_int_t)created, "destroyed", destroyed));
    return 0;
}

/* The members of r changed since a state: present ones with their properties,
 * gone ones (destroyed, or moved out) as 404 (§3.5.1 "removed members"). */
static void sync_changes(struct dav_ctx *x, struct dav_res *r, xmlNode *prop, int64_t since,
                         struct buf *b)
{
    json_t *list = json_array();
    const char *a = r->acct->account_id;
    store_changes(x->c, a, r->k->obj_type, since, 0, change_cb, list);
    size_t i;
    json_t *ch;
    json_array_foreach(list, i, ch)
    {
        const char *id = json_string_value(json_object_get(ch, "id"));
        bool new_since = json_integer_value(json_object_get(ch, "created")) > since;
        struct dav_res m;
        dav_child(x, r, id, &m);
        m.obj = json_is_true(json_object_get(ch, "destroyed"))
                    ? NULL
                    : store_object_get(x->c, a, r->k->obj_type, id);
        if (m.obj && dav_is_member(r->k, m.obj, r->coll_id)) {
            dav_propstats(x, &m, prop, b);
        } else if (!new_since) {
            struct buf h = {0};
            dav_res_href(x, &m, &h);
            char *href = buf_take(&h);
            dav_status_response(b, href, 404);
            free(href);
        }
        dav_res_clear(&m);
    }
    json_decref(list);
}

static bool sync_collection(struct dav_ctx *x, struct dav_res *r, xmlNode *root, struct buf *b)
{
    /* §3.2: Depth 0 only. python3-caldav 0.11 sends Depth: 1, which older drafts
     * used for the scope (Appendix A): accepted as sync-level 1. */
    const char *depth = x->q->depth;
    if (depth && strcmp(depth, "0") != 0 && strcmp(depth, "1") != 0) {
        dav_reply(x, 400, "text/plain", xstrdup("sync-collection needs Depth: 0\n"));
        return false;
    }
    xmlNode *level = dav_xml_child(root, NS_DAV, "sync-level");
    xmlChar *lv = level ? xmlNodeGetContent(level) : NULL;
    bool infinite = lv && strcmp((const char *)lv, "infinite") == 0;
    xmlFree(lv);
    if (infinite) { /* §3.3: members are never collections here */
        dav_error(x, 403, NS_DAV, "sync-traversal-supported", NULL);
        return false;
    }
    xmlNode *tok = dav_xml_child(root, NS_DAV, "sync-token");
    xmlChar *t = tok ? xmlNodeGetContent(tok) : NULL;
    const char *ts = t ? (const char *)t : "";
    const char *a = r->acct->account_id;
    int64_t since = 0, current = store_state_get(x->c, a, r->k->obj_type);
    bool ok = true;
    if (*ts) {
        char *end = NULL;
        size_t n = strlen(SYNC_PREFIX);
        ok = strncmp(ts, SYNC_PREFIX, n) == 0 && ts[n] >= '0' && ts[n] <= '9';
        since = ok ? strtoll(ts + n, &end, 10) : 0;
        ok =
            ok && !*end && since <= current && since >= store_state_lowest(x->c, a, r->k->obj_type);
    }
    xmlFree(t);
    if (!ok) { /* §3.2: an unknown or too old token */
        dav_error(x, 403, NS_DAV, "valid-sync-token", NULL);
        return false;
    }
    xmlNode *prop = dav_xml_child(root, NS_DAV, "prop");
    data_options(x, r, prop);
    if (since == 0) {
        json_t *ids = dav_member_ids(x, r);
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id)
        {
            struct dav_res m;
            dav_child(x, r, json_string_value(id), &m);
            dav_propstats(x, &m, prop, b);
            dav_res_clear(&m);
        }
        json_decref(ids);
    } else {
        sync_changes(x, r, prop, since, b);
    }
    buf_printf(b, "<D:sync-token>" SYNC_PREFIX "%lld</D:sync-token>", (long long)current);
    return true;
}

/* ---- dispatch
 * ------------------------------------------------------------------------------------ */

void dav_report(struct dav_ctx *x, struct dav_res *r)
{
    const char *why;
    xmlDoc *d = dav_xml_parse(x->q->body, x->q->len, &why);
    if (!d) {
        dav_reply(x, 400, "text/plain", xstrdup(why));
        return;
    }
    xmlNode *root = xmlDocGetRootElement(d);
    const struct dav_kind *k = r->k;
    bool ok = true;
    struct buf b = {0};
    dav_ms_begin(&b);
    if (r->t != DR_COLL || !r->coll) {
        dav_error(x, r->t == DR_COLL ? 404 : 403, r->t == DR_COLL ? NULL : NS_DAV,
                  r->t == DR_COLL ? NULL : "supported-report", NULL);
        ok = false;
    } else if (dav_xml_is(root, NS_DAV, "sync-collection")) {
        ok = sync_collection(x, r, root, &b);
    } else if (dav_xml_is(root, k->ns,
                          k->calendar ? "calendar-multiget" : "addressbook-multiget")) {
        multiget(x, r, root, &b);
    } else if (k->calendar && dav_xml_is(root, NS_CALDAV, "calendar-query")) {
        ok = calendar_query(x, r, root, &b);
    } else if (!k->calendar && dav_xml_is(root, NS_CARDDAV, "addressbook-query")) {
        addressbook_query(x, r, root, &b);
    } else {
        dav_error(x, 403, NS_DAV, "supported-report", NULL); /* RFC 3253 §3.6 */
        ok = false;
    }
    dav_ms_end(&b);
    if (ok)
        dav_reply(x, 207, "application/xml; charset=utf-8", buf_take(&b));
    buf_free(&b);
    xmlFreeDoc(d);
}
