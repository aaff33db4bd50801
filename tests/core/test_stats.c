/*
 * test_stats.c - the statistics add up. A seeded random single-threaded
 * workload over several clients and every pool kind keeps an exact
 * reference model (every call's expected result and every counter it must
 * move); the test then checks the store's, each client's and each private
 * pool's counters against the model and against the identities listed in
 * the comment of struct tmem_stats in tmem.h; and every TMEM_CHECK_EVERY
 * operations (default 500) the store's invariants (tmem_check).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tmem.h"
#include "../support/testutil.h"

enum { NCLIENTS = 4, NPOOLS = 11, NOBJ = 4, NIDX = 16 };
enum { CL_A, CL_B, CL_C, CL_D };
enum { H_ABSENT, H_PRESENT, H_MAYBE };

struct hmodel {
    uint8_t st;
    uint64_t ver;
};

struct pmodel {
    uint32_t flags;
    const uint8_t *uuid;
    unsigned members;        /* bit per client holding it */
    int ids[NCLIENTS];
    bool live;
    struct hmodel h[NOBJ][NIDX];
    struct tmem_stats exp;   /* expected event counters (private pools) */
};

struct cmodel {
    struct tmem_client *c;
    bool live, frozen;
    struct tmem_stats exp;
};

struct world {
    struct tmem *tm;
    size_t ps;
    uint64_t rng, version;
    struct cmodel cl[NCLIENTS];
    struct pmodel pool[NPOOLS];
    struct tmem_stats destroyed; /* expected counters of destroyed clients */
    unsigned char *buf, *want;
};

static const uint8_t UUID_E[16] = {0xe0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t UUID_P[16] = {0xf0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static const struct {
    uint32_t flags;
    unsigned members;
    const uint8_t *uuid;
} POOL_DEFS[NPOOLS] = {
    {TMEM_POOL_PERSIST, 1u << CL_A, NULL},
    {0, 1u << CL_A, NULL},
    {TMEM_POOL_PERSIST | TMEM_POOL_EXCLUSIVE_GETS, 1u << CL_A, NULL},
    {TMEM_POOL_PERSIST, 1u << CL_B, NULL},
    {0, 1u << CL_B, NULL},
    {TMEM_POOL_PERSIST, 1u << CL_C, NULL},
    {TMEM_POOL_PERSIST, 1u << CL_D, NULL},
    {0, 1u << CL_D, NULL},
    {TMEM_POOL_PERSIST | TMEM_POOL_EXCLUSIVE_GETS, 1u << CL_D, NULL},
    {TMEM_POOL_SHARED, (1u << CL_A) | (1u << CL_B), UUID_E},
    {TMEM_POOL_SHARED | TMEM_POOL_PERSIST, (1u << CL_A) | (1u << CL_C), UUID_P},
};
#define POOL_A_EPHEMERAL 1
#define POOL_C_PRIVATE 5

static bool is_shared(const struct pmodel *p) { return p->flags & TMEM_POOL_SHARED; }
static bool is_persist(const struct pmodel *p) { return p->flags & TMEM_POOL_PERSIST; }

/* Event counters: the ones the model knows exactly for a caller. */
#define EVENT_FIELDS(X)                                                        \
    X(puts) X(succ_puts) X(failed_puts) X(failed_puts_reason[0])               \
    X(failed_puts_reason[1]) X(failed_puts_reason[2]) X(failed_puts_reason[3]) \
    X(gets) X(succ_gets) X(failed_gets) X(flush_pages) X(flush_objects)

static void add_events(struct tmem_stats *to, const struct tmem_stats *from)
{
#define ADD(f) to->f += from->f;
    EVENT_FIELDS(ADD)
#undef ADD
}

static void check_events(const struct tmem_stats *got, const struct tmem_stats *exp,
                         const char *what)
{
#define CHK(f)                                                                   \
    if (got->f != exp->f)                                                        \
        fail_msg("%s: %s is %llu, expected %llu", what, #f,                       \
                 (unsigned long long)got->f, (unsigned long long)exp->f);
    EVENT_FIELDS(CHK)
#undef CHK
}

/*
 * The identities of struct tmem_stats (tmem.h). The first four hold for every
 * stats record; the page-flow identity (succ_puts = pages + every way a page
 * leaves) holds for the store, every pool and a client with no shared pool,
 * so callers say whether to check it. Fails the test at the first broken one.
 */
static void check_identities_of(const struct tmem_stats *s, const char *what, bool page_flow)
{
    if (s->puts != s->succ_puts + s->failed_puts)
        fail_msg("%s: puts %llu != succ_puts %llu + failed_puts %llu", what,
                 (unsigned long long)s->puts, (unsigned long long)s->succ_puts,
                 (unsigned long long)s->failed_puts);
    uint64_t r = 0;
    for (int i = 0; i < TMEM_PUT_FAIL_COUNT; i++)
        r += s->failed_puts_reason[i];
    if (s->failed_puts != r)
        fail_msg("%s: failed_puts %llu != sum of reasons %llu", what,
                 (unsigned long long)s->failed_puts, (unsigned long long)r);
    if (s->gets != s->succ_gets + s->failed_gets)
        fail_msg("%s: gets %llu != succ_gets %llu + failed_gets %llu", what,
                 (unsigned long long)s->gets, (unsigned long long)s->succ_gets,
                 (unsigned long long)s->failed_gets);
    uint64_t kinds = s->pages_raw + s->pages_compressed + s->pages_same_filled +
                     s->pages_deduplicated;
    if (s->pages != kinds)
        fail_msg("%s: pages %llu != raw %llu + compressed %llu + same_filled %llu + "
                 "deduplicated %llu", what, (unsigned long long)s->pages,
                 (unsigned long long)s->pages_raw, (unsigned long long)s->pages_compressed,
                 (unsigned long long)s->pages_same_filled,
                 (unsigned long long)s->pages_deduplicated);
    if (s->dup_puts_flushed > s->pages_flushed)
        fail_msg("%s: dup_puts_flushed %llu > pages_flushed %llu", what,
                 (unsigned long long)s->dup_puts_flushed, (unsigned long long)s->pages_flushed);
    if (s->compressed_payload_bytes > 0 && s->pages_compressed == 0 && s->pages_raw == 0)
        fail_msg("%s: compressed payload without compressed or raw pages", what);
    if (!page_flow)
        return;
    uint64_t out = s->pages + s->dup_puts_replaced + s->pages_flushed + s->pages_evicted +
                   s->pages_got_exclusive + s->pages_pool_destroyed;
    if (s->succ_puts != out)
        fail_msg("%s: succ_puts %llu != pages %llu + dup_puts_replaced %llu + "
                 "pages_flushed %llu + pages_evicted %llu + pages_got_exclusive %llu + "
                 "pages_pool_destroyed %llu (= %llu)", what,
                 (unsigned long long)s->succ_puts, (unsigned long long)s->pages,
                 (unsigned long long)s->dup_puts_replaced,
                 (unsigned long long)s->pages_flushed, (unsigned long long)s->pages_evicted,
                 (unsigned long long)s->pages_got_exclusive,
                 (unsigned long long)s->pages_pool_destroyed, (unsigned long long)out);
}

static void check_identities(const struct tmem_stats *s, const char *what)
{
    check_identities_of(s, what, true);
}

/* ------------------------------------------------------------ the world */

static void pool_open(struct world *w, int pi)
{
    struct pmodel *p = &w->pool[pi];
    for (int ci = 0; ci < NCLIENTS; ci++) {
        p->ids[ci] = -1;
        if (!(p->members & (1u << ci)) || !w->cl[ci].live)
            continue;
        p->ids[ci] = tmem_new_pool(w->cl[ci].c, p->flags, p->uuid);
        if (p->ids[ci] < 0)
            fail_msg("new_pool %d for client %d: %d", pi, ci, p->ids[ci]);
    }
    p->live = true;
    memset(p->h, 0, sizeof p->h);
    memset(&p->exp, 0, sizeof p->exp);
}

static void world_init(struct world *w, uint64_t seed)
{
    struct tmem_config cfg;

    memset(w, 0, sizeof *w);
    tmem_config_init(&cfg);
    /* odd seeds with huge-page arenas (the default), even ones without: the
     * allocator's count must equal the budget's either way */
    cfg.huge_pages = seed % 2 == 1;
    w->tm = tmem_create(&cfg);
    assert_non_null(w->tm);
    w->ps = tmem_page_size(w->tm);
    w->rng = seed;
    w->buf = malloc(w->ps);
    w->want = malloc(w->ps);
    assert_non_null(w->buf);
    assert_non_null(w->want);
    static const char *names[NCLIENTS] = {"A", "B", "C", "D"};
    for (int ci = 0; ci < NCLIENTS; ci++) {
        w->cl[ci].c = tmem_client_create(w->tm, names[ci]);
        assert_non_null(w->cl[ci].c);
        w->cl[ci].live = true;
    }
    for (int pi = 0; pi < NPOOLS; pi++) {
        w->pool[pi].flags = POOL_DEFS[pi].flags;
        w->pool[pi].members = POOL_DEFS[pi].members;
        w->pool[pi].uuid = POOL_DEFS[pi].uuid;
        pool_open(w, pi);
    }
}

static void world_free(struct world *w)
{
    tu_store_close(w->tm);
    free(w->buf);
    free(w->want);
}

static uint64_t hkey(int pi, int obj, int idx)
{
    return (uint64_t)pi * 1000000 + (uint64_t)obj * 1000 + (uint64_t)idx;
}

static void do_put(struct world *w, int ci, int pi, int obj, int idx)
{
    struct cmodel *c = &w->cl[ci];
    struct pmodel *p = &w->pool[pi];
    struct hmodel *h = &p->h[obj][idx];
    struct tmem_oid oid = tu_oid((uint64_t)obj, 0, 0);
    uint64_t ver = ++w->version;
    tu_fill_versioned(w->buf, w->ps, hkey(pi, obj, idx), ver);
    int rc = tmem_put(c->c, p->ids[ci], &oid, (uint32_t)idx, w->buf);
    struct tmem_stats *e[2] = {&c->exp, is_shared(p) ? NULL : &p->exp};
    for (int k = 0; k < 2; k++) {
        if (!e[k])
            continue;
        e[k]->puts++;
        if (rc == 0) {
            e[k]->succ_puts++;
        } else {
            e[k]->failed_puts++;
            int reason = c->frozen ? TMEM_PUT_FAIL_FROZEN
                         : rc == -ENOSPC ? TMEM_PUT_FAIL_NO_ROOM : TMEM_PUT_FAIL_ALLOC;
            e[k]->failed_puts_reason[reason]++;
        }
    }
    if (c->frozen && rc != -ENOSPC)
        fail_msg("put by a frozen client returned %d", rc);
    if (rc != 0 && rc != -ENOSPC && rc != -ENOMEM)
        fail_msg("put returned %d", rc);
    if (rc == 0) {
        if (h->st == H_PRESENT)
            p->exp.dup_puts_replaced++;
        h->st = is_persist(p) ? H_PRESENT : H_MAYBE;
        h->ver = ver;
    } else {
        if (h->st == H_PRESENT) {
            p->exp.dup_puts_flushed++;
            p->exp.pages_flushed++;
        }
        h->st = H_ABSENT;
    }
}

static void do_get(struct world *w, int ci, int pi, int obj, int idx)
{
    struct cmodel *c = &w->cl[ci];
    struct pmodel *p = &w->pool[pi];
    struct hmodel *h = &p->h[obj][idx];
    struct tmem_oid oid = tu_oid((uint64_t)obj, 0, 0);
    memset(w->buf, 0x3c, w->ps);
    int rc = tmem_get(c->c, p->ids[ci], &oid, (uint32_t)idx, w->buf);
    struct tmem_stats *e[2] = {&c->exp, is_shared(p) ? NULL : &p->exp};
    for (int k = 0; k < 2; k++) {
        if (!e[k])
            continue;
        e[k]->gets++;
        if (rc == 0)
            e[k]->succ_gets++;
        else
            e[k]->failed_gets++;
    }
    if (h->st == H_PRESENT && rc != 0)
        fail_msg("pool %d (%#x): get of a persistent page returned %d", pi, p->flags, rc);
    if (h->st == H_ABSENT && rc != -ENOENT)
        fail_msg("pool %d (%#x): get of an absent page returned %d", pi, p->flags, rc);
    if (h->st == H_MAYBE && rc != 0 && rc != -ENOENT)
        fail_msg("pool %d: ephemeral get returned %d", pi, rc);
    if (rc == 0) {
        tu_fill_versioned(w->want, w->ps, hkey(pi, obj, idx), h->ver);
        long d = tu_first_diff(w->buf, w->want, w->ps);
        if (d >= 0)
            fail_msg("pool %d: get returned wrong bytes (first diff at %ld)", pi, d);
        bool destructive = (p->flags & TMEM_POOL_EXCLUSIVE_GETS) ||
                           (!is_persist(p) && !is_shared(p));
        if (destructive) {
            p->exp.pages_got_exclusive++;
            h->st = H_ABSENT;
        }
    } else {
        for (size_t i = 0; i < w->ps; i++)
            if (w->buf[i] != 0x3c)
                fail_msg("a failed get wrote into the caller's page");
        h->st = H_ABSENT;
    }
}

static void do_flush_page(struct world *w, int ci, int pi, int obj, int idx)
{
    struct cmodel *c = &w->cl[ci];
    struct pmodel *p = &w->pool[pi];
    struct hmodel *h = &p->h[obj][idx];
    struct tmem_oid oid = tu_oid((uint64_t)obj, 0, 0);
    int rc = tmem_flush_page(c->c, p->ids[ci], &oid, (uint32_t)idx);
    c->exp.flush_pages++;
    if (!is_shared(p))
        p->exp.flush_pages++;
    if (h->st == H_PRESENT && rc != 0)
        fail_msg("pool %d: flush of a persistent page returned %d", pi, rc);
    if (h->st == H_ABSENT && rc != -ENOENT)
        fail_msg("pool %d: flush of an absent page returned %d", pi, rc);
    if (rc != 0 && rc != -ENOENT)
        fail_msg("flush_page returned %d", rc);
    if (rc == 0)
        p->exp.pages_flushed++;
    h->st = H_ABSENT;
}

static void do_flush_object(struct world *w, int ci, int pi, int obj)
{
    struct cmodel *c = &w->cl[ci];
    struct pmodel *p = &w->pool[pi];
    struct tmem_oid oid = tu_oid((uint64_t)obj, 0, 0);
    int present = 0, maybe = 0;
    for (int i = 0; i < NIDX; i++) {
        present += p->h[obj][i].st == H_PRESENT;
        maybe += p->h[obj][i].st == H_MAYBE;
        p->h[obj][i].st = H_ABSENT;
    }
    int rc = tmem_flush_object(c->c, p->ids[ci], &oid);
    c->exp.flush_objects++;
    if (!is_shared(p))
        p->exp.flush_objects++;
    if (present && rc != 0)
        fail_msg("pool %d: flush_object over %d persistent pages returned %d", pi, present, rc);
    if (!present && !maybe && rc != -ENOENT)
        fail_msg("pool %d: flush_object of an empty object returned %d", pi, rc);
    if (rc != 0 && rc != -ENOENT)
        fail_msg("flush_object returned %d", rc);
    p->exp.pages_flushed += (uint64_t)present; /* exact for persistent pools */
}

static void destroy_client_c(struct world *w)
{
    struct cmodel *c = &w->cl[CL_C];
    add_events(&w->destroyed, &c->exp);
    tmem_client_destroy(c->c);
    c->live = false;
    c->c = NULL;
    w->pool[POOL_C_PRIVATE].live = false;
    w->pool[10].ids[CL_C] = -1;
}

static void recreate_pool_a_ephemeral(struct world *w)
{
    struct pmodel *p = &w->pool[POOL_A_EPHEMERAL];
    assert_int_equal(tmem_destroy_pool(w->cl[CL_A].c, p->ids[CL_A]), 0);
    pool_open(w, POOL_A_EPHEMERAL);
}

static void set_random_capacity(struct world *w)
{
    uint64_t u = tu_usage(w->tm);
    switch (tu_rng_below(&w->rng, 5)) {
    case 0: assert_int_equal(tmem_set_capacity(w->tm, 0), 0); break;
    case 1: assert_int_equal(tmem_set_capacity(w->tm, u / 2), 0); break;
    case 2: assert_int_equal(tmem_set_capacity(w->tm, u + 8 * w->ps), 0); break;
    default:
        assert_int_equal(tmem_set_capacity(w->tm, TMEM_CAPACITY_UNLIMITED), 0);
        break;
    }
}

/* A random live (client, pool) pair. */
static void pick(struct world *w, int *ci, int *pi)
{
    for (;;) {
        *pi = (int)tu_rng_below(&w->rng, NPOOLS);
        *ci = (int)tu_rng_below(&w->rng, NCLIENTS);
        if (w->pool[*pi].live && w->cl[*ci].live && w->pool[*pi].ids[*ci] >= 0)
            return;
    }
}

static void check_private_pools(struct world *w)
{
    for (int pi = 0; pi < NPOOLS; pi++) {
        struct pmodel *p = &w->pool[pi];
        if (!p->live || is_shared(p))
            continue;
        int ci = 0;
        while (p->ids[ci] < 0)
            ci++;
        struct tmem_stats st;
        assert_int_equal(tmem_pool_stats(w->cl[ci].c, p->ids[ci], &st), 0);
        char what[64];
        snprintf(what, sizeof what, "pool %d (flags %#x)", pi, p->flags);
        check_identities(&st, what);
        check_events(&st, &p->exp, what);
        uint64_t present = 0, maybe = 0;
        for (int o = 0; o < NOBJ; o++)
            for (int i = 0; i < NIDX; i++) {
                present += p->h[o][i].st == H_PRESENT;
                maybe += p->h[o][i].st == H_MAYBE;
            }
        if (is_persist(p)) {
            if (st.pages != present)
                fail_msg("%s: pages %llu, model %llu", what, (unsigned long long)st.pages,
                         (unsigned long long)present);
#define EXACT(f)                                                                 \
    if (st.f != p->exp.f)                                                        \
        fail_msg("%s: %s is %llu, expected %llu", what, #f,                       \
                 (unsigned long long)st.f, (unsigned long long)p->exp.f);
            EXACT(dup_puts_replaced)
            EXACT(dup_puts_flushed)
            EXACT(pages_flushed)
            EXACT(pages_got_exclusive)
#undef EXACT
            assert_int_equal(st.pages_evicted, 0);
        } else {
            assert_true(st.pages <= maybe);
            assert_int_equal(st.pages_got_exclusive, p->exp.pages_got_exclusive);
        }
    }
}

static void check_clients_and_store(struct world *w)
{
    struct tmem_stats sum = w->destroyed;
    unsigned live_clients = 0, live_pools = 0;
    for (int ci = 0; ci < NCLIENTS; ci++) {
        struct cmodel *c = &w->cl[ci];
        if (!c->live)
            continue;
        live_clients++;
        struct tmem_stats st;
        assert_int_equal(tmem_client_stats(c->c, &st), 0);
        char what[32];
        snprintf(what, sizeof what, "client %c", 'A' + ci);
        check_events(&st, &c->exp, what);
        unsigned npools = 0;
        for (int pi = 0; pi < NPOOLS; pi++)
            npools += w->pool[pi].live && w->pool[pi].ids[ci] >= 0;
        assert_int_equal(st.pools, npools);
        add_events(&sum, &c->exp);
    }
    for (int pi = 0; pi < NPOOLS; pi++)
        live_pools += w->pool[pi].live;
    struct tmem_stats st;
    assert_int_equal(tmem_stats(w->tm, &st), 0);
    check_identities(&st, "store");
    /* jemalloc builds: the arenas' own count is exactly what the budget counts */
    if (st.allocator_bytes != 0 && st.allocator_bytes != st.data_bytes + st.metadata_bytes)
        fail_msg("store: allocator_bytes %llu != data_bytes %llu + metadata_bytes %llu",
                 (unsigned long long)st.allocator_bytes, (unsigned long long)st.data_bytes,
                 (unsigned long long)st.metadata_bytes);
    check_events(&st, &sum, "store (sum over clients, live and destroyed)");
    assert_int_equal(st.clients, live_clients);
    assert_int_equal(st.pools, live_pools);
    assert_true(st.capacity_bytes == tmem_capacity(w->tm));

    /* client D holds private pools only: its gauges are the sum of its pools' */
    struct tmem_stats d, ps_sum;
    memset(&ps_sum, 0, sizeof ps_sum);
    assert_int_equal(tmem_client_stats(w->cl[CL_D].c, &d), 0);
    check_identities(&d, "client D (private pools only)");
    for (int pi = 0; pi < NPOOLS; pi++) {
        if (!w->pool[pi].live || w->pool[pi].ids[CL_D] < 0)
            continue;
        struct tmem_stats p;
        assert_int_equal(tmem_pool_stats(w->cl[CL_D].c, w->pool[pi].ids[CL_D], &p), 0);
        add_events(&ps_sum, &p);
        ps_sum.pages += p.pages;
        ps_sum.pages_raw += p.pages_raw;
        ps_sum.pages_compressed += p.pages_compressed;
        ps_sum.pages_same_filled += p.pages_same_filled;
        ps_sum.pages_deduplicated += p.pages_deduplicated;
        ps_sum.dup_puts_replaced += p.dup_puts_replaced;
        ps_sum.pages_flushed += p.pages_flushed;
        ps_sum.pages_evicted += p.pages_evicted;
        ps_sum.pages_got_exclusive += p.pages_got_exclusive;
    }
    check_events(&d, &ps_sum, "client D vs the sum of its pools");
#define SUMCHK(f)                                                                \
    if (d.f != ps_sum.f)                                                         \
        fail_msg("client D: %s %llu != sum over its pools %llu", #f,              \
                 (unsigned long long)d.f, (unsigned long long)ps_sum.f);
    SUMCHK(pages) SUMCHK(pages_raw) SUMCHK(pages_compressed) SUMCHK(pages_same_filled)
    SUMCHK(pages_deduplicated) SUMCHK(dup_puts_replaced) SUMCHK(pages_flushed)
    SUMCHK(pages_evicted) SUMCHK(pages_got_exclusive)
#undef SUMCHK
}

static void run_workload(struct world *w, long ops)
{
    long check_every = tu_check_every(500);

    for (long n = 0; n < ops; n++) {
        if (n == ops / 2 && w->cl[CL_C].live)
            destroy_client_c(w);
        int ci, pi;
        pick(w, &ci, &pi);
        int obj = (int)tu_rng_below(&w->rng, NOBJ);
        int idx = (int)tu_rng_below(&w->rng, NIDX);
        unsigned r = (unsigned)tu_rng_below(&w->rng, 1000);
        if (r < 450)
            do_put(w, ci, pi, obj, idx);
        else if (r < 780)
            do_get(w, ci, pi, obj, idx);
        else if (r < 900)
            do_flush_page(w, ci, pi, obj, idx);
        else if (r < 930)
            do_flush_object(w, ci, pi, obj);
        else if (r < 960)
            set_random_capacity(w);
        else if (r < 980) {
            /* freeze rarely, thaw often */
            bool f = !w->cl[ci].frozen && tu_rng_below(&w->rng, 4) == 0;
            tmem_client_set_frozen(w->cl[ci].c, f);
            w->cl[ci].frozen = f;
        } else if (r < 985) {
            recreate_pool_a_ephemeral(w);
        } else {
            assert_true(tmem_reclaim(w->tm) >= 0);
        }
        if (n % 2000 == 1999) {
            check_private_pools(w);
            check_clients_and_store(w);
        }
        if (n % check_every == 0)
            tu_check(w->tm, "during the random workload");
    }
    assert_int_equal(tmem_set_capacity(w->tm, TMEM_CAPACITY_UNLIMITED), 0);
    check_private_pools(w);
    check_clients_and_store(w);
}

static long ops_count(void)
{
    return tu_env_long("TMEM_STATS_OPS", 40000);
}

static void test_counters_add_up_after_random_workload(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct world w;
        world_init(&w, seed);
        run_workload(&w, ops_count());
        world_free(&w);
    }
}

/*
 * Rule (tmem.h, struct tmem_stats): the first four identities hold for every
 * client; the page-flow identity does not hold for a client holding a shared
 * pool (its gauges count pages other clients put there), so it is checked
 * only for client D, which holds private pools only.
 */
static void test_identities_hold_for_clients_sharing_pools(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 99);
    run_workload(&w, ops_count() / 2);
    for (int ci = 0; ci < NCLIENTS; ci++) {
        if (!w.cl[ci].live)
            continue;
        struct tmem_stats st;
        assert_int_equal(tmem_client_stats(w.cl[ci].c, &st), 0);
        char what[64];
        snprintf(what, sizeof what, "client %c (uses shared pools: %s)", 'A' + ci,
                 ci == CL_D ? "no" : "yes");
        check_identities_of(&st, what, ci == CL_D);
    }
    world_free(&w);
}

static void test_pages_gauge_returns_to_zero_after_flushing_everything(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 7);
    run_workload(&w, ops_count() / 2);
    for (int ci = 0; ci < NCLIENTS; ci++)
        if (w.cl[ci].live)
            tmem_client_set_frozen(w.cl[ci].c, false);
    for (int pi = 0; pi < NPOOLS; pi++) {
        struct pmodel *p = &w.pool[pi];
        if (!p->live)
            continue;
        int ci = 0;
        while (p->ids[ci] < 0)
            ci++;
        for (int o = 0; o < NOBJ; o++)
            do_flush_object(&w, ci, pi, o);
    }
    struct tmem_stats st;
    assert_int_equal(tmem_stats(w.tm, &st), 0);
    check_identities(&st, "store after flushing everything");
    assert_int_equal(st.pages, 0);
    assert_int_equal(st.pages_raw, 0);
    assert_int_equal(st.pages_compressed, 0);
    assert_int_equal(st.pages_same_filled, 0);
    assert_int_equal(st.pages_deduplicated, 0);
    assert_int_equal(st.data_bytes, 0);
    assert_int_equal(st.compressed_payload_bytes, 0);
    check_private_pools(&w);
    check_clients_and_store(&w);
    /* destroying every pool and client leaves the counters consistent */
    for (int ci = 0; ci < NCLIENTS; ci++)
        if (w.cl[ci].live) {
            add_events(&w.destroyed, &w.cl[ci].exp);
            tmem_client_destroy(w.cl[ci].c);
            w.cl[ci].live = false;
        }
    assert_int_equal(tmem_stats(w.tm, &st), 0);
    check_identities(&st, "store with every client destroyed");
    check_events(&st, &w.destroyed, "store with every client destroyed");
    assert_int_equal(st.clients, 0);
    assert_int_equal(st.pools, 0);
    assert_int_equal(st.pages, 0);
    world_free(&w);
}

static void test_stats_format_renders_and_truncates(void **state)
{
    (void)state;
    struct tmem_stats st;
    memset(&st, 0, sizeof st);
    st.puts = 1234567;
    st.succ_puts = 7654321;
    for (int json = 0; json < 2; json++) {
        char big[8192];
        int n = tmem_stats_format(&st, json, big, sizeof big);
        assert_true(n > 0);
        assert_true((size_t)n < sizeof big);
        assert_int_equal(strlen(big), (size_t)n);
        assert_non_null(strstr(big, "1234567"));
        assert_non_null(strstr(big, "7654321"));
        if (json) {
            const char *s = big;
            while (*s == ' ' || *s == '\n')
                s++;
            assert_int_equal(*s, '{');
            assert_non_null(strchr(big, '}'));
        }
        char small[16];
        memset(small, 'x', sizeof small);
        int m = tmem_stats_format(&st, json, small, sizeof small);
        assert_int_equal(m, n);
        assert_int_equal(small[sizeof small - 1], '\0');
        assert_int_equal(memcmp(small, big, sizeof small - 1), 0);
        assert_int_equal(tmem_stats_format(&st, json, NULL, 0), n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_add_up_after_random_workload),
        cmocka_unit_test(test_identities_hold_for_clients_sharing_pools),
        cmocka_unit_test(test_pages_gauge_returns_to_zero_after_flushing_everything),
        cmocka_unit_test(test_stats_format_renders_and_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
