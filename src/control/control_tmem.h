/*
 * control_tmem.h - what the control commands of every program share:
 * a tmem store's, client's and pool's statistics as JSON for `list` and
 * `stats`, the arguments read from a checked request, and the socket
 * name of a tmemfs mount.
 *
 * Thread safety: the statistics calls are the core's (thread-safe); the
 * client must stay alive during the call (the caller's locks see to it).
 */
#ifndef CONTROL_TMEM_H
#define CONTROL_TMEM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tmem.h"

/* Every field of *st (tmem_stats_format's names) plus "hit_rate"
 * (succ_gets / gets, null without gets). NULL when out of memory. */
json_t *control_tmem_stats_json(const struct tmem_stats *st);

/* The store: {"capacity", "used", "stats"}. NULL when out of memory. */
json_t *control_tmem_store_json(struct tmem *tm);

/*
 * A client, into the guest object g: "weight", "cap", "stats" and, with
 * pools, "pools": [{"id", "stats"}] for every pool id it holds. Returns
 * 0 or -ENOMEM.
 */
int control_tmem_client_json(json_t *g, const struct tmem_client *c, bool pools);

/* A size as JSON: a number of bytes, or "unlimited". */
json_t *control_tmem_size_json(uint64_t bytes);

/* The string / integer argument name of checked args (NULL / 0 when absent). */
const char *control_arg_string(const json_t *args, const char *name);
int64_t control_arg_integer(const json_t *args, const char *name);

/*
 * The socket name of a tmemfs mount at mountpoint (resolved with
 * realpath): "tmemfs-" and 16 hex digits of a hash of the path, for
 * control_default_path. 0 or -errno (the mountpoint cannot be resolved).
 */
int control_tmemfs_socket_name(const char *mountpoint, char *name, size_t len);

#endif /* CONTROL_TMEM_H */
