/*
 * postgres.h — what the PostgreSQL backend's files share: a configured connection
 * (password file, lock timeout, notices quiet) and the URL of an open store.
 */
#ifndef JMAPD_STORE_POSTGRES_H
#define JMAPD_STORE_POSTGRES_H

#include <libpq-fe.h>

#include "store/store.h"

/* A new connection; NULL with *err (or a logged error when err is NULL). */
PGconn *store_pg_connect(const char *url, char **err);
/* The URL a PostgreSQL store was opened with. */
const char *store_pg_url(struct store *st);
struct store_bus *store_pg_bus_open(struct store *st, void (*cb)(const char *msg, void *ud),
                                    void *ud);

#endif
