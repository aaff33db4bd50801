/*
 * ccfs_fs.c - set-up and tear-down of one mount's state, and its stats.
 *
 * Models: a guest booting with cleancache: the store ("hypervisor") is
 * created with the mount's options, the mount registers as one client and
 * calls init_fs (private ephemeral pool) or init_shared_fs (shared pool by
 * uuid); at unmount the pool is destroyed (invalidate_fs) and the client
 * and store go away.
 *
 * Data: struct ccfs_fs (see ccfs_fs.h), owned by main. Locking: set-up and
 * tear-down run single-threaded (before the FUSE loop starts / after it
 * ends); ccfs_fs_stats_text may run from any thread (it locks via io).
 */
#include "fuse_cleancache/ccfs_fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuse_cleancache/ccfs_cc.h"
#include "fuse_cleancache/ccfs_pcache.h"

int ccfs_fs_setup(struct ccfs_fs *fs, const struct ccfs_opts *o, int rootfd, FILE *err)
{
    struct tmem_config cfg;
    struct ccfs_pcache *pc = NULL;
    struct ccfs_cc cc;
    int rc;

    memset(fs, 0, sizeof(*fs));
    fs->rootfd = rootfd;
    fs->opts = o;
    ccfs_stats_init(&fs->stats);

    tmem_config_init(&cfg);
    cfg.capacity_bytes = o->capacity;
    cfg.page_size = o->page_size;
    cfg.compress = o->compress;
    cfg.dedup = o->dedup;
    fs->tm = tmem_create(&cfg);
    if (!fs->tm) {
        fprintf(err, "tmemfs: cannot create the tmem store: %s\n", strerror(errno));
        goto fail;
    }
    fs->client = tmem_client_create(fs->tm, "tmemfs");
    if (!fs->client) {
        fprintf(err, "tmemfs: cannot create the tmem client: %s\n", strerror(errno));
        goto fail;
    }
    pc = ccfs_pcache_create((size_t)(o->cache_size / o->page_size), o->page_size, o->policy);
    if (!pc) {
        fprintf(err, "tmemfs: cannot allocate the guest cache: %s\n", strerror(errno));
        goto fail;
    }
    if (!o->cleancache) {
        ccfs_cc_init_disabled(&cc, &fs->stats);
        rc = 0;
    } else if (o->shared) {
        rc = ccfs_cc_init_shared_fs(&cc, fs->client, o->uuid, o->page_size, &fs->stats);
    } else {
        rc = ccfs_cc_init_fs(&cc, fs->client, o->page_size, &fs->stats);
    }
    if (rc < 0) {
        fprintf(err, "tmemfs: cleancache init failed: %s\n", strerror(-rc));
        goto fail;
    }
    rc = ccfs_io_init(&fs->io, pc, &cc, &fs->stats);
    if (rc < 0) {
        ccfs_cc_invalidate_fs(&cc);
        fprintf(err, "tmemfs: %s\n", strerror(-rc));
        goto fail;
    }
    pc = NULL; /* owned by io now */
    fs->io_ready = true;
    fs->objs = ccfs_objtab_create((size_t)o->max_objects, &fs->io, &fs->stats);
    if (!fs->objs) {
        fprintf(err, "tmemfs: cannot allocate the object table: %s\n", strerror(errno));
        goto fail;
    }
    return 0;
fail:
    ccfs_pcache_destroy(pc);
    ccfs_fs_teardown(fs);
    return -1;
}

void ccfs_fs_teardown(struct ccfs_fs *fs)
{
    ccfs_objtab_destroy(fs->objs);
    fs->objs = NULL;
    if (fs->io_ready)
        ccfs_io_destroy(&fs->io);
    fs->io_ready = false;
    tmem_client_destroy(fs->client);
    fs->client = NULL;
    tmem_destroy(fs->tm);
    fs->tm = NULL;
}

char *ccfs_fs_stats_text(struct ccfs_fs *fs, bool json)
{
    struct ccfs_gauges g;
    char *buf;
    int n;

    ccfs_io_gauges(&fs->io, &g);
    if (fs->tm)
        (void)tmem_stats(fs->tm, &g.store);
    n = ccfs_stats_format(&fs->stats, &g, json, NULL, 0);
    if (n < 0)
        return NULL;
    buf = malloc((size_t)n + 1);
    if (!buf)
        return NULL;
    (void)ccfs_stats_format(&fs->stats, &g, json, buf, (size_t)n + 1);
    return buf;
}
