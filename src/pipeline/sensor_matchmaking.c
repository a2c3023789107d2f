/*
 * airtable_job_matchmaking_sensor: the seed's Start Matchmaking checkbox.
 * One filtered listing per tick ({Start Matchmaking}=TRUE(), only the (N)
 * columns and the checkbox requested), one matchmaking_with_feedback_job
 * request per checked job. The run key is the record id, a hash of its (N)
 * values and the tick's interval bucket: the same check seen twice in one
 * interval is one run, a job checked again later runs again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airtable/airtable.h"
#include "airtable/formula.h"
#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "llm/normalize_schema.h"
#include "pipeline/feedback.h"

#define RECORD_ID_MAX 64
#define MATCH_FIELDS_MAX 32

struct checked {
	const struct sensor_eval_ctx *ctx;
	struct sensor_result *out;
	long bucket;
	long records;
};

static int record_id_ok(const char *id)
{
	size_t n = 0;

	if (!id)
		return 0;
	for (; id[n]; n++) {
		char c = id[n];
		if (n >= RECORD_ID_MAX ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return 0;
	}
	return n > 0;
}

/* SHA-256 of the record's (N) values in column order: what the run will read. */
static int n_values_hash(const struct config *cfg, const json_t *fields, char out[65], serr *e)
{
	json_t *vals = json_array();
	char *text = NULL;
	int rc = -1;

	if (!vals)
		goto oom;
	for (size_t i = 0; i < normalize_job_n_count; i++) {
		const json_t *v =
			json_object_get(fields, normalize_n_column(cfg, &normalize_job_n_fields[i]));
		if (json_array_append_new(vals, v ? json_deep_copy(v) : json_null()) < 0)
			goto oom;
	}
	if (!(text = json_dumps(vals, JSON_COMPACT | JSON_ENCODE_ANY)))
		goto oom;
	sha256_hex(text, strlen(text), out);
	rc = 0;
	goto out;
oom:
	serr_set(e, "out of memory hashing the (N) values");
out:
	free(text);
	json_decref(vals);
	return rc;
}

static int on_checked(void *ud, const json_t *record, serr *e)
{
	struct checked *c = ud;
	const char *id = json_string_value(json_object_get(record, "id"));
	const json_t *fields = json_object_get(record, "fields");
	int max = c->ctx->cfg->sensor_max_requests;
	char hash[65], key[RECORD_ID_MAX + 100];
	json_t *tags;

	if (!record_id_ok(id))
		return serr_set(e, "the Customers STT table returned a record id '%.80s' that is "
				   "not a record id",
				id ? id : "(none)");
	if (max > 0 && c->records >= max)
		return serr_set(e, "more than %d jobs have Start Matchmaking checked: raise "
				   "sensor.max_requests",
				max);
	if (n_values_hash(c->ctx->cfg, fields, hash, e) < 0)
		return serr_wrap(e, "job '%s'", id);
	snprintf(key, sizeof(key), "%s:%.16s:%ld", id, hash, c->bucket);
	tags = json_pack("{s:s,s:s}", "sensor", c->ctx->def->name, "n_hash", hash);
	if (!tags)
		return serr_set(e, "out of memory tagging the request of job '%s'", id);
	if (sensor_result_request(c->out, c->ctx->def->job, id, key, tags, e) < 0)
		return -1;
	c->records++;
	return 0;
}

int sensor_eval_job_matchmaking(const struct sensor_eval_ctx *ctx, const char *cursor,
				struct sensor_result *out, serr *e)
{
	const struct config *cfg = ctx->cfg;
	const char *names[MATCH_FIELDS_MAX];
	struct airtable_query q = { 0 };
	struct checked c = { ctx, out, 0, 0 };
	struct airtable at;
	struct buf formula;
	size_t n = 0;
	int64_t interval_ms = (int64_t)sensor_def_interval(ctx->def, cfg) * 1000;
	int at_open = 0, rc = -1;

	(void)cursor;
	buf_init(&formula, 4096);
	for (size_t i = 0; i < normalize_job_n_count && n < MATCH_FIELDS_MAX - 2; i++)
		names[n++] = normalize_n_column(cfg, &normalize_job_n_fields[i]);
	names[n++] = cfg->j_start_matchmaking;
	names[n] = NULL;
	c.bucket = (long)(ctx->tick_start_ms / (interval_ms > 0 ? interval_ms : 1));
	if (formula_checkbox_checked(&formula, cfg->j_start_matchmaking, e) < 0) {
		serr_wrap(e, "sensor '%s'", ctx->def->name);
		goto out;
	}
	q.formula = buf_cstr(&formula);
	q.fields = names;
	if (airtable_init(&at, cfg, e) < 0)
		goto out;
	at_open = 1;
	if (airtable_list(&at, cfg->jobs_table, &q, on_checked, &c, e) < 0) {
		serr_wrap(e, "sensor '%s' cannot list the jobs with '%s' checked", ctx->def->name,
			  cfg->j_start_matchmaking);
		goto out;
	}
	if (!(out->metadata = json_pack("{s:s,s:I,s:I}", "table", cfg->jobs_table, "records",
					(json_int_t)c.records, "airtable_requests",
					(json_int_t)at.stats.requests))) {
		serr_set(e, "out of memory");
		goto out;
	}
	if (c.records == 0 && sensor_result_skip(out, "no job has Start Matchmaking checked", e) < 0)
		goto out;
	log_info("sensor evaluated", "sensor=%s checked=%ld requests=%ld", ctx->def->name,
		 c.records, at.stats.requests);
	rc = 0;
out:
	if (at_open)
		airtable_free(&at);
	buf_free(&formula);
	return rc;
}
