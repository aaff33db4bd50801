/*
 * tmemfs_path.c - symlink-safe path resolution beneath SOURCE.
 *
 * Models: the confinement a kernel filesystem gets from being the only
 * owner of its namespace. The daemon receives full paths from libfuse; a
 * component of such a path could have been replaced, in the backing tree,
 * by a symlink pointing anywhere. Every lookup therefore resolves the
 * parent with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS) relative to the SOURCE dirfd, and callers act on
 * the last component with *at() and no-follow flags.
 *
 * Data: none global; struct tmemfs_at lives on the caller's stack.
 * Locking: none (stateless; file descriptors only).
 */
#include "fuse_cleancache/tmemfs_path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Fallback for kernels without openat2: walk component by component. */
static int tmemfs_walk(int rootfd, char *dir)
{
    int fd = rootfd;
    char *save = NULL, *comp;

    for (comp = strtok_r(dir, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
        int nfd;
        if (strcmp(comp, "..") == 0 || strcmp(comp, ".") == 0) {
            if (fd != rootfd)
                close(fd);
            return -EXDEV;
        }
        nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd != rootfd)
            close(fd);
        if (nfd < 0)
            return -errno;
        fd = nfd;
    }
    if (fd == rootfd) {
        fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
    }
    return fd;
}

int tmemfs_at_open(int rootfd, const char *path, struct tmemfs_at *at)
{
    const char *p = path;
    char *slash;
    size_t len;
    struct open_how how;
    long fd;

    at->dirfd = rootfd;
    at->owned = 0;
    at->name = ".";
    while (*p == '/')
        p++;
    len = strlen(p);
    if (len == 0)
        return 0;
    if (len >= sizeof(at->buf))
        return -ENAMETOOLONG;
    memcpy(at->buf, p, len + 1);
    slash = strrchr(at->buf, '/');
    if (!slash) {
        at->name = at->buf;
        return 0;
    }
    *slash = '\0';
    at->name = slash + 1;
    if (strcmp(at->name, "..") == 0 || strcmp(at->name, ".") == 0)
        return -EXDEV;
    memset(&how, 0, sizeof(how));
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    fd = syscall(SYS_openat2, rootfd, at->buf, &how, sizeof(how));
    if (fd < 0 && errno == ENOSYS)
        fd = tmemfs_walk(rootfd, at->buf);
    else if (fd < 0)
        fd = -errno;
    if (fd < 0)
        return (int)fd;
    at->dirfd = (int)fd;
    at->owned = 1;
    return 0;
}

void tmemfs_at_close(struct tmemfs_at *at)
{
    if (at->owned && at->dirfd >= 0)
        close(at->dirfd);
    at->owned = 0;
}
