/*
 * tmemfs_stats.c - tmemfs counters and their renderings.
 *
 * Models: the kernel's cleancache debugfs counters (succ_gets, failed_gets,
 * puts, invalidates) plus what the testbed needs to judge cleancache: guest
 * page cache hits/misses/evictions and backing-file traffic.
 *
 * Data: a flat array of uint64_t counters, one per enum tmemfs_counter
 * (declared once, TMEMFS_COUNTERS in tmemfs_stats.h). Locking: none; every
 * access is a relaxed __atomic operation, so counters can be bumped under
 * any lock or none and read at any time. A rendering is not a consistent
 * snapshot across counters (each value is exact).
 *
 * Renderings go through the common statistics writer (text lines, CSV, or
 * JSON built with jansson); an unlimited store capacity is the word
 * "unlimited" in each.
 */
#include "fuse_cleancache/tmemfs_stats.h"

#include <string.h>

#include "common/stats_writer.h"

static const char *const tmemfs_counter_names[TMEMFS_NR_COUNTERS] = {
#define TMEMFS_COUNTER_NAME(id, name, help) [TMEMFS_##id] = #name,
    TMEMFS_COUNTERS(TMEMFS_COUNTER_NAME)
#undef TMEMFS_COUNTER_NAME
};

void tmemfs_stats_init(struct tmemfs_stats *st)
{
    memset(st, 0, sizeof(*st));
}

void tmemfs_stats_add(struct tmemfs_stats *st, enum tmemfs_counter c, uint64_t n)
{
    __atomic_fetch_add(&st->c[c], n, __ATOMIC_RELAXED);
}

uint64_t tmemfs_stats_get(const struct tmemfs_stats *st, enum tmemfs_counter c)
{
    return __atomic_load_n(&st->c[c], __ATOMIC_RELAXED);
}

const char *tmemfs_stats_name(enum tmemfs_counter c)
{
    if ((int)c < 0 || c >= TMEMFS_NR_COUNTERS)
        return NULL;
    return tmemfs_counter_names[c];
}

void tmemfs_stats_write(struct stats_writer *w, const struct tmemfs_stats *st,
                        const struct tmemfs_gauges *g)
{
    uint64_t v[TMEMFS_NR_COUNTERS];
    int i;

    for (i = 0; i < TMEMFS_NR_COUNTERS; i++)
        v[i] = tmemfs_stats_get(st, (enum tmemfs_counter)i);
    for (i = 0; i < TMEMFS_NR_COUNTERS; i++)
        stats_writer_u64(w, tmemfs_counter_names[i], v[i]);
    /* shown values are written as limits: only tmem_capacity_bytes can be
     * unlimited (TMEM_CAPACITY_UNLIMITED), written as the word */
#define TMEMFS_SHOWN_WRITE(name, help, value) stats_writer_limit(w, #name, (value));
    TMEMFS_SHOWN(TMEMFS_SHOWN_WRITE)
#undef TMEMFS_SHOWN_WRITE
}

json_t *tmemfs_stats_json(const struct tmemfs_stats *st, const struct tmemfs_gauges *g,
                          const char *mountpoint)
{
    json_t *object = json_object();
    struct stats_writer w;

    stats_writer_begin_object(&w, object);
    if (mountpoint)
        stats_writer_string(&w, "mountpoint", mountpoint);
    tmemfs_stats_write(&w, st, g);
    if (stats_writer_end(&w, false) != 0) {
        json_decref(object);
        return NULL;
    }
    return object;
}

int tmemfs_stats_format(const struct tmemfs_stats *st, const struct tmemfs_gauges *g,
                        const char *mountpoint, bool json, char *buf, size_t size)
{
    struct stats_writer w;

    stats_writer_begin(&w, buf, size, json, 0);
    if (json && mountpoint)
        stats_writer_string(&w, "mountpoint", mountpoint);
    tmemfs_stats_write(&w, st, g);
    return stats_writer_end(&w, true);
}
