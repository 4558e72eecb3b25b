/*
 * auth.h — credentials: argon2id password hashes, bearer tokens, the cache of
 * verified credentials (DESIGN.md §8: verify once, then remember), the throttle
 * on failed logins per address, per user and address, and per user (throttle.h), and
 * the re-checking of the credentials of long-lived streams.
 */
#ifndef JMAPD_AUTH_H
#define JMAPD_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* A new argon2id encoded hash of password (malloc'd), or NULL. */
char *auth_hash_password(const char *password);
bool auth_verify_password(const char *encoded, const char *password);

/* A new bearer token: *token is what the client presents (malloc'd), *hash what is
 * stored (hex SHA-256, 65 bytes), *id a short public id for list/revoke. */
void auth_token_new(char **token, char hash[65], char id[16]);

enum auth_result { AUTH_OK, AUTH_NONE, AUTH_FAILED, AUTH_THROTTLED, AUTH_ERROR };
/* Checks an Authorization header value ("Basic ..." or "Bearer ...") or, when
 * header is NULL, a bare bearer token (the EventSource access_token parameter).
 * client is the peer address, for throttling. Sets *user_id on AUTH_OK. */
enum auth_result auth_check(struct store_conn *c, const char *header, const char *bare_token,
                            const char *client, int64_t fail_limit, int64_t *user_id);
/* Long-lived streams (EventSource) are checked again while they run (issue 19 §9): a
 * fingerprint of the credential that opened one (a token's hash, or the user's stored
 * password hash for Basic), and whether it still holds: AUTH_OK, AUTH_FAILED when the
 * token was revoked, the password changed or the user removed, AUTH_ERROR when the
 * database cannot tell. */
#define AUTH_CRED_KEY_LEN 96
bool auth_credential_key(struct store_conn *c, const char *header, const char *bare_token,
                         int64_t user_id, char out[AUTH_CRED_KEY_LEN]);
enum auth_result auth_credential_valid(struct store_conn *c, const char *key);
/* Forgets every cached credential (after a password change or user removal). */
void auth_cache_clear(void);

#endif
