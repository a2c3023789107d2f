/*
 * The matchmaking steps (see matchmaking.h): load the job, refresh and
 * borrow the process-wide candidate pool, rank, store the top 20 with the
 * exclusions, and record what happened as a materialization.
 */
#include "pipeline/matchmaking.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/log.h"
#include "core/util.h"
#include "orchestrator/context.h"
#include "store/matches.h"

void matchmaking_weights(const struct config *cfg, struct match_weights *w)
{
	match_weights_default(w);
	w->vector = cfg->match_w_vector;
	w->skills = cfg->match_w_skills;
	w->comp = cfg->match_w_comp;
	w->location = cfg->match_w_location;
	w->v_role = cfg->match_w_v_role;
	w->v_domain = cfg->match_w_v_domain;
	w->v_culture = cfg->match_w_v_culture;
	w->s_coverage = cfg->match_w_s_coverage;
	w->s_semantic = cfg->match_w_s_semantic;
	w->must_have = cfg->match_w_must_have;
	w->nice_to_have = cfg->match_w_nice_to_have;
	w->skill_sim_threshold = cfg->match_skill_sim_threshold;
	w->seniority_penalty_per_year = cfg->match_penalty_per_year;
	w->seniority_penalty_max = cfg->match_penalty_max;
	w->verified_boost = cfg->match_verified_boost;
	w->highlight_slots = cfg->match_highlight_slots;
	w->highlight_margin = cfg->match_highlight_margin;
}

/* Weights a config file could set to nonsense are refused before ranking. */
static int weights_check(const struct match_weights *w, serr *e)
{
	const double v[] = { w->vector,	    w->skills,	     w->comp,
			     w->location,   w->v_role,	     w->v_domain,
			     w->v_culture,  w->s_coverage,   w->s_semantic,
			     w->must_have,  w->nice_to_have, w->seniority_penalty_per_year,
			     w->seniority_penalty_max, w->verified_boost, w->highlight_margin };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!isfinite(v[i]) || v[i] < 0)
			return serr_set(e, "the match.* weights must be numbers >= 0; check the "
					   "configuration ('scout config show')");
	if (!isfinite(w->skill_sim_threshold) || w->skill_sim_threshold < -1 ||
	    w->skill_sim_threshold > 1)
		return serr_set(e, "'match.skill_sim_threshold' must be between -1 and 1");
	if (w->highlight_slots < 0 || w->highlight_slots > MATCH_TOP)
		return serr_set(e, "'match.highlight_slots' must be between 0 and %d", MATCH_TOP);
	return 0;
}

int matchmaking_score_job(struct store *s, const struct config *cfg, const char *job_record_id,
			  const char *job_run_id, struct matchmaking_summary *out, serr *e)
{
	struct match_result res[MATCH_TOP];
	struct match_exclusion excl[MATCH_TOP];
	struct job_match_input job;
	struct match_weights w;
	const struct match_pool *pool = NULL;
	size_t n = 0, nx = 0;
	int64_t t0 = mono_ms(), t1;
	int rc = -1, found = 0, held = 0;

	memset(out, 0, sizeof(*out));
	out->top_score = NAN;
	job_match_input_init(&job);
	matchmaking_weights(cfg, &w);
	if (weights_check(&w, e) < 0)
		goto out;
	if (job_match_input_load(s, cfg->llm_embedding_model, cfg->llm_embedding_dimensions,
				 job_record_id, &job, &found, e) < 0)
		goto out;
	if (!found) {
		serr_set(e, "job '%s' is not normalized; run job_pipeline_job for it first",
			 job_record_id);
		goto out;
	}
	if (pool_cache_acquire(s, cfg->llm_embedding_model, cfg->llm_embedding_dimensions, &pool,
			       &out->refresh, e) < 0)
		goto out;
	held = 1;
	t1 = mono_ms();
	if (match_rank(pool, &job.in, &w, cfg->match_threads, MATCH_TOP, res, &n, excl, &nx, NULL,
		       e) < 0)
		goto out;
	out->rank_ms = mono_ms() - t1;
	out->pool_size = match_pool_size(pool);
	pool_cache_release();
	held = 0;
	{
		struct match_run_in in = { .job_record_id = job_record_id,
					   .job_run_id = job_run_id,
					   .pool_size = out->pool_size,
					   .weights = &w,
					   .results = res,
					   .n_results = n,
					   .excluded = excl,
					   .n_excluded = nx };
		if (matches_store_run(s, &in, out->match_run_id, e) < 0)
			goto out;
	}
	out->stored = n;
	out->excluded = nx;
	if (n) {
		out->top_score = res[0].score;
		snprintf(out->top_candidate, sizeof(out->top_candidate), "%s", res[0].record_id);
	}
	out->total_ms = mono_ms() - t0;
	log_info("job ranked", "job=%s pool=%zu stored=%zu excluded=%zu loaded=%zu ms=%lld",
		 job_record_id, out->pool_size, n, nx, out->refresh.loaded,
		 (long long)out->total_ms);
	rc = 0;
out:
	if (held)
		pool_cache_release();
	if (rc < 0)
		serr_wrap(e, "cannot rank job '%s'", job_record_id);
	job_match_input_free(&job);
	return rc;
}

static json_t *summary_meta(const char *job_record_id, const struct matchmaking_summary *m)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:s, s:I, s:I, s:{s:b, s:I, s:I, s:I, "
			 "s:I}}",
			 "job", job_record_id, "match_run_id", m->match_run_id, "pool_size",
			 (json_int_t)m->pool_size, "stored", (json_int_t)m->stored, "excluded",
			 (json_int_t)m->excluded, "top_score",
			 isfinite(m->top_score) ? json_real(m->top_score) : json_null(),
			 "top_candidate", m->top_candidate, "rank_ms", (json_int_t)m->rank_ms,
			 "ms", (json_int_t)m->total_ms, "pool_refresh", "full", m->refresh.full,
			 "loaded", (json_int_t)m->refresh.loaded, "removed",
			 (json_int_t)m->refresh.removed, "changed", (json_int_t)m->refresh.changed,
			 "ms", (json_int_t)m->refresh.ms);
}

static int score_one(struct job_ctx *ctx, const char *job_record_id, serr *e)
{
	struct matchmaking_summary m;
	json_t *meta;

	if (matchmaking_score_job(ctx->store, ctx->cfg, job_record_id, ctx->run_id, &m, e) < 0)
		return -1;
	ctx->records_written += (long)m.stored;
	if (!(meta = summary_meta(job_record_id, &m)))
		return serr_set(e, "out of memory recording the matches of job '%s'",
				job_record_id);
	return job_ctx_materialize(ctx, "matches", meta, e);
}

int step_score_job(struct job_ctx *ctx, serr *e)
{
	PGresult *r = NULL;
	serr first;
	int rc = -1, failed = 0, n;

	if (ctx->partition)
		return score_one(ctx, ctx->partition, e);
	if (store_exec(ctx->store, "list normalized jobs",
		       "SELECT record_id FROM normalized_jobs ORDER BY record_id", 0, NULL, &r,
		       e) < 0)
		goto out;
	n = PQntuples(r);
	serr_clear(&first);
	for (int i = 0; i < n; i++) {
		serr je;

		if (score_one(ctx, PQgetvalue(r, i, 0), &je) == 0)
			continue;
		log_error("ranking failed", "job=%s error=\"%s\"", PQgetvalue(r, i, 0), je.msg);
		if (++failed == 1)
			first = je;
	}
	if (failed) {
		serr_set(e, "%d of %d jobs failed; the first: %s", failed, n, first.msg);
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}
