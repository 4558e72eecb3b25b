/*
 * convert.c — `jmapd convert`: chooses between the iCalendar and vCard converters.
 * A .ics/.ical file or --to ics goes to cli_convert_ical, a .vcf/.vcard file or
 * --to vcf to cli_convert_vcard. For a .json input or stdin the content decides:
 * a JSContact Card ("@type":"Card") or "BEGIN:VCARD" goes to the vCard side.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/common.h"

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Looks at the first 64 KiB of the input (stdin is read whole and kept for the
 * converter, cli_read_input) to see which family it belongs to: 1 for
 * vCard/JSContact, 0 otherwise (iCalendar/JSCalendar or unknown). */
static int sniff_is_contact(const char *path)
{
    char buf[65536];
    size_t n = 0;
    if (strcmp(path, "-") == 0) {
        size_t len;
        char *all = cli_read_input(path, &len);
        if (!all)
            return 0;
        n = len < sizeof buf - 1 ? len : sizeof buf - 1;
        memcpy(buf, all, n);
        free(all);
    } else {
        FILE *f = fopen(path, "rb");
        if (!f)
            return 0;
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
    }
    buf[n] = 0;
    /* an embedded NUL ends the look early; that only makes it iCalendar's to refuse */
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
