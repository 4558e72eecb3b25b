/*
 * sqlite_bus.c — messages between the processes of one SQLite data directory
 * (store.h's bus; PostgreSQL has LISTEN/NOTIFY, postgres_bus.c). The server and a
 * command run beside it (`jmapd subscribe --refresh` writes while the server runs,
 * issue 17) tell each other the states they committed, so the server's push hub
 * reaches its EventSource and WebSocket clients at once, not at their next request.
 * Each process that opens the bus binds a Unix datagram socket of its own in
 * DIR/bus/; a message goes to every other socket there (one datagram each; one whose
 * process has gone is removed). A thread of the bus receives. Nothing polls.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "store/backend.h"
#include "util/util.h"

#define BUS_DATAGRAM_MAX 65536

struct sq_bus {
    char *dir;     /* DIR/bus */
    char name[64]; /* our socket's file name in dir */
    int fd;        /* bound to dir/name */
    int wake[2];   /* closing: wakes the thread */
    void (*cb)(const char *msg, void *ud);
    void *ud;
    pthread_t thread;
    struct sq_bus *next; /* the open buses of this process */
};

/* The buses this process opened, so store.c can tell them from PostgreSQL's. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sq_bus *open_buses;

static bool address_of(const char *dir, const char *name, struct sockaddr_un *a)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    return snprintf(a->sun_path, sizeof a->sun_path, "%s/%s", dir, name) < (int)sizeof a->sun_path;
}

static void *bus_main(void *arg)
{
    struct sq_bus *b = arg;
    char *msg = xmalloc(BUS_DATAGRAM_MAX + 1);
    for (;;) {
        struct pollfd p[2] = {{b->fd, POLLIN, 0}, {b->wake[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        ssize_t n = recv(b->fd, msg, BUS_DATAGRAM_MAX, 0);
        if (n <= 0)
            continue;
        msg[n] = 0;
        b->cb(msg, b->ud);
    }
    free(msg);
    return NULL;
}

struct store_bus *store_sq_bus_open(const char *db_path, void (*cb)(const char *msg, void *ud),
                                    void *ud)
{
    struct sq_bus *b = xcalloc(1, sizeof *b);
    const char *slash = strrchr(db_path, '/');
    b->dir = slash ? xasprintf("%.*s/bus", (int)(slash - db_path), db_path) : xstrdup("bus");
    b->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    b->wake[0] = b->wake[1] = -1;
    b->cb = cb;
    b->ud = ud;
    unsigned r;
    util_random_bytes(&r, sizeof r);
    snprintf(b->name, sizeof b->name, "%ld-%08x.sock", (long)getpid(), r);
    struct sockaddr_un a;
    if (mkdir(b->dir, 0700) != 0 && errno != EEXIST) {
        log_warn("push across processes: cannot make %s: %s", b->dir, strerror(errno));
    } else if (!address_of(b->dir, b->name, &a)) {
        log_warn("push across processes: the path %s is too long for a socket", b->dir);
    } else if (b->fd >= 0 && bind(b->fd, (struct sockaddr *)&a, sizeof a) == 0 &&
               pipe2(b->wake, O_CLOEXEC) == 0 &&
               pthread_create(&b->thread, NULL, bus_main, b) == 0) {
        pthread_mutex_lock(&open_lock);
        b->next = open_buses;
        open_buses = b;
        pthread_mutex_unlock(&open_lock);
        return (struct store_bus *)b;
    } else {
        log_warn("push across processes: cannot listen in %s: %s", b->dir, strerror(errno));
    }
    if (b->wake[0] >= 0) {
        close(b->wake[0]);
        close(b->wake[1]);
    }
    if (b->fd >= 0)
        close(b->fd);
    free(b->dir);
    free(b);
    return NULL;
}

bool store_sq_bus_owns(struct store_bus *bus)
{
    pthread_mutex_lock(&open_lock);
    struct sq_bus *b = open_buses;
    while (b && (struct store_bus *)b != bus)
        b = b->next;
    pthread_mutex_unlock(&open_lock);
    return b != NULL;
}

int store_sq_bus_send(struct store_bus *bus, const char *msg)
{
    struct sq_bus *b = (struct sq_bus *)bus;
    size_t len = strlen(msg);
    if (len > BUS_DATAGRAM_MAX)
        return STORE_ERR;
    DIR *d = opendir(b->dir);
    if (!d)
        return STORE_ERR;
    struct dirent *e;
    while ((e = readdir(d))) {
        struct sockaddr_un a;
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".sock") || strcmp(e->d_name, b->name) == 0 ||
            !address_of(b->dir, e->d_name, &a))
            continue;
        if (sendto(b->fd, msg, len, MSG_DONTWAIT, (struct sockaddr *)&a, sizeof a) < 0 &&
            (errno == ECONNREFUSED || errno == ENOENT))
            unlink(a.sun_path); /* its process has gone */
    }
    closedir(d);
    return STORE_OK;
}

void store_sq_bus_close(struct store_bus *bus)
{
    struct sq_bus *b = (struct sq_bus *)bus;
    pthread_mutex_lock(&open_lock);
    for (struct sq_bus **p = &open_buses; *p; p = &(*p)->next)
        if (*p == b) {
            *p = b->next;
            break;
        }
    pthread_mutex_unlock(&open_lock);
    if (write(b->wake[1], "x", 1) < 0)
        log_warn("push across processes: cannot stop the bus thread");
    pthread_join(b->thread, NULL);
    struct sockaddr_un a;
    if (address_of(b->dir, b->name, &a))
        unlink(a.sun_path);
    close(b->fd);
    close(b->wake[0]);
    close(b->wake[1]);
    free(b->dir);
    free(b);
}
