/*
 * tmem_memory.c - the store's allocator and its accounting (state and
 * calls: tmem_memory.h).
 *
 * Models: the "real memory" a hypervisor would spend on tmem. Every
 * allocation of the store goes through here. Metadata (tmem_memory_alloc,
 * zalloc, free) is charged at the allocator's own size class (jemalloc's
 * sallocx, or malloc_usable_size under sanitizers) to the store's METADATA
 * gauge, and optionally to a pool's (those of a locked stripe). Page data
 * (tmem_memory_alloc_data, free_data) is charged by its caller, so that
 * the hot path pays no size lookup: tmem_page.c charges the store's DATA
 * gauge tmem_memory_size_class(len) through its stripe (the size class
 * jemalloc guarantees sallocx reports; the requested size under libc).
 *
 * With jemalloc the store has dedicated arenas (created at tmem_create,
 * destroyed at tmem_destroy), one per thread shard so that two threads do
 * not meet on one arena's bin locks. It does not use jemalloc's automatic
 * thread caches (they are shared by every arena of the process, so the
 * store's regions would mix with the program's and destroying an arena
 * would be unsafe) but one explicit tcache per shard ("tcache.create"),
 * used under that shard's tcache lock (jemalloc allows one user at a time):
 * most allocations and frees are then a cache pop or push instead of a
 * trip through the arena's bins. The caches only ever hold regions of the
 * store's own arenas; they are flushed before the arenas' statistics
 * ("stats.arenas.<i>.{small,large}.allocated") are read, so those give the
 * store's bytes exactly, and destroyed before the arenas. tmem_stats
 * reports both counts so they can be compared. Regions sitting in a cache
 * between a free and the next allocation are not charged to the budget
 * (at most jemalloc's per-bin cache size per shard).
 * Sanitizer builds (TMEM_USE_JEMALLOC=0) use libc malloc.
 *
 * Shards: each thread is given a shard at its first allocation, round
 * robin (the one piece of process-wide state here: the next shard to
 * give), and always allocates from that arena and slab shard. Shards by
 * CPU (as jemalloc's per-CPU arenas do) made a single thread that the
 * scheduler moved between CPUs spread its records and data over several
 * shards, so how many bytes the store held, and so which puts a tight
 * capacity refused, depended on the scheduler: the same simulation gave
 * 293 to 1643 accepted stores from run to run, and the same every time
 * once pinned to one CPU. By thread, a single-threaded run repeats
 * exactly; several threads still spread over the shards.
 *
 * The budget's measure (cfg.budget): by default tmem_usage is DATA +
 * METADATA as charged above; with TMEM_BUDGET_ZSMALLOC it is the store's
 * page data charged as zsmalloc would hold it (tmem_memory_zsmalloc_size:
 * the length rounded up to zsmalloc's 16-byte class step, a raw page a
 * whole page), kept beside the gauges by tmem_charge_page_data, and no
 * metadata: zswap's pool limit counts the zsmalloc pool alone. With
 * TMEM_BUDGET_ZSPAGES it is the pages of the zspages tmem_zspage.c
 * places the data in (the same counter, changed as zspages come and go).
 * The gauges themselves stay the allocator's count either way.
 *
 * Fault injection (tmem_config.fault, TMEM_FAULT; common/fault.h): every
 * allocation of the store, metadata or data, is taken by
 * tmem_memory_take, which first asks the switch whether this one is to
 * fail (one predictable branch when it is off) and counts every failure,
 * injected or real, in tm->alloc_failures (statistics: alloc_failures).
 * With TMEM_BUDGET_ZSPAGES a new zspage and a new side-table chunk of
 * the zspage model (tmem_zspage.c, malloc'ed) ask the same switch and
 * count their failures the same way.
 * The codec's per-thread zstd/lzo work areas (malloc, shared by every
 * store of the thread) and the working memory of tmem_check, tmem_pool_walk
 * and a pressure round are not the store's and are not failed.
 *
 * For the invariant checker, tmem_memory_usable_size gives what an
 * allocation was charged, so that the metadata a walk of the store finds
 * can be summed at the same sizes.
 *
 * Locking: a shard's tcache lock is held only around one jemalloc call
 * (a leaf lock: nothing else is taken under it); store gauges are relaxed
 * atomics, stripe gauges are written under their stripe lock.
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if TMEM_USE_JEMALLOC
#include <sys/mman.h>
/* Sizing finds the owning arena by itself and uses no cache. */
#define TMEM_MALLOCX_ANY MALLOCX_TCACHE_NONE
#else
#include <malloc.h>
#endif

unsigned tmem_thread_shard(void)
{
    static atomic_uint next_shard;
    static _Thread_local unsigned shard_plus_one; /* 0: none given yet */

    if (!shard_plus_one)
        shard_plus_one =
            atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed) % TMEM_SHARDS + 1;
    return shard_plus_one - 1;
}

#if TMEM_USE_JEMALLOC
/* Destroy the first 'caches' tcaches (their regions go back to their
 * arenas), then the first 'arenas' arenas. */
static void tmem_memory_destroy_shards(struct tmem *tm, unsigned caches, unsigned arenas)
{
    char name[64];
    for (unsigned i = 0; i < caches; i++) {
        mallctl("tcache.destroy", NULL, NULL, &tm->mem.tcaches[i].id, sizeof(tm->mem.tcaches[i].id));
        pthread_mutex_destroy(&tm->mem.tcaches[i].lock);
    }
    for (unsigned i = 0; i < arenas; i++) {
        snprintf(name, sizeof(name), "arena.%u.destroy", tm->mem.arenas[i]);
        mallctl(name, NULL, NULL, NULL, 0);
    }
}
#endif

#if TMEM_USE_JEMALLOC
/*
 * Huge pages (cfg.huge_pages): the store's arenas get extent hooks that are
 * jemalloc's own, except that memory fresh from the system is marked
 * MADV_HUGEPAGE, so that the kernel backs it with transparent huge pages
 * where it can ("madvise" or "always" in
 * /sys/kernel/mm/transparent_hugepage/enabled; with "never" it is a no-op).
 * A store grows by faulting its memory in: one fault a 2 MiB page instead
 * of one a 4 KiB page, the way a hypervisor backs guest memory. Freed
 * memory is purged by jemalloc as before (which splits huge pages).
 */
static void *tmem_extent_alloc_huge(extent_hooks_t *hooks, void *new_addr, size_t size,
                                    size_t alignment, bool *zero, bool *commit,
                                    unsigned arena_ind)
{
    extent_hooks_t *defaults = ((struct tmem_huge_hooks *)(void *)hooks)->defaults;
    void *p = defaults->alloc(defaults, new_addr, size, alignment, zero, commit, arena_ind);
    if (p)
        (void)madvise(p, size, MADV_HUGEPAGE);
    return p;
}

/* Give arena ind the huge-page hooks; 0, or -ENOMEM when jemalloc refuses
 * (the arena keeps its default hooks). The arena was created with the
 * default hooks: jemalloc's default alloc hook needs an initialised arena. */
static int tmem_memory_use_huge_pages(struct tmem *tm, unsigned ind)
{
    struct tmem_huge_hooks *h = &tm->mem.huge_hooks;
    extent_hooks_t *hooks = &h->hooks;
    char name[64];

    if (!h->defaults) {
        size_t len = sizeof(h->defaults);
        snprintf(name, sizeof(name), "arena.%u.extent_hooks", ind);
        if (mallctl(name, &h->defaults, &len, NULL, 0) != 0)
            return -ENOMEM;
        h->hooks = *h->defaults;
        h->hooks.alloc = tmem_extent_alloc_huge;
    }
    snprintf(name, sizeof(name), "arena.%u.extent_hooks", ind);
    return mallctl(name, NULL, NULL, &hooks, sizeof(hooks)) == 0 ? 0 : -ENOMEM;
}
#endif

static size_t tmem_memory_lookup_size_class(size_t size)
{
#if TMEM_USE_JEMALLOC
    return nallocx(size ? size : 1, TMEM_MALLOCX_ANY);
#else
    return size;
#endif
}

int tmem_memory_init(struct tmem *tm)
{
    /* jemalloc's size classes are multiples of 8 bytes, so n and n rounded up
     * to 8 share one; a put and a release ask for 2 each, a table answers */
    for (uint32_t i = 0; i <= tm->cfg.page_size / 8; i++)
        tm->mem.size_class_by_8[i] = (uint16_t)tmem_memory_lookup_size_class(i ? (size_t)i * 8 : 1);
#if TMEM_USE_JEMALLOC
    unsigned arenas = 0, caches = 0;
    for (; arenas < TMEM_SHARDS; arenas++) {
        size_t len = sizeof(tm->mem.arenas[arenas]);
        if (mallctl("arenas.create", &tm->mem.arenas[arenas], &len, NULL, 0) != 0)
            goto fail;
        /* huge pages are an optimisation: without them the store still works */
        if (tm->cfg.huge_pages)
            (void)tmem_memory_use_huge_pages(tm, tm->mem.arenas[arenas]);
    }
    for (; caches < TMEM_SHARDS; caches++) {
        size_t len = sizeof(tm->mem.tcaches[caches].id);
        if (mallctl("tcache.create", &tm->mem.tcaches[caches].id, &len, NULL, 0) != 0)
            goto fail;
        if (pthread_mutex_init(&tm->mem.tcaches[caches].lock, NULL) != 0) {
            mallctl("tcache.destroy", NULL, NULL, &tm->mem.tcaches[caches].id, sizeof(unsigned));
            goto fail;
        }
    }
    tm->mem.have_arenas = true;
    return 0;
fail:
    tmem_memory_destroy_shards(tm, caches, arenas);
    return -ENOMEM;
#else
    tm->mem.have_arenas = false;
#endif
    return 0;
}

void tmem_memory_fini(struct tmem *tm)
{
#if TMEM_USE_JEMALLOC
    if (tm->mem.have_arenas)
        tmem_memory_destroy_shards(tm, TMEM_SHARDS, TMEM_SHARDS);
    tm->mem.have_arenas = false;
#else
    (void)tm;
#endif
}

static void tmem_memory_charge(struct tmem *tm, size_t bytes, int sign,
                               struct tmem_gauges *stripe_gauges)
{
    tmem_gauge_add(&tm->gauges, TMEM_G_METADATA_BYTES, sign * (int64_t)bytes);
    if (stripe_gauges)
        tmem_add_owned(&stripe_gauges->g[TMEM_G_METADATA_BYTES],
                       (uint64_t)(sign * (int64_t)bytes));
}

#if TMEM_USE_JEMALLOC
/* Shard `shard`'s cache, locked; unlock with the returned pointer. */
static struct tmem_tcache_shard *tmem_memory_lock_cache(struct tmem *tm, unsigned shard)
{
    struct tmem_tcache_shard *tc = &tm->mem.tcaches[shard];
    pthread_mutex_lock(&tc->lock);
    return tc;
}
#endif

/* An uncharged region of size bytes from the calling thread's shard, or
 * NULL: the allocator's failure, or one the fault switch injects (every
 * allocation of the store passes here, so each is a place to fail). */
static void *tmem_memory_take(struct tmem *tm, size_t size)
{
    void *p;

    if (fault_hit(&tm->fault)) {
        p = NULL;
    } else {
#if TMEM_USE_JEMALLOC
        unsigned shard = tmem_thread_shard();
        struct tmem_tcache_shard *tc = tmem_memory_lock_cache(tm, shard);
        p = mallocx(size ? size : 1, MALLOCX_ARENA(tm->mem.arenas[shard]) | MALLOCX_TCACHE(tc->id));
        pthread_mutex_unlock(&tc->lock);
#else
        p = malloc(size ? size : 1);
#endif
    }
    if (!p)
        atomic_fetch_add_explicit(&tm->alloc_failures, 1, memory_order_relaxed);
    return p;
}

void *tmem_memory_alloc_data(struct tmem *tm, size_t len)
{
    return tmem_memory_take(tm, len);
}

void tmem_memory_free_data(struct tmem *tm, void *p, size_t len)
{
#if TMEM_USE_JEMALLOC
    struct tmem_tcache_shard *tc = tmem_memory_lock_cache(tm, tmem_thread_shard());
    sdallocx(p, len ? len : 1, MALLOCX_TCACHE(tc->id));
    pthread_mutex_unlock(&tc->lock);
#else
    (void)tm;
    (void)len;
    free(p);
#endif
}

/* The allocator's size of the live region p: what it is charged. */
static size_t tmem_memory_usable(void *p)
{
#if TMEM_USE_JEMALLOC
    return sallocx(p, TMEM_MALLOCX_ANY);
#else
    return malloc_usable_size(p);
#endif
}

size_t tmem_memory_usable_size(const struct tmem *tm, const void *p)
{
    (void)tm;
    return p ? tmem_memory_usable((void *)p) : 0;
}

void *tmem_memory_alloc(struct tmem *tm, size_t size, struct tmem_gauges *stripe_gauges)
{
    void *p = tmem_memory_take(tm, size);

    if (!p)
        return NULL;
    tmem_memory_charge(tm, tmem_memory_usable(p), 1, stripe_gauges);
    return p;
}

void *tmem_memory_zalloc(struct tmem *tm, size_t size, struct tmem_gauges *stripe_gauges)
{
    void *p = tmem_memory_alloc(tm, size, stripe_gauges);
    if (p)
        memset(p, 0, size);
    return p;
}

void tmem_memory_free(struct tmem *tm, void *p, struct tmem_gauges *stripe_gauges)
{
    size_t usable;

    if (!p)
        return;
    usable = tmem_memory_usable(p);
#if TMEM_USE_JEMALLOC
    struct tmem_tcache_shard *tc = tmem_memory_lock_cache(tm, tmem_thread_shard());
    dallocx(p, MALLOCX_TCACHE(tc->id));
    pthread_mutex_unlock(&tc->lock);
#else
    free(p);
#endif
    tmem_memory_charge(tm, usable, -1, stripe_gauges);
}

size_t tmem_memory_size_class(const struct tmem *tm, size_t size)
{
#if TMEM_USE_JEMALLOC
    if (size <= tm->cfg.page_size)
        return tm->mem.size_class_by_8[(size + 7) / 8];
#else
    (void)tm; /* libc: a data allocation is charged at its requested size */
#endif
    return tmem_memory_lookup_size_class(size);
}

uint64_t tmem_memory_allocator_bytes(struct tmem *tm)
{
#if TMEM_USE_JEMALLOC
    uint64_t epoch = 1, total = 0;
    size_t len = sizeof(epoch);
    char name[96];

    /* Regions cached for reuse count as allocated in the arenas' stats:
     * hand them back first, so the count is the store's live bytes. */
    for (unsigned i = 0; i < TMEM_SHARDS; i++) {
        pthread_mutex_lock(&tm->mem.tcaches[i].lock);
        mallctl("tcache.flush", NULL, NULL, &tm->mem.tcaches[i].id, sizeof(tm->mem.tcaches[i].id));
        pthread_mutex_unlock(&tm->mem.tcaches[i].lock);
    }
    mallctl("epoch", &epoch, &len, &epoch, len);
    for (unsigned i = 0; i < TMEM_SHARDS; i++) {
        static const char *const kinds[] = {"small", "large"};
        for (unsigned k = 0; k < 2; k++) {
            size_t bytes = 0;
            len = sizeof(bytes);
            snprintf(name, sizeof(name), "stats.arenas.%u.%s.allocated", tm->mem.arenas[i], kinds[k]);
            if (mallctl(name, &bytes, &len, NULL, 0) == 0)
                total += bytes;
        }
    }
    return total;
#else
    (void)tm;
    return 0;
#endif
}

size_t tmem_memory_zsmalloc_size(const struct tmem *tm, size_t len)
{
    size_t page = tm->cfg.page_size, delta = TMEM_ZSMALLOC_CLASS_DELTA(page);

    if (len >= page)
        return page;
    if (len < TMEM_ZSMALLOC_MIN_ALLOC)
        len = TMEM_ZSMALLOC_MIN_ALLOC;
    return (len + delta - 1) / delta * delta;
}

uint64_t tmem_usage(const struct tmem *tm)
{
    if (tm->cfg.budget == TMEM_BUDGET_ZSMALLOC || tm->cfg.budget == TMEM_BUDGET_ZSPAGES)
        return atomic_load_explicit(&((struct tmem *)tm)->budget_data_bytes,
                                    memory_order_relaxed);
    return tmem_load(&tm->gauges.g[TMEM_G_DATA_BYTES]) +
           tmem_load(&tm->gauges.g[TMEM_G_METADATA_BYTES]);
}

uint64_t tmem_budget_used(const struct tmem *tm)
{
    return tmem_usage(tm);
}
