/*
 * eventsource.c — the push endpoint (RFC 8620 §7.3): a text/event-stream
 * response fed by a push_sub. Idle connections are suspended in libmicrohttpd
 * (no thread each) and resumed by the hub when a StateChange or a ping is due.
 * A stream ends within a second when its credential is revoked, the password changes or
 * the user is removed, and its connection is dropped soon after the client closes it.
 * Query variables: types (comma list or "*"), closeafter (state|no), ping
 * (seconds, 0 = none), and access_token for clients that cannot set headers.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http/auth.h"
#include "http/internal.h"
#include "jmap/engine.h"
#include "push/hub.h"

#define PING_MIN 1
#define PING_MAX 3600

struct sse {
    struct MHD_Connection *conn;
    int fd; /* the connection's socket, to notice a client that has gone */
    struct push_sub *sub;
    struct buf out;
    size_t off;
    bool close_after_state, done;
    bool full_sent; /* the first StateChange lists every type; later ones what changed */
    int ping;
    struct jmap_server *srv;
    int64_t user_id;       /* whose accounts the stream covers (loaded when needed: a
                              jmap_user is 13 kB, most of an idle stream's memory) */
    uint64_t generation;   /* jmap_accounts_generation() when the accounts were set */
    json_t *types;         /* the types filter, NULL for all */
};

static json_t *current_states(struct store_conn *sc, const struct jmap_user *u, json_t *types);

/* The first StateChange of a stream, whatever caused it, carries the current state of
 * every registered type the filter lets through in every account the user can see
 * (RFC 8620 §7.1 TypeState; issue 12 §1.7): a client that (re)connects learns of any
 * type that changed while it was away, contacts included. Takes text; returns the
 * text to send. */
static char *sse_first_state(struct sse *e, char *text)
{
    struct store_conn *sc = store_conn(e->srv->store);
    struct jmap_user *u = xmalloc(sizeof *u);
    if (!sc || jmap_user_load(sc, e->user_id, u) != STORE_OK) {
        free(u);
        return text; /* the change itself is still worth sending */
    }
    json_t *sc_obj =
        json_pack("{s:s, s:o}", "@type", "StateChange", "changed", current_states(sc, u, e->types));
    free(u);
    char *full = json_dumps(sc_obj, JSON_COMPACT);
    json_decref(sc_obj);
    if (!full)
        return text;
    free(text);
    return full;
}

static void sse_wake(void *ud)
{
    struct sse *e = ud;
    MHD_resume_connection(e->conn);
}

static void sse_arm(void *ud)
{
    struct sse *e = ud;
    MHD_suspend_connection(e->conn);
}

/* A suspended connection is not polled by libmicrohttpd, so a client that closes its
 * end would be noticed only at the next write (the keep-alive, minutes away) and hold a
 * descriptor and a place in max_eventsource meanwhile (issue 19 §9). The hub's timer
 * asks this every tick: an orderly close reads as end of file, a reset or a failed
 * TCP keep-alive probe as an error. Pipelined bytes the client sent read as alive. */
static bool sse_gone(void *ud)
{
    struct sse *e = ud;
    if (e->fd < 0)
        return false;
    char b;
    ssize_t n = recv(e->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* TCP keep-alive probes find a peer that vanished without closing (a lost network):
 * after a minute of silence, three probes ten seconds apart. */
static void sse_keepalive(int fd)
{
    int on = 1, idle = 60, intvl = 10, cnt = 3;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

/* The hub's credential check (push_hub_set_check), on its timer thread. */
static enum push_cred sse_check_cred(const char *cred, void *ud)
{
    struct jmap_server *srv = ud;
    struct store_conn *sc = store_conn(srv->store);
    enum auth_result r = sc ? auth_credential_valid(sc, cred) : AUTH_ERROR;
    return r == AUTH_OK ? PUSH_CRED_OK : r == AUTH_FAILED ? PUSH_CRED_GONE : PUSH_CRED_UNKNOWN;
}

/* Who may use which account changed since the stream's accounts were read (a share
 * given or taken, issue 14): read them again, so an account the user lost sends
 * nothing more, not even what is pending (RFC 8620 §7.1: "accounts to which the user
 * has access"). */
static void sse_accounts_again(struct sse *e)
{
    uint64_t g = jmap_accounts_generation();
    if (g == e->generation)
        return;
    struct store_conn *sc = store_conn(e->srv->store);
    struct jmap_user *u = xmalloc(sizeof *u);
    if (sc && jmap_user_load(sc, e->user_id, u) == STORE_OK) {
        const char *accounts[JMAP_MAX_ACCOUNTS];
        for (int i = 0; i < u->naccounts; i++)
            accounts[i] = u->accounts[i].account_id;
        push_sub_set_accounts(e->sub, accounts, u->naccounts);
        e->generation = g;
    }
    free(u);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sse *e = cls;
    if (e->off >= e->out.len) {
        e->out.len = e->off = 0;
        if (e->done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        char *text = NULL;
        uint64_t id = 0;
        sse_accounts_again(e);
        switch (push_sub_next(e->sub, &text, &id, sse_arm, e)) {
        case PUSH_STATE:
            if (!e->full_sent)
                text = sse_first_state(e, text);
            e->full_sent = true;
            buf_printf(&e->out, "event: state\nid: %" PRIu64 "\ndata: %s\n\n", id, text);
            free(text);
            e->done = e->close_after_state; /* closeafter=state: end after this event */
            break;
        case PUSH_ALERT:
            /* calendars-27 §6.4: an event called "calendarAlert" */
            buf_printf(&e->out, "event: calendarAlert\ndata: %s\n\n", text);
            free(text);
            break;
        case PUSH_PING:
            /* §7.3: the ping's data is {"interval": seconds}; it sets no event id */
            buf_printf(&e->out, "event: ping\ndata: {\"interval\":%d}\n\n", e->ping);
            break;
        case PUSH_KEEPALIVE:
            buf_puts(&e->out, ":\n\n"); /* a comment: clients ignore it */
            break;
        case PUSH_CLOSED:
            return MHD_CONTENT_READER_END_OF_STREAM;
        case PUSH_GONE:
            return MHD_CONTENT_READER_END_WITH_ERROR; /* drop the connection */
        case PUSH_WAIT:
            return 0; /* suspended until the hub wakes us */
        }
    }
    size_t n = e->out.len - e->off;
    if (n > max)
        n = max;
    memcpy(buf, e->out.data + e->off, n);
    e->off += n;
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    struct sse *e = cls;
    push_sub_free(e->sub);
    json_decref(e->types);
    buf_free(&e->out);
    free(e);
}

/* The current state of every type in the user's accounts, as a StateChange's
 * "changed" map: the first event of a stream, and sent at once when a client
 * reconnects with Last-Event-ID. The types are every registered data type the
 * filter lets through (RFC 8620 §7.1 TypeState). */
static json_t *current_states(struct store_conn *sc, const struct jmap_user *u, json_t *types)
{
    json_t *changed = json_object();
    /* the states as this user sees them (another user's private metadata writes do
     * not move them: draft-ietf-jmap-metadata-02 §2.2) */
    struct jmap_req as_user = {.conn = sc, .user = u};
    for (int i = 0; i < u->naccounts; i++) {
        json_t *acct = json_object();
        for (size_t k = 0; k < jmap_type_count(); k++) {
            const struct jtype *type = jmap_type_at(k);
            const char *name = type->name;
            bool wanted = !types;
            size_t j;
            json_t *t;
            json_array_foreach(types, j, t)
            {
                wanted |= strcmp(json_string_value(t), name) == 0;
            }
            if (wanted)
                json_object_set_new(
                    acct, name,
                    jmap_state_string(jmap_type_state(&as_user, type, u->accounts[i].account_id)));
        }
        json_object_set_new(changed, u->accounts[i].account_id, acct);
    }
    return changed;
}

enum MHD_Result http_eventsource(struct http_server *h, struct MHD_Connection *c,
                                 struct http_req *rq, int64_t user_id)
{
    const char *types = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "types");
    const char *closeafter = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "closeafter");
    const char *ping = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ping");
    if (!types || !*types)
        types = "*";
    if (!closeafter || !*closeafter)
        closeafter = "no";
    if (strcmp(closeafter, "state") && strcmp(closeafter, "no"))
        return http_problem(c, rq, 400, "about:blank", "closeafter must be 'state' or 'no'", NULL);
    long ping_s = 0;
    if (ping && *ping) {
        char *end;
        ping_s = strtol(ping, &end, 10);
        if (*end || ping_s < 0 || !isdigit((unsigned char)ping[0]))
            return http_problem(c, rq, 400, "about:blank", "ping must be a non-negative integer",
                                NULL);
        if (ping_s > 0 && ping_s < PING_MIN)
            ping_s = PING_MIN;
        if (ping_s > PING_MAX)
            ping_s = PING_MAX; /* §7.3 allows clamping, within [<=30, >=300] */
    }
    json_t *type_list = NULL;
    if (strcmp(types, "*") != 0) {
        type_list = json_array();
        char *copy = xstrdup(types), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
            json_array_append_new(type_list, json_string(t));
        free(copy);
        if (!json_array_size(type_list)) {
            json_decref(type_list);
            return http_problem(c, rq, 400, "about:blank", "types must list type names or '*'",
                                NULL);
        }
    }
    struct store_conn *sc = store_conn(h->srv->store);
    struct jmap_user u;
    uint64_t generation = jmap_accounts_generation(); /* before the read: a change after it shows */
    if (!sc || jmap_user_load(sc, user_id, &u) != STORE_OK) {
        json_decref(type_list);
        return http_problem(c, rq, 401, "about:blank", "the user no longer exists", NULL);
    }
    if (push_hub_count_user(h->srv->hub, user_id) >= h->srv->cfg->max_eventsource) {
        json_decref(type_list);
        return http_problem(c, rq, 429, "about:blank", "too many push connections", NULL);
    }
    const char *accounts[JMAP_MAX_ACCOUNTS];
    for (int i = 0; i < u.naccounts; i++)
        accounts[i] = u.accounts[i].account_id;
    char cred[AUTH_CRED_KEY_LEN];
    if (!auth_credential_key(sc, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
                             MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "access_token"),
                             user_id, cred)) {
        json_decref(type_list);
        return http_problem(c, rq, 401, "about:blank", "the user no longer exists", NULL);
    }
    struct sse *e = xcalloc(1, sizeof *e);
    e->conn = c;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    e->fd = ci ? ci->connect_fd : -1;
    if (e->fd >= 0)
        sse_keepalive(e->fd);
    e->ping = (int)ping_s;
    e->srv = h->srv;
    e->user_id = user_id;
    e->generation = generation;
    e->types = json_incref(type_list);
    e->close_after_state = strcmp(closeafter, "state") == 0;
    e->sub = push_sub_new(h->srv->hub, user_id, accounts, u.naccounts, type_list, e->ping, sse_wake,
                          e);
    push_hub_set_check(h->srv->hub, sse_check_cred, h->srv);
    push_sub_watch(e->sub, cred, sse_gone);
    /* §7.3: a client that reconnects with Last-Event-ID may have missed changes;
     * send the current states at once. */
    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID")) {
        json_t *changed = current_states(sc, &u, type_list);
        push_sub_prime(e->sub, changed);
        json_decref(changed);
    }
    json_decref(type_list);
    buf_puts(&e->out, ": jmapd event stream\n\n"); /* gets the headers out now */
    /* blocks of 1 kB: the block is allocated with the response, for the life of an idle
     * stream (4 kB made 1,000 idle streams 3 MB larger); a larger event takes more */
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, sse_read, e, sse_free);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    return http_queue(c, rq, 200, r);
}
