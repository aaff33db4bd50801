/*
 * test_stress.c - concurrency. Threads put/get/flush_page/flush_object on
 * every pool kind while another thread flips the capacity between 0, small
 * and unlimited (and calls tmem_reclaim), and in the first phase also the
 * workers' clients' weights and caps.
 *
 *  - per-handle model: each worker owns disjoint handles, so its model is
 *    exact: a persistent get returns exactly the last successful put (or
 *    -ENOENT after a flush or a failed put); an ephemeral get returns the
 *    last put or -ENOENT, never an older copy; get-get coherency holds.
 *  - shared-handle torture: workers hammer the same handles; any page a get
 *    returns must be one that was put under that handle (pages carry their
 *    handle key and version), while a third client joins and leaves the
 *    shared pools.
 *
 * Each phase runs for TMEM_STRESS_SECONDS seconds (default 3), so the test
 * is bounded in time under TSan too. While they run, the workers also call
 * the invariant checker (tmem_check) every TMEM_CHECK_EVERY operations of
 * their own (default 1000): it waits for the calls in flight, checks the
 * whole store between calls, and lets them go on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/tmem.h"
#include "../support/testutil.h"

enum { NWORKERS = 4, NKIND = 5, NOBJ = 4, NIDX = 32 };
enum { H_ABSENT, H_PRESENT, H_MAYBE };

static const uint8_t UUID_E[16] = {0x51, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t UUID_P[16] = {0x52, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static const uint32_t KIND_FLAGS[NKIND] = {
    TMEM_POOL_PERSIST,
    TMEM_POOL_PERSIST | TMEM_POOL_SHARED,
    TMEM_POOL_PERSIST | TMEM_POOL_EXCLUSIVE_GETS,
    0,
    TMEM_POOL_SHARED,
};

/* ------------------------------------------------------------ failures */

static atomic_int g_failed;
static atomic_bool g_stop;
static char g_msg[1024];
static long g_check_every; /* set before the threads start */

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
    if (atomic_exchange(&g_failed, 1) != 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_msg, sizeof g_msg, fmt, ap);
    va_end(ap);
    atomic_store(&g_stop, true);
}

static bool stopping(void)
{
    return atomic_load_explicit(&g_stop, memory_order_relaxed);
}

static void reset_flags(void)
{
    atomic_store(&g_failed, 0);
    atomic_store(&g_stop, false);
    g_msg[0] = '\0';
    g_check_every = tu_check_every(1000);
}

static double seconds(void)
{
    return (double)tu_env_long("TMEM_STRESS_SECONDS", 3);
}

/* Check the store's invariants every g_check_every calls of the calling
 * worker (*since counts them); a broken one fails the test. */
static void maybe_check(struct tmem *tm, long *since, long calls, const char *who)
{
    char why[512];

    *since += calls;
    if (*since < g_check_every)
        return;
    *since = 0;
    int rc = tmem_check(tm, why, sizeof why);
    if (rc != 0)
        report("%s: tmem_check = %d: %s", who, rc, why);
}

/* Is allocation failure injection on (TMEM_FAULT set, not "off")? Then a
 * refused creation (NULL with ENOMEM, -ENOMEM) is the documented answer,
 * not a failure; without it every test stays strict. */
static bool faults_injected(void)
{
    const char *f = getenv("TMEM_FAULT");
    return f && *f && strcmp(f, "off") != 0;
}

/* The tests' set-up: a store, client or pool, tried again while an
 * injected allocation failure refuses it (a few tries; without faults
 * the first answer stands). NULL / the error when it stays refused. */
enum { SETUP_TRIES = 100 };

static struct tmem *setup_store(void)
{
    struct tmem *tm = tmem_create(NULL);
    for (int i = 1; !tm && errno == ENOMEM && faults_injected() && i < SETUP_TRIES; i++)
        tm = tmem_create(NULL);
    return tm;
}

static struct tmem_client *setup_client(struct tmem *tm, const char *name)
{
    struct tmem_client *c = tmem_client_create(tm, name);
    for (int i = 1; !c && errno == ENOMEM && faults_injected() && i < SETUP_TRIES; i++)
        c = tmem_client_create(tm, name);
    return c;
}

static int setup_pool(struct tmem_client *c, uint32_t flags, const uint8_t *uuid)
{
    int id = tmem_new_pool(c, flags, uuid);
    for (int i = 1; id == -ENOMEM && faults_injected() && i < SETUP_TRIES; i++)
        id = tmem_new_pool(c, flags, uuid);
    return id;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ capacity flipper */

struct flipper {
    struct tmem *tm;
    uint64_t small;
    uint64_t rng;
    long flips;
    struct tmem_client *policy[2]; /* whose weight and cap to flip too, or NULL */
};

static void *flipper_main(void *arg)
{
    struct flipper *f = arg;
    while (!stopping()) {
        uint64_t cap;
        switch (tu_rng_below(&f->rng, 4)) {
        case 0: cap = 0; break;
        case 1: cap = f->small; break;
        case 2: cap = f->small * 4; break;
        default: cap = TMEM_CAPACITY_UNLIMITED; break;
        }
        if (tmem_set_capacity(f->tm, cap) != 0)
            report("tmem_set_capacity(%llu) failed", (unsigned long long)cap);
        if (tu_rng_below(&f->rng, 4) == 0 && tmem_reclaim(f->tm) < 0)
            report("tmem_reclaim failed");
        for (int i = 0; i < 2 && f->policy[i]; i++) {
            uint64_t c = tu_rng_below(&f->rng, 3) == 0 ? TMEM_CAPACITY_UNLIMITED
                                                       : tu_rng_below(&f->rng, 8) * f->small / 4;
            if (tmem_client_set_weight(f->policy[i], 1 + (uint32_t)tu_rng_below(&f->rng, 400)) ||
                tmem_client_set_cap(f->policy[i], c))
                report("setting a weight or cap failed");
        }
        f->flips++;
        sleep_us((long)tu_rng_below(&f->rng, 2000) + 100);
    }
    tmem_set_capacity(f->tm, TMEM_CAPACITY_UNLIMITED);
    for (int i = 0; i < 2 && f->policy[i]; i++)
        tmem_client_set_cap(f->policy[i], TMEM_CAPACITY_UNLIMITED);
    return NULL;
}

/* ------------------------------------------------------------ exact model */

struct hm {
    uint8_t st;
    uint64_t ver;
};

struct worker {
    int id;
    struct tmem_client *c;
    int pool[NKIND];
    uint64_t rng, ver;
    size_t ps;
    struct hm h[NKIND][NOBJ][NIDX];
    unsigned char *buf, *want;
    long ops, succ_gets, failed_puts, since_check;
};

static uint64_t wkey(int worker, int kind, int obj, int idx)
{
    return ((uint64_t)worker << 48) | ((uint64_t)kind << 40) | ((uint64_t)obj << 32) |
           (uint64_t)idx;
}

static struct tmem_oid woid(int worker, int obj)
{
    /* disjoint per worker, also inside shared pools */
    return tu_oid((uint64_t)worker + 1, (uint64_t)obj, 0xfeedull);
}

static bool persist_kind(int k) { return KIND_FLAGS[k] & TMEM_POOL_PERSIST; }

static bool destructive_kind(int k)
{
    uint32_t f = KIND_FLAGS[k];
    return (f & TMEM_POOL_EXCLUSIVE_GETS) || !(f & (TMEM_POOL_PERSIST | TMEM_POOL_SHARED));
}

static void model_get(struct worker *w, int k, int obj, int idx)
{
    struct hm *h = &w->h[k][obj][idx];
    struct tmem_oid oid = woid(w->id, obj);
    memset(w->buf, 0x77, w->ps);
    int rc = tmem_get(w->c, w->pool[k], &oid, (uint32_t)idx, w->buf);
    if (rc == 0) {
        if (h->st == H_ABSENT) {
            report("worker %d pool %#x obj %d idx %d: get succeeded on a handle that "
                   "must miss (flushed, failed put, destructive get or earlier miss)",
                   w->id, KIND_FLAGS[k], obj, idx);
            return;
        }
        tu_fill_versioned(w->want, w->ps, wkey(w->id, k, obj, idx), h->ver);
        long d = tu_first_diff(w->buf, w->want, w->ps);
        if (d >= 0) {
            uint64_t key, ver;
            bool tagged = tu_check_tagged(w->buf, w->ps, &key, &ver);
            report("worker %d pool %#x obj %d idx %d: get returned wrong bytes (diff at %ld), "
                   "expected version %llu, got %s version %llu", w->id, KIND_FLAGS[k], obj,
                   idx, d, (unsigned long long)h->ver,
                   tagged ? (key == wkey(w->id, k, obj, idx) ? "this handle's" : "another handle's")
                          : "untagged",
                   tagged ? (unsigned long long)ver : 0ull);
            return;
        }
        w->succ_gets++;
        if (destructive_kind(k))
            h->st = H_ABSENT;
    } else if (rc == -ENOENT) {
        if (h->st == H_PRESENT) {
            report("worker %d pool %#x obj %d idx %d: persistent page version %llu lost "
                   "(get returned -ENOENT)", w->id, KIND_FLAGS[k], obj, idx,
                   (unsigned long long)h->ver);
            return;
        }
        for (size_t i = 0; i < w->ps; i++)
            if (w->buf[i] != 0x77) {
                report("a failed get wrote into the caller's page");
                return;
            }
        h->st = H_ABSENT;
    } else {
        report("worker %d: get returned %d", w->id, rc);
    }
}

static void model_put(struct worker *w, int k, int obj, int idx)
{
    struct hm *h = &w->h[k][obj][idx];
    struct tmem_oid oid = woid(w->id, obj);
    uint64_t ver = ++w->ver;
    tu_fill_versioned(w->buf, w->ps, wkey(w->id, k, obj, idx), ver);
    int rc = tmem_put(w->c, w->pool[k], &oid, (uint32_t)idx, w->buf);
    /* the store must not read the page after returning */
    memset(w->buf, 0xdd, w->ps);
    if (rc == 0) {
        h->st = persist_kind(k) ? H_PRESENT : H_MAYBE;
        h->ver = ver;
    } else if (rc == -ENOSPC || rc == -ENOMEM) {
        h->st = H_ABSENT;
        w->failed_puts++;
    } else {
        report("worker %d: put returned %d", w->id, rc);
    }
}

static void model_flush_page(struct worker *w, int k, int obj, int idx)
{
    struct hm *h = &w->h[k][obj][idx];
    struct tmem_oid oid = woid(w->id, obj);
    int rc = tmem_flush_page(w->c, w->pool[k], &oid, (uint32_t)idx);
    if (rc == 0 && h->st == H_ABSENT)
        report("worker %d pool %#x: flush_page found a page that must be gone", w->id,
               KIND_FLAGS[k]);
    else if (rc == -ENOENT && h->st == H_PRESENT)
        report("worker %d pool %#x: flush_page did not find a persistent page", w->id,
               KIND_FLAGS[k]);
    else if (rc != 0 && rc != -ENOENT)
        report("worker %d: flush_page returned %d", w->id, rc);
    h->st = H_ABSENT;
}

static void model_flush_object(struct worker *w, int k, int obj)
{
    struct tmem_oid oid = woid(w->id, obj);
    int present = 0, maybe = 0;
    for (int i = 0; i < NIDX; i++) {
        present += w->h[k][obj][i].st == H_PRESENT;
        maybe += w->h[k][obj][i].st == H_MAYBE;
        w->h[k][obj][i].st = H_ABSENT;
    }
    int rc = tmem_flush_object(w->c, w->pool[k], &oid);
    if (rc == -ENOENT && present)
        report("worker %d pool %#x: flush_object missed %d persistent pages", w->id,
               KIND_FLAGS[k], present);
    else if (rc == 0 && !present && !maybe)
        report("worker %d pool %#x: flush_object removed pages from an empty object",
               w->id, KIND_FLAGS[k]);
    else if (rc != 0 && rc != -ENOENT)
        report("worker %d: flush_object returned %d", w->id, rc);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    while (!stopping()) {
        for (int burst = 0; burst < 64; burst++) {
            int k = (int)tu_rng_below(&w->rng, NKIND);
            int obj = (int)tu_rng_below(&w->rng, NOBJ);
            int idx = (int)tu_rng_below(&w->rng, NIDX);
            unsigned r = (unsigned)tu_rng_below(&w->rng, 100);
            if (r < 42)
                model_put(w, k, obj, idx);
            else if (r < 80)
                model_get(w, k, obj, idx);
            else if (r < 97)
                model_flush_page(w, k, obj, idx);
            else
                model_flush_object(w, k, obj);
            w->ops++;
        }
        maybe_check(tmem_client_store(w->c), &w->since_check, 64, "per-handle worker");
    }
    return NULL;
}

/* ------------------------------------------------------------ frontswap
 * A frontswap-like client: every page lives either in its persistent pool
 * or on its "swap device" (an array). The pressure callback, called from
 * the capacity flipper's tmem_set_capacity/tmem_reclaim, moves pages from
 * the pool to the swap array under the client's own lock, while the
 * client's thread keeps putting and reading pages. Nothing may be lost.
 */
enum { FS_SLOTS = 64 };
enum { FS_NONE, FS_TMEM, FS_SWAP };

struct frontswap {
    struct tmem_client *c;
    int pool;
    size_t ps;
    pthread_mutex_t lock;
    uint8_t where[FS_SLOTS];
    uint64_t ver[FS_SLOTS];
    unsigned char *swap[FS_SLOTS];
    unsigned char *buf, *want, *cbbuf;
    uint64_t rng, next_ver;
    long ops, cb_calls, cb_pages, to_swap;
};

static struct tmem_oid fs_oid(void)
{
    return tu_oid(0xf5f5, 0, 0);
}

static long fs_pressure(void *arg, struct tmem_client *c, int pool_id, uint64_t bytes_wanted)
{
    struct frontswap *fs = arg;
    struct tmem_oid oid = fs_oid();
    long n = 0;
    uint64_t freed = 0;
    if (c != fs->c || pool_id != fs->pool) {
        report("pressure callback called with a foreign client/pool");
        return -EINVAL;
    }
    pthread_mutex_lock(&fs->lock);
    fs->cb_calls++;
    for (int i = 0; i < FS_SLOTS && freed < bytes_wanted; i++) {
        if (fs->where[i] != FS_TMEM)
            continue;
        int rc = tmem_get(c, pool_id, &oid, (uint32_t)i, fs->cbbuf);
        if (rc != 0) {
            report("pressure callback: persistent slot %d version %llu lost (%d)", i,
                   (unsigned long long)fs->ver[i], rc);
            break;
        }
        memcpy(fs->swap[i], fs->cbbuf, fs->ps);
        rc = tmem_flush_page(c, pool_id, &oid, (uint32_t)i);
        if (rc != 0) {
            report("pressure callback: flush of slot %d returned %d", i, rc);
            break;
        }
        fs->where[i] = FS_SWAP;
        freed += fs->ps;
        n++;
    }
    fs->cb_pages += n;
    pthread_mutex_unlock(&fs->lock);
    return n;
}

static void *frontswap_main(void *arg)
{
    struct frontswap *fs = arg;
    struct tmem_oid oid = fs_oid();
    while (!stopping()) {
        int i = (int)tu_rng_below(&fs->rng, FS_SLOTS);
        unsigned r = (unsigned)tu_rng_below(&fs->rng, 100);
        pthread_mutex_lock(&fs->lock);
        if (r < 50) { /* swap out a new version of slot i */
            uint64_t v = ++fs->next_ver;
            tu_fill_versioned(fs->buf, fs->ps, 0xf5000000ull + (uint64_t)i, v);
            int rc = tmem_put(fs->c, fs->pool, &oid, (uint32_t)i, fs->buf);
            fs->ver[i] = v;
            if (rc == 0) {
                fs->where[i] = FS_TMEM;
            } else if (rc == -ENOSPC || rc == -ENOMEM) {
                memcpy(fs->swap[i], fs->buf, fs->ps);
                fs->where[i] = FS_SWAP;
                fs->to_swap++;
            } else {
                report("frontswap: put returned %d", rc);
            }
        } else if (r < 90) { /* swap in */
            int rc = tmem_get(fs->c, fs->pool, &oid, (uint32_t)i, fs->buf);
            if (fs->where[i] == FS_TMEM && rc != 0)
                report("frontswap: slot %d version %llu lost from the persistent pool (%d)",
                       i, (unsigned long long)fs->ver[i], rc);
            else if (fs->where[i] != FS_TMEM && rc != -ENOENT)
                report("frontswap: slot %d not in tmem but get returned %d", i, rc);
            const unsigned char *have = fs->where[i] == FS_TMEM ? fs->buf : fs->swap[i];
            if (fs->where[i] != FS_NONE && !atomic_load(&g_failed)) {
                tu_fill_versioned(fs->want, fs->ps, 0xf5000000ull + (uint64_t)i, fs->ver[i]);
                if (memcmp(have, fs->want, fs->ps) != 0)
                    report("frontswap: slot %d (%s) has wrong bytes", i,
                           fs->where[i] == FS_TMEM ? "tmem" : "swap");
            }
        } else { /* invalidate */
            int rc = tmem_flush_page(fs->c, fs->pool, &oid, (uint32_t)i);
            if ((fs->where[i] == FS_TMEM) != (rc == 0))
                report("frontswap: flush of slot %d returned %d", i, rc);
            fs->where[i] = FS_NONE;
        }
        fs->ops++;
        pthread_mutex_unlock(&fs->lock);
    }
    return NULL;
}

static void run_for(double secs)
{
    double end = tu_now() + secs;
    while (!stopping() && tu_now() < end)
        sleep_us(20000);
    atomic_store(&g_stop, true);
}

static void test_stress_per_handle_model(void **state)
{
    (void)state;
    reset_flags();
    struct tmem *tm = setup_store();
    assert_non_null(tm);
    size_t ps = tmem_page_size(tm);
    struct tmem_client *clients[2];
    int pools[2][NKIND];
    for (int ci = 0; ci < 2; ci++) {
        clients[ci] = setup_client(tm, ci ? "y" : "x");
        assert_non_null(clients[ci]);
        for (int k = 0; k < NKIND; k++) {
            const uint8_t *uuid = (KIND_FLAGS[k] & TMEM_POOL_SHARED)
                                      ? ((KIND_FLAGS[k] & TMEM_POOL_PERSIST) ? UUID_P : UUID_E)
                                      : NULL;
            pools[ci][k] = setup_pool(clients[ci], KIND_FLAGS[k], uuid);
            assert_true(pools[ci][k] >= 0);
        }
    }
    static struct worker ws[NWORKERS];
    memset(ws, 0, sizeof ws);
    for (int t = 0; t < NWORKERS; t++) {
        ws[t].id = t;
        ws[t].c = clients[t % 2];
        memcpy(ws[t].pool, pools[t % 2], sizeof ws[t].pool);
        ws[t].rng = 1000 + (uint64_t)t;
        ws[t].ps = ps;
        ws[t].buf = malloc(ps);
        ws[t].want = malloc(ps);
        assert_non_null(ws[t].buf);
        assert_non_null(ws[t].want);
    }
    static struct frontswap fs;
    memset(&fs, 0, sizeof fs);
    fs.c = setup_client(tm, "frontswap");
    assert_non_null(fs.c);
    fs.pool = setup_pool(fs.c, TMEM_POOL_PERSIST, NULL);
    assert_true(fs.pool >= 0);
    fs.ps = ps;
    fs.rng = 4711;
    assert_int_equal(pthread_mutex_init(&fs.lock, NULL), 0);
    fs.buf = malloc(ps);
    fs.want = malloc(ps);
    fs.cbbuf = malloc(ps);
    assert_non_null(fs.buf);
    assert_non_null(fs.want);
    assert_non_null(fs.cbbuf);
    for (int i = 0; i < FS_SLOTS; i++) {
        fs.swap[i] = malloc(ps);
        assert_non_null(fs.swap[i]);
    }
    assert_int_equal(tmem_client_set_pressure_callback(fs.c, fs_pressure, &fs), 0);

    struct flipper f = {tm, tu_usage(tm) + 64 * (ps + 128), 7, 0, {clients[0], clients[1]}};
    pthread_t th[NWORKERS], fth, fsth;
    for (int t = 0; t < NWORKERS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, worker_main, &ws[t]), 0);
    assert_int_equal(pthread_create(&fsth, NULL, frontswap_main, &fs), 0);
    assert_int_equal(pthread_create(&fth, NULL, flipper_main, &f), 0);
    run_for(seconds());
    for (int t = 0; t < NWORKERS; t++)
        pthread_join(th[t], NULL);
    pthread_join(fsth, NULL);
    pthread_join(fth, NULL);
    if (atomic_load(&g_failed))
        fail_msg("%s", g_msg);
    print_message("frontswap: %ld ops, %ld pressure calls took %ld pages, %ld puts refused\n",
                  fs.ops, fs.cb_calls, fs.cb_pages, fs.to_swap);
    assert_true(fs.ops > 0);
    assert_true(fs.cb_calls > 0);
    {
        struct tmem_stats cs;
        assert_int_equal(tmem_client_stats(fs.c, &cs), 0);
        assert_int_equal(cs.pressure_calls, fs.cb_calls);
        assert_int_equal(cs.pressure_pages, fs.cb_pages);
    }
    tmem_client_set_pressure_callback(fs.c, NULL, NULL);
    pthread_mutex_destroy(&fs.lock);
    free(fs.buf);
    free(fs.want);
    free(fs.cbbuf);
    for (int i = 0; i < FS_SLOTS; i++)
        free(fs.swap[i]);

    /* quiescent: every persistent page the model holds is there, exact */
    long total = 0, gets = 0, fails = 0;
    for (int t = 0; t < NWORKERS; t++) {
        total += ws[t].ops;
        gets += ws[t].succ_gets;
        fails += ws[t].failed_puts;
        for (int k = 0; k < NKIND; k++)
            for (int o = 0; o < NOBJ; o++)
                for (int i = 0; i < NIDX; i++)
                    if (ws[t].h[k][o][i].st == H_PRESENT)
                        model_get(&ws[t], k, o, i);
    }
    if (atomic_load(&g_failed))
        fail_msg("after the run: %s", g_msg);
    print_message("per-handle model: %ld ops, %ld successful gets, %ld refused puts, "
                  "%ld capacity flips\n", total, gets, fails, f.flips);
    assert_true(total > 1000);
    assert_true(gets > 0);
    assert_true(f.flips > 0);

    struct tmem_stats st;
    assert_int_equal(tmem_stats(tm, &st), 0);
    assert_int_equal(st.puts, st.succ_puts + st.failed_puts);
    assert_int_equal(st.gets, st.succ_gets + st.failed_gets);
    assert_int_equal(st.pages, st.pages_raw + st.pages_compressed + st.pages_same_filled +
                                   st.pages_deduplicated);
    assert_int_equal(st.succ_puts, st.pages + st.dup_puts_replaced + st.pages_flushed +
                                       st.pages_evicted + st.pages_got_exclusive +
                                       st.pages_pool_destroyed);
    for (int t = 0; t < NWORKERS; t++) {
        free(ws[t].buf);
        free(ws[t].want);
    }
    tu_store_close(tm);
}

/* ------------------------------------------------------------ torture */

enum { T_OBJ = 2, T_IDX = 8, T_POOLS = 3 };

struct torture {
    struct tmem *tm;
    struct tmem_client *x, *y, *z;
    int px[T_POOLS], py[T_POOLS]; /* x: shared-eph, shared-pers, private-pers; y: shared two */
    size_t ps;
    _Atomic uint64_t published[NWORKERS + 1]; /* highest counter each thread began to put */
};

struct tworker {
    struct torture *t;
    int id;
    uint64_t rng, counter;
    long ops, hits, since_check;
};

static uint64_t tkey(int pool, int obj, int idx)
{
    return 0x7000000000ull | ((uint64_t)pool << 24) | ((uint64_t)obj << 16) | (uint64_t)idx;
}

static void torture_check(struct torture *t, const unsigned char *page, int pool, int obj,
                          int idx, const char *who)
{
    uint64_t key, ver;
    if (!tu_check_tagged(page, t->ps, &key, &ver)) {
        report("%s: get returned a page that no put ever stored (pool %d obj %d idx %d)", who,
               pool, obj, idx);
        return;
    }
    if (key != tkey(pool, obj, idx)) {
        report("%s: get of pool %d obj %d idx %d returned the page of key %#llx", who, pool,
               obj, idx, (unsigned long long)key);
        return;
    }
    unsigned tid = (unsigned)(ver >> 40);
    uint64_t cnt = ver & ((1ull << 40) - 1);
    if (tid > NWORKERS || cnt > atomic_load(&t->published[tid]))
        report("%s: get returned version %#llx that was never put", who,
               (unsigned long long)ver);
}

static void *tworker_main(void *arg)
{
    struct tworker *w = arg;
    struct torture *t = w->t;
    unsigned char *buf = malloc(t->ps);
    if (!buf) {
        report("malloc");
        return NULL;
    }
    /* workers 0,1 act as client x, 2,3 as client y (shared pools only) */
    bool as_x = w->id < 2;
    struct tmem_client *c = as_x ? t->x : t->y;
    const int *ids = as_x ? t->px : t->py;
    int npools = as_x ? T_POOLS : 2;
    char who[32];
    snprintf(who, sizeof who, "torture worker %d", w->id);
    while (!stopping()) {
        int p = (int)tu_rng_below(&w->rng, (uint64_t)npools);
        int obj = (int)tu_rng_below(&w->rng, T_OBJ);
        int idx = (int)tu_rng_below(&w->rng, T_IDX);
        struct tmem_oid oid = tu_oid(0xabc, (uint64_t)obj, 0);
        unsigned r = (unsigned)tu_rng_below(&w->rng, 100);
        int rc;
        if (r < 45) {
            uint64_t cnt = ++w->counter;
            atomic_store(&t->published[w->id], cnt);
            tu_fill_tagged(buf, t->ps, tkey(p, obj, idx), ((uint64_t)w->id << 40) | cnt,
                           (unsigned)(cnt % 3));
            rc = tmem_put(c, ids[p], &oid, (uint32_t)idx, buf);
            if (rc != 0 && rc != -ENOSPC && rc != -ENOMEM)
                report("%s: put returned %d", who, rc);
        } else if (r < 85) {
            rc = tmem_get(c, ids[p], &oid, (uint32_t)idx, buf);
            if (rc == 0) {
                w->hits++;
                torture_check(t, buf, p, obj, idx, who);
            } else if (rc != -ENOENT) {
                report("%s: get returned %d", who, rc);
            }
        } else if (r < 97) {
            rc = tmem_flush_page(c, ids[p], &oid, (uint32_t)idx);
            if (rc != 0 && rc != -ENOENT)
                report("%s: flush_page returned %d", who, rc);
        } else {
            rc = tmem_flush_object(c, ids[p], &oid);
            if (rc != 0 && rc != -ENOENT)
                report("%s: flush_object returned %d", who, rc);
        }
        w->ops++;
        maybe_check(t->tm, &w->since_check, 1, who);
    }
    free(buf);
    return NULL;
}

/* Client z joins the shared pools, reads, puts, leaves; over and over. */
static void *joiner_main(void *arg)
{
    struct tworker *w = arg;
    struct torture *t = w->t;
    unsigned char *buf = malloc(t->ps);
    if (!buf) {
        report("malloc");
        return NULL;
    }
    while (!stopping()) {
        int e = tmem_new_pool(t->z, TMEM_POOL_SHARED, UUID_E);
        int p = tmem_new_pool(t->z, TMEM_POOL_SHARED | TMEM_POOL_PERSIST, UUID_P);
        if (e < 0 || p < 0) {
            if ((e >= 0 || e == -ENOMEM) && (p >= 0 || p == -ENOMEM) && faults_injected()) {
                /* refused for want of memory: leave what it joined, try again */
                if ((e >= 0 && tmem_destroy_pool(t->z, e) != 0) ||
                    (p >= 0 && tmem_destroy_pool(t->z, p) != 0))
                    report("joiner: destroy_pool failed");
                continue;
            }
            report("joiner: new_pool returned %d / %d", e, p);
            break;
        }
        for (int n = 0; n < 32 && !stopping(); n++) {
            int which = (int)tu_rng_below(&w->rng, 2);
            int obj = (int)tu_rng_below(&w->rng, T_OBJ);
            int idx = (int)tu_rng_below(&w->rng, T_IDX);
            struct tmem_oid oid = tu_oid(0xabc, (uint64_t)obj, 0);
            int id = which ? p : e;
            if (n % 4 == 0) {
                uint64_t cnt = ++w->counter;
                atomic_store(&t->published[NWORKERS], cnt);
                tu_fill_tagged(buf, t->ps, tkey(which, obj, idx),
                               ((uint64_t)NWORKERS << 40) | cnt, TU_TAG_SPARSE);
                int rc = tmem_put(t->z, id, &oid, (uint32_t)idx, buf);
                if (rc != 0 && rc != -ENOSPC && rc != -ENOMEM)
                    report("joiner: put returned %d", rc);
            } else {
                int rc = tmem_get(t->z, id, &oid, (uint32_t)idx, buf);
                if (rc == 0) {
                    w->hits++;
                    torture_check(t, buf, which, obj, idx, "joiner");
                } else if (rc != -ENOENT) {
                    report("joiner: get returned %d", rc);
                }
            }
            w->ops++;
        }
        if (tmem_destroy_pool(t->z, e) != 0 || tmem_destroy_pool(t->z, p) != 0)
            report("joiner: destroy_pool failed");
    }
    free(buf);
    return NULL;
}

static void test_stress_shared_handle_torture(void **state)
{
    (void)state;
    reset_flags();
    static struct torture t;
    memset(&t, 0, sizeof t);
    t.tm = setup_store();
    assert_non_null(t.tm);
    t.ps = tmem_page_size(t.tm);
    t.x = setup_client(t.tm, "x");
    t.y = setup_client(t.tm, "y");
    t.z = setup_client(t.tm, "z");
    assert_non_null(t.x);
    assert_non_null(t.y);
    assert_non_null(t.z);
    t.px[0] = setup_pool(t.x, TMEM_POOL_SHARED, UUID_E);
    t.px[1] = setup_pool(t.x, TMEM_POOL_SHARED | TMEM_POOL_PERSIST, UUID_P);
    t.px[2] = setup_pool(t.x, TMEM_POOL_PERSIST, NULL);
    t.py[0] = setup_pool(t.y, TMEM_POOL_SHARED, UUID_E);
    t.py[1] = setup_pool(t.y, TMEM_POOL_SHARED | TMEM_POOL_PERSIST, UUID_P);
    for (int i = 0; i < T_POOLS; i++)
        assert_true(t.px[i] >= 0);
    assert_true(t.py[0] >= 0 && t.py[1] >= 0);

    static struct tworker ws[NWORKERS + 1];
    memset(ws, 0, sizeof ws);
    pthread_t th[NWORKERS + 1], fth;
    for (int i = 0; i <= NWORKERS; i++) {
        ws[i].t = &t;
        ws[i].id = i;
        ws[i].rng = 555 + (uint64_t)i;
        assert_int_equal(pthread_create(&th[i], NULL, i < NWORKERS ? tworker_main : joiner_main,
                                        &ws[i]), 0);
    }
    struct flipper f = {t.tm, tu_usage(t.tm) + 16 * (t.ps + 128), 9, 0, {NULL, NULL}};
    assert_int_equal(pthread_create(&fth, NULL, flipper_main, &f), 0);
    run_for(seconds());
    for (int i = 0; i <= NWORKERS; i++)
        pthread_join(th[i], NULL);
    pthread_join(fth, NULL);
    if (atomic_load(&g_failed))
        fail_msg("%s", g_msg);
    long ops = 0, hits = 0;
    for (int i = 0; i <= NWORKERS; i++) {
        ops += ws[i].ops;
        hits += ws[i].hits;
    }
    print_message("torture: %ld ops, %ld hits, %ld capacity flips\n", ops, hits, f.flips);
    assert_true(ops > 1000);
    assert_true(hits > 0);
    assert_true(ws[NWORKERS].ops > 0);

    /* quiescent: the last value of every handle, if any, is a valid page,
     * and the persistent shared pool answers the same to x and y */
    unsigned char *a = malloc(t.ps), *b = malloc(t.ps);
    assert_non_null(a);
    assert_non_null(b);
    for (int obj = 0; obj < T_OBJ; obj++)
        for (int idx = 0; idx < T_IDX; idx++) {
            struct tmem_oid oid = tu_oid(0xabc, (uint64_t)obj, 0);
            int ra = tmem_get(t.x, t.px[1], &oid, (uint32_t)idx, a);
            int rb = tmem_get(t.y, t.py[1], &oid, (uint32_t)idx, b);
            assert_int_equal(ra, rb);
            if (ra == 0) {
                torture_check(&t, a, 1, obj, idx, "final");
                assert_int_equal(memcmp(a, b, t.ps), 0);
            }
        }
    if (atomic_load(&g_failed))
        fail_msg("%s", g_msg);
    free(a);
    free(b);
    struct tmem_stats st;
    assert_int_equal(tmem_stats(t.tm, &st), 0);
    assert_int_equal(st.succ_puts, st.pages + st.dup_puts_replaced + st.pages_flushed +
                                       st.pages_evicted + st.pages_got_exclusive +
                                       st.pages_pool_destroyed);
    tu_store_close(t.tm);
}

/* Clients created and destroyed concurrently, each with its own pools,
 * while others keep working: no cross-talk, counters stay consistent.
 * With allocation faults injected (TMEM_FAULT) a client creation that
 * returns NULL/ENOMEM or a new_pool that returns -ENOMEM is the documented
 * answer: counted and the round skipped; without faults it fails the test. */
struct churn {
    struct tmem *tm;
    int id;
    uint64_t rng;
    long rounds, since_check;
    long refused; /* client or pool creations refused for want of memory */
};


static void *churn_main(void *arg)
{
    struct churn *ch = arg;
    size_t ps = tmem_page_size(ch->tm);
    unsigned char *p = malloc(ps), *g = malloc(ps);
    if (!p || !g) {
        report("malloc");
        free(p);
        free(g);
        return NULL;
    }
    while (!stopping()) {
        struct tmem_client *c = tmem_client_create(ch->tm, "churn");
        if (!c) {
            if (errno == ENOMEM && faults_injected()) {
                ch->refused++;
                continue;
            }
            report("client_create failed");
            break;
        }
        int pp = tmem_new_pool(c, TMEM_POOL_PERSIST, NULL);
        int ep = tmem_new_pool(c, 0, NULL);
        int sp = tmem_new_pool(c, TMEM_POOL_SHARED, UUID_E);
        if (pp < 0 || ep < 0 || sp < 0) {
            bool enomem_only = (pp >= 0 || pp == -ENOMEM) && (ep >= 0 || ep == -ENOMEM) &&
                               (sp >= 0 || sp == -ENOMEM);
            if (enomem_only && faults_injected()) {
                ch->refused++;
                tmem_client_destroy(c); /* with the pools it got */
                continue;
            }
            report("churn: new_pool failed %d %d %d", pp, ep, sp);
            tmem_client_destroy(c);
            break;
        }
        struct tmem_oid oid = tu_oid(0xc0 + (uint64_t)ch->id, 0, 0);
        bool ok[16];
        for (uint32_t i = 0; i < 16; i++) {
            tu_fill_tagged(p, ps, (uint64_t)ch->id << 32 | i, (uint64_t)ch->rounds, i % 3);
            ok[i] = tmem_put(c, pp, &oid, i, p) == 0;
            tmem_put(c, ep, &oid, i, p);
            tmem_put(c, sp, &oid, i, p);
        }
        for (uint32_t i = 0; i < 16; i++) {
            tu_fill_tagged(p, ps, (uint64_t)ch->id << 32 | i, (uint64_t)ch->rounds, i % 3);
            int rc = tmem_get(c, pp, &oid, i, g);
            if (ok[i] && (rc != 0 || memcmp(p, g, ps) != 0))
                report("churn %d: persistent page %u lost or wrong (%d)", ch->id, i, rc);
            if (!ok[i] && rc != -ENOENT)
                report("churn %d: refused put of page %u readable (%d)", ch->id, i, rc);
            rc = tmem_get(c, ep, &oid, i, g);
            if (rc == 0 && memcmp(p, g, ps) != 0)
                report("churn %d: ephemeral page %u wrong", ch->id, i);
        }
        tmem_client_destroy(c);
        ch->rounds++;
        maybe_check(ch->tm, &ch->since_check, 16 * 5, "churn");
    }
    free(p);
    free(g);
    return NULL;
}

static void test_stress_client_churn(void **state)
{
    (void)state;
    reset_flags();
    struct tmem *tm = setup_store();
    assert_non_null(tm);
    /* one long-lived client keeps the shared pool alive */
    struct tmem_client *keeper = setup_client(tm, "keeper");
    assert_non_null(keeper);
    assert_true(setup_pool(keeper, TMEM_POOL_SHARED, UUID_E) >= 0);
    static struct churn ch[NWORKERS];
    pthread_t th[NWORKERS], fth;
    for (int i = 0; i < NWORKERS; i++) {
        ch[i] = (struct churn){tm, i, 31 + (uint64_t)i, 0, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, churn_main, &ch[i]), 0);
    }
    struct flipper f = {tm, tu_usage(tm) + 64 * (tmem_page_size(tm) + 128), 5, 0, {NULL, NULL}};
    assert_int_equal(pthread_create(&fth, NULL, flipper_main, &f), 0);
    run_for(seconds() / 2 + 0.5);
    for (int i = 0; i < NWORKERS; i++)
        pthread_join(th[i], NULL);
    pthread_join(fth, NULL);
    if (atomic_load(&g_failed))
        fail_msg("%s", g_msg);
    long rounds = 0, refused = 0;
    for (int i = 0; i < NWORKERS; i++) {
        rounds += ch[i].rounds;
        refused += ch[i].refused;
    }
    print_message("churn: %ld rounds, %ld client/pool creations refused (allocation faults)\n",
                  rounds, refused);
    assert_true(rounds > 0);
    if (!faults_injected())
        assert_int_equal(refused, 0);
    struct tmem_stats st;
    assert_int_equal(tmem_stats(tm, &st), 0);
    assert_int_equal(st.clients, 1);
    assert_int_equal(st.pools, 1);
    assert_int_equal(st.puts, st.succ_puts + st.failed_puts);
    assert_int_equal(st.succ_puts, st.pages + st.dup_puts_replaced + st.pages_flushed +
                                       st.pages_evicted + st.pages_got_exclusive +
                                       st.pages_pool_destroyed);
    tmem_client_destroy(keeper);
    assert_int_equal(tmem_stats(tm, &st), 0);
    assert_int_equal(st.pages, 0);
    assert_int_equal(st.data_bytes, 0);
    tu_store_close(tm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress_per_handle_model),
        cmocka_unit_test(test_stress_shared_handle_torture),
        cmocka_unit_test(test_stress_client_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
