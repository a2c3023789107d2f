/*
 * Loading what the matchmaking engine ranks from PostgreSQL: the candidate
 * pool (normalized candidates, their skills and vectors, recruiter flags)
 * and one job with the candidates a recruiter rejected for it.
 *
 * The pool stays in memory in the process (one cache, behind a mutex) and
 * is refreshed incrementally: only the candidates in candidate_pool_changes
 * stamped by transactions the snapshot of the previous load did not see are
 * read again (see db/migrations/0010_matches.sql); a candidate gone from
 * normalized_candidates leaves the pool. Reads go by chunks of record ids,
 * three statements a chunk, vectors in binary form; a full load fetches two
 * chunks at a time over a second connection that shares the snapshot.
 */
#ifndef SCOUT_STORE_MATCH_POOL_H
#define SCOUT_STORE_MATCH_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "match/match.h"
#include "store/job_match.h"
#include "store/store.h"

/* What one refresh did. */
struct pool_refresh {
	int full;	  /* 1: the pool was loaded from scratch */
	size_t changed;	  /* records named by the change log (0 on a full load) */
	size_t loaded;	  /* candidates read from PostgreSQL */
	size_t removed;	  /* candidates dropped from the pool */
	size_t names;	  /* skill name vectors read */
	int connections;  /* database connections the load used (2: a full load
			   * fetching two chunks at a time on one snapshot) */
	size_t pool_size; /* candidates in the pool afterwards */
	int64_t ms;	  /* time the refresh took */
};

/*
 * Lock the process-wide pool of this embedding space (model, dimensions),
 * bring it up to date with the database s is connected to and hand it out
 * in *out until pool_cache_release(). A different space or database
 * replaces the cached pool. On failure the lock is not held.
 */
int pool_cache_acquire(struct store *s, const char *model, int dimensions,
		       const struct match_pool **out, struct pool_refresh *st, serr *e) SCOUT_MUST;
void pool_cache_release(void);
/* Forget the cached pool: the next acquire loads it in full. */
void pool_cache_drop(void);
/* Candidates per round of statements (0: the default, 256); tests lower it. */
void pool_cache_chunk_set(size_t n);
/* Whether a full load may use a second connection (default 1). */
void pool_cache_second_connection_set(int on);

/*
 * Read the named candidates into p (upserted; ids no longer normalized are
 * removed). The pool's dimensions must be `dimensions`; vectors of other
 * models or sizes are left out.
 */
int pool_load_candidates(struct store *s, struct match_pool *p, const char *model,
			 int dimensions, const char *const *ids, size_t n, size_t *loaded,
			 size_t *removed, serr *e) SCOUT_MUST;

#endif
