/*
 * replay_sweep.c - miss-ratio curves by simulation (replay.h "sweeps"):
 * the same replay once per cleancache capacity, on several threads, then
 * a CSV row and a plot point per capacity.
 *
 * Model: point i is replay_run of cfg with capacity_pages = caps[i], its
 * own store and reader, nothing shared but cfg->interrupt (the series and
 * the progress hook are left out: they would mix the points). A capacity
 * of 0 pages is the run without cleancache (tmem off): "no room" rather
 * than replay.h's "0: use capacity_bytes".
 *
 * Threads: a pool of min(threads, n) workers (threads 0: one a CPU) takes
 * points in order from an atomic counter; each writes only its own
 * results[i]. After an error no new point is started; the error reported
 * is that of the lowest point that failed (so the message does not depend
 * on timing). Lock: sweep->lock guards the error slot only.
 */
#include "replay/replay_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error_text.h"
#include "common/gnuplot.h"

#define SWEEP_ERRLEN 512

struct sweep {
    const struct replay_config *cfg;
    const uint64_t *caps;
    size_t n;
    struct replay_result *results;
    atomic_size_t next;       /* the next point to run */
    atomic_bool failed;       /* stop starting points */
    pthread_mutex_t lock;     /* guards the fields below */
    size_t error_point;       /* lowest failed point (n: none) */
    int error;
    char err[SWEEP_ERRLEN];
};

static void sweep_point(struct sweep *s, size_t i)
{
    struct replay_config pc = *s->cfg;
    char err[SWEEP_ERRLEN] = "";
    int rc;

    pc.capacity_pages = s->caps[i];
    if (s->caps[i] == 0)
        pc.tmem = false;
    pc.series = NULL;
    pc.series_every = 0;
    pc.progress = NULL;
    memset(&s->results[i], 0, sizeof(s->results[i]));
    rc = replay_run(&pc, &s->results[i], err, sizeof(err));
    if (rc == 0)
        return;
    atomic_store(&s->failed, true);
    pthread_mutex_lock(&s->lock);
    if (i < s->error_point) {
        s->error_point = i;
        s->error = rc;
        error_text_set(s->err, sizeof(s->err), "capacity %" PRIu64 " pages: %s", s->caps[i],
                       err);
    }
    pthread_mutex_unlock(&s->lock);
}

static void *sweep_worker(void *arg)
{
    struct sweep *s = arg;

    while (!atomic_load(&s->failed)) {
        size_t i = atomic_fetch_add(&s->next, 1);
        if (i >= s->n)
            break;
        sweep_point(s, i);
    }
    return NULL;
}

int replay_sweep(const struct replay_config *cfg, const uint64_t *caps_pages, size_t n,
                 unsigned threads, struct replay_result *results, char *err, size_t errlen)
{
    struct sweep s;
    pthread_t *tids = NULL;
    size_t started = 0;
    int rc = 0;

    if (n == 0) {
        error_text_set(err, errlen, "a sweep needs at least one capacity");
        return -EINVAL;
    }
    memset(&s, 0, sizeof(s));
    s.cfg = cfg;
    s.caps = caps_pages;
    s.n = n;
    s.results = results;
    s.error_point = n;
    atomic_init(&s.next, 0);
    atomic_init(&s.failed, false);
    rc = pthread_mutex_init(&s.lock, NULL);
    if (rc) {
        error_text_set(err, errlen, "sweep: %s", strerror(rc));
        return -rc;
    }
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 0 ? (unsigned)cpus : 1;
    }
    if (threads > n)
        threads = (unsigned)n;
    if (threads > 1) {
        tids = calloc(threads - 1, sizeof(*tids));
        if (!tids) {
            rc = -ENOMEM;
            error_text_set(err, errlen, "out of memory");
            goto out;
        }
        for (; started < threads - 1; started++)
            if (pthread_create(&tids[started], NULL, sweep_worker, &s) != 0)
                break; /* fewer threads: the others take the points */
    }
    sweep_worker(&s); /* the calling thread is a worker too */
    for (size_t t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    if (s.error_point < n) {
        rc = s.error;
        error_text_set(err, errlen, "%s", s.err);
    }
out:
    free(tids);
    pthread_mutex_destroy(&s.lock);
    return rc;
}

/* Page reads served by either cache, per one (0 when there were none). */
static double sweep_hit_ratio(const struct replay_result *r)
{
    uint64_t hits = r->counters.c[TMEMFS_GUEST_HITS] + r->counters.c[TMEMFS_SUCC_GETS];
    uint64_t reads = r->counters.c[TMEMFS_GUEST_HITS] + r->counters.c[TMEMFS_GUEST_MISSES];

    return reads ? (double)hits / (double)reads : 0.0;
}

int replay_sweep_write_csv(FILE *f, const uint64_t *caps_pages, size_t n,
                           const struct replay_result *results)
{
    fprintf(f, "capacity_pages,guest_hits,guest_misses,succ_gets,failed_gets,hit_ratio,"
               "backing_pages_read,device_time_us\n");
    for (size_t i = 0; i < n; i++) {
        const struct replay_result *r = &results[i];
        const uint64_t *c = r->counters.c;

        fprintf(f, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.6f,%" PRIu64
                   ",%" PRIu64 "\n",
                caps_pages[i], c[TMEMFS_GUEST_HITS], c[TMEMFS_GUEST_MISSES],
                c[TMEMFS_SUCC_GETS], c[TMEMFS_FAILED_GETS], sweep_hit_ratio(r),
                c[TMEMFS_BACKING_PAGES_READ],
                guest_device_price_ns(&r->gauges.profile, &r->gauges.device) / 1000);
    }
    return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}

int replay_sweep_plot(const char *path, const uint64_t *caps_pages, size_t n,
                      const struct replay_result *results, const double (*curve)[2],
                      size_t npoints, char *err, size_t errlen)
{
    char *script = NULL, *log = NULL;
    bool svg = gnuplot_path_is_svg(path), logx = false;
    uint64_t lo = UINT64_MAX, hi = 0;
    FILE *f = NULL;
    int rc = -ENOMEM;

    if (asprintf(&script, "%s.gp", path) < 0 || asprintf(&log, "%s.log", path) < 0) {
        script = log = NULL;
        error_text_set(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (caps_pages[i] && caps_pages[i] < lo)
            lo = caps_pages[i];
        if (caps_pages[i] > hi)
            hi = caps_pages[i];
    }
    /* a log axis when the capacities span two decades and none is 0 */
    logx = lo != UINT64_MAX && hi / lo >= 100;
    for (size_t i = 0; i < n && logx; i++)
        logx = caps_pages[i] != 0;
    f = fopen(script, "w");
    if (!f) {
        rc = -errno;
        error_text_set(err, errlen, "%s: %s", script, strerror(errno));
        goto out;
    }
    fprintf(f, "# %s - tmem-replay sweep: total hit ratio against cleancache capacity\n"
               "# (redraw: gnuplot %s)\n$sweep << EOD\n", script, script);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%" PRIu64 " %.6f\n", caps_pages[i], 100.0 * sweep_hit_ratio(&results[i]));
    fprintf(f, "EOD\n");
    if (curve && npoints) {
        fprintf(f, "$curve << EOD\n");
        for (size_t i = 0; i < npoints; i++)
            fprintf(f, "%.6g %.6f\n", curve[i][0], 100.0 * curve[i][1]);
        fprintf(f, "EOD\n");
    }
    gnuplot_terminal(f, svg, path, 900, 560);
    fprintf(f, "set title 'page reads served by the guest cache or cleancache'\n"
               "set xlabel 'cleancache capacity (pages)'\nset ylabel 'hit ratio (%%)'\n"
               "set yrange [0:100]\nset grid\nset key bottom right\n%s",
            logx ? "set logscale x 2\n" : "");
    fprintf(f, "plot $sweep using 1:2 with linespoints pt 7 lw 2 title 'simulated sweep'");
    if (curve && npoints)
        fprintf(f, ", \\\n     $curve using 1:2 with lines lw 1 dt 2 title 'exact LRU curve'");
    fprintf(f, "\nset output\n");
    if (fclose(f) != 0) {
        f = NULL;
        rc = -EIO;
        error_text_set(err, errlen, "%s: write failed", script);
        goto out;
    }
    f = NULL;
    rc = gnuplot_run(script, log);
    if (rc == -ENOENT)
        error_text_set(err, errlen, "gnuplot is not installed (Debian: apt-get install "
                                    "gnuplot-nox)");
    else if (rc != 0)
        error_text_set(err, errlen, "gnuplot failed on %s (its messages: %s)", script, log);
    else
        unlink(log);
out:
    if (f)
        fclose(f);
    free(script);
    free(log);
    return rc;
}
