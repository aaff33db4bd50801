/*
 * trace.h - the project's page trace format: what a workload did to
 * pages, for replay (docs/traces.md gives it byte by byte).
 *
 * Binary form (all integers little-endian):
 *   header, 64 bytes:
 *     0   8  magic "TMEMTRC\n"
 *     8   4  version (1)
 *     12  4  header size in bytes (64)
 *     16  4  record size in bytes (32)
 *     20  4  page size in bytes (a power of two, 512..65536)
 *     24  4  kind: 1 file pages, 2 anonymous pages, 3 both
 *     28  4  flags: bit 0 = records carry timestamps; other bits must be 0
 *     32  8  record count, or UINT64_MAX for "unknown" (a stream)
 *     40 24  zero
 *   records, 32 bytes each:
 *     0   8  timestamp in ns (0 when the header's bit 0 is clear)
 *     8   8  object: the file id (file records), 0 otherwise
 *     16  8  value: page index (file), virtual page (anonymous), new
 *            length in pages (truncate), 0 (unlink), bytes (capacity;
 *            UINT64_MAX = unlimited)
 *     24  1  op (enum trace_op)
 *     25  1  record flags: bit 0 = continues (TRACE_RECORD_CONTINUES):
 *            this page belongs to the same request as the record before
 *            (a read or write of the next page of the same file); other
 *            bits must be 0
 *     26  6  zero
 * Pages are 32-bit like tmem's index: a page index or virtual page is at
 * most 2^32-1, a truncate length at most 2^32 pages.
 * A reader refuses a wrong magic, another version, header or record size,
 * a bad page size or kind, unknown flags or ops, non-zero reserved bytes,
 * a record count that does not match the file (checked at the end: more
 * records at record count+1, fewer after the last), a truncated record,
 * a "continues" record that does not follow a read (write) of the page
 * before in the same file, and a record that does not fit the header: an op of another kind
 * (capacity fits any), a timestamp without the flag, a value out of
 * range, a non-zero object (anon, capacity) or value (unlink).
 *
 * Text form (for humans; converted both ways without loss):
 *   first line: "# tmem-trace 1 page_size=4096 kind=file|anon|both [timestamps]"
 *   then one record per line: [@NS] OP ARGS, with OP ARGS one of
 *     read FILE PAGE [+] | write FILE PAGE [+] | truncate FILE PAGES | unlink FILE
 *     aread VPAGE | awrite VPAGE | afree VPAGE | capacity SIZE|unlimited
 *   a trailing "+" marks a record that continues the request of the line
 *   before (the binary continues flag); numbers decimal or 0x-hex, SIZE in common/size.h's grammar; "@NS"
 *   present on every record iff "timestamps"; '#' starts a comment; blank
 *   lines ignored; lines at most 4096 bytes. No record count. The writer
 *   emits decimal, single spaces, "capacity unlimited" for UINT64_MAX.
 *
 * Errors are one line: "FILE:LINE: what is wrong" (text) or
 * "FILE:record N: what is wrong" (binary; N from 1), or "FILE: ..." for
 * the header. An empty trace (no records) is an error for readers that
 * replay (trace_reader_next returns -ENODATA on the first call).
 *
 * Ownership and threads: a reader or writer is used by one thread and
 * freed by its close function (which accepts NULL).
 */
#ifndef TRACE_TRACE_H
#define TRACE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TRACE_MAGIC "TMEMTRC\n"
#define TRACE_VERSION 1u
#define TRACE_HEADER_SIZE 64u
#define TRACE_RECORD_SIZE 32u
#define TRACE_COUNT_UNKNOWN UINT64_MAX
#define TRACE_FLAG_TIMESTAMPS 0x1u
#define TRACE_RECORD_CONTINUES 0x1u /* record byte 25 */

enum trace_kind { TRACE_KIND_FILE = 1, TRACE_KIND_ANON = 2, TRACE_KIND_BOTH = 3 };

enum trace_op {
    TRACE_OP_READ = 1,     /* file page read: object, value = page index */
    TRACE_OP_WRITE = 2,    /* file page written */
    TRACE_OP_TRUNCATE = 3, /* file cut to value pages (its later pages go) */
    TRACE_OP_UNLINK = 4,   /* file removed (all its pages go) */
    TRACE_OP_AREAD = 5,    /* anonymous page read: value = virtual page */
    TRACE_OP_AWRITE = 6,   /* anonymous page written */
    TRACE_OP_AFREE = 7,    /* anonymous page freed (munmap, exit) */
    TRACE_OP_CAPACITY = 8, /* the store's capacity becomes value bytes */
};

struct trace_header {
    uint32_t version;   /* TRACE_VERSION */
    uint32_t page_size;
    enum trace_kind kind;
    uint32_t flags;     /* TRACE_FLAG_* */
    uint64_t count;     /* records, or TRACE_COUNT_UNKNOWN */
};

/*
 * One record. A request of several pages (a read(2) of 64 KiB, a block
 * trace's 32-page I/O) is one record per page in order, every record but
 * the first with continues set: replay then serves the pages as one
 * request, as the mount did (one backing read for a run of missing pages,
 * the same order of guest-cache insertions). Only read and write records
 * may continue, and only the read (write) of the next page of the same
 * file.
 */
struct trace_record {
    uint64_t timestamp_ns;
    uint64_t object;
    uint64_t value;
    enum trace_op op;
    bool continues;
};

/* "read", "write", ... ; NULL for an unknown op. And back: 0 or -EINVAL. */
const char *trace_op_name(enum trace_op op);
int trace_op_parse(const char *name, enum trace_op *out);
/* True for ops of the file kind (read, write, truncate, unlink), resp. the
 * anonymous kind (aread, awrite, afree); capacity is both. */
bool trace_op_is_file(enum trace_op op);
bool trace_op_is_anon(enum trace_op op);

/* ---------------------------------------------------------------- reading */

struct trace_reader;

/*
 * Open a trace (binary or text: told by the first bytes) at path; name is
 * used in messages (NULL: path). Reads and checks the header. Returns 0,
 * -errno of open, -EINVAL (bad header, message in err).
 */
int trace_reader_open(const char *path, struct trace_reader **out, char *err, size_t errlen);
/* The same over len bytes in memory (not copied: must outlive the reader). */
int trace_reader_open_memory(const void *data, size_t len, const char *name,
                             struct trace_reader **out, char *err, size_t errlen);
const struct trace_header *trace_reader_header(const struct trace_reader *r);
/*
 * The next record: 1 and *rec filled; 0 at the end; -ENODATA when the
 * trace holds no record at all (first call); -EINVAL for a malformed
 * record (message with FILE:LINE or FILE:record N in err); -EIO on a
 * read error. After an error every later call returns the same error.
 */
int trace_reader_next(struct trace_reader *r, struct trace_record *rec, char *err,
                      size_t errlen);
/*
 * Up to max (>= 1) records into recs[0..], with the same checks as
 * trace_reader_next, for a replayer's hot loop (no call per record):
 * returns how many were read (1..max), 0 at the end, or the error
 * trace_reader_next gives (message in err). When an error follows some
 * good records, those come first and the error with the next call.
 */
int trace_reader_next_batch(struct trace_reader *r, struct trace_record *recs, size_t max,
                            char *err, size_t errlen);
/* Records returned so far. */
uint64_t trace_reader_position(const struct trace_reader *r);
/* Where the last record returned came from, as the reader's own messages
 * name it: "FILE:LINE" (text form) or "FILE:record N" (binary), into
 * buf[len] (snprintf's contract), for a caller's message about a record
 * that parsed but that it cannot use. */
void trace_reader_where(const struct trace_reader *r, char *buf, size_t len);
void trace_reader_close(struct trace_reader *r);

/* ---------------------------------------------------------------- writing */

struct trace_writer;

/*
 * Create path (or write to the open stream f when path is NULL; f stays
 * open) in the binary (text = false) or text form with header h (its count
 * may be TRACE_COUNT_UNKNOWN: a binary file's count is filled in on close
 * when the output can seek). Returns 0, -errno, -EINVAL (bad header).
 */
int trace_writer_open(const char *path, FILE *f, const struct trace_header *h, bool text,
                      struct trace_writer **out, char *err, size_t errlen);
/* Append one record (checked against the header's kind and flags). 0,
 * -EINVAL (record does not fit the header: message in err), -EIO. */
int trace_writer_put(struct trace_writer *w, const struct trace_record *rec, char *err,
                     size_t errlen);
/* Flush, fill in the count, close (fsync not implied). 0 or -EIO. */
int trace_writer_close(struct trace_writer *w, char *err, size_t errlen);

#endif /* TRACE_TRACE_H */
