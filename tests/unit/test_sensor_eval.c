/*
 * Unit tests of sensor definitions and of evaluating a tick in a child
 * process: results come back whole, errors become the tick's message, and
 * a hung or crashing evaluation is stopped and reported, never waited for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <signal.h>
#include <unistd.h>

#include "config/config.h"
#include "core/util.h"
#include "orchestrator/sensor.h"
#include "orchestrator/sensor_internal.h"

static int eval_three(const struct sensor_eval_ctx *ctx, const char *cursor,
		      struct sensor_result *out, serr *e)
{
	char key[64];

	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "k%d:%s", i, cursor ? cursor : "none");
		if (sensor_result_request(out, NULL, i == 2 ? NULL : "recPart", key,
					  json_pack("{s:i}", "n", i), e) < 0)
			return -1;
	}
	return sensor_result_cursor(out, ctx->tick_start, e);
}

static int eval_nothing(const struct sensor_eval_ctx *ctx, const char *cursor,
			struct sensor_result *out, serr *e)
{
	(void)ctx;
	(void)cursor;
	return sensor_result_skip(out, "nothing changed", e);
}

static int eval_raise(const struct sensor_eval_ctx *ctx, const char *cursor,
		      struct sensor_result *out, serr *e)
{
	(void)ctx;
	(void)cursor;
	(void)out;
	return serr_set(e, "the source said no");
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

static int eval_crash(const struct sensor_eval_ctx *ctx, const char *cursor,
		      struct sensor_result *out, serr *e)
{
	(void)ctx;
	(void)cursor;
	(void)out;
	(void)e;
	raise(SIGSEGV);
	return 0;
}

static int eval_silent_exit(const struct sensor_eval_ctx *ctx, const char *cursor,
			    struct sensor_result *out, serr *e)
{
	(void)ctx;
	(void)cursor;
	(void)out;
	(void)e;
	_exit(0);
}

static struct sensor_def def_of(const char *name, sensor_eval_fn fn)
{
	struct sensor_def d = { 0 };

	d.name = name;
	d.description = "unit test sensor";
	d.interval_s = 7;
	d.job = "test_noop";
	d.eval = fn;
	return d;
}

/* Evaluate d in a child with cfg; res and e hold what came back. */
static int run_child(const struct config *cfg, const struct sensor_def *d, const char *cursor,
		     struct sensor_result *res, serr *e)
{
	struct sensor_child c;
	int rc;

	sensor_child_init(&c);
	c.tick.def = d;
	snprintf(c.tick.started_at, sizeof(c.tick.started_at), "2026-11-29T01:00:00.000Z");
	c.tick.started_ms = 0;
	c.tick.cursor_before = cursor ? strdup(cursor) : NULL;
	rc = sensor_child_run(&c, cfg, 0, res, e);
	sensor_child_free(&c);
	return rc;
}

static struct config *cfg_new(void)
{
	struct config *c = calloc(1, sizeof(*c));
	serr e;

	assert_non_null(c);
	assert_int_equal(config_init(c, &e), 0);
	assert_int_equal(config_set(c, "sensor.tick_timeout_s", "1", &e), 0);
	return c;
}

static void cfg_free(struct config *c)
{
	config_free(c);
	free(c);
}

static void result_helpers_collect_requests_cursor_and_reason(void **state)
{
	struct sensor_result r;
	serr e;

	(void)state;
	sensor_result_init(&r);
	assert_int_equal(sensor_result_request(&r, "j", "recA", "recA:h", NULL, &e), 0);
	assert_int_equal(sensor_result_request(&r, NULL, NULL, NULL, json_pack("{s:s}", "a", "b"), &e),
			 0);
	assert_int_equal(sensor_result_cursor(&r, "c1", &e), 0);
	assert_int_equal(sensor_result_cursor(&r, "c2", &e), 0);
	assert_int_equal(sensor_result_skip(&r, "why", &e), 0);
	assert_int_equal(json_array_size(r.requests), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r.requests, 0), "run_key")),
			    "recA:h");
	assert_null(json_string_value(json_object_get(json_array_get(r.requests, 1), "job")));
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(json_array_get(r.requests, 1), "tags"), "a")),
		"b");
	assert_string_equal(r.cursor, "c2");
	assert_string_equal(r.skip_reason, "why");
	sensor_result_free(&r);
	assert_null(r.requests);
	assert_null(r.cursor);
}

static void registering_a_name_twice_accepts_only_the_same_definition(void **state)
{
	static struct sensor_def a, b;
	serr e;

	(void)state;
	a = def_of("unit_twice", eval_nothing);
	b = def_of("unit_twice", eval_raise);
	assert_int_equal(sensor_defs_register(&a, &e), 0);
	assert_int_equal(sensor_defs_register(&a, &e), 0);
	assert_int_equal(sensor_defs_register(&b, &e), -1);
	assert_non_null(strstr(e.msg, "another definition"));
	assert_ptr_equal(sensor_def_find("unit_twice")->eval, eval_nothing);
}

static void a_built_in_sensor_cannot_be_registered_again(void **state)
{
	static struct sensor_def d;
	serr e;

	(void)state;
	d = def_of("airtable_candidate_sensor", eval_nothing);
	assert_int_equal(sensor_defs_register(&d, &e), -1);
	assert_non_null(strstr(e.msg, "built in"));
	assert_non_null(sensor_def_find("airtable_candidate_sensor"));
	assert_non_null(sensor_def_find("airtable_job_sensor"));
	assert_null(sensor_def_find("no_such_sensor"));
}

static void intervals_follow_the_configuration(void **state)
{
	struct config *cfg = cfg_new();
	static struct sensor_def d;
	serr e;

	(void)state;
	d = def_of("unit_interval", eval_nothing);
	assert_int_equal(sensor_def_interval(sensor_def_find("airtable_candidate_sensor"), cfg), 900);
	assert_int_equal(sensor_def_interval(sensor_def_find("airtable_job_sensor"), cfg), 300);
	assert_int_equal(config_set(cfg, "sensor.candidate_interval_s", "5", &e), 0);
	assert_int_equal(sensor_def_interval(sensor_def_find("airtable_candidate_sensor"), cfg), 5);
	assert_int_equal(sensor_def_interval(&d, cfg), 7);
	cfg_free(cfg);
}

static void the_environment_hook_registers_the_test_tick_sensor(void **state)
{
	serr e;

	(void)state;
	unsetenv("SCOUT_TEST_SENSORS");
	assert_int_equal(sensor_defs_register_from_env(&e), 0);
	assert_null(sensor_def_find("test_tick_sensor"));
	setenv("SCOUT_TEST_SENSORS", "1", 1);
	setenv("SCOUT_TEST_SENSOR_INTERVAL_S", "x", 1);
	assert_int_equal(sensor_defs_register_from_env(&e), -1);
	setenv("SCOUT_TEST_SENSOR_INTERVAL_S", "2", 1);
	assert_int_equal(sensor_defs_register_from_env(&e), 0);
	assert_int_equal(sensor_defs_register_from_env(&e), 0);
	assert_non_null(sensor_def_find("test_tick_sensor"));
	assert_int_equal(sensor_def_find("test_tick_sensor")->interval_s, 2);
	unsetenv("SCOUT_TEST_SENSORS");
	unsetenv("SCOUT_TEST_SENSOR_INTERVAL_S");
}

static void a_child_sends_back_requests_cursor_and_skip_reason(void **state)
{
	struct config *cfg = cfg_new();
	struct sensor_def d = def_of("unit_three", eval_three);
	struct sensor_def n = def_of("unit_nothing", eval_nothing);
	struct sensor_result r;
	serr e;

	(void)state;
	sensor_result_init(&r);
	if (run_child(cfg, &d, "c0", &r, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(r.requests), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r.requests, 1), "run_key")),
			    "k1:c0");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_array_get(r.requests, 2), "tags"), "n")),
			 2);
	assert_string_equal(r.cursor, "2026-11-29T01:00:00.000Z");
	assert_null(r.skip_reason);
	sensor_result_free(&r);
	if (run_child(cfg, &n, NULL, &r, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(r.requests), 0);
	assert_null(r.cursor);
	assert_string_equal(r.skip_reason, "nothing changed");
	sensor_result_free(&r);
	cfg_free(cfg);
}

static void an_evaluation_error_becomes_the_tick_error(void **state)
{
	struct config *cfg = cfg_new();
	struct sensor_def d = def_of("unit_raise", eval_raise);
	struct sensor_result r;
	serr e;

	(void)state;
	sensor_result_init(&r);
	assert_int_equal(run_child(cfg, &d, NULL, &r, &e), -1);
	assert_string_equal(e.msg, "the source said no");
	sensor_result_free(&r);
	cfg_free(cfg);
}

static void a_hung_evaluation_is_killed_at_the_deadline(void **state)
{
	struct config *cfg = cfg_new();
	struct sensor_def d = def_of("unit_hang", eval_hang);
	struct sensor_result r;
	serr e;

	(void)state;
	sensor_result_init(&r);
	assert_int_equal(run_child(cfg, &d, NULL, &r, &e), -1);
	assert_non_null(strstr(e.msg, "did not finish within 1 s"));
	assert_non_null(strstr(e.msg, "sensor.tick_timeout_s"));
	sensor_result_free(&r);
	cfg_free(cfg);
}

static void a_crashing_evaluation_is_reported_with_its_signal(void **state)
{
	struct config *cfg = cfg_new();
	struct sensor_def d = def_of("unit_crash", eval_crash);
	struct sensor_result r;
	serr e;

	(void)state;
	sensor_result_init(&r);
	assert_int_equal(run_child(cfg, &d, NULL, &r, &e), -1);
	assert_non_null(strstr(e.msg, "crashed (signal 11)"));
	sensor_result_free(&r);
	cfg_free(cfg);
}

static void an_evaluation_that_exits_without_a_result_fails(void **state)
{
	struct config *cfg = cfg_new();
	struct sensor_def d = def_of("unit_silent", eval_silent_exit);
	struct sensor_result r;
	serr e;

	(void)state;
	sensor_result_init(&r);
	assert_int_equal(run_child(cfg, &d, NULL, &r, &e), -1);
	assert_non_null(strstr(e.msg, "not a JSON object"));
	sensor_result_free(&r);
	cfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(result_helpers_collect_requests_cursor_and_reason),
		cmocka_unit_test(registering_a_name_twice_accepts_only_the_same_definition),
		cmocka_unit_test(a_built_in_sensor_cannot_be_registered_again),
		cmocka_unit_test(intervals_follow_the_configuration),
		cmocka_unit_test(the_environment_hook_registers_the_test_tick_sensor),
		cmocka_unit_test(a_child_sends_back_requests_cursor_and_skip_reason),
		cmocka_unit_test(an_evaluation_error_becomes_the_tick_error),
		cmocka_unit_test(a_hung_evaluation_is_killed_at_the_deadline),
		cmocka_unit_test(a_crashing_evaluation_is_reported_with_its_signal),
		cmocka_unit_test(an_evaluation_that_exits_without_a_result_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
