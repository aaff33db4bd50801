/*
 * remote_bench.c - `make bench` for the remote tier: put and get latency
 * and throughput of 4 KiB pages through the tier to a private local
 * redis-server (Unix socket; started and stopped here, redis_fixture.c),
 * next to the same calls on the local core alone. One line each:
 *   remote-bench: local  put  p50 .. p99 .. us  N pages/s | get ...
 *   remote-bench: remote put  ...
 * Pages are forced remote with a store of capacity 0 (every local put is
 * refused for lack of room). Persistent write-through pools: no replica
 * is needed and gets are not destructive, so each page is read back.
 * Usage: remote_bench [PAGES] (default: $REMOTE_BENCH_PAGES, else 20000).
 */
#include "common/histogram.h"
#include "core/tmem.h"
#include "remote/remote_tier.h"
#include "redis_fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE 4096u

static uint64_t bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void bench_fill(unsigned char *page, uint64_t n)
{
    uint64_t x = n * 0x9e3779b97f4a7c15ull + 1;

    for (unsigned i = 0; i < PAGE; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(page + i, &x, 8);
    }
}

/* Put then get `pages` pages through client c's pool; print one line. */
static int bench_run(const char *label, struct tmem_client *c, int pool, unsigned pages)
{
    struct histogram put_h, get_h;
    unsigned char page[PAGE], back[PAGE];
    uint64_t start, t0, put_ns, get_ns;

    histogram_init(&put_h);
    histogram_init(&get_h);
    start = bench_now();
    for (unsigned i = 0; i < pages; i++) {
        struct tmem_oid o = {{i / 64, 1, 2}};

        bench_fill(page, i);
        t0 = bench_now();
        if (tmem_put(c, pool, &o, i % 64, page) != 0) {
            fprintf(stderr, "remote-bench: %s: put %u refused\n", label, i);
            return -1;
        }
        histogram_record(&put_h, bench_now() - t0);
    }
    put_ns = bench_now() - start;
    start = bench_now();
    for (unsigned i = 0; i < pages; i++) {
        struct tmem_oid o = {{i / 64, 1, 2}};

        t0 = bench_now();
        if (tmem_get(c, pool, &o, i % 64, back) != 0) {
            fprintf(stderr, "remote-bench: %s: get %u missed\n", label, i);
            return -1;
        }
        histogram_record(&get_h, bench_now() - t0);
    }
    get_ns = bench_now() - start;
    printf("remote-bench: %-6s put p50 %7.1f p99 %7.1f us %8.0f pages/s | get p50 %7.1f p99 "
           "%7.1f us %8.0f pages/s\n",
           label, histogram_quantile(&put_h, 0.5) / 1e3, histogram_quantile(&put_h, 0.99) / 1e3,
           pages / (put_ns / 1e9), histogram_quantile(&get_h, 0.5) / 1e3,
           histogram_quantile(&get_h, 0.99) / 1e3, pages / (get_ns / 1e9));
    return 0;
}

static int bench_store(const char *label, uint64_t capacity, const struct redis_server *s,
                       unsigned pages)
{
    struct tmem_config tc;
    struct remote_tier_config cfg;
    struct remote_tier *rt = NULL;
    struct tmem *tm;
    struct tmem_client *c;
    int pool, rc = -1;

    tmem_config_init(&tc);
    tc.capacity_bytes = capacity;
    tm = tmem_create(&tc);
    if (!tm)
        return -1;
    c = tmem_client_create(tm, "bench");
    if (s) {
        remote_tier_config_init(&cfg);
        redis_server_endpoint(s, &cfg.server.endpoints[0]);
        cfg.server.endpoint_count = 1;
        snprintf(cfg.server.password, sizeof(cfg.server.password), "%s",
                 REDIS_FIXTURE_PASSWORD);
        rt = remote_tier_create(tm, &cfg);
        if (!rt || remote_tier_attach(rt, c, TMEM_TIER_PERSISTENT | TMEM_TIER_WRITE_THROUGH)) {
            fprintf(stderr, "remote-bench: cannot set up the tier\n");
            goto out;
        }
    }
    pool = tmem_new_pool(c, TMEM_POOL_PERSIST, NULL);
    if (pool >= 0)
        rc = bench_run(label, c, pool, pages);
out:
    tmem_destroy(tm);
    remote_tier_destroy(rt);
    return rc;
}

int main(int argc, char **argv)
{
    const char *text = argc > 1 ? argv[1] : getenv("REMOTE_BENCH_PAGES");
    unsigned long pages = 20000;
    struct redis_server s;
    char *end;
    int rc;

    if (text) {
        pages = strtoul(text, &end, 10);
        if (*end || pages == 0 || pages > 10000000) {
            fprintf(stderr, "remote-bench: PAGES must be a number from 1 to 10000000: %s\n",
                    text);
            return 2;
        }
    }
    if (redis_server_start(&s, NULL) != 0)
        return 1;
    rc = bench_store("local", TMEM_CAPACITY_UNLIMITED, NULL, (unsigned)pages);
    if (!rc)
        rc = bench_store("remote", 0, &s, (unsigned)pages);
    redis_server_destroy(&s);
    return rc ? 1 : 0;
}
