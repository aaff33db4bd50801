/*
 * tmemfs_ops.c - the FUSE operations of tmemfs (libfuse 3 low-level API).
 *
 * Models: a passthrough filesystem over SOURCE whose regular-file data path
 * goes through the guest page cache and cleancache (tmemfs_io), with the
 * invalidation a kernel filesystem does for cleancache: writes and
 * truncates invalidate the pages they touch, unlink of the last link and
 * replacement by rename flush the object, and a change made outside the
 * mount is detected at open, getattr and read
 * (tmemfs_object_table_check).
 *
 * Every request names inodes (tmemfs_inode.h): each holds an O_PATH
 * descriptor of its backing inode, and every call is made relative to it
 * (*at() with the parent's descriptor and the name; /proc/self/fd/N where
 * a call has no such form). No path is rebuilt from the mount root and no
 * symlink is ever followed by the daemon. Requests on the control
 * directory's inodes go to tmemfs_control, decided once per handler by
 * the inode's kind.
 *
 * Every request that names, creates, opens, lists or changes something
 * runs with the caller's credentials (tmemfs_creds.h: tmemfs_request_begin
 * .. tmemfs_request_end), so the backing filesystem refuses what it would
 * refuse the caller and new files belong to their creator; creations get
 * the caller's umask (FUSE_CAP_DONT_MASK). Operations on an open
 * descriptor (read, write, fsync, flush, release, lseek, flock, fallocate,
 * copy_file_range) need no switch: the access was checked at open.
 *
 * Data: open files and directories are struct tmemfs_fh (fuse fh).
 * Locking: none here; tmemfs_inode, tmemfs_io and tmemfs_object_table lock
 * inside (object table -> io; the inode table's lock is taken alone).
 * Changes to a regular file through the mount are bracketed by
 * tmemfs_object_table_begin_modify / end_modify (tmemfs_mod_begin / end,
 * always in pairs) so they do not look like outside changes.
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

#include "fuse_cleancache/tmemfs_control.h"
#include "fuse_cleancache/tmemfs_creds.h"

/* ------------------------------------------------------------ requests */

/* One request being served: its mount and its change of identity. */
struct tmemfs_request {
    fuse_req_t req;
    struct tmemfs_fs *fs;
    const struct fuse_ctx *ctx;
    struct tmemfs_creds_scope scope;
};

static int tmemfs_request_groups(void *arg, int size, gid_t list[])
{
    return fuse_req_getgroups(arg, size, list);
}

/* Take on req's caller's identity (tmemfs_creds.h). false when that
 * failed: the error has been replied, and tmemfs_request_end must not be
 * called. */
static bool tmemfs_request_begin(fuse_req_t req, struct tmemfs_request *r)
{
    int rc;

    r->req = req;
    r->fs = fuse_req_userdata(req);
    r->ctx = fuse_req_ctx(req);
    rc = tmemfs_creds_enter(&r->fs->creds, r->ctx->uid, r->ctx->gid, tmemfs_request_groups, req,
                            &r->scope);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    return rc == 0;
}

static void tmemfs_request_end(struct tmemfs_request *r)
{
    tmemfs_creds_leave(&r->fs->creds, &r->scope);
}

static struct tmemfs_fs *tmemfs_fs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

static struct tmemfs_inode *tmemfs_inode_of(struct tmemfs_fs *fs, fuse_ino_t ino)
{
    return ino == FUSE_ROOT_ID ? &fs->inodes.root : (struct tmemfs_inode *)(uintptr_t)ino;
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

static bool tmemfs_is_backing(const struct tmemfs_inode *inode)
{
    return inode->kind == TMEMFS_INODE_BACKING;
}

/* -------------------------------------------- modification bracketing */

/* State of a regular file around a change made through the mount. */
struct tmemfs_mod {
    bool active;
    struct tmem_oid oid;
};

/* Before changing the file open (or O_PATH) at fd. */
static void tmemfs_mod_begin(struct tmemfs_fs *fs, int fd, struct tmemfs_mod *m)
{
    struct statx stx;

    m->active = false;
    if (tmemfs_fstatx(fd, &stx) < 0 || !S_ISREG(stx.stx_mode))
        return;
    tmemfs_oid_from_statx(&stx, &m->oid);
    m->active = tmemfs_object_table_begin_modify(fs->objs, &stx) == 0;
}

/* After the change: record the file's new attributes (looked up at fd);
 * flushes the object if they cannot be read or name another file. */
static void tmemfs_mod_end(struct tmemfs_fs *fs, int fd, struct tmemfs_mod *m)
{
    struct statx stx;
    struct tmem_oid now;
    int rc;

    if (!m->active)
        return;
    rc = tmemfs_fstatx(fd, &stx);
    if (rc == 0) {
        tmemfs_oid_from_statx(&stx, &now);
        if (!tmemfs_oid_equal(&now, &m->oid))
            rc = -ESTALE;
    }
    tmemfs_object_table_end_modify(fs->objs, &m->oid, rc == 0 ? &stx : NULL);
    m->active = false;
}

/* The file at fd lost its last link (unlink, or replaced by rename): its
 * pages can never be read through a name again. */
static void tmemfs_forget_if_unlinked(struct tmemfs_fs *fs, int fd)
{
    struct statx stx;
    struct tmem_oid oid;

    if (tmemfs_fstatx(fd, &stx) == 0 && S_ISREG(stx.stx_mode) && stx.stx_nlink == 0) {
        tmemfs_oid_from_statx(&stx, &oid);
        tmemfs_object_table_forget(fs->objs, &oid);
        tmemfs_record_unlink(fs->io.record, &oid);
    }
}

/* ------------------------------------------------------------ entries */

static void tmemfs_fill_entry(struct tmemfs_fs *fs, struct tmemfs_inode *inode,
                              const struct stat *st, struct fuse_entry_param *e)
{
    memset(e, 0, sizeof(*e));
    e->ino = (fuse_ino_t)(uintptr_t)inode;
    e->attr = *st;
    e->attr_timeout = fs->opts->attr_timeout;
    e->entry_timeout = fs->opts->entry_timeout;
}

/* Attributes of a backing inode (regular files: outside-change check). */
static int tmemfs_backing_attr(struct tmemfs_fs *fs, int fd, struct stat *st)
{
    struct statx stx;
    int rc = tmemfs_fstatx(fd, &stx);

    if (rc < 0)
        return rc;
    if (S_ISREG(stx.stx_mode))
        (void)tmemfs_object_table_check(fs->objs, &stx, false);
    tmemfs_statx_to_stat(&stx, st);
    return 0;
}

/*
 * Look name up in parent (as the caller): fill e and count one lookup of
 * the inode found. 0 or -errno.
 */
static int tmemfs_lookup_entry(struct tmemfs_fs *fs, struct tmemfs_inode *parent, const char *name,
                               struct fuse_entry_param *e)
{
    struct tmemfs_inode *inode;
    struct statx stx;
    struct stat st;
    int fd, rc;

    inode = tmemfs_control_lookup(fs, parent, name, &rc);
    if (inode) {
        tmemfs_control_getattr(inode, &st);
        tmemfs_fill_entry(fs, inode, &st, e);
        return 0;
    }
    if (rc < 0)
        return rc;
    if (!tmemfs_is_backing(parent))
        return -ENOTDIR;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return -EINVAL; /* the kernel resolves these itself */
    fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    rc = tmemfs_fstatx(fd, &stx);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    /* No outside-change check here: it would give every file a lookup
     * names (every entry of a readdirplus) an object-table record, and
     * evicting records flushes cached pages; open, getattr and read check. */
    inode = tmemfs_inode_get(&fs->inodes, fd, &stx, &rc);
    if (!inode)
        return rc;
    tmemfs_statx_to_stat(&stx, &st);
    tmemfs_fill_entry(fs, inode, &st, e);
    return 0;
}

static void tmemfs_reply_entry_or_err(fuse_req_t req, int rc, const struct fuse_entry_param *e)
{
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_entry(req, e);
}

/* ------------------------------------------------------------ lookup */

static void tmemfs_op_init(void *userdata, struct fuse_conn_info *conn)
{
    (void)userdata;
    /* The caller's umask is applied by the daemon (tmemfs_creds_umask). */
    if (conn->capable & FUSE_CAP_DONT_MASK)
        conn->want |= FUSE_CAP_DONT_MASK;
    conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
}

static void tmemfs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct tmemfs_request r;
    struct fuse_entry_param e;
    int rc;

    if (!tmemfs_request_begin(req, &r))
        return;
    rc = tmemfs_lookup_entry(r.fs, tmemfs_inode_of(r.fs, parent), name, &e);
    tmemfs_request_end(&r);
    if (rc == -ENOENT && r.fs->opts->negative_timeout > 0) {
        /* the kernel may remember that the name does not exist */
        memset(&e, 0, sizeof(e));
        e.entry_timeout = r.fs->opts->negative_timeout;
        rc = 0;
    }
    tmemfs_reply_entry_or_err(req, rc, &e);
}

static void tmemfs_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    struct tmemfs_fs *fs = tmemfs_fs_of(req);

    tmemfs_inode_forget(&fs->inodes, tmemfs_inode_of(fs, ino), nlookup);
    fuse_reply_none(req);
}

static void tmemfs_op_forget_multi(fuse_req_t req, size_t count,
                                   struct fuse_forget_data *forgets)
{
    struct tmemfs_fs *fs = tmemfs_fs_of(req);

    for (size_t i = 0; i < count; i++)
        tmemfs_inode_forget(&fs->inodes, tmemfs_inode_of(fs, forgets[i].ino),
                            forgets[i].nlookup);
    fuse_reply_none(req);
}

/* ------------------------------------------------------------ attributes */

static void tmemfs_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct tmemfs_request r;
    struct tmemfs_inode *inode;
    struct stat st;
    int rc = 0;

    (void)fi;
    if (!tmemfs_request_begin(req, &r))
        return;
    inode = tmemfs_inode_of(r.fs, ino);
    if (tmemfs_is_backing(inode))
        rc = tmemfs_backing_attr(r.fs, inode->fd, &st);
    else
        tmemfs_control_getattr(inode, &st);
    tmemfs_request_end(&r);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_attr(req, &st, r.fs->opts->attr_timeout);
}

/* Truncate the open regular file fd to size, with invalidation. */
static int tmemfs_truncate_fd(struct tmemfs_fs *fs, int fd, off_t size)
{
    struct tmemfs_mod m = { 0 };
    int rc;

    tmemfs_mod_begin(fs, fd, &m);
    if (m.active)
        rc = tmemfs_io_truncate(&fs->io, &m.oid, fd, (uint64_t)size);
    else
        rc = ftruncate(fd, size) < 0 ? -errno : 0;
    tmemfs_mod_end(fs, fd, &m);
    return rc;
}

/* One timestamp of setattr as utimensat wants it. */
static struct timespec tmemfs_time_to_set(int to_set, int set_bit, int now_bit,
                                          struct timespec t)
{
    if (to_set & now_bit)
        t.tv_nsec = UTIME_NOW;
    else if (!(to_set & set_bit))
        t.tv_nsec = UTIME_OMIT;
    return t;
}

/* The changes of one setattr on a backing inode (as the caller). */
static int tmemfs_setattr_backing(struct tmemfs_fs *fs, struct tmemfs_inode *inode,
                                  const struct stat *attr, int to_set, int fd)
{
    struct tmemfs_mod m = { 0 };
    char proc[64];
    int rc = 0;

    tmemfs_inode_proc_path(inode, proc, sizeof(proc));
    if (to_set & FUSE_SET_ATTR_SIZE) {
        int wfd = fd;
        if (wfd < 0) {
            wfd = open(proc, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
            if (wfd < 0)
                return -errno;
        }
        rc = attr->st_size < 0 ? -EINVAL : tmemfs_truncate_fd(fs, wfd, attr->st_size);
        if (wfd != fd)
            close(wfd);
        if (rc < 0)
            return rc;
    }
    if (!(to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID |
                    FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
                    FUSE_SET_ATTR_MTIME_NOW)))
        return 0;
    tmemfs_mod_begin(fs, inode->fd, &m);
    if (to_set & FUSE_SET_ATTR_MODE) {
        if (fd >= 0)
            rc = fchmod(fd, attr->st_mode);
        else if (S_ISLNK(inode->type))
            rc = (errno = EOPNOTSUPP, -1);
        else
            rc = chmod(proc, attr->st_mode);
        rc = rc < 0 ? -errno : 0;
    }
    if (rc == 0 && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
        uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
        gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;
        rc = fchownat(inode->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0
                 ? -errno : 0;
    }
    if (rc == 0 && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
                              FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW))) {
        struct timespec tv[2];
        tv[0] = tmemfs_time_to_set(to_set, FUSE_SET_ATTR_ATIME, FUSE_SET_ATTR_ATIME_NOW,
                                   attr->st_atim);
        tv[1] = tmemfs_time_to_set(to_set, FUSE_SET_ATTR_MTIME, FUSE_SET_ATTR_MTIME_NOW,
                                   attr->st_mtim);
        if (fd >= 0)
            rc = futimens(fd, tv);
        else
            rc = utimensat(inode->fd, "", tv, AT_EMPTY_PATH);
        rc = rc < 0 ? -errno : 0;
    }
    tmemfs_mod_end(fs, inode->fd, &m);
    return rc;
}

static void tmemfs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                              struct fuse_file_info *fi)
{
    struct tmemfs_request r;
    struct tmemfs_inode *inode;
    struct stat st;
    int rc = 0;

    if (!tmemfs_request_begin(req, &r))
        return;
    inode = tmemfs_inode_of(r.fs, ino);
    if (tmemfs_is_backing(inode)) {
        rc = tmemfs_setattr_backing(r.fs, inode, attr, to_set, tmemfs_fi_fd(fi));
        if (rc == 0)
            rc = tmemfs_backing_attr(r.fs, inode->fd, &st);
    } else if (to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_CTIME)) {
        rc = -EPERM;
    } else {
        /* "echo N > capacity" truncates first: nothing to do */
        tmemfs_control_getattr(inode, &st);
    }
    tmemfs_request_end(&r);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_attr(req, &st, r.fs->opts->attr_timeout);
}

static void tmemfs_op_readlink(fuse_req_t req, fuse_ino_t ino)
{
    struct tmemfs_request r;
    struct tmemfs_inode *inode;
    char buf[PATH_MAX + 1];
    ssize_t n = -EINVAL;

    if (!tmemfs_request_begin(req, &r))
        return;
    inode = tmemfs_inode_of(r.fs, ino);
    if (tmemfs_is_backing(inode)) {
        n = readlinkat(inode->fd, "", buf, sizeof(buf) - 1);
        if (n < 0)
            n = -errno;
    }
    tmemfs_request_end(&r);
    if (n < 0) {
        fuse_reply_err(req, (int)-n);
        return;
    }
    buf[n] = '\0';
    fuse_reply_readlink(req, buf);
}

/* ------------------------------------------------------------ creating */

/* The parent a creation may happen in: a backing directory (the control
 * directory takes no new entries). 0 or -errno. */
static int tmemfs_creatable(struct tmemfs_fs *fs, struct tmemfs_inode *parent, const char *name)
{
    if (!tmemfs_is_backing(parent))
        return -EPERM;
    if (parent == &fs->inodes.root && tmemfs_control_is_name(fs, name))
        return -EEXIST;
    return 0;
}

enum tmemfs_make { TMEMFS_MAKE_NODE, TMEMFS_MAKE_DIR, TMEMFS_MAKE_SYMLINK };

/* mknod, mkdir, symlink: make name in parent as the caller, then reply its
 * entry. */
static void tmemfs_make(fuse_req_t req, fuse_ino_t parent_ino, const char *name,
                        enum tmemfs_make what, mode_t mode, dev_t rdev, const char *target)
{
    struct tmemfs_request r;
    struct tmemfs_inode *parent;
    struct fuse_entry_param e;
    int rc = 0;

    if (!tmemfs_request_begin(req, &r))
        return;
    parent = tmemfs_inode_of(r.fs, parent_ino);
    rc = tmemfs_creatable(r.fs, parent, name);
    if (rc == 0) {
        if (what == TMEMFS_MAKE_SYMLINK)
            rc = symlinkat(target, parent->fd, name);
        else if (what == TMEMFS_MAKE_DIR)
            rc = mkdirat(parent->fd, name, tmemfs_creds_umask(mode, r.ctx->umask));
        else
            rc = mknodat(parent->fd, name, tmemfs_creds_umask(mode, r.ctx->umask), rdev);
        rc = rc < 0 ? -errno : 0;
    }
    if (rc == 0)
        rc = tmemfs_lookup_entry(r.fs, parent, name, &e);
    tmemfs_request_end(&r);
    tmemfs_reply_entry_or_err(req, rc, &e);
}

static void tmemfs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                            dev_t rdev)
{
    tmemfs_make(req, parent, name, TMEMFS_MAKE_NODE, mode, rdev, NULL);
}

static void tmemfs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    tmemfs_make(req, parent, name, TMEMFS_MAKE_DIR, mode, 0, NULL);
}

static void tmemfs_op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
                              const char *name)
{
    tmemfs_make(req, parent, name, TMEMFS_MAKE_SYMLINK, 0, 0, target);
}

static void tmemfs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent_ino,
                           const char *newname)
{
    struct tmemfs_request r;
    struct tmemfs_inode *inode, *newparent;
    struct tmemfs_mod m = { 0 };
    struct fuse_entry_param e;
    char proc[64];
    int rc = 0;

    if (!tmemfs_request_begin(req, &r))
        return;
    inode = tmemfs_inode_of(r.fs, ino);
    newparent = tmemfs_inode_of(r.fs, newparent_ino);
    rc = tmemfs_is_backing(inode) ? tmemfs_creatable(r.fs, newparent, newname) : -EPERM;
    if (rc == 0) {
        /* Through /proc: linkat(AT_EMPTY_PATH) would need CAP_DAC_READ_SEARCH,
         * which a caller's identity does not have. */
        tmemfs_inode_proc_path(inode, proc, sizeof(proc));
        tmemfs_mod_begin(r.fs, inode->fd, &m);
        rc = linkat(AT_FDCWD, proc, newparent->fd, newname, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
        tmemfs_mod_end(r.fs, inode->fd, &m);
    }
    if (rc == 0)
        rc = tmemfs_lookup_entry(r.fs, newparent, newname, &e);
    tmemfs_request_end(&r);
    tmemfs_reply_entry_or_err(req, rc, &e);
}

/* ------------------------------------------------------------ removing */

/* The entry name of backing directory parent, for removal or rename: an
 * O_PATH descriptor of it (or -1 if it cannot be opened: the operation
 * then reports its own error) with a modify bracket begun on it. */
static int tmemfs_victim_open(struct tmemfs_fs *fs, struct tmemfs_inode *parent, const char *name,
                              struct tmemfs_mod *m)
{
    int fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

    m->active = false;
    if (fd >= 0)
        tmemfs_mod_begin(fs, fd, m);
    return fd;
}

/* End the bracket; removed: the name went away (its inode may be gone). */
static void tmemfs_victim_close(struct tmemfs_fs *fs, int fd, struct tmemfs_mod *m, bool removed)
{
    if (fd < 0)
        return;
    tmemfs_mod_end(fs, fd, m);
    if (removed)
        tmemfs_forget_if_unlinked(fs, fd);
    close(fd);
}

static void tmemfs_remove(fuse_req_t req, fuse_ino_t parent_ino, const char *name, int flags)
{
    struct tmemfs_request r;
    struct tmemfs_inode *parent;
    struct tmemfs_mod m = { 0 };
    int rc = 0, fd;

    if (!tmemfs_request_begin(req, &r))
        return;
    parent = tmemfs_inode_of(r.fs, parent_ino);
    rc = tmemfs_creatable(r.fs, parent, name);
    if (rc == -EEXIST)
        rc = -EPERM; /* the control directory stays */
    if (rc == 0) {
        fd = tmemfs_victim_open(r.fs, parent, name, &m);
        rc = unlinkat(parent->fd, name, flags) < 0 ? -errno : 0;
        tmemfs_victim_close(r.fs, fd, &m, rc == 0);
    }
    tmemfs_request_end(&r);
    fuse_reply_err(req, -rc);
}

static void tmemfs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    tmemfs_remove(req, parent, name, 0);
}

static void tmemfs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    tmemfs_remove(req, parent, name, AT_REMOVEDIR);
}

static void tmemfs_op_rename(fuse_req_t req, fuse_ino_t parent_ino, const char *name,
                             fuse_ino_t newparent_ino, const char *newname, unsigned int flags)
{
    struct tmemfs_request r;
    struct tmemfs_inode *parent, *newparent;
    struct tmemfs_mod ma = { 0 }, mb = { 0 };
    int rc = 0, fa, fb;

    if (!tmemfs_request_begin(req, &r))
        return;
    parent = tmemfs_inode_of(r.fs, parent_ino);
    newparent = tmemfs_inode_of(r.fs, newparent_ino);
    rc = tmemfs_creatable(r.fs, parent, name);
    if (rc == 0)
        rc = tmemfs_creatable(r.fs, newparent, newname);
    if (rc == -EEXIST)
        rc = -EPERM;
    if (rc == 0) {
        fa = tmemfs_victim_open(r.fs, parent, name, &ma);
        fb = tmemfs_victim_open(r.fs, newparent, newname, &mb);
        rc = renameat2(parent->fd, name, newparent->fd, newname, flags) < 0 ? -errno : 0;
        tmemfs_victim_close(r.fs, fa, &ma, false);
        /* A replaced target that lost its last link: the object is gone. */
        tmemfs_victim_close(r.fs, fb, &mb, rc == 0 && !(flags & RENAME_EXCHANGE));
    }
    tmemfs_request_end(&r);
    fuse_reply_err(req, -rc);
}

/* ------------------------------------------------------------ files */

/* Common tail of open and create: wrap fd in a handle in fi. 0 or -errno
 * (fd closed). */
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
    fh->direct_fd = -1;
    fh->append = (flags & O_APPEND) != 0;
    fh->reg = S_ISREG(stx.stx_mode);
    if (fh->reg && fs->opts->backing_direct && (flags & O_ACCMODE) != O_WRONLY) {
        /* reads bypass the host's page cache; where O_DIRECT is not
         * supported (EINVAL) the buffered descriptor serves them */
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        fh->direct_fd = open(proc, O_RDONLY | O_DIRECT | O_CLOEXEC);
    }
    if (fh->reg) {
        tmemfs_oid_from_statx(&stx, &fh->oid);
        /* A new file without a birth time may reuse an old oid. */
        if (created && !(stx.stx_mask & STATX_BTIME))
            tmemfs_io_invalidate_object(&fs->io, &fh->oid);
        rc = tmemfs_object_table_check(fs->objs, &stx, true);
        if (rc < 0) {
            if (fh->direct_fd >= 0)
                close(fh->direct_fd);
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

/* The flags a backing file is opened with for open flags (O_TRUNC is
 * stripped: a writable open's truncation is done by tmemfs_truncate_fd,
 * so both caches are invalidated and it is not an outside change). */
static int tmemfs_open_flags(int flags, bool *trunc)
{
    flags &= ~(O_DIRECT | O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW);
    *trunc = (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY;
    if (*trunc)
        flags &= ~O_TRUNC;
    return flags | O_CLOEXEC;
}

/* After opening fd for a writable O_TRUNC open of an existing file. */
static int tmemfs_open_truncate(struct tmemfs_fs *fs, int fd)
{
    struct stat st;

    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        return tmemfs_truncate_fd(fs, fd, 0);
    return 0;
}

/*
 * An open reaches an inode through a name the kernel cached for up to
 * entry_timeout. A regular file with no link left was removed or replaced
 * (renamed over) outside the mount since: -ESTALE makes the kernel look
 * the name up again and open what it names now, as a local filesystem
 * would. 0 or -ESTALE (other errors are left to the open itself).
 */
static int tmemfs_open_check_linked(const struct tmemfs_inode *inode)
{
    struct statx stx;

    if (tmemfs_fstatx(inode->fd, &stx) == 0 && S_ISREG(stx.stx_mode) && stx.stx_nlink == 0)
        return -ESTALE;
    return 0;
}

static void tmemfs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct tmemfs_request r;
    struct tmemfs_inode *inode;
    char proc[64];
    bool trunc;
    int rc = 0, fd, flags;

    if (!tmemfs_request_begin(req, &r))
        return;
    inode = tmemfs_inode_of(r.fs, ino);
    if (!tmemfs_is_backing(inode)) {
        struct tmemfs_fh *fh = calloc(1, sizeof(*fh));
        rc = fh ? tmemfs_control_open(r.fs, inode, fi->flags, r.ctx->uid, fh) : -ENOMEM;
        if (rc < 0 && fh) {
            free(fh->buf);
            free(fh);
        } else if (rc == 0) {
            fi->fh = (uint64_t)(uintptr_t)fh;
            fi->direct_io = 1;
        }
    } else if ((rc = tmemfs_open_check_linked(inode)) == 0) {
        flags = tmemfs_open_flags(fi->flags, &trunc);
        tmemfs_inode_proc_path(inode, proc, sizeof(proc));
        fd = open(proc, flags);
        if (fd < 0) {
            rc = -errno;
        } else {
            rc = trunc ? tmemfs_open_truncate(r.fs, fd) : 0;
            if (rc < 0)
                close(fd);
            else
                rc = tmemfs_open_fd(r.fs, fd, flags, false, fi);
        }
    }
    tmemfs_request_end(&r);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else if (fuse_reply_open(req, fi) == -ENOENT) /* interrupted: undo */
        tmemfs_fh_release(r.fs, tmemfs_fh_of(fi));
}

static void tmemfs_op_create(fuse_req_t req, fuse_ino_t parent_ino, const char *name,
                             mode_t mode, struct fuse_file_info *fi)
{
    struct tmemfs_request r;
    struct tmemfs_inode *parent;
    struct fuse_entry_param e;
    bool trunc, existed;
    int rc = 0, fd = -1, flags;

    if (!tmemfs_request_begin(req, &r))
        return;
    parent = tmemfs_inode_of(r.fs, parent_ino);
    rc = tmemfs_creatable(r.fs, parent, name);
    if (rc == 0) {
        flags = tmemfs_open_flags(fi->flags, &trunc);
        existed = faccessat(parent->fd, name, F_OK, AT_SYMLINK_NOFOLLOW | AT_EACCESS) == 0;
        fd = openat(parent->fd, name, flags | O_CREAT | O_NOFOLLOW,
                    tmemfs_creds_umask(mode, r.ctx->umask));
        rc = fd < 0 ? -errno : 0;
        if (rc == 0 && trunc && existed)
            rc = tmemfs_open_truncate(r.fs, fd);
        if (rc == 0)
            rc = tmemfs_lookup_entry(r.fs, parent, name, &e);
        if (rc == 0) {
            rc = tmemfs_open_fd(r.fs, fd, flags, !existed, fi);
            fd = -1;
            if (rc < 0)
                tmemfs_inode_forget(&r.fs->inodes, (struct tmemfs_inode *)(uintptr_t)e.ino, 1);
        }
        if (fd >= 0 && rc < 0)
            close(fd);
    }
    tmemfs_request_end(&r);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else if (fuse_reply_create(req, &e, fi) == -ENOENT)
        tmemfs_fh_release(r.fs, tmemfs_fh_of(fi));
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

static void tmemfs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi)
{
    struct tmemfs_fs *fs = tmemfs_fs_of(req);
    struct tmemfs_fh *fh = tmemfs_fh_of(fi);
    struct statx stx;
    char *buf;
    ssize_t n;
    int rc;

    (void)ino;
    buf = malloc(size ? size : 1);
    if (!buf) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    if (fh && fh->kind == TMEMFS_FH_CTL) {
        n = tmemfs_control_read(fh, buf, size, off);
    } else if ((rc = tmemfs_check_data_fh(fh, off)) < 0) {
        n = rc;
    } else if (!fh->reg) {
        n = pread(fh->fd, buf, size, off);
        if (n < 0)
            n = -errno;
    } else if ((rc = tmemfs_fstatx(fh->fd, &stx)) < 0) {
        n = rc;
    } else {
        (void)tmemfs_object_table_check(fs->objs, &stx, false);
        n = tmemfs_io_read(&fs->io, &fh->oid, fh->fd, fh->direct_fd, stx.stx_size, buf, size,
                           (uint64_t)off);
    }
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else
        fuse_reply_buf(req, buf, (size_t)n);
    free(buf);
}

static void tmemfs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
                            off_t off, struct fuse_file_info *fi)
{
    struct tmemfs_fs *fs = tmemfs_fs_of(req);
    struct tmemfs_fh *fh = tmemfs_fh_of(fi);
    struct tmemfs_mod m = { 0 };
    ssize_t n;
    int rc;

    (void)ino;
    if (fh && fh->kind == TMEMFS_FH_CTL) {
        n = tmemfs_control_write(fs, fh, buf, size);
    } else if ((rc = tmemfs_check_data_fh(fh, off)) < 0) {
        n = rc;
    } else if (!fh->reg) {
        n = pwrite(fh->fd, buf, size, off);
        if (n < 0)
            n = -errno;
    } else {
        tmemfs_mod_begin(fs, fh->fd, &m);
        n = tmemfs_io_write(&fs->io, &fh->oid, fh->fd, buf, size, (uint64_t)off, fh->append);
        tmemfs_mod_end(fs, fh->fd, &m);
    }
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else
        fuse_reply_write(req, (size_t)n);
}

static void tmemfs_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    int fd = tmemfs_fi_fd(fi), dfd, rc = 0;

    (void)ino;
    if (fd >= 0) {
        /* Close a duplicate so the backing filesystem sees the close(2). */
        dfd = dup(fd);
        rc = dfd < 0 || close(dfd) < 0 ? errno : 0;
    }
    fuse_reply_err(req, rc);
}

void tmemfs_fh_release(struct tmemfs_fs *fs, struct tmemfs_fh *fh)
{
    struct statx stx;

    if (!fh)
        return;
    if (fh->kind == TMEMFS_FH_FILE) {
        if (fh->pinned) {
            tmemfs_object_table_unpin(fs->objs, &fh->oid);
            /* Last close of an unlinked file: its pages can never be read. */
            if (tmemfs_fstatx(fh->fd, &stx) == 0 && stx.stx_nlink == 0)
                tmemfs_object_table_forget(fs->objs, &fh->oid);
        }
        if (fh->direct_fd >= 0)
            close(fh->direct_fd);
        close(fh->fd);
    }
    if (fh->dp)
        closedir(fh->dp);
    free(fh->buf);
    free(fh);
}

static void tmemfs_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    tmemfs_fh_release(tmemfs_fs_of(req), tmemfs_fh_of(fi));
    fuse_reply_err(req, 0);
}

static void tmemfs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
                            struct fuse_file_info *fi)
{
    struct tmemfs_fh *fh = tmemfs_fh_of(fi);
    int fd = -1, rc = 0;

    (void)ino;
    if (fh && fh->kind == TMEMFS_FH_FILE)
        fd = fh->fd;
    else if (fh && fh->dp)
        fd = dirfd(fh->dp);
    if (fd >= 0)
        rc = (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? errno : 0;
    fuse_reply_err(req, rc);
}

static void tmemfs_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    struct tmemfs_fs *fs = tmemfs_fs_of(req);
    struct statvfs sv;

    (void)ino;
    if (fstatvfs(fs->inodes.root.fd, &sv) < 0)
        fuse_reply_err(req, errno);
    else
        fuse_reply_statfs(req, &sv);
}

static void tmemfs_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
                                off_t len, struct fuse_file_info *fi)
{
    struct tmemfs_fs *fs = tmemfs_fs_of(req);
    struct tmemfs_fh *fh = tmemfs_fh_of(fi);
    struct tmemfs_mod m = { 0 };
    int rc;

    (void)ino;
    if (!fh || fh->kind != TMEMFS_FH_FILE) {
        fuse_reply_err(req, EBADF);
        return;
    }
    tmemfs_mod_begin(fs, fh->fd, &m);
    rc = fallocate(fh->fd, mode, off, len) < 0 ? -errno : 0;
    if (rc == 0 && fh->reg) {
        if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))
            tmemfs_io_invalidate_range(&fs->io, &fh->oid, (uint64_t)off, UINT64_MAX);
        else
            tmemfs_io_invalidate_range(&fs->io, &fh->oid, (uint64_t)off, (uint64_t)len);
    }
    tmemfs_mod_end(fs, fh->fd, &m);
    fuse_reply_err(req, -rc);
}

static void tmemfs_op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
                                      struct fuse_file_info *fi_in, fuse_ino_t ino_out,
                                      off_t off_out, struct fuse_file_info *fi_out, size_t len,
                                      int flags)
{
    struct tmemfs_fs *fs = tmemfs_fs_of(req);
    struct tmemfs_fh *in = tmemfs_fh_of(fi_in), *out = tmemfs_fh_of(fi_out);
    struct tmemfs_mod m = { 0 };
    loff_t oi = off_in, oo = off_out;
    ssize_t n;

    (void)ino_in;
    (void)ino_out;
    if (!in || !out || in->kind != TMEMFS_FH_FILE || out->kind != TMEMFS_FH_FILE) {
        fuse_reply_err(req, EBADF);
        return;
    }
    tmemfs_mod_begin(fs, out->fd, &m);
    n = copy_file_range(in->fd, &oi, out->fd, &oo, len, (unsigned)flags);
    if (n < 0)
        n = -errno;
    else if (n > 0 && out->reg) {
        tmemfs_io_invalidate_range(&fs->io, &out->oid, (uint64_t)off_out, (uint64_t)n);
        tmemfs_stats_add(&fs->stats, TMEMFS_BACKING_BYTES_WRITTEN, (uint64_t)n);
    }
    tmemfs_mod_end(fs, out->fd, &m);
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else
        fuse_reply_write(req, (size_t)n);
}

static void tmemfs_op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
                            struct fuse_file_info *fi)
{
    int fd = tmemfs_fi_fd(fi);
    off_t res;

    (void)ino;
    if (fd < 0) {
        fuse_reply_err(req, EBADF);
        return;
    }
    res = lseek(fd, off, whence);
    if (res < 0)
        fuse_reply_err(req, errno);
    else
        fuse_reply_lseek(req, res);
}

static void tmemfs_op_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
    int fd = tmemfs_fi_fd(fi);

    (void)ino;
    fuse_reply_err(req, fd < 0 ? EBADF : flock(fd, op) < 0 ? errno : 0);
}

/* ------------------------------------------------------------ directories */

static void tmemfs_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct tmemfs_request r;
    struct tmemfs_inode *inode;
    struct tmemfs_fh *fh;
    int rc = 0, fd;

    if (!tmemfs_request_begin(req, &r))
        return;
    inode = tmemfs_inode_of(r.fs, ino);
    fh = calloc(1, sizeof(*fh));
    if (!fh) {
        rc = -ENOMEM;
    } else if (inode->kind == TMEMFS_INODE_CONTROL_DIR) {
        fh->kind = TMEMFS_FH_CTLDIR;
        fh->fd = -1;
    } else if (!tmemfs_is_backing(inode)) {
        rc = -ENOTDIR;
    } else {
        char proc[64];
        /* Reopened through /proc: listing needs read permission only (an
         * openat(fd, ".") would need search permission too). */
        tmemfs_inode_proc_path(inode, proc, sizeof(proc));
        fd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        fh->dp = fd >= 0 ? fdopendir(fd) : NULL;
        if (!fh->dp) {
            rc = -errno;
            if (fd >= 0)
                close(fd);
        }
        fh->kind = TMEMFS_FH_DIR;
        fh->fd = -1;
        fh->is_root = inode == &r.fs->inodes.root;
    }
    tmemfs_request_end(&r);
    if (rc < 0) {
        free(fh);
        fuse_reply_err(req, -rc);
        return;
    }
    fi->fh = (uint64_t)(uintptr_t)fh;
    if (fuse_reply_open(req, fi) == -ENOENT)
        tmemfs_fh_release(r.fs, fh);
}

/* Add the control directory's entries from offset on. Returns the bytes
 * used in buf. */
static size_t tmemfs_readdir_control(struct tmemfs_fs *fs, fuse_req_t req, char *buf,
                                     size_t size, off_t offset, bool plus)
{
    static const char *const dots[] = { ".", ".." };
    size_t used = 0;

    for (int i = (int)offset; i < 2 + TMEMFS_CONTROL_NR - TMEMFS_CONTROL_STATS; i++) {
        const char *name = i < 2 ? dots[i] : tmemfs_control_name(TMEMFS_CONTROL_STATS + i - 2);
        struct fuse_entry_param e;
        struct stat st;
        size_t n;

        if (i < 2) {
            /* no lookup is counted for the dots (ino 0); the directory's
             * number so that readdir shows them */
            tmemfs_control_getattr(&fs->control[TMEMFS_CONTROL_DIR], &st);
            memset(&e, 0, sizeof(e));
            e.attr = st;
        } else {
            struct tmemfs_inode *inode = &fs->control[TMEMFS_CONTROL_STATS + i - 2];
            tmemfs_control_getattr(inode, &st);
            tmemfs_fill_entry(fs, inode, &st, &e);
        }
        if (plus)
            n = fuse_add_direntry_plus(req, buf + used, size - used, name, &e, i + 1);
        else
            n = fuse_add_direntry(req, buf + used, size - used, name, &e.attr, i + 1);
        if (n > size - used)
            break;
        used += n;
    }
    return used;
}

/* Add a backing directory's entries from offset on (as the caller); with
 * plus each entry is looked up (one more lookup of its inode, undone when
 * it does not fit). Returns the bytes used, or -errno when nothing could
 * be read. */
static ssize_t tmemfs_readdir_backing(struct tmemfs_fs *fs, fuse_req_t req, struct tmemfs_fh *fh,
                                      struct tmemfs_inode *dir, char *buf, size_t size,
                                      off_t offset, bool plus)
{
    size_t used = 0;

    if (offset != fh->offset) {
        seekdir(fh->dp, offset);
        fh->entry = NULL;
        fh->offset = offset;
    }
    for (;;) {
        struct fuse_entry_param e;
        bool looked_up = false;
        off_t next;
        size_t n;

        if (!fh->entry) {
            errno = 0;
            fh->entry = readdir(fh->dp);
            if (!fh->entry) {
                if (errno && used == 0)
                    return -errno;
                break;
            }
        }
        if (fh->is_root && tmemfs_control_is_name(fs, fh->entry->d_name)) {
            fh->entry = NULL;
            fh->offset = telldir(fh->dp);
            continue;
        }
        memset(&e, 0, sizeof(e));
        e.attr.st_ino = fh->entry->d_ino;
        e.attr.st_mode = (mode_t)fh->entry->d_type << 12;
        if (plus && strcmp(fh->entry->d_name, ".") != 0 && strcmp(fh->entry->d_name, "..") != 0)
            looked_up = tmemfs_lookup_entry(fs, dir, fh->entry->d_name, &e) == 0;
        next = telldir(fh->dp);
        if (plus)
            n = fuse_add_direntry_plus(req, buf + used, size - used, fh->entry->d_name, &e, next);
        else
            n = fuse_add_direntry(req, buf + used, size - used, fh->entry->d_name, &e.attr, next);
        if (n > size - used) {
            if (looked_up)
                tmemfs_inode_forget(&fs->inodes, (struct tmemfs_inode *)(uintptr_t)e.ino, 1);
            break;
        }
        used += n;
        fh->entry = NULL;
        fh->offset = next;
    }
    return (ssize_t)used;
}

static void tmemfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset,
                           struct fuse_file_info *fi, bool plus)
{
    struct tmemfs_request r;
    struct tmemfs_fh *fh = tmemfs_fh_of(fi);
    ssize_t used = -EBADF;
    char *buf;

    if (!tmemfs_request_begin(req, &r))
        return;
    buf = malloc(size ? size : 1);
    if (!buf)
        used = -ENOMEM;
    else if (fh && fh->kind == TMEMFS_FH_CTLDIR)
        used = (ssize_t)tmemfs_readdir_control(r.fs, req, buf, size, offset, plus);
    else if (fh && fh->kind == TMEMFS_FH_DIR)
        used = tmemfs_readdir_backing(r.fs, req, fh, tmemfs_inode_of(r.fs, ino), buf, size,
                                      offset, plus);
    tmemfs_request_end(&r);
    if (used < 0)
        fuse_reply_err(req, (int)-used);
    else
        fuse_reply_buf(req, buf, (size_t)used);
    free(buf);
}

static void tmemfs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset,
                              struct fuse_file_info *fi)
{
    tmemfs_readdir(req, ino, size, offset, fi, false);
}

static void tmemfs_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset,
                                  struct fuse_file_info *fi)
{
    tmemfs_readdir(req, ino, size, offset, fi, true);
}

static void tmemfs_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    tmemfs_fh_release(tmemfs_fs_of(req), tmemfs_fh_of(fi));
    fuse_reply_err(req, 0);
}

/* ------------------------------------------------------------ xattrs */

enum tmemfs_xattr_op { TMEMFS_XATTR_SET, TMEMFS_XATTR_GET, TMEMFS_XATTR_LIST, TMEMFS_XATTR_REMOVE };

/*
 * One extended-attribute call on ino as the caller, through /proc/self/fd
 * (xattrs have no *at() form; the O_PATH descriptor was opened without
 * following a symlink, so a symlink is acted on, not followed). Get and
 * list with size 0 reply the size needed.
 */
static void tmemfs_xattr(fuse_req_t req, fuse_ino_t ino, enum tmemfs_xattr_op op,
                         const char *name, const char *value, size_t size, int flags)
{
    struct tmemfs_request r;
    struct tmemfs_inode *inode;
    struct tmemfs_mod m = { 0 };
    char proc[64], *buf = NULL;
    ssize_t n = 0;

    if (!tmemfs_request_begin(req, &r))
        return;
    inode = tmemfs_inode_of(r.fs, ino);
    if (!tmemfs_is_backing(inode)) {
        n = op == TMEMFS_XATTR_GET ? -ENODATA : op == TMEMFS_XATTR_LIST ? 0 : -EPERM;
        goto out;
    }
    tmemfs_inode_proc_path(inode, proc, sizeof(proc));
    if ((op == TMEMFS_XATTR_GET || op == TMEMFS_XATTR_LIST) && size > 0) {
        buf = malloc(size);
        if (!buf) {
            n = -ENOMEM;
            goto out;
        }
    }
    switch (op) {
    case TMEMFS_XATTR_SET:
    case TMEMFS_XATTR_REMOVE:
        tmemfs_mod_begin(r.fs, inode->fd, &m);
        n = op == TMEMFS_XATTR_SET ? setxattr(proc, name, value, size, flags)
                                   : removexattr(proc, name);
        n = n < 0 ? -errno : 0;
        tmemfs_mod_end(r.fs, inode->fd, &m);
        break;
    case TMEMFS_XATTR_GET:
        n = getxattr(proc, name, buf, size);
        n = n < 0 ? -errno : n;
        break;
    default:
        n = listxattr(proc, buf, size);
        n = n < 0 ? -errno : n;
        break;
    }
out:
    tmemfs_request_end(&r);
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else if (op == TMEMFS_XATTR_SET || op == TMEMFS_XATTR_REMOVE)
        fuse_reply_err(req, 0);
    else if (size == 0)
        fuse_reply_xattr(req, (size_t)n);
    else
        fuse_reply_buf(req, buf, (size_t)n);
    free(buf);
}

static void tmemfs_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                               const char *value, size_t size, int flags)
{
    tmemfs_xattr(req, ino, TMEMFS_XATTR_SET, name, value, size, flags);
}

static void tmemfs_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    tmemfs_xattr(req, ino, TMEMFS_XATTR_GET, name, NULL, size, 0);
}

static void tmemfs_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    tmemfs_xattr(req, ino, TMEMFS_XATTR_LIST, NULL, NULL, size, 0);
}

static void tmemfs_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    tmemfs_xattr(req, ino, TMEMFS_XATTR_REMOVE, name, NULL, 0, 0);
}

static void tmemfs_op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
    struct tmemfs_request r;
    struct tmemfs_inode *inode;
    char proc[64];
    int rc = 0;

    if (!tmemfs_request_begin(req, &r))
        return;
    inode = tmemfs_inode_of(r.fs, ino);
    if (tmemfs_is_backing(inode)) {
        /* AT_EACCESS: check as the thread's fsuid/fsgid (the caller's), not
         * as the daemon's real uid, which faccessat would use otherwise. */
        tmemfs_inode_proc_path(inode, proc, sizeof(proc));
        rc = faccessat(AT_FDCWD, proc, mask, AT_EACCESS) < 0 ? -errno : 0;
    }
    tmemfs_request_end(&r);
    fuse_reply_err(req, -rc);
}

static const struct fuse_lowlevel_ops tmemfs_ops = {
    .init = tmemfs_op_init,
    .lookup = tmemfs_op_lookup,
    .forget = tmemfs_op_forget,
    .forget_multi = tmemfs_op_forget_multi,
    .getattr = tmemfs_op_getattr,
    .setattr = tmemfs_op_setattr,
    .readlink = tmemfs_op_readlink,
    .mknod = tmemfs_op_mknod,
    .mkdir = tmemfs_op_mkdir,
    .unlink = tmemfs_op_unlink,
    .rmdir = tmemfs_op_rmdir,
    .symlink = tmemfs_op_symlink,
    .rename = tmemfs_op_rename,
    .link = tmemfs_op_link,
    .open = tmemfs_op_open,
    .read = tmemfs_op_read,
    .write = tmemfs_op_write,
    .flush = tmemfs_op_flush,
    .release = tmemfs_op_release,
    .fsync = tmemfs_op_fsync,
    .opendir = tmemfs_op_opendir,
    .readdir = tmemfs_op_readdir,
    .readdirplus = tmemfs_op_readdirplus,
    .releasedir = tmemfs_op_releasedir,
    .fsyncdir = tmemfs_op_fsync,
    .statfs = tmemfs_op_statfs,
    .setxattr = tmemfs_op_setxattr,
    .getxattr = tmemfs_op_getxattr,
    .listxattr = tmemfs_op_listxattr,
    .removexattr = tmemfs_op_removexattr,
    .access = tmemfs_op_access,
    .create = tmemfs_op_create,
    .fallocate = tmemfs_op_fallocate,
    .copy_file_range = tmemfs_op_copy_file_range,
    .lseek = tmemfs_op_lseek,
    .flock = tmemfs_op_flock,
};

const struct fuse_lowlevel_ops *tmemfs_fuse_ops(void)
{
    return &tmemfs_ops;
}
