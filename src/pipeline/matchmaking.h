/*
 * The matchmaking steps: rank a job against the in-memory candidate pool
 * with the configured weights and store its top 20 and the exclusions
 * report (store/matches.h). Scores existing data; nothing is re-vectorized.
 */
#ifndef SCOUT_PIPELINE_MATCHMAKING_H
#define SCOUT_PIPELINE_MATCHMAKING_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/err.h"
#include "match/match.h"
#include "store/match_pool.h"
#include "store/store.h"

struct job_ctx;

/* What one ranking did. */
struct matchmaking_summary {
	char match_run_id[40];
	size_t pool_size;
	size_t stored;	 /* matches stored (at most MATCH_TOP) */
	size_t excluded; /* exclusions reported */
	double top_score; /* NAN when nothing was stored */
	char top_candidate[32];
	struct pool_refresh refresh;
	int64_t rank_ms;
	int64_t total_ms;
};

/* The weights from the match.* options. */
void matchmaking_weights(const struct config *cfg, struct match_weights *w);

/*
 * Rank one normalized job against the pool (refreshed first) and store the
 * result. job_run_id: the orchestrator run, or NULL.
 */
int matchmaking_score_job(struct store *s, const struct config *cfg, const char *job_record_id,
			  const char *job_run_id, struct matchmaking_summary *out,
			  serr *e) SCOUT_MUST;

/*
 * Step: rank the run's job (its partition key), or every normalized job
 * when the run has no partition; records a "matches" materialization per
 * job (pool size, top score, time).
 */
int step_score_job(struct job_ctx *ctx, serr *e) SCOUT_MUST;

#endif
