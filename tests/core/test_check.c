/*
 * test_check.c - the invariant checker (tmem_check, tmem.h). It holds on
 * a store with every kind of page, pool and dedup state in it; and each
 * invariant broken on purpose (through tmem_internal.h: an LRU link, a
 * dedup reference, a pool's and the store's gauges, a stripe's object
 * count, a page record, a statistics counter, a dedup hash, a live count,
 * a client's held and LRU bytes, a pool's LRU owner) is reported, by
 * name, as the first broken one. Each is then repaired,
 * and the checker is satisfied again before the store is destroyed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tmem.h"
#include "core/tmem_internal.h" /* to break the invariants */
#include "../support/testutil.h"

static const uint8_t UUID_C[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0xcc};

/* A store holding pages of every kind: a private persistent pool pp and a
 * shared ephemeral pool pe (on the LRU), dedup owners with several users,
 * one of them detached (its own handle flushed). */
struct world {
    struct tu_store *s;
    int pp, pe;
    uint64_t saved; /* what a corruption overwrote */
};

static void put_seeded(struct world *w, int pool, uint64_t obj, uint32_t idx, int kind,
                       uint64_t seed)
{
    unsigned char *p = tu_page_alloc(w->s->ps);
    struct tmem_oid oid = tu_oid(obj, 0, 0);
    if (kind == 0)
        tu_fill_random(p, w->s->ps, seed);
    else if (kind == 1)
        tu_fill_compressible(p, w->s->ps, seed);
    else
        memset(p, 0, w->s->ps);
    assert_int_equal(tmem_put(w->s->c, pool, &oid, idx, p), 0);
    free(p);
}

static void world_fill(struct world *w)
{
    w->pp = tu_pool_new(w->s->c, TMEM_POOL_PERSIST, NULL);
    w->pe = tu_pool_new(w->s->c, TMEM_POOL_SHARED, UUID_C);
    put_seeded(w, w->pp, 1, 0, 0, 11);  /* an owner */
    put_seeded(w, w->pp, 1, 1, 0, 11);  /* its user */
    put_seeded(w, w->pp, 1, 2, 2, 0);   /* same-filled */
    put_seeded(w, w->pp, 1, 3, 1, 12);  /* compressed */
    for (uint32_t i = 0; i < 4; i++)
        put_seeded(w, w->pe, 2, i, (int)(i % 2), 20 + i); /* on the LRU */
    put_seeded(w, w->pe, 2, 4, 0, 11);  /* another user of (1, 0) */
    put_seeded(w, w->pp, 3, 0, 1, 13);  /* an owner that goes... */
    put_seeded(w, w->pp, 4, 0, 1, 13);  /* ...while this one uses it */
    struct tmem_oid o3 = tu_oid(3, 0, 0);
    assert_int_equal(tmem_flush_page(w->s->c, w->pp, &o3, 0), 0);
}

static int world_setup(void **state)
{
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    void *s;
    tu_store_setup(&s);
    w->s = s;
    world_fill(w);
    *state = w;
    return 0;
}

static int world_teardown(void **state)
{
    struct world *w = *state;
    void *s = w->s;
    tu_store_teardown(&s);
    free(w);
    return 0;
}

/* The internals of a handle (single-threaded: no lock needed). */
static struct tmem_pool *pool_of(struct world *w, int pool_id)
{
    return w->s->c->pools[pool_id];
}

static struct tmem_stripe *stripe_of(struct world *w, int pool_id, uint64_t obj)
{
    struct tmem_oid oid = tu_oid(obj, 0, 0);
    return tmem_stripe_of(pool_of(w, pool_id), &oid);
}

static uint32_t page_id(struct world *w, int pool_id, uint64_t obj, uint32_t idx)
{
    struct tmem *tm = w->s->tm;
    struct tmem_oid oid = tu_oid(obj, 0, 0);
    uint32_t object = tmem_index_find_object(tm, stripe_of(w, pool_id, obj),
                                             pool_of(w, pool_id), &oid);
    assert_true(object != 0);
    uint32_t id = tmem_index_lookup(tmem_object_record(tm, object), idx);
    assert_true(id != 0);
    return id;
}

static struct tmem_page *page(struct world *w, int pool_id, uint64_t obj, uint32_t idx)
{
    return tmem_page_record(w->s->tm, page_id(w, pool_id, obj, idx));
}

/* ------------------------------------------------------------ corruptions */

static void break_lru_link(struct world *w, bool undo)
{
    struct tmem_page *p = page(w, w->pe, 2, 1);
    if (!undo) {
        w->saved = p->lru.next;
        p->lru.next = page_id(w, w->pe, 2, 1); /* itself */
    } else {
        p->lru.next = (uint32_t)w->saved;
    }
}

static void link_persistent_page_into_lru(struct world *w, bool undo)
{
    page(w, w->pp, 1, 3)->lru.next = undo ? 0 : page_id(w, w->pe, 2, 0);
}

static void add_dedup_reference(struct world *w, bool undo)
{
    atomic_fetch_add(&page(w, w->pp, 1, 0)->refs, undo ? (uint16_t)-1 : 1);
}

static void change_dedup_hash(struct world *w, bool undo)
{
    /* + 16 keeps the owner in its shard (hash % 16), so the table holds it
     * where the new hash does not lead */
    page(w, w->pp, 1, 0)->hash += undo ? -16u : 16u;
}

static void add_to_pool_gauge(struct world *w, bool undo)
{
    tmem_add_owned(&stripe_of(w, w->pp, 1)->gauges.g[TMEM_G_METADATA_BYTES],
                   undo ? (uint64_t)-8 : 8);
}

static void add_to_store_data_bytes(struct world *w, bool undo)
{
    tmem_gauge_add(&w->s->tm->gauges, TMEM_G_DATA_BYTES, undo ? -4096 : 4096);
}

static void miscount_stripe_objects(struct world *w, bool undo)
{
    stripe_of(w, w->pp, 1)->objects += undo ? -1u : 1u;
}

static void change_page_index(struct world *w, bool undo)
{
    if (!undo)
        w->saved = page_id(w, w->pp, 1, 2);
    tmem_page_record(w->s->tm, (uint32_t)w->saved)->index ^= 1; /* says 3 */
}

static void add_successful_put(struct world *w, bool undo)
{
    tmem_add_owned(&stripe_of(w, w->pe, 2)->counters.c[TMEM_C_SUCC_PUTS],
                   undo ? (uint64_t)-1 : 1);
}

static void miscount_clients(struct world *w, bool undo)
{
    if (undo)
        atomic_fetch_sub(&w->s->tm->clients_live, 1);
    else
        atomic_fetch_add(&w->s->tm->clients_live, 1);
}

static void add_to_held_bytes(struct world *w, bool undo)
{
    atomic_fetch_add(&w->s->c->held, undo ? (uint64_t)-4096 : 4096);
}

static void add_to_lru_bytes(struct world *w, bool undo)
{
    atomic_fetch_add(&w->s->c->lru_bytes, undo ? (uint64_t)-32 : 32);
}

/* The shared ephemeral pool's LRU owner becomes a client that does not
 * hold it. */
static void hand_lru_to_a_stranger(struct world *w, bool undo)
{
    static struct tmem_client *stranger;
    if (!undo) {
        stranger = tu_client_new(w->s->tm, "stranger");
        pool_of(w, w->pe)->lru_owner = stranger;
    } else {
        pool_of(w, w->pe)->lru_owner = w->s->c;
        tmem_client_destroy(stranger);
    }
}

static const struct corruption {
    const char *what;   /* the invariant broken */
    const char *expect; /* in the checker's description of it */
    void (*apply)(struct world *w, bool undo);
} corruptions[] = {
    {"LRU links consistent both ways", "LRU", break_lru_link},
    {"no persistent page on the LRU", "persistent pool is linked into an LRU",
     link_persistent_page_into_lru},
    {"dedup refs = records using the owner", "references", add_dedup_reference},
    {"an owner's hash is its bytes' hash, reachable in its table", "dedup owner",
     change_dedup_hash},
    {"a pool's gauges = the sums over its pages", "metadata_bytes is", add_to_pool_gauge},
    {"the store's data bytes = the data it holds", "store: data", add_to_store_data_bytes},
    {"a stripe's object count = its objects", "objects in its chains",
     miscount_stripe_objects},
    {"a page record names its handle", "but says object", change_page_index},
    {"succ_puts = pages + pages that left", "succ_puts", add_successful_put},
    {"clients_live = the clients there are", "clients on the list", miscount_clients},
    {"a client's held bytes = its private pools' page bytes", "held count says",
     add_to_held_bytes},
    {"a client's lru_bytes = the bytes of its LRU's pages", "lru_bytes says",
     add_to_lru_bytes},
    {"an ephemeral pool's LRU owner holds it", "its LRU owner stranger does not hold it",
     hand_lru_to_a_stranger},
};

/* ------------------------------------------------------------ tests */

/* Rule: the checker accepts a consistent store, whatever it holds, also
 * after evictions, pool destruction and a client leaving. */
static void test_check_holds_on_a_store_with_every_kind_of_page(void **state)
{
    struct world *w = *state;
    struct tmem *tm = w->s->tm;
    char why[256];

    assert_int_equal(tmem_check(tm, why, sizeof why), 0);
    assert_string_equal(why, "");
    assert_int_equal(tmem_check(tm, NULL, 0), 0);
    assert_int_equal(tmem_check(NULL, why, sizeof why), -EINVAL);
    /* evict every ephemeral page: the LRU empties, owners lose users */
    assert_int_equal(tmem_set_capacity(tm, 0), 0);
    assert_true(tu_store_stats(tm).pages_evicted > 0);
    tu_check(tm, "after evicting every ephemeral page");
    assert_int_equal(tmem_set_capacity(tm, TMEM_CAPACITY_UNLIMITED), 0);
    /* another client shares a pool, then leaves; a pool goes */
    struct tmem_client *b = tu_client_new(tm, "b");
    int pb = tu_pool_new(b, TMEM_POOL_SHARED, UUID_C);
    put_seeded(w, w->pe, 5, 0, 0, 11);
    unsigned char *p = tu_page_alloc(w->s->ps);
    struct tmem_oid o5 = tu_oid(5, 0, 0);
    assert_int_equal(tmem_get(b, pb, &o5, 0, p), 0);
    free(p);
    tu_check(tm, "with a second client");
    tmem_client_destroy(b);
    assert_int_equal(tmem_destroy_pool(w->s->c, w->pp), 0);
    tu_check(tm, "after a client and a pool went");
}

/* Rule: every invariant broken on purpose is found, and named, as the
 * first broken one; repaired, the store passes again. */
static void test_check_finds_each_broken_invariant(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof corruptions / sizeof corruptions[0]; i++) {
        const struct corruption *k = &corruptions[i];
        void *ws;
        char why[256];

        world_setup(&ws);
        struct world *w = ws;
        tu_check(w->s->tm, "before the corruption");
        k->apply(w, false);
        int rc = tmem_check(w->s->tm, why, sizeof why);
        if (rc != -EUCLEAN)
            fail_msg("%s: broken, tmem_check returned %d (%s)", k->what, rc, why);
        if (!strstr(why, k->expect))
            fail_msg("%s: broken, tmem_check reported \"%s\", which does not say \"%s\"",
                     k->what, why, k->expect);
        print_message("%-58s -> %s\n", k->what, why);
        k->apply(w, true);
        world_teardown(&ws); /* checks the repaired store */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_check_holds_on_a_store_with_every_kind_of_page,
                                        world_setup, world_teardown),
        cmocka_unit_test(test_check_finds_each_broken_invariant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
