/*
 * snapshot.h - saving a client's persistent tmem to a file and restoring
 * it into a client of any store (Xen's tmem save/restore).
 *
 * The save file (docs/control.md, "Save file", byte by byte): a header,
 * one record per persistent pool (flags, uuid, page count), one record per
 * page (pool, handle, bytes raw or lz4), an end record with the totals;
 * every record followed by its XXH3-64 checksum. Ephemeral pools are not
 * saved (their pages may vanish anyway), as in Xen.
 *
 * Errors are reported as one line in err (NUL-terminated, truncated to
 * errlen; err may be NULL when errlen is 0): "PATH: what" or
 * "PATH:record N: what" (records numbered from 0, the header).
 *
 * Thread safety: every function may run while other threads use the
 * store and the client (puts, gets, flushes), with the limits stated at
 * each; none keeps a global state.
 */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/tmem.h"

#define SNAPSHOT_VERSION 1u

/* What a save or restore did. */
struct snapshot_stats {
    uint32_t pools;              /* persistent pools saved / restored */
    uint32_t pools_ephemeral;    /* save: ephemeral pools skipped */
    uint64_t pages;              /* pages saved / put */
    uint64_t pages_compressed;   /* page records holding lz4 bytes */
    uint64_t page_bytes;         /* pages * page size */
    uint64_t file_bytes;         /* the file's size */
    uint64_t pages_refused;      /* restore: puts refused (-ENOSPC) */
};

/*
 * Save every persistent pool of client c (flags, uuid, every handle and
 * its bytes) to path, atomically: the file is written as
 * "path.tmp-XXXXXX" in the same folder (mode 0600), fsync'ed, renamed over
 * path, and the folder fsync'ed. On any error the temporary file is
 * removed and path is left as it was. (A process killed during the save
 * leaves path as it was too, and may leave the temporary file behind.)
 *
 * The pages are read with tmem_pool_walk, one pool after the other, while
 * the client may keep working: a page present for the whole save is saved
 * with bytes it had at some moment during the save; a page put or flushed
 * meanwhile may or may not be. For a file that is one moment of the
 * client, freeze it first (tmem_client_set_frozen: puts are refused) and
 * flush nothing meanwhile, as Xen's save did. The client's pools must not
 * be destroyed during the save (the save then fails, -EINVAL).
 *
 * st (may be NULL) gets the counts. Returns 0, or -errno: -EINVAL (bad
 * argument, a pool destroyed meanwhile), -ENOMEM, or the errno of the
 * failed file operation (-EACCES, -ENOSPC, -EFBIG, -EIO, ...); err says
 * which.
 */
int snapshot_save(struct tmem_client *c, const char *path, struct snapshot_stats *st,
                  char *err, size_t errlen);

/* One pool a restore made, in the order of the file's pool records. */
struct snapshot_restored_pool {
    int saved_id; /* its id in the saved client */
    int pool_id;  /* its id in the client restored into */
    uint32_t flags;
    uint64_t pages;
};

struct snapshot_restore_options {
    /* Read and check the whole file, change nothing (st counts what a
     * restore would put). */
    bool check_only;
    /* Out, may be NULL: the pools made, pools_max at most (st->pools
     * says how many there were). */
    struct snapshot_restored_pool *pools;
    size_t pools_max;
};

/*
 * Restore the file at path into client c (of a running store, possibly
 * another process's save). First reads and checks the WHOLE file: magic,
 * version, the page size (must equal the store's), every record's
 * checksum, every field's range, every page's lz4 bytes, the counts
 * against the pool records and the end record, no truncation, no byte
 * after the end record, no handle twice. Only then it creates the pools
 * (new pool ids, whatever ids the saved client had; a shared pool joins
 * the store's pool of the same uuid, or is created) and puts every page,
 * reading the file a second time (and checking it again: a file changed
 * in between is refused and rolled back).
 *
 * If a put is refused (the store's capacity or the client's cap:
 * -ENOSPC; the other puts are still tried, to count them) or fails
 * otherwise, the restore undoes what it did: it flushes the pages it put
 * into shared pools and destroys every pool it created or joined, and
 * fails with -ENOSPC and "PATH: N of M pages did not fit ...; nothing
 * restored". So a failed restore changes nothing but the statistics
 * counters (puts, flushes). Exception: in a shared pool other clients
 * already held, a page under a handle the file also has is replaced by
 * the file's, and removed by a rollback.
 *
 * o may be NULL (defaults: restore, no pool list). st (may be NULL) gets
 * the counts. Returns 0, -EINVAL (bad argument, or a file refused: err
 * says why), -ENOSPC (did not fit, rolled back), -ENOMEM, -EMFILE (the
 * client has no free pool ids), or the errno of a failed read.
 * The client must not be destroyed meanwhile; other calls may run.
 */
int snapshot_restore(struct tmem_client *c, const char *path,
                     const struct snapshot_restore_options *o, struct snapshot_stats *st,
                     char *err, size_t errlen);

/*
 * Check the file at path (as a restore's first pass, for any page size)
 * and print what it holds to out: version, page size, time, client name,
 * each pool (saved id, kind, uuid, pages) and the totals. Returns 0, or
 * as snapshot_restore with the reason in err (nothing printed then).
 */
int snapshot_describe(const char *path, FILE *out, char *err, size_t errlen);

#endif /* SNAPSHOT_H */
