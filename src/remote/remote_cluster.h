/*
 * remote_cluster.h - a Redis Cluster behind one struct remote_conn
 * (remote_redis.h): the slot function of the Redis Cluster specification,
 * and the routing layer remote_redis.c delegates to when its connection
 * is in cluster mode. Only remote_key_slot is meant for users (tools,
 * tests); the rest is the interface between remote_redis.c and
 * remote_cluster.c.
 *
 * Routing: a command goes to the node owning the slot of its key
 * (argv[1]); a keyless command (WAIT, PING, CONFIG, ...) goes with the
 * keyed command before it in the same pipeline (WAIT thus goes to the
 * node that took the write), or to any node. Commands of one pipeline
 * that land on several nodes are sent as one sub-pipeline per node; the
 * order of commands on one key is kept (one slot, one node, one
 * connection). -MOVED: the map is read again (CLUSTER SLOTS) and the
 * command re-sent to the named node; -ASK: ASKING, then the command, on
 * the named node, map unchanged. At most REMOTE_CLUSTER_MAX_ROUNDS rounds.
 *
 * Thread safety: none of its own; remote_redis.c calls it under the
 * connection's lock. Counters go to the connection's atomic array.
 */
#ifndef REMOTE_CLUSTER_H
#define REMOTE_CLUSTER_H

#include "remote/remote_redis.h"

#include <stdatomic.h>
#include <stdint.h>

#define REMOTE_CLUSTER_SLOTS 16384
#define REMOTE_CLUSTER_MAX_NODES 64 /* masters and replicas known at once */
#define REMOTE_CLUSTER_MAX_ROUNDS 5 /* sends of one command, redirections included */

/*
 * The slot of a key: CRC16 (XMODEM: polynomial 0x1021, initial value 0)
 * of the key, or of the part between the first '{' and the first '}'
 * after it when that part is not empty, modulo 16384. Pure, thread-safe.
 */
unsigned remote_key_slot(const char *key, size_t len);
/* The CRC16 alone ("123456789" gives 0x31C3). */
uint16_t remote_crc16(const char *data, size_t len);

struct remote_cluster;

/* A cluster whose seeds are cfg's endpoints; node connections use cfg's
 * login and timeouts and count into counters (the owning connection's
 * array of REMOTE_CONN_COUNTER_COUNT). NULL with errno ENOMEM. */
struct remote_cluster *remote_cluster_create(const struct remote_conn_config *cfg,
                                             _Atomic uint64_t *counters);
void remote_cluster_destroy(struct remote_cluster *cl);

/* remote_conn_run_slow for a cluster: same arguments and results; at
 * most one WAIT per pipeline (-EINVAL otherwise); -EIO also after too
 * many redirections (counted in remote_cluster_redirect_loops). */
int remote_cluster_run(struct remote_cluster *cl, unsigned n, const struct remote_cmd *cmds,
                       struct redisReply **replies, unsigned extra_ms);

/* remote_conn_broadcast for a cluster. */
int remote_cluster_broadcast(struct remote_cluster *cl, const struct remote_cmd *cmd,
                             unsigned *taken);

/* Drop every node connection. */
void remote_cluster_drop(struct remote_cluster *cl);

/*
 * Defined in remote_redis.c for the cluster's node connections: a
 * connection to the single endpoint of cfg (cluster OFF) that counts
 * into counters, error replies excepted (the cluster counts those it
 * does not follow). NULL with errno.
 */
struct remote_conn *remote_conn_create_node(const struct remote_conn_config *cfg,
                                            _Atomic uint64_t *counters);

#endif /* REMOTE_CLUSTER_H */
