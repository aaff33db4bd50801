/*
 * tmemctl.c - tmemctl: `tmemctl [--socket PATH | --testbed PID | --tmemfs
 * MOUNTPOINT] [--json] COMMAND [ARGS]`, the operator's command line for a
 * running tmem-testbed or tmemfs (docs/control.md).
 *
 * Models: `xl tmem-*` for the testbed: one request over the program's
 * control socket (control_client.h), its reply printed as text (`list`
 * and `stats` as a table like `xl tmem-list -l`) or as JSON (--json: the
 * reply's result, one line). `stats --every S` prints a reply every S
 * seconds until interrupted. `raw LINE` sends LINE as it is (for tests).
 *
 * Exit status: 0 ok; 1 the program replied with an error (printed on
 * stderr); 2 bad usage; 3 cannot connect, or the connection was lost.
 * Data: the connection and the request, owned by main. No globals.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/control_client.h"
#include "control/control_server.h"
#include "control/control_tmem.h"

#define TMEMCTL_EXIT_ERROR 1
#define TMEMCTL_EXIT_USAGE 2
#define TMEMCTL_EXIT_CONNECT 3
#define TMEMCTL_TIMEOUT_MS 60000

static void tmemctl_usage(FILE *f)
{
    fprintf(f,
"usage: tmemctl [--socket PATH | --testbed PID | --tmemfs MOUNTPOINT] [--json]\n"
"               COMMAND [ARGS]\n"
"\n"
"Control a running tmem-testbed or tmemfs through its control socket.\n"
"\n"
"  list                          store, hosts, guests, pools (--json: as JSON)\n"
"  stats [--every SECONDS]       counters; with --every, again every SECONDS\n"
"  set-capacity HOST SIZE        set a host's store capacity (and pause its model)\n"
"  set-weight GUEST N            a guest's tmem weight (1..10000)\n"
"  set-cap GUEST SIZE|unlimited  a guest's tmem cap\n"
"  freeze GUEST / thaw GUEST     refuse / accept the guest's puts again\n"
"  pause [HOST] / resume [HOST]  stop / restart a host's pressure model (all hosts)\n"
"  stop                          end the run (as SIGTERM: reports written)\n"
"  save GUEST FILE, restore GUEST FILE\n"
"  migrate GUEST HOST [--no-wait] move a running swap guest to HOST (testbed);\n"
"                                waits and prints the result (exit 1: failed)\n"
"  raw LINE                      send LINE as it is, print the reply\n"
"\n"
"  -s, --socket PATH       the socket (default: the one socket in the default\n"
"                          folder, $XDG_RUNTIME_DIR, /run/tmem or /tmp/tmem-UID)\n"
"  -p, --testbed PID       the socket of tmem-testbed process PID\n"
"  -m, --tmemfs MOUNTPOINT the socket of the tmemfs serving MOUNTPOINT\n"
"  -j, --json              print the result as JSON\n"
"  -h, --help              this text\n"
"SIZE: bytes with an optional K, M, G or T suffix (powers of 1024), or unlimited.\n"
"Exit status: 0 ok, 1 error reply, 2 usage, 3 cannot connect. docs/control.md.\n");
}

static int tmemctl_usage_error(const char *fmt, const char *what)
{
    fprintf(stderr, "tmemctl: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, " (see tmemctl --help)\n");
    return TMEMCTL_EXIT_USAGE;
}

/* ------------------------------------------------------------ output */

static void tmemctl_size(char *buf, size_t len, const json_t *v)
{
    double b;

    if (json_is_string(v)) {
        snprintf(buf, len, "%s", json_string_value(v));
        return;
    }
    b = (double)json_integer_value(v);
    if (b >= 1024.0 * 1024 * 1024)
        snprintf(buf, len, "%.1fG", b / (1024.0 * 1024 * 1024));
    else if (b >= 1024.0 * 1024)
        snprintf(buf, len, "%.1fM", b / (1024.0 * 1024));
    else if (b >= 1024.0)
        snprintf(buf, len, "%.1fK", b / 1024.0);
    else
        snprintf(buf, len, "%.0f", b);
}

static long long tmemctl_u(const json_t *stats, const char *name)
{
    return (long long)json_integer_value(json_object_get(stats, name));
}

/* One statistics line: pages by kind, bytes, puts, gets and hit rate. */
static void tmemctl_stats_line(const char *indent, const json_t *st)
{
    char data[32], meta[32], rate[16];
    const json_t *hr = json_object_get(st, "hit_rate");

    tmemctl_size(data, sizeof(data), json_object_get(st, "data_bytes"));
    tmemctl_size(meta, sizeof(meta), json_object_get(st, "metadata_bytes"));
    if (json_is_number(hr))
        snprintf(rate, sizeof(rate), "%.1f%%", 100.0 * json_number_value(hr));
    else
        snprintf(rate, sizeof(rate), "-");
    printf("%spages %lld (raw %lld compressed %lld same %lld dedup %lld)  data %s meta %s\n",
           indent, tmemctl_u(st, "pages"), tmemctl_u(st, "pages_raw"),
           tmemctl_u(st, "pages_compressed"), tmemctl_u(st, "pages_same_filled"),
           tmemctl_u(st, "pages_deduplicated"), data, meta);
    printf("%sputs %lld ok %lld failed %lld (no_room %lld frozen %lld cap %lld)  gets %lld "
           "ok %lld hit %s  evicted %lld\n", indent, tmemctl_u(st, "puts"),
           tmemctl_u(st, "succ_puts"), tmemctl_u(st, "failed_puts"),
           tmemctl_u(st, "failed_puts_no_room"), tmemctl_u(st, "failed_puts_frozen"),
           tmemctl_u(st, "failed_puts_cap"), tmemctl_u(st, "gets"), tmemctl_u(st, "succ_gets"),
           rate, tmemctl_u(st, "pages_evicted"));
}

/* One migration of the testbed's log (runner_migrate.c's JSON). */
static void tmemctl_print_migration(const json_t *m)
{
    const char *state = json_string_value(json_object_get(m, "state"));

    printf("MIGRATION %lld  %s  %s -> %s  by %s  at %.2f s  %s",
           (long long)json_integer_value(json_object_get(m, "id")),
           json_string_value(json_object_get(m, "guest")),
           json_string_value(json_object_get(m, "from")),
           json_string_value(json_object_get(m, "to")),
           json_string_value(json_object_get(m, "by")),
           json_number_value(json_object_get(m, "started_s")), state ? state : "?");
    if (json_is_string(json_object_get(m, "error")))
        printf(": %s", json_string_value(json_object_get(m, "error")));
    printf("\n  rounds %lld  pages sent %lld (resent %lld, at the stop %lld)  refused %lld  "
           "to the swap file %lld  moved %lld  bytes %lld  stop %.3f ms  total %.1f ms\n",
           tmemctl_u(m, "rounds"), tmemctl_u(m, "pages_sent"), tmemctl_u(m, "pages_resent"),
           tmemctl_u(m, "pages_at_stop"), tmemctl_u(m, "pages_refused"),
           tmemctl_u(m, "pages_to_swapfile"), tmemctl_u(m, "pages_moved"),
           tmemctl_u(m, "bytes_sent"), json_number_value(json_object_get(m, "stop_ms")),
           json_number_value(json_object_get(m, "total_ms")));
}

/* list / stats as a table (xl tmem-list -l style). */
static void tmemctl_print_list(const json_t *result)
{
    const json_t *hosts = json_object_get(result, "hosts"), *h;
    size_t i;

    printf("%s pid %lld  t %.1f s\n", json_string_value(json_object_get(result, "program")),
           (long long)json_integer_value(json_object_get(result, "pid")),
           json_number_value(json_object_get(result, "t_s")));
    json_array_foreach(hosts, i, h) {
        const json_t *store = json_object_get(h, "store"), *guests = json_object_get(h, "guests");
        const json_t *g;
        char cap[32], used[32];
        size_t k;

        tmemctl_size(cap, sizeof(cap), json_object_get(store, "capacity"));
        tmemctl_size(used, sizeof(used), json_object_get(store, "used"));
        printf("HOST %s  capacity %s  used %s  pressure %s  clients %lld pools %lld\n",
               json_string_value(json_object_get(h, "name")), cap, used,
               json_string_value(json_object_get(h, "pressure")),
               tmemctl_u(json_object_get(store, "stats"), "clients"),
               tmemctl_u(json_object_get(store, "stats"), "pools"));
        tmemctl_stats_line("  ", json_object_get(store, "stats"));
        json_array_foreach(guests, k, g) {
            const json_t *pools = json_object_get(g, "pools"), *p;
            size_t j;

            printf("  GUEST %s  %s  %s", json_string_value(json_object_get(g, "name")),
                   json_string_value(json_object_get(g, "kind")),
                   json_string_value(json_object_get(g, "state")));
            if (json_object_get(g, "stats")) {
                tmemctl_size(cap, sizeof(cap), json_object_get(g, "cap"));
                printf("  weight %lld  cap %s  frozen %s\n",
                       (long long)json_integer_value(json_object_get(g, "weight")), cap,
                       json_is_true(json_object_get(g, "frozen")) ? "yes" : "no");
                tmemctl_stats_line("    ", json_object_get(g, "stats"));
            } else {
                printf("\n");
            }
            json_array_foreach(pools, j, p) {
                const char *kind = json_string_value(json_object_get(p, "kind"));
                const char *sharing = json_string_value(json_object_get(p, "sharing"));

                printf("    POOL %lld  %s %s%s\n",
                       (long long)json_integer_value(json_object_get(p, "id")),
                       kind ? kind : "?", sharing ? sharing : "?",
                       json_is_true(json_object_get(p, "exclusive_gets")) ? " exclusive-gets"
                                                                          : "");
                tmemctl_stats_line("      ", json_object_get(p, "stats"));
            }
        }
    }
    json_array_foreach(json_object_get(result, "migrations"), i, h)
        tmemctl_print_migration(h);
}

/* Any other result: "key: value" lines. */
static void tmemctl_print_result(const json_t *result)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)result, key, v) {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

        if (json_is_string(v))
            printf("%s: %s\n", key, json_string_value(v));
        else
            printf("%s: %s\n", key, text ? text : "?");
        free(text);
    }
}

static void tmemctl_print(const char *command, const json_t *result, bool json)
{
    if (json) {
        char *text = json_dumps(result, JSON_COMPACT | JSON_PRESERVE_ORDER);

        printf("%s\n", text ? text : "{}");
        free(text);
    } else if (!strcmp(command, "list") || !strcmp(command, "stats")) {
        tmemctl_print_list(result);
    } else {
        tmemctl_print_result(result);
    }
    fflush(stdout);
}

/* ------------------------------------------------------------ requests */

/* migrate without --no-wait: the program replied at once (the migration
 * runs in a thread of its own); ask for stats every TMEMCTL_POLL_MS until
 * migration mid of its log is over, then print it. Returns the exit
 * status: 0 done, 1 failed, 3 connection lost. */
#define TMEMCTL_POLL_MS 100
static int tmemctl_wait_migration(struct control_connection *conn, const char *path,
                                  int64_t mid, bool json)
{
    struct control_reply reply;
    char err[1024];
    int64_t id;

    for (;;) {
        const json_t *m;
        const char *state;
        int rc;

        usleep(TMEMCTL_POLL_MS * 1000);
        rc = control_send_request(conn, "stats", NULL, &id);
        if (rc == 0)
            rc = control_read_reply(conn, TMEMCTL_TIMEOUT_MS, &reply, err, sizeof(err));
        if (rc != 0) {
            fprintf(stderr, "tmemctl: %s: %s (waiting for migration %lld)\n", path,
                    rc == -EINVAL ? err : rc == -ECONNRESET ? "the program closed the "
                    "connection" : strerror(-rc), (long long)mid);
            return TMEMCTL_EXIT_CONNECT;
        }
        if (!reply.ok) {
            fprintf(stderr, "tmemctl: %s (waiting for migration %lld)\n", reply.error,
                    (long long)mid);
            control_reply_free(&reply);
            return TMEMCTL_EXIT_ERROR;
        }
        m = json_array_get(json_object_get(reply.result, "migrations"), (size_t)mid);
        state = json_string_value(json_object_get(m, "state"));
        if (!state || strcmp(state, "running") != 0) {
            bool done = state && !strcmp(state, "done");

            if (!m)
                fprintf(stderr, "tmemctl: migration %lld is not in the program's log\n",
                        (long long)mid);
            else if (json)
                tmemctl_print("migrate", m, true);
            else
                tmemctl_print_migration(m);
            fflush(stdout);
            control_reply_free(&reply);
            return done ? 0 : TMEMCTL_EXIT_ERROR;
        }
        control_reply_free(&reply);
    }
}

/* The one *.sock in the default folder, into path. 0 or exit status. */
static int tmemctl_find_socket(char *path, size_t len)
{
    char probe[512], err[512], pattern[600];
    glob_t gl;
    size_t count = 0;

    if (control_default_path("x", false, probe, sizeof(probe), err, sizeof(err)) != 0) {
        fprintf(stderr, "tmemctl: %s\n", err);
        return TMEMCTL_EXIT_CONNECT;
    }
    *strrchr(probe, '/') = '\0';
    snprintf(pattern, sizeof(pattern), "%s/*.sock", probe);
    if (glob(pattern, 0, NULL, &gl) == 0) {
        count = gl.gl_pathc;
        if (count == 1)
            snprintf(path, len, "%s", gl.gl_pathv[0]);
        globfree(&gl);
    }
    if (count == 1)
        return 0;
    fprintf(stderr, "tmemctl: %s in %s: say which with --socket, --testbed or --tmemfs\n",
            count ? "several control sockets" : "no control socket", probe);
    return count ? TMEMCTL_EXIT_USAGE : TMEMCTL_EXIT_CONNECT;
}

/* Build the request's arguments from the command line (argv after the
 * command). Returns 0 or an exit status (message printed). */
static int tmemctl_args(const char *cmd, int argc, char **argv, json_t *args, bool *json,
                        bool *no_wait)
{
    const char *pos[3] = {NULL, NULL, NULL};
    int npos = 0;

    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
            *json = true;
        } else if (!strcmp(argv[i], "--no-wait") && !strcmp(cmd, "migrate")) {
            *no_wait = true;
        } else if (!strcmp(argv[i], "--every") && !strcmp(cmd, "stats")) {
            char *end;
            double s;

            if (i + 1 >= argc)
                return tmemctl_usage_error("%s needs SECONDS", "--every");
            s = strtod(argv[++i], &end);
            if (*end || end == argv[i] || !(s > 0))
                return tmemctl_usage_error("--every: bad SECONDS \"%s\"", argv[i]);
            json_object_set_new(args, "every", json_real(s));
        } else if (npos < 3) {
            pos[npos++] = argv[i];
        } else {
            return tmemctl_usage_error("too many arguments for %s", cmd);
        }
    }
#define TMEMCTL_NEED(n, usage)                                                                \
    do {                                                                                      \
        if (npos != (n))                                                                      \
            return tmemctl_usage_error("usage: tmemctl %s", usage);                           \
    } while (0)
    if (!strcmp(cmd, "list") || !strcmp(cmd, "stats") || !strcmp(cmd, "stop")) {
        TMEMCTL_NEED(0, cmd);
    } else if (!strcmp(cmd, "set-capacity")) {
        TMEMCTL_NEED(2, "set-capacity HOST SIZE|unlimited");
        json_object_set_new(args, "host", json_string(pos[0]));
        json_object_set_new(args, "size", json_string(pos[1]));
    } else if (!strcmp(cmd, "set-weight")) {
        char *end;
        long long w;

        TMEMCTL_NEED(2, "set-weight GUEST N");
        errno = 0;
        w = strtoll(pos[1], &end, 10);
        if (*end || end == pos[1] || errno)
            return tmemctl_usage_error("set-weight: N must be an integer, not \"%s\"", pos[1]);
        json_object_set_new(args, "guest", json_string(pos[0]));
        json_object_set_new(args, "weight", json_integer(w));
    } else if (!strcmp(cmd, "set-cap")) {
        TMEMCTL_NEED(2, "set-cap GUEST SIZE|unlimited");
        json_object_set_new(args, "guest", json_string(pos[0]));
        json_object_set_new(args, "size", json_string(pos[1]));
    } else if (!strcmp(cmd, "freeze") || !strcmp(cmd, "thaw")) {
        TMEMCTL_NEED(1, "freeze|thaw GUEST");
        json_object_set_new(args, "guest", json_string(pos[0]));
    } else if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume")) {
        if (npos > 1)
            return tmemctl_usage_error("usage: tmemctl %s [HOST]", cmd);
        if (npos == 1)
            json_object_set_new(args, "host", json_string(pos[0]));
    } else if (!strcmp(cmd, "save") || !strcmp(cmd, "restore")) {
        TMEMCTL_NEED(2, "save|restore GUEST FILE");
        json_object_set_new(args, "guest", json_string(pos[0]));
        json_object_set_new(args, "file", json_string(pos[1]));
    } else if (!strcmp(cmd, "migrate")) {
        TMEMCTL_NEED(2, "migrate GUEST HOST [--no-wait]");
        json_object_set_new(args, "guest", json_string(pos[0]));
        json_object_set_new(args, "host", json_string(pos[1]));
    } else {
        /* a command this tmemctl does not know: sent with no arguments,
         * the program says whether it knows it */
        TMEMCTL_NEED(0, cmd);
    }
#undef TMEMCTL_NEED
    return 0;
}

int main(int argc, char *argv[])
{
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'}, {"testbed", required_argument, NULL, 'p'},
        {"tmemfs", required_argument, NULL, 'm'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    char path[512] = "", name[128], err[1024];
    struct control_connection conn;
    struct control_reply reply;
    bool json = false, streaming, no_wait = false;
    const char *cmd;
    json_t *args = NULL;
    int64_t id = 0;
    int opt, rc, send_rc, nsel = 0, status;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+:s:p:m:jh", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            snprintf(path, sizeof(path), "%s", optarg);
            nsel++;
            break;
        case 'p': {
            char *end;
            long pid = strtol(optarg, &end, 10);

            if (*end || end == optarg || pid <= 0)
                return tmemctl_usage_error("--testbed: bad PID \"%s\"", optarg);
            snprintf(name, sizeof(name), "tmem-testbed-%ld", pid);
            if (control_default_path(name, false, path, sizeof(path), err, sizeof(err)) != 0) {
                fprintf(stderr, "tmemctl: %s\n", err);
                return TMEMCTL_EXIT_CONNECT;
            }
            nsel++;
            break;
        }
        case 'm':
            if (control_tmemfs_socket_name(optarg, name, sizeof(name)) != 0) {
                fprintf(stderr, "tmemctl: --tmemfs %s: %s\n", optarg, strerror(errno));
                return TMEMCTL_EXIT_CONNECT;
            }
            if (control_default_path(name, false, path, sizeof(path), err, sizeof(err)) != 0) {
                fprintf(stderr, "tmemctl: %s\n", err);
                return TMEMCTL_EXIT_CONNECT;
            }
            nsel++;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            tmemctl_usage(stdout);
            return 0;
        case ':':
            return tmemctl_usage_error("option %s needs a value", argv[optind - 1]);
        default:
            return tmemctl_usage_error("unknown option %s", argv[optind - 1]);
        }
    }
    if (nsel > 1)
        return tmemctl_usage_error("%s", "give one of --socket, --testbed, --tmemfs");
    if (optind >= argc)
        return tmemctl_usage_error("%s", "no COMMAND given");
    cmd = argv[optind];
    args = json_object();
    if (!args)
        return TMEMCTL_EXIT_ERROR;
    if (strcmp(cmd, "raw") != 0) {
        status = tmemctl_args(cmd, argc - optind - 1, argv + optind + 1, args, &json,
                              &no_wait);
        if (status != 0)
            goto out_args;
    } else if (argc - optind != 2) {
        status = tmemctl_usage_error("%s", "usage: tmemctl raw LINE");
        goto out_args;
    }
    if (!path[0] && (status = tmemctl_find_socket(path, sizeof(path))) != 0)
        goto out_args;
    if (control_connect(&conn, path, err, sizeof(err)) != 0) {
        fprintf(stderr, "tmemctl: %s\n", err);
        status = TMEMCTL_EXIT_CONNECT;
        goto out_args;
    }
    streaming = json_object_get(args, "every") != NULL;
    if (!strcmp(cmd, "raw")) {
        size_t n = strlen(argv[optind + 1]);
        char *line = malloc(n + 2);

        rc = -ENOMEM;
        if (line) {
            memcpy(line, argv[optind + 1], n);
            line[n] = '\n';
            rc = control_send_line(&conn, line, n + 1);
            free(line);
        }
    } else {
        rc = control_send_request(&conn, cmd, args, &id);
    }
    send_rc = rc;
    do {
        /* a send refused because the program closed at once (permission
         * denied, too many clients): its error reply may still be there */
        rc = control_read_reply(&conn, send_rc != 0 ? 1000 : TMEMCTL_TIMEOUT_MS, &reply, err,
                                sizeof(err));
        if (rc == -EINVAL) {
            fprintf(stderr, "tmemctl: %s\n", err);
            status = TMEMCTL_EXIT_ERROR;
            goto out;
        }
        if (rc != 0 && send_rc != 0) {
            fprintf(stderr, "tmemctl: cannot send to %s: %s\n", path, strerror(-send_rc));
            status = TMEMCTL_EXIT_CONNECT;
            goto out;
        }
        if (rc != 0) {
            fprintf(stderr, "tmemctl: %s: %s\n", path, rc == -ECONNRESET ?
                    "the program closed the connection" : strerror(-rc));
            status = TMEMCTL_EXIT_CONNECT;
            goto out;
        }
        if (!reply.ok) {
            fprintf(stderr, "tmemctl: %s\n", reply.error);
            control_reply_free(&reply);
            status = TMEMCTL_EXIT_ERROR;
            goto out;
        }
        if (!strcmp(cmd, "raw")) {
            char *text = json_dumps(reply.result, JSON_COMPACT | JSON_PRESERVE_ORDER);

            printf("%s\n", text ? text : "{}");
            fflush(stdout);
            free(text);
        } else if (!strcmp(cmd, "migrate") && !no_wait) {
            int64_t mid = json_integer_value(json_object_get(reply.result, "id"));

            control_reply_free(&reply);
            status = tmemctl_wait_migration(&conn, path, mid, json);
            goto out;
        } else {
            tmemctl_print(cmd, reply.result, json);
        }
        control_reply_free(&reply);
    } while (streaming);
    status = 0;
out:
    control_disconnect(&conn);
out_args:
    json_decref(args);
    return status;
}
