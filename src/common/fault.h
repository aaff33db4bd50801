/*
 * fault.h - the one grammar and the one decision of fault injection
 * (test-only switches: the core's allocation failures, TMEM_FAULT and
 * tmem_config.fault; swapsim's --fault-swap-write / --fault-swap-read):
 *
 *     FAULT := "off" | "nth=" N | "p=" P [ ",seed=" S ]
 *
 * "nth=N": the N-th event (1-based) fails, once; every other succeeds.
 * "p=P":   each event fails with probability P (a decimal in [0, 1]), drawn
 *          from the seeded stream S (common/rng.h; default seed 1), so a
 *          run repeats exactly: the k-th event's fate is a pure function of
 *          (S, k), whatever thread it runs in.
 * "off":   nothing fails (also the empty string).
 * N and S are decimal integers (N >= 1); nothing else is accepted: no
 * spaces, no other keys.
 *
 * A struct fault (the parsed spec plus two counters) decides event by
 * event: fault_hit() counts the event and says whether it fails. Counting
 * is a relaxed atomic add, only while the switch is on (fault_is_on), so
 * an "off" switch costs its caller one predictable branch.
 *
 * Thread-safe: fault_hit may be called from any number of threads at once
 * on one struct fault; the parse functions are pure.
 */
#ifndef COMMON_FAULT_H
#define COMMON_FAULT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fault_mode {
    FAULT_OFF = 0,
    FAULT_NTH,         /* the nth event fails */
    FAULT_PROBABILITY, /* each event fails with probability p */
};

struct fault_spec {
    enum fault_mode mode;
    uint64_t nth;       /* FAULT_NTH: 1-based; UINT64_MAX counts events and fails none */
    double probability; /* FAULT_PROBABILITY: 0..1 */
    uint64_t seed;      /* FAULT_PROBABILITY: the stream's seed */
};

/* What fault_parse accepts, for messages (a static string). */
const char *fault_grammar(void);

/*
 * Parse text (FAULT above) into *out. 0, or -EINVAL with a one-line
 * reason in err (naming the bad part), *out unchanged.
 */
int fault_parse(const char *text, struct fault_spec *out, char *err, size_t errlen);

/* Render spec in the grammar ("off", "nth=3", "p=0.001,seed=7") into
 * buf; returns buf. */
const char *fault_format(const struct fault_spec *spec, char *buf, size_t size);

/* A switch in use: its spec and what it has seen. */
struct fault {
    struct fault_spec spec;
    _Atomic uint64_t events;   /* events counted (only while on) */
    _Atomic uint64_t injected; /* of those, failed by the switch */
};

/* Set f to spec with its counters at zero. */
void fault_init(struct fault *f, const struct fault_spec *spec);

static inline bool fault_is_on(const struct fault *f)
{
    return f->spec.mode != FAULT_OFF;
}

/* Count one event; true when it is to fail (the caller then fails it). */
bool fault_decide(struct fault *f);

/* fault_decide behind the cheap "is it on" test: the call sites' form. */
static inline bool fault_hit(struct fault *f)
{
    return fault_is_on(f) && fault_decide(f);
}

#endif /* COMMON_FAULT_H */
