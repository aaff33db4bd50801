/*
 * control_server.c - the control socket's server (control_server.h).
 *
 * Models: the operator's door into a running program: one listening Unix
 * socket, a few clients, each sending requests and reading replies.
 *
 * Data structures: struct control_server: the configuration (copied),
 * the listening descriptor, a self-pipe that wakes the thread for stop,
 * and a fixed array of CONTROL_SERVER_MAX_CLIENTS clients, each with its
 * input buffer (CONTROL_MESSAGE_MAX bytes), the time of its last byte
 * and, while it streams, the command, arguments and next due time.
 *
 * Threads and locking: one thread runs everything (poll over the pipe,
 * the listening socket and the clients, with a timeout to the next idle
 * deadline or stream period) and calls the command functions; the
 * structure is touched by no other thread between start and stop, so it
 * has no lock. Lock order: whatever the command functions take (the
 * program's locks) is taken in this thread with nothing of the server's
 * held.
 */
#include "control/control_server.h"

#include "common/error_text.h"
#include "common/ticker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* How long a reply may wait for a client to read, in ms. */
#define CONTROL_SEND_TIMEOUT_MS 1000
#define CONTROL_EVERY_MIN_S 0.1
#define CONTROL_EVERY_MAX_S 3600.0

struct control_client {
    int fd;                     /* -1: free slot */
    char *buf;                  /* CONTROL_MESSAGE_MAX bytes */
    size_t len;
    double last_byte_s;         /* when it last sent something (or connected) */
    const struct control_command *stream_cmd; /* streaming: NULL when not */
    json_t *stream_args;
    int64_t stream_id;
    double every_s, next_stream_s;
};

struct control_server {
    struct control_server_config cfg;
    char *path;
    int listen_fd;
    int wake[2];
    pthread_t thread;
    bool started;
    struct timespec t0;
    struct control_client clients[CONTROL_SERVER_MAX_CLIENTS];
};

/* ------------------------------------------------------------ paths */

int control_default_path(const char *name, bool create_dir, char *path, size_t len,
                         char *err, size_t errlen)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    char dir[256];
    struct stat st;
    uid_t uid = geteuid();

    if (xdg && *xdg)
        snprintf(dir, sizeof(dir), "%s", xdg);
    else if (uid == 0)
        snprintf(dir, sizeof(dir), "/run/tmem");
    else
        snprintf(dir, sizeof(dir), "/tmp/tmem-%u", (unsigned)uid);
    if ((size_t)snprintf(path, len, "%s/%s.sock", dir, name) >= len) {
        error_text_set(err, errlen, "socket path %s/%s.sock too long", dir, name);
        return -ENAMETOOLONG;
    }
    if (xdg && *xdg)
        return 0;
    if (create_dir && mkdir(dir, 0700) < 0 && errno != EEXIST) {
        int e = errno;

        error_text_set(err, errlen, "cannot create %s: %s", dir, strerror(e));
        return -e;
    }
    if (!create_dir)
        return 0;
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid ||
        (st.st_mode & 077)) {
        error_text_set(err, errlen, "%s is not a folder of uid %u closed to others: not used "
                       "for the control socket", dir, (unsigned)uid);
        return -EPERM;
    }
    return 0;
}

/* Bind fd at path (mode 0600), replacing a stale socket. 0 or -errno. */
static int control_bind(int fd, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    struct stat st;
    mode_t old;
    int rc, e;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        error_text_set(err, errlen, "socket path %s too long (at most %zu bytes)", path,
                       sizeof(sa.sun_path) - 1);
        return -ENAMETOOLONG;
    }
    memcpy(sa.sun_path, path, strlen(path));
    (void)fchmod(fd, 0600); /* Linux gives the socket file this mode, less the umask */
    for (int attempt = 0; attempt < 2; attempt++) {
        old = umask(0177);
        rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
        e = errno;
        umask(old);
        if (rc == 0)
            break;
        if (e != EADDRINUSE || attempt > 0) {
            error_text_set(err, errlen, "cannot bind the control socket %s: %s", path,
                           strerror(e));
            return -e;
        }
        /* Something is there: a live server, a stale socket, or another file. */
        if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
            error_text_set(err, errlen, "%s exists and is not a socket", path);
            return -EEXIST;
        }
        {
            int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            int c = probe < 0 ? -1 : connect(probe, (struct sockaddr *)&sa, sizeof(sa));
            int ce = errno;

            if (probe >= 0)
                close(probe);
            if (c == 0) {
                error_text_set(err, errlen, "another process serves %s", path);
                return -EADDRINUSE;
            }
            if (ce != ECONNREFUSED) {
                error_text_set(err, errlen, "%s: cannot tell whether it is in use: %s", path,
                               strerror(ce));
                return -ce;
            }
        }
        if (unlink(path) < 0 && errno != ENOENT) {
            e = errno;
            error_text_set(err, errlen, "cannot remove the stale socket %s: %s", path,
                           strerror(e));
            return -e;
        }
    }
    if (chmod(path, 0600) < 0) {
        e = errno;
        unlink(path);
        error_text_set(err, errlen, "cannot set the mode of %s: %s", path, strerror(e));
        return -e;
    }
    return 0;
}

/* ------------------------------------------------------------ clients */

static double control_now(const struct control_server *s)
{
    return ticker_seconds_since(&s->t0);
}

static void control_client_close(struct control_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->len = 0;
    json_decref(c->stream_args);
    c->stream_args = NULL;
    c->stream_cmd = NULL;
}

/* Write all of line to fd (non-blocking socket; waits for room up to
 * CONTROL_SEND_TIMEOUT_MS in all). 0 or -1. */
static int control_send_fd(int fd, const char *line)
{
    size_t len = strlen(line), done = 0;
    int waited = 0;

    while (done < len) {
        ssize_t n = send(fd, line + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
            waited < CONTROL_SEND_TIMEOUT_MS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};

            (void)poll(&p, 1, 50);
            waited += 50;
            continue;
        }
        return -1;
    }
    return 0;
}

/* Send a line (freed) to c; a client that cannot take it is closed.
 * line NULL (out of memory) closes it too. */
static void control_send(struct control_client *c, char *line)
{
    if (!line || control_send_fd(c->fd, line) != 0)
        control_client_close(c);
    free(line);
}

static const struct control_command *control_find(const struct control_server *s,
                                                  const char *name)
{
    for (size_t i = 0; i < s->cfg.ncommands; i++)
        if (!strcmp(s->cfg.commands[i].name, name))
            return &s->cfg.commands[i];
    return NULL;
}

/* "unknown command "x" (commands: a, b, ...)" */
static void control_unknown(const struct control_server *s, const char *name, char *err,
                            size_t errlen)
{
    size_t n = (size_t)snprintf(err, errlen, "unknown command \"%s\" (commands:", name);

    for (size_t i = 0; i < s->cfg.ncommands && n < errlen; i++)
        n += (size_t)snprintf(err + n, errlen - n, "%s %s", i ? "," : "",
                              s->cfg.commands[i].name);
    if (n < errlen)
        snprintf(err + n, errlen - n, ")");
}

/* Run cmd and send its reply to c. */
static void control_run(struct control_server *s, struct control_client *c,
                        const struct control_command *cmd, int64_t id, const json_t *args)
{
    char err[1024] = "";
    json_t *result = NULL;
    int rc = cmd->fn(s->cfg.ctx, args, &result, err, sizeof(err));

    if (rc != 0) {
        json_decref(result);
        control_send(c, control_reply_error(id, err[0] ? err : strerror(-rc)));
    } else {
        control_send(c, control_reply_ok(id, result));
    }
}

/* One complete line from c. */
static void control_handle_line(struct control_server *s, struct control_client *c,
                                const char *line, size_t len)
{
    struct control_request req;
    const struct control_command *cmd;
    json_t *every;
    double every_s = 0;
    char err[1024];

    /* any request ends a stream */
    json_decref(c->stream_args);
    c->stream_args = NULL;
    c->stream_cmd = NULL;
    if (control_request_parse(line, len, &req, err, sizeof(err)) != 0) {
        control_send(c, control_reply_error(req.id, err));
        return;
    }
    cmd = control_find(s, req.command);
    if (!cmd) {
        control_unknown(s, req.command, err, sizeof(err));
        control_send(c, control_reply_error(req.id, err));
        goto out;
    }
    every = json_object_get(req.args, "every");
    if (every && cmd->stream) {
        every_s = json_is_number(every) ? json_number_value(every) : -1;
        if (!(every_s >= CONTROL_EVERY_MIN_S && every_s <= CONTROL_EVERY_MAX_S)) {
            snprintf(err, sizeof(err), "argument \"every\" must be a number of seconds from "
                     "%.1f to %.0f", CONTROL_EVERY_MIN_S, CONTROL_EVERY_MAX_S);
            control_send(c, control_reply_error(req.id, err));
            goto out;
        }
        json_object_del(req.args, "every");
    }
    if (control_args_check(req.args, cmd->args, cmd->nargs, err, sizeof(err)) != 0) {
        char msg[1200];

        snprintf(msg, sizeof(msg), "%s: %s (usage: %s%s%s)", cmd->name, err, cmd->name,
                 cmd->args_help && *cmd->args_help ? " " : "",
                 cmd->args_help ? cmd->args_help : "");
        control_send(c, control_reply_error(req.id, msg));
        goto out;
    }
    control_run(s, c, cmd, req.id, req.args);
    if (every_s > 0 && c->fd >= 0) {
        c->stream_cmd = cmd;
        c->stream_args = json_incref(req.args);
        c->stream_id = req.id;
        c->every_s = every_s;
        c->next_stream_s = control_now(s) + every_s;
    }
out:
    control_request_free(&req);
}

/* Read what c sent; handle every complete line. */
static void control_client_read(struct control_server *s, struct control_client *c)
{
    ssize_t n = read(c->fd, c->buf + c->len, CONTROL_MESSAGE_MAX - c->len);
    size_t start = 0;

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* closed (maybe mid-message: dropped, nothing done) or failed */
        control_client_close(c);
        return;
    }
    c->len += (size_t)n;
    c->last_byte_s = control_now(s);
    for (;;) {
        char *nl = memchr(c->buf + start, '\n', c->len - start);

        if (!nl)
            break;
        control_handle_line(s, c, c->buf + start, (size_t)(nl - (c->buf + start)) + 1);
        if (c->fd < 0)
            return;
        start = (size_t)(nl - c->buf) + 1;
    }
    memmove(c->buf, c->buf + start, c->len - start);
    c->len -= start;
    if (c->len == CONTROL_MESSAGE_MAX) {
        char msg[96];

        snprintf(msg, sizeof(msg), "message too long (more than %d bytes): closing",
                 CONTROL_MESSAGE_MAX);
        control_send(c, control_reply_error(-1, msg));
        control_client_close(c);
    }
}

/* A new connection: checked, then given a slot (or refused). */
static void control_accept(struct control_server *s)
{
    struct ucred cred;
    socklen_t cl = sizeof(cred);
    struct control_client *slot = NULL;
    char msg[128];
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0)
        return;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0) {
        close(fd);
        return;
    }
    if (cred.uid != 0 && cred.uid != geteuid()) {
        snprintf(msg, sizeof(msg), "permission denied (uid %u)", (unsigned)cred.uid);
        {
            char *line = control_reply_error(-1, msg);

            if (line)
                (void)control_send_fd(fd, line);
            free(line);
        }
        close(fd);
        return;
    }
    for (size_t i = 0; i < CONTROL_SERVER_MAX_CLIENTS && !slot; i++)
        if (s->clients[i].fd < 0)
            slot = &s->clients[i];
    if (!slot) {
        char *line;

        snprintf(msg, sizeof(msg), "too many clients (at most %d): try again later",
                 CONTROL_SERVER_MAX_CLIENTS);
        line = control_reply_error(-1, msg);
        if (line)
            (void)control_send_fd(fd, line);
        free(line);
        close(fd);
        return;
    }
    slot->fd = fd;
    slot->len = 0;
    slot->last_byte_s = control_now(s);
}

/* Idle deadlines and stream periods: act on what is due; the ms to the
 * next one (-1: none). */
static int control_timers(struct control_server *s)
{
    double now = control_now(s), next = -1;

    for (size_t i = 0; i < CONTROL_SERVER_MAX_CLIENTS; i++) {
        struct control_client *c = &s->clients[i];
        double due;

        if (c->fd < 0)
            continue;
        if (c->stream_cmd) {
            if (now >= c->next_stream_s) {
                control_run(s, c, c->stream_cmd, c->stream_id, c->stream_args);
                while (c->next_stream_s <= now)
                    c->next_stream_s += c->every_s;
            }
            if (c->fd < 0)
                continue;
            due = c->next_stream_s;
        } else {
            due = c->last_byte_s + s->cfg.idle_timeout_s;
            if (now >= due) {
                char msg[96];

                snprintf(msg, sizeof(msg), "idle for %.0f s: closing", s->cfg.idle_timeout_s);
                control_send(c, control_reply_error(-1, msg));
                control_client_close(c);
                continue;
            }
        }
        if (next < 0 || due < next)
            next = due;
    }
    if (next < 0)
        return -1;
    now = control_now(s);
    return next <= now ? 0 : (int)((next - now) * 1000.0) + 1;
}

static void *control_thread(void *arg)
{
    struct control_server *s = arg;
    struct pollfd pfd[2 + CONTROL_SERVER_MAX_CLIENTS];
    size_t who[CONTROL_SERVER_MAX_CLIENTS];

    for (;;) {
        int timeout = control_timers(s);
        nfds_t n = 2;

        pfd[0] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
        for (size_t i = 0; i < CONTROL_SERVER_MAX_CLIENTS; i++) {
            if (s->clients[i].fd < 0)
                continue;
            who[n - 2] = i;
            pfd[n++] = (struct pollfd){.fd = s->clients[i].fd, .events = POLLIN};
        }
        if (poll(pfd, n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[0].revents)
            break;
        for (nfds_t k = 2; k < n; k++)
            if (pfd[k].revents && s->clients[who[k - 2]].fd == pfd[k].fd)
                control_client_read(s, &s->clients[who[k - 2]]);
        if (pfd[1].revents & POLLIN)
            control_accept(s);
    }
    return NULL;
}

/* ------------------------------------------------------------ life */

int control_server_start(const struct control_server_config *cfg, struct control_server **out,
                         char *err, size_t errlen)
{
    struct control_server *s = calloc(1, sizeof(*s));
    int rc, e;

    *out = NULL;
    if (!s) {
        error_text_set(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->cfg = *cfg;
    if (s->cfg.idle_timeout_s <= 0)
        s->cfg.idle_timeout_s = CONTROL_SERVER_IDLE_S;
    s->listen_fd = s->wake[0] = s->wake[1] = -1;
    for (size_t i = 0; i < CONTROL_SERVER_MAX_CLIENTS; i++)
        s->clients[i].fd = -1;
    clock_gettime(CLOCK_MONOTONIC, &s->t0);
    s->path = strdup(cfg->path);
    if (!s->path) {
        error_text_set(err, errlen, "out of memory");
        rc = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < CONTROL_SERVER_MAX_CLIENTS; i++) {
        s->clients[i].buf = malloc(CONTROL_MESSAGE_MAX);
        if (!s->clients[i].buf) {
            error_text_set(err, errlen, "out of memory");
            rc = -ENOMEM;
            goto fail;
        }
    }
    if (pipe2(s->wake, O_CLOEXEC) < 0) {
        rc = -errno;
        error_text_set(err, errlen, "cannot make a pipe: %s", strerror(errno));
        goto fail;
    }
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->listen_fd < 0) {
        rc = -errno;
        error_text_set(err, errlen, "cannot make a socket: %s", strerror(errno));
        goto fail;
    }
    rc = control_bind(s->listen_fd, s->path, err, errlen);
    if (rc != 0) {
        close(s->listen_fd);
        s->listen_fd = -1;
        goto fail;
    }
    if (listen(s->listen_fd, CONTROL_SERVER_MAX_CLIENTS) < 0) {
        rc = -errno;
        error_text_set(err, errlen, "cannot listen on %s: %s", s->path, strerror(errno));
        goto fail_bound;
    }
    e = pthread_create(&s->thread, NULL, control_thread, s);
    if (e != 0) {
        rc = -e;
        error_text_set(err, errlen, "cannot start the control thread: %s", strerror(e));
        goto fail_bound;
    }
    s->started = true;
    *out = s;
    return 0;
fail_bound:
    unlink(s->path);
fail:
    control_server_stop(s);
    return rc;
}

const char *control_server_path(const struct control_server *s)
{
    return s->path;
}

void control_server_stop(struct control_server *s)
{
    if (!s)
        return;
    if (s->started) {
        char b = 1;

        while (write(s->wake[1], &b, 1) < 0 && errno == EINTR)
            ;
        pthread_join(s->thread, NULL);
        unlink(s->path);
    }
    for (size_t i = 0; i < CONTROL_SERVER_MAX_CLIENTS; i++) {
        control_client_close(&s->clients[i]);
        free(s->clients[i].buf);
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->wake[0] >= 0)
        close(s->wake[0]);
    if (s->wake[1] >= 0)
        close(s->wake[1]);
    free(s->path);
    free(s);
}
