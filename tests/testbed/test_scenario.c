/*
 * test_scenario.c - scenario files (src/testbed/scenario.h): a full
 * scenario sets every field, a minimal one gets every default, every bad
 * file under tests/testbed/bad/ is refused with the "FILE:LINE: problem"
 * its first line announces ("# expect: LINE: text"; adding a case is
 * adding a file), and every shipped scenario under scenarios/ loads.
 * Run from the top of the source tree (make test does).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testbed/scenario.h"

#define MiB (1ULL << 20)

static const char full_text[] =
    "# every key of every section\n"                 /* 1 */
    "[run]\n"                                        /* 2 */
    "duration = 2m\n"                                /* 3 */
    "sample_interval = 500ms\n"                      /* 4 */
    "output = out/dir\n"                             /* 5 */
    "plots = no\n"                                   /* 6 */
    "\n"                                             /* 7 */
    "[host big]\n"                                   /* 8 */
    "  capacity = 1G\n"                              /* 9: indented */
    "  compressor = zstd:5\n"                        /* 10 */
    "  dedup = off\n"                                /* 11 */
    "  same_filled = no\n"                           /* 12 */
    "  hysteresis = yes\n"                           /* 13 */
    "  accept_threshold = 80%\n"                     /* 14 */
    "  page_size = 8K\n"                             /* 15 */
    "  latency = off\n"                              /* 16 */
    "[host small]\n"                                 /* 17 */
    "capacity = 64M ; an inline comment\n"           /* 18 */
    "[host third]\n"                                 /* 19 */
    "capacity = 128M\n"                              /* 20 */
    "compressor = none\n"                            /* 21 */
    "\n"                                             /* 22 */
    "[pressure big]\n"                               /* 23 */
    "interval = 1s\n"                                /* 24 */
    "model = sine\n"                                 /* 25 */
    "low = 4M\n"                                     /* 26 */
    "high = 40M\n"                                   /* 27 */
    "period = 20s\n"                                 /* 28 */
    "phase = 0.25\n"                                 /* 29 */
    "[pressure small]\n"                             /* 30 */
    "model = spike\n"                                /* 31 */
    "at = 10\n"                                      /* 32 */
    "duration = 5\n"                                 /* 33 */
    "recover = 2s\n"                                 /* 34 */
    "\n"                                             /* 35 */
    "[guest web]\n"                                  /* 36 */
    "kind = mount\n"                                 /* 37 */
    "host = big\n"                                   /* 38 */
    "weight = 300\n"                                 /* 39 */
    "cap = 32M\n"                                    /* 40 */
    "start = 1s\n"                                   /* 41 */
    "stop = 90s\n"                                   /* 42 */
    "source = data\n"                                /* 43 */
    "mountpoint = /mnt/web\n"                        /* 44 */
    "options = cache_size=2M,policy=lru\n"           /* 45 */
    "workload = grep -rl 'x;y' . >/dev/null\n"       /* 46 */
    "repeat = yes\n"                                 /* 47 */
    "[guest db]\n"                                   /* 48 */
    "kind = swap\n"                                  /* 49 */
    "host = small\n"                                 /* 50 */
    "ram = 16M\n"                                    /* 51 */
    "memory = 48M\n"                                 /* 52 */
    "swap = 64M\n"                                   /* 53 */
    "workload = mix\n"                               /* 54 */
    "accesses = 100000\n"                            /* 55 */
    "writes = 12.5\n"                                /* 56 */
    "unmaps = 1%\n"                                  /* 57 */
    "zipf_alpha = 1.2\n"                             /* 58 */
    "seed = 42\n"                                    /* 59 */
    "device = nvme\n"                                /* 60 */
    "reclaim = lru\n"                                /* 61 */
    "exclusive_loads = yes\n"                        /* 62 */
    "write_through = on\n"                           /* 63 */
    "[guest replay]\n"                               /* 64 */
    "kind = swap\n"                                  /* 65 */
    "host = third\n"                                 /* 66 */
    "ram = 8M\n"                                     /* 67 */
    "memory = 16M\n"                                 /* 68 */
    "trace = traces/x.trace\n";                      /* 69 */

/* Rule: every key lands in its field, with its units converted (times in
 * seconds, sizes in bytes, percentages in per mille), and lines recorded;
 * a pressure without `capacity` takes its host's; a host with no
 * [pressure] is constant at its capacity. */
static void test_full_scenario(void **state)
{
    struct scenario sc;
    char err[512] = "";
    const struct scenario_host *h;
    const struct scenario_guest *g;

    (void)state;
    if (scenario_parse(full_text, strlen(full_text), "full.ini", "/some/dir", &sc, err,
                       sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_string_equal(sc.path, "full.ini");
    assert_string_equal(sc.dir, "/some/dir");
    assert_true(sc.duration_s == 120.0);
    assert_true(sc.sample_interval_s == 0.5);
    assert_string_equal(sc.output, "out/dir");
    assert_false(sc.plots);

    assert_int_equal(sc.nhosts, 3);
    h = &sc.hosts[0];
    assert_string_equal(h->name, "big");
    assert_int_equal(h->line, 8);
    assert_true(h->store.capacity_bytes == 1ULL << 30);
    assert_int_equal(h->store.compressor, TMEM_COMPRESSOR_ZSTD);
    assert_int_equal(h->store.compress_level, 5);
    assert_false(h->store.dedup);
    assert_false(h->store.same_filled);
    assert_true(h->store.hysteresis);
    assert_int_equal(h->store.accept_threshold_percent, 80);
    assert_int_equal(h->store.page_size, 8192);
    assert_false(h->store.latency_histograms);
    assert_int_equal(h->pressure.kind, PRESSURE_SINE);
    assert_int_equal(h->pressure.line, 25); /* the model key */
    assert_true(h->pressure.interval_s == 1.0);
    assert_true(h->pressure.low == 4 * MiB && h->pressure.high == 40 * MiB);
    assert_true(h->pressure.period_s == 20.0 && h->pressure.phase == 0.25);

    h = &sc.hosts[1];
    assert_string_equal(h->name, "small");
    assert_true(h->store.capacity_bytes == 64 * MiB); /* the inline comment is gone */
    assert_true(h->store.latency_histograms);          /* default on */
    assert_int_equal(h->store.compressor, TMEM_COMPRESSOR_LZ4);
    assert_int_equal(h->pressure.kind, PRESSURE_SPIKE);
    assert_true(h->pressure.capacity == 64 * MiB);     /* from the host */
    assert_true(h->pressure.at_s == 10 && h->pressure.duration_s == 5);
    assert_true(h->pressure.recover_s == 2 && h->pressure.floor_bytes == 0);

    h = &sc.hosts[2];
    assert_int_equal(h->store.compressor, TMEM_COMPRESSOR_NONE);
    assert_int_equal(h->pressure.kind, PRESSURE_CONSTANT);
    assert_true(h->pressure.capacity == 128 * MiB);
    assert_int_equal(h->pressure.line, 0);

    assert_int_equal(sc.nguests, 3);
    g = &sc.guests[0];
    assert_string_equal(g->name, "web");
    assert_int_equal(g->line, 36);
    assert_int_equal(g->kind, SCENARIO_GUEST_MOUNT);
    assert_int_equal(g->host, 0);
    assert_int_equal(g->weight, 300);
    assert_true(g->cap == 32 * MiB);
    assert_true(g->start_s == 1.0 && g->stop_s == 90.0);
    assert_string_equal(g->mount.source, "data"); /* relative: as written */
    assert_string_equal(g->mount.mountpoint, "/mnt/web");
    assert_string_equal(g->mount.options, "cache_size=2M,policy=lru");
    assert_string_equal(g->mount.command, "grep -rl 'x;y' . >/dev/null");
    assert_true(g->mount.repeat);

    g = &sc.guests[1];
    assert_string_equal(g->name, "db");
    assert_int_equal(g->kind, SCENARIO_GUEST_SWAP);
    assert_int_equal(g->host, 1);
    assert_int_equal(g->weight, 100);
    assert_true(g->cap == TMEM_CAPACITY_UNLIMITED);
    assert_true(g->start_s == 0 && g->stop_s < 0);
    assert_true(g->swap.ram_bytes == 16 * MiB);
    assert_true(g->swap.memory_bytes == 48 * MiB);
    assert_true(g->swap.swap_bytes == 64 * MiB);
    assert_true(g->swap.have_generator);
    assert_int_equal(g->swap.generator, SWAPSIM_GEN_MIX);
    assert_null(g->swap.trace);
    assert_true(g->swap.accesses == 100000);
    assert_int_equal(g->swap.write_permille, 125);
    assert_int_equal(g->swap.unmap_permille, 10);
    assert_true(g->swap.zipf_alpha == 1.2);
    assert_true(g->swap.seed == 42);
    assert_string_equal(g->swap.device.name, "nvme");
    assert_int_equal(g->swap.reclaim, GUEST_REPLACE_LRU);
    assert_true(g->swap.exclusive_loads && g->swap.write_through);

    g = &sc.guests[2];
    assert_int_equal(g->host, 2);
    assert_false(g->swap.have_generator);
    assert_string_equal(g->swap.trace, "traces/x.trace");
    assert_true(g->swap.swap_bytes == 16 * MiB); /* default: memory */
    assert_int_equal(g->swap.write_permille, 300);
    assert_string_equal(g->swap.device.name, "sata-ssd");
    assert_int_equal(g->swap.reclaim, GUEST_REPLACE_CLOCK);

    assert_int_equal(scenario_guest_index(&sc, "replay"), 2);
    assert_int_equal(scenario_guest_index(&sc, "nobody"), -1);
    assert_int_equal(scenario_host_index(&sc, "third"), 2);
    assert_int_equal(scenario_host_index(&sc, "host"), -1);
    scenario_free(&sc);
    assert_int_equal(sc.nguests, 0);
    scenario_free(&sc); /* twice is harmless */
}

/* Rule: with no [host] there is one host "host" with the store's defaults
 * and latency histograms on, constant unlimited pressure; [run] defaults
 * to 1 s samples, plots, output testbed-out; an unnamed [pressure] belongs
 * to the only host; only len bytes are read. */
static void test_defaults(void **state)
{
    static const char text[] = "[run]\nduration=10\n"
                               "[guest a]\nkind=mount\nsource=/x\nworkload=true\n"
                               "[pressure]\nmodel=square\nlow=1M\nhigh=2M\nperiod=4\n"
                               "garbage that is not read";
    struct scenario sc;
    struct tmem_config def;
    char err[512] = "";

    (void)state;
    tmem_config_init(&def);
    if (scenario_parse(text, strlen(text) - strlen("garbage that is not read"), NULL, NULL,
                       &sc, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_string_equal(sc.path, "<string>");
    assert_string_equal(sc.dir, ".");
    assert_string_equal(sc.output, "testbed-out");
    assert_true(sc.sample_interval_s == 1.0);
    assert_true(sc.plots);
    assert_int_equal(sc.nhosts, 1);
    assert_string_equal(sc.hosts[0].name, "host");
    assert_int_equal(sc.hosts[0].line, 0);
    assert_true(sc.hosts[0].store.capacity_bytes == def.capacity_bytes);
    assert_int_equal(sc.hosts[0].store.compressor, def.compressor);
    assert_int_equal(sc.hosts[0].store.dedup, def.dedup);
    assert_true(sc.hosts[0].store.latency_histograms);
    assert_int_equal(sc.hosts[0].pressure.kind, PRESSURE_SQUARE);
    assert_int_equal(sc.guests[0].host, 0);
    assert_false(sc.guests[0].mount.repeat);
    assert_null(sc.guests[0].mount.mountpoint);
    assert_null(sc.guests[0].mount.options);
    scenario_free(&sc);
}

/* Rule: with several hosts, [pressure] goes to the unnamed one and
 * [pressure NAME] to NAME; a host without one is constant at its
 * capacity. */
static void test_pressure_sections_find_their_hosts(void **state)
{
    static const char text[] = "[run]\nduration=10\n"
                               "[host]\ncapacity=8M\n[host b]\ncapacity=16M\n[host c]\n"
                               "[pressure b]\nmodel=steps\nsteps=1:1M\n"
                               "[pressure]\nmodel=constant\ncapacity=4M\n";
    struct scenario sc;
    char err[512] = "";

    (void)state;
    if (scenario_parse(text, strlen(text), "p.ini", NULL, &sc, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(sc.nhosts, 3);
    assert_true(sc.hosts[0].pressure.capacity == 4 * MiB);
    assert_int_equal(sc.hosts[1].pressure.kind, PRESSURE_STEPS);
    assert_true(sc.hosts[1].pressure.capacity == 16 * MiB); /* before the first step */
    assert_int_equal(sc.hosts[2].pressure.kind, PRESSURE_CONSTANT);
    assert_true(sc.hosts[2].pressure.capacity == TMEM_CAPACITY_UNLIMITED);
    scenario_free(&sc);
}

/* Read the "# expect: TEXT" of a bad file's first line into expect. */
static void read_expect(const char *path, char *expect, size_t len)
{
    FILE *f = fopen(path, "r");
    char line[512];

    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "# expect: ", 10) != 0)
        fail_msg("%s: the first line must be '# expect: LINE: message'", path);
    snprintf(expect, len, "%s", line + 10);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.ini files of dir, sorted; returns how many (names malloc'ed). */
static size_t list_ini(const char *dir, char **names, size_t max)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    if (!d)
        fail_msg("%s: %s (run the test from the top of the source tree)", dir,
                 strerror(errno));
    while ((de = readdir(d)) && n < max) {
        size_t len = strlen(de->d_name);

        if (len > 4 && !strcmp(de->d_name + len - 4, ".ini")) {
            names[n] = malloc(strlen(dir) + len + 2);
            assert_non_null(names[n]);
            sprintf(names[n++], "%s/%s", dir, de->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), compare_names);
    return n;
}

/* Rule: every bad scenario is refused (-EINVAL) with exactly one line
 * "FILE:LINE: problem", the one its first line announces, and leaves a
 * struct that scenario_free takes. */
/* Rule: `migrate = HOST@TIME, ...` of a swap guest gives its migrations
 * in order, each host resolved and each time in the duration grammar
 * (blanks around items ignored); a guest without the key has none; a
 * host may come back (a -> b -> a). tests/testbed/bad/migrate-*.ini hold
 * the refusals. */
static void test_migrate_key(void **state)
{
    static const char text[] = "[run]\nduration=10\n[host a]\n[host b]\n[host c]\n"
                               "[guest g]\nkind=swap\nhost=a\nram=1M\nmemory=4M\n"
                               "workload=uniform\nmigrate = b@1.5s,a@2500ms , c@3\n"
                               "[guest h]\nkind=swap\nhost=b\nram=1M\nmemory=4M\n"
                               "workload=uniform\n";
    struct scenario sc;
    char err[512] = "";

    (void)state;
    if (scenario_parse(text, strlen(text), NULL, NULL, &sc, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(sc.guests[0].swap.nmigrations, 3);
    assert_int_equal(sc.guests[0].swap.migrations[0].host, 1);
    assert_true(sc.guests[0].swap.migrations[0].at_s == 1.5);
    assert_int_equal(sc.guests[0].swap.migrations[1].host, 0);
    assert_true(sc.guests[0].swap.migrations[1].at_s == 2.5);
    assert_int_equal(sc.guests[0].swap.migrations[2].host, 2);
    assert_true(sc.guests[0].swap.migrations[2].at_s == 3.0);
    assert_int_equal(sc.guests[1].swap.nmigrations, 0);
    scenario_free(&sc);
}

static void test_bad_files(void **state)
{
    char *names[256];
    size_t n = list_ini("tests/testbed/bad", names, 256);

    (void)state;
    assert_true(n >= 15);
    for (size_t i = 0; i < n; i++) {
        struct scenario sc;
        char err[1024] = "", expect[512], want[1024];
        int rc = scenario_load(names[i], &sc, err, sizeof(err));

        read_expect(names[i], expect, sizeof(expect));
        snprintf(want, sizeof(want), "%s:%s", names[i], expect);
        if (rc != -EINVAL || strncmp(err, want, strlen(want)) != 0)
            fail_msg("%s: rc %d, got '%s', want '%s...'", names[i], rc, err, want);
        assert_null(strchr(err, '\n'));
        scenario_free(&sc);
        free(names[i]);
    }
    printf("%zu bad scenarios refused as announced\n", n);
}

/* Rule: every shipped scenario loads, with at least one guest. */
static void test_shipped_scenarios_load(void **state)
{
    char *names[64];
    size_t n = list_ini("scenarios", names, 64);

    (void)state;
    assert_true(n >= 3);
    for (size_t i = 0; i < n; i++) {
        struct scenario sc;
        char err[1024] = "";

        if (scenario_load(names[i], &sc, err, sizeof(err)) != 0)
            fail_msg("%s", err);
        assert_true(sc.nguests >= 1);
        assert_string_equal(sc.dir, "scenarios");
        scenario_free(&sc);
        free(names[i]);
    }
}

/* Rule: a file that cannot be read gives -errno and "FILE: reason". */
static void test_missing_file(void **state)
{
    struct scenario sc;
    char err[256] = "";

    (void)state;
    assert_int_equal(scenario_load("no/such/file.ini", &sc, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "no/such/file.ini: No such file or directory");
    scenario_free(&sc);
}

/* Rule: NUL bytes and bytes after them are refused with their line, not
 * read as the end of the text. */
static void test_nul_byte(void **state)
{
    static const char text[] = "[run]\nduration=1\nout\0put=x\n";
    struct scenario sc;
    char err[256] = "";

    (void)state;
    assert_int_equal(scenario_parse(text, sizeof(text) - 1, "n.ini", NULL, &sc, err,
                                    sizeof(err)), -EINVAL);
    assert_string_equal(err, "n.ini:3: a NUL byte in the line");
    scenario_free(&sc);
}

/* Rule: [remote] sections are read with their defaults; a host names one
 * (remote = NAME) and the kinds its guests use; a swap or stress guest
 * overrides them (remote_kinds, remote_cap); a guest on a host without a
 * tier and a mount guest get none. */
static void test_remote_sections(void **state)
{
    static const char text[] =
        "[run]\nduration = 10s\n"                                   /* 1-2 */
        "[remote]\nserver = /tmp/r.sock, 127.0.0.1:6380\n"          /* 3-4 */
        "user = admin\npassword = pw\nreplicas = 1\n"               /* 5-7 */
        "wait_timeout = 250ms\nephemeral_ttl = 2m\ncapacity = 8M\n" /* 8-10 */
        "prefix = demo\nacls = no\ntimeout = 1s\nshared_pools = no\n" /* 11-14 */
        "[remote far]\nserver = far.example:6379\n"                 /* 15-16 */
        "[host a]\nremote = remote\nremote_kinds = ephemeral\n"     /* 17-19 */
        "[host b]\nremote = far\n"                                  /* 20-21 */
        "[host c]\n"                                                /* 22 */
        "[guest s1]\nkind = stress\nhost = a\n"                     /* 23-25 */
        "[guest s2]\nkind = stress\nhost = a\nremote_kinds = both\nremote_cap = 1M\n"
        "[guest s3]\nkind = stress\nhost = b\n"
        "[guest s4]\nkind = stress\nhost = c\nremote_kinds = none\n";
    struct scenario sc;
    char err[512] = "";

    (void)state;
    if (scenario_parse(text, sizeof(text) - 1, "r.ini", NULL, &sc, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(sc.nremotes, 2);
    assert_string_equal(sc.remotes[0].name, "remote");
    assert_string_equal(sc.remotes[0].servers, "/tmp/r.sock, 127.0.0.1:6380");
    assert_int_equal(sc.remotes[0].servers_line, 4);
    assert_string_equal(sc.remotes[0].user, "admin");
    assert_string_equal(sc.remotes[0].password, "pw");
    assert_int_equal(sc.remotes[0].replicas, 1);
    assert_int_equal(sc.remotes[0].wait_timeout_ms, 250);
    assert_int_equal(sc.remotes[0].ephemeral_ttl_s, 120);
    assert_int_equal(sc.remotes[0].capacity, 8 * MiB);
    assert_string_equal(sc.remotes[0].prefix, "demo");
    assert_false(sc.remotes[0].acls);
    assert_int_equal(sc.remotes[0].timeout_ms, 1000);
    /* defaults */
    assert_string_equal(sc.remotes[1].name, "far");
    assert_int_equal(sc.remotes[1].replicas, 0);
    assert_int_equal(sc.remotes[1].wait_timeout_ms, 100);
    assert_int_equal(sc.remotes[1].ephemeral_ttl_s, 3600);
    assert_int_equal(sc.remotes[1].timeout_ms, 500);
    assert_true(sc.remotes[1].capacity == TMEM_CAPACITY_UNLIMITED);
    assert_null(sc.remotes[1].prefix);
    assert_true(sc.remotes[1].acls);
    /* hosts */
    assert_int_equal(sc.hosts[0].remote, 0);
    assert_int_equal(sc.hosts[0].remote_kinds, TMEM_TIER_EPHEMERAL);
    assert_int_equal(sc.hosts[1].remote, 1);
    assert_int_equal(sc.hosts[1].remote_kinds, TMEM_TIER_EPHEMERAL | TMEM_TIER_PERSISTENT);
    assert_int_equal(sc.hosts[2].remote, -1);
    /* guests */
    assert_int_equal(sc.guests[0].remote_kinds, TMEM_TIER_EPHEMERAL);
    assert_true(sc.guests[0].remote_cap == TMEM_CAPACITY_UNLIMITED);
    assert_int_equal(sc.guests[1].remote_kinds, TMEM_TIER_EPHEMERAL | TMEM_TIER_PERSISTENT);
    assert_int_equal(sc.guests[1].remote_cap, 1 * MiB);
    assert_int_equal(sc.guests[2].remote_kinds, TMEM_TIER_EPHEMERAL | TMEM_TIER_PERSISTENT);
    assert_int_equal(sc.guests[3].remote_kinds, 0);
    assert_string_equal(scenario_remote_kinds_name(sc.guests[1].remote_kinds), "both");
    scenario_free(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_scenario),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_pressure_sections_find_their_hosts),
        cmocka_unit_test(test_migrate_key),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_shipped_scenarios_load),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_remote_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
