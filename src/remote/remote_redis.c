/*
 * remote_redis.c - one Redis connection that survives its server: what it
 * models is a client's link to a memory node that may stop, restart
 * empty, stall or vanish. A command either gets its replies within the
 * command timeout or fails with a reason the caller can count; it never
 * waits longer, and it never leaves a half-read pipeline behind (any
 * failure drops the connection, so a late reply cannot be taken for the
 * next command's).
 *
 * Data: the hiredis context (NULL while disconnected), the time before
 * which no new connection is attempted (exponential backoff between
 * backoff_min_ms and backoff_max_ms after each round of failed attempts),
 * the configuration, and atomic counters (`sink`: its own array, or the
 * array of the cluster connection a node connection belongs to). In
 * cluster mode the context stays unused and every run goes to the
 * cluster (remote_cluster.c), whose node connections are connections of
 * this file; in DETECT mode the first connection asks CLUSTER SLOTS and
 * the answer decides.
 *
 * Locking: conn->lock (a mutex) serialises users; the caller takes it
 * with remote_conn_lock around remote_conn_run. Counters are relaxed
 * atomics read without it. Under a cluster connection's lock, its node
 * connections' locks are taken (nobody else uses them); no other lock.
 */
#include "remote/remote_redis.h"
#include "remote/remote_cluster.h"

#include <errno.h>
#include <stdbool.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct remote_conn {
    pthread_mutex_t lock;
    struct remote_conn_config cfg;
    redisContext *ctx;          /* NULL: disconnected */
    uint64_t next_attempt_ns;   /* no connection attempt before this */
    unsigned backoff_ms;        /* the next backoff */
    struct remote_cluster *cluster; /* cluster mode: every run goes there */
    bool mode_known;            /* DETECT: false until a server answered */
    bool count_error_replies;   /* false for a cluster's node connections */
    _Atomic uint64_t *sink;     /* where counts go: counters, or the cluster's */
    _Atomic uint64_t counters[REMOTE_CONN_COUNTER_COUNT];
};

static const char *const remote_conn_counter_names[] = {
#define REMOTE_CONN_NAME_(id, name, help) #name,
    REMOTE_CONN_COUNTERS(REMOTE_CONN_NAME_)
#undef REMOTE_CONN_NAME_
};

const char *remote_conn_counter_name(enum remote_conn_counter i)
{
    return i < REMOTE_CONN_COUNTER_COUNT ? remote_conn_counter_names[i] : NULL;
}

static uint64_t remote_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct timeval remote_timeval_ms(unsigned ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

static void remote_conn_count(struct remote_conn *conn, enum remote_conn_counter i)
{
    atomic_fetch_add_explicit(&conn->sink[i], 1, memory_order_relaxed);
}

int remote_endpoint_parse(const char *text, struct remote_endpoint *out)
{
    struct remote_endpoint e;
    const char *colon;
    char *end;
    long port = 6379;
    size_t hostlen;

    memset(&e, 0, sizeof(e));
    if (!text || !*text)
        return -EINVAL;
    if (strncmp(text, "unix:", 5) == 0) {
        if (!text[5] || strlen(text + 5) >= sizeof(e.unix_path))
            return -EINVAL;
        strcpy(e.unix_path, text + 5);
        *out = e;
        return 0;
    }
    colon = strrchr(text, ':');
    hostlen = colon ? (size_t)(colon - text) : strlen(text);
    if (colon) {
        errno = 0;
        port = strtol(colon + 1, &end, 10);
        if (errno || end == colon + 1 || *end || port < 1 || port > 65535)
            return -EINVAL;
    }
    if (hostlen == 0 || hostlen >= sizeof(e.host))
        return -EINVAL;
    memcpy(e.host, text, hostlen);
    e.port = (int)port;
    *out = e;
    return 0;
}

void remote_cmd_words(struct remote_cmd *cmd, int argc, const char *const *words)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->argc = argc > REMOTE_CMD_MAX_ARGS ? REMOTE_CMD_MAX_ARGS : argc;
    for (int i = 0; i < cmd->argc; i++) {
        cmd->argv[i] = words[i];
        cmd->argvlen[i] = strlen(words[i]);
    }
}

struct remote_conn *remote_conn_create(const struct remote_conn_config *cfg)
{
    struct remote_conn *conn;

    if (!cfg || cfg->endpoint_count == 0 || cfg->endpoint_count > REMOTE_MAX_ENDPOINTS) {
        errno = EINVAL;
        return NULL;
    }
    conn = calloc(1, sizeof(*conn));
    if (!conn) {
        errno = ENOMEM;
        return NULL;
    }
    conn->cfg = *cfg;
    if (!conn->cfg.connect_timeout_ms)
        conn->cfg.connect_timeout_ms = 200;
    if (!conn->cfg.command_timeout_ms)
        conn->cfg.command_timeout_ms = 500;
    if (!conn->cfg.backoff_min_ms)
        conn->cfg.backoff_min_ms = 10;
    if (!conn->cfg.backoff_max_ms)
        conn->cfg.backoff_max_ms = 1000;
    conn->backoff_ms = conn->cfg.backoff_min_ms;
    conn->sink = conn->counters;
    conn->count_error_replies = true;
    conn->mode_known = conn->cfg.cluster != REMOTE_CLUSTER_DETECT;
    if (conn->cfg.cluster == REMOTE_CLUSTER_ON) {
        conn->cluster = remote_cluster_create(&conn->cfg, conn->counters);
        if (!conn->cluster) {
            free(conn);
            errno = ENOMEM;
            return NULL;
        }
    }
    if (pthread_mutex_init(&conn->lock, NULL) != 0) {
        remote_cluster_destroy(conn->cluster);
        free(conn);
        errno = ENOMEM;
        return NULL;
    }
    return conn;
}

struct remote_conn *remote_conn_create_node(const struct remote_conn_config *cfg,
                                            _Atomic uint64_t *counters)
{
    struct remote_conn_config one = *cfg;
    struct remote_conn *conn;

    one.endpoint_count = 1;
    one.cluster = REMOTE_CLUSTER_OFF;
    conn = remote_conn_create(&one);
    if (conn) {
        conn->sink = counters;
        conn->count_error_replies = false;
    }
    return conn;
}

bool remote_conn_is_cluster(const struct remote_conn *conn)
{
    return conn->cluster != NULL;
}

void remote_conn_drop(struct remote_conn *conn)
{
    if (conn->cluster)
        remote_cluster_drop(conn->cluster);
    if (conn->ctx)
        redisFree(conn->ctx);
    conn->ctx = NULL;
}

void remote_conn_destroy(struct remote_conn *conn)
{
    if (!conn)
        return;
    remote_conn_drop(conn);
    remote_cluster_destroy(conn->cluster);
    pthread_mutex_destroy(&conn->lock);
    free(conn);
}

void remote_conn_lock(struct remote_conn *conn)
{
    pthread_mutex_lock(&conn->lock);
}

void remote_conn_unlock(struct remote_conn *conn)
{
    pthread_mutex_unlock(&conn->lock);
}

/*
 * Writing to a connection the server closed raises SIGPIPE, which would
 * kill the process: block it in this thread around the I/O, and take a
 * SIGPIPE that became pending meanwhile, without touching the process's
 * own disposition (a library must not).
 */
struct remote_sigpipe_guard {
    sigset_t old;
    bool was_pending;
};

static void remote_sigpipe_block(struct remote_sigpipe_guard *g)
{
    sigset_t pipe_set, pending;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old);
}

static void remote_sigpipe_restore(const struct remote_sigpipe_guard *g)
{
    sigset_t pipe_set, pending;
    struct timespec zero = {0, 0};

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    if (!g->was_pending && sigismember(&pending, SIGPIPE))
        sigtimedwait(&pipe_set, NULL, &zero);
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* Log in on a fresh context: 0 or -1. */
static int remote_conn_login(struct remote_conn *conn, redisContext *ctx)
{
    struct remote_sigpipe_guard guard;
    redisReply *r;
    int ok;

    if (!conn->cfg.password[0])
        return 0;
    remote_sigpipe_block(&guard); /* a server may close right after accept */
    if (conn->cfg.user[0])
        r = redisCommand(ctx, "AUTH %s %s", conn->cfg.user, conn->cfg.password);
    else
        r = redisCommand(ctx, "AUTH %s", conn->cfg.password);
    remote_sigpipe_restore(&guard);
    ok = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

/* Connect to the first endpoint that accepts the login: 0 or -ENOTCONN. */
static int remote_conn_connect(struct remote_conn *conn)
{
    uint64_t now = remote_now_ns();

    if (now < conn->next_attempt_ns) {
        remote_conn_count(conn, REMOTE_CONN_UNAVAILABLE);
        return -ENOTCONN;
    }
    for (unsigned i = 0; i < conn->cfg.endpoint_count; i++) {
        const struct remote_endpoint *e = &conn->cfg.endpoints[i];
        struct timeval tv = remote_timeval_ms(conn->cfg.connect_timeout_ms);
        redisContext *ctx = e->unix_path[0] ? redisConnectUnixWithTimeout(e->unix_path, tv)
                                            : redisConnectWithTimeout(e->host, e->port, tv);

        if (ctx && !ctx->err &&
            redisSetTimeout(ctx, remote_timeval_ms(conn->cfg.command_timeout_ms)) == REDIS_OK &&
            remote_conn_login(conn, ctx) == 0) {
            conn->ctx = ctx;
            conn->backoff_ms = conn->cfg.backoff_min_ms;
            remote_conn_count(conn, REMOTE_CONN_CONNECTS);
            return 0;
        }
        remote_conn_count(conn, REMOTE_CONN_CONNECT_ERRORS);
        if (ctx)
            redisFree(ctx);
    }
    conn->next_attempt_ns = remote_now_ns() + (uint64_t)conn->backoff_ms * 1000000u;
    conn->backoff_ms = conn->backoff_ms * 2 > conn->cfg.backoff_max_ms ? conn->cfg.backoff_max_ms
                                                                       : conn->backoff_ms * 2;
    return -ENOTCONN;
}

/* Count and drop after a failed pipeline: -ETIMEDOUT or -EIO. */
static int remote_conn_fail(struct remote_conn *conn, int saved_errno)
{
    int timed_out = conn->ctx->err == REDIS_ERR_IO &&
                    (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ||
                     saved_errno == ETIMEDOUT);

    remote_conn_count(conn, timed_out ? REMOTE_CONN_TIMEOUTS : REMOTE_CONN_IO_ERRORS);
    remote_conn_drop(conn);
    return timed_out ? -ETIMEDOUT : -EIO;
}

static int remote_conn_run_locked(struct remote_conn *conn, unsigned n,
                                  const struct remote_cmd *cmds, struct redisReply **replies,
                                  bool count_errors);

/*
 * DETECT: ask the server (CLUSTER SLOTS) whether it is a cluster node.
 * An array: cluster mode from now on (the single connection is dropped);
 * an error reply ("cluster support disabled", or no permission): one
 * server. 0, or the failure of the connection (still undecided).
 */
static int remote_conn_detect(struct remote_conn *conn)
{
    struct remote_sigpipe_guard guard;
    struct remote_cmd cmd;
    redisReply *reply;
    int rc;

    if (!conn->ctx && remote_conn_connect(conn) != 0)
        return -ENOTCONN;
    remote_cmd_words(&cmd, 2, (const char *const[]){"CLUSTER", "SLOTS"});
    remote_sigpipe_block(&guard);
    rc = remote_conn_run_locked(conn, 1, &cmd, &reply, false);
    remote_sigpipe_restore(&guard);
    if (rc)
        return rc;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
        conn->cluster = remote_cluster_create(&conn->cfg, conn->counters);
        if (!conn->cluster) {
            freeReplyObject(reply);
            return -ENOMEM;
        }
        remote_conn_drop(conn); /* the cluster has its own connections */
    }
    freeReplyObject(reply);
    conn->mode_known = true;
    return 0;
}

int remote_conn_run_slow(struct remote_conn *conn, unsigned n, const struct remote_cmd *cmds,
                         struct redisReply **replies, unsigned extra_ms)
{
    struct remote_sigpipe_guard guard;
    int rc;

    if (!conn->mode_known && (rc = remote_conn_detect(conn)) != 0)
        return rc;
    if (conn->cluster)
        return remote_cluster_run(conn->cluster, n, cmds, replies, extra_ms);
    if (!conn->ctx && remote_conn_connect(conn) != 0)
        return -ENOTCONN;
    if (extra_ms)
        redisSetTimeout(conn->ctx, remote_timeval_ms(conn->cfg.command_timeout_ms + extra_ms));
    remote_sigpipe_block(&guard);
    rc = remote_conn_run_locked(conn, n, cmds, replies, conn->count_error_replies);
    remote_sigpipe_restore(&guard);
    if (extra_ms && conn->ctx)
        redisSetTimeout(conn->ctx, remote_timeval_ms(conn->cfg.command_timeout_ms));
    return rc;
}

int remote_conn_run(struct remote_conn *conn, unsigned n, const struct remote_cmd *cmds,
                    struct redisReply **replies)
{
    return remote_conn_run_slow(conn, n, cmds, replies, 0);
}

static int remote_conn_run_locked(struct remote_conn *conn, unsigned n,
                                  const struct remote_cmd *cmds, struct redisReply **replies,
                                  bool count_errors)
{
    unsigned got = 0;
    int rc = 0;

    if (!conn->ctx && remote_conn_connect(conn) != 0)
        return -ENOTCONN;
    for (unsigned i = 0; i < n; i++)
        if (redisAppendCommandArgv(conn->ctx, cmds[i].argc, (const char **)cmds[i].argv,
                                   cmds[i].argvlen) !=
            REDIS_OK) {
            rc = remote_conn_fail(conn, errno);
            goto out;
        }
    for (got = 0; got < n; got++) {
        void *reply = NULL;

        errno = 0;
        if (redisGetReply(conn->ctx, &reply) != REDIS_OK || !reply) {
            rc = remote_conn_fail(conn, errno);
            goto out;
        }
        replies[got] = reply;
        if (count_errors && ((redisReply *)reply)->type == REDIS_REPLY_ERROR)
            remote_conn_count(conn, REMOTE_CONN_REPLY_ERRORS);
    }
    remote_conn_count(conn, REMOTE_CONN_COMMANDS);
out:
    if (rc)
        for (unsigned i = 0; i < got; i++)
            freeReplyObject(replies[i]);
    return rc;
}

int remote_conn_broadcast(struct remote_conn *conn, const struct remote_cmd *cmd,
                          unsigned *taken)
{
    unsigned ok = 0;
    int rc;

    if (!conn->mode_known && (rc = remote_conn_detect(conn)) != 0)
        return rc;
    if (conn->cluster)
        return remote_cluster_broadcast(conn->cluster, cmd, taken);
    for (unsigned i = 0; i < conn->cfg.endpoint_count; i++) {
        struct remote_conn_config one = conn->cfg;
        struct remote_conn *each;
        redisReply *reply;

        one.endpoints[0] = conn->cfg.endpoints[i];
        one.endpoint_count = 1;
        one.cluster = REMOTE_CLUSTER_OFF;
        each = remote_conn_create(&one);
        if (!each)
            continue;
        remote_conn_lock(each);
        if (remote_conn_run(each, 1, cmd, &reply) == 0) {
            ok += reply->type != REDIS_REPLY_ERROR;
            freeReplyObject(reply);
        }
        remote_conn_unlock(each);
        remote_conn_destroy(each);
    }
    if (taken)
        *taken = ok;
    return ok ? 0 : -EIO;
}

void remote_conn_counters(const struct remote_conn *conn, struct remote_conn_counters *out)
{
    for (int i = 0; i < REMOTE_CONN_COUNTER_COUNT; i++)
        out->c[i] = atomic_load_explicit(&conn->counters[i], memory_order_relaxed);
}
