/*
 * redis_fixture.c - start, stop, pause and restart private redis-servers
 * for tests (redis_fixture.h). Each server is a child process running in
 * the foreground (--daemonize no) in its own temporary directory; the
 * fixture waits for it to answer PING on its socket before returning.
 * A server gets SIGKILL when the test process ends (PR_SET_PDEATHSIG), so
 * a test that fails or is killed half-way leaves no server behind
 * (only its temporary directory).
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

static redisReply *redis_server_command(const struct redis_server *s, int argc,
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
    redisReply *r = redis_server_command(s, argc, words);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;

    if (r)
        freeReplyObject(r);
    return v;
}

int redis_server_ok(const struct redis_server *s, int argc, const char *const *words)
{
    redisReply *r = redis_server_command(s, argc, words);
    int rc = r && r->type != REDIS_REPLY_ERROR ? 0 : -1;

    if (r)
        freeReplyObject(r);
    return rc;
}

/* Wait (5 s at most) until the server answers, and a replica's link is up. */
static int redis_server_wait(const struct redis_server *s)
{
    for (int i = 0; i < 500; i++) {
        redisReply *r = redis_server_command(
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
    char port[16], primary[16], log[200];
    pid_t pid;

    snprintf(port, sizeof(port), "%d", s->port);
    snprintf(primary, sizeof(primary), "%d", s->primary_port);
    snprintf(log, sizeof(log), "%s/redis.log", s->dir);
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

int redis_server_start(struct redis_server *s, const struct redis_server *primary)
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
    if (s->port <= 0) {
        fprintf(stderr, "redis_fixture: no free loopback port\n");
        return -1;
    }
    return redis_server_spawn(s);
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
