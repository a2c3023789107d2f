/*
 * `scout demo`: the main job on embedded defaults. Starts the simulator
 * with a generated sample base, points scout at it, runs the daemon
 * machinery (sensor loop and two workers, with short sensor intervals)
 * against the private cluster (or DATABASE_URL) until the sensors have
 * picked the base up and the queue is drained, and prints what was stored.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "airtable/airtable.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/log.h"
#include "core/util.h"
#include "llm/normalize_schema.h"
#include "orchestrator/daemon.h"
#include "orchestrator/run.h"
#include "orchestrator/sensor.h"
#include "sim/generate.h"
#include "sim/sim.h"
#include "store/matches.h"
#include "store/normalized.h"
#include "store/partitions.h"
#include "store/queue.h"
#include "store/raw.h"
#include "store/sensors.h"

#define DEMO_KEY "demo-simulator-key"

struct demo_args {
	uint64_t seed;
	int candidates;
	int jobs;
};

static int parse_args(int argc, char **argv, struct demo_args *a)
{
	int64_t v;

	a->seed = 42;
	a->candidates = 60;
	a->jobs = 6;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc || parse_i64(argv[i + 1], 0, 100000000, &v) < 0) {
			fprintf(stderr, "usage: scout demo [--seed N] [--candidates N] [--jobs N]\n");
			return -1;
		}
		if (strcmp(argv[i], "--seed") == 0)
			a->seed = (uint64_t)v;
		else if (strcmp(argv[i], "--candidates") == 0 && v > 0 && v <= 100000)
			a->candidates = (int)v;
		else if (strcmp(argv[i], "--jobs") == 0 && v > 0 && v <= 10000)
			a->jobs = (int)v;
		else {
			fprintf(stderr, "usage: scout demo [--seed N] [--candidates N] [--jobs N]\n");
			return -1;
		}
		i++;
	}
	return 0;
}

/* Point the Airtable, Notion and OpenRouter clients at the simulator. */
static int use_simulator(struct config *cfg, const char *url, const char *base_id, serr *e)
{
	struct buf llm_url;
	int rc = -1;

	buf_init(&llm_url, 1024);
	if (buf_printf(&llm_url, "%s/api/v1", url) < 0) {
		serr_set(e, "simulator url '%s' is too long", url);
		goto out;
	}
	if (config_set(cfg, "airtable.api_url", url, e) < 0 ||
	    config_set(cfg, "airtable.api_key", DEMO_KEY, e) < 0 ||
	    config_set(cfg, "airtable.base_id", base_id, e) < 0 ||
	    config_set(cfg, "notion.api_url", url, e) < 0 ||
	    config_set(cfg, "notion.api_key", DEMO_KEY, e) < 0 ||
	    config_set(cfg, "openrouter.api_url", llm_url.data, e) < 0 ||
	    config_set(cfg, "openrouter.api_key", DEMO_KEY, e) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&llm_url);
	return rc;
}

#define DEMO_DEADLINE_MS (4 * 60 * 1000)
#define DEMO_CHECK_MS 500
#define DEMO_PROGRESS_MS 5000

static const char *const demo_sensors[] = { "airtable_candidate_sensor", "airtable_job_sensor" };

/* Short sensor intervals, so the sensors pick the base up at once. */
static int demo_daemon_config(struct config *cfg, serr *e)
{
	if (config_set(cfg, "sensor.candidate_interval_s", "5", e) < 0 ||
	    config_set(cfg, "sensor.job_interval_s", "5", e) < 0 ||
	    config_set(cfg, "sensor.lease_s", "6", e) < 0 ||
	    config_set(cfg, "queue.poll_ms", "250", e) < 0)
		return -1;
	return 0;
}

/* What the demo waits for, read by the daemon's idle callback. */
struct demo_watch {
	struct store *st;
	char since[40]; /* the database clock when the daemon started */
	int64_t next_check, next_print, deadline;
	int timed_out;
	int64_t ticked, active, ok, failed, pending;
};

static int demo_counts(struct demo_watch *w, serr *e)
{
	const char *p[1] = { w->since };
	int64_t *out[5] = { &w->ticked, &w->active, &w->ok, &w->failed, &w->pending };
	PGresult *r = NULL;
	int rc = -1;

	if (store_exec(w->st, "follow the demo's runs",
		       "SELECT (SELECT count(DISTINCT sensor) FROM sensor_ticks"
		       "  WHERE sensor IN ('airtable_candidate_sensor', 'airtable_job_sensor')"
		       "  AND status IN ('SUCCESS', 'SKIPPED') AND started_at >= $1::timestamptz),"
		       " count(*) FILTER (WHERE status IN ('QUEUED', 'STARTED', 'CANCELING')),"
		       " count(*) FILTER (WHERE status = 'SUCCESS'),"
		       " count(*) FILTER (WHERE status IN ('FAILURE', 'CANCELED')),"
		       " (SELECT count(*) FROM sensor_pending)"
		       " FROM runs WHERE created_at >= $1::timestamptz",
		       1, p, &r, e) < 0)
		goto out;
	for (int i = 0; i < 5; i++)
		if (parse_i64(PQgetvalue(r, 0, i), 0, INT64_MAX, out[i]) < 0) {
			serr_set(e, "cannot follow the demo's runs: bad count '%s'",
				 PQgetvalue(r, 0, i));
			goto out;
		}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

/* Drain the daemon once both sensors ticked and every run they asked for ended. */
static int demo_idle(void *ud)
{
	struct demo_watch *w = ud;
	int64_t now = mono_ms();
	serr e;

	if (now < w->next_check)
		return 0;
	w->next_check = now + DEMO_CHECK_MS;
	if (now >= w->deadline) {
		w->timed_out = 1;
		return 1;
	}
	if (store_ensure(w->st, &e) < 0 || demo_counts(w, &e) < 0) {
		log_warn("demo: cannot read the progress", "error=\"%s\"", e.msg);
		return 0;
	}
	if (now >= w->next_print) {
		w->next_print = now + DEMO_PROGRESS_MS;
		printf("  sensors ticked %" PRId64 "/2, runs: %" PRId64 " queued or running, %" PRId64
		       " succeeded, %" PRId64 " failed\n",
		       w->ticked, w->active, w->ok, w->failed);
		fflush(stdout);
	}
	return w->ticked == 2 && w->active == 0 && w->pending == 0;
}

/* Enable the Airtable sensors and forget their cursors: the first tick lists everything. */
static int demo_prepare(struct store *st, struct demo_watch *w, serr *e)
{
	struct buf id;
	struct run_request ats = { "sync_airtable_ats_job", NULL, NULL, NULL, 0, NULL, 0 };
	PGresult *r = NULL;
	int created = 0, rc = -1;

	buf_init(&id, 128);
	for (size_t i = 0; i < sizeof(demo_sensors) / sizeof(demo_sensors[0]); i++)
		if (sensors_set_enabled(st, demo_sensors[i], 1, e) < 0 ||
		    sensors_reset_cursor(st, demo_sensors[i], e) < 0)
			goto out;
	if (store_exec(st, "read the database clock", "SELECT now()::text", 0, NULL, &r, e) < 0)
		goto out;
	snprintf(w->since, sizeof(w->since), "%s", PQgetvalue(r, 0, 0));
	/* the ATS table has no sensor: queue its sync for the workers */
	if (queue_enqueue(st, &ats, &id, &created, e) < 0)
		goto out;
	rc = 0;
out:
	PQclear(r);
	buf_free(&id);
	return rc;
}

static void demo_report(struct store *st, const struct demo_watch *w)
{
	const char *p[1] = { w->since };
	PGresult *r = NULL;
	serr e;

	if (store_exec(st, "summarize the sensor ticks",
		       "SELECT sensor, count(*), count(*) FILTER (WHERE status = 'SUCCESS'),"
		       " count(*) FILTER (WHERE status = 'SKIPPED'),"
		       " count(*) FILTER (WHERE status = 'FAILURE'), coalesce(sum(run_count), 0)"
		       " FROM sensor_ticks WHERE started_at >= $1::timestamptz"
		       " GROUP BY sensor ORDER BY sensor",
		       1, p, &r, &e) < 0) {
		cli_fail(&e);
		return;
	}
	printf("\nsensor ticks:\n");
	for (int i = 0; i < PQntuples(r); i++)
		printf("  %-32s %s ticks (%s success, %s skipped, %s failed), %s runs requested\n",
		       PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
		       PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
	PQclear(r);
	r = NULL;
	if (store_exec(st, "summarize the runs",
		       "SELECT job, status, count(*) FROM runs WHERE created_at >= $1::timestamptz"
		       " GROUP BY job, status ORDER BY job, status",
		       1, p, &r, &e) < 0) {
		cli_fail(&e);
		return;
	}
	printf("\nruns executed by the workers:\n");
	for (int i = 0; i < PQntuples(r); i++)
		printf("  %-32s %-8s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		       PQgetvalue(r, i, 2));
	PQclear(r);
}

/*
 * The daemon's sensor loop and two workers, forked from this process, until
 * the sensors have requested a run for every record and the queue is empty.
 */
static int run_through_daemon(struct config *cfg, struct store *st)
{
	struct demo_watch w;
	struct daemon_opts o;
	serr e;

	memset(&w, 0, sizeof(w));
	w.st = st;
	w.deadline = mono_ms() + DEMO_DEADLINE_MS;
	if (demo_daemon_config(cfg, &e) < 0 || demo_prepare(st, &w, &e) < 0)
		goto fail;
	daemon_opts_init(&o);
	o.name = "demo";
	o.workers = 2;
	o.idle = demo_idle;
	o.idle_ud = &w;
	printf("daemon: sensor loop and 2 workers; sensors tick every 5 s\n");
	fflush(stdout);
	if (daemon_main(cfg, &o, &e) < 0 || store_ensure(st, &e) < 0 || demo_counts(&w, &e) < 0)
		goto fail;
	demo_report(st, &w);
	if (w.timed_out) {
		fprintf(stderr, "scout: the demo's runs did not finish within %d s: see `scout runs "
				"--status QUEUED` and `scout sensor list`\n",
			DEMO_DEADLINE_MS / 1000);
		return -1;
	}
	if (w.failed) {
		fprintf(stderr, "scout: %" PRId64 " runs failed: see `scout runs --status FAILURE`\n",
			w.failed);
		return -1;
	}
	return 0;
fail:
	cli_fail(&e);
	return -1;
}

static void print_normalized(struct store *st)
{
	struct normalized_counts nc;
	serr e;

	if (normalized_counts_get(st, &nc, &e) < 0) {
		cli_fail(&e);
		return;
	}
	printf("\nnormalized by the LLM (simulated OpenRouter):\n");
	printf("  candidates      %" PRId64 " (%" PRId64 " skills, %" PRId64
	       " vectors, %" PRId64 " role-fitness scores, %" PRId64 " flagged for prompt injection)\n",
	       nc.candidates, nc.candidate_skills, nc.candidate_vectors, nc.fitness_rows,
	       nc.candidates_flagged);
	printf("  jobs            %" PRId64 " (%" PRId64 " required skills, %" PRId64 " vectors)\n",
	       nc.jobs, nc.job_skills, nc.job_vectors);
	printf("  llm calls       %" PRId64 " (cost %.4f USD)\n", nc.llm_calls, nc.llm_cost_usd);
}

/* Whether k is an (N) column of Talent or Customers STT as cfg names them. */
static int is_n_column(const struct config *cfg, const char *k)
{
	for (size_t i = 0; i < normalize_talent_n_count; i++)
		if (strcmp(k, normalize_n_column(cfg, &normalize_talent_n_fields[i])) == 0)
			return 1;
	for (size_t i = 0; i < normalize_job_n_count; i++)
		if (strcmp(k, normalize_n_column(cfg, &normalize_job_n_fields[i])) == 0)
			return 1;
	return 0;
}

/* What the sync-back wrote: (N) cells in the simulated base, and one example. */
static void print_written_back(const struct config *cfg, struct sim *sim, const char *base_id)
{
	json_t *dump = sim_dump_base(sim, base_id), *t, *r, *v;
	const json_t *example = NULL;
	size_t i, j;
	const char *k;

	if (!dump)
		return;
	printf("\n(N) fields written back to the simulated Airtable base:\n");
	json_array_foreach(json_object_get(dump, "tables"), i, t) {
		long records = 0, cells = 0;
		json_array_foreach(json_object_get(t, "records"), j, r) {
			long mine = 0;
			json_object_foreach(json_object_get(r, "fields"), k, v)
				if (is_n_column(cfg, k))
					mine++;
			if (mine)
				records++;
			cells += mine;
			if (mine && !example)
				example = json_object_get(r, "fields");
		}
		if (cells)
			printf("  %-15s %ld records, %ld cells\n",
			       json_string_value(json_object_get(t, "name")), records, cells);
	}
	if (example) {
		printf("  example:\n");
		json_object_foreach((json_t *)example, k, v) {
			char *text;
			if (!is_n_column(cfg, k))
				continue;
			text = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			printf("    %-32s %.90s\n", k, text ? text : json_string_value(v));
			free(text);
		}
	}
	json_decref(dump);
}

static void print_summary(const struct config *cfg, struct store *st, struct sim *sim,
			  const char *base_id, double seconds)
{
	struct raw_counts rc;
	int64_t pc = 0, pj = 0, dc = 0, dj = 0;
	json_t *stats = sim_stats(sim);
	serr e;

	if (raw_counts_get(st, &rc, &e) < 0) {
		cli_fail(&e);
	} else {
		printf("\nstored:\n");
		printf("  candidates      %" PRId64 " (%" PRId64 " with CV text from PDF, %" PRId64
		       " with a recorded extraction error)\n",
		       rc.candidates, rc.candidates_with_pdf_text, rc.candidates_with_errors);
		printf("  jobs            %" PRId64 " (%" PRId64 " from Notion, %" PRId64
		       " plain text, %" PRId64 " without description)\n",
		       rc.jobs, rc.jobs_notion, rc.jobs_text, rc.jobs_without_description);
		printf("  ats rows        %" PRId64 " (%" PRId64 " linked to a job)\n", rc.ats_rows,
		       rc.ats_rows_linked);
	}
	if (partitions_count(st, "candidates", &pc, &dc, &e) == 0 &&
	    partitions_count(st, "jobs", &pj, &dj, &e) == 0)
		printf("  partitions      %" PRId64 " candidates, %" PRId64 " jobs\n", pc, pj);
	print_normalized(st);
	print_written_back(cfg, sim, base_id);
	if (stats) {
		char *text = json_dumps(stats, JSON_COMPACT);
		printf("\nsimulator: %s\n", text ? text : "{}");
		free(text);
		json_decref(stats);
	}
	printf("elapsed: %.1fs\n", seconds);
}

#define DEMO_MATCH_SENSOR "airtable_job_matchmaking_sensor"

/* The first job of the base with (N) Must Have Skills written (borrowed into out). */
static int demo_pick_job(struct sim *sim, const struct config *cfg, const char *base_id,
			 char id[32], struct buf *skills, serr *e)
{
	json_t *dump = sim_dump_base(sim, base_id), *t, *r;
	size_t i, j;
	int rc = -1;

	id[0] = '\0';
	json_array_foreach(json_object_get(dump, "tables"), i, t) {
		if (strcmp(json_string_value(json_object_get(t, "id")), cfg->jobs_table) != 0)
			continue;
		json_array_foreach(json_object_get(t, "records"), j, r) {
			const char *v = json_string_value(
				json_object_get(json_object_get(r, "fields"), cfg->jn_must_have_skills));
			if (!id[0] && v && *v) {
				snprintf(id, 32, "%s", json_string_value(json_object_get(r, "id")));
				if (buf_puts(skills, v) < 0)
					goto out;
			}
		}
	}
	rc = id[0] ? 0 : serr_set(e, "no job of the base has '(N) Must Have Skills' written");
out:
	json_decref(dump);
	return rc;
}

/* The new must-have list: the recruiter keeps the first two skills and adds Kubernetes. */
static int demo_edited_skills(const char *old, struct buf *out)
{
	const char *p = old;
	int kept = 0;

	while (*p && kept < 2) {
		const char *s = p;
		while (*p && *p != ',')
			p++;
		while (*s == ' ')
			s++;
		if (p > s && (buf_puts(out, kept ? ", " : "") < 0 ||
			      buf_append(out, s, (size_t)(p - s)) < 0))
			return -1;
		kept++;
		if (*p)
			p++;
	}
	if (strstr(buf_cstr(out), "Kubernetes"))
		return 0;
	return buf_puts(out, out->len ? ", Kubernetes" : "Kubernetes");
}

static void demo_print_shortlist(struct store *st, struct sim *sim, const struct config *cfg,
				 const char *base_id, const char *job)
{
	struct match_run mr;
	json_t *dump, *t, *r;
	size_t i, j, on_ats = 0;
	int found = 0;
	serr e;

	match_run_init(&mr);
	if (matches_latest(st, job, &mr, &found, &e) < 0 || !found) {
		if (!found)
			serr_set(&e, "job '%s' has no stored ranking", job);
		cli_fail(&e);
		match_run_free(&mr);
		return;
	}
	printf("  ranked shortlist (pool %zu, top %zu):\n", mr.pool_size, mr.n_results);
	for (i = 0; i < mr.n_results && i < 10; i++) {
		const struct match_result *m = &mr.results[i];
		struct normalized_candidate nc;
		int have = 0;

		normalized_candidate_init(&nc);
		if (normalized_candidate_get(st, m->record_id, &nc, &have, &e) < 0)
			have = 0;
		printf("    %2zu. %-24.24s %s  score %.3f (vector %.2f, skills %.2f, comp %.2f, "
		       "location %.2f)%s\n",
		       i + 1, have && nc.full_name ? nc.full_name : "?", m->record_id, m->score,
		       m->vector, m->skills, m->comp, m->location, m->verified ? " verified" : "");
		normalized_candidate_free(&nc);
	}
	dump = sim_dump_base(sim, base_id);
	json_array_foreach(json_object_get(dump, "tables"), i, t) {
		if (strcmp(json_string_value(json_object_get(t, "id")), cfg->ats_table) != 0)
			continue;
		json_array_foreach(json_object_get(t, "records"), j, r) {
			const json_t *f = json_object_get(r, "fields");
			if (airtable_strings_has(f, cfg->a_job, job))
				on_ats = airtable_strings_len(f, cfg->a_potential_fit);
		}
	}
	json_decref(dump);
	printf("  uploaded: the job's ATS row holds %zu candidates in '%s'\n", on_ats,
	       cfg->a_potential_fit);
	match_run_free(&mr);
}

/*
 * The seed's human-in-the-loop: a recruiter edits a job's (N) Must Have
 * Skills and checks Start Matchmaking; one tick of the matchmaking sensor
 * sees it and its run applies the edit, re-vectorizes, ranks and uploads.
 */
static int demo_recruiter_scene(struct config *cfg, struct store *st, struct sim *sim,
				const char *base_id)
{
	struct sensor_tick_outcome o;
	struct buf old, edited;
	char job[32];
	json_t *fields = NULL, *id;
	size_t i;
	int rc = -1;
	serr e;

	buf_init(&old, 0);
	buf_init(&edited, 0);
	sensor_tick_outcome_init(&o);
	if (demo_pick_job(sim, cfg, base_id, job, &old, &e) < 0)
		goto fail;
	if (demo_edited_skills(buf_cstr(&old), &edited) < 0) {
		serr_set(&e, "out of memory");
		goto fail;
	}
	printf("\nrecruiter: job %s\n  %s  %s\n%*s-> %s\n  checks '%s'\n", job,
	       cfg->jn_must_have_skills, buf_cstr(&old), (int)strlen(cfg->jn_must_have_skills) + 1,
	       "", buf_cstr(&edited), cfg->j_start_matchmaking);
	fields = json_pack("{s:s,s:b}", cfg->jn_must_have_skills, buf_cstr(&edited),
			   cfg->j_start_matchmaking, 1);
	if (!fields) {
		serr_set(&e, "out of memory");
		goto fail;
	}
	if (sim_edit_record(sim, base_id, cfg->jobs_table, job, fields, &e) < 0 ||
	    sensor_tick_now(cfg, st, DEMO_MATCH_SENSOR, 1, "demo", &o, &e) < 0)
		goto fail;
	if (strcmp(o.status, "FAILURE") == 0) {
		serr_set(&e, "the tick of '%s' failed: %s", DEMO_MATCH_SENSOR,
			 o.error ? o.error : "");
		goto fail;
	}
	printf("  %s: %zu run(s) of matchmaking_with_feedback_job\n", DEMO_MATCH_SENSOR,
	       json_array_size(o.run_ids));
	json_array_foreach(o.run_ids, i, id)
		if (run_execute_queued(cfg, st, json_string_value(id), &e) < 0)
			goto fail;
	demo_print_shortlist(st, sim, cfg, base_id, job);
	rc = 0;
	goto out;
fail:
	cli_fail(&e);
out:
	json_decref(fields);
	sensor_tick_outcome_free(&o);
	buf_free(&old);
	buf_free(&edited);
	return rc;
}

int cmd_demo(int argc, char **argv)
{
	struct demo_args args;
	struct sample_opts so;
	struct sim_opts opts;
	struct sim *sim = NULL;
	struct config cfg;
	struct store st;
	json_t *base = NULL;
	serr e;
	int rc = 1, have_cfg = 0, have_store = 0;
	int64_t t0 = mono_ms();

	if (parse_args(argc, argv, &args) < 0)
		return 2;
	if (cli_config(&cfg) < 0)
		return 1;
	have_cfg = 1;
	sample_opts_init(&so);
	so.seed = args.seed;
	so.candidates = args.candidates;
	so.jobs = args.jobs;
	printf("generating a sample base: seed %" PRIu64 ", %d candidates, %d jobs\n", so.seed,
	       so.candidates, so.jobs);
	if (!(base = sample_generate(&so, &e)))
		goto fail;
	sim_opts_init(&opts);
	opts.api_key = DEMO_KEY;
	opts.quiet = 1;
	if (!(sim = sim_start(&opts, &e)) || sim_load_base(sim, base, &e) < 0)
		goto fail;
	printf("simulator listening on %s\n", sim_url(sim));
	if (use_simulator(&cfg, sim_url(sim), so.base_id, &e) < 0)
		goto fail;
	if (cli_store(&cfg, &st) < 0)
		goto out;
	have_store = 1;
	printf("\n");
	if (run_through_daemon(&cfg, &st) < 0)
		goto out;
	print_summary(&cfg, &st, sim, so.base_id, (double)(mono_ms() - t0) / 1000.0);
	if (demo_recruiter_scene(&cfg, &st, sim, so.base_id) < 0)
		goto out;
	printf("\nnext: `scout runs` lists these runs, `scout logs RUN_ID` shows one\n");
	rc = 0;
	goto out;
fail:
	cli_fail(&e);
out:
	if (have_store)
		store_close(&st);
	if (sim)
		sim_stop(sim);
	json_decref(base);
	if (have_cfg)
		config_free(&cfg);
	return rc;
}
