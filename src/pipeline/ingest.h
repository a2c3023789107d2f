/*
 * Raw ingestion steps (no LLM): candidates from the Talent table with the
 * text of their CV PDFs, jobs from Customers STT with their resolved
 * description (Notion page or plain text), the ATS table's stage columns,
 * and the registration of record ids as partitions.
 */
#ifndef SCOUT_PIPELINE_INGEST_H
#define SCOUT_PIPELINE_INGEST_H

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

struct job_ctx;
struct config;

/* State shared by the steps of one ingest run. */
struct ingest_state {
	json_t *records; /* Airtable records fetched by the first step */
	json_t *extras;	 /* per record id: text and errors found by the second step */
	long skipped;	 /* unchanged records not processed again */
};

void *ingest_state_new(void);
void ingest_state_free(void *state);

/* One record (the partition) or, for a run over all records, the whole table. */
int pipeline_fetch_records(struct job_ctx *ctx, const char *table, serr *e) SCOUT_MUST;

/* candidate_ingest_job */
int step_fetch_candidates(struct job_ctx *ctx, serr *e) SCOUT_MUST;
int step_extract_cv_text(struct job_ctx *ctx, serr *e) SCOUT_MUST;
int step_store_raw_candidates(struct job_ctx *ctx, serr *e) SCOUT_MUST;

/* job_ingest_job */
int step_fetch_jobs(struct job_ctx *ctx, serr *e) SCOUT_MUST;
int step_resolve_descriptions(struct job_ctx *ctx, serr *e) SCOUT_MUST;
int step_store_raw_jobs(struct job_ctx *ctx, serr *e) SCOUT_MUST;

/* sync_airtable_*_job */
int step_register_candidate_partitions(struct job_ctx *ctx, serr *e) SCOUT_MUST;
int step_register_job_partitions(struct job_ctx *ctx, serr *e) SCOUT_MUST;
int step_sync_ats_rows(struct job_ctx *ctx, serr *e) SCOUT_MUST;

/*
 * The input hash of a candidate: SHA-256 over the input fields only
 * (attachments by id, name and size, never by their expiring URL), so
 * scout's own writes to (N) fields and link changes do not change it.
 */
int candidate_input_hash(const struct config *cfg, const json_t *fields, char out[65],
			 serr *e) SCOUT_MUST;
int job_input_hash(const struct config *cfg, const json_t *fields, char out[65],
		   serr *e) SCOUT_MUST;

/* "Label: value" lines of the candidate's text fields, the Airtable half of the CV text. */
int candidate_airtable_text(const struct config *cfg, const json_t *fields,
			    struct buf *out) SCOUT_MUST;

/* The names of the candidate/job input fields, NULL-terminated (for sensors too). */
void candidate_input_fields(const struct config *cfg, const char *out[], size_t max);
void job_input_fields(const struct config *cfg, const char *out[], size_t max);

#endif
