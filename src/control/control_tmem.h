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
 * pools, "pools": [{"id", "kind" ("persistent" | "ephemeral"),
 * "sharing" ("private" | "shared"), "exclusive_gets", "stats"}] for
 * every pool it holds (the caller adds "frozen": the core keeps it per
 * client, the programs keep the flag they set). Returns 0 or -ENOMEM.
 */
int control_tmem_client_json(json_t *g, const struct tmem_client *c, bool pools);

/* A size as JSON: a number of bytes, or "unlimited". */
json_t *control_tmem_size_json(uint64_t bytes);

/* The string / integer argument name of checked args (NULL / 0 when absent). */
const char *control_arg_string(const json_t *args, const char *name);
int64_t control_arg_integer(const json_t *args, const char *name);

/* The SIZE argument name of checked args (the size grammar, "unlimited"
 * allowed) into *bytes: 0, or -EINVAL with "bad size ..." in err. */
int control_arg_size(const json_t *args, const char *name, uint64_t *bytes, char *err,
                     size_t errlen);

/*
 * set-weight, set-cap, freeze, thaw: one change to a guest's client, the
 * same in every program. control_guest_change_read checks the request's
 * arguments (weight 1..10000, a size) into *ch: 0 or -EINVAL with err.
 * control_guest_change_apply makes it on client c of guest (its name in
 * the reply), keeping *frozen (the program's record of it: the core has
 * no call to read it back), and on success sets *result to {"guest",
 * "weight", "cap", "frozen"}. 0 or the tmem error (-EINVAL) with err.
 */
enum control_guest_action {
    CONTROL_SET_WEIGHT,
    CONTROL_SET_CAP,
    CONTROL_FREEZE,
    CONTROL_THAW,
};

struct control_guest_change {
    enum control_guest_action action;
    uint32_t weight;
    uint64_t cap_bytes;
};

int control_guest_change_read(const json_t *args, enum control_guest_action action,
                              struct control_guest_change *ch, char *err, size_t errlen);
int control_guest_change_apply(struct tmem_client *c, const char *guest,
                               const struct control_guest_change *ch, bool *frozen,
                               json_t **result, char *err, size_t errlen);

/*
 * The socket name of a tmemfs mount at mountpoint (resolved with
 * realpath): "tmemfs-" and 16 hex digits of a hash of the path, for
 * control_default_path. 0 or -errno (the mountpoint cannot be resolved).
 */
int control_tmemfs_socket_name(const char *mountpoint, char *name, size_t len);

#endif /* CONTROL_TMEM_H */
