/*
 * report.c - rendering a run: text summary, JSON, CSV; and the counters'
 * adder and writer.
 *
 * Models: the headline of a frontswap evaluation against plain swap ("X%
 * faster, Y% fewer sectors read") plus the counters, for a human (text) or
 * a script (JSON with totals, baseline, per guest and samples; CSV of
 * samples over time).
 * Data structures: none of its own. Every counter comes from the one list,
 * SWAPSIM_COUNTERS in swapsim.h: the adder, the JSON objects (through
 * common/stats_writer) and the CSV columns walk it in list order, so a new
 * counter appears everywhere at once. The JSON document is built as jansson
 * objects (config, totals, per guest, samples nested as values, never
 * spliced as text) and written one member and one array element a line. The text summary names the counters
 * a reader needs in sentences, among them the swap file's requests on the
 * block device and their time on the --device profile and on each
 * built-in one (priced in timing.c). Locking: none.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>

#include "common/stats_writer.h"
#include "guest/device.h"
#include "swapsim/swapsim.h"

void swapsim_counters_add(struct swapsim_counters *a, const struct swapsim_counters *b)
{
#define SWAPSIM_COUNTER_ADD(name, help) a->name += b->name;
    SWAPSIM_COUNTERS(SWAPSIM_COUNTER_ADD)
#undef SWAPSIM_COUNTER_ADD
}

void swapsim_counters_write(struct stats_writer *w, const struct swapsim_counters *c)
{
#define SWAPSIM_COUNTER_WRITE(name, help) stats_writer_u64(w, #name, c->name);
    SWAPSIM_COUNTERS(SWAPSIM_COUNTER_WRITE)
#undef SWAPSIM_COUNTER_WRITE
}

/* The share saved, in percent, as printed with one decimal: a value that
 * would print as -0.0 is 0 (no negative zero in a headline). */
static double pct_less(uint64_t with, uint64_t without)
{
    double v = without ? 100.0 * ((double)without - (double)with) / (double)without : 0.0;
    return v > -0.05 && v < 0.05 ? 0.0 : v;
}

/* A capacity in bytes for the text report: "unlimited" or "N MiB". */
static const char *capacity_text(uint64_t bytes, char *buf, size_t len)
{
    if (bytes == TMEM_CAPACITY_UNLIMITED)
        return "unlimited";
    snprintf(buf, len, "%" PRIu64 " MiB", bytes >> 20);
    return buf;
}

/* A capacity for CSV: "unlimited", else a number. */
static void capacity_csv(FILE *f, uint64_t bytes)
{
    if (bytes == TMEM_CAPACITY_UNLIMITED)
        fputs("unlimited", f);
    else
        fprintf(f, "%" PRIu64, bytes);
}

/* "R random + S sequential requests, T s (hdd T s, sata-ssd T s, nvme T s)":
 * the swap file's requests on the device and their time on each profile. */
static void device_line(FILE *f, const struct swapsim_counters *c)
{
    fprintf(f, "%" PRIu64 " random + %" PRIu64 " sequential requests, %.3f s (%s %.3f s, "
               "%s %.3f s, %s %.3f s)\n",
            c->device_random_requests, c->device_sequential_requests, c->device_time_ns / 1e9,
            guest_device_builtin[0].name, c->device_time_ns_hdd / 1e9,
            guest_device_builtin[1].name, c->device_time_ns_sata_ssd / 1e9,
            guest_device_builtin[2].name, c->device_time_ns_nvme / 1e9);
}

static const char *mode_name(const struct swapsim_config *cfg)
{
    if (cfg->guest.model == SWAPSIM_MODEL_ZSWAP)
        return "zswap";
    if (cfg->guest.write_through)
        return cfg->guest.exclusive_loads ? "write-through, exclusive loads" : "write-through";
    return cfg->guest.exclusive_loads ? "exclusive loads" : "default";
}

void swapsim_report_text(FILE *f, const struct swapsim_config *cfg,
                         const struct swapsim_result *res)
{
    const struct swapsim_counters *t = &res->total, *b = &res->baseline;
    uint32_t ps = cfg->tmem.page_size ? cfg->tmem.page_size : 4096;
    char cap[32];

    if (res->interrupted)
        fprintf(f, "tmem-swapsim: INTERRUPTED: the run was stopped early; the counters below "
                   "are for the accesses done%s\n",
                res->have_baseline || !cfg->baseline ? "" : ", and there is no baseline");

    fprintf(f, "tmem-swapsim: %u guest(s), RAM %u pages, address space %u pages (%u MiB / %u MiB),"
               " page %u B\n",
            res->guests, cfg->guest.ram_pages, cfg->guest.vpages,
            (uint32_t)((uint64_t)cfg->guest.ram_pages * ps >> 20),
            (uint32_t)((uint64_t)cfg->guest.vpages * ps >> 20), ps);
    fprintf(f, "  workload %s, frontswap mode %s, reclaim %s, store capacity %s"
               ", %u capacity event(s)\n",
            cfg->trace_path ? cfg->trace_path : swapsim_gen_kind_name(cfg->gen.kind),
            mode_name(cfg), guest_replace_name(cfg->guest.reclaim),
            capacity_text(cfg->tmem.capacity_bytes, cap, sizeof(cap)), cfg->nevents);
    fprintf(f, "  accesses %" PRIu64 " (reads %" PRIu64 ", writes %" PRIu64 ", unmaps %" PRIu64
               "), faults: minor %" PRIu64 ", major %" PRIu64 "\n",
            t->accesses, t->reads, t->writes, t->unmaps, t->minor_faults, t->major_faults);
    fprintf(f, "  frontswap: succ_stores %" PRIu64 ", failed_stores %" PRIu64 ", loads %" PRIu64
               ", invalidates %" PRIu64 "\n",
            t->succ_stores, t->failed_stores, t->loads, t->invalidates);
    fprintf(f, "  swap device: pswpin %" PRIu64 " (%" PRIu64 " sectors), pswpout %" PRIu64
               " (%" PRIu64 " sectors); swap-outs %" PRIu64 ", clean drops %" PRIu64 "\n",
            t->pswpin, t->sectors_read, t->pswpout, t->sectors_written, t->swap_outs,
            t->clean_drops);
    if (t->swap_write_errors + t->swap_read_errors) /* injected faults (--fault-swap-*) */
        fprintf(f, "  swap file errors: swap_write_errors %" PRIu64 ", swap_read_errors %" PRIu64
                   " (each retried)\n", t->swap_write_errors, t->swap_read_errors);
    fprintf(f, "  swap I/O on %s: ", cfg->costs.device.name);
    device_line(f, t);
    if (res->have_baseline) {
        fprintf(f, "    without frontswap: ");
        device_line(f, b);
    }
    if (cfg->guest.model == SWAPSIM_MODEL_ZSWAP) {
        fprintf(f, "  zswap: pool limit hit %" PRIu64 ", written back %" PRIu64
                   "; zero pages: swpout_zero %" PRIu64 ", swpin_zero %" PRIu64 "\n",
                t->pool_limit_hit, t->written_back_pages, t->swpout_zero, t->swpin_zero);
        fprintf(f, "  zswap worker: wake-ups %" PRIu64 ", gave up %" PRIu64
                   ", entries rotated %" PRIu64 " (second chance %s)\n",
                t->shrink_worker_runs, t->shrink_worker_gave_up, t->writeback_rotated,
                cfg->guest.no_second_chance ? "off" : "on");
    }
    fprintf(f, "  shrink: calls %" PRIu64 ", pages returned %" PRIu64 " (%" PRIu64
               " into RAM), self-shrink pages %" PRIu64 "\n",
            t->shrink_calls, t->shrink_pages, t->shrink_to_ram, t->selfshrink_pages);
    fprintf(f, "  store: puts %" PRIu64 " (failed %" PRIu64 "), pages now %" PRIu64
               " after swapoff, compressed payload at end of run %" PRIu64 " B\n",
            res->store.puts, res->store.failed_puts, res->store_pages_after,
            res->store.compressed_payload_bytes);
    fprintf(f, "  pages verified %" PRIu64 ", mismatches %" PRIu64 ", leaked slots %" PRIu64
               ", leaked tmem pages %" PRIu64 "\n",
            t->pages_verified, t->mismatches, t->leaked_slots, t->leaked_tmem_pages);
    fprintf(f, "  wall time %.2f s: %.0f simulated page faults handled per second\n",
            res->wall_seconds,
            res->wall_seconds > 0 ? (double)res->faults / res->wall_seconds : 0.0);
    if (res->have_baseline && b->pswpin + b->pswpout == 0) {
        fprintf(f, "  simulated time: %.3f s with frontswap, %.3f s without\n", t->sim_ns / 1e9,
                b->sim_ns / 1e9);
        fprintf(f, "frontswap: nothing to compare: the run without frontswap did no swap I/O "
                   "(the working set fit in RAM)\n");
    } else if (res->have_baseline) {
        fprintf(f, "  simulated time: %.3f s with frontswap, %.3f s without\n", t->sim_ns / 1e9,
                b->sim_ns / 1e9);
        /* the share of the simulated run time saved */
        double faster = pct_less(t->sim_ns, b->sim_ns);
        fprintf(f, "frontswap: %.1f%% faster, %.1f%% fewer sectors read, %.1f%% fewer sectors "
                   "written (%" PRIu64 " vs %" PRIu64 " read, %" PRIu64 " vs %" PRIu64
                   " written)\n",
                faster, pct_less(t->sectors_read, b->sectors_read),
                pct_less(t->sectors_written, b->sectors_written), t->sectors_read,
                b->sectors_read, t->sectors_written, b->sectors_written);
    } else {
        fprintf(f, "  simulated time: %.3f s with frontswap (no baseline run)\n",
                t->sim_ns / 1e9);
    }
}

/* The counters as a new JSON object, in list order (NULL: out of memory). */
static json_t *json_counters(const struct swapsim_counters *c)
{
    json_t *object = json_object();
    struct stats_writer w;

    stats_writer_begin_object(&w, object);
    swapsim_counters_write(&w, c);
    if (stats_writer_end(&w, false) != 0) {
        json_decref(object);
        return NULL;
    }
    return object;
}

/* The store at the end of the run, before swapoff, as "store_at_end":
 * what it held and what its budget counted (for a pool's compression
 * ratio: pages * page size / budget_used_bytes). */
static json_t *json_store(const struct tmem_stats *st, uint64_t budget_used)
{
    json_t *store = json_object();
    int bad = !store;

    if (bad)
        return NULL;
    bad |= stats_json_set(store, "pages", stats_json_u64(st->pages));
    bad |= stats_json_set(store, "pages_raw", stats_json_u64(st->pages_raw));
    bad |= stats_json_set(store, "pages_compressed", stats_json_u64(st->pages_compressed));
    bad |= stats_json_set(store, "pages_same_filled", stats_json_u64(st->pages_same_filled));
    bad |= stats_json_set(store, "pages_deduplicated", stats_json_u64(st->pages_deduplicated));
    bad |= stats_json_set(store, "compressed_payload_bytes",
                          stats_json_u64(st->compressed_payload_bytes));
    bad |= stats_json_set(store, "data_bytes", stats_json_u64(st->data_bytes));
    bad |= stats_json_set(store, "metadata_bytes", stats_json_u64(st->metadata_bytes));
    bad |= stats_json_set(store, "budget_used_bytes", stats_json_u64(budget_used));
    if (bad) {
        json_decref(store);
        return NULL;
    }
    return store;
}

/* The run's settings, as "config". */
static json_t *json_config(const struct swapsim_config *cfg, const struct swapsim_result *res)
{
    json_t *config = json_object();
    int bad = !config;

    if (bad)
        return NULL;
    bad |= stats_json_set(config, "guests", stats_json_u64(res->guests));
    bad |= stats_json_set(config, "ram_pages", stats_json_u64(cfg->guest.ram_pages));
    bad |= stats_json_set(config, "vpages", stats_json_u64(cfg->guest.vpages));
    bad |= stats_json_set(config, "workload", stats_json_string(
        cfg->trace_path ? "trace" : swapsim_gen_kind_name(cfg->gen.kind)));
    bad |= stats_json_set(config, "mode", stats_json_string(mode_name(cfg)));
    bad |= stats_json_set(config, "model", stats_json_string(swapsim_model_name(cfg->guest.model)));
    bad |= stats_json_set(config, "compressor",
                          stats_json_string(tmem_compressor_name(cfg->tmem.compressor)));
    bad |= stats_json_set(config, "budget", stats_json_string(
        cfg->tmem.budget == TMEM_BUDGET_ZSPAGES    ? "zspages"
        : cfg->tmem.budget == TMEM_BUDGET_ZSMALLOC ? "zsmalloc"
                                                   : "allocator"));
    bad |= stats_json_set(config, "hysteresis", json_boolean(cfg->tmem.hysteresis));
    bad |= stats_json_set(config, "accept_threshold_percent",
                          stats_json_u64(cfg->tmem.accept_threshold_percent
                                             ? cfg->tmem.accept_threshold_percent : 90));
    bad |= stats_json_set(config, "writeback_pace", stats_json_u64(cfg->guest.writeback_pace));
    bad |= stats_json_set(config, "second_chance",
                          json_boolean(!cfg->guest.no_second_chance));
    bad |= stats_json_set(config, "rotation_cost", stats_json_u64(cfg->guest.rotation_cost));
    bad |= stats_json_set(config, "worker_delay", stats_json_u64(cfg->guest.worker_delay));
    bad |= stats_json_set(config, "concurrent", json_boolean(cfg->concurrent && res->guests > 1));
    bad |= stats_json_set(config, "capacity_bytes", stats_json_limit(cfg->tmem.capacity_bytes));
    bad |= stats_json_set(config, "events", stats_json_u64(cfg->nevents));
    bad |= stats_json_set(config, "accesses", stats_json_u64(cfg->gen.accesses));
    bad |= stats_json_set(config, "seed", stats_json_u64(cfg->gen.seed));
    bad |= stats_json_set(config, "device", stats_json_string(cfg->costs.device.name));
    if (bad) {
        json_decref(config);
        return NULL;
    }
    return config;
}

/* One sample: {"guest", "at", "capacity", "counters"}. */
static json_t *json_sample(const struct swapsim_sample *s)
{
    json_t *sample = json_object();
    int bad = !sample;

    if (bad)
        return NULL;
    bad |= stats_json_set(sample, "guest", stats_json_u64(s->guest));
    bad |= stats_json_set(sample, "at", stats_json_u64(s->at));
    bad |= stats_json_set(sample, "capacity", stats_json_limit(s->capacity));
    bad |= stats_json_set(sample, "counters", json_counters(&s->c));
    if (bad) {
        json_decref(sample);
        return NULL;
    }
    return sample;
}

json_t *swapsim_report_json_object(const struct swapsim_config *cfg,
                                   const struct swapsim_result *res)
{
    json_t *root = json_object(), *guests = json_array(), *samples = json_array();
    int bad = !root || !guests || !samples;

    for (uint32_t i = 0; !bad && i < res->guests; i++)
        bad |= json_array_append_new(guests, json_counters(&res->per_guest[i]));
    for (size_t i = 0; !bad && i < res->nsamples; i++)
        bad |= json_array_append_new(samples, json_sample(&res->samples[i]));
    if (bad) {
        json_decref(guests);
        json_decref(samples);
        json_decref(root);
        return NULL;
    }
    bad |= stats_json_set(root, "config", json_config(cfg, res));
    bad |= stats_json_set(root, "interrupted", json_boolean(res->interrupted));
    bad |= stats_json_set(root, "wall_seconds", stats_json_real(res->wall_seconds, 6));
    bad |= stats_json_set(root, "faults_per_second",
                          stats_json_real(res->wall_seconds > 0
                                              ? (double)res->faults / res->wall_seconds
                                              : 0.0, 1));
    bad |= stats_json_set(root, "store_pages_after_swapoff",
                          stats_json_u64(res->store_pages_after));
    bad |= stats_json_set(root, "store_at_end", json_store(&res->store, res->store_budget_used));
    bad |= stats_json_set(root, "total", json_counters(&res->total));
    if (res->have_baseline)
        bad |= stats_json_set(root, "baseline", json_counters(&res->baseline));
    bad |= stats_json_set(root, "guests", guests);
    bad |= stats_json_set(root, "samples", samples);
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int swapsim_report_json(FILE *f, const struct swapsim_config *cfg,
                        const struct swapsim_result *res)
{
    json_t *root = swapsim_report_json_object(cfg, res);
    int rc = root ? stats_json_write_lines(f, root) : -1;

    json_decref(root);
    return rc;
}

void swapsim_report_csv(FILE *f, const struct swapsim_result *res)
{
    fprintf(f, "guest,at,capacity");
#define SWAPSIM_COUNTER_CSV_NAME(name, help) fputs("," #name, f);
    SWAPSIM_COUNTERS(SWAPSIM_COUNTER_CSV_NAME)
#undef SWAPSIM_COUNTER_CSV_NAME
    fputc('\n', f);
    for (size_t n = 0; n < res->nsamples; n++) {
        const struct swapsim_sample *s = &res->samples[n];
        fprintf(f, "%u,%" PRIu64 ",", s->guest, s->at);
        capacity_csv(f, s->capacity);
#define SWAPSIM_COUNTER_CSV_VALUE(name, help) fprintf(f, ",%" PRIu64, s->c.name);
        SWAPSIM_COUNTERS(SWAPSIM_COUNTER_CSV_VALUE)
#undef SWAPSIM_COUNTER_CSV_VALUE
        fputc('\n', f);
    }
}
