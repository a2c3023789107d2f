/*
 * Integration tests of the foundation jobs against the simulator and a
 * real PostgreSQL database: partitions, candidate and job ingestion with
 * CV PDFs and Notion descriptions, the rate limit, faults, and errors that
 * name what is misconfigured.
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
#include "core/base64.h"
#include "core/log.h"
#include "orchestrator/run.h"
#include "sim/generate.h"
#include "sim/pdfgen.h"
#include "sim/sim.h"
#include "store/partitions.h"
#include "store/raw.h"
#include "store/runs.h"
#include "support/harness_db.h"
#include "support/harness_run.h"
#include "support/harness_sim.h"

#define BASE_ID "appIngestTest0001"
#define MARKER "Zyxwvut marker line for the good planted CV"

struct fx {
	struct sim *sim;
	struct config cfg;
	struct store st;
	struct buf url;
	json_t *base;
	char name[48];
	/* planted records */
	char good_id[32], corrupt_id[32], big_id[32];
};

static json_t *pdf_attachment(const char *filename, const struct buf *pdf)
{
	struct buf b64;
	json_t *a = NULL;

	buf_init(&b64, 0);
	if (base64_encode(pdf->data, pdf->len, &b64) == 0)
		a = json_pack("[{s:s,s:s,s:s}]", "filename", filename, "type", "application/pdf",
			      "data_base64", buf_cstr(&b64));
	buf_free(&b64);
	return a;
}

static json_t *talent_records(json_t *base)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(base, "tables"), i, t)
		if (strcmp(json_string_value(json_object_get(t, "id")), HARNESS_TALENT) == 0)
			return json_object_get(t, "records");
	return NULL;
}

/* Give three candidates a good, a corrupt and an oversized CV we know. */
static void plant_cvs(struct fx *f)
{
	json_t *recs = talent_records(f->base);
	const char *lines[] = { "Planted Candidate", MARKER, "Rust, Go, Kubernetes" };
	struct buf good, bad, big;
	serr e;

	assert_non_null(recs);
	assert_true(json_array_size(recs) >= 3);
	buf_init(&good, 0);
	buf_init(&bad, 0);
	buf_init(&big, 0);
	assert_int_equal(pdfgen_text(lines, 3, &good, &e), 0);
	assert_int_equal(pdfgen_corrupt(9, &bad, &e), 0);
	assert_int_equal(pdfgen_huge(lines, 3, 3 * 1024 * 1024, 9, &big, &e), 0);
	json_object_set_new(json_object_get(json_array_get(recs, 0), "fields"), "CV",
			    pdf_attachment("good.pdf", &good));
	json_object_set_new(json_object_get(json_array_get(recs, 1), "fields"), "CV",
			    pdf_attachment("broken.pdf", &bad));
	json_object_set_new(json_object_get(json_array_get(recs, 2), "fields"), "CV",
			    pdf_attachment("huge.pdf", &big));
	snprintf(f->good_id, sizeof(f->good_id), "%s",
		 json_string_value(json_object_get(json_array_get(recs, 0), "id")));
	snprintf(f->corrupt_id, sizeof(f->corrupt_id), "%s",
		 json_string_value(json_object_get(json_array_get(recs, 1), "id")));
	snprintf(f->big_id, sizeof(f->big_id), "%s",
		 json_string_value(json_object_get(json_array_get(recs, 2), "id")));
	buf_free(&good);
	buf_free(&bad);
	buf_free(&big);
}

static void cfg_set(struct config *c, const char *k, const char *v)
{
	serr e;

	if (config_set(c, k, v, &e) < 0)
		fail_msg("%s", e.msg);
}

/*
 * A simulator holding a generated base of n candidates (rate: the
 * simulator's and the client's requests per second) and a fresh database.
 */
static struct fx *fx_new(const char *name, int candidates, double rate)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct harness_sim_opts so;
	struct sample_opts go;
	const char *root = getenv("SCOUT_TEST_HOME");
	char home[512], num[32];
	serr e;

	assert_non_null(f);
	snprintf(f->name, sizeof(f->name), "%s", name);
	harness_sim_opts_init(&so);
	so.load_small_base = 0;
	so.airtable_rate = rate;
	so.notion_rate = 50;
	so.penalty_ms = 30000;
	f->sim = harness_sim_start(&so);
	assert_non_null(f->sim);
	sample_opts_init(&go);
	go.seed = 7;
	go.candidates = candidates;
	go.jobs = 4;
	go.base_id = BASE_ID;
	go.oversized_bytes = 0;
	f->base = sample_generate(&go, &e);
	if (!f->base)
		fail_msg("%s", e.msg);
	plant_cvs(f);
	if (sim_load_base(f->sim, f->base, &e) < 0)
		fail_msg("%s", e.msg);

	assert_int_equal(config_init(&f->cfg, &e), 0);
	snprintf(home, sizeof(home), "%s/%s", root ? root : "/tmp", name);
	mkdir(home, 0755);
	cfg_set(&f->cfg, "home", home);
	cfg_set(&f->cfg, "airtable.api_url", sim_url(f->sim));
	cfg_set(&f->cfg, "airtable.api_key", HARNESS_SIM_KEY);
	cfg_set(&f->cfg, "airtable.base_id", BASE_ID);
	cfg_set(&f->cfg, "notion.api_url", sim_url(f->sim));
	cfg_set(&f->cfg, "notion.api_key", HARNESS_SIM_KEY);
	cfg_set(&f->cfg, "notion.requests_per_second", "40");
	snprintf(num, sizeof(num), "%g", rate);
	cfg_set(&f->cfg, "airtable.requests_per_second", num);
	cfg_set(&f->cfg, "pdf.max_file_mb", "2");
	log_add_secret(HARNESS_SIM_KEY);

	buf_init(&f->url, 0);
	if (harness_db_create(name, &f->url, &e) < 0)
		fail_msg("%s", e.msg);
	store_init(&f->st);
	if (store_open_url(&f->st, buf_cstr(&f->url), &e) < 0)
		fail_msg("%s", e.msg);
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
	buf_free(&f->url);
	free(f);
}

static int run_job(struct fx *f, const char *job, const char *partition, serr *e)
{
	struct buf id;
	int rc;

	buf_init(&id, 128);
	rc = run_foreground(&f->cfg, &f->st, job, partition, &id, e);
	buf_free(&id);
	return rc;
}

static void must_run(struct fx *f, const char *job, const char *partition)
{
	serr e;

	if (run_job(f, job, partition, &e) < 0)
		fail_msg("%s failed: %s", job, e.msg);
}

static json_t *base_stats(struct fx *f)
{
	json_t *s = sim_stats(f->sim);
	json_t *b = json_incref(json_object_get(json_object_get(s, "bases"), BASE_ID));

	json_decref(s);
	return b;
}

/*
 * The full ingestion: 250 candidates with PDF CVs, one run per
 * partition from two workers sharing the 5 requests/s budget of the base,
 * and not one 429.
 */
static void full_ingestion_of_250_candidates_stays_under_the_rate_limit(void **state)
{
	struct fx *f = fx_new("ingest_rate", 250, 5);
	struct raw_counts rc;
	json_t *stats;
	int failed;
	serr e;

	(void)state;
	must_run(f, "sync_airtable_candidates_job", NULL);
	if (harness_run_partitions(&f->cfg, buf_cstr(&f->url), "candidate_ingest_job", "candidates",
				   2, &failed, &e) < 0)
		fail_msg("%d runs failed, last: %s", failed, e.msg);
	assert_int_equal(raw_counts_get(&f->st, &rc, &e), 0);
	assert_int_equal(rc.candidates, 250);
	assert_true(rc.candidates_with_pdf_text > 200);
	stats = base_stats(f);
	assert_non_null(stats);
	assert_true(json_integer_value(json_object_get(stats, "requests")) >= 251);
	assert_int_equal(json_integer_value(json_object_get(stats, "rate_limited")), 0);
	assert_true(json_integer_value(json_object_get(stats, "max_per_second")) <= 5);
	json_decref(stats);
	fx_free(f);
}

static int has_error_status(const struct raw_candidate *c, const char *status)
{
	json_error_t je;
	json_t *errs = json_loads(c->extraction_errors_json, 0, &je), *x;
	size_t i;
	int found = 0;

	json_array_foreach(errs, i, x)
		if (strcmp(json_string_value(json_object_get(x, "status")), status) == 0)
			found = 1;
	json_decref(errs);
	return found;
}

static void corrupt_and_oversized_cvs_are_recorded_and_the_rest_ingested(void **state)
{
	struct fx *f = fx_new("ingest_bad_cvs", 40, 50);
	struct raw_candidate c;
	struct raw_counts rc;
	int found;
	serr e;

	(void)state;
	must_run(f, "candidate_ingest_job", NULL);
	assert_int_equal(raw_counts_get(&f->st, &rc, &e), 0);
	assert_int_equal(rc.candidates, 40);

	raw_candidate_init(&c);
	assert_int_equal(raw_candidate_get(&f->st, f->good_id, &c, &found, &e), 0);
	assert_true(found);
	assert_non_null(strstr(c.cv_text_pdf, MARKER));
	assert_string_equal(c.extraction_errors_json, "[]");
	raw_candidate_free(&c);

	raw_candidate_init(&c);
	assert_int_equal(raw_candidate_get(&f->st, f->corrupt_id, &c, &found, &e), 0);
	assert_true(found);
	assert_true(has_error_status(&c, "corrupt"));
	assert_non_null(strstr(c.extraction_errors_json, "broken.pdf"));
	/* still ingested from its Airtable text */
	assert_true(strlen(c.cv_text_airtable) > 20);
	raw_candidate_free(&c);

	raw_candidate_init(&c);
	assert_int_equal(raw_candidate_get(&f->st, f->big_id, &c, &found, &e), 0);
	assert_true(found);
	assert_true(has_error_status(&c, "too_large"));
	raw_candidate_free(&c);
	fx_free(f);
}

/* Every stored record carries exactly the fields the simulator holds. */
static void assert_store_matches_sim(struct fx *f, int expected)
{
	json_t *dump = sim_dump_base(f->sim, BASE_ID), *t, *r;
	size_t i, j;
	int seen = 0;

	assert_non_null(dump);
	json_array_foreach(json_object_get(dump, "tables"), i, t) {
		if (strcmp(json_string_value(json_object_get(t, "id")), HARNESS_TALENT) != 0)
			continue;
		json_array_foreach(json_object_get(t, "records"), j, r) {
			struct raw_candidate c;
			json_error_t je;
			json_t *stored, *want = json_object_get(r, "fields");
			int found;
			serr e;

			raw_candidate_init(&c);
			assert_int_equal(raw_candidate_get(&f->st,
							   json_string_value(json_object_get(r, "id")),
							   &c, &found, &e), 0);
			assert_true(found);
			stored = json_loads(c.fields_json, 0, &je);
			assert_non_null(stored);
			/* attachment URLs are signed per read: compare everything else */
			json_object_del(stored, "CV");
			want = json_deep_copy(want);
			json_object_del(want, "CV");
			assert_true(json_equal(stored, want));
			json_decref(stored);
			json_decref(want);
			raw_candidate_free(&c);
			seen++;
		}
	}
	assert_int_equal(seen, expected);
	json_decref(dump);
}

static void add_fault(struct fx *f, enum sim_fault_kind kind, int count, int timeout_ms)
{
	struct sim_fault fl;
	serr e;

	sim_fault_init(&fl, kind);
	fl.count = count;
	snprintf(fl.path_contains, sizeof(fl.path_contains), "%s", HARNESS_TALENT);
	if (timeout_ms)
		fl.timeout_ms = timeout_ms;
	if (sim_add_fault(f->sim, &fl, &e) < 0)
		fail_msg("%s", e.msg);
}

static void faults_429_503_and_timeout_are_survived_with_correct_data(void **state)
{
	struct fx *f = fx_new("ingest_faults", 120, 50);
	json_t *stats;

	(void)state;
	cfg_set(&f->cfg, "airtable.rate_penalty_seconds", "1");
	cfg_set(&f->cfg, "airtable.backoff_ms", "50");
	cfg_set(&f->cfg, "airtable.timeout_ms", "1500");
	add_fault(f, SIM_FAULT_429, 1, 0);
	add_fault(f, SIM_FAULT_503, 2, 0);
	add_fault(f, SIM_FAULT_TIMEOUT, 1, 3000);
	must_run(f, "candidate_ingest_job", NULL);
	stats = sim_stats(f->sim);
	assert_int_equal(json_integer_value(json_object_get(stats, "faults_applied")), 4);
	json_decref(stats);
	assert_store_matches_sim(f, 120);
	fx_free(f);
}

static void a_misconfigured_field_name_is_reported_with_field_and_table(void **state)
{
	struct fx *f = fx_new("ingest_bad_field", 10, 50);
	struct run_filter rf = { 0 };
	struct run_list runs;
	serr e;

	(void)state;
	cfg_set(&f->cfg, "field.talent.full_name", "Full Nmae");
	assert_int_equal(run_job(f, "sync_airtable_candidates_job", NULL, &e), -1);
	assert_non_null(strstr(e.msg, "Full Nmae"));
	assert_non_null(strstr(e.msg, HARNESS_TALENT));
	assert_non_null(strstr(e.msg, "field.talent.full_name"));
	assert_null(strstr(e.msg, HARNESS_SIM_KEY));
	/* the failure is in the run log too */
	run_list_init(&runs);
	rf.job = "sync_airtable_candidates_job";
	assert_int_equal(runs_list(&f->st, &rf, &runs, &e), 0);
	assert_int_equal(runs.n, 1);
	assert_string_equal(runs.items[0].status, "FAILURE");
	assert_non_null(strstr(runs.items[0].error, "Full Nmae"));
	run_list_free(&runs);
	fx_free(f);
}

static int count_api(json_t *log, const char *api)
{
	size_t i;
	json_t *r;
	int n = 0;

	json_array_foreach(log, i, r)
		if (strcmp(json_string_value(json_object_get(r, "api")), api) == 0)
			n++;
	return n;
}

static void an_unchanged_candidate_is_not_downloaded_again(void **state)
{
	struct fx *f = fx_new("ingest_unchanged", 20, 50);
	json_t *log, *edit;
	struct raw_candidate c;
	int found;
	serr e;

	(void)state;
	must_run(f, "candidate_ingest_job", NULL);
	log = sim_requests(f->sim);
	assert_true(count_api(log, "attachment") >= 10);
	json_decref(log);
	sim_requests_clear(f->sim);
	must_run(f, "candidate_ingest_job", NULL);
	log = sim_requests(f->sim);
	assert_int_equal(count_api(log, "attachment"), 0);
	json_decref(log);
	raw_candidate_init(&c);
	assert_int_equal(raw_candidate_get(&f->st, f->good_id, &c, &found, &e), 0);
	assert_non_null(strstr(c.cv_text_pdf, MARKER));
	raw_candidate_free(&c);

	/* a recruiter edits the summary: that one candidate is read again */
	edit = json_pack("{s:s}", "Professional Summary", "Now leads a platform team.");
	if (sim_edit_record(f->sim, BASE_ID, HARNESS_TALENT, f->good_id, edit, &e) < 0)
		fail_msg("%s", e.msg);
	json_decref(edit);
	sim_requests_clear(f->sim);
	must_run(f, "candidate_ingest_job", NULL);
	log = sim_requests(f->sim);
	assert_int_equal(count_api(log, "attachment"), 1);
	json_decref(log);
	raw_candidate_init(&c);
	assert_int_equal(raw_candidate_get(&f->st, f->good_id, &c, &found, &e), 0);
	assert_non_null(strstr(c.cv_text_airtable, "Now leads a platform team."));
	raw_candidate_free(&c);
	fx_free(f);
}

static void a_record_deleted_in_airtable_is_marked_not_forgotten(void **state)
{
	struct fx *f = fx_new("ingest_deleted", 15, 50);
	int found, deleted;
	int64_t active, gone;
	serr e;

	(void)state;
	must_run(f, "sync_airtable_candidates_job", NULL);
	if (sim_delete_record(f->sim, BASE_ID, HARNESS_TALENT, f->corrupt_id, &e) < 0)
		fail_msg("%s", e.msg);
	must_run(f, "sync_airtable_candidates_job", NULL);
	assert_int_equal(partitions_get(&f->st, "candidates", f->corrupt_id, &found, &deleted, &e),
			 0);
	assert_true(found);
	assert_true(deleted);
	assert_int_equal(partitions_count(&f->st, "candidates", &active, &gone, &e), 0);
	assert_int_equal(active, 14);
	assert_int_equal(gone, 1);
	fx_free(f);
}

static void job_descriptions_come_from_notion_or_plain_text(void **state)
{
	struct fx *f = fx_new("ingest_jobs", 5, 50);
	struct raw_counts rc;
	json_t *t, *r;
	size_t i, j;
	serr e;

	(void)state;
	must_run(f, "sync_airtable_jobs_job", NULL);
	must_run(f, "job_ingest_job", NULL);
	assert_int_equal(raw_counts_get(&f->st, &rc, &e), 0);
	assert_int_equal(rc.jobs, 4);
	assert_int_equal(rc.jobs_notion + rc.jobs_text, 4);
	json_array_foreach(json_object_get(f->base, "tables"), i, t) {
		if (strcmp(json_string_value(json_object_get(t, "id")), HARNESS_JOBS) != 0)
			continue;
		json_array_foreach(json_object_get(t, "records"), j, r) {
			const json_t *fields = json_object_get(r, "fields");
			const char *link = json_string_value(json_object_get(fields, "Job Description Link"));
			struct raw_job job;
			int found;

			raw_job_init(&job);
			assert_int_equal(raw_job_get(&f->st, json_string_value(json_object_get(r, "id")),
						     &job, &found, &e), 0);
			assert_true(found);
			if (link && strstr(link, "notion")) {
				assert_string_equal(job.description_source, "notion");
				assert_non_null(job.notion_page_id);
				assert_true(job.description_text[0] == '#');
			} else {
				assert_string_equal(job.description_source, "text");
				assert_true(strlen(job.description_text) > 40);
			}
			raw_job_free(&job);
		}
	}
	fx_free(f);
}

static void a_run_records_its_steps_and_events(void **state)
{
	struct fx *f = fx_new("ingest_runlog", 5, 50);
	struct run_filter rf = { 0 };
	struct run_list runs;
	struct run_event_list ev;
	const char *want[] = { "RUN_START", "STEP_START", "STEP_SUCCESS", "STEP_START",
			       "STEP_SUCCESS", "STEP_START", "MATERIALIZATION", "STEP_SUCCESS",
			       "RUN_SUCCESS" };
	size_t k = 0;
	serr e;

	(void)state;
	must_run(f, "candidate_ingest_job", f->good_id);
	run_list_init(&runs);
	rf.partition_key = f->good_id;
	assert_int_equal(runs_list(&f->st, &rf, &runs, &e), 0);
	assert_int_equal(runs.n, 1);
	assert_string_equal(runs.items[0].status, "SUCCESS");
	run_event_list_init(&ev);
	assert_int_equal(runs_events(&f->st, runs.items[0].id, 0, 0, &ev, &e), 0);
	for (size_t i = 0; i < ev.n && k < 9; i++) {
		if (strcmp(ev.items[i].type, "LOG") == 0)
			continue;
		assert_string_equal(ev.items[i].type, want[k]);
		k++;
	}
	assert_int_equal(k, 9);
	run_event_list_free(&ev);
	run_list_free(&runs);

	/* a record Airtable does not have: the run fails and says which */
	assert_int_equal(run_job(f, "candidate_ingest_job", "recDoesNotExist01", &e), -1);
	assert_non_null(strstr(e.msg, "recDoesNotExist01"));
	assert_non_null(strstr(e.msg, "fetch_record"));
	fx_free(f);
}

static void ats_rows_are_mirrored_with_their_stage_columns(void **state)
{
	struct fx *f = fx_new("ingest_ats", 30, 50);
	json_t *t, *r;
	size_t i, j;
	int rows = 0;
	serr e;

	(void)state;
	must_run(f, "sync_airtable_ats_job", NULL);
	json_array_foreach(json_object_get(f->base, "tables"), i, t) {
		if (strcmp(json_string_value(json_object_get(t, "id")), HARNESS_ATS) != 0)
			continue;
		json_array_foreach(json_object_get(t, "records"), j, r) {
			const json_t *fields = json_object_get(r, "fields");
			const json_t *fit = json_object_get(fields, "Potential Talent Fit AI");
			struct ats_row row;
			int found;

			ats_row_init(&row);
			assert_int_equal(ats_row_get(&f->st, json_string_value(json_object_get(r, "id")),
						     &row, &found, &e), 0);
			assert_true(found);
			assert_int_equal(row.stages[ATS_POTENTIAL_FIT].n, json_array_size(fit));
			for (size_t k = 0; k < row.stages[ATS_POTENTIAL_FIT].n; k++)
				assert_string_equal(row.stages[ATS_POTENTIAL_FIT].ids[k],
						    json_string_value(json_array_get(fit, k)));
			assert_string_equal(row.job_record_id,
					    json_string_value(json_array_get(json_object_get(fields, "Job"), 0)));
			ats_row_free(&row);
			rows++;
		}
	}
	assert_true(rows > 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_run_records_its_steps_and_events),
		cmocka_unit_test(corrupt_and_oversized_cvs_are_recorded_and_the_rest_ingested),
		cmocka_unit_test(faults_429_503_and_timeout_are_survived_with_correct_data),
		cmocka_unit_test(a_misconfigured_field_name_is_reported_with_field_and_table),
		cmocka_unit_test(an_unchanged_candidate_is_not_downloaded_again),
		cmocka_unit_test(a_record_deleted_in_airtable_is_marked_not_forgotten),
		cmocka_unit_test(job_descriptions_come_from_notion_or_plain_text),
		cmocka_unit_test(ats_rows_are_mirrored_with_their_stage_columns),
		cmocka_unit_test(full_ingestion_of_250_candidates_stays_under_the_rate_limit),
	};
	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
