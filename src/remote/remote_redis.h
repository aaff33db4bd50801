/*
 * remote_redis.h - one connection to a Redis server (hiredis 0.14, RESP2):
 * endpoints tried in order, ACL login, connect and command timeouts,
 * reconnection with exponential backoff, and a counter per kind of
 * failure. The remote tier (remote_tier.h) holds one per tmem client.
 *
 * With cluster mode on (or detected), the same connection speaks to a
 * Redis Cluster instead (remote_cluster.h): the endpoints are seed nodes,
 * each command goes to the node owning its key's slot, redirections
 * (-MOVED, -ASK) are followed; the caller sees no difference, except
 * that argv[1] must be the key of every command but the keyless ones
 * (WAIT, PING, INFO, CONFIG, ACL, CLUSTER, ...).
 *
 * Thread safety: a connection is used by one thread at a time: callers
 * hold remote_conn_lock() around remote_conn_run() (and around any
 * sequence whose order matters); remote_conn_counters() may be called
 * from any thread at any time.
 */
#ifndef REMOTE_REDIS_H
#define REMOTE_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct redisReply;

#define REMOTE_MAX_ENDPOINTS 4

/* A server: a Unix socket (unix_path non-empty) or host:port. */
struct remote_endpoint {
    char host[256];
    int port;
    char unix_path[108];
};

/* Whether the endpoints are one server (and its failover replicas) or
 * seed nodes of a Redis Cluster. */
enum remote_cluster_mode {
    REMOTE_CLUSTER_OFF = 0, /* one server: endpoints tried in order */
    REMOTE_CLUSTER_ON,      /* a cluster: endpoints are seeds, commands routed by slot */
    REMOTE_CLUSTER_DETECT,  /* ask the first server that answers (CLUSTER SLOTS) */
};

struct remote_conn_config {
    /* Tried in order at each (re)connection: the first that accepts the
     * login is used (a primary, then the replica an operator promotes). */
    struct remote_endpoint endpoints[REMOTE_MAX_ENDPOINTS];
    unsigned endpoint_count;       /* 1..REMOTE_MAX_ENDPOINTS */
    char user[64];                 /* ACL user ("" : no AUTH, or AUTH password) */
    char password[128];            /* "" : no AUTH */
    unsigned connect_timeout_ms;   /* 0: 200 */
    unsigned command_timeout_ms;   /* 0: 500; bounds every reply */
    unsigned backoff_min_ms;       /* 0: 10; after a failed connection attempt */
    unsigned backoff_max_ms;       /* 0: 1000 */
    enum remote_cluster_mode cluster; /* default OFF */
};

/*
 * Failure counters (kernel-style names, as in /proc/vmstat), X(ID, name,
 * help), in the order of struct remote_conn_counters.
 */
#define REMOTE_CONN_COUNTERS(X)                                                            \
    X(CONNECTS, remote_connects, "connections made (logins accepted)")                    \
    X(CONNECT_ERRORS, remote_connect_errors,                                              \
      "connection or login attempts that failed (per endpoint)")                          \
    X(TIMEOUTS, remote_timeouts, "commands whose reply did not come within the timeout")  \
    X(IO_ERRORS, remote_io_errors, "commands lost to a dropped or broken connection")     \
    X(REPLY_ERRORS, remote_reply_errors, "error replies (NOPERM, OOM, READONLY, ...)")    \
    X(UNAVAILABLE, remote_unavailable,                                                    \
      "commands refused at once: no connection, next attempt not due (backoff)")          \
    X(COMMANDS, remote_commands, "pipelines (one or more commands) whose replies all came") \
    X(CLUSTER_MOVED, remote_cluster_moved,                                                \
      "cluster: commands redirected by -MOVED (slot owned by another node; map refreshed)") \
    X(CLUSTER_ASK, remote_cluster_ask,                                                    \
      "cluster: commands redirected by -ASK (slot migrating; ASKING then the command)")   \
    X(CLUSTER_REFRESHES, remote_cluster_refreshes,                                        \
      "cluster: slot maps read (CLUSTER SLOTS): first use, after -MOVED or a lost node")  \
    X(CLUSTER_REDIRECT_LOOPS, remote_cluster_redirect_loops,                              \
      "cluster: commands given up after too many redirections (-EIO)")

enum remote_conn_counter {
#define REMOTE_CONN_ENUM_(id, name, help) REMOTE_CONN_##id,
    REMOTE_CONN_COUNTERS(REMOTE_CONN_ENUM_)
#undef REMOTE_CONN_ENUM_
    REMOTE_CONN_COUNTER_COUNT
};

struct remote_conn_counters {
    uint64_t c[REMOTE_CONN_COUNTER_COUNT];
};

/* One command: argc arguments (binary safe: lengths given). */
#define REMOTE_CMD_MAX_ARGS 24
struct remote_cmd {
    int argc;
    const char *argv[REMOTE_CMD_MAX_ARGS];
    size_t argvlen[REMOTE_CMD_MAX_ARGS];
};

struct remote_conn;

/*
 * Parse "unix:PATH", "HOST:PORT" or "HOST" (port 6379) into *out: 0, or
 * -EINVAL (empty, too long, bad port) with nothing written.
 */
int remote_endpoint_parse(const char *text, struct remote_endpoint *out);

/* A connection (not connected yet: the first command connects). NULL with
 * errno EINVAL (no endpoint) or ENOMEM. */
struct remote_conn *remote_conn_create(const struct remote_conn_config *cfg);
/* Close and free; conn may be NULL. Nobody may hold or use it. */
void remote_conn_destroy(struct remote_conn *conn);

void remote_conn_lock(struct remote_conn *conn);
void remote_conn_unlock(struct remote_conn *conn);

/*
 * Send n commands in one pipeline and read their n replies into
 * replies[0 .. n) (each to be freed with freeReplyObject; error replies
 * are replies too, counted in remote_reply_errors). Connects first if
 * needed. Returns 0; or, with no reply kept: -ENOTCONN (no connection,
 * in backoff or every endpoint failed), -ETIMEDOUT (a reply was late:
 * the connection is dropped, as its state is unknown), -EIO (connection
 * broke). Caller holds remote_conn_lock.
 */
int remote_conn_run(struct remote_conn *conn, unsigned n, const struct remote_cmd *cmds,
                    struct redisReply **replies);

/* The same, for commands that may take extra_ms longer on the server
 * (WAIT): the reply timeout is command_timeout_ms + extra_ms for them. */
int remote_conn_run_slow(struct remote_conn *conn, unsigned n, const struct remote_cmd *cmds,
                         struct redisReply **replies, unsigned extra_ms);

/*
 * Send one command to every server: for one server, to each endpoint in
 * turn (fresh connections; a replica is not updated by its primary for
 * ACL rules or configuration); for a cluster, to every master and
 * replica of a freshly read slot map. *taken (may be NULL) is the number
 * of servers that answered with a non-error reply. Returns 0 when the
 * command was taken where it must be (one server: by at least one
 * endpoint; a cluster: by every master, replicas on a best-effort basis),
 * else -EIO (or -ENOTCONN: no slot map could be read). Caller holds
 * remote_conn_lock.
 */
int remote_conn_broadcast(struct remote_conn *conn, const struct remote_cmd *cmd,
                          unsigned *taken);

/* Whether the connection speaks to a cluster (false while DETECT has not
 * yet reached a server). Caller holds remote_conn_lock. */
bool remote_conn_is_cluster(const struct remote_conn *conn);

/* Drop the connection now (the next command reconnects, no backoff). */
void remote_conn_drop(struct remote_conn *conn);

/* Copy the counters (thread-safe, each read once). */
void remote_conn_counters(const struct remote_conn *conn, struct remote_conn_counters *out);
/* The name of counter i ("remote_timeouts", ...). */
const char *remote_conn_counter_name(enum remote_conn_counter i);

/* Fill a command from a list of NUL-terminated words (strlen'd), at
 * most REMOTE_CMD_MAX_ARGS; a binary argument can be set afterwards in cmd->argv /
 * argvlen. */
void remote_cmd_words(struct remote_cmd *cmd, int argc, const char *const *words);

#endif /* REMOTE_REDIS_H */
