/*
 * main.c - tmem-swapsim, the swap simulator's command line.
 *
 * Models: nothing itself; parses options into a struct swapsim_config,
 * runs swapsim_run() and prints the report (text on stdout, optional JSON
 * and CSV files). Bad options (each alone, the options together, and
 * --json/--csv paths that cannot be written, all checked before the run)
 * print one line naming the problem and exit 2; a failed run (mismatch,
 * lost page, bad trace) exits 1; SIGINT/SIGTERM stop the run, the reports
 * are written with what it has, and the exit status is 130/143. While the
 * run goes on, a status line on stderr when it is a terminal (progress.c;
 * --quiet: none).
 * Data structures: the config and result on the stack. Locking: none.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/number.h"
#include "common/size.h"
#include "guest/device.h"
#include "guest/replace.h"
#include "swapsim/swapsim.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
    fprintf(f,
"usage: tmem-swapsim [options]\n"
"Simulate a guest that swaps, with frontswap (a persistent tmem pool) in front\n"
"of a real swap file; verify every page loaded; compare with plain swap.\n"
"SIZE: %s.\n"
"\n"
"Guest and swap:\n"
"  --ram SIZE            guest RAM (default 64M)\n"
"  --wss SIZE            address space / working set (default 256M)\n"
"  --swap SIZE           swap file size (default: the address space)\n"
"  --guests N            guests sharing the store (default 1), stepped round\n"
"                        robin by one thread, one access each in turn:\n"
"                        repeatable\n"
"  --concurrent          several guests run one thread each instead,\n"
"                        interleaved by the scheduler (not repeatable; stress)\n"
"  --reclaim clock|lru   page replacement (default clock)\n"
"  --swap-dir DIR        where the swap files go (default $TMPDIR or /tmp)\n"
"  --fault-swap-write [KIND:]FAULT  test switch: make swap file page writes fail;\n"
"                        KIND eio (default), enospc or short (pwrite moves at\n"
"                        most half of what is left); FAULT off, nth=N (the N-th\n"
"                        write of each guest's file) or p=P[,seed=S]\n"
"  --fault-swap-read [KIND:]FAULT  the same for reads (KIND eio or short)\n"
"Swap layer model:\n"
"  --model frontswap|zswap  frontswap (default) or Linux 6.12+'s zswap: exclusive\n"
"                        loads, zero pages kept by the swap layer, at the pool\n"
"                        limit refusal and writeback of the oldest entries to\n"
"                        the accept threshold, the budget counted as zswap's\n"
"                        zsmalloc pool (--zswap-pool), no same-filled pages,\n"
"                        no dedup, raw pages only when compression does not\n"
"                        shrink them;\n"
"                        compressor lzo unless --compressor says otherwise\n"
"  --zswap-pool zspages|bytes  zswap: what the pool limit counts: zspages\n"
"                        (default, as the kernel: the pages of zsmalloc's\n"
"                        zspages, holes left by freed objects included) or\n"
"                        bytes (each stored page at its length rounded up to\n"
"                        zsmalloc's 16-byte class, no fragmentation)\n"
"  --accept-threshold PCT  zswap's accept_threshold_percent (default 90): after\n"
"                        the limit, stores are refused (and zswap writes back)\n"
"                        until usage is below PCT%% of the capacity; also\n"
"                        --hysteresis's threshold\n"
"  --writeback-pace N    zswap: the shrink worker takes N/100 steps per swap-out\n"
"                        after a refusal (a step writes back one entry), every\n"
"                        store refused until it is below the threshold\n"
"                        (default 0: each wake-up runs at once, in full)\n"
"  --zswap-second-chance on|off  zswap: on (default, as the kernel): entries are\n"
"                        stored referenced, the worker rotates a referenced\n"
"                        entry (clearing the bit) instead of writing it back,\n"
"                        and a wake-up ends after 16 rotations until the next\n"
"                        refused store; off: it writes back the oldest entries\n"
"                        until below the threshold\n"
"  --rotation-cost N     zswap with --writeback-pace: a rotation costs the worker\n"
"                        N/100 of a step (0 to 100, default 0)\n"
"  --worker-delay N      zswap: a wake-up starts N swap-outs after the refusal\n"
"                        that queued it; refusals meanwhile queue nothing (the\n"
"                        workqueue's latency; default 0: at once)\n"
"Frontswap modes:\n"
"  --exclusive-loads     a load frees the tmem copy (page returns dirty)\n"
"  --write-through       every frontswap page is also written to the swap file\n"
"  --self-shrink AGE     give back frontswap pages untouched for AGE accesses\n"
"Store (the tmem core):\n"
"  --capacity SIZE       store budget (default 256M; 'unlimited' allowed)\n"
"  --schedule SPEC       capacity changes: ACCESS:SIZE[:swapout],... e.g.\n"
"                        '300000:32M,600000:0:swapout' (':swapout' = fire inside\n"
"                        the next swap-out of guest 0)\n"
"  --page-size N         page size in bytes (default 4096)\n"
"  --compressor NAME     lz4 (default; zswap model: lzo), lzo, zstd,\n"
"                        zstd:LEVEL (1..19) or none\n"
"  --no-compress (= --compressor none), --no-dedup, --no-same-filled,\n"
"  --hysteresis\n"
"Workload:\n"
"  --workload KIND       uniform, zipf, seq, phase or mix (default zipf)\n"
"  --trace FILE          read accesses from a trace file instead (text format:\n"
"                        '<vpage> <R|W|F> [timestamp]' per line, '#' comments)\n"
"  --record FILE         write guest 0's accesses as a page trace (kind anon;\n"
"                        replay it with --trace FILE)\n"
"  --accesses N          accesses per guest (default 1000000)\n"
"  --zipf-alpha A        Zipf exponent (default 0.99)\n"
"  --writes PCT          share of writes (default 30)\n"
"  --unmaps PCT          share of unmaps (default 0)\n"
"  --phase-pages N       phase working set in pages (default wss/4)\n"
"  --phase-length N      accesses per phase (default accesses/4)\n"
"  --content Z,D,C       percent of zero, duplicate, compressible pages\n"
"                        (default 10,10,50; the rest is random)\n"
"  --seed N              seed of workload and content (default 1)\n"
"Timing model and output:\n"
"  --device PROFILE      the device the swap files are on, which prices their\n"
"                        reads and writes: hdd, sata-ssd, nvme or\n"
"                        custom:LAT_US,MBPS (default sata-ssd)\n"
"  --cost NAME=NS        access, fault, tmem_copy, compress, decompress\n"
"                        (ns per event; repeatable)\n"
"  --no-baseline         skip the comparison run with frontswap off\n"
"  --json FILE           write counters (totals, baseline, samples) as JSON\n"
"  --csv FILE            write counters over time as CSV\n"
"  --sample-every N      sample interval in accesses (default accesses/100)\n"
"  --bench               print simulated page faults handled per second only\n"
"  --quiet               no progress line on stderr (it is shown only when\n"
"                        stderr is a terminal and the run lasts over a second)\n"
"  --help                this text\n"
"SIGINT or SIGTERM stops the run and writes the reports with what it has\n"
"(marked interrupted); the exit status is then 130 or 143.\n",
            size_grammar(false));
}

enum {
    O_RAM = 256, O_WSS, O_SWAP, O_GUESTS, O_RECLAIM, O_SWAPDIR, O_EXCLLOADS, O_WT, O_SELFSHRINK,
    O_CAPACITY, O_SCHEDULE, O_PAGESIZE, O_COMPRESSOR, O_NOCOMPRESS, O_NODEDUP, O_NOSAME, O_HYST,
    O_WORKLOAD, O_TRACE, O_RECORD, O_ACCESSES, O_ALPHA, O_WRITES, O_UNMAPS, O_PHASEPAGES, O_PHASELEN,
    O_CONTENT, O_SEED, O_DEVICE, O_COST, O_NOBASE, O_JSON, O_CSV, O_SAMPLE, O_BENCH, O_QUIET,
    O_HELP, O_MODEL, O_ACCEPT, O_CONCURRENT, O_WBPACE, O_FAULTWRITE, O_FAULTREAD,
    O_SECONDCHANCE, O_ROTATIONCOST, O_WORKERDELAY, O_ZSWAPPOOL,
};

static const struct option options[] = {
    {"ram", required_argument, NULL, O_RAM},
    {"wss", required_argument, NULL, O_WSS},
    {"swap", required_argument, NULL, O_SWAP},
    {"guests", required_argument, NULL, O_GUESTS},
    {"reclaim", required_argument, NULL, O_RECLAIM},
    {"swap-dir", required_argument, NULL, O_SWAPDIR},
    {"exclusive-loads", no_argument, NULL, O_EXCLLOADS},
    {"write-through", no_argument, NULL, O_WT},
    {"self-shrink", required_argument, NULL, O_SELFSHRINK},
    {"capacity", required_argument, NULL, O_CAPACITY},
    {"schedule", required_argument, NULL, O_SCHEDULE},
    {"page-size", required_argument, NULL, O_PAGESIZE},
    {"compressor", required_argument, NULL, O_COMPRESSOR},
    {"no-compress", no_argument, NULL, O_NOCOMPRESS},
    {"no-dedup", no_argument, NULL, O_NODEDUP},
    {"no-same-filled", no_argument, NULL, O_NOSAME},
    {"hysteresis", no_argument, NULL, O_HYST},
    {"workload", required_argument, NULL, O_WORKLOAD},
    {"trace", required_argument, NULL, O_TRACE},
    {"record", required_argument, NULL, O_RECORD},
    {"accesses", required_argument, NULL, O_ACCESSES},
    {"zipf-alpha", required_argument, NULL, O_ALPHA},
    {"writes", required_argument, NULL, O_WRITES},
    {"unmaps", required_argument, NULL, O_UNMAPS},
    {"phase-pages", required_argument, NULL, O_PHASEPAGES},
    {"phase-length", required_argument, NULL, O_PHASELEN},
    {"content", required_argument, NULL, O_CONTENT},
    {"seed", required_argument, NULL, O_SEED},
    {"device", required_argument, NULL, O_DEVICE},
    {"cost", required_argument, NULL, O_COST},
    {"no-baseline", no_argument, NULL, O_NOBASE},
    {"json", required_argument, NULL, O_JSON},
    {"csv", required_argument, NULL, O_CSV},
    {"sample-every", required_argument, NULL, O_SAMPLE},
    {"bench", no_argument, NULL, O_BENCH},
    {"fault-swap-write", required_argument, NULL, O_FAULTWRITE},
    {"fault-swap-read", required_argument, NULL, O_FAULTREAD},
    {"quiet", no_argument, NULL, O_QUIET},
    {"help", no_argument, NULL, O_HELP},
    {"model", required_argument, NULL, O_MODEL},
    {"accept-threshold", required_argument, NULL, O_ACCEPT},
    {"concurrent", no_argument, NULL, O_CONCURRENT},
    {"writeback-pace", required_argument, NULL, O_WBPACE},
    {"zswap-second-chance", required_argument, NULL, O_SECONDCHANCE},
    {"rotation-cost", required_argument, NULL, O_ROTATIONCOST},
    {"worker-delay", required_argument, NULL, O_WORKERDELAY},
    {"zswap-pool", required_argument, NULL, O_ZSWAPPOOL},
    {NULL, 0, NULL, 0},
};

static int bad(const char *opt, const char *arg, const char *what)
{
    fprintf(stderr, "tmem-swapsim: --%s '%s': %s (see --help)\n", opt, arg, what);
    return EXIT_USAGE;
}

/* Parse a size option (the project's one grammar, common/size.h) into
 * *bytes; a bad one prints one line with the grammar. Returns 0 or
 * EXIT_USAGE. */
static int parse_size_arg(const char *opt, const char *arg, bool allow_unlimited,
                          uint64_t *bytes)
{
    char what[256];

    if (size_parse(arg, allow_unlimited, bytes) == 0)
        return 0;
    snprintf(what, sizeof(what), "expected a size in %s", size_grammar(allow_unlimited));
    return bad(opt, arg, what);
}

static int set_cost(struct swapsim_costs *c, const char *arg)
{
    static const struct {
        const char *name;
        size_t off;
    } names[] = {
        {"access", offsetof(struct swapsim_costs, access_ns)},
        {"fault", offsetof(struct swapsim_costs, fault_ns)},
        {"tmem_copy", offsetof(struct swapsim_costs, tmem_copy_ns)},
        {"compress", offsetof(struct swapsim_costs, compress_ns)},
        {"decompress", offsetof(struct swapsim_costs, decompress_ns)},
    };
    const char *eq = strchr(arg, '=');
    uint64_t v;
    if (!eq || number_parse_u64(eq + 1, 10, 0, UINT64_MAX / 1000000, &v) != 0)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i].name) == (size_t)(eq - arg) &&
            strncmp(arg, names[i].name, (size_t)(eq - arg)) == 0) {
            memcpy((char *)c + names[i].off, &v, sizeof(v));
            return 0;
        }
    }
    return -EINVAL;
}

struct cli {
    uint64_t ram, wss, swap;
    const char *json, *csv;
    bool bench, sample_set, workload_set, quiet;
    enum swapsim_model model;
    bool compressor_set;     /* --compressor / --no-compress given */
    uint32_t accept;         /* --accept-threshold (0: not given) */
    bool worker_set;         /* --zswap-second-chance, --rotation-cost or --worker-delay */
    const char *zswap_pool;  /* --zswap-pool (NULL: not given) */
};

/* An output file (--json, --csv), opened before the run so that a path
 * that cannot be written is refused before any work is done. It is opened
 * without truncating, truncated only when the report is written, and
 * removed again if this program created it and wrote nothing. */
struct output {
    const char *opt, *path;
    FILE *f;
    bool created;
};

static int output_open(struct output *o)
{
    int fd;

    if (!o->path)
        return 0;
    fd = open(o->path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = open(o->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        o->created = fd >= 0;
    }
    if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
        fprintf(stderr, "tmem-swapsim: --%s %s: cannot write it: %s\n", o->opt, o->path,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return EXIT_USAGE;
    }
    return 0;
}

/* Truncate to what is about to be written (a regular file; a pipe or a
 * device such as /dev/stdout is written as it is). */
static FILE *output_begin(struct output *o)
{
    struct stat st;

    if (fstat(fileno(o->f), &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fileno(o->f), 0) != 0) {
        fprintf(stderr, "tmem-swapsim: --%s %s: %s\n", o->opt, o->path, strerror(errno));
        return NULL;
    }
    return o->f;
}

/* Close; 0 or 1 (a write error, named). */
static int output_close(struct output *o, bool written)
{
    int ret = 0;

    if (!o->f)
        return 0;
    if (ferror(o->f) | (fclose(o->f) != 0)) {
        fprintf(stderr, "tmem-swapsim: --%s %s: write failed: %s\n", o->opt, o->path,
                strerror(errno));
        ret = 1;
    }
    o->f = NULL;
    if (!written && o->created)
        unlink(o->path);
    return ret;
}

static int parse_args(int argc, char **argv, struct swapsim_config *cfg, struct cli *cli)
{
    char err[256];
    uint64_t v;
    int opt, longindex = 0;
    char gen_err[256];

    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", options, &longindex)) != -1) {
        const char *a = optarg;
        switch (opt) {
        case O_WORKLOAD:
        case O_ACCESSES:
        case O_ALPHA:
        case O_WRITES:
        case O_UNMAPS:
        case O_PHASEPAGES:
        case O_PHASELEN:
        case O_CONTENT:
            /* the generator's options: one parser for every program */
            if (swapsim_gen_option_parse(options[longindex].name, a, &cfg->gen,
                                         &cfg->guest.mix, gen_err, sizeof(gen_err)) < 0) {
                fprintf(stderr, "tmem-swapsim: %s (see --help)\n", gen_err);
                return EXIT_USAGE;
            }
            if (opt == O_WORKLOAD)
                cli->workload_set = true;
            break;
        case O_RAM:
            if (parse_size_arg("ram", a, false, &cli->ram))
                return EXIT_USAGE;
            break;
        case O_WSS:
            if (parse_size_arg("wss", a, false, &cli->wss))
                return EXIT_USAGE;
            break;
        case O_SWAP:
            if (parse_size_arg("swap", a, false, &cli->swap))
                return EXIT_USAGE;
            if (cli->swap == 0)
                return bad("swap", a, "must be at least one page");
            break;
        case O_GUESTS:
            if (number_parse_u64(a, 10, 1, SWAPSIM_MAX_GUESTS, &v))
                return bad("guests", a, "expected 1 to 64");
            cfg->guests = (uint32_t)v;
            break;
        case O_RECLAIM:
            if (guest_replace_parse(a, &cfg->guest.reclaim))
                return bad("reclaim", a, "expected clock or lru");
            break;
        case O_SWAPDIR:
            cfg->guest.swap_dir = a;
            break;
        case O_FAULTWRITE:
        case O_FAULTREAD: {
            char why[256];
            bool write = opt == O_FAULTWRITE;
            if (swapsim_io_fault_parse(a, write, write ? &cfg->guest.write_fault
                                                       : &cfg->guest.read_fault,
                                       why, sizeof(why)) != 0)
                return bad(write ? "fault-swap-write" : "fault-swap-read", a, why);
            break;
        }
        case O_EXCLLOADS:
            cfg->guest.exclusive_loads = true;
            break;
        case O_WT:
            cfg->guest.write_through = true;
            break;
        case O_SELFSHRINK:
            if (number_parse_u64(a, 10, 1, UINT64_MAX / 2, &v))
                return bad("self-shrink", a, "expected a positive number of accesses");
            cfg->guest.selfshrink_age = v;
            break;
        case O_CAPACITY:
            if (parse_size_arg("capacity", a, true, &cfg->tmem.capacity_bytes))
                return EXIT_USAGE;
            break;
        case O_SCHEDULE:
            if (swapsim_parse_schedule(cfg, a, err, sizeof(err)))
                return bad("schedule", a, err);
            break;
        case O_PAGESIZE:
            if (number_parse_u64(a, 10, 512, 32768, &v) || (v & (v - 1)))
                return bad("page-size", a, "expected a power of two from 512 to 32768");
            cfg->tmem.page_size = (uint32_t)v;
            break;
        case O_COMPRESSOR:
            if (tmem_compressor_parse(a, &cfg->tmem.compressor, &cfg->tmem.compress_level))
                return bad("compressor", a,
                           "expected lz4, lzo, zstd, zstd:LEVEL (1 to 19) or none");
            cli->compressor_set = true;
            break;
        case O_NOCOMPRESS:
            cfg->tmem.compressor = TMEM_COMPRESSOR_NONE;
            cli->compressor_set = true;
            break;
        case O_MODEL:
            if (swapsim_model_parse(a, &cli->model))
                return bad("model", a, "expected frontswap or zswap");
            break;
        case O_ACCEPT:
            if (number_parse_u64(a, 10, 1, 100, &v))
                return bad("accept-threshold", a, "expected a percentage from 1 to 100");
            cli->accept = (uint32_t)v;
            break;
        case O_CONCURRENT:
            cfg->concurrent = true;
            break;
        case O_WBPACE:
            if (number_parse_u64(a, 10, 0, 1000000, &v))
                return bad("writeback-pace", a, "expected entries per 100 swap-outs, 0 to 1000000");
            cfg->guest.writeback_pace = (uint32_t)v;
            break;
        case O_SECONDCHANCE:
            if (strcmp(a, "on") != 0 && strcmp(a, "off") != 0)
                return bad("zswap-second-chance", a, "expected on or off");
            cfg->guest.no_second_chance = strcmp(a, "off") == 0;
            cli->worker_set = true;
            break;
        case O_ZSWAPPOOL:
            if (strcmp(a, "zspages") != 0 && strcmp(a, "bytes") != 0)
                return bad("zswap-pool", a, "expected zspages or bytes");
            cli->zswap_pool = a;
            break;
        case O_ROTATIONCOST:
            if (number_parse_u64(a, 10, 0, 100, &v))
                return bad("rotation-cost", a,
                           "expected hundredths of a writeback step, 0 to 100");
            cfg->guest.rotation_cost = (uint32_t)v;
            cli->worker_set = true;
            break;
        case O_WORKERDELAY:
            if (number_parse_u64(a, 10, 0, 1000000, &v))
                return bad("worker-delay", a, "expected swap-outs, 0 to 1000000");
            cfg->guest.worker_delay = (uint32_t)v;
            cli->worker_set = true;
            break;
        case O_NODEDUP:
            cfg->tmem.dedup = false;
            break;
        case O_NOSAME:
            cfg->tmem.same_filled = false;
            break;
        case O_HYST:
            cfg->tmem.hysteresis = true;
            break;
        case O_TRACE:
            cfg->trace_path = a;
            break;
        case O_RECORD:
            cfg->record_path = a;
            break;
        case O_SEED:
            if (number_parse_u64(a, 10, 0, UINT64_MAX, &v))
                return bad("seed", a, "expected a number");
            cfg->gen.seed = cfg->guest.seed = v;
            break;
        case O_DEVICE:
            if (guest_device_profile_parse(a, &cfg->costs.device)) {
                snprintf(err, sizeof(err), "expected %s", guest_device_grammar());
                return bad("device", a, err);
            }
            break;
        case O_COST:
            if (strncmp(a, "disk_read=", 10) == 0 || strncmp(a, "disk_write=", 11) == 0)
                return bad("cost", a,
                           "swap I/O is priced by the device model now: use --device "
                           "custom:LAT_US,MBPS");
            if (set_cost(&cfg->costs, a))
                return bad("cost", a,
                           "expected NAME=NS with NAME one of access, fault, tmem_copy, "
                           "compress, decompress");
            break;
        case O_NOBASE:
            cfg->baseline = false;
            break;
        case O_JSON:
            cli->json = a;
            break;
        case O_CSV:
            cli->csv = a;
            break;
        case O_SAMPLE:
            if (number_parse_u64(a, 10, 1, UINT64_MAX, &cfg->sample_every))
                return bad("sample-every", a, "expected a positive number of accesses");
            cli->sample_set = true;
            break;
        case O_BENCH:
            cli->bench = true;
            break;
        case O_QUIET:
            cli->quiet = true;
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            exit(0);
        case ':':
            fprintf(stderr, "tmem-swapsim: %s needs an argument (see --help)\n",
                    argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "tmem-swapsim: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tmem-swapsim: unexpected argument '%s' (see --help)\n", argv[optind]);
        return EXIT_USAGE;
    }
    if (cli->model == SWAPSIM_MODEL_ZSWAP && cfg->guest.write_through) {
        fprintf(stderr, "tmem-swapsim: --model zswap and --write-through cannot be used "
                        "together: zswap writes pages to the swap file only at writeback "
                        "(see --help)\n");
        return EXIT_USAGE;
    }
    if (cli->model != SWAPSIM_MODEL_ZSWAP && cfg->guest.writeback_pace) {
        fprintf(stderr, "tmem-swapsim: --writeback-pace needs --model zswap (see --help)\n");
        return EXIT_USAGE;
    }
    if (cli->model != SWAPSIM_MODEL_ZSWAP && cli->zswap_pool) {
        fprintf(stderr, "tmem-swapsim: --zswap-pool needs --model zswap (see --help)\n");
        return EXIT_USAGE;
    }
    if (cli->model != SWAPSIM_MODEL_ZSWAP && cli->worker_set) {
        fprintf(stderr, "tmem-swapsim: --zswap-second-chance, --rotation-cost and "
                        "--worker-delay need --model zswap (see --help)\n");
        return EXIT_USAGE;
    }
    if (cfg->guest.worker_delay && cfg->guest.no_second_chance) {
        fprintf(stderr, "tmem-swapsim: --worker-delay needs --zswap-second-chance on (it delays "
                        "that worker's wake-ups)\n");
        return EXIT_USAGE;
    }
    if (cli->model == SWAPSIM_MODEL_ZSWAP) {
        /* the model's store, keeping a compressor the user chose */
        enum tmem_compressor compressor = cfg->tmem.compressor;
        int level = cfg->tmem.compress_level;
        swapsim_config_set_model(cfg, cli->model);
        if (cli->compressor_set) {
            cfg->tmem.compressor = compressor;
            cfg->tmem.compress_level = level;
        }
        if (cli->zswap_pool && strcmp(cli->zswap_pool, "bytes") == 0)
            cfg->tmem.budget = TMEM_BUDGET_ZSMALLOC;
    }
    if (cli->accept)
        cfg->tmem.accept_threshold_percent = cli->accept;
    return 0;
}

/* SIGINT or SIGTERM: the signal's number, read by every guest before its
 * next access (cfg.interrupt). The handler is reset on delivery, so a
 * second signal ends the program at once. */
static atomic_int got_signal;

static void on_signal(int sig)
{
    atomic_store(&got_signal, sig);
}

static void catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* What the options say together, checked before anything runs: one line
 * and EXIT_USAGE, or 0. */
static int check_config(const struct swapsim_config *cfg, const struct cli *cli)
{
    char err[512];

    if (cfg->trace_path && cli->workload_set) {
        fprintf(stderr, "tmem-swapsim: --trace and --workload cannot be used together: the "
                        "trace file is the workload (see --help)\n");
        return EXIT_USAGE;
    }
    if (cfg->trace_path)
        return 0; /* the trace's length is the run's: known only by reading it */
    if (swapsim_gen_config_check(&cfg->gen, err, sizeof(err)) != 0) {
        fprintf(stderr, "tmem-swapsim: %s (see --help)\n", err);
        return EXIT_USAGE;
    }
    for (uint32_t i = 0; i < cfg->nevents; i++) {
        const struct swapsim_cap_event *ev = &cfg->events[i];
        if (ev->at >= cfg->gen.accesses) {
            fprintf(stderr, "tmem-swapsim: --schedule: event %u (at access %" PRIu64
                            ") would never fire: the run has %" PRIu64 " accesses per guest "
                            "(--accesses), numbered 0 to %" PRIu64 "\n",
                    i + 1, ev->at, cfg->gen.accesses, cfg->gen.accesses - 1);
            return EXIT_USAGE;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct swapsim_config cfg;
    struct swapsim_result res;
    struct cli cli = {.ram = 64ULL << 20, .wss = 256ULL << 20};
    struct output json = {.opt = "json"}, csv = {.opt = "csv"};
    struct swapsim_progress progress;
    struct swapsim_status *status = NULL;
    char err[2048] = "";
    FILE *f;
    uint32_t ps;
    int ret;

    swapsim_config_init(&cfg);
    ret = parse_args(argc, argv, &cfg, &cli);
    if (ret != 0)
        return ret;
    ps = cfg.tmem.page_size ? cfg.tmem.page_size : 4096;
    if (cli.ram < ps || cli.ram / ps > UINT32_MAX) {
        fprintf(stderr, "tmem-swapsim: --ram: must be between one page and 2^32 pages\n");
        return EXIT_USAGE;
    }
    if (cli.wss / ps <= cli.ram / ps || cli.wss / ps > UINT32_MAX) {
        fprintf(stderr, "tmem-swapsim: --wss: the address space (%" PRIu64
                        " pages) must be larger than RAM (%" PRIu64 " pages)\n",
                cli.wss / ps, cli.ram / ps);
        return EXIT_USAGE;
    }
    cfg.guest.ram_pages = (uint32_t)(cli.ram / ps);
    cfg.guest.vpages = (uint32_t)(cli.wss / ps);
    if (cli.swap) {
        if (cli.swap / ps == 0 || cli.swap / ps > UINT32_MAX) {
            fprintf(stderr, "tmem-swapsim: --swap: must be between one page and 2^32 pages\n");
            return EXIT_USAGE;
        }
        cfg.guest.swap_slots = (uint32_t)(cli.swap / ps);
    }
    cfg.gen.vpages = cfg.guest.vpages;
    cfg.guest.quiet = true; /* fatal reports come back in err, printed once below */
    if ((cli.json || cli.csv) && !cli.sample_set)
        cfg.sample_every = cfg.gen.accesses / 100 ? cfg.gen.accesses / 100 : 1;
    if (cli.bench)
        cfg.baseline = false;
    ret = check_config(&cfg, &cli);
    if (ret != 0)
        return ret;
    json.path = cli.json;
    csv.path = cli.csv;
    if (output_open(&json) != 0)
        return EXIT_USAGE;
    if (output_open(&csv) != 0) {
        output_close(&json, false);
        return EXIT_USAGE;
    }

    atomic_init(&got_signal, 0);
    cfg.interrupt = &got_signal;
    catch_signals();
    /* the status line: on a terminal, after a second, every half second */
    memset(&progress, 0, sizeof(progress));
    cfg.progress = &progress;
    if (!cli.quiet && swapsim_status_start(&progress, stderr, 1.0, 0.5, &status) != 0)
        status = NULL; /* a run without a status line is still a run */
    ret = swapsim_run(&cfg, &res, err, sizeof(err));
    swapsim_status_stop(status);
    if (ret != 0) {
        fprintf(stderr, "tmem-swapsim: %s\n", err);
        swapsim_result_free(&res);
        output_close(&json, false);
        output_close(&csv, false);
        return 1;
    }
    if (cli.bench) {
        printf("tmem-swapsim bench: %" PRIu64 " faults in %.3f s: %.0f simulated page faults "
               "handled per second (%" PRIu64 " pages verified, %" PRIu64 " mismatches)\n",
               res.faults, res.wall_seconds,
               res.wall_seconds > 0 ? (double)res.faults / res.wall_seconds : 0.0,
               res.total.pages_verified, res.total.mismatches);
    } else {
        swapsim_report_text(stdout, &cfg, &res);
    }
    if (json.f) {
        int wrote = -1;
        f = output_begin(&json);
        if (f)
            wrote = swapsim_report_json(f, &cfg, &res);
        if (f && wrote != 0 && !ferror(f))
            fprintf(stderr, "tmem-swapsim: --json %s: out of memory\n", json.path);
        if (output_close(&json, f != NULL) != 0 || wrote != 0)
            ret = 1;
    }
    if (csv.f) {
        f = output_begin(&csv);
        if (f)
            swapsim_report_csv(f, &res);
        if (output_close(&csv, f != NULL) != 0 || !f)
            ret = 1;
    }
    if (res.total.mismatches || res.total.leaked_slots || res.total.leaked_tmem_pages ||
        res.store_pages_after) {
        fprintf(stderr, "tmem-swapsim: run ended with %" PRIu64 " mismatches, %" PRIu64
                        " leaked slots, %" PRIu64 " leaked tmem pages\n",
                res.total.mismatches, res.total.leaked_slots,
                res.total.leaked_tmem_pages + res.store_pages_after);
        ret = 1;
    }
    if (res.interrupted) {
        int sig = atomic_load(&got_signal);
        fprintf(stderr, "tmem-swapsim: interrupted by %s: reports written with the accesses "
                        "done\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        ret = 128 + (sig == SIGTERM ? SIGTERM : SIGINT);
    }
    swapsim_result_free(&res);
    return ret;
}
