/*
 * The sync jobs: register every Talent / Customers STT record id as a
 * partition (records deleted in Airtable are marked, not forgotten), and
 * mirror the ATS table's rows with their stage columns.
 */
#include <stdlib.h>
#include <string.h>

#include "airtable/airtable.h"
#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/context.h"
#include "pipeline/ingest.h"
#include "store/partitions.h"
#include "store/raw.h"

struct id_list {
	char **ids;
	size_t n, cap;
};

static int collect_id(void *ud, const json_t *record, serr *e)
{
	struct id_list *l = ud;
	const char *id = json_string_value(json_object_get(record, "id"));

	if (!id)
		return serr_set(e, "airtable returned a record without an id");
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256, bytes;
		char **p;
		if (size_mul(ncap, sizeof(*p), &bytes) < 0 || !(p = realloc(l->ids, bytes)))
			return serr_set(e, "out of memory collecting record ids");
		l->ids = p;
		l->cap = ncap;
	}
	if (!(l->ids[l->n] = strdup(id)))
		return serr_set(e, "out of memory collecting record ids");
	l->n++;
	return 0;
}

static void id_list_free(struct id_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->ids[i]);
	free(l->ids);
}

/* Only the primary field is asked for: the listing is about ids. */
static int register_partitions(struct job_ctx *ctx, const char *table, const char *field,
			       const char *kind, serr *e)
{
	struct airtable *at;
	struct id_list l = { 0 };
	const char *fields[] = { field, NULL };
	struct airtable_query q = { 0 };
	struct partition_counts counts;
	int rc = -1;

	q.fields = fields;
	if (job_ctx_airtable(ctx, &at, e) < 0)
		goto out;
	if (airtable_list(at, table, &q, collect_id, &l, e) < 0)
		goto out;
	if (partitions_register(ctx->store, kind, (const char *const *)l.ids, l.n, &counts, e) < 0)
		goto out;
	log_info("partitions registered", "kind=%s records=%zu new=%lld deleted=%lld restored=%lld",
		 kind, l.n, (long long)counts.added, (long long)counts.deleted,
		 (long long)counts.restored);
	ctx->records_written += counts.added;
	rc = job_ctx_materialize(ctx, kind,
				 json_pack("{s:I,s:I,s:I,s:I}", "records", (json_int_t)l.n, "new",
					   (json_int_t)counts.added, "deleted",
					   (json_int_t)counts.deleted, "restored",
					   (json_int_t)counts.restored),
				 e);
out:
	id_list_free(&l);
	return rc;
}

int step_register_candidate_partitions(struct job_ctx *ctx, serr *e)
{
	return register_partitions(ctx, ctx->cfg->talent_table, ctx->cfg->f_full_name,
				   "candidates", e);
}

int step_register_job_partitions(struct job_ctx *ctx, serr *e)
{
	return register_partitions(ctx, ctx->cfg->jobs_table, ctx->cfg->j_company, "jobs", e);
}

struct ats_sync {
	struct job_ctx *ctx;
	long rows;
};

/* Linked Talent ids of one stage field, borrowed from the record. */
static int stage_ids(const json_t *fields, const char *name, const char ***ids, size_t *n,
		     serr *e)
{
	size_t len = airtable_strings_len(fields, name), bytes;

	*ids = NULL;
	*n = 0;
	if (!len)
		return 0;
	if (size_mul(len, sizeof(**ids), &bytes) < 0 || !(*ids = malloc(bytes)))
		return serr_set(e, "out of memory reading stage '%s'", name);
	for (size_t i = 0; i < len; i++)
		(*ids)[i] = airtable_strings_at(fields, name, i);
	*n = len;
	return 0;
}

static int store_ats_record(void *ud, const json_t *record, serr *e)
{
	struct ats_sync *s = ud;
	const struct config *c = s->ctx->cfg;
	const json_t *fields = json_object_get(record, "fields");
	const char *stage_fields[ATS_STAGE_COUNT] = {
		[ATS_POTENTIAL_FIT] = c->a_potential_fit,
		[ATS_AI_REJECTION] = c->a_ai_rejection,
		[ATS_SHORTLISTED] = c->a_shortlisted,
		[ATS_CLIENT_INTRODUCTION] = c->a_client_intro,
		[ATS_INTERVIEW1] = c->a_interview1,
		[ATS_INTERVIEW2] = c->a_interview2,
		[ATS_INTERVIEW3] = c->a_interview3,
		[ATS_INTERVIEW4] = c->a_interview4,
		[ATS_ASSIGNMENT] = c->a_assignment,
		[ATS_HIRED] = c->a_hired,
		[ATS_INTRODUCTION_REJECTED] = c->a_intro_rejected,
		[ATS_INTERVIEW_REJECTED] = c->a_interview_rejected,
		[ATS_ASSIGNMENT_REJECTED] = c->a_assignment_rejected,
		[ATS_NEGOTIATIONS_REJECTION] = c->a_negotiations_rejection,
		[ATS_TALENT_REJECTED_JOB] = c->a_talent_rejected,
		[ATS_CONSIDERED_ON_HOLD] = c->a_on_hold,
	};
	const char **ids[ATS_STAGE_COUNT] = { 0 };
	struct ats_row row;
	char *fields_text = NULL;
	int rc = -1;

	memset(&row, 0, sizeof(row));
	row.record_id = json_string_value(json_object_get(record, "id"));
	if (!row.record_id || !json_is_object(fields))
		return serr_set(e, "airtable returned an ats record without id or fields");
	if (!(fields_text = json_dumps(fields, JSON_COMPACT))) {
		serr_set(e, "out of memory");
		goto out;
	}
	row.fields_json = fields_text;
	row.job_record_id = airtable_strings_len(fields, c->a_job) ?
				    airtable_strings_at(fields, c->a_job, 0) : NULL;
	row.open_position = airtable_str(fields, c->a_open_position);
	row.job_status = airtable_str(fields, c->a_job_status);
	row.negotiations = airtable_str(fields, c->a_negotiations);
	for (int i = 0; i < ATS_STAGE_COUNT; i++) {
		if (stage_ids(fields, stage_fields[i], &ids[i], &row.stages[i].n, e) < 0)
			goto out;
		row.stages[i].ids = ids[i];
	}
	if (ats_row_upsert(s->ctx->store, &row, e) < 0) {
		serr_wrap(e, "ats row '%s'", row.record_id);
		goto out;
	}
	s->rows++;
	rc = 0;
out:
	for (int i = 0; i < ATS_STAGE_COUNT; i++)
		free(ids[i]);
	free(fields_text);
	return rc;
}

int step_sync_ats_rows(struct job_ctx *ctx, serr *e)
{
	struct airtable *at;
	struct ats_sync s = { ctx, 0 };

	if (job_ctx_airtable(ctx, &at, e) < 0)
		return -1;
	if (airtable_list(at, ctx->cfg->ats_table, NULL, store_ats_record, &s, e) < 0)
		return -1;
	ctx->records_written += s.rows;
	log_info("ats rows stored", "rows=%ld", s.rows);
	return job_ctx_materialize(ctx, "ats_rows",
				   json_pack("{s:I}", "rows_written", (json_int_t)s.rows), e);
}
