/*
 * control_client.h - the client side of the control protocol (tmemctl,
 * tests): connect to a control socket, send a request, read replies.
 *
 * Thread safety: a connection is used by one thread at a time.
 */
#ifndef CONTROL_CLIENT_H
#define CONTROL_CLIENT_H

#include <stddef.h>

#include "control/control_protocol.h"

struct control_connection {
    int fd;
    char *buf;          /* CONTROL_MESSAGE_MAX bytes of input */
    size_t len;
    int64_t next_id;
};

/* Connect to the socket at path. 0, or -errno with one line in err
 * ("cannot connect to PATH: ..."). */
int control_connect(struct control_connection *c, const char *path, char *err, size_t errlen);

/* Send line as it is (it should end in "\n"). 0 or -errno. */
int control_send_line(struct control_connection *c, const char *line, size_t len);

/* Send a request (args not stolen; NULL: none); *id gets its id.
 * 0 or -errno. */
int control_send_request(struct control_connection *c, const char *command, const json_t *args,
                         int64_t *id);

/*
 * Read the next reply (waits up to timeout_ms; < 0 forever). Returns 0
 * with *out (control_reply_free), -ETIMEDOUT, -ECONNRESET (the server
 * closed the connection), -EINVAL (a line that is not a reply; err says
 * why), or another -errno.
 */
int control_read_reply(struct control_connection *c, int timeout_ms, struct control_reply *out,
                       char *err, size_t errlen);

/* Close (idempotent). */
void control_disconnect(struct control_connection *c);

#endif /* CONTROL_CLIENT_H */
