/*
 * test_remote_conn.c - one Redis connection (src/remote/remote_redis.c)
 * against servers that misbehave in ways a private redis-server cannot
 * be made to on demand: here a Unix socket whose "server" accepts each
 * connection and closes it at once (as a Redis at maxclients, or one
 * shutting down, does).
 *
 * Rule checked: a library must never let SIGPIPE kill its host
 * (remote_redis.h; docs/remote.md, "The connection"): every write the
 * connection makes, the login's AUTH included, runs with SIGPIPE blocked
 * in the calling thread and a SIGPIPE it raised consumed. The test
 * installs a SIGPIPE handler that counts: a write outside the guard would
 * run it (with the default disposition it would kill the test).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "remote/remote_redis.h"

static volatile sig_atomic_t sigpipes;

static void count_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

struct closer {
    int listener;
    atomic_bool stop;
    unsigned accepted;
};

/* Accept every connection and close it at once. */
static void *closer_main(void *arg)
{
    struct closer *cl = arg;

    while (!atomic_load(&cl->stop)) {
        int fd = accept(cl->listener, NULL, NULL);

        if (fd >= 0) {
            close(fd);
            cl->accepted++;
        }
    }
    return NULL;
}

/* The login's AUTH meets a socket the server already closed: -ENOTCONN
 * (a failed connection attempt, counted), never a SIGPIPE. */
static void test_login_on_closed_socket_raises_no_sigpipe(void **state)
{
    struct sigaction sa, old;
    struct sockaddr_un addr;
    struct remote_conn_config cfg;
    struct remote_conn_counters counters;
    struct remote_conn *conn;
    struct remote_cmd ping;
    struct closer cl;
    pthread_t t;
    char dir[] = "/tmp/remote-conn-XXXXXX";
    int attempts = 0;

    (void)state;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = count_sigpipe;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGPIPE, &sa, &old), 0);
    assert_non_null(mkdtemp(dir));
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/closer.sock", dir);
    cl.listener = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(cl.listener >= 0);
    assert_int_equal(bind(cl.listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(cl.listener, 64), 0);
    atomic_init(&cl.stop, false);
    cl.accepted = 0;
    assert_int_equal(pthread_create(&t, NULL, closer_main, &cl), 0);

    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.endpoints[0].unix_path, sizeof(cfg.endpoints[0].unix_path), "%s",
             addr.sun_path);
    cfg.endpoint_count = 1;
    snprintf(cfg.password, sizeof(cfg.password), "a-password"); /* so AUTH is written */
    cfg.backoff_min_ms = 1;
    cfg.backoff_max_ms = 1;
    conn = remote_conn_create(&cfg);
    assert_non_null(conn);
    remote_cmd_words(&ping, 1, (const char *const[]){"PING"});
    /* each attempt connects (the kernel queues it), the closer closes
     * it, and the AUTH written meanwhile or after meets the closed peer */
    for (; attempts < 400 && sigpipes == 0; attempts++) {
        redisReply *reply;

        remote_conn_lock(conn);
        assert_int_equal(remote_conn_run(conn, 1, &ping, &reply), -ENOTCONN);
        remote_conn_unlock(conn);
        usleep(1500); /* past the backoff: the next run connects again */
    }
    remote_conn_counters(conn, &counters);
    remote_conn_destroy(conn);
    atomic_store(&cl.stop, true);
    shutdown(cl.listener, SHUT_RDWR);
    close(cl.listener);
    pthread_join(t, NULL);
    unlink(addr.sun_path);
    rmdir(dir);
    sigaction(SIGPIPE, &old, NULL);
    assert_int_equal(sigpipes, 0);
    assert_true(counters.c[REMOTE_CONN_CONNECT_ERRORS] >= 100); /* it really tried */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_on_closed_socket_raises_no_sigpipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
