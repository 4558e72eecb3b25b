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
 * connection is reopened within a second (what was sent meanwhile is missed: clients
 * resynchronise from their states, RFC 8620 §7.1). */

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
};

static PGconn *bus_listen(struct store_bus *b)
{
    PGconn *pg = store_pg_connect(b->url, NULL);
    if (!pg)
        return NULL;
    char sql[200];
    snprintf(sql, sizeof sql, "LISTEN %s", b->channel);
    PGresult *r = PQexec(pg, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        log_error("postgresql: %s", PQerrorMessage(pg));
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
            if (colon)
                b->cb(colon + 1, b->ud);
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
    if (!b->channel[0] || pipe2(b->wake, O_CLOEXEC) != 0 ||
        pthread_create(&b->thread, NULL, bus_main, b) != 0) {
        log_error("postgresql: cannot start listening for other front ends");
        PQfinish(b->send);
        pthread_mutex_destroy(&b->send_lock);
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
    free(b->url);
    free(b);
}
