/*
 * pressure.c - the hypervisor pressure models of pressure.h: what a
 * store's capacity is at each moment of a run.
 *
 * Design: a pressure_config is a bag of keys (a table, pressure_keys,
 * names each key, the models it applies to and its parser), filled one
 * key at a time from a scenario and checked as a whole. A pressure_model
 * is a copy of the checked config plus the model's running state:
 *   steps        the index of the next step to pass
 *   random-walk  its random stream (common/rng.h), position and number
 *                of moves made (one per elapsed interval)
 *   schedule     the points read from the file (an array) and the next
 *   selfballoon  one target per guest (an array, sized at the first call)
 * Every function of time is pure (sine, square, spike), so results depend
 * only on the inputs and the seed.
 *
 * Locking: none; a model belongs to one thread (pressure.h).
 */
#include "testbed/pressure.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/rng.h"
#include "common/size.h"
#include "common/text_file.h"
#include "core/tmem.h"

#define PRESSURE_MAX_POINTS (1u << 20)      /* schedule points */
#define PRESSURE_MAX_FILE (64u << 20)       /* schedule file bytes */
#define PRESSURE_MAX_STEP (1ULL << 62)      /* random-walk step (2 step + 1 fits) */
#define PRESSURE_MIN_INTERVAL 0.001         /* seconds between changes */

/* -------------------------------------------------------------- keys */

static const char *const pressure_kind_names[] = {
    [PRESSURE_CONSTANT] = "constant",       [PRESSURE_STEPS] = "steps",
    [PRESSURE_SINE] = "sine",               [PRESSURE_SQUARE] = "square",
    [PRESSURE_RANDOM_WALK] = "random-walk", [PRESSURE_SCHEDULE] = "schedule",
    [PRESSURE_SELFBALLOON] = "selfballoon", [PRESSURE_SPIKE] = "spike",
};
#define PRESSURE_KINDS (sizeof(pressure_kind_names) / sizeof(pressure_kind_names[0]))

#define MODEL_BIT(k) (1u << (k))
#define ALL_MODELS (MODEL_BIT(PRESSURE_KINDS) - 1)

typedef int (*pressure_key_fn)(struct pressure_config *pc, const char *key, const char *value,
                               char *err, size_t errlen);

struct pressure_key {
    const char *name;
    uint32_t models;    /* bit per kind the key applies to */
    uint32_t required;  /* bit per kind that needs it */
    pressure_key_fn set;
};

/* One line "bad value 'V' for 'K': expected ..." in err; returns -EINVAL. */
static int pressure_bad_value(char *err, size_t errlen, const char *key, const char *value,
                              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int pressure_bad_value(char *err, size_t errlen, const char *key, const char *value,
                              const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, errlen, "bad value '%.64s' for '%s': expected ", value, key);

    if (n >= 0 && (size_t)n < errlen) {
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int pressure_set_model(struct pressure_config *pc, const char *key, const char *value,
                              char *err, size_t errlen)
{
    if (pressure_kind_parse(value, &pc->kind) == 0)
        return 0;
    return pressure_bad_value(err, errlen, key, value,
                              "constant, steps, sine, square, random-walk, schedule, "
                              "selfballoon or spike");
}

/* A time above 0 (above_zero) or at least 0. */
static int pressure_parse_time(const char *key, const char *value, bool above_zero,
                               double *out, char *err, size_t errlen)
{
    double s;

    if (duration_parse(value, &s) != 0)
        return pressure_bad_value(err, errlen, key, value, "%s", duration_grammar());
    if (above_zero && !(s > 0))
        return pressure_bad_value(err, errlen, key, value, "a time above 0");
    *out = s;
    return 0;
}

static int pressure_parse_size(const char *key, const char *value, bool allow_unlimited,
                               uint64_t *out, char *err, size_t errlen)
{
    if (size_parse(value, allow_unlimited, out) == 0)
        return 0;
    return pressure_bad_value(err, errlen, key, value, "%s", size_grammar(allow_unlimited));
}

static int pressure_set_interval(struct pressure_config *pc, const char *key,
                                 const char *value, char *err, size_t errlen)
{
    double s;

    if (duration_parse(value, &s) != 0)
        return pressure_bad_value(err, errlen, key, value, "%s", duration_grammar());
    if (s < PRESSURE_MIN_INTERVAL)
        return pressure_bad_value(err, errlen, key, value, "a time of at least 1ms");
    pc->interval_s = s;
    return 0;
}

static int pressure_set_capacity(struct pressure_config *pc, const char *key,
                                 const char *value, char *err, size_t errlen)
{
    return pressure_parse_size(key, value, true, &pc->capacity, err, errlen);
}

static int pressure_set_low(struct pressure_config *pc, const char *key, const char *value,
                            char *err, size_t errlen)
{
    return pressure_parse_size(key, value, true, &pc->low, err, errlen);
}

static int pressure_set_high(struct pressure_config *pc, const char *key, const char *value,
                             char *err, size_t errlen)
{
    return pressure_parse_size(key, value, true, &pc->high, err, errlen);
}

static int pressure_set_period(struct pressure_config *pc, const char *key, const char *value,
                               char *err, size_t errlen)
{
    return pressure_parse_time(key, value, true, &pc->period_s, err, errlen);
}

static int pressure_set_phase(struct pressure_config *pc, const char *key, const char *value,
                              char *err, size_t errlen)
{
    double v;

    if (duration_parse_number(value, &v) != 0 || v >= 1.0)
        return pressure_bad_value(err, errlen, key, value,
                                  "a fraction of the period from 0 to below 1 (e.g. 0.25)");
    pc->phase = v;
    return 0;
}

static int pressure_set_duty(struct pressure_config *pc, const char *key, const char *value,
                             char *err, size_t errlen)
{
    double v;

    if (duration_parse_number(value, &v) != 0 || v > 1.0)
        return pressure_bad_value(err, errlen, key, value,
                                  "the share of the period at high, from 0 to 1 (e.g. 0.5)");
    pc->duty = v;
    return 0;
}

static int pressure_set_step(struct pressure_config *pc, const char *key, const char *value,
                             char *err, size_t errlen)
{
    uint64_t v;

    if (size_parse(value, false, &v) != 0 || v > PRESSURE_MAX_STEP)
        return pressure_bad_value(err, errlen, key, value, "%s, at most 4611686018427387904",
                                  size_grammar(false));
    pc->step_bytes = v;
    return 0;
}

/* A decimal count: digits only, read by the size grammar. */
static int pressure_parse_count(const char *text, uint64_t *out)
{
    if (!text || !*text || strspn(text, "0123456789") != strlen(text))
        return -EINVAL;
    return size_parse(text, false, out);
}

static int pressure_set_seed(struct pressure_config *pc, const char *key, const char *value,
                             char *err, size_t errlen)
{
    if (pressure_parse_count(value, &pc->seed) == 0)
        return 0;
    return pressure_bad_value(err, errlen, key, value, "a number from 0 to 2^64 - 1");
}

/* One "T:SIZE" item of steps (trimmed, NUL-terminated in place). */
static int pressure_parse_step(char *item, struct pressure_step *st, char *err, size_t errlen)
{
    char *colon = strchr(item, ':');
    char *when = item, *size;
    size_t n;

    if (!colon) {
        snprintf(err, errlen, "bad item '%.64s' in 'steps': expected TIME:SIZE (e.g. 10s:32M)",
                 item);
        return -EINVAL;
    }
    *colon = '\0';
    size = colon + 1;
    n = strlen(when);
    while (n && (when[n - 1] == ' ' || when[n - 1] == '\t'))
        when[--n] = '\0';
    size += strspn(size, " \t");
    if (duration_parse(when, &st->at_s) != 0) {
        snprintf(err, errlen, "bad time '%.64s' in 'steps': expected %s", when,
                 duration_grammar());
        return -EINVAL;
    }
    if (size_parse(size, true, &st->bytes) != 0) {
        snprintf(err, errlen, "bad size '%.64s' in 'steps': expected %s", size,
                 size_grammar(true));
        return -EINVAL;
    }
    return 0;
}

static int pressure_set_steps(struct pressure_config *pc, const char *key, const char *value,
                              char *err, size_t errlen)
{
    struct pressure_step steps[PRESSURE_MAX_STEPS];
    char *copy = strdup(value), *item, *next;
    size_t n = 0;
    int rc = 0;

    if (!copy)
        return -ENOMEM;
    for (item = copy; item; item = next) {
        size_t len;

        next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        item += strspn(item, " \t");
        len = strlen(item);
        while (len && (item[len - 1] == ' ' || item[len - 1] == '\t'))
            item[--len] = '\0';
        if (!len) {
            snprintf(err, errlen, "empty item in 'steps': expected TIME:SIZE, TIME:SIZE, ... "
                     "(e.g. 0:64M, 10s:32M)");
            rc = -EINVAL;
            goto out;
        }
        if (n == PRESSURE_MAX_STEPS) {
            snprintf(err, errlen, "more than %d items in 'steps'", PRESSURE_MAX_STEPS);
            rc = -EINVAL;
            goto out;
        }
        rc = pressure_parse_step(item, &steps[n], err, errlen);
        if (rc)
            goto out;
        if (n && !(steps[n].at_s > steps[n - 1].at_s)) {
            snprintf(err, errlen, "times in 'steps' must increase: %gs after %gs",
                     steps[n].at_s, steps[n - 1].at_s);
            rc = -EINVAL;
            goto out;
        }
        n++;
    }
    memcpy(pc->steps, steps, n * sizeof(steps[0]));
    pc->nsteps = n;
out:
    free(copy);
    return rc;
}

static int pressure_set_file(struct pressure_config *pc, const char *key, const char *value,
                             char *err, size_t errlen)
{
    char *copy;

    if (!*value)
        return pressure_bad_value(err, errlen, key, value, "a file name");
    copy = strdup(value);
    if (!copy)
        return -ENOMEM;
    free(pc->schedule_path);
    pc->schedule_path = copy;
    return 0;
}

static int pressure_set_host_memory(struct pressure_config *pc, const char *key,
                                    const char *value, char *err, size_t errlen)
{
    return pressure_parse_size(key, value, false, &pc->host_memory, err, errlen);
}

static int pressure_set_reserve(struct pressure_config *pc, const char *key, const char *value,
                                char *err, size_t errlen)
{
    return pressure_parse_size(key, value, false, &pc->reserve, err, errlen);
}

static int pressure_set_hysteresis(struct pressure_config *pc, const char *key,
                                   const char *value, char *err, size_t errlen)
{
    uint64_t v;

    if (pressure_parse_count(value, &v) != 0 || v < 1 || v > 1000000)
        return pressure_bad_value(err, errlen, key, value,
                                  "a number from 1 to 1000000 (a target falls by 1/N of "
                                  "its gap per interval)");
    pc->hysteresis = (uint32_t)v;
    return 0;
}

static int pressure_set_at(struct pressure_config *pc, const char *key, const char *value,
                           char *err, size_t errlen)
{
    return pressure_parse_time(key, value, false, &pc->at_s, err, errlen);
}

static int pressure_set_duration(struct pressure_config *pc, const char *key,
                                 const char *value, char *err, size_t errlen)
{
    return pressure_parse_time(key, value, true, &pc->duration_s, err, errlen);
}

static int pressure_set_floor(struct pressure_config *pc, const char *key, const char *value,
                              char *err, size_t errlen)
{
    return pressure_parse_size(key, value, false, &pc->floor_bytes, err, errlen);
}

static int pressure_set_recover(struct pressure_config *pc, const char *key,
                                const char *value, char *err, size_t errlen)
{
    return pressure_parse_time(key, value, false, &pc->recover_s, err, errlen);
}

#define WAVES (MODEL_BIT(PRESSURE_SINE) | MODEL_BIT(PRESSURE_SQUARE))
#define BOUNDED (WAVES | MODEL_BIT(PRESSURE_RANDOM_WALK))

/* Every key; the bit of key i in pressure_config.given is 1 << i. */
static const struct pressure_key pressure_keys[] = {
    { "model", ALL_MODELS, 0, pressure_set_model },
    { "interval", ALL_MODELS, 0, pressure_set_interval },
    { "capacity",
      MODEL_BIT(PRESSURE_CONSTANT) | MODEL_BIT(PRESSURE_STEPS) | MODEL_BIT(PRESSURE_RANDOM_WALK) |
          MODEL_BIT(PRESSURE_SCHEDULE) | MODEL_BIT(PRESSURE_SPIKE),
      0, pressure_set_capacity },
    { "low", BOUNDED, BOUNDED, pressure_set_low },
    { "high", BOUNDED, BOUNDED, pressure_set_high },
    { "period", WAVES, WAVES, pressure_set_period },
    { "phase", MODEL_BIT(PRESSURE_SINE), 0, pressure_set_phase },
    { "duty", MODEL_BIT(PRESSURE_SQUARE), 0, pressure_set_duty },
    { "step", MODEL_BIT(PRESSURE_RANDOM_WALK), MODEL_BIT(PRESSURE_RANDOM_WALK), pressure_set_step },
    { "seed", MODEL_BIT(PRESSURE_RANDOM_WALK), 0, pressure_set_seed },
    { "steps", MODEL_BIT(PRESSURE_STEPS), MODEL_BIT(PRESSURE_STEPS), pressure_set_steps },
    { "file", MODEL_BIT(PRESSURE_SCHEDULE), MODEL_BIT(PRESSURE_SCHEDULE), pressure_set_file },
    { "host_memory", MODEL_BIT(PRESSURE_SELFBALLOON), MODEL_BIT(PRESSURE_SELFBALLOON),
      pressure_set_host_memory },
    { "reserve", MODEL_BIT(PRESSURE_SELFBALLOON), 0, pressure_set_reserve },
    { "hysteresis", MODEL_BIT(PRESSURE_SELFBALLOON), 0, pressure_set_hysteresis },
    { "at", MODEL_BIT(PRESSURE_SPIKE), MODEL_BIT(PRESSURE_SPIKE), pressure_set_at },
    { "duration", MODEL_BIT(PRESSURE_SPIKE), MODEL_BIT(PRESSURE_SPIKE), pressure_set_duration },
    { "floor", MODEL_BIT(PRESSURE_SPIKE), 0, pressure_set_floor },
    { "recover", MODEL_BIT(PRESSURE_SPIKE), 0, pressure_set_recover },
};
#define PRESSURE_NKEYS (sizeof(pressure_keys) / sizeof(pressure_keys[0]))

static int pressure_key_index(const char *key)
{
    for (size_t i = 0; i < PRESSURE_NKEYS; i++)
        if (strcmp(pressure_keys[i].name, key) == 0)
            return (int)i;
    return -1;
}

/* ------------------------------------------------------------ config */

void pressure_config_init(struct pressure_config *pc)
{
    memset(pc, 0, sizeof(*pc));
    pc->kind = PRESSURE_CONSTANT;
    pc->interval_s = 0.25;
    pc->capacity = TMEM_CAPACITY_UNLIMITED;
    pc->duty = 0.5;
    pc->seed = 1;
    pc->hysteresis = 8;
}

void pressure_config_free(struct pressure_config *pc)
{
    free(pc->schedule_path);
    pc->schedule_path = NULL;
}

int pressure_config_set(struct pressure_config *pc, const char *key, const char *value,
                        char *err, size_t errlen)
{
    int i = key ? pressure_key_index(key) : -1;
    int rc;

    if (i < 0) {
        snprintf(err, errlen, "unknown key '%.64s'", key ? key : "");
        return -ENOENT;
    }
    if (!value)
        value = "";
    rc = pressure_keys[i].set(pc, key, value, err, errlen);
    if (rc == 0)
        pc->given |= 1u << i;
    else if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    return rc;
}

bool pressure_config_given(const struct pressure_config *pc, const char *key)
{
    int i = key ? pressure_key_index(key) : -1;

    return i >= 0 && (pc->given & (1u << i));
}

const char *pressure_kind_name(enum pressure_kind k)
{
    return (unsigned)k < PRESSURE_KINDS ? pressure_kind_names[k] : "unknown";
}

int pressure_kind_parse(const char *name, enum pressure_kind *out)
{
    for (size_t k = 0; name && k < PRESSURE_KINDS; k++) {
        if (strcmp(name, pressure_kind_names[k]) == 0) {
            *out = (enum pressure_kind)k;
            return 0;
        }
    }
    return -EINVAL;
}

int pressure_config_check(const struct pressure_config *pc, char *err, size_t errlen)
{
    const char *model = pressure_kind_name(pc->kind);
    uint32_t bit = MODEL_BIT(pc->kind);
    bool bounded = (BOUNDED & bit) != 0;

    if ((unsigned)pc->kind >= PRESSURE_KINDS) {
        snprintf(err, errlen, "unknown model %d", (int)pc->kind);
        return -EINVAL;
    }
    for (size_t i = 0; i < PRESSURE_NKEYS; i++) {
        bool given = (pc->given & (1u << i)) != 0;

        if (given && !(pressure_keys[i].models & bit)) {
            snprintf(err, errlen, "key '%s' does not apply to model %s", pressure_keys[i].name,
                     model);
            return -EINVAL;
        }
        if (!given && (pressure_keys[i].required & bit)) {
            snprintf(err, errlen, "model %s needs key '%s'", model, pressure_keys[i].name);
            return -EINVAL;
        }
    }
    if (!(pc->interval_s >= PRESSURE_MIN_INTERVAL) || !isfinite(pc->interval_s)) {
        snprintf(err, errlen, "interval must be a time of at least 1ms");
        return -EINVAL;
    }
    if (bounded && pc->low > pc->high) {
        snprintf(err, errlen, "low (%llu bytes) is above high (%llu bytes)",
                 (unsigned long long)pc->low, (unsigned long long)pc->high);
        return -EINVAL;
    }
    if ((pc->kind == PRESSURE_SINE || pc->kind == PRESSURE_RANDOM_WALK) &&
        (pc->low == TMEM_CAPACITY_UNLIMITED || pc->high == TMEM_CAPACITY_UNLIMITED)) {
        snprintf(err, errlen, "model %s needs low and high as sizes, not unlimited", model);
        return -EINVAL;
    }
    if (pc->kind == PRESSURE_RANDOM_WALK && pressure_config_given(pc, "capacity") &&
        (pc->capacity < pc->low || pc->capacity > pc->high)) {
        snprintf(err, errlen, "random-walk starts at capacity, which must lie between low and "
                 "high");
        return -EINVAL;
    }
    if (pc->kind == PRESSURE_STEPS && pc->nsteps == 0) {
        snprintf(err, errlen, "model steps needs at least one TIME:SIZE in 'steps'");
        return -EINVAL;
    }
    if (pc->kind == PRESSURE_SELFBALLOON && pc->hysteresis < 1) {
        snprintf(err, errlen, "hysteresis must be at least 1");
        return -EINVAL;
    }
    if (pc->kind == PRESSURE_SPIKE) {
        if (pc->floor_bytes > pc->capacity) {
            snprintf(err, errlen, "spike's floor is above its capacity");
            return -EINVAL;
        }
        if (pc->recover_s > 0 && pc->capacity == TMEM_CAPACITY_UNLIMITED) {
            snprintf(err, errlen, "spike recovers linearly to capacity over 'recover' "
                     "seconds: capacity must be a size, not unlimited (or recover = 0)");
            return -EINVAL;
        }
        if (!(pc->duration_s > 0)) {
            snprintf(err, errlen, "spike's duration must be above 0");
            return -EINVAL;
        }
    }
    if (pc->kind == PRESSURE_SCHEDULE && (!pc->schedule_path || !*pc->schedule_path)) {
        snprintf(err, errlen, "model schedule needs key 'file'");
        return -EINVAL;
    }
    return 0;
}

/* ----------------------------------------------------------- schedule */

struct pressure_point {
    bool by_ops;      /* when ops >= ops, else when t >= at_s */
    double at_s;
    uint64_t ops;
    uint64_t bytes;
};

struct pressure_model {
    struct pressure_config cfg;   /* schedule_path not kept (NULL) */
    size_t next_step;             /* steps: the first step not yet passed */
    uint64_t walk_rng;            /* random-walk: its stream */
    uint64_t walk_at;             /* its position */
    uint64_t walk_moves;          /* moves made */
    struct pressure_point *points;/* schedule */
    size_t npoints, next_point;
    uint64_t schedule_at;         /* the last point applied (capacity before) */
    uint64_t *targets;            /* selfballoon: one per guest */
    size_t ntargets;
};

/* "WHEN" of a schedule line: a time or "Nops". 0 or -EINVAL. */
static int pressure_parse_when(const char *text, struct pressure_point *pt)
{
    size_t n = strlen(text);

    if (n > 3 && strcmp(text + n - 3, "ops") == 0) {
        char digits[32];

        if (n - 3 >= sizeof(digits))
            return -EINVAL;
        memcpy(digits, text, n - 3);
        digits[n - 3] = '\0';
        pt->by_ops = true;
        return pressure_parse_count(digits, &pt->ops);
    }
    pt->by_ops = false;
    return duration_parse(text, &pt->at_s);
}

/*
 * Parse a schedule (text of len bytes, name for messages) into m->points.
 * Each line: optional "WHEN SIZE", then an optional "# comment".
 */
static int pressure_parse_schedule(struct pressure_model *m, const char *text, size_t len,
                                   const char *name, char *err, size_t errlen)
{
    const char *p = text, *end = text + len;
    unsigned line = 0;
    size_t cap = 0;
    bool have_time = false, have_ops = false;
    double last_time = 0;
    uint64_t last_ops = 0;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *stop = eol ? eol : end, *hash;
        char buf[256], *tok[3], *save = NULL;
        struct pressure_point pt;
        size_t n, ntok = 0;

        line++;
        if (memchr(p, '\0', (size_t)(stop - p))) {
            snprintf(err, errlen, "%s:%u: a NUL byte in the line", name, line);
            return -EINVAL;
        }
        hash = memchr(p, '#', (size_t)(stop - p));
        n = (size_t)((hash ? hash : stop) - p);
        if (n >= sizeof(buf)) {
            snprintf(err, errlen, "%s:%u: line longer than %zu characters", name, line,
                     sizeof(buf) - 1);
            return -EINVAL;
        }
        memcpy(buf, p, n);
        buf[n] = '\0';
        p = eol ? eol + 1 : end;
        for (char *t = strtok_r(buf, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
            if (ntok == 3)
                break;
            tok[ntok++] = t;
        }
        if (ntok == 0)
            continue;
        if (ntok != 2) {
            snprintf(err, errlen, "%s:%u: expected 'WHEN SIZE' (e.g. '10s 64M' or "
                     "'50000ops 64M')", name, line);
            return -EINVAL;
        }
        if (pressure_parse_when(tok[0], &pt) != 0) {
            snprintf(err, errlen, "%s:%u: bad time '%.64s': expected %s, or an operation "
                     "count (e.g. 50000ops)", name, line, tok[0], duration_grammar());
            return -EINVAL;
        }
        if (size_parse(tok[1], true, &pt.bytes) != 0) {
            snprintf(err, errlen, "%s:%u: bad size '%.64s': expected %s", name, line, tok[1],
                     size_grammar(true));
            return -EINVAL;
        }
        if (pt.by_ops ? (have_ops && pt.ops < last_ops)
                      : (have_time && pt.at_s < last_time)) {
            if (pt.by_ops)
                snprintf(err, errlen, "%s:%u: point at %lluops comes before the previous "
                         "one (%lluops): points must be in order", name, line,
                         (unsigned long long)pt.ops, (unsigned long long)last_ops);
            else
                snprintf(err, errlen, "%s:%u: point at %gs comes before the previous one "
                         "(%gs): points must be in order", name, line, pt.at_s, last_time);
            return -EINVAL;
        }
        if (pt.by_ops) {
            have_ops = true;
            last_ops = pt.ops;
        } else {
            have_time = true;
            last_time = pt.at_s;
        }
        if (m->npoints == PRESSURE_MAX_POINTS) {
            snprintf(err, errlen, "%s:%u: more than %u points", name, line,
                     PRESSURE_MAX_POINTS);
            return -EINVAL;
        }
        if (m->npoints == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct pressure_point *np = realloc(m->points, ncap * sizeof(*np));

            if (!np) {
                snprintf(err, errlen, "%s: out of memory", name);
                return -ENOMEM;
            }
            m->points = np;
            cap = ncap;
        }
        m->points[m->npoints++] = pt;
    }
    if (m->npoints == 0) {
        snprintf(err, errlen, "%s:0: no points: expected lines 'WHEN SIZE' (e.g. '10s 64M')",
                 name);
        return -EINVAL;
    }
    return 0;
}

static int pressure_load_schedule(struct pressure_model *m, const char *file,
                                  const char *base_dir, char *err, size_t errlen)
{
    char *path = NULL, *text = NULL;
    size_t len = 0;
    int rc;

    if (file[0] != '/' && base_dir && *base_dir) {
        if (asprintf(&path, "%s/%s", base_dir, file) < 0) {
            path = NULL;
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
    } else {
        path = strdup(file);
        if (!path) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
    }
    rc = text_file_read(path, PRESSURE_MAX_FILE, &text, &len, err, errlen);
    if (rc)
        goto out;
    rc = pressure_parse_schedule(m, text, len, path, err, errlen);
out:
    free(text);
    free(path);
    return rc;
}

/* -------------------------------------------------------------- model */

int pressure_create(const struct pressure_config *pc, const char *base_dir,
                    struct pressure_model **out, char *err, size_t errlen)
{
    struct pressure_model *m;
    int rc;

    *out = NULL;
    rc = pressure_config_check(pc, err, errlen);
    if (rc)
        return rc;
    m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    m->cfg = *pc;
    m->cfg.schedule_path = NULL;
    switch (pc->kind) {
    case PRESSURE_RANDOM_WALK:
        m->walk_rng = pc->seed;
        m->walk_at = pressure_config_given(pc, "capacity")
                         ? pc->capacity
                         : pc->low + (pc->high - pc->low) / 2;
        break;
    case PRESSURE_SCHEDULE:
        m->schedule_at = pc->capacity;
        rc = pressure_load_schedule(m, pc->schedule_path, base_dir, err, errlen);
        if (rc) {
            pressure_destroy(m);
            return rc;
        }
        break;
    default:
        break;
    }
    *out = m;
    return 0;
}

void pressure_destroy(struct pressure_model *m)
{
    if (!m)
        return;
    free(m->points);
    free(m->targets);
    free(m);
}

double pressure_interval(const struct pressure_model *m)
{
    return m->cfg.interval_s;
}

enum pressure_kind pressure_model_kind(const struct pressure_model *m)
{
    return m->cfg.kind;
}

/* low + share * (high - low), rounded, kept in [low, high]; share in [0, 1]. */
static uint64_t pressure_between(uint64_t low, uint64_t high, double share)
{
    double v = (double)low + (double)(high - low) * share;

    if (!(v > (double)low))
        return low;
    if (v >= (double)high)
        return high;
    v = floor(v + 0.5);
    if (v >= (double)high)
        return high;
    return (uint64_t)v < low ? low : (uint64_t)v;
}

static uint64_t pressure_sine(const struct pressure_config *c, double t)
{
    double x = 2.0 * M_PI * (t / c->period_s + c->phase);

    return pressure_between(c->low, c->high, (1.0 + sin(x)) / 2.0);
}

static uint64_t pressure_square(const struct pressure_config *c, double t)
{
    double cycles = t / c->period_s;

    return cycles - floor(cycles) < c->duty ? c->high : c->low;
}

static uint64_t pressure_steps(struct pressure_model *m, double t)
{
    while (m->next_step < m->cfg.nsteps && m->cfg.steps[m->next_step].at_s <= t)
        m->next_step++;
    return m->next_step ? m->cfg.steps[m->next_step - 1].bytes : m->cfg.capacity;
}

/* One move of the walk: uniform in [-step, +step], kept in [low, high]. */
static void pressure_walk_move(struct pressure_model *m)
{
    const struct pressure_config *c = &m->cfg;
    uint64_t r = rng_below(&m->walk_rng, 2 * c->step_bytes + 1);

    if (r >= c->step_bytes) {
        uint64_t up = r - c->step_bytes;
        m->walk_at = up > c->high - m->walk_at ? c->high : m->walk_at + up;
    } else {
        uint64_t down = c->step_bytes - r;
        m->walk_at = down > m->walk_at - c->low ? c->low : m->walk_at - down;
    }
    m->walk_moves++;
}

static uint64_t pressure_random_walk(struct pressure_model *m, double t)
{
    double due = floor(t / m->cfg.interval_s);
    uint64_t moves = due >= 1.8e19 ? UINT64_MAX : (uint64_t)due;

    while (m->walk_moves < moves)
        pressure_walk_move(m);
    return m->walk_at;
}

static uint64_t pressure_schedule(struct pressure_model *m, const struct pressure_inputs *in)
{
    while (m->next_point < m->npoints) {
        const struct pressure_point *pt = &m->points[m->next_point];

        if (pt->by_ops ? in->ops < pt->ops : in->t_s < pt->at_s)
            break;
        m->schedule_at = pt->bytes;
        m->next_point++;
    }
    return m->schedule_at;
}

static uint64_t pressure_selfballoon(struct pressure_model *m, const struct pressure_inputs *in)
{
    const struct pressure_config *c = &m->cfg;
    uint64_t sum = 0;

    if (in->nguests != m->ntargets) {
        uint64_t *t = realloc(m->targets, (in->nguests ? in->nguests : 1) * sizeof(*t));

        if (!t) /* keep the old targets: the sum of what there is */
            goto sum;
        for (size_t i = m->ntargets; i < in->nguests; i++)
            t[i] = 0;
        m->targets = t;
        m->ntargets = in->nguests;
    }
    for (size_t i = 0; i < m->ntargets; i++) {
        uint64_t committed = in->committed ? in->committed[i] : 0;
        uint64_t goal = committed == 0 ? 0
                        : committed > UINT64_MAX - c->reserve ? UINT64_MAX
                                                               : committed + c->reserve;
        uint64_t *target = &m->targets[i];

        if (goal >= *target) {
            *target = goal; /* up at once */
        } else {
            uint64_t gap = *target - goal;
            *target -= gap / c->hysteresis + (gap % c->hysteresis != 0);
        }
    }
sum:
    for (size_t i = 0; i < m->ntargets; i++)
        sum = m->targets[i] > UINT64_MAX - sum ? UINT64_MAX : sum + m->targets[i];
    return sum >= c->host_memory ? 0 : c->host_memory - sum;
}

static uint64_t pressure_spike(const struct pressure_config *c, double t)
{
    double back = c->at_s + c->duration_s;

    if (t < c->at_s)
        return c->capacity;
    if (t < back)
        return c->floor_bytes;
    if (c->recover_s > 0 && t < back + c->recover_s)
        return pressure_between(c->floor_bytes, c->capacity, (t - back) / c->recover_s);
    return c->capacity;
}

uint64_t pressure_next(struct pressure_model *m, const struct pressure_inputs *in)
{
    double t = in->t_s > 0 ? in->t_s : 0;

    switch (m->cfg.kind) {
    case PRESSURE_CONSTANT:
        return m->cfg.capacity;
    case PRESSURE_STEPS:
        return pressure_steps(m, t);
    case PRESSURE_SINE:
        return pressure_sine(&m->cfg, t);
    case PRESSURE_SQUARE:
        return pressure_square(&m->cfg, t);
    case PRESSURE_RANDOM_WALK:
        return pressure_random_walk(m, t);
    case PRESSURE_SCHEDULE:
        return pressure_schedule(m, in);
    case PRESSURE_SELFBALLOON:
        return pressure_selfballoon(m, in);
    case PRESSURE_SPIKE:
        return pressure_spike(&m->cfg, t);
    }
    return m->cfg.capacity;
}
