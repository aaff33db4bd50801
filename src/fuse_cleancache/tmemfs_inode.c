/*
 * tmemfs_inode.c - the inode table of a mount (tmemfs_inode.h).
 *
 * Data: a chained hash table of struct tmemfs_inode keyed by the backing
 * (st_dev, st_ino) through hash_mix64, doubled when it holds more inodes
 * than buckets. Each inode owns one O_PATH descriptor; a hard link looked
 * up under another name finds the same inode (its new descriptor is
 * closed). Locking: one mutex around the table and every nlookup; it is
 * taken alone (no other lock of tmemfs is held or taken under it).
 */
#include "fuse_cleancache/tmemfs_inode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/hash.h"

static size_t tmemfs_inode_bucket(const struct tmemfs_inode_table *t, dev_t dev, ino_t ino)
{
    return (size_t)(hash_combine(hash_mix64((uint64_t)dev), (uint64_t)ino) & (t->nbuckets - 1));
}

int tmemfs_inode_table_init(struct tmemfs_inode_table *t, int root_fd)
{
    struct stat st;

    memset(t, 0, sizeof(*t));
    if (fstat(root_fd, &st) < 0)
        return -errno;
    t->nbuckets = 1024;
    t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
    if (!t->buckets)
        return -ENOMEM;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t->buckets);
        t->buckets = NULL;
        return -ENOMEM;
    }
    t->root.kind = TMEMFS_INODE_BACKING;
    t->root.fd = root_fd;
    t->root.dev = st.st_dev;
    t->root.ino = st.st_ino;
    t->root.type = S_IFDIR;
    t->root.nlookup = 1;
    return 0;
}

void tmemfs_inode_table_destroy(struct tmemfs_inode_table *t)
{
    if (!t->buckets)
        return;
    for (size_t b = 0; b < t->nbuckets; b++) {
        struct tmemfs_inode *i = t->buckets[b], *next;
        for (; i; i = next) {
            next = i->hnext;
            close(i->fd);
            free(i);
        }
    }
    free(t->buckets);
    t->buckets = NULL;
    t->count = 0;
    pthread_mutex_destroy(&t->lock);
}

/* Double the buckets (table lock held); on allocation failure the table
 * just stays as it is (longer chains). */
static void tmemfs_inode_table_grow(struct tmemfs_inode_table *t)
{
    size_t n = t->nbuckets * 2, old = t->nbuckets;
    struct tmemfs_inode **nb = calloc(n, sizeof(*nb)), **ob = t->buckets;

    if (!nb)
        return;
    t->buckets = nb;
    t->nbuckets = n;
    for (size_t b = 0; b < old; b++) {
        struct tmemfs_inode *i = ob[b], *next;
        for (; i; i = next) {
            size_t h = tmemfs_inode_bucket(t, i->dev, i->ino);
            next = i->hnext;
            i->hnext = nb[h];
            nb[h] = i;
        }
    }
    free(ob);
}

struct tmemfs_inode *tmemfs_inode_get(struct tmemfs_inode_table *t, int fd,
                                      const struct statx *stx, int *err)
{
    dev_t dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
    ino_t ino = (ino_t)stx->stx_ino;
    struct tmemfs_inode *i, *fresh;
    size_t h;

    if (dev == t->root.dev && ino == t->root.ino) {
        /* the root reached again (a bind mount loop, or "..": refused) */
        close(fd);
        *err = -ELOOP;
        return NULL;
    }
    fresh = calloc(1, sizeof(*fresh));
    pthread_mutex_lock(&t->lock);
    h = tmemfs_inode_bucket(t, dev, ino);
    for (i = t->buckets[h]; i; i = i->hnext) {
        if (i->dev == dev && i->ino == ino) {
            i->nlookup++;
            pthread_mutex_unlock(&t->lock);
            free(fresh);
            close(fd);
            return i;
        }
    }
    if (!fresh) {
        pthread_mutex_unlock(&t->lock);
        close(fd);
        *err = -ENOMEM;
        return NULL;
    }
    fresh->kind = TMEMFS_INODE_BACKING;
    fresh->fd = fd;
    fresh->dev = dev;
    fresh->ino = ino;
    fresh->type = stx->stx_mode & S_IFMT;
    fresh->nlookup = 1;
    fresh->hnext = t->buckets[h];
    t->buckets[h] = fresh;
    if (++t->count > t->nbuckets)
        tmemfs_inode_table_grow(t);
    pthread_mutex_unlock(&t->lock);
    return fresh;
}

void tmemfs_inode_forget(struct tmemfs_inode_table *t, struct tmemfs_inode *inode, uint64_t n)
{
    struct tmemfs_inode **pp;

    if (inode == &t->root || inode->kind != TMEMFS_INODE_BACKING)
        return;
    pthread_mutex_lock(&t->lock);
    inode->nlookup = inode->nlookup > n ? inode->nlookup - n : 0;
    if (inode->nlookup > 0) {
        pthread_mutex_unlock(&t->lock);
        return;
    }
    for (pp = &t->buckets[tmemfs_inode_bucket(t, inode->dev, inode->ino)]; *pp;
         pp = &(*pp)->hnext) {
        if (*pp == inode) {
            *pp = inode->hnext;
            t->count--;
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
    close(inode->fd);
    free(inode);
}

void tmemfs_inode_proc_path(const struct tmemfs_inode *inode, char *buf, size_t size)
{
    snprintf(buf, size, "/proc/self/fd/%d", inode->fd);
}
