/*
 * test_remote_tier.c - the remote tier on Redis (src/remote/, issue #17;
 * docs/remote.md) against a private redis-server the test starts
 * (redis_fixture.h). Pages are forced remote with a store of capacity 0
 * (every local put is refused for lack of room) or a tiny one (pages are
 * evicted to the tier). Each test names the rule it checks; every store
 * is verified with tmem_check before it goes.
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
#include <time.h>
#include <unistd.h>

#include "core/tmem.h"
#include "remote/remote_tier.h"
#include "redis_fixture.h"
#include "remote_env.h"
#include "../support/testutil.h"

#define PAGE 4096u

static struct redis_server primary;

static void tier_config(struct remote_tier_config *cfg, const struct redis_server *s,
                        const struct redis_server *fallback)
{
    remote_tier_config_init(cfg);
    redis_server_endpoint(s, &cfg->server.endpoints[0]);
    cfg->server.endpoint_count = 1;
    if (fallback) {
        redis_server_endpoint(fallback, &cfg->server.endpoints[1]);
        cfg->server.endpoint_count = 2;
    }
    snprintf(cfg->server.password, sizeof(cfg->server.password), "%s", REDIS_FIXTURE_PASSWORD);
    cfg->server.command_timeout_ms = 300;
    cfg->server.connect_timeout_ms = 200;
    cfg->server.backoff_max_ms = 50;
}

static void fill(unsigned char *page, uint64_t key, uint64_t version)
{
    tu_fill_tagged(page, PAGE, key, version, TU_TAG_RANDOM);
}

/* get returns exactly (key, version) */
static void assert_get_is(struct tmem_client *c, int pool, uint64_t obj, uint32_t index,
                          uint64_t key, uint64_t version)
{
    unsigned char page[PAGE], want[PAGE];
    struct tmem_oid o = remote_env_oid(obj);

    fill(want, key, version);
    assert_int_equal(tmem_get(c, pool, &o, index, page), 0);
    assert_memory_equal(page, want, PAGE);
}

static void assert_get_misses(struct tmem_client *c, int pool, uint64_t obj, uint32_t index)
{
    unsigned char page[PAGE];
    struct tmem_oid o = remote_env_oid(obj);

    assert_int_equal(tmem_get(c, pool, &o, index, page), -ENOENT);
}

static int put(struct tmem_client *c, int pool, uint64_t obj, uint32_t index, uint64_t key,
               uint64_t version)
{
    unsigned char page[PAGE];
    struct tmem_oid o = remote_env_oid(obj);

    fill(page, key, version);
    return tmem_put(c, pool, &o, index, page);
}

/* Keys of the client's prefix on the server, counted with SCAN-free
 * EXISTS on the one object key given. */
static long long object_exists(struct remote_env *e, struct tmem_client *c, uint64_t serial,
                               uint64_t obj)
{
    char prefix[64], user[64], pass[64], key[200];
    struct tmem_oid o = remote_env_oid(obj);

    assert_int_equal(remote_tier_client_login(e->rt, c, prefix, sizeof(prefix), user,
                                              sizeof(user), pass, sizeof(pass)), 0);
    snprintf(key, sizeof(key), "{%s:%llu}:%llx.%llx.%llx", prefix, (unsigned long long)serial,
             (unsigned long long)o.oid[0], (unsigned long long)o.oid[1],
             (unsigned long long)o.oid[2]);
    return redis_server_int(&primary, 2, (const char *const[]){"EXISTS", key});
}

/* Rules put-get, put-put-get, get-get, flush_page, flush_object,
 * destroy_pool across the tiers, every page forced remote (capacity 0):
 * persistent (write-through) and ephemeral private pools. */
static void test_rules_with_pages_remote(void **state)
{
    struct remote_tier_config cfg;
    struct tmem_tier_stats ts;
    struct remote_env e;

    tier_config(&cfg, &primary, NULL);
    remote_env_open(&e, 0, &cfg, TMEM_TIER_EPHEMERAL | TMEM_TIER_PERSISTENT | TMEM_TIER_WRITE_THROUGH,
             1);
    for (int persistent = 0; persistent < 2; persistent++) {
        struct tmem_client *c = e.c[0];
        int pool = tmem_new_pool(c, persistent ? TMEM_POOL_PERSIST : 0, NULL);
        struct tmem_oid o = remote_env_oid(1);

        assert_true(pool >= 0);
        /* put-get: the local store refuses, the tier takes it */
        assert_int_equal(put(c, pool, 1, 0, 10, 1), 0);
        assert_get_is(c, pool, 1, 0, 10, 1);
        if (persistent)
            assert_get_is(c, pool, 1, 0, 10, 1); /* non-destructive */
        else
            assert_get_misses(c, pool, 1, 0);    /* private ephemeral: destructive */
        /* put-put-get: the second page wins */
        assert_int_equal(put(c, pool, 1, 1, 11, 1), 0);
        assert_int_equal(put(c, pool, 1, 1, 11, 2), 0);
        assert_get_is(c, pool, 1, 1, 11, 2);
        /* put-put-get with the second put refused (frozen): nothing comes back */
        assert_int_equal(put(c, pool, 1, 2, 12, 1), 0);
        tmem_client_set_frozen(c, true);
        assert_int_equal(put(c, pool, 1, 2, 12, 2), -ENOSPC);
        tmem_client_set_frozen(c, false);
        assert_get_misses(c, pool, 1, 2);
        /* get-get: stays a miss */
        assert_get_misses(c, pool, 1, 2);
        /* flush_page */
        assert_int_equal(put(c, pool, 1, 3, 13, 1), 0);
        assert_int_equal(tmem_flush_page(c, pool, &o, 3), 0);
        assert_get_misses(c, pool, 1, 3);
        assert_int_equal(tmem_flush_page(c, pool, &o, 3), -ENOENT);
        /* flush_object */
        assert_int_equal(put(c, pool, 2, 0, 20, 1), 0);
        assert_int_equal(put(c, pool, 2, 5, 25, 1), 0);
        o = remote_env_oid(2);
        assert_int_equal(tmem_flush_object(c, pool, &o), 0);
        assert_get_misses(c, pool, 2, 0);
        assert_get_misses(c, pool, 2, 5);
        /* destroy_pool: the pages go, on the server too; the id reused
         * by a new pool finds nothing */
        assert_int_equal(put(c, pool, 3, 0, 30, 1), 0);
        {
            struct tmem_pool_info info[4];
            uint64_t serial_guess;
            int n = tmem_client_pools(c, info, 4);

            assert_true(n >= 1);
            (void)serial_guess;
        }
        assert_int_equal(tmem_destroy_pool(c, pool), 0);
        assert_int_equal(tmem_new_pool(c, persistent ? TMEM_POOL_PERSIST : 0, NULL), pool);
        assert_get_misses(c, pool, 3, 0);
        assert_int_equal(tmem_destroy_pool(c, pool), 0);
        /* nothing stayed local: every page went through the tier */
        assert_int_equal(tmem_tier_stats(e.tm, persistent, &ts), 0);
        assert_true(ts.puts_accepted >= 7);
        assert_int_equal(ts.puts_refused, 0);
        assert_int_equal(ts.hits, persistent ? 3 : 2);
    }
    remote_env_close(&e);
}

/* put-put-get across the tiers: a page that went remote, then an
 * overwrite the local store takes: the remote copy goes with the
 * overwrite, so once the local page is gone (a destructive get) a get
 * misses instead of finding the older remote page. */
static void test_overwrite_removes_remote_copy(void **state)
{
    struct remote_tier_config cfg;
    struct remote_env e;
    int pool;

    tier_config(&cfg, &primary, NULL);
    remote_env_open(&e, 0, &cfg, TMEM_TIER_EPHEMERAL, 1);
    pool = tmem_new_pool(e.c[0], 0, NULL);
    assert_int_equal(put(e.c[0], pool, 4, 0, 40, 1), 0); /* remote */
    assert_int_equal(tmem_set_capacity(e.tm, TMEM_CAPACITY_UNLIMITED), 0);
    assert_int_equal(put(e.c[0], pool, 4, 0, 40, 2), 0); /* local */
    assert_get_is(e.c[0], pool, 4, 0, 40, 2);
    assert_get_misses(e.c[0], pool, 4, 0); /* not version 1 from the server */
    remote_env_close(&e);
}

/* destroy_pool removes the pool's keys from the server (not only makes
 * them unreachable). */
static void test_destroy_pool_deletes_keys(void **state)
{
    struct remote_tier_config cfg;
    struct remote_env e;
    int pool;

    tier_config(&cfg, &primary, NULL);
    remote_env_open(&e, 0, &cfg, TMEM_TIER_EPHEMERAL, 1);
    pool = tmem_new_pool(e.c[0], 0, NULL);
    assert_int_equal(put(e.c[0], pool, 9, 0, 90, 1), 0);
    /* the first pool of a fresh store has serial 1 */
    assert_int_equal(object_exists(&e, e.c[0], 1, 9), 1);
    assert_int_equal(tmem_destroy_pool(e.c[0], pool), 0);
    assert_int_equal(object_exists(&e, e.c[0], 1, 9), 0);
    remote_env_close(&e);
}

/* Capacity squeeze: a store with room for ~32 pages takes 400; the
 * evicted ephemeral pages go remote (writer thread) and gets bring them
 * back: never a wrong page, and most come back. Persistent pages the
 * store refuses go remote synchronously and all come back. */
static void test_capacity_squeeze(void **state)
{
    struct remote_tier_config cfg;
    struct remote_tier_stats rs;
    struct tmem_tier_stats ts;
    struct remote_env e;
    const int n = 400;
    int eph, pers, hits = 0;

    tier_config(&cfg, &primary, NULL);
    cfg.queue_pages = 1024;
    remote_env_open(&e, TMEM_CAPACITY_UNLIMITED, &cfg,
             TMEM_TIER_EPHEMERAL | TMEM_TIER_PERSISTENT | TMEM_TIER_WRITE_THROUGH, 1);
    eph = tmem_new_pool(e.c[0], 0, NULL);
    pers = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);
    /* room for about 32 pages beyond what the empty store holds (the
     * first pages also grow the record slab) */
    assert_int_equal(put(e.c[0], eph, 99, 0, 99, 1), 0);
    assert_int_equal(tmem_set_capacity(e.tm, tmem_budget_used(e.tm) + 32 * (PAGE + 64)), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(put(e.c[0], eph, 100 + i / 16, i % 16, 1000 + i, 1), 0);
    assert_int_equal(remote_tier_drain(e.rt, 5000), 0);
    for (int i = 0; i < n; i++) {
        unsigned char page[PAGE], want[PAGE];
        struct tmem_oid o = remote_env_oid(100 + i / 16);

        fill(want, 1000 + i, 1);
        if (tmem_get(e.c[0], eph, &o, i % 16, page) == 0) {
            assert_memory_equal(page, want, PAGE);
            hits++;
        }
    }
    assert_true(hits >= n * 9 / 10);
    assert_int_equal(tmem_tier_stats(e.tm, false, &ts), 0);
    fprintf(stderr, "squeeze: evictions %llu remote puts %llu hits %llu of %d\n",
            (unsigned long long)ts.evictions, (unsigned long long)ts.puts_accepted,
            (unsigned long long)ts.hits, n);
    assert_true(ts.evictions >= (uint64_t)n / 2);
    assert_true(ts.hits >= (uint64_t)n / 2);
    remote_tier_stats(e.rt, &rs);
    assert_true(rs.c[REMOTE_TIER_WRITTEN] >= (uint64_t)n / 2);
    /* persistent: the store is full of nothing evictable after the gets
     * took the ephemeral pages; fill it, then refusals go remote */
    for (int i = 0; i < n; i++)
        assert_int_equal(put(e.c[0], pers, 500 + i / 16, i % 16, 5000 + i, 1), 0);
    for (int i = 0; i < n; i++)
        assert_get_is(e.c[0], pers, 500 + i / 16, i % 16, 5000 + i, 1);
    assert_int_equal(tmem_tier_stats(e.tm, true, &ts), 0);
    assert_true(ts.puts_accepted > 0);
    remote_env_close(&e);
}

/* Persistence rule: without a replica a persistent put the guest does not
 * also keep (not write-through) is refused and leaves nothing on the
 * server; write-through it is accepted. */
static void test_persistent_needs_replica_or_write_through(void **state)
{
    struct remote_tier_config cfg;
    struct remote_tier_stats rs;
    struct remote_env e;
    int pool;

    tier_config(&cfg, &primary, NULL);
    cfg.replicas = 0;
    remote_env_open(&e, 0, &cfg, TMEM_TIER_PERSISTENT, 1);
    pool = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);
    assert_int_equal(put(e.c[0], pool, 1, 0, 1, 1), -ENOSPC);
    assert_get_misses(e.c[0], pool, 1, 0);
    remote_tier_stats(e.rt, &rs);
    assert_int_equal(rs.c[REMOTE_TIER_REFUSED_UNSAFE], 1);
    remote_env_close(&e);

    /* replicas = 1 but none is there: WAIT times out, put refused, the
     * copy deleted */
    cfg.replicas = 1;
    cfg.wait_timeout_ms = 50;
    remote_env_open(&e, 0, &cfg, TMEM_TIER_PERSISTENT, 1);
    pool = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);
    assert_int_equal(put(e.c[0], pool, 1, 0, 1, 1), -ENOSPC);
    assert_int_equal(object_exists(&e, e.c[0], 1, 1), 0);
    remote_tier_stats(e.rt, &rs);
    assert_int_equal(rs.c[REMOTE_TIER_REFUSED_UNSAFE], 1);
    remote_env_close(&e);

    cfg.replicas = 0;
    remote_env_open(&e, 0, &cfg, TMEM_TIER_PERSISTENT | TMEM_TIER_WRITE_THROUGH, 1);
    pool = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);
    assert_int_equal(put(e.c[0], pool, 1, 0, 1, 1), 0);
    assert_get_is(e.c[0], pool, 1, 0, 1, 1);
    remote_env_close(&e);
}

/* With a replica: accepted after WAIT; then the primary is killed and
 * the replica promoted (as an operator or Sentinel would): every accepted
 * persistent page is still returned, none wrong. */
static void test_persistent_survives_primary_loss_with_replica(void **state)
{
    struct redis_server main_server, replica;
    struct remote_tier_config cfg;
    struct remote_tier_stats rs;
    struct remote_env e;
    int pool, accepted = 0;
    bool ok[64];

    assert_int_equal(redis_server_start(&main_server, NULL), 0);
    assert_int_equal(redis_server_start(&replica, &main_server), 0);
    tier_config(&cfg, &main_server, &replica);
    cfg.replicas = 1;
    cfg.wait_timeout_ms = 1000;
    remote_env_open(&e, 0, &cfg, TMEM_TIER_PERSISTENT, 1);
    pool = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);
    for (int i = 0; i < 64; i++) {
        ok[i] = put(e.c[0], pool, 1, (uint32_t)i, 7, (uint64_t)i) == 0;
        accepted += ok[i];
    }
    /* WAIT may time out on a loaded machine: those puts are refused,
     * which is allowed; most are accepted */
    assert_true(accepted >= 32);
    redis_server_stop(&main_server, true);
    assert_int_equal(redis_server_ok(&replica, 3, (const char *const[]){"REPLICAOF", "NO", "ONE"}),
                     0);
    for (int i = 0; i < 64; i++) {
        unsigned char page[PAGE], want[PAGE];
        struct tmem_oid o = remote_env_oid(1);
        int rc = -ENOENT;

        if (!ok[i]) { /* refused: never returned */
            assert_int_equal(tmem_get(e.c[0], pool, &o, (uint32_t)i, page), -ENOENT);
            continue;
        }
        /* the first get after the kill may find the connection broken */
        for (int t = 0; t < 20 && rc != 0; t++) {
            rc = tmem_get(e.c[0], pool, &o, (uint32_t)i, page);
            if (rc)
                usleep(20000);
        }
        fill(want, 7, (uint64_t)i);
        assert_int_equal(rc, 0);
        assert_memory_equal(page, want, PAGE);
    }
    remote_tier_stats(e.rt, &rs);
    assert_true(rs.conn.c[REMOTE_CONN_CONNECTS] >= 2); /* it reconnected */
    remote_env_close(&e);
    redis_server_destroy(&replica);
    redis_server_destroy(&main_server);
}

/* Private pools are private at the store: each client logs in as its own
 * ACL user limited to its prefix; another client's credentials get
 * NOPERM on its keys. */
static void test_acl_isolation(void **state)
{
    struct remote_tier_config cfg;
    struct remote_env e;
    char prefix[2][64], user[2][64], pass[2][64], key[200];
    struct timeval tv = {1, 0};
    redisReply *users;
    int pool;

    tier_config(&cfg, &primary, NULL);
    cfg.client_acls = true;
    remote_env_open(&e, 0, &cfg, TMEM_TIER_EPHEMERAL, 2);
    pool = tmem_new_pool(e.c[0], 0, NULL);
    assert_int_equal(tmem_new_pool(e.c[1], 0, NULL), pool);
    assert_int_equal(put(e.c[0], pool, 1, 0, 1, 1), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(remote_tier_client_login(e.rt, e.c[i], prefix[i], 64, user[i], 64,
                                                  pass[i], 64), 0);
    assert_string_not_equal(user[0], user[1]);
    /* b's tier does not see a's page (other keys) */
    assert_get_misses(e.c[1], pool, 1, 0);
    snprintf(key, sizeof(key), "{%s:1}:1.5eed.7", prefix[0]);
    for (int who = 0; who < 2; who++) {
        redisContext *rc = redisConnectUnixWithTimeout(primary.socket, tv);
        redisReply *r;

        assert_non_null(rc);
        assert_int_equal(rc->err, 0);
        r = redisCommand(rc, "AUTH %s %s", user[who], pass[who]);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_STATUS);
        freeReplyObject(r);
        r = redisCommand(rc, "HGET %s 0", key);
        assert_non_null(r);
        if (who == 0) {
            assert_int_equal(r->type, REDIS_REPLY_STRING); /* its own page */
            assert_int_equal(r->len, PAGE);
        } else {
            assert_int_equal(r->type, REDIS_REPLY_ERROR);
            assert_non_null(strstr(r->str, "NOPERM"));
        }
        freeReplyObject(r);
        /* and no listing of other clients' keys either */
        r = redisCommand(rc, "KEYS *");
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_ERROR);
        freeReplyObject(r);
        redisFree(rc);
    }
    remote_env_close(&e);
    /* the tier deletes its clients' users when it goes: only the
     * server's own user is left (no user piles up run after run) */
    users = redis_server_reply(&primary, 2, (const char *const[]){"ACL", "USERS"});
    assert_non_null(users);
    assert_int_equal(users->type, REDIS_REPLY_ARRAY);
    assert_int_equal(users->elements, 1);
    assert_string_equal(users->element[0]->str, "default");
    freeReplyObject(users);
}

/* Failures: the server paused (SIGSTOP: slow), killed, restarted empty.
 * Puts are refused within a bound, gets miss, the caller goes on; no
 * wrong page is ever returned, the write-through guest loses nothing (it
 * keeps its copy: a miss reads the copy), counters move. */
static void test_server_failures(void **state)
{
    struct redis_server s;
    struct remote_tier_config cfg;
    struct remote_tier_stats rs;
    struct remote_env e;
    int eph, pers, wrong = 0, misses = 0;
    struct timespec t0, t1;
    double ms;

    assert_int_equal(redis_server_start(&s, NULL), 0);
    tier_config(&cfg, &s, NULL);
    remote_env_open(&e, 0, &cfg, TMEM_TIER_EPHEMERAL | TMEM_TIER_PERSISTENT | TMEM_TIER_WRITE_THROUGH,
             1);
    eph = tmem_new_pool(e.c[0], 0, NULL);
    pers = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);
    for (int i = 0; i < 32; i++) {
        assert_int_equal(put(e.c[0], pers, 1, (uint32_t)i, 1, (uint64_t)i), 0);
        assert_int_equal(put(e.c[0], eph, 2, (uint32_t)i, 2, (uint64_t)i), 0);
    }
    /* slow: a paused server; a put comes back refused within the bound */
    redis_server_pause(&s, true);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(put(e.c[0], eph, 3, 0, 3, 0), -ENOSPC);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 2000); /* timeout 300 ms, plus the delete it queues */
    assert_get_misses(e.c[0], pers, 1, 0);
    redis_server_pause(&s, false);
    remote_tier_stats(e.rt, &rs);
    assert_true(rs.conn.c[REMOTE_CONN_TIMEOUTS] >= 1);
    /* killed: puts refused, gets miss, nothing blocks */
    redis_server_stop(&s, true);
    assert_int_equal(put(e.c[0], pers, 1, 0, 1, 100), -ENOSPC); /* guest keeps v100 */
    assert_get_misses(e.c[0], pers, 1, 0);
    /* restarted empty: what is left is either right or a miss */
    assert_int_equal(redis_server_restart(&s), 0);
    usleep(100000);
    assert_int_equal(remote_tier_drain(e.rt, 3000), 0);
    for (int i = 0; i < 32; i++) {
        unsigned char page[PAGE], want[PAGE];
        struct tmem_oid o = remote_env_oid(1);
        uint64_t version = i == 0 ? 100 : (uint64_t)i;

        fill(want, 1, version);
        /* a miss is allowed here: the pages were write-through, so the
         * guest reads its own copy (its swap device); a hit must be right
         * (page 0 is v100: the put refused while the server was down
         * removed the older remote copy, so v0 may never come back) */
        if (tmem_get(e.c[0], pers, &o, (uint32_t)i, page) == 0)
            wrong += memcmp(page, want, PAGE) != 0;
        else
            misses++;
    }
    assert_int_equal(wrong, 0);
    assert_int_equal(misses, 32); /* restarted empty: nothing of before is left */
    /* the tier works again */
    assert_int_equal(put(e.c[0], pers, 9, 0, 9, 1), 0);
    assert_get_is(e.c[0], pers, 9, 0, 9, 1);
    remote_tier_stats(e.rt, &rs);
    assert_true(rs.conn.c[REMOTE_CONN_CONNECT_ERRORS] + rs.conn.c[REMOTE_CONN_IO_ERRORS] +
                    rs.conn.c[REMOTE_CONN_UNAVAILABLE] >= 1);
    remote_env_close(&e);
    redis_server_destroy(&s);
}

/* flush while the server does not answer: the deletion cannot be sent,
 * so the tier remembers it (a tombstone the writer retries) and a get
 * misses until then, even once the server answers again with the old
 * page still in it: never stale. */
static void test_flush_while_unreachable_never_stale(void **state)
{
    struct remote_tier_config cfg;
    struct remote_tier_stats rs;
    struct redis_server s;
    struct tmem_oid o = remote_env_oid(6);
    struct remote_env e;
    int pool;

    assert_int_equal(redis_server_start(&s, NULL), 0);
    tier_config(&cfg, &s, NULL);
    cfg.retry_ms = 3000; /* the writer waits: the get below runs first */
    remote_env_open(&e, 0, &cfg, TMEM_TIER_PERSISTENT | TMEM_TIER_WRITE_THROUGH, 1);
    pool = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);
    assert_int_equal(put(e.c[0], pool, 6, 0, 60, 1), 0);
    redis_server_pause(&s, true);
    tmem_flush_page(e.c[0], pool, &o, 0); /* times out: a tombstone */
    usleep(800 * 1000);                   /* the writer failed once, sleeps */
    redis_server_pause(&s, false);
    /* the HDEL sent before the timeout may still have reached the server
     * (its socket buffer): put the old page back, as if it had been lost
     * on the way (the case the tombstone is for) */
    {
        unsigned char old_page[PAGE];
        char prefix[64], user[64], pass[64], key[200];
        redisContext *rc;
        redisReply *r;
        struct timeval tv = {1, 0};

        fill(old_page, 60, 1);
        assert_int_equal(remote_tier_client_login(e.rt, e.c[0], prefix, sizeof(prefix), user,
                                                  sizeof(user), pass, sizeof(pass)), 0);
        snprintf(key, sizeof(key), "{%s:1}:6.5eed.7", prefix);
        rc = redisConnectUnixWithTimeout(s.socket, tv);
        assert_non_null(rc);
        r = redisCommand(rc, "AUTH %s", REDIS_FIXTURE_PASSWORD);
        freeReplyObject(r);
        r = redisCommand(rc, "HSET %s 0 %b", key, old_page, (size_t)PAGE);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        freeReplyObject(r);
        redisFree(rc);
    }
    assert_get_misses(e.c[0], pool, 6, 0);
    remote_tier_stats(e.rt, &rs);
    assert_true(rs.c[REMOTE_TIER_TOMBSTONES] >= 1);
    assert_int_equal(remote_tier_drain(e.rt, 5000), 0); /* then it is sent */
    assert_get_misses(e.c[0], pool, 6, 0);
    remote_env_close(&e);
    redis_server_destroy(&s);
}

/* Never stale under concurrency: threads, each owning its handles, put,
 * get and flush at random in a tiny store (pages evicted to the writer
 * thread's queue and written meanwhile); a get returns the latest put of
 * the handle or misses (ephemeral), never an older page. */
struct worker {
    struct remote_env *e;
    int pool;
    int id;
    int wrong;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t rng = 42 + (uint64_t)w->id, version[16] = {0};
    bool valid[16] = {false};
    unsigned char page[PAGE], want[PAGE];
    struct tmem_oid o = remote_env_oid(1000 + (uint64_t)w->id);

    for (int step = 0; step < 1500; step++) {
        uint32_t h = (uint32_t)tu_rng_below(&rng, 16);
        uint64_t r = tu_rng_below(&rng, 10), key = (uint64_t)w->id * 100 + h;

        if (r < 5) {
            fill(page, key, ++version[h]);
            valid[h] = tmem_put(w->e->c[0], w->pool, &o, h, page) == 0;
        } else if (r < 9) {
            if (tmem_get(w->e->c[0], w->pool, &o, h, page) == 0) {
                fill(want, key, version[h]);
                if (!valid[h] || memcmp(page, want, PAGE) != 0)
                    w->wrong++;
            }
            valid[h] = false; /* private ephemeral gets are destructive */
        } else {
            tmem_flush_page(w->e->c[0], w->pool, &o, h);
            valid[h] = false;
        }
    }
    return NULL;
}

static void test_concurrent_never_stale(void **state)
{
    struct remote_tier_config cfg;
    struct remote_env e;
    struct tmem_tier_stats ts;
    struct worker w[4];
    pthread_t t[4];
    int pool;

    tier_config(&cfg, &primary, NULL);
    cfg.queue_pages = 16;
    remote_env_open(&e, TMEM_CAPACITY_UNLIMITED, &cfg, TMEM_TIER_EPHEMERAL, 1);
    pool = tmem_new_pool(e.c[0], 0, NULL);
    assert_int_equal(put(e.c[0], pool, 99, 0, 99, 1), 0);
    assert_int_equal(tmem_set_capacity(e.tm, tmem_budget_used(e.tm) + 8 * (PAGE + 64)), 0);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){&e, pool, i, 0};
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].wrong, 0);
    }
    /* the tier was really in play: pages went remote and came back */
    assert_int_equal(tmem_tier_stats(e.tm, false, &ts), 0);
    assert_true(ts.evictions > 0);
    assert_true(ts.hits > 0);
    remote_env_close(&e);
}

/* Pipelines the tier's connections completed so far. */
static uint64_t commands_sent(struct remote_env *e)
{
    struct remote_tier_stats st;

    remote_tier_stats(e->rt, &st);
    return st.conn.c[REMOTE_CONN_COMMANDS];
}

/* Put cost (presence filter): once a client has had a page remote, a
 * locally accepted put, a flush or a get miss of a handle that never went
 * remote makes no round trip; the handle that did go remote still has
 * its copy removed by an overwrite (put-put-get). */
static void test_never_remote_handle_costs_no_command(void **state)
{
    struct remote_tier_config cfg;
    struct remote_env e;
    uint64_t before;
    int pool;

    tier_config(&cfg, &primary, NULL);
    remote_env_open(&e, 0, &cfg, TMEM_TIER_EPHEMERAL, 1);
    pool = tmem_new_pool(e.c[0], 0, NULL);
    assert_int_equal(put(e.c[0], pool, 5, 0, 50, 1), 0); /* remote */
    assert_int_equal(tmem_set_capacity(e.tm, TMEM_CAPACITY_UNLIMITED), 0);
    before = commands_sent(&e);
    for (uint32_t i = 1; i <= 20; i++)
        assert_int_equal(put(e.c[0], pool, 5, i, 50 + i, 1), 0); /* local, never remote */
    assert_int_equal(put(e.c[0], pool, 6, 0, 60, 1), 0);
    assert_get_misses(e.c[0], pool, 7, 0);
    {
        struct tmem_oid o = remote_env_oid(6);
        assert_int_equal(tmem_flush_page(e.c[0], pool, &o, 0), 0);
    }
    assert_int_equal(commands_sent(&e), before);
    /* the remote handle: its overwrite removes the copy (one HDEL) */
    assert_int_equal(put(e.c[0], pool, 5, 0, 50, 2), 0);
    assert_int_equal(commands_sent(&e), before + 1);
    assert_get_is(e.c[0], pool, 5, 0, 50, 2);
    assert_int_equal(tmem_set_capacity(e.tm, 0), 0); /* evict everything local */
    assert_get_misses(e.c[0], pool, 5, 0);            /* never version 1 */
    remote_env_close(&e);
}

/* Capacity: the tier's own budget and a client's (remote_cap) refuse
 * puts beyond them (counted); pages held remotely is a gauge that falls
 * when pages leave (flush, destructive get), so room comes back. */
static void test_remote_capacity_and_held_gauge(void **state)
{
    struct remote_tier_config cfg;
    struct remote_tier_stats st;
    struct remote_tier_client_stats *cs = malloc(sizeof(*cs));
    struct remote_env e;
    int pool_a, pool_b;

    assert_non_null(cs);
    tier_config(&cfg, &primary, NULL);
    cfg.capacity_bytes = 6 * PAGE;
    remote_env_open(&e, 0, &cfg, TMEM_TIER_EPHEMERAL | TMEM_TIER_PERSISTENT | TMEM_TIER_WRITE_THROUGH,
             2);
    assert_int_equal(remote_tier_client_set_capacity(e.rt, e.c[1], 2 * PAGE), 0);
    pool_a = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);
    pool_b = tmem_new_pool(e.c[1], TMEM_POOL_PERSIST, NULL);
    /* client b: 2 pages, then refused */
    assert_int_equal(put(e.c[1], pool_b, 1, 0, 10, 1), 0);
    assert_int_equal(put(e.c[1], pool_b, 1, 1, 11, 1), 0);
    assert_int_not_equal(put(e.c[1], pool_b, 1, 2, 12, 1), 0);
    assert_int_equal(put(e.c[1], pool_b, 1, 1, 11, 2), 0); /* an overwrite needs no room */
    /* client a: the tier's 6 minus b's 2 */
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(put(e.c[0], pool_a, 2, i, 20 + i, 1), 0);
    assert_int_not_equal(put(e.c[0], pool_a, 2, 4, 24, 1), 0);
    remote_tier_stats(e.rt, &st);
    assert_int_equal(st.held_pages, 6);
    assert_int_equal(st.c[REMOTE_TIER_REFUSED_CAPACITY], 2);
    assert_int_equal(remote_tier_client_stats(e.rt, e.c[1], cs), 0);
    assert_int_equal(cs->held_pages, 2);
    assert_int_equal(cs->refused_capacity, 1);
    assert_true(cs->latency[REMOTE_OP_PUT].count >= 3);
    /* a flush gives room back */
    {
        struct tmem_oid o = remote_env_oid(2);
        assert_int_equal(tmem_flush_page(e.c[0], pool_a, &o, 0), 0);
    }
    remote_tier_stats(e.rt, &st);
    assert_int_equal(st.held_pages, 5);
    assert_int_equal(put(e.c[0], pool_a, 2, 4, 24, 1), 0);
    assert_get_is(e.c[0], pool_a, 2, 4, 24, 1);
    assert_get_is(e.c[1], pool_b, 1, 1, 11, 2);
    assert_get_misses(e.c[1], pool_b, 1, 2);
    /* destroying a pool empties its share */
    assert_int_equal(tmem_destroy_pool(e.c[1], pool_b), 0);
    remote_tier_stats(e.rt, &st);
    assert_int_equal(st.held_pages, 4);
    free(cs);
    remote_env_close(&e);
}

/* Latency charged: the core times each tmem call whole, tier call
 * included, so a client's measured put and get time (what the testbed
 * charges to a swap guest's simulated time) holds every remote round
 * trip made inside those calls. */
static void test_remote_latency_inside_tmem_time(void **state)
{
    struct remote_tier_config cfg;
    struct remote_tier_client_stats *cs = malloc(sizeof(*cs));
    struct histogram *h = malloc(sizeof(*h));
    struct tmem_config tc;
    struct remote_env e;
    int pool;

    assert_non_null(cs);
    assert_non_null(h);
    tier_config(&cfg, &primary, NULL);
    memset(&e, 0, sizeof(e));
    tmem_config_init(&tc);
    tc.capacity_bytes = 0; /* every page remote */
    tc.latency_histograms = true;
    e.tm = tmem_create(&tc);
    assert_non_null(e.tm);
    e.rt = remote_tier_create(e.tm, &cfg);
    assert_non_null(e.rt);
    e.c[0] = tmem_client_create(e.tm, "timed");
    assert_non_null(e.c[0]);
    assert_int_equal(remote_tier_attach(e.rt, e.c[0], TMEM_TIER_EPHEMERAL), 0);
    pool = tmem_new_pool(e.c[0], 0, NULL);
    for (uint32_t i = 0; i < 50; i++)
        assert_int_equal(put(e.c[0], pool, 3, i, 30 + i, 1), 0);
    for (uint32_t i = 0; i < 50; i++)
        assert_get_is(e.c[0], pool, 3, i, 30 + i, 1);
    assert_int_equal(remote_tier_client_stats(e.rt, e.c[0], cs), 0);
    assert_int_equal(cs->latency[REMOTE_OP_PUT].count, 50);
    assert_int_equal(cs->latency[REMOTE_OP_GET].count, 50);
    histogram_init(h);
    assert_int_equal(tmem_client_latency(e.c[0], TMEM_OP_PUT, false, h), 0);
    assert_true(atomic_load(&h->sum) >= atomic_load(&cs->latency[REMOTE_OP_PUT].sum));
    assert_true(atomic_load(&cs->latency[REMOTE_OP_PUT].sum) > 0);
    histogram_init(h);
    assert_int_equal(tmem_client_latency(e.c[0], TMEM_OP_GET, false, h), 0);
    assert_true(atomic_load(&h->sum) >= atomic_load(&cs->latency[REMOTE_OP_GET].sum));
    free(cs);
    free(h);
    remote_env_close(&e);
}

static int group_setup(void **state)
{
    return redis_server_start(&primary, NULL);
}

static int group_teardown(void **state)
{
    redis_server_destroy(&primary);
    return 0;
}

/* The connection dropped mid-page, again and again (CLIENT KILL from
 * another connection every millisecond, while a guest puts, gets and
 * flushes persistent pages held remotely, safe on a replica): a put
 * either is accepted or refused; an accepted page is never lost (a get
 * whose connection dropped tries again, remote_persistent_get_retries,
 * instead of reporting a miss) and never wrong; a refused or flushed page
 * never comes back; an exclusive get takes the page exactly once. */
struct killer {
    const struct redis_server *server;
    atomic_bool stop;
    int kills;
};

static void *killer_main(void *arg)
{
    struct killer *k = arg;

    while (!atomic_load(&k->stop)) {
        /* every normal client but the asking one: the tier's connections */
        if (redis_server_int(k->server, 4,
                             (const char *const[]){"CLIENT", "KILL", "TYPE", "normal"}) > 0)
            k->kills++;
        usleep(1000);
    }
    return NULL;
}

static void test_connection_drops_never_lose_a_persistent_page(void **state)
{
    struct redis_server replica;
    struct remote_tier_config cfg;
    struct remote_tier_stats rs;
    struct remote_env e;
    struct killer k = {.server = &primary};
    pthread_t t;
    uint64_t rng = 42, version[2][32] = {{0}};
    bool valid[2][32] = {{false}};
    int pool[2], wrong = 0, lost = 0, hits = 0;

    (void)state;
    assert_int_equal(redis_server_start(&replica, &primary), 0);
    tier_config(&cfg, &primary, NULL);
    cfg.replicas = 1;
    cfg.wait_timeout_ms = 1000;
    remote_env_open(&e, 0, &cfg, TMEM_TIER_PERSISTENT, 1);
    pool[0] = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);
    pool[1] = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST | TMEM_POOL_EXCLUSIVE_GETS, NULL);
    assert_true(pool[0] >= 0 && pool[1] >= 0);
    atomic_init(&k.stop, false);
    assert_int_equal(pthread_create(&t, NULL, killer_main, &k), 0);
    /* 3000 steps, and on until the gets have hit 101 times (while the
     * killer is busy most puts may be refused), up to 30000 */
    for (int step = 0; step < 30000 && (step < 3000 || hits <= 100); step++) {
        int p = (int)tu_rng_below(&rng, 2);
        uint32_t i = (uint32_t)tu_rng_below(&rng, 32);
        uint64_t r = tu_rng_below(&rng, 10);
        unsigned char page[PAGE], want[PAGE];
        struct tmem_oid o = remote_env_oid(5);

        if (r < 4) {
            valid[p][i] = put(e.c[0], pool[p], 5, i, 50 + (uint64_t)p, ++version[p][i]) == 0;
        } else if (r < 9) {
            int rc = tmem_get(e.c[0], pool[p], &o, i, page);

            fill(want, 50 + (uint64_t)p, version[p][i]);
            if (rc == 0) {
                hits++;
                wrong += !valid[p][i] || memcmp(page, want, PAGE) != 0;
                if (p == 1)
                    valid[p][i] = false; /* taken */
            } else {
                lost += valid[p][i];
                valid[p][i] = false;
            }
        } else {
            (void)tmem_flush_page(e.c[0], pool[p], &o, i);
            valid[p][i] = false;
        }
    }
    atomic_store(&k.stop, true);
    pthread_join(t, NULL);
    remote_tier_stats(e.rt, &rs);
    assert_int_equal(wrong, 0);
    assert_int_equal(lost, 0);
    assert_true(hits > 100);
    assert_true(k.kills > 10);
    /* the drops hit the gets too, which tried again rather than miss */
    assert_true(rs.c[REMOTE_TIER_PERSISTENT_GET_RETRIES] > 0);
    assert_int_equal(rs.c[REMOTE_TIER_PERSISTENT_GET_FAILURES], 0);
    remote_env_close(&e);
    redis_server_destroy(&replica);
}

/* Destructive gets take the page (exclusive gets; get-get): when the
 * server returns the page but refuses its HDEL (here -READONLY: the
 * connection failed over to a replica not yet promoted), the deletion
 * is remembered as a tombstone like any deletion that could not be
 * done, so once the replica is promoted a second get misses rather than
 * return the taken page again; ephemeral and exclusive persistent. */
static void test_exclusive_get_refused_delete_is_remembered(void **state)
{
    struct redis_server main_server, replica;
    struct remote_tier_config cfg;
    struct remote_tier_stats rs;
    struct remote_env e;
    int eph, pers;

    (void)state;
    assert_int_equal(redis_server_start(&main_server, NULL), 0);
    assert_int_equal(redis_server_start(&replica, &main_server), 0);
    tier_config(&cfg, &main_server, &replica);
    cfg.replicas = 1;
    cfg.wait_timeout_ms = 1000;
    remote_env_open(&e, 0, &cfg, TMEM_TIER_EPHEMERAL | TMEM_TIER_PERSISTENT, 1);
    eph = tmem_new_pool(e.c[0], 0, NULL);
    pers = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST | TMEM_POOL_EXCLUSIVE_GETS, NULL);
    assert_int_equal(put(e.c[0], eph, 1, 0, 70, 1), 0);
    for (int tries = 0; put(e.c[0], pers, 1, 0, 71, 1) != 0; tries++)
        assert_true(tries < 20); /* WAIT's timeout on a loaded machine: refused, again */
    /* both pages (an object key and a set per pool) reached the replica */
    for (int t = 0; t < 200 && redis_server_int(&replica, 1, (const char *const[]){"DBSIZE"}) != 4;
         t++)
        usleep(10000);
    assert_int_equal(redis_server_int(&replica, 1, (const char *const[]){"DBSIZE"}), 4);
    redis_server_stop(&main_server, true);
    /* a put whose HSET meets the dead connection: refused; its clean-up
     * reconnects, to the replica (which refuses the HDEL: a tombstone) */
    assert_int_equal(put(e.c[0], eph, 2, 0, 72, 1), -ENOSPC);
    /* the replica serves the pages; it refuses their HDEL (-READONLY) */
    assert_get_is(e.c[0], eph, 1, 0, 70, 1);
    assert_get_is(e.c[0], pers, 1, 0, 71, 1);
    assert_int_equal(redis_server_ok(&replica, 3, (const char *const[]){"REPLICAOF", "NO", "ONE"}),
                     0);
    /* taken: never returned twice */
    assert_get_misses(e.c[0], eph, 1, 0);
    assert_get_misses(e.c[0], pers, 1, 0);
    assert_int_equal(remote_tier_drain(e.rt, 5000), 0); /* the deletions went */
    assert_get_misses(e.c[0], eph, 1, 0);
    assert_get_misses(e.c[0], pers, 1, 0);
    assert_int_equal(redis_server_int(&replica, 1, (const char *const[]){"DBSIZE"}), 2);
    remote_tier_stats(e.rt, &rs);
    assert_true(rs.c[REMOTE_TIER_TOMBSTONES] >= 3);
    remote_env_close(&e);
    redis_server_destroy(&replica);
    redis_server_destroy(&main_server);
}

/* A persistent page held remotely is not a miss because its server
 * answered "not now": the connection failed over to a replica that does
 * not serve while its master is away (replica-serve-stale-data no:
 * -MASTERDOWN; a loading server's -LOADING and a cluster's -CLUSTERDOWN
 * are alike). The get tries HGET again, as after a dropped connection,
 * for up to persistent_get_ms, and gets the page once an operator
 * promoted the replica (here 300 ms later). */
struct promoter {
    struct redis_server *replica;
    int ok;
};

static void *promoter_main(void *arg)
{
    struct promoter *p = arg;

    usleep(300 * 1000);
    p->ok = redis_server_ok(p->replica, 3, (const char *const[]){"REPLICAOF", "NO", "ONE"});
    return NULL;
}

static void test_persistent_get_waits_through_error_replies(void **state)
{
    struct redis_server main_server, replica;
    struct remote_tier_config cfg;
    struct remote_tier_stats rs;
    struct remote_env e;
    struct promoter p = {.replica = &replica, .ok = -1};
    pthread_t t;
    int pool;

    (void)state;
    assert_int_equal(redis_server_start(&main_server, NULL), 0);
    assert_int_equal(redis_server_start(&replica, &main_server), 0);
    assert_int_equal(redis_server_ok(&replica, 4,
                                     (const char *const[]){"CONFIG", "SET",
                                                           "replica-serve-stale-data", "no"}),
                     0);
    tier_config(&cfg, &main_server, &replica);
    cfg.replicas = 1;
    cfg.wait_timeout_ms = 1000;
    remote_env_open(&e, 0, &cfg, TMEM_TIER_PERSISTENT, 1);
    pool = tmem_new_pool(e.c[0], TMEM_POOL_PERSIST, NULL);
    /* on the replica too (WAIT); a loaded machine may miss WAIT's
     * timeout, which refuses the put (allowed): try again */
    for (int tries = 0; put(e.c[0], pool, 1, 0, 80, 1) != 0; tries++)
        assert_true(tries < 20);
    redis_server_stop(&main_server, true);
    assert_int_equal(pthread_create(&t, NULL, promoter_main, &p), 0);
    assert_get_is(e.c[0], pool, 1, 0, 80, 1);
    pthread_join(t, NULL);
    assert_int_equal(p.ok, 0);
    remote_tier_stats(e.rt, &rs);
    assert_true(rs.c[REMOTE_TIER_PERSISTENT_GET_RETRIES] >= 1);
    assert_int_equal(rs.c[REMOTE_TIER_PERSISTENT_GET_FAILURES], 0);
    remote_env_close(&e);
    redis_server_destroy(&replica);
    redis_server_destroy(&main_server);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_with_pages_remote),
        cmocka_unit_test(test_overwrite_removes_remote_copy),
        cmocka_unit_test(test_destroy_pool_deletes_keys),
        cmocka_unit_test(test_capacity_squeeze),
        cmocka_unit_test(test_persistent_needs_replica_or_write_through),
        cmocka_unit_test(test_persistent_survives_primary_loss_with_replica),
        cmocka_unit_test(test_acl_isolation),
        cmocka_unit_test(test_server_failures),
        cmocka_unit_test(test_flush_while_unreachable_never_stale),
        cmocka_unit_test(test_concurrent_never_stale),
        cmocka_unit_test(test_never_remote_handle_costs_no_command),
        cmocka_unit_test(test_remote_capacity_and_held_gauge),
        cmocka_unit_test(test_remote_latency_inside_tmem_time),
        cmocka_unit_test(test_connection_drops_never_lose_a_persistent_page),
        cmocka_unit_test(test_exclusive_get_refused_delete_is_remembered),
        cmocka_unit_test(test_persistent_get_waits_through_error_replies),
    };
    if (getenv("TEST_FILTER")) /* run only the tests whose names match */
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
