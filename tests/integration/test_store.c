/*
 * Integration tests of the store against the test server (DATABASE_URL set
 * by scripts/test.sh): migrations, statement errors, partitions, raw
 * upserts and the run/event log. Each test gets its own database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/harness_db.h"
#include "core/util.h"
#include "store/migrate.h"
#include "store/partitions.h"
#include "store/raw.h"
#include "store/runs.h"
#include "store/store.h"

struct fixture {
	struct store s;
	char name[64];
};

static int setup_named(void **state, const char *name)
{
	struct fixture *f = calloc(1, sizeof(*f));
	serr e;

	if (!f)
		return -1;
	snprintf(f->name, sizeof(f->name), "%s", name);
	if (harness_db_open(f->name, &f->s, &e) < 0) {
		print_error("cannot create test database '%s': %s\n", name, e.msg);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	serr e;

	if (!f)
		return 0;
	store_close(&f->s);
	if (harness_db_drop(f->name, &e) < 0)
		print_error("cannot drop test database: %s\n", e.msg);
	free(f);
	return 0;
}

#define SETUP(fn, dbname)                           \
	static int fn(void **state)                 \
	{                                           \
		return setup_named(state, dbname); \
	}

SETUP(setup_migrate, "store_migrate")
SETUP(setup_checksum, "store_checksum")
SETUP(setup_unknown, "store_unknown")
SETUP(setup_concurrent, "store_concurrent")
SETUP(setup_errors, "store_errors")
SETUP(setup_partitions, "store_partitions")
SETUP(setup_partitions_add, "store_partitions_add")
SETUP(setup_raw_candidates, "store_raw_candidates")
SETUP(setup_raw_jobs, "store_raw_jobs")
SETUP(setup_ats, "store_ats")
SETUP(setup_runs, "store_runs")
SETUP(setup_run_keys, "store_run_keys")

static int64_t count(struct store *s, const char *sql)
{
	int64_t n = -1;
	serr e;

	if (store_query_i64(s, "count", sql, 0, NULL, &n, &e) < 0)
		fail_msg("%s", e.msg);
	return n;
}

/* Every column, index and constraint of the public schema, as one text. */
static char *schema_text(struct store *s)
{
	PGresult *r = NULL;
	serr e;
	char *out;

	if (store_exec(s, "describe the schema",
		       "SELECT string_agg(x, E'\\n' ORDER BY x) FROM ("
		       " SELECT table_name || '.' || column_name || ' ' || data_type || ' ' ||"
		       "  is_nullable || ' ' || coalesce(column_default, '') AS x"
		       "  FROM information_schema.columns WHERE table_schema = 'public'"
		       " UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'"
		       " UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid)"
		       "  FROM pg_constraint WHERE connamespace = 'public'::regnamespace) t",
		       0, NULL, &r, &e) < 0)
		fail_msg("%s", e.msg);
	out = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	assert_non_null(out);
	return out;
}

static void migrate_twice_applies_nothing_and_keeps_the_schema(void **state)
{
	struct fixture *f = *state;
	char *before, *after;
	int applied = -1;
	serr e;

	/* the harness already migrated this database once */
	assert_true(count(&f->s, "SELECT count(*) FROM schema_migrations") >= 1);
	before = schema_text(&f->s);
	assert_int_equal(store_migrate(&f->s, &applied, &e), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(store_migrate(&f->s, &applied, &e), 0);
	assert_int_equal(applied, 0);
	after = schema_text(&f->s);
	assert_string_equal(before, after);
	assert_non_null(strstr(before, "raw_candidates.input_hash text NO"));
	assert_non_null(strstr(before, "runs_run_key_idx"));
	free(before);
	free(after);
}

static void migrate_applies_pending_files_in_order(void **state)
{
	struct fixture *f = *state;
	struct migration *m = NULL;
	size_t n = 0;
	int applied = -1;
	serr e;

	assert_int_equal(migrations_list(&m, &n, &e), 0);
	assert_int_equal(store_exec(&f->s, "reset", "DROP SCHEMA public CASCADE", 0, NULL, NULL, &e),
			 0);
	assert_int_equal(store_exec(&f->s, "reset", "CREATE SCHEMA public", 0, NULL, NULL, &e), 0);
	assert_int_equal(store_migrate(&f->s, &applied, &e), 0);
	assert_int_equal(applied, (int)n);
	assert_int_equal(count(&f->s, "SELECT count(*) FROM schema_migrations"), (int64_t)n);
	assert_int_equal(count(&f->s, "SELECT min(version) FROM schema_migrations"), 1);
	assert_int_equal(count(&f->s, "SELECT count(*) FROM raw_candidates"), 0);
	free(m);
}

static void changed_migration_is_reported_before_anything_runs(void **state)
{
	struct fixture *f = *state;
	int applied = -1;
	serr e;

	assert_int_equal(store_exec(&f->s, "tamper",
				    "UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 1",
				    0, NULL, NULL, &e),
			 0);
	assert_int_equal(store_migrate(&f->s, &applied, &e), -1);
	assert_int_equal(applied, 0);
	assert_non_null(strstr(e.msg, "migration 0001 'foundation' was changed after it was applied"));
	assert_non_null(strstr(e.msg, "new migration"));
	/* the lock was released: another session can take it at once */
	assert_int_equal(count(&f->s, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
				      " AND database = (SELECT oid FROM pg_database"
				      "  WHERE datname = current_database())"),
			 0);
}

static void unknown_applied_migration_is_reported(void **state)
{
	struct fixture *f = *state;
	serr e;

	assert_int_equal(store_exec(&f->s, "add",
				    "INSERT INTO schema_migrations (version, name, checksum)"
				    " VALUES (9999, 'from_the_future', 'x')",
				    0, NULL, NULL, &e),
			 0);
	assert_int_equal(store_migrate(&f->s, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "9999 'from_the_future'"));
	assert_non_null(strstr(e.msg, "newer scout"));
}

/* Two processes migrate an empty database at once: one applies, both succeed. */
static void concurrent_migrations_apply_each_file_once(void **state)
{
	struct fixture *f = *state;
	struct buf url;
	pid_t pids[2];
	int total = 0;
	serr e;

	buf_init(&url, 0);
	assert_int_equal(store_exec(&f->s, "reset", "DROP SCHEMA public CASCADE", 0, NULL, NULL, &e),
			 0);
	assert_int_equal(store_exec(&f->s, "reset", "CREATE SCHEMA public", 0, NULL, NULL, &e), 0);
	assert_int_equal(store_url_with_dbname(getenv("DATABASE_URL"), "t_store_concurrent", &url,
					       &e),
			 0);
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct store s;
			int applied = 0;

			if (store_open_url(&s, url.data, &e) < 0 ||
			    store_migrate(&s, &applied, &e) < 0) {
				fprintf(stderr, "child: %s\n", e.msg);
				_exit(100);
			}
			store_close(&s);
			_exit(applied);
		}
	}
	for (int i = 0; i < 2; i++) {
		int st = 0;

		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_int_not_equal(WEXITSTATUS(st), 100);
		total += WEXITSTATUS(st);
	}
	assert_int_equal(total, (int)count(&f->s, "SELECT count(*) FROM schema_migrations"));
	buf_free(&url);
}

static void failed_statement_names_the_operation_and_sqlstate(void **state)
{
	struct fixture *f = *state;
	const char *p[1] = { "x" };
	struct raw_candidate c;
	serr e;

	assert_int_equal(store_exec(&f->s, "read the widgets", "SELECT * FROM widgets", 0, NULL,
				    NULL, &e),
			 -1);
	assert_string_equal(e.msg, "cannot read the widgets: relation \"widgets\" does not exist");
	assert_true(store_failed_with(&f->s, "42P01"));
	/* the parameter stays a value: no injection through it */
	p[0] = "1; DROP TABLE runs";
	assert_int_equal(store_exec(&f->s, "compare", "SELECT 1 WHERE 'a' = $1", 1, p, NULL, &e),
			 0);
	assert_int_equal(count(&f->s, "SELECT count(*) FROM runs"), 0);

	raw_candidate_init(&c);
	c.record_id = "recBADJSON0000001";
	c.fields_json = "{not json";
	c.input_hash = "h";
	assert_int_equal(raw_candidate_upsert(&f->s, &c, &e), -1);
	assert_true(str_starts_with(e.msg, "cannot upsert raw candidate 'recBADJSON0000001': "
					   "invalid input syntax for type json"));
	c.fields_json = "{}";
	c.input_hash = NULL;
	assert_int_equal(raw_candidate_upsert(&f->s, &c, &e), -1);
	assert_non_null(strstr(e.msg, "has no 'input_hash'"));
}

static void transaction_rolls_back_after_a_failed_statement(void **state)
{
	struct fixture *f = *state;
	struct buf id;
	serr e;

	buf_init(&id, 0);
	assert_int_equal(store_begin(&f->s, &e), 0);
	assert_true(store_in_tx(&f->s));
	assert_int_equal(runs_create(&f->s, "job_a", NULL, NULL, NULL, &id, &e), 0);
	assert_int_equal(store_exec(&f->s, "fail", "SELECT 1/0", 0, NULL, NULL, &e), -1);
	assert_true(store_failed_with(&f->s, "22012"));
	store_rollback(&f->s);
	assert_false(store_in_tx(&f->s));
	assert_int_equal(count(&f->s, "SELECT count(*) FROM runs"), 0);
	buf_free(&id);
}

static void partitions_mark_missing_keys_deleted_and_restore_returning_ones(void **state)
{
	struct fixture *f = *state;
	const char *first[] = { "recA", "recB", "recC", "recB" };
	const char *second[] = { "recA", "recD" };
	const char *third[] = { "recA", "recB", "recD" };
	const char *jobs[] = { "recJob1" };
	struct partition_counts d;
	struct partition_list l;
	int64_t active, deleted;
	int found, del;
	serr e;

	partition_list_init(&l);
	assert_int_equal(partitions_register(&f->s, "candidates", first, 4, &d, &e), 0);
	assert_int_equal(d.seen, 3);
	assert_int_equal(d.added, 3);
	assert_int_equal(d.deleted, 0);
	assert_int_equal(partitions_register(&f->s, "jobs", jobs, 1, &d, &e), 0);

	assert_int_equal(partitions_register(&f->s, "candidates", second, 2, &d, &e), 0);
	assert_int_equal(d.added, 1);
	assert_int_equal(d.deleted, 2);
	assert_int_equal(d.restored, 0);
	assert_int_equal(partitions_count(&f->s, "candidates", &active, &deleted, &e), 0);
	assert_int_equal(active, 2);
	assert_int_equal(deleted, 2);
	/* other kinds are untouched */
	assert_int_equal(partitions_count(&f->s, "jobs", &active, &deleted, &e), 0);
	assert_int_equal(active, 1);
	assert_int_equal(deleted, 0);
	assert_int_equal(partitions_get(&f->s, "candidates", "recB", &found, &del, &e), 0);
	assert_int_equal(found, 1);
	assert_int_equal(del, 1);

	assert_int_equal(partitions_list(&f->s, "candidates", 0, &l, &e), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].key, "recA");
	assert_string_equal(l.items[1].key, "recD");
	assert_null(l.items[0].deleted_at);
	assert_int_equal(partitions_list(&f->s, "candidates", 1, &l, &e), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.items[1].key, "recB");
	assert_non_null(l.items[1].deleted_at);

	assert_int_equal(partitions_register(&f->s, "candidates", third, 3, &d, &e), 0);
	assert_int_equal(d.added, 0);
	assert_int_equal(d.restored, 1);
	assert_int_equal(d.deleted, 0);
	assert_int_equal(partitions_get(&f->s, "candidates", "recB", &found, &del, &e), 0);
	assert_int_equal(del, 0);
	assert_int_equal(partitions_get(&f->s, "candidates", "recC", &found, &del, &e), 0);
	assert_int_equal(del, 1);
	assert_int_equal(partitions_get(&f->s, "candidates", "recZ", &found, &del, &e), 0);
	assert_int_equal(found, 0);
	partition_list_free(&l);
}

static void partitions_add_leaves_other_keys_alone(void **state)
{
	struct fixture *f = *state;
	const char *all[] = { "recA", "recB" };
	const char *one[] = { "recC" };
	const char *bad[] = { "recA", "" };
	struct partition_counts d;
	int64_t active, deleted;
	serr e;

	assert_int_equal(partitions_register(&f->s, "jobs", all, 2, &d, &e), 0);
	assert_int_equal(partitions_add(&f->s, "jobs", one, 1, &d, &e), 0);
	assert_int_equal(d.added, 1);
	assert_int_equal(d.deleted, 0);
	assert_int_equal(partitions_count(&f->s, "jobs", &active, &deleted, &e), 0);
	assert_int_equal(active, 3);
	assert_int_equal(deleted, 0);
	assert_int_equal(partitions_register(&f->s, "talent", all, 2, &d, &e), -1);
	assert_non_null(strstr(e.msg, "partition kind 'talent' is unknown"));
	assert_int_equal(partitions_register(&f->s, "jobs", bad, 2, &d, &e), -1);
	assert_non_null(strstr(e.msg, "is empty"));
	/* an empty listing marks every key deleted, and nothing is forgotten */
	assert_int_equal(partitions_register(&f->s, "jobs", NULL, 0, &d, &e), 0);
	assert_int_equal(d.deleted, 3);
	assert_int_equal(partitions_count(&f->s, "jobs", &active, &deleted, &e), 0);
	assert_int_equal(active, 0);
	assert_int_equal(deleted, 3);
}

static void raw_candidate_round_trips_and_updates(void **state)
{
	struct fixture *f = *state;
	struct raw_candidate c, got;
	struct buf hash;
	int found = -1;
	serr e;

	raw_candidate_init(&c);
	raw_candidate_init(&got);
	buf_init(&hash, 0);
	assert_int_equal(raw_candidate_input_hash(&f->s, "recCAND0000000001", &hash, &found, &e), 0);
	assert_int_equal(found, 0);

	c.record_id = "recCAND0000000001";
	c.fields_json = "{\"Full Name\": \"Zoë O'Brien \\\"ZB\\\"\", \"Skills\": [\"C\", \"SQL\"]}";
	c.cv_text_airtable = "Summary: builds databases; 'quotes' and \\backslashes\\";
	c.cv_text_pdf = NULL;
	c.cv_files_json = "[{\"filename\": \"cv.pdf\", \"size\": 1234, \"sha256\": \"ab\","
			  " \"status\": \"ok\"}]";
	c.input_hash = "hash-1";
	c.airtable_created_at = "2026-01-02T03:04:05.000Z";
	c.airtable_modified_at = "2026-02-03T04:05:06.789Z";
	assert_int_equal(raw_candidate_upsert(&f->s, &c, &e), 0);

	assert_int_equal(raw_candidate_get(&f->s, "recCAND0000000001", &got, &found, &e), 0);
	assert_int_equal(found, 1);
	assert_string_equal(got.record_id, "recCAND0000000001");
	assert_non_null(strstr(got.fields_json, "Zoë O'Brien \\\"ZB\\\""));
	assert_string_equal(got.cv_text_airtable, c.cv_text_airtable);
	assert_null(got.cv_text_pdf);
	assert_non_null(strstr(got.cv_files_json, "\"sha256\": \"ab\""));
	assert_string_equal(got.input_hash, "hash-1");
	assert_string_equal(got.airtable_created_at, "2026-01-02T03:04:05.000Z");
	assert_string_equal(got.airtable_modified_at, "2026-02-03T04:05:06.789Z");
	assert_string_equal(got.extraction_errors_json, "[]");
	assert_non_null(got.ingested_at);

	c.cv_text_pdf = "PDF text";
	c.input_hash = "hash-2";
	c.extraction_errors_json = "[{\"file\": \"cv2.pdf\", \"error\": \"encrypted\"}]";
	assert_int_equal(raw_candidate_upsert(&f->s, &c, &e), 0);
	assert_int_equal(raw_candidate_get(&f->s, "recCAND0000000001", &got, &found, &e), 0);
	assert_string_equal(got.cv_text_pdf, "PDF text");
	assert_non_null(strstr(got.extraction_errors_json, "encrypted"));
	assert_int_equal(raw_candidate_input_hash(&f->s, "recCAND0000000001", &hash, &found, &e), 0);
	assert_int_equal(found, 1);
	assert_string_equal(hash.data, "hash-2");
	assert_int_equal(count(&f->s, "SELECT count(*) FROM raw_candidates"), 1);

	assert_int_equal(raw_candidate_get(&f->s, "recMISSING0000001", &got, &found, &e), 0);
	assert_int_equal(found, 0);
	assert_null(got.record_id);
	raw_candidate_free(&got);
	buf_free(&hash);
}

static void raw_job_round_trips_and_checks_its_source(void **state)
{
	struct fixture *f = *state;
	struct raw_job j, got;
	struct raw_counts n;
	struct buf hash;
	int found = -1;
	serr e;

	raw_job_init(&j);
	raw_job_init(&got);
	buf_init(&hash, 0);
	j.record_id = "recJOB00000000001";
	j.fields_json = "{\"Company\": \"Acme\"}";
	j.description_text = "# Senior Rust Engineer\n\n- Rust";
	j.description_source = "notion";
	j.notion_page_id = "0f3c2a9e4b7d4e5f8a1b2c3d4e5f6a7b";
	j.input_hash = "jh";
	assert_int_equal(raw_job_upsert(&f->s, &j, &e), 0);
	assert_int_equal(raw_job_get(&f->s, j.record_id, &got, &found, &e), 0);
	assert_int_equal(found, 1);
	assert_string_equal(got.description_text, j.description_text);
	assert_string_equal(got.description_source, "notion");
	assert_string_equal(got.notion_page_id, j.notion_page_id);
	assert_null(got.airtable_created_at);
	assert_int_equal(raw_job_input_hash(&f->s, j.record_id, &hash, &found, &e), 0);
	assert_string_equal(hash.data, "jh");

	j.record_id = "recJOB00000000002";
	j.description_source = "pdf";
	assert_int_equal(raw_job_upsert(&f->s, &j, &e), -1);
	assert_non_null(strstr(e.msg, "description source 'pdf'"));
	j.description_source = "none";
	j.description_text = NULL;
	assert_int_equal(raw_job_upsert(&f->s, &j, &e), 0);

	assert_int_equal(raw_counts_get(&f->s, &n, &e), 0);
	assert_int_equal(n.jobs, 2);
	assert_int_equal(n.jobs_notion, 1);
	assert_int_equal(n.jobs_without_description, 1);
	assert_int_equal(n.candidates, 0);
	raw_job_free(&got);
	buf_free(&hash);
}

static void ats_row_round_trips_stage_ids(void **state)
{
	struct fixture *f = *state;
	const char *fit[] = { "recT1", "recT2", "rec \"odd\", {x}\\" };
	const char *rejected[] = { "recT3" };
	struct ats_row a, got;
	struct raw_counts n;
	int found = -1;
	serr e;

	ats_row_init(&a);
	ats_row_init(&got);
	a.record_id = "recATS00000000001";
	a.job_record_id = "recJOB00000000001";
	a.open_position = "Rust Engineer";
	a.job_status = "Sourcing";
	a.fields_json = "{\"Job\": [\"recJOB00000000001\"]}";
	a.stages[ATS_POTENTIAL_FIT].ids = fit;
	a.stages[ATS_POTENTIAL_FIT].n = 3;
	a.stages[ATS_AI_REJECTION].ids = rejected;
	a.stages[ATS_AI_REJECTION].n = 1;
	a.negotiations = "salary talks";
	a.airtable_modified_at = "2026-03-01T00:00:00.000Z";
	assert_int_equal(ats_row_upsert(&f->s, &a, &e), 0);

	assert_int_equal(ats_row_get(&f->s, a.record_id, &got, &found, &e), 0);
	assert_int_equal(found, 1);
	assert_string_equal(got.job_record_id, "recJOB00000000001");
	assert_string_equal(got.open_position, "Rust Engineer");
	assert_int_equal(got.stages[ATS_POTENTIAL_FIT].n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(got.stages[ATS_POTENTIAL_FIT].ids[i], fit[i]);
	assert_int_equal(got.stages[ATS_AI_REJECTION].n, 1);
	assert_string_equal(got.stages[ATS_AI_REJECTION].ids[0], "recT3");
	assert_int_equal(got.stages[ATS_HIRED].n, 0);
	assert_string_equal(got.negotiations, "salary talks");
	assert_string_equal(got.airtable_modified_at, "2026-03-01T00:00:00.000Z");

	/* an unlinked row, and an update that empties a stage */
	a.record_id = "recATS00000000002";
	a.job_record_id = NULL;
	assert_int_equal(ats_row_upsert(&f->s, &a, &e), 0);
	a.record_id = "recATS00000000001";
	a.job_record_id = "recJOB00000000001";
	a.stages[ATS_POTENTIAL_FIT].n = 0;
	assert_int_equal(ats_row_upsert(&f->s, &a, &e), 0);
	assert_int_equal(ats_row_get(&f->s, a.record_id, &got, &found, &e), 0);
	assert_int_equal(got.stages[ATS_POTENTIAL_FIT].n, 0);
	assert_int_equal(raw_counts_get(&f->s, &n, &e), 0);
	assert_int_equal(n.ats_rows, 2);
	assert_int_equal(n.ats_rows_linked, 1);
	ats_row_free(&got);
}

static void runs_steps_and_events_round_trip(void **state)
{
	struct fixture *f = *state;
	struct buf id1, id2;
	struct run_list rl;
	struct run_event_list ev;
	struct run_filter filt = { 0 };
	serr e;

	buf_init(&id1, 0);
	buf_init(&id2, 0);
	run_list_init(&rl);
	run_event_list_init(&ev);
	assert_int_equal(runs_create(&f->s, "candidate_ingest_job", "recA", NULL,
				     "{\"llm\": \"1\"}", &id1, &e),
			 0);
	assert_int_equal(id1.len, 36);
	assert_int_equal(runs_create(&f->s, "sync_airtable_jobs_job", NULL, NULL, NULL, &id2, &e),
			 0);

	assert_int_equal(runs_set_status(&f->s, id1.data, "STARTED", NULL, &e), 0);
	assert_int_equal(runs_step_start(&f->s, id1.data, "fetch", &e), 0);
	assert_int_equal(runs_event_add(&f->s, id1.data, "RUN_START", NULL, "info", NULL, NULL, &e),
			 0);
	assert_int_equal(runs_event_add(&f->s, id1.data, "STEP_START", "fetch", "info", NULL, NULL,
					&e),
			 0);
	assert_int_equal(runs_event_add(&f->s, id1.data, "MATERIALIZATION", "fetch", "info",
					"raw_candidates", "{\"rows\": 1}", &e),
			 0);
	assert_int_equal(runs_step_end(&f->s, id1.data, "fetch", "FAILURE", "pdf: encrypted", &e), 0);
	assert_int_equal(runs_event_add(&f->s, id1.data, "STEP_FAILURE", "fetch", "error",
					"pdf: encrypted", NULL, &e),
			 0);
	assert_int_equal(runs_set_status(&f->s, id1.data, "FAILURE", "step 'fetch' failed", &e), 0);

	assert_int_equal(runs_get(&f->s, id1.data, &rl, &e), 0);
	assert_int_equal(rl.n, 1);
	assert_string_equal(rl.items[0].status, "FAILURE");
	assert_string_equal(rl.items[0].partition_key, "recA");
	assert_string_equal(rl.items[0].error, "step 'fetch' failed");
	assert_non_null(rl.items[0].started_at);
	assert_non_null(rl.items[0].ended_at);
	assert_string_equal(rl.items[0].tags_json, "{\"llm\": \"1\"}");
	assert_int_equal(rl.items[0].attempt, 1);
	assert_int_equal(count(&f->s, "SELECT count(*) FROM run_steps WHERE status = 'FAILURE'"
				      " AND error = 'pdf: encrypted' AND ended_at IS NOT NULL"),
			 1);

	assert_int_equal(runs_events(&f->s, id1.data, 0, 0, &ev, &e), 0);
	assert_int_equal(ev.n, 4);
	assert_string_equal(ev.items[0].type, "RUN_START");
	assert_string_equal(ev.items[2].type, "MATERIALIZATION");
	assert_string_equal(ev.items[2].message, "raw_candidates");
	assert_string_equal(ev.items[2].metadata_json, "{\"rows\": 1}");
	assert_string_equal(ev.items[3].step, "fetch");
	for (size_t i = 1; i < ev.n; i++)
		assert_true(ev.items[i].id > ev.items[i - 1].id);
	/* tailing from an id returns only what follows it */
	assert_int_equal(runs_events(&f->s, id1.data, ev.items[1].id, 1, &ev, &e), 0);
	assert_int_equal(ev.n, 1);
	assert_string_equal(ev.items[0].type, "MATERIALIZATION");

	filt.status = "FAILURE";
	assert_int_equal(runs_list(&f->s, &filt, &rl, &e), 0);
	assert_int_equal(rl.n, 1);
	assert_string_equal(rl.items[0].id, id1.data);
	filt.status = NULL;
	assert_int_equal(runs_list(&f->s, &filt, &rl, &e), 0);
	assert_int_equal(rl.n, 2);
	assert_string_equal(rl.items[0].id, id2.data); /* newest first */
	filt.job = "sync_airtable_jobs_job";
	assert_int_equal(runs_list(&f->s, &filt, &rl, &e), 0);
	assert_int_equal(rl.n, 1);
	assert_string_equal(rl.items[0].status, "QUEUED");
	filt.job = NULL;
	filt.partition_key = "recA";
	filt.limit = 1;
	assert_int_equal(runs_list(&f->s, &filt, &rl, &e), 0);
	assert_int_equal(rl.n, 1);
	assert_string_equal(rl.items[0].id, id1.data);

	run_list_free(&rl);
	run_event_list_free(&ev);
	buf_free(&id1);
	buf_free(&id2);
}

static void runs_reject_bad_input_with_clear_errors(void **state)
{
	struct fixture *f = *state;
	struct buf id;
	struct run_list rl;
	serr e;

	buf_init(&id, 0);
	run_list_init(&rl);
	assert_int_equal(runs_set_status(&f->s, "6f1c2d3e-0000-4000-8000-000000000000", "SUCCESS",
					 NULL, &e),
			 -1);
	assert_non_null(strstr(e.msg, "does not exist"));
	assert_int_equal(runs_set_status(&f->s, "not-a-uuid", "DONE", NULL, &e), -1);
	assert_non_null(strstr(e.msg, "run status 'DONE' is unknown"));
	assert_int_equal(runs_get(&f->s, "not-a-uuid", &rl, &e), -1);
	assert_non_null(strstr(e.msg, "invalid input syntax for type uuid"));
	assert_int_equal(runs_create(&f->s, "j", NULL, NULL, NULL, &id, &e), 0);
	assert_int_equal(runs_event_add(&f->s, id.data, "EXPLODED", NULL, NULL, NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "event type 'EXPLODED' is unknown"));
	assert_int_equal(runs_event_add(&f->s, id.data, "LOG", NULL, "info", "m", "{bad", &e), -1);
	assert_non_null(strstr(e.msg, "cannot append LOG event to run"));
	assert_int_equal(runs_step_end(&f->s, id.data, "s", "DONE", NULL, &e), -1);
	assert_int_equal(runs_create(&f->s, "", NULL, NULL, NULL, &id, &e), -1);
	run_list_free(&rl);
	buf_free(&id);
}

static void run_key_dedupes_runs_of_a_job(void **state)
{
	struct fixture *f = *state;
	struct run_new r = { "candidate_ingest_job", "recA", "sensor:42", NULL, NULL, 5 };
	struct buf a, b, c;
	int created = -1;
	serr e;

	buf_init(&a, 0);
	buf_init(&b, 0);
	buf_init(&c, 0);
	assert_int_equal(runs_create_ex(&f->s, &r, &a, &created, &e), 0);
	assert_int_equal(created, 1);
	assert_int_equal(runs_create_ex(&f->s, &r, &b, &created, &e), 0);
	assert_int_equal(created, 0);
	assert_string_equal(a.data, b.data);
	r.job = "job_ingest_job";
	assert_int_equal(runs_create_ex(&f->s, &r, &c, &created, &e), 0);
	assert_int_equal(created, 1);
	assert_string_not_equal(a.data, c.data);
	assert_int_equal(count(&f->s, "SELECT count(*) FROM runs WHERE priority = 5"), 2);
	/* a retry: back to QUEUED clears the times, STARTED sets them again */
	assert_int_equal(runs_set_status(&f->s, a.data, "STARTED", NULL, &e), 0);
	assert_int_equal(runs_set_status(&f->s, a.data, "QUEUED", NULL, &e), 0);
	assert_int_equal(count(&f->s, "SELECT count(*) FROM runs WHERE started_at IS NULL"), 2);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(migrate_twice_applies_nothing_and_keeps_the_schema,
						setup_migrate, teardown),
		cmocka_unit_test_setup_teardown(migrate_applies_pending_files_in_order,
						setup_migrate, teardown),
		cmocka_unit_test_setup_teardown(changed_migration_is_reported_before_anything_runs,
						setup_checksum, teardown),
		cmocka_unit_test_setup_teardown(unknown_applied_migration_is_reported, setup_unknown,
						teardown),
		cmocka_unit_test_setup_teardown(concurrent_migrations_apply_each_file_once,
						setup_concurrent, teardown),
		cmocka_unit_test_setup_teardown(failed_statement_names_the_operation_and_sqlstate,
						setup_errors, teardown),
		cmocka_unit_test_setup_teardown(transaction_rolls_back_after_a_failed_statement, setup_errors,
						teardown),
		cmocka_unit_test_setup_teardown(
			partitions_mark_missing_keys_deleted_and_restore_returning_ones,
			setup_partitions, teardown),
		cmocka_unit_test_setup_teardown(partitions_add_leaves_other_keys_alone,
						setup_partitions_add, teardown),
		cmocka_unit_test_setup_teardown(raw_candidate_round_trips_and_updates,
						setup_raw_candidates, teardown),
		cmocka_unit_test_setup_teardown(raw_job_round_trips_and_checks_its_source,
						setup_raw_jobs, teardown),
		cmocka_unit_test_setup_teardown(ats_row_round_trips_stage_ids, setup_ats, teardown),
		cmocka_unit_test_setup_teardown(runs_steps_and_events_round_trip, setup_runs,
						teardown),
		cmocka_unit_test_setup_teardown(runs_reject_bad_input_with_clear_errors, setup_runs,
						teardown),
		cmocka_unit_test_setup_teardown(run_key_dedupes_runs_of_a_job, setup_run_keys,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
