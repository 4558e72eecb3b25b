/*
 * dav_acl.c — WebDAV access control (RFC 3744) as CalDAV and CardDAV clients use it,
 * read from and written to the JMAP rights: the user's privileges on a resource
 * (DAV:current-user-privilege-set, §5.4), the privileges there are
 * (DAV:supported-privilege-set, §5.3, with RFC 4791 §6.1.1's CALDAV:read-free-busy),
 * a collection's access control list (DAV:acl, §5.5: its owner's protected ACE, then one
 * ACE per shareWith entry, read with DAV:read-acl), its restrictions (§5.6) and owner
 * (§5.1); the ACL method (§8.1) as an update of the collection's shareWith (RFC 9670
 * §4), so every check stays the JMAP /set's; and the 403 need-privileges bodies (§7.1.1).
 *
 * The privileges, as a tree (aggregates hold what is below them; §3, §3.12), with the
 * JMAP right each is (calendars-27 §4, RFC 9610 §2, tasks-06 §4). Where a right has no
 * DAV privilege of its own it is a privilege of ours (J: https://jmapd.org/ns/dav/, §3:
 * "a namespace that they control"), the way Cyrus adds its own (CY:remove-resource...).
 * A JMAP right that covers several DAV privileges is a non-abstract aggregate of them,
 * made abstract (§5.3: they cannot be granted alone, the ACL method refuses them with
 * DAV:no-abstract), as §3's own example models DAV:read and DAV:read-acl under one
 * "read-all":
 *   DAV:all
 *     DAV:read
 *       J:read-items              mayReadItems / mayRead
 *       CALDAV:read-free-busy     mayReadFreeBusy (calendars; RFC 4791 §6.1.1: it MUST
 *                                 be aggregated under DAV:read)
 *     DAV:write
 *       J:write-items             mayWriteAll / mayWrite, which with calendars and task
 *                                 lists implies mayWriteOwn, mayUpdatePrivate and mayRSVP
 *                                 (calendars-27 §4, tasks-06 §4): it holds them
 *         DAV:write-properties, DAV:write-content, DAV:bind, DAV:unbind   (abstract)
 *         J:write-own             mayWriteOwn (calendars, task lists)
 *         J:update-private        mayUpdatePrivate (calendars, task lists)
 *         J:rsvp                  mayRSVP (calendars, task lists)
 *       J:remove-collection       mayDelete (the collection itself, as Cyrus's
 *                                 CY:remove-collection: a collection shared with the
 *                                 user lives in the user's own home, whose DAV:unbind
 *                                 cannot say it)
 *     J:share                     mayShare / mayAdmin
 *       DAV:read-acl, DAV:write-acl                                      (abstract)
 *     DAV:read-current-user-privilege-set   everyone                     (abstract)
 * current-user-privilege-set lists what the user holds: each privilege, and each
 * aggregate whose every part they hold. Two things are held without their right:
 * - CALDAV:read-free-busy with mayReadItems (so DAV:read, which clients check before
 *   they read a calendar): whoever reads the events reads their busy time, and Cyrus
 *   gives read-free-busy with DAV:read the same way. The free-busy-query follows the
 *   set (dav_acl_may_read_free_busy); Principal/getAvailability still counts only the
 *   calendars with mayReadFreeBusy (calendars-27 §2.2), a question of the account's.
 * - mayWriteOwn without mayWriteAll is J:write-own and, on the collection, DAV:bind and
 *   DAV:write-content (the user adds and changes items: those they own or that have no
 *   owner, calendars-27 §4); on a member, DAV:write-content and DAV:write-properties
 *   only where the user may write that member (share.c decides, as the /set will), and
 *   no DAV:unbind (they may not remove the others' items).
 * The owner and an account-wide grant have the rights of their access everywhere.
 * An ACE of DAV:acl lists the aggregates held and the non-abstract privileges held.
 *
 * The ACL method maps back, privilege by privilege (an aggregate: what it holds):
 * J:read-items mayReadItems, read-free-busy mayReadFreeBusy, J:write-items mayWriteAll
 * (with mayWriteOwn, mayUpdatePrivate, mayRSVP), J:write-own, J:update-private, J:rsvp
 * theirs, J:remove-collection mayDelete, J:share mayShare, DAV:all every right; an
 * abstract privilege is DAV:no-abstract, one the collection kind lacks (read-free-busy
 * on an address book) not-supported-privilege; only grant ACEs of principals that are
 * users or groups (a group's members get the rights, as a JMAP shareWith to the group
 * gives them, RFC 9670 §4), else the §8.1.1 preconditions grant-only, no-invert,
 * recognized-principal; the owner's own ACE is left as it is (protected).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dav/dav_internal.h"
#include "types/share.h"

enum {
    P_READ_ITEMS = 1,
    P_FREEBUSY = 2,
    P_WRITE_PROPS = 4,
    P_WRITE_CONTENT = 8,
    P_BIND = 16,
    P_UNBIND = 32,
    P_READ_ACL = 64,
    P_WRITE_ACL = 128,
    P_UPDATE_PRIVATE = 256,
    P_RSVP = 512,
    P_REMOVE_COLL = 1024,
    P_WRITE_OWN = 2048,
    P_ITEMS_WRITE = P_WRITE_PROPS | P_WRITE_CONTENT | P_BIND | P_UNBIND,
    P_WRITE_ITEMS = P_ITEMS_WRITE | P_WRITE_OWN | P_UPDATE_PRIVATE | P_RSVP,
    P_ACL = P_READ_ACL | P_WRITE_ACL,
    P_EVERY = 4095,
};

/* The tree at the top of the file, each privilege after its aggregate: what it holds
 * (a privilege of a kind of collection is there when some of it is, privs_there). */
static const struct priv {
    unsigned bits;
    const char *ns, *name, *what;
    int parent; /* its aggregate's index, -1 for DAV:all */
    bool abstract;
} tree[] = {
    {P_EVERY, NS_DAV, "all", "every privilege", -1, false},
    {P_READ_ITEMS | P_FREEBUSY, NS_DAV, "read", "read", 0, false},
    {P_READ_ITEMS, NS_JMAPD, "read-items", "read the items (mayReadItems, mayRead)", 1, false},
    {P_FREEBUSY, NS_CALDAV, "read-free-busy", "free/busy time (mayReadFreeBusy)", 1, false},
    {P_WRITE_ITEMS | P_REMOVE_COLL, NS_DAV, "write", "write", 0, false},
    {P_WRITE_ITEMS, NS_JMAPD, "write-items",
     "add, change and remove every item (mayWriteAll, mayWrite)", 4, false},
    {P_WRITE_PROPS, NS_DAV, "write-properties", "change items (mayWriteAll)", 5, true},
    {P_WRITE_CONTENT, NS_DAV, "write-content", "change items (mayWriteAll)", 5, true},
    {P_BIND, NS_DAV, "bind", "add items (mayWriteAll)", 5, true},
    {P_UNBIND, NS_DAV, "unbind", "remove items (mayWriteAll)", 5, true},
    {P_WRITE_OWN, NS_JMAPD, "write-own",
     "add, change and remove the items one owns or nobody owns (mayWriteOwn)", 5, false},
    {P_UPDATE_PRIVATE, NS_JMAPD, "update-private",
     "change one's own per-user properties of every item (mayUpdatePrivate)", 5, false},
    {P_RSVP, NS_JMAPD, "rsvp", "reply to invitations (mayRSVP)", 5, false},
    {P_REMOVE_COLL, NS_JMAPD, "remove-collection", "delete the collection itself (mayDelete)", 4,
     false},
    {P_ACL, NS_JMAPD, "share", "share the collection (mayShare)", 0, false},
    {P_READ_ACL, NS_DAV, "read-acl", "read the sharing (mayShare)", 14, true},
    {P_WRITE_ACL, NS_DAV, "write-acl", "change the sharing (mayShare)", 14, true},
    {0, NS_DAV, "read-current-user-privilege-set", "read one's own privileges", 0, true},
};
#define NPRIV (sizeof tree / sizeof tree[0])

static enum share_kind kind_of(const struct dav_kind *k)
{
    return k == &dav_addressbooks ? SHARE_ADDRESS_BOOK
           : k == &dav_tasklists  ? SHARE_TASK_LIST
                                  : SHARE_CALENDAR;
}

/* The privileges there are on a collection of kind k (or a member of one; k NULL: the
 * principal, the homes). */
static unsigned privs_there(const struct dav_kind *k)
{
    unsigned p = P_READ_ITEMS | P_ITEMS_WRITE | P_REMOVE_COLL | P_ACL;
    if (k == &dav_calendars)
        p |= P_FREEBUSY;
    if (k && k->calendar) /* events and tasks: owners, per-user properties, participation */
        p |= P_WRITE_OWN | P_UPDATE_PRIVATE | P_RSVP;
    return p;
}

/* Whether tree[i] is there on kind k (read-current-user-privilege-set always is). */
static bool priv_there(const struct dav_kind *k, size_t i)
{
    return !tree[i].bits || (tree[i].bits & privs_there(k));
}

/* What DAV:read holds on kind k. */
static unsigned agg_read(const struct dav_kind *k)
{
    return privs_there(k) & tree[1].bits;
}

static unsigned agg_write(const struct dav_kind *k)
{
    return privs_there(k) & tree[4].bits;
}

/* What mayWriteOwn gives on a collection (see the top of the file). */
#define P_OWN_ITEMS (P_WRITE_OWN | P_BIND | P_WRITE_CONTENT)

/* The privileges a rights object's bits give in collections of kind k. */
static unsigned privs_of(const struct dav_kind *k, unsigned bits)
{
    unsigned p = 0;
    switch (kind_of(k)) {
    case SHARE_CALENDAR:
        p |= bits & CR_READ ? P_READ_ITEMS : 0;
        p |= bits & CR_FREEBUSY ? P_FREEBUSY : 0;
        p |= bits & CR_WRITE_ALL ? P_WRITE_ITEMS : 0;
        p |= bits & CR_WRITE_OWN ? P_OWN_ITEMS : 0;
        p |= bits & CR_UPDATE_PRIVATE ? P_UPDATE_PRIVATE : 0;
        p |= bits & CR_RSVP ? P_RSVP : 0;
        p |= bits & CR_SHARE ? P_ACL : 0;
        p |= bits & CR_DELETE ? P_REMOVE_COLL : 0;
        break;
    case SHARE_ADDRESS_BOOK:
        p |= bits & AR_READ ? P_READ_ITEMS : 0;
        p |= bits & AR_WRITE ? P_ITEMS_WRITE : 0;
        p |= bits & AR_SHARE ? P_ACL : 0;
        p |= bits & AR_DELETE ? P_REMOVE_COLL : 0;
        break;
    case SHARE_TASK_LIST:
        p |= bits & TR_READ ? P_READ_ITEMS : 0;
        p |= bits & TR_WRITE_ALL ? P_WRITE_ITEMS : 0;
        p |= bits & TR_WRITE_OWN ? P_OWN_ITEMS : 0;
        p |= bits & TR_UPDATE_PRIVATE ? P_UPDATE_PRIVATE : 0;
        p |= bits & TR_RSVP ? P_RSVP : 0;
        p |= bits & TR_ADMIN ? P_ACL : 0;
        p |= bits & TR_DELETE ? P_REMOVE_COLL : 0;
        break;
    }
    return p & privs_there(k);
}

/* The rights bits the privileges of an ACL grant give (see the top of the file). */
static unsigned bits_of(const struct dav_kind *k, unsigned p, bool all)
{
    bool items = (p & P_ITEMS_WRITE) == P_ITEMS_WRITE; /* only by J:write-items or above */
    switch (kind_of(k)) {
    case SHARE_CALENDAR:
        return all ? 0xffu
                   : (p & P_READ_ITEMS ? CR_READ : 0) | (p & P_FREEBUSY ? CR_FREEBUSY : 0) |
                         (items ? CR_WRITE_ALL : 0) | (p & P_WRITE_OWN ? CR_WRITE_OWN : 0) |
                         (p & P_UPDATE_PRIVATE ? CR_UPDATE_PRIVATE : 0) |
                         (p & P_RSVP ? CR_RSVP : 0) | (p & P_ACL ? CR_SHARE : 0) |
                         (p & P_REMOVE_COLL ? CR_DELETE : 0);
    case SHARE_ADDRESS_BOOK:
        return all ? 0x0fu
                   : (p & P_READ_ITEMS ? AR_READ : 0) | (items ? AR_WRITE : 0) |
                         (p & P_ACL ? AR_SHARE : 0) | (p & P_REMOVE_COLL ? AR_DELETE : 0);
    case SHARE_TASK_LIST:
        return all ? 0x7fu
                   : (p & P_READ_ITEMS ? TR_READ : 0) | (items ? TR_WRITE_ALL : 0) |
                         (p & P_WRITE_OWN ? TR_WRITE_OWN : 0) |
                         (p & P_UPDATE_PRIVATE ? TR_UPDATE_PRIVATE : 0) |
                         (p & P_RSVP ? TR_RSVP : 0) | (p & P_ACL ? TR_ADMIN : 0) |
                         (p & P_REMOVE_COLL ? TR_DELETE : 0);
    }
    return 0;
}

/* The user's privileges on collection r (or on a member as its collection gives them):
 * a shared collection's rights, or those of their access. */
static unsigned user_privs(const struct dav_res *r)
{
    unsigned p;
    if (r->shared) {
        p = privs_of(r->k, r->rights);
    } else if (!r->acct) {
        return P_READ_ITEMS;
    } else {
        p = agg_read(r->k);
        if (r->acct->may_write)
            p |= agg_write(r->k);
        if (r->acct->is_personal)
            p |= P_ACL;
    }
    if (p & P_READ_ITEMS) /* who reads the events reads their busy time (top of the file) */
        p |= privs_there(r->k) & P_FREEBUSY;
    return p;
}

/* The user's privileges on r: on a member with mayWriteOwn but not mayWriteAll, the
 * writes of that member as share.c allows them (top of the file). */
static unsigned res_privs(struct dav_ctx *x, struct dav_res *r)
{
    unsigned p = user_privs(r);
    if (r->t != DR_OBJ || !(p & P_WRITE_OWN) || (p & P_UNBIND))
        return p;
    p &= ~(unsigned)(P_BIND | P_WRITE_CONTENT);
    if (!r->obj && r->obj_id[0])
        r->obj = dav_member_load(x, r, r->obj_id);
    if (r->obj && dav_shared_may_write(x, r, r->obj))
        p |= P_WRITE_CONTENT | P_WRITE_PROPS;
    return p;
}

bool dav_acl_may_read_free_busy(const struct dav_res *r)
{
    return (user_privs(r) & P_FREEBUSY) != 0;
}

static void priv_elem(struct buf *v, const char *ns, const char *name)
{
    buf_puts(v, "<D:privilege>");
    dav_prop_open(v, ns, name, true);
    buf_puts(v, "</D:privilege>");
}

/* The privilege elements of p on kind k into v (see the top of the file): in
 * current-user-privilege-set (cups) every privilege held, abstract or not, and DAV:all
 * and read-current-user-privilege-set; in an ACE the non-abstract ones. */
static void write_privs(struct buf *v, const struct dav_kind *k, unsigned p, bool cups)
{
    unsigned there = privs_there(k);
    for (size_t i = 0; i < NPRIV; i++) {
        unsigned need = tree[i].bits & there;
        bool held = need ? (p & need) == need : cups;
        if (held && priv_there(k, i) && (cups || (!tree[i].abstract && i > 0)))
            priv_elem(v, tree[i].ns, tree[i].name);
    }
}

/* ---- properties ---------------------------------------------------------------------------- */

/* A principal's href: /dav/principals/{user name}/, or by its id when it is no user (a
 * group). */
static void principal_of(struct dav_ctx *x, const char *id, struct buf *v)
{
    struct store_user u;
    memset(&u, 0, sizeof u);
    buf_puts(v, "<D:href>/dav/principals/");
    bool mine = false; /* the user's own account: no lookup (a listing asks per member) */
    for (int i = 0; i < x->u->naccounts && !mine; i++)
        mine = x->u->accounts[i].is_personal && strcmp(x->u->accounts[i].account_id, id) == 0;
    if (mine)
        dav_xml_href(v, x->u->name);
    else if (store_user_by_account(x->c, id, &u) == STORE_OK && u.name[0])
        dav_xml_href(v, u.name);
    else
        dav_xml_href(v, id);
    buf_puts(v, "/</D:href>");
    store_user_clear(&u);
}

/* The bits of a stored rights object (a shareWith value) of kind sk. */
static unsigned rights_bits(enum share_kind sk, json_t *rights)
{
    unsigned bits = 0;
    const char *name;
    json_t *b;
    for (unsigned i = 0; i < 8; i++) {
        json_t *one = share_rights_json(sk, 1u << i); /* the name of bit i is the true one */
        json_object_foreach(one, name, b)
        {
            if (json_is_true(b) && json_is_true(json_object_get(rights, name)))
                bits |= 1u << i;
        }
        json_decref(one);
    }
    return bits;
}

/* §5.5 DAV:acl of a collection: the owner's protected ACE, one per shareWith entry. */
static void acl_value(struct dav_ctx *x, const struct dav_res *r, struct buf *v)
{
    buf_puts(v, "<D:ace><D:principal>");
    principal_of(x, r->acct->account_id, v);
    buf_puts(v, "</D:principal><D:grant><D:privilege><D:all/></D:privilege></D:grant>"
                "<D:protected/></D:ace>");
    const char *id;
    json_t *rights;
    json_object_foreach(json_object_get(r->coll, "shareWith"), id, rights)
    {
        unsigned p = privs_of(r->k, rights_bits(kind_of(r->k), rights));
        if (!p)
            continue;
        buf_puts(v, "<D:ace><D:principal>");
        principal_of(x, id, v);
        buf_puts(v, "</D:principal><D:grant>");
        write_privs(v, r->k, p, false);
        buf_puts(v, "</D:grant></D:ace>");
    }
}

/* §5.3: the privileges there are on kind k below tree[parent], as the tree at the top
 * of the file (parent -1: all of it). */
static void supported_under(const struct dav_kind *k, int parent, struct buf *v)
{
    for (size_t i = 0; i < NPRIV; i++) {
        if (tree[i].parent != parent || !priv_there(k, i))
            continue;
        buf_puts(v, "<D:supported-privilege>");
        priv_elem(v, tree[i].ns, tree[i].name);
        if (tree[i].abstract)
            buf_puts(v, "<D:abstract/>");
        buf_printf(v, "<D:description xml:lang=\"en\">%s</D:description>", tree[i].what);
        supported_under(k, (int)i, v);
        buf_puts(v, "</D:supported-privilege>");
    }
}

int dav_acl_prop(struct dav_ctx *x, struct dav_res *r, const char *name, struct buf *v)
{
    if (strcmp(name, "current-user-privilege-set") == 0) {
        write_privs(v, r->k, res_privs(x, r), true);
        return 1;
    }
    if (r->t != DR_COLL && r->t != DR_OBJ)
        return 0;
    if (strcmp(name, "supported-privilege-set") == 0) {
        supported_under(r->k, -1, v);
        return 1;
    }
    if (strcmp(name, "owner") == 0) { /* §5.1: the account's owner (a sharer's, shared) */
        principal_of(x, r->acct->account_id, v);
        return 1;
    }
    if (r->t != DR_COLL)
        return 0;
    if (strcmp(name, "acl-restrictions") == 0) { /* §5.6: what the ACL method takes */
        buf_puts(v, "<D:grant-only/><D:no-invert/>");
        return 1;
    }
    if (strcmp(name, "acl") == 0) {
        if (!(user_privs(r) & P_READ_ACL))
            return -1; /* §5.5: needs DAV:read-acl (403 in its propstat) */
        acl_value(x, r, v);
        return 1;
    }
    return 0;
}

/* ---- need-privileges (§7.1.1) -------------------------------------------------------------- */

void dav_need_privilege(struct dav_ctx *x, const struct dav_res *r, bool parent, const char *ns,
                        const char *name)
{
    struct buf b = {0};
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\" "
                 "xmlns:C=\"" NS_CALDAV "\" xmlns:CR=\"" NS_CARDDAV "\">"
                 "<D:need-privileges><D:resource><D:href>");
    if (r) {
        struct dav_res on = *r; /* only its href is written: nothing of it is owned */
        if (parent && (on.t == DR_OBJ || on.t == DR_COLL))
            on.t = on.t == DR_OBJ ? DR_COLL : DR_HOME;
        dav_res_href(x, &on, &b);
    } else {
        size_t n = strlen(x->q->path);
        while (parent && n > 1 && x->q->path[n - 1] == '/')
            n--;
        while (parent && n > 1 && x->q->path[n - 1] != '/')
            n--; /* up to the parent's trailing '/' */
        char *path = xstrndup(x->q->path, n);
        dav_xml_href(&b, path);
        free(path);
    }
    buf_puts(&b, "</D:href>");
    priv_elem(&b, ns, name);
    buf_puts(&b, "</D:resource></D:need-privileges></D:error>\n");
    dav_reply_xml(x, 403, &b);
}

/* ---- the ACL method (§8.1) ------------------------------------------------------------------- */

/* The principal id of a principal href /dav/principals/{name}/ (absolute or a path)
 * into id: a user's (its account id), or a group's, named by its id (as DAV:acl writes
 * it) or its name (RFC 9670 §2: a group is a principal; shareWith may name it). False
 * when it names no principal. */
static bool principal_id(struct dav_ctx *x, const char *href, char id[64])
{
    char path[600], name[256];
    if (!dav_dest_path(href, path, sizeof path) || strncmp(path, "/dav/principals/", 16) != 0)
        return false;
    if (strlen(path + 16) >= sizeof name)
        return false;
    memcpy(name, path + 16, strlen(path + 16) + 1);
    size_t n = strlen(name);
    if (n && name[n - 1] == '/')
        name[--n] = 0;
    if (!n || strchr(name, '/'))
        return false;
    struct store_user u;
    memset(&u, 0, sizeof u);
    bool ok = store_user_get(x->c, name, &u) == STORE_OK;
    if (ok)
        snprintf(id, 64, "%s", u.account_id);
    store_user_clear(&u);
    if (ok)
        return true;
    char gid[64];
    if (store_group_get(x->c, name, gid) == STORE_OK) {
        snprintf(id, 64, "%s", gid);
        return true;
    }
    if (n >= 64)
        return false;
    json_t *p = principal_load(x->c, name);
    const char *type = json_string_value(json_object_get(p, "type"));
    ok = type && strcmp(type, "group") == 0;
    if (ok)
        memcpy(id, name, n + 1);
    json_decref(p);
    return ok;
}

/* The privileges of a DAV:grant on kind k into *p (*all for DAV:all): NULL, or the
 * §8.1.1 precondition it breaks (an abstract privilege: no-abstract; one not there:
 * not-supported-privilege). */
static const char *grant_privs(const struct dav_kind *k, const xmlNode *grant, unsigned *p,
                               bool *all)
{
    for (xmlNode *pr = dav_xml_child(grant, NULL, NULL); pr; pr = dav_xml_next(pr)) {
        xmlNode *e = dav_xml_child(pr, NULL, NULL);
        if (!dav_xml_is(pr, NS_DAV, "privilege") || !e)
            continue;
        size_t i = 0;
        while (i < NPRIV && !dav_xml_is(e, tree[i].ns, tree[i].name))
            i++;
        if (i == NPRIV || !priv_there(k, i))
            return "not-supported-privilege";
        if (tree[i].abstract)
            return "no-abstract";
        *all |= i == 0;
        *p |= tree[i].bits & privs_there(k);
    }
    return NULL;
}

/* The precondition an ACE breaks (§8.1.1), or NULL with its principal's id and the
 * privileges it grants. */
static const char *ace_read(struct dav_ctx *x, const struct dav_kind *k, xmlNode *ace, char id[64],
                            unsigned *p, bool *all)
{
    xmlNode *pr = dav_xml_child(ace, NS_DAV, "principal");
    xmlNode *href = pr ? dav_xml_child(pr, NS_DAV, "href") : NULL;
    xmlNode *grant = dav_xml_child(ace, NS_DAV, "grant");
    if (dav_xml_child(ace, NS_DAV, "invert"))
        return "no-invert";
    if (dav_xml_child(ace, NS_DAV, "deny") || !grant)
        return "grant-only";
    if (!href)
        return "allowed-principal"; /* DAV:all, authenticated, unauthenticated, property, self */
    xmlChar *h = xmlNodeGetContent(href);
    bool known = h && principal_id(x, (const char *)h, id);
    xmlFree(h);
    if (!known)
        return "recognized-principal";
    return grant_privs(k, grant, p, all);
}

/* The shareWith an acl element asks (a new object), or NULL with the answer queued. */
static json_t *acl_share_with(struct dav_ctx *x, const struct dav_res *r, xmlNode *acl)
{
    json_t *with = json_object();
    for (xmlNode *ace = dav_xml_child(acl, NULL, NULL); ace; ace = dav_xml_next(ace)) {
        if (!dav_xml_is(ace, NS_DAV, "ace"))
            continue;
        char id[64] = "";
        unsigned p = 0;
        bool all = false;
        const char *pre = ace_read(x, r->k, ace, id, &p, &all);
        if (pre) {
            json_decref(with);
            dav_error(x, 403, NS_DAV, pre, NULL);
            return NULL;
        }
        if (strcmp(id, r->acct->account_id) == 0)
            continue; /* the owner's protected ACE stays as it is (§8.1) */
        unsigned bits = bits_of(r->k, p, all);
        if (bits)
            json_object_set_new(with, id, share_rights_json(kind_of(r->k), bits));
    }
    return with;
}

void dav_acl(struct dav_ctx *x, struct dav_res *r)
{
    const char *why;
    if (r->t != DR_COLL || !r->coll) {
        dav_reply(x, 405, "text/plain", xstrdup("ACL applies to calendars and address books\n"));
        return;
    }
    xmlDoc *d = dav_xml_parse(x->q->body, x->q->len, &why);
    xmlNode *acl = d ? xmlDocGetRootElement(d) : NULL;
    if (!acl || !dav_xml_is(acl, NS_DAV, "acl")) {
        xmlFreeDoc(d);
        dav_reply(x, 400, "text/plain", xstrdup(d ? "the body is no DAV:acl\n" : why));
        return;
    }
    json_t *with = acl_share_with(x, r, acl);
    xmlFreeDoc(d);
    if (!with)
        return;
    if (!(user_privs(r) & P_WRITE_ACL)) { /* RFC 3744 §7.1.1 */
        json_decref(with);
        dav_need_privilege(x, r, false, NS_DAV, "write-acl");
        return;
    }
    char method[64];
    snprintf(method, sizeof method, "%s/set", r->k->coll_type);
    json_t *args = json_pack("{s:s, s:{s:{s:o}}}", "accountId", r->acct->account_id, "update",
                             r->coll_id, "shareWith", with);
    json_t *res = dav_jmap_call(x, r->k, method, args);
    json_decref(args);
    json_t *err = json_object_get(json_object_get(res, "notUpdated"), r->coll_id);
    if (res && !err)
        dav_reply(x, 200, NULL, NULL);
    else
        dav_need_privilege(x, r, false, NS_DAV, "write-acl");
    json_decref(res);
}
