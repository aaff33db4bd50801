/*
 * tmemfs_creds.h - run a request with the credentials of the process that
 * made it, so the backing filesystem checks every access as it would for
 * that process itself (mode bits, ACLs, capabilities, sticky directories,
 * protected hard links) and new files belong to their creator.
 *
 * A daemon running as root switches the calling thread's filesystem uid,
 * filesystem gid and supplementary groups to the caller's for the length
 * of the request (tmemfs_creds_enter ... tmemfs_creds_leave). A daemon that is
 * not root cannot, and does nothing here: its mounts rely on the kernel's
 * checks (default_permissions, which -o allow_other implies, tmemfs_opts.h).
 *
 * Thread-safety: a scope belongs to the thread that entered it and must be
 * left by that thread; the identity (struct tmemfs_creds) is read-only after
 * tmemfs_creds_init and may be shared by every thread.
 */
#ifndef TMEMFS_CREDS_H
#define TMEMFS_CREDS_H

#include <stdbool.h>
#include <sys/types.h>

/* Supplementary groups kept inline in a scope; more are malloc'ed. */
#define TMEMFS_CREDS_INLINE_GROUPS 32

/* The daemon's own identity, what a thread returns to after a request. */
struct tmemfs_creds {
    bool can_switch;   /* effective uid 0: may take on any caller's identity */
    uid_t uid;         /* effective uid and gid at start-up */
    gid_t gid;
    int ngroups;       /* supplementary groups at start-up */
    gid_t *groups;     /* malloc'ed [ngroups] (NULL when 0) */
};

/* One request's change of identity (on the caller's stack). */
struct tmemfs_creds_scope {
    bool switched;     /* the thread runs as the caller: leave must undo */
    int ngroups;
    gid_t *groups;     /* inline_groups or malloc'ed */
    gid_t inline_groups[TMEMFS_CREDS_INLINE_GROUPS];
};

/*
 * The caller's supplementary groups: fill list[0 .. size) and return how
 * many the caller has (which may be more than size: then called again with
 * a larger list), or -errno when they cannot be read. libfuse's
 * fuse_getgroups / fuse_req_getgroups have this contract.
 */
typedef int (*tmemfs_creds_groups_fn)(void *arg, int size, gid_t list[]);

/* Record the daemon's identity. Returns 0 or -ENOMEM / -errno of
 * getgroups(2). Single-threaded (at start-up). */
int tmemfs_creds_init(struct tmemfs_creds *self);

/* Free what tmemfs_creds_init allocated. Safe on a zeroed struct. */
void tmemfs_creds_destroy(struct tmemfs_creds *self);

/*
 * Make the calling thread act as uid/gid with the supplementary groups
 * get_groups(arg, ...) reports, until tmemfs_creds_leave(scope). When the
 * daemon cannot switch (not root), or the caller is uid 0 with gid 0
 * (root passes every check and creates files as root:root, as the daemon
 * does), the thread is left as it is. Groups that cannot be read count as
 * none (fewer rights, never more).
 * Returns 0, or -errno when the identity could not be taken on (the
 * thread is then back to the daemon's own and the request must fail with
 * that error rather than run with the daemon's rights).
 */
int tmemfs_creds_enter(const struct tmemfs_creds *self, uid_t uid, gid_t gid,
                     tmemfs_creds_groups_fn get_groups, void *arg,
                     struct tmemfs_creds_scope *scope);

/* Return the calling thread to the daemon's identity (no-op if enter did
 * not switch) and free the scope's groups. Aborts the process if the
 * daemon's identity cannot be restored: a thread left with a caller's
 * identity would serve the next caller with it. */
void tmemfs_creds_leave(const struct tmemfs_creds *self, struct tmemfs_creds_scope *scope);

/*
 * The mode to create a file, directory or node with so that the caller's
 * umask applies as it would on the backing directory (the kernel leaves it
 * to the daemon: FUSE_CAP_DONT_MASK). The calling thread gets a filesystem
 * context of its own once (unshare(CLONE_FS)) and takes caller_umask, so
 * the backing filesystem applies it itself, or a default ACL of the parent
 * instead, exactly as for the caller: mode is returned as it is. Where the
 * thread cannot have its own context, mode & ~caller_umask is returned
 * (the daemon's own umask is 0: tmemfs_main sets it). Thread-safe.
 */
mode_t tmemfs_creds_umask(mode_t mode, mode_t caller_umask);

#endif /* TMEMFS_CREDS_H */
