/* Integration tests of the Airtable client against the in-process simulator: paging, offset expiry, formulas, batching, POST listRecords, faults, error messages and pacing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>

#include "airtable/airtable.h"
#include "airtable/formula.h"
#include "config/config.h"
#include "core/http.h"
#include "core/util.h"
#include "sim/sim.h"
#include "support/harness_sim.h"

#define API_KEY HARNESS_SIM_KEY
#define BASE "appScoutTest00001"
#define BURST_BASE "appScoutBurst0001"
#define NRECORDS 250

struct fixture {
	struct sim *sim;
	struct config cfg;
	char home[256];
	json_t *ids; /* record ids of the Talent table, in order */
};

static struct fixture fx;

/* --- the test base --------------------------------------------------------- */

/* The string options (for the configured field names), from the option table itself. */
struct str_opt {
	const char *key;
	size_t offset;
	int is_string;
};
#define OPT_IS_S 1
#define OPT_IS_I 0
#define OPT_IS_D 0
#define OPT_IS_B 0
static const struct str_opt all_opts[] = {
#define OPT(member, type, key, env, def, secret, help) \
	{ key, offsetof(struct config, member), OPT_IS_##type },
#include "config/options.def"
#undef OPT
};

static const char *opt_value(const struct config *c, size_t offset)
{
	return *(char *const *)(const void *)((const char *)c + offset);
}

/*
 * A table carrying every configured field of one group, its (N) columns
 * (prefix_n) included (text fields, except a few types).
 */
static json_t *table_schema(const struct config *c, const char *prefix, const char *prefix_n)
{
	json_t *fields = json_array();

	for (size_t i = 0; i < sizeof(all_opts) / sizeof(all_opts[0]); i++) {
		const char *name, *type = "singleLineText";
		if (!all_opts[i].is_string || (!str_starts_with(all_opts[i].key, prefix) &&
					       !(prefix_n && str_starts_with(all_opts[i].key, prefix_n))))
			continue;
		name = opt_value(c, all_opts[i].offset);
		if (strcmp(all_opts[i].key, "field.talent.highlight") == 0)
			type = "checkbox";
		else if (strcmp(all_opts[i].key, "field.talent.ranking") == 0)
			type = "number";
		assert_int_equal(json_array_append_new(fields, json_pack("{s:s, s:s}", "name", name,
									  "type", type)),
				 0);
	}
	return fields;
}

static json_t *talent_records(const struct config *c, int n)
{
	json_t *recs = json_array();
	char name[64], mail[64];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "Candidate %03d", i);
		snprintf(mail, sizeof(mail), "c%03d@example.com", i);
		assert_int_equal(json_array_append_new(recs, json_pack("{s:{s:s, s:s}}", "fields",
									c->f_full_name, name,
									c->f_mail, mail)),
				 0);
	}
	return recs;
}

/* Load a base with the three tables (n Talent records); the Talent ids in order (new reference). */
static json_t *load_base(const char *base_id, int n)
{
	const struct config *c = &fx.cfg;
	json_t *base, *dump, *tables, *ids;
	size_t i;
	json_t *t;
	serr e;

	base = json_pack("{s:s, s:[{s:s, s:s, s:o, s:o}, {s:s, s:s, s:o, s:[]}, {s:s, s:s, s:o, s:[]}]}",
			 "id", base_id, "tables", "id", c->talent_table, "name", "Talent", "fields",
			 table_schema(c, "field.talent.", "field.talent_n."), "records",
			 talent_records(c, n), "id", c->jobs_table, "name", "Customers STT", "fields",
			 table_schema(c, "field.jobs.", "field.job_n."), "records", "id", c->ats_table,
			 "name", "ATS", "fields", table_schema(c, "field.ats.", NULL), "records");
	assert_non_null(base);
	if (sim_load_base(fx.sim, base, &e) < 0)
		fail_msg("%s", e.msg);
	json_decref(base);
	dump = sim_dump_base(fx.sim, base_id);
	assert_non_null(dump);
	tables = json_object_get(dump, "tables");
	ids = json_array();
	json_array_foreach(tables, i, t)
	{
		size_t j;
		json_t *r;
		if (strcmp(json_string_value(json_object_get(t, "id")), c->talent_table) != 0)
			continue;
		json_array_foreach(json_object_get(t, "records"), j, r)
			json_array_append(ids, json_object_get(r, "id"));
	}
	json_decref(dump);
	assert_int_equal(json_array_size(ids), n);
	return ids;
}

/* Records of the Talent table in the simulator now, as the API returns them. */
static json_t *talent_dump(void)
{
	json_t *dump = sim_dump_base(fx.sim, BASE), *t, *out = NULL;
	size_t i;

	json_array_foreach(json_object_get(dump, "tables"), i, t)
	{
		if (strcmp(json_string_value(json_object_get(t, "id")), fx.cfg.talent_table) == 0)
			out = json_incref(json_object_get(t, "records"));
	}
	json_decref(dump);
	assert_non_null(out);
	return out;
}

static void set_opt(const char *key, const char *value)
{
	serr e;
	if (config_set(&fx.cfg, key, value, &e) < 0)
		fail_msg("%s", e.msg);
}

static void sim_limits(double rate, int penalty_ms, int offset_ttl_ms)
{
	json_t *j = json_pack("{s:f, s:i, s:i}", "airtable_rate", rate, "penalty_ms", penalty_ms,
			      "offset_ttl_ms", offset_ttl_ms);
	serr e;

	if (sim_configure(fx.sim, j, &e) < 0)
		fail_msg("%s", e.msg);
	json_decref(j);
}

static void add_fault(enum sim_fault_kind kind, int count, const char *method, int timeout_ms)
{
	struct sim_fault f;
	serr e;

	sim_fault_init(&f, kind);
	f.count = count;
	snprintf(f.path_contains, sizeof(f.path_contains), "/v0/%s/", BASE);
	if (method)
		snprintf(f.method, sizeof(f.method), "%s", method);
	if (timeout_ms)
		f.timeout_ms = timeout_ms;
	if (sim_add_fault(fx.sim, &f, &e) < 0)
		fail_msg("%s", e.msg);
}

/* Requests of the log to this base, optionally of one method and path suffix. */
static size_t count_requests(const char *method, const char *path_suffix, json_t **matches)
{
	json_t *log = sim_requests(fx.sim), *r;
	size_t i, n = 0;

	if (matches)
		*matches = json_array();
	json_array_foreach(log, i, r)
	{
		const char *m = json_string_value(json_object_get(r, "method"));
		const char *p = json_string_value(json_object_get(r, "path"));
		size_t pl = p ? strlen(p) : 0, sl = path_suffix ? strlen(path_suffix) : 0;
		if (!p || !str_starts_with(p, "/v0/"))
			continue;
		if (method && (!m || strcmp(m, method) != 0))
			continue;
		if (path_suffix && (pl < sl || strcmp(p + pl - sl, path_suffix) != 0))
			continue;
		n++;
		if (matches)
			json_array_append(*matches, r);
	}
	json_decref(log);
	return n;
}

/* --- set-up ------------------------------------------------------------------ */

static int group_setup(void **state)
{
	struct harness_sim_opts o;
	const char *base = getenv("SCOUT_TEST_HOME");
	serr e;

	(void)state;
	if (http_global_init(&e) < 0)
		return -1;
	harness_sim_opts_init(&o);
	o.load_small_base = 0;
	if (!(fx.sim = harness_sim_start(&o)))
		return -1;
	snprintf(fx.home, sizeof(fx.home), "%s/airtable-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(fx.home))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	char p[512];

	(void)state;
	harness_sim_stop(fx.sim);
	json_decref(fx.ids);
	snprintf(p, sizeof(p), "%s/pace/airtable-%s", fx.home, BASE);
	unlink(p);
	snprintf(p, sizeof(p), "%s/pace/airtable-%s", fx.home, BURST_BASE);
	unlink(p);
	snprintf(p, sizeof(p), "%s/pace", fx.home);
	rmdir(p);
	rmdir(fx.home);
	return 0;
}

/* Each test: a fresh base, empty logs, a fast client and simulator. */
static int test_setup(void **state)
{
	struct sim_fault reset;
	serr e;

	(void)state;
	if (config_init(&fx.cfg, &e) < 0)
		return -1;
	set_opt("airtable.api_key", API_KEY);
	set_opt("airtable.base_id", BASE);
	set_opt("airtable.api_url", sim_url(fx.sim));
	set_opt("home", fx.home);
	set_opt("airtable.requests_per_second", "200");
	set_opt("airtable.backoff_ms", "20");
	set_opt("airtable.rate_penalty_seconds", "1");
	set_opt("airtable.timeout_ms", "5000");
	sim_fault_init(&reset, SIM_FAULT_RESET);
	if (sim_add_fault(fx.sim, &reset, &e) < 0)
		return -1;
	sim_limits(200, 1000, 300000);
	json_decref(fx.ids);
	fx.ids = load_base(BASE, NRECORDS);
	sim_requests_clear(fx.sim);
	sim_stats_reset(fx.sim);
	return 0;
}

static int test_teardown(void **state)
{
	(void)state;
	config_free(&fx.cfg);
	return 0;
}

static void client(struct airtable *at)
{
	serr e;
	if (airtable_init(at, &fx.cfg, &e) < 0)
		fail_msg("%s", e.msg);
}

/* Collects delivered records: ids in order, and how often each id came. */
struct collected {
	json_t *ids;
	json_t *seen;
	json_t *names;
	json_t *records; /* copies, when keep_records is set */
	int keep_records;
	int duplicates;
	int expire_after; /* inject an offset expiry once this many records came (0 = never) */
};

static void collected_init(struct collected *c)
{
	memset(c, 0, sizeof(*c));
	c->ids = json_array();
	c->seen = json_object();
	c->names = json_array();
	c->records = json_array();
}

static void collected_free(struct collected *c)
{
	json_decref(c->ids);
	json_decref(c->seen);
	json_decref(c->names);
	json_decref(c->records);
}

static int collect(void *ud, const json_t *record, serr *e)
{
	struct collected *c = ud;
	const char *id = json_string_value(json_object_get(record, "id"));
	const json_t *fields = json_object_get(record, "fields");

	(void)e;
	if (json_object_get(c->seen, id))
		c->duplicates++;
	json_object_set_new(c->seen, id, json_true());
	json_array_append_new(c->ids, json_string(id));
	json_array_append_new(c->names, json_string(airtable_str(fields, "Full Name")));
	if (c->keep_records)
		json_array_append_new(c->records, json_deep_copy(record));
	if (c->expire_after && json_array_size(c->ids) == (size_t)c->expire_after) {
		add_fault(SIM_FAULT_EXPIRE_OFFSETS, 1, NULL, 0);
		c->expire_after = 0;
	}
	return 0;
}

/* --- tests ------------------------------------------------------------------- */

static void table_of_250_records_is_read_across_three_pages(void **state)
{
	struct airtable at;
	struct collected c;
	json_t *reqs;
	serr e;

	(void)state;
	client(&at);
	collected_init(&c);
	if (airtable_list(&at, fx.cfg.talent_table, NULL, collect, &c, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(c.ids), NRECORDS);
	assert_int_equal(c.duplicates, 0);
	assert_true(json_equal(c.ids, fx.ids));
	assert_int_equal(count_requests("GET", NULL, &reqs), 3);
	/* the first page has no offset, the next two carry the one they were given */
	assert_null(json_object_get(json_object_get(json_array_get(reqs, 0), "query"), "offset"));
	assert_non_null(json_object_get(json_object_get(json_array_get(reqs, 1), "query"), "offset"));
	assert_non_null(json_object_get(json_object_get(json_array_get(reqs, 2), "query"), "offset"));
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(json_array_get(reqs, 0), "query"),
						  "pageSize")),
		"100");
	assert_int_equal(at.stats.requests, 3);
	json_decref(reqs);
	collected_free(&c);
	airtable_free(&at);
}

static void expired_offset_restarts_the_listing_and_delivers_each_record_once(void **state)
{
	struct airtable at;
	struct collected c;
	serr e;

	(void)state;
	client(&at);
	collected_init(&c);
	c.expire_after = 100; /* after the first page: its offset is dead when page 2 is asked */
	if (airtable_list(&at, fx.cfg.talent_table, NULL, collect, &c, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(at.stats.restarts, 1);
	assert_int_equal(json_array_size(c.ids), NRECORDS);
	assert_int_equal(c.duplicates, 0);
	assert_int_equal(json_object_size(c.seen), NRECORDS);
	/* page 1, expired page 2, then pages 1-3 again */
	assert_int_equal(count_requests("GET", NULL, NULL), 5);
	collected_free(&c);
	airtable_free(&at);
}

static void listing_gives_up_when_offsets_keep_expiring(void **state)
{
	struct airtable at;
	struct collected c;
	serr e;

	(void)state;
	/*
	 * Offsets live 1 ms and the client sends at most 5 requests a second:
	 * every offset is dead by the time the next page is asked for.
	 */
	sim_limits(200, 1000, 1);
	set_opt("airtable.requests_per_second", "5");
	client(&at);
	collected_init(&c);
	assert_int_equal(airtable_list(&at, fx.cfg.talent_table, NULL, collect, &c, &e), -1);
	assert_non_null(strstr(e.msg, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"));
	assert_non_null(strstr(e.msg, "giving up"));
	assert_int_equal(at.stats.restarts, AIRTABLE_MAX_RESTARTS);
	/* the first page was delivered once, never again after a restart */
	assert_int_equal(json_array_size(c.ids), 100);
	assert_int_equal(c.duplicates, 0);
	collected_free(&c);
	airtable_free(&at);
}

static void listing_applies_fields_sort_and_max_records(void **state)
{
	struct airtable at;
	struct collected c;
	const char *fields[2] = { NULL, NULL };
	struct airtable_query q = { 0 };
	json_t *reqs;
	serr e;

	(void)state;
	client(&at);
	fields[0] = fx.cfg.f_full_name;
	q.fields = fields;
	q.sort_field = fx.cfg.f_full_name;
	q.sort_desc = 1;
	q.max_records = 150;
	collected_init(&c);
	if (airtable_list(&at, fx.cfg.talent_table, &q, collect, &c, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(c.ids), 150);
	assert_string_equal(json_string_value(json_array_get(c.names, 0)), "Candidate 249");
	assert_string_equal(json_string_value(json_array_get(c.names, 149)), "Candidate 100");
	assert_int_equal(count_requests("GET", NULL, &reqs), 2);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(json_array_get(reqs, 0), "query"),
						  "sort[0][direction]")),
		"desc");
	json_decref(reqs);
	collected_free(&c);

	/* only the asked fields come back */
	q.max_records = 1;
	collected_init(&c);
	c.keep_records = 1;
	if (airtable_list(&at, fx.cfg.talent_table, &q, collect, &c, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(c.records), 1);
	assert_string_equal(airtable_str(json_object_get(json_array_get(c.records, 0), "fields"),
					 fx.cfg.f_mail),
			    "");
	collected_free(&c);
	airtable_free(&at);
}

static void formula_values_with_quotes_backslashes_and_injection_match_exactly(void **state)
{
	static const char *names[] = {
		"O'Brien",
		"back\\slash",
		"ends with backslash\\",
		"say \"hi\"",
		"x' OR TRUE() OR '",
		"') , TRUE(), ('",
		"line\nbreak",
		"\\' OR 1=1 OR '\\",
	};
	const size_t n = sizeof(names) / sizeof(names[0]);
	struct airtable at;
	json_t *recs, *created = NULL;
	serr e;

	(void)state;
	client(&at);
	recs = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(recs, json_pack("{s:{s:s}}", "fields", fx.cfg.f_full_name,
						      names[i]));
	if (airtable_create(&at, fx.cfg.talent_table, recs, 0, &created, &e) < 0)
		fail_msg("%s", e.msg);
	for (size_t i = 0; i < n; i++) {
		struct airtable_query q = { 0 };
		struct collected c;
		struct buf f;

		buf_init(&f, 0);
		if (formula_field(&f, fx.cfg.f_full_name, &e) < 0)
			fail_msg("%s", e.msg);
		assert_int_equal(buf_putc(&f, '='), 0);
		assert_int_equal(formula_quote(&f, names[i]), 0);
		q.formula = buf_cstr(&f);
		collected_init(&c);
		if (airtable_list(&at, fx.cfg.talent_table, &q, collect, &c, &e) < 0)
			fail_msg("value %zu: %s", i, e.msg);
		assert_int_equal(json_array_size(c.ids), 1);
		assert_string_equal(json_string_value(json_array_get(c.ids, 0)),
				    json_string_value(json_object_get(json_array_get(created, i), "id")));
		assert_string_equal(json_string_value(json_array_get(c.names, 0)), names[i]);
		collected_free(&c);
		buf_free(&f);
	}
	json_decref(created);
	json_decref(recs);
	airtable_free(&at);
}

static void writes_of_25_records_are_sent_as_3_requests(void **state)
{
	struct airtable at;
	json_t *recs, *created = NULL, *updates, *updated = NULL, *reqs, *dump, *r;
	char name[64];
	size_t i;
	serr e;

	(void)state;
	client(&at);
	recs = json_array();
	for (int k = 0; k < 25; k++) {
		snprintf(name, sizeof(name), "New %02d", k);
		json_array_append_new(recs, json_pack("{s:{s:s}}", "fields", fx.cfg.f_full_name, name));
	}
	if (airtable_create(&at, fx.cfg.talent_table, recs, 0, &created, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(created), 25);
	assert_int_equal(count_requests("POST", fx.cfg.talent_table, &reqs), 3);
	/* 10 + 10 + 5 records, in order */
	json_array_foreach(created, i, r)
	{
		snprintf(name, sizeof(name), "New %02zu", i);
		assert_string_equal(airtable_str(json_object_get(r, "fields"), fx.cfg.f_full_name), name);
	}
	json_decref(reqs);

	updates = json_array();
	json_array_foreach(created, i, r)
		json_array_append_new(updates, json_pack("{s:O, s:{s:s}}", "id", json_object_get(r, "id"),
							 "fields", fx.cfg.f_location, "Lisbon"));
	sim_requests_clear(fx.sim);
	if (airtable_update(&at, fx.cfg.talent_table, updates, 0, &updated, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(updated), 25);
	assert_int_equal(count_requests("PATCH", fx.cfg.talent_table, NULL), 3);
	assert_int_equal(count_requests(NULL, NULL, NULL), 3);

	dump = talent_dump();
	assert_int_equal(json_array_size(dump), NRECORDS + 25);
	json_array_foreach(dump, i, r)
	{
		const json_t *f = json_object_get(r, "fields");
		if (str_starts_with(airtable_str(f, fx.cfg.f_full_name), "New "))
			assert_string_equal(airtable_str(f, fx.cfg.f_location), "Lisbon");
	}
	json_decref(dump);
	json_decref(updates);
	json_decref(updated);
	json_decref(created);
	json_decref(recs);
	airtable_free(&at);
}

static void long_formula_switches_to_post_listRecords(void **state)
{
	struct airtable at;
	struct airtable_query q = { 0 };
	struct collected c;
	struct buf f;
	char *filler;
	serr e;

	(void)state;
	client(&at);
	filler = malloc(16001);
	assert_non_null(filler);
	memset(filler, 'x', 16000);
	filler[16000] = '\0';
	buf_init(&f, 0);
	assert_int_equal(buf_puts(&f, "OR("), 0);
	if (formula_field(&f, fx.cfg.f_full_name, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(buf_putc(&f, '='), 0);
	assert_int_equal(formula_quote(&f, "Candidate 007"), 0);
	assert_int_equal(buf_putc(&f, ','), 0);
	if (formula_field(&f, fx.cfg.f_full_name, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(buf_putc(&f, '='), 0);
	assert_int_equal(formula_quote(&f, filler), 0);
	assert_int_equal(buf_putc(&f, ')'), 0);
	q.formula = buf_cstr(&f);
	collected_init(&c);
	if (airtable_list(&at, fx.cfg.talent_table, &q, collect, &c, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(c.ids), 1);
	assert_string_equal(json_string_value(json_array_get(c.names, 0)), "Candidate 007");
	assert_int_equal(count_requests("POST", "/listRecords", NULL), 1);
	assert_int_equal(count_requests("GET", NULL, NULL), 0);
	collected_free(&c);
	buf_free(&f);
	free(filler);
	airtable_free(&at);
}

static void rate_limited_request_is_held_then_retried(void **state)
{
	struct airtable at;
	struct collected c;
	json_t *reqs;
	int64_t first_end, retry_start;
	serr e;

	(void)state;
	client(&at);
	add_fault(SIM_FAULT_429, 1, "GET", 0);
	collected_init(&c);
	if (airtable_list(&at, fx.cfg.talent_table, NULL, collect, &c, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(c.ids), NRECORDS);
	assert_int_equal(c.duplicates, 0);
	assert_int_equal(at.stats.rate_limited, 1);
	assert_int_equal(at.stats.retries, 1);
	assert_int_equal(count_requests("GET", NULL, &reqs), 4);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(reqs, 0), "status")), 429);
	/* the hold (1 s in this test) passed before the same page was asked again */
	first_end = json_integer_value(json_object_get(json_array_get(reqs, 0), "end_ms"));
	retry_start = json_integer_value(json_object_get(json_array_get(reqs, 1), "start_ms"));
	assert_true(retry_start - first_end >= 900);
	json_decref(reqs);
	collected_free(&c);
	airtable_free(&at);
}

static void server_errors_and_timeouts_are_survived_with_correct_data(void **state)
{
	struct airtable at;
	struct collected c;
	json_t *updates, *out = NULL, *dump, *r, *ups;
	const char *merge[] = { fx.cfg.f_mail, NULL };
	size_t i;
	serr e;

	(void)state;
	set_opt("airtable.timeout_ms", "400");
	client(&at);

	/* reads: two 503s and a timeout on the way through three pages */
	add_fault(SIM_FAULT_503, 2, "GET", 0);
	add_fault(SIM_FAULT_TIMEOUT, 1, "GET", 1500);
	collected_init(&c);
	if (airtable_list(&at, fx.cfg.talent_table, NULL, collect, &c, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(c.ids), NRECORDS);
	assert_int_equal(c.duplicates, 0);
	assert_true(at.stats.server_errors >= 2);
	assert_true(at.stats.transport_errors >= 1);
	collected_free(&c);

	/* updates: a 503 then a timeout, retried; the data ends up right */
	updates = json_array();
	for (i = 0; i < 20; i++)
		json_array_append_new(updates, json_pack("{s:O, s:{s:s}}", "id", json_array_get(fx.ids, i),
							 "fields", fx.cfg.f_location, "Porto"));
	add_fault(SIM_FAULT_503, 1, "PATCH", 0);
	add_fault(SIM_FAULT_TIMEOUT, 1, "PATCH", 1500);
	if (airtable_update(&at, fx.cfg.talent_table, updates, 0, &out, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(out), 20);
	json_decref(out);
	json_decref(updates);

	/* upserts on the mail: retried after a timeout without creating duplicates */
	ups = json_array();
	json_array_append_new(ups, json_pack("{s:{s:s, s:s}}", "fields", fx.cfg.f_mail, "c000@example.com",
					     fx.cfg.f_location, "Faro"));
	json_array_append_new(ups, json_pack("{s:{s:s, s:s, s:s}}", "fields", fx.cfg.f_mail, "new@example.com",
					     fx.cfg.f_full_name, "Upserted", fx.cfg.f_location, "Faro"));
	add_fault(SIM_FAULT_TIMEOUT, 1, "PATCH", 1500);
	if (airtable_upsert(&at, fx.cfg.talent_table, ups, merge, 0, &out, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(out), 2);
	json_decref(out);
	json_decref(ups);

	dump = talent_dump();
	assert_int_equal(json_array_size(dump), NRECORDS + 1);
	json_array_foreach(dump, i, r)
	{
		const json_t *f = json_object_get(r, "fields");
		const char *mail = airtable_str(f, fx.cfg.f_mail);
		if (strcmp(mail, "c000@example.com") == 0 || strcmp(mail, "new@example.com") == 0)
			assert_string_equal(airtable_str(f, fx.cfg.f_location), "Faro");
		else if (i < 20)
			assert_string_equal(airtable_str(f, fx.cfg.f_location), "Porto");
		else
			assert_string_equal(airtable_str(f, fx.cfg.f_location), "");
	}
	json_decref(dump);
	airtable_free(&at);
}

static void create_that_may_have_been_applied_is_not_sent_twice(void **state)
{
	struct airtable at;
	json_t *recs, *out = NULL, *dump;
	serr e;

	(void)state;
	set_opt("airtable.timeout_ms", "400");
	client(&at);
	recs = json_pack("[{s:{s:s}}]", "fields", fx.cfg.f_full_name, "Maybe Created");
	add_fault(SIM_FAULT_TIMEOUT, 1, "POST", 1500);
	assert_int_equal(airtable_create(&at, fx.cfg.talent_table, recs, 0, &out, &e), -1);
	assert_non_null(strstr(e.msg, "not sent again"));
	assert_non_null(strstr(e.msg, fx.cfg.talent_table));
	assert_null(strstr(e.msg, API_KEY));
	assert_int_equal(json_array_size(out), 0);
	assert_int_equal(at.stats.requests, 1);
	/* the simulator logs the held request once it lets it go */
	for (int i = 0; i < 100 && count_requests("POST", NULL, NULL) == 0; i++)
		sleep_ms(100);
	assert_int_equal(count_requests("POST", NULL, NULL), 1);
	dump = talent_dump();
	assert_true(json_array_size(dump) <= NRECORDS + 1);
	json_decref(dump);
	json_decref(out);
	json_decref(recs);
	airtable_free(&at);
}

static void unknown_field_is_reported_with_field_table_and_config_key(void **state)
{
	struct airtable at;
	struct collected c;
	const char *fields[2] = { NULL, NULL };
	struct airtable_query q = { 0 };
	json_t *recs;
	serr e;

	(void)state;
	set_opt("field.talent.cv", "CVs");
	client(&at);
	fields[0] = fx.cfg.f_cv;
	q.fields = fields;
	collected_init(&c);
	assert_int_equal(airtable_list(&at, fx.cfg.talent_table, &q, collect, &c, &e), -1);
	assert_non_null(strstr(e.msg, "cannot list 'tblOkLOSo4Zjwp0yF'"));
	assert_non_null(strstr(e.msg, "UNKNOWN_FIELD_NAME"));
	assert_non_null(strstr(e.msg, "CVs"));
	assert_non_null(strstr(e.msg, "check field.talent.cv in the config"));
	assert_string_equal(at.last_error_type, "UNKNOWN_FIELD_NAME");
	assert_int_equal(at.stats.retries, 0);
	collected_free(&c);

	/* a write names the record too */
	recs = json_pack("[{s:O, s:{s:s}}]", "id", json_array_get(fx.ids, 3), "fields", "CVs", "x");
	assert_int_equal(airtable_update(&at, fx.cfg.talent_table, recs, 0, NULL, &e), -1);
	assert_non_null(strstr(e.msg, json_string_value(json_array_get(fx.ids, 3))));
	assert_non_null(strstr(e.msg, "field.talent.cv"));
	json_decref(recs);

	/* and the mapping check names every misconfigured field with its table */
	assert_int_equal(airtable_check_mapping(&at, &e), -1);
	assert_non_null(strstr(e.msg, "'CVs' (field.talent.cv)"));
	assert_non_null(strstr(e.msg, "table 'Talent'"));
	airtable_free(&at);
}

static void mapping_check_passes_on_a_matching_base(void **state)
{
	struct airtable at;
	json_t *tables = NULL;
	serr e;

	(void)state;
	client(&at);
	if (airtable_tables(&at, &tables, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(json_object_get(tables, "tables")), 3);
	if (airtable_check_mapping(&at, &e) < 0)
		fail_msg("%s", e.msg);
	json_decref(tables);
	airtable_free(&at);
}

static void single_record_read_and_missing_record_error(void **state)
{
	struct airtable at;
	json_t *rec = NULL;
	const char *id = json_string_value(json_array_get(fx.ids, 42));
	serr e;

	(void)state;
	client(&at);
	if (airtable_get(&at, fx.cfg.talent_table, id, &rec, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(json_string_value(json_object_get(rec, "id")), id);
	assert_string_equal(airtable_str(json_object_get(rec, "fields"), fx.cfg.f_full_name),
			    "Candidate 042");
	json_decref(rec);
	assert_int_equal(airtable_get(&at, fx.cfg.talent_table, "recDoesNotExist01", &rec, &e), -1);
	assert_null(rec);
	assert_non_null(strstr(e.msg, "recDoesNotExist01"));
	assert_non_null(strstr(e.msg, fx.cfg.talent_table));
	airtable_free(&at);
}

static void delete_removes_records_in_batches(void **state)
{
	struct airtable at;
	const char *ids[12];
	json_t *dump;
	serr e;

	(void)state;
	client(&at);
	for (size_t i = 0; i < 12; i++)
		ids[i] = json_string_value(json_array_get(fx.ids, i));
	if (airtable_delete(&at, fx.cfg.talent_table, ids, 12, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(count_requests("DELETE", NULL, NULL), 2);
	dump = talent_dump();
	assert_int_equal(json_array_size(dump), NRECORDS - 12);
	json_decref(dump);
	airtable_free(&at);
}

struct burst {
	int n;
	json_t *ids;
	int rc;
	char msg[SERR_MAX];
};

static void *burst_thread(void *ud)
{
	struct burst *b = ud;
	struct airtable at;
	serr e;

	if (airtable_init(&at, &fx.cfg, &e) < 0) {
		b->rc = -1;
		snprintf(b->msg, sizeof(b->msg), "%s", e.msg);
		return NULL;
	}
	for (int i = 0; i < b->n && b->rc == 0; i++) {
		json_t *rec = NULL;
		if (airtable_get(&at, fx.cfg.talent_table,
				 json_string_value(json_array_get(b->ids, (size_t)i)), &rec, &e) < 0) {
			b->rc = -1;
			snprintf(b->msg, sizeof(b->msg), "%s", e.msg);
		}
		json_decref(rec);
	}
	airtable_free(&at);
	return NULL;
}

static void burst_from_two_threads_stays_within_five_per_second(void **state)
{
	struct burst b[2] = { { .n = 15 }, { .n = 15 } };
	pthread_t th[2];
	json_t *stats, *base, *ids;

	(void)state;
	/* a base of its own: no earlier test's requests in its 1-second window */
	ids = load_base(BURST_BASE, 15);
	b[0].ids = b[1].ids = ids;
	set_opt("airtable.base_id", BURST_BASE);
	/* the real limits: 5/s and a 30 s penalty at the simulator, the default budget here */
	set_opt("airtable.requests_per_second", "5");
	set_opt("airtable.rate_margin", "0.95");
	set_opt("airtable.rate_penalty_seconds", "30");
	sim_limits(5, 30000, 300000);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, burst_thread, &b[i]), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (b[i].rc != 0)
			fail_msg("%s", b[i].msg);
	}
	stats = sim_stats(fx.sim);
	base = json_object_get(json_object_get(stats, "bases"), BURST_BASE);
	assert_int_equal(json_integer_value(json_object_get(base, "requests")), 30);
	assert_int_equal(json_integer_value(json_object_get(base, "rate_limited")), 0);
	assert_true(json_integer_value(json_object_get(base, "max_per_second")) <= 5);
	json_decref(stats);
	json_decref(ids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)
		T(table_of_250_records_is_read_across_three_pages),
		T(expired_offset_restarts_the_listing_and_delivers_each_record_once),
		T(listing_gives_up_when_offsets_keep_expiring),
		T(listing_applies_fields_sort_and_max_records),
		T(formula_values_with_quotes_backslashes_and_injection_match_exactly),
		T(writes_of_25_records_are_sent_as_3_requests),
		T(long_formula_switches_to_post_listRecords),
		T(rate_limited_request_is_held_then_retried),
		T(server_errors_and_timeouts_are_survived_with_correct_data),
		T(create_that_may_have_been_applied_is_not_sent_twice),
		T(unknown_field_is_reported_with_field_table_and_config_key),
		T(mapping_check_passes_on_a_matching_base),
		T(single_record_read_and_missing_record_error),
		T(delete_removes_records_in_batches),
		T(burst_from_two_threads_stays_within_five_per_second),
#undef T
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
