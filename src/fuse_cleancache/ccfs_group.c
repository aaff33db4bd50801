/*
 * ccfs_group.c - creation and destruction of a sharing group (the mounts
 * of one process that share a cleancache pool; see ccfs_group.h).
 *
 * Models: the cluster lock domain of ocfs2 (one lock for the nodes that
 * share a shared cleancache pool), in one process.
 *
 * Data: struct ccfs_group: the group io lock and the member lists, whose
 * links ccfs_io.c and ccfs_obj.c maintain. Locking: creation and
 * destruction are single-threaded (no member may exist at destruction).
 */
#include "fuse_cleancache/ccfs_group.h"

#include <errno.h>
#include <stdlib.h>

struct ccfs_group *ccfs_group_create(void)
{
    struct ccfs_group *g = calloc(1, sizeof(*g));
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

void ccfs_group_destroy(struct ccfs_group *g)
{
    if (!g)
        return;
    pthread_mutex_destroy(&g->lock);
    free(g);
}
