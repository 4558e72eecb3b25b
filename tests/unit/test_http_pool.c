/* test_http_pool.c — the API workers (src/http/pool.c, issue 20): the worker that went
 * idle last takes the next job, every job pushed from many threads runs exactly once, a
 * long job holds up only its own worker, and a stop runs what is queued, in order. */
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/pool.h"

struct job {
    struct pool_job pj; /* first: the pool hands it back */
    int seq;
    int ran;
    pthread_t thread;
    sem_t *gate; /* waited for before the job ends, when set */
    sem_t *done; /* posted when it ends, when set */
};

struct shared {
    pthread_mutex_t lock;
    int order[256];
    int n;
};

static void run(struct pool_job *pj, void *ud)
{
    struct job *j = (struct job *)pj;
    struct shared *s = ud;
    if (j->gate)
        sem_wait(j->gate);
    j->thread = pthread_self();
    __atomic_add_fetch(&j->ran, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&s->lock);
    if (s->n < 256)
        s->order[s->n++] = j->seq;
    pthread_mutex_unlock(&s->lock);
    if (j->done)
        sem_post(j->done);
}

static void wait_idle(struct http_pool *p, int n)
{
    for (int i = 0; i < 5000 && http_pool_idle(p) != n; i++)
        usleep(1000);
    assert_int_equal(http_pool_idle(p), n);
}

/* Requests in a row land on one worker (its store connection and caches warm): each job,
 * pushed after the one before has ended and its worker is idle again, runs on the same
 * thread, whichever four workers wait. */
static void test_most_recently_idle_worker_takes_the_next_job(void **state)
{
    (void)state;
    struct shared s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct http_pool *p = http_pool_start(4, run, &s);
    assert_non_null(p);
    assert_int_equal(http_pool_size(p), 4);
    wait_idle(p, 4);
    sem_t done;
    sem_init(&done, 0, 0);
    struct job jobs[20] = {0};
    for (int i = 0; i < 20; i++) {
        jobs[i].seq = i;
        jobs[i].done = &done;
        http_pool_push(p, &jobs[i].pj);
        sem_wait(&done);
        wait_idle(p, 4);
        assert_int_equal(jobs[i].ran, 1);
        assert_true(pthread_equal(jobs[i].thread, jobs[0].thread));
    }
    http_pool_stop(p);
    sem_destroy(&done);
}

struct pusher {
    struct http_pool *p;
    struct job *jobs;
    int n;
};

static void *push_all(void *arg)
{
    struct pusher *u = arg;
    for (int i = 0; i < u->n; i++)
        http_pool_push(u->p, &u->jobs[i].pj);
    return NULL;
}

/* Many concurrent requests are all answered: 4 threads push 2,500 jobs each to 3 workers
 * at once; after the stop every job ran exactly once. */
static void test_concurrent_jobs_each_run_once(void **state)
{
    (void)state;
    enum { THREADS = 4, EACH = 2500 };
    static struct job jobs[THREADS][EACH];
    struct shared s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct http_pool *p = http_pool_start(3, run, &s);
    assert_non_null(p);
    pthread_t t[THREADS];
    struct pusher u[THREADS];
    for (int i = 0; i < THREADS; i++) {
        u[i] = (struct pusher){p, jobs[i], EACH};
        assert_int_equal(pthread_create(&t[i], NULL, push_all, &u[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    http_pool_stop(p);
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < EACH; k++)
            assert_int_equal(jobs[i][k].ran, 1);
}

/* A long job (a write waiting for another process's lock) holds up its own worker only:
 * the jobs pushed after it run on the other worker while it waits. */
static void test_long_job_does_not_hold_up_the_others(void **state)
{
    (void)state;
    struct shared s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct http_pool *p = http_pool_start(2, run, &s);
    assert_non_null(p);
    sem_t gate, done;
    sem_init(&gate, 0, 0);
    sem_init(&done, 0, 0);
    struct job slow = {.seq = 100, .gate = &gate};
    http_pool_push(p, &slow.pj);
    struct job quick[10] = {0};
    for (int i = 0; i < 10; i++) {
        quick[i].seq = i;
        quick[i].done = &done;
        http_pool_push(p, &quick[i].pj);
    }
    for (int i = 0; i < 10; i++)
        sem_wait(&done);
    for (int i = 0; i < 10; i++)
        assert_int_equal(quick[i].ran, 1);
    assert_int_equal(slow.ran, 0);
    sem_post(&gate);
    http_pool_stop(p);
    assert_int_equal(slow.ran, 1);
    sem_destroy(&gate);
    sem_destroy(&done);
}

static void *open_gate_later(void *arg)
{
    usleep(100000);
    sem_post(arg);
    return NULL;
}

/* A stop drains the queue: with the only worker held by a job, 50 more are queued; the
 * stop returns after all of them ran, in the order they came (FIFO while all are busy). */
static void test_stop_runs_what_is_queued_in_order(void **state)
{
    (void)state;
    struct shared s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct http_pool *p = http_pool_start(1, run, &s);
    assert_non_null(p);
    sem_t gate;
    sem_init(&gate, 0, 0);
    struct job jobs[51] = {0};
    jobs[0].gate = &gate;
    for (int i = 0; i < 51; i++) {
        jobs[i].seq = i;
        http_pool_push(p, &jobs[i].pj);
    }
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, open_gate_later, &gate), 0);
    http_pool_stop(p); /* waits for the gate, then for the queue */
    pthread_join(t, NULL);
    assert_int_equal(s.n, 51);
    for (int i = 0; i < 51; i++) {
        assert_int_equal(jobs[i].ran, 1);
        assert_int_equal(s.order[i], i);
    }
    sem_destroy(&gate);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_most_recently_idle_worker_takes_the_next_job),
        cmocka_unit_test(test_concurrent_jobs_each_run_once),
        cmocka_unit_test(test_long_job_does_not_hold_up_the_others),
        cmocka_unit_test(test_stop_runs_what_is_queued_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
