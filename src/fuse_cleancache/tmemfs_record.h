/*
 * tmemfs_record.h - -o record=PATH: the page accesses a mount serves,
 * written as a page trace (trace/trace.h, docs/traces.md "Recording").
 *
 * One record per page index of each read and write request (op read /
 * write; every page after a request's first marked "continues", so a
 * replay serves the request as one), one per truncate (op truncate, value = the new length in pages:
 * rounded up when the file grows, rounded down when it shrinks, as the
 * page holding the new EOF then changed; tmemfs_io_note_truncate) and one per file that loses its last link through the mount
 * (unlink, rename over it: op unlink). Objects are dense ids 0, 1, 2, ...
 * given to tmem object ids in order of first appearance. Records carry
 * timestamps: ns since the recorder was opened (the mount's start).
 *
 * A NULL recorder is "off": every tmemfs_record_* call returns at once.
 * Thread-safety: every function but open and close may be called from
 * any thread (one mutex inside).
 */
#ifndef FUSE_CLEANCACHE_TMEMFS_RECORD_H
#define FUSE_CLEANCACHE_TMEMFS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "core/tmem.h"
#include "trace/trace.h"

struct tmemfs_record;

/* Create the trace at path (binary, kind file, page_size, timestamps).
 * Returns 0, -ENOMEM, -errno of creating it ("PATH: cannot create: ..."
 * in err). */
int tmemfs_record_open(const char *path, uint32_t page_size, struct tmemfs_record **out,
                       char *err, size_t errlen);
/* Pages first..last (inclusive) of oid were read (op TRACE_OP_READ) or
 * written (TRACE_OP_WRITE). */
void tmemfs_record_pages(struct tmemfs_record *r, enum trace_op op, const struct tmem_oid *oid,
                         uint64_t first, uint64_t last);
/* oid was cut (or grown) to `pages` pages. */
void tmemfs_record_truncate(struct tmemfs_record *r, const struct tmem_oid *oid, uint64_t pages);
/* oid lost its last link. */
void tmemfs_record_unlink(struct tmemfs_record *r, const struct tmem_oid *oid);
/* Flush, fill in the count, free (NULL accepted: 0). A record that could
 * not be written (out of memory, I/O error, a page index beyond 2^32-1)
 * stopped the recording: then -EIO or -EINVAL with the first such error in
 * err (the records before it are kept). */
int tmemfs_record_close(struct tmemfs_record *r, char *err, size_t errlen);

#endif /* FUSE_CLEANCACHE_TMEMFS_RECORD_H */
