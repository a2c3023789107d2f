/*
 * String -> int map for the match pool: few allocations, O(1) lookups so an
 * incremental refresh of 100,000 candidates stays linear.
 */
#include "match/idmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void idmap_init(struct idmap *m)
{
	memset(m, 0, sizeof *m);
}

void idmap_free(struct idmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

static size_t find_slot(const struct idmap *m, const char *key)
{
	size_t i = (size_t)hash_str(key) & (m->cap - 1);

	while (m->keys[i] && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

int idmap_get(const struct idmap *m, const char *key)
{
	size_t i;

	if (m->cap == 0 || !key)
		return -1;
	i = find_slot(m, key);
	return m->keys[i] ? m->vals[i] : -1;
}

/* Doubling keeps the load factor under one half so probe runs stay short. */
static int grow(struct idmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	struct idmap n = { 0 };

	n.keys = calloc(ncap, sizeof *n.keys);
	n.vals = calloc(ncap, sizeof *n.vals);
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return -1;
	}
	n.cap = ncap;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t j = find_slot(&n, m->keys[i]);
		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
		n.len++;
	}
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

int idmap_put(struct idmap *m, const char *key, int val)
{
	size_t i;

	if (!key)
		return -1;
	if ((m->len + 1) * 2 > m->cap && grow(m) != 0)
		return -1;
	i = find_slot(m, key);
	if (!m->keys[i]) {
		m->keys[i] = xstrdup(key);
		if (!m->keys[i])
			return -1;
		m->len++;
	}
	m->vals[i] = val;
	return 0;
}

/* Backward-shift deletion: no tombstones, so lookups never degrade. */
int idmap_del(struct idmap *m, const char *key)
{
	size_t i, j;

	if (m->cap == 0 || !key)
		return 0;
	i = find_slot(m, key);
	if (!m->keys[i])
		return 0;
	free(m->keys[i]);
	m->keys[i] = NULL;
	m->len--;
	j = i;
	for (;;) {
		j = (j + 1) & (m->cap - 1);
		if (!m->keys[j])
			break;
		size_t home = (size_t)hash_str(m->keys[j]) & (m->cap - 1);
		/* move j back to i when home is not cyclically in (i, j] */
		int in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
		if (!in_range) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->keys[j] = NULL;
			i = j;
		}
	}
	return 1;
}
