/*
 * price.c - simulated time of a guest with tmem and without (price.h).
 *
 * Models: the counterfactual run without tmem, estimated from one run's
 * counters (the testbed runs each scenario once): pages tmem served are
 * device reads, pages frontswap took are swap-file writes, priced as the
 * guest's own requests were. Data structures: none. Locking: none (pure).
 */
#include "testbed/price.h"

#include <string.h>

/* n * num / den without overflow for the sizes at hand (128-bit). */
static uint64_t price_scale(uint64_t n, uint64_t num, uint64_t den)
{
    return den ? (uint64_t)((unsigned __int128)n * num / den) : 0;
}

void testbed_price_add_like(struct guest_device_counts *c, uint64_t extra_read_bytes,
                            uint64_t extra_write_bytes, uint32_t page_size)
{
    uint64_t requests = c->random_requests + c->sequential_requests;
    uint64_t bytes = c->read_bytes + c->write_bytes;
    uint64_t extra = extra_read_bytes + extra_write_bytes;
    uint64_t per_request, nreq, nrandom;

    if (extra == 0)
        return;
    per_request = requests && bytes ? (bytes + requests - 1) / requests : page_size;
    if (per_request == 0)
        per_request = 1;
    nreq = (extra + per_request - 1) / per_request;
    nrandom = requests ? price_scale(nreq, c->random_requests, requests) : nreq;
    c->random_requests += nrandom;
    c->sequential_requests += nreq - nrandom;
    c->read_bytes += extra_read_bytes;
    c->write_bytes += extra_write_bytes;
}

void testbed_price_mount(const struct guest_device_counts *dc, uint64_t cleancache_hits,
                         uint32_t page_size, const struct guest_device_profile *profile,
                         struct testbed_mount_price *out)
{
    struct guest_device_counts without = *dc;

    memset(out, 0, sizeof(*out));
    out->pages_saved = cleancache_hits;
    out->device_ns_with = guest_device_price_ns(profile, dc);
    testbed_price_add_like(&without, cleancache_hits * page_size, 0, page_size);
    out->device_ns_without = guest_device_price_ns(profile, &without);
}

void testbed_price_swap(const struct swapsim_counters *c, uint32_t page_size,
                        const struct guest_device_profile *profile, uint64_t tmem_ns,
                        struct testbed_swap_price *out)
{
    struct swapsim_costs costs;
    struct swapsim_counters with = *c, without = *c;
    struct guest_device_counts io;

    memset(out, 0, sizeof(*out));
    swapsim_costs_default(&costs);
    costs.device = *profile;
    costs.tmem_copy_ns = 0; /* tmem is priced by what it took (tmem_ns) */

    out->extra_reads = c->loads;
    out->extra_writes = c->swap_outs > c->pswpout ? c->swap_outs - c->pswpout : 0;
    out->tmem_ns = tmem_ns;

    swapsim_costs_price(&costs, &with, false);
    out->device_ns_with = with.device_time_ns;
    out->sim_ns_with = with.sim_ns + tmem_ns;

    io.random_requests = c->device_random_requests;
    io.sequential_requests = c->device_sequential_requests;
    io.read_bytes = c->sectors_read * SWAPSIM_SECTOR;
    io.write_bytes = c->sectors_written * SWAPSIM_SECTOR;
    testbed_price_add_like(&io, out->extra_reads * page_size, out->extra_writes * page_size,
                           page_size);
    without.device_random_requests = io.random_requests;
    without.device_sequential_requests = io.sequential_requests;
    without.sectors_read = io.read_bytes / SWAPSIM_SECTOR;
    without.sectors_written = io.write_bytes / SWAPSIM_SECTOR;
    without.succ_stores = without.failed_stores = without.loads = 0;
    without.invalidates = without.invalidate_areas = 0;
    swapsim_costs_price(&costs, &without, false);
    out->device_ns_without = without.device_time_ns;
    out->sim_ns_without = without.sim_ns;
}
