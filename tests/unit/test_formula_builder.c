/*
 * Unit tests of the filterByFormula builder: escaping of values and field
 * names, the composers' shapes, and the round trip through the simulator's
 * evaluator: a formula built from a hostile value matches exactly the
 * records holding that value and nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "airtable/formula.h"
#include "core/buf.h"
#include "sim/formula_eval.h"

/* Values a recruiter (or an attacker) could type into a text field. */
static const char *const hostile[] = {
	"plain",
	"it's",
	"x' , TRUE()) OR ('",
	"\\' OR 1=1",
	"') OR TRUE() OR ('",
	"\" OR \"\"=\"",
	"back\\slash",
	"trailing\\",
	"\\\\'",
	"multi\nline",
	"multi\\nline",
	"tab\there",
	"{Name}",
	"BLANK()",
	"' & {Secret} & '",
	"ünïcödé ✓",
	"",
	" ",
	"'",
	"\\",
	"''",
};

#define NHOSTILE (sizeof(hostile) / sizeof(hostile[0]))

static json_t *field_types;

static int setup(void **state)
{
	(void)state;
	field_types = json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name", "singleLineText", "Secret",
				"singleLineText", "Start Matchmaking", "checkbox", "(N) Full Name",
				"singleLineText", "Odd {name", "singleLineText");
	return field_types ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(field_types);
	return 0;
}

static char *built(int rc, struct buf *b, const serr *e)
{
	if (rc != 0)
		fail_msg("builder failed: %s", e->msg);
	return buf_detach(b);
}

static void quote_escapes_backslash_quote_and_newline(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(formula_quote(&b, "it's"), 0);
	assert_string_equal(buf_cstr(&b), "'it\\'s'");
	buf_reset(&b);
	assert_int_equal(formula_quote(&b, "a\\b"), 0);
	assert_string_equal(buf_cstr(&b), "'a\\\\b'");
	buf_reset(&b);
	assert_int_equal(formula_quote(&b, "l1\nl2"), 0);
	assert_string_equal(buf_cstr(&b), "'l1\\nl2'");
	buf_reset(&b);
	assert_int_equal(formula_quote(&b, "\\'"), 0);
	assert_string_equal(buf_cstr(&b), "'\\\\\\''");
	buf_reset(&b);
	assert_int_equal(formula_quote(&b, ""), 0);
	assert_string_equal(buf_cstr(&b), "''");
	buf_free(&b);
}

static void quote_fails_at_the_buffer_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(formula_quote(&b, "12345678"), -1);
	assert_true(b.overflow);
	buf_free(&b);
}

static void field_names_with_a_closing_brace_are_refused(void **state)
{
	struct buf b;
	serr e = {{0}};

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(formula_field(&b, "(N) Full Name", &e), 0);
	assert_string_equal(buf_cstr(&b), "{(N) Full Name}");
	buf_reset(&b);
	assert_int_equal(formula_field(&b, "bad}name", &e), -1);
	assert_non_null(strstr(e.msg, "'bad}name'"));
	assert_int_equal(formula_field(&b, "", &e), -1);
	assert_int_equal(formula_field_equals(&b, "x}", "v", &e), -1);
	assert_int_equal(formula_checkbox_checked(&b, "}", &e), -1);
	buf_free(&b);
}

static void composers_build_the_documented_shapes(void **state)
{
	struct buf b;
	serr e = {{0}};
	const char *ids[] = {"recA", "recB"};
	const char *fields[] = {"Name", "(N) Full Name"};
	const char *parts[] = {"{A}=1", "{B}=2"};

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(formula_record_id_in(&b, ids, 2, &e), 0);
	assert_string_equal(buf_cstr(&b), "OR(RECORD_ID()='recA',RECORD_ID()='recB')");
	buf_reset(&b);
	assert_int_equal(formula_record_id_in(&b, ids, 0, &e), 0);
	assert_string_equal(buf_cstr(&b), "FALSE()");
	buf_reset(&b);
	assert_int_equal(formula_modified_after(&b, fields, 2, "2026-01-02T03:04:05.000Z", &e), 0);
	assert_string_equal(buf_cstr(&b), "IS_AFTER(LAST_MODIFIED_TIME({Name},{(N) Full Name}),"
					  "DATETIME_PARSE('2026-01-02T03:04:05.000Z'))");
	buf_reset(&b);
	assert_int_equal(formula_modified_after(&b, NULL, 0, "2026-01-02T03:04:05.000Z", &e), 0);
	assert_string_equal(buf_cstr(&b), "IS_AFTER(LAST_MODIFIED_TIME(),"
					  "DATETIME_PARSE('2026-01-02T03:04:05.000Z'))");
	buf_reset(&b);
	assert_int_equal(formula_checkbox_checked(&b, "Start Matchmaking", &e), 0);
	assert_string_equal(buf_cstr(&b), "{Start Matchmaking}=TRUE()");
	buf_reset(&b);
	assert_int_equal(formula_and(&b, parts, 2, &e), 0);
	assert_string_equal(buf_cstr(&b), "AND({A}=1,{B}=2)");
	buf_reset(&b);
	assert_int_equal(formula_or(&b, parts, 0, &e), 0);
	assert_string_equal(buf_cstr(&b), "FALSE()");
	buf_reset(&b);
	assert_int_equal(formula_and(&b, parts, 0, &e), 0);
	assert_string_equal(buf_cstr(&b), "TRUE()");
	buf_reset(&b);
	assert_int_equal(formula_not(&b, "{A}=1", &e), 0);
	assert_string_equal(buf_cstr(&b), "NOT({A}=1)");
	buf_reset(&b);
	assert_int_equal(formula_field_not_blank(&b, "Name", &e), 0);
	assert_string_equal(buf_cstr(&b), "LEN({Name}&'')>0");
	buf_free(&b);
}

static void bad_inputs_to_composers_are_errors(void **state)
{
	struct buf b;
	serr e = {{0}};
	const char *ids[] = {"recA", ""};
	const char *parts[] = {"{A}=1", NULL};

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(formula_modified_after(&b, NULL, 0, "yesterday", &e), -1);
	assert_non_null(strstr(e.msg, "'yesterday'"));
	assert_int_equal(formula_modified_after(&b, NULL, 0, "2026-01-02T03:04:05.000Z') OR ('", &e),
			 -1);
	assert_int_equal(formula_record_id_in(&b, ids, 2, &e), -1);
	assert_int_equal(formula_and(&b, parts, 2, &e), -1);
	assert_int_equal(formula_not(&b, "", &e), -1);
	buf_free(&b);
	/* a cap too small for the formula is an error, not a cut formula */
	buf_init(&b, 16);
	assert_int_equal(formula_field_equals(&b, "Name", "a long value here", &e), -1);
	assert_non_null(strstr(e.msg, "filterByFormula"));
	buf_free(&b);
}

/* The records the formula matches, as a bitmask over the records array. */
static uint64_t matching(const char *formula, json_t *const *records, const char *const *ids,
			 size_t n)
{
	serr e = {{0}};
	struct formula *f = formula_parse(formula, field_types, &e);
	uint64_t mask = 0;

	if (!f)
		fail_msg("built formula %s does not parse: %s", formula, e.msg);
	for (size_t i = 0; i < n; i++) {
		struct formula_record r;
		int out = 0;

		memset(&r, 0, sizeof(r));
		r.id = ids[i];
		r.fields = records[i];
		r.field_types = field_types;
		if (formula_eval_bool(f, &r, &out, &e) != 0)
			fail_msg("evaluating %s failed: %s", formula, e.msg);
		if (out)
			mask |= UINT64_C(1) << i;
	}
	formula_free(f);
	return mask;
}

static void field_equals_matches_exactly_the_literal_value(void **state)
{
	json_t *records[NHOSTILE + 2];
	const char *ids[NHOSTILE + 2];
	char idbuf[NHOSTILE + 2][20];
	size_t n = 0;

	(void)state;
	/* one record per value, one with no Name at all, one holding a decoy */
	for (size_t i = 0; i < NHOSTILE; i++) {
		records[n] = json_pack("{s:s, s:s}", "Name", hostile[i], "Secret", "s3cret");
		snprintf(idbuf[n], sizeof(idbuf[n]), "rec%014zu", n);
		ids[n] = idbuf[n];
		n++;
	}
	records[n] = json_pack("{s:s}", "Secret", "s3cret");
	snprintf(idbuf[n], sizeof(idbuf[n]), "rec%014zu", n);
	ids[n] = idbuf[n];
	n++;
	records[n] = json_pack("{s:s}", "Name", "x");
	snprintf(idbuf[n], sizeof(idbuf[n]), "rec%014zu", n);
	ids[n] = idbuf[n];
	n++;
	for (size_t v = 0; v < NHOSTILE; v++) {
		struct buf b;
		serr e = {{0}};
		char *formula;
		uint64_t expected = 0, got;

		buf_init(&b, 0);
		formula = built(formula_field_equals(&b, "Name", hostile[v], &e), &b, &e);
		for (size_t i = 0; i < n; i++) {
			const char *name = json_string_value(json_object_get(records[i], "Name"));

			if (strcmp(name ? name : "", hostile[v]) == 0)
				expected |= UINT64_C(1) << i;
		}
		got = matching(formula, records, ids, n);
		if (got != expected)
			fail_msg("value %zu ('%s') as %s matched 0x%llx, expected 0x%llx", v, hostile[v],
				 formula, (unsigned long long)got, (unsigned long long)expected);
		free(formula);
		buf_free(&b);
	}
	for (size_t i = 0; i < n; i++)
		json_decref(records[i]);
}

static void record_id_in_matches_exactly_the_listed_ids(void **state)
{
	const char *ids[NHOSTILE];
	json_t *records[NHOSTILE];
	const char *pick[3] = {hostile[2], hostile[3], hostile[0]};
	struct buf b;
	serr e = {{0}};
	char *formula;
	uint64_t expected = 0;

	(void)state;
	/* record ids as hostile as the values: the builder must not care */
	for (size_t i = 0; i < NHOSTILE; i++) {
		ids[i] = hostile[i][0] ? hostile[i] : "recEMPTY";
		records[i] = json_object();
	}
	buf_init(&b, 0);
	formula = built(formula_record_id_in(&b, pick, 3, &e), &b, &e);
	for (size_t i = 0; i < NHOSTILE; i++)
		if (i == 0 || i == 2 || i == 3)
			expected |= UINT64_C(1) << i;
	assert_int_equal(matching(formula, records, ids, NHOSTILE), expected);
	free(formula);
	buf_free(&b);
	for (size_t i = 0; i < NHOSTILE; i++)
		json_decref(records[i]);
}

static void combined_filters_keep_their_meaning(void **state)
{
	json_t *records[3];
	const char *ids[3] = {"recA", "recB", "recC"};
	const char *parts[2];
	struct buf p1, p2, all;
	serr e = {{0}};
	char *formula;

	(void)state;
	records[0] = json_pack("{s:s, s:b}", "Name", "x' , TRUE()) OR ('", "Start Matchmaking", 1);
	records[1] = json_pack("{s:s}", "Name", "x' , TRUE()) OR ('");
	records[2] = json_pack("{s:s, s:b}", "Name", "other", "Start Matchmaking", 1);
	buf_init(&p1, 0);
	buf_init(&p2, 0);
	buf_init(&all, 0);
	assert_int_equal(formula_field_equals(&p1, "Name", "x' , TRUE()) OR ('", &e), 0);
	assert_int_equal(formula_checkbox_checked(&p2, "Start Matchmaking", &e), 0);
	parts[0] = buf_cstr(&p1);
	parts[1] = buf_cstr(&p2);
	formula = built(formula_and(&all, parts, 2, &e), &all, &e);
	assert_int_equal(matching(formula, records, ids, 3), 1);
	free(formula);
	buf_reset(&all);
	formula = built(formula_not(&all, parts[0], &e), &all, &e);
	assert_int_equal(matching(formula, records, ids, 3), 4);
	free(formula);
	buf_reset(&all);
	formula = built(formula_field_not_blank(&all, "Start Matchmaking", &e), &all, &e);
	assert_int_equal(matching(formula, records, ids, 3), 5);
	free(formula);
	buf_free(&p1);
	buf_free(&p2);
	buf_free(&all);
	for (int i = 0; i < 3; i++)
		json_decref(records[i]);
}

static void odd_field_names_round_trip(void **state)
{
	json_t *records[2];
	const char *ids[2] = {"recA", "recB"};
	struct buf b;
	serr e = {{0}};
	char *formula;

	(void)state;
	records[0] = json_pack("{s:s}", "Odd {name", "v");
	records[1] = json_pack("{s:s}", "(N) Full Name", "v");
	buf_init(&b, 0);
	formula = built(formula_field_equals(&b, "Odd {name", "v", &e), &b, &e);
	assert_int_equal(matching(formula, records, ids, 2), 1);
	free(formula);
	buf_reset(&b);
	formula = built(formula_field_equals(&b, "(N) Full Name", "v", &e), &b, &e);
	assert_int_equal(matching(formula, records, ids, 2), 2);
	free(formula);
	buf_free(&b);
	json_decref(records[0]);
	json_decref(records[1]);
}

static int64_t name_modified(const void *ud, const char *field)
{
	const int64_t *t = ud;

	if (!field)
		return t[1];
	return strcmp(field, "Name") == 0 ? t[0] : -1;
}

static void modified_after_round_trips_with_last_modified_time(void **state)
{
	const char *fields[] = {"Name"};
	/* Name modified at 2026-01-02T00:00:00Z, the record at 2026-01-05T00:00:00Z */
	int64_t times[2] = {INT64_C(1767312000000), INT64_C(1767571200000)};
	struct formula_record r;
	struct formula *f;
	struct buf b;
	serr e = {{0}};
	json_t *fields_json = json_object();
	int out = -1;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.id = "recA";
	r.fields = fields_json;
	r.field_types = field_types;
	r.field_modified_ms = name_modified;
	r.ud = times;
	buf_init(&b, 0);
	assert_int_equal(formula_modified_after(&b, fields, 1, "2026-01-01T23:59:59.999Z", &e), 0);
	assert_non_null(f = formula_parse(buf_cstr(&b), field_types, &e));
	assert_int_equal(formula_eval_bool(f, &r, &out, &e), 0);
	assert_int_equal(out, 1);
	formula_free(f);
	buf_reset(&b);
	assert_int_equal(formula_modified_after(&b, fields, 1, "2026-01-02T00:00:00.000Z", &e), 0);
	assert_non_null(f = formula_parse(buf_cstr(&b), field_types, &e));
	assert_int_equal(formula_eval_bool(f, &r, &out, &e), 0);
	assert_int_equal(out, 0);
	formula_free(f);
	buf_reset(&b);
	assert_int_equal(formula_modified_after(&b, NULL, 0, "2026-01-03T00:00:00.000Z", &e), 0);
	assert_non_null(f = formula_parse(buf_cstr(&b), field_types, &e));
	assert_int_equal(formula_eval_bool(f, &r, &out, &e), 0);
	assert_int_equal(out, 1);
	formula_free(f);
	buf_free(&b);
	json_decref(fields_json);
}

static uint64_t rng = 0x2545F4914F6CDD1Du;

static uint32_t rng_next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* Any ASCII text, quoted by the builder, reads back as exactly that text. */
static void random_values_read_back_unchanged(void **state)
{
	static const char alphabet[] = "'\"\\\n\t\r(){},=&!<>aB1 ";
	char value[64];

	(void)state;
	for (int iter = 0; iter < 5000; iter++) {
		size_t len = rng_next() % (sizeof(value) - 1);
		struct buf b;
		struct formula *f;
		struct formula_record r;
		serr e = {{0}};
		json_t *out = NULL;

		for (size_t i = 0; i < len; i++)
			value[i] = rng_next() % 2 ? alphabet[rng_next() % (sizeof(alphabet) - 1)]
						  : (char)(rng_next() % 126 + 1);
		value[len] = '\0';
		buf_init(&b, 0);
		assert_int_equal(formula_quote(&b, value), 0);
		f = formula_parse(buf_cstr(&b), field_types, &e);
		if (!f)
			fail_msg("quoted value %s does not parse: %s", buf_cstr(&b), e.msg);
		memset(&r, 0, sizeof(r));
		r.id = "recA";
		assert_int_equal(formula_eval_json(f, &r, &out, &e), 0);
		assert_true(json_is_string(out));
		assert_int_equal(json_string_length(out), len);
		assert_memory_equal(json_string_value(out), value, len);
		json_decref(out);
		formula_free(f);
		buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(quote_escapes_backslash_quote_and_newline),
		cmocka_unit_test(quote_fails_at_the_buffer_cap),
		cmocka_unit_test(field_names_with_a_closing_brace_are_refused),
		cmocka_unit_test(composers_build_the_documented_shapes),
		cmocka_unit_test(bad_inputs_to_composers_are_errors),
		cmocka_unit_test(field_equals_matches_exactly_the_literal_value),
		cmocka_unit_test(record_id_in_matches_exactly_the_listed_ids),
		cmocka_unit_test(combined_filters_keep_their_meaning),
		cmocka_unit_test(odd_field_names_round_trip),
		cmocka_unit_test(modified_after_round_trips_with_last_modified_time),
		cmocka_unit_test(random_values_read_back_unchanged),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
