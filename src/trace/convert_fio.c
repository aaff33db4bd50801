/*
 * convert_fio.c - fio I/O logs (write_iolog=) version 2 and 3 to page
 * traces (convert.h).
 *
 * Input: a first line "fio version 2 iolog" or "fio version 3 iolog"
 * (version 1 logs, without it, are refused), then one action a line:
 *     v2: FILE ACTION [OFFSET LENGTH]
 *     v3: TIMESTAMP_MS FILE ACTION [OFFSET LENGTH]
 * with ACTION add, open, close (files coming and going: no record), read
 * and write (OFFSET LENGTH in bytes: the block rule, object = the dense
 * id of the file name in order of first appearance), and trim, sync,
 * datasync, wait (no page access: counted in the notes). v3 timestamps
 * (ms) become ns; v2 records carry timestamp 0 (the header has timestamps
 * either way). Blank lines are ignored; read/write of length 0 are
 * counted in the notes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "trace/convert_internal.h"

#define FIO_WORDS 6

int convert_fio_iolog(struct convert_ctx *c)
{
    int version, rc;

    rc = convert_next_line(c);
    if (rc < 0)
        return rc;
    if (rc == 0 || (strcmp(c->line, "fio version 2 iolog") != 0 &&
                    strcmp(c->line, "fio version 3 iolog") != 0)) {
        c->line_no = 1;
        return convert_fail_line(c, "not a fio iolog: the first line must be 'fio version 2 "
                                 "iolog' or 'fio version 3 iolog'");
    }
    version = c->line[12] - '0';
    while ((rc = convert_next_line(c)) == 1) {
        char *w[FIO_WORDS], **a;
        unsigned n = convert_split_words(c->line, w, FIO_WORDS), args;
        uint64_t ts = 0, offset, length;
        enum trace_op op;
        uint32_t id;

        if (n == 0)
            continue;
        a = w;
        args = n;
        if (version == 3) {
            if (number_parse_u64(w[0], 10, 0, UINT64_MAX, &ts) || ts > UINT64_MAX / 1000000ull)
                return convert_fail_line(c, "bad timestamp '%s' (milliseconds)", w[0]);
            ts *= 1000000ull;
            a++;
            args--;
        }
        if (args < 2)
            return convert_fail_line(c, "expected %sFILE ACTION [OFFSET LENGTH]",
                                     version == 3 ? "TIMESTAMP " : "");
        if (strcmp(a[1], "read") == 0)
            op = TRACE_OP_READ;
        else if (strcmp(a[1], "write") == 0)
            op = TRACE_OP_WRITE;
        else if (!strcmp(a[1], "add") || !strcmp(a[1], "open") || !strcmp(a[1], "close")) {
            if (args != 2)
                return convert_fail_line(c, "'%s' takes no arguments", a[1]);
            rc = convert_id(c, a[0], strlen(a[0]), a[0], &id);
            if (rc)
                return rc;
            continue;
        } else if (!strcmp(a[1], "trim") || !strcmp(a[1], "sync") ||
                   !strcmp(a[1], "datasync") || !strcmp(a[1], "wait")) {
            convert_note(c, 0, "trim/sync/datasync/wait actions (no page access)");
            continue;
        } else
            return convert_fail_line(c, "unknown action '%s'", a[1]);
        if (args != 4)
            return convert_fail_line(c, "'%s' takes OFFSET LENGTH", a[1]);
        if (number_parse_u64(a[2], 10, 0, UINT64_MAX, &offset))
            return convert_fail_line(c, "bad offset '%s'", a[2]);
        if (number_parse_u64(a[3], 10, 0, UINT64_MAX, &length))
            return convert_fail_line(c, "bad length '%s'", a[3]);
        if (length == 0) {
            convert_note(c, 1, "reads/writes of length 0");
            continue;
        }
        rc = convert_id(c, a[0], strlen(a[0]), a[0], &id);
        if (rc)
            return rc;
        rc = convert_put_block(c, ts, id, offset, length, op);
        if (rc)
            return rc;
    }
    return rc;
}
