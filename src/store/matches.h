/*
 * Matchmaking results (migration 0010): each ranking of a job is a match
 * run (pool size, the exclusions report) with its top candidates in
 * `matches`, every score component and the weights kept, so a recruiter
 * sees why. Earlier runs stay for history; readers take the latest.
 */
#ifndef SCOUT_STORE_MATCHES_H
#define SCOUT_STORE_MATCHES_H

#include <stddef.h>

#include <jansson.h>

#include "match/match.h"
#include "store/store.h"

/* One ranking to store. results best first (rank = index + 1). */
struct match_run_in {
	const char *job_record_id;
	const char *job_run_id; /* the orchestrator run, kept when it exists; or NULL */
	size_t pool_size;
	const struct match_weights *weights;
	const struct match_result *results;
	size_t n_results; /* at most MATCH_TOP */
	const struct match_exclusion *excluded;
	size_t n_excluded;
};

/* One stored ranking read back. */
struct match_run {
	char run_id[40];
	char job_record_id[64];
	char job_run_id[40]; /* "" when none */
	char created_at[40]; /* ISO-8601 UTC */
	size_t pool_size;
	json_t *weights;     /* owned: the weights as stored */
	json_t *excluded;    /* owned: [{record_id, score, reason}] */
	struct match_result *results; /* best first; results[i] has rank i + 1 */
	size_t n_results;
};

/* A run in a job's history. */
struct match_run_summary {
	char run_id[40];
	char created_at[40];
	size_t pool_size;
	size_t n_results;
	size_t n_excluded;
	double top_score; /* NAN when the run stored no match */
	char top_candidate[32];
};

void match_run_init(struct match_run *r);
void match_run_free(struct match_run *r);

/* The weights as the jsonb stored with every match (new reference). */
json_t *match_weights_json(const struct match_weights *w);

/*
 * Store one ranking: the run and its matches together (its own transaction,
 * or the caller's when one is open). run_id_out (may be NULL) gets the new
 * run id.
 */
int matches_store_run(struct store *s, const struct match_run_in *in, char run_id_out[40],
		      serr *e) SCOUT_MUST;

/* The job's latest ranking; *found = 0 when the job was never ranked. */
int matches_latest(struct store *s, const char *job_record_id, struct match_run *out,
		   int *found, serr *e) SCOUT_MUST;

/* One ranking by its run id; *found = 0 when unknown. */
int matches_get_run(struct store *s, const char *run_id, struct match_run *out, int *found,
		    serr *e) SCOUT_MUST;

/*
 * The job's rankings, newest first, at most limit of them; *out is
 * malloc'd (free() it), *n may be 0.
 */
int matches_history(struct store *s, const char *job_record_id, size_t limit,
		    struct match_run_summary **out, size_t *n, serr *e) SCOUT_MUST;

#endif
