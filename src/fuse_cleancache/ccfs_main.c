/*
 * ccfs_main.c - tmemfs: `tmemfs [options] SOURCE MOUNTPOINT`.
 *
 * Models: booting a guest with cleancache over a dataset: parse and check
 * the command line (one-line errors, non-zero exit), create the tmem store
 * and this mount's client/pool (ccfs_fs_setup), mount, run libfuse's
 * multi-threaded loop until fusermount3 -u / SIGINT / SIGTERM / SIGHUP,
 * unmount, then print the final statistics (text and one JSON line on
 * stderr; JSON also to -o stats_json=PATH) and tear everything down.
 *
 * Data: everything lives on main's stack (struct ccfs_opts, struct
 * ccfs_fs); no globals. Locking: single-threaded except inside the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuse_cleancache/ccfs_fs.h"
#include "fuse_cleancache/ccfs_opts.h"

#define CCFS_VERSION "0.1"

/* Write the final JSON statistics to path. Returns 0 or -1 (message). */
static int ccfs_write_json(const char *path, const char *json)
{
    FILE *f = fopen(path, "w");
    int rc = 0;

    if (!f) {
        fprintf(stderr, "tmemfs: stats_json %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fputs(json, f) < 0)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "tmemfs: stats_json %s: write failed\n", path);
    return rc;
}

static void ccfs_final_stats(struct ccfs_fs *fs, const struct ccfs_opts *o)
{
    char *text = ccfs_fs_stats_text(fs, false);
    char *json = ccfs_fs_stats_text(fs, true);

    if (text)
        fprintf(stderr, "tmemfs: final statistics for %s:\n%s", o->mountpoint, text);
    if (json) {
        fprintf(stderr, "tmemfs-stats-json: %s", json);
        if (o->stats_json)
            (void)ccfs_write_json(o->stats_json, json);
    }
    free(text);
    free(json);
}

int main(int argc, char *argv[])
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    struct ccfs_opts o;
    struct ccfs_fs fs;
    struct fuse *f = NULL;
    struct fuse_loop_config *lc = NULL;
    bool parsed = false, set_up = false, mounted = false, handlers = false;
    int rootfd = -1, rc = 1, res;

    memset(&fs, 0, sizeof(fs));
    if (ccfs_opts_parse(&args, &o, stderr) < 0)
        goto out;
    parsed = true;
    if (o.show_help) {
        ccfs_opts_usage(stdout, argv[0]);
        printf("\nlibfuse options:\n");
        fflush(stdout);
        fuse_lib_help(&args);
        rc = 0;
        goto out;
    }
    if (o.show_version) {
        printf("tmemfs %s (libfuse %s)\n", CCFS_VERSION, fuse_pkgversion());
        rc = 0;
        goto out;
    }
    if (ccfs_opts_validate(&o, stderr) < 0)
        goto out;
    rootfd = open(o.source, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        fprintf(stderr, "tmemfs: SOURCE %s: %s\n", o.source, strerror(errno));
        goto out;
    }
    if (ccfs_fs_setup(&fs, &o, rootfd, stderr) < 0)
        goto out;
    set_up = true;
    f = fuse_new(&args, ccfs_fuse_ops(), sizeof(struct fuse_operations), &fs);
    if (!f)
        goto out; /* libfuse printed why (e.g. an unknown option) */
    if (fuse_mount(f, o.mountpoint) != 0)
        goto out;
    mounted = true;
    if (fuse_daemonize(o.foreground) != 0)
        goto out;
    if (fuse_set_signal_handlers(fuse_get_session(f)) != 0)
        goto out;
    handlers = true;
    if (o.single_thread) {
        res = fuse_loop(f);
    } else {
        lc = fuse_loop_cfg_create();
        if (!lc)
            goto out;
        fuse_loop_cfg_set_clone_fd(lc, 0);
        fuse_loop_cfg_set_max_threads(lc, 16);
        res = fuse_loop_mt(f, lc);
    }
    /* 0: unmounted; > 0: the signal that stopped us; < 0: an error. */
    rc = res < 0 ? 1 : 0;
out:
    if (handlers)
        fuse_remove_signal_handlers(fuse_get_session(f));
    if (mounted)
        fuse_unmount(f);
    if (mounted && set_up)
        ccfs_final_stats(&fs, &o);
    if (f)
        fuse_destroy(f);
    if (lc)
        fuse_loop_cfg_destroy(lc);
    if (set_up)
        ccfs_fs_teardown(&fs);
    if (rootfd >= 0)
        close(rootfd);
    if (parsed)
        ccfs_opts_free(&o);
    fuse_opt_free_args(&args);
    return rc;
}
