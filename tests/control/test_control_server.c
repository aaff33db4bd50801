/*
 * test_control_server.c - the control socket's server
 * (src/control/control_server.c) over a real socket in a temporary
 * folder, with a small command table (count: adds 1 to a counter; echo;
 * fail). Rules checked, one test each:
 *  - the socket is made mode 0600; a request is answered with its id;
 *    an error of the command comes back as an error reply;
 *  - unknown commands and missing / unknown / wrong-typed arguments are
 *    refused naming them, and the command does not run;
 *  - a client that says nothing is closed after the idle timeout (an
 *    error reply, then end of file) while another is served;
 *  - a client that disconnects mid-message changes nothing, and the
 *    server serves the next;
 *  - a message longer than CONTROL_MESSAGE_MAX gets "message too long"
 *    and the connection is closed; nothing ran;
 *  - two clients at once are each answered;
 *  - more than CONTROL_SERVER_MAX_CLIENTS: the one over gets "too many
 *    clients";
 *  - a stream (every) sends a reply per period with the request's id;
 *  - a stale socket is replaced; a live one is refused ("another process
 *    serves PATH").
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/control_client.h"
#include "control/control_server.h"

struct fixture {
    char dir[64], path[128];
    atomic_int count;
    struct control_server *s;
};

static int cmd_count(void *ctx, const json_t *args, json_t **result, char *err, size_t errlen)
{
    struct fixture *f = ctx;
    int n = atomic_fetch_add(&f->count, 1) + 1;

    *result = json_pack("{s:i}", "count", n);
    return 0;
}

static int cmd_echo(void *ctx, const json_t *args, json_t **result, char *err, size_t errlen)
{
    *result = json_deep_copy(args);
    return 0;
}

static int cmd_fail(void *ctx, const json_t *args, json_t **result, char *err, size_t errlen)
{
    snprintf(err, errlen, "it failed on purpose");
    return -EIO;
}

static const struct control_arg count_args[] = {
    {"guest", CONTROL_ARG_STRING, true}, {"n", CONTROL_ARG_INTEGER, false}};

static const struct control_command commands[] = {
    {"count", "GUEST [N]", cmd_count, count_args, 2, true},
    {"echo", "", cmd_echo, NULL, 0, false},
    {"fail", "", cmd_fail, NULL, 0, false},
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct control_server_config cfg = {0};
    char err[256];

    snprintf(f->dir, sizeof(f->dir), "/tmp/ctl-test.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/s.sock", f->dir);
    atomic_init(&f->count, 0);
    cfg.path = f->path;
    cfg.commands = commands;
    cfg.ncommands = 3;
    cfg.ctx = f;
    cfg.idle_timeout_s = 0.5;
    assert_int_equal(control_server_start(&cfg, &f->s, err, sizeof(err)), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    control_server_stop(f->s);
    assert_int_equal(access(f->path, F_OK), -1); /* removed */
    rmdir(f->dir);
    free(f);
    return 0;
}

static void conn(struct fixture *f, struct control_connection *c)
{
    char err[256];

    assert_int_equal(control_connect(c, f->path, err, sizeof(err)), 0);
}

/* Send line, read one reply into *r. */
static void call_raw(struct control_connection *c, const char *line, struct control_reply *r)
{
    char err[256];

    assert_int_equal(control_send_line(c, line, strlen(line)), 0);
    assert_int_equal(control_read_reply(c, 5000, r, err, sizeof(err)), 0);
}

static void expect_error(struct control_connection *c, const char *line, const char *want)
{
    struct control_reply r;

    call_raw(c, line, &r);
    assert_false(r.ok);
    if (!strstr(r.error, want))
        fail_msg("%s: error \"%s\" does not say \"%s\"", line, r.error, want);
    control_reply_free(&r);
}

static void test_request_and_mode(void **state)
{
    struct fixture *f = *state;
    struct control_connection c;
    struct control_reply r;
    struct stat st;

    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    conn(f, &c);
    call_raw(&c, "{\"tmemctl\":1,\"id\":17,\"command\":\"count\",\"guest\":\"a\"}\n", &r);
    assert_true(r.ok);
    assert_int_equal(r.id, 17);
    assert_int_equal(json_integer_value(json_object_get(r.result, "count")), 1);
    control_reply_free(&r);
    expect_error(&c, "{\"tmemctl\":1,\"id\":18,\"command\":\"fail\"}\n", "it failed on purpose");
    control_disconnect(&c);
}

static void test_refused_requests_change_nothing(void **state)
{
    struct fixture *f = *state;
    struct control_connection c;

    conn(f, &c);
    expect_error(&c, "{\"tmemctl\":1,\"id\":1,\"command\":\"counts\"}\n",
                 "unknown command \"counts\" (commands: count, echo, fail)");
    expect_error(&c, "{\"tmemctl\":1,\"id\":2,\"command\":\"count\"}\n",
                 "count: missing argument \"guest\" (usage: count GUEST [N])");
    expect_error(&c, "{\"tmemctl\":1,\"id\":3,\"command\":\"count\",\"guest\":\"a\",\"x\":1}\n",
                 "unknown argument \"x\"");
    expect_error(&c, "{\"tmemctl\":1,\"id\":4,\"command\":\"count\",\"guest\":\"a\",\"n\":\"2\"}\n",
                 "argument \"n\" must be an integer");
    expect_error(&c, "{\"tmemctl\":1,\"id\":5,\"command\":\"count\",\"guest\":\"a\",\"every\":0}\n",
                 "argument \"every\" must be a number of seconds");
    expect_error(&c, "{\"tmemctl\":1,\"id\":6,\"command\":\"echo\",\"every\":1}\n",
                 "unknown argument \"every\"");
    expect_error(&c, "{\"tmemctl\":3,\"id\":7,\"command\":\"count\",\"guest\":\"a\"}\n",
                 "protocol version 3 not supported");
    expect_error(&c, "not json\n", "not JSON");
    assert_int_equal(atomic_load(&f->count), 0);
    control_disconnect(&c);
}

static void test_idle_client_closed(void **state)
{
    struct fixture *f = *state;
    struct control_connection idle, busy;
    struct control_reply r;
    char err[256];

    conn(f, &idle);
    conn(f, &busy);
    /* the busy one is served while the idle one waits */
    call_raw(&busy, "{\"tmemctl\":1,\"id\":1,\"command\":\"echo\"}\n", &r);
    assert_true(r.ok);
    control_reply_free(&r);
    assert_int_equal(control_read_reply(&idle, 3000, &r, err, sizeof(err)), 0);
    assert_false(r.ok);
    assert_non_null(strstr(r.error, "idle for"));
    control_reply_free(&r);
    assert_int_equal(control_read_reply(&idle, 3000, &r, err, sizeof(err)), -ECONNRESET);
    control_disconnect(&idle);
    control_disconnect(&busy);
}

static void test_mid_message_disconnect(void **state)
{
    struct fixture *f = *state;
    struct control_connection c;
    struct control_reply r;
    const char *half = "{\"tmemctl\":1,\"id\":1,\"command\":\"count\",\"guest\":\"a\"";

    conn(f, &c);
    assert_int_equal(control_send_line(&c, half, strlen(half)), 0);
    control_disconnect(&c);
    usleep(100 * 1000);
    conn(f, &c);
    call_raw(&c, "{\"tmemctl\":1,\"id\":2,\"command\":\"echo\"}\n", &r);
    assert_true(r.ok);
    control_reply_free(&r);
    assert_int_equal(atomic_load(&f->count), 0);
    control_disconnect(&c);
}

static void test_oversize_message(void **state)
{
    struct fixture *f = *state;
    struct control_connection c;
    struct control_reply r;
    size_t n = CONTROL_MESSAGE_MAX + 100;
    char *big = malloc(n), err[256];
    int rc;

    memset(big, ' ', n);
    memcpy(big, "{\"tmemctl\":1,\"id\":1,\"command\":\"count\",\"guest\":\"a\"", 48);
    conn(f, &c);
    /* the server may close while we still send: a failed send is fine */
    (void)control_send_line(&c, big, n);
    rc = control_read_reply(&c, 3000, &r, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_false(r.ok);
    assert_non_null(strstr(r.error, "message too long"));
    control_reply_free(&r);
    assert_int_equal(control_read_reply(&c, 3000, &r, err, sizeof(err)), -ECONNRESET);
    assert_int_equal(atomic_load(&f->count), 0);
    control_disconnect(&c);
    free(big);
}

static void test_two_clients_and_too_many(void **state)
{
    struct fixture *f = *state;
    struct control_connection c[CONTROL_SERVER_MAX_CLIENTS + 1];
    struct control_reply r;
    char err[256];

    for (int i = 0; i < CONTROL_SERVER_MAX_CLIENTS; i++)
        conn(f, &c[i]);
    /* two requests sent before either reply is read */
    assert_int_equal(control_send_line(&c[0], "{\"tmemctl\":1,\"id\":10,\"command\":\"echo\"}\n", 40), 0);
    assert_int_equal(control_send_line(&c[1], "{\"tmemctl\":1,\"id\":11,\"command\":\"echo\"}\n", 40), 0);
    assert_int_equal(control_read_reply(&c[1], 3000, &r, err, sizeof(err)), 0);
    assert_true(r.ok && r.id == 11);
    control_reply_free(&r);
    assert_int_equal(control_read_reply(&c[0], 3000, &r, err, sizeof(err)), 0);
    assert_true(r.ok && r.id == 10);
    control_reply_free(&r);
    /* one over the limit */
    conn(f, &c[CONTROL_SERVER_MAX_CLIENTS]);
    assert_int_equal(control_read_reply(&c[CONTROL_SERVER_MAX_CLIENTS], 3000, &r, err,
                                        sizeof(err)), 0);
    assert_false(r.ok);
    assert_non_null(strstr(r.error, "too many clients"));
    control_reply_free(&r);
    for (int i = 0; i <= CONTROL_SERVER_MAX_CLIENTS; i++)
        control_disconnect(&c[i]);
}

static void test_stream(void **state)
{
    struct fixture *f = *state;
    struct control_connection c;
    struct control_reply r;
    char err[256];

    conn(f, &c);
    call_raw(&c, "{\"tmemctl\":1,\"id\":5,\"command\":\"count\",\"guest\":\"a\",\"every\":0.1}\n",
             &r);
    assert_true(r.ok);
    control_reply_free(&r);
    for (int i = 2; i <= 4; i++) {
        assert_int_equal(control_read_reply(&c, 2000, &r, err, sizeof(err)), 0);
        assert_true(r.ok);
        assert_int_equal(r.id, 5);
        assert_int_equal(json_integer_value(json_object_get(r.result, "count")), i);
        control_reply_free(&r);
    }
    control_disconnect(&c);
}

static void test_stale_and_live_socket(void **state)
{
    struct fixture *f = *state;
    struct control_server_config cfg = {0};
    struct control_server *s2 = NULL;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char path[160], err[256];
    int fd;

    /* live: refused */
    cfg.path = f->path;
    cfg.commands = commands;
    cfg.ncommands = 3;
    cfg.ctx = f;
    assert_int_equal(control_server_start(&cfg, &s2, err, sizeof(err)), -EADDRINUSE);
    assert_non_null(strstr(err, "another process serves"));
    assert_null(s2);
    /* stale: a bound socket nobody listens on */
    snprintf(path, sizeof(path), "%s/stale.sock", f->dir);
    memcpy(sa.sun_path, path, strlen(path));
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    cfg.path = path;
    assert_int_equal(control_server_start(&cfg, &s2, err, sizeof(err)), 0);
    control_server_stop(s2);
    /* anything else at the path: refused */
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    close(fd);
    assert_int_equal(control_server_start(&cfg, &s2, err, sizeof(err)), -EEXIST);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_request_and_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_requests_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_client_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mid_message_disconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversize_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_clients_and_too_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_and_live_socket, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
