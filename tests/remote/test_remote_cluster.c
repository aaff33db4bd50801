/*
 * test_remote_cluster.c - the remote tier on a Redis Cluster (src/remote/
 * remote_cluster.c, issue #17; docs/remote.md, "Redis Cluster on several
 * machines") against a private three-master cluster on loopback ports
 * (redis_fixture.h), started once for the group and stopped afterwards;
 * a cluster that does not come up fails the group loudly.
 *
 * Pages are forced remote with a store of capacity 0. The tier is given
 * one seed node; it finds the others through CLUSTER SLOTS. Pools are
 * numbered from serial 1 in each fresh store, so a pool's keys are
 * {PREFIX:c0:SERIAL}:... and its slot is that of PREFIX:c0:SERIAL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/tmem.h"
#include "remote/remote_cluster.h"
#include "remote/remote_tier.h"
#include "redis_fixture.h"
#include "remote_env.h"
#include "../support/testutil.h"

#define PAGE 4096u
#define PREFIX "cl"

static struct redis_cluster cluster;

static void tier_config(struct remote_tier_config *cfg, unsigned seed)
{
    remote_tier_config_init(cfg);
    redis_server_tcp_endpoint(&cluster.node[seed], &cfg->server.endpoints[0]);
    cfg->server.endpoint_count = 1;
    cfg->server.cluster = REMOTE_CLUSTER_ON;
    snprintf(cfg->server.password, sizeof(cfg->server.password), "%s", REDIS_FIXTURE_PASSWORD);
    snprintf(cfg->prefix, sizeof(cfg->prefix), "%s", PREFIX);
    cfg->server.command_timeout_ms = 1000;
}

static int put(struct tmem_client *c, int pool, uint64_t obj, uint32_t index, uint64_t version)
{
    unsigned char page[PAGE];
    struct tmem_oid o = remote_env_oid(obj);

    tu_fill_tagged(page, PAGE, obj * 1000 + index, version, TU_TAG_RANDOM);
    return tmem_put(c, pool, &o, index, page);
}

static void assert_get_is(struct tmem_client *c, int pool, uint64_t obj, uint32_t index,
                          uint64_t version)
{
    unsigned char page[PAGE], want[PAGE];
    struct tmem_oid o = remote_env_oid(obj);

    tu_fill_tagged(want, PAGE, obj * 1000 + index, version, TU_TAG_RANDOM);
    assert_int_equal(tmem_get(c, pool, &o, index, page), 0);
    assert_memory_equal(page, want, PAGE);
}

static void assert_get_misses(struct tmem_client *c, int pool, uint64_t obj, uint32_t index)
{
    unsigned char page[PAGE];
    struct tmem_oid o = remote_env_oid(obj);

    assert_int_equal(tmem_get(c, pool, &o, index, page), -ENOENT);
}

static long long node_keys(unsigned i)
{
    return redis_server_int(&cluster.node[i], 1, (const char *const[]){"DBSIZE"});
}

static uint64_t conn_counter(struct remote_env *e, enum remote_conn_counter i)
{
    struct remote_tier_stats rs;

    remote_tier_stats(e->rt, &rs);
    return rs.conn.c[i];
}

/* The slot of client 0's pool of the given serial (its hash tag). */
static unsigned pool_slot(uint64_t serial)
{
    char tag[64];

    snprintf(tag, sizeof(tag), "{%s:c0:%llu}", PREFIX, (unsigned long long)serial);
    return remote_key_slot(tag, strlen(tag));
}

/* The slot function is the specification's: its CRC16 test vector, its
 * hash-tag examples, and the servers' own CLUSTER KEYSLOT for the keys
 * the tier makes. */
static void test_key_slot_matches_the_specification(void **state)
{
    static const char *const keys[] = {"123456789",   "foo",           "{cl:c0:1}:1.5eed.7",
                                       "{cl:c0:12}:objects", "foo{}{bar}", "foo{{bar}}zap",
                                       "foo{bar}{zap}", "{", "}{x}",      "tmem-42-abc:c3"};
    char slot[16];

    (void)state;
    assert_int_equal(remote_crc16("123456789", 9), 0x31C3);
    assert_int_equal(remote_key_slot("123456789", 9), 0x31C3 % 16384);
    assert_int_equal(remote_key_slot("{user1000}.following", 20),
                     remote_key_slot("{user1000}.followers", 20));
    assert_int_equal(remote_key_slot("{user1000}.following", 20), remote_key_slot("user1000", 8));
    assert_int_equal(remote_key_slot("foo{}{bar}", 10), remote_crc16("foo{}{bar}", 10) % 16384);
    assert_int_equal(remote_key_slot("foo{{bar}}zap", 13), remote_key_slot("{bar", 4));
    assert_int_equal(remote_key_slot("foo{bar}{zap}", 13), remote_key_slot("bar", 3));
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(slot, sizeof(slot), "%u", remote_key_slot(keys[i], strlen(keys[i])));
        assert_int_equal(
            redis_server_int(&cluster.node[0], 3, (const char *const[]){"CLUSTER", "KEYSLOT", keys[i]}),
            atoll(slot));
    }
}

/* The rules over the cluster: put-get, put-put-get, flush_page,
 * flush_object, destroy_pool with every page remote; nine pools spread
 * over the three nodes (each holds keys); with a correct slot map no
 * command is ever redirected; destroying the pools empties every node. */
static void test_rules_over_the_cluster(void **state)
{
    enum { POOLS = 9 };
    struct remote_tier_config cfg;
    struct remote_env e;
    int pools[POOLS];
    bool node_used[REDIS_CLUSTER_NODES] = {false};

    (void)state;
    tier_config(&cfg, 1);
    remote_env_open(&e, 0, &cfg, TMEM_TIER_PERSISTENT | TMEM_TIER_WRITE_THROUGH, 1);
    for (int p = 0; p < POOLS; p++) {
        pools[p] = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);
        assert_true(pools[p] >= 0);
        node_used[redis_cluster_slot_owner(&cluster, 0, pool_slot((uint64_t)p + 1))] = true;
        for (uint64_t obj = 1; obj <= 3; obj++)
            for (uint32_t index = 0; index < 4; index++)
                assert_int_equal(put(e.c[0], pools[p], obj, index, 1), 0);
    }
    for (int i = 0; i < REDIS_CLUSTER_NODES; i++) {
        assert_true(node_used[i]); /* the pools' slots are on every node... */
        assert_true(node_keys((unsigned)i) > 0); /* ...and so are their keys */
    }
    for (int p = 0; p < POOLS; p++) {
        struct tmem_oid o = remote_env_oid(2);

        assert_get_is(e.c[0], pools[p], 1, 3, 1);
        assert_int_equal(put(e.c[0], pools[p], 1, 3, 2), 0); /* put-put-get */
        assert_get_is(e.c[0], pools[p], 1, 3, 2);
        o = remote_env_oid(3);
        assert_int_equal(tmem_flush_page(e.c[0], pools[p], &o, 1), 0);
        assert_get_misses(e.c[0], pools[p], 3, 1);
        assert_get_is(e.c[0], pools[p], 3, 2, 1);
        o = remote_env_oid(2);
        assert_int_equal(tmem_flush_object(e.c[0], pools[p], &o), 0);
        assert_get_misses(e.c[0], pools[p], 2, 0);
        assert_get_is(e.c[0], pools[p], 1, 0, 1);
    }
    assert_int_equal(conn_counter(&e, REMOTE_CONN_CLUSTER_MOVED), 0);
    assert_int_equal(conn_counter(&e, REMOTE_CONN_CLUSTER_ASK), 0);
    assert_true(conn_counter(&e, REMOTE_CONN_CLUSTER_REFRESHES) >= 1);
    assert_int_equal(conn_counter(&e, REMOTE_CONN_REPLY_ERRORS), 0);
    for (int p = 0; p < POOLS; p++)
        assert_int_equal(tmem_destroy_pool(e.c[0], pools[p]), 0);
    for (unsigned i = 0; i < REDIS_CLUSTER_NODES; i++)
        assert_int_equal(node_keys(i), 0);
    remote_env_close(&e);
}

/* A slot moves while the tier runs: while it migrates, a page of a new
 * object goes to the importing node (-ASK, ASKING), old pages are still
 * read from the old one; once moved, gets follow -MOVED (the map is read
 * again) and still hit, and new puts land on the new owner. */
static void test_slot_moves_under_the_tier(void **state)
{
    struct remote_tier_config cfg;
    struct remote_env e;
    unsigned slot = pool_slot(1);
    char slot_text[16];
    int pool, from, to;
    uint64_t refreshes;

    (void)state;
    tier_config(&cfg, 0);
    remote_env_open(&e, 0, &cfg, TMEM_TIER_PERSISTENT | TMEM_TIER_WRITE_THROUGH, 1);
    pool = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);
    assert_true(pool >= 0);
    for (uint32_t index = 0; index < 8; index++)
        assert_int_equal(put(e.c[0], pool, 1, index, 1), 0);
    from = redis_cluster_slot_owner(&cluster, 0, slot);
    assert_true(from >= 0);
    to = (from + 1) % REDIS_CLUSTER_NODES;
    snprintf(slot_text, sizeof(slot_text), "%u", slot);

    assert_int_equal(redis_cluster_migrate_begin(&cluster, slot, (unsigned)from, (unsigned)to), 0);
    assert_int_equal(put(e.c[0], pool, 2, 0, 1), 0); /* a new key: -ASK */
    assert_true(conn_counter(&e, REMOTE_CONN_CLUSTER_ASK) >= 1);
    assert_true(redis_server_int(&cluster.node[to], 3,
                                 (const char *const[]){"CLUSTER", "COUNTKEYSINSLOT", slot_text}) >= 1);
    assert_get_is(e.c[0], pool, 1, 5, 1); /* an old key: still at the source */
    assert_get_is(e.c[0], pool, 2, 0, 1); /* the new one: -ASK again */
    assert_int_equal(conn_counter(&e, REMOTE_CONN_CLUSTER_MOVED), 0);

    refreshes = conn_counter(&e, REMOTE_CONN_CLUSTER_REFRESHES);
    assert_int_equal(redis_cluster_migrate_finish(&cluster, slot, (unsigned)from, (unsigned)to), 0);
    for (uint32_t index = 0; index < 8; index++)
        assert_get_is(e.c[0], pool, 1, index, 1);
    assert_get_is(e.c[0], pool, 2, 0, 1);
    assert_true(conn_counter(&e, REMOTE_CONN_CLUSTER_MOVED) >= 1);
    assert_true(conn_counter(&e, REMOTE_CONN_CLUSTER_REFRESHES) > refreshes);
    assert_int_equal(put(e.c[0], pool, 3, 0, 1), 0);
    assert_int_equal(put(e.c[0], pool, 1, 0, 2), 0);
    assert_get_is(e.c[0], pool, 3, 0, 1);
    assert_get_is(e.c[0], pool, 1, 0, 2);
    assert_int_equal(redis_server_int(&cluster.node[from], 3,
                                      (const char *const[]){"CLUSTER", "COUNTKEYSINSLOT", slot_text}),
                     0);
    assert_int_equal(redis_server_int(&cluster.node[to], 3,
                                      (const char *const[]){"CLUSTER", "COUNTKEYSINSLOT", slot_text}),
                     4); /* objects 1, 2, 3 and the pool's set */
    assert_int_equal(conn_counter(&e, REMOTE_CONN_REPLY_ERRORS), 0);
    assert_int_equal(tmem_destroy_pool(e.c[0], pool), 0);
    assert_int_equal(redis_server_int(&cluster.node[to], 3,
                                      (const char *const[]){"CLUSTER", "COUNTKEYSINSLOT", slot_text}),
                     0);
    remote_env_close(&e);
}

/* Private pools stay private on every node: each client's ACL user exists
 * on all three masters and on the replica (ACL rules are per node), logs
 * in on each, and on each another client's credentials get NOPERM for
 * its keys. */
static void test_acl_on_every_node(void **state)
{
    struct remote_tier_config cfg;
    struct remote_env e;
    char prefix[2][64], user[2][64], pass[2][64], key[200];
    struct timeval tv = {1, 0};
    int pool;

    (void)state;
    tier_config(&cfg, 2);
    cfg.client_acls = true;
    remote_env_open(&e, 0, &cfg, TMEM_TIER_PERSISTENT | TMEM_TIER_WRITE_THROUGH, 2);
    pool = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);
    assert_true(pool >= 0);
    assert_int_equal(put(e.c[0], pool, 1, 0, 1), 0);
    assert_get_is(e.c[0], pool, 1, 0, 1);
    for (int i = 0; i < 2; i++)
        assert_int_equal(remote_tier_client_login(e.rt, e.c[i], prefix[i], 64, user[i], 64,
                                                  pass[i], 64), 0);
    snprintf(key, sizeof(key), "{%s:1}:1.5eed.7", prefix[0]);
    for (unsigned n = 0; n <= REDIS_CLUSTER_REPLICA; n++)
        for (int who = 0; who < 2; who++) {
            redisContext *rc = redisConnectWithTimeout("127.0.0.1", cluster.node[n].port, tv);
            redisReply *r;

            assert_non_null(rc);
            assert_int_equal(rc->err, 0);
            r = redisCommand(rc, "AUTH %s %s", user[who], pass[who]);
            assert_non_null(r);
            assert_int_equal(r->type, REDIS_REPLY_STATUS); /* the user is on node n */
            freeReplyObject(r);
            r = redisCommand(rc, "HGET %s 0", key);
            assert_non_null(r);
            if (who == 1) {
                assert_int_equal(r->type, REDIS_REPLY_ERROR);
                assert_non_null(strstr(r->str, "NOPERM"));
            } else if (redis_cluster_slot_owner(&cluster, n, pool_slot(1)) == (int)n) {
                assert_int_equal(r->type, REDIS_REPLY_STRING); /* its own page, here */
                assert_int_equal(r->len, PAGE);
            } else {
                assert_int_equal(r->type, REDIS_REPLY_ERROR); /* elsewhere: -MOVED */
                assert_non_null(strstr(r->str, "MOVED"));
            }
            freeReplyObject(r);
            redisFree(rc);
        }
    remote_env_close(&e);
}

/* WAIT in a cluster goes to the node that took the write: node 0 has a
 * replica, the others none. With replicas = 1 (no write-through), a
 * persistent page of a pool on node 0 is accepted, one of a pool
 * elsewhere refused and deleted. Once a slot moved to node 0 behind the
 * tier's back, the put is redirected (-MOVED) and the WAIT that counts is
 * node 0's, not the old node's. DETECT finds the cluster by itself. */
static void test_wait_goes_where_the_write_went(void **state)
{
    struct remote_tier_config cfg;
    struct remote_tier_stats rs;
    struct remote_env e;
    int pool_here = -1, pool_there = -1;
    uint64_t serial_there = 0;
    char key[64], slot_text[16];
    int owner;

    (void)state;
    tier_config(&cfg, 1);
    cfg.server.cluster = REMOTE_CLUSTER_DETECT;
    cfg.replicas = 1;
    cfg.wait_timeout_ms = 50;
    remote_env_open(&e, 0, &cfg, TMEM_TIER_PERSISTENT, 1);
    for (uint64_t serial = 1; serial <= 16 && (pool_here < 0 || pool_there < 0); serial++) {
        int pool = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);

        assert_true(pool >= 0);
        owner = redis_cluster_slot_owner(&cluster, 0, pool_slot(serial));
        if (owner == 0 && pool_here < 0)
            pool_here = pool;
        else if (owner > 0 && pool_there < 0) {
            pool_there = pool;
            serial_there = serial;
        }
    }
    assert_true(pool_here >= 0 && pool_there >= 0);
    assert_int_equal(put(e.c[0], pool_here, 1, 0, 1), 0);  /* node 0's replica acked */
    assert_get_is(e.c[0], pool_here, 1, 0, 1);
    assert_int_not_equal(put(e.c[0], pool_there, 1, 0, 1), 0); /* no replica there */
    assert_get_misses(e.c[0], pool_there, 1, 0);
    remote_tier_stats(e.rt, &rs);
    assert_int_equal(rs.c[REMOTE_TIER_REFUSED_UNSAFE], 1);
    owner = redis_cluster_slot_owner(&cluster, 0, pool_slot(serial_there));
    snprintf(key, sizeof(key), "{%s:c0:%llu}:1.5eed.7", PREFIX, (unsigned long long)serial_there);
    assert_int_equal(
        redis_server_int(&cluster.node[owner], 2, (const char *const[]){"EXISTS", key}), 0);

    /* the slot moves to node 0 (with its replica): the stale map sends the
     * put to the old node, -MOVED, and node 0's WAIT decides */
    assert_int_equal(redis_cluster_migrate_begin(&cluster, pool_slot(serial_there),
                                                 (unsigned)owner, 0), 0);
    assert_int_equal(redis_cluster_migrate_finish(&cluster, pool_slot(serial_there),
                                                  (unsigned)owner, 0), 0);
    assert_int_equal(put(e.c[0], pool_there, 1, 1, 1), 0);
    assert_get_is(e.c[0], pool_there, 1, 1, 1);
    assert_true(conn_counter(&e, REMOTE_CONN_CLUSTER_MOVED) >= 1);
    snprintf(slot_text, sizeof(slot_text), "%u", pool_slot(serial_there));
    assert_true(redis_server_int(&cluster.node[0], 3,
                                 (const char *const[]){"CLUSTER", "COUNTKEYSINSLOT", slot_text}) >= 1);
    remote_tier_stats(e.rt, &rs);
    assert_int_equal(rs.c[REMOTE_TIER_REFUSED_UNSAFE], 1);
    remote_env_close(&e);
    /* give the slot back (later tests expect the first layout) */
    assert_int_equal(redis_cluster_migrate_begin(&cluster, pool_slot(serial_there), 0,
                                                 (unsigned)owner), 0);
    assert_int_equal(redis_cluster_migrate_finish(&cluster, pool_slot(serial_there), 0,
                                                  (unsigned)owner), 0);
}

/* One client's worker: random put/get/flush on its persistent pool,
 * against an exact model (a persistent page accepted is returned until
 * flushed or overwritten; a refused put leaves nothing). */
struct worker {
    struct remote_env *e;
    int client, pool;
    unsigned wrong, lost, ops;
    atomic_bool *stop;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t rng = 7 + (uint64_t)w->client, version[32] = {0};
    bool valid[32] = {false};
    unsigned char page[PAGE], want[PAGE];

    for (int step = 0; step < 1000000 && !atomic_load(w->stop); step++) {
        uint32_t h = (uint32_t)tu_rng_below(&rng, 32), r = (uint32_t)tu_rng_below(&rng, 10);
        struct tmem_oid o = remote_env_oid(1 + h / 8);
        uint64_t key = (uint64_t)w->client * 100000 + h;
        int rc;

        w->ops++;
        if (r < 4) {
            tu_fill_tagged(page, PAGE, key, ++version[h], TU_TAG_RANDOM);
            valid[h] = tmem_put(w->e->c[w->client], w->pool, &o, h % 8, page) == 0;
        } else if (r < 9) {
            rc = tmem_get(w->e->c[w->client], w->pool, &o, h % 8, page);
            tu_fill_tagged(want, PAGE, key, version[h], TU_TAG_RANDOM);
            if (rc == 0 && (!valid[h] || memcmp(page, want, PAGE) != 0))
                w->wrong++;
            if (rc != 0 && valid[h])
                w->lost++;
        } else {
            tmem_flush_page(w->e->c[w->client], w->pool, &o, h % 8);
            valid[h] = false;
        }
    }
    return NULL;
}

/* Two clients work on their pools from two threads while both pools'
 * slots are moved from node to node (-ASK during each migration, -MOVED
 * after): no get returns a wrong or stale page, and no accepted
 * persistent page is ever missed (a migration moves keys atomically, and
 * the tier follows every redirection). */
static void test_concurrent_while_slots_move(void **state)
{
    struct remote_tier_config cfg;
    struct tmem_config tc;
    struct remote_env e;
    struct worker w[2];
    pthread_t threads[2];
    atomic_bool stop = false;
    unsigned slot[2];
    int owner[2];

    (void)state;
    tier_config(&cfg, 0);
    memset(&e, 0, sizeof(e));
    tmem_config_init(&tc);
    tc.capacity_bytes = 8 * PAGE; /* some pages stay local, most go remote */
    tc.dedup = false;
    e.tm = tmem_create(&tc);
    assert_non_null(e.tm);
    e.rt = remote_tier_create(e.tm, &cfg);
    assert_non_null(e.rt);
    for (int i = 0; i < 2; i++) {
        e.c[i] = tmem_client_create(e.tm, i ? "guest-b" : "guest-a");
        assert_non_null(e.c[i]);
        assert_int_equal(remote_tier_attach(e.rt, e.c[i], TMEM_TIER_PERSISTENT |
                                                              TMEM_TIER_WRITE_THROUGH), 0);
        w[i] = (struct worker){.e = &e, .client = i, .stop = &stop};
        w[i].pool = tmem_new_pool(e.c[i], TMEM_POOL_PERSIST, NULL);
        assert_true(w[i].pool >= 0);
        {
            char tag[64];
            /* client i's pool: serial i + 1 (clients c0 and c1) */
            snprintf(tag, sizeof(tag), "{%s:c%d:%d}", PREFIX, i, i + 1);
            slot[i] = remote_key_slot(tag, strlen(tag));
        }
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &w[i]), 0);
    for (int round = 0; round < 6; round++)
        for (int i = 0; i < 2; i++) {
            owner[i] = redis_cluster_slot_owner(&cluster, 0, slot[i]);
            assert_true(owner[i] >= 0);
            int to = (owner[i] + 1) % REDIS_CLUSTER_NODES;

            assert_int_equal(redis_cluster_migrate_begin(&cluster, slot[i], (unsigned)owner[i],
                                                         (unsigned)to), 0);
            usleep(20000);
            assert_int_equal(redis_cluster_migrate_finish(&cluster, slot[i], (unsigned)owner[i],
                                                          (unsigned)to), 0);
            usleep(20000);
        }
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(w[i].wrong, 0);
        assert_int_equal(w[i].lost, 0);
        assert_true(w[i].ops > 100);
    }
    printf("slots moving: ops %u + %u, moved %llu, ask %llu, refreshes %llu\n", w[0].ops,
           w[1].ops, (unsigned long long)conn_counter(&e, REMOTE_CONN_CLUSTER_MOVED),
           (unsigned long long)conn_counter(&e, REMOTE_CONN_CLUSTER_ASK),
           (unsigned long long)conn_counter(&e, REMOTE_CONN_CLUSTER_REFRESHES));
    assert_true(conn_counter(&e, REMOTE_CONN_CLUSTER_MOVED) >= 1);
    assert_int_equal(conn_counter(&e, REMOTE_CONN_CLUSTER_REDIRECT_LOOPS), 0);
    remote_env_close(&e);
}

/* Failover: node 0 is killed; until its replica is promoted its pools'
 * puts are refused and gets miss, within the timeouts, and the tier goes
 * on (a get retrying across the promotion may instead return the right
 * page); once promoted, every persistent page accepted after WAIT (one
 * replica) is read back from the new master, and new pages land there.
 * (Last: it leaves node 0 dead.) */
static void test_failover_keeps_acknowledged_pages(void **state)
{
    struct remote_tier_config cfg;
    struct remote_env e;
    int pool = -1, accepted[16];
    unsigned char page[PAGE];
    struct tmem_oid o = remote_env_oid(1);

    (void)state;
    for (unsigned i = 0; i <= REDIS_CLUSTER_REPLICA; i++)
        assert_int_equal(redis_server_ok(&cluster.node[i], 4,
                                         (const char *const[]){"CONFIG", "SET",
                                                               "cluster-node-timeout", "1000"}),
                         0);
    tier_config(&cfg, 1);
    cfg.replicas = 1;
    cfg.wait_timeout_ms = 200;
    cfg.server.command_timeout_ms = 300;
    cfg.server.connect_timeout_ms = 200;
    cfg.server.backoff_max_ms = 50;
    remote_env_open(&e, 0, &cfg, TMEM_TIER_PERSISTENT, 1);
    for (uint64_t serial = 1; serial <= 16 && pool < 0; serial++) {
        int p = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);

        assert_true(p >= 0);
        if (redis_cluster_slot_owner(&cluster, 1, pool_slot(serial)) == 0)
            pool = p;
    }
    assert_true(pool >= 0);
    for (uint32_t index = 0; index < 16; index++) {
        accepted[index] = put(e.c[0], pool, 1, index, 1) == 0;
        assert_true(accepted[index]); /* node 0 has its replica */
    }
    redis_server_stop(&cluster.node[0], true);
    /* the node is gone: a put is refused; a get misses or, if the replica
     * was promoted while the get retried (persistent gets retry for up to
     * persistent_get_ms), returns the right page: never a wrong one */
    assert_int_not_equal(put(e.c[0], pool, 2, 0, 1), 0);
    {
        unsigned char want[PAGE];
        int rc = tmem_get(e.c[0], pool, &o, 0, page);

        tu_fill_tagged(want, PAGE, 1 * 1000 + 0, 1, TU_TAG_RANDOM);
        if (rc == 0)
            assert_memory_equal(page, want, PAGE);
        else
            assert_int_equal(rc, -ENOENT);
    }
    assert_int_equal(redis_cluster_wait_failover(&cluster), 0);
    for (uint32_t index = 0; index < 16; index++)
        assert_get_is(e.c[0], pool, 1, index, 1);
    assert_int_equal(redis_cluster_slot_owner(&cluster, 1, pool_slot(1)) >= 0, 1);
    /* the new master has no replica: a persistent put needing one is
     * refused now; the pages already there stay readable */
    assert_int_not_equal(put(e.c[0], pool, 3, 0, 1), 0);
    assert_get_is(e.c[0], pool, 1, 3, 1);
    assert_true(conn_counter(&e, REMOTE_CONN_CLUSTER_REFRESHES) >= 2);
    remote_env_close(&e);
}

static int cluster_up(void **state)
{
    (void)state;
    if (redis_cluster_start(&cluster) != 0) {
        fprintf(stderr, "test_remote_cluster: could not start a 3-node Redis Cluster\n");
        return -1;
    }
    return 0;
}

static int cluster_down(void **state)
{
    (void)state;
    redis_cluster_destroy(&cluster);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_slot_matches_the_specification),
        cmocka_unit_test(test_rules_over_the_cluster),
        cmocka_unit_test(test_slot_moves_under_the_tier),
        cmocka_unit_test(test_acl_on_every_node),
        cmocka_unit_test(test_wait_goes_where_the_write_went),
        cmocka_unit_test(test_concurrent_while_slots_move),
        cmocka_unit_test(test_failover_keeps_acknowledged_pages),
    };

    return cmocka_run_group_tests(tests, cluster_up, cluster_down);
}
