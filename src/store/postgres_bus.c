/*
 * postgres_bus.c — the bus between front ends of store.h (DESIGN.md §3) on PostgreSQL:
 * LISTEN/NOTIFY on connections of its own, beside the per-thread connections of
 * postgres.c.
 */
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/backend.h"
#include "store/postgres.h"
#include "util/util.h"

/* ---- the bus between front ends: LISTEN/NOTIFY ---------------------------------------
 * One channel per schema (jmapd.<schema>), so databases that share a server by schema
 * do not hear each other. A listening connection on a thread of its own hands other
 * processes' messages to the callback; messages carry the sender's random id so a
 * front end skips its own (it published them locally already). A lost listening
 * connection is reopened within a second; what was sent meanwhile is not lost: each
 * (re)opened listener reads every state (account, type, modseq) once LISTEN holds,
 * and after a reopening hands the callback, as one message, every state that moved
 * past what the listener knew (the states read when it opened, and those the messages
 * it received since named). A change may so be announced twice; clients compare
 * states (RFC 8620 §7.1), so a repeat costs one /changes that finds nothing. */

struct store_bus {
    char *url;
    char channel[160]; /* quoted identifier */
    char id[20];
    PGconn *listen, *send;
    pthread_mutex_t send_lock;
    pthread_t thread;
    int wake[2];
    void (*cb)(const char *msg, void *ud);
    void *ud;
    json_t *known;              /* accountId -> {type -> modseq}: what the listener has been told */
    pthread_mutex_t known_lock; /* known: the listener's thread and senders */
};

/* Records the states a message names ({accountId: {type: "modseq"}}) as known. */
static void note_known(struct store_bus *b, const char *msg)
{
    json_t *m = json_loads(msg, 0, NULL);
    pthread_mutex_lock(&b->known_lock);
    const char *acct, *type;
    json_t *types, *st;
    if (json_is_object(m))
        json_object_foreach(m, acct, types)
        {
            json_t *mine = json_object_get(b->known, acct);
            if (!mine && json_is_object(types))
                json_object_set_new(b->known, acct, mine = json_object());
            json_object_foreach(types, type, st)
            {
                long long v = json_is_string(st) ? strtoll(json_string_value(st), NULL, 10) : 0;
                if (v > json_integer_value(json_object_get(mine, type)))
                    json_object_set_new(mine, type, json_integer(v));
            }
        }
    pthread_mutex_unlock(&b->known_lock);
    json_decref(m);
}

/* Every state the new listener pg reads: the ones past what was known go to the
 * callback (after a reopening), and all become known. */
static bool catch_up(struct store_bus *b, PGconn *pg)
{
    PGresult *r = PQexec(pg, "SELECT account_id, type, modseq FROM states");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        log_error("postgresql: reading states after LISTEN: %s", PQerrorMessage(pg));
        PQclear(r);
        return false;
    }
    json_t *moved = json_object();
    pthread_mutex_lock(&b->known_lock);
    bool again = b->known != NULL;
    if (!b->known)
        b->known = json_object();
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        const char *acct = PQgetvalue(r, i, 0), *type = PQgetvalue(r, i, 1);
        long long v = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        json_t *mine = json_object_get(b->known, acct);
        if (!mine)
            json_object_set_new(b->known, acct, mine = json_object());
        if (v <= json_integer_value(json_object_get(mine, type)))
            continue;
        json_object_set_new(mine, type, json_integer(v));
        json_t *m = json_object_get(moved, acct);
        if (!m)
            json_object_set_new(moved, acct, m = json_object());
        char text[24];
        snprintf(text, sizeof text, "%lld", v);
        json_object_set_new(m, type, json_string(text));
    }
    pthread_mutex_unlock(&b->known_lock);
    PQclear(r);
    if (again && json_object_size(moved) > 0) {
        char *msg = json_dumps(moved, JSON_COMPACT);
        log_info("postgresql: listening again; %zu account(s) changed meanwhile",
                 json_object_size(moved));
        if (msg)
            b->cb(msg, b->ud);
        free(msg);
    }
    json_decref(moved);
    return true;
}

static PGconn *bus_listen(struct store_bus *b)
{
    PGconn *pg = store_pg_connect(b->url, NULL);
    if (!pg)
        return NULL;
    char sql[260];
    /* named, so that an operator (and the tests) can tell it from the others */
    snprintf(sql, sizeof sql, "SET application_name = 'jmapd listen'; LISTEN %s", b->channel);
    PGresult *r = PQexec(pg, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
        log_error("postgresql: %s", PQerrorMessage(pg));
    if (!ok || !catch_up(b, pg)) {
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

static void bus_deliver(struct store_bus *b)
{
    PGnotify *n;
    PQconsumeInput(b->listen);
    while ((n = PQnotifies(b->listen)) != NULL) {
        size_t idn = strlen(b->id);
        if (strncmp(n->extra, b->id, idn) != 0 || n->extra[idn] != ':') {
            const char *colon = strchr(n->extra, ':');
            if (colon) {
                note_known(b, colon + 1);
                b->cb(colon + 1, b->ud);
            }
        }
        PQfreemem(n);
    }
}

static void *bus_main(void *arg)
{
    struct store_bus *b = arg;
    for (;;) {
        if (!b->listen || PQstatus(b->listen) != CONNECTION_OK) {
            PQfinish(b->listen);
            b->listen = bus_listen(b);
        }
        struct pollfd fds[2] = {{.fd = b->wake[0], .events = POLLIN},
                                {.fd = b->listen ? PQsocket(b->listen) : -1, .events = POLLIN}};
        int n = poll(fds, 2, 1000);
        if (n > 0 && fds[0].revents)
            break;
        if (n > 0 && b->listen && fds[1].revents)
            bus_deliver(b);
    }
    return NULL;
}

struct store_bus *store_pg_bus_open(struct store *st, void (*cb)(const char *msg, void *ud),
                                    void *ud)
{
    struct store_bus *b = xcalloc(1, sizeof *b);
    b->url = xstrdup(store_pg_url(st));
    b->cb = cb;
    b->ud = ud;
    unsigned char rnd[8];
    util_random_bytes(rnd, sizeof rnd);
    for (int i = 0; i < 8; i++)
        snprintf(b->id + 2 * i, 3, "%02x", rnd[i]);
    b->send = store_pg_connect(b->url, NULL);
    PGresult *r = b->send ? PQexec(b->send, "SELECT current_schema()") : NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        char *name = xasprintf("jmapd.%s", PQgetvalue(r, 0, 0));
        char *q = PQescapeIdentifier(b->send, name, strlen(name));
        if (q)
            snprintf(b->channel, sizeof b->channel, "%s", q);
        PQfreemem(q);
        free(name);
    }
    PQclear(r);
    pthread_mutex_init(&b->send_lock, NULL);
    pthread_mutex_init(&b->known_lock, NULL);
    if (!b->channel[0] || pipe2(b->wake, O_CLOEXEC) != 0 ||
        pthread_create(&b->thread, NULL, bus_main, b) != 0) {
        log_error("postgresql: cannot start listening for other front ends");
        PQfinish(b->send);
        pthread_mutex_destroy(&b->send_lock);
        pthread_mutex_destroy(&b->known_lock);
        free(b->url);
        free(b);
        return NULL;
    }
    return b;
}

int store_pg_bus_send(struct store_bus *b, const char *msg)
{
    char *payload = xasprintf("%s:%s", b->id, msg);
    char *channel = xstrdup(b->channel + 1); /* pg_notify takes the name unquoted */
    channel[strlen(channel) - 1] = 0;
    const char *vals[2] = {channel, payload};
    pthread_mutex_lock(&b->send_lock);
    int rc = STORE_ERR;
    for (int attempt = 0; attempt < 2 && rc != STORE_OK; attempt++) {
        if (!b->send || PQstatus(b->send) != CONNECTION_OK) {
            PQfinish(b->send);
            b->send = store_pg_connect(b->url, NULL);
            if (!b->send)
                break;
        }
        PGresult *r =
            PQexecParams(b->send, "SELECT pg_notify($1, $2)", 2, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            rc = STORE_OK;
        else
            log_error("postgresql notify: %s", PQerrorMessage(b->send));
        PQclear(r);
    }
    pthread_mutex_unlock(&b->send_lock);
    if (rc == STORE_OK) /* this front end's own: not to be announced again */
        note_known(b, msg);
    free(channel);
    free(payload);
    return rc;
}

void store_pg_bus_close(struct store_bus *b)
{
    if (write(b->wake[1], "x", 1) != 1)
        log_error("postgresql: cannot stop the listener");
    pthread_join(b->thread, NULL);
    close(b->wake[0]);
    close(b->wake[1]);
    PQfinish(b->listen);
    PQfinish(b->send);
    pthread_mutex_destroy(&b->send_lock);
    pthread_mutex_destroy(&b->known_lock);
    json_decref(b->known);
    free(b->url);
    free(b);
}
