/*
 * fuzz_swapsim.c - libFuzzer target: tmem-swapsim's parsers. The first
 * byte chooses: even, the bytes are a trace file (swapsim_trace_open reads
 * a path, so the bytes go through a memfd) and every access is pulled;
 * odd, they are a --schedule text (swapsim_parse_schedule). Either must
 * parse or refuse, never crash; accesses stay inside the address space.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "swapsim/swapsim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VPAGES 4096

static void fuzz_trace(const uint8_t *data, size_t size)
{
    struct swapsim_workload *w = NULL;
    struct swapsim_access acc;
    char err[2048], path[64];
    int fd = memfd_create("trace", 0), rc;

    if (fd < 0)
        return;
    if (size && write(fd, data, size) != (ssize_t)size)
        goto out;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (swapsim_trace_open(path, VPAGES, &w, err, sizeof(err)) != 0)
        goto out;
    for (int i = 0; i < 100000 && (rc = swapsim_workload_next(w, &acc)) == 1; i++)
        assert(acc.vpage < VPAGES);
    swapsim_workload_destroy(w);
out:
    close(fd);
}

static void fuzz_schedule(const uint8_t *data, size_t size)
{
    static struct swapsim_config cfg;
    char *text = malloc(size + 1), err[512];

    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    swapsim_config_init(&cfg);
    swapsim_parse_schedule(&cfg, text, err, sizeof(err));
    assert(cfg.nevents <= SWAPSIM_MAX_EVENTS);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        fuzz_trace(data + 1, size - 1);
    else
        fuzz_schedule(data + 1, size - 1);
    return 0;
}
