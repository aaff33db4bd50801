/*
 * tmemfs_opts.h - tmemfs command line:
 * `tmemfs [options] SOURCE MOUNTPOINT [SOURCE2 MOUNTPOINT2 ...]`.
 * Our options are -o name=value (so fstab / mount -t fuse.tmemfs work);
 * anything else is left in the argument list for libfuse. -o allow_other
 * (other users may use the mount) implies -o default_permissions, which is
 * added to the list: the kernel then checks every access against the
 * attributes too, also when it answers from its cache of names and
 * attributes without asking the daemon (which, as root, also performs each
 * request with the caller's credentials, tmemfs_creds.h). Each extra
 * SOURCE MOUNTPOINT pair is one more mount in the same process, with the
 * same options, on the same tmem store.
 */
#ifndef TMEMFS_OPTS_H
#define TMEMFS_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/fault.h"
#include "core/tmem.h"
#include "fuse_cleancache/tmemfs_page_cache.h"
#include "guest/device.h"

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

struct tmemfs_opts {
    size_t nmounts;        /* SOURCE MOUNTPOINT pairs (>= 1) */
    char **sources;        /* SOURCEs as given [nmounts] */
    char **mountpoints;    /* MOUNTPOINTs as given [nmounts] */
    char **mount_paths;    /* absolute MOUNTPOINTs (set by tmemfs_opts_validate) */
    char *source;          /* the first SOURCE (sources[0]) */
    char *mountpoint;      /* the first MOUNTPOINT (mountpoints[0]) */
    uint64_t cache_size;   /* guest page cache bytes (default 16 MiB) */
    uint64_t capacity;     /* tmem store capacity bytes (default unlimited) */
    bool cleancache;       /* default on */
    enum tmem_compressor compressor; /* tmem store's compressor (default lz4) */
    int compress_level;    /* zstd's level (0: its default) */
    bool dedup;            /* tmem store feature (default on) */
    uint32_t page_size;    /* default 4096 */
    bool shared;           /* shared pool (shared_uuid given) */
    uint8_t uuid[16];
    char *stats_json;      /* write final JSON stats here (NULL: no);
                              made absolute by tmemfs_opts_validate */
    char *stats_csv;       /* time series: CSV rows (NULL: no) */
    char *stats_jsonl;     /* time series: JSON lines (NULL: no) */
    char *record;          /* page trace of the mount (NULL: no; one mount only;
                              made absolute by tmemfs_opts_validate) */
    double stats_interval; /* seconds between samples (default 1) */
    struct guest_device_profile device; /* the backing device (default sata-ssd) */
    bool delay_device;     /* backing_delay=device: sleep what device says */
    bool backing_direct;   /* read backing files with O_DIRECT */
    uint64_t delay_ns;     /* backing_delay=USEC (0: none) */
    char *ctl;             /* control directory name (default ".tmemfs") */
    char *control;         /* control socket for tmemctl (NULL: none; "": the
                              default path named after the first MOUNTPOINT;
                              made absolute by tmemfs_opts_validate) */
    bool kcache;           /* let the kernel page cache work (no direct_io) */
    /* test switches: backing reads / writes failing with EIO (off), or
     * with the `short:` prefix made short (tmemfs_io_set_fault_kinds) */
    struct fault_spec fault_backing_read, fault_backing_write;
    bool fault_backing_read_short, fault_backing_write_short;
    enum guest_replace_policy policy;
    uint64_t max_objects;  /* object table size (default 65536) */
    bool nonempty;         /* allow a non-empty MOUNTPOINT */
    double attr_timeout;   /* seconds the kernel may cache attributes (1) */
    double entry_timeout;  /* seconds the kernel may cache names (1) */
    double negative_timeout; /* ... that a name does not exist (0) */
    bool foreground, single_thread, debug;
    bool show_help, show_version;
};

/*
 * Parse args (argv-style, argv[0] = program). Our options are removed from
 * args; libfuse's stay. On error writes one line "tmemfs: ..." to err and
 * returns -1; else 0. Strings in o are malloc'ed (tmemfs_opts_free).
 */
int tmemfs_opts_parse(struct fuse_args *args, struct tmemfs_opts *o, FILE *err);

/*
 * Check every pair: SOURCE an existing directory, MOUNTPOINT an existing,
 * empty unless nonempty, directory not inside SOURCE; with several pairs
 * also no MOUNTPOINT inside any SOURCE or equal to / inside another
 * MOUNTPOINT. Fills o->mount_paths (libfuse and the daemon chdir to "/")
 * and makes the output files (stats_json, stats_csv, stats_jsonl)
 * absolute, creating them now so that one that cannot be written is an
 * error at start. One-line error to err and -1 on
 * failure, else 0.
 */
int tmemfs_opts_validate(struct tmemfs_opts *o, FILE *err);

/* Print the usage and our options. */
void tmemfs_opts_usage(FILE *out, const char *prog);

void tmemfs_opts_free(struct tmemfs_opts *o);

/* Parse a 128-bit uuid: 32 hex digits, dashes allowed. Returns 0 or -1. */
int tmemfs_parse_uuid(const char *s, uint8_t uuid[16]);

#endif /* TMEMFS_OPTS_H */
