/*
 * The recruiter feedback loop of the seed's "Human-in-the-Loop: Job
 * Feedback & Matchmaking Trigger": a recruiter reviews a job's "(N)"
 * columns in Customers STT, corrects them and checks Start Matchmaking.
 * The step reads the record once, folds every corrected (N) value back into
 * the job's normalized answer (normalized_jobs, job_required_skills,
 * creating skills the answer did not have), records the corrections as
 * human edits, and unchecks Start Matchmaking. docs/feedback.md.
 */
#ifndef SCOUT_PIPELINE_FEEDBACK_H
#define SCOUT_PIPELINE_FEEDBACK_H

#include <jansson.h>

#include "core/err.h"
#include "orchestrator/sensor.h"

struct job_ctx;

/* Longest (N) skill list a recruiter may enter, in skills per list. */
#define FEEDBACK_MAX_SKILLS 30

/*
 * step_apply_job_feedback (job_step_fn, partitioned by jobs; the partition
 * is required): one GET of the job record, the (N) values applied to the
 * stored normalization, one PATCH unchecking Start Matchmaking when it is
 * checked. Fails, leaving the stored normalization as it was, when the job
 * was never normalized or a recruiter's value cannot be used (the message
 * names the column and what to correct).
 */
int step_apply_job_feedback(struct job_ctx *ctx, serr *e) SCOUT_MUST;

/*
 * airtable_job_matchmaking_sensor (sensor_matchmaking.c): one listing of
 * the jobs with Start Matchmaking checked, a request of the definition's job
 * per job, keyed by record id, a hash of its (N) values and the tick's
 * interval bucket.
 */
int sensor_eval_job_matchmaking(const struct sensor_eval_ctx *ctx, const char *cursor,
				struct sensor_result *out, serr *e) SCOUT_MUST;

/* What folding a record's (N) values into an answer did. */
struct feedback_result {
	json_t *answer;	 /* the new answer (new reference) */
	json_t *applied; /* [{"field", "value"}]: the (N) cells taken as input */
	json_t *edits;	 /* [{"field", "scout", "human"}]: cells that differ from scout's last write */
	int skills_added; /* skills the stored answer did not have */
};

void feedback_result_init(struct feedback_result *r);
void feedback_result_free(struct feedback_result *r);

/*
 * Pure: fold the (N) cells of fields (a Customers STT record's "fields")
 * into a copy of answer (a validated job normalization). A cell is input
 * when scout never wrote it and it holds a value, or when it differs from
 * what scout last wrote (written: airtable_writes_get_record; a cleared
 * cell then clears the value). cfg names the (N) columns. The result
 * passes normalize_validate_job.
 */
int feedback_apply(const struct config *cfg, const json_t *answer, const json_t *fields,
		   const json_t *written, struct feedback_result *out, serr *e) SCOUT_MUST;

/*
 * The (N) skill list of a cell ("Rust, Go; Kubernetes", one per line also
 * accepted) as a new array of names, trimmed, empty and repeated names
 * (case-insensitive) left out. More than FEEDBACK_MAX_SKILLS is an error.
 */
json_t *feedback_skill_names(const char *cell, const char *column, serr *e);

#endif
