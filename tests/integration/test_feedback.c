/*
 * Integration tests of the recruiter feedback loop and the ATS upload
 * against the simulator and a real PostgreSQL database: a sample base run
 * through the candidate and job pipelines, then a recruiter's edit of a
 * job's (N) Must Have Skills and Start Matchmaking checked, seen by
 * airtable_job_matchmaking_sensor, run through matchmaking_with_feedback_job
 * to the ATS row; and the upload rules (a person's links kept, rejected and
 * Fraud candidates never uploaded, a second upload sending no PATCH).
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
#include "orchestrator/run.h"
#include "orchestrator/sensor.h"
#include "pipeline/ats_upload.h"
#include "sim/generate.h"
#include "sim/sim.h"
#include "store/matches.h"
#include "store/normalized.h"
#include "support/harness_db.h"
#include "support/harness_sim.h"

#define BASE_ID "appFeedbackLoop01"
#define NCAND 12
#define NJOBS 4
#define SENSOR "airtable_job_matchmaking_sensor"

struct fx {
	struct sim *sim;
	struct config cfg;
	struct store st;
	struct buf url;
	json_t *base;
	char name[48];
	char jobs[NJOBS][32];
	char cands[NCAND][32];
};

static void cfg_set(struct config *c, const char *k, const char *v)
{
	serr e;

	if (config_set(c, k, v, &e) < 0)
		fail_msg("%s", e.msg);
}

static json_t *table_records(json_t *base, const char *id)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(base, "tables"), i, t)
		if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0)
			return json_object_get(t, "records");
	return NULL;
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

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct harness_sim_opts so;
	struct sample_opts go;
	const char *root = getenv("SCOUT_TEST_HOME");
	char home[512];
	struct buf api;
	json_t *recs;
	serr e;

	assert_non_null(f);
	snprintf(f->name, sizeof(f->name), "feedback_%d", (int)getpid());
	harness_sim_opts_init(&so);
	so.load_small_base = 0;
	so.airtable_rate = 100;
	so.notion_rate = 100;
	f->sim = harness_sim_start(&so);
	assert_non_null(f->sim);
	sample_opts_init(&go);
	go.seed = 23;
	go.candidates = NCAND;
	go.jobs = NJOBS;
	go.base_id = BASE_ID;
	go.oversized_bytes = 0;
	f->base = sample_generate(&go, &e);
	if (!f->base)
		fail_msg("%s", e.msg);
	if (sim_load_base(f->sim, f->base, &e) < 0)
		fail_msg("%s", e.msg);
	recs = table_records(f->base, HARNESS_JOBS);
	assert_int_equal(json_array_size(recs), NJOBS);
	for (size_t i = 0; i < NJOBS; i++)
		snprintf(f->jobs[i], sizeof(f->jobs[i]), "%s",
			 json_string_value(json_object_get(json_array_get(recs, i), "id")));
	recs = table_records(f->base, HARNESS_TALENT);
	assert_int_equal(json_array_size(recs), NCAND);
	for (size_t i = 0; i < NCAND; i++)
		snprintf(f->cands[i], sizeof(f->cands[i]), "%s",
			 json_string_value(json_object_get(json_array_get(recs, i), "id")));

	assert_int_equal(config_init(&f->cfg, &e), 0);
	snprintf(home, sizeof(home), "%s/%s", root ? root : "/tmp", f->name);
	mkdir(home, 0755);
	cfg_set(&f->cfg, "home", home);
	cfg_set(&f->cfg, "airtable.api_url", sim_url(f->sim));
	cfg_set(&f->cfg, "airtable.api_key", HARNESS_SIM_KEY);
	cfg_set(&f->cfg, "airtable.base_id", BASE_ID);
	cfg_set(&f->cfg, "airtable.requests_per_second", "100");
	cfg_set(&f->cfg, "notion.api_url", sim_url(f->sim));
	cfg_set(&f->cfg, "notion.api_key", HARNESS_SIM_KEY);
	cfg_set(&f->cfg, "notion.requests_per_second", "100");
	buf_init(&api, 0);
	assert_int_equal(buf_printf(&api, "%s/api/v1", sim_url(f->sim)), 0);
	cfg_set(&f->cfg, "openrouter.api_url", buf_cstr(&api));
	buf_free(&api);
	cfg_set(&f->cfg, "openrouter.api_key", HARNESS_SIM_KEY);
	cfg_set(&f->cfg, "llm.embedding_dimensions", "64");
	cfg_set(&f->cfg, "llm.backoff_ms", "5");
	cfg_set(&f->cfg, "sensor.matchmaking_interval_s", "10");
	log_add_secret(HARNESS_SIM_KEY);

	buf_init(&f->url, 0);
	if (harness_db_create(f->name, &f->url, &e) < 0)
		fail_msg("%s", e.msg);
	store_init(&f->st);
	if (store_open_url(&f->st, buf_cstr(&f->url), &e) < 0)
		fail_msg("%s", e.msg);
	must_run(f, "candidate_pipeline_job", NULL);
	must_run(f, "job_pipeline_job", NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	serr e;

	store_close(&f->st);
	if (harness_db_drop(f->name, &e) < 0)
		print_error("%s\n", e.msg);
	harness_sim_stop(f->sim);
	json_decref(f->base);
	config_free(&f->cfg);
	buf_free(&f->url);
	free(f);
	return 0;
}

static void edit(struct fx *f, const char *table, const char *id, json_t *fields)
{
	serr e;

	assert_non_null(fields);
	if (sim_edit_record(f->sim, BASE_ID, table, id, fields, &e) < 0)
		fail_msg("%s", e.msg);
	json_decref(fields);
}

/* The record as the simulator holds it now (new reference to its fields). */
static json_t *record_fields(struct fx *f, const char *table, const char *id)
{
	json_t *base = sim_dump_base(f->sim, BASE_ID), *recs = table_records(base, table), *r, *out = NULL;
	size_t i;

	json_array_foreach(recs, i, r)
		if (strcmp(json_string_value(json_object_get(r, "id")), id) == 0)
			out = json_incref(json_object_get(r, "fields"));
	json_decref(base);
	assert_non_null(out);
	return out;
}

/* The ATS row linked to the job, "" when none. */
static void ats_row_of(struct fx *f, const char *job, char out[32])
{
	json_t *base = sim_dump_base(f->sim, BASE_ID), *recs = table_records(base, HARNESS_ATS), *r;
	size_t i;

	out[0] = '\0';
	json_array_foreach(recs, i, r)
		if (airtable_strings_has(json_object_get(r, "fields"), f->cfg.a_job, job) && !out[0])
			snprintf(out, 32, "%s", json_string_value(json_object_get(r, "id")));
	json_decref(base);
}

/* Empty every stage column of the job's ATS row, so each test starts from a known row. */
static void clear_ats_row(struct fx *f, const char *row)
{
	const char *cols[] = { f->cfg.a_potential_fit,	     f->cfg.a_ai_rejection,
			       f->cfg.a_shortlisted,	     f->cfg.a_client_intro,
			       f->cfg.a_interview1,	     f->cfg.a_interview2,
			       f->cfg.a_interview3,	     f->cfg.a_interview4,
			       f->cfg.a_assignment,	     f->cfg.a_hired,
			       f->cfg.a_intro_rejected,	     f->cfg.a_interview_rejected,
			       f->cfg.a_assignment_rejected, f->cfg.a_negotiations_rejection,
			       f->cfg.a_talent_rejected,     f->cfg.a_on_hold };
	json_t *fields = json_object();

	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		json_object_set_new(fields, cols[i], json_array());
	edit(f, HARNESS_ATS, row, fields);
}

static long count_requests(struct fx *f, const char *method)
{
	json_t *log = sim_requests(f->sim), *r;
	size_t i;
	long n = 0;

	json_array_foreach(log, i, r)
		if (strcmp(json_string_value(json_object_get(r, "api")), "airtable") == 0 &&
		    (!method || strcmp(json_string_value(json_object_get(r, "method")), method) == 0))
			n++;
	json_decref(log);
	return n;
}

static void upload(struct fx *f, const char *job, const char *const *ids, size_t n,
		   struct ats_upload_stats *s)
{
	struct airtable at;
	serr e;

	assert_int_equal(airtable_init(&at, &f->cfg, &e), 0);
	if (ats_upload_shortlist(&at, &f->st, job, "Test Role", ids, n, s, &e) < 0)
		fail_msg("%s", e.msg);
	airtable_free(&at);
}

static void upload_keeps_a_persons_links_and_no_other_column_changes(void **state)
{
	struct fx *f = *state;
	struct ats_upload_stats s;
	const char *first[] = { f->cands[0], f->cands[1] }, *second[] = { f->cands[2] };
	json_t *before, *after, *pot;
	char row[32];

	ats_row_of(f, f->jobs[0], row);
	assert_true(row[0] != '\0');
	clear_ats_row(f, row);
	edit(f, HARNESS_ATS, row,
	     json_pack("{s:[s]}", f->cfg.a_potential_fit, f->cands[5]));
	before = record_fields(f, HARNESS_ATS, row);
	upload(f, f->jobs[0], first, 2, &s);
	assert_int_equal(s.patched, 1);
	assert_int_equal(s.uploaded, 2);
	assert_int_equal(s.kept_human, 1);
	upload(f, f->jobs[0], second, 1, &s);
	after = record_fields(f, HARNESS_ATS, row);
	pot = json_object_get(after, f->cfg.a_potential_fit);
	assert_int_equal(json_array_size(pot), 2);
	assert_true(airtable_strings_has(after, f->cfg.a_potential_fit, f->cands[2]));
	assert_true(airtable_strings_has(after, f->cfg.a_potential_fit, f->cands[5]));
	assert_false(airtable_strings_has(after, f->cfg.a_potential_fit, f->cands[0]));
	assert_int_equal(s.removed, 2);
	/* every other column as it was */
	json_object_del(before, f->cfg.a_potential_fit);
	json_object_del(after, f->cfg.a_potential_fit);
	assert_true(json_equal(before, after));
	json_decref(before);
	json_decref(after);
}

static void rejected_and_fraud_candidates_are_never_uploaded(void **state)
{
	struct fx *f = *state;
	struct ats_upload_stats s;
	const char *ids[] = { f->cands[3], f->cands[4], f->cands[6], f->cands[7] };
	json_t *after;
	char row[32];
	int found = 0;
	serr e;

	ats_row_of(f, f->jobs[1], row);
	assert_true(row[0] != '\0');
	clear_ats_row(f, row);
	edit(f, HARNESS_ATS, row, json_pack("{s:[s],s:[s]}", f->cfg.a_ai_rejection, f->cands[3],
					    f->cfg.a_talent_rejected, f->cands[6]));
	if (normalized_candidate_set_flag(&f->st, f->cands[4], CANDIDATE_EXCLUDED, 1, &found, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(found, 1);
	upload(f, f->jobs[1], ids, 4, &s);
	after = record_fields(f, HARNESS_ATS, row);
	assert_int_equal(json_array_size(json_object_get(after, f->cfg.a_potential_fit)), 1);
	assert_true(airtable_strings_has(after, f->cfg.a_potential_fit, f->cands[7]));
	assert_int_equal(s.skipped_rejected, 2);
	assert_int_equal(s.skipped_excluded, 1);
	json_decref(after);
	if (normalized_candidate_set_flag(&f->st, f->cands[4], CANDIDATE_EXCLUDED, 0, &found, &e) < 0)
		fail_msg("%s", e.msg);
}

static void a_job_without_an_ats_row_gets_one_and_a_second_upload_sends_no_patch(void **state)
{
	struct fx *f = *state;
	struct ats_upload_stats s;
	const char *ids[] = { f->cands[8], f->cands[9] };
	json_t *fields;
	char row[32];

	/* the generator leaves every third job without an ATS row */
	ats_row_of(f, f->jobs[2], row);
	assert_string_equal(row, "");
	upload(f, f->jobs[2], ids, 2, &s);
	assert_int_equal(s.created, 1);
	ats_row_of(f, f->jobs[2], row);
	assert_string_equal(row, s.ats_record_id);
	fields = record_fields(f, HARNESS_ATS, row);
	assert_string_equal(airtable_str(fields, f->cfg.a_job_status), "Sourcing");
	assert_string_equal(airtable_str(fields, f->cfg.a_open_position), "Test Role");
	assert_int_equal(airtable_strings_len(fields, f->cfg.a_potential_fit), 2);
	json_decref(fields);
	sim_requests_clear(f->sim);
	upload(f, f->jobs[2], ids, 2, &s);
	assert_int_equal(s.created, 0);
	assert_int_equal(s.patched, 0);
	assert_int_equal(count_requests(f, "PATCH"), 0);
	assert_int_equal(count_requests(f, "POST"), 0);
}

/* The rank (1-based) of a candidate in the job's latest ranking; 0 when not ranked. */
static size_t rank_of(struct fx *f, const char *job, const char *cand)
{
	struct match_run mr;
	size_t r = 0;
	int found = 0;
	serr e;

	match_run_init(&mr);
	if (matches_latest(&f->st, job, &mr, &found, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(found, 1);
	for (size_t i = 0; i < mr.n_results; i++)
		if (strcmp(mr.results[i].record_id, cand) == 0)
			r = i + 1;
	match_run_free(&mr);
	return r;
}

static const char *last_ranked(struct fx *f, const char *job, char out[32])
{
	struct match_run mr;
	int found = 0;
	serr e;

	match_run_init(&mr);
	if (matches_latest(&f->st, job, &mr, &found, &e) < 0)
		fail_msg("%s", e.msg);
	assert_true(found && mr.n_results > 1);
	snprintf(out, 32, "%s", mr.results[mr.n_results - 1].record_id);
	match_run_free(&mr);
	return out;
}

/* One tick of the sensor, then every run it queued executed here. */
static size_t tick_and_run(struct fx *f, long *airtable_requests)
{
	struct sensor_tick_outcome o;
	size_t n, i;
	json_t *id;
	serr e;

	sensor_tick_outcome_init(&o);
	sim_requests_clear(f->sim);
	if (sensor_tick_now(&f->cfg, &f->st, SENSOR, 1, "test", &o, &e) < 0)
		fail_msg("%s", e.msg);
	if (strcmp(o.status, "FAILURE") == 0)
		fail_msg("tick failed: %s", o.error ? o.error : "");
	if (airtable_requests)
		*airtable_requests = count_requests(f, NULL);
	n = json_array_size(o.run_ids);
	json_array_foreach(o.run_ids, i, id)
		if (run_execute_queued(&f->cfg, &f->st, json_string_value(id), &e) < 0)
			fail_msg("run failed: %s", e.msg);
	sensor_tick_outcome_free(&o);
	return n;
}

static void checkbox_to_ats_through_the_sensor_with_a_must_have_edit(void **state)
{
	struct fx *f = *state;
	const char *job = f->jobs[3];
	struct candidate_skill_list sk = { NULL, 0, NULL };
	char row[32], weak[32], skill[160] = "";
	size_t before, after;
	long reqs = 0;
	json_t *fields;
	int best = -1;
	serr e;

	/* a first ranking, to compare with */
	must_run(f, "matchmaking_job", job);
	last_ranked(f, job, weak);
	before = rank_of(f, job, weak);
	if (candidate_skills_read(&f->st, weak, &sk, &e) < 0)
		fail_msg("%s", e.msg);
	for (size_t i = 0; i < sk.n; i++)
		if (sk.items[i].rating > best) {
			best = sk.items[i].rating;
			snprintf(skill, sizeof(skill), "%s", sk.items[i].name);
		}
	candidate_skill_list_free(&sk);
	assert_true(skill[0] != '\0');

	/* nothing checked: the tick costs one request and queues nothing */
	assert_int_equal(tick_and_run(f, &reqs), 0);
	assert_int_equal(reqs, 1);

	/* the recruiter keeps one must-have skill, the weakest candidate's best, and checks the box */
	edit(f, HARNESS_JOBS, job,
	     json_pack("{s:s,s:s,s:b}", "(N) Must Have Skills", skill, "(N) Nice To Have Skills", "",
		       f->cfg.j_start_matchmaking, 1));
	assert_int_equal(tick_and_run(f, &reqs), 1);
	assert_int_equal(reqs, 1);

	fields = record_fields(f, HARNESS_JOBS, job);
	assert_false(airtable_bool(fields, f->cfg.j_start_matchmaking));
	assert_string_equal(airtable_str(fields, "(N) Must Have Skills"), skill);
	json_decref(fields);
	assert_int_equal(count_requests(f, NULL) > 0, 1);
	after = rank_of(f, job, weak);
	assert_true(after > 0 && after < before);

	/* the shortlist is on the job's ATS row */
	ats_row_of(f, job, row);
	assert_true(row[0] != '\0');
	fields = record_fields(f, HARNESS_ATS, row);
	assert_true(airtable_strings_has(fields, f->cfg.a_potential_fit, weak));
	json_decref(fields);

	/* unchecked: the next tick requests nothing */
	assert_int_equal(tick_and_run(f, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(upload_keeps_a_persons_links_and_no_other_column_changes),
		cmocka_unit_test(rejected_and_fraud_candidates_are_never_uploaded),
		cmocka_unit_test(a_job_without_an_ats_row_gets_one_and_a_second_upload_sends_no_patch),
		cmocka_unit_test(checkbox_to_ats_through_the_sensor_with_a_must_have_edit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
