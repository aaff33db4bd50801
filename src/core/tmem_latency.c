/*
 * tmem_latency.c - how long the page operations take: per-client latency
 * histograms (tmem_client_latency, tmem_latency in tmem.h).
 *
 * Models the measured cost of tmem operations, which the testbed prices
 * guests' time with (instead of fixed constants). With
 * cfg.latency_histograms each client has TMEM_OP_COUNT x 2 histograms
 * (common/histogram.h: log-linear buckets, exact to 1/16), one per
 * operation (put, get, flush: flush_page and flush_object together) and
 * pool kind (ephemeral 0, persistent 1), at [op * 2 + persistent]; the
 * page operations (tmem_ops.c) record each call's nanoseconds into them.
 * The store keeps the same array for destroyed clients: a client's
 * histograms are added into it when the client goes, so tmem_latency (the
 * store's totals plus every live client's) covers every call ever timed.
 * Without the option nothing is allocated and no clock is read.
 *
 * Memory: the arrays (about 35 KiB a client) come from the store's
 * allocator as metadata, so they count against the capacity and the
 * checker finds them (tmem_check.c).
 *
 * Locking: recording is lock-free (relaxed atomics, histogram.h). The
 * client's array lives as long as the client; the store's totals as long
 * as the store, added into under clients_lock (tmem_client_destroy) and
 * read under it, with live clients, by tmem_latency.
 */
#include "core/tmem_internal.h"

#include <errno.h>

#define TMEM_LATENCY_HISTOGRAMS (TMEM_OP_COUNT * 2)

/* A zeroed-then-initialised array of every (op, kind) histogram, charged
 * to the store's metadata, or NULL. */
static struct histogram *tmem_latency_alloc(struct tmem *tm)
{
    struct histogram *h =
        tmem_memory_alloc(tm, TMEM_LATENCY_HISTOGRAMS * sizeof(struct histogram), NULL);

    if (h)
        for (int i = 0; i < TMEM_LATENCY_HISTOGRAMS; i++)
            histogram_init(&h[i]);
    return h;
}

int tmem_latency_store_init(struct tmem *tm)
{
    if (!tm->cfg.latency_histograms)
        return 0;
    tm->latency = tmem_latency_alloc(tm);
    return tm->latency ? 0 : -ENOMEM;
}

void tmem_latency_store_fini(struct tmem *tm)
{
    tmem_memory_free(tm, tm->latency, NULL);
    tm->latency = NULL;
}

int tmem_latency_client_init(struct tmem *tm, struct tmem_client *c)
{
    if (!tm->cfg.latency_histograms)
        return 0;
    c->latency = tmem_latency_alloc(tm);
    return c->latency ? 0 : -ENOMEM;
}

void tmem_latency_client_fini(struct tmem *tm, struct tmem_client *c)
{
    if (!c->latency)
        return;
    for (int i = 0; i < TMEM_LATENCY_HISTOGRAMS; i++)
        histogram_add(&tm->latency[i], &c->latency[i]);
    tmem_memory_free(tm, c->latency, NULL);
    c->latency = NULL;
}

static bool tmem_latency_op_valid(enum tmem_op op)
{
    return (unsigned)op < TMEM_OP_COUNT;
}

int tmem_client_latency(const struct tmem_client *c, enum tmem_op op, bool persistent,
                        struct histogram *out)
{
    if (!c || !out || !tmem_latency_op_valid(op))
        return -EINVAL;
    if (c->latency)
        histogram_copy(out, &c->latency[op * 2 + persistent]);
    else
        histogram_init(out);
    return 0;
}

int tmem_latency(const struct tmem *ctm, enum tmem_op op, bool persistent,
                 struct histogram *out)
{
    struct tmem *tm = (struct tmem *)ctm;
    int i = (int)op * 2 + persistent;

    if (!tm || !out || !tmem_latency_op_valid(op))
        return -EINVAL;
    histogram_init(out);
    if (!tm->latency)
        return 0;
    pthread_mutex_lock(&tm->clients_lock);
    histogram_add(out, &tm->latency[i]);
    for (struct tmem_client *c = tm->clients; c; c = c->next)
        histogram_add(out, &c->latency[i]);
    pthread_mutex_unlock(&tm->clients_lock);
    return 0;
}
