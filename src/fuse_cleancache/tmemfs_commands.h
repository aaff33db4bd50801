/*
 * tmemfs_commands.h - tmemfs's control commands (tmemctl, docs/control.md)
 * over the mounts of one tmemfs process: list, stats, set-capacity of the
 * one store (HOST "store"), set-weight, set-cap, freeze and thaw of a
 * mount's client (GUEST: its MOUNTPOINT as given or absolute), stop (as
 * SIGTERM: every mount ends, statistics printed); pause and resume answer
 * that tmemfs has no pressure model; save, restore and migrate "not
 * implemented yet".
 *
 * Thread safety: the commands run in the control server's thread while
 * the mounts serve. The mounts and their clients live from before
 * control_server_start until after control_server_stop (tmemfs_main.c
 * keeps that order), so no lock guards them; the tmem calls are
 * thread-safe; the frozen flags belong to the control thread alone.
 */
#ifndef TMEMFS_COMMANDS_H
#define TMEMFS_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "control/control_server.h"
#include "fuse_cleancache/tmemfs_mount.h"

struct tmemfs_commands_ctx {
    struct tmem *tm;
    struct tmemfs_mount *mounts;
    size_t n;
    bool *frozen;          /* [n]: frozen by tmemctl freeze */
};

/* The command table (ctx: a struct tmemfs_commands_ctx); *n its size. */
const struct control_command *tmemfs_control_commands(size_t *n);

#endif /* TMEMFS_COMMANDS_H */
