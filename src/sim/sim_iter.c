/* List-records iterators behind Airtable's opaque offsets (see sim_iter.h). */
#include "sim/sim_iter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void sim_iters_init(struct sim_iters *it)
{
	memset(it, 0, sizeof(*it));
}

void sim_iters_clear(struct sim_iters *it)
{
	for (size_t i = 0; i < it->n; i++)
		json_decref(it->v[i].ids);
	it->n = 0;
}

void sim_iters_free(struct sim_iters *it)
{
	sim_iters_clear(it);
	free(it->v);
	memset(it, 0, sizeof(*it));
}

static void drop(struct sim_iters *it, size_t i)
{
	json_decref(it->v[i].ids);
	it->v[i] = it->v[--it->n];
}

void sim_iters_expire(struct sim_iters *it, int64_t now, int64_t ttl_ms)
{
	for (size_t i = 0; i < it->n;) {
		if (now - it->v[i].last_used >= ttl_ms)
			drop(it, i);
		else
			i++;
	}
}

int sim_iters_add(struct sim_iters *it, const char *base, const char *table, const char *sig,
		  json_t *ids, int64_t now, char out[SIM_ID_MAX])
{
	struct sim_iter *x;

	if (it->n == SIM_MAX_ITERS) {
		/* full: the least recently used listing loses its iterator */
		size_t old = 0;
		for (size_t i = 1; i < it->n; i++)
			if (it->v[i].last_used < it->v[old].last_used)
				old = i;
		drop(it, old);
	}
	if (it->n == it->cap) {
		size_t ncap = it->cap ? it->cap * 2 : 16, bytes;
		struct sim_iter *p;
		if (size_mul(ncap, sizeof(*p), &bytes) < 0 || !(p = realloc(it->v, bytes))) {
			json_decref(ids);
			return -1;
		}
		it->v = p;
		it->cap = ncap;
	}
	x = &it->v[it->n++];
	memset(x, 0, sizeof(*x));
	sim_new_id(x->id, "itr");
	snprintf(x->base, sizeof(x->base), "%s", base);
	snprintf(x->table, sizeof(x->table), "%s", table);
	snprintf(x->sig, sizeof(x->sig), "%s", sig);
	x->ids = ids;
	x->last_used = now;
	memcpy(out, x->id, SIM_ID_MAX);
	return 0;
}

struct sim_iter *sim_iters_find(struct sim_iters *it, const char *id)
{
	for (size_t i = 0; i < it->n; i++)
		if (strcmp(it->v[i].id, id) == 0)
			return &it->v[i];
	return NULL;
}
