/*
 * main.c — the jmapd binary: reads the first word of the command line and runs that
 * subcommand (DESIGN.md §5). Everything else lives in src/cli/.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "jmap/jmap.h"
#include "types/types.h"
#include "util/util.h"

static void usage(FILE *out)
{
    fputs("usage: jmapd COMMAND [ARGS]\n"
          "  serve   [--data DIR] [--listen ADDR:PORT] [--config FILE]\n"
          "  user    add NAME --password-stdin | list | del NAME | passwd NAME --password-stdin\n"
          "  group   add NAME | del NAME | member NAME --add USER|--del USER | list\n"
          "  token   create NAME | list NAME | revoke TOKEN\n"
          "  deliver --user NAME < MESSAGE   (an incoming iMIP message, RFC 6047)\n"
          "  feed    create --user NAME --calendar ID | revoke FEED-ID\n"
          "  import  --user NAME FILE...\n"
          "  export  --user NAME [--calendar ID | --addressbook ID]\n"
          "  subscribe --user NAME URL [--name TEXT] | --user NAME --refresh CALENDAR-ID\n"
          "  convert FILE [--to ics|vcf|json]\n"
          "  expand  FILE --from UTCDATETIME --to UTCDATETIME [--tz ZONE]\n"
          "  migrate --to postgresql://USER@HOST/DB   (the SQLite data into PostgreSQL)\n"
          "  push-key PATH   (the WebPush VAPID key made there if absent; prints its public key)\n"
          "Common options: --data DIR (or JMAPD_DATA), --config FILE\n",
          out);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {
        {"serve", cli_serve},         {"user", cli_user},       {"token", cli_token},
        {"import", cli_import},       {"export", cli_export},   {"convert", cli_convert},
        {"expand", cli_expand},       {"feed", cli_feed},       {"group", cli_group},
        {"subscribe", cli_subscribe}, {"deliver", cli_deliver}, {"migrate", cli_migrate},
        {"push-key", cli_push_key},
    };
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    /* one-shot commands report problems only; `serve` sets its configured level */
    log_set_level(LOG_WARN);
    jmap_init(types_registry); /* the data types, from their one list */
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "jmapd: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
