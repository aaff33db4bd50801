/*
 * swapdev.c - the swap device: a real file, its slot allocator and its
 * slot table.
 *
 * Models: a guest's swap partition and the kernel's per-slot swap state
 * (swap_map and the swap cache's slot -> page link). Pages are written and
 * read with pwrite/pread at slot * page_size; the file is created unlinked
 * (O_TMPFILE, or mkstemp + unlink) and sized with ftruncate, so it is
 * sparse and leaves nothing behind. The slot table says, per slot, which
 * virtual page owns it (set by alloc, cleared by free) and whether the file
 * holds the slot's page (set by a write, cleared by free): the guest's swap
 * state, written only here. Whether frontswap holds a copy is frontswap's
 * own record (fsmap.c), not the device's. A slot may instead be marked
 * zero (the kernel's per-slot zeromap, mm/swapfile.c, since 6.12): its
 * page is all zeros, kept as that bit alone, with no I/O (set by
 * mark_zero, cleared by free or a write).
 * Data structures: a bitmap of allocated slots (64 per word) and a next-fit
 * hint (the word of the last allocation), like the kernel's swap_map scan;
 * a count of slots in use; the slot table: an owner array (virtual page or
 * SWAPSIM_NONE), an on-disk bitmap and a zero bitmap, indexed by slot.
 * Faults (test switches, swapsim_swapdev_set_faults): a write and a read
 * struct fault (common/fault.h) each decide, once per page transfer,
 * whether it fails with EIO (or ENOSPC for writes) before any byte moves,
 * or goes short: each of its pread/pwrite calls then asks for at most half
 * of what is left, so the transfer loop's completion of short I/O is what
 * gets the page through. A failed write leaves the slot's on-disk state
 * as it was.
 * Locking: none; the owning guest calls it under its own lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "swapsim/swapsim.h"
#include "swapsim/swapsim_internal.h"

struct swapsim_swapdev {
    int fd;
    uint32_t slots, page_size, used;
    uint32_t nwords, hint;
    uint64_t *bitmap;  /* [nwords] allocated slots */
    uint64_t *on_disk; /* [nwords] slots whose page the file holds */
    uint64_t *zero;    /* [nwords] slots whose page is all zeros (no I/O) */
    uint32_t *owner;   /* [slots] virtual page owning the slot, or SWAPSIM_NONE */
    struct fault write_fault, read_fault; /* injected faults (off unless set) */
    enum swapsim_io_fault_kind write_kind, read_kind;
};

static bool swapsim_swapdev_bit(const uint64_t *bits, uint32_t slot)
{
    return (bits[slot / 64] >> (slot % 64)) & 1;
}

int swapsim_swapdev_create(const char *dir, uint32_t slots, uint32_t page_size,
                           struct swapsim_swapdev **out, char *err, size_t errlen)
{
    struct swapsim_swapdev *sd = NULL;
    char path[4096];
    int ret;

    *out = NULL;
    if (slots == 0 || page_size == 0) {
        error_text_set(err, errlen, "swap device: size must be at least one page");
        return -EINVAL;
    }
    if (!dir)
        dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    sd = calloc(1, sizeof(*sd));
    if (!sd)
        goto nomem;
    sd->fd = -1;
    sd->slots = slots;
    sd->page_size = page_size;
    sd->nwords = (slots + 63) / 64;
    sd->bitmap = calloc(sd->nwords, sizeof(uint64_t));
    sd->on_disk = calloc(sd->nwords, sizeof(uint64_t));
    sd->zero = calloc(sd->nwords, sizeof(uint64_t));
    sd->owner = malloc((size_t)slots * sizeof(uint32_t));
    if (!sd->bitmap || !sd->on_disk || !sd->zero || !sd->owner)
        goto nomem;
    for (uint32_t i = 0; i < slots; i++)
        sd->owner[i] = SWAPSIM_NONE;
#ifdef O_TMPFILE
    sd->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
    if (sd->fd < 0) {
        snprintf(path, sizeof(path), "%s/tmem-swapsim-XXXXXX", dir);
        sd->fd = mkstemp(path);
        if (sd->fd >= 0)
            unlink(path);
    }
    if (sd->fd < 0) {
        ret = -errno;
        error_text_set(err, errlen, "swap device: cannot create a file in %s: %s", dir,
                       strerror(errno));
        goto fail;
    }
    if (ftruncate(sd->fd, (off_t)slots * page_size) != 0) {
        ret = -errno;
        error_text_set(err, errlen, "swap device: cannot size the file in %s to %u pages: %s",
                       dir, slots, strerror(errno));
        goto fail;
    }
    *out = sd;
    return 0;
nomem:
    ret = -ENOMEM;
    error_text_set(err, errlen, "swap device: out of memory");
fail:
    swapsim_swapdev_destroy(sd);
    return ret;
}

void swapsim_swapdev_destroy(struct swapsim_swapdev *sd)
{
    if (!sd)
        return;
    if (sd->fd >= 0)
        close(sd->fd);
    free(sd->bitmap);
    free(sd->on_disk);
    free(sd->zero);
    free(sd->owner);
    free(sd);
}

int swapsim_swapdev_alloc(struct swapsim_swapdev *sd, uint32_t owner, uint32_t *slot)
{
    if (sd->used >= sd->slots)
        return -ENOSPC;
    for (uint32_t n = 0; n < sd->nwords; n++) {
        uint32_t w = (sd->hint + n) % sd->nwords;
        uint64_t free_bits = ~sd->bitmap[w];
        if (w == sd->nwords - 1 && sd->slots % 64)
            free_bits &= (1ULL << (sd->slots % 64)) - 1;
        if (!free_bits)
            continue;
        uint32_t bit = (uint32_t)__builtin_ctzll(free_bits);
        sd->bitmap[w] |= 1ULL << bit;
        sd->used++;
        sd->hint = w;
        *slot = w * 64 + bit;
        sd->owner[*slot] = owner;
        return 0;
    }
    return -ENOSPC;
}

int swapsim_swapdev_free(struct swapsim_swapdev *sd, uint32_t slot)
{
    if (!swapsim_swapdev_in_use(sd, slot))
        return -EINVAL;
    sd->bitmap[slot / 64] &= ~(1ULL << (slot % 64));
    sd->on_disk[slot / 64] &= ~(1ULL << (slot % 64));
    sd->zero[slot / 64] &= ~(1ULL << (slot % 64));
    sd->owner[slot] = SWAPSIM_NONE;
    sd->used--;
    return 0;
}

bool swapsim_swapdev_in_use(const struct swapsim_swapdev *sd, uint32_t slot)
{
    return slot < sd->slots && swapsim_swapdev_bit(sd->bitmap, slot);
}

uint32_t swapsim_swapdev_owner(const struct swapsim_swapdev *sd, uint32_t slot)
{
    return slot < sd->slots ? sd->owner[slot] : SWAPSIM_NONE;
}

bool swapsim_swapdev_on_disk(const struct swapsim_swapdev *sd, uint32_t slot)
{
    return slot < sd->slots && swapsim_swapdev_bit(sd->on_disk, slot);
}

int swapsim_swapdev_mark_zero(struct swapsim_swapdev *sd, uint32_t slot)
{
    if (!swapsim_swapdev_in_use(sd, slot))
        return -EINVAL;
    sd->zero[slot / 64] |= 1ULL << (slot % 64);
    return 0;
}

bool swapsim_swapdev_is_zero(const struct swapsim_swapdev *sd, uint32_t slot)
{
    return slot < sd->slots && swapsim_swapdev_bit(sd->zero, slot);
}

uint32_t swapsim_swapdev_used(const struct swapsim_swapdev *sd)
{
    return sd->used;
}

uint32_t swapsim_swapdev_slots(const struct swapsim_swapdev *sd)
{
    return sd->slots;
}

int swapsim_io_fault_parse(const char *text, bool write, struct swapsim_io_fault *out,
                           char *err, size_t errlen)
{
    static const struct {
        const char *prefix;
        enum swapsim_io_fault_kind kind;
    } kinds[] = {
        {"eio:", SWAPSIM_IO_FAULT_EIO},
        {"enospc:", SWAPSIM_IO_FAULT_ENOSPC},
        {"short:", SWAPSIM_IO_FAULT_SHORT},
    };
    struct swapsim_io_fault f = {.kind = SWAPSIM_IO_FAULT_EIO};
    const char *spec = text ? text : "";

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t len = strlen(kinds[i].prefix);
        if (strncmp(spec, kinds[i].prefix, len) == 0) {
            f.kind = kinds[i].kind;
            spec += len;
            break;
        }
    }
    if (!write && f.kind == SWAPSIM_IO_FAULT_ENOSPC) {
        error_text_set(err, errlen, "'%s': enospc is a write fault (reads: eio or short)",
                       text);
        return -EINVAL;
    }
    if (fault_parse(spec, &f.when, err, errlen) != 0)
        return -EINVAL;
    *out = f;
    return 0;
}

void swapsim_swapdev_set_faults(struct swapsim_swapdev *sd, const struct swapsim_io_fault *write,
                                const struct swapsim_io_fault *read)
{
    static const struct swapsim_io_fault none;

    if (!write)
        write = &none;
    if (!read)
        read = &none;
    fault_init(&sd->write_fault, &write->when);
    fault_init(&sd->read_fault, &read->when);
    sd->write_kind = write->kind;
    sd->read_kind = read->kind;
}

/* Move one whole page between page and an allocated slot (pread or
 * pwrite), retrying short transfers and EINTR. Returns 0 or -errno (-EIO:
 * end of file; -EINVAL: the slot is not allocated; an injected fault's
 * -EIO or -ENOSPC). */
static int swapsim_swapdev_transfer(struct swapsim_swapdev *sd, uint32_t slot, char *page,
                                    bool write)
{
    size_t done = 0;
    bool go_short = false;

    if (!swapsim_swapdev_in_use(sd, slot))
        return -EINVAL;
    if (fault_hit(write ? &sd->write_fault : &sd->read_fault)) {
        switch (write ? sd->write_kind : sd->read_kind) {
        case SWAPSIM_IO_FAULT_SHORT:
            go_short = true;
            break;
        case SWAPSIM_IO_FAULT_ENOSPC:
            return -ENOSPC;
        default:
            return -EIO;
        }
    }
    while (done < sd->page_size) {
        off_t at = (off_t)slot * sd->page_size + (off_t)done;
        size_t want = sd->page_size - done;
        if (go_short && want > 1)
            want /= 2; /* a short transfer: at most half of what is left */
        ssize_t n = write ? pwrite(sd->fd, page + done, want, at)
                          : pread(sd->fd, page + done, want, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        done += (size_t)n;
    }
    return 0;
}

int swapsim_swapdev_write(struct swapsim_swapdev *sd, uint32_t slot, const void *page)
{
    int ret = swapsim_swapdev_transfer(sd, slot, (char *)(uintptr_t)page, true);
    if (ret == 0) {
        sd->on_disk[slot / 64] |= 1ULL << (slot % 64);
        sd->zero[slot / 64] &= ~(1ULL << (slot % 64));
    }
    return ret;
}

int swapsim_swapdev_read(struct swapsim_swapdev *sd, uint32_t slot, void *page)
{
    return swapsim_swapdev_transfer(sd, slot, page, false);
}

int swapsim_swapdev_corrupt(struct swapsim_swapdev *sd, uint32_t slot)
{
    char junk[64];
    memset(junk, 0xa5, sizeof(junk));
    if (slot >= sd->slots)
        return -EINVAL;
    if (pwrite(sd->fd, junk, sizeof(junk), (off_t)slot * sd->page_size + 100) !=
        (ssize_t)sizeof(junk))
        return -EIO;
    return 0;
}
