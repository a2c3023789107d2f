/*
 * Integration tests of workers running in this process (worker_main on a
 * thread) against a real PostgreSQL database: executing queued runs,
 * retries with backoff recorded as attempts, cancel between steps,
 * re-execution whole and from the failed step, foreground runs beside
 * workers, and a run of a job the worker does not know.
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
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/context.h"
#include "orchestrator/job.h"
#include "orchestrator/run.h"
#include "orchestrator/test_jobs.h"
#include "orchestrator/worker.h"
#include "store/queue.h"
#include "store/runs.h"
#include "support/harness_db.h"

#define WAIT_MS 20000

struct fx {
	struct store st;
	struct config cfg;
	struct buf url;
	char name[48];
};

/* A worker on a thread of this process. */
struct wt {
	pthread_t th;
	struct worker_opts o;
	volatile sig_atomic_t stop, stop_now;
	const struct config *cfg;
	int rc;
	serr e;
};

/* Record that a step of a run reached a phase (the side effect the tests count). */
static int mark(struct job_ctx *c, const char *phase, serr *e)
{
	char pid[24];
	const char *p[4] = { c->run_id, c->step, phase, pid };

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	return store_exec(c->store, "mark a test step",
			  "INSERT INTO q_marks (run_id, step, phase, pid)"
			  " VALUES ($1::uuid, $2, $3, $4::int)",
			  4, p, NULL, e);
}

static int step_slow_first(struct job_ctx *c, serr *e)
{
	if (mark(c, "start", e) < 0)
		return -1;
	sleep_ms(800);
	return mark(c, "done", e);
}

static int step_done(struct job_ctx *c, serr *e)
{
	return mark(c, "done", e);
}

/* Fails in a run that is not a re-execution, succeeds in one that is. */
static int step_fails_first_time(struct job_ctx *c, serr *e)
{
	const char *p[1] = { c->run_id };
	int64_t first = 0;

	if (store_query_i64(c->store, "read the parent",
			    "SELECT (parent_run_id IS NULL)::int FROM runs WHERE id = $1::uuid", 1, p,
			    &first, e) < 0)
		return -1;
	if (first) {
		if (mark(c, "failed", e) < 0)
			return -1;
		return serr_set(e, "step '%s' fails in the first run on purpose", c->step);
	}
	return mark(c, "done", e);
}

static void *state_new(void)
{
	return calloc(1, 16);
}

static const struct job_def w_defs[] = {
	{ .name = "w_two_steps", .description = "a slow first step, then a second",
	  .partitioning = PART_NONE,
	  .steps = { { "first", step_slow_first }, { "second", step_done } } },
	{ .name = "w_resume", .description = "three steps; b fails unless re-executed",
	  .partitioning = PART_CANDIDATES, .allow_all = 1,
	  .steps = { { "a", step_done }, { "b", step_fails_first_time }, { "c", step_done } } },
	{ .name = "w_stateful", .description = "like w_resume, with state kept in memory",
	  .partitioning = PART_NONE, .state_new = state_new, .state_free = free,
	  .steps = { { "a", step_done }, { "b", step_fails_first_time }, { "c", step_done } } },
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

	if (store_exec(&f->st, "run a test statement", q, p1 ? 1 : 0, p1 ? p : NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
}

static int64_t count(struct fx *f, const char *q, const char *p1)
{
	const char *p[1] = { p1 };
	int64_t n = -1;
	serr e;

	if (store_query_i64(&f->st, "count", q, p1 ? 1 : 0, p1 ? p : NULL, &n, &e) < 0)
		fail_msg("%s", e.msg);
	return n;
}

/* Wait (bounded, for a slow machine) until the count reaches want. */
static void wait_count(struct fx *f, const char *q, const char *p1, int64_t want)
{
	int64_t until = mono_ms() + WAIT_MS, n = -1;

	while (mono_ms() < until) {
		if ((n = count(f, q, p1)) == want)
			return;
		sleep_ms(20);
	}
	fail_msg("waited %d ms for %lld from: %s (last %lld)", WAIT_MS, (long long)want, q,
		 (long long)n);
}

static struct fx *fx_new(const char *name)
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
	cfg_set(&f->cfg, "queue.lease_ms", "3000");
	sql(f, "CREATE TABLE q_marks (run_id uuid, step text, phase text, pid int,"
	       " at timestamptz DEFAULT clock_timestamp())",
	    NULL);
	return f;
}

static void fx_free(struct fx *f)
{
	serr e;

	store_close(&f->st);
	if (harness_db_drop(f->name, &e) < 0)
		print_error("%s\n", e.msg);
	config_free(&f->cfg);
	buf_free(&f->url);
	free(f);
}

static void *wt_main(void *p)
{
	struct wt *w = p;

	w->rc = worker_main(w->cfg, &w->o, &w->e);
	return NULL;
}

static void wt_start(struct fx *f, struct wt *w, const char *name, int concurrency)
{
	memset(w, 0, sizeof(*w));
	worker_opts_init(&w->o);
	w->o.name = name;
	w->o.concurrency = concurrency;
	w->o.stop = &w->stop;
	w->o.stop_now = &w->stop_now;
	w->cfg = &f->cfg;
	assert_int_equal(pthread_create(&w->th, NULL, wt_main, w), 0);
}

static void wt_stop(struct wt *w)
{
	w->stop = 1;
	pthread_join(w->th, NULL);
	if (w->rc != 0)
		fail_msg("worker: %s", w->e.msg);
}

static void enqueue(struct fx *f, const char *job, const char *part, const char *tags,
		    int max_attempts, struct buf *id)
{
	struct run_request r = { .job = job, .partition_key = part, .tags_json = tags,
				 .max_attempts = max_attempts };
	int created = 0;
	serr e;

	if (queue_enqueue(&f->st, &r, id, &created, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(created, 1);
}

static void a_worker_executes_every_queued_run_once(void **state)
{
	struct fx *f = fx_new("worker_basic");
	struct buf id;
	struct wt w;
	char part[16];

	(void)state;
	buf_init(&id, 64);
	for (int i = 0; i < 20; i++) {
		snprintf(part, sizeof(part), "rec%02d", i);
		enqueue(f, TEST_JOB_NOOP, part, NULL, 0, &id);
	}
	wt_start(f, &w, "basic-worker", 3);
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'SUCCESS'", NULL, 20);
	/* the worker announces itself while it runs */
	wait_count(f, "SELECT count(*) FROM heartbeats WHERE component = 'worker'"
		      " AND name = 'basic-worker'",
		   NULL, 1);
	/* a run queued later is picked up from the notification */
	enqueue(f, TEST_JOB_NOOP, "recLate", NULL, 0, &id);
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'SUCCESS'", NULL, 21);
	wt_stop(&w);
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE type = 'LOG'"
				  " AND message = '" TEST_JOB_EXECUTED "'",
			       NULL),
			 21);
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE status = 'SUCCESS'"
				  " AND worker = 'basic-worker'",
			       NULL),
			 21);
	assert_int_equal(count(f, "SELECT count(*) FROM heartbeats WHERE component = 'worker'",
			       NULL),
			 0);
	buf_free(&id);
	fx_free(f);
}

static void retries_back_off_and_record_every_attempt(void **state)
{
	struct fx *f = fx_new("worker_retries");
	struct buf flaky, fail;
	struct wt w;

	(void)state;
	buf_init(&flaky, 64);
	buf_init(&fail, 64);
	enqueue(f, TEST_JOB_FLAKY, "recA", "{\"succeed_on_attempt\": \"3\"}", 0, &flaky);
	enqueue(f, TEST_JOB_FAIL, "recB", NULL, 2, &fail);
	wt_start(f, &w, "retry-worker", 2);
	wait_count(f, "SELECT count(*) FROM runs WHERE status IN ('SUCCESS', 'FAILURE')", NULL, 2);
	wt_stop(&w);
	assert_int_equal(count(f, "SELECT attempt FROM runs WHERE id = $1::uuid AND status = 'SUCCESS'",
			       flaky.data),
			 3);
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE run_id = $1::uuid"
				  " AND status = 'FAILURE' AND attempt IN (1, 2)",
			       flaky.data),
			 2);
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE run_id = $1::uuid"
				  " AND status = 'SUCCESS' AND attempt = 3",
			       flaky.data),
			 1);
	/* each retry waited its backoff: no attempt started before its predecessor's end + delay */
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts a"
				  " JOIN run_attempts b ON b.run_id = a.run_id AND b.attempt = a.attempt + 1"
				  " JOIN run_events ev ON ev.run_id = a.run_id AND ev.type = 'RUN_RETRY'"
				  "  AND (ev.metadata->>'attempt')::int = a.attempt"
				  " WHERE a.run_id = $1::uuid AND (ev.metadata->>'retry_in_ms')::int"
				  "  BETWEEN 0 AND 100 * power(2, a.attempt - 1)"
				  " AND b.started_at >= a.ended_at"
				  "  + (ev.metadata->>'retry_in_ms')::int * interval '1 millisecond'",
			       flaky.data),
			 2);
	/* a job that always fails stops after its attempts */
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE run_id = $1::uuid"
				  " AND status = 'FAILURE'",
			       fail.data),
			 2);
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE run_id = $1::uuid"
				  " AND type = 'RUN_FAILURE' AND message LIKE '%no attempts left%'",
			       fail.data),
			 1);
	buf_free(&flaky);
	buf_free(&fail);
	fx_free(f);
}

static void cancel_stops_a_running_run_between_steps(void **state)
{
	struct fx *f = fx_new("worker_cancel");
	struct buf id;
	struct wt w;
	serr e;

	(void)state;
	buf_init(&id, 64);
	enqueue(f, "w_two_steps", NULL, NULL, 0, &id);
	wt_start(f, &w, "cancel-worker", 1);
	wait_count(f, "SELECT count(*) FROM q_marks WHERE step = 'first' AND phase = 'start'", NULL,
		   1);
	assert_int_equal(queue_cancel(&f->st, id.data, &e), 0);
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'CANCELED'", NULL, 1);
	wt_stop(&w);
	/* the step in flight finished; the next one never started */
	assert_int_equal(count(f, "SELECT count(*) FROM q_marks WHERE step = 'first'"
				  " AND phase = 'done'",
			       NULL),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM q_marks WHERE step = 'second'", NULL), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM run_steps WHERE step = 'second'", NULL), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE type = 'RUN_CANCELED'", NULL),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE status = 'CANCELED'", NULL),
			 1);
	buf_free(&id);
	fx_free(f);
}

static void retry_reexecutes_whole_or_from_the_failed_step(void **state)
{
	struct fx *f = fx_new("worker_reexec");
	struct buf first, again, resumed, step;
	struct wt w;
	serr e;

	(void)state;
	buf_init(&first, 64);
	buf_init(&again, 64);
	buf_init(&resumed, 64);
	buf_init(&step, 64);
	enqueue(f, "w_resume", "recA", NULL, 0, &first);
	wt_start(f, &w, "reexec-worker", 1);
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'FAILURE'", NULL, 1);
	/* an active run of the partition, or the run itself still active, refuse */
	assert_int_equal(run_reexecute(&f->st, "00000000-0000-0000-0000-000000000000", 0, &again,
				       NULL, &e),
			 -1);
	assert_non_null(strstr(e.msg, "no such run"));
	/* from the failure: a is SKIPPED, b and c run */
	assert_int_equal(run_reexecute(&f->st, first.data, 1, &resumed, &step, &e), 0);
	assert_string_equal(step.data, "b");
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'SUCCESS'", NULL, 1);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE id = $1::uuid"
				  " AND parent_run_id IS NOT NULL AND resume_from_step = 'b'",
			       resumed.data),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_steps WHERE run_id = $1::uuid"
				  " AND ((step = 'a' AND status = 'SKIPPED') OR (step IN ('b', 'c')"
				  " AND status = 'SUCCESS'))",
			       resumed.data),
			 3);
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE run_id = $1::uuid"
				  " AND type = 'STEP_SKIPPED' AND step = 'a'",
			       resumed.data),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM q_marks WHERE run_id = $1::uuid AND step = 'a'",
			       resumed.data),
			 0);
	/* a succeeded run cannot resume from a failure, but can run again whole */
	assert_int_equal(run_reexecute(&f->st, resumed.data, 1, &again, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "succeeded"));
	assert_int_equal(run_reexecute(&f->st, first.data, 0, &again, &step, &e), 0);
	assert_string_equal(step.data, "");
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'SUCCESS'", NULL, 2);
	assert_int_equal(count(f, "SELECT count(*) FROM q_marks WHERE run_id = $1::uuid"
				  " AND phase = 'done'",
			       again.data),
			 3);
	/* steps that keep state in memory resume from the first step */
	enqueue(f, "w_stateful", NULL, NULL, 0, &first);
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'FAILURE'", NULL, 2);
	assert_int_equal(run_reexecute(&f->st, first.data, 1, &resumed, &step, &e), 0);
	assert_string_equal(step.data, "");
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'SUCCESS'", NULL, 3);
	assert_int_equal(count(f, "SELECT count(*) FROM q_marks WHERE run_id = $1::uuid"
				  " AND step = 'a'",
			       resumed.data),
			 1);
	wt_stop(&w);
	buf_free(&first);
	buf_free(&again);
	buf_free(&resumed);
	buf_free(&step);
	fx_free(f);
}

struct fg {
	struct fx *f;
	struct store st;
	struct buf id;
	int rc;
	serr e;
};

static void *fg_main(void *p)
{
	struct fg *g = p;

	g->rc = run_foreground(&g->f->cfg, &g->st, "w_two_steps", NULL, &g->id, &g->e);
	return NULL;
}

static void foreground_runs_are_started_for_workers_to_see_but_not_take(void **state)
{
	struct fx *f = fx_new("worker_foreground");
	struct fg g = { .f = f };
	struct buf id;
	pthread_t th;
	struct wt w;
	serr e;

	(void)state;
	buf_init(&id, 64);
	buf_init(&g.id, 64);
	assert_int_equal(store_open_url(&g.st, buf_cstr(&f->url), &e), 0);
	wt_start(f, &w, "idle-worker", 2);
	assert_int_equal(pthread_create(&th, NULL, fg_main, &g), 0);
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'STARTED'"
		      " AND worker LIKE 'foreground@%'",
		   NULL, 1);
	pthread_join(th, NULL);
	if (g.rc != 0)
		fail_msg("%s", g.e.msg);
	wt_stop(&w);
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE run_id = $1::uuid",
			       g.id.data),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM q_marks WHERE phase = 'done'", NULL), 2);
	/* a foreground run of a partition that has a queued run creates nothing */
	enqueue(f, TEST_JOB_NOOP, "recBusy", NULL, 0, &id);
	assert_int_equal(run_foreground(&f->cfg, &g.st, TEST_JOB_NOOP, "recBusy", &g.id, &e), -1);
	assert_non_null(strstr(e.msg, id.data));
	assert_int_equal(g.id.len, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE partition_key = 'recBusy'", NULL),
			 1);
	store_close(&g.st);
	buf_free(&g.id);
	buf_free(&id);
	fx_free(f);
}

static void a_run_of_a_job_the_worker_lacks_fails_and_says_so(void **state)
{
	struct fx *f = fx_new("worker_unknown");
	struct wt w;

	(void)state;
	sql(f, "INSERT INTO runs (job, status) VALUES ('job_from_a_newer_binary', 'QUEUED')", NULL);
	wt_start(f, &w, "old-worker", 1);
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'FAILURE'"
		      " AND error LIKE '%''job_from_a_newer_binary'' is not defined%'",
		   NULL, 1);
	wt_stop(&w);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_worker_executes_every_queued_run_once),
		cmocka_unit_test(retries_back_off_and_record_every_attempt),
		cmocka_unit_test(cancel_stops_a_running_run_between_steps),
		cmocka_unit_test(retry_reexecutes_whole_or_from_the_failed_step),
		cmocka_unit_test(foreground_runs_are_started_for_workers_to_see_but_not_take),
		cmocka_unit_test(a_run_of_a_job_the_worker_lacks_fails_and_says_so),
	};
	serr e;

	log_set_level(LOG_ERROR);
	if (test_jobs_register(&e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	for (size_t i = 0; i < sizeof(w_defs) / sizeof(w_defs[0]); i++) {
		if (job_defs_register(&w_defs[i], &e) < 0) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
