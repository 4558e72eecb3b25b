/*
 * convert_ical.c — `jmapd convert` for iCalendar <-> JSCalendar and `jmapd expand`, thin
 * command-line wrappers over src/formats/icalendar_jscalendar/ical.h, jscalendar/jscal.h and recurrence/recur.h. Input is a file or
 * "-" for stdin; bad input exits 1 with a message naming the line or property.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/fast_alloc.h"
#include "formats/icalendar_jscalendar/ical.h"
#include "formats/jscalendar/jscal.h"
#include "formats/jscalendar/jscal_util.h"
#include "formats/recurrence/recur.h"

#define MAX_INPUT (256u << 20)

/* A regular file is read in one allocation advised for huge pages (a large input is
 * tens of megabytes); stdin through cli_read_input. */
static char *read_all(const char *path, size_t *len)
{
    if (strcmp(path, "-") == 0)
        return cli_read_input(path, len);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    struct stat st;
    if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode) && st.st_size >= 0 &&
        (uintmax_t)st.st_size < MAX_INPUT && (size_t)st.st_size + 1 > cap)
        cap = (size_t)st.st_size + 1; /* a file read in one go: the first read ends short */
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    cli_advise_huge(buf, cap + 1);
    for (;;) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap)
            break;
        if (cap >= MAX_INPUT)
            break;
        cap *= 2;
        buf = realloc(buf, cap + 1);
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Frees a result at exit. A release build leaves a large tree to the OS (freeing 10,000
 * events' worth of JSON costs a fifth of a conversion); sanitizer builds free it so leak
 * checking stays meaningful. */
static void release(json_t *j)
{
#if defined(__SANITIZE_ADDRESS__) || defined(JMAPD_FUZZING)
    json_decref(j);
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    json_decref(j);
#else
    if (json_array_size(json_object_get(j, "entries")) <= 100)
        json_decref(j);
#endif
#else
    if (json_array_size(json_object_get(j, "entries")) <= 100)
        json_decref(j);
#endif
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* 1 if the text looks like JSON (first non-space character is { or [). */
static int looks_json(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return *s == '{' || *s == '[';
}

static json_t *load_json(const char *buf, size_t len)
{
    json_error_t jerr;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        fprintf(stderr, "line %d column %d: invalid JSON: %s\n", jerr.line, jerr.column,
                jerr.text);
    return j;
}

/* The repairs made to a real-world file (issue 12 §3.5), one line each on stderr. */
static void print_warnings(json_t *warnings)
{
    size_t i;
    json_t *w;
    json_array_foreach(warnings, i, w) fprintf(stderr, "warning: %s\n", json_string_value(w));
    json_decref(warnings);
}

/* Parses input of either kind into JSCalendar. */
static json_t *load_jscal(const char *buf, size_t len, int flags)
{
    if (looks_json(buf))
        return load_json(buf, len);
    char *err = NULL;
    json_t *warnings = json_array();
    json_t *j = ical_to_jscal_warn(buf, len, flags, warnings, &err);
    print_warnings(warnings);
    if (!j) {
        fprintf(stderr, "%s\n", err ? err : "invalid iCalendar");
        free(err);
    }
    return j;
}

/* Entries of a streamed conversion, written compactly into a memory buffer. */
static int write_entry(json_t *entry, size_t index, void *ud)
{
    jbuf *b = ud;
    if (index)
        jbuf_add(b, ",", 1);
    jwriter_append(entry, b);
    return 0;
}

/* iCalendar text -> JSCalendar JSON on stdout. A large calendar without overrides is
 * converted and written one entry at a time, each entry freed as soon as it is written, so
 * memory stays small and is reused. The output is byte for byte that of the whole-tree
 * path; nothing is written on an error. */
static int ical_to_json_streamed(const char *buf, size_t len, int flags)
{
    jbuf out = {0};
    char *err = NULL;
    int streamed = 0, rc = 0;
    if (len > (1u << 20)) { /* JSON is about twice the iCalendar text: room for it at once */
        jbuf_grow(&out, 2 * len);
        cli_advise_huge(out.s, out.cap);
    }
    /* more than 100 entries: the compact form (see below) */
    json_t *warnings = json_array();
    json_t *j =
        ical_to_jscal_stream(buf, len, flags, 101, write_entry, &out, &streamed, warnings, &err);
    print_warnings(warnings);
    if (!j) {
        fprintf(stderr, "%s\n", err ? err : "invalid iCalendar");
        free(err);
        rc = 1;
    } else if (streamed) {
        /* the Group's own properties, then "entries" where ical_to_jscal puts it: last */
        jbuf g = {0};
        jwriter_append(j, &g);
        if (g.len >= 2 && g.s[g.len - 1] == '}') {
            fwrite(g.s, 1, g.len - 1, stdout);
            fputs(g.len > 2 ? ",\"entries\":[" : "\"entries\":[", stdout);
            fwrite(out.s, 1, out.len, stdout);
            fputs("]}\n", stdout);
        } else {
            rc = 1;
        }
        free(g.s);
        json_decref(j);
    } else {
        size_t n = json_array_size(json_object_get(j, "entries"));
        if (n > 100) {
            jwriter_fwrite(j, stdout);
            putchar('\n');
        } else {
            json_dumpf(j, stdout, JSON_INDENT(2));
            putchar('\n');
        }
        release(j);
    }
    free(out.s);
    return rc;
}

int cli_convert_ical(int argc, char **argv)
{
    const char *file = NULL, *to = NULL;
    /* draft -25 §2.1.1: a VCALENDAR converts to a Group (its prodId, uid, title, ...);
     * --bare asks for the lone Event or Task of a calendar with nothing else of its own. */
    int flags = ICAL_TO_JSCAL_GROUP;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--to") && i + 1 < argc)
            to = argv[++i];
        else if (!strcmp(argv[i], "--bare"))
            flags = 0;
        else if (!file)
            file = argv[i];
    }
    if (!file) {
        fprintf(stderr, "usage: jmapd convert FILE [--to ics|json] [--bare]\n");
        return 2;
    }
    size_t len = 0;
    char *buf = read_all(file, &len);
    if (!buf) {
        fprintf(stderr, "jmapd convert: cannot read %s\n", file);
        return 1;
    }
    int input_json = has_suffix(file, ".json") || (!has_suffix(file, ".ics") && looks_json(buf));
    if (len > (1u << 20)) { /* large input: cli/fast_alloc.h */
        cli_fast_json_alloc();
        if (!input_json) /* the parsed tree about three times the text, the JSON two: room */
            cli_fast_heap(8 * len);
    }
    if (!to)
        to = input_json ? "ics" : "json";
    int rc = 1;
    if (!strcmp(to, "json") && !input_json && !looks_json(buf)) {
        rc = ical_to_json_streamed(buf, len, flags);
    } else if (!strcmp(to, "json")) {
        json_t *j = input_json ? load_json(buf, len) : load_jscal(buf, len, flags);
        if (j) {
            /* Large calendars are written compactly: indentation costs as much as the
             * conversion itself. */
            size_t n = json_array_size(json_object_get(j, "entries"));
            if (n > 100) {
                jwriter_fwrite(j, stdout);
                putchar('\n');
            } else {
                json_dumpf(j, stdout, JSON_INDENT(2));
                putchar('\n');
            }
            release(j);
            rc = 0;
        }
    } else if (!strcmp(to, "ics")) {
        json_t *j = input_json ? load_json(buf, len) : load_jscal(buf, len, ICAL_TO_JSCAL_GROUP);
        json_t *invalid = NULL;
        if (j && input_json) {
            /* RFC 8984 spellings converted where clear (issue 12 §2.3); what is left and
             * anything else invalid never produces output: validate first. */
            json_t *legacy = json_array();
            if (json_is_array(j)) {
                size_t k;
                json_t *e;
                json_array_foreach(j, k, e) jscal_upgrade(e, legacy);
            } else {
                jscal_upgrade(j, legacy);
            }
            json_decref(legacy); /* the validator names what is left */
            if (json_is_array(j)) {
                size_t i;
                json_t *e;
                json_array_foreach(j, i, e) if (jscal_validate(e, JSCAL_ALLOW_MISSING_SERVER_SET | JSCAL_RELAXED,
                                                               &invalid))
                {
                    fprintf(stderr, "invalid JSCalendar object %zu, properties:", i);
                    size_t k;
                    json_t *p;
                    json_array_foreach(invalid, k, p) fprintf(stderr, " %s", json_string_value(p));
                    fprintf(stderr, "\n");
                    json_decref(invalid);
                    json_decref(j);
                    j = NULL;
                    break;
                }
            } else if (jscal_validate(j, JSCAL_ALLOW_MISSING_SERVER_SET | JSCAL_RELAXED, &invalid)) {
                fprintf(stderr, "invalid JSCalendar object, properties:");
                size_t k;
                json_t *p;
                json_array_foreach(invalid, k, p) fprintf(stderr, " %s", json_string_value(p));
                fprintf(stderr, "\n");
                json_decref(invalid);
                json_decref(j);
                j = NULL;
            }
        }
        if (j) {
            char *err = NULL;
            char *ics = jscal_to_ical(j, &err);
            if (ics) {
                fputs(ics, stdout);
                free(ics);
                rc = 0;
            } else {
                fprintf(stderr, "%s\n", err ? err : "conversion failed");
                free(err);
            }
            json_decref(j);
        }
    } else {
        fprintf(stderr, "jmapd convert: --to must be ics or json here\n");
        rc = 2;
    }
    free(buf);
    return rc;
}

typedef struct {
    recur_occurrence occ;
    const char *uid;
} line_t;

static int line_cmp(const void *a, const void *b)
{
    const line_t *x = a, *y = b;
    if (x->occ.utc_start != y->occ.utc_start)
        return x->occ.utc_start < y->occ.utc_start ? -1 : 1;
    int c = strcmp(x->uid ? x->uid : "", y->uid ? y->uid : "");
    return c ? c : strcmp(x->occ.recurrence_id, y->occ.recurrence_id);
}

int cli_expand(int argc, char **argv)
{
    const char *file = NULL, *from = NULL, *to = NULL, *tz = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--from") && i + 1 < argc)
            from = argv[++i];
        else if (!strcmp(argv[i], "--to") && i + 1 < argc)
            to = argv[++i];
        else if (!strcmp(argv[i], "--tz") && i + 1 < argc)
            tz = argv[++i];
        else if (!file)
            file = argv[i];
    }
    int64_t f, t;
    if (!file || !from || !to) {
        fprintf(stderr, "usage: jmapd expand FILE --from UTCDATETIME --to UTCDATETIME [--tz ZONE]\n");
        return 2;
    }
    if (recur_parse_utc(from, &f) || recur_parse_utc(to, &t)) {
        fprintf(stderr, "jmapd expand: --from and --to must be UTC date-times like "
                        "2024-01-01T00:00:00Z\n");
        return 2;
    }
    if (tz && !jscal_timezone_known(tz, NULL)) {
        fprintf(stderr, "jmapd expand: unknown time zone %s\n", tz);
        return 2;
    }
    size_t len = 0;
    char *buf = read_all(file, &len);
    if (!buf) {
        fprintf(stderr, "jmapd expand: cannot read %s\n", file);
        return 1;
    }
    if (len > (1u << 20)) {
        cli_fast_json_alloc();
        cli_fast_heap(4 * len);
    }
    /* expansion needs only the timing properties: skip the rest of the conversion */
    json_t *j = load_jscal(buf, len, ICAL_TO_JSCAL_GROUP | ICAL_TO_JSCAL_TIMING);
    free(buf);
    if (!j)
        return 1;
    json_t *entries = json_array();
    const char *type = json_string_value(json_object_get(j, "@type"));
    if (json_is_array(j))
        json_array_extend(entries, j);
    else if (type && !strcmp(type, "Group"))
        json_array_extend(entries, json_object_get(j, "entries"));
    else
        json_array_append(entries, j);
    line_t *lines = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    recur_iter **iters = calloc(json_array_size(entries) + 1, sizeof *iters);
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
    {
        const char *et = json_string_value(json_object_get(e, "@type"));
        if (!et || (strcmp(et, "Event") && strcmp(et, "Task")))
            continue;
        if (!json_object_get(e, "start") && !json_object_get(e, "due"))
            continue; /* an undated task has no occurrences */
        char *err = NULL;
        int code = 0;
        iters[i] = recur_iter_new(e, f, t, tz, NULL, 0, &code, &err);
        if (!iters[i]) {
            fprintf(stderr, "entry %zu (%s): %s\n", i,
                    json_string_value(json_object_get(e, "uid")) ?: "no uid", err);
            free(err);
            rc = 1;
            break;
        }
        recur_occurrence occ;
        while (recur_iter_next(iters[i], &occ)) {
            if (n == cap) { /* geometric: one realloc per occurrence copied the array */
                cap = cap ? 2 * cap : 1024;
                lines = realloc(lines, cap * sizeof *lines);
            }
            lines[n].occ = occ;
            lines[n].uid = json_string_value(json_object_get(e, "uid"));
            n++;
        }
    }
    if (!rc) {
        qsort(lines, n, sizeof *lines, line_cmp);
        /* one line per occurrence: recurrence id and UTC start (entries merged by start) */
        for (size_t k = 0; k < n; k++) {
            char s[24];
            recur_format_utc(lines[k].occ.utc_start, s);
            printf("%s %s\n", lines[k].occ.recurrence_id, s);
        }
    }
    for (size_t k = 0; k <= json_array_size(entries); k++)
        recur_iter_free(iters[k]);
    free(iters);
    free(lines);
    json_decref(entries);
    release(j);
    return rc;
}
