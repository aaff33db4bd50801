/*
 * tmemfs_control.c - the control directory: the testbed's debugfs for one mount.
 *
 * Models: /sys/kernel/debug/cleancache (counters readable while mounted)
 * plus the hypervisor's knobs the experiments need: changing the tmem
 * capacity under a running workload and simulating memory pressure (the
 * guest dropping its clean pages into cleancache).
 *
 * Data: a static table of names (constant); the content of a readable file
 * is rendered at open into the handle (so a reader sees one consistent
 * text). Locking: none of its own; calls tmemfs_io / tmem, which lock.
 */
#include "fuse_cleancache/tmemfs_control.h"

#include "fuse_cleancache/tmemfs_fs.h"

#include "common/size.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const tmemfs_control_names[TMEMFS_CONTROL_NR] = {
    [TMEMFS_CONTROL_DIR] = "",
    [TMEMFS_CONTROL_STATS] = "stats",
    [TMEMFS_CONTROL_STATS_JSON] = "stats.json",
    [TMEMFS_CONTROL_CAPACITY] = "capacity",
    [TMEMFS_CONTROL_DROP] = "drop_caches",
};

const char *tmemfs_control_name(int which)
{
    if (which <= TMEMFS_CONTROL_DIR || which >= TMEMFS_CONTROL_NR)
        return NULL;
    return tmemfs_control_names[which];
}

bool tmemfs_control_is_name(const struct tmemfs_fs *fs, const char *name)
{
    const char *ctl = fs->opts->ctl;
    return ctl && *ctl && strcmp(name, ctl) == 0;
}

void tmemfs_control_init(struct tmemfs_fs *fs)
{
    for (int i = 0; i < TMEMFS_CONTROL_NR; i++) {
        memset(&fs->control[i], 0, sizeof(fs->control[i]));
        fs->control[i].kind = i == TMEMFS_CONTROL_DIR ? TMEMFS_INODE_CONTROL_DIR
                                                      : TMEMFS_INODE_CONTROL_FILE;
        fs->control[i].fd = -1;
        fs->control[i].type = i == TMEMFS_CONTROL_DIR ? S_IFDIR : S_IFREG;
        fs->control[i].control = i;
    }
}

struct tmemfs_inode *tmemfs_control_lookup(struct tmemfs_fs *fs, struct tmemfs_inode *parent,
                                           const char *name, int *err)
{
    *err = 0;
    if (parent == &fs->inodes.root && tmemfs_control_is_name(fs, name))
        return &fs->control[TMEMFS_CONTROL_DIR];
    if (parent->kind != TMEMFS_INODE_CONTROL_DIR)
        return NULL;
    for (int i = TMEMFS_CONTROL_STATS; i < TMEMFS_CONTROL_NR; i++)
        if (strcmp(name, tmemfs_control_names[i]) == 0)
            return &fs->control[i];
    *err = -ENOENT;
    return NULL;
}

void tmemfs_control_getattr(const struct tmemfs_inode *inode, struct stat *st)
{
    int which = inode->control;

    memset(st, 0, sizeof(*st));
    st->st_uid = getuid();
    st->st_gid = getgid();
    st->st_ino = 0x7fff0000u + (unsigned)which; /* only for display */
    st->st_nlink = 1;
    st->st_size = 0; /* content is generated; read until EOF */
    switch (which) {
    case TMEMFS_CONTROL_DIR:
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
        break;
    case TMEMFS_CONTROL_CAPACITY:
        st->st_mode = S_IFREG | 0644;
        break;
    case TMEMFS_CONTROL_DROP:
        st->st_mode = S_IFREG | 0200;
        break;
    default: /* the statistics */
        st->st_mode = S_IFREG | 0444;
        break;
    }
}

/* Changing the store (capacity, drop_caches) is for root and the user who
 * runs the daemon (the owner the control files show); anyone who can reach
 * the mount may read the statistics. */
static bool tmemfs_control_may_change(uid_t caller)
{
    return caller == 0 || caller == getuid();
}

int tmemfs_control_open(struct tmemfs_fs *fs, const struct tmemfs_inode *inode, int flags,
                        uid_t caller, struct tmemfs_fh *fh)
{
    int acc = flags & O_ACCMODE, which = inode->control;

    if (acc != O_RDONLY && (which == TMEMFS_CONTROL_CAPACITY || which == TMEMFS_CONTROL_DROP) &&
        !tmemfs_control_may_change(caller))
        return -EACCES;
    fh->kind = TMEMFS_FH_CTL;
    fh->fd = -1;
    fh->ctl = which;
    switch (which) {
    case TMEMFS_CONTROL_STATS:
    case TMEMFS_CONTROL_STATS_JSON:
        if (acc != O_RDONLY)
            return -EACCES;
        fh->buf = tmemfs_fs_stats_text(fs, which == TMEMFS_CONTROL_STATS_JSON);
        if (!fh->buf)
            return -ENOMEM;
        fh->len = strlen(fh->buf);
        return 0;
    case TMEMFS_CONTROL_CAPACITY: {
        uint64_t cap = tmem_capacity(fs->tm);
        char tmp[32];
        if (cap == TMEM_CAPACITY_UNLIMITED)
            snprintf(tmp, sizeof(tmp), "unlimited\n");
        else
            snprintf(tmp, sizeof(tmp), "%" PRIu64 "\n", cap);
        fh->buf = strdup(tmp);
        if (!fh->buf)
            return -ENOMEM;
        fh->len = strlen(fh->buf);
        return 0;
    }
    case TMEMFS_CONTROL_DROP:
        return acc == O_RDONLY ? -EACCES : 0;
    default:
        return -EISDIR;
    }
}

ssize_t tmemfs_control_read(const struct tmemfs_fh *fh, char *buf, size_t size, off_t off)
{
    if (!fh->buf || off < 0 || (size_t)off >= fh->len)
        return 0;
    if (size > fh->len - (size_t)off)
        size = fh->len - (size_t)off;
    memcpy(buf, fh->buf + off, size);
    return (ssize_t)size;
}

ssize_t tmemfs_control_write(struct tmemfs_fs *fs, struct tmemfs_fh *fh, const char *buf, size_t size)
{
    char cmd[64];
    size_t n = size;
    uint64_t v;

    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        n--;
    if (n == 0 || n >= sizeof(cmd))
        return -EINVAL;
    memcpy(cmd, buf, n);
    cmd[n] = '\0';
    switch (fh->ctl) {
    case TMEMFS_CONTROL_CAPACITY:
        if (size_parse(cmd, true, &v) < 0)
            return -EINVAL;
        (void)tmem_set_capacity(fs->tm, v);
        return (ssize_t)size;
    case TMEMFS_CONTROL_DROP:
        if (strcmp(cmd, "1") && strcmp(cmd, "2") && strcmp(cmd, "3"))
            return -EINVAL;
        if (cmd[0] == '1' || cmd[0] == '3')
            (void)tmemfs_io_shrink_guest(&fs->io);
        if (cmd[0] == '2' || cmd[0] == '3')
            tmemfs_io_drop_cleancache(&fs->io);
        return (ssize_t)size;
    default:
        return -EACCES;
    }
}
