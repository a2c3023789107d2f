/*
 * The Airtable sensors: which Talent / Customers STT records changed since
 * the cursor. Only the input fields count (LAST_MODIFIED_TIME over them),
 * so scout's own writes to (N) fields and link changes never re-trigger a
 * sensor; only the input fields are listed, so one listing gives what the
 * input hash needs. The run key is record id + ":" + input hash: a record
 * seen twice (the overlap window, a change that left the inputs as they
 * were) never yields a second run.
 */
#include <stdio.h>
#include <string.h>

#include "airtable/airtable.h"
#include "airtable/formula.h"
#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "pipeline/ingest.h"
#include "pipeline/sensors.h"

#define INPUT_FIELDS_MAX 32
#define RECORD_ID_MAX 64

/* One watched table. */
struct watched {
	const char *label; /* "Talent" */
	const char *table; /* table id */
	void (*fields)(const struct config *cfg, const char *out[], size_t max);
	int (*hash)(const struct config *cfg, const json_t *fields, char out[65], serr *e);
};

struct collect {
	const struct sensor_eval_ctx *ctx;
	const struct watched *w;
	struct sensor_result *out;
	json_t *seen; /* record id -> true: each record once per tick */
	long records;
	long duplicates;
};

/* Record ids become partition keys and run keys: accept only their real shape. */
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

static int on_record(void *ud, const json_t *record, serr *e)
{
	struct collect *c = ud;
	const char *id = json_string_value(json_object_get(record, "id"));
	const json_t *fields = json_object_get(record, "fields");
	char hash[65], key[RECORD_ID_MAX + 80];
	int max = c->ctx->cfg->sensor_max_requests;
	json_t *tags;

	if (!record_id_ok(id))
		return serr_set(e, "the %s table returned a record id '%.80s' that is not a record id",
				c->w->label, id ? id : "(none)");
	if (json_object_get(c->seen, id)) {
		c->duplicates++;
		return 0;
	}
	if (json_object_set_new(c->seen, id, json_true()) < 0)
		return serr_set(e, "out of memory remembering record '%s'", id);
	if (max > 0 && c->records >= max)
		return serr_set(e, "more than %d %s records changed: raise sensor.max_requests "
				   "or run a backfill",
				max, c->w->label);
	if (fields && !json_is_object(fields))
		return serr_set(e, "record '%s' of the %s table has fields that are not an object",
				id, c->w->label);
	if (c->w->hash(c->ctx->cfg, fields, hash, e) < 0)
		return serr_wrap(e, "record '%s' of the %s table", id, c->w->label);
	snprintf(key, sizeof(key), "%s:%s", id, hash);
	tags = json_pack("{s:s,s:s}", "sensor", c->ctx->def->name, "input_hash", hash);
	if (!tags)
		return serr_set(e, "out of memory tagging the request of record '%s'", id);
	if (sensor_result_request(c->out, c->ctx->def->job, id, key, tags, e) < 0)
		return -1;
	c->records++;
	return 0;
}

/* The formula selecting records whose input fields changed after since_iso. */
static int changed_after(const struct sensor_eval_ctx *ctx, const char *const *names, size_t n,
			 const char *since_iso, struct buf *formula, serr *e)
{
	if (formula_modified_after(formula, names, n, since_iso, e) < 0)
		return serr_wrap(e, "sensor '%s'", ctx->def->name);
	return 0;
}

static int eval_table(const struct sensor_eval_ctx *ctx, const char *cursor,
		      const struct watched *w, struct sensor_result *out, serr *e)
{
	const struct config *cfg = ctx->cfg;
	const char *names[INPUT_FIELDS_MAX];
	struct airtable_query q = { 0 };
	struct collect c = { ctx, w, out, NULL, 0, 0 };
	struct airtable at;
	struct buf formula;
	char since[32] = "", reason[160];
	int64_t cursor_ms, overlap_ms;
	size_t n = 0;
	int at_open = 0, rc = -1;

	buf_init(&formula, 64 * 1024);
	w->fields(cfg, names, INPUT_FIELDS_MAX);
	while (names[n])
		n++;
	if (cursor && *cursor) {
		if (iso8601_parse(cursor, &cursor_ms) < 0) {
			serr_set(e, "the cursor '%.60s' of sensor '%s' is not an ISO-8601 time: "
				    "run `scout sensor reset %s` to list every record again",
				 cursor, ctx->def->name, ctx->def->name);
			goto out;
		}
		/* A negative overlap would skip changes: never look later than the cursor. */
		overlap_ms = cfg->sensor_overlap_s > 0 ? (int64_t)cfg->sensor_overlap_s * 1000 : 0;
		iso8601_ms(cursor_ms - overlap_ms, since);
		if (changed_after(ctx, names, n, since, &formula, e) < 0)
			goto out;
		q.formula = buf_cstr(&formula);
	}
	q.fields = names;
	if (!(c.seen = json_object())) {
		serr_set(e, "out of memory");
		goto out;
	}
	if (airtable_init(&at, cfg, e) < 0)
		goto out;
	at_open = 1;
	if (airtable_list(&at, w->table, &q, on_record, &c, e) < 0) {
		serr_wrap(e, "sensor '%s' cannot list the %s table", ctx->def->name, w->label);
		goto out;
	}
	if (!(out->metadata = json_pack("{s:s,s:I,s:I,s:I,s:s?,s:b}", "table", w->table, "records",
					(json_int_t)c.records, "duplicates",
					(json_int_t)c.duplicates, "airtable_requests",
					(json_int_t)at.stats.requests, "since",
					since[0] ? since : NULL, "full_listing", !since[0]))) {
		serr_set(e, "out of memory");
		goto out;
	}
	/* The next tick looks from this tick's start: see docs/sensors.md on clocks. */
	if (sensor_result_cursor(out, ctx->tick_start, e) < 0)
		goto out;
	if (c.records == 0) {
		if (since[0])
			snprintf(reason, sizeof(reason), "no %s record's input fields changed since %s",
				 w->label, since);
		else
			snprintf(reason, sizeof(reason), "the %s table has no records", w->label);
		if (sensor_result_skip(out, reason, e) < 0)
			goto out;
	}
	log_info("sensor evaluated", "sensor=%s records=%ld since=%s requests=%ld", ctx->def->name,
		 c.records, since[0] ? since : "(full)", at.stats.requests);
	rc = 0;
out:
	if (at_open)
		airtable_free(&at);
	json_decref(c.seen);
	buf_free(&formula);
	return rc;
}

int sensor_eval_airtable_candidates(const struct sensor_eval_ctx *ctx, const char *cursor,
				    struct sensor_result *out, serr *e)
{
	struct watched w = { "Talent", ctx->cfg->talent_table, candidate_input_fields,
			     candidate_input_hash };

	return eval_table(ctx, cursor, &w, out, e);
}

int sensor_eval_airtable_jobs(const struct sensor_eval_ctx *ctx, const char *cursor,
			      struct sensor_result *out, serr *e)
{
	struct watched w = { "Customers STT", ctx->cfg->jobs_table, job_input_fields,
			     job_input_hash };

	return eval_table(ctx, cursor, &w, out, e);
}
