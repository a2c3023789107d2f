/*
 * Matchmaking score engine: ranks every candidate of an in-memory pool for one
 * job (vector similarity, skill fit, compensation, location, seniority), with
 * exclusions, the verified boost and the highlight rule. Pure computation, no
 * I/O; the formulas and the reasons for them are in docs/matching.md.
 */
#ifndef SCOUT_MATCH_MATCH_H
#define SCOUT_MATCH_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MATCH_TOP 20

enum match_narrative { MN_EXPERIENCE, MN_DOMAIN, MN_PERSONALITY, MN_IMPACT, MN_TECHNICAL, MN_COUNT };

struct match_weights {
	double vector, skills, comp, location;  /* 0.40 0.40 0.10 0.10 */
	double v_role, v_domain, v_culture;     /* 0.40 0.35 0.25 */
	double s_coverage, s_semantic;          /* 0.80 0.20 */
	double must_have, nice_to_have;         /* 2.0 1.0 */
	double skill_sim_threshold;             /* 0.80: skill matched by name-vector similarity */
	double seniority_penalty_per_year, seniority_penalty_max; /* 0.05, 0.25 */
	double verified_boost;                  /* 0.03 */
	/* Highlight rule: up to highlight_slots highlighted candidates are placed in the
	 * top k when their score >= (k-th score - highlight_margin). */
	int highlight_slots;                    /* 3 */
	double highlight_margin;                /* 0.10 */
};

void match_weights_default(struct match_weights *w);

/* One candidate as the loader hands it over (vectors are float32, dim each; NULL = missing). */
struct match_candidate_in {
	const char *record_id;
	const float *narrative[MN_COUNT];
	const float *positions; size_t n_positions; /* n_positions * dim */
	const float *projects;  size_t n_projects;
	/* canonical names, ratings 1-10, n_skills*dim vectors of the skill with its
	 * evidence (rows may be NaN-filled when missing; skill_vectors itself may
	 * be NULL) */
	const char *const *skill_names; const float *skill_ratings; const float *skill_vectors; size_t n_skills;
	/* n_skills*dim vectors of the bare canonical names, same conventions; the
	 * pool keeps one per distinct name (see match_pool_skill_vector_put) */
	const float *skill_name_vectors;
	double comp_min_usd, comp_max_usd;          /* NAN = unknown */
	const char *timezone;                       /* IANA or NULL */
	double years_experience;                    /* NAN = unknown */
	int excluded, verified, highlighted;
};

/* Compact in-memory pool: every vector L2-normalized and stored as int8 with
 * one scale, and one vector per distinct canonical skill name. */
struct match_pool;

struct match_pool *match_pool_new(int dim, serr *e);
void match_pool_free(struct match_pool *p);
/* Insert or replace a candidate (incremental refresh); copies everything it keeps. */
int match_pool_upsert(struct match_pool *p, const struct match_candidate_in *c, serr *e) SCOUT_MUST;
/* 1 when removed, 0 when the record was not in the pool. */
int match_pool_remove(struct match_pool *p, const char *record_id);
size_t match_pool_size(const struct match_pool *p);
/* Set the vector of a canonical skill name (replacing any earlier one); a
 * candidate's skills are matched to a job's through these name vectors. */
int match_pool_skill_vector_put(struct match_pool *p, const char *name, const float *v,
				serr *e) SCOUT_MUST;
/* 1 when the name is in the pool and has a vector. */
int match_pool_skill_vector_has(const struct match_pool *p, const char *name);

struct match_job_in {
	const char *record_id;
	const float *narrative[MN_COUNT]; const float *role; /* role narrative vector */
	/* expected capability vectors (skill_vectors may be NULL, rows may be NaN) */
	const char *const *skill_names; const float *skill_vectors; const int *must_have; size_t n_skills;
	/* n_skills*dim vectors of the bare names (may be NULL, rows may be NaN; the
	 * pool's vector for the same name is used when a row is missing) */
	const float *skill_name_vectors;
	double salary_min_usd, salary_max_usd;      /* NAN = unknown */
	const char *timezone; const char *work_setup; /* remote|hybrid|onsite or NULL */
	double min_years;                           /* NAN = unknown */
	const char *const *rejected; size_t n_rejected; /* candidates a recruiter rejected for this job */
};

struct match_result {
	char record_id[32];
	double score, vector, skills, comp, location, penalty, boost;
	double v_role, v_domain, v_culture, s_coverage, s_semantic;
	int verified, highlighted, surfaced_by_highlight;
};

struct match_exclusion {
	char record_id[32];
	double score;
	const char *reason; /* "fraud", "rejected for this job" (static strings) */
};

/* What one ranking read and computed (for the benchmark and the run log). */
struct match_rank_stats {
	uint64_t candidates;   /* candidates scored */
	uint64_t vectors_read; /* distinct candidate vectors read, summed over candidates */
	uint64_t dots;         /* int8 dot products over candidate vectors */
	uint64_t name_dots;    /* job skill name x pool skill name dot products */
	int threads;
};

/* Rank every candidate for the job with all cores (threads = 0: online CPUs); top k
 * results, best first, ties broken deterministically (score, then record id);
 * exclusions near the top reported (up to k). out holds k entries, excl k entries
 * (excl/n_excl may be NULL); stats may be NULL. */
int match_rank(const struct match_pool *p, const struct match_job_in *job, const struct match_weights *w,
	       int threads, size_t k, struct match_result *out, size_t *n_out,
	       struct match_exclusion *excl, size_t *n_excl, struct match_rank_stats *stats,
	       serr *e) SCOUT_MUST;

/* Components for one candidate (tests, explanations). */
int match_score_one(const struct match_candidate_in *c, const struct match_job_in *job,
		    const struct match_weights *w, int dim, struct match_result *out, serr *e) SCOUT_MUST;

/* UTC offset difference in hours between two IANA zones is the caller's job; this
 * gives one zone's UTC offset in hours at time at_ms (system tz database). */
int match_tz_offset_hours(const char *zone, int64_t at_ms, double *hours, serr *e) SCOUT_MUST;

#endif
