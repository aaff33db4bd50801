/*
 * tmemfs_creds.c - run a request with the credentials of its caller.
 *
 * Models: what a kernel filesystem gets for free, every permission check
 * made against the process that asked. A FUSE daemon performs each
 * request itself; run as root with its own credentials it would read,
 * create and delete anything for anybody (the kernel checks nothing
 * without default_permissions). So for the length of a request that names
 * or creates a file the serving thread takes on the caller's filesystem
 * uid and gid and supplementary groups, and the backing filesystem judges
 * the access exactly as it would for the caller: mode bits, ACLs,
 * capabilities (a caller's fsuid other than 0 drops the filesystem
 * capabilities), sticky directories, protected hard links; new files get
 * the caller as owner. (passthrough filesystems such as mergerfs do the
 * same.)
 *
 * Linux keeps fsuid, fsgid and the group list per thread at the system
 * call level. glibc's setfsuid/setfsgid are plain system calls, but its
 * setgroups() changes every thread of the process (it broadcasts set*id
 * calls), so the raw system call is used: the change stays on the thread
 * serving this request. Switching into the caller: groups, fsgid, fsuid
 * (the last may drop the filesystem capabilities; CAP_SETUID/CAP_SETGID
 * remain, so the way back is open); back: fsuid, fsgid, groups.
 *
 * The umask is per process unless a thread unshares its filesystem
 * context (cwd, root, umask: CLONE_FS); a serving thread does so the first
 * time it creates something for a caller, then sets the caller's umask
 * before each creation.
 *
 * Data: struct tmemfs_creds (the daemon's own identity, read-only after
 * init), struct tmemfs_creds_scope (one request, on the stack), and one
 * thread-local flag (this thread has its own filesystem context).
 * Locking: none; each thread changes only its own credentials.
 */
#include "fuse_cleancache/tmemfs_creds.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* setgroups(2) for the calling thread only. 0 or -errno. */
static int tmemfs_creds_set_thread_groups(int n, const gid_t *groups)
{
    return syscall(SYS_setgroups, (size_t)n, groups) < 0 ? -errno : 0;
}

/* Set the thread's fsuid and fsgid; 0 if both now hold, else -EPERM. */
static int tmemfs_creds_set_fs_ids(uid_t uid, gid_t gid, bool uid_first)
{
    if (uid_first)
        (void)setfsuid(uid);
    (void)setfsgid(gid);
    if (!uid_first)
        (void)setfsuid(uid);
    /* setfsuid/setfsgid report the previous value, not success: ask again
     * with an invalid id, which changes nothing and returns the current. */
    if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid)
        return -EPERM;
    return 0;
}

int tmemfs_creds_init(struct tmemfs_creds *self)
{
    int n;

    self->uid = geteuid();
    self->gid = getegid();
    self->can_switch = self->uid == 0;
    self->ngroups = 0;
    self->groups = NULL;
    n = getgroups(0, NULL);
    if (n < 0)
        return -errno;
    if (n == 0)
        return 0;
    self->groups = malloc((size_t)n * sizeof(gid_t));
    if (!self->groups)
        return -ENOMEM;
    n = getgroups(n, self->groups);
    if (n < 0) {
        n = -errno;
        tmemfs_creds_destroy(self);
        return n;
    }
    self->ngroups = n;
    return 0;
}

void tmemfs_creds_destroy(struct tmemfs_creds *self)
{
    free(self->groups);
    self->groups = NULL;
    self->ngroups = 0;
}

/* Read the caller's groups into the scope; none if they cannot be read. */
static void tmemfs_creds_read_groups(tmemfs_creds_groups_fn get_groups, void *arg,
                                   struct tmemfs_creds_scope *scope)
{
    int n = get_groups(arg, TMEMFS_CREDS_INLINE_GROUPS, scope->inline_groups);

    scope->groups = scope->inline_groups;
    scope->ngroups = 0;
    if (n > TMEMFS_CREDS_INLINE_GROUPS) {
        gid_t *big = malloc((size_t)n * sizeof(gid_t));
        int again = big ? get_groups(arg, n, big) : -ENOMEM;

        if (again < 0 || again > n) { /* gone, or grew meanwhile: none */
            free(big);
            return;
        }
        scope->groups = big;
        n = again;
    }
    if (n > 0)
        scope->ngroups = n;
}

int tmemfs_creds_enter(const struct tmemfs_creds *self, uid_t uid, gid_t gid,
                     tmemfs_creds_groups_fn get_groups, void *arg,
                     struct tmemfs_creds_scope *scope)
{
    int rc;

    scope->switched = false;
    scope->ngroups = 0;
    scope->groups = scope->inline_groups;
    if (!self->can_switch || (uid == 0 && gid == 0))
        return 0;
    tmemfs_creds_read_groups(get_groups, arg, scope);
    scope->switched = true;
    rc = tmemfs_creds_set_thread_groups(scope->ngroups, scope->groups);
    if (rc == 0)
        rc = tmemfs_creds_set_fs_ids(uid, gid, false);
    if (rc < 0) {
        tmemfs_creds_leave(self, scope);
        return rc;
    }
    return 0;
}

void tmemfs_creds_leave(const struct tmemfs_creds *self, struct tmemfs_creds_scope *scope)
{
    if (scope->switched) {
        if (tmemfs_creds_set_fs_ids(self->uid, self->gid, true) < 0 ||
            tmemfs_creds_set_thread_groups(self->ngroups, self->groups) < 0) {
            fprintf(stderr, "tmemfs: cannot return a thread to the daemon's credentials\n");
            abort();
        }
        scope->switched = false;
    }
    if (scope->groups != scope->inline_groups)
        free(scope->groups);
    scope->groups = scope->inline_groups;
    scope->ngroups = 0;
}

/* 1: this thread has its own filesystem context (umask); -1: it cannot
 * have one; 0: not tried yet. */
static _Thread_local int tmemfs_creds_own_fs;

mode_t tmemfs_creds_umask(mode_t mode, mode_t caller_umask)
{
    if (tmemfs_creds_own_fs == 0)
        tmemfs_creds_own_fs = unshare(CLONE_FS) == 0 ? 1 : -1;
    if (tmemfs_creds_own_fs < 0)
        return mode & ~caller_umask;
    (void)umask(caller_umask & 07777);
    return mode;
}
