/*
 * The contract between the normalization schemas and the simulated model:
 * for the sample base's candidates and jobs, the simulator's answer to the
 * rendered prompt passes scout's validation, and so does its role-fitness
 * answer. A schema change the simulator cannot follow fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "llm/normalize_input.h"
#include "llm/normalize_schema.h"
#include "llm/prompt.h"
#include "sim/generate.h"
#include "sim/sim_openrouter.h"

/* Airtable-like text of a record: "Field: value" lines. */
static void record_text(const json_t *rec, struct buf *out)
{
	const char *k;
	json_t *v, *x;
	size_t i;

	json_object_foreach(json_object_get(rec, "fields"), k, v) {
		if (json_is_string(v))
			assert_int_equal(buf_printf(out, "%s: %s\n", k, json_string_value(v)), 0);
		if (!json_is_array(v) || !json_is_string(json_array_get(v, 0)))
			continue;
		assert_int_equal(buf_printf(out, "%s:", k), 0);
		json_array_foreach(v, i, x)
			assert_int_equal(buf_printf(out, " %s%s", json_string_value(x),
						    i + 1 < json_array_size(v) ? "," : ""),
					 0);
		assert_int_equal(buf_putc(out, '\n'), 0);
	}
}

/* The simulator's answer to prompt `name` over data, as the client would get it. */
static json_t *sim_answer(const char *name, const json_t *schema, const char *data)
{
	struct prompt p;
	struct buf msg, input;
	json_t *messages, *answer;
	serr e;

	if (prompt_load(name, &p, &e) != 0)
		fail_msg("%s", e.msg);
	buf_init(&msg, 0);
	buf_init(&input, 0);
	assert_int_equal(prompt_render(&p, data, &msg, &e), 0);
	messages = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content", p.text, "role",
			     "user", "content", buf_cstr(&msg));
	assert_non_null(messages);
	assert_int_equal(sim_openrouter_input(messages, &input), 0);
	answer = sim_openrouter_answer(schema, buf_cstr(&input));
	assert_non_null(answer);
	json_decref(messages);
	buf_free(&msg);
	buf_free(&input);
	return answer;
}

static json_t *sample_base(int candidates)
{
	struct sample_opts o;
	json_t *base;
	serr e;

	sample_opts_init(&o);
	o.candidates = candidates;
	o.jobs = 12;
	o.with_pdfs = 0;
	o.oversized_bytes = 0;
	base = sample_generate(&o, &e);
	if (!base)
		fail_msg("cannot generate the sample base: %s", e.msg);
	return base;
}

static const json_t *table_records(const json_t *base, size_t index)
{
	return json_object_get(json_array_get(json_object_get(base, "tables"), index), "records");
}

static void simulated_candidate_answers_pass_validation(void **state)
{
	json_t *base = sample_base(40), *rec;
	const json_t *records = table_records(base, 0);
	size_t i;

	(void)state;
	assert_true(json_array_size(records) >= 40);
	json_array_foreach(records, i, rec) {
		struct buf text, data;
		json_t *a;
		serr e;

		buf_init(&text, 0);
		buf_init(&data, 0);
		record_text(rec, &text);
		assert_int_equal(normalize_candidate_input(buf_cstr(&text), NULL, &data, &e), 0);
		a = sim_answer(NORMALIZE_PROMPT_CANDIDATE, normalize_schema_candidate(),
			       buf_cstr(&data));
		if (normalize_validate_candidate(NULL, a, &e) != 0)
			fail_msg("candidate %zu: %s", i, e.msg);
		json_decref(a);
		buf_free(&text);
		buf_free(&data);
	}
	json_decref(base);
}

static void simulated_job_answers_pass_validation(void **state)
{
	json_t *base = sample_base(1), *rec;
	const json_t *records = table_records(base, 1);
	size_t i;

	(void)state;
	assert_true(json_array_size(records) >= 12);
	json_array_foreach(records, i, rec) {
		struct buf text;
		json_t *a;
		serr e;

		buf_init(&text, 0);
		record_text(rec, &text);
		a = sim_answer(NORMALIZE_PROMPT_JOB, normalize_schema_job(), buf_cstr(&text));
		if (normalize_validate_job(NULL, a, &e) != 0)
			fail_msg("job %zu: %s", i, e.msg);
		json_decref(a);
		buf_free(&text);
	}
	json_decref(base);
}

static void simulated_fitness_answers_pass_validation(void **state)
{
	const char *const cats[] = { "Backend Engineering", "Data Science", "Developer Relations" };
	struct normalize_categories ud = { cats, 3 };
	json_t *c = json_loads("{\"professional_summary\":\"Backend engineer.\",\"seniority_level\":"
			       "\"senior\",\"years_of_experience\":8,\"skills\":[{\"name\":\"Go\","
			       "\"canonical\":\"go\",\"rating\":7,\"evidence\":\"5 years\"}],"
			       "\"experiences\":[],\"projects\":[],\"narratives\":{}}",
			       0, NULL);
	struct buf data;
	json_t *a;
	serr e;

	(void)state;
	assert_non_null(c);
	buf_init(&data, 0);
	assert_int_equal(normalize_fitness_input(c, cats, 3, &data, &e), 0);
	a = sim_answer(NORMALIZE_PROMPT_FITNESS, normalize_schema_fitness(), buf_cstr(&data));
	if (normalize_validate_fitness(&ud, a, &e) != 0)
		fail_msg("fitness: %s", e.msg);
	json_decref(a);
	json_decref(c);
	buf_free(&data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(simulated_candidate_answers_pass_validation),
		cmocka_unit_test(simulated_job_answers_pass_validation),
		cmocka_unit_test(simulated_fitness_answers_pass_validation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
