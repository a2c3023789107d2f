/*
 * Integration tests of the candidate pool warmer against a real PostgreSQL
 * database: a started warmer loads the pool so that the next acquire reads
 * nothing, refreshes it at its interval, stops at once however long the
 * interval and in the middle of a load, skips an empty or unmigrated database without an error, and
 * runs in every worker (worker_main) unless match.pool_refresh_seconds = 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/worker.h"
#include "store/match_pool.h"
#include "pipeline/pool_warm.h"
#include "support/harness_db.h"

#define WAIT_MS 30000
#define DIMS "16"
#define CANDIDATES 40
/* a stop must not sleep out the interval: SIGALRM ends the test long before it ends */
#define STOP_BOUND_S 60

struct fx {
	struct store st;
	struct config cfg;
	struct buf url;
	char name[48];
};

static void cfg_set(struct config *c, const char *k, const char *v)
{
	serr e;

	if (config_set(c, k, v, &e) < 0)
		fail_msg("%s", e.msg);
}

static void sql(struct fx *f, const char *q, const char *p1)
{
	const char *p[1] = { p1 };
	serr e;

	if (store_exec(&f->st, "test statement", q, p1 ? 1 : 0, p1 ? p : NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
}

static struct fx *fx_new(const char *name, const char *refresh_s)
{
	struct fx *f = calloc(1, sizeof(*f));
	serr e;

	assert_non_null(f);
	snprintf(f->name, sizeof(f->name), "%s", name);
	buf_init(&f->url, 0);
	if (harness_db_create(name, &f->url, &e) < 0)
		fail_msg("%s", e.msg);
	store_init(&f->st);
	if (store_open_url(&f->st, buf_cstr(&f->url), &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(config_init(&f->cfg, &e), 0);
	cfg_set(&f->cfg, "database.url", buf_cstr(&f->url));
	cfg_set(&f->cfg, "queue.poll_ms", "50");
	cfg_set(&f->cfg, "llm.embedding_dimensions", DIMS);
	cfg_set(&f->cfg, "match.pool_refresh_seconds", refresh_s);
	/* every test starts with no pool in the process */
	pool_cache_drop();
	return f;
}

static void fx_free(struct fx *f)
{
	serr e;

	pool_cache_drop();
	store_close(&f->st);
	if (harness_db_drop(f->name, &e) < 0)
		print_error("%s\n", e.msg);
	config_free(&f->cfg);
	buf_free(&f->url);
	free(f);
}

/* Normalized candidates recWarmNNNN from..to, each with a narrative vector. */
static void add_candidates(struct fx *f, int from, int to)
{
	char range[32];

	snprintf(range, sizeof(range), "[%d,%d]", from, to);
	sql(f, "INSERT INTO normalized_candidates (record_id, model, prompt_version, input_hash,"
	       " normalized, years_of_experience, timezone)"
	       " SELECT 'recWarm' || lpad(g::text, 4, '0'), 'test-model', 1, 'h', '{}'::jsonb, 5,"
	       " 'UTC' FROM generate_series(lower($1::int4range), upper($1::int4range) - 1) g",
	    range);
	sql(f, "INSERT INTO candidate_vectors (record_id, kind, model, dimensions, vector, text_hash)"
	       " SELECT record_id, 'narrative_experience', 'openai/text-embedding-3-small', " DIMS
	       ", array_fill(0.25::real, ARRAY[" DIMS "]), repeat('a', 64)"
	       " FROM normalized_candidates WHERE record_id NOT IN"
	       " (SELECT record_id FROM candidate_vectors)",
	    NULL);
}

/* What an acquire of the pool does now, as a ranking would see it. */
static struct pool_refresh acquire(struct fx *f)
{
	const struct match_pool *p = NULL;
	struct pool_refresh st;
	serr e;

	if (pool_cache_acquire(&f->st, f->cfg.llm_embedding_model, f->cfg.llm_embedding_dimensions,
			       &p, &st, &e) < 0)
		fail_msg("%s", e.msg);
	pool_cache_release();
	return st;
}

static void start(struct fx *f, struct pool_warm *w)
{
	serr e;

	if (pool_warm_start(w, &f->cfg, &f->st, NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
}

/* Stop the warmer; the test process dies if that waits for the interval. */
static void stop_bounded(struct pool_warm *w)
{
	alarm(STOP_BOUND_S);
	pool_warm_stop(w);
	alarm(0);
}

/* Wait until the warmer has done `loads` loads and `skips` skips (at least). */
static void wait_rounds(struct pool_warm *w, unsigned long loads, unsigned long skips)
{
	int64_t until = mono_ms() + WAIT_MS;
	struct pool_warm_counts c;

	do {
		pool_warm_get_counts(w, &c);
		if (c.failures)
			fail_msg("the warmer failed %lu times", c.failures);
		if (c.loads >= loads && c.skips >= skips)
			return;
		sleep_ms(10);
	} while (mono_ms() < until);
	fail_msg("waited %d ms for %lu loads and %lu skips (saw %lu and %lu)", WAIT_MS, loads,
		 skips, c.loads, c.skips);
}

/* Add the candidates, start the warmer and wait for its first load. */
static void start_loaded(struct fx *f, struct pool_warm *w)
{
	add_candidates(f, 1, CANDIDATES);
	start(f, w);
	wait_rounds(w, 1, 0);
}

/* A ranking now finds the pool loaded and up to date: nothing is read again. */
static void assert_warm(struct fx *f, size_t pool_size)
{
	struct pool_refresh st = acquire(f);

	assert_int_equal(st.full, 0);
	assert_int_equal(st.changed, 0);
	assert_int_equal(st.loaded, 0);
	assert_int_equal(st.pool_size, pool_size);
}

static void a_started_warmer_loads_the_pool_before_a_ranking(void **state)
{
	struct fx *f = fx_new("pool_warm_load", "3600");
	struct pool_warm w;

	(void)state;
	start_loaded(f, &w);
	stop_bounded(&w);
	assert_warm(f, CANDIDATES);
	fx_free(f);
}

static void the_warmer_refreshes_the_pool_at_its_interval(void **state)
{
	struct fx *f = fx_new("pool_warm_refresh", "1");
	struct pool_warm w;
	struct pool_warm_counts c;

	(void)state;
	start_loaded(f, &w);
	/* a candidate normalized after the load is read by a later round (the
	 * round in progress may have begun before the insert: wait for two) */
	add_candidates(f, CANDIDATES + 1, CANDIDATES + 1);
	pool_warm_get_counts(&w, &c);
	wait_rounds(&w, c.loads + 2, 0);
	stop_bounded(&w);
	assert_warm(f, CANDIDATES + 1);
	fx_free(f);
}

static void stop_interrupts_a_long_interval(void **state)
{
	struct fx *f = fx_new("pool_warm_stop", "3600");
	struct pool_warm w;
	struct pool_warm_counts c;

	(void)state;
	start_loaded(f, &w);
	/* the warmer now sleeps for an hour */
	stop_bounded(&w);
	pool_warm_get_counts(&w, &c);
	assert_int_equal(c.loads, 1);
	assert_int_equal(c.failures, 0);
	/* stopping again, or a warmer never started, is harmless */
	pool_warm_stop(&w);
	fx_free(f);
}

static void stop_cancels_a_warm_up_in_progress(void **state)
{
	struct fx *f = fx_new("pool_warm_cancel", "3600");
	int64_t until = mono_ms() + WAIT_MS, waiting = 0;
	struct pool_warm w;
	struct pool_warm_counts c;
	serr e;

	(void)state;
	add_candidates(f, 1, CANDIDATES);
	/* the warm-up blocks on this lock until the test ends its transaction */
	sql(f, "BEGIN", NULL);
	sql(f, "LOCK TABLE normalized_candidates IN ACCESS EXCLUSIVE MODE", NULL);
	start(f, &w);
	while (!waiting && mono_ms() < until) {
		if (store_query_i64(&f->st, "count the warm-up's waiting lock",
				    "SELECT count(*) FROM pg_locks WHERE NOT granted"
				    " AND relation = 'normalized_candidates'::regclass AND database ="
				    " (SELECT oid FROM pg_database WHERE datname = current_database())",
				    0, NULL, &waiting, &e) < 0)
			fail_msg("%s", e.msg);
		sleep_ms(10);
	}
	assert_int_equal(waiting, 1);
	/* the lock is still held: only a canceled statement lets stop return */
	stop_bounded(&w);
	pool_warm_get_counts(&w, &c);
	assert_int_equal(c.loads, 0);
	assert_int_equal(c.failures, 0);
	sql(f, "ROLLBACK", NULL);
	fx_free(f);
}

static void an_empty_or_unmigrated_database_is_skipped(void **state)
{
	struct fx *f = fx_new("pool_warm_empty", "3600");
	struct pool_warm w;
	struct pool_warm_counts c;
	struct pool_refresh st;
	int skipped = 0;
	serr e;

	(void)state;
	start(f, &w);
	wait_rounds(&w, 0, 1);
	stop_bounded(&w);
	pool_warm_get_counts(&w, &c);
	assert_int_equal(c.loads, 0);
	assert_int_equal(c.failures, 0);
	/* no table yet: skipped too, without an error */
	sql(f, "DROP TABLE normalized_candidates CASCADE", NULL);
	if (pool_warm_once(&f->st, &f->cfg, &st, &skipped, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(skipped, 1);
	assert_int_equal(st.pool_size, 0);
	fx_free(f);
}

static void a_bad_interval_is_refused(void **state)
{
	struct fx *f = fx_new("pool_warm_bad", "-1");
	struct pool_warm w;
	serr e;

	(void)state;
	assert_int_equal(pool_warm_start(&w, &f->cfg, &f->st, NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "match.pool_refresh_seconds"));
	pool_warm_stop(&w);
	fx_free(f);
}

/* A worker on a thread of this process. */
struct wt {
	pthread_t th;
	struct worker_opts o;
	volatile sig_atomic_t stop, stop_now;
	const struct config *cfg;
	int rc;
	serr e;
};

static atomic_int pool_loaded_lines;

static void count_pool_loads(enum log_level lvl, const char *line, void *ud)
{
	(void)ud;
	if (lvl == LOG_INFO && strstr(line, "msg=\"candidate pool loaded\""))
		atomic_fetch_add(&pool_loaded_lines, 1);
}

static void *wt_main(void *p)
{
	struct wt *w = p;

	w->rc = worker_main(w->cfg, &w->o, &w->e);
	return NULL;
}

/* Start a worker, wait for the pool load line (when expected) and drain it. */
static void run_worker(struct fx *f, int expect_load)
{
	int64_t until = mono_ms() + WAIT_MS;
	struct wt w;

	memset(&w, 0, sizeof(w));
	worker_opts_init(&w.o);
	w.o.name = "warm-worker";
	w.o.concurrency = 1;
	w.o.stop = &w.stop;
	w.o.stop_now = &w.stop_now;
	w.cfg = &f->cfg;
	atomic_store(&pool_loaded_lines, 0);
	log_set_level(LOG_INFO);
	log_set_hook(count_pool_loads, NULL);
	assert_int_equal(pthread_create(&w.th, NULL, wt_main, &w), 0);
	while (expect_load && !atomic_load(&pool_loaded_lines) && mono_ms() < until)
		sleep_ms(10);
	w.stop = 1;
	alarm(STOP_BOUND_S);
	pthread_join(w.th, NULL);
	alarm(0);
	log_set_hook(NULL, NULL);
	log_set_level(LOG_ERROR);
	if (w.rc != 0)
		fail_msg("worker: %s", w.e.msg);
	assert_int_equal(atomic_load(&pool_loaded_lines), expect_load);
}

static void a_worker_warms_the_pool_when_it_starts(void **state)
{
	struct fx *f = fx_new("pool_warm_worker", "60");

	(void)state;
	add_candidates(f, 1, CANDIDATES);
	run_worker(f, 1);
	assert_warm(f, CANDIDATES);
	fx_free(f);
}

static void a_worker_leaves_the_pool_alone_when_warming_is_off(void **state)
{
	struct fx *f = fx_new("pool_warm_off", "0");
	struct pool_refresh st;

	(void)state;
	add_candidates(f, 1, CANDIDATES);
	run_worker(f, 0);
	st = acquire(f);
	assert_int_equal(st.full, 1);
	assert_int_equal(st.loaded, CANDIDATES);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_started_warmer_loads_the_pool_before_a_ranking),
		cmocka_unit_test(the_warmer_refreshes_the_pool_at_its_interval),
		cmocka_unit_test(stop_interrupts_a_long_interval),
		cmocka_unit_test(stop_cancels_a_warm_up_in_progress),
		cmocka_unit_test(an_empty_or_unmigrated_database_is_skipped),
		cmocka_unit_test(a_bad_interval_is_refused),
		cmocka_unit_test(a_worker_warms_the_pool_when_it_starts),
		cmocka_unit_test(a_worker_leaves_the_pool_alone_when_warming_is_off),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
