/*
 * redis_fixture.h - a private redis-server for the tests of tests/remote:
 * started in a temporary directory (Unix socket DIR/redis.sock, mode 700,
 * a loopback TCP port for replication, no persistence, maxmemory-policy
 * volatile-lru, a password for its default user), optionally a replica of
 * another one, stopped (or killed, paused, restarted empty) on demand.
 * redis-server is a dependency of the project (tools/install-deps.sh): when
 * it is missing, start fails loudly with a message, never skips.
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

#endif
