/*
 * tmemfs_series.c - statistics as a time series (tmemfs_series.h).
 *
 * Models: what a user of /sys/kernel/debug/cleancache does with `watch`,
 * written to files: a sampler thread wakes every stats_interval seconds
 * and appends one line per mount to each file, rendered by the common
 * statistics writer from the same lists as .tmemfs/stats (a CSV row; a
 * JSON object built with jansson, one per line).
 *
 * Data: struct tmemfs_series (the files, the mounts, the thread, a ticker
 * (common/ticker.h) started at open: the samples' time and the wait for
 * the next one, which stop cuts short). Locking: the ticker's own; the
 * files are written by the thread while it runs and by stop after it
 * ended, never both.
 */
#include "fuse_cleancache/tmemfs_series.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/stats_writer.h"
#include "common/ticker.h"

struct tmemfs_series {
    FILE *csv, *jsonl;
    double interval;
    struct ticker ticker;      /* started at open */
    struct tmemfs_fs *const *fs;
    size_t n;
    pthread_t thread;
    bool running;
};

/* Render one CSV line of fs (the header or a row) and write it to f. */
static void tmemfs_series_csv_line(FILE *f, struct tmemfs_fs *fs, double t, bool header)
{
    struct tmemfs_gauges g;
    struct stats_writer w;
    char *buf = NULL;
    int n = 0;

    tmemfs_fs_gauges(fs, &g);
    for (int pass = 0; pass < 2; pass++) {
        stats_writer_begin_csv(&w, buf, buf ? (size_t)n + 1 : 0, header);
        stats_writer_double(&w, "time", t);
        stats_writer_string(&w, "mountpoint", fs->mountpoint);
        tmemfs_stats_write(&w, &fs->stats, &g);
        n = stats_writer_end(&w, true);
        if (n < 0 || (pass == 0 && !(buf = malloc((size_t)n + 1))))
            break;
    }
    if (buf && n >= 0)
        fputs(buf, f);
    free(buf);
}

/* Render one JSON line of fs (a jansson object: time, mountpoint, then
 * the statistics) and write it to f. */
static void tmemfs_series_json_line(FILE *f, struct tmemfs_fs *fs, double t)
{
    json_t *object = json_object();
    struct tmemfs_gauges g;
    struct stats_writer w;
    char *text = NULL;

    tmemfs_fs_gauges(fs, &g);
    stats_writer_begin_object(&w, object);
    stats_writer_double(&w, "time", t);
    stats_writer_string(&w, "mountpoint", fs->mountpoint);
    tmemfs_stats_write(&w, &fs->stats, &g);
    if (stats_writer_end(&w, false) == 0)
        text = stats_json_dumps(object, true);
    if (text)
        fputs(text, f);
    free(text);
    json_decref(object);
}

/* One sample of every mount to every file. */
static void tmemfs_series_sample(struct tmemfs_series *s)
{
    double t = ticker_elapsed(&s->ticker);

    for (size_t i = 0; i < s->n; i++) {
        if (s->csv)
            tmemfs_series_csv_line(s->csv, s->fs[i], t, false);
        if (s->jsonl)
            tmemfs_series_json_line(s->jsonl, s->fs[i], t);
    }
    if (s->csv)
        fflush(s->csv);
    if (s->jsonl)
        fflush(s->jsonl);
}

static void *tmemfs_series_thread(void *arg)
{
    struct tmemfs_series *s = arg;
    /* The ticks count from the thread's start, the samples' time from open. */
    for (double next = ticker_elapsed(&s->ticker) + s->interval;
         ticker_wait_until(&s->ticker, next); next += s->interval)
        tmemfs_series_sample(s);
    return NULL;
}

static FILE *tmemfs_series_file(const char *what, const char *path, FILE *err)
{
    FILE *f = path ? fopen(path, "w") : NULL;

    if (path && !f)
        fprintf(err, "tmemfs: %s %s: %s\n", what, path, strerror(errno));
    return f;
}

int tmemfs_series_open(const struct tmemfs_opts *o, struct tmemfs_series **out, FILE *err)
{
    struct tmemfs_series *s;

    *out = NULL;
    if (!o->stats_csv && !o->stats_jsonl)
        return 0;
    s = calloc(1, sizeof(*s));
    if (!s) {
        fprintf(err, "tmemfs: out of memory\n");
        return -1;
    }
    s->interval = o->stats_interval;
    s->csv = tmemfs_series_file("stats_csv", o->stats_csv, err);
    s->jsonl = tmemfs_series_file("stats_jsonl", o->stats_jsonl, err);
    if ((o->stats_csv && !s->csv) || (o->stats_jsonl && !s->jsonl))
        goto fail;
    if (ticker_init(&s->ticker, NULL) != 0)
        goto fail_nomem;
    *out = s;
    return 0;
fail_nomem:
    fprintf(err, "tmemfs: cannot set up the statistics series\n");
fail:
    if (s->csv)
        fclose(s->csv);
    if (s->jsonl)
        fclose(s->jsonl);
    free(s);
    return -1;
}

int tmemfs_series_start(struct tmemfs_series *s, struct tmemfs_fs *const *fs, size_t n)
{
    int rc;

    if (!s)
        return 0;
    s->fs = fs;
    s->n = n;
    if (s->csv && n > 0)
        tmemfs_series_csv_line(s->csv, fs[0], 0, true); /* the header */
    rc = pthread_create(&s->thread, NULL, tmemfs_series_thread, s);
    s->running = rc == 0;
    return -rc;
}

void tmemfs_series_stop(struct tmemfs_series *s)
{
    if (!s)
        return;
    if (s->running) {
        ticker_stop(&s->ticker);
        pthread_join(s->thread, NULL);
    }
    if (s->fs)
        tmemfs_series_sample(s);
    if (s->csv)
        fclose(s->csv);
    if (s->jsonl)
        fclose(s->jsonl);
    ticker_destroy(&s->ticker);
    free(s);
}
