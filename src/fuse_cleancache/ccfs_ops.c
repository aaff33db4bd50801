/*
 * ccfs_ops.c - the FUSE operations of tmemfs (libfuse 3 high-level API).
 *
 * Models: a passthrough filesystem over SOURCE whose regular-file data path
 * goes through the guest page cache and cleancache (ccfs_io), with the
 * invalidation a kernel filesystem does for cleancache: writes and
 * truncates invalidate the pages they touch, unlink of the last link and
 * replacement by rename flush the object, and a change made outside the
 * mount is detected at open, getattr and read (ccfs_objtab_check).
 *
 * Every path is resolved beneath the SOURCE dirfd with ccfs_at_open (no
 * symlink is ever followed) and the last component used with *at() calls
 * and no-follow flags. Control paths (ccfs_ctl) are answered first. Every
 * operation that names a path, creates, changes attributes or lists a
 * directory runs with the caller's credentials (ccfs_creds.h; the
 * ccfs_op_* wrappers at the end), so the backing filesystem refuses what
 * it would refuse the caller.
 *
 * Data: open files and directories are struct ccfs_fh (fuse fh). Locking:
 * none here; ccfs_io and ccfs_objtab lock inside (objtab -> io). Changes to
 * a regular file through the mount are bracketed by
 * ccfs_objtab_begin_modify / end_modify so they do not look like outside
 * changes.
 */
#include "fuse_cleancache/ccfs_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fuse_cleancache/ccfs_creds.h"
#include "fuse_cleancache/ccfs_ctl.h"
#include "fuse_cleancache/ccfs_path.h"

static struct ccfs_fs *ccfs_self(void)
{
    return fuse_get_context()->private_data;
}

static struct ccfs_fh *ccfs_fh_of(const struct fuse_file_info *fi)
{
    return fi ? (struct ccfs_fh *)(uintptr_t)fi->fh : NULL;
}

/* The backing descriptor of an open regular/special file, or -1. */
static int ccfs_fi_fd(const struct fuse_file_info *fi)
{
    struct ccfs_fh *fh = ccfs_fh_of(fi);
    return (fh && fh->kind == CCFS_FH_FILE) ? fh->fd : -1;
}

/* Path operations must not touch the control directory. */
#define CCFS_NO_CTL(fs, path) do { if (ccfs_ctl_match((fs), (path)) != CCFS_CTL_NONE) \
                                       return -EPERM; } while (0)

/* -------------------------------------------- modification bracketing */

/* State of a regular file around a change made through the mount. */
struct ccfs_mod {
    bool active;
    struct tmem_oid oid;
};

/* Before changing (dirfd, name) or fd (fd >= 0 wins). */
static void ccfs_mod_begin(struct ccfs_fs *fs, int fd, int dirfd, const char *name,
                           struct ccfs_mod *m)
{
    struct statx stx;
    int rc = fd >= 0 ? ccfs_fstatx(fd, &stx) : ccfs_statx(dirfd, name, 0, &stx);

    m->active = false;
    if (rc < 0 || !S_ISREG(stx.stx_mode))
        return;
    ccfs_oid_from_statx(&stx, &m->oid);
    m->active = ccfs_objtab_begin_modify(fs->objs, &stx) == 0;
}

/* After the change: record the file's new attributes (looked up at fd, or
 * (dirfd, name)); flushes the object if they cannot be read. */
static void ccfs_mod_end(struct ccfs_fs *fs, int fd, int dirfd, const char *name,
                         struct ccfs_mod *m)
{
    struct statx stx;
    struct tmem_oid now;
    int rc;

    if (!m->active)
        return;
    rc = fd >= 0 ? ccfs_fstatx(fd, &stx) : ccfs_statx(dirfd, name, 0, &stx);
    if (rc == 0) {
        ccfs_oid_from_statx(&stx, &now);
        if (!ccfs_oid_equal(&now, &m->oid))
            rc = -ESTALE;
    }
    ccfs_objtab_end_modify(fs->objs, &m->oid, rc == 0 ? &stx : NULL);
    m->active = false;
}

/* ---------------------------------------------------------- operations */

static void *ccfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    struct ccfs_fs *fs = ccfs_self();

    (void)conn;
    cfg->use_ino = 1;
    cfg->hard_remove = 1;
    cfg->nullpath_ok = 1;
    cfg->direct_io = fs->opts->kcache ? 0 : 1;
    cfg->kernel_cache = 0;
    cfg->auto_cache = fs->opts->kcache ? 1 : 0;
    return fs;
}

static int ccfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_fh *fh = ccfs_fh_of(fi);
    struct statx stx;
    struct ccfs_at at;
    int which = ccfs_ctl_match(fs, path);
    int rc;

    if (fh && (fh->kind == CCFS_FH_CTL || fh->kind == CCFS_FH_CTLDIR))
        return ccfs_ctl_getattr(fs, fh->kind == CCFS_FH_CTL ? fh->ctl : CCFS_CTL_DIR, st);
    if (!fh && which != CCFS_CTL_NONE)
        return ccfs_ctl_getattr(fs, which, st);
    if (fh && fh->kind == CCFS_FH_FILE) {
        rc = ccfs_fstatx(fh->fd, &stx);
    } else if (fh && fh->kind == CCFS_FH_DIR) {
        rc = ccfs_fstatx(dirfd(fh->dp), &stx);
    } else {
        if (!path)
            return -ENOENT;
        rc = ccfs_at_open(fs->rootfd, path, &at);
        if (rc < 0)
            return rc;
        rc = ccfs_statx(at.dirfd, at.name, 0, &stx);
        ccfs_at_close(&at);
    }
    if (rc < 0)
        return rc;
    if (S_ISREG(stx.stx_mode))
        (void)ccfs_objtab_check(fs->objs, &stx, false);
    ccfs_statx_to_stat(&stx, st);
    return 0;
}

static int ccfs_readlink(const char *path, char *buf, size_t size)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_at at;
    ssize_t n;
    int rc;

    CCFS_NO_CTL(fs, path);
    if (size == 0)
        return -EINVAL;
    rc = ccfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    n = readlinkat(at.dirfd, at.name, buf, size - 1);
    rc = n < 0 ? -errno : 0;
    ccfs_at_close(&at);
    if (n >= 0)
        buf[n] = '\0';
    return rc;
}

static int ccfs_mknod(const char *path, mode_t mode, dev_t rdev)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_at at;
    int rc;

    CCFS_NO_CTL(fs, path);
    rc = ccfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    if (S_ISFIFO(mode))
        rc = mkfifoat(at.dirfd, at.name, mode & 07777);
    else
        rc = mknodat(at.dirfd, at.name, mode, rdev);
    rc = rc < 0 ? -errno : 0;
    ccfs_at_close(&at);
    return rc;
}

static int ccfs_mkdir(const char *path, mode_t mode)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_at at;
    int rc;

    CCFS_NO_CTL(fs, path);
    rc = ccfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    rc = mkdirat(at.dirfd, at.name, mode) < 0 ? -errno : 0;
    ccfs_at_close(&at);
    return rc;
}

static int ccfs_unlink(const char *path)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_at at;
    struct ccfs_mod m = { 0 };
    struct statx stx;
    int rc, pfd;

    CCFS_NO_CTL(fs, path);
    rc = ccfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    /* Keep an O_PATH handle on the inode to learn its link count after. */
    pfd = openat(at.dirfd, at.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pfd >= 0)
        ccfs_mod_begin(fs, pfd, -1, NULL, &m);
    rc = unlinkat(at.dirfd, at.name, 0) < 0 ? -errno : 0;
    if (pfd >= 0) {
        ccfs_mod_end(fs, pfd, -1, NULL, &m);
        if (rc == 0 && ccfs_fstatx(pfd, &stx) == 0 && S_ISREG(stx.stx_mode) &&
            stx.stx_nlink == 0) {
            struct tmem_oid oid;
            ccfs_oid_from_statx(&stx, &oid);
            ccfs_objtab_forget(fs->objs, &oid);
        }
        close(pfd);
    }
    ccfs_at_close(&at);
    return rc;
}

static int ccfs_rmdir(const char *path)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_at at;
    int rc;

    CCFS_NO_CTL(fs, path);
    rc = ccfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    rc = unlinkat(at.dirfd, at.name, AT_REMOVEDIR) < 0 ? -errno : 0;
    ccfs_at_close(&at);
    return rc;
}

static int ccfs_symlink(const char *target, const char *path)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_at at;
    int rc;

    CCFS_NO_CTL(fs, path);
    rc = ccfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    rc = symlinkat(target, at.dirfd, at.name) < 0 ? -errno : 0;
    ccfs_at_close(&at);
    return rc;
}

static int ccfs_rename(const char *from, const char *to, unsigned int flags)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_at a, b;
    struct ccfs_mod ma = { 0 }, mb = { 0 };
    struct statx stx;
    int rc, pa = -1, pb = -1;

    CCFS_NO_CTL(fs, from);
    CCFS_NO_CTL(fs, to);
    rc = ccfs_at_open(fs->rootfd, from, &a);
    if (rc < 0)
        return rc;
    rc = ccfs_at_open(fs->rootfd, to, &b);
    if (rc < 0) {
        ccfs_at_close(&a);
        return rc;
    }
    pa = openat(a.dirfd, a.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    pb = openat(b.dirfd, b.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pa >= 0)
        ccfs_mod_begin(fs, pa, -1, NULL, &ma);
    if (pb >= 0)
        ccfs_mod_begin(fs, pb, -1, NULL, &mb);
    rc = renameat2(a.dirfd, a.name, b.dirfd, b.name, flags) < 0 ? -errno : 0;
    if (pa >= 0)
        ccfs_mod_end(fs, pa, -1, NULL, &ma);
    if (pb >= 0) {
        ccfs_mod_end(fs, pb, -1, NULL, &mb);
        /* Replaced target that lost its last link: the object is gone. */
        if (rc == 0 && !(flags & RENAME_EXCHANGE) && ccfs_fstatx(pb, &stx) == 0 &&
            S_ISREG(stx.stx_mode) && stx.stx_nlink == 0) {
            struct tmem_oid oid;
            ccfs_oid_from_statx(&stx, &oid);
            ccfs_objtab_forget(fs->objs, &oid);
        }
    }
    if (pa >= 0)
        close(pa);
    if (pb >= 0)
        close(pb);
    ccfs_at_close(&a);
    ccfs_at_close(&b);
    return rc;
}

static int ccfs_link(const char *from, const char *to)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_at a, b;
    struct ccfs_mod m = { 0 };
    int rc;

    CCFS_NO_CTL(fs, from);
    CCFS_NO_CTL(fs, to);
    rc = ccfs_at_open(fs->rootfd, from, &a);
    if (rc < 0)
        return rc;
    rc = ccfs_at_open(fs->rootfd, to, &b);
    if (rc < 0) {
        ccfs_at_close(&a);
        return rc;
    }
    ccfs_mod_begin(fs, -1, a.dirfd, a.name, &m);
    rc = linkat(a.dirfd, a.name, b.dirfd, b.name, 0) < 0 ? -errno : 0;
    ccfs_mod_end(fs, -1, b.dirfd, b.name, &m);
    ccfs_at_close(&a);
    ccfs_at_close(&b);
    return rc;
}

/* Run an attribute change on fd (if >= 0) or on path's last component. */
enum ccfs_attr_op { CCFS_CHMOD, CCFS_CHOWN, CCFS_UTIMENS };

static int ccfs_attr_change(const char *path, struct fuse_file_info *fi, enum ccfs_attr_op op,
                            mode_t mode, uid_t uid, gid_t gid, const struct timespec tv[2])
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_mod m = { 0 };
    struct ccfs_at at;
    int fd = ccfs_fi_fd(fi);
    int rc;

    CCFS_NO_CTL(fs, path);
    at.owned = 0;
    if (fd < 0) {
        if (!path)
            return -ENOENT;
        rc = ccfs_at_open(fs->rootfd, path, &at);
        if (rc < 0)
            return rc;
    }
    ccfs_mod_begin(fs, fd, at.dirfd, at.name, &m);
    switch (op) {
    case CCFS_CHMOD:
        rc = fd >= 0 ? fchmod(fd, mode) : fchmodat(at.dirfd, at.name, mode, AT_SYMLINK_NOFOLLOW);
        break;
    case CCFS_CHOWN:
        rc = fd >= 0 ? fchown(fd, uid, gid)
                     : fchownat(at.dirfd, at.name, uid, gid, AT_SYMLINK_NOFOLLOW);
        break;
    default:
        rc = fd >= 0 ? futimens(fd, tv) : utimensat(at.dirfd, at.name, tv, AT_SYMLINK_NOFOLLOW);
        break;
    }
    rc = rc < 0 ? -errno : 0;
    ccfs_mod_end(fs, fd, at.dirfd, at.name, &m);
    ccfs_at_close(&at);
    return rc;
}

static int ccfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    return ccfs_attr_change(path, fi, CCFS_CHMOD, mode, 0, 0, NULL);
}

static int ccfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    return ccfs_attr_change(path, fi, CCFS_CHOWN, 0, uid, gid, NULL);
}

static int ccfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    return ccfs_attr_change(path, fi, CCFS_UTIMENS, 0, 0, 0, tv);
}

/* Truncate the open regular file fd to size, with invalidation. */
static int ccfs_truncate_fd(struct ccfs_fs *fs, int fd, off_t size)
{
    struct ccfs_mod m = { 0 };
    int rc;

    ccfs_mod_begin(fs, fd, -1, NULL, &m);
    if (m.active)
        rc = ccfs_io_truncate(&fs->io, &m.oid, fd, (uint64_t)size);
    else
        rc = ftruncate(fd, size) < 0 ? -errno : 0;
    ccfs_mod_end(fs, fd, -1, NULL, &m);
    return rc;
}

static int ccfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_at at;
    int fd = ccfs_fi_fd(fi);
    int which = ccfs_ctl_match(fs, path);
    int rc;

    if (which != CCFS_CTL_NONE || (ccfs_fh_of(fi) && ccfs_fh_of(fi)->kind == CCFS_FH_CTL))
        return 0; /* "echo N > ctl/file" truncates first: nothing to do */
    if (size < 0)
        return -EINVAL;
    if (fd >= 0)
        return ccfs_truncate_fd(fs, fd, size);
    if (!path)
        return -ENOENT;
    rc = ccfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    fd = openat(at.dirfd, at.name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    ccfs_at_close(&at);
    if (fd < 0)
        return -errno;
    rc = ccfs_truncate_fd(fs, fd, size);
    close(fd);
    return rc;
}

/* Common tail of open and create: wrap fd in a handle. */
static int ccfs_open_fd(struct ccfs_fs *fs, int fd, int flags, bool created,
                        struct fuse_file_info *fi)
{
    struct ccfs_fh *fh;
    struct statx stx;
    int rc;

    rc = ccfs_fstatx(fd, &stx);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    fh = calloc(1, sizeof(*fh));
    if (!fh) {
        close(fd);
        return -ENOMEM;
    }
    fh->kind = CCFS_FH_FILE;
    fh->fd = fd;
    fh->append = (flags & O_APPEND) != 0;
    fh->reg = S_ISREG(stx.stx_mode);
    if (fh->reg) {
        ccfs_oid_from_statx(&stx, &fh->oid);
        /* A new file without a birth time may reuse an old oid. */
        if (created && !(stx.stx_mask & STATX_BTIME))
            ccfs_io_invalidate_object(&fs->io, &fh->oid);
        rc = ccfs_objtab_check(fs->objs, &stx, true);
        if (rc < 0) {
            close(fd);
            free(fh);
            return rc;
        }
        fh->pinned = true;
    }
    fi->fh = (uint64_t)(uintptr_t)fh;
    fi->direct_io = fs->opts->kcache ? 0 : 1;
    fi->keep_cache = 0;
    return 0;
}

static int ccfs_open(const char *path, struct fuse_file_info *fi)
{
    struct ccfs_fs *fs = ccfs_self();
    int which = ccfs_ctl_match(fs, path);
    struct ccfs_at at;
    int flags, fd, rc;
    bool trunc;

    if (which != CCFS_CTL_NONE) {
        struct ccfs_fh *fh = calloc(1, sizeof(*fh));
        if (!fh)
            return -ENOMEM;
        rc = ccfs_ctl_open(fs, which, fi->flags, fuse_get_context()->uid, fh);
        if (rc < 0) {
            free(fh->buf);
            free(fh);
            return rc;
        }
        fi->fh = (uint64_t)(uintptr_t)fh;
        fi->direct_io = 1;
        return 0;
    }
    if (!path)
        return -ENOENT;
    rc = ccfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    flags = fi->flags & ~(O_DIRECT | O_CREAT | O_EXCL | O_NOCTTY);
    /* O_TRUNC on a writable open is done by us (ccfs_io_truncate), so the
     * caches are invalidated and it is not taken for an outside change. */
    trunc = (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY;
    if (trunc)
        flags &= ~O_TRUNC;
    fd = openat(at.dirfd, at.name, flags | O_NOFOLLOW | O_CLOEXEC);
    ccfs_at_close(&at);
    if (fd < 0)
        return -errno;
    if (trunc) {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = ccfs_truncate_fd(fs, fd, 0);
            if (rc < 0) {
                close(fd);
                return rc;
            }
        }
    }
    return ccfs_open_fd(fs, fd, flags, false, fi);
}

static int ccfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_at at;
    int flags, fd, rc;

    CCFS_NO_CTL(fs, path);
    rc = ccfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    flags = (fi->flags & ~(O_DIRECT | O_NOCTTY)) | O_CREAT;
    fd = openat(at.dirfd, at.name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = -errno;
        ccfs_at_close(&at);
        return rc;
    }
    ccfs_at_close(&at);
    if (flags & O_TRUNC) {
        /* An existing file may have been truncated: drop its pages. */
        struct statx stx;
        struct tmem_oid oid;
        if (ccfs_fstatx(fd, &stx) == 0 && S_ISREG(stx.stx_mode)) {
            ccfs_oid_from_statx(&stx, &oid);
            ccfs_io_invalidate_object(&fs->io, &oid);
            ccfs_objtab_end_modify(fs->objs, &oid, &stx);
        }
    }
    return ccfs_open_fd(fs, fd, flags, true, fi);
}

/* A read or write at off needs an open file (not a directory) and off >= 0:
 * 0, or the errno to return. */
static int ccfs_check_data_fh(const struct ccfs_fh *fh, off_t off)
{
    if (!fh)
        return -EBADF;
    if (fh->kind != CCFS_FH_FILE)
        return -EISDIR;
    return off < 0 ? -EINVAL : 0;
}

static int ccfs_read(const char *path, char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_fh *fh = ccfs_fh_of(fi);
    struct statx stx;
    ssize_t n;
    int rc;

    (void)path;
    if (fh && fh->kind == CCFS_FH_CTL)
        return (int)ccfs_ctl_read(fh, buf, size, off);
    rc = ccfs_check_data_fh(fh, off);
    if (rc < 0)
        return rc;
    if (!fh->reg) {
        n = pread(fh->fd, buf, size, off);
        return n < 0 ? -errno : (int)n;
    }
    rc = ccfs_fstatx(fh->fd, &stx);
    if (rc < 0)
        return rc;
    (void)ccfs_objtab_check(fs->objs, &stx, false);
    n = ccfs_io_read(&fs->io, &fh->oid, fh->fd, stx.stx_size, buf, size, (uint64_t)off);
    return (int)n;
}

static int ccfs_write(const char *path, const char *buf, size_t size, off_t off,
                      struct fuse_file_info *fi)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_fh *fh = ccfs_fh_of(fi);
    struct ccfs_mod m = { 0 };
    ssize_t n;
    int rc;

    (void)path;
    if (fh && fh->kind == CCFS_FH_CTL)
        return (int)ccfs_ctl_write(fs, fh, buf, size);
    rc = ccfs_check_data_fh(fh, off);
    if (rc < 0)
        return rc;
    if (!fh->reg) {
        n = pwrite(fh->fd, buf, size, off);
        return n < 0 ? -errno : (int)n;
    }
    ccfs_mod_begin(fs, fh->fd, -1, NULL, &m);
    n = ccfs_io_write(&fs->io, &fh->oid, fh->fd, buf, size, (uint64_t)off, fh->append);
    ccfs_mod_end(fs, fh->fd, -1, NULL, &m);
    return (int)n;
}

static int ccfs_statfs(const char *path, struct statvfs *sv)
{
    struct ccfs_fs *fs = ccfs_self();

    (void)path;
    return fstatvfs(fs->rootfd, sv) < 0 ? -errno : 0;
}

static int ccfs_flush(const char *path, struct fuse_file_info *fi)
{
    int fd = ccfs_fi_fd(fi), dfd;

    (void)path;
    if (fd < 0)
        return 0;
    /* Close a duplicate so the backing filesystem sees the close(2). */
    dfd = dup(fd);
    if (dfd < 0)
        return -errno;
    return close(dfd) < 0 ? -errno : 0;
}

static int ccfs_release(const char *path, struct fuse_file_info *fi)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_fh *fh = ccfs_fh_of(fi);
    struct statx stx;

    (void)path;
    if (!fh)
        return 0;
    if (fh->kind == CCFS_FH_FILE) {
        if (fh->pinned) {
            ccfs_objtab_unpin(fs->objs, &fh->oid);
            /* Last close of an unlinked file: its pages can never be read. */
            if (ccfs_fstatx(fh->fd, &stx) == 0 && stx.stx_nlink == 0)
                ccfs_objtab_forget(fs->objs, &fh->oid);
        }
        close(fh->fd);
    }
    free(fh->buf);
    free(fh);
    return 0;
}

static int ccfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    int fd = ccfs_fi_fd(fi);

    (void)path;
    if (fd < 0)
        return 0;
    return (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? -errno : 0;
}

/* xattrs have no *at() form: reach the inode through /proc/self/fd of an
 * O_PATH, O_NOFOLLOW descriptor (a symlink is then acted on, not followed). */
static int ccfs_xattr_open(const char *path, char *proc, size_t procsz)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_at at;
    int fd, rc;

    if (!path)
        return -ENOENT;
    rc = ccfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    fd = openat(at.dirfd, at.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    rc = -errno;
    ccfs_at_close(&at);
    if (fd < 0)
        return rc;
    snprintf(proc, procsz, "/proc/self/fd/%d", fd);
    return fd;
}

static int ccfs_setxattr(const char *path, const char *name, const char *value, size_t size,
                         int flags)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_mod m = { 0 };
    char proc[64];
    int fd, rc;

    CCFS_NO_CTL(fs, path);
    fd = ccfs_xattr_open(path, proc, sizeof(proc));
    if (fd < 0)
        return fd;
    ccfs_mod_begin(fs, fd, -1, NULL, &m);
    rc = setxattr(proc, name, value, size, flags) < 0 ? -errno : 0;
    ccfs_mod_end(fs, fd, -1, NULL, &m);
    close(fd);
    return rc;
}

static int ccfs_getxattr(const char *path, const char *name, char *value, size_t size)
{
    struct ccfs_fs *fs = ccfs_self();
    char proc[64];
    ssize_t n;
    int fd, rc;

    if (ccfs_ctl_match(fs, path) != CCFS_CTL_NONE)
        return -ENODATA;
    fd = ccfs_xattr_open(path, proc, sizeof(proc));
    if (fd < 0)
        return fd;
    n = getxattr(proc, name, value, size);
    rc = n < 0 ? -errno : (int)n;
    close(fd);
    return rc;
}

static int ccfs_listxattr(const char *path, char *list, size_t size)
{
    struct ccfs_fs *fs = ccfs_self();
    char proc[64];
    ssize_t n;
    int fd, rc;

    if (ccfs_ctl_match(fs, path) != CCFS_CTL_NONE)
        return 0;
    fd = ccfs_xattr_open(path, proc, sizeof(proc));
    if (fd < 0)
        return fd;
    n = listxattr(proc, list, size);
    rc = n < 0 ? -errno : (int)n;
    close(fd);
    return rc;
}

static int ccfs_removexattr(const char *path, const char *name)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_mod m = { 0 };
    char proc[64];
    int fd, rc;

    CCFS_NO_CTL(fs, path);
    fd = ccfs_xattr_open(path, proc, sizeof(proc));
    if (fd < 0)
        return fd;
    ccfs_mod_begin(fs, fd, -1, NULL, &m);
    rc = removexattr(proc, name) < 0 ? -errno : 0;
    ccfs_mod_end(fs, fd, -1, NULL, &m);
    close(fd);
    return rc;
}

static int ccfs_opendir(const char *path, struct fuse_file_info *fi)
{
    struct ccfs_fs *fs = ccfs_self();
    int which = ccfs_ctl_match(fs, path);
    struct ccfs_fh *fh;
    struct ccfs_at at;
    int fd, rc;

    if (which > CCFS_CTL_DIR)
        return -ENOTDIR;
    fh = calloc(1, sizeof(*fh));
    if (!fh)
        return -ENOMEM;
    if (which == CCFS_CTL_DIR) {
        fh->kind = CCFS_FH_CTLDIR;
        fh->fd = -1;
        fi->fh = (uint64_t)(uintptr_t)fh;
        return 0;
    }
    rc = path ? ccfs_at_open(fs->rootfd, path, &at) : -ENOENT;
    if (rc < 0)
        goto fail;
    fd = openat(at.dirfd, at.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    rc = -errno;
    ccfs_at_close(&at);
    if (fd < 0)
        goto fail;
    fh->dp = fdopendir(fd);
    if (!fh->dp) {
        rc = -errno;
        close(fd);
        goto fail;
    }
    fh->kind = CCFS_FH_DIR;
    fh->fd = -1;
    fh->is_root = strcmp(path, "/") == 0;
    fi->fh = (uint64_t)(uintptr_t)fh;
    return 0;
fail:
    free(fh);
    return rc;
}

static int ccfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
                        struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_fh *fh = ccfs_fh_of(fi);
    struct stat st;

    (void)path;
    if (!fh)
        return -EBADF;
    if (fh->kind == CCFS_FH_CTLDIR) {
        static const char *const dots[] = { ".", ".." };
        int i;
        memset(&st, 0, sizeof(st));
        for (i = 0; i < 2 + CCFS_CTL_NOENT - CCFS_CTL_STATS; i++) {
            const char *name = i < 2 ? dots[i] : ccfs_ctl_name(CCFS_CTL_STATS + i - 2);
            if (i < offset)
                continue;
            st.st_mode = i < 2 ? S_IFDIR : S_IFREG;
            if (filler(buf, name, &st, i + 1, 0))
                break;
        }
        return 0;
    }
    if (fh->kind != CCFS_FH_DIR)
        return -ENOTDIR;
    if (offset != fh->offset) {
        seekdir(fh->dp, offset);
        fh->entry = NULL;
        fh->offset = offset;
    }
    for (;;) {
        enum fuse_fill_dir_flags fill = 0;
        off_t next;

        if (!fh->entry) {
            errno = 0;
            fh->entry = readdir(fh->dp);
            if (!fh->entry) {
                if (errno)
                    return -errno;
                break;
            }
        }
        if (fh->is_root && ccfs_ctl_is_name(fs, fh->entry->d_name)) {
            fh->entry = NULL;
            fh->offset = telldir(fh->dp);
            continue;
        }
        memset(&st, 0, sizeof(st));
        if ((flags & FUSE_READDIR_PLUS) &&
            fstatat(dirfd(fh->dp), fh->entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            fill = FUSE_FILL_DIR_PLUS;
        } else {
            st.st_ino = fh->entry->d_ino;
            st.st_mode = (mode_t)fh->entry->d_type << 12;
        }
        next = telldir(fh->dp);
        if (filler(buf, fh->entry->d_name, &st, next, fill))
            break;
        fh->entry = NULL;
        fh->offset = next;
    }
    return 0;
}

static int ccfs_releasedir(const char *path, struct fuse_file_info *fi)
{
    struct ccfs_fh *fh = ccfs_fh_of(fi);

    (void)path;
    if (fh && fh->dp)
        closedir(fh->dp);
    free(fh);
    return 0;
}

static int ccfs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
    struct ccfs_fh *fh = ccfs_fh_of(fi);
    int fd;

    (void)path;
    if (!fh || !fh->dp)
        return 0;
    fd = dirfd(fh->dp);
    return (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? -errno : 0;
}

static int ccfs_access(const char *path, int mask)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_at at;
    int rc;

    if (ccfs_ctl_match(fs, path) != CCFS_CTL_NONE)
        return 0;
    rc = ccfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    /* AT_EACCESS: check as the thread's fsuid/fsgid (the caller's), not
     * as the daemon's real uid, which faccessat would use otherwise. */
    rc = faccessat(at.dirfd, at.name, mask, AT_EACCESS | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
    ccfs_at_close(&at);
    return rc;
}

static int ccfs_fallocate(const char *path, int mode, off_t off, off_t len,
                          struct fuse_file_info *fi)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_fh *fh = ccfs_fh_of(fi);
    struct ccfs_mod m = { 0 };
    int rc;

    (void)path;
    if (!fh || fh->kind != CCFS_FH_FILE)
        return -EBADF;
    ccfs_mod_begin(fs, fh->fd, -1, NULL, &m);
    rc = fallocate(fh->fd, mode, off, len) < 0 ? -errno : 0;
    if (rc == 0 && fh->reg) {
        if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))
            ccfs_io_invalidate_range(&fs->io, &fh->oid, (uint64_t)off, UINT64_MAX);
        else
            ccfs_io_invalidate_range(&fs->io, &fh->oid, (uint64_t)off, (uint64_t)len);
    }
    ccfs_mod_end(fs, fh->fd, -1, NULL, &m);
    return rc;
}

static ssize_t ccfs_copy_file_range(const char *path_in, struct fuse_file_info *fi_in,
                                    off_t off_in, const char *path_out,
                                    struct fuse_file_info *fi_out, off_t off_out, size_t len,
                                    int flags)
{
    struct ccfs_fs *fs = ccfs_self();
    struct ccfs_fh *in = ccfs_fh_of(fi_in), *out = ccfs_fh_of(fi_out);
    struct ccfs_mod m = { 0 };
    loff_t oi = off_in, oo = off_out;
    ssize_t n;

    (void)path_in;
    (void)path_out;
    if (!in || !out || in->kind != CCFS_FH_FILE || out->kind != CCFS_FH_FILE)
        return -EBADF;
    ccfs_mod_begin(fs, out->fd, -1, NULL, &m);
    n = copy_file_range(in->fd, &oi, out->fd, &oo, len, (unsigned)flags);
    if (n < 0)
        n = -errno;
    else if (n > 0 && out->reg) {
        ccfs_io_invalidate_range(&fs->io, &out->oid, (uint64_t)off_out, (uint64_t)n);
        ccfs_stats_add(&fs->stats, CCFS_BACKING_BYTES_WRITTEN, (uint64_t)n);
    }
    ccfs_mod_end(fs, out->fd, -1, NULL, &m);
    return n;
}

static off_t ccfs_lseek(const char *path, off_t off, int whence, struct fuse_file_info *fi)
{
    int fd = ccfs_fi_fd(fi);
    off_t r;

    (void)path;
    if (fd < 0)
        return -EBADF;
    r = lseek(fd, off, whence);
    return r < 0 ? -errno : r;
}

static int ccfs_flock(const char *path, struct fuse_file_info *fi, int op)
{
    int fd = ccfs_fi_fd(fi);

    (void)path;
    if (fd < 0)
        return -EBADF;
    return flock(fd, op) < 0 ? -errno : 0;
}

/* ------------------------------------------- as the caller (ccfs_creds) */

static int ccfs_fuse_getgroups(void *arg, int size, gid_t list[])
{
    (void)arg;
    return fuse_getgroups(size, list);
}

/*
 * Every operation that names a path, creates, changes attributes or lists
 * a directory runs with the caller's fsuid, fsgid and groups, so the
 * backing filesystem refuses what it would refuse the caller. Operations
 * on an open descriptor (read, write, fsync, flush, release, lseek, flock,
 * fallocate, copy_file_range) need no switch: the access was checked when
 * the caller opened it. ccfs_op_NAME runs ccfs_NAME(ARGS) as the caller.
 */
#define CCFS_AS_CALLER(name, params, args)                                                    \
    static int ccfs_op_##name params                                                       \
    {                                                                                      \
        struct fuse_context *ctx = fuse_get_context();                                     \
        struct ccfs_fs *fs = ctx->private_data;                                            \
        struct ccfs_creds_scope scope;                                                     \
        int rc = ccfs_creds_enter(&fs->creds, ctx->uid, ctx->gid, ccfs_fuse_getgroups,     \
                                  NULL, &scope);                                           \
        if (rc < 0)                                                                        \
            return rc;                                                                     \
        rc = ccfs_##name args;                                                             \
        ccfs_creds_leave(&fs->creds, &scope);                                              \
        return rc;                                                                         \
    }

CCFS_AS_CALLER(getattr, (const char *path, struct stat *st, struct fuse_file_info *fi),
               (path, st, fi))
CCFS_AS_CALLER(readlink, (const char *path, char *buf, size_t size), (path, buf, size))
CCFS_AS_CALLER(mknod, (const char *path, mode_t mode, dev_t rdev), (path, mode, rdev))
CCFS_AS_CALLER(mkdir, (const char *path, mode_t mode), (path, mode))
CCFS_AS_CALLER(unlink, (const char *path), (path))
CCFS_AS_CALLER(rmdir, (const char *path), (path))
CCFS_AS_CALLER(symlink, (const char *target, const char *path), (target, path))
CCFS_AS_CALLER(rename, (const char *from, const char *to, unsigned int flags), (from, to, flags))
CCFS_AS_CALLER(link, (const char *from, const char *to), (from, to))
CCFS_AS_CALLER(chmod, (const char *path, mode_t mode, struct fuse_file_info *fi), (path, mode, fi))
CCFS_AS_CALLER(chown, (const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi),
               (path, uid, gid, fi))
CCFS_AS_CALLER(utimens, (const char *path, const struct timespec tv[2], struct fuse_file_info *fi),
               (path, tv, fi))
CCFS_AS_CALLER(truncate, (const char *path, off_t size, struct fuse_file_info *fi),
               (path, size, fi))
CCFS_AS_CALLER(open, (const char *path, struct fuse_file_info *fi), (path, fi))
CCFS_AS_CALLER(create, (const char *path, mode_t mode, struct fuse_file_info *fi),
               (path, mode, fi))
CCFS_AS_CALLER(setxattr, (const char *path, const char *name, const char *value, size_t size,
                          int flags), (path, name, value, size, flags))
CCFS_AS_CALLER(getxattr, (const char *path, const char *name, char *value, size_t size),
               (path, name, value, size))
CCFS_AS_CALLER(listxattr, (const char *path, char *list, size_t size), (path, list, size))
CCFS_AS_CALLER(removexattr, (const char *path, const char *name), (path, name))
CCFS_AS_CALLER(opendir, (const char *path, struct fuse_file_info *fi), (path, fi))
CCFS_AS_CALLER(readdir, (const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
                         struct fuse_file_info *fi, enum fuse_readdir_flags flags),
               (path, buf, filler, offset, fi, flags))
CCFS_AS_CALLER(access, (const char *path, int mask), (path, mask))

static const struct fuse_operations ccfs_ops = {
    .init = ccfs_init,
    .getattr = ccfs_op_getattr,
    .readlink = ccfs_op_readlink,
    .mknod = ccfs_op_mknod,
    .mkdir = ccfs_op_mkdir,
    .unlink = ccfs_op_unlink,
    .rmdir = ccfs_op_rmdir,
    .symlink = ccfs_op_symlink,
    .rename = ccfs_op_rename,
    .link = ccfs_op_link,
    .chmod = ccfs_op_chmod,
    .chown = ccfs_op_chown,
    .truncate = ccfs_op_truncate,
    .open = ccfs_op_open,
    .read = ccfs_read,
    .write = ccfs_write,
    .statfs = ccfs_statfs,
    .flush = ccfs_flush,
    .release = ccfs_release,
    .fsync = ccfs_fsync,
    .setxattr = ccfs_op_setxattr,
    .getxattr = ccfs_op_getxattr,
    .listxattr = ccfs_op_listxattr,
    .removexattr = ccfs_op_removexattr,
    .opendir = ccfs_op_opendir,
    .readdir = ccfs_op_readdir,
    .releasedir = ccfs_releasedir,
    .fsyncdir = ccfs_fsyncdir,
    .access = ccfs_op_access,
    .create = ccfs_op_create,
    .utimens = ccfs_op_utimens,
    .fallocate = ccfs_fallocate,
    .copy_file_range = ccfs_copy_file_range,
    .lseek = ccfs_lseek,
    .flock = ccfs_flock,
};

const struct fuse_operations *ccfs_fuse_ops(void)
{
    return &ccfs_ops;
}
