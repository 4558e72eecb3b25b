/*
 * dav_quick.c — which DAV requests are answered on the connection's own thread (issue
 * 20), as http/ does for quick JMAP calls (jmap_api_quick): the hand-over to an API
 * worker and back (the suspend, two thread wake-ups, the resume) was a tenth of a
 * calendar-multiget's wall clock. Only reads (GET, HEAD, PROPFIND Depth 0 or 1, REPORT)
 * with a small body on the in-process store, and only while the late requests of their
 * kind took under quick_read_us (config, 1 ms): what one holds up on that thread (its
 * other connections) is bounded by about as much. A kind's cost is noted by dav_handle wherever it
 * runs.
 */
#include "dav/dav_internal.h"
#include "store/store.h"
#include "util/cost.h"

/* The largest body of a quick request: a calendar-multiget of ~150 hrefs (the work of a
 * multiget grows with its hrefs, not with the collection). */
#define DAV_QUICK_BODY 16384

enum quick_kind {
    QK_GET,          /* GET or HEAD: one resource, or a collection's short note */
    QK_PROPFIND0,    /* PROPFIND Depth 0: one resource's properties */
    QK_PROPFIND1,    /* PROPFIND Depth 1: a collection's members */
    QK_MULTIGET,     /* calendar-multiget, addressbook-multiget (RFC 4791 §7.9, 6352 §8.7) */
    QK_SYNC_INITIAL, /* sync-collection without a token: every member (RFC 6578 §3.8) */
    QK_SYNC_CHANGES, /* sync-collection since a token: the changes */
    QK_QUERY,        /* calendar-query, addressbook-query */
    QK_OTHER_REPORT, /* free-busy-query, the principal reports */
    QK_N,
    QK_NONE = -1, /* a write, a Depth infinity, or not worth guessing */
};

static int64_t costs[QK_N]; /* ns, util_cost_note; 0 until a request of the kind ran */

static bool method_is(const struct dav_request *q, const char *m)
{
    return strcmp(q->method, m) == 0;
}

/* The local name of the body's root element (after an XML declaration, comments and
 * white space) into out; false when there is none within the body. */
static bool root_name(const char *b, size_t len, char *out, size_t size)
{
    const char *end = b + len;
    for (;;) {
        while (b < end && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n'))
            b++;
        if (b + 1 >= end || *b != '<')
            return false;
        if (b[1] != '?' && b[1] != '!')
            break;
        const char *close = memchr(b, '>', (size_t)(end - b)); /* "<?xml ...?>", "<!-- -->" */
        if (!close)
            return false;
        b = close + 1;
    }
    const char *name = ++b;
    while (b < end && *b != ' ' && *b != '>' && *b != '/' && *b != '\t' && *b != '\r' && *b != '\n')
        if (*b++ == ':')
            name = b;
    size_t n = (size_t)(b - name);
    if (!n || n >= size)
        return false;
    memcpy(out, name, n);
    out[n] = 0;
    return true;
}

/* Whether a sync-collection body carries a sync-token with a value. */
static bool has_token(const char *b, size_t len)
{
    const char *t = memmem(b, len, "sync-token", 10);
    if (!t)
        return false;
    const char *close = memchr(t, '>', len - (size_t)(t - b));
    return close && close[-1] != '/' && close + 1 < b + len && close[1] != '<';
}

static enum quick_kind kind_of(const struct dav_request *q)
{
    if (method_is(q, "GET") || method_is(q, "HEAD"))
        return QK_GET;
    if (method_is(q, "PROPFIND") && q->depth)
        return strcmp(q->depth, "0") == 0   ? QK_PROPFIND0
               : strcmp(q->depth, "1") == 0 ? QK_PROPFIND1
                                            : QK_NONE;
    char root[40];
    if (!method_is(q, "REPORT") || !q->body || !root_name(q->body, q->len, root, sizeof root))
        return QK_NONE;
    if (strcmp(root, "calendar-multiget") == 0 || strcmp(root, "addressbook-multiget") == 0)
        return QK_MULTIGET;
    if (strcmp(root, "sync-collection") == 0)
        return has_token(q->body, q->len) ? QK_SYNC_CHANGES : QK_SYNC_INITIAL;
    if (strcmp(root, "calendar-query") == 0 || strcmp(root, "addressbook-query") == 0)
        return QK_QUERY;
    return QK_OTHER_REPORT;
}

bool dav_quick(struct jmap_server *srv, const struct dav_request *q)
{
    /* on a store in another process each read waits for its round trips */
    if (q->too_large || q->len > DAV_QUICK_BODY ||
        strcmp(store_backend_name(srv->store), "sqlite") != 0)
        return false;
    enum quick_kind k = kind_of(q);
    if (k == QK_NONE)
        return false;
    int64_t cost = util_cost(&costs[k]);
    /* unknown until a worker has run one; quick_read_us as for JMAP's /get and /query */
    return cost > 0 && cost <= srv->cfg->quick_read_us * 1000;
}

void dav_quick_note(const struct dav_request *q, int64_t took_ns)
{
    enum quick_kind k = kind_of(q);
    if (k != QK_NONE)
        util_cost_note(&costs[k], took_ns);
}
