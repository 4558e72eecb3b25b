/* convert_ical.c — placeholder until the ical converter lands (owned by its issue). */
#include <stdio.h>

#include "cli/cli.h"

int cli_convert_ical(int argc, char **argv)
{
    fprintf(stderr, "jmapd convert: ical conversion is not built yet\n");
    return 1;
}

int cli_expand(int argc, char **argv)
{
    fprintf(stderr, "jmapd expand: not built yet\n");
    return 1;
}
