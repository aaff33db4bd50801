/*
 * tmemfs_ops.c - the FUSE operations of tmemfs (libfuse 3 high-level API).
 *
 * Models: a passthrough filesystem over SOURCE whose regular-file data path
 * goes through the guest page cache and cleancache (tmemfs_io), with the
 * invalidation a kernel filesystem does for cleancache: writes and
 * truncates invalidate the pages they touch, unlink of the last link and
 * replacement by rename flush the object, and a change made outside the
 * mount is detected at open, getattr and read (tmemfs_object_table_check).
 *
 * Every path is resolved beneath the SOURCE dirfd with tmemfs_at_open (no
 * symlink is ever followed) and the last component used with *at() calls
 * and no-follow flags. Control paths (tmemfs_control) are answered first. Every
 * operation that names a path, creates, changes attributes or lists a
 * directory runs with the caller's credentials (tmemfs_creds.h; the
 * tmemfs_op_* wrappers at the end), so the backing filesystem refuses what
 * it would refuse the caller.
 *
 * Data: open files and directories are struct tmemfs_fh (fuse fh). Locking:
 * none here; tmemfs_io and tmemfs_object_table lock inside (objtab -> io). Changes to
 * a regular file through the mount are bracketed by
 * tmemfs_object_table_begin_modify / end_modify so they do not look like outside
 * changes.
 */
#include "fuse_cleancache/tmemfs_fs.h"

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

#include "fuse_cleancache/tmemfs_creds.h"
#include "fuse_cleancache/tmemfs_control.h"
#include "fuse_cleancache/tmemfs_path.h"

static struct tmemfs_fs *tmemfs_self(void)
{
    return fuse_get_context()->private_data;
}

static struct tmemfs_fh *tmemfs_fh_of(const struct fuse_file_info *fi)
{
    return fi ? (struct tmemfs_fh *)(uintptr_t)fi->fh : NULL;
}

/* The backing descriptor of an open regular/special file, or -1. */
static int tmemfs_fi_fd(const struct fuse_file_info *fi)
{
    struct tmemfs_fh *fh = tmemfs_fh_of(fi);
    return (fh && fh->kind == TMEMFS_FH_FILE) ? fh->fd : -1;
}

/* Path operations must not touch the control directory. */
#define TMEMFS_NO_CTL(fs, path) do { if (tmemfs_control_match((fs), (path)) != TMEMFS_CONTROL_NONE) \
                                       return -EPERM; } while (0)

/* -------------------------------------------- modification bracketing */

/* State of a regular file around a change made through the mount. */
struct tmemfs_mod {
    bool active;
    struct tmem_oid oid;
};

/* Before changing (dirfd, name) or fd (fd >= 0 wins). */
static void tmemfs_mod_begin(struct tmemfs_fs *fs, int fd, int dirfd, const char *name,
                           struct tmemfs_mod *m)
{
    struct statx stx;
    int rc = fd >= 0 ? tmemfs_fstatx(fd, &stx) : tmemfs_statx(dirfd, name, 0, &stx);

    m->active = false;
    if (rc < 0 || !S_ISREG(stx.stx_mode))
        return;
    tmemfs_oid_from_statx(&stx, &m->oid);
    m->active = tmemfs_object_table_begin_modify(fs->objs, &stx) == 0;
}

/* After the change: record the file's new attributes (looked up at fd, or
 * (dirfd, name)); flushes the object if they cannot be read. */
static void tmemfs_mod_end(struct tmemfs_fs *fs, int fd, int dirfd, const char *name,
                         struct tmemfs_mod *m)
{
    struct statx stx;
    struct tmem_oid now;
    int rc;

    if (!m->active)
        return;
    rc = fd >= 0 ? tmemfs_fstatx(fd, &stx) : tmemfs_statx(dirfd, name, 0, &stx);
    if (rc == 0) {
        tmemfs_oid_from_statx(&stx, &now);
        if (!tmemfs_oid_equal(&now, &m->oid))
            rc = -ESTALE;
    }
    tmemfs_object_table_end_modify(fs->objs, &m->oid, rc == 0 ? &stx : NULL);
    m->active = false;
}

/* ---------------------------------------------------------- operations */

static void *tmemfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    struct tmemfs_fs *fs = tmemfs_self();

    (void)conn;
    cfg->use_ino = 1;
    cfg->hard_remove = 1;
    cfg->nullpath_ok = 1;
    cfg->direct_io = fs->opts->kcache ? 0 : 1;
    cfg->kernel_cache = 0;
    cfg->auto_cache = fs->opts->kcache ? 1 : 0;
    return fs;
}

static int tmemfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_fh *fh = tmemfs_fh_of(fi);
    struct statx stx;
    struct tmemfs_at at;
    int which = tmemfs_control_match(fs, path);
    int rc;

    if (fh && (fh->kind == TMEMFS_FH_CTL || fh->kind == TMEMFS_FH_CTLDIR))
        return tmemfs_control_getattr(fs, fh->kind == TMEMFS_FH_CTL ? fh->ctl : TMEMFS_CONTROL_DIR, st);
    if (!fh && which != TMEMFS_CONTROL_NONE)
        return tmemfs_control_getattr(fs, which, st);
    if (fh && fh->kind == TMEMFS_FH_FILE) {
        rc = tmemfs_fstatx(fh->fd, &stx);
    } else if (fh && fh->kind == TMEMFS_FH_DIR) {
        rc = tmemfs_fstatx(dirfd(fh->dp), &stx);
    } else {
        if (!path)
            return -ENOENT;
        rc = tmemfs_at_open(fs->rootfd, path, &at);
        if (rc < 0)
            return rc;
        rc = tmemfs_statx(at.dirfd, at.name, 0, &stx);
        tmemfs_at_close(&at);
    }
    if (rc < 0)
        return rc;
    if (S_ISREG(stx.stx_mode))
        (void)tmemfs_object_table_check(fs->objs, &stx, false);
    tmemfs_statx_to_stat(&stx, st);
    return 0;
}

static int tmemfs_readlink(const char *path, char *buf, size_t size)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_at at;
    ssize_t n;
    int rc;

    TMEMFS_NO_CTL(fs, path);
    if (size == 0)
        return -EINVAL;
    rc = tmemfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    n = readlinkat(at.dirfd, at.name, buf, size - 1);
    rc = n < 0 ? -errno : 0;
    tmemfs_at_close(&at);
    if (n >= 0)
        buf[n] = '\0';
    return rc;
}

static int tmemfs_mknod(const char *path, mode_t mode, dev_t rdev)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_at at;
    int rc;

    TMEMFS_NO_CTL(fs, path);
    rc = tmemfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    if (S_ISFIFO(mode))
        rc = mkfifoat(at.dirfd, at.name, mode & 07777);
    else
        rc = mknodat(at.dirfd, at.name, mode, rdev);
    rc = rc < 0 ? -errno : 0;
    tmemfs_at_close(&at);
    return rc;
}

static int tmemfs_mkdir(const char *path, mode_t mode)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_at at;
    int rc;

    TMEMFS_NO_CTL(fs, path);
    rc = tmemfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    rc = mkdirat(at.dirfd, at.name, mode) < 0 ? -errno : 0;
    tmemfs_at_close(&at);
    return rc;
}

static int tmemfs_unlink(const char *path)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_at at;
    struct tmemfs_mod m = { 0 };
    struct statx stx;
    int rc, pfd;

    TMEMFS_NO_CTL(fs, path);
    rc = tmemfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    /* Keep an O_PATH handle on the inode to learn its link count after. */
    pfd = openat(at.dirfd, at.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pfd >= 0)
        tmemfs_mod_begin(fs, pfd, -1, NULL, &m);
    rc = unlinkat(at.dirfd, at.name, 0) < 0 ? -errno : 0;
    if (pfd >= 0) {
        tmemfs_mod_end(fs, pfd, -1, NULL, &m);
        if (rc == 0 && tmemfs_fstatx(pfd, &stx) == 0 && S_ISREG(stx.stx_mode) &&
            stx.stx_nlink == 0) {
            struct tmem_oid oid;
            tmemfs_oid_from_statx(&stx, &oid);
            tmemfs_object_table_forget(fs->objs, &oid);
        }
        close(pfd);
    }
    tmemfs_at_close(&at);
    return rc;
}

static int tmemfs_rmdir(const char *path)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_at at;
    int rc;

    TMEMFS_NO_CTL(fs, path);
    rc = tmemfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    rc = unlinkat(at.dirfd, at.name, AT_REMOVEDIR) < 0 ? -errno : 0;
    tmemfs_at_close(&at);
    return rc;
}

static int tmemfs_symlink(const char *target, const char *path)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_at at;
    int rc;

    TMEMFS_NO_CTL(fs, path);
    rc = tmemfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    rc = symlinkat(target, at.dirfd, at.name) < 0 ? -errno : 0;
    tmemfs_at_close(&at);
    return rc;
}

static int tmemfs_rename(const char *from, const char *to, unsigned int flags)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_at a, b;
    struct tmemfs_mod ma = { 0 }, mb = { 0 };
    struct statx stx;
    int rc, pa = -1, pb = -1;

    TMEMFS_NO_CTL(fs, from);
    TMEMFS_NO_CTL(fs, to);
    rc = tmemfs_at_open(fs->rootfd, from, &a);
    if (rc < 0)
        return rc;
    rc = tmemfs_at_open(fs->rootfd, to, &b);
    if (rc < 0) {
        tmemfs_at_close(&a);
        return rc;
    }
    pa = openat(a.dirfd, a.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    pb = openat(b.dirfd, b.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pa >= 0)
        tmemfs_mod_begin(fs, pa, -1, NULL, &ma);
    if (pb >= 0)
        tmemfs_mod_begin(fs, pb, -1, NULL, &mb);
    rc = renameat2(a.dirfd, a.name, b.dirfd, b.name, flags) < 0 ? -errno : 0;
    if (pa >= 0)
        tmemfs_mod_end(fs, pa, -1, NULL, &ma);
    if (pb >= 0) {
        tmemfs_mod_end(fs, pb, -1, NULL, &mb);
        /* Replaced target that lost its last link: the object is gone. */
        if (rc == 0 && !(flags & RENAME_EXCHANGE) && tmemfs_fstatx(pb, &stx) == 0 &&
            S_ISREG(stx.stx_mode) && stx.stx_nlink == 0) {
            struct tmem_oid oid;
            tmemfs_oid_from_statx(&stx, &oid);
            tmemfs_object_table_forget(fs->objs, &oid);
        }
    }
    if (pa >= 0)
        close(pa);
    if (pb >= 0)
        close(pb);
    tmemfs_at_close(&a);
    tmemfs_at_close(&b);
    return rc;
}

static int tmemfs_link(const char *from, const char *to)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_at a, b;
    struct tmemfs_mod m = { 0 };
    int rc;

    TMEMFS_NO_CTL(fs, from);
    TMEMFS_NO_CTL(fs, to);
    rc = tmemfs_at_open(fs->rootfd, from, &a);
    if (rc < 0)
        return rc;
    rc = tmemfs_at_open(fs->rootfd, to, &b);
    if (rc < 0) {
        tmemfs_at_close(&a);
        return rc;
    }
    tmemfs_mod_begin(fs, -1, a.dirfd, a.name, &m);
    rc = linkat(a.dirfd, a.name, b.dirfd, b.name, 0) < 0 ? -errno : 0;
    tmemfs_mod_end(fs, -1, b.dirfd, b.name, &m);
    tmemfs_at_close(&a);
    tmemfs_at_close(&b);
    return rc;
}

/* Run an attribute change on fd (if >= 0) or on path's last component. */
enum tmemfs_attr_op { TMEMFS_CHMOD, TMEMFS_CHOWN, TMEMFS_UTIMENS };

static int tmemfs_attr_change(const char *path, struct fuse_file_info *fi, enum tmemfs_attr_op op,
                            mode_t mode, uid_t uid, gid_t gid, const struct timespec tv[2])
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_mod m = { 0 };
    struct tmemfs_at at;
    int fd = tmemfs_fi_fd(fi);
    int rc;

    TMEMFS_NO_CTL(fs, path);
    at.owned = 0;
    if (fd < 0) {
        if (!path)
            return -ENOENT;
        rc = tmemfs_at_open(fs->rootfd, path, &at);
        if (rc < 0)
            return rc;
    }
    tmemfs_mod_begin(fs, fd, at.dirfd, at.name, &m);
    switch (op) {
    case TMEMFS_CHMOD:
        rc = fd >= 0 ? fchmod(fd, mode) : fchmodat(at.dirfd, at.name, mode, AT_SYMLINK_NOFOLLOW);
        break;
    case TMEMFS_CHOWN:
        rc = fd >= 0 ? fchown(fd, uid, gid)
                     : fchownat(at.dirfd, at.name, uid, gid, AT_SYMLINK_NOFOLLOW);
        break;
    default:
        rc = fd >= 0 ? futimens(fd, tv) : utimensat(at.dirfd, at.name, tv, AT_SYMLINK_NOFOLLOW);
        break;
    }
    rc = rc < 0 ? -errno : 0;
    tmemfs_mod_end(fs, fd, at.dirfd, at.name, &m);
    tmemfs_at_close(&at);
    return rc;
}

static int tmemfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    return tmemfs_attr_change(path, fi, TMEMFS_CHMOD, mode, 0, 0, NULL);
}

static int tmemfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    return tmemfs_attr_change(path, fi, TMEMFS_CHOWN, 0, uid, gid, NULL);
}

static int tmemfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    return tmemfs_attr_change(path, fi, TMEMFS_UTIMENS, 0, 0, 0, tv);
}

/* Truncate the open regular file fd to size, with invalidation. */
static int tmemfs_truncate_fd(struct tmemfs_fs *fs, int fd, off_t size)
{
    struct tmemfs_mod m = { 0 };
    int rc;

    tmemfs_mod_begin(fs, fd, -1, NULL, &m);
    if (m.active)
        rc = tmemfs_io_truncate(&fs->io, &m.oid, fd, (uint64_t)size);
    else
        rc = ftruncate(fd, size) < 0 ? -errno : 0;
    tmemfs_mod_end(fs, fd, -1, NULL, &m);
    return rc;
}

static int tmemfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_at at;
    int fd = tmemfs_fi_fd(fi);
    int which = tmemfs_control_match(fs, path);
    int rc;

    if (which != TMEMFS_CONTROL_NONE || (tmemfs_fh_of(fi) && tmemfs_fh_of(fi)->kind == TMEMFS_FH_CTL))
        return 0; /* "echo N > ctl/file" truncates first: nothing to do */
    if (size < 0)
        return -EINVAL;
    if (fd >= 0)
        return tmemfs_truncate_fd(fs, fd, size);
    if (!path)
        return -ENOENT;
    rc = tmemfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    fd = openat(at.dirfd, at.name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    tmemfs_at_close(&at);
    if (fd < 0)
        return -errno;
    rc = tmemfs_truncate_fd(fs, fd, size);
    close(fd);
    return rc;
}

/* Common tail of open and create: wrap fd in a handle. */
static int tmemfs_open_fd(struct tmemfs_fs *fs, int fd, int flags, bool created,
                        struct fuse_file_info *fi)
{
    struct tmemfs_fh *fh;
    struct statx stx;
    int rc;

    rc = tmemfs_fstatx(fd, &stx);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    fh = calloc(1, sizeof(*fh));
    if (!fh) {
        close(fd);
        return -ENOMEM;
    }
    fh->kind = TMEMFS_FH_FILE;
    fh->fd = fd;
    fh->append = (flags & O_APPEND) != 0;
    fh->reg = S_ISREG(stx.stx_mode);
    if (fh->reg) {
        tmemfs_oid_from_statx(&stx, &fh->oid);
        /* A new file without a birth time may reuse an old oid. */
        if (created && !(stx.stx_mask & STATX_BTIME))
            tmemfs_io_invalidate_object(&fs->io, &fh->oid);
        rc = tmemfs_object_table_check(fs->objs, &stx, true);
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

static int tmemfs_open(const char *path, struct fuse_file_info *fi)
{
    struct tmemfs_fs *fs = tmemfs_self();
    int which = tmemfs_control_match(fs, path);
    struct tmemfs_at at;
    int flags, fd, rc;
    bool trunc;

    if (which != TMEMFS_CONTROL_NONE) {
        struct tmemfs_fh *fh = calloc(1, sizeof(*fh));
        if (!fh)
            return -ENOMEM;
        rc = tmemfs_control_open(fs, which, fi->flags, fuse_get_context()->uid, fh);
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
    rc = tmemfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    flags = fi->flags & ~(O_DIRECT | O_CREAT | O_EXCL | O_NOCTTY);
    /* O_TRUNC on a writable open is done by us (tmemfs_io_truncate), so the
     * caches are invalidated and it is not taken for an outside change. */
    trunc = (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY;
    if (trunc)
        flags &= ~O_TRUNC;
    fd = openat(at.dirfd, at.name, flags | O_NOFOLLOW | O_CLOEXEC);
    tmemfs_at_close(&at);
    if (fd < 0)
        return -errno;
    if (trunc) {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = tmemfs_truncate_fd(fs, fd, 0);
            if (rc < 0) {
                close(fd);
                return rc;
            }
        }
    }
    return tmemfs_open_fd(fs, fd, flags, false, fi);
}

static int tmemfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_at at;
    int flags, fd, rc;

    TMEMFS_NO_CTL(fs, path);
    rc = tmemfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    flags = (fi->flags & ~(O_DIRECT | O_NOCTTY)) | O_CREAT;
    fd = openat(at.dirfd, at.name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = -errno;
        tmemfs_at_close(&at);
        return rc;
    }
    tmemfs_at_close(&at);
    if (flags & O_TRUNC) {
        /* An existing file may have been truncated: drop its pages. */
        struct statx stx;
        struct tmem_oid oid;
        if (tmemfs_fstatx(fd, &stx) == 0 && S_ISREG(stx.stx_mode)) {
            tmemfs_oid_from_statx(&stx, &oid);
            tmemfs_io_invalidate_object(&fs->io, &oid);
            tmemfs_object_table_end_modify(fs->objs, &oid, &stx);
        }
    }
    return tmemfs_open_fd(fs, fd, flags, true, fi);
}

/* A read or write at off needs an open file (not a directory) and off >= 0:
 * 0, or the errno to return. */
static int tmemfs_check_data_fh(const struct tmemfs_fh *fh, off_t off)
{
    if (!fh)
        return -EBADF;
    if (fh->kind != TMEMFS_FH_FILE)
        return -EISDIR;
    return off < 0 ? -EINVAL : 0;
}

static int tmemfs_read(const char *path, char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_fh *fh = tmemfs_fh_of(fi);
    struct statx stx;
    ssize_t n;
    int rc;

    (void)path;
    if (fh && fh->kind == TMEMFS_FH_CTL)
        return (int)tmemfs_control_read(fh, buf, size, off);
    rc = tmemfs_check_data_fh(fh, off);
    if (rc < 0)
        return rc;
    if (!fh->reg) {
        n = pread(fh->fd, buf, size, off);
        return n < 0 ? -errno : (int)n;
    }
    rc = tmemfs_fstatx(fh->fd, &stx);
    if (rc < 0)
        return rc;
    (void)tmemfs_object_table_check(fs->objs, &stx, false);
    n = tmemfs_io_read(&fs->io, &fh->oid, fh->fd, stx.stx_size, buf, size, (uint64_t)off);
    return (int)n;
}

static int tmemfs_write(const char *path, const char *buf, size_t size, off_t off,
                      struct fuse_file_info *fi)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_fh *fh = tmemfs_fh_of(fi);
    struct tmemfs_mod m = { 0 };
    ssize_t n;
    int rc;

    (void)path;
    if (fh && fh->kind == TMEMFS_FH_CTL)
        return (int)tmemfs_control_write(fs, fh, buf, size);
    rc = tmemfs_check_data_fh(fh, off);
    if (rc < 0)
        return rc;
    if (!fh->reg) {
        n = pwrite(fh->fd, buf, size, off);
        return n < 0 ? -errno : (int)n;
    }
    tmemfs_mod_begin(fs, fh->fd, -1, NULL, &m);
    n = tmemfs_io_write(&fs->io, &fh->oid, fh->fd, buf, size, (uint64_t)off, fh->append);
    tmemfs_mod_end(fs, fh->fd, -1, NULL, &m);
    return (int)n;
}

static int tmemfs_statfs(const char *path, struct statvfs *sv)
{
    struct tmemfs_fs *fs = tmemfs_self();

    (void)path;
    return fstatvfs(fs->rootfd, sv) < 0 ? -errno : 0;
}

static int tmemfs_flush(const char *path, struct fuse_file_info *fi)
{
    int fd = tmemfs_fi_fd(fi), dfd;

    (void)path;
    if (fd < 0)
        return 0;
    /* Close a duplicate so the backing filesystem sees the close(2). */
    dfd = dup(fd);
    if (dfd < 0)
        return -errno;
    return close(dfd) < 0 ? -errno : 0;
}

static int tmemfs_release(const char *path, struct fuse_file_info *fi)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_fh *fh = tmemfs_fh_of(fi);
    struct statx stx;

    (void)path;
    if (!fh)
        return 0;
    if (fh->kind == TMEMFS_FH_FILE) {
        if (fh->pinned) {
            tmemfs_object_table_unpin(fs->objs, &fh->oid);
            /* Last close of an unlinked file: its pages can never be read. */
            if (tmemfs_fstatx(fh->fd, &stx) == 0 && stx.stx_nlink == 0)
                tmemfs_object_table_forget(fs->objs, &fh->oid);
        }
        close(fh->fd);
    }
    free(fh->buf);
    free(fh);
    return 0;
}

static int tmemfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    int fd = tmemfs_fi_fd(fi);

    (void)path;
    if (fd < 0)
        return 0;
    return (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? -errno : 0;
}

/* xattrs have no *at() form: reach the inode through /proc/self/fd of an
 * O_PATH, O_NOFOLLOW descriptor (a symlink is then acted on, not followed). */
static int tmemfs_xattr_open(const char *path, char *proc, size_t procsz)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_at at;
    int fd, rc;

    if (!path)
        return -ENOENT;
    rc = tmemfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    fd = openat(at.dirfd, at.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    rc = -errno;
    tmemfs_at_close(&at);
    if (fd < 0)
        return rc;
    snprintf(proc, procsz, "/proc/self/fd/%d", fd);
    return fd;
}

static int tmemfs_setxattr(const char *path, const char *name, const char *value, size_t size,
                         int flags)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_mod m = { 0 };
    char proc[64];
    int fd, rc;

    TMEMFS_NO_CTL(fs, path);
    fd = tmemfs_xattr_open(path, proc, sizeof(proc));
    if (fd < 0)
        return fd;
    tmemfs_mod_begin(fs, fd, -1, NULL, &m);
    rc = setxattr(proc, name, value, size, flags) < 0 ? -errno : 0;
    tmemfs_mod_end(fs, fd, -1, NULL, &m);
    close(fd);
    return rc;
}

static int tmemfs_getxattr(const char *path, const char *name, char *value, size_t size)
{
    struct tmemfs_fs *fs = tmemfs_self();
    char proc[64];
    ssize_t n;
    int fd, rc;

    if (tmemfs_control_match(fs, path) != TMEMFS_CONTROL_NONE)
        return -ENODATA;
    fd = tmemfs_xattr_open(path, proc, sizeof(proc));
    if (fd < 0)
        return fd;
    n = getxattr(proc, name, value, size);
    rc = n < 0 ? -errno : (int)n;
    close(fd);
    return rc;
}

static int tmemfs_listxattr(const char *path, char *list, size_t size)
{
    struct tmemfs_fs *fs = tmemfs_self();
    char proc[64];
    ssize_t n;
    int fd, rc;

    if (tmemfs_control_match(fs, path) != TMEMFS_CONTROL_NONE)
        return 0;
    fd = tmemfs_xattr_open(path, proc, sizeof(proc));
    if (fd < 0)
        return fd;
    n = listxattr(proc, list, size);
    rc = n < 0 ? -errno : (int)n;
    close(fd);
    return rc;
}

static int tmemfs_removexattr(const char *path, const char *name)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_mod m = { 0 };
    char proc[64];
    int fd, rc;

    TMEMFS_NO_CTL(fs, path);
    fd = tmemfs_xattr_open(path, proc, sizeof(proc));
    if (fd < 0)
        return fd;
    tmemfs_mod_begin(fs, fd, -1, NULL, &m);
    rc = removexattr(proc, name) < 0 ? -errno : 0;
    tmemfs_mod_end(fs, fd, -1, NULL, &m);
    close(fd);
    return rc;
}

static int tmemfs_opendir(const char *path, struct fuse_file_info *fi)
{
    struct tmemfs_fs *fs = tmemfs_self();
    int which = tmemfs_control_match(fs, path);
    struct tmemfs_fh *fh;
    struct tmemfs_at at;
    int fd, rc;

    if (which > TMEMFS_CONTROL_DIR)
        return -ENOTDIR;
    fh = calloc(1, sizeof(*fh));
    if (!fh)
        return -ENOMEM;
    if (which == TMEMFS_CONTROL_DIR) {
        fh->kind = TMEMFS_FH_CTLDIR;
        fh->fd = -1;
        fi->fh = (uint64_t)(uintptr_t)fh;
        return 0;
    }
    rc = path ? tmemfs_at_open(fs->rootfd, path, &at) : -ENOENT;
    if (rc < 0)
        goto fail;
    fd = openat(at.dirfd, at.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    rc = -errno;
    tmemfs_at_close(&at);
    if (fd < 0)
        goto fail;
    fh->dp = fdopendir(fd);
    if (!fh->dp) {
        rc = -errno;
        close(fd);
        goto fail;
    }
    fh->kind = TMEMFS_FH_DIR;
    fh->fd = -1;
    fh->is_root = strcmp(path, "/") == 0;
    fi->fh = (uint64_t)(uintptr_t)fh;
    return 0;
fail:
    free(fh);
    return rc;
}

static int tmemfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
                        struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_fh *fh = tmemfs_fh_of(fi);
    struct stat st;

    (void)path;
    if (!fh)
        return -EBADF;
    if (fh->kind == TMEMFS_FH_CTLDIR) {
        static const char *const dots[] = { ".", ".." };
        int i;
        memset(&st, 0, sizeof(st));
        for (i = 0; i < 2 + TMEMFS_CONTROL_NOENT - TMEMFS_CONTROL_STATS; i++) {
            const char *name = i < 2 ? dots[i] : tmemfs_control_name(TMEMFS_CONTROL_STATS + i - 2);
            if (i < offset)
                continue;
            st.st_mode = i < 2 ? S_IFDIR : S_IFREG;
            if (filler(buf, name, &st, i + 1, 0))
                break;
        }
        return 0;
    }
    if (fh->kind != TMEMFS_FH_DIR)
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
        if (fh->is_root && tmemfs_control_is_name(fs, fh->entry->d_name)) {
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

static int tmemfs_releasedir(const char *path, struct fuse_file_info *fi)
{
    struct tmemfs_fh *fh = tmemfs_fh_of(fi);

    (void)path;
    if (fh && fh->dp)
        closedir(fh->dp);
    free(fh);
    return 0;
}

static int tmemfs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
    struct tmemfs_fh *fh = tmemfs_fh_of(fi);
    int fd;

    (void)path;
    if (!fh || !fh->dp)
        return 0;
    fd = dirfd(fh->dp);
    return (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? -errno : 0;
}

static int tmemfs_access(const char *path, int mask)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_at at;
    int rc;

    if (tmemfs_control_match(fs, path) != TMEMFS_CONTROL_NONE)
        return 0;
    rc = tmemfs_at_open(fs->rootfd, path, &at);
    if (rc < 0)
        return rc;
    /* AT_EACCESS: check as the thread's fsuid/fsgid (the caller's), not
     * as the daemon's real uid, which faccessat would use otherwise. */
    rc = faccessat(at.dirfd, at.name, mask, AT_EACCESS | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
    tmemfs_at_close(&at);
    return rc;
}

static int tmemfs_fallocate(const char *path, int mode, off_t off, off_t len,
                          struct fuse_file_info *fi)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_fh *fh = tmemfs_fh_of(fi);
    struct tmemfs_mod m = { 0 };
    int rc;

    (void)path;
    if (!fh || fh->kind != TMEMFS_FH_FILE)
        return -EBADF;
    tmemfs_mod_begin(fs, fh->fd, -1, NULL, &m);
    rc = fallocate(fh->fd, mode, off, len) < 0 ? -errno : 0;
    if (rc == 0 && fh->reg) {
        if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))
            tmemfs_io_invalidate_range(&fs->io, &fh->oid, (uint64_t)off, UINT64_MAX);
        else
            tmemfs_io_invalidate_range(&fs->io, &fh->oid, (uint64_t)off, (uint64_t)len);
    }
    tmemfs_mod_end(fs, fh->fd, -1, NULL, &m);
    return rc;
}

static ssize_t tmemfs_copy_file_range(const char *path_in, struct fuse_file_info *fi_in,
                                    off_t off_in, const char *path_out,
                                    struct fuse_file_info *fi_out, off_t off_out, size_t len,
                                    int flags)
{
    struct tmemfs_fs *fs = tmemfs_self();
    struct tmemfs_fh *in = tmemfs_fh_of(fi_in), *out = tmemfs_fh_of(fi_out);
    struct tmemfs_mod m = { 0 };
    loff_t oi = off_in, oo = off_out;
    ssize_t n;

    (void)path_in;
    (void)path_out;
    if (!in || !out || in->kind != TMEMFS_FH_FILE || out->kind != TMEMFS_FH_FILE)
        return -EBADF;
    tmemfs_mod_begin(fs, out->fd, -1, NULL, &m);
    n = copy_file_range(in->fd, &oi, out->fd, &oo, len, (unsigned)flags);
    if (n < 0)
        n = -errno;
    else if (n > 0 && out->reg) {
        tmemfs_io_invalidate_range(&fs->io, &out->oid, (uint64_t)off_out, (uint64_t)n);
        tmemfs_stats_add(&fs->stats, TMEMFS_BACKING_BYTES_WRITTEN, (uint64_t)n);
    }
    tmemfs_mod_end(fs, out->fd, -1, NULL, &m);
    return n;
}

static off_t tmemfs_lseek(const char *path, off_t off, int whence, struct fuse_file_info *fi)
{
    int fd = tmemfs_fi_fd(fi);
    off_t r;

    (void)path;
    if (fd < 0)
        return -EBADF;
    r = lseek(fd, off, whence);
    return r < 0 ? -errno : r;
}

static int tmemfs_flock(const char *path, struct fuse_file_info *fi, int op)
{
    int fd = tmemfs_fi_fd(fi);

    (void)path;
    if (fd < 0)
        return -EBADF;
    return flock(fd, op) < 0 ? -errno : 0;
}

/* ------------------------------------------- as the caller (tmemfs_creds) */

static int tmemfs_fuse_getgroups(void *arg, int size, gid_t list[])
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
 * the caller opened it. tmemfs_op_NAME runs tmemfs_NAME(ARGS) as the caller.
 */
#define TMEMFS_AS_CALLER(name, params, args)                                                    \
    static int tmemfs_op_##name params                                                       \
    {                                                                                      \
        struct fuse_context *ctx = fuse_get_context();                                     \
        struct tmemfs_fs *fs = ctx->private_data;                                            \
        struct tmemfs_creds_scope scope;                                                     \
        int rc = tmemfs_creds_enter(&fs->creds, ctx->uid, ctx->gid, tmemfs_fuse_getgroups,     \
                                  NULL, &scope);                                           \
        if (rc < 0)                                                                        \
            return rc;                                                                     \
        rc = tmemfs_##name args;                                                             \
        tmemfs_creds_leave(&fs->creds, &scope);                                              \
        return rc;                                                                         \
    }

TMEMFS_AS_CALLER(getattr, (const char *path, struct stat *st, struct fuse_file_info *fi),
               (path, st, fi))
TMEMFS_AS_CALLER(readlink, (const char *path, char *buf, size_t size), (path, buf, size))
TMEMFS_AS_CALLER(mknod, (const char *path, mode_t mode, dev_t rdev), (path, mode, rdev))
TMEMFS_AS_CALLER(mkdir, (const char *path, mode_t mode), (path, mode))
TMEMFS_AS_CALLER(unlink, (const char *path), (path))
TMEMFS_AS_CALLER(rmdir, (const char *path), (path))
TMEMFS_AS_CALLER(symlink, (const char *target, const char *path), (target, path))
TMEMFS_AS_CALLER(rename, (const char *from, const char *to, unsigned int flags), (from, to, flags))
TMEMFS_AS_CALLER(link, (const char *from, const char *to), (from, to))
TMEMFS_AS_CALLER(chmod, (const char *path, mode_t mode, struct fuse_file_info *fi), (path, mode, fi))
TMEMFS_AS_CALLER(chown, (const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi),
               (path, uid, gid, fi))
TMEMFS_AS_CALLER(utimens, (const char *path, const struct timespec tv[2], struct fuse_file_info *fi),
               (path, tv, fi))
TMEMFS_AS_CALLER(truncate, (const char *path, off_t size, struct fuse_file_info *fi),
               (path, size, fi))
TMEMFS_AS_CALLER(open, (const char *path, struct fuse_file_info *fi), (path, fi))
TMEMFS_AS_CALLER(create, (const char *path, mode_t mode, struct fuse_file_info *fi),
               (path, mode, fi))
TMEMFS_AS_CALLER(setxattr, (const char *path, const char *name, const char *value, size_t size,
                          int flags), (path, name, value, size, flags))
TMEMFS_AS_CALLER(getxattr, (const char *path, const char *name, char *value, size_t size),
               (path, name, value, size))
TMEMFS_AS_CALLER(listxattr, (const char *path, char *list, size_t size), (path, list, size))
TMEMFS_AS_CALLER(removexattr, (const char *path, const char *name), (path, name))
TMEMFS_AS_CALLER(opendir, (const char *path, struct fuse_file_info *fi), (path, fi))
TMEMFS_AS_CALLER(readdir, (const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
                         struct fuse_file_info *fi, enum fuse_readdir_flags flags),
               (path, buf, filler, offset, fi, flags))
TMEMFS_AS_CALLER(access, (const char *path, int mask), (path, mask))

static const struct fuse_operations tmemfs_ops = {
    .init = tmemfs_init,
    .getattr = tmemfs_op_getattr,
    .readlink = tmemfs_op_readlink,
    .mknod = tmemfs_op_mknod,
    .mkdir = tmemfs_op_mkdir,
    .unlink = tmemfs_op_unlink,
    .rmdir = tmemfs_op_rmdir,
    .symlink = tmemfs_op_symlink,
    .rename = tmemfs_op_rename,
    .link = tmemfs_op_link,
    .chmod = tmemfs_op_chmod,
    .chown = tmemfs_op_chown,
    .truncate = tmemfs_op_truncate,
    .open = tmemfs_op_open,
    .read = tmemfs_read,
    .write = tmemfs_write,
    .statfs = tmemfs_statfs,
    .flush = tmemfs_flush,
    .release = tmemfs_release,
    .fsync = tmemfs_fsync,
    .setxattr = tmemfs_op_setxattr,
    .getxattr = tmemfs_op_getxattr,
    .listxattr = tmemfs_op_listxattr,
    .removexattr = tmemfs_op_removexattr,
    .opendir = tmemfs_op_opendir,
    .readdir = tmemfs_op_readdir,
    .releasedir = tmemfs_releasedir,
    .fsyncdir = tmemfs_fsyncdir,
    .access = tmemfs_op_access,
    .create = tmemfs_op_create,
    .utimens = tmemfs_op_utimens,
    .fallocate = tmemfs_fallocate,
    .copy_file_range = tmemfs_copy_file_range,
    .lseek = tmemfs_lseek,
    .flock = tmemfs_flock,
};

const struct fuse_operations *tmemfs_fuse_ops(void)
{
    return &tmemfs_ops;
}
