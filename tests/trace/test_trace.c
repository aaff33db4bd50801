/*
 * test_trace.c - the page trace format (src/trace/trace.h).
 *
 * Rules checked:
 *   - the writer lays out the binary form byte by byte as trace.h says
 *     (compared with a trace encoded by hand here);
 *   - binary -> text -> binary is byte-identical, with and without
 *     timestamps, for a trace of every op large enough to refill the
 *     reader's block buffer several times (files, not memory);
 *   - every malformed input is refused with its exact one-line message
 *     (FILE: for the header, FILE:record N for binary records, FILE:LINE
 *     for text lines), errors are sticky, an empty trace is -ENODATA;
 *   - the writer refuses records that do not fit the header, and leaves
 *     the count unknown on an output that cannot seek.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "trace/trace.h"

/* ------------------------------------------------ encoding by hand */

static void le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* A binary trace being built in memory. */
struct bin {
    unsigned char b[64 + 32 * 16];
    size_t len;
};

static void bin_header(struct bin *t, uint32_t kind, uint32_t flags, uint64_t count)
{
    memset(t, 0, sizeof(*t));
    memcpy(t->b, "TMEMTRC\n", 8);
    le32(t->b + 8, 1);
    le32(t->b + 12, 64);
    le32(t->b + 16, 32);
    le32(t->b + 20, 4096);
    le32(t->b + 24, kind);
    le32(t->b + 28, flags);
    le64(t->b + 32, count);
    t->len = 64;
}

static unsigned char *bin_record(struct bin *t, uint64_t ts, uint64_t obj, uint64_t val,
                                 unsigned op)
{
    unsigned char *p = t->b + t->len;
    le64(p, ts);
    le64(p + 8, obj);
    le64(p + 16, val);
    p[24] = (unsigned char)op;
    t->len += 32;
    return p;
}

/* Read data (in memory, named "t") to its end; return the last result and
 * the message of an error in msg. */
static int read_all(const void *data, size_t len, char *msg, size_t msglen, uint64_t *n)
{
    struct trace_reader *r;
    struct trace_record rec;
    int rc = trace_reader_open_memory(data, len, "t", &r, msg, msglen);
    *n = 0;
    if (rc)
        return rc;
    while ((rc = trace_reader_next(r, &rec, msg, msglen)) == 1)
        (*n)++;
    if (rc < 0) {
        /* sticky: the same error again */
        char again[512];
        assert_int_equal(trace_reader_next(r, &rec, again, sizeof(again)), rc);
        assert_string_equal(again, msg);
    }
    trace_reader_close(r);
    return rc;
}

static void expect_bin_error(const struct bin *t, int want_rc, const char *want)
{
    char msg[512] = "";
    uint64_t n;
    int rc = read_all(t->b, t->len, msg, sizeof(msg), &n);
    if (rc != want_rc || strcmp(msg, want) != 0)
        fail_msg("got %d '%s', want %d '%s'", rc, msg, want_rc, want);
}

static void expect_text_error(const char *text, int want_rc, const char *want)
{
    char msg[512] = "";
    uint64_t n;
    int rc = read_all(text, strlen(text), msg, sizeof(msg), &n);
    if (rc != want_rc || strcmp(msg, want) != 0)
        fail_msg("'%s': got %d '%s', want %d '%s'", text, rc, msg, want_rc, want);
}

/* ------------------------------------------------ generated traces */

static char *tmp_path(const char *tag)
{
    char *p = malloc(64);
    snprintf(p, 64, "/tmp/test-trace-%s-XXXXXX", tag);
    int fd = mkstemp(p);
    assert_true(fd >= 0);
    close(fd);
    return p;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Record i of a trace of kind both touching every op and edge values. */
static void nth_record(uint64_t i, bool stamps, struct trace_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    rec->op = (enum trace_op)(1 + i % 8);
    rec->timestamp_ns = stamps ? i * 1000 + (i % 3) : 0;
    switch (rec->op) {
    case TRACE_OP_READ:
    case TRACE_OP_WRITE:
        rec->object = i % 5 ? i : UINT64_MAX;
        rec->value = i % 7 ? i * 13 % 100000 : UINT32_MAX;
        break;
    case TRACE_OP_TRUNCATE:
        rec->object = i;
        rec->value = i % 11 ? i % 64 : 1ull << 32;
        break;
    case TRACE_OP_UNLINK: rec->object = i; break;
    case TRACE_OP_CAPACITY: rec->value = i % 4 ? i << 12 : UINT64_MAX; break;
    default: rec->value = i % 9 ? i : UINT32_MAX; break;
    }
}

#define ROUND_TRIP_RECORDS 150000 /* 4.8 MB binary: several block refills */

/* Copy the trace at from into a new file (text or binary); returns the
 * path. Checks every record against nth_record. */
static char *copy_trace(const char *from, bool text, bool stamps)
{
    struct trace_reader *r;
    struct trace_writer *w;
    struct trace_record rec, want;
    struct trace_header h;
    char err[512], *to = tmp_path(text ? "txt" : "bin");
    uint64_t n = 0;
    int rc;

    assert_int_equal(trace_reader_open(from, &r, err, sizeof(err)), 0);
    h = *trace_reader_header(r);
    h.count = TRACE_COUNT_UNKNOWN;
    assert_int_equal(trace_writer_open(to, NULL, &h, text, &w, err, sizeof(err)), 0);
    while ((rc = trace_reader_next(r, &rec, err, sizeof(err))) == 1) {
        nth_record(n++, stamps, &want);
        assert_int_equal(rec.timestamp_ns, want.timestamp_ns);
        assert_int_equal(rec.object, want.object);
        assert_int_equal(rec.value, want.value);
        assert_int_equal(rec.op, want.op);
        assert_int_equal(trace_writer_put(w, &rec, err, sizeof(err)), 0);
    }
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(n, ROUND_TRIP_RECORDS);
    assert_int_equal(trace_reader_position(r), n);
    assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
    trace_reader_close(r);
    return to;
}

static void round_trip(bool stamps)
{
    struct trace_header h = {.version = TRACE_VERSION, .page_size = 4096,
                             .kind = TRACE_KIND_BOTH,
                             .flags = stamps ? TRACE_FLAG_TIMESTAMPS : 0,
                             .count = TRACE_COUNT_UNKNOWN};
    struct trace_writer *w;
    struct trace_record rec;
    char err[512], *bin1 = tmp_path("bin"), *text, *bin2;
    size_t len1, len2;

    assert_int_equal(trace_writer_open(bin1, NULL, &h, false, &w, err, sizeof(err)), 0);
    for (uint64_t i = 0; i < ROUND_TRIP_RECORDS; i++) {
        nth_record(i, stamps, &rec);
        assert_int_equal(trace_writer_put(w, &rec, err, sizeof(err)), 0);
    }
    assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
    text = copy_trace(bin1, true, stamps);
    bin2 = copy_trace(text, false, stamps);
    unsigned char *a = slurp(bin1, &len1), *b = slurp(bin2, &len2);
    assert_int_equal(len1, 64 + 32ull * ROUND_TRIP_RECORDS);
    assert_int_equal(len2, len1);
    assert_memory_equal(a, b, len1);
    /* the count was patched in on close */
    uint64_t count = 0;
    for (int i = 7; i >= 0; i--)
        count = count << 8 | a[32 + i];
    assert_int_equal(count, ROUND_TRIP_RECORDS);
    free(a);
    free(b);
    unlink(bin1);
    unlink(text);
    unlink(bin2);
    free(bin1);
    free(text);
    free(bin2);
}

static void test_round_trip_binary_text_binary(void **state)
{
    (void)state;
    round_trip(false);
    round_trip(true);
}

/* The writer's bytes are the layout of trace.h, and the text form is the
 * documented one. */
static void test_writer_layout_and_text_form(void **state)
{
    struct trace_header h = {.version = TRACE_VERSION, .page_size = 4096,
                             .kind = TRACE_KIND_BOTH, .flags = TRACE_FLAG_TIMESTAMPS,
                             .count = TRACE_COUNT_UNKNOWN};
    struct trace_record recs[] = {
        {7, 3, 9, TRACE_OP_READ, false},      {8, 3, 10, TRACE_OP_WRITE, false},
        {9, 3, 2, TRACE_OP_TRUNCATE, false},  {10, 3, 0, TRACE_OP_UNLINK, false},
        {11, 0, 5, TRACE_OP_AREAD, false},    {12, 0, 6, TRACE_OP_AWRITE, false},
        {13, 0, 7, TRACE_OP_AFREE, false},    {14, 0, 1 << 20, TRACE_OP_CAPACITY, false},
        {15, 0, UINT64_MAX, TRACE_OP_CAPACITY, false},
    };
    struct trace_writer *w;
    struct bin want;
    char err[512], *path = tmp_path("bin");
    size_t len;
    (void)state;

    bin_header(&want, 3, 1, 9);
    for (size_t i = 0; i < 9; i++)
        bin_record(&want, recs[i].timestamp_ns, recs[i].object, recs[i].value, recs[i].op);
    assert_int_equal(trace_writer_open(path, NULL, &h, false, &w, err, sizeof(err)), 0);
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(trace_writer_put(w, &recs[i], err, sizeof(err)), 0);
    assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
    unsigned char *got = slurp(path, &len);
    assert_int_equal(len, want.len);
    assert_memory_equal(got, want.b, len);
    free(got);

    assert_int_equal(trace_writer_open(path, NULL, &h, true, &w, err, sizeof(err)), 0);
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(trace_writer_put(w, &recs[i], err, sizeof(err)), 0);
    assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
    got = slurp(path, &len);
    got[len] = '\0';
    assert_string_equal((char *)got, "# tmem-trace 1 page_size=4096 kind=both timestamps\n"
                                     "@7 read 3 9\n@8 write 3 10\n@9 truncate 3 2\n"
                                     "@10 unlink 3\n@11 aread 5\n@12 awrite 6\n@13 afree 7\n"
                                     "@14 capacity 1048576\n@15 capacity unlimited\n");
    free(got);
    unlink(path);
    free(path);
}

/* The text reader takes comments, blank lines, hex and the size grammar. */
static void test_text_reader_accepts_documented_forms(void **state)
{
    const char *text = "# tmem-trace 1 page_size=512 kind=file\n"
                       "# a comment\n\n  read 0x10 7   # trailing\n"
                       "capacity 64M\ncapacity unlimited\n\tunlink 4";
    struct trace_reader *r;
    struct trace_record rec;
    char err[256];
    (void)state;
    assert_int_equal(trace_reader_open_memory(text, strlen(text), "t", &r, err, sizeof(err)),
                     0);
    assert_int_equal(trace_reader_header(r)->page_size, 512);
    assert_int_equal(trace_reader_header(r)->kind, TRACE_KIND_FILE);
    assert_int_equal(trace_reader_header(r)->count, TRACE_COUNT_UNKNOWN);
    assert_int_equal(trace_reader_next(r, &rec, err, sizeof(err)), 1);
    assert_int_equal(rec.op, TRACE_OP_READ);
    assert_int_equal(rec.object, 16);
    assert_int_equal(rec.value, 7);
    assert_int_equal(trace_reader_next(r, &rec, err, sizeof(err)), 1);
    assert_int_equal(rec.value, 64ull << 20);
    assert_int_equal(trace_reader_next(r, &rec, err, sizeof(err)), 1);
    assert_int_equal(rec.value, UINT64_MAX);
    assert_int_equal(trace_reader_next(r, &rec, err, sizeof(err)), 1);
    assert_int_equal(rec.op, TRACE_OP_UNLINK);
    assert_int_equal(rec.object, 4);
    /* trace_reader_where names the line of the last record */
    char where[64];
    trace_reader_where(r, where, sizeof(where));
    assert_string_equal(where, "t:7");
    assert_int_equal(trace_reader_next(r, &rec, err, sizeof(err)), 0);
    assert_int_equal(trace_reader_next(r, &rec, err, sizeof(err)), 0);
    assert_int_equal(trace_reader_position(r), 4);
    trace_reader_close(r);
}

static void test_bad_binary_header_is_refused(void **state)
{
    struct bin t;
    (void)state;
    bin_header(&t, 1, 0, 1);
    t.b[7] = 'X';
    expect_bin_error(&t, -EINVAL,
                     "t: not a tmem trace (expected the magic \"TMEMTRC\\n\" or a first line "
                     "\"# tmem-trace 1 ...\")");
    bin_header(&t, 1, 0, 1);
    le32(t.b + 8, 2);
    expect_bin_error(&t, -EINVAL, "t: unknown version 2 (this reader knows 1)");
    bin_header(&t, 1, 0, 1);
    le32(t.b + 12, 80);
    expect_bin_error(&t, -EINVAL, "t: header size 80, record size 32 (version 1 has 64 and 32)");
    bin_header(&t, 1, 0, 1);
    le32(t.b + 16, 24);
    expect_bin_error(&t, -EINVAL, "t: header size 64, record size 24 (version 1 has 64 and 32)");
    bin_header(&t, 1, 0, 1);
    le32(t.b + 20, 3000);
    expect_bin_error(&t, -EINVAL, "t: bad page size 3000 (a power of two, 512..65536)");
    bin_header(&t, 4, 0, 1);
    expect_bin_error(&t, -EINVAL, "t: unknown kind 4 (1 file, 2 anon, 3 both)");
    bin_header(&t, 1, 2, 1);
    expect_bin_error(&t, -EINVAL, "t: unknown flags 0x2");
    bin_header(&t, 1, 0, 1);
    t.b[63] = 1;
    expect_bin_error(&t, -EINVAL, "t: non-zero reserved bytes in the header");
    bin_header(&t, 1, 0, 1);
    t.len = 40;
    expect_bin_error(&t, -EINVAL, "t: truncated header (40 of 64 bytes)");
    t.len = 0;
    expect_bin_error(&t, -EINVAL,
                     "t: not a tmem trace (expected the magic \"TMEMTRC\\n\" or a first line "
                     "\"# tmem-trace 1 ...\")");
}

static void test_bad_binary_records_are_refused(void **state)
{
    struct bin t;
    (void)state;
    bin_header(&t, 1, 0, 2);
    bin_record(&t, 0, 1, 2, TRACE_OP_READ);
    bin_record(&t, 0, 1, 3, TRACE_OP_READ);
    t.len -= 27;
    expect_bin_error(&t, -EINVAL, "t:record 2: truncated record (5 of 32 bytes)");

    bin_header(&t, 1, 0, 1);
    bin_record(&t, 0, 1, 2, 9);
    expect_bin_error(&t, -EINVAL, "t:record 1: unknown op 9");
    bin_header(&t, 1, 0, 1);
    bin_record(&t, 0, 1, 2, 0);
    expect_bin_error(&t, -EINVAL, "t:record 1: unknown op 0");
    bin_header(&t, 1, 0, 1);
    bin_record(&t, 0, 1, 2, TRACE_OP_READ)[31] = 1;
    expect_bin_error(&t, -EINVAL, "t:record 1: non-zero reserved bytes");

    /* count mismatch, both ways, checked at the end */
    bin_header(&t, 1, 0, 3);
    bin_record(&t, 0, 1, 2, TRACE_OP_READ);
    bin_record(&t, 0, 1, 2, TRACE_OP_READ);
    expect_bin_error(&t, -EINVAL, "t: the header's count is 3, the file holds 2 records");
    bin_header(&t, 1, 0, 1);
    bin_record(&t, 0, 1, 2, TRACE_OP_READ);
    bin_record(&t, 0, 1, 2, TRACE_OP_READ);
    expect_bin_error(&t, -EINVAL, "t:record 2: more records than the header's count 1");

    /* records must fit the header */
    bin_header(&t, 1, 0, 1);
    bin_record(&t, 0, 0, 2, TRACE_OP_AREAD);
    expect_bin_error(&t, -EINVAL, "t:record 1: aread record in a trace of kind file");
    bin_header(&t, 2, 0, 1);
    bin_record(&t, 0, 1, 2, TRACE_OP_WRITE);
    expect_bin_error(&t, -EINVAL, "t:record 1: write record in a trace of kind anon");
    bin_header(&t, 1, 0, 1);
    bin_record(&t, 5, 1, 2, TRACE_OP_READ);
    expect_bin_error(&t, -EINVAL, "t:record 1: timestamp 5 in a trace without timestamps");
    bin_header(&t, 1, 0, 1);
    bin_record(&t, 0, 1, 1ull << 32, TRACE_OP_READ);
    expect_bin_error(&t, -EINVAL,
                     "t:record 1: page index 4294967296 out of range (at most 2^32-1)");
    bin_header(&t, 1, 0, 1);
    bin_record(&t, 0, 1, (1ull << 32) + 1, TRACE_OP_TRUNCATE);
    expect_bin_error(&t, -EINVAL,
                     "t:record 1: truncate length 4294967297 pages out of range (at most 2^32)");
    bin_header(&t, 1, 0, 1);
    bin_record(&t, 0, 1, 1, TRACE_OP_UNLINK);
    expect_bin_error(&t, -EINVAL, "t:record 1: unlink record with a non-zero value 1");
    bin_header(&t, 2, 0, 1);
    bin_record(&t, 0, 0, 1ull << 32, TRACE_OP_AFREE);
    expect_bin_error(&t, -EINVAL,
                     "t:record 1: virtual page 4294967296 out of range (at most 2^32-1)");
    bin_header(&t, 2, 0, 1);
    bin_record(&t, 0, 4, 1, TRACE_OP_AREAD);
    expect_bin_error(&t, -EINVAL, "t:record 1: aread record with a non-zero object 4");

    /* empty traces: known count 0 and unknown count */
    bin_header(&t, 1, 0, 0);
    expect_bin_error(&t, -ENODATA, "t: empty trace (no records)");
    bin_header(&t, 1, 0, TRACE_COUNT_UNKNOWN);
    expect_bin_error(&t, -ENODATA, "t: empty trace (no records)");
}

static void test_bad_text_is_refused(void **state)
{
    (void)state;
    expect_text_error("# tmem-trace 2 page_size=4096 kind=file\nread 1 2\n", -EINVAL,
                      "t:1: unknown version 2 (this reader knows 1)");
    expect_text_error("# tmem-trace 1 page_size=4096\nread 1 2\n", -EINVAL,
                      "t:1: header line lacks kind=");
    expect_text_error("# tmem-trace 1 page_size=4096 kind=swap\n", -EINVAL,
                      "t:1: unknown kind 'swap' (file, anon or both)");
    expect_text_error("# tmem-trace 1 page_size=100 kind=file\n", -EINVAL,
                      "t:1: bad page size 100 (a power of two, 512..65536)");
    expect_text_error("# tmem-trace 1 page_size=4096 kind=file colour\n", -EINVAL,
                      "t:1: unexpected 'colour' in the header line");
    expect_text_error("tmem-trace 1\n", -EINVAL,
                      "t: not a tmem trace (expected the magic \"TMEMTRC\\n\" or a first line "
                      "\"# tmem-trace 1 ...\")");
    const char *hdr = "# tmem-trace 1 page_size=4096 kind=file\n";
    char buf[256];
#define BAD_LINE(line, want)                                                                  \
    do {                                                                                      \
        snprintf(buf, sizeof(buf), "%sread 1 1\n%s\n", hdr, line);                             \
        expect_text_error(buf, -EINVAL, want);                                                \
    } while (0)
    BAD_LINE("raed 1 2", "t:3: unknown op 'raed'");
    BAD_LINE("read 1", "t:3: read takes 2 arguments, got 1");
    BAD_LINE("unlink 1 2", "t:3: unlink takes 1 argument, got 2");
    BAD_LINE("read x1 2", "t:3: bad number 'x1'");
    BAD_LINE("read 1 -2", "t:3: bad number '-2'");
    BAD_LINE("read 1 99999999999999999999", "t:3: bad number '99999999999999999999'");
    BAD_LINE("read 1 4294967296", "t:3: page index 4294967296 out of range (at most 2^32-1)");
    BAD_LINE("aread 1", "t:3: aread record in a trace of kind file");
    BAD_LINE("@5 read 1 2", "t:3: timestamp in a trace without timestamps");
    BAD_LINE("capacity lots",
             "t:3: bad number 'lots' (expected bytes with an optional K, M, G or T, or "
             "'unlimited')");
    BAD_LINE("read 1 2 3 4", "t:3: read takes 2 arguments, got 4");
    BAD_LINE("read 1 2 3 4 5", "t:3: too many words");
    expect_text_error("# tmem-trace 1 page_size=4096 kind=anon timestamps\n@1 aread 2\n"
                      "aread 3\n", -EINVAL,
                      "t:3: missing @timestamp (the header says timestamps)");
    expect_text_error("# tmem-trace 1 page_size=4096 kind=anon timestamps\n@x aread 2\n",
                      -EINVAL, "t:2: bad timestamp '@x'");
    expect_text_error("# tmem-trace 1 page_size=4096 kind=anon\n# only comments\n\n",
                      -ENODATA, "t: empty trace (no records)");
    char *longline = malloc(6000);
    snprintf(longline, 6000, "%s", hdr);
    memset(longline + strlen(hdr), ' ', 5000);
    strcpy(longline + strlen(hdr) + 5000, "read 1 1\n");
    expect_text_error(longline, -EINVAL, "t:2: line longer than 4096 bytes");
    free(longline);
}

/* Rule (trace.h, struct trace_record): a request of several pages is one
 * record per page, every page after the first marked "continues" (binary:
 * bit 0 of byte 25; text: a trailing "+"), both ways without loss; only a
 * read (write) of the next page of the same file may continue. */
static void test_continues_flag_round_trips_and_is_checked(void **state)
{
    struct trace_header h = {.version = TRACE_VERSION, .page_size = 4096,
                             .kind = TRACE_KIND_FILE, .count = TRACE_COUNT_UNKNOWN};
    struct trace_record recs[] = {
        {0, 2, 7, TRACE_OP_READ, false}, {0, 2, 8, TRACE_OP_READ, true},
        {0, 2, 9, TRACE_OP_READ, true},  {0, 2, 10, TRACE_OP_WRITE, false},
        {0, 2, 11, TRACE_OP_WRITE, true},
    };
    const size_t nrecs = sizeof(recs) / sizeof(recs[0]);
    struct trace_writer *w;
    struct trace_reader *r;
    struct trace_record rec;
    char err[512], *path = tmp_path("cont");
    size_t len;
    (void)state;

    for (int text = 0; text < 2; text++) {
        assert_int_equal(trace_writer_open(path, NULL, &h, text, &w, err, sizeof(err)), 0);
        for (size_t i = 0; i < nrecs; i++)
            assert_int_equal(trace_writer_put(w, &recs[i], err, sizeof(err)), 0);
        assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
        unsigned char *got = slurp(path, &len);
        if (text) {
            got[len] = '\0';
            assert_string_equal((char *)got, "# tmem-trace 1 page_size=4096 kind=file\n"
                                             "read 2 7\nread 2 8 +\nread 2 9 +\n"
                                             "write 2 10\nwrite 2 11 +\n");
        } else {
            assert_int_equal(len, 64 + 32 * nrecs);
            for (size_t i = 0; i < nrecs; i++)
                assert_int_equal(got[64 + 32 * i + 25], recs[i].continues ? 1 : 0);
        }
        free(got);
        assert_int_equal(trace_reader_open(path, &r, err, sizeof(err)), 0);
        for (size_t i = 0; i < nrecs; i++) {
            assert_int_equal(trace_reader_next(r, &rec, err, sizeof(err)), 1);
            assert_int_equal(rec.value, recs[i].value);
            assert_int_equal(rec.continues, recs[i].continues);
        }
        char where[128], want_where[128];
        trace_reader_where(r, where, sizeof(where));
        snprintf(want_where, sizeof(want_where), text ? "%s:6" : "%s:record 5", path);
        assert_string_equal(where, want_where);
        assert_int_equal(trace_reader_next(r, &rec, err, sizeof(err)), 0);
        trace_reader_close(r);
    }
    /* the writer refuses a record that does not continue what came before */
    assert_int_equal(trace_writer_open(path, NULL, &h, false, &w, err, sizeof(err)), 0);
    assert_int_equal(trace_writer_put(w, &recs[1], err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, ":record 1: read of page 8 continues a request but does not "
                                "follow a read of page 7 of the same file"));
    assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
    unlink(path);
    free(path);

    const char *hdr = "# tmem-trace 1 page_size=4096 kind=file\n";
    char buf[256];
    BAD_LINE("read 1 3 +",
             "t:3: read of page 3 continues a request but does not follow a read of page 2 "
             "of the same file");
    BAD_LINE("read 1 2 x", "t:3: read takes 2 arguments, got 3");
    BAD_LINE("write 1 2 +",
             "t:3: write of page 2 continues a request but does not follow a write of page 1 "
             "of the same file");
    BAD_LINE("read 2 2 +",
             "t:3: read of page 2 continues a request but does not follow a read of page 1 "
             "of the same file");
    BAD_LINE("truncate 1 2 +", "t:3: a truncate record cannot continue a request (only read and write)");
    expect_text_error("# tmem-trace 1 page_size=4096 kind=file\nread 1 0 +\n", -EINVAL,
                      "t:2: read of page 0 continues a request but does not follow a read of "
                      "page 0 of the same file");
    struct bin t;
    bin_header(&t, 1, 0, 2);
    bin_record(&t, 0, 1, 2, TRACE_OP_READ);
    bin_record(&t, 0, 1, 4, TRACE_OP_READ)[25] = 1;
    expect_bin_error(&t, -EINVAL,
                     "t:record 2: read of page 4 continues a request but does not follow a read "
                     "of page 3 of the same file");
    bin_header(&t, 1, 0, 1);
    bin_record(&t, 0, 1, 2, TRACE_OP_READ)[25] = 2;
    expect_bin_error(&t, -EINVAL, "t:record 1: non-zero reserved bytes");
}

static void test_writer_refuses_misfits_and_leaves_count_unknown_on_pipe(void **state)
{
    struct trace_header h = {.version = TRACE_VERSION, .page_size = 4096,
                             .kind = TRACE_KIND_ANON, .count = TRACE_COUNT_UNKNOWN};
    struct trace_record rec = {.op = TRACE_OP_READ, .object = 1};
    struct trace_writer *w;
    char err[256];
    int fds[2];
    (void)state;

    h.page_size = 1000;
    assert_int_equal(trace_writer_open(NULL, stdout, &h, false, &w, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "(stream): bad page size 1000 (a power of two, 512..65536)");
    h.page_size = 4096;

    assert_int_equal(pipe(fds), 0);
    FILE *f = fdopen(fds[1], "w");
    assert_non_null(f);
    assert_int_equal(trace_writer_open(NULL, f, &h, false, &w, err, sizeof(err)), 0);
    assert_int_equal(trace_writer_put(w, &rec, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "(stream):record 1: read record in a trace of kind anon");
    rec.op = TRACE_OP_AWRITE;
    rec.object = 0;
    rec.value = 77;
    assert_int_equal(trace_writer_put(w, &rec, err, sizeof(err)), 0);
    assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
    fclose(f);
    unsigned char got[128];
    assert_int_equal(read(fds[0], got, sizeof(got)), 96);
    close(fds[0]);
    for (int i = 32; i < 40; i++)
        assert_int_equal(got[i], 0xff);
    /* and a reader streams it to its end */
    char msg[256];
    uint64_t n;
    assert_int_equal(read_all(got, 96, msg, sizeof(msg), &n), 0);
    assert_int_equal(n, 1);
}

static void test_op_names(void **state)
{
    enum trace_op op;
    (void)state;
    for (int i = TRACE_OP_READ; i <= TRACE_OP_CAPACITY; i++) {
        assert_int_equal(trace_op_parse(trace_op_name((enum trace_op)i), &op), 0);
        assert_int_equal(op, i);
        bool file = i <= TRACE_OP_UNLINK, anon = i >= TRACE_OP_AREAD && i <= TRACE_OP_AFREE;
        assert_int_equal(trace_op_is_file((enum trace_op)i), file || i == TRACE_OP_CAPACITY);
        assert_int_equal(trace_op_is_anon((enum trace_op)i), anon || i == TRACE_OP_CAPACITY);
    }
    assert_null(trace_op_name((enum trace_op)0));
    assert_null(trace_op_name((enum trace_op)9));
    assert_int_equal(trace_op_parse("Read", &op), -EINVAL);
    assert_int_equal(trace_op_parse(NULL, &op), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_binary_text_binary),
        cmocka_unit_test(test_writer_layout_and_text_form),
        cmocka_unit_test(test_text_reader_accepts_documented_forms),
        cmocka_unit_test(test_bad_binary_header_is_refused),
        cmocka_unit_test(test_bad_binary_records_are_refused),
        cmocka_unit_test(test_bad_text_is_refused),
        cmocka_unit_test(test_continues_flag_round_trips_and_is_checked),
        cmocka_unit_test(test_writer_refuses_misfits_and_leaves_count_unknown_on_pipe),
        cmocka_unit_test(test_op_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
