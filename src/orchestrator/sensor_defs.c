/*
 * The sensor definitions table: the seed's Airtable sensors, the extra
 * definitions registered at run time (tests, benchmarks), and the helpers
 * evaluations use to build their result.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/util.h"
#include "orchestrator/sensor.h"
#include "pipeline/feedback.h"
#include "pipeline/sensors.h"

#define SENSOR_EXTRA_MAX 32

static int candidate_interval(const struct config *cfg)
{
	return cfg->sensor_candidate_interval_s;
}

static int job_interval(const struct config *cfg)
{
	return cfg->sensor_job_interval_s;
}

/* The seed polls every 5 minutes; below 10 s a tick would outrun Airtable's budget. */
static int matchmaking_interval(const struct config *cfg)
{
	return cfg->sensor_matchmaking_interval_s < 10 ? 10 : cfg->sensor_matchmaking_interval_s;
}

/*
 * The Airtable sensors request the full pipelines (ingest, normalize,
 * vectorize, sync-back); the seed's airtable_job_matchmaking_sensor (the
 * Start Matchmaking checkbox) joins this table with the matchmaking issue.
 */
static const struct sensor_def builtin[] = {
	{
		.name = "airtable_candidate_sensor",
		.description = "new or modified Talent records (input fields only) since the cursor",
		.interval_s = 900,
		.interval_from = candidate_interval,
		.default_enabled = 1,
		.job = "candidate_pipeline_job",
		.eval = sensor_eval_airtable_candidates,
	},
	{
		.name = "airtable_job_sensor",
		.description = "new or modified Customers STT records (input fields only) since the cursor",
		.interval_s = 300,
		.interval_from = job_interval,
		.default_enabled = 1,
		.job = "job_pipeline_job",
		.eval = sensor_eval_airtable_jobs,
	},
	{
		.name = "airtable_job_matchmaking_sensor",
		.description = "jobs with Start Matchmaking checked: apply the recruiter's (N) values, "
			       "rank, upload to the ATS",
		.interval_s = 300,
		.interval_from = matchmaking_interval,
		.default_enabled = 1,
		.job = "matchmaking_with_feedback_job",
		.eval = sensor_eval_job_matchmaking,
	},
};

#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

/* Entries never move once registered, so pointers to them stay valid. */
static struct sensor_def extra[SENSOR_EXTRA_MAX];
static size_t nextra;
static pthread_mutex_t extra_lock = PTHREAD_MUTEX_INITIALIZER;

size_t sensor_defs_count(void)
{
	size_t n;

	pthread_mutex_lock(&extra_lock);
	n = nextra;
	pthread_mutex_unlock(&extra_lock);
	return NBUILTIN + n;
}

const struct sensor_def *sensor_def_at(size_t i)
{
	const struct sensor_def *d = NULL;

	if (i < NBUILTIN)
		return &builtin[i];
	pthread_mutex_lock(&extra_lock);
	if (i - NBUILTIN < nextra)
		d = &extra[i - NBUILTIN];
	pthread_mutex_unlock(&extra_lock);
	return d;
}

const struct sensor_def *sensor_def_find(const char *name)
{
	size_t n = sensor_defs_count();

	for (size_t i = 0; name && i < n; i++) {
		const struct sensor_def *d = sensor_def_at(i);
		if (d && strcmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

int sensor_def_interval(const struct sensor_def *d, const struct config *cfg)
{
	int s = d->interval_from && cfg ? d->interval_from(cfg) : d->interval_s;

	return s > 0 ? s : 1;
}

static int same_def(const struct sensor_def *a, const struct sensor_def *b)
{
	return a->interval_s == b->interval_s && a->interval_from == b->interval_from &&
	       a->default_enabled == b->default_enabled && a->eval == b->eval &&
	       strcmp(a->job ? a->job : "", b->job ? b->job : "") == 0;
}

int sensor_defs_register(const struct sensor_def *def, serr *e)
{
	const struct sensor_def *have;
	int rc = -1;

	if (!def || !def->name || !*def->name || !def->eval)
		return serr_set(e, "a sensor definition needs a name and an evaluation function");
	if (strlen(def->name) > 128)
		return serr_set(e, "sensor name '%.40s...' is longer than 128 characters",
				def->name);
	pthread_mutex_lock(&extra_lock);
	have = NULL;
	for (size_t i = 0; i < NBUILTIN + nextra; i++) {
		const struct sensor_def *d = i < NBUILTIN ? &builtin[i] : &extra[i - NBUILTIN];
		if (strcmp(d->name, def->name) == 0)
			have = d;
	}
	if (have) {
		if (have >= builtin && have < builtin + NBUILTIN)
			serr_set(e, "sensor '%s' is built in and cannot be registered again",
				 def->name);
		else if (!same_def(have, def))
			serr_set(e, "sensor '%s' is registered already with another definition",
				 def->name);
		else
			rc = 0;
		goto out;
	}
	if (nextra == SENSOR_EXTRA_MAX) {
		serr_set(e, "cannot register sensor '%s': %d extra sensors are registered already",
			 def->name, SENSOR_EXTRA_MAX);
		goto out;
	}
	extra[nextra++] = *def;
	rc = 0;
out:
	pthread_mutex_unlock(&extra_lock);
	return rc;
}

static int eval_test_tick(const struct sensor_eval_ctx *ctx, const char *cursor,
			  struct sensor_result *out, serr *e)
{
	(void)cursor;
	if (sensor_result_cursor(out, ctx->tick_start, e) < 0)
		return -1;
	return sensor_result_skip(out, "test sensor: nothing to request", e);
}

int sensor_defs_register_from_env(serr *e)
{
	static struct sensor_def test_tick = {
		.name = "test_tick_sensor",
		.description = "test hook (SCOUT_TEST_SENSORS=1): ticks and requests nothing",
		.interval_s = 1,
		.default_enabled = 1,
		.job = "",
		.eval = eval_test_tick,
	};
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	const char *on = getenv("SCOUT_TEST_SENSORS");
	const char *iv = getenv("SCOUT_TEST_SENSOR_INTERVAL_S");
	int rc;

	if (!on || strcmp(on, "1") != 0)
		return 0;
	pthread_mutex_lock(&once);
	if (iv && parse_int(iv, 1, 86400, &test_tick.interval_s) < 0) {
		pthread_mutex_unlock(&once);
		return serr_set(e, "SCOUT_TEST_SENSOR_INTERVAL_S '%s' is not a number of seconds "
				   "from 1 to 86400",
				iv);
	}
	rc = sensor_defs_register(&test_tick, e);
	pthread_mutex_unlock(&once);
	return rc;
}

void sensor_result_init(struct sensor_result *r)
{
	r->requests = NULL;
	r->cursor = NULL;
	r->skip_reason = NULL;
	r->metadata = NULL;
}

void sensor_result_free(struct sensor_result *r)
{
	json_decref(r->requests);
	free(r->cursor);
	free(r->skip_reason);
	json_decref(r->metadata);
	sensor_result_init(r);
}

int sensor_result_request(struct sensor_result *r, const char *job, const char *partition_key,
			  const char *run_key, json_t *tags, serr *e)
{
	json_t *req = NULL;
	int rc = -1;

	if (!r->requests)
		r->requests = json_array();
	if (r->requests)
		req = json_pack("{s:s?,s:s?,s:s?}", "job", job, "partition_key", partition_key,
				"run_key", run_key);
	if (!req || (tags && json_object_set(req, "tags", tags) < 0) ||
	    json_array_append(r->requests, req) < 0) {
		serr_set(e, "out of memory adding a run request for partition '%s'",
			 partition_key ? partition_key : "(none)");
		goto out;
	}
	rc = 0;
out:
	json_decref(req);
	json_decref(tags);
	return rc;
}

static int set_str(char **dst, const char *v, const char *what, serr *e)
{
	char *c = NULL;

	if (v && !(c = strdup(v)))
		return serr_set(e, "out of memory setting the %s of a sensor result", what);
	free(*dst);
	*dst = c;
	return 0;
}

int sensor_result_skip(struct sensor_result *r, const char *reason, serr *e)
{
	return set_str(&r->skip_reason, reason, "skip reason", e);
}

int sensor_result_cursor(struct sensor_result *r, const char *cursor, serr *e)
{
	return set_str(&r->cursor, cursor, "cursor", e);
}
