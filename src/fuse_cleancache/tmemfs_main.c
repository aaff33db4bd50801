/*
 * tmemfs_main.c - tmemfs: `tmemfs [options] SOURCE MOUNTPOINT [SOURCE2 MOUNTPOINT2 ...]`.
 *
 * Models: booting guests with cleancache over datasets on one hypervisor:
 * parse and check the command line (one-line errors, exit status 1),
 * create the one tmem store, then per SOURCE MOUNTPOINT pair one mount
 * (tmemfs_mount.h: its client, pool, guest cache, object table; with
 * shared_uuid all mounts join one sharing group, tmemfs_group.h), mount them
 * all (libfuse's low-level sessions, one per mount, each with its own copy
 * of the libfuse arguments plus fsname=SOURCE and subtype=tmemfs),
 * daemonize (unless -f), run the FUSE loops until they end, then print
 * the final statistics of every mount (text and one JSON line each on
 * stderr; JSON also to -o stats_json=PATH: one object for one mount, an
 * array for several) and tear everything down, the store last. With
 * -o stats_csv / stats_jsonl a thread samples every mount's statistics
 * every stats_interval seconds while the loops run (tmemfs_series.h).
 *
 * Control (-o control[=PATH], off by default; docs/control.md): after
 * daemonizing, a control server (control_server.h) serves tmemctl with
 * tmemfs_commands.h's table. Its thread is started with SIGINT, SIGTERM
 * and SIGHUP blocked, so `tmemctl stop` (a SIGTERM to the process)
 * reaches the loops as an outside SIGTERM does. It is stopped before any
 * mount is torn down (the commands use the mounts' clients). The default
 * path's name comes from the first MOUNTPOINT, resolved before mounting
 * (resolving it afterwards would ask our own not-yet-served mount).
 *
 * The daemon's umask is 0: a new file's mode gets the caller's umask, not
 * the daemon's (tmemfs_creds_umask).
 *
 * One mount: libfuse's loop runs in the main thread with libfuse's signal
 * handlers (fuse_set_signal_handlers), exactly as a classic FUSE daemon.
 *
 * Several mounts: libfuse 3.14's signal handlers serve one session only,
 * so each mount's loop (fuse_loop_mt, or fuse_loop with -s) runs in a
 * thread of its own and SIGINT/SIGTERM/SIGHUP are blocked in every thread
 * and taken by a signal thread with sigwait(). On a signal it marks the
 * run as stopping and sends TMEMFS_WAKE_SIG to each loop thread still
 * running; that thread's handler calls fuse_session_exit() on its own
 * session (what libfuse's own handler does) and interrupts the loop's
 * wait (sem_wait in fuse_loop_mt, read in fuse_loop: the handler has no
 * SA_RESTART), so the loop returns and the thread unmounts its mount. The
 * wake is repeated every 100 ms until every loop has ended, since a wake
 * that lands just before the loop blocks would be lost. `fusermount3 -u`
 * of one mount ends only that mount's loop (the kernel ends its
 * connection); the process goes on until every loop has ended. Each
 * mount's state lives until then (its object-table records keep covering
 * the pages it put into a shared pool), and the statistics are printed
 * for all mounts at exit.
 *
 * Data: the options and an array of struct tmemfs_mount (one per pair,
 * tmemfs_mount.h), owned by main; struct tmemfs_run and one struct
 * tmemfs_loop per mount for the threads. The only globals are
 * the thread-local session of a loop thread and the "stopping" flag the
 * wake handler reads (async-signal-safe atomics).
 *
 * Locking: run->lock guards run->stopping/done/nended and each loop's
 * `ended`; the signal thread holds it while it sends wakes, and a loop
 * thread sets `ended` under it as its last act, so a wake never targets a
 * thread that has exited. Lock order: run->lock is taken alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/stats_writer.h"
#include "control/control_server.h"
#include "control/control_tmem.h"
#include "fuse_cleancache/tmemfs_commands.h"
#include "fuse_cleancache/tmemfs_fs.h"
#include "fuse_cleancache/tmemfs_group.h"
#include "fuse_cleancache/tmemfs_mount.h"
#include "fuse_cleancache/tmemfs_opts.h"
#include "fuse_cleancache/tmemfs_series.h"

#include <fuse_lowlevel.h>

#define TMEMFS_VERSION "0.1"

/* Sent by the signal thread to a loop thread to stop its loop. */
#define TMEMFS_WAKE_SIG SIGUSR1

struct tmemfs_run;

/* The loop thread of one mount in a several-mount run. */
struct tmemfs_loop {
    struct tmemfs_mount *m;
    pthread_t thread;
    bool started;
    bool ended;                 /* under run->lock */
    int loop_rc;
    struct tmemfs_run *run;
};

/* The threads of a several-mount run. */
struct tmemfs_run {
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* a loop ended */
    struct tmemfs_loop *loops;
    size_t n, nended;
    bool done;                  /* every loop ended: the signal thread quits */
    const struct tmemfs_opts *o;
};

/* The session of the loop running in this thread (NULL elsewhere). */
static _Thread_local struct fuse_session *tmemfs_loop_se;
/* Set once a stop signal arrived: the wake handler then exits its loop. */
static atomic_int tmemfs_stopping;

static void tmemfs_wake_handler(int sig)
{
    (void)sig;
    if (atomic_load(&tmemfs_stopping) && tmemfs_loop_se)
        fuse_session_exit(tmemfs_loop_se);
}

/* Write the final JSON statistics to path. Returns 0 or -1 (message). */
static int tmemfs_write_json(const char *path, const char *json)
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

/* Print the final statistics of every mount that ran; write stats_json
 * (one mount: its object; several: an array of objects). */
static void tmemfs_final_stats(struct tmemfs_mount *m, size_t n, const struct tmemfs_opts *o)
{
    json_t *all = json_array(); /* every mount's object, built by jansson */
    char *out = NULL;
    bool failed = !all, any = false;

    for (size_t i = 0; i < n; i++) {
        struct tmemfs_gauges g;
        json_t *json;
        char *text, *line = NULL;

        if (!m[i].ran)
            continue;
        any = true;
        text = tmemfs_fs_stats_text(&m[i].fs, false);
        if (text)
            fprintf(stderr, "tmemfs: final statistics for %s:\n%s", m[i].fs.mountpoint, text);
        free(text);
        tmemfs_fs_gauges(&m[i].fs, &g);
        json = tmemfs_stats_json(&m[i].fs.stats, &g, m[i].fs.named ? m[i].fs.mountpoint : NULL);
        if (json)
            line = stats_json_dumps(json, true);
        if (line)
            fprintf(stderr, "tmemfs-stats-json: %s", line);
        if (!line || !all || json_array_append(all, json) != 0)
            failed = true;
        free(line);
        json_decref(json);
    }
    if (o->stats_json && any && !failed)
        out = stats_json_dumps(n == 1 ? json_array_get(all, 0) : all, true);
    if (out)
        (void)tmemfs_write_json(o->stats_json, out);
    else if (o->stats_json && any)
        fprintf(stderr, "tmemfs: stats_json %s: out of memory\n", o->stats_json);
    free(out);
    json_decref(all);
}

/* --------------------------------------------------- several mounts */

/* A loop thread: run its mount's loop, then unmount it. */
static void *tmemfs_loop_thread(void *arg)
{
    struct tmemfs_loop *l = arg;
    struct tmemfs_run *run = l->run;
    sigset_t wake;
    int res;

    sigemptyset(&wake);
    sigaddset(&wake, TMEMFS_WAKE_SIG);
    tmemfs_loop_se = l->m->se;
    pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
    res = tmemfs_mount_session_loop(l->m->se, run->o);
    /* No more wakes here: the unmount may wait for fusermount3. */
    pthread_sigmask(SIG_BLOCK, &wake, NULL);
    tmemfs_loop_se = NULL;
    tmemfs_mount_unmount(l->m);
    pthread_mutex_lock(&run->lock);
    l->loop_rc = res;
    l->ended = true;
    run->nended++;
    pthread_cond_broadcast(&run->cond);
    pthread_mutex_unlock(&run->lock);
    return NULL;
}

/* The signal thread: sigwait for SIGINT/SIGTERM/SIGHUP; on one, stop
 * every loop; quit when run->done. */
static void *tmemfs_signal_thread(void *arg)
{
    struct tmemfs_run *run = arg;
    sigset_t set;
    size_t i;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        pthread_mutex_lock(&run->lock);
        if (run->done) {
            pthread_mutex_unlock(&run->lock);
            break;
        }
        atomic_store(&tmemfs_stopping, 1);
        while (run->nended < run->n) {
            struct timespec until;

            for (i = 0; i < run->n; i++)
                if (run->loops[i].started && !run->loops[i].ended)
                    pthread_kill(run->loops[i].thread, TMEMFS_WAKE_SIG);
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 100 * 1000 * 1000;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            (void)pthread_cond_timedwait(&run->cond, &run->lock, &until);
        }
        pthread_mutex_unlock(&run->lock);
    }
    return NULL;
}

/* Run every mount's loop in a thread until all have ended. Returns the
 * exit status (0, or 1 if a loop failed). */
static int tmemfs_run_several(struct tmemfs_mount *m, size_t n, const struct tmemfs_opts *o)
{
    struct tmemfs_run run;
    struct sigaction sa;
    sigset_t block;
    pthread_t sigthr;
    bool sig_started = false;
    size_t i;
    int rc = 0;

    memset(&run, 0, sizeof(run));
    run.loops = calloc(n, sizeof(*run.loops));
    run.n = n;
    run.o = o;
    if (!run.loops)
        return 1;
    if (pthread_mutex_init(&run.lock, NULL) != 0) {
        free(run.loops);
        return 1;
    }
    if (pthread_cond_init(&run.cond, NULL) != 0) {
        pthread_mutex_destroy(&run.lock);
        free(run.loops);
        return 1;
    }
    /* Blocked in every thread from here on (threads inherit the mask);
     * the signal thread takes them with sigwait. Never unblocked again:
     * a late signal must not kill the process while it prints stats. */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, TMEMFS_WAKE_SIG);
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = tmemfs_wake_handler;
    sa.sa_flags = 0; /* no SA_RESTART: the loop's wait returns EINTR */
    (void)sigaction(TMEMFS_WAKE_SIG, &sa, NULL);

    if (pthread_create(&sigthr, NULL, tmemfs_signal_thread, &run) != 0) {
        fprintf(stderr, "tmemfs: cannot start the signal thread\n");
        rc = 1;
        goto out;
    }
    sig_started = true;
    for (i = 0; i < n; i++) {
        struct tmemfs_loop *l = &run.loops[i];

        l->m = &m[i];
        l->run = &run;
        pthread_mutex_lock(&run.lock);
        if (pthread_create(&l->thread, NULL, tmemfs_loop_thread, l) == 0) {
            l->started = true;
        } else {
            fprintf(stderr, "tmemfs: cannot start the loop of %s\n", m[i].fs.mountpoint);
            l->ended = true; /* never ran: left mounted, unmounted by main */
            run.nended++;
            rc = 1;
        }
        pthread_mutex_unlock(&run.lock);
    }
    if (rc != 0)
        (void)kill(getpid(), SIGTERM); /* stop the loops that did start */
    for (i = 0; i < n; i++) {
        if (!run.loops[i].started)
            continue;
        pthread_join(run.loops[i].thread, NULL);
        if (run.loops[i].loop_rc < 0)
            rc = 1;
    }
out:
    if (sig_started) {
        pthread_mutex_lock(&run.lock);
        run.done = true;
        pthread_mutex_unlock(&run.lock);
        pthread_kill(sigthr, SIGTERM);
        pthread_join(sigthr, NULL);
    }
    pthread_cond_destroy(&run.cond);
    pthread_mutex_destroy(&run.lock);
    free(run.loops);
    return rc;
}

/* ------------------------------------------------------------ main */

/* The control socket's path (o->control, or the default one named after
 * the first MOUNTPOINT) into path. 0 or -1 (message). Before mounting. */
static int tmemfs_control_path(const struct tmemfs_opts *o, char *path, size_t len)
{
    char name[64], err[512];

    if (o->control[0]) {
        snprintf(path, len, "%s", o->control);
        return 0;
    }
    if (control_tmemfs_socket_name(o->mount_paths[0], name, sizeof(name)) != 0) {
        fprintf(stderr, "tmemfs: control: cannot resolve %s: %s\n", o->mount_paths[0],
                strerror(errno));
        return -1;
    }
    if (control_default_path(name, true, path, len, err, sizeof(err)) != 0) {
        fprintf(stderr, "tmemfs: control: %s\n", err);
        return -1;
    }
    return 0;
}

/* Start the control server with the stop signals blocked in its thread.
 * Returns 0 or -1 (message). */
static int tmemfs_control_start(const char *path, struct tmemfs_commands_ctx *ctx,
                                struct control_server **out)
{
    struct control_server_config cfg;
    sigset_t block, old;
    char err[512];
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    cfg.path = path;
    cfg.commands = tmemfs_control_commands(&cfg.ncommands);
    cfg.ctx = ctx;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    rc = control_server_start(&cfg, out, err, sizeof(err));
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        fprintf(stderr, "tmemfs: control: %s\n", err);
        return -1;
    }
    return 0;
}

/* One mount: libfuse's loop in this thread, libfuse's signal handlers. */
static int tmemfs_run_one(struct tmemfs_mount *m, const struct tmemfs_opts *o)
{
    int res;

    if (fuse_set_signal_handlers(m->se) != 0)
        return 1;
    res = tmemfs_mount_session_loop(m->se, o);
    fuse_remove_signal_handlers(m->se);
    tmemfs_mount_unmount(m);
    /* 0: unmounted; > 0: the signal that stopped us; < 0: an error. */
    return res < 0 ? 1 : 0;
}

int main(int argc, char *argv[])
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    struct tmemfs_opts o;
    struct tmemfs_mount *m = NULL;
    struct tmem *tm = NULL;
    struct tmemfs_group *group = NULL;
    struct tmemfs_series *series = NULL;
    struct tmemfs_fs **fs_list = NULL;
    struct control_server *control = NULL;
    struct tmemfs_commands_ctx control_ctx;
    char control_path[512] = "";
    bool parsed = false;
    size_t n = 0, i;
    int rc = 1;

    memset(&control_ctx, 0, sizeof(control_ctx));
    if (tmemfs_opts_parse(&args, &o, stderr) < 0)
        goto out;
    parsed = true;
    if (o.show_help) {
        tmemfs_opts_usage(stdout, argv[0]);
        printf("\nlibfuse options:\n");
        fflush(stdout);
        fuse_lowlevel_help();
        rc = 0;
        goto out;
    }
    if (o.show_version) {
        printf("tmemfs %s (libfuse %s)\n", TMEMFS_VERSION, fuse_pkgversion());
        rc = 0;
        goto out;
    }
    if (tmemfs_opts_validate(&o, stderr) < 0)
        goto out;
    (void)umask(0); /* new files get their caller's umask (tmemfs_creds_umask) */
    n = o.nmounts;
    m = calloc(n, sizeof(*m));
    fs_list = calloc(n, sizeof(*fs_list));
    if (!m || !fs_list) {
        fprintf(stderr, "tmemfs: out of memory\n");
        goto out;
    }
    for (i = 0; i < n; i++)
        tmemfs_mount_init(&m[i]);
    tm = tmemfs_store_create(&o, stderr);
    if (!tm)
        goto out;
    if (o.shared && o.cleancache) {
        group = tmemfs_group_create();
        if (!group) {
            fprintf(stderr, "tmemfs: cannot create the sharing group: %s\n", strerror(errno));
            goto out;
        }
    }
    for (i = 0; i < n; i++) {
        if (tmemfs_mount_setup(&m[i], &o, i, tm, group, n > 1, &args, stderr) < 0)
            goto out;
        fs_list[i] = &m[i].fs;
    }
    if (o.control) {
        if (tmemfs_control_path(&o, control_path, sizeof(control_path)) < 0)
            goto out;
        control_ctx.tm = tm;
        control_ctx.mounts = m;
        control_ctx.n = n;
        control_ctx.frozen = calloc(n, sizeof(bool));
        if (!control_ctx.frozen) {
            fprintf(stderr, "tmemfs: out of memory\n");
            goto out;
        }
    }
    for (i = 0; i < n; i++)
        if (tmemfs_mount_mount(&m[i]) < 0)
            goto out;
    if (tmemfs_series_open(&o, &series, stderr) < 0)
        goto out;
    if (o.control && o.foreground)
        fprintf(stderr, "tmemfs: control socket %s\n", control_path);
    if (fuse_daemonize(o.foreground) != 0)
        goto out;
    if (o.control && tmemfs_control_start(control_path, &control_ctx, &control) < 0)
        goto out;
    if (tmemfs_series_start(series, fs_list, n) < 0)
        fprintf(stderr, "tmemfs: cannot start the statistics series (the last sample is kept)\n");
    rc = n == 1 ? tmemfs_run_one(&m[0], &o) : tmemfs_run_several(m, n, &o);
out:
    control_server_stop(control); /* before the mounts' clients go */
    free(control_ctx.frozen);
    for (i = 0; m && i < n; i++)
        tmemfs_mount_unmount(&m[i]);
    tmemfs_series_stop(series);
    if (m)
        tmemfs_final_stats(m, n, &o);
    for (i = 0; m && i < n; i++)
        tmemfs_mount_destroy(&m[i]);
    free(m);
    free(fs_list);
    tmemfs_group_destroy(group);
    tmem_destroy(tm);
    if (parsed)
        tmemfs_opts_free(&o);
    fuse_opt_free_args(&args);
    return rc;
}
