/*
 * tmemfs_mount.h - one tmemfs mount as a library: its file system
 * (tmemfs_fs), libfuse low-level session and loop, for the tmemfs program
 * and for any program that runs mounts inside itself (the testbed).
 *
 * Two levels:
 *
 *  - The pieces, for a program that runs its own loops (tmemfs_main.c):
 *    tmemfs_mount_init, _setup (open SOURCE, set up the fs on a store,
 *    make the session with fsname=SOURCE and subtype=tmemfs), _mount,
 *    tmemfs_mount_session_loop (serve in the calling thread), _unmount,
 *    _destroy. The program owns the options and the store.
 *
 *  - One mount with a loop thread of its own, for a program that hosts
 *    mounts among other work: tmemfs_mount_create parses and checks an
 *    argv such as {"tmemfs", "-o", OPTIONS, SOURCE, MOUNTPOINT} (nothing
 *    is mounted, no store is needed yet), tmemfs_mount_open sets it up on
 *    a store, lets the caller prepare its tmem client (an optional hook,
 *    run before anything is served), mounts it and starts its loop
 *    thread, tmemfs_mount_close
 *    stops the loop (fuse_session_exit, then a request to the mount wakes
 *    the loop so it returns), joins it, unmounts and tears the fs down;
 *    tmemfs_mount_free releases the rest. The library installs no signal
 *    handler: the host program decides what its signals do.
 *
 * Ownership: a struct tmemfs_mount must not move once set up (the fs is
 * every request's userdata). The pieces borrow the options, store and
 * group; tmemfs_mount_create's mount owns its options.
 *
 * Thread safety: the functions of one mount are called from one thread
 * (the one that owns it), except tmemfs_mount_ended, callable from any.
 * Statistics are read through m->fs with the thread-safe tmemfs_fs_gauges
 * and tmemfs_stats_get while the loop runs.
 */
#ifndef TMEMFS_MOUNT_H
#define TMEMFS_MOUNT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/tmem.h"
#include "fuse_cleancache/tmemfs_fs.h"
#include "fuse_cleancache/tmemfs_group.h"
#include "fuse_cleancache/tmemfs_opts.h"

struct tmemfs_mount {
    struct tmemfs_fs fs;        /* the file system every request is served by */
    bool set_up;                /* tmemfs_fs_setup done: teardown due */
    int rootfd;                 /* SOURCE (O_PATH), -1 when not open */
    struct fuse_args args;      /* this mount's copy of libfuse's arguments */
    struct fuse_session *se;    /* NULL until tmemfs_mount_setup */
    const struct tmemfs_opts *opts; /* the options it was set up with */
    const char *path;           /* absolute MOUNTPOINT (opts->mount_paths[i]) */
    bool mounted;               /* fuse_session_mount done, unmount not yet */
    bool ran;                   /* was mounted: its statistics mean something */
    /* tmemfs_mount_open / _close: the loop thread */
    int rootdir;                /* the mount's own root (O_PATH), -1: none;
                                   where the stop's lookups go */
    pthread_t thread;
    bool thread_started;
    atomic_bool loop_ended;     /* the loop returned (set by the loop thread) */
    atomic_bool poke_stop;      /* tmemfs_mount_stop_loop: the poker may stop */
    int loop_rc;                /* what the loop returned (after the join) */
    /* tmemfs_mount_create: the options this mount owns */
    struct tmemfs_opts own_opts;
    bool owns_opts;
    struct fuse_args own_args;  /* libfuse's arguments left by the parse */
};

/* ------------------------------------------------------------ pieces */

/* Make m empty (nothing open, nothing set up). */
void tmemfs_mount_init(struct tmemfs_mount *m);

/*
 * Set up mount number i of the checked options o (tmemfs_opts_validate
 * done) on store tm: open SOURCE o->sources[i], tmemfs_fs_setup (group and
 * named as there), copy args (libfuse's arguments left by
 * tmemfs_opts_parse; argv[0] first) with -o fsname=SOURCE and
 * -o subtype=tmemfs in front (a user's own, later in the list, win) and
 * create the low-level session. Returns 0, or -1 with one line on err
 * (libfuse prints its own line for an option it does not know). On
 * failure m keeps what was done: tmemfs_mount_destroy undoes it.
 */
int tmemfs_mount_setup(struct tmemfs_mount *m, const struct tmemfs_opts *o, size_t i,
                       struct tmem *tm, struct tmemfs_group *group, bool named,
                       const struct fuse_args *args, FILE *err);

/* Mount the session on m->path. Returns 0 or -1 (libfuse printed why). */
int tmemfs_mount_mount(struct tmemfs_mount *m);

/*
 * Serve session se in the calling thread until it ends: one thread
 * (o->single_thread) or libfuse's worker pool (up to 16 workers, no
 * cloned descriptors). Returns what libfuse's loop returns (0, a signal
 * number, or -errno).
 */
int tmemfs_mount_session_loop(struct fuse_session *se, const struct tmemfs_opts *o);

/* Unmount if mounted (lazily, as libfuse does). No loop of m may be
 * serving afterwards. */
void tmemfs_mount_unmount(struct tmemfs_mount *m);

/* Undo setup: destroy the session, free the argument copy, tear the fs
 * down (destroying its tmem client and pool), close SOURCE. Unmounts
 * first if still mounted. No loop of m may be running. Safe on an
 * init'ed or partly set-up m. Does not free options m owns
 * (tmemfs_mount_free does). */
void tmemfs_mount_destroy(struct tmemfs_mount *m);

/* ----------------------------------------------- a mount with its thread */

/*
 * Parse and check argv (argc entries; argv[0] the program name), exactly
 * one SOURCE MOUNTPOINT pair, as tmemfs does (tmemfs_opts_parse and
 * tmemfs_opts_validate: SOURCE a directory, MOUNTPOINT an existing empty
 * directory, ...). -h and -V are refused. Nothing is mounted and no store
 * is needed. Returns 0 with a new mount in *out, or -1 with one line on
 * err ("tmemfs: ...").
 */
int tmemfs_mount_create(int argc, char *argv[], struct tmemfs_mount **out, FILE *err);

/*
 * What tmemfs_mount_open calls (when given) with the mount's new tmem
 * client c: after the fs is set up (the client and its cleancache pool
 * made) and before the mount is mounted or serves, so no call of c runs
 * and none can start (the place for tmem_client_set_tier, e.g. the
 * testbed attaching c to a remote tier). arg: what the caller passed.
 * Returns 0, or -1 with one line on err: the open then fails and undoes
 * everything, c included (whatever the hook did to c that must be undone
 * after c is destroyed, the caller undoes after tmemfs_mount_open
 * returned -1).
 */
typedef int (*tmemfs_mount_client_hook)(void *arg, struct tmem_client *c, FILE *err);

/*
 * Set the mount up on store tm (group: a sharing group or NULL), call
 * hook(hook_arg, client, err) if hook is not NULL (above), mount it and
 * start its loop in a thread of its own (the thread inherits the
 * caller's signal mask). Returns 0, or -1 with one line on err, having
 * undone everything (m can be opened again).
 */
int tmemfs_mount_open(struct tmemfs_mount *m, struct tmem *tm, struct tmemfs_group *group,
                      tmemfs_mount_client_hook hook, void *hook_arg, FILE *err);

/* True once the loop thread's loop has returned (the mount was ended
 * from outside, e.g. fusermount3 -u, or failed). Thread-safe. */
bool tmemfs_mount_ended(struct tmemfs_mount *m);

/*
 * Stop the loop (fuse_session_exit; then a thread sends the mount a
 * LOOKUP of a name that cannot exist every 100 ms, through a descriptor
 * of the mount's root taken at open, so it reaches this mount even if
 * another was mounted over its path; a worker wakes, answers and sees the
 * session exited), join the thread and unmount.
 * Whoever still uses the mount (a process with its working directory
 * there) keeps it busy: the unmount is lazy, so the mount leaves the
 * namespace at once and goes when they do. The fs stays set up (its
 * statistics readable) until tmemfs_mount_close. Returns 0 if the loop
 * ended cleanly, -1 if it failed. Idempotent (0 when no loop runs).
 */
int tmemfs_mount_stop_loop(struct tmemfs_mount *m);

/*
 * tmemfs_mount_stop_loop, then tear the fs down (tmemfs_mount_destroy:
 * its tmem client and pool go). Returns what tmemfs_mount_stop_loop
 * returned (-1 also when m was set up but never served). Idempotent.
 */
int tmemfs_mount_close(struct tmemfs_mount *m);

/* Close if open, free the options and m. m may be NULL. */
void tmemfs_mount_free(struct tmemfs_mount *m);

/* ----------------------------------------------------------- options */

/*
 * The first option of the -o list `list` (comma-separated, backslash
 * escapes as libfuse reads them) that belongs to the whole process rather
 * than to one mount: the store's (capacity, compress, compressor, dedup,
 * page_size) or the program's outputs (stats_json, stats_csv,
 * stats_jsonl, stats_interval, control). Its name (the part before '=') is copied
 * into name (truncated to len) and true returned; false when there is
 * none. A host program that owns the store refuses these.
 */
bool tmemfs_mount_process_option(const char *list, char *name, size_t len);

#endif /* TMEMFS_MOUNT_H */
