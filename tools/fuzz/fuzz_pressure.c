/*
 * fuzz_pressure.c - libFuzzer target: the pressure models' parsers and
 * evaluation. The input is "key=value" lines for pressure_config_set, then
 * optionally a line "---" and the text of a schedule file (read through a
 * memfd, as pressure_create reads any file). A model that checks is
 * created and asked for its capacity over 100 s, with guests committing
 * memory; the results must stay inside the model's bounds.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "testbed/pressure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Evaluate m at times 0..100 s; check bounds where the model has them. */
static void evaluate(struct pressure_model *m, const struct pressure_config *pc)
{
    uint64_t committed[3] = { 0, 0, 0 };
    struct pressure_inputs in = { .committed = committed, .nguests = 3 };

    for (int i = 0; i <= 400; i++) {
        uint64_t c;

        in.t_s = i * 0.25;
        in.ops = (uint64_t)i * 1000;
        committed[i % 3] = (uint64_t)i << 20;
        c = pressure_next(m, &in);
        if (pc->kind == PRESSURE_SINE || pc->kind == PRESSURE_RANDOM_WALK)
            assert(c >= pc->low && c <= pc->high);
        if (pc->kind == PRESSURE_SQUARE)
            assert(c == pc->low || c == pc->high);
        if (pc->kind == PRESSURE_SELFBALLOON)
            assert(c <= pc->host_memory);
        if (pc->kind == PRESSURE_SPIKE)
            assert(c >= pc->floor_bytes && c <= pc->capacity);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pressure_config *pc = malloc(sizeof(*pc));
    struct pressure_model *m = NULL;
    char *text = malloc(size + 1), *line, *next, *schedule = NULL;
    char err[512], path[64];
    int fd = -1;

    if (!pc || !text)
        goto out;
    memcpy(text, data, size);
    text[size] = '\0';
    pressure_config_init(pc);
    for (line = text; line; line = next) {
        char *eq;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strcmp(line, "---") == 0) {
            schedule = next;
            break;
        }
        eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        pressure_config_set(pc, line, eq + 1, err, sizeof(err));
    }
    if (pressure_config_check(pc, err, sizeof(err)) != 0)
        goto out;
    if (pc->kind == PRESSURE_SCHEDULE) {
        /* whatever file it named, read the schedule text instead */
        size_t len = schedule ? size - (size_t)(schedule - text) : 0;

        fd = memfd_create("schedule", 0);
        if (fd < 0 || (len && write(fd, data + (schedule - text), len) != (ssize_t)len))
            goto out;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        free(pc->schedule_path);
        pc->schedule_path = strdup(path);
        if (!pc->schedule_path)
            goto out;
    }
    if (pressure_create(pc, NULL, &m, err, sizeof(err)) == 0) {
        assert(pressure_model_kind(m) == pc->kind);
        evaluate(m, pc);
        pressure_destroy(m);
    }
out:
    if (fd >= 0)
        close(fd);
    if (pc)
        pressure_config_free(pc);
    free(pc);
    free(text);
    return 0;
}
