/*
 * Unit tests of the JSON Schema validator: each keyword, the JSON paths in
 * its messages, anyOf and $ref, the limits, the strict-mode rules and the
 * time zone check.
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
#include "llm/schema.h"

static json_t *js(const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);

	if (!v)
		fail_msg("bad JSON in test: %s: %s", je.text, text);
	return v;
}

/* Validate value against schema (both JSON text); returns the status and copies the message. */
static int check(const char *schema, const char *value, serr *e)
{
	json_t *s = js(schema), *v = js(value);
	int rc;

	serr_clear(e);
	rc = schema_validate(s, v, e);
	json_decref(s);
	json_decref(v);
	return rc;
}

static void expect_ok(const char *schema, const char *value)
{
	serr e;

	if (check(schema, value, &e) != 0)
		fail_msg("expected %s to be valid against %s, got: %s", value, schema, e.msg);
}

static void expect_error(const char *schema, const char *value, const char *message)
{
	serr e;

	if (check(schema, value, &e) != -1)
		fail_msg("expected %s to be invalid against %s", value, schema);
	if (!strstr(e.msg, message))
		fail_msg("expected the error to contain \"%s\", got \"%s\"", message, e.msg);
}

static void type_names_and_type_arrays(void **state)
{
	(void)state;
	expect_ok("{\"type\":\"string\"}", "\"x\"");
	expect_error("{\"type\":\"string\"}", "5", "$: expected string, got integer");
	expect_ok("{\"type\":\"integer\"}", "7");
	expect_ok("{\"type\":\"integer\"}", "7.0");
	expect_error("{\"type\":\"integer\"}", "7.5", "expected integer, got number");
	expect_ok("{\"type\":\"number\"}", "7");
	expect_ok("{\"type\":\"boolean\"}", "false");
	expect_error("{\"type\":\"boolean\"}", "\"true\"", "expected boolean, got string");
	expect_ok("{\"type\":\"null\"}", "null");
	expect_ok("{\"type\":[\"string\",\"null\"]}", "null");
	expect_ok("{\"type\":[\"string\",\"null\"]}", "\"a\"");
	expect_error("{\"type\":[\"string\",\"null\"]}", "{}",
		     "$: expected string or null, got object");
	expect_error("{\"type\":\"array\"}", "{}", "expected array, got object");
}

static void required_and_extra_properties_are_named_with_their_path(void **state)
{
	const char *schema =
		"{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"a\",\"b\"],"
		"\"properties\":{\"a\":{\"type\":\"object\",\"additionalProperties\":false,"
		"\"required\":[\"c\"],\"properties\":{\"c\":{\"type\":\"integer\"}}},"
		"\"b\":{\"type\":\"string\"}}}";

	(void)state;
	expect_ok(schema, "{\"a\":{\"c\":1},\"b\":\"x\"}");
	expect_error(schema, "{\"a\":{\"c\":1}}", "$: required property 'b' is missing");
	expect_error(schema, "{\"a\":{},\"b\":\"x\"}", "$.a: required property 'c' is missing");
	expect_error(schema, "{\"a\":{\"c\":1},\"b\":\"x\",\"z\":1}", "$: property 'z' is not allowed");
	expect_error(schema, "{\"a\":{\"c\":\"1\"},\"b\":\"x\"}", "$.a.c: expected integer, got string");
	/* Keys that are not identifiers are quoted in the path. */
	expect_error("{\"type\":\"object\",\"properties\":{\"odd key\":{\"type\":\"string\"}}}",
		     "{\"odd key\":1}", "$['odd key']: expected string");
	/* additionalProperties as a schema checks the extra members. */
	expect_error("{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}",
		     "{\"n\":\"x\"}", "$.n: expected integer");
}

static void array_items_and_counts(void **state)
{
	const char *schema = "{\"type\":\"object\",\"properties\":{\"skills\":{\"type\":\"array\","
			     "\"minItems\":1,\"maxItems\":4,\"items\":{\"type\":\"object\","
			     "\"properties\":{\"rating\":{\"type\":\"integer\",\"minimum\":1,"
			     "\"maximum\":10}}}}}}";

	(void)state;
	expect_ok(schema, "{\"skills\":[{\"rating\":1},{\"rating\":10}]}");
	expect_error(schema, "{\"skills\":[{\"rating\":1},{\"rating\":2},{\"rating\":3},{\"rating\":11}]}",
		     "$.skills[3].rating: 11 is above the maximum 10");
	expect_error(schema, "{\"skills\":[{\"rating\":0}]}",
		     "$.skills[0].rating: 0 is below the minimum 1");
	expect_error(schema, "{\"skills\":[]}", "$.skills: array of 0 items has fewer than the minimum 1");
	expect_error(schema,
		     "{\"skills\":[{\"rating\":1},{\"rating\":1},{\"rating\":1},{\"rating\":1},{\"rating\":1}]}",
		     "array of 5 items has more than the maximum 4");
}

static void numbers_bounds_exclusive_and_multiples(void **state)
{
	(void)state;
	expect_ok("{\"type\":\"number\",\"minimum\":0,\"maximum\":60}", "60");
	expect_error("{\"type\":\"number\",\"maximum\":60}", "60.5", "60.5 is above the maximum 60");
	expect_error("{\"type\":\"number\",\"exclusiveMinimum\":0}", "0",
		     "0 is not above the exclusive minimum 0");
	expect_error("{\"type\":\"number\",\"exclusiveMaximum\":1}", "1",
		     "1 is not below the exclusive maximum 1");
	expect_ok("{\"type\":\"number\",\"multipleOf\":0.5}", "2.5");
	expect_error("{\"type\":\"number\",\"multipleOf\":0.5}", "2.4", "2.4 is not a multiple of 0.5");
	/* Large integers compare exactly. */
	expect_error("{\"type\":\"integer\",\"maximum\":9007199254740992}", "9007199254740993",
		     "above the maximum");
}

static void strings_lengths_count_characters_and_patterns_search(void **state)
{
	(void)state;
	expect_ok("{\"type\":\"string\",\"maxLength\":3}", "\"\xc3\xa9\xc3\xa9\xc3\xa9\"");
	expect_error("{\"type\":\"string\",\"maxLength\":2}", "\"\xc3\xa9\xc3\xa9\xc3\xa9\"",
		     "string of 3 characters is longer than the maximum 2");
	expect_error("{\"type\":\"string\",\"minLength\":2}", "\"a\"",
		     "string of 1 characters is shorter than the minimum 2");
	/* JSON Schema patterns are searches, not whole-string matches. */
	expect_ok("{\"type\":\"string\",\"pattern\":\"b\"}", "\"abc\"");
	expect_ok("{\"type\":\"string\",\"pattern\":\"^[0-9]{4}-(0[1-9]|1[0-2])$\"}", "\"2024-02\"");
	expect_error("{\"type\":\"string\",\"pattern\":\"^[0-9]{4}-(0[1-9]|1[0-2])$\"}",
		     "\"2024-13\"", "'2024-13' does not match the pattern");
	expect_error("{\"type\":\"string\",\"pattern\":\"^a\"}", "\"a\\u0000b\"",
		     "contains a NUL character");
	/* Pattern applies to strings only: null passes a nullable patterned string. */
	expect_ok("{\"type\":[\"string\",\"null\"],\"pattern\":\"^x$\"}", "null");
}

static void enum_and_const(void **state)
{
	const char *schema = "{\"type\":[\"string\",\"null\"],\"enum\":[\"junior\",\"senior\",null]}";

	(void)state;
	expect_ok(schema, "\"senior\"");
	expect_ok(schema, "null");
	expect_error(schema, "\"guru\"", "$: 'guru' is not one of 'junior', 'senior', null");
	expect_ok("{\"const\":{\"a\":[1,2]}}", "{\"a\":[1,2]}");
	expect_error("{\"const\":\"x\"}", "\"y\"", "'y' is not the constant 'x'");
}

static void any_of_reports_the_alternative_meant_for_the_value(void **state)
{
	const char *schema =
		"{\"type\":\"object\",\"properties\":{\"comp\":{\"anyOf\":[{\"type\":\"object\","
		"\"additionalProperties\":false,\"required\":[\"min\"],\"properties\":{\"min\":"
		"{\"type\":\"number\",\"minimum\":0}}},{\"type\":\"null\"}]}}}";

	(void)state;
	expect_ok(schema, "{\"comp\":null}");
	expect_ok(schema, "{\"comp\":{\"min\":5}}");
	expect_error(schema, "{\"comp\":{\"min\":-5}}", "$.comp.min: -5 is below the minimum 0");
	expect_error(schema, "{\"comp\":\"a lot\"}",
		     "$.comp: 'a lot' matches none of the 2 alternatives of anyOf");
}

static void refs_resolve_to_defs_and_to_the_root(void **state)
{
	const char *defs = "{\"type\":\"object\",\"properties\":{\"s\":{\"$ref\":\"#/$defs/skill\"}},"
			   "\"$defs\":{\"skill\":{\"type\":\"object\",\"required\":[\"name\"],"
			   "\"properties\":{\"name\":{\"type\":\"string\"}}}}}";
	const char *tree = "{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\"},"
			   "\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}}}";

	(void)state;
	expect_ok(defs, "{\"s\":{\"name\":\"go\"}}");
	expect_error(defs, "{\"s\":{}}", "$.s: required property 'name' is missing");
	expect_ok(tree, "{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[{\"v\":3}]}]}");
	expect_error(tree, "{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[{\"v\":\"3\"}]}]}",
		     "$.kids[0].kids[0].v: expected integer, got string");
	expect_error("{\"$ref\":\"#/$defs/missing\"}", "1", "invalid schema: '$ref'");
}

static void broken_schemas_are_reported_as_schema_errors(void **state)
{
	(void)state;
	expect_error("{\"type\":\"string\",\"format\":\"email\"}", "\"a\"",
		     "invalid schema: keyword 'format' is not supported");
	expect_error("{\"type\":\"strin\"}", "\"a\"", "invalid schema: 'type'");
	expect_error("{\"type\":\"string\",\"pattern\":\"(\"}", "\"a\"", "does not compile");
	expect_error("{\"type\":\"number\",\"minimum\":\"0\"}", "1", "'minimum' must be a number");
	/* Annotations are fine. */
	expect_ok("{\"type\":\"string\",\"description\":\"d\",\"title\":\"t\",\"examples\":[\"x\"]}",
		  "\"a\"");
}

static void deep_values_and_many_errors_are_limited(void **state)
{
	struct buf deep;
	json_t *schema = js("{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}"), *v;
	json_t *strict = js("{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{}}");
	json_t *many = json_object();
	serr e;

	(void)state;
	buf_init(&deep, 0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(buf_putc(&deep, '['), 0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(buf_putc(&deep, ']'), 0);
	v = js(buf_cstr(&deep));
	assert_int_equal(schema_validate(schema, v, &e), -1);
	assert_non_null(strstr(e.msg, "deeper than"));
	for (int i = 0; i < 30; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%02d", i);
		assert_int_equal(json_object_set_new(many, k, json_integer(i)), 0);
	}
	assert_int_equal(schema_validate(strict, many, &e), -1);
	assert_non_null(strstr(e.msg, "$: property 'k00' is not allowed"));
	assert_non_null(strstr(e.msg, "and 24 more problems"));
	assert_true(strlen(e.msg) < SERR_MAX);
	json_decref(v);
	json_decref(schema);
	json_decref(strict);
	json_decref(many);
	buf_free(&deep);
}

static void long_and_odd_values_are_cut_in_messages(void **state)
{
	char text[400], out[128];
	json_t *v;

	(void)state;
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	text[3] = '\n';
	v = json_string(text);
	schema_describe_value(v, out, sizeof(out));
	/* 40 characters shown, the newline as '?', then an ellipsis. */
	assert_string_equal(out, "'xxx?" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "...'");
	json_decref(v);
}

static void strict_rules_accept_a_strict_schema(void **state)
{
	json_t *s = js("{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"a\",\"b\"],"
		       "\"properties\":{\"a\":{\"type\":[\"string\",\"null\"],\"pattern\":\"^[a-z]+$\"},"
		       "\"b\":{\"type\":\"array\",\"maxItems\":3,\"items\":{\"$ref\":\"#/$defs/x\"}}},"
		       "\"$defs\":{\"x\":{\"anyOf\":[{\"type\":\"object\",\"additionalProperties\":false,"
		       "\"required\":[\"n\"],\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":1}}},"
		       "{\"type\":\"null\"}]}}}");
	serr e;

	(void)state;
	if (schema_check_strict(s, &e) != 0)
		fail_msg("strict schema rejected: %s", e.msg);
	json_decref(s);
}

static void expect_not_strict(const char *schema, const char *message)
{
	json_t *s = js(schema);
	serr e;

	serr_clear(&e);
	if (schema_check_strict(s, &e) != -1)
		fail_msg("expected %s not to be strict", schema);
	if (!strstr(e.msg, message))
		fail_msg("expected the error to contain \"%s\", got \"%s\"", message, e.msg);
	json_decref(s);
}

static void strict_rules_reject_what_providers_reject(void **state)
{
	(void)state;
	expect_not_strict("{\"type\":\"object\",\"required\":[],\"properties\":{}}",
			  "#: an object schema needs 'additionalProperties': false");
	expect_not_strict("{\"type\":\"object\",\"additionalProperties\":false,\"required\":[],"
			  "\"properties\":{\"a\":{\"type\":\"string\"}}}",
			  "property 'a' is not in 'required'");
	expect_not_strict("{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"a\"],"
			  "\"properties\":{\"a\":{\"type\":\"object\",\"properties\":{},"
			  "\"required\":[]}}}",
			  "#/properties/a: an object schema needs 'additionalProperties': false");
	expect_not_strict("{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"a\"],"
			  "\"properties\":{\"a\":{\"type\":\"string\",\"maxLength\":5}}}",
			  "'maxLength' is not supported by strict structured outputs");
	expect_not_strict("{\"anyOf\":[{\"type\":\"object\"}]}", "the root must be a schema of type "
								  "'object'");
	expect_not_strict("{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"a\"],"
			  "\"properties\":{\"a\":{\"type\":\"array\"}}}",
			  "an array schema needs 'items'");
	expect_not_strict("{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"a\"],"
			  "\"properties\":{\"a\":{\"type\":\"string\",\"pattern\":\"^\\\\d+$\"}}}",
			  "uses '\\d'");
	expect_not_strict("{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"a\"],"
			  "\"properties\":{\"a\":{\"$ref\":\"#/$defs/nope\"}}}",
			  "'$ref' must be");
	expect_not_strict("{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"a\"],"
			  "\"properties\":{\"a\":{\"type\":\"string\",\"format\":\"date\"}}}",
			  "keyword 'format' is not supported");
}

static void strict_rules_enforce_the_documented_limits(void **state)
{
	json_t *s = js("{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"a\"],"
		       "\"properties\":{\"a\":{\"type\":\"string\"}}}");
	json_t *en = json_array();
	serr e;

	(void)state;
	for (int i = 0; i < 1001; i++) {
		char v[16];

		snprintf(v, sizeof(v), "v%d", i);
		assert_int_equal(json_array_append_new(en, json_string(v)), 0);
	}
	assert_int_equal(json_object_set_new(json_object_get(json_object_get(s, "properties"), "a"),
					      "enum", en),
			 0);
	assert_int_equal(schema_check_strict(s, &e), -1);
	assert_non_null(strstr(e.msg, "1001 enum values, over the limit of 1000"));
	json_decref(s);
}

static void timezones_must_exist_in_the_tz_database(void **state)
{
	serr e;

	(void)state;
	assert_int_equal(schema_check_timezone("Europe/Berlin", &e), 0);
	assert_int_equal(schema_check_timezone("America/Argentina/Buenos_Aires", &e), 0);
	assert_int_equal(schema_check_timezone("UTC", &e), 0);
	assert_int_equal(schema_check_timezone("Etc/GMT+5", &e), 0);
	assert_int_equal(schema_check_timezone("Mars/Olympus_Mons", &e), -1);
	assert_non_null(strstr(e.msg, "'Mars/Olympus_Mons' is not in the tz database"));
	assert_int_equal(schema_check_timezone("../../etc/passwd", &e), -1);
	assert_int_equal(schema_check_timezone("Europe/../../../etc/passwd", &e), -1);
	assert_int_equal(schema_check_timezone("/etc/passwd", &e), -1);
	assert_int_equal(schema_check_timezone("zone.tab", &e), -1);
	assert_int_equal(schema_check_timezone("Europe", &e), -1);
	assert_int_equal(schema_check_timezone("Europe/", &e), -1);
	assert_int_equal(schema_check_timezone("", &e), -1);
	assert_int_equal(schema_check_timezone("Europe/Berlin; rm -rf", &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(type_names_and_type_arrays),
		cmocka_unit_test(required_and_extra_properties_are_named_with_their_path),
		cmocka_unit_test(array_items_and_counts),
		cmocka_unit_test(numbers_bounds_exclusive_and_multiples),
		cmocka_unit_test(strings_lengths_count_characters_and_patterns_search),
		cmocka_unit_test(enum_and_const),
		cmocka_unit_test(any_of_reports_the_alternative_meant_for_the_value),
		cmocka_unit_test(refs_resolve_to_defs_and_to_the_root),
		cmocka_unit_test(broken_schemas_are_reported_as_schema_errors),
		cmocka_unit_test(deep_values_and_many_errors_are_limited),
		cmocka_unit_test(long_and_odd_values_are_cut_in_messages),
		cmocka_unit_test(strict_rules_accept_a_strict_schema),
		cmocka_unit_test(strict_rules_reject_what_providers_reject),
		cmocka_unit_test(strict_rules_enforce_the_documented_limits),
		cmocka_unit_test(timezones_must_exist_in_the_tz_database),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
