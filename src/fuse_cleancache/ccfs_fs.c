/*
 * ccfs_fs.c - the store, set-up and tear-down of one mount's state, and
 * its stats.
 *
 * Models: guests booting with cleancache on one hypervisor: the store is
 * created once with the options, each mount registers as one client and
 * calls init_fs (private ephemeral pool) or init_shared_fs (shared pool by
 * uuid; the mounts on it form a sharing group, ccfs_group.h); at unmount
 * the pool is destroyed (invalidate_fs: a shared pool lives on while
 * another mount holds it) and the client goes away; the store goes last.
 *
 * Data: struct ccfs_fs (see ccfs_fs.h), owned by main. Locking: set-up and
 * tear-down run single-threaded (before the FUSE loops start / after they
 * all end); ccfs_fs_stats_text may run from any thread (it locks via io).
 */
#include "fuse_cleancache/ccfs_fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuse_cleancache/ccfs_cc.h"
#include "fuse_cleancache/ccfs_pcache.h"

struct tmem *ccfs_store_create(const struct ccfs_opts *o, FILE *err)
{
    struct tmem_config cfg;
    struct tmem *tm;

    tmem_config_init(&cfg);
    cfg.capacity_bytes = o->capacity;
    cfg.page_size = o->page_size;
    cfg.compress = o->compress;
    cfg.dedup = o->dedup;
    tm = tmem_create(&cfg);
    if (!tm)
        fprintf(err, "tmemfs: cannot create the tmem store: %s\n", strerror(errno));
    return tm;
}

int ccfs_fs_setup(struct ccfs_fs *fs, const struct ccfs_opts *o, size_t i, struct tmem *tm,
                  struct ccfs_group *group, bool named, int rootfd, FILE *err)
{
    struct ccfs_pcache *pc = NULL;
    struct ccfs_cc cc;
    int rc;

    memset(fs, 0, sizeof(*fs));
    fs->rootfd = rootfd;
    fs->opts = o;
    fs->mountpoint = o->mountpoints[i];
    fs->named = named;
    fs->tm = tm;
    ccfs_stats_init(&fs->stats);
    rc = ccfs_creds_init(&fs->creds);
    if (rc < 0) {
        fprintf(err, "tmemfs: cannot read the daemon's groups: %s\n", strerror(-rc));
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
    rc = ccfs_io_init_shared(&fs->io, pc, &cc, &fs->stats, cc.pool_id >= 0 ? group : NULL);
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
    fs->tm = NULL;
    ccfs_creds_destroy(&fs->creds);
}

/* s as a quoted, escaped JSON string (malloc'ed; NULL on failure). */
static char *ccfs_json_quote(const char *s)
{
    size_t n = strlen(s), k = 0;
    char *q = malloc(6 * n + 3);
    const unsigned char *p;

    if (!q)
        return NULL;
    q[k++] = '"';
    for (p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            q[k++] = '\\';
            q[k++] = (char)*p;
        } else if (*p < 0x20) {
            k += (size_t)sprintf(q + k, "\\u%04x", *p);
        } else {
            q[k++] = (char)*p;
        }
    }
    q[k++] = '"';
    q[k] = '\0';
    return q;
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
    if (json && fs->named && buf[0] == '{') {
        char *q = ccfs_json_quote(fs->mountpoint), *named = NULL;
        if (!q || asprintf(&named, "{\"mountpoint\":%s,%s", q, buf + 1) < 0)
            named = NULL;
        free(q);
        free(buf);
        buf = named;
    }
    return buf;
}
