/*
 * control_tmem.c - tmem statistics as the control protocol's JSON
 * (control_tmem.h).
 *
 * Models: what an operator reads from `tmemctl list` (as `xl tmem-list
 * -l` for Xen): per store, client and pool the core's own statistics,
 * rendered by the core (tmem_stats_format, JSON) and parsed back into
 * jansson objects, so the names are the core's. A client's pools, with
 * their kind (persistent or ephemeral, private or shared), come from
 * tmem_client_pools. No locks of its own, no globals.
 */
#include "control/control_tmem.h"

#include "common/error_text.h"
#include "common/hash.h"
#include "common/size.h"
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
    struct tmem_pool_info info[TMEM_MAX_POOLS_PER_CLIENT];
    struct tmem_stats st;
    json_t *list;
    int n;

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
    n = tmem_client_pools(c, info, TMEM_MAX_POOLS_PER_CLIENT);
    for (int i = 0; i < n && i < TMEM_MAX_POOLS_PER_CLIENT; i++) {
        uint32_t flags = info[i].flags;
        json_t *p;

        if (tmem_pool_stats(c, info[i].id, &st) != 0)
            continue; /* destroyed meanwhile */
        p = json_object();
        if (!p || json_array_append_new(list, p) != 0 ||
            json_object_set_new(p, "id", json_integer(info[i].id)) != 0 ||
            json_object_set_new(p, "kind", json_string(flags & TMEM_POOL_PERSIST
                                                       ? "persistent" : "ephemeral")) != 0 ||
            json_object_set_new(p, "sharing", json_string(flags & TMEM_POOL_SHARED
                                                          ? "shared" : "private")) != 0 ||
            json_object_set_new(p, "exclusive_gets",
                                json_boolean(flags & TMEM_POOL_EXCLUSIVE_GETS)) != 0 ||
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

int control_arg_size(const json_t *args, const char *name, uint64_t *bytes, char *err,
                     size_t errlen)
{
    const char *text = control_arg_string(args, name);

    if (!text || size_parse(text, true, bytes) != 0) {
        error_text_set(err, errlen, "bad size \"%.40s\": %s", text ? text : "",
                       size_grammar(true));
        return -EINVAL;
    }
    return 0;
}

int control_guest_change_read(const json_t *args, enum control_guest_action action,
                              struct control_guest_change *ch, char *err, size_t errlen)
{
    memset(ch, 0, sizeof(*ch));
    ch->action = action;
    if (action == CONTROL_SET_CAP)
        return control_arg_size(args, "size", &ch->cap_bytes, err, errlen);
    if (action == CONTROL_SET_WEIGHT) {
        int64_t weight = control_arg_integer(args, "weight");

        if (weight < 1 || weight > 10000) {
            error_text_set(err, errlen, "weight %lld out of range (1..10000)",
                           (long long)weight);
            return -EINVAL;
        }
        ch->weight = (uint32_t)weight;
    }
    return 0;
}

int control_guest_change_apply(struct tmem_client *c, const char *guest,
                               const struct control_guest_change *ch, bool *frozen,
                               json_t **result, char *err, size_t errlen)
{
    struct tmem_stats st;
    int rc = 0;

    switch (ch->action) {
    case CONTROL_SET_WEIGHT:
        rc = tmem_client_set_weight(c, ch->weight);
        break;
    case CONTROL_SET_CAP:
        rc = tmem_client_set_cap(c, ch->cap_bytes);
        break;
    case CONTROL_FREEZE:
    case CONTROL_THAW:
        tmem_client_set_frozen(c, ch->action == CONTROL_FREEZE);
        *frozen = ch->action == CONTROL_FREEZE;
        break;
    }
    if (rc != 0) {
        error_text_set(err, errlen, "guest %s: %s", guest, strerror(-rc));
        return rc;
    }
    memset(&st, 0, sizeof(st));
    (void)tmem_client_stats(c, &st);
    *result = json_pack("{s:s, s:I, s:o, s:b}", "guest", guest, "weight",
                        (json_int_t)st.weight, "cap", control_tmem_size_json(st.cap_bytes),
                        "frozen", *frozen);
    return 0;
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
