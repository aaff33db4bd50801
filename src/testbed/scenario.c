/*
 * scenario.c - read a testbed scenario (scenario.h) from an INI file with
 * libinih, check it whole, and fill a struct scenario.
 *
 * Design: libinih splits lines into sections and `key = value` pairs and
 * calls scenario_on_key for each pair. The line number comes from our own
 * line reader (ini_parse_stream with scenario_read_line): Debian's libinih
 * does not pass line numbers to the handler (INI_HANDLER_LINENO is 0 in
 * the shared library), but it reads exactly one line per reader call and
 * calls the handler for that line before reading the next, so the count
 * of lines our reader has handed out is the line of the pair. The reader
 * also
 *   - opens sections: libinih calls nobody for a section without keys,
 *     and a missing key must point at its section's line, so the reader
 *     notes each "[...]" header line itself;
 *   - strips leading blanks, so an indented line is a line of its own and
 *     never libinih's multi-line continuation of the previous value;
 *   - refuses lines libinih would cut (longer than its buffer, 200 bytes
 *     with the line end) and NUL bytes, with their line.
 * Libinih's own parse errors (a line that is neither a header nor a pair)
 * come back as the line number it returns.
 *
 * Values are kept in the sections as they come (a key twice is an error);
 * what depends on several keys or sections (a guest's kind, its host, the
 * pressure of each host, start and stop against the run's duration) is
 * checked at the end, in file order, by scenario_finish. The first error
 * (lowest line) wins; later lines are still read but change nothing.
 *
 * Data: struct scenario_parser holds the text, the reader's position, the
 * sections seen (each with the keys it set and their lines) and the
 * [pressure] sections until their hosts are known. It lives on the heap
 * for the time of one parse. No locking: one thread.
 */
#include "testbed/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/size.h"
#include "common/text_file.h"
#include "common/yesno.h"

#define SCENARIO_MAX_SECTIONS (1 + 2 * SCENARIO_MAX_HOSTS + SCENARIO_MAX_GUESTS + SCENARIO_MAX_REMOTES)
#define SCENARIO_MAX_KEYS 32      /* keys a section may set (all different) */
#define SCENARIO_MAX_NAME 63      /* host and guest names */
#define SCENARIO_MAX_FILE (16u << 20)

enum scenario_section_kind {
    SCENARIO_SECTION_RUN,
    SCENARIO_SECTION_HOST,
    SCENARIO_SECTION_PRESSURE,
    SCENARIO_SECTION_GUEST,
    SCENARIO_SECTION_REMOTE,
};

static const char *const scenario_section_names[] = {
    [SCENARIO_SECTION_RUN] = "run",
    [SCENARIO_SECTION_HOST] = "host",
    [SCENARIO_SECTION_PRESSURE] = "pressure",
    [SCENARIO_SECTION_GUEST] = "guest",
    [SCENARIO_SECTION_REMOTE] = "remote",
};

struct scenario_key_line {
    char name[24];
    unsigned line;
};

struct scenario_section {
    enum scenario_section_kind kind;
    char title[80];               /* "[guest web]" for messages */
    char *name;                   /* NULL when the header has none */
    unsigned line;
    size_t index;                 /* into hosts / guests / pressures */
    struct scenario_key_line keys[SCENARIO_MAX_KEYS];
    size_t nkeys;
};

/* A [pressure] section until the hosts are known. */
struct scenario_pressure {
    struct scenario_section *section;
    struct pressure_config config;
};

/* What a guest section gave that only its kind can interpret. */
struct scenario_guest_raw {
    bool have_kind;
    char *workload;               /* the `workload` value */
    char *host;                   /* the `host` value */
    char *migrate;                /* the `migrate` value (read once hosts are known) */
    bool have_remote_kinds;       /* `remote_kinds` given */
};

/* What a host section gave that needs the [remote] sections. */
struct scenario_host_raw {
    char *remote;                 /* the `remote` value */
    unsigned remote_line;
    unsigned remote_kinds_line;   /* 0: not given */
};

struct scenario_parser {
    struct scenario *sc;
    const char *name;             /* the file, for messages */
    const char *text;
    size_t len, pos;
    unsigned line;                /* lines handed to libinih so far */
    struct scenario_section sections[SCENARIO_MAX_SECTIONS];
    size_t nsections;
    struct scenario_section *current; /* NULL before the first header or
                                         after a bad one */
    struct scenario_section *run;
    struct scenario_pressure pressures[SCENARIO_MAX_HOSTS];
    size_t npressures;
    struct scenario_guest_raw raw[SCENARIO_MAX_GUESTS];
    struct scenario_host_raw host_raw[SCENARIO_MAX_HOSTS];
    char *err;
    size_t errlen;
    unsigned err_line;            /* of the first error (0: at the file) */
    bool failed;
    bool nomem;
};

/* ------------------------------------------------------------ errors */

static void scenario_fail(struct scenario_parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void scenario_fail(struct scenario_parser *p, unsigned line, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (p->failed)
        return;
    p->failed = true;
    p->err_line = line;
    if (!p->err || !p->errlen)
        return;
    n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, line);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
}

static void scenario_fail_nomem(struct scenario_parser *p)
{
    scenario_fail(p, p->line, "out of memory");
    p->nomem = true;
}

/* "bad value 'V' for 'K' in [S]: expected ..." at the current line. */
static void scenario_bad_value(struct scenario_parser *p, const char *key, const char *value,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void scenario_bad_value(struct scenario_parser *p, const char *key, const char *value,
                               const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    scenario_fail(p, p->line, "bad value '%.64s' for '%s' in %s: expected %s", value, key,
                  p->current->title, what);
}

/* ------------------------------------------------------------ values */

/* A decimal count from min to max: digits only, read by the size grammar. */
static int scenario_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;

    if (!*s || strspn(s, "0123456789") != strlen(s) || size_parse(s, false, &v) != 0 ||
        v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

static int scenario_set_bool(struct scenario_parser *p, const char *key, const char *value,
                             bool *out)
{
    if (yesno_parse(value, out) == 0)
        return 0;
    scenario_bad_value(p, key, value, YESNO_GRAMMAR);
    return -EINVAL;
}

static int scenario_set_size(struct scenario_parser *p, const char *key, const char *value,
                             bool allow_unlimited, uint64_t *out)
{
    if (size_parse(value, allow_unlimited, out) == 0)
        return 0;
    scenario_bad_value(p, key, value, "%s", size_grammar(allow_unlimited));
    return -EINVAL;
}

static int scenario_set_time(struct scenario_parser *p, const char *key, const char *value,
                             bool above_zero, double *out)
{
    double s;

    if (duration_parse(value, &s) != 0) {
        scenario_bad_value(p, key, value, "%s", duration_grammar());
        return -EINVAL;
    }
    if (above_zero && !(s > 0)) {
        scenario_bad_value(p, key, value, "a time above 0");
        return -EINVAL;
    }
    *out = s;
    return 0;
}

static int scenario_set_string(struct scenario_parser *p, const char *key, const char *value,
                               char **out)
{
    char *copy;

    if (!*value) {
        scenario_bad_value(p, key, value, "a value (it is empty)");
        return -EINVAL;
    }
    copy = strdup(value);
    if (!copy) {
        scenario_fail_nomem(p);
        return -ENOMEM;
    }
    free(*out);
    *out = copy;
    return 0;
}

/* A percentage 0..100 (a trailing '%' allowed) in per mille. */
static int scenario_set_percent(struct scenario_parser *p, const char *key, const char *value,
                                uint32_t *permille)
{
    char buf[32];
    size_t n = strlen(value);
    double v;

    if (n && n < sizeof(buf) && value[n - 1] == '%')
        n--;
    if (n == 0 || n >= sizeof(buf))
        goto bad;
    memcpy(buf, value, n);
    buf[n] = '\0';
    if (duration_parse_number(buf, &v) != 0 || v > 100.0)
        goto bad;
    *permille = (uint32_t)lround(v * 10.0);
    return 0;
bad:
    scenario_bad_value(p, key, value, "a percentage from 0 to 100 (e.g. 30 or 12.5)");
    return -EINVAL;
}

/* ------------------------------------------------------------ [run] */

static int scenario_run_key(struct scenario_parser *p, const char *key, const char *value)
{
    struct scenario *sc = p->sc;

    if (!strcmp(key, "duration"))
        return scenario_set_time(p, key, value, true, &sc->duration_s);
    if (!strcmp(key, "sample_interval"))
        return scenario_set_time(p, key, value, true, &sc->sample_interval_s);
    if (!strcmp(key, "output"))
        return scenario_set_string(p, key, value, &sc->output);
    if (!strcmp(key, "plots"))
        return scenario_set_bool(p, key, value, &sc->plots);
    return -ENOENT;
}

/* ----------------------------------------------------------- [host] */

/* `remote_kinds = ephemeral | persistent | both | none` into TMEM_TIER_* bits. */
static int scenario_set_remote_kinds(struct scenario_parser *p, const char *key,
                                     const char *value, unsigned *out)
{
    static const unsigned kinds[] = {TMEM_TIER_EPHEMERAL, TMEM_TIER_PERSISTENT,
                                     TMEM_TIER_EPHEMERAL | TMEM_TIER_PERSISTENT, 0};

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (!strcmp(value, scenario_remote_kinds_name(kinds[i]))) {
            *out = kinds[i];
            return 0;
        }
    scenario_bad_value(p, key, value, "ephemeral, persistent, both or none");
    return -EINVAL;
}

static int scenario_host_key(struct scenario_parser *p, struct scenario_host *h,
                             const char *key, const char *value)
{
    struct tmem_config *cfg = &h->store;
    struct scenario_host_raw *raw = &p->host_raw[h - p->sc->hosts];
    uint64_t v;

    if (!strcmp(key, "remote")) {
        raw->remote_line = p->line;
        return scenario_set_string(p, key, value, &raw->remote);
    }
    if (!strcmp(key, "remote_kinds")) {
        raw->remote_kinds_line = p->line;
        return scenario_set_remote_kinds(p, key, value, &h->remote_kinds);
    }
    if (!strcmp(key, "capacity"))
        return scenario_set_size(p, key, value, true, &cfg->capacity_bytes);
    if (!strcmp(key, "compressor")) {
        if (tmem_compressor_parse(value, &cfg->compressor, &cfg->compress_level) == 0)
            return 0;
        scenario_bad_value(p, key, value, "lz4, zstd, zstd:LEVEL (1..19) or none");
        return -EINVAL;
    }
    if (!strcmp(key, "dedup"))
        return scenario_set_bool(p, key, value, &cfg->dedup);
    if (!strcmp(key, "same_filled"))
        return scenario_set_bool(p, key, value, &cfg->same_filled);
    if (!strcmp(key, "hysteresis"))
        return scenario_set_bool(p, key, value, &cfg->hysteresis);
    if (!strcmp(key, "latency"))
        return scenario_set_bool(p, key, value, &cfg->latency_histograms);
    if (!strcmp(key, "accept_threshold")) {
        char buf[16];
        size_t n = strlen(value);

        if (n && n < sizeof(buf) && value[n - 1] == '%')
            n--;
        if (n && n < sizeof(buf)) {
            memcpy(buf, value, n);
            buf[n] = '\0';
            if (scenario_parse_count(buf, 1, 100, &v) == 0) {
                cfg->accept_threshold_percent = (uint32_t)v;
                return 0;
            }
        }
        scenario_bad_value(p, key, value, "a percentage of the capacity from 1 to 100");
        return -EINVAL;
    }
    if (!strcmp(key, "page_size")) {
        if (size_parse(value, false, &v) == 0 && v >= 512 && v <= 32768 && !(v & (v - 1))) {
            cfg->page_size = (uint32_t)v;
            return 0;
        }
        scenario_bad_value(p, key, value, "a power of two from 512 to 32K");
        return -EINVAL;
    }
    return -ENOENT;
}

/* --------------------------------------------------------- [remote] */

/* A time ("100ms", "1h") as a count of units (unit_s seconds each) from
 * min to max; range: how the message says it. */
static int scenario_set_units(struct scenario_parser *p, const char *key, const char *value,
                              double unit_s, uint32_t min, uint32_t max, const char *range,
                              uint32_t *out)
{
    double s;

    if (duration_parse(value, &s) == 0 && s / unit_s >= min && s / unit_s <= max) {
        *out = (uint32_t)lround(s / unit_s);
        return 0;
    }
    scenario_bad_value(p, key, value, "a time from %s (e.g. 100ms, 2s, 1h)", range);
    return -EINVAL;
}

static int scenario_remote_key(struct scenario_parser *p, struct scenario_remote *r,
                               const char *key, const char *value)
{
    uint64_t v;

    if (!strcmp(key, "server")) {
        r->servers_line = p->line;
        return scenario_set_string(p, key, value, &r->servers);
    }
    if (!strcmp(key, "user"))
        return scenario_set_string(p, key, value, &r->user);
    if (!strcmp(key, "password"))
        return scenario_set_string(p, key, value, &r->password);
    if (!strcmp(key, "password_file")) {
        r->password_file_line = p->line;
        return scenario_set_string(p, key, value, &r->password_file);
    }
    if (!strcmp(key, "replicas")) {
        if (scenario_parse_count(value, 0, 16, &v) == 0) {
            r->replicas = (uint32_t)v;
            return 0;
        }
        scenario_bad_value(p, key, value, "a number of replicas from 0 to 16");
        return -EINVAL;
    }
    if (!strcmp(key, "wait_timeout"))
        return scenario_set_units(p, key, value, 0.001, 1, 60000, "1ms to 60s",
                                  &r->wait_timeout_ms);
    if (!strcmp(key, "timeout"))
        return scenario_set_units(p, key, value, 0.001, 1, 60000, "1ms to 60s",
                                  &r->timeout_ms);
    if (!strcmp(key, "ephemeral_ttl"))
        return scenario_set_units(p, key, value, 1.0, 1, 86400 * 365, "1s to 365 days",
                                  &r->ephemeral_ttl_s);
    if (!strcmp(key, "capacity"))
        return scenario_set_size(p, key, value, true, &r->capacity);
    if (!strcmp(key, "prefix")) {
        if (*value && strlen(value) < 40 && strspn(value, "abcdefghijklmnopqrstuvwxyz"
                                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                          "0123456789-_.") == strlen(value))
            return scenario_set_string(p, key, value, &r->prefix);
        scenario_bad_value(p, key, value, "up to 39 letters, digits, '-', '_' and '.'");
        return -EINVAL;
    }
    if (!strcmp(key, "acls"))
        return scenario_set_bool(p, key, value, &r->acls);
    if (!strcmp(key, "cluster")) {
        bool on;

        if (!strcmp(value, "detect")) {
            r->cluster = SCENARIO_CLUSTER_DETECT;
            return 0;
        }
        if (yesno_parse(value, &on) == 0) {
            r->cluster = on ? SCENARIO_CLUSTER_YES : SCENARIO_CLUSTER_NO;
            return 0;
        }
        scenario_bad_value(p, key, value, "yes (the servers are Redis Cluster nodes), no "
                           "(one server; the default) or detect");
        return -EINVAL;
    }
    if (!strcmp(key, "shared_pools")) {
        bool shared;

        if (scenario_set_bool(p, key, value, &shared) != 0)
            return -EINVAL;
        if (shared) {
            scenario_fail(p, p->line, "remote: shared pools cannot use the remote tier across "
                          "processes: no coherent invalidation between testbed processes "
                          "yet (docs/remote.md, \"Shared pools\"); shared pools stay local");
            return -EINVAL;
        }
        return 0;
    }
    return -ENOENT;
}

/* ---------------------------------------------------------- [guest] */

enum { FOR_MOUNT = 1, FOR_SWAP = 2, FOR_STRESS = 4, FOR_ANY = 7 };

/* Every guest key and the kinds it is for (checked once the kind is known). */
static const struct scenario_guest_key {
    const char *name;
    int kinds;
} scenario_guest_keys[] = {
    { "kind", FOR_ANY },        { "host", FOR_ANY },        { "weight", FOR_ANY },
    { "cap", FOR_ANY },         { "start", FOR_ANY },       { "stop", FOR_ANY },
    { "workload", FOR_MOUNT | FOR_SWAP }, { "source", FOR_MOUNT },    { "mountpoint", FOR_MOUNT },
    { "options", FOR_MOUNT },   { "repeat", FOR_MOUNT },    { "ram", FOR_SWAP },
    { "memory", FOR_SWAP },     { "swap", FOR_SWAP },       { "trace", FOR_SWAP },
    { "accesses", FOR_SWAP },   { "writes", FOR_SWAP },     { "unmaps", FOR_SWAP },
    { "zipf_alpha", FOR_SWAP }, { "seed", FOR_SWAP | FOR_STRESS },       { "device", FOR_SWAP },
    { "reclaim", FOR_SWAP },    { "exclusive_loads", FOR_SWAP },
    { "write_through", FOR_SWAP }, { "migrate", FOR_SWAP },
    { "fault_swap_write", FOR_SWAP }, { "fault_swap_read", FOR_SWAP },
    { "threads", FOR_STRESS },  { "pages", FOR_STRESS },    { "rate", FOR_STRESS },
    { "check_every", FOR_STRESS },
    { "remote_kinds", FOR_ANY }, { "remote_cap", FOR_ANY },
};

/* The kind's name, as `kind =` takes it. */
static const char *scenario_guest_kind_name(enum scenario_guest_kind kind)
{
    return kind == SCENARIO_GUEST_MOUNT ? "mount" : kind == SCENARIO_GUEST_SWAP ? "swap"
                                                                                : "stress";
}

/* The kind bit of the key table for a guest of that kind. */
static int scenario_guest_kind_bit(enum scenario_guest_kind kind)
{
    return kind == SCENARIO_GUEST_MOUNT ? FOR_MOUNT : kind == SCENARIO_GUEST_SWAP ? FOR_SWAP
                                                                                  : FOR_STRESS;
}

/* "mount", "swap and stress", ...: the kinds of guests a key is for. */
static void scenario_guest_kinds_text(int kinds, char *buf, size_t len)
{
    static const char *const names[] = { "mount", "swap", "stress" };
    size_t n = 0;

    buf[0] = '\0';
    for (int b = 0; b < 3; b++)
        if (kinds & (1 << b))
            n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? " and " : "",
                                  names[b]);
}

static const struct scenario_guest_key *scenario_guest_key_find(const char *key)
{
    for (size_t i = 0; i < sizeof(scenario_guest_keys) / sizeof(scenario_guest_keys[0]); i++)
        if (!strcmp(scenario_guest_keys[i].name, key))
            return &scenario_guest_keys[i];
    return NULL;
}

/* tmemfs -o options the host owns (the store's settings). */
static int scenario_check_mount_options(struct scenario_parser *p, const char *value)
{
    static const char *const store_options[] = { "capacity", "compress", "dedup",
                                                  "page_size" };
    const char *item = value;

    while (*item) {
        size_t n = strcspn(item, ",="), len = strcspn(item, ",");

        for (size_t i = 0; i < sizeof(store_options) / sizeof(store_options[0]); i++) {
            if (strlen(store_options[i]) == n && !strncmp(item, store_options[i], n)) {
                scenario_fail(p, p->line, "option '%s' in 'options' of %s belongs to the "
                              "store: set it in the guest's [host] section",
                              store_options[i], p->current->title);
                return -EINVAL;
            }
        }
        item += len;
        if (*item == ',')
            item++;
    }
    return 0;
}

static int scenario_guest_key(struct scenario_parser *p, struct scenario_guest *g,
                              struct scenario_guest_raw *raw, const char *key,
                              const char *value)
{
    struct scenario_swap *sw = &g->swap;
    uint64_t v;

    if (!scenario_guest_key_find(key))
        return -ENOENT;
    if (!strcmp(key, "kind")) {
        if (!strcmp(value, "mount")) {
            g->kind = SCENARIO_GUEST_MOUNT;
        } else if (!strcmp(value, "swap")) {
            g->kind = SCENARIO_GUEST_SWAP;
        } else if (!strcmp(value, "stress")) {
            g->kind = SCENARIO_GUEST_STRESS;
        } else {
            scenario_bad_value(p, key, value, "mount, swap or stress");
            return -EINVAL;
        }
        raw->have_kind = true;
        return 0;
    }
    if (!strcmp(key, "host"))
        return scenario_set_string(p, key, value, &raw->host);
    if (!strcmp(key, "workload"))
        return scenario_set_string(p, key, value, &raw->workload);
    if (!strcmp(key, "weight")) {
        if (scenario_parse_count(value, 1, 10000, &v) == 0) {
            g->weight = (uint32_t)v;
            return 0;
        }
        scenario_bad_value(p, key, value, "a number from 1 to 10000");
        return -EINVAL;
    }
    if (!strcmp(key, "cap"))
        return scenario_set_size(p, key, value, true, &g->cap);
    if (!strcmp(key, "remote_kinds")) {
        raw->have_remote_kinds = true;
        return scenario_set_remote_kinds(p, key, value, &g->remote_kinds);
    }
    if (!strcmp(key, "remote_cap"))
        return scenario_set_size(p, key, value, true, &g->remote_cap);
    if (!strcmp(key, "start"))
        return scenario_set_time(p, key, value, false, &g->start_s);
    if (!strcmp(key, "stop"))
        return scenario_set_time(p, key, value, false, &g->stop_s);
    /* mount */
    if (!strcmp(key, "source"))
        return scenario_set_string(p, key, value, &g->mount.source);
    if (!strcmp(key, "mountpoint"))
        return scenario_set_string(p, key, value, &g->mount.mountpoint);
    if (!strcmp(key, "options")) {
        if (scenario_check_mount_options(p, value) != 0)
            return -EINVAL;
        return scenario_set_string(p, key, value, &g->mount.options);
    }
    if (!strcmp(key, "repeat"))
        return scenario_set_bool(p, key, value, &g->mount.repeat);
    /* stress */
    if (!strcmp(key, "threads")) {
        if (scenario_parse_count(value, 1, 64, &v) == 0) {
            g->stress.threads = (uint32_t)v;
            return 0;
        }
        scenario_bad_value(p, key, value, "a number of threads from 1 to 64");
        return -EINVAL;
    }
    if (!strcmp(key, "pages")) {
        if (scenario_parse_count(value, 1, 1u << 24, &v) == 0) {
            g->stress.pages = (uint32_t)v;
            return 0;
        }
        scenario_bad_value(p, key, value, "a number of handles per thread from 1 to 16777216");
        return -EINVAL;
    }
    if (!strcmp(key, "rate")) {
        if (!strcmp(value, "none")) {
            g->stress.rate = 0;
            return 0;
        }
        if (scenario_parse_count(value, 1, 100000000, &g->stress.rate) == 0)
            return 0;
        scenario_bad_value(p, key, value, "operations per second per thread (1 to 10^8) or "
                           "none");
        return -EINVAL;
    }
    if (!strcmp(key, "check_every")) {
        if (scenario_parse_count(value, 0, UINT64_MAX, &g->stress.check_every) == 0)
            return 0;
        scenario_bad_value(p, key, value, "a number of operations (0: never check)");
        return -EINVAL;
    }
    /* swap */
    if (!strcmp(key, "ram"))
        return scenario_set_size(p, key, value, false, &sw->ram_bytes);
    if (!strcmp(key, "memory"))
        return scenario_set_size(p, key, value, false, &sw->memory_bytes);
    if (!strcmp(key, "swap"))
        return scenario_set_size(p, key, value, false, &sw->swap_bytes);
    if (!strcmp(key, "trace"))
        return scenario_set_string(p, key, value, &sw->trace);
    if (!strcmp(key, "accesses")) {
        if (scenario_parse_count(value, 0, UINT64_MAX, &sw->accesses) == 0)
            return 0;
        scenario_bad_value(p, key, value, "a number of accesses (0: until the guest stops)");
        return -EINVAL;
    }
    if (!strcmp(key, "writes"))
        return scenario_set_percent(p, key, value, &sw->write_permille);
    if (!strcmp(key, "unmaps"))
        return scenario_set_percent(p, key, value, &sw->unmap_permille);
    if (!strcmp(key, "zipf_alpha")) {
        double a;

        if (duration_parse_number(value, &a) == 0 && a > 0 && a <= 10) {
            sw->zipf_alpha = a;
            return 0;
        }
        scenario_bad_value(p, key, value, "a number above 0 and at most 10 (e.g. 0.99)");
        return -EINVAL;
    }
    if (!strcmp(key, "seed")) {
        if (scenario_parse_count(value, 0, UINT64_MAX, &sw->seed) == 0) {
            g->stress.seed = sw->seed; /* swap and stress guests both have one */
            return 0;
        }
        scenario_bad_value(p, key, value, "a number from 0 to 2^64 - 1");
        return -EINVAL;
    }
    if (!strcmp(key, "device")) {
        if (guest_device_profile_parse(value, &sw->device) == 0)
            return 0;
        scenario_bad_value(p, key, value, "%s", guest_device_grammar());
        return -EINVAL;
    }
    if (!strcmp(key, "reclaim")) {
        if (guest_replace_parse(value, &sw->reclaim) == 0)
            return 0;
        scenario_bad_value(p, key, value, "clock or lru");
        return -EINVAL;
    }
    if (!strcmp(key, "exclusive_loads"))
        return scenario_set_bool(p, key, value, &sw->exclusive_loads);
    if (!strcmp(key, "write_through"))
        return scenario_set_bool(p, key, value, &sw->write_through);
    if (!strcmp(key, "migrate"))
        return scenario_set_string(p, key, value, &raw->migrate);
    if (!strcmp(key, "fault_swap_write") || !strcmp(key, "fault_swap_read")) {
        bool write = !strcmp(key, "fault_swap_write");
        char why[160];

        if (swapsim_io_fault_parse(value, write, write ? &sw->write_fault : &sw->read_fault,
                                   why, sizeof(why)) == 0)
            return 0;
        scenario_bad_value(p, key, value, "[KIND:]FAULT (%s)", why);
        return -EINVAL;
    }
    return -ENOENT;
}

/* --------------------------------------------------------- sections */

static bool scenario_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > SCENARIO_MAX_NAME || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '-' && c != '_' && c != '.')
            return false;
    }
    return true;
}

static void scenario_host_defaults(struct scenario_host *h)
{
    tmem_config_init(&h->store);
    h->store.latency_histograms = true;
    pressure_config_init(&h->pressure);
    h->remote = -1;
    h->remote_kinds = TMEM_TIER_EPHEMERAL | TMEM_TIER_PERSISTENT;
}

static void scenario_remote_defaults(struct scenario_remote *r)
{
    r->wait_timeout_ms = 100;
    r->ephemeral_ttl_s = 3600;
    r->timeout_ms = 500;
    r->capacity = TMEM_CAPACITY_UNLIMITED;
    r->acls = true;
}

static void scenario_guest_defaults(struct scenario_guest *g)
{
    g->weight = 100;
    g->cap = TMEM_CAPACITY_UNLIMITED;
    g->remote_cap = TMEM_CAPACITY_UNLIMITED;
    g->start_s = 0;
    g->stop_s = -1;
    g->swap.write_permille = 300;
    g->swap.zipf_alpha = 0.99;
    g->swap.seed = 1;
    g->swap.reclaim = GUEST_REPLACE_CLOCK;
    guest_device_profile_parse("sata-ssd", &g->swap.device);
    g->stress.threads = 2;
    g->stress.pages = 256;
    g->stress.seed = 1;
    g->stress.check_every = 1000;
}

/* The section of that kind and name seen before (names NULL: none). */
static struct scenario_section *scenario_section_find(struct scenario_parser *p,
                                                      enum scenario_section_kind kind,
                                                      const char *name)
{
    for (size_t i = 0; i < p->nsections; i++) {
        struct scenario_section *s = &p->sections[i];
        const char *a = s->name, *b = name;

        if (s->kind != kind)
            continue;
        if (kind == SCENARIO_SECTION_HOST) { /* [host] is [host host] */
            a = a ? a : "host";
            b = b ? b : "host";
        }
        if (kind == SCENARIO_SECTION_REMOTE) { /* [remote] is [remote remote] */
            a = a ? a : "remote";
            b = b ? b : "remote";
        }
        if ((!a && !b) || (a && b && !strcmp(a, b)))
            return s;
    }
    return NULL;
}

/* Open the section of header text (between the brackets) at p->line. */
static void scenario_open_section(struct scenario_parser *p, char *text)
{
    struct scenario *sc = p->sc;
    struct scenario_section *s, *dup;
    char *type = text, *name;
    size_t kind, n;

    p->current = NULL;
    type += strspn(type, " \t");
    n = strlen(type);
    while (n && isspace((unsigned char)type[n - 1]))
        type[--n] = '\0';
    name = type + strcspn(type, " \t");
    if (*name) {
        *name++ = '\0';
        name += strspn(name, " \t");
    } else {
        name = NULL;
    }
    for (kind = 0; kind < sizeof(scenario_section_names) / sizeof(scenario_section_names[0]);
         kind++)
        if (!strcmp(type, scenario_section_names[kind]))
            break;
    if (kind == sizeof(scenario_section_names) / sizeof(scenario_section_names[0])) {
        scenario_fail(p, p->line, "unknown section [%.64s] (expected [run], [host], "
                      "[pressure], [remote] or [guest NAME])", type);
        return;
    }
    if (kind == SCENARIO_SECTION_RUN && name) {
        scenario_fail(p, p->line, "section [run] takes no name (got '%.64s')", name);
        return;
    }
    if (kind == SCENARIO_SECTION_GUEST && !name) {
        scenario_fail(p, p->line, "section [guest] needs a name: [guest NAME]");
        return;
    }
    if (name && !scenario_name_ok(name)) {
        scenario_fail(p, p->line, "bad name '%.64s' in [%s]: use up to %d letters, digits, "
                      "'-', '_' and '.' (not first)", name, type, SCENARIO_MAX_NAME);
        return;
    }
    dup = scenario_section_find(p, (enum scenario_section_kind)kind, name);
    if (dup) {
        scenario_fail(p, p->line, "duplicate section %s (first at line %u)", dup->title,
                      dup->line);
        return;
    }
    if (kind == SCENARIO_SECTION_HOST && sc->nhosts == SCENARIO_MAX_HOSTS) {
        scenario_fail(p, p->line, "more than %d hosts", SCENARIO_MAX_HOSTS);
        return;
    }
    if (kind == SCENARIO_SECTION_PRESSURE && p->npressures == SCENARIO_MAX_HOSTS) {
        scenario_fail(p, p->line, "more than %d [pressure] sections", SCENARIO_MAX_HOSTS);
        return;
    }
    if (kind == SCENARIO_SECTION_REMOTE && sc->nremotes == SCENARIO_MAX_REMOTES) {
        scenario_fail(p, p->line, "more than %d [remote] sections", SCENARIO_MAX_REMOTES);
        return;
    }
    if (kind == SCENARIO_SECTION_GUEST && sc->nguests == SCENARIO_MAX_GUESTS) {
        scenario_fail(p, p->line, "more than %d guests", SCENARIO_MAX_GUESTS);
        return;
    }
    if (p->nsections == SCENARIO_MAX_SECTIONS) { /* not reached: the limits above */
        scenario_fail(p, p->line, "too many sections");
        return;
    }
    s = &p->sections[p->nsections];
    memset(s, 0, sizeof(*s));
    s->kind = (enum scenario_section_kind)kind;
    s->line = p->line;
    if (name) {
        s->name = strdup(name);
        if (!s->name) {
            scenario_fail_nomem(p);
            return;
        }
        snprintf(s->title, sizeof(s->title), "[%s %s]", type, name);
    } else {
        snprintf(s->title, sizeof(s->title), "[%s]", type);
    }
    p->nsections++;
    switch (s->kind) {
    case SCENARIO_SECTION_RUN:
        p->run = s;
        break;
    case SCENARIO_SECTION_HOST: {
        struct scenario_host *h = &sc->hosts[sc->nhosts];

        s->index = sc->nhosts++;
        scenario_host_defaults(h);
        h->line = s->line;
        h->name = strdup(name ? name : "host");
        if (!h->name) {
            scenario_fail_nomem(p);
            return;
        }
        break;
    }
    case SCENARIO_SECTION_PRESSURE:
        s->index = p->npressures++;
        p->pressures[s->index].section = s;
        pressure_config_init(&p->pressures[s->index].config);
        p->pressures[s->index].config.line = s->line;
        break;
    case SCENARIO_SECTION_REMOTE: {
        struct scenario_remote *r = &sc->remotes[sc->nremotes];

        s->index = sc->nremotes++;
        scenario_remote_defaults(r);
        r->line = s->line;
        r->name = strdup(name ? name : "remote");
        if (!r->name) {
            scenario_fail_nomem(p);
            return;
        }
        break;
    }
    case SCENARIO_SECTION_GUEST: {
        struct scenario_guest *g = &sc->guests[sc->nguests];

        s->index = sc->nguests++;
        scenario_guest_defaults(g);
        g->line = s->line;
        g->name = strdup(name);
        if (!g->name) {
            scenario_fail_nomem(p);
            return;
        }
        break;
    }
    }
    p->current = s;
}

/* The line at which section s set key, or 0. */
static unsigned scenario_key_line(const struct scenario_section *s, const char *key)
{
    for (size_t i = 0; i < s->nkeys; i++)
        if (!strcmp(s->keys[i].name, key))
            return s->keys[i].line;
    return 0;
}

/* libinih's handler: one `key = value` of the current line. */
static int scenario_on_key(void *user, const char *section, const char *key,
                           const char *value)
{
    struct scenario_parser *p = user;
    struct scenario_section *s = p->current;
    unsigned first;
    int rc;

    if (p->failed)
        return 1;
    if (!s) { /* before any header (a bad header has failed already) */
        scenario_fail(p, p->line, "key '%.64s' is outside any section (start with [run])",
                      key);
        return 1;
    }
    (void)section; /* the same as s: our reader opened it */
    first = scenario_key_line(s, key);
    if (first) {
        scenario_fail(p, p->line, "duplicate key '%.64s' in %s (first at line %u)", key,
                      s->title, first);
        return 1;
    }
    switch (s->kind) {
    case SCENARIO_SECTION_RUN:
        rc = scenario_run_key(p, key, value);
        break;
    case SCENARIO_SECTION_HOST:
        rc = scenario_host_key(p, &p->sc->hosts[s->index], key, value);
        break;
    case SCENARIO_SECTION_PRESSURE: {
        struct pressure_config *pc = &p->pressures[s->index].config;
        char perr[512];

        rc = pressure_config_set(pc, key, value, perr, sizeof(perr));
        if (rc == -EINVAL)
            scenario_fail(p, p->line, "%s: %s", s->title, perr);
        else if (rc == -ENOMEM)
            scenario_fail_nomem(p);
        if (rc == 0 && !strcmp(key, "model"))
            pc->line = p->line;
        break;
    }
    case SCENARIO_SECTION_GUEST:
        rc = scenario_guest_key(p, &p->sc->guests[s->index], &p->raw[s->index], key, value);
        break;
    case SCENARIO_SECTION_REMOTE:
        rc = scenario_remote_key(p, &p->sc->remotes[s->index], key, value);
        break;
    default:
        rc = -ENOENT;
    }
    if (rc == -ENOENT) {
        scenario_fail(p, p->line, "unknown key '%.64s' in %s", key, s->title);
        return 1;
    }
    if (rc == 0 && s->nkeys < SCENARIO_MAX_KEYS) {
        snprintf(s->keys[s->nkeys].name, sizeof(s->keys[0].name), "%s", key);
        s->keys[s->nkeys++].line = p->line;
    }
    return 1;
}

/*
 * libinih's reader: the next line of the text into str (num bytes), as
 * fgets would, counting lines. Leading blanks go (no continuation lines);
 * a header line opens its section here; a line libinih would cut or that
 * holds a NUL byte fails and is handed over empty.
 */
static char *scenario_read_line(char *str, int num, void *stream)
{
    struct scenario_parser *p = stream;
    const char *start, *eol, *end = p->text + p->len;
    size_t n;

    if (p->pos >= p->len || num < 4)
        return NULL;
    start = p->text + p->pos;
    eol = memchr(start, '\n', (size_t)(end - start));
    n = eol ? (size_t)(eol - start) + 1 : (size_t)(end - start);
    p->pos += n;
    p->line++;
    if (p->line == 1 && n >= 3 && !memcmp(start, "\xEF\xBB\xBF", 3)) { /* UTF-8 BOM */
        start += 3;
        n -= 3;
    }
    while (n && (*start == ' ' || *start == '\t')) {
        start++;
        n--;
    }
    if (memchr(start, '\0', n)) {
        scenario_fail(p, p->line, "a NUL byte in the line");
        n = 0;
    } else if (n > (size_t)num - 1) { /* fgets would cut it */
        scenario_fail(p, p->line, "line longer than %d characters (libinih's limit; put a "
                      "long command in a script)", num - 2);
        n = 0;
    }
    memcpy(str, start, n);
    str[n] = '\0';
    if (n && str[0] == '[' && !p->failed) {
        /* libinih's rule: the header ends at the first ']' before an
         * inline comment (" ;"); without one it is libinih's error. */
        char *close = NULL;

        for (char *c = str + 1; *c; c++) {
            if (*c == ']') {
                close = c;
                break;
            }
            if (*c == ';' && isspace((unsigned char)c[-1]))
                break;
        }
        if (close) {
            char header[256];
            size_t hn = (size_t)(close - str - 1);

            if (hn >= sizeof(header))
                hn = sizeof(header) - 1;

            memcpy(header, str + 1, hn);
            header[hn] = '\0';
            scenario_open_section(p, header);
        } else {
            p->current = NULL;
        }
    }
    return str;
}

/* ----------------------------------------------------------- finish */

/* The host index for a guest or a pressure section naming host (NULL:
 * none); -1 with the error given. */
static int scenario_resolve_host(struct scenario_parser *p, const char *host, unsigned line,
                                 const char *what)
{
    struct scenario *sc = p->sc;
    int i;

    if (host) {
        i = scenario_host_index(sc, host);
        if (i < 0)
            scenario_fail(p, line, "unknown host '%.64s' in %s", host, what);
        return i;
    }
    if (sc->nhosts == 1)
        return 0;
    return -2; /* the caller says what is wrong */
}

static void scenario_finish_run(struct scenario_parser *p)
{
    if (!p->run) {
        scenario_fail(p, 0, "no [run] section: a scenario needs [run] with duration "
                      "(e.g. duration = 60s)");
        return;
    }
    if (!scenario_key_line(p->run, "duration"))
        scenario_fail(p, p->run->line, "[run] has no duration (e.g. duration = 60s)");
}

static void scenario_finish_hosts(struct scenario_parser *p)
{
    struct scenario *sc = p->sc;

    if (sc->nhosts == 0) { /* one host, all defaults */
        scenario_host_defaults(&sc->hosts[0]);
        sc->hosts[0].line = 0;
        sc->hosts[0].name = strdup("host");
        if (!sc->hosts[0].name) {
            scenario_fail_nomem(p);
            return;
        }
        sc->nhosts = 1;
    }
    for (size_t i = 0; i < p->npressures && !p->failed; i++) {
        struct scenario_pressure *pr = &p->pressures[i];
        struct scenario_section *s = pr->section;
        struct pressure_config *pc = &pr->config;
        unsigned line = pc->line ? pc->line : s->line;
        struct scenario_host *h;
        char perr[512];
        int hi = scenario_resolve_host(p, s->name, s->line, s->title);

        if (hi == -2) {
            hi = scenario_host_index(sc, "host");
            if (hi < 0) {
                scenario_fail(p, s->line, "[pressure] names no host and there are %zu: "
                              "write [pressure NAME]", sc->nhosts);
                return;
            }
        }
        if (hi < 0)
            return;
        h = &sc->hosts[hi];
        if (h->pressure.line) {
            scenario_fail(p, s->line, "host '%s' has a second pressure section (the first "
                          "at line %u)", h->name, h->pressure.line);
            return;
        }
        if (!pressure_config_given(pc, "capacity") &&
            (pc->kind == PRESSURE_CONSTANT || pc->kind == PRESSURE_STEPS ||
             pc->kind == PRESSURE_SCHEDULE || pc->kind == PRESSURE_SPIKE))
            pc->capacity = h->store.capacity_bytes;
        if (pressure_config_check(pc, perr, sizeof(perr)) != 0) {
            scenario_fail(p, line, "%s: %s", s->title, perr);
            return;
        }
        pressure_config_free(&h->pressure);
        h->pressure = *pc;         /* moves the schedule path */
        h->pressure.line = line;
        pc->schedule_path = NULL;
    }
    for (size_t i = 0; i < sc->nhosts; i++) {
        struct scenario_host *h = &sc->hosts[i];

        if (!h->pressure.line && !h->pressure.given) /* constant at the host's capacity */
            h->pressure.capacity = h->store.capacity_bytes;
    }
}

/* [remote] sections complete; each host's `remote` resolved. */
static void scenario_finish_remotes(struct scenario_parser *p)
{
    struct scenario *sc = p->sc;

    for (size_t i = 0; i < sc->nremotes && !p->failed; i++) {
        struct scenario_remote *r = &sc->remotes[i];

        if (!r->servers) {
            scenario_fail(p, r->line, "[remote%s%s] has no server (server = HOST:PORT or "
                          "/path/to/redis.sock, several comma separated)",
                          strcmp(r->name, "remote") ? " " : "",
                          strcmp(r->name, "remote") ? r->name : "");
            return;
        }
        if (r->password && r->password_file) {
            scenario_fail(p, r->password_file_line, "remote %s: password and password_file "
                          "both given (keep one)", r->name);
            return;
        }
    }
    for (size_t i = 0; i < sc->nhosts && !p->failed; i++) {
        struct scenario_host *h = &sc->hosts[i];
        struct scenario_host_raw *raw = &p->host_raw[i];

        if (raw->remote) {
            h->remote = scenario_remote_index(sc, raw->remote);
            if (h->remote < 0) {
                scenario_fail(p, raw->remote_line, "host %s: unknown remote '%.64s' (no "
                              "[remote %.64s] section)", h->name, raw->remote, raw->remote);
                return;
            }
        } else if (raw->remote_kinds_line) {
            scenario_fail(p, raw->remote_kinds_line, "host %s: remote_kinds without a remote "
                          "tier (add remote = NAME)", h->name);
            return;
        }
    }
}

/* A guest's remote kinds: its own or its host's; none without a tier. */
static void scenario_finish_guest_remote(struct scenario_parser *p, struct scenario_section *s,
                                         struct scenario_guest *g,
                                         const struct scenario_guest_raw *raw)
{
    const struct scenario_host *h = &p->sc->hosts[g->host];

    if (h->remote < 0) {
        unsigned line = scenario_key_line(s, "remote_kinds");

        if (raw->have_remote_kinds && g->remote_kinds) {
            scenario_fail(p, line, "guest %s: remote_kinds = %s but host %s has no remote "
                          "tier (remote = NAME in its [host] section)", s->title,
                          scenario_remote_kinds_name(g->remote_kinds), h->name);
            return;
        }
        if (scenario_key_line(s, "remote_cap")) {
            scenario_fail(p, scenario_key_line(s, "remote_cap"), "guest %s: remote_cap but "
                          "host %s has no remote tier", s->title, h->name);
            return;
        }
        g->remote_kinds = 0;
        return;
    }
    if (g->kind == SCENARIO_GUEST_MOUNT) {
        /* a mount's only pool is its cleancache pool: private, ephemeral */
        if (raw->have_remote_kinds && (g->remote_kinds & TMEM_TIER_PERSISTENT)) {
            scenario_fail(p, scenario_key_line(s, "remote_kinds"), "guest %s: remote_kinds = "
                          "%s: a mount guest has only an ephemeral (cleancache) pool (use "
                          "ephemeral or none)", s->title,
                          scenario_remote_kinds_name(g->remote_kinds));
            return;
        }
        if (!raw->have_remote_kinds)
            g->remote_kinds = h->remote_kinds & TMEM_TIER_EPHEMERAL;
        return;
    }
    if (!raw->have_remote_kinds)
        g->remote_kinds = h->remote_kinds;
    if (g->remote_kinds && raw->migrate) {
        scenario_fail(p, scenario_key_line(s, "migrate"), "guest %s: migrate and the remote "
                      "tier do not mix yet (set remote_kinds = none for this guest)",
                      s->title);
        return;
    }
}

/* The guest's key only the other kind has, or NULL. */
static const struct scenario_key_line *scenario_foreign_key(const struct scenario_section *s,
                                                            int kind_bit)
{
    for (size_t i = 0; i < s->nkeys; i++) {
        const struct scenario_guest_key *k = scenario_guest_key_find(s->keys[i].name);

        if (k && !(k->kinds & kind_bit))
            return &s->keys[i];
    }
    return NULL;
}

static void scenario_finish_mount(struct scenario_parser *p, struct scenario_section *s,
                                  struct scenario_guest *g, struct scenario_guest_raw *raw)
{
    if (!g->mount.source) {
        scenario_fail(p, s->line, "mount guest %s has no source (the directory to mount)",
                      s->title);
        return;
    }
    if (!raw->workload) {
        scenario_fail(p, s->line, "mount guest %s has no workload (a shell command run in "
                      "the mount)", s->title);
        return;
    }
    g->mount.command = raw->workload;
    raw->workload = NULL;
}

static void scenario_finish_swap(struct scenario_parser *p, struct scenario_section *s,
                                 struct scenario_guest *g, struct scenario_guest_raw *raw)
{
    struct scenario_swap *sw = &g->swap;
    uint64_t ps = p->sc->hosts[g->host].store.page_size;
    unsigned line;

    if (!ps)
        ps = 4096;
    if (!scenario_key_line(s, "ram")) {
        scenario_fail(p, s->line, "swap guest %s has no ram (its RAM, e.g. ram = 16M)",
                      s->title);
        return;
    }
    if (!scenario_key_line(s, "memory")) {
        scenario_fail(p, s->line, "swap guest %s has no memory (its address space, larger "
                      "than ram, e.g. memory = 48M)", s->title);
        return;
    }
    line = scenario_key_line(s, "ram");
    if (sw->ram_bytes < ps || sw->ram_bytes / ps > UINT32_MAX) {
        scenario_fail(p, line, "ram of %s must be between one page (%llu bytes) and 2^32 "
                      "pages", s->title, (unsigned long long)ps);
        return;
    }
    line = scenario_key_line(s, "memory");
    if (sw->memory_bytes / ps <= sw->ram_bytes / ps) {
        scenario_fail(p, line, "memory of %s (%llu pages) must be larger than its ram "
                      "(%llu pages)", s->title, (unsigned long long)(sw->memory_bytes / ps),
                      (unsigned long long)(sw->ram_bytes / ps));
        return;
    }
    if (sw->memory_bytes / ps > UINT32_MAX) {
        scenario_fail(p, line, "memory of %s is above 2^32 pages", s->title);
        return;
    }
    line = scenario_key_line(s, "swap");
    if (line && (sw->swap_bytes < ps || sw->swap_bytes / ps > UINT32_MAX)) {
        scenario_fail(p, line, "swap of %s must be between one page and 2^32 pages",
                      s->title);
        return;
    }
    if (!line)
        sw->swap_bytes = sw->memory_bytes;
    if (raw->workload && sw->trace) {
        scenario_fail(p, scenario_key_line(s, "trace"), "swap guest %s has both a workload "
                      "and a trace: choose one", s->title);
        return;
    }
    if (!raw->workload && !sw->trace) {
        scenario_fail(p, s->line, "swap guest %s has no workload (workload = uniform, zipf, "
                      "seq, phase or mix; or trace = FILE)", s->title);
        return;
    }
    if (sw->trace) {
        static const char *const generator_keys[] = { "writes", "unmaps", "zipf_alpha" };

        for (size_t i = 0; i < sizeof(generator_keys) / sizeof(generator_keys[0]); i++) {
            line = scenario_key_line(s, generator_keys[i]);
            if (line) {
                scenario_fail(p, line, "key '%s' is for generated workloads, and %s replays "
                              "a trace", generator_keys[i], s->title);
                return;
            }
        }
        return;
    }
    line = scenario_key_line(s, "workload");
    if (swapsim_gen_kind_parse(raw->workload, &sw->generator) != 0) {
        scenario_fail(p, line, "bad value '%.64s' for 'workload' in %s: expected uniform, "
                      "zipf, seq, phase or mix (a swap guest's generator)", raw->workload,
                      s->title);
        return;
    }
    sw->have_generator = true;
    {
        struct swapsim_gen_config gc;
        char gerr[256];

        swapsim_gen_config_init(&gc, (uint32_t)(sw->memory_bytes / ps),
                                sw->accesses ? sw->accesses : 1);
        gc.kind = sw->generator;
        gc.write_permille = sw->write_permille;
        gc.unmap_permille = sw->unmap_permille;
        gc.zipf_alpha = sw->zipf_alpha;
        if (swapsim_gen_config_check(&gc, gerr, sizeof(gerr)) != 0) {
            line = scenario_key_line(s, "unmaps");
            if (!line || scenario_key_line(s, "writes") > line)
                line = scenario_key_line(s, "writes");
            scenario_fail(p, line ? line : s->line, "%s: %s", s->title, gerr);
        }
    }
}

/* `migrate = HOST@TIME[, HOST@TIME...]` of swap guest g (section s):
 * each item a known host and a time in the duration grammar, times
 * rising, after the guest's start and before its stop and the run's end,
 * each host other than the one the guest is on by then. */
static void scenario_finish_migrate(struct scenario_parser *p, struct scenario_section *s,
                                    struct scenario_guest *g, const char *value)
{
    const char *expect = "HOST@TIME[, HOST@TIME...] (e.g. migrate = b@10s, a@20s)";
    unsigned line = scenario_key_line(s, "migrate");
    struct scenario_swap *sw = &g->swap;
    size_t on = g->host;
    const char *item = value;

    for (;;) {
        char buf[160], *at, *name, *end;
        size_t len = strcspn(item, ",");
        struct scenario_migration *m;
        int hi;

        if (len >= sizeof(buf)) {
            scenario_fail(p, line, "bad value '%.64s' for 'migrate' in %s: expected %s", item,
                          s->title, expect);
            return;
        }
        memcpy(buf, item, len);
        buf[len] = '\0';
        for (name = buf; isspace((unsigned char)*name); name++)
            ;
        for (end = name + strlen(name); end > name && isspace((unsigned char)end[-1]); end--)
            end[-1] = '\0';
        at = strchr(name, '@');
        if (!at || at == name || !at[1]) {
            scenario_fail(p, line, "bad value '%.64s' for 'migrate' in %s: expected %s", name,
                          s->title, expect);
            return;
        }
        *at++ = '\0';
        hi = scenario_host_index(p->sc, name);
        if (hi < 0) {
            scenario_fail(p, line, "unknown host '%.64s' in 'migrate' of %s", name, s->title);
            return;
        }
        if (sw->nmigrations == SCENARIO_MAX_MIGRATIONS) {
            scenario_fail(p, line, "more than %d migrations in 'migrate' of %s",
                          SCENARIO_MAX_MIGRATIONS, s->title);
            return;
        }
        m = &sw->migrations[sw->nmigrations];
        if (duration_parse(at, &m->at_s) != 0) {
            scenario_fail(p, line, "bad time '%.64s' in 'migrate' of %s: expected %s", at,
                          s->title, duration_grammar());
            return;
        }
        if (m->at_s <= g->start_s) {
            scenario_fail(p, line, "migration of %s to %s at %gs is not after the guest "
                          "starts (%gs)", s->title, name, m->at_s, g->start_s);
            return;
        }
        if (sw->nmigrations > 0 && m->at_s <= sw->migrations[sw->nmigrations - 1].at_s) {
            scenario_fail(p, line, "migrations of %s are not in time order (%gs after %gs)",
                          s->title, m->at_s, sw->migrations[sw->nmigrations - 1].at_s);
            return;
        }
        if (m->at_s >= p->sc->duration_s || (g->stop_s >= 0 && m->at_s >= g->stop_s)) {
            scenario_fail(p, line, "migration of %s to %s at %gs is not before the guest "
                          "stops (%gs)", s->title, name, m->at_s,
                          g->stop_s >= 0 ? g->stop_s : p->sc->duration_s);
            return;
        }
        if ((size_t)hi == on) {
            scenario_fail(p, line, "migration of %s to %s at %gs: the guest is on host %s "
                          "then already", s->title, name, m->at_s, name);
            return;
        }
        m->host = (size_t)hi;
        on = m->host;
        sw->nmigrations++;
        item += len;
        if (!*item)
            return;
        item++;
    }
}

static void scenario_finish_guests(struct scenario_parser *p)
{
    struct scenario *sc = p->sc;

    for (size_t i = 0; i < p->nsections && !p->failed; i++) {
        struct scenario_section *s = &p->sections[i];
        struct scenario_guest *g;
        struct scenario_guest_raw *raw;
        const struct scenario_key_line *foreign;
        unsigned line;
        int hi;

        if (s->kind != SCENARIO_SECTION_GUEST)
            continue;
        g = &sc->guests[s->index];
        raw = &p->raw[s->index];
        if (!raw->have_kind) {
            scenario_fail(p, s->line, "guest %s has no kind (kind = mount, swap or stress)",
                          s->title);
            return;
        }
        foreign = scenario_foreign_key(s, scenario_guest_kind_bit(g->kind));
        if (foreign) {
            char kinds[64];

            scenario_guest_kinds_text(scenario_guest_key_find(foreign->name)->kinds, kinds,
                                      sizeof(kinds));
            scenario_fail(p, foreign->line, "key '%s' is for %s guests, and %s is a %s guest",
                          foreign->name, kinds, s->title, scenario_guest_kind_name(g->kind));
            return;
        }
        line = scenario_key_line(s, "host");
        hi = scenario_resolve_host(p, raw->host, line, s->title);
        if (hi == -2) {
            scenario_fail(p, s->line, "guest %s names no host and there are %zu: add "
                          "host = NAME", s->title, sc->nhosts);
            return;
        }
        if (hi < 0)
            return;
        g->host = (size_t)hi;
        line = scenario_key_line(s, "start");
        if (g->start_s >= sc->duration_s) {
            scenario_fail(p, line, "guest %s starts at %gs, not before the run ends (%gs)",
                          s->title, g->start_s, sc->duration_s);
            return;
        }
        line = scenario_key_line(s, "stop");
        if (line && g->stop_s <= g->start_s) {
            scenario_fail(p, line, "guest %s stops at %gs, not after it starts (%gs)",
                          s->title, g->stop_s, g->start_s);
            return;
        }
        if (line && g->stop_s > sc->duration_s) {
            scenario_fail(p, line, "guest %s stops at %gs, after the run ends (%gs)", s->title,
                          g->stop_s, sc->duration_s);
            return;
        }
        if (g->kind == SCENARIO_GUEST_MOUNT)
            scenario_finish_mount(p, s, g, raw);
        else if (g->kind == SCENARIO_GUEST_SWAP)
            scenario_finish_swap(p, s, g, raw);
        /* a stress guest's keys were each checked as they came */
        if (!p->failed)
            scenario_finish_guest_remote(p, s, g, raw);
        if (!p->failed && raw->migrate)
            scenario_finish_migrate(p, s, g, raw->migrate);
    }
}

static void scenario_parser_free(struct scenario_parser *p)
{
    for (size_t i = 0; i < p->nsections; i++)
        free(p->sections[i].name);
    for (size_t i = 0; i < p->npressures; i++)
        pressure_config_free(&p->pressures[i].config);
    for (size_t i = 0; i < SCENARIO_MAX_GUESTS; i++) {
        free(p->raw[i].workload);
        free(p->raw[i].host);
        free(p->raw[i].migrate);
    }
    for (size_t i = 0; i < SCENARIO_MAX_HOSTS; i++)
        free(p->host_raw[i].remote);
    free(p);
}

/* ------------------------------------------------------------ public */

int scenario_parse(const char *text, size_t len, const char *name, const char *dir,
                   struct scenario *sc, char *err, size_t errlen)
{
    struct scenario_parser *p;
    int rc;

    memset(sc, 0, sizeof(*sc));
    if (err && errlen)
        err[0] = '\0';
    if (!name)
        name = "<string>";
    sc->sample_interval_s = 1.0;
    sc->plots = true;
    sc->path = strdup(name);
    sc->dir = strdup(dir && *dir ? dir : ".");
    sc->output = strdup("testbed-out");
    p = calloc(1, sizeof(*p));
    if (!p || !sc->path || !sc->dir || !sc->output) {
        free(p);
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", name);
        return -ENOMEM;
    }
    p->sc = sc;
    p->name = name;
    p->text = text ? text : "";
    p->len = text ? len : 0;
    p->err = err;
    p->errlen = errlen;
    rc = ini_parse_stream(scenario_read_line, p, scenario_on_key, p);
    if (rc > 0 && (!p->failed || (unsigned)rc < p->err_line)) {
        p->failed = false; /* libinih's error comes first */
        scenario_fail(p, (unsigned)rc, "expected [section] or key = value");
    } else if (rc < 0 && !p->failed) {
        scenario_fail(p, 0, "libinih failed (%d)", rc);
    }
    if (!p->failed)
        scenario_finish_run(p);
    if (!p->failed)
        scenario_finish_hosts(p);
    if (!p->failed)
        scenario_finish_remotes(p);
    if (!p->failed)
        scenario_finish_guests(p);
    rc = p->nomem ? -ENOMEM : p->failed ? -EINVAL : 0;
    scenario_parser_free(p);
    return rc;
}

int scenario_load(const char *path, struct scenario *sc, char *err, size_t errlen)
{
    char *text = NULL, *dir = NULL, *slash;
    size_t len = 0;
    int rc;

    memset(sc, 0, sizeof(*sc));
    rc = text_file_read(path, SCENARIO_MAX_FILE, &text, &len, err, errlen);
    if (rc < 0)
        return rc;
    dir = strdup(path);
    if (!dir) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -ENOMEM;
        goto out;
    }
    slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    rc = scenario_parse(text, len, path, dir, sc, err, errlen);
out:
    free(dir);
    free(text);
    return rc;
}

void scenario_free(struct scenario *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->nhosts; i++) {
        free(sc->hosts[i].name);
        pressure_config_free(&sc->hosts[i].pressure);
    }
    for (size_t i = 0; i < sc->nguests; i++) {
        struct scenario_guest *g = &sc->guests[i];

        free(g->name);
        free(g->mount.source);
        free(g->mount.mountpoint);
        free(g->mount.options);
        free(g->mount.command);
        free(g->swap.trace);
    }
    for (size_t i = 0; i < sc->nremotes; i++) {
        struct scenario_remote *r = &sc->remotes[i];

        free(r->name);
        free(r->servers);
        free(r->user);
        free(r->password);
        free(r->password_file);
        free(r->prefix);
    }
    free(sc->path);
    free(sc->dir);
    free(sc->output);
    memset(sc, 0, sizeof(*sc));
}

int scenario_guest_index(const struct scenario *sc, const char *name)
{
    for (size_t i = 0; name && i < sc->nguests; i++)
        if (sc->guests[i].name && !strcmp(sc->guests[i].name, name))
            return (int)i;
    return -1;
}

int scenario_host_index(const struct scenario *sc, const char *name)
{
    for (size_t i = 0; name && i < sc->nhosts; i++)
        if (sc->hosts[i].name && !strcmp(sc->hosts[i].name, name))
            return (int)i;
    return -1;
}

int scenario_remote_index(const struct scenario *sc, const char *name)
{
    for (size_t i = 0; name && i < sc->nremotes; i++)
        if (!strcmp(sc->remotes[i].name, name))
            return (int)i;
    return -1;
}

const char *scenario_remote_kinds_name(unsigned kinds)
{
    switch (kinds & (TMEM_TIER_EPHEMERAL | TMEM_TIER_PERSISTENT)) {
    case TMEM_TIER_EPHEMERAL:
        return "ephemeral";
    case TMEM_TIER_PERSISTENT:
        return "persistent";
    case TMEM_TIER_EPHEMERAL | TMEM_TIER_PERSISTENT:
        return "both";
    default:
        return "none";
    }
}
