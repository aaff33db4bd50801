/*
 * replay_anon.c - anonymous traces: the swapsim guest (swapsim_run) with
 * the trace as its workload.
 *
 * Models: one guest of cfg->guest_pages frames of RAM over an address
 * space of cfg->anon_vpages pages (default: the trace's largest virtual
 * page + 1, from replay_run's first pass), a real swap file, frontswap on
 * a store of cfg's capacity and compression (cfg->tmem false: plain
 * swap); the same run again with frontswap off as the baseline. Capacity
 * records in the trace set the store's capacity before guest 0's next
 * access (swapsim's trace reader). Every page loaded back is checked by
 * swapsim.
 *
 * Data structures: a swapsim_config and a swapsim_progress; while the run
 * goes on, a small thread (common/ticker.h) copies swapsim's progress
 * into cfg->progress every 0.1 s when there is one. Locking: none of its
 * own; the progress counters are atomics.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include "common/error_text.h"
#include "common/ticker.h"
#include "replay/replay_internal.h"

void replay_anon_swapsim_config(const struct replay_config *cfg, uint32_t vpages,
                                uint32_t page_size, struct swapsim_config *out)
{
    swapsim_config_init(out);
    out->trace_path = cfg->trace_path;
    out->guest.ram_pages = (uint32_t)cfg->guest_pages;
    out->guest.vpages = vpages;
    out->guest.swap_slots = vpages;
    out->guest.reclaim = cfg->policy;
    out->guest.frontswap = cfg->tmem;
    out->guest.quiet = true;
    out->tmem.capacity_bytes = cfg->capacity_bytes;
    out->tmem.page_size = page_size;
    out->tmem.compressor = cfg->compressor;
    out->tmem.compress_level = cfg->compress_level;
    out->tmem.dedup = cfg->dedup;
    out->tmem.same_filled = cfg->same_filled;
    out->costs.device = cfg->device;
    out->baseline = cfg->tmem; /* without tmem the run is the baseline */
    out->interrupt = cfg->interrupt;
}

struct replay_anon_bridge {
    const struct replay_config *cfg;
    struct swapsim_progress sp;
    struct ticker ticker;
    uint64_t records; /* per run */
};

static void replay_anon_bridge_copy(struct replay_anon_bridge *b)
{
    int run = atomic_load_explicit(&b->sp.run, memory_order_relaxed);
    uint64_t done = atomic_load_explicit(&b->sp.accesses, memory_order_relaxed);

    replay_progress_records(b->cfg, (run > 1 ? b->records : 0) + done);
}

static void *replay_anon_bridge_loop(void *arg)
{
    struct replay_anon_bridge *b = arg;

    for (double next = 0.1; ticker_wait_until(&b->ticker, next); next += 0.1)
        replay_anon_bridge_copy(b);
    return NULL;
}

int replay_anon_run(const struct replay_config *cfg, const struct replay_trace_info *info,
                    struct replay_result *res, char *err, size_t errlen)
{
    struct swapsim_config sc;
    struct replay_anon_bridge bridge;
    pthread_t thread;
    bool threaded = false;
    uint64_t vpages = cfg->anon_vpages ? cfg->anon_vpages : info->max_vpage + 1;
    int rc;

    if (vpages > UINT32_MAX - 1 || cfg->guest_pages > UINT32_MAX - 1) {
        error_text_set(err, errlen, "%s: the guest's RAM and address space must be below "
                       "2^32-1 pages", cfg->trace_path);
        return -EINVAL;
    }
    if (cfg->anon_vpages && info->max_vpage >= cfg->anon_vpages) {
        error_text_set(err, errlen, "%s: virtual page %" PRIu64 " is outside --vpages %" PRIu64,
                       cfg->trace_path, info->max_vpage, cfg->anon_vpages);
        return -EINVAL;
    }
    replay_anon_swapsim_config(cfg, (uint32_t)vpages, info->header.page_size, &sc);
    memset(&bridge, 0, sizeof(bridge));
    bridge.cfg = cfg;
    bridge.records = info->records;
    replay_progress_total(cfg, info->records * (sc.baseline ? 2 : 1));
    if (cfg->progress) {
        sc.progress = &bridge.sp;
        if (ticker_init(&bridge.ticker, NULL) == 0) {
            threaded = pthread_create(&thread, NULL, replay_anon_bridge_loop, &bridge) == 0;
            if (!threaded)
                ticker_destroy(&bridge.ticker);
        }
    }
    rc = swapsim_run(&sc, &res->swap, err, errlen);
    if (threaded) {
        ticker_stop(&bridge.ticker);
        pthread_join(thread, NULL);
        ticker_destroy(&bridge.ticker);
        replay_anon_bridge_copy(&bridge);
    }
    res->have_swap = true;
    res->anon_vpages = (uint32_t)vpages;
    res->gauges.page_size = info->header.page_size;
    res->gauges.guest_capacity = cfg->guest_pages;
    res->gauges.profile = cfg->device;
    res->records = res->swap.total.accesses;
    res->requests = res->records;
    res->interrupted = res->swap.interrupted;
    res->mismatches = res->swap.total.mismatches;
    return rc;
}
