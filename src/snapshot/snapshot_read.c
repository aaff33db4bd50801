/*
 * snapshot_read.c - reading and checking a save file, record by record
 * (the layout: snapshot_format.h, docs/control.md "Save file").
 *
 * One pass over the file through a buffered stdio stream: the header, the
 * pool records, then page records until the end record, then nothing.
 * Each record is read whole, its checksum compared before any field is
 * believed (only a page record's length is looked at first, to know where
 * its checksum is, and bounded by the page size), then its fields are
 * checked; a page's lz4 bytes are decompressed, and must make exactly one
 * page, before fn sees it. At the end the counts are compared with the
 * pool records and the end record, and with check_handles the handles
 * (kept in a malloc'ed array, 40 bytes a page) are sorted to find any
 * that comes twice.
 *
 * Errors name the file and the record: "PATH:record N: what" (the header
 * is record 0, the pool records 1..P, then pages, then the end record).
 * No state outside the reader; no locks.
 */
#include "snapshot/snapshot_format.h"

#include <errno.h>
#include <inttypes.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A handle as the file names it, with the record that named it. */
struct snapshot_handle {
    struct tmem_oid oid;
    uint32_t pool, index;
    uint64_t record;
};

/* A pass over one file. */
struct snapshot_pass {
    struct snapshot_reader *r;
    FILE *f;
    uint64_t offset; /* bytes read so far */
    uint64_t record; /* the number of the record being read */
    unsigned char *rec; /* a whole page record: head, data, checksum */
    unsigned char *page;
    uint64_t *counted;  /* page records per pool */
    struct snapshot_handle *handles;
    size_t handle_count, handle_room;
};

#define FAIL(p, ...) snapshot_error((p)->r->err, (p)->r->errlen, -EINVAL, __VA_ARGS__)

/* Read exactly n bytes. 0; 1 when the file ends first (*got bytes read);
 * -errno on a read error (err written). */
static int snapshot_read_bytes(struct snapshot_pass *p, void *buf, size_t n, size_t *got)
{
    size_t k = fread(buf, 1, n, p->f);

    p->offset += k;
    if (got)
        *got = k;
    if (k == n)
        return 0;
    if (ferror(p->f)) {
        int e = errno ? errno : EIO;
        return snapshot_error(p->r->err, p->r->errlen, -e, "%s: read failed at byte %" PRIu64
                              ": %s", p->r->path, p->offset, strerror(e));
    }
    return 1;
}

/* Read the rest of a record (n bytes) or fail naming the truncation. */
static int snapshot_read_rest(struct snapshot_pass *p, void *buf, size_t n, const char *what)
{
    int rc = snapshot_read_bytes(p, buf, n, NULL);

    if (rc == 1)
        return FAIL(p, "%s:record %" PRIu64 ": truncated %s (the file ends at byte %" PRIu64 ")",
                    p->r->path, p->record, what, p->offset);
    return rc;
}

static bool snapshot_checksum_ok(const unsigned char *rec, size_t len)
{
    return snapshot_checksum(rec, len) == snapshot_get64(rec + len);
}

static bool snapshot_page_size_valid(uint32_t ps)
{
    return ps >= 512 && ps <= 32768 && (ps & (ps - 1)) == 0;
}

static int snapshot_read_header(struct snapshot_pass *p)
{
    struct snapshot_reader *r = p->r;
    unsigned char h[SNAPSHOT_HEADER_BYTES];
    size_t got;
    int rc = snapshot_read_bytes(p, h, sizeof(h), &got);

    if (rc < 0)
        return rc;
    if (got < 8 || memcmp(h, SNAPSHOT_MAGIC, 8) != 0)
        return FAIL(p, "%s: not a tmem save file (no \"%s\" magic at its start)", r->path,
                    SNAPSHOT_MAGIC);
    if (got >= SNAPSHOT_H_VERSION + 4 &&
        snapshot_get32(h + SNAPSHOT_H_VERSION) != SNAPSHOT_VERSION)
        return FAIL(p, "%s: save file version %" PRIu32 ", this program reads version %u",
                    r->path, snapshot_get32(h + SNAPSHOT_H_VERSION), SNAPSHOT_VERSION);
    if (rc == 1)
        return FAIL(p, "%s:record 0: truncated header (the file ends at byte %zu)", r->path,
                    got);
    if (!snapshot_checksum_ok(h, SNAPSHOT_H_CHECKSUM))
        return FAIL(p, "%s:record 0: header checksum mismatch", r->path);
    r->version = SNAPSHOT_VERSION;
    r->page_size = snapshot_get32(h + SNAPSHOT_H_PAGE_SIZE);
    r->flags = snapshot_get32(h + SNAPSHOT_H_FLAGS);
    r->pool_count = snapshot_get32(h + SNAPSHOT_H_POOLS);
    r->created = (int64_t)snapshot_get64(h + SNAPSHOT_H_CREATED);
    memcpy(r->name, h + SNAPSHOT_H_NAME, SNAPSHOT_NAME_BYTES);
    if (!snapshot_page_size_valid(r->page_size))
        return FAIL(p, "%s:record 0: page size %" PRIu32 " is not a power of two from 512 to "
                    "32768", r->path, r->page_size);
    if (r->want_page_size && r->page_size != r->want_page_size)
        return FAIL(p, "%s: saved with page size %" PRIu32 ", the store's is %" PRIu32,
                    r->path, r->page_size, r->want_page_size);
    if (r->flags & ~SNAPSHOT_FLAGS_KNOWN)
        return FAIL(p, "%s:record 0: unknown header flags %#" PRIx32, r->path, r->flags);
    if (r->pool_count > TMEM_MAX_POOLS_PER_CLIENT)
        return FAIL(p, "%s:record 0: %" PRIu32 " pools, a client holds at most %d", r->path,
                    r->pool_count, TMEM_MAX_POOLS_PER_CLIENT);
    if (!memchr(r->name, 0, SNAPSHOT_NAME_BYTES))
        return FAIL(p, "%s:record 0: the client name is not NUL-terminated", r->path);
    return 0;
}

static bool snapshot_uuid_is_zero(const uint8_t *u)
{
    for (int i = 0; i < 16; i++)
        if (u[i])
            return false;
    return true;
}

/* Pool record p->record (1 .. pool_count) into r->pools[i]. */
static int snapshot_read_pool(struct snapshot_pass *p, uint32_t i)
{
    struct snapshot_reader *r = p->r;
    struct snapshot_file_pool *fp = &r->pools[i];
    unsigned char b[SNAPSHOT_POOL_BYTES];
    uint32_t psbits;
    int rc = snapshot_read_rest(p, b, sizeof(b), "pool record");

    if (rc)
        return rc;
    if (snapshot_get32(b) != SNAPSHOT_TAG_POOL)
        return FAIL(p, "%s:record %" PRIu64 ": expected pool record %" PRIu32 " of %" PRIu32
                    ", found tag %#" PRIx32, r->path, p->record, i + 1, r->pool_count,
                    snapshot_get32(b));
    if (!snapshot_checksum_ok(b, SNAPSHOT_P_CHECKSUM))
        return FAIL(p, "%s:record %" PRIu64 ": pool record checksum mismatch", r->path,
                    p->record);
    fp->saved_id = snapshot_get32(b + SNAPSHOT_P_SAVED_ID);
    fp->flags = snapshot_get32(b + SNAPSHOT_P_FLAGS);
    memcpy(fp->uuid, b + SNAPSHOT_P_UUID, 16);
    fp->pages = snapshot_get64(b + SNAPSHOT_P_PAGES);
    psbits = (fp->flags & TMEM_POOL_PAGESIZE_MASK) >> TMEM_POOL_PAGESIZE_SHIFT;
    if (fp->saved_id >= TMEM_MAX_POOLS_PER_CLIENT)
        return FAIL(p, "%s:record %" PRIu64 ": saved pool id %" PRIu32 " out of range",
                    r->path, p->record, fp->saved_id);
    if ((fp->flags & ~SNAPSHOT_POOL_FLAGS_KNOWN) || !(fp->flags & TMEM_POOL_PERSIST) ||
        ((fp->flags & TMEM_POOL_SHARED) && (fp->flags & TMEM_POOL_EXCLUSIVE_GETS)) ||
        (psbits && (1u << (psbits + 12)) != r->page_size) ||
        snapshot_get32(b + SNAPSHOT_P_RESERVED) != 0)
        return FAIL(p, "%s:record %" PRIu64 ": bad pool flags %#" PRIx32 " (a saved pool is "
                    "persistent, private or shared)", r->path, p->record, fp->flags);
    if (!(fp->flags & TMEM_POOL_SHARED) && !snapshot_uuid_is_zero(fp->uuid))
        return FAIL(p, "%s:record %" PRIu64 ": a private pool with a uuid", r->path, p->record);
    for (uint32_t j = 0; j < i; j++) {
        if (r->pools[j].saved_id == fp->saved_id)
            return FAIL(p, "%s:record %" PRIu64 ": saved pool id %" PRIu32 " again (record %"
                        PRIu32 ")", r->path, p->record, fp->saved_id, j + 1);
        if ((fp->flags & TMEM_POOL_SHARED) && (r->pools[j].flags & TMEM_POOL_SHARED) &&
            memcmp(r->pools[j].uuid, fp->uuid, 16) == 0)
            return FAIL(p, "%s:record %" PRIu64 ": shared pool uuid again (record %" PRIu32 ")",
                        r->path, p->record, j + 1);
    }
    return 0;
}

static int snapshot_note_handle(struct snapshot_pass *p, uint32_t pool,
                                const struct tmem_oid *oid, uint32_t index)
{
    struct snapshot_handle *h;

    if (p->handle_count == p->handle_room) {
        size_t room = p->handle_room ? 2 * p->handle_room : 1024;
        h = realloc(p->handles, room * sizeof(*h));
        if (!h)
            return snapshot_error(p->r->err, p->r->errlen, -ENOMEM, "%s: out of memory",
                                  p->r->path);
        p->handles = h;
        p->handle_room = room;
    }
    h = &p->handles[p->handle_count++];
    h->oid = *oid;
    h->pool = pool;
    h->index = index;
    h->record = p->record;
    return 0;
}

/* A page record whose 4-byte tag is already in p->rec. */
static int snapshot_read_page(struct snapshot_pass *p, snapshot_page_fn fn, void *arg)
{
    struct snapshot_reader *r = p->r;
    unsigned char *b = p->rec;
    uint32_t pool, index, len, enc;
    struct tmem_oid oid;
    int rc = snapshot_read_rest(p, b + 4, SNAPSHOT_PAGE_HEAD_BYTES - 4, "page record");

    if (rc)
        return rc;
    len = snapshot_get32(b + SNAPSHOT_G_LENGTH);
    if (len == 0 || len > r->page_size)
        return FAIL(p, "%s:record %" PRIu64 ": page data length %" PRIu32 " (the page size is %"
                    PRIu32 ")", r->path, p->record, len, r->page_size);
    rc = snapshot_read_rest(p, b + SNAPSHOT_PAGE_HEAD_BYTES, len + SNAPSHOT_CHECKSUM_BYTES,
                            "page record");
    if (rc)
        return rc;
    if (!snapshot_checksum_ok(b, SNAPSHOT_PAGE_HEAD_BYTES + len))
        return FAIL(p, "%s:record %" PRIu64 ": page record checksum mismatch", r->path,
                    p->record);
    pool = snapshot_get32(b + SNAPSHOT_G_POOL);
    for (int i = 0; i < 3; i++)
        oid.oid[i] = snapshot_get64(b + SNAPSHOT_G_OID + 8 * i);
    index = snapshot_get32(b + SNAPSHOT_G_INDEX);
    enc = snapshot_get16(b + SNAPSHOT_G_ENCODING);
    if (pool >= r->pool_count)
        return FAIL(p, "%s:record %" PRIu64 ": pool %" PRIu32 ", the file has %" PRIu32
                    " pools", r->path, p->record, pool, r->pool_count);
    if (snapshot_get16(b + SNAPSHOT_G_RESERVED) != 0)
        return FAIL(p, "%s:record %" PRIu64 ": reserved field not zero", r->path, p->record);
    if (enc == SNAPSHOT_ENCODING_RAW && len == r->page_size) {
        memcpy(p->page, b + SNAPSHOT_PAGE_HEAD_BYTES, len);
    } else if (enc == SNAPSHOT_ENCODING_LZ4 && len < r->page_size &&
               (r->flags & SNAPSHOT_FLAG_LZ4)) {
        int n = LZ4_decompress_safe((const char *)b + SNAPSHOT_PAGE_HEAD_BYTES, (char *)p->page,
                                    (int)len, (int)r->page_size);
        if (n != (int)r->page_size)
            return FAIL(p, "%s:record %" PRIu64 ": lz4 data that does not make one page",
                        r->path, p->record);
        r->pages_compressed++;
    } else {
        return FAIL(p, "%s:record %" PRIu64 ": encoding %" PRIu32 " with %" PRIu32
                    " data bytes", r->path, p->record, enc, len);
    }
    p->counted[pool]++;
    r->pages++;
    if (r->check_handles && (rc = snapshot_note_handle(p, pool, &oid, index)) != 0)
        return rc;
    return fn ? fn(arg, p->record, pool, &oid, index, p->page) : 0;
}

/* The end record, whose tag is in p->rec; then nothing may follow. */
static int snapshot_read_end(struct snapshot_pass *p, uint64_t end_offset)
{
    struct snapshot_reader *r = p->r;
    unsigned char *b = p->rec;
    int rc = snapshot_read_rest(p, b + 4, SNAPSHOT_END_BYTES - 4, "end record");
    uint64_t pools, pages, bytes;

    if (rc)
        return rc;
    if (!snapshot_checksum_ok(b, SNAPSHOT_E_CHECKSUM))
        return FAIL(p, "%s:record %" PRIu64 ": end record checksum mismatch", r->path,
                    p->record);
    pools = snapshot_get32(b + SNAPSHOT_E_POOLS);
    pages = snapshot_get64(b + SNAPSHOT_E_PAGES);
    bytes = snapshot_get64(b + SNAPSHOT_E_BYTES);
    if (pools != r->pool_count || pages != r->pages || bytes != end_offset)
        return FAIL(p, "%s:record %" PRIu64 ": the end record says %" PRIu64 " pools, %" PRIu64
                    " pages, %" PRIu64 " bytes before it; the file has %" PRIu32 ", %" PRIu64
                    ", %" PRIu64, r->path, p->record, pools, pages, bytes, r->pool_count,
                    r->pages, end_offset);
    for (uint32_t i = 0; i < r->pool_count; i++)
        if (p->counted[i] != r->pools[i].pages)
            return FAIL(p, "%s:record %" PRIu32 ": the pool record says %" PRIu64 " pages, the "
                        "file has %" PRIu64, r->path, i + 1, r->pools[i].pages, p->counted[i]);
    if (fgetc(p->f) != EOF)
        return FAIL(p, "%s: trailing bytes after the end record (record %" PRIu64 ", which "
                    "ends at byte %" PRIu64 ")", r->path, p->record, p->offset);
    if (ferror(p->f))
        return snapshot_error(r->err, r->errlen, -EIO, "%s: read failed at byte %" PRIu64,
                              r->path, p->offset);
    return 0;
}

static int snapshot_handle_compare(const void *pa, const void *pb)
{
    const struct snapshot_handle *a = pa, *b = pb;

    if (a->pool != b->pool)
        return a->pool < b->pool ? -1 : 1;
    for (int i = 0; i < 3; i++)
        if (a->oid.oid[i] != b->oid.oid[i])
            return a->oid.oid[i] < b->oid.oid[i] ? -1 : 1;
    if (a->index != b->index)
        return a->index < b->index ? -1 : 1;
    return a->record < b->record ? -1 : a->record > b->record;
}

static int snapshot_check_handles(struct snapshot_pass *p)
{
    if (p->handle_count > 1)
        qsort(p->handles, p->handle_count, sizeof(p->handles[0]), snapshot_handle_compare);
    for (size_t i = 1; i < p->handle_count; i++) {
        const struct snapshot_handle *a = &p->handles[i - 1], *b = &p->handles[i];
        if (a->pool == b->pool && a->index == b->index && a->oid.oid[0] == b->oid.oid[0] &&
            a->oid.oid[1] == b->oid.oid[1] && a->oid.oid[2] == b->oid.oid[2])
            return FAIL(p, "%s:record %" PRIu64 ": duplicate handle (pool %" PRIu32 ", oid %"
                        PRIx64 ":%" PRIx64 ":%" PRIx64 ", index %" PRIu32 "), first in record %"
                        PRIu64, p->r->path, b->record, b->pool, b->oid.oid[0], b->oid.oid[1],
                        b->oid.oid[2], b->index, a->record);
    }
    return 0;
}

static int snapshot_read_records(struct snapshot_pass *p, snapshot_page_fn fn, void *arg)
{
    struct snapshot_reader *r = p->r;
    int rc = snapshot_read_header(p);

    if (rc)
        return rc;
    r->pools = calloc(r->pool_count ? r->pool_count : 1, sizeof(*r->pools));
    p->counted = calloc(r->pool_count ? r->pool_count : 1, sizeof(*p->counted));
    p->rec = malloc(SNAPSHOT_PAGE_HEAD_BYTES + r->page_size + SNAPSHOT_CHECKSUM_BYTES);
    p->page = malloc(r->page_size);
    if (!r->pools || !p->counted || !p->rec || !p->page)
        return snapshot_error(r->err, r->errlen, -ENOMEM, "%s: out of memory", r->path);
    for (uint32_t i = 0; i < r->pool_count; i++) {
        p->record = 1 + i;
        rc = snapshot_read_pool(p, i);
        if (rc)
            return rc;
    }
    for (;;) {
        uint64_t start = p->offset;
        size_t got;
        uint32_t tag;

        p->record++;
        rc = snapshot_read_bytes(p, p->rec, 4, &got);
        if (rc < 0)
            return rc;
        if (rc == 1 && got == 0)
            return FAIL(p, "%s: no end record: the file ends after record %" PRIu64
                        " (byte %" PRIu64 ")", r->path, p->record - 1, p->offset);
        if (rc == 1)
            return FAIL(p, "%s:record %" PRIu64 ": truncated record tag (the file ends at "
                        "byte %" PRIu64 ")", r->path, p->record, p->offset);
        tag = snapshot_get32(p->rec);
        if (tag == SNAPSHOT_TAG_END) {
            rc = snapshot_read_end(p, start);
            break;
        }
        if (tag != SNAPSHOT_TAG_PAGE)
            return FAIL(p, "%s:record %" PRIu64 ": unknown record tag %#" PRIx32 " at byte %"
                        PRIu64, r->path, p->record, tag, start);
        rc = snapshot_read_page(p, fn, arg);
        if (rc)
            return rc;
    }
    if (rc)
        return rc;
    r->file_bytes = p->offset;
    return r->check_handles ? snapshot_check_handles(p) : 0;
}

int snapshot_read(struct snapshot_reader *r, snapshot_page_fn fn, void *arg)
{
    struct snapshot_pass p;
    int rc;

    memset(&p, 0, sizeof(p));
    p.r = r;
    r->pools = NULL;
    r->pages = r->pages_compressed = r->file_bytes = 0;
    p.f = fopen(r->path, "rb");
    if (!p.f) {
        int e = errno;
        return snapshot_error(r->err, r->errlen, -e, "%s: %s", r->path, strerror(e));
    }
    rc = snapshot_read_records(&p, fn, arg);
    fclose(p.f);
    free(p.counted);
    free(p.rec);
    free(p.page);
    free(p.handles);
    return rc;
}

void snapshot_reader_fini(struct snapshot_reader *r)
{
    free(r->pools);
    r->pools = NULL;
}
