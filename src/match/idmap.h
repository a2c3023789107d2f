/*
 * String -> int map (open addressing, linear probing) used by the match pool
 * for record ids -> slots and for interning skill names and timezones.
 */
#ifndef SCOUT_MATCH_IDMAP_H
#define SCOUT_MATCH_IDMAP_H

#include <stddef.h>

#include "core/err.h"

struct idmap {
	char **keys;
	int *vals;
	size_t cap, len;
};

void idmap_init(struct idmap *m);
void idmap_free(struct idmap *m);
/* -1 when absent. */
int idmap_get(const struct idmap *m, const char *key);
/* Insert or overwrite; copies the key. */
int idmap_put(struct idmap *m, const char *key, int val) SCOUT_MUST;
/* 1 when removed, 0 when absent. */
int idmap_del(struct idmap *m, const char *key);

#endif
