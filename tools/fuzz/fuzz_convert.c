/*
 * fuzz_convert.c - libFuzzer target: the trace converters (src/trace/
 * convert.h). The first byte picks the format (low 3 bits, modulo the 6
 * formats), the page size (next 3 bits: 512 << n, 512..65536) and the
 * blkparse event (bit 6: Q or C); the rest is the input, converted to a
 * binary trace written to /dev/null. A conversion succeeds or fails with
 * a one-line message; it never crashes. Inputs are capped at 4 KiB so an
 * oracleGeneral record of a 4 GiB object cannot make one run take long.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "trace/convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct trace_convert_options o;
    struct trace_writer *w = NULL;
    struct trace_header h;
    enum trace_format f;
    FILE *in, *out;
    char err[1024];
    int rc;

    if (size < 1 || size > 4096)
        return 0;
    f = (enum trace_format)((data[0] & 7) % 6);
    trace_convert_options_init(&o);
    o.page_size = 512u << ((data[0] >> 3) & 7);
    if (o.page_size > 65536)
        o.page_size = 65536;
    if (f == TRACE_FORMAT_ORACLE_GENERAL)
        o.page_size = 65536; /* at most 65536 pages per record */
    o.blkparse_event = (data[0] & 0x40) ? 'C' : 'Q';
    in = size > 1 ? fmemopen((void *)(data + 1), size - 1, "r") : fopen("/dev/null", "r");
    out = fopen("/dev/null", "w");
    assert(in && out);
    trace_convert_header(f, &o, &h);
    assert(trace_writer_open(NULL, out, &h, false, &w, err, sizeof(err)) == 0);
    err[0] = 'x';
    rc = trace_convert(f, in, "fuzz", &o, w, err, sizeof(err));
    if (rc) {
        assert(rc == -EINVAL || rc == -ENODATA);
        assert(err[0] != '\0' && strchr(err, '\n') == NULL);
    }
    trace_writer_close(w, err, sizeof(err));
    fclose(out);
    fclose(in);
    return 0;
}
