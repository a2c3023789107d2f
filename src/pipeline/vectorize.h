/*
 * The vectorization steps: the texts of a normalized candidate or job
 * (narratives, skills, positions, projects; job requirements) embedded in
 * batches through the embedding cache, so a text already embedded by any
 * record is never sent again, then stored with vectors_replace.
 */
#ifndef SCOUT_PIPELINE_VECTORIZE_H
#define SCOUT_PIPELINE_VECTORIZE_H

#include <stddef.h>

#include <jansson.h>

#include "core/err.h"

struct job_ctx;

int step_vectorize_candidates(struct job_ctx *ctx, serr *e) SCOUT_MUST;
int step_vectorize_jobs(struct job_ctx *ctx, serr *e) SCOUT_MUST;

/* The (kind, text) pairs embedded for one normalized answer. */
struct vector_texts {
	json_t *kinds; /* array of strings */
	json_t *texts; /* array of strings, same length */
};

/* job: 0 for a candidate answer, 1 for a job answer. Empty texts are left out. */
int vectorize_texts(const json_t *normalized, int job, struct vector_texts *out,
		    serr *e) SCOUT_MUST;
void vector_texts_free(struct vector_texts *t);

#endif
