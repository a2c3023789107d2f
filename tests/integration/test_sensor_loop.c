/*
 * Integration tests of sensor ticks and the sensor loop on a real
 * PostgreSQL database, with test sensors: a sensor that raises keeps its
 * cursor and stays on; the cursor and the runs of a tick commit together;
 * run keys dedupe; a hung sensor is cut at the timeout while the others
 * tick; two loops tick each sensor once per interval and hand over the
 * lead, also when the leader is killed.
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
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "core/util.h"
#include "orchestrator/sensor.h"
#include "orchestrator/test_jobs.h"
#include "store/heartbeats.h"
#include "store/sensors.h"
#include "support/harness_db.h"

#define WAIT_MS 30000
#define MANY 25

static volatile int flaky_raises; /* read by the forked evaluation */

static int eval_flaky(const struct sensor_eval_ctx *ctx, const char *cursor,
		      struct sensor_result *out, serr *e)
{
	(void)cursor;
	if (flaky_raises)
		return serr_set(e, "upstream said boom");
	if (sensor_result_cursor(out, ctx->tick_start, e) < 0)
		return -1;
	return sensor_result_skip(out, "nothing new", e);
}

static int eval_fast(const struct sensor_eval_ctx *ctx, const char *cursor,
		     struct sensor_result *out, serr *e)
{
	(void)cursor;
	if (sensor_result_cursor(out, ctx->tick_start, e) < 0)
		return -1;
	return sensor_result_skip(out, "fast and idle", e);
}

static int eval_hang(const struct sensor_eval_ctx *ctx, const char *cursor,
		     struct sensor_result *out, serr *e)
{
	(void)ctx;
	(void)cursor;
	(void)out;
	(void)e;
	sleep_ms(60000);
	return 0;
}

/* MANY runs of test_noop, one per partition, with fixed run keys. */
static int eval_many(const struct sensor_eval_ctx *ctx, const char *cursor,
		     struct sensor_result *out, serr *e)
{
	char part[32], key[32];

	(void)cursor;
	for (int i = 0; i < MANY; i++) {
		snprintf(part, sizeof(part), "recMany%04d", i);
		snprintf(key, sizeof(key), "many-%d", i);
		if (sensor_result_request(out, NULL, part, key, NULL, e) < 0)
			return -1;
	}
	return sensor_result_cursor(out, ctx->tick_start, e);
}

/* Two runs; the second is made to fail in the database by the test. */
static int eval_two(const struct sensor_eval_ctx *ctx, const char *cursor,
		    struct sensor_result *out, serr *e)
{
	(void)cursor;
	if (sensor_result_request(out, NULL, "recTwoA", "two-a", json_pack("{s:s}", "input_hash", "ha"),
				  e) < 0 ||
	    sensor_result_request(out, NULL, "recTwoB", "two-b", json_pack("{s:s}", "input_hash", "hb"),
				  e) < 0)
		return -1;
	return sensor_result_cursor(out, ctx->tick_start, e);
}

static const struct sensor_def test_sensors[] = {
	{ "t_flaky", "raises when told", 1, NULL, 0, TEST_JOB_NOOP, eval_flaky },
	{ "t_fast", "idle every second", 1, NULL, 0, TEST_JOB_NOOP, eval_fast },
	{ "t_hang", "never returns", 1, NULL, 0, TEST_JOB_NOOP, eval_hang },
	{ "t_many", "requests 25 runs", 1, NULL, 0, TEST_JOB_NOOP, eval_many },
	{ "t_two", "requests 2 runs", 1, NULL, 0, TEST_JOB_NOOP, eval_two },
};

struct fx {
	struct config cfg;
	struct store st;
	char name[48];
};

static void cfg_set(struct config *c, const char *k, const char *v)
{
	serr e;

	if (config_set(c, k, v, &e) < 0)
		fail_msg("%s", e.msg);
}

/* A fresh database where only the named test sensors are on. */
static struct fx *fx_new(const char *name, const char *const *enabled)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct buf url;
	size_t n = sensor_defs_count();
	serr e;

	assert_non_null(f);
	snprintf(f->name, sizeof(f->name), "%s", name);
	assert_int_equal(config_init(&f->cfg, &e), 0);
	buf_init(&url, 0);
	if (harness_db_create(name, &url, &e) < 0)
		fail_msg("%s", e.msg);
	cfg_set(&f->cfg, "database.url", buf_cstr(&url));
	cfg_set(&f->cfg, "sensor.tick_timeout_s", "2");
	cfg_set(&f->cfg, "sensor.lease_s", "3");
	store_init(&f->st);
	if (store_open_url(&f->st, buf_cstr(&url), &e) < 0)
		fail_msg("%s", e.msg);
	buf_free(&url);
	for (size_t i = 0; i < n; i++) {
		const struct sensor_def *d = sensor_def_at(i);
		int on = 0;
		for (size_t k = 0; enabled && enabled[k]; k++)
			on |= strcmp(enabled[k], d->name) == 0;
		if (sensors_set_enabled(&f->st, d->name, on, &e) < 0)
			fail_msg("%s", e.msg);
	}
	return f;
}

static void fx_free(struct fx *f)
{
	serr e;

	store_close(&f->st);
	if (harness_db_drop(f->name, &e) < 0)
		print_error("%s\n", e.msg);
	config_free(&f->cfg);
	free(f);
}

static int64_t count(struct fx *f, const char *sql, const char *param)
{
	const char *p[1] = { param };
	int64_t n = -1;
	serr e;

	if (store_query_i64(&f->st, "count", sql, param ? 1 : 0, param ? p : NULL, &n, &e) < 0)
		fail_msg("%s", e.msg);
	return n;
}

/* Poll until the count reaches at least min; fails after WAIT_MS. */
static void wait_count(struct fx *f, const char *sql, const char *param, int64_t min)
{
	int64_t until = mono_ms() + WAIT_MS;

	while (count(f, sql, param) < min) {
		if (mono_ms() > until)
			fail_msg("waited %d ms for %lld rows of: %s", WAIT_MS, (long long)min, sql);
		sleep_ms(50);
	}
}

static void tick(struct fx *f, const char *sensor, struct sensor_tick_outcome *o)
{
	serr e;

	sensor_tick_outcome_init(o);
	if (sensor_tick_now(&f->cfg, &f->st, sensor, 1, "test", o, &e) < 0)
		fail_msg("tick of %s: %s", sensor, e.msg);
}

static void state_of(struct fx *f, const char *sensor, struct sensor_state_list *sl)
{
	serr e;

	sensor_state_list_init(sl);
	if (sensors_state_list(&f->st, sensor, sl, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(sl->n, 1);
}

struct loop_thread {
	pthread_t t;
	const struct config *cfg;
	struct sensor_loop_opts o;
	volatile sig_atomic_t stop;
	int rc;
	serr e;
};

static void *loop_main(void *p)
{
	struct loop_thread *lt = p;

	lt->rc = sensor_loop_main(lt->cfg, &lt->o, &lt->e);
	return NULL;
}

static void loop_start(struct loop_thread *lt, const struct config *cfg, const char *name)
{
	memset(lt, 0, sizeof(*lt));
	lt->cfg = cfg;
	lt->o.name = name;
	lt->o.stop = &lt->stop;
	assert_int_equal(pthread_create(&lt->t, NULL, loop_main, lt), 0);
}

static void loop_stop(struct loop_thread *lt)
{
	lt->stop = 1;
	assert_int_equal(pthread_join(lt->t, NULL), 0);
	if (lt->rc < 0)
		fail_msg("sensor loop %s: %s", lt->o.name, lt->e.msg);
}

/* Every tick of sensor, oldest first, started at least interval_ms after the one before. */
static size_t assert_ticks_spaced(struct fx *f, const char *sensor, int64_t interval_ms)
{
	struct sensor_tick_list l;
	size_t n;
	serr e;

	sensor_tick_list_init(&l);
	assert_int_equal(sensors_ticks(&f->st, sensor, 1000, &l, &e), 0);
	n = l.n;
	for (size_t i = 1; i < l.n; i++) {
		/* newest first: item i-1 is the later tick */
		int64_t gap = l.items[i - 1].started_ms - l.items[i].started_ms;
		if (gap < interval_ms)
			fail_msg("ticks %lld and %lld of %s started %lld ms apart (interval %lld ms)",
				 (long long)l.items[i].id, (long long)l.items[i - 1].id, sensor,
				 (long long)gap, (long long)interval_ms);
	}
	sensor_tick_list_free(&l);
	return n;
}

static void a_sensor_that_raises_keeps_its_cursor_and_stays_enabled(void **state)
{
	const char *on[] = { "t_flaky", NULL };
	struct fx *f = fx_new("sensor_raise", on);
	struct sensor_tick_outcome o;
	struct sensor_state_list sl;
	char cursor[64];

	(void)state;
	flaky_raises = 0;
	tick(f, "t_flaky", &o);
	assert_string_equal(o.status, "SKIPPED");
	assert_non_null(o.cursor_after);
	snprintf(cursor, sizeof(cursor), "%s", o.cursor_after);
	sensor_tick_outcome_free(&o);

	flaky_raises = 1;
	tick(f, "t_flaky", &o);
	assert_string_equal(o.status, "FAILURE");
	assert_non_null(strstr(o.error, "upstream said boom"));
	assert_string_equal(o.cursor_after, cursor);
	sensor_tick_outcome_free(&o);
	state_of(f, "t_flaky", &sl);
	assert_string_equal(sl.items[0].cursor, cursor);
	assert_true(sl.items[0].enabled);
	assert_string_equal(sl.items[0].last_status, "FAILURE");
	assert_non_null(strstr(sl.items[0].last_error, "upstream said boom"));
	sensor_state_list_free(&sl);
	assert_int_equal(count(f, "SELECT count(*) FROM sensor_ticks WHERE status = 'FAILURE'"
				  " AND cursor_after = cursor_before",
			       NULL),
			 1);

	flaky_raises = 0;
	tick(f, "t_flaky", &o);
	assert_string_equal(o.status, "SKIPPED");
	assert_string_not_equal(o.cursor_after, cursor);
	sensor_tick_outcome_free(&o);
	fx_free(f);
}

static void a_failed_enqueue_commits_neither_the_cursor_nor_any_run(void **state)
{
	const char *on[] = { "t_two", NULL };
	struct fx *f = fx_new("sensor_atomic", on);
	struct sensor_tick_outcome o;
	struct sensor_state_list sl;
	serr e;

	(void)state;
	/* the database refuses the second run of the transaction */
	if (store_exec(&f->st, "install the fault",
		       "CREATE FUNCTION t_refuse_second() RETURNS trigger LANGUAGE plpgsql AS $$"
		       " BEGIN IF (SELECT count(*) FROM runs) >= 1 THEN"
		       "  RAISE EXCEPTION 'injected enqueue failure'; END IF; RETURN NEW; END $$",
		       0, NULL, NULL, &e) < 0 ||
	    store_exec(&f->st, "install the fault",
		       "CREATE TRIGGER t_refuse_second BEFORE INSERT ON runs FOR EACH ROW"
		       " EXECUTE FUNCTION t_refuse_second()",
		       0, NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	tick(f, "t_two", &o);
	assert_string_equal(o.status, "FAILURE");
	assert_non_null(strstr(o.error, "injected enqueue failure"));
	assert_null(o.cursor_after);
	sensor_tick_outcome_free(&o);
	assert_int_equal(count(f, "SELECT count(*) FROM runs", NULL), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM partitions", NULL), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM sensor_pending", NULL), 0);
	state_of(f, "t_two", &sl);
	assert_null(sl.items[0].cursor);
	assert_true(sl.items[0].enabled);
	sensor_state_list_free(&sl);

	if (store_exec(&f->st, "remove the fault", "DROP TRIGGER t_refuse_second ON runs", 0, NULL,
		       NULL, &e) < 0)
		fail_msg("%s", e.msg);
	tick(f, "t_two", &o);
	assert_string_equal(o.status, "SUCCESS");
	assert_int_equal(json_array_size(o.run_ids), 2);
	assert_non_null(o.cursor_after);
	sensor_tick_outcome_free(&o);
	assert_int_equal(count(f, "SELECT count(*) FROM partitions WHERE input_hash IS NOT NULL",
			       NULL),
			 2);
	fx_free(f);
}

static void run_keys_dedupe_a_sensor_requesting_many_runs(void **state)
{
	const char *on[] = { "t_many", NULL };
	struct fx *f = fx_new("sensor_many", on);
	struct sensor_tick_outcome o;

	(void)state;
	tick(f, "t_many", &o);
	assert_string_equal(o.status, "SUCCESS");
	assert_int_equal(json_array_size(o.run_ids), MANY);
	sensor_tick_outcome_free(&o);
	tick(f, "t_many", &o);
	assert_string_equal(o.status, "SKIPPED");
	assert_int_equal(json_array_size(o.run_ids), 0);
	assert_int_equal(json_integer_value(json_object_get(o.metadata, "already_requested")), MANY);
	sensor_tick_outcome_free(&o);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE tags->>'sensor' = 't_many'", NULL),
			 MANY);
	fx_free(f);
}

static void a_hung_sensor_is_cut_at_the_timeout_while_the_others_tick(void **state)
{
	const char *on[] = { "t_hang", "t_fast", NULL };
	struct fx *f = fx_new("sensor_hang", on);
	struct loop_thread lt;
	struct sensor_state_list sl;

	(void)state;
	loop_start(&lt, &f->cfg, "solo");
	wait_count(f, "SELECT count(*) FROM sensor_ticks WHERE sensor = 't_hang'", NULL, 1);
	loop_stop(&lt);
	/* every tick of it (a stop lets the one in flight end) failed with the timeout */
	assert_int_equal(count(f, "SELECT count(*) FROM sensor_ticks WHERE sensor = 't_hang'"
				  " AND (status <> 'FAILURE' OR error NOT LIKE '%did not finish within 2 s%')",
			       NULL),
			 0);
	/* the fast sensor committed ticks while the hung one was still running */
	assert_true(count(f, "SELECT count(*) FROM sensor_ticks t WHERE sensor = 't_fast'"
			     " AND ended_at < (SELECT min(ended_at) FROM sensor_ticks"
			     "  WHERE sensor = 't_hang')",
			  NULL) >= 1);
	state_of(f, "t_hang", &sl);
	assert_true(sl.items[0].enabled);
	sensor_state_list_free(&sl);
	fx_free(f);
}

static void two_loops_tick_each_sensor_once_per_interval_and_hand_over(void **state)
{
	const char *on[] = { "t_fast", NULL };
	struct fx *f = fx_new("sensor_two_loops", on);
	struct loop_thread a, b, *leader, *other;
	struct heartbeat_list hb;
	struct buf holder;
	serr e;

	(void)state;
	loop_start(&a, &f->cfg, "loopA");
	loop_start(&b, &f->cfg, "loopB");
	wait_count(f, "SELECT count(*) FROM sensor_ticks WHERE sensor = 't_fast'", NULL, 3);
	heartbeat_list_init(&hb);
	assert_int_equal(heartbeat_list(&f->st, "sensors", &hb, &e), 0);
	assert_int_equal(hb.n, 2);
	heartbeat_list_free(&hb);

	/* the leader stops; the other takes over at its next lease renewal */
	buf_init(&holder, 0);
	assert_int_equal(named_lease_holder(&f->st, SENSOR_LEADER_LEASE, &holder, &e), 0);
	leader = str_starts_with(buf_cstr(&holder), "loopA@") ? &a : &b;
	other = leader == &a ? &b : &a;
	buf_free(&holder);
	loop_stop(leader);
	wait_count(f, other == &a ? "SELECT count(*) FROM sensor_ticks WHERE holder LIKE 'loopA@%'"
				  : "SELECT count(*) FROM sensor_ticks WHERE holder LIKE 'loopB@%'",
		   NULL, 2);
	loop_stop(other);

	assert_true(assert_ticks_spaced(f, "t_fast", 1000) >= 4);
	assert_int_equal(count(f, "SELECT count(DISTINCT split_part(holder, '@', 1))"
				  " FROM sensor_ticks",
			       NULL),
			 2);
	assert_int_equal(count(f, "SELECT count(*) FROM sensor_ticks WHERE sensor <> 't_fast'", NULL),
			 0);
	assert_int_equal(count(f, "SELECT count(*) FROM heartbeats WHERE component = 'sensors'",
			       NULL),
			 0);
	fx_free(f);
}

static void a_killed_leader_is_replaced_once_its_lease_expires(void **state)
{
	const char *on[] = { "t_fast", NULL };
	struct fx *f = fx_new("sensor_killed", on);
	struct loop_thread heir;
	pid_t pid;

	(void)state;
	cfg_set(&f->cfg, "sensor.lease_s", "2");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sensor_loop_opts o = { "doomed", NULL, 0 };
		serr e;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(sensor_loop_main(&f->cfg, &o, &e) < 0 ? 1 : 0);
	}
	wait_count(f, "SELECT count(*) FROM sensor_ticks WHERE holder LIKE 'doomed@%'", NULL, 2);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);

	loop_start(&heir, &f->cfg, "heir");
	wait_count(f, "SELECT count(*) FROM sensor_ticks WHERE holder LIKE 'heir@%'", NULL, 2);
	loop_stop(&heir);
	assert_ticks_spaced(f, "t_fast", 1000);
	/* the heir ticked only after the dead leader: never both at once */
	assert_int_equal(count(f, "SELECT count(*) FROM sensor_ticks h WHERE holder LIKE 'heir@%'"
				  " AND started_at < (SELECT max(started_at) FROM sensor_ticks"
				  "  WHERE holder LIKE 'doomed@%')",
			       NULL),
			 0);
	fx_free(f);
}

static int setup(void **state)
{
	serr e;

	(void)state;
	if (test_jobs_register(&e) < 0) {
		print_error("%s\n", e.msg);
		return -1;
	}
	for (size_t i = 0; i < sizeof(test_sensors) / sizeof(test_sensors[0]); i++) {
		if (sensor_defs_register(&test_sensors[i], &e) < 0) {
			print_error("%s\n", e.msg);
			return -1;
		}
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_sensor_that_raises_keeps_its_cursor_and_stays_enabled),
		cmocka_unit_test(a_failed_enqueue_commits_neither_the_cursor_nor_any_run),
		cmocka_unit_test(run_keys_dedupe_a_sensor_requesting_many_runs),
		cmocka_unit_test(a_hung_sensor_is_cut_at_the_timeout_while_the_others_tick),
		cmocka_unit_test(two_loops_tick_each_sensor_once_per_interval_and_hand_over),
		cmocka_unit_test(a_killed_leader_is_replaced_once_its_lease_expires),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
