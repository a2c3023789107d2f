/*
 * Keeping the candidate pool warm in a worker process: a background thread
 * with its own connection loads the process-wide pool (match_pool.h) when
 * the worker starts and refreshes it every match.pool_refresh_seconds, so
 * a ranking in the recruiter's feedback loop finds the pool in memory and
 * reads only the few candidates changed since the last refresh.
 */
#ifndef SCOUT_PIPELINE_POOL_WARM_H
#define SCOUT_PIPELINE_POOL_WARM_H

#include <pthread.h>
#include <signal.h>

#include <libpq-fe.h>

#include "config/config.h"
#include "core/err.h"
#include "store/match_pool.h"
#include "store/store.h"

/* Longest refresh interval accepted: one day. */
#define POOL_REFRESH_SECONDS_MAX 86400

/* What the thread has done so far, for tests and diagnostics. */
struct pool_warm_counts {
	unsigned long loads;	/* warm-ups that loaded or refreshed the pool */
	unsigned long skips;	/* warm-ups that found no candidate to load */
	unsigned long failures; /* warm-ups that failed (retried at the next interval) */
};

struct pool_warm {
	const struct config *cfg;
	volatile sig_atomic_t *stop, *stop_now; /* the owner's stop flags, may be NULL */
	int interval_s;
	struct store st; /* the thread's own connection */
	pthread_t th;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int quit;	  /* under mu: stop requested */
	int busy;	  /* under mu: a warm-up is running on st */
	PGcancel *cancel; /* under mu, while busy: cancels st's statement */
	struct pool_warm_counts counts; /* under mu */
};

void pool_warm_init(struct pool_warm *w);

/*
 * Start warming on a connection of its own to the database `like` is
 * connected to, every cfg->match_pool_refresh_seconds (0: nothing is
 * started). The thread stops at the next interval once *stop or *stop_now
 * is set, or at once on pool_warm_stop(). cfg must outlive the thread.
 */
int pool_warm_start(struct pool_warm *w, const struct config *cfg, const struct store *like,
		    volatile sig_atomic_t *stop, volatile sig_atomic_t *stop_now,
		    serr *e) SCOUT_MUST;

/*
 * Interrupt the wait, cancel the statement of a warm-up in progress, join
 * the thread and close its connection. Safe on a warmer never started.
 */
void pool_warm_stop(struct pool_warm *w);

/*
 * For a process about to exit with threads still in flight: ask the
 * thread to stop and cancel its statement, but do not wait for it (it may
 * be queued behind a ranking that holds the pool). w must stay allocated.
 */
void pool_warm_abandon(struct pool_warm *w);

void pool_warm_get_counts(struct pool_warm *w, struct pool_warm_counts *out);

/*
 * One warm-up on s, as the thread does it: *skipped = 1 when the database
 * has no normalized_candidates table or no candidate (nothing is loaded),
 * else the pool of cfg's embedding space is acquired, refreshed into *st
 * and released.
 */
int pool_warm_once(struct store *s, const struct config *cfg, struct pool_refresh *st,
		   int *skipped, serr *e) SCOUT_MUST;

#endif
