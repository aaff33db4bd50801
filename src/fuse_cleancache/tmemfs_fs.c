/*
 * tmemfs_fs.c - the store, set-up and tear-down of one mount's state, and
 * its stats.
 *
 * Models: guests booting with cleancache on one hypervisor: the store is
 * created once with the options, each mount registers as one client and
 * calls init_fs (private ephemeral pool) or init_shared_fs (shared pool by
 * uuid; the mounts on it form a sharing group, tmemfs_group.h); at unmount
 * the pool is destroyed (invalidate_fs: a shared pool lives on while
 * another mount holds it) and the client goes away; the store goes last.
 *
 * Data: struct tmemfs_fs (see tmemfs_fs.h), owned by main. Locking: set-up and
 * tear-down run single-threaded (before the FUSE loops start / after they
 * all end); tmemfs_fs_stats_text may run from any thread (it locks via io).
 */
#include "fuse_cleancache/tmemfs_fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuse_cleancache/tmemfs_cleancache.h"
#include "fuse_cleancache/tmemfs_page_cache.h"
#include "fuse_cleancache/tmemfs_record.h"

struct tmem *tmemfs_store_create(const struct tmemfs_opts *o, FILE *err)
{
    struct tmem_config cfg;
    struct tmem *tm;

    tmem_config_init(&cfg);
    cfg.capacity_bytes = o->capacity;
    cfg.page_size = o->page_size;
    cfg.compressor = o->compressor;
    cfg.compress_level = o->compress_level;
    cfg.dedup = o->dedup;
    tm = tmem_create(&cfg);
    if (!tm)
        fprintf(err, "tmemfs: cannot create the tmem store: %s\n", strerror(errno));
    return tm;
}

int tmemfs_fs_setup(struct tmemfs_fs *fs, const struct tmemfs_opts *o, size_t i, struct tmem *tm,
                  struct tmemfs_group *group, bool named, int rootfd, FILE *err)
{
    struct tmemfs_page_cache *pc = NULL;
    struct tmemfs_cleancache cc;
    int rc;

    memset(fs, 0, sizeof(*fs));
    fs->opts = o;
    fs->mountpoint = o->mountpoints[i];
    fs->named = named;
    fs->tm = tm;
    tmemfs_stats_init(&fs->stats);
    rc = tmemfs_creds_init(&fs->creds);
    if (rc < 0) {
        fprintf(err, "tmemfs: cannot read the daemon's groups: %s\n", strerror(-rc));
        goto fail;
    }
    rc = tmemfs_inode_table_init(&fs->inodes, rootfd);
    if (rc < 0) {
        fprintf(err, "tmemfs: SOURCE %s: %s\n", o->sources[i], strerror(-rc));
        goto fail;
    }
    fs->inodes_ready = true;
    tmemfs_control_init(fs);

    fs->client = tmem_client_create(fs->tm, fs->mountpoint); /* the guest, by its mount */
    if (!fs->client) {
        fprintf(err, "tmemfs: cannot create the tmem client: %s\n", strerror(errno));
        goto fail;
    }
    pc = tmemfs_page_cache_create((size_t)(o->cache_size / o->page_size), o->page_size, o->policy);
    if (!pc) {
        fprintf(err, "tmemfs: cannot allocate the guest cache: %s\n", strerror(errno));
        goto fail;
    }
    if (!o->cleancache) {
        tmemfs_cleancache_init_disabled(&cc, &fs->stats);
        rc = 0;
    } else if (o->shared) {
        rc = tmemfs_cleancache_init_shared_fs(&cc, fs->client, o->uuid, o->page_size, &fs->stats);
    } else {
        rc = tmemfs_cleancache_init_fs(&cc, fs->client, o->page_size, &fs->stats);
    }
    if (rc < 0) {
        fprintf(err, "tmemfs: cleancache init failed: %s\n", strerror(-rc));
        goto fail;
    }
    rc = tmemfs_io_init_shared(&fs->io, pc, &cc, &fs->stats, cc.pool_id >= 0 ? group : NULL);
    if (rc < 0) {
        tmemfs_cleancache_invalidate_fs(&cc);
        fprintf(err, "tmemfs: %s\n", strerror(-rc));
        goto fail;
    }
    pc = NULL; /* owned by io now */
    fs->io_ready = true;
    tmemfs_io_set_device(&fs->io, &o->device,
                         o->delay_device ? TMEMFS_DELAY_DEVICE
                                         : o->delay_ns ? TMEMFS_DELAY_FIXED : TMEMFS_DELAY_NONE,
                         o->delay_ns);
    tmemfs_io_set_faults(&fs->io, &o->fault_backing_read, &o->fault_backing_write);
    tmemfs_io_set_fault_kinds(&fs->io, o->fault_backing_read_short, o->fault_backing_write_short);
    fs->objs = tmemfs_object_table_create((size_t)o->max_objects, &fs->io, &fs->stats);
    if (!fs->objs) {
        fprintf(err, "tmemfs: cannot allocate the object table: %s\n", strerror(errno));
        goto fail;
    }
    if (o->record) {
        char msg[512];
        rc = tmemfs_record_open(o->record, o->page_size, &fs->io.record, msg, sizeof(msg));
        if (rc < 0) {
            fprintf(err, "tmemfs: record %s\n", rc == -ENOMEM ? "out of memory" : msg);
            goto fail;
        }
    }
    return 0;
fail:
    tmemfs_page_cache_destroy(pc);
    tmemfs_fs_teardown(fs);
    return -1;
}

void tmemfs_fs_teardown(struct tmemfs_fs *fs)
{
    char msg[512];

    if (fs->io_ready && tmemfs_record_close(fs->io.record, msg, sizeof(msg)) < 0)
        fprintf(stderr, "tmemfs: record: %s\n", msg);
    if (fs->io_ready)
        fs->io.record = NULL;
    tmemfs_object_table_destroy(fs->objs);
    fs->objs = NULL;
    if (fs->io_ready)
        tmemfs_io_destroy(&fs->io);
    fs->io_ready = false;
    tmem_client_destroy(fs->client);
    fs->client = NULL;
    fs->tm = NULL;
    tmemfs_creds_destroy(&fs->creds);
    if (fs->inodes_ready)
        tmemfs_inode_table_destroy(&fs->inodes);
    fs->inodes_ready = false;
}

void tmemfs_fs_gauges(struct tmemfs_fs *fs, struct tmemfs_gauges *g)
{
    tmemfs_io_gauges(&fs->io, g);
    if (fs->tm)
        (void)tmem_stats(fs->tm, &g->store);
}

char *tmemfs_fs_stats_text(struct tmemfs_fs *fs, bool json)
{
    struct tmemfs_gauges g;
    const char *name;
    char *buf;
    int n;

    tmemfs_fs_gauges(fs, &g);
    name = fs->named ? fs->mountpoint : NULL;
    n = tmemfs_stats_format(&fs->stats, &g, name, json, NULL, 0);
    if (n < 0)
        return NULL;
    buf = malloc((size_t)n + 1);
    if (buf)
        (void)tmemfs_stats_format(&fs->stats, &g, name, json, buf, (size_t)n + 1);
    return buf;
}
