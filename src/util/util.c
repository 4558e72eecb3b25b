/*
 * util.c — logging, ids, hashing, base64, time and the byte buffer declared in
 * util.h. Hashing and randomness come from OpenSSL (DESIGN.md §4).
 */
#include "util/util.h"

#include "formats/json/id.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ---- logging ---------------------------------------------------------------- */

static enum log_level g_level = LOG_INFO;
static pthread_mutex_t g_log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level level)
{
    g_level = level;
}

int log_level_parse(const char *name)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    if (level > g_level)
        return;
    char ts[21];
    util_utc_format(util_now(), ts);
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    pthread_mutex_lock(&g_log_lock);
    fprintf(stderr, "%s %s ", ts, tags[level]);
    /* CWE-117: a value from a client (a user name, a URL) cannot start a line of
     * its own or move the terminal: control characters are written as \xNN */
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            fprintf(stderr, "\\x%02x", *p);
        else
            fputc(*p, stderr);
    }
    fputc('\n', stderr);
    pthread_mutex_unlock(&g_log_lock);
    free(msg);
}

/* ---- allocation ---------------------------------------------------------------- */

static void *check(void *p)
{
    if (!p) {
        fputs("jmapd: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *xmalloc(size_t n)
{
    return check(malloc(n ? n : 1));
}
void *xcalloc(size_t n, size_t m)
{
    return check(calloc(n ? n : 1, m ? m : 1));
}
void *xrealloc(void *p, size_t n)
{
    return check(realloc(p, n ? n : 1));
}
char *xstrdup(const char *s)
{
    return check(strdup(s));
}
char *xstrndup(const char *s, size_t n)
{
    return check(strndup(s, n));
}
char *xasprintf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return check(n < 0 ? NULL : s);
}

/* ---- ids ------------------------------------------------------------------------ */

void util_uuid4(char out[37])
{
    unsigned char b[16];
    util_random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* RFC 9562 version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* The kernel's CSPRNG (getrandom(2), blocking only until it is seeded at boot): OpenSSL's
 * RAND_bytes initialised all of OpenSSL (its configuration file, providers, a DRBG per
 * thread) at the server's start for a random socket name, 2.4 MB of its idle RSS
 * (issue 21 §3). */
void util_random_bytes(void *out, size_t len)
{
    unsigned char *p = out;
    while (len) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fputs("jmapd: getrandom failed\n", stderr);
            abort();
        }
        p += n;
        len -= (size_t)n;
    }
}

void util_random_id(char *out, size_t len, char prefix)
{
    /* lowercase letters and digits only: ids stay valid in URLs, file names and
     * case-insensitive contexts; 36^11 is plenty against collisions per account. */
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[64];
    size_t i = 0;
    if (prefix)
        out[i++] = prefix;
    while (i < len) {
        util_random_bytes(rnd, sizeof rnd);
        for (size_t k = 0; k < sizeof rnd && i < len; k++)
            if (rnd[k] < 252) /* 252 = 7*36: no modulo bias */
                out[i++] = alphabet[rnd[k] % 36];
    }
    out[len] = 0;
}

/* Issue 21: ids for many new objects in a row (an import). Every id is as random as
 * util_random_id's (each uniformly distributed over the same 36^11 bodies, duplicates
 * as unlikely), but they are handed out in runs of up to ID_RUN that share their first
 * ID_RUN_HEAD characters and come in ascending order. A B-tree keyed by id (the
 * objects, their index rows) then grows at one place per run: random ids put every
 * object on a random page, so that each batch of an import dirtied, wrote to the log
 * and checkpointed again nearly every page of the account's trees (a 100,000-event
 * import wrote each page about five times, once per batch). */
#define ID_BODY 11 /* util_random_id(out, 12, prefix) */
#define ID_RUN 4096
#define ID_RUN_HEAD 3

struct id_run {
    char body[ID_RUN][ID_BODY];
    size_t n, next;
};

static pthread_key_t id_run_key;
static pthread_once_t id_run_once = PTHREAD_ONCE_INIT;

static void id_run_init(void)
{
    pthread_key_create(&id_run_key, free);
}

static int body_cmp(const void *a, const void *b)
{
    return memcmp(a, b, ID_BODY);
}

/* A new run: one random head, random tails, sorted, duplicates dropped. */
static void id_run_fill(struct id_run *r)
{
    char head[ID_BODY + 1], tail[ID_BODY + 1];
    util_random_id(head, ID_RUN_HEAD, 0);
    for (size_t i = 0; i < ID_RUN; i++) {
        util_random_id(tail, ID_BODY - ID_RUN_HEAD, 0);
        memcpy(r->body[i], head, ID_RUN_HEAD);
        memcpy(r->body[i] + ID_RUN_HEAD, tail, ID_BODY - ID_RUN_HEAD);
    }
    qsort(r->body, ID_RUN, ID_BODY, body_cmp);
    r->n = 1;
    for (size_t i = 1; i < ID_RUN; i++)
        if (memcmp(r->body[i], r->body[r->n - 1], ID_BODY) != 0)
            memcpy(r->body[r->n++], r->body[i], ID_BODY);
    r->next = 0;
}

void util_random_id_clustered(char *out, size_t len, char prefix)
{
    if (len != ID_BODY + (prefix ? 1 : 0)) {
        util_random_id(out, len, prefix);
        return;
    }
    pthread_once(&id_run_once, id_run_init);
    struct id_run *r = pthread_getspecific(id_run_key);
    if (!r) {
        r = xcalloc(1, sizeof *r);
        pthread_setspecific(id_run_key, r);
    }
    if (r->next >= r->n)
        id_run_fill(r);
    size_t i = 0;
    if (prefix)
        out[i++] = prefix;
    memcpy(out + i, r->body[r->next++], ID_BODY);
    out[len] = 0;
}

bool util_is_jmap_id(const char *s)
{
    return jid_valid(s); /* RFC 8620 §1.2: the one Id check is formats/json/id.h */
}

/* ---- hashing and encoding ----------------------------------------------------------- */

void util_sha256(const void *data, size_t len, unsigned char out[32])
{
    SHA256(data, len, out);
}

void util_sha1(const void *data, size_t len, unsigned char out[20])
{
    SHA1(data, len, out);
}

void util_sha256_hex(const void *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    SHA256(data, len, md);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = 0;
}

char *util_base64_encode(const void *data, size_t len)
{
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    out[n] = 0;
    return out;
}

unsigned char *util_base64_decode(const char *s, size_t slen, size_t *outlen)
{
    /* EVP_DecodeBlock wants padded input and reports padding as zero bytes, so pad
     * here and trim by the number of '=' ourselves. */
    while (slen > 0 && s[slen - 1] == '=')
        slen--;
    if (slen % 4 == 1)
        return NULL;
    for (size_t i = 0; i < slen; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return NULL;
    }
    size_t padded = (slen + 3) / 4 * 4;
    char *tmp = xmalloc(padded + 1);
    memcpy(tmp, s, slen);
    memset(tmp + slen, '=', padded - slen);
    unsigned char *out = xmalloc(padded / 4 * 3 + 1);
    int n = padded ? EVP_DecodeBlock(out, (unsigned char *)tmp, (int)padded) : 0;
    free(tmp);
    if (n < 0) {
        free(out);
        return NULL;
    }
    *outlen = (size_t)n - (padded - slen);
    out[*outlen] = 0; /* callers may treat the result as text */
    return out;
}

char *util_base64url_encode(const void *data, size_t len)
{
    char *s = util_base64_encode(data, len);
    size_t n = strlen(s);
    while (n && s[n - 1] == '=')
        s[--n] = 0;
    for (size_t i = 0; i < n; i++)
        s[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
    return s;
}

unsigned char *util_base64url_decode(const char *s, size_t *len)
{
    size_t n = strlen(s);
    char *t = xmalloc(n + 1);
    for (size_t i = 0; i <= n; i++)
        t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    /* the URL-safe alphabet only: a '+' or '/' given is not URL-safe base64 */
    unsigned char *out = strpbrk(s, "+/") ? NULL : util_base64_decode(t, n, len);
    free(t);
    return out;
}

/* ---- time ------------------------------------------------------------------------------ */

int64_t util_now(void)
{
    return (int64_t)time(NULL);
}

int64_t util_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static __thread int64_t deadline_ms;

void util_deadline_set(int64_t ms)
{
    deadline_ms = ms;
}

bool util_deadline_passed(void)
{
    return deadline_ms > 0 && util_now_ms() >= deadline_ms;
}

int64_t util_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void util_utc_format(int64_t t, char out[21])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int util_utc_parse(const char *s, int64_t *t)
{
    int Y, M, D, h, m, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &n) != 6 || n != 19)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (strcmp(p, "Z") != 0)
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -1;
    struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
                    .tm_hour = h, .tm_min = m, .tm_sec = sec};
    *t = (int64_t)timegm(&tm);
    return 0;
}

/* ---- buffer ------------------------------------------------------------------------- */

char *buf_room(struct buf *b, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    return b->data + b->len;
}

void buf_append(struct buf *b, const void *data, size_t len)
{
    buf_room(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
}

void buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    /* short texts (most) go through a stack buffer: no allocation per call */
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        check(NULL);
    if ((size_t)n < sizeof small) {
        buf_append(b, small, (size_t)n);
        return;
    }
    char *s = NULL;
    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        check(NULL);
    buf_append(b, s, (size_t)n);
    free(s);
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *buf_take(struct buf *b)
{
    char *s = b->data ? b->data : xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}
