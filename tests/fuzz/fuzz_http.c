/* fuzz_http.c — libFuzzer target over the HTTP front end: the input is the raw bytes
 * a client sends on one connection (request line, headers, framing, bodies, several
 * pipelined requests), played against the real server (libmicrohttpd, our routing,
 * authentication, framing checks and handlers) listening on loopback with a store on
 * tmpfs and one user u:pw. Whatever the server sends must start with an HTTP/1.x
 * status line; the sanitizers check the rest (the server's threads run in this
 * process). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_server.h"
#include "http/auth.h"
#include "http/server.h"
#include "util/util.h"

static struct config cfg;
static struct jmap_server srv;
static struct sockaddr_in addr;

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) ||
        getsockname(s, (struct sockaddr *)&a, &n))
        abort();
    close(s);
    return ntohs(a.sin_port);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    signal(SIGPIPE, SIG_IGN);
    log_set_level(LOG_ERROR);
    char dir[] = "/dev/shm/jmapd-fuzz-http-XXXXXX";
    config_defaults(&cfg);
    fuzz_server_open(&srv, &cfg, dir);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir); /* uploads spool there */
    int port = free_port();
    snprintf(cfg.listen, sizeof cfg.listen, "127.0.0.1:%d", port);
    snprintf(cfg.base_url, sizeof cfg.base_url, "http://127.0.0.1:%d", port);
    cfg.auth_fail_limit = 1000000000; /* the fuzzer fails many logins on purpose */
    cfg.max_size_upload = 1000000;
    cfg.max_size_request = 1000000;
    cfg.request_timeout = 5000;
    struct store_conn *c = store_conn(srv.store);
    char *hash = auth_hash_password("pw");
    store_begin(c, true);
    fuzz_user_add(&srv, c, "u", hash, "A1");
    store_commit(c);
    free(hash);
    char *err = NULL;
    if (!http_start(&srv, &err))
        abort();
    addr = (struct sockaddr_in){.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    return 0;
}

/* Reads the answer: the first bytes into head[16]; returns how many arrived. Ends at
 * the close, after 50 ms of silence once something arrived, or after a second of
 * silence: libmicrohttpd does not always notice a half-close that comes with the
 * bytes (an incomplete request then waits for the connection timeout), so silence
 * is not an error here; what the server sends and what the sanitizers see are. */
static size_t read_answer(int s, char head[16])
{
    size_t got = 0;
    for (;;) {
        struct pollfd p = {.fd = s, .events = POLLIN};
        int ready = poll(&p, 1, got ? 50 : 1000);
        if (ready == 0)
            return got;
        if (ready < 0)
            continue;
        char buf[4096];
        ssize_t n = recv(s, buf, sizeof buf, 0);
        if (n <= 0)
            return got; /* closed (or reset after an early answer) */
        for (ssize_t i = 0; i < n && got < 15; i++)
            head[got++] = buf[i];
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) != 0)
        abort();
    /* the server may answer and close before reading everything: stop sending then */
    for (size_t off = 0; off < size;) {
        ssize_t n = send(s, data + off, size - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    shutdown(s, SHUT_WR);
    char head[16] = {0};
    size_t got = read_answer(s, head);
    close(s);
    if (got >= 9 && memcmp(head, "HTTP/1.", 7) != 0) {
        fprintf(stderr, "the answer does not start with a status line: %.15s\n", head);
        abort();
    }
    return 0;
}
