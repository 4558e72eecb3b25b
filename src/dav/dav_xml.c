/*
 * dav_xml.c — XML for the DAV front end: request bodies parsed with libxml2 with
 * every external or expanding feature off (no DTD, no entity substitution, no
 * network: RFC 4918 §20.6 warns of both), nesting bounded, and the multistatus
 * responses (RFC 4918 §13) written as text with the namespaces declared once.
 */
#include <libxml/parser.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dav/dav_internal.h"
#include "util/answer_mem.h"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

/* The depth of the element tree below n, counting up to limit + 1. */
static int xml_depth(const xmlNode *n, int limit)
{
    int deepest = 0;
    for (const xmlNode *c = n; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        int d = limit > 0 ? 1 + xml_depth(c->children, limit - 1) : 1;
        if (d > deepest)
            deepest = d;
        if (deepest > limit)
            break;
    }
    return deepest;
}

/* Namespaces in XML 1.0 §7: every element name is an NCName (a prefix that was
 * declared, then a local name without ':' that does not start with a digit). libxml2
 * reports a violation as a warning and keeps the element, whose name a response would
 * then echo as XML that is not well-formed: such a body is refused instead. */
static bool names_ok(const xmlNode *n, int limit)
{
    for (const xmlNode *c = n; c && limit > 0; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (xmlValidateNCName(c->name, 0) != 0 || !names_ok(c->children, limit - 1))
            return false;
    }
    return true;
}

xmlDoc *dav_xml_parse(const char *body, size_t len, const char **why)
{
    pthread_once(&xml_once, xml_init);
    if (!body || len == 0) {
        *why = "the request needs an XML body";
        return NULL;
    }
    if (len > (size_t)DAV_MAX_RESOURCE * 4) {
        *why = "the XML body is too large";
        return NULL;
    }
    /* A DOCTYPE is where entities and external subsets come from: none is needed
     * by any DAV request, so none is accepted (billion laughs, XXE). */
    if (memmem(body, len, "<!DOCTYPE", 9) || memmem(body, len, "<!ENTITY", 8)) {
        *why = "document type declarations are not accepted";
        return NULL;
    }
    xmlDoc *d = xmlReadMemory(body, (int)len, NULL, NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                  XML_PARSE_NOCDATA);
    if (!d) {
        *why = "the body is not well-formed XML";
        return NULL;
    }
    if (d->intSubset || d->extSubset) {
        xmlFreeDoc(d);
        *why = "document type declarations are not accepted";
        return NULL;
    }
    if (xml_depth(xmlDocGetRootElement(d), DAV_XML_MAX_DEPTH) > DAV_XML_MAX_DEPTH) {
        xmlFreeDoc(d);
        *why = "the XML body is nested too deeply";
        return NULL;
    }
    if (!names_ok(xmlDocGetRootElement(d), DAV_XML_MAX_DEPTH + 1)) {
        xmlFreeDoc(d);
        *why = "the body is not namespace-well-formed XML (an element name is not an NCName)";
        return NULL;
    }
    return d;
}

bool dav_xml_is(const xmlNode *n, const char *ns, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

bool dav_xml_attr_is(const xmlNode *n, const char *attr, const char *value, bool caseless)
{
    xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)attr) : NULL;
    bool is =
        v && (caseless ? strcasecmp((const char *)v, value) : strcmp((const char *)v, value)) == 0;
    xmlFree(v);
    return is;
}

xmlNode *dav_xml_next(xmlNode *n)
{
    for (n = n ? n->next : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            return n;
    return NULL;
}

xmlNode *dav_xml_child(const xmlNode *n, const char *ns, const char *name)
{
    if (!n)
        return NULL;
    for (xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && (!ns || dav_xml_is(c, ns, name)))
            return c;
    return NULL;
}

void dav_xml_text(struct buf *b, const char *s)
{
    const char *p = s;
    while (p && *p) {
        /* runs of characters that need no escape go in one append */
        size_t n = 0;
        while (p[n] && p[n] != '<' && p[n] != '>' && p[n] != '&' && p[n] != '"' &&
               ((unsigned char)p[n] >= 0x20 || p[n] == '\t' || p[n] == '\n' || p[n] == '\r'))
            n++;
        buf_append(b, p, n);
        p += n;
        switch (*p) {
        case 0:
            return;
        case '<':
            buf_puts(b, "&lt;");
            break;
        case '>':
            buf_puts(b, "&gt;");
            break;
        case '&':
            buf_puts(b, "&amp;");
            break;
        case '"':
            buf_puts(b, "&quot;");
            break;
        default:
            buf_puts(b, "\xef\xbf\xbd"); /* XML 1.0 §2.2: no other C0 controls */
        }
        p++;
    }
}

/* RFC 3986 §3.3 pchar, and '/' separating segments ('&' is escaped for XML): a switch
 * the compiler makes a table of (a listing writes one href per member). */
static inline bool href_kept(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '/':
    case '-':
    case '.':
    case '_':
    case '~':
    case '!':
    case '$':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
        return true;
    default:
        return false;
    }
}

void dav_xml_href(struct buf *b, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)path;
    while (*p) {
        /* runs of kept characters go in one append */
        size_t n = 0;
        while (p[n] && href_kept(p[n]))
            n++;
        buf_append(b, p, n);
        p += n;
        if (*p) {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_append(b, e, 3);
            p++;
        }
    }
}

/* A multistatus of thousands of members (an initial sync, a Depth 1 listing: 1.3 MB at
 * 10,000 events) or of many resources' data (a multiget of 100: ~300 KB) starts in a
 * kept buffer (util/answer_mem.h: fresh pages cost a fault each; issue 20). */
static void body_take(struct buf *b)
{
    if (b->data)
        return;
    size_t size;
    char *p = answer_mem_take(&size);
    if (p) {
        b->data = p;
        b->cap = size;
        b->len = 0;
        b->data[0] = 0;
    }
}

void dav_ms_begin(struct buf *b)
{
    body_take(b);
    buf_puts(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\" "
                "xmlns:C=\"" NS_CALDAV "\" xmlns:CR=\"" NS_CARDDAV "\" xmlns:CS=\"" NS_CS
                "\" xmlns:A=\"" NS_APPLE "\">");
}

void dav_ms_end(struct buf *b)
{
    buf_puts(b, "</D:multistatus>\n");
}

static const char *ns_prefix(const char *ns)
{
    static const char *const known[][2] = {
        {NS_DAV, "D"}, {NS_CALDAV, "C"}, {NS_CARDDAV, "CR"}, {NS_CS, "CS"}, {NS_APPLE, "A"}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(ns, known[i][0]) == 0)
            return known[i][1];
    return NULL;
}

void dav_prop_open(struct buf *b, const char *ns, const char *name, bool empty)
{
    const char *p = ns_prefix(ns);
    buf_puts(b, "<");
    if (p) {
        buf_puts(b, p);
        buf_puts(b, ":");
        dav_xml_text(b, name);
    } else {
        /* another namespace: declared as X on the element itself */
        buf_puts(b, "X:");
        dav_xml_text(b, name);
        buf_puts(b, " xmlns:X=\"");
        dav_xml_text(b, ns);
        buf_puts(b, "\"");
    }
    buf_puts(b, empty ? "/>" : ">");
}

void dav_prop_close(struct buf *b, const char *ns, const char *name)
{
    const char *p = ns_prefix(ns);
    buf_puts(b, "</");
    buf_puts(b, p ? p : "X");
    buf_puts(b, ":");
    dav_xml_text(b, name);
    buf_puts(b, ">");
}

static void reply(struct dav_ctx *x, int status, const char *type, char *body, size_t len)
{
    free(x->out->body);
    x->out->status = status;
    x->out->content_type = type;
    x->out->body = body;
    x->out->len = len;
}

void dav_reply(struct dav_ctx *x, int status, const char *type, char *body)
{
    reply(x, status, type, body, body ? strlen(body) : 0);
}

void dav_reply_xml(struct dav_ctx *x, int status, struct buf *b)
{
    size_t len = b->len; /* an answer of megabytes is not measured again */
    reply(x, status, "application/xml; charset=utf-8", buf_take(b), len);
}

void dav_error(struct dav_ctx *x, int status, const char *ns, const char *pre, const char *href)
{
    if (!pre) {
        dav_reply(x, status, NULL, NULL);
        return;
    }
    struct buf b = {0};
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\" "
                 "xmlns:C=\"" NS_CALDAV "\" xmlns:CR=\"" NS_CARDDAV "\">");
    dav_prop_open(&b, ns, pre, !href);
    if (href) {
        buf_puts(&b, "<D:href>");
        dav_xml_href(&b, href);
        buf_puts(&b, "</D:href>");
        dav_prop_close(&b, ns, pre);
    }
    buf_puts(&b, "</D:error>\n");
    dav_reply_xml(x, status, &b);
}
