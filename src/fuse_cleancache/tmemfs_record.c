/*
 * tmemfs_record.c - -o record=PATH: a page trace of what a mount serves
 * (see tmemfs_record.h for what is recorded).
 *
 * Data structures: one trace_writer (trace/trace.h), an id_map giving each
 * tmem object id (its 24 bytes) a dense id in order of first appearance,
 * the mount's start time (CLOCK_MONOTONIC) and the first error.
 * Locking: one mutex around the writer, the map and the error; it is
 * taken after any lock of the caller (io lock, object-table lock) and
 * calls nothing that takes a tmemfs lock. After the first error nothing
 * more is written.
 */
#include "fuse_cleancache/tmemfs_record.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "trace/id_map.h"

struct tmemfs_record {
    pthread_mutex_t lock;
    struct trace_writer *writer;
    struct id_map *ids;
    uint64_t start_ns;
    int error;       /* first error (-errno), 0: none */
    char err[256];
};

static uint64_t tmemfs_record_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int tmemfs_record_open(const char *path, uint32_t page_size, struct tmemfs_record **out,
                       char *err, size_t errlen)
{
    struct trace_header h = {.version = TRACE_VERSION,
                             .page_size = page_size,
                             .kind = TRACE_KIND_FILE,
                             .flags = TRACE_FLAG_TIMESTAMPS,
                             .count = TRACE_COUNT_UNKNOWN};
    struct tmemfs_record *r = calloc(1, sizeof(*r));
    int rc;

    *out = NULL;
    if (!r)
        return -ENOMEM;
    rc = id_map_create(&r->ids);
    if (rc < 0)
        goto fail;
    rc = trace_writer_open(path, NULL, &h, false, &r->writer, err, errlen);
    if (rc < 0)
        goto fail;
    pthread_mutex_init(&r->lock, NULL);
    r->start_ns = tmemfs_record_now();
    *out = r;
    return 0;
fail:
    id_map_destroy(r->ids);
    free(r);
    return rc;
}

/* Under r->lock: append one record of oid (continues: a later page of
 * one request). */
static void tmemfs_record_put_locked(struct tmemfs_record *r, enum trace_op op,
                                     const struct tmem_oid *oid, uint64_t value, bool continues)
{
    struct trace_record rec = {.op = op, .value = value, .continues = continues};
    uint32_t id;
    bool added;
    int rc;

    if (r->error)
        return;
    rc = id_map_get(r->ids, oid->oid, sizeof(oid->oid), &id, &added);
    if (rc < 0) {
        r->error = rc;
        snprintf(r->err, sizeof(r->err), "object ids: %s", rc == -ENOMEM ? "out of memory" : "too many");
        return;
    }
    rec.object = id;
    rec.timestamp_ns = tmemfs_record_now() - r->start_ns;
    rc = trace_writer_put(r->writer, &rec, r->err, sizeof(r->err));
    if (rc < 0)
        r->error = rc;
}

void tmemfs_record_pages(struct tmemfs_record *r, enum trace_op op, const struct tmem_oid *oid,
                         uint64_t first, uint64_t last)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    for (uint64_t i = first; i <= last && !r->error; i++)
        tmemfs_record_put_locked(r, op, oid, i, i != first);
    pthread_mutex_unlock(&r->lock);
}

void tmemfs_record_truncate(struct tmemfs_record *r, const struct tmem_oid *oid, uint64_t pages)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    tmemfs_record_put_locked(r, TRACE_OP_TRUNCATE, oid, pages, false);
    pthread_mutex_unlock(&r->lock);
}

void tmemfs_record_unlink(struct tmemfs_record *r, const struct tmem_oid *oid)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    tmemfs_record_put_locked(r, TRACE_OP_UNLINK, oid, 0, false);
    pthread_mutex_unlock(&r->lock);
}

int tmemfs_record_close(struct tmemfs_record *r, char *err, size_t errlen)
{
    int rc;

    if (!r)
        return 0;
    rc = r->error;
    if (rc)
        snprintf(err, errlen, "%s", r->err);
    if (trace_writer_close(r->writer, rc ? r->err : err, rc ? sizeof(r->err) : errlen) < 0 && !rc)
        rc = -EIO;
    id_map_destroy(r->ids);
    pthread_mutex_destroy(&r->lock);
    free(r);
    return rc;
}
