/*
 * dav_sync.c — the DAV client of a subscription that was upgraded to a CalDAV or
 * WebDAV-sync collection (dav_sync.h): builds the REPORT bodies, parses the
 * multistatus answers (RFC 4918 §13, RFC 6578 §6, RFC 4791 §9.6), and resolves
 * each href against the collection, keeping only those of the collection's origin.
 */
#include "feeds/dav_sync.h"

#include <curl/curl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define NS_DAV "DAV:"
#define NS_CALDAV "urn:ietf:params:xml:ns:caldav"
#define MULTIGET_BATCH 200 /* hrefs per calendar-multiget */

/* ---- reading a multistatus ------------------------------------------------------------- */

static bool is_el(const xmlNode *n, const char *ns, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(xmlNode *n, const char *ns, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is_el(c, ns, name))
            return c;
    return NULL;
}

/* The element's text, trimmed (malloc'd), or NULL. */
static char *text_of(xmlNode *n)
{
    if (!n)
        return NULL;
    xmlChar *t = xmlNodeGetContent(n);
    const char *s = t ? (const char *)t : "";
    s += strspn(s, " \t\r\n");
    size_t len = strlen(s);
    while (len && strchr(" \t\r\n", s[len - 1]))
        len--;
    char *out = xstrndup(s, len);
    xmlFree(t);
    return out;
}

/* The code of a DAV:status ("HTTP/1.1 404 Not Found"), 0 if none. */
static int status_code(xmlNode *n)
{
    char *s = text_of(n);
    const char *sp = s ? strchr(s, ' ') : NULL;
    int code = sp ? atoi(sp + 1) : 0;
    free(s);
    return code;
}

/* The answer parsed safely: no DTD (entities, external subsets), no network. */
static xmlDoc *parse_xml(const char *body, size_t len)
{
    if (!body || !len || len > (size_t)1 << 30 || memmem(body, len, "<!DOCTYPE", 9) ||
        memmem(body, len, "<!ENTITY", 8))
        return NULL;
    xmlDoc *d = xmlReadMemory(body, (int)len, NULL, NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                  XML_PARSE_NOCDATA | XML_PARSE_HUGE);
    if (d && (d->intSubset || d->extSubset)) {
        xmlFreeDoc(d);
        return NULL;
    }
    return d;
}

/* One DAV:response's propstat with a 2xx status, or NULL. */
static xmlNode *ok_prop(xmlNode *resp)
{
    for (xmlNode *ps = resp->children; ps; ps = ps->next) {
        if (!is_el(ps, NS_DAV, "propstat"))
            continue;
        int code = status_code(child(ps, NS_DAV, "status"));
        if (code >= 200 && code < 300)
            return child(ps, NS_DAV, "prop");
    }
    return NULL;
}

/* The path of href resolved against coll (malloc'd), so that the same member is
 * one key however an answer writes it (absolute URL or path); NULL if it is not of
 * coll's origin. */
static char *href_path(const char *coll, const char *href)
{
    char *abs = href && *href ? fetch_resolve(coll, href, true) : NULL;
    CURLU *u = curl_url();
    char *path = NULL, *out = NULL;
    if (abs && curl_url_set(u, CURLUPART_URL, abs, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && !strpbrk(path, "\t\r\n"))
        out = xstrdup(path);
    curl_free(path);
    curl_url_cleanup(u);
    free(abs);
    return out;
}

/* Whether path (href_path's) names the collection coll itself, with or without its
 * final slash. */
static bool is_collection(const char *coll, const char *path)
{
    char *own = href_path(coll, coll);
    size_t la = strlen(path), lc = own ? strlen(own) : 0;
    while (la && path[la - 1] == '/')
        la--;
    while (lc && own[lc - 1] == '/')
        lc--;
    bool same = own && la == lc && strncmp(path, own, la) == 0;
    free(own);
    return same;
}

/* ---- sync-collection (RFC 6578 §3) ------------------------------------------------------ */

static void listing_add(struct dav_listing *l, char *href, char *etag, bool gone)
{
    l->m = xrealloc(l->m, (l->n + 1) * sizeof *l->m);
    l->m[l->n++] = (struct dav_member){href, etag, gone};
}

/* The members of a sync-collection multistatus into l. */
static int read_listing(const char *coll, xmlDoc *d, struct dav_listing *l)
{
    xmlNode *root = xmlDocGetRootElement(d);
    if (!is_el(root, NS_DAV, "multistatus")) {
        l->error = xstrdup("the sync-collection answer is not a DAV:multistatus");
        return -1;
    }
    for (xmlNode *r = root->children; r; r = r->next) {
        if (is_el(r, NS_DAV, "sync-token")) {
            free(l->token);
            l->token = text_of(r);
            continue;
        }
        if (!is_el(r, NS_DAV, "response"))
            continue;
        char *raw = text_of(child(r, NS_DAV, "href"));
        int code = status_code(child(r, NS_DAV, "status"));
        char *href = href_path(coll, raw);
        bool self = href && is_collection(coll, href);
        free(raw);
        if (!href || self) {
            if (self && code == 507) /* §3.6: truncated, the rest from the new token */
                l->truncated = true;
            free(href);
            continue;
        }
        xmlNode *prop = ok_prop(r);
        if (code == 404)
            listing_add(l, href, NULL, true);
        else if (prop)
            listing_add(l, href, text_of(child(prop, NS_DAV, "getetag")), false);
        else
            free(href); /* 403 and the like: nothing to follow (§3.3) */
    }
    if (!l->token || !*l->token) {
        l->error = xstrdup("the sync-collection answer has no DAV:sync-token");
        return -1;
    }
    return 0;
}

int dav_sync_collection(const char *coll, const char *token, const struct fetch_opts *o,
                        struct dav_listing *l)
{
    memset(l, 0, sizeof *l);
    struct buf body = {0};
    buf_puts(&body, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                    "<D:sync-collection xmlns:D=\"DAV:\"><D:sync-token>");
    for (const char *p = token ? token : ""; *p; p++) { /* the token is a URI: escape & < */
        if (*p == '&')
            buf_puts(&body, "&amp;");
        else if (*p == '<')
            buf_puts(&body, "&lt;");
        else
            buf_append(&body, p, 1);
    }
    buf_puts(&body, "</D:sync-token><D:sync-level>1</D:sync-level>"
                    "<D:prop><D:getetag/></D:prop></D:sync-collection>");
    buf_append(&body, "", 1);
    struct fetch_dav dav = {"REPORT", body.data, "0"};
    struct fetch_result res;
    int rc = fetch_request(coll, o, &dav, &res);
    buf_free(&body);
    if (rc != 0) {
        /* §3.2: an unknown or expired token is a 403 (or 409) naming valid-sync-token */
        xmlDoc *d = res.body ? parse_xml(res.body, res.len) : NULL;
        xmlNode *root = d ? xmlDocGetRootElement(d) : NULL;
        l->bad_token = token && *token && (res.status == 403 || res.status == 409) &&
                       is_el(root, NS_DAV, "error") && child(root, NS_DAV, "valid-sync-token");
        l->error = xasprintf("sync-collection: %s", res.error ? res.error : "failed");
        if (d)
            xmlFreeDoc(d);
    } else {
        rc = dav_listing_parse(coll, res.body, res.len, l);
    }
    fetch_result_clear(&res);
    return rc;
}

int dav_listing_parse(const char *coll, const char *body, size_t len, struct dav_listing *l)
{
    xmlDoc *d = parse_xml(body, len);
    if (!d) {
        l->error = xstrdup("the sync-collection answer is not well-formed XML");
        return -1;
    }
    int rc = read_listing(coll, d, l);
    xmlFreeDoc(d);
    return rc;
}

void dav_listing_clear(struct dav_listing *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->m[i].href);
        free(l->m[i].etag);
    }
    free(l->m);
    free(l->token);
    free(l->error);
    memset(l, 0, sizeof *l);
}

/* ---- the resources: calendar-multiget (RFC 4791 §7.9) or GET ------------------------------ */

static void xml_escaped(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            buf_puts(b, "&amp;");
        else if (*s == '<')
            buf_puts(b, "&lt;");
        else if (*s == '>')
            buf_puts(b, "&gt;");
        else
            buf_append(b, s, 1);
    }
}

/* One multiget of hrefs[0..n): each answered resource to cb; an href the answer does
 * not name counts as gone only if the server said 404 for it. */
static int multiget(const char *coll, char *const *hrefs, size_t n, const struct fetch_opts *o,
                    dav_resource_fn cb, void *ud, int64_t *total, char **err)
{
    struct buf body = {0};
    json_t *asked = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(asked, hrefs[i], json_true());
    buf_puts(&body, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<C:calendar-multiget "
                    "xmlns:D=\"DAV:\" xmlns:C=\"" NS_CALDAV "\"><D:prop><D:getetag/>"
                    "<C:calendar-data/></D:prop>");
    for (size_t i = 0; i < n; i++) {
        buf_puts(&body, "<D:href>");
        xml_escaped(&body, hrefs[i]);
        buf_puts(&body, "</D:href>");
    }
    buf_puts(&body, "</C:calendar-multiget>");
    buf_append(&body, "", 1);
    struct fetch_dav dav = {"REPORT", body.data, "1"};
    struct fetch_result res;
    int rc = fetch_request(coll, o, &dav, &res);
    buf_free(&body);
    xmlDoc *d = rc == 0 ? parse_xml(res.body, res.len) : NULL;
    xmlNode *root = d ? xmlDocGetRootElement(d) : NULL;
    if (rc != 0) {
        *err = xasprintf("calendar-multiget: %s", res.error ? res.error : "failed");
    } else if (!is_el(root, NS_DAV, "multistatus")) {
        *err = xstrdup("the calendar-multiget answer is not a DAV:multistatus");
        rc = -1;
    } else if ((*total += (int64_t)res.len) > o->max_size) {
        *err = xasprintf("the collection is larger than %lld bytes", (long long)o->max_size);
        rc = -1;
    }
    for (xmlNode *r = root && !rc ? root->children : NULL; r && !rc; r = r->next) {
        if (!is_el(r, NS_DAV, "response"))
            continue;
        char *raw = text_of(child(r, NS_DAV, "href"));
        char *href = href_path(coll, raw);
        free(raw);
        if (!href || !json_object_get(asked, href)) { /* not asked for: not taken */
            free(href);
            continue;
        }
        xmlNode *prop = ok_prop(r);
        char *data = prop ? text_of(child(prop, NS_CALDAV, "calendar-data")) : NULL;
        char *etag = prop ? text_of(child(prop, NS_DAV, "getetag")) : NULL;
        if (href && data && *data)
            rc = cb(ud, href, data, strlen(data), etag);
        else if (href && status_code(child(r, NS_DAV, "status")) == 404)
            rc = cb(ud, href, NULL, 0, NULL);
        free(href);
        free(data);
        free(etag);
    }
    if (d)
        xmlFreeDoc(d);
    json_decref(asked);
    fetch_result_clear(&res);
    return rc;
}

/* One GET of a member resource (RFC 6578 §7.4 promises no more than WebDAV sync). */
static int get_one(const char *coll, const char *href, struct fetch_opts o, dav_resource_fn cb,
                   void *ud, int64_t *total, char **err)
{
    char *url = fetch_resolve(coll, href, true);
    if (!url)
        return 0; /* not of the collection's origin: read_listing kept none such */
    o.etag = o.last_modified = o.sync_token = NULL;
    o.limit = 0;
    struct fetch_result res;
    int rc = fetch_get(url, &o, &res);
    if (rc != 0 && res.status == 404) {
        rc = cb(ud, href, NULL, 0, NULL);
    } else if (rc != 0) {
        *err = xasprintf("GET %s: %s", href, res.error ? res.error : "failed");
    } else if ((*total += (int64_t)res.len) > o.max_size) {
        *err = xasprintf("the collection is larger than %lld bytes", (long long)o.max_size);
        rc = -1;
    } else {
        rc = cb(ud, href, res.body, res.len, res.etag);
    }
    fetch_result_clear(&res);
    free(url);
    return rc;
}

int dav_get_resources(const char *coll, bool use_multiget, char *const *hrefs, size_t n,
                      const struct fetch_opts *o, dav_resource_fn cb, void *ud, char **err)
{
    int64_t total = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i += use_multiget ? MULTIGET_BATCH : 1) {
        size_t k = n - i < MULTIGET_BATCH ? n - i : MULTIGET_BATCH;
        rc = use_multiget ? multiget(coll, hrefs + i, k, o, cb, ud, &total, err)
                          : get_one(coll, hrefs[i], *o, cb, ud, &total, err);
    }
    return rc;
}
