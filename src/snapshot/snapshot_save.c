/*
 * snapshot_save.c - writing a client's persistent pools to a save file,
 * atomically (the layout: snapshot_format.h, docs/control.md "Save file").
 *
 * The file is made as "PATH.tmp-XXXXXX" (mkstemp, same folder, so the
 * rename stays within one file system): the header, one pool record per
 * persistent pool with a page count of 0, then the pages of each pool in
 * turn as tmem_pool_walk passes them (each lz4-compressed when that makes
 * it smaller), then the end record. The pool records are then rewritten
 * in place (pwrite) with their real page counts and checksums, the file
 * fsync'ed and closed, renamed over PATH, and the folder fsync'ed so the
 * rename itself is durable. Any failure removes the temporary file.
 *
 * Data structures: one record buffer (a page record's largest size) and
 * the pool records' page counts. No lock of its own: the walk reads each
 * page under its stripe lock and calls back with none held.
 */
#include "snapshot/snapshot.h"
#include "snapshot/snapshot_format.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The save in progress. */
struct snapshot_writer {
    const char *path;
    char *tmp;             /* the temporary file's name */
    int fd;
    FILE *f;
    char *err;
    size_t errlen;
    uint32_t page_size;
    unsigned char *rec;    /* a page record's room */
    uint32_t pool;         /* index of the pool being walked */
    uint64_t offset;       /* bytes written */
    struct snapshot_stats st;
};

/* Note the failed file operation `what` (errno e). */
static int snapshot_write_failed(struct snapshot_writer *w, const char *what, int e)
{
    if (!e)
        e = EIO;
    return snapshot_error(w->err, w->errlen, -e, "%s: %s failed: %s", w->path, what,
                          strerror(e));
}

static int snapshot_write(struct snapshot_writer *w, const void *buf, size_t n)
{
    errno = 0;
    if (fwrite(buf, 1, n, w->f) != n)
        return snapshot_write_failed(w, "write", errno);
    w->offset += n;
    return 0;
}

/* Fill a pool record (48 bytes) for pool info with `pages` pages. */
static void snapshot_make_pool_record(unsigned char *b, const struct tmem_pool_info *info,
                                      uint64_t pages)
{
    memset(b, 0, SNAPSHOT_POOL_BYTES);
    snapshot_put32(b, SNAPSHOT_TAG_POOL);
    snapshot_put32(b + SNAPSHOT_P_SAVED_ID, (uint32_t)info->id);
    snapshot_put32(b + SNAPSHOT_P_FLAGS, info->flags);
    if (info->flags & TMEM_POOL_SHARED)
        memcpy(b + SNAPSHOT_P_UUID, info->uuid, 16);
    snapshot_put64(b + SNAPSHOT_P_PAGES, pages);
    snapshot_put64(b + SNAPSHOT_P_CHECKSUM, snapshot_checksum(b, SNAPSHOT_P_CHECKSUM));
}

/* tmem_pool_walk's callback: one page record. */
static int snapshot_write_page(void *arg, const struct tmem_oid *oid, uint32_t index,
                               const void *page, size_t page_size)
{
    struct snapshot_writer *w = arg;
    unsigned char *b = w->rec;
    int len = LZ4_compress_default(page, (char *)b + SNAPSHOT_PAGE_HEAD_BYTES, (int)page_size,
                                   (int)page_size - 1);
    uint16_t enc = SNAPSHOT_ENCODING_LZ4;

    if (len <= 0) {
        memcpy(b + SNAPSHOT_PAGE_HEAD_BYTES, page, page_size);
        len = (int)page_size;
        enc = SNAPSHOT_ENCODING_RAW;
    } else {
        w->st.pages_compressed++;
    }
    snapshot_put32(b, SNAPSHOT_TAG_PAGE);
    snapshot_put32(b + SNAPSHOT_G_POOL, w->pool);
    for (int i = 0; i < 3; i++)
        snapshot_put64(b + SNAPSHOT_G_OID + 8 * i, oid->oid[i]);
    snapshot_put32(b + SNAPSHOT_G_INDEX, index);
    snapshot_put16(b + SNAPSHOT_G_ENCODING, enc);
    snapshot_put16(b + SNAPSHOT_G_RESERVED, 0);
    snapshot_put32(b + SNAPSHOT_G_LENGTH, (uint32_t)len);
    snapshot_put64(b + SNAPSHOT_PAGE_HEAD_BYTES + len,
                   snapshot_checksum(b, SNAPSHOT_PAGE_HEAD_BYTES + (size_t)len));
    w->st.pages++;
    return snapshot_write(w, b, SNAPSHOT_PAGE_HEAD_BYTES + (size_t)len + SNAPSHOT_CHECKSUM_BYTES);
}

/* Write everything into the open temporary file. */
static int snapshot_write_file(struct snapshot_writer *w, struct tmem_client *c,
                               const char *name)
{
    struct tmem_pool_info info[TMEM_MAX_POOLS_PER_CLIENT];
    uint64_t counts[TMEM_MAX_POOLS_PER_CLIENT];
    unsigned char h[SNAPSHOT_HEADER_BYTES], b[SNAPSHOT_END_BYTES];
    int n = tmem_client_pools(c, info, TMEM_MAX_POOLS_PER_CLIENT), kept = 0, rc;

    if (n < 0)
        return snapshot_error(w->err, w->errlen, n, "%s: cannot list the client's pools: %s",
                              w->path, strerror(-n));
    for (int i = 0; i < n; i++) {
        if (info[i].flags & TMEM_POOL_PERSIST)
            info[kept++] = info[i];
        else
            w->st.pools_ephemeral++;
    }
    memset(h, 0, sizeof(h));
    memcpy(h + SNAPSHOT_H_MAGIC, SNAPSHOT_MAGIC, 8);
    snapshot_put32(h + SNAPSHOT_H_VERSION, SNAPSHOT_VERSION);
    snapshot_put32(h + SNAPSHOT_H_PAGE_SIZE, w->page_size);
    snapshot_put32(h + SNAPSHOT_H_FLAGS, SNAPSHOT_FLAG_LZ4);
    snapshot_put32(h + SNAPSHOT_H_POOLS, (uint32_t)kept);
    snapshot_put64(h + SNAPSHOT_H_CREATED, (uint64_t)time(NULL));
    if (name)
        strncpy((char *)h + SNAPSHOT_H_NAME, name, SNAPSHOT_NAME_BYTES - 1);
    snapshot_put64(h + SNAPSHOT_H_CHECKSUM, snapshot_checksum(h, SNAPSHOT_H_CHECKSUM));
    if ((rc = snapshot_write(w, h, sizeof(h))) != 0)
        return rc;
    for (int i = 0; i < kept; i++) {
        unsigned char pr[SNAPSHOT_POOL_BYTES];
        snapshot_make_pool_record(pr, &info[i], 0);
        if ((rc = snapshot_write(w, pr, sizeof(pr))) != 0)
            return rc;
    }
    for (int i = 0; i < kept; i++) {
        uint64_t before = w->st.pages;
        w->pool = (uint32_t)i;
        rc = tmem_pool_walk(c, info[i].id, snapshot_write_page, w);
        if (rc == -EINVAL)
            return snapshot_error(w->err, w->errlen, rc, "%s: pool %d was destroyed during "
                                  "the save", w->path, info[i].id);
        if (rc > 0 || rc == -ENOMEM || rc == -EIO)
            return rc > 0 ? -EIO : snapshot_error(w->err, w->errlen, rc, "%s: reading pool "
                                                  "%d: %s", w->path, info[i].id, strerror(-rc));
        if (rc)
            return rc; /* a write failed: err written */
        counts[i] = w->st.pages - before;
    }
    memset(b, 0, sizeof(b));
    snapshot_put32(b, SNAPSHOT_TAG_END);
    snapshot_put32(b + SNAPSHOT_E_POOLS, (uint32_t)kept);
    snapshot_put64(b + SNAPSHOT_E_PAGES, w->st.pages);
    snapshot_put64(b + SNAPSHOT_E_BYTES, w->offset);
    snapshot_put64(b + SNAPSHOT_E_CHECKSUM, snapshot_checksum(b, SNAPSHOT_E_CHECKSUM));
    if ((rc = snapshot_write(w, b, sizeof(b))) != 0)
        return rc;
    errno = 0;
    if (fflush(w->f) != 0)
        return snapshot_write_failed(w, "write", errno);
    for (int i = 0; i < kept; i++) {
        unsigned char pr[SNAPSHOT_POOL_BYTES];
        off_t at = (off_t)(SNAPSHOT_HEADER_BYTES + (uint64_t)i * SNAPSHOT_POOL_BYTES);
        snapshot_make_pool_record(pr, &info[i], counts[i]);
        errno = 0;
        if (pwrite(w->fd, pr, sizeof(pr), at) != (ssize_t)sizeof(pr))
            return snapshot_write_failed(w, "write", errno);
    }
    w->st.pools = (uint32_t)kept;
    w->st.page_bytes = w->st.pages * w->page_size;
    w->st.file_bytes = w->offset;
    return 0;
}

/* fsync the folder that holds path, so a rename in it is durable. */
static int snapshot_sync_folder(struct snapshot_writer *w)
{
    char *copy = strdup(w->path);
    int fd, rc = 0;

    if (!copy)
        return snapshot_error(w->err, w->errlen, -ENOMEM, "%s: out of memory", w->path);
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        rc = snapshot_write_failed(w, "fsync of its folder", errno);
    if (fd >= 0)
        close(fd);
    free(copy);
    return rc;
}

int snapshot_save(struct tmem_client *c, const char *path, struct snapshot_stats *st,
                  char *err, size_t errlen)
{
    struct snapshot_writer w;
    size_t plen;
    int rc;

    memset(&w, 0, sizeof(w));
    w.fd = -1;
    w.err = err;
    w.errlen = errlen;
    w.path = path ? path : "(null)";
    if (!c || !path || !*path)
        return snapshot_error(err, errlen, -EINVAL, "%s: no client or no file name", w.path);
    w.page_size = tmem_page_size(tmem_client_store(c));
    plen = strlen(path);
    w.tmp = malloc(plen + sizeof(".tmp-XXXXXX"));
    w.rec = malloc(SNAPSHOT_PAGE_HEAD_BYTES + w.page_size + SNAPSHOT_CHECKSUM_BYTES);
    if (!w.tmp || !w.rec) {
        rc = snapshot_error(err, errlen, -ENOMEM, "%s: out of memory", path);
        goto out;
    }
    memcpy(w.tmp, path, plen);
    memcpy(w.tmp + plen, ".tmp-XXXXXX", sizeof(".tmp-XXXXXX"));
    w.fd = mkostemp(w.tmp, O_CLOEXEC);
    if (w.fd < 0) {
        rc = snapshot_write_failed(&w, "creating a temporary file beside it", errno);
        free(w.tmp);
        w.tmp = NULL;
        goto out;
    }
    w.f = fdopen(w.fd, "wb");
    if (!w.f) {
        rc = snapshot_write_failed(&w, "fdopen", errno);
        goto out;
    }
    setvbuf(w.f, NULL, _IOFBF, 1 << 16);
    rc = snapshot_write_file(&w, c, tmem_client_name(c));
    if (rc)
        goto out;
    errno = 0;
    if (fsync(w.fd) != 0) {
        rc = snapshot_write_failed(&w, "fsync", errno);
        goto out;
    }
    errno = 0;
    rc = fclose(w.f);
    w.f = NULL;
    w.fd = -1;
    if (rc != 0) {
        rc = snapshot_write_failed(&w, "close", errno);
        goto out;
    }
    if (rename(w.tmp, path) != 0) {
        rc = snapshot_write_failed(&w, "rename", errno);
        goto out;
    }
    free(w.tmp);
    w.tmp = NULL; /* it is path now: nothing to remove */
    rc = snapshot_sync_folder(&w);
out:
    if (w.f)
        fclose(w.f);
    else if (w.fd >= 0)
        close(w.fd);
    if (w.tmp) {
        unlink(w.tmp);
        free(w.tmp);
    }
    free(w.rec);
    if (st)
        *st = w.st;
    return rc;
}
