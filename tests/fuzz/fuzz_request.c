/* fuzz_request.c — libFuzzer target over request parsing and dispatch: the input
 * is an API request body, run through jmap_api_handle() against a real store (on
 * tmpfs) with one user owning one account and sharing another. Every answer must
 * be a 200 response or a problem document, and always valid JSON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_server.h"

static struct config cfg;
static struct jmap_server srv;
static struct jmap_user user;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/dev/shm/jmapd-fuzz-XXXXXX";
    config_defaults(&cfg);
    cfg.max_objects_in_set = 50;
    cfg.max_objects_in_get = 50;
    fuzz_server_open(&srv, &cfg, dir);
    struct store_conn *c = store_conn(srv.store);
    store_begin(c, true);
    int64_t uid = fuzz_user_add(&srv, c, "u", "x", "A1");
    fuzz_user_add(&srv, c, "v", "x", "A2");
    store_access_grant(c, uid, "A2", false);
    store_commit(c);
    jmap_user_load(c, uid, &user);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jmap_result out;
    jmap_api_handle(&srv, &user, (const char *)data, size, &out);
    json_error_t e;
    json_t *resp = json_loads(out.body, JSON_ALLOW_NUL, &e); /* "\u0000" is valid JSON */
    if (!resp || (out.status != 200 && out.status != 400 && out.status != 503)) {
        fprintf(stderr, "bad answer (status %d): %.2000s\n", out.status, out.body);
        abort(); /* every answer is JSON with a known status */
    }
    json_decref(resp);
    free(out.body);
    return 0;
}
