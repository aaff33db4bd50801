/*
 * main.c - tmem-replay [options] TRACE: replay a page trace through
 * tmemfs's read path (file traces) or the swapsim guest (anonymous
 * traces) and print what cleancache or frontswap gave (replay.h,
 * docs/traces.md "Replaying").
 *
 * The program: options -> struct replay_config, one replay_run (or a
 * sweep: replay_sweep over --sweep's capacities), the result written as
 * text or JSON. A progress line on stderr while it runs, only when
 * stderr is a terminal and not --quiet: a thread on a ticker
 * (common/ticker.h) reads the replay's atomic progress counters.
 * SIGINT / SIGTERM set the replay's interrupt flag from the handler
 * (the flag is the only thing shared with it); the replay stops, the
 * partial result is written, marked interrupted, and the exit status is
 * 128 + the signal. Exit 2: bad usage; 1: the replay failed (bad trace,
 * I/O, a mismatch).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/number.h"
#include "common/size.h"
#include "common/ticker.h"
#include "common/yesno.h"
#include "replay/replay.h"

#define ERRLEN 2048
#define MAX_SWEEP 4096

static const char usage_text[] =
    "usage: tmem-replay [options] TRACE\n"
    "\n"
    "Replay a page trace (docs/traces.md) and say what cleancache (file traces) or\n"
    "frontswap (anonymous traces) would have given.\n"
    "\n"
    "  --mode data|metadata     data: tmemfs's read path with generated pages, checked\n"
    "                           (default); metadata: the fast model, file traces only\n"
    "  --guest-pages N          guest page cache (file) or RAM (anon) in pages (1024)\n"
    "  --guest-cache SIZE       the same in bytes (SIZE: %s)\n"
    "  --policy lru|clock       guest page replacement (lru)\n"
    "  --capacity SIZE          the tmem store's budget (default unlimited)\n"
    "  --capacity-pages N       cleancache holds at most N pages (file traces)\n"
    "  --no-tmem                no cleancache / frontswap: the baseline\n"
    "  --compressor C           none (default), lz4, zstd or zstd:LEVEL\n"
    "  --dedup on|off           share identical pages (off)\n"
    "  --same-filled on|off     store one-word pages as the word (off)\n"
    "  --device PROFILE         prices backing reads: %s (sata-ssd)\n"
    "  --vpages N               anonymous traces: address space in pages (default:\n"
    "                           the largest virtual page + 1)\n"
    "  --json                   write the result as one JSON document\n"
    "  --output FILE            write the result to FILE (default standard output)\n"
    "  --series FILE            counters every --series-every records to FILE\n"
    "  --series-every N         records between series rows (default 10000)\n"
    "  --series-format csv|json one CSV row or one JSON object a line (csv)\n"
    "  --sweep N1,N2,...        replay once per cleancache size in pages (a miss-ratio\n"
    "                           curve by simulation); prints CSV\n"
    "  --threads N              sweep threads (default: one a CPU)\n"
    "  --sweep-csv FILE         write the sweep's CSV to FILE\n"
    "  --plot FILE              plot the sweep (.png or .svg; needs gnuplot)\n"
    "  --quiet                  no progress line\n"
    "  -h, --help               this text\n"
    "  --version                the program's and the trace format's versions\n"
    "\n"
    "Exit status: 0 ok, 1 the replay failed, 2 bad usage, 128+N stopped by signal N\n"
    "(the partial result is written, marked interrupted).\n";

static atomic_int interrupt_flag;
static volatile sig_atomic_t interrupt_signal;

static void on_signal(int sig)
{
    interrupt_signal = sig;
    atomic_store(&interrupt_flag, 1);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("tmem-replay: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (tmem-replay --help)\n", stderr);
    return 2;
}

/* "N1,N2,..." -> caps (at most MAX_SWEEP). Returns the count or -EINVAL. */
static long parse_sweep(const char *text, uint64_t *caps)
{
    char item[64];
    long n = 0;
    const char *p = text;

    while (*p) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof(item) || n >= MAX_SWEEP)
            return -EINVAL;
        memcpy(item, p, len);
        item[len] = 0;
        if (number_parse_u64(item, 0, 1, UINT32_MAX, &caps[n]) < 0)
            return -EINVAL;
        n++;
        p += len;
        if (*p == ',' && *++p == 0)
            return -EINVAL;
    }
    return n ? n : -EINVAL;
}

/* ------------------------------------------------------------- progress */

struct progress_line {
    struct replay_progress *progress;
    struct ticker ticker;
    pthread_t thread;
    bool shown;
};

static void *progress_loop(void *arg)
{
    struct progress_line *pl = arg;
    char line[160];

    for (double next = 0.5; ticker_wait_until(&pl->ticker, next); next += 0.5) {
        uint64_t done = atomic_load_explicit(&pl->progress->records, memory_order_relaxed);
        uint64_t total = atomic_load_explicit(&pl->progress->total, memory_order_relaxed);
        double t = ticker_elapsed(&pl->ticker), rate = t > 0 ? (double)done / t : 0;
        int n = snprintf(line, sizeof(line), "replaying: %" PRIu64 " records, %.0f records/s",
                         done, rate);

        if (total && n > 0 && (size_t)n < sizeof(line)) {
            double left = rate > 0 && total > done ? (double)(total - done) / rate : 0;
            snprintf(line + n, sizeof(line) - (size_t)n, ", %.1f%%, ETA %.0f s",
                     100.0 * (double)done / (double)total, left);
        }
        fprintf(stderr, "\r%-79.79s", line);
        fflush(stderr);
        pl->shown = true;
    }
    if (pl->shown)
        fprintf(stderr, "\r%79s\r", "");
    return NULL;
}

static bool progress_start(struct progress_line *pl, struct replay_progress *p)
{
    pl->progress = p;
    pl->shown = false;
    if (ticker_init(&pl->ticker, NULL) != 0)
        return false;
    if (pthread_create(&pl->thread, NULL, progress_loop, pl) != 0) {
        ticker_destroy(&pl->ticker);
        return false;
    }
    return true;
}

static void progress_stop(struct progress_line *pl)
{
    ticker_stop(&pl->ticker);
    pthread_join(pl->thread, NULL);
    ticker_destroy(&pl->ticker);
}

/* ------------------------------------------------------------------ main */

enum {
    OPT_MODE = 256, OPT_GUEST_PAGES, OPT_GUEST_CACHE, OPT_POLICY, OPT_CAPACITY,
    OPT_CAPACITY_PAGES, OPT_NO_TMEM, OPT_COMPRESSOR, OPT_DEDUP, OPT_SAME_FILLED, OPT_DEVICE,
    OPT_VPAGES, OPT_JSON, OPT_OUTPUT, OPT_SERIES, OPT_SERIES_EVERY, OPT_SERIES_FORMAT,
    OPT_SWEEP, OPT_THREADS, OPT_SWEEP_CSV, OPT_PLOT, OPT_QUIET, OPT_VERSION,
};

static const struct option long_options[] = {
    { "mode", required_argument, NULL, OPT_MODE },
    { "guest-pages", required_argument, NULL, OPT_GUEST_PAGES },
    { "guest-cache", required_argument, NULL, OPT_GUEST_CACHE },
    { "policy", required_argument, NULL, OPT_POLICY },
    { "capacity", required_argument, NULL, OPT_CAPACITY },
    { "capacity-pages", required_argument, NULL, OPT_CAPACITY_PAGES },
    { "no-tmem", no_argument, NULL, OPT_NO_TMEM },
    { "compressor", required_argument, NULL, OPT_COMPRESSOR },
    { "dedup", required_argument, NULL, OPT_DEDUP },
    { "same-filled", required_argument, NULL, OPT_SAME_FILLED },
    { "device", required_argument, NULL, OPT_DEVICE },
    { "vpages", required_argument, NULL, OPT_VPAGES },
    { "json", no_argument, NULL, OPT_JSON },
    { "output", required_argument, NULL, OPT_OUTPUT },
    { "series", required_argument, NULL, OPT_SERIES },
    { "series-every", required_argument, NULL, OPT_SERIES_EVERY },
    { "series-format", required_argument, NULL, OPT_SERIES_FORMAT },
    { "sweep", required_argument, NULL, OPT_SWEEP },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "sweep-csv", required_argument, NULL, OPT_SWEEP_CSV },
    { "plot", required_argument, NULL, OPT_PLOT },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

struct options {
    struct replay_config cfg;
    const char *guest_cache, *output, *series_path, *sweep_csv, *plot;
    uint64_t guest_pages;
    bool guest_pages_set, json, quiet, series_every_set;
    uint64_t caps[MAX_SWEEP];
    long ncaps;
    uint64_t threads;
};

/* Parse argv into o. Returns 0, 2 (usage error, printed), or -1 (help or
 * version printed: exit 0). */
static int parse_options(int argc, char **argv, struct options *o)
{
    struct replay_config *cfg = &o->cfg;
    uint64_t v;
    int c;

    replay_config_init(cfg);
    cfg->series_every = 10000;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        const char *a = optarg;
        switch (c) {
        case OPT_MODE:
            if (replay_mode_parse(a, &cfg->mode) < 0)
                return usage_error("--mode: '%s' is not data or metadata", a);
            break;
        case OPT_GUEST_PAGES:
            if (number_parse_u64(a, 0, 1, UINT32_MAX - 1, &v) < 0)
                return usage_error("--guest-pages: '%s' is not a page count (1..%u)", a,
                                   UINT32_MAX - 1);
            cfg->guest_pages = v;
            o->guest_pages_set = true;
            break;
        case OPT_GUEST_CACHE:
            o->guest_cache = a;
            break;
        case OPT_POLICY:
            if (guest_replace_parse(a, &cfg->policy) < 0)
                return usage_error("--policy: '%s' is not lru or clock", a);
            break;
        case OPT_CAPACITY:
            if (size_parse(a, true, &cfg->capacity_bytes) < 0)
                return usage_error("--capacity: '%s' is not a size (%s)", a, size_grammar(true));
            break;
        case OPT_CAPACITY_PAGES:
            if (number_parse_u64(a, 0, 1, UINT32_MAX, &cfg->capacity_pages) < 0)
                return usage_error("--capacity-pages: '%s' is not a page count (1..%u)", a,
                                   UINT32_MAX);
            break;
        case OPT_NO_TMEM:
            cfg->tmem = false;
            break;
        case OPT_COMPRESSOR:
            if (tmem_compressor_parse(a, &cfg->compressor, &cfg->compress_level) < 0)
                return usage_error("--compressor: '%s' is not none, lz4, zstd or zstd:LEVEL "
                                   "(1..19)", a);
            break;
        case OPT_DEDUP:
            if (yesno_parse(a, &cfg->dedup) < 0)
                return usage_error("--dedup: '%s' is not %s", a, YESNO_GRAMMAR);
            break;
        case OPT_SAME_FILLED:
            if (yesno_parse(a, &cfg->same_filled) < 0)
                return usage_error("--same-filled: '%s' is not %s", a, YESNO_GRAMMAR);
            break;
        case OPT_DEVICE:
            if (guest_device_profile_parse(a, &cfg->device) < 0)
                return usage_error("--device: '%s' is not %s", a, guest_device_grammar());
            break;
        case OPT_VPAGES:
            if (number_parse_u64(a, 0, 1, UINT32_MAX - 1, &cfg->anon_vpages) < 0)
                return usage_error("--vpages: '%s' is not a page count (1..%u)", a,
                                   UINT32_MAX - 1);
            break;
        case OPT_JSON:
            o->json = true;
            break;
        case OPT_OUTPUT:
            o->output = a;
            break;
        case OPT_SERIES:
            o->series_path = a;
            break;
        case OPT_SERIES_EVERY:
            if (number_parse_u64(a, 0, 1, UINT64_MAX, &cfg->series_every) < 0)
                return usage_error("--series-every: '%s' is not a record count (>= 1)", a);
            o->series_every_set = true;
            break;
        case OPT_SERIES_FORMAT:
            if (strcmp(a, "csv") == 0)
                cfg->series_format = REPLAY_SERIES_CSV;
            else if (strcmp(a, "json") == 0)
                cfg->series_format = REPLAY_SERIES_JSON;
            else
                return usage_error("--series-format: '%s' is not csv or json", a);
            break;
        case OPT_SWEEP:
            o->ncaps = parse_sweep(a, o->caps);
            if (o->ncaps < 0)
                return usage_error("--sweep: '%s' is not a list of page counts N1,N2,... "
                                   "(1..%u, at most %d)", a, UINT32_MAX, MAX_SWEEP);
            break;
        case OPT_THREADS:
            if (number_parse_u64(a, 0, 0, 1024, &o->threads) < 0)
                return usage_error("--threads: '%s' is not a thread count (0..1024)", a);
            break;
        case OPT_SWEEP_CSV:
            o->sweep_csv = a;
            break;
        case OPT_PLOT:
            o->plot = a;
            break;
        case OPT_QUIET:
            o->quiet = true;
            break;
        case 'h':
            printf(usage_text, size_grammar(false), guest_device_grammar());
            return -1;
        case OPT_VERSION:
            printf("tmem-replay (tmem-testbed), page trace format version %u\n", TRACE_VERSION);
            return -1;
        case ':':
            return usage_error("%s needs an argument", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return usage_error(optind == argc ? "no TRACE given" : "one TRACE only, got '%s' too",
                           optind < argc ? argv[optind + 1] : "");
    cfg->trace_path = argv[optind];
    if (o->guest_cache) {
        if (o->guest_pages_set)
            return usage_error("--guest-pages and --guest-cache: give one");
        if (size_parse(o->guest_cache, false, &v) < 0 || v < 4096)
            return usage_error("--guest-cache: '%s' is not a size of at least 4K (%s)",
                               o->guest_cache, size_grammar(false));
        o->guest_pages = v; /* bytes: made pages once the page size is known */
    }
    if (!o->series_path && o->series_every_set)
        return usage_error("--series-every needs --series FILE");
    if (!o->ncaps && (o->sweep_csv || o->plot || o->threads))
        return usage_error("--sweep-csv, --plot and --threads need --sweep");
    if (o->ncaps && o->series_path)
        return usage_error("--series and --sweep: give one");
    if (o->ncaps && cfg->capacity_pages)
        return usage_error("--capacity-pages and --sweep: the sweep sets the capacity");
    if (!cfg->tmem && (cfg->capacity_pages || o->ncaps))
        return usage_error("--no-tmem: no cleancache to size (--capacity-pages, --sweep)");
    return 0;
}

/* --guest-cache bytes -> pages of the trace's page size. */
static int resolve_guest_cache(struct options *o, char *err, size_t errlen)
{
    struct trace_reader *r;
    uint32_t ps;
    int rc;

    if (!o->guest_cache)
        return 0;
    rc = trace_reader_open(o->cfg.trace_path, &r, err, errlen);
    if (rc < 0) {
        if (rc != -EINVAL)
            snprintf(err, errlen, "%s: %s", o->cfg.trace_path, strerror(-rc));
        return rc;
    }
    ps = trace_reader_header(r)->page_size;
    trace_reader_close(r);
    o->cfg.guest_pages = o->guest_pages / ps ? o->guest_pages / ps : 1;
    return 0;
}

static int run_sweep(struct options *o, FILE *out, char *err, size_t errlen)
{
    struct replay_result *results = calloc((size_t)o->ncaps, sizeof(*results));
    FILE *csv = out;
    int rc;

    if (!results) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    rc = replay_sweep(&o->cfg, o->caps, (size_t)o->ncaps, (unsigned)o->threads, results, err,
                      errlen);
    if (rc < 0)
        goto out;
    if (o->sweep_csv) {
        csv = fopen(o->sweep_csv, "w");
        if (!csv) {
            rc = -errno;
            snprintf(err, errlen, "--sweep-csv %s: %s", o->sweep_csv, strerror(errno));
            goto out;
        }
    }
    rc = replay_sweep_write_csv(csv, o->caps, (size_t)o->ncaps, results);
    if (csv != out && fclose(csv) != 0)
        rc = -EIO;
    if (rc < 0) {
        snprintf(err, errlen, "writing the sweep's CSV failed");
        goto out;
    }
    if (o->plot)
        rc = replay_sweep_plot(o->plot, o->caps, (size_t)o->ncaps, results, NULL, 0, err, errlen);
out:
    for (long i = 0; i < o->ncaps; i++)
        replay_result_free(&results[i]);
    free(results);
    return rc;
}

int main(int argc, char **argv)
{
    static struct options o;
    struct replay_progress progress;
    struct progress_line pl;
    struct replay_result res;
    struct sigaction sa;
    FILE *out = stdout, *series = NULL;
    bool line = false;
    char err[ERRLEN] = "";
    int rc, status = 0;

    rc = parse_options(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    rc = resolve_guest_cache(&o, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "tmem-replay: %s\n", err);
        return 1;
    }
    if (o.output && !(out = fopen(o.output, "w"))) {
        fprintf(stderr, "tmem-replay: --output %s: %s\n", o.output, strerror(errno));
        return 1;
    }
    if (o.series_path) {
        series = fopen(o.series_path, "w");
        if (!series) {
            fprintf(stderr, "tmem-replay: --series %s: %s\n", o.series_path, strerror(errno));
            if (out != stdout)
                fclose(out);
            return 1;
        }
        o.cfg.series = series;
    } else {
        o.cfg.series_every = 0;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    o.cfg.interrupt = &interrupt_flag;

    if (o.ncaps) {
        rc = run_sweep(&o, out, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "tmem-replay: %s\n", err);
            status = 1;
        }
        goto done;
    }

    atomic_init(&progress.records, 0);
    atomic_init(&progress.total, 0);
    o.cfg.progress = &progress;
    if (!o.quiet && isatty(STDERR_FILENO))
        line = progress_start(&pl, &progress);
    rc = replay_run(&o.cfg, &res, err, sizeof(err));
    if (line)
        progress_stop(&pl);
    if (rc == 0 || res.records > 0) {
        if (replay_result_write(out, &o.cfg, &res, o.json) < 0 || fflush(out) == EOF) {
            fprintf(stderr, "tmem-replay: writing the result failed\n");
            status = 1;
        }
    }
    if (rc < 0) {
        fprintf(stderr, "tmem-replay: %s\n", err);
        status = 1;
    }
    replay_result_free(&res);
done:
    if (series && fclose(series) != 0 && status == 0) {
        fprintf(stderr, "tmem-replay: --series %s: write failed\n", o.series_path);
        status = 1;
    }
    if (out != stdout && fclose(out) != 0 && status == 0) {
        fprintf(stderr, "tmem-replay: --output %s: write failed\n", o.output);
        status = 1;
    }
    if (status == 0 && interrupt_signal)
        status = 128 + interrupt_signal;
    return status;
}
