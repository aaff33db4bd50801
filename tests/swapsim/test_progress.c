/*
 * test_progress.c - the status line of a run in progress (progress.c):
 * its text, silence when the output is not a terminal, and on a terminal
 * (a pseudo-terminal here) lines rewritten in place with a carriage
 * return, cut to the terminal's width, and erased at the end; and the
 * numbers a run reports for it (struct swapsim_progress).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "swapsim/swapsim.h"

static void sleep_seconds(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Everything readable on fd within a short wait, NUL-terminated. */
static size_t read_all(int fd, char *buf, size_t size)
{
    size_t len = 0;
    struct pollfd p = { .fd = fd, .events = POLLIN };

    while (len + 1 < size && poll(&p, 1, 200) > 0 && (p.revents & POLLIN)) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return len;
}

/* Rule: the line says which run, accesses done of the total, the percent
 * (at most 100), the faults and the seconds; without a total (a trace)
 * no total and no percent; snprintf's contract. */
static void test_format(void **state)
{
    char buf[128], small[10];

    (void)state;
    swapsim_progress_format(buf, sizeof(buf), 1, 412345, 1000000, 123456, 3.14);
    assert_string_equal(buf, "frontswap run: 412345/1000000 accesses (41.2%), 123456 faults, "
                             "3.1 s");
    swapsim_progress_format(buf, sizeof(buf), 2, 20, 10, 0, 0.0);
    assert_string_equal(buf, "baseline run (frontswap off): 20/10 accesses (100.0%), 0 faults, "
                             "0.0 s");
    swapsim_progress_format(buf, sizeof(buf), 1, 77, 0, 5, 12.0);
    assert_string_equal(buf, "frontswap run: 77 accesses, 5 faults, 12.0 s");
    assert_int_equal(swapsim_progress_format(small, sizeof(small), 1, 77, 0, 5, 12.0),
                     (int)strlen(buf));
    assert_string_equal(small, "frontswap");
}

/* Rule: a status started on something that is not a terminal (a pipe)
 * starts nothing and writes nothing. */
static void test_silent_when_not_a_terminal(void **state)
{
    struct swapsim_progress p;
    struct swapsim_status *st = (struct swapsim_status *)&p;
    char buf[64];
    int fds[2];
    FILE *f;

    (void)state;
    memset(&p, 0, sizeof(p));
    atomic_store(&p.run, 1);
    assert_int_equal(pipe(fds), 0);
    f = fdopen(fds[1], "w");
    assert_non_null(f);
    assert_int_equal(swapsim_status_start(&p, f, 0.0, 0.01, &st), 0);
    assert_null(st);
    sleep_seconds(0.05);
    swapsim_status_stop(st);
    fclose(f);
    assert_int_equal(read_all(fds[0], buf, sizeof(buf)), 0);
    close(fds[0]);
}

/* Open a pseudo-terminal of `cols` columns: *master to read what is
 * shown, the terminal side as a FILE. */
static FILE *open_terminal(int *master, unsigned short cols)
{
    struct winsize ws = { .ws_row = 24, .ws_col = cols };
    int m = posix_openpt(O_RDWR | O_NOCTTY), s;
    FILE *f;

    assert_true(m >= 0);
    assert_int_equal(grantpt(m), 0);
    assert_int_equal(unlockpt(m), 0);
    assert_int_equal(ioctl(m, TIOCSWINSZ, &ws), 0);
    s = open(ptsname(m), O_RDWR | O_NOCTTY);
    assert_true(s >= 0);
    f = fdopen(s, "w");
    assert_non_null(f);
    *master = m;
    return f;
}

/* Rule: on a terminal, after the delay, the line is printed every
 * interval after a carriage return, cut to the terminal's width less one
 * column, and stop erases it (blanks over it, back to its start). */
static void test_terminal_lines_overwrite_and_are_erased(void **state)
{
    static const char want[] = "frontswap run: 500/1000 accesses (50.0%"; /* 39 columns */
    struct swapsim_progress p;
    struct swapsim_status *st;
    char buf[4096], *line, erase[64];
    int master, lines = 0;
    FILE *f;

    (void)state;
    memset(&p, 0, sizeof(p));
    atomic_store(&p.run, 1);
    atomic_store(&p.total, 1000);
    atomic_store(&p.accesses, 500);
    atomic_store(&p.faults, 7);
    f = open_terminal(&master, 40);
    assert_int_equal(swapsim_status_start(&p, f, 0.0, 0.02, &st), 0);
    assert_non_null(st);
    sleep_seconds(0.15);
    swapsim_status_stop(st);
    read_all(master, buf, sizeof(buf));
    /* \r LINE (\r LINE)* \r BLANKS \r */
    snprintf(erase, sizeof(erase), "\r%39s\r", "");
    assert_true(strlen(buf) > strlen(erase));
    assert_string_equal(buf + strlen(buf) - strlen(erase), erase);
    buf[strlen(buf) - strlen(erase)] = '\0';
    for (line = strtok(buf, "\r"); line; line = strtok(NULL, "\r")) {
        assert_string_equal(line, want);
        lines++;
    }
    assert_true(lines >= 2);
    fclose(f);
    close(master);
}

/* Rule: nothing is shown before the delay: a run shorter than it leaves
 * the terminal untouched. */
static void test_terminal_quiet_before_the_delay(void **state)
{
    struct swapsim_progress p;
    struct swapsim_status *st;
    char buf[256];
    int master;
    FILE *f;

    (void)state;
    memset(&p, 0, sizeof(p));
    atomic_store(&p.run, 1);
    f = open_terminal(&master, 80);
    assert_int_equal(swapsim_status_start(&p, f, 10.0, 0.5, &st), 0);
    assert_non_null(st);
    sleep_seconds(0.05);
    swapsim_status_stop(st);
    assert_int_equal(read_all(master, buf, sizeof(buf)), 0);
    fclose(f);
    close(master);
}

/* Rule: a run reports its accesses and faults to cfg->progress, all of
 * them by the end (the frontswap run, then the baseline run, each from
 * zero), with the total it will do. */
static void test_run_reports_progress(void **state)
{
    struct swapsim_progress p;
    struct swapsim_config cfg;
    struct swapsim_result res;
    char err[512];

    (void)state;
    memset(&p, 0, sizeof(p));
    swapsim_config_init(&cfg);
    cfg.guests = 2;
    cfg.guest.ram_pages = 64;
    cfg.guest.vpages = 512;
    cfg.gen.vpages = 512;
    cfg.gen.accesses = 5000; /* not a multiple of SWAPSIM_PROGRESS_STEP */
    cfg.progress = &p;
    cfg.baseline = false;
    assert_int_equal(swapsim_run(&cfg, &res, err, sizeof(err)), 0);
    assert_int_equal(atomic_load(&p.run), 1);
    assert_true(atomic_load(&p.total) == 10000);
    assert_true(atomic_load(&p.accesses) == 10000);
    assert_true(atomic_load(&p.faults) == res.total.minor_faults + res.total.major_faults);
    swapsim_result_free(&res);

    cfg.baseline = true;
    assert_int_equal(swapsim_run(&cfg, &res, err, sizeof(err)), 0);
    assert_int_equal(atomic_load(&p.run), 2);
    assert_true(atomic_load(&p.accesses) == 10000);
    assert_true(atomic_load(&p.faults) ==
                res.baseline.minor_faults + res.baseline.major_faults);
    swapsim_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_silent_when_not_a_terminal),
        cmocka_unit_test(test_terminal_lines_overwrite_and_are_erased),
        cmocka_unit_test(test_terminal_quiet_before_the_delay),
        cmocka_unit_test(test_run_reports_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
