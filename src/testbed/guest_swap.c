/*
 * guest_swap.c - a swap guest (guest_swap.h): a swapsim guest on the
 * host's store, driven by its workload in its own thread.
 *
 * Models: a guest VM whose anonymous memory is larger than its RAM, so it
 * swaps, with frontswap in front of its swap device; the hypervisor asks
 * frontswap pages back when its memory shrinks (the guest's pressure
 * callback, called from the host's pressure thread).
 *
 * Data structures: the guest's configs, workload, tmem client, swapsim
 * guest, thread, and what its stop recorded (latency histograms).
 * Locking: swapsim serialises the thread's accesses with the pressure
 * callback; `stop` and `over` are atomics; failure text is written by the
 * thread before `over` is set and read by the runner after (or under
 * sw->lock while it runs).
 *
 * Migration (testbed_swap_migrate_*, driven by runner_migrate.c): a
 * migration thread creates the destination client, lets
 * swapsim_guest_migrate move frontswap while the guest thread runs, then
 * the runner switches sw->client and sw->host under its control lock
 * (the only lock under which they change; every reader of them is the
 * runner's thread or holds that lock), and the old client is destroyed
 * under its host's policy lock. sw->lock also guards `migrating` and
 * `swapping_off`: the guest thread waits on `migrated` until no
 * migration runs before it swaps off (swapsim must not swap off during
 * swapsim_guest_migrate), and no migration begins once it swaps off.
 * The counters and latency histograms of the clients the guest left are
 * kept (client_before, latency_before) and added to the current client's,
 * so its totals run on across hosts.
 */
#include "testbed/guest_swap.h"
#include "testbed/host_remote.h"

#include "testbed/message.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swapsim/swapsim.h"

struct testbed_swap_guest {
    const struct scenario_guest *sg;
    struct swapsim_guest_config gc;
    struct swapsim_workload *wl;
    struct testbed_host *host;
    struct tmem_client *client;
    struct swapsim_guest *guest;
    uint32_t page_size;
    pthread_t thread;
    bool thread_started;
    atomic_int stop;
    atomic_int over;
    pthread_mutex_t lock;      /* guards failed, failure, migrating, swapping_off */
    bool failed;
    char failure[1024];
    struct histogram latency[TMEM_OP_COUNT]; /* as of the stop */
    /* migration (see above) */
    pthread_cond_t migrated;   /* signalled when migrating goes false */
    bool migrating, swapping_off;
    struct tmem_client *next_client, *old_client;  /* the migration thread's */
    struct testbed_host *next_host, *old_host;
    struct tmem_stats client_before;               /* counters of earlier clients */
    struct histogram latency_before[TMEM_OP_COUNT]; /* latencies of earlier clients */
};


/* bytes as whole pages of page_size, in 1..UINT32_MAX-1; 0 or -1. */
static int testbed_swap_pages(uint64_t bytes, uint32_t page_size, uint32_t *pages)
{
    if (bytes == 0 || bytes % page_size || bytes / page_size >= UINT32_MAX)
        return -1;
    *pages = (uint32_t)(bytes / page_size);
    return 0;
}

int testbed_swap_prepare(const struct scenario *sc, const struct scenario_guest *sg,
                         uint32_t page_size, bool check_only, struct testbed_swap_guest **out,
                         char *err, size_t errlen)
{
    const struct scenario_swap *ss = &sg->swap;
    struct testbed_swap_guest *sw = NULL;
    struct swapsim_workload *wl = NULL;
    uint32_t ram, vpages, slots;
    char why[1536];
    int rc;

    *out = NULL;
    if (testbed_swap_pages(ss->ram_bytes, page_size, &ram) < 0) {
        testbed_message_guest(err, errlen, sc, sg, "ram %" PRIu64 " is not a whole number of %u-byte pages", ss->ram_bytes,
                 page_size);
        return -EINVAL;
    }
    if (testbed_swap_pages(ss->memory_bytes, page_size, &vpages) < 0) {
        testbed_message_guest(err, errlen, sc, sg, "memory %" PRIu64 " is not a whole number of %u-byte pages",
                 ss->memory_bytes, page_size);
        return -EINVAL;
    }
    if (testbed_swap_pages(ss->swap_bytes ? ss->swap_bytes : ss->memory_bytes, page_size,
                           &slots) < 0) {
        testbed_message_guest(err, errlen, sc, sg, "swap %" PRIu64 " is not a whole number of %u-byte pages", ss->swap_bytes,
                 page_size);
        return -EINVAL;
    }
    if (ram >= vpages) {
        testbed_message_guest(err, errlen, sc, sg, "ram (%u pages) must be smaller than memory (%u pages): nothing would swap",
                 ram, vpages);
        return -EINVAL;
    }
    if (ss->trace) {
        char path[4096];
        if (ss->trace[0] == '/' || !sc->dir)
            snprintf(path, sizeof(path), "%s", ss->trace);
        else
            snprintf(path, sizeof(path), "%s/%s", sc->dir, ss->trace);
        rc = swapsim_trace_open(path, vpages, &wl, why, sizeof(why));
        if (rc != 0) {
            testbed_message_guest(err, errlen, sc, sg, "trace: %s", why);
            return -EINVAL;
        }
    } else {
        struct swapsim_gen_config gen;

        swapsim_gen_config_init(&gen, vpages, ss->accesses ? ss->accesses : UINT64_MAX);
        gen.kind = ss->generator;
        gen.seed = ss->seed;
        gen.write_permille = ss->write_permille;
        gen.unmap_permille = ss->unmap_permille;
        if (ss->zipf_alpha > 0)
            gen.zipf_alpha = ss->zipf_alpha;
        if (!ss->accesses)
            gen.phase_length = 100000; /* endless: phases of a fixed length */
        rc = swapsim_gen_create(&gen, &wl, why, sizeof(why));
        if (rc != 0) {
            testbed_message_guest(err, errlen, sc, sg, "workload: %s", why);
            return -EINVAL;
        }
    }
    if (check_only) {
        swapsim_workload_destroy(wl);
        return 0;
    }
    sw = calloc(1, sizeof(*sw));
    if (!sw) {
        swapsim_workload_destroy(wl);
        testbed_message_guest(err, errlen, sc, sg, "out of memory");
        return -ENOMEM;
    }
    sw->sg = sg;
    sw->wl = wl;
    sw->page_size = page_size;
    pthread_mutex_init(&sw->lock, NULL);
    pthread_cond_init(&sw->migrated, NULL);
    atomic_init(&sw->stop, 0);
    atomic_init(&sw->over, 0);
    for (int op = 0; op < TMEM_OP_COUNT; op++) {
        histogram_init(&sw->latency[op]);
        histogram_init(&sw->latency_before[op]);
    }
    swapsim_guest_config_init(&sw->gc, ram, vpages);
    sw->gc.name = sg->name;
    sw->gc.swap_slots = slots;
    sw->gc.page_size = page_size;
    sw->gc.reclaim = ss->reclaim;
    sw->gc.frontswap = true;
    sw->gc.exclusive_loads = ss->exclusive_loads;
    sw->gc.write_through = ss->write_through;
    sw->gc.write_fault = ss->write_fault;
    sw->gc.read_fault = ss->read_fault;
    sw->gc.seed = ss->seed;
    sw->gc.device = NULL; /* a device of its own, counted in its counters */
    sw->gc.quiet = true;  /* the runner reports a failure itself */
    *out = sw;
    return 0;
}

static void testbed_swap_fail(struct testbed_swap_guest *sw, const char *fmt, const char *what)
{
    pthread_mutex_lock(&sw->lock);
    if (!sw->failed) {
        sw->failed = true;
        snprintf(sw->failure, sizeof(sw->failure), fmt, what);
    }
    pthread_mutex_unlock(&sw->lock);
}

static void *testbed_swap_thread(void *arg)
{
    struct testbed_swap_guest *sw = arg;
    uint64_t limit = sw->sg->swap.accesses, n = 0;
    struct swapsim_access acc;
    struct swapsim_counters c;
    char why[256];
    int r;

    while (!atomic_load_explicit(&sw->stop, memory_order_relaxed)) {
        if (limit && n >= limit)
            break;
        r = swapsim_workload_next(sw->wl, &acc);
        if (r == 0)
            break;
        if (r < 0) {
            testbed_swap_fail(sw, "workload: %s", swapsim_workload_error(sw->wl));
            goto out;
        }
        r = swapsim_guest_access(sw->guest, &acc);
        if (r != 0) {
            if (r == -EINVAL) {
                snprintf(why, sizeof(why), "access %" PRIu64 ": page %u out of range", n,
                         acc.vpage);
                testbed_swap_fail(sw, "%s", why);
            } else {
                testbed_swap_fail(sw, "%s", swapsim_guest_error(sw->guest));
            }
            goto out;
        }
        n++;
    }
out:
    /* no swapoff while a migration moves frontswap; none begins after */
    pthread_mutex_lock(&sw->lock);
    while (sw->migrating)
        pthread_cond_wait(&sw->migrated, &sw->lock);
    sw->swapping_off = true;
    pthread_mutex_unlock(&sw->lock);
    r = swapsim_guest_swapoff(sw->guest);
    if (r != 0)
        testbed_swap_fail(sw, "swapoff: %s", swapsim_guest_error(sw->guest));
    swapsim_guest_counters(sw->guest, &c);
    if (c.mismatches || c.failed_loads || c.leaked_slots || c.leaked_tmem_pages) {
        snprintf(why, sizeof(why),
                 "%" PRIu64 " mismatches, %" PRIu64 " failed loads, %" PRIu64
                 " leaked slots, %" PRIu64 " leaked tmem pages (all must be 0)",
                 c.mismatches, c.failed_loads, c.leaked_slots, c.leaked_tmem_pages);
        testbed_swap_fail(sw, "pages lost or wrong: %s", why);
    }
    atomic_store(&sw->over, 1);
    return NULL;
}

int testbed_swap_start(struct testbed_swap_guest *sw, struct testbed_host *host,
                       const char *swap_dir, char *err, size_t errlen)
{
    int e, rc;

    sw->host = host;
    sw->gc.swap_dir = swap_dir;
    testbed_host_lock(host);
    sw->client = tmem_client_create(host->tm, sw->sg->name);
    if (!sw->client) {
        testbed_host_unlock(host);
        snprintf(err, errlen, "guest %s: cannot create its tmem client: %s", sw->sg->name,
                 strerror(errno));
        return -1;
    }
    (void)tmem_client_set_weight(sw->client, sw->sg->weight);
    (void)tmem_client_set_cap(sw->client, sw->sg->cap);
    rc = testbed_host_remote_attach(host, sw->client, sw->sg, err, errlen);
    if (rc == 0)
        rc = swapsim_guest_create(&sw->gc, sw->client, &sw->guest, err, errlen);
    if (rc != 0) {
        char why[512];
        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, errlen, "guest %s: %s", sw->sg->name, why);
        tmem_client_destroy(sw->client);
        testbed_host_remote_detach(host, sw->client);
        sw->client = NULL;
        testbed_host_unlock(host);
        return -1;
    }
    testbed_host_unlock(host);
    e = pthread_create(&sw->thread, NULL, testbed_swap_thread, sw);
    if (e != 0) {
        snprintf(err, errlen, "guest %s: cannot start its thread: %s", sw->sg->name,
                 strerror(e));
        testbed_swap_stop(sw, NULL);
        return -1;
    }
    sw->thread_started = true;
    return 0;
}

bool testbed_swap_done(struct testbed_swap_guest *sw)
{
    return !sw->guest || atomic_load(&sw->over);
}

bool testbed_swap_failed(struct testbed_swap_guest *sw, char *why, size_t len)
{
    bool failed;

    pthread_mutex_lock(&sw->lock);
    failed = sw->failed;
    if (failed && why)
        snprintf(why, len, "%s", sw->failure);
    pthread_mutex_unlock(&sw->lock);
    return failed;
}

/* The sum of the persistent put, get and flush latencies (ns) of its
 * client and of those it left (migrations). keep: the histograms too. */
static uint64_t testbed_swap_tmem_ns(struct testbed_swap_guest *sw, struct histogram *keep)
{
    struct histogram h;
    uint64_t sum = 0;

    for (int op = 0; op < TMEM_OP_COUNT; op++) {
        histogram_init(&h);
        (void)tmem_client_latency(sw->client, (enum tmem_op)op, true, &h);
        histogram_add(&h, &sw->latency_before[op]);
        sum += atomic_load(&h.sum);
        if (keep)
            histogram_copy(&keep[op], &h);
    }
    return sum;
}

/* to += from's counters (COUNTER and SUM fields; gauges stay). */
static void testbed_swap_add_counters(struct tmem_stats *to, const struct tmem_stats *from)
{
#define TESTBED_SWAP_ADD_COUNTER_(kind, id, name, help)                                       \
    if (TESTBED_SWAP_KIND_##kind)                                                             \
        to->name += from->name;
#define TESTBED_SWAP_KIND_COUNTER 1
#define TESTBED_SWAP_KIND_SUM 1
#define TESTBED_SWAP_KIND_PAGES 0
#define TESTBED_SWAP_KIND_BYTES 0
#define TESTBED_SWAP_KIND_STATE 0
    TMEM_STATS_FIELDS(TESTBED_SWAP_ADD_COUNTER_)
#undef TESTBED_SWAP_ADD_COUNTER_
#undef TESTBED_SWAP_KIND_COUNTER
#undef TESTBED_SWAP_KIND_SUM
#undef TESTBED_SWAP_KIND_PAGES
#undef TESTBED_SWAP_KIND_BYTES
#undef TESTBED_SWAP_KIND_STATE
}

void testbed_swap_sample(struct testbed_swap_guest *sw, struct testbed_guest_sample *s)
{
    if (!sw->guest)
        return;
    s->running = true;
    swapsim_guest_counters(sw->guest, &s->swap);
    (void)tmem_client_stats(sw->client, &s->client);
    testbed_swap_add_counters(&s->client, &sw->client_before);
    s->tmem_ns = testbed_swap_tmem_ns(sw, NULL);
    testbed_host_remote_sample(sw->host, sw->client, &s->remote);
}

uint64_t testbed_swap_committed(struct testbed_swap_guest *sw)
{
    struct swapsim_counters c;
    uint64_t pages;

    if (!sw->guest)
        return 0;
    swapsim_guest_counters(sw->guest, &c);
    pages = c.minor_faults > c.unmaps ? c.minor_faults - c.unmaps : 0;
    if (pages > sw->gc.ram_pages) /* a guest cannot use more than its RAM */
        pages = sw->gc.ram_pages;
    return pages * sw->page_size;
}

void testbed_swap_stop(struct testbed_swap_guest *sw, struct testbed_guest_sample *last)
{
    if (!sw->guest)
        return;
    atomic_store(&sw->stop, 1);
    if (sw->thread_started) {
        pthread_join(sw->thread, NULL);
        sw->thread_started = false;
    } else {
        (void)swapsim_guest_swapoff(sw->guest);
    }
    if (last) {
        memset(last, 0, sizeof(*last));
        testbed_swap_sample(sw, last);
        last->running = false;
    }
    (void)testbed_swap_tmem_ns(sw, sw->latency);
    /* the guest and client go: not while the capacity changes (host.h) */
    testbed_host_lock(sw->host);
    swapsim_guest_destroy(sw->guest);
    sw->guest = NULL;
    tmem_client_destroy(sw->client);
    testbed_host_remote_detach(sw->host, sw->client);
    sw->client = NULL;
    testbed_host_unlock(sw->host);
}

const struct histogram *testbed_swap_latency(const struct testbed_swap_guest *sw,
                                             enum tmem_op op)
{
    return &sw->latency[op];
}

const struct guest_device_profile *testbed_swap_profile(const struct testbed_swap_guest *sw)
{
    return &sw->sg->swap.device;
}

uint32_t testbed_swap_page_size(const struct testbed_swap_guest *sw)
{
    return sw->page_size;
}

void testbed_swap_free(struct testbed_swap_guest *sw)
{
    if (!sw)
        return;
    testbed_swap_stop(sw, NULL);
    swapsim_workload_destroy(sw->wl);
    pthread_cond_destroy(&sw->migrated);
    pthread_mutex_destroy(&sw->lock);
    free(sw);
}

struct tmem_client *testbed_swap_client(struct testbed_swap_guest *sw)
{
    return sw->client;
}

/* ------------------------------------------------------------ migration */

int testbed_swap_migrate_begin(struct testbed_swap_guest *sw, char *err, size_t errlen)
{
    int rc = 0;

    pthread_mutex_lock(&sw->lock);
    if (!sw->guest || sw->swapping_off || atomic_load(&sw->over) || sw->failed) {
        snprintf(err, errlen, "guest %s: its workload is over (it swaps off): nothing to "
                 "migrate", sw->sg->name);
        rc = -EINVAL;
    } else if (sw->migrating) {
        snprintf(err, errlen, "guest %s: a migration of it is already running", sw->sg->name);
        rc = -EBUSY;
    } else if (sw->host->remote && sw->sg->remote_kinds) {
        snprintf(err, errlen, "guest %s: it uses its host's remote tier: migration of such "
                 "a guest is not supported (docs/remote.md)", sw->sg->name);
        rc = -EINVAL;
    } else {
        sw->migrating = true;
    }
    pthread_mutex_unlock(&sw->lock);
    return rc;
}

/* Weight, cap and frozen of client `from` onto `to`. */
static void testbed_swap_copy_policy(struct tmem_client *to, struct tmem_client *from,
                                     bool frozen)
{
    struct tmem_stats st;

    memset(&st, 0, sizeof(st));
    if (tmem_client_stats(from, &st) == 0) {
        (void)tmem_client_set_weight(to, (uint32_t)st.weight);
        (void)tmem_client_set_cap(to, st.cap_bytes);
    }
    tmem_client_set_frozen(to, frozen);
}

int testbed_swap_migrate(struct testbed_swap_guest *sw, struct testbed_host *dest, bool frozen,
                         struct swapsim_migrate_stats *st, char *err, size_t errlen)
{
    struct tmem_client *c;
    char why[768];
    int rc;

    memset(st, 0, sizeof(*st));
    testbed_host_lock(dest);
    c = tmem_client_create(dest->tm, sw->sg->name);
    testbed_host_unlock(dest);
    if (!c) {
        snprintf(err, errlen, "guest %s: cannot create its tmem client on host %s: %s",
                 sw->sg->name, dest->sh->name, strerror(errno));
        return -ENOMEM;
    }
    testbed_swap_copy_policy(c, sw->client, frozen);
    rc = swapsim_guest_migrate(sw->guest, c, NULL, st, why, sizeof(why));
    if (rc != 0) {
        snprintf(err, errlen, "%s", why);
        /* the guest stayed on its source; the destination holds no pool of it */
        testbed_host_lock(dest);
        tmem_client_destroy(c);
        testbed_host_unlock(dest);
        return rc;
    }
    sw->next_client = c;
    sw->next_host = dest;
    return 0;
}

void testbed_swap_migrate_switch(struct testbed_swap_guest *sw, bool frozen)
{
    struct tmem_stats st;

    /* set-weight, set-cap, freeze or thaw may have changed the old one meanwhile */
    testbed_swap_copy_policy(sw->next_client, sw->client, frozen);
    memset(&st, 0, sizeof(st));
    (void)tmem_client_stats(sw->client, &st);
    testbed_swap_add_counters(&sw->client_before, &st);
    for (int op = 0; op < TMEM_OP_COUNT; op++) {
        struct histogram h;

        histogram_init(&h);
        if (tmem_client_latency(sw->client, (enum tmem_op)op, true, &h) == 0)
            histogram_add(&sw->latency_before[op], &h);
    }
    sw->old_client = sw->client;
    sw->old_host = sw->host;
    sw->client = sw->next_client;
    sw->host = sw->next_host;
    sw->next_client = NULL;
    sw->next_host = NULL;
}

void testbed_swap_migrate_end(struct testbed_swap_guest *sw)
{
    if (sw->old_client) {
        /* a client goes: not during a capacity change of its store (host.h) */
        testbed_host_lock(sw->old_host);
        tmem_client_destroy(sw->old_client);
        testbed_host_unlock(sw->old_host);
        sw->old_client = NULL;
        sw->old_host = NULL;
    }
    pthread_mutex_lock(&sw->lock);
    sw->migrating = false;
    pthread_cond_broadcast(&sw->migrated);
    pthread_mutex_unlock(&sw->lock);
}
