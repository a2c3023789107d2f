/* The Airtable side of the simulator over HTTP: paging, offsets, options, writes, validation, links, auth, limits on URLs and bodies, attachments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/http.h"
#include "core/util.h"
#include "support/harness_sim.h"

#define B "/v0/" HARNESS_SIM_BASE
#define NUMBERED "tblNumbered000001"

static struct sim *sim;

static int setup(void **state)
{
	struct harness_sim_opts o;
	json_t *base, *tables;
	serr e;

	(void)state;
	harness_sim_opts_init(&o);
	o.airtable_rate = 10000; /* these tests are not about the limiter */
	sim = harness_sim_start(&o);
	if (!sim)
		return -1;
	/* the small base plus a table of 250 numbered records */
	base = harness_sim_small_base();
	tables = json_object_get(base, "tables");
	json_array_append_new(tables, harness_sim_numbered_table(NUMBERED, "Numbered", 250));
	if (sim_load_base(sim, base, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		json_decref(base);
		return -1;
	}
	json_decref(base);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_sim_stop(sim);
	sim = NULL;
	return 0;
}

/* GET/POST/... and the status; the reply is kept for the caller. */
static long call(const char *method, const char *path, const char *body, struct harness_sim_reply *r)
{
	assert_int_equal(harness_sim_airtable(sim, method, path, body, r), 0);
	return r->status;
}

static void expect_error(const char *method, const char *path, const char *body, long status,
			 const char *type, const char *in_message)
{
	struct harness_sim_reply r;

	assert_int_equal(call(method, path, body, &r), status);
	assert_non_null(harness_sim_error_type(&r));
	assert_string_equal(harness_sim_error_type(&r), type);
	if (in_message) {
		const char *msg = json_string_value(json_object_get(json_object_get(r.json, "error"), "message"));
		assert_non_null(msg);
		if (!strstr(msg, in_message))
			fail_msg("message '%s' does not name '%s'", msg, in_message);
	}
	harness_sim_reply_free(&r);
}

static json_t *get_json(const char *path)
{
	struct harness_sim_reply r;
	json_t *j;

	if (call("GET", path, NULL, &r) != 200)
		fail_msg("GET %s: %ld %s", path, r.status, r.body ? r.body : "");
	j = json_incref(r.json);
	harness_sim_reply_free(&r);
	return j;
}

static json_t *send_json(const char *method, const char *path, json_t *body /* stolen */)
{
	struct harness_sim_reply r;
	char *s = json_dumps(body, JSON_COMPACT);
	json_t *j;

	json_decref(body);
	if (call(method, path, s, &r) != 200)
		fail_msg("%s %s: %ld %s", method, path, r.status, r.body ? r.body : "");
	free(s);
	j = json_incref(r.json);
	harness_sim_reply_free(&r);
	return j;
}

static json_t *record_fields(const char *table, const char *id)
{
	char path[256];
	json_t *rec, *f;

	snprintf(path, sizeof(path), B "/%s/%s", table, id);
	rec = get_json(path);
	f = json_incref(json_object_get(rec, "fields"));
	json_decref(rec);
	return f;
}

static int array_has(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

static void records_of_a_250_record_table_come_in_pages_of_100_100_50(void **state)
{
	struct buf path;
	const char *offset = NULL;
	json_t *seen = json_object(), *page = NULL;
	size_t sizes[3], n = 0;

	(void)state;
	buf_init(&path, 4096);
	do {
		buf_reset(&path);
		assert_int_equal(buf_printf(&path, B "/Numbered"), 0);
		if (offset)
			assert_int_equal(buf_printf(&path, "?offset=%s", offset), 0);
		json_decref(page);
		page = get_json(path.data);
		json_t *recs = json_object_get(page, "records"), *r;
		size_t i;
		assert_true(n < 3);
		sizes[n++] = json_array_size(recs);
		json_array_foreach(recs, i, r) {
			/* creation order: Number counts up across pages */
			assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "fields"),
									    "Number")),
					 (json_int_t)json_object_size(seen));
			assert_null(json_object_get(seen, json_string_value(json_object_get(r, "id"))));
			json_object_set_new(seen, json_string_value(json_object_get(r, "id")), json_true());
		}
		offset = json_string_value(json_object_get(page, "offset"));
	} while (offset);
	assert_int_equal(n, 3);
	assert_int_equal(sizes[0], 100);
	assert_int_equal(sizes[1], 100);
	assert_int_equal(sizes[2], 50);
	assert_int_equal(json_object_size(seen), 250);
	json_decref(page);
	json_decref(seen);
	buf_free(&path);
}

static void page_size_and_max_records_bound_the_listing(void **state)
{
	json_t *p1 = get_json(B "/Numbered?pageSize=30&maxRecords=45"), *p2;
	char path[256];

	(void)state;
	assert_int_equal(json_array_size(json_object_get(p1, "records")), 30);
	snprintf(path, sizeof(path), B "/Numbered?pageSize=30&maxRecords=45&offset=%s",
		 json_string_value(json_object_get(p1, "offset")));
	p2 = get_json(path);
	assert_int_equal(json_array_size(json_object_get(p2, "records")), 15);
	assert_null(json_object_get(p2, "offset"));
	json_decref(p1);
	json_decref(p2);
	expect_error("GET", B "/Numbered?pageSize=101", NULL, 422, "INVALID_REQUEST_UNKNOWN", NULL);
	expect_error("GET", B "/Numbered?pageSize=ten", NULL, 422, "INVALID_REQUEST_UNKNOWN", NULL);
	expect_error("GET", B "/Numbered?colour=blue", NULL, 422, "INVALID_REQUEST_UNKNOWN", "colour");
}

static void an_expired_offset_gives_list_records_iterator_not_available(void **state)
{
	json_t *p1 = get_json(B "/Numbered"), *cfg;
	char path[256];
	serr e;

	(void)state;
	cfg = json_pack("{s:i}", "offset_ttl_ms", 1);
	assert_int_equal(sim_configure(sim, cfg, &e), 0);
	json_decref(cfg);
	sleep_ms(50);
	snprintf(path, sizeof(path), B "/Numbered?offset=%s",
		 json_string_value(json_object_get(p1, "offset")));
	expect_error("GET", path, NULL, 422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE", NULL);
	cfg = json_pack("{s:i}", "offset_ttl_ms", 300000);
	assert_int_equal(sim_configure(sim, cfg, &e), 0);
	json_decref(cfg);
	json_decref(p1);
}

static void an_offset_is_only_good_for_its_own_listing(void **state)
{
	json_t *p1 = get_json(B "/Numbered?pageSize=10");
	const char *off = json_string_value(json_object_get(p1, "offset"));
	char path[512];

	(void)state;
	/* the same offset twice is fine: a retried page */
	snprintf(path, sizeof(path), B "/Numbered?pageSize=10&offset=%s", off);
	json_decref(get_json(path));
	json_decref(get_json(path));
	snprintf(path, sizeof(path), B "/Talent?offset=%s", off);
	expect_error("GET", path, NULL, 422, "INVALID_OFFSET_VALUE", NULL);
	snprintf(path, sizeof(path), B "/Numbered?filterByFormula=%%7BNumber%%7D%%3E3&offset=%s", off);
	expect_error("GET", path, NULL, 422, "INVALID_OFFSET_VALUE", NULL);
	expect_error("GET", B "/Numbered?offset=garbage", NULL, 422, "INVALID_OFFSET_VALUE", NULL);
	json_decref(p1);
}

static void post_list_records_takes_the_options_in_the_body(void **state)
{
	json_t *body = json_pack("{s:i, s:[s], s:s, s:[{s:s, s:s}]}", "pageSize", 5, "fields", "Name",
				 "filterByFormula", "{Number} >= 240", "sort", "field", "Number",
				 "direction", "desc");
	json_t *page = send_json("POST", B "/Numbered/listRecords", body), *r;
	json_t *recs = json_object_get(page, "records");
	size_t i;

	(void)state;
	assert_int_equal(json_array_size(recs), 5);
	json_array_foreach(recs, i, r) {
		json_t *f = json_object_get(r, "fields");
		char want[32];
		snprintf(want, sizeof(want), "Person %04d", 249 - (int)i);
		assert_string_equal(json_string_value(json_object_get(f, "Name")), want);
		assert_null(json_object_get(f, "Number"));
	}
	assert_non_null(json_object_get(page, "offset"));
	json_decref(page);
	expect_error("POST", B "/Numbered/listRecords", "{\"pageSzie\": 5}", 422,
		     "INVALID_REQUEST_UNKNOWN", "pageSzie");
}

static void fields_limit_the_answer_and_an_unknown_field_is_named(void **state)
{
	json_t *page = get_json(B "/Talent?fields%5B%5D=Full%20Name&fields%5B%5D=Skills");
	json_t *f = json_object_get(json_array_get(json_object_get(page, "records"), 0), "fields");

	(void)state;
	assert_int_equal(json_object_size(f), 2);
	assert_string_equal(json_string_value(json_object_get(f, "Full Name")), "Ada Lovelace");
	json_decref(page);
	expect_error("GET", B "/Talent?fields%5B%5D=Favourite%20Colour", NULL, 422, "UNKNOWN_FIELD_NAME",
		     "Favourite Colour");
}

static void returned_fields_can_be_keyed_by_field_id(void **state)
{
	json_t *meta = get_json("/v0/meta/bases/" HARNESS_SIM_BASE "/tables");
	json_t *talent = json_array_get(json_object_get(meta, "tables"), 0);
	const char *fid = json_string_value(json_object_get(json_array_get(json_object_get(talent, "fields"), 0), "id"));
	json_t *page = get_json(B "/Talent?returnFieldsByFieldId=true&maxRecords=1");
	json_t *f = json_object_get(json_array_get(json_object_get(page, "records"), 0), "fields");

	(void)state;
	assert_non_null(fid);
	assert_true(str_starts_with(fid, "fld"));
	assert_string_equal(json_string_value(json_object_get(f, fid)), "Ada Lovelace");
	json_decref(page);
	json_decref(meta);
}

static void empty_values_are_left_out_of_fields(void **state)
{
	json_t *body = json_pack("{s:[{s:{s:s, s:s, s:b, s:[], s:n, s:s}}]}", "records", "fields",
				 "Full Name", "Empty Person", "Mail", "", "Highlight Talent", 0,
				 "Skills", "Location", "Professional Summary", "");
	json_t *res = send_json("POST", B "/Talent", body), *f;
	char path[256];

	(void)state;
	f = json_object_get(json_array_get(json_object_get(res, "records"), 0), "fields");
	assert_string_equal(json_string_value(json_object_get(f, "Full Name")), "Empty Person");
	assert_null(json_object_get(f, "Mail"));
	assert_null(json_object_get(f, "Highlight Talent"));
	assert_null(json_object_get(f, "Skills"));
	assert_null(json_object_get(f, "Location"));
	assert_null(json_object_get(f, "Professional Summary"));
	snprintf(path, sizeof(path), B "/Talent/%s",
		 json_string_value(json_object_get(json_array_get(json_object_get(res, "records"), 0), "id")));
	json_decref(send_json("DELETE", path, json_object()));
	json_decref(res);
	/* clearing a value removes its key */
	f = record_fields("Talent", HARNESS_GRACE);
	assert_non_null(json_object_get(f, "Location"));
	json_decref(f);
	json_decref(send_json("PATCH", B "/Talent",
			      json_pack("{s:[{s:s, s:{s:s}}]}", "records", "id", HARNESS_GRACE,
					"fields", "Location", "")));
	f = record_fields("Talent", HARNESS_GRACE);
	assert_null(json_object_get(f, "Location"));
	json_decref(f);
}

static void sort_orders_records_and_ties_keep_creation_order(void **state)
{
	json_t *page = get_json(B "/Talent?sort%5B0%5D%5Bfield%5D=Job%20Status&sort%5B0%5D%5Bdirection%5D=desc");
	json_t *recs = json_object_get(page, "records");

	(void)state;
	/* desc: Lead, Fraud, Actively looking */
	assert_int_equal(json_array_size(recs), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 0), "id")), HARNESS_GRACE);
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 1), "id")), HARNESS_LINUS);
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 2), "id")), HARNESS_ADA);
	json_decref(page);
	expect_error("GET", B "/Talent?sort%5B0%5D%5Bfield%5D=Height", NULL, 422, "UNKNOWN_FIELD_NAME",
		     "Height");
}

static void filter_by_formula_selects_records_and_a_bad_formula_is_refused(void **state)
{
	json_t *page = get_json(B "/Talent?filterByFormula=%7BJob%20Status%7D%3D'Fraud'");
	json_t *recs = json_object_get(page, "records");

	(void)state;
	assert_int_equal(json_array_size(recs), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 0), "id")), HARNESS_LINUS);
	json_decref(page);
	/* linked records are seen through their primary field, as in Airtable */
	page = get_json("/v0/" HARNESS_SIM_BASE "/ATS?filterByFormula=FIND('Ada%20Lovelace'%2CARRAYJOIN(%7BPotential%20Talent%20Fit%20AI%7D))");
	assert_int_equal(json_array_size(json_object_get(page, "records")), 1);
	json_decref(page);
	expect_error("GET", B "/Talent?filterByFormula=SOMETHING(%7BJob%20Status%7D)", NULL, 422,
		     "INVALID_FILTER_BY_FORMULA", NULL);
	expect_error("GET", B "/Talent?filterByFormula=%7BNo%20Such%20Field%7D%3D1", NULL, 422,
		     "INVALID_FILTER_BY_FORMULA", NULL);
}

static json_t *eleven(int with_ids)
{
	json_t *recs = json_array();

	for (int i = 0; i < 11; i++)
		json_array_append_new(recs, with_ids ? json_pack("{s:s, s:{s:s}}", "id", HARNESS_ADA,
								 "fields", "Location", "X")
						     : json_pack("{s:{s:s}}", "fields", "Full Name", "X"));
	return recs;
}

static size_t talent_count(void)
{
	json_t *page = get_json(B "/Talent");
	size_t n = json_array_size(json_object_get(page, "records"));

	json_decref(page);
	return n;
}

static void writes_of_eleven_records_are_refused_whole(void **state)
{
	size_t before = talent_count();
	json_t *cj = json_pack("{s:o}", "records", eleven(0)), *uj = json_pack("{s:o}", "records", eleven(1));
	char *create = json_dumps(cj, JSON_COMPACT), *update = json_dumps(uj, JSON_COMPACT);
	struct buf del;

	(void)state;
	json_decref(cj);
	json_decref(uj);
	expect_error("POST", B "/Talent", create, 422, "INVALID_RECORDS", "up to 10");
	expect_error("PATCH", B "/Talent", update, 422, "INVALID_RECORDS", "up to 10");
	expect_error("PUT", B "/Talent", update, 422, "INVALID_RECORDS", "up to 10");
	buf_init(&del, 4096);
	assert_int_equal(buf_puts(&del, B "/Talent?"), 0);
	for (int i = 0; i < 11; i++)
		assert_int_equal(buf_printf(&del, "%srecords%%5B%%5D=%s", i ? "&" : "", HARNESS_LINUS), 0);
	expect_error("DELETE", del.data, NULL, 422, "INVALID_RECORDS", "up to 10");
	assert_int_equal(talent_count(), before);
	buf_free(&del);
	free(create);
	free(update);
}

static void unknown_fields_and_wrong_types_are_refused(void **state)
{
	(void)state;
	expect_error("POST", B "/Talent", "{\"records\":[{\"fields\":{\"Shoe Size\":42}}]}", 422,
		     "UNKNOWN_FIELD_NAME", "Shoe Size");
	expect_error("POST", B "/Talent", "{\"records\":[{\"fields\":{\"Ranking\":\"five\"}}]}", 422,
		     "INVALID_VALUE_FOR_COLUMN", "Ranking");
	expect_error("POST", B "/Talent", "{\"records\":[{\"fields\":{\"Ranking\":9}}]}", 422,
		     "INVALID_VALUE_FOR_COLUMN", "Ranking");
	expect_error("POST", B "/Talent", "{\"records\":[{\"fields\":{\"Highlight Talent\":\"yes\"}}]}",
		     422, "INVALID_VALUE_FOR_COLUMN", "Highlight Talent");
	expect_error("POST", B "/Talent", "{\"records\":[{\"fields\":{\"Last Modified\":\"2026-01-01\"}}]}",
		     422, "INVALID_VALUE_FOR_COLUMN", "computed");
	expect_error("POST", B "/Talent", "{\"records\":[{\"fields\":{\"Full Name\":\"X\"},\"id\":\"recX\"}]}",
		     422, "INVALID_RECORDS", NULL);
	expect_error("POST", B "/Talent", "{\"records\":[{\"fields\":{\"Full Name\":\"X\"}}],\"typecats\":true}",
		     422, "INVALID_REQUEST_UNKNOWN", "typecats");
	expect_error("POST", B "/Talent", "{\"records\":[", 400, "INVALID_REQUEST_BODY", NULL);
}

static void an_unknown_select_option_is_refused_unless_typecast_creates_it(void **state)
{
	json_t *res, *meta, *choices, *c;
	size_t i;
	int found = 0;

	(void)state;
	expect_error("PATCH", B "/Talent",
		     "{\"records\":[{\"id\":\"" HARNESS_ADA "\",\"fields\":{\"Skills\":[\"Rust\",\"Haskell\"]}}]}",
		     422, "INVALID_MULTIPLE_CHOICE_OPTIONS", "Haskell");
	res = send_json("PATCH", B "/Talent",
			json_pack("{s:b, s:[{s:s, s:{s:[s,s]}}]}", "typecast", 1, "records", "id",
				  HARNESS_ADA, "fields", "Skills", "Rust", "Haskell"));
	assert_true(array_has(json_object_get(json_object_get(json_array_get(json_object_get(res, "records"), 0), "fields"), "Skills"), "Haskell"));
	json_decref(res);
	meta = get_json("/v0/meta/bases/" HARNESS_SIM_BASE "/tables");
	choices = json_object_get(json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(meta, "tables"), 0), "fields"), 5), "options"), "choices");
	json_array_foreach(choices, i, c)
		if (strcmp(json_string_value(json_object_get(c, "name")), "Haskell") == 0)
			found = 1;
	assert_true(found);
	json_decref(meta);
	/* typecast also converts values: a string to a checkbox and a number */
	json_decref(send_json("PATCH", B "/Talent",
			      json_pack("{s:b, s:[{s:s, s:{s:s, s:s}}]}", "typecast", 1, "records", "id",
					HARNESS_GRACE, "fields", "Highlight Talent", "true",
					"(N) Years Of Experience", "7.5")));
	res = record_fields("Talent", HARNESS_GRACE);
	assert_true(json_is_true(json_object_get(res, "Highlight Talent")));
	assert_true(json_real_value(json_object_get(res, "(N) Years Of Experience")) == 7.5);
	json_decref(res);
}

static void linked_records_must_exist_and_the_inverse_side_follows(void **state)
{
	json_t *f;

	(void)state;
	expect_error("PATCH", "/v0/" HARNESS_SIM_BASE "/ATS",
		     "{\"records\":[{\"id\":\"" HARNESS_ATS_RUST "\",\"fields\":{\"Potential Talent Fit AI\":[\"recDoesNotExist01\"]}}]}",
		     422, "ROW_DOES_NOT_EXIST", "recDoesNotExist01");
	expect_error("PATCH", "/v0/" HARNESS_SIM_BASE "/ATS",
		     "{\"records\":[{\"id\":\"" HARNESS_ATS_RUST "\",\"fields\":{\"Potential Talent Fit AI\":[\"Ada\"]}}]}",
		     422, "INVALID_RECORD_ID", "Ada");
	/* a job's record id is not a Talent record */
	expect_error("PATCH", "/v0/" HARNESS_SIM_BASE "/ATS",
		     "{\"records\":[{\"id\":\"" HARNESS_ATS_RUST "\",\"fields\":{\"Potential Talent Fit AI\":[\"" HARNESS_JOB_RUST "\"]}}]}",
		     422, "ROW_DOES_NOT_EXIST", NULL);
	/* the loaded base already holds both sides */
	f = record_fields("Talent", HARNESS_ADA);
	assert_true(array_has(json_object_get(f, "Job Match"), HARNESS_ATS_RUST));
	json_decref(f);
	/* adding Linus on the ATS side shows up on Linus; taking Ada off removes it from Ada */
	json_decref(send_json("PATCH", "/v0/" HARNESS_SIM_BASE "/ATS",
			      json_pack("{s:[{s:s, s:{s:[s,s]}}]}", "records", "id", HARNESS_ATS_RUST,
					"fields", "Potential Talent Fit AI", HARNESS_GRACE, HARNESS_LINUS)));
	f = record_fields("Talent", HARNESS_LINUS);
	assert_true(array_has(json_object_get(f, "Job Match"), HARNESS_ATS_RUST));
	json_decref(f);
	f = record_fields("Talent", HARNESS_ADA);
	assert_null(json_object_get(f, "Job Match"));
	json_decref(f);
	/* writing the Talent side updates the ATS side */
	json_decref(send_json("PATCH", B "/Talent",
			      json_pack("{s:[{s:s, s:{s:[s]}}]}", "records", "id", HARNESS_ADA, "fields",
					"AI Rejected In", HARNESS_ATS_RUST)));
	f = record_fields("ATS", HARNESS_ATS_RUST);
	assert_true(array_has(json_object_get(f, "Recruiter AI Result Rejection"), HARNESS_ADA));
	json_decref(f);
}

static void deleting_a_record_removes_it_from_links_pointing_at_it(void **state)
{
	json_t *res, *f;

	(void)state;
	res = send_json("POST", B "/Talent",
			json_pack("{s:[{s:{s:s, s:[s]}}]}", "records", "fields", "Full Name", "Short Lived",
				  "Job Match", HARNESS_ATS_RUST));
	const char *id = json_string_value(json_object_get(json_array_get(json_object_get(res, "records"), 0), "id"));
	char path[256];
	f = record_fields("ATS", HARNESS_ATS_RUST);
	assert_true(array_has(json_object_get(f, "Potential Talent Fit AI"), id));
	json_decref(f);
	snprintf(path, sizeof(path), B "/Talent?records%%5B%%5D=%s", id);
	json_decref(send_json("DELETE", path, json_object()));
	f = record_fields("ATS", HARNESS_ATS_RUST);
	assert_false(array_has(json_object_get(f, "Potential Talent Fit AI"), id));
	json_decref(f);
	snprintf(path, sizeof(path), B "/Talent/%s", id);
	expect_error("GET", path, NULL, 404, "MODEL_ID_NOT_FOUND", NULL);
	json_decref(res);
}

static void put_clears_the_fields_it_does_not_name(void **state)
{
	json_t *f;

	(void)state;
	json_decref(send_json("PUT", "/v0/" HARNESS_SIM_BASE "/Customers%20STT/" HARNESS_JOB_DATA,
			      json_pack("{s:{s:s}}", "fields", "Company", "Tabular Two")));
	f = record_fields("Customers%20STT", HARNESS_JOB_DATA);
	assert_int_equal(json_object_size(f), 1);
	assert_string_equal(json_string_value(json_object_get(f, "Company")), "Tabular Two");
	json_decref(f);
	/* PATCH keeps the others */
	json_decref(send_json("PATCH", "/v0/" HARNESS_SIM_BASE "/Customers%20STT/" HARNESS_JOB_DATA,
			      json_pack("{s:{s:s}}", "fields", "Hiring Job Title", "Analyst")));
	f = record_fields("Customers%20STT", HARNESS_JOB_DATA);
	assert_int_equal(json_object_size(f), 2);
	json_decref(f);
	expect_error("PATCH", "/v0/" HARNESS_SIM_BASE "/Customers%20STT/recNoSuchRecord01",
		     "{\"fields\":{}}", 404, "MODEL_ID_NOT_FOUND", NULL);
}

static void upsert_updates_the_match_and_creates_the_rest(void **state)
{
	json_t *res = send_json("PATCH", "/v0/" HARNESS_SIM_BASE "/" HARNESS_JOBS,
				json_pack("{s:{s:[s]}, s:[{s:{s:s, s:s}}, {s:{s:s, s:s}}]}",
					  "performUpsert", "fieldsToMergeOn", "Company", "records",
					  "fields", "Company", "Ferrous Ltd", "Hiring Job Title",
					  "Principal Rust Engineer", "fields", "Company", "Brand New Co",
					  "Hiring Job Title", "Founding Engineer"));
	json_t *f;

	(void)state;
	assert_int_equal(json_array_size(json_object_get(res, "updatedRecords")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(res, "updatedRecords"), 0)),
			    HARNESS_JOB_RUST);
	assert_int_equal(json_array_size(json_object_get(res, "createdRecords")), 1);
	assert_int_equal(json_array_size(json_object_get(res, "records")), 2);
	f = record_fields(HARNESS_JOBS, HARNESS_JOB_RUST);
	assert_string_equal(json_string_value(json_object_get(f, "Hiring Job Title")),
			    "Principal Rust Engineer");
	/* other fields of the matched record stay */
	assert_true(json_is_true(json_object_get(f, "Start Matchmaking")));
	json_decref(f);
	json_decref(res);
	expect_error("PATCH", "/v0/" HARNESS_SIM_BASE "/" HARNESS_JOBS,
		     "{\"performUpsert\":{\"fieldsToMergeOn\":[\"Nope\"]},\"records\":[{\"fields\":{\"Company\":\"X\"}}]}",
		     422, "UNKNOWN_FIELD_NAME", "Nope");
}

static void single_record_forms_create_read_and_delete(void **state)
{
	json_t *rec = send_json("POST", B "/Talent",
				json_pack("{s:{s:s}}", "fields", "Full Name", "Single Form"));
	const char *id = json_string_value(json_object_get(rec, "id"));
	char path[256];
	struct harness_sim_reply r;

	(void)state;
	assert_non_null(id);
	assert_non_null(json_object_get(rec, "createdTime"));
	snprintf(path, sizeof(path), B "/Talent/%s", id);
	json_decref(get_json(path));
	assert_int_equal(call("DELETE", path, NULL, &r), 200);
	assert_true(json_is_true(json_object_get(r.json, "deleted")));
	harness_sim_reply_free(&r);
	expect_error("DELETE", path, NULL, 404, "MODEL_ID_NOT_FOUND", NULL);
	json_decref(rec);
}

static void auth_and_unknown_models_get_airtable_errors(void **state)
{
	struct harness_sim_reply r;

	(void)state;
	assert_int_equal(harness_sim_call(sim, "GET", B "/Talent", NULL, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 401);
	assert_string_equal(harness_sim_error_type(&r), "AUTHENTICATION_REQUIRED");
	harness_sim_reply_free(&r);
	assert_int_equal(harness_sim_call(sim, "GET", B "/Talent", NULL, "wrongKey.0123456789", NULL, 0, &r), 0);
	assert_int_equal(r.status, 401);
	assert_string_equal(harness_sim_error_type(&r), "UNAUTHORIZED");
	harness_sim_reply_free(&r);
	expect_error("GET", "/v0/appNoSuchBase00001/Talent", NULL, 403,
		     "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", NULL);
	expect_error("GET", B "/NoSuchTable", NULL, 403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", NULL);
	expect_error("GET", B "/Talent/recNoSuchRecord01", NULL, 404, "MODEL_ID_NOT_FOUND", NULL);
	expect_error("GET", B "/Talent/not-a-record", NULL, 404, "NOT_FOUND", NULL);
	expect_error("GET", "/v0", NULL, 404, "NOT_FOUND", NULL);
	/* tables are found by id as well as by name */
	json_decref(get_json("/v0/" HARNESS_SIM_BASE "/" HARNESS_TALENT "/" HARNESS_ADA));
}

static void the_meta_api_describes_tables_fields_and_links(void **state)
{
	json_t *meta = get_json("/v0/meta/bases/" HARNESS_SIM_BASE "/tables"), *t, *f;
	size_t i, k;
	int links = 0;

	(void)state;
	json_array_foreach(json_object_get(meta, "tables"), i, t) {
		assert_non_null(json_object_get(t, "primaryFieldId"));
		json_array_foreach(json_object_get(t, "fields"), k, f) {
			json_t *opt = json_object_get(f, "options");
			if (strcmp(json_string_value(json_object_get(f, "name")), "Job Match") == 0) {
				assert_string_equal(json_string_value(json_object_get(f, "type")),
						    "multipleRecordLinks");
				assert_string_equal(json_string_value(json_object_get(opt, "linkedTableId")),
						    HARNESS_ATS);
				assert_non_null(json_object_get(opt, "inverseLinkFieldId"));
				links++;
			}
		}
	}
	assert_int_equal(links, 1);
	json_decref(meta);
}

static void a_url_of_16000_characters_is_refused_and_post_list_records_works(void **state)
{
	struct buf formula, path;
	struct harness_sim_reply r;
	json_t *body, *page;

	(void)state;
	buf_init(&formula, 64 * 1024);
	buf_init(&path, 64 * 1024);
	assert_int_equal(buf_puts(&formula, "OR("), 0);
	for (int i = 0; i < 900; i++)
		assert_int_equal(buf_printf(&formula, "%s{Number}=%d", i ? "," : "", i), 0);
	assert_int_equal(buf_puts(&formula, ")"), 0);
	assert_int_equal(buf_puts(&path, B "/Numbered?filterByFormula="), 0);
	assert_int_equal(http_urlencode(&path, formula.data), 0);
	assert_true(path.len > 16000);
	expect_error("GET", path.data, NULL, 414, "INVALID_REQUEST_URI_TOO_LONG", NULL);
	body = json_pack("{s:s}", "filterByFormula", formula.data);
	page = send_json("POST", B "/Numbered/listRecords", body);
	assert_int_equal(json_array_size(json_object_get(page, "records")), 100);
	json_decref(page);
	/* just under the limit is served */
	buf_reset(&path);
	assert_int_equal(buf_puts(&path, B "/Numbered?view=Grid%20view"), 0);
	while (path.len + strlen(sim_url(sim)) < 15980)
		assert_int_equal(buf_puts(&path, "&fields%5B%5D=Name"), 0);
	assert_int_equal(call("GET", path.data, NULL, &r), 200);
	harness_sim_reply_free(&r);
	buf_free(&formula);
	buf_free(&path);
}

static void a_body_over_10_mib_is_refused_with_413(void **state)
{
	size_t n = 10 * 1024 * 1024 + 100;
	char *big = malloc(n + 1);
	struct harness_sim_reply r;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	big[n] = '\0';
	big[0] = '{';
	big[n - 1] = '}';
	assert_int_equal(call("POST", B "/Talent", big, &r), 413);
	harness_sim_reply_free(&r);
	free(big);
	/* the server goes on serving */
	json_decref(get_json(B "/Talent"));
}

static void attachment_urls_serve_the_bytes_and_expire(void **state)
{
	json_t *f = record_fields("Talent", HARNESS_ADA), *cfg;
	const char *url = json_string_value(json_object_get(json_array_get(json_object_get(f, "CV"), 0), "url"));
	const char *path;
	struct harness_sim_reply r;
	struct buf bad;
	serr e;

	(void)state;
	assert_non_null(url);
	path = url + strlen(sim_url(sim));
	assert_int_equal(harness_sim_call(sim, "GET", path, NULL, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 13);
	assert_memory_equal(r.body, "%PDF-1.4 tiny", 13);
	harness_sim_reply_free(&r);
	buf_init(&bad, 4096);
	assert_int_equal(buf_printf(&bad, "%.*sx", (int)strlen(path) - 1, path), 0);
	assert_int_equal(harness_sim_call(sim, "GET", bad.data, NULL, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 403);
	harness_sim_reply_free(&r);
	buf_free(&bad);
	json_decref(f);
	/* URLs handed out with a 1 ms lifetime are gone once it has passed */
	cfg = json_pack("{s:i}", "attachment_ttl_ms", 1);
	assert_int_equal(sim_configure(sim, cfg, &e), 0);
	json_decref(cfg);
	f = record_fields("Talent", HARNESS_ADA);
	url = json_string_value(json_object_get(json_array_get(json_object_get(f, "CV"), 0), "url"));
	sleep_ms(20);
	assert_int_equal(harness_sim_call(sim, "GET", url + strlen(sim_url(sim)), NULL, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 410);
	harness_sim_reply_free(&r);
	json_decref(f);
	cfg = json_pack("{s:i}", "attachment_ttl_ms", 7200000);
	assert_int_equal(sim_configure(sim, cfg, &e), 0);
	json_decref(cfg);
}

static void attachments_are_written_by_url_and_kept_by_id(void **state)
{
	json_t *f = record_fields("Talent", HARNESS_ADA), *res, *cv;
	const char *old = json_string_value(json_object_get(json_array_get(json_object_get(f, "CV"), 0), "id"));

	(void)state;
	res = send_json("PATCH", B "/Talent",
			json_pack("{s:[{s:s, s:{s:[{s:s}, {s:s}]}}]}", "records", "id", HARNESS_ADA,
				  "fields", "CV", "id", old, "url", "https://files.example.com/cv/ada-2.pdf"));
	cv = json_object_get(json_object_get(json_array_get(json_object_get(res, "records"), 0), "fields"), "CV");
	assert_int_equal(json_array_size(cv), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(cv, 0), "id")), old);
	assert_string_equal(json_string_value(json_object_get(json_array_get(cv, 1), "filename")), "ada-2.pdf");
	json_decref(res);
	json_decref(f);
	expect_error("PATCH", B "/Talent",
		     "{\"records\":[{\"id\":\"" HARNESS_ADA "\",\"fields\":{\"CV\":[{\"name\":\"x\"}]}}]}",
		     422, "INVALID_ATTACHMENT_OBJECT", NULL);
}

static int64_t modified(const char *table, const char *id, const char *field)
{
	json_t *dump = sim_dump_base(sim, HARNESS_SIM_BASE), *t, *r;
	size_t i, k;
	int64_t ms = -1;

	json_array_foreach(json_object_get(dump, "tables"), i, t) {
		if (strcmp(json_string_value(json_object_get(t, "name")), table) != 0)
			continue;
		json_array_foreach(json_object_get(t, "records"), k, r) {
			const char *iso;
			if (strcmp(json_string_value(json_object_get(r, "id")), id) != 0)
				continue;
			iso = json_string_value(json_object_get(json_object_get(r, "fieldModifiedTimes"), field));
			if (iso)
				assert_int_equal(iso8601_parse(iso, &ms), 0);
		}
	}
	json_decref(dump);
	return ms;
}

static void a_recruiter_edit_is_validated_and_bumps_modified_times(void **state)
{
	json_t *fields;
	int64_t before = modified("Talent", HARNESS_LINUS, "Job Status"), after, inv;
	serr e;

	(void)state;
	assert_true(before > 0);
	fields = json_pack("{s:s}", "Favourite Colour", "blue");
	assert_int_equal(sim_edit_record(sim, HARNESS_SIM_BASE, "Talent", HARNESS_LINUS, fields, &e), -1);
	assert_non_null(strstr(e.msg, "Favourite Colour"));
	json_decref(fields);
	/* Linus sits in the ATS row since the links test: take him out from his side */
	fields = json_pack("{s:s, s:[]}", "Job Status", "Hired", "Job Match");
	assert_int_equal(sim_edit_record(sim, HARNESS_SIM_BASE, "Talent", HARNESS_LINUS, fields, &e), 0);
	json_decref(fields);
	after = modified("Talent", HARNESS_LINUS, "Job Status");
	assert_true(after > before);
	/* the inverse side of the link was changed too */
	inv = modified("ATS", HARNESS_ATS_RUST, "Potential Talent Fit AI");
	assert_true(inv >= after);
	fields = record_fields("ATS", HARNESS_ATS_RUST);
	assert_false(array_has(json_object_get(fields, "Potential Talent Fit AI"), HARNESS_LINUS));
	json_decref(fields);
	/* LAST_MODIFIED_TIME() sees it */
	fields = get_json(B "/Talent?filterByFormula=IS_AFTER(LAST_MODIFIED_TIME(%7BJob%20Status%7D)%2CDATETIME_PARSE('2026-01-05'))");
	assert_int_equal(json_array_size(json_object_get(fields, "records")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(fields, "records"), 0), "id")),
			    HARNESS_LINUS);
	json_decref(fields);
}

static void a_bad_base_is_refused_with_the_culprit_named(void **state)
{
	json_t *bad;
	serr e;

	(void)state;
	bad = json_pack("{s:s, s:[{s:s, s:[{s:s, s:s}]}]}", "id", "appBad", "tables", "name", "T",
			"fields", "name", "A", "type", "hologram");
	assert_int_equal(sim_load_base(sim, bad, &e), -1);
	assert_non_null(strstr(e.msg, "hologram"));
	json_decref(bad);
	bad = json_pack("{s:s, s:[{s:s, s:s, s:[{s:s, s:s, s:{s:s}}], s:[{s:s, s:{s:[s]}}]}]}", "id",
			"appBad", "tables", "id", "tblSelf", "name", "T", "fields", "name", "L", "type",
			"multipleRecordLinks", "options", "linkedTableId", "tblSelf", "records", "id",
			"recOne", "fields", "L", "recMissing");
	assert_int_equal(sim_load_base(sim, bad, &e), -1);
	assert_non_null(strstr(e.msg, "recMissing"));
	assert_non_null(strstr(e.msg, "recOne"));
	json_decref(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(records_of_a_250_record_table_come_in_pages_of_100_100_50),
		cmocka_unit_test(page_size_and_max_records_bound_the_listing),
		cmocka_unit_test(an_expired_offset_gives_list_records_iterator_not_available),
		cmocka_unit_test(an_offset_is_only_good_for_its_own_listing),
		cmocka_unit_test(post_list_records_takes_the_options_in_the_body),
		cmocka_unit_test(fields_limit_the_answer_and_an_unknown_field_is_named),
		cmocka_unit_test(returned_fields_can_be_keyed_by_field_id),
		cmocka_unit_test(empty_values_are_left_out_of_fields),
		cmocka_unit_test(sort_orders_records_and_ties_keep_creation_order),
		cmocka_unit_test(filter_by_formula_selects_records_and_a_bad_formula_is_refused),
		cmocka_unit_test(writes_of_eleven_records_are_refused_whole),
		cmocka_unit_test(unknown_fields_and_wrong_types_are_refused),
		cmocka_unit_test(an_unknown_select_option_is_refused_unless_typecast_creates_it),
		cmocka_unit_test(linked_records_must_exist_and_the_inverse_side_follows),
		cmocka_unit_test(deleting_a_record_removes_it_from_links_pointing_at_it),
		cmocka_unit_test(put_clears_the_fields_it_does_not_name),
		cmocka_unit_test(upsert_updates_the_match_and_creates_the_rest),
		cmocka_unit_test(single_record_forms_create_read_and_delete),
		cmocka_unit_test(auth_and_unknown_models_get_airtable_errors),
		cmocka_unit_test(the_meta_api_describes_tables_fields_and_links),
		cmocka_unit_test(a_url_of_16000_characters_is_refused_and_post_list_records_works),
		cmocka_unit_test(a_body_over_10_mib_is_refused_with_413),
		cmocka_unit_test(attachment_urls_serve_the_bytes_and_expire),
		cmocka_unit_test(attachments_are_written_by_url_and_kept_by_id),
		cmocka_unit_test(a_recruiter_edit_is_validated_and_bumps_modified_times),
		cmocka_unit_test(a_bad_base_is_refused_with_the_culprit_named),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
