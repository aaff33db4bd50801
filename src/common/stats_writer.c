/*
 * stats_writer.c - rendering named values as text lines or one JSON
 * object (stats_writer.h). No global state; a writer is one thread's.
 */
#include "common/stats_writer.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

__attribute__((format(printf, 2, 3))) static void stats_emit(struct stats_writer *w,
                                                             const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(w->len < w->size ? w->buf + w->len : NULL,
                  w->len < w->size ? w->size - w->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        w->failed = true;
    else
        w->len += (size_t)n;
}

void stats_writer_begin(struct stats_writer *w, char *buf, size_t size, bool json,
                        int name_width)
{
    w->buf = buf;
    w->size = buf ? size : 0;
    w->len = 0;
    w->json = json;
    w->csv = 0;
    w->name_width = name_width;
    w->fields = 0;
    w->failed = false;
    if (w->size)
        w->buf[0] = '\0';
    if (json)
        stats_emit(w, "{");
}

void stats_writer_begin_csv(struct stats_writer *w, char *buf, size_t size, bool header)
{
    stats_writer_begin(w, buf, size, false, 0);
    w->csv = header ? 1 : 2;
}

/* The separator and the name of the next field. Returns false when the
 * value is not to be written (a CSV header line). */
static bool stats_name(struct stats_writer *w, const char *name)
{
    if (w->csv) {
        stats_emit(w, "%s", w->fields++ ? "," : "");
        if (w->csv == 1)
            stats_emit(w, "%s", name);
        return w->csv == 2;
    }
    if (w->json)
        stats_emit(w, "%s\"%s\": ", w->fields ? ", " : "", name);
    else
        stats_emit(w, "%-*s ", w->name_width, name);
    w->fields++;
    return true;
}

/* After a value: text lines end here. */
static void stats_value_end(struct stats_writer *w)
{
    if (!w->json && !w->csv)
        stats_emit(w, "\n");
}

void stats_writer_u64(struct stats_writer *w, const char *name, uint64_t value)
{
    if (!stats_name(w, name))
        return;
    stats_emit(w, "%" PRIu64, value);
    stats_value_end(w);
}

void stats_writer_double(struct stats_writer *w, const char *name, double value)
{
    if (!stats_name(w, name))
        return;
    stats_emit(w, "%.3f", value);
    stats_value_end(w);
}

void stats_writer_string(struct stats_writer *w, const char *name, const char *value)
{
    const unsigned char *p;

    if (!stats_name(w, name))
        return;
    if (!w->json && !w->csv) {
        stats_emit(w, "%s\n", value);
        return;
    }
    stats_emit(w, "\"");
    for (p = (const unsigned char *)value; *p; p++) {
        if (w->csv && *p == '"')
            stats_emit(w, "\"\""); /* RFC 4180: a quote is doubled */
        else if (w->csv)
            stats_emit(w, "%c", *p);
        else if (*p == '"' || *p == '\\')
            stats_emit(w, "\\%c", *p);
        else if (*p < 0x20)
            stats_emit(w, "\\u%04x", *p);
        else
            stats_emit(w, "%c", *p);
    }
    stats_emit(w, "\"");
}

int stats_writer_end(struct stats_writer *w, bool json_newline)
{
    if (w->json)
        stats_emit(w, json_newline ? "}\n" : "}");
    else if (w->csv)
        stats_emit(w, "\n");
    if (w->failed || w->len > (size_t)INT32_MAX)
        return -1;
    return (int)w->len;
}
