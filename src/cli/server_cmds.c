/* placeholder: replaced as the core server lands */
#include <stdio.h>

#include "cli/cli.h"

int cli_serve(int argc, char **argv) { fprintf(stderr, "not yet\n"); return 1; }
int cli_user(int argc, char **argv) { fprintf(stderr, "not yet\n"); return 1; }
int cli_token(int argc, char **argv) { fprintf(stderr, "not yet\n"); return 1; }
int cli_import(int argc, char **argv) { fprintf(stderr, "not yet\n"); return 1; }
int cli_export(int argc, char **argv) { fprintf(stderr, "not yet\n"); return 1; }
