/*
 * timing.c - the simulated-time model.
 *
 * Models: what a run would cost on a real machine, from the counters alone
 * (so a run with frontswap and the same run without it are priced alike):
 *   accesses * access_ns + faults * fault_ns
 *   + pages read from the swap file * disk_read_ns
 *   + pages written to the swap file * disk_write_ns
 *   + frontswap stores (successful or not) and loads * tmem_copy_ns
 *   + invalidates * tmem_copy_ns / 4 (a hypercall, no copy)
 *   + when the store compresses: stores * compress_ns + loads * decompress_ns
 * Defaults are those of a loaded SSD and a 2010s CPU; all are settable.
 * Data structures: none. Locking: none (pure functions).
 */
#include "swapsim/swapsim.h"

void swapsim_costs_default(struct swapsim_costs *costs)
{
    costs->access_ns = 50;
    costs->fault_ns = 1000;
    costs->disk_read_ns = 100000;
    costs->disk_write_ns = 100000;
    costs->tmem_copy_ns = 1000;
    costs->compress_ns = 4000;
    costs->decompress_ns = 1500;
}

uint64_t swapsim_costs_eval(const struct swapsim_costs *costs,
                            const struct swapsim_counters *c, bool compress)
{
    uint64_t stores = c->succ_stores + c->failed_stores;
    uint64_t t = c->accesses * costs->access_ns;
    t += (c->minor_faults + c->major_faults) * costs->fault_ns;
    t += c->pswpin * costs->disk_read_ns + c->pswpout * costs->disk_write_ns;
    t += (stores + c->loads) * costs->tmem_copy_ns;
    t += (c->invalidates + c->invalidate_areas) * (costs->tmem_copy_ns / 4);
    if (compress)
        t += stores * costs->compress_ns + c->loads * costs->decompress_ns;
    return t;
}
