/*
 * replace.c - the guest kernel's page replacement, CLOCK or LRU
 * (replace.h).
 *
 * Data: per frame an in-use byte, CLOCK's referenced byte and a pair of
 * LRU links (an index_list over the frame array, head = least recently
 * used). CLOCK keeps its hand; LRU keeps its list. Locking: none; the
 * owning guest model holds its own lock around every call.
 */
#include "guest/replace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int guest_replace_init(struct guest_replace *r, enum guest_replace_policy policy,
                       uint32_t nframes)
{
    memset(r, 0, sizeof(*r));
    if (nframes == 0 || nframes == GUEST_REPLACE_NONE ||
        (policy != GUEST_REPLACE_CLOCK && policy != GUEST_REPLACE_LRU))
        return -EINVAL;
    r->policy = policy;
    r->nframes = nframes;
    index_list_init(&r->lru, GUEST_REPLACE_NONE);
    r->in_use = calloc(nframes, 1);
    r->referenced = calloc(nframes, 1);
    if (policy == GUEST_REPLACE_LRU)
        r->links = malloc((size_t)nframes * sizeof(*r->links));
    if (!r->in_use || !r->referenced || (policy == GUEST_REPLACE_LRU && !r->links)) {
        guest_replace_destroy(r);
        return -ENOMEM;
    }
    for (uint32_t i = 0; r->links && i < nframes; i++)
        index_list_links_clear(&r->lru, &r->links[i]);
    return 0;
}

void guest_replace_destroy(struct guest_replace *r)
{
    free(r->in_use);
    free(r->referenced);
    free(r->links);
    r->in_use = r->referenced = NULL;
    r->links = NULL;
}

void guest_replace_insert(struct guest_replace *r, uint32_t frame)
{
    r->in_use[frame] = 1;
    r->referenced[frame] = 1;
    r->used++;
    if (r->policy == GUEST_REPLACE_LRU)
        index_list_push_tail(&r->lru, index_list_array, r->links, frame);
}

void guest_replace_touch(struct guest_replace *r, uint32_t frame)
{
    r->referenced[frame] = 1;
    if (r->policy == GUEST_REPLACE_LRU)
        index_list_move_to_tail(&r->lru, index_list_array, r->links, frame);
}

void guest_replace_remove(struct guest_replace *r, uint32_t frame)
{
    if (!r->in_use[frame])
        return;
    r->in_use[frame] = 0;
    r->referenced[frame] = 0;
    r->used--;
    if (r->policy == GUEST_REPLACE_LRU)
        index_list_remove(&r->lru, index_list_array, r->links, frame);
}

bool guest_replace_in_use(const struct guest_replace *r, uint32_t frame)
{
    return r->in_use[frame] != 0;
}

uint32_t guest_replace_victim(struct guest_replace *r)
{
    if (r->policy == GUEST_REPLACE_LRU || r->used == 0)
        return r->lru.head; /* GUEST_REPLACE_NONE when empty */
    /* At most two sweeps: the first clears every referenced bit. */
    for (uint64_t n = 0; n < 2ULL * r->nframes + 1; n++) {
        uint32_t f = r->hand;

        r->hand = r->hand + 1 == r->nframes ? 0 : r->hand + 1;
        if (!r->in_use[f])
            continue;
        if (r->referenced[f]) {
            r->referenced[f] = 0;
            continue;
        }
        return f;
    }
    return GUEST_REPLACE_NONE;
}

int guest_replace_parse(const char *text, enum guest_replace_policy *policy)
{
    if (text && strcmp(text, "clock") == 0) {
        *policy = GUEST_REPLACE_CLOCK;
        return 0;
    }
    if (text && strcmp(text, "lru") == 0) {
        *policy = GUEST_REPLACE_LRU;
        return 0;
    }
    return -EINVAL;
}

const char *guest_replace_name(enum guest_replace_policy policy)
{
    return policy == GUEST_REPLACE_LRU ? "lru" : "clock";
}
