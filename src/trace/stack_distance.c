/*
 * stack_distance.c - Mattson's LRU stack distances with a Fenwick tree
 * (stack_distance.h).
 *
 * Model: every entry of the LRU stack holds one mark at a time slot, in
 * stack order (most recent = highest slot). An entry is a page (at the
 * slot of its last access) or a hole: the free cache slot a removed page
 * leaves in every cache that held it. The stack distance of an access to
 * the page at slot t is the number of marks after t; the page's mark then
 * moves to a new slot `now`. The access fills the topmost hole if that
 * hole is above the page (slot > t) or the page is cold: the hole's mark
 * goes and the page's old slot becomes a hole (caches too small to hold
 * the page had a free slot: no eviction; larger ones keep their free
 * count). Otherwise the page's old mark goes (plain move to front). This
 * keeps hits(C) exact for an LRU cache of C pages whose removals free a
 * slot; a removed page's next access is a cold miss.
 *
 * Data structures:
 *  - tree: Fenwick (binary indexed) tree over slots 1..slot_capacity,
 *    counting marks: prefix count and point update in O(log T);
 *  - slot_owner[t]: the page id whose mark is at slot t, HOLE, or NO_ID;
 *  - holes: a binary max-heap of the hole slots (topmost first);
 *  - last_slot[id]: the slot of page id's mark, 0 = not in the stack;
 *  - histogram[d]: accesses at distance d, grown as d grows;
 *  - keys: id_map from the record's page key to the dense id; per id its
 *    file (object index) and page, and per file (object index, a second
 *    id_map) the list of its page ids, for truncate and unlink.
 * When `now` reaches slot_capacity the live marks are renumbered 1..live
 * in their order (a scan of slot_owner) and the tree rebuilt in O(T); the
 * capacity is first doubled while live > capacity / 2, so there are at
 * least capacity / 2 accesses between compactions: O(1) amortised, and
 * memory stays O(pages).
 * Locking: none (one thread per object).
 */
#include "trace/stack_distance.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "trace/id_map.h"

#define NO_ID UINT32_MAX
#define HOLE (UINT32_MAX - 1)
#define NO_FILE UINT32_MAX
#define FIRST_CAPACITY 1024u

struct file_pages {
    uint32_t *ids;
    size_t count;
    size_t capacity;
};

struct stack_distance {
    /* the stack */
    uint32_t *tree;       /* Fenwick, 1-based, slot_capacity + 1 entries */
    uint32_t *slot_owner; /* slot_capacity + 1 entries */
    size_t slot_capacity;
    size_t now;           /* last slot used */
    uint64_t *last_slot;  /* by id */
    size_t id_capacity;
    uint64_t live;        /* pages in the stack */
    uint64_t entries;     /* marks: pages + holes */
    size_t *holes;        /* max-heap of hole slots */
    size_t hole_count;
    size_t hole_capacity;
    /* the counts */
    uint64_t *histogram;
    size_t histogram_len; /* entries in use: max distance + 1 */
    size_t histogram_capacity;
    uint64_t accesses;
    uint64_t cold;
    /* trace keys */
    struct id_map *pages;
    struct id_map *files;
    uint32_t *id_file;    /* by id: file index or NO_FILE (anonymous) */
    uint32_t *id_page;    /* by id: page index (file pages) */
    size_t id_info_capacity; /* of id_file and id_page */
    struct file_pages *file_pages; /* by file index */
    size_t file_capacity;
};

static int grow_array(void **array, size_t *capacity, size_t need, size_t size)
{
    size_t cap = *capacity ? *capacity : 16;
    void *p;

    if (need <= *capacity)
        return 0;
    while (cap < need)
        cap *= 2;
    p = realloc(*array, cap * size);
    if (!p)
        return -ENOMEM;
    memset((char *)p + *capacity * size, 0, (cap - *capacity) * size);
    *array = p;
    *capacity = cap;
    return 0;
}

static int hole_push(struct stack_distance *sd, size_t slot)
{
    size_t i;
    int rc = grow_array((void **)&sd->holes, &sd->hole_capacity, sd->hole_count + 1,
                        sizeof(*sd->holes));

    if (rc)
        return rc;
    for (i = sd->hole_count++; i > 0 && sd->holes[(i - 1) / 2] < slot; i = (i - 1) / 2)
        sd->holes[i] = sd->holes[(i - 1) / 2];
    sd->holes[i] = slot;
    return 0;
}

static void hole_pop(struct stack_distance *sd)
{
    size_t last = sd->holes[--sd->hole_count];
    size_t i = 0;

    for (;;) {
        size_t child = 2 * i + 1;

        if (child >= sd->hole_count)
            break;
        if (child + 1 < sd->hole_count && sd->holes[child + 1] > sd->holes[child])
            child++;
        if (sd->holes[child] <= last)
            break;
        sd->holes[i] = sd->holes[child];
        i = child;
    }
    sd->holes[i] = last;
}

static void tree_add(struct stack_distance *sd, size_t slot, int32_t delta)
{
    for (; slot <= sd->slot_capacity; slot += slot & -slot)
        sd->tree[slot] += (uint32_t)delta;
}

/* Marks at slots 1..slot. */
static uint64_t tree_prefix(const struct stack_distance *sd, size_t slot)
{
    uint64_t sum = 0;

    for (; slot > 0; slot -= slot & -slot)
        sum += sd->tree[slot];
    return sum;
}

/* Renumber live marks 1..live (after growing the slots if over half are
 * live) and rebuild the tree in O(capacity). */
static int compact_slots(struct stack_distance *sd)
{
    size_t cap = sd->slot_capacity;
    size_t next = 0;
    size_t holes_seen = 0;

    while (sd->entries > cap / 2)
        cap *= 2;
    if (cap != sd->slot_capacity) {
        uint32_t *tree = realloc(sd->tree, (cap + 1) * sizeof(*tree));
        uint32_t *owner;

        if (!tree)
            return -ENOMEM;
        sd->tree = tree;
        owner = realloc(sd->slot_owner, (cap + 1) * sizeof(*owner));
        if (!owner)
            return -ENOMEM;
        sd->slot_owner = owner;
        for (size_t t = sd->slot_capacity + 1; t <= cap; t++)
            owner[t] = NO_ID;
    }
    for (size_t t = 1; t <= sd->now; t++) {
        uint32_t id = sd->slot_owner[t];

        if (id == NO_ID)
            continue;
        sd->slot_owner[t] = NO_ID;
        sd->slot_owner[++next] = id;
        if (id == HOLE) /* ascending: stored from the end, a max-heap */
            sd->holes[sd->hole_count - 1 - holes_seen++] = next;
        else
            sd->last_slot[id] = next;
    }
    sd->slot_capacity = cap;
    sd->now = next;
    /* linear Fenwick build: each node passes its sum to its parent */
    for (size_t t = 1; t <= cap; t++)
        sd->tree[t] = t <= next ? 1 : 0;
    for (size_t t = 1; t <= cap; t++) {
        size_t parent = t + (t & -t);

        if (parent <= cap)
            sd->tree[parent] += sd->tree[t];
    }
    return 0;
}

int stack_distance_create(struct stack_distance **out)
{
    struct stack_distance *sd = calloc(1, sizeof(*sd));
    int rc = -ENOMEM;

    if (!sd)
        return -ENOMEM;
    sd->slot_capacity = FIRST_CAPACITY;
    sd->tree = calloc(FIRST_CAPACITY + 1, sizeof(*sd->tree));
    sd->slot_owner = malloc((FIRST_CAPACITY + 1) * sizeof(*sd->slot_owner));
    if (!sd->tree || !sd->slot_owner)
        goto out;
    for (size_t t = 0; t <= FIRST_CAPACITY; t++)
        sd->slot_owner[t] = NO_ID;
    rc = id_map_create(&sd->pages);
    if (rc)
        goto out;
    rc = id_map_create(&sd->files);
    if (rc)
        goto out;
    *out = sd;
    return 0;
out:
    stack_distance_destroy(sd);
    return rc;
}

void stack_distance_destroy(struct stack_distance *sd)
{
    if (!sd)
        return;
    free(sd->tree);
    free(sd->slot_owner);
    free(sd->last_slot);
    free(sd->histogram);
    free(sd->holes);
    if (sd->pages)
        id_map_destroy(sd->pages);
    if (sd->files)
        id_map_destroy(sd->files);
    free(sd->id_file);
    free(sd->id_page);
    for (size_t f = 0; f < sd->file_capacity; f++)
        free(sd->file_pages[f].ids);
    free(sd->file_pages);
    free(sd);
}

int stack_distance_access(struct stack_distance *sd, uint32_t id, uint64_t *distance)
{
    uint64_t d = STACK_DISTANCE_COLD;
    size_t prev;
    int rc;

    if (id == NO_ID)
        return -EOVERFLOW;
    rc = grow_array((void **)&sd->last_slot, &sd->id_capacity, (size_t)id + 1,
                    sizeof(*sd->last_slot));
    if (rc)
        return rc;
    if (sd->now == sd->slot_capacity) {
        rc = compact_slots(sd);
        if (rc)
            return rc;
    }
    /* room for a hole made below (the heap never exceeds the marks) */
    rc = grow_array((void **)&sd->holes, &sd->hole_capacity, sd->hole_count + 1,
                    sizeof(*sd->holes));
    if (rc)
        return rc;
    prev = sd->last_slot[id];
    if (prev) {
        d = sd->entries - tree_prefix(sd, prev);
        if (d >= sd->histogram_len) {
            rc = grow_array((void **)&sd->histogram, &sd->histogram_capacity, d + 1,
                            sizeof(*sd->histogram));
            if (rc)
                return rc;
            sd->histogram_len = d + 1;
        }
        sd->histogram[d]++;
    } else {
        sd->cold++;
        sd->live++;
    }
    if (sd->hole_count && (!prev || sd->holes[0] > prev)) {
        /* fill the topmost hole; the old slot (if any) becomes one */
        tree_add(sd, sd->holes[0], -1);
        sd->slot_owner[sd->holes[0]] = NO_ID;
        hole_pop(sd);
        if (prev) {
            sd->slot_owner[prev] = HOLE;
            hole_push(sd, prev); /* cannot fail: room made above */
        }
    } else if (prev) {
        tree_add(sd, prev, -1);
        sd->slot_owner[prev] = NO_ID;
    } else {
        sd->entries++;
    }
    sd->now++;
    tree_add(sd, sd->now, 1);
    sd->slot_owner[sd->now] = id;
    sd->last_slot[id] = sd->now;
    sd->accesses++;
    if (distance)
        *distance = d;
    return 0;
}

int stack_distance_remove(struct stack_distance *sd, uint32_t id)
{
    size_t slot;
    int rc;

    if (id >= sd->id_capacity || !sd->last_slot[id])
        return 0;
    slot = sd->last_slot[id];
    rc = hole_push(sd, slot);
    if (rc)
        return rc;
    sd->slot_owner[slot] = HOLE;
    sd->last_slot[id] = 0;
    sd->live--;
    return 0;
}

/* The id of a page key (adding it: file index and page recorded). */
static int page_id(struct stack_distance *sd, bool file, uint64_t object, uint64_t page,
                   uint32_t *id)
{
    uint64_t key[3] = {file ? 1u : 2u, object, page};
    uint32_t file_index = NO_FILE;
    bool added;
    int rc;

    rc = id_map_get(sd->pages, key, sizeof(key), id, &added);
    if (rc || !added)
        return rc;
    if (file) {
        struct file_pages *fp;
        bool new_file;

        rc = id_map_get(sd->files, &object, sizeof(object), &file_index, &new_file);
        if (rc)
            return rc;
        rc = grow_array((void **)&sd->file_pages, &sd->file_capacity, (size_t)file_index + 1,
                        sizeof(*sd->file_pages));
        if (rc)
            return rc;
        fp = &sd->file_pages[file_index];
        rc = grow_array((void **)&fp->ids, &fp->capacity, fp->count + 1, sizeof(*fp->ids));
        if (rc)
            return rc;
        fp->ids[fp->count++] = *id;
    }
    {
        size_t page_capacity = sd->id_info_capacity;

        /* id_page first: if id_file then fails, id_page is merely larger */
        rc = grow_array((void **)&sd->id_page, &page_capacity, (size_t)*id + 1,
                        sizeof(*sd->id_page));
        if (rc)
            return rc;
        rc = grow_array((void **)&sd->id_file, &sd->id_info_capacity, (size_t)*id + 1,
                        sizeof(*sd->id_file));
        if (rc)
            return rc;
    }
    sd->id_file[*id] = file_index;
    sd->id_page[*id] = (uint32_t)page;
    return 0;
}

/* Remove the pages >= first_page of file object (all when 0). */
static int remove_file_pages(struct stack_distance *sd, uint64_t object, uint64_t first_page)
{
    uint32_t file_index;
    bool added;
    int rc = id_map_get(sd->files, &object, sizeof(object), &file_index, &added);

    if (rc || file_index >= sd->file_capacity)
        return rc;
    for (size_t i = 0; i < sd->file_pages[file_index].count; i++) {
        uint32_t id = sd->file_pages[file_index].ids[i];

        if (sd->id_page[id] >= first_page) {
            rc = stack_distance_remove(sd, id);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int stack_distance_add_record(struct stack_distance *sd, const struct trace_record *rec)
{
    uint32_t id;
    int rc;

    switch (rec->op) {
    case TRACE_OP_READ:
    case TRACE_OP_WRITE:
        rc = page_id(sd, true, rec->object, rec->value, &id);
        return rc ? rc : stack_distance_access(sd, id, NULL);
    case TRACE_OP_AREAD:
    case TRACE_OP_AWRITE:
        rc = page_id(sd, false, 0, rec->value, &id);
        return rc ? rc : stack_distance_access(sd, id, NULL);
    case TRACE_OP_AFREE:
        rc = page_id(sd, false, 0, rec->value, &id);
        return rc ? rc : stack_distance_remove(sd, id);
    case TRACE_OP_TRUNCATE:
        return remove_file_pages(sd, rec->object, rec->value);
    case TRACE_OP_UNLINK:
        return remove_file_pages(sd, rec->object, 0);
    case TRACE_OP_CAPACITY:
    default:
        return 0;
    }
}

uint64_t stack_distance_accesses(const struct stack_distance *sd)
{
    return sd->accesses;
}

uint64_t stack_distance_cold_misses(const struct stack_distance *sd)
{
    return sd->cold;
}

uint64_t stack_distance_live_pages(const struct stack_distance *sd)
{
    return sd->live;
}

uint64_t stack_distance_max_useful_size(const struct stack_distance *sd)
{
    return sd->histogram_len;
}

uint64_t stack_distance_hits(const struct stack_distance *sd, uint64_t cache_pages)
{
    uint64_t hits = 0;

    for (size_t d = 0; d < sd->histogram_len && d < cache_pages; d++)
        hits += sd->histogram[d];
    return hits;
}

int stack_distance_hits_many(const struct stack_distance *sd, const uint64_t *sizes, size_t n,
                             uint64_t *hits)
{
    uint64_t sum = 0;
    size_t d = 0;

    for (size_t i = 0; i < n; i++) {
        if (sizes[i] < d) { /* out of order: count afresh */
            hits[i] = stack_distance_hits(sd, sizes[i]);
            continue;
        }
        while (d < sd->histogram_len && d < sizes[i])
            sum += sd->histogram[d++];
        hits[i] = sum;
    }
    return 0;
}

int stack_distance_write_csv(const struct stack_distance *sd, const uint64_t *sizes, size_t n,
                             FILE *f)
{
    uint64_t *hits = malloc((n ? n : 1) * sizeof(*hits));

    if (!hits)
        return -ENOMEM;
    stack_distance_hits_many(sd, sizes, n, hits);
    fprintf(f, "pages,hits,misses,hit_ratio\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%llu,%llu,%llu,%.6f\n", (unsigned long long)sizes[i],
                (unsigned long long)hits[i], (unsigned long long)(sd->accesses - hits[i]),
                sd->accesses ? (double)hits[i] / (double)sd->accesses : 0.0);
    free(hits);
    return ferror(f) ? -EIO : 0;
}
