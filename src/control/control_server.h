/*
 * control_server.h - the control socket of a long-running program: one
 * thread serving tmemctl clients over a Unix stream socket with the
 * protocol of control_protocol.h, dispatching each request to a command
 * table the program fills.
 *
 * Socket: the path given, or control_default_path's. Created mode 0600
 * (umask 0177 around bind); a stale socket (nothing accepts on it:
 * connect fails with ECONNREFUSED) is replaced, a live one refused
 * ("another process serves PATH"), anything else at the path refused.
 * Removed by control_server_stop.
 *
 * Clients: at most CONTROL_SERVER_MAX_CLIENTS at once (one more is
 * accepted, sent the error "too many clients" and closed). On accept
 * the peer's uid (SO_PEERCRED) must be the server's effective uid or 0,
 * else the reply "permission denied (uid U)" and close. A client that
 * sends nothing for idle_timeout_s (no byte; a streaming client is
 * never idle) is closed; one that disconnects mid-message is dropped
 * with nothing done; a message longer than CONTROL_MESSAGE_MAX gets
 * "message too long" and the connection is closed; one that does not
 * read its replies (its socket buffer full for 1 s) is dropped. Other
 * clients are served throughout.
 *
 * Requests: parsed (control_request_parse), the command looked up, its
 * arguments checked (control_args_check with the command's list); only
 * then is fn called, in the server's thread. Streaming: a request to a
 * command with `stream` set that carries "every": SECONDS (0.1..3600)
 * is answered at once and then again every SECONDS, each reply a new
 * line with the request's id, until the client closes the connection
 * (or sends another request, which ends the stream).
 *
 * Thread safety: start/stop from one thread; the command functions run
 * in the server thread, concurrently with the program's own threads:
 * they must take the program's locks (see the program's command table).
 */
#ifndef CONTROL_SERVER_H
#define CONTROL_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "control/control_protocol.h"

#define CONTROL_SERVER_MAX_CLIENTS 16
#define CONTROL_SERVER_IDLE_S 10.0

/*
 * A command. fn gets the program's ctx and the request's arguments
 * (checked against args[0..nargs)); it returns 0 with *result set (a new
 * object, or NULL for an empty one) or a negative errno with one line in
 * err (the reply's error).
 */
struct control_command {
    const char *name;
    const char *args_help;              /* for messages: "GUEST SIZE|unlimited" */
    int (*fn)(void *ctx, const json_t *args, json_t **result, char *err, size_t errlen);
    const struct control_arg *args;
    size_t nargs;
    bool stream;                        /* takes "every" (see above) */
};

struct control_server_config {
    const char *path;                   /* the socket's path */
    const struct control_command *commands;
    size_t ncommands;
    void *ctx;                          /* passed to every fn */
    double idle_timeout_s;              /* 0: CONTROL_SERVER_IDLE_S */
};

struct control_server;

/*
 * The default socket path for a program named name ("tmem-testbed-1234"):
 * $XDG_RUNTIME_DIR/NAME.sock when set, else /run/tmem/NAME.sock (root)
 * or /tmp/tmem-UID/NAME.sock; the folder is created (0700) when missing
 * (create_dir), and a /tmp/tmem-UID that is not ours or open to others
 * is refused. Returns 0, or -errno with one line in err.
 */
int control_default_path(const char *name, bool create_dir, char *path, size_t len,
                         char *err, size_t errlen);

/*
 * Bind the socket (see above) and start the thread. cfg is copied (the
 * table and ctx must outlive the server). Returns 0 with *out, or
 * -errno with one line in err ("another process serves PATH", ...).
 */
int control_server_start(const struct control_server_config *cfg, struct control_server **out,
                         char *err, size_t errlen);

/* The socket's path. */
const char *control_server_path(const struct control_server *s);

/* Stop the thread, close every client, remove the socket, free. s may
 * be NULL. Not from a command function. */
void control_server_stop(struct control_server *s);

#endif /* CONTROL_SERVER_H */
