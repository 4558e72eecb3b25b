/*
 * pool.h — the API workers (server.c hands them API and DAV requests, exports, feeds):
 * a fixed set of threads running jobs. The worker that went idle last gets the next job
 * (LIFO): its store connection, page cache, malloc arena and CPU caches are the warmest,
 * so a client's sequence of requests stays on one warm worker. When every worker is
 * busy, jobs wait in arrival order (FIFO), so a long job holds up only its own worker.
 */
#ifndef JMAPD_HTTP_POOL_H
#define JMAPD_HTTP_POOL_H

/* A job: embedded in the caller's own struct (no allocation per job). */
struct pool_job {
    struct pool_job *next;
};

struct http_pool;

/* Starts n workers, each calling run(job, ud) for the jobs it takes; NULL when not even
 * one thread could be started. */
struct http_pool *http_pool_start(int n, void (*run)(struct pool_job *job, void *ud), void *ud);
/* Hands job to the most recently idle worker, or queues it behind the others. */
void http_pool_push(struct http_pool *p, struct pool_job *job);
/* Lets the workers run every job pushed so far, then ends them and frees p. */
void http_pool_stop(struct http_pool *p);
/* How many workers run. */
int http_pool_size(const struct http_pool *p);
/* How many of them wait for a job now. */
int http_pool_idle(struct http_pool *p);

#endif
