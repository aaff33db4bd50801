/*
 * guest.c - one simulated guest: page table, RAM, faults, swap-out/in,
 * frontswap shrink and swapoff.
 *
 * Models: a guest kernel's anonymous memory with RAM of N frames and an
 * address space of M virtual pages. A page is
 *   absent    never touched, or unmapped (next touch: minor fault)
 *   resident  in a frame; dirty (no slot), or clean with a slot whose copy
 *             (frontswap and/or swap file) equals the frame (swap cache)
 *   swapped   only in its slot (frontswap, swap file, or both)
 * Invariant: a resident page without a slot is dirty, a dirty page has no
 * slot. Writing a page frees its slot (invalidating frontswap), so a stale
 * copy can never be loaded. Eviction of a clean page with a slot just drops
 * the frame; a dirty page gets a slot and is stored in frontswap first, the
 * swap file when frontswap refuses (and always, in write-through mode).
 * Loads are non-destructive by default (the page stays clean with its
 * slot); with exclusive loads the tmem copy is gone, so the page comes back
 * dirty and its slot is released (the zswap exclusive-load rule).
 * Shrink (the store's pressure callback, or self-shrink of pages untouched
 * for a while) moves the least recently used frontswap pages to the swap
 * file (or into free RAM) and flushes them from tmem; in write-through
 * mode it only flushes (the file already has them).
 * The zswap model (cfg.model, docs/swapsim.md "zswap mode") adds three
 * rules of Linux 6.12+: loads are exclusive; an all-zero page is swapped
 * out as a zero bit on its slot (the swap layer's zeromap: no store, no
 * I/O) and swapped in by filling zeros, with frontswap on or off; and a
 * store the pool refuses goes to the swap file and wakes zswap's shrink
 * worker (mm/zswap.c shrink_worker), here in this thread. Each worker
 * step examines the least recently stored entry (frontswap's order: with
 * exclusive loads a load never refreshes an entry, it removes it): a
 * referenced one (every entry is stored referenced) is rotated to the
 * newest end with its bit cleared, its second chance, which counts as a
 * failure; an unreferenced one is loaded, written to its slot on the swap
 * file and freed. A wake-up steps until the store's budget use
 * (tmem_budget_used) is below the accept threshold of its capacity or 16
 * failures (zswap_worker_step_once, zswap_worker_run). Without a pace a
 * wake-up runs in full when it starts; with one it goes on at the
 * following swap-outs, pace/100 steps each (a rotation costs
 * rotation_cost/100 of a step), while the store's hysteresis refuses
 * every store (the kernel's worker runs beside reclaim, not before it);
 * a store refused while it runs queues another wake-up after it, as
 * queue_work does. With worker_delay a wake-up queued by a refusal
 * starts that many swap-outs later, and the refusals meanwhile queue
 * nothing (queue_work on a pending work item). With no_second_chance
 * the worker is the older model: it writes back the oldest entries
 * without rotating until below the threshold (zswap_writeback). The
 * pressure callback writes back to the threshold at once in this model,
 * rotating but never giving up.
 *
 * Migration (swapsim_guest_migrate) moves frontswap to a pool on another
 * store while the guest runs: frontswap notes every slot whose state
 * changes (fsmap.c), rounds copy the noted slots (every held slot first)
 * a batch per hold of the guest lock, each page read back and verified;
 * then, the lock held (the guest stopped), the last changes are copied,
 * the slots the destination refused are written to the swap file, and
 * frontswap, the pool and the pressure callback switch over.
 * Data structures: per-page arrays (frame, slot, version, flags, and an
 * 8-entry event history for mismatch reports); per-frame owner array, a
 * free-frame stack and the page replacement (guest/replace.h, CLOCK or
 * LRU over the frames); the swap device (swapdev.c), whose slot table is
 * the guest's swap state per slot (owner page, on the file or not); and
 * frontswap (fsmap.c), which alone knows which slots it holds and in what
 * order. A swapped page's copies are where those two say: the swap file
 * if the slot is on disk, frontswap if it holds the slot. Every read and
 * write of the swap file is also noted on the block device under it
 * (guest/device.h: stream swap_type, offset slot * page size, one page),
 * which says whether the request continued the device's previous one
 * (the next slot of the same area: sequential) or not (random); the guest
 * counts both, and the simulated time prices them (timing.c). The device
 * is the config's (shared by guests on one disk) or one of the guest's own.
 *
 * Swap file errors (docs/swapsim.md "Failure behaviour"): every page read
 * or write of the swap file is tried SWAP_IO_TRIES times, each failure
 * counted (swap_write_errors, swap_read_errors). A swap-out whose write
 * fails every try leaves the page in RAM, dirty, without a slot (its
 * frontswap copy invalidated) and stops the run; a shrink's leaves it in
 * frontswap and stops; a swap-in whose read fails every try fails that
 * access and stops the run. No page is ever dropped or read wrong (every
 * load is still verified).
 *
 * Locking: one mutex per guest covers everything above. The driver thread
 * holds it for a whole access, except around the swap-out hook; the pressure
 * callback (possibly from another thread, inside tmem_set_capacity) takes
 * it. The guest never calls tmem_set_capacity/tmem_reclaim with it held.
 * The block device has its own lock, taken inside the guest's (a leaf).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest/device.h"
#include "guest/replace.h"
#include "swapsim/swapsim.h"
#include "swapsim/swapsim_internal.h"

#define PT_DIRTY 0x1u
#define HIST_LEN 8

enum hist_event {
    EV_NONE,
    EV_NEW,        /* minor fault: page created */
    EV_WRITE,      /* written: new version */
    EV_STORE_FS,   /* swapped out to frontswap */
    EV_STORE_WT,   /* swapped out to frontswap and the file */
    EV_STORE_DISK, /* swapped out to the file */
    EV_LOAD_FS,
    EV_LOAD_DISK,
    EV_DROP,       /* clean page dropped from RAM, slot kept */
    EV_SHRINK_DISK,/* shrink moved it from frontswap to the file */
    EV_SHRINK_RAM, /* shrink moved it from frontswap into RAM */
    EV_SHRINK_DROP,/* shrink flushed a frontswap copy also held elsewhere */
    EV_FREE_SLOT,
    EV_UNMAP,
    EV_STORE_ZERO, /* swapped out as a zero slot (zswap model) */
    EV_LOAD_ZERO,  /* swapped in from a zero slot */
    EV_WRITEBACK,  /* zswap writeback moved it from the store to the file */
};

static const char *const ev_names[] = {
    "-",          "new",         "write",      "store-frontswap", "store-writethrough",
    "store-disk", "load-frontswap", "load-disk", "drop-clean",   "shrink-to-disk",
    "shrink-to-ram", "shrink-flush", "free-slot", "unmap", "store-zero", "load-zero",
    "writeback",
};

struct hist {
    uint64_t at;
    uint32_t slot;
    uint32_t version;
    uint8_t ev;
};

struct swapsim_guest {
    pthread_mutex_t lock;
    struct swapsim_guest_config cfg;
    char name[64];
    struct tmem_client *client;
    int pool;
    uint32_t page_size;
    struct swapsim_swapdev *sd;  /* the swap file and its slot table */
    struct swapsim_fsmap *fs;    /* frontswap (holds nothing when off) */
    struct guest_device *dev;    /* the block device under the swap file */
    struct guest_device own_dev; /* dev when the config gives none */
    bool own_dev_init;
    struct guest_replace rc;     /* which frame to evict */
    uint32_t *pt_frame, *pt_slot, *pt_version;
    uint8_t *pt_flags;
    struct hist *hist;
    uint8_t *hist_pos;
    uint8_t *ram;
    uint32_t *frame_owner;
    uint32_t *free_frames;
    uint32_t nfree;
    uint8_t *scratch, *expect;
    struct swapsim_counters ctr;
    uint64_t seen_no_room;       /* zswap: the pool's failed_puts_no_room so far */
    bool worker_running;         /* zswap: a shrink worker wake-up is under way */
    bool worker_pending;         /* worker_delay: a wake-up is queued, not yet started */
    uint32_t worker_delay_left;  /* worker_delay: swap-outs before it starts */
    bool worker_requeued;        /* zswap: a store was refused meanwhile: another follows */
    uint32_t worker_failures;    /* zswap: rotations in this wake-up */
    uint64_t worker_credit;      /* writeback_pace: its progress, in hundredths of a step */
    uint64_t now;
    bool failed, off;
    int off_ret;
    char error[2048];
};

static long pressure_cb(void *arg, struct tmem_client *c, int pool_id, uint64_t bytes_wanted);

void swapsim_guest_config_init(struct swapsim_guest_config *gc, uint32_t ram_pages,
                               uint32_t vpages)
{
    memset(gc, 0, sizeof(*gc));
    gc->name = "guest0";
    gc->ram_pages = ram_pages;
    gc->vpages = vpages;
    gc->reclaim = GUEST_REPLACE_CLOCK;
    gc->frontswap = true;
    gc->selfshrink_interval = 1024;
    gc->rotation_cost = SWAPSIM_ROTATION_COST_DEFAULT;
    gc->seed = 1;
    swapsim_content_mix_default(&gc->mix);
}

static uint8_t *frame_data(struct swapsim_guest *g, uint32_t f)
{
    return g->ram + (size_t)f * g->page_size;
}

static void hist_add(struct swapsim_guest *g, uint32_t v, enum hist_event ev, uint32_t slot)
{
    struct hist *h = &g->hist[(size_t)v * HIST_LEN + g->hist_pos[v]];
    h->at = g->now;
    h->slot = slot;
    h->version = g->pt_version[v];
    h->ev = (uint8_t)ev;
    g->hist_pos[v] = (uint8_t)((g->hist_pos[v] + 1) % HIST_LEN);
}

__attribute__((format(printf, 2, 3))) static int fail(struct swapsim_guest *g,
                                                      const char *fmt, ...)
{
    va_list ap;
    size_t len;

    va_start(ap, fmt);
    len = (size_t)snprintf(g->error, sizeof(g->error), "%s: ", g->name);
    if (len < sizeof(g->error))
        vsnprintf(g->error + len, sizeof(g->error) - len, fmt, ap);
    va_end(ap);
    g->failed = true;
    if (!g->cfg.quiet)
        fprintf(stderr, "tmem-swapsim: FATAL: %s\n", g->error);
    return -EIO;
}

static void append_history(struct swapsim_guest *g, uint32_t v, char *buf, size_t size)
{
    size_t len = strlen(buf);
    for (int i = 0; i < HIST_LEN; i++) {
        const struct hist *h = &g->hist[(size_t)v * HIST_LEN + (g->hist_pos[v] + i) % HIST_LEN];
        if (h->ev == EV_NONE || len >= size)
            continue;
        char slot[16] = "-";
        if (h->slot != SWAPSIM_NONE)
            snprintf(slot, sizeof(slot), "%u", h->slot);
        int n = snprintf(buf + len, size - len, " [access %" PRIu64 " %s v%u slot %s]", h->at,
                         ev_names[h->ev], h->version, slot);
        if (n > 0)
            len += (size_t)n;
    }
}

/* Check data (loaded for page v from slot, source src) against the page's
 * expected content; a mismatch is fatal. */
static int verify(struct swapsim_guest *g, uint32_t v, uint32_t slot, const char *src,
                  const uint8_t *data)
{
    swapsim_content_fill(g->expect, g->page_size, g->cfg.seed, &g->cfg.mix, v,
                         g->pt_version[v]);
    g->ctr.pages_verified++;
    if (memcmp(g->expect, data, g->page_size) == 0)
        return 0;
    uint32_t off = 0;
    while (off < g->page_size && g->expect[off] == data[off])
        off++;
    g->ctr.mismatches++;
    char hist[1024] = "";
    append_history(g, v, hist, sizeof(hist));
    return fail(g,
                "MISMATCH loading page %u (version %u, %s) from %s slot %u at access %" PRIu64
                ": first bad byte at offset %u (got 0x%02x, want 0x%02x); history:%s",
                v, g->pt_version[v],
                swapsim_content_class(g->cfg.seed, &g->cfg.mix, v, g->pt_version[v]), src, slot,
                g->now, off, data[off], g->expect[off], hist);
}

/* A page of slot s went to or came from the swap file: count it, and note
 * the request on the block device (sequential or random). */
static void count_disk_io(struct swapsim_guest *g, uint32_t s, bool write)
{
    if (write) {
        g->ctr.pswpout++;
        g->ctr.sectors_written += g->page_size / SWAPSIM_SECTOR;
    } else {
        g->ctr.pswpin++;
        g->ctr.sectors_read += g->page_size / SWAPSIM_SECTOR;
    }
    if (guest_device_note(g->dev, g->cfg.swap_type, (uint64_t)s * g->page_size, g->page_size,
                          write))
        g->ctr.device_sequential_requests++;
    else
        g->ctr.device_random_requests++;
}

/* Tries of one page transfer on the swap file before the run stops. */
#define SWAP_IO_TRIES 3

/*
 * Write data to slot s of the swap file, trying SWAP_IO_TRIES times: each
 * failure counts in swap_write_errors, the success in pswpout. 0, or the
 * last try's -errno (the slot is then as it was: not on disk if it was
 * not).
 */
static int swap_write(struct swapsim_guest *g, uint32_t s, const void *data)
{
    int ret = -EIO;

    for (int t = 0; t < SWAP_IO_TRIES; t++) {
        ret = swapsim_swapdev_write(g->sd, s, data);
        if (ret == 0) {
            count_disk_io(g, s, true);
            return 0;
        }
        if (ret == -EINVAL) /* not an I/O error: the slot is not allocated */
            return ret;
        g->ctr.swap_write_errors++;
    }
    return ret;
}

/* Read slot s of the swap file into data, as swap_write tries (failures
 * in swap_read_errors, the success in pswpin). A failed read may have
 * written part of data: the caller must not use it. */
static int swap_read(struct swapsim_guest *g, uint32_t s, void *data)
{
    int ret = -EIO;

    for (int t = 0; t < SWAP_IO_TRIES; t++) {
        ret = swapsim_swapdev_read(g->sd, s, data);
        if (ret == 0) {
            count_disk_io(g, s, false);
            return 0;
        }
        if (ret == -EINVAL)
            return ret;
        g->ctr.swap_read_errors++;
    }
    return ret;
}

/*
 * A swap-out of page v (in frame f, slot s just allocated) whose write
 * failed every try: the page is never dropped. Its frontswap copy (if
 * any: write-through) is invalidated and the slot freed, so the page stays
 * in RAM, dirty, without a slot, as before the swap-out; then the run
 * stops, naming the slot and the error.
 */
static int swap_out_write_failed(struct swapsim_guest *g, uint32_t v, uint32_t s, int err)
{
    if (swapsim_fsmap_holds(g->fs, s))
        (void)swapsim_fsmap_invalidate_page(g->fs, s);
    swapsim_swapdev_free(g->sd, s);
    g->pt_slot[v] = SWAPSIM_NONE;
    g->pt_flags[v] |= PT_DIRTY;
    return fail(g, "swap file slot %u: write error: %s (%d tries); page %u stays in RAM, "
                "dirty; stopping", s, strerror(-err), SWAP_IO_TRIES, v);
}

/* Free page v's slot: invalidate its frontswap copy, release the slot. */
static int release_slot(struct swapsim_guest *g, uint32_t v)
{
    uint32_t s = g->pt_slot[v];
    int ret;

    if (s == SWAPSIM_NONE)
        return 0;
    ret = swapsim_fsmap_invalidate_page(g->fs, s);
    if (ret != 0)
        return fail(g, "frontswap invalidate of page %u slot %u failed (%s): the store lost it",
                    v, s, strerror(-ret));
    if (swapsim_swapdev_free(g->sd, s) != 0)
        return fail(g, "slot %u of page %u was not allocated", s, v);
    g->pt_slot[v] = SWAPSIM_NONE;
    hist_add(g, v, EV_FREE_SLOT, s);
    return 0;
}

static void free_frame(struct swapsim_guest *g, uint32_t v)
{
    uint32_t f = g->pt_frame[v];
    guest_replace_remove(&g->rc, f);
    g->frame_owner[f] = SWAPSIM_NONE;
    g->pt_frame[v] = SWAPSIM_NONE;
    g->free_frames[g->nfree++] = f;
}

static void map_frame(struct swapsim_guest *g, uint32_t v, uint32_t f)
{
    g->frame_owner[f] = v;
    g->pt_frame[v] = f;
    guest_replace_insert(&g->rc, f);
}

static bool is_zswap(const struct swapsim_guest *g)
{
    return g->cfg.model == SWAPSIM_MODEL_ZSWAP;
}

/* Is the page all zeros? (the swap layer's check at swap-out) */
static bool page_is_zero(const uint8_t *data, uint32_t size)
{
    uint64_t w;
    for (uint32_t off = 0; off < size; off += sizeof(w)) {
        memcpy(&w, data + off, sizeof(w));
        if (w)
            return false;
    }
    return true;
}

/*
 * Give back one frontswap page (the least recently used): the shrink step.
 * to_ram: while free frames exist, a swapped page goes back into RAM
 * instead of the swap file (zswap's writeback always writes).
 * Returns 1 (given back), 0 (nothing in frontswap) or -errno.
 */
static int shrink_one(struct swapsim_guest *g, bool to_ram)
{
    uint32_t s = swapsim_fsmap_oldest(g->fs, NULL);
    uint32_t v;
    int ret;

    if (s == SWAPSIM_NONE)
        return 0;
    v = swapsim_swapdev_owner(g->sd, s);
    if (v == SWAPSIM_NONE)
        return fail(g, "shrink: frontswap holds slot %u, which no page owns", s);
    if (swapsim_swapdev_on_disk(g->sd, s)) {
        /* write-through: the file has it; just drop the frontswap copy */
        ret = swapsim_fsmap_invalidate_page(g->fs, s);
        if (ret != 0)
            return fail(g, "shrink: invalidate of page %u slot %u failed (%s)", v, s,
                        strerror(-ret));
        hist_add(g, v, EV_SHRINK_DROP, s);
        return 1;
    }
    if (g->pt_frame[v] != SWAPSIM_NONE) {
        /* clean in RAM: the frame is the only copy needed; it turns dirty */
        ret = release_slot(g, v);
        if (ret != 0)
            return ret;
        g->pt_flags[v] |= PT_DIRTY;
        hist_add(g, v, EV_SHRINK_DROP, s);
        return 1;
    }
    /* swapped, only in frontswap: take it out */
    ret = swapsim_fsmap_load(g->fs, s, g->scratch, g->now);
    if (ret != 0)
        return fail(g, "shrink: frontswap load of page %u slot %u failed (%s): page lost", v, s,
                    strerror(-ret));
    ret = verify(g, v, s, "frontswap (shrink)", g->scratch);
    if (ret != 0)
        return ret;
    if (to_ram && g->nfree > 0) {
        uint32_t f = g->free_frames[--g->nfree];
        memcpy(frame_data(g, f), g->scratch, g->page_size);
        map_frame(g, v, f);
        ret = release_slot(g, v);
        if (ret != 0)
            return ret;
        g->pt_flags[v] |= PT_DIRTY;
        g->ctr.shrink_to_ram++;
        hist_add(g, v, EV_SHRINK_RAM, s);
        return 1;
    }
    ret = swap_write(g, s, g->scratch);
    if (ret != 0) /* the page stays in frontswap, its only copy */
        return fail(g, "shrink: swap file slot %u: write error: %s (%d tries); page %u stays "
                    "in frontswap; stopping", s, strerror(-ret), SWAP_IO_TRIES, v);
    ret = swapsim_fsmap_invalidate_page(g->fs, s);
    if (ret != 0)
        return fail(g, "shrink: invalidate of page %u slot %u failed (%s)", v, s, strerror(-ret));
    hist_add(g, v, to_ram ? EV_SHRINK_DISK : EV_WRITEBACK, s);
    return 1;
}

/* zswap's accept threshold in bytes of the store's capacity now
 * (UINT64_MAX: no limit). */
static uint64_t zswap_accept_bytes(struct swapsim_guest *g)
{
    uint64_t cap = tmem_capacity(tmem_client_store(g->client));
    uint32_t pct = g->cfg.accept_threshold_percent ? g->cfg.accept_threshold_percent : 90;

    if (cap == TMEM_CAPACITY_UNLIMITED)
        return UINT64_MAX;
    return cap / 100 * pct + cap % 100 * pct / 100;
}

/*
 * zswap's shrink worker (mm/zswap.c shrink_worker, shrink_memcg_cb), in
 * this thread: write back the least recently stored entries (load, write
 * to the slot on the swap file, free), at most `most` of them, until the
 * store's budget use is below the accept threshold or this guest holds
 * nothing. Returns entries written back (>= 0) or -errno.
 */
static long zswap_writeback(struct swapsim_guest *g, uint64_t most)
{
    struct tmem *tm = tmem_client_store(g->client);
    uint64_t target = zswap_accept_bytes(g);
    long done = 0;

    while ((uint64_t)done < most && tmem_budget_used(tm) >= target) {
        int r = shrink_one(g, false);
        if (r < 0)
            return r;
        if (r == 0)
            break;
        done++;
        g->ctr.written_back_pages++;
    }
    return done;
}

/* Forward: one step of the second-chance worker (below). */
static int zswap_shrink_step(struct swapsim_guest *g);

/* The pressure callback's writeback with the second chance: step until
 * the store's budget use is below the accept threshold or this guest
 * holds nothing, rotating referenced entries without a failure budget
 * (a capacity drop must free room). Returns entries written back or
 * -errno. */
static long zswap_writeback_rotating(struct swapsim_guest *g)
{
    struct tmem *tm = tmem_client_store(g->client);
    uint64_t target = zswap_accept_bytes(g);
    long done = 0;

    while (tmem_budget_used(tm) >= target) {
        int r = zswap_shrink_step(g);
        if (r == -ENOENT)
            break;
        if (r < 0)
            return r;
        done += r;
    }
    return done;
}

/* Is the store below zswap's accept threshold (or this guest's pool
 * empty), so that the shrink worker is done? */
static bool zswap_worker_done(struct swapsim_guest *g)
{
    return swapsim_fsmap_pages(g->fs) == 0 ||
           tmem_budget_used(tmem_client_store(g->client)) < zswap_accept_bytes(g);
}

/* The second-chance worker (mm/zswap.c shrink_worker -> shrink_memcg ->
 * shrink_memcg_cb), one entry per step. */

/* The LRU's oldest entry is referenced: a step on it is a rotation. */
static bool zswap_head_referenced(struct swapsim_guest *g)
{
    uint32_t s = swapsim_fsmap_oldest(g->fs, NULL);
    return s != SWAPSIM_NONE && swapsim_fsmap_referenced(g->fs, s);
}

/*
 * One step of the worker on the oldest entry (shrink_memcg_cb): a
 * referenced entry is rotated, its bit cleared (LRU_ROTATE: returns 0, a
 * failure for shrink_memcg, which wrote nothing back); an unreferenced
 * one is written back (1). -ENOENT: this guest holds nothing (scanned 0);
 * other -errno: the guest failed.
 */
static int zswap_shrink_step(struct swapsim_guest *g)
{
    uint32_t s = swapsim_fsmap_oldest(g->fs, NULL);
    int r;

    if (s == SWAPSIM_NONE)
        return -ENOENT;
    if (swapsim_fsmap_referenced(g->fs, s)) {
        r = swapsim_fsmap_rotate(g->fs, s, g->now);
        if (r != 0)
            return fail(g, "zswap: rotating slot %u failed (%s)", s, strerror(-r));
        g->ctr.writeback_rotated++;
        return 0;
    }
    r = shrink_one(g, false);
    if (r < 0)
        return r;
    if (r == 0)
        return -ENOENT;
    g->ctr.written_back_pages++;
    return 1;
}

/* Start a wake-up now. */
static void zswap_worker_start(struct swapsim_guest *g)
{
    g->worker_pending = false;
    g->worker_running = true;
    g->worker_failures = 0;
    g->ctr.shrink_worker_runs++;
}

/* A refused store queues the worker (zswap_store -> queue_work): while a
 * wake-up runs, another one after it; while one is pending (worker_delay:
 * queued, not yet started) nothing, as queue_work on a pending work item
 * does nothing; otherwise a new wake-up, at once or, with worker_delay,
 * pending for that many swap-outs. */
static void zswap_worker_queue(struct swapsim_guest *g)
{
    if (g->worker_running) {
        g->worker_requeued = true;
        return;
    }
    if (g->worker_pending)
        return;
    if (g->cfg.worker_delay) {
        g->worker_pending = true;
        g->worker_delay_left = g->cfg.worker_delay;
        return;
    }
    zswap_worker_start(g);
}

/* One step of the running wake-up, then its end test (shrink_worker's
 * do { ... } while (zswap_total_pages() > thr), MAX_RECLAIM_RETRIES
 * failures, or nothing to scan); a queued wake-up starts when it ends.
 * Returns 0 or -errno. */
static int zswap_worker_step_once(struct swapsim_guest *g)
{
    int r = zswap_shrink_step(g);
    bool end;

    if (r < 0 && r != -ENOENT)
        return r;
    if (r == 0 && ++g->worker_failures >= SWAPSIM_ZSWAP_WORKER_FAILURES) {
        g->ctr.shrink_worker_gave_up++;
        end = true;
    } else {
        end = r == -ENOENT || zswap_worker_done(g);
    }
    if (end) {
        g->worker_running = false;
        if (g->worker_requeued) {
            g->worker_requeued = false;
            zswap_worker_start(g); /* queued while it ran: no delay */
            /* The queued run starts at once on the kernel's workqueue: below
             * the threshold its do-while examines one entry and stops, long
             * before reclaim has refilled the pool; take that step now, not
             * after the pace (else the worker would chase the stores the
             * store accepts again). */
            if (zswap_worker_done(g))
                return zswap_worker_step_once(g);
        }
    }
    return 0;
}

/*
 * Run the worker as far as its pace allows: with no pace, the wake-up in
 * full (at the refusal that queued it); with one, while its credit covers
 * the next step (a writeback 100, a rotation rotation_cost hundredths).
 * Returns 0 or -errno.
 */
static int zswap_worker_run(struct swapsim_guest *g)
{
    while (g->worker_running) {
        int r;
        if (g->cfg.writeback_pace) {
            uint64_t cost = zswap_head_referenced(g) ? g->cfg.rotation_cost : 100;
            if (g->worker_credit < cost)
                break;
            g->worker_credit -= cost;
        }
        r = zswap_worker_step_once(g);
        if (r != 0)
            return r;
    }
    if (!g->worker_running)
        g->worker_credit = 0;
    return 0;
}

/* zswap, at each swap-out: a pending wake-up's delay counts down (it
 * starts at 0); with a writeback pace the running shrink worker takes the
 * steps it has had time for (writeback_pace hundredths of a step a
 * swap-out): with the second chance zswap_worker_run, without it
 * writebacks until below the threshold. Returns 0 or -errno. */
static int zswap_worker_step(struct swapsim_guest *g)
{
    long n;

    if (g->worker_pending && --g->worker_delay_left == 0)
        zswap_worker_start(g); /* the workqueue runs it now */
    if (!g->worker_running)
        return 0;
    if (!g->cfg.no_second_chance) {
        g->worker_credit += g->cfg.writeback_pace;
        return zswap_worker_run(g);
    }
    g->worker_credit += g->cfg.writeback_pace;
    n = zswap_writeback(g, g->worker_credit / 100);
    if (n < 0)
        return (int)n;
    g->worker_credit -= (uint64_t)n * 100;
    if (zswap_worker_done(g)) {
        g->worker_running = false;
        g->worker_credit = 0;
    }
    return 0;
}

/* zswap: a store was refused. Count pool_limit_hit when the store found
 * the pool at its limit (zswap_check_limits counts those, not the
 * refusals of the hysteresis below the limit); then the shrink worker is
 * queued (second chance: a wake-up, run in full without a pace, begun
 * with one) or, without the second chance, run at once to the threshold
 * (writeback_pace 0) or started, to go on at the next swap-outs. */
static int zswap_store_refused(struct swapsim_guest *g)
{
    struct tmem *tm = tmem_client_store(g->client);
    struct tmem_stats st;
    bool at_limit = tmem_budget_used(tm) >= tmem_capacity(tm);
    long n;

    if (tmem_pool_stats(g->client, g->pool, &st) == 0 &&
        st.failed_puts_no_room != g->seen_no_room) {
        at_limit = true;
        g->seen_no_room = st.failed_puts_no_room;
    }
    if (at_limit)
        g->ctr.pool_limit_hit++;
    if (!g->cfg.no_second_chance) {
        zswap_worker_queue(g);
        return zswap_worker_run(g);
    }
    if (g->cfg.writeback_pace) {
        g->worker_running = !zswap_worker_done(g);
        return 0;
    }
    n = zswap_writeback(g, UINT64_MAX);
    return n < 0 ? (int)n : 0;
}

static long shrink_locked(struct swapsim_guest *g, uint64_t pages)
{
    long done = 0;
    while ((uint64_t)done < pages) {
        int r = shrink_one(g, true);
        if (r < 0)
            return r;
        if (r == 0)
            break;
        done++;
    }
    return done;
}

long swapsim_guest_shrink(struct swapsim_guest *g, uint64_t pages)
{
    long n = 0;
    pthread_mutex_lock(&g->lock);
    if (!g->off && !g->failed && g->pool >= 0) {
        n = shrink_locked(g, pages);
        if (n > 0)
            g->ctr.shrink_pages += (uint64_t)n;
    }
    pthread_mutex_unlock(&g->lock);
    return n;
}

static uint64_t store_usage(struct swapsim_guest *g)
{
    return tmem_budget_used(tmem_client_store(g->client));
}

/*
 * The store's pressure callback: give back frontswap pages until the store's
 * usage has dropped by bytes_wanted (or frontswap is empty). The page count
 * of each round is estimated from the pool's bytes per page; usage is then
 * measured again, since freed pages may not free all their metadata.
 */
static long pressure_cb(void *arg, struct tmem_client *c, int pool_id, uint64_t bytes_wanted)
{
    struct swapsim_guest *g = arg;
    struct tmem_stats st;
    uint64_t start, now, per_page, pages;
    long total = 0, n;

    if (pthread_mutex_lock(&g->lock) != 0)
        return 0; /* called from inside one of our own accesses: cannot shrink now */
    /* The client too, not only the pool id: after a migration a round of
     * the old store may still be running, and its pool ids repeat the new
     * store's; that round must not shrink the pages on the new store. */
    if (g->off || g->failed || c != g->client || pool_id != g->pool)
        goto out;
    g->ctr.shrink_calls++;
    if (is_zswap(g)) {
        /* zswap: the shrink worker writes back to the accept threshold
         * (with the second chance: rotating, but not giving up) */
        total = g->cfg.no_second_chance ? zswap_writeback(g, UINT64_MAX)
                                        : zswap_writeback_rotating(g);
        goto out;
    }
    start = now = store_usage(g);
    while (start - now < bytes_wanted && swapsim_fsmap_pages(g->fs) > 0) {
        per_page = g->page_size;
        if (tmem_pool_stats(g->client, g->pool, &st) == 0 && st.pages > 0)
            per_page = (st.data_bytes + st.metadata_bytes) / st.pages;
        if (per_page == 0)
            per_page = 1;
        pages = (bytes_wanted - (start - now) + per_page - 1) / per_page;
        n = shrink_locked(g, pages ? pages : 1);
        if (n <= 0) {
            if (n < 0 && total == 0)
                total = n;
            break;
        }
        total += n;
        g->ctr.shrink_pages += (uint64_t)n;
        now = store_usage(g);
        if (now > start)
            start = now;
    }
out:
    pthread_mutex_unlock(&g->lock);
    return total;
}

/* Self-shrink: give back frontswap pages not touched for selfshrink_age. */
static int selfshrink(struct swapsim_guest *g)
{
    uint64_t touched;

    while (swapsim_fsmap_oldest(g->fs, &touched) != SWAPSIM_NONE &&
           touched + g->cfg.selfshrink_age < g->now) {
        int r = shrink_one(g, true);
        if (r < 0)
            return r;
        if (r == 0)
            break;
        g->ctr.selfshrink_pages++;
    }
    return 0;
}

/* Evict one resident page to free a frame (pushed on the free stack). */
static int evict_one(struct swapsim_guest *g)
{
    uint32_t f = guest_replace_victim(&g->rc);
    uint32_t v, s;
    bool hooked = false;
    int ret;

    if (f == GUEST_REPLACE_NONE)
        return fail(g, "reclaim found no victim with RAM full (internal error)");
    v = g->frame_owner[f];
again:
    if (!(g->pt_flags[v] & PT_DIRTY) && g->pt_slot[v] != SWAPSIM_NONE) {
        if (!hooked) {
            g->ctr.clean_drops++;
            hist_add(g, v, EV_DROP, g->pt_slot[v]);
        }
        free_frame(g, v);
        return 0;
    }
    ret = swapsim_swapdev_alloc(g->sd, v, &s);
    if (ret != 0) {
        fail(g, "swap device full (%u slots) swapping out page %u: make it larger",
             swapsim_swapdev_slots(g->sd), v);
        return -ENOSPC;
    }
    g->pt_slot[v] = s;
    g->ctr.swap_outs++;
    if (is_zswap(g) && g->pool >= 0 && !hooked) {
        ret = zswap_worker_step(g); /* the worker's progress meanwhile */
        if (ret != 0)
            return ret;
    }
    if (is_zswap(g) && page_is_zero(frame_data(g, f), g->page_size)) {
        /* the swap layer keeps it as a bit on its slot: no store, no I/O */
        swapsim_swapdev_mark_zero(g->sd, s);
        g->ctr.swpout_zero++;
        hist_add(g, v, EV_STORE_ZERO, s);
    } else if (g->pool >= 0 && swapsim_fsmap_store(g->fs, s, frame_data(g, f), g->now) == 0) {
        if (g->cfg.write_through) {
            ret = swap_write(g, s, frame_data(g, f));
            if (ret != 0)
                return swap_out_write_failed(g, v, s, ret);
            hist_add(g, v, EV_STORE_WT, s);
        } else {
            hist_add(g, v, EV_STORE_FS, s);
        }
    } else {
        ret = swap_write(g, s, frame_data(g, f));
        if (ret != 0)
            return swap_out_write_failed(g, v, s, ret);
        hist_add(g, v, EV_STORE_DISK, s);
        if (is_zswap(g) && g->pool >= 0) {
            /* the page is clean on the file: now zswap's shrink worker */
            g->pt_flags[v] &= (uint8_t)~PT_DIRTY;
            ret = zswap_store_refused(g);
            if (ret != 0)
                return ret;
        }
    }
    g->pt_flags[v] &= (uint8_t)~PT_DIRTY;
    /* The page is now clean with a valid slot: a consistent state in which
     * the hook may change the capacity (and so call our shrink). */
    if (g->cfg.swapout_hook && !hooked) {
        hooked = true;
        pthread_mutex_unlock(&g->lock);
        g->cfg.swapout_hook(g->cfg.hook_arg, g);
        pthread_mutex_lock(&g->lock);
        if (g->failed)
            return -EIO;
        goto again; /* shrink may have turned the page dirty again */
    }
    free_frame(g, v);
    return 0;
}

/* Bring page v into RAM (minor or major fault). */
static int fault_in(struct swapsim_guest *g, uint32_t v)
{
    uint32_t f, s;
    uint8_t *data;
    int ret;

    if (g->nfree == 0) {
        ret = evict_one(g);
        if (ret != 0)
            return ret;
    }
    if (g->pt_frame[v] != SWAPSIM_NONE) /* a shrink brought it back meanwhile */
        return 0;
    f = g->free_frames[--g->nfree];
    data = frame_data(g, f);
    s = g->pt_slot[v];
    if (s == SWAPSIM_NONE) {
        g->ctr.minor_faults++;
        swapsim_content_fill(data, g->page_size, g->cfg.seed, &g->cfg.mix, v, g->pt_version[v]);
        g->pt_flags[v] |= PT_DIRTY;
        map_frame(g, v, f);
        hist_add(g, v, EV_NEW, SWAPSIM_NONE);
        return 0;
    }
    g->ctr.major_faults++;
    if (swapsim_swapdev_is_zero(g->sd, s)) {
        /* a zero slot: zeros, no store, no I/O; clean with its slot */
        memset(data, 0, g->page_size);
        g->ctr.swpin_zero++;
        map_frame(g, v, f);
        hist_add(g, v, EV_LOAD_ZERO, s);
        ret = verify(g, v, s, "zero slot", data);
        if (ret != 0)
            return ret;
        g->pt_flags[v] &= (uint8_t)~PT_DIRTY;
        return 0;
    }
    bool on_disk = swapsim_swapdev_on_disk(g->sd, s);
    bool from_fs = false;
    if (swapsim_fsmap_holds(g->fs, s)) {
        ret = swapsim_fsmap_load(g->fs, s, data, g->now);
        if (ret == 0) {
            from_fs = true;
        } else if (!on_disk) {
            g->free_frames[g->nfree++] = f;
            return fail(g, "frontswap load of page %u slot %u failed (%s) and the page is not "
                        "on the swap file: page lost", v, s, strerror(-ret));
        }
    }
    if (!from_fs) {
        if (!on_disk) {
            g->free_frames[g->nfree++] = f;
            return fail(g, "page %u slot %u has no copy in frontswap or on the swap file", v, s);
        }
        ret = swap_read(g, s, data);
        if (ret != 0) { /* the page stays on the file; its access fails */
            g->free_frames[g->nfree++] = f;
            return fail(g, "swap file slot %u: read error: %s (%d tries); page %u cannot be "
                        "loaded; stopping", s, strerror(-ret), SWAP_IO_TRIES, v);
        }
    }
    map_frame(g, v, f);
    hist_add(g, v, from_fs ? EV_LOAD_FS : EV_LOAD_DISK, s);
    ret = verify(g, v, s, from_fs ? "frontswap" : "swap file", data);
    if (ret != 0)
        return ret;
    if (from_fs && !swapsim_fsmap_holds(g->fs, s)) {
        /* an exclusive load took the tmem copy: the page is dirty and its
         * slot released */
        g->pt_flags[v] |= PT_DIRTY;
        return release_slot(g, v);
    }
    g->pt_flags[v] &= (uint8_t)~PT_DIRTY;
    return 0;
}

int swapsim_guest_access(struct swapsim_guest *g, const struct swapsim_access *acc)
{
    uint32_t v = acc->vpage;
    int ret = 0;

    if (acc->op == SWAPSIM_CAPACITY)
        return 0; /* the store's business (swapsim_run), not a page access */
    if (v >= g->cfg.vpages)
        return -EINVAL;
    pthread_mutex_lock(&g->lock);
    if (g->failed || g->off) {
        ret = g->failed ? -EIO : -EINVAL;
        goto out;
    }
    g->now++;
    g->ctr.accesses++;
    if (acc->op == SWAPSIM_UNMAP) {
        g->ctr.unmaps++;
        if (g->pt_frame[v] != SWAPSIM_NONE)
            free_frame(g, v);
        ret = release_slot(g, v);
        if (ret != 0)
            goto out;
        g->pt_flags[v] = 0;
        g->pt_version[v]++;
        hist_add(g, v, EV_UNMAP, SWAPSIM_NONE);
        goto shrink;
    }
    if (acc->op == SWAPSIM_WRITE)
        g->ctr.writes++;
    else
        g->ctr.reads++;
    if (g->pt_frame[v] == SWAPSIM_NONE) {
        ret = fault_in(g, v);
        if (ret != 0)
            goto out;
    }
    guest_replace_touch(&g->rc, g->pt_frame[v]);
    if (acc->op == SWAPSIM_WRITE) {
        ret = release_slot(g, v);
        if (ret != 0)
            goto out;
        g->pt_version[v]++;
        g->pt_flags[v] |= PT_DIRTY;
        swapsim_content_fill(frame_data(g, g->pt_frame[v]), g->page_size, g->cfg.seed,
                             &g->cfg.mix, v, g->pt_version[v]);
        hist_add(g, v, EV_WRITE, SWAPSIM_NONE);
    }
shrink:
    if (g->cfg.selfshrink_age && g->pool >= 0 && g->now % g->cfg.selfshrink_interval == 0)
        ret = selfshrink(g);
out:
    pthread_mutex_unlock(&g->lock);
    return ret;
}

int swapsim_guest_create(const struct swapsim_guest_config *gc, struct tmem_client *client,
                         struct swapsim_guest **out, char *err, size_t errlen)
{
    struct swapsim_guest *g = NULL;
    uint32_t slots;
    int ret;

    *out = NULL;
    if (gc->ram_pages == 0 || gc->vpages == 0) {
        error_text_set(err, errlen, "guest: RAM and address space must be at least one page");
        return -EINVAL;
    }
    if (gc->frontswap && !client) {
        error_text_set(err, errlen, "guest: frontswap needs a tmem client");
        return -EINVAL;
    }
    if (gc->model != SWAPSIM_MODEL_FRONTSWAP && gc->model != SWAPSIM_MODEL_ZSWAP) {
        error_text_set(err, errlen, "guest: unknown model %d", (int)gc->model);
        return -EINVAL;
    }
    if (gc->model == SWAPSIM_MODEL_ZSWAP && gc->write_through) {
        error_text_set(err, errlen, "guest: the zswap model has no write-through mode");
        return -EINVAL;
    }
    if (gc->worker_delay && gc->no_second_chance) {
        error_text_set(err, errlen,
                       "guest: a worker delay needs the second-chance worker (its wake-ups)");
        return -EINVAL;
    }
    if (gc->rotation_cost > 100) {
        error_text_set(err, errlen, "guest: rotation cost %u is above 100 (a writeback's)",
                       gc->rotation_cost);
        return -EINVAL;
    }
    if (gc->accept_threshold_percent > 100) {
        error_text_set(err, errlen, "guest: accept threshold %u%% is above 100%%",
                       gc->accept_threshold_percent);
        return -EINVAL;
    }
    if ((gc->exclusive_loads || gc->write_through) && !gc->frontswap) {
        error_text_set(err, errlen, "guest: exclusive loads and write-through need frontswap");
        return -EINVAL;
    }
    if (swapsim_content_mix_check(&gc->mix) != 0) {
        error_text_set(err, errlen, "guest: content mix adds up to more than 1000 per mille");
        return -EINVAL;
    }
    slots = gc->swap_slots ? gc->swap_slots : gc->vpages;
    g = calloc(1, sizeof(*g));
    if (!g)
        goto nomem;
    {
        /* error-checking: a re-entrant pressure callback (same thread, lock
         * held) gets EDEADLK instead of deadlocking */
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
        pthread_mutex_init(&g->lock, &attr);
        pthread_mutexattr_destroy(&attr);
    }
    g->cfg = *gc;
    if (gc->model == SWAPSIM_MODEL_ZSWAP && gc->frontswap)
        g->cfg.exclusive_loads = true; /* zswap_load frees the entry */
    snprintf(g->name, sizeof(g->name), "%s", gc->name ? gc->name : "guest");
    g->cfg.name = g->name;
    if (g->cfg.selfshrink_interval == 0)
        g->cfg.selfshrink_interval = 1024;
    g->client = gc->frontswap ? client : NULL;
    g->pool = -1;
    g->page_size = client ? tmem_page_size(tmem_client_store(client))
                          : gc->page_size ? gc->page_size : 4096;
    if (gc->page_size && gc->page_size != g->page_size) {
        error_text_set(err, errlen, "guest: page size %u differs from the store's %u",
                       gc->page_size, g->page_size);
        ret = -EINVAL;
        goto fail;
    }
    if (g->page_size < 512 || g->page_size % 512) {
        error_text_set(err, errlen, "guest: page size %u is not a multiple of 512",
                       g->page_size);
        ret = -EINVAL;
        goto fail;
    }
    if (g->cfg.ram_pages > g->cfg.vpages)
        g->cfg.ram_pages = g->cfg.vpages;
    uint32_t n = g->cfg.ram_pages, m = g->cfg.vpages;
    g->pt_frame = malloc(m * sizeof(uint32_t));
    g->pt_slot = malloc(m * sizeof(uint32_t));
    g->pt_version = calloc(m, sizeof(uint32_t));
    g->pt_flags = calloc(m, 1);
    g->hist = calloc((size_t)m * HIST_LEN, sizeof(struct hist));
    g->hist_pos = calloc(m, 1);
    g->ram = malloc((size_t)n * g->page_size);
    g->frame_owner = malloc(n * sizeof(uint32_t));
    g->free_frames = malloc(n * sizeof(uint32_t));
    g->scratch = malloc(g->page_size);
    g->expect = malloc(g->page_size);
    if (!g->pt_frame || !g->pt_slot || !g->pt_version || !g->pt_flags || !g->hist ||
        !g->hist_pos || !g->ram || !g->frame_owner || !g->free_frames || !g->scratch ||
        !g->expect)
        goto nomem;
    for (uint32_t i = 0; i < m; i++)
        g->pt_frame[i] = g->pt_slot[i] = SWAPSIM_NONE;
    for (uint32_t i = 0; i < n; i++) {
        g->frame_owner[i] = SWAPSIM_NONE;
        g->free_frames[i] = n - 1 - i;
    }
    g->nfree = n;
    ret = guest_replace_init(&g->rc, gc->reclaim, n);
    if (ret == -EINVAL) {
        error_text_set(err, errlen, "guest: unknown page replacement policy %d",
                       (int)gc->reclaim);
        goto fail;
    }
    if (ret != 0)
        goto nomem;
    ret = swapsim_swapdev_create(gc->swap_dir, slots, g->page_size, &g->sd, err, errlen);
    if (ret != 0)
        goto fail;
    swapsim_swapdev_set_faults(g->sd, &gc->write_fault, &gc->read_fault);
    g->dev = gc->device;
    if (!g->dev) {
        if (guest_device_init(&g->own_dev) != 0)
            goto nomem;
        g->own_dev_init = true;
        g->dev = &g->own_dev;
    }
    if (g->client) {
        uint32_t flags =
            TMEM_POOL_PERSIST | (g->cfg.exclusive_loads ? TMEM_POOL_EXCLUSIVE_GETS : 0);
        ret = tmem_new_pool(g->client, flags, NULL);
        if (ret < 0) {
            error_text_set(err, errlen, "guest %s: cannot create the frontswap pool: %s",
                           g->name, strerror(-ret));
            goto fail;
        }
        g->pool = ret;
    }
    ret = swapsim_fsmap_create(slots, g->pool >= 0 ? g->client : NULL, g->pool, gc->swap_type,
                               g->cfg.exclusive_loads, &g->ctr, &g->fs);
    if (ret != 0)
        goto nomem;
    if (g->pool >= 0)
        tmem_client_set_pressure_callback(g->client, pressure_cb, g);
    *out = g;
    return 0;
nomem:
    ret = -ENOMEM;
    error_text_set(err, errlen, "guest: out of memory");
fail:
    if (g) {
        g->off = true; /* nothing to swap off */
        if (g->pool >= 0)
            tmem_destroy_pool(g->client, g->pool);
        g->pool = -1;
        swapsim_guest_destroy(g);
    }
    return ret;
}

int swapsim_guest_swapoff(struct swapsim_guest *g)
{
    int ret = 0, r;
    struct tmem_stats st;

    pthread_mutex_lock(&g->lock);
    if (g->off) {
        ret = g->off_ret;
        pthread_mutex_unlock(&g->lock);
        return ret;
    }
    /* try_to_unuse: every swapped page is loaded (and checked), then every
     * slot is freed, invalidating its frontswap copy. */
    for (uint32_t v = 0; v < g->cfg.vpages && !g->failed; v++) {
        uint32_t s = g->pt_slot[v];
        if (s == SWAPSIM_NONE)
            continue;
        if (g->pt_frame[v] == SWAPSIM_NONE) {
            bool on_disk = swapsim_swapdev_on_disk(g->sd, s);
            const char *src = "swap file";
            if (swapsim_swapdev_is_zero(g->sd, s)) {
                memset(g->scratch, 0, g->page_size);
                g->ctr.swpin_zero++;
                src = "zero slot";
            } else if (swapsim_fsmap_holds(g->fs, s)) {
                r = swapsim_fsmap_load(g->fs, s, g->scratch, g->now);
                if (r == 0) {
                    src = "frontswap";
                } else if (!on_disk) {
                    ret = fail(g, "swapoff: frontswap load of page %u slot %u failed (%s): "
                               "page lost", v, s, strerror(-r));
                    break;
                }
            }
            if (strcmp(src, "swap file") == 0) {
                r = swap_read(g, s, g->scratch);
                if (r != 0) {
                    ret = fail(g, "swapoff: swap file slot %u: read error: %s (%d tries); "
                               "page %u cannot be loaded", s, strerror(-r), SWAP_IO_TRIES, v);
                    break;
                }
            }
            r = verify(g, v, s, src, g->scratch);
            if (r != 0) {
                ret = r;
                break;
            }
        }
        r = release_slot(g, v);
        if (r != 0) {
            ret = r;
            break;
        }
        if (g->pt_frame[v] != SWAPSIM_NONE)
            g->pt_flags[v] |= PT_DIRTY;
    }
    if (g->failed && ret == 0)
        ret = -EIO;
    g->ctr.leaked_slots = swapsim_swapdev_used(g->sd);
    g->ctr.leaked_tmem_pages = 0;
    if (g->pool >= 0 && tmem_pool_stats(g->client, g->pool, &st) == 0)
        g->ctr.leaked_tmem_pages = st.pages;
    if (g->pool >= 0) {
        r = swapsim_fsmap_invalidate_area(g->fs);
        if (r != 0 && ret == 0)
            ret = r;
    }
    g->off = true;
    g->off_ret = ret;
    pthread_mutex_unlock(&g->lock);
    /* Callbacks running now see g->off and return 0. */
    if (g->pool >= 0) {
        tmem_client_set_pressure_callback(g->client, NULL, NULL);
        tmem_destroy_pool(g->client, g->pool);
    }
    return ret;
}

void swapsim_guest_counters(struct swapsim_guest *g, struct swapsim_counters *out)
{
    pthread_mutex_lock(&g->lock);
    g->ctr.slots_used = g->sd ? swapsim_swapdev_used(g->sd) : 0;
    g->ctr.frontswap_pages = g->fs ? swapsim_fsmap_pages(g->fs) : 0;
    g->ctr.stored_incompressible_pages = 0;
    if (g->pool >= 0 && !g->off) {
        struct tmem_stats st;
        if (tmem_pool_stats(g->client, g->pool, &st) == 0)
            g->ctr.stored_incompressible_pages = st.pages_raw;
    }
    g->ctr.resident_pages = g->cfg.ram_pages - g->nfree;
    *out = g->ctr;
    pthread_mutex_unlock(&g->lock);
}

const char *swapsim_guest_error(const struct swapsim_guest *g)
{
    return g->error;
}

struct swapsim_swapdev *swapsim_guest_swapdev(struct swapsim_guest *g)
{
    return g->sd;
}

int swapsim_guest_pool(const struct swapsim_guest *g)
{
    return g->pool;
}

int swapsim_guest_check(struct swapsim_guest *g, char *err, size_t errlen)
{
    uint64_t slots = 0, fs = 0, resident = 0;
    int ret = -EFAULT;

    pthread_mutex_lock(&g->lock);
    for (uint32_t v = 0; v < g->cfg.vpages; v++) {
        uint32_t f = g->pt_frame[v], s = g->pt_slot[v];
        bool dirty = g->pt_flags[v] & PT_DIRTY;
        if (f != SWAPSIM_NONE) {
            resident++;
            if (g->frame_owner[f] != v) {
                error_text_set(err, errlen, "page %u: frame %u owned by %u", v, f,
                               g->frame_owner[f]);
                goto out;
            }
            if (dirty == (s != SWAPSIM_NONE)) {
                error_text_set(err, errlen, "resident page %u: dirty=%d but slot=%d", v, dirty,
                               s != SWAPSIM_NONE);
                goto out;
            }
        }
        if (s == SWAPSIM_NONE)
            continue;
        slots++;
        bool on_disk = swapsim_swapdev_on_disk(g->sd, s), held = swapsim_fsmap_holds(g->fs, s);
        bool zero = swapsim_swapdev_is_zero(g->sd, s);
        if (!swapsim_swapdev_in_use(g->sd, s) || swapsim_swapdev_owner(g->sd, s) != v ||
            (!on_disk && !held && !zero) || (zero && (on_disk || held || !is_zswap(g)))) {
            error_text_set(err, errlen, "page %u: slot %u allocated=%d owner=%u on disk=%d "
                           "in frontswap=%d", v, s, swapsim_swapdev_in_use(g->sd, s),
                           swapsim_swapdev_owner(g->sd, s), on_disk, held);
            goto out;
        }
        if (held)
            fs++;
        if (g->cfg.write_through && !on_disk) {
            error_text_set(err, errlen, "write-through: page %u slot %u not on the swap file",
                           v, s);
            goto out;
        }
    }
    if (slots != swapsim_swapdev_used(g->sd)) {
        error_text_set(err, errlen, "%" PRIu64 " slots referenced, %u allocated: leak", slots,
                       swapsim_swapdev_used(g->sd));
        goto out;
    }
    if (fs != swapsim_fsmap_pages(g->fs)) {
        error_text_set(err, errlen, "pages own %" PRIu64 " slots in frontswap, it holds %" PRIu64,
                       fs, swapsim_fsmap_pages(g->fs));
        goto out;
    }
    if (swapsim_fsmap_check(g->fs, err, errlen) != 0)
        goto out;
    if (resident + g->nfree != g->cfg.ram_pages) {
        error_text_set(err, errlen, "%" PRIu64 " resident + %u free != %u frames", resident,
                       g->nfree, g->cfg.ram_pages);
        goto out;
    }
    if (g->pool >= 0 && !g->off) {
        struct tmem_stats st;
        if (tmem_pool_stats(g->client, g->pool, &st) == 0 && st.pages != fs) {
            error_text_set(err, errlen,
                           "frontswap holds %" PRIu64 " pages, the tmem pool %" PRIu64, fs,
                           st.pages);
            goto out;
        }
    }
    ret = 0;
out:
    pthread_mutex_unlock(&g->lock);
    return ret;
}

void swapsim_guest_destroy(struct swapsim_guest *g)
{
    if (!g)
        return;
    if (!g->off && g->sd)
        swapsim_guest_swapoff(g);
    swapsim_fsmap_destroy(g->fs);
    guest_replace_destroy(&g->rc);
    swapsim_swapdev_destroy(g->sd);
    if (g->own_dev_init)
        guest_device_destroy(&g->own_dev);
    free(g->pt_frame);
    free(g->pt_slot);
    free(g->pt_version);
    free(g->pt_flags);
    free(g->hist);
    free(g->hist_pos);
    free(g->ram);
    free(g->frame_owner);
    free(g->free_frames);
    free(g->scratch);
    free(g->expect);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

/* ------------------------------------------------------------ migration */

static uint64_t migrate_clock_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* What a migration keeps per slot. */
struct migrate_state {
    struct tmem_client *dest;
    int pool;
    uint8_t *sent;    /* [slots] the destination holds a copy we sent */
    uint8_t *refused; /* [slots] the source holds it, the destination refused it */
    struct swapsim_migrate_stats *st;
};

/* Under g->lock: write the page in g->scratch (slot s, owner v, checked)
 * to the swap file: it leaves frontswap for good. */
static int migrate_to_swapfile(struct swapsim_guest *g, uint32_t v, uint32_t s)
{
    int ret = swapsim_swapdev_write(g->sd, s, g->scratch);

    if (ret != 0)
        return fail(g, "migration: swap file write of slot %u failed: %s", s, strerror(-ret));
    count_disk_io(g, s, true);
    hist_add(g, v, EV_SHRINK_DISK, s);
    return 0;
}

/* Under g->lock: copy the frontswap state of slot s to the destination,
 * checking the page read from the source. */
static int migrate_slot(struct swapsim_guest *g, struct migrate_state *m, uint32_t s)
{
    uint32_t v = swapsim_swapdev_owner(g->sd, s);
    int r = swapsim_fsmap_copy_slot(g->fs, s, m->dest, m->pool, g->scratch);

    if (r == 1 || r == -ENOSPC || r == -ESTALE) {
        if (v == SWAPSIM_NONE)
            return fail(g, "migration: frontswap holds slot %u, which no page owns", s);
        if (verify(g, v, s, "frontswap (migration)", g->scratch) != 0)
            return -EIO;
    }
    switch (r) {
    case 1:
        m->st->pages_sent++;
        m->st->bytes_sent += g->page_size;
        if (m->sent[s])
            m->st->pages_resent++;
        m->sent[s] = 1;
        m->refused[s] = 0;
        return 0;
    case 0:
        if (m->sent[s])
            m->st->pages_flushed++;
        m->sent[s] = m->refused[s] = 0;
        return 0;
    case -ENOSPC:
    case -ENOMEM: /* an allocation failure is a refusal too (tmem.h) */
        /* a refused put leaves no older copy at the destination either */
        m->st->pages_refused++;
        m->sent[s] = 0;
        m->refused[s] = 1;
        return 0;
    case -ESTALE:
        /* the exclusive source could not take its page back: the swap
         * file gets it now, and any older destination copy goes */
        m->st->pages_to_swapfile++;
        m->refused[s] = 0;
        r = migrate_to_swapfile(g, v, s);
        if (r == 0)
            r = swapsim_fsmap_copy_slot(g->fs, s, m->dest, m->pool, g->scratch);
        m->sent[s] = 0;
        return r < 0 ? (g->failed ? r : fail(g, "migration: flush of slot %u at the "
                                               "destination failed (%s)", s, strerror(-r)))
                     : 0;
    default:
        return fail(g, "migration: copy of slot %u failed (%s)", s, strerror(-r));
    }
}

/* Under g->lock: take up to max changed slots and copy each. Returns how
 * many were copied, or a negative errno. */
static long migrate_batch(struct swapsim_guest *g, struct migrate_state *m, uint32_t *slots,
                          uint32_t max)
{
    uint32_t n = swapsim_fsmap_track_take(g->fs, slots, max);

    for (uint32_t i = 0; i < n; i++) {
        int r = migrate_slot(g, m, slots[i]);
        if (r < 0)
            return r;
    }
    return n;
}

/* Under g->lock, the guest stopped: the slots the destination refused
 * and the source still holds go to the swap file. */
static int migrate_refused_to_swapfile(struct swapsim_guest *g, struct migrate_state *m)
{
    uint32_t nslots = swapsim_swapdev_slots(g->sd);

    for (uint32_t s = 0; s < nslots; s++) {
        uint32_t v;
        int r;

        if (!m->refused[s] || !swapsim_fsmap_holds(g->fs, s))
            continue;
        v = swapsim_swapdev_owner(g->sd, s);
        r = swapsim_fsmap_take(g->fs, s, g->scratch);
        if (r != 0)
            return fail(g, "migration: frontswap load of page %u slot %u failed (%s): page lost",
                        v, s, strerror(-r));
        if (verify(g, v, s, "frontswap (migration)", g->scratch) != 0)
            return -EIO;
        r = migrate_to_swapfile(g, v, s);
        if (r != 0)
            return r;
        m->st->pages_to_swapfile++;
    }
    return 0;
}

int swapsim_guest_migrate(struct swapsim_guest *g, struct tmem_client *dest,
                          const struct swapsim_migrate_options *o,
                          struct swapsim_migrate_stats *st, char *err, size_t errlen)
{
    struct swapsim_migrate_options opt = { 8, 256, 64 };
    struct swapsim_migrate_stats local;
    struct migrate_state m = { dest, -1, NULL, NULL, st ? st : &local };
    uint32_t *slots = NULL, nslots, flags;
    uint64_t t0 = migrate_clock_ns(), t_stop;
    struct tmem_client *source;
    int source_pool, ret = 0;
    long n = 0;

    if (o) {
        opt.max_rounds = o->max_rounds ? o->max_rounds : opt.max_rounds;
        opt.stop_pages = o->stop_pages;
        opt.batch = o->batch ? o->batch : opt.batch;
    }
    memset(m.st, 0, sizeof(*m.st));
    pthread_mutex_lock(&g->lock);
    if (g->off || g->failed) {
        pthread_mutex_unlock(&g->lock);
        error_text_set(err, errlen, "guest %s: swapped off or failed: cannot migrate", g->name);
        return -EINVAL;
    }
    if (g->pool < 0) {
        pthread_mutex_unlock(&g->lock);
        error_text_set(err, errlen, "guest %s: frontswap is off: nothing to migrate", g->name);
        return -ENODEV;
    }
    if (tmem_page_size(tmem_client_store(dest)) != g->page_size) {
        pthread_mutex_unlock(&g->lock);
        error_text_set(err, errlen, "guest %s: the destination store's pages are %u bytes, "
                       "the guest's %u", g->name, tmem_page_size(tmem_client_store(dest)),
                       g->page_size);
        return -EINVAL;
    }
    flags = TMEM_POOL_PERSIST | (g->cfg.exclusive_loads ? TMEM_POOL_EXCLUSIVE_GETS : 0);
    m.pool = tmem_new_pool(dest, flags, NULL);
    nslots = swapsim_swapdev_slots(g->sd);
    m.sent = calloc(nslots, 1);
    m.refused = calloc(nslots, 1);
    slots = malloc((size_t)opt.batch * sizeof(*slots));
    if (m.pool < 0 || !m.sent || !m.refused || !slots) {
        ret = m.pool < 0 ? m.pool : -ENOMEM;
        error_text_set(err, errlen, "guest %s: migration: %s", g->name,
                       m.pool < 0 ? "cannot create the destination pool" : "out of memory");
        pthread_mutex_unlock(&g->lock);
        goto out;
    }
    ret = swapsim_fsmap_track_begin(g->fs);
    pthread_mutex_unlock(&g->lock);
    if (ret != 0) {
        error_text_set(err, errlen, "guest %s: migration: %s", g->name,
                       ret == -EBUSY ? "a migration is already running" : strerror(-ret));
        goto out;
    }

    /* Rounds: each copies the slots changed before it began (the first:
     * every slot held), in batches, the guest running between them. */
    for (uint32_t round = 0; round < opt.max_rounds; round++) {
        pthread_mutex_lock(&g->lock);
        uint64_t left = swapsim_fsmap_track_pending(g->fs);
        pthread_mutex_unlock(&g->lock);
        if (round > 0 && left <= opt.stop_pages)
            break;
        m.st->rounds++;
        while (left > 0) {
            pthread_mutex_lock(&g->lock);
            n = g->failed ? -EIO
                          : migrate_batch(g, &m, slots,
                                          (uint32_t)(left < opt.batch ? left : opt.batch));
            pthread_mutex_unlock(&g->lock);
            if (n <= 0) {
                ret = (int)n;
                break;
            }
            left -= (uint64_t)n;
        }
        if (ret < 0)
            break;
    }

    /* Stop and copy. */
    pthread_mutex_lock(&g->lock);
    t_stop = migrate_clock_ns();
    while (ret == 0 && !g->failed && (n = migrate_batch(g, &m, slots, opt.batch)) > 0)
        m.st->pages_at_stop += (uint64_t)n;
    if (ret == 0 && (g->failed || n < 0))
        ret = -EIO;
    if (ret == 0)
        ret = migrate_refused_to_swapfile(g, &m);
    swapsim_fsmap_track_end(g->fs);
    if (ret != 0) {
        error_text_set(err, errlen, "guest %s: migration failed: %s", g->name,
                       g->failed ? g->error : strerror(-ret));
        pthread_mutex_unlock(&g->lock);
        goto out;
    }
    source = g->client;
    source_pool = g->pool;
    swapsim_fsmap_switch(g->fs, dest, m.pool, g->cfg.exclusive_loads);
    g->client = dest;
    g->pool = m.pool;
    m.pool = -1; /* the guest's now */
    g->seen_no_room = 0;
    g->worker_running = false;
    g->worker_requeued = false;
    g->worker_pending = false;
    g->worker_credit = 0;
    tmem_client_set_pressure_callback(source, NULL, NULL);
    tmem_destroy_pool(source, source_pool);
    tmem_client_set_pressure_callback(dest, pressure_cb, g);
    m.st->pages_moved = swapsim_fsmap_pages(g->fs);
    m.st->stop_ns = migrate_clock_ns() - t_stop;
    pthread_mutex_unlock(&g->lock);
out:
    if (m.pool >= 0)
        tmem_destroy_pool(dest, m.pool);
    free(m.sent);
    free(m.refused);
    free(slots);
    m.st->total_ns = migrate_clock_ns() - t0;
    return ret;
}
