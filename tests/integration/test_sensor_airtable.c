/*
 * Integration tests of the Airtable sensors against the simulator and a
 * real PostgreSQL database: one run per new or modified record, nothing
 * for unchanged records, for the overlap window, for non-input fields, for
 * scout's own (N) writes and for link changes; edits made while a run
 * waits are queued later; a record edited back to an earlier state runs
 * again; a preview commits nothing.
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

#include "airtable/airtable.h"
#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/sensor.h"
#include "sim/generate.h"
#include "sim/sim.h"
#include "store/partitions.h"
#include "store/sensors.h"
#include "support/harness_db.h"
#include "support/harness_sim.h"

#define BASE_ID "appSensorTest0001"
#define CANDIDATES 12
#define JOBS 4
#define N_FIELD "(N) Seniority Level"
#define CAND "airtable_candidate_sensor"
#define JOBSENSOR "airtable_job_sensor"

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
	json_t *recs = json_object_get(table_of(f->base, table), "records");

	assert_true(i < json_array_size(recs));
	return json_string_value(json_object_get(json_array_get(recs, i), "id"));
}

static void cfg_set(struct config *c, const char *k, const char *v)
{
	serr e;

	if (config_set(c, k, v, &e) < 0)
		fail_msg("%s", e.msg);
}

/* A generated base (its (N) fields are the ones scout writes) in the simulator and a fresh database. */
static struct fx *fx_new(const char *name)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct harness_sim_opts so;
	struct sample_opts go;
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
	go.seed = 5;
	go.candidates = CANDIDATES;
	go.jobs = JOBS;
	go.base_id = BASE_ID;
	go.with_pdfs = 0;
	go.oversized_bytes = 0;
	f->base = sample_generate(&go, &e);
	if (!f->base)
		fail_msg("%s", e.msg);
	if (sim_load_base(f->sim, f->base, &e) < 0)
		fail_msg("%s", e.msg);

	assert_int_equal(config_init(&f->cfg, &e), 0);
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
	return f;
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

/* One committed tick; the outcome must be freed. */
static void tick(struct fx *f, const char *sensor, struct sensor_tick_outcome *o)
{
	serr e;

	sensor_tick_outcome_init(o);
	if (sensor_tick_now(&f->cfg, &f->st, sensor, 1, "test", o, &e) < 0)
		fail_msg("tick of %s: %s", sensor, e.msg);
	if (strcmp(o->status, "FAILURE") == 0)
		fail_msg("tick of %s failed: %s", sensor, o->error);
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

static int64_t meta_int(const struct sensor_tick_outcome *o, const char *key)
{
	return json_integer_value(json_object_get(o->metadata, key));
}

/* Every run ends as a worker would end it, so the partitions are free again. */
static void finish_runs(struct fx *f)
{
	serr e;

	if (store_exec(&f->st, "finish runs",
		       "UPDATE runs SET status = 'SUCCESS', started_at = now(), ended_at = now()"
		       " WHERE status IN ('QUEUED', 'STARTED')",
		       0, NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
}

static void edit(struct fx *f, const char *table, const char *id, json_t *fields)
{
	serr e;

	assert_non_null(fields);
	if (sim_edit_record(f->sim, BASE_ID, table, id, fields, &e) < 0)
		fail_msg("%s", e.msg);
	json_decref(fields);
}

static const char *run_key_of(const struct sensor_tick_outcome *o, size_t i)
{
	return json_string_value(json_object_get(json_array_get(o->requests, i), "run_key"));
}

static void candidate_sensor_requests_one_run_per_record_then_none_when_nothing_changed(
	void **state)
{
	struct fx *f = fx_new("sensor_first");
	struct sensor_tick_outcome o;
	int64_t active, deleted;
	serr e;

	(void)state;
	tick(f, CAND, &o);
	assert_string_equal(o.status, "SUCCESS");
	assert_null(o.cursor_before);
	assert_non_null(o.cursor_after);
	assert_int_equal(json_array_size(o.run_ids), CANDIDATES);
	assert_int_equal(meta_int(&o, "records"), CANDIDATES);
	assert_true(json_is_true(json_object_get(o.metadata, "full_listing")));
	sensor_tick_outcome_free(&o);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE job = 'candidate_pipeline_job'"
				  " AND tags->>'sensor' = 'airtable_candidate_sensor'"
				  " AND run_key = partition_key || ':' || (tags->>'input_hash')",
			       NULL),
			 CANDIDATES);
	/* new record ids are partitions, each with the input hash of its record */
	assert_int_equal(partitions_count(&f->st, "candidates", &active, &deleted, &e), 0);
	assert_int_equal(active, CANDIDATES);
	assert_int_equal(count(f, "SELECT count(*) FROM partitions WHERE kind = 'candidates'"
				  " AND input_hash IS NOT NULL",
			       NULL),
			 CANDIDATES);

	tick(f, CAND, &o);
	assert_string_equal(o.status, "SKIPPED");
	assert_non_null(strstr(o.reason, "no Talent record"));
	assert_int_equal(json_array_size(o.run_ids), 0);
	assert_int_equal(meta_int(&o, "records"), 0);
	assert_int_equal(meta_int(&o, "airtable_requests"), 1);
	sensor_tick_outcome_free(&o);
	assert_int_equal(count(f, "SELECT count(*) FROM runs", NULL), CANDIDATES);
	assert_int_equal(count(f, "SELECT count(*) FROM sensor_ticks WHERE sensor = $1", CAND), 2);
	fx_free(f);
}

static void an_input_field_edit_yields_exactly_one_run_and_the_overlap_no_second(void **state)
{
	struct fx *f = fx_new("sensor_edit");
	const char *x = record_id(f, HARNESS_TALENT, 3);
	struct sensor_tick_outcome o;
	char prefix[64];

	(void)state;
	tick(f, CAND, &o);
	sensor_tick_outcome_free(&o);
	finish_runs(f);
	edit(f, HARNESS_TALENT, x, json_pack("{s:s}", "Location", "Lisbon, Portugal"));

	tick(f, CAND, &o);
	assert_string_equal(o.status, "SUCCESS");
	assert_int_equal(json_array_size(o.run_ids), 1);
	assert_int_equal(json_array_size(o.requests), 1);
	snprintf(prefix, sizeof(prefix), "%s:", x);
	assert_true(str_starts_with(run_key_of(&o, 0), prefix));
	sensor_tick_outcome_free(&o);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE partition_key = $1", x), 2);

	/* the next tick looks back over the overlap window and sees the record again */
	tick(f, CAND, &o);
	assert_string_equal(o.status, "SKIPPED");
	assert_int_equal(meta_int(&o, "records"), 1);
	assert_int_equal(meta_int(&o, "already_requested"), 1);
	assert_int_equal(json_array_size(o.run_ids), 0);
	sensor_tick_outcome_free(&o);
	assert_int_equal(count(f, "SELECT count(*) FROM runs", NULL), CANDIDATES + 1);
	fx_free(f);
}

static void non_input_fields_scout_writes_and_link_changes_do_not_trigger(void **state)
{
	struct fx *f = fx_new("sensor_quiet");
	const char *x = record_id(f, HARNESS_TALENT, 1), *y = record_id(f, HARNESS_TALENT, 2);
	const char *z = record_id(f, HARNESS_TALENT, 4), *ats = record_id(f, HARNESS_ATS, 0);
	struct sensor_tick_outcome o;
	struct airtable at;
	json_t *upd;
	serr e;

	(void)state;
	tick(f, CAND, &o);
	sensor_tick_outcome_free(&o);
	finish_runs(f);
	/* a recruiter changes a status and a ranking: not inputs */
	edit(f, HARNESS_TALENT, x, json_pack("{s:s,s:i}", "Job Status", "Fraud", "Ranking", 2));
	/* scout writes an (N) field through the API, as the sync-back does */
	assert_int_equal(airtable_init(&at, &f->cfg, &e), 0);
	upd = json_pack("[{s:s,s:{s:s}}]", "id", y, "fields", N_FIELD, "senior");
	if (airtable_update(&at, HARNESS_TALENT, upd, 0, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	json_decref(upd);
	airtable_free(&at);
	/* a candidate is linked to a job's ATS row: the link changes on both sides */
	edit(f, HARNESS_ATS, ats, json_pack("{s:[s]}", f->cfg.a_potential_fit, z));

	tick(f, CAND, &o);
	assert_string_equal(o.status, "SKIPPED");
	assert_int_equal(meta_int(&o, "records"), 0);
	assert_int_equal(json_array_size(o.run_ids), 0);
	sensor_tick_outcome_free(&o);
	assert_int_equal(count(f, "SELECT count(*) FROM runs", NULL), CANDIDATES);
	fx_free(f);
}

static void an_edit_while_the_record_run_waits_is_queued_once_the_run_ends(void **state)
{
	struct fx *f = fx_new("sensor_waiting");
	const char *x = record_id(f, HARNESS_TALENT, 5);
	struct sensor_tick_outcome o;
	char prefix[64];

	(void)state;
	/* no overlap: the later tick does not see the record again, only the kept request */
	cfg_set(&f->cfg, "sensor.overlap_s", "0");
	tick(f, CAND, &o); /* its runs stay QUEUED: no worker here */
	sensor_tick_outcome_free(&o);
	edit(f, HARNESS_TALENT, x, json_pack("{s:s}", "Telegram Handle", "@waiting_edit"));
	tick(f, CAND, &o);
	assert_string_equal(o.status, "SKIPPED");
	assert_int_equal(meta_int(&o, "waiting"), 1);
	sensor_tick_outcome_free(&o);
	assert_int_equal(count(f, "SELECT count(*) FROM sensor_pending WHERE partition_key = $1", x),
			 1);

	finish_runs(f);
	tick(f, CAND, &o);
	assert_string_equal(o.status, "SUCCESS");
	assert_int_equal(meta_int(&o, "records"), 0);
	assert_int_equal(json_array_size(o.run_ids), 1);
	assert_int_equal(meta_int(&o, "waiting_queued"), 1);
	sensor_tick_outcome_free(&o);
	snprintf(prefix, sizeof(prefix), "%s:%%", x);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE status = 'QUEUED'"
				  " AND run_key LIKE $1",
			       prefix),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM sensor_pending", NULL), 0);
	fx_free(f);
}

static void a_record_edited_back_to_an_earlier_state_runs_again(void **state)
{
	struct fx *f = fx_new("sensor_revert");
	const char *x = record_id(f, HARNESS_TALENT, 6);
	struct sensor_tick_outcome o;
	char first_key[160];

	(void)state;
	tick(f, CAND, &o);
	sensor_tick_outcome_free(&o);
	finish_runs(f);
	edit(f, HARNESS_TALENT, x, json_pack("{s:s}", "Telegram Handle", "@state_a"));
	tick(f, CAND, &o);
	assert_int_equal(json_array_size(o.run_ids), 1);
	snprintf(first_key, sizeof(first_key), "%s", run_key_of(&o, 0));
	sensor_tick_outcome_free(&o);
	finish_runs(f);
	edit(f, HARNESS_TALENT, x, json_pack("{s:s}", "Telegram Handle", "@state_b"));
	tick(f, CAND, &o);
	assert_int_equal(json_array_size(o.run_ids), 1);
	sensor_tick_outcome_free(&o);
	finish_runs(f);
	edit(f, HARNESS_TALENT, x, json_pack("{s:s}", "Telegram Handle", "@state_a"));

	tick(f, CAND, &o);
	assert_string_equal(o.status, "SUCCESS");
	assert_int_equal(json_array_size(o.run_ids), 1);
	assert_int_equal(meta_int(&o, "reverted"), 1);
	assert_string_equal(run_key_of(&o, 0), first_key);
	sensor_tick_outcome_free(&o);
	strcat(first_key, ":r%");
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE run_key LIKE $1", first_key), 1);

	/* seen again in the overlap: the marked run is the newest, nothing more */
	tick(f, CAND, &o);
	assert_int_equal(json_array_size(o.run_ids), 0);
	sensor_tick_outcome_free(&o);
	fx_free(f);
}

static void the_job_sensor_requests_job_ingestion_per_changed_job(void **state)
{
	struct fx *f = fx_new("sensor_jobs");
	const char *j = record_id(f, HARNESS_JOBS, 1);
	struct sensor_tick_outcome o;
	int64_t active, deleted;
	serr e;

	(void)state;
	tick(f, JOBSENSOR, &o);
	assert_string_equal(o.status, "SUCCESS");
	assert_int_equal(json_array_size(o.run_ids), JOBS);
	sensor_tick_outcome_free(&o);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE job = 'job_pipeline_job'", NULL),
			 JOBS);
	assert_int_equal(partitions_count(&f->st, "jobs", &active, &deleted, &e), 0);
	assert_int_equal(active, JOBS);
	finish_runs(f);
	/* Start Matchmaking is not an input of job ingestion */
	edit(f, HARNESS_JOBS, j, json_pack("{s:b}", f->cfg.j_start_matchmaking, 1));
	tick(f, JOBSENSOR, &o);
	assert_string_equal(o.status, "SKIPPED");
	sensor_tick_outcome_free(&o);
	edit(f, HARNESS_JOBS, j, json_pack("{s:s}", f->cfg.j_title, "Principal Data Engineer"));
	tick(f, JOBSENSOR, &o);
	assert_string_equal(o.status, "SUCCESS");
	assert_int_equal(json_array_size(o.run_ids), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(o.requests, 0),
							      "partition_key")),
			    j);
	sensor_tick_outcome_free(&o);
	fx_free(f);
}

static void a_preview_commits_nothing(void **state)
{
	struct fx *f = fx_new("sensor_preview");
	struct sensor_tick_outcome o;
	struct sensor_state_list sl;
	serr e;

	(void)state;
	sensor_tick_outcome_init(&o);
	if (sensor_tick_now(&f->cfg, &f->st, CAND, 0, "test", &o, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(o.requests), CANDIDATES);
	assert_null(o.cursor_before);
	assert_non_null(o.cursor_after);
	assert_int_equal(o.tick_id, 0);
	sensor_tick_outcome_free(&o);
	assert_int_equal(count(f, "SELECT count(*) FROM runs", NULL), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM sensor_ticks", NULL), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM partitions", NULL), 0);
	sensor_state_list_init(&sl);
	assert_int_equal(sensors_state_list(&f->st, CAND, &sl, &e), 0);
	assert_int_equal(sl.n, 1);
	assert_null(sl.items[0].cursor);
	assert_int_equal(sl.items[0].version, 0);
	sensor_state_list_free(&sl);
	fx_free(f);
}

static void a_cursor_that_is_not_a_time_fails_the_tick_with_the_fix(void **state)
{
	struct fx *f = fx_new("sensor_badcursor");
	struct sensor_tick_outcome o;
	int won;
	serr e;

	(void)state;
	assert_int_equal(sensors_ensure(&f->st, CAND, 1, &e), 0);
	assert_int_equal(sensors_state_advance(&f->st, CAND, 0, 1, "yesterday", "2026-01-01T00:00:00Z",
					       900, &won, &e),
			 0);
	assert_int_equal(won, 1);
	sensor_tick_outcome_init(&o);
	assert_int_equal(sensor_tick_now(&f->cfg, &f->st, CAND, 1, "test", &o, &e), 0);
	assert_string_equal(o.status, "FAILURE");
	assert_non_null(strstr(o.error, "scout sensor reset"));
	assert_string_equal(o.cursor_after, "yesterday");
	sensor_tick_outcome_free(&o);
	assert_int_equal(sensors_reset_cursor(&f->st, CAND, &e), 0);
	tick(f, CAND, &o);
	assert_string_equal(o.status, "SUCCESS");
	sensor_tick_outcome_free(&o);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			candidate_sensor_requests_one_run_per_record_then_none_when_nothing_changed),
		cmocka_unit_test(an_input_field_edit_yields_exactly_one_run_and_the_overlap_no_second),
		cmocka_unit_test(non_input_fields_scout_writes_and_link_changes_do_not_trigger),
		cmocka_unit_test(an_edit_while_the_record_run_waits_is_queued_once_the_run_ends),
		cmocka_unit_test(a_record_edited_back_to_an_earlier_state_runs_again),
		cmocka_unit_test(the_job_sensor_requests_job_ingestion_per_changed_job),
		cmocka_unit_test(a_preview_commits_nothing),
		cmocka_unit_test(a_cursor_that_is_not_a_time_fails_the_tick_with_the_fix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
