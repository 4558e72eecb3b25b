/*
 * config.h — server configuration: defaults, the config file (key = value lines,
 * '#' comments; see README), then command-line overrides. Limits here are the ones
 * advertised in the session (RFC 8620 §2) and enforced everywhere.
 */
#ifndef JMAPD_CONFIG_H
#define JMAPD_CONFIG_H

#include <stdint.h>

struct config {
    char data_dir[1024];
    /* "sqlite" (default: data_dir/jmapd.db) or a postgresql:// URL (DESIGN.md §3);
     * the environment's JMAPD_STORE is the default. A PostgreSQL password comes from
     * store_password_file (a file holding the password alone), or libpq's
     * PGPASSWORD / PGPASSFILE, never from the command line. */
    char store[1024];
    char store_password_file[1024];
    char listen[256];      /* ADDR:PORT */
    char base_url[512];    /* public base URL, no trailing slash */
    char tls_cert[1024];
    char tls_key[1024];
    char log_level[16];
    char default_domain[256]; /* new users' calendar address: mailto:NAME@default_domain */
    /* iMIP (RFC 6047) to addresses outside the server: the SMTP relay (libcurl URL,
     * smtp://host:port or smtps://...), empty for none; its credentials */
    char smtp_url[512];
    char smtp_user[256];
    char smtp_password[256];
    int64_t smtp_retry; /* seconds between retries of what the relay did not take */
    /* alerts (calendars-27 §6, §9.3.2): one due longer ago than alert_stale seconds when
     * first seen (the server was down) is passed over; at most alert_rate fire per user
     * and minute */
    int64_t alert_stale;
    int64_t alert_rate;
    int threads;           /* worker threads; 0 = number of cores */
    /* RFC 8620 §2 core capability limits */
    int64_t max_size_upload;
    int64_t max_concurrent_upload;
    int64_t max_size_request;
    int64_t max_concurrent_requests;
    int64_t max_calls_in_request;
    int64_t max_objects_in_get;
    int64_t max_objects_in_set;
    /* RFC 9404 */
    int64_t max_size_blob_set;
    int64_t max_data_sources;
    /* push */
    int64_t max_eventsource;       /* concurrent EventSource connections per user */
    int64_t blob_upload_ttl;       /* seconds an unreferenced upload is kept (>= 3600) */
    int64_t auth_fail_limit;       /* failed logins per user/address per minute */
    int64_t db_busy_timeout;       /* ms to wait for another process's database lock */
    /* RFC 8620 §8.5 resource limits (not advertised in the session) */
    int64_t max_size_response;  /* bytes of method responses in one API response */
    int64_t max_request_memory; /* estimated bytes a parsed API request may hold */
    int64_t request_timeout;    /* ms an API request may run; later calls get an error */
    int64_t quick_read_us; /* a cheap read whose late calls took less runs on the HTTP thread */
    int64_t cache_size;         /* MiB the parsed-event cache may hold (issue 21) */
    int api_threads;            /* workers running API requests; 0 = 4 x cores, >= 8 */
    /* outbound fetches of subscribed calendars (issue 17 §1, §5) */
    char fetch_allow[1024];            /* CIDR ranges let through the private-range denial */
    int64_t fetch_timeout;             /* seconds a fetch may take */
    int64_t fetch_max_size;            /* bytes a feed may have */
    int64_t fetch_max_redirects;       /* redirects followed, each checked again */
    int64_t subscription_min_interval; /* seconds between refreshes, at least */
    int64_t subscription_scan;         /* seconds between the refresher's looks */
    int64_t subscription_page_limit;   /* Prefer: limit=N asked of a feed (0: none) */
    int64_t subscription_retry_skipped; /* seconds until events skipped for a uid held
                                           elsewhere are tried again from a full fetch */
    int64_t feed_tombstone_ttl;        /* seconds a feed's deletion is remembered */
    /* object metadata (issue 18, draft-ietf-jmap-metadata-02 §1.1.1, §5) */
    char metadata_namespaces[512]; /* registered namespace names advertised, comma-separated */
    int64_t metadata_max_depth;    /* maxDepth of a namespace value; 0: null (no limit) */
    int64_t metadata_quota;        /* bytes of metadata an account may hold (overQuota) */
    /* WebPush (RFC 8620 §7.2, RFC 8030, RFC 8291; push/webpush.c) */
    char push_allow[1024];    /* CIDR ranges a push URL may reach despite the private-range denial */
    char push_ca_file[1024];  /* CA certificates for push services' TLS (empty: the system's) */
    char push_vapid_key[1024]; /* PEM P-256 key signing pushes (RFC 8292); empty: in data_dir */
    int64_t push_max_expiry;  /* seconds a subscription lives at most (RFC 8620: >= 48 h) */
    int64_t push_max_per_user; /* PushSubscriptions a user may have (overQuota) */
    int64_t push_ttl;         /* the TTL header of each push message (RFC 8030 §5.2), seconds */
    int64_t push_timeout;     /* seconds one delivery may take */
};

void config_defaults(struct config *cfg);
/* Reads FILE into cfg; returns 0, or -1 with a message on stderr naming the line. */
int config_load(struct config *cfg, const char *path);
/* Sets one key; returns 0 or -1 if the key is unknown or the value bad. */
int config_set(struct config *cfg, const char *key, const char *value);

#endif
