/*
 * Role fitness of candidates. A candidate is scored again when it was
 * normalized again in this run, or when the stored scores are not exactly
 * for the current categories, model and prompt version; otherwise the
 * stored scores stand and no LLM call is made.
 */
#include "pipeline/fitness.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "core/log.h"
#include "llm/normalize_input.h"
#include "llm/normalize_schema.h"
#include "llm/prompt.h"
#include "orchestrator/context.h"
#include "pipeline/llm_ctx.h"
#include "store/normalized.h"
#include "store/raw.h"

/* Most categories scored for one candidate (the schema's limit). */
#define FITNESS_MAX_CATEGORIES 10

struct fit_counts {
	long done, skipped, failed;
	serr first;
};

/* The Desired Job Category values (multiple select, or text split on commas). */
static size_t categories_of(const json_t *fields, const char *field, const char **out, size_t max)
{
	const json_t *v = json_object_get(fields, field), *x;
	size_t i, n = 0;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			const char *s = json_string_value(x);
			if (!s && json_is_object(x))
				s = json_string_value(json_object_get(x, "name"));
			if (s && *s && strlen(s) <= NORMALIZE_MAX_NAME && n < max)
				out[n++] = s;
		}
	} else if (json_is_string(v) && *json_string_value(v) && n < max &&
		   strlen(json_string_value(v)) <= NORMALIZE_MAX_NAME) {
		out[n++] = json_string_value(v);
	}
	return n;
}

/* 1 when the stored scores are for exactly these categories, model and version. */
static int same_scores(const struct role_fitness_list *l, const char **cats, size_t n,
		       const char *model, int version)
{
	if (l->n != n)
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		size_t k;
		if (strcmp(l->items[i].model, model) != 0 || l->items[i].prompt_version != version)
			return 0;
		for (k = 0; k < n; k++)
			if (strcasecmp(l->items[i].category, cats[k]) == 0)
				break;
		if (k == n)
			return 0;
	}
	return 1;
}

static int score_one(struct job_ctx *ctx, const struct prompt *p, const char *id,
		     enum llm_error_kind *kind, serr *e)
{
	struct pipeline_state *st = ctx->state;
	const char *model = ctx->cfg->llm_chat_model;
	struct raw_candidate raw;
	struct normalized_candidate nc;
	struct role_fitness_list old = { NULL, 0, NULL };
	const char *cats[FITNESS_MAX_CATEGORIES];
	struct normalize_categories nk;
	json_t *fields = NULL, *answer = NULL;
	json_error_t je;
	struct buf data;
	size_t n = 0;
	int found = 0, nfound = 0, rc = -1;

	*kind = LLM_OK;
	raw_candidate_init(&raw);
	normalized_candidate_init(&nc);
	buf_init(&data, PROMPT_MAX_DATA);
	if (raw_candidate_get(ctx->store, id, &raw, &found, e) < 0 ||
	    normalized_candidate_get(ctx->store, id, &nc, &nfound, e) < 0)
		goto out;
	if (!found || !nfound) {
		serr_set(e, "candidate '%s' is not normalized: its normalize step must succeed first",
			 id);
		goto out;
	}
	if (raw.fields_json && (fields = json_loads(raw.fields_json, 0, &je)))
		n = categories_of(fields, ctx->cfg->f_desired_category, cats, FITNESS_MAX_CATEGORIES);
	if (role_fitness_read(ctx->store, id, &old, e) < 0)
		goto out;
	if (!json_object_get(st->renormalized, id) && same_scores(&old, cats, n, model, p->version)) {
		rc = 1;
		goto out;
	}
	if (n == 0) {
		/* nothing to score: clear old scores without asking the model */
		answer = json_pack("{s:[]}", "fitness");
	} else {
		nk.names = cats;
		nk.n = n;
		if (normalize_fitness_input(nc.normalized, cats, n, &data, e) < 0)
			goto out;
		if (pipeline_chat(ctx, id, "role_fitness", p, buf_cstr(&data),
				  normalize_schema_fitness(), NORMALIZE_SCHEMA_FITNESS,
				  normalize_validate_fitness, &nk, &answer, kind, e) < 0)
			goto out;
	}
	if (!answer) {
		serr_set(e, "out of memory");
		goto out;
	}
	if (role_fitness_replace(ctx->store, id, model, p->version, answer, e) < 0) {
		serr_wrap(e, "cannot store the role fitness of '%s'", id);
		goto out;
	}
	rc = 0;
out:
	json_decref(answer);
	json_decref(fields);
	role_fitness_list_free(&old);
	raw_candidate_free(&raw);
	normalized_candidate_free(&nc);
	buf_free(&data);
	return rc;
}

int step_role_fitness(struct job_ctx *ctx, serr *e)
{
	struct pipeline_state *st = ctx->state;
	struct prompt p;
	struct fit_counts c;
	json_t *ids, *idv, *meta;
	size_t i;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	if (prompt_load(NORMALIZE_PROMPT_FITNESS, &p, e) < 0)
		return -1;
	if (!(ids = pipeline_record_ids(ctx, "raw_candidates", e)))
		return -1;
	json_array_foreach(ids, i, idv) {
		const char *id = json_string_value(idv);
		enum llm_error_kind kind = LLM_OK;
		serr re;
		int r = score_one(ctx, &p, id, &kind, &re);

		if (r == 1) {
			c.skipped++;
		} else if (r == 0) {
			c.done++;
		} else {
			c.failed++;
			log_error("role fitness failed", "record=%s error=\"%s\"", id, re.msg);
			if (c.failed == 1)
				c.first = re;
			if (kind == LLM_ERR_NO_CREDITS || strstr(re.msg, "llm work is paused"))
				break;
		}
	}
	meta = json_pack("{s:I,s:I,s:I,s:i}", "scored", (json_int_t)c.done, "unchanged",
			 (json_int_t)c.skipped, "failed", (json_int_t)c.failed, "prompt_version",
			 p.version);
	if (!meta || pipeline_usage_meta(&st->usage, meta) < 0) {
		json_decref(meta);
		serr_set(e, "out of memory");
		goto out;
	}
	if (job_ctx_materialize(ctx, "candidate_role_fitness", meta, e) < 0)
		goto out;
	if (c.failed) {
		if (json_array_size(ids) == 1)
			*e = c.first;
		else
			serr_set(e, "%ld of %zu candidates failed; the first: %s", c.failed,
				 json_array_size(ids), c.first.msg);
		goto out;
	}
	rc = 0;
out:
	json_decref(ids);
	return rc;
}
