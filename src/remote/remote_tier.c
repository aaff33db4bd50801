/*
 * remote_tier.c - the tmem core's tier ops (tmem.h, "tiers") on Redis.
 *
 * What it models: RAMster's remote memory node. Pages the local store
 * refuses are stored synchronously (HSET, and for a persistent page WAIT
 * for replicas); pages the store evicts are copied into a bounded queue
 * by the evictor (which may not block) and written by a writer thread;
 * local misses read the queue, then the server.
 *
 * Data structures:
 *  - struct remote_client per attached tmem client: its number N (keys
 *    PREFIX:cN:...), its ACL login and its own connection (remote_redis.c);
 *    `presence` (remote_presence.c, under the connection lock): the
 *    handles that may be on the server, added before a page is sent and
 *    removed only when the server confirmed no copy is left, so removals
 *    and gets of handles never sent remote make no round trip (a locally
 *    accepted put costs nothing remote); its stored handles are the pages
 *    held remotely, checked against the client's and the tier's capacity
 *    (rt->held counts them over every client).
 *  - the queue: a doubly linked FIFO of entries, each either an evicted
 *    page (bytes copied) waiting to be written, or a deletion (a page's or
 *    an object's) that could not be sent because the server was
 *    unreachable (a tombstone: until the writer has sent it, gets of that
 *    handle miss, so an older copy is never read back). Lookups scan it
 *    newest first (it holds at most queue_pages pages; tombstones only
 *    while the server is away).
 *
 * Coherence (never stale): every operation on a handle first settles the
 * queue under queue_lock (a get reads a queued page from there; a put,
 * flush or destructive get cancels queued entries of the handle), then
 * talks to the server on the client's connection under that connection's
 * lock. The writer sends an entry holding the same connection lock, and
 * checks the entry was not cancelled after taking it, so a cancelled
 * page is either never sent or sent before the canceller's own command
 * (HSET or HDEL) on the same connection: Redis applies one connection's
 * commands in order, so the later operation wins.
 *
 * Locking, outermost first: a client's connection lock, then queue_lock
 * (innermost; held for list edits and page copies only). The evicted op
 * takes queue_lock only: it is called with a stripe lock of the store
 * held, and queue_lock is never held while waiting for anything else.
 * clients_lock guards the list of attached clients (attach, stats,
 * destroy), taken with no other lock.
 */
#include "remote/remote_tier.h"
#include "remote/remote_presence.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct remote_client {
    struct remote_tier *rt;
    const struct tmem_client *client;
    unsigned number;          /* N of PREFIX:cN */
    char prefix[64];          /* "PREFIX:cN" */
    char user[64], password[40];
    struct remote_conn *conn;
    /* under the connection's lock: the handles that may be on the server */
    struct remote_presence presence;
    bool sent;                /* (connection lock) a page was ever sent: pool
                                 sets may exist even with no page left */
    _Atomic uint64_t capacity_pages; /* its own budget (REMOTE_TIER_UNLIMITED) */
    _Atomic uint64_t refused_capacity;
    struct histogram latency[REMOTE_OP_COUNT];
    struct remote_client *next;
};

enum remote_entry_kind { REMOTE_ENTRY_PAGE, REMOTE_ENTRY_DELETE_PAGE, REMOTE_ENTRY_DELETE_OBJECT };

struct remote_entry {
    struct remote_entry *prev, *next;
    struct remote_client *rc;
    enum remote_entry_kind kind;
    bool inflight;            /* the writer took it (only the writer frees it then) */
    bool cancelled;           /* to be freed by the writer, not sent */
    uint64_t serial;
    struct tmem_oid oid;
    uint32_t index;           /* PAGE, DELETE_PAGE */
    unsigned char page[];     /* PAGE: page_size bytes */
};

struct remote_tier {
    struct tmem *tm;
    struct remote_tier_config cfg;
    uint32_t page_size;
    bool persistent_unsafe;   /* the server's policy may evict keys without TTL */
    uint64_t capacity_pages;  /* cfg.capacity_bytes in pages */
    _Atomic uint64_t held;    /* pages stored remotely, over every client (and
                                 reservations of puts under way) */

    pthread_mutex_t clients_lock;
    struct remote_client *clients;
    unsigned next_number;

    pthread_mutex_t queue_lock;
    pthread_cond_t queue_cond; /* work for the writer, or stop */
    pthread_cond_t idle_cond;  /* the queue became empty */
    struct remote_entry *head, *tail;
    unsigned queued_pages;
    bool stop;
    pthread_t writer;

    _Atomic uint64_t counters[REMOTE_TIER_COUNTER_COUNT];
    struct histogram latency[REMOTE_OP_COUNT];
};

static const char *const remote_tier_counter_names[] = {
#define REMOTE_TIER_NAME_(id, name, help) #name,
    REMOTE_TIER_COUNTERS(REMOTE_TIER_NAME_)
#undef REMOTE_TIER_NAME_
};

const char *remote_tier_counter_name(enum remote_tier_counter i)
{
    return i < REMOTE_TIER_COUNTER_COUNT ? remote_tier_counter_names[i] : NULL;
}

static void remote_tier_count(struct remote_tier *rt, enum remote_tier_counter i)
{
    atomic_fetch_add_explicit(&rt->counters[i], 1, memory_order_relaxed);
}

static uint64_t remote_tier_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Run commands on the client's connection (its lock held), timing it;
 * extra_ms: how much longer than a plain command they may take (WAIT). */
static int remote_tier_run_slow(struct remote_client *rc, enum remote_op op, unsigned n,
                                const struct remote_cmd *cmds, redisReply **replies,
                                unsigned extra_ms)
{
    uint64_t start = remote_tier_now();
    int rc_run = remote_conn_run_slow(rc->conn, n, cmds, replies, extra_ms);
    uint64_t took = remote_tier_now() - start;

    histogram_record(&rc->rt->latency[op], took);
    histogram_record(&rc->latency[op], took);
    return rc_run;
}

static int remote_tier_run(struct remote_client *rc, enum remote_op op, unsigned n,
                           const struct remote_cmd *cmds, redisReply **replies)
{
    uint64_t start = remote_tier_now();
    int rc_run = remote_conn_run(rc->conn, n, cmds, replies);
    uint64_t took = remote_tier_now() - start;

    histogram_record(&rc->rt->latency[op], took);
    histogram_record(&rc->latency[op], took);
    return rc_run;
}

static void remote_replies_free(unsigned n, redisReply **replies)
{
    for (unsigned i = 0; i < n; i++)
        freeReplyObject(replies[i]);
}

/* ------------------------------------------------------------ keys */
struct remote_keys {
    char object[160];  /* {PREFIX:cN:SERIAL}:O0.O1.O2 */
    char set[120];     /* {PREFIX:cN:SERIAL}:objects */
    char field[12];    /* the page index */
};

static void remote_keys_make(const struct remote_client *rc, uint64_t serial,
                             const struct tmem_oid *oid, uint32_t index, struct remote_keys *k)
{
    /* {...}: a Redis Cluster hash tag: a pool's keys share one slot */
    snprintf(k->object, sizeof(k->object), "{%s:%" PRIu64 "}:%" PRIx64 ".%" PRIx64 ".%" PRIx64,
             rc->prefix, serial, oid->oid[0], oid->oid[1], oid->oid[2]);
    snprintf(k->set, sizeof(k->set), "{%s:%" PRIu64 "}:objects", rc->prefix, serial);
    snprintf(k->field, sizeof(k->field), "%" PRIu32, index);
}

/* ------------------------------------------------------------ the queue */
/* (queue_lock held for all of these) */

static bool remote_entry_matches(const struct remote_entry *e, const struct remote_client *rc,
                                 uint64_t serial, const struct tmem_oid *oid)
{
    return e->rc == rc && e->serial == serial && memcmp(&e->oid, oid, sizeof(*oid)) == 0;
}

static void remote_queue_append(struct remote_tier *rt, struct remote_entry *e)
{
    e->next = NULL;
    e->prev = rt->tail;
    if (rt->tail)
        rt->tail->next = e;
    else
        rt->head = e;
    rt->tail = e;
    if (e->kind == REMOTE_ENTRY_PAGE)
        rt->queued_pages++;
    pthread_cond_signal(&rt->queue_cond);
}

static void remote_queue_unlink(struct remote_tier *rt, struct remote_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        rt->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        rt->tail = e->prev;
    if (e->kind == REMOTE_ENTRY_PAGE)
        rt->queued_pages--;
    if (!rt->head)
        pthread_cond_broadcast(&rt->idle_cond);
}

/* Remove (or, if the writer holds it, mark cancelled) entry e. */
static void remote_queue_cancel(struct remote_tier *rt, struct remote_entry *e)
{
    if (e->inflight) {
        e->cancelled = true;
        return;
    }
    remote_queue_unlink(rt, e);
    free(e);
}

/*
 * Cancel the entries of (rc, serial, oid): every index when whole is
 * true, else index only (object deletions are kept then: *object_dead
 * says one is pending). Returns whether a queued page was cancelled.
 */
static bool remote_queue_cancel_handle(struct remote_tier *rt, struct remote_client *rc,
                                       uint64_t serial, const struct tmem_oid *oid,
                                       uint32_t index, bool whole, bool *object_dead)
{
    bool page = false;
    struct remote_entry *e, *next;

    if (object_dead)
        *object_dead = false;
    for (e = rt->head; e; e = next) {
        next = e->next;
        if (e->cancelled || !remote_entry_matches(e, rc, serial, oid))
            continue;
        if (e->kind == REMOTE_ENTRY_DELETE_OBJECT && !whole) {
            if (object_dead)
                *object_dead = true;
            continue;
        }
        if (!whole && e->index != index)
            continue;
        page |= e->kind == REMOTE_ENTRY_PAGE;
        remote_queue_cancel(rt, e);
    }
    return page;
}

/* Queue a deletion the server could not take now (a tombstone). */
static void remote_queue_tombstone(struct remote_tier *rt, struct remote_client *rc,
                                   enum remote_entry_kind kind, uint64_t serial,
                                   const struct tmem_oid *oid, uint32_t index)
{
    struct remote_entry *e = calloc(1, sizeof(*e));

    pthread_mutex_lock(&rt->queue_lock);
    if (!e) {
        /* out of memory: the deletion cannot be remembered (the one case
         * where an old page could be read back); counted */
        pthread_mutex_unlock(&rt->queue_lock);
        remote_tier_count(rt, REMOTE_TIER_TOMBSTONES_LOST);
        return;
    }
    e->rc = rc;
    e->kind = kind;
    e->serial = serial;
    e->oid = *oid;
    e->index = index;
    remote_queue_append(rt, e);
    pthread_mutex_unlock(&rt->queue_lock);
    remote_tier_count(rt, REMOTE_TIER_TOMBSTONES);
}

/* ------------------------------------------------------------ server ops */
/* (the client's connection lock held) */

/* n stored pages left the server: give their room back. */
static void remote_tier_release(struct remote_tier *rt, uint64_t n)
{
    if (n)
        atomic_fetch_sub_explicit(&rt->held, n, memory_order_relaxed);
}

/* The server confirmed the handle has no copy there. */
static void remote_tier_gone(struct remote_client *rc, uint64_t serial,
                             const struct tmem_oid *oid, uint32_t index)
{
    remote_tier_release(rc->rt, remote_presence_remove(&rc->presence, serial, oid, index));
}

/*
 * Room for one more stored page of rc (the tier's capacity and the
 * client's): reserved in rt->held. Returns whether it was reserved;
 * false when a budget is full (counted).
 */
static bool remote_tier_reserve(struct remote_client *rc)
{
    struct remote_tier *rt = rc->rt;
    uint64_t cap = atomic_load_explicit(&rc->capacity_pages, memory_order_relaxed);
    uint64_t held = atomic_fetch_add_explicit(&rt->held, 1, memory_order_relaxed);

    if (held >= rt->capacity_pages || remote_presence_stored(&rc->presence) >= cap) {
        remote_tier_release(rt, 1);
        remote_tier_count(rt, REMOTE_TIER_REFUSED_CAPACITY);
        atomic_fetch_add_explicit(&rc->refused_capacity, 1, memory_order_relaxed);
        return false;
    }
    return true;
}

/* HDEL one page, its round trip timed as op: 1 removed, 0 not there, or
 * a tombstone queued (0: no answer, or an error reply such as -READONLY
 * left the page where it was). */
static int remote_delete_page(struct remote_client *rc, enum remote_op op, uint64_t serial,
                              const struct tmem_oid *oid, uint32_t index)
{
    struct remote_keys k;
    struct remote_cmd cmd;
    redisReply *reply;
    int removed;

    remote_keys_make(rc, serial, oid, index, &k);
    remote_cmd_words(&cmd, 3, (const char *const[]){"HDEL", k.object, k.field});
    if (remote_tier_run(rc, op, 1, &cmd, &reply) != 0) {
        remote_queue_tombstone(rc->rt, rc, REMOTE_ENTRY_DELETE_PAGE, serial, oid, index);
        return 0;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        remote_queue_tombstone(rc->rt, rc, REMOTE_ENTRY_DELETE_PAGE, serial, oid, index);
        removed = 0;
    } else {
        removed = reply->type == REDIS_REPLY_INTEGER && reply->integer > 0;
        remote_tier_gone(rc, serial, oid, index);
    }
    freeReplyObject(reply);
    return removed;
}

/* DEL one object and its set entry: 1 removed, 0 not there (or queued). */
static int remote_delete_object(struct remote_client *rc, uint64_t serial,
                                const struct tmem_oid *oid)
{
    struct remote_keys k;
    struct remote_cmd cmds[2];
    redisReply *replies[2];
    int removed;

    remote_keys_make(rc, serial, oid, 0, &k);
    remote_cmd_words(&cmds[0], 2, (const char *const[]){"DEL", k.object});
    remote_cmd_words(&cmds[1], 3, (const char *const[]){"SREM", k.set, k.object});
    if (remote_tier_run(rc, REMOTE_OP_FLUSH, 2, cmds, replies) != 0) {
        remote_queue_tombstone(rc->rt, rc, REMOTE_ENTRY_DELETE_OBJECT, serial, oid, 0);
        return 0;
    }
    removed = replies[0]->type == REDIS_REPLY_INTEGER && replies[0]->integer > 0;
    if (replies[0]->type == REDIS_REPLY_ERROR)
        remote_queue_tombstone(rc->rt, rc, REMOTE_ENTRY_DELETE_OBJECT, serial, oid, 0);
    else
        remote_tier_release(rc->rt, remote_presence_remove_object(&rc->presence, serial, oid));
    remote_replies_free(2, replies);
    return removed;
}

/* Store a page: HSET, SADD, the TTL of an ephemeral object, WAIT for a
 * persistent one. 0 stored (and safe), or -errno (refused: the caller
 * deletes): -ENOSPC the tier's or the client's capacity is full (nothing
 * sent), -ENOMEM (nothing sent), -EAGAIN too few replicas, else the
 * connection's error. The handle joins the presence set before the
 * page is sent. */
static int remote_store_page(struct remote_client *rc, enum remote_op op, bool persistent,
                             bool write_through, uint64_t serial, const struct tmem_oid *oid,
                             uint32_t index, const void *page)
{
    struct remote_tier *rt = rc->rt;
    struct remote_keys k;
    struct remote_cmd cmds[4];
    redisReply *replies[4];
    char ttl[16], replicas[16], timeout[16];
    unsigned n = 2;
    bool reserved = false;
    int rc_run;

    if (!remote_presence_is_stored(&rc->presence, serial, oid, index)) {
        /* a new page needs room (an overwrite of a stored one does not) */
        if (!remote_tier_reserve(rc))
            return -ENOSPC;
        reserved = true;
    }
    if (remote_presence_add(&rc->presence, serial, oid, index) != 0) {
        if (reserved)
            remote_tier_release(rt, 1);
        return -ENOMEM;
    }
    rc->sent = true;
    remote_keys_make(rc, serial, oid, index, &k);
    remote_cmd_words(&cmds[0], 4, (const char *const[]){"HSET", k.object, k.field, ""});
    cmds[0].argv[3] = page;
    cmds[0].argvlen[3] = rt->page_size;
    remote_cmd_words(&cmds[1], 3, (const char *const[]){"SADD", k.set, k.object});
    if (!persistent) {
        snprintf(ttl, sizeof(ttl), "%u", rt->cfg.ephemeral_ttl_s);
        remote_cmd_words(&cmds[n++], 3, (const char *const[]){"EXPIRE", k.object, ttl});
    } else if (!write_through) {
        snprintf(replicas, sizeof(replicas), "%u", rt->cfg.replicas);
        snprintf(timeout, sizeof(timeout), "%u", rt->cfg.wait_timeout_ms);
        remote_cmd_words(&cmds[n++], 3, (const char *const[]){"WAIT", replicas, timeout});
    }
    rc_run = remote_tier_run_slow(rc, op, n, cmds, replies,
                                  persistent && !write_through ? rt->cfg.wait_timeout_ms : 0);
    if (rc_run) {
        if (reserved)
            remote_tier_release(rt, 1);
        return rc_run;
    }
    rc_run = 0;
    for (unsigned i = 0; i < n; i++)
        if (replies[i]->type == REDIS_REPLY_ERROR)
            rc_run = -EIO;
    if (!rc_run && persistent && !write_through &&
        (replies[n - 1]->type != REDIS_REPLY_INTEGER ||
         replies[n - 1]->integer < (long long)rt->cfg.replicas))
        rc_run = -EAGAIN; /* not safe: fewer replicas acknowledged */
    remote_replies_free(n, replies);
    if (rc_run == 0 && reserved)
        reserved = !remote_presence_set_stored(&rc->presence, serial, oid, index);
    if (reserved) /* refused, or (never) stored already: the room goes back */
        remote_tier_release(rt, 1);
    return rc_run;
}

/* ------------------------------------------------------------ tier ops */

static int remote_op_put(void *arg, const struct tmem_tier_handle *h, const void *page)
{
    struct remote_tier *rt = arg;
    struct remote_client *rc = h->client_arg;
    bool persistent = h->pool_flags & TMEM_POOL_PERSIST;
    bool object_dead;
    int rc_put;

    pthread_mutex_lock(&rt->queue_lock);
    remote_queue_cancel_handle(rt, rc, h->pool_serial, &h->oid, h->index, false, &object_dead);
    pthread_mutex_unlock(&rt->queue_lock);
    remote_conn_lock(rc->conn);
    if (object_dead) {
        /* a deletion of the whole object is still to be sent: it would
         * take this page with it */
        rc_put = -EAGAIN;
        remote_tier_count(rt, REMOTE_TIER_REFUSED_ERROR);
    } else if (persistent && !h->write_through &&
               (rt->cfg.replicas == 0 || rt->persistent_unsafe)) {
        rc_put = -EAGAIN;
        remote_tier_count(rt, REMOTE_TIER_REFUSED_UNSAFE);
    } else {
        rc_put = remote_store_page(rc, REMOTE_OP_PUT, persistent, h->write_through,
                                   h->pool_serial, &h->oid, h->index, page);
        if (rc_put && rc_put != -ENOSPC) /* ENOSPC: counted by the reservation */
            remote_tier_count(rt, rc_put == -EAGAIN ? REMOTE_TIER_REFUSED_UNSAFE
                                                    : REMOTE_TIER_REFUSED_ERROR);
    }
    /* refused: no copy of the handle may stay (put-put-get) */
    if (rc_put && remote_presence_has(&rc->presence, h->pool_serial, &h->oid, h->index))
        remote_delete_page(rc, REMOTE_OP_FLUSH, h->pool_serial, &h->oid, h->index);
    remote_conn_unlock(rc->conn);
    return rc_put;
}

/*
 * A persistent page's get (the connection locked; the page is held
 * remotely as far as the presence filter knows). A persistent page is
 * never a miss because a connection dropped or the server answered with
 * an error: HGET alone is tried again, reconnecting, for up to
 * persistent_get_ms (a lost reply is harmless,
 * HGET changes nothing; a pipelined HGET+HDEL whose replies were lost
 * could have deleted the page before the retry looked). Then, when
 * destructive, HDEL (remote_delete_page: if it fails, the deletion waits
 * as a tombstone).
 * Returns 0 (page filled) or -ENOENT.
 */
static int remote_get_persistent(struct remote_tier *rt, struct remote_client *rc,
                                 const struct tmem_tier_handle *h, const struct remote_keys *k,
                                 void *page, bool destructive)
{
    uint64_t deadline = remote_tier_now() + (uint64_t)rt->cfg.persistent_get_ms * 1000000u;
    struct remote_cmd get;
    redisReply *reply;
    int rc_get = -ENOENT;

    remote_cmd_words(&get, 3, (const char *const[]){"HGET", k->object, k->field});
    for (;;) {
        int rc_run = remote_tier_run(rc, REMOTE_OP_GET, 1, &get, &reply);

        if (rc_run == 0 && reply->type != REDIS_REPLY_ERROR)
            break;
        /* an error reply is "not now" too (-MASTERDOWN, -LOADING,
         * -CLUSTERDOWN after a failover): not a miss either */
        if (rc_run == 0)
            freeReplyObject(reply);
        if (remote_tier_now() >= deadline) {
            remote_tier_count(rt, REMOTE_TIER_PERSISTENT_GET_FAILURES);
            return -ENOENT;
        }
        remote_tier_count(rt, REMOTE_TIER_PERSISTENT_GET_RETRIES);
        usleep(rt->cfg.retry_ms * 1000u);
    }
    if (reply->type == REDIS_REPLY_STRING && reply->len == rt->page_size) {
        memcpy(page, reply->str, rt->page_size);
        rc_get = 0;
    } else if (reply->type == REDIS_REPLY_STRING) {
        remote_tier_count(rt, REMOTE_TIER_WRONG_SIZE);
    }
    if (reply->type == REDIS_REPLY_NIL)
        remote_tier_gone(rc, h->pool_serial, &h->oid, h->index);
    freeReplyObject(reply);
    if (rc_get == 0 && destructive) /* part of the get: timed as one */
        (void)remote_delete_page(rc, REMOTE_OP_GET, h->pool_serial, &h->oid, h->index);
    return rc_get;
}

static int remote_op_get(void *arg, const struct tmem_tier_handle *h, void *page,
                         bool destructive)
{
    struct remote_tier *rt = arg;
    struct remote_client *rc = h->client_arg;
    struct remote_entry *e;
    struct remote_keys k;
    struct remote_cmd cmds[2];
    redisReply *replies[2];
    bool delete_after = false;
    int rc_get = -ENOENT;

    pthread_mutex_lock(&rt->queue_lock);
    for (e = rt->tail; e; e = e->prev) {
        if (e->cancelled || !remote_entry_matches(e, rc, h->pool_serial, &h->oid))
            continue;
        if (e->kind == REMOTE_ENTRY_DELETE_OBJECT)
            break; /* deleted, not yet on the server: a miss */
        if (e->index != h->index)
            continue;
        if (e->kind == REMOTE_ENTRY_PAGE) {
            memcpy(page, e->page, rt->page_size);
            rc_get = 0;
            if (destructive) {
                delete_after = e->inflight; /* the writer may have sent it */
                remote_queue_cancel(rt, e);
            }
        }
        break;
    }
    pthread_mutex_unlock(&rt->queue_lock);
    if (e) {
        if (delete_after) {
            remote_conn_lock(rc->conn);
            remote_delete_page(rc, REMOTE_OP_FLUSH, h->pool_serial, &h->oid, h->index);
            remote_conn_unlock(rc->conn);
        }
        return rc_get;
    }
    remote_keys_make(rc, h->pool_serial, &h->oid, h->index, &k);
    remote_cmd_words(&cmds[0], 3, (const char *const[]){"HGET", k.object, k.field});
    remote_cmd_words(&cmds[1], 3, (const char *const[]){"HDEL", k.object, k.field});
    remote_conn_lock(rc->conn);
    if (!remote_presence_has(&rc->presence, h->pool_serial, &h->oid, h->index)) {
        remote_conn_unlock(rc->conn); /* never sent, or known gone: no round trip */
        return -ENOENT;
    }
    if ((h->pool_flags & TMEM_POOL_PERSIST) && !h->write_through) {
        /* (a write-through guest reads its own copy on a miss: no waiting) */
        rc_get = remote_get_persistent(rt, rc, h, &k, page, destructive);
        remote_conn_unlock(rc->conn);
        return rc_get;
    }
    if (remote_tier_run(rc, REMOTE_OP_GET, destructive ? 2 : 1, cmds, replies) != 0) {
        if (destructive) /* the HDEL may or may not have run: make sure */
            remote_queue_tombstone(rt, rc, REMOTE_ENTRY_DELETE_PAGE, h->pool_serial, &h->oid,
                                   h->index);
        remote_conn_unlock(rc->conn);
        return -ENOENT;
    }
    /* the server has no copy now: a destructive get's HDEL ran, or the
     * HGET found nothing (Redis evicted or expired it) */
    if ((destructive && replies[1]->type != REDIS_REPLY_ERROR) ||
        replies[0]->type == REDIS_REPLY_NIL)
        remote_tier_gone(rc, h->pool_serial, &h->oid, h->index);
    else if (destructive) /* HDEL refused (-READONLY, ...): the page stays */
        remote_queue_tombstone(rt, rc, REMOTE_ENTRY_DELETE_PAGE, h->pool_serial, &h->oid,
                               h->index);
    remote_conn_unlock(rc->conn);
    if (replies[0]->type == REDIS_REPLY_STRING) {
        if (replies[0]->len == rt->page_size) {
            memcpy(page, replies[0]->str, rt->page_size);
            rc_get = 0;
        } else {
            remote_tier_count(rt, REMOTE_TIER_WRONG_SIZE);
        }
    }
    remote_replies_free(destructive ? 2 : 1, replies);
    return rc_get;
}

static int remote_op_flush_page(void *arg, const struct tmem_tier_handle *h)
{
    struct remote_tier *rt = arg;
    struct remote_client *rc = h->client_arg;
    bool queued, removed = false;

    pthread_mutex_lock(&rt->queue_lock);
    queued = remote_queue_cancel_handle(rt, rc, h->pool_serial, &h->oid, h->index, false, NULL);
    pthread_mutex_unlock(&rt->queue_lock);
    remote_conn_lock(rc->conn);
    if (remote_presence_has(&rc->presence, h->pool_serial, &h->oid, h->index))
        removed = remote_delete_page(rc, REMOTE_OP_FLUSH, h->pool_serial, &h->oid, h->index) > 0;
    remote_conn_unlock(rc->conn);
    return queued || removed ? 0 : -ENOENT;
}

static int remote_op_flush_object(void *arg, const struct tmem_tier_handle *h)
{
    struct remote_tier *rt = arg;
    struct remote_client *rc = h->client_arg;
    bool queued, removed = false;

    pthread_mutex_lock(&rt->queue_lock);
    queued = remote_queue_cancel_handle(rt, rc, h->pool_serial, &h->oid, 0, true, NULL);
    pthread_mutex_unlock(&rt->queue_lock);
    remote_conn_lock(rc->conn);
    if (remote_presence_has_object(&rc->presence, h->pool_serial, &h->oid))
        removed = remote_delete_object(rc, h->pool_serial, &h->oid) > 0;
    remote_conn_unlock(rc->conn);
    return queued || removed ? 0 : -ENOENT;
}

static void remote_op_destroy_pool(void *arg, const struct tmem_tier_handle *h)
{
    struct remote_tier *rt = arg;
    struct remote_client *rc = h->client_arg;
    struct remote_entry *e, *next;
    struct remote_keys k;
    struct remote_cmd cmd;
    redisReply *reply;
    static const struct tmem_oid zero;

    pthread_mutex_lock(&rt->queue_lock);
    for (e = rt->head; e; e = next) {
        next = e->next;
        if (!e->cancelled && e->rc == rc && e->serial == h->pool_serial)
            remote_queue_cancel(rt, e);
    }
    pthread_mutex_unlock(&rt->queue_lock);
    remote_keys_make(rc, h->pool_serial, &zero, 0, &k);
    remote_cmd_words(&cmd, 2, (const char *const[]){"SMEMBERS", k.set});
    remote_conn_lock(rc->conn);
    if (!rc->sent)
        goto out; /* nothing of it ever went remote */
    if (rc->presence.nobjects == 0)
        goto delete_set; /* no page left: only the pool's set may be */
    if (remote_tier_run(rc, REMOTE_OP_FLUSH, 1, &cmd, &reply) != 0) {
        /* the serial is never reused: the keys are unreachable; an
         * ephemeral pool's expire, a persistent pool's stay (counted) */
        remote_tier_count(rt, REMOTE_TIER_LEAKED_POOLS);
        goto out;
    }
    if (reply->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < reply->elements; i++) {
            const redisReply *member = reply->element[i];
            struct remote_cmd del;
            redisReply *r;

            if (member->type != REDIS_REPLY_STRING)
                continue;
            remote_cmd_words(&del, 2, (const char *const[]){"DEL", ""});
            del.argv[1] = member->str;
            del.argvlen[1] = member->len;
            if (remote_tier_run(rc, REMOTE_OP_FLUSH, 1, &del, &r) != 0) {
                remote_tier_count(rt, REMOTE_TIER_LEAKED_POOLS);
                break;
            }
            freeReplyObject(r);
        }
    }
    freeReplyObject(reply);
delete_set:
    remote_cmd_words(&cmd, 2, (const char *const[]){"DEL", k.set});
    if (remote_tier_run(rc, REMOTE_OP_FLUSH, 1, &cmd, &reply) == 0)
        freeReplyObject(reply);
out:
    /* its keys are gone, or unreachable for good (serials are not reused) */
    remote_tier_release(rt, remote_presence_remove_pool(&rc->presence, h->pool_serial));
    remote_conn_unlock(rc->conn);
}

/* The evictor's hand-off: copy the page into the queue, or drop it when
 * the queue is full. Called with a stripe lock of the store held. */
static void remote_op_evicted(void *arg, const struct tmem_tier_handle *h, const void *page)
{
    struct remote_tier *rt = arg;
    struct remote_client *rc = h->client_arg;
    struct remote_entry *e;

    pthread_mutex_lock(&rt->queue_lock);
    if (rt->queued_pages >= rt->cfg.queue_pages || rt->stop) {
        pthread_mutex_unlock(&rt->queue_lock);
        remote_tier_count(rt, REMOTE_TIER_QUEUE_FULL);
        return;
    }
    e = malloc(sizeof(*e) + rt->page_size);
    if (!e) {
        pthread_mutex_unlock(&rt->queue_lock);
        remote_tier_count(rt, REMOTE_TIER_QUEUE_FULL);
        return;
    }
    memset(e, 0, sizeof(*e));
    e->rc = rc;
    e->kind = REMOTE_ENTRY_PAGE;
    e->serial = h->pool_serial;
    e->oid = h->oid;
    e->index = h->index;
    memcpy(e->page, page, rt->page_size);
    remote_queue_append(rt, e);
    pthread_mutex_unlock(&rt->queue_lock);
}

static const struct tmem_tier_ops remote_tier_ops = {
    .put = remote_op_put,
    .get = remote_op_get,
    .flush_page = remote_op_flush_page,
    .flush_object = remote_op_flush_object,
    .destroy_pool = remote_op_destroy_pool,
    .evicted = remote_op_evicted,
};

/* ------------------------------------------------------------ the writer */

/* Send entry e (taken: inflight) on its connection (lock held). 0 or -errno. */
static int remote_writer_send(struct remote_tier *rt, struct remote_entry *e)
{
    struct remote_client *rc = e->rc;

    switch (e->kind) {
    case REMOTE_ENTRY_PAGE:
        return remote_store_page(rc, REMOTE_OP_WRITEBACK, false, false, e->serial, &e->oid,
                                 e->index, e->page);
    case REMOTE_ENTRY_DELETE_PAGE:
    case REMOTE_ENTRY_DELETE_OBJECT: {
        struct remote_keys k;
        struct remote_cmd cmds[2];
        redisReply *replies[2];
        unsigned n = 1;
        int rc_send;

        remote_keys_make(rc, e->serial, &e->oid, e->index, &k);
        if (e->kind == REMOTE_ENTRY_DELETE_PAGE) {
            remote_cmd_words(&cmds[0], 3, (const char *const[]){"HDEL", k.object, k.field});
        } else {
            remote_cmd_words(&cmds[0], 2, (const char *const[]){"DEL", k.object});
            remote_cmd_words(&cmds[1], 3, (const char *const[]){"SREM", k.set, k.object});
            n = 2;
        }
        rc_send = remote_tier_run(rc, REMOTE_OP_FLUSH, n, cmds, replies);
        if (rc_send)
            return rc_send;
        if (replies[0]->type == REDIS_REPLY_ERROR)
            rc_send = -EIO;
        else if (e->kind == REMOTE_ENTRY_DELETE_PAGE)
            remote_tier_gone(rc, e->serial, &e->oid, e->index);
        else
            remote_tier_release(rt, remote_presence_remove_object(&rc->presence, e->serial,
                                                                  &e->oid));
        remote_replies_free(n, replies);
        return rc_send;
    }
    }
    return -EINVAL;
}

static void *remote_writer_main(void *arg)
{
    struct remote_tier *rt = arg;

    pthread_mutex_lock(&rt->queue_lock);
    while (!rt->stop) {
        struct remote_entry *e = rt->head;
        struct remote_client *rc;
        int rc_send = 0;
        bool retry = false;

        if (!e) {
            pthread_cond_wait(&rt->queue_cond, &rt->queue_lock);
            continue;
        }
        e->inflight = true;
        rc = e->rc;
        pthread_mutex_unlock(&rt->queue_lock);
        remote_conn_lock(rc->conn); /* lock order: connection, then queue */
        pthread_mutex_lock(&rt->queue_lock);
        if (!e->cancelled) {
            pthread_mutex_unlock(&rt->queue_lock);
            rc_send = remote_writer_send(rt, e);
            pthread_mutex_lock(&rt->queue_lock);
        }
        if (e->kind == REMOTE_ENTRY_PAGE && !e->cancelled)
            remote_tier_count(rt, rc_send ? REMOTE_TIER_WRITE_ERRORS : REMOTE_TIER_WRITTEN);
        if (rc_send && e->kind != REMOTE_ENTRY_PAGE && !e->cancelled) {
            /* a deletion must not be lost: to the back, try again later */
            e->inflight = false;
            remote_queue_unlink(rt, e);
            remote_queue_append(rt, e);
            retry = true;
        } else {
            remote_queue_unlink(rt, e);
            free(e);
        }
        pthread_mutex_unlock(&rt->queue_lock);
        remote_conn_unlock(rc->conn);
        if (retry)
            usleep(rt->cfg.retry_ms * 1000u);
        pthread_mutex_lock(&rt->queue_lock);
    }
    pthread_mutex_unlock(&rt->queue_lock);
    return NULL;
}

/* ------------------------------------------------------------ lifecycle */

void remote_tier_config_init(struct remote_tier_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->capacity_bytes = REMOTE_TIER_UNLIMITED;
    cfg->wait_timeout_ms = 100;
    cfg->ephemeral_ttl_s = 3600;
    cfg->queue_pages = 256;
    cfg->retry_ms = 20;
    cfg->persistent_get_ms = 2000;
}

/* Run one admin command on a fresh connection to endpoint e (NULL: all
 * of cfg's, first that answers). The reply, or NULL. */
static redisReply *remote_admin_command(const struct remote_tier *rt,
                                        const struct remote_endpoint *e, int argc,
                                        const char *const *words)
{
    struct remote_conn_config cfg = rt->cfg.server;
    struct remote_conn *conn;
    struct remote_cmd cmd;
    redisReply *reply = NULL;

    if (e) {
        cfg.endpoints[0] = *e;
        cfg.endpoint_count = 1;
    }
    conn = remote_conn_create(&cfg);
    if (!conn)
        return NULL;
    remote_cmd_words(&cmd, argc, words);
    remote_conn_lock(conn);
    if (remote_conn_run(conn, 1, &cmd, &reply) != 0)
        reply = NULL;
    remote_conn_unlock(conn);
    remote_conn_destroy(conn);
    return reply;
}

struct remote_tier *remote_tier_create(struct tmem *tm, const struct remote_tier_config *cfg)
{
    struct remote_tier *rt;
    redisReply *policy;
    uint64_t random = 0;

    if (!tm || !cfg || cfg->server.endpoint_count == 0 ||
        cfg->server.endpoint_count > REMOTE_MAX_ENDPOINTS) {
        errno = EINVAL;
        return NULL;
    }
    rt = calloc(1, sizeof(*rt));
    if (!rt) {
        errno = ENOMEM;
        return NULL;
    }
    rt->tm = tm;
    rt->cfg = *cfg;
    rt->page_size = tmem_page_size(tm);
    rt->capacity_pages = cfg->capacity_bytes == REMOTE_TIER_UNLIMITED
                             ? UINT64_MAX
                             : cfg->capacity_bytes / rt->page_size;
    if (!rt->cfg.wait_timeout_ms)
        rt->cfg.wait_timeout_ms = 100;
    if (!rt->cfg.ephemeral_ttl_s)
        rt->cfg.ephemeral_ttl_s = 3600;
    if (!rt->cfg.queue_pages)
        rt->cfg.queue_pages = 256;
    if (!rt->cfg.retry_ms)
        rt->cfg.retry_ms = 20;
    if (!rt->cfg.persistent_get_ms)
        rt->cfg.persistent_get_ms = 2000;
    if (!rt->cfg.prefix[0]) {
        if (getrandom(&random, sizeof(random), 0) != (ssize_t)sizeof(random))
            random = remote_tier_now();
        snprintf(rt->cfg.prefix, sizeof(rt->cfg.prefix), "tmem-%d-%08" PRIx32, (int)getpid(),
                 (uint32_t)random);
    }
    for (int i = 0; i < REMOTE_OP_COUNT; i++)
        histogram_init(&rt->latency[i]);
    pthread_mutex_init(&rt->clients_lock, NULL);
    pthread_mutex_init(&rt->queue_lock, NULL);
    pthread_cond_init(&rt->queue_cond, NULL);
    pthread_cond_init(&rt->idle_cond, NULL);
    policy = remote_admin_command(rt, NULL, 3,
                                  (const char *const[]){"CONFIG", "GET", "maxmemory-policy"});
    if (policy && policy->type == REDIS_REPLY_ARRAY && policy->elements == 2 &&
        policy->element[1]->type == REDIS_REPLY_STRING &&
        strncmp(policy->element[1]->str, "allkeys", 7) == 0)
        rt->persistent_unsafe = true;
    if (policy)
        freeReplyObject(policy);
    if (pthread_create(&rt->writer, NULL, remote_writer_main, rt) != 0)
        goto fail;
    if (tmem_set_tier(tm, &remote_tier_ops, rt) != 0) {
        pthread_mutex_lock(&rt->queue_lock);
        rt->stop = true;
        pthread_cond_signal(&rt->queue_cond);
        pthread_mutex_unlock(&rt->queue_lock);
        pthread_join(rt->writer, NULL);
        goto fail;
    }
    return rt;
fail:
    pthread_cond_destroy(&rt->idle_cond);
    pthread_cond_destroy(&rt->queue_cond);
    pthread_mutex_destroy(&rt->queue_lock);
    pthread_mutex_destroy(&rt->clients_lock);
    free(rt);
    errno = ENOMEM;
    return NULL;
}

/* Create rc's ACL user on every server (ACL rules are per node, not
 * replicated: one server's endpoints, a replica promoted later must know
 * the user too; a cluster's masters and replicas): 0 when taken where it
 * must be (remote_conn_broadcast), else -EIO. Least privilege: its own
 * keys, the commands the tier sends (and a cluster client's ASKING and
 * CLUSTER SLOTS). */
static int remote_tier_create_user(struct remote_tier *rt, struct remote_client *rc)
{
    char pass[48], keys[80];
    const char *const words[] = {"ACL",     "SETUSER", rc->user, "reset",     "on",
                                 pass,      keys,      "+hset",  "+hget",     "+hdel",
                                 "+del",    "+sadd",   "+srem",  "+smembers", "+expire",
                                 "+wait",   "+ping",   "+asking", "+cluster|slots"};
    struct remote_conn *admin;
    struct remote_cmd cmd;
    int err;

    snprintf(pass, sizeof(pass), ">%s", rc->password);
    snprintf(keys, sizeof(keys), "~{%s:*", rc->prefix);
    admin = remote_conn_create(&rt->cfg.server);
    if (!admin)
        return -ENOMEM;
    remote_cmd_words(&cmd, (int)(sizeof(words) / sizeof(words[0])), words);
    remote_conn_lock(admin);
    err = remote_conn_broadcast(admin, &cmd, NULL);
    remote_conn_unlock(admin);
    remote_conn_destroy(admin);
    return err ? -EIO : 0;
}

/* Delete the ACL users of the clients in the list (those that have one)
 * on every server, through one admin connection: a tier leaves no user
 * behind (a process that dies leaves its users; their keys are gone or
 * expire, and a user can only reach its own prefix). Best effort. */
static void remote_tier_delete_users(struct remote_tier *rt, struct remote_client *list)
{
    struct remote_conn *admin = NULL;
    struct remote_cmd cmd;

    for (struct remote_client *rc = list; rc; rc = rc->next) {
        if (!rc->user[0])
            continue;
        if (!admin && !(admin = remote_conn_create(&rt->cfg.server)))
            return;
        remote_cmd_words(&cmd, 3, (const char *const[]){"ACL", "DELUSER", rc->user});
        remote_conn_lock(admin);
        (void)remote_conn_broadcast(admin, &cmd, NULL);
        remote_conn_unlock(admin);
    }
    remote_conn_destroy(admin);
}

int remote_tier_attach(struct remote_tier *rt, struct tmem_client *c, unsigned kinds)
{
    struct remote_client *rc;
    struct remote_conn_config cfg;
    unsigned char random[16];
    int err;

    if (!rt || !c)
        return -EINVAL;
    pthread_mutex_lock(&rt->clients_lock);
    for (rc = rt->clients; rc; rc = rc->next)
        if (rc->client == c) {
            pthread_mutex_unlock(&rt->clients_lock);
            return -EEXIST;
        }
    rc = calloc(1, sizeof(*rc));
    if (!rc) {
        pthread_mutex_unlock(&rt->clients_lock);
        return -ENOMEM;
    }
    rc->number = rt->next_number++;
    pthread_mutex_unlock(&rt->clients_lock);
    rc->rt = rt;
    rc->client = c;
    atomic_init(&rc->capacity_pages, UINT64_MAX);
    for (int i = 0; i < REMOTE_OP_COUNT; i++)
        histogram_init(&rc->latency[i]);
    if (remote_presence_init(&rc->presence) != 0) {
        free(rc);
        return -ENOMEM;
    }
    snprintf(rc->prefix, sizeof(rc->prefix), "%s:c%u", rt->cfg.prefix, rc->number);
    cfg = rt->cfg.server;
    if (rt->cfg.client_acls) {
        if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random)) {
            err = -EIO;
            goto fail;
        }
        snprintf(rc->user, sizeof(rc->user), "%s-c%u", rt->cfg.prefix, rc->number);
        for (int i = 0; i < 16; i++)
            snprintf(rc->password + 2 * i, 3, "%02x", random[i]);
        err = remote_tier_create_user(rt, rc);
        if (err)
            goto fail;
        snprintf(cfg.user, sizeof(cfg.user), "%s", rc->user);
        snprintf(cfg.password, sizeof(cfg.password), "%s", rc->password);
    }
    rc->conn = remote_conn_create(&cfg);
    if (!rc->conn) {
        err = -ENOMEM;
        goto fail;
    }
    err = tmem_client_set_tier(c, kinds, rc);
    if (err)
        goto fail;
    pthread_mutex_lock(&rt->clients_lock);
    rc->next = rt->clients;
    rt->clients = rc;
    pthread_mutex_unlock(&rt->clients_lock);
    return 0;
fail:
    remote_conn_destroy(rc->conn);
    if (rc->user[0]) {
        rc->next = NULL;
        remote_tier_delete_users(rt, rc); /* created before the failure */
    }
    remote_presence_free(&rc->presence);
    free(rc);
    return err;
}

int remote_tier_client_login(struct remote_tier *rt, const struct tmem_client *c,
                             char *prefix, size_t prefix_len, char *user, size_t user_len,
                             char *password, size_t password_len)
{
    struct remote_client *rc;

    pthread_mutex_lock(&rt->clients_lock);
    for (rc = rt->clients; rc && rc->client != c; rc = rc->next)
        ;
    if (rc) {
        snprintf(prefix, prefix_len, "%s", rc->prefix);
        snprintf(user, user_len, "%s", rc->user);
        snprintf(password, password_len, "%s", rc->password);
    }
    pthread_mutex_unlock(&rt->clients_lock);
    return rc ? 0 : -ENOENT;
}

int remote_tier_drain(struct remote_tier *rt, unsigned timeout_ms)
{
    struct timespec deadline;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&rt->queue_lock);
    while (rt->head && rc == 0)
        rc = pthread_cond_timedwait(&rt->idle_cond, &rt->queue_lock, &deadline);
    rc = rt->head ? -ETIMEDOUT : 0;
    pthread_mutex_unlock(&rt->queue_lock);
    return rc;
}

void remote_tier_stats(struct remote_tier *rt, struct remote_tier_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < REMOTE_TIER_COUNTER_COUNT; i++)
        out->c[i] = atomic_load_explicit(&rt->counters[i], memory_order_relaxed);
    pthread_mutex_lock(&rt->clients_lock);
    for (struct remote_client *rc = rt->clients; rc; rc = rc->next) {
        struct remote_conn_counters cc;

        remote_conn_counters(rc->conn, &cc);
        for (int i = 0; i < REMOTE_CONN_COUNTER_COUNT; i++)
            out->conn.c[i] += cc.c[i];
    }
    pthread_mutex_unlock(&rt->clients_lock);
    pthread_mutex_lock(&rt->queue_lock);
    out->queued_pages = rt->queued_pages;
    pthread_mutex_unlock(&rt->queue_lock);
    out->held_pages = atomic_load_explicit(&rt->held, memory_order_relaxed);
}

/* rc of client c (clients_lock held), or NULL. */
static struct remote_client *remote_tier_find_client(struct remote_tier *rt,
                                                     const struct tmem_client *c)
{
    struct remote_client *rc = rt->clients;

    while (rc && rc->client != c)
        rc = rc->next;
    return rc;
}

int remote_tier_client_set_capacity(struct remote_tier *rt, const struct tmem_client *c,
                                    uint64_t bytes)
{
    struct remote_client *rc;

    if (!rt || !c)
        return -EINVAL;
    pthread_mutex_lock(&rt->clients_lock);
    rc = remote_tier_find_client(rt, c);
    if (rc)
        atomic_store_explicit(&rc->capacity_pages,
                              bytes == REMOTE_TIER_UNLIMITED ? UINT64_MAX : bytes / rt->page_size,
                              memory_order_relaxed);
    pthread_mutex_unlock(&rt->clients_lock);
    return rc ? 0 : -ENOENT;
}

int remote_tier_detach(struct remote_tier *rt, const struct tmem_client *c)
{
    struct remote_client *rc;

    if (!rt || !c)
        return -EINVAL;
    pthread_mutex_lock(&rt->clients_lock);
    rc = remote_tier_find_client(rt, c);
    if (rc)
        rc->client = NULL;
    pthread_mutex_unlock(&rt->clients_lock);
    return rc ? 0 : -ENOENT;
}

int remote_tier_client_stats(struct remote_tier *rt, const struct tmem_client *c,
                             struct remote_tier_client_stats *out)
{
    struct remote_client *rc;

    memset(out, 0, sizeof(*out));
    if (!rt || !c)
        return -EINVAL;
    pthread_mutex_lock(&rt->clients_lock);
    rc = remote_tier_find_client(rt, c);
    if (rc) {
        remote_conn_counters(rc->conn, &out->conn);
        out->held_pages = remote_presence_stored(&rc->presence);
        out->refused_capacity =
            atomic_load_explicit(&rc->refused_capacity, memory_order_relaxed);
        for (int i = 0; i < REMOTE_OP_COUNT; i++)
            histogram_copy(&out->latency[i], &rc->latency[i]);
    }
    pthread_mutex_unlock(&rt->clients_lock);
    return rc ? 0 : -ENOENT;
}

void remote_tier_latency(const struct remote_tier *rt, enum remote_op op, struct histogram *out)
{
    if (op < REMOTE_OP_COUNT)
        histogram_copy(out, &rt->latency[op]);
}

void remote_tier_destroy(struct remote_tier *rt)
{
    struct remote_entry *e, *next;

    if (!rt)
        return;
    pthread_mutex_lock(&rt->queue_lock);
    rt->stop = true;
    pthread_cond_signal(&rt->queue_cond);
    pthread_mutex_unlock(&rt->queue_lock);
    pthread_join(rt->writer, NULL);
    for (e = rt->head; e; e = next) {
        next = e->next;
        free(e);
    }
    if (rt->cfg.client_acls)
        remote_tier_delete_users(rt, rt->clients);
    while (rt->clients) {
        struct remote_client *rc = rt->clients;

        rt->clients = rc->next;
        remote_conn_destroy(rc->conn);
        remote_presence_free(&rc->presence);
        free(rc);
    }
    pthread_cond_destroy(&rt->idle_cond);
    pthread_cond_destroy(&rt->queue_cond);
    pthread_mutex_destroy(&rt->queue_lock);
    pthread_mutex_destroy(&rt->clients_lock);
    free(rt);
}
