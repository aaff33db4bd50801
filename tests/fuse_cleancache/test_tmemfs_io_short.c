/*
 * test_tmemfs_io_short.c - short transfers on tmemfs's backing files
 * (issue #16; tmemfs_io_set_fault_kinds): a pread or pwrite that moves
 * less than asked is not an error, and tmemfs asks again for the rest.
 * The `short` kind of the backing fault switches makes every pread or
 * pwrite of a chosen request move at most half of what is left, so a
 * request of N bytes takes about log2(N) calls. Over the real tmem core
 * and a real temporary file, without FUSE. Rules:
 * - a short-read request returns all the file's bytes (not a short count,
 *   not zeros in the tail), caches them, counts no error;
 * - a short write (every write of a run of them) lands every byte and
 *   returns the full size, counts no error, and the pages read back
 *   through the caches are the new bytes;
 * - an append made of short writes lands in order at the old EOF;
 * - the option parser takes "short:FAULT" for either switch.
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

#include "fuse_cleancache/tmemfs_io.h"
#include "fuse_cleancache/tmemfs_opts.h"

#define PS 4096
#define PAGES 16

struct shortfx {
    struct tmem *tm;
    struct tmem_client *c;
    struct tmemfs_stats st;
    struct tmemfs_io io;
    int fd;
    char path[64];
    struct tmem_oid oid;
};

static unsigned char file_byte(size_t i)
{
    return (unsigned char)(i * 13 + i / 4096 + 5);
}

static struct shortfx *shortfx_new(void)
{
    struct shortfx *f = calloc(1, sizeof(*f));
    struct tmemfs_cleancache cc;
    unsigned char *data = malloc(PAGES * PS);

    assert_non_null(f);
    assert_non_null(data);
    f->tm = tmem_create(NULL);
    assert_non_null(f->tm);
    f->c = tmem_client_create(f->tm, "short");
    assert_non_null(f->c);
    tmemfs_stats_init(&f->st);
    assert_int_equal(tmemfs_cleancache_init_fs(&cc, f->c, PS, &f->st), 0);
    assert_int_equal(tmemfs_io_init(&f->io, tmemfs_page_cache_create(PAGES, PS,
                                                                     GUEST_REPLACE_CLOCK),
                                    &cc, &f->st), 0);
    strcpy(f->path, "/tmp/test_tmemfs_io_short.XXXXXX");
    f->fd = mkstemp(f->path);
    assert_true(f->fd >= 0);
    for (size_t i = 0; i < PAGES * PS; i++)
        data[i] = file_byte(i);
    assert_int_equal(pwrite(f->fd, data, PAGES * PS, 0), PAGES * PS);
    free(data);
    f->oid.oid[0] = 11;
    return f;
}

static void shortfx_free(struct shortfx *f)
{
    tmemfs_io_destroy(&f->io);
    tmem_client_destroy(f->c);
    tmem_destroy(f->tm);
    close(f->fd);
    unlink(f->path);
    free(f);
}

/* Both switches at spec (common/fault.h's grammar), kind short. */
static void set_short(struct shortfx *f, const char *read, const char *write)
{
    struct fault_spec r, w;
    char why[128];

    assert_int_equal(fault_parse(read, &r, why, sizeof(why)), 0);
    assert_int_equal(fault_parse(write, &w, why, sizeof(why)), 0);
    tmemfs_io_set_faults(&f->io, &r, &w);
    tmemfs_io_set_fault_kinds(&f->io, true, true);
}

/* The file's bytes [off, off+len) equal want. */
static void assert_file_is(struct shortfx *f, uint64_t off, const void *want, size_t len)
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
    struct shortfx *f = shortfx_new();
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
    shortfx_free(f);
}

/* Rule: short writes land every byte and return the full size (no error
 * counted); reads through the caches (which held the old pages) return
 * the new bytes. */
static void test_short_writes_are_completed(void **state)
{
    struct shortfx *f = shortfx_new();
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
    shortfx_free(f);
}

/* Rule: an append made of short writes lands whole, in order, at the old
 * EOF, and the file grows by exactly its size. */
static void test_short_append_lands_in_order(void **state)
{
    struct shortfx *f = shortfx_new();
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
    shortfx_free(f);
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
        cmocka_unit_test(test_short_reads_are_completed),
        cmocka_unit_test(test_short_writes_are_completed),
        cmocka_unit_test(test_short_append_lands_in_order),
        cmocka_unit_test(test_option_short_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
