/*
 * test_tmemfs_io_faults.c - backing-file failures in the tmemfs read/write
 * path (issue #16), over the real tmem core and a real temporary file,
 * without FUSE. Each test names the rule it checks (tmemfs_io.h,
 * tmemfs_io_set_faults):
 * - a failed backing read returns the error and caches nothing (neither
 *   the junk the failed request left nor the pages of a request's other,
 *   successful runs), and a later read returns the file's bytes;
 * - a failed write (half of it landed) invalidates its whole requested
 *   range in both caches, so a later read returns what the file holds;
 * - appending, the same from the old EOF on;
 * - under random faults (p=, seed) every read that succeeds returns the
 *   file's bytes, every failure is counted exactly once;
 * - short transfers (the switches' `short` kind: every pread or pwrite of
 *   a chosen request moves at most half of what is left) are not errors:
 *   a short-read request returns all the file's bytes and caches them, a
 *   short write lands every byte and returns the full size (reads through
 *   the caches then return the new bytes), a short append lands in order
 *   at the old EOF, none counts an error; the option parser takes
 *   "short:FAULT" for either switch.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/rng.h"
#include "fuse_cleancache/tmemfs_io.h"
#include "fuse_cleancache/tmemfs_opts.h"

#define PS 4096
#define PAGES 16

struct fx {
    struct tmem *tm;
    struct tmem_client *c;
    struct tmemfs_stats st;
    struct tmemfs_io io;
    int fd;
    char path[64];
    struct tmem_oid oid;
};

static struct fx *fx_new(size_t guest_pages)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct tmem_config cfg;
    struct tmemfs_cleancache cc;
    unsigned char page[PS];
    size_t i, j;

    assert_non_null(f);
    tmem_config_init(&cfg);
    f->tm = tmem_create(&cfg);
    assert_non_null(f->tm);
    f->c = tmem_client_create(f->tm, "faults");
    tmemfs_stats_init(&f->st);
    assert_int_equal(tmemfs_cleancache_init_fs(&cc, f->c, PS, &f->st), 0);
    assert_int_equal(tmemfs_io_init(&f->io, tmemfs_page_cache_create(guest_pages, PS,
                                                                     GUEST_REPLACE_CLOCK),
                                    &cc, &f->st), 0);
    strcpy(f->path, "/tmp/test_tmemfs_io_faults.XXXXXX");
    f->fd = mkstemp(f->path);
    assert_true(f->fd >= 0);
    for (i = 0; i < PAGES; i++) {
        for (j = 0; j < PS; j++)
            page[j] = (unsigned char)(i * 31 + j * 7 + 1);
        assert_int_equal(pwrite(f->fd, page, PS, (off_t)(i * PS)), PS);
    }
    f->oid.oid[0] = 7;
    return f;
}

static void fx_free(struct fx *f)
{
    tmemfs_io_destroy(&f->io);
    tmem_client_destroy(f->c);
    tmem_destroy(f->tm);
    close(f->fd);
    unlink(f->path);
    free(f);
}

static void set_faults(struct fx *f, const char *read, const char *write)
{
    struct fault_spec r, w;
    char why[128];

    assert_int_equal(fault_parse(read, &r, why, sizeof(why)), 0);
    assert_int_equal(fault_parse(write, &w, why, sizeof(why)), 0);
    tmemfs_io_set_faults(&f->io, &r, &w);
}

#define CNT(f, c) tmemfs_stats_get(&(f)->st, c)

/* Read [off, off+len) through io and check it equals the file's bytes
 * (read with pread, the truth). Returns what the io read returned. */
static ssize_t read_check(struct fx *f, uint64_t off, size_t len)
{
    char *got = malloc(len), *want = malloc(len);
    struct stat st;
    ssize_t n, m;

    assert_non_null(got);
    assert_non_null(want);
    assert_int_equal(fstat(f->fd, &st), 0);
    n = tmemfs_io_read(&f->io, &f->oid, f->fd, -1, (uint64_t)st.st_size, got, len, off);
    if (n >= 0) {
        m = pread(f->fd, want, len, (off_t)off);
        assert_int_equal(n, m);
        assert_memory_equal(got, want, (size_t)n);
    }
    free(got);
    free(want);
    return n;
}

/* Pages of the object now in the guest cache and in the cleancache pool. */
static size_t guest_pages(struct fx *f)
{
    return tmemfs_page_cache_count(f->io.pc);
}

static uint64_t pool_pages(struct fx *f)
{
    struct tmemfs_gauges g;

    tmemfs_io_gauges(&f->io, &g);
    return g.pool.pages;
}

/* Rule: the planned backing read fails with EIO, is counted, and inserts
 * nothing in the guest cache (so nothing reaches cleancache either: a
 * shrink puts no page); the next read returns the file's bytes. */
static void test_failed_read_is_eio_and_caches_nothing(void **state)
{
    struct fx *f = fx_new(PAGES);

    (void)state;
    set_faults(f, "nth=1", "off");
    assert_int_equal(read_check(f, 0, 4 * PS), -EIO);
    assert_int_equal(CNT(f, TMEMFS_BACKING_READ_ERRORS), 1);
    assert_int_equal(guest_pages(f), 0);
    assert_int_equal(tmemfs_io_shrink_guest(&f->io), 0);
    assert_int_equal(CNT(f, TMEMFS_PUTS), 0);
    assert_int_equal(pool_pages(f), 0);
    /* the fault has cleared (nth fails once) */
    assert_int_equal(read_check(f, 0, 4 * PS), 4 * PS);
    assert_int_equal(guest_pages(f), 4);
    assert_int_equal(CNT(f, TMEMFS_BACKING_READ_ERRORS), 1);
    fx_free(f);
}

/* Rule: a request split into two backing runs (a cached page between)
 * whose second run fails caches nothing of the first run either, keeps
 * the pages it found cached, and a later read is right. */
static void test_failed_second_run_caches_no_partial_request(void **state)
{
    struct fx *f = fx_new(PAGES);

    (void)state;
    assert_int_equal(read_check(f, 3 * PS, PS), PS); /* page 3 cached */
    set_faults(f, "nth=2", "off");                   /* the 2nd request from now */
    assert_int_equal(read_check(f, 0, 8 * PS), -EIO); /* runs 0-2 (ok), 4-7 (fails) */
    assert_int_equal(f->io.read_fault.events, 2);
    assert_int_equal(guest_pages(f), 1);
    assert_non_null(tmemfs_page_cache_lookup(f->io.pc, &f->oid, 3));
    assert_null(tmemfs_page_cache_lookup(f->io.pc, &f->oid, 0));
    assert_int_equal(read_check(f, 0, 8 * PS), 8 * PS);
    fx_free(f);
}

/* Rule: pages that came from cleancache before a failure of the same
 * request are not lost: they are in the guest cache and right. */
static void test_failed_read_keeps_cleancache_pages(void **state)
{
    struct fx *f = fx_new(PAGES);

    (void)state;
    assert_int_equal(read_check(f, 0, 2 * PS), 2 * PS);
    assert_int_equal(tmemfs_io_shrink_guest(&f->io), 2); /* pages 0, 1 -> cleancache */
    set_faults(f, "nth=1", "off");
    assert_int_equal(read_check(f, 0, 4 * PS), -EIO); /* 0, 1 from cleancache; 2-3 fail */
    assert_int_equal(guest_pages(f), 2);
    set_faults(f, "off", "off");
    assert_int_equal(read_check(f, 0, 4 * PS), 4 * PS);
    assert_int_equal(CNT(f, TMEMFS_BACKING_PAGES_READ), 2 + 2);
    fx_free(f);
}

/* A source that fails with EIO on its fail_at-th call, leaving junk. */
struct failing_source {
    int fd;
    int calls, fail_at;
};

static ssize_t failing_source_read(void *arg, char *buf, size_t len, uint64_t off)
{
    struct failing_source *s = arg;

    if (++s->calls == s->fail_at) {
        memset(buf, 0x5A, len);
        return -EIO;
    }
    return pread(s->fd, buf, len, (off_t)off);
}

/* Rule: a source's own error (not the switch) is returned as is, counted,
 * and nothing is cached (tmemfs_io_read_from, the replay's form). */
static void test_source_error_propagates(void **state)
{
    struct fx *f = fx_new(PAGES);
    struct failing_source s = { f->fd, 0, 1 };
    char buf[2 * PS];

    (void)state;
    assert_int_equal(tmemfs_io_read_from(&f->io, &f->oid, PAGES * PS, buf, sizeof(buf), 0,
                                         failing_source_read, &s), -EIO);
    assert_int_equal(CNT(f, TMEMFS_BACKING_READ_ERRORS), 1);
    assert_int_equal(guest_pages(f), 0);
    assert_int_equal(tmemfs_io_read_from(&f->io, &f->oid, PAGES * PS, buf, sizeof(buf), 0,
                                         failing_source_read, &s), 2 * PS);
    assert_int_equal((unsigned char)buf[0], 1);
    fx_free(f);
}

/* Rule: a write that fails after half of it landed returns EIO, is
 * counted, and invalidates the whole requested range in both caches:
 * pages 0-3 were cached (0-1 in cleancache, 2-3 in the guest cache), the
 * write covers bytes 100 .. 100+3*PS-1 (pages 0-3), half of it (pages 0-1)
 * landed; every later read equals the file. */
static void test_failed_write_invalidates_whole_range(void **state)
{
    struct fx *f = fx_new(2);
    char *w = malloc(3 * PS);

    (void)state;
    assert_non_null(w);
    memset(w, 'W', 3 * PS);
    assert_int_equal(read_check(f, 0, 4 * PS), 4 * PS); /* 0-1 evicted to cleancache */
    assert_int_equal(pool_pages(f), 2);
    set_faults(f, "off", "nth=1");
    assert_int_equal(tmemfs_io_write(&f->io, &f->oid, f->fd, w, 3 * PS, 100, 0), -EIO);
    assert_int_equal(CNT(f, TMEMFS_BACKING_WRITE_ERRORS), 1);
    assert_int_equal(guest_pages(f), 0);
    assert_int_equal(pool_pages(f), 0);
    assert_int_equal(read_check(f, 0, 4 * PS), 4 * PS); /* half new, half old: the file's */
    /* the switch has cleared: writes work again */
    assert_int_equal(tmemfs_io_write(&f->io, &f->oid, f->fd, w, 3 * PS, 100, 0), 3 * PS);
    assert_int_equal(read_check(f, 0, 4 * PS), 4 * PS);
    free(w);
    fx_free(f);
}

/* Rule: an append that fails invalidates from the old EOF on (the page
 * holding the old EOF was cached with zeros past it). */
static void test_failed_append_invalidates_from_old_eof(void **state)
{
    struct fx *f = fx_new(PAGES);
    int afd;
    char w[PS];

    (void)state;
    memset(w, 'A', sizeof(w));
    assert_int_equal(ftruncate(f->fd, PAGES * PS - PS / 2), 0); /* last page half full */
    assert_int_equal(read_check(f, (PAGES - 1) * PS, PS), PS / 2);
    afd = open(f->path, O_WRONLY | O_APPEND);
    assert_true(afd >= 0);
    set_faults(f, "off", "nth=1");
    assert_int_equal(tmemfs_io_write(&f->io, &f->oid, afd, w, sizeof(w), 0, 1), -EIO);
    assert_null(tmemfs_page_cache_lookup(f->io.pc, &f->oid, PAGES - 1));
    assert_int_equal(read_check(f, (PAGES - 1) * PS, PS), PS); /* old half + 'A' * PS/2 */
    close(afd);
    fx_free(f);
}

/* Rule (property): with reads and writes failing at random (p=0.2, seeded),
 * every read that succeeds returns the file's bytes, each failure is one
 * counted error, and the counters equal what the switches injected. */
static void test_random_faults_never_return_wrong_bytes(void **state)
{
    struct fx *f = fx_new(4);
    uint64_t r = 99;
    char w[3 * PS];
    int i, eio_reads = 0, eio_writes = 0;

    (void)state;
    set_faults(f, "p=0.2,seed=3", "p=0.2,seed=4");
    for (i = 0; i < 2000; i++) {
        uint64_t off = rng_below(&r, PAGES * PS - 1);
        size_t len = 1 + (size_t)rng_below(&r, sizeof(w));

        if (off + len > PAGES * PS)
            len = (size_t)(PAGES * PS - off);
        if (rng_below(&r, 4) == 0) {
            memset(w, 'a' + (int)rng_below(&r, 26), len);
            ssize_t n = tmemfs_io_write(&f->io, &f->oid, f->fd, w, len, off, 0);
            if (n == -EIO)
                eio_writes++;
            else
                assert_int_equal(n, (ssize_t)len);
        } else {
            ssize_t n = read_check(f, off, len);
            if (n == -EIO)
                eio_reads++;
            else
                assert_int_equal(n, (ssize_t)len);
        }
        if (rng_below(&r, 16) == 0)
            (void)tmemfs_io_shrink_guest(&f->io);
    }
    assert_true(eio_reads > 0 && eio_writes > 0);
    assert_int_equal(CNT(f, TMEMFS_BACKING_READ_ERRORS), f->io.read_fault.injected);
    assert_int_equal(CNT(f, TMEMFS_BACKING_WRITE_ERRORS), f->io.write_fault.injected);
    assert_int_equal(CNT(f, TMEMFS_BACKING_WRITE_ERRORS), eio_writes);
    assert_true(CNT(f, TMEMFS_BACKING_READ_ERRORS) >= (uint64_t)eio_reads);
    /* every failed read request was one failed read(): one request each
     * unless a cached page split it; at most one failure per read */
    assert_int_equal(CNT(f, TMEMFS_BACKING_READ_ERRORS), eio_reads);
    fx_free(f);
}

/* ------------------------------------------------ short transfers */

/* Both switches at spec (common/fault.h's grammar), kind short: every
 * pread/pwrite of a chosen request moves at most half of what is left. */
static void set_short(struct fx *f, const char *read, const char *write)
{
    set_faults(f, read, write);
    tmemfs_io_set_fault_kinds(&f->io, true, true);
}

/* The file's bytes [off, off+len) equal want. */
static void assert_file_is(struct fx *f, uint64_t off, const void *want, size_t len)
{
    char *got = malloc(len);

    assert_non_null(got);
    assert_int_equal(pread(f->fd, got, len, (off_t)off), (ssize_t)len);
    assert_memory_equal(got, want, len);
    free(got);
}

/* Rule: every backing read request made short returns all its bytes: the
 * read returns the full count, the file's bytes (no zeroed tail), caches
 * them, and counts no error; the switch saw the requests. */
static void test_short_reads_are_completed(void **state)
{
    struct fx *f = fx_new(PAGES);
    char *got = malloc(PAGES * PS), *want = malloc(PAGES * PS);

    (void)state;
    assert_non_null(got);
    assert_non_null(want);
    set_short(f, "p=1,seed=1", "off");
    assert_int_equal(tmemfs_io_read(&f->io, &f->oid, f->fd, -1, PAGES * PS, got,
                                    PAGES * PS - 100, 50), PAGES * PS - 100);
    assert_int_equal(pread(f->fd, want, PAGES * PS - 100, 50), PAGES * PS - 100);
    assert_memory_equal(got, want, PAGES * PS - 100);
    assert_true(f->io.read_fault.injected >= 1);
    assert_int_equal(tmemfs_stats_get(&f->st, TMEMFS_BACKING_READ_ERRORS), 0);
    assert_int_equal(tmemfs_page_cache_count(f->io.pc), PAGES);
    /* from the guest cache now: still the file's bytes */
    assert_int_equal(tmemfs_io_read(&f->io, &f->oid, f->fd, -1, PAGES * PS, got, PS, 3 * PS),
                     PS);
    assert_memory_equal(got, want + 3 * PS - 50, PS);
    free(got);
    free(want);
    fx_free(f);
}

/* Rule: short writes land every byte and return the full size (no error
 * counted); reads through the caches (which held the old pages) return
 * the new bytes. */
static void test_short_writes_are_completed(void **state)
{
    struct fx *f = fx_new(PAGES);
    size_t len = 5 * PS + 123;
    char *w = malloc(len), *got = malloc(len);

    (void)state;
    assert_non_null(w);
    assert_non_null(got);
    for (size_t i = 0; i < len; i++)
        w[i] = (char)('a' + i % 26);
    assert_int_equal(tmemfs_io_read(&f->io, &f->oid, f->fd, -1, PAGES * PS, got, len, 1000),
                     (ssize_t)len); /* the old pages cached */
    set_short(f, "off", "p=1,seed=2");
    assert_int_equal(tmemfs_io_write(&f->io, &f->oid, f->fd, w, len, 1000, 0), (ssize_t)len);
    assert_int_equal(f->io.write_fault.injected, 1);
    assert_int_equal(tmemfs_stats_get(&f->st, TMEMFS_BACKING_WRITE_ERRORS), 0);
    assert_file_is(f, 1000, w, len);
    assert_int_equal(tmemfs_io_read(&f->io, &f->oid, f->fd, -1, PAGES * PS, got, len, 1000),
                     (ssize_t)len);
    assert_memory_equal(got, w, len);
    free(w);
    free(got);
    fx_free(f);
}

/* Rule: an append made of short writes lands whole, in order, at the old
 * EOF, and the file grows by exactly its size. */
static void test_short_append_lands_in_order(void **state)
{
    struct fx *f = fx_new(PAGES);
    size_t len = 3 * PS + 7;
    char *w = malloc(len);
    struct stat st;
    int afd;

    (void)state;
    assert_non_null(w);
    for (size_t i = 0; i < len; i++)
        w[i] = (char)(i * 7 + 1);
    afd = open(f->path, O_WRONLY | O_APPEND);
    assert_true(afd >= 0);
    set_short(f, "off", "nth=1");
    assert_int_equal(tmemfs_io_write(&f->io, &f->oid, afd, w, len, 0, 1), (ssize_t)len);
    assert_int_equal(fstat(f->fd, &st), 0);
    assert_int_equal(st.st_size, PAGES * PS + len);
    assert_file_is(f, PAGES * PS, w, len);
    close(afd);
    free(w);
    fx_free(f);
}

/* Rule: -o fault_backing_read=short:FAULT / fault_backing_write=short:FAULT
 * set the kind; without the prefix the kind is EIO; a bad FAULT after the
 * prefix is refused. */
static void test_option_short_prefix(void **state)
{
    char a0[] = "tmemfs", a1[] = "-o",
         a2[] = "fault_backing_read=short:nth=2,fault_backing_write=p=0.5\\,seed=3";
    char src[] = "/src", mnt[] = "/mnt", line[512];
    char *argv[] = { a0, a1, a2, src, mnt, NULL };
    struct fuse_args args = FUSE_ARGS_INIT(5, argv);
    struct tmemfs_opts o;
    FILE *err = tmpfile();

    (void)state;
    assert_non_null(err);
    memset(&o, 0, sizeof(o));
    assert_int_equal(tmemfs_opts_parse(&args, &o, err), 0);
    assert_true(o.fault_backing_read_short);
    assert_int_equal(o.fault_backing_read.mode, FAULT_NTH);
    assert_false(o.fault_backing_write_short);
    tmemfs_opts_free(&o);
    fuse_opt_free_args(&args);

    char b2[] = "fault_backing_write=short:bogus";
    char *argv2[] = { a0, a1, b2, src, mnt, NULL };
    struct fuse_args args2 = FUSE_ARGS_INIT(5, argv2);
    memset(&o, 0, sizeof(o));
    assert_int_equal(tmemfs_opts_parse(&args2, &o, err), -1);
    tmemfs_opts_free(&o);
    fuse_opt_free_args(&args2);
    rewind(err);
    assert_non_null(fgets(line, sizeof(line), err));
    assert_non_null(strstr(line, "bad fault_backing_write 'short:bogus'"));
    assert_non_null(strstr(line, "[short:]"));
    assert_null(fgets(line, sizeof(line), err)); /* one line */
    fclose(err);

}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_read_is_eio_and_caches_nothing),
        cmocka_unit_test(test_failed_second_run_caches_no_partial_request),
        cmocka_unit_test(test_failed_read_keeps_cleancache_pages),
        cmocka_unit_test(test_source_error_propagates),
        cmocka_unit_test(test_failed_write_invalidates_whole_range),
        cmocka_unit_test(test_failed_append_invalidates_from_old_eof),
        cmocka_unit_test(test_random_faults_never_return_wrong_bytes),
        cmocka_unit_test(test_short_reads_are_completed),
        cmocka_unit_test(test_short_writes_are_completed),
        cmocka_unit_test(test_short_append_lands_in_order),
        cmocka_unit_test(test_option_short_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
