/*
 * util.h — small utilities shared by every layer: logging, random ids, hashing,
 * base64, time formatting, and a growable byte buffer. No JMAP knowledge here.
 */
#ifndef JMAPD_UTIL_H
#define JMAPD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- logging ---------------------------------------------------------------- */
enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };
void log_set_level(enum log_level level);
int log_level_parse(const char *name); /* -1 if unknown */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* ---- ids and randomness ------------------------------------------------------ */
/* Fills out with a random JMAP Id (RFC 8620 §1.2: [A-Za-z0-9_-]) of len characters
 * starting with prefix; out must hold len+1 bytes. */
void util_random_id(char *out, size_t len, char prefix);
/* The same ids, for many new objects in a row (an import): runs of them share a
 * start and ascend, so the trees keyed by id grow in one place per run (util.c). */
void util_random_id_clustered(char *out, size_t len, char prefix);
/* Cryptographically random bytes; aborts if the system RNG fails. */
void util_random_bytes(void *out, size_t len);
/* A random (version 4, RFC 9562 §5.4) UUID in its 36-character text form. */
void util_uuid4(char out[37]);
/* true if s is a valid JMAP Id: 1–255 octets of URL-safe base64 alphabet. */
bool util_is_jmap_id(const char *s);

/* ---- hashing and encoding ---------------------------------------------------- */
/* SHA-256 of data as 64 lowercase hex characters into out[65]. */
void util_sha256_hex(const void *data, size_t len, char out[65]);
void util_sha256(const void *data, size_t len, unsigned char out[32]);
void util_sha1(const void *data, size_t len, unsigned char out[20]);
/* Standard base64 with padding; returns a malloc'd NUL-terminated string. */
char *util_base64_encode(const void *data, size_t len);
/* Decodes standard base64 (padding optional, no whitespace); NULL on bad input.
 * The result is NUL-terminated after *outlen bytes. */
unsigned char *util_base64_decode(const char *s, size_t slen, size_t *outlen);
/* URL-safe base64 without padding into a malloc'd string. */
char *util_base64url_encode(const void *data, size_t len);
/* URL-safe base64 (RFC 4648 §5, padding optional) decoded, NUL-terminated after *len
 * bytes; NULL on bad input (a '+' or '/' of the other alphabet too). */
unsigned char *util_base64url_decode(const char *s, size_t *len);

/* ---- time -------------------------------------------------------------------- */
int64_t util_now(void);            /* seconds since the epoch */
int64_t util_now_ms(void);         /* milliseconds, monotonic */
int64_t util_now_us(void);         /* microseconds, monotonic */
/* The calling thread's deadline for the request it works on (RFC 8620 §8.5: a
 * request's work is bounded). Long loops (expansion, search, export) may ask
 * util_deadline_passed() and stop with an error; 0 clears it. */
void util_deadline_set(int64_t deadline_ms);
bool util_deadline_passed(void);
/* Formats t as a UTCDateTime "YYYY-MM-DDTHH:MM:SSZ" into out[21]. */
void util_utc_format(int64_t t, char out[21]);
/* Parses an RFC 3339 UTCDateTime (must end in Z, fractional seconds allowed);
 * returns 0 and sets *t, or -1. */
int util_utc_parse(const char *s, int64_t *t);

/* ---- byte buffer ------------------------------------------------------------- */
struct buf {
    char *data;
    size_t len, cap;
};
/* Room for n more bytes and the NUL; returns where they go (b->len is not moved). */
char *buf_room(struct buf *b, size_t n);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);
/* Returns the NUL-terminated contents and resets b; caller frees. */
char *buf_take(struct buf *b);

/* Allocation that aborts on failure: memory exhaustion is not recoverable here. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* asprintf that aborts on memory exhaustion (the one place that policy lives). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
