/*
 * convert_vcard.c — `jmapd convert` for contacts: vCard (.vcf, .vcard) to JSContact
 * JSON and back, on top of formats/jscontact/jscontact.h.
 *
 *   jmapd convert FILE.vcf [--to json|vcf] [--vcard3]   one Card, or an array
 *   jmapd convert FILE.json [--to vcf|json] [--vcard3]  vCard 4.0 (3.0 with --vcard3)
 *   jmapd convert - --to json|vcf                       stdin; the content decides
 *   jmapd convert FILE.vcf --check                      parse and convert only: prints
 *                                                       the number of Cards (a dry run
 *                                                       of an import)
 *
 * Output goes to stdout. Bad input: exit 1 and a message naming the line (vCard) or
 * the property path (JSON) on stderr. Usage errors: exit 2.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/fast_alloc.h"
#include "formats/jscalendar/jscal_util.h"
#include "formats/jscontact/jscontact.h"

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int looks_like_json(const char *s, size_t n)
{
    size_t i = 0;
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i < n && (s[i] == '{' || s[i] == '[');
}

static int usage(void)
{
    fprintf(stderr,
            "usage: jmapd convert FILE.vcf|FILE.json|- [--to vcf|json] [--vcard3] [--check]\n");
    return 2;
}

/* One half of a vCard file: parsed, converted and serialised on its own thread. */
typedef struct job {
    const char *text;
    size_t len;
    int check; /* convert only, no JSON text */
    int ok;
    size_t n;
    char **out; /* JSON text per card */
} job;

/* A Card's compact JSON text (malloc'd): the same bytes as json_dumps(JSON_COMPACT), written
 * by the faster writer of formats/jscalendar/jscal_util.h. */
static char *card_json(const json_t *card)
{
    jbuf b = {0};
    jwriter_append(card, &b);
    return jbuf_take(&b);
}

/* The whole part at once: parse every card, then convert each. */
static void convert_whole(job *j)
{
    vcard *vcs;
    j->ok = vcard_parse(j->text, j->len, &vcs, &j->n, NULL) == 0;
    if (!j->ok)
        return;
    j->out = j->check ? NULL : calloc(j->n ? j->n : 1, sizeof *j->out);
    for (size_t i = 0; i < j->n; i++) {
        json_t *card = jscontact_from_vcard(&vcs[i]);
        if (j->out)
            j->out[i] = card_json(card);
        json_decref(card);
    }
    vcard_list_free(vcs, j->n);
}

/* Where a batch that starts at text[from] ends: at the first BEGIN:VCARD line at least
 * want bytes on, or at len. */
static size_t batch_end(const char *text, size_t len, size_t from, size_t want)
{
    for (size_t i = from + want; i + 12 < len; i++)
        if (text[i] == '\n' && strncasecmp(text + i + 1, "BEGIN:VCARD", 11) == 0)
            return i + 1;
    return len;
}

#define BATCH_BYTES 32768

/* A large part is parsed and converted in batches of cards split where split_point splits,
 * so that the parsed cards of a batch are freed (and their memory reused) before the next
 * is parsed: a fraction of the memory, far fewer page faults and cache misses. Should a
 * batch not parse on its own, the part is done whole, as before, so results never differ. */
static void *convert_part(void *arg)
{
    job *j = arg;
    if (j->len < 4 * BATCH_BYTES) {
        convert_whole(j);
        return NULL;
    }
    size_t cap = 0, json_n = 0;
    char **out = NULL;
    for (size_t pos = 0; pos < j->len;) {
        size_t end = batch_end(j->text, j->len, pos, BATCH_BYTES);
        vcard *vcs;
        size_t n;
        if (vcard_parse(j->text + pos, end - pos, &vcs, &n, NULL) != 0) {
            for (size_t i = 0; out && i < json_n; i++)
                free(out[i]);
            free(out);
            convert_whole(j);
            return NULL;
        }
        if (!j->check && json_n + n > cap) {
            cap = (json_n + n) * 2;
            out = realloc(out, cap * sizeof *out);
        }
        for (size_t i = 0; i < n; i++) {
            json_t *card = jscontact_from_vcard(&vcs[i]);
            if (!j->check)
                out[json_n + i] = card_json(card);
            json_decref(card);
        }
        json_n += n;
        vcard_list_free(vcs, n);
        pos = end;
    }
    j->ok = 1;
    j->n = json_n;
    j->out = j->check ? NULL : (out ? out : calloc(1, sizeof *out));
    return NULL;
}

/* Where the second half starts: the first BEGIN:VCARD line after the middle. */
static size_t split_point(const char *text, size_t len)
{
    for (size_t i = len / 2; i + 12 < len; i++)
        if (text[i] == '\n' && strncasecmp(text + i + 1, "BEGIN:VCARD", 11) == 0)
            return i + 1;
    return len;
}

/* vCard text → Cards → JSON (or back to vCard, normalised to 4.0/3.0). One Card is
 * printed indented; several as a JSON array with one Card per line. Large files
 * are split in two and converted on two threads (formats/ is pure and
 * thread-safe); any error is then reported from a parse of the whole text, so
 * that line numbers are right. */
static int from_vcard(const char *name, const char *text, size_t len, int to_vcf, int flags,
                      int check)
{
    char *err = NULL;
    int rc = 0;
    if (to_vcf) {
        json_t *cards = jscontact_from_vcard_text(text, len, &err);
        char *out = cards ? jscontact_to_vcard_text(cards, flags, &err) : NULL;
        if (!out) {
            fprintf(stderr, "jmapd convert: %s: %s\n", name, err ? err : "cannot convert");
            rc = 1;
        } else {
            fputs(out, stdout);
            free(out);
        }
        free(err);
        json_decref(cards);
        return rc;
    }
    size_t mid = len > 65536 ? split_point(text, len) : len;
    if (mid < len) {
        cli_fast_json_alloc(); /* large input: cli/fast_alloc.h; no JSON value exists yet */
        /* the parsed cards of a batch are freed before the next batch is parsed: glibc
         * would give the freed top of the heap back to the kernel every time (above
         * 128 KiB) and fault the same pages in again for the next batch */
        mallopt(M_TRIM_THRESHOLD, 64 << 20);
    }
    job jobs[2] = {{text, mid, check, 0, 0, NULL}, {text + mid, len - mid, check, 1, 0, NULL}};
    pthread_t th;
    int threaded = mid < len && pthread_create(&th, NULL, convert_part, &jobs[1]) == 0;
    convert_part(&jobs[0]);
    if (threaded)
        pthread_join(th, NULL);
    if (jobs[0].ok && jobs[0].n == 1 && !threaded && !check) {
        /* a single Card: indented */
        json_t *card = json_loads(jobs[0].out[0], 0, NULL);
        free(jobs[0].out[0]);
        char *indented = json_dumps(card, JSON_INDENT(2));
        jobs[0].out[0] = indented ? strdup(indented) : NULL;
        jwriter_text_free(indented); /* jansson's allocator, which may not be malloc */
        json_decref(card);
    }
    if (!jobs[0].ok || !jobs[1].ok) {
        vcard *vcs;
        size_t n;
        if (vcard_parse(text, len, &vcs, &n, &err) == 0)
            vcard_list_free(vcs, n);
        fprintf(stderr, "jmapd convert: %s: %s\n", name, err ? err : "cannot parse");
        free(err);
        rc = 1;
    } else if (check) {
        printf("%zu\n", jobs[0].n + jobs[1].n);
    } else {
        size_t total = jobs[0].n + jobs[1].n, k = 0;
        if (total > 1)
            fputs("[\n", stdout);
        for (int w = 0; w < 2; w++)
            for (size_t i = 0; i < jobs[w].n; i++, k++) {
                if (!jobs[w].out || !jobs[w].out[i]) {
                    fprintf(stderr, "jmapd convert: %s: cannot serialise JSON\n", name);
                    rc = 1;
                    continue;
                }
                fputs(jobs[w].out[i], stdout);
                fputs(k + 1 < total ? ",\n" : "\n", stdout);
            }
        if (total > 1)
            fputs("]\n", stdout);
    }
    for (int w = 0; w < 2; w++) {
        for (size_t i = 0; jobs[w].out && i < jobs[w].n; i++)
            free(jobs[w].out[i]);
        free(jobs[w].out);
    }
    return rc;
}

/* JSON Card(s) → vCard (or, with --to json, validated and normalised JSON). */
static int from_json(const char *name, const char *text, size_t len, int to_json, int flags)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, 0, &jerr);
    if (!doc) {
        fprintf(stderr, "jmapd convert: %s: line %d: invalid JSON: %s\n", name, jerr.line,
                jerr.text);
        return 1;
    }
    if (!json_is_object(doc) && !json_is_array(doc)) {
        fprintf(stderr, "jmapd convert: %s: expected a Card or an array of Cards\n", name);
        json_decref(doc);
        return 1;
    }
    int rc = 0;
    if (to_json) {
        size_t n = json_is_array(doc) ? json_array_size(doc) : 1;
        for (size_t i = 0; i < n && !rc; i++) {
            json_t *c = json_is_array(doc) ? json_array_get(doc, i) : doc;
            json_t *msgs = NULL;
            if (jscontact_card_validate(c, NULL, &msgs)) {
                fprintf(stderr, "jmapd convert: %s: card %zu: %s\n", name, i,
                        json_string_value(json_array_get(msgs, 0)));
                rc = 1;
            } else {
                jscontact_card_normalise(c);
            }
            json_decref(msgs);
        }
        if (!rc) {
            char *js = json_dumps(doc, JSON_INDENT(2));
            fputs(js, stdout);
            fputc('\n', stdout);
            free(js);
        }
    } else {
        char *err = NULL;
        char *out = jscontact_to_vcard_text(doc, flags, &err);
        if (!out) {
            fprintf(stderr, "jmapd convert: %s: %s\n", name, err ? err : "cannot convert");
            free(err);
            rc = 1;
        } else {
            fputs(out, stdout);
            free(out);
        }
    }
    json_decref(doc);
    return rc;
}

int cli_convert_vcard(int argc, char **argv)
{
    const char *file = NULL, *to = NULL;
    int flags = 0, check = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else if (strcmp(argv[i], "--vcard3") == 0)
            flags |= JSCONTACT_VCARD3;
        else if (strcmp(argv[i], "--check") == 0)
            check = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return usage();
        else if (!file)
            file = argv[i];
        else
            return usage();
    }
    if (!file)
        return usage();
    if (to && strcmp(to, "vcf") && strcmp(to, "json"))
        return usage();
    size_t len = 0;
    char *text = cli_read_input(file, &len);
    if (!text) {
        fprintf(stderr, "jmapd convert: %s: cannot read\n", file);
        return 1;
    }
    int json_in;
    if (has_suffix(file, ".json"))
        json_in = 1;
    else if (has_suffix(file, ".vcf") || has_suffix(file, ".vcard"))
        json_in = 0;
    else
        json_in = looks_like_json(text, len);
    int rc;
    if (json_in)
        rc = from_json(file, text, len, to && !strcmp(to, "json"), flags);
    else
        rc = from_vcard(file, text, len,
                        !check && ((to && !strcmp(to, "vcf")) || (flags & JSCONTACT_VCARD3)), flags,
                        check);
    free(text);
    return rc;
}
