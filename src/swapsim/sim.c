/*
 * sim.c - the simulation runner: store, guests, workloads, capacity
 * schedule, swapoff, and the baseline run.
 *
 * Models: a host running one or more guests on one tmem store (the
 * "hypervisor"), whose capacity changes during the run as the schedule
 * says (before an access, or in the middle of a swap-out: a shrink request
 * at the worst moment). The same run is then repeated with frontswap off
 * (plain swap) so the report can compare the two. Every guest's swap file
 * is on one block device (guest/device.h: the host's disk, one head; each
 * guest's swap area a stream of its own), fresh for each of the two runs.
 * Counters (per guest, samples) are priced with the run's costs (timing.c)
 * before they are kept, and summed into the totals; the device's own counts
 * must equal the guests' sum (checked: one device under all of them).
 * Samples: every sample_every accesses of a guest, and one at its end
 * (after swapoff, its final counters), so a series ends at the totals.
 * Progress (cfg->progress, for a status line): each guest adds what it did
 * every SWAPSIM_PROGRESS_STEP accesses and when it stops.
 * Data structures: a run context (the store, the device, per guest: client,
 * guest, workload, samples) living for one run. A guest moves by steps
 * (step(): one access, after the capacity events and records before it).
 * Guest 0's steps fire the capacity schedule (so events keep their place
 * in guest 0's access stream) and apply the capacity records of a trace
 * (SWAPSIM_CAPACITY accesses: tmem_set_capacity before its next access;
 * not counted as accesses; other guests, and the baseline run, which has
 * no store, skip them).
 * Threads: by default none of its own: the calling thread steps the
 * guests round robin, one access of each in guest order (a guest whose
 * workload ended drops out), so every store call, allocation and capacity
 * event comes in the same order every time and a run repeats exactly
 * (the core's memory shards follow the thread: one thread, one shard).
 * With cfg->concurrent and several guests, one thread per guest runs its
 * steps freely: guest 0's thread fires the events, the interleaving (and
 * so the counters) follows the scheduler. The schedule cursor is touched
 * by guest 0's steps only; an atomic stop flag ends every guest after an
 * error. The device is thread-safe (its own lock); cfg->progress is
 * relaxed atomics (read by another thread).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/number.h"
#include "common/size.h"
#include "guest/device.h"
#include "swapsim/swapsim.h"
#include "swapsim/swapsim_internal.h"

int swapsim_model_parse(const char *text, enum swapsim_model *out)
{
    if (strcmp(text, "frontswap") == 0)
        *out = SWAPSIM_MODEL_FRONTSWAP;
    else if (strcmp(text, "zswap") == 0)
        *out = SWAPSIM_MODEL_ZSWAP;
    else
        return -EINVAL;
    return 0;
}

const char *swapsim_model_name(enum swapsim_model model)
{
    switch (model) {
    case SWAPSIM_MODEL_FRONTSWAP:
        return "frontswap";
    case SWAPSIM_MODEL_ZSWAP:
        return "zswap";
    }
    return NULL;
}

void swapsim_config_set_model(struct swapsim_config *cfg, enum swapsim_model model)
{
    cfg->guest.model = model;
    if (model != SWAPSIM_MODEL_ZSWAP)
        return;
    cfg->guest.exclusive_loads = true;          /* zswap_load frees the entry */
    cfg->tmem.budget = TMEM_BUDGET_ZSPAGES;     /* zswap_total_pages: zspages */
    cfg->tmem.same_filled = false;              /* gone from zswap in 6.12 */
    cfg->tmem.dedup = false;                    /* zswap has none */
    cfg->tmem.compress_threshold = cfg->tmem.page_size ? cfg->tmem.page_size : 4096;
    cfg->tmem.hysteresis = true;                /* zswap_pool_reached_full */
    cfg->tmem.compressor = TMEM_COMPRESSOR_LZO; /* this kernel's zswap compressor */
    cfg->tmem.compress_level = 0;
}

void swapsim_config_init(struct swapsim_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->guests = 1;
    swapsim_guest_config_init(&cfg->guest, 16384, 65536); /* 64 MiB RAM, 256 MiB */
    swapsim_gen_config_init(&cfg->gen, 65536, 1000000);
    tmem_config_init(&cfg->tmem);
    cfg->tmem.capacity_bytes = 256ULL << 20;
    swapsim_costs_default(&cfg->costs);
    cfg->baseline = true;
}

/* A size of "unlimited" is the store's unlimited capacity. */
_Static_assert(SIZE_UNLIMITED == TMEM_CAPACITY_UNLIMITED, "one meaning of unlimited");

int swapsim_parse_schedule(struct swapsim_config *cfg, const char *text, char *err,
                           size_t errlen)
{
    char *copy = strdup(text), *next, *item;
    uint32_t nitem = 0;
    int ret = 0;

    if (!copy)
        return -ENOMEM;
    cfg->nevents = 0;
    /* split at every comma ourselves: strtok would skip empty items */
    for (next = copy; next;) {
        struct swapsim_cap_event ev = {0};
        char *c1, *c2;
        item = next;
        next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        nitem++;
        if (!*item) {
            error_text_set(err, errlen, "schedule item %u is empty (expected "
                           "ACCESS:SIZE[:swapout] between commas)", nitem);
            ret = -EINVAL;
            goto out;
        }
        c1 = strchr(item, ':');
        if (!c1) {
            error_text_set(err, errlen, "schedule item '%s': expected ACCESS:SIZE[:swapout]",
                           item);
            ret = -EINVAL;
            goto out;
        }
        *c1 = '\0';
        c2 = strchr(c1 + 1, ':');
        if (c2) {
            *c2 = '\0';
            if (strcmp(c2 + 1, "swapout") != 0) {
                error_text_set(err, errlen, "schedule item '%s:%s:%s': the only flag is "
                               "'swapout'", item, c1 + 1, c2 + 1);
                ret = -EINVAL;
                goto out;
            }
            ev.during_swapout = true;
        }
        if (number_parse_u64(item, 10, 0, UINT64_MAX, &ev.at) != 0) {
            error_text_set(err, errlen, "schedule item '%s': bad access number '%s'", item, item);
            ret = -EINVAL;
            goto out;
        }
        if (size_parse(c1 + 1, true, &ev.bytes) != 0) {
            error_text_set(err, errlen, "schedule item at %s: bad size '%s' (expected %s)",
                           item, c1 + 1, size_grammar(true));
            ret = -EINVAL;
            goto out;
        }
        if (cfg->nevents >= SWAPSIM_MAX_EVENTS) {
            error_text_set(err, errlen, "schedule: more than %d events", SWAPSIM_MAX_EVENTS);
            ret = -EINVAL;
            goto out;
        }
        if (cfg->nevents && ev.at < cfg->events[cfg->nevents - 1].at) {
            error_text_set(err, errlen, "schedule: events must be in access order (%" PRIu64
                           " after %" PRIu64 ")", ev.at, cfg->events[cfg->nevents - 1].at);
            ret = -EINVAL;
            goto out;
        }
        cfg->events[cfg->nevents++] = ev;
    }
out:
    free(copy);
    return ret;
}

struct run_guest {
    struct run_ctx *ctx;
    uint32_t index;
    struct tmem_client *client;
    struct swapsim_guest *guest;
    struct swapsim_workload *wl;
    struct swapsim_sample *samples;
    size_t nsamples, cap;
    uint64_t done;            /* accesses performed */
    uint64_t shown_accesses;  /* what cfg->progress has of this guest */
    uint64_t shown_faults;
    int ret;
    char err[2048];
};

struct run_ctx {
    const struct swapsim_config *cfg;
    bool frontswap;
    struct tmem *tm;
    struct guest_device device; /* under every guest's swap file */
    struct run_guest *rg;
    uint32_t next_event; /* guest 0's thread only */
    uint64_t pos;        /* guest 0's current access number */
    atomic_int stop;
    atomic_int interrupted; /* a guest stopped on cfg->interrupt */
};

/* Fire due events; in_swapout: also the armed during-swapout ones. */
static void fire_events(struct run_ctx *ctx, bool in_swapout)
{
    const struct swapsim_config *cfg = ctx->cfg;
    while (ctx->next_event < cfg->nevents) {
        const struct swapsim_cap_event *ev = &cfg->events[ctx->next_event];
        if (ev->at > ctx->pos || (ev->during_swapout && !in_swapout))
            break;
        ctx->next_event++;
        if (ctx->tm)
            tmem_set_capacity(ctx->tm, ev->bytes);
    }
}

static void swapout_hook(void *arg, struct swapsim_guest *g)
{
    (void)g;
    fire_events(arg, true);
}

/* A new sample of rg at access `at` (guest, at and capacity filled in),
 * or NULL when out of memory. */
static struct swapsim_sample *new_sample(struct run_guest *rg, uint64_t at)
{
    struct swapsim_sample *s;

    if (rg->nsamples == rg->cap) {
        size_t cap = rg->cap ? rg->cap * 2 : 64;
        s = realloc(rg->samples, cap * sizeof(*s));
        if (!s)
            return NULL;
        rg->samples = s;
        rg->cap = cap;
    }
    s = &rg->samples[rg->nsamples++];
    s->guest = rg->index;
    s->at = at;
    s->capacity = rg->ctx->tm ? tmem_capacity(rg->ctx->tm) : 0;
    return s;
}

/* Sample rg's counters now, priced as the run's end is (the simulated
 * time so far). */
static int add_sample(struct run_guest *rg, uint64_t at)
{
    struct swapsim_sample *s = new_sample(rg, at);

    if (!s)
        return -ENOMEM;
    swapsim_guest_counters(rg->guest, &s->c);
    swapsim_costs_price(&rg->ctx->cfg->costs, &s->c,
                        rg->ctx->frontswap &&
                            rg->ctx->cfg->tmem.compressor != TMEM_COMPRESSOR_NONE);
    return 0;
}

/* The sample at the end of rg's run: c, its final counters (after
 * swapoff, priced). It replaces a sample taken at the same access before
 * swapoff, so the series of each guest ends with its final counters. */
static int add_end_sample(struct run_guest *rg, const struct swapsim_counters *c)
{
    struct swapsim_sample *s;

    if (rg->nsamples && rg->samples[rg->nsamples - 1].at == rg->done)
        rg->nsamples--;
    s = new_sample(rg, rg->done);
    if (!s)
        return -ENOMEM;
    s->c = *c;
    return 0;
}

/* Tell cfg->progress what rg has done since it last did. */
static void show_progress(struct run_guest *rg)
{
    struct swapsim_progress *p = rg->ctx->cfg->progress;
    struct swapsim_counters c;
    uint64_t faults;

    swapsim_guest_counters(rg->guest, &c);
    faults = c.minor_faults + c.major_faults;
    atomic_fetch_add_explicit(&p->accesses, rg->done - rg->shown_accesses, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->faults, faults - rg->shown_faults, memory_order_relaxed);
    rg->shown_accesses = rg->done;
    rg->shown_faults = faults;
}

/*
 * One step of rg: fire guest 0's due events, apply the capacity records
 * before its next access, then do that access (counted, sampled). Returns
 * 1 when an access was done, 0 when rg is done (its workload ended, the
 * run was interrupted or stopped, or it failed: then rg->ret and rg->err
 * are set and the stop flag too).
 */
static int step(struct run_guest *rg)
{
    struct run_ctx *ctx = rg->ctx;
    struct swapsim_access acc;
    uint64_t n = rg->done;
    int r;

    for (;;) {
        if (atomic_load(&ctx->stop))
            return 0;
        if (ctx->cfg->interrupt && atomic_load(ctx->cfg->interrupt)) {
            atomic_store(&ctx->interrupted, 1);
            return 0;
        }
        if (rg->index == 0) {
            ctx->pos = n;
            fire_events(ctx, false);
        }
        r = swapsim_workload_next(rg->wl, &acc);
        if (r == 0)
            return 0;
        if (r < 0) {
            rg->ret = r;
            snprintf(rg->err, sizeof(rg->err), "%s", swapsim_workload_error(rg->wl));
            goto fail;
        }
        if (acc.op != SWAPSIM_CAPACITY)
            break;
        if (rg->index == 0 && ctx->tm)
            tmem_set_capacity(ctx->tm, acc.bytes);
    }
    r = swapsim_guest_access(rg->guest, &acc);
    if (r != 0) {
        rg->ret = r;
        if (r == -EINVAL)
            snprintf(rg->err, sizeof(rg->err), "access %" PRIu64 ": page %u out of range", n,
                     acc.vpage);
        else
            snprintf(rg->err, sizeof(rg->err), "%s", swapsim_guest_error(rg->guest));
        goto fail;
    }
    n++;
    rg->done = n;
    if (ctx->cfg->progress && n % SWAPSIM_PROGRESS_STEP == 0)
        show_progress(rg);
    if (ctx->cfg->sample_every && n % ctx->cfg->sample_every == 0 && ctx->frontswap &&
        add_sample(rg, n) != 0) {
        rg->ret = -ENOMEM;
        snprintf(rg->err, sizeof(rg->err), "out of memory for samples");
        goto fail;
    }
    return 1;
fail:
    atomic_store(&ctx->stop, 1);
    return 0;
}

/* A guest's own thread (--concurrent): its steps until it is done. */
static void *drive(void *arg)
{
    struct run_guest *rg = arg;

    while (step(rg) == 1)
        ;
    if (rg->ctx->cfg->progress)
        show_progress(rg);
    return NULL;
}

/* Every guest in this thread, round robin: one step of each in guest
 * order, a guest that is done dropping out, until all are. */
static void drive_round_robin(struct run_ctx *ctx)
{
    uint32_t guests = ctx->cfg->guests, active = guests;
    bool done[SWAPSIM_MAX_GUESTS] = {false};

    while (active > 0) {
        for (uint32_t i = 0; i < guests; i++) {
            if (done[i] || step(&ctx->rg[i]) == 1)
                continue;
            done[i] = true;
            active--;
            if (ctx->cfg->progress)
                show_progress(&ctx->rg[i]);
        }
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_once(const struct swapsim_config *cfg, bool frontswap, struct swapsim_result *res,
                    char *err, size_t errlen)
{
    struct run_ctx ctx = {.cfg = cfg, .frontswap = frontswap};
    struct swapsim_counters *sum = frontswap ? &res->total : &res->baseline;
    pthread_t threads[SWAPSIM_MAX_GUESTS];
    uint32_t started = 0;
    double t0;
    int ret = 0;

    atomic_init(&ctx.stop, 0);
    atomic_init(&ctx.interrupted, 0);
    if (guest_device_init(&ctx.device) != 0) {
        error_text_set(err, errlen, "out of memory");
        return -ENOMEM;
    }
    ctx.rg = calloc(cfg->guests, sizeof(*ctx.rg));
    if (!ctx.rg) {
        guest_device_destroy(&ctx.device);
        error_text_set(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (frontswap) {
        ctx.tm = tmem_create(&cfg->tmem);
        if (!ctx.tm) {
            ret = -errno;
            error_text_set(err, errlen, "cannot create the tmem store: %s", strerror(errno));
            goto out;
        }
    }
    for (uint32_t i = 0; i < cfg->guests; i++) {
        struct run_guest *rg = &ctx.rg[i];
        struct swapsim_guest_config gc = cfg->guest;
        char name[32];
        snprintf(name, sizeof(name), "guest%u", i);
        rg->ctx = &ctx;
        rg->index = i;
        gc.name = name;
        gc.swap_type = i;
        gc.seed = cfg->guest.seed + i;
        gc.frontswap = frontswap;
        gc.page_size = cfg->tmem.page_size ? cfg->tmem.page_size : 4096;
        if (!frontswap)
            gc.exclusive_loads = gc.write_through = false;
        gc.swapout_hook = (i == 0 && frontswap) ? swapout_hook : NULL;
        gc.hook_arg = &ctx;
        gc.device = &ctx.device;
        gc.accept_threshold_percent = cfg->tmem.accept_threshold_percent;
        if (frontswap) {
            rg->client = tmem_client_create(ctx.tm, name);
            if (!rg->client) {
                ret = -ENOMEM;
                error_text_set(err, errlen, "cannot create tmem client %s", name);
                goto out;
            }
        }
        ret = swapsim_guest_create(&gc, rg->client, &rg->guest, err, errlen);
        if (ret != 0)
            goto out;
        if (cfg->trace_path) {
            ret = swapsim_trace_open(cfg->trace_path, gc.vpages, &rg->wl, err, errlen);
        } else {
            struct swapsim_gen_config gen = cfg->gen;
            gen.vpages = gc.vpages;
            gen.seed = cfg->gen.seed + i;
            ret = swapsim_gen_create(&gen, &rg->wl, err, errlen);
        }
        if (ret == 0 && i == 0 && frontswap && cfg->record_path) {
            struct swapsim_workload *rec;
            ret = swapsim_record_wrap(cfg->record_path, gc.page_size, rg->wl, &rec, err, errlen);
            if (ret == 0)
                rg->wl = rec;
        }
        if (ret != 0)
            goto out;
    }
    if (cfg->progress) {
        struct swapsim_progress *p = cfg->progress;
        atomic_store(&p->accesses, 0);
        atomic_store(&p->faults, 0);
        atomic_store(&p->total, cfg->trace_path ? 0 : cfg->gen.accesses * cfg->guests);
        atomic_store(&p->run, frontswap ? 1 : 2);
    }
    t0 = now_seconds();
    if (cfg->guests == 1 || !cfg->concurrent) {
        drive_round_robin(&ctx);
    } else {
        for (; started < cfg->guests; started++) {
            if (pthread_create(&threads[started], NULL, drive, &ctx.rg[started]) != 0) {
                atomic_store(&ctx.stop, 1);
                ret = -EAGAIN;
                error_text_set(err, errlen, "cannot start guest thread %u", started);
                break;
            }
        }
        for (uint32_t i = 0; i < started; i++)
            pthread_join(threads[i], NULL);
        if (ret != 0)
            goto out;
    }
    if (frontswap)
        res->wall_seconds = now_seconds() - t0;
    if (atomic_load(&ctx.interrupted))
        res->interrupted = true;
    for (uint32_t i = 0; i < cfg->guests; i++) {
        if (ctx.rg[i].ret != 0) {
            ret = ctx.rg[i].ret;
            /* guest errors carry the guest's name already */
            if (strncmp(ctx.rg[i].err, "guest", 5) == 0)
                error_text_set(err, errlen, "%s", ctx.rg[i].err);
            else
                error_text_set(err, errlen, "guest%u: %s", i, ctx.rg[i].err);
            goto out;
        }
    }
    if (frontswap) {
        tmem_stats(ctx.tm, &res->store);
        res->store_budget_used = tmem_budget_used(ctx.tm);
    }
    memset(sum, 0, sizeof(*sum));
    for (uint32_t i = 0; i < cfg->guests; i++) {
        struct swapsim_counters c;
        int r = swapsim_guest_swapoff(ctx.rg[i].guest);
        swapsim_guest_counters(ctx.rg[i].guest, &c);
        swapsim_costs_price(&cfg->costs, &c,
                            frontswap && cfg->tmem.compressor != TMEM_COMPRESSOR_NONE);
        if (r != 0 && ret == 0) {
            ret = r;
            error_text_set(err, errlen, "swapoff: %s", swapsim_guest_error(ctx.rg[i].guest));
        }
        if (frontswap)
            res->per_guest[i] = c;
        if (frontswap && cfg->sample_every && add_end_sample(&ctx.rg[i], &c) != 0 && ret == 0) {
            ret = -ENOMEM;
            error_text_set(err, errlen, "out of memory for samples");
        }
        swapsim_counters_add(sum, &c);
    }
    if (ret == 0) {
        /* every guest noted its swap I/O on the run's one device */
        struct guest_device_counts dc;
        guest_device_counts(&ctx.device, &dc);
        if (dc.random_requests != sum->device_random_requests ||
            dc.sequential_requests != sum->device_sequential_requests ||
            dc.read_bytes != sum->sectors_read * SWAPSIM_SECTOR ||
            dc.write_bytes != sum->sectors_written * SWAPSIM_SECTOR) {
            ret = -EFAULT;
            error_text_set(err, errlen, "internal error: the device counted %" PRIu64
                           " random + %" PRIu64 " sequential requests, the guests %" PRIu64
                           " + %" PRIu64, dc.random_requests, dc.sequential_requests,
                           sum->device_random_requests, sum->device_sequential_requests);
            goto out;
        }
    }
    if (frontswap) {
        struct tmem_stats st;
        tmem_stats(ctx.tm, &st);
        res->store_pages_after = st.pages;
        res->faults = sum->minor_faults + sum->major_faults;
        for (uint32_t i = 0; i < cfg->guests; i++) {
            struct run_guest *rg = &ctx.rg[i];
            if (!rg->nsamples)
                continue;
            struct swapsim_sample *s =
                realloc(res->samples, (res->nsamples + rg->nsamples) * sizeof(*s));
            if (!s) {
                ret = -ENOMEM;
                goto out;
            }
            memcpy(s + res->nsamples, rg->samples, rg->nsamples * sizeof(*s));
            res->samples = s;
            res->nsamples += rg->nsamples;
        }
    }
out:
    for (uint32_t i = 0; i < cfg->guests; i++) {
        struct run_guest *rg = &ctx.rg[i];
        swapsim_guest_destroy(rg->guest);
        swapsim_workload_destroy(rg->wl);
        tmem_client_destroy(rg->client);
        free(rg->samples);
    }
    free(ctx.rg);
    tmem_destroy(ctx.tm);
    guest_device_destroy(&ctx.device);
    return ret;
}

int swapsim_run(const struct swapsim_config *cfg, struct swapsim_result *res, char *err,
                size_t errlen)
{
    int ret;

    memset(res, 0, sizeof(*res));
    if (cfg->guests == 0 || cfg->guests > SWAPSIM_MAX_GUESTS) {
        error_text_set(err, errlen, "guests must be 1..%d", SWAPSIM_MAX_GUESTS);
        return -EINVAL;
    }
    res->guests = cfg->guests;
    ret = run_once(cfg, true, res, err, errlen);
    if (ret != 0 || !cfg->baseline || res->interrupted)
        return ret;
    ret = run_once(cfg, false, res, err, errlen);
    /* a baseline cut short compares with nothing */
    if (ret == 0 && !res->interrupted)
        res->have_baseline = true;
    return ret;
}

void swapsim_result_free(struct swapsim_result *res)
{
    free(res->samples);
    res->samples = NULL;
    res->nsamples = 0;
}
