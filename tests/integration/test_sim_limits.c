/* The simulator's traffic side over HTTP: the Airtable rate limit and its penalty, the Notion rate limit, every injected fault kind, the request log, counters and the control API. */
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
#include "support/harness_sim.h"

#define TALENT "/v0/" HARNESS_SIM_BASE "/Talent"

static struct sim *sim;

static void configure(const char *json)
{
	json_error_t je;
	json_t *cfg = json_loads(json, 0, &je);
	serr e;

	assert_non_null(cfg);
	if (sim_configure(sim, cfg, &e) < 0)
		fail_msg("%s", e.msg);
	json_decref(cfg);
}

static void fault(const char *json)
{
	struct harness_sim_reply r;

	assert_int_equal(harness_sim_call(sim, "POST", "/_sim/faults", json, NULL, NULL, 0, &r), 0);
	if (r.status != 200)
		fail_msg("POST /_sim/faults %s: %ld %s", json, r.status, r.body ? r.body : "");
	harness_sim_reply_free(&r);
}

static int setup(void **state)
{
	(void)state;
	sim = harness_sim_start(NULL);
	return sim ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	harness_sim_stop(sim);
	return 0;
}

/* Every test starts with roomy limits, no faults, an empty log and zero counters. */
static int fresh(void **state)
{
	(void)state;
	configure("{\"airtable_rate\": 10000, \"penalty_ms\": 1000, \"notion_rate\": 10000, "
		  "\"notion_burst\": 10000}");
	fault("{\"kind\": \"reset\"}");
	sim_requests_clear(sim);
	sim_stats_reset(sim);
	return 0;
}

static long get(const char *path)
{
	struct harness_sim_reply r;
	long status;

	assert_int_equal(harness_sim_airtable(sim, "GET", path, NULL, &r), 0);
	status = r.status;
	harness_sim_reply_free(&r);
	return status;
}

static json_t *base_stats(void)
{
	json_t *st = sim_stats(sim);
	json_t *b = json_incref(json_object_get(json_object_get(st, "bases"), HARNESS_SIM_BASE));

	json_decref(st);
	assert_non_null(b);
	return b;
}

static void requests_spaced_a_quarter_second_apart_are_never_limited(void **state)
{
	json_t *st;

	(void)state;
	configure("{\"airtable_rate\": 5, \"penalty_ms\": 60000}");
	for (int i = 0; i < 7; i++) {
		assert_int_equal(get(TALENT), 200);
		sleep_ms(250);
	}
	st = base_stats();
	assert_int_equal(json_integer_value(json_object_get(st, "rate_limited")), 0);
	assert_true(json_integer_value(json_object_get(st, "max_per_second")) <= 5);
	json_decref(st);
}

static void more_than_five_requests_in_a_second_get_the_documented_429(void **state)
{
	struct harness_sim_reply r;
	int first_429 = -1;
	json_t *err, *st;

	(void)state;
	configure("{\"airtable_rate\": 5, \"penalty_ms\": 60000}");
	for (int i = 0; i < 40 && first_429 < 0; i++) {
		assert_int_equal(harness_sim_airtable(sim, "GET", TALENT, NULL, &r), 0);
		if (r.status == 429) {
			first_429 = i;
			/* {"errors":[{"error":"RATE_LIMIT_REACHED","message":"..."}]} */
			err = json_array_get(json_object_get(r.json, "errors"), 0);
			assert_string_equal(json_string_value(json_object_get(err, "error")),
					    "RATE_LIMIT_REACHED");
			assert_non_null(json_string_value(json_object_get(err, "message")));
		} else {
			assert_int_equal(r.status, 200);
		}
		harness_sim_reply_free(&r);
	}
	assert_true(first_429 >= 5);
	st = base_stats();
	assert_true(json_integer_value(json_object_get(st, "max_per_second")) > 5);
	assert_int_equal(json_integer_value(json_object_get(st, "rate_limited")), 1);
	json_decref(st);
	/* the penalty: every request to the base is refused, however slow */
	sleep_ms(1100);
	assert_int_equal(get(TALENT), 429);
	assert_int_equal(get("/v0/meta/bases/" HARNESS_SIM_BASE "/tables"), 429);
	st = base_stats();
	assert_int_equal(json_integer_value(json_object_get(st, "rate_limited")), 3);
	json_decref(st);
	/* a configuration change lifts it */
	configure("{\"penalty_ms\": 60000}");
	assert_int_equal(get(TALENT), 200);
}

static void the_penalty_ends_after_its_time(void **state)
{
	int status = 0, refused_after_first = 0;
	int64_t deadline;

	(void)state;
	configure("{\"airtable_rate\": 1, \"penalty_ms\": 1000}");
	while (get(TALENT) != 429)
		;
	/* right after the violation the base is still in its penalty */
	if (get(TALENT) == 429)
		refused_after_first = 1;
	assert_true(refused_after_first);
	deadline = mono_ms() + 10000;
	while (mono_ms() < deadline && (status = (int)get(TALENT)) == 429)
		sleep_ms(100);
	assert_int_equal(status, 200);
}

static void a_penalty_on_one_base_leaves_other_bases_alone(void **state)
{
	json_t *other = json_pack("{s:s, s:[o]}", "id", "appOtherBase00001", "tables",
				  harness_sim_numbered_table("tblOther000000001", "Other", 3));
	serr e;

	(void)state;
	assert_int_equal(sim_load_base(sim, other, &e), 0);
	json_decref(other);
	configure("{\"airtable_rate\": 1, \"penalty_ms\": 60000}");
	while (get(TALENT) != 429)
		;
	assert_int_equal(get("/v0/appOtherBase00001/Other"), 200);
}

static void notion_over_its_average_gets_429_with_retry_after(void **state)
{
	struct harness_sim_reply r;
	int limited = 0;
	json_t *st;

	(void)state;
	configure("{\"notion_rate\": 0.5, \"notion_burst\": 1}");
	for (int i = 0; i < 5 && !limited; i++) {
		assert_int_equal(harness_sim_notion(sim, "/v1/pages/" HARNESS_PAGE, &r), 0);
		if (r.status == 429) {
			limited = 1;
			assert_string_equal(json_string_value(json_object_get(r.json, "object")), "error");
			assert_string_equal(json_string_value(json_object_get(r.json, "code")), "rate_limited");
			assert_true(r.retry_after >= 1);
		} else {
			assert_int_equal(r.status, 200);
		}
		harness_sim_reply_free(&r);
	}
	assert_true(limited);
	st = sim_stats(sim);
	assert_true(json_integer_value(json_object_get(json_object_get(st, "notion"), "rate_limited")) >= 1);
	json_decref(st);
}

static void injected_429_500_and_503_answer_the_matching_requests_only(void **state)
{
	struct harness_sim_reply r;

	(void)state;
	fault("[{\"kind\": \"503\", \"count\": 2, \"method\": \"GET\", \"path_contains\": \"/Talent\"},"
	      " {\"kind\": \"500\", \"path_contains\": \"/ATS\"}]");
	/* a POST to the same table is not matched */
	assert_int_equal(harness_sim_airtable(sim, "POST", TALENT, "{\"fields\":{\"Full Name\":\"P\"}}", &r), 0);
	assert_int_equal(r.status, 200);
	harness_sim_reply_free(&r);
	assert_int_equal(get(TALENT), 503);
	assert_int_equal(get(TALENT), 503);
	assert_int_equal(get(TALENT), 200);
	assert_int_equal(harness_sim_airtable(sim, "GET", "/v0/" HARNESS_SIM_BASE "/ATS", NULL, &r), 0);
	assert_int_equal(r.status, 500);
	assert_string_equal(harness_sim_error_type(&r), "SERVER_ERROR");
	harness_sim_reply_free(&r);
	assert_int_equal(get("/v0/" HARNESS_SIM_BASE "/ATS"), 200);
	/* an injected 429 uses the API's body and starts no penalty */
	fault("{\"kind\": \"429\"}");
	assert_int_equal(harness_sim_airtable(sim, "GET", TALENT, NULL, &r), 0);
	assert_int_equal(r.status, 429);
	assert_string_equal(harness_sim_error_type(&r), "RATE_LIMIT_REACHED");
	harness_sim_reply_free(&r);
	assert_int_equal(get(TALENT), 200);
	/* on Notion the same faults speak Notion */
	fault("{\"kind\": \"503\", \"path_contains\": \"/v1/\"}");
	assert_int_equal(harness_sim_notion(sim, "/v1/pages/" HARNESS_PAGE, &r), 0);
	assert_int_equal(r.status, 503);
	assert_string_equal(json_string_value(json_object_get(r.json, "code")), "service_unavailable");
	harness_sim_reply_free(&r);
}

static void a_timeout_fault_holds_the_request_then_closes_without_answer(void **state)
{
	struct harness_sim_reply r;
	json_t *log, *last;

	(void)state;
	fault("{\"kind\": \"timeout\", \"timeout_ms\": 1500}");
	assert_int_equal(harness_sim_call(sim, "GET", TALENT, NULL, HARNESS_SIM_KEY, NULL, 400, &r), -1);
	assert_true(r.transport);
	harness_sim_reply_free(&r);
	/* the next request is answered while the first is still held */
	assert_int_equal(get(TALENT), 200);
	/* once the hold is over, the closed connection shows in the log with status 0 */
	sleep_ms(1500);
	log = sim_requests(sim);
	last = NULL;
	for (size_t i = 0; i < json_array_size(log); i++)
		if (json_integer_value(json_object_get(json_array_get(log, i), "status")) == 0)
			last = json_array_get(log, i);
	assert_non_null(last);
	assert_string_equal(json_string_value(json_object_get(last, "fault")), "timeout");
	json_decref(log);
}

struct slow {
	long status;
};

static void *slow_call(void *arg)
{
	struct slow *s = arg;
	struct harness_sim_reply r;

	if (harness_sim_airtable(sim, "GET", TALENT "?maxRecords=1", NULL, &r) == 0)
		s->status = r.status;
	harness_sim_reply_free(&r);
	return NULL;
}

static void latency_delays_one_request_without_blocking_the_others(void **state)
{
	struct slow s = { 0 };
	pthread_t th;
	json_t *log, *slow = NULL, *fast = NULL, *e;
	size_t i;

	(void)state;
	fault("{\"kind\": \"latency\", \"latency_ms\": 1500, \"path_contains\": \"maxRecords=1\"}");
	assert_int_equal(pthread_create(&th, NULL, slow_call, &s), 0);
	sleep_ms(200);
	assert_int_equal(get(TALENT "?maxRecords=2"), 200);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(s.status, 200);
	log = sim_requests(sim);
	json_array_foreach(log, i, e) {
		const char *fa = json_string_value(json_object_get(e, "fault"));
		if (fa && strcmp(fa, "latency") == 0)
			slow = e;
		else if (json_object_get(json_object_get(e, "query"), "maxRecords"))
			fast = e;
	}
	assert_non_null(slow);
	assert_non_null(fast);
	/* the fast request, sent after the slow one, finished first */
	assert_true(json_integer_value(json_object_get(fast, "end_ms")) <
		    json_integer_value(json_object_get(slow, "end_ms")));
	json_decref(log);
}

static void expire_offsets_invalidates_every_offset_handed_out(void **state)
{
	struct harness_sim_reply r;
	char path[256];

	(void)state;
	assert_int_equal(harness_sim_airtable(sim, "GET", TALENT "?pageSize=1", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	snprintf(path, sizeof(path), TALENT "?pageSize=1&offset=%s",
		 json_string_value(json_object_get(r.json, "offset")));
	harness_sim_reply_free(&r);
	fault("{\"kind\": \"expire_offsets\"}");
	assert_int_equal(harness_sim_airtable(sim, "GET", path, NULL, &r), 0);
	assert_int_equal(r.status, 422);
	assert_string_equal(harness_sim_error_type(&r), "LIST_RECORDS_ITERATOR_NOT_AVAILABLE");
	harness_sim_reply_free(&r);
}

static void reset_drops_pending_faults_and_bad_faults_are_refused(void **state)
{
	struct harness_sim_reply r;

	(void)state;
	fault("{\"kind\": \"503\", \"count\": 5}");
	fault("{\"kind\": \"reset\"}");
	assert_int_equal(get(TALENT), 200);
	assert_int_equal(harness_sim_call(sim, "POST", "/_sim/faults", "{\"kind\": \"meteor\"}", NULL,
					  NULL, 0, &r), 0);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(json_string_value(json_object_get(r.json, "error")), "meteor"));
	harness_sim_reply_free(&r);
}

static void the_request_log_keeps_method_path_decoded_query_status_and_base(void **state)
{
	struct harness_sim_reply r;
	json_t *e, *q;

	(void)state;
	assert_int_equal(get(TALENT "?filterByFormula=%7BJob%20Status%7D%3D'Lead'&fields%5B%5D=Mail&fields%5B%5D=Skills"), 200);
	assert_int_equal(harness_sim_call(sim, "GET", "/_sim/requests", NULL, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	e = json_array_get(json_object_get(r.json, "requests"), 0);
	assert_string_equal(json_string_value(json_object_get(e, "method")), "GET");
	assert_string_equal(json_string_value(json_object_get(e, "path")), TALENT);
	assert_string_equal(json_string_value(json_object_get(e, "base")), HARNESS_SIM_BASE);
	assert_int_equal(json_integer_value(json_object_get(e, "status")), 200);
	q = json_object_get(e, "query");
	assert_string_equal(json_string_value(json_object_get(q, "filterByFormula")), "{Job Status}='Lead'");
	assert_int_equal(json_array_size(json_object_get(q, "fields[]")), 2);
	/* control requests are not logged */
	assert_int_equal(json_array_size(json_object_get(r.json, "requests")), 1);
	harness_sim_reply_free(&r);
	assert_int_equal(harness_sim_call(sim, "DELETE", "/_sim/requests", NULL, NULL, NULL, 0, &r), 0);
	harness_sim_reply_free(&r);
	json_t *log = sim_requests(sim);
	assert_int_equal(json_array_size(log), 0);
	json_decref(log);
}

static void the_control_api_loads_dumps_and_edits_bases(void **state)
{
	struct harness_sim_reply r;
	json_t *base = harness_sim_small_base();
	char *s;

	(void)state;
	json_object_set_new(base, "id", json_string("appControlBase001"));
	s = json_dumps(base, JSON_COMPACT);
	json_decref(base);
	assert_int_equal(harness_sim_call(sim, "POST", "/_sim/bases", s, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	harness_sim_reply_free(&r);
	free(s);
	assert_int_equal(harness_sim_call(sim, "POST",
					  "/_sim/bases/appControlBase001/tables/Talent/records/" HARNESS_GRACE,
					  "{\"fields\":{\"Job Status\":\"Hired\"}}", NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	harness_sim_reply_free(&r);
	assert_int_equal(harness_sim_call(sim, "POST",
					  "/_sim/bases/appControlBase001/tables/Talent/records/" HARNESS_GRACE,
					  "{\"fields\":{\"Job Status\":\"Astronaut\"}}", NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(json_string_value(json_object_get(r.json, "error")), "Astronaut"));
	harness_sim_reply_free(&r);
	assert_int_equal(harness_sim_call(sim, "GET", "/_sim/bases/appControlBase001", NULL, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "id")), "appControlBase001");
	harness_sim_reply_free(&r);
	assert_int_equal(harness_sim_call(sim, "GET", "/_sim/bases/appNothing", NULL, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 404);
	harness_sim_reply_free(&r);
	assert_int_equal(harness_sim_call(sim, "POST", "/_sim/bases", "{\"id\": \"x y\"}", NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 400);
	harness_sim_reply_free(&r);
	assert_int_equal(harness_sim_call(sim, "POST", "/_sim/config", "{\"penalty_ms\": \"soon\"}", NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 400);
	harness_sim_reply_free(&r);
}

static void a_base_larger_than_the_api_body_cap_loads_through_the_control_api(void **state)
{
	size_t n = 12 * 1024 * 1024;
	char *b64 = malloc(n + 1);
	json_t *base, *rec;
	struct harness_sim_reply r;
	char *s;

	(void)state;
	assert_non_null(b64);
	memset(b64, 'A', n);
	b64[n] = '\0';
	base = json_pack("{s:s, s:[{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:[{s:s, s:{s:s, s:[{s:s, s:s, s:s}]}}]}]}",
			 "id", "appLargeBase00001", "tables", "name", "Files", "fields", "name", "Name",
			 "type", "singleLineText", "name", "File", "type", "multipleAttachments", "records",
			 "id", "recLargeFile00001", "fields", "Name", "big", "File", "filename", "big.pdf",
			 "type", "application/pdf", "data_base64", b64);
	free(b64);
	assert_non_null(base);
	s = json_dumps(base, JSON_COMPACT);
	json_decref(base);
	assert_int_equal(harness_sim_call(sim, "POST", "/_sim/bases", s, NULL, NULL, 60000, &r), 0);
	assert_int_equal(r.status, 200);
	harness_sim_reply_free(&r);
	free(s);
	assert_int_equal(harness_sim_airtable(sim, "GET", "/v0/appLargeBase00001/Files/recLargeFile00001", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	rec = json_array_get(json_object_get(json_object_get(r.json, "fields"), "File"), 0);
	assert_int_equal(json_integer_value(json_object_get(rec, "size")), (json_int_t)(n / 4 * 3));
	harness_sim_reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, fresh)
		T(requests_spaced_a_quarter_second_apart_are_never_limited),
		T(more_than_five_requests_in_a_second_get_the_documented_429),
		T(the_penalty_ends_after_its_time),
		T(a_penalty_on_one_base_leaves_other_bases_alone),
		T(notion_over_its_average_gets_429_with_retry_after),
		T(injected_429_500_and_503_answer_the_matching_requests_only),
		T(a_timeout_fault_holds_the_request_then_closes_without_answer),
		T(latency_delays_one_request_without_blocking_the_others),
		T(expire_offsets_invalidates_every_offset_handed_out),
		T(reset_drops_pending_faults_and_bad_faults_are_refused),
		T(the_request_log_keeps_method_path_decoded_query_status_and_base),
		T(the_control_api_loads_dumps_and_edits_bases),
		T(a_base_larger_than_the_api_body_cap_loads_through_the_control_api),
#undef T
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
