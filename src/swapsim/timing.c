/*
 * timing.c - the simulated-time model.
 *
 * Models: what a run would cost on a real machine, from the counters alone
 * (so a run with frontswap and the same run without it are priced alike):
 *   accesses * access_ns + faults * fault_ns
 *   + the swap file's reads and writes, priced by the block-device model
 *     (guest/device.h) on the costs' device profile: random and sequential
 *     requests (device_random_requests, device_sequential_requests, as the
 *     guest noted them on its device) at the profile's latency, plus the
 *     bytes read and written (sectors * 512) over its bandwidth
 *   + frontswap stores (successful or not) and loads * tmem_copy_ns
 *   + invalidates * tmem_copy_ns / 4 (a hypercall, no copy)
 *   + when the store compresses: stores * compress_ns + loads * decompress_ns
 * The same counts are also priced on the three built-in profiles
 * (device_time_ns_hdd, _sata_ssd, _nvme), so one run gives the swap I/O
 * time on a disk, a SATA SSD and an NVMe drive at once. Defaults are those
 * of a SATA SSD and a 2010s CPU; all are settable (--cost, --device).
 * Data structures: none. Locking: none (pure functions).
 */
#include "swapsim/swapsim.h"

void swapsim_costs_default(struct swapsim_costs *costs)
{
    costs->access_ns = 50;
    costs->fault_ns = 1000;
    costs->tmem_copy_ns = 1000;
    costs->compress_ns = 4000;
    costs->decompress_ns = 1500;
    costs->device = guest_device_builtin[1]; /* sata-ssd */
}

/* The swap I/O counted in c, as the device model counts it. */
static void swapsim_costs_device_counts(const struct swapsim_counters *c,
                                        struct guest_device_counts *out)
{
    out->random_requests = c->device_random_requests;
    out->sequential_requests = c->device_sequential_requests;
    out->read_bytes = c->sectors_read * SWAPSIM_SECTOR;
    out->write_bytes = c->sectors_written * SWAPSIM_SECTOR;
}

void swapsim_costs_price(const struct swapsim_costs *costs, struct swapsim_counters *c,
                         bool compress)
{
    struct guest_device_counts io;
    uint64_t stores = c->succ_stores + c->failed_stores;
    uint64_t t = c->accesses * costs->access_ns;

    swapsim_costs_device_counts(c, &io);
    c->device_time_ns = guest_device_price_ns(&costs->device, &io);
    c->device_time_ns_hdd = guest_device_price_ns(&guest_device_builtin[0], &io);
    c->device_time_ns_sata_ssd = guest_device_price_ns(&guest_device_builtin[1], &io);
    c->device_time_ns_nvme = guest_device_price_ns(&guest_device_builtin[2], &io);
    t += (c->minor_faults + c->major_faults) * costs->fault_ns;
    t += c->device_time_ns;
    t += (stores + c->loads) * costs->tmem_copy_ns;
    t += (c->invalidates + c->invalidate_areas) * (costs->tmem_copy_ns / 4);
    if (compress)
        t += stores * costs->compress_ns + c->loads * costs->decompress_ns;
    c->sim_ns = t;
}
