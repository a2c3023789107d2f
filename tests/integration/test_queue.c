/*
 * Integration tests of the run queue against a real PostgreSQL database,
 * without workers: run-key dedupe, one active run per partition (also
 * under concurrent requests), claim order and backoff, concurrency limits,
 * leases and the reaper, release, cancel, notifications and the
 * per-partition event log.
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
#include <sys/select.h>

#include "core/log.h"
#include "core/util.h"
#include "orchestrator/job.h"
#include "orchestrator/test_jobs.h"
#include "store/queue.h"
#include "store/runs.h"
#include "support/harness_db.h"

#define LEASE_MS 30000

struct fx {
	struct store st;
	struct buf url;
	char name[48];
};

static int step_nothing(struct job_ctx *ctx, serr *e)
{
	(void)ctx;
	(void)e;
	return 0;
}

/* Jobs with the partitioning and tags the tests need, beside the shared test jobs. */
static const struct job_def q_defs[] = {
	{ .name = "q_plain", .description = "unpartitioned", .partitioning = PART_NONE,
	  .steps = { { "only", step_nothing } } },
	{ .name = "q_strict", .description = "partitioned, no run over all",
	  .partitioning = PART_CANDIDATES, .max_retries = 1,
	  .steps = { { "only", step_nothing } } },
	{ .name = "q_tagged", .description = "limited tag", .partitioning = PART_NONE,
	  .tags = "limited, other", .steps = { { "only", step_nothing } } },
};

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
	return f;
}

static void fx_free(struct fx *f)
{
	serr e;

	store_close(&f->st);
	if (harness_db_drop(f->name, &e) < 0)
		print_error("%s\n", e.msg);
	buf_free(&f->url);
	free(f);
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

/* The text of one value of the run (a column or expression over `runs`). */
static void run_value(struct fx *f, const char *expr, const char *id, char *out, size_t n)
{
	char q[256];
	const char *p[1] = { id };
	PGresult *r = NULL;
	serr e;

	snprintf(q, sizeof(q), "SELECT (%s)::text FROM runs WHERE id = $1::uuid", expr);
	if (store_exec(&f->st, "read a run", q, 1, p, &r, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(PQntuples(r), 1);
	snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}

static void enqueue(struct fx *f, const char *job, const char *part, const char *key,
		    const char *tags, struct buf *id, int *created)
{
	struct run_request r = { .job = job, .partition_key = part, .run_key = key,
				 .tags_json = tags };
	serr e;

	if (queue_enqueue(&f->st, &r, id, created, &e) < 0)
		fail_msg("%s", e.msg);
}

static void must_claim(struct fx *f, const struct queue_limits *l, struct queue_claim *c)
{
	int claimed = 0;
	serr e;

	if (queue_claim_next(&f->st, l, "test-worker", LEASE_MS, c, &claimed, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(claimed, 1);
}

static int claim_none(struct fx *f, const struct queue_limits *l, int64_t *due)
{
	struct queue_claim c;
	int claimed = 1;
	serr e;

	if (queue_claim_next(&f->st, l, "test-worker", LEASE_MS, &c, &claimed, due, &e) < 0)
		fail_msg("%s", e.msg);
	return !claimed;
}

static void finish(struct fx *f, const struct queue_claim *c, const char *status, int retry_ms,
		   const char *want)
{
	char now[16];
	serr e;

	if (queue_finish(&f->st, c, status, status[0] == 'S' ? NULL : "it broke", retry_ms, NULL,
			 NULL, now, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(now, want);
}

static void a_run_key_dedupes_requests_of_a_job(void **state)
{
	struct fx *f = fx_new("queue_runkey");
	struct buf a, b;
	int created = -1;

	(void)state;
	buf_init(&a, 64);
	buf_init(&b, 64);
	enqueue(f, TEST_JOB_NOOP, "recA", "recA:hash1", NULL, &a, &created);
	assert_int_equal(created, 1);
	enqueue(f, TEST_JOB_NOOP, "recA", "recA:hash1", NULL, &b, &created);
	assert_int_equal(created, 0);
	assert_string_equal(a.data, b.data);
	/* still deduped once the first run ended, and across partitions */
	sql(f, "UPDATE runs SET status = 'SUCCESS'", NULL);
	enqueue(f, TEST_JOB_NOOP, "recB", "recA:hash1", NULL, &b, &created);
	assert_int_equal(created, 0);
	assert_string_equal(a.data, b.data);
	/* a new input hash is a new run; the key is per job */
	enqueue(f, TEST_JOB_NOOP, "recA", "recA:hash2", NULL, &b, &created);
	assert_int_equal(created, 1);
	enqueue(f, TEST_JOB_SLEEP, "recC", "recA:hash1", NULL, &b, &created);
	assert_int_equal(created, 1);
	assert_int_equal(count(f, "SELECT count(*) FROM runs", NULL), 3);
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE type = 'RUN_ENQUEUED'", NULL),
			 3);
	buf_free(&a);
	buf_free(&b);
	fx_free(f);
}

static void a_partition_has_at_most_one_queued_or_running_run(void **state)
{
	struct fx *f = fx_new("queue_partition");
	struct queue_claim c;
	struct buf a, b;
	int created = -1;

	(void)state;
	buf_init(&a, 64);
	buf_init(&b, 64);
	enqueue(f, TEST_JOB_NOOP, "recA", NULL, NULL, &a, &created);
	assert_int_equal(created, 1);
	enqueue(f, TEST_JOB_NOOP, "recA", NULL, NULL, &b, &created);
	assert_int_equal(created, 0);
	assert_string_equal(a.data, b.data);
	must_claim(f, NULL, &c);
	assert_string_equal(c.id, a.data);
	/* running counts too, whatever the run key */
	enqueue(f, TEST_JOB_NOOP, "recA", "another-key", NULL, &b, &created);
	assert_int_equal(created, 0);
	assert_string_equal(a.data, b.data);
	/* another job or another partition is free */
	enqueue(f, TEST_JOB_SLEEP, "recA", NULL, NULL, &b, &created);
	assert_int_equal(created, 1);
	enqueue(f, TEST_JOB_NOOP, "recB", NULL, NULL, &b, &created);
	assert_int_equal(created, 1);
	/* once the run ended the partition takes a new one */
	finish(f, &c, "SUCCESS", -1, "SUCCESS");
	enqueue(f, TEST_JOB_NOOP, "recA", NULL, NULL, &b, &created);
	assert_int_equal(created, 1);
	assert_string_not_equal(a.data, b.data);
	/* unpartitioned runs are not limited */
	enqueue(f, "q_plain", NULL, NULL, NULL, &a, &created);
	enqueue(f, "q_plain", NULL, NULL, NULL, &b, &created);
	assert_int_equal(created, 1);
	buf_free(&a);
	buf_free(&b);
	fx_free(f);
}

struct racer {
	const char *url;
	const char *key;
	int created;
	int failed;
	char id[QUEUE_ID_MAX];
	pthread_barrier_t *go;
};

static void *race(void *p)
{
	struct racer *r = p;
	struct run_request rq = { .job = TEST_JOB_NOOP, .partition_key = "recRace", .run_key = r->key };
	struct store st;
	struct buf id;
	serr e;

	buf_init(&id, 64);
	if (store_open_url(&st, r->url, &e) < 0) {
		r->failed = 1;
		return NULL;
	}
	pthread_barrier_wait(r->go);
	/* in a transaction that stays open a moment, as a sensor tick's would */
	if (store_begin(&st, &e) < 0 || queue_enqueue(&st, &rq, &id, &r->created, &e) < 0 ||
	    store_exec(&st, "pause", "SELECT pg_sleep(0.05)", 0, NULL, NULL, &e) < 0 ||
	    store_commit(&st, &e) < 0) {
		print_error("racer: %s\n", e.msg);
		r->failed = 1;
	}
	snprintf(r->id, sizeof(r->id), "%s", buf_cstr(&id));
	store_close(&st);
	buf_free(&id);
	return NULL;
}

static void concurrent_requests_for_one_partition_create_one_run(void **state)
{
	struct fx *f = fx_new("queue_race");
	struct racer r[8];
	pthread_t th[8];
	pthread_barrier_t go;
	int created = 0;

	(void)state;
	pthread_barrier_init(&go, NULL, 8);
	for (int i = 0; i < 8; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].url = buf_cstr(&f->url);
		r[i].key = i % 2 ? "same-key" : NULL;
		r[i].go = &go;
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].failed, 0);
		created += r[i].created;
	}
	assert_int_equal(created, 1);
	for (int i = 1; i < 8; i++)
		assert_string_equal(r[i].id, r[0].id);
	assert_int_equal(count(f, "SELECT count(*) FROM runs", NULL), 1);
	pthread_barrier_destroy(&go);
	fx_free(f);
}

static void requests_are_checked_against_the_job_definition(void **state)
{
	struct fx *f = fx_new("queue_checks");
	struct run_request r = { 0 };
	struct buf id;
	int created = 1;
	serr e;

	(void)state;
	buf_init(&id, 64);
	r.job = "no_such_job";
	assert_int_equal(queue_enqueue(&f->st, &r, &id, &created, &e), -1);
	assert_non_null(strstr(e.msg, "'no_such_job'"));
	r.job = "q_plain";
	r.partition_key = "recA";
	assert_int_equal(queue_enqueue(&f->st, &r, &id, &created, &e), -1);
	assert_non_null(strstr(e.msg, "not partitioned"));
	r.job = "q_strict";
	r.partition_key = NULL;
	assert_int_equal(queue_enqueue(&f->st, &r, &id, &created, &e), -1);
	assert_non_null(strstr(e.msg, "partition key"));
	r.partition_key = "recA";
	r.tags_json = "[1,2]";
	assert_int_equal(queue_enqueue(&f->st, &r, &id, &created, &e), -1);
	assert_non_null(strstr(e.msg, "JSON object"));
	r.tags_json = "{\"broken\": ";
	assert_int_equal(queue_enqueue(&f->st, &r, &id, &created, &e), -1);
	r.tags_json = NULL;
	r.max_attempts = 101;
	assert_int_equal(queue_enqueue(&f->st, &r, &id, &created, &e), -1);
	assert_int_equal(count(f, "SELECT count(*) FROM runs", NULL), 0);
	/* max_attempts 0 takes the job's retries + 1 */
	r.max_attempts = 0;
	r.tags_json = "{\"sensor\": \"s1\", \"n\": 3}";
	assert_int_equal(queue_enqueue(&f->st, &r, &id, &created, &e), 0);
	assert_int_equal(count(f, "SELECT max_attempts FROM runs", NULL), 2);
	/* concurrency tags: the job's, plus the request's keys and key:value */
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE concurrency_tags"
				  " @> '{sensor,sensor:s1,n}' AND NOT concurrency_tags @> '{n:3}'",
			       NULL),
			 1);
	buf_free(&id);
	fx_free(f);
}

static void a_request_in_a_transaction_goes_with_it(void **state)
{
	struct fx *f = fx_new("queue_tx");
	struct buf id;
	int created = 0;
	serr e;

	(void)state;
	buf_init(&id, 64);
	assert_int_equal(store_begin(&f->st, &e), 0);
	enqueue(f, TEST_JOB_NOOP, "recA", "k1", NULL, &id, &created);
	assert_int_equal(created, 1);
	store_rollback(&f->st);
	assert_int_equal(count(f, "SELECT count(*) FROM runs", NULL), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM run_events", NULL), 0);
	buf_free(&id);
	fx_free(f);
}

static void claims_follow_priority_then_age_and_wait_for_backoff(void **state)
{
	struct fx *f = fx_new("queue_order");
	struct run_request r = { .job = "q_plain" };
	struct queue_claim c;
	struct buf low, high, old;
	int created;
	int64_t due = -1;
	serr e;

	(void)state;
	buf_init(&low, 64);
	buf_init(&high, 64);
	buf_init(&old, 64);
	assert_int_equal(queue_enqueue(&f->st, &r, &old, &created, &e), 0);
	assert_int_equal(queue_enqueue(&f->st, &r, &low, &created, &e), 0);
	r.priority = 5;
	assert_int_equal(queue_enqueue(&f->st, &r, &high, &created, &e), 0);
	must_claim(f, NULL, &c);
	assert_string_equal(c.id, high.data);
	assert_int_equal(c.attempt, 1);
	must_claim(f, NULL, &c);
	assert_string_equal(c.id, old.data);
	/* a run backed off for a minute is not due; the claim says when it is */
	sql(f, "UPDATE runs SET not_before = now() + interval '60 seconds' WHERE id = $1::uuid",
	    low.data);
	assert_true(claim_none(f, NULL, &due));
	assert_true(due > 50000 && due <= 60000);
	sql(f, "UPDATE runs SET not_before = now() WHERE id = $1::uuid", low.data);
	must_claim(f, NULL, &c);
	assert_string_equal(c.id, low.data);
	assert_true(claim_none(f, NULL, &due));
	assert_int_equal(due, -1);
	buf_free(&low);
	buf_free(&high);
	buf_free(&old);
	fx_free(f);
}

static void tag_and_global_limits_hold_in_the_claim(void **state)
{
	struct fx *f = fx_new("queue_limits");
	struct queue_limits l;
	struct queue_claim c1, c2, c3;
	struct buf id;
	int created;
	serr e;

	(void)state;
	buf_init(&id, 64);
	assert_int_equal(queue_limits_parse(&l, 0, "limited=1", &e), 0);
	enqueue(f, "q_tagged", NULL, NULL, NULL, &id, &created);
	enqueue(f, "q_tagged", NULL, NULL, NULL, &id, &created);
	must_claim(f, &l, &c1);
	assert_true(claim_none(f, &l, NULL));
	/* a run without the tag passes the tagged one that waits */
	enqueue(f, "q_plain", NULL, NULL, NULL, &id, &created);
	must_claim(f, &l, &c2);
	assert_string_equal(c2.job, "q_plain");
	/* a request tag counts like a job tag */
	enqueue(f, "q_plain", NULL, NULL, "{\"limited\": true}", &id, &created);
	assert_true(claim_none(f, &l, NULL));
	finish(f, &c1, "SUCCESS", -1, "SUCCESS");
	must_claim(f, &l, &c1);
	assert_string_equal(c1.job, "q_tagged");
	finish(f, &c1, "SUCCESS", -1, "SUCCESS");
	must_claim(f, &l, &c1);
	assert_string_equal(c1.job, "q_plain");
	/* a global limit of two with two running: nothing more */
	assert_int_equal(queue_limits_parse(&l, 2, "", &e), 0);
	enqueue(f, "q_plain", NULL, NULL, NULL, &id, &created);
	assert_true(claim_none(f, &l, NULL));
	finish(f, &c2, "SUCCESS", -1, "SUCCESS");
	must_claim(f, &l, &c3);
	/* a limit of 0 closes the tag */
	assert_int_equal(queue_limits_parse(&l, 0, "other=0", &e), 0);
	enqueue(f, "q_tagged", NULL, NULL, NULL, &id, &created);
	assert_true(claim_none(f, &l, NULL));
	buf_free(&id);
	fx_free(f);
}

/* After a 402 the 'llm' tag is paused: its runs wait a minute, then one probes. */
static void runs_of_a_paused_tag_wait_until_the_pause_is_a_minute_old(void **state)
{
	struct fx *f = fx_new("queue_paused");
	struct queue_limits l;
	struct queue_claim c;
	struct buf id;
	int created;
	serr e;

	(void)state;
	buf_init(&id, 64);
	assert_int_equal(queue_limits_parse(&l, 0, "", &e), 0);
	sql(f, "INSERT INTO pauses (tag, reason) VALUES ('limited', $1)", "out of credits (402)");
	enqueue(f, "q_tagged", NULL, NULL, NULL, &id, &created);
	assert_true(claim_none(f, &l, NULL));
	/* other work goes on */
	enqueue(f, "q_plain", NULL, NULL, NULL, &id, &created);
	must_claim(f, &l, &c);
	assert_string_equal(c.job, "q_plain");
	finish(f, &c, "SUCCESS", -1, "SUCCESS");
	assert_true(claim_none(f, &l, NULL));
	/* a minute later one run may probe the API */
	sql(f, "UPDATE pauses SET checked_at = now() - interval '61 seconds' WHERE tag = $1",
	    "limited");
	must_claim(f, &l, &c);
	assert_string_equal(c.job, "q_tagged");
	finish(f, &c, "SUCCESS", -1, "SUCCESS");
	/* a cleared pause holds nothing back */
	sql(f, "DELETE FROM pauses WHERE tag = $1", "limited");
	enqueue(f, "q_tagged", NULL, NULL, NULL, &id, &created);
	must_claim(f, &l, &c);
	buf_free(&id);
	fx_free(f);
}

static void only_the_lease_holder_records_the_end(void **state)
{
	struct fx *f = fx_new("queue_lease");
	struct queue_claim first, second;
	enum queue_lease_state ls;
	struct buf id;
	char v[64];
	int created;
	serr e;

	(void)state;
	buf_init(&id, 64);
	enqueue(f, "q_strict", "recA", NULL, NULL, &id, &created); /* two attempts */
	must_claim(f, NULL, &first);
	assert_int_equal(queue_lease_check(&f->st, &first, &ls, &e), 0);
	assert_int_equal(ls, QUEUE_LEASE_HELD);
	/* the worker stops renewing: the reaper takes the run back for another attempt */
	sql(f, "UPDATE runs SET lease_expires_at = now() - interval '1 second'", NULL);
	{
		struct queue_reaped r;
		assert_int_equal(queue_reap(&f->st, 10, &r, &e), 0);
		assert_int_equal(r.requeued, 1);
	}
	run_value(f, "status || ' ' || attempt", id.data, v, sizeof(v));
	assert_string_equal(v, "QUEUED 2");
	assert_int_equal(queue_lease_check(&f->st, &first, &ls, &e), 0);
	assert_int_equal(ls, QUEUE_LEASE_LOST);
	must_claim(f, NULL, &second);
	assert_string_equal(second.id, first.id);
	assert_int_equal(second.attempt, 2);
	/* the first holder wakes up and finishes: nothing is recorded */
	finish(f, &first, "SUCCESS", -1, "");
	run_value(f, "status", id.data, v, sizeof(v));
	assert_string_equal(v, "STARTED");
	finish(f, &second, "SUCCESS", -1, "SUCCESS");
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE type = 'RUN_SUCCESS'", NULL),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE type = 'RUN_RETRY'"
				  " AND message LIKE '%lease%expired%'",
			       NULL),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE status = 'LOST'"
				  " AND attempt = 1",
			       NULL),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE status = 'SUCCESS'"
				  " AND attempt = 2",
			       NULL),
			 1);
	/* with no attempt left the reaper fails the run */
	enqueue(f, "q_plain", NULL, NULL, NULL, &id, &created);
	must_claim(f, NULL, &first);
	sql(f, "UPDATE runs SET lease_expires_at = now() - interval '1 second' WHERE id = $1::uuid",
	    id.data);
	{
		struct queue_reaped r;
		assert_int_equal(queue_reap(&f->st, 10, &r, &e), 0);
		assert_int_equal(r.failed, 1);
	}
	run_value(f, "status || ': ' || error", id.data, v, sizeof(v));
	assert_true(str_starts_with(v, "FAILURE: the lease of worker 'test-worker' expired"));
	buf_free(&id);
	fx_free(f);
}

static void a_failure_with_attempts_left_is_queued_after_its_backoff(void **state)
{
	struct fx *f = fx_new("queue_retry");
	struct queue_claim c;
	struct buf id;
	int created;

	(void)state;
	buf_init(&id, 64);
	enqueue(f, "q_strict", "recA", NULL, NULL, &id, &created);
	must_claim(f, NULL, &c);
	finish(f, &c, "FAILURE", 60000, "QUEUED");
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE attempt = 2 AND status = 'QUEUED'"
				  " AND not_before > now() + interval '50 seconds'",
			       NULL),
			 1);
	assert_true(claim_none(f, NULL, NULL));
	sql(f, "UPDATE runs SET not_before = now()", NULL);
	must_claim(f, NULL, &c);
	assert_int_equal(c.attempt, 2);
	finish(f, &c, "FAILURE", 10, "FAILURE");
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE status = 'FAILURE'", NULL),
			 2);
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE type = 'RUN_FAILURE'"
				  " AND message LIKE 'attempt 2 of 2 failed, no attempts left%'",
			       NULL),
			 1);
	buf_free(&id);
	fx_free(f);
}

static void cancel_ends_a_queued_run_and_asks_a_running_one_to_stop(void **state)
{
	struct fx *f = fx_new("queue_cancel");
	struct queue_claim c;
	enum queue_lease_state ls;
	struct buf a, b;
	char was[16], now[16], v[32];
	int created;
	serr e;

	(void)state;
	buf_init(&a, 64);
	buf_init(&b, 64);
	enqueue(f, "q_plain", NULL, NULL, NULL, &a, &created);
	assert_int_equal(queue_cancel(&f->st, a.data, &e), 0);
	run_value(f, "status", a.data, v, sizeof(v));
	assert_string_equal(v, "CANCELED");
	assert_true(claim_none(f, NULL, NULL));
	enqueue(f, "q_plain", NULL, NULL, NULL, &b, &created);
	must_claim(f, NULL, &c);
	assert_int_equal(queue_cancel_ex(&f->st, b.data, "enough", was, now, &e), 0);
	assert_string_equal(was, "STARTED");
	assert_string_equal(now, "CANCELING");
	assert_int_equal(queue_lease_check(&f->st, &c, &ls, &e), 0);
	assert_int_equal(ls, QUEUE_LEASE_CANCELING);
	/* canceling twice is fine */
	assert_int_equal(queue_cancel(&f->st, b.data, &e), 0);
	finish(f, &c, "CANCELED", -1, "CANCELED");
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE status = 'CANCELED'", NULL),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE type = 'RUN_CANCELING'"
				  " AND message = 'enough'",
			       NULL),
			 1);
	/* an ended run cannot be canceled; nor can a run that is not there */
	enqueue(f, "q_plain", NULL, NULL, NULL, &a, &created);
	must_claim(f, NULL, &c);
	finish(f, &c, "SUCCESS", -1, "SUCCESS");
	assert_int_equal(queue_cancel(&f->st, a.data, &e), -1);
	assert_non_null(strstr(e.msg, "already ended with SUCCESS"));
	assert_int_equal(queue_cancel(&f->st, "00000000-0000-0000-0000-000000000000", &e), -1);
	assert_non_null(strstr(e.msg, "no such run"));
	assert_int_equal(queue_cancel(&f->st, "x'; DROP TABLE runs; --", &e), -1);
	assert_non_null(strstr(e.msg, "not a run id"));
	buf_free(&a);
	buf_free(&b);
	fx_free(f);
}

static void release_gives_the_run_back_without_spending_an_attempt(void **state)
{
	struct fx *f = fx_new("queue_release");
	struct queue_claim c;
	struct buf id;
	char v[32];
	int created;
	serr e;

	(void)state;
	buf_init(&id, 64);
	enqueue(f, "q_plain", NULL, NULL, NULL, &id, &created);
	must_claim(f, NULL, &c);
	assert_int_equal(queue_release(&f->st, &c, "shutting down", &e), 0);
	run_value(f, "status || ' ' || attempt", id.data, v, sizeof(v));
	assert_string_equal(v, "QUEUED 1");
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE status = 'RELEASED'", NULL),
			 1);
	must_claim(f, NULL, &c);
	assert_int_equal(c.attempt, 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts", NULL), 2);
	buf_free(&id);
	fx_free(f);
}

static void renewal_extends_held_leases_and_reports_the_others(void **state)
{
	struct fx *f = fx_new("queue_renew");
	struct queue_claim a, b, c;
	enum queue_lease_state st[3];
	const char *ids[3], *owners[3];
	struct buf id;
	int created;
	serr e;

	(void)state;
	buf_init(&id, 64);
	for (int i = 0; i < 3; i++)
		enqueue(f, "q_plain", NULL, NULL, NULL, &id, &created);
	must_claim(f, NULL, &a);
	must_claim(f, NULL, &b);
	must_claim(f, NULL, &c);
	sql(f, "UPDATE runs SET lease_expires_at = now() + interval '1 second'", NULL);
	assert_int_equal(queue_cancel(&f->st, b.id, &e), 0);
	finish(f, &c, "SUCCESS", -1, "SUCCESS");
	ids[0] = a.id, ids[1] = b.id, ids[2] = c.id;
	owners[0] = a.owner, owners[1] = b.owner, owners[2] = c.owner;
	assert_int_equal(queue_renew(&f->st, ids, owners, 3, 60000, st, &e), 0);
	assert_int_equal(st[0], QUEUE_LEASE_HELD);
	assert_int_equal(st[1], QUEUE_LEASE_CANCELING);
	assert_int_equal(st[2], QUEUE_LEASE_LOST);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE lease_expires_at"
				  " > now() + interval '50 seconds'",
			       NULL),
			 2);
	buf_free(&id);
	fx_free(f);
}

/* 1 when a notification on the queue channel arrives within ms. */
static int notified(struct store *l, int ms)
{
	int64_t until = mono_ms() + ms;
	PGnotify *n;

	while (mono_ms() < until) {
		struct timeval tv = { 0, 50000 };
		fd_set rd;
		int fd = PQsocket(l->conn);

		FD_ZERO(&rd);
		FD_SET(fd, &rd);
		select(fd + 1, &rd, NULL, NULL, &tv);
		PQconsumeInput(l->conn);
		if ((n = PQnotifies(l->conn))) {
			int ok = strcmp(n->relname, QUEUE_CHANNEL) == 0;
			PQfreemem(n);
			while ((n = PQnotifies(l->conn)))
				PQfreemem(n);
			return ok;
		}
	}
	return 0;
}

static void workers_are_notified_when_a_run_becomes_queued(void **state)
{
	struct fx *f = fx_new("queue_notify");
	struct queue_claim c;
	struct queue_reaped r;
	struct store l;
	struct buf id;
	int created;
	serr e;

	(void)state;
	buf_init(&id, 64);
	assert_int_equal(store_open_url(&l, buf_cstr(&f->url), &e), 0);
	assert_int_equal(store_exec(&l, "listen", "LISTEN " QUEUE_CHANNEL, 0, NULL, NULL, &e), 0);
	/* a new run, only once the transaction commits */
	assert_int_equal(store_begin(&f->st, &e), 0);
	enqueue(f, "q_strict", "recA", NULL, NULL, &id, &created);
	assert_false(notified(&l, 200));
	assert_int_equal(store_commit(&f->st, &e), 0);
	assert_true(notified(&l, 5000));
	/* claiming and finishing notify nothing */
	must_claim(f, NULL, &c);
	assert_false(notified(&l, 200));
	/* a retry, a reaped run and a released run do */
	finish(f, &c, "FAILURE", 0, "QUEUED");
	assert_true(notified(&l, 5000));
	must_claim(f, NULL, &c);
	finish(f, &c, "SUCCESS", -1, "SUCCESS");
	enqueue(f, "q_strict", "recB", NULL, NULL, &id, &created);
	assert_true(notified(&l, 5000));
	must_claim(f, NULL, &c);
	sql(f, "UPDATE runs SET lease_expires_at = now() - interval '1 second' WHERE id = $1::uuid",
	    c.id);
	assert_int_equal(queue_reap(&f->st, 10, &r, &e), 0);
	assert_int_equal(r.requeued, 1);
	assert_true(notified(&l, 5000));
	must_claim(f, NULL, &c);
	assert_int_equal(queue_release(&f->st, &c, "bye", &e), 0);
	assert_true(notified(&l, 5000));
	store_close(&l);
	buf_free(&id);
	fx_free(f);
}

static void partition_events_cover_every_run_of_the_partition(void **state)
{
	struct fx *f = fx_new("queue_part_events");
	struct run_event_list ev;
	struct queue_claim c;
	struct buf a, b, other;
	int created, runs_seen = 0;
	serr e;

	(void)state;
	buf_init(&a, 64);
	buf_init(&b, 64);
	buf_init(&other, 64);
	run_event_list_init(&ev);
	enqueue(f, TEST_JOB_NOOP, "recA", NULL, NULL, &a, &created);
	must_claim(f, NULL, &c);
	finish(f, &c, "FAILURE", -1, "FAILURE");
	enqueue(f, TEST_JOB_NOOP, "recB", NULL, NULL, &other, &created);
	enqueue(f, TEST_JOB_NOOP, "recA", NULL, NULL, &b, &created);
	assert_int_equal(queue_partition_events(&f->st, TEST_JOB_NOOP, "recA", 0, 0, &ev, &e), 0);
	/* enqueued, started, failed; then enqueued */
	assert_int_equal(ev.n, 4);
	for (size_t i = 0; i < ev.n; i++) {
		assert_string_not_equal(ev.items[i].run_id, other.data);
		if (i > 0)
			assert_true(ev.items[i].id > ev.items[i - 1].id);
		if (strcmp(ev.items[i].type, "RUN_ENQUEUED") == 0)
			runs_seen++;
	}
	assert_int_equal(runs_seen, 2);
	assert_string_equal(ev.items[3].run_id, b.data);
	/* paging */
	assert_int_equal(queue_partition_events(&f->st, TEST_JOB_NOOP, "recA", ev.items[1].id, 1, &ev,
						&e),
			 0);
	assert_int_equal(ev.n, 1);
	assert_string_equal(ev.items[0].type, "RUN_FAILURE");
	run_event_list_free(&ev);
	buf_free(&a);
	buf_free(&b);
	buf_free(&other);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_run_key_dedupes_requests_of_a_job),
		cmocka_unit_test(a_partition_has_at_most_one_queued_or_running_run),
		cmocka_unit_test(concurrent_requests_for_one_partition_create_one_run),
		cmocka_unit_test(requests_are_checked_against_the_job_definition),
		cmocka_unit_test(a_request_in_a_transaction_goes_with_it),
		cmocka_unit_test(claims_follow_priority_then_age_and_wait_for_backoff),
		cmocka_unit_test(tag_and_global_limits_hold_in_the_claim),
		cmocka_unit_test(runs_of_a_paused_tag_wait_until_the_pause_is_a_minute_old),
		cmocka_unit_test(only_the_lease_holder_records_the_end),
		cmocka_unit_test(a_failure_with_attempts_left_is_queued_after_its_backoff),
		cmocka_unit_test(cancel_ends_a_queued_run_and_asks_a_running_one_to_stop),
		cmocka_unit_test(release_gives_the_run_back_without_spending_an_attempt),
		cmocka_unit_test(renewal_extends_held_leases_and_reports_the_others),
		cmocka_unit_test(workers_are_notified_when_a_run_becomes_queued),
		cmocka_unit_test(partition_events_cover_every_run_of_the_partition),
	};
	serr e;

	log_set_level(LOG_WARN);
	if (test_jobs_register(&e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	for (size_t i = 0; i < sizeof(q_defs) / sizeof(q_defs[0]); i++) {
		if (job_defs_register(&q_defs[i], &e) < 0) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
