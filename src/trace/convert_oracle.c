/*
 * convert_oracle.c - libCacheSim's oracleGeneral binary traces to page
 * traces (convert.h).
 *
 * Input: 24-byte packed little-endian records {u32 timestamp (s), u64
 * obj_id, u32 obj_size (bytes), i64 next_access_vtime (ignored)}. Each
 * object is modelled as a file of ceil(obj_size / page_size) pages (one
 * page for size 0) and each request reads that file whole: records
 * "read ID 0", "read ID 1", ... with ID the object's dense id and the
 * request's timestamp in ns. A cache of whole objects thus becomes a page
 * cache of their pages. A truncated final record is an error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "trace/convert_internal.h"

#define ORACLE_RECORD_SIZE 24u

static uint64_t oracle_le(const unsigned char *p, unsigned bytes)
{
    uint64_t v = 0;

    for (unsigned i = bytes; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

int convert_oracle_general(struct convert_ctx *c)
{
    unsigned char rec[ORACLE_RECORD_SIZE];
    uint64_t number = 0;
    int rc;

    for (;;) {
        size_t got = fread(rec, 1, sizeof(rec), c->in);
        uint64_t ts, obj, size, pages;
        uint32_t id;
        char printable[24];

        if (got == 0 && !ferror(c->in))
            return 0;
        number++;
        if (ferror(c->in)) {
            snprintf(c->err, c->errlen, "%s:record %" PRIu64 ": read error", c->name, number);
            return -EIO;
        }
        if (got < sizeof(rec))
            return convert_fail(c, "%s:record %" PRIu64 ": truncated (%zu of %u bytes)",
                                c->name, number, got, ORACLE_RECORD_SIZE);
        ts = oracle_le(rec, 4) * 1000000000ull;
        obj = oracle_le(rec + 4, 8);
        size = oracle_le(rec + 12, 4);
        pages = size ? (size + c->o->page_size - 1) / c->o->page_size : 1;
        snprintf(printable, sizeof(printable), "%" PRIu64, obj);
        c->line_no = number;
        rc = convert_id(c, rec + 4, 8, printable, &id);
        if (rc)
            return rc;
        for (uint64_t p = 0; p < pages; p++) {
            rc = convert_put(c, ts, id, p, TRACE_OP_READ, p != 0);
            if (rc)
                return rc;
        }
    }
}
