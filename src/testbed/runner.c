/*
 * runner.c - one testbed run (runner.h).
 *
 * Models: the host side of a machine running guest VMs on tmem: guests
 * boot and shut down at set times, each host's hypervisor changes its
 * store's capacity under them (host.c), and an observer samples every
 * counter at a fixed interval.
 *
 * Data structures: struct testbed_run: the hosts, the guests (each a
 * mount guest or a swap guest, guest_mount.c / guest_swap.c, with its
 * state and final counters) and the series of samples. Threads: the
 * caller's thread runs the loop below (starting and stopping guests,
 * sampling, the status line, waiting for a stop signal with
 * sigtimedwait in steps of TESTBED_TICK_S); a host's sample is taken
 * under its policy lock, so never in the middle of a capacity change
 * (the store seen after the last change's reclaim); each host has its pressure
 * thread, each swap guest its driver thread, each mount guest its FUSE
 * loop and workload threads; the control socket its thread
 * (runner_control.c's commands run there). Locking: the runner's data
 * belong to the runner's thread; clients come and go under their host's
 * policy lock (host.h), taken inside the guest modules; the runner holds
 * the run's control_lock around every guest start and stop and around
 * `running`, so a control command (which holds it too) sees steady
 * guests; it holds it too around sampling the guests and refreshing
 * their committed memory, since a live migration (runner_migrate.c,
 * its own thread) switches a guest's client and host under it. A guest
 * whose migration runs is stopped once it is over, and the run's end
 * joins every migration before stopping the guests. Order: control_lock,
 * then a host's policy lock, then the store's and guests' own locks.
 */
#include "testbed/runner.h"
#include "testbed/host_remote.h"

#include "common/ticker.h"
#include "testbed/message.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The loop's step: how late a start, stop or signal may be noticed. */
#define TESTBED_TICK_S 0.05
/* How often the pressure models' inputs (committed memory) are refreshed. */
#define TESTBED_COMMITTED_S 0.1
/* How often the status line is redrawn. */
#define TESTBED_STATUS_S 0.25

/* path, or dir/path when path is relative and dir is given. malloc'ed. */
static char *testbed_run_resolve(const char *dir, const char *path)
{
    char *out = NULL;

    if (path[0] == '/' || !dir || !*dir || !strcmp(dir, "."))
        return strdup(path);
    if (asprintf(&out, "%s/%s", dir, path) < 0)
        return NULL;
    return out;
}

int testbed_run_mkdir_p(const char *path)
{
    char *copy = strdup(path), *p;
    int rc = 0;

    if (!copy)
        return -ENOMEM;
    for (p = copy + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
                rc = -errno;
                break;
            }
            *p = c;
            if (!c)
                break;
        }
    }
    free(copy);
    return rc;
}

size_t testbed_run_host_index(const struct testbed_run *r, const struct testbed_guest *g)
{
    return (size_t)(g->host - r->hosts);
}

/* Is path (resolved) dir itself or inside it (resolved)? */
static bool testbed_run_path_under(const char *dir, const char *path)
{
    size_t n = strlen(dir);

    return strncmp(dir, path, n) == 0 && (path[n] == '/' || path[n] == '\0' || n == 1);
}

/* No mount guest may mount on or inside another's mountpoint or source
 * (each guest's own pair tmemfs checked already). 0 or -EINVAL. */
static int testbed_run_check_paths(struct testbed_run *r, char *err, size_t errlen)
{
    const struct scenario *sc = r->sc;
    char mi[PATH_MAX], mj[PATH_MAX], sj[PATH_MAX];

    for (size_t i = 0; i < r->nguests; i++) {
        const struct testbed_guest *a = &r->guests[i];

        if (!a->mount || !realpath(a->mountpoint, mi))
            continue;
        for (size_t j = 0; j < r->nguests; j++) {
            const struct testbed_guest *b = &r->guests[j];
            char *src;
            bool bad_src;

            if (j == i || !b->mount || !realpath(b->mountpoint, mj))
                continue;
            src = testbed_run_resolve(sc->dir, b->sg->mount.source);
            bad_src = src && realpath(src, sj) && testbed_run_path_under(sj, mi);
            free(src);
            if (testbed_run_path_under(mj, mi) || bad_src) {
                testbed_message_guest(err, errlen, sc, a->sg,
                                      "mountpoint %s is guest %s's %s or inside it",
                                      a->mountpoint, b->sg->name,
                                      bad_src ? "source" : "mountpoint");
                return -EINVAL;
            }
        }
    }
    return 0;
}

int testbed_run_prepare(struct testbed_run *r, const struct scenario *sc, const char *outdir,
                        bool check_only, bool quiet, char *err, size_t errlen)
{
    int rc;

    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->control_lock, NULL);
    atomic_init(&r->stop_requested, false);
    r->sc = sc;
    testbed_status_init(&r->status, stderr, quiet);
    testbed_series_init(&r->series, sc->nhosts, sc->nguests);
    r->outdir = strdup(outdir);
    if (!r->outdir) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (size_t h = 0; h < sc->nhosts; h++) {
        char why[1024];

        /* a committed-memory slot for every guest: a guest may migrate in */
        rc = testbed_host_create(&r->hosts[h], &sc->hosts[h], sc->dir, sc->nguests, why,
                                 sizeof(why));
        r->nhosts = h + 1;
        if (rc != 0) {
            /* a schedule file names itself; anything else names the host's line */
            if (rc == -EINVAL && strchr(why, ':'))
                snprintf(err, errlen, "%s", why);
            else
                snprintf(err, errlen, "%s:%u: %s", sc->path, sc->hosts[h].line, why);
            return rc;
        }
        rc = testbed_host_remote_open(&r->hosts[h], sc, outdir, check_only, err, errlen);
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; i < sc->nguests; i++) {
        const struct scenario_guest *sg = &sc->guests[i];
        struct testbed_guest *g = &r->guests[i];
        struct testbed_host *h = &r->hosts[sg->host];
        uint32_t ps = tmem_page_size(h->tm);

        g->sg = sg;
        g->host = h;
        g->host_slot = i;
        g->state = TESTBED_GUEST_WAITING;
        g->started_s = g->stopped_s = -1;
        r->nguests = i + 1;
        if (sg->kind == SCENARIO_GUEST_MOUNT) {
            char *source = testbed_run_resolve(sc->dir, sg->mount.source);

            if (sg->mount.mountpoint)
                g->mountpoint = testbed_run_resolve(sc->dir, sg->mount.mountpoint);
            else if (asprintf(&g->mountpoint, "%s/mnt/%s", outdir, sg->name) < 0)
                g->mountpoint = NULL;
            if (asprintf(&g->log_path, "%s/%s.log", outdir, sg->name) < 0)
                g->log_path = NULL;
            if (!source || !g->mountpoint || !g->log_path) {
                free(source);
                snprintf(err, errlen, "out of memory");
                return -ENOMEM;
            }
            if (!check_only && !sg->mount.mountpoint) {
                rc = testbed_run_mkdir_p(g->mountpoint);
                if (rc != 0) {
                    free(source);
                    snprintf(err, errlen, "%s: cannot create it: %s", g->mountpoint,
                             strerror(-rc));
                    return rc;
                }
            }
            rc = testbed_mount_prepare(sc, sg, source, g->mountpoint, ps, check_only,
                                       &g->mount, err, errlen);
            free(source);
        } else if (sg->kind == SCENARIO_GUEST_STRESS) {
            rc = testbed_stress_prepare(sc, sg, ps, check_only, &g->stress, err, errlen);
        } else {
            rc = testbed_swap_prepare(sc, sg, ps, check_only, &g->swap, err, errlen);
        }
        if (rc != 0)
            return rc;
    }
    if (!check_only)
        return testbed_run_check_paths(r, err, errlen);
    return 0;
}

/* ----------------------------------------------------------- the loop */

static void testbed_run_fail_guest(struct testbed_run *r, struct testbed_guest *g,
                                   const char *why)
{
    char prefix[128]; /* "guest NAME: " (names: at most 63 characters) */
    size_t len;

    if (g->failed)
        return;
    g->failed = true;
    r->failed = true;
    /* the guests' own messages may name the guest already ("guest NAME: "
     * from the runner's guest modules, "NAME: " from swapsim): not twice */
    len = (size_t)snprintf(prefix, sizeof(prefix), "guest %s: ", g->sg->name);
    if (strncmp(why, prefix, len) == 0)
        why += len;
    else if (strncmp(why, prefix + 6, len - 6) == 0)
        why += len - 6;
    snprintf(g->failure, sizeof(g->failure), "%s", why);
    testbed_status_failure(&r->status, "FAILED: guest %s: %s", g->sg->name, why);
}

static void testbed_run_start_guest(struct testbed_run *r, struct testbed_guest *g, double t)
{
    char why[1024];
    int rc;

    if (g->mount)
        rc = testbed_mount_start(g->mount, g->host, g->log_path, why, sizeof(why));
    else if (g->stress)
        rc = testbed_stress_start(g->stress, g->host, why, sizeof(why));
    else
        rc = testbed_swap_start(g->swap, g->host, r->outdir, why, sizeof(why));
    if (rc != 0) {
        g->state = TESTBED_GUEST_STOPPED;
        g->stop_reason = "it could not start";
        g->stopped_s = t;
        testbed_run_fail_guest(r, g, why);
        return;
    }
    g->state = TESTBED_GUEST_RUNNING;
    g->started_s = t;
    if (g->mount)
        testbed_status_message(&r->status, "%7.2f s  %s started: %s on %s, workload: %s", t,
                               g->sg->name, g->sg->mount.source, g->mountpoint,
                               g->sg->mount.command);
    else if (g->stress)
        testbed_status_message(&r->status, "%7.2f s  %s started: stress guest, %u threads",
                               t, g->sg->name, g->sg->stress.threads);
    else
        testbed_status_message(&r->status, "%7.2f s  %s started: swap guest", t,
                               g->sg->name);
}

static void testbed_run_stop_guest(struct testbed_run *r, struct testbed_guest *g, double t,
                                   const char *reason)
{
    char why[1024];

    if (g->state != TESTBED_GUEST_RUNNING)
        return;
    if (g->mount) {
        testbed_mount_stop(g->mount, &g->final);
        if (testbed_mount_failed(g->mount, why, sizeof(why)))
            testbed_run_fail_guest(r, g, why);
    } else if (g->stress) {
        testbed_stress_stop(g->stress, &g->final);
        if (testbed_stress_failed(g->stress, why, sizeof(why)))
            testbed_run_fail_guest(r, g, why);
    } else {
        testbed_swap_stop(g->swap, &g->final);
        if (testbed_swap_failed(g->swap, why, sizeof(why)))
            testbed_run_fail_guest(r, g, why);
    }
    g->have_final = true;
    g->state = TESTBED_GUEST_STOPPED;
    g->stopped_s = t;
    g->stop_reason = g->failed ? "it failed" : reason;
    testbed_host_set_committed(g->host, g->host_slot, 0);
    testbed_status_message(&r->status, "%7.2f s  %s stopped: %s", t, g->sg->name,
                           g->stop_reason);
}

/* Has guest g nothing more to do (its workload over, or failed)? */
static bool testbed_run_guest_done(struct testbed_guest *g)
{
    if (g->stress)
        return testbed_stress_done(g->stress);
    return g->mount ? testbed_mount_done(g->mount) : testbed_swap_done(g->swap);
}

static int testbed_run_sample(struct testbed_run *r, double t)
{
    size_t i;
    int rc = testbed_series_append(&r->series, t);

    if (rc != 0)
        return rc;
    i = r->series.n - 1;
    for (size_t h = 0; h < r->nhosts; h++) {
        struct testbed_host_sample *hs = testbed_series_host(&r->series, i, h);

        /* between two capacity changes: after the last one's reclaim */
        testbed_host_lock(&r->hosts[h]);
        hs->capacity = tmem_capacity(r->hosts[h].tm);
        (void)tmem_stats(r->hosts[h].tm, &hs->store);
        testbed_host_unlock(&r->hosts[h]);
        testbed_host_remote_sample(&r->hosts[h], NULL, &hs->remote);
    }
    /* the guests' clients and hosts steady: no migration switches them */
    testbed_run_control_lock(r);
    for (size_t k = 0; k < r->nguests; k++) {
        struct testbed_guest *g = &r->guests[k];
        struct testbed_guest_sample *gs = testbed_series_guest(&r->series, i, k);

        if (g->state == TESTBED_GUEST_RUNNING) {
            if (g->mount)
                testbed_mount_sample(g->mount, gs);
            else if (g->stress)
                testbed_stress_sample(g->stress, gs);
            else
                testbed_swap_sample(g->swap, gs);
        } else if (g->have_final) {
            *gs = g->final;
            gs->running = false;
            memset(&gs->client, 0, sizeof(gs->client)); /* it left the store */
        }
        gs->host = testbed_run_host_index(r, g);
    }
    testbed_run_control_unlock(r);
    return 0;
}

/* Under the control lock: a migration moves a guest's host. */
static void testbed_run_update_committed(struct testbed_run *r)
{
    testbed_run_control_lock(r);
    for (size_t k = 0; k < r->nguests; k++) {
        struct testbed_guest *g = &r->guests[k];
        uint64_t bytes = 0;

        if (g->state == TESTBED_GUEST_RUNNING)
            bytes = g->mount ? testbed_mount_committed(g->mount)
                    : g->stress ? 0 /* no RAM of its own to balloon */
                                : testbed_swap_committed(g->swap);
        testbed_host_set_committed(g->host, g->host_slot, bytes);
    }
    testbed_run_control_unlock(r);
}

/* "12.3M", "unlimited": a size for the status line. */
static void testbed_run_mib(char *buf, size_t len, uint64_t bytes)
{
    if (bytes == TMEM_CAPACITY_UNLIMITED)
        snprintf(buf, len, "unlimited");
    else
        snprintf(buf, len, "%.1fM", (double)bytes / (1024.0 * 1024.0));
}

static void testbed_run_show_status(struct testbed_run *r, double t)
{
    char line[1024], a[32], b[32];
    size_t n = 0, last;

    if (!r->status.live || r->series.n == 0)
        return;
    last = r->series.n - 1;
    n += (size_t)snprintf(line + n, sizeof(line) - n, "%6.1f/%.0f s", t, r->sc->duration_s);
    for (size_t h = 0; h < r->nhosts && n < sizeof(line); h++) {
        struct tmem_stats st;

        memset(&st, 0, sizeof(st));
        (void)tmem_stats(r->hosts[h].tm, &st);
        testbed_run_mib(a, sizeof(a), tmem_capacity(r->hosts[h].tm));
        testbed_run_mib(b, sizeof(b), testbed_used_bytes(&st));
        n += (size_t)snprintf(line + n, sizeof(line) - n, " | %s%s%s used %s", r->nhosts > 1 ?
                              r->hosts[h].sh->name : "cap", r->nhosts > 1 ? " cap " : " ",
                              a, b);
    }
    for (size_t k = 0; k < r->nguests && n < sizeof(line); k++) {
        struct testbed_guest *g = &r->guests[k];
        double rate;

        if (g->state == TESTBED_GUEST_WAITING)
            n += (size_t)snprintf(line + n, sizeof(line) - n, " | %s waiting", g->sg->name);
        else if (testbed_series_hit_rate(&r->series, last, k, g->mount != NULL, &rate))
            n += (size_t)snprintf(line + n, sizeof(line) - n, " | %s %.0f%%", g->sg->name,
                                  rate * 100.0);
        else
            n += (size_t)snprintf(line + n, sizeof(line) - n, " | %s -%s", g->sg->name,
                                  g->state == TESTBED_GUEST_STOPPED ? " (stopped)" : "");
    }
    testbed_status_show(&r->status, line);
}

/* Every guest stopped and none still to start? */
static bool testbed_run_all_over(const struct testbed_run *r)
{
    for (size_t k = 0; k < r->nguests; k++)
        if (r->guests[k].state != TESTBED_GUEST_STOPPED)
            return false;
    return true;
}

int testbed_run_execute(struct testbed_run *r, const sigset_t *stop_signals)
{
    const struct scenario *sc = r->sc;
    double next_sample, next_committed = 0, next_status = 0, t = 0;
    const char *end_reason = "the end of the run";
    int rc = 0, e;

    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    for (size_t h = 0; h < r->nhosts; h++) {
        e = testbed_host_start(&r->hosts[h], &r->t0);
        if (e != 0) {
            snprintf(r->failure, sizeof(r->failure), "host %s: cannot start its pressure "
                     "thread: %s", r->hosts[h].sh->name, strerror(-e));
            rc = e;
            goto stop;
        }
    }
    if (testbed_run_sample(r, 0) != 0)
        goto nomem;
    testbed_run_control_lock(r);
    r->running = true;
    testbed_run_control_unlock(r);
    if (r->control)
        testbed_status_message(&r->status, "control: tmemctl --socket %s (or --testbed %d)",
                               control_server_path(r->control), (int)getpid());
    next_sample = sc->sample_interval_s;
    for (;;) {
        struct timespec tick = {0, (long)(TESTBED_TICK_S * 1e9)};
        int sig;

        t = ticker_seconds_since(&r->t0);
        for (size_t k = 0; k < r->nguests; k++) {
            struct testbed_guest *g = &r->guests[k];

            if (g->state == TESTBED_GUEST_WAITING && t >= g->sg->start_s &&
                t < sc->duration_s) {
                testbed_run_control_lock(r);
                testbed_run_start_guest(r, g, t);
                testbed_run_control_unlock(r);
            } else if (g->state == TESTBED_GUEST_RUNNING) {
                const char *why = NULL;

                if (g->sg->stop_s >= 0 && t >= g->sg->stop_s)
                    why = "its stop time";
                else if (testbed_run_guest_done(g))
                    why = "its workload ended";
                if (why) {
                    testbed_run_control_lock(r);
                    if (!g->migrating) /* else once its migration is over */
                        testbed_run_stop_guest(r, g, t, why);
                    testbed_run_control_unlock(r);
                }
            }
        }
        testbed_run_control_lock(r);
        testbed_run_migrate_tick(r, t);
        testbed_run_control_unlock(r);
        if (t >= next_committed) {
            testbed_run_update_committed(r);
            next_committed = t + TESTBED_COMMITTED_S;
        }
        if (t >= next_sample) {
            if (testbed_run_sample(r, t) != 0)
                goto nomem;
            while (next_sample <= t)
                next_sample += sc->sample_interval_s;
        }
        if (t >= next_status) {
            testbed_run_show_status(r, t);
            next_status = t + TESTBED_STATUS_S;
        }
        if (t >= sc->duration_s)
            break;
        if (testbed_run_all_over(r)) {
            end_reason = "every guest has stopped";
            break;
        }
        if (atomic_load(&r->stop_requested)) {
            r->stop_signal = SIGTERM;
            end_reason = "stopped by tmemctl stop";
            break;
        }
        sig = sigtimedwait(stop_signals, NULL, &tick);
        if (sig > 0) {
            r->stop_signal = sig;
            end_reason = sig == SIGINT ? "interrupted (SIGINT)" : "stopped by a signal";
            break;
        }
    }
    t = ticker_seconds_since(&r->t0);
    if (r->series.n == 0 || r->series.t[r->series.n - 1] < t - 1e-3) {
        if (testbed_run_sample(r, t) != 0)
            goto nomem;
    }
    goto stop;
nomem:
    rc = -ENOMEM;
    snprintf(r->failure, sizeof(r->failure), "out of memory for the samples");
stop:
    testbed_run_control_lock(r);
    r->running = false; /* no migration starts from now on */
    testbed_run_control_unlock(r);
    testbed_run_migrate_join_all(r);
    testbed_run_control_lock(r);
    testbed_run_migrate_tick(r, ticker_seconds_since(&r->t0)); /* report their ends */
    testbed_run_control_unlock(r);
    testbed_status_clear(&r->status);
    /* The pressure ends with the run; then the guests go, in reverse order. */
    for (size_t h = 0; h < r->nhosts; h++)
        testbed_host_stop(&r->hosts[h]);
    t = ticker_seconds_since(&r->t0);
    testbed_run_control_lock(r);
    for (size_t k = r->nguests; k-- > 0;)
        testbed_run_stop_guest(r, &r->guests[k], t, r->stop_signal ? end_reason
                                                                    : "the end of the run");
    testbed_run_control_unlock(r);
    r->length_s = r->series.n ? r->series.t[r->series.n - 1] : 0;
    testbed_status_message(&r->status, "%7.2f s  run over: %s", t, end_reason);
    if (rc != 0)
        r->failed = true;
    return rc;
}

void testbed_run_free(struct testbed_run *r)
{
    control_server_stop(r->control);
    r->control = NULL;
    for (size_t k = r->nguests; k-- > 0;) {
        struct testbed_guest *g = &r->guests[k];

        testbed_mount_free(g->mount);
        testbed_swap_free(g->swap);
        testbed_stress_free(g->stress);
        free(g->mountpoint);
        free(g->log_path);
    }
    r->nguests = 0;
    for (size_t h = 0; h < r->nhosts; h++)
        testbed_host_destroy(&r->hosts[h]);
    r->nhosts = 0;
    testbed_series_free(&r->series);
    free(r->outdir);
    r->outdir = NULL;
    pthread_mutex_destroy(&r->control_lock);
}
