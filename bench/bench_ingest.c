/*
 * Airtable request rate during a full ingestion: a generated base of 250
 * candidates with PDF CVs, one candidate_ingest_job run per partition from
 * two workers, against the simulator enforcing Airtable's 5 requests/s
 * per base. Reports the achieved rate as a ratio of the limit (goal: at
 * least 0.8) with the number of 429 answers (goal: zero).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/run.h"
#include "sim/generate.h"
#include "sim/sim.h"
#include "store/store.h"
#include "support/harness_db.h"
#include "support/harness_run.h"
#include "support/harness_sim.h"

#define BASE "appBenchIngest01"
#define LIMIT 5.0

static int set(struct config *c, const char *k, const char *v)
{
	serr e;

	if (config_set(c, k, v, &e) < 0) {
		fprintf(stderr, "bench: %s\n", e.msg);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int candidates = argc > 1 ? 0 : 250, threads = 2, failed = 0;
	struct harness_sim_opts so;
	struct sample_opts go;
	struct sim *sim = NULL;
	struct config cfg;
	struct store st;
	struct buf url, id;
	json_t *base = NULL, *log = NULL, *r;
	char home[512];
	const char *root = getenv("SCOUT_TEST_HOME");
	int64_t first = -1, last = -1, n = 0, n429 = 0, window_max = 0;
	size_t i;
	serr e;
	int rc = 1;

	if (argc > 1 && parse_int(argv[1], 1, 100000, &candidates) < 0) {
		fprintf(stderr, "usage: bench_ingest [CANDIDATES]\n");
		return 2;
	}
	log_set_level(LOG_WARN);
	buf_init(&url, 0);
	buf_init(&id, 128);
	store_init(&st);
	if (config_init(&cfg, &e) < 0)
		goto fail;
	harness_sim_opts_init(&so);
	so.load_small_base = 0;
	so.airtable_rate = LIMIT;
	so.penalty_ms = 30000;
	so.notion_rate = 3;
	if (!(sim = harness_sim_start(&so)))
		goto out;
	sample_opts_init(&go);
	go.seed = 11;
	go.candidates = candidates;
	go.jobs = 4;
	go.base_id = BASE;
	go.oversized_bytes = 0;
	if (!(base = sample_generate(&go, &e)) || sim_load_base(sim, base, &e) < 0)
		goto fail;
	snprintf(home, sizeof(home), "%s/bench_ingest", root ? root : "/tmp");
	mkdir(home, 0755);
	if (set(&cfg, "home", home) < 0 || set(&cfg, "airtable.api_url", sim_url(sim)) < 0 ||
	    set(&cfg, "airtable.api_key", HARNESS_SIM_KEY) < 0 ||
	    set(&cfg, "airtable.base_id", BASE) < 0)
		goto out;
	if (harness_db_create("bench_ingest", &url, &e) < 0 ||
	    store_open_url(&st, buf_cstr(&url), &e) < 0)
		goto fail;
	if (run_foreground(&cfg, &st, "sync_airtable_candidates_job", NULL, &id, &e) < 0)
		goto fail;
	sim_requests_clear(sim);
	sim_stats_reset(sim);
	if (harness_run_partitions(&cfg, buf_cstr(&url), "candidate_ingest_job", "candidates",
				   threads, &failed, &e) < 0) {
		fprintf(stderr, "bench: %d runs failed, last: %s\n", failed, e.msg);
		goto out;
	}
	log = sim_requests(sim);
	json_array_foreach(log, i, r) {
		int64_t start, end;
		if (strcmp(json_string_value(json_object_get(r, "api")), "airtable") != 0)
			continue;
		start = json_integer_value(json_object_get(r, "start_ms"));
		end = json_integer_value(json_object_get(r, "end_ms"));
		if (first < 0 || start < first)
			first = start;
		if (end > last)
			last = end;
		n++;
		if (json_integer_value(json_object_get(r, "status")) == 429)
			n429++;
	}
	{
		json_t *stats = sim_stats(sim);
		window_max = json_integer_value(
			json_object_get(json_object_get(json_object_get(stats, "bases"), BASE),
					"max_per_second"));
		json_decref(stats);
	}
	if (n < 2 || last <= first) {
		fprintf(stderr, "bench: too few requests to measure (%lld)\n", (long long)n);
		goto out;
	}
	{
		/* n requests occupy n-1 intervals between the first and the last start */
		double secs = (double)(last - first) / 1000.0;
		double rate = (double)(n - 1) / secs;
		printf("full ingestion: %d candidates, %d workers, %lld Airtable requests in %.1f s\n",
		       candidates, threads, (long long)n, secs);
		printf("airtable request rate: %.2f req/s = %.2f of the %.0f req/s limit (goal >= 0.80)\n",
		       rate, rate / LIMIT, LIMIT);
		printf("429 responses: %lld (goal 0); most requests in any 1 s window: %lld (limit %.0f)\n",
		       (long long)n429, (long long)window_max, LIMIT);
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "bench: %s\n", e.msg);
out:
	json_decref(log);
	json_decref(base);
	store_close(&st);
	if (url.len && harness_db_drop("bench_ingest", &e) < 0)
		fprintf(stderr, "bench: %s\n", e.msg);
	if (sim)
		harness_sim_stop(sim);
	config_free(&cfg);
	buf_free(&url);
	buf_free(&id);
	return rc;
}
