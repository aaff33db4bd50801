/*
 * tmemfs_mount.c - one tmemfs mount: SOURCE opened, the fs set up on a
 * store, a libfuse low-level session with fsname=SOURCE and
 * subtype=tmemfs, mounted, and its loop (in the caller's thread, or in a
 * thread of its own for a host program such as the testbed).
 *
 * Models: what a FUSE daemon does for one mount, without the process
 * around it (signals, daemonizing, statistics at exit stay with the
 * program: tmemfs_main.c, the testbed). A hosting program may prepare
 * the mount's tmem client between the fs's setup and the mount (the
 * open's hook: e.g. attaching it to a remote tier, which tmem allows only
 * with no call of the client running).
 *
 * Stopping a loop thread: fuse_session_exit only sets a flag the loop
 * checks between requests, and the workers sleep in read() on /dev/fuse.
 * So a poker thread then makes requests: a lookup of a name that cannot
 * exist under the mount root (the kernel asks the daemon: a new name is
 * never in its cache) every 100 ms until the loop has ended; a worker
 * reads one, answers ENOENT and sees the flag; libfuse's multi-threaded
 * loop then cancels the other workers and returns. The poker is a thread
 * of its own because a lookup sent just as the last worker leaves is
 * never answered: it waits until the unmount ends the connection. Only
 * after the loop has returned is the session unmounted: libfuse closes
 * /dev/fuse in the unmount, and closing it under a worker that is about
 * to read could let that worker read another mount's descriptor that
 * reused the number. (The lookup cannot be made by the closer itself:
 * it would wait for that answer with the loop already gone.)
 *
 * Data: struct tmemfs_mount (tmemfs_mount.h), owned by the caller or by
 * tmemfs_mount_create. Locking: none of its own; loop_ended is atomic
 * (written by the loop thread, read by anyone); every other field belongs
 * to the thread that owns the mount.
 */
#include "fuse_cleancache/tmemfs_mount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void tmemfs_mount_init(struct tmemfs_mount *m)
{
    memset(m, 0, sizeof(*m));
    m->rootfd = -1;
    m->rootdir = -1;
    m->args = (struct fuse_args)FUSE_ARGS_INIT(0, NULL);
    m->own_args = (struct fuse_args)FUSE_ARGS_INIT(0, NULL);
    atomic_init(&m->loop_ended, false);
    atomic_init(&m->poke_stop, false);
}

/* "-ofsname=SOURCE" with the characters libfuse's option lists treat
 * specially (',' and '\\') escaped. malloc'ed; NULL on failure. */
static char *tmemfs_mount_fsname_arg(const char *source)
{
    size_t n = strlen(source), k = 0;
    char *arg = malloc(2 * n + sizeof("-ofsname="));

    if (!arg)
        return NULL;
    k = (size_t)sprintf(arg, "-ofsname=");
    for (const char *p = source; *p; p++) {
        if (*p == ',' || *p == '\\')
            arg[k++] = '\\';
        arg[k++] = *p;
    }
    arg[k] = '\0';
    return arg;
}

/* This mount's libfuse arguments: a copy of from (fuse_session_new
 * consumes its argument) with fsname=SOURCE and subtype=tmemfs in front
 * (a user's own fsname or subtype, later in the list, wins). 0 or -1. */
static int tmemfs_mount_args_copy(const struct fuse_args *from, const char *source,
                                  struct fuse_args *to)
{
    char *fsname = tmemfs_mount_fsname_arg(source);
    int i, rc = -1;

    *to = (struct fuse_args)FUSE_ARGS_INIT(0, NULL);
    if (!fsname || from->argc < 1 || fuse_opt_add_arg(to, from->argv[0]) != 0 ||
        fuse_opt_add_arg(to, fsname) != 0 || fuse_opt_add_arg(to, "-osubtype=tmemfs") != 0)
        goto out;
    for (i = 1; i < from->argc; i++)
        if (fuse_opt_add_arg(to, from->argv[i]) != 0)
            goto out;
    rc = 0;
out:
    free(fsname);
    if (rc < 0)
        fuse_opt_free_args(to);
    return rc;
}

int tmemfs_mount_setup(struct tmemfs_mount *m, const struct tmemfs_opts *o, size_t i,
                       struct tmem *tm, struct tmemfs_group *group, bool named,
                       const struct fuse_args *args, FILE *err)
{
    m->opts = o;
    m->path = o->mount_paths[i];
    m->rootfd = open(o->sources[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (m->rootfd < 0) {
        fprintf(err, "tmemfs: SOURCE %s: %s\n", o->sources[i], strerror(errno));
        return -1;
    }
    if (tmemfs_fs_setup(&m->fs, o, i, tm, group, named, m->rootfd, err) < 0)
        return -1;
    m->set_up = true;
    if (tmemfs_mount_args_copy(args, o->sources[i], &m->args) < 0) {
        fprintf(err, "tmemfs: out of memory\n");
        return -1;
    }
    m->se = fuse_session_new(&m->args, tmemfs_fuse_ops(), sizeof(struct fuse_lowlevel_ops),
                             &m->fs);
    if (!m->se)
        return -1; /* libfuse printed why (e.g. an unknown option) */
    return 0;
}

int tmemfs_mount_mount(struct tmemfs_mount *m)
{
    /* Absolute: a daemon chdirs to "/" before it unmounts. */
    if (fuse_session_mount(m->se, m->path) != 0)
        return -1;
    m->mounted = m->ran = true;
    return 0;
}

int tmemfs_mount_session_loop(struct fuse_session *se, const struct tmemfs_opts *o)
{
    struct fuse_loop_config *lc;
    int res;

    if (o->single_thread)
        return fuse_session_loop(se);
    lc = fuse_loop_cfg_create();
    if (!lc)
        return -ENOMEM;
    fuse_loop_cfg_set_clone_fd(lc, 0);
    fuse_loop_cfg_set_max_threads(lc, 16);
    res = fuse_session_loop_mt(se, lc);
    fuse_loop_cfg_destroy(lc);
    return res;
}

void tmemfs_mount_unmount(struct tmemfs_mount *m)
{
    if (m->mounted)
        fuse_session_unmount(m->se);
    m->mounted = false;
}

void tmemfs_mount_destroy(struct tmemfs_mount *m)
{
    tmemfs_mount_unmount(m);
    if (m->se)
        fuse_session_destroy(m->se);
    m->se = NULL;
    fuse_opt_free_args(&m->args);
    if (m->set_up)
        tmemfs_fs_teardown(&m->fs);
    m->set_up = false;
    if (m->rootfd >= 0)
        close(m->rootfd);
    m->rootfd = -1;
}

/* ------------------------------------------------ a mount with its thread */

int tmemfs_mount_create(int argc, char *argv[], struct tmemfs_mount **out, FILE *err)
{
    struct tmemfs_mount *m = malloc(sizeof(*m));
    int i;

    *out = NULL;
    if (!m) {
        fprintf(err, "tmemfs: out of memory\n");
        return -1;
    }
    tmemfs_mount_init(m);
    for (i = 0; i < argc; i++) {
        if (fuse_opt_add_arg(&m->own_args, argv[i]) != 0) {
            fprintf(err, "tmemfs: out of memory\n");
            goto fail;
        }
    }
    if (tmemfs_opts_parse(&m->own_args, &m->own_opts, err) < 0)
        goto fail;
    m->owns_opts = true;
    if (m->own_opts.show_help || m->own_opts.show_version) {
        fprintf(err, "tmemfs: -h and -V have no meaning for a hosted mount\n");
        goto fail;
    }
    if (m->own_opts.nmounts != 1) {
        fprintf(err, "tmemfs: a hosted mount takes one SOURCE MOUNTPOINT pair, not %zu\n",
                m->own_opts.nmounts);
        goto fail;
    }
    if (tmemfs_opts_validate(&m->own_opts, err) < 0)
        goto fail;
    m->opts = &m->own_opts;
    *out = m;
    return 0;
fail:
    tmemfs_mount_free(m);
    return -1;
}

static void *tmemfs_mount_thread(void *arg)
{
    struct tmemfs_mount *m = arg;

    m->loop_rc = tmemfs_mount_session_loop(m->se, m->opts);
    atomic_store(&m->loop_ended, true);
    return NULL;
}

int tmemfs_mount_open(struct tmemfs_mount *m, struct tmem *tm, struct tmemfs_group *group,
                      tmemfs_mount_client_hook hook, void *hook_arg, FILE *err)
{
    int e;

    if (m->set_up || m->se) {
        fprintf(err, "tmemfs: %s is open already\n", m->path ? m->path : "the mount");
        return -1;
    }
    if (tmemfs_mount_setup(m, m->opts, 0, tm, group, false, &m->own_args, err) < 0)
        goto fail;
    /* the caller's turn: nothing is mounted yet, so no request can reach
     * the client while the hook configures it */
    if (hook && hook(hook_arg, m->fs.client, err) < 0)
        goto fail;
    if (tmemfs_mount_mount(m) < 0) {
        fprintf(err, "tmemfs: cannot mount %s\n", m->path);
        goto fail;
    }
    atomic_store(&m->loop_ended, false);
    m->loop_rc = 0;
    e = pthread_create(&m->thread, NULL, tmemfs_mount_thread, m);
    if (e != 0) {
        fprintf(err, "tmemfs: cannot start the loop of %s: %s\n", m->path, strerror(e));
        goto fail;
    }
    m->thread_started = true;
    /* The mount's root, for the stop's lookups (no request is needed to
     * reach it: the kernel made the root inode at the mount). */
    m->rootdir = open(m->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return 0;
fail:
    tmemfs_mount_destroy(m);
    return -1;
}

bool tmemfs_mount_ended(struct tmemfs_mount *m)
{
    return atomic_load(&m->loop_ended);
}

/* Make the kernel send the daemon a request: a lookup of a name that no
 * cache can hold (new each time). Its result does not matter. */
static void tmemfs_mount_poke(const struct tmemfs_mount *m)
{
    static atomic_uint poke_count;
    unsigned n = atomic_fetch_add(&poke_count, 1u);
    char name[4096];
    struct stat st;

    if (m->rootdir >= 0) {
        snprintf(name, sizeof(name), ".tmemfs-stop-%ld-%u", (long)getpid(), n);
        (void)fstatat(m->rootdir, name, &st, AT_SYMLINK_NOFOLLOW);
    } else {
        snprintf(name, sizeof(name), "%s/.tmemfs-stop-%ld-%u", m->path, (long)getpid(), n);
        (void)stat(name, &st);
    }
}

/* The poker: a lookup every 100 ms until the loop has ended or the
 * closer says stop. A lookup made just as the loop ends finds no worker
 * to answer it and waits until the unmount ends the connection. */
static void *tmemfs_mount_poker(void *arg)
{
    struct tmemfs_mount *m = arg;
    const struct timespec pause = {0, 100 * 1000 * 1000};

    while (!atomic_load(&m->poke_stop) && !atomic_load(&m->loop_ended)) {
        tmemfs_mount_poke(m);
        nanosleep(&pause, NULL);
    }
    return NULL;
}

int tmemfs_mount_stop_loop(struct tmemfs_mount *m)
{
    pthread_t poker;
    bool poking;
    int rc = 0;

    if (m->thread_started) {
        fuse_session_exit(m->se);
        atomic_store(&m->poke_stop, false);
        poking = pthread_create(&poker, NULL, tmemfs_mount_poker, m) == 0;
        if (!poking) { /* no poker: end the connection instead */
            if (m->rootdir >= 0)
                close(m->rootdir); /* it would keep the detached mount alive */
            m->rootdir = -1;
            tmemfs_mount_unmount(m);
        }
        pthread_join(m->thread, NULL);
        m->thread_started = false;
        if (m->loop_rc < 0)
            rc = -1;
        tmemfs_mount_unmount(m); /* ends the connection: a late lookup returns */
        if (poking) {
            atomic_store(&m->poke_stop, true);
            pthread_join(poker, NULL);
        }
    }
    if (m->rootdir >= 0)
        close(m->rootdir); /* the last reference of a lazily unmounted mount */
    m->rootdir = -1;
    tmemfs_mount_unmount(m);
    return rc;
}

int tmemfs_mount_close(struct tmemfs_mount *m)
{
    bool served = m->thread_started || atomic_load(&m->loop_ended);
    bool was_set_up = m->set_up;
    int rc = tmemfs_mount_stop_loop(m);

    tmemfs_mount_destroy(m);
    atomic_store(&m->loop_ended, false);
    if (was_set_up && !served)
        rc = -1;
    return rc;
}

void tmemfs_mount_free(struct tmemfs_mount *m)
{
    if (!m)
        return;
    (void)tmemfs_mount_close(m);
    if (m->owns_opts)
        tmemfs_opts_free(&m->own_opts);
    fuse_opt_free_args(&m->own_args);
    free(m);
}

/* ----------------------------------------------------------- options */

/* Options that act on the whole process: the store's and the program's. */
static const char *const tmemfs_mount_process_options[] = {
    "capacity",   "compress",  "compressor",  "dedup",          "page_size",
    "stats_json", "stats_csv", "stats_jsonl", "stats_interval", "control",
};

bool tmemfs_mount_process_option(const char *list, char *name, size_t len)
{
    const char *p = list;

    while (p && *p) {
        char key[64];
        size_t k = 0;

        /* one option: up to an unescaped ',' ; its key ends at '=' */
        while (*p && *p != ',' && *p != '=') {
            if (*p == '\\' && p[1])
                p++;
            if (k + 1 < sizeof(key))
                key[k++] = *p;
            p++;
        }
        key[k] = '\0';
        while (*p && *p != ',') {
            if (*p == '\\' && p[1])
                p++;
            p++;
        }
        if (*p == ',')
            p++;
        for (size_t i = 0; i < sizeof(tmemfs_mount_process_options) /
                                   sizeof(tmemfs_mount_process_options[0]); i++) {
            if (strcmp(key, tmemfs_mount_process_options[i]) == 0) {
                if (len)
                    snprintf(name, len, "%s", key);
                return true;
            }
        }
    }
    return false;
}
