/*
 * convert_blkparse.c - blkparse's default text output to page traces
 * (convert.h).
 *
 * Input event lines (blkparse's default format):
 *     MAJ,MIN CPU SEQ SECONDS.NANOS PID ACTION RWBS [SECTOR + COUNT [PROC]]
 * e.g. "  8,0    3        1     0.000000000  697  Q   W 223490 + 8 [kjournald]".
 * Only events whose ACTION is o->blkparse_event (Q: queued, C: completed)
 * are converted; the others are counted in the notes. RWBS with an R is a
 * read, with a W a write; events of neither (flushes, discards: "N",
 * "FN", "D") are counted in the notes, and so are R/W events of 0
 * sectors. Sectors are 512 bytes; the block rule applies with object = the
 * dense id of "MAJ,MIN" and the event's time in ns.
 *
 * The first line that is not an event (its first word is not MAJ,MIN)
 * starts blkparse's closing summary ("CPU0 (8,0):", "Total (8,0):",
 * "Throughput ..."): it and every later line are ignored and counted in
 * the notes, but an event line after it is an error, and so is a first
 * line that is not an event. Blank lines are ignored anywhere.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "trace/convert_internal.h"

#define BLKPARSE_SECTOR 512u
#define BLKPARSE_WORDS 12

/* "MAJ,MIN" with both decimal. */
static bool blkparse_is_device(const char *word)
{
    size_t major = strspn(word, "0123456789");

    return major > 0 && word[major] == ',' && word[major + 1] &&
           strspn(word + major + 1, "0123456789") == strlen(word + major + 1);
}

/* "SECONDS.NANOS" (1..9 fraction digits) to ns. */
static int blkparse_time(const char *word, uint64_t *ns)
{
    char seconds[24], fraction[10] = "000000000";
    const char *dot = strchr(word, '.');
    size_t len = dot ? (size_t)(dot - word) : strlen(word);
    uint64_t s, f;

    if (!dot || len == 0 || len >= sizeof(seconds) || strlen(dot + 1) < 1 || strlen(dot + 1) > 9)
        return -EINVAL;
    memcpy(seconds, word, len);
    seconds[len] = '\0';
    memcpy(fraction, dot + 1, strlen(dot + 1));
    if (number_parse_u64(seconds, 10, 0, UINT64_MAX, &s) || number_parse_u64(fraction, 10, 0, UINT64_MAX, &f) ||
        s > UINT64_MAX / 1000000000ull - 1)
        return -EINVAL;
    *ns = s * 1000000000ull + f;
    return 0;
}

int convert_blkparse(struct convert_ctx *c)
{
    uint64_t summary_line = 0, events = 0;
    int rc;

    while ((rc = convert_next_line(c)) == 1) {
        char *w[BLKPARSE_WORDS];
        unsigned n;
        uint64_t ts, sector, count, number;
        enum trace_op op;
        uint32_t id;

        n = convert_split_words(c->line, w, BLKPARSE_WORDS);
        if (n == 0)
            continue;
        if (!blkparse_is_device(w[0])) {
            if (events == 0 && summary_line == 0)
                return convert_fail_line(c, "not a blkparse event line (expected MAJ,MIN "
                                         "CPU SEQ TIME PID ACTION RWBS ...)");
            if (!summary_line)
                summary_line = c->line_no;
            convert_note(c, 3, "lines of the closing summary");
            continue;
        }
        if (summary_line)
            return convert_fail_line(c, "event after the summary that starts at line %llu",
                                     (unsigned long long)summary_line);
        if (n < 7)
            return convert_fail_line(c, "%u fields, an event has at least 7 (MAJ,MIN CPU SEQ "
                                     "TIME PID ACTION RWBS)", n);
        if (number_parse_u64(w[1], 10, 0, UINT64_MAX, &number))
            return convert_fail_line(c, "bad cpu '%s'", w[1]);
        if (number_parse_u64(w[2], 10, 0, UINT64_MAX, &number))
            return convert_fail_line(c, "bad sequence number '%s'", w[2]);
        if (number_parse_u64(w[4], 10, 0, UINT64_MAX, &number))
            return convert_fail_line(c, "bad pid '%s'", w[4]);
        if (blkparse_time(w[3], &ts))
            return convert_fail_line(c, "bad time '%s' (expected SECONDS.NANOSECONDS)", w[3]);
        events++;
        if (strlen(w[5]) != 1 || w[5][0] != c->o->blkparse_event) {
            convert_note(c, 0, "events of other actions");
            continue;
        }
        if (strchr(w[6], 'R'))
            op = TRACE_OP_READ;
        else if (strchr(w[6], 'W'))
            op = TRACE_OP_WRITE;
        else {
            convert_note(c, 1, "events that neither read nor write (RWBS without R or W)");
            continue;
        }
        if (n < 10 || strcmp(w[8], "+") != 0)
            return convert_fail_line(c, "expected 'SECTOR + COUNT' after '%s'", w[6]);
        if (number_parse_u64(w[7], 10, 0, UINT64_MAX, &sector) || sector > UINT64_MAX / BLKPARSE_SECTOR)
            return convert_fail_line(c, "bad sector '%s'", w[7]);
        if (number_parse_u64(w[9], 10, 0, UINT64_MAX, &count) || count > UINT64_MAX / BLKPARSE_SECTOR)
            return convert_fail_line(c, "bad sector count '%s'", w[9]);
        if (count == 0) {
            convert_note(c, 2, "read/write events of 0 sectors");
            continue;
        }
        rc = convert_id(c, w[0], strlen(w[0]), w[0], &id);
        if (rc)
            return rc;
        rc = convert_put_block(c, ts, id, sector * BLKPARSE_SECTOR, count * BLKPARSE_SECTOR, op);
        if (rc)
            return rc;
    }
    return rc;
}
