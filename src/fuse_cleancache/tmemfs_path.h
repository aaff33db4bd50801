/*
 * tmemfs_path.h - reach a FUSE path ("/a/b/c") beneath the SOURCE directory
 * without ever following a symlink: the parent directory is opened with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) (or, on kernels without
 * openat2, walked one O_NOFOLLOW component at a time) and the last
 * component is then used with *at() calls and AT_SYMLINK_NOFOLLOW /
 * O_NOFOLLOW by the caller.
 */
#ifndef TMEMFS_PATH_H
#define TMEMFS_PATH_H

/* A resolved parent: operate on (dirfd, name). */
struct tmemfs_at {
    int dirfd;        /* parent directory (O_PATH) or the root fd */
    const char *name; /* last component, or "." for the root itself */
    int owned;        /* dirfd must be closed by tmemfs_at_close */
    char buf[4096];   /* storage for name */
};

/*
 * Resolve path (absolute FUSE path) beneath rootfd. Returns 0, or -errno:
 * -ENAMETOOLONG, -ELOOP/-EXDEV (a symlink or escape in the parent path),
 * -ENOENT/-ENOTDIR from the lookup. On success call tmemfs_at_close().
 */
int tmemfs_at_open(int rootfd, const char *path, struct tmemfs_at *at);
void tmemfs_at_close(struct tmemfs_at *at);

#endif /* TMEMFS_PATH_H */
