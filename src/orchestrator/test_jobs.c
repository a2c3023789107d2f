/*
 * Test-only job definitions (see test_jobs.h). They exist so that tests of
 * the queue, workers and daemon can run real runs without the network: the
 * steps only touch the run's own rows.
 */
#include "orchestrator/test_jobs.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "orchestrator/context.h"
#include "orchestrator/job.h"
#include "store/runs.h"
#include "store/store.h"

#define SLEEP_MS_DEFAULT 1000
#define SLEEP_MS_MAX (10 * 60 * 1000)
#define SLEEP_SLICE_MS 50

/* An integer tag of the run (a JSON number or a numeric string), def when absent. */
static int run_tag_int(struct job_ctx *c, const char *tag, int64_t min, int64_t max, int64_t def,
		       int64_t *out, serr *e)
{
	const char *p[2] = { c->run_id, tag };
	PGresult *r = NULL;
	const char *v;
	int rc = -1;

	*out = def;
	if (store_exec(c->store, "read the tags of a test run",
		       "SELECT tags->>$2 FROM runs WHERE id = $1::uuid", 2, p, &r, e) < 0)
		goto out;
	if (PQntuples(r) != 1) {
		serr_set(e, "test run '%s' does not exist", c->run_id);
		goto out;
	}
	v = store_val(r, 0, 0);
	if (v && parse_i64(v, min, max, out) < 0) {
		serr_set(e, "tag '%s' of test run '%s' is '%.40s', not an integer in [%lld, %lld]",
			 tag, c->run_id, v, (long long)min, (long long)max);
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

static int run_attempt(struct job_ctx *c, int64_t *attempt, serr *e)
{
	const char *p[1] = { c->run_id };

	return store_query_i64(c->store, "read the attempt of a test run",
			       "SELECT attempt FROM runs WHERE id = $1::uuid", 1, p, attempt, e);
}

/* The side effect tests count: one LOG event per executed step. */
static int mark_executed(struct job_ctx *c, const char *what, serr *e)
{
	char meta[160];

	snprintf(meta, sizeof(meta), "{\"job\":\"%s\",\"pid\":%ld}", c->def->name,
		 (long)getpid());
	if (runs_event_add(c->store, c->run_id, "LOG", c->step, "info", TEST_JOB_EXECUTED, meta,
			   e) < 0)
		return serr_wrap(e, "test job '%s' (%s)", c->def->name, what);
	return 0;
}

static int step_noop(struct job_ctx *c, serr *e)
{
	return mark_executed(c, "noop", e);
}

/* Sleeps in slices so a sanitizer build or a debugger sees a live thread. */
static int step_sleep(struct job_ctx *c, serr *e)
{
	int64_t ms, until;

	if (run_tag_int(c, "sleep_ms", 0, SLEEP_MS_MAX, SLEEP_MS_DEFAULT, &ms, e) < 0)
		return -1;
	until = mono_ms() + ms;
	while (mono_ms() < until) {
		int64_t left = until - mono_ms();
		sleep_ms(left < SLEEP_SLICE_MS ? left : SLEEP_SLICE_MS);
	}
	return mark_executed(c, "sleep", e);
}

static int step_fail(struct job_ctx *c, serr *e)
{
	if (mark_executed(c, "fail", e) < 0)
		return -1;
	return serr_set(e, "test job '%s' fails on purpose", c->def->name);
}

static int step_flaky(struct job_ctx *c, serr *e)
{
	int64_t attempt, ok_at;

	if (run_attempt(c, &attempt, e) < 0 ||
	    run_tag_int(c, "succeed_on_attempt", 1, 1000, 2, &ok_at, e) < 0 ||
	    mark_executed(c, "flaky", e) < 0)
		return -1;
	if (attempt < ok_at)
		return serr_set(e, "test job '%s' fails on attempt %lld of run '%s' on purpose",
				c->def->name, (long long)attempt, c->run_id);
	return 0;
}

static const struct job_def test_defs[] = {
	{
		.name = TEST_JOB_NOOP,
		.description = "test only: does nothing",
		.partitioning = PART_CANDIDATES,
		.allow_all = 1,
		.tags = "test",
		.steps = { { "noop", step_noop } },
	},
	{
		.name = TEST_JOB_SLEEP,
		.description = "test only: sleeps the run's tag sleep_ms (default 1000)",
		.partitioning = PART_CANDIDATES,
		.allow_all = 1,
		.tags = "test",
		.max_retries = 2,
		.retry_backoff_ms = 100,
		.retry_max_backoff_ms = 1000,
		.steps = { { "sleep", step_sleep } },
	},
	{
		.name = TEST_JOB_FAIL,
		.description = "test only: always fails",
		.partitioning = PART_CANDIDATES,
		.allow_all = 1,
		.tags = "test",
		.steps = { { "fail", step_fail } },
	},
	{
		.name = TEST_JOB_FLAKY,
		.description = "test only: fails until attempt succeed_on_attempt (default 2)",
		.partitioning = PART_CANDIDATES,
		.allow_all = 1,
		.tags = "test",
		.max_retries = 3,
		.retry_backoff_ms = 100,
		.retry_max_backoff_ms = 1000,
		.steps = { { "flaky", step_flaky } },
	},
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;

int test_jobs_register(serr *e)
{
	int rc = 0;

	pthread_mutex_lock(&reg_mu);
	for (size_t i = 0; i < sizeof(test_defs) / sizeof(test_defs[0]); i++) {
		if (job_def_find(test_defs[i].name))
			continue;
		if (job_defs_register(&test_defs[i], e) < 0) {
			rc = -1;
			break;
		}
	}
	pthread_mutex_unlock(&reg_mu);
	return rc;
}

int test_jobs_register_from_env(serr *e)
{
	const char *v = getenv(TEST_JOBS_ENV);

	if (!v || strcmp(v, "1") != 0)
		return 0;
	return test_jobs_register(e);
}
