/*
 * guest_mount.c - a mount guest (guest_mount.h): a tmemfs mount hosted in
 * the testbed process (tmemfs_mount.h) and a workload command in it.
 *
 * Models: a guest VM whose file reads go through its page cache and
 * cleancache, running a real program (fio, grep, a compile) on a dataset.
 * On a host with a remote tier its cleancache pool (private, ephemeral)
 * overflows there (docs/remote.md, "In the testbed"): the client is
 * attached in tmemfs_mount_open's hook, before the mount serves, and
 * detached after the mount's teardown destroyed it.
 *
 * Data structures: the hosted mount, the argv it was made from, the
 * workload's state (pid of the running command, runs, last status,
 * failure text). Threads: the runner's (everything but the workload) and
 * one workload thread that spawns `sh -c COMMAND` (posix_spawn: its own
 * process group, the mount as working directory, the default signal mask
 * and dispositions, stdin /dev/null, stdout and stderr to the log) and
 * waits for it. Reaping: the thread waits with WNOWAIT, then takes the
 * lock, reaps and clears pid, so the stopper, which signals the group only
 * under the lock while pid is set, never signals a group whose leader was
 * reaped (its number could be reused). Locking: mg->lock guards pid,
 * stopping, runs, status, failure, done; taken alone.
 */
#include "testbed/guest_mount.h"

#include "testbed/message.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuse_cleancache/tmemfs_mount.h"
#include "testbed/host_remote.h"

extern char **environ;

struct testbed_mount_guest {
    const struct scenario_guest *sg;
    const struct scenario *sc;
    struct tmemfs_mount *m;
    struct testbed_host *host;
    bool mounted;              /* testbed_mount_start succeeded, stop not yet */
    struct tmem_client *remote_client; /* attached to the host's remote tier (the
                                          key to detach it by, after its
                                          destruction); NULL: not attached */
    char attach_error[512];    /* why the attach failed (the hook's one line) */
    char *log_path;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t ended;      /* the workload thread ended */
    pid_t pid;                 /* the running command (its group), 0: none */
    pid_t pgid;                /* the group of the last run (its leader's pid) */
    bool stopping;             /* the stop signalled the group */
    bool workload_over;        /* the workload thread has ended */
    unsigned runs;
    int last_status;
    bool last_stopped;         /* the last run was ended by the stop */
    bool failed;
    char failure[512];
};

/* printf into err with the guest's place in front. */

/* What tmemfs wrote to a memory stream, as one line (no newline). */
static void testbed_mount_last_line(char *text, char *out, size_t len)
{
    size_t n = text ? strlen(text) : 0;

    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    snprintf(out, len, "%s", n ? text : "tmemfs refused the options");
}

int testbed_mount_prepare(const struct scenario *sc, const struct scenario_guest *sg,
                          const char *source, const char *mountpoint, uint32_t page_size,
                          bool check_only,
                          struct testbed_mount_guest **out, char *err, size_t errlen)
{
    const struct scenario_mount *sm = &sg->mount;
    struct testbed_mount_guest *mg = NULL;
    char name[64], page_opt[64], *argv[8], *msg = NULL;
    size_t msglen = 0;
    FILE *mf = NULL;
    int argc = 0, rc = -EINVAL;

    *out = NULL;
    if (sm->options && tmemfs_mount_process_option(sm->options, name, sizeof(name))) {
        testbed_message_guest(err, errlen, sc, sg, "option '%s' is not a mount's: the host owns the store (set it in the "
                  "[host] section) and the testbed writes the reports", name);
        return -EINVAL;
    }
    if (sm->options && (strstr(sm->options, "shared_uuid") != NULL)) {
        testbed_message_guest(err, errlen, sc, sg, "option 'shared_uuid': shared cleancache pools between guests are not "
                  "supported by the testbed%s", sg->remote_kinds ? " (and shared pools never "
                  "use the remote tier: docs/remote.md)" : "");
        return -EINVAL;
    }
    snprintf(page_opt, sizeof(page_opt), "page_size=%u", page_size);
    argv[argc++] = (char *)"tmemfs";
    argv[argc++] = (char *)"-o";
    argv[argc++] = page_opt;
    if (sm->options && *sm->options) {
        argv[argc++] = (char *)"-o";
        argv[argc++] = sm->options;
    }
    argv[argc++] = (char *)source;
    argv[argc++] = (char *)mountpoint;
    argv[argc] = NULL;
    mf = open_memstream(&msg, &msglen);
    if (!mf) {
        testbed_message_guest(err, errlen, sc, sg, "out of memory");
        return -ENOMEM;
    }
    if (check_only) {
        struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
        struct stat st;
        struct tmemfs_opts o;
        bool ok = true;

        for (int i = 0; i < argc && ok; i++)
            ok = fuse_opt_add_arg(&args, argv[i]) == 0;
        if (!ok || tmemfs_opts_parse(&args, &o, mf) < 0) {
            fclose(mf);
            mf = NULL;
            char line[512];
            testbed_mount_last_line(ok ? msg : NULL, line, sizeof(line));
            testbed_message_guest(err, errlen, sc, sg, "options '%s': %s", sm->options ? sm->options : "", line);
            fuse_opt_free_args(&args);
            goto out;
        }
        tmemfs_opts_free(&o);
        fuse_opt_free_args(&args);
        if (stat(source, &st) < 0) {
            testbed_message_guest(err, errlen, sc, sg, "source %s: %s", source, strerror(errno));
            goto out;
        }
        if (!S_ISDIR(st.st_mode)) {
            testbed_message_guest(err, errlen, sc, sg, "source %s: not a directory", source);
            goto out;
        }
        rc = 0;
        goto out;
    }
    mg = calloc(1, sizeof(*mg));
    if (!mg) {
        testbed_message_guest(err, errlen, sc, sg, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    mg->sg = sg;
    mg->sc = sc;
    mg->last_status = -1;
    pthread_mutex_init(&mg->lock, NULL);
    pthread_cond_init(&mg->ended, NULL);
    if (tmemfs_mount_create(argc, argv, &mg->m, mf) < 0) {
        char line[512];

        fclose(mf);
        mf = NULL;
        testbed_mount_last_line(msg, line, sizeof(line));
        testbed_message_guest(err, errlen, sc, sg, "%s", line);
        testbed_mount_free(mg);
        mg = NULL;
        goto out;
    }
    *out = mg;
    rc = 0;
out:
    if (mf)
        fclose(mf);
    free(msg);
    return rc;
}

/* Spawn the command once. Returns the pid, or -errno. */
static pid_t testbed_mount_spawn(struct testbed_mount_guest *mg)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, def;
    char *argv[] = {(char *)"sh", (char *)"-c", mg->sg->mount.command, NULL};
    pid_t pid = -1;
    int e;

    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGHUP);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGQUIT);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, mg->log_path, O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addchdir_np(&fa, mg->m->path);
    e = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return e ? -e : pid;
}

/* The shell's way of reporting a status: the exit code, or 128 + signal. */
static int testbed_mount_shell_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

static void *testbed_mount_workload(void *arg)
{
    struct testbed_mount_guest *mg = arg;

    for (;;) {
        siginfo_t si;
        pid_t pid;
        int status = 0;

        pthread_mutex_lock(&mg->lock);
        if (mg->stopping) {
            pthread_mutex_unlock(&mg->lock);
            break;
        }
        pid = testbed_mount_spawn(mg);
        if (pid < 0) {
            mg->failed = true;
            snprintf(mg->failure, sizeof(mg->failure), "cannot run the workload: %s",
                     strerror((int)-pid));
            pthread_mutex_unlock(&mg->lock);
            break;
        }
        mg->pid = mg->pgid = pid;
        mg->runs++;
        pthread_mutex_unlock(&mg->lock);

        memset(&si, 0, sizeof(si));
        while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
            ;
        pthread_mutex_lock(&mg->lock);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        mg->pid = 0;
        mg->last_status = testbed_mount_shell_status(status);
        mg->last_stopped = mg->stopping;
        if (mg->stopping) {
            /* ended by the stop (or just before it): not a failure */
            pthread_mutex_unlock(&mg->lock);
            break;
        }
        if (mg->last_status != 0) {
            mg->failed = true;
            snprintf(mg->failure, sizeof(mg->failure),
                     "workload exited with status %d (run %u; its output: %s)",
                     mg->last_status, mg->runs, mg->log_path);
            pthread_mutex_unlock(&mg->lock);
            break;
        }
        if (!mg->sg->mount.repeat) {
            pthread_mutex_unlock(&mg->lock);
            break;
        }
        pthread_mutex_unlock(&mg->lock);
    }
    pthread_mutex_lock(&mg->lock);
    mg->workload_over = true;
    pthread_cond_broadcast(&mg->ended);
    pthread_mutex_unlock(&mg->lock);
    return NULL;
}

/* tmemfs_mount_open's hook (under the host's policy lock, which the
 * attach needs): the new client, which no request reaches yet, attached
 * to the host's remote tier with the guest's kinds and remote_cap. */
static int testbed_mount_attach(void *arg, struct tmem_client *c, FILE *err)
{
    struct testbed_mount_guest *mg = arg;

    if (!mg->host->remote || !mg->sg->remote_kinds)
        return 0;
    mg->remote_client = c; /* detached even if the attach failed half way */
    if (testbed_host_remote_attach(mg->host, c, mg->sg, mg->attach_error,
                                   sizeof(mg->attach_error)) != 0) {
        fprintf(err, "%s\n", mg->attach_error);
        return -1;
    }
    return 0;
}

/* Forget the client at the host's remote tier: after its destruction
 * (tmemfs_mount_close or a failed open), under the host's policy lock. */
static void testbed_mount_detach(struct testbed_mount_guest *mg)
{
    if (mg->remote_client)
        testbed_host_remote_detach(mg->host, mg->remote_client);
    mg->remote_client = NULL;
}

int testbed_mount_start(struct testbed_mount_guest *mg, struct testbed_host *host,
                        const char *log_path, char *err, size_t errlen)
{
    char *msg = NULL;
    size_t msglen = 0;
    FILE *mf;
    int e, rc;

    mg->host = host;
    free(mg->log_path);
    mg->log_path = strdup(log_path);
    mf = open_memstream(&msg, &msglen);
    if (!mg->log_path || !mf) {
        if (mf)
            fclose(mf);
        free(msg);
        snprintf(err, errlen, "guest %s: out of memory", mg->sg->name);
        return -1;
    }
    mg->attach_error[0] = '\0';
    testbed_host_lock(host);
    rc = tmemfs_mount_open(mg->m, host->tm, NULL, testbed_mount_attach, mg, mf);
    if (rc == 0) {
        (void)tmem_client_set_weight(mg->m->fs.client, mg->sg->weight);
        (void)tmem_client_set_cap(mg->m->fs.client, mg->sg->cap);
    } else {
        testbed_mount_detach(mg); /* the open destroyed the client */
    }
    testbed_host_unlock(host);
    fclose(mf);
    if (rc < 0) {
        char line[512];

        testbed_mount_last_line(msg, line, sizeof(line));
        free(msg);
        if (mg->attach_error[0]) /* "guest NAME: cannot attach to remote ..." */
            snprintf(err, errlen, "%s", mg->attach_error);
        else
            snprintf(err, errlen, "guest %s: cannot mount %s on %s: %s", mg->sg->name,
                     mg->m->opts->source, mg->m->path ? mg->m->path : "?", line);
        return -1;
    }
    free(msg);
    mg->mounted = true;
    e = pthread_create(&mg->thread, NULL, testbed_mount_workload, mg);
    if (e != 0) {
        snprintf(err, errlen, "guest %s: cannot start its workload thread: %s", mg->sg->name,
                 strerror(e));
        testbed_mount_stop(mg, NULL);
        return -1;
    }
    mg->thread_started = true;
    return 0;
}

bool testbed_mount_done(struct testbed_mount_guest *mg)
{
    bool done;

    if (!mg->mounted)
        return true;
    if (tmemfs_mount_ended(mg->m))
        return true;
    pthread_mutex_lock(&mg->lock);
    done = mg->workload_over;
    pthread_mutex_unlock(&mg->lock);
    return done;
}

bool testbed_mount_failed(struct testbed_mount_guest *mg, char *why, size_t len)
{
    bool failed;

    pthread_mutex_lock(&mg->lock);
    failed = mg->failed;
    if (failed && why)
        snprintf(why, len, "%s", mg->failure);
    pthread_mutex_unlock(&mg->lock);
    return failed;
}

void testbed_mount_sample(struct testbed_mount_guest *mg, struct testbed_guest_sample *s)
{
    struct tmemfs_gauges g;

    if (!mg->mounted)
        return;
    s->running = true;
    memset(&g, 0, sizeof(g));
    tmemfs_fs_gauges(&mg->m->fs, &g);
    for (int c = 0; c < TMEMFS_NR_COUNTERS; c++)
        s->mount[c] = tmemfs_stats_get(&mg->m->fs.stats, (enum tmemfs_counter)c);
    s->device = g.device;
    s->guest_pages = g.guest_pages;
    if (mg->m->fs.client)
        (void)tmem_client_stats(mg->m->fs.client, &s->client);
    if (mg->remote_client)
        testbed_host_remote_sample(mg->host, mg->remote_client, &s->remote);
}

uint64_t testbed_mount_committed(struct testbed_mount_guest *mg)
{
    struct tmemfs_gauges g;

    if (!mg->mounted)
        return 0;
    memset(&g, 0, sizeof(g));
    tmemfs_fs_gauges(&mg->m->fs, &g);
    return g.guest_pages * (uint64_t)g.page_size;
}

/* Signal the running command's process group (under mg->lock). */
static void testbed_mount_signal(struct testbed_mount_guest *mg, int sig)
{
    if (mg->pid > 0)
        (void)kill(-mg->pid, sig);
}

/* Wait until the workload thread ended or `seconds` passed (under lock).
 * Returns true if it ended. */
static bool testbed_mount_wait_over(struct testbed_mount_guest *mg, double seconds)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)seconds;
    until.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!mg->workload_over)
        if (pthread_cond_timedwait(&mg->ended, &mg->lock, &until) != 0)
            break;
    return mg->workload_over;
}

/* Wait until no process of group pgid is left (the leader is reaped:
 * its children, e.g. fio's job processes, may still be exiting). SIGTERM
 * was sent; SIGKILL follows after `grace` seconds. */
static void testbed_mount_wait_group(pid_t pgid, double grace)
{
    const struct timespec step = {0, 10 * 1000 * 1000};
    double waited = 0;
    bool killed = false;

    while (pgid > 0 && kill(-pgid, 0) == 0 && waited < grace + 5) {
        if (!killed && waited >= grace) {
            (void)kill(-pgid, SIGKILL);
            killed = true;
        }
        nanosleep(&step, NULL);
        waited += 0.01;
    }
}

void testbed_mount_stop(struct testbed_mount_guest *mg, struct testbed_guest_sample *last)
{
    bool ended_early = mg->mounted && tmemfs_mount_ended(mg->m);

    if (mg->thread_started) {
        pid_t pgid;

        pthread_mutex_lock(&mg->lock);
        mg->stopping = true;
        testbed_mount_signal(mg, SIGTERM);
        if (!testbed_mount_wait_over(mg, TESTBED_MOUNT_GRACE_S)) {
            testbed_mount_signal(mg, SIGKILL);
            (void)testbed_mount_wait_over(mg, 3600);
        }
        pgid = mg->pgid;
        pthread_mutex_unlock(&mg->lock);
        pthread_join(mg->thread, NULL);
        mg->thread_started = false;
        /* what the command left behind in its group goes too, before the
         * unmount pulls the files from under it */
        if (pgid > 0 && kill(-pgid, SIGTERM) == 0)
            testbed_mount_wait_group(pgid, TESTBED_MOUNT_GRACE_S);
    }
    if (!mg->mounted)
        return;
    if (ended_early) {
        pthread_mutex_lock(&mg->lock);
        if (!mg->failed) {
            mg->failed = true;
            snprintf(mg->failure, sizeof(mg->failure),
                     "its mount ended before the guest stopped (unmounted from outside?)");
        }
        pthread_mutex_unlock(&mg->lock);
    }
    if (tmemfs_mount_stop_loop(mg->m) < 0) {
        pthread_mutex_lock(&mg->lock);
        if (!mg->failed) {
            mg->failed = true;
            snprintf(mg->failure, sizeof(mg->failure), "its FUSE loop failed");
        }
        pthread_mutex_unlock(&mg->lock);
    }
    if (last) {
        memset(last, 0, sizeof(*last));
        testbed_mount_sample(mg, last);
        last->running = false;
    }
    /* the client goes: not while the capacity changes (host.h) */
    testbed_host_lock(mg->host);
    (void)tmemfs_mount_close(mg->m);
    testbed_mount_detach(mg); /* its pools' keys went with the client */
    testbed_host_unlock(mg->host);
    mg->mounted = false;
}

unsigned testbed_mount_runs(struct testbed_mount_guest *mg)
{
    unsigned n;

    pthread_mutex_lock(&mg->lock);
    n = mg->runs;
    pthread_mutex_unlock(&mg->lock);
    return n;
}

int testbed_mount_last_status(struct testbed_mount_guest *mg, bool *stopped)
{
    int s;

    pthread_mutex_lock(&mg->lock);
    s = mg->last_status;
    if (stopped)
        *stopped = mg->last_stopped;
    pthread_mutex_unlock(&mg->lock);
    return s;
}

const struct guest_device_profile *testbed_mount_profile(const struct testbed_mount_guest *mg)
{
    return &mg->m->opts->device;
}

uint32_t testbed_mount_page_size(const struct testbed_mount_guest *mg)
{
    return mg->m->opts->page_size;
}

void testbed_mount_free(struct testbed_mount_guest *mg)
{
    if (!mg)
        return;
    testbed_mount_stop(mg, NULL);
    tmemfs_mount_free(mg->m);
    free(mg->log_path);
    pthread_cond_destroy(&mg->ended);
    pthread_mutex_destroy(&mg->lock);
    free(mg);
}

struct tmem_client *testbed_mount_client(struct testbed_mount_guest *mg)
{
    return mg->mounted ? mg->m->fs.client : NULL;
}
