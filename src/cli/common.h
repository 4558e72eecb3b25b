/*
 * common.h — option handling shared by the subcommands: --data, --listen,
 * --config (and JMAPD_DATA), applied to a struct config.
 */
#ifndef JMAPD_CLI_COMMON_H
#define JMAPD_CLI_COMMON_H

#include "store/store.h"
#include "util/config.h"

/* Reads the common options out of argv (removing them) into cfg. Returns 0, or
 * -1 after printing a message. */
int cli_options(struct config *cfg, int *argc, char **argv);
/* Opens the store cfg->store names (SQLite in cfg->data_dir by default), printing
 * the error on failure. */
struct store *cli_store(const struct config *cfg);
/* The whole of path, or of stdin for "-", malloc'd and NUL-terminated (*len without the
 * NUL); NULL if it cannot be read. stdin is read once and kept: a later call for "-"
 * gets the same bytes (`convert -` looks at them before choosing a converter). */
char *cli_read_input(const char *path, size_t *len);
/* What to say of a write transaction (store_write) that failed: why, or that the
 * database refused it each time it was run (store_retryable; issue 15 §1). */
const char *cli_write_error(struct store_conn *c, const char *why);
/* Reads one line (a password) from stdin into a malloc'd string without newline. */
char *cli_read_line(void);

#endif
