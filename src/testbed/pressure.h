/*
 * pressure.h - hypervisor pressure models: the store's capacity over time.
 *
 * A model is evaluated by the testbed every `interval` seconds; each call
 * of pressure_next returns the capacity (bytes, or TMEM_CAPACITY_UNLIMITED)
 * the store should have from now until the next call. Models (t: seconds
 * since the run started):
 *
 *   constant     capacity                       the same all along
 *   steps        steps = T:SIZE, T:SIZE, ...    the last step whose time passed
 *                [, capacity]                   (times increasing; before the
 *                                               first step: capacity)
 *   sine         low, high, period [, phase]    mid + amplitude * sin(2 pi (t / period
 *                                               + phase)), mid = (low + high) / 2,
 *                                               amplitude = (high - low) / 2, rounded
 *                                               and kept in [low, high]
 *   square       low, high, period [, duty]     high for the first duty of each
 *                                               period, then low
 *   random-walk  low, high, step [, capacity, seed]  starts at capacity (default
 *                                               the middle of [low, high]); after
 *                                               each interval (floor(t / interval)
 *                                               moves by time t) moves by a uniform
 *                                               amount in [-step, +step], kept in
 *                                               [low, high]
 *   schedule     file = PATH [, capacity]       points "WHEN SIZE" (WHEN: seconds, e.g. 12.5
 *                                               or 12.5s or 500ms, or an operation count,
 *                                               e.g. 50000ops), applied in file order,
 *                                               each once its time or count is reached
 *                                               (before the first: capacity)
 *   selfballoon  host_memory [, reserve, hysteresis]  Xen's selfballoon: the store
 *                                               gets what the guests leave free,
 *                                               host_memory minus the sum of each
 *                                               guest's target (never below 0); at
 *                                               each call a guest's goal is its
 *                                               committed memory + reserve (0 while
 *                                               it commits nothing: not running); a
 *                                               target below its goal rises to it at
 *                                               once, one above falls by
 *                                               ceil(gap / hysteresis)
 *   spike        at, duration [, capacity, floor, recover]  a co-tenant grabs memory:
 *                                               capacity until `at`, floor from at for
 *                                               duration seconds, then back to
 *                                               capacity linearly over recover seconds
 *                                               (0: at once)
 *
 * Keys (the [pressure] section of a scenario, docs/testbed.md): `model`,
 * the model's own keys above, and `interval` (seconds between changes,
 * at least 1ms, default 0.25). Sizes take the project's size grammar (common/size.h;
 * "unlimited" for capacity, steps, schedule points and square's bounds);
 * times the project's time grammar (common/duration.h: seconds with an
 * optional unit ms, s, m, h). phase and duty are plain numbers (0.25).
 * Everything a model does is deterministic for its seed and inputs.
 *
 * Ownership: a pressure_config owns its strings (pressure_config_free);
 * pressure_create copies what it needs. A model is used by one thread.
 */
#ifndef TESTBED_PRESSURE_H
#define TESTBED_PRESSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pressure_kind {
    PRESSURE_CONSTANT,
    PRESSURE_STEPS,
    PRESSURE_SINE,
    PRESSURE_SQUARE,
    PRESSURE_RANDOM_WALK,
    PRESSURE_SCHEDULE,
    PRESSURE_SELFBALLOON,
    PRESSURE_SPIKE,
};

#define PRESSURE_MAX_STEPS 256

struct pressure_step {
    double at_s;    /* seconds from the start of the run */
    uint64_t bytes; /* TMEM_CAPACITY_UNLIMITED allowed */
};

struct pressure_config {
    enum pressure_kind kind;   /* default constant */
    double interval_s;         /* default 0.25 */
    uint64_t capacity;         /* constant, random-walk start, spike base;
                                  default unlimited */
    uint64_t low, high;        /* sine, square, random-walk bounds */
    double period_s;           /* sine, square */
    double phase;              /* sine: fraction of a period, 0..1 (default 0) */
    double duty;               /* square: share of the period at high (default 0.5) */
    uint64_t step_bytes;       /* random-walk: the largest move per interval */
    uint64_t seed;             /* random-walk (default 1) */
    struct pressure_step steps[PRESSURE_MAX_STEPS];
    size_t nsteps;
    char *schedule_path;       /* schedule: the file, as given */
    uint64_t host_memory;      /* selfballoon */
    uint64_t reserve;          /* selfballoon: added to each guest's committed memory */
    uint32_t hysteresis;       /* selfballoon: >= 1 (default 8) */
    double at_s, duration_s, recover_s; /* spike */
    uint64_t floor_bytes;      /* spike: capacity during the spike (default 0) */
    unsigned line;             /* scenario line of the `model` key, else of the
                                  [pressure] section; 0: no section (messages) */
    uint32_t given;            /* one bit per key set by pressure_config_set
                                  (pressure_config_given): check refuses keys
                                  of other models, and a scenario fills
                                  `capacity` from its host when not given */
};

/* Defaults: constant, unlimited, interval 0.25 s, phase 0, duty 0.5,
 * seed 1, hysteresis 8, nothing else (0), no key given. */
void pressure_config_init(struct pressure_config *pc);
void pressure_config_free(struct pressure_config *pc);

/*
 * Set one key of the [pressure] section. Returns 0; -ENOENT for a key no
 * model has (err: "unknown key 'K'"); -EINVAL for a bad value (err names
 * the key, the value and what is expected; single-value ranges such as
 * interval >= 1ms or phase in [0, 1) are checked here). Keys may come in any
 * order and again (the last wins): a key another model uses is accepted
 * here and refused by pressure_config_check.
 */
int pressure_config_set(struct pressure_config *pc, const char *key, const char *value,
                        char *err, size_t errlen);

/* Whether pressure_config_set set key (a name it accepts) on pc. */
bool pressure_config_given(const struct pressure_config *pc, const char *key);

/*
 * Check that the model has the keys it needs and no key only other models
 * use (e.g. `period` with selfballoon: "key 'period' does not apply to
 * model selfballoon"), and the values together: low <= high, sine's and
 * the random walk's bounds not unlimited, a random walk's start in
 * [low, high], spike's floor <= capacity and a finite capacity when it
 * recovers linearly. Returns 0 or -EINVAL with one line in err.
 */
int pressure_config_check(const struct pressure_config *pc, char *err, size_t errlen);

/* "constant", "steps", "sine", "square", "random-walk", "schedule",
 * "selfballoon", "spike"; and back (0 or -EINVAL). */
const char *pressure_kind_name(enum pressure_kind k);
int pressure_kind_parse(const char *name, enum pressure_kind *out);

/* What the testbed knows when it asks for the next capacity. */
struct pressure_inputs {
    double t_s;                /* seconds since the run started */
    uint64_t ops;              /* tmem operations so far (puts + gets + flushes) */
    const uint64_t *committed; /* each guest's committed memory now (bytes); a
                                  guest not running gives 0 */
    size_t nguests;            /* entries of committed (the same every call) */
};

struct pressure_model;

/*
 * Build a model from a checked config; a schedule file is read now (a
 * relative path is taken from base_dir, the scenario's folder; NULL: the
 * working directory), with "FILE:LINE: what is wrong" in err for a line
 * that does not parse, points out of order (a time before an earlier
 * time, a count below an earlier count) or a file with no point
 * ("FILE:0: ..."). The file: one point "WHEN SIZE" a line, `#` starts a
 * comment, blank lines skipped. Returns 0, -EINVAL, -ENOMEM or -errno of
 * reading the file (err: "FILE: strerror").
 */
int pressure_create(const struct pressure_config *pc, const char *base_dir,
                    struct pressure_model **out, char *err, size_t errlen);
void pressure_destroy(struct pressure_model *m);

/* The capacity from now on. Call with non-decreasing t_s and ops, and
 * the same nguests every call (selfballoon). */
uint64_t pressure_next(struct pressure_model *m, const struct pressure_inputs *in);

/* Seconds between calls the model wants (its config's interval). */
double pressure_interval(const struct pressure_model *m);

/* The model's kind. */
enum pressure_kind pressure_model_kind(const struct pressure_model *m);

#endif /* TESTBED_PRESSURE_H */
