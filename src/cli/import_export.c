/*
 * import_export.c — `jmapd import` and `jmapd export`. Importers and exporters
 * come from the data-type modules (jmap.h struct jmodule, types/registry.c); this
 * file finds the user's account, picks the importer by file extension or the
 * exporter by its kind given as an option (--calendar ID, --addressbook ID), and
 * runs it in transactions of a few thousand objects. An import shows its progress on a terminal and
 * ends with a summary: imported (new, updated), repaired with warnings, refused.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "jmap/jmap.h"
#include "util/util.h"

static const char *flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

static bool has(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

/* Opens the store and finds NAME's account; NULL after printing why. */
static struct store *open_account(int *argc, char **argv, struct config *cfg, char account[64])
{
    if (cli_options(cfg, argc, argv))
        return NULL;
    int level = log_level_parse(cfg->log_level); /* the store's figures at debug */
    if (level >= 0)
        log_set_level((enum log_level)level);
    const char *name = flag(*argc, argv, "--user");
    if (!name) {
        fprintf(stderr, "jmapd: --user NAME is required\n");
        return NULL;
    }
    store_set_page_cache(256 * 1024); /* issue 21: a bulk job's B-trees in memory */
    struct store *st = cli_store(cfg);
    if (!st)
        return NULL;
    struct store_user u = {0};
    if (store_user_get(store_conn(st), name, &u) != STORE_OK) {
        fprintf(stderr, "jmapd: no such user '%s'\n", name);
        store_close(st);
        return NULL;
    }
    snprintf(account, 64, "%s", u.account_id);
    store_user_clear(&u);
    return st;
}

/* Progress on a terminal (issue 12 §5.2): "path: 1234/5000" on one line, redrawn at most
 * every tenth of a second, for files long enough to wait for. The importer reports
 * progress between objects, which is also where a long import commits a batch. */
struct progress {
    const char *path;
    bool tty;
    struct timespec last;
    bool shown;
    struct store_conn *c;
    size_t committed; /* objects before this one are committed */
    size_t batch;
    bool failed; /* a batch could not be committed */
};

/* Issue 21: one transaction per IMPORT_BATCH objects rather than one for the whole
 * file, whose write-ahead log grows with the file (450 MB for 60,000 events) until the one commit.
 * A commit per batch lets the log be checkpointed and start again; small batches cost
 * more writes (2,000: 3.7 times the bytes written), so batches are large.
 * An object is written whole or not at all, and importing the file again updates
 * what a broken import left (objects are found by uid). */
#define IMPORT_BATCH 20000

/* IMPORT_BATCH, or JMAPD_IMPORT_BATCH from the environment (tests use small ones). */
static size_t import_batch(void)
{
    const char *v = getenv("JMAPD_IMPORT_BATCH");
    long n = v ? strtol(v, NULL, 10) : 0;
    return n > 0 ? (size_t)n : IMPORT_BATCH;
}

static void commit_batch(struct progress *p, size_t done)
{
    if (!p->c || done - p->committed < p->batch)
        return;
    if (store_commit(p->c) != STORE_OK) {
        store_rollback(p->c);
        p->failed = true;
    }
    p->committed = done;
    if (store_begin(p->c, true) != STORE_OK) {
        /* the importer goes on writing: it needs a transaction, so wait for one */
        p->failed = true;
        while (store_begin(p->c, true) != STORE_OK)
            sleep(1);
    }
}

static void show_progress(void *ud, size_t done, size_t total)
{
    struct progress *p = ud;
    if (done < total)
        commit_batch(p, done);
    if (!p->tty || total < 200)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - p->last.tv_sec) * 1000 + (now.tv_nsec - p->last.tv_nsec) / 1000000;
    if (done < total && p->shown && ms < 100)
        return;
    p->last = now;
    p->shown = true;
    fprintf(stderr, "\r%s: %zu/%zu", p->path, done, total);
    if (done == total)
        fputs("\r\033[K", stderr); /* the summary takes the line */
    fflush(stderr);
}

/* "path: 12 imported (10 new, 2 updated), 3 repaired with warnings, 1 refused", then each
 * warning and each refusal with its reason on stderr. */
static void print_summary(const char *path, int n, const struct jmap_import_report *rep)
{
    size_t nw = json_array_size(rep->warnings), nr = json_array_size(rep->refused);
    printf("%s: %d imported (%d new, %d updated), %zu repaired with warnings, %zu refused\n", path,
           n, n - rep->updated, rep->updated, nw, nr);
    size_t i;
    json_t *v;
    json_array_foreach(rep->warnings, i, v)
        fprintf(stderr, "%s: warning: %s\n", path, json_string_value(v));
    json_array_foreach(rep->refused, i, v)
        fprintf(stderr, "%s: refused: %s\n", path, json_string_value(v));
}

/* ---- jansson's small blocks, kept for reuse during an import ----------------------------
 * Issue 21: an import builds and drops a few hundred JSON values per object (the
 * converter's, the copy that is stored, the validation's). glibc keeps seven freed blocks
 * of a size for the next malloc (its tcache); beyond that they go to its bins, and at
 * 100,000 events the heap's bins are long enough that malloc was 19% of an import's
 * CPU (10% at 10,000). So the blocks jansson frees are kept here, per size class, for its
 * next allocations: they are ordinary malloc blocks (anything may still free() one it
 * was handed, as the callers of json_dumps do), a size class holds blocks whose usable
 * size is at least the class's, and at most KEEP_BYTES are kept per thread. */
#define KEEP_CLASSES 64 /* usable sizes 8 + 16 k, k < 64: up to about 1 KiB */
#define KEEP_BYTES ((size_t)16 << 20)

struct kept_block {
    struct kept_block *next;
};

static _Thread_local struct {
    struct kept_block *head[KEEP_CLASSES];
    size_t bytes;
} kept;

static void *kept_malloc(size_t n)
{
    size_t k = n <= 8 ? 0 : (n - 8 + 15) / 16; /* a block of class k has 8 + 16 k or more */
    if (k < KEEP_CLASSES && kept.head[k]) {
        struct kept_block *b = kept.head[k];
        kept.head[k] = b->next;
        kept.bytes -= 8 + 16 * k;
        return b;
    }
    return malloc(n);
}

static void kept_free(void *p)
{
    if (!p)
        return;
    size_t u = malloc_usable_size(p), k = u < 8 ? KEEP_CLASSES : (u - 8) / 16;
    if (k >= KEEP_CLASSES || kept.bytes + 8 + 16 * k > KEEP_BYTES) {
        free(p);
        return;
    }
    struct kept_block *b = p;
    b->next = kept.head[k];
    kept.head[k] = b;
    kept.bytes += 8 + 16 * k;
}

/* Back to malloc and free, the kept blocks freed. */
static void kept_end(void)
{
    json_set_alloc_funcs(malloc, free);
    for (size_t k = 0; k < KEEP_CLASSES; k++)
        while (kept.head[k]) {
            struct kept_block *b = kept.head[k];
            kept.head[k] = b->next;
            free(b);
        }
    kept.bytes = 0;
}

/* Imports one file, a transaction per batch. Returns the number imported, or -1. */
static int import_file(struct store_conn *c, const char *account, const char *path,
                       jmap_import_fn fn)
{
    size_t len;
    char *data = cli_read_input(path, &len), *err = NULL;
    if (!data) {
        fprintf(stderr, "jmapd: cannot read %s\n", path);
        return -1;
    }
    struct progress prog = {
        .path = path, .tty = isatty(STDERR_FILENO), .c = c, .batch = import_batch()};
    clock_gettime(CLOCK_MONOTONIC, &prog.last);
    struct jmap_import_report rep = {0, json_array(), json_array(), show_progress, &prog};
    int n = -1;
    json_set_alloc_funcs(kept_malloc, kept_free);
    /* issue 15 §1: refused by the database before any batch committed, the import runs
     * again from the start of the file (store_retry_again); after a committed batch it
     * fails as any failed batch does (importing the file again completes it) */
    for (int attempt = 0;; attempt++) {
        store_retry_mark(c);
        if (store_begin(c, true) == STORE_OK) {
            n = fn(c, account, data, len, &rep, &err);
            if (n < 0 || prog.failed || store_commit(c) != STORE_OK)
                n = n < 0 ? n : -1;
        }
        if (n >= 0 || !store_retry_again(c, attempt, path))
            break;
        n = -1;
        rep.updated = 0;
        json_array_clear(rep.warnings);
        json_array_clear(rep.refused);
        free(err);
        err = NULL;
        prog.committed = 0;
        prog.failed = prog.shown = false;
    }
    store_rollback(c);
    kept_end();
    free(data);
    if (n < 0)
        fprintf(stderr, "jmapd: %s: %s\n", path, cli_write_error(c, err ? err : "import failed"));
    else
        print_summary(path, n, &rep);
    json_decref(rep.warnings);
    json_decref(rep.refused);
    free(err);
    return n;
}

int cli_import(int argc, char **argv)
{
    struct config cfg;
    char account[64];
    struct store *st = open_account(&argc, argv, &cfg, account);
    if (!st)
        return 1;
    store_set_bulk_writes(true); /* issue 21: the text index merged once per transaction */
    struct store_conn *c = store_conn(st);
    int status = 0, files = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--user") == 0) {
            i++;
            continue;
        }
        const char *path = argv[i], *dot = strrchr(path, '.');
        jmap_import_fn fn = dot ? jmap_importer_find(dot) : NULL;
        files++;
        if (!fn) {
            char kinds[128];
            jmap_importer_list(kinds, sizeof kinds);
            fprintf(stderr, "jmapd: %s: no importer for this kind of file (%s)\n", path, kinds);
            status = 1;
            continue;
        }
        if (import_file(c, account, path, fn) < 0)
            status = 1;
    }
    if (!files) {
        fprintf(stderr, "usage: jmapd import --user NAME FILE...\n");
        status = 2;
    }
    store_close(st);
    return status;
}

static int write_stdout(void *ud, const char *data, size_t len)
{
    return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

int cli_export(int argc, char **argv)
{
    struct config cfg;
    char account[64];
    struct store *st = open_account(&argc, argv, &cfg, account);
    if (!st)
        return 1;
    /* the first registered kind given as --KIND ID */
    const char *kind = NULL, *id = NULL;
    for (size_t i = 0; !id && i < jmap_exporter_count(); i++) {
        char opt[64];
        snprintf(opt, sizeof opt, "--%s", jmap_exporter_kind(i));
        if ((id = flag(argc, argv, opt)))
            kind = jmap_exporter_kind(i);
    }
    jmap_export_fn fn = id ? jmap_exporter_find(kind) : NULL;
    int status = 0;
    if (!fn) {
        fprintf(stderr, "usage: jmapd export --user NAME (");
        for (size_t i = 0; i < jmap_exporter_count(); i++)
            fprintf(stderr, "%s--%s ID", i ? " | " : "", jmap_exporter_kind(i));
        fprintf(stderr, ") [--vcard3]\n");
        status = 2;
    } else {
        struct store_conn *c = store_conn(st);
        const char *ctype = NULL;
        int rc = store_begin(c, false);
        if (rc == STORE_OK)
            rc = fn(c, account, id, has(argc, argv, "--vcard3") ? "vcard3" : "", write_stdout,
                    NULL, &ctype);
        store_rollback(c);
        if (rc != STORE_OK) {
            fprintf(stderr, "jmapd: %s\n", rc == STORE_NOTFOUND ? "no such collection"
                                                                 : "export failed");
            status = 1;
        }
    }
    fflush(stdout);
    store_close(st);
    return status;
}
