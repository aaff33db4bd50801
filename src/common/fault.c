/*
 * fault.c - fault injection's grammar and decision (fault.h).
 *
 * Models: SQLite's fault simulator: fail the N-th event once, or each one
 * with a probability, repeatably. The probability mode draws event k's
 * fate from the stream seeded with seed + k steps (common/rng.h), so
 * threads need no shared stream: one atomic counter numbers the events.
 * Data structures: struct fault (fault.h): the spec and two atomic
 * counters. Locking: none (relaxed atomics).
 */
#include "common/fault.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_text.h"
#include "common/number.h"
#include "common/rng.h"

const char *fault_grammar(void)
{
    return "'off', 'nth=N' (the N-th fails, N >= 1) or 'p=P[,seed=S]' (each fails with "
           "probability P in [0, 1])";
}


/* A decimal fraction in [0, 1] filling text[0 .. len). */
static bool fault_parse_probability(const char *text, size_t len, double *out)
{
    char buf[64], *end;
    double p;

    if (len == 0 || len >= sizeof(buf) || strspn(text, "0123456789.eE-") < len)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    errno = 0;
    p = strtod(buf, &end);
    if (errno || *end || !isfinite(p) || p < 0 || p > 1)
        return false;
    *out = p;
    return true;
}

int fault_parse(const char *text, struct fault_spec *out, char *err, size_t errlen)
{
    struct fault_spec spec = {.mode = FAULT_OFF, .seed = 1};
    const char *comma;

    if (!text) {
        error_text_set(err, errlen, "no fault given: expected %s", fault_grammar());
        return -EINVAL;
    }
    if (!*text || strcmp(text, "off") == 0) {
        *out = spec;
        return 0;
    }
    if (strncmp(text, "nth=", 4) == 0) {
        if (number_parse_u64(text + 4, 10, 0, UINT64_MAX, &spec.nth) != 0 || spec.nth == 0) {
            error_text_set(err, errlen, "fault '%s': N of nth=N must be a whole number >= 1",
                           text);
            return -EINVAL;
        }
        spec.mode = FAULT_NTH;
        *out = spec;
        return 0;
    }
    if (strncmp(text, "p=", 2) == 0) {
        comma = strchr(text, ',');
        size_t plen = comma ? (size_t)(comma - text - 2) : strlen(text + 2);
        if (!fault_parse_probability(text + 2, plen, &spec.probability)) {
            error_text_set(err, errlen, "fault '%s': P of p=P must be a number from 0 to 1",
                           text);
            return -EINVAL;
        }
        if (comma && (strncmp(comma + 1, "seed=", 5) != 0 ||
                      number_parse_u64(comma + 6, 10, 0, UINT64_MAX, &spec.seed) != 0)) {
            error_text_set(err, errlen, "fault '%s': after p=P only ',seed=S' (a whole "
                           "number) may follow", text);
            return -EINVAL;
        }
        spec.mode = spec.probability > 0 ? FAULT_PROBABILITY : FAULT_OFF;
        *out = spec;
        return 0;
    }
    error_text_set(err, errlen, "fault '%s': expected %s", text, fault_grammar());
    return -EINVAL;
}

const char *fault_format(const struct fault_spec *spec, char *buf, size_t size)
{
    switch (spec->mode) {
    case FAULT_NTH:
        snprintf(buf, size, "nth=%" PRIu64, spec->nth);
        break;
    case FAULT_PROBABILITY:
        snprintf(buf, size, "p=%g,seed=%" PRIu64, spec->probability, spec->seed);
        break;
    default:
        snprintf(buf, size, "off");
        break;
    }
    return buf;
}

void fault_init(struct fault *f, const struct fault_spec *spec)
{
    f->spec = *spec;
    atomic_init(&f->events, 0);
    atomic_init(&f->injected, 0);
}

bool fault_decide(struct fault *f)
{
    uint64_t k = atomic_fetch_add_explicit(&f->events, 1, memory_order_relaxed) + 1;
    bool fail = false;

    if (f->spec.mode == FAULT_NTH) {
        fail = k == f->spec.nth;
    } else if (f->spec.mode == FAULT_PROBABILITY) {
        /* event k's own draw: the stream seed, stepped k times */
        uint64_t state = f->spec.seed + k * 0x9e3779b97f4a7c15ULL;
        fail = rng_unit(&state) < f->spec.probability;
    }
    if (fail)
        atomic_fetch_add_explicit(&f->injected, 1, memory_order_relaxed);
    return fail;
}
