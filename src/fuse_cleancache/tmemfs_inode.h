/*
 * tmemfs_inode.h - the inodes the kernel knows a tmemfs mount by (libfuse's
 * low-level API: every request names a node id, which is the address of
 * one of these).
 *
 * A passthrough inode holds an O_PATH descriptor of the backing inode, so
 * every operation resolves relative to it (no path is rebuilt from the
 * mount root: no PATH_MAX limit, no symlink followed by the daemon, an
 * open but unlinked file can still be stat'ed) and all the hard links of a
 * backing inode are one inode here (one set of attributes). The table
 * finds an inode by its backing (st_dev, st_ino) and counts the kernel's
 * lookups; the inode is freed when the kernel forgets the last one.
 *
 * The root is the SOURCE directory (never freed). The control directory
 * and its files are inodes of their own kind (tmemfs_control.h), outside
 * the table: handlers dispatch on the kind once.
 *
 * Thread-safety: the table has one mutex; an inode's fields other than
 * nlookup and the table links are immutable after creation, and the kernel
 * sends no request for an inode after its last forget.
 */
#ifndef TMEMFS_INODE_H
#define TMEMFS_INODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

enum tmemfs_inode_kind {
    TMEMFS_INODE_BACKING,      /* a file, directory, ... of SOURCE */
    TMEMFS_INODE_CONTROL_DIR,  /* the control directory */
    TMEMFS_INODE_CONTROL_FILE, /* one of its files (control) */
};

struct tmemfs_inode {
    enum tmemfs_inode_kind kind;
    int fd;               /* BACKING: O_PATH | O_NOFOLLOW descriptor; else -1 */
    dev_t dev;            /* BACKING: the backing st_dev, st_ino */
    ino_t ino;
    mode_t type;          /* S_IFMT bits of the backing inode */
    int control;          /* CONTROL_FILE: enum tmemfs_control_file */
    uint64_t nlookup;     /* the kernel's lookups not yet forgotten (table lock) */
    struct tmemfs_inode *hnext; /* table hash chain (table lock) */
};

struct tmemfs_inode_table {
    pthread_mutex_t lock;
    struct tmemfs_inode **buckets;
    size_t nbuckets;      /* power of two; grows with count */
    size_t count;         /* inodes in the table (the root is not) */
    struct tmemfs_inode root;
};

/* Set up the table with root_fd (SOURCE, an O_PATH directory descriptor;
 * the table does not close it). Returns 0, -errno of fstat, or -ENOMEM. */
int tmemfs_inode_table_init(struct tmemfs_inode_table *t, int root_fd);
/* Close and free every inode still in the table (at unmount; the kernel
 * forgets nothing then). Safe on a zeroed table. */
void tmemfs_inode_table_destroy(struct tmemfs_inode_table *t);

/*
 * The inode of the backing object fd (an O_PATH | O_NOFOLLOW descriptor
 * just opened) whose statx is stx, with one more lookup counted: an
 * existing inode of the same (dev, ino) (fd is then closed), or a new one
 * that takes fd. On failure (-ENOMEM) fd is closed. The root (looked up
 * by name through "..", which tmemfs never does) is never returned here.
 */
struct tmemfs_inode *tmemfs_inode_get(struct tmemfs_inode_table *t, int fd,
                                      const struct statx *stx, int *err);

/* The kernel forgets n lookups of inode; the inode is freed (its fd
 * closed) when none remain. Root and control inodes are left alone. */
void tmemfs_inode_forget(struct tmemfs_inode_table *t, struct tmemfs_inode *inode,
                         uint64_t n);

/* "/proc/self/fd/N" of the inode's O_PATH descriptor, for the calls that
 * have no *at() form with an empty path (reopening, xattrs, chmod). */
void tmemfs_inode_proc_path(const struct tmemfs_inode *inode, char *buf, size_t size);

#endif /* TMEMFS_INODE_H */
