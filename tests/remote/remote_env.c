/*
 * remote_env.c - the remote tier tests' store and clients (remote_env.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "remote_env.h"

void remote_env_open(struct remote_env *e, uint64_t capacity, const struct remote_tier_config *cfg,
                     unsigned kinds, int clients)
{
    struct tmem_config tc;

    memset(e, 0, sizeof(*e));
    tmem_config_init(&tc);
    tc.capacity_bytes = capacity;
    tc.dedup = false;
    e->tm = tmem_create(&tc);
    assert_non_null(e->tm);
    e->rt = remote_tier_create(e->tm, cfg);
    assert_non_null(e->rt);
    for (int i = 0; i < clients; i++) {
        e->c[i] = tmem_client_create(e->tm, i ? "guest-b" : "guest-a");
        assert_non_null(e->c[i]);
        assert_int_equal(remote_tier_attach(e->rt, e->c[i], kinds), 0);
    }
}

void remote_env_close(struct remote_env *e)
{
    char why[256];

    assert_int_equal(tmem_check(e->tm, why, sizeof(why)), 0);
    tmem_destroy(e->tm);
    remote_tier_destroy(e->rt);
}

struct tmem_oid remote_env_oid(uint64_t n)
{
    struct tmem_oid o = {{n, 0x5eed, 7}};
    return o;
}
