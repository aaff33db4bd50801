/*
 * fuzz_trace.c - libFuzzer target: the page trace reader (src/trace/
 * trace.h), binary and text. The bytes are opened with
 * trace_reader_open_memory and every record is pulled; the reader must
 * accept or refuse with a message, never crash. Checked on the way: each
 * record returned fits the header (its op of the header's kind, no
 * timestamp without the flag), and an error is sticky.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "trace/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct trace_reader *r = NULL;
    struct trace_record rec;
    char err[1024];
    int rc;

    if (trace_reader_open_memory(data, size, "fuzz", &r, err, sizeof(err)) != 0) {
        assert(err[0] != '\0');
        return 0;
    }
    const struct trace_header *h = trace_reader_header(r);
    while ((rc = trace_reader_next(r, &rec, err, sizeof(err))) == 1) {
        assert(trace_op_name(rec.op) != NULL);
        if (h->kind == TRACE_KIND_FILE)
            assert(trace_op_is_file(rec.op));
        if (h->kind == TRACE_KIND_ANON)
            assert(trace_op_is_anon(rec.op));
        if (!(h->flags & TRACE_FLAG_TIMESTAMPS))
            assert(rec.timestamp_ns == 0);
    }
    if (rc < 0)
        assert(trace_reader_next(r, &rec, err, sizeof(err)) == rc);
    else
        assert(trace_reader_next(r, &rec, err, sizeof(err)) == 0);
    trace_reader_close(r);
    return 0;
}
