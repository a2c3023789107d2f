/*
 * Committing a sensor tick: the runs it requests (through the queue, so
 * run keys dedupe), the partitions they name, the requests kept for a busy
 * partition, the new cursor and the tick record, all in one transaction,
 * so a cursor never moves past runs that were not queued. A tick whose
 * commit fails, or whose evaluation failed, is recorded as FAILURE with
 * the cursor where it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/job.h"
#include "orchestrator/sensor_internal.h"
#include "store/partition_status.h"
#include "store/partitions.h"
#include "store/queue.h"
#include "store/sensors.h"

#define RUN_KEY_MAX 512
#define REASON_MAX 512

/* What a commit did with the requests. */
struct commit {
	struct store *st;
	const struct sensor_tick_start *t;
	json_t *run_ids;  /* runs created, in order */
	json_t *touched;  /* "job\037partition" of this tick's requests */
	json_t *kinds;	  /* partition kind -> array of keys to register */
	long created;	  /* new runs */
	long duplicates;  /* requested before: nothing to do */
	long waiting;	  /* kept until their partition's run ends */
	long reverted;	  /* records back to an earlier state: run again */
	long retried;	  /* waiting requests queued by this tick */
};

enum submit_result { SUBMIT_CREATED, SUBMIT_DUPLICATE, SUBMIT_WAITING };

void sensor_tick_outcome_init(struct sensor_tick_outcome *o)
{
	memset(o, 0, sizeof(*o));
}

void sensor_tick_outcome_free(struct sensor_tick_outcome *o)
{
	json_decref(o->requests);
	json_decref(o->run_ids);
	json_decref(o->metadata);
	free(o->cursor_before);
	free(o->cursor_after);
	free(o->reason);
	free(o->error);
	sensor_tick_outcome_init(o);
}

static int key_has_prefix(const char *key, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(key, prefix, n) == 0 && (key[n] == '\0' || key[n] == ':');
}

/*
 * Queue one request. The queue answers "not created" for two reasons: the
 * run key was used (the request was made before: nothing to do, unless the
 * record has since changed and come back, see below), or the partition has
 * a QUEUED/STARTED run with another key (the record changed while its run
 * waited or ran: keep the request for the next ticks, or the change would
 * be lost).
 */
static int submit(struct commit *c, const struct run_request *rr, int retry,
		  enum submit_result *how, serr *e)
{
	const char *sensor = c->t->def->name;
	struct buf id, key;
	char rkey[RUN_KEY_MAX + 32];
	int created, has_key, found, rc = -1;

	buf_init(&id, 256);
	buf_init(&key, RUN_KEY_MAX + 64);
	if (queue_enqueue(c->st, rr, &id, &created, e) < 0)
		goto out;
	*how = SUBMIT_CREATED;
	if (created)
		goto done;
	*how = SUBMIT_WAITING;
	if (rr->partition_key && rr->run_key) {
		if (sensors_run_key(c->st, buf_cstr(&id), &key, &has_key, e) < 0)
			goto out;
		if (has_key && strcmp(buf_cstr(&key), rr->run_key) == 0)
			*how = SUBMIT_DUPLICATE;
	} else if (!rr->partition_key) {
		*how = SUBMIT_DUPLICATE; /* unpartitioned: only the run key can have deduped */
	}
	if (*how == SUBMIT_DUPLICATE && rr->partition_key) {
		/*
		 * A record edited A -> B -> A has input hash A again, a key used
		 * already: when this sensor's newest run of the partition has
		 * another key, the stored data is B's, so run again under a key
		 * marked with this tick.
		 */
		if (sensors_latest_run_key(c->st, rr->job, rr->partition_key, sensor, &key, &found,
					   e) < 0)
			goto out;
		if (found && !key_has_prefix(buf_cstr(&key), rr->run_key)) {
			struct run_request again = *rr;

			snprintf(rkey, sizeof(rkey), "%s:r%lld", rr->run_key,
				 (long long)c->t->started_ms);
			again.run_key = rkey;
			buf_reset(&id);
			if (queue_enqueue(c->st, &again, &id, &created, e) < 0)
				goto out;
			*how = created ? SUBMIT_CREATED : SUBMIT_WAITING;
			if (created)
				c->reverted++;
		}
	}
	if (*how == SUBMIT_WAITING && !retry) {
		struct sensor_pending pd = { rr->job, rr->partition_key, rr->run_key, rr->tags_json,
					     rr->priority };
		if (sensors_pending_put(c->st, sensor, &pd, e) < 0)
			goto out;
	}
done:
	if (*how == SUBMIT_CREATED) {
		json_t *s = json_string(buf_cstr(&id));
		if (!s || json_array_append_new(c->run_ids, s) < 0) {
			serr_set(e, "out of memory");
			goto out;
		}
		c->created++;
	} else if (*how == SUBMIT_DUPLICATE) {
		c->duplicates++;
	} else if (!retry) {
		c->waiting++;
	}
	rc = 0;
out:
	buf_free(&id);
	buf_free(&key);
	return rc;
}

/* Remember a partition of this tick (and the input hash its record has now). */
static int touch(struct commit *c, const char *job, const char *partition, const char *kind,
		 const char *input_hash, enum submit_result how, serr *e)
{
	struct buf k;
	json_t *g;
	int rc = -1;

	buf_init(&k, 0);
	if (buf_printf(&k, "%s\037%s", job, partition) < 0)
		goto out;
	if (json_object_get(c->touched, buf_cstr(&k))) {
		rc = json_object_set_new(c->touched, buf_cstr(&k), json_integer(how));
		goto out;
	}
	g = json_object_get(c->kinds, kind);
	if (!g && (!(g = json_pack("{s:[],s:[],s:[]}", "keys", "hkeys", "hashes")) ||
		   json_object_set_new(c->kinds, kind, g) < 0))
		goto out;
	if (json_object_set_new(c->touched, buf_cstr(&k), json_integer(how)) < 0 ||
	    json_array_append_new(json_object_get(g, "keys"), json_string(partition)) < 0)
		goto out;
	if (input_hash &&
	    (json_array_append_new(json_object_get(g, "hkeys"), json_string(partition)) < 0 ||
	     json_array_append_new(json_object_get(g, "hashes"), json_string(input_hash)) < 0))
		goto out;
	rc = 0;
out:
	if (rc < 0)
		serr_set(e, "out of memory registering partition '%s'", partition);
	buf_free(&k);
	return rc;
}

/* Check one request of the evaluation and queue it. */
static int request_one(struct commit *c, const json_t *req, size_t i, serr *e)
{
	const struct sensor_def *d = c->t->def;
	const char *job, *part, *key;
	const json_t *tags = json_object_get(req, "tags"), *prio = json_object_get(req, "priority");
	const struct job_def *jd;
	struct run_request rr = { 0 };
	enum submit_result how;
	json_t *t = NULL;
	char *tags_json = NULL;
	int rc = -1;

	if (!json_is_object(req)) {
		serr_set(e, "request %zu of sensor '%s' is not an object", i, d->name);
		goto out;
	}
	job = json_string_value(json_object_get(req, "job"));
	if (!job || !*job)
		job = d->job;
	part = json_string_value(json_object_get(req, "partition_key"));
	key = json_string_value(json_object_get(req, "run_key"));
	if (!job || !(jd = job_def_find(job))) {
		serr_set(e, "sensor '%s' requested job '%s', which is not defined (see `scout job list`)",
			 d->name, job ? job : "");
		goto out;
	}
	if (part && (!*part || strlen(part) > PARTITION_KEY_MAX)) {
		serr_set(e, "sensor '%s' requested a partition key of %zu characters for job '%s' "
			    "(1 to %d allowed)",
			 d->name, strlen(part), job, PARTITION_KEY_MAX);
		goto out;
	}
	if (part && jd->partitioning == PART_NONE) {
		serr_set(e, "sensor '%s' requested partition '%s' of job '%s', which is not "
			    "partitioned",
			 d->name, part, job);
		goto out;
	}
	if (!part && jd->partitioning != PART_NONE && !jd->allow_all) {
		serr_set(e, "sensor '%s' requested job '%s' without the partition it needs", d->name,
			 job);
		goto out;
	}
	if (key && (!*key || strlen(key) > RUN_KEY_MAX)) {
		serr_set(e, "sensor '%s' requested a run key of %zu characters (1 to %d allowed)",
			 d->name, strlen(key), RUN_KEY_MAX);
		goto out;
	}
	if ((tags && !json_is_object(tags) && !json_is_null(tags)) ||
	    (prio && !json_is_integer(prio)) ||
	    (prio && (json_integer_value(prio) < -1000000 || json_integer_value(prio) > 1000000))) {
		serr_set(e, "request %zu of sensor '%s' has tags that are not an object or a "
			    "priority that is not an integer from -1000000 to 1000000",
			 i, d->name);
		goto out;
	}
	/* Every run a sensor requests says which sensor it came from. */
	t = json_is_object(tags) ? json_copy((json_t *)tags) : json_object();
	if (!t || (!json_object_get(t, "sensor") &&
		   json_object_set_new(t, "sensor", json_string(d->name)) < 0) ||
	    !(tags_json = json_dumps(t, JSON_COMPACT))) {
		serr_set(e, "out of memory");
		goto out;
	}
	rr.job = job;
	rr.partition_key = part;
	rr.run_key = key;
	rr.tags_json = tags_json;
	rr.priority = prio ? (int)json_integer_value(prio) : 0;
	if (submit(c, &rr, 0, &how, e) < 0)
		goto out;
	if (part && touch(c, job, part, job_partitioning_name(jd->partitioning),
			  json_string_value(json_object_get(t, "input_hash")), how, e) < 0)
		goto out;
	rc = 0;
out:
	json_decref(t);
	free(tags_json);
	return rc;
}

/* Requests kept by earlier ticks: queued once their partition is free. */
static int retry_waiting(struct commit *c, serr *e)
{
	const char *sensor = c->t->def->name;
	struct sensor_pending_list l;
	struct buf k;
	int rc = -1;

	sensor_pending_list_init(&l);
	buf_init(&k, 0);
	if (sensors_pending_list(c->st, sensor, 0, &l, e) < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		const struct sensor_pending *pd = &l.items[i];
		struct run_request rr = { pd->job, pd->partition_key, pd->run_key, pd->tags_json,
					  pd->priority, NULL, 0 };
		enum submit_result how = SUBMIT_DUPLICATE;
		const json_t *t;

		buf_reset(&k);
		if (buf_printf(&k, "%s\037%s", pd->job, pd->partition_key) < 0) {
			serr_set(e, "out of memory");
			goto out;
		}
		/*
		 * A request of this tick for the same partition is newer: it
		 * replaced this one when it had to wait, else this one is stale.
		 */
		if ((t = json_object_get(c->touched, buf_cstr(&k))))
			how = json_integer_value(t) == SUBMIT_WAITING ? SUBMIT_WAITING
								      : SUBMIT_DUPLICATE;
		else if (!job_def_find(pd->job))
			how = SUBMIT_DUPLICATE; /* the job is gone: drop the request */
		else if (submit(c, &rr, 1, &how, e) < 0)
			goto out;
		if (how == SUBMIT_WAITING)
			continue;
		if (how == SUBMIT_CREATED)
			c->retried++;
		if (sensors_pending_delete(c->st, sensor, pd->job, pd->partition_key, e) < 0)
			goto out;
	}
	rc = 0;
out:
	buf_free(&k);
	sensor_pending_list_free(&l);
	return rc;
}

static int strv_from(json_t *arr, const char ***out, serr *e)
{
	size_t n = json_array_size(arr), bytes;

	*out = NULL;
	if (size_mul(n ? n : 1, sizeof(**out), &bytes) < 0 || !(*out = malloc(bytes)))
		return serr_set(e, "out of memory for %zu strings", n);
	for (size_t i = 0; i < n; i++)
		(*out)[i] = json_string_value(json_array_get(arr, i));
	return 0;
}

/*
 * New record ids become partitions; each partition keeps the input hash its
 * record has now, so partition status can tell a stale success.
 */
static int register_partitions(struct commit *c, serr *e)
{
	const char *kind;
	json_t *g;
	const char **keys = NULL, **hkeys = NULL, **hashes = NULL;
	int rc = -1;

	json_object_foreach(c->kinds, kind, g) {
		json_t *k = json_object_get(g, "keys"), *hk = json_object_get(g, "hkeys");

		free(keys);
		free(hkeys);
		free(hashes);
		keys = hkeys = hashes = NULL;
		if (strv_from(k, &keys, e) < 0 || strv_from(hk, &hkeys, e) < 0 ||
		    strv_from(json_object_get(g, "hashes"), &hashes, e) < 0)
			goto out;
		if (partitions_add(c->st, kind, keys, json_array_size(k), NULL, e) < 0)
			goto out;
		if (json_array_size(hk) &&
		    partitions_set_input_hashes(c->st, kind, hkeys, hashes, json_array_size(hk), e) < 0)
			goto out;
	}
	rc = 0;
out:
	free(keys);
	free(hkeys);
	free(hashes);
	return rc;
}

/* The tick's metadata: the evaluation's, plus what the commit did. */
static char *tick_metadata(const struct commit *c, const struct sensor_result *res)
{
	json_t *m = res && res->metadata ? json_copy(res->metadata) : json_object();
	json_t *counts = json_pack("{s:I,s:I,s:I,s:I,s:I}", "runs_created", (json_int_t)c->created,
				   "already_requested", (json_int_t)c->duplicates, "waiting",
				   (json_int_t)c->waiting, "reverted", (json_int_t)c->reverted,
				   "waiting_queued", (json_int_t)c->retried);
	char *text = NULL;

	if (m && counts && json_object_update(m, counts) == 0)
		text = json_dumps(m, JSON_COMPACT);
	json_decref(counts);
	json_decref(m);
	return text;
}

static int set_copy(char **dst, const char *v)
{
	free(*dst);
	*dst = NULL;
	return v && !(*dst = strdup(v)) ? -1 : 0;
}

/* The transaction of a successful evaluation; *won = 0 when another tick committed first. */
static int commit_success(struct commit *c, const struct config *cfg, const char *holder,
			  const struct sensor_result *res, struct sensor_tick_outcome *out,
			  int *won, serr *e)
{
	const struct sensor_tick_start *t = c->t;
	size_t n = json_array_size(res->requests);
	const char **ids = NULL;
	char *meta = NULL, reason[REASON_MAX];
	struct sensor_tick_rec rec = { 0 };
	int rc = -1;

	if (cfg->sensor_max_requests > 0 && n > (size_t)cfg->sensor_max_requests) {
		serr_set(e, "sensor '%s' requested %zu runs, more than sensor.max_requests (%d)",
			 t->def->name, n, cfg->sensor_max_requests);
		return -1;
	}
	if (store_begin(c->st, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (request_one(c, json_array_get(res->requests, i), i, e) < 0)
			goto out;
	if (retry_waiting(c, e) < 0 || register_partitions(c, e) < 0)
		goto out;
	if (sensors_state_advance(c->st, t->def->name, t->version, res->cursor != NULL, res->cursor,
				  t->started_at, sensor_def_interval(t->def, cfg), won, e) < 0)
		goto out;
	if (!*won) {
		rc = 0;
		goto out;
	}
	if (c->created > 0)
		snprintf(reason, sizeof(reason),
			 "%ld runs requested (%ld requested before, %ld waiting for their partition)",
			 c->created, c->duplicates, c->waiting);
	else if (res->skip_reason)
		snprintf(reason, sizeof(reason), "%s", res->skip_reason);
	else
		snprintf(reason, sizeof(reason),
			 "nothing new: %zu requests, %ld requested before, %ld waiting for their "
			 "partition",
			 n, c->duplicates, c->waiting);
	if (!(meta = tick_metadata(c, res)) || strv_from(c->run_ids, &ids, e) < 0) {
		serr_set(e, "out of memory");
		goto out;
	}
	rec.sensor = t->def->name;
	rec.started_at = t->started_at;
	rec.status = c->created > 0 ? "SUCCESS" : "SKIPPED";
	rec.reason = reason;
	rec.cursor_before = t->cursor_before;
	rec.cursor_after = res->cursor ? res->cursor : t->cursor_before;
	rec.requested = (int)n;
	rec.run_ids = ids;
	rec.nruns = json_array_size(c->run_ids);
	rec.holder = holder;
	rec.metadata_json = meta;
	if (sensors_tick_insert(c->st, &rec, &out->tick_id, e) < 0 || store_commit(c->st, e) < 0)
		goto out;
	snprintf(out->status, sizeof(out->status), "%s", rec.status);
	if (set_copy(&out->reason, reason) < 0 || set_copy(&out->cursor_after, rec.cursor_after) < 0)
		serr_set(e, "out of memory"); /* committed; only the report is short */
	json_decref(out->metadata);
	out->metadata = json_loads(meta, 0, NULL);
	rc = 0;
out:
	if (rc < 0 || !*won)
		store_rollback(c->st);
	free(ids);
	free(meta);
	return rc;
}

static int commit_failure(struct store *st, const struct config *cfg,
			  const struct sensor_tick_start *t, const char *holder, const char *error,
			  struct sensor_tick_outcome *out, int *won, serr *e)
{
	struct sensor_tick_rec rec = { 0 };
	int rc = -1;

	if (store_begin(st, e) < 0)
		return -1;
	if (sensors_state_advance(st, t->def->name, t->version, 0, NULL, t->started_at,
				  sensor_def_interval(t->def, cfg), won, e) < 0)
		goto out;
	if (!*won) {
		rc = 0;
		goto out;
	}
	rec.sensor = t->def->name;
	rec.started_at = t->started_at;
	rec.status = "FAILURE";
	rec.error = error;
	rec.cursor_before = t->cursor_before;
	rec.cursor_after = t->cursor_before;
	rec.holder = holder;
	if (sensors_tick_insert(st, &rec, &out->tick_id, e) < 0 || store_commit(st, e) < 0)
		goto out;
	snprintf(out->status, sizeof(out->status), "FAILURE");
	if (set_copy(&out->error, error) < 0 || set_copy(&out->cursor_after, t->cursor_before) < 0)
		serr_set(e, "out of memory");
	rc = 0;
out:
	if (rc < 0 || !*won)
		store_rollback(st);
	return rc;
}

int sensor_commit(struct store *st, const struct config *cfg, const struct sensor_tick_start *t,
		  const char *holder, const struct sensor_result *res, const char *eval_error,
		  struct sensor_tick_outcome *out, serr *e)
{
	struct commit c = { 0 };
	char why[SERR_MAX];
	int won = 0, done = 0, rc = -1;

	c.st = st;
	c.t = t;
	c.run_ids = json_array();
	c.touched = json_object();
	c.kinds = json_object();
	if (!c.run_ids || !c.touched || !c.kinds) {
		serr_set(e, "out of memory");
		goto out;
	}
	if (set_copy(&out->cursor_before, t->cursor_before) < 0) {
		serr_set(e, "out of memory");
		goto out;
	}
	if (res) {
		json_decref(out->requests);
		out->requests = json_incref(res->requests);
		if (commit_success(&c, cfg, holder, res, out, &won, e) == 0) {
			json_decref(out->run_ids);
			out->run_ids = json_incref(c.run_ids);
			done = 1;
		} else {
			snprintf(why, sizeof(why), "cannot commit the tick: %s", e->msg);
			eval_error = why;
		}
	}
	if (!done && commit_failure(st, cfg, t, holder,
				    eval_error ? eval_error : "the evaluation failed", out, &won,
				    e) < 0) {
		serr_wrap(e, "sensor '%s' failed (%s) and its tick cannot be recorded", t->def->name,
			  eval_error ? eval_error : "unknown error");
		goto out;
	}
	out->superseded = !won;
	if (!won)
		log_warn("sensor tick superseded: another tick committed first", "sensor=%s",
			 t->def->name);
	else if (strcmp(out->status, "FAILURE") == 0)
		log_warn("sensor tick failed", "sensor=%s tick=%lld error=%s", t->def->name,
			 (long long)out->tick_id, out->error ? out->error : "");
	else
		log_info("sensor tick", "sensor=%s tick=%lld status=%s runs=%ld requested=%zu",
			 t->def->name, (long long)out->tick_id, out->status, c.created,
			 json_array_size(out->requests));
	rc = 0;
out:
	json_decref(c.run_ids);
	json_decref(c.touched);
	json_decref(c.kinds);
	return rc;
}
