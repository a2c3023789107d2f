/*
 * The cost of an airtable_candidate_sensor tick on an unchanged table: a
 * generated Talent table of 10,000 records (no PDFs) in the simulator at
 * Airtable's 5 requests/s, one tick to set the cursor (a full listing that
 * requests every record), then a second tick. Reports the second tick's
 * Airtable requests (goal: 1), runs created (goal: 0) and time, next to the
 * first tick's figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/sensor.h"
#include "sim/generate.h"
#include "sim/sim.h"
#include "store/store.h"
#include "support/harness_db.h"
#include "support/harness_sim.h"

#define BASE "appBenchSensor01"
#define SENSOR "airtable_candidate_sensor"
#define RATE 5.0

static int set(struct config *c, const char *k, const char *v)
{
	serr e;

	if (config_set(c, k, v, &e) < 0) {
		fprintf(stderr, "bench: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static long base_requests(struct sim *sim)
{
	json_t *stats = sim_stats(sim);
	long n = (long)json_integer_value(
		json_object_get(json_object_get(json_object_get(stats, "bases"), BASE), "requests"));

	json_decref(stats);
	return n;
}

/* One committed tick; its time in *ms and its Airtable requests in *requests. */
static int timed_tick(struct sim *sim, const struct config *cfg, struct store *st,
		      struct sensor_tick_outcome *o, int64_t *ms, long *requests, serr *e)
{
	int64_t t0;

	sim_stats_reset(sim);
	sensor_tick_outcome_init(o);
	t0 = mono_ms();
	if (sensor_tick_now(cfg, st, SENSOR, 1, "bench", o, e) < 0)
		return -1;
	*ms = mono_ms() - t0;
	*requests = base_requests(sim);
	if (strcmp(o->status, "FAILURE") == 0)
		return serr_set(e, "the tick failed: %s", o->error ? o->error : "");
	return 0;
}

int main(int argc, char **argv)
{
	int records = 10000, rc = 1;
	struct harness_sim_opts so;
	struct sample_opts go;
	struct sim *sim = NULL;
	struct config cfg;
	struct store st;
	struct buf url;
	struct sensor_tick_outcome first, second;
	json_t *base = NULL;
	const char *root = getenv("SCOUT_TEST_HOME");
	char home[512], rate[16];
	int64_t ms1 = 0, ms2 = 0;
	long req1 = 0, req2 = 0;
	serr e;

	if (argc > 1 && parse_int(argv[1], 1, 1000000, &records) < 0) {
		fprintf(stderr, "usage: bench_sensor [RECORDS]\n");
		return 2;
	}
	log_set_level(LOG_WARN);
	buf_init(&url, 0);
	store_init(&st);
	sensor_tick_outcome_init(&first);
	sensor_tick_outcome_init(&second);
	if (config_init(&cfg, &e) < 0)
		goto fail;
	harness_sim_opts_init(&so);
	so.load_small_base = 0;
	so.airtable_rate = RATE;
	so.penalty_ms = 30000;
	if (!(sim = harness_sim_start(&so)))
		goto out;
	sample_opts_init(&go);
	go.seed = 13;
	go.candidates = records;
	go.jobs = 4;
	go.base_id = BASE;
	go.with_pdfs = 0;
	go.oversized_bytes = 0;
	if (!(base = sample_generate(&go, &e)) || sim_load_base(sim, base, &e) < 0)
		goto fail;
	snprintf(home, sizeof(home), "%s/bench_sensor", root ? root : "/tmp");
	mkdir(home, 0755);
	snprintf(rate, sizeof(rate), "%g", RATE);
	if (set(&cfg, "home", home) < 0 || set(&cfg, "airtable.api_url", sim_url(sim)) < 0 ||
	    set(&cfg, "airtable.api_key", HARNESS_SIM_KEY) < 0 ||
	    set(&cfg, "airtable.base_id", BASE) < 0 ||
	    set(&cfg, "airtable.requests_per_second", rate) < 0 ||
	    set(&cfg, "sensor.tick_timeout_s", "600") < 0)
		goto out;
	if (harness_db_create("bench_sensor", &url, &e) < 0 ||
	    store_open_url(&st, buf_cstr(&url), &e) < 0)
		goto fail;
	if (timed_tick(sim, &cfg, &st, &first, &ms1, &req1, &e) < 0 ||
	    timed_tick(sim, &cfg, &st, &second, &ms2, &req2, &e) < 0)
		goto fail;
	printf("first tick (no cursor: full listing): %d records, %ld Airtable requests, "
	       "%zu runs, %.1f s\n",
	       records, req1, json_array_size(first.run_ids), (double)ms1 / 1000.0);
	printf("second tick on the unchanged %d-record table: %ld Airtable request(s) (goal 1), "
	       "%zu runs (goal 0), status %s, %lld ms\n",
	       records, req2, json_array_size(second.run_ids), second.status, (long long)ms2);
	rc = req2 == 1 && json_array_size(second.run_ids) == 0 ? 0 : 1;
	goto out;
fail:
	fprintf(stderr, "bench: %s\n", e.msg);
out:
	sensor_tick_outcome_free(&first);
	sensor_tick_outcome_free(&second);
	json_decref(base);
	store_close(&st);
	if (url.len && harness_db_drop("bench_sensor", &e) < 0)
		fprintf(stderr, "bench: %s\n", e.msg);
	if (sim)
		harness_sim_stop(sim);
	config_free(&cfg);
	buf_free(&url);
	return rc;
}
