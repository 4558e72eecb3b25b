/*
 * webpush.h — push by HTTP POST to a client's push service (RFC 8620 §7.2, RFC 8030):
 * the PushSubscriptions of every user, kept in the store (jmap/push_subscription.c
 * creates them), delivered by one thread with libcurl's multi interface so a slow push
 * service holds up nobody else. A new subscription gets its PushVerification at once
 * and nothing else until the client has echoed the code; then each StateChange (and
 * CalendarAlert, calendars-27 §6.4) the hub gives it is POSTed with a TTL header,
 * encrypted as RFC 8291 says when the client gave keys, signed with VAPID (RFC 8292)
 * when the server has a key. 429 and failures back off while later changes coalesce;
 * 404 and 410 end the subscription; so do its expiry and its credential's revocation.
 * With several front ends each holds every subscription and POSTs the changes it made.
 */
#ifndef JMAPD_PUSH_WEBPUSH_H
#define JMAPD_PUSH_WEBPUSH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "push/hub.h"

struct config;
struct store;
struct webpush;

/* check(cred) says whether a subscription's credential still holds (as the hub's). */
struct webpush *webpush_start(struct store *st, struct push_hub *hub, const struct config *cfg,
                              enum push_cred (*check)(const char *cred, void *ud), void *ud);
void webpush_stop(struct webpush *w);
/* The VAPID public key the session advertises (RFC 9749 §3), or NULL. */
const char *webpush_public_key(const struct webpush *w);
/* The subscriptions changed in the store (this process wrote them): load them again. */
void webpush_reload(struct webpush *w);
/* Sends the PushVerification of a subscription just created (RFC 8620 §7.2.2). */
void webpush_verify(struct webpush *w, const char *id, const char *url, const char *p256dh,
                    const char *auth, const char *code);

/* ---- crypto (webpush_crypto.c) ---- */
/* Whether p256dh is a P-256 point and auth a 16-octet secret (RFC 8291 §3.1, §3.2). */
bool webpush_keys_valid(const char *p256dh, const char *auth);
/* text encrypted for the keys as one aes128gcm record (RFC 8291 §4), or NULL. */
unsigned char *webpush_encrypt(const char *p256dh, const char *auth, const char *text,
                               size_t *outlen);
struct webpush_vapid;
/* Makes the VAPID key at path if there is none, writes its public half to <path>.pub
 * and returns it (malloc'd), or NULL if the key is unusable: `jmapd push-key`. */
char *webpush_key_prepare(const char *path);
/* The VAPID key in the PEM file path, made there on first use; NULL if unusable. */
struct webpush_vapid *webpush_vapid_load(const char *path);
void webpush_vapid_free(struct webpush_vapid *v);
/* The public key, URL-safe base64 of the uncompressed point (RFC 8292 §3.2). */
const char *webpush_vapid_public(const struct webpush_vapid *v);
/* The "Authorization: vapid t=..., k=..." header line for a POST to url (malloc'd). */
char *webpush_vapid_header(const struct webpush_vapid *v, const char *url, const char *subject,
                           int64_t expires);

#endif
