/*
 * common.c — see common.h.
 */
#include "cli/common.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

int cli_options(struct config *cfg, int *argc, char **argv)
{
    config_defaults(cfg);
    /* the config file first, so command-line options override it */
    for (int i = 1; i + 1 < *argc; i++)
        if (strcmp(argv[i], "--config") == 0 && config_load(cfg, argv[i + 1]) != 0)
            return -1;
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        bool takes = strcmp(a, "--data") == 0 || strcmp(a, "--listen") == 0 ||
                     strcmp(a, "--config") == 0;
        if (!takes) {
            argv[out++] = argv[i];
            continue;
        }
        if (i + 1 >= *argc) {
            fprintf(stderr, "jmapd: %s needs a value\n", a);
            return -1;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--data") == 0)
            config_set(cfg, "data_dir", v);
        else if (strcmp(a, "--listen") == 0 && config_set(cfg, "listen", v) != 0) {
            fprintf(stderr, "jmapd: bad --listen value\n");
            return -1;
        }
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

struct store *cli_store(const struct config *cfg)
{
    char *err = NULL;
    store_set_password_file(cfg->store_password_file[0] ? cfg->store_password_file : NULL);
    struct store *st = store_open_url(cfg->store, cfg->data_dir, &err);
    if (!st) {
        fprintf(stderr, "jmapd: %s\n", err ? err : "cannot open the store");
        free(err);
    }
    return st;
}

char *cli_read_line(void)
{
    struct buf b = {0};
    int ch;
    while ((ch = getchar()) != EOF && ch != '\n')
        buf_append(&b, &(char){(char)ch}, 1);
    if (b.len && b.data[b.len - 1] == '\r')
        b.data[--b.len] = 0;
    return buf_take(&b);
}

/* stdin's bytes once read, so that a second reader of "-" sees them too */
static char *stdin_data;
static size_t stdin_len;
static bool stdin_read;

char *cli_read_input(const char *path, size_t *len)
{
    bool from_stdin = strcmp(path, "-") == 0;
    if (from_stdin && stdin_read) {
        char *copy = xmalloc(stdin_len + 1);
        memcpy(copy, stdin_data, stdin_len + 1);
        *len = stdin_len;
        return copy;
    }
    FILE *f = from_stdin ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    bool failed = ferror(f);
    if (!from_stdin)
        fclose(f);
    *len = b.len;
    char *data = buf_take(&b);
    if (failed) {
        free(data);
        return NULL;
    }
    if (from_stdin) {
        stdin_data = data;
        stdin_len = *len;
        stdin_read = true;
        return cli_read_input(path, len);
    }
    return data;
}

const char *cli_write_error(struct store_conn *c, const char *why)
{
    return store_retryable(c) ? "the database refused the change each time it was tried; "
                                "nothing changed, try again"
                              : why;
}
