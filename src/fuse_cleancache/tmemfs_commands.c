/*
 * tmemfs_commands.c - tmemfs's control commands (tmemfs_commands.h).
 *
 * Models: the operator of a tmemfs process, seen as one host (its one
 * store, named "store") with one guest per mount (its tmem client): the
 * same commands and replies as the testbed's (runner_control.c), so one
 * tmemctl serves both.
 *
 * Data structures: the static command table; the context (mounts, store,
 * frozen flags) is tmemfs_main.c's. Locking: none of its own (see the
 * header: the mounts outlive the server; tmem calls are thread-safe).
 */
#include "fuse_cleancache/tmemfs_commands.h"

#include "common/error_text.h"
#include "common/size.h"
#include "control/control_snapshot.h"
#include "control/control_tmem.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define TMEMFS_HOST_NAME "store"

/* The mount called name (MOUNTPOINT as given, or absolute; a trailing
 * '/' ignored), or -1 with err. */
static long tmemfs_commands_find(struct tmemfs_commands_ctx *x, const char *name, char *err,
                                 size_t errlen)
{
    size_t len = strlen(name);

    while (len > 1 && name[len - 1] == '/')
        len--;
    for (size_t i = 0; i < x->n; i++) {
        const struct tmemfs_opts *o = x->mounts[i].opts;
        const char *a = o ? o->mountpoints[i] : NULL, *b = o ? o->mount_paths[i] : NULL;

        if (!x->mounts[i].fs.client)
            continue;
        if ((a && strlen(a) == len && !strncmp(a, name, len)) ||
            (b && strlen(b) == len && !strncmp(b, name, len)))
            return (long)i;
    }
    error_text_set(err, errlen, "no mount \"%s\" in this tmemfs (a MOUNTPOINT as given, or "
                   "its absolute path)", name);
    return -1;
}

static int tmemfs_commands_report(struct tmemfs_commands_ctx *x, bool pools, json_t **result,
                                  char *err, size_t errlen)
{
    json_t *res, *guests = json_array();

    res = json_pack("{s:s, s:I, s:f, s:[{s:s, s:s, s:o, s:o}]}", "program", "tmemfs", "pid",
                    (json_int_t)getpid(), "t_s", 0.0, "hosts", "name", TMEMFS_HOST_NAME,
                    "pressure", "none", "store", control_tmem_store_json(x->tm), "guests",
                    guests);
    if (!res) {
        error_text_set(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < x->n; i++) {
        struct tmemfs_mount *m = &x->mounts[i];
        json_t *g;

        if (!m->fs.client)
            continue;
        g = json_pack("{s:s, s:s, s:s, s:b}", "name", m->fs.mountpoint, "kind", "mount",
                      "state", m->ran ? "running" : "waiting", "frozen", x->frozen[i]);
        if (!g || json_array_append_new(guests, g) != 0 ||
            control_tmem_client_json(g, m->fs.client, pools) != 0) {
            json_decref(res);
            error_text_set(err, errlen, "out of memory");
            return -ENOMEM;
        }
    }
    *result = res;
    return 0;
}

static int tmemfs_cmd_list(void *ctx, const json_t *args, json_t **result, char *err,
                           size_t errlen)
{
    return tmemfs_commands_report(ctx, true, result, err, errlen);
}

static int tmemfs_cmd_stats(void *ctx, const json_t *args, json_t **result, char *err,
                            size_t errlen)
{
    return tmemfs_commands_report(ctx, false, result, err, errlen);
}

static int tmemfs_cmd_set_capacity(void *ctx, const json_t *args, json_t **result, char *err,
                                   size_t errlen)
{
    struct tmemfs_commands_ctx *x = ctx;
    const char *host = control_arg_string(args, "host");
    uint64_t bytes;

    if (strcmp(host, TMEMFS_HOST_NAME) != 0) {
        error_text_set(err, errlen, "no host \"%s\": tmemfs has one store, \"%s\"", host,
                       TMEMFS_HOST_NAME);
        return -EINVAL;
    }
    if (control_arg_size(args, "size", &bytes, err, errlen) != 0)
        return -EINVAL;
    (void)tmem_set_capacity(x->tm, bytes);
    *result = json_pack("{s:s, s:o, s:I}", "host", TMEMFS_HOST_NAME, "capacity",
                        control_tmem_size_json(tmem_capacity(x->tm)), "used",
                        (json_int_t)tmem_budget_used(x->tm));
    return 0;
}

/* set-weight, set-cap, freeze, thaw (control_tmem.h) on a mount's client. */
static int tmemfs_commands_guest(struct tmemfs_commands_ctx *x, const json_t *args,
                                 enum control_guest_action what, json_t **result, char *err,
                                 size_t errlen)
{
    struct control_guest_change ch;
    long i;

    if (control_guest_change_read(args, what, &ch, err, errlen) != 0)
        return -EINVAL;
    i = tmemfs_commands_find(x, control_arg_string(args, "guest"), err, errlen);
    if (i < 0)
        return -EINVAL;
    return control_guest_change_apply(x->mounts[i].fs.client, x->mounts[i].fs.mountpoint, &ch,
                                      &x->frozen[i], result, err, errlen);
}

static int tmemfs_cmd_set_weight(void *ctx, const json_t *args, json_t **result, char *err,
                                 size_t errlen)
{
    return tmemfs_commands_guest(ctx, args, CONTROL_SET_WEIGHT, result, err, errlen);
}

static int tmemfs_cmd_set_cap(void *ctx, const json_t *args, json_t **result, char *err,
                              size_t errlen)
{
    return tmemfs_commands_guest(ctx, args, CONTROL_SET_CAP, result, err, errlen);
}

static int tmemfs_cmd_freeze(void *ctx, const json_t *args, json_t **result, char *err,
                             size_t errlen)
{
    return tmemfs_commands_guest(ctx, args, CONTROL_FREEZE, result, err, errlen);
}

static int tmemfs_cmd_thaw(void *ctx, const json_t *args, json_t **result, char *err,
                           size_t errlen)
{
    return tmemfs_commands_guest(ctx, args, CONTROL_THAW, result, err, errlen);
}

static int tmemfs_cmd_no_pressure(void *ctx, const json_t *args, json_t **result, char *err,
                                  size_t errlen)
{
    error_text_set(err, errlen, "tmemfs has no pressure model (pause and resume are "
                   "tmem-testbed's; set-capacity sets the store's capacity)");
    return -ENOTSUP;
}

/* As SIGTERM: the control thread blocks it, so it reaches the loops. */
static int tmemfs_cmd_stop(void *ctx, const json_t *args, json_t **result, char *err,
                           size_t errlen)
{
    if (kill(getpid(), SIGTERM) != 0) {
        error_text_set(err, errlen, "cannot signal myself: %s", strerror(errno));
        return -errno;
    }
    *result = json_pack("{s:s}", "stopping", "every mount ends (as on SIGTERM)");
    return 0;
}

/* save / restore MOUNTPOINT FILE on the mount's client. A mount's only
 * pool is cleancache's, ephemeral, so a save holds no pool (as Xen saved
 * no ephemeral pool); restore loads a file's persistent pools into the
 * mount's client as new pools. */
static int tmemfs_commands_snapshot(struct tmemfs_commands_ctx *x, const json_t *args,
                                    bool save, json_t **result, char *err, size_t errlen)
{
    long i = tmemfs_commands_find(x, control_arg_string(args, "guest"), err, errlen);
    struct tmem_client *c;

    if (i < 0)
        return -EINVAL;
    c = x->mounts[i].fs.client;
    return save ? control_snapshot_save(c, x->mounts[i].fs.mountpoint,
                                        control_arg_string(args, "file"), result, err, errlen)
                : control_snapshot_restore(c, x->mounts[i].fs.mountpoint,
                                           control_arg_string(args, "file"), result, err,
                                           errlen);
}

static int tmemfs_cmd_save(void *ctx, const json_t *args, json_t **result, char *err,
                           size_t errlen)
{
    return tmemfs_commands_snapshot(ctx, args, true, result, err, errlen);
}

static int tmemfs_cmd_restore(void *ctx, const json_t *args, json_t **result, char *err,
                              size_t errlen)
{
    return tmemfs_commands_snapshot(ctx, args, false, result, err, errlen);
}

static int tmemfs_cmd_migrate(void *ctx, const json_t *args, json_t **result, char *err,
                              size_t errlen)
{
    error_text_set(err, errlen, "a tmemfs process is one host: there is no other store to "
                   "migrate to (tmem-testbed scenarios have several hosts)");
    return -ENOTSUP;
}

static const struct control_arg tmemfs_args_host_opt[] = {{"host", CONTROL_ARG_STRING, false}};
static const struct control_arg tmemfs_args_capacity[] = {
    {"host", CONTROL_ARG_STRING, true}, {"size", CONTROL_ARG_STRING, true}};
static const struct control_arg tmemfs_args_guest[] = {{"guest", CONTROL_ARG_STRING, true}};
static const struct control_arg tmemfs_args_weight[] = {
    {"guest", CONTROL_ARG_STRING, true}, {"weight", CONTROL_ARG_INTEGER, true}};
static const struct control_arg tmemfs_args_cap[] = {
    {"guest", CONTROL_ARG_STRING, true}, {"size", CONTROL_ARG_STRING, true}};
static const struct control_arg tmemfs_args_file[] = {
    {"guest", CONTROL_ARG_STRING, true}, {"file", CONTROL_ARG_STRING, true}};
static const struct control_arg tmemfs_args_migrate[] = {
    {"guest", CONTROL_ARG_STRING, true}, {"host", CONTROL_ARG_STRING, true}};

#define TMEMFS_ARGS(a) a, sizeof(a) / sizeof((a)[0])

static const struct control_command tmemfs_commands[] = {
    {"list", "", tmemfs_cmd_list, NULL, 0, false},
    {"stats", "[--every SECONDS]", tmemfs_cmd_stats, NULL, 0, true},
    {"set-capacity", "store SIZE|unlimited", tmemfs_cmd_set_capacity,
     TMEMFS_ARGS(tmemfs_args_capacity), false},
    {"set-weight", "MOUNTPOINT N", tmemfs_cmd_set_weight, TMEMFS_ARGS(tmemfs_args_weight),
     false},
    {"set-cap", "MOUNTPOINT SIZE|unlimited", tmemfs_cmd_set_cap, TMEMFS_ARGS(tmemfs_args_cap),
     false},
    {"freeze", "MOUNTPOINT", tmemfs_cmd_freeze, TMEMFS_ARGS(tmemfs_args_guest), false},
    {"thaw", "MOUNTPOINT", tmemfs_cmd_thaw, TMEMFS_ARGS(tmemfs_args_guest), false},
    {"pause", "[HOST]", tmemfs_cmd_no_pressure, TMEMFS_ARGS(tmemfs_args_host_opt), false},
    {"resume", "[HOST]", tmemfs_cmd_no_pressure, TMEMFS_ARGS(tmemfs_args_host_opt), false},
    {"stop", "", tmemfs_cmd_stop, NULL, 0, false},
    {"save", "MOUNTPOINT FILE", tmemfs_cmd_save, TMEMFS_ARGS(tmemfs_args_file), false},
    {"restore", "MOUNTPOINT FILE", tmemfs_cmd_restore, TMEMFS_ARGS(tmemfs_args_file), false},
    {"migrate", "MOUNTPOINT HOST", tmemfs_cmd_migrate, TMEMFS_ARGS(tmemfs_args_migrate), false},
};

const struct control_command *tmemfs_control_commands(size_t *n)
{
    *n = sizeof(tmemfs_commands) / sizeof(tmemfs_commands[0]);
    return tmemfs_commands;
}
