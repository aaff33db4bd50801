/*
 * runner_control.c - the control commands of a testbed run (runner.h,
 * docs/control.md): what tmemctl can see and change while a scenario
 * runs, as Xen's `xl tmem-*` did for a hypervisor.
 *
 * Models: the operator at the host's console: list every host's store
 * and every guest's client and pools; set a host's capacity by hand
 * (which pauses its pressure model, or the model would set it back at
 * its next step); pause or resume a model; set a guest's weight or cap;
 * freeze or thaw a guest (tmem_client_set_frozen); stop the run.
 *
 * Data structures: the static command table (testbed_control_commands)
 * with each command's arguments. save and restore write and load a
 * guest's persistent pools (control_snapshot.h, src/snapshot); migrate
 * starts a live migration of a swap guest (runner_migrate.c) and replies
 * at once; list and stats carry the run's migration log.
 *
 * Threads and locking: every function runs in the control server's
 * thread with ctx the struct testbed_run. Each takes the run's control
 * lock first (testbed_run_control_lock: guests cannot start or stop
 * meanwhile, see runner.h), then at most a host's policy lock through
 * host.c (set-capacity), then the core's own locks through tmem calls.
 */
#include "testbed/runner.h"

#include "common/error_text.h"
#include "common/size.h"
#include "common/ticker.h"
#include "control/control_snapshot.h"
#include "control/control_tmem.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void testbed_run_control_lock(struct testbed_run *r)
{
    pthread_mutex_lock(&r->control_lock);
}

void testbed_run_control_unlock(struct testbed_run *r)
{
    pthread_mutex_unlock(&r->control_lock);
}

static const char *testbed_state_name(enum testbed_guest_state s)
{
    return s == TESTBED_GUEST_WAITING ? "waiting" : s == TESTBED_GUEST_RUNNING ? "running"
                                                                              : "stopped";
}

struct testbed_guest *testbed_run_running_guest(struct testbed_run *r, const char *name,
                                                char *err, size_t errlen)
{
    if (!r->running) {
        error_text_set(err, errlen, "the run is not running");
        return NULL;
    }
    for (size_t k = 0; k < r->nguests; k++) {
        struct testbed_guest *g = &r->guests[k];

        if (strcmp(g->sg->name, name) != 0)
            continue;
        if (g->state != TESTBED_GUEST_RUNNING || !testbed_guest_client(g)) {
            error_text_set(err, errlen, "guest %s is not running (%s)", name,
                           testbed_state_name(g->state));
            return NULL;
        }
        return g;
    }
    error_text_set(err, errlen, "no guest \"%s\" in this run", name);
    return NULL;
}

struct testbed_host *testbed_run_find_host(struct testbed_run *r, const char *name, char *err,
                                           size_t errlen)
{
    if (!r->running) {
        error_text_set(err, errlen, "the run is not running");
        return NULL;
    }
    for (size_t h = 0; h < r->nhosts; h++)
        if (!strcmp(r->hosts[h].sh->name, name))
            return &r->hosts[h];
    error_text_set(err, errlen, "no host \"%s\" in this run", name);
    return NULL;
}

struct tmem_client *testbed_guest_client(struct testbed_guest *g)
{
    if (g->state != TESTBED_GUEST_RUNNING)
        return NULL;
    if (g->stress)
        return testbed_stress_client(g->stress);
    return g->mount ? testbed_mount_client(g->mount) : testbed_swap_client(g->swap);
}

/* ------------------------------------------------------------ list, stats */

/* The whole run as the reply of list (pools) or stats (none). */
static int testbed_control_report(struct testbed_run *r, bool pools, json_t **result,
                                  char *err, size_t errlen)
{
    json_t *res = json_object(), *hosts = json_array();
    int rc = -ENOMEM;

    testbed_run_control_lock(r);
    if (!r->running) {
        error_text_set(err, errlen, "the run is not running");
        rc = -EAGAIN;
        goto out;
    }
    if (!res || !hosts || json_object_set_new(res, "program", json_string("tmem-testbed")) ||
        json_object_set_new(res, "pid", json_integer(getpid())) ||
        json_object_set_new(res, "scenario", json_string(r->sc->path)) ||
        json_object_set_new(res, "t_s", json_real(ticker_seconds_since(&r->t0))) ||
        json_object_set_new(res, "hosts", json_incref(hosts)))
        goto nomem;
    for (size_t h = 0; h < r->nhosts; h++) {
        struct testbed_host *host = &r->hosts[h];
        json_t *hj = json_object(), *guests = json_array();

        if (!hj || !guests || json_array_append_new(hosts, hj) ||
            json_object_set_new(hj, "name", json_string(host->sh->name)) ||
            json_object_set_new(hj, "pressure", json_string(testbed_host_paused(host) ?
                                                            "paused" : "running")) ||
            json_object_set_new(hj, "store", control_tmem_store_json(host->tm)) ||
            json_object_set_new(hj, "guests", guests)) {
            json_decref(guests);
            goto nomem;
        }
        for (size_t k = 0; k < r->nguests; k++) {
            struct testbed_guest *g = &r->guests[k];
            struct tmem_client *c;
            json_t *gj;

            if (g->host != host)
                continue;
            gj = json_object();
            if (!gj || json_array_append_new(guests, gj) ||
                json_object_set_new(gj, "name", json_string(g->sg->name)) ||
                json_object_set_new(gj, "kind", json_string(g->mount ? "mount" : g->stress ? "stress" : "swap")) ||
                json_object_set_new(gj, "state", json_string(testbed_state_name(g->state))) ||
                json_object_set_new(gj, "frozen", json_boolean(g->frozen)) ||
                json_object_set_new(gj, "migrating", json_boolean(g->migrating)))
                goto nomem;
            c = testbed_guest_client(g);
            if (c && control_tmem_client_json(gj, c, pools) != 0)
                goto nomem;
        }
    }
    {
        json_t *migrations = json_array();

        if (!migrations || json_object_set_new(res, "migrations", migrations))
            goto nomem;
        for (size_t i = 0; i < r->nmigrations; i++) {
            json_t *mj = testbed_migration_json(r, &r->migrations[i]);

            /* the array owns mj from the append on, also when it fails */
            if (!mj || json_array_append_new(migrations, mj) ||
                json_object_set_new(mj, "id", json_integer((json_int_t)i)))
                goto nomem;
        }
    }
    *result = res;
    res = NULL;
    rc = 0;
    goto out;
nomem:
    error_text_set(err, errlen, "out of memory");
out:
    testbed_run_control_unlock(r);
    json_decref(res);
    json_decref(hosts);
    return rc;
}

static int testbed_cmd_list(void *ctx, const json_t *args, json_t **result, char *err,
                            size_t errlen)
{
    return testbed_control_report(ctx, true, result, err, errlen);
}

static int testbed_cmd_stats(void *ctx, const json_t *args, json_t **result, char *err,
                             size_t errlen)
{
    return testbed_control_report(ctx, false, result, err, errlen);
}

/* ------------------------------------------------------------ hosts */

static int testbed_cmd_set_capacity(void *ctx, const json_t *args, json_t **result, char *err,
                                    size_t errlen)
{
    struct testbed_run *r = ctx;
    struct testbed_host *h;
    uint64_t bytes;
    int rc = -EINVAL;

    if (control_arg_size(args, "size", &bytes, err, errlen) != 0)
        return -EINVAL;
    testbed_run_control_lock(r);
    h = testbed_run_find_host(r, control_arg_string(args, "host"), err, errlen);
    if (h) {
        /* paused first: the model must not set its own value back */
        testbed_host_set_paused(h, true);
        rc = testbed_host_set_capacity(h, bytes);
        if (rc == 0) {
            *result = json_pack("{s:s, s:o, s:o, s:s}", "host", h->sh->name, "capacity",
                                control_tmem_size_json(tmem_capacity(h->tm)), "used",
                                json_integer((json_int_t)tmem_budget_used(h->tm)),
                                "pressure", "paused");
        } else {
            error_text_set(err, errlen, "host %s: cannot set the capacity: %s", h->sh->name,
                           strerror(-rc));
        }
    }
    testbed_run_control_unlock(r);
    return rc;
}

/* pause / resume: one host or (no "host") every host. */
static int testbed_control_pause(struct testbed_run *r, const json_t *args, bool paused,
                                 json_t **result, char *err, size_t errlen)
{
    const char *name = control_arg_string(args, "host");
    json_t *names = json_array();
    int rc = 0;

    testbed_run_control_lock(r);
    if (name) {
        struct testbed_host *h = testbed_run_find_host(r, name, err, errlen);

        if (!h)
            rc = -EINVAL;
        else {
            testbed_host_set_paused(h, paused);
            json_array_append_new(names, json_string(name));
        }
    } else if (!r->running) {
        error_text_set(err, errlen, "the run is not running");
        rc = -EAGAIN;
    } else {
        for (size_t h = 0; h < r->nhosts; h++) {
            testbed_host_set_paused(&r->hosts[h], paused);
            json_array_append_new(names, json_string(r->hosts[h].sh->name));
        }
    }
    testbed_run_control_unlock(r);
    if (rc != 0) {
        json_decref(names);
        return rc;
    }
    *result = json_pack("{s:o, s:s}", "hosts", names, "pressure", paused ? "paused" : "running");
    return 0;
}

static int testbed_cmd_pause(void *ctx, const json_t *args, json_t **result, char *err,
                             size_t errlen)
{
    return testbed_control_pause(ctx, args, true, result, err, errlen);
}

static int testbed_cmd_resume(void *ctx, const json_t *args, json_t **result, char *err,
                              size_t errlen)
{
    return testbed_control_pause(ctx, args, false, result, err, errlen);
}

/* ------------------------------------------------------------ guests */

/* set-weight, set-cap, freeze, thaw (control_tmem.h) on a running guest,
 * under the control lock. */
static int testbed_control_guest(struct testbed_run *r, const json_t *args,
                                 enum control_guest_action what, json_t **result, char *err,
                                 size_t errlen)
{
    struct control_guest_change ch;
    struct testbed_guest *g;
    int rc;

    if (control_guest_change_read(args, what, &ch, err, errlen) != 0)
        return -EINVAL;
    testbed_run_control_lock(r);
    g = testbed_run_running_guest(r, control_arg_string(args, "guest"), err, errlen);
    rc = g ? control_guest_change_apply(testbed_guest_client(g), g->sg->name, &ch, &g->frozen,
                                        result, err, errlen)
           : -EINVAL;
    testbed_run_control_unlock(r);
    return rc;
}

static int testbed_cmd_set_weight(void *ctx, const json_t *args, json_t **result, char *err,
                                  size_t errlen)
{
    return testbed_control_guest(ctx, args, CONTROL_SET_WEIGHT, result, err, errlen);
}

static int testbed_cmd_set_cap(void *ctx, const json_t *args, json_t **result, char *err,
                               size_t errlen)
{
    return testbed_control_guest(ctx, args, CONTROL_SET_CAP, result, err, errlen);
}

static int testbed_cmd_freeze(void *ctx, const json_t *args, json_t **result, char *err,
                              size_t errlen)
{
    return testbed_control_guest(ctx, args, CONTROL_FREEZE, result, err, errlen);
}

static int testbed_cmd_thaw(void *ctx, const json_t *args, json_t **result, char *err,
                            size_t errlen)
{
    return testbed_control_guest(ctx, args, CONTROL_THAW, result, err, errlen);
}

/* ------------------------------------------------------------ the run */

static int testbed_cmd_stop(void *ctx, const json_t *args, json_t **result, char *err,
                            size_t errlen)
{
    struct testbed_run *r = ctx;

    atomic_store(&r->stop_requested, true);
    *result = json_pack("{s:s}", "stopping", "the run ends at its next step (as on SIGTERM)");
    return 0;
}

/* ------------------------------------------------------ save, restore */

/* save GUEST FILE / restore GUEST FILE on the guest's client, under the
 * control lock (the guest cannot stop and free its client meanwhile). */
static int testbed_control_snapshot(struct testbed_run *r, const json_t *args, bool save,
                                    json_t **result, char *err, size_t errlen)
{
    struct testbed_guest *g;
    int rc;

    testbed_run_control_lock(r);
    g = testbed_run_running_guest(r, control_arg_string(args, "guest"), err, errlen);
    if (!g) {
        rc = -EINVAL;
    } else if (g->migrating) {
        /* its pages are moving to another client: a save would miss some,
         * a restore would fill the client the migration is leaving */
        error_text_set(err, errlen, "guest %s is migrating: %s it once the migration has "
                       "ended (tmemctl list shows it)", g->sg->name, save ? "save" : "restore");
        rc = -EBUSY;
    } else if (save)
        rc = control_snapshot_save(testbed_guest_client(g), g->sg->name,
                                   control_arg_string(args, "file"), result, err, errlen);
    else
        rc = control_snapshot_restore(testbed_guest_client(g), g->sg->name,
                                      control_arg_string(args, "file"), result, err, errlen);
    testbed_run_control_unlock(r);
    return rc;
}

static int testbed_cmd_save(void *ctx, const json_t *args, json_t **result, char *err,
                            size_t errlen)
{
    return testbed_control_snapshot(ctx, args, true, result, err, errlen);
}

static int testbed_cmd_restore(void *ctx, const json_t *args, json_t **result, char *err,
                               size_t errlen)
{
    return testbed_control_snapshot(ctx, args, false, result, err, errlen);
}

/* migrate GUEST HOST: starts a live migration in a thread of its own
 * (runner_migrate.c) and replies at once with its id (its index in the
 * run's log) and state "running"; list and stats show the log
 * ("migrations"), which tmemctl polls to wait for the end. */
static int testbed_cmd_migrate(void *ctx, const json_t *args, json_t **result, char *err,
                               size_t errlen)
{
    struct testbed_run *r = ctx;
    struct testbed_guest *g = NULL;
    struct testbed_host *to;
    const char *name = control_arg_string(args, "guest");
    size_t id;
    int rc = -EINVAL;

    testbed_run_control_lock(r);
    to = testbed_run_find_host(r, control_arg_string(args, "host"), err, errlen);
    for (size_t k = 0; to && k < r->nguests; k++)
        if (!strcmp(r->guests[k].sg->name, name))
            g = &r->guests[k];
    if (to && !g)
        error_text_set(err, errlen, "no guest \"%s\" in this run", name);
    if (g) {
        rc = testbed_run_migrate_start(r, g, to, "tmemctl", &id, err, errlen);
        if (rc == 0) {
            *result = testbed_migration_json(r, &r->migrations[id]);
            if (!*result || json_object_set_new(*result, "id", json_integer((json_int_t)id))) {
                json_decref(*result);
                /* it runs anyway: say so rather than fail */
                *result = json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", "running");
            }
        }
    }
    testbed_run_control_unlock(r);
    return rc;
}

static const struct control_arg testbed_args_host_opt[] = {{"host", CONTROL_ARG_STRING, false}};
static const struct control_arg testbed_args_capacity[] = {
    {"host", CONTROL_ARG_STRING, true}, {"size", CONTROL_ARG_STRING, true}};
static const struct control_arg testbed_args_guest[] = {{"guest", CONTROL_ARG_STRING, true}};
static const struct control_arg testbed_args_weight[] = {
    {"guest", CONTROL_ARG_STRING, true}, {"weight", CONTROL_ARG_INTEGER, true}};
static const struct control_arg testbed_args_cap[] = {
    {"guest", CONTROL_ARG_STRING, true}, {"size", CONTROL_ARG_STRING, true}};
static const struct control_arg testbed_args_file[] = {
    {"guest", CONTROL_ARG_STRING, true}, {"file", CONTROL_ARG_STRING, true}};
static const struct control_arg testbed_args_migrate[] = {
    {"guest", CONTROL_ARG_STRING, true}, {"host", CONTROL_ARG_STRING, true}};

#define TESTBED_ARGS(a) a, sizeof(a) / sizeof((a)[0])

static const struct control_command testbed_commands[] = {
    {"list", "", testbed_cmd_list, NULL, 0, false},
    {"stats", "[--every SECONDS]", testbed_cmd_stats, NULL, 0, true},
    {"set-capacity", "HOST SIZE|unlimited", testbed_cmd_set_capacity,
     TESTBED_ARGS(testbed_args_capacity), false},
    {"set-weight", "GUEST N", testbed_cmd_set_weight, TESTBED_ARGS(testbed_args_weight), false},
    {"set-cap", "GUEST SIZE|unlimited", testbed_cmd_set_cap, TESTBED_ARGS(testbed_args_cap),
     false},
    {"freeze", "GUEST", testbed_cmd_freeze, TESTBED_ARGS(testbed_args_guest), false},
    {"thaw", "GUEST", testbed_cmd_thaw, TESTBED_ARGS(testbed_args_guest), false},
    {"pause", "[HOST]", testbed_cmd_pause, TESTBED_ARGS(testbed_args_host_opt), false},
    {"resume", "[HOST]", testbed_cmd_resume, TESTBED_ARGS(testbed_args_host_opt), false},
    {"stop", "", testbed_cmd_stop, NULL, 0, false},
    {"save", "GUEST FILE", testbed_cmd_save, TESTBED_ARGS(testbed_args_file), false},
    {"restore", "GUEST FILE", testbed_cmd_restore, TESTBED_ARGS(testbed_args_file), false},
    {"migrate", "GUEST HOST", testbed_cmd_migrate, TESTBED_ARGS(testbed_args_migrate), false},
};

const struct control_command *testbed_control_commands(size_t *n)
{
    *n = sizeof(testbed_commands) / sizeof(testbed_commands[0]);
    return testbed_commands;
}

/* ------------------------------------------------------------ the socket */

int testbed_run_control_start(struct testbed_run *r, const char *path, char *err,
                              size_t errlen)
{
    struct control_server_config cfg;
    char def[512], name[64];
    int rc;

    if (!path) {
        snprintf(name, sizeof(name), "tmem-testbed-%d", (int)getpid());
        rc = control_default_path(name, true, def, sizeof(def), err, errlen);
        if (rc != 0)
            return rc;
        path = def;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.path = path;
    cfg.commands = testbed_control_commands(&cfg.ncommands);
    cfg.ctx = r;
    return control_server_start(&cfg, &r->control, err, errlen);
}

const char *testbed_run_control_path(const struct testbed_run *r)
{
    return r->control ? control_server_path(r->control) : NULL;
}
