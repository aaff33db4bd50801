/*
 * test_tmemfs_creds.c - requests run with the caller's credentials
 * (tmemfs_creds) and the control files only the daemon's user may change
 * (tmemfs_control). The credential tests need root (the daemon's case); run as
 * another user they are skipped with a loud SKIPPED line.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuse_cleancache/tmemfs_creds.h"
#include "fuse_cleancache/tmemfs_control.h"
#include "fuse_cleancache/tmemfs_fs.h"

#define NOBODY 65534
#define GROUP 4242

/* A scratch tree: dir (0755) with secret (root 0600), grpfile (root:GROUP
 * 0640) and open/ (0777). */
struct tree {
    char dir[64], secret[96], grpfile[96], open[96];
};

static void tree_make(struct tree *t)
{
    int fd;

    snprintf(t->dir, sizeof(t->dir), "/tmp/tmemfs-creds.XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    assert_int_equal(chmod(t->dir, 0755), 0);
    snprintf(t->secret, sizeof(t->secret), "%s/secret", t->dir);
    snprintf(t->grpfile, sizeof(t->grpfile), "%s/grpfile", t->dir);
    snprintf(t->open, sizeof(t->open), "%s/open", t->dir);
    fd = open(t->secret, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    fd = open(t->grpfile, O_CREAT | O_WRONLY, 0640);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chown(t->grpfile, 0, GROUP), 0);
    assert_int_equal(mkdir(t->open, 0777), 0);
    assert_int_equal(chmod(t->open, 0777), 0);
}

static void tree_remove(struct tree *t)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
    assert_int_equal(system(cmd), 0);
}

/* Can the calling thread open path for reading? */
static bool can_read(const char *path)
{
    int fd = open(path, O_RDONLY);

    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static int groups_calls;

static int groups_one(void *arg, int size, gid_t list[])
{
    (void)arg;
    groups_calls++;
    if (size >= 1)
        list[0] = GROUP;
    return 1;
}

/* 40 groups (more than a scope holds inline): 5000 .. 5039. */
static int groups_forty(void *arg, int size, gid_t list[])
{
    int i;

    (void)arg;
    groups_calls++;
    for (i = 0; i < size && i < 40; i++)
        list[i] = (gid_t)(5000 + i);
    return 40;
}

static int groups_unreadable(void *arg, int size, gid_t list[])
{
    (void)arg;
    (void)size;
    (void)list;
    groups_calls++;
    return -ENOENT;
}

static bool skip_unless_root(void)
{
    if (geteuid() == 0)
        return false;
    printf("SKIPPED: credential switching needs root (the daemon's case)\n");
    fprintf(stderr, "SKIPPED: credential switching needs root (the daemon's case)\n");
    return true;
}

/* What another thread sees while the main thread is switched. */
struct other {
    pthread_barrier_t in, out;
    const char *secret;
    uid_t fsuid;
    int ngroups;
    bool read_secret;
};

static void *other_thread(void *arg)
{
    struct other *o = arg;

    pthread_barrier_wait(&o->in); /* main has switched */
    o->fsuid = (uid_t)setfsuid((uid_t)-1);
    o->ngroups = getgroups(0, NULL);
    o->read_secret = can_read(o->secret);
    pthread_barrier_wait(&o->out);
    return NULL;
}

/* Rule: inside a scope the thread acts as the caller (fsuid, fsgid, its
 * supplementary groups): the backing filesystem refuses the caller what
 * it would refuse it, grants what a group grants, and new files belong to
 * the caller; no other thread of the daemon changes; leaving returns the
 * thread to the daemon's identity and rights. */
static void test_creds_switch_is_per_thread_and_undone(void **state)
{
    struct tmemfs_creds self;
    struct tmemfs_creds_scope scope;
    struct other o;
    struct tree t;
    struct stat st;
    pthread_t thr;
    gid_t groups[8];
    char made[128];
    int fd, self_groups;

    (void)state;
    if (skip_unless_root())
        skip();
    tree_make(&t);
    assert_int_equal(tmemfs_creds_init(&self), 0);
    assert_true(self.can_switch);
    self_groups = getgroups(0, NULL);
    memset(&o, 0, sizeof(o));
    o.secret = t.secret;
    pthread_barrier_init(&o.in, NULL, 2);
    pthread_barrier_init(&o.out, NULL, 2);
    assert_int_equal(pthread_create(&thr, NULL, other_thread, &o), 0);

    assert_int_equal(tmemfs_creds_enter(&self, NOBODY, NOBODY, groups_one, NULL, &scope), 0);
    assert_int_equal(setfsuid((uid_t)-1), NOBODY);
    assert_int_equal(setfsgid((gid_t)-1), NOBODY);
    assert_int_equal(getgroups(8, groups), 1);
    assert_int_equal(groups[0], GROUP);
    assert_false(can_read(t.secret));
    assert_true(can_read(t.grpfile));
    snprintf(made, sizeof(made), "%s/made", t.open);
    fd = open(made, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    close(fd);
    pthread_barrier_wait(&o.in);
    pthread_barrier_wait(&o.out);
    tmemfs_creds_leave(&self, &scope);

    assert_int_equal(o.fsuid, 0);
    assert_int_equal(o.ngroups, self_groups);
    assert_true(o.read_secret);
    assert_int_equal(stat(made, &st), 0);
    assert_int_equal(st.st_uid, NOBODY);
    assert_int_equal(st.st_gid, NOBODY);
    assert_int_equal(setfsuid((uid_t)-1), 0);
    assert_int_equal(setfsgid((gid_t)-1), self.gid);
    assert_int_equal(getgroups(0, NULL), self_groups);
    assert_true(can_read(t.secret));

    pthread_join(thr, NULL);
    pthread_barrier_destroy(&o.in);
    pthread_barrier_destroy(&o.out);
    tmemfs_creds_destroy(&self);
    tree_remove(&t);
}

/* Rule: a caller with more groups than a scope holds inline keeps them
 * all (the last one still grants access). */
static void test_creds_many_groups(void **state)
{
    struct tmemfs_creds self;
    struct tmemfs_creds_scope scope;
    struct tree t;
    gid_t groups[64];

    (void)state;
    if (skip_unless_root())
        skip();
    tree_make(&t);
    assert_int_equal(chown(t.grpfile, 0, 5039), 0);
    assert_int_equal(tmemfs_creds_init(&self), 0);
    assert_int_equal(tmemfs_creds_enter(&self, NOBODY, NOBODY, groups_forty, NULL, &scope), 0);
    assert_int_equal(getgroups(64, groups), 40);
    assert_int_equal(groups[39], 5039);
    assert_true(can_read(t.grpfile));
    tmemfs_creds_leave(&self, &scope);
    tmemfs_creds_destroy(&self);
    tree_remove(&t);
}

/* Rule: groups that cannot be read count as none: fewer rights, never
 * the daemon's. */
static void test_creds_unreadable_groups_mean_none(void **state)
{
    struct tmemfs_creds self;
    struct tmemfs_creds_scope scope;
    struct tree t;

    (void)state;
    if (skip_unless_root())
        skip();
    tree_make(&t);
    assert_int_equal(tmemfs_creds_init(&self), 0);
    assert_int_equal(tmemfs_creds_enter(&self, NOBODY, NOBODY, groups_unreadable, NULL, &scope),
                     0);
    assert_int_equal(getgroups(0, NULL), 0);
    assert_false(can_read(t.grpfile));
    assert_false(can_read(t.secret));
    tmemfs_creds_leave(&self, &scope);
    assert_true(can_read(t.grpfile));
    tmemfs_creds_destroy(&self);
    tree_remove(&t);
}

/* Rule: a request from root:root runs as the daemon, without reading the
 * caller's groups (nothing to switch). */
static void test_creds_root_caller_runs_as_daemon(void **state)
{
    struct tmemfs_creds self;
    struct tmemfs_creds_scope scope;

    (void)state;
    if (skip_unless_root())
        skip();
    assert_int_equal(tmemfs_creds_init(&self), 0);
    groups_calls = 0;
    assert_int_equal(tmemfs_creds_enter(&self, 0, 0, groups_one, NULL, &scope), 0);
    assert_false(scope.switched);
    assert_int_equal(groups_calls, 0);
    assert_int_equal(setfsuid((uid_t)-1), 0);
    tmemfs_creds_leave(&self, &scope);
    tmemfs_creds_destroy(&self);
}

/* Rule: only root and the daemon's user may open capacity or drop_caches
 * for writing; any user may read capacity and the statistics files' modes
 * say so. */
static void test_ctl_only_owner_changes_the_store(void **state)
{
    struct tmemfs_opts opts;
    struct tmemfs_fs fs;
    struct tmemfs_fh fh;
    struct stat st;
    uid_t other = getuid() == NOBODY ? NOBODY - 1 : NOBODY;
    const struct tmemfs_inode *capacity, *drop;

    (void)state;
    memset(&opts, 0, sizeof(opts));
    opts.ctl = ".tmemfs";
    memset(&fs, 0, sizeof(fs));
    fs.opts = &opts;
    fs.tm = tmem_create(NULL);
    assert_non_null(fs.tm);
    tmemfs_control_init(&fs);
    capacity = &fs.control[TMEMFS_CONTROL_CAPACITY];
    drop = &fs.control[TMEMFS_CONTROL_DROP];

    memset(&fh, 0, sizeof(fh));
    assert_int_equal(tmemfs_control_open(&fs, capacity, O_WRONLY, other, &fh), -EACCES);
    assert_int_equal(tmemfs_control_open(&fs, capacity, O_RDWR, other, &fh), -EACCES);
    assert_int_equal(tmemfs_control_open(&fs, drop, O_WRONLY, other, &fh), -EACCES);
    assert_int_equal(tmemfs_control_open(&fs, capacity, O_RDONLY, other, &fh), 0);
    free(fh.buf);
    memset(&fh, 0, sizeof(fh));
    assert_int_equal(tmemfs_control_open(&fs, capacity, O_WRONLY, 0, &fh), 0);
    free(fh.buf);
    memset(&fh, 0, sizeof(fh));
    assert_int_equal(tmemfs_control_open(&fs, capacity, O_WRONLY, getuid(), &fh), 0);
    free(fh.buf);
    memset(&fh, 0, sizeof(fh));
    assert_int_equal(tmemfs_control_open(&fs, drop, O_WRONLY, getuid(), &fh), 0);

    tmemfs_control_getattr(capacity, &st);
    assert_int_equal(st.st_uid, getuid());
    assert_int_equal(st.st_mode & 07777, 0644);
    tmemfs_control_getattr(drop, &st);
    assert_int_equal(st.st_mode & 07777, 0200);
    tmem_destroy(fs.tm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_creds_switch_is_per_thread_and_undone),
        cmocka_unit_test(test_creds_many_groups),
        cmocka_unit_test(test_creds_unreadable_groups_mean_none),
        cmocka_unit_test(test_creds_root_caller_runs_as_daemon),
        cmocka_unit_test(test_ctl_only_owner_changes_the_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
