/* Unit tests of the Airtable client without a server: set-up checks, list URL and body building, value helpers, field-key mapping, write validation, transport errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "airtable/airtable.h"
#include "config/config.h"
#include "core/http.h"

#define KEY "patSecretKey0123456789.abcdef"

static void test_config(struct config *c, const char *api_url)
{
	serr e;

	assert_int_equal(config_init(c, &e), 0);
	assert_int_equal(config_set(c, "airtable.api_key", KEY, &e), 0);
	assert_int_equal(config_set(c, "airtable.base_id", "appTEST0123456789", &e), 0);
	assert_int_equal(config_set(c, "airtable.api_url", api_url, &e), 0);
	assert_int_equal(config_set(c, "home", "", &e), 0); /* pacing local to the process */
	assert_int_equal(config_set(c, "airtable.requests_per_second", "1000", &e), 0);
	assert_int_equal(config_set(c, "airtable.backoff_ms", "1", &e), 0);
}

static void init_fails_clearly_without_api_key_or_base_id(void **state)
{
	struct config c;
	struct airtable at;
	serr e;

	(void)state;
	test_config(&c, "https://api.airtable.com");
	assert_int_equal(config_set(&c, "airtable.api_key", "", &e), 0);
	assert_int_equal(airtable_init(&at, &c, &e), -1);
	assert_non_null(strstr(e.msg, "AIRTABLE_API_KEY"));
	assert_int_equal(config_set(&c, "airtable.api_key", KEY, &e), 0);
	assert_int_equal(config_set(&c, "airtable.base_id", "", &e), 0);
	assert_int_equal(airtable_init(&at, &c, &e), -1);
	assert_non_null(strstr(e.msg, "AIRTABLE_BASE_ID"));
	assert_int_equal(config_set(&c, "airtable.base_id", "app/../x", &e), 0);
	assert_int_equal(airtable_init(&at, &c, &e), -1);
	assert_non_null(strstr(e.msg, "not an Airtable id"));
	assert_int_equal(config_set(&c, "airtable.base_id", "appTEST0123456789", &e), 0);
	assert_int_equal(config_set(&c, "airtable.api_url", "ftp://x", &e), 0);
	assert_int_equal(airtable_init(&at, &c, &e), -1);
	assert_non_null(strstr(e.msg, "AIRTABLE_API_URL"));
	assert_null(strstr(e.msg, KEY));
	config_free(&c);
}

static void list_url_encodes_formula_fields_sort_and_offset(void **state)
{
	struct config c;
	struct airtable at;
	struct buf url;
	serr e;
	const char *fields[] = { "Full Name", "(N) Skills", NULL };
	struct airtable_query q = { .formula = "{Mail}='a&b'", .fields = fields,
				    .sort_field = "Full Name", .sort_desc = 1, .view = "Grid view",
				    .max_records = 250 };

	(void)state;
	test_config(&c, "http://127.0.0.1:9/");
	assert_int_equal(airtable_init(&at, &c, &e), 0);
	buf_init(&url, 0);
	assert_int_equal(airtable_list_url(&at, "Talent Table", &q, "itrX/recY", &url, &e), 0);
	assert_string_equal(buf_cstr(&url),
			    "http://127.0.0.1:9/v0/appTEST0123456789/Talent%20Table"
			    "?pageSize=100&maxRecords=250&offset=itrX%2FrecY"
			    "&filterByFormula=%7BMail%7D%3D%27a%26b%27"
			    "&fields%5B%5D=Full%20Name&fields%5B%5D=%28N%29%20Skills"
			    "&sort%5B0%5D%5Bfield%5D=Full%20Name&sort%5B0%5D%5Bdirection%5D=desc"
			    "&view=Grid%20view");
	buf_reset(&url);
	assert_int_equal(airtable_list_url(&at, "tblX", NULL, NULL, &url, &e), 0);
	assert_string_equal(buf_cstr(&url), "http://127.0.0.1:9/v0/appTEST0123456789/tblX?pageSize=100");
	buf_free(&url);
	airtable_free(&at);
	config_free(&c);
}

static void list_body_carries_the_same_options_as_the_url(void **state)
{
	const char *fields[] = { "Full Name", NULL };
	struct airtable_query q = { .formula = "{A}='x'", .fields = fields, .sort_field = "A",
				    .page_size = 50 };
	json_t *body, *want;
	serr e;

	(void)state;
	body = airtable_list_body(&q, "itr1", &e);
	assert_non_null(body);
	want = json_pack("{s:i, s:s, s:s, s:[s], s:[{s:s, s:s}]}", "pageSize", 50, "offset", "itr1",
			 "filterByFormula", "{A}='x'", "fields", "Full Name", "sort", "field", "A",
			 "direction", "asc");
	assert_true(json_equal(body, want));
	json_decref(want);
	json_decref(body);
}

static void bad_queries_are_refused_before_any_request(void **state)
{
	const char *fields[] = { "Ok", "", NULL };
	struct airtable_query q = { .page_size = 101 };
	serr e;

	(void)state;
	assert_null(airtable_list_body(&q, NULL, &e));
	assert_non_null(strstr(e.msg, "page size 101"));
	q.page_size = 0;
	q.fields = fields;
	assert_null(airtable_list_body(&q, NULL, &e));
	assert_non_null(strstr(e.msg, "empty name"));
}

static void value_helpers_read_absent_keys_as_empty(void **state)
{
	json_t *f = json_pack("{s:s, s:b, s:i, s:f, s:[s,s], s:[{s:s, s:s, s:s, s:s, s:i}], s:i}",
			      "Name", "Ada", "Checked", 1, "Rank", 4, "Score", 2.5, "Links", "recA",
			      "recB", "CV", "id", "att1", "url", "http://x/cv.pdf", "filename",
			      "cv.pdf", "type", "application/pdf", "size", 1234, "NotText", 7);
	struct airtable_attachment a;
	double d;

	(void)state;
	assert_string_equal(airtable_str(f, "Name"), "Ada");
	assert_string_equal(airtable_str(f, "Missing"), "");
	assert_string_equal(airtable_str(f, "NotText"), "");
	assert_string_equal(airtable_str(NULL, "Name"), "");
	assert_int_equal(airtable_bool(f, "Checked"), 1);
	assert_int_equal(airtable_bool(f, "Missing"), 0);
	assert_int_equal(airtable_bool(f, "Name"), 0);
	assert_int_equal(airtable_number(f, "Rank", &d), 0);
	assert_true(d == 4.0);
	assert_int_equal(airtable_number(f, "Score", &d), 0);
	assert_true(d == 2.5);
	assert_int_equal(airtable_number(f, "Missing", &d), -1);
	assert_true(d == 0.0);
	assert_int_equal(airtable_number(f, "Name", &d), -1);
	assert_int_equal(airtable_strings_len(f, "Links"), 2);
	assert_string_equal(airtable_strings_at(f, "Links", 1), "recB");
	assert_string_equal(airtable_strings_at(f, "Links", 2), "");
	assert_int_equal(airtable_strings_len(f, "Missing"), 0);
	assert_int_equal(airtable_strings_has(f, "Links", "recA"), 1);
	assert_int_equal(airtable_strings_has(f, "Links", "recC"), 0);
	assert_int_equal(airtable_attachments_len(f, "CV"), 1);
	assert_int_equal(airtable_attachment_at(f, "CV", 0, &a), 0);
	assert_string_equal(a.id, "att1");
	assert_string_equal(a.url, "http://x/cv.pdf");
	assert_string_equal(a.filename, "cv.pdf");
	assert_string_equal(a.type, "application/pdf");
	assert_true(a.size == 1234.0);
	assert_int_equal(airtable_attachment_at(f, "CV", 1, &a), -1);
	assert_string_equal(a.url, "");
	assert_int_equal(airtable_attachment_at(f, "Links", 0, &a), -1);
	json_decref(f);
}

static void field_names_map_back_to_their_config_key_per_table(void **state)
{
	struct config c;
	serr e;

	(void)state;
	assert_int_equal(config_init(&c, &e), 0);
	assert_string_equal(airtable_field_key(&c, c.talent_table, "CV"), "field.talent.cv");
	assert_string_equal(airtable_field_key(&c, c.talent_table, "Full Name"),
			    "field.talent.full_name");
	assert_string_equal(airtable_field_key(&c, c.jobs_table, "Full Name"), "field.jobs.full_name");
	assert_string_equal(airtable_field_key(&c, c.ats_table, "Job"), "field.ats.job");
	assert_null(airtable_field_key(&c, c.talent_table, "Job"));
	assert_null(airtable_field_key(&c, c.talent_table, "No Such Field"));
	/* the (N) columns are mapped too, per table */
	assert_string_equal(airtable_field_key(&c, c.talent_table, "(N) Location"),
			    "field.talent_n.location");
	assert_string_equal(airtable_field_key(&c, c.jobs_table, "(N) Location"),
			    "field.job_n.location");
	assert_null(airtable_field_key(&c, c.talent_table, "(N) Must Have Skills"));
	/* an unknown table searches every field.* key */
	assert_string_equal(airtable_field_key(&c, "tblOther", "Hiring Job Title"), "field.jobs.title");
	assert_int_equal(config_set(&c, "field.talent.cv", "Resume", &e), 0);
	assert_string_equal(airtable_field_key(&c, c.talent_table, "Resume"), "field.talent.cv");
	config_free(&c);
}

static void invalid_write_records_are_refused_before_any_request(void **state)
{
	struct config c;
	struct airtable at;
	json_t *recs, *out = NULL;
	const char *merge[] = { "Mail", NULL };
	const char *too_many[] = { "a", "b", "c", "d", NULL };
	serr e;

	(void)state;
	test_config(&c, "http://127.0.0.1:1");
	assert_int_equal(airtable_init(&at, &c, &e), 0);
	recs = json_pack("[{s:{s:s}}]", "fields", "Full Name", "Ada");
	assert_int_equal(airtable_update(&at, "tblX", recs, 0, &out, &e), -1);
	assert_non_null(strstr(e.msg, "record 1 has no 'id'"));
	json_decref(out);
	assert_int_equal(airtable_upsert(&at, "tblX", recs, merge, 0, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "merge field 'Mail'"));
	assert_int_equal(airtable_upsert(&at, "tblX", recs, too_many, 0, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "1 to 3"));
	json_decref(recs);
	recs = json_pack("[{s:s}]", "id", "recA");
	assert_int_equal(airtable_create(&at, "tblX", recs, 0, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "no 'fields' object"));
	json_decref(recs);
	assert_int_equal(at.stats.requests, 0);
	airtable_free(&at);
	config_free(&c);
}

static int ignore_record(void *ud, const json_t *record, serr *e)
{
	(void)ud;
	(void)record;
	(void)e;
	return 0;
}

static void connection_errors_are_retried_and_never_show_the_key(void **state)
{
	struct config c;
	struct airtable at;
	json_t *recs;
	serr e;

	(void)state;
	/* nothing listens on port 1 of the loopback: connection refused */
	test_config(&c, "http://127.0.0.1:1");
	assert_int_equal(config_set(&c, "airtable.max_retries", "2", &e), 0);
	assert_int_equal(airtable_init(&at, &c, &e), 0);
	assert_int_equal(airtable_list(&at, "tblX", NULL, ignore_record, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "cannot list 'tblX'"));
	assert_non_null(strstr(e.msg, "gave up after 2 retries"));
	assert_null(strstr(e.msg, KEY));
	assert_int_equal(at.stats.requests, 3);
	assert_int_equal(at.stats.retries, 2);
	assert_int_equal(at.stats.transport_errors, 3);
	/* a create that may have reached the server is not sent again */
	recs = json_pack("[{s:{s:s}}]", "fields", "Full Name", "Ada");
	assert_int_equal(airtable_create(&at, "tblX", recs, 0, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "not sent again"));
	assert_null(strstr(e.msg, KEY));
	assert_int_equal(at.stats.requests, 4);
	json_decref(recs);
	airtable_free(&at);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_fails_clearly_without_api_key_or_base_id),
		cmocka_unit_test(list_url_encodes_formula_fields_sort_and_offset),
		cmocka_unit_test(list_body_carries_the_same_options_as_the_url),
		cmocka_unit_test(bad_queries_are_refused_before_any_request),
		cmocka_unit_test(value_helpers_read_absent_keys_as_empty),
		cmocka_unit_test(field_names_map_back_to_their_config_key_per_table),
		cmocka_unit_test(invalid_write_records_are_refused_before_any_request),
		cmocka_unit_test(connection_errors_are_retried_and_never_show_the_key),
	};
	serr e;

	if (http_global_init(&e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
