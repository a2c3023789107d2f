/*
 * The normalization steps of the candidate and job pipelines: the raw text
 * of each record goes to the LLM under a versioned prompt, the validated
 * answer replaces the stored normalization in one transaction. A record
 * whose stamp (model, prompt version, input hash) is unchanged is skipped
 * without an LLM call.
 */
#ifndef SCOUT_PIPELINE_NORMALIZE_H
#define SCOUT_PIPELINE_NORMALIZE_H

#include "core/buf.h"
#include "core/err.h"

struct job_ctx;

/* candidate_pipeline_job: raw_candidates -> normalized_candidates and its child tables. */
int step_normalize_candidates(struct job_ctx *ctx, serr *e) SCOUT_MUST;
/* job_pipeline_job: raw_jobs -> normalized_jobs and job_required_skills. */
int step_normalize_jobs(struct job_ctx *ctx, serr *e) SCOUT_MUST;

/*
 * Copy text to out without the sentences (or lines) injection_scan finds
 * instructions in, so injected text cannot change what the model answers.
 * Returns the number of passages removed.
 */
int normalize_strip_injections(const char *text, struct buf *out, serr *e) SCOUT_MUST;

#endif
