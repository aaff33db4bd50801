/*
 * snapshot_format.h - the save file's layout (docs/control.md, "Save
 * file"), shared by the writer (snapshot_save.c) and the reader
 * (snapshot_read.c). Little-endian, fixed-width, no padding left to the
 * compiler: every field is put and got by byte offset.
 *
 *   header  104 bytes: magic "TMEMSAVE", version, page size, flags, pool
 *           count, creation time, client name[64], checksum
 *   pool     48 bytes each: "POOL", saved id, flags, 0, uuid, pages, checksum
 *   page     44 + n + 8 bytes each: "PAGE", pool index, oid[3], index,
 *           encoding, 0, n, n data bytes, checksum
 *   end      32 bytes: "END\0", pools, pages, bytes before it, checksum
 * The checksum after each record is XXH3-64 (seed 0) of the record's
 * bytes before it.
 */
#ifndef SNAPSHOT_FORMAT_H
#define SNAPSHOT_FORMAT_H

#include "core/tmem.h"
#include "snapshot/snapshot.h" /* SNAPSHOT_VERSION */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAPSHOT_MAGIC "TMEMSAVE" /* 8 bytes, no NUL */
#define SNAPSHOT_NAME_BYTES 64u

#define SNAPSHOT_HEADER_BYTES 104u
#define SNAPSHOT_POOL_BYTES 48u
#define SNAPSHOT_PAGE_HEAD_BYTES 44u
#define SNAPSHOT_END_BYTES 32u
#define SNAPSHOT_CHECKSUM_BYTES 8u

/* Header fields (byte offsets). */
#define SNAPSHOT_H_MAGIC 0u
#define SNAPSHOT_H_VERSION 8u
#define SNAPSHOT_H_PAGE_SIZE 12u
#define SNAPSHOT_H_FLAGS 16u
#define SNAPSHOT_H_POOLS 20u
#define SNAPSHOT_H_CREATED 24u
#define SNAPSHOT_H_NAME 32u
#define SNAPSHOT_H_CHECKSUM 96u

/* Header flags. */
#define SNAPSHOT_FLAG_LZ4 0x1u /* page records may hold lz4 bytes */
#define SNAPSHOT_FLAGS_KNOWN SNAPSHOT_FLAG_LZ4

/* Record tags: four ASCII bytes, read as a little-endian u32. */
#define SNAPSHOT_TAG(a, b, c, d)                                                            \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define SNAPSHOT_TAG_POOL SNAPSHOT_TAG('P', 'O', 'O', 'L')
#define SNAPSHOT_TAG_PAGE SNAPSHOT_TAG('P', 'A', 'G', 'E')
#define SNAPSHOT_TAG_END SNAPSHOT_TAG('E', 'N', 'D', 0)

/* Pool record fields. */
#define SNAPSHOT_P_SAVED_ID 4u
#define SNAPSHOT_P_FLAGS 8u
#define SNAPSHOT_P_RESERVED 12u
#define SNAPSHOT_P_UUID 16u
#define SNAPSHOT_P_PAGES 32u
#define SNAPSHOT_P_CHECKSUM 40u

/* Page record fields (the data follows the head, then the checksum). */
#define SNAPSHOT_G_POOL 4u
#define SNAPSHOT_G_OID 8u
#define SNAPSHOT_G_INDEX 32u
#define SNAPSHOT_G_ENCODING 36u
#define SNAPSHOT_G_RESERVED 38u
#define SNAPSHOT_G_LENGTH 40u
#define SNAPSHOT_ENCODING_RAW 0u /* length = the page size */
#define SNAPSHOT_ENCODING_LZ4 1u /* length 1 .. page size - 1, lz4 block */

/* End record fields. */
#define SNAPSHOT_E_POOLS 4u
#define SNAPSHOT_E_PAGES 8u
#define SNAPSHOT_E_BYTES 16u
#define SNAPSHOT_E_CHECKSUM 24u

/* Pool flags a save file may carry (TMEM_POOL_PERSIST always). */
#define SNAPSHOT_POOL_FLAGS_KNOWN                                                           \
    (TMEM_POOL_PERSIST | TMEM_POOL_SHARED | TMEM_POOL_EXCLUSIVE_GETS | TMEM_POOL_PAGESIZE_MASK)

static inline void snapshot_put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline void snapshot_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void snapshot_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint16_t snapshot_get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t snapshot_get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static inline uint64_t snapshot_get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* XXH3-64 (seed 0) of len bytes: every record's checksum. */
uint64_t snapshot_checksum(const void *data, size_t len);

/* ------------------------------------------------------------ reading */
/* What the reader learnt of the header and the pool records. */
struct snapshot_file_pool {
    uint32_t saved_id, flags;
    uint8_t uuid[16];
    uint64_t pages;     /* as the pool record says */
    uint64_t first_record;
};

/* A page the reader checked: called with the record's number, the pool's
 * index in the file, the handle and the page's bytes (decompressed,
 * page_size). Non-zero stops the read and is returned (write err first). */
typedef int (*snapshot_page_fn)(void *arg, uint64_t record, uint32_t pool,
                                const struct tmem_oid *oid, uint32_t index, const void *page);

struct snapshot_reader {
    /* in */
    const char *path;
    char *err;
    size_t errlen;
    uint32_t want_page_size; /* 0: any page size */
    bool check_handles;      /* also refuse a handle that comes twice */
    /* out (snapshot_read fills them; snapshot_reader_fini frees) */
    uint32_t version, page_size, flags, pool_count;
    int64_t created;
    char name[SNAPSHOT_NAME_BYTES];
    struct snapshot_file_pool *pools;
    uint64_t pages, pages_compressed, file_bytes;
};

/*
 * Read the whole file at r->path, checking everything (snapshot.h,
 * snapshot_restore), calling fn (may be NULL) for every page record once
 * it is checked. 0, or -EINVAL (a bad file: r->err says where and why),
 * -ENOMEM, -errno of a failed open/read, or fn's return.
 */
int snapshot_read(struct snapshot_reader *r, snapshot_page_fn fn, void *arg);
void snapshot_reader_fini(struct snapshot_reader *r);

/* Write "fmt..." to err (NUL-terminated, truncated); returns rc. */
int snapshot_error(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif /* SNAPSHOT_FORMAT_H */
