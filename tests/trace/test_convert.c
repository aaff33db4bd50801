/*
 * test_convert.c - the converters of src/trace/convert.h, each on a small
 * in-memory input (fmemopen) against records computed by hand: the block
 * rule at page boundaries, dense ids in order of first appearance, the
 * mapping and notes, timestamps in ns, and every malformed input with its
 * exact one-line message. Output is compared in the text form of trace.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trace/convert.h"
#include "trace/id_map.h"

struct result {
    int rc;
    char err[512];
    char *text;     /* the output, text form */
    char *mapping;
    char *notes;
};

static void result_free(struct result *r)
{
    free(r->text);
    free(r->mapping);
    free(r->notes);
}

/* Convert len bytes of input with format f; page size ps, blkparse event ev. */
static struct result run(enum trace_format f, const void *input, size_t len, uint32_t ps,
                         char ev)
{
    struct result r = { 0 };
    struct trace_convert_options o;
    struct trace_header h;
    struct trace_writer *w = NULL;
    size_t text_len = 0, map_len = 0, notes_len = 0;
    FILE *out = open_memstream(&r.text, &text_len);
    FILE *in = fmemopen((void *)input, len, "r");
    char err[512];

    assert_non_null(out);
    assert_non_null(in);
    trace_convert_options_init(&o);
    o.page_size = ps;
    o.blkparse_event = ev;
    o.mapping = open_memstream(&r.mapping, &map_len);
    o.notes = open_memstream(&r.notes, &notes_len);
    trace_convert_header(f, &o, &h);
    assert_int_equal(trace_writer_open(NULL, out, &h, true, &w, err, sizeof(err)), 0);
    r.rc = trace_convert(f, in, "in", &o, w, r.err, sizeof(r.err));
    assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
    fclose(out);
    fclose(in);
    fclose(o.mapping);
    fclose(o.notes);
    return r;
}

static void expect_records(enum trace_format f, const char *input, uint32_t ps,
                           const char *records)
{
    struct result r = run(f, input, strlen(input), ps, 'Q');
    const char *body;

    assert_string_equal(r.err, "");
    assert_int_equal(r.rc, 0);
    body = strchr(r.text, '\n') + 1;
    assert_string_equal(body, records);
    result_free(&r);
}

static void expect_error(enum trace_format f, const char *input, int rc, const char *msg)
{
    struct result r = run(f, input, strlen(input), 4096, 'Q');

    assert_int_equal(r.rc, rc);
    assert_string_equal(r.err, msg);
    result_free(&r);
}

/* Names map both ways; an unknown name is refused. */
static void test_format_names(void **state)
{
    enum trace_format f;

    (void)state;
    for (int i = TRACE_FORMAT_NATIVE; i <= TRACE_FORMAT_LACKEY; i++) {
        assert_int_equal(trace_format_parse(trace_format_name((enum trace_format)i), &f), 0);
        assert_int_equal((int)f, i);
    }
    assert_int_equal(trace_format_parse("msr2", &f), -EINVAL);
    assert_null(trace_format_name((enum trace_format)99));
}

/* id_map: dense ids in order of first appearance, through table growth. */
static void test_id_map_dense(void **state)
{
    struct id_map *m;
    uint32_t id;
    bool added;

    (void)state;
    assert_int_equal(id_map_create(&m), 0);
    for (uint64_t k = 0; k < 1000; k++) {
        uint64_t key = k * 7919;

        assert_int_equal(id_map_get(m, &key, sizeof(key), &id, &added), 0);
        assert_true(added);
        assert_int_equal(id, k);
    }
    for (uint64_t k = 0; k < 1000; k++) {
        uint64_t key = k * 7919;

        assert_int_equal(id_map_get(m, &key, sizeof(key), &id, &added), 0);
        assert_false(added);
        assert_int_equal(id, k);
    }
    assert_int_equal(id_map_count(m), 1000);
    id_map_destroy(m);
}

/* Block rule: offset 4095 size 2 touches pages 0 and 1; 4096..8191 one
 * page; keys host+disk get ids 0, 1 in order of first appearance; time is
 * FILETIME (100 ns) relative to the first record. */
static void test_msr_block_rule(void **state)
{
    struct result r;
    const char *in = "1000,usr,0,Read,4095,2,10\n"
                     "1003,usr,1,Write,4096,4096,10\n"
                     "1010,usr,0,write,8191,4098,10\n"
                     "\n"
                     "1011,usr,00,Read,0,0,1\n";

    (void)state;
    expect_records(TRACE_FORMAT_MSR, in, 4096,
                   "@0 read 0 0\n@0 read 0 1 +\n@300 write 1 1\n"
                   "@1000 write 0 1\n@1000 write 0 2 +\n@1000 write 0 3 +\n");
    r = run(TRACE_FORMAT_MSR, in, strlen(in), 4096, 'Q');
    assert_string_equal(r.mapping, "0 usr,0\n1 usr,1\n");
    assert_string_equal(r.notes, "in: skipped 1 requests of size 0 (no page touched)\n");
    result_free(&r);
}

/* Every malformed MSR line: its exact message. */
static void test_msr_errors(void **state)
{
    (void)state;
    expect_error(TRACE_FORMAT_MSR, "1,h,0,Read,0,1\n", -EINVAL,
                 "in:1: 6 fields, expected 7 (Timestamp,Hostname,DiskNumber,Type,Offset,Size,"
                 "ResponseTime)");
    expect_error(TRACE_FORMAT_MSR, "1,h,0,Read,0,1,1,1\n", -EINVAL,
                 "in:1: more than 7 comma-separated fields");
    expect_error(TRACE_FORMAT_MSR, "x,h,0,Read,0,1,1\n", -EINVAL, "in:1: bad timestamp 'x'");
    expect_error(TRACE_FORMAT_MSR, "1,,0,Read,0,1,1\n", -EINVAL, "in:1: empty hostname");
    expect_error(TRACE_FORMAT_MSR, "1,h,-1,Read,0,1,1\n", -EINVAL, "in:1: bad disk number '-1'");
    expect_error(TRACE_FORMAT_MSR, "1,h,0,Trim,0,1,1\n", -EINVAL,
                 "in:1: bad type 'Trim' (expected Read or Write)");
    expect_error(TRACE_FORMAT_MSR, "1,h,0,Read,0x10,1,1\n", -EINVAL, "in:1: bad offset '0x10'");
    expect_error(TRACE_FORMAT_MSR, "1,h,0,Read,0,1 ,1\n", -EINVAL, "in:1: bad size '1 '");
    expect_error(TRACE_FORMAT_MSR, "1,h,0,Read,0,1,\n", -EINVAL, "in:1: bad response time ''");
    expect_error(TRACE_FORMAT_MSR, "5,h,0,Read,0,1,1\n4,h,0,Read,0,1,1\n", -EINVAL,
                 "in:2: timestamp 4 is before the first record's (5)");
    expect_error(TRACE_FORMAT_MSR, "1,h,0,Read,0,1073741825,1\n", -EINVAL,
                 "in:1: request of 1073741825 bytes is larger than the limit (1073741824)");
    expect_error(TRACE_FORMAT_MSR, "1,h,0,Read,18446744073709551615,2,1\n", -EINVAL,
                 "in:1: offset 18446744073709551615 + size 2 overflows 64 bits");
    expect_error(TRACE_FORMAT_MSR, "1,h,0,Read,17592186040320,4097,1\n", -EINVAL,
                 "in:1: offset 17592186040320 + size 4097 reaches beyond page 2^32 - 1 (the "
                 "format's limit) at 4096-byte pages");
    expect_error(TRACE_FORMAT_MSR, "\n", -ENODATA,
                 "in: no records (nothing in it touches a page)");
}

static void put_oracle(unsigned char *p, uint32_t ts, uint64_t obj, uint32_t size)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(ts >> (8 * i));
    for (int i = 0; i < 8; i++)
        p[4 + i] = (unsigned char)(obj >> (8 * i));
    for (int i = 0; i < 4; i++)
        p[12 + i] = (unsigned char)(size >> (8 * i));
    memset(p + 16, 0xff, 8); /* next_access_vtime -1: ignored */
}

/* oracleGeneral: an object of size S is a file of ceil(S/page) pages read
 * whole (size 0: one page); ids dense by first appearance; seconds -> ns. */
static void test_oracle_general(void **state)
{
    unsigned char in[24 * 4];
    struct result r;

    (void)state;
    put_oracle(in, 1, 1ull << 40, 4097);
    put_oracle(in + 24, 2, 5, 0);
    put_oracle(in + 48, 3, 1ull << 40, 4096);
    put_oracle(in + 72, 4, 5, 1);
    r = run(TRACE_FORMAT_ORACLE_GENERAL, in, sizeof(in), 4096, 'Q');
    assert_int_equal(r.rc, 0);
    assert_string_equal(strchr(r.text, '\n') + 1,
                        "@1000000000 read 0 0\n@1000000000 read 0 1 +\n@2000000000 read 1 0\n"
                        "@3000000000 read 0 0\n@4000000000 read 1 0\n");
    assert_string_equal(r.mapping, "0 1099511627776\n1 5\n");
    result_free(&r);
    /* a truncated final record */
    r = run(TRACE_FORMAT_ORACLE_GENERAL, in, 24 + 10, 4096, 'Q');
    assert_int_equal(r.rc, -EINVAL);
    assert_string_equal(r.err, "in:record 2: truncated (10 of 24 bytes)");
    result_free(&r);
    r = run(TRACE_FORMAT_ORACLE_GENERAL, in, 0, 4096, 'Q');
    assert_int_equal(r.rc, -ENODATA);
    result_free(&r);
}

/* blkparse: Q events only (by default), sectors of 512 bytes, the block
 * rule, R/W from RWBS, flushes and other actions counted, the closing
 * summary ignored and counted. */
static void test_blkparse(void **state)
{
    const char *in =
        "  8,0    3        1     0.000000001  697  Q   W 7 + 2 [kjournald]\n"
        "  8,0    3        2     0.000000002  697  G   W 7 + 2 [kjournald]\n"
        "  8,16   0        3     1.5  1  Q  RM 16 + 8 [cat]\n"
        "  8,0    3        4     2.000000000  697  Q  FN [kworker]\n"
        "  8,0    3        5     2.000000001    0  C   W 7 + 2 [0]\n"
        "\n"
        "CPU0 (8,0):\n"
        " Reads Queued:           1,        4KiB\n";
    struct result r;

    (void)state;
    expect_records(TRACE_FORMAT_BLKPARSE, in, 4096,
                   "@1 write 0 0\n@1 write 0 1 +\n@1500000000 read 1 2\n");
    r = run(TRACE_FORMAT_BLKPARSE, in, strlen(in), 4096, 'Q');
    assert_string_equal(r.mapping, "0 8,0\n1 8,16\n");
    assert_string_equal(r.notes,
                        "in: skipped 2 events of other actions\n"
                        "in: skipped 1 events that neither read nor write (RWBS without R or W)\n"
                        "in: skipped 2 lines of the closing summary\n");
    result_free(&r);
    r = run(TRACE_FORMAT_BLKPARSE, in, strlen(in), 4096, 'C');
    assert_int_equal(r.rc, 0);
    assert_string_equal(strchr(r.text, '\n') + 1, "@2000000001 write 0 0\n@2000000001 write 0 1 +\n");
    result_free(&r);
}

static void test_blkparse_errors(void **state)
{
    (void)state;
    expect_error(TRACE_FORMAT_BLKPARSE, "hello\n", -EINVAL,
                 "in:1: not a blkparse event line (expected MAJ,MIN CPU SEQ TIME PID ACTION "
                 "RWBS ...)");
    expect_error(TRACE_FORMAT_BLKPARSE, "8,0 1 1 0.1 1 Q R 0 + 1 [x]\nCPU0 (8,0):\n"
                 "8,0 1 1 0.1 1 Q R 0 + 1 [x]\n", -EINVAL,
                 "in:3: event after the summary that starts at line 2");
    expect_error(TRACE_FORMAT_BLKPARSE, "8,0 1 1 0.1 1 Q\n", -EINVAL,
                 "in:1: 6 fields, an event has at least 7 (MAJ,MIN CPU SEQ TIME PID ACTION "
                 "RWBS)");
    expect_error(TRACE_FORMAT_BLKPARSE, "8,0 x 1 0.1 1 Q R 0 + 1\n", -EINVAL,
                 "in:1: bad cpu 'x'");
    expect_error(TRACE_FORMAT_BLKPARSE, "8,0 1 y 0.1 1 Q R 0 + 1\n", -EINVAL,
                 "in:1: bad sequence number 'y'");
    expect_error(TRACE_FORMAT_BLKPARSE, "8,0 1 1 0.1 z Q R 0 + 1\n", -EINVAL,
                 "in:1: bad pid 'z'");
    expect_error(TRACE_FORMAT_BLKPARSE, "8,0 1 1 0.1234567890 1 Q R 0 + 1\n", -EINVAL,
                 "in:1: bad time '0.1234567890' (expected SECONDS.NANOSECONDS)");
    expect_error(TRACE_FORMAT_BLKPARSE, "8,0 1 1 1 1 Q R 0 + 1\n", -EINVAL,
                 "in:1: bad time '1' (expected SECONDS.NANOSECONDS)");
    expect_error(TRACE_FORMAT_BLKPARSE, "8,0 1 1 0.1 1 Q R 0 - 1\n", -EINVAL,
                 "in:1: expected 'SECTOR + COUNT' after 'R'");
    expect_error(TRACE_FORMAT_BLKPARSE, "8,0 1 1 0.1 1 Q R s + 1\n", -EINVAL,
                 "in:1: bad sector 's'");
    expect_error(TRACE_FORMAT_BLKPARSE, "8,0 1 1 0.1 1 Q R 0 + c\n", -EINVAL,
                 "in:1: bad sector count 'c'");
    expect_error(TRACE_FORMAT_BLKPARSE, "8,0 1 1 0.1 1 Q R 0 + 0\n", -ENODATA,
                 "in: no records (nothing in it touches a page)");
}

/* fio v2: file ids in order of first appearance (add), the block rule,
 * trim/sync ignored and counted, timestamps 0. v3: ms -> ns. */
static void test_fio_iolog(void **state)
{
    const char *v2 = "fio version 2 iolog\n/b add\n/a add\n/a open\n/a read 4095 2\n"
                     "/b write 0 4096\n/a trim 0 4096\n/a sync\n/a close\n";
    const char *v3 = "fio version 3 iolog\n0 /a add\n7 /a write 8192 1\n9 /a datasync\n";
    struct result r;

    (void)state;
    expect_records(TRACE_FORMAT_FIO_IOLOG, v2, 4096,
                   "@0 read 1 0\n@0 read 1 1 +\n@0 write 0 0\n");
    r = run(TRACE_FORMAT_FIO_IOLOG, v2, strlen(v2), 4096, 'Q');
    assert_string_equal(r.mapping, "0 /b\n1 /a\n");
    assert_string_equal(r.notes,
                        "in: skipped 2 trim/sync/datasync/wait actions (no page access)\n");
    result_free(&r);
    expect_records(TRACE_FORMAT_FIO_IOLOG, v3, 4096, "@7000000 write 0 2\n");
    /* 1 KiB pages: bytes 4095..4096 are pages 3 and 4, bytes 0..4095 pages 0..3 */
    expect_records(TRACE_FORMAT_FIO_IOLOG, v2, 1024,
                   "@0 read 1 3\n@0 read 1 4 +\n@0 write 0 0\n@0 write 0 1 +\n@0 write 0 2 +\n"
                   "@0 write 0 3 +\n");
}

static void test_fio_errors(void **state)
{
    (void)state;
    expect_error(TRACE_FORMAT_FIO_IOLOG, "/a add\n", -EINVAL,
                 "in:1: not a fio iolog: the first line must be 'fio version 2 iolog' or "
                 "'fio version 3 iolog'");
    expect_error(TRACE_FORMAT_FIO_IOLOG, "", -EINVAL,
                 "in:1: not a fio iolog: the first line must be 'fio version 2 iolog' or "
                 "'fio version 3 iolog'");
    expect_error(TRACE_FORMAT_FIO_IOLOG, "fio version 2 iolog\n/a\n", -EINVAL,
                 "in:2: expected FILE ACTION [OFFSET LENGTH]");
    expect_error(TRACE_FORMAT_FIO_IOLOG, "fio version 3 iolog\nx /a read 0 1\n", -EINVAL,
                 "in:2: bad timestamp 'x' (milliseconds)");
    expect_error(TRACE_FORMAT_FIO_IOLOG, "fio version 3 iolog\n1 /a\n", -EINVAL,
                 "in:2: expected TIMESTAMP FILE ACTION [OFFSET LENGTH]");
    expect_error(TRACE_FORMAT_FIO_IOLOG, "fio version 2 iolog\n/a erase 0 1\n", -EINVAL,
                 "in:2: unknown action 'erase'");
    expect_error(TRACE_FORMAT_FIO_IOLOG, "fio version 2 iolog\n/a add 1\n", -EINVAL,
                 "in:2: 'add' takes no arguments");
    expect_error(TRACE_FORMAT_FIO_IOLOG, "fio version 2 iolog\n/a read 1\n", -EINVAL,
                 "in:2: 'read' takes OFFSET LENGTH");
    expect_error(TRACE_FORMAT_FIO_IOLOG, "fio version 2 iolog\n/a read -1 1\n", -EINVAL,
                 "in:2: bad offset '-1'");
    expect_error(TRACE_FORMAT_FIO_IOLOG, "fio version 2 iolog\n/a write 0 1k\n", -EINVAL,
                 "in:2: bad length '1k'");
}

/* lackey: L/S/M to aread/awrite (M both, per page), I lines counted not
 * converted, == lines ignored, an access across a page boundary touches
 * both pages, virtual pages get dense ids (mapping: page addresses). */
static void test_lackey(void **state)
{
    const char *in = "==42== Lackey\n"
                     "I  04222cac,3\n"
                     " L 04222ffe,4\n"
                     " S 0421c7f0,4\n"
                     " M 04223000,8\n";
    struct result r;

    (void)state;
    expect_records(TRACE_FORMAT_LACKEY, in, 4096,
                   "aread 0\naread 1\nawrite 2\naread 1\nawrite 1\n");
    r = run(TRACE_FORMAT_LACKEY, in, strlen(in), 4096, 'Q');
    assert_string_equal(r.mapping, "0 0x4222000\n1 0x4223000\n2 0x421c000\n");
    assert_string_equal(r.notes, "in: skipped 1 instruction fetches (I lines)\n");
    result_free(&r);
}

static void test_lackey_errors(void **state)
{
    (void)state;
    expect_error(TRACE_FORMAT_LACKEY, " X 0,4\n", -EINVAL,
                 "in:1: not a lackey line (expected ' L|S|M ADDR,SIZE' or 'I  ADDR,SIZE')");
    expect_error(TRACE_FORMAT_LACKEY, " L 0421\n", -EINVAL, "in:1: expected ADDR,SIZE");
    expect_error(TRACE_FORMAT_LACKEY, " L 04g1,4\n", -EINVAL,
                 "in:1: bad address '04g1' (hexadecimal)");
    expect_error(TRACE_FORMAT_LACKEY, " L 0421,0\n", -EINVAL, "in:1: bad size '0'");
    expect_error(TRACE_FORMAT_LACKEY, " L ffffffffffffffff,2\n", -EINVAL,
                 "in:1: access of 2 bytes at 0xffffffffffffffff out of range");
    expect_error(TRACE_FORMAT_LACKEY, "I  0421,4\n", -ENODATA,
                 "in: no records (nothing in it touches a page)");
}

/* native: a text trace converted to binary and back gives the same text. */
static void test_native_round_trip(void **state)
{
    const char *text = "# tmem-trace 1 page_size=4096 kind=both timestamps\n"
                       "@5 read 3 7\n@6 aread 9\n@7 capacity unlimited\n@8 unlink 3\n";
    struct trace_header h;
    struct trace_convert_options o;
    struct trace_writer *w;
    char *bin = NULL;
    size_t bin_len = 0;
    FILE *out, *in;
    char err[512];
    struct result r;

    (void)state;
    trace_convert_options_init(&o);
    trace_convert_header(TRACE_FORMAT_NATIVE, &o, &h);
    out = tmpfile(); /* seekable: the writer fills in the count on close */
    in = fmemopen((void *)text, strlen(text), "r");
    assert_int_equal(trace_writer_open(NULL, out, &h, false, &w, err, sizeof(err)), 0);
    assert_int_equal(trace_convert(TRACE_FORMAT_NATIVE, in, "t", &o, w, err, sizeof(err)), 0);
    assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
    fclose(in);
    bin_len = (size_t)ftell(out);
    assert_int_equal(bin_len, 64 + 4 * 32);
    bin = malloc(bin_len);
    assert_non_null(bin);
    rewind(out);
    assert_int_equal(fread(bin, 1, bin_len, out), bin_len);
    fclose(out);
    assert_int_equal(bin[32], 4); /* the count, filled in */
    r = run(TRACE_FORMAT_NATIVE, bin, bin_len, 4096, 'Q');
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.text, text);
    result_free(&r);
    free(bin);
}

/* A page size outside 512..65536 or not a power of two is refused. */
static void test_bad_page_size(void **state)
{
    struct trace_convert_options o;
    char err[256];

    (void)state;
    trace_convert_options_init(&o);
    o.page_size = 3000;
    assert_int_equal(trace_convert(TRACE_FORMAT_LACKEY, stdin, "in", &o, NULL, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "in: page size 3000 is not a power of two in 512..65536");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_names),
        cmocka_unit_test(test_id_map_dense),
        cmocka_unit_test(test_msr_block_rule),
        cmocka_unit_test(test_msr_errors),
        cmocka_unit_test(test_oracle_general),
        cmocka_unit_test(test_blkparse),
        cmocka_unit_test(test_blkparse_errors),
        cmocka_unit_test(test_fio_iolog),
        cmocka_unit_test(test_fio_errors),
        cmocka_unit_test(test_lackey),
        cmocka_unit_test(test_lackey_errors),
        cmocka_unit_test(test_native_round_trip),
        cmocka_unit_test(test_bad_page_size),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
