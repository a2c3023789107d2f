/*
 * Integration tests of backfills against the test server with real
 * workers (worker_main on threads of this process): a 250-partition
 * backfill under a concurrency limit of 2 that is cancelled mid-way and
 * resumed, partitions that already have a pending run, --failed, resuming
 * after an interrupted launch, a stalled backfill finished by the sensor
 * loop's keeper, and the errors a request can meet.
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

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/backfill.h"
#include "orchestrator/context.h"
#include "orchestrator/job.h"
#include "orchestrator/worker.h"
#include "store/backfills.h"
#include "store/partition_status.h"
#include "store/partitions.h"
#include "store/queue.h"
#include "store/runs.h"
#include "support/harness_db.h"

#define JOB "bf_work"	   /* partitioned by candidates, concurrency tag "bftest" */
#define FLAT_JOB "bf_flat" /* not partitioned */
#define WAIT_MS 60000

/* Steps of bf_work running right now in this process, and the most seen at once. */
static atomic_int active_steps;
static atomic_int max_active_steps;

/*
 * Record the execution (bf_exec), hold the slot a little so runs overlap
 * when the limit allows it, and fail for partitions listed in bf_fail.
 */
static int step_work(struct job_ctx *c, serr *e)
{
	const char *p[2] = { c->run_id, c->partition };
	int64_t fail = 0;
	int now = atomic_fetch_add(&active_steps, 1) + 1, seen, rc = -1;

	seen = atomic_load(&max_active_steps);
	while (now > seen && !atomic_compare_exchange_weak(&max_active_steps, &seen, now))
		;
	if (store_exec(c->store, "record a backfill test execution",
		       "INSERT INTO bf_exec (run_id, partition_key) VALUES ($1::uuid, $2)", 2, p,
		       NULL, e) < 0)
		goto out;
	sleep_ms(15);
	if (store_query_i64(c->store, "read the failing partitions",
			    "SELECT count(*) FROM bf_fail WHERE partition_key = $1", 1, p + 1, &fail,
			    e) < 0)
		goto out;
	if (fail) {
		serr_set(e, "partition '%s' fails on purpose", c->partition);
		goto out;
	}
	rc = 0;
out:
	atomic_fetch_sub(&active_steps, 1);
	return rc;
}

static const struct job_def bf_defs[] = {
	{ .name = JOB, .description = "records each execution; fails for listed partitions",
	  .partitioning = PART_CANDIDATES, .tags = "bftest", .max_retries = 0,
	  .steps = { { "work", step_work } } },
	{ .name = FLAT_JOB, .description = "not partitioned", .partitioning = PART_NONE,
	  .steps = { { "work", step_work } } },
};

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

static void cfg_set(struct config *c, const char *k, const char *v)
{
	serr e;

	if (config_set(c, k, v, &e) < 0)
		fail_msg("%s", e.msg);
}

static void sql(struct fx *f, const char *q)
{
	serr e;

	if (store_exec(&f->st, "run a test statement", q, 0, NULL, NULL, &e) < 0)
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

/* Wait (bounded, for a slow machine) until the count reaches at least want. */
static int64_t wait_at_least(struct fx *f, const char *q, const char *p1, int64_t want)
{
	int64_t until = mono_ms() + WAIT_MS, n = -1;

	while (mono_ms() < until) {
		if ((n = count(f, q, p1)) >= want)
			return n;
		sleep_ms(10);
	}
	fail_msg("waited %d ms for %lld from: %s (last %lld)", WAIT_MS, (long long)want, q,
		 (long long)n);
	return -1;
}

static void wait_none(struct fx *f, const char *q, const char *p1)
{
	int64_t until = mono_ms() + WAIT_MS, n = -1;

	while (mono_ms() < until) {
		if ((n = count(f, q, p1)) == 0)
			return;
		sleep_ms(10);
	}
	fail_msg("waited %d ms for none from: %s (last %lld)", WAIT_MS, q, (long long)n);
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
	cfg_set(&f->cfg, "queue.lease_ms", "5000");
	cfg_set(&f->cfg, "queue.tag_limits", "bftest=2");
	sql(f, "CREATE TABLE bf_exec (run_id uuid, partition_key text,"
	       " at timestamptz DEFAULT clock_timestamp())");
	sql(f, "CREATE TABLE bf_fail (partition_key text PRIMARY KEY)");
	atomic_store(&active_steps, 0);
	atomic_store(&max_active_steps, 0);
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

/* Partitions rec000 .. rec<n-1> of kind candidates. */
static void add_partitions(struct fx *f, int n)
{
	char (*names)[16] = calloc((size_t)n, sizeof(*names));
	const char **keys = calloc((size_t)n, sizeof(*keys));
	serr e;

	assert_non_null(names);
	assert_non_null(keys);
	for (int i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "rec%03d", i);
		keys[i] = names[i];
	}
	if (partitions_add(&f->st, "candidates", keys, (size_t)n, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	free(keys);
	free(names);
}

static void launch(struct fx *f, enum backfill_selection sel, const char *const *keys, size_t n,
		   int chunk, struct buf *id, struct backfill_result *res)
{
	struct backfill_request r = { 0 };
	serr e;

	r.job = JOB;
	r.selection = sel;
	r.keys = keys;
	r.nkeys = n;
	r.chunk = chunk;
	if (backfill_launch(&f->st, &r, id, res, &e) < 0)
		fail_msg("%s", e.msg);
}

static void get(struct fx *f, const char *id, struct backfill_list *l)
{
	serr e;

	if (backfills_list(&f->st, id, 1, l, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(l->n, 1);
}

/* Follow the backfill until it is done, bounded by WAIT_MS. */
static int wait_done(struct fx *f, const char *id)
{
	struct backfill_list l;
	int64_t until = mono_ms() + WAIT_MS;
	int ok = -1;

	backfill_list_init(&l);
	while (mono_ms() < until) {
		get(f, id, &l);
		if (backfill_done(&l.items[0])) {
			ok = strcmp(l.items[0].status, "COMPLETED") == 0;
			if (!ok)
				print_message("backfill %s ended %s: %lld succeeded, %lld failed, "
					      "%lld canceled\n",
					      id, l.items[0].status,
					      (long long)l.items[0].progress.succeeded,
					      (long long)l.items[0].progress.failed,
					      (long long)l.items[0].progress.canceled);
			break;
		}
		sleep_ms(20);
	}
	backfill_list_free(&l);
	if (ok < 0)
		fail_msg("backfill %s did not finish within %d ms", id, WAIT_MS);
	return ok;
}

static void backfill_of_250_partitions_respects_a_limit_of_2_and_resumes_after_cancel(void **st)
{
	struct fx *f = fx_new("backfill_250");
	struct backfill_result res;
	struct backfill_list l;
	struct buf id;
	struct wt w1, w2;
	int64_t done_before, exec_after, to_queue = 0, canceled = 0;
	serr e;

	(void)st;
	buf_init(&id, 64);
	backfill_list_init(&l);
	add_partitions(f, 250);
	/* chunks of 64: several transactions */
	launch(f, BACKFILL_ALL, NULL, 0, 64, &id, &res);
	assert_int_equal(res.selected, 250);
	assert_int_equal(res.queued, 250);
	assert_int_equal(res.already_pending, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE backfill_id = $1 AND status ="
				  " 'QUEUED' AND tags->>'backfill' = $1",
			       buf_cstr(&id)),
			 250);
	get(f, buf_cstr(&id), &l);
	assert_string_equal(l.items[0].status, "RUNNING");
	assert_int_equal(l.items[0].progress.queued, 250);

	/* two workers with four slots each: the tag limit of 2 holds over both */
	wt_start(f, &w1, "bf-worker-1", 4);
	wt_start(f, &w2, "bf-worker-2", 4);
	wait_at_least(f, "SELECT count(*) FROM runs WHERE backfill_id = $1 AND status = 'SUCCESS'",
		      buf_cstr(&id), 40);
	if (backfill_cancel(&f->st, buf_cstr(&id), &canceled, &e) < 0)
		fail_msg("%s", e.msg);
	assert_true(canceled > 0);
	/* running runs finish; nothing else starts */
	wait_none(f, "SELECT count(*) FROM runs WHERE backfill_id = $1"
		     " AND status IN ('QUEUED', 'STARTED', 'CANCELING')",
		  buf_cstr(&id));
	done_before = count(f, "SELECT count(*) FROM bf_exec", NULL);
	sleep_ms(600); /* many poll intervals of the workers */
	exec_after = count(f, "SELECT count(*) FROM bf_exec", NULL);
	assert_int_equal(exec_after, done_before);
	assert_true(done_before < 250);
	get(f, buf_cstr(&id), &l);
	assert_string_equal(l.items[0].status, "CANCELED");
	assert_int_equal(l.items[0].progress.succeeded, done_before);
	assert_int_equal(l.items[0].progress.canceled, 250 - done_before);
	assert_int_equal(l.items[0].progress.canceled, canceled);
	assert_true(backfill_done(&l.items[0]));

	/* resume: only the canceled partitions are queued again */
	if (backfills_resume(&f->st, buf_cstr(&id), &to_queue, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(to_queue, 250 - done_before);
	{
		struct backfill_result rr;

		if (backfill_resume(&f->st, buf_cstr(&id), 100, NULL, NULL, &rr, &e) < 0)
			fail_msg("%s", e.msg);
		assert_int_equal(rr.queued, 250 - done_before);
	}
	assert_int_equal(wait_done(f, buf_cstr(&id)), 1);
	wt_stop(&w1);
	wt_stop(&w2);

	get(f, buf_cstr(&id), &l);
	assert_string_equal(l.items[0].status, "COMPLETED");
	assert_int_equal(l.items[0].progress.succeeded, 250);
	assert_non_null(l.items[0].ended_at);
	/* every partition ran exactly once, never more than 2 at a time */
	assert_int_equal(count(f, "SELECT count(DISTINCT partition_key) FROM bf_exec", NULL), 250);
	assert_int_equal(count(f, "SELECT count(*) FROM bf_exec", NULL), 250);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE backfill_id = $1"
				  " AND status = 'SUCCESS'",
			       buf_cstr(&id)),
			 250);
	print_message("most bf_work steps at once: %d (limit 2)\n",
		      atomic_load(&max_active_steps));
	assert_int_equal(atomic_load(&max_active_steps), 2);
	{
		struct partition_status_counts c;

		if (partition_status_counts(&f->st, JOB, &c, &e) < 0)
			fail_msg("%s", e.msg);
		assert_int_equal(c.n[PSTATE_SUCCEEDED], 250);
	}
	backfill_list_free(&l);
	buf_free(&id);
	fx_free(f);
}

static void a_pending_partition_never_gets_a_second_run(void **st)
{
	struct fx *f = fx_new("backfill_pending");
	struct backfill_result res;
	struct run_request rq = { 0 };
	struct buf id, id2, sensor_run;
	struct wt w;
	int created = 0;
	serr e;

	(void)st;
	buf_init(&id, 64);
	buf_init(&id2, 64);
	buf_init(&sensor_run, 64);
	add_partitions(f, 10);
	/* a sensor already queued rec003 */
	rq.job = JOB;
	rq.partition_key = "rec003";
	rq.tags_json = "{\"sensor\": \"test\"}";
	if (queue_enqueue(&f->st, &rq, &sensor_run, &created, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(created, 1);

	launch(f, BACKFILL_ALL, NULL, 0, 0, &id, &res);
	assert_int_equal(res.selected, 10);
	assert_int_equal(res.queued, 9);
	assert_int_equal(res.already_pending, 1);
	/* the backfill follows the sensor's run for rec003 */
	assert_int_equal(count(f, "SELECT count(*) FROM backfill_partitions WHERE backfill_id ="
				  " $1::uuid AND partition_key = 'rec003' AND pending_elsewhere"
				  " AND run_id = (SELECT id FROM runs WHERE tags->>'sensor' = 'test')",
			       buf_cstr(&id)),
			 1);
	/* a second backfill while the first is pending queues nothing */
	launch(f, BACKFILL_ALL, NULL, 0, 3, &id2, &res);
	assert_int_equal(res.queued, 0);
	assert_int_equal(res.already_pending, 10);
	assert_int_equal(count(f, "SELECT count(*) FROM runs", NULL), 10);
	assert_int_equal(count(f, "SELECT max(c) FROM (SELECT count(*) AS c FROM runs"
				  " WHERE status IN ('QUEUED', 'STARTED') GROUP BY partition_key) t",
			       NULL),
			 1);

	wt_start(f, &w, "bf-pending", 2);
	assert_int_equal(wait_done(f, buf_cstr(&id)), 1);
	assert_int_equal(wait_done(f, buf_cstr(&id2)), 1);
	wt_stop(&w);
	assert_int_equal(count(f, "SELECT count(*) FROM bf_exec", NULL), 10);
	assert_int_equal(count(f, "SELECT count(DISTINCT partition_key) FROM bf_exec", NULL), 10);
	buf_free(&id);
	buf_free(&id2);
	buf_free(&sensor_run);
	fx_free(f);
}

static void failed_selects_exactly_the_failed_partitions(void **st)
{
	struct fx *f = fx_new("backfill_failed");
	struct backfill_result res;
	struct backfill_list l;
	struct buf id, again;
	struct wt w;
	int all_ok = -1;
	serr e;

	(void)st;
	buf_init(&id, 64);
	buf_init(&again, 64);
	backfill_list_init(&l);
	add_partitions(f, 20);
	sql(f, "INSERT INTO bf_fail VALUES ('rec002'), ('rec005'), ('rec011'), ('rec017')");
	wt_start(f, &w, "bf-failed", 2);
	launch(f, BACKFILL_ALL, NULL, 0, 0, &id, &res);
	if (backfill_wait(&f->st, buf_cstr(&id), 20, NULL, NULL, NULL, &all_ok, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(all_ok, 0);
	get(f, buf_cstr(&id), &l);
	assert_string_equal(l.items[0].status, "FAILED");
	assert_int_equal(l.items[0].progress.failed, 4);
	assert_int_equal(l.items[0].progress.succeeded, 16);

	/* one failed partition is already queued again elsewhere: it is pending, not failed */
	{
		struct run_request rq = { .job = JOB, .partition_key = "rec017" };
		struct buf rid;
		int created = 0;

		buf_init(&rid, 64);
		wt_stop(&w);
		if (queue_enqueue(&f->st, &rq, &rid, &created, &e) < 0)
			fail_msg("%s", e.msg);
		assert_int_equal(created, 1);
		buf_free(&rid);
	}
	sql(f, "DELETE FROM bf_fail");
	launch(f, BACKFILL_FAILED, NULL, 0, 0, &again, &res);
	assert_int_equal(res.selected, 3);
	assert_int_equal(count(f, "SELECT count(*) FROM backfill_partitions WHERE backfill_id ="
				  " $1::uuid AND partition_key IN ('rec002', 'rec005', 'rec011')",
			       buf_cstr(&again)),
			 3);
	wt_start(f, &w, "bf-failed-2", 2);
	if (backfill_wait(&f->st, buf_cstr(&again), 20, NULL, NULL, NULL, &all_ok, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(all_ok, 1);
	wait_at_least(f, "SELECT count(*) FROM runs WHERE partition_key = 'rec017'"
			 " AND status = 'SUCCESS'",
		      NULL, 1);
	wt_stop(&w);
	{
		struct partition_status_counts c;

		if (partition_status_counts(&f->st, JOB, &c, &e) < 0)
			fail_msg("%s", e.msg);
		assert_int_equal(c.n[PSTATE_SUCCEEDED], 20);
		assert_int_equal(c.n[PSTATE_FAILED], 0);
	}
	/* nothing failed any more: --failed selects nothing and says so */
	{
		struct backfill_request r = { .job = JOB, .selection = BACKFILL_FAILED };

		assert_int_equal(backfill_launch(&f->st, &r, &again, &res, &e), -1);
		assert_non_null(strstr(e.msg, "no partition of the job has failed"));
	}
	backfill_list_free(&l);
	buf_free(&id);
	buf_free(&again);
	fx_free(f);
}

/* A launch that stopped part-way (canceled, or its process died) is finished by resume. */
static void resume_queues_what_has_no_successful_or_pending_run(void **st)
{
	struct fx *f = fx_new("backfill_resume");
	struct backfill_chunk c;
	struct backfill_result res;
	struct backfill_list l;
	struct buf id;
	int64_t selected = 0, canceled = 0, to_queue = 0;
	const char *first = NULL;
	serr e;

	(void)st;
	buf_init(&id, 64);
	backfill_list_init(&l);
	add_partitions(f, 30);
	if (backfills_create(&f->st, JOB, "candidates", BACKFILL_ALL, NULL, 0, &id, &selected,
			     &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(selected, 30);
	if (backfills_queue_chunk(&f->st, buf_cstr(&id), 10, &c, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(c.queued, 10);
	assert_int_equal(c.remaining, 20);
	get(f, buf_cstr(&id), &l);
	assert_string_equal(l.items[0].status, "REQUESTED");
	assert_int_equal(l.items[0].progress.unqueued, 20);
	/* the first run succeeded meanwhile (as if a worker ran it) */
	first = "rec000";
	sql(f, "UPDATE runs SET status = 'SUCCESS', ended_at = now() WHERE partition_key = 'rec000'");
	if (backfill_cancel(&f->st, buf_cstr(&id), &canceled, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(canceled, 9);
	/* a canceled backfill queues nothing more */
	if (backfills_queue_chunk(&f->st, buf_cstr(&id), 10, &c, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(c.stopped, 1);
	assert_int_equal(count(f, "SELECT count(*) FROM runs", NULL), 10);

	if (backfills_resume(&f->st, buf_cstr(&id), &to_queue, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(to_queue, 29); /* 9 canceled + 20 never queued; rec000 succeeded */
	if (backfill_resume(&f->st, buf_cstr(&id), 7, NULL, NULL, &res, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(res.queued, 29);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE status = 'QUEUED'", NULL), 29);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE partition_key = $1", first), 1);
	/* resuming again while everything is pending queues nothing */
	if (backfill_resume(&f->st, buf_cstr(&id), 0, NULL, NULL, &res, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(res.queued, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM runs", NULL), 39);
	get(f, buf_cstr(&id), &l);
	assert_string_equal(l.items[0].status, "RUNNING");
	assert_int_equal(l.items[0].num_queued, 39);
	assert_int_equal(l.items[0].progress.queued, 29);
	assert_int_equal(l.items[0].progress.succeeded, 1);
	assert_int_equal(l.items[0].progress.canceled, 0);
	backfill_list_free(&l);
	buf_free(&id);
	fx_free(f);
}

/* A backfill whose launcher died half-way is finished by the keeper the
 * sensor loop's leader runs; one still advancing is left to its launcher,
 * and no partition gets a second run. */
static void a_stalled_backfill_is_finished_by_the_keeper(void **st)
{
	struct fx *f = fx_new("backfill_stalled");
	struct backfill_keeper k;
	struct backfill_chunk c;
	struct backfill_list l;
	struct buf id;
	int64_t selected = 0, queued = 0, now = mono_ms();
	serr e;

	(void)st;
	buf_init(&id, 64);
	backfill_list_init(&l);
	backfill_keeper_init(&k);
	add_partitions(f, 30);
	if (backfills_create(&f->st, JOB, "candidates", BACKFILL_ALL, NULL, 0, &id, &selected,
			     &e) < 0)
		fail_msg("%s", e.msg);
	if (backfills_queue_chunk(&f->st, buf_cstr(&id), 10, &c, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(c.remaining, 20);

	/* just advanced: its launcher may still be at work */
	if (backfill_keeper_step(&f->st, &k, now, &queued, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(queued, 0);
	assert_int_equal(k.n, 0);

	/* idle past the limit: adopted and finished */
	sql(f, "UPDATE backfills SET updated_at = now() - interval '5 minutes'");
	if (backfill_keeper_step(&f->st, &k, now + 1000, &queued, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(queued, 0); /* the next look is 30 s after the last */
	if (backfill_keeper_step(&f->st, &k, now + 31000, &queued, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(queued, 20);
	assert_int_equal(k.n, 0);
	get(f, buf_cstr(&id), &l);
	assert_string_equal(l.items[0].status, "RUNNING");
	assert_int_equal(l.items[0].num_queued, 30);
	assert_int_equal(count(f, "SELECT count(*) FROM runs", NULL), 30);
	assert_int_equal(count(f, "SELECT count(*) FROM (SELECT partition_key FROM runs "
				  "GROUP BY 1 HAVING count(*) > 1) d", NULL), 0);

	/* nothing stalled any more */
	if (backfill_keeper_step(&f->st, &k, now + 62000, &queued, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(queued, 0);
	backfill_list_free(&l);
	buf_free(&id);
	fx_free(f);
}

static void bad_requests_fail_with_what_to_do(void **st)
{
	struct fx *f = fx_new("backfill_errors");
	static const char *const unknown[] = { "rec001", "recNope", "rec002", "recGone" };
	static const char *const gone[] = { "rec000", "rec001", "rec002" };
	struct backfill_request r = { 0 };
	struct backfill_result res;
	struct buf id;
	int64_t n = 0;
	serr e;

	(void)st;
	buf_init(&id, 64);
	add_partitions(f, 3);
	/* a full sync without rec000 marks it deleted */
	if (partitions_register(&f->st, "candidates", gone + 1, 2, NULL, &e) < 0)
		fail_msg("%s", e.msg);

	r.job = "no_such_job";
	assert_int_equal(backfill_launch(&f->st, &r, &id, &res, &e), -1);
	assert_non_null(strstr(e.msg, "'no_such_job': no such job"));
	r.job = FLAT_JOB;
	assert_int_equal(backfill_launch(&f->st, &r, &id, &res, &e), -1);
	assert_non_null(strstr(e.msg, "it is not partitioned"));

	r.job = JOB;
	r.selection = BACKFILL_LIST;
	r.keys = unknown;
	r.nkeys = 4;
	assert_int_equal(backfill_launch(&f->st, &r, &id, &res, &e), -1);
	assert_non_null(strstr(e.msg, "2 partition(s) of 'candidates' are not registered or are "
				      "deleted ('recGone', 'recNope')"));
	r.keys = gone;
	r.nkeys = 3;
	assert_int_equal(backfill_launch(&f->st, &r, &id, &res, &e), -1);
	assert_non_null(strstr(e.msg, "'rec000'"));
	assert_int_equal(count(f, "SELECT count(*) FROM backfills", NULL), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM runs", NULL), 0);

	/* a list with a repeated key selects it once */
	{
		static const char *const twice[] = { "rec001", "rec001", "rec002" };

		r.keys = twice;
		r.nkeys = 3;
		if (backfill_launch(&f->st, &r, &id, &res, &e) < 0)
			fail_msg("%s", e.msg);
		assert_int_equal(res.selected, 2);
		assert_int_equal(res.queued, 2);
	}
	/* ids are checked before they reach SQL */
	assert_int_equal(backfill_cancel(&f->st, "x'); DROP TABLE runs; --", &n, &e), -1);
	assert_non_null(strstr(e.msg, "is not a backfill id"));
	assert_int_equal(backfill_cancel(&f->st, "00000000-0000-0000-0000-000000000000", &n, &e),
			 -1);
	assert_non_null(strstr(e.msg, "there is no such backfill"));
	/* a completed backfill cannot be canceled */
	sql(f, "UPDATE runs SET status = 'SUCCESS', ended_at = now()");
	{
		struct backfill_list l;

		backfill_list_init(&l);
		get(f, buf_cstr(&id), &l);
		assert_string_equal(l.items[0].status, "COMPLETED");
		backfill_list_free(&l);
	}
	assert_int_equal(backfill_cancel(&f->st, buf_cstr(&id), &n, &e), -1);
	assert_non_null(strstr(e.msg, "it already ended (COMPLETED)"));
	buf_free(&id);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			backfill_of_250_partitions_respects_a_limit_of_2_and_resumes_after_cancel),
		cmocka_unit_test(a_pending_partition_never_gets_a_second_run),
		cmocka_unit_test(failed_selects_exactly_the_failed_partitions),
		cmocka_unit_test(resume_queues_what_has_no_successful_or_pending_run),
		cmocka_unit_test(a_stalled_backfill_is_finished_by_the_keeper),
		cmocka_unit_test(bad_requests_fail_with_what_to_do),
	};
	serr e;

	log_set_level(LOG_ERROR);
	for (size_t i = 0; i < sizeof(bf_defs) / sizeof(bf_defs[0]); i++) {
		if (job_defs_register(&bf_defs[i], &e) < 0) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
