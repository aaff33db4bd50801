/*
 * fuzz_snapshot.c - libFuzzer target: the save file reader and restore
 * (src/snapshot). The input's first byte picks a mode, the rest is the
 * file:
 *   bit 0 clear: the bytes as they are (almost every mutation then fails
 *                a checksum: the reader's framing and checksum paths);
 *   bit 0 set:   every record's checksum is recomputed first (walking
 *                the records as the format lays them out), so mutations
 *                reach the checks of every field, the lz4 decoding, the
 *                counts, the duplicate handles and the puts.
 *   bit 1:       the store's capacity: set, 96 KiB (less than the store's
 *                fixed costs, a record slab chunk and a pool: every put is
 *                refused and the restore rolls back); clear, 1 MiB.
 * The file (a memfd, read through /proc/self/fd) is restored into a fresh
 * store of 512-byte pages. Checked: a refused restore wrote a one-line
 * message and left the client without pools and the store without pages;
 * an accepted one put exactly the pages it counted; the store's
 * invariants hold (tmem_check); nothing leaks (ASan's leak check).
 * Seeds (tools/fuzz/seeds/snapshot): saves of 0 to 3 pools in each mode.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/tmem.h"
#include "snapshot/snapshot.h"
#include "snapshot/snapshot_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Recompute the checksum of n bytes at b + off, if the checksum fits. */
static void fix(unsigned char *b, size_t len, size_t off, size_t n)
{
    if (off + n + SNAPSHOT_CHECKSUM_BYTES <= len)
        snapshot_put64(b + off + n, snapshot_checksum(b + off, n));
}

/* Make every record's checksum right, walking the layout as far as it
 * goes. */
static void fix_checksums(unsigned char *b, size_t len)
{
    size_t off = SNAPSHOT_HEADER_BYTES;
    uint32_t pools;

    if (len < SNAPSHOT_HEADER_BYTES)
        return;
    fix(b, len, 0, SNAPSHOT_H_CHECKSUM);
    pools = snapshot_get32(b + SNAPSHOT_H_POOLS);
    for (uint32_t i = 0; i < pools && off + SNAPSHOT_POOL_BYTES <= len; i++) {
        fix(b, len, off, SNAPSHOT_P_CHECKSUM);
        off += SNAPSHOT_POOL_BYTES;
    }
    while (off + 4 <= len) {
        uint32_t tag = snapshot_get32(b + off);
        if (tag == SNAPSHOT_TAG_END) {
            fix(b, len, off, SNAPSHOT_E_CHECKSUM);
            return;
        }
        if (tag != SNAPSHOT_TAG_PAGE || off + SNAPSHOT_PAGE_HEAD_BYTES > len)
            return;
        uint32_t n = snapshot_get32(b + off + SNAPSHOT_G_LENGTH);
        if (n > len)
            return;
        fix(b, len, off, SNAPSHOT_PAGE_HEAD_BYTES + n);
        off += SNAPSHOT_PAGE_HEAD_BYTES + n + SNAPSHOT_CHECKSUM_BYTES;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tmem_config cfg;
    struct tmem *tm;
    struct tmem_client *c;
    struct tmem_stats ts;
    struct snapshot_stats st;
    unsigned char *b;
    char path[64], err[1024] = "", why[256];
    int fd, rc;

    if (size < 1)
        return 0;
    b = malloc(size);
    assert(b);
    memcpy(b, data + 1, size - 1);
    if (data[0] & 1)
        fix_checksums(b, size - 1);
    fd = memfd_create("fuzz_snapshot", 0);
    assert(fd >= 0);
    assert(write(fd, b, size - 1) == (ssize_t)(size - 1));
    free(b);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    tmem_config_init(&cfg);
    cfg.page_size = 512;
    cfg.capacity_bytes = (data[0] & 2) ? 96 * 1024 : 1024 * 1024;
    tm = tmem_create(&cfg);
    assert(tm);
    c = tmem_client_create(tm, "fuzz");
    assert(c);
    rc = snapshot_restore(c, path, NULL, &st, err, sizeof(err));
    assert(tmem_stats(tm, &ts) == 0);
    if (rc != 0) {
        assert(err[0] != '\0' && !strchr(err, '\n'));
        assert(tmem_client_pools(c, NULL, 0) == 0);
        assert(ts.pages == 0);
    } else {
        assert(ts.pages == st.pages);
        assert(tmem_client_pools(c, NULL, 0) == (int)st.pools);
    }
    assert(tmem_check(tm, why, sizeof(why)) == 0);
    tmem_destroy(tm);
    close(fd);
    return 0;
}
