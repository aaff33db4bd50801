/*
 * id_map.h - dense ids for the keys of a trace converter: each distinct key
 * (a device name, a file name, an object id as 8 bytes) gets 0, 1, 2, ...
 * in order of first appearance, so a replayer indexes arrays instead of
 * hashing.
 *
 * Ownership and threads: a map is used by one thread; keys are copied.
 */
#ifndef TRACE_ID_MAP_H
#define TRACE_ID_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_MAP_MAX_IDS 0xfffffffeu

struct id_map;

/* A new empty map: 0 or -ENOMEM. */
int id_map_create(struct id_map **out);
void id_map_destroy(struct id_map *m);
/*
 * The id of the len bytes at key, giving the next id to a key not seen
 * before (*added true then). Returns 0, -ENOMEM, or -EOVERFLOW when the
 * map already holds ID_MAP_MAX_IDS keys.
 */
int id_map_get(struct id_map *m, const void *key, size_t len, uint32_t *id, bool *added);
/* Keys held. */
uint32_t id_map_count(const struct id_map *m);

#endif /* TRACE_ID_MAP_H */
