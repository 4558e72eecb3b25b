/*
 * auth.c — see auth.h. The cache maps SHA-256(Authorization value) to the user id
 * and the password hash it was verified against; a hit is honoured only while the
 * stored hash is unchanged, so a password change (even by another process, the
 * CLI) invalidates it at once. Entries live five minutes.
 */
#include "http/auth.h"

#include <argon2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* argon2id parameters: RFC 9106 §4's second recommendation scaled to a server
 * that verifies rarely thanks to the cache: 3 passes over 64 MiB. */
#define ARGON_T 3
#define ARGON_M (64 * 1024)
#define ARGON_P 1

char *auth_hash_password(const char *password)
{
    unsigned char salt[16];
    util_random_bytes(salt, sizeof salt);
    size_t len = argon2_encodedlen(ARGON_T, ARGON_M, ARGON_P, sizeof salt, 32, Argon2_id);
    char *out = xmalloc(len);
    if (argon2id_hash_encoded(ARGON_T, ARGON_M, ARGON_P, password, strlen(password), salt,
                              sizeof salt, 32, out, len) != ARGON2_OK) {
        free(out);
        return NULL;
    }
    return out;
}

bool auth_verify_password(const char *encoded, const char *password)
{
    return argon2id_verify(encoded, password, strlen(password)) == ARGON2_OK;
}

void auth_token_new(char **token, char hash[65], char id[16])
{
    unsigned char raw[32];
    util_random_bytes(raw, sizeof raw);
    char *b = util_base64url_encode(raw, sizeof raw);
    if (asprintf(token, "jmapd_%s", b) < 0)
        abort();
    free(b);
    util_sha256_hex(*token, strlen(*token), hash);
    util_random_id(id, 10, 't');
}

/* ---- verified-credential cache ------------------------------------------------------- */

#define CACHE_SLOTS 1024
#define CACHE_TTL 300

static struct {
    char key[65];
    int64_t user_id;
    char pwhash_digest[65]; /* SHA-256 of the stored hash it was verified against */
    int64_t expires;
} cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

void auth_cache_clear(void)
{
    pthread_mutex_lock(&cache_lock);
    memset(cache, 0, sizeof cache);
    pthread_mutex_unlock(&cache_lock);
}

static size_t slot_of(const char *key)
{
    return strtoul((char[9]){key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7], 0},
                   NULL, 16) %
           CACHE_SLOTS;
}

/* ---- throttle -------------------------------------------------------------------------- */

#define THROTTLE_SLOTS 4096
#define THROTTLE_WINDOW 60

static struct {
    char key[65];
    int64_t count, window_start;
} throttle[THROTTLE_SLOTS];
static pthread_mutex_t throttle_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t throttle_slot(const char *what, char key[65])
{
    util_sha256_hex(what, strlen(what), key);
    return slot_of(key) % THROTTLE_SLOTS;
}

static bool throttled(const char *what, int64_t limit)
{
    char key[65];
    size_t s = throttle_slot(what, key);
    pthread_mutex_lock(&throttle_lock);
    bool over = strcmp(throttle[s].key, key) == 0 &&
                util_now() - throttle[s].window_start < THROTTLE_WINDOW &&
                throttle[s].count >= limit;
    pthread_mutex_unlock(&throttle_lock);
    return over;
}

static void note_failure(const char *what)
{
    char key[65];
    size_t s = throttle_slot(what, key);
    int64_t now = util_now();
    pthread_mutex_lock(&throttle_lock);
    if (strcmp(throttle[s].key, key) != 0 || now - throttle[s].window_start >= THROTTLE_WINDOW) {
        memcpy(throttle[s].key, key, sizeof key);
        throttle[s].window_start = now;
        throttle[s].count = 0;
    }
    throttle[s].count++;
    pthread_mutex_unlock(&throttle_lock);
}

/* ---- checking credentials ---------------------------------------------------------------- */

static enum auth_result check_token(struct store_conn *c, const char *token, int64_t *user_id)
{
    char hash[65];
    util_sha256_hex(token, strlen(token), hash);
    int rc = store_token_lookup(c, hash, user_id);
    return rc == STORE_OK ? AUTH_OK : rc == STORE_NOTFOUND ? AUTH_FAILED : AUTH_ERROR;
}

static enum auth_result check_basic(struct store_conn *c, const char *b64, const char *client,
                                    int64_t fail_limit, int64_t *user_id)
{
    size_t n = 0;
    unsigned char *dec = util_base64_decode(b64, strlen(b64), &n);
    if (!dec)
        return AUTH_FAILED;
    char *colon = memchr(dec, ':', n);
    if (!colon || memchr(dec, 0, n)) {
        free(dec);
        return AUTH_FAILED;
    }
    *colon = 0;
    const char *name = (const char *)dec, *password = colon + 1;
    char ukey[300], ckey[300];
    snprintf(ukey, sizeof ukey, "u:%s", name);
    snprintf(ckey, sizeof ckey, "a:%s", client ? client : "");
    if (throttled(ukey, fail_limit) || throttled(ckey, fail_limit)) {
        free(dec);
        return AUTH_THROTTLED;
    }
    struct store_user u = {0};
    int rc = store_user_get(c, name, &u);
    if (rc == STORE_ERR) {
        free(dec);
        return AUTH_ERROR;
    }
    char key[65], digest[65] = "";
    util_sha256_hex(b64, strlen(b64), key);
    if (rc == STORE_OK)
        util_sha256_hex(u.pwhash, strlen(u.pwhash), digest);
    size_t s = slot_of(key);
    bool hit = false;
    pthread_mutex_lock(&cache_lock);
    if (rc == STORE_OK && strcmp(cache[s].key, key) == 0 && cache[s].expires > util_now() &&
        cache[s].user_id == u.id && strcmp(cache[s].pwhash_digest, digest) == 0)
        hit = true;
    pthread_mutex_unlock(&cache_lock);
    enum auth_result res = AUTH_FAILED;
    if (hit) {
        res = AUTH_OK;
    } else if (rc == STORE_OK && auth_verify_password(u.pwhash, password)) {
        res = AUTH_OK;
        pthread_mutex_lock(&cache_lock);
        memcpy(cache[s].key, key, sizeof key);
        memcpy(cache[s].pwhash_digest, digest, sizeof digest);
        cache[s].user_id = u.id;
        cache[s].expires = util_now() + CACHE_TTL;
        pthread_mutex_unlock(&cache_lock);
    }
    if (res == AUTH_OK) {
        *user_id = u.id;
    } else {
        note_failure(ukey);
        note_failure(ckey);
    }
    store_user_clear(&u);
    free(dec);
    return res;
}

enum auth_result auth_check(struct store_conn *c, const char *header, const char *bare_token,
                            const char *client, int64_t fail_limit, int64_t *user_id)
{
    if (!header) {
        if (!bare_token || !*bare_token)
            return AUTH_NONE;
        return check_token(c, bare_token, user_id);
    }
    while (*header == ' ')
        header++;
    if (strncasecmp(header, "Basic ", 6) == 0)
        return check_basic(c, header + 6, client, fail_limit, user_id);
    if (strncasecmp(header, "Bearer ", 7) == 0) {
        char ckey[300];
        snprintf(ckey, sizeof ckey, "a:%s", client ? client : "");
        if (throttled(ckey, fail_limit))
            return AUTH_THROTTLED;
        enum auth_result r = check_token(c, header + 7, user_id);
        if (r == AUTH_FAILED)
            note_failure(ckey);
        return r;
    }
    return AUTH_NONE;
}
