/*
 * migrate.c — `jmapd migrate --to postgresql://… [--data DIR]` (issue 15 §6): the
 * SQLite data directory into an empty PostgreSQL database (store.h). The URL names
 * no password: libpq takes it from PGPASSWORD or PGPASSFILE, or the config's
 * store_password_file, never from the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "store/store.h"

/* Whether a URL carries a password (user:password@host). */
static bool url_has_password(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return false;
    p += 3;
    const char *at = strchr(p, '@'), *end = p + strcspn(p, "/?");
    return at && at < end && memchr(p, ':', (size_t)(at - p)) != NULL;
}

int cli_migrate(int argc, char **argv)
{
    struct config cfg;
    if (cli_options(&cfg, &argc, argv) != 0)
        return 2;
    const char *to = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--to") == 0)
            to = argv[i + 1];
    if (!to || !store_url_is_pg(to)) {
        fputs("usage: jmapd migrate --to postgresql://USER@HOST/DB [--data DIR]\n", stderr);
        return 2;
    }
    if (url_has_password(to)) {
        fputs("jmapd: no password on the command line: use PGPASSWORD, PGPASSFILE or "
              "store_password_file\n",
              stderr);
        return 2;
    }
    store_set_password_file(cfg.store_password_file[0] ? cfg.store_password_file : NULL);
    char *err = NULL;
    if (store_migrate_sqlite_to_pg(cfg.data_dir, to, stdout, &err) != 0) {
        fprintf(stderr, "jmapd: migrate: %s\n", err ? err : "failed");
        free(err);
        return 1;
    }
    printf("migrated %s/jmapd.db (left unchanged); set store = <the URL> to serve from it\n",
           cfg.data_dir);
    return 0;
}
