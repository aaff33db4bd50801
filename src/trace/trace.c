/*
 * trace.c - reader and writer of the project's page trace format
 * (trace.h gives the format; docs/traces.md the same for users).
 *
 * Reading: the input is a byte window (struct trace_reader: buf, pos,
 * end). A trace in memory is one window over the caller's bytes; a file
 * gets a 1 MiB block buffer refilled with fread (the unread tail moved to
 * the front first), so records are decoded from memory with no call per
 * record. Binary records are 32-byte slices of the window; text lines are
 * found with memchr in it (a line may not exceed TEXT_LINE_MAX bytes).
 * Every record, binary or text, goes through one check (check_record)
 * against the header: op known and of the header's kind, values in range,
 * timestamps present iff the flag. Errors are sticky.
 *
 * Writing: binary records are encoded into a 64 KiB buffer written with
 * fwrite; on close the count at offset 32 is patched with fseek when the
 * output can seek (else it stays what the header said). Text goes through
 * stdio with fprintf.
 *
 * Locking: none; a reader or writer belongs to one thread.
 */
#include "trace/trace.h"

#include "common/error_text.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/size.h"

#define READ_BLOCK (1u << 20)   /* file reader's block buffer */
#define WRITE_BLOCK (64u << 10) /* binary writer's buffer */
#define TEXT_LINE_MAX 4096u     /* longest text line */
#define NAME_MAX_LEN 512
#define MSG_LEN 768
#define PAGE_INDEX_MAX UINT32_MAX           /* tmem's page index is 32-bit */
#define TRUNCATE_PAGES_MAX (1ull << 32)     /* a length covers indexes 0..2^32-1 */

struct trace_reader {
    struct trace_header h;
    bool text;
    /* input window */
    const unsigned char *buf;
    size_t pos, end;
    unsigned char *block; /* owned block buffer (file) or NULL (memory) */
    FILE *f;              /* file or NULL */
    bool eof;             /* no more bytes beyond end */
    /* progress */
    uint64_t returned; /* records returned */
    uint64_t line;     /* text: line number of the last line read */
    int error;         /* sticky result once non-positive and not 1 */
    bool done;
    struct trace_record last; /* the last record returned (for "continues") */
    char name[NAME_MAX_LEN];
    char msg[MSG_LEN]; /* the sticky error's message */
};

struct trace_writer {
    struct trace_header h;
    bool text;
    FILE *f;
    bool own_file;
    long header_offset; /* where the header starts, -1 if not seekable */
    uint64_t written;
    struct trace_record last; /* the last record written (for "continues") */
    unsigned char *buf;
    size_t used;
    char name[NAME_MAX_LEN];
};

/* ------------------------------------------------------------ helpers */

/* Set the reader's pending error message. */
struct trace_reader;
__attribute__((format(printf, 2, 3))) static void reader_msg(struct trace_reader *r,
                                                             const char *fmt, ...);

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const unsigned char *p)
{
    return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
    put_le32(p, (uint32_t)v);
    put_le32(p + 4, (uint32_t)(v >> 32));
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static const char *kind_name(enum trace_kind k)
{
    switch (k) {
    case TRACE_KIND_FILE: return "file";
    case TRACE_KIND_ANON: return "anon";
    case TRACE_KIND_BOTH: return "both";
    }
    return NULL;
}

static const char *const op_names[] = {
    [TRACE_OP_READ] = "read",   [TRACE_OP_WRITE] = "write", [TRACE_OP_TRUNCATE] = "truncate",
    [TRACE_OP_UNLINK] = "unlink", [TRACE_OP_AREAD] = "aread", [TRACE_OP_AWRITE] = "awrite",
    [TRACE_OP_AFREE] = "afree", [TRACE_OP_CAPACITY] = "capacity",
};

const char *trace_op_name(enum trace_op op)
{
    if ((unsigned)op >= sizeof(op_names) / sizeof(op_names[0]))
        return NULL;
    return op_names[op];
}

int trace_op_parse(const char *name, enum trace_op *out)
{
    for (unsigned i = 1; name && i < sizeof(op_names) / sizeof(op_names[0]); i++) {
        if (strcmp(name, op_names[i]) == 0) {
            *out = (enum trace_op)i;
            return 0;
        }
    }
    return -EINVAL;
}

bool trace_op_is_file(enum trace_op op)
{
    return op == TRACE_OP_READ || op == TRACE_OP_WRITE || op == TRACE_OP_TRUNCATE ||
           op == TRACE_OP_UNLINK || op == TRACE_OP_CAPACITY;
}

bool trace_op_is_anon(enum trace_op op)
{
    return op == TRACE_OP_AREAD || op == TRACE_OP_AWRITE || op == TRACE_OP_AFREE ||
           op == TRACE_OP_CAPACITY;
}

/* Header fields other than the magic: 0, or -EINVAL with "what is wrong"
 * (no file name) in msg. */
static int check_header(const struct trace_header *h, char *msg, size_t len)
{
    if (h->version != TRACE_VERSION) {
        error_text_set(msg, len, "unknown version %u (this reader knows %u)", h->version,
                TRACE_VERSION);
        return -EINVAL;
    }
    if (h->page_size < 512 || h->page_size > 65536 || (h->page_size & (h->page_size - 1))) {
        error_text_set(msg, len, "bad page size %u (a power of two, 512..65536)", h->page_size);
        return -EINVAL;
    }
    if (!kind_name(h->kind)) {
        error_text_set(msg, len, "unknown kind %u (1 file, 2 anon, 3 both)", (unsigned)h->kind);
        return -EINVAL;
    }
    if (h->flags & ~TRACE_FLAG_TIMESTAMPS) {
        error_text_set(msg, len, "unknown flags 0x%x", h->flags & ~TRACE_FLAG_TIMESTAMPS);
        return -EINVAL;
    }
    return 0;
}

/* Does rec fit header h, and (continues) follow last, the record before
 * it (NULL: none)? 0, or -EINVAL with "what is wrong" in msg. */
static int check_record(const struct trace_header *h, const struct trace_record *last,
                        const struct trace_record *rec, char *msg, size_t len)
{
    const char *name = trace_op_name(rec->op);
    unsigned long long v = rec->value;

    if (!name) {
        error_text_set(msg, len, "unknown op %u", (unsigned)rec->op);
        return -EINVAL;
    }
    if (!(h->flags & TRACE_FLAG_TIMESTAMPS) && rec->timestamp_ns != 0) {
        error_text_set(msg, len, "timestamp %llu in a trace without timestamps",
                (unsigned long long)rec->timestamp_ns);
        return -EINVAL;
    }
    if (rec->op != TRACE_OP_CAPACITY &&
        !(h->kind == TRACE_KIND_BOTH ||
          (h->kind == TRACE_KIND_FILE ? trace_op_is_file(rec->op) : trace_op_is_anon(rec->op)))) {
        error_text_set(msg, len, "%s record in a trace of kind %s", name, kind_name(h->kind));
        return -EINVAL;
    }
    if (!trace_op_is_file(rec->op) || rec->op == TRACE_OP_CAPACITY) {
        if (rec->object != 0) {
            error_text_set(msg, len, "%s record with a non-zero object %llu", name,
                    (unsigned long long)rec->object);
            return -EINVAL;
        }
    }
    switch (rec->op) {
    case TRACE_OP_READ:
    case TRACE_OP_WRITE:
        if (v > PAGE_INDEX_MAX) {
            error_text_set(msg, len, "page index %llu out of range (at most 2^32-1)", v);
            return -EINVAL;
        }
        break;
    case TRACE_OP_TRUNCATE:
        if (v > TRUNCATE_PAGES_MAX) {
            error_text_set(msg, len, "truncate length %llu pages out of range (at most 2^32)", v);
            return -EINVAL;
        }
        break;
    case TRACE_OP_UNLINK:
        if (v != 0) {
            error_text_set(msg, len, "unlink record with a non-zero value %llu", v);
            return -EINVAL;
        }
        break;
    case TRACE_OP_AREAD:
    case TRACE_OP_AWRITE:
    case TRACE_OP_AFREE:
        if (v > PAGE_INDEX_MAX) {
            error_text_set(msg, len, "virtual page %llu out of range (at most 2^32-1)", v);
            return -EINVAL;
        }
        break;
    case TRACE_OP_CAPACITY:
        break;
    }
    if (rec->continues) {
        if (rec->op != TRACE_OP_READ && rec->op != TRACE_OP_WRITE) {
            error_text_set(msg, len, "a %s record cannot continue a request (only read and write)",
                           name);
            return -EINVAL;
        }
        if (!last || last->op != rec->op || last->object != rec->object ||
            last->value + 1 != rec->value) {
            error_text_set(msg, len,
                           "%s of page %llu continues a request but does not follow a %s of "
                           "page %llu of the same file",
                           name, v, name, v ? v - 1 : 0);
            return -EINVAL;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ reading */

/* Make at least `want` bytes available from pos if the input has them
 * (refilling the block from the file). Returns the bytes available, or
 * -EIO on a read error. */
static long ensure(struct trace_reader *r, size_t want)
{
    if (r->end - r->pos >= want || r->eof)
        return (long)(r->end - r->pos);
    size_t left = r->end - r->pos;
    memmove(r->block, r->block + r->pos, left);
    r->pos = 0;
    r->end = left;
    while (r->end < READ_BLOCK && !r->eof) {
        size_t n = fread(r->block + r->end, 1, READ_BLOCK - r->end, r->f);
        r->end += n;
        if (n == 0) {
            if (ferror(r->f))
                return -EIO;
            r->eof = true;
        }
        if (r->end - r->pos >= want)
            break;
    }
    return (long)(r->end - r->pos);
}

static void reader_msg(struct trace_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
    va_end(ap);
}

static int fail(struct trace_reader *r, int error, char *err, size_t errlen)
{
    r->error = error;
    error_text_set(err, errlen, "%s", r->msg);
    return error;
}

/* Parse an unsigned number (decimal or 0x-hex), the whole token. */
static int parse_number(const char *tok, uint64_t *out)
{
    char *end;
    if (!isdigit((unsigned char)tok[0]))
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(tok, &end, 0);
    if (errno || *end)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Split s (modified) into at most max whitespace-separated tokens. */
static int split(char *s, char **tok, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        if (n == max)
            return max + 1;
        tok[n++] = t;
    }
    return n;
}

/* The next text line (without '\n') into line, comment and trailing
 * space left in. Returns 1, 0 at the end, -EINVAL (too long, NUL byte),
 * -EIO. */
static int text_line(struct trace_reader *r, char *line)
{
    long avail = ensure(r, TEXT_LINE_MAX + 1);
    if (avail < 0)
        return (int)avail;
    if (avail == 0)
        return 0;
    const unsigned char *p = r->buf + r->pos;
    const unsigned char *nl = memchr(p, '\n', (size_t)avail);
    size_t n = nl ? (size_t)(nl - p) : (size_t)avail;
    r->line++;
    if (n > TEXT_LINE_MAX) {
        reader_msg(r, "%s:%llu: line longer than %u bytes", r->name,
                 (unsigned long long)r->line, TEXT_LINE_MAX);
        return -EINVAL;
    }
    if (memchr(p, '\0', n)) {
        reader_msg(r, "%s:%llu: NUL byte in a text trace", r->name,
                 (unsigned long long)r->line);
        return -EINVAL;
    }
    memcpy(line, p, n);
    line[n] = '\0';
    r->pos += n + (nl ? 1 : 0);
    return 1;
}

static int parse_text_header(struct trace_reader *r)
{
    char line[TEXT_LINE_MAX + 1], *tok[8];
    bool have_page = false, have_kind = false;
    int rc = text_line(r, line);
    if (rc <= 0) {
        if (rc == 0)
            reader_msg(r, "%s: empty file", r->name);
        return rc == 0 ? -EINVAL : rc;
    }
    int n = split(line, tok, 7);
    uint64_t version;
    if (n < 3 || strcmp(tok[0], "#") || strcmp(tok[1], "tmem-trace") ||
        parse_number(tok[2], &version)) {
        reader_msg(r, "%s:1: bad header line (expected \"# tmem-trace 1 "
                 "page_size=N kind=file|anon|both [timestamps]\")", r->name);
        return -EINVAL;
    }
    if (version != TRACE_VERSION) {
        reader_msg(r, "%s:1: unknown version %llu (this reader knows %u)",
                 r->name, (unsigned long long)version, TRACE_VERSION);
        return -EINVAL;
    }
    r->h.version = TRACE_VERSION;
    r->h.count = TRACE_COUNT_UNKNOWN;
    if (n > 6) {
        reader_msg(r, "%s:1: too many words in the header line", r->name);
        return -EINVAL;
    }
    for (int i = 3; i < n; i++) {
        uint64_t v;
        if (strncmp(tok[i], "page_size=", 10) == 0 && !have_page) {
            if (parse_number(tok[i] + 10, &v) || v > UINT32_MAX) {
                reader_msg(r, "%s:1: bad page size '%.40s'", r->name,
                         tok[i] + 10);
                return -EINVAL;
            }
            r->h.page_size = (uint32_t)v;
            have_page = true;
        } else if (strncmp(tok[i], "kind=", 5) == 0 && !have_kind) {
            const char *k = tok[i] + 5;
            if (strcmp(k, "file") == 0)
                r->h.kind = TRACE_KIND_FILE;
            else if (strcmp(k, "anon") == 0)
                r->h.kind = TRACE_KIND_ANON;
            else if (strcmp(k, "both") == 0)
                r->h.kind = TRACE_KIND_BOTH;
            else {
                snprintf(r->msg, sizeof(r->msg),
                         "%s:1: unknown kind '%.40s' (file, anon or both)", r->name, k);
                return -EINVAL;
            }
            have_kind = true;
        } else if (strcmp(tok[i], "timestamps") == 0 && !(r->h.flags & TRACE_FLAG_TIMESTAMPS)) {
            r->h.flags |= TRACE_FLAG_TIMESTAMPS;
        } else {
            reader_msg(r, "%s:1: unexpected '%.40s' in the header line",
                     r->name, tok[i]);
            return -EINVAL;
        }
    }
    if (!have_page || !have_kind) {
        reader_msg(r, "%s:1: header line lacks %s", r->name,
                 have_page ? "kind=" : "page_size=");
        return -EINVAL;
    }
    char what[MSG_LEN];
    if (check_header(&r->h, what, sizeof(what))) {
        reader_msg(r, "%s:1: %s", r->name, what);
        return -EINVAL;
    }
    return 0;
}

static int parse_binary_header(struct trace_reader *r)
{
    long avail = ensure(r, TRACE_HEADER_SIZE);
    const unsigned char *p;
    char what[MSG_LEN];

    if (avail < 0) {
        reader_msg(r, "%s: read error", r->name);
        return -EIO;
    }
    if (avail < (long)TRACE_HEADER_SIZE) {
        reader_msg(r, "%s: truncated header (%ld of %u bytes)", r->name,
                 avail, TRACE_HEADER_SIZE);
        return -EINVAL;
    }
    p = r->buf + r->pos;
    r->h.version = get_le32(p + 8);
    r->h.page_size = get_le32(p + 20);
    r->h.kind = (enum trace_kind)get_le32(p + 24);
    r->h.flags = get_le32(p + 28);
    r->h.count = get_le64(p + 32);
    if (r->h.version != TRACE_VERSION) {
        check_header(&r->h, what, sizeof(what));
        reader_msg(r, "%s: %s", r->name, what);
        return -EINVAL;
    }
    if (get_le32(p + 12) != TRACE_HEADER_SIZE || get_le32(p + 16) != TRACE_RECORD_SIZE) {
        snprintf(r->msg, sizeof(r->msg),
                 "%s: header size %u, record size %u (version 1 has %u and %u)", r->name,
                 get_le32(p + 12), get_le32(p + 16), TRACE_HEADER_SIZE, TRACE_RECORD_SIZE);
        return -EINVAL;
    }
    if (check_header(&r->h, what, sizeof(what))) {
        reader_msg(r, "%s: %s", r->name, what);
        return -EINVAL;
    }
    if (!all_zero(p + 40, 24)) {
        reader_msg(r, "%s: non-zero reserved bytes in the header",
                 r->name);
        return -EINVAL;
    }
    r->pos += TRACE_HEADER_SIZE;
    return 0;
}

static int reader_start(struct trace_reader *r, char *err, size_t errlen)
{
    long avail = ensure(r, 16);
    int rc;

    if (avail < 0) {
        error_text_set(err, errlen, "%s: read error", r->name);
        return -EIO;
    }
    const unsigned char *p = r->buf + r->pos;
    if (avail >= 8 && memcmp(p, TRACE_MAGIC, 8) == 0) {
        r->text = false;
        rc = parse_binary_header(r);
    } else if (avail >= 12 && memcmp(p, "# tmem-trace", 12) == 0) {
        r->text = true;
        rc = parse_text_header(r);
    } else {
        error_text_set(err, errlen,
                "%s: not a tmem trace (expected the magic \"TMEMTRC\\n\" or a first line "
                "\"# tmem-trace 1 ...\")", r->name);
        return -EINVAL;
    }
    if (rc)
        error_text_set(err, errlen, "%s", r->msg);
    r->msg[0] = '\0';
    return rc;
}

static struct trace_reader *reader_new(const char *name)
{
    struct trace_reader *r = calloc(1, sizeof(*r));
    if (r)
        snprintf(r->name, sizeof(r->name), "%s", name ? name : "(trace)");
    return r;
}

int trace_reader_open(const char *path, struct trace_reader **out, char *err, size_t errlen)
{
    struct trace_reader *r = reader_new(path);
    int rc;

    *out = NULL;
    if (!r)
        return -ENOMEM;
    r->block = malloc(READ_BLOCK);
    if (!r->block) {
        rc = -ENOMEM;
        error_text_set(err, errlen, "%s: out of memory", path);
        goto out;
    }
    r->buf = r->block;
    r->f = fopen(path, "rb");
    if (!r->f) {
        rc = -errno;
        error_text_set(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    rc = reader_start(r, err, errlen);
out:
    if (rc) {
        trace_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

int trace_reader_open_memory(const void *data, size_t len, const char *name,
                             struct trace_reader **out, char *err, size_t errlen)
{
    struct trace_reader *r = reader_new(name ? name : "(memory)");
    int rc;

    *out = NULL;
    if (!r)
        return -ENOMEM;
    r->buf = data;
    r->end = len;
    r->eof = true;
    rc = reader_start(r, err, errlen);
    if (rc) {
        trace_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

const struct trace_header *trace_reader_header(const struct trace_reader *r)
{
    return &r->h;
}

uint64_t trace_reader_position(const struct trace_reader *r)
{
    return r->returned;
}

void trace_reader_where(const struct trace_reader *r, char *buf, size_t len)
{
    if (r->text)
        snprintf(buf, len, "%s:%llu", r->name, (unsigned long long)r->line);
    else
        snprintf(buf, len, "%s:record %llu", r->name, (unsigned long long)r->returned);
}

/* The next binary record: 1, 0 at the end, or an error (msg set). */
static int binary_next(struct trace_reader *r, struct trace_record *rec)
{
    unsigned long long n = (unsigned long long)r->returned + 1;
    long avail = ensure(r, TRACE_RECORD_SIZE);
    char what[MSG_LEN];

    if (avail < 0) {
        reader_msg(r, "%s:record %llu: read error", r->name, n);
        return -EIO;
    }
    if (avail == 0)
        return 0;
    if (r->h.count != TRACE_COUNT_UNKNOWN && r->returned == r->h.count) {
        snprintf(r->msg, sizeof(r->msg),
                 "%s:record %llu: more records than the header's count %llu", r->name, n,
                 (unsigned long long)r->h.count);
        return -EINVAL;
    }
    if (avail < (long)TRACE_RECORD_SIZE) {
        reader_msg(r, "%s:record %llu: truncated record (%ld of %u bytes)",
                 r->name, n, avail, TRACE_RECORD_SIZE);
        return -EINVAL;
    }
    const unsigned char *p = r->buf + r->pos;
    rec->timestamp_ns = get_le64(p);
    rec->object = get_le64(p + 8);
    rec->value = get_le64(p + 16);
    rec->op = (enum trace_op)p[24];
    rec->continues = p[25] & TRACE_RECORD_CONTINUES;
    if ((p[25] & ~TRACE_RECORD_CONTINUES) || !all_zero(p + 26, 6)) {
        reader_msg(r, "%s:record %llu: non-zero reserved bytes", r->name, n);
        return -EINVAL;
    }
    if (check_record(&r->h, r->returned ? &r->last : NULL, rec, what, sizeof(what))) {
        reader_msg(r, "%s:record %llu: %s", r->name, n, what);
        return -EINVAL;
    }
    r->pos += TRACE_RECORD_SIZE;
    return 1;
}

/* Parse one text record line (comment already cut) into rec; blank: 0. */
static int text_record(struct trace_reader *r, char *line, struct trace_record *rec)
{
    char *tok[6], what[MSG_LEN];
    unsigned long long ln = (unsigned long long)r->line;
    int n = split(line, tok, 5), i = 0, want;
    bool stamps = r->h.flags & TRACE_FLAG_TIMESTAMPS;

    if (n == 0)
        return 0;
    memset(rec, 0, sizeof(*rec));
    if (tok[0][0] == '@') {
        if (!stamps) {
            snprintf(r->msg, sizeof(r->msg),
                     "%s:%llu: timestamp in a trace without timestamps", r->name, ln);
            return -EINVAL;
        }
        if (parse_number(tok[0] + 1, &rec->timestamp_ns)) {
            reader_msg(r, "%s:%llu: bad timestamp '%.40s'", r->name, ln,
                     tok[0]);
            return -EINVAL;
        }
        i = 1;
    } else if (stamps) {
        reader_msg(r, "%s:%llu: missing @timestamp (the header says "
                 "timestamps)", r->name, ln);
        return -EINVAL;
    }
    if (i >= n) {
        reader_msg(r, "%s:%llu: missing op", r->name, ln);
        return -EINVAL;
    }
    if (n > 5 || trace_op_parse(tok[i], &rec->op)) {
        if (n > 5)
            reader_msg(r, "%s:%llu: too many words", r->name, ln);
        else
            reader_msg(r, "%s:%llu: unknown op '%.40s'", r->name, ln,
                     tok[i]);
        return -EINVAL;
    }
    want = rec->op == TRACE_OP_READ || rec->op == TRACE_OP_WRITE ||
                   rec->op == TRACE_OP_TRUNCATE ? 2 : 1;
    if (n - i - 1 == want + 1 && strcmp(tok[n - 1], "+") == 0) {
        rec->continues = true; /* "+": same request as the line before */
        n--;
    }
    if (n - i - 1 != want) {
        reader_msg(r, "%s:%llu: %s takes %d argument%s, got %d", r->name,
                 ln, tok[i], want, want == 1 ? "" : "s", n - i - 1);
        return -EINVAL;
    }
    const char *a = tok[i + 1], *b = want == 2 ? tok[i + 2] : NULL;
    int bad = 0;
    if (rec->op == TRACE_OP_CAPACITY)
        bad = size_parse(a, true, &rec->value);
    else if (trace_op_is_anon(rec->op))
        bad = parse_number(a, &rec->value);
    else {
        bad = parse_number(a, &rec->object);
        if (!bad && b && parse_number(b, &rec->value))
            a = b, bad = 1;
    }
    if (bad) {
        reader_msg(r, "%s:%llu: bad number '%.40s'%s%s", r->name, ln, a,
                 rec->op == TRACE_OP_CAPACITY ? " (expected " : "",
                 rec->op == TRACE_OP_CAPACITY ? "bytes with an optional K, M, G or T, or "
                                                "'unlimited')" : "");
        return -EINVAL;
    }
    if (check_record(&r->h, r->returned ? &r->last : NULL, rec, what, sizeof(what))) {
        reader_msg(r, "%s:%llu: %s", r->name, ln, what);
        return -EINVAL;
    }
    return 1;
}

static int text_next(struct trace_reader *r, struct trace_record *rec)
{
    char line[TEXT_LINE_MAX + 1];
    for (;;) {
        int rc = text_line(r, line);
        if (rc == -EIO)
            reader_msg(r, "%s:%llu: read error", r->name,
                     (unsigned long long)r->line);
        if (rc <= 0)
            return rc;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        rc = text_record(r, line, rec);
        if (rc != 0)
            return rc;
    }
}

int trace_reader_next(struct trace_reader *r, struct trace_record *rec, char *err,
                      size_t errlen)
{
    int rc;

    if (r->error)
        return fail(r, r->error, err, errlen);
    if (r->done)
        return 0;
    rc = r->text ? text_next(r, rec) : binary_next(r, rec);
    if (rc < 0)
        return fail(r, rc, err, errlen);
    if (rc == 1) {
        r->returned++;
        r->last = *rec;
        return 1;
    }
    if (r->returned == 0) {
        reader_msg(r, "%s: empty trace (no records)", r->name);
        return fail(r, -ENODATA, err, errlen);
    }
    if (r->h.count != TRACE_COUNT_UNKNOWN && r->returned != r->h.count) {
        reader_msg(r, "%s: the header's count is %llu, the file holds %llu "
                 "records", r->name, (unsigned long long)r->h.count,
                 (unsigned long long)r->returned);
        return fail(r, -EINVAL, err, errlen);
    }
    r->done = true;
    return 0;
}

int trace_reader_next_batch(struct trace_reader *r, struct trace_record *recs, size_t max,
                            char *err, size_t errlen)
{
    size_t n = 0;

    if (max > INT_MAX)
        max = INT_MAX;
    while (n < max) {
        int rc;

        /* binary records straight from the window; anything else (the
         * end, an error, text) through trace_reader_next */
        if (!r->text && !r->error && !r->done && binary_next(r, &recs[n]) == 1) {
            r->returned++;
            r->last = recs[n++];
            continue;
        }
        rc = trace_reader_next(r, &recs[n], n ? NULL : err, n ? 0 : errlen);
        if (rc != 1)
            return n ? (int)n : rc;
        n++;
    }
    return (int)n;
}

void trace_reader_close(struct trace_reader *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    free(r->block);
    free(r);
}

/* ------------------------------------------------------------ writing */

static int writer_flush(struct trace_writer *w)
{
    if (w->used && fwrite(w->buf, 1, w->used, w->f) != w->used)
        return -EIO;
    w->used = 0;
    return 0;
}

int trace_writer_open(const char *path, FILE *f, const struct trace_header *h, bool text,
                      struct trace_writer **out, char *err, size_t errlen)
{
    struct trace_writer *w;
    const char *name = path ? path : "(stream)";
    char what[MSG_LEN];
    int rc = 0;

    *out = NULL;
    if (check_header(h, what, sizeof(what))) {
        error_text_set(err, errlen, "%s: %s", name, what);
        return -EINVAL;
    }
    if (!path && !f) {
        error_text_set(err, errlen, "(stream): no path and no stream");
        return -EINVAL;
    }
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->h = *h;
    w->text = text;
    snprintf(w->name, sizeof(w->name), "%s", name);
    if (!text) {
        w->buf = malloc(WRITE_BLOCK);
        if (!w->buf) {
            rc = -ENOMEM;
            goto out;
        }
    }
    if (path) {
        w->f = fopen(path, text ? "w" : "wb");
        if (!w->f) {
            rc = -errno;
            error_text_set(err, errlen, "%s: cannot create: %s", path, strerror(errno));
            goto out;
        }
        w->own_file = true;
    } else {
        w->f = f;
    }
    w->header_offset = text ? -1 : ftell(w->f);
    if (text) {
        if (fprintf(w->f, "# tmem-trace %u page_size=%u kind=%s%s\n", TRACE_VERSION,
                    h->page_size, kind_name(h->kind),
                    (h->flags & TRACE_FLAG_TIMESTAMPS) ? " timestamps" : "") < 0)
            rc = -EIO;
    } else {
        unsigned char *p = w->buf;
        memset(p, 0, TRACE_HEADER_SIZE);
        memcpy(p, TRACE_MAGIC, 8);
        put_le32(p + 8, TRACE_VERSION);
        put_le32(p + 12, TRACE_HEADER_SIZE);
        put_le32(p + 16, TRACE_RECORD_SIZE);
        put_le32(p + 20, h->page_size);
        put_le32(p + 24, (uint32_t)h->kind);
        put_le32(p + 28, h->flags);
        put_le64(p + 32, h->count);
        w->used = TRACE_HEADER_SIZE;
    }
    if (rc)
        error_text_set(err, errlen, "%s: write error", name);
out:
    if (rc) {
        if (w->own_file && w->f)
            fclose(w->f);
        free(w->buf);
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int trace_writer_put(struct trace_writer *w, const struct trace_record *rec, char *err,
                     size_t errlen)
{
    char what[MSG_LEN];
    int rc;

    if (check_record(&w->h, w->written ? &w->last : NULL, rec, what, sizeof(what))) {
        error_text_set(err, errlen, "%s:record %llu: %s", w->name,
                (unsigned long long)w->written + 1, what);
        return -EINVAL;
    }
    if (w->text) {
        unsigned long long o = rec->object, v = rec->value;
        const char *name = trace_op_name(rec->op);
        if ((w->h.flags & TRACE_FLAG_TIMESTAMPS) &&
            fprintf(w->f, "@%llu ", (unsigned long long)rec->timestamp_ns) < 0)
            goto io;
        switch (rec->op) {
        case TRACE_OP_READ:
        case TRACE_OP_WRITE:
            rc = fprintf(w->f, "%s %llu %llu%s\n", name, o, v, rec->continues ? " +" : "");
            break;
        case TRACE_OP_TRUNCATE: rc = fprintf(w->f, "%s %llu %llu\n", name, o, v); break;
        case TRACE_OP_UNLINK: rc = fprintf(w->f, "%s %llu\n", name, o); break;
        case TRACE_OP_CAPACITY:
            rc = v == UINT64_MAX ? fprintf(w->f, "%s unlimited\n", name)
                                 : fprintf(w->f, "%s %llu\n", name, v);
            break;
        default: rc = fprintf(w->f, "%s %llu\n", name, v); break;
        }
        if (rc < 0)
            goto io;
    } else {
        if (w->used + TRACE_RECORD_SIZE > WRITE_BLOCK && writer_flush(w))
            goto io;
        unsigned char *p = w->buf + w->used;
        memset(p, 0, TRACE_RECORD_SIZE);
        put_le64(p, rec->timestamp_ns);
        put_le64(p + 8, rec->object);
        put_le64(p + 16, rec->value);
        p[24] = (unsigned char)rec->op;
        p[25] = rec->continues ? TRACE_RECORD_CONTINUES : 0;
        w->used += TRACE_RECORD_SIZE;
    }
    w->written++;
    w->last = *rec;
    return 0;
io:
    error_text_set(err, errlen, "%s: write error: %s", w->name, strerror(errno));
    return -EIO;
}

int trace_writer_close(struct trace_writer *w, char *err, size_t errlen)
{
    int rc = 0;

    if (!w)
        return 0;
    if (!w->text && writer_flush(w))
        rc = -EIO;
    if (!rc && !w->text && w->written != w->h.count) {
        unsigned char c[8];
        put_le64(c, w->written);
        if (w->header_offset >= 0 && fflush(w->f) == 0 &&
            fseek(w->f, w->header_offset + 32, SEEK_SET) == 0) {
            if (fwrite(c, 1, 8, w->f) != 8 || fseek(w->f, 0, SEEK_END) != 0)
                rc = -EIO;
        } else if (w->h.count != TRACE_COUNT_UNKNOWN) {
            error_text_set(err, errlen, "%s: wrote %llu records, the header says %llu", w->name,
                    (unsigned long long)w->written, (unsigned long long)w->h.count);
            rc = -EIO;
            goto out;
        }
    }
    if (fflush(w->f) != 0)
        rc = -EIO;
    if (w->own_file && fclose(w->f) != 0)
        rc = -EIO;
    w->own_file = false;
    if (rc)
        error_text_set(err, errlen, "%s: write error", w->name);
out:
    if (w->own_file)
        fclose(w->f);
    free(w->buf);
    free(w);
    return rc;
}
