/*
 * host.c - a testbed host (host.h): a tmem store and the thread that
 * applies its pressure model.
 *
 * Models: the hypervisor's side of tmem: how much memory it can give to
 * tmem changes over time (ballooning guests, co-tenants), and each change
 * hits the running store at once.
 *
 * Data structures: the store, the model, the capacity log (a growing
 * array), the guests' committed bytes (atomics written by the runner).
 * Locking: policy_lock is held by the pressure thread around
 * pressure_next + tmem_set_capacity (so also while swap guests' pressure
 * callbacks run in this thread) and by the runner around client and swap
 * guest creation and destruction; `lock` guards the log and is never
 * held with policy_lock. The thread's clock and stop switch are a ticker
 * (common/ticker.h) with its own lock, made by start and freed by stop.
 * Order: policy_lock, then the store's and the callbacks' own locks.
 * `paused` is an atomic the pressure thread reads at each step; a
 * capacity set by hand (testbed_host_set_capacity) takes policy_lock as
 * the thread does, then `lock` for the log (never both at once).
 */
#include "testbed/host.h"
#include "testbed/host_remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int testbed_host_create(struct testbed_host *h, const struct scenario_host *sh,
                        const char *base_dir, size_t nguests, char *err, size_t errlen)
{
    struct tmem_config cfg;
    int rc;

    memset(h, 0, sizeof(*h));
    h->sh = sh;
    h->nguests = nguests;
    pthread_mutex_init(&h->policy_lock, NULL);
    pthread_mutex_init(&h->lock, NULL);
    h->committed = calloc(nguests ? nguests : 1, sizeof(*h->committed));
    h->committed_copy = calloc(nguests ? nguests : 1, sizeof(*h->committed_copy));
    if (!h->committed || !h->committed_copy) {
        snprintf(err, errlen, "host %s: out of memory", sh->name);
        return -ENOMEM;
    }
    for (size_t i = 0; i < nguests; i++)
        atomic_init(&h->committed[i], 0);
    atomic_init(&h->paused, false);
    cfg = sh->store;
    h->tm = tmem_create(&cfg);
    if (!h->tm) {
        rc = -errno;
        snprintf(err, errlen, "host %s: cannot create the tmem store: %s", sh->name,
                 strerror(errno));
        return rc ? rc : -EINVAL;
    }
    rc = pressure_create(&sh->pressure, base_dir, &h->model, err, errlen);
    if (rc != 0)
        return rc;
    return 0;
}

/* Append a change to the log (under h->lock). Drops it when out of memory. */
static void testbed_host_log_change(struct testbed_host *h, double t, uint64_t bytes)
{
    pthread_mutex_lock(&h->lock);
    if (h->nlog == h->caplog) {
        size_t cap = h->caplog ? 2 * h->caplog : 64;
        struct testbed_capacity_change *n = realloc(h->log, cap * sizeof(*n));
        if (n) {
            h->log = n;
            h->caplog = cap;
        }
    }
    if (h->nlog < h->caplog)
        h->log[h->nlog++] = (struct testbed_capacity_change){.t_s = t, .bytes = bytes};
    pthread_mutex_unlock(&h->lock);
}

/* One step of the model: ask it, apply the answer if it changed. */
static void testbed_host_step(struct testbed_host *h)
{
    struct pressure_inputs in;
    struct tmem_stats st;
    uint64_t cap;
    bool changed = false;
    double t;

    if (atomic_load(&h->paused))
        return;
    memset(&st, 0, sizeof(st));
    (void)tmem_stats(h->tm, &st);
    for (size_t i = 0; i < h->nguests; i++)
        h->committed_copy[i] = atomic_load(&h->committed[i]);
    t = ticker_elapsed(&h->ticker);
    in.t_s = t;
    in.ops = st.puts + st.gets + st.flush_pages + st.flush_objects;
    in.committed = h->committed_copy;
    in.nguests = h->nguests;
    pthread_mutex_lock(&h->policy_lock);
    cap = pressure_next(h->model, &in);
    if (cap != tmem_capacity(h->tm)) {
        (void)tmem_set_capacity(h->tm, cap);
        changed = true;
    }
    pthread_mutex_unlock(&h->policy_lock);
    if (changed)
        testbed_host_log_change(h, t, cap);
}

static void *testbed_host_thread(void *arg)
{
    struct testbed_host *h = arg;
    double interval = pressure_interval(h->model);
    double next = 0;

    if (interval <= 0)
        interval = 0.25;
    do {
        testbed_host_step(h);
        next += interval;
    } while (ticker_wait_until(&h->ticker, next));
    return NULL;
}

int testbed_host_start(struct testbed_host *h, const struct timespec *t0)
{
    int e;

    e = ticker_init(&h->ticker, t0);
    if (e != 0)
        return e;
    testbed_host_log_change(h, 0, tmem_capacity(h->tm));
    e = pthread_create(&h->thread, NULL, testbed_host_thread, h);
    if (e != 0) {
        ticker_destroy(&h->ticker);
        return -e;
    }
    h->started = true;
    return 0;
}

void testbed_host_stop(struct testbed_host *h)
{
    if (!h->started)
        return;
    ticker_stop(&h->ticker);
    pthread_join(h->thread, NULL);
    ticker_destroy(&h->ticker);
    h->started = false;
}

void testbed_host_destroy(struct testbed_host *h)
{
    testbed_host_stop(h);
    pressure_destroy(h->model);
    h->model = NULL;
    tmem_destroy(h->tm);
    h->tm = NULL;
    testbed_host_remote_close(h); /* after the store: its pools' deletions are done */
    free(h->log);
    h->log = NULL;
    h->nlog = h->caplog = 0;
    free((void *)h->committed);
    free(h->committed_copy);
    h->committed = NULL;
    h->committed_copy = NULL;
    pthread_mutex_destroy(&h->lock);
    pthread_mutex_destroy(&h->policy_lock);
}

void testbed_host_set_committed(struct testbed_host *h, size_t slot, uint64_t bytes)
{
    if (slot < h->nguests)
        atomic_store(&h->committed[slot], bytes);
}

void testbed_host_set_paused(struct testbed_host *h, bool paused)
{
    atomic_store(&h->paused, paused);
}

bool testbed_host_paused(struct testbed_host *h)
{
    return atomic_load(&h->paused);
}

int testbed_host_set_capacity(struct testbed_host *h, uint64_t bytes)
{
    double t = ticker_elapsed(&h->ticker);
    int rc;

    pthread_mutex_lock(&h->policy_lock);
    rc = tmem_set_capacity(h->tm, bytes);
    pthread_mutex_unlock(&h->policy_lock);
    testbed_host_log_change(h, t, bytes);
    return rc;
}

void testbed_host_lock(struct testbed_host *h)
{
    pthread_mutex_lock(&h->policy_lock);
}

void testbed_host_unlock(struct testbed_host *h)
{
    pthread_mutex_unlock(&h->policy_lock);
}

struct testbed_capacity_change *testbed_host_log(struct testbed_host *h, size_t *n)
{
    struct testbed_capacity_change *copy = NULL;

    pthread_mutex_lock(&h->lock);
    *n = 0;
    if (h->nlog) {
        copy = malloc(h->nlog * sizeof(*copy));
        if (copy) {
            memcpy(copy, h->log, h->nlog * sizeof(*copy));
            *n = h->nlog;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return copy;
}
