/*
 * Shortlist upload to the ATS table's `Potential Talent Fit AI` column; the
 * rules are in ats_upload.h and docs/feedback.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "airtable/airtable.h"
#include "airtable/formula.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "orchestrator/context.h"
#include "pipeline/ats_upload.h"
#include "store/airtable_writes.h"
#include "store/matches.h"
#include "store/normalized.h"

#define STAGE_MAX 20

/* The ATS stage columns other than the one scout fills: a candidate in any of them is not re-suggested. */
static size_t blocking_columns(const struct config *c, const char *out[STAGE_MAX])
{
	const char *cols[] = { c->a_ai_rejection,	    c->a_shortlisted,	     c->a_client_intro,
			       c->a_interview1,		    c->a_interview2,	     c->a_interview3,
			       c->a_interview4,		    c->a_assignment,	     c->a_hired,
			       c->a_intro_rejected,	    c->a_interview_rejected, c->a_assignment_rejected,
			       c->a_negotiations_rejection, c->a_talent_rejected,    c->a_on_hold };
	size_t n = 0;

	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]) && n < STAGE_MAX - 1; i++)
		if (cols[i] && *cols[i])
			out[n++] = cols[i];
	out[n] = NULL;
	return n;
}

struct find_row {
	const char *job;
	const char *job_field;
	json_t *row; /* the first row linked to the job */
	long rows_linked;
};

static int on_ats_row(void *ud, const json_t *record, serr *e)
{
	struct find_row *f = ud;
	const json_t *fields = json_object_get(record, "fields");

	(void)e;
	if (!airtable_strings_has(fields, f->job_field, f->job))
		return 0;
	f->rows_linked++;
	if (!f->row)
		f->row = json_deep_copy(record);
	return 0;
}

/* The job's ATS row (new reference in *row, NULL when there is none). */
static int find_ats_row(struct airtable *at, const char *job, json_t **row, serr *e)
{
	const struct config *c = at->cfg;
	const char *names[STAGE_MAX + 3];
	size_t n = blocking_columns(c, names);
	struct find_row f = { job, c->a_job, NULL, 0 };
	struct airtable_query q = { 0 };
	struct buf formula;
	int rc = -1;

	buf_init(&formula, 4096);
	names[n++] = c->a_job;
	names[n++] = c->a_potential_fit;
	names[n] = NULL;
	/*
	 * A link field reads as the linked records' primary values in a formula,
	 * not their ids: the formula only narrows to linked rows, the id is matched here.
	 */
	if (formula_field_not_blank(&formula, c->a_job, e) < 0)
		goto out;
	q.formula = buf_cstr(&formula);
	q.fields = names;
	if (airtable_list(at, c->ats_table, &q, on_ats_row, &f, e) < 0) {
		serr_wrap(e, "cannot find the ATS row of job '%s'", job);
		goto out;
	}
	if (f.rows_linked > 1)
		log_warn("job has several ATS rows; the first is used", "record=%s rows=%ld ats=%s",
			 job, f.rows_linked,
			 json_string_value(json_object_get(f.row, "id")));
	*row = f.row;
	f.row = NULL;
	rc = 0;
out:
	json_decref(f.row);
	buf_free(&formula);
	return rc;
}

static int create_ats_row(struct airtable *at, const char *job, const char *title, json_t **row,
			  serr *e)
{
	const struct config *c = at->cfg;
	json_t *recs = json_pack("[{s:{s:s,s:s,s:[s]}}]", "fields", c->a_open_position,
				 title && *title ? title : job, c->a_job_status, "Sourcing", c->a_job,
				 job);
	json_t *out = NULL;
	int rc = -1;

	if (!recs) {
		serr_set(e, "out of memory");
		goto out;
	}
	if (airtable_create(at, c->ats_table, recs, 0, &out, e) < 0) {
		serr_wrap(e, "cannot create the ATS row of job '%s'", job);
		goto out;
	}
	if (!json_is_object(json_array_get(out, 0)) ||
	    !json_is_string(json_object_get(json_array_get(out, 0), "id"))) {
		serr_set(e, "Airtable created the ATS row of job '%s' without returning it", job);
		goto out;
	}
	*row = json_incref(json_array_get(out, 0));
	rc = 0;
out:
	json_decref(recs);
	json_decref(out);
	return rc;
}

static int in_array(const json_t *arr, const char *id)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
			return 1;
	return 0;
}

/* The column's links as an array (new reference, empty when none). */
static json_t *links(const json_t *fields, const char *col)
{
	json_t *v = json_object_get(fields, col), *out = json_array();
	size_t i;
	json_t *x;

	if (!out)
		return NULL;
	json_array_foreach(v, i, x)
		if (json_is_string(x) && json_array_append(out, x) < 0) {
			json_decref(out);
			return NULL;
		}
	return out;
}

static int same_set(const json_t *a, const json_t *b)
{
	size_t i;
	json_t *v;

	if (json_array_size(a) != json_array_size(b))
		return 0;
	json_array_foreach(a, i, v)
		if (!in_array(b, json_string_value(v)))
			return 0;
	return 1;
}

/* 1 when a person or scout's rules keep the candidate out of the shortlist. */
static int blocked(const struct config *c, const json_t *fields, const json_t *prev,
		   const json_t *current, const char *id)
{
	const char *cols[STAGE_MAX];

	blocking_columns(c, cols);
	for (size_t i = 0; cols[i]; i++)
		if (airtable_strings_has(fields, cols[i], id))
			return 1;
	/* scout suggested it before and a person took it out: their decision stands */
	return in_array(prev, id) && !in_array(current, id);
}

static int fraud(struct store *st, const char *id, int *out, serr *e)
{
	struct normalized_candidate nc;
	int found = 0;

	normalized_candidate_init(&nc);
	if (normalized_candidate_get(st, id, &nc, &found, e) < 0) {
		normalized_candidate_free(&nc);
		return -1;
	}
	*out = found && nc.is_excluded;
	normalized_candidate_free(&nc);
	return 0;
}

/* The new column: scout's picks in rank order, then the links a person added. */
static int plan(struct ats_upload_stats *s, struct store *st, const struct config *c,
		const json_t *fields, const json_t *prev, const json_t *current,
		const char *const *cands, size_t n, json_t *scout, json_t *column, serr *e)
{
	size_t i;
	json_t *v;

	json_array_foreach(current, i, v)
		if (!in_array(prev, json_string_value(v)))
			s->kept_human++;
	for (i = 0; i < n; i++) {
		int f = 0;

		if (!cands[i] || !*cands[i] || in_array(scout, cands[i]))
			continue;
		if (in_array(current, cands[i]) && !in_array(prev, cands[i]))
			continue; /* a person's link: stays theirs */
		if (blocked(c, fields, prev, current, cands[i])) {
			s->skipped_rejected++;
			continue;
		}
		if (fraud(st, cands[i], &f, e) < 0)
			return -1;
		if (f) {
			s->skipped_excluded++;
			continue;
		}
		if (json_array_append_new(scout, json_string(cands[i])) < 0)
			return serr_set(e, "out of memory");
	}
	if (json_array_extend(column, scout) < 0)
		return serr_set(e, "out of memory");
	json_array_foreach(current, i, v)
		if (!in_array(prev, json_string_value(v)) && json_array_append(column, v) < 0)
			return serr_set(e, "out of memory");
	json_array_foreach(prev, i, v)
		if (in_array(current, json_string_value(v)) && !in_array(scout, json_string_value(v)))
			s->removed++;
	s->uploaded = json_array_size(scout);
	return 0;
}

int ats_upload_shortlist(struct airtable *at, struct store *st, const char *job_record_id,
			 const char *job_title, const char *const *candidates, size_t n,
			 struct ats_upload_stats *out, serr *e)
{
	const struct config *c = at->cfg;
	json_t *row = NULL, *written = NULL, *prev, *current = NULL, *scout = NULL, *column = NULL;
	json_t *patch = NULL, *mem = NULL;
	const json_t *fields;
	const char *row_id;
	long req0 = at->stats.requests;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (find_ats_row(at, job_record_id, &row, e) < 0)
		goto out;
	if (!row) {
		if (create_ats_row(at, job_record_id, job_title, &row, e) < 0)
			goto out;
		out->created = 1;
	}
	row_id = json_string_value(json_object_get(row, "id"));
	fields = json_object_get(row, "fields");
	snprintf(out->ats_record_id, sizeof(out->ats_record_id), "%s", row_id);
	if (airtable_writes_get_record(st, c->ats_table, row_id, &written, e) < 0)
		goto out;
	prev = json_object_get(written, c->a_potential_fit);
	if (!json_is_array(prev))
		prev = NULL;
	if (!(current = links(fields, c->a_potential_fit)) || !(scout = json_array()) ||
	    !(column = json_array())) {
		serr_set(e, "out of memory");
		goto out;
	}
	if (plan(out, st, c, fields, prev, current, candidates, n, scout, column, e) < 0) {
		serr_wrap(e, "ATS row '%s' of job '%s'", row_id, job_record_id);
		goto out;
	}
	if (!same_set(column, current)) {
		patch = json_pack("[{s:s,s:{s:O}}]", "id", row_id, "fields", c->a_potential_fit,
				  column);
		if (!patch) {
			serr_set(e, "out of memory");
			goto out;
		}
		if (airtable_update(at, c->ats_table, patch, 0, NULL, e) < 0) {
			serr_wrap(e, "cannot upload the shortlist of job '%s' to ATS row '%s'",
				  job_record_id, row_id);
			goto out;
		}
		out->patched = 1;
	}
	/* Remembered even without a PATCH: a link that both a person and scout chose stays the person's. */
	if (!(mem = json_pack("{s:O}", c->a_potential_fit, scout))) {
		serr_set(e, "out of memory");
		goto out;
	}
	if (airtable_writes_set_record(st, c->ats_table, row_id, mem, e) < 0)
		goto out;
	rc = 0;
out:
	out->airtable_requests = at->stats.requests - req0;
	json_decref(row);
	json_decref(written);
	json_decref(current);
	json_decref(scout);
	json_decref(column);
	json_decref(patch);
	json_decref(mem);
	return rc;
}

int step_upload_ats(struct job_ctx *ctx, serr *e)
{
	struct match_run mr;
	struct normalized_job nj;
	struct ats_upload_stats s;
	struct airtable *at;
	const char **ids = NULL;
	json_t *meta;
	int found = 0, jfound = 0, rc = -1;

	match_run_init(&mr);
	normalized_job_init(&nj);
	if (!ctx->partition) {
		serr_set(e, "step_upload_ats needs a job partition (a Customers STT record id)");
		goto out;
	}
	if (matches_latest(ctx->store, ctx->partition, &mr, &found, e) < 0)
		goto out;
	if (!found) {
		serr_set(e, "job '%s' has no ranking to upload: run matchmaking_job for it first",
			 ctx->partition);
		goto out;
	}
	if (normalized_job_get(ctx->store, ctx->partition, &nj, &jfound, e) < 0)
		goto out;
	if (!(ids = calloc(mr.n_results ? mr.n_results : 1, sizeof(*ids)))) {
		serr_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < mr.n_results; i++)
		ids[i] = mr.results[i].record_id;
	if (job_ctx_airtable(ctx, &at, e) < 0)
		goto out;
	if (ats_upload_shortlist(at, ctx->store, ctx->partition, jfound ? nj.job_title : NULL, ids,
				 mr.n_results, &s, e) < 0)
		goto out;
	meta = json_pack("{s:s,s:s,s:b,s:b,s:I,s:I,s:I,s:I,s:I,s:I}", "ats_record_id",
			 s.ats_record_id, "match_run_id", mr.run_id, "created", s.created, "patched",
			 s.patched, "uploaded", (json_int_t)s.uploaded, "kept_human",
			 (json_int_t)s.kept_human, "skipped_rejected", (json_int_t)s.skipped_rejected,
			 "skipped_excluded", (json_int_t)s.skipped_excluded, "removed",
			 (json_int_t)s.removed, "airtable_requests", (json_int_t)s.airtable_requests);
	if (!meta) {
		serr_set(e, "out of memory");
		goto out;
	}
	if (job_ctx_materialize(ctx, "airtable_ats_potential_fit", meta, e) < 0)
		goto out;
	if (s.patched)
		ctx->records_written++;
	log_info("shortlist uploaded", "record=%s ats=%s uploaded=%zu kept_human=%zu patched=%d",
		 ctx->partition, s.ats_record_id, s.uploaded, s.kept_human, s.patched);
	rc = 0;
out:
	free(ids);
	match_run_free(&mr);
	normalized_job_free(&nj);
	return rc;
}
