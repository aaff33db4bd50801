/*
 * convert_msr.c - MSR Cambridge block traces (CSV) to page traces
 * (convert.h).
 *
 * Input lines: Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime
 * with Timestamp a Windows FILETIME (100 ns units since 1601), Type Read
 * or Write (any case), Offset and Size in bytes, ResponseTime ignored (it
 * must be a number). Output: the block rule with object = dense id of
 * "Hostname,DiskNumber" and timestamps in ns relative to the first
 * record's (a later record earlier than the first is an error). Blank
 * lines are ignored; requests of size 0 touch no page and are counted in
 * the notes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "trace/convert_internal.h"

#define MSR_FIELDS 7

int convert_msr(struct convert_ctx *c)
{
    static const char *const field_names[MSR_FIELDS] = {
        "timestamp", "hostname", "disk number", "type", "offset", "size", "response time",
    };
    bool have_first = false;
    uint64_t first = 0;
    int rc;

    while ((rc = convert_next_line(c)) == 1) {
        char *fields[MSR_FIELDS];
        char *p = c->line, *comma;
        uint64_t ts, disk, offset, size, response;
        unsigned n = 0;
        enum trace_op op;
        char key[512];
        uint32_t id;

        if (strspn(c->line, " \t") == strlen(c->line))
            continue;
        for (;;) {
            if (n == MSR_FIELDS)
                return convert_fail_line(c, "more than %d comma-separated fields", MSR_FIELDS);
            fields[n++] = p;
            comma = strchr(p, ',');
            if (!comma)
                break;
            *comma = '\0';
            p = comma + 1;
        }
        if (n != MSR_FIELDS)
            return convert_fail_line(c, "%u fields, expected %d (Timestamp,Hostname,DiskNumber,"
                                     "Type,Offset,Size,ResponseTime)", n, MSR_FIELDS);
        if (number_parse_u64(fields[0], 10, 0, UINT64_MAX, &ts))
            return convert_fail_line(c, "bad %s '%s'", field_names[0], fields[0]);
        if (!fields[1][0])
            return convert_fail_line(c, "empty hostname");
        if (number_parse_u64(fields[2], 10, 0, UINT64_MAX, &disk))
            return convert_fail_line(c, "bad %s '%s'", field_names[2], fields[2]);
        if (strcasecmp(fields[3], "Read") == 0)
            op = TRACE_OP_READ;
        else if (strcasecmp(fields[3], "Write") == 0)
            op = TRACE_OP_WRITE;
        else
            return convert_fail_line(c, "bad type '%s' (expected Read or Write)", fields[3]);
        for (unsigned i = 4; i < MSR_FIELDS; i++) {
            uint64_t *v = i == 4 ? &offset : i == 5 ? &size : &response;

            if (number_parse_u64(fields[i], 10, 0, UINT64_MAX, v))
                return convert_fail_line(c, "bad %s '%s'", field_names[i], fields[i]);
        }
        if (!have_first) {
            first = ts;
            have_first = true;
        }
        if (ts < first)
            return convert_fail_line(c, "timestamp %llu is before the first record's (%llu)",
                                     (unsigned long long)ts, (unsigned long long)first);
        if ((ts - first) > UINT64_MAX / 100)
            return convert_fail_line(c, "timestamp %llu too far from the first record's",
                                     (unsigned long long)ts);
        if (size == 0) {
            convert_note(c, 0, "requests of size 0 (no page touched)");
            continue;
        }
        if ((size_t)snprintf(key, sizeof(key), "%s,%llu", fields[1],
                                  (unsigned long long)disk) >= sizeof(key))
            return convert_fail_line(c, "hostname too long");
        rc = convert_id(c, key, strlen(key), key, &id);
        if (rc)
            return rc;
        rc = convert_put_block(c, (ts - first) * 100, id, offset, size, op);
        if (rc)
            return rc;
    }
    return rc;
}
