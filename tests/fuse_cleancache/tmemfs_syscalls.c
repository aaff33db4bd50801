/*
 * tmemfs_syscalls.c - checks of the passthrough system calls a shell cannot
 * make, run by tmemfs_passthrough_syscalls.sh against a live mount.
 *
 * usage: tmemfs_syscalls MOUNT SOURCE   (MOUNT = tmemfs over SOURCE)
 *
 * Each check names the rule it checks; the first failure prints one line
 * and exits 1. Pages are read through the mount before each change so the
 * change must invalidate the guest cache and cleancache (tmemfs is mounted
 * with a guest cache smaller than the files, so some pages are in each).
 * Rules:
 *  - renameat2(RENAME_NOREPLACE) over an existing name fails with EEXIST
 *    and changes nothing;
 *  - renameat2(RENAME_EXCHANGE) swaps two files, and reads through the
 *    mount then return the swapped contents (no stale cached page);
 *  - copy_file_range into a cached file: reads return the copied bytes,
 *    also after drop_caches;
 *  - flock: a second exclusive lock on another open file fails with
 *    EWOULDBLOCK while the first is held, and succeeds after it is freed;
 *  - statfs through the mount reports the backing filesystem's block size
 *    and block count;
 *  - errors come back as the backing errno (ENOENT, ENOTDIR, EISDIR);
 *  - an outside change to a backing file is seen by a pread on a
 *    descriptor opened through the mount before the change, with no stat
 *    in between (the read path checks the backing file, not only
 *    getattr and open).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define PAGE 4096
#define PAGES 64 /* per file: larger than the test's guest cache */

static const char *mount_dir, *source_dir;

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tmemfs_syscalls: FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static char *path_in(const char *dir, const char *name)
{
    static char buf[4][4096];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
    return p;
}

/* Page i of a file tagged 'tag': every byte says which file and page. */
static void fill(unsigned char *page, int tag, int i)
{
    for (int j = 0; j < PAGE; j++)
        page[j] = (unsigned char)(tag * 31 + i * 7 + j % 251);
}

static void write_file(const char *path, int tag)
{
    unsigned char page[PAGE];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        fail("create %s: %s", path, strerror(errno));
    for (int i = 0; i < PAGES; i++) {
        fill(page, tag, i);
        if (pwrite(fd, page, PAGE, (off_t)i * PAGE) != PAGE)
            fail("write %s: %s", path, strerror(errno));
    }
    close(fd);
}

/* Read the whole file at path and check every page is tag's. */
static void expect_file(const char *rule, const char *path, int tag)
{
    unsigned char want[PAGE], got[PAGE];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fail("%s: open %s: %s", rule, path, strerror(errno));
    for (int i = 0; i < PAGES; i++) {
        fill(want, tag, i);
        if (pread(fd, got, PAGE, (off_t)i * PAGE) != PAGE)
            fail("%s: read %s page %d: %s", rule, path, i, strerror(errno));
        if (memcmp(want, got, PAGE) != 0)
            fail("%s: %s page %d has stale or wrong bytes", rule, path, i);
    }
    close(fd);
}

static void drop_caches(void)
{
    int fd = open(path_in(mount_dir, ".tmemfs/drop_caches"), O_WRONLY);
    if (fd < 0 || write(fd, "3", 1) != 1)
        fail("drop_caches: %s", strerror(errno));
    close(fd);
}

static void check_rename_noreplace(void)
{
    const char *rule = "RENAME_NOREPLACE keeps an existing target";
    write_file(path_in(mount_dir, "nr-a"), 1);
    write_file(path_in(mount_dir, "nr-b"), 2);
    if (renameat2(AT_FDCWD, path_in(mount_dir, "nr-a"), AT_FDCWD, path_in(mount_dir, "nr-b"),
                  RENAME_NOREPLACE) == 0)
        fail("%s: renameat2 succeeded", rule);
    if (errno == EINVAL) {
        printf("ok: RENAME_NOREPLACE not supported by the backing filesystem (EINVAL)\n");
        return;
    }
    if (errno != EEXIST)
        fail("%s: errno %s, want EEXIST", rule, strerror(errno));
    expect_file(rule, path_in(mount_dir, "nr-a"), 1);
    expect_file(rule, path_in(mount_dir, "nr-b"), 2);
    if (renameat2(AT_FDCWD, path_in(mount_dir, "nr-a"), AT_FDCWD, path_in(mount_dir, "nr-c"),
                  RENAME_NOREPLACE) != 0)
        fail("%s: rename to a free name: %s", rule, strerror(errno));
    expect_file(rule, path_in(source_dir, "nr-c"), 1);
    printf("ok: %s\n", rule);
}

static void check_rename_exchange(void)
{
    const char *rule = "RENAME_EXCHANGE swaps files, no stale cached page";
    write_file(path_in(mount_dir, "x-a"), 3);
    write_file(path_in(mount_dir, "x-b"), 4);
    expect_file(rule, path_in(mount_dir, "x-a"), 3); /* cache both */
    expect_file(rule, path_in(mount_dir, "x-b"), 4);
    if (renameat2(AT_FDCWD, path_in(mount_dir, "x-a"), AT_FDCWD, path_in(mount_dir, "x-b"),
                  RENAME_EXCHANGE) != 0) {
        if (errno == EINVAL) {
            printf("ok: RENAME_EXCHANGE not supported by the backing filesystem (EINVAL)\n");
            return;
        }
        fail("%s: renameat2: %s", rule, strerror(errno));
    }
    expect_file(rule, path_in(mount_dir, "x-a"), 4);
    expect_file(rule, path_in(mount_dir, "x-b"), 3);
    expect_file(rule, path_in(source_dir, "x-a"), 4);
    printf("ok: %s\n", rule);
}

static void check_copy_file_range(void)
{
    const char *rule = "copy_file_range into a cached file is read back";
    int in, out;
    loff_t off_in = 0, off_out = 0;
    size_t left = (size_t)PAGES * PAGE;

    write_file(path_in(mount_dir, "cfr-src"), 5);
    write_file(path_in(mount_dir, "cfr-dst"), 6);
    expect_file(rule, path_in(mount_dir, "cfr-dst"), 6); /* cache the target */
    in = open(path_in(mount_dir, "cfr-src"), O_RDONLY);
    out = open(path_in(mount_dir, "cfr-dst"), O_WRONLY);
    if (in < 0 || out < 0)
        fail("%s: open: %s", rule, strerror(errno));
    while (left > 0) {
        ssize_t n = copy_file_range(in, &off_in, out, &off_out, left, 0);
        if (n <= 0)
            fail("%s: copy_file_range: %s", rule, n < 0 ? strerror(errno) : "no progress");
        left -= (size_t)n;
    }
    close(in);
    close(out);
    expect_file(rule, path_in(mount_dir, "cfr-dst"), 5);
    drop_caches(); /* guest pages now in cleancache: they must be the new ones */
    expect_file(rule, path_in(mount_dir, "cfr-dst"), 5);
    expect_file(rule, path_in(source_dir, "cfr-dst"), 5);
    printf("ok: %s\n", rule);
}

static void check_flock(void)
{
    const char *rule = "flock excludes a second exclusive lock";
    int a = open(path_in(mount_dir, "x-a"), O_RDONLY), b = open(path_in(mount_dir, "x-a"), O_RDONLY);
    if (a < 0 || b < 0)
        fail("%s: open: %s", rule, strerror(errno));
    if (flock(a, LOCK_EX | LOCK_NB) != 0)
        fail("%s: first lock: %s", rule, strerror(errno));
    if (flock(b, LOCK_EX | LOCK_NB) == 0)
        fail("%s: second exclusive lock granted while the first is held", rule);
    if (errno != EWOULDBLOCK)
        fail("%s: second lock errno %s, want EWOULDBLOCK", rule, strerror(errno));
    if (flock(a, LOCK_UN) != 0 || flock(b, LOCK_EX | LOCK_NB) != 0)
        fail("%s: lock after unlock: %s", rule, strerror(errno));
    close(a);
    close(b);
    printf("ok: %s\n", rule);
}

static void check_statfs(void)
{
    const char *rule = "statfs reports the backing filesystem";
    struct statvfs m, s;
    if (statvfs(mount_dir, &m) != 0 || statvfs(source_dir, &s) != 0)
        fail("%s: statvfs: %s", rule, strerror(errno));
    if (m.f_bsize != s.f_bsize || m.f_blocks != s.f_blocks)
        fail("%s: bsize %lu blocks %lu through the mount, %lu %lu on the backing directory",
             rule, m.f_bsize, (unsigned long)m.f_blocks, s.f_bsize, (unsigned long)s.f_blocks);
    printf("ok: %s\n", rule);
}

static void expect_errno(const char *what, int rc, int want)
{
    if (rc == 0 || errno != want)
        fail("errors as the backing errno: %s gave %s, want %s", what,
             rc == 0 ? "success" : strerror(errno), strerror(want));
}

static void check_errnos(void)
{
    struct stat st;
    expect_errno("stat of a missing file", stat(path_in(mount_dir, "nosuch"), &st), ENOENT);
    expect_errno("stat under a regular file", stat(path_in(mount_dir, "x-a/child"), &st), ENOTDIR);
    mkdir(path_in(mount_dir, "dir"), 0755);
    expect_errno("open a directory for writing", open(path_in(mount_dir, "dir"), O_WRONLY) < 0 ? -1 : 0,
                 EISDIR);
    expect_errno("rmdir of a regular file", rmdir(path_in(mount_dir, "x-a")), ENOTDIR);
    printf("ok: errors come back as the backing errno (ENOENT, ENOTDIR, EISDIR)\n");
}

static void check_pread_sees_outside_change(void)
{
    const char *rule = "pread on a descriptor opened before an outside change sees it";
    unsigned char page[PAGE], got[PAGE];
    int fd, out;

    write_file(path_in(mount_dir, "oc"), 5);
    fd = open(path_in(mount_dir, "oc"), O_RDONLY);
    if (fd < 0)
        fail("%s: open: %s", rule, strerror(errno));
    for (int round = 0; round < 2; round++) /* page 0 in the guest cache */
        if (pread(fd, got, PAGE, 0) != PAGE)
            fail("%s: read: %s", rule, strerror(errno));
    /* Same size, new bytes, written to SOURCE directly: only ctime/mtime
     * tell. No stat of the file through the mount from here on. */
    fill(page, 6, 0);
    out = open(path_in(source_dir, "oc"), O_WRONLY);
    if (out < 0 || pwrite(out, page, PAGE, 0) != PAGE)
        fail("%s: outside write: %s", rule, strerror(errno));
    close(out);
    if (pread(fd, got, PAGE, 0) != PAGE)
        fail("%s: read after the change: %s", rule, strerror(errno));
    if (memcmp(got, page, PAGE) != 0)
        fail("%s: the read returned the cached page from before the change", rule);
    close(fd);
    printf("ok: %s\n", rule);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: tmemfs_syscalls MOUNT SOURCE\n");
        return 2;
    }
    mount_dir = argv[1];
    source_dir = argv[2];
    check_rename_noreplace();
    check_rename_exchange();
    check_copy_file_range();
    check_flock();
    check_statfs();
    check_errnos();
    check_pread_sees_outside_change();
    return 0;
}
