/*
 * test_tmemfs_io.c - the read/write path over the real tmem core and a real
 * temporary file, without FUSE: exact cleancache counters, invalidation by
 * write and truncate, capacity 0, outside-change detection (object table),
 * and sharing groups (two mounts on one shared pool: exact sharing,
 * group-wide invalidation, group-wide outside-change detection).
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

#include "fuse_cleancache/tmemfs_group.h"
#include "fuse_cleancache/tmemfs_io.h"
#include "fuse_cleancache/tmemfs_object_table.h"

#define PS 4096
#define K 32

struct fx {
    struct tmem *tm;
    struct tmem_client *c;
    struct tmemfs_stats st;
    struct tmemfs_io io;
    int fd;
    char path[64];
    struct tmem_oid oid;
    unsigned char *data;
};

static struct fx *fx_new(size_t guest_pages, uint64_t capacity, size_t file_pages)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct tmem_config cfg;
    struct tmemfs_cleancache cc;
    size_t i;

    tmem_config_init(&cfg);
    cfg.capacity_bytes = capacity;
    f->tm = tmem_create(&cfg);
    assert_non_null(f->tm);
    f->c = tmem_client_create(f->tm, "test");
    tmemfs_stats_init(&f->st);
    assert_int_equal(tmemfs_cleancache_init_fs(&cc, f->c, PS, &f->st), 0);
    assert_int_equal(tmemfs_io_init(&f->io, tmemfs_page_cache_create(guest_pages, PS, GUEST_REPLACE_CLOCK),
                                  &cc, &f->st), 0);
    strcpy(f->path, "/tmp/test_tmemfs_io.XXXXXX");
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
    tmemfs_io_destroy(&f->io);
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
        assert_int_equal(tmemfs_io_read(&f->io, &f->oid, f->fd, -1, pages * PS, (char *)buf + off,
                                      8 * PS, off), 8 * PS);
    assert_memory_equal(buf, f->data, pages * PS);
    free(buf);
}

#define CNT(f, c) tmemfs_stats_get(&(f)->st, c)

/* Rule: K pages through a K/2-page guest cache, read twice: the second
 * read is all cleancache hits and reads nothing from the file. */
static void test_reread_hits_cleancache_exactly(void **state)
{
    struct fx *f = fx_new(K / 2, TMEM_CAPACITY_UNLIMITED, K);

    (void)state;
    read_all(f, K);
    assert_int_equal(CNT(f, TMEMFS_FAILED_GETS), K);
    assert_int_equal(CNT(f, TMEMFS_BACKING_PAGES_READ), K);
    assert_int_equal(CNT(f, TMEMFS_PUTS), K / 2);
    read_all(f, K);
    assert_int_equal(CNT(f, TMEMFS_SUCC_GETS), K);
    assert_int_equal(CNT(f, TMEMFS_BACKING_PAGES_READ), K);
    assert_int_equal(CNT(f, TMEMFS_PUTS), K / 2 + K);
    assert_int_equal(CNT(f, TMEMFS_GUEST_HITS), 0);
    fx_free(f);
}

/* Rule: with capacity 0 every put fails and the re-read goes to the file. */
static void test_capacity_zero_is_cleancache_off(void **state)
{
    struct fx *f = fx_new(K / 2, 0, K);

    (void)state;
    read_all(f, K);
    read_all(f, K);
    assert_int_equal(CNT(f, TMEMFS_SUCC_GETS), 0);
    assert_int_equal(CNT(f, TMEMFS_BACKING_PAGES_READ), 2 * K);
    assert_int_equal(CNT(f, TMEMFS_FAILED_PUTS), CNT(f, TMEMFS_PUTS));
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
    assert_int_equal(tmemfs_io_write(&f->io, &f->oid, f->fd, msg, sizeof(msg), 4 * PS - 5, 0),
                     (ssize_t)sizeof(msg));
    memcpy(f->data + 4 * PS - 5, msg, sizeof(msg));
    assert_int_equal(tmemfs_io_write(&f->io, &f->oid, f->fd, msg, sizeof(msg),
                                   (K - 1) * PS - 5, 0), (ssize_t)sizeof(msg));
    memcpy(f->data + (K - 1) * PS - 5, msg, sizeof(msg));
    assert_int_equal(CNT(f, TMEMFS_INVALIDATES), 4);
    assert_int_equal(CNT(f, TMEMFS_GUEST_INVALIDATES), 2);
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
    assert_int_equal(tmemfs_io_truncate(&f->io, &f->oid, f->fd, cut), 0);
    assert_int_equal(tmemfs_io_truncate(&f->io, &f->oid, f->fd, K * PS), 0);
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
    struct tmemfs_object_table *t = tmemfs_object_table_create(4, &f->io, &f->st);
    struct statx stx;

    (void)state;
    assert_int_equal(tmemfs_fstatx(f->fd, &stx), 0);
    tmemfs_oid_from_statx(&stx, &f->oid);
    assert_int_equal(tmemfs_object_table_check(t, &stx, false), 0);
    read_all(f, K);
    assert_int_equal(tmemfs_object_table_check(t, &stx, false), 0); /* unchanged */
    stx.stx_size += 1;
    assert_int_equal(tmemfs_object_table_check(t, &stx, false), 1);
    assert_int_equal(CNT(f, TMEMFS_OUTSIDE_CHANGES), 1);
    assert_int_equal(CNT(f, TMEMFS_INVALIDATE_INODES), 1);
    /* In-flight change through the mount: not an outside change. */
    assert_int_equal(tmemfs_object_table_begin_modify(t, &stx), 0);
    stx.stx_mtime.tv_nsec ^= 1;
    assert_int_equal(tmemfs_object_table_check(t, &stx, false), 0);
    tmemfs_object_table_end_modify(t, &f->oid, &stx);
    assert_int_equal(tmemfs_object_table_check(t, &stx, false), 0);
    assert_int_equal(CNT(f, TMEMFS_OUTSIDE_CHANGES), 1);
    tmemfs_object_table_destroy(t);
    fx_free(f);
}


/* ------------------------------------------------------ sharing groups */

static const uint8_t UUID[16] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

/* Two mounts (A = m[0], B = m[1]) of one file on one store: each its own
 * client, stats, guest cache of guest_pages and io; shared: one shared
 * pool and one sharing group, else a private pool each. */
struct gmember {
    struct tmem_client *c;
    struct tmemfs_stats st;
    struct tmemfs_io io;
};

struct gfx {
    struct tmem *tm;
    struct tmemfs_group *g;
    struct gmember m[2];
    int fd;
    char path[64];
    struct tmem_oid oid;
    unsigned char *data;
};

static struct gfx *gfx_new(size_t guest_pages, size_t file_pages, bool shared)
{
    struct gfx *f = calloc(1, sizeof(*f));
    struct tmemfs_cleancache cc;
    size_t i;
    int k;

    f->tm = tmem_create(NULL);
    assert_non_null(f->tm);
    if (shared) {
        f->g = tmemfs_group_create();
        assert_non_null(f->g);
    }
    for (k = 0; k < 2; k++) {
        struct gmember *m = &f->m[k];
        m->c = tmem_client_create(f->tm, k ? "B" : "A");
        tmemfs_stats_init(&m->st);
        if (shared)
            assert_int_equal(tmemfs_cleancache_init_shared_fs(&cc, m->c, UUID, PS, &m->st), 0);
        else
            assert_int_equal(tmemfs_cleancache_init_fs(&cc, m->c, PS, &m->st), 0);
        assert_int_equal(tmemfs_io_init_shared(&m->io,
                                             tmemfs_page_cache_create(guest_pages, PS, GUEST_REPLACE_CLOCK),
                                             &cc, &m->st, f->g), 0);
    }
    strcpy(f->path, "/tmp/test_tmemfs_io.XXXXXX");
    f->fd = mkstemp(f->path);
    assert_true(f->fd >= 0);
    f->data = malloc(file_pages * PS);
    for (i = 0; i < file_pages * PS; i++)
        f->data[i] = (unsigned char)(i * 13 + i / PS);
    assert_int_equal(pwrite(f->fd, f->data, file_pages * PS, 0), (ssize_t)(file_pages * PS));
    f->oid.oid[0] = 7;
    f->oid.oid[1] = 8;
    return f;
}

static void gfx_free(struct gfx *f)
{
    int k;

    for (k = 0; k < 2; k++) {
        tmemfs_io_destroy(&f->m[k].io);
        tmem_client_destroy(f->m[k].c);
    }
    tmemfs_group_destroy(f->g);
    tmem_destroy(f->tm);
    close(f->fd);
    unlink(f->path);
    free(f->data);
    free(f);
}

/* Read the whole file through member k (8-page requests) and compare. */
static void gread_all(struct gfx *f, int k, size_t pages)
{
    unsigned char *buf = malloc(pages * PS);
    size_t off;

    for (off = 0; off < pages * PS; off += 8 * PS)
        assert_int_equal(tmemfs_io_read(&f->m[k].io, &f->oid, f->fd, -1, pages * PS,
                                      (char *)buf + off, 8 * PS, off), 8 * PS);
    assert_memory_equal(buf, f->data, pages * PS);
    free(buf);
}

#define GCNT(f, k, c) tmemfs_stats_get(&(f)->m[k].st, c)

static uint64_t pool_pages(struct gfx *f, int k)
{
    struct tmem_stats ps;

    assert_int_equal(tmem_pool_stats(f->m[k].c, f->m[k].io.cc.pool_id, &ps), 0);
    return ps.pages;
}

/* Rule: with a shared pool, B gets exactly the pages A evicted: A reads
 * K pages through K/2 guest pages (pages 0..K/2-1 evicted into the pool);
 * B then reads the file: K/2 cleancache hits, K/2 backing pages. */
static void test_group_b_gets_what_a_evicted(void **state)
{
    struct gfx *f = gfx_new(K / 2, K, true);

    (void)state;
    gread_all(f, 0, K);
    assert_int_equal(GCNT(f, 0, TMEMFS_PUTS), K / 2);
    assert_int_equal(pool_pages(f, 1), K / 2);
    gread_all(f, 1, K);
    assert_int_equal(GCNT(f, 1, TMEMFS_SUCC_GETS), K / 2);
    assert_int_equal(GCNT(f, 1, TMEMFS_FAILED_GETS), K / 2);
    assert_int_equal(GCNT(f, 1, TMEMFS_BACKING_PAGES_READ), K / 2);
    gfx_free(f);
}

/* Rule: with private pools, B gets nothing A evicted. */
static void test_private_pools_share_nothing(void **state)
{
    struct gfx *f = gfx_new(K / 2, K, false);

    (void)state;
    gread_all(f, 0, K);
    gread_all(f, 1, K);
    assert_int_equal(GCNT(f, 1, TMEMFS_SUCC_GETS), 0);
    assert_int_equal(GCNT(f, 1, TMEMFS_BACKING_PAGES_READ), K);
    gfx_free(f);
}

/* Rule: a write through A drops the written pages from B's guest cache
 * too (and bumps B's sequence), so B cannot put its old copy back into
 * the shared pool, and both read the new bytes. */
static void test_group_write_through_a_drops_b_guest_page(void **state)
{
    struct gfx *f = gfx_new(K, K, true); /* guest caches hold the whole file */
    const char msg[] = "WRITTEN THROUGH A";
    uint64_t seq_b;
    size_t stripe_probe;

    (void)state;
    gread_all(f, 1, K); /* B caches every page (old data) */
    gread_all(f, 0, K); /* A too */
    seq_b = 0;
    for (stripe_probe = 0; stripe_probe < TMEMFS_SEQ_STRIPES; stripe_probe++)
        seq_b += f->m[1].io.seq[stripe_probe];
    assert_int_equal(tmemfs_io_write(&f->m[0].io, &f->oid, f->fd, msg, sizeof(msg), 3 * PS + 10,
                                   0), (ssize_t)sizeof(msg));
    memcpy(f->data + 3 * PS + 10, msg, sizeof(msg));
    assert_int_equal(GCNT(f, 1, TMEMFS_GUEST_INVALIDATES), 1);
    assert_int_equal(GCNT(f, 0, TMEMFS_GUEST_INVALIDATES), 1);
    for (stripe_probe = 0; stripe_probe < TMEMFS_SEQ_STRIPES; stripe_probe++)
        seq_b -= f->m[1].io.seq[stripe_probe];
    assert_true(seq_b != 0); /* B's sequence moved */
    /* Memory pressure on B: its pages go to the shared pool; page 3 is not
     * among them any more. */
    assert_int_equal(tmemfs_io_shrink_guest(&f->m[1].io), K - 1);
    assert_int_equal(tmemfs_io_shrink_guest(&f->m[0].io), K - 1);
    gread_all(f, 0, K);
    gread_all(f, 1, K);
    assert_int_equal(GCNT(f, 0, TMEMFS_BACKING_PAGES_READ), K + 1); /* only page 3 again */
    gfx_free(f);
}

/* Rule: invalidations through B flush the pages A put into the shared pool
 * (truncate, invalidate_object) and drop A's guest pages. */
static void test_group_truncate_and_object_flush_reach_a(void **state)
{
    struct gfx *f = gfx_new(K / 2, K, true);
    size_t cut = 2 * PS + 5;

    (void)state;
    gread_all(f, 0, K); /* pool: 0..K/2-1 (A's evictions), A guest: K/2..K-1 */
    assert_int_equal(tmemfs_io_truncate(&f->m[1].io, &f->oid, f->fd, cut), 0);
    assert_int_equal(tmemfs_io_truncate(&f->m[1].io, &f->oid, f->fd, K * PS), 0);
    memset(f->data + cut, 0, K * PS - cut);
    assert_int_equal(GCNT(f, 0, TMEMFS_GUEST_INVALIDATES), K / 2);
    assert_int_equal(pool_pages(f, 0), 2); /* pages 0 and 1 stay */
    gread_all(f, 0, K);
    gread_all(f, 1, K);
    tmemfs_io_invalidate_object(&f->m[1].io, &f->oid);
    assert_int_equal(pool_pages(f, 0), 0);
    assert_int_equal(GCNT(f, 0, TMEMFS_GUEST_INVALIDATES) + GCNT(f, 1, TMEMFS_GUEST_INVALIDATES),
                     K / 2 + K / 2 + K / 2);
    gfx_free(f);
}

/* Rule: drop_caches 2 through one member drops the shared pool for all
 * (every member leaves it, then all rejoin a fresh, empty one). */
static void test_group_drop_cleancache_drops_shared_pool(void **state)
{
    struct gfx *f = gfx_new(K / 2, K, true);

    (void)state;
    gread_all(f, 0, K);
    assert_int_equal(pool_pages(f, 1), K / 2);
    tmemfs_io_drop_cleancache(&f->m[0].io);
    assert_true(f->m[0].io.cc.pool_id >= 0);
    assert_true(f->m[1].io.cc.pool_id >= 0);
    assert_int_equal(pool_pages(f, 1), 0);
    gread_all(f, 1, K);
    assert_int_equal(GCNT(f, 1, TMEMFS_SUCC_GETS), 0);
    /* A: pages 0..K/2-1 come from what B put into the new pool; their
     * insertion evicts A's guest pages K/2..K-1 into it, read back next. */
    gread_all(f, 0, K);
    assert_int_equal(GCNT(f, 0, TMEMFS_SUCC_GETS), K);
    assert_int_equal(GCNT(f, 0, TMEMFS_BACKING_PAGES_READ), K);
    gfx_free(f);
}

/* Rule: an outside change is caught by a member that never saw the file
 * (B, no record) because A's record differs: the pages A put are flushed. */
static void test_group_outside_change_seen_by_new_member(void **state)
{
    struct gfx *f = gfx_new(K / 2, K, true);
    struct tmemfs_object_table *ta = tmemfs_object_table_create(16, &f->m[0].io, &f->m[0].st);
    struct tmemfs_object_table *tb = tmemfs_object_table_create(16, &f->m[1].io, &f->m[1].st);
    struct statx stx;

    (void)state;
    assert_int_equal(tmemfs_fstatx(f->fd, &stx), 0);
    tmemfs_oid_from_statx(&stx, &f->oid);
    assert_int_equal(tmemfs_object_table_check(ta, &stx, false), 0);
    gread_all(f, 0, K);
    assert_int_equal(pool_pages(f, 1), K / 2);
    stx.stx_mtime.tv_nsec ^= 1; /* "changed outside" */
    assert_int_equal(tmemfs_object_table_check(tb, &stx, false), 1);
    assert_int_equal(GCNT(f, 1, TMEMFS_OUTSIDE_CHANGES), 1);
    assert_int_equal(GCNT(f, 0, TMEMFS_OUTSIDE_CHANGES), 0);
    assert_int_equal(pool_pages(f, 1), 0);
    assert_int_equal(GCNT(f, 0, TMEMFS_GUEST_INVALIDATES), K / 2);
    /* A's record took the new attributes: no second flush through A. */
    assert_int_equal(tmemfs_object_table_check(ta, &stx, false), 0);
    assert_int_equal(tmemfs_object_table_count(ta), 1);
    assert_int_equal(tmemfs_object_table_count(tb), 1);
    tmemfs_object_table_destroy(tb);
    tmemfs_object_table_destroy(ta);
    gfx_free(f);
}

/* Rule: a change through A is no outside change for B (B's checks skip
 * the file while it is in flight; end_modify gives B's idle record the
 * result), while B still catches a real one. */
static void test_group_change_through_a_not_outside_for_b(void **state)
{
    struct gfx *f = gfx_new(K / 2, K, true);
    struct tmemfs_object_table *ta = tmemfs_object_table_create(16, &f->m[0].io, &f->m[0].st);
    struct tmemfs_object_table *tb = tmemfs_object_table_create(16, &f->m[1].io, &f->m[1].st);
    struct statx stx;

    (void)state;
    assert_int_equal(tmemfs_fstatx(f->fd, &stx), 0);
    tmemfs_oid_from_statx(&stx, &f->oid);
    assert_int_equal(tmemfs_object_table_check(tb, &stx, false), 0);
    assert_int_equal(tmemfs_object_table_begin_modify(ta, &stx), 0);
    stx.stx_size += 100;
    stx.stx_mtime.tv_sec += 1;
    /* While A's change is in flight B does not take it for an outside one. */
    assert_int_equal(tmemfs_object_table_check(tb, &stx, false), 0);
    tmemfs_object_table_end_modify(ta, &f->oid, &stx);
    assert_int_equal(tmemfs_object_table_check(tb, &stx, false), 0);
    assert_int_equal(tmemfs_object_table_check(ta, &stx, false), 0);
    stx.stx_ctime.tv_sec += 1;
    assert_int_equal(tmemfs_object_table_check(tb, &stx, false), 1);
    assert_int_equal(GCNT(f, 0, TMEMFS_OUTSIDE_CHANGES) + GCNT(f, 1, TMEMFS_OUTSIDE_CHANGES), 1);
    tmemfs_object_table_destroy(tb);
    tmemfs_object_table_destroy(ta);
    gfx_free(f);
}

/* Rule: a table leaving the group flushes from the shared pool the
 * objects no other member records (no record would cover them), and
 * leaves alone those another member records. */
static void test_group_leaving_table_flushes_uncovered_objects(void **state)
{
    struct gfx *f = gfx_new(K / 2, K, true);
    struct tmemfs_object_table *ta = tmemfs_object_table_create(16, &f->m[0].io, &f->m[0].st);
    struct tmemfs_object_table *tb = tmemfs_object_table_create(16, &f->m[1].io, &f->m[1].st);
    struct statx stx;

    (void)state;
    assert_int_equal(tmemfs_fstatx(f->fd, &stx), 0);
    tmemfs_oid_from_statx(&stx, &f->oid);
    assert_int_equal(tmemfs_object_table_check(ta, &stx, false), 0);
    assert_int_equal(tmemfs_object_table_check(tb, &stx, false), 0);
    gread_all(f, 0, K);
    assert_int_equal(pool_pages(f, 1), K / 2);
    tmemfs_object_table_destroy(ta); /* B records the file: pages stay */
    assert_int_equal(pool_pages(f, 1), K / 2);
    ta = tmemfs_object_table_create(16, &f->m[0].io, &f->m[0].st);
    assert_int_equal(tmemfs_object_table_check(ta, &stx, false), 0);
    tmemfs_object_table_destroy(tb); /* A records it again: pages stay */
    assert_int_equal(pool_pages(f, 1), K / 2);
    tb = tmemfs_object_table_create(16, &f->m[1].io, &f->m[1].st);
    tmemfs_object_table_destroy(ta); /* nobody else records it: flushed */
    assert_int_equal(pool_pages(f, 1), 0);
    tmemfs_object_table_destroy(tb);
    gfx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reread_hits_cleancache_exactly),
        cmocka_unit_test(test_capacity_zero_is_cleancache_off),
        cmocka_unit_test(test_write_invalidates_both_caches),
        cmocka_unit_test(test_truncate_then_grow_reads_zeros),
        cmocka_unit_test(test_objtab_detects_outside_change),
        cmocka_unit_test(test_group_b_gets_what_a_evicted),
        cmocka_unit_test(test_private_pools_share_nothing),
        cmocka_unit_test(test_group_write_through_a_drops_b_guest_page),
        cmocka_unit_test(test_group_truncate_and_object_flush_reach_a),
        cmocka_unit_test(test_group_drop_cleancache_drops_shared_pool),
        cmocka_unit_test(test_group_outside_change_seen_by_new_member),
        cmocka_unit_test(test_group_change_through_a_not_outside_for_b),
        cmocka_unit_test(test_group_leaving_table_flushes_uncovered_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
