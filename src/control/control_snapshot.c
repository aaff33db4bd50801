/*
 * control_snapshot.c - save and restore as control commands
 * (control_snapshot.h): a thin layer over src/snapshot that turns its
 * counts into the reply's JSON, so the testbed's and tmemfs's command
 * tables do not each carry a copy.
 *
 * Data: none kept between calls. Locking: none of its own (snapshot.h's
 * rules).
 */
#include "control/control_snapshot.h"

#include <errno.h>

#include "common/error_text.h"
#include "snapshot/snapshot.h"

#define CONTROL_SNAPSHOT_POOLS 256 /* TMEM_MAX_POOLS_PER_CLIENT */

int control_snapshot_save(struct tmem_client *c, const char *guest, const char *path,
                          json_t **result, char *err, size_t errlen)
{
    struct snapshot_stats st = {0};
    int rc = snapshot_save(c, path, &st, err, errlen);

    if (rc < 0)
        return rc;
    *result = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "guest", guest, "file", path,
                        "pools", (json_int_t)st.pools, "pools_ephemeral_skipped",
                        (json_int_t)st.pools_ephemeral, "pages", (json_int_t)st.pages,
                        "file_bytes", (json_int_t)st.file_bytes);
    if (!*result) {
        error_text_set(err, errlen, "out of memory (the file was written)");
        return -ENOMEM;
    }
    return 0;
}

int control_snapshot_restore(struct tmem_client *c, const char *guest, const char *path,
                             json_t **result, char *err, size_t errlen)
{
    static _Thread_local struct snapshot_restored_pool pools[CONTROL_SNAPSHOT_POOLS];
    struct snapshot_restore_options o = { .pools = pools, .pools_max = CONTROL_SNAPSHOT_POOLS };
    struct snapshot_stats st = {0};
    json_t *list;
    int rc = snapshot_restore(c, path, &o, &st, err, errlen);

    if (rc < 0)
        return rc;
    list = json_array();
    for (size_t i = 0; list && i < st.pools && i < CONTROL_SNAPSHOT_POOLS; i++)
        json_array_append_new(
            list, json_pack("{s:i, s:i, s:b, s:b, s:I}", "saved_id", pools[i].saved_id,
                            "pool_id", pools[i].pool_id, "persistent",
                            (pools[i].flags & TMEM_POOL_PERSIST) != 0, "shared",
                            (pools[i].flags & TMEM_POOL_SHARED) != 0,
                            "pages", (json_int_t)pools[i].pages));
    *result = list ? json_pack("{s:s, s:s, s:o, s:I}", "guest", guest, "file", path, "pools",
                               list, "pages", (json_int_t)st.pages)
                   : NULL;
    if (!*result) {
        error_text_set(err, errlen, "out of memory (the pages were restored)");
        return -ENOMEM;
    }
    return 0;
}
