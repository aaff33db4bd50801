/*
 * tmemfs_fs.h - one mounted tmemfs: the context every FUSE operation gets
 * (fuse_get_context()->private_data), its set-up/tear-down, and the open
 * handle type. One process may run several mounts (guests) on one tmem
 * store (the "hypervisor", created once by tmemfs_store_create); mounts
 * with a shared pool form a sharing group (tmemfs_group.h).
 */
#ifndef TMEMFS_FS_H
#define TMEMFS_FS_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/tmem.h"
#include "fuse_cleancache/tmemfs_control.h"
#include "fuse_cleancache/tmemfs_creds.h"
#include "fuse_cleancache/tmemfs_group.h"
#include "fuse_cleancache/tmemfs_inode.h"
#include "fuse_cleancache/tmemfs_io.h"
#include "fuse_cleancache/tmemfs_object_table.h"
#include "fuse_cleancache/tmemfs_opts.h"
#include "fuse_cleancache/tmemfs_stats.h"

struct tmemfs_fs {
    const struct tmemfs_opts *opts; /* shared by every mount of the process */
    const char *mountpoint;       /* this mount's MOUNTPOINT as given */
    bool named;                   /* JSON statistics name the mountpoint */
    struct tmem *tm;              /* the store ("hypervisor"), shared, not owned */
    struct tmem_client *client;   /* this mount as a guest */
    struct tmemfs_stats stats;
    struct tmemfs_io io;
    bool io_ready;
    struct tmemfs_object_table *objs;
    struct tmemfs_creds creds;      /* the daemon's identity (tmemfs_creds.h) */
    struct tmemfs_inode_table inodes; /* what the kernel knows the mount by; its
                                     root holds SOURCE's O_PATH descriptor */
    bool inodes_ready;
    struct tmemfs_inode control[TMEMFS_CONTROL_NR]; /* the control directory, files */
};

enum tmemfs_fh_kind { TMEMFS_FH_FILE, TMEMFS_FH_DIR, TMEMFS_FH_CTL, TMEMFS_FH_CTLDIR };

/* An open file or directory (fuse_file_info.fh). */
struct tmemfs_fh {
    enum tmemfs_fh_kind kind;
    int fd;                 /* backing descriptor (-1 for control files) */
    int direct_fd;          /* the same file with O_DIRECT for reads, or -1 */
    bool reg;               /* regular file: goes through the caches */
    bool append;            /* opened O_APPEND */
    bool pinned;            /* holds an object-table pin */
    struct tmem_oid oid;
    /* directories */
    DIR *dp;
    struct dirent *entry;
    off_t offset;
    bool is_root;
    /* control files */
    int ctl;                /* enum tmemfs_control_file */
    char *buf;
    size_t len;
};

/*
 * Create the tmem store every mount of the process uses (capacity, page
 * size, compression, dedup from o). On failure prints one line to err and
 * returns NULL. Free with tmem_destroy after every tmemfs_fs_teardown.
 */
struct tmem *tmemfs_store_create(const struct tmemfs_opts *o, FILE *err);

/*
 * Set up mount number i of o (SOURCE o->sources[i], open as rootfd) on
 * the store tm: its client, the guest cache, cleancache (init_fs, or
 * init_shared_fs with o->shared; none with cleancache=off), the
 * read/write path and the object table. group: the sharing group of the
 * mounts on the shared pool (NULL: none; pass one only with o->shared and
 * cleancache on). named: JSON statistics carry "mountpoint" (several
 * mounts). fs must not move in memory afterwards. Single-threaded with
 * respect to every member of group. On failure prints one line to err,
 * undoes everything and returns -1.
 */
int tmemfs_fs_setup(struct tmemfs_fs *fs, const struct tmemfs_opts *o, size_t i, struct tmem *tm,
                  struct tmemfs_group *group, bool named, int rootfd, FILE *err);

/* Undo tmemfs_fs_setup (destroys the pool: invalidate_fs; leaves the
 * group). Safe on a zeroed or partly set-up fs. Does not close rootfd or
 * destroy the store. No FUSE loop of this mount or of a mount of its
 * group may be running. */
void tmemfs_fs_teardown(struct tmemfs_fs *fs);

/* The gauges shown beside the counters: guest cache, pool and store
 * (thread-safe). */
void tmemfs_fs_gauges(struct tmemfs_fs *fs, struct tmemfs_gauges *g);

/* Render the statistics (text or JSON) into a malloc'ed string (NULL on
 * allocation failure). With fs->named the JSON object begins with
 * "mountpoint":"MOUNTPOINT". */
char *tmemfs_fs_stats_text(struct tmemfs_fs *fs, bool json);

/* Free an open file's or directory's handle (closing its descriptor,
 * dropping its object-table pin). fh may be NULL. */
void tmemfs_fh_release(struct tmemfs_fs *fs, struct tmemfs_fh *fh);

/* The FUSE low-level operation table (every request's userdata is the
 * struct tmemfs_fs of its mount). */
const struct fuse_lowlevel_ops *tmemfs_fuse_ops(void);

#endif /* TMEMFS_FS_H */
