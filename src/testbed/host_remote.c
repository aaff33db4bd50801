/*
 * host_remote.c - a testbed host's remote tier (host_remote.h).
 *
 * Models: RAMster's remote memory node behind a host: pages the host's
 * store cannot keep go to a Redis server that several testbed processes
 * (several "machines") may share, each guest under its own ACL user.
 *
 * Data structures: the tier (remote_tier.h) in h->remote, its scenario
 * section in h->remote_sc. Latency: the tier times every round trip into
 * per-client histograms; the core times each tmem call whole, tier calls
 * included, so a swap guest's measured tmem time (its simulated time)
 * already holds the remote round trips made inside its calls
 * (testbed_remote_cost_ns says how much of it they were).
 *
 * Locking: none of its own; the tier is thread-safe, and attach/detach
 * run under the host's policy lock (the callers hold it).
 */
#include "testbed/host_remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text_file.h"

/* "FILE:LINE: remote NAME: " + the message. */
static void testbed_remote_fail(const struct scenario *sc, const struct scenario_remote *sr,
                                unsigned line, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s:%u: remote %s: %s", sc->path, line, sr->name, what);
}

static int testbed_remote_servers(const struct scenario *sc, const struct scenario_remote *sr,
                                  struct remote_tier_config *cfg, char *err, size_t errlen)
{
    char *list = strdup(sr->servers), *save = NULL, *item;
    char what[512];
    int rc = 0;

    if (!list) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    cfg->server.endpoint_count = 0;
    for (item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char text[300];
        size_t n;

        item += strspn(item, " \t");
        n = strlen(item);
        while (n && (item[n - 1] == ' ' || item[n - 1] == '\t'))
            item[--n] = '\0';
        if (cfg->server.endpoint_count == REMOTE_MAX_ENDPOINTS) {
            snprintf(what, sizeof(what), "more than %d servers", REMOTE_MAX_ENDPOINTS);
            goto bad;
        }
        /* a path is a Unix socket; anything else HOST[:PORT] */
        snprintf(text, sizeof(text), "%s%s", item[0] == '/' ? "unix:" : "", item);
        if (!*item ||
            remote_endpoint_parse(text, &cfg->server.endpoints[cfg->server.endpoint_count]) !=
                0) {
            snprintf(what, sizeof(what), "bad server '%.128s': expected HOST:PORT, HOST or "
                     "/path/to/redis.sock (several comma separated)", item);
            goto bad;
        }
        cfg->server.endpoint_count++;
    }
    if (cfg->server.endpoint_count == 0) {
        snprintf(what, sizeof(what), "no server given");
        goto bad;
    }
    goto out;
bad:
    testbed_remote_fail(sc, sr, sr->servers_line, err, errlen, what);
    rc = -EINVAL;
out:
    free(list);
    return rc;
}

int testbed_remote_config(const struct scenario *sc, const struct scenario_remote *sr,
                          struct remote_tier_config *cfg, char *err, size_t errlen)
{
    int rc;

    remote_tier_config_init(cfg);
    rc = testbed_remote_servers(sc, sr, cfg, err, errlen);
    if (rc)
        return rc;
    if (sr->user)
        snprintf(cfg->server.user, sizeof(cfg->server.user), "%s", sr->user);
    if (sr->password)
        snprintf(cfg->server.password, sizeof(cfg->server.password), "%s", sr->password);
    if (sr->password_file) {
        char *path = NULL, *text = NULL, why[512];
        size_t len = 0;

        if (sr->password_file[0] == '/')
            path = strdup(sr->password_file);
        else if (asprintf(&path, "%s/%s", sc->dir, sr->password_file) < 0)
            path = NULL;
        if (!path) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        rc = text_file_read(path, 4096, &text, &len, why, sizeof(why));
        free(path);
        if (rc < 0) {
            testbed_remote_fail(sc, sr, sr->password_file_line, err, errlen, why);
            return -EINVAL;
        }
        text[strcspn(text, "\r\n")] = '\0';
        snprintf(cfg->server.password, sizeof(cfg->server.password), "%s", text);
        free(text);
    }
    if (sr->prefix)
        snprintf(cfg->prefix, sizeof(cfg->prefix), "%s", sr->prefix);
    cfg->replicas = sr->replicas;
    cfg->wait_timeout_ms = sr->wait_timeout_ms;
    cfg->ephemeral_ttl_s = sr->ephemeral_ttl_s;
    cfg->server.command_timeout_ms = sr->timeout_ms;
    cfg->client_acls = sr->acls;
    cfg->server.cluster = sr->cluster == SCENARIO_CLUSTER_YES      ? REMOTE_CLUSTER_ON
                          : sr->cluster == SCENARIO_CLUSTER_DETECT ? REMOTE_CLUSTER_DETECT
                                                                   : REMOTE_CLUSTER_OFF;
    cfg->capacity_bytes =
        sr->capacity == TMEM_CAPACITY_UNLIMITED ? REMOTE_TIER_UNLIMITED : sr->capacity;
    return 0;
}

int testbed_host_remote_open(struct testbed_host *h, const struct scenario *sc,
                             const char *outdir, bool check_only, char *err, size_t errlen)
{
    struct remote_tier_config cfg;
    int rc;

    if (h->sh->remote < 0)
        return 0;
    h->remote_sc = &sc->remotes[h->sh->remote];
    rc = testbed_remote_config(sc, h->remote_sc, &cfg, err, errlen);
    if (rc || check_only)
        return rc;
    h->remote_outdir = strdup(outdir);
    if (!h->remote_outdir) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    h->remote = remote_tier_create(h->tm, &cfg);
    if (!h->remote) {
        rc = -errno;
        snprintf(err, errlen, "%s:%u: remote %s: cannot create the tier: %s", sc->path,
                 h->remote_sc->line, h->remote_sc->name, strerror(errno));
        return rc;
    }
    return 0;
}

/* OUTDIR/remote-GUEST.login: the guest's key prefix and Redis login. */
static int testbed_remote_write_login(struct testbed_host *h, const struct tmem_client *c,
                                      const struct scenario_guest *sg, char *err,
                                      size_t errlen)
{
    char prefix[128], user[128], password[128], *path = NULL;
    FILE *f;
    int rc = 0;

    if (remote_tier_client_login(h->remote, c, prefix, sizeof(prefix), user, sizeof(user),
                                 password, sizeof(password)) != 0)
        return 0;
    if (asprintf(&path, "%s/remote-%s.login", h->remote_outdir, sg->name) < 0) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    f = fopen(path, "w");
    if (!f || fprintf(f, "prefix %s\nuser %s\npassword %s\n", prefix, user, password) < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    }
    if (f && fclose(f) != 0 && !rc) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    }
    free(path);
    return rc;
}

int testbed_host_remote_attach(struct testbed_host *h, struct tmem_client *c,
                               const struct scenario_guest *sg, char *err, size_t errlen)
{
    unsigned kinds = sg->remote_kinds;
    int rc;

    if (!h->remote || !kinds)
        return 0;
    if (sg->kind == SCENARIO_GUEST_SWAP && sg->swap.write_through)
        kinds |= TMEM_TIER_WRITE_THROUGH;
    rc = remote_tier_attach(h->remote, c, kinds);
    if (rc) {
        snprintf(err, errlen, "guest %s: cannot attach to remote %s: %s", sg->name,
                 h->remote_sc->name,
                 rc == -EIO ? "no server answered or its ACL user could not be made"
                            : strerror(-rc));
        return rc;
    }
    if (sg->remote_cap != TMEM_CAPACITY_UNLIMITED)
        (void)remote_tier_client_set_capacity(h->remote, c, sg->remote_cap);
    return testbed_remote_write_login(h, c, sg, err, errlen);
}

void testbed_host_remote_detach(struct testbed_host *h, const struct tmem_client *c)
{
    if (h->remote)
        (void)remote_tier_detach(h->remote, c);
}

static void testbed_remote_add_tier_stats(struct testbed_remote_sample *out,
                                          const struct tmem_tier_stats *t)
{
    out->puts += t->puts;
    out->puts_accepted += t->puts_accepted;
    out->puts_refused += t->puts_refused;
    out->gets += t->gets;
    out->hits += t->hits;
    out->evictions += t->evictions;
}

static void testbed_remote_add_latency(struct testbed_remote_sample *out, enum remote_op op,
                                       const struct histogram *hist)
{
    out->ops[op] = atomic_load(&hist->count);
    out->ns[op] = atomic_load(&hist->sum);
    out->p50_ns[op] = histogram_quantile(hist, 0.5);
    out->p99_ns[op] = histogram_quantile(hist, 0.99);
}

void testbed_host_remote_sample(struct testbed_host *h, const struct tmem_client *c,
                                struct testbed_remote_sample *out)
{
    struct tmem_tier_stats t;

    memset(out, 0, sizeof(*out));
    if (!h->remote)
        return;
    if (!c) {
        struct remote_tier_stats st;
        struct histogram *hist = malloc(sizeof(*hist));

        for (int persistent = 0; persistent < 2; persistent++)
            if (tmem_tier_stats(h->tm, persistent, &t) == 0)
                testbed_remote_add_tier_stats(out, &t);
        remote_tier_stats(h->remote, &st);
        memcpy(out->conn, st.conn.c, sizeof(out->conn));
        memcpy(out->tier, st.c, sizeof(out->tier));
        out->held_pages = st.held_pages;
        out->refused_capacity = st.c[REMOTE_TIER_REFUSED_CAPACITY];
        for (int op = 0; hist && op < REMOTE_OP_COUNT; op++) {
            remote_tier_latency(h->remote, (enum remote_op)op, hist);
            testbed_remote_add_latency(out, (enum remote_op)op, hist);
        }
        free(hist);
        out->attached = true;
        return;
    }
    {
        struct remote_tier_client_stats *cs = malloc(sizeof(*cs));

        if (!cs || remote_tier_client_stats(h->remote, c, cs) != 0) {
            free(cs);
            return;
        }
        for (int persistent = 0; persistent < 2; persistent++)
            if (tmem_client_tier_stats(c, persistent, &t) == 0)
                testbed_remote_add_tier_stats(out, &t);
        memcpy(out->conn, cs->conn.c, sizeof(out->conn));
        out->held_pages = cs->held_pages;
        out->refused_capacity = cs->refused_capacity;
        for (int op = 0; op < REMOTE_OP_COUNT; op++)
            testbed_remote_add_latency(out, (enum remote_op)op, &cs->latency[op]);
        free(cs);
        out->attached = true;
    }
}

void testbed_host_remote_close(struct testbed_host *h)
{
    if (h->remote) {
        (void)remote_tier_drain(h->remote, 2000);
        remote_tier_destroy(h->remote);
        h->remote = NULL;
    }
    free(h->remote_outdir);
    h->remote_outdir = NULL;
}

uint64_t testbed_remote_cost_ns(const struct testbed_remote_sample *s)
{
    return s->ns[REMOTE_OP_PUT] + s->ns[REMOTE_OP_GET] + s->ns[REMOTE_OP_FLUSH];
}

uint64_t testbed_remote_device_ns(const struct testbed_remote_sample *s, uint32_t page_size,
                                  bool write_through, const struct guest_device_profile *p)
{
    struct guest_device_counts c;
    uint64_t writes = write_through ? 0 : s->puts_accepted;

    memset(&c, 0, sizeof(c));
    c.random_requests = s->hits + writes;
    c.read_bytes = s->hits * page_size;
    c.write_bytes = writes * page_size;
    return guest_device_price_ns(p, &c);
}
