/*
 * control_tmem.c - tmem statistics as the control protocol's JSON
 * (control_tmem.h).
 *
 * Models: what an operator reads from `tmemctl list` (as `xl tmem-list
 * -l` for Xen): per store, client and pool the core's own statistics,
 * rendered by the core (tmem_stats_format, JSON) and parsed back into
 * jansson objects, so the names are the core's. A client's pools are
 * found by asking the core for every pool id a client may hold
 * (tmem_pool_stats answers -EINVAL for an id it does not hold). No
 * locks of its own, no globals.
 */
#include "control/control_tmem.h"

#include "common/hash.h"
#include "common/stats_writer.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *control_tmem_stats_json(const struct tmem_stats *st)
{
    char buf[8192];
    int n = tmem_stats_format(st, true, buf, sizeof(buf));
    json_t *obj;

    if (n < 0 || (size_t)n >= sizeof(buf))
        return NULL;
    obj = json_loads(buf, 0, NULL);
    if (!obj)
        return NULL;
    if (json_object_set_new(obj, "hit_rate", st->gets ? json_real((double)st->succ_gets /
                                                                  (double)st->gets)
                                                      : json_null()) != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *control_tmem_size_json(uint64_t bytes)
{
    return bytes == TMEM_CAPACITY_UNLIMITED ? json_string("unlimited") : stats_json_u64(bytes);
}

json_t *control_tmem_store_json(struct tmem *tm)
{
    struct tmem_stats st;
    json_t *obj = json_object();

    memset(&st, 0, sizeof(st));
    if (!obj || tmem_stats(tm, &st) != 0 ||
        json_object_set_new(obj, "capacity", control_tmem_size_json(tmem_capacity(tm))) != 0 ||
        json_object_set_new(obj, "used", stats_json_u64(tmem_budget_used(tm))) != 0 ||
        json_object_set_new(obj, "page_size", json_integer(tmem_page_size(tm))) != 0 ||
        json_object_set_new(obj, "stats", control_tmem_stats_json(&st)) != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

int control_tmem_client_json(json_t *g, const struct tmem_client *c, bool pools)
{
    struct tmem_stats st;
    json_t *list;

    memset(&st, 0, sizeof(st));
    if (tmem_client_stats(c, &st) != 0)
        return -ENOMEM;
    if (json_object_set_new(g, "weight", json_integer(st.weight)) != 0 ||
        json_object_set_new(g, "cap", control_tmem_size_json(st.cap_bytes)) != 0 ||
        json_object_set_new(g, "stats", control_tmem_stats_json(&st)) != 0)
        return -ENOMEM;
    if (!pools)
        return 0;
    list = json_array();
    if (!list || json_object_set_new(g, "pools", list) != 0)
        return -ENOMEM;
    for (int id = 0; id < TMEM_MAX_POOLS_PER_CLIENT; id++) {
        json_t *p;

        if (tmem_pool_stats(c, id, &st) != 0)
            continue;
        p = json_object();
        if (!p || json_array_append_new(list, p) != 0 ||
            json_object_set_new(p, "id", json_integer(id)) != 0 ||
            json_object_set_new(p, "stats", control_tmem_stats_json(&st)) != 0)
            return -ENOMEM;
    }
    return 0;
}

const char *control_arg_string(const json_t *args, const char *name)
{
    return json_string_value(json_object_get(args, name));
}

int64_t control_arg_integer(const json_t *args, const char *name)
{
    return json_integer_value(json_object_get(args, name));
}

int control_tmemfs_socket_name(const char *mountpoint, char *name, size_t len)
{
    char path[PATH_MAX];
    uint64_t h = hash_mix64(0x746d656d6673ULL); /* "tmemfs" */
    size_t n;

    if (!realpath(mountpoint, path))
        return -errno;
    n = strlen(path);
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = 0;

        memcpy(&w, path + i, n - i < 8 ? n - i : 8);
        h = hash_combine(h, w);
    }
    snprintf(name, len, "tmemfs-%016llx", (unsigned long long)h);
    return 0;
}
