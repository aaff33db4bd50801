/*
 * ccfs_path.h - reach a FUSE path ("/a/b/c") beneath the SOURCE directory
 * without ever following a symlink: the parent directory is opened with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) (or, on kernels without
 * openat2, walked one O_NOFOLLOW component at a time) and the last
 * component is then used with *at() calls and AT_SYMLINK_NOFOLLOW /
 * O_NOFOLLOW by the caller.
 */
#ifndef CCFS_PATH_H
#define CCFS_PATH_H

/* A resolved parent: operate on (dirfd, name). */
struct ccfs_at {
    int dirfd;        /* parent directory (O_PATH) or the root fd */
    const char *name; /* last component, or "." for the root itself */
    int owned;        /* dirfd must be closed by ccfs_at_close */
    char buf[4096];   /* storage for name */
};

/*
 * Resolve path (absolute FUSE path) beneath rootfd. Returns 0, or -errno:
 * -ENAMETOOLONG, -ELOOP/-EXDEV (a symlink or escape in the parent path),
 * -ENOENT/-ENOTDIR from the lookup. On success call ccfs_at_close().
 */
int ccfs_at_open(int rootfd, const char *path, struct ccfs_at *at);
void ccfs_at_close(struct ccfs_at *at);

#endif /* CCFS_PATH_H */
