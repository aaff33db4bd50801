/*
 * main.c - tmem-testbed: `tmem-testbed [--output DIR] [--force] [--quiet]
 * [--check] [--control PATH | --no-control] SCENARIO`.
 *
 * Models: the experimenter's one command: read a scenario (hosts with
 * pressure models, mount and swap guests), check all of it before
 * anything is mounted, run it in real time, write the reports and plots
 * into the output folder and say where they are.
 *
 * Exit status: 0 the run went through and every guest did its work; 1 a
 * run failure (a workload that failed, a swap guest that lost or
 * corrupted a page, a mount that could not be made, reports that could
 * not be written); 2 a bad command line or scenario (one line, FILE:LINE
 * where there is one; nothing mounted); 128 + N when signal N (SIGINT,
 * SIGTERM, SIGHUP) stopped the run: the guests are stopped and the
 * reports written with what was done, marked interrupted.
 *
 * Signals: SIGINT, SIGTERM and SIGHUP are blocked in every thread before
 * the run starts any, and the run's loop takes them with sigtimedwait
 * (runner.h); SIGPIPE is ignored. Control: the run's control socket
 * (tmemctl, docs/control.md) is opened before the run at --control PATH
 * or the default path (a failure there is an error with --control, a
 * warning without); --no-control opens none. Data: the scenario and the
 * run, owned here. No globals.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testbed/plot.h"
#include "testbed/report.h"
#include "testbed/runner.h"
#include "testbed/scenario.h"

#define TESTBED_EXIT_FAILED 1
#define TESTBED_EXIT_USAGE 2

static void testbed_usage(FILE *f)
{
    fprintf(f,
"usage: tmem-testbed [--output DIR] [--force] [--quiet] [--check]\n"
"                    [--control PATH | --no-control] SCENARIO\n"
"\n"
"Run a testbed scenario: tmem hosts (stores whose capacity a pressure model\n"
"changes over time) and their guests (tmemfs mounts running a workload\n"
"command, swap simulators), all in this process, in real time; then write\n"
"summary.txt (also printed), samples.csv, report.json and the plots\n"
"capacity.png/.svg and hitrate.png/.svg into the output folder.\n"
"The scenario format, the models and every report field: docs/testbed.md.\n"
"\n"
"  -o, --output DIR  the output folder (default: the scenario's [run] output,\n"
"                    else testbed-out); created if missing; must be empty\n"
"  -f, --force       write into a non-empty output folder (files of the same\n"
"                    names are replaced)\n"
"  -q, --quiet       no live status line, no event lines, no summary on the\n"
"                    terminal (the files are written as always)\n"
"  -c, --check       read and check the scenario and exit (nothing is created\n"
"                    or mounted)\n"
"  -C, --control PATH  the control socket for tmemctl (default:\n"
"                    $XDG_RUNTIME_DIR, /run/tmem or /tmp/tmem-UID, named\n"
"                    tmem-testbed-PID.sock; docs/control.md)\n"
"  -N, --no-control  no control socket\n"
"  -h, --help        this text\n"
"\n"
"Exit status: 0 ok; 1 the run failed (a workload failed, a page was lost);\n"
"2 bad options or scenario (one line: FILE:LINE: what is wrong);\n"
"130/143 stopped by SIGINT/SIGTERM (reports written, marked interrupted).\n"
"Mounting needs root (or fusermount3) and /dev/fuse.\n");
}

/* Is path a directory with something in it? (false if missing) */
static int testbed_dir_state(const char *path, bool *exists, bool *nonempty)
{
    struct stat st;
    struct dirent *de;
    DIR *d;

    *exists = *nonempty = false;
    if (stat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    *exists = true;
    d = opendir(path);
    if (!d)
        return -errno;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            *nonempty = true;
            break;
        }
    }
    closedir(d);
    return 0;
}

int main(int argc, char *argv[])
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"force", no_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},        {"check", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},         {"control", required_argument, NULL, 'C'},
        {"no-control", no_argument, NULL, 'N'},   {NULL, 0, NULL, 0},
    };
    const char *output = NULL, *control = NULL;
    bool no_control = false;
    bool force = false, quiet = false, check = false, exists, nonempty, have_run = false;
    struct scenario sc;
    struct testbed_run run;
    char err[2048], *plots[TESTBED_PLOT_FILES] = {NULL};
    sigset_t stop_signals;
    int opt, rc, status = TESTBED_EXIT_USAGE;

    memset(&sc, 0, sizeof(sc));
    opterr = 0; /* one line of our own for a bad option */
    while ((opt = getopt_long(argc, argv, ":o:fqchC:N", longopts, NULL)) != -1) {
        switch (opt) {
        case 'o':
            output = optarg;
            break;
        case 'f':
            force = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'c':
            check = true;
            break;
        case 'C':
            control = optarg;
            break;
        case 'N':
            no_control = true;
            break;
        case 'h':
            testbed_usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "tmem-testbed: option %s needs a value (see tmem-testbed --help)\n",
                    argv[optind - 1]);
            return TESTBED_EXIT_USAGE;
        default:
            fprintf(stderr, "tmem-testbed: unknown option %s (see tmem-testbed --help)\n",
                    argv[optind - 1]);
            return TESTBED_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "tmem-testbed: %s (usage: tmem-testbed [--output DIR] [--force] "
                        "[--quiet] [--check] SCENARIO)\n",
                optind >= argc ? "no SCENARIO given" : "more than one SCENARIO given");
        return TESTBED_EXIT_USAGE;
    }
    if (control && (no_control || !*control)) {
        fprintf(stderr, "tmem-testbed: %s\n", no_control ? "--control and --no-control "
                "together" : "--control: empty path");
        return TESTBED_EXIT_USAGE;
    }
    if (output && !*output) {
        fprintf(stderr, "tmem-testbed: --output: empty folder name\n");
        return TESTBED_EXIT_USAGE;
    }
    rc = scenario_load(argv[optind], &sc, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "%s\n", err);
        scenario_free(&sc);
        return TESTBED_EXIT_USAGE;
    }
    if (!output)
        output = sc.output ? sc.output : "testbed-out";

    /* Everything the scenario asks for, checked with nothing created. */
    rc = testbed_run_prepare(&run, &sc, output, true, quiet, err, sizeof(err));
    testbed_run_free(&run);
    if (rc != 0) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    if (check) {
        printf("%s: ok: %zu host%s, %zu guest%s, %.1f s\n", sc.path, sc.nhosts,
               sc.nhosts == 1 ? "" : "s", sc.nguests, sc.nguests == 1 ? "" : "s",
               sc.duration_s);
        status = 0;
        goto out;
    }

    rc = testbed_dir_state(output, &exists, &nonempty);
    if (rc != 0) {
        fprintf(stderr, "tmem-testbed: output folder %s: %s\n", output, strerror(-rc));
        goto out;
    }
    if (nonempty && !force) {
        fprintf(stderr, "tmem-testbed: output folder %s is not empty (choose another with "
                        "--output, or --force to write into it)\n", output);
        goto out;
    }
    if (!exists && (rc = testbed_run_mkdir_p(output)) != 0) {
        fprintf(stderr, "tmem-testbed: output folder %s: cannot create it: %s\n", output,
                strerror(-rc));
        goto out;
    }

    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    have_run = true;
    rc = testbed_run_prepare(&run, &sc, output, false, quiet, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    if (!no_control) {
        rc = testbed_run_control_start(&run, control, err, sizeof(err));
        if (rc != 0 && control) {
            fprintf(stderr, "tmem-testbed: --control: %s\n", err);
            goto out;
        }
        if (rc != 0)
            fprintf(stderr, "tmem-testbed: no control socket: %s\n", err);
        else if (!quiet)
            printf("control: %s\n", testbed_run_control_path(&run));
        fflush(stdout);
    }
    rc = testbed_run_execute(&run, &stop_signals);
    if (rc != 0)
        fprintf(stderr, "tmem-testbed: FAILED: %s\n", run.failure);
    status = run.failed ? TESTBED_EXIT_FAILED : 0;
    if (!quiet) {
        printf("\n");
        testbed_report_summary(stdout, &run);
        fflush(stdout);
    }
    if (testbed_report_write(&run, err, sizeof(err)) != 0) {
        fprintf(stderr, "tmem-testbed: reports: %s\n", err);
        status = TESTBED_EXIT_FAILED;
    } else {
        printf("\nreports: %s/summary.txt %s/samples.csv %s/report.json\n", run.outdir,
               run.outdir, run.outdir);
        if (sc.plots) {
            rc = testbed_plot_write(&run, plots, err, sizeof(err));
            if (rc == 0)
                printf("plots:   %s %s %s %s\n", plots[0], plots[1], plots[2], plots[3]);
            else if (rc == -ENOENT)
                printf("plots:   none: %s\n", err);
            else {
                fprintf(stderr, "tmem-testbed: plots: %s\n", err);
                status = TESTBED_EXIT_FAILED;
            }
        }
    }
    if (run.failed)
        fprintf(stderr, "tmem-testbed: the run FAILED (see the summary)\n");
    if (run.stop_signal)
        status = 128 + run.stop_signal;
    fflush(stdout);
out:
    for (int i = 0; i < TESTBED_PLOT_FILES; i++)
        free(plots[i]);
    if (have_run)
        testbed_run_free(&run);
    scenario_free(&sc);
    return status;
}
