/*
 * tmemfs_race.c - test helper (not a test by itself): readers and writers
 * racing on one file through a tmemfs mount, checking the staleness rule
 * with real concurrency: once a write has returned, no read that starts
 * after it returns the data it replaced.
 *
 * usage: tmemfs_race FILE BLOCKS SECONDS WRITERS READERS [READ_FILE]
 *   READ_FILE  the readers' path to the same file (through a second mount
 *              of the same backing file, e.g. one sharing the pool);
 *              default FILE
 *
 * The file has BLOCKS blocks of 4 KiB; block b always holds one 16-byte
 * record (b, version) repeated, written whole by one pwrite. Writers
 * (processes) pick blocks at random and write version + 1 of each; after
 * the pwrite returns they publish the version in a shared table (an
 * anonymous shared mapping). Readers (processes) pick a block, note the
 * published version, read the block, and fail if the block is not one
 * whole record of its own number, or older than the version published
 * before the read began. (A read racing a write of the same block may see
 * part of each version, on the backing filesystem itself too: every
 * record must name the block and none may be older than the published
 * version.) A guest cache much smaller than the file keeps
 * evictions, cleancache puts and gets and invalidations running all the
 * time. Exits 0 after SECONDS with every read checked, 1 on the first
 * violation (printed), 2 on bad usage or set-up failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/rng.h"

#define BLOCK 4096

struct shared {
    _Atomic uint64_t failed;
    _Atomic uint64_t reads, writes;
    _Atomic uint64_t version[]; /* published: written and returned */
};

static void fill(unsigned char *b, uint64_t block, uint64_t version)
{
    for (int k = 0; k < BLOCK; k += 16) {
        memcpy(b + k, &block, 8);
        memcpy(b + k + 8, &version, 8);
    }
}

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int writer(const char *path, uint64_t blocks, double until, struct shared *sh,
                  uint64_t seed, int id, int nwriters)
{
    unsigned char b[BLOCK];
    int fd = open(path, O_WRONLY);

    if (fd < 0)
        return 2;
    while (now() < until && !atomic_load(&sh->failed)) {
        /* each writer owns the blocks = id mod nwriters: versions of a
         * block only grow */
        uint64_t blk = rng_below(&seed, blocks / (uint64_t)nwriters) * (uint64_t)nwriters + (uint64_t)id;
        uint64_t v = atomic_load(&sh->version[blk]) + 1;

        fill(b, blk, v);
        if (pwrite(fd, b, BLOCK, (off_t)(blk * BLOCK)) != BLOCK) {
            fprintf(stderr, "tmemfs_race: write of block %" PRIu64 ": %s\n", blk, strerror(errno));
            atomic_store(&sh->failed, 1);
            break;
        }
        atomic_store(&sh->version[blk], v);
        atomic_fetch_add(&sh->writes, 1);
    }
    close(fd);
    return 0;
}

static int reader(const char *path, uint64_t blocks, double until, struct shared *sh,
                  uint64_t seed)
{
    unsigned char b[BLOCK];
    uint64_t got;
    int fd = open(path, O_RDONLY);

    if (fd < 0)
        return 2;
    while (now() < until && !atomic_load(&sh->failed)) {
        uint64_t blk = rng_below(&seed, blocks), floor = atomic_load(&sh->version[blk]);

        if (pread(fd, b, BLOCK, (off_t)(blk * BLOCK)) != BLOCK) {
            fprintf(stderr, "tmemfs_race: read of block %" PRIu64 ": %s\n", blk, strerror(errno));
            atomic_store(&sh->failed, 1);
            break;
        }
        for (int k = 0; k < BLOCK && !atomic_load(&sh->failed); k += 16) {
            uint64_t id;
            memcpy(&id, b + k, 8);
            memcpy(&got, b + k + 8, 8);
            if (id != blk) {
                fprintf(stderr, "tmemfs_race: block %" PRIu64 " holds a record of block %" PRIu64
                        " at byte %d\n", blk, id, k);
                atomic_store(&sh->failed, 1);
            } else if (got < floor) {
                fprintf(stderr,
                        "tmemfs_race: STALE: block %" PRIu64 " read version %" PRIu64
                        " (byte %d) after version %" PRIu64 " had been written\n",
                        blk, got, k, floor);
                atomic_store(&sh->failed, 1);
            }
        }
        atomic_fetch_add(&sh->reads, 1);
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t blocks;
    double seconds, until;
    int writers, readers, fd, rc = 0;
    struct shared *sh;
    size_t shsize;
    unsigned char b[BLOCK];

    if ((argc != 6 && argc != 7) || (blocks = strtoull(argv[2], NULL, 0)) == 0 ||
        (seconds = strtod(argv[3], NULL)) <= 0 || (writers = atoi(argv[4])) <= 0 ||
        (readers = atoi(argv[5])) <= 0 || blocks < (uint64_t)writers) {
        fprintf(stderr, "usage: tmemfs_race FILE BLOCKS SECONDS WRITERS READERS [READ_FILE]\n");
        return 2;
    }
    shsize = sizeof(*sh) + blocks * sizeof(sh->version[0]);
    sh = mmap(NULL, shsize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (sh == MAP_FAILED || fd < 0) {
        fprintf(stderr, "tmemfs_race: set-up: %s\n", strerror(errno));
        return 2;
    }
    for (uint64_t blk = 0; blk < blocks; blk++) {
        fill(b, blk, 0);
        if (pwrite(fd, b, BLOCK, (off_t)(blk * BLOCK)) != BLOCK)
            return 2;
    }
    close(fd);
    until = now() + seconds;
    for (int i = 0; i < writers + readers; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(i < writers ? writer(argv[1], blocks, until, sh, 1000 + (uint64_t)i, i, writers)
                              : reader(argv[argc == 7 ? 6 : 1], blocks, until, sh,
                                       2000 + (uint64_t)i));
        if (pid < 0)
            return 2;
    }
    for (int i = 0; i < writers + readers; i++) {
        int st;
        if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = 2;
    }
    if (atomic_load(&sh->failed))
        return 1;
    if (rc)
        return rc;
    printf("tmemfs_race: %" PRIu64 " reads and %" PRIu64
           " writes by %d readers and %d writers, no stale record\n",
           atomic_load(&sh->reads), atomic_load(&sh->writes), readers, writers);
    return 0;
}
