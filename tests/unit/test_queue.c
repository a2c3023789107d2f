/*
 * Unit tests of the queue's pure parts: the concurrency limit option, the
 * retry backoff with full jitter, and run-time job registration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "orchestrator/job.h"
#include "store/queue.h"

static void tag_limits_parse_into_a_json_object(void **state)
{
	struct queue_limits l;
	serr e;

	(void)state;
	assert_int_equal(queue_limits_parse(&l, 16, "airtable=2,llm=8", &e), 0);
	assert_int_equal(l.max_running, 16);
	assert_string_equal(l.tags_json, "{\"airtable\":2,\"llm\":8}");
	assert_int_equal(queue_limits_parse(&l, 0, " llm = 3 , airtable:appX=1 ,", &e), 0);
	assert_string_equal(l.tags_json, "{\"airtable:appX\":1,\"llm\":3}");
	assert_int_equal(queue_limits_parse(&l, 0, "", &e), 0);
	assert_string_equal(l.tags_json, "{}");
	assert_int_equal(queue_limits_parse(&l, 0, NULL, &e), 0);
	assert_string_equal(l.tags_json, "{}");
}

static void bad_tag_limits_are_refused_with_the_entry_named(void **state)
{
	struct queue_limits l;
	serr e;

	(void)state;
	assert_int_equal(queue_limits_parse(&l, 0, "airtable", &e), -1);
	assert_non_null(strstr(e.msg, "'airtable'"));
	assert_int_equal(queue_limits_parse(&l, 0, "airtable=two", &e), -1);
	assert_non_null(strstr(e.msg, "'two'"));
	assert_int_equal(queue_limits_parse(&l, 0, "=2", &e), -1);
	assert_int_equal(queue_limits_parse(&l, 0, "llm=", &e), -1);
	assert_int_equal(queue_limits_parse(&l, 0, "llm=-1", &e), -1);
	assert_int_equal(queue_limits_parse(&l, 0, "llm=1,llm=2", &e), -1);
	assert_non_null(strstr(e.msg, "twice"));
	assert_int_equal(queue_limits_parse(&l, -1, "", &e), -1);
}

static void backoff_grows_exponentially_up_to_its_cap(void **state)
{
	(void)state;
	/* the largest draw shows the cap of each attempt: base * 2^(attempt-1) */
	assert_int_equal(queue_backoff_ms(100, 100000, 1, 100), 100);
	assert_int_equal(queue_backoff_ms(100, 100000, 2, 200), 200);
	assert_int_equal(queue_backoff_ms(100, 100000, 4, 800), 800);
	assert_int_equal(queue_backoff_ms(100, 100000, 4, 801), 0);
	/* capped by the maximum, also for attempts that would overflow */
	assert_int_equal(queue_backoff_ms(100, 1000, 10, 1000), 1000);
	assert_int_equal(queue_backoff_ms(100, 1000, 10000, 1000), 1000);
	assert_int_equal(queue_backoff_ms(2000000000, 2100000000, 60, 2100000000), 2100000000);
	/* full jitter: every value from 0 to the cap can come out */
	assert_int_equal(queue_backoff_ms(100, 100000, 3, 0), 0);
	assert_int_equal(queue_backoff_ms(100, 100000, 3, 401), 0);
	assert_int_equal(queue_backoff_ms(100, 100000, 3, 123), 123);
	/* no backoff configured */
	assert_int_equal(queue_backoff_ms(0, 0, 3, 12345), 0);
}

static void backoff_draws_stay_in_range(void **state)
{
	(void)state;
	for (uint64_t r = 0; r < 5000; r += 7) {
		int v = queue_backoff_ms(50, 3000, (int)(r % 12) + 1, r * 2654435761u);
		int cap = 50;
		for (int i = 1; i < (int)(r % 12) + 1 && cap < 3000; i++)
			cap *= 2;
		if (cap > 3000)
			cap = 3000;
		assert_true(v >= 0 && v <= cap);
	}
}

static int step_nothing(struct job_ctx *ctx, serr *e)
{
	(void)ctx;
	(void)e;
	return 0;
}

static void registered_jobs_are_found_and_listed(void **state)
{
	struct job_def d = { .name = "unit_registered_job",
			     .description = "a job only this test knows",
			     .steps = { { "only", step_nothing } } };
	size_t before = job_def_count(), listed = 0;
	serr e;

	(void)state;
	assert_null(job_def_find("unit_registered_job"));
	assert_int_equal(job_defs_register(&d, &e), 0);
	/* the definition was copied: changing ours changes nothing */
	d.description = "changed";
	assert_non_null(job_def_find("unit_registered_job"));
	assert_string_equal(job_def_find("unit_registered_job")->description,
			    "a job only this test knows");
	assert_int_equal(job_def_count(), before + 1);
	for (size_t i = 0; i < job_def_count(); i++)
		if (strcmp(job_def_at(i)->name, "unit_registered_job") == 0)
			listed++;
	assert_int_equal(listed, 1);
	assert_null(job_def_at(job_def_count()));
	/* built-in jobs come first and stay */
	assert_non_null(job_def_find("candidate_ingest_job"));
}

static void registration_refuses_duplicates_and_empty_jobs(void **state)
{
	struct job_def dup = { .name = "candidate_ingest_job", .steps = { { "x", step_nothing } } };
	struct job_def nosteps = { .name = "unit_no_steps" };
	struct job_def noname = { .steps = { { "x", step_nothing } } };
	serr e;

	(void)state;
	assert_int_equal(job_defs_register(&dup, &e), -1);
	assert_non_null(strstr(e.msg, "'candidate_ingest_job'"));
	assert_int_equal(job_defs_register(&nosteps, &e), -1);
	assert_non_null(strstr(e.msg, "no steps"));
	assert_int_equal(job_defs_register(&noname, &e), -1);
	assert_int_equal(job_defs_register(NULL, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tag_limits_parse_into_a_json_object),
		cmocka_unit_test(bad_tag_limits_are_refused_with_the_entry_named),
		cmocka_unit_test(backoff_grows_exponentially_up_to_its_cap),
		cmocka_unit_test(backoff_draws_stay_in_range),
		cmocka_unit_test(registered_jobs_are_found_and_listed),
		cmocka_unit_test(registration_refuses_duplicates_and_empty_jobs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
