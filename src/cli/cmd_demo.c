/*
 * `scout demo`: the main job on embedded defaults. Starts the simulator
 * with a generated sample base, points scout at it, runs the sync and
 * ingest jobs against the private cluster (or DATABASE_URL) and prints
 * what was stored.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/run.h"
#include "sim/generate.h"
#include "sim/sim.h"
#include "store/partitions.h"
#include "store/raw.h"

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
	a->candidates = 300;
	a->jobs = 12;
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

/* Point the Airtable and Notion clients at the simulator. */
static int use_simulator(struct config *cfg, const char *url, const char *base_id, serr *e)
{
	if (config_set(cfg, "airtable.api_url", url, e) < 0 ||
	    config_set(cfg, "airtable.api_key", DEMO_KEY, e) < 0 ||
	    config_set(cfg, "airtable.base_id", base_id, e) < 0 ||
	    config_set(cfg, "notion.api_url", url, e) < 0 ||
	    config_set(cfg, "notion.api_key", DEMO_KEY, e) < 0)
		return -1;
	return 0;
}

static int run_step(const struct config *cfg, struct store *st, const char *job)
{
	struct buf id;
	serr e;
	int64_t t0 = mono_ms();
	int rc;

	buf_init(&id, 128);
	rc = run_foreground(cfg, st, job, NULL, &id, &e);
	printf("  %-32s %s  run %s  %.1fs\n", job, rc == 0 ? "SUCCESS" : "FAILURE",
	       buf_cstr(&id), (double)(mono_ms() - t0) / 1000.0);
	if (rc < 0)
		cli_fail(&e);
	buf_free(&id);
	return rc;
}

static void print_summary(struct store *st, struct sim *sim, double seconds)
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
	if (stats) {
		char *text = json_dumps(stats, JSON_COMPACT);
		printf("\nsimulator: %s\n", text ? text : "{}");
		free(text);
		json_decref(stats);
	}
	printf("elapsed: %.1fs\n", seconds);
}

int cmd_demo(int argc, char **argv)
{
	static const char *jobs[] = { "sync_airtable_candidates_job", "sync_airtable_jobs_job",
				      "sync_airtable_ats_job", "candidate_ingest_job",
				      "job_ingest_job" };
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
	printf("\nruns:\n");
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++)
		if (run_step(&cfg, &st, jobs[i]) < 0)
			goto out;
	print_summary(&st, sim, (double)(mono_ms() - t0) / 1000.0);
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
