/*
 * dav_lock.c — write locks (RFC 4918 §6, §7, §9.10 LOCK, §9.11 UNLOCK, §10.4 If,
 * §15.7-15.8 lockdiscovery and supportedlock): what DAV class 2 asks, for the clients
 * that lock a resource before they write it (macOS and Windows WebDAV clients, some
 * CardDAV clients).
 *
 * Locks are exclusive or shared write locks of depth 0 or infinity on an existing
 * resource or collection, with a timeout (Second-N up to LOCK_MAX_SECONDS; Infinite is
 * granted as that much, §10.7 lets the server choose) and an opaquelocktoken: URI (a
 * random UUID, RFC 4918 Appendix C). A write (PUT, DELETE, PROPPATCH, MKCOL,
 * MKCALENDAR, MOVE, COPY's destination, and ACL: RFC 3744 §7.5 "only the lock owner can
 * modify ACEs") to a locked URL needs the lock's token in the
 * If header, submitted by the lock's creator (§6.4), else 423 with lock-token-submitted
 * (§7, §16); a DELETE or MOVE also needs the tokens of locks below it. An If
 * header is evaluated (§10.4: lists of state tokens and ETags, Not, tagged lists) and a
 * false one is 412.
 *
 * LOCK of an unmapped URL (§7.3, §9.10.4) reserves the name for the lock's holder, as
 * Cyrus does (RFC 2518's lock-null resource): 201 Created and a lock on the URL, so
 * nobody else can create it and the holder's PUT with the token does (the lost-update
 * problem on creation that §7.3 is for). No calendar or address object is stored for it:
 * a calendar or address book collection holds only calendar or address object
 * resources (RFC 4791 §4.2 a, RFC 6352 §5.2 a) and an empty body is neither (a PUT of
 * one fails CALDAV:valid-calendar-data, CARDDAV:valid-address-data). While the lock
 * lasts the URL is the empty resource §9.10.4 describes (GET: 204, PROPFIND: an empty
 * resourcetype, getcontentlength 0 and its lock; DELETE with the token ends it), and,
 * as §9.10.4 says it MUST, it appears in the PROPFIND responses whose scope includes it:
 * a Depth 1 PROPFIND of its collection lists it (dav_lock_list_reserved), as Cyrus's
 * listing does its lock-null resources. An unmapped URL in a home (where a MKCALENDAR or
 * extended MKCOL would make a collection) is reserved the same way: answered and listed
 * in the home as that empty resource, and the holder's MKCALENDAR or MKCOL with the
 * token makes the collection there. How that goes with RFC 4791 §4.2 a / RFC 6352
 * §5.2 a: those restrict what a collection stores, and nothing is stored; a listing
 * shows the lock state of a name in it, with no getetag and no calendar or address data,
 * for as long as the lock lasts (a client's LOCK-then-PUT). Everything that is about
 * the collection's calendar or address object resources leaves it out:
 * sync-collection (RFC 6578 §3: its changes are the members' and a reservation is no
 * change of the collection's data), calendar-query and addressbook-query (no data to
 * match), the CTag and sync token (unchanged by a LOCK). When the lock ends unused
 * nothing remains (§7.3's "SHOULD NOT disappear" yields to RFC 4791 §4.2 a).
 *
 * Locks are rows of the store (store.h "DAV write locks"), so every front end on one
 * PostgreSQL database, and every process on one SQLite data directory, honours a lock
 * any of them granted; their expiry is wall-clock time. A request reads the table once
 * (x->locks, at its first need) and decides on that copy; LOCK, its refresh and UNLOCK
 * decide and write in one write transaction, which the store serialises across front
 * ends, so two conflicting locks are never both granted. At most LOCK_MAX live locks.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dav/dav_internal.h"
#include "store/store.h"

#define LOCK_MAX 1024
#define LOCK_MAX_SECONDS 3600
#define LOCK_DEFAULT_SECONDS 600
#define LOCK_PATH 600
#define TOKEN_PREFIX "opaquelocktoken:"

struct lock {
    char path[LOCK_PATH]; /* the lock root, without a trailing '/' */
    char token[64];       /* opaquelocktoken:uuid */
    char *owner;          /* the DAV:owner element as the client sent it (XML), or NULL */
    int64_t user_id;      /* the lock's creator */
    bool exclusive, infinite;
    int64_t expires; /* Unix time */
    int seconds;     /* the timeout granted */
};

/* The live locks as one request read them (dav_ctx.locks). */
struct dav_locks {
    struct lock *v;
    size_t n, cap;
};

/* path without its trailing '/' (the root "/" stays) into out. */
static void norm(const char *path, char out[LOCK_PATH])
{
    size_t n = strnlen(path, LOCK_PATH - 1);
    memmove(out, path, n); /* out may be path */
    out[n] = 0;
    while (n > 1 && out[n - 1] == '/')
        out[--n] = 0;
}

/* Whether path is below (strictly inside) root. */
static bool below(const char *path, const char *root)
{
    size_t n = strlen(root);
    return strncmp(path, root, n) == 0 && (path[n] == '/' || (n == 1 && path[1])) && path[n];
}

/* Whether lock l covers path (its root, or below it with depth infinity). */
static bool covers(const struct lock *l, const char *path)
{
    return strcmp(l->path, path) == 0 || (l->infinite && below(path, l->path));
}

/* ---- the locks of the store ------------------------------------------------------------ */

static int load_cb(const struct store_davlock *r, void *ud)
{
    struct dav_locks *s = ud;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    struct lock *l = &s->v[s->n++];
    memset(l, 0, sizeof *l);
    snprintf(l->path, sizeof l->path, "%s", r->path);
    snprintf(l->token, sizeof l->token, "%s", r->token);
    l->owner = r->owner ? xstrdup(r->owner) : NULL;
    l->user_id = r->user_id;
    l->exclusive = r->exclusive;
    l->infinite = r->infinite;
    l->expires = r->expires;
    l->seconds = r->seconds;
    return 0;
}

void dav_locks_free(struct dav_locks *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].owner);
    free(s->v);
    free(s);
}

/* The live locks as of the request's transaction, read at the first need. A store that
 * cannot be read gives none: the request's own store access fails the same way. */
static struct dav_locks *loaded(struct dav_ctx *x)
{
    if (!x->locks) {
        x->locks = xcalloc(1, sizeof *x->locks);
        if (store_davlock_list(x->c, util_now(), load_cb, x->locks) != STORE_OK)
            log_warn("dav: the lock table cannot be read");
    }
    return x->locks;
}

static void forget_loaded(struct dav_ctx *x)
{
    dav_locks_free(x->locks);
    x->locks = NULL;
}

static struct store_davlock row_of(const struct lock *l)
{
    return (struct store_davlock){.token = l->token,
                                  .path = l->path,
                                  .owner = l->owner,
                                  .user_id = l->user_id,
                                  .expires = l->expires,
                                  .seconds = l->seconds,
                                  .exclusive = l->exclusive,
                                  .infinite = l->infinite};
}

struct locks_write {
    struct dav_ctx *x;
    int (*fn)(struct dav_ctx *x, struct dav_locks *s, void *ud);
    void *ud;
};

static int locks_write(struct store_conn *c, void *ud)
{
    struct locks_write *w = ud;
    forget_loaded(w->x); /* a run again reads them again */
    if (store_davlock_prune(c, util_now()) != STORE_OK)
        return -1;
    return w->fn(w->x, loaded(w->x), w->ud);
}

/* Runs fn in a write transaction of its own (the caller's read transaction ends) with
 * the live locks as they are now, expired rows pruned; fn's answer (0 commits) or -1
 * when the store failed. Refused by the database, it is run again from its start
 * (store_write), so fn must keep nothing of a run that did not commit. A read
 * transaction is open again afterwards. */
static int with_locks_written(struct dav_ctx *x,
                              int (*fn)(struct dav_ctx *x, struct dav_locks *s, void *ud), void *ud)
{
    forget_loaded(x);
    store_rollback(x->c);
    struct locks_write w = {x, fn, ud};
    int rc = store_write(x->c, locks_write, &w, "dav lock");
    forget_loaded(x); /* what fn changed: read again when needed */
    store_begin(x->c, false);
    return rc;
}

static struct lock *by_token(struct dav_locks *s, const char *token)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].token, token) == 0)
            return &s->v[i];
    return NULL;
}

/* ---- the If header (§10.4) ------------------------------------------------------------- */

/* The tokens an If header submits (each positive state token, at most 16) and whether
 * the header as a whole is true for the request URI path (etag: its current ETag, or
 * NULL), against the locks of s. Grammar: [<resource>] (["Not"] <token> | ["Not"]
 * [etag] ...) ... */
struct if_eval {
    char tokens[16][64];
    int n;
    bool ok;
};

static bool if_condition(struct dav_locks *s, const char *tok, bool is_etag, const char *path,
                         const char *etag)
{
    if (is_etag)
        return etag && strcmp(tok, etag) == 0;
    struct lock *l = by_token(s, tok);
    return l && covers(l, path);
}

static bool if_parse(struct dav_locks *s, const char *h, const char *req_path, const char *etag,
                     struct if_eval *e)
{
    memset(e, 0, sizeof *e);
    char tagged[LOCK_PATH] = "";
    const char *p = h;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        if (*p == '<') { /* a resource tag: the lists after it are about that URL */
            const char *end = strchr(p, '>');
            if (!end)
                return false;
            char url[LOCK_PATH];
            snprintf(url, sizeof url, "%.*s", (int)(end - p - 1), p + 1);
            if (!dav_dest_path(url, tagged, sizeof tagged))
                return false;
            norm(tagged, tagged);
            p = end + 1;
            continue;
        }
        if (*p != '(')
            return false;
        p++;
        bool list = true, any = false;
        const char *path = tagged[0] ? tagged : req_path;
        while (*p && *p != ')') {
            while (isspace((unsigned char)*p))
                p++;
            bool not = strncasecmp(p, "Not", 3) == 0 &&
                       (isspace((unsigned char)p[3]) || p[3] == '<' || p[3] == '[');
            if (not )
                for (p += 3; isspace((unsigned char)*p); p++)
                    ;
            char open = *p, close = open == '<' ? '>' : open == '[' ? ']' : 0;
            const char *end = close ? strchr(p + 1, close) : NULL;
            if (!end || end - p - 1 >= 64)
                return false;
            char tok[64];
            snprintf(tok, sizeof tok, "%.*s", (int)(end - p - 1), p + 1);
            bool c = if_condition(s, tok, open == '[', path, tagged[0] ? NULL : etag);
            list = list && (not ? !c : c);
            any = true;
            if (open == '<' && !not &&e->n < 16)
                snprintf(e->tokens[e->n++], 64, "%s", tok);
            p = end + 1;
            while (isspace((unsigned char)*p))
                p++;
        }
        if (*p != ')' || !any)
            return false;
        p++;
        e->ok = e->ok || list;
    }
    return true;
}

/* Whether e submits lock l's token (and the user is the lock's creator, §6.4). */
static bool submitted(const struct if_eval *e, const struct lock *l, int64_t user)
{
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->tokens[i], l->token) == 0)
            return l->user_id == user;
    return false;
}

/* Whether lock l is satisfied by e: its own token, or, for a shared lock, the token of
 * another shared lock of s over the same resource (§6.2: any holder of a shared lock
 * may write). */
static bool satisfied(const struct dav_locks *s, const struct if_eval *e, const struct lock *l,
                      int64_t user)
{
    if (submitted(e, l, user))
        return true;
    for (size_t i = 0; i < s->n && !l->exclusive; i++) {
        const struct lock *m = &s->v[i];
        if (!m->exclusive && covers(m, l->path) && submitted(e, m, user))
            return true;
    }
    return false;
}

/* The first lock that forbids a write to path without its token: covering it, or (when
 * subtree, a DELETE or MOVE) below it. */
static const struct lock *blocking(const struct dav_locks *s, const char *path, bool subtree,
                                   const struct if_eval *e, int64_t user)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct lock *l = &s->v[i];
        if ((covers(l, path) || (subtree && below(l->path, path))) && !satisfied(s, e, l, user))
            return l;
    }
    return NULL;
}

/* ---- checks before a write --------------------------------------------------------------- */

static int64_t user_of(const struct dav_ctx *x)
{
    return x->u ? x->u->id : -1;
}

bool dav_lock_check(struct dav_ctx *x, const char *etag)
{
    const char *m = x->q->method;
    bool write = strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0 || strcmp(m, "PROPPATCH") == 0 ||
                 strcmp(m, "MKCOL") == 0 || strcmp(m, "MKCALENDAR") == 0 ||
                 strcmp(m, "MOVE") == 0 || strcmp(m, "COPY") == 0 ||
                 strcmp(m, "ACL") == 0; /* RFC 3744 §7.5: a lock keeps the ACEs too */
    char path[LOCK_PATH], dest[LOCK_PATH] = "";
    norm(x->q->path, path);
    if ((strcmp(m, "MOVE") == 0 || strcmp(m, "COPY") == 0) && x->q->destination &&
        dav_dest_path(x->q->destination, dest, sizeof dest))
        norm(dest, dest);
    struct if_eval e = {.ok = true};
    struct dav_locks *s = loaded(x);
    bool parsed = !x->q->if_header || if_parse(s, x->q->if_header, path, etag, &e);
    const struct lock *l = NULL;
    if (parsed && e.ok && write) {
        bool subtree = m[0] == 'D' || m[0] == 'M';
        l = strcmp(m, "COPY") == 0 ? NULL : blocking(s, path, subtree, &e, user_of(x));
        if (!l && dest[0])
            l = blocking(s, dest, true, &e, user_of(x));
    }
    if (!parsed) {
        dav_reply(x, 400, "text/plain", xstrdup("malformed If header\n"));
        return false;
    }
    if (!e.ok) { /* §10.4: a false If header */
        dav_reply(x, 412, "text/plain", xstrdup("the If header's condition is false\n"));
        return false;
    }
    if (l) { /* §7 and §16: 423 with the lock's root */
        dav_error(x, 423, NS_DAV, "lock-token-submitted", l->path);
        return false;
    }
    return true;
}

static int forget_fn(struct dav_ctx *x, struct dav_locks *s, void *ud)
{
    const char *p = ud;
    for (size_t i = 0; i < s->n; i++)
        if ((strcmp(s->v[i].path, p) == 0 || below(s->v[i].path, p)) &&
            store_davlock_del(x->c, s->v[i].token) != STORE_OK)
            return -1;
    return 0;
}

void dav_lock_forget(struct dav_ctx *x, const char *path)
{
    char p[LOCK_PATH];
    norm(path, p);
    /* the request's copy says whether there is anything to drop (the write checked it) */
    struct dav_locks *s = loaded(x);
    bool any = false;
    for (size_t i = 0; i < s->n && !any; i++)
        any = strcmp(s->v[i].path, p) == 0 || below(s->v[i].path, p);
    if (any && with_locks_written(x, forget_fn, p) != 0)
        log_warn("dav: the locks of a deleted resource cannot be dropped");
}

bool dav_lock_reserved(struct dav_ctx *x, const struct dav_res *r)
{
    bool unmapped = r->t == DR_OBJ ? r->coll && !r->obj_id[0] : r->t == DR_COLL && !r->coll;
    if (!unmapped)
        return false;
    char p[LOCK_PATH];
    norm(x->q->path, p);
    struct dav_locks *s = loaded(x);
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].path, p) == 0)
            return true;
    return false;
}

void dav_lock_list_reserved(struct dav_ctx *x, const struct dav_res *r, const xmlNode *prop,
                            struct buf *b)
{
    char coll[LOCK_PATH];
    norm(x->q->path, coll);
    struct dav_locks *s = loaded(x);
    size_t n = strlen(coll);
    for (size_t i = 0; i < s->n; i++) {
        const char *p = s->v[i].path;
        bool dup = false; /* one response per URL, however many shared locks it has */
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(s->v[j].path, p) == 0;
        if (dup || !below(p, coll) || strchr(p + n + 1, '/'))
            continue; /* only the collection's own members */
        struct dav_res child;
        bool home = r->t == DR_HOME;
        if (dav_resolve(x, p, &child) == 0 &&
            (home ? child.t == DR_COLL && !child.coll
                  : child.t == DR_OBJ && child.coll && !child.obj_id[0] &&
                        strcmp(child.coll_id, r->coll_id) == 0)) {
            child.reserved = true;
            dav_propstats(x, &child, prop, b);
        }
        dav_res_clear(&child);
    }
}

/* ---- lockdiscovery (§15.8) and supportedlock (§15.10) ----------------------------------- */

static void activelock(struct buf *b, const struct lock *l, int64_t t)
{
    buf_puts(b, "<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope>");
    buf_puts(b, l->exclusive ? "<D:exclusive/>" : "<D:shared/>");
    buf_puts(b, "</D:lockscope><D:depth>");
    buf_puts(b, l->infinite ? "infinity" : "0");
    buf_puts(b, "</D:depth>");
    if (l->owner)
        buf_puts(b, l->owner);
    buf_printf(b, "<D:timeout>Second-%lld</D:timeout>",
               (long long)(l->expires > t ? l->expires - t : 0));
    buf_puts(b, "<D:locktoken><D:href>");
    dav_xml_text(b, l->token);
    buf_puts(b, "</D:href></D:locktoken><D:lockroot><D:href>");
    dav_xml_href(b, l->path);
    buf_puts(b, "</D:href></D:lockroot></D:activelock>");
}

void dav_lock_discovery(struct dav_ctx *x, const char *path, struct buf *v)
{
    char p[LOCK_PATH];
    norm(path, p);
    struct dav_locks *s = loaded(x);
    int64_t t = util_now();
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].expires > t && covers(&s->v[i], p))
            activelock(v, &s->v[i], t);
}

void dav_lock_supported(struct buf *v)
{
    buf_puts(v, "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/>"
                "</D:locktype></D:lockentry><D:lockentry><D:lockscope><D:shared/></D:lockscope>"
                "<D:locktype><D:write/></D:locktype></D:lockentry>");
}

/* ---- LOCK (§9.10) and UNLOCK (§9.11) ----------------------------------------------------- */

/* The timeout to grant for a Timeout header (§10.7: the first of its values we can
 * honour, at most LOCK_MAX_SECONDS). */
static int timeout_of(const char *h)
{
    if (!h)
        return LOCK_DEFAULT_SECONDS;
    for (const char *p = h; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        while (isspace((unsigned char)*p))
            p++;
        if (strncasecmp(p, "Infinite", 8) == 0)
            return LOCK_MAX_SECONDS;
        if (strncasecmp(p, "Second-", 7) == 0 && isdigit((unsigned char)p[7])) {
            long long s = strtoll(p + 7, NULL, 10);
            return s < 1 ? 1 : s > LOCK_MAX_SECONDS ? LOCK_MAX_SECONDS : (int)s;
        }
    }
    return LOCK_DEFAULT_SECONDS;
}

/* The answer to a LOCK or its refresh: the lock's lockdiscovery (§9.10.1). */
static void lock_answer(struct dav_ctx *x, const struct lock *l, int status)
{
    struct buf b = {0};
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:prop xmlns:D=\"DAV:\">"
                 "<D:lockdiscovery>");
    activelock(&b, l, util_now());
    buf_puts(&b, "</D:lockdiscovery></D:prop>\n");
    snprintf(x->out->lock_token, sizeof x->out->lock_token, "<%s>", l->token);
    dav_reply_xml(x, status, &b);
}

/* What a refresh found and wrote: the lock (owner owned), or none. */
struct refresh {
    const char *path;
    struct lock found;
    bool ok;
};

static int refresh_fn(struct dav_ctx *x, struct dav_locks *s, void *ud)
{
    struct refresh *f = ud;
    free(f->found.owner); /* of a run the database refused */
    f->found.owner = NULL;
    f->ok = false;
    struct if_eval e;
    struct lock *l = NULL;
    if (x->q->if_header && if_parse(s, x->q->if_header, f->path, NULL, &e))
        for (int i = 0; i < e.n && !l; i++)
            if ((l = by_token(s, e.tokens[i])) && (!covers(l, f->path) || l->user_id != user_of(x)))
                l = NULL;
    if (!l)
        return 1;
    l->seconds = timeout_of(x->q->timeout);
    l->expires = util_now() + l->seconds;
    struct store_davlock row = row_of(l);
    if (store_davlock_put(x->c, &row) != STORE_OK)
        return -1;
    f->found = *l;
    f->found.owner = l->owner ? xstrdup(l->owner) : NULL;
    f->ok = true;
    return 0;
}

/* §9.10.2: a LOCK without a body refreshes the lock whose token the If header submits. */
static void lock_refresh(struct dav_ctx *x, const char *path)
{
    struct refresh f = {.path = path};
    int rc = with_locks_written(x, refresh_fn, &f);
    if (rc < 0)
        dav_reply(x, 503, "text/plain", xstrdup("database unavailable\n"));
    else if (!f.ok) /* §9.10.2: the token must be of a lock of this resource */
        dav_error(x, 412, NS_DAV, "lock-token-matches-request-uri", NULL);
    else
        lock_answer(x, &f.found, 200);
    free(f.found.owner);
}

/* The DAV:owner element of a lockinfo as XML text (kept and given back as is), or NULL. */
static char *owner_xml(xmlNode *owner)
{
    if (!owner)
        return NULL;
    /* a copy as the root of a document of its own: it declares the namespaces it uses */
    xmlDoc *own = xmlNewDoc((const xmlChar *)"1.0");
    xmlNode *copy = xmlDocCopyNode(owner, own, 1);
    char *s = NULL;
    if (copy) {
        xmlDocSetRootElement(own, copy);
        xmlBuffer *xb = xmlBufferCreate();
        xmlNodeDump(xb, own, copy, 0, 0);
        if (xmlBufferLength(xb) < 4096)
            s = xstrdup((const char *)xmlBufferContent(xb));
        xmlBufferFree(xb);
    }
    xmlFreeDoc(own);
    return s;
}

/* What lock_install decides: the new lock n (its user and expiry set here), and the
 * root of a conflicting lock when there is one. */
struct install {
    struct lock *n;
    char conflict[LOCK_PATH];
};

/* Installs the new lock unless one conflicts (§6.2: an exclusive lock conflicts with
 * any other, a shared one with an exclusive one, over the paths either covers): 0, 423,
 * 503 (LOCK_MAX live locks) or -1 (the store). */
static int install_fn(struct dav_ctx *x, struct dav_locks *s, void *ud)
{
    struct install *in = ud;
    struct lock *n = in->n;
    for (size_t i = 0; i < s->n; i++) {
        const struct lock *l = &s->v[i];
        if ((covers(l, n->path) || covers(n, l->path)) && (l->exclusive || n->exclusive)) {
            memcpy(in->conflict, l->path, LOCK_PATH);
            return 423;
        }
    }
    if (s->n >= LOCK_MAX)
        return 503;
    n->user_id = user_of(x);
    n->expires = util_now() + n->seconds;
    struct store_davlock row = row_of(n);
    return store_davlock_put(x->c, &row) == STORE_OK ? 0 : -1;
}

/* The lockinfo of a LOCK body (§14.11): its scope (exclusive or shared) and write
 * type, owner into *owner; false with a 400 queued on anything else. */
static bool lockinfo(struct dav_ctx *x, bool *exclusive, char **owner)
{
    const char *why;
    xmlDoc *d = dav_xml_parse(x->q->body, x->q->len, &why);
    xmlNode *root = d ? xmlDocGetRootElement(d) : NULL;
    xmlNode *scope = root ? dav_xml_child(root, NS_DAV, "lockscope") : NULL;
    xmlNode *type = root ? dav_xml_child(root, NS_DAV, "locktype") : NULL;
    *exclusive = scope && dav_xml_child(scope, NS_DAV, "exclusive");
    bool ok = root && dav_xml_is(root, NS_DAV, "lockinfo") && scope && type &&
              (*exclusive || dav_xml_child(scope, NS_DAV, "shared")) &&
              dav_xml_child(type, NS_DAV, "write");
    if (ok)
        *owner = owner_xml(dav_xml_child(root, NS_DAV, "owner"));
    else
        dav_reply(x, 400, "text/plain", xstrdup(d ? "the body is no DAV:lockinfo\n" : why));
    xmlFreeDoc(d);
    return ok;
}

void dav_lock(struct dav_ctx *x, struct dav_res *r)
{
    char path[LOCK_PATH];
    norm(x->q->path, path);
    if (!x->q->len)
        return lock_refresh(x, path);
    const char *depth = x->q->depth;
    if (depth && strcmp(depth, "0") != 0 && strcasecmp(depth, "infinity") != 0) {
        dav_reply(x, 400, "text/plain", xstrdup("LOCK takes Depth 0 or infinity\n"));
        return;
    }
    struct lock n = {.infinite = !depth || depth[0] != '0', .seconds = timeout_of(x->q->timeout)};
    if (!lockinfo(x, &n.exclusive, &n.owner))
        return;
    /* §9.10.4: an unmapped URL is reserved (see the top of the file), 201 */
    bool exists = r->t == DR_OBJ ? r->obj_id[0] != 0 : r->t != DR_COLL || r->coll;
    snprintf(n.path, sizeof n.path, "%s", path);
    char uuid[37];
    util_uuid4(uuid);
    snprintf(n.token, sizeof n.token, TOKEN_PREFIX "%s", uuid);
    struct install in = {.n = &n};
    int rc = with_locks_written(x, install_fn, &in);
    if (rc == 423) /* §9.10.6: no-conflicting-lock with the conflicting lock's root */
        dav_error(x, 423, NS_DAV, "no-conflicting-lock", in.conflict);
    else if (rc == 503)
        dav_reply(x, 503, "text/plain", xstrdup("too many locks\n"));
    else if (rc)
        dav_reply(x, 503, "text/plain", xstrdup("database unavailable\n"));
    else
        lock_answer(x, &n, exists ? 200 : 201);
    free(n.owner);
}

static int unlock_fn(struct dav_ctx *x, struct dav_locks *s, void *ud)
{
    const char *const *tp = ud; /* token, path */
    struct lock *l = by_token(s, tp[0]);
    if (!l || !covers(l, tp[1]))
        return 409;
    if (l->user_id != user_of(x))
        return 403;
    return store_davlock_del(x->c, l->token) == STORE_OK ? 0 : -1;
}

void dav_unlock(struct dav_ctx *x)
{
    const char *h = x->q->lock_token;
    size_t n = h ? strlen(h) : 0;
    if (n < 3 || h[0] != '<' || h[n - 1] != '>' || n - 2 >= 64) {
        dav_reply(x, 400, "text/plain", xstrdup("UNLOCK needs a Lock-Token header\n"));
        return;
    }
    char token[64], path[LOCK_PATH];
    snprintf(token, sizeof token, "%.*s", (int)(n - 2), h + 1);
    norm(x->q->path, path);
    const char *tp[2] = {token, path};
    int status = with_locks_written(x, unlock_fn, tp);
    if (status == 409) /* §9.11.1 */
        dav_error(x, 409, NS_DAV, "lock-token-matches-request-uri", NULL);
    else if (status == 403)
        dav_need_privilege(x, NULL, false, NS_DAV, "unlock"); /* RFC 3744 §3.5 */
    else if (status)
        dav_reply(x, 503, "text/plain", xstrdup("database unavailable\n"));
    else
        dav_reply(x, 204, NULL, NULL);
}
