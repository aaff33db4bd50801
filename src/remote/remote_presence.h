/*
 * remote_presence.h - the remote tier's per-client presence set: which
 * handles (pool serial, object id, index) may have a copy on the server.
 *
 * The tier adds a handle before it sends the page (so a concurrent
 * operation can never see "absent" while a copy is on its way), marks it
 * stored when the server took it, and removes it only when the server
 * confirmed that no copy is left (HDEL, DEL, a destructive get, or a get
 * that found nothing). So "absent" is never wrong; "present" may be (a
 * copy Redis evicted or expired, a failed send): it only costs a round
 * trip. A locally accepted put of a handle that was never sent remote
 * thus costs no round trip (docs/remote.md, "Put cost").
 *
 * The stored handles are also the tier's "pages held remotely" gauge.
 *
 * Data structures: a chained hash table of handles, each also on a list
 * of its object (a second chained table keyed by serial and object id),
 * so an object's or a pool's handles go without a scan of every handle.
 * Both tables double when their load passes one.
 *
 * Thread safety: none; the tier calls it under the client's connection
 * lock (remote_tier.c). remote_presence_stored() reads an atomic and may
 * be called from any thread.
 */
#ifndef REMOTE_PRESENCE_H
#define REMOTE_PRESENCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/tmem.h"

struct remote_presence_handle;
struct remote_presence_object;

struct remote_presence {
    struct remote_presence_handle **handles; /* [handle_buckets] */
    struct remote_presence_object **objects; /* [object_buckets] */
    uint64_t handle_buckets, object_buckets;
    uint64_t nhandles, nobjects;
    _Atomic uint64_t stored;                 /* handles marked stored */
};

/* An empty set: 0 or -ENOMEM. */
int remote_presence_init(struct remote_presence *p);
void remote_presence_free(struct remote_presence *p);

/* Add the handle (not stored yet; nothing if there). 0 or -ENOMEM (not
 * added: the caller must not send the page). */
int remote_presence_add(struct remote_presence *p, uint64_t serial, const struct tmem_oid *oid,
                        uint32_t index);

/* Whether the handle (or any handle of the object) may be remote. */
bool remote_presence_has(const struct remote_presence *p, uint64_t serial,
                         const struct tmem_oid *oid, uint32_t index);
bool remote_presence_has_object(const struct remote_presence *p, uint64_t serial,
                                const struct tmem_oid *oid);

/* Whether the handle is present and marked stored. */
bool remote_presence_is_stored(const struct remote_presence *p, uint64_t serial,
                               const struct tmem_oid *oid, uint32_t index);

/* Mark a present handle stored (the server took it); whether it was not
 * already (false also when absent). */
bool remote_presence_set_stored(struct remote_presence *p, uint64_t serial,
                                const struct tmem_oid *oid, uint32_t index);

/* The server has no copy: remove the handle, the object's handles, the
 * pool's handles. Each returns how many stored handles went. */
uint64_t remote_presence_remove(struct remote_presence *p, uint64_t serial,
                                const struct tmem_oid *oid, uint32_t index);
uint64_t remote_presence_remove_object(struct remote_presence *p, uint64_t serial,
                                       const struct tmem_oid *oid);
uint64_t remote_presence_remove_pool(struct remote_presence *p, uint64_t serial);

/* Handles marked stored now (the pages held remotely). */
uint64_t remote_presence_stored(const struct remote_presence *p);

#endif /* REMOTE_PRESENCE_H */
