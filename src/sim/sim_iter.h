/*
 * List-records iterators: the record ids a listing matched, kept so later
 * pages of the same listing read a stable set. An offset names an iterator
 * and the next record; iterators expire after a time without use, as
 * Airtable's do (the client then gets LIST_RECORDS_ITERATOR_NOT_AVAILABLE
 * and lists again).
 */
#ifndef SCOUT_SIM_SIM_ITER_H
#define SCOUT_SIM_SIM_ITER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sim/sim_base.h"

#define SIM_MAX_ITERS 1000

struct sim_iter {
	char id[SIM_ID_MAX];
	char base[SIM_ID_MAX];
	char table[SIM_ID_MAX];
	char sig[65];		/* hash of the options that decide the matched set */
	json_t *ids;		/* matched record ids in listing order */
	int64_t last_used;	/* monotonic ms */
};

struct sim_iters {
	struct sim_iter *v;
	size_t n, cap;
};

void sim_iters_init(struct sim_iters *it);
void sim_iters_free(struct sim_iters *it);
/* Drop iterators unused for ttl_ms. */
void sim_iters_expire(struct sim_iters *it, int64_t now, int64_t ttl_ms);
void sim_iters_clear(struct sim_iters *it);
/* Keep ids (reference stolen); the new iterator's id goes to out. */
int sim_iters_add(struct sim_iters *it, const char *base, const char *table, const char *sig,
		  json_t *ids, int64_t now, char out[SIM_ID_MAX]) SCOUT_MUST;
struct sim_iter *sim_iters_find(struct sim_iters *it, const char *id);

#endif
