/*
 * Integration tests of partition status against the test server: each of
 * the six statuses derived from runs (stale included), input hashes,
 * deleted partitions, paging and filters, and statuses that stay right
 * while many connections change runs of the same partitions at once.
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

#include "core/util.h"
#include "store/partition_status.h"
#include "store/partitions.h"
#include "store/runs.h"
#include "store/store.h"
#include "support/harness_db.h"

#define JOB "candidate_ingest_job" /* partitioned by candidates */
#define OTHER_JOB "job_ingest_job" /* partitioned by jobs */

struct fixture {
	struct store s;
	struct buf url;
	char name[64];
};

static int setup_named(void **state, const char *name)
{
	struct fixture *f = calloc(1, sizeof(*f));
	serr e;

	if (!f)
		return -1;
	snprintf(f->name, sizeof(f->name), "%s", name);
	buf_init(&f->url, 0);
	store_init(&f->s);
	if (harness_db_create(f->name, &f->url, &e) < 0 ||
	    store_open_url(&f->s, buf_cstr(&f->url), &e) < 0) {
		print_error("cannot create test database '%s': %s\n", name, e.msg);
		buf_free(&f->url);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	serr e;

	if (!f)
		return 0;
	store_close(&f->s);
	if (harness_db_drop(f->name, &e) < 0)
		print_error("cannot drop test database: %s\n", e.msg);
	buf_free(&f->url);
	free(f);
	return 0;
}

#define SETUP(fn, dbname)                           \
	static int fn(void **state)                 \
	{                                           \
		return setup_named(state, dbname); \
	}

SETUP(setup_six, "pstatus_six")
SETUP(setup_hash, "pstatus_hash")
SETUP(setup_pages, "pstatus_pages")
SETUP(setup_concurrent, "pstatus_concurrent")

static void must_add(struct store *s, const char *kind, const char *const *keys, size_t n)
{
	serr e;

	if (partitions_add(s, kind, keys, n, NULL, &e) < 0)
		fail_msg("%s", e.msg);
}

static void must_hash(struct store *s, const char *key, const char *hash)
{
	serr e;

	if (partitions_set_input_hash(s, "candidates", key, hash, &e) < 0)
		fail_msg("%s", e.msg);
}

/* A run of job for key that ends in `status` (QUEUED, STARTED or an end); returns its id. */
static char *run_to(struct store *s, const char *job, const char *key, const char *status,
		    const char *input_hash)
{
	struct run_new r = { 0 };
	struct buf id, tags;
	serr e;
	char *out;

	buf_init(&id, 0);
	buf_init(&tags, 0);
	if (input_hash)
		assert_int_equal(buf_printf(&tags, "{\"input_hash\": \"%s\"}", input_hash), 0);
	r.job = job;
	r.partition_key = key;
	r.tags_json = input_hash ? buf_cstr(&tags) : NULL;
	if (runs_create_ex(s, &r, &id, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	if (strcmp(status, "QUEUED") != 0) {
		if (strcmp(status, "CANCELED") != 0 &&
		    runs_set_status(s, buf_cstr(&id), "STARTED", NULL, &e) < 0)
			fail_msg("%s", e.msg);
		if (strcmp(status, "STARTED") != 0 &&
		    runs_set_status(s, buf_cstr(&id), status, NULL, &e) < 0)
			fail_msg("%s", e.msg);
	}
	out = buf_detach(&id);
	assert_non_null(out);
	buf_free(&tags);
	return out;
}

static void set_status(struct store *s, const char *id, const char *status)
{
	serr e;

	if (runs_set_status(s, id, status, NULL, &e) < 0)
		fail_msg("%s", e.msg);
}

static enum partition_state state_of(struct store *s, const char *job, const char *key)
{
	struct partition_status_list l;
	int found = 0;
	enum partition_state st;
	serr e;

	partition_status_list_init(&l);
	if (partition_status_get(s, job, key, &l, &found, &e) < 0)
		fail_msg("%s", e.msg);
	if (!found)
		fail_msg("partition '%s' not found", key);
	st = l.items[0].state;
	partition_status_list_free(&l);
	return st;
}

#define assert_state(s, key, want) \
	assert_string_equal(partition_state_name(state_of((s), JOB, (key))), (want))

static void each_of_the_six_statuses_is_derived_from_runs(void **state)
{
	struct fixture *f = *state;
	static const char *const keys[] = { "recMissing", "recQueued",	"recRunning",
					    "recSucceeded", "recFailed", "recStale" };
	struct partition_status_counts c;
	char *ids[6] = { 0 };
	serr e;

	must_add(&f->s, "candidates", keys, 6);
	for (int i = 0; i < 6; i++)
		must_hash(&f->s, keys[i], "h1");
	ids[1] = run_to(&f->s, JOB, "recQueued", "QUEUED", "h1");
	ids[2] = run_to(&f->s, JOB, "recRunning", "STARTED", "h1");
	ids[3] = run_to(&f->s, JOB, "recSucceeded", "SUCCESS", "h1");
	ids[4] = run_to(&f->s, JOB, "recFailed", "FAILURE", "h1");
	ids[5] = run_to(&f->s, JOB, "recStale", "SUCCESS", "h1");
	must_hash(&f->s, "recStale", "h2"); /* the record changed after its success */

	assert_state(&f->s, "recMissing", "missing");
	assert_state(&f->s, "recQueued", "queued");
	assert_state(&f->s, "recRunning", "running");
	assert_state(&f->s, "recSucceeded", "succeeded");
	assert_state(&f->s, "recFailed", "failed");
	assert_state(&f->s, "recStale", "stale");

	assert_int_equal(partition_status_counts(&f->s, JOB, &c, &e), 0);
	assert_int_equal(c.total, 6);
	for (int i = 0; i < PSTATE_COUNT; i++)
		assert_int_equal(c.n[i], 1);

	for (int i = 0; i < 6; i++)
		free(ids[i]);
}

/* The latest run decides while it is queued or running; else the latest that ended. */
static void latest_run_decides_and_canceled_runs_do_not_count(void **state)
{
	struct fixture *f = *state;
	static const char *const keys[] = { "recA", "recB", "recC", "recD", "recE" };
	char *a, *b;

	must_add(&f->s, "candidates", keys, 5);
	/* success, then a failure: failed */
	free(run_to(&f->s, JOB, "recA", "SUCCESS", NULL));
	free(run_to(&f->s, JOB, "recA", "FAILURE", NULL));
	assert_state(&f->s, "recA", "failed");
	/* failure, then a success: succeeded */
	free(run_to(&f->s, JOB, "recB", "FAILURE", NULL));
	free(run_to(&f->s, JOB, "recB", "SUCCESS", NULL));
	assert_state(&f->s, "recB", "succeeded");
	/* only canceled runs: missing; a failure before a cancel: still failed */
	free(run_to(&f->s, JOB, "recC", "CANCELED", NULL));
	assert_state(&f->s, "recC", "missing");
	free(run_to(&f->s, JOB, "recD", "FAILURE", NULL));
	free(run_to(&f->s, JOB, "recD", "CANCELED", NULL));
	assert_state(&f->s, "recD", "failed");
	/* a success, then a new run queued and run: queued, running, then its outcome */
	free(run_to(&f->s, JOB, "recE", "SUCCESS", NULL));
	a = run_to(&f->s, JOB, "recE", "QUEUED", NULL);
	assert_state(&f->s, "recE", "queued");
	set_status(&f->s, a, "STARTED");
	assert_state(&f->s, "recE", "running");
	set_status(&f->s, a, "CANCELING");
	assert_state(&f->s, "recE", "running");
	set_status(&f->s, a, "CANCELED");
	assert_state(&f->s, "recE", "succeeded");
	/* a retry re-queues the same run: queued again, then its new outcome */
	b = run_to(&f->s, JOB, "recE", "FAILURE", NULL);
	assert_state(&f->s, "recE", "failed");
	set_status(&f->s, b, "QUEUED");
	assert_state(&f->s, "recE", "queued");
	set_status(&f->s, b, "STARTED");
	set_status(&f->s, b, "SUCCESS");
	assert_state(&f->s, "recE", "succeeded");
	free(a);
	free(b);
}

static void stale_follows_the_input_hash_the_success_ran_with(void **state)
{
	struct fixture *f = *state;
	static const char *const keys[] = { "recHash", "recHand", "recNoHash" };
	struct partition_status_list l;
	int found;
	serr e;

	must_add(&f->s, "candidates", keys, 3);
	/* no input hash known anywhere: a success is a success */
	free(run_to(&f->s, JOB, "recNoHash", "SUCCESS", NULL));
	assert_state(&f->s, "recNoHash", "succeeded");

	must_hash(&f->s, "recHash", "h1");
	free(run_to(&f->s, JOB, "recHash", "SUCCESS", "h1"));
	assert_state(&f->s, "recHash", "succeeded");
	must_hash(&f->s, "recHash", "h2");
	assert_state(&f->s, "recHash", "stale");
	/* a queued run of a stale partition shows queued; its success with h2 clears stale */
	free(run_to(&f->s, JOB, "recHash", "SUCCESS", "h2"));
	assert_state(&f->s, "recHash", "succeeded");
	/* the hash changes back and forth: stale only while it differs */
	must_hash(&f->s, "recHash", "h3");
	assert_state(&f->s, "recHash", "stale");
	must_hash(&f->s, "recHash", "h2");
	assert_state(&f->s, "recHash", "succeeded");

	/* a run started by hand carries no hash: it ran with the partition's hash at its success */
	must_hash(&f->s, "recHand", "h1");
	free(run_to(&f->s, JOB, "recHand", "SUCCESS", NULL));
	assert_state(&f->s, "recHand", "succeeded");
	must_hash(&f->s, "recHand", "h9");
	assert_state(&f->s, "recHand", "stale");

	partition_status_list_init(&l);
	assert_int_equal(partition_status_get(&f->s, JOB, "recHand", &l, &found, &e), 0);
	assert_int_equal(found, 1);
	assert_string_equal(l.items[0].input_hash, "h9");
	assert_string_equal(l.items[0].last_status, "SUCCESS");
	assert_non_null(l.items[0].last_run_id);
	assert_non_null(l.items[0].updated_at);
	partition_status_list_free(&l);
}

static void input_hash_of_an_unknown_partition_is_an_error(void **state)
{
	struct fixture *f = *state;
	static const char *const keys[] = { "recKnown" };
	const char *bulk_keys[] = { "recKnown", "recUnknown" };
	const char *bulk_hashes[] = { "h1", "h2" };
	struct partition_status_list l;
	int found = 0;
	serr e;

	must_add(&f->s, "candidates", keys, 1);
	assert_int_equal(partitions_set_input_hash(&f->s, "candidates", "recUnknown", "h", &e), -1);
	assert_non_null(strstr(e.msg, "partition 'recUnknown' of 'candidates' is not registered"));
	assert_int_equal(partitions_set_input_hash(&f->s, "people", "recKnown", "h", &e), -1);
	assert_non_null(strstr(e.msg, "'people'"));
	/* bulk: nothing changes when one key is unknown */
	assert_int_equal(partitions_set_input_hashes(&f->s, "candidates", bulk_keys, bulk_hashes, 2,
						     &e),
			 -1);
	assert_non_null(strstr(e.msg, "'recUnknown'"));
	partition_status_list_init(&l);
	assert_int_equal(partition_status_get(&f->s, JOB, "recKnown", &l, &found, &e), 0);
	assert_null(l.items[0].input_hash);
	partition_status_list_free(&l);
	/* an unpartitioned or unknown job has no partition status */
	assert_int_equal(partition_status_get(&f->s, "sync_airtable_candidates_job", "recKnown", &l,
					      &found, &e),
			 -1);
	assert_non_null(strstr(e.msg, "is not partitioned"));
	assert_int_equal(partition_status_get(&f->s, "no_such_job", "recKnown", &l, &found, &e), -1);
	assert_non_null(strstr(e.msg, "'no_such_job' is unknown"));
}

static void list_pages_filters_and_skips_deleted_partitions(void **state)
{
	struct fixture *f = *state;
	const char *keys[40];
	char names[40][16];
	struct partition_status_list l;
	struct partition_status_counts c;
	enum partition_state flt;
	serr e;

	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "rec%03d", i);
		keys[i] = names[i];
	}
	must_add(&f->s, "candidates", keys, 40);
	/* a job-kind partition with the same shape of key is not listed for a candidate job */
	must_add(&f->s, "jobs", keys, 1);
	for (int i = 0; i < 40; i++) {
		if (i % 4 == 1)
			free(run_to(&f->s, JOB, keys[i], "FAILURE", NULL));
		else if (i % 4 == 2)
			free(run_to(&f->s, JOB, keys[i], "SUCCESS", NULL));
	}
	/* the other job's runs on the same keys do not count for this one */
	free(run_to(&f->s, OTHER_JOB, "rec000", "FAILURE", NULL));
	/* a full sync without rec039 marks it deleted: it leaves the listing */
	assert_int_equal(partitions_register(&f->s, "candidates", keys, 39, NULL, &e), 0);

	partition_status_list_init(&l);
	assert_int_equal(partition_status_list(&f->s, JOB, NULL, 10, 0, &l, &e), 0);
	assert_int_equal(l.n, 10);
	assert_string_equal(l.items[0].key, "rec000");
	assert_string_equal(partition_state_name(l.items[0].state), "missing");
	assert_null(l.items[0].last_run_id);
	assert_string_equal(partition_state_name(l.items[1].state), "failed");
	assert_string_equal(partition_state_name(l.items[2].state), "succeeded");
	assert_int_equal(partition_status_list(&f->s, JOB, NULL, 10, 30, &l, &e), 0);
	assert_int_equal(l.n, 9);
	assert_string_equal(l.items[8].key, "rec038");

	flt = PSTATE_FAILED;
	assert_int_equal(partition_status_list(&f->s, JOB, &flt, 100, 0, &l, &e), 0);
	assert_int_equal(l.n, 10);
	for (size_t i = 0; i < l.n; i++)
		assert_string_equal(partition_state_name(l.items[i].state), "failed");
	assert_string_equal(l.items[0].key, "rec001");
	assert_int_equal(partition_status_list(&f->s, JOB, &flt, 3, 3, &l, &e), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.items[0].key, "rec013");
	flt = PSTATE_MISSING;
	assert_int_equal(partition_status_list(&f->s, JOB, &flt, 100, 0, &l, &e), 0);
	assert_int_equal(l.n, 19); /* 20 without runs, rec039 deleted */
	flt = PSTATE_SUCCEEDED;
	assert_int_equal(partition_status_list(&f->s, JOB, &flt, 100, 0, &l, &e), 0);
	assert_int_equal(l.n, 10);
	flt = PSTATE_STALE;
	assert_int_equal(partition_status_list(&f->s, JOB, &flt, 100, 0, &l, &e), 0);
	assert_int_equal(l.n, 0);

	assert_int_equal(partition_status_counts(&f->s, JOB, &c, &e), 0);
	assert_int_equal(c.total, 39);
	assert_int_equal(c.n[PSTATE_MISSING], 19);
	assert_int_equal(c.n[PSTATE_FAILED], 10);
	assert_int_equal(c.n[PSTATE_SUCCEEDED], 10);

	assert_int_equal(partition_status_list(&f->s, JOB, NULL, 0, 0, &l, &e), -1);
	assert_non_null(strstr(e.msg, "out of range"));
	partition_status_list_free(&l);
}

/* ---- concurrent run updates ---- */

#define CC_THREADS 6
#define CC_PARTITIONS 4
#define CC_ROUNDS 40

struct cc_shared {
	const char *url;
	pthread_barrier_t start, done;
};

struct cc_thread {
	struct cc_shared *sh;
	unsigned seed;
	int ops_done;
	char err[SERR_MAX];
};

static const char *const cc_statuses[] = { "QUEUED",  "STARTED",   "SUCCESS",
					   "FAILURE", "CANCELING", "CANCELED" };

/* One random change: a new run of a partition, or a new status for one of its runs. */
static int cc_op(struct store *s, unsigned *seed, serr *e)
{
	char key[16];
	const char *p[2];
	const char *st = cc_statuses[rand_r(seed) % 6];

	snprintf(key, sizeof(key), "recCc%d", rand_r(seed) % CC_PARTITIONS);
	p[0] = key;
	p[1] = st;
	if (rand_r(seed) % 3 == 0)
		return store_exec(s, "insert a run",
				  "INSERT INTO runs (job, partition_key, status) VALUES"
				  " ('" JOB "', $1, $2)",
				  2, p, NULL, e);
	return store_exec(s, "change a run",
			  "UPDATE runs SET status = $2 WHERE id = (SELECT id FROM runs"
			  " WHERE job = '" JOB "' AND partition_key = $1"
			  " ORDER BY random() LIMIT 1)",
			  2, p, NULL, e);
}

/* Refusals that concurrent writers of runs must expect: the one-active-run index, deadlocks. */
static int cc_expected(const struct store *s)
{
	return store_failed_with(s, "23505") || store_failed_with(s, "40P01");
}

/*
 * One transaction per round with two changes and a pause between them, so
 * transactions of the threads overlap on the same partitions.
 */
static int cc_round(struct store *s, unsigned *seed, serr *e)
{
	const char *pause[1] = { rand_r(seed) % 2 ? "0.004" : "0" };

	if (store_begin(s, e) < 0)
		return -1;
	if (cc_op(s, seed, e) < 0 ||
	    store_exec(s, "pause", "SELECT pg_sleep($1::float8)", 1, pause, NULL, e) < 0 ||
	    cc_op(s, seed, e) < 0 || store_commit(s, e) < 0) {
		store_rollback(s);
		return cc_expected(s) ? 0 : -1;
	}
	return 0;
}

static void *cc_main(void *arg)
{
	struct cc_thread *t = arg;
	struct store s;
	serr e;
	int ok;

	store_init(&s);
	ok = store_open_url(&s, t->sh->url, &e) == 0;
	if (!ok)
		snprintf(t->err, sizeof(t->err), "%s", e.msg);
	for (int i = 0; i < CC_ROUNDS; i++) {
		pthread_barrier_wait(&t->sh->start);
		if (ok && cc_round(&s, &t->seed, &e) < 0) {
			snprintf(t->err, sizeof(t->err), "%s", e.msg);
			ok = 0;
		}
		if (ok)
			t->ops_done++;
		pthread_barrier_wait(&t->sh->done);
	}
	store_close(&s);
	return NULL;
}

/* Partitions whose maintained row differs from a derivation from scratch over every run. */
static int64_t cc_mismatches(struct store *s)
{
	int64_t n = -1;
	serr e;

	if (store_query_i64(
		    s, "compare",
		    "WITH l AS (SELECT DISTINCT ON (partition_key) partition_key, status FROM runs"
		    "  WHERE job = '" JOB "' ORDER BY partition_key, created_at DESC, id DESC),"
		    " o AS (SELECT DISTINCT ON (partition_key) partition_key, status FROM runs"
		    "  WHERE job = '" JOB "' AND status IN ('SUCCESS', 'FAILURE')"
		    "  ORDER BY partition_key, created_at DESC, id DESC),"
		    " want AS (SELECT l.partition_key, CASE WHEN l.status = 'QUEUED' THEN 'queued'"
		    "  WHEN l.status IN ('STARTED', 'CANCELING') THEN 'running'"
		    "  WHEN o.status = 'SUCCESS' THEN 'succeeded'"
		    "  WHEN o.status = 'FAILURE' THEN 'failed' ELSE 'missing' END AS status"
		    "  FROM l LEFT JOIN o USING (partition_key)),"
		    " have AS (SELECT partition_key, status FROM partition_runs WHERE job = '" JOB "')"
		    " SELECT count(*) FROM want w FULL JOIN have h USING (partition_key)"
		    " WHERE coalesce(w.status, 'missing') <> coalesce(h.status, 'missing')",
		    0, NULL, &n, &e) < 0)
		fail_msg("%s", e.msg);
	return n;
}

static void statuses_stay_right_under_concurrent_run_updates(void **state)
{
	struct fixture *f = *state;
	struct cc_shared sh;
	struct cc_thread t[CC_THREADS];
	pthread_t th[CC_THREADS];
	const char *keys[CC_PARTITIONS];
	char names[CC_PARTITIONS][16];
	struct partition_status_counts c;
	int64_t wrong = 0, runs = 0;
	serr e;

	for (int i = 0; i < CC_PARTITIONS; i++) {
		snprintf(names[i], sizeof(names[i]), "recCc%d", i);
		keys[i] = names[i];
	}
	must_add(&f->s, "candidates", keys, CC_PARTITIONS);
	/* the job is tracked: every partition has its row before any run */
	assert_int_equal(partition_status_counts(&f->s, JOB, &c, &e), 0);
	assert_int_equal(c.n[PSTATE_MISSING], CC_PARTITIONS);
	sh.url = buf_cstr(&f->url);
	assert_int_equal(pthread_barrier_init(&sh.start, NULL, CC_THREADS + 1), 0);
	assert_int_equal(pthread_barrier_init(&sh.done, NULL, CC_THREADS + 1), 0);
	for (int i = 0; i < CC_THREADS; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].sh = &sh;
		t[i].seed = 1234u + (unsigned)i;
		assert_int_equal(pthread_create(&th[i], NULL, cc_main, &t[i]), 0);
	}
	/* Check after every round, not only at the end: a later change would hide a wrong row. */
	for (int r = 0; r < CC_ROUNDS; r++) {
		pthread_barrier_wait(&sh.start);
		pthread_barrier_wait(&sh.done);
		wrong += cc_mismatches(&f->s);
	}
	for (int i = 0; i < CC_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&sh.start);
	pthread_barrier_destroy(&sh.done);
	for (int i = 0; i < CC_THREADS; i++) {
		if (t[i].err[0])
			fail_msg("thread %d: %s", i, t[i].err);
		assert_int_equal(t[i].ops_done, CC_ROUNDS);
	}
	if (store_query_i64(&f->s, "count runs", "SELECT count(*) FROM runs", 0, NULL, &runs, &e) < 0)
		fail_msg("%s", e.msg);
	print_message("%lld runs over %d partitions, %lld wrong rows seen\n", (long long)runs,
		      CC_PARTITIONS, (long long)wrong);
	assert_true(runs > CC_PARTITIONS);
	assert_int_equal(wrong, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(each_of_the_six_statuses_is_derived_from_runs,
						setup_six, teardown),
		cmocka_unit_test_setup_teardown(latest_run_decides_and_canceled_runs_do_not_count,
						setup_six, teardown),
		cmocka_unit_test_setup_teardown(stale_follows_the_input_hash_the_success_ran_with,
						setup_hash, teardown),
		cmocka_unit_test_setup_teardown(input_hash_of_an_unknown_partition_is_an_error,
						setup_hash, teardown),
		cmocka_unit_test_setup_teardown(list_pages_filters_and_skips_deleted_partitions,
						setup_pages, teardown),
		cmocka_unit_test_setup_teardown(statuses_stay_right_under_concurrent_run_updates,
						setup_concurrent, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
