/*
 * omrest_map.h -- a small string-to-string hash map, the metadata-rest sink's caches (names to
 * OpenMetadata ids, users, entities seen this run). Keys and values are copied. One thread.
 */
#ifndef HOST_OMREST_MAP_H
#define HOST_OMREST_MAP_H

#include <stddef.h>

struct host_om_map;

/* Returns an empty map, or NULL on OOM. Owned by the caller; free with host_om_map_free. */
struct host_om_map *host_om_map_new(void);

/* NULL-safe; sets *map to NULL. */
void host_om_map_free(struct host_om_map **map);

/* Sets key to value (both copied), replacing any earlier value. Returns 0, or -1 on OOM. */
int host_om_map_set(struct host_om_map *map, const char *key, const char *value);

/* The value of key (borrowed until the key is set again or the map freed), or NULL. */
const char *host_om_map_get(const struct host_om_map *map, const char *key);

size_t host_om_map_size(const struct host_om_map *map);

/* Copies every key into a malloc'd array of malloc'd strings (*keys, caller frees each and the
 * array); returns the count, or 0 with *keys NULL when empty or on OOM. */
size_t host_om_map_keys(const struct host_om_map *map, char ***keys);

/* Removes every entry. */
void host_om_map_clear(struct host_om_map *map);

#endif
