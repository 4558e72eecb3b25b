/*
 * fetch.c — the outbound feed fetcher (fetch.h). The address policy runs in
 * libcurl's open-socket callback, so it sees every address curl connects to:
 * each one a name resolves to, and each redirect's target (issue 17 §5).
 */
#include "feeds/fetch.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/util.h"

/* ---- the address policy ------------------------------------------------------------ */

/* Whether the first bits of a and b (len bytes each) agree. */
static bool prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    if (!rest)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* Whether the address (family, bytes) is in one of the CIDR ranges of list. */
static bool in_cidr_list(int family, const unsigned char *addr, const char *list)
{
    if (!list)
        return false;
    char *copy = xstrdup(list), *save = NULL;
    bool hit = false;
    for (char *tok = strtok_r(copy, ", \t", &save); tok && !hit;
         tok = strtok_r(NULL, ", \t", &save)) {
        char *slash = strchr(tok, '/');
        int bits = -1;
        if (slash) {
            *slash = 0;
            bits = atoi(slash + 1);
        }
        unsigned char net[16];
        if (family == AF_INET && inet_pton(AF_INET, tok, net) == 1)
            hit = prefix_match(addr, net, bits < 0 || bits > 32 ? 32 : bits);
        else if (family == AF_INET6 && inet_pton(AF_INET6, tok, net) == 1)
            hit = prefix_match(addr, net, bits < 0 || bits > 128 ? 128 : bits);
    }
    free(copy);
    return hit;
}

/* The ranges no feed may come from by default: loopback, "this network", private
 * (RFC 1918), shared (RFC 6598), link-local, multicast, reserved and broadcast;
 * for IPv6 the unspecified and loopback addresses, unique-local, link-local,
 * multicast, and IPv4-mapped addresses of the IPv4 ranges. */
static const char denied_v4[] = "0.0.0.0/8,10.0.0.0/8,100.64.0.0/10,127.0.0.0/8,169.254.0.0/16,"
                                "172.16.0.0/12,192.0.0.0/24,192.168.0.0/16,198.18.0.0/15,"
                                "224.0.0.0/4,240.0.0.0/4";
static const char denied_v6[] = "::/128,::1/128,fc00::/7,fe80::/10,ff00::/8,64:ff9b::/96";

bool fetch_address_allowed(const void *sockaddr, const char *allow)
{
    const struct sockaddr *sa = sockaddr;
    unsigned char b[16];
    int family = sa->sa_family;
    if (family == AF_INET) {
        memcpy(b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (family == AF_INET6) {
        memcpy(b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(b, mapped, 12) == 0) { /* ::ffff:a.b.c.d is a.b.c.d */
            memmove(b, b + 12, 4);
            family = AF_INET;
        }
    } else {
        return false;
    }
    if (in_cidr_list(family, b, allow))
        return true;
    return !in_cidr_list(family, b, family == AF_INET ? denied_v4 : denied_v6);
}

/* ---- one transfer --------------------------------------------------------------------- */

struct xfer {
    const struct fetch_opts *o;
    struct buf body;
    bool too_large;
    char denied[INET6_ADDRSTRLEN];
    char *etag, *last_modified, *sync_token, *applied;
    struct buf link; /* every Link field of the last answer, joined by ", " */
};

static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct xfer *x = ud;
    (void)purpose;
    if (!fetch_address_allowed(&a->addr, x->o->allow)) {
        const void *ip = a->family == AF_INET6
                             ? (const void *)&((struct sockaddr_in6 *)&a->addr)->sin6_addr
                             : (const void *)&((struct sockaddr_in *)&a->addr)->sin_addr;
        inet_ntop(a->family, ip, x->denied, sizeof x->denied);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if ((int64_t)(x->body.len + len) > x->o->max_size) {
        x->too_large = true;
        return 0; /* aborts the transfer */
    }
    buf_append(&x->body, data, len);
    return len;
}

/* A header's value (trimmed) into *out, replacing an earlier one (a redirect's). */
static void take_header(const char *line, size_t len, const char *name, char **out)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0)
        return;
    const char *v = line + nl, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    free(*out);
    *out = xstrndup(v, (size_t)(end - v));
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    take_header(data, len, "ETag:", &x->etag);
    take_header(data, len, "Last-Modified:", &x->last_modified);
    take_header(data, len, "Sync-Token:", &x->sync_token);
    take_header(data, len, "Preference-Applied:", &x->applied);
    if (len > 5 && strncasecmp(data, "HTTP/", 5) == 0) {
        x->link.len = 0; /* a new answer (after a redirect): its own links only */
    } else {
        char *link = NULL;
        take_header(data, len, "Link:", &link);
        if (link) {
            if (x->link.len)
                buf_puts(&x->link, ", ");
            buf_puts(&x->link, link);
        }
        free(link);
    }
    return len;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The error of a failed transfer, in words a user can act on. */
static char *transfer_error(CURLcode rc, struct xfer *x, const char *curl_msg)
{
    if (x->denied[0])
        return xasprintf("address %s is not allowed (private, loopback, link-local or "
                         "multicast; see fetch_allow)",
                         x->denied);
    if (x->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return xasprintf("the feed is larger than %lld bytes", (long long)x->o->max_size);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return xasprintf("timed out after %lld s", (long long)x->o->timeout);
    if (rc == CURLE_TOO_MANY_REDIRECTS)
        return xasprintf("more than %lld redirects", (long long)x->o->max_redirects);
    return xasprintf("%s", curl_msg[0] ? curl_msg : curl_easy_strerror(rc));
}

/* The request's header fields: a GET of a feed asks for Enhanced GET (with its
 * token, §3.1) and is conditional; a DAV request (dav set) names its body's type
 * and its Depth (RFC 4918 §10.2). */
static struct curl_slist *request_headers(const struct fetch_opts *o, const struct fetch_dav *dav)
{
    struct curl_slist *hdr = NULL;
    char *line;
    if (dav) {
        hdr = curl_slist_append(hdr, "Accept: application/xml, text/xml;q=0.9, */*;q=0.5");
        hdr = curl_slist_append(hdr, "Content-Type: application/xml; charset=utf-8");
        line = xasprintf("Depth: %s", dav->depth ? dav->depth : "0");
        hdr = curl_slist_append(hdr, line);
        free(line);
        return hdr;
    }
    hdr = curl_slist_append(hdr, "Accept: text/calendar, */*;q=0.5");
    line = o->limit > 0 ? xasprintf("Prefer: subscribe-enhanced-get, limit=%lld",
                                    (long long)o->limit) /* §3.3, §6.2 */
                        : xstrdup("Prefer: subscribe-enhanced-get");
    hdr = curl_slist_append(hdr, line);
    free(line);
    if (o->sync_token && o->sync_token[0]) {
        line = xasprintf("Sync-Token: %s", o->sync_token);
        hdr = curl_slist_append(hdr, line);
        free(line);
    }
    if (o->etag && o->etag[0]) {
        line = xasprintf("If-None-Match: %s", o->etag);
        hdr = curl_slist_append(hdr, line);
        free(line);
    }
    if (o->last_modified && o->last_modified[0]) {
        line = xasprintf("If-Modified-Since: %s", o->last_modified);
        hdr = curl_slist_append(hdr, line);
        free(line);
    }
    return hdr;
}

int fetch_request(const char *url, const struct fetch_opts *o, const struct fetch_dav *dav,
                  struct fetch_result *res)
{
    memset(res, 0, sizeof *res);
    pthread_once(&curl_once, curl_init_once);
    char *u = strncasecmp(url, "webcal://", 9) == 0     ? xasprintf("https://%s", url + 9)
              : strncasecmp(url, "webcals://", 10) == 0 ? xasprintf("https://%s", url + 10)
                                                        : xstrdup(url);
    if (strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8)) {
        res->error = xstrdup("only http, https and webcal URLs can be fetched");
        free(u);
        return -1;
    }
    CURL *h = curl_easy_init();
    struct xfer x = {.o = o};
    char msg[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdr = request_headers(o, dav);
    curl_easy_setopt(h, CURLOPT_URL, u);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    if (dav) { /* REPORT, PROPFIND: kept across redirects (curl keeps a custom method) */
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, dav->method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, dav->body ? dav->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(dav->body ? strlen(dav->body) : 0));
    }
    curl_easy_setopt(h, CURLOPT_USERAGENT, "jmapd");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)o->max_redirects);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* the policy must see the real peer */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->timeout * 1000));
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, msg);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    int out = -1;
    /* a DAV request's answer is kept whatever its status: a 403's body names the
     * precondition that failed (RFC 6578 §3.2 DAV:valid-sync-token) */
    bool keep = status == 200 || (dav && status >= 200 && status < 500);
    if (rc != CURLE_OK) {
        res->error = transfer_error(rc, &x, msg);
    } else if (status == 304 && !dav) {
        out = 0;
    } else {
        if (!(status == 200 || (dav && status == 207)))
            res->error = xasprintf("HTTP status %ld", status);
        else
            out = 0;
        if (keep) {
            res->len = x.body.len;
            buf_append(&x.body, "", 1);
            res->body = buf_take(&x.body);
        }
    }
    res->status = rc == CURLE_OK ? status : 0;
    res->etag = x.etag;
    res->last_modified = x.last_modified;
    res->sync_token = x.sync_token;
    res->enhanced = x.applied && strcasestr(x.applied, "subscribe-enhanced-get");
    res->truncated = res->enhanced && strcasestr(x.applied, "limit");
    char *eff = NULL;
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
    res->url = xstrdup(eff ? eff : u);
    if (x.link.len) {
        buf_append(&x.link, "", 1);
        res->link = buf_take(&x.link);
    }
    buf_free(&x.link);
    free(x.applied);
    buf_free(&x.body);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    free(u);
    return out;
}

int fetch_get(const char *url, const struct fetch_opts *o, struct fetch_result *res)
{
    return fetch_request(url, o, NULL, res);
}

/* RFC 8288 §3: whether the parameters of one link-value (the text after its '>',
 * up to the next link-value) carry rel in their rel list (quoted or bare, space
 * separated). */
static bool link_has_rel(const char *params, const char *rel)
{
    char *copy = xstrdup(params), *save = NULL;
    bool found = false;
    for (char *p = strtok_r(copy, ";", &save); p && !found; p = strtok_r(NULL, ";", &save)) {
        p += strspn(p, " \t");
        if (strncasecmp(p, "rel", 3) != 0)
            continue;
        p += 3 + strspn(p + 3, " \t");
        if (*p++ != '=')
            continue;
        p += strspn(p, " \t\"");
        p[strcspn(p, "\",")] = 0; /* the value ends at its quote or the link's comma */
        char *save2 = NULL;
        for (char *w = strtok_r(p, " \t", &save2); w && !found; w = strtok_r(NULL, " \t", &save2))
            found = strcasecmp(w, rel) == 0;
    }
    free(copy);
    return found;
}

char *fetch_link_target(const char *link, const char *rel, const char *base)
{
    for (const char *p = link ? strchr(link, '<') : NULL; p;) {
        const char *gt = strchr(p, '>');
        if (!gt)
            return NULL;
        const char *next = strchr(gt, '<');
        char *params = xstrndup(gt + 1, next ? (size_t)(next - gt - 1) : strlen(gt + 1));
        bool match = link_has_rel(params, rel);
        free(params);
        if (!match) {
            p = next;
            continue;
        }
        char *ref = xstrndup(p + 1, (size_t)(gt - p - 1));
        CURLU *cu = curl_url();
        char *out = NULL, *abs = NULL;
        if (curl_url_set(cu, CURLUPART_URL, base, 0) == CURLUE_OK &&
            curl_url_set(cu, CURLUPART_URL, ref, 0) == CURLUE_OK &&
            curl_url_get(cu, CURLUPART_URL, &abs, 0) == CURLUE_OK &&
            (strncasecmp(abs, "http://", 7) == 0 || strncasecmp(abs, "https://", 8) == 0))
            out = xstrdup(abs);
        curl_free(abs);
        curl_url_cleanup(cu);
        free(ref);
        return out;
    }
    return NULL;
}

void fetch_result_clear(struct fetch_result *res)
{
    free(res->url);
    free(res->link);
    free(res->body);
    free(res->etag);
    free(res->last_modified);
    free(res->sync_token);
    free(res->error);
    memset(res, 0, sizeof *res);
}

/* Scheme, host and port of u (a CURLU), lower-cased, as one text (malloc'd), or NULL. */
static char *origin_of(CURLU *u)
{
    char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        out = xasprintf("%s://%s:%s", scheme, host, port);
        for (char *p = out; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    return out;
}

char *fetch_resolve(const char *base, const char *ref, bool same_origin)
{
    CURLU *b = curl_url(), *r = curl_url();
    char *out = NULL, *abs = NULL, *ob = NULL, *orr = NULL;
    if (curl_url_set(b, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_set(r, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_set(r, CURLUPART_URL, ref, 0) != CURLUE_OK)
        goto done;
    ob = origin_of(b);
    orr = origin_of(r);
    bool same = ob && orr && strcmp(ob, orr) == 0;
    if (same_origin && !same)
        goto done;
    char *user = NULL, *pass = NULL, *ruser = NULL;
    /* the base's credentials go with the reference only to the same origin */
    if (same && curl_url_get(r, CURLUPART_USER, &ruser, 0) != CURLUE_OK &&
        curl_url_get(b, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        curl_url_set(r, CURLUPART_USER, user, 0);
        if (curl_url_get(b, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK)
            curl_url_set(r, CURLUPART_PASSWORD, pass, 0);
    }
    curl_free(user);
    curl_free(pass);
    curl_free(ruser);
    if (curl_url_get(r, CURLUPART_URL, &abs, 0) == CURLUE_OK &&
        (strncasecmp(abs, "http://", 7) == 0 || strncasecmp(abs, "https://", 8) == 0))
        out = xstrdup(abs);
done:
    curl_free(abs);
    free(ob);
    free(orr);
    curl_url_cleanup(b);
    curl_url_cleanup(r);
    return out;
}

bool fetch_url_has_credentials(const char *url)
{
    CURLU *u = curl_url();
    char *user = NULL;
    bool has = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
               curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK && user && *user;
    curl_free(user);
    curl_url_cleanup(u);
    return has;
}
