/*
 * Shared scoring core of the match engine: the component formulas take their
 * cosines through a callback so the float path (match_score_one) and the
 * quantized pool path (match_rank) compute exactly the same formulas.
 */
#ifndef SCOUT_MATCH_INTERNAL_H
#define SCOUT_MATCH_INTERNAL_H

#include "match/match.h"

#define MATCH_MAX_JOB_SKILLS 128
#define MATCH_MAX_CAND_SKILLS 256
#define MATCH_MAX_ITEMS 64 /* positions, projects */

/* Job slots for the cosine callback. */
#define MJ_ROLE MN_COUNT
#define MJ_SKILL0 (MN_COUNT + 1)

/* Cosine in [-1,1] between candidate slot cs and job slot js, NAN when either
 * vector is missing. Candidate slots: narratives, positions, projects, skills. */
typedef double (*match_cos_fn)(const void *ctx, int cs, int js);

struct match_core_in {
	match_cos_fn cos;
	const void *ctx;
	int n_pos, n_proj, n_skills;
	const float *ratings;       /* n_skills */
	/* per job skill: the candidate skill matched to it or -1. Matched = the
	 * same canonical name, else the first skill with the most similar name
	 * vector if that cosine is >= skill_sim_threshold (docs/matching.md) */
	const int *skill_match;
	int job_n_skills;
	const int *must_have;       /* per job skill, may be NULL */
	double comp_min, comp_max, sal_min, sal_max;
	double cand_tz, job_tz;     /* UTC offsets in hours, NAN unknown */
	const char *work_setup;
	double years, min_years;
	int verified, highlighted;
};

void match_components(const struct match_core_in *in, const struct match_weights *w,
		      struct match_result *r);

#endif
