/*
 * The run state shared by the LLM steps of the pipelines, the LLM call log
 * with usage summed per run, and the pause of LLM work after a 402.
 */
#include "pipeline/llm_ctx.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "config/config.h"
#include "llm/prompt.h"
#include "orchestrator/context.h"
#include "store/llm_calls.h"
#include "store/store.h"

void *pipeline_state_new(void)
{
	struct pipeline_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ingest.records = json_array();
	s->ingest.extras = json_object();
	s->renormalized = json_object();
	if (!s->ingest.records || !s->ingest.extras || !s->renormalized) {
		pipeline_state_free(s);
		return NULL;
	}
	return s;
}

void pipeline_state_free(void *state)
{
	struct pipeline_state *s = state;

	if (!s)
		return;
	json_decref(s->ingest.records);
	json_decref(s->ingest.extras);
	json_decref(s->renormalized);
	if (s->llm) {
		llm_free(s->llm);
		free(s->llm);
	}
	free(s);
}

int pipeline_llm(struct job_ctx *ctx, struct llm **out, serr *e)
{
	struct pipeline_state *st = ctx->state;
	struct llm_pause pz;

	if (llm_pause_get(ctx->store, LLM_PAUSE_TAG, &pz, e) < 0)
		return -1;
	st->pause_seen |= pz.paused;
	if (pz.paused && pz.age_ms < LLM_PAUSE_PROBE_MS)
		return serr_set(e, "llm work is paused since %s: %s; add OpenRouter credits, the next "
				   "run after a minute probes the API and resumes",
				pz.since, pz.reason);
	if (!st->llm) {
		struct llm *l = calloc(1, sizeof(*l));

		if (!l)
			return serr_set(e, "out of memory creating the llm client");
		if (llm_init(l, ctx->cfg, e) < 0) {
			free(l);
			return -1;
		}
		st->llm = l;
	}
	*out = st->llm;
	return 0;
}

static int append_id(json_t *ids, const char *id)
{
	return json_array_append_new(ids, json_string(id));
}

json_t *pipeline_record_ids(struct job_ctx *ctx, const char *raw_table, serr *e)
{
	struct pipeline_state *st = ctx->state;
	json_t *ids = json_array(), *rec;
	PGresult *r = NULL;
	size_t i;
	char sql[128];

	if (!ids) {
		serr_set(e, "out of memory");
		return NULL;
	}
	if (json_array_size(st->ingest.records)) {
		json_array_foreach(st->ingest.records, i, rec) {
			const char *id = json_string_value(json_object_get(rec, "id"));
			if (id && append_id(ids, id) < 0)
				goto oom;
		}
		return ids;
	}
	if (ctx->partition) {
		if (append_id(ids, ctx->partition) < 0)
			goto oom;
		return ids;
	}
	/* raw_table is one of two constants of ours, never input */
	snprintf(sql, sizeof(sql), "SELECT record_id FROM %s ORDER BY record_id", raw_table);
	if (store_exec(ctx->store, "list the records to process", sql, 0, NULL, &r, e) < 0) {
		json_decref(ids);
		return NULL;
	}
	for (int row = 0; row < PQntuples(r); row++)
		if (append_id(ids, store_val(r, row, 0)) < 0) {
			PQclear(r);
			goto oom;
		}
	PQclear(r);
	return ids;
oom:
	json_decref(ids);
	serr_set(e, "out of memory listing records");
	return NULL;
}

int pipeline_llm_record(struct job_ctx *ctx, const char *record_id, const char *purpose,
			const char *model, const struct llm_usage *u, enum llm_error_kind kind,
			const char *error, serr *e)
{
	struct pipeline_state *st = ctx->state;
	struct llm_call_row row;

	llm_usage_add(&st->usage, u);
	memset(&row, 0, sizeof(row));
	row.run_id = ctx->run_id[0] ? ctx->run_id : NULL;
	row.record_id = record_id;
	row.purpose = purpose;
	row.model = model;
	row.prompt_tokens = u->prompt_tokens + u->embedding_tokens;
	row.completion_tokens = u->completion_tokens;
	row.cost_usd = u->cost_usd;
	row.attempts = u->calls > 0 ? (int)u->calls : 1;
	row.status = kind == LLM_OK ? "ok" : kind == LLM_ERR_INVALID_ANSWER ? "invalid" : "error";
	row.error = kind == LLM_OK ? NULL : error;
	if (kind == LLM_ERR_NO_CREDITS) {
		log_error("llm work paused: openrouter is out of credits (402)",
			  "record=%s purpose=%s", record_id ? record_id : "-", purpose);
		if (llm_pause_set(ctx->store, LLM_PAUSE_TAG,
				  "openrouter answered 402: out of credits", e) < 0)
			return -1;
	} else if (kind == LLM_OK && st->pause_seen) {
		log_info("llm work resumed: the api answered again", "record=%s",
			 record_id ? record_id : "-");
		st->pause_seen = 0;
		if (llm_pause_clear(ctx->store, LLM_PAUSE_TAG, e) < 0)
			return -1;
	}
	return llm_calls_insert(ctx->store, &row, e);
}

int pipeline_usage_meta(const struct llm_usage *u, json_t *meta)
{
	if (json_object_set_new(meta, "llm_requests", json_integer(u->calls)) < 0 ||
	    json_object_set_new(meta, "prompt_tokens", json_integer(u->prompt_tokens)) < 0 ||
	    json_object_set_new(meta, "completion_tokens", json_integer(u->completion_tokens)) < 0 ||
	    json_object_set_new(meta, "embedding_tokens", json_integer(u->embedding_tokens)) < 0 ||
	    json_object_set_new(meta, "embedding_inputs", json_integer(u->embedding_inputs)) < 0 ||
	    json_object_set_new(meta, "cost_usd", json_real(u->cost_usd)) < 0)
		return -1;
	return 0;
}

int pipeline_chat(struct job_ctx *ctx, const char *record_id, const char *purpose,
		  const struct prompt *p, const char *data, const json_t *schema,
		  const char *schema_name, llm_validate_fn fn, void *ud, json_t **answer,
		  enum llm_error_kind *kind, serr *e)
{
	struct llm *l;
	struct llm_chat req;
	struct llm_usage u;
	struct buf user;
	int rc = -1;

	*answer = NULL;
	*kind = LLM_ERR_TRANSPORT;
	memset(&u, 0, sizeof(u));
	buf_init(&user, PROMPT_MAX_DATA + 64 * 1024);
	if (!schema) {
		serr_set(e, "the '%s' schema could not be built (out of memory)", schema_name);
		goto out;
	}
	if (pipeline_llm(ctx, &l, e) < 0)
		goto out;
	if (prompt_render(p, data, &user, e) < 0) {
		serr_wrap(e, "cannot render the '%s' prompt for '%s'", p->name, record_id);
		goto out;
	}
	llm_chat_init(&req);
	req.model = ctx->cfg->llm_chat_model;
	req.system = p->text;
	req.user = buf_cstr(&user);
	req.schema = schema;
	req.schema_name = schema_name;
	rc = llm_chat_validated(l, &req, fn, ud, answer, &u, e);
	*kind = rc == 0 ? LLM_OK : llm_last_error(l);
	if (rc < 0)
		serr_wrap(e, "%s of '%s'", purpose, record_id);
	if (pipeline_llm_record(ctx, record_id, purpose, req.model, &u, *kind, rc < 0 ? e->msg : NULL,
				rc < 0 ? NULL : e) < 0) {
		if (rc == 0) {
			json_decref(*answer);
			*answer = NULL;
		}
		rc = -1;
	}
out:
	buf_free(&user);
	return rc;
}
