/*
 * Unit tests of the normalization schemas and their semantic checks: the
 * schemas are strict, a good answer passes, and each kind of bad answer
 * (wrong types, missing or extra properties, out-of-range ratings, bad
 * enums and time zones, inconsistent values) fails with its JSON path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "llm/normalize_schema.h"
#include "llm/schema.h"

static const char *const candidate_answer =
	"{\"full_name\":\"Ada Lovelace\","
	"\"professional_summary\":\"Backend engineer with eight years of Python and PostgreSQL.\","
	"\"seniority_level\":\"senior\",\"years_of_experience\":8,"
	"\"skills\":["
	"{\"name\":\"Python\",\"canonical\":\"python\",\"rating\":9,\"evidence\":\"8 years\"},"
	"{\"name\":\"PostgreSQL\",\"canonical\":\"postgresql\",\"rating\":8,\"evidence\":\"ran it\"},"
	"{\"name\":\"Go\",\"canonical\":\"go\",\"rating\":5,\"evidence\":\"side project\"}],"
	"\"experiences\":[{\"company\":\"Acme\",\"title\":\"Senior Engineer\",\"start\":\"2019-03\","
	"\"end\":null,\"description\":\"Payments backend.\",\"domain\":\"fintech\"},"
	"{\"company\":\"Initech\",\"title\":\"Engineer\",\"start\":\"2016-01\",\"end\":\"2019-02\","
	"\"description\":\"APIs.\",\"domain\":null}],"
	"\"projects\":[{\"name\":\"pgq\",\"kind\":\"open_source\",\"description\":\"A queue.\","
	"\"url\":\"https://github.com/ada/pgq\",\"skills\":[\"postgresql\",\"go\"]}],"
	"\"soft_attributes\":[{\"name\":\"mentoring\",\"value\":\"mentored two juniors\","
	"\"evidence\":\"CV\"}],"
	"\"narratives\":{\"experience\":\"e\",\"domain\":\"d\",\"personality\":\"p\",\"impact\":\"i\","
	"\"technical\":\"t\"},"
	"\"compensation\":{\"min\":90000,\"max\":110000,\"currency\":\"EUR\",\"period\":\"year\","
	"\"annual_min_usd\":97000,\"annual_max_usd\":119000},"
	"\"location\":{\"city\":\"Berlin\",\"country\":\"Germany\",\"timezone\":\"Europe/Berlin\"},"
	"\"desired_job_categories\":[\"Backend Engineering\"],"
	"\"verification_hints\":[\"github.com/ada\"],"
	"\"prompt_injection_detected\":false,\"injection_evidence\":null,"
	"\"n_full_name\":\"Ada Lovelace\",\"n_professional_summary\":\"Senior backend engineer.\","
	"\"n_skills_summary\":\"Python (9), PostgreSQL (8), Go (5)\",\"n_seniority_level\":\"senior\","
	"\"n_years_of_experience\":8,\"n_compensation_min\":97000,\"n_compensation_max\":119000,"
	"\"n_location\":\"Berlin, Germany\",\"n_timezone\":\"Europe/Berlin\"}";

static const char *const job_answer =
	"{\"job_title\":\"Backend Engineer\",\"role_summary\":\"Build payments.\","
	"\"responsibilities\":[\"own the ledger\"],"
	"\"must_have_skills\":[{\"name\":\"Python\",\"canonical\":\"python\","
	"\"expected_capability\":\"build services\"}],"
	"\"nice_to_have_skills\":[{\"name\":\"Go\",\"canonical\":\"go\","
	"\"expected_capability\":\"read Go code\"}],"
	"\"compensation\":null,\"location\":{\"city\":null,\"country\":\"Germany\"},"
	"\"work_setup\":\"remote\",\"timezone\":\"Europe/Berlin\",\"seniority_level\":\"senior\","
	"\"min_years_experience\":5,"
	"\"narratives\":{\"experience\":\"e\",\"domain\":\"d\",\"personality\":\"p\",\"impact\":\"i\","
	"\"technical\":\"t\",\"role\":\"r\"},"
	"\"prompt_injection_detected\":false,\"injection_evidence\":null,"
	"\"n_job_title\":\"Backend Engineer\",\"n_role_summary\":\"Payments.\","
	"\"n_must_have_skills\":\"Python\",\"n_nice_to_have_skills\":\"Go\","
	"\"n_seniority_level\":\"senior\",\"n_min_years_experience\":5,\"n_salary_min\":null,"
	"\"n_salary_max\":null,\"n_work_setup\":\"remote\",\"n_location\":\"Germany\","
	"\"n_timezone\":\"Europe/Berlin\",\"n_narrative_experience\":\"e\","
	"\"n_narrative_domain\":\"d\",\"n_narrative_personality\":\"p\",\"n_narrative_impact\":\"i\","
	"\"n_narrative_technical\":\"t\",\"n_narrative_role\":\"r\"}";

static json_t *js(const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, 0, &je);

	if (!v)
		fail_msg("bad JSON in test: %s", je.text);
	return v;
}

/*
 * A copy of the answer with one member replaced ("skills/0/rating"); a
 * NULL value deletes an object member.
 */
static json_t *edited(const char *answer, const char *path, json_t *value)
{
	json_t *root = js(answer), *cur = root;
	const char *seg = path;

	for (;;) {
		const char *slash = strchr(seg, '/');
		char key[64];
		size_t len = slash ? (size_t)(slash - seg) : strlen(seg);

		assert_true(len < sizeof(key));
		memcpy(key, seg, len);
		key[len] = '\0';
		if (!slash) {
			if (json_is_array(cur))
				assert_int_equal(json_array_set_new(cur, strtoul(key, NULL, 10), value), 0);
			else if (value)
				assert_int_equal(json_object_set_new(cur, key, value), 0);
			else
				assert_int_equal(json_object_del(cur, key), 0);
			return root;
		}
		cur = json_is_array(cur) ? json_array_get(cur, strtoul(key, NULL, 10))
					 : json_object_get(cur, key);
		assert_non_null(cur);
		seg = slash + 1;
	}
}

static int str_has_prefix_n(const char *s)
{
	return strncmp(s, "(N) ", 4) == 0;
}

static void expect_candidate_error(json_t *answer, const char *message)
{
	serr e;

	serr_clear(&e);
	if (normalize_validate_candidate(NULL, answer, &e) != -1)
		fail_msg("expected the answer to be rejected with \"%s\"", message);
	if (!strstr(e.msg, message))
		fail_msg("expected \"%s\" in \"%s\"", message, e.msg);
	json_decref(answer);
}

static void expect_job_error(json_t *answer, const char *message)
{
	serr e;

	serr_clear(&e);
	if (normalize_validate_job(NULL, answer, &e) != -1)
		fail_msg("expected the answer to be rejected with \"%s\"", message);
	if (!strstr(e.msg, message))
		fail_msg("expected \"%s\" in \"%s\"", message, e.msg);
	json_decref(answer);
}

static void schemas_follow_strict_mode(void **state)
{
	const json_t *schemas[3];
	serr e;

	(void)state;
	schemas[0] = normalize_schema_candidate();
	schemas[1] = normalize_schema_job();
	schemas[2] = normalize_schema_fitness();
	for (int i = 0; i < 3; i++) {
		assert_non_null(schemas[i]);
		if (schema_check_strict(schemas[i], &e) != 0)
			fail_msg("schema %d is not strict: %s", i, e.msg);
	}
	/* Built once: the same object every time. */
	assert_ptr_equal(normalize_schema_candidate(), schemas[0]);
}

static void a_good_candidate_answer_passes(void **state)
{
	json_t *a = js(candidate_answer);
	serr e;

	(void)state;
	if (normalize_validate_candidate(NULL, a, &e) != 0)
		fail_msg("good answer rejected: %s", e.msg);
	json_decref(a);
}

static void candidate_answers_with_wrong_shapes_fail(void **state)
{
	(void)state;
	expect_candidate_error(edited(candidate_answer, "years_of_experience", json_string("8")),
			       "$.years_of_experience: expected number or null, got string");
	expect_candidate_error(edited(candidate_answer, "skills", NULL),
			       "$: required property 'skills' is missing");
	expect_candidate_error(edited(candidate_answer, "skills/1/level", json_integer(3)),
			       "$.skills[1]: property 'level' is not allowed");
	expect_candidate_error(edited(candidate_answer, "skills/1/rating", json_integer(11)),
			       "$.skills[1].rating: 11 is above the maximum 10");
	expect_candidate_error(edited(candidate_answer, "skills/0/rating", json_real(7.5)),
			       "$.skills[0].rating: expected integer, got number");
	expect_candidate_error(edited(candidate_answer, "seniority_level", json_string("guru")),
			       "$.seniority_level: 'guru' is not one of 'intern'");
	expect_candidate_error(edited(candidate_answer, "projects/0/kind", json_string("blog")),
			       "$.projects[0].kind: 'blog' is not one of");
	expect_candidate_error(edited(candidate_answer, "experiences/1/start", json_string("2016")),
			       "$.experiences[1].start: '2016' does not match the pattern");
	expect_candidate_error(edited(candidate_answer, "compensation/period", json_string("week")),
			       "$.compensation.period: 'week' is not one of");
	expect_candidate_error(edited(candidate_answer, "skills/0/canonical", json_string("Python")),
			       "$.skills[0].canonical: 'Python' does not match the pattern");
}

static void candidate_answers_with_bad_meaning_fail(void **state)
{
	(void)state;
	expect_candidate_error(edited(candidate_answer, "location/timezone",
				      json_string("Mars/Olympus")),
			       "$.location.timezone: time zone 'Mars/Olympus' is not in the tz "
			       "database");
	expect_candidate_error(edited(candidate_answer, "compensation/min", json_integer(200000)),
			       "$.compensation: min 200000 is above max 110000");
	expect_candidate_error(edited(candidate_answer, "compensation/currency", json_string("XYZ")),
			       "'XYZ' is not an ISO 4217 currency code");
	expect_candidate_error(edited(candidate_answer, "compensation/annual_min_usd", json_null()),
			       "annual_min_usd: must be null exactly when min is null");
	expect_candidate_error(edited(candidate_answer, "skills/2/canonical", json_string("python")),
			       "$.skills[2].canonical: 'python' repeats $.skills[0]");
	expect_candidate_error(edited(candidate_answer, "skills/2/canonical", json_string(" go")),
			       "' go' has surrounding spaces");
	expect_candidate_error(edited(candidate_answer, "experiences/1/end", json_string("2015-01")),
			       "$.experiences[1]: start 2016-01 is after end 2015-01");
	expect_candidate_error(edited(candidate_answer, "projects/0/url", json_string("ftp://x")),
			       "$.projects[0].url: 'ftp://x' is not an http(s) link");
	expect_candidate_error(edited(candidate_answer, "prompt_injection_detected", json_true()),
			       "$.injection_evidence: quote the instruction-like text");
	expect_candidate_error(edited(candidate_answer, "n_seniority_level", json_string("mid")),
			       "$.n_seniority_level: 'mid' differs from $.seniority_level 'senior'");
	expect_candidate_error(edited(candidate_answer, "n_years_of_experience", json_integer(9)),
			       "$.n_years_of_experience: 9 differs");
	expect_candidate_error(edited(candidate_answer, "n_compensation_max", json_null()),
			       "$.n_compensation_max: null differs");
}

static void an_overlong_text_fails_with_its_path(void **state)
{
	char *big = malloc(NORMALIZE_MAX_TEXT + 2);

	(void)state;
	assert_non_null(big);
	memset(big, 'a', NORMALIZE_MAX_TEXT + 1);
	big[NORMALIZE_MAX_TEXT + 1] = '\0';
	expect_candidate_error(edited(candidate_answer, "narratives/impact", json_string(big)),
			       "$.narratives.impact: text of 16385 bytes is longer than 16384 bytes");
	free(big);
}

static void a_good_job_answer_passes_and_bad_ones_fail(void **state)
{
	json_t *a = js(job_answer);
	serr e;

	(void)state;
	if (normalize_validate_job(NULL, a, &e) != 0)
		fail_msg("good answer rejected: %s", e.msg);
	json_decref(a);
	expect_job_error(edited(job_answer, "nice_to_have_skills/0/canonical", json_string("python")),
			 "$.nice_to_have_skills[0].canonical: 'python' repeats "
			 "$.must_have_skills[0]");
	expect_job_error(edited(job_answer, "work_setup", json_string("office")),
			 "$.work_setup: 'office' is not one of 'remote', 'hybrid', 'onsite', null");
	expect_job_error(edited(job_answer, "timezone", json_string("CEST")),
			 "$.timezone: time zone 'CEST' is not in the tz database");
	expect_job_error(edited(job_answer, "min_years_experience", json_integer(70)),
			 "$.min_years_experience: 70 is above the maximum 60");
	expect_job_error(edited(job_answer, "n_work_setup", json_string("hybrid")),
			 "$.n_work_setup: 'hybrid' differs from $.work_setup 'remote'");
	expect_job_error(edited(job_answer, "n_salary_min", json_integer(5)),
			 "$.n_salary_min: 5 differs from $.compensation.annual_min_usd null");
}

static void fitness_scores_each_asked_category_once(void **state)
{
	const char *const cats[] = { "Backend Engineering", "Data Engineering" };
	struct normalize_categories ud = { cats, 2 };
	json_t *good = js("{\"fitness\":[{\"category\":\"Backend Engineering\",\"score\":88,"
			  "\"reason\":\"r\"},{\"category\":\"data engineering\",\"score\":40,"
			  "\"reason\":\"r\"}]}");
	json_t *bad = js("{\"fitness\":[{\"category\":\"Backend Engineering\",\"score\":88,"
			 "\"reason\":\"r\"},{\"category\":\"Backend Engineering\",\"score\":80,"
			 "\"reason\":\"r\"},{\"category\":\"Design\",\"score\":101,\"reason\":\"r\"}]}");
	json_t *unknown = js("{\"fitness\":[{\"category\":\"Backend Engineering\",\"score\":88,"
			     "\"reason\":\"r\"},{\"category\":\"Design\",\"score\":1,"
			     "\"reason\":\"r\"}]}");
	serr e;

	(void)state;
	if (normalize_validate_fitness(&ud, good, &e) != 0)
		fail_msg("good fitness rejected: %s", e.msg);
	assert_int_equal(normalize_validate_fitness(&ud, bad, &e), -1);
	assert_non_null(strstr(e.msg, "$.fitness[2].score: 101 is above the maximum 100"));
	assert_int_equal(normalize_validate_fitness(&ud, unknown, &e), -1);
	assert_non_null(strstr(e.msg, "$.fitness[1].category: 'Design' was not asked for"));
	assert_non_null(strstr(e.msg, "$.fitness: category 'Data Engineering' has no score"));
	json_decref(good);
	json_decref(bad);
	json_decref(unknown);
}

static void n_field_tables_name_schema_properties(void **state)
{
	const json_t *cp = json_object_get(normalize_schema_candidate(), "properties");
	const json_t *jp = json_object_get(normalize_schema_job(), "properties");

	struct config c;
	serr e;

	(void)state;
	assert_int_equal(config_init(&c, &e), 0);
	assert_true(normalize_talent_n_count >= 9);
	for (size_t i = 0; i < normalize_talent_n_count; i++) {
		assert_true(str_has_prefix_n(normalize_n_column(&c, &normalize_talent_n_fields[i])));
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(normalize_n_column(&c, &normalize_talent_n_fields[i]),
						normalize_n_column(&c, &normalize_talent_n_fields[k]));
		if (normalize_talent_n_fields[i].property)
			assert_non_null(json_object_get(cp, normalize_talent_n_fields[i].property));
	}
	for (size_t i = 0; i < normalize_job_n_count; i++) {
		assert_true(str_has_prefix_n(normalize_n_column(&c, &normalize_job_n_fields[i])));
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(normalize_n_column(&c, &normalize_job_n_fields[i]),
						normalize_n_column(&c, &normalize_job_n_fields[k]));
		assert_non_null(json_object_get(jp, normalize_job_n_fields[i].property));
	}
	/* a renamed column is read from the config */
	assert_int_equal(config_set(&c, "field.job_n.must_have_skills", "Must-haves", &e), 0);
	assert_string_equal(normalize_n_column(&c, &normalize_job_n_fields[2]), "Must-haves");
	config_free(&c);
}

static void currencies_are_iso_4217(void **state)
{
	(void)state;
	assert_true(normalize_currency_known("USD"));
	assert_true(normalize_currency_known("EUR"));
	assert_true(normalize_currency_known("ZWL"));
	assert_false(normalize_currency_known("usd"));
	assert_false(normalize_currency_known("BTC"));
	assert_false(normalize_currency_known(""));
	assert_false(normalize_currency_known(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(schemas_follow_strict_mode),
		cmocka_unit_test(a_good_candidate_answer_passes),
		cmocka_unit_test(candidate_answers_with_wrong_shapes_fail),
		cmocka_unit_test(candidate_answers_with_bad_meaning_fail),
		cmocka_unit_test(an_overlong_text_fails_with_its_path),
		cmocka_unit_test(a_good_job_answer_passes_and_bad_ones_fail),
		cmocka_unit_test(fitness_scores_each_asked_category_once),
		cmocka_unit_test(n_field_tables_name_schema_properties),
		cmocka_unit_test(currencies_are_iso_4217),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
