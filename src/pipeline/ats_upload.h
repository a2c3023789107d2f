/*
 * The upload of a job's shortlist to the ATS table (the seed's TODO 1):
 * the job's ATS row is found through its `Job` link (created when there is
 * none), and `Potential Talent Fit AI` is set to the new top candidates,
 * keeping every link a person added, never re-adding a candidate rejected
 * for the job or one who moved on to another stage, and never touching
 * another column. What scout put in the column is remembered per ATS row
 * (airtable_writes), so a person's links are told from scout's; an upload
 * whose set is unchanged sends no PATCH. docs/feedback.md.
 */
#ifndef SCOUT_PIPELINE_ATS_UPLOAD_H
#define SCOUT_PIPELINE_ATS_UPLOAD_H

#include <stddef.h>

#include "core/err.h"

struct airtable;
struct job_ctx;
struct store;

/* What one upload did. */
struct ats_upload_stats {
	char ats_record_id[32]; /* the job's ATS row */
	int created;		/* 1: the row was created by this upload */
	int patched;		/* 1: the column was written */
	size_t uploaded;	/* scout's candidates now in the column */
	size_t kept_human;	/* links a person added, kept */
	size_t skipped_rejected; /* rejected for the job, moved on, or removed by a person */
	size_t skipped_excluded; /* marked Fraud */
	size_t removed;		/* scout's earlier candidates no longer in the shortlist */
	long airtable_requests;
};

/*
 * Upload candidates (Talent record ids, best first) as the shortlist of the
 * job. job_title names a row created for the job (Open Position). Sends one
 * listing of the ATS rows that have a Job link (a page per 100 rows), a
 * create when the job has no row, and one PATCH only when the column's set
 * of links changes.
 */
int ats_upload_shortlist(struct airtable *at, struct store *st, const char *job_record_id,
			 const char *job_title, const char *const *candidates, size_t n,
			 struct ats_upload_stats *out, serr *e) SCOUT_MUST;

/*
 * step_upload_ats (job_step_fn, partitioned by jobs): the job's latest
 * ranking (store/matches.h) uploaded with ats_upload_shortlist.
 */
int step_upload_ats(struct job_ctx *ctx, serr *e) SCOUT_MUST;

#endif
