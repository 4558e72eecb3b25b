/*
 * api_threads.c — issue 21 target 1 (reads scale with cores) without HTTP and without a
 * load generator sharing the cores: the API handler (jmap_api_parse, jmap_api_run, as
 * the HTTP threads call them) driven in-process on an account bench_scale.sh made, from
 * one thread and then from two, each thread with its own store connection, asking the
 * same requests for SECONDS each:
 *   get50   a /get of 50 ids (of the month below)
 *   month   the expanded one-month query measure.py's wrk figure asks (2018-08)
 *   months  five months, each thread going round them from a month of its own (two
 *           readers whose series share the parsed-event cache)
 * For each, 1 and 2 threads in turn (three rounds of a third of SECONDS each), per
 * thread count: requests/s; per request the threads' CPU, the time they
 * waited for a core (the run queue: the machine's other load), the time they slept
 * (off the CPU not for a core: a lock, I/O), their voluntary context switches and minor
 * page faults (from /proc/self/task/TID/schedstat and getrusage(RUSAGE_THREAD)). Then
 * two ratios of 2 threads over 1: "wall", the requests/s as measured (the machine's
 * load moves it), and "own", the requests/s each thread would reach with a core of its
 * own (its requests over its CPU plus sleep, summed): what two free cores would give,
 * unless the threads slow each other down (a lock: sleep; shared cache lines, the
 * allocator, the kernel's memory map: CPU per request).
 * usage: api_threads --data DIR [--config FILE] [SECONDS [RESULTS SIZE]]   (user bench, its
 * password bench-pw); with RESULTS, the ratios are appended to that file as a JSON line
 * of kind "inproc" for bench_scale.sh's table. API_THREADS_ONLY=month (get50, months)
 * runs that one alone (to profile it).
 */
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "jmap/jmap.h"
#include "types/event_cache.h"
#include "types/types.h"
#include "util/util.h"

#define MAX_BODIES 5
#define ROUNDS 3

struct job {
    struct jmap_server *srv;
    const struct jmap_user *user;
    char *bodies[MAX_BODIES];
    size_t nbodies;
    size_t first; /* the body this thread starts with */
    atomic_bool *stop;
    /* out */
    long requests, failed;
    double run_ns, wait_ns, wall_ns;
    long vcsw, minflt;
};

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* this thread's time on a core and waiting for one, in ns (schedstat) */
static void sched_ns(double *run, double *wait)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld/schedstat", (long)syscall(SYS_gettid));
    FILE *f = fopen(path, "r");
    unsigned long long r = 0, w = 0;
    if (!f || fscanf(f, "%llu %llu", &r, &w) != 2)
        r = w = 0;
    if (f)
        fclose(f);
    *run = (double)r;
    *wait = (double)w;
}

/* One request as the HTTP thread runs it: parsed, then run (quick or not). */
static bool one_request(struct jmap_server *srv, const struct jmap_user *user, const char *body,
                        char **response)
{
    struct jmap_result out = {0};
    json_t *req = jmap_api_parse(srv, body, strlen(body), &out);
    if (req)
        jmap_api_run(srv, user, req, &out, jmap_api_quick(srv, req));
    bool ok = out.status == 200 && out.body && !strstr(out.body, "\"error\"");
    if (response)
        *response = out.body;
    else
        free(out.body);
    return ok;
}

static void *thread_main(void *arg)
{
    struct job *j = arg;
    double run0, wait0, run1, wait1;
    struct rusage u0, u1;
    getrusage(RUSAGE_THREAD, &u0);
    sched_ns(&run0, &wait0);
    double t0 = now_ns();
    size_t k = j->first;
    while (!atomic_load_explicit(j->stop, memory_order_relaxed)) {
        if (!one_request(j->srv, j->user, j->bodies[k], NULL))
            j->failed++;
        j->requests++;
        k = (k + 1) % j->nbodies;
    }
    j->wall_ns = now_ns() - t0;
    sched_ns(&run1, &wait1);
    getrusage(RUSAGE_THREAD, &u1);
    j->run_ns = run1 - run0;
    j->wait_ns = wait1 - wait0;
    j->vcsw = u1.ru_nvcsw - u0.ru_nvcsw;
    j->minflt = u1.ru_minflt - u0.ru_minflt;
    return NULL;
}

/* What n threads did over the rounds so far: per thread, summed. */
struct totals {
    long requests[2], failed;
    double run_ns[2], wait_ns[2], sleep_ns[2], wall_ns, vcsw, minflt;
};

/* The bodies on n threads for seconds, added to t. */
static void run(struct jmap_server *srv, const struct jmap_user *user, char **bodies,
                size_t nbodies, int n, double seconds, struct totals *t)
{
    atomic_bool stop = false;
    struct job jobs[2] = {0};
    pthread_t tid[2];
    for (int i = 0; i < n; i++) {
        jobs[i] = (struct job){.srv = srv, .user = user, .nbodies = nbodies, .stop = &stop};
        memcpy(jobs[i].bodies, bodies, nbodies * sizeof *bodies);
        jobs[i].first = (size_t)i * 2 % nbodies;
        pthread_create(&tid[i], NULL, thread_main, &jobs[i]);
    }
    struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop, true);
    double wall = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(tid[i], NULL);
        struct job *j = &jobs[i];
        double slept = j->wall_ns - j->run_ns - j->wait_ns;
        t->requests[i] += j->requests;
        t->failed += j->failed;
        t->run_ns[i] += j->run_ns;
        t->wait_ns[i] += j->wait_ns;
        t->sleep_ns[i] += slept > 0 ? slept : 0;
        t->vcsw += (double)j->vcsw;
        t->minflt += (double)j->minflt;
        wall = j->wall_ns > wall ? j->wall_ns : wall;
    }
    t->wall_ns += wall;
}

struct figures {
    double rps, own_rps, cpu_ms, wait_ms, sleep_ms, vcsw, minflt;
};

static struct figures figures_of(const struct totals *t, int n)
{
    struct figures f = {0};
    double requests = 0, run = 0, wait = 0, sleep = 0;
    for (int i = 0; i < n; i++) {
        requests += (double)t->requests[i];
        run += t->run_ns[i];
        wait += t->wait_ns[i];
        sleep += t->sleep_ns[i];
        /* this thread's requests/s with a core of its own: no run-queue wait */
        f.own_rps += (double)t->requests[i] / ((t->run_ns[i] + t->sleep_ns[i]) / 1e9);
    }
    f.rps = requests / (t->wall_ns / 1e9);
    f.cpu_ms = run / 1e6 / requests;
    f.wait_ms = wait / 1e6 / requests;
    f.sleep_ms = sleep / 1e6 / requests;
    f.vcsw = t->vcsw / requests;
    f.minflt = t->minflt / requests;
    return f;
}

static char *request_body(const char *call)
{
    return xasprintf(
        "{\"using\":[\"urn:ietf:params:jmap:core\",\"urn:ietf:params:jmap:calendars\"],"
        "\"methodCalls\":[%s]}",
        call);
}

static char *month_body(const char *account, int k)
{
    /* measure.py's month(k) */
    int y = 2017 + k % 10, m = 1 + (k * 7) % 12;
    int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
    char call[512];
    snprintf(call, sizeof call,
             "[\"CalendarEvent/query\",{\"accountId\":\"%s\",\"filter\":{\"after\":"
             "\"%04d-%02d-01T00:00:00\",\"before\":\"%04d-%02d-01T00:00:00\"},"
             "\"expandRecurrences\":true,\"sort\":[{\"property\":\"start\"}]},\"q\"]",
             account, y, m, ny, nm);
    return request_body(call);
}

int main(int argc, char **argv)
{
    struct config cfg;
    if (cli_options(&cfg, &argc, argv))
        return 2;
    double seconds = argc > 1 ? atof(argv[1]) : 3;
    const char *results = argc > 3 ? argv[2] : NULL;
    long size = argc > 3 ? atol(argv[3]) : 0;
    const char *name = "bench";
    log_set_level(LOG_WARN);
    jmap_init(types_registry);
    cli_malloc_tune(cfg.threads > 0 ? cfg.threads : (int)sysconf(_SC_NPROCESSORS_ONLN));
    event_cache_set_limit((size_t)(cfg.cache_size < (1 << 20) ? cfg.cache_size : 1 << 20) << 20);
    struct store *st = cli_store(&cfg);
    if (!st)
        return 1;
    struct jmap_server srv = {.store = st, .cfg = &cfg};
    struct store_user su = {0};
    struct jmap_user user;
    if (store_user_get(store_conn(st), name, &su) != STORE_OK ||
        jmap_user_load(store_conn(st), su.id, &user) != STORE_OK) {
        fprintf(stderr, "api_threads: no user %s in %s\n", name, cfg.data_dir);
        return 1;
    }
    char *months[MAX_BODIES];
    for (int k = 0; k < MAX_BODIES; k++)
        months[k] = month_body(su.account_id, k + 1);
    /* the month's ids (its series parsed, as after the first query) */
    char *resp = NULL;
    if (!one_request(&srv, &user, months[0], &resp)) {
        fprintf(stderr, "api_threads: the month query failed: %s\n", resp ? resp : "");
        return 1;
    }
    json_t *doc = json_loads(resp, 0, NULL);
    free(resp);
    json_t *ids = json_object_get(
        json_array_get(json_array_get(json_object_get(doc, "methodResponses"), 0), 1), "ids");
    json_t *fifty = json_array();
    for (size_t i = 0; i < 50 && i < json_array_size(ids); i++)
        json_array_append(fifty, json_array_get(ids, i));
    json_t *call =
        json_pack("[s{ssso}s]", "CalendarEvent/get", "accountId", su.account_id, "ids", fifty, "g");
    char *call_text = json_dumps(call, JSON_COMPACT);
    char *get50 = request_body(call_text);
    size_t nids = json_array_size(ids);
    free(call_text);
    json_decref(call);
    json_decref(doc);
    for (int k = 0; k < MAX_BODIES; k++) /* every month's series parsed */
        one_request(&srv, &user, months[k], NULL);

    printf("issue 21 target 1 in-process (%s, %zu instances in the month, %.1f s each, "
           "cache_size %lld MiB)\n",
           cfg.data_dir, nids, seconds, (long long)cfg.cache_size);
    printf("%-7s %3s %9s %8s %8s %8s %8s %9s  (per request: CPU, run-queue wait, sleep in ms)\n",
           "request", "thr", "req/s", "cpu", "runq", "sleep", "vcsw", "minflt");
    struct {
        const char *name;
        char **bodies;
        size_t n;
    } kinds[] = {{"get50", &get50, 1}, {"month", months, 1}, {"months", months, MAX_BODIES}};
    int status = 0;
    json_t *fig = json_pack("{sssi}", "kind", "inproc", "size", (json_int_t)size);
    const char *only = getenv("API_THREADS_ONLY"); /* one request kind (for perf record) */
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (only && strcmp(only, kinds[i].name) != 0)
            continue;
        /* 1 and 2 threads in turn, ROUNDS times: the machine's load drifts less
         * between the two figures than over one long run of each */
        struct totals t[2] = {0};
        for (int round = 0; round < ROUNDS; round++)
            for (int n = 1; n <= 2; n++)
                run(&srv, &user, kinds[i].bodies, kinds[i].n, n, seconds / ROUNDS, &t[n - 1]);
        struct figures f[2];
        for (int n = 1; n <= 2; n++) {
            f[n - 1] = figures_of(&t[n - 1], n);
            struct figures *x = &f[n - 1];
            printf("%-7s %3d %9.1f %8.3f %8.3f %8.3f %8.3f %9.1f\n", kinds[i].name, n, x->rps,
                   x->cpu_ms, x->wait_ms, x->sleep_ms, x->vcsw, x->minflt);
            if (t[n - 1].failed) {
                fprintf(stderr, "api_threads: %ld %s requests failed\n", t[n - 1].failed,
                        kinds[i].name);
                status = 1;
            }
        }
        printf("%-7s 2 threads over 1: wall %.2f, own %.2f, CPU per request %.2fx\n", kinds[i].name,
               f[1].rps / f[0].rps, f[1].own_rps / f[0].own_rps, f[1].cpu_ms / f[0].cpu_ms);
        char k[64];
        snprintf(k, sizeof k, "%s_rps1", kinds[i].name);
        json_object_set_new(fig, k, json_real(f[0].rps));
        snprintf(k, sizeof k, "%s_cpu1_ms", kinds[i].name);
        json_object_set_new(fig, k, json_real(f[0].cpu_ms));
        snprintf(k, sizeof k, "%s_scale2_wall", kinds[i].name);
        json_object_set_new(fig, k, json_real(f[1].rps / f[0].rps));
        snprintf(k, sizeof k, "%s_scale2_own", kinds[i].name);
        json_object_set_new(fig, k, json_real(f[1].own_rps / f[0].own_rps));
        snprintf(k, sizeof k, "%s_cpu2_over1", kinds[i].name);
        json_object_set_new(fig, k, json_real(f[1].cpu_ms / f[0].cpu_ms));
        snprintf(k, sizeof k, "%s_sleep2_ms", kinds[i].name);
        json_object_set_new(fig, k, json_real(f[1].sleep_ms));
    }
    if (results) {
        FILE *out = fopen(results, "a");
        char *line = json_dumps(fig, JSON_COMPACT);
        if (out && line)
            fprintf(out, "%s\n", line);
        free(line);
        if (out)
            fclose(out);
    }
    json_decref(fig);
    for (int k = 0; k < MAX_BODIES; k++)
        free(months[k]);
    free(get50);
    store_user_clear(&su);
    store_close(st);
    return status;
}
