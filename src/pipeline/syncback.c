/*
 * The sync-back steps (see syncback.h and docs/syncback.md): per chunk of
 * normalized records, one listing of their current (N) cells by
 * RECORD_ID(), a plan per record, one airtable_update call (batches of 10,
 * paced per base) for the cells that change, then the values Airtable
 * stored remembered in airtable_writes and people's edits in human_edits.
 */
#include <stdio.h>
#include <string.h>

#include "airtable/airtable.h"
#include "airtable/formula.h"
#include "config/config.h"
#include "core/log.h"
#include "orchestrator/context.h"
#include "pipeline/syncback.h"
#include "store/airtable_writes.h"
#include "store/normalized.h"

/* One table's sync-back. */
struct side {
	int jobs; /* 0: Talent, 1: Customers STT */
	const char *table;
	const char *table_name;
	const struct normalize_n_field *nf;
	size_t n;
	int uncheck; /* set Start Matchmaking = false when checked */
};

struct tally {
	long records, patched, cells, edits, unchecked, missing, flags;
};

/* Current fields of the chunk's records, by record id (records deleted in Airtable absent). */
static int fetch_current(struct job_ctx *ctx, struct airtable *at, const struct side *sd,
			 const json_t *rows, json_t *out, serr *e);

static int collect(void *ud, const json_t *record, serr *e)
{
	json_t *out = ud;
	const char *id = json_string_value(json_object_get(record, "id"));
	json_t *f = json_object_get(record, "fields");

	if (!id)
		return serr_set(e, "a listed record has no id");
	if (json_object_set(out, id, json_is_object(f) ? f : json_object()) < 0)
		return serr_set(e, "out of memory collecting record '%s'", id);
	return 0;
}

static int fetch_current(struct job_ctx *ctx, struct airtable *at, const struct side *sd,
			 const json_t *rows, json_t *out, serr *e)
{
	const char *ids[SYNCBACK_CHUNK], *names[64];
	struct airtable_query q;
	struct buf formula;
	size_t n = 0, k = 0;
	json_t *row;
	int rc = -1;

	buf_init(&formula, 0);
	json_array_foreach(rows, n, row)
		if (n < SYNCBACK_CHUNK)
			ids[n] = json_string_value(json_object_get(row, "id"));
	n = json_array_size(rows);
	if (n > SYNCBACK_CHUNK)
		n = SYNCBACK_CHUNK;
	for (size_t i = 0; i < sd->n && k + 2 < sizeof(names) / sizeof(names[0]); i++)
		names[k++] = normalize_n_column(ctx->cfg, &sd->nf[i]);
	if (sd->uncheck)
		names[k++] = ctx->cfg->j_start_matchmaking;
	names[k] = NULL;
	if (formula_record_id_in(&formula, ids, n, e) < 0)
		goto out;
	memset(&q, 0, sizeof(q));
	q.formula = buf_cstr(&formula);
	q.fields = names;
	if (airtable_list(at, sd->table, &q, collect, out, e) < 0) {
		serr_wrap(e, "cannot read the current (N) cells of %s", sd->table_name);
		goto out;
	}
	rc = 0;
out:
	buf_free(&formula);
	return rc;
}

/* The recruiter's (N) Verification Status is the candidate's verified flag. */
static int copy_verified(struct job_ctx *ctx, const json_t *row, const json_t *current,
			 struct tally *t, serr *e)
{
	const char *id = json_string_value(json_object_get(row, "id"));
	int now = strcmp(airtable_str(current, ctx->cfg->tn_verification_status),
			 SYNCBACK_VERIFIED) == 0;
	int found;

	if (now == json_is_true(json_object_get(row, "verified")))
		return 0;
	if (normalized_candidate_set_flag(ctx->store, id, CANDIDATE_VERIFIED, now, &found, e) < 0)
		return -1;
	t->flags++;
	return 0;
}

/* Plan one record; appends its PATCH element to patch when something changes. */
static int plan_one(struct job_ctx *ctx, const struct side *sd, const json_t *row,
		    const json_t *current, json_t *patch, struct tally *t, serr *e)
{
	const char *id = json_string_value(json_object_get(row, "id"));
	struct syncback_plan p;
	json_t *written = NULL, *ed;
	size_t i;
	int rc = -1;

	syncback_plan_init(&p);
	if (airtable_writes_get_record(ctx->store, sd->table, id, &written, e) < 0)
		goto out;
	if (syncback_plan_record(ctx->cfg, sd->nf, sd->n, json_object_get(row, "n"), current,
				 written, &p, e) < 0) {
		serr_wrap(e, "%s record '%s'", sd->table_name, id);
		goto out;
	}
	json_array_foreach(p.edits, i, ed) {
		const char *field = json_string_value(json_object_get(ed, "field"));
		if (syncback_human_edit_record(ctx->store, sd->table, id, field,
					       json_object_get(ed, "scout"),
					       json_object_get(ed, "human"), e) < 0)
			goto out;
		log_info("kept a recruiter's edit of an (N) cell", "record=%s field=%s", id, field);
		t->edits++;
	}
	if (!sd->jobs && copy_verified(ctx, row, current, t, e) < 0)
		goto out;
	if (sd->uncheck && airtable_bool(current, ctx->cfg->j_start_matchmaking)) {
		if (json_object_set_new(p.write, ctx->cfg->j_start_matchmaking, json_false()) < 0)
			goto oom;
		t->unchecked++;
	}
	if (json_object_size(p.write) > 0 &&
	    json_array_append_new(patch, json_pack("{s:s, s:O}", "id", id, "fields", p.write)) < 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	serr_set(e, "cannot plan the sync-back of record '%s': out of memory", id);
out:
	json_decref(written);
	syncback_plan_free(&p);
	return rc;
}

/*
 * What Airtable stored for the (N) cells of one written record, as it
 * returned them (an empty cell is absent): the value a later run compares
 * the current one with.
 */
static int remember(struct job_ctx *ctx, const struct side *sd, const json_t *sent,
		    const json_t *returned, struct tally *t, serr *e)
{
	const char *id = json_string_value(json_object_get(returned, "id"));
	json_t *rf = json_object_get(returned, "fields"), *cells = json_object(), *sf = NULL, *v;
	const char *k;
	int rc = -1;

	if (!cells)
		return serr_set(e, "cannot remember the sync-back of '%s': out of memory",
				id ? id : "");
	sf = json_object_get(sent, "fields");
	json_object_foreach(sf, k, v) {
		json_t *got = json_object_get(rf, k);
		(void)v;
		if (sd->uncheck && strcmp(k, ctx->cfg->j_start_matchmaking) == 0)
			continue;
		if (json_object_set(cells, k, got ? got : json_null()) < 0) {
			serr_set(e, "cannot remember the sync-back of '%s': out of memory", id);
			goto out;
		}
	}
	t->cells += (long)json_object_size(cells);
	if (json_object_size(cells) > 0 &&
	    airtable_writes_set_record(ctx->store, sd->table, id, cells, e) < 0)
		goto out;
	rc = 0;
out:
	json_decref(cells);
	return rc;
}

/* PATCH the chunk's changes; what was written is remembered even when a later batch fails. */
static int write_patch(struct job_ctx *ctx, struct airtable *at, const struct side *sd,
		       const json_t *patch, struct tally *t, serr *e)
{
	json_t *out = NULL, *rec;
	size_t i;
	int rc, wrc = 0;
	serr e2;

	if (json_array_size(patch) == 0)
		return 0;
	/* typecast off: a value outside a select's options fails loudly instead of changing */
	rc = airtable_update(at, sd->table, patch, 0, &out, e);
	json_array_foreach(out, i, rec) {
		const char *id = json_string_value(json_object_get(rec, "id"));
		const json_t *sent = json_array_get(patch, i);

		if (!id || !sent || strcmp(id, json_string_value(json_object_get(sent, "id"))) != 0) {
			if (rc == 0)
				rc = serr_set(e, "Airtable answered the %s update out of order at "
						 "record %zu", sd->table_name, i);
			break;
		}
		if (remember(ctx, sd, sent, rec, t, rc < 0 ? &e2 : e) < 0) {
			wrc = -1;
			break;
		}
		t->patched++;
		ctx->records_written++;
	}
	json_decref(out);
	if (rc < 0) {
		serr_wrap(e, "cannot write the (N) cells of %s", sd->table_name);
		return -1;
	}
	return wrc;
}

static int sync_chunk(struct job_ctx *ctx, struct airtable *at, const struct side *sd,
		      const json_t *rows, struct tally *t, serr *e)
{
	json_t *current = json_object(), *patch = json_array(), *row;
	size_t i;
	int rc = -1;

	if (!current || !patch) {
		serr_set(e, "cannot sync back %s: out of memory", sd->table_name);
		goto out;
	}
	if (fetch_current(ctx, at, sd, rows, current, e) < 0)
		goto out;
	json_array_foreach(rows, i, row) {
		const char *id = json_string_value(json_object_get(row, "id"));
		json_t *cur = json_object_get(current, id);

		t->records++;
		if (!cur) {
			/* deleted in Airtable since it was normalized: nothing to write to */
			log_warn("a normalized record is no longer in Airtable", "table=%s record=%s",
				 sd->table_name, id);
			t->missing++;
			continue;
		}
		if (plan_one(ctx, sd, row, cur, patch, t, e) < 0)
			goto out;
	}
	rc = write_patch(ctx, at, sd, patch, t, e);
out:
	json_decref(current);
	json_decref(patch);
	return rc;
}

static int run_side(struct job_ctx *ctx, const struct side *sd, serr *e)
{
	struct syncback_rows r;
	struct tally t;
	struct airtable *at = NULL;
	long requests0 = 0;
	json_t *meta;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	memset(&t, 0, sizeof(t));
	for (;;) {
		if (syncback_rows_next(ctx->store, sd->jobs, ctx->partition, &r, e) < 0)
			goto out;
		if (json_array_size(r.rows) == 0)
			break;
		if (!at) {
			if (job_ctx_airtable(ctx, &at, e) < 0)
				goto out;
			requests0 = at->stats.requests;
		}
		if (sync_chunk(ctx, at, sd, r.rows, &t, e) < 0)
			goto out;
		if (ctx->partition)
			break;
	}
	if (ctx->partition && t.records == 0)
		log_info("nothing to sync back: the record is not normalized", "table=%s record=%s",
			 sd->table_name, ctx->partition);
	rc = 0;
out:
	meta = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "records", (json_int_t)t.records,
			 "records_patched", (json_int_t)t.patched, "cells_written",
			 (json_int_t)t.cells, "human_edits_kept", (json_int_t)t.edits,
			 "records_missing", (json_int_t)t.missing, "airtable_requests",
			 (json_int_t)(at ? at->stats.requests - requests0 : 0), "flags_updated",
			 (json_int_t)t.flags);
	if (meta && sd->uncheck)
		json_object_set_new(meta, "start_matchmaking_unchecked", json_integer(t.unchecked));
	if (rc == 0) {
		if (!meta)
			rc = serr_set(e, "cannot report the sync-back: out of memory");
		else
			rc = job_ctx_materialize(ctx, sd->jobs ? "airtable_jobs_n_fields"
							       : "airtable_talent_n_fields",
						 meta, e);
		meta = NULL;
	}
	json_decref(meta);
	json_decref(r.rows);
	return rc;
}

int step_syncback_candidate(struct job_ctx *ctx, serr *e)
{
	struct side sd = { 0, ctx->cfg->talent_table, "Talent", normalize_talent_n_fields,
			   normalize_talent_n_count, 0 };

	return run_side(ctx, &sd, e);
}

int step_syncback_job(struct job_ctx *ctx, serr *e)
{
	struct side sd = { 1, ctx->cfg->jobs_table, "Customers STT", normalize_job_n_fields,
			   normalize_job_n_count, 1 };

	return run_side(ctx, &sd, e);
}

int step_syncback_job_fields(struct job_ctx *ctx, serr *e)
{
	struct side sd = { 1, ctx->cfg->jobs_table, "Customers STT", normalize_job_n_fields,
			   normalize_job_n_count, 0 };

	return run_side(ctx, &sd, e);
}
