/*
 * dav_principal.c — principals (RFC 3744 §2, §4): the user's own, at
 * /dav/principals/{user name}/ (RFC 5397 current-user-principal), and those of the
 * groups they are in (RFC 9670 §2: a group is a principal that shareWith may name and
 * whose rights reach its members; issue 14), at /dav/principals/{group id}/, the URL
 * DAV:acl names a group by. Both are DAV:principal resources with a displayname, their
 * principal-URL (§4.2), an empty alternate-URI-set (§4.1) and group-membership (§4.4: a
 * user's groups; groups are in none); a group has its group-member-set (§4.3: the
 * principal-URLs of its member users). Any other principal of the directory (RFC 9670
 * §2: Principal/get shows the user every one) answers at its URL with the directory's
 * properties alone (name, addresses, type) and nothing of its calendars or rights.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dav/dav_internal.h"
#include "jmap/collation.h"
#include "types/types.h"

bool dav_principal_group(struct dav_ctx *x, const char *id, struct dav_res *r)
{
    char gid[64];
    if (store_group_get(x->c, id, gid) == STORE_OK)
        id = gid; /* named by its name (as the ACL method takes it): the same principal */
    for (int i = 0; i < x->u->ngroups; i++) {
        if (strcmp(x->u->groups[i], id) == 0) {
            r->t = DR_GROUP;
            snprintf(r->group, sizeof r->group, "%s", id);
            return true;
        }
    }
    return false;
}

/* The principal-URL of user name or of group id (as an href element) into v. */
static void principal_href(struct buf *v, const char *name_or_id)
{
    buf_puts(v, "<D:href>/dav/principals/");
    dav_xml_href(v, name_or_id);
    buf_puts(v, "/</D:href>");
}

struct member_hrefs {
    struct store_conn *c;
    struct buf *v;
};

static int member_cb(int64_t user_id, void *ud)
{
    struct member_hrefs *m = ud;
    struct store_user u;
    memset(&u, 0, sizeof u);
    if (store_user_get_by_id(m->c, user_id, &u) == STORE_OK && u.name[0])
        principal_href(m->v, u.name);
    store_user_clear(&u);
    return 0;
}

int dav_principal_prop(struct dav_ctx *x, const struct dav_res *r, const char *name, struct buf *v)
{
    bool group = r->t == DR_GROUP;
    if (strcmp(name, "displayname") == 0) { /* §4: non-empty */
        json_t *p = group ? principal_load(x->c, r->group) : NULL;
        const char *n = json_string_value(json_object_get(p, "name"));
        dav_xml_text(v, group ? (n && *n ? n : r->group) : x->u->name);
        json_decref(p);
        return 1;
    }
    if (strcmp(name, "principal-URL") == 0) {
        principal_href(v, group ? r->group : x->u->name);
        return 1;
    }
    if (strcmp(name, "alternate-URI-set") == 0)
        return 1; /* §4.1: empty when there is none */
    if (strcmp(name, "group-member-set") == 0) {
        if (!group)
            return 0;
        struct member_hrefs m = {x->c, v};
        store_group_members(x->c, r->group, member_cb, &m);
        return 1;
    }
    if (strcmp(name, "group-membership") == 0) {
        for (int i = 0; !group && i < x->u->ngroups; i++) /* groups hold users only */
            principal_href(v, x->u->groups[i]);
        return 1;
    }
    if (strcmp(name, "owner") == 0 && group)
        return 0; /* nobody owns a group (a user's principal is their own: dav.c) */
    return -1;
}

void dav_principal_list(struct dav_ctx *x, const xmlNode *what, struct buf *b)
{
    struct dav_res p = {.t = DR_PRINCIPAL};
    dav_propstats(x, &p, what, b);
    for (int i = 0; i < x->u->ngroups; i++) {
        struct dav_res g;
        memset(&g, 0, sizeof g);
        if (dav_principal_group(x, x->u->groups[i], &g))
            dav_propstats(x, &g, what, b);
    }
}

/* ---- other principals of the directory --------------------------------------------------- */

/* A principal of the directory the user may see (RFC 9670 §2: Principal/get and /query
 * show every one) that is neither theirs nor a group of theirs: what a search finds
 * (§9.4), with the directory's properties alone. */
static void other_principal(struct dav_res *r, const char *id, const char *seg)
{
    memset(r, 0, sizeof *r);
    r->t = DR_OTHER;
    snprintf(r->group, sizeof r->group, "%s", id);
    snprintf(r->name, sizeof r->name, "%s", seg);
}

/* What a search names (§9.4) is read at its URL too: RFC 9670 §2 shows the user every
 * principal of the directory, and clients read a found principal's properties there. */
bool dav_principal_other(struct dav_ctx *x, const char *seg, struct dav_res *r)
{
    struct store_user u;
    memset(&u, 0, sizeof u);
    bool user = store_user_get(x->c, seg, &u) == STORE_OK && u.account_id[0];
    char id[64];
    if (user)
        snprintf(id, sizeof id, "%s", u.account_id);
    else if (store_group_get(x->c, seg, id) != STORE_OK)
        snprintf(id, sizeof id, "%s", seg); /* a group by its id */
    json_t *p = principal_load(x->c, id);
    const char *type = json_string_value(json_object_get(p, "type"));
    bool found = type && (user || strcmp(type, "individual") != 0);
    if (found)
        other_principal(r, id, user ? u.name : id);
    json_decref(p);
    store_user_clear(&u);
    return found;
}

/* The user's email in the directory (malloc'd) or NULL. */
static char *email_of(struct dav_ctx *x, const struct dav_res *r)
{
    const char *id = r->t == DR_PRINCIPAL ? jmap_user_principal(x->u) : r->group;
    json_t *p = id ? principal_load(x->c, id) : NULL;
    const char *type = json_string_value(json_object_get(p, "type"));
    const char *e = json_string_value(json_object_get(p, "email"));
    char *out = e && *e && type && strcmp(type, "individual") == 0 ? xstrdup(e) : NULL;
    json_decref(p);
    return out;
}

int dav_principal_other_prop(struct dav_ctx *x, struct dav_res *r, const char *ns, const char *name,
                             struct buf *v)
{
    bool dav = strcmp(ns, NS_DAV) == 0, cal = strcmp(ns, NS_CALDAV) == 0;
    if (dav && strcmp(name, "resourcetype") == 0) {
        buf_puts(v, "<D:principal/>");
        return 1;
    }
    if (dav && strcmp(name, "principal-URL") == 0) {
        principal_href(v, r->name);
        return 1;
    }
    if (dav && strcmp(name, "alternate-URI-set") == 0)
        return 1;
    if (dav && strcmp(name, "principal-collection-set") == 0) {
        buf_puts(v, "<D:href>/dav/principals/</D:href>");
        return 1;
    }
    json_t *p = NULL;
    int got = 0;
    if (dav && strcmp(name, "displayname") == 0) {
        p = principal_load(x->c, r->group);
        const char *n = json_string_value(json_object_get(p, "name"));
        dav_xml_text(v, n && *n ? n : r->name);
        got = 1;
    } else if ((cal && strcmp(name, "calendar-user-type") == 0) ||
               (cal && strcmp(name, "calendar-user-address-set") == 0) ||
               (strcmp(ns, NS_CS) == 0 && strcmp(name, "email-address-set") == 0)) {
        got = dav_principal_directory_prop(x, r, ns, name, v);
    }
    json_decref(p);
    return got;
}

/* RFC 6638 §2.4.1 calendar-user-address-set (the mailto: of the principal's email, then
 * its URL), §2.4.2 calendar-user-type, and Apple's email-address-set, of a user's own
 * principal (DR_PRINCIPAL) or another of the directory (DR_OTHER): 1 when there. */
int dav_principal_directory_prop(struct dav_ctx *x, struct dav_res *r, const char *ns,
                                 const char *name, struct buf *v)
{
    bool group = r->t == DR_GROUP;
    if (r->t == DR_OTHER) {
        json_t *p = principal_load(x->c, r->group);
        const char *type = json_string_value(json_object_get(p, "type"));
        group = type && strcmp(type, "individual") != 0;
        json_decref(p);
    }
    if (strcmp(name, "calendar-user-type") == 0) {
        buf_puts(v, group ? "GROUP" : "INDIVIDUAL");
        return 1;
    }
    char *email = group ? NULL : email_of(x, r);
    int got = 1;
    if (strcmp(ns, NS_CS) == 0) {
        if (email) {
            buf_puts(v, "<CS:email-address>");
            dav_xml_text(v, email);
            buf_puts(v, "</CS:email-address>");
        }
        got = email != NULL;
    } else {
        if (email) {
            buf_puts(v, "<D:href>mailto:");
            dav_xml_text(v, email);
            buf_puts(v, "</D:href>");
        }
        principal_href(v, r->t == DR_PRINCIPAL ? x->u->name
                          : r->t == DR_GROUP   ? r->group
                                               : r->name);
    }
    free(email);
    return got;
}

/* ---- searches (RFC 3744 §9.4, §9.5) ------------------------------------------------------- */

/* §9.4 DAV:number-of-matches-within-limits: the most principals one search answers */
#define SEARCH_MAX 500

/* The properties a search may name (§9.5), the most used first: a principal has no value
 * of any other, so a search naming one matches none (§9.4). */
static const struct {
    const char *ns, *name, *description;
} searchable[] = {
    {NS_DAV, "displayname", "Display name"},
    {NS_CALDAV, "calendar-user-address-set", "Calendar user address"}, /* RFC 6638 §2.4.1 */
    {NS_CS, "email-address-set", "Email address"},
    {NS_CALDAV, "calendar-user-type", "Calendar user type"}, /* RFC 6638 §2.4.2 */
};

static int searchable_index(const xmlNode *p)
{
    for (size_t i = 0; i < sizeof searchable / sizeof searchable[0]; i++)
        if (dav_xml_is(p, searchable[i].ns, searchable[i].name))
            return (int)i;
    return -1;
}

/* One principal of the directory as a search sees it. */
struct candidate {
    char id[64];   /* principal id (a user's account id, a group's own) */
    char seg[256]; /* its URL segment: a user's name, a group's id */
    bool group;
    const char *name, *email; /* the directory's (borrowed) */
};

/* One DAV:property-search: its properties (ANDed, §9.4) and its match. */
struct term {
    const xmlNode *prop;
    char *match;
    enum { M_CONTAINS, M_STARTS, M_ENDS, M_EQUALS } how;
};

/* The caseless match §9.4 prefers: the server's Unicode caseless collation
 * (i;unicode-casemap, RFC 5051: case folded, then NFKD; t->match is already its key), so
 * "ÉLODIE" finds "élodie" as "ALICE" finds "alice"; substring by default, and Apple's
 * clients ask starts-with or equals by a match-type attribute. */
static bool match_one(const char *value, const struct term *t)
{
    if (!value)
        return false;
    char *key = collation_casemap_key(value);
    size_t n = strlen(key), m = strlen(t->match);
    bool hit;
    switch (t->how) {
    case M_STARTS:
        hit = n >= m && memcmp(key, t->match, m) == 0;
        break;
    case M_ENDS:
        hit = n >= m && memcmp(key + n - m, t->match, m) == 0;
        break;
    case M_EQUALS:
        hit = strcmp(key, t->match) == 0;
        break;
    default:
        hit = strstr(key, t->match) != NULL;
    }
    free(key);
    return hit;
}

/* Whether one of c's values of searchable property i matches t: each string of the
 * property's value apart (§9.4.1), as the principal's response shows them. */
static bool prop_matches(const struct candidate *c, int i, const struct term *t)
{
    char url[300], mailto[300];
    snprintf(url, sizeof url, "/dav/principals/%s/", c->seg);
    snprintf(mailto, sizeof mailto, "mailto:%s", c->email ? c->email : "");
    switch (i) {
    case 0: /* displayname: the directory's name; a user's login name too (their own
             * principal shows that) */
        return match_one(c->name, t) || (!c->group && match_one(c->seg, t));
    case 1:
        return (c->email && match_one(mailto, t)) || match_one(url, t);
    case 2:
        return c->email && match_one(c->email, t);
    case 3:
        return match_one(c->group ? "GROUP" : "INDIVIDUAL", t);
    default:
        return false;
    }
}

static bool term_matches(const struct candidate *c, const struct term *t)
{
    bool any = false;
    for (const xmlNode *p = dav_xml_child(t->prop, NULL, NULL); p; p = dav_xml_next((xmlNode *)p)) {
        int i = searchable_index(p);
        if (i < 0 || !prop_matches(c, i, t))
            return false;
        any = true;
    }
    return any;
}

struct search {
    struct dav_ctx *x;
    struct term *terms;
    int nterms;
    bool anyof;
    json_t *found; /* [[id, seg, group], ...] */
    bool over;
};

static int search_cb(const char *id, json_t *obj, void *ud)
{
    struct search *s = ud;
    struct candidate c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    const char *type = json_string_value(json_object_get(obj, "type"));
    c.group = type && strcmp(type, "individual") != 0;
    c.name = json_string_value(json_object_get(obj, "name"));
    c.email = c.group ? NULL : json_string_value(json_object_get(obj, "email"));
    if (c.group) {
        snprintf(c.seg, sizeof c.seg, "%s", id);
    } else {
        struct store_user u;
        memset(&u, 0, sizeof u);
        bool ok = store_user_by_account(s->x->c, id, &u) == STORE_OK && u.name[0];
        if (ok)
            snprintf(c.seg, sizeof c.seg, "%s", u.name);
        store_user_clear(&u);
        if (!ok)
            return 0; /* a principal whose user is gone */
    }
    bool hit = !s->anyof;
    for (int i = 0; i < s->nterms; i++) {
        bool m = term_matches(&c, &s->terms[i]);
        hit = s->anyof ? hit || m : hit && m;
    }
    if (!hit)
        return 0;
    if (json_array_size(s->found) == SEARCH_MAX) {
        s->over = true;
        return 1;
    }
    json_array_append_new(s->found, json_pack("[s, s, b]", c.id, c.seg, c.group));
    return 0;
}

/* The terms of a principal-property-search; false (answered 400) when one is malformed. */
static bool search_terms(struct dav_ctx *x, xmlNode *root, struct search *s)
{
    for (xmlNode *n = dav_xml_child(root, NS_DAV, "property-search"); n; n = dav_xml_next(n)) {
        if (!dav_xml_is(n, NS_DAV, "property-search"))
            continue;
        xmlNode *prop = dav_xml_child(n, NS_DAV, "prop"), *m = dav_xml_child(n, NS_DAV, "match");
        if (!prop || !m || !dav_xml_child(prop, NULL, NULL)) {
            dav_reply(x, 400, "text/plain",
                      xstrdup("a property-search needs a prop and a match (RFC 3744 §9.4)\n"));
            return false;
        }
        struct term *t = &s->terms[s->nterms++];
        xmlChar *text = xmlNodeGetContent(m);
        t->match = collation_casemap_key(text ? (const char *)text : ""); /* match_one */
        xmlFree(text);
        t->prop = prop;
        xmlChar *how = xmlGetProp(m, (const xmlChar *)"match-type");
        t->how = !how                                            ? M_CONTAINS
                 : strcmp((const char *)how, "starts-with") == 0 ? M_STARTS
                 : strcmp((const char *)how, "ends-with") == 0   ? M_ENDS
                 : strcmp((const char *)how, "equals") == 0      ? M_EQUALS
                                                                 : M_CONTAINS;
        xmlFree(how);
    }
    if (!s->nterms) {
        dav_reply(x, 400, "text/plain",
                  xstrdup("principal-property-search needs a property-search (RFC 3744 §9.4)\n"));
        return false;
    }
    return true;
}

/* §9.4: the principals (of the directory, as Principal/query finds them) whose properties
 * match every property-search (or one, with Apple's test="anyof"), each with the
 * properties DAV:prop asks: the user's own principal and their groups' as PROPFIND shows
 * them, any other principal with the directory's properties (dav_principal_other_prop). */
static void property_search(struct dav_ctx *x, struct dav_res *r, xmlNode *root)
{
    int n = 0;
    for (xmlNode *c = dav_xml_child(root, NULL, NULL); c; c = dav_xml_next(c))
        n++;
    struct search s = {x,    xcalloc((size_t)n + 1, sizeof(struct term)), 0, false, json_array(),
                       false};
    xmlChar *test = xmlGetProp(root, (const xmlChar *)"test");
    s.anyof = test && strcmp((const char *)test, "anyof") == 0;
    xmlFree(test);
    if (!search_terms(x, root, &s))
        goto done;
    /* by default the members of the request's collection (§9.4): only the principal
     * collection and what holds it have principals among them */
    bool scope = dav_xml_child(root, NS_DAV, "apply-to-principal-collection-set") ||
                 r->t == DR_ROOT || r->t == DR_PRINCIPALS;
    if (scope)
        principal_foreach(x->c, search_cb, &s);
    xmlNode *prop = dav_xml_child(root, NS_DAV, "prop");
    struct buf b = {0};
    dav_ms_begin(&b);
    size_t i;
    json_t *f;
    json_array_foreach(s.found, i, f)
    {
        const char *id = json_string_value(json_array_get(f, 0));
        const char *me = jmap_user_principal(x->u);
        struct dav_res p;
        memset(&p, 0, sizeof p);
        if (me && strcmp(me, id) == 0)
            p.t = DR_PRINCIPAL;
        else if (!json_is_true(json_array_get(f, 2)) || !dav_principal_group(x, id, &p))
            other_principal(&p, id, json_string_value(json_array_get(f, 1)));
        if (prop) {
            dav_propstats(x, &p, prop, &b);
            continue;
        }
        buf_puts(&b, "<D:response><D:href>");
        dav_res_href(x, &p, &b);
        buf_puts(&b, "</D:href><D:status>HTTP/1.1 200 OK</D:status></D:response>");
    }
    if (s.over) { /* §9.4 postcondition, on the request's own URL (RFC 4918 §14.24) */
        buf_puts(&b, "<D:response><D:href>");
        dav_res_href(x, r, &b);
        buf_puts(&b, "</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status><D:error>"
                     "<D:number-of-matches-within-limits/></D:error></D:response>");
    }
    dav_ms_end(&b);
    dav_reply_xml(x, 207, &b);
    buf_free(&b);
done:
    for (int t = 0; t < s.nterms; t++)
        free(s.terms[t].match);
    free(s.terms);
    json_decref(s.found);
}

/* §9.5: the searchable properties, each with what it holds (in English). */
static void search_property_set(struct dav_ctx *x)
{
    struct buf b = {0};
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:principal-search-property-set "
                 "xmlns:D=\"DAV:\" xmlns:C=\"" NS_CALDAV "\" xmlns:CS=\"" NS_CS "\">");
    for (size_t i = 0; i < sizeof searchable / sizeof searchable[0]; i++) {
        buf_puts(&b, "<D:principal-search-property><D:prop>");
        dav_prop_open(&b, searchable[i].ns, searchable[i].name, true);
        buf_puts(&b, "</D:prop><D:description xml:lang=\"en\">");
        buf_puts(&b, searchable[i].description);
        buf_puts(&b, "</D:description></D:principal-search-property>");
    }
    buf_puts(&b, "</D:principal-search-property-set>\n");
    dav_reply_xml(x, 200, &b);
    buf_free(&b);
}

bool dav_principal_report(struct dav_ctx *x, struct dav_res *r, xmlNode *root)
{
    bool search = dav_xml_is(root, NS_DAV, "principal-property-search");
    if (!search && !dav_xml_is(root, NS_DAV, "principal-search-property-set"))
        return false;
    const char *depth = x->q->depth;
    if (depth && strcmp(depth, "0") != 0) { /* §9.4, §9.5: defined for Depth 0 alone */
        dav_reply(x, 400, "text/plain", xstrdup("this report needs Depth: 0 (RFC 3744 §9)\n"));
        return true;
    }
    if (search)
        property_search(x, r, root);
    else if (r->t == DR_PRINCIPALS || r->t == DR_PRINCIPAL || r->t == DR_GROUP)
        search_property_set(x); /* §9.5: on the principal-collection-set's collections */
    else
        dav_error(x, 403, NS_DAV, "supported-report", NULL);
    return true;
}

void dav_principal_report_set(struct buf *v)
{
    buf_puts(v, "<D:supported-report><D:report><D:principal-property-search/></D:report>"
                "</D:supported-report><D:supported-report><D:report>"
                "<D:principal-search-property-set/></D:report></D:supported-report>");
}
