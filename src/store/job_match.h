/*
 * One job in the matchmaking engine's form: the normalized job, its
 * required skills (must-haves first) with their capability and name
 * vectors, its narrative vectors, and the candidates a recruiter rejected
 * for it in any rejection column of its ATS rows.
 */
#ifndef SCOUT_STORE_JOB_MATCH_H
#define SCOUT_STORE_JOB_MATCH_H

#include <stddef.h>

#include "core/err.h"
#include "match/match.h"
#include "store/store.h"

/* One job in the engine's form, with the memory behind it. */
struct job_match_input {
	struct match_job_in in;
	char *record_id;
	char *timezone;
	char *work_setup;
	char **skill_names;
	int *must_have;
	float *skill_vectors;  /* n_skills * dim, NaN rows where missing */
	float *skill_name_vectors; /* same shape: the skills' name vectors */
	float *narratives;     /* (MN_COUNT + 1) * dim: the five, then role */
	char **rejected;
	size_t n_rejected;
	size_t n_vectors;      /* job vectors found in the embedding space */
};

void job_match_input_init(struct job_match_input *j);
void job_match_input_free(struct job_match_input *j);

/*
 * Load the normalized job, its required skills and vectors, and the
 * candidates rejected for it in any rejection column of its ATS rows.
 * *found = 0 when the job is not normalized.
 */
int job_match_input_load(struct store *s, const char *model, int dimensions,
			 const char *job_record_id, struct job_match_input *out, int *found,
			 serr *e) SCOUT_MUST;

#endif
