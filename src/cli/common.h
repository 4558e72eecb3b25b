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
/* Opens the store in cfg->data_dir, printing the error on failure. */
struct store *cli_store(const struct config *cfg);
/* Reads one line (a password) from stdin into a malloc'd string without newline. */
char *cli_read_line(void);

#endif
