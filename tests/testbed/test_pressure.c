/*
 * test_pressure.c - the pressure models of src/testbed/pressure.h: each
 * model's capacity at chosen times against values worked out by hand,
 * the random walk's bounds and reproducibility, selfballoon's hysteresis,
 * the spike's timeline, schedule files (by time and by operation count),
 * and every refusal of a bad key, value or file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/tmem.h"
#include "testbed/pressure.h"

#define MiB (1ULL << 20)

/* Set each "key=value" of a NULL-terminated list, failing the test on an
 * error, then check and create the model (base_dir for schedules). */
static struct pressure_model *model_from(const char *base_dir, const char *const *kv)
{
    struct pressure_config pc;
    struct pressure_model *m = NULL;
    char err[512] = "";

    pressure_config_init(&pc);
    for (; *kv; kv++) {
        char key[64];
        const char *eq = strchr(*kv, '=');

        assert_non_null(eq);
        snprintf(key, sizeof(key), "%.*s", (int)(eq - *kv), *kv);
        if (pressure_config_set(&pc, key, eq + 1, err, sizeof(err)) != 0)
            fail_msg("set %s: %s", *kv, err);
    }
    if (pressure_create(&pc, base_dir, &m, err, sizeof(err)) != 0)
        fail_msg("create: %s", err);
    pressure_config_free(&pc);
    return m;
}

static uint64_t at(struct pressure_model *m, double t)
{
    struct pressure_inputs in = { .t_s = t };

    return pressure_next(m, &in);
}

/* Rule: the defaults are constant, unlimited, every 0.25 s; constant
 * gives its capacity at every time. */
static void test_constant(void **state)
{
    static const char *const none[] = { NULL };
    static const char *const kv[] = { "model=constant", "capacity=64M", "interval=2s", NULL };
    struct pressure_model *m = model_from(NULL, none);

    (void)state;
    assert_int_equal(pressure_model_kind(m), PRESSURE_CONSTANT);
    assert_true(pressure_interval(m) == 0.25);
    assert_true(at(m, 0) == TMEM_CAPACITY_UNLIMITED);
    pressure_destroy(m);
    m = model_from(NULL, kv);
    assert_true(pressure_interval(m) == 2.0);
    assert_true(at(m, 0) == 64 * MiB);
    assert_true(at(m, 1e6) == 64 * MiB);
    pressure_destroy(m);
}

/* Rule: steps gives the last step whose time has passed (a step applies
 * from its own time on), and `capacity` before the first. */
static void test_steps(void **state)
{
    static const char *const kv[] = { "model=steps",
                                      "steps= 0:64M, 10s:32M ,20:unlimited", NULL };
    static const char *const late[] = { "model=steps", "steps=5:1M", "capacity=2M", NULL };
    struct pressure_model *m = model_from(NULL, kv);

    (void)state;
    assert_true(at(m, 0) == 64 * MiB);
    assert_true(at(m, 9.99) == 64 * MiB);
    assert_true(at(m, 10) == 32 * MiB);
    assert_true(at(m, 19.9) == 32 * MiB);
    assert_true(at(m, 20) == TMEM_CAPACITY_UNLIMITED);
    assert_true(at(m, 500) == TMEM_CAPACITY_UNLIMITED);
    pressure_destroy(m);
    m = model_from(NULL, late);
    assert_true(at(m, 0) == 2 * MiB);
    assert_true(at(m, 4.999) == 2 * MiB);
    assert_true(at(m, 5) == 1 * MiB);
    pressure_destroy(m);
}

/* Rule: sine is mid + amplitude * sin(2 pi (t / period + phase)): mid at
 * 0 and period/2, high at period/4, low at 3 period/4; phase shifts it. */
static void test_sine(void **state)
{
    static const char *const kv[] = { "model=sine", "low=4M", "high=40M", "period=20s", NULL };
    static const char *const shifted[] = { "model=sine", "low=4M", "high=40M", "period=20s",
                                           "phase=0.25", NULL };
    struct pressure_model *m = model_from(NULL, kv);

    (void)state;
    assert_true(at(m, 0) == 22 * MiB);
    assert_true(at(m, 5) == 40 * MiB);  /* period / 4: high */
    assert_true(at(m, 10) == 22 * MiB);
    assert_true(at(m, 15) == 4 * MiB);  /* 3 period / 4: low */
    assert_true(at(m, 25) == 40 * MiB); /* periodic */
    /* t = period / 12: sin(pi / 6) = 1/2, so mid + amplitude / 2 = 31M */
    assert_true(at(m, 20.0 / 12) == 31 * MiB);
    for (double t = 0; t < 60; t += 0.37) {
        uint64_t c = at(m, t);
        assert_true(c >= 4 * MiB && c <= 40 * MiB);
    }
    pressure_destroy(m);
    m = model_from(NULL, shifted);
    assert_true(at(m, 0) == 40 * MiB);
    assert_true(at(m, 10) == 4 * MiB);
    pressure_destroy(m);
}

/* Rule: square is high for the first `duty` of each period, low after. */
static void test_square(void **state)
{
    static const char *const kv[] = { "model=square", "low=1M", "high=9M", "period=10",
                                      "duty=0.3", NULL };
    static const char *const half[] = { "model=square", "low=1M", "high=unlimited",
                                        "period=4s", NULL };
    struct pressure_model *m = model_from(NULL, kv);

    (void)state;
    assert_true(at(m, 0) == 9 * MiB);
    assert_true(at(m, 2.99) == 9 * MiB);
    assert_true(at(m, 3) == 1 * MiB);
    assert_true(at(m, 9.99) == 1 * MiB);
    assert_true(at(m, 10) == 9 * MiB);
    assert_true(at(m, 13.5) == 1 * MiB);
    pressure_destroy(m);
    m = model_from(NULL, half); /* default duty 0.5 */
    assert_true(at(m, 1.99) == TMEM_CAPACITY_UNLIMITED);
    assert_true(at(m, 2) == 1 * MiB);
    pressure_destroy(m);
}

static void walk(const char *seed, uint64_t *out, size_t n)
{
    const char *kv[] = { "model=random-walk", "low=10M", "high=20M", "step=1M",
                         "interval=1", seed, NULL };
    struct pressure_model *m = model_from(NULL, kv);

    for (size_t i = 0; i < n; i++)
        out[i] = at(m, (double)i);
    pressure_destroy(m);
}

/* Rule: the random walk starts in the middle of [low, high] (or at
 * capacity), moves at most `step` per interval, never leaves [low, high],
 * is the same for the same seed and differs for another. */
static void test_random_walk(void **state)
{
    enum { N = 5000 };
    static uint64_t a[N], b[N], c[N];
    uint64_t lowest = UINT64_MAX, highest = 0;
    static const char *const start[] = { "model=random-walk", "low=10M", "high=20M",
                                         "step=1M", "capacity=12M", NULL };
    struct pressure_model *m;

    (void)state;
    walk("seed=7", a, N);
    walk("seed=7", b, N);
    walk("seed=8", c, N);
    assert_true(a[0] == 15 * MiB);
    assert_memory_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, c, sizeof(a));
    for (size_t i = 0; i < N; i++) {
        assert_true(a[i] >= 10 * MiB && a[i] <= 20 * MiB);
        if (i)
            assert_true((a[i] > a[i - 1] ? a[i] - a[i - 1] : a[i - 1] - a[i]) <= 1 * MiB);
        lowest = a[i] < lowest ? a[i] : lowest;
        highest = a[i] > highest ? a[i] : highest;
    }
    /* 5000 moves of up to 1M in a 10M band reach both ends */
    assert_true(lowest == 10 * MiB && highest == 20 * MiB);
    /* moves depend on time, not on how often it is asked: one call at
     * t = 4999 lands where 5000 calls did */
    {
        const char *kv[] = { "model=random-walk", "low=10M", "high=20M", "step=1M",
                             "interval=1", "seed=7", NULL };
        m = model_from(NULL, kv);
        assert_true(at(m, N - 1) == a[N - 1]);
        pressure_destroy(m);
    }
    m = model_from(NULL, start);
    assert_true(at(m, 0) == 12 * MiB);
    pressure_destroy(m);
}

/* Rule: selfballoon gives host_memory minus the guests' targets; a
 * target rises at once to committed + reserve and falls by
 * ceil(gap / hysteresis) per call; never below 0. */
static void test_selfballoon(void **state)
{
    static const char *const kv[] = { "model=selfballoon", "host_memory=1000", "reserve=100",
                                      "hysteresis=4", NULL };
    struct pressure_model *m = model_from(NULL, kv);
    uint64_t committed[2] = { 300, 0 };
    struct pressure_inputs in = { .t_s = 0, .committed = committed, .nguests = 2 };

    (void)state;
    assert_true(pressure_next(m, &in) == 600);  /* targets 400, 0 (not running) */
    committed[0] = 100;                          /* goal 200: gap 200 */
    assert_true(pressure_next(m, &in) == 650);  /* 400 - ceil(200/4) = 350 */
    assert_true(pressure_next(m, &in) == 688);  /* 350 - ceil(150/4) = 312 */
    assert_true(pressure_next(m, &in) == 716);  /* 312 - ceil(112/4) = 284 */
    committed[1] = 250;                          /* second guest boots: 350 at once */
    assert_true(pressure_next(m, &in) == 387);  /* 284 - ceil(84/4) = 263, + 350 */
    committed[0] = 900;                          /* rises at once: 1000 + 350 > 1000 */
    assert_true(pressure_next(m, &in) == 0);
    committed[0] = 0;                            /* both stop: goal 0, fall slowly */
    committed[1] = 0;
    assert_true(pressure_next(m, &in) == 0);    /* 1000 - 250 = 750, 350 - 88 = 262 */
    assert_true(pressure_next(m, &in) == 242);  /* 750 - 188 = 562, 262 - 66 = 196 */
    pressure_destroy(m);
}

/* Rule: spike: capacity until `at`, floor for `duration`, then a linear
 * climb back over `recover` seconds (0: at once). */
static void test_spike(void **state)
{
    static const char *const kv[] = { "model=spike", "capacity=100M", "at=10", "duration=5",
                                      "floor=1M", "recover=10s", NULL };
    static const char *const sudden[] = { "model=spike", "capacity=100M", "at=10",
                                          "duration=5", NULL };
    struct pressure_model *m = model_from(NULL, kv);

    (void)state;
    assert_true(at(m, 0) == 100 * MiB);
    assert_true(at(m, 9.99) == 100 * MiB);
    assert_true(at(m, 10) == 1 * MiB);
    assert_true(at(m, 14.99) == 1 * MiB);
    assert_true(at(m, 15) == 1 * MiB);                     /* the climb starts at floor */
    assert_true(at(m, 20) == 1 * MiB + 99 * MiB / 2);      /* half way */
    assert_true(at(m, 22.5) == 1 * MiB + 99 * MiB * 3 / 4);
    assert_true(at(m, 25) == 100 * MiB);
    assert_true(at(m, 1000) == 100 * MiB);
    pressure_destroy(m);
    m = model_from(NULL, sudden);
    assert_true(at(m, 12) == 0);
    assert_true(at(m, 15) == 100 * MiB);
    pressure_destroy(m);
}

/* A schedule file in a fresh folder: returns the folder (to remove). */
static char *write_schedule_bytes(const char *text, size_t len, char *path, size_t pathlen)
{
    static char dir[64];
    FILE *f;

    snprintf(dir, sizeof(dir), "/tmp/test_pressure.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, pathlen, "%s/sched.txt", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    return dir;
}

static char *write_schedule(const char *text, char *path, size_t pathlen)
{
    return write_schedule_bytes(text, strlen(text), path, pathlen);
}

static void remove_schedule(const char *dir, const char *path)
{
    unlink(path);
    rmdir(dir);
}

/* Rule: a schedule file's points apply in file order, each once its time
 * (seconds with a unit) or operation count (Nops) is reached; comments
 * and blank lines are skipped; before the first point: capacity; a
 * relative file is read from base_dir. */
static void test_schedule(void **state)
{
    static const char text[] = "# squeeze, then by operations\n"
                               "\n"
                               "   1s 32M   # the first squeeze\n"
                               "2500ms 16M\n"
                               "1000ops 8M\n"
                               "\t1m unlimited\n";
    static const char *const kv[] = { "model=schedule", "file=sched.txt", "capacity=64M",
                                      NULL };
    char path[128];
    char *dir = write_schedule(text, path, sizeof(path));
    struct pressure_model *m = model_from(dir, kv);
    struct pressure_inputs in = { 0 };

    (void)state;
    assert_true(pressure_next(m, &in) == 64 * MiB);
    in.t_s = 1;
    assert_true(pressure_next(m, &in) == 32 * MiB);
    in.t_s = 2.4;
    assert_true(pressure_next(m, &in) == 32 * MiB);
    in.t_s = 2.5;
    assert_true(pressure_next(m, &in) == 16 * MiB);
    in.ops = 999;
    assert_true(pressure_next(m, &in) == 16 * MiB);
    in.t_s = 100; /* file order: 1m waits for 1000ops */
    assert_true(pressure_next(m, &in) == 16 * MiB);
    in.ops = 1000; /* both the ops point and the time point now */
    assert_true(pressure_next(m, &in) == TMEM_CAPACITY_UNLIMITED);
    pressure_destroy(m);
    remove_schedule(dir, path);
}

/* Rule: every bad key or value of pressure_config_set is refused with an
 * error naming the key, the value and what is expected, and changes
 * nothing. */
static void test_bad_keys_and_values(void **state)
{
    static const struct { const char *key, *value; int rc; const char *expect; } bad[] = {
        { "wave", "1", -ENOENT, "unknown key 'wave'" },
        { "model", "wave", -EINVAL, "bad value 'wave' for 'model': expected constant" },
        { "interval", "0", -EINVAL, "'interval': expected a time of at least 1ms" },
        { "interval", "0.5ms", -EINVAL, "'interval': expected a time of at least 1ms" },
        { "interval", "-1", -EINVAL, "'interval': expected seconds" },
        { "interval", "1x", -EINVAL, "bad value '1x' for 'interval'" },
        { "capacity", "12Q", -EINVAL, "bad value '12Q' for 'capacity': expected bytes" },
        { "low", "x", -EINVAL, "for 'low'" },
        { "high", "-4M", -EINVAL, "for 'high'" },
        { "period", "0", -EINVAL, "'period': expected a time above 0" },
        { "period", "nan", -EINVAL, "'period': expected seconds" },
        { "phase", "1", -EINVAL, "'phase': expected a fraction" },
        { "phase", "0.5s", -EINVAL, "'phase'" },
        { "duty", "1.5", -EINVAL, "'duty': expected the share" },
        { "step", "x", -EINVAL, "'step': expected bytes" },
        { "step", "unlimited", -EINVAL, "'step'" },
        { "seed", "-1", -EINVAL, "'seed': expected a number" },
        { "seed", "1K", -EINVAL, "'seed'" },
        { "steps", "", -EINVAL, "empty item in 'steps'" },
        { "steps", "0:64M,,", -EINVAL, "empty item in 'steps'" },
        { "steps", "10:1M, 5:2M", -EINVAL, "times in 'steps' must increase" },
        { "steps", "10:1M, 10:2M", -EINVAL, "must increase" },
        { "steps", "x:1M", -EINVAL, "bad time 'x' in 'steps'" },
        { "steps", "1:x", -EINVAL, "bad size 'x' in 'steps'" },
        { "steps", "10", -EINVAL, "bad item '10' in 'steps': expected TIME:SIZE" },
        { "file", "", -EINVAL, "'file': expected a file name" },
        { "host_memory", "unlimited", -EINVAL, "'host_memory'" },
        { "reserve", "1.5M", -EINVAL, "'reserve'" },
        { "hysteresis", "0", -EINVAL, "'hysteresis': expected a number from 1" },
        { "at", "soon", -EINVAL, "'at'" },
        { "duration", "0", -EINVAL, "'duration': expected a time above 0" },
        { "floor", "unlimited", -EINVAL, "'floor'" },
        { "recover", "-2", -EINVAL, "'recover'" },
    };
    char err[512];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct pressure_config pc, before;

        pressure_config_init(&pc);
        before = pc;
        err[0] = '\0';
        assert_int_equal(pressure_config_set(&pc, bad[i].key, bad[i].value, err, sizeof(err)),
                         bad[i].rc);
        if (!strstr(err, bad[i].expect))
            fail_msg("%s=%s: '%s' lacks '%s'", bad[i].key, bad[i].value, err, bad[i].expect);
        assert_memory_equal(&pc, &before, sizeof(pc));
        pressure_config_free(&pc);
    }
}

/* Set the keys, then expect pressure_config_check to refuse with text. */
static void expect_check_refuses(const char *const *kv, const char *expect)
{
    struct pressure_config pc;
    char err[512] = "";

    pressure_config_init(&pc);
    for (; *kv; kv++) {
        char key[64];
        const char *eq = strchr(*kv, '=');

        snprintf(key, sizeof(key), "%.*s", (int)(eq - *kv), *kv);
        assert_int_equal(pressure_config_set(&pc, key, eq + 1, err, sizeof(err)), 0);
    }
    assert_int_equal(pressure_config_check(&pc, err, sizeof(err)), -EINVAL);
    if (!strstr(err, expect))
        fail_msg("'%s' lacks '%s'", err, expect);
    pressure_config_free(&pc);
}

/* Rule: check refuses what the keys say together: a key of another
 * model, a missing key, low above high, unlimited where arithmetic needs
 * a size, a walk starting outside its bounds, a spike floor above its
 * capacity or recovering to unlimited. */
static void test_check_refuses(void **state)
{
    static const char *const foreign[] = { "model=selfballoon", "host_memory=1G", "period=5",
                                           NULL };
    static const char *const no_period[] = { "model=sine", "low=1M", "high=2M", NULL };
    static const char *const no_steps[] = { "model=steps", NULL };
    static const char *const no_file[] = { "model=schedule", NULL };
    static const char *const no_host[] = { "model=selfballoon", NULL };
    static const char *const no_at[] = { "model=spike", "duration=1", NULL };
    static const char *const low_high[] = { "model=square", "low=2M", "high=1M", "period=1",
                                            NULL };
    static const char *const sine_unl[] = { "model=sine", "low=1M", "high=unlimited",
                                            "period=1", NULL };
    static const char *const walk_out[] = { "model=random-walk", "low=1M", "high=2M",
                                            "step=1K", "capacity=3M", NULL };
    static const char *const floor_hi[] = { "model=spike", "capacity=1M", "floor=2M", "at=1",
                                            "duration=1", NULL };
    static const char *const recover_unl[] = { "model=spike", "at=1", "duration=1",
                                               "recover=5", NULL };
    static const char *const capacity_sine[] = { "model=sine", "low=1M", "high=2M",
                                                 "period=1", "capacity=1M", NULL };

    (void)state;
    expect_check_refuses(foreign, "key 'period' does not apply to model selfballoon");
    expect_check_refuses(no_period, "model sine needs key 'period'");
    expect_check_refuses(no_steps, "model steps needs key 'steps'");
    expect_check_refuses(no_file, "model schedule needs key 'file'");
    expect_check_refuses(no_host, "model selfballoon needs key 'host_memory'");
    expect_check_refuses(no_at, "model spike needs key 'at'");
    expect_check_refuses(low_high, "low (2097152 bytes) is above high (1048576 bytes)");
    expect_check_refuses(sine_unl, "model sine needs low and high as sizes");
    expect_check_refuses(walk_out, "between low and high");
    expect_check_refuses(floor_hi, "floor is above its capacity");
    expect_check_refuses(recover_unl, "capacity must be a size, not unlimited");
    expect_check_refuses(capacity_sine, "key 'capacity' does not apply to model sine");
}

/* Create a schedule model from text; expect failure with fragment. */
static void expect_schedule_error_bytes(const char *text, size_t len, const char *expect)
{
    struct pressure_config pc;
    struct pressure_model *m = NULL;
    char path[128], err[512] = "", full[256];
    char *dir = write_schedule_bytes(text, len, path, sizeof(path));

    pressure_config_init(&pc);
    assert_int_equal(pressure_config_set(&pc, "model", "schedule", err, sizeof(err)), 0);
    assert_int_equal(pressure_config_set(&pc, "file", path, err, sizeof(err)), 0);
    assert_int_equal(pressure_create(&pc, NULL, &m, err, sizeof(err)), -EINVAL);
    assert_null(m);
    snprintf(full, sizeof(full), "%s:%s", path, expect);
    if (strcmp(err, full) != 0 && !strstr(err, full))
        fail_msg("'%s' lacks '%s'", err, full);
    pressure_config_free(&pc);
    remove_schedule(dir, path);
}

static void expect_schedule_error(const char *text, const char *expect)
{
    expect_schedule_error_bytes(text, strlen(text), expect);
}

/* Rule: a schedule line that does not parse, a point out of order or a
 * file without points is refused with FILE:LINE; a missing file with
 * -ENOENT. */
static void test_schedule_errors(void **state)
{
    struct pressure_config pc;
    struct pressure_model *m = NULL;
    char err[512];

    (void)state;
    expect_schedule_error("1 1M\n\n10s\n", "3: expected 'WHEN SIZE'");
    expect_schedule_error("1 1M 2M\n", "1: expected 'WHEN SIZE'");
    expect_schedule_error("# c\nsoon 1M\n", "2: bad time 'soon'");
    expect_schedule_error("5xops 1M\n", "1: bad time '5xops'");
    expect_schedule_error("1 lots\n", "1: bad size 'lots'");
    expect_schedule_error("10 1M\n5 2M\n", "2: point at 5s comes before the previous one");
    expect_schedule_error("10ops 1M\n5ops 2M\n", "2: point at 5ops comes before");
    expect_schedule_error("# nothing\n\n", "0: no points");
    expect_schedule_error("", "0: no points");
    expect_schedule_error_bytes("1 1M\n2 2\0M\n", 10, "2: a NUL byte");
    pressure_config_init(&pc);
    assert_int_equal(pressure_config_set(&pc, "model", "schedule", err, sizeof(err)), 0);
    assert_int_equal(pressure_config_set(&pc, "file", "no-such-file", err, sizeof(err)), 0);
    assert_int_equal(pressure_create(&pc, "/nonexistent", &m, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/no-such-file: No such file"));
    pressure_config_free(&pc);
}

/* Rule: kind names go both ways; given bits record what was set. */
static void test_names_and_given(void **state)
{
    struct pressure_config pc;
    enum pressure_kind k;
    char err[128];

    (void)state;
    for (int i = PRESSURE_CONSTANT; i <= PRESSURE_SPIKE; i++) {
        assert_int_equal(pressure_kind_parse(pressure_kind_name((enum pressure_kind)i), &k), 0);
        assert_int_equal(k, i);
    }
    assert_int_equal(pressure_kind_parse("Sine", &k), -EINVAL);
    pressure_config_init(&pc);
    assert_false(pressure_config_given(&pc, "capacity"));
    assert_int_equal(pressure_config_set(&pc, "capacity", "1M", err, sizeof(err)), 0);
    assert_true(pressure_config_given(&pc, "capacity"));
    assert_false(pressure_config_given(&pc, "low"));
    assert_false(pressure_config_given(&pc, "nonsense"));
    pressure_config_free(&pc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_sine),
        cmocka_unit_test(test_square),
        cmocka_unit_test(test_random_walk),
        cmocka_unit_test(test_selfballoon),
        cmocka_unit_test(test_spike),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_bad_keys_and_values),
        cmocka_unit_test(test_check_refuses),
        cmocka_unit_test(test_schedule_errors),
        cmocka_unit_test(test_names_and_given),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
