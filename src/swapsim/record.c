/*
 * record.c - --record: write the accesses a workload produces as a page
 * trace (trace/trace.h, kind anon, no timestamps) while passing them on.
 *
 * Data structures: a wrapping workload that owns the inner workload and one
 * trace_writer. Each access the inner workload returns is written as
 * aread / awrite / afree with value = vpage before it is handed to the
 * guest, so a built-in workload becomes a trace that --trace replays.
 * Locking: none; a workload is driven by one guest thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "swapsim/swapsim.h"
#include "trace/trace.h"

struct record_workload {
    struct swapsim_workload base; /* first: the workload handed out */
    struct swapsim_workload *inner;
    struct trace_writer *writer;
};

static int record_next(struct swapsim_workload *w, struct swapsim_access *acc)
{
    struct record_workload *rw = (struct record_workload *)w;
    struct trace_record rec = {0};
    int r = swapsim_workload_next(rw->inner, acc);
    if (r <= 0) {
        if (r < 0)
            snprintf(w->error, sizeof(w->error), "%s", swapsim_workload_error(rw->inner));
        return r;
    }
    rec.value = acc->op == SWAPSIM_CAPACITY ? acc->bytes : acc->vpage;
    rec.op = acc->op == SWAPSIM_READ       ? TRACE_OP_AREAD
             : acc->op == SWAPSIM_WRITE    ? TRACE_OP_AWRITE
             : acc->op == SWAPSIM_CAPACITY ? TRACE_OP_CAPACITY
                                           : TRACE_OP_AFREE;
    r = trace_writer_put(rw->writer, &rec, w->error, sizeof(w->error));
    return r < 0 ? r : 1;
}

static void record_destroy(struct swapsim_workload *w)
{
    struct record_workload *rw = (struct record_workload *)w;
    char err[256];
    if (trace_writer_close(rw->writer, err, sizeof(err)) != 0)
        fprintf(stderr, "tmem-swapsim: --record: %s\n", err);
    swapsim_workload_destroy(rw->inner);
    free(rw);
}

static const struct swapsim_workload_ops record_ops = {
    .name = "record",
    .next = record_next,
    .destroy = record_destroy,
};

int swapsim_record_wrap(const char *path, uint32_t page_size, struct swapsim_workload *inner,
                        struct swapsim_workload **out, char *err, size_t errlen)
{
    struct trace_header h = {.version = TRACE_VERSION,
                             .page_size = page_size,
                             .kind = TRACE_KIND_ANON,
                             .flags = 0,
                             .count = TRACE_COUNT_UNKNOWN};
    struct record_workload *rw = calloc(1, sizeof(*rw));
    int ret;
    if (!rw)
        return -ENOMEM;
    ret = trace_writer_open(path, NULL, &h, false, &rw->writer, err, errlen);
    if (ret != 0) {
        free(rw);
        return ret;
    }
    rw->base.ops = &record_ops;
    rw->inner = inner;
    *out = &rw->base;
    return 0;
}
