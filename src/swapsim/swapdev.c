/*
 * swapdev.c - the swap device: a real file and its slot allocator.
 *
 * Models: a guest's swap partition. Pages are written and read with
 * pwrite/pread at slot * page_size; the file is created unlinked (O_TMPFILE,
 * or mkstemp + unlink) and sized with ftruncate, so it is sparse and leaves
 * nothing behind.
 * Data structures: a bitmap of allocated slots (64 per word) and a next-fit
 * hint (the word after the last allocation), like the kernel's swap_map
 * scan; a count of slots in use.
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
    uint64_t *bitmap;
};

int swapsim_swapdev_create(const char *dir, uint32_t slots, uint32_t page_size,
                           struct swapsim_swapdev **out, char *err, size_t errlen)
{
    struct swapsim_swapdev *sd = NULL;
    char path[4096];
    int ret;

    *out = NULL;
    if (slots == 0 || page_size == 0) {
        swapsim_seterr(err, errlen, "swap device: size must be at least one page");
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
    if (!sd->bitmap)
        goto nomem;
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
        swapsim_seterr(err, errlen, "swap device: cannot create a file in %s: %s", dir,
                       strerror(errno));
        goto fail;
    }
    if (ftruncate(sd->fd, (off_t)slots * page_size) != 0) {
        ret = -errno;
        swapsim_seterr(err, errlen, "swap device: cannot size the file in %s to %u pages: %s",
                       dir, slots, strerror(errno));
        goto fail;
    }
    *out = sd;
    return 0;
nomem:
    ret = -ENOMEM;
    swapsim_seterr(err, errlen, "swap device: out of memory");
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
    free(sd);
}

int swapsim_swapdev_alloc(struct swapsim_swapdev *sd, uint32_t *slot)
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
        return 0;
    }
    return -ENOSPC;
}

int swapsim_swapdev_free(struct swapsim_swapdev *sd, uint32_t slot)
{
    if (!swapsim_swapdev_in_use(sd, slot))
        return -EINVAL;
    sd->bitmap[slot / 64] &= ~(1ULL << (slot % 64));
    sd->used--;
    return 0;
}

bool swapsim_swapdev_in_use(const struct swapsim_swapdev *sd, uint32_t slot)
{
    return slot < sd->slots && (sd->bitmap[slot / 64] >> (slot % 64)) & 1;
}

uint32_t swapsim_swapdev_used(const struct swapsim_swapdev *sd)
{
    return sd->used;
}

uint32_t swapsim_swapdev_slots(const struct swapsim_swapdev *sd)
{
    return sd->slots;
}

/* Move one whole page between page and slot (pread or pwrite), retrying
 * short transfers and EINTR. Returns 0 or -errno (-EIO: end of file). */
static int swapsim_swapdev_transfer(struct swapsim_swapdev *sd, uint32_t slot, char *page,
                                    bool write)
{
    size_t done = 0;
    if (slot >= sd->slots)
        return -EINVAL;
    while (done < sd->page_size) {
        off_t at = (off_t)slot * sd->page_size + (off_t)done;
        ssize_t n = write ? pwrite(sd->fd, page + done, sd->page_size - done, at)
                          : pread(sd->fd, page + done, sd->page_size - done, at);
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
    return swapsim_swapdev_transfer(sd, slot, (char *)(uintptr_t)page, true);
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
