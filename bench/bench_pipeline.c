/*
 * Benchmark of the candidate pipeline's LLM steps (normalize, vectorize,
 * role fitness) over ingested candidates, with 1 s of simulated latency on
 * every LLM request. Runs one job per candidate over llm.concurrency
 * threads, as workers limited by the `llm` tag would, and reports the
 * throughput as a ratio of the limit that concurrency sets
 * (concurrency / (LLM requests per candidate * latency)), the requests,
 * tokens and embedding inputs per candidate, and the embedding cache hit
 * rate.
 *   bench_pipeline [candidates (default 1000)] [concurrency (default 16, the harness maximum)]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/job.h"
#include "orchestrator/run.h"
#include "pipeline/fitness.h"
#include "pipeline/llm_ctx.h"
#include "pipeline/normalize.h"
#include "pipeline/vectorize.h"
#include "sim/generate.h"
#include "sim/sim.h"
#include "store/llm_calls.h"
#include "store/store.h"
#include "support/harness_db.h"
#include "support/harness_run.h"
#include "support/harness_sim.h"

#define BASE_ID "appBenchPipeline1"
#define LATENCY_MS 1000

static const struct job_def bench_job = {
	.name = "bench_candidate_llm_job",
	.description = "normalize, vectorize and score one stored candidate",
	.partitioning = PART_CANDIDATES,
	.tags = "llm",
	.steps = { { "normalize", step_normalize_candidates },
		   { "vectorize", step_vectorize_candidates },
		   { "role_fitness", step_role_fitness } },
	.state_new = pipeline_state_new,
	.state_free = pipeline_state_free,
};

static int set(struct config *c, const char *k, const char *v, serr *e)
{
	return config_set(c, k, v, e);
}

static int64_t q(struct store *st, const char *sql)
{
	int64_t n = 0;
	serr e;

	if (store_query_i64(st, "count", sql, 0, NULL, &n, &e) < 0)
		fprintf(stderr, "%s\n", e.msg);
	return n;
}

int main(int argc, char **argv)
{
	int candidates = 1000, conc = 16, failed = 0, rc = 1;
	struct harness_sim_opts so;
	struct sample_opts go;
	struct sim *sim = NULL;
	struct config cfg;
	struct store st;
	struct buf url, id, api;
	struct llm_call_totals tot;
	json_t *base = NULL, *stats = NULL, *or;
	const char *root = getenv("SCOUT_TEST_HOME");
	char home[512], num[32];
	int64_t t0, t1, vectors, chat, embeds, inputs;
	double secs, per, limit, thr;
	serr e;

	if (argc > 1 && parse_int(argv[1], 1, 100000, &candidates) < 0) {
		fprintf(stderr, "usage: bench_pipeline [candidates] [concurrency]\n");
		return 2;
	}
	if (argc > 2 && parse_int(argv[2], 1, 16, &conc) < 0) {
		fprintf(stderr, "usage: bench_pipeline [candidates] [concurrency]\n");
		return 2;
	}
	log_set_level(LOG_ERROR);
	buf_init(&url, 0);
	buf_init(&id, 128);
	buf_init(&api, 0);
	store_init(&st);
	if (config_init(&cfg, &e) < 0)
		goto fail;
	harness_sim_opts_init(&so);
	so.load_small_base = 0;
	so.airtable_rate = 1000;
	so.notion_rate = 1000;
	if (!(sim = harness_sim_start(&so)))
		goto out;
	sample_opts_init(&go);
	go.seed = 5;
	go.candidates = candidates;
	go.jobs = 4;
	go.base_id = BASE_ID;
	go.oversized_bytes = 0;
	if (!(base = sample_generate(&go, &e)) || sim_load_base(sim, base, &e) < 0)
		goto fail;
	snprintf(home, sizeof(home), "%s/bench_pipeline", root ? root : "/tmp");
	mkdir(home, 0755);
	snprintf(num, sizeof(num), "%d", conc);
	if (buf_printf(&api, "%s/api/v1", sim_url(sim)) < 0 || set(&cfg, "home", home, &e) < 0 ||
	    set(&cfg, "airtable.api_url", sim_url(sim), &e) < 0 ||
	    set(&cfg, "airtable.api_key", HARNESS_SIM_KEY, &e) < 0 ||
	    set(&cfg, "airtable.base_id", BASE_ID, &e) < 0 ||
	    set(&cfg, "airtable.requests_per_second", "1000", &e) < 0 ||
	    set(&cfg, "notion.api_url", sim_url(sim), &e) < 0 ||
	    set(&cfg, "notion.api_key", HARNESS_SIM_KEY, &e) < 0 ||
	    set(&cfg, "notion.requests_per_second", "1000", &e) < 0 ||
	    set(&cfg, "openrouter.api_url", buf_cstr(&api), &e) < 0 ||
	    set(&cfg, "openrouter.api_key", HARNESS_SIM_KEY, &e) < 0 ||
	    set(&cfg, "llm.concurrency", num, &e) < 0)
		goto fail;
	log_add_secret(HARNESS_SIM_KEY);
	if (harness_db_create("bench_pipeline", &url, &e) < 0 ||
	    store_open_url(&st, buf_cstr(&url), &e) < 0)
		goto fail;
	if (run_foreground(&cfg, &st, "sync_airtable_candidates_job", NULL, &id, &e) < 0 ||
	    run_foreground(&cfg, &st, "candidate_ingest_job", NULL, &id, &e) < 0)
		goto fail;
	if (job_defs_register(&bench_job, &e) < 0)
		goto fail;
	{
		json_t *c = json_pack("{s:i}", "llm_latency_ms", LATENCY_MS);
		int r = c ? sim_configure(sim, c, &e) : serr_set(&e, "out of memory");
		json_decref(c);
		if (r < 0)
			goto fail;
	}
	sim_stats_reset(sim);
	t0 = mono_ms();
	if (harness_run_partitions(&cfg, buf_cstr(&url), bench_job.name, "candidates", conc, &failed,
				   &e) < 0) {
		fprintf(stderr, "%d runs failed; last: %s\n", failed, e.msg);
		if (!failed)
			failed = -1;
	}
	t1 = mono_ms();
	stats = sim_stats(sim);
	or = json_object_get(stats, "openrouter");
	chat = json_integer_value(json_object_get(or, "chat"));
	embeds = json_integer_value(json_object_get(or, "embeddings"));
	inputs = json_integer_value(json_object_get(or, "embedding_inputs"));
	vectors = q(&st, "SELECT count(*) FROM candidate_vectors");
	if (llm_calls_totals(&st, NULL, NULL, &tot, &e) < 0)
		goto fail;
	secs = (double)(t1 - t0) / 1000.0;
	per = (double)(chat + embeds) / candidates;
	limit = per > 0 ? conc / (per * LATENCY_MS / 1000.0) : 0;
	thr = secs > 0 ? candidates / secs : 0;
	printf("candidates %d, llm.concurrency %d, latency %d ms, %.1f s, %d failed\n", candidates,
	       conc, LATENCY_MS, secs, failed);
	printf("throughput %.2f candidates/s, limit %.2f/s: ratio %.2f (goal >= 0.8)\n", thr, limit,
	       limit > 0 ? thr / limit : 0);
	printf("per candidate: %.2f llm requests (%.2f chat, %.2f embeddings), %.0f prompt + %.0f "
	       "completion tokens, %.1f embedding inputs, $%.6f\n",
	       per, (double)chat / candidates, (double)embeds / candidates,
	       (double)tot.prompt_tokens / candidates, (double)tot.completion_tokens / candidates,
	       (double)inputs / candidates, tot.cost_usd / candidates);
	printf("embedding cache hit rate %.2f (%lld vectors, %lld texts embedded)\n",
	       vectors > 0 ? 1.0 - (double)inputs / (double)vectors : 0, (long long)vectors,
	       (long long)inputs);
	rc = failed ? 1 : 0;
	goto out;
fail:
	fprintf(stderr, "bench_pipeline: %s\n", e.msg);
out:
	json_decref(stats);
	json_decref(base);
	store_close(&st);
	if (url.len && harness_db_drop("bench_pipeline", &e) < 0)
		fprintf(stderr, "%s\n", e.msg);
	if (sim)
		harness_sim_stop(sim);
	config_free(&cfg);
	buf_free(&url);
	buf_free(&id);
	buf_free(&api);
	return rc;
}
