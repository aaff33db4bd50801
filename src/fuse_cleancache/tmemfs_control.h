/*
 * tmemfs_control.h - the control directory of a tmemfs mount ("/.tmemfs" by
 * default; -o ctl=NAME). It is not listed by readdir of the root and
 * shadows a backing entry of the same name. The directory and its files
 * are inodes of their own kind (tmemfs_inode.h), kept in struct
 * tmemfs_fs; the FUSE handlers send every request on them here. Files:
 *   stats        (r)  counters, one "name value" line each (debugfs style)
 *   stats.json   (r)  the same as one JSON object
 *   capacity     (rw) the tmem store capacity in bytes ("unlimited");
 *                     writing a size (K/M/G suffix) calls tmem_set_capacity
 *                     (on the one store every mount of the process uses)
 *   drop_caches  (w)  1: evict this mount's guest cache into cleancache
 *                     (memory pressure); 2: drop the cleancache pool (in a
 *                     sharing group: the shared pool, for every member);
 *                     3: both
 * Only root and the user running the daemon may write capacity and
 * drop_caches (the files show that user as owner, modes 0644 and 0200);
 * anyone who can reach the mount may read the statistics.
 */
#ifndef TMEMFS_CONTROL_H
#define TMEMFS_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct tmemfs_fs;
struct tmemfs_fh;
struct tmemfs_inode;

enum tmemfs_control_file {
    TMEMFS_CONTROL_DIR = 0,     /* the directory itself */
    TMEMFS_CONTROL_STATS,
    TMEMFS_CONTROL_STATS_JSON,
    TMEMFS_CONTROL_CAPACITY,
    TMEMFS_CONTROL_DROP,
    TMEMFS_CONTROL_NR
};

/* Give fs's control inodes (fs->control[]) their kind and file. */
void tmemfs_control_init(struct tmemfs_fs *fs);

/*
 * Lookup of name in parent when either is the control directory's: the
 * control directory (parent the root, name the control name) or one of
 * its files (parent the control directory). Returns that inode, or NULL:
 * with *err = -ENOENT (parent is the control directory and has no such
 * file) or 0 (nothing of the control directory's: look in SOURCE).
 */
struct tmemfs_inode *tmemfs_control_lookup(struct tmemfs_fs *fs, struct tmemfs_inode *parent,
                                           const char *name, int *err);
/* Is name (a root directory entry) the control directory's name? */
bool tmemfs_control_is_name(const struct tmemfs_fs *fs, const char *name);
/* Attributes of a control inode. */
void tmemfs_control_getattr(const struct tmemfs_inode *inode, struct stat *st);
/* Open control file inode for the calling uid: snapshot the content of
 * readable files into fh. 0 or -errno (-EACCES: a write open by a caller
 * other than root or the daemon's user, or an access mode the file does
 * not have; -EISDIR: the directory). */
int tmemfs_control_open(struct tmemfs_fs *fs, const struct tmemfs_inode *inode, int flags,
                        uid_t caller, struct tmemfs_fh *fh);
/* Read from the snapshot. Returns bytes. */
ssize_t tmemfs_control_read(const struct tmemfs_fh *fh, char *buf, size_t size, off_t off);
/* Write a command. Returns size or -errno (-EINVAL for a bad value). */
ssize_t tmemfs_control_write(struct tmemfs_fs *fs, struct tmemfs_fh *fh, const char *buf,
                             size_t size);
/* The name of file which (TMEMFS_CONTROL_STATS ..), for readdir; NULL for
 * anything else. */
const char *tmemfs_control_name(int which);

#endif /* TMEMFS_CONTROL_H */
