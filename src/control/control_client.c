/*
 * control_client.c - one connection to a control socket (control_client.h).
 *
 * Models: the operator's end: a blocking Unix stream socket, requests
 * out, reply lines in, buffered until each "\n". No locks, no globals.
 */
#include "control/control_client.h"

#include "common/error_text.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int control_connect(struct control_connection *c, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    int e;

    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->next_id = 1;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        error_text_set(err, errlen, "cannot connect to %s: path too long", path);
        return -ENAMETOOLONG;
    }
    memcpy(sa.sun_path, path, strlen(path));
    c->buf = malloc(CONTROL_MESSAGE_MAX);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (!c->buf || c->fd < 0) {
        e = c->buf ? errno : ENOMEM;
        error_text_set(err, errlen, "cannot connect to %s: %s", path, strerror(e));
        control_disconnect(c);
        return -e;
    }
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        e = errno;
        error_text_set(err, errlen, "cannot connect to %s: %s", path, strerror(e));
        control_disconnect(c);
        return -e;
    }
    return 0;
}

int control_send_line(struct control_connection *c, const char *line, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = send(c->fd, line + done, len - done, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        done += (size_t)n;
    }
    return 0;
}

int control_send_request(struct control_connection *c, const char *command, const json_t *args,
                         int64_t *id)
{
    char *line;
    int rc;

    *id = c->next_id++;
    line = control_request_format(*id, command, args);
    if (!line)
        return -ENOMEM;
    rc = control_send_line(c, line, strlen(line));
    free(line);
    return rc;
}

int control_read_reply(struct control_connection *c, int timeout_ms, struct control_reply *out,
                       char *err, size_t errlen)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        ssize_t n;
        int rc;

        if (nl) {
            size_t llen = (size_t)(nl - c->buf) + 1;

            rc = control_reply_parse(c->buf, llen, out, err, errlen);
            memmove(c->buf, c->buf + llen, c->len - llen);
            c->len -= llen;
            return rc;
        }
        if (c->len == CONTROL_MESSAGE_MAX) {
            error_text_set(err, errlen, "reply longer than %d bytes", CONTROL_MESSAGE_MAX);
            return -EINVAL;
        }
        rc = poll(&p, 1, timeout_ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return -errno;
        if (rc == 0)
            return -ETIMEDOUT;
        n = read(c->fd, c->buf + c->len, CONTROL_MESSAGE_MAX - c->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == ECONNRESET ? -ECONNRESET : -errno;
        if (n == 0)
            return -ECONNRESET;
        c->len += (size_t)n;
    }
}

void control_disconnect(struct control_connection *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = 0;
}
