/*
 * price.h - what a guest's run cost in (simulated) time with tmem, and
 * what the same run would have cost without it.
 *
 * Device time comes from the one block-device model (guest/device.h):
 * the requests a guest really made on its backing or swap device, priced
 * on its profile. Without tmem, every page tmem served would have been
 * read from that device, and (swap guests) every page frontswap took
 * would have been written to the swap file. Those extra pages are priced
 * as the guest's own requests were: the same average bytes per request
 * and the same share of random requests (all random one-page requests
 * when the guest made no request at all). docs/testbed.md ("Reports")
 * states each estimate.
 *
 * Swap guests' simulated time is swapsim's model (swapsim_costs_price:
 * every access, every fault, the swap file's requests) with tmem
 * operations priced not by swapsim's fixed constants but by what they
 * really took: the sums of the client's latency histograms of puts, gets
 * and flushes (tmem_client_latency).
 *
 * Pure functions; thread-safe.
 */
#ifndef TESTBED_PRICE_H
#define TESTBED_PRICE_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/device.h"
#include "swapsim/swapsim.h"

/*
 * Add extra_read_bytes and extra_write_bytes to *c as requests like the
 * ones already in *c (same bytes per request, rounded up to whole
 * requests; same share of random ones); with no request in *c, as random
 * requests of page_size bytes.
 */
void testbed_price_add_like(struct guest_device_counts *c, uint64_t extra_read_bytes,
                            uint64_t extra_write_bytes, uint32_t page_size);

/* A mount guest's backing device time, with cleancache and without. */
struct testbed_mount_price {
    uint64_t device_ns_with;    /* the requests it made, on its profile */
    uint64_t device_ns_without; /* those plus one page read per cleancache hit */
    uint64_t pages_saved;       /* backing page reads saved: cleancache hits */
};

void testbed_price_mount(const struct guest_device_counts *dc, uint64_t cleancache_hits,
                         uint32_t page_size, const struct guest_device_profile *profile,
                         struct testbed_mount_price *out);

/* A swap guest's swap I/O and simulated time, with frontswap and without. */
struct testbed_swap_price {
    uint64_t extra_reads;       /* pages read from the file without tmem: loads */
    uint64_t extra_writes;      /* pages written without tmem: swap_outs - pswpout */
    uint64_t device_ns_with, device_ns_without;
    uint64_t tmem_ns;           /* measured time in tmem puts, gets and flushes */
    uint64_t sim_ns_with;       /* accesses + faults + swap I/O + measured tmem time */
    uint64_t sim_ns_without;    /* accesses + faults + swap I/O without tmem */
};

/*
 * Price counters c (a swap guest's, after or during its run) on profile;
 * tmem_ns: the measured time of its tmem operations (the sum of its
 * client's put, get and flush latency histograms on persistent pools).
 */
void testbed_price_swap(const struct swapsim_counters *c, uint32_t page_size,
                        const struct guest_device_profile *profile, uint64_t tmem_ns,
                        struct testbed_swap_price *out);

#endif /* TESTBED_PRICE_H */
