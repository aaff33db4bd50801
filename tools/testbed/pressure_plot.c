/*
 * pressure_plot.c - print a scenario's pressure model as "t capacity"
 * rows, to plot it (tools/testbed/pressure-plots.sh renders the docs'
 * images with it):
 *
 *   pressure-plot SCENARIO [HOST]
 *
 * Loads SCENARIO (src/testbed/scenario.h), builds the pressure model of
 * HOST (default: the first host) and evaluates it from 0 to the run's
 * duration every model interval, one row per call: the time in seconds
 * and the capacity in MiB ("unlimited" rows are left out: gnuplot draws
 * a gap). No store runs, so the inputs are modelled: a guest commits
 * memory while it runs (from start to stop): a swap guest its ram, a
 * mount guest its cache_size option (16M when not given); the operation
 * count stays 0 (schedule points by operation count never apply).
 * Exit 0; 2 with one line on stderr for a bad scenario or host.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/size.h"
#include "core/tmem.h"
#include "testbed/pressure.h"
#include "testbed/scenario.h"

/* A mount guest's guest cache: its cache_size option, or 16 MiB. */
static uint64_t mount_cache_bytes(const struct scenario_mount *m)
{
    uint64_t bytes = 16ULL << 20;
    const char *opt = m->options ? strstr(m->options, "cache_size=") : NULL;

    if (opt) {
        char value[32];
        size_t n = strcspn(opt + 11, ",");

        if (n < sizeof(value)) {
            memcpy(value, opt + 11, n);
            value[n] = '\0';
            size_parse(value, false, &bytes);
        }
    }
    return bytes;
}

int main(int argc, char **argv)
{
    static struct scenario sc;
    struct pressure_model *m = NULL;
    uint64_t committed[SCENARIO_MAX_GUESTS];
    struct pressure_inputs in = { .committed = committed };
    char err[1024];
    int host = 0, rc = 2;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: pressure-plot SCENARIO [HOST]\n");
        return 2;
    }
    if (scenario_load(argv[1], &sc, err, sizeof(err)) != 0) {
        fprintf(stderr, "pressure-plot: %s\n", err);
        goto out;
    }
    if (argc == 3 && (host = scenario_host_index(&sc, argv[2])) < 0) {
        fprintf(stderr, "pressure-plot: %s: no host '%s'\n", argv[1], argv[2]);
        goto out;
    }
    if (pressure_create(&sc.hosts[host].pressure, sc.dir, &m, err, sizeof(err)) != 0) {
        fprintf(stderr, "pressure-plot: %s\n", err);
        goto out;
    }
    in.nguests = sc.nguests;
    printf("# %s: host %s, model %s\n# t_s capacity_MiB\n", argv[1], sc.hosts[host].name,
           pressure_kind_name(pressure_model_kind(m)));
    for (unsigned long i = 0;; i++) {
        double t = (double)i * pressure_interval(m);
        uint64_t c;

        if (t > sc.duration_s)
            break;
        in.t_s = t;
        for (size_t g = 0; g < sc.nguests; g++) {
            const struct scenario_guest *gu = &sc.guests[g];
            bool running = t >= gu->start_s && (gu->stop_s < 0 || t < gu->stop_s);

            committed[g] = !running ? 0
                           : gu->kind == SCENARIO_GUEST_SWAP ? gu->swap.ram_bytes
                                                             : mount_cache_bytes(&gu->mount);
        }
        c = pressure_next(m, &in);
        if (c == TMEM_CAPACITY_UNLIMITED)
            printf("%g ?\n", t);
        else
            printf("%g %.3f\n", t, (double)c / (1 << 20));
    }
    rc = 0;
out:
    pressure_destroy(m);
    scenario_free(&sc);
    return rc;
}
