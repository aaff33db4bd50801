/*
 * test_snapshot.c - save and restore of a client's persistent tmem
 * (src/snapshot, docs/control.md "Save file").
 *
 * Rules checked, one test each (or a group):
 *  - round trip: quiesce, save, restore into a fresh store (another
 *    compressor), every pool's pages equal bit for bit, pool flags and
 *    uuid kept, the pool map right; ephemeral pools not saved (counted);
 *  - a shared pool joins the store's pool of its uuid;
 *  - save under load: with a thread putting and flushing, the file is
 *    valid, every page present for the whole save is in it with its bytes,
 *    and every page in it is a whole page that was put under its handle
 *    at some moment (a tagged page naming its handle, a version put
 *    before the save ended): no torn page;
 *  - every kind of damaged file refused with its message, the target
 *    store unchanged: truncation at every record boundary and inside every
 *    record, a flipped byte in each record kind, wrong magic, version,
 *    page size, trailing bytes, a duplicate handle, counts that disagree,
 *    an unknown record;
 *  - a restore that does not fit rolls back, changing nothing;
 *  - a save that cannot write leaves nothing behind, and the old file
 *    intact (write failure by RLIMIT_FSIZE; kill -9 during the save).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <lz4.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/tmem.h"
#include "snapshot/snapshot.h"
#include "snapshot/snapshot_format.h" /* to damage files precisely */
#include "../support/testutil.h"

static const uint8_t UUID_S[16] = {0x5a, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};

/* ------------------------------------------------------------ helpers */

/* A fresh folder for one test, and its removal. */
static char *dir_new(void)
{
    char *d = strdup("/tmp/snaptest-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static int dir_entries(const char *d)
{
    DIR *dp = opendir(d);
    struct dirent *e;
    int n = 0;

    assert_non_null(dp);
    while ((e = readdir(dp)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(dp);
    return n;
}

static void dir_remove(char *d)
{
    DIR *dp = opendir(d);
    struct dirent *e;
    char p[512];

    while (dp && (e = readdir(dp))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof(p), "%s/%s", d, e->d_name);
        unlink(p);
    }
    if (dp)
        closedir(dp);
    rmdir(d);
    free(d);
}

static unsigned char *file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void file_write(const char *path, const void *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
}

/* Every page of a pool, as a walk gives them (sorted by handle). */
struct item {
    struct tmem_oid oid;
    uint32_t index;
    unsigned char *page;
};
struct content {
    size_t n, room, ps;
    struct item *it;
};

static int collect(void *arg, const struct tmem_oid *oid, uint32_t index, const void *page,
                   size_t ps)
{
    struct content *c = arg;
    if (c->n == c->room) {
        c->room = c->room ? 2 * c->room : 64;
        c->it = realloc(c->it, c->room * sizeof(*c->it));
    }
    c->it[c->n].oid = *oid;
    c->it[c->n].index = index;
    c->it[c->n].page = malloc(ps);
    memcpy(c->it[c->n].page, page, ps);
    c->ps = ps;
    c->n++;
    return 0;
}

static struct content content_of(struct tmem_client *c, int pool)
{
    struct content ct = {0, 0, 0, NULL};
    assert_int_equal(tmem_pool_walk(c, pool, collect, &ct), 0);
    return ct;
}

static void content_free(struct content *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->it[i].page);
    free(c->it);
}

static void content_assert_equal(const struct content *a, const struct content *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_memory_equal(&a->it[i].oid, &b->it[i].oid, sizeof(struct tmem_oid));
        assert_int_equal(a->it[i].index, b->it[i].index);
        TU_ASSERT_PAGE_EQ(a->it[i].page, b->it[i].page, a->ps, "restored page");
    }
}

static struct tmem *store_with(enum tmem_compressor comp, uint32_t ps, uint64_t cap)
{
    struct tmem_config cfg;
    tmem_config_init(&cfg);
    cfg.compressor = comp;
    cfg.page_size = ps;
    cfg.capacity_bytes = cap;
    struct tmem *tm = tmem_create(&cfg);
    assert_non_null(tm);
    return tm;
}

/* Put n versioned pages (every kind: random, compressible, same-filled,
 * deduplicated, sparse) into pool under objects obj0.. . */
static void put_pages(struct tmem_client *c, int pool, uint64_t obj0, uint32_t n, uint64_t seed)
{
    size_t ps = tmem_page_size(tmem_client_store(c));
    unsigned char *page = tu_page_alloc(ps);
    for (uint32_t i = 0; i < n; i++) {
        struct tmem_oid oid = tu_oid(obj0 + i % 3, seed, i % 2);
        tu_fill_versioned(page, ps, seed * 1000 + i, seed + i);
        assert_int_equal(tmem_put(c, pool, &oid, i * 7, page), 0);
    }
    free(page);
}

/* The client of the round trips: two private persistent pools (one with
 * exclusive gets), a shared persistent one, an ephemeral one. */
struct guest {
    struct tmem_client *c;
    int priv, excl, shared, eph;
};

static struct guest guest_new(struct tmem *tm, uint32_t pages)
{
    struct guest g;
    g.c = tu_client_new(tm, "guest-1");
    g.eph = tu_pool_new(g.c, 0, NULL);
    g.priv = tu_pool_new(g.c, TMEM_POOL_PERSIST, NULL);
    g.excl = tu_pool_new(g.c, TMEM_POOL_PERSIST | TMEM_POOL_EXCLUSIVE_GETS, NULL);
    g.shared = tu_pool_new(g.c, TMEM_POOL_PERSIST | TMEM_POOL_SHARED, UUID_S);
    put_pages(g.c, g.priv, 10, pages, 1);
    put_pages(g.c, g.excl, 20, pages / 2, 2);
    put_pages(g.c, g.shared, 30, pages / 3, 3);
    put_pages(g.c, g.eph, 40, pages, 4);
    return g;
}

/* The target is unchanged: the client holds only `pools` pools and the
 * store `pages` pages; its invariants hold. */
static void assert_store_unchanged(struct tmem *tm, struct tmem_client *c, int pools,
                                   uint64_t pages)
{
    struct tmem_stats st;
    assert_int_equal(tmem_client_pools(c, NULL, 0), pools);
    assert_int_equal(tmem_stats(tm, &st), 0);
    assert_int_equal(st.pages, pages);
    tu_check(tm, "after a refused restore");
}

/* ------------------------------------------------------------ round trips */

/* Rule: quiesce, save, restore into a fresh store: every page of every
 * persistent pool equal, flags and uuid kept, ephemeral pools skipped. */
static void test_round_trip(void **state)
{
    (void)state;
    char *d = dir_new(), path[512], err[512];
    struct tmem *tm = store_with(TMEM_COMPRESSOR_LZ4, 4096, TMEM_CAPACITY_UNLIMITED);
    struct guest g = guest_new(tm, 300);
    struct snapshot_stats st;
    struct snapshot_restored_pool map[8];
    struct snapshot_restore_options o = {false, map, 8};
    struct tmem_pool_info info[8];

    snprintf(path, sizeof(path), "%s/guest.save", d);
    assert_int_equal(snapshot_save(g.c, path, &st, err, sizeof(err)), 0);
    assert_int_equal(st.pools, 3);
    assert_int_equal(st.pools_ephemeral, 1);
    assert_int_equal(st.pages, 300 + 150 + 100);
    assert_true(st.pages_compressed > 0 && st.pages_compressed < st.pages);
    assert_int_equal(dir_entries(d), 1);
    /* saving again replaces the file */
    assert_int_equal(snapshot_save(g.c, path, &st, err, sizeof(err)), 0);
    assert_int_equal(dir_entries(d), 1);

    struct tmem *tm2 = store_with(TMEM_COMPRESSOR_ZSTD, 4096, TMEM_CAPACITY_UNLIMITED);
    struct tmem_client *c2 = tu_client_new(tm2, "restored");
    int already = tu_pool_new(c2, TMEM_POOL_PERSIST, NULL); /* ids are new ones */
    assert_int_equal(snapshot_restore(c2, path, &o, &st, err, sizeof(err)), 0);
    assert_int_equal(st.pools, 3);
    assert_int_equal(st.pages, 550);
    assert_int_equal(st.pages_refused, 0);
    int saved[3] = {g.priv, g.excl, g.shared};
    uint32_t flags[3] = {TMEM_POOL_PERSIST, TMEM_POOL_PERSIST | TMEM_POOL_EXCLUSIVE_GETS,
                         TMEM_POOL_PERSIST | TMEM_POOL_SHARED};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(map[i].saved_id, saved[i]);
        assert_int_equal(map[i].flags, flags[i]);
        assert_true(map[i].pool_id != already);
        struct content a = content_of(g.c, saved[i]), b = content_of(c2, map[i].pool_id);
        assert_int_equal(map[i].pages, a.n);
        content_assert_equal(&a, &b);
        content_free(&a);
        content_free(&b);
    }
    assert_int_equal(tmem_client_pools(c2, info, 8), 4);
    assert_int_equal(info[3].flags, TMEM_POOL_PERSIST | TMEM_POOL_SHARED);
    assert_memory_equal(info[3].uuid, UUID_S, 16);
    /* the exclusive-gets pool still gets exclusively */
    {
        unsigned char *p = tu_page_alloc(4096);
        struct content a = content_of(c2, map[1].pool_id);
        assert_int_equal(tmem_get(c2, map[1].pool_id, &a.it[0].oid, a.it[0].index, p), 0);
        assert_int_equal(tmem_get(c2, map[1].pool_id, &a.it[0].oid, a.it[0].index, p),
                         -ENOENT);
        content_free(&a);
        free(p);
    }
    /* describe names the client and the pools */
    {
        char out[4096] = "";
        FILE *f = fmemopen(out, sizeof(out) - 1, "w");
        assert_int_equal(snapshot_describe(path, f, err, sizeof(err)), 0);
        fclose(f);
        assert_non_null(strstr(out, "client \"guest-1\""));
        assert_non_null(strstr(out, "3 pools, 550 pages"));
        assert_non_null(strstr(out, "uuid 5afe0102"));
    }
    tu_store_close(tm2);
    tu_store_close(tm);
    dir_remove(d);
}

/* Rule: a saved shared pool joins the target store's pool of its uuid:
 * another client holding it sees the restored pages, keeps its own. */
static void test_restore_joins_shared_pool(void **state)
{
    (void)state;
    char *d = dir_new(), path[512], err[512];
    struct tmem *tm = store_with(TMEM_COMPRESSOR_LZ4, 4096, TMEM_CAPACITY_UNLIMITED);
    struct tmem_client *c = tu_client_new(tm, "a");
    int sp = tu_pool_new(c, TMEM_POOL_PERSIST | TMEM_POOL_SHARED, UUID_S);
    put_pages(c, sp, 1, 40, 9);
    snprintf(path, sizeof(path), "%s/s.save", d);
    assert_int_equal(snapshot_save(c, path, NULL, err, sizeof(err)), 0);

    struct tmem *tm2 = store_with(TMEM_COMPRESSOR_LZ4, 4096, TMEM_CAPACITY_UNLIMITED);
    struct tmem_client *other = tu_client_new(tm2, "other"), *c2 = tu_client_new(tm2, "b");
    int osp = tu_pool_new(other, TMEM_POOL_PERSIST | TMEM_POOL_SHARED, UUID_S);
    put_pages(other, osp, 500, 5, 77); /* handles the file does not have */
    assert_int_equal(snapshot_restore(c2, path, NULL, NULL, err, sizeof(err)), 0);
    struct content a = content_of(c, sp), b = content_of(other, osp);
    assert_int_equal(b.n, 45);
    content_free(&b);
    struct tmem_pool_info info[2];
    assert_int_equal(tmem_client_pools(c2, info, 2), 1);
    b = content_of(c2, info[0].id);
    assert_int_equal(b.n, 45);
    /* the file's 40 pages are there with their bytes (objects 1..3 < 500) */
    b.n = 40;
    content_assert_equal(&a, &b);
    b.n = 45;
    content_free(&a);
    content_free(&b);
    tu_store_close(tm2);
    tu_store_close(tm);
    dir_remove(d);
}

/* --------------------------------------------------- saving under load */
#define LOAD_IDX 300u

struct loader {
    struct tmem_client *c;
    int pool;
    size_t ps;
    atomic_bool stop;
    atomic_ulong version; /* the last version put */
};

static uint64_t load_key(uint64_t obj, uint32_t idx)
{
    return obj << 32 | idx;
}

static void *load_thread(void *arg)
{
    struct loader *l = arg;
    unsigned char *page = malloc(l->ps);
    uint64_t rng = 7;

    while (!atomic_load(&l->stop)) {
        uint32_t i = (uint32_t)tu_rng_below(&rng, LOAD_IDX);
        struct tmem_oid oid = tu_oid(1, 0, 0);
        if (tu_rng_below(&rng, 4) == 0) {
            tmem_flush_page(l->c, l->pool, &oid, i);
        } else {
            uint64_t v = atomic_load(&l->version) + 1;
            tu_fill_tagged(page, l->ps, load_key(1, i), v, (unsigned)(v % 3));
            tmem_put(l->c, l->pool, &oid, i, page);
            atomic_store(&l->version, v);
        }
    }
    free(page);
    return NULL;
}

/* Rule: a save while a thread puts and flushes writes a valid file; every
 * stable page (present for the whole save) is in it with its bytes; every
 * churned page in it is a whole page once put under its handle, of a
 * version put before the save returned (some moment during the save). */
static void test_save_under_load(void **state)
{
    (void)state;
    char *d = dir_new(), path[512], err[512];
    struct tmem *tm = store_with(TMEM_COMPRESSOR_LZ4, 4096, TMEM_CAPACITY_UNLIMITED);
    struct tmem_client *c = tu_client_new(tm, "busy");
    struct loader l = {c, tu_pool_new(c, TMEM_POOL_PERSIST, NULL), 4096, false, 0};
    unsigned char *page = tu_page_alloc(4096);
    pthread_t t;
    int rounds = (int)tu_env_long("SAVE_ROUNDS", 8);

    snprintf(path, sizeof(path), "%s/busy.save", d);
    for (uint32_t i = 0; i < LOAD_IDX; i++) {
        struct tmem_oid oid = tu_oid(0, 0, 0);
        tu_fill_tagged(page, 4096, load_key(0, i), 0, i % 3);
        assert_int_equal(tmem_put(c, l.pool, &oid, i, page), 0);
    }
    assert_int_equal(pthread_create(&t, NULL, load_thread, &l), 0);
    for (int r = 0; r < rounds; r++) {
        struct snapshot_stats st;
        assert_int_equal(snapshot_save(c, path, &st, err, sizeof(err)), 0);
        uint64_t last = atomic_load(&l.version);
        struct tmem *tm2 = store_with(TMEM_COMPRESSOR_NONE, 4096, TMEM_CAPACITY_UNLIMITED);
        struct tmem_client *c2 = tu_client_new(tm2, "copy");
        struct snapshot_restored_pool map[1];
        struct snapshot_restore_options o = {false, map, 1};
        if (snapshot_restore(c2, path, &o, NULL, err, sizeof(err)) != 0)
            fail_msg("%s", err);
        struct content ct = content_of(c2, map[0].pool_id);
        uint32_t stable = 0;
        for (size_t i = 0; i < ct.n; i++) {
            uint64_t key, version;
            const struct item *it = &ct.it[i];
            if (!tu_check_tagged(it->page, 4096, &key, &version))
                fail_msg("page %zu of the file is torn or foreign", i);
            assert_int_equal(key, load_key(it->oid.oid[0], it->index));
            if (it->oid.oid[0] == 0) {
                assert_int_equal(version, 0);
                stable++;
            } else {
                assert_true(version >= 1 && version <= last);
            }
        }
        assert_int_equal(stable, LOAD_IDX);
        content_free(&ct);
        tu_store_close(tm2);
    }
    atomic_store(&l.stop, true);
    pthread_join(t, NULL);
    free(page);
    tu_store_close(tm);
    dir_remove(d);
}

/* ------------------------------------------------------------ damage */

/* A good file with two pools (one shared), raw and lz4 pages, and where
 * each of its records starts. */
struct good {
    char *d, path[512], bad[512];
    unsigned char *b;
    size_t len;
    size_t rec[64]; /* record starts; rec[nrec] = len */
    size_t nrec;
};

static void good_make(struct good *g)
{
    struct tmem *tm = store_with(TMEM_COMPRESSOR_LZ4, 4096, TMEM_CAPACITY_UNLIMITED);
    struct tmem_client *c = tu_client_new(tm, "g");
    int p = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    int s = tu_pool_new(c, TMEM_POOL_PERSIST | TMEM_POOL_SHARED, UUID_S);
    char err[512];
    size_t off;

    put_pages(c, p, 1, 5, 1);
    put_pages(c, s, 2, 4, 2);
    g->d = dir_new();
    snprintf(g->path, sizeof(g->path), "%s/good.save", g->d);
    snprintf(g->bad, sizeof(g->bad), "%s/bad.save", g->d);
    assert_int_equal(snapshot_save(c, g->path, NULL, err, sizeof(err)), 0);
    tu_store_close(tm);
    g->b = file_read(g->path, &g->len);
    g->nrec = 0;
    g->rec[g->nrec++] = 0;
    off = SNAPSHOT_HEADER_BYTES;
    for (int i = 0; i < 2; i++) {
        g->rec[g->nrec++] = off;
        off += SNAPSHOT_POOL_BYTES;
    }
    while (snapshot_get32(g->b + off) == SNAPSHOT_TAG_PAGE) {
        g->rec[g->nrec++] = off;
        off += SNAPSHOT_PAGE_HEAD_BYTES + snapshot_get32(g->b + off + SNAPSHOT_G_LENGTH) +
               SNAPSHOT_CHECKSUM_BYTES;
    }
    assert_int_equal(snapshot_get32(g->b + off), SNAPSHOT_TAG_END);
    g->rec[g->nrec++] = off;
    assert_int_equal(off + SNAPSHOT_END_BYTES, g->len);
    g->rec[g->nrec] = g->len;
    assert_int_equal(g->nrec, 1 + 2 + 9 + 1);
}

static void good_free(struct good *g)
{
    free(g->b);
    dir_remove(g->d);
}

/* Restore `len` bytes of buf (written to g->bad) into a target that holds
 * one pool of 3 pages: refused with -EINVAL, the message starting with
 * the file's name and containing want, the target unchanged. */
static void assert_refused(struct good *g, const void *buf, size_t len, const char *want,
                           uint32_t page_size)
{
    struct tmem *tm = store_with(TMEM_COMPRESSOR_LZ4, page_size, TMEM_CAPACITY_UNLIMITED);
    struct tmem_client *c = tu_client_new(tm, "t");
    int p = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    char err[512] = "";
    int rc;

    put_pages(c, p, 900, 3, 5);
    file_write(g->bad, buf, len);
    rc = snapshot_restore(c, g->bad, NULL, NULL, err, sizeof(err));
    if (rc != -EINVAL || strncmp(err, g->bad, strlen(g->bad)) != 0 || !strstr(err, want))
        fail_msg("restore of a damaged file (%zu bytes): rc %d, \"%s\"; wanted \"%s\"", len,
                 rc, err, want);
    assert_null(strchr(err, '\n'));
    assert_store_unchanged(tm, c, 1, 3);
    tu_store_close(tm);
}

/* Recompute the checksum of the record at off whose checksummed part is
 * n bytes long. */
static void fix_checksum(unsigned char *b, size_t off, size_t n)
{
    snapshot_put64(b + off + n, snapshot_checksum(b + off, n));
}

/* Rule: a file cut anywhere, at a record boundary or inside a record, is
 * refused ("truncated" or "no end record"), the target unchanged. */
static void test_truncated_anywhere(void **state)
{
    (void)state;
    struct good g;
    good_make(&g);
    for (size_t r = 0; r < g.nrec; r++) {
        size_t at = g.rec[r], next = g.rec[r + 1];
        const char *want = r == 0 ? "not a tmem save file" : r < 3 ? "truncated pool record"
                                                                   : "no end record";
        assert_refused(&g, g.b, at, want, 4096);
        assert_refused(&g, g.b, at + 1, r == 0 ? "not a tmem save file" : "truncated", 4096);
        assert_refused(&g, g.b, at + (next - at) / 2, "truncated", 4096);
        assert_refused(&g, g.b, next - 1, "truncated", 4096);
    }
    /* the whole file is good */
    {
        char err[512];
        struct tmem *tm = store_with(TMEM_COMPRESSOR_LZ4, 4096, TMEM_CAPACITY_UNLIMITED);
        struct tmem_client *c = tu_client_new(tm, "t");
        assert_int_equal(snapshot_restore(c, g.path, NULL, NULL, err, sizeof(err)), 0);
        tu_store_close(tm);
    }
    good_free(&g);
}

/* Rule: a byte flipped in any record (a field or its checksum) is refused
 * by that record's checksum. */
static void test_flipped_byte_in_each_record(void **state)
{
    (void)state;
    struct good g;
    unsigned char *b;
    good_make(&g);
    b = malloc(g.len);
    for (size_t r = 0; r < g.nrec; r++) {
        size_t at = g.rec[r], n = g.rec[r + 1] - at;
        /* past the tag (and the header's magic and version) */
        size_t first = r == 0 ? 12 : 4;
        const char *kind = r == 0 ? "header checksum" : r < 3 ? "pool record checksum"
                         : r == g.nrec - 1 ? "end record checksum" : "page record checksum";
        size_t where[3] = {first, at + n - at - 1, first + (n - first) / 2};
        for (int w = 0; w < 3; w++) {
            size_t pos = at + where[w];
            char want[128];
            memcpy(b, g.b, g.len);
            b[pos] ^= 0x20;
            /* a page record's length field: the length check may speak first */
            if (r >= 3 && r < g.nrec - 1 && where[w] >= SNAPSHOT_G_LENGTH &&
                where[w] < SNAPSHOT_G_LENGTH + 4)
                continue;
            snprintf(want, sizeof(want), "record %zu: %s mismatch", r, kind);
            assert_refused(&g, b, g.len, want, 4096);
        }
    }
    free(b);
    good_free(&g);
}

/* Rule: wrong magic, a foreign version, another page size, unknown flags
 * or record tags, trailing bytes, each refused with its own message. */
static void test_foreign_files(void **state)
{
    (void)state;
    struct good g;
    unsigned char *b;
    good_make(&g);
    b = malloc(g.len + 16);

    memcpy(b, g.b, g.len);
    b[0] = 'X';
    assert_refused(&g, b, g.len, "not a tmem save file", 4096);

    memcpy(b, g.b, g.len);
    snapshot_put32(b + SNAPSHOT_H_VERSION, 2);
    assert_refused(&g, b, g.len, "version 2, this program reads version 1", 4096);
    fix_checksum(b, 0, SNAPSHOT_H_CHECKSUM); /* a consistent version-2 header too */
    assert_refused(&g, b, g.len, "version 2", 4096);

    /* a store of another page size */
    assert_refused(&g, g.b, g.len, "saved with page size 4096, the store's is 8192", 8192);

    memcpy(b, g.b, g.len);
    snapshot_put32(b + SNAPSHOT_H_FLAGS, 0x81);
    fix_checksum(b, 0, SNAPSHOT_H_CHECKSUM);
    assert_refused(&g, b, g.len, "record 0: unknown header flags", 4096);

    memcpy(b, g.b, g.len);
    memcpy(b + g.len, "x", 1);
    assert_refused(&g, b, g.len + 1, "trailing bytes after the end record", 4096);
    memcpy(b + g.len, g.b + g.rec[3], 16); /* a page record's start after the end */
    assert_refused(&g, b, g.len + 16, "trailing bytes", 4096);

    memcpy(b, g.b, g.len);
    memcpy(b + g.rec[4], "JUNK", 4);
    assert_refused(&g, b, g.len, "record 4: unknown record tag", 4096);

    memcpy(b, g.b, g.len);
    memcpy(b + g.rec[2], "PAGE", 4); /* a page where a pool record belongs */
    fix_checksum(b, g.rec[2], SNAPSHOT_P_CHECKSUM);
    assert_refused(&g, b, g.len, "record 2: expected pool record 2 of 2", 4096);

    /* an ephemeral pool record */
    memcpy(b, g.b, g.len);
    snapshot_put32(b + g.rec[1] + SNAPSHOT_P_FLAGS, 0);
    fix_checksum(b, g.rec[1], SNAPSHOT_P_CHECKSUM);
    assert_refused(&g, b, g.len, "record 1: bad pool flags", 4096);

    /* a page naming a pool the file does not have */
    memcpy(b, g.b, g.len);
    snapshot_put32(b + g.rec[3] + SNAPSHOT_G_POOL, 2);
    fix_checksum(b, g.rec[3], g.rec[4] - g.rec[3] - SNAPSHOT_CHECKSUM_BYTES);
    assert_refused(&g, b, g.len, "record 3: pool 2, the file has 2 pools", 4096);
    free(b);

    /* lz4 data of half a page, in a page record of its own */
    {
        unsigned char half[2048], rec[SNAPSHOT_PAGE_HEAD_BYTES + 4096 + 8];
        size_t old_len = g.rec[4] - g.rec[3], new_len, e;
        tu_fill_compressible(half, sizeof(half), 3);
        memcpy(rec, g.b + g.rec[3], SNAPSHOT_PAGE_HEAD_BYTES);
        int n = LZ4_compress_default((const char *)half, (char *)rec + SNAPSHOT_PAGE_HEAD_BYTES,
                                     (int)sizeof(half), 4095);
        assert_true(n > 0);
        snapshot_put16(rec + SNAPSHOT_G_ENCODING, SNAPSHOT_ENCODING_LZ4);
        snapshot_put32(rec + SNAPSHOT_G_LENGTH, (uint32_t)n);
        fix_checksum(rec, 0, SNAPSHOT_PAGE_HEAD_BYTES + (size_t)n);
        new_len = SNAPSHOT_PAGE_HEAD_BYTES + (size_t)n + 8;
        b = malloc(g.len + new_len);
        memcpy(b, g.b, g.rec[3]);
        memcpy(b + g.rec[3], rec, new_len);
        memcpy(b + g.rec[3] + new_len, g.b + g.rec[4], g.len - g.rec[4]);
        e = g.rec[g.nrec - 1] - old_len + new_len;
        snapshot_put64(b + e + SNAPSHOT_E_BYTES, e);
        fix_checksum(b, e, SNAPSHOT_E_CHECKSUM);
        assert_refused(&g, b, g.len - old_len + new_len,
                       "record 3: lz4 data that does not make one page", 4096);
        free(b);
    }
    good_free(&g);
}

/* Rule: counts that disagree (a pool record's, the end record's pages,
 * pools or bytes) and a handle that comes twice are refused. */
static void test_counts_and_duplicates(void **state)
{
    (void)state;
    struct good g;
    unsigned char *b;
    size_t end, pr_len;
    good_make(&g);
    end = g.rec[g.nrec - 1];
    pr_len = g.rec[4] - g.rec[3];
    b = malloc(g.len + pr_len);

    memcpy(b, g.b, g.len);
    snapshot_put64(b + g.rec[1] + SNAPSHOT_P_PAGES, 6);
    fix_checksum(b, g.rec[1], SNAPSHOT_P_CHECKSUM);
    assert_refused(&g, b, g.len, "record 1: the pool record says 6 pages, the file has 5", 4096);

    for (int field = 0; field < 3; field++) {
        static const size_t at[3] = {SNAPSHOT_E_POOLS, SNAPSHOT_E_PAGES, SNAPSHOT_E_BYTES};
        memcpy(b, g.b, g.len);
        if (field == 0)
            snapshot_put32(b + end + at[0], 3);
        else
            snapshot_put64(b + end + at[field], snapshot_get64(b + end + at[field]) + 1);
        fix_checksum(b, end, SNAPSHOT_E_CHECKSUM);
        assert_refused(&g, b, g.len, "the end record says", 4096);
    }

    /* the first page record twice, every count made consistent */
    memcpy(b, g.b, g.rec[4]);
    memcpy(b + g.rec[4], g.b + g.rec[3], pr_len);
    memcpy(b + g.rec[4] + pr_len, g.b + g.rec[4], g.len - g.rec[4]);
    {
        uint32_t pool = snapshot_get32(g.b + g.rec[3] + SNAPSHOT_G_POOL);
        size_t prec = g.rec[1 + pool], e = end + pr_len;
        snapshot_put64(b + prec + SNAPSHOT_P_PAGES, snapshot_get64(b + prec + SNAPSHOT_P_PAGES) + 1);
        fix_checksum(b, prec, SNAPSHOT_P_CHECKSUM);
        snapshot_put64(b + e + SNAPSHOT_E_PAGES, snapshot_get64(b + e + SNAPSHOT_E_PAGES) + 1);
        snapshot_put64(b + e + SNAPSHOT_E_BYTES, e);
        fix_checksum(b, e, SNAPSHOT_E_CHECKSUM);
    }
    assert_refused(&g, b, g.len + pr_len, "record 4: duplicate handle", 4096);
    free(b);
    good_free(&g);
}

/* Rule: check_only reads and checks the whole file and changes nothing. */
static void test_check_only(void **state)
{
    (void)state;
    struct good g;
    char err[512];
    struct snapshot_stats st;
    struct snapshot_restore_options o = {true, NULL, 0};
    good_make(&g);
    struct tmem *tm = store_with(TMEM_COMPRESSOR_LZ4, 4096, TMEM_CAPACITY_UNLIMITED);
    struct tmem_client *c = tu_client_new(tm, "t");
    assert_int_equal(snapshot_restore(c, g.path, &o, &st, err, sizeof(err)), 0);
    assert_int_equal(st.pages, 9);
    assert_int_equal(st.pools, 2);
    assert_int_equal(st.file_bytes, g.len);
    assert_store_unchanged(tm, c, 0, 0);
    tu_store_close(tm);
    good_free(&g);
}

/* ------------------------------------------------------------ rollback */

/* Rule: a restore that does not fit (the store's capacity) fails with
 * -ENOSPC and "N of M pages did not fit", and changes nothing: the
 * client's other pools, the shared pool another client holds (its own
 * pages kept, none of the file's left), the store's page count. */
static void test_restore_that_does_not_fit_rolls_back(void **state)
{
    (void)state;
    char *d = dir_new(), path[512], err[512];
    struct tmem *tm = store_with(TMEM_COMPRESSOR_LZ4, 4096, TMEM_CAPACITY_UNLIMITED);
    struct tmem_client *c = tu_client_new(tm, "big");
    /* the shared pool first: its pages come first in the file and fit,
     * so the rollback has pages of a shared pool to flush */
    int sp = tu_pool_new(c, TMEM_POOL_PERSIST | TMEM_POOL_SHARED, UUID_S);
    int pp = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    struct snapshot_stats st;
    put_pages(c, sp, 30, 133, 3);
    put_pages(c, pp, 10, 600, 1);
    snprintf(path, sizeof(path), "%s/big.save", d);
    assert_int_equal(snapshot_save(c, path, NULL, err, sizeof(err)), 0);

    struct tmem *tm2 = store_with(TMEM_COMPRESSOR_LZ4, 4096, TMEM_CAPACITY_UNLIMITED);
    struct tmem_client *other = tu_client_new(tm2, "other"), *c2 = tu_client_new(tm2, "b");
    int osp = tu_pool_new(other, TMEM_POOL_PERSIST | TMEM_POOL_SHARED, UUID_S);
    int mine = tu_pool_new(c2, TMEM_POOL_PERSIST, NULL);
    put_pages(other, osp, 500, 5, 77);
    put_pages(c2, mine, 600, 10, 78);
    struct content before_other = content_of(other, osp), before_mine = content_of(c2, mine);
    struct tmem_stats s0;
    assert_int_equal(tmem_stats(tm2, &s0), 0);
    /* room for about a third of the file */
    assert_int_equal(tmem_set_capacity(tm2, tu_usage(tm2) + 200 * 4096), 0);
    int rc = snapshot_restore(c2, path, NULL, &st, err, sizeof(err));
    if (rc != -ENOSPC || !strstr(err, "pages did not fit") || !strstr(err, "nothing restored") ||
        strncmp(err, path, strlen(path)) != 0)
        fail_msg("rc %d: %s", rc, err);
    assert_true(st.pages_refused > 0 && st.pages_refused < 600);
    {
        char want[64];
        snprintf(want, sizeof(want), "%llu of 733 pages", (unsigned long long)st.pages_refused);
        assert_non_null(strstr(err, want));
    }
    assert_store_unchanged(tm2, c2, 1, s0.pages);
    struct content after_other = content_of(other, osp), after_mine = content_of(c2, mine);
    content_assert_equal(&before_other, &after_other);
    content_assert_equal(&before_mine, &after_mine);
    content_free(&before_other);
    content_free(&after_other);
    content_free(&before_mine);
    content_free(&after_mine);
    /* with room it goes in */
    assert_int_equal(tmem_set_capacity(tm2, TMEM_CAPACITY_UNLIMITED), 0);
    assert_int_equal(snapshot_restore(c2, path, NULL, &st, err, sizeof(err)), 0);
    assert_int_equal(st.pages, 733);
    tu_store_close(tm2);
    tu_store_close(tm);
    dir_remove(d);
}

/* ------------------------------------------------------ failing saves */

/* Rule: a save into a folder it cannot write in fails with the reason,
 * naming the file, and leaves nothing behind. */
static void test_save_to_unwritable_folder(void **state)
{
    (void)state;
    char *d = dir_new(), path[512], err[512];
    struct tmem *tm = store_with(TMEM_COMPRESSOR_LZ4, 4096, TMEM_CAPACITY_UNLIMITED);
    struct guest g = guest_new(tm, 20);

    snprintf(path, sizeof(path), "%s/no/such/folder/x.save", d);
    assert_int_equal(snapshot_save(g.c, path, NULL, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "No such file or directory"));
    /* a file where a folder should be */
    snprintf(path, sizeof(path), "%s/plain", d);
    file_write(path, "x", 1);
    snprintf(path, sizeof(path), "%s/plain/x.save", d);
    assert_int_equal(snapshot_save(g.c, path, NULL, err, sizeof(err)), -ENOTDIR);
    assert_int_equal(dir_entries(d), 1);
    if (geteuid() != 0) { /* root writes anywhere */
        char ro[256];
        snprintf(ro, sizeof(ro), "%.200s/ro", d);
        assert_int_equal(mkdir(ro, 0500), 0);
        snprintf(path, sizeof(path), "%s/x.save", ro);
        assert_int_equal(snapshot_save(g.c, path, NULL, err, sizeof(err)), -EACCES);
        assert_int_equal(dir_entries(ro), 0);
        rmdir(ro);
    }
    tu_store_close(tm);
    dir_remove(d);
}

/* Rule: a save whose writes fail midway (the file size limit: EFBIG)
 * removes its temporary file and leaves the old file intact. Runs in a
 * child process, so the limit stays there. */
static void test_save_write_failure_keeps_old_file(void **state)
{
    (void)state;
    char *d = dir_new(), path[512], err[512];
    struct tmem *tm = store_with(TMEM_COMPRESSOR_NONE, 4096, TMEM_CAPACITY_UNLIMITED);
    struct tmem_client *c = tu_client_new(tm, "w");
    int p = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    size_t old_len, now_len;
    unsigned char *old, *now;
    pid_t pid;
    int status;

    put_pages(c, p, 1, 3, 1);
    snprintf(path, sizeof(path), "%s/w.save", d);
    assert_int_equal(snapshot_save(c, path, NULL, err, sizeof(err)), 0);
    old = file_read(path, &old_len);
    put_pages(c, p, 10, 200, 2); /* now the file would be ~800 KB */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {64 * 1024, 64 * 1024};
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &rl);
        int rc = snapshot_save(c, path, NULL, err, sizeof(err));
        _exit(rc == -EFBIG && strstr(err, "File too large") && strstr(err, path) ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    now = file_read(path, &now_len);
    assert_int_equal(now_len, old_len);
    assert_memory_equal(now, old, old_len);
    assert_int_equal(dir_entries(d), 1); /* no temporary file left */
    free(old);
    free(now);
    tu_store_close(tm);
    dir_remove(d);
}

/* Rule: a save killed (SIGKILL) at any moment leaves the file either the
 * old one or the complete new one, never a partial file. */
static void test_save_killed_keeps_a_whole_file(void **state)
{
    (void)state;
    char *d = dir_new(), path[512], err[512];
    struct tmem *tm = store_with(TMEM_COMPRESSOR_LZ4, 4096, TMEM_CAPACITY_UNLIMITED);
    struct tmem_client *c = tu_client_new(tm, "k");
    int p = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);

    put_pages(c, p, 1, 3, 1);
    snprintf(path, sizeof(path), "%s/k.save", d);
    assert_int_equal(snapshot_save(c, path, NULL, err, sizeof(err)), 0);
    put_pages(c, p, 10, 2000, 2);
    for (int round = 0; round < 6; round++) {
        pid_t pid = fork();
        int status;
        assert_true(pid >= 0);
        if (pid == 0) {
            for (;;)
                snapshot_save(c, path, NULL, err, sizeof(err));
        }
        struct timespec ts = {0, (long)(3 + round * 7) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        FILE *devnull = fopen("/dev/null", "w");
        if (snapshot_describe(path, devnull, err, sizeof(err)) != 0)
            fail_msg("after kill -9: %s", err);
        fclose(devnull);
    }
    tu_store_close(tm);
    dir_remove(d); /* the killed saves' temporary files too */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_restore_joins_shared_pool),
        cmocka_unit_test(test_save_under_load),
        cmocka_unit_test(test_truncated_anywhere),
        cmocka_unit_test(test_flipped_byte_in_each_record),
        cmocka_unit_test(test_foreign_files),
        cmocka_unit_test(test_counts_and_duplicates),
        cmocka_unit_test(test_check_only),
        cmocka_unit_test(test_restore_that_does_not_fit_rolls_back),
        cmocka_unit_test(test_save_to_unwritable_folder),
        cmocka_unit_test(test_save_write_failure_keeps_old_file),
        cmocka_unit_test(test_save_killed_keeps_a_whole_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
