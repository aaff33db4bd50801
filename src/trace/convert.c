/*
 * convert.c - the converters' entry (convert.h): format names, options,
 * the header each format writes, the dispatch, and what every converter
 * shares (convert_internal.h): messages, line reading, dense ids, the block
 * rule, notes of skipped lines. Also the native converter: this project's
 * binary or text form read whole into memory through trace_reader and
 * written again (the text <-> binary converter).
 *
 * Data structures: one struct convert_ctx per conversion (on the stack of
 * trace_convert), owning an id_map and the current line. No locking: one
 * thread per conversion.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "trace/convert.h"
#include "trace/convert_internal.h"

static const char *const convert_format_names[] = {
    [TRACE_FORMAT_NATIVE] = "native",
    [TRACE_FORMAT_ORACLE_GENERAL] = "oracle-general",
    [TRACE_FORMAT_MSR] = "msr",
    [TRACE_FORMAT_BLKPARSE] = "blkparse",
    [TRACE_FORMAT_FIO_IOLOG] = "fio-iolog",
    [TRACE_FORMAT_LACKEY] = "lackey",
};

#define CONVERT_FORMAT_COUNT (sizeof(convert_format_names) / sizeof(convert_format_names[0]))

const char *trace_format_name(enum trace_format f)
{
    if ((unsigned)f >= CONVERT_FORMAT_COUNT)
        return NULL;
    return convert_format_names[f];
}

int trace_format_parse(const char *name, enum trace_format *out)
{
    for (unsigned i = 0; i < CONVERT_FORMAT_COUNT; i++) {
        if (name && strcmp(name, convert_format_names[i]) == 0) {
            *out = (enum trace_format)i;
            return 0;
        }
    }
    return -EINVAL;
}

void trace_convert_options_init(struct trace_convert_options *o)
{
    memset(o, 0, sizeof(*o));
    o->page_size = 4096;
    o->blkparse_event = 'Q';
}

void trace_convert_header(enum trace_format f, const struct trace_convert_options *o,
                          struct trace_header *h)
{
    memset(h, 0, sizeof(*h));
    h->version = TRACE_VERSION;
    h->page_size = o->page_size;
    h->count = TRACE_COUNT_UNKNOWN;
    switch (f) {
    case TRACE_FORMAT_LACKEY:
        h->kind = TRACE_KIND_ANON;
        h->flags = 0;
        break;
    case TRACE_FORMAT_NATIVE: /* the caller takes the input's own header */
        h->kind = TRACE_KIND_BOTH;
        h->flags = TRACE_FLAG_TIMESTAMPS;
        break;
    default:
        h->kind = TRACE_KIND_FILE;
        h->flags = TRACE_FLAG_TIMESTAMPS;
        break;
    }
}

int convert_fail(struct convert_ctx *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

int convert_fail_line(struct convert_ctx *c, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(c->err, c->errlen, "%s:%llu: ", c->name, (unsigned long long)c->line_no);

    if (n < 0 || (size_t)n >= c->errlen)
        return -EINVAL;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

unsigned convert_split_words(char *line, char **words, unsigned max)
{
    unsigned n = 0;
    char *save = NULL;

    for (char *w = strtok_r(line, " \t", &save); w && n < max; w = strtok_r(NULL, " \t", &save))
        words[n++] = w;
    return n;
}

int convert_next_line(struct convert_ctx *c)
{
    ssize_t len = getline(&c->line, &c->line_cap, c->in);

    if (len < 0) {
        if (ferror(c->in)) {
            snprintf(c->err, c->errlen, "%s: read error", c->name);
            return -EIO;
        }
        return 0;
    }
    c->line_no++;
    if (len > 0 && c->line[len - 1] == '\n')
        c->line[--len] = '\0';
    if (len > 0 && c->line[len - 1] == '\r')
        c->line[--len] = '\0';
    if (strlen(c->line) != (size_t)len)
        return convert_fail_line(c, "NUL byte in the line");
    return 1;
}

void convert_note(struct convert_ctx *c, unsigned slot, const char *what)
{
    c->notes[slot].what = what;
    c->notes[slot].count++;
}

int convert_id(struct convert_ctx *c, const void *key, size_t len, const char *printable,
               uint32_t *id)
{
    bool added;
    int rc = id_map_get(c->ids, key, len, id, &added);

    if (rc == -EOVERFLOW)
        return convert_fail_line(c, "more than %u distinct keys", ID_MAP_MAX_IDS);
    if (rc) {
        snprintf(c->err, c->errlen, "%s: out of memory", c->name);
        return rc;
    }
    if (added && c->o->mapping && fprintf(c->o->mapping, "%u %s\n", *id, printable) < 0) {
        snprintf(c->err, c->errlen, "%s: cannot write the mapping", c->name);
        return -EIO;
    }
    return 0;
}

int convert_put(struct convert_ctx *c, uint64_t ts, uint64_t object, uint64_t value,
                enum trace_op op, bool continues)
{
    struct trace_record rec = { .timestamp_ns = ts, .object = object, .value = value, .op = op,
                                .continues = continues };
    int rc = trace_writer_put(c->w, &rec, c->err, c->errlen);

    if (rc == 0)
        c->written++;
    return rc;
}


int convert_put_block(struct convert_ctx *c, uint64_t ts, uint64_t object, uint64_t offset,
                      uint64_t size, enum trace_op op)
{
    uint64_t ps = c->o->page_size;
    int rc;

    if (size > CONVERT_MAX_REQUEST_BYTES)
        return convert_fail_line(c, "request of %llu bytes is larger than the limit (%llu)",
                                 (unsigned long long)size, CONVERT_MAX_REQUEST_BYTES);
    if (offset > UINT64_MAX - size)
        return convert_fail_line(c, "offset %llu + size %llu overflows 64 bits",
                                 (unsigned long long)offset, (unsigned long long)size);
    if ((offset + size - 1) / ps > UINT32_MAX)
        return convert_fail_line(c, "offset %llu + size %llu reaches beyond page 2^32 - 1 "
                                 "(the format's limit) at %llu-byte pages",
                                 (unsigned long long)offset, (unsigned long long)size,
                                 (unsigned long long)ps);
    for (uint64_t p = offset / ps; p <= (offset + size - 1) / ps; p++) {
        rc = convert_put(c, ts, object, p, op, p != offset / ps);
        if (rc)
            return rc;
    }
    return 0;
}

/* -------------------------------------------------------------- native */

int convert_native(struct convert_ctx *c)
{
    struct trace_reader *r = NULL;
    struct trace_record rec;
    char *data = NULL;
    size_t len = 0, cap = 0, n;
    int rc;

    for (;;) {
        if (cap - len < 65536) {
            char *bigger = realloc(data, cap ? cap * 2 : 65536);

            if (!bigger) {
                snprintf(c->err, c->errlen, "%s: out of memory", c->name);
                rc = -ENOMEM;
                goto out;
            }
            data = bigger;
            cap = cap ? cap * 2 : 65536;
        }
        n = fread(data + len, 1, cap - len, c->in);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(c->in)) {
        snprintf(c->err, c->errlen, "%s: read error", c->name);
        rc = -EIO;
        goto out;
    }
    rc = trace_reader_open_memory(data, len, c->name, &r, c->err, c->errlen);
    if (rc)
        goto out;
    while ((rc = trace_reader_next(r, &rec, c->err, c->errlen)) == 1) {
        rc = trace_writer_put(c->w, &rec, c->err, c->errlen);
        if (rc)
            goto out;
    }
out:
    trace_reader_close(r);
    free(data);
    return rc;
}

/* -------------------------------------------------------------- dispatch */

int trace_convert(enum trace_format f, FILE *in, const char *name,
                  const struct trace_convert_options *o, struct trace_writer *w, char *err,
                  size_t errlen)
{
    struct convert_ctx c = {
        .in = in, .name = name, .o = o, .w = w, .err = err, .errlen = errlen,
    };
    int rc;

    if (errlen)
        err[0] = '\0';
    if (o->page_size < 512 || o->page_size > 65536 || (o->page_size & (o->page_size - 1)))
        return convert_fail(&c, "%s: page size %u is not a power of two in 512..65536", name,
                            o->page_size);
    rc = id_map_create(&c.ids);
    if (rc) {
        snprintf(err, errlen, "%s: out of memory", name);
        return rc;
    }
    switch (f) {
    case TRACE_FORMAT_NATIVE: rc = convert_native(&c); break;
    case TRACE_FORMAT_ORACLE_GENERAL: rc = convert_oracle_general(&c); break;
    case TRACE_FORMAT_MSR: rc = convert_msr(&c); break;
    case TRACE_FORMAT_BLKPARSE: rc = convert_blkparse(&c); break;
    case TRACE_FORMAT_FIO_IOLOG: rc = convert_fio_iolog(&c); break;
    case TRACE_FORMAT_LACKEY: rc = convert_lackey(&c); break;
    default: rc = convert_fail(&c, "%s: unknown format %d", name, (int)f); break;
    }
    if (rc == 0 && f != TRACE_FORMAT_NATIVE && c.written == 0) {
        snprintf(err, errlen, "%s: no records (nothing in it touches a page)", name);
        rc = -ENODATA;
    }
    if (rc == 0 && o->notes) {
        for (unsigned i = 0; i < CONVERT_NOTE_MAX; i++)
            if (c.notes[i].count)
                fprintf(o->notes, "%s: skipped %llu %s\n", name,
                        (unsigned long long)c.notes[i].count, c.notes[i].what);
    }
    id_map_destroy(c.ids);
    free(c.line);
    return rc;
}
