/*
 * snapshot_format.c - what the save file's writer and reader share beyond
 * the layout in snapshot_format.h: the record checksum (XXH3-64 from
 * Debian's libxxhash, as the core's dedup hash) and the one-line error.
 * No state, no locks.
 */
#include "snapshot/snapshot_format.h"

#include <stdarg.h>
#include <stdio.h>
#include <xxhash.h>

uint64_t snapshot_checksum(const void *data, size_t len)
{
    return (uint64_t)XXH3_64bits(data, len);
}

int snapshot_error(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}
