/*
 * main.c - tmem-trace: convert traces users already have into this
 * project's page trace format (convert.h), print a trace as text, and
 * summarise one.
 *
 *   tmem-trace convert [--from FORMAT] [--text] [--page-size N]
 *                      [--event Q|C] [--mapping FILE] IN OUT
 *   tmem-trace cat IN
 *   tmem-trace info IN
 *   tmem-trace mrc [--sizes N1,N2,...|--max-pages N] [--csv FILE] IN
 *   tmem-trace generate [OPTIONS] OUT   (generate.h: a synthetic Zipf trace)
 *
 * Errors are one line on stderr; exit 2 for bad usage or bad input, 1 for
 * I/O errors (a file that cannot be opened, read or written). A failed
 * convert removes OUT. Notes of input lines passed over on purpose go to
 * stderr after a successful convert.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/number.h"
#include "common/size.h"
#include "trace/convert.h"
#include "trace/generate.h"
#include "trace/stack_distance.h"
#include "trace/trace.h"

#define ERRLEN 512

static const char usage_text[] =
    "usage: tmem-trace convert [--from FORMAT] [--text] [--page-size SIZE] [--event Q|C]\n"
    "                          [--mapping FILE] IN OUT\n"
    "       tmem-trace cat IN\n"
    "       tmem-trace info IN\n"
    "       tmem-trace mrc [--sizes N1,N2,...|--max-pages N] [--csv FILE] IN\n"
    "%s"
    "\n"
    "convert  read IN (in FORMAT) and write OUT in this project's trace format,\n"
    "         binary unless --text; OUT '-' is standard output.\n"
    "cat      print the trace IN (binary or text) in the text form.\n"
    "info     print IN's header and its records counted by op.\n"
    "mrc      print IN's exact LRU miss-ratio curve: for each cache size in pages\n"
    "         the hits, misses and hit ratio of its read/write accesses (CSV);\n"
    "         by default sizes 1, 2, 4, ... up to the largest useful size.\n"
    "generate write OUT: --records N accesses (default 1000000) drawn from a Zipf\n"
    "         distribution of exponent --zipf THETA (0.9; 0 uniform) over --pages N\n"
    "         pages (65536) spread evenly over --files F files (1), writes with\n"
    "         probability --write-ratio R (0), --seed S (1), --kind file|anon.\n"
    "\n"
    "  --from FORMAT     native (default: this project's binary or text form),\n"
    "                    oracle-general, msr, blkparse, fio-iolog, lackey\n"
    "  --text            write the text form\n"
    "  --page-size SIZE  page size of the output (default 4096; a power of two\n"
    "                    in 512..65536; SIZE: %s)\n"
    "  --event Q|C       blkparse: convert queue (Q, default) or completion (C) events\n"
    "  --mapping FILE    write the dense ids given to devices, files, objects or\n"
    "                    pages, one \"ID KEY\" line each\n"
    "  --sizes N1,N2,... mrc: these cache sizes in pages\n"
    "  --max-pages N     mrc: every cache size 1..N pages\n"
    "  --csv FILE        mrc: write the curve to FILE instead of standard output\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit status: 0 ok, 1 I/O error, 2 bad usage or bad input. docs/traces.md\n"
    "describes the format and each converter's rule.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "tmem-trace: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see tmem-trace --help)\n");
    return 2;
}

/* Exit status for a -errno: bad input 2, anything else (I/O) 1. */
static int status_of(int rc)
{
    return rc == -EINVAL || rc == -ENODATA ? 2 : 1;
}

static int report(int rc, const char *err)
{
    fprintf(stderr, "tmem-trace: %s\n", err[0] ? err : strerror(-rc));
    return status_of(rc);
}

/* The header of the native trace at path: 0 or a status (reported). */
static int native_header(const char *path, struct trace_header *h)
{
    struct trace_reader *r = NULL;
    char err[ERRLEN] = "";
    int rc = trace_reader_open(path, &r, err, sizeof(err));

    if (rc)
        return report(rc, err);
    *h = *trace_reader_header(r);
    h->count = TRACE_COUNT_UNKNOWN;
    trace_reader_close(r);
    return 0;
}

static int command_convert(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "from", required_argument, NULL, 'f' },
        { "text", no_argument, NULL, 't' },
        { "page-size", required_argument, NULL, 'p' },
        { "event", required_argument, NULL, 'e' },
        { "mapping", required_argument, NULL, 'm' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    enum trace_format format = TRACE_FORMAT_NATIVE;
    struct trace_convert_options o;
    struct trace_writer *w = NULL;
    struct trace_header h;
    const char *mapping_path = NULL, *in_path, *out_path;
    bool text = false, page_size_set = false, event_set = false, to_stdout;
    char err[ERRLEN] = "";
    FILE *in = NULL;
    uint64_t bytes;
    int opt, rc, status = 0;

    trace_convert_options_init(&o);
    optind = 1;
    opterr = 0; /* one error line, ours */
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (trace_format_parse(optarg, &format))
                return usage_error("--from '%s': unknown format (native, oracle-general, msr, "
                                   "blkparse, fio-iolog, lackey)", optarg);
            break;
        case 't': text = true; break;
        case 'p':
            if (size_parse(optarg, false, &bytes) || bytes < 512 || bytes > 65536 ||
                (bytes & (bytes - 1)))
                return usage_error("--page-size '%s': expected a power of two in 512..65536",
                                   optarg);
            o.page_size = (uint32_t)bytes;
            page_size_set = true;
            break;
        case 'e':
            if (strcmp(optarg, "Q") != 0 && strcmp(optarg, "C") != 0)
                return usage_error("--event '%s': expected Q or C", optarg);
            o.blkparse_event = optarg[0];
            event_set = true;
            break;
        case 'm': mapping_path = optarg; break;
        case 'h': fprintf(stdout, usage_text, trace_generate_usage, size_grammar(false)); return 0;
        default: return usage_error("convert: unknown option or missing value in '%s'",
                                    argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return usage_error("%s", "convert takes IN and OUT");
    in_path = argv[optind];
    out_path = argv[optind + 1];
    to_stdout = strcmp(out_path, "-") == 0;
    if (event_set && format != TRACE_FORMAT_BLKPARSE)
        return usage_error("%s", "--event applies to --from blkparse only");
    if (format == TRACE_FORMAT_NATIVE) {
        if (page_size_set)
            return usage_error("%s", "--page-size does not apply to native input (it keeps "
                               "its own)");
        status = native_header(in_path, &h);
        if (status)
            return status;
    } else {
        trace_convert_header(format, &o, &h);
    }
    in = fopen(in_path, "rb");
    if (!in) {
        fprintf(stderr, "tmem-trace: %s: cannot open: %s\n", in_path, strerror(errno));
        return 1;
    }
    if (mapping_path) {
        o.mapping = fopen(mapping_path, "w");
        if (!o.mapping) {
            fprintf(stderr, "tmem-trace: %s: cannot create: %s\n", mapping_path,
                    strerror(errno));
            status = 1;
            goto out;
        }
    }
    o.notes = stderr; /* counts of lines passed over, after a clean conversion */
    rc = trace_writer_open(to_stdout ? NULL : out_path, to_stdout ? stdout : NULL, &h, text,
                           &w, err, sizeof(err));
    if (rc) {
        status = report(rc, err);
        goto out;
    }
    rc = trace_convert(format, in, in_path, &o, w, err, sizeof(err));
    if (rc) {
        status = report(rc, err);
        goto out;
    }
    rc = trace_writer_close(w, err, sizeof(err));
    w = NULL;
    if (rc) {
        status = report(rc, err);
        goto out;
    }
    if (o.mapping) {
        rc = fclose(o.mapping);
        o.mapping = NULL;
        if (rc) {
            fprintf(stderr, "tmem-trace: %s: write error\n", mapping_path);
            status = 1;
            goto out;
        }
    }
out:
    if (w)
        trace_writer_close(w, err, sizeof(err));
    if (o.mapping)
        fclose(o.mapping);
    if (in)
        fclose(in);
    if (status && !to_stdout)
        unlink(out_path);
    return status;
}

static int command_cat(int argc, char **argv)
{
    struct trace_reader *r = NULL;
    struct trace_writer *w = NULL;
    struct trace_header h;
    struct trace_record rec;
    char err[ERRLEN] = "";
    int rc, status = 0;

    if (argc != 2)
        return usage_error("%s", "cat takes IN");
    rc = trace_reader_open(argv[1], &r, err, sizeof(err));
    if (rc)
        return report(rc, err);
    h = *trace_reader_header(r);
    h.count = TRACE_COUNT_UNKNOWN;
    rc = trace_writer_open(NULL, stdout, &h, true, &w, err, sizeof(err));
    if (rc)
        goto out;
    while ((rc = trace_reader_next(r, &rec, err, sizeof(err))) == 1) {
        rc = trace_writer_put(w, &rec, err, sizeof(err));
        if (rc)
            goto out;
    }
    if (rc == 0) {
        rc = trace_writer_close(w, err, sizeof(err));
        w = NULL;
    }
out:
    if (rc)
        status = report(rc, err);
    if (w)
        trace_writer_close(w, err, sizeof(err));
    trace_reader_close(r);
    return status;
}

static int command_info(int argc, char **argv)
{
    static const char *const kind_names[] = { "?", "file", "anon", "both" };
    uint64_t counts[TRACE_OP_CAPACITY + 1] = { 0 };
    struct trace_reader *r = NULL;
    const struct trace_header *h;
    struct trace_record rec;
    char err[ERRLEN] = "";
    int rc;

    if (argc != 2)
        return usage_error("%s", "info takes IN");
    rc = trace_reader_open(argv[1], &r, err, sizeof(err));
    if (rc)
        return report(rc, err);
    while ((rc = trace_reader_next(r, &rec, err, sizeof(err))) == 1)
        counts[rec.op]++;
    if (rc) {
        trace_reader_close(r);
        return report(rc, err);
    }
    h = trace_reader_header(r);
    printf("version %" PRIu32 "\npage_size %" PRIu32 "\nkind %s\ntimestamps %s\n", h->version,
           h->page_size, kind_names[h->kind & 3], h->flags & TRACE_FLAG_TIMESTAMPS ? "yes" : "no");
    printf("records %" PRIu64 "\n", trace_reader_position(r));
    for (int op = TRACE_OP_READ; op <= TRACE_OP_CAPACITY; op++)
        printf("%s %" PRIu64 "\n", trace_op_name((enum trace_op)op), counts[op]);
    trace_reader_close(r);
    return 0;
}

/* "N1,N2,..." of page counts >= 1 into a new array: 0 or a status. */
static int parse_sizes(const char *text, uint64_t **out, size_t *n)
{
    size_t count = 1;
    uint64_t *sizes;
    const char *p = text;

    for (const char *c = text; *c; c++)
        count += *c == ',';
    sizes = calloc(count, sizeof(*sizes));
    if (!sizes)
        return 1;
    for (size_t i = 0; i < count; i++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (number_parse_u64_span(p, len, 10, 1, UINT64_MAX, &sizes[i])) {
            free(sizes);
            return usage_error("--sizes '%s': expected page counts >= 1 separated by commas",
                               text);
        }
        p += len + 1;
    }
    *out = sizes;
    *n = count;
    return 0;
}

static int command_mrc(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "sizes", required_argument, NULL, 's' },
        { "max-pages", required_argument, NULL, 'm' },
        { "csv", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct stack_distance *sd = NULL;
    struct trace_reader *r = NULL;
    struct trace_record rec;
    const char *csv_path = NULL;
    uint64_t *sizes = NULL, max_pages = 0;
    size_t n = 0;
    char err[ERRLEN] = "";
    FILE *csv = stdout;
    int opt, rc, status = 0;

    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            free(sizes);
            sizes = NULL;
            status = parse_sizes(optarg, &sizes, &n);
            if (status)
                return status;
            break;
        case 'm':
            if (number_parse_u64(optarg, 10, 1, 100000000, &max_pages)) {
                free(sizes);
                return usage_error("--max-pages '%s': expected a page count in 1..100000000",
                                   optarg);
            }
            break;
        case 'c': csv_path = optarg; break;
        case 'h': free(sizes); fprintf(stdout, usage_text, trace_generate_usage, size_grammar(false)); return 0;
        default:
            free(sizes);
            return usage_error("mrc: unknown option or missing value in '%s'", argv[optind - 1]);
        }
    }
    if (sizes && max_pages) {
        free(sizes);
        return usage_error("%s", "mrc takes --sizes or --max-pages, not both");
    }
    if (optind + 1 != argc) {
        free(sizes);
        return usage_error("%s", "mrc takes IN");
    }
    rc = trace_reader_open(argv[optind], &r, err, sizeof(err));
    if (rc)
        goto out;
    rc = stack_distance_create(&sd);
    if (rc)
        goto out;
    while ((rc = trace_reader_next(r, &rec, err, sizeof(err))) == 1) {
        rc = stack_distance_add_record(sd, &rec);
        if (rc)
            goto out;
    }
    if (rc)
        goto out;
    if (!sizes) {
        uint64_t top = max_pages ? max_pages : stack_distance_max_useful_size(sd);

        if (top == 0)
            top = 1;
        n = 0;
        sizes = calloc(max_pages ? max_pages : 66, sizeof(*sizes));
        if (!sizes) {
            rc = -ENOMEM;
            goto out;
        }
        for (uint64_t s = 1; s <= top; s = max_pages ? s + 1 : s * 2)
            sizes[n++] = s;
        if (!max_pages && sizes[n - 1] != top)
            sizes[n++] = top;
    }
    if (csv_path) {
        FILE *f = fopen(csv_path, "w");

        if (!f) {
            rc = -errno;
            snprintf(err, sizeof(err), "%s: %s", csv_path, strerror(-rc));
            goto out;
        }
        csv = f;
    }
    fprintf(stderr, "tmem-trace mrc: %llu accesses, %llu cold misses, largest useful size %llu "
            "pages\n", (unsigned long long)stack_distance_accesses(sd),
            (unsigned long long)stack_distance_cold_misses(sd),
            (unsigned long long)stack_distance_max_useful_size(sd));
    rc = stack_distance_write_csv(sd, sizes, n, csv);
    if (csv != stdout && fclose(csv) != 0 && !rc)
        rc = -EIO;
    csv = stdout;
    if (rc && csv_path)
        snprintf(err, sizeof(err), "%s: %s", csv_path, strerror(-rc));
out:
    if (rc)
        status = report(rc, err);
    if (csv != stdout)
        fclose(csv);
    stack_distance_destroy(sd);
    trace_reader_close(r);
    free(sizes);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "expected a command: convert, cat, info, mrc or generate");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        printf(usage_text, trace_generate_usage, size_grammar(false));
        return 0;
    }
    if (strcmp(argv[1], "convert") == 0)
        return command_convert(argc - 1, argv + 1);
    if (strcmp(argv[1], "cat") == 0)
        return command_cat(argc - 1, argv + 1);
    if (strcmp(argv[1], "info") == 0)
        return command_info(argc - 1, argv + 1);
    if (strcmp(argv[1], "mrc") == 0)
        return command_mrc(argc - 1, argv + 1);
    if (strcmp(argv[1], "generate") == 0)
        return trace_generate_command(argc - 1, argv + 1);
    return usage_error("unknown command '%s' (convert, cat, info, mrc or generate)", argv[1]);
}
