/*
 * tmemfs_group.c - creation and destruction of a sharing group (the mounts
 * of one process that share a cleancache pool; see tmemfs_group.h).
 *
 * Models: the cluster lock domain of ocfs2 (one lock for the nodes that
 * share a shared cleancache pool), in one process.
 *
 * Data: struct tmemfs_group: the group io lock and the member lists, whose
 * links tmemfs_io.c and tmemfs_object_table.c maintain. Locking: creation and
 * destruction are single-threaded (no member may exist at destruction).
 */
#include "fuse_cleancache/tmemfs_group.h"

#include <errno.h>
#include <stdlib.h>

struct tmemfs_group *tmemfs_group_create(void)
{
    struct tmemfs_group *g = calloc(1, sizeof(*g));
    int rc;

    if (!g)
        return NULL;
    rc = pthread_mutex_init(&g->lock, NULL);
    if (rc != 0) {
        free(g);
        errno = rc;
        return NULL;
    }
    return g;
}

void tmemfs_group_destroy(struct tmemfs_group *g)
{
    if (!g)
        return;
    pthread_mutex_destroy(&g->lock);
    free(g);
}
