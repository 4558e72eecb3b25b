/*
 * import_export.c — `jmapd import` and `jmapd export`. Importers and exporters
 * come from the data-type modules (jmap.h struct jmodule, types/registry.c); this
 * file finds the user's account, picks the importer by file extension or the
 * exporter by its kind given as an option (--calendar ID, --addressbook ID), and
 * runs it in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "jmap/jmap.h"
#include "util/util.h"

static const char *flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

static bool has(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

/* Opens the store and finds NAME's account; NULL after printing why. */
static struct store *open_account(int *argc, char **argv, struct config *cfg, char account[64])
{
    if (cli_options(cfg, argc, argv))
        return NULL;
    const char *name = flag(*argc, argv, "--user");
    if (!name) {
        fprintf(stderr, "jmapd: --user NAME is required\n");
        return NULL;
    }
    struct store *st = cli_store(cfg);
    if (!st)
        return NULL;
    struct store_user u = {0};
    if (store_user_get(store_conn(st), name, &u) != STORE_OK) {
        fprintf(stderr, "jmapd: no such user '%s'\n", name);
        store_close(st);
        return NULL;
    }
    snprintf(account, 64, "%s", u.account_id);
    store_user_clear(&u);
    return st;
}

int cli_import(int argc, char **argv)
{
    struct config cfg;
    char account[64];
    struct store *st = open_account(&argc, argv, &cfg, account);
    if (!st)
        return 1;
    struct store_conn *c = store_conn(st);
    int status = 0, files = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--user") == 0) {
            i++;
            continue;
        }
        const char *path = argv[i], *dot = strrchr(path, '.');
        jmap_import_fn fn = dot ? jmap_importer_find(dot) : NULL;
        files++;
        if (!fn) {
            char kinds[128];
            jmap_importer_list(kinds, sizeof kinds);
            fprintf(stderr, "jmapd: %s: no importer for this kind of file (%s)\n", path, kinds);
            status = 1;
            continue;
        }
        size_t len;
        char *data = cli_read_input(path, &len), *err = NULL;
        if (!data) {
            fprintf(stderr, "jmapd: cannot read %s\n", path);
            status = 1;
            continue;
        }
        int n = -1;
        if (store_begin(c, true) == STORE_OK) {
            n = fn(c, account, data, len, &err);
            if (n < 0 || store_commit(c) != STORE_OK)
                n = n < 0 ? n : -1;
            store_rollback(c);
        }
        free(data);
        if (n < 0) {
            fprintf(stderr, "jmapd: %s: %s\n", path, err ? err : "import failed");
            status = 1;
        } else {
            printf("%s: %d imported\n", path, n);
        }
        free(err);
    }
    if (!files) {
        fprintf(stderr, "usage: jmapd import --user NAME FILE...\n");
        status = 2;
    }
    store_close(st);
    return status;
}

static int write_stdout(void *ud, const char *data, size_t len)
{
    return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

int cli_export(int argc, char **argv)
{
    struct config cfg;
    char account[64];
    struct store *st = open_account(&argc, argv, &cfg, account);
    if (!st)
        return 1;
    /* the first registered kind given as --KIND ID */
    const char *kind = NULL, *id = NULL;
    for (size_t i = 0; !id && i < jmap_exporter_count(); i++) {
        char opt[64];
        snprintf(opt, sizeof opt, "--%s", jmap_exporter_kind(i));
        if ((id = flag(argc, argv, opt)))
            kind = jmap_exporter_kind(i);
    }
    jmap_export_fn fn = id ? jmap_exporter_find(kind) : NULL;
    int status = 0;
    if (!fn) {
        fprintf(stderr, "usage: jmapd export --user NAME (");
        for (size_t i = 0; i < jmap_exporter_count(); i++)
            fprintf(stderr, "%s--%s ID", i ? " | " : "", jmap_exporter_kind(i));
        fprintf(stderr, ") [--vcard3]\n");
        status = 2;
    } else {
        struct store_conn *c = store_conn(st);
        const char *ctype = NULL;
        int rc = store_begin(c, false);
        if (rc == STORE_OK)
            rc = fn(c, account, id, has(argc, argv, "--vcard3") ? "vcard3" : "", write_stdout,
                    NULL, &ctype);
        store_rollback(c);
        if (rc != STORE_OK) {
            fprintf(stderr, "jmapd: %s\n", rc == STORE_NOTFOUND ? "no such collection"
                                                                 : "export failed");
            status = 1;
        }
    }
    fflush(stdout);
    store_close(st);
    return status;
}
