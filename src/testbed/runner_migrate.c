/*
 * runner_migrate.c - live migration of a running swap guest from one of
 * the run's hosts to another (runner.h; docs/control.md "migrate").
 *
 * Models: a hypervisor's live migration of a guest VM, as Xen moved a
 * guest's tmem with it: the guest's frontswap pages are copied to the
 * destination store in pre-copy rounds while it keeps running, then it
 * stops briefly for the last changes and resumes on the destination
 * (swapsim_guest_migrate); pages the destination refuses go to the
 * guest's swap file, so nothing is lost. The runner's part is that
 * everything keyed on "the guest's host" follows it: its tmem client
 * (created on the destination with its name, weight, cap and frozen
 * state; the old one destroyed), its committed-memory slot (the source's
 * pressure model sees it leave, the destination's arrive), the host its
 * samples and reports are counted under, and where `list` shows it.
 *
 * Data structures: the run's migration log (testbed_run.migrations, a
 * fixed array, control_lock) and per guest its migrating flag and
 * thread. Threads: one thread per migration (testbed_run_migration_thread)
 * created by testbed_run_migrate_start from the control thread (tmemctl
 * migrate) or the runner's thread (the scenario's `migrate` key); the
 * control reply does not wait (tmemctl polls the log to wait).
 *
 * Locking: testbed_run_migrate_start runs with the control lock held.
 * The migration thread holds no lock of the runner while frontswap
 * moves (testbed_swap_migrate takes the destination's policy lock only
 * to create the client, swapsim its guest's lock), then takes the
 * control lock to switch the guest's client and host and to write the
 * log, releases it, and destroys the old client under the source's
 * policy lock (testbed_swap_migrate_end). So the runner never stops a
 * guest while g->migrating (it would wait, holding the control lock, for
 * a guest thread that waits for the migration, which waits for the
 * control lock), and at the run's end it joins every migration thread
 * (testbed_run_migrate_join_all) before stopping the guests. Order as
 * everywhere: control_lock, then a host's policy lock, then the store's
 * and the guest's own locks.
 */
#include "testbed/runner.h"

#include "common/error_text.h"
#include "common/stats_writer.h"
#include "common/ticker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a migration thread is given. */
struct testbed_migration_job {
    struct testbed_run *r;
    size_t guest;   /* index in r->guests */
    size_t id;      /* index in r->migrations */
    bool frozen;    /* the guest's frozen flag when it began */
};

static void *testbed_run_migration_thread(void *arg)
{
    struct testbed_migration_job *job = arg;
    struct testbed_run *r = job->r;
    struct testbed_guest *g = &r->guests[job->guest];
    struct testbed_migration *m = &r->migrations[job->id];
    struct testbed_host *to = &r->hosts[m->to]; /* m->to does not change */
    struct swapsim_migrate_stats st;
    char why[512] = "";
    int rc;

    rc = testbed_swap_migrate(g->swap, to, job->frozen, &st, why, sizeof(why));
    testbed_run_control_lock(r);
    if (rc == 0) {
        struct testbed_host *from = g->host;

        testbed_swap_migrate_switch(g->swap, g->frozen);
        g->host = to;
        /* the source's model sees it leave, the destination's arrive */
        testbed_host_set_committed(from, g->host_slot, 0);
        testbed_host_set_committed(to, g->host_slot, testbed_swap_committed(g->swap));
        m->state = TESTBED_MIGRATION_DONE;
    } else {
        m->state = TESTBED_MIGRATION_FAILED;
        snprintf(m->error, sizeof(m->error), "%s", why[0] ? why : strerror(-rc));
    }
    m->stats = st;
    m->ended_s = ticker_seconds_since(&r->t0);
    testbed_run_control_unlock(r);
    testbed_swap_migrate_end(g->swap); /* the old client goes; swapoff allowed again */
    testbed_run_control_lock(r);
    g->migrating = false;
    testbed_run_control_unlock(r);
    free(job);
    return NULL;
}

static const char *testbed_run_state_word(enum testbed_guest_state s)
{
    return s == TESTBED_GUEST_WAITING ? "waiting" : "stopped";
}

int testbed_run_migrate_start(struct testbed_run *r, struct testbed_guest *g,
                              struct testbed_host *to, const char *by, size_t *id, char *err,
                              size_t errlen)
{
    struct testbed_migration_job *job;
    struct testbed_migration *m;
    int rc;

    if (!r->running) {
        error_text_set(err, errlen, "the run is not running");
        return -EAGAIN;
    }
    if (!g->swap) {
        error_text_set(err, errlen, "guest %s is a %s guest: only swap guests migrate (%s)",
                       g->sg->name, g->mount ? "mount" : "stress", g->mount ?
                       "a mount's cleancache pages are ephemeral and its file system "
                       "stays on its host; docs/control.md" : "docs/control.md");
        return -EINVAL;
    }
    if (g->state != TESTBED_GUEST_RUNNING) {
        error_text_set(err, errlen, "guest %s is not running (%s)", g->sg->name,
                       testbed_run_state_word(g->state));
        return -EINVAL;
    }
    if (g->migrating) {
        error_text_set(err, errlen, "guest %s: a migration of it is already running",
                       g->sg->name);
        return -EBUSY;
    }
    if (to == g->host) {
        error_text_set(err, errlen, "guest %s is on host %s already", g->sg->name,
                       to->sh->name);
        return -EINVAL;
    }
    if (tmem_page_size(to->tm) != testbed_swap_page_size(g->swap)) {
        error_text_set(err, errlen, "host %s's store has %u-byte pages and guest %s's are "
                       "%u bytes: it cannot move there", to->sh->name,
                       tmem_page_size(to->tm), g->sg->name, testbed_swap_page_size(g->swap));
        return -EINVAL;
    }
    if (r->nmigrations == TESTBED_MAX_MIGRATIONS) {
        error_text_set(err, errlen, "too many migrations in this run (at most %d)",
                       TESTBED_MAX_MIGRATIONS);
        return -ENOSPC;
    }
    job = calloc(1, sizeof(*job));
    if (!job) {
        error_text_set(err, errlen, "out of memory");
        return -ENOMEM;
    }
    rc = testbed_swap_migrate_begin(g->swap, err, errlen);
    if (rc != 0) {
        free(job);
        return rc;
    }
    if (g->migration_joinable) { /* the last one is over (g->migrating was false) */
        pthread_join(g->migration_thread, NULL);
        g->migration_joinable = false;
    }
    m = &r->migrations[r->nmigrations];
    memset(m, 0, sizeof(*m));
    m->guest = (size_t)(g - r->guests);
    m->from = testbed_run_host_index(r, g);
    m->to = (size_t)(to - r->hosts);
    m->by = by;
    m->started_s = ticker_seconds_since(&r->t0);
    m->ended_s = -1;
    m->state = TESTBED_MIGRATION_RUNNING;
    job->r = r;
    job->guest = m->guest;
    job->id = r->nmigrations;
    job->frozen = g->frozen;
    rc = pthread_create(&g->migration_thread, NULL, testbed_run_migration_thread, job);
    if (rc != 0) {
        testbed_swap_migrate_end(g->swap);
        free(job);
        error_text_set(err, errlen, "guest %s: cannot start the migration's thread: %s",
                       g->sg->name, strerror(rc));
        return -rc;
    }
    g->migrating = true;
    g->migration_joinable = true;
    if (id)
        *id = r->nmigrations;
    r->nmigrations++;
    return 0;
}

/* Log a scenario migration that could not start (control lock held). */
static void testbed_run_migrate_refused(struct testbed_run *r, struct testbed_guest *g,
                                        size_t to, double t, const char *why)
{
    struct testbed_migration *m;

    testbed_status_message(&r->status, "%7.2f s  %s: migration to %s refused: %s", t,
                           g->sg->name, r->hosts[to].sh->name, why);
    if (r->nmigrations == TESTBED_MAX_MIGRATIONS)
        return;
    m = &r->migrations[r->nmigrations++];
    memset(m, 0, sizeof(*m));
    m->guest = (size_t)(g - r->guests);
    m->from = testbed_run_host_index(r, g);
    m->to = to;
    m->by = "scenario";
    m->started_s = m->ended_s = t;
    m->state = TESTBED_MIGRATION_FAILED;
    m->reported = true;
    snprintf(m->error, sizeof(m->error), "%s", why);
}

void testbed_run_migrate_tick(struct testbed_run *r, double t)
{
    for (size_t k = 0; k < r->nguests; k++) {
        struct testbed_guest *g = &r->guests[k];
        const struct scenario_swap *ss = &g->sg->swap;

        if (!g->swap || g->next_migration >= ss->nmigrations)
            continue;
        if (t < ss->migrations[g->next_migration].at_s || g->migrating ||
            g->state == TESTBED_GUEST_WAITING)
            continue; /* not due, or the last one still runs: at a later step */
        {
            const struct scenario_migration *sm = &ss->migrations[g->next_migration++];
            struct testbed_host *to = &r->hosts[sm->host];
            char why[512];
            size_t id;

            if (testbed_run_migrate_start(r, g, to, "scenario", &id, why, sizeof(why)) != 0)
                testbed_run_migrate_refused(r, g, sm->host, t, why);
            else
                testbed_status_message(&r->status, "%7.2f s  %s: migrating from %s to %s",
                                       t, g->sg->name,
                                       r->hosts[r->migrations[id].from].sh->name,
                                       to->sh->name);
        }
    }
    for (size_t i = 0; i < r->nmigrations; i++) {
        struct testbed_migration *m = &r->migrations[i];

        if (m->reported || m->state == TESTBED_MIGRATION_RUNNING)
            continue;
        m->reported = true;
        if (m->state == TESTBED_MIGRATION_DONE)
            testbed_status_message(&r->status, "%7.2f s  %s: migrated from %s to %s: %u "
                                   "round%s, %llu pages moved, stopped %.1f ms", m->ended_s,
                                   r->guests[m->guest].sg->name, r->hosts[m->from].sh->name,
                                   r->hosts[m->to].sh->name, m->stats.rounds,
                                   m->stats.rounds == 1 ? "" : "s",
                                   (unsigned long long)m->stats.pages_moved,
                                   (double)m->stats.stop_ns / 1e6);
        else
            testbed_status_message(&r->status, "%7.2f s  %s: migration to %s FAILED: %s",
                                   m->ended_s, r->guests[m->guest].sg->name,
                                   r->hosts[m->to].sh->name, m->error);
    }
}

void testbed_run_migrate_join_all(struct testbed_run *r)
{
    for (size_t k = 0; k < r->nguests; k++) {
        struct testbed_guest *g = &r->guests[k];
        pthread_t thread;
        bool join;

        testbed_run_control_lock(r);
        join = g->migration_joinable;
        thread = g->migration_thread;
        g->migration_joinable = false;
        testbed_run_control_unlock(r);
        if (join)
            pthread_join(thread, NULL);
    }
}

const char *testbed_migration_state_name(enum testbed_migration_state s)
{
    return s == TESTBED_MIGRATION_RUNNING ? "running"
           : s == TESTBED_MIGRATION_DONE  ? "done"
                                          : "failed";
}

json_t *testbed_migration_json(const struct testbed_run *r, const struct testbed_migration *m)
{
    const struct swapsim_migrate_stats *st = &m->stats;
    json_t *o = json_object();
    int bad = !o;

    if (!o)
        return NULL;
    bad |= stats_json_set(o, "guest", stats_json_string(r->guests[m->guest].sg->name));
    bad |= stats_json_set(o, "from", stats_json_string(r->hosts[m->from].sh->name));
    bad |= stats_json_set(o, "to", stats_json_string(r->hosts[m->to].sh->name));
    bad |= stats_json_set(o, "by", stats_json_string(m->by));
    bad |= stats_json_set(o, "state", stats_json_string(testbed_migration_state_name(m->state)));
    bad |= stats_json_set(o, "started_s", stats_json_real(m->started_s, 3));
    bad |= stats_json_set(o, "ended_s", m->ended_s >= 0 ? stats_json_real(m->ended_s, 3)
                                                        : json_null());
    bad |= stats_json_set(o, "total_ms", stats_json_real((double)st->total_ns / 1e6, 3));
    bad |= stats_json_set(o, "stop_ms", stats_json_real((double)st->stop_ns / 1e6, 3));
    bad |= stats_json_set(o, "rounds", stats_json_u64(st->rounds));
    bad |= stats_json_set(o, "pages_sent", stats_json_u64(st->pages_sent));
    bad |= stats_json_set(o, "pages_resent", stats_json_u64(st->pages_resent));
    bad |= stats_json_set(o, "pages_flushed", stats_json_u64(st->pages_flushed));
    bad |= stats_json_set(o, "pages_refused", stats_json_u64(st->pages_refused));
    bad |= stats_json_set(o, "pages_to_swapfile", stats_json_u64(st->pages_to_swapfile));
    bad |= stats_json_set(o, "pages_at_stop", stats_json_u64(st->pages_at_stop));
    bad |= stats_json_set(o, "pages_moved", stats_json_u64(st->pages_moved));
    bad |= stats_json_set(o, "bytes_sent", stats_json_u64(st->bytes_sent));
    bad |= stats_json_set(o, "error", m->state == TESTBED_MIGRATION_FAILED
                                          ? stats_json_string(m->error) : json_null());
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void testbed_migration_summary(FILE *f, const struct testbed_run *r)
{
    size_t done = 0;

    if (r->nmigrations == 0)
        return;
    for (size_t i = 0; i < r->nmigrations; i++)
        done += r->migrations[i].state == TESTBED_MIGRATION_DONE;
    fprintf(f, "migrations: %zu (%zu done, %zu failed)\n", r->nmigrations, done,
            r->nmigrations - done);
    for (size_t i = 0; i < r->nmigrations; i++) {
        const struct testbed_migration *m = &r->migrations[i];
        const struct swapsim_migrate_stats *st = &m->stats;

        fprintf(f, "  %s: %s -> %s (by %s) at %.2f s: %s", r->guests[m->guest].sg->name,
                r->hosts[m->from].sh->name, r->hosts[m->to].sh->name, m->by, m->started_s,
                testbed_migration_state_name(m->state));
        if (m->state == TESTBED_MIGRATION_FAILED)
            fprintf(f, ": %s", m->error);
        fprintf(f, "\n    %u round%s, %llu pages sent (%llu resent, %llu at the stop), %llu "
                   "refused, %llu to the swap file, %llu moved, %.1f MiB; stopped %.3f ms, "
                   "total %.1f ms\n", st->rounds, st->rounds == 1 ? "" : "s",
                (unsigned long long)st->pages_sent,
                (unsigned long long)st->pages_resent, (unsigned long long)st->pages_at_stop,
                (unsigned long long)st->pages_refused,
                (unsigned long long)st->pages_to_swapfile, (unsigned long long)st->pages_moved,
                (double)st->bytes_sent / (1024.0 * 1024.0), (double)st->stop_ns / 1e6,
                (double)st->total_ns / 1e6);
    }
}
