/*
 * trace.c - trace files behind the workload (reader) interface.
 *
 * Models: recorded page-access streams. swapsim_trace_open() sniffs the
 * first bytes and picks a reader; every reader is a struct swapsim_workload,
 * so the simulator does not care where accesses come from. Readers:
 *   - the project's page trace format (src/trace/trace.h, docs/traces.md),
 *     binary ("TMEMTRC\n") or text ("# tmem-trace 1 ..."), of kind anon
 *     or both: aread/awrite/afree become READ/WRITE/UNMAP of vpage =
 *     value (< vpages), timestamps carried; a capacity record becomes a
 *     SWAPSIM_CAPACITY access carrying its bytes (swapsim_run applies it
 *     in guest 0); file records stop the run with a message;
 *   - swapsim's own text format (below).
 *   "TMSWBIN1", once reserved here, was never defined: it is refused with
 *   a pointer to the tmem trace format.
 * swapsim's text format, one access per line:
 *     <vpage> <R|W|F> [timestamp]
 *   vpage: decimal or 0x-hex, below the address-space size;
 *   R read, W write, F free (unmap); case-insensitive;
 *   timestamp: optional unsigned integer (any unit; carried, not used);
 *   '#' starts a comment; blank lines are ignored.
 * Any malformed line stops the run with "FILE:LINE: what is wrong".
 * Data structures: a FILE* and a line buffer (text), a trace_reader
 * (tmem format). Locking: none (one thread).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/number.h"
#include "swapsim/swapsim.h"
#include "swapsim/swapsim_internal.h"
#include "trace/trace.h"

#define RETIRED_MAGIC "TMSWBIN1"

struct text_reader {
    struct swapsim_workload base;
    FILE *f;
    char path[1024];
    uint32_t vpages;
    uint64_t line;
    char buf[4096];
};

/* The number that is the word at *p (up to a space or the end): decimal
 * or 0x hex, the project's one grammar (common/number.h). Returns 0 and
 * moves *p past it, -EINVAL if the word does not start with a digit,
 * -ERANGE if it does but is no such number (a stray character, above
 * 2^64 - 1). */
static int parse_word_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    size_t n = 0;

    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    while (s[n] && !isspace((unsigned char)s[n]))
        n++;
    if (number_parse_u64_span(s, n, 0, 0, UINT64_MAX, out) != 0)
        return -ERANGE;
    *p = s + n;
    return 0;
}

static int text_next(struct swapsim_workload *w, struct swapsim_access *acc)
{
    struct text_reader *t = (struct text_reader *)w;

    while (fgets(t->buf, sizeof(t->buf), t->f)) {
        char *hash, *p = t->buf;
        uint64_t vpage, ts = 0;
        t->line++;
        if (!strchr(t->buf, '\n') && !feof(t->f)) {
            snprintf(w->error, sizeof(w->error), "%s:%llu: line too long", t->path,
                     (unsigned long long)t->line);
            return -EINVAL;
        }
        hash = strchr(p, '#');
        if (hash)
            *hash = '\0';
        for (size_t n = strlen(p); n > 0 && isspace((unsigned char)p[n - 1]); n--)
            p[n - 1] = '\0';
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            continue;
        const char *q = p;
        int r = parse_word_u64(&q, &vpage);
        if (r == -EINVAL) {
            snprintf(w->error, sizeof(w->error),
                     "%s:%llu: expected a virtual page number, got '%.40s'", t->path,
                     (unsigned long long)t->line, p);
            return -EINVAL;
        }
        if (r != 0) {
            snprintf(w->error, sizeof(w->error), "%s:%llu: bad virtual page number '%.40s'",
                     t->path, (unsigned long long)t->line, p);
            return -EINVAL;
        }
        if (vpage >= t->vpages) {
            snprintf(w->error, sizeof(w->error),
                     "%s:%llu: virtual page %llu out of range (address space is %u pages)",
                     t->path, (unsigned long long)t->line, (unsigned long long)vpage,
                     t->vpages);
            return -EINVAL;
        }
        while (isspace((unsigned char)*q))
            q++;
        char op = (char)toupper((unsigned char)*q);
        if ((op != 'R' && op != 'W' && op != 'F') ||
            (q[1] != '\0' && !isspace((unsigned char)q[1]))) {
            snprintf(w->error, sizeof(w->error),
                     "%s:%llu: bad operation '%.20s' (expected R, W or F)", t->path,
                     (unsigned long long)t->line, *q ? q : "(missing)");
            return -EINVAL;
        }
        q++;
        while (isspace((unsigned char)*q))
            q++;
        if (*q) {
            const char *ts_start = q;
            if (parse_word_u64(&q, &ts) != 0) {
                snprintf(w->error, sizeof(w->error), "%s:%llu: bad timestamp '%.40s'", t->path,
                         (unsigned long long)t->line, ts_start);
                return -EINVAL;
            }
            while (isspace((unsigned char)*q))
                q++;
            if (*q) {
                snprintf(w->error, sizeof(w->error), "%s:%llu: unexpected text '%.40s'",
                         t->path, (unsigned long long)t->line, q);
                return -EINVAL;
            }
        }
        acc->vpage = (uint32_t)vpage;
        acc->op = op == 'R' ? SWAPSIM_READ : op == 'W' ? SWAPSIM_WRITE : SWAPSIM_UNMAP;
        acc->timestamp = ts;
        return 1;
    }
    if (ferror(t->f)) {
        snprintf(w->error, sizeof(w->error), "%s:%llu: read error", t->path,
                 (unsigned long long)t->line);
        return -EIO;
    }
    return 0;
}

static void text_destroy(struct swapsim_workload *w)
{
    struct text_reader *t = (struct text_reader *)w;
    if (t->f)
        fclose(t->f);
    free(t);
}

static const struct swapsim_workload_ops text_ops = {
    .name = "text trace",
    .next = text_next,
    .destroy = text_destroy,
};

/* ------------------------------------------------ the tmem trace format */

struct tmem_trace_reader {
    struct swapsim_workload base;
    struct trace_reader *r;
    char path[1024];
    uint32_t vpages;
};

static int tmem_trace_next(struct swapsim_workload *w, struct swapsim_access *acc)
{
    struct tmem_trace_reader *t = (struct tmem_trace_reader *)w;
    struct trace_record rec;
    int rc = trace_reader_next(t->r, &rec, w->error, sizeof(w->error));
    char where[1100];

    if (rc <= 0)
        return rc;
    trace_reader_where(t->r, where, sizeof(where));
    switch (rec.op) {
    case TRACE_OP_AREAD: acc->op = SWAPSIM_READ; break;
    case TRACE_OP_AWRITE: acc->op = SWAPSIM_WRITE; break;
    case TRACE_OP_AFREE: acc->op = SWAPSIM_UNMAP; break;
    case TRACE_OP_CAPACITY:
        acc->op = SWAPSIM_CAPACITY;
        acc->vpage = 0;
        acc->bytes = rec.value;
        acc->timestamp = rec.timestamp_ns;
        return 1;
    default:
        snprintf(w->error, sizeof(w->error),
                 "%s: %s is a file record (file records: replay them with tmem-replay)",
                 where, trace_op_name(rec.op));
        return -ENOTSUP;
    }
    if (rec.value >= t->vpages) {
        snprintf(w->error, sizeof(w->error),
                 "%s: virtual page %llu out of range (address space is %u pages)", where,
                 (unsigned long long)rec.value, t->vpages);
        return -EINVAL;
    }
    acc->vpage = (uint32_t)rec.value;
    acc->timestamp = rec.timestamp_ns;
    return 1;
}

static void tmem_trace_destroy(struct swapsim_workload *w)
{
    struct tmem_trace_reader *t = (struct tmem_trace_reader *)w;
    trace_reader_close(t->r);
    free(t);
}

static const struct swapsim_workload_ops tmem_trace_ops = {
    .name = "tmem trace",
    .next = tmem_trace_next,
    .destroy = tmem_trace_destroy,
};

static int tmem_trace_open(const char *path, uint32_t vpages, struct swapsim_workload **out,
                           char *err, size_t errlen)
{
    struct tmem_trace_reader *t = calloc(1, sizeof(*t));
    int ret;

    if (!t) {
        error_text_set(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    t->base.ops = &tmem_trace_ops;
    snprintf(t->path, sizeof(t->path), "%s", path);
    t->vpages = vpages;
    ret = trace_reader_open(path, &t->r, err, errlen);
    if (ret)
        goto fail;
    if (trace_reader_header(t->r)->kind == TRACE_KIND_FILE) {
        ret = -ENOTSUP;
        error_text_set(err, errlen,
                       "%s: a trace of kind file holds no anonymous pages (file records: "
                       "replay them with the file replayer)", path);
        goto fail;
    }
    *out = &t->base;
    return 0;
fail:
    tmem_trace_destroy(&t->base);
    return ret;
}

/* ------------------------------------------------------------ opening */

int swapsim_trace_open(const char *path, uint32_t vpages, struct swapsim_workload **out,
                       char *err, size_t errlen)
{
    struct text_reader *t = NULL;
    unsigned char head[512];
    size_t n;
    int ret;

    *out = NULL;
    t = calloc(1, sizeof(*t));
    if (!t) {
        error_text_set(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    t->base.ops = &text_ops;
    snprintf(t->path, sizeof(t->path), "%s", path);
    t->vpages = vpages;
    t->f = fopen(path, "r");
    if (!t->f) {
        ret = -errno;
        error_text_set(err, errlen, "%s: cannot open trace: %s", path, strerror(errno));
        goto fail;
    }
    n = fread(head, 1, sizeof(head), t->f);
    if (ferror(t->f)) {
        ret = -EIO;
        error_text_set(err, errlen, "%s: cannot read trace", path);
        goto fail;
    }
    if (n >= 8 && memcmp(head, RETIRED_MAGIC, 8) == 0) {
        ret = -ENOTSUP;
        error_text_set(err, errlen,
                       "%s: TMSWBIN1 was never defined; convert to the tmem trace format "
                       "(docs/traces.md)", path);
        goto fail;
    }
    if ((n >= 8 && memcmp(head, TRACE_MAGIC, 8) == 0) ||
        (n >= 12 && memcmp(head, "# tmem-trace", 12) == 0)) {
        text_destroy(&t->base);
        return tmem_trace_open(path, vpages, out, err, errlen);
    }
    if (memchr(head, '\0', n)) {
        ret = -EINVAL;
        error_text_set(err, errlen, "%s: not a text trace (binary data in the first %zu bytes)",
                       path, n);
        goto fail;
    }
    rewind(t->f);
    *out = &t->base;
    return 0;
fail:
    text_destroy(&t->base);
    return ret;
}
