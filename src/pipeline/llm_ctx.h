/*
 * What the LLM steps of the candidate and job pipelines share within one
 * run: the ingest state (so the ingest steps run first in the same job),
 * one lazily created LLM client, the usage summed over the run, per-record
 * notes between steps, and the pause of LLM work after a 402 (out of
 * credits), kept in the `pauses` table (migration 0007).
 */
#ifndef SCOUT_PIPELINE_LLM_CTX_H
#define SCOUT_PIPELINE_LLM_CTX_H

#include <stddef.h>

#include <jansson.h>

#include "core/err.h"
#include "llm/llm.h"
#include "pipeline/ingest.h"
#include "store/pauses.h"

struct job_ctx;
struct store;

/* The tag of LLM work: the queue tag of the pipeline jobs and the pause's tag. */
#define LLM_PAUSE_TAG "llm"
/* While a pause is younger than this, steps fail at once without calling the LLM. */
#define LLM_PAUSE_PROBE_MS 60000

/* Run state of candidate_pipeline_job and job_pipeline_job; ingest must stay first. */
struct pipeline_state {
	struct ingest_state ingest;
	struct llm *llm;	 /* created on first use */
	struct llm_usage usage;	 /* every LLM request of the run */
	json_t *renormalized;	 /* record id -> true: normalized again in this run */
	int pause_seen;		 /* a pause existed when the client was asked for */
};

void *pipeline_state_new(void);
void pipeline_state_free(void *state);

/* The run's LLM client (created on first use) after checking that LLM work is not paused. */
int pipeline_llm(struct job_ctx *ctx, struct llm **out, serr *e) SCOUT_MUST;

/*
 * The record ids a step works on: the records fetched by the run's first
 * step; else the partition; else every row of raw_table (a run over all
 * records without an Airtable step, as in benchmarks). New reference.
 */
json_t *pipeline_record_ids(struct job_ctx *ctx, const char *raw_table, serr *e);

/*
 * Log one LLM call in llm_calls (run, record, purpose, tokens, cost,
 * attempts, status, error) and add its usage to the run's. status is
 * derived from kind: LLM_OK "ok", LLM_ERR_INVALID_ANSWER "invalid", else
 * "error". After a 402 the pause is recorded.
 */
int pipeline_llm_record(struct job_ctx *ctx, const char *record_id, const char *purpose,
			const char *model, const struct llm_usage *u, enum llm_error_kind kind,
			const char *error, serr *e) SCOUT_MUST;

struct prompt;

/*
 * One validated structured answer for a record: render data under the
 * prompt, ask the run's client with the schema and validator, log the
 * call (pipeline_llm_record). *kind says how it went (LLM_ERR_NO_CREDITS:
 * stop the run). The answer is a new reference.
 */
int pipeline_chat(struct job_ctx *ctx, const char *record_id, const char *purpose,
		  const struct prompt *p, const char *data, const json_t *schema,
		  const char *schema_name, llm_validate_fn fn, void *ud, json_t **answer,
		  enum llm_error_kind *kind, serr *e) SCOUT_MUST;

/* The run's usage as MATERIALIZATION metadata fields (added to meta). */
int pipeline_usage_meta(const struct llm_usage *u, json_t *meta) SCOUT_MUST;

#endif
