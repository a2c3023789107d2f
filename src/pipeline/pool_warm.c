/*
 * The pool warmer (see pool_warm.h): one thread that loads and refreshes
 * the process-wide candidate pool on its own connection, sleeping on a
 * condition variable between rounds so that a stop interrupts it at once.
 */
#include "pipeline/pool_warm.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

/* While a warm-up is being stopped: how often its statement is canceled again. */
#define CANCEL_EVERY_MS 100

void pool_warm_init(struct pool_warm *w)
{
	memset(w, 0, sizeof(*w));
	store_init(&w->st);
}

int pool_warm_once(struct store *s, const struct config *cfg, struct pool_refresh *st,
		   int *skipped, serr *e)
{
	const struct match_pool *pool = NULL;
	int64_t any = 0;
	int exists = 0;

	memset(st, 0, sizeof(*st));
	*skipped = 0;
	if (store_table_exists(s, "normalized_candidates", &exists, e) < 0)
		return serr_wrap(e, "cannot warm the candidate pool");
	if (exists && store_query_i64(s, "look for normalized candidates",
				      "SELECT count(*) FROM "
				      "(SELECT 1 FROM normalized_candidates LIMIT 1) AS c",
				      0, NULL, &any, e) < 0)
		return serr_wrap(e, "cannot warm the candidate pool");
	if (!exists || !any) {
		/* a database not migrated yet, or no candidate normalized yet */
		*skipped = 1;
		return 0;
	}
	if (pool_cache_acquire(s, cfg->llm_embedding_model, cfg->llm_embedding_dimensions, &pool,
			       st, e) < 0)
		return -1;
	pool_cache_release();
	return 0;
}

/* Under w->mu: the thread's owner is stopping, or pool_warm_stop() was called. */
static int quitting(const struct pool_warm *w)
{
	return w->quit || (w->stop && *w->stop) || (w->stop_now && *w->stop_now);
}

static void log_round(struct pool_warm *w, int rc, int skipped, int quit,
		      const struct pool_refresh *st, const serr *e)
{
	if (rc < 0 && quit)
		log_debug("candidate pool warm-up interrupted by the stop", "error=\"%s\"", e->msg);
	else if (rc < 0)
		log_warn("cannot warm the candidate pool; trying again at the next interval",
			 "retry_s=%d error=\"%s\"", w->interval_s, e->msg);
	else if (skipped)
		log_debug("no normalized candidate yet: the candidate pool is not warmed", NULL);
	else if (st->full)
		log_info("candidate pool loaded", "candidates=%zu ms=%lld", st->pool_size,
			 (long long)st->ms);
	else
		log_debug("candidate pool refreshed",
			  "candidates=%zu changed=%zu loaded=%zu removed=%zu ms=%lld", st->pool_size,
			  st->changed, st->loaded, st->removed, (long long)st->ms);
}

/*
 * One round, w->busy set by the caller. The statement in flight can be
 * canceled from pool_warm_stop() through w->cancel, taken after the
 * reconnect because a reset connection has another backend.
 */
static void warm_round(struct pool_warm *w)
{
	struct pool_refresh st;
	PGcancel *cancel = NULL;
	int rc, ran = 0, skipped = 0, quit;
	serr e;

	memset(&st, 0, sizeof(st));
	rc = store_ensure(&w->st, &e);
	if (rc == 0 && !(cancel = PQgetCancel(w->st.conn)))
		rc = serr_set(&e, "out of memory preparing to warm the candidate pool");
	pthread_mutex_lock(&w->mu);
	w->cancel = cancel;
	quit = quitting(w);
	pthread_mutex_unlock(&w->mu);
	if (rc == 0 && !quit) {
		rc = pool_warm_once(&w->st, w->cfg, &st, &skipped, &e);
		ran = 1;
	}
	pthread_mutex_lock(&w->mu);
	w->cancel = NULL;
	quit = quitting(w);
	if (rc < 0 && !quit)
		w->counts.failures++;
	else if (rc == 0 && ran && skipped)
		w->counts.skips++;
	else if (rc == 0 && ran)
		w->counts.loads++;
	pthread_mutex_unlock(&w->mu);
	PQfreeCancel(cancel);
	if (rc == 0 && !ran)
		return; /* stopped before the round began */
	log_round(w, rc, skipped, quit, &st, &e);
}

static void *warm_main(void *arg)
{
	struct pool_warm *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!quitting(w)) {
		struct timespec ts;

		w->busy = 1;
		pthread_mutex_unlock(&w->mu);
		warm_round(w);
		pthread_mutex_lock(&w->mu);
		w->busy = 0;
		pthread_cond_broadcast(&w->cv);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += w->interval_s;
		while (!quitting(w) && pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&w->mu);
	store_close(&w->st);
	return NULL;
}

int pool_warm_start(struct pool_warm *w, const struct config *cfg, const struct store *like,
		    volatile sig_atomic_t *stop, volatile sig_atomic_t *stop_now, serr *e)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	pool_warm_init(w);
	if (cfg->match_pool_refresh_seconds < 0 ||
	    cfg->match_pool_refresh_seconds > POOL_REFRESH_SECONDS_MAX)
		return serr_set(e, "'match.pool_refresh_seconds' is %d, not between 0 and %d",
				cfg->match_pool_refresh_seconds, POOL_REFRESH_SECONDS_MAX);
	if (cfg->match_pool_refresh_seconds == 0)
		return 0; /* warming disabled: the first ranking loads the pool */
	w->cfg = cfg;
	w->interval_s = cfg->match_pool_refresh_seconds;
	w->stop = stop;
	w->stop_now = stop_now;
	if (store_open_like(&w->st, like, e) < 0)
		return serr_wrap(e, "cannot start warming the candidate pool");
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* signals go to the thread that handles them, never to the warmer */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->th, NULL, warm_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		store_close(&w->st);
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		return serr_set(e, "cannot start the candidate pool warm-up thread: %s",
				strerror(rc));
	}
	w->started = 1;
	return 0;
}

/* Under w->mu: end the wait and cancel the statement of a round in progress. */
static void interrupt(struct pool_warm *w)
{
	char msg[256];

	w->quit = 1;
	pthread_cond_broadcast(&w->cv);
	if (w->busy && w->cancel && !PQcancel(w->cancel, msg, sizeof(msg)))
		log_debug("cannot cancel the candidate pool warm-up", "error=\"%s\"", msg);
}

void pool_warm_stop(struct pool_warm *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	interrupt(w);
	while (w->busy) {
		struct timespec ts;

		/* again until it ends: a cancel sent just before a statement misses it */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += CANCEL_EVERY_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT)
			interrupt(w);
	}
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	w->started = 0;
}

void pool_warm_abandon(struct pool_warm *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	interrupt(w);
	pthread_mutex_unlock(&w->mu);
	pthread_detach(w->th);
	w->started = 0;
}

void pool_warm_get_counts(struct pool_warm *w, struct pool_warm_counts *out)
{
	if (!w->started) {
		*out = w->counts;
		return;
	}
	pthread_mutex_lock(&w->mu);
	*out = w->counts;
	pthread_mutex_unlock(&w->mu);
}
