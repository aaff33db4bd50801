/*
 * redis_fixture.c - start, stop, pause and restart private redis-servers
 * for tests (redis_fixture.h). Each server is a child process running in
 * the foreground (--daemonize no) in its own temporary directory; the
 * fixture waits for it to answer PING on its socket before returning.
 * A server gets SIGKILL when the test process ends (PR_SET_PDEATHSIG), so
 * a test that fails or is killed half-way leaves no server behind
 * (only its temporary directory). A cluster is three servers started
 * with cluster mode on and joined by hand (faster and more predictable
 * than redis-cli --cluster create, which sleeps between its steps).
 */
#include "redis_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REDIS_SERVER_BINARY "/usr/bin/redis-server"

static int redis_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

struct redisReply *redis_server_reply(const struct redis_server *s, int argc,
                                      const char *const *words)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectUnixWithTimeout(s->socket, tv);
    redisReply *r = NULL;

    if (!c || c->err)
        goto out;
    redisSetTimeout(c, tv);
    r = redisCommand(c, "AUTH %s", REDIS_FIXTURE_PASSWORD);
    if (!r || r->type == REDIS_REPLY_ERROR) {
        if (r)
            freeReplyObject(r);
        r = NULL;
        goto out;
    }
    freeReplyObject(r);
    r = redisCommandArgv(c, argc, (const char **)words, NULL);
out:
    if (c)
        redisFree(c);
    return r;
}

long long redis_server_int(const struct redis_server *s, int argc, const char *const *words)
{
    redisReply *r = redis_server_reply(s, argc, words);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;

    if (r)
        freeReplyObject(r);
    return v;
}

int redis_server_ok(const struct redis_server *s, int argc, const char *const *words)
{
    redisReply *r = redis_server_reply(s, argc, words);
    int rc = r && r->type != REDIS_REPLY_ERROR ? 0 : -1;

    if (r)
        freeReplyObject(r);
    return rc;
}

/* Wait (5 s at most) until the server answers, and a replica's link is up. */
static int redis_server_wait(const struct redis_server *s)
{
    for (int i = 0; i < 500; i++) {
        redisReply *r = redis_server_reply(
            s, 2, (const char *const[]){"INFO", "replication"});
        bool ready = r && r->type == REDIS_REPLY_STRING &&
                     (!s->primary_port || strstr(r->str, "master_link_status:up"));

        if (r)
            freeReplyObject(r);
        if (ready)
            return 0;
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            fprintf(stderr, "redis_fixture: redis-server exited at start (see %s/redis.log)\n",
                    s->dir);
            return -1;
        }
        usleep(10000);
    }
    fprintf(stderr, "redis_fixture: redis-server did not answer within 5 s (%s)\n", s->dir);
    return -1;
}

static int redis_server_spawn(struct redis_server *s)
{
    char port[16], primary[16], log[200], bus[16], nodes_conf[200];
    pid_t pid;

    snprintf(port, sizeof(port), "%d", s->port);
    snprintf(primary, sizeof(primary), "%d", s->primary_port);
    snprintf(log, sizeof(log), "%s/redis.log", s->dir);
    snprintf(bus, sizeof(bus), "%d", s->bus_port);
    snprintf(nodes_conf, sizeof(nodes_conf), "%s/nodes.conf", s->dir);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        const char *argv[40];
        int n = 0;

        argv[n++] = REDIS_SERVER_BINARY;
        argv[n++] = "--port";           argv[n++] = port;
        argv[n++] = "--bind";           argv[n++] = "127.0.0.1";
        argv[n++] = "--unixsocket";     argv[n++] = s->socket;
        argv[n++] = "--unixsocketperm"; argv[n++] = "700";
        argv[n++] = "--save";           argv[n++] = "";
        argv[n++] = "--appendonly";     argv[n++] = "no";
        argv[n++] = "--dir";            argv[n++] = s->dir;
        argv[n++] = "--logfile";        argv[n++] = log;
        argv[n++] = "--daemonize";      argv[n++] = "no";
        argv[n++] = "--maxmemory-policy"; argv[n++] = "volatile-lru";
        argv[n++] = "--requirepass";    argv[n++] = REDIS_FIXTURE_PASSWORD;
        argv[n++] = "--repl-diskless-sync-delay"; argv[n++] = "0";
        if (s->primary_port) {
            argv[n++] = "--replicaof"; argv[n++] = "127.0.0.1"; argv[n++] = primary;
            argv[n++] = "--masterauth"; argv[n++] = REDIS_FIXTURE_PASSWORD;
        }
        if (s->bus_port) {
            argv[n++] = "--cluster-enabled"; argv[n++] = "yes";
            argv[n++] = "--cluster-config-file"; argv[n++] = nodes_conf;
            argv[n++] = "--cluster-port"; argv[n++] = bus;
            argv[n++] = "--cluster-node-timeout"; argv[n++] = "5000";
            argv[n++] = "--masterauth"; argv[n++] = REDIS_FIXTURE_PASSWORD;
            /* CLUSTER SLOTS lists a replica once its replication offset
             * is not 0: an idle master's pings move it (10 s by default) */
            argv[n++] = "--repl-ping-replica-period"; argv[n++] = "1";
        }
        argv[n] = NULL;
        /* dies with the test, even one killed or failed half-way */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(127);
        /* not the test's stdout: a runner reading it must see EOF */
        int null_fd = open("/dev/null", O_RDWR);
        if (null_fd >= 0) {
            dup2(null_fd, 0);
            dup2(null_fd, 1);
            dup2(null_fd, 2);
        }
        execv(REDIS_SERVER_BINARY, (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    return redis_server_wait(s);
}

static int redis_server_start_mode(struct redis_server *s, const struct redis_server *primary,
                                   bool cluster)
{
    memset(s, 0, sizeof(*s));
    if (access(REDIS_SERVER_BINARY, X_OK) != 0) {
        fprintf(stderr, "redis_fixture: %s not found: redis-server is a dependency "
                        "(tools/install-deps.sh installs it)\n", REDIS_SERVER_BINARY);
        return -1;
    }
    snprintf(s->dir, sizeof(s->dir), "/tmp/tmem-redis-XXXXXX");
    if (!mkdtemp(s->dir)) {
        fprintf(stderr, "redis_fixture: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    snprintf(s->socket, sizeof(s->socket), "%s/redis.sock", s->dir);
    s->port = redis_free_port();
    s->primary_port = primary ? primary->port : 0;
    if (cluster)
        s->bus_port = redis_free_port();
    if (s->port <= 0 || (cluster && (s->bus_port <= 0 || s->bus_port == s->port))) {
        fprintf(stderr, "redis_fixture: no free loopback port\n");
        return -1;
    }
    return redis_server_spawn(s);
}

int redis_server_start(struct redis_server *s, const struct redis_server *primary)
{
    return redis_server_start_mode(s, primary, false);
}

int redis_server_restart(struct redis_server *s)
{
    if (s->pid)
        redis_server_stop(s, false);
    return redis_server_spawn(s);
}

void redis_server_stop(struct redis_server *s, bool kill_it)
{
    if (!s->pid)
        return;
    kill(s->pid, SIGCONT);
    kill(s->pid, kill_it ? SIGKILL : SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

void redis_server_pause(struct redis_server *s, bool pause)
{
    if (s->pid)
        kill(s->pid, pause ? SIGSTOP : SIGCONT);
}

void redis_server_destroy(struct redis_server *s)
{
    char cmd[200];

    redis_server_stop(s, false);
    if (s->dir[0] && strncmp(s->dir, "/tmp/tmem-redis-", 16) == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "redis_fixture: could not remove %s\n", s->dir);
    }
}

void redis_server_endpoint(const struct redis_server *s, struct remote_endpoint *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->unix_path, sizeof(out->unix_path), "%s", s->socket);
}

void redis_server_tcp_endpoint(const struct redis_server *s, struct remote_endpoint *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->host, sizeof(out->host), "127.0.0.1");
    out->port = s->port;
}

/* ------------------------------------------------------------ cluster */

#define REDIS_CLUSTER_SLOT_COUNT 16384

/* Whether node s's slot map lists the replica (beside node 0, on the
 * range of node 0). */
static bool redis_cluster_node_sees_replica(const struct redis_server *s)
{
    redisReply *r = redis_server_reply(s, 2, (const char *const[]){"CLUSTER", "SLOTS"});
    bool seen = false;

    for (size_t k = 0; r && r->type == REDIS_REPLY_ARRAY && k < r->elements; k++)
        if (r->element[k]->type == REDIS_REPLY_ARRAY && r->element[k]->elements >= 4 &&
            r->element[k]->element[0]->integer == 0)
            seen = true;
    if (r)
        freeReplyObject(r);
    return seen;
}

/* Whether node s's CLUSTER INFO says ok and it knows every node. */
static bool redis_cluster_node_ready(const struct redis_server *s)
{
    redisReply *r = redis_server_reply(s, 2, (const char *const[]){"CLUSTER", "INFO"});
    char known[40];
    bool ready;

    snprintf(known, sizeof(known), "cluster_known_nodes:%d", REDIS_CLUSTER_NODES + 1);
    ready = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok") &&
            strstr(r->str, known);
    if (r)
        freeReplyObject(r);
    return ready;
}

int redis_cluster_start(struct redis_cluster *c)
{
    char first[16], last[16], port[16], bus[16], epoch[16];
    bool replica_asked = false;

    memset(c, 0, sizeof(*c));
    for (int i = 0; i <= REDIS_CLUSTER_NODES; i++) {
        redisReply *r;

        if (redis_server_start_mode(&c->node[i], NULL, true) != 0)
            goto fail;
        r = redis_server_reply(&c->node[i], 2, (const char *const[]){"CLUSTER", "MYID"});
        if (!r || r->type != REDIS_REPLY_STRING || r->len >= sizeof(c->id[i])) {
            fprintf(stderr, "redis_fixture: CLUSTER MYID failed on node %d\n", i);
            if (r)
                freeReplyObject(r);
            goto fail;
        }
        memcpy(c->id[i], r->str, r->len);
        freeReplyObject(r);
        if (i == REDIS_CLUSTER_REPLICA)
            break;
        snprintf(first, sizeof(first), "%d", i * REDIS_CLUSTER_SLOT_COUNT / REDIS_CLUSTER_NODES);
        snprintf(last, sizeof(last), "%d",
                 (i + 1) * REDIS_CLUSTER_SLOT_COUNT / REDIS_CLUSTER_NODES - 1);
        snprintf(epoch, sizeof(epoch), "%d", i + 1);
        if (redis_server_ok(&c->node[i], 3,
                            (const char *const[]){"CLUSTER", "SET-CONFIG-EPOCH", epoch}) != 0 ||
            redis_server_ok(&c->node[i], 4,
                            (const char *const[]){"CLUSTER", "ADDSLOTSRANGE", first, last}) !=
                0) {
            fprintf(stderr, "redis_fixture: could not give slots %s-%s to node %d\n", first,
                    last, i);
            goto fail;
        }
    }
    for (int i = 1; i <= REDIS_CLUSTER_NODES; i++) {
        snprintf(port, sizeof(port), "%d", c->node[i].port);
        snprintf(bus, sizeof(bus), "%d", c->node[i].bus_port);
        if (redis_server_ok(&c->node[0], 5,
                            (const char *const[]){"CLUSTER", "MEET", "127.0.0.1", port, bus}) !=
            0) {
            fprintf(stderr, "redis_fixture: CLUSTER MEET of node %d failed\n", i);
            goto fail;
        }
    }
    for (int tries = 0; tries < 2000; tries++) {
        bool ready = true;
        redisReply *r;

        for (int i = 0; i <= REDIS_CLUSTER_NODES && ready; i++)
            ready = redis_cluster_node_ready(&c->node[i]);
        if (ready && !replica_asked) {
            /* the replica knows its master now: follow it */
            replica_asked = redis_server_ok(&c->node[REDIS_CLUSTER_REPLICA], 3,
                                            (const char *const[]){"CLUSTER", "REPLICATE",
                                                                  c->id[0]}) == 0;
            ready = false;
        }
        if (ready) {
            r = redis_server_reply(&c->node[REDIS_CLUSTER_REPLICA], 2,
                                   (const char *const[]){"INFO", "replication"});
            ready = r && r->type == REDIS_REPLY_STRING &&
                    strstr(r->str, "master_link_status:up");
            if (r)
                freeReplyObject(r);
        }
        for (int i = 0; i <= REDIS_CLUSTER_NODES && ready; i++)
            ready = redis_cluster_node_sees_replica(&c->node[i]);
        if (ready)
            return 0;
        usleep(10000);
    }
    fprintf(stderr, "redis_fixture: the cluster was not ok within 20 s (%s, %s, %s, %s)\n",
            c->node[0].dir, c->node[1].dir, c->node[2].dir, c->node[3].dir);
fail:
    redis_cluster_destroy(c);
    return -1;
}

void redis_cluster_destroy(struct redis_cluster *c)
{
    for (int i = 0; i <= REDIS_CLUSTER_NODES; i++)
        if (c->node[i].dir[0])
            redis_server_destroy(&c->node[i]);
}

int redis_cluster_wait_failover(const struct redis_cluster *c)
{
    for (int tries = 0; tries < 1500; tries++) {
        redisReply *r = redis_server_reply(&c->node[REDIS_CLUSTER_REPLICA], 2,
                                           (const char *const[]){"INFO", "replication"});
        bool promoted = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "role:master");

        if (r)
            freeReplyObject(r);
        if (promoted) {
            r = redis_server_reply(&c->node[1], 2, (const char *const[]){"CLUSTER", "INFO"});
            promoted = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok");
            if (r)
                freeReplyObject(r);
        }
        if (promoted)
            return 0;
        usleep(10000);
    }
    fprintf(stderr, "redis_fixture: the replica did not take over within 15 s\n");
    return -1;
}

int redis_cluster_slot_owner(const struct redis_cluster *c, unsigned ask, unsigned slot)
{
    redisReply *r = redis_server_reply(&c->node[ask], 2, (const char *const[]){"CLUSTER", "SLOTS"});
    int owner = -1;

    for (size_t k = 0; r && r->type == REDIS_REPLY_ARRAY && k < r->elements; k++) {
        const redisReply *range = r->element[k];

        if (range->elements >= 3 && (long long)slot >= range->element[0]->integer &&
            (long long)slot <= range->element[1]->integer)
            for (int i = 0; i <= REDIS_CLUSTER_NODES; i++)
                if (range->element[2]->element[1]->integer == c->node[i].port)
                    owner = i;
    }
    if (r)
        freeReplyObject(r);
    return owner;
}

int redis_cluster_migrate_begin(struct redis_cluster *c, unsigned slot, unsigned from, unsigned to)
{
    char text[16];

    snprintf(text, sizeof(text), "%u", slot);
    if (redis_server_ok(&c->node[to], 5,
                        (const char *const[]){"CLUSTER", "SETSLOT", text, "IMPORTING",
                                              c->id[from]}) != 0 ||
        redis_server_ok(&c->node[from], 5,
                        (const char *const[]){"CLUSTER", "SETSLOT", text, "MIGRATING",
                                              c->id[to]}) != 0) {
        fprintf(stderr, "redis_fixture: could not mark slot %u migrating\n", slot);
        return -1;
    }
    return 0;
}

int redis_cluster_migrate_finish(struct redis_cluster *c, unsigned slot, unsigned from,
                                 unsigned to)
{
    char text[16], port[16];

    snprintf(text, sizeof(text), "%u", slot);
    snprintf(port, sizeof(port), "%d", c->node[to].port);
    for (;;) {
        redisReply *keys = redis_server_reply(
            &c->node[from], 4, (const char *const[]){"CLUSTER", "GETKEYSINSLOT", text, "100"});
        const char *words[120];
        int n = 0, rc;

        if (!keys || keys->type != REDIS_REPLY_ARRAY) {
            if (keys)
                freeReplyObject(keys);
            fprintf(stderr, "redis_fixture: GETKEYSINSLOT %u failed\n", slot);
            return -1;
        }
        if (keys->elements == 0) {
            freeReplyObject(keys);
            break;
        }
        words[n++] = "MIGRATE";
        words[n++] = "127.0.0.1";
        words[n++] = port;
        words[n++] = "";
        words[n++] = "0";
        words[n++] = "5000";
        words[n++] = "AUTH";
        words[n++] = REDIS_FIXTURE_PASSWORD;
        words[n++] = "KEYS";
        for (size_t k = 0; k < keys->elements && k < 100; k++)
            words[n++] = keys->element[k]->str;
        rc = redis_server_ok(&c->node[from], n, words);
        freeReplyObject(keys);
        if (rc != 0) {
            fprintf(stderr, "redis_fixture: MIGRATE of slot %u failed\n", slot);
            return -1;
        }
    }
    for (int i = 0; i < REDIS_CLUSTER_NODES; i++) {
        unsigned who = i == 0 ? to : i == 1 ? from : 3 - to - from;

        if (redis_server_ok(&c->node[who], 5,
                            (const char *const[]){"CLUSTER", "SETSLOT", text, "NODE",
                                                  c->id[to]}) != 0) {
            fprintf(stderr, "redis_fixture: SETSLOT %u NODE failed on node %u\n", slot, who);
            return -1;
        }
    }
    return 0;
}
