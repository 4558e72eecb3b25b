/*
 * auth.c — see auth.h. The cache maps SHA-256(Authorization value, client address) to
 * the user id and the password hash it was verified against; a hit is honoured only
 * while the stored hash is unchanged, so a password change (even by another process,
 * the CLI) invalidates it at once. Entries live five minutes after their last use.
 * Failed logins are counted in throttle.c; unknown names cost the same argon2 work as
 * known ones.
 */
#include "http/auth.h"

#include <argon2.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/throttle.h"
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

/* ---- throttle --------------------------------------------------------------------------
 * Failed logins are counted per client address, per (user name, address) pair and per
 * user name (issue 19 §3, §10). The pair and the address get auth_fail_limit a minute;
 * the user name, summed over every address, AUTH_USER_FACTOR times that: a stranger on
 * one address cannot lock a user out of other addresses, and guessing one password from
 * many addresses is still bounded. A credential already verified (the cache above) is
 * honoured before the throttle is consulted, so an authenticated client keeps working. */

#define THROTTLE_WINDOW 60
#define THROTTLE_MAX 65536 /* live counters: at most about 6 MB */
#define AUTH_USER_FACTOR 10

static struct throttle *throttle;
static pthread_once_t throttle_once = PTHREAD_ONCE_INIT;

static void throttle_make(void)
{
    throttle = throttle_new(THROTTLE_MAX, THROTTLE_WINDOW);
}

static struct throttle *throttle_get(void)
{
    pthread_once(&throttle_once, throttle_make);
    return throttle;
}

/* Over the limit on this front end, or counted over all of them (store_counter_get:
 * several front ends on one PostgreSQL database, issue 15 §3; 0 on SQLite). */
static bool over(struct store_conn *c, const char *key, int64_t limit, int64_t now)
{
    return throttle_over(throttle_get(), key, limit, now) ||
           store_counter_get(c, key, THROTTLE_WINDOW, now) >= limit;
}

static void count_failure(struct store_conn *c, const char *key, int64_t now)
{
    throttle_fail(throttle_get(), key, now);
    store_counter_add(c, key, THROTTLE_WINDOW, now);
}

/* The throttle key of a client address: "a:" and the address; IPv6 clients are counted
 * per /64, since one host commonly holds the whole prefix. */
static void address_key(const char *client, char out[80])
{
    struct in6_addr a6;
    if (client && inet_pton(AF_INET6, client, &a6) == 1 && !IN6_IS_ADDR_V4MAPPED(&a6)) {
        memset(a6.s6_addr + 8, 0, 8);
        char p[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &a6, p, sizeof p);
        snprintf(out, 80, "a:%s/64", p);
        return;
    }
    snprintf(out, 80, "a:%.70s", client ? client : "");
}

/* ---- dummy work for unknown names (issue 19 §10) ---------------------------------------
 * An unknown user name is verified against a hash of a random password made with the
 * same parameters, so its answer costs the same argon2 work as a known name's. */

static char *dummy_hash;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_make(void)
{
    unsigned char raw[24];
    util_random_bytes(raw, sizeof raw);
    char *pw = util_base64url_encode(raw, sizeof raw);
    dummy_hash = auth_hash_password(pw);
    free(pw);
}

static const char *dummy_get(void)
{
    pthread_once(&dummy_once, dummy_make);
    return dummy_hash;
}

/* ---- checking credentials ---------------------------------------------------------------- */

static enum auth_result check_token(struct store_conn *c, const char *token, int64_t *user_id)
{
    char hash[65];
    util_sha256_hex(token, strlen(token), hash);
    int rc = store_token_lookup(c, hash, user_id);
    return rc == STORE_OK ? AUTH_OK : rc == STORE_NOTFOUND ? AUTH_FAILED : AUTH_ERROR;
}

/* A remembered verification of this Authorization value for this user and stored hash;
 * a hit extends its life (the hash is unchanged, so the password still holds). */
static bool cache_hit(const char *key, int64_t uid, const char *digest)
{
    size_t s = slot_of(key);
    pthread_mutex_lock(&cache_lock);
    bool hit = strcmp(cache[s].key, key) == 0 && cache[s].expires > util_now() &&
               cache[s].user_id == uid && strcmp(cache[s].pwhash_digest, digest) == 0;
    if (hit)
        cache[s].expires = util_now() + CACHE_TTL;
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

static void cache_put(const char *key, int64_t uid, const char *digest)
{
    size_t s = slot_of(key);
    pthread_mutex_lock(&cache_lock);
    memcpy(cache[s].key, key, 65);
    memcpy(cache[s].pwhash_digest, digest, 65);
    cache[s].user_id = uid;
    cache[s].expires = util_now() + CACHE_TTL;
    pthread_mutex_unlock(&cache_lock);
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
    struct store_user u = {0};
    int rc = store_user_get(c, name, &u);
    if (rc == STORE_ERR) {
        free(dec);
        return AUTH_ERROR;
    }
    enum auth_result res = AUTH_FAILED;
    char akey[80], *pkey = NULL, *ukey = NULL, *ckey = NULL;
    address_key(client, akey);
    /* remembered per client address: elsewhere the throttle applies, so a throttled
     * guesser learns nothing from a credential its victim has in the cache */
    if (asprintf(&pkey, "p:%s\n%s", name, akey) < 0 || asprintf(&ukey, "u:%s", name) < 0 ||
        asprintf(&ckey, "%s\n%s", b64, akey) < 0)
        abort();
    char key[65], digest[65] = "";
    util_sha256_hex(ckey, strlen(ckey), key);
    free(ckey);
    if (rc == STORE_OK)
        util_sha256_hex(u.pwhash, strlen(u.pwhash), digest);
    int64_t now = util_now();
    if (rc == STORE_OK && cache_hit(key, u.id, digest)) {
        res = AUTH_OK; /* already authenticated: the throttle does not apply */
    } else if (over(c, pkey, fail_limit, now) || over(c, akey, fail_limit, now) ||
               over(c, ukey, fail_limit * AUTH_USER_FACTOR, now)) {
        res = AUTH_THROTTLED;
    } else {
        /* the same argon2 work whether or not the name exists */
        bool ok = auth_verify_password(rc == STORE_OK ? u.pwhash : dummy_get(), password);
        if (ok && rc == STORE_OK) {
            res = AUTH_OK;
            cache_put(key, u.id, digest);
        } else {
            count_failure(c, pkey, now);
            count_failure(c, akey, now);
            count_failure(c, ukey, now);
        }
    }
    if (res == AUTH_OK)
        *user_id = u.id;
    free(pkey);
    free(ukey);
    store_user_clear(&u);
    free(dec);
    return res;
}

/* A bearer token: a valid one is always accepted (256 random bits cannot be guessed, so
 * the throttle only slows down clients that keep presenting wrong ones). */
static enum auth_result check_bearer(struct store_conn *c, const char *token, const char *client,
                                     int64_t fail_limit, int64_t *user_id)
{
    enum auth_result r = check_token(c, token, user_id);
    if (r != AUTH_FAILED)
        return r;
    char akey[80];
    address_key(client, akey);
    int64_t now = util_now();
    if (over(c, akey, fail_limit, now))
        return AUTH_THROTTLED;
    count_failure(c, akey, now);
    return AUTH_FAILED;
}

enum auth_result auth_check(struct store_conn *c, const char *header, const char *bare_token,
                            const char *client, int64_t fail_limit, int64_t *user_id)
{
    if (!header) {
        if (!bare_token || !*bare_token)
            return AUTH_NONE;
        return check_bearer(c, bare_token, client, fail_limit, user_id);
    }
    while (*header == ' ')
        header++;
    if (strncasecmp(header, "Basic ", 6) == 0)
        return check_basic(c, header + 6, client, fail_limit, user_id);
    if (strncasecmp(header, "Bearer ", 7) == 0)
        return check_bearer(c, header + 7, client, fail_limit, user_id);
    return AUTH_NONE;
}

/* ---- credentials of long-lived streams -------------------------------------------------- */

bool auth_credential_key(struct store_conn *c, const char *header, const char *bare_token,
                         int64_t user_id, char out[AUTH_CRED_KEY_LEN])
{
    char hash[65];
    while (header && *header == ' ')
        header++;
    const char *token = !header                                  ? bare_token
                        : strncasecmp(header, "Bearer ", 7) == 0 ? header + 7
                                                                 : NULL;
    if (token) {
        util_sha256_hex(token, strlen(token), hash);
        snprintf(out, AUTH_CRED_KEY_LEN, "t:%" PRId64 ":%s", user_id, hash);
        return true;
    }
    struct store_user u = {0};
    if (store_user_get_by_id(c, user_id, &u) != STORE_OK)
        return false;
    util_sha256_hex(u.pwhash, strlen(u.pwhash), hash);
    store_user_clear(&u);
    snprintf(out, AUTH_CRED_KEY_LEN, "p:%" PRId64 ":%s", user_id, hash);
    return true;
}

enum auth_result auth_credential_valid(struct store_conn *c, const char *key)
{
    char kind = key[0], hash[65];
    int64_t uid = 0, owner = 0;
    if (sscanf(key, "%*c:%" SCNd64 ":%64s", &uid, hash) != 2)
        return AUTH_FAILED;
    if (kind == 't') {
        int rc = store_token_lookup(c, hash, &owner);
        return rc == STORE_OK         ? (owner == uid ? AUTH_OK : AUTH_FAILED)
               : rc == STORE_NOTFOUND ? AUTH_FAILED
                                      : AUTH_ERROR;
    }
    struct store_user u = {0};
    int rc = store_user_get_by_id(c, uid, &u);
    if (rc != STORE_OK)
        return rc == STORE_NOTFOUND ? AUTH_FAILED : AUTH_ERROR;
    char now[65];
    util_sha256_hex(u.pwhash, strlen(u.pwhash), now);
    store_user_clear(&u);
    return strcmp(now, hash) == 0 ? AUTH_OK : AUTH_FAILED;
}
