/*
 * control_snapshot.h - the save and restore commands every program's
 * control table shares (tmemctl save GUEST FILE, tmemctl restore GUEST
 * FILE; docs/control.md): src/snapshot on the guest's tmem client, the
 * result as the JSON reply's "result".
 *
 * Thread safety: as snapshot_save / snapshot_restore (the client must
 * stay alive: the caller holds what keeps it so; other calls on the
 * client and store may run meanwhile).
 */
#ifndef CONTROL_SNAPSHOT_H
#define CONTROL_SNAPSHOT_H

#include <jansson.h>
#include <stddef.h>

#include "core/tmem.h"

/*
 * Save every persistent pool of c (guest, for the reply) to path
 * (atomically: a temporary file renamed over it). 0 with *result
 * {"guest", "file", "pools", "pools_ephemeral_skipped", "pages",
 * "file_bytes"}, or -errno with one line in err (snapshot_save's).
 */
int control_snapshot_save(struct tmem_client *c, const char *guest, const char *path,
                          json_t **result, char *err, size_t errlen);

/*
 * Restore the file at path into c as new pools (snapshot_restore: the
 * whole file checked first; a restore that does not fit rolls back). 0
 * with *result {"guest", "file", "pools": [{"saved_id", "pool_id",
 * "persistent", "shared", "pages"}], "pages"}, or -errno with one line
 * in err; nothing changed then.
 */
int control_snapshot_restore(struct tmem_client *c, const char *guest, const char *path,
                             json_t **result, char *err, size_t errlen);

#endif /* CONTROL_SNAPSHOT_H */
