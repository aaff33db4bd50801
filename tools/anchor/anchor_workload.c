/*
 * anchor_workload.c - tmem-swapsim's workload as a real program, for the
 * zswap anchor (tools/anchor/zswap-anchor.sh).
 *
 * Models: the guest of a swapsim run, played by a real process under the
 * real kernel. It maps an address space of M anonymous pages
 * (MADV_NOHUGEPAGE: 4 KiB pages, as swapsim's) and replays the access
 * stream swapsim's generator gives for the same options and seed
 * (swapsim_gen_create), with the page contents swapsim's content generator
 * gives (swapsim_content_fill), by the rules of swapsim's guest:
 *   first touch (page absent)  fill it with its content at its current
 *                              version (a minor fault, as in swapsim)
 *   read                       compare the page with the content of its
 *                              current version (a mismatch is counted)
 *   write                      compare, then version + 1 and fill
 *   unmap                      MADV_DONTNEED (the page and its swap slot
 *                              go), version + 1, absent again
 * Run inside a memory cgroup with swap and zswap on, the kernel decides
 * what goes to zswap or the swap file; the program only sees faults.
 * Before and after the access loop (not counting setup and exit) it reads
 * the swap counters of /proc/vmstat and, with --zswap-stats DIR, every
 * number in zswap's debugfs directory (the pool is gone once the process
 * exits, so the script cannot read it afterwards); it prints one JSON
 * document: accesses, mismatches, wall time, page faults (getrusage) and
 * those readings.
 * With --sample-every N it also records, every N accesses, the swap
 * counters of /proc/vmstat, zswap's debugfs numbers, the cgroup's
 * memory.stat (rss, cache, swap) and how many pages of the address space
 * are resident (present bit of /proc/self/pagemap): how much RAM the data
 * really has, and how fast zswap's shrink worker writes back against the
 * stores it refuses.
 * --setup-only measures the program's own memory instead (what the script
 * adds to the cgroup's limit): it sets everything up, creates every page
 * table of the address space (one touch per 2 MiB, then MADV_DONTNEED) and
 * reports the cgroup's usage (--cgroup DIR).
 * Data structures: the mapping, a version and a present flag per page, one
 * scratch page. Locking: none, one thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/number.h"
#include "common/size.h"
#include "common/stats_writer.h"
#include "swapsim/swapsim.h"

#define EXIT_USAGE 2
#define PAGES_PER_PAGE_TABLE 512u /* x86-64 and arm64 with 4 KiB pages */

/* /proc/vmstat counters the anchor compares (those this kernel has). */
static const char *const vmstat_names[] = {
    "pswpin", "pswpout", "zswpin", "zswpout", "zswpwb", "swpin_zero", "swpout_zero",
    "pgmajfault", "swap_ra", "swap_ra_hit",
};
#define VMSTAT_COUNT (sizeof(vmstat_names) / sizeof(vmstat_names[0]))

struct vmstat_reading {
    uint64_t value[VMSTAT_COUNT];
    bool present[VMSTAT_COUNT];
};

struct options {
    struct swapsim_gen_config gen;
    struct swapsim_content_mix mix;
    uint64_t wss;
    const char *json_path;   /* NULL: stdout */
    const char *cgroup_dir;  /* read its memory.usage_in_bytes (NULL: no) */
    const char *zswap_dir;   /* zswap's debugfs directory (NULL: no) */
    uint64_t sample_every;   /* accesses between samples (0: none) */
    bool setup_only;
};

struct workload_state {
    uint8_t *base;        /* the address space */
    size_t page_size;
    uint32_t vpages;
    uint32_t *version;    /* per page */
    uint8_t *present;     /* per page: 1 when mapped */
    uint8_t *expect;      /* scratch page */
    uint64_t accesses, reads, writes, unmaps, first_touches, verified, mismatches;
    int pagemap_fd;       /* /proc/self/pagemap, -1: not open */
    uint64_t *pagemap_buf; /* PAGEMAP_CHUNK entries */
};

#define PAGEMAP_CHUNK 65536u
#define PAGEMAP_PRESENT (1ull << 63)

static void usage(FILE *f)
{
    fprintf(f,
"usage: anchor_workload --wss SIZE [options]\n"
"Replay tmem-swapsim's generated workload (same options, same seed: the same\n"
"accesses and page bytes) in a real anonymous mapping; print a JSON summary.\n"
"  --wss SIZE            address space (as tmem-swapsim --wss)\n"
"  --accesses N          accesses (default 1000000)\n"
"  --workload KIND       uniform, zipf, seq, phase or mix (default zipf)\n"
"  --zipf-alpha A        Zipf exponent (default 0.99)\n"
"  --writes PCT          share of writes (default 30)\n"
"  --unmaps PCT          share of unmaps (default 0)\n"
"  --phase-pages N       phase working set in pages (default wss/4)\n"
"  --phase-length N      accesses per phase (default accesses/4)\n"
"  --content Z,D,C       percent of zero, duplicate, compressible pages\n"
"                        (default 10,10,50)\n"
"  --seed N              seed of workload and content (default 1)\n"
"  --cgroup DIR          report DIR/memory.usage_in_bytes and max_usage_in_bytes\n"
"  --zswap-stats DIR     report zswap's debugfs numbers (before and after the loop)\n"
"  --sample-every N      every N accesses record vmstat, zswap, the cgroup's\n"
"                        memory.stat and the resident pages of the address space\n"
"  --setup-only          no accesses: set up, create the page tables, report the\n"
"                        cgroup's usage (the program's own memory)\n"
"  --json FILE           write the summary there (default stdout)\n"
"SIZE: %s.\n",
            size_grammar(false));
}

static int bad(const char *opt, const char *arg, const char *why)
{
    fprintf(stderr, "anchor_workload: --%s '%s': %s\n", opt, arg, why);
    return EXIT_USAGE;
}

enum {
    O_WSS = 256, O_ACCESSES, O_WORKLOAD, O_ALPHA, O_WRITES, O_UNMAPS, O_PHASEPAGES, O_PHASELEN,
    O_CONTENT, O_SEED, O_CGROUP, O_ZSWAP, O_SAMPLE, O_SETUP, O_JSON, O_HELP,
};

static const struct option long_options[] = {
    {"wss", required_argument, NULL, O_WSS},
    {"accesses", required_argument, NULL, O_ACCESSES},
    {"workload", required_argument, NULL, O_WORKLOAD},
    {"zipf-alpha", required_argument, NULL, O_ALPHA},
    {"writes", required_argument, NULL, O_WRITES},
    {"unmaps", required_argument, NULL, O_UNMAPS},
    {"phase-pages", required_argument, NULL, O_PHASEPAGES},
    {"phase-length", required_argument, NULL, O_PHASELEN},
    {"content", required_argument, NULL, O_CONTENT},
    {"seed", required_argument, NULL, O_SEED},
    {"cgroup", required_argument, NULL, O_CGROUP},
    {"zswap-stats", required_argument, NULL, O_ZSWAP},
    {"sample-every", required_argument, NULL, O_SAMPLE},
    {"setup-only", no_argument, NULL, O_SETUP},
    {"json", required_argument, NULL, O_JSON},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

/* Parse argv into *o. Returns 0, EXIT_USAGE (message printed) or -1 (--help). */
static int parse_options(int argc, char **argv, struct options *o)
{
    int c, longindex = 0;
    char gen_err[256];

    memset(o, 0, sizeof(*o));
    swapsim_gen_config_init(&o->gen, 0, 1000000);
    swapsim_content_mix_default(&o->mix);
    while ((c = getopt_long(argc, argv, "", long_options, &longindex)) != -1) {
        const char *a = optarg;
        switch (c) {
        case O_WORKLOAD:
        case O_ACCESSES:
        case O_ALPHA:
        case O_WRITES:
        case O_UNMAPS:
        case O_PHASEPAGES:
        case O_PHASELEN:
        case O_CONTENT:
            /* the generator's options: one parser for every program */
            if (swapsim_gen_option_parse(long_options[longindex].name, a, &o->gen, &o->mix,
                                         gen_err, sizeof(gen_err)) < 0) {
                fprintf(stderr, "anchor_workload: %s (see --help)\n", gen_err);
                return EXIT_USAGE;
            }
            break;
        case O_WSS:
            if (size_parse(a, false, &o->wss) != 0)
                return bad("wss", a, size_grammar(false));
            break;
        case O_SEED:
            if (number_parse_u64(a, 10, 0, UINT64_MAX, &o->gen.seed))
                return bad("seed", a, "expected a number");
            break;
        case O_CGROUP:
            o->cgroup_dir = a;
            break;
        case O_ZSWAP:
            o->zswap_dir = a;
            break;
        case O_SAMPLE:
            if (number_parse_u64(a, 10, 1, UINT64_MAX, &o->sample_every))
                return bad("sample-every", a, "expected a positive number of accesses");
            break;
        case O_SETUP:
            o->setup_only = true;
            break;
        case O_JSON:
            o->json_path = a;
            break;
        case O_HELP:
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "anchor_workload: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    if (o->wss == 0) {
        fprintf(stderr, "anchor_workload: --wss SIZE is required (the address space)\n");
        return EXIT_USAGE;
    }
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void read_vmstat(struct vmstat_reading *r)
{
    char name[64];
    unsigned long long value;
    FILE *f = fopen("/proc/vmstat", "r");

    memset(r, 0, sizeof(*r));
    if (!f)
        return;
    while (fscanf(f, "%63s %llu", name, &value) == 2) {
        for (size_t i = 0; i < VMSTAT_COUNT; i++) {
            if (strcmp(name, vmstat_names[i]) == 0) {
                r->value[i] = value;
                r->present[i] = true;
            }
        }
    }
    fclose(f);
}

/* Read one decimal number from path into *out. Returns 0 or -1. */
static int read_number(const char *path, uint64_t *out)
{
    unsigned long long v;
    int ok;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    ok = fscanf(f, "%llu", &v) == 1;
    fclose(f);
    if (!ok)
        return -1;
    *out = v;
    return 0;
}

/* Every number file of dir (zswap's debugfs) as members of a new object. */
static json_t *read_number_dir(const char *dir)
{
    json_t *obj = json_object();
    struct dirent *de;
    DIR *d;
    char path[4096];
    uint64_t v;

    if (!obj)
        return NULL;
    d = opendir(dir);
    if (!d)
        return obj;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (read_number(path, &v) == 0)
            json_object_set_new(obj, de->d_name, json_integer((json_int_t)v));
    }
    closedir(d);
    return obj;
}

static void add_cgroup_usage(json_t *doc, const char *dir, const char *prefix)
{
    char path[4096], name[128];
    uint64_t v;

    if (!dir)
        return;
    snprintf(path, sizeof(path), "%s/memory.usage_in_bytes", dir);
    if (read_number(path, &v) == 0) {
        snprintf(name, sizeof(name), "%scgroup_usage_bytes", prefix);
        json_object_set_new(doc, name, json_integer((json_int_t)v));
    }
    snprintf(path, sizeof(path), "%s/memory.max_usage_in_bytes", dir);
    if (read_number(path, &v) == 0) {
        snprintf(name, sizeof(name), "%scgroup_max_usage_bytes", prefix);
        json_object_set_new(doc, name, json_integer((json_int_t)v));
    }
}

/* Pages of the address space present in RAM (pagemap's present bit; swap
 * cache pages not mapped are not counted). Returns the count or -1. */
static int64_t count_resident_pages(struct workload_state *s)
{
    uint64_t first = (uint64_t)(uintptr_t)s->base / s->page_size;
    int64_t resident = 0;

    if (s->pagemap_fd < 0)
        return -1;
    for (uint32_t done = 0; done < s->vpages;) {
        uint32_t n = s->vpages - done < PAGEMAP_CHUNK ? s->vpages - done : PAGEMAP_CHUNK;
        ssize_t got = pread(s->pagemap_fd, s->pagemap_buf, (size_t)n * sizeof(uint64_t),
                            (off_t)((first + done) * sizeof(uint64_t)));
        if (got != (ssize_t)((size_t)n * sizeof(uint64_t)))
            return -1;
        for (uint32_t i = 0; i < n; i++)
            resident += (s->pagemap_buf[i] & PAGEMAP_PRESENT) != 0;
        done += n;
    }
    return resident;
}

/* The cgroup's memory.stat lines NAME VALUE for the names it lists. */
static json_t *read_memory_stat(const char *dir)
{
    static const char *const names[] = {"rss", "cache", "swap", "mapped_file",
                                        "active_anon", "inactive_anon"};
    json_t *obj = json_object();
    char path[4096], name[64];
    unsigned long long v;
    FILE *f;

    if (!obj || !dir)
        return obj;
    snprintf(path, sizeof(path), "%s/memory.stat", dir);
    f = fopen(path, "r");
    if (!f)
        return obj;
    while (fscanf(f, "%63s %llu", name, &v) == 2)
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strcmp(name, names[i]) == 0)
                json_object_set_new(obj, name, json_integer((json_int_t)v));
    fclose(f);
    return obj;
}

/* One sample (see the top comment), appended to samples. */
static void add_sample(json_t *samples, struct workload_state *s, const struct options *o,
                       double t0)
{
    struct vmstat_reading r;
    json_t *one = json_object(), *vm = json_object();

    if (!one || !vm) {
        json_decref(one);
        json_decref(vm);
        return;
    }
    read_vmstat(&r);
    for (size_t i = 0; i < VMSTAT_COUNT; i++)
        if (r.present[i])
            json_object_set_new(vm, vmstat_names[i], json_integer((json_int_t)r.value[i]));
    json_object_set_new(one, "at", json_integer((json_int_t)s->accesses));
    json_object_set_new(one, "seconds", json_real(now_seconds() - t0));
    json_object_set_new(one, "resident_pages", json_integer(count_resident_pages(s)));
    json_object_set_new(one, "vmstat", vm);
    if (o->zswap_dir)
        json_object_set_new(one, "zswap", read_number_dir(o->zswap_dir));
    if (o->cgroup_dir)
        json_object_set_new(one, "memory_stat", read_memory_stat(o->cgroup_dir));
    json_array_append_new(samples, one);
}

/* Check that page v holds the content of its current version. */
static void verify_page(struct workload_state *s, const struct options *o, uint32_t v)
{
    uint8_t *page = s->base + (size_t)v * s->page_size;

    swapsim_content_fill(s->expect, (uint32_t)s->page_size, o->gen.seed, &o->mix, v,
                         s->version[v]);
    s->verified++;
    if (memcmp(page, s->expect, s->page_size) != 0) {
        if (s->mismatches < 10)
            fprintf(stderr, "anchor_workload: access %" PRIu64 ": page %u (version %u, %s) "
                    "differs from its expected content\n", s->accesses, v, s->version[v],
                    swapsim_content_class(o->gen.seed, &o->mix, v, s->version[v]));
        s->mismatches++;
    }
}

static void fill_page(struct workload_state *s, const struct options *o, uint32_t v)
{
    swapsim_content_fill(s->base + (size_t)v * s->page_size, (uint32_t)s->page_size,
                         o->gen.seed, &o->mix, v, s->version[v]);
}

/* One access, by the rules of swapsim's guest (see the top comment). */
static int do_access(struct workload_state *s, const struct options *o,
                     const struct swapsim_access *acc)
{
    uint32_t v = acc->vpage;

    if (v >= s->vpages) {
        fprintf(stderr, "anchor_workload: access %" PRIu64 ": page %u out of range\n",
                s->accesses, v);
        return -EINVAL;
    }
    s->accesses++;
    if (acc->op == SWAPSIM_UNMAP) {
        s->unmaps++;
        if (madvise(s->base + (size_t)v * s->page_size, s->page_size, MADV_DONTNEED) != 0) {
            fprintf(stderr, "anchor_workload: madvise(MADV_DONTNEED): %s\n", strerror(errno));
            return -errno;
        }
        s->present[v] = 0;
        s->version[v]++;
        return 0;
    }
    if (!s->present[v]) {
        fill_page(s, o, v);
        s->present[v] = 1;
        s->first_touches++;
    } else {
        verify_page(s, o, v);
    }
    if (acc->op == SWAPSIM_WRITE) {
        s->writes++;
        s->version[v]++;
        fill_page(s, o, v);
    } else {
        s->reads++;
    }
    return 0;
}

/* Set up: the mapping, the per-page arrays (touched now, so they are
 * resident before the loop and measured by --setup-only). */
static int setup_state(struct workload_state *s, const struct options *o)
{
    long ps = sysconf(_SC_PAGESIZE);

    memset(s, 0, sizeof(*s));
    s->pagemap_fd = -1;
    s->page_size = ps > 0 ? (size_t)ps : 4096;
    if (o->wss / s->page_size == 0 || o->wss / s->page_size > UINT32_MAX) {
        fprintf(stderr, "anchor_workload: --wss must be from one page to 2^32 pages\n");
        return -EINVAL;
    }
    s->vpages = (uint32_t)(o->wss / s->page_size);
    s->base = mmap(NULL, (size_t)s->vpages * s->page_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s->base == MAP_FAILED) {
        s->base = NULL;
        fprintf(stderr, "anchor_workload: mmap of %u pages: %s\n", s->vpages, strerror(errno));
        return -ENOMEM;
    }
    if (madvise(s->base, (size_t)s->vpages * s->page_size, MADV_NOHUGEPAGE) != 0) {
        fprintf(stderr, "anchor_workload: madvise(MADV_NOHUGEPAGE): %s\n", strerror(errno));
        return -errno;
    }
    s->version = malloc((size_t)s->vpages * sizeof(uint32_t));
    s->present = malloc(s->vpages);
    s->expect = malloc(s->page_size);
    if (!s->version || !s->present || !s->expect) {
        fprintf(stderr, "anchor_workload: out of memory\n");
        return -ENOMEM;
    }
    memset(s->version, 0, (size_t)s->vpages * sizeof(uint32_t));
    memset(s->present, 0, s->vpages);
    memset(s->expect, 0, s->page_size);
    if (o->sample_every) {
        s->pagemap_buf = malloc(PAGEMAP_CHUNK * sizeof(uint64_t));
        s->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        if (!s->pagemap_buf || s->pagemap_fd < 0) {
            fprintf(stderr, "anchor_workload: /proc/self/pagemap: %s\n", strerror(errno));
            return -EIO;
        }
    }
    return 0;
}

static void free_state(struct workload_state *s)
{
    if (s->base)
        munmap(s->base, (size_t)s->vpages * s->page_size);
    free(s->version);
    free(s->present);
    free(s->expect);
    free(s->pagemap_buf);
    if (s->pagemap_fd >= 0)
        close(s->pagemap_fd);
}

/* --setup-only: create every page table of the mapping, free the pages. */
static int create_page_tables(struct workload_state *s)
{
    size_t step = (size_t)PAGES_PER_PAGE_TABLE * s->page_size;
    size_t len = (size_t)s->vpages * s->page_size;

    for (size_t off = 0; off < len; off += step)
        s->base[off] = 1;
    if (madvise(s->base, len, MADV_DONTNEED) != 0) {
        fprintf(stderr, "anchor_workload: madvise(MADV_DONTNEED): %s\n", strerror(errno));
        return -errno;
    }
    return 0;
}

static void add_vmstat_delta(json_t *doc, const struct vmstat_reading *before,
                             const struct vmstat_reading *after)
{
    json_t *obj = json_object();
    if (!obj)
        return;
    for (size_t i = 0; i < VMSTAT_COUNT; i++)
        if (before->present[i] && after->present[i])
            json_object_set_new(obj, vmstat_names[i],
                                json_integer((json_int_t)(after->value[i] - before->value[i])));
    json_object_set_new(doc, "vmstat_delta", obj);
}

static void add_rusage(json_t *doc, const struct rusage *before, const struct rusage *after)
{
    json_object_set_new(doc, "minor_faults",
                        json_integer((json_int_t)(after->ru_minflt - before->ru_minflt)));
    json_object_set_new(doc, "major_faults",
                        json_integer((json_int_t)(after->ru_majflt - before->ru_majflt)));
    json_object_set_new(doc, "max_rss_kib", json_integer((json_int_t)after->ru_maxrss));
}

static int write_document(json_t *doc, const char *path)
{
    FILE *f = path ? fopen(path, "w") : stdout;
    int ret = 0;

    if (!f) {
        fprintf(stderr, "anchor_workload: %s: cannot create: %s\n", path, strerror(errno));
        return -1;
    }
    if (json_dumpf(doc, f, STATS_JSON_FLAGS | JSON_INDENT(1)) != 0 || fputc('\n', f) == EOF)
        ret = -1;
    if (path && fclose(f) != 0)
        ret = -1;
    if (ret)
        fprintf(stderr, "anchor_workload: cannot write the summary\n");
    return ret;
}

static json_t *new_document(const struct options *o, const struct workload_state *s)
{
    json_t *doc = json_object();
    if (!doc)
        return NULL;
    json_object_set_new(doc, "workload", json_string(swapsim_gen_kind_name(o->gen.kind)));
    json_object_set_new(doc, "vpages", json_integer(s->vpages));
    json_object_set_new(doc, "page_size", json_integer((json_int_t)s->page_size));
    json_object_set_new(doc, "seed", json_integer((json_int_t)o->gen.seed));
    return doc;
}

int main(int argc, char **argv)
{
    struct options o;
    struct workload_state s;
    struct swapsim_workload *w = NULL;
    struct swapsim_access acc;
    struct vmstat_reading vm_before, vm_after;
    struct rusage ru_before, ru_after;
    json_t *doc = NULL, *zswap_before = NULL, *samples = NULL;
    char err[512];
    double t0, t1;
    int ret, status = 1;

    ret = parse_options(argc, argv, &o);
    if (ret != 0)
        return ret < 0 ? 0 : ret;
    if (setup_state(&s, &o) != 0)
        goto out;
    if (o.sample_every && !(samples = json_array()))
        goto out;
    o.gen.vpages = s.vpages;
    if (swapsim_gen_create(&o.gen, &w, err, sizeof(err)) != 0) {
        fprintf(stderr, "anchor_workload: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    doc = new_document(&o, &s);
    if (!doc)
        goto out;
    if (o.setup_only) {
        if (create_page_tables(&s) != 0)
            goto out;
        add_cgroup_usage(doc, o.cgroup_dir, "");
        json_object_set_new(doc, "page_table_bytes",
                            json_integer((json_int_t)((s.vpages + PAGES_PER_PAGE_TABLE - 1) /
                                                      PAGES_PER_PAGE_TABLE * s.page_size)));
        status = write_document(doc, o.json_path) == 0 ? 0 : 1;
        goto out;
    }
    add_cgroup_usage(doc, o.cgroup_dir, "setup_");
    if (o.zswap_dir)
        zswap_before = read_number_dir(o.zswap_dir);
    read_vmstat(&vm_before);
    getrusage(RUSAGE_SELF, &ru_before);
    t0 = now_seconds();
    while ((ret = swapsim_workload_next(w, &acc)) == 1) {
        if (acc.op == SWAPSIM_CAPACITY)
            continue;
        if (do_access(&s, &o, &acc) != 0)
            goto out;
        if (samples && s.accesses % o.sample_every == 0)
            add_sample(samples, &s, &o, t0);
    }
    t1 = now_seconds();
    getrusage(RUSAGE_SELF, &ru_after);
    read_vmstat(&vm_after);
    if (ret < 0) {
        fprintf(stderr, "anchor_workload: %s\n", swapsim_workload_error(w));
        goto out;
    }
    json_object_set_new(doc, "accesses", json_integer((json_int_t)s.accesses));
    json_object_set_new(doc, "reads", json_integer((json_int_t)s.reads));
    json_object_set_new(doc, "writes", json_integer((json_int_t)s.writes));
    json_object_set_new(doc, "unmaps", json_integer((json_int_t)s.unmaps));
    json_object_set_new(doc, "first_touches", json_integer((json_int_t)s.first_touches));
    json_object_set_new(doc, "pages_verified", json_integer((json_int_t)s.verified));
    json_object_set_new(doc, "mismatches", json_integer((json_int_t)s.mismatches));
    json_object_set_new(doc, "wall_seconds", json_real(t1 - t0));
    add_rusage(doc, &ru_before, &ru_after);
    add_vmstat_delta(doc, &vm_before, &vm_after);
    add_cgroup_usage(doc, o.cgroup_dir, "end_");
    if (o.zswap_dir) {
        json_object_set_new(doc, "zswap_before", zswap_before ? zswap_before : json_null());
        zswap_before = NULL;
        json_object_set_new(doc, "zswap_after", read_number_dir(o.zswap_dir));
    }
    if (samples) {
        json_object_set_new(doc, "samples", samples);
        samples = NULL;
    }
    if (write_document(doc, o.json_path) != 0)
        goto out;
    status = s.mismatches == 0 ? 0 : 1;
out:
    json_decref(samples);
    json_decref(zswap_before);
    json_decref(doc);
    swapsim_workload_destroy(w);
    free_state(&s);
    return status;
}
