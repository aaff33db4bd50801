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
 *    getattr and open);
 *  - POSIX exactness (pjdfstest's classes): a new file, directory and fifo
 *    get exactly mode & ~umask of the caller's umask (0, 022, 077: never
 *    the daemon's umask on top), as on SOURCE; after link(n0, n1), lstat
 *    of n0 says nlink 2 at once and 1 after unlink(n1) (one set of
 *    attributes for every name of an inode); fstat and read of an open
 *    file work after it is unlinked; a path of PATH_MAX - 1 bytes relative
 *    to the mount (components of NAME_MAX bytes) can be made, written,
 *    read, stat'ed, renamed and removed, as on SOURCE.
 */
#include <errno.h>
#include <limits.h>
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

static void check_create_modes_umask(void)
{
    const char *rule = "new files get mode & ~(the caller's umask), as on SOURCE";
    static const mode_t masks[] = { 0, 022, 077, 0777 };
    char name[64];

    for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
        mode_t old = umask(masks[i]);
        for (int place = 0; place < 2; place++) {
            const char *dir = place ? source_dir : mount_dir;
            struct stat st;
            int fd;

            snprintf(name, sizeof(name), "um-f-%o-%d", (unsigned)masks[i], place);
            fd = open(path_in(dir, name), O_CREAT | O_EXCL | O_WRONLY, 0620);
            if (fd < 0 || fstat(fd, &st) < 0)
                fail("%s: create %s in %s: %s", rule, name, dir, strerror(errno));
            close(fd);
            if ((st.st_mode & 07777) != (0620 & ~masks[i]))
                fail("%s: umask %03o, create 0620 gave %04o in %s", rule, (unsigned)masks[i],
                     (unsigned)(st.st_mode & 07777), dir);
            snprintf(name, sizeof(name), "um-d-%o-%d", (unsigned)masks[i], place);
            if (mkdir(path_in(dir, name), 0751) < 0 || stat(path_in(dir, name), &st) < 0)
                fail("%s: mkdir %s: %s", rule, name, strerror(errno));
            if ((st.st_mode & 07777) != (0751 & ~masks[i]))
                fail("%s: umask %03o, mkdir 0751 gave %04o in %s", rule, (unsigned)masks[i],
                     (unsigned)(st.st_mode & 07777), dir);
            snprintf(name, sizeof(name), "um-p-%o-%d", (unsigned)masks[i], place);
            if (mkfifo(path_in(dir, name), 0646) < 0 || stat(path_in(dir, name), &st) < 0)
                fail("%s: mkfifo %s: %s", rule, name, strerror(errno));
            if ((st.st_mode & 07777) != (0646 & ~masks[i]))
                fail("%s: umask %03o, mkfifo 0646 gave %04o in %s", rule, (unsigned)masks[i],
                     (unsigned)(st.st_mode & 07777), dir);
        }
        umask(old);
    }
    printf("ok: %s\n", rule);
}

static void expect_nlink(const char *rule, const char *path, nlink_t want)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        fail("%s: lstat %s: %s", rule, path, strerror(errno));
    if (st.st_nlink != want)
        fail("%s: lstat %s says nlink %lu, want %lu", rule, path, (unsigned long)st.st_nlink,
             (unsigned long)want);
}

static void check_link_attributes(void)
{
    const char *rule = "every name of an inode shows its current attributes at once";
    const char *n0 = path_in(mount_dir, "hl-n0"), *n1 = path_in(mount_dir, "hl-n1");
    struct stat st;
    int fd = open(n0, O_CREAT | O_EXCL | O_WRONLY, 0644);

    if (fd < 0)
        fail("%s: create: %s", rule, strerror(errno));
    close(fd);
    expect_nlink(rule, n0, 1); /* attributes of n0 now cached by the kernel */
    if (link(n0, n1) < 0)
        fail("%s: link: %s", rule, strerror(errno));
    expect_nlink(rule, n0, 2);
    expect_nlink(rule, n1, 2);
    if (chmod(n1, 0600) < 0 || lstat(n0, &st) < 0 || (st.st_mode & 07777) != 0600)
        fail("%s: chmod through n1 not seen through n0", rule);
    if (unlink(n1) < 0)
        fail("%s: unlink: %s", rule, strerror(errno));
    expect_nlink(rule, n0, 1);
    unlink(n0);
    printf("ok: %s\n", rule);
}

static void check_fstat_after_unlink(void)
{
    const char *rule = "fstat and read of an open file work after it is unlinked";
    unsigned char page[PAGE], got[PAGE];
    struct stat st;
    int fd;

    write_file(path_in(mount_dir, "ul"), 7);
    fd = open(path_in(mount_dir, "ul"), O_RDWR);
    if (fd < 0)
        fail("%s: open: %s", rule, strerror(errno));
    if (unlink(path_in(mount_dir, "ul")) < 0)
        fail("%s: unlink: %s", rule, strerror(errno));
    if (fstat(fd, &st) < 0)
        fail("%s: fstat: %s", rule, strerror(errno));
    if (st.st_nlink != 0 || st.st_size != (off_t)PAGES * PAGE)
        fail("%s: fstat says nlink %lu size %lld", rule, (unsigned long)st.st_nlink,
             (long long)st.st_size);
    fill(page, 7, 3);
    if (pread(fd, got, PAGE, 3 * PAGE) != PAGE || memcmp(page, got, PAGE) != 0)
        fail("%s: read after unlink", rule);
    fill(page, 8, 3);
    if (pwrite(fd, page, PAGE, 3 * PAGE) != PAGE || pread(fd, got, PAGE, 3 * PAGE) != PAGE ||
        memcmp(page, got, PAGE) != 0)
        fail("%s: write and read back after unlink", rule);
    close(fd);
    printf("ok: %s\n", rule);
}

/* Make a relative path of PATH_MAX - 1 bytes under dir (directories of
 * NAME_MAX-byte names, a file at the end), work with it from dir as the
 * working directory, and remove it again. */
static void long_path_round(const char *rule, const char *dir)
{
    char path[PATH_MAX], comp[NAME_MAX + 1], renamed[PATH_MAX];
    size_t len = 0;
    struct stat st;
    char buf[8];
    int fd, levels = 0, cwd = open(".", O_PATH | O_DIRECTORY);

    if (cwd < 0 || chdir(dir) < 0)
        fail("%s: chdir %s: %s", rule, dir, strerror(errno));
    memset(comp, 'd', NAME_MAX);
    comp[NAME_MAX] = '\0';
    /* directories while a full component and a short file name still fit */
    while (len + NAME_MAX + 1 + 4 < PATH_MAX - 1) {
        memcpy(path + len, comp, NAME_MAX);
        len += NAME_MAX;
        path[len] = '\0';
        if (mkdir(path, 0755) < 0)
            fail("%s: mkdir of a %zu-byte path in %s: %s", rule, len, dir, strerror(errno));
        path[len++] = '/';
        levels++;
    }
    memset(path + len, 'f', PATH_MAX - 1 - len); /* file name up to PATH_MAX - 1 */
    path[PATH_MAX - 1] = '\0';
    if (strlen(path) - len > NAME_MAX)
        fail("%s: test construction", rule);
    fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0644);
    if (fd < 0)
        fail("%s: create a %zu-byte path in %s: %s", rule, strlen(path), dir, strerror(errno));
    if (write(fd, "long", 4) != 4 || pread(fd, buf, 4, 0) != 4 || memcmp(buf, "long", 4) != 0)
        fail("%s: write/read at the end of a %zu-byte path in %s", rule, strlen(path), dir);
    close(fd);
    if (stat(path, &st) < 0 || st.st_size != 4)
        fail("%s: stat of a %zu-byte path in %s: %s", rule, strlen(path), dir, strerror(errno));
    strcpy(renamed, path);
    renamed[PATH_MAX - 2] = 'g';
    if (rename(path, renamed) < 0 || unlink(renamed) < 0)
        fail("%s: rename/unlink of a %zu-byte path in %s: %s", rule, strlen(path), dir,
             strerror(errno));
    for (; levels > 0; levels--) {
        len -= NAME_MAX + 1;
        path[len + NAME_MAX] = '\0';
        if (rmdir(path) < 0)
            fail("%s: rmdir in %s: %s", rule, dir, strerror(errno));
    }
    if (fchdir(cwd) < 0)
        fail("%s: fchdir back", rule);
    close(cwd);
}

static void check_long_paths(void)
{
    const char *rule = "paths of PATH_MAX - 1 bytes below the mount work as on SOURCE";

    long_path_round(rule, source_dir);
    long_path_round(rule, mount_dir);
    printf("ok: %s\n", rule);
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
    check_create_modes_umask();
    check_link_attributes();
    check_fstat_after_unlink();
    check_long_paths();
    return 0;
}
