/*
 * Unit tests of the simulator's Airtable formula evaluator: every supported
 * function, Airtable's value model (blank vs "" vs 0, arrays, checkboxes,
 * attachments, dates), LAST_MODIFIED_TIME with and without fields, parse
 * errors, limits, and random input that must never crash the parser.
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

#include "core/util.h"
#include "sim/formula_eval.h"

/* 2024-03-01T10:00:00.000Z */
#define NOW_MS INT64_C(1709287200000)
#define CREATED_MS INT64_C(1704067200000) /* 2024-01-01T00:00:00.000Z */

static const char *const field_types_json =
	"{\"Name\": \"singleLineText\", \"Notes\": \"multilineText\", \"Count\": \"number\","
	" \"Done\": \"checkbox\", \"Tags\": \"multipleSelects\", \"Links\": \"multipleRecordLinks\","
	" \"CV\": \"multipleAttachments\", \"Due\": \"dateTime\", \"Day\": \"date\","
	" \"Status\": \"singleSelect\", \"(N) Seniority Level\": \"singleLineText\"}";

static json_t *field_types;
/* field name -> last modification (ms) for the record under test; "" is the record's */
static json_t *mod_times;

static int64_t test_modified(const void *ud, const char *field)
{
	json_t *t = json_object_get(mod_times, field ? field : "");

	(void)ud;
	return json_is_integer(t) ? (int64_t)json_integer_value(t) : -1;
}

static int setup(void **state)
{
	(void)state;
	field_types = json_loads(field_types_json, 0, NULL);
	mod_times = json_object();
	return field_types && mod_times ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(field_types);
	json_decref(mod_times);
	return 0;
}

static void record_for(struct formula_record *r, const json_t *fields)
{
	memset(r, 0, sizeof(*r));
	r->id = "recTEST0000000001";
	r->created_ms = CREATED_MS;
	r->fields = fields;
	r->field_types = field_types;
	r->field_modified_ms = test_modified;
	r->now_ms = NOW_MS;
}

/* The formula's value on a record with these fields (JSON text), as JSON text. */
static char *value_of(const char *formula, const char *fields_json)
{
	json_t *fields = json_loads(fields_json, 0, NULL);
	struct formula_record r;
	struct formula *f;
	json_t *out = NULL;
	char *text;
	serr e = {{0}};

	assert_non_null(fields);
	f = formula_parse(formula, field_types, &e);
	if (!f)
		fail_msg("parse of %s failed: %s", formula, e.msg);
	record_for(&r, fields);
	if (formula_eval_json(f, &r, &out, &e) != 0)
		fail_msg("evaluation of %s failed: %s", formula, e.msg);
	text = json_dumps(out, JSON_ENCODE_ANY | JSON_COMPACT);
	json_decref(out);
	json_decref(fields);
	formula_free(f);
	return text;
}

#define EXPECT(formula, fields, expected)                                                  \
	do {                                                                               \
		char *got_ = value_of((formula), (fields));                                \
		if (strcmp(got_, (expected)) != 0)                                         \
			fail_msg("%s on %s: expected %s, got %s", (formula), (fields),     \
				 (expected), got_);                                        \
		free(got_);                                                                \
	} while (0)

/* Whether the formula matches a record with these fields, as filterByFormula decides. */
static int matches(const char *formula, const char *fields_json)
{
	json_t *fields = json_loads(fields_json, 0, NULL);
	struct formula_record r;
	struct formula *f;
	int out = -1;
	serr e = {{0}};

	assert_non_null(fields);
	f = formula_parse(formula, field_types, &e);
	if (!f)
		fail_msg("parse of %s failed: %s", formula, e.msg);
	record_for(&r, fields);
	if (formula_eval_bool(f, &r, &out, &e) != 0)
		fail_msg("evaluation of %s failed: %s", formula, e.msg);
	formula_free(f);
	json_decref(fields);
	return out;
}

/* The parse error for a formula that must not parse. */
static void expect_parse_error(const char *formula, const char *needle)
{
	serr e = {{0}};
	struct formula *f = formula_parse(formula, field_types, &e);

	if (f) {
		formula_free(f);
		fail_msg("formula '%s' parsed but should not", formula);
	}
	assert_true(e.msg[0] != '\0');
	if (needle && !strstr(e.msg, needle))
		fail_msg("error for '%s' is '%s', expected it to mention '%s'", formula, e.msg,
			 needle);
}

static void operators_follow_precedence(void **state)
{
	(void)state;
	EXPECT("1+2*3", "{}", "7");
	EXPECT("(1+2)*3", "{}", "9");
	EXPECT("-2*3", "{}", "-6");
	EXPECT("- -2", "{}", "2");
	EXPECT("10/4", "{}", "2.5");
	EXPECT("7-2-1", "{}", "4");
	EXPECT("1.5e2", "{}", "150");
	EXPECT("'a'&'b'", "{}", "\"ab\"");
	EXPECT("'x'&1+1", "{}", "\"x2\"");
	EXPECT("'a'&'b'='ab'", "{}", "true");
	EXPECT("1<2", "{}", "true");
	EXPECT("2<=2", "{}", "true");
	EXPECT("3>=4", "{}", "false");
	EXPECT("'b'>'a'", "{}", "true");
	EXPECT("1!=2", "{}", "true");
	EXPECT("1<>1", "{}", "false");
	EXPECT("2='2'", "{}", "true");
	EXPECT("'abc'='ABC'", "{}", "false");
	EXPECT("TRUE", "{}", "true");
	EXPECT("false", "{}", "false");
	EXPECT("TRUE()+TRUE()", "{}", "2");
	EXPECT(" \n\t1 \r\n", "{}", "1");
}

static void string_literals_take_backslash_escapes(void **state)
{
	(void)state;
	EXPECT("'it\\'s'", "{}", "\"it's\"");
	EXPECT("\"say \\\"hi\\\"\"", "{}", "\"say \\\"hi\\\"\"");
	EXPECT("'back\\\\slash'", "{}", "\"back\\\\slash\"");
	EXPECT("'line\\nbreak'", "{}", "\"line\\nbreak\"");
	EXPECT("'a\"b'", "{}", "\"a\\\"b\"");
	EXPECT("\"a'b\"", "{}", "\"a'b\"");
	EXPECT("''", "{}", "\"\"");
}

static void blank_reads_as_empty_text_zero_and_false(void **state)
{
	(void)state;
	assert_true(matches("{Name}=''", "{}"));
	assert_true(matches("{Name}=BLANK()", "{}"));
	assert_true(matches("{Name}=''", "{\"Name\": \"\"}"));
	assert_true(matches("{Name}=BLANK()", "{\"Name\": \"\"}"));
	assert_false(matches("{Name}=''", "{\"Name\": \"Ada\"}"));
	assert_false(matches("{Name}=BLANK()", "{\"Name\": \"Ada\"}"));
	assert_false(matches("{Name}", "{}"));
	assert_true(matches("{Name}", "{\"Name\": \"Ada\"}"));
	assert_true(matches("{Count}=0", "{}"));
	assert_true(matches("{Count}=BLANK()", "{}"));
	assert_false(matches("{Count}", "{}"));
	assert_false(matches("{Count}", "{\"Count\": 0}"));
	assert_true(matches("{Count}", "{\"Count\": 2}"));
	EXPECT("{Count}+1", "{}", "1");
	EXPECT("{Name}&'x'", "{}", "\"x\"");
	EXPECT("{Name}", "{}", "null");
	assert_false(matches("{Done}", "{}"));
	assert_true(matches("NOT({Done})", "{}"));
	assert_true(matches("{Status}!='Lead'", "{}"));
	assert_true(matches("{Status}='Lead'", "{\"Status\": \"Lead\"}"));
	assert_true(matches("BLANK()=''", "{}"));
	assert_true(matches("BLANK()=0", "{}"));
}

static void checkbox_true_reads_as_one(void **state)
{
	(void)state;
	assert_true(matches("{Done}", "{\"Done\": true}"));
	assert_true(matches("{Done}=TRUE()", "{\"Done\": true}"));
	assert_true(matches("{Done}=1", "{\"Done\": true}"));
	assert_false(matches("{Done}=TRUE()", "{}"));
	assert_true(matches("{Done}=FALSE()", "{}"));
	EXPECT("{Done}&''", "{\"Done\": true}", "\"1\"");
	EXPECT("{Done}+1", "{\"Done\": true}", "2");
}

static void arrays_read_as_items_joined_with_comma(void **state)
{
	const char *tags = "{\"Tags\": [\"Rust\", \"Go\"], \"Links\": [\"recAAA\"]}";

	(void)state;
	assert_true(matches("{Tags}='Rust, Go'", tags));
	assert_false(matches("{Tags}='Rust'", tags));
	EXPECT("{Tags}&''", tags, "\"Rust, Go\"");
	EXPECT("{Tags}", tags, "[\"Rust\",\"Go\"]");
	EXPECT("FIND('Go',{Tags})", tags, "7");
	EXPECT("ARRAYJOIN({Tags},'|')", tags, "\"Rust|Go\"");
	EXPECT("ARRAYJOIN({Tags})", tags, "\"Rust, Go\"");
	EXPECT("COUNTA({Tags})", tags, "2");
	EXPECT("COUNTA({Tags},{Name},'x',0)", tags, "4");
	EXPECT("LEN({Tags})", tags, "8");
	assert_true(matches("{Links}='recAAA'", tags));
	assert_true(matches("{Links}", tags));
	assert_false(matches("{Links}", "{\"Links\": []}"));
	assert_true(matches("{Links}=''", "{\"Links\": []}"));
	assert_true(matches("{Links}=BLANK()", "{}"));
}

static void attachments_are_truthy_and_read_as_name_and_url(void **state)
{
	const char *cv = "{\"CV\": [{\"id\": \"attX\", \"filename\": \"cv.pdf\","
			 " \"url\": \"http://127.0.0.1/a/cv.pdf\", \"size\": 10}]}";

	(void)state;
	EXPECT("IF({CV},'yes','no')", cv, "\"yes\"");
	EXPECT("IF({CV},'yes','no')", "{}", "\"no\"");
	EXPECT("{CV}&''", cv, "\"cv.pdf (http://127.0.0.1/a/cv.pdf)\"");
	assert_true(matches("{CV}!=''", cv));
	assert_false(matches("{CV}!=''", "{}"));
}

static void dates_compare_as_datetimes(void **state)
{
	const char *rec = "{\"Due\": \"2024-03-01T10:00:00.000Z\", \"Day\": \"2024-03-02\"}";

	(void)state;
	assert_true(matches("{Due}>'2024-02-29'", rec));
	assert_true(matches("{Due}='2024-03-01T10:00:00Z'", rec));
	assert_true(matches("{Due}='2024-03-01T12:00:00+02:00'", rec));
	assert_true(matches("{Due}<{Day}", rec));
	assert_true(matches("{Day}=DATETIME_PARSE('2024-03-02')", rec));
	assert_false(matches("{Due}=''", rec));
	assert_true(matches("{Due}=''", "{}"));
	EXPECT("{Due}", rec, "\"2024-03-01T10:00:00.000Z\"");
	EXPECT("{Day}", rec, "\"2024-03-02\"");
	EXPECT("{Due}&''", rec, "\"2024-03-01T10:00:00.000Z\"");
	assert_true(matches("IS_AFTER({Due},DATETIME_PARSE('2024-03-01T09:59:59.999Z'))", rec));
	assert_false(matches("IS_AFTER({Due},DATETIME_PARSE('2024-03-01T10:00:00.000Z'))", rec));
	assert_true(matches("IS_BEFORE({Due},{Day})", rec));
	assert_false(matches("IS_BEFORE({Day},{Due})", rec));
	assert_false(matches("IS_AFTER({Due},{Day})", "{\"Due\": \"2024-03-01T10:00:00.000Z\"}"));
	assert_true(matches("IS_SAME({Due},'2024-03-01','day')", rec));
	assert_false(matches("IS_SAME({Due},'2024-03-01')", rec));
	assert_true(matches("IS_SAME({Due},'2024-03-01T10:00:00.000Z')", rec));
	assert_true(matches("IS_SAME({Due},'2024-03-31','month')", rec));
	assert_true(matches("IS_SAME({Due},'2024-12-31','years')", rec));
	assert_true(matches("IS_SAME({Due},'2024-02-01','Q')", rec));
	assert_false(matches("IS_SAME({Due},'2024-04-01','Q')", rec));
	/* weeks start on Sunday: Sun 2024-02-25 .. Sat 2024-03-02 */
	assert_true(matches("IS_SAME('2024-03-02','2024-02-25','week')", rec));
	assert_false(matches("IS_SAME('2024-03-03','2024-03-02','week')", rec));
	assert_true(matches("IS_SAME({Due},'2024-03-01T10:00:59Z','minute')", rec));
	assert_false(matches("IS_SAME({Due},'2024-03-01T11:00:00Z','hour')", rec));
}

static void datetime_parse_reads_iso_and_formats(void **state)
{
	(void)state;
	EXPECT("DATETIME_PARSE('2024-01-02')", "{}", "\"2024-01-02\"");
	EXPECT("DATETIME_PARSE('2024-01-02T03:04:05Z')", "{}", "\"2024-01-02T03:04:05.000Z\"");
	EXPECT("DATETIME_PARSE('2024-01-02T03:04:05.250Z')", "{}",
	       "\"2024-01-02T03:04:05.250Z\"");
	EXPECT("DATETIME_PARSE('2024-01-02T03:04:05+02:00')", "{}",
	       "\"2024-01-02T01:04:05.000Z\"");
	EXPECT("DATETIME_PARSE('2024-01-02 03:04')", "{}", "\"2024-01-02T03:04:00.000Z\"");
	EXPECT("DATETIME_PARSE('1/2/2024')", "{}", "\"2024-01-02\"");
	EXPECT("DATETIME_PARSE('02/01/2024 13:45','DD/MM/YYYY HH:mm')", "{}",
	       "\"2024-01-02T13:45:00.000Z\"");
	EXPECT("DATETIME_PARSE('March 5 2024','MMMM D YYYY')", "{}",
	       "\"2024-03-05T00:00:00.000Z\"");
	EXPECT("DATETIME_PARSE('5 Mar 24 3:07 pm','D MMM YY h:mm a')", "{}",
	       "\"2024-03-05T15:07:00.000Z\"");
	EXPECT("DATETIME_PARSE('1704164645','X')", "{}", "\"2024-01-02T03:04:05.000Z\"");
	EXPECT("DATETIME_PARSE('1704164645123','x')", "{}", "\"2024-01-02T03:04:05.123Z\"");
	EXPECT("DATETIME_PARSE('not a date')", "{}", "{\"error\":\"#ERROR!\"}");
	EXPECT("DATETIME_PARSE('2024-02-30')", "{}", "{\"error\":\"#ERROR!\"}");
	EXPECT("DATETIME_PARSE('2024-13-01')", "{}", "{\"error\":\"#ERROR!\"}");
	EXPECT("ISERROR(DATETIME_PARSE('nope'))", "{}", "true");
	EXPECT("DATETIME_PARSE({Name})", "{}", "null");
}

static void datetime_diff_and_dateadd_follow_calendar_units(void **state)
{
	(void)state;
	EXPECT("DATETIME_DIFF('2024-03-01','2024-01-31','days')", "{}", "30");
	EXPECT("DATETIME_DIFF('2024-03-01','2024-01-31','months')", "{}", "1");
	EXPECT("DATETIME_DIFF('2024-01-01','2024-01-03','d')", "{}", "-2");
	EXPECT("DATETIME_DIFF('2024-01-01T00:01:00Z','2024-01-01T00:00:00Z')", "{}", "60");
	EXPECT("DATETIME_DIFF('2024-01-01T00:01:00Z','2024-01-01T00:00:00Z','minutes')", "{}",
	       "1");
	EXPECT("DATETIME_DIFF('2024-01-01T00:00:01Z','2024-01-01T00:00:00Z','ms')", "{}",
	       "1000");
	EXPECT("DATETIME_DIFF('2024-01-01T05:59:00Z','2024-01-01T00:00:00Z','hours')", "{}", "5");
	EXPECT("DATETIME_DIFF('2024-01-15','2024-01-01','weeks')", "{}", "2");
	EXPECT("DATETIME_DIFF('2024-02-28','2023-02-28','years')", "{}", "1");
	EXPECT("DATETIME_DIFF('2024-02-27','2023-02-28','y')", "{}", "0");
	EXPECT("DATETIME_DIFF('2024-07-01','2024-01-01','quarters')", "{}", "2");
	EXPECT("DATETIME_DIFF({Due},'2024-01-01')", "{}", "null");
	EXPECT("DATEADD('2024-01-31',1,'month')", "{}", "\"2024-02-29\"");
	EXPECT("DATEADD('2024-01-31',1,'M')", "{}", "\"2024-02-29\"");
	EXPECT("DATEADD('2024-01-01T00:00:00Z',90,'minutes')", "{}",
	       "\"2024-01-01T01:30:00.000Z\"");
	EXPECT("DATEADD('2024-01-01',2,'weeks')", "{}", "\"2024-01-15\"");
	EXPECT("DATEADD('2024-02-29',1,'years')", "{}", "\"2025-02-28\"");
	EXPECT("DATEADD('2024-01-01',-1,'days')", "{}", "\"2023-12-31\"");
	EXPECT("DATEADD('2024-01-01',1,'quarter')", "{}", "\"2024-04-01\"");
	EXPECT("DATEADD({Due},1,'days')", "{}", "null");
	EXPECT("DATEADD('2024-01-01',1e12,'years')", "{}", "{\"error\":\"#ERROR!\"}");
}

static void now_and_today_use_the_record_clock(void **state)
{
	(void)state;
	EXPECT("NOW()", "{}", "\"2024-03-01T10:00:00.000Z\"");
	EXPECT("TODAY()", "{}", "\"2024-03-01\"");
	assert_true(matches("IS_SAME(NOW(),TODAY(),'day')", "{}"));
	assert_true(matches("IS_AFTER(NOW(),TODAY())", "{}"));
	assert_true(matches("DATETIME_DIFF(NOW(),TODAY(),'hours')=10", "{}"));
}

static void record_id_and_created_time_come_from_the_record(void **state)
{
	(void)state;
	EXPECT("RECORD_ID()", "{}", "\"recTEST0000000001\"");
	assert_true(matches("RECORD_ID()='recTEST0000000001'", "{}"));
	assert_false(matches("RECORD_ID()='recOTHER00000001'", "{}"));
	EXPECT("CREATED_TIME()", "{}", "\"2024-01-01T00:00:00.000Z\"");
}

static void last_modified_time_with_and_without_fields(void **state)
{
#define BETWEEN(fields) "IS_AFTER(LAST_MODIFIED_TIME(" fields "),DATETIME_PARSE('2024-02-01'))"

	(void)state;
	json_object_clear(mod_times);
	/* Name changed in January, Notes in February, the record last in February */
	json_object_set_new(mod_times, "Name", json_integer(INT64_C(1704153600000)));
	json_object_set_new(mod_times, "Notes", json_integer(INT64_C(1707091200000)));
	json_object_set_new(mod_times, "", json_integer(INT64_C(1707091200000)));
	EXPECT("LAST_MODIFIED_TIME()", "{}", "\"2024-02-05T00:00:00.000Z\"");
	EXPECT("LAST_MODIFIED_TIME({Name})", "{}", "\"2024-01-02T00:00:00.000Z\"");
	EXPECT("LAST_MODIFIED_TIME({Name},{Notes})", "{}", "\"2024-02-05T00:00:00.000Z\"");
	EXPECT("LAST_MODIFIED_TIME({Count})", "{}", "null");
	assert_true(matches(BETWEEN(""), "{}"));
	assert_false(matches(BETWEEN("{Name}"), "{}"));
	assert_true(matches(BETWEEN("{Name},{Notes}"), "{}"));
	assert_false(matches(BETWEEN("{Count}"), "{}"));
	expect_parse_error("LAST_MODIFIED_TIME('Name')", "field references");
	expect_parse_error("LAST_MODIFIED_TIME({Nope})", "Nope");
	json_object_clear(mod_times);
}

static void last_modified_time_without_a_clock_is_the_creation_time(void **state)
{
	serr e = {{0}};
	struct formula *f = formula_parse("LAST_MODIFIED_TIME({Name})", field_types, &e);
	struct formula_record r;
	json_t *fields = json_object(), *out = NULL;

	(void)state;
	assert_non_null(f);
	record_for(&r, fields);
	r.field_modified_ms = NULL;
	assert_int_equal(formula_eval_json(f, &r, &out, &e), 0);
	assert_string_equal(json_string_value(out), "2024-01-01T00:00:00.000Z");
	json_decref(out);
	json_decref(fields);
	formula_free(f);
}

static void text_functions_count_characters_not_bytes(void **state)
{
	(void)state;
	EXPECT("FIND('b','abcb')", "{}", "2");
	EXPECT("FIND('b','abcb',2)", "{}", "4");
	EXPECT("FIND('z','abc')", "{}", "0");
	EXPECT("FIND('B','abc')", "{}", "0");
	EXPECT("FIND('x',{Name})", "{}", "0");
	EXPECT("SEARCH('c','abc')", "{}", "3");
	EXPECT("SEARCH('z','abc')", "{}", "null");
	EXPECT("FIND('ü','Zürich')", "{}", "2");
	EXPECT("LEN('Zürich')", "{}", "6");
	EXPECT("LEN({Name})", "{}", "0");
	EXPECT("LOWER('MiXeD')", "{}", "\"mixed\"");
	EXPECT("UPPER('MiXeD')", "{}", "\"MIXED\"");
	EXPECT("TRIM('  a b \\n')", "{}", "\"a b\"");
	EXPECT("CONCATENATE('a',1,TRUE(),{Name},'z')", "{}", "\"a11z\"");
	EXPECT("LEFT('Zürich',2)", "{}", "\"Zü\"");
	EXPECT("LEFT('abc',10)", "{}", "\"abc\"");
	EXPECT("RIGHT('Zürich',5)", "{}", "\"ürich\"");
	EXPECT("RIGHT('abc',0)", "{}", "\"\"");
	EXPECT("MID('quick brown fox',6,5)", "{}", "\"brown\"");
	EXPECT("MID('abc',5,2)", "{}", "\"\"");
	EXPECT("SUBSTITUTE('a-b-c','-','+')", "{}", "\"a+b+c\"");
	EXPECT("SUBSTITUTE('a-b-c','-','+',2)", "{}", "\"a-b+c\"");
	EXPECT("SUBSTITUTE('abc','','x')", "{}", "\"abc\"");
	EXPECT("VALUE('$1,000.50')", "{}", "1000.5");
	EXPECT("VALUE('-42')", "{}", "-42");
	EXPECT("VALUE('none')", "{}", "null");
	EXPECT("T('a')", "{}", "\"a\"");
	EXPECT("T(1)", "{}", "null");
	EXPECT("'n: '&0.1+0.2", "{}", "\"n: 0.30000000000000004\"");
}

static void numeric_functions_round_as_documented(void **state)
{
	(void)state;
	EXPECT("INT(-1.5)", "{}", "-2");
	EXPECT("INT(1.9)", "{}", "1");
	EXPECT("ROUND(2.5,0)", "{}", "3");
	EXPECT("ROUND(-2.5,0)", "{}", "-2");
	EXPECT("ROUND(1.2345,2)", "{}", "1.23");
	EXPECT("ROUND(1234,-2)", "{}", "1200");
	EXPECT("ABS(-3)", "{}", "3");
	EXPECT("MAX(1,5,3)", "{}", "5");
	EXPECT("MIN(4,-1,3)", "{}", "-1");
	EXPECT("MAX({Count},-5)", "{}", "-5");
	EXPECT("MAX({Count},2)", "{\"Count\": 7}", "7");
	EXPECT("1/0", "{}", "{\"error\":\"#ERROR!\"}");
	EXPECT("'abc'*2", "{}", "{\"error\":\"#ERROR!\"}");
	EXPECT("' 3 '*2", "{}", "6");
}

static void logical_functions_and_error_values(void **state)
{
	(void)state;
	EXPECT("AND(1,'x',TRUE())", "{}", "true");
	EXPECT("AND(1,'')", "{}", "false");
	EXPECT("OR(0,'',{Name})", "{}", "false");
	EXPECT("OR(0,'y')", "{}", "true");
	EXPECT("XOR(TRUE(),TRUE(),TRUE())", "{}", "true");
	EXPECT("XOR(TRUE(),TRUE())", "{}", "false");
	EXPECT("NOT('')", "{}", "true");
	EXPECT("IF(0,'a')", "{}", "null");
	EXPECT("IF(1,'a','b')", "{}", "\"a\"");
	EXPECT("IF(1,'ok',ERROR())", "{}", "\"ok\"");
	EXPECT("IF(ERROR(),'a','b')", "{}", "{\"error\":\"#ERROR!\"}");
	EXPECT("SWITCH({Status},'Lead',1,'Fraud',2,0)", "{\"Status\": \"Fraud\"}", "2");
	EXPECT("SWITCH({Status},'Lead',1,'Fraud',2,0)", "{\"Status\": \"Hired\"}", "0");
	EXPECT("SWITCH({Status},'Lead',1)", "{}", "null");
	EXPECT("SWITCH({Status},BLANK(),'empty','x')", "{}", "\"empty\"");
	EXPECT("ISERROR(1/0)", "{}", "true");
	EXPECT("ISERROR(1)", "{}", "false");
	EXPECT("AND(1,ERROR())", "{}", "{\"error\":\"#ERROR!\"}");
}

static void error_values_never_match(void **state)
{
	(void)state;
	assert_false(matches("DATETIME_PARSE('bad')", "{}"));
	assert_false(matches("IS_AFTER('bad','2024-01-01')", "{}"));
	assert_true(matches("NOT(ISERROR(1))", "{}"));
}

static void bare_names_and_lowercase_functions_work(void **state)
{
	(void)state;
	assert_true(matches("Count>1", "{\"Count\": 2}"));
	assert_true(matches("and(Done, Count=2)", "{\"Done\": true, \"Count\": 2}"));
	assert_true(matches("{(N) Seniority Level}='Senior'", "{\"(N) Seniority Level\": \"Senior\"}"));
}

static void unknown_functions_and_fields_are_errors_naming_them(void **state)
{
	(void)state;
	expect_parse_error("FOO(1)", "'FOO'");
	expect_parse_error("REGEX_MATCH({Name},'a')", "'REGEX_MATCH'");
	expect_parse_error("SET_TIMEZONE(NOW(),'Europe/Paris')", "'SET_TIMEZONE'");
	expect_parse_error("{Nope}='x'", "'Nope'");
	expect_parse_error("Nope='x'", "'Nope'");
	expect_parse_error("{name}='x'", "'name'");
	expect_parse_error("{ Name }=''", "' Name '");
}

static void malformed_formulas_are_errors(void **state)
{
	static const char *const bad[] = {
		"", "   ", "(", ")", "1 +", "AND(1,", "AND(1,,2)", "AND(1 2)", "'unterminated",
		"\"open", "{Name", "{}", "1 2", "@", "1 == 2", "NOT()", "NOT(1,2)", "IF(1)",
		"DATEADD('2024-01-01',1)", "TRUE(1)", "'a' 'b'", "{Name}}", ".", "1..2",
		"AND", "(1))", "1 = ", "'\\", "!1", "1 ! 2", "<1", "5 %", "IF(1,2,3,4)", "MID('a',1)",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_parse_error(bad[i], NULL);
	expect_parse_error("1 2", "character 3");
	expect_parse_error("AND(1,", "end of formula");
}

static char *repeat(const char *unit, size_t times, const char *middle, const char *close)
{
	size_t ul = strlen(unit), cl = strlen(close), ml = strlen(middle);
	char *s = malloc(times * (ul + cl) + ml + 1), *p = s;

	assert_non_null(s);
	for (size_t i = 0; i < times; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, middle, ml);
	p += ml;
	for (size_t i = 0; i < times; i++, p += cl)
		memcpy(p, close, cl);
	*p = '\0';
	return s;
}

static void deep_nesting_is_an_error_not_a_crash(void **state)
{
	char *s;

	(void)state;
	s = repeat("(", 20000, "1", ")");
	expect_parse_error(s, "nested");
	free(s);
	s = repeat("NOT(", 5000, "1", ")");
	expect_parse_error(s, "nested");
	free(s);
	s = repeat("-", 30000, "1", "");
	expect_parse_error(s, "nested");
	free(s);
	s = repeat("1+", 3000, "1", "");
	expect_parse_error(s, "nested");
	free(s);
	/* within the limits, nesting works */
	s = repeat("NOT(", FORMULA_MAX_DEPTH - 1, "1", ")");
	EXPECT(s, "{}", FORMULA_MAX_DEPTH % 2 ? "true" : "false");
	free(s);
	s = repeat("1+", 300, "1", "");
	EXPECT(s, "{}", "301");
	free(s);
}

static void huge_formulas_are_errors(void **state)
{
	size_t n = FORMULA_MAX_LEN + 10;
	char *s = malloc(n + 1);
	char *args;

	(void)state;
	assert_non_null(s);
	s[0] = '\'';
	memset(s + 1, 'a', n - 2);
	s[n - 1] = '\'';
	s[n] = '\0';
	expect_parse_error(s, "longer than");
	free(s);
	/* too many arguments to one call */
	args = repeat("1,", FORMULA_MAX_ARGS + 5, "1", "");
	s = malloc(strlen(args) + 8);
	assert_non_null(s);
	snprintf(s, strlen(args) + 8, "MAX(%s)", args);
	expect_parse_error(s, "arguments");
	free(s);
	free(args);
}

static void huge_intermediate_texts_hit_a_limit(void **state)
{
	const char *grow = "LEN(SUBSTITUTE(SUBSTITUTE(SUBSTITUTE(SUBSTITUTE(SUBSTITUTE("
			   "'aaaaaaaaaaaaaaaaaaaa','a','aaaaaaaaaaaaaaaaaaaa'),'a','aaaaaaaaaaaaaaaaaaaa'),"
			   "'a','aaaaaaaaaaaaaaaaaaaa'),'a','aaaaaaaaaaaaaaaaaaaa'),'a','aaaaaaaaaaaaaaaaaaaa'))";
	serr e = {{0}};
	struct formula *f = formula_parse(grow, field_types, &e);
	struct formula_record r;
	json_t *fields = json_object();
	int out = 1;

	(void)state;
	assert_non_null(f);
	record_for(&r, fields);
	assert_int_equal(formula_eval_bool(f, &r, &out, &e), -1);
	assert_int_equal(out, 0);
	assert_non_null(strstr(e.msg, "longer than"));
	assert_non_null(strstr(e.msg, "recTEST0000000001"));
	formula_free(f);
	json_decref(fields);
}

static void field_types_null_accepts_any_field(void **state)
{
	serr e = {{0}};
	struct formula *f = formula_parse("{Anything}='x'", NULL, &e);
	struct formula_record r;
	json_t *fields = json_pack("{s:s}", "Anything", "x");
	int out = 0;

	(void)state;
	assert_non_null(f);
	record_for(&r, fields);
	r.field_types = NULL;
	assert_int_equal(formula_eval_bool(f, &r, &out, &e), 0);
	assert_int_equal(out, 1);
	formula_free(f);
	json_decref(fields);
}

/* Deterministic generator so a failure reproduces. */
static uint64_t fuzz_state = 0x9E3779B97F4A7C15u;

static uint32_t fuzz_next(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 7;
	fuzz_state ^= fuzz_state << 17;
	return (uint32_t)(fuzz_state >> 11);
}

static void random_input_never_crashes_the_parser(void **state)
{
	static const char *const pieces[] = {
		"(", ")", ",", "'", "\"", "\\", "{", "}", "{Name}", "{Tags}", "{Due}", "{Count}",
		"AND(", "OR(", "IF(", "NOT(", "FIND(", "MID(", "SUBSTITUTE(", "DATETIME_PARSE(",
		"DATEADD(", "DATETIME_DIFF(", "IS_SAME(", "LAST_MODIFIED_TIME(", "SWITCH(",
		"ARRAYJOIN(", "VALUE(", "'2024-01-01'", "'x'", "1", "0", "-", "+", "*", "/", "&",
		"=", "!=", "<", ">=", " ", "TRUE()", "BLANK()", "1e308", "'days'", "'M'", "9e15",
	};
	const char *rec = "{\"Name\": \"Ada\", \"Tags\": [\"a\", \"b\"], \"Due\": "
			  "\"2024-03-01T10:00:00.000Z\", \"Count\": 3}";
	json_t *fields = json_loads(rec, 0, NULL);
	struct formula_record r;
	char text[512];
	int parsed = 0;

	(void)state;
	assert_non_null(fields);
	record_for(&r, fields);
	for (int iter = 0; iter < 30000; iter++) {
		size_t len = 0, target = fuzz_next() % 200;
		struct formula *f;
		serr e = {{0}};

		while (len < target) {
			if (fuzz_next() % 3 == 0) {
				text[len++] = (char)(fuzz_next() % 255 + 1);
			} else {
				const char *p = pieces[fuzz_next() % (sizeof(pieces) / sizeof(pieces[0]))];
				size_t pl = strlen(p);

				if (len + pl >= sizeof(text) - 1)
					break;
				memcpy(text + len, p, pl);
				len += pl;
			}
		}
		text[len] = '\0';
		f = formula_parse(text, field_types, &e);
		if (!f) {
			assert_true(e.msg[0] != '\0');
			continue;
		}
		parsed++;
		{
			int out;
			json_t *v = NULL;

			if (formula_eval_bool(f, &r, &out, &e) == 0)
				assert_true(out == 0 || out == 1);
			if (formula_eval_json(f, &r, &v, &e) == 0)
				json_decref(v);
		}
		formula_free(f);
	}
	assert_true(parsed > 100); /* the loop reached the evaluator, not only the parser */
	json_decref(fields);
}

/* Append a random but mostly well-formed expression to b (depth-bounded). */
static void gen_expr(char *b, size_t cap, size_t *len, int depth)
{
	static const char *const leaves[] = {
		"{Name}", "{Tags}", "{Due}", "{Day}", "{Count}", "{Done}", "{CV}", "{Links}",
		"{Status}", "''", "'a'", "'2024-02-29'", "'2024-01-31T23:59:59Z'", "\"x\\'y\"", "0",
		"1", "-1", "2.5", "1e300", "1e-300", "TRUE()", "FALSE()", "BLANK()", "NOW()",
		"TODAY()", "RECORD_ID()", "CREATED_TIME()", "LAST_MODIFIED_TIME()", "'days'", "'M'",
		"'week'", "'DD/MM/YYYY'", "'X'", "'\\n'", "'ü'",
	};
	static const char *const calls[] = {
		"AND", "OR", "XOR", "NOT", "IF", "SWITCH", "ISERROR", "IS_AFTER", "IS_BEFORE",
		"IS_SAME", "DATETIME_PARSE", "DATETIME_DIFF", "DATEADD", "FIND", "SEARCH", "LEN",
		"LOWER", "UPPER", "TRIM", "CONCATENATE", "LEFT", "RIGHT", "MID", "SUBSTITUTE",
		"VALUE", "ARRAYJOIN", "COUNTA", "INT", "ROUND", "ABS", "MAX", "MIN", "T",
	};
	static const char *const ops[] = {"=", "!=", "<", ">", "<=", ">=", "&", "+", "-", "*", "/"};
	const char *piece;
	uint32_t pick = fuzz_next() % 10;

#define PUT(str)                                                                 \
	do {                                                                     \
		const char *s_ = (str);                                          \
		size_t l_ = strlen(s_);                                          \
		if (*len + l_ < cap) {                                           \
			memcpy(b + *len, s_, l_);                                \
			*len += l_;                                              \
		}                                                                \
	} while (0)
	if (depth <= 0 || pick < 3) {
		piece = leaves[fuzz_next() % (sizeof(leaves) / sizeof(leaves[0]))];
		PUT(piece);
	} else if (pick < 7) {
		int nargs = (int)(fuzz_next() % 4) + 1;

		PUT(calls[fuzz_next() % (sizeof(calls) / sizeof(calls[0]))]);
		PUT("(");
		for (int i = 0; i < nargs; i++) {
			if (i)
				PUT(",");
			gen_expr(b, cap, len, depth - 1);
		}
		PUT(")");
	} else if (pick < 9) {
		gen_expr(b, cap, len, depth - 1);
		PUT(ops[fuzz_next() % (sizeof(ops) / sizeof(ops[0]))]);
		gen_expr(b, cap, len, depth - 1);
	} else {
		PUT("-(");
		gen_expr(b, cap, len, depth - 1);
		PUT(")");
	}
#undef PUT
	b[*len] = '\0';
}

static void random_formulas_evaluate_without_crashing(void **state)
{
	const char *rec = "{\"Name\": \"Ada\", \"Tags\": [\"a\", \"b\"], \"Due\": "
			  "\"2024-03-01T10:00:00.000Z\", \"Day\": \"2024-02-29\", \"Count\": 3,"
			  " \"Done\": true, \"Status\": \"Lead\", \"Links\": [\"recA\", \"recB\"],"
			  " \"CV\": [{\"filename\": \"a.pdf\", \"url\": \"http://127.0.0.1/a\"}]}";
	json_t *fields = json_loads(rec, 0, NULL);
	struct formula_record r;
	char text[4096];
	int evaluated = 0;

	(void)state;
	assert_non_null(fields);
	record_for(&r, fields);
	for (int iter = 0; iter < 5000; iter++) {
		size_t len = 0;
		struct formula *f;
		serr e = {{0}};
		int out;
		json_t *v = NULL;

		gen_expr(text, sizeof(text) - 1, &len, 5);
		f = formula_parse(text, field_types, &e);
		if (!f)
			continue;
		if (formula_eval_bool(f, &r, &out, &e) == 0) {
			assert_true(out == 0 || out == 1);
			evaluated++;
		}
		if (formula_eval_json(f, &r, &v, &e) == 0)
			json_decref(v);
		formula_free(f);
	}
	assert_true(evaluated > 1000);
	json_decref(fields);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(operators_follow_precedence),
		cmocka_unit_test(string_literals_take_backslash_escapes),
		cmocka_unit_test(blank_reads_as_empty_text_zero_and_false),
		cmocka_unit_test(checkbox_true_reads_as_one),
		cmocka_unit_test(arrays_read_as_items_joined_with_comma),
		cmocka_unit_test(attachments_are_truthy_and_read_as_name_and_url),
		cmocka_unit_test(dates_compare_as_datetimes),
		cmocka_unit_test(datetime_parse_reads_iso_and_formats),
		cmocka_unit_test(datetime_diff_and_dateadd_follow_calendar_units),
		cmocka_unit_test(now_and_today_use_the_record_clock),
		cmocka_unit_test(record_id_and_created_time_come_from_the_record),
		cmocka_unit_test(last_modified_time_with_and_without_fields),
		cmocka_unit_test(last_modified_time_without_a_clock_is_the_creation_time),
		cmocka_unit_test(text_functions_count_characters_not_bytes),
		cmocka_unit_test(numeric_functions_round_as_documented),
		cmocka_unit_test(logical_functions_and_error_values),
		cmocka_unit_test(error_values_never_match),
		cmocka_unit_test(bare_names_and_lowercase_functions_work),
		cmocka_unit_test(unknown_functions_and_fields_are_errors_naming_them),
		cmocka_unit_test(malformed_formulas_are_errors),
		cmocka_unit_test(deep_nesting_is_an_error_not_a_crash),
		cmocka_unit_test(huge_formulas_are_errors),
		cmocka_unit_test(huge_intermediate_texts_hit_a_limit),
		cmocka_unit_test(field_types_null_accepts_any_field),
		cmocka_unit_test(random_input_never_crashes_the_parser),
		cmocka_unit_test(random_formulas_evaluate_without_crashing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
