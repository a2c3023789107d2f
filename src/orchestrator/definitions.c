/*
 * The definitions table: every job scout knows, with its steps. The seed's
 * "Job Pipeline Variations" appear here as their steps come to exist.
 */
#include <pthread.h>
#include <string.h>

#include "orchestrator/job.h"
#include "pipeline/ats_upload.h"
#include "pipeline/feedback.h"
#include "pipeline/fitness.h"
#include "pipeline/ingest.h"
#include "pipeline/llm_ctx.h"
#include "pipeline/matchmaking.h"
#include "pipeline/normalize.h"
#include "pipeline/syncback.h"
#include "pipeline/vectorize.h"

const struct job_def job_defs[] = {
	{
		.name = "sync_airtable_candidates_job",
		.description = "register every Talent record id as a candidate partition",
		.partitioning = PART_NONE,
		.tags = "airtable",
		.max_retries = 2,
		.steps = { { "register_partitions", step_register_candidate_partitions } },
	},
	{
		.name = "sync_airtable_jobs_job",
		.description = "register every Customers STT record id as a job partition",
		.partitioning = PART_NONE,
		.tags = "airtable",
		.max_retries = 2,
		.steps = { { "register_partitions", step_register_job_partitions } },
	},
	{
		.name = "sync_airtable_ats_job",
		.description = "mirror the ATS table's rows and stage columns",
		.partitioning = PART_NONE,
		.tags = "airtable",
		.max_retries = 2,
		.steps = { { "sync_ats_rows", step_sync_ats_rows } },
	},
	{
		.name = "candidate_ingest_job",
		.description = "store one candidate raw: Airtable fields and CV text (no LLM)",
		.partitioning = PART_CANDIDATES,
		.allow_all = 1,
		.tags = "airtable",
		.max_retries = 3,
		.steps = { { "fetch_record", step_fetch_candidates },
			   { "extract_cv_text", step_extract_cv_text },
			   { "store_raw", step_store_raw_candidates } },
		.state_new = ingest_state_new,
		.state_free = ingest_state_free,
	},
	{
		.name = "job_ingest_job",
		.description = "store one job raw: Airtable fields and resolved description (no LLM)",
		.partitioning = PART_JOBS,
		.allow_all = 1,
		.tags = "airtable",
		.max_retries = 3,
		.steps = { { "fetch_record", step_fetch_jobs },
			   { "resolve_description", step_resolve_descriptions },
			   { "store_raw", step_store_raw_jobs } },
		.state_new = ingest_state_new,
		.state_free = ingest_state_free,
	},
	{
		.name = "candidate_pipeline_job",
		.description = "ingest, normalize, vectorize and score one candidate, then write its (N) fields",
		.partitioning = PART_CANDIDATES,
		.allow_all = 1,
		.tags = "airtable,llm",
		.max_retries = 3,
		.steps = { { "fetch_record", step_fetch_candidates },
			   { "extract_cv_text", step_extract_cv_text },
			   { "store_raw", step_store_raw_candidates },
			   { "normalize", step_normalize_candidates },
			   { "vectorize", step_vectorize_candidates },
			   { "role_fitness", step_role_fitness },
			   { "sync_back", step_syncback_candidate } },
		.state_new = pipeline_state_new,
		.state_free = pipeline_state_free,
	},
	{
		.name = "job_pipeline_job",
		.description = "ingest, normalize and vectorize one job, then write its (N) fields",
		.partitioning = PART_JOBS,
		.allow_all = 1,
		.tags = "airtable,llm",
		.max_retries = 3,
		.steps = { { "fetch_record", step_fetch_jobs },
			   { "resolve_description", step_resolve_descriptions },
			   { "store_raw", step_store_raw_jobs },
			   { "normalize", step_normalize_jobs },
			   { "vectorize", step_vectorize_jobs },
			   { "sync_back", step_syncback_job } },
		.state_new = pipeline_state_new,
		.state_free = pipeline_state_free,
	},
	{
		.name = "upload_normalized_to_airtable_job",
		.description = "write candidates' normalized values to the Talent (N) fields, "
			       "keeping recruiters' edits",
		.partitioning = PART_CANDIDATES,
		.allow_all = 1,
		.tags = "airtable",
		.max_retries = 3,
		.steps = { { "syncback_candidate", step_syncback_candidate } },
	},
	{
		.name = "upload_normalized_jobs_to_airtable_job",
		.description = "write jobs' normalized values to the Customers STT (N) fields, "
			       "keeping recruiters' edits",
		.partitioning = PART_JOBS,
		.allow_all = 1,
		.tags = "airtable",
		.max_retries = 3,
		.steps = { { "syncback_job_fields", step_syncback_job_fields } },
	},
	{
		.name = "matchmaking_job",
		.description = "rank every candidate for one job from the stored vectors (no "
			       "re-vectorizing) and store the top 20 with the exclusions",
		.partitioning = PART_JOBS,
		.allow_all = 1,
		.tags = "matchmaking",
		.max_retries = 2,
		.steps = { { "score_job", step_score_job } },
	},
	{
		.name = "matchmaking_with_feedback_job",
		.description = "apply the recruiter's (N) values of one job, re-vectorize it, rank "
			       "every candidate and upload the top 20 to its ATS row",
		.partitioning = PART_JOBS,
		.tags = "airtable,llm",
		.max_retries = 3,
		.steps = { { "apply_job_feedback", step_apply_job_feedback },
			   { "vectorize", step_vectorize_jobs },
			   { "score_job", step_score_job },
			   { "upload_ats", step_upload_ats } },
		.state_new = pipeline_state_new,
		.state_free = pipeline_state_free,
	},
	{
		.name = "upload_matches_job",
		.description = "upload a job's latest ranking to its ATS row's Potential Talent Fit AI",
		.partitioning = PART_JOBS,
		.tags = "airtable",
		.max_retries = 3,
		.steps = { { "upload_ats", step_upload_ats } },
	},
};

const size_t job_defs_count = sizeof(job_defs) / sizeof(job_defs[0]);

/* Registered definitions; entries are never removed, so pointers stay valid. */
static struct job_def registered[JOB_REGISTERED_MAX];
static size_t registered_n;
static pthread_mutex_t registered_mu = PTHREAD_MUTEX_INITIALIZER;

static const struct job_def *find_locked(const char *name)
{
	for (size_t i = 0; i < job_defs_count; i++)
		if (strcmp(job_defs[i].name, name) == 0)
			return &job_defs[i];
	for (size_t i = 0; i < registered_n; i++)
		if (strcmp(registered[i].name, name) == 0)
			return &registered[i];
	return NULL;
}

int job_defs_register(const struct job_def *def, serr *e)
{
	int rc = -1;

	if (!def || !def->name || !*def->name)
		return serr_set(e, "cannot register a job without a name");
	if (job_def_nsteps(def) == 0)
		return serr_set(e, "cannot register job '%s': it has no steps", def->name);
	pthread_mutex_lock(&registered_mu);
	if (find_locked(def->name)) {
		serr_set(e, "cannot register job '%s': a job of that name exists", def->name);
		goto out;
	}
	if (registered_n >= JOB_REGISTERED_MAX) {
		serr_set(e, "cannot register job '%s': at most %d jobs can be registered",
			 def->name, JOB_REGISTERED_MAX);
		goto out;
	}
	registered[registered_n++] = *def;
	rc = 0;
out:
	pthread_mutex_unlock(&registered_mu);
	return rc;
}

size_t job_def_count(void)
{
	size_t n;

	pthread_mutex_lock(&registered_mu);
	n = job_defs_count + registered_n;
	pthread_mutex_unlock(&registered_mu);
	return n;
}

const struct job_def *job_def_at(size_t i)
{
	const struct job_def *d = NULL;

	pthread_mutex_lock(&registered_mu);
	if (i < job_defs_count)
		d = &job_defs[i];
	else if (i - job_defs_count < registered_n)
		d = &registered[i - job_defs_count];
	pthread_mutex_unlock(&registered_mu);
	return d;
}

const struct job_def *job_def_find(const char *name)
{
	const struct job_def *d;

	if (!name)
		return NULL;
	pthread_mutex_lock(&registered_mu);
	d = find_locked(name);
	pthread_mutex_unlock(&registered_mu);
	return d;
}

const char *job_partitioning_name(enum job_partitioning p)
{
	switch (p) {
	case PART_CANDIDATES:
		return "candidates";
	case PART_JOBS:
		return "jobs";
	case PART_NONE:
		break;
	}
	return "none";
}

size_t job_def_nsteps(const struct job_def *d)
{
	size_t n = 0;

	while (n < JOB_MAX_STEPS && d->steps[n].name)
		n++;
	return n;
}
