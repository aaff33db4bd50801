/*
 * remote_cluster.c - a Redis Cluster behind one connection (remote_cluster.h).
 *
 * What it models: a client of a memory pool spread over several nodes,
 * each owning some of the 16384 hash slots, whose ownership may change
 * while the client runs (resharding, a replica promoted after a master's
 * loss). The client keeps a slot map, sends each command where the map
 * says, and trusts the node's answer over its map: -MOVED means the map
 * is old (read it again), -ASK means one slot is being migrated (this
 * command only goes to the other node, preceded by ASKING).
 *
 * Data structures: a table of nodes (the seeds from the configuration
 * first, then every master and replica CLUSTER SLOTS names; at most
 * REMOTE_CLUSTER_MAX_NODES, never removed: a node that left just fails),
 * each with a lazily created connection of remote_redis.c (one endpoint,
 * its own timeouts, backoff and login); the slot map, one byte per slot
 * (a node's index, or REMOTE_CLUSTER_NO_NODE).
 *
 * Locking: none here; the owning connection's lock is held around every
 * call (remote_redis.c). Node connections are locked around their runs
 * only to keep their own contract; nobody else holds them.
 */
#include "remote/remote_cluster.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REMOTE_CLUSTER_NO_NODE 0xFF

struct remote_cluster_node {
    struct remote_endpoint endpoint;
    struct remote_conn *conn; /* NULL until first used */
    bool in_map;              /* named by the last slot map read */
    bool master;              /* ... as a master (owning slots) */
};

struct remote_cluster {
    struct remote_conn_config cfg;
    _Atomic uint64_t *counters;
    unsigned node_count;
    struct remote_cluster_node nodes[REMOTE_CLUSTER_MAX_NODES];
    bool map_loaded;
    bool refresh_due;
    unsigned char owner[REMOTE_CLUSTER_SLOTS];
};

static void remote_cluster_count(struct remote_cluster *cl, enum remote_conn_counter i)
{
    atomic_fetch_add_explicit(&cl->counters[i], 1, memory_order_relaxed);
}

/* ------------------------------------------------------------ slots */

uint16_t remote_crc16(const char *data, size_t len)
{
    uint16_t crc = 0;

    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((uint16_t)(unsigned char)data[i] << 8);
        for (int bit = 0; bit < 8; bit++)
            crc = crc & 0x8000 ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

unsigned remote_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);

    if (open) {
        size_t start = (size_t)(open - key) + 1;
        const char *close = memchr(key + start, '}', len - start);

        if (close && close > key + start)
            return remote_crc16(key + start, (size_t)(close - key) - start) %
                   REMOTE_CLUSTER_SLOTS;
    }
    return remote_crc16(key, len) % REMOTE_CLUSTER_SLOTS;
}

/* ------------------------------------------------------------ nodes */

static bool remote_endpoint_same(const struct remote_endpoint *a, const struct remote_endpoint *b)
{
    if (a->unix_path[0] || b->unix_path[0])
        return strcmp(a->unix_path, b->unix_path) == 0;
    return a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* The node at e (added if new): its index, or -1 (table full). */
static int remote_cluster_node_find(struct remote_cluster *cl, const struct remote_endpoint *e)
{
    for (unsigned i = 0; i < cl->node_count; i++)
        if (remote_endpoint_same(&cl->nodes[i].endpoint, e))
            return (int)i;
    if (cl->node_count == REMOTE_CLUSTER_MAX_NODES)
        return -1;
    memset(&cl->nodes[cl->node_count], 0, sizeof(cl->nodes[0]));
    cl->nodes[cl->node_count].endpoint = *e;
    return (int)cl->node_count++;
}

/* "HOST:PORT" (HOST may be empty: then the one of node `asked`) or a
 * CLUSTER SLOTS entry's host and port: the node's index or -1. */
static int remote_cluster_node_at(struct remote_cluster *cl, const char *host, size_t host_len,
                                  long long port, int asked)
{
    struct remote_endpoint e;

    memset(&e, 0, sizeof(e));
    if (port < 1 || port > 65535 || host_len >= sizeof(e.host))
        return -1;
    if (host_len == 0 || (host_len == 1 && host[0] == '?')) {
        if (asked < 0 || cl->nodes[asked].endpoint.unix_path[0])
            return -1;
        snprintf(e.host, sizeof(e.host), "%s", cl->nodes[asked].endpoint.host);
    } else {
        memcpy(e.host, host, host_len);
    }
    e.port = (int)port;
    return remote_cluster_node_find(cl, &e);
}

static struct remote_conn *remote_cluster_node_conn(struct remote_cluster *cl, unsigned i)
{
    struct remote_cluster_node *node = &cl->nodes[i];

    if (!node->conn) {
        struct remote_conn_config one = cl->cfg;

        one.endpoints[0] = node->endpoint;
        node->conn = remote_conn_create_node(&one, cl->counters);
    }
    return node->conn;
}

/* Run a pipeline on node i: remote_conn_run_slow's result. */
static int remote_cluster_node_run(struct remote_cluster *cl, unsigned i, unsigned n,
                                   const struct remote_cmd *cmds, redisReply **replies,
                                   unsigned extra_ms)
{
    struct remote_conn *conn = remote_cluster_node_conn(cl, i);
    int rc;

    if (!conn)
        return -ENOMEM;
    remote_conn_lock(conn);
    rc = remote_conn_run_slow(conn, n, cmds, replies, extra_ms);
    remote_conn_unlock(conn);
    return rc;
}

/* ------------------------------------------------------------ the map */

/* Load a CLUSTER SLOTS reply got from node `asked`: 0 or -EIO (not a map). */
static int remote_cluster_load(struct remote_cluster *cl, const redisReply *map, int asked)
{
    unsigned char owner[REMOTE_CLUSTER_SLOTS];
    bool listed[REMOTE_CLUSTER_MAX_NODES] = {false}, master[REMOTE_CLUSTER_MAX_NODES] = {false};

    if (map->type != REDIS_REPLY_ARRAY || map->elements == 0)
        return -EIO;
    memset(owner, REMOTE_CLUSTER_NO_NODE, sizeof(owner));
    for (size_t r = 0; r < map->elements; r++) {
        const redisReply *range = map->element[r];
        long long first, last;

        if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
            range->element[0]->type != REDIS_REPLY_INTEGER ||
            range->element[1]->type != REDIS_REPLY_INTEGER)
            return -EIO;
        first = range->element[0]->integer;
        last = range->element[1]->integer;
        if (first < 0 || last < first || last >= REMOTE_CLUSTER_SLOTS)
            return -EIO;
        for (size_t k = 2; k < range->elements; k++) {
            const redisReply *node = range->element[k];
            int i;

            if (node->type != REDIS_REPLY_ARRAY || node->elements < 2 ||
                node->element[0]->type != REDIS_REPLY_STRING ||
                node->element[1]->type != REDIS_REPLY_INTEGER)
                return -EIO;
            i = remote_cluster_node_at(cl, node->element[0]->str, node->element[0]->len,
                                       node->element[1]->integer, asked);
            if (i < 0)
                continue; /* a node we cannot name or keep: its slots stay unknown */
            listed[i] = true;
            if (k == 2) {
                master[i] = true;
                memset(owner + first, i, (size_t)(last - first + 1));
            }
        }
    }
    memcpy(cl->owner, owner, sizeof(owner));
    for (unsigned i = 0; i < cl->node_count; i++) {
        cl->nodes[i].in_map = listed[i];
        cl->nodes[i].master = master[i];
    }
    cl->map_loaded = true;
    cl->refresh_due = false;
    return 0;
}

/* Read the slot map from the first node that gives one (masters of the
 * old map first, then every other node, seeds included): 0 or -ENOTCONN. */
static int remote_cluster_refresh(struct remote_cluster *cl)
{
    struct remote_cmd cmd;

    remote_cmd_words(&cmd, 2, (const char *const[]){"CLUSTER", "SLOTS"});
    for (int pass = 0; pass < 2; pass++)
        for (unsigned i = 0; i < cl->node_count; i++) {
            redisReply *reply;
            int rc;

            if ((pass == 0) != (cl->nodes[i].in_map && cl->nodes[i].master))
                continue;
            if (remote_cluster_node_run(cl, i, 1, &cmd, &reply, 0) != 0)
                continue;
            rc = remote_cluster_load(cl, reply, (int)i);
            freeReplyObject(reply);
            if (rc == 0) {
                remote_cluster_count(cl, REMOTE_CONN_CLUSTER_REFRESHES);
                return 0;
            }
        }
    return -ENOTCONN;
}

/* Where a command without a known owner goes: the first master of the
 * map, else the first seed. */
static unsigned remote_cluster_any_node(const struct remote_cluster *cl)
{
    for (unsigned i = 0; i < cl->node_count; i++)
        if (cl->nodes[i].in_map && cl->nodes[i].master)
            return i;
    return 0;
}

/* ------------------------------------------------------------ routing */

static bool remote_cmd_is(const struct remote_cmd *cmd, const char *name)
{
    return cmd->argc >= 1 && cmd->argvlen[0] == strlen(name) &&
           strncasecmp(cmd->argv[0], name, cmd->argvlen[0]) == 0;
}

/* Commands whose argv[1] is not a key (those the project sends, and the
 * usual administrative ones). */
static bool remote_cmd_keyless(const struct remote_cmd *cmd)
{
    static const char *const keyless[] = {
        "WAIT", "PING",  "INFO", "CONFIG", "ACL",  "CLUSTER", "AUTH",    "ASKING", "DBSIZE",
        "FLUSHALL", "FLUSHDB", "KEYS", "SCAN", "TIME", "ECHO", "DEBUG", "CLIENT", "COMMAND",
        "SCRIPT", "FUNCTION"};

    if (cmd->argc < 2)
        return true;
    for (size_t i = 0; i < sizeof(keyless) / sizeof(keyless[0]); i++)
        if (remote_cmd_is(cmd, keyless[i]))
            return true;
    return false;
}

/* Parse "-MOVED slot host:port" / "-ASK slot host:port": the target node
 * (added if new) and *ask, or -1 when reply is no redirection. */
static int remote_cluster_redirection(struct remote_cluster *cl, const redisReply *reply,
                                      int asked, unsigned *slot, bool *ask)
{
    const char *text, *space, *colon;
    char *end;
    long long port;

    if (reply->type != REDIS_REPLY_ERROR)
        return -1;
    if (strncmp(reply->str, "MOVED ", 6) == 0) {
        *ask = false;
        text = reply->str + 6;
    } else if (strncmp(reply->str, "ASK ", 4) == 0) {
        *ask = true;
        text = reply->str + 4;
    } else {
        return -1;
    }
    *slot = (unsigned)strtoul(text, &end, 10);
    space = strchr(text, ' ');
    colon = space ? strrchr(space + 1, ':') : NULL;
    if (end == text || *slot >= REMOTE_CLUSTER_SLOTS || !colon)
        return -1;
    port = strtoll(colon + 1, &end, 10);
    if (end == colon + 1)
        return -1;
    return remote_cluster_node_at(cl, space + 1, (size_t)(colon - space - 1), port, asked);
}

/* The state of one pipeline across rounds. */
struct remote_route {
    unsigned n;
    const struct remote_cmd *cmds;
    redisReply **replies;
    unsigned *dest;      /* node of each command */
    bool *pending;       /* still to be sent (or re-sent) */
    bool *asking;        /* re-send after ASKING */
    int wait;            /* index of the WAIT command, or -1 */
    redisReply *wait_best; /* the WAIT reply with the fewest replicas (from
                            * nodes that took a write of this pipeline) */
    bool moved;          /* a -MOVED this round: read the map again */
};

static void remote_route_free(struct remote_route *r)
{
    for (unsigned i = 0; i < r->n; i++)
        if (r->replies[i] && (int)i != r->wait) {
            freeReplyObject(r->replies[i]);
            r->replies[i] = NULL;
        }
    if (r->wait_best)
        freeReplyObject(r->wait_best);
    r->wait_best = NULL;
}

/* Keep a WAIT reply from a node that took a write: the smallest count
 * (an error reply wins: the write is not known safe). */
static void remote_route_keep_wait(struct remote_route *r, redisReply *reply)
{
    redisReply *best = r->wait_best;

    if (!best || (best->type == REDIS_REPLY_INTEGER &&
                  (reply->type != REDIS_REPLY_INTEGER || reply->integer < best->integer))) {
        if (best)
            freeReplyObject(best);
        r->wait_best = reply;
    } else {
        freeReplyObject(reply);
    }
}

/* Send the pending commands going to node d (one sub-pipeline, ASKING
 * where asked for, the pipeline's WAIT at the end when d got a write),
 * and sort their replies. 0 or the node's failure. */
static int remote_route_send(struct remote_cluster *cl, struct remote_route *r, unsigned d,
                             unsigned extra_ms)
{
    unsigned cap = 2 * r->n + 1, m = 0, keyed = 0;
    struct remote_cmd *sub = malloc(cap * sizeof(*sub));
    redisReply **got = malloc(cap * sizeof(*got));
    int *from = malloc(cap * sizeof(*from)); /* command index, -1: ASKING */
    bool took_write = false;
    int rc;

    if (!sub || !got || !from) {
        rc = -ENOMEM;
        goto out;
    }
    for (unsigned i = 0; i < r->n; i++) {
        if (!r->pending[i] || r->dest[i] != d || (int)i == r->wait)
            continue;
        if (r->asking[i]) {
            remote_cmd_words(&sub[m], 1, (const char *const[]){"ASKING"});
            from[m++] = -1;
        }
        sub[m] = r->cmds[i];
        from[m++] = (int)i;
        keyed += !remote_cmd_keyless(&r->cmds[i]);
    }
    if (r->wait >= 0 && (keyed || (r->pending[r->wait] && r->dest[r->wait] == d))) {
        sub[m] = r->cmds[r->wait];
        from[m++] = r->wait;
    }
    if (m == 0) {
        rc = 0;
        goto out;
    }
    rc = remote_cluster_node_run(cl, d, m, sub, got, r->wait >= 0 ? extra_ms : 0);
    if (rc)
        goto out;
    for (unsigned j = 0; j < m; j++) {
        int i = from[j];
        unsigned slot;
        bool ask;
        int to;

        if (i < 0) {
            freeReplyObject(got[j]);
            continue;
        }
        if (i == r->wait) {
            r->pending[i] = false;
            if (took_write || keyed == 0)
                remote_route_keep_wait(r, got[j]);
            else
                freeReplyObject(got[j]); /* every write went elsewhere */
            continue;
        }
        to = remote_cluster_redirection(cl, got[j], (int)d, &slot, &ask);
        if (to >= 0) {
            remote_cluster_count(cl, ask ? REMOTE_CONN_CLUSTER_ASK : REMOTE_CONN_CLUSTER_MOVED);
            if (!ask) {
                cl->owner[slot] = (unsigned char)to;
                r->moved = true;
            }
            r->dest[i] = (unsigned)to;
            r->asking[i] = ask;
            freeReplyObject(got[j]);
            continue;
        }
        if (got[j]->type == REDIS_REPLY_ERROR)
            remote_cluster_count(cl, REMOTE_CONN_REPLY_ERRORS);
        r->replies[i] = got[j];
        r->pending[i] = false;
        took_write |= !remote_cmd_keyless(&r->cmds[i]);
    }
out:
    free(sub);
    free(got);
    free(from);
    return rc;
}

int remote_cluster_run(struct remote_cluster *cl, unsigned n, const struct remote_cmd *cmds,
                       struct redisReply **replies, unsigned extra_ms)
{
    struct remote_route r = {.n = n, .cmds = cmds, .replies = replies, .wait = -1};
    int last = -1, rc = 0;
    unsigned round;

    if (n == 0)
        return 0;
    memset(replies, 0, n * sizeof(*replies)); /* remote_route_free reads them */
    for (unsigned i = 0; i < n; i++)
        if (remote_cmd_is(&cmds[i], "WAIT")) {
            if (r.wait >= 0)
                return -EINVAL;
            r.wait = (int)i;
        }
    if ((!cl->map_loaded || cl->refresh_due) && remote_cluster_refresh(cl) != 0 &&
        !cl->map_loaded) {
        remote_cluster_count(cl, REMOTE_CONN_UNAVAILABLE);
        return -ENOTCONN;
    }
    r.dest = calloc(n, sizeof(*r.dest));
    r.pending = calloc(n, sizeof(*r.pending));
    r.asking = calloc(n, sizeof(*r.asking));
    if (!r.dest || !r.pending || !r.asking) {
        rc = -ENOMEM;
        goto out;
    }
    for (unsigned i = 0; i < n; i++) {
        r.pending[i] = true;
        if (remote_cmd_keyless(&cmds[i])) {
            r.dest[i] = last >= 0 ? (unsigned)last : remote_cluster_any_node(cl);
        } else {
            unsigned owner = cl->owner[remote_key_slot(cmds[i].argv[1], cmds[i].argvlen[1])];

            last = owner == REMOTE_CLUSTER_NO_NODE ? (int)remote_cluster_any_node(cl)
                                                   : (int)owner;
            r.dest[i] = (unsigned)last;
        }
    }
    for (round = 0; round < REMOTE_CLUSTER_MAX_ROUNDS; round++) {
        bool sent_to[REMOTE_CLUSTER_MAX_NODES] = {false}, left = false;

        r.moved = false;
        for (unsigned i = 0; i < n; i++) {
            unsigned d = r.dest[i];

            if (!r.pending[i] || sent_to[d])
                continue;
            sent_to[d] = true;
            rc = remote_route_send(cl, &r, d, extra_ms);
            if (rc) {
                /* a node lost or slow: its slots may have moved (failover) */
                cl->refresh_due = true;
                goto out;
            }
        }
        for (unsigned i = 0; i < n; i++)
            left |= r.pending[i];
        if (!left)
            break;
        /* the map is old: read it again (the redirected commands keep
         * the targets their nodes named) */
        if (r.moved)
            remote_cluster_refresh(cl);
    }
    if (round == REMOTE_CLUSTER_MAX_ROUNDS) {
        remote_cluster_count(cl, REMOTE_CONN_CLUSTER_REDIRECT_LOOPS);
        rc = -EIO;
        goto out;
    }
    if (r.wait >= 0) {
        if (!r.wait_best) { /* no node took a write: ask any node */
            r.pending[r.wait] = true;
            r.dest[r.wait] = remote_cluster_any_node(cl);
            rc = remote_route_send(cl, &r, r.dest[r.wait], extra_ms);
            if (rc || !r.wait_best) {
                rc = rc ? rc : -EIO;
                goto out;
            }
        }
        replies[r.wait] = r.wait_best;
        r.wait_best = NULL;
    }
out:
    if (rc)
        remote_route_free(&r);
    free(r.dest);
    free(r.pending);
    free(r.asking);
    return rc;
}

/* ------------------------------------------------------------ broadcast */

/*
 * The nodes CLUSTER NODES lists, rather than CLUSTER SLOTS: Redis 7 leaves
 * a replica out of CLUSTER SLOTS until its replication offset moved (an
 * idle new replica), and a per-node setting (ACL rules) must reach it
 * too. One line per node: "ID HOST:PORT@BUS[,HOSTNAME] FLAGS MASTER ...
 * SLOTS...". Marks in want[] the nodes to reach and in must[] the masters
 * owning slots (not failed). 0 or -ENOTCONN.
 */
static int remote_cluster_list_nodes(struct remote_cluster *cl, bool *want, bool *must)
{
    struct remote_cmd cmd;

    remote_cmd_words(&cmd, 2, (const char *const[]){"CLUSTER", "NODES"});
    for (unsigned asked = 0; asked < cl->node_count; asked++) {
        redisReply *reply;
        const char *line;

        if (remote_cluster_node_run(cl, asked, 1, &cmd, &reply, 0) != 0)
            continue;
        if (reply->type != REDIS_REPLY_STRING) {
            freeReplyObject(reply);
            continue;
        }
        for (line = reply->str; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
            char id[64], addr[300], flags[200], master[64];
            const char *colon;
            int fields, i, consumed = 0;
            bool owns_slots;

            fields = sscanf(line, "%63s %299s %199s %63s %*s %*s %*s %*s%n", id, addr, flags,
                            master, &consumed);
            if (fields < 4 || strstr(flags, "noaddr") || strstr(flags, "handshake"))
                continue;
            addr[strcspn(addr, "@")] = '\0'; /* HOST:PORT@BUS[,HOSTNAME] */
            colon = strrchr(addr, ':');
            if (!colon)
                continue;
            i = remote_cluster_node_at(cl, addr, (size_t)(colon - addr), atoll(colon + 1),
                                       (int)asked);
            if (i < 0)
                continue;
            owns_slots = consumed > 0 && line[consumed] == ' ' &&
                         line[consumed + 1] >= '0' && line[consumed + 1] <= '9';
            want[i] = true;
            must[i] = strstr(flags, "master") && !strstr(flags, "fail") && owns_slots;
        }
        freeReplyObject(reply);
        return 0;
    }
    return -ENOTCONN;
}

int remote_cluster_broadcast(struct remote_cluster *cl, const struct remote_cmd *cmd,
                             unsigned *taken)
{
    bool want[REMOTE_CLUSTER_MAX_NODES] = {false}, must[REMOTE_CLUSTER_MAX_NODES] = {false};
    unsigned ok = 0;
    bool masters_ok = true;

    if (remote_cluster_list_nodes(cl, want, must) != 0)
        return -ENOTCONN;
    for (unsigned i = 0; i < cl->node_count; i++) {
        redisReply *reply;
        bool took = false;

        if (!want[i])
            continue;
        if (remote_cluster_node_run(cl, i, 1, cmd, &reply, 0) == 0) {
            took = reply->type != REDIS_REPLY_ERROR;
            freeReplyObject(reply);
        }
        ok += took;
        if (!took && must[i])
            masters_ok = false;
    }
    if (taken)
        *taken = ok;
    return masters_ok ? 0 : -EIO;
}

/* ------------------------------------------------------------ lifecycle */

struct remote_cluster *remote_cluster_create(const struct remote_conn_config *cfg,
                                             _Atomic uint64_t *counters)
{
    struct remote_cluster *cl = calloc(1, sizeof(*cl));

    if (!cl) {
        errno = ENOMEM;
        return NULL;
    }
    cl->cfg = *cfg;
    cl->counters = counters;
    memset(cl->owner, REMOTE_CLUSTER_NO_NODE, sizeof(cl->owner));
    for (unsigned i = 0; i < cfg->endpoint_count && i < REMOTE_MAX_ENDPOINTS; i++)
        remote_cluster_node_find(cl, &cfg->endpoints[i]);
    return cl;
}

void remote_cluster_drop(struct remote_cluster *cl)
{
    for (unsigned i = 0; i < cl->node_count; i++)
        if (cl->nodes[i].conn)
            remote_conn_drop(cl->nodes[i].conn);
}

void remote_cluster_destroy(struct remote_cluster *cl)
{
    if (!cl)
        return;
    for (unsigned i = 0; i < cl->node_count; i++)
        remote_conn_destroy(cl->nodes[i].conn);
    free(cl);
}
