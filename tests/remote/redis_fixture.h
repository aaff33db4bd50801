/*
 * redis_fixture.h - a private redis-server for the tests of tests/remote:
 * started in a temporary directory (Unix socket DIR/redis.sock, mode 700,
 * a loopback TCP port for replication, no persistence, maxmemory-policy
 * volatile-lru, a password for its default user), optionally a replica of
 * another one, stopped (or killed, paused, restarted empty) on demand.
 * redis-server is a dependency of the project (tools/install-deps.sh): when
 * it is missing, start fails loudly with a message, never skips.
 *
 * A cluster (struct redis_cluster): three such servers with cluster mode
 * on (cluster bus on a second loopback port, nodes.conf in each one's
 * directory), the 16384 slots split in three ranges, joined by hand
 * (CLUSTER SET-CONFIG-EPOCH, ADDSLOTSRANGE, MEET), and a fourth server,
 * a replica of the first (CLUSTER REPLICATE), ready when every node says
 * cluster_state:ok and knows all four and the replica's link is up (so a
 * WAIT for one replica succeeds on node 0 only); one slot can be migrated
 * from one node to another in two steps (ASK, then MOVED).
 */
#ifndef TESTS_REMOTE_REDIS_FIXTURE_H
#define TESTS_REMOTE_REDIS_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

#include "remote/remote_redis.h"

#define REDIS_FIXTURE_PASSWORD "fixture-admin-secret"

struct redis_server {
    pid_t pid;          /* 0: not running */
    int port;           /* loopback TCP port */
    char dir[64];       /* its temporary directory */
    char socket[96];    /* DIR/redis.sock */
    int primary_port;   /* a replica: its primary's port; 0: a primary */
    int bus_port;       /* a cluster node: its cluster bus port; 0: not one */
};

/* Start a server (a replica of primary when not NULL) and wait until it
 * answers (and, for a replica, until its link to the primary is up).
 * 0, or -1 with a one-line reason on stderr. */
int redis_server_start(struct redis_server *s, const struct redis_server *primary);
/* Start it again on the same directory, port and socket: an empty server. */
int redis_server_restart(struct redis_server *s);
/* Stop it: SIGTERM (kill false) or SIGKILL (kill true), and wait. */
void redis_server_stop(struct redis_server *s, bool kill);
/* Pause (SIGSTOP) or resume (SIGCONT) it: a server that does not answer. */
void redis_server_pause(struct redis_server *s, bool pause);
/* Stop it and remove its directory. */
void redis_server_destroy(struct redis_server *s);

/* The server as a tier endpoint (its Unix socket) / its TCP endpoint. */
void redis_server_endpoint(const struct redis_server *s, struct remote_endpoint *out);
void redis_server_tcp_endpoint(const struct redis_server *s, struct remote_endpoint *out);

/* One admin command (words), on a fresh connection as the default user:
 * the integer reply, or -1 (no reply / not an integer). */
long long redis_server_int(const struct redis_server *s, int argc, const char *const *words);
/* The same, any reply: 0 when the reply is not an error. */
int redis_server_ok(const struct redis_server *s, int argc, const char *const *words);

/* Any reply to one admin command (NULL: none), to be freed with
 * freeReplyObject. */
struct redisReply *redis_server_reply(const struct redis_server *s, int argc,
                                      const char *const *words);

#define REDIS_CLUSTER_NODES 3   /* masters: node[0 .. 3) */
#define REDIS_CLUSTER_REPLICA 3 /* node[3]: a replica of node[0] */

struct redis_cluster {
    struct redis_server node[REDIS_CLUSTER_NODES + 1];
    char id[REDIS_CLUSTER_NODES + 1][48]; /* CLUSTER MYID */
};

/* Start three masters, slots split evenly, and node 0's replica; wait
 * (20 s at most) until the cluster is ok on every node: 0, or -1 with a
 * reason on stderr (never a skip). */
int redis_cluster_start(struct redis_cluster *c);
/* Stop every node and remove their directories. */
void redis_cluster_destroy(struct redis_cluster *c);
/* Wait (15 s at most) until the replica has taken node 0's place (it
 * says role:master and node 1 says cluster_state:ok again) after node 0
 * was stopped: 0 or -1. */
int redis_cluster_wait_failover(const struct redis_cluster *c);
/* The node (0..3) owning slot according to node `ask`'s map, or -1. */
int redis_cluster_slot_owner(const struct redis_cluster *c, unsigned ask, unsigned slot);
/* Begin moving slot from node `from` to node `to` (IMPORTING on to,
 * MIGRATING on from: the keys stay, new keys get -ASK): 0 or -1. */
int redis_cluster_migrate_begin(struct redis_cluster *c, unsigned slot, unsigned from, unsigned to);
/* Finish it: MIGRATE every key of the slot, then SETSLOT NODE on every
 * node (old owners now answer -MOVED): 0 or -1. */
int redis_cluster_migrate_finish(struct redis_cluster *c, unsigned slot, unsigned from,
                                 unsigned to);

#endif
