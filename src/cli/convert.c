/*
 * convert.c — `jmapd convert`: chooses between the iCalendar and vCard converters.
 * A .ics/.ical file or --to ics goes to cli_convert_ical, a .vcf/.vcard file or
 * --to vcf to cli_convert_vcard. For a .json input or stdin the content decides:
 * a JSContact Card ("@type":"Card") or "BEGIN:VCARD" goes to the vCard side.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Reads at most the first 64 KiB of the file to see which family it belongs to.
 * Returns 1 for vCard/JSContact, 0 otherwise (iCalendar/JSCalendar or unknown). */
static int sniff_is_contact(const char *path)
{
    if (strcmp(path, "-") == 0)
        return -1; /* cannot rewind stdin: the caller decides */
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strcasestr(buf, "BEGIN:VCARD") || strstr(buf, "\"Card\"") ||
           strstr(buf, "\"CardGroup\"");
}

int cli_convert(int argc, char **argv)
{
    const char *file = NULL, *to = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else if (!file && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
            file = argv[i]; /* options such as --vcard3 may come first */
    }
    if (!file) {
        fprintf(stderr, "usage: jmapd convert FILE [--to ics|vcf|json]\n");
        return 2;
    }
    if (has_suffix(file, ".vcf") || has_suffix(file, ".vcard") || (to && strcmp(to, "vcf") == 0))
        return cli_convert_vcard(argc, argv);
    if (has_suffix(file, ".ics") || has_suffix(file, ".ical") || has_suffix(file, ".ifb") ||
        (to && strcmp(to, "ics") == 0))
        return cli_convert_ical(argc, argv);
    if (sniff_is_contact(file) == 1)
        return cli_convert_vcard(argc, argv);
    return cli_convert_ical(argc, argv);
}
