/*
 * convert_lackey.c - valgrind lackey memory traces (valgrind
 * --tool=lackey --trace-mem=yes) to anonymous page traces (convert.h).
 *
 * Input lines: "I  ADDR,SIZE" (instruction fetch: counted in the notes,
 * not converted), " L ADDR,SIZE" (load), " S ADDR,SIZE" (store),
 * " M ADDR,SIZE" (modify: load then store), ADDR hexadecimal and SIZE
 * decimal bytes; lines starting with "==" (valgrind's own messages,
 * "==PID== ...") and blank lines are ignored. An access touches the
 * virtual pages ADDR / page_size .. (ADDR + SIZE - 1) / page_size; each
 * gives aread (L), awrite (S) or aread then awrite (M) of that page.
 * Virtual pages are sparse, so each gets a dense id in order of first
 * appearance and records carry the id (a replayer's number of virtual
 * pages is the number of distinct pages); the mapping prints each page's
 * first address. No timestamps.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "trace/convert_internal.h"

static int lackey_page(struct convert_ctx *c, uint64_t vpage, char kind)
{
    char printable[24];
    uint32_t id;
    int rc;

    snprintf(printable, sizeof(printable), "0x%" PRIx64, vpage * c->o->page_size);
    rc = convert_id(c, &vpage, sizeof(vpage), printable, &id);
    if (rc)
        return rc;
    if (kind != 'S') {
        rc = convert_put(c, 0, 0, id, TRACE_OP_AREAD, false);
        if (rc)
            return rc;
    }
    if (kind != 'L')
        rc = convert_put(c, 0, 0, id, TRACE_OP_AWRITE, false);
    return rc;
}

int convert_lackey(struct convert_ctx *c)
{
    int rc;

    while ((rc = convert_next_line(c)) == 1) {
        char *line = c->line, *comma, kind;
        uint64_t addr, size;

        if (strncmp(line, "==", 2) == 0 || strspn(line, " \t") == strlen(line))
            continue;
        if (strncmp(line, "I  ", 3) == 0) {
            convert_note(c, 0, "instruction fetches (I lines)");
            continue;
        }
        if (line[0] != ' ' || !strchr("LSM", line[1]) || !line[1] || line[2] != ' ')
            return convert_fail_line(c, "not a lackey line (expected ' L|S|M ADDR,SIZE' or "
                                     "'I  ADDR,SIZE')");
        kind = line[1];
        line += 3;
        line += strspn(line, " ");
        comma = strchr(line, ',');
        if (!comma)
            return convert_fail_line(c, "expected ADDR,SIZE");
        *comma = '\0';
        if (number_parse_u64(line, 16, 0, UINT64_MAX, &addr))
            return convert_fail_line(c, "bad address '%s' (hexadecimal)", line);
        if (number_parse_u64(comma + 1, 10, 0, UINT64_MAX, &size) || size == 0)
            return convert_fail_line(c, "bad size '%s'", comma + 1);
        if (size > CONVERT_MAX_REQUEST_BYTES || addr > UINT64_MAX - (size - 1))
            return convert_fail_line(c, "access of %" PRIu64 " bytes at 0x%" PRIx64
                                     " out of range", size, addr);
        for (uint64_t p = addr / c->o->page_size; p <= (addr + size - 1) / c->o->page_size; p++) {
            rc = lackey_page(c, p, kind);
            if (rc)
                return rc;
        }
    }
    return rc;
}
