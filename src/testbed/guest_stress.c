/*
 * guest_stress.c - a stress guest (guest_stress.h): the core's random
 * workload with an exact model, in threads, on the host's store.
 *
 * Models: a guest that uses tmem in every way the API allows at once,
 * to prove the store stays right with everything else going on (other
 * guests, capacity moves, allocation faults).
 *
 * Data structures: the guest (settings, client, threads, failure text)
 * and one struct testbed_stress_worker per thread: its pools (one of each
 * kind, -1 while it has none), its handles' model (state and version per
 * handle; handle i lives in pool kind i % KINDS, object and index from
 * i / KINDS), its page buffers, its seeded random stream and its
 * counters. A page's bytes are swapsim_content_fill's for (the worker's
 * seed, the handle, its version): zero, duplicate, compressible and
 * random pages, so same-filled pages and dedup are exercised too.
 *
 * Locking: each worker's model and pools are its own (no lock); its
 * counters are atomics (relaxed) that the runner's sampling reads; the
 * client is shared by the workers (the core's calls are thread-safe).
 * `stop` is an atomic flag; failure text is guarded by st->lock. The
 * client is created and destroyed under the host's policy lock (host.h).
 */
#include "testbed/guest_stress.h"
#include "testbed/host_remote.h"

#include "testbed/message.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hash.h"
#include "common/rng.h"
#include "swapsim/swapsim.h"

enum { STRESS_KINDS = 5, STRESS_OBJECT_PAGES = 32 };
enum { STRESS_ABSENT, STRESS_PRESENT, STRESS_MAYBE };
/* the poison a missed get must leave in the caller's page */
#define STRESS_POISON 0x77

static const uint32_t testbed_stress_kind_flags[STRESS_KINDS] = {
    TMEM_POOL_PERSIST,
    TMEM_POOL_PERSIST | TMEM_POOL_SHARED,
    TMEM_POOL_PERSIST | TMEM_POOL_EXCLUSIVE_GETS,
    0,
    TMEM_POOL_SHARED,
};

/* The counters as atomics, one list (stress_counters.h). */
struct testbed_stress_atomic {
#define TESTBED_STRESS_ATOMIC_(field, help) _Atomic uint64_t field;
    TESTBED_STRESS_COUNTERS(TESTBED_STRESS_ATOMIC_)
#undef TESTBED_STRESS_ATOMIC_
};

struct testbed_stress_worker {
    struct testbed_stress_guest *st;
    unsigned id;
    pthread_t thread;
    bool started;
    int pool[STRESS_KINDS];          /* pool ids, -1: none now */
    uint8_t uuid[STRESS_KINDS][16];  /* shared kinds: this worker's own uuid */
    uint8_t *state;                  /* [pages] STRESS_ABSENT/PRESENT/MAYBE */
    uint32_t *version;               /* [pages] of the last accepted put */
    uint32_t next_version;
    uint64_t rng, content_seed;
    unsigned char *buf, *want;
    uint64_t since_check;
    struct testbed_stress_atomic count;
};

struct testbed_stress_guest {
    const struct scenario *sc;
    const struct scenario_guest *sg;
    uint32_t page_size;
    struct swapsim_content_mix mix;
    struct testbed_host *host;
    struct tmem_client *client;
    struct testbed_stress_worker *workers; /* [sg->stress.threads] */
    unsigned running;                      /* threads started and not joined */
    atomic_int stop;
    atomic_uint over;                      /* threads that ended */
    pthread_mutex_t lock;                  /* guards failed, failure */
    bool failed;
    char failure[1024];
    struct testbed_stress_counters final;  /* the threads' counters at the stop */
    bool have_final;
};

static void testbed_stress_count(_Atomic uint64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static void testbed_stress_fail(struct testbed_stress_guest *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void testbed_stress_fail(struct testbed_stress_guest *st, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&st->lock);
    if (!st->failed) {
        st->failed = true;
        va_start(ap, fmt);
        vsnprintf(st->failure, sizeof(st->failure), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&st->lock);
    atomic_store(&st->stop, 1);
}

/* A mismatch: counted, the guest fails with the first one. */
#define STRESS_MISMATCH(w, ...)                                                               \
    do {                                                                                      \
        testbed_stress_count(&(w)->count.mismatches);                                         \
        testbed_stress_fail((w)->st, __VA_ARGS__);                                            \
    } while (0)

/* ------------------------------------------------------------ settings */

int testbed_stress_prepare(const struct scenario *sc, const struct scenario_guest *sg,
                           uint32_t page_size, bool check_only,
                           struct testbed_stress_guest **out, char *err, size_t errlen)
{
    const struct scenario_stress *ss = &sg->stress;
    struct testbed_stress_guest *st;

    *out = NULL;
    if (ss->threads == 0 || ss->pages == 0) {
        testbed_message_guest(err, errlen, sc, sg, "threads and pages must be at least 1");
        return -EINVAL;
    }
    if (page_size % 8) {
        testbed_message_guest(err, errlen, sc, sg, "page size %u is not a multiple of 8",
                              page_size);
        return -EINVAL;
    }
    if (check_only)
        return 0;
    st = calloc(1, sizeof(*st));
    if (!st) {
        testbed_message_guest(err, errlen, sc, sg, "out of memory");
        return -ENOMEM;
    }
    st->sc = sc;
    st->sg = sg;
    st->page_size = page_size;
    swapsim_content_mix_default(&st->mix);
    pthread_mutex_init(&st->lock, NULL);
    atomic_init(&st->stop, 0);
    atomic_init(&st->over, 0);
    *out = st;
    return 0;
}

/* ------------------------------------------------------------ the model */

static uint32_t testbed_stress_kind(uint32_t handle)
{
    return handle % STRESS_KINDS;
}

static bool testbed_stress_persistent(uint32_t kind)
{
    return testbed_stress_kind_flags[kind] & TMEM_POOL_PERSIST;
}

/* Does a hit leave nothing behind (private ephemeral, exclusive gets)? */
static bool testbed_stress_destructive(uint32_t kind)
{
    uint32_t f = testbed_stress_kind_flags[kind];

    return (f & TMEM_POOL_EXCLUSIVE_GETS) || !(f & (TMEM_POOL_PERSIST | TMEM_POOL_SHARED));
}

static struct tmem_oid testbed_stress_oid(uint32_t handle)
{
    struct tmem_oid oid = { { 0x57e55ull, (handle / STRESS_KINDS) / STRESS_OBJECT_PAGES, 0 } };

    return oid;
}

static uint32_t testbed_stress_index(uint32_t handle)
{
    return (handle / STRESS_KINDS) % STRESS_OBJECT_PAGES;
}

static void testbed_stress_fill(struct testbed_stress_worker *w, void *page, uint32_t handle,
                                uint32_t version)
{
    swapsim_content_fill(page, w->st->page_size, w->content_seed, &w->st->mix, handle,
                         version);
}

/* Make a pool of kind k if the worker has none; false when it has none
 * after (refused for want of memory: counted; anything else: a mismatch). */
static bool testbed_stress_pool(struct testbed_stress_worker *w, uint32_t k)
{
    uint32_t flags = testbed_stress_kind_flags[k];
    int id;

    if (w->pool[k] >= 0)
        return true;
    testbed_stress_count(&w->count.ops);
    id = tmem_new_pool(w->st->client, flags, (flags & TMEM_POOL_SHARED) ? w->uuid[k] : NULL);
    if (id >= 0) {
        w->pool[k] = id;
        testbed_stress_count(&w->count.pools_created);
        return true;
    }
    if (id == -ENOMEM)
        testbed_stress_count(&w->count.pool_creations_refused);
    else
        STRESS_MISMATCH(w, "thread %u: new_pool(%#x) returned %d", w->id, flags, id);
    return false;
}

static void testbed_stress_get(struct testbed_stress_worker *w, uint32_t h, const char *when)
{
    uint32_t k = testbed_stress_kind(h);
    struct tmem_oid oid = testbed_stress_oid(h);
    uint32_t page_size = w->st->page_size;
    int rc;

    memset(w->buf, STRESS_POISON, page_size);
    testbed_stress_count(&w->count.gets);
    rc = tmem_get(w->st->client, w->pool[k], &oid, testbed_stress_index(h), w->buf);
    if (rc == 0) {
        if (w->state[h] == STRESS_ABSENT) {
            STRESS_MISMATCH(w, "thread %u%s: get of handle %u (pool %#x) found a page that "
                            "must be gone (flushed, refused, taken or missed before)",
                            w->id, when, h, testbed_stress_kind_flags[k]);
            return;
        }
        testbed_stress_fill(w, w->want, h, w->version[h]);
        if (memcmp(w->buf, w->want, page_size) != 0) {
            STRESS_MISMATCH(w, "thread %u%s: get of handle %u (pool %#x) returned wrong "
                            "bytes (expected version %u)", w->id, when, h,
                            testbed_stress_kind_flags[k], w->version[h]);
            return;
        }
        testbed_stress_count(&w->count.hits);
        if (testbed_stress_destructive(k))
            w->state[h] = STRESS_ABSENT;
        return;
    }
    if (rc != -ENOENT) {
        STRESS_MISMATCH(w, "thread %u%s: get returned %d", w->id, when, rc);
        return;
    }
    if (w->state[h] == STRESS_PRESENT) {
        STRESS_MISMATCH(w, "thread %u%s: persistent page of handle %u (pool %#x, version %u) "
                        "lost: get returned -ENOENT", w->id, when, h,
                        testbed_stress_kind_flags[k], w->version[h]);
        return;
    }
    for (uint32_t i = 0; i < page_size; i++)
        if (w->buf[i] != STRESS_POISON) {
            STRESS_MISMATCH(w, "thread %u%s: a missed get wrote into the caller's page",
                            w->id, when);
            return;
        }
    w->state[h] = STRESS_ABSENT; /* get-get: it stays missing until a put */
}

static void testbed_stress_put(struct testbed_stress_worker *w, uint32_t h)
{
    uint32_t k = testbed_stress_kind(h);
    struct tmem_oid oid = testbed_stress_oid(h);
    uint32_t version = ++w->next_version;
    int rc;

    testbed_stress_fill(w, w->buf, h, version);
    testbed_stress_count(&w->count.puts);
    rc = tmem_put(w->st->client, w->pool[k], &oid, testbed_stress_index(h), w->buf);
    if (rc == 0) {
        w->state[h] = testbed_stress_persistent(k) ? STRESS_PRESENT : STRESS_MAYBE;
        w->version[h] = version;
    } else if (rc == -ENOSPC || rc == -ENOMEM) {
        testbed_stress_count(&w->count.puts_refused);
        w->state[h] = STRESS_ABSENT; /* and no older copy either */
    } else {
        STRESS_MISMATCH(w, "thread %u: put returned %d", w->id, rc);
    }
}

static void testbed_stress_flush_page(struct testbed_stress_worker *w, uint32_t h)
{
    uint32_t k = testbed_stress_kind(h);
    struct tmem_oid oid = testbed_stress_oid(h);
    int rc;

    testbed_stress_count(&w->count.flushes);
    rc = tmem_flush_page(w->st->client, w->pool[k], &oid, testbed_stress_index(h));
    if (rc == 0 && w->state[h] == STRESS_ABSENT)
        STRESS_MISMATCH(w, "thread %u: flush_page of handle %u found a page that must be "
                        "gone", w->id, h);
    else if (rc == -ENOENT && w->state[h] == STRESS_PRESENT)
        STRESS_MISMATCH(w, "thread %u: flush_page of handle %u did not find its persistent "
                        "page", w->id, h);
    else if (rc != 0 && rc != -ENOENT)
        STRESS_MISMATCH(w, "thread %u: flush_page returned %d", w->id, rc);
    w->state[h] = STRESS_ABSENT;
}

/* Flush the object of handle h: every handle of its kind and object. */
static void testbed_stress_flush_object(struct testbed_stress_worker *w, uint32_t h)
{
    uint32_t k = testbed_stress_kind(h), pages = w->st->sg->stress.pages;
    struct tmem_oid oid = testbed_stress_oid(h);
    unsigned present = 0, maybe = 0;
    int rc;

    for (uint32_t i = k; i < pages; i += STRESS_KINDS) {
        if (testbed_stress_oid(i).oid[1] != oid.oid[1])
            continue;
        present += w->state[i] == STRESS_PRESENT;
        maybe += w->state[i] == STRESS_MAYBE;
        w->state[i] = STRESS_ABSENT;
    }
    testbed_stress_count(&w->count.flushes);
    rc = tmem_flush_object(w->st->client, w->pool[k], &oid);
    if (rc == -ENOENT && present)
        STRESS_MISMATCH(w, "thread %u: flush_object missed %u persistent pages", w->id,
                        present);
    else if (rc == 0 && !present && !maybe)
        STRESS_MISMATCH(w, "thread %u: flush_object removed pages from an object that "
                        "held none", w->id);
    else if (rc != 0 && rc != -ENOENT)
        STRESS_MISMATCH(w, "thread %u: flush_object returned %d", w->id, rc);
}

static void testbed_stress_destroy_pool(struct testbed_stress_worker *w, uint32_t k)
{
    uint32_t pages = w->st->sg->stress.pages;
    int rc;

    rc = tmem_destroy_pool(w->st->client, w->pool[k]);
    if (rc != 0) {
        STRESS_MISMATCH(w, "thread %u: destroy_pool returned %d", w->id, rc);
        return;
    }
    w->pool[k] = -1;
    for (uint32_t i = k; i < pages; i += STRESS_KINDS)
        w->state[i] = STRESS_ABSENT;
    testbed_stress_count(&w->count.pools_destroyed);
}

static void testbed_stress_check(struct testbed_stress_worker *w)
{
    uint64_t every = w->st->sg->stress.check_every;
    char why[512];
    int rc;

    if (!every || ++w->since_check < every)
        return;
    w->since_check = 0;
    rc = tmem_check(tmem_client_store(w->st->client), why, sizeof(why));
    if (rc == 0)
        testbed_stress_count(&w->count.checks);
    else if (rc != -ENOMEM) /* the checker's own malloc failing is not the store's fault */
        STRESS_MISMATCH(w, "thread %u: tmem_check = %d: %s", w->id, rc, why);
}

/* One random operation. */
static void testbed_stress_step(struct testbed_stress_worker *w)
{
    uint32_t h = (uint32_t)rng_below(&w->rng, w->st->sg->stress.pages);
    uint32_t k = testbed_stress_kind(h);
    unsigned r = (unsigned)rng_below(&w->rng, 1000);

    if (!testbed_stress_pool(w, k))
        return;
    testbed_stress_count(&w->count.ops);
    if (r < 420)
        testbed_stress_put(w, h);
    else if (r < 800)
        testbed_stress_get(w, h, "");
    else if (r < 960)
        testbed_stress_flush_page(w, h);
    else if (r < 995)
        testbed_stress_flush_object(w, h);
    else
        testbed_stress_destroy_pool(w, k);
    testbed_stress_check(w);
}

static double testbed_stress_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *testbed_stress_thread(void *arg)
{
    struct testbed_stress_worker *w = arg;
    struct testbed_stress_guest *st = w->st;
    uint64_t rate = st->sg->stress.rate, n = 0;
    double t0 = testbed_stress_now();

    while (!atomic_load_explicit(&st->stop, memory_order_relaxed)) {
        testbed_stress_step(w);
        if (rate && ++n % 16 == 0) { /* hold the pace: n operations by t0 + n / rate */
            double ahead = t0 + (double)n / (double)rate - testbed_stress_now();

            /* in slices of at most 50 ms: a slow pace (16 / rate seconds
             * ahead) must not hold the stop up */
            while (ahead > 0 && !atomic_load_explicit(&st->stop, memory_order_relaxed)) {
                double slice = ahead < 0.05 ? ahead : 0.05;
                struct timespec ts = { 0, (long)(slice * 1e9) };

                nanosleep(&ts, NULL);
                ahead = t0 + (double)n / (double)rate - testbed_stress_now();
            }
        }
    }
    atomic_fetch_add(&st->over, 1);
    return NULL;
}

/* ------------------------------------------------------------ life */

static void testbed_stress_workers_free(struct testbed_stress_guest *st)
{
    if (!st->workers)
        return;
    for (unsigned i = 0; i < st->sg->stress.threads; i++) {
        free(st->workers[i].state);
        free(st->workers[i].version);
        free(st->workers[i].buf);
        free(st->workers[i].want);
    }
    free(st->workers);
    st->workers = NULL;
}

static int testbed_stress_workers_make(struct testbed_stress_guest *st)
{
    const struct scenario_stress *ss = &st->sg->stress;
    /* distinct per guest of the scenario and per seed */
    uint64_t name_hash = hash_combine(hash_mix64(ss->seed), (uint64_t)(st->sg - st->sc->guests));

    st->workers = calloc(ss->threads, sizeof(*st->workers));
    if (!st->workers)
        return -ENOMEM;
    for (unsigned i = 0; i < ss->threads; i++) {
        struct testbed_stress_worker *w = &st->workers[i];

        w->st = st;
        w->id = i;
        w->rng = ss->seed * 0x100000001b3ull + i;
        w->content_seed = name_hash ^ ((uint64_t)i << 32);
        w->state = calloc(ss->pages, sizeof(*w->state));
        w->version = calloc(ss->pages, sizeof(*w->version));
        w->buf = malloc(st->page_size);
        w->want = malloc(st->page_size);
        if (!w->state || !w->version || !w->buf || !w->want)
            return -ENOMEM;
        for (unsigned k = 0; k < STRESS_KINDS; k++) {
            uint64_t u = hash_mix64(name_hash + i * 0x9e3779b97f4a7c15ull + k);

            w->pool[k] = -1;
            w->uuid[k][0] = 0x5e;
            w->uuid[k][1] = (uint8_t)k;
            memcpy(&w->uuid[k][2], &u, sizeof(u));
            memcpy(&w->uuid[k][10], &i, 4);
        }
    }
    return 0;
}

int testbed_stress_start(struct testbed_stress_guest *st, struct testbed_host *host,
                         char *err, size_t errlen)
{
    const struct scenario_stress *ss = &st->sg->stress;
    int e;

    st->host = host;
    if (testbed_stress_workers_make(st) != 0) {
        snprintf(err, errlen, "guest %s: out of memory for its models", st->sg->name);
        goto fail;
    }
    testbed_host_lock(host);
    /* under allocation faults a creation may be refused: try again, as a
     * guest would (a real shortage fails every try) */
    for (int tries = 0; tries < 100 && !st->client; tries++)
        st->client = tmem_client_create(host->tm, st->sg->name);
    if (st->client) {
        (void)tmem_client_set_weight(st->client, st->sg->weight);
        (void)tmem_client_set_cap(st->client, st->sg->cap);
        if (testbed_host_remote_attach(host, st->client, st->sg, err, errlen) != 0) {
            tmem_client_destroy(st->client);
            testbed_host_remote_detach(host, st->client);
            st->client = NULL;
            testbed_host_unlock(host);
            goto fail;
        }
    }
    testbed_host_unlock(host);
    if (!st->client) {
        snprintf(err, errlen, "guest %s: cannot create its tmem client: %s", st->sg->name,
                 strerror(errno));
        goto fail;
    }
    for (unsigned i = 0; i < ss->threads; i++) {
        e = pthread_create(&st->workers[i].thread, NULL, testbed_stress_thread,
                           &st->workers[i]);
        if (e != 0) {
            snprintf(err, errlen, "guest %s: cannot start its thread: %s", st->sg->name,
                     strerror(e));
            testbed_stress_stop(st, NULL);
            return -1;
        }
        st->workers[i].started = true;
        st->running++;
    }
    return 0;
fail:
    testbed_stress_workers_free(st);
    return -1;
}

bool testbed_stress_done(struct testbed_stress_guest *st)
{
    return !st->client || atomic_load(&st->over) == st->sg->stress.threads;
}

bool testbed_stress_failed(struct testbed_stress_guest *st, char *why, size_t len)
{
    bool failed;

    pthread_mutex_lock(&st->lock);
    failed = st->failed;
    if (failed && why)
        snprintf(why, len, "%s", st->failure);
    pthread_mutex_unlock(&st->lock);
    return failed;
}

static void testbed_stress_sum(struct testbed_stress_guest *st,
                               struct testbed_stress_counters *c)
{
    memset(c, 0, sizeof(*c));
    for (unsigned i = 0; st->workers && i < st->sg->stress.threads; i++) {
#define TESTBED_STRESS_SUM_(field, help)                                                      \
    c->field += atomic_load_explicit(&st->workers[i].count.field, memory_order_relaxed);
        TESTBED_STRESS_COUNTERS(TESTBED_STRESS_SUM_)
#undef TESTBED_STRESS_SUM_
    }
}

void testbed_stress_sample(struct testbed_stress_guest *st, struct testbed_guest_sample *s)
{
    if (!st->client) {
        if (st->have_final)
            s->stress = st->final;
        return;
    }
    s->running = true;
    testbed_stress_sum(st, &s->stress);
    (void)tmem_client_stats(st->client, &s->client);
    testbed_host_remote_sample(st->host, st->client, &s->remote);
}

void testbed_stress_stop(struct testbed_stress_guest *st, struct testbed_guest_sample *last)
{
    if (!st->client)
        return;
    atomic_store(&st->stop, 1);
    for (unsigned i = 0; i < st->sg->stress.threads; i++) {
        if (st->workers[i].started)
            pthread_join(st->workers[i].thread, NULL);
        st->workers[i].started = false;
    }
    st->running = 0;
    /* quiescent: every persistent page a model holds is there, exact */
    for (unsigned i = 0; i < st->sg->stress.threads; i++) {
        struct testbed_stress_worker *w = &st->workers[i];

        for (uint32_t h = 0; h < st->sg->stress.pages; h++) {
            if (w->state[h] != STRESS_PRESENT)
                continue;
            testbed_stress_get(w, h, " at the stop");
            testbed_stress_count(&w->count.pages_verified);
        }
    }
    if (last) {
        memset(last, 0, sizeof(*last));
        testbed_stress_sample(st, last);
        last->running = false;
    }
    testbed_stress_sum(st, &st->final);
    st->have_final = true;
    testbed_host_lock(st->host);
    tmem_client_destroy(st->client);
    testbed_host_remote_detach(st->host, st->client);
    st->client = NULL;
    testbed_host_unlock(st->host);
}

struct tmem_client *testbed_stress_client(struct testbed_stress_guest *st)
{
    return st->client;
}

void testbed_stress_free(struct testbed_stress_guest *st)
{
    if (!st)
        return;
    testbed_stress_stop(st, NULL);
    testbed_stress_workers_free(st);
    pthread_mutex_destroy(&st->lock);
    free(st);
}
