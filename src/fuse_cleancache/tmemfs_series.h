/*
 * tmemfs_series.h - the statistics of a run as a time series, so a user
 * can plot hit rates and backing reads over time: every stats_interval
 * seconds one sample of every counter and shown value of every mount
 * (the lists of tmemfs_stats.h), appended to -o stats_csv=PATH (a header
 * line, then one row per mount and sample) and/or -o stats_jsonl=PATH
 * (one JSON object per line). Each sample starts with "time" (seconds
 * since the files were opened) and "mountpoint"; a last sample is taken
 * when the series stops, after the mounts' loops ended.
 *
 * Use: tmemfs_series_open before the daemon forks into the background
 * (errors still reach the terminal), tmemfs_series_start after (a thread
 * does not survive fork), tmemfs_series_stop before the mounts are torn
 * down. Thread-safety: one sampling thread reads the mounts' statistics
 * (thread-safe by tmemfs_stats and tmemfs_io); the calls above are made by
 * the main thread.
 */
#ifndef TMEMFS_SERIES_H
#define TMEMFS_SERIES_H

#include <stddef.h>
#include <stdio.h>

#include "fuse_cleancache/tmemfs_fs.h"

struct tmemfs_series;

/* Open the files o names (none: *out = NULL and 0). 0, or -1 with a
 * one-line error to err. */
int tmemfs_series_open(const struct tmemfs_opts *o, struct tmemfs_series **out, FILE *err);

/* Start sampling the n mounts fs[0..n-1] (they must stay set up until
 * tmemfs_series_stop). 0 or -errno (then nothing is sampled but the
 * last sample at stop). s may be NULL. */
int tmemfs_series_start(struct tmemfs_series *s, struct tmemfs_fs *const *fs, size_t n);

/* Stop the thread, take the last sample, close the files, free s (may be
 * NULL). */
void tmemfs_series_stop(struct tmemfs_series *s);

#endif /* TMEMFS_SERIES_H */
