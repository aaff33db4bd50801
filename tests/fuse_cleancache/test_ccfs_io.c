/*
 * test_ccfs_io.c - the read/write path over the real tmem core and a real
 * temporary file, without FUSE: exact cleancache counters, invalidation by
 * write and truncate, capacity 0, outside-change detection (object table).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuse_cleancache/ccfs_io.h"
#include "fuse_cleancache/ccfs_obj.h"

#define PS 4096
#define K 32

struct fx {
    struct tmem *tm;
    struct tmem_client *c;
    struct ccfs_stats st;
    struct ccfs_io io;
    int fd;
    char path[64];
    struct tmem_oid oid;
    unsigned char *data;
};

static struct fx *fx_new(size_t guest_pages, uint64_t capacity, size_t file_pages)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct tmem_config cfg;
    struct ccfs_cc cc;
    size_t i;

    tmem_config_init(&cfg);
    cfg.capacity_bytes = capacity;
    f->tm = tmem_create(&cfg);
    assert_non_null(f->tm);
    f->c = tmem_client_create(f->tm, "test");
    ccfs_stats_init(&f->st);
    assert_int_equal(ccfs_cc_init_fs(&cc, f->c, PS, &f->st), 0);
    assert_int_equal(ccfs_io_init(&f->io, ccfs_pcache_create(guest_pages, PS, CCFS_POLICY_CLOCK),
                                  &cc, &f->st), 0);
    strcpy(f->path, "/tmp/test_ccfs_io.XXXXXX");
    f->fd = mkstemp(f->path);
    assert_true(f->fd >= 0);
    f->data = malloc(file_pages * PS);
    for (i = 0; i < file_pages * PS; i++)
        f->data[i] = (unsigned char)(i * 7 + i / PS);
    assert_int_equal(pwrite(f->fd, f->data, file_pages * PS, 0), (ssize_t)(file_pages * PS));
    f->oid.oid[0] = 42;
    f->oid.oid[1] = 43;
    return f;
}

static void fx_free(struct fx *f)
{
    ccfs_io_destroy(&f->io);
    tmem_client_destroy(f->c);
    tmem_destroy(f->tm);
    close(f->fd);
    unlink(f->path);
    free(f->data);
    free(f);
}

static void read_all(struct fx *f, size_t pages)
{
    unsigned char *buf = malloc(pages * PS);
    size_t off;

    for (off = 0; off < pages * PS; off += 8 * PS) /* 32 KiB requests */
        assert_int_equal(ccfs_io_read(&f->io, &f->oid, f->fd, pages * PS, (char *)buf + off,
                                      8 * PS, off), 8 * PS);
    assert_memory_equal(buf, f->data, pages * PS);
    free(buf);
}

#define CNT(f, c) ccfs_stats_get(&(f)->st, c)

/* Rule: K pages through a K/2-page guest cache, read twice: the second
 * read is all cleancache hits and reads nothing from the file. */
static void test_reread_hits_cleancache_exactly(void **state)
{
    struct fx *f = fx_new(K / 2, TMEM_CAPACITY_UNLIMITED, K);

    (void)state;
    read_all(f, K);
    assert_int_equal(CNT(f, CCFS_FAILED_GETS), K);
    assert_int_equal(CNT(f, CCFS_BACKING_PAGES_READ), K);
    assert_int_equal(CNT(f, CCFS_PUTS), K / 2);
    read_all(f, K);
    assert_int_equal(CNT(f, CCFS_SUCC_GETS), K);
    assert_int_equal(CNT(f, CCFS_BACKING_PAGES_READ), K);
    assert_int_equal(CNT(f, CCFS_PUTS), K / 2 + K);
    assert_int_equal(CNT(f, CCFS_GUEST_HITS), 0);
    fx_free(f);
}

/* Rule: with capacity 0 every put fails and the re-read goes to the file. */
static void test_capacity_zero_is_cleancache_off(void **state)
{
    struct fx *f = fx_new(K / 2, 0, K);

    (void)state;
    read_all(f, K);
    read_all(f, K);
    assert_int_equal(CNT(f, CCFS_SUCC_GETS), 0);
    assert_int_equal(CNT(f, CCFS_BACKING_PAGES_READ), 2 * K);
    assert_int_equal(CNT(f, CCFS_FAILED_PUTS), CNT(f, CCFS_PUTS));
    fx_free(f);
}

/* Rule: a write invalidates the pages it touches in both caches: the next
 * read returns the new bytes whether the old page was in the guest cache
 * or in cleancache. */
static void test_write_invalidates_both_caches(void **state)
{
    struct fx *f = fx_new(K / 2, TMEM_CAPACITY_UNLIMITED, K);
    const char msg[] = "NEW DATA ACROSS A PAGE BOUNDARY";

    (void)state;
    read_all(f, K); /* pages 0..K/2-1 in cleancache, K/2..K-1 in the guest */
    /* page 3/4 boundary (cleancache) and page K-2/K-1 boundary (guest) */
    assert_int_equal(ccfs_io_write(&f->io, &f->oid, f->fd, msg, sizeof(msg), 4 * PS - 5, 0),
                     (ssize_t)sizeof(msg));
    memcpy(f->data + 4 * PS - 5, msg, sizeof(msg));
    assert_int_equal(ccfs_io_write(&f->io, &f->oid, f->fd, msg, sizeof(msg),
                                   (K - 1) * PS - 5, 0), (ssize_t)sizeof(msg));
    memcpy(f->data + (K - 1) * PS - 5, msg, sizeof(msg));
    assert_int_equal(CNT(f, CCFS_INVALIDATES), 4);
    assert_int_equal(CNT(f, CCFS_GUEST_INVALIDATES), 2);
    read_all(f, K);
    read_all(f, K);
    fx_free(f);
}

/* Rule: truncate invalidates from the page holding the new EOF; growing
 * again shows zeros, not the old bytes. */
static void test_truncate_then_grow_reads_zeros(void **state)
{
    struct fx *f = fx_new(K / 2, TMEM_CAPACITY_UNLIMITED, K);
    size_t cut = 5 * PS + 100;

    (void)state;
    read_all(f, K);
    assert_int_equal(ccfs_io_truncate(&f->io, &f->oid, f->fd, cut), 0);
    assert_int_equal(ccfs_io_truncate(&f->io, &f->oid, f->fd, K * PS), 0);
    memset(f->data + cut, 0, K * PS - cut);
    read_all(f, K);
    fx_free(f);
}

/* Rule: the object table flushes an object whose size/mtime/ctime changed
 * since last seen, and not one whose attributes are unchanged or that is
 * being modified through the mount. */
static void test_objtab_detects_outside_change(void **state)
{
    struct fx *f = fx_new(K / 2, TMEM_CAPACITY_UNLIMITED, K);
    struct ccfs_objtab *t = ccfs_objtab_create(4, &f->io, &f->st);
    struct statx stx;

    (void)state;
    assert_int_equal(ccfs_fstatx(f->fd, &stx), 0);
    ccfs_oid_from_statx(&stx, &f->oid);
    assert_int_equal(ccfs_objtab_check(t, &stx, false), 0);
    read_all(f, K);
    assert_int_equal(ccfs_objtab_check(t, &stx, false), 0); /* unchanged */
    stx.stx_size += 1;
    assert_int_equal(ccfs_objtab_check(t, &stx, false), 1);
    assert_int_equal(CNT(f, CCFS_OUTSIDE_CHANGES), 1);
    assert_int_equal(CNT(f, CCFS_INVALIDATE_INODES), 1);
    /* In-flight change through the mount: not an outside change. */
    assert_int_equal(ccfs_objtab_begin_modify(t, &stx), 0);
    stx.stx_mtime.tv_nsec ^= 1;
    assert_int_equal(ccfs_objtab_check(t, &stx, false), 0);
    ccfs_objtab_end_modify(t, &f->oid, &stx);
    assert_int_equal(ccfs_objtab_check(t, &stx, false), 0);
    assert_int_equal(CNT(f, CCFS_OUTSIDE_CHANGES), 1);
    ccfs_objtab_destroy(t);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reread_hits_cleancache_exactly),
        cmocka_unit_test(test_capacity_zero_is_cleancache_off),
        cmocka_unit_test(test_write_invalidates_both_caches),
        cmocka_unit_test(test_truncate_then_grow_reads_zeros),
        cmocka_unit_test(test_objtab_detects_outside_change),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
