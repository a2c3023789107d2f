/*
 * Integration tests of the (N) sync-back against the simulator and a real
 * PostgreSQL database: batches of 10, recruiters' edits kept and recorded
 * as feedback, re-runs that write nothing, the candidate sensor left quiet,
 * Start Matchmaking unchecked and Verification Status never overwritten,
 * and (N) columns renamed in the config written, and read back by the
 * feedback step, under their configured names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "config/config.h"
#include "core/log.h"
#include "llm/normalize_schema.h"
#include "orchestrator/job.h"
#include "orchestrator/run.h"
#include "orchestrator/sensor.h"
#include "pipeline/feedback.h"
#include "pipeline/syncback.h"
#include "sim/generate.h"
#include "sim/sim.h"
#include "sim/sim_openrouter.h"
#include "store/normalized.h"
#include "support/harness_db.h"
#include "support/harness_sim.h"

#define BASE_ID "appSyncbackTest01"
#define CANDIDATES 25
#define JOBS 3
#define CAND_JOB "upload_normalized_to_airtable_job"
#define JOBS_JOB "upload_normalized_jobs_to_airtable_job"
#define PIPELINE_END_JOB "syncback_job_pipeline_end_test_job"
#define FEEDBACK_JOB "syncback_apply_feedback_test_job"

/* (N) columns a base may call otherwise: field.talent_n.*, field.job_n.* */
#define RENAMED_SUMMARY "Summary (normalized)"
#define RENAMED_VERIFIED "Verified?"
#define RENAMED_MUST "Must-haves (normalized)"

struct fx {
	struct sim *sim;
	struct config cfg;
	struct store st;
	json_t *base;
	char name[48];
};

static json_t *table_of(json_t *base, const char *id)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(base, "tables"), i, t)
		if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0)
			return t;
	return NULL;
}

static const char *record_id(struct fx *f, const char *table, size_t i)
{
	return json_string_value(
		json_object_get(json_array_get(json_object_get(table_of(f->base, table), "records"), i),
				"id"));
}

static void cfg_set(struct config *c, const char *k, const char *v)
{
	serr e;

	if (config_set(c, k, v, &e) < 0)
		fail_msg("%s", e.msg);
}

/* The text fields of a record as the model's input. */
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
			assert_int_equal(buf_printf(out, " %s,", json_string_value(x)), 0);
		assert_int_equal(buf_putc(out, '\n'), 0);
	}
}

/* Store the simulated model's validated normalization of every record of a table. */
static void normalize_table(struct fx *f, const char *table, int jobs)
{
	const json_t *schema = jobs ? normalize_schema_job() : normalize_schema_candidate();
	size_t i;
	json_t *rec;

	json_array_foreach(json_object_get(table_of(f->base, table), "records"), i, rec) {
		struct normalized_in in;
		struct buf text;
		json_t *answer;
		serr e;

		buf_init(&text, 0);
		record_text(rec, &text);
		answer = sim_openrouter_answer(schema, buf_cstr(&text));
		assert_non_null(answer);
		if ((jobs ? normalize_validate_job(NULL, answer, &e)
			  : normalize_validate_candidate(NULL, answer, &e)) < 0)
			fail_msg("simulated answer is invalid: %s", e.msg);
		memset(&in, 0, sizeof(in));
		in.record_id = json_string_value(json_object_get(rec, "id"));
		in.model = "sim/model";
		in.prompt_version = 1;
		in.input_hash = "hash";
		in.normalized = answer;
		if ((jobs ? normalized_job_replace(&f->st, &in, &e)
			  : normalized_candidate_replace(&f->st, &in, &e)) < 0)
			fail_msg("%s", e.msg);
		json_decref(answer);
		buf_free(&text);
	}
}

/* Rename a field of the generated base, as a recruiter renames a column. */
static void rename_field(json_t *base, const char *table, const char *from, const char *to)
{
	size_t i;
	json_t *fd;

	json_array_foreach(json_object_get(table_of(base, table), "fields"), i, fd)
		if (strcmp(json_string_value(json_object_get(fd, "name")), from) == 0) {
			assert_int_equal(json_object_set_new(fd, "name", json_string(to)), 0);
			return;
		}
	fail_msg("no field '%s' in table '%s'", from, table);
}

/* renamed: the base and the config call three (N) columns by other names. */
static struct fx *fx_new_base(const char *name, int renamed)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct harness_sim_opts so;
	struct sample_opts go;
	const char *root = getenv("SCOUT_TEST_HOME");
	char home[512];
	struct buf url;
	serr e;

	assert_non_null(f);
	snprintf(f->name, sizeof(f->name), "%s", name);
	harness_sim_opts_init(&so);
	so.load_small_base = 0;
	so.airtable_rate = 50;
	f->sim = harness_sim_start(&so);
	assert_non_null(f->sim);
	sample_opts_init(&go);
	go.seed = 11;
	go.candidates = CANDIDATES;
	go.jobs = JOBS;
	go.base_id = BASE_ID;
	go.with_pdfs = 0;
	go.oversized_bytes = 0;
	f->base = sample_generate(&go, &e);
	if (!f->base)
		fail_msg("%s", e.msg);
	if (renamed) {
		rename_field(f->base, HARNESS_TALENT, "(N) Professional Summary", RENAMED_SUMMARY);
		rename_field(f->base, HARNESS_TALENT, "(N) Verification Status", RENAMED_VERIFIED);
		rename_field(f->base, HARNESS_JOBS, "(N) Must Have Skills", RENAMED_MUST);
	}
	if (sim_load_base(f->sim, f->base, &e) < 0)
		fail_msg("%s", e.msg);

	assert_int_equal(config_init(&f->cfg, &e), 0);
	if (renamed) {
		cfg_set(&f->cfg, "field.talent_n.professional_summary", RENAMED_SUMMARY);
		cfg_set(&f->cfg, "field.talent_n.verification_status", RENAMED_VERIFIED);
		cfg_set(&f->cfg, "field.job_n.must_have_skills", RENAMED_MUST);
	}
	snprintf(home, sizeof(home), "%s/%s", root ? root : "/tmp", name);
	mkdir(home, 0755);
	cfg_set(&f->cfg, "home", home);
	cfg_set(&f->cfg, "airtable.api_url", sim_url(f->sim));
	cfg_set(&f->cfg, "airtable.api_key", HARNESS_SIM_KEY);
	cfg_set(&f->cfg, "airtable.base_id", BASE_ID);
	cfg_set(&f->cfg, "airtable.requests_per_second", "50");
	cfg_set(&f->cfg, "sensor.tick_timeout_s", "30");
	log_add_secret(HARNESS_SIM_KEY);
	buf_init(&url, 0);
	if (harness_db_create(name, &url, &e) < 0)
		fail_msg("%s", e.msg);
	store_init(&f->st);
	if (store_open_url(&f->st, buf_cstr(&url), &e) < 0)
		fail_msg("%s", e.msg);
	buf_free(&url);
	normalize_table(f, HARNESS_TALENT, 0);
	normalize_table(f, HARNESS_JOBS, 1);
	return f;
}

static struct fx *fx_new(const char *name)
{
	return fx_new_base(name, 0);
}

static void fx_free(struct fx *f)
{
	serr e;

	store_close(&f->st);
	if (harness_db_drop(f->name, &e) < 0)
		print_error("%s\n", e.msg);
	harness_sim_stop(f->sim);
	json_decref(f->base);
	config_free(&f->cfg);
	free(f);
}

static void must_run(struct fx *f, const char *job, const char *partition)
{
	struct buf id;
	serr e;

	buf_init(&id, 128);
	if (run_foreground(&f->cfg, &f->st, job, partition, &id, &e) < 0)
		fail_msg("%s failed: %s", job, e.msg);
	buf_free(&id);
}

/* Requests of one method to one table's path since the log was last cleared. */
static int requests_to(struct fx *f, const char *method, const char *table)
{
	json_t *log = sim_requests(f->sim), *r;
	size_t i;
	int n = 0;

	json_array_foreach(log, i, r)
		if (strcmp(json_string_value(json_object_get(r, "method")), method) == 0 &&
		    strstr(json_string_value(json_object_get(r, "path")), table))
			n++;
	json_decref(log);
	return n;
}

/* The record's fields as the API returns them now (new reference). */
static json_t *fields_now(struct fx *f, const char *table, const char *id)
{
	json_t *dump = sim_dump_base(f->sim, BASE_ID), *r, *out = NULL;
	size_t i;

	assert_non_null(dump);
	json_array_foreach(json_object_get(table_of(dump, table), "records"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "id")), id) == 0)
			out = json_incref(json_object_get(r, "fields"));
	json_decref(dump);
	assert_non_null(out);
	return out;
}

static int64_t count(struct fx *f, const char *sql, const char *param)
{
	const char *p[1] = { param };
	int64_t n = -1;
	serr e;

	if (store_query_i64(&f->st, "count", sql, param ? 1 : 0, param ? p : NULL, &n, &e) < 0)
		fail_msg("%s", e.msg);
	return n;
}

static void edit(struct fx *f, const char *table, const char *id, json_t *fields)
{
	serr e;

	assert_non_null(fields);
	if (sim_edit_record(f->sim, BASE_ID, table, id, fields, &e) < 0)
		fail_msg("%s", e.msg);
	json_decref(fields);
}

static void n_fields_go_out_in_batches_of_ten_and_a_rerun_writes_nothing(void **state)
{
	struct fx *f = fx_new("syncback_batches");
	const char *id = record_id(f, HARNESS_TALENT, 4);
	struct normalized_candidate c;
	json_t *now;
	int found;
	serr e;

	(void)state;
	sim_requests_clear(f->sim);
	must_run(f, CAND_JOB, NULL);
	/* 25 records -> 3 PATCH requests of at most 10 */
	assert_int_equal(requests_to(f, "PATCH", HARNESS_TALENT), 3);
	normalized_candidate_init(&c);
	assert_int_equal(normalized_candidate_get(&f->st, id, &c, &found, &e), 0);
	assert_true(found);
	now = fields_now(f, HARNESS_TALENT, id);
	assert_string_equal(json_string_value(json_object_get(now, "(N) Professional Summary")),
			    json_string_value(json_object_get(c.normalized,
							      "n_professional_summary")));
	assert_string_equal(json_string_value(json_object_get(now, "(N) Verification Status")),
			    SYNCBACK_UNVERIFIED);
	json_decref(now);
	normalized_candidate_free(&c);
	assert_int_equal(count(f, "SELECT count(DISTINCT record_id) FROM airtable_writes", NULL),
			 CANDIDATES);

	/* nothing changed: the re-run reads once and writes nothing */
	sim_requests_clear(f->sim);
	must_run(f, CAND_JOB, NULL);
	assert_int_equal(requests_to(f, "PATCH", HARNESS_TALENT), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM human_edits", NULL), 0);
	fx_free(f);
}

static void a_recruiters_edit_survives_a_rerun_and_is_recorded_as_feedback(void **state)
{
	struct fx *f = fx_new("syncback_edit");
	const char *id = record_id(f, HARNESS_TALENT, 2);
	json_t *now;

	(void)state;
	must_run(f, CAND_JOB, id);
	edit(f, HARNESS_TALENT, id,
	     json_pack("{s:s, s:i}", "(N) Professional Summary", "Edited by a recruiter",
		       "(N) Years Of Experience", 42));
	sim_requests_clear(f->sim);
	must_run(f, CAND_JOB, id);
	must_run(f, CAND_JOB, id);
	assert_int_equal(requests_to(f, "PATCH", HARNESS_TALENT), 0);
	now = fields_now(f, HARNESS_TALENT, id);
	assert_string_equal(json_string_value(json_object_get(now, "(N) Professional Summary")),
			    "Edited by a recruiter");
	assert_int_equal(json_integer_value(json_object_get(now, "(N) Years Of Experience")), 42);
	json_decref(now);
	/* one row per edited cell, however often it is seen */
	assert_int_equal(count(f, "SELECT count(*) FROM human_edits WHERE record_id = $1", id), 2);
	assert_int_equal(count(f, "SELECT count(*) FROM human_edits WHERE record_id = $1"
				  " AND field = '(N) Professional Summary'"
				  " AND human_value = '\"Edited by a recruiter\"'"
				  " AND scout_value IS NOT NULL AND scout_value <> human_value",
			       id),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM human_edits WHERE human_value = '42'", NULL),
			 1);
	fx_free(f);
}

static void verification_status_verified_is_never_overwritten(void **state)
{
	struct fx *f = fx_new("syncback_verified");
	const char *fresh = record_id(f, HARNESS_TALENT, 5), *seen = record_id(f, HARNESS_TALENT, 6);
	json_t *now;

	(void)state;
	/* a recruiter verifies one candidate before scout ever wrote, one after */
	edit(f, HARNESS_TALENT, fresh, json_pack("{s:s}", "(N) Verification Status", "verified"));
	must_run(f, CAND_JOB, fresh);
	must_run(f, CAND_JOB, seen);
	edit(f, HARNESS_TALENT, seen, json_pack("{s:s}", "(N) Verification Status", "verified"));
	must_run(f, CAND_JOB, seen);
	must_run(f, CAND_JOB, fresh);
	now = fields_now(f, HARNESS_TALENT, fresh);
	assert_string_equal(json_string_value(json_object_get(now, "(N) Verification Status")),
			    "verified");
	json_decref(now);
	now = fields_now(f, HARNESS_TALENT, seen);
	assert_string_equal(json_string_value(json_object_get(now, "(N) Verification Status")),
			    "verified");
	json_decref(now);
	/* the candidates' verified flags follow the recruiters */
	assert_int_equal(count(f, "SELECT count(*) FROM normalized_candidates WHERE verified", NULL),
			 2);
	fx_free(f);
}

static void scouts_own_writes_do_not_retrigger_the_candidate_sensor(void **state)
{
	struct fx *f = fx_new("syncback_sensor");
	struct sensor_tick_outcome o;
	serr e;

	(void)state;
	sensor_tick_outcome_init(&o);
	if (sensor_tick_now(&f->cfg, &f->st, "airtable_candidate_sensor", 1, "test", &o, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(o.run_ids), CANDIDATES);
	sensor_tick_outcome_free(&o);
	if (store_exec(&f->st, "finish runs",
		       "UPDATE runs SET status = 'SUCCESS', started_at = now(), ended_at = now()"
		       " WHERE status IN ('QUEUED', 'STARTED')",
		       0, NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	sim_requests_clear(f->sim);
	must_run(f, CAND_JOB, NULL);
	assert_int_equal(requests_to(f, "PATCH", HARNESS_TALENT), 3);

	sensor_tick_outcome_init(&o);
	if (sensor_tick_now(&f->cfg, &f->st, "airtable_candidate_sensor", 1, "test", &o, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_not_equal(o.status, "FAILURE");
	assert_int_equal(json_array_size(o.run_ids), 0);
	sensor_tick_outcome_free(&o);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE job <> $1", CAND_JOB),
			 CANDIDATES);
	fx_free(f);
}

static void start_matchmaking_is_unchecked_after_the_job_pipelines_sync_back(void **state)
{
	static const struct job_def end = {
		.name = PIPELINE_END_JOB,
		.description = "the job pipeline's last step alone",
		.partitioning = PART_JOBS,
		.allow_all = 1,
		.tags = "airtable",
		.steps = { { "sync_back", step_syncback_job } },
	};
	struct fx *f = fx_new("syncback_matchmaking");
	const char *a = record_id(f, HARNESS_JOBS, 0), *b = record_id(f, HARNESS_JOBS, 1);
	json_t *now;
	serr e;

	(void)state;
	if (!job_def_find(PIPELINE_END_JOB) && job_defs_register(&end, &e) < 0)
		fail_msg("%s", e.msg);
	edit(f, HARNESS_JOBS, a, json_pack("{s:b}", "Start Matchmaking", 1));
	edit(f, HARNESS_JOBS, b, json_pack("{s:b}", "Start Matchmaking", 1));

	/* the upload job writes the (N) fields and leaves the trigger alone */
	must_run(f, JOBS_JOB, b);
	now = fields_now(f, HARNESS_JOBS, b);
	assert_true(json_is_true(json_object_get(now, "Start Matchmaking")));
	assert_non_null(json_object_get(now, "(N) Job Title"));
	json_decref(now);

	sim_requests_clear(f->sim);
	must_run(f, PIPELINE_END_JOB, a);
	assert_int_equal(requests_to(f, "PATCH", HARNESS_JOBS), 1);
	now = fields_now(f, HARNESS_JOBS, a);
	assert_null(json_object_get(now, "Start Matchmaking"));
	assert_non_null(json_object_get(now, "(N) Job Title"));
	assert_non_null(json_object_get(now, "(N) Narrative Role"));
	json_decref(now);

	/* already unchecked and nothing changed: no write at all */
	sim_requests_clear(f->sim);
	must_run(f, PIPELINE_END_JOB, a);
	assert_int_equal(requests_to(f, "PATCH", HARNESS_JOBS), 0);
	fx_free(f);
}

/* The job's stored normalization (new reference). */
static json_t *job_answer(struct fx *f, const char *id)
{
	struct normalized_job nj;
	json_t *a;
	int found = 0;
	serr e;

	normalized_job_init(&nj);
	if (normalized_job_get(&f->st, id, &nj, &found, &e) < 0)
		fail_msg("%s", e.msg);
	assert_true(found);
	a = json_incref(nj.normalized);
	normalized_job_free(&nj);
	return a;
}

static void renamed_n_columns_are_written_and_read_under_their_configured_names(void **state)
{
	static const struct job_def feedback = {
		.name = FEEDBACK_JOB,
		.description = "the feedback job's first step alone",
		.partitioning = PART_JOBS,
		.tags = "airtable",
		.steps = { { "apply_job_feedback", step_apply_job_feedback } },
	};
	struct fx *f = fx_new_base("syncback_renamed", 1);
	const char *cand = record_id(f, HARNESS_TALENT, 3), *job = record_id(f, HARNESS_JOBS, 1);
	struct normalized_candidate c;
	const json_t *must;
	json_t *now, *answer;
	int found;
	serr e;

	(void)state;
	if (!job_def_find(FEEDBACK_JOB) && job_defs_register(&feedback, &e) < 0)
		fail_msg("%s", e.msg);

	/* Talent: the values land in the renamed columns, nothing under the default names */
	must_run(f, CAND_JOB, cand);
	normalized_candidate_init(&c);
	assert_int_equal(normalized_candidate_get(&f->st, cand, &c, &found, &e), 0);
	assert_true(found);
	now = fields_now(f, HARNESS_TALENT, cand);
	assert_string_equal(json_string_value(json_object_get(now, RENAMED_SUMMARY)),
			    json_string_value(json_object_get(c.normalized,
							      "n_professional_summary")));
	assert_string_equal(json_string_value(json_object_get(now, RENAMED_VERIFIED)),
			    SYNCBACK_UNVERIFIED);
	assert_null(json_object_get(now, "(N) Professional Summary"));
	assert_null(json_object_get(now, "(N) Verification Status"));
	json_decref(now);
	normalized_candidate_free(&c);

	/* the recruiter's verification is read from the renamed column */
	edit(f, HARNESS_TALENT, cand, json_pack("{s:s}", RENAMED_VERIFIED, "verified"));
	must_run(f, CAND_JOB, cand);
	assert_int_equal(count(f, "SELECT count(*) FROM normalized_candidates WHERE verified"
				  " AND record_id = $1",
			       cand),
			 1);

	/* Customers STT: the must-haves land in the renamed column */
	must_run(f, JOBS_JOB, job);
	answer = job_answer(f, job);
	now = fields_now(f, HARNESS_JOBS, job);
	assert_string_equal(json_string_value(json_object_get(now, RENAMED_MUST)),
			    json_string_value(json_object_get(answer, "n_must_have_skills")));
	assert_null(json_object_get(now, "(N) Must Have Skills"));
	json_decref(now);
	json_decref(answer);

	/* a recruiter's edit of the renamed column is what the feedback step applies */
	edit(f, HARNESS_JOBS, job, json_pack("{s:s}", RENAMED_MUST, "Quantum Basketweaving"));
	must_run(f, FEEDBACK_JOB, job);
	answer = job_answer(f, job);
	assert_string_equal(json_string_value(json_object_get(answer, "n_must_have_skills")),
			    "Quantum Basketweaving");
	must = json_object_get(answer, "must_have_skills");
	assert_int_equal(json_array_size(must), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(must, 0), "name")),
			    "Quantum Basketweaving");
	json_decref(answer);
	assert_int_equal(count(f, "SELECT count(*) FROM human_edits WHERE field = $1", RENAMED_MUST),
			 1);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(n_fields_go_out_in_batches_of_ten_and_a_rerun_writes_nothing),
		cmocka_unit_test(a_recruiters_edit_survives_a_rerun_and_is_recorded_as_feedback),
		cmocka_unit_test(verification_status_verified_is_never_overwritten),
		cmocka_unit_test(scouts_own_writes_do_not_retrigger_the_candidate_sensor),
		cmocka_unit_test(start_matchmaking_is_unchecked_after_the_job_pipelines_sync_back),
		cmocka_unit_test(renamed_n_columns_are_written_and_read_under_their_configured_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
