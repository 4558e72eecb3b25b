/*
 * pool.c — the API workers (pool.h). Each worker has a semaphore of its own; an idle
 * worker waits on it in a stack of idle workers, and a pushed job goes straight to the
 * top of that stack: the worker that finished last, whose caches are warm, finds it in
 * its own slot without taking the lock again. (One shared condition variable woke the
 * waiters in turn: a client's five requests in a row landed on five workers, each with a
 * cold SQLite connection and page cache; issue 20, session 12: with api_threads = 1 an
 * initial sync-collection took half the CPU.) With no idle worker the job waits in a FIFO
 * queue, which a worker empties before it goes idle again.
 */
#include "http/pool.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/util.h"

struct worker {
    struct http_pool *pool;
    pthread_t thread;
    sem_t wake;
    struct pool_job *job; /* handed over by http_pool_push; NULL: stop */
    struct worker *next_idle;
};

struct http_pool {
    pthread_mutex_t lock;
    struct pool_job *head, *tail; /* waiting while every worker is busy */
    struct worker *idle;          /* the most recently idle on top; the queue is empty then */
    bool stop;
    int n;
    struct worker *workers;
    void (*run)(struct pool_job *job, void *ud);
    void *ud;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct http_pool *p = w->pool;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        struct pool_job *j = p->head;
        if (j) {
            p->head = j->next;
            if (!p->head)
                p->tail = NULL;
        } else if (!p->stop) {
            w->job = NULL;
            w->next_idle = p->idle;
            p->idle = w;
        }
        bool stop = !j && p->stop;
        pthread_mutex_unlock(&p->lock);
        if (stop)
            return NULL; /* and nothing left to do */
        if (!j) {
            while (sem_wait(&w->wake) != 0 && errno == EINTR)
                ;
            j = w->job; /* set before the post: no lock needed to read it */
            if (!j)
                continue; /* woken to stop: what is queued still runs */
        }
        p->run(j, p->ud);
    }
}

struct http_pool *http_pool_start(int n, void (*run)(struct pool_job *job, void *ud), void *ud)
{
    struct http_pool *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    p->run = run;
    p->ud = ud;
    p->workers = xcalloc((size_t)(n > 0 ? n : 1), sizeof *p->workers);
    for (; p->n < n; p->n++) {
        struct worker *w = &p->workers[p->n];
        w->pool = p;
        sem_init(&w->wake, 0, 0);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            sem_destroy(&w->wake);
            break;
        }
    }
    if (p->n == 0) {
        http_pool_stop(p);
        return NULL;
    }
    return p;
}

void http_pool_push(struct http_pool *p, struct pool_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&p->lock);
    struct worker *w = p->idle;
    if (w) {
        p->idle = w->next_idle;
        w->job = job;
    } else if (p->tail) {
        p->tail->next = job;
        p->tail = job;
    } else {
        p->head = p->tail = job;
    }
    pthread_mutex_unlock(&p->lock);
    /* posted after the unlock: the woken worker does not wait for the lock first */
    if (w)
        sem_post(&w->wake);
}

void http_pool_stop(struct http_pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    struct worker *idle = p->idle;
    p->idle = NULL;
    pthread_mutex_unlock(&p->lock);
    /* the idle ones wake with no job; the busy ones see stop once the queue is empty */
    for (struct worker *w = idle, *next; w; w = next) {
        next = w->next_idle;
        sem_post(&w->wake);
    }
    for (int i = 0; i < p->n; i++) {
        pthread_join(p->workers[i].thread, NULL);
        sem_destroy(&p->workers[i].wake);
    }
    free(p->workers);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int http_pool_size(const struct http_pool *p)
{
    return p->n;
}

int http_pool_idle(struct http_pool *p)
{
    pthread_mutex_lock(&p->lock);
    int n = 0;
    for (const struct worker *w = p->idle; w; w = w->next_idle)
        n++;
    pthread_mutex_unlock(&p->lock);
    return n;
}
