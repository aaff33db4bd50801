/*
 * tmemfs_mix.c - test helper (not a test by itself): a random mix of
 * write / append / read / truncate / O_TRUNC open / rename / unlink on a
 * few files through a tmemfs mount, each read checked byte for byte
 * against an in-memory model, while the tmem capacity is changed under it
 * (unlimited -> small -> 0 -> back) and the guest cache is pushed into
 * cleancache (drop_caches) through the mount's control directory.
 *
 * usage: tmemfs_mix DIR CTLDIR SEED OPS [DIR2 CTLDIR2]
 *   DIR     a directory inside the mount (created files live there)
 *   CTLDIR  the mount's control directory ("-" to skip capacity changes)
 *   DIR2, CTLDIR2  two-mount mode: the same directory seen through a
 *           second mount (of the same backing tree); every operation picks
 *           one of the two views at random (a rename stays in one view),
 *           capacity changes and drop_caches go to either control
 *           directory, and every read, through either view, is checked
 *           against the one model.
 * Environment: TMEMFS_MIX_MMAP=private makes some range reads go through
 * a fresh MAP_PRIVATE mapping (what works on a direct-I/O mount);
 * TMEMFS_MIX_MMAP=shared makes some reads and some writes inside the file
 * go through MAP_SHARED mappings, written back with msync (what a mount
 * with -o kcache supports: fsx's mapped reads and writes). Unset: no
 * mapping, and a seed gives the same run as before the mmap modes.
 * TMEMFS_MIX_RETRY_EIO=1 (for a mount with -o fault_backing_read/write,
 * tools/soak): a read or write that fails with EIO is retried until it
 * succeeds, as an application that retries does (an append that failed
 * is first cut back to the size before it, since half of it may have
 * landed; a positioned write is rewritten whole); the count of retries is
 * printed. The model stays exact: every retried operation ends done.
 * Exits 0 when every check passed, 1 on the first mismatch (printed).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIX_FILES 6
#define MIX_MAX (256 * 1024)
#define MIX_MAXIO 20000

struct mix_file {
    unsigned char *data; /* MIX_MAX bytes */
    size_t size;
    bool exists;
};

static uint64_t mix_rng;
/* 0: no mappings; 1: MAP_PRIVATE reads; 2: MAP_SHARED reads and writes */
static int mix_mmap;
/* TMEMFS_MIX_RETRY_EIO: retry EIO; retries counted */
static bool mix_retry_eio;
static long mix_eio_retries;

/* Was this failure (-1 with errno) an EIO to retry? Counts it. */
static bool mix_retry(void)
{
    if (!mix_retry_eio || errno != EIO)
        return false;
    mix_eio_retries++;
    return true;
}

/* pwrite all of buf at off, retrying EIO (mix_retry). */
static ssize_t mix_pwrite(int fd, const void *buf, size_t len, off_t off)
{
    ssize_t n;

    while ((n = pwrite(fd, buf, len, off)) < 0 && mix_retry())
        ;
    return n;
}

static uint64_t mix_next(void)
{
    uint64_t z = (mix_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t mix_below(size_t n)
{
    return n ? (size_t)(mix_next() % n) : 0;
}

static void mix_path(char *buf, size_t n, const char *dir, int i)
{
    snprintf(buf, n, "%s/f%d", dir, i);
}

static int mix_fail(long op, const char *what, int i, const char *detail)
{
    fprintf(stderr, "tmemfs_mix: op %ld: %s on f%d: %s\n", op, what, i, detail);
    return 1;
}

static int mix_ctl(const char *ctldir, const char *file, const char *val)
{
    char p[4096];
    int fd, rc = 0;

    if (!strcmp(ctldir, "-"))
        return 0;
    snprintf(p, sizeof(p), "%s/%s", ctldir, file);
    fd = open(p, O_WRONLY);
    if (fd < 0)
        return -1;
    if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
        rc = -1;
    close(fd);
    return rc;
}

/* Read [off, off + len) of fd into buf through a fresh mapping of the
 * whole file (size bytes). The bytes read, or -1 with errno. */
static ssize_t mix_mmap_read(int fd, size_t size, unsigned char *buf, size_t off, size_t len)
{
    unsigned char *map;

    if (off >= size || size == 0)
        return 0;
    if (len > size - off)
        len = size - off;
    map = mmap(NULL, size, PROT_READ, mix_mmap == 2 ? MAP_SHARED : MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED)
        return -1;
    memcpy(buf, map + off, len);
    munmap(map, size);
    return (ssize_t)len;
}

/* Read [off, off+len) of f through the mount and compare with the model. */
static int mix_check_read(long op, const char *dir, int i, struct mix_file *f, size_t off,
                          size_t len)
{
    char p[4096], msg[256];
    unsigned char *buf = malloc(len + 1);
    size_t want, got = 0;
    struct stat st;
    int fd, rc = 0;

    mix_path(p, sizeof(p), dir, i);
    fd = open(p, O_RDONLY);
    if (fd < 0) {
        free(buf);
        return mix_fail(op, "open for read", i, strerror(errno));
    }
    if (fstat(fd, &st) < 0 || (size_t)st.st_size != f->size) {
        snprintf(msg, sizeof(msg), "size %jd, model %zu", (intmax_t)st.st_size, f->size);
        rc = mix_fail(op, "fstat", i, msg);
        goto out;
    }
    want = off >= f->size ? 0 : (f->size - off < len ? f->size - off : len);
    if (mix_mmap && mix_below(2)) {
        ssize_t n = mix_mmap_read(fd, f->size, buf, off, len);
        if (n < 0) {
            rc = mix_fail(op, "mmap read", i, strerror(errno));
            goto out;
        }
        got = len = (size_t)n; /* the loop below has nothing left to do */
    }
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
        if (n < 0 && mix_retry())
            continue;
        if (n < 0) {
            rc = mix_fail(op, "pread", i, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got != want) {
        snprintf(msg, sizeof(msg), "read %zu bytes at %zu, model says %zu", got, off, want);
        rc = mix_fail(op, "read length", i, msg);
        goto out;
    }
    if (memcmp(buf, f->data + off, want) != 0) {
        size_t k = 0;
        while (buf[k] == f->data[off + k])
            k++;
        snprintf(msg, sizeof(msg), "byte %zu (page %zu): got %02x, model %02x", off + k,
                 (off + k) / 4096, buf[k], f->data[off + k]);
        rc = mix_fail(op, "STALE OR WRONG DATA", i, msg);
    }
out:
    close(fd);
    free(buf);
    return rc;
}

static void mix_fill(unsigned char *b, size_t n)
{
    size_t k;
    uint64_t v = mix_next();

    for (k = 0; k < n; k++) {
        if ((k & 7) == 0)
            v = mix_next();
        b[k] = (unsigned char)(v >> ((k & 7) * 8));
    }
}

int main(int argc, char **argv)
{
    struct mix_file files[MIX_FILES];
    unsigned char *wbuf;
    const char *dir, *ctldir, *dirs[2], *ctldirs[2];
    long ops, op;
    int i, nviews, rc = 1;
    static const char *const caps[] = { "unlimited", "65536", "0", "262144", "unlimited" };

    if (argc != 5 && argc != 7) {
        fprintf(stderr, "usage: tmemfs_mix DIR CTLDIR SEED OPS [DIR2 CTLDIR2]\n");
        return 2;
    }
    dirs[0] = argv[1];
    ctldirs[0] = argv[2];
    nviews = argc == 7 ? 2 : 1;
    dirs[1] = nviews == 2 ? argv[5] : argv[1];
    ctldirs[1] = nviews == 2 ? argv[6] : argv[2];
    mix_rng = strtoull(argv[3], NULL, 0);
    if (getenv("TMEMFS_MIX_MMAP"))
        mix_mmap = !strcmp(getenv("TMEMFS_MIX_MMAP"), "shared") ? 2
                   : !strcmp(getenv("TMEMFS_MIX_MMAP"), "private") ? 1 : 0;
    mix_retry_eio = getenv("TMEMFS_MIX_RETRY_EIO") && !strcmp(getenv("TMEMFS_MIX_RETRY_EIO"), "1");
    ops = strtol(argv[4], NULL, 0);
    wbuf = malloc(MIX_MAXIO);
    for (i = 0; i < MIX_FILES; i++) {
        files[i].data = calloc(1, MIX_MAX + MIX_MAXIO);
        files[i].size = 0;
        files[i].exists = false;
    }
    for (op = 0; op < ops; op++) {
        int kind = (int)mix_below(100);
        char p[4096], q[4096];
        struct mix_file *f;
        int fd;

        i = (int)mix_below(MIX_FILES);
        f = &files[i];
        /* One mount: no extra random draw, so a seed gives the same run
         * as before two-mount mode existed. */
        if (nviews == 2) {
            int v = (int)mix_below(2);
            dir = dirs[v];
            ctldir = ctldirs[v];
        } else {
            dir = dirs[0];
            ctldir = ctldirs[0];
        }
        mix_path(p, sizeof(p), dir, i);
        if (op % 50 == 25 && mix_ctl(ctldir, "capacity", caps[(op / 50) % 5]) < 0) {
            fprintf(stderr, "tmemfs_mix: cannot set capacity\n");
            goto out;
        }
        if (op % 37 == 36 && mix_ctl(ctldir, "drop_caches", op % 74 == 36 ? "1" : "3") < 0) {
            fprintf(stderr, "tmemfs_mix: cannot drop caches\n");
            goto out;
        }
        if (!f->exists || kind < 30) { /* write (creates) */
            size_t off = mix_below(f->exists ? MIX_MAX : 8192);
            size_t len = 1 + mix_below(MIX_MAXIO);
            if (off + len > MIX_MAX)
                len = MIX_MAX - off;
            fd = open(p, (mix_mmap == 2 ? O_RDWR : O_WRONLY) | O_CREAT, 0644);
            if (fd < 0)
                return mix_fail(op, "open for write", i, strerror(errno));
            mix_fill(wbuf, len);
            if (mix_mmap == 2 && f->exists && off + len <= f->size && mix_below(2)) {
                /* inside the file: through a shared mapping */
                unsigned char *map = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED,
                                          fd, 0);
                if (map == MAP_FAILED)
                    return mix_fail(op, "mmap for write", i, strerror(errno));
                memcpy(map + off, wbuf, len);
                if (msync(map, f->size, MS_SYNC) < 0)
                    return mix_fail(op, "msync", i, strerror(errno));
                munmap(map, f->size);
            } else if (mix_pwrite(fd, wbuf, len, (off_t)off) != (ssize_t)len) {
                return mix_fail(op, "pwrite", i, strerror(errno));
            }
            close(fd);
            if (!f->exists) {
                memset(f->data, 0, MIX_MAX);
                f->size = 0;
            }
            if (off > f->size)
                memset(f->data + f->size, 0, off - f->size);
            memcpy(f->data + off, wbuf, len);
            if (off + len > f->size)
                f->size = off + len;
            f->exists = true;
        } else if (kind < 38) { /* append */
            size_t len = 1 + mix_below(5000);
            if (f->size + len > MIX_MAX)
                continue;
            fd = open(p, O_WRONLY | O_APPEND);
            if (fd < 0)
                return mix_fail(op, "open O_APPEND", i, strerror(errno));
            mix_fill(wbuf, len);
            while (write(fd, wbuf, len) != (ssize_t)len) {
                if (!mix_retry() || ftruncate(fd, (off_t)f->size) < 0)
                    return mix_fail(op, "append", i, strerror(errno));
            }
            close(fd);
            memcpy(f->data + f->size, wbuf, len);
            f->size += len;
        } else if (kind < 70) { /* read a range */
            size_t off = mix_below(f->size + 5000);
            if (mix_check_read(op, dir, i, f, off, 1 + mix_below(3 * MIX_MAXIO)))
                goto out;
        } else if (kind < 78) { /* read it all */
            if (mix_check_read(op, dir, i, f, 0, MIX_MAX))
                goto out;
        } else if (kind < 86) { /* truncate (shrink or grow) */
            size_t ns = mix_below(MIX_MAX);
            if (truncate(p, (off_t)ns) < 0)
                return mix_fail(op, "truncate", i, strerror(errno));
            if (ns > f->size)
                memset(f->data + f->size, 0, ns - f->size);
            f->size = ns;
        } else if (kind < 89) { /* O_TRUNC open + short write */
            size_t len = mix_below(3000);
            fd = open(p, O_WRONLY | O_TRUNC);
            if (fd < 0)
                return mix_fail(op, "open O_TRUNC", i, strerror(errno));
            mix_fill(wbuf, len);
            if (mix_pwrite(fd, wbuf, len, 0) != (ssize_t)len)
                return mix_fail(op, "write after O_TRUNC", i, strerror(errno));
            close(fd);
            memcpy(f->data, wbuf, len);
            f->size = len;
        } else if (kind < 95) { /* rename over another file (or to a free name) */
            int j = (int)mix_below(MIX_FILES);
            unsigned char *t;
            if (j == i)
                continue;
            mix_path(q, sizeof(q), dir, j);
            if (rename(p, q) < 0)
                return mix_fail(op, "rename", i, strerror(errno));
            t = files[j].data;
            files[j] = *f;
            f->data = t;
            f->exists = false;
            f->size = 0;
        } else { /* unlink */
            if (unlink(p) < 0)
                return mix_fail(op, "unlink", i, strerror(errno));
            f->exists = false;
            f->size = 0;
        }
    }
    (void)mix_ctl(ctldirs[0], "capacity", "unlimited");
    for (int v = 0; v < nviews; v++) {
        for (i = 0; i < MIX_FILES; i++) {
            char p[4096];
            struct stat st;
            mix_path(p, sizeof(p), dirs[v], i);
            if (files[i].exists) {
                if (mix_check_read(ops, dirs[v], i, &files[i], 0, MIX_MAX))
                    goto out;
            } else if (lstat(p, &st) == 0 || errno != ENOENT) {
                mix_fail(ops, "final lstat", i, "exists but the model says it was removed");
                goto out;
            }
        }
    }
    printf("tmemfs_mix: %ld operations%s, every read matched the model", ops,
           nviews == 2 ? " through two mounts" : "");
    if (mix_retry_eio)
        printf(" (%ld EIO retries)", mix_eio_retries);
    printf("\n");
    rc = 0;
out:
    for (i = 0; i < MIX_FILES; i++)
        free(files[i].data);
    free(wbuf);
    return rc;
}
