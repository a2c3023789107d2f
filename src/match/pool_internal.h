/*
 * The match pool's layout, shared by pool.c (refresh) and rank.c (scan).
 * Every vector is L2-normalized and stored as int8 with one float scale, so
 * a cosine is one int8 dot product times two scales; dim is padded to a
 * multiple of 64 with zeros so the dot kernel vectorizes without a tail.
 */
#ifndef SCOUT_MATCH_POOL_INTERNAL_H
#define SCOUT_MATCH_POOL_INTERNAL_H

#include <stdint.h>

#include "match/idmap.h"
#include "match/match.h"

struct mcand {
	char id[32];
	int n_pos, n_proj, n_skills, nvec; /* nvec = MN_COUNT + n_pos + n_proj + n_skills */
	int8_t *q;                         /* nvec * pdim */
	float *scale;                      /* nvec; 0 = missing vector */
	int *skill_ids;                    /* interned canonical names */
	float *ratings;
	double comp_min, comp_max, years;
	int tz_id;                         /* -1 unknown */
	int excluded, verified, highlighted;
};

/*
 * Storage row of candidate slot cs (slots: narratives, positions, projects,
 * skills). The rows the scan reads for every candidate come first and in a
 * run (experience, domain, personality, positions, projects), then impact
 * and technical, then skills: one sequential stream per candidate.
 */
static inline size_t mcand_row(const struct mcand *c, int cs)
{
	int items = c->n_pos + c->n_proj;

	if (cs < MN_IMPACT)
		return (size_t)cs;
	if (cs < MN_COUNT)
		return (size_t)(MN_IMPACT + items + (cs - MN_IMPACT));
	if (cs < MN_COUNT + items)
		return (size_t)(cs - (MN_COUNT - MN_IMPACT));
	return (size_t)cs;
}

struct match_pool {
	int dim, pdim;
	struct mcand **c;
	size_t n, cap;
	struct idmap ids, skills, zones;
	/* per interned skill name (id = index): its name vector, scale 0 = none */
	int8_t *name_q;
	float *name_scale;
	size_t names_cap;
	char **zone_names;
	size_t n_zones, zones_cap;
};

/* Quantize one float vector (NULL or NaN-filled = missing) into q[pdim]; returns the scale. */
float match_quantize(const float *v, int dim, int pdim, int8_t *q);
/* int8 dot product over pdim (a multiple of 64) values in [-127, 127]: AVX2
 * when the CPU has it; the portable kernel gives the same sums (tests). */
int32_t match_dot_i8(const int8_t *a, const int8_t *b, int pdim);
int32_t match_dot_i8_portable(const int8_t *a, const int8_t *b, int pdim);

#endif
