/*
 * remote_tier.h - the tmem core's second tier on Redis (RAMster-style
 * remote memory; docs/remote.md): pages the local store cannot keep go to
 * a Redis server, local misses are looked up there, flushes and
 * overwrites remove the remote copy.
 *
 * Key layout (PREFIX: one per tier, i.e. per store run; N: the client's
 * number in this tier; SERIAL: the pool's store-unique serial):
 *   {PREFIX:cN:SERIAL}:O0.O1.O2   a hash per object: field = page index
 *                                 (decimal), value = the page's bytes
 *   {PREFIX:cN:SERIAL}:objects    a set per pool of its object keys
 * ({...} is a Redis Cluster hash tag: a pool's keys share one slot.)
 * Ephemeral objects carry a TTL (ephemeral_ttl_s): with the server's
 * maxmemory-policy volatile-lru Redis may evict them, never a persistent
 * key (which has none).
 *
 * Persistence rule: a persistent page is accepted only when `WAIT
 * replicas wait_timeout_ms` says that many replicas have it, or the
 * client declared its persistent pools write-through (the guest keeps
 * its own copy, as GCMA's frontswap does); otherwise the put is refused
 * and the copy deleted, and the guest swaps to its device as it would
 * without the tier.
 *
 * Thread safety: every function may be called from any thread; the tier
 * ops it gives the store are thread-safe. remote_tier_destroy must not
 * race with anything, and runs after the store (tmem_destroy) is gone.
 */
#ifndef REMOTE_TIER_H
#define REMOTE_TIER_H

#include "common/histogram.h"
#include "core/tmem.h"
#include "remote/remote_redis.h"

#include <stdbool.h>
#include <stdint.h>

/* No capacity limit (remote_tier_config.capacity_bytes, per client). */
#define REMOTE_TIER_UNLIMITED UINT64_MAX

struct remote_tier_config {
    /* The server(s): endpoints (tried in order) and timeouts; user and
     * password are the administrator's (creates the client ACL users; ""
     * for a server without AUTH). */
    struct remote_conn_config server;
    char prefix[48];          /* key prefix; "": "tmem-PID-RANDOM" (one per run) */
    unsigned replicas;        /* WAIT for this many replicas on persistent puts;
                                 0: only write-through persistent puts are taken */
    unsigned wait_timeout_ms; /* WAIT's timeout; 0: 100 */
    unsigned ephemeral_ttl_s; /* TTL of ephemeral objects; 0: 3600 */
    unsigned queue_pages;     /* evicted pages waiting for the writer; 0: 256 */
    unsigned retry_ms;        /* the writer's pause after a deletion it could
                                 not send (it keeps it and retries), and a
                                 persistent get's between tries; 0: 20 */
    unsigned persistent_get_ms; /* how long a get of a persistent page held
                                 remotely keeps trying through connection
                                 failures (reconnecting) and error replies
                                 before it reports a miss; 0: 2000 */
    bool client_acls;         /* one Redis ACL user per client, limited to
                                 {PREFIX:cN:* (needs the admin login) */
    uint64_t capacity_bytes;  /* the tier's own budget: pages stored remotely
                                 (over every client) at most this many bytes'
                                 worth; further puts and write-backs are refused
                                 (remote_refused_capacity). REMOTE_TIER_UNLIMITED
                                 (the default) for none */
};

/* Fill *cfg with the defaults (no endpoint: set server.endpoints). */
void remote_tier_config_init(struct remote_tier_config *cfg);

/* Failure and event counters of the tier (beyond its connections'). */
#define REMOTE_TIER_COUNTERS(X)                                                            \
    X(REFUSED_UNSAFE, remote_refused_unsafe,                                               \
      "persistent puts refused: fewer replicas than required acknowledged (or none set)")  \
    X(REFUSED_ERROR, remote_refused_error, "puts refused: the server failed or refused")  \
    X(REFUSED_CAPACITY, remote_refused_capacity,                                           \
      "puts and write-backs refused: the tier's or the client's capacity was full")        \
    X(QUEUE_FULL, remote_evictions_dropped, "evicted pages dropped: the queue was full")   \
    X(WRITE_ERRORS, remote_evictions_lost, "evicted pages the writer failed to store")    \
    X(WRITTEN, remote_evictions_written, "evicted pages the writer stored")               \
    X(TOMBSTONES, remote_tombstones,                                                       \
      "deletions queued because the server could not be reached (retried by the writer)") \
    X(TOMBSTONES_LOST, remote_tombstones_lost,                                             \
      "deletions that could not even be queued (out of memory)")                           \
    X(LEAKED_POOLS, remote_leaked_pools,                                                   \
      "destroyed pools whose keys could not be deleted (unreachable: never read again)")  \
    X(WRONG_SIZE, remote_wrong_size, "values of the wrong length read back (treated as misses)") \
    X(PERSISTENT_GET_RETRIES, remote_persistent_get_retries,                                \
      "persistent gets tried again after a connection failure or an error reply (a page "  \
      "held remotely is not a miss because a connection dropped or a server said not now)") \
    X(PERSISTENT_GET_FAILURES, remote_persistent_get_failures,                              \
      "persistent gets that reached no server within persistent_get_ms: reported as a "    \
      "miss (a frontswap guest then counts a failed load, loudly)")

enum remote_tier_counter {
#define REMOTE_TIER_ENUM_(id, name, help) REMOTE_TIER_##id,
    REMOTE_TIER_COUNTERS(REMOTE_TIER_ENUM_)
#undef REMOTE_TIER_ENUM_
    REMOTE_TIER_COUNTER_COUNT
};

/* The timed remote operations (one round trip each, lock waits included). */
enum remote_op { REMOTE_OP_PUT, REMOTE_OP_GET, REMOTE_OP_FLUSH, REMOTE_OP_WRITEBACK, REMOTE_OP_COUNT };

struct remote_tier_stats {
    uint64_t c[REMOTE_TIER_COUNTER_COUNT];
    struct remote_conn_counters conn; /* summed over the clients' connections */
    uint64_t queued_pages;            /* evicted pages waiting now */
    uint64_t held_pages;              /* pages stored remotely now (a gauge: those the
                                         server took and the tier did not see go;
                                         Redis may have expired or evicted some
                                         ephemeral ones since) */
};

/* One client's share (remote_tier_client_stats). */
struct remote_tier_client_stats {
    struct remote_conn_counters conn; /* its connection's failure counters */
    uint64_t held_pages;              /* its pages stored remotely now (as above) */
    uint64_t refused_capacity;        /* its puts and write-backs refused for capacity */
    struct histogram latency[REMOTE_OP_COUNT]; /* its round trips (ns) */
};

struct remote_tier;

/*
 * Create the tier and give it to the store (tmem_set_tier). Checks the
 * server once through the admin login (CONFIG GET maxmemory-policy: an
 * allkeys-* policy could evict persistent keys, so then persistent pages
 * are refused, counted as remote_refused_unsafe). Starts the writer
 * thread. The server need not be up (then every remote op fails until it
 * is). NULL with errno EINVAL (bad config) or ENOMEM.
 */
struct remote_tier *remote_tier_create(struct tmem *tm, const struct remote_tier_config *cfg);

/*
 * Let client c use the tier for its private pools of the kinds given
 * (TMEM_TIER_*): with client_acls, creates its ACL user on every
 * endpoint that answers (at least one must) and logs in as it. 0, or
 * -EIO (could not create the user), -ENOMEM, -EINVAL, -EEXIST (attached).
 * Call before the client's first call (tmem_client_set_tier).
 */
int remote_tier_attach(struct remote_tier *rt, struct tmem_client *c, unsigned kinds);

/* Client c's own budget of remote pages (bytes, REMOTE_TIER_UNLIMITED;
 * default unlimited), on top of the tier's: 0, -ENOENT (not attached) or
 * -EINVAL. */
int remote_tier_client_set_capacity(struct remote_tier *rt, const struct tmem_client *c,
                                    uint64_t bytes);

/* Client c's counters, gauge and latencies: 0, -ENOENT (not attached, or
 * detached) or -EINVAL. *out is large (four histograms). */
int remote_tier_client_stats(struct remote_tier *rt, const struct tmem_client *c,
                             struct remote_tier_client_stats *out);

/* Forget client c after tmem_client_destroy(c) (its pools' keys went
 * then): its connection stays counted in remote_tier_stats until
 * remote_tier_destroy, but c's address may now be reused by a new
 * client. 0 or -ENOENT. */
int remote_tier_detach(struct remote_tier *rt, const struct tmem_client *c);

/* The client's key prefix ("PREFIX:cN") and login (user "" without
 * client_acls) for tests and tools: 0 or -ENOENT (not attached). */
int remote_tier_client_login(struct remote_tier *rt, const struct tmem_client *c,
                             char *prefix, size_t prefix_len, char *user, size_t user_len,
                             char *password, size_t password_len);

/* Wait until the writer has no evicted page or deletion left (or
 * timeout_ms passed): 0 or -ETIMEDOUT. */
int remote_tier_drain(struct remote_tier *rt, unsigned timeout_ms);

void remote_tier_stats(struct remote_tier *rt, struct remote_tier_stats *out);
/* The latency of op (ns per round trip), copied into *out. */
void remote_tier_latency(const struct remote_tier *rt, enum remote_op op, struct histogram *out);
/* The name of counter i ("remote_refused_unsafe", ...). */
const char *remote_tier_counter_name(enum remote_tier_counter i);

/* Stop the writer, close every connection, free. The store must be
 * destroyed first (its clients' pool destructions call the tier). rt may
 * be NULL. */
void remote_tier_destroy(struct remote_tier *rt);

#endif /* REMOTE_TIER_H */
