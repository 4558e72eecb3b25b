/*
 * webpush_crypto.c — the cryptography of WebPush (webpush.h): the message encryption
 * of RFC 8291 (ECDH on P-256, HKDF-SHA-256, one aes128gcm record of RFC 8188) and the
 * VAPID signature of RFC 8292 (an ES256 JWT). OpenSSL 3 does the primitives.
 */
#include "push/webpush.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/util.h"

/* A P-256 public key from its uncompressed point (RFC 8291 §3.1: 65 octets); the
 * point must lie on the curve. NULL otherwise. */
static EVP_PKEY *p256_public(const unsigned char *pt, size_t len)
{
    if (len != 65 || pt[0] != 0x04)
        return NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM params[] = {OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-256", 0),
                           OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pt, len),
                           OSSL_PARAM_END};
    EVP_PKEY *k = NULL;
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        k = NULL;
    EVP_PKEY_CTX_free(ctx);
    if (k) {
        EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
        if (!chk || EVP_PKEY_public_check(chk) <= 0) {
            EVP_PKEY_free(k);
            k = NULL;
        }
        EVP_PKEY_CTX_free(chk);
    }
    return k;
}

bool webpush_keys_valid(const char *p256dh, const char *auth)
{
    size_t pl = 0, al = 0;
    unsigned char *p = util_base64url_decode(p256dh, &pl), *a = util_base64url_decode(auth, &al);
    EVP_PKEY *k = p ? p256_public(p, pl) : NULL;
    bool ok = k && a && al == 16; /* RFC 8291 §3.2: a 16-octet secret */
    EVP_PKEY_free(k);
    free(p);
    free(a);
    return ok;
}

static bool hmac256(const unsigned char *key, size_t klen, const unsigned char *data, size_t dlen,
                    unsigned char out[32])
{
    size_t n = 0;
    return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, klen, data, dlen, out, 32, &n) &&
           n == 32;
}

/* HKDF-Expand (RFC 5869 §2.3) of one block: HMAC(prk, info || 0x01), first len octets. */
static bool hkdf_expand1(const unsigned char prk[32], const void *info, size_t ilen,
                         unsigned char *out, size_t len)
{
    unsigned char in[256], full[32];
    if (ilen + 1 > sizeof in || len > 32)
        return false;
    memcpy(in, info, ilen);
    in[ilen] = 1;
    if (!hmac256(prk, 32, in, ilen + 1, full))
        return false;
    memcpy(out, full, len);
    return true;
}

static bool point_of(EVP_PKEY *k, unsigned char out[65])
{
    size_t n = 0;
    return EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, 65, &n) &&
           n == 65;
}

static bool aes128gcm(const unsigned char key[16], const unsigned char nonce[12],
                      const unsigned char *in, size_t len, unsigned char *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    bool ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, nonce) == 1 &&
              EVP_EncryptUpdate(c, out, &n, in, (int)len) == 1 &&
              EVP_EncryptFinal_ex(c, out + n, &m) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + n + m) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

/* The content-encryption key and nonce of RFC 8291 §3.3-§3.4 (with RFC 8188 §2.2's
 * derivation), from the user agent's key and secret and a fresh key of ours (as_pub). */
static bool derive(EVP_PKEY *mine, EVP_PKEY *ua, const unsigned char ua_pub[65],
                   const unsigned char as_pub[65], const unsigned char *auth, size_t alen,
                   const unsigned char salt[16], unsigned char cek[16], unsigned char nonce[12])
{
    unsigned char secret[32], prk_key[32], ikm[32], prk[32];
    size_t slen = sizeof secret;
    EVP_PKEY_CTX *dc = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL);
    bool ok = dc && EVP_PKEY_derive_init(dc) > 0 && EVP_PKEY_derive_set_peer(dc, ua) > 0 &&
              EVP_PKEY_derive(dc, secret, &slen) > 0 && slen == 32;
    EVP_PKEY_CTX_free(dc);
    /* §3.3: PRK_key = HMAC(auth_secret, ecdh_secret); key_info = "WebPush: info" 0x00
     * ua_public as_public; IKM = HKDF-Expand(PRK_key, key_info, 32) */
    unsigned char key_info[14 + 65 + 65];
    memcpy(key_info, "WebPush: info", 14); /* with its 0x00 */
    memcpy(key_info + 14, ua_pub, 65);
    memcpy(key_info + 79, as_pub, 65);
    ok = ok && hmac256(auth, alen, secret, 32, prk_key) &&
         hkdf_expand1(prk_key, key_info, sizeof key_info, ikm, 32) &&
         /* RFC 8188 §2.2, §2.3: PRK = HMAC(salt, IKM); CEK and NONCE from their infos */
         hmac256(salt, 16, ikm, 32, prk) &&
         hkdf_expand1(prk, "Content-Encoding: aes128gcm", 28, cek, 16) &&
         hkdf_expand1(prk, "Content-Encoding: nonce", 24, nonce, 12);
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(prk_key, sizeof prk_key);
    OPENSSL_cleanse(ikm, sizeof ikm);
    OPENSSL_cleanse(prk, sizeof prk);
    return ok;
}

unsigned char *webpush_encrypt(const char *p256dh, const char *auth, const char *text,
                               size_t *outlen)
{
    size_t pl = 0, al = 0, tl = strlen(text);
    unsigned char *ua_pub = util_base64url_decode(p256dh, &pl),
                  *secret = util_base64url_decode(auth, &al), *out = NULL;
    EVP_PKEY *ua = ua_pub ? p256_public(ua_pub, pl) : NULL;
    EVP_PKEY *mine = ua ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") : NULL;
    unsigned char as_pub[65], salt[16], cek[16], nonce[12];
    util_random_bytes(salt, sizeof salt);
    if (mine && secret && point_of(mine, as_pub) &&
        derive(mine, ua, ua_pub, as_pub, secret, al, salt, cek, nonce)) {
        /* RFC 8188 §2: header salt(16) rs(4) idlen(1) keyid(65), then one record: the
         * text, the last-record delimiter 0x02, the 16-octet tag (RFC 8291 §4) */
        size_t plen = tl + 1, rs = plen + 16, hl = 16 + 4 + 1 + 65;
        unsigned char *plain = xmalloc(plen);
        memcpy(plain, text, tl);
        plain[tl] = 2;
        out = xmalloc(hl + rs);
        memcpy(out, salt, 16);
        /* §4: rs greater than the plaintext, its delimiter and the tag together */
        uint32_t r = (uint32_t)(rs + 1 < 4096 ? 4096 : rs + 1);
        out[16] = (unsigned char)(r >> 24);
        out[17] = (unsigned char)(r >> 16);
        out[18] = (unsigned char)(r >> 8);
        out[19] = (unsigned char)r;
        out[20] = 65;
        memcpy(out + 21, as_pub, 65);
        if (aes128gcm(cek, nonce, plain, plen, out + hl)) {
            *outlen = hl + rs;
        } else {
            free(out);
            out = NULL;
        }
        free(plain);
        OPENSSL_cleanse(cek, sizeof cek);
    }
    EVP_PKEY_free(mine);
    EVP_PKEY_free(ua);
    free(ua_pub);
    free(secret);
    return out;
}

/* ---- VAPID (RFC 8292) ---------------------------------------------------------------------- */

struct webpush_vapid {
    EVP_PKEY *key;
    char *public_b64; /* the uncompressed point, URL-safe base64 (§3.2 "k") */
};

struct webpush_vapid *webpush_vapid_load(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = NULL;
    if (f) {
        k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    } else {
        /* first start: a new key, kept (0600) so that subscriptions made with its
         * public key (a browser's applicationServerKey) keep working */
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        FILE *w = k ? fopen(path, "wx") : NULL;
        if (w) {
            fchmod(fileno(w), 0600);
            if (!PEM_write_PrivateKey(w, k, NULL, NULL, 0, NULL, NULL))
                log_error("webpush: cannot write %s", path);
            fclose(w);
        }
    }
    unsigned char pt[65];
    char name[32] = "";
    size_t nl = 0;
    if (!k ||
        !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &nl) ||
        strcmp(name, "prime256v1") != 0 || !point_of(k, pt)) {
        log_error("webpush: %s holds no P-256 private key; VAPID is off", path);
        EVP_PKEY_free(k);
        return NULL;
    }
    struct webpush_vapid *v = xcalloc(1, sizeof *v);
    v->key = k;
    v->public_b64 = util_base64url_encode(pt, 65);
    return v;
}

void webpush_vapid_free(struct webpush_vapid *v)
{
    if (!v)
        return;
    EVP_PKEY_free(v->key);
    free(v->public_b64);
    free(v);
}

const char *webpush_vapid_public(const struct webpush_vapid *v)
{
    return v ? v->public_b64 : NULL;
}

/* An ES256 signature (RFC 7518 §3.4: R and S, 32 octets each) of data. */
static bool es256(EVP_PKEY *k, const char *data, unsigned char out[64])
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t dl = sizeof der;
    bool ok = m && EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, k) == 1 &&
              EVP_DigestSign(m, der, &dl, (const unsigned char *)data, strlen(data)) == 1;
    EVP_MD_CTX_free(m);
    const unsigned char *p = der;
    ECDSA_SIG *sig = ok ? d2i_ECDSA_SIG(NULL, &p, (long)dl) : NULL;
    ok = sig && BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 32) == 32 &&
         BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok;
}

char *webpush_vapid_header(const struct webpush_vapid *v, const char *url, const char *subject,
                           int64_t expires)
{
    /* §2: "aud" is the origin of the push resource */
    const char *host = strstr(url, "://");
    if (!v || !host)
        return NULL;
    const char *end = strchr(host + 3, '/');
    char *aud = end ? xstrndup(url, (size_t)(end - url)) : xstrdup(url);
    json_t *claims =
        json_pack("{s:s, s:I, s:s}", "aud", aud, "exp", (json_int_t)expires, "sub", subject);
    char *cj = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
    static const char hdr[] = "{\"typ\":\"JWT\",\"alg\":\"ES256\"}";
    char *h64 = util_base64url_encode(hdr, strlen(hdr)),
         *c64 = util_base64url_encode(cj, strlen(cj));
    char *input = xasprintf("%s.%s", h64, c64), *out = NULL;
    unsigned char sig[64];
    if (es256(v->key, input, sig)) {
        char *s64 = util_base64url_encode(sig, sizeof sig);
        out = xasprintf("Authorization: vapid t=%s.%s, k=%s", input, s64, v->public_b64);
        free(s64);
    }
    free(input);
    free(h64);
    free(c64);
    free(cj);
    json_decref(claims);
    free(aud);
    return out;
}
