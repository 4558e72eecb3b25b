/* fuzz_dav_if.c — libFuzzer target over the parsers of DAV's lock headers (dav_lock.c):
 * the If header (RFC 4918 §10.4: tagged and untagged lists, Not, state tokens, ETags), the
 * Timeout header (§10.7) of a lock refresh and the Lock-Token header of UNLOCK (§10.5),
 * all untrusted text from the network. Two locks exist (an exclusive one on a member, a
 * shared one of depth infinity on another collection); "TOKEN" in the input is replaced by the
 * first lock's real token so the fuzzer reaches the paths of a matching token. The first
 * byte chooses the method and the request URI. Every answer must be one of the statuses
 * the code gives (and nothing may crash or leak). The locks are rows of a SQLite store
 * in a temporary directory (store.h "DAV write locks"), as in the server. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dav/dav_internal.h"
#include "store/store.h"

static char token[80];
static struct store_conn *conn;
static char dir[] = "/tmp/fuzz_dav_if.XXXXXX";

/* The store's directory goes at exit (its files: the database, its WAL, its bus). */
static void remove_dir(void)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char p[sizeof dir + 300];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* Runs the request of x in a read transaction, as dav_handle does. */
static void run(struct dav_ctx *x, void (*fn)(struct dav_ctx *x, void *ud), void *ud)
{
    x->c = conn;
    if (store_begin(conn, false) != STORE_OK)
        abort();
    fn(x, ud);
    store_rollback(conn);
    dav_locks_free(x->locks);
    x->locks = NULL;
}

static void do_lock(struct dav_ctx *x, void *ud)
{
    (void)ud;
    dav_lock(x, &(struct dav_res){.t = DR_ROOT});
}

static void do_unlock(struct dav_ctx *x, void *ud)
{
    (void)ud;
    dav_unlock(x);
}

static void do_check(struct dav_ctx *x, void *ud)
{
    *(bool *)ud = dav_lock_check(x, "\"7\"");
}

static const char *const methods[] = {"PUT",       "DELETE", "MOVE", "COPY",
                                      "PROPPATCH", "GET",    "LOCK", "UNLOCK"};
static const char *const paths[] = {"/dav/calendars/A1/cal/m.ics", "/dav/calendars/A1/cal/",
                                    "/dav/calendars/A1/other/x.ics", "/dav/calendars/A1/cal"};

static void lock_one(const char *path, const char *scope, const char *depth)
{
    char body[300];
    snprintf(body, sizeof body,
             "<d:lockinfo xmlns:d=\"DAV:\"><d:lockscope><d:%s/></d:lockscope><d:locktype>"
             "<d:write/></d:locktype><d:owner>fuzz</d:owner></d:lockinfo>",
             scope);
    struct dav_request q = {.method = "LOCK",
                            .path = path,
                            .depth = depth,
                            .body = body,
                            .len = strlen(body),
                            .timeout = "Second-3600"};
    struct dav_response out = {0};
    struct dav_ctx x = {.q = &q, .out = &out};
    run(&x, do_lock, NULL);
    if (out.status != 200)
        abort();
    if (!token[0]) /* "<opaquelocktoken:...>" */
        snprintf(token, sizeof token, "%.*s", (int)strlen(out.lock_token) - 2, out.lock_token + 1);
    free(out.body);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *err = NULL;
    struct store *st = mkdtemp(dir) ? store_open(dir, &err) : NULL;
    atexit(remove_dir);
    if (!st || !(conn = store_conn(st))) {
        fprintf(stderr, "fuzz_dav_if: no store in %s: %s\n", dir, err ? err : "");
        abort();
    }
    lock_one(paths[0], "exclusive", "0");
    lock_one("/dav/calendars/A1/other/", "shared", "infinity");
    return 0;
}

/* The input with every "TOKEN" replaced by the real token (malloc'd, NUL-terminated). */
static char *with_token(const uint8_t *data, size_t size)
{
    size_t tl = strlen(token), cap = size * (tl > 5 ? tl : 5) / 5 + 1, o = 0;
    char *s = malloc(cap + tl);
    for (size_t i = 0; i < size; i++) {
        if (i + 5 <= size && memcmp(data + i, "TOKEN", 5) == 0) {
            memcpy(s + o, token, tl);
            o += tl;
            i += 4;
        } else {
            s[o++] = data[i] ? (char)data[i] : ' ';
        }
    }
    s[o] = 0;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    const char *method = methods[data[0] % 8];
    const char *path = paths[(data[0] >> 3) % 4];
    char *h = with_token(data + 1, size - 1);
    struct dav_request q = {.method = method,
                            .path = path,
                            .if_header = h,
                            .destination = "http://h/dav/calendars/A1/cal/d.ics",
                            .lock_token = h,
                            .timeout = h};
    struct dav_response out = {0};
    struct dav_ctx x = {.q = &q, .out = &out};
    bool ok = true;
    if (strcmp(method, "UNLOCK") == 0) {
        run(&x, do_unlock, NULL);
        if (out.status != 400 && out.status != 409 && out.status != 403 && out.status != 204)
            abort();
        if (out.status == 204) { /* the first lock went: a new one, with a new token */
            token[0] = 0;
            lock_one(paths[0], "exclusive", "0");
        }
    } else if (strcmp(method, "LOCK") == 0) {
        run(&x, do_lock, NULL); /* a refresh: no body */
        if (out.status != 200 && out.status != 412)
            abort();
    } else if ((run(&x, do_check, &ok), !ok)) {
        if (out.status != 400 && out.status != 412 && out.status != 423)
            abort();
    }
    free(out.body);
    free(h);
    return 0;
}
