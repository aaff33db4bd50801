/*
 * tmemfs_opts.c - parsing and checking the tmemfs command line.
 *
 * Models: a mount helper's option handling. fuse_opt_parse() collects our
 * -o name=value options as strings (so a bad value is reported by us, in
 * one line) and the positional arguments (SOURCE MOUNTPOINT pairs: one
 * mount each); libfuse's own options (-o allow_other, -o ro, ...) stay in
 * the argument list for fuse_new(), which rejects unknown ones.
 *
 * Data: struct tmemfs_opts (caller-owned) and a private struct of raw
 * strings used only during parsing. Locking: none (single-threaded, at
 * start-up).
 */
#include "fuse_cleancache/tmemfs_opts.h"

#include "common/size.h"
#include "common/yesno.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tmemfs_raw {
    char *cache_size, *capacity, *cleancache, *compress, *compressor, *dedup, *page_size;
    char *shared_uuid, *stats_json, *ctl, *policy, *max_objects;
    char *attr_timeout, *entry_timeout, *negative_timeout;
    char *stats_interval, *stats_csv, *stats_jsonl, *device, *backing_delay, *record;
    char *control;
    char *fault_backing_read, *fault_backing_write;
    int control_default;
    int kcache, nonempty, backing_direct;
    int allow_other, default_permissions;
    int help, version, foreground, single_thread, debug;
    char **pos;            /* positional arguments (malloc'ed) */
    size_t npos, cap;
    int nomem;
};

enum {
    TMEMFS_KEY_HELP, TMEMFS_KEY_VERSION, TMEMFS_KEY_FG, TMEMFS_KEY_ST, TMEMFS_KEY_DEBUG,
    TMEMFS_KEY_ALLOW_OTHER, TMEMFS_KEY_DEFAULT_PERMISSIONS
};

#define TMEMFS_OPT(t, p) { t, offsetof(struct tmemfs_raw, p), 1 }
#define TMEMFS_OPTS(name, field) { name "=%s", offsetof(struct tmemfs_raw, field), 0 }

static const struct fuse_opt tmemfs_opt_spec[] = {
    TMEMFS_OPTS("cache_size", cache_size),
    TMEMFS_OPTS("capacity", capacity),
    TMEMFS_OPTS("cleancache", cleancache),
    TMEMFS_OPTS("compress", compress),
    TMEMFS_OPTS("compressor", compressor),
    TMEMFS_OPTS("dedup", dedup),
    TMEMFS_OPTS("page_size", page_size),
    TMEMFS_OPTS("shared_uuid", shared_uuid),
    TMEMFS_OPTS("stats_json", stats_json),
    TMEMFS_OPTS("ctl", ctl),
    TMEMFS_OPTS("policy", policy),
    TMEMFS_OPTS("max_objects", max_objects),
    TMEMFS_OPTS("attr_timeout", attr_timeout),
    TMEMFS_OPTS("entry_timeout", entry_timeout),
    TMEMFS_OPTS("negative_timeout", negative_timeout),
    TMEMFS_OPTS("stats_interval", stats_interval),
    TMEMFS_OPTS("stats_csv", stats_csv),
    TMEMFS_OPTS("stats_jsonl", stats_jsonl),
    TMEMFS_OPTS("record", record),
    TMEMFS_OPTS("control", control),
    TMEMFS_OPT("control", control_default),
    TMEMFS_OPTS("device", device),
    TMEMFS_OPTS("backing_delay", backing_delay),
    TMEMFS_OPTS("fault_backing_read", fault_backing_read),
    TMEMFS_OPTS("fault_backing_write", fault_backing_write),
    TMEMFS_OPT("kcache", kcache),
    TMEMFS_OPT("nonempty", nonempty),
    TMEMFS_OPT("backing_direct", backing_direct),
    FUSE_OPT_KEY("-h", TMEMFS_KEY_HELP),
    FUSE_OPT_KEY("--help", TMEMFS_KEY_HELP),
    FUSE_OPT_KEY("-V", TMEMFS_KEY_VERSION),
    FUSE_OPT_KEY("--version", TMEMFS_KEY_VERSION),
    FUSE_OPT_KEY("-f", TMEMFS_KEY_FG),
    FUSE_OPT_KEY("-s", TMEMFS_KEY_ST),
    FUSE_OPT_KEY("-d", TMEMFS_KEY_DEBUG),
    FUSE_OPT_KEY("debug", TMEMFS_KEY_DEBUG),
    FUSE_OPT_KEY("allow_other", TMEMFS_KEY_ALLOW_OTHER),
    FUSE_OPT_KEY("default_permissions", TMEMFS_KEY_DEFAULT_PERMISSIONS),
    FUSE_OPT_END
};

static int tmemfs_opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
    struct tmemfs_raw *r = data;

    (void)outargs;
    switch (key) {
    case FUSE_OPT_KEY_NONOPT:
        if (r->npos == r->cap) {
            size_t cap = r->cap ? 2 * r->cap : 4;
            char **p = realloc(r->pos, cap * sizeof(*p));
            if (!p) {
                r->nomem = 1;
                return -1;
            }
            r->pos = p;
            r->cap = cap;
        }
        r->pos[r->npos] = strdup(arg);
        if (!r->pos[r->npos]) {
            r->nomem = 1;
            return -1;
        }
        r->npos++;
        return 0;
    case TMEMFS_KEY_HELP:
        r->help = 1;
        return 0;
    case TMEMFS_KEY_VERSION:
        r->version = 1;
        return 0;
    case TMEMFS_KEY_FG:
        r->foreground = 1;
        return 0;
    case TMEMFS_KEY_ST:
        r->single_thread = 1;
        return 0;
    case TMEMFS_KEY_DEBUG:
        r->debug = 1;
        r->foreground = 1;
        return 1; /* keep: libfuse turns on its debug output */
    case TMEMFS_KEY_ALLOW_OTHER:
        r->allow_other = 1;
        return 1; /* keep: a mount option for libfuse */
    case TMEMFS_KEY_DEFAULT_PERMISSIONS:
        r->default_permissions = 1;
        return 1;
    default:
        return 1;
    }
}

int tmemfs_parse_uuid(const char *s, uint8_t uuid[16])
{
    int n = 0;

    for (; *s; s++) {
        int hi;
        if (*s == '-')
            continue;
        if (!isxdigit((unsigned char)*s) || n >= 32)
            return -1;
        hi = isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10);
        if (n % 2 == 0)
            uuid[n / 2] = (uint8_t)(hi << 4);
        else
            uuid[n / 2] |= (uint8_t)hi;
        n++;
    }
    return n == 32 ? 0 : -1;
}

/* A decimal number from 0 to max (seconds, microseconds). 0 or -1. */
/* A backing fault switch: "[short:]FAULT" (common/fault.h's grammar after
 * the optional kind, swapsim's spelling): *shorten says which kind.
 * 0, or -EINVAL with the reason in why. */
static int tmemfs_parse_backing_fault(const char *text, struct fault_spec *spec, bool *shorten,
                                      char *why, size_t whylen)
{
    *shorten = strncmp(text, "short:", 6) == 0;
    return fault_parse(text + (*shorten ? 6 : 0), spec, why, whylen);
}

static int tmemfs_parse_decimal(const char *s, double max, double *out)
{
    char *end;
    double v;

    if (!s || !*s || !(isdigit((unsigned char)*s) || *s == '.'))
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

static void tmemfs_raw_free(struct tmemfs_raw *r)
{
    size_t i;

    free(r->cache_size);
    free(r->capacity);
    free(r->cleancache);
    free(r->compress);
    free(r->compressor);
    free(r->dedup);
    free(r->page_size);
    free(r->shared_uuid);
    free(r->stats_json);
    free(r->ctl);
    free(r->policy);
    free(r->max_objects);
    free(r->attr_timeout);
    free(r->entry_timeout);
    free(r->negative_timeout);
    free(r->stats_interval);
    free(r->stats_csv);
    free(r->stats_jsonl);
    free(r->record);
    free(r->device);
    free(r->backing_delay);
    free(r->fault_backing_read);
    free(r->fault_backing_write);
    free(r->control);
    for (i = 0; i < r->npos; i++)
        free(r->pos[i]);
    free(r->pos);
}

#define TMEMFS_USAGE "usage: tmemfs [options] SOURCE MOUNTPOINT [SOURCE2 MOUNTPOINT2 ...]"

#define TMEMFS_BAD(...) do { fprintf(err, "tmemfs: " __VA_ARGS__); fputc('\n', err); \
                           goto out; } while (0)

int tmemfs_opts_parse(struct fuse_args *args, struct tmemfs_opts *o, FILE *err)
{
    struct tmemfs_raw r;
    uint64_t v;
    size_t i;
    int rc = -1;

    memset(&r, 0, sizeof(r));
    memset(o, 0, sizeof(*o));
    o->cache_size = 16ULL << 20;
    o->capacity = UINT64_MAX;
    o->cleancache = o->dedup = true;
    o->compressor = TMEM_COMPRESSOR_LZ4;
    o->page_size = 4096;
    o->policy = GUEST_REPLACE_CLOCK;
    o->max_objects = 65536;
    o->attr_timeout = o->entry_timeout = 1.0;
    o->stats_interval = 1.0;
    o->device = guest_device_builtin[1]; /* sata-ssd */

    if (fuse_opt_parse(args, &r, tmemfs_opt_spec, tmemfs_opt_proc) != 0)
        TMEMFS_BAD("%s", r.nomem ? "out of memory" : "invalid command line (see --help)");
    o->show_help = r.help;
    o->show_version = r.version;
    o->foreground = r.foreground;
    o->single_thread = r.single_thread;
    o->debug = r.debug;
    o->kcache = r.kcache;
    o->nonempty = r.nonempty;
    o->backing_direct = r.backing_direct;
    /* Other users on the mount: the kernel checks permissions too (see
     * tmemfs_opts.h), also on names and attributes it has cached, which the
     * daemon never sees again. */
    if (r.allow_other && !r.default_permissions &&
        fuse_opt_add_arg(args, "-odefault_permissions") != 0)
        TMEMFS_BAD("out of memory");
    if (o->show_help || o->show_version) {
        rc = 0;
        goto out;
    }
    if (r.npos < 2)
        TMEMFS_BAD("missing %s (" TMEMFS_USAGE ")",
                 r.npos == 0 ? "SOURCE and MOUNTPOINT" : "MOUNTPOINT");
    if (r.npos % 2)
        TMEMFS_BAD("odd number of arguments: SOURCE %s has no MOUNTPOINT (" TMEMFS_USAGE ")",
                 r.pos[r.npos - 1]);
    if (r.page_size) {
        if (size_parse(r.page_size, false, &v) < 0 || v < 512 || v > 32768 ||
            (v & (v - 1)))
            TMEMFS_BAD("bad page_size '%s' (a power of two from 512 to 32768: %s)", r.page_size,
                       size_grammar(false));
        o->page_size = (uint32_t)v;
    }
    if (r.cache_size) {
        if (size_parse(r.cache_size, false, &v) < 0 || v < o->page_size)
            TMEMFS_BAD("bad cache_size '%s' (at least one page: %s)", r.cache_size,
                       size_grammar(false));
        o->cache_size = v;
    }
    if (o->cache_size / o->page_size >= UINT32_MAX)
        TMEMFS_BAD("cache_size too large");
    if (r.capacity && size_parse(r.capacity, true, &o->capacity) < 0)
        TMEMFS_BAD("bad capacity '%s' (%s)", r.capacity, size_grammar(true));
    if (r.cleancache && yesno_parse(r.cleancache, &o->cleancache) < 0)
        TMEMFS_BAD("bad cleancache '%s' (on or off)", r.cleancache);
    if (r.compress) { /* the old switch: off = compressor=none, on = lz4 */
        bool on;
        if (yesno_parse(r.compress, &on) < 0)
            TMEMFS_BAD("bad compress '%s' (on or off; or use compressor=lz4|zstd[:LEVEL]|none)",
                       r.compress);
        o->compressor = on ? TMEM_COMPRESSOR_LZ4 : TMEM_COMPRESSOR_NONE;
    }
    if (r.compressor &&
        tmem_compressor_parse(r.compressor, &o->compressor, &o->compress_level) < 0)
        TMEMFS_BAD("bad compressor '%s' (lz4, zstd, zstd:LEVEL with LEVEL 1 to 19, or none)",
                   r.compressor);
    if (r.dedup && yesno_parse(r.dedup, &o->dedup) < 0)
        TMEMFS_BAD("bad dedup '%s' (on or off)", r.dedup);
    if (r.shared_uuid) {
        if (tmemfs_parse_uuid(r.shared_uuid, o->uuid) < 0)
            TMEMFS_BAD("bad shared_uuid '%s' (32 hex digits)", r.shared_uuid);
        o->shared = true;
    }
    if (r.policy && guest_replace_parse(r.policy, &o->policy) < 0)
        TMEMFS_BAD("bad policy '%s' (clock or lru)", r.policy);
    if (r.max_objects) {
        if (size_parse(r.max_objects, false, &v) < 0 || v == 0)
            TMEMFS_BAD("bad max_objects '%s' (a count above 0, with an optional K, M, G or T "
                       "suffix: powers of 1024)", r.max_objects);
        o->max_objects = v;
    }
    if (r.attr_timeout && tmemfs_parse_decimal(r.attr_timeout, 86400, &o->attr_timeout) < 0)
        TMEMFS_BAD("bad attr_timeout '%s' (seconds, 0 to 86400)", r.attr_timeout);
    if (r.entry_timeout && tmemfs_parse_decimal(r.entry_timeout, 86400, &o->entry_timeout) < 0)
        TMEMFS_BAD("bad entry_timeout '%s' (seconds, 0 to 86400)", r.entry_timeout);
    if (r.negative_timeout &&
        tmemfs_parse_decimal(r.negative_timeout, 86400, &o->negative_timeout) < 0)
        TMEMFS_BAD("bad negative_timeout '%s' (seconds, 0 to 86400)", r.negative_timeout);
    if (r.device && guest_device_profile_parse(r.device, &o->device) < 0)
        TMEMFS_BAD("bad device '%s' (%s)", r.device, guest_device_grammar());
    if (r.backing_delay && strcmp(r.backing_delay, "device") == 0) {
        o->delay_device = true;
    } else if (r.backing_delay) {
        double us;
        if (tmemfs_parse_decimal(r.backing_delay, 1e6, &us) < 0)
            TMEMFS_BAD("bad backing_delay '%s' (microseconds, 0 to 1000000, or 'device')",
                       r.backing_delay);
        o->delay_ns = (uint64_t)(us * 1000.0);
    }
    if (r.fault_backing_read || r.fault_backing_write) {
        char why[160];
        if (r.fault_backing_read &&
            tmemfs_parse_backing_fault(r.fault_backing_read, &o->fault_backing_read,
                                       &o->fault_backing_read_short, why, sizeof(why)) < 0)
            TMEMFS_BAD("bad fault_backing_read '%s': %s ([short:]%s; escape the comma: "
                       "p=P\\,seed=S)", r.fault_backing_read, why, fault_grammar());
        if (r.fault_backing_write &&
            tmemfs_parse_backing_fault(r.fault_backing_write, &o->fault_backing_write,
                                       &o->fault_backing_write_short, why, sizeof(why)) < 0)
            TMEMFS_BAD("bad fault_backing_write '%s': %s ([short:]%s; escape the comma: "
                       "p=P\\,seed=S)", r.fault_backing_write, why, fault_grammar());
    }
    if (r.ctl) {
        if (strchr(r.ctl, '/') || !strcmp(r.ctl, ".") || !strcmp(r.ctl, ".."))
            TMEMFS_BAD("bad ctl '%s' (a file name, or empty to disable)", r.ctl);
        o->ctl = r.ctl;
        r.ctl = NULL;
    } else {
        o->ctl = strdup(".tmemfs");
    }
    o->stats_json = r.stats_json;
    r.stats_json = NULL;
    o->stats_csv = r.stats_csv;
    r.stats_csv = NULL;
    o->stats_jsonl = r.stats_jsonl;
    r.stats_jsonl = NULL;
    o->record = r.record;
    r.record = NULL;
    if (r.control && !*r.control)
        TMEMFS_BAD("control=: empty path (give -o control for the default path)");
    if (r.control) {
        o->control = r.control;
        r.control = NULL;
    } else if (r.control_default) {
        o->control = strdup("");
        if (!o->control)
            TMEMFS_BAD("out of memory");
    }
    if (r.stats_interval && (tmemfs_parse_decimal(r.stats_interval, 86400, &o->stats_interval) < 0 ||
                             o->stats_interval < 0.01))
        TMEMFS_BAD("bad stats_interval '%s' (seconds, 0.01 to 86400)", r.stats_interval);
    if (r.stats_interval && !o->stats_csv && !o->stats_jsonl)
        TMEMFS_BAD("stats_interval needs stats_csv=PATH or stats_jsonl=PATH");
    o->nmounts = r.npos / 2;
    o->sources = calloc(o->nmounts, sizeof(char *));
    o->mountpoints = calloc(o->nmounts, sizeof(char *));
    o->mount_paths = calloc(o->nmounts, sizeof(char *));
    if (!o->sources || !o->mountpoints || !o->mount_paths)
        TMEMFS_BAD("out of memory");
    for (i = 0; i < o->nmounts; i++) {
        o->sources[i] = r.pos[2 * i];
        o->mountpoints[i] = r.pos[2 * i + 1];
        r.pos[2 * i] = r.pos[2 * i + 1] = NULL;
    }
    o->source = o->sources[0];
    o->mountpoint = o->mountpoints[0];
    rc = 0;
out:
    tmemfs_raw_free(&r);
    if (rc != 0)
        tmemfs_opts_free(o);
    return rc;
}

/* MOUNTPOINT m cannot be reached (errno); a mount whose daemon died
 * (ENOTCONN: the kernel may answer a stat from its cache, and only the
 * next access fails) gets a hint. */
#define TMEMFS_BAD_MOUNTPOINT(m)                                                           \
    do {                                                                                   \
        int e_ = errno;                                                                    \
        if (e_ == ENOTCONN)                                                                \
            TMEMFS_BAD("MOUNTPOINT %s: %s (the mount of a daemon that is gone: "           \
                       "fusermount3 -u %s; -o auto_unmount unmounts when the daemon dies)", \
                       (m), strerror(e_), (m));                                            \
        TMEMFS_BAD("MOUNTPOINT %s: %s", (m), strerror(e_));                                \
    } while (0)

/* Is path (resolved) dir itself or inside it (resolved)? */
static bool tmemfs_path_under(const char *dir, const char *path)
{
    size_t n = strlen(dir);

    return strncmp(dir, path, n) == 0 && (path[n] == '/' || path[n] == '\0' || n == 1);
}

/* Check pair i; its resolved SOURCE and MOUNTPOINT go to src, mnt. */
static int tmemfs_validate_pair(const struct tmemfs_opts *o, size_t i, char *src, char *mnt,
                              FILE *err)
{
    const char *source = o->sources[i], *mountpoint = o->mountpoints[i];
    struct stat st;
    DIR *d = NULL;
    struct dirent *de;
    int rc = -1;

    if (stat(source, &st) < 0)
        TMEMFS_BAD("SOURCE %s: %s", source, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        TMEMFS_BAD("SOURCE %s: not a directory", source);
    if (stat(mountpoint, &st) < 0)
        TMEMFS_BAD_MOUNTPOINT(mountpoint);
    if (!S_ISDIR(st.st_mode))
        TMEMFS_BAD("MOUNTPOINT %s: not a directory", mountpoint);
    if (!realpath(source, src) || !realpath(mountpoint, mnt))
        TMEMFS_BAD("cannot resolve paths: %s", strerror(errno));
    if (tmemfs_path_under(src, mnt))
        TMEMFS_BAD("MOUNTPOINT %s is SOURCE or inside it", mountpoint);
    if (!o->nonempty) {
        d = opendir(mountpoint);
        if (!d)
            TMEMFS_BAD_MOUNTPOINT(mountpoint);
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                TMEMFS_BAD("MOUNTPOINT %s is not empty (use -o nonempty)", mountpoint);
        }
    }
    rc = 0;
out:
    if (d)
        closedir(d);
    return rc;
}

/*
 * An output file named by option `what`: made absolute (the daemon changes
 * to "/") and checked to be writable now (created if missing), so nothing
 * is lost at exit. *path may be NULL (not given). 0, or -1 with a
 * one-line error.
 */
static int tmemfs_output_path(const char *what, char **path, FILE *err)
{
    char cwd[PATH_MAX], *abs;
    int fd, rc = -1;

    if (!*path)
        return 0;
    if ((*path)[0] != '/') {
        if (!getcwd(cwd, sizeof(cwd)))
            TMEMFS_BAD("%s %s: cannot resolve: %s", what, *path, strerror(errno));
        if (asprintf(&abs, "%s/%s", cwd, *path) < 0)
            TMEMFS_BAD("out of memory");
        free(*path);
        *path = abs;
    }
    fd = open(*path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        TMEMFS_BAD("%s %s: %s", what, *path, strerror(errno));
    close(fd);
    rc = 0;
out:
    return rc;
}

int tmemfs_opts_validate(struct tmemfs_opts *o, FILE *err)
{
    char (*src)[PATH_MAX] = NULL, (*mnt)[PATH_MAX] = NULL;
    size_t i, j;
    int rc = -1;

    src = calloc(o->nmounts, sizeof(*src));
    mnt = calloc(o->nmounts, sizeof(*mnt));
    if (!src || !mnt)
        TMEMFS_BAD("out of memory");
    for (i = 0; i < o->nmounts; i++)
        if (tmemfs_validate_pair(o, i, src[i], mnt[i], err) < 0)
            goto out;
    /* Several mounts: none may serve another's SOURCE or MOUNTPOINT. */
    for (i = 0; i < o->nmounts; i++) {
        for (j = 0; j < o->nmounts; j++) {
            if (j == i)
                continue;
            if (tmemfs_path_under(src[j], mnt[i]))
                TMEMFS_BAD("MOUNTPOINT %s is SOURCE %s or inside it", o->mountpoints[i],
                         o->sources[j]);
            if (tmemfs_path_under(mnt[j], mnt[i]))
                TMEMFS_BAD("MOUNTPOINT %s is MOUNTPOINT %s or inside it", o->mountpoints[i],
                         o->mountpoints[j]);
        }
    }
    for (i = 0; i < o->nmounts; i++) {
        free(o->mount_paths[i]);
        o->mount_paths[i] = strdup(mnt[i]);
        if (!o->mount_paths[i])
            TMEMFS_BAD("out of memory");
    }
    if (o->record && o->nmounts > 1)
        TMEMFS_BAD("record=%s records one mount: give one SOURCE and MOUNTPOINT", o->record);
    if (tmemfs_output_path("record", &o->record, err) < 0 ||
        tmemfs_output_path("stats_json", &o->stats_json, err) < 0 ||
        tmemfs_output_path("stats_csv", &o->stats_csv, err) < 0 ||
        tmemfs_output_path("stats_jsonl", &o->stats_jsonl, err) < 0)
        goto out;
    if (o->control && o->control[0] && o->control[0] != '/') {
        char cwd[PATH_MAX], *abs;

        if (!getcwd(cwd, sizeof(cwd)) || asprintf(&abs, "%s/%s", cwd, o->control) < 0)
            TMEMFS_BAD("control=%s: cannot make it absolute", o->control);
        free(o->control);
        o->control = abs;
    }
    {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        if (pages > 0 && page > 0 && o->cache_size > (uint64_t)pages * (uint64_t)page)
            TMEMFS_BAD("cache_size %" PRIu64 " is more than this machine's memory (%" PRIu64
                       " bytes)", o->cache_size, (uint64_t)pages * (uint64_t)page);
    }
    rc = 0;
out:
    free(src);
    free(mnt);
    return rc;
}

void tmemfs_opts_usage(FILE *out, const char *prog)
{
    fprintf(out,
"usage: %s [options] SOURCE MOUNTPOINT [SOURCE2 MOUNTPOINT2 ...]\n"
"\n"
"Passthrough FUSE mount of SOURCE with a bounded guest page cache whose\n"
"evicted clean pages go to a tmem cleancache pool (docs/fuse_cleancache.md).\n"
"\n"
"Each extra SOURCE MOUNTPOINT pair is one more mount (guest) in the same\n"
"process, with the same options: its own guest cache, tmem client, control\n"
"directory and statistics, all on one tmem store (capacity set through any\n"
"mount applies to the store). With -o shared_uuid every mount joins the same\n"
"shared pool, so mounts of the same files share clean pages (kept coherent\n"
"by one lock for the group); without it each has its own private pool.\n"
"SIGINT/SIGTERM/SIGHUP unmount every mount; fusermount3 -u ends only that\n"
"mount; the daemon exits when all are gone, with statistics per mount.\n"
"\n"
"tmemfs options (-o name=value, comma-separated; SIZE is bytes with an optional\n"
"K, M, G or T suffix, powers of 1024, e.g. 64M or 64MiB):\n"
"    -o cache_size=SIZE      guest page cache size (default 16M)\n"
"    -o capacity=SIZE        tmem store capacity (default unlimited)\n"
"    -o cleancache=on|off    use cleancache (default on)\n"
"    -o compressor=NAME      how tmem compresses pages: lz4 (default), zstd,\n"
"                            zstd:LEVEL (1..19; zstd's default 3) or none\n"
"    -o compress=on|off      the older switch: off is compressor=none, on lz4\n"
"    -o dedup=on|off         deduplicate identical pages in tmem (default on)\n"
"    -o page_size=N          page size, power of two 512..32768 (default 4096)\n"
"    -o shared_uuid=HEX32    init_shared_fs: shared ephemeral pool named by uuid\n"
"                            (default: private pool, init_fs)\n"
"    -o policy=clock|lru     guest cache replacement (default clock)\n"
"    -o max_objects=N        outside-change table size (default 65536)\n"
"    -o device=PROFILE       the backing files' device, for the simulated device\n"
"                            time: hdd, sata-ssd (default), nvme or\n"
"                            custom:LAT_US\\,MBPS (the comma escaped inside -o)\n"
"    -o backing_delay=USEC   really wait that long on each backing read; 'device':\n"
"                            what the device profile says the read takes\n"
"    -o backing_direct       read backing files with O_DIRECT (the host's page\n"
"                            cache cannot serve them)\n"
"    -o fault_backing_read=[short:]FAULT, -o fault_backing_write=[short:]FAULT\n"
"                            test switches: backing reads / writes that fail\n"
"                            with EIO, or with short: move at most half of what\n"
"                            is left per call (completed, not errors); FAULT is\n"
"                            off, nth=N or p=P[\\,seed=S] (docs/fuse_cleancache.md)\n"
"    -o stats_csv=PATH       every stats_interval seconds, one CSV row of every\n"
"                            counter per mount (a header line first)\n"
"    -o stats_jsonl=PATH     the same as one JSON object per line\n"
"    -o stats_interval=SEC   the samples' interval (default 1)\n"
"    -o stats_json=PATH      write the final statistics as JSON at unmount\n"
"                            (several mounts: an array, one object each)\n"
"    -o record=PATH          write every page read and written, truncate and\n"
"                            unlink as a page trace (docs/traces.md; one mount)\n"
"    -o ctl=NAME             control directory in the mount root (default\n"
"                            .tmemfs; empty disables): stats, stats.json,\n"
"                            capacity (rw), drop_caches (w: 1 guest->cleancache,\n"
"                            2 drop cleancache, 3 both)\n"
"    -o control[=PATH]       serve tmemctl on a Unix socket (default: none;\n"
"                            without PATH: $XDG_RUNTIME_DIR, /run/tmem or\n"
"                            /tmp/tmem-UID, tmemfs-HASH.sock for the first\n"
"                            MOUNTPOINT: tmemctl --tmemfs MOUNTPOINT; docs/control.md)\n"
"    -o kcache               let the kernel page cache work (no direct I/O)\n"
"    -o attr_timeout=SEC     how long the kernel may cache attributes (default 1)\n"
"    -o entry_timeout=SEC    how long the kernel may cache names (default 1)\n"
"    -o negative_timeout=SEC ... that a name does not exist (default 0)\n"
"    -o nonempty             allow a non-empty MOUNTPOINT\n"
"\n"
"security: run as root, tmemfs performs every request with the caller's\n"
"uid, gid and groups (new files belong to their creator); -o allow_other\n"
"(other users may use the mount) also turns on -o default_permissions (the\n"
"kernel checks modes too). Only root and the daemon's user may write the\n"
"control files capacity and drop_caches.\n"
"\n"
"general options:\n"
"    -h, --help              print this help (and libfuse's options)\n"
"    -V, --version           print the version\n"
"    -f                      stay in the foreground\n"
"    -s                      single-threaded\n"
"    -d, -o debug            libfuse debug output (implies -f)\n",
            prog);
}

void tmemfs_opts_free(struct tmemfs_opts *o)
{
    size_t i;

    for (i = 0; i < o->nmounts; i++) {
        if (o->sources)
            free(o->sources[i]);
        if (o->mountpoints)
            free(o->mountpoints[i]);
        if (o->mount_paths)
            free(o->mount_paths[i]);
    }
    free(o->sources);
    free(o->mountpoints);
    free(o->mount_paths);
    free(o->stats_json);
    free(o->stats_csv);
    free(o->stats_jsonl);
    free(o->record);
    free(o->ctl);
    free(o->control);
    o->control = NULL;
    o->sources = o->mountpoints = o->mount_paths = NULL;
    o->nmounts = 0;
    o->source = o->mountpoint = o->stats_json = o->ctl = NULL;
    o->stats_csv = o->stats_jsonl = o->record = NULL;
}
