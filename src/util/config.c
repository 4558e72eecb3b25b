/*
 * config.c — defaults and the key = value config file reader (see config.h).
 */
#include "util/config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    const char *env = getenv("JMAPD_DATA");
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", env && *env ? env : "./data");
    env = getenv("JMAPD_STORE");
    snprintf(cfg->store, sizeof cfg->store, "%s", env && *env ? env : "sqlite");
    snprintf(cfg->listen, sizeof cfg->listen, "127.0.0.1:8080");
    snprintf(cfg->log_level, sizeof cfg->log_level, "info");
    snprintf(cfg->default_domain, sizeof cfg->default_domain, "localhost");
    /* RFC 8620 §2 suggested minimums, or more */
    cfg->max_size_upload = 50000000;
    cfg->max_concurrent_upload = 4;
    cfg->max_size_request = 10000000;
    cfg->max_concurrent_requests = 8;
    cfg->max_calls_in_request = 32;
    cfg->max_objects_in_get = 1000;
    cfg->max_objects_in_set = 1000;
    cfg->max_size_blob_set = 10000000;
    cfg->max_data_sources = 64;
    cfg->max_eventsource = 2000;
    cfg->blob_upload_ttl = 3600;
    cfg->auth_fail_limit = 10;
    cfg->db_busy_timeout = 10000;
    cfg->max_size_response = 32 * 1024 * 1024;
    cfg->max_request_memory = 64 * 1024 * 1024;
    cfg->request_timeout = 30000;
    cfg->quick_read_us = 1000;
    cfg->fetch_timeout = 30;
    cfg->fetch_max_size = 10 * 1024 * 1024;
    cfg->fetch_max_redirects = 5;
    cfg->subscription_min_interval = 900;
    cfg->subscription_scan = 60;
    cfg->subscription_retry_skipped = 6 * 3600;
    cfg->feed_tombstone_ttl = 30 * 86400;
    cfg->smtp_retry = 30;
    cfg->alert_stale = 86400;
    cfg->alert_rate = 60;
    cfg->cache_size = 64;
    cfg->metadata_max_depth = 8;
    cfg->metadata_quota = 16 * 1024 * 1024;
    cfg->push_max_expiry = 7 * 86400;
    cfg->push_max_per_user = 64;
    cfg->push_ttl = 86400;
    cfg->push_timeout = 30;
}

struct key {
    const char *name;
    size_t off;
    int is_string;
    size_t size;
    int64_t min;
};

#define S(n, f) {n, offsetof(struct config, f), 1, sizeof(((struct config *)0)->f), 0}
#define N(n, f, m) {n, offsetof(struct config, f), 0, 0, m}
static const struct key keys[] = {
    S("data_dir", data_dir),
    S("store", store),
    S("store_password_file", store_password_file),
    S("listen", listen),
    S("base_url", base_url),
    S("tls_cert", tls_cert),
    S("tls_key", tls_key),
    S("log_level", log_level),
    S("default_domain", default_domain),
    S("fetch_allow", fetch_allow),
    N("fetch_timeout", fetch_timeout, 1),
    N("fetch_max_size", fetch_max_size, 1024),
    N("fetch_max_redirects", fetch_max_redirects, 0),
    N("subscription_min_interval", subscription_min_interval, 1),
    N("subscription_scan", subscription_scan, 1),
    N("subscription_page_limit", subscription_page_limit, 0),
    N("subscription_retry_skipped", subscription_retry_skipped, 1),
    N("feed_tombstone_ttl", feed_tombstone_ttl, 1),
    S("smtp_url", smtp_url),
    N("smtp_retry", smtp_retry, 1),
    N("alert_stale", alert_stale, 60),
    N("alert_rate", alert_rate, 1),
    S("smtp_user", smtp_user),
    S("smtp_password", smtp_password),
    N("max_size_upload", max_size_upload, 1),
    N("max_concurrent_upload", max_concurrent_upload, 1),
    N("max_size_request", max_size_request, 1024),
    N("max_concurrent_requests", max_concurrent_requests, 1),
    N("max_calls_in_request", max_calls_in_request, 1),
    N("max_objects_in_get", max_objects_in_get, 1),
    N("max_objects_in_set", max_objects_in_set, 1),
    N("max_size_blob_set", max_size_blob_set, 1),
    N("max_data_sources", max_data_sources, 1),
    N("max_eventsource", max_eventsource, 1),
    N("blob_upload_ttl", blob_upload_ttl, 3600),
    N("auth_fail_limit", auth_fail_limit, 1),
    N("db_busy_timeout", db_busy_timeout, 1),
    N("max_size_response", max_size_response, 65536),
    N("max_request_memory", max_request_memory, 1048576),
    N("request_timeout", request_timeout, 100),
    N("quick_read_us", quick_read_us, 0),
    N("cache_size", cache_size, 1),
    S("metadata_namespaces", metadata_namespaces),
    N("metadata_max_depth", metadata_max_depth, 0),
    N("metadata_quota", metadata_quota, 0),
    S("push_allow", push_allow),
    S("push_ca_file", push_ca_file),
    S("push_vapid_key", push_vapid_key),
    N("push_max_expiry", push_max_expiry, 48 * 3600),
    N("push_max_per_user", push_max_per_user, 1),
    N("push_ttl", push_ttl, 0),
    N("push_timeout", push_timeout, 1),
};

int config_set(struct config *cfg, const char *key, const char *value)
{
    if (strcmp(key, "threads") == 0 || strcmp(key, "api_threads") == 0) {
        char *end;
        long v = strtol(value, &end, 10);
        if (end == value || *end || v < 0 || v > 256)
            return -1;
        *(key[0] == 't' ? &cfg->threads : &cfg->api_threads) = (int)v;
        return 0;
    }
    /* the backend: sqlite or a PostgreSQL connection URI (store.h) */
    if (strcmp(key, "store") == 0 && strcmp(value, "sqlite") != 0 &&
        strncmp(value, "postgresql://", 13) != 0 && strncmp(value, "postgres://", 11) != 0)
        return -1;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(keys[i].name, key) != 0)
            continue;
        char *field = (char *)cfg + keys[i].off;
        if (keys[i].is_string) {
            if (strlen(value) >= keys[i].size)
                return -1;
            memcpy(field, value, strlen(value) + 1);
            return 0;
        }
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end || v < keys[i].min)
            return -1;
        *(int64_t *)(void *)field = v;
        return 0;
    }
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

int config_load(struct config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "jmapd: cannot read config %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[2048];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            fprintf(stderr, "jmapd: %s:%d: expected key = value\n", path, lineno);
            rc = -1;
            break;
        }
        *eq = 0;
        char *k = trim(s), *v = trim(eq + 1);
        size_t vn = strlen(v);
        if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
            v[vn - 1] = 0;
            v++;
        }
        if (config_set(cfg, k, v) != 0) {
            fprintf(stderr, "jmapd: %s:%d: bad setting '%s'\n", path, lineno, k);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}
