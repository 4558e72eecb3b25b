/*
 * dav_principal.c — principals (RFC 3744 §2, §4): the user's own, at
 * /dav/principals/{user name}/ (RFC 5397 current-user-principal), and those of the
 * groups they are in (RFC 9670 §2: a group is a principal that shareWith may name and
 * whose rights reach its members; issue 14), at /dav/principals/{group id}/, the URL
 * DAV:acl names a group by. Both are DAV:principal resources with a displayname, their
 * principal-URL (§4.2), an empty alternate-URI-set (§4.1) and group-membership (§4.4: a
 * user's groups; groups are in none); a group has its group-member-set (§4.3: the
 * principal-URLs of its member users). A user sees their own principal and their
 * groups' (no other user's, as before: the directory is JMAP's Principal/get).
 */
#include <stdio.h>
#include <string.h>

#include "dav/dav_internal.h"
#include "types/types.h"

bool dav_principal_group(struct dav_ctx *x, const char *id, struct dav_res *r)
{
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
