/*
 * scenario.h - a testbed scenario: hosts (tmem stores, each with a
 * pressure model) and guests (tmemfs mounts and swap simulators), read
 * from an INI file (libinih). docs/testbed.md gives the format; in short:
 *
 *   [run]            duration, sample_interval, output, plots
 *   [host] / [host NAME]          one store: capacity, compressor, dedup,
 *                                 same_filled, hysteresis, accept_threshold,
 *                                 page_size, latency (histograms; default on)
 *   [pressure] / [pressure NAME]  the pressure model of host NAME
 *                                 (pressure.h lists the keys)
 *   [remote] / [remote NAME]      a remote tier on Redis (docs/remote.md):
 *                                 server (host:port or /path.sock, several
 *                                 comma separated), user, password or
 *                                 password_file, replicas, wait_timeout,
 *                                 ephemeral_ttl, capacity, prefix, acls,
 *                                 timeout, shared_pools (no only)
 *   a host's `remote = NAME` and `remote_kinds = ephemeral | persistent |
 *   both | none` (default both); a guest's `remote_kinds` (default its
 *   host's; a mount guest's: ephemeral or none) and `remote_cap`
 *   [guest NAME]     kind = mount | swap | stress; host, weight, cap, start, stop;
 *       mount:  source, mountpoint, options (tmemfs -o list), workload (a
 *               shell command run with the mount as its working directory),
 *               repeat (run the command again until the guest stops)
 *       swap:   ram, memory, swap, workload (uniform | zipf | seq | phase |
 *               mix) or trace (a tmem-swapsim trace file), accesses, writes,
 *               unmaps, zipf_alpha, seed, device, reclaim, exclusive_loads,
 *               write_through, migrate (HOST@TIME[, HOST@TIME...]: live
 *               migrations to other hosts at those times)
 *       stress: threads, pages (per thread), rate (operations per second
 *               per thread, or none), seed, check_every
 *
 * With no [host] section there is one host named "host" with the
 * defaults ([host] without a name is that host); a guest names its host
 * with `host =` (needed only when there are several). [pressure] without
 * a name belongs to the only host, or to the unnamed one among several;
 * a pressure model without `capacity` takes its host's; a host without
 * [pressure] is constant at its capacity. Every error is one line
 * "FILE:LINE: what is wrong" (a missing section or key points at the line
 * of the section that lacks it, or at line 0 for the file). Libinih's
 * limits hold: a line of at most 198 characters, ` ;` starts an inline
 * comment.
 *
 * Ownership: scenario_load/scenario_parse fill a struct scenario that owns
 * every string and array in it; scenario_free releases them (also after a
 * failed load). Not thread-safe: one thread loads, then the struct is
 * read-only.
 */
#ifndef TESTBED_SCENARIO_H
#define TESTBED_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tmem.h"
#include "guest/device.h"
#include "guest/replace.h"
#include "swapsim/swapsim.h"
#include "testbed/pressure.h"

#define SCENARIO_MAX_HOSTS 16
#define SCENARIO_MAX_GUESTS 64
#define SCENARIO_MAX_REMOTES 16

/* A [remote NAME] section: the Redis server(s) of a remote tier. The
 * server list and the password file are read by the runner's prepare
 * (remote_endpoint_parse; errors at their lines). */
struct scenario_remote {
    char *name;               /* "remote" when the section has none */
    unsigned line;            /* line of its section */
    char *servers;            /* `server`: comma separated (required) */
    unsigned servers_line;
    char *user, *password;    /* the admin login (NULL: none) */
    char *password_file;      /* its first line is the password */
    unsigned password_file_line;
    uint32_t replicas;        /* WAIT for persistent puts (default 0) */
    uint32_t wait_timeout_ms; /* default 100 */
    uint32_t ephemeral_ttl_s; /* default 3600 */
    uint32_t timeout_ms;      /* command timeout, default 500 */
    uint64_t capacity;        /* bytes, default TMEM_CAPACITY_UNLIMITED */
    char *prefix;             /* NULL: one per run (tmem-PID-RANDOM) */
    bool acls;                /* one Redis ACL user per guest (default yes) */
    enum scenario_cluster { SCENARIO_CLUSTER_NO, SCENARIO_CLUSTER_YES,
                            SCENARIO_CLUSTER_DETECT } cluster; /* `cluster` (default no) */
};

struct scenario_host {
    char *name;                       /* "host" when the section has none */
    unsigned line;                    /* line of its [host] section (0: implied) */
    struct tmem_config store;         /* capacity = the start capacity */
    struct pressure_config pressure;  /* constant at store.capacity if no section */
    int remote;                       /* `remote = NAME`: index into scenario.remotes,
                                         -1: none */
    unsigned remote_kinds;            /* TMEM_TIER_EPHEMERAL | _PERSISTENT bits for its
                                         guests (default both) */
};

enum scenario_guest_kind { SCENARIO_GUEST_MOUNT, SCENARIO_GUEST_SWAP, SCENARIO_GUEST_STRESS };

struct scenario_mount {
    char *source;     /* the dataset (an existing directory) */
    char *mountpoint; /* NULL: a folder the runner makes in the output folder */
    char *options;    /* tmemfs -o list for this mount (NULL: defaults); store
                         options (capacity, compress, ...) are refused: the host
                         owns the store */
    char *command;    /* the workload: `sh -c COMMAND` in the mount */
    bool repeat;      /* run the command again until the guest stops */
};

/* One scheduled live migration of a swap guest (`migrate = HOST@TIME`). */
#define SCENARIO_MAX_MIGRATIONS 16
struct scenario_migration {
    size_t host;   /* the destination: index into scenario.hosts */
    double at_s;   /* when (seconds since the run began) */
};

struct scenario_swap {
    uint64_t ram_bytes;     /* guest RAM (required) */
    uint64_t memory_bytes;  /* address space (required, > ram) */
    uint64_t swap_bytes;    /* swap file (default memory_bytes) */
    bool have_generator;    /* workload = KIND given */
    enum swapsim_gen_kind generator;
    char *trace;            /* trace = PATH given (exclusive with workload) */
    uint64_t accesses;      /* 0: until the guest stops */
    uint32_t write_permille, unmap_permille; /* given in percent */
    double zipf_alpha;
    uint64_t seed;
    struct guest_device_profile device; /* default sata-ssd */
    enum guest_replace_policy reclaim;  /* default CLOCK */
    bool exclusive_loads, write_through;
    /* fault_swap_write / fault_swap_read = [KIND:]FAULT: swap file faults
     * (test switches, swapsim_io_fault_parse's grammar; default off) */
    struct swapsim_io_fault write_fault, read_fault;
    /* migrate = HOST@TIME[, HOST@TIME...]: in time order, each to a host
     * other than the one the guest is on by then */
    struct scenario_migration migrations[SCENARIO_MAX_MIGRATIONS];
    size_t nmigrations;
};

/* kind = stress (guest_stress.h): the core's random workload, checked
 * against a model, in threads on the host's store. */
struct scenario_stress {
    uint32_t threads;     /* default 2 */
    uint32_t pages;       /* handles per thread, default 256 */
    uint64_t rate;        /* operations per second per thread, 0: none (default) */
    uint64_t seed;        /* default 1 */
    uint64_t check_every; /* tmem_check every so many operations of a thread
                             (default 1000; 0: never) */
};

struct scenario_guest {
    char *name;
    unsigned line;       /* line of its [guest NAME] section */
    enum scenario_guest_kind kind;
    size_t host;         /* index into scenario.hosts */
    uint32_t weight;     /* 1..10000, default 100 */
    uint64_t cap;        /* bytes, default TMEM_CAPACITY_UNLIMITED */
    double start_s;      /* default 0 */
    double stop_s;       /* < 0: runs until its workload ends or the run does */
    struct scenario_mount mount; /* kind == SCENARIO_GUEST_MOUNT */
    struct scenario_swap swap;   /* kind == SCENARIO_GUEST_SWAP */
    struct scenario_stress stress; /* kind == SCENARIO_GUEST_STRESS */
    unsigned remote_kinds; /* TMEM_TIER_* bits it uses its host's remote tier for
                              (its host's remote_kinds unless given; 0 with no tier;
                              mount guests: TMEM_TIER_EPHEMERAL at most) */
    uint64_t remote_cap;   /* its own budget there (bytes, default unlimited) */
};

struct scenario {
    char *path;               /* as given ("<string>" for scenario_parse) */
    char *dir;                /* its folder: relative paths are taken from here */
    double duration_s;        /* [run] duration (required) */
    double sample_interval_s; /* default 1 */
    char *output;             /* output folder (default: testbed-out, relative
                                 to the working directory) */
    bool plots;               /* default true */
    struct scenario_host hosts[SCENARIO_MAX_HOSTS];
    size_t nhosts;
    struct scenario_guest guests[SCENARIO_MAX_GUESTS];
    size_t nguests;
    struct scenario_remote remotes[SCENARIO_MAX_REMOTES];
    size_t nremotes;
};

/*
 * Read and check the scenario file at path. Returns 0; -EINVAL with one
 * line "FILE:LINE: problem" in err (unknown section or key, bad value,
 * missing required key, duplicate names, a guest with no workload, an
 * unknown host, mount and swap keys mixed, start >= stop, ...); -errno
 * when the file cannot be read. Nothing outside *sc changes (no file is
 * created, nothing is mounted).
 */
int scenario_load(const char *path, struct scenario *sc, char *err, size_t errlen);

/* The same from text in memory (len bytes, need not be NUL-terminated;
 * a NUL byte inside is an error): name stands for the file in messages
 * (NULL: "<string>"), dir for its folder (NULL: "."). *sc need not be
 * initialised: both functions clear it first. Returns 0, -EINVAL or
 * -ENOMEM. */
int scenario_parse(const char *text, size_t len, const char *name, const char *dir,
                   struct scenario *sc, char *err, size_t errlen);

void scenario_free(struct scenario *sc);

/* Index of the guest or host of that name, or -1. */
int scenario_guest_index(const struct scenario *sc, const char *name);
int scenario_host_index(const struct scenario *sc, const char *name);
int scenario_remote_index(const struct scenario *sc, const char *name);

/* "ephemeral", "persistent", "both" or "none" for TMEM_TIER_* bits. */
const char *scenario_remote_kinds_name(unsigned kinds);

#endif /* TESTBED_SCENARIO_H */
