/* convert_vcard.c — placeholder until the vcard converter lands (owned by its issue). */
#include <stdio.h>

#include "cli/cli.h"

int cli_convert_vcard(int argc, char **argv)
{
    fprintf(stderr, "jmapd convert: vcard conversion is not built yet\n");
    return 1;
}
