/*
 * tmem_memory.c - the store's allocator and its accounting.
 *
 * Models: the "real memory" a hypervisor would spend on tmem. Every
 * allocation of the store goes through here and is charged at the
 * allocator's own size class (jemalloc's sallocx, or malloc_usable_size
 * under sanitizers) to one of two store gauges: DATA (page contents) or
 * METADATA (everything else), and optionally to a pool's gauges.
 *
 * With jemalloc the store has dedicated arenas (created at tmem_create,
 * destroyed at tmem_destroy), one per thread shard so that two threads do
 * not meet on one arena's bin locks, and it bypasses the thread caches, so
 * the arenas' own statistics ("stats.arenas.<i>.{small,large}.allocated")
 * give the store's bytes exactly; tmem_stats reports both counts so they can
 * be compared. Sanitizer builds (TMEM_USE_JEMALLOC=0) use libc malloc.
 *
 * Shards: a thread allocates from the arena and slab shard of the CPU it
 * runs on (cpu % TMEM_SHARDS, as jemalloc's per-CPU arenas do), so threads
 * on different CPUs rarely meet on one lock, and a thread that comes and
 * goes reuses the memory of its CPU's shard.
 *
 * Locking: none here; gauges are relaxed atomics, the allocator is
 * thread-safe.
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if TMEM_USE_JEMALLOC
#include <jemalloc/jemalloc.h>
#define TMEM_MALLOCX_FLAGS(tm) \
    (MALLOCX_ARENA((tm)->arenas[tmem_thread_shard()]) | MALLOCX_TCACHE_NONE)
/* Freeing and sizing find the owning arena by themselves. */
#define TMEM_MALLOCX_ANY MALLOCX_TCACHE_NONE
#else
#include <malloc.h>
#endif

unsigned tmem_thread_shard(void)
{
    int cpu = sched_getcpu();
    return cpu < 0 ? 0 : (unsigned)cpu % TMEM_SHARDS;
}

#if TMEM_USE_JEMALLOC
static void tmem_memory_destroy_arenas(struct tmem *tm, unsigned count)
{
    char name[64];
    for (unsigned i = 0; i < count; i++) {
        snprintf(name, sizeof(name), "arena.%u.destroy", tm->arenas[i]);
        mallctl(name, NULL, NULL, NULL, 0);
    }
}
#endif

int tmem_memory_init(struct tmem *tm)
{
#if TMEM_USE_JEMALLOC
    for (unsigned i = 0; i < TMEM_SHARDS; i++) {
        size_t len = sizeof(tm->arenas[i]);
        if (mallctl("arenas.create", &tm->arenas[i], &len, NULL, 0) != 0) {
            tmem_memory_destroy_arenas(tm, i);
            return -ENOMEM;
        }
    }
    tm->have_arenas = true;
#else
    tm->have_arenas = false;
#endif
    return 0;
}

void tmem_memory_fini(struct tmem *tm)
{
#if TMEM_USE_JEMALLOC
    if (tm->have_arenas)
        tmem_memory_destroy_arenas(tm, TMEM_SHARDS);
    tm->have_arenas = false;
#else
    (void)tm;
#endif
}

static void tmem_memory_charge(struct tmem *tm, size_t bytes, int sign,
                               enum tmem_mem_kind kind, struct tmem_gauges *pool_gauges)
{
    enum tmem_gauge g = kind == TMEM_MEM_DATA ? TMEM_G_DATA_BYTES : TMEM_G_METADATA_BYTES;
    tmem_gauge_add(&tm->gauges, g, sign * (int64_t)bytes);
    tmem_gauge_add(pool_gauges, g, sign * (int64_t)bytes);
}

void *tmem_memory_alloc(struct tmem *tm, size_t size, enum tmem_mem_kind kind,
                        struct tmem_gauges *pool_gauges)
{
    void *p;
    size_t usable;
#if TMEM_USE_JEMALLOC
    p = mallocx(size ? size : 1, TMEM_MALLOCX_FLAGS(tm));
    if (!p)
        return NULL;
    usable = sallocx(p, TMEM_MALLOCX_ANY);
#else
    p = malloc(size ? size : 1);
    if (!p)
        return NULL;
    usable = malloc_usable_size(p);
#endif
    tmem_memory_charge(tm, usable, 1, kind, pool_gauges);
    return p;
}

void *tmem_memory_zalloc(struct tmem *tm, size_t size, enum tmem_mem_kind kind,
                         struct tmem_gauges *pool_gauges)
{
    void *p = tmem_memory_alloc(tm, size, kind, pool_gauges);
    if (p)
        memset(p, 0, size);
    return p;
}

void tmem_memory_free(struct tmem *tm, void *p, enum tmem_mem_kind kind,
                      struct tmem_gauges *pool_gauges)
{
    if (!p)
        return;
#if TMEM_USE_JEMALLOC
    size_t usable = sallocx(p, TMEM_MALLOCX_ANY);
    dallocx(p, TMEM_MALLOCX_ANY);
#else
    size_t usable = malloc_usable_size(p);
    free(p);
#endif
    tmem_memory_charge(tm, usable, -1, kind, pool_gauges);
}

size_t tmem_memory_size_class(const struct tmem *tm, size_t size)
{
#if TMEM_USE_JEMALLOC
    return nallocx(size ? size : 1, TMEM_MALLOCX_FLAGS(tm));
#else
    (void)tm;
    return size;
#endif
}

uint64_t tmem_memory_allocator_bytes(struct tmem *tm)
{
#if TMEM_USE_JEMALLOC
    uint64_t epoch = 1, total = 0;
    size_t len = sizeof(epoch);
    char name[96];

    mallctl("epoch", &epoch, &len, &epoch, len);
    for (unsigned i = 0; i < TMEM_SHARDS; i++) {
        static const char *const kinds[] = {"small", "large"};
        for (unsigned k = 0; k < 2; k++) {
            size_t bytes = 0;
            len = sizeof(bytes);
            snprintf(name, sizeof(name), "stats.arenas.%u.%s.allocated", tm->arenas[i], kinds[k]);
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

uint64_t tmem_usage(const struct tmem *tm)
{
    return tmem_load(&tm->gauges.g[TMEM_G_DATA_BYTES]) +
           tmem_load(&tm->gauges.g[TMEM_G_METADATA_BYTES]);
}

size_t tmem_memory_usable_size(const struct tmem *tm, const void *p)
{
#if TMEM_USE_JEMALLOC
    (void)tm;
    return sallocx((void *)p, TMEM_MALLOCX_ANY);
#else
    (void)tm;
    return malloc_usable_size((void *)p);
#endif
}
