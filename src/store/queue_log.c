/*
 * The queue's reads and event writes (see queue.h): a step's start and
 * end, events of any type, the event log of a partition, a run's attempts
 * and the queue facts of a run.
 */
#include "store/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static const char *const event_types[] = {
	"RUN_START",   "RUN_SUCCESS",	"RUN_FAILURE",	 "STEP_START",	  "STEP_SUCCESS",
	"STEP_FAILURE", "MATERIALIZATION", "LOG",	 "RUN_ENQUEUED",  "RUN_RETRY",
	"RUN_CANCELING", "RUN_CANCELED", "RUN_RELEASED", "STEP_SKIPPED",
};
static const char *const levels[] = { "debug", "info", "warn", "error" };

static int one_of(const char *v, const char *const *set, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		if (strcmp(v, set[i]) == 0)
			return 1;
	return 0;
}

static void log_copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static int step_check(const char *run_id, const char *step, serr *e)
{
	if (queue_run_id_check(run_id, e) < 0)
		return -1;
	if (!step || !*step || strlen(step) >= QUEUE_NAME_MAX)
		return serr_set(e, "step name of run '%s' must be 1 to %d characters", run_id,
				QUEUE_NAME_MAX - 1);
	return 0;
}

int queue_step_begin(struct store *s, const char *run_id, const char *step, serr *e)
{
	char what[QUEUE_NAME_MAX + 96];
	const char *p[2] = { run_id, step };

	if (step_check(run_id, step, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "start step '%s' of run '%s'", step, run_id);
	return store_exec(s, what,
			  "WITH st AS (INSERT INTO run_steps (run_id, step, status, started_at)"
			  " VALUES ($1::uuid, $2, 'STARTED', now()) ON CONFLICT (run_id, step)"
			  " DO UPDATE SET status = 'STARTED', started_at = now(), ended_at = NULL,"
			  " error = NULL RETURNING 1)"
			  " INSERT INTO run_events (run_id, type, step, level)"
			  " SELECT $1::uuid, 'STEP_START', $2, 'info' FROM st",
			  2, p, NULL, e);
}

int queue_step_end(struct store *s, const char *run_id, const char *step, const char *status,
		   const char *message, const char *metadata_json, serr *e)
{
	char what[QUEUE_NAME_MAX + 96];
	const char *p[5] = { run_id, step, status, message, metadata_json };

	if (step_check(run_id, step, e) < 0)
		return -1;
	if (!status || (strcmp(status, "SUCCESS") != 0 && strcmp(status, "FAILURE") != 0 &&
			strcmp(status, "SKIPPED") != 0))
		return serr_set(e, "step status '%s' is unknown: use SUCCESS, FAILURE or SKIPPED",
				status ? status : "");
	snprintf(what, sizeof(what), "end step '%s' of run '%s'", step, run_id);
	return store_exec(s, what,
			  "WITH st AS (INSERT INTO run_steps (run_id, step, status, ended_at, error)"
			  " VALUES ($1::uuid, $2, $3, now(), CASE $3 WHEN 'FAILURE' THEN $4 END)"
			  " ON CONFLICT (run_id, step) DO UPDATE SET status = EXCLUDED.status,"
			  " ended_at = now(), error = EXCLUDED.error RETURNING 1)"
			  " INSERT INTO run_events (run_id, type, step, level, message, metadata)"
			  " SELECT $1::uuid, 'STEP_' || $3, $2,"
			  " CASE $3 WHEN 'FAILURE' THEN 'error' ELSE 'info' END, $4, $5::jsonb FROM st",
			  5, p, NULL, e);
}

int queue_steps_json(struct store *s, const char *run_id, struct buf *json, serr *e)
{
	char what[96];
	const char *p[1] = { run_id };
	PGresult *res = NULL;
	int rc = -1;

	buf_reset(json);
	if (queue_run_id_check(run_id, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "read the steps of run '%s'", run_id);
	if (store_exec(s, what,
		       "SELECT coalesce(jsonb_object_agg(step, status), '{}')::text FROM run_steps"
		       " WHERE run_id = $1::uuid",
		       1, p, &res, e) < 0)
		goto out;
	if (buf_puts(json, PQgetvalue(res, 0, 0)) < 0) {
		serr_set(e, "cannot %s: out of memory", what);
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int queue_event_add(struct store *s, const char *run_id, const char *type, const char *step,
		    const char *level, const char *message, const char *metadata_json, serr *e)
{
	char what[128];
	const char *p[6] = { run_id, type, step, level, message, metadata_json };

	if (!one_of(type, event_types, sizeof(event_types) / sizeof(event_types[0])))
		return serr_set(e, "event type '%s' is unknown", type ? type : "");
	if (level && !one_of(level, levels, 4))
		return serr_set(e, "event level '%s' is unknown: use debug, info, warn or error",
				level);
	if (queue_run_id_check(run_id, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "append %s event to run '%s'", type, run_id);
	return store_exec(s, what,
			  "INSERT INTO run_events (run_id, type, step, level, message, metadata)"
			  " VALUES ($1::uuid, $2, $3, $4, $5, $6::jsonb)",
			  6, p, NULL, e);
}

int queue_partition_events(struct store *s, const char *job, const char *partition_key,
			   int64_t after_id, int limit, struct run_event_list *out, serr *e)
{
	char what[300], after[24], lim[16];
	const char *p[4] = { job, partition_key, after, limit > 0 ? lim : NULL };
	PGresult *r = NULL, *taken;
	int rc = -1;

	run_event_list_free(out);
	if (!job || !partition_key)
		return serr_set(e, "cannot list partition events: give a job and a partition key");
	snprintf(what, sizeof(what), "list the events of partition '%.60s' of job '%.100s'",
		 partition_key, job);
	snprintf(after, sizeof(after), "%lld", (long long)after_id);
	snprintf(lim, sizeof(lim), "%d", limit);
	if (store_exec(s, what,
		       "SELECT ev.id, ev.run_id::text, " TS("ev.ts") ", ev.type, ev.step, ev.level,"
		       " ev.message, ev.metadata::text FROM runs r"
		       " JOIN run_events ev ON ev.run_id = r.id"
		       " WHERE r.job = $1 AND r.partition_key = $2 AND ev.id > $3::bigint"
		       " ORDER BY ev.id LIMIT $4::int",
		       4, p, &r, e) < 0)
		goto out;
	taken = r;
	r = NULL; /* out owns it from here, also on failure */
	if (run_event_list_fill(taken, what, out, e) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		run_event_list_free(out);
	PQclear(r);
	return rc;
}

void queue_attempt_list_init(struct queue_attempt_list *l)
{
	l->items = NULL;
	l->n = 0;
	l->owner = NULL;
}

void queue_attempt_list_free(struct queue_attempt_list *l)
{
	free(l->items);
	PQclear(l->owner);
	queue_attempt_list_init(l);
}

int queue_attempts(struct store *s, const char *run_id, struct queue_attempt_list *out, serr *e)
{
	char what[96];
	const char *p[1] = { run_id };
	PGresult *r = NULL;
	size_t n, bytes;
	int rc = -1;

	queue_attempt_list_free(out);
	if (queue_run_id_check(run_id, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "list the attempts of run '%s'", run_id);
	if (store_exec(s, what,
		       "SELECT attempt, worker, " TS("started_at") ", " TS("ended_at") ", status,"
		       " error FROM run_attempts WHERE run_id = $1::uuid ORDER BY id",
		       1, p, &r, e) < 0)
		goto out;
	n = (size_t)PQntuples(r);
	if (size_mul(n ? n : 1, sizeof(*out->items), &bytes) < 0 ||
	    !(out->items = calloc(1, bytes))) {
		serr_set(e, "cannot %s: out of memory for %zu attempts", what, n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct queue_attempt *a = &out->items[i];
		int row = (int)i;

		if (parse_int(PQgetvalue(r, row, 0), 0, 1000000, &a->attempt) < 0) {
			serr_set(e, "cannot %s: bad attempt number", what);
			goto out;
		}
		a->worker = store_val(r, row, 1);
		a->started_at = store_val(r, row, 2);
		a->ended_at = store_val(r, row, 3);
		a->status = store_val(r, row, 4);
		a->error = store_val(r, row, 5);
	}
	out->n = n;
	out->owner = r;
	r = NULL;
	rc = 0;
out:
	if (rc < 0)
		queue_attempt_list_free(out);
	PQclear(r);
	return rc;
}

int queue_run_facts_get(struct store *s, const char *run_id, struct queue_run_facts *f, int *found,
			serr *e)
{
	char what[96];
	const char *p[1] = { run_id };
	PGresult *r = NULL;
	int rc = -1;

	memset(f, 0, sizeof(*f));
	*found = 0;
	if (queue_run_id_check(run_id, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "read run '%s'", run_id);
	if (store_exec(s, what,
		       "SELECT max_attempts, parent_run_id::text, backfill_id, resume_from_step, "
		       TS("not_before") ", " TS("lease_expires_at") " FROM runs WHERE id = $1::uuid",
		       1, p, &r, e) < 0)
		goto out;
	if (PQntuples(r) == 1) {
		if (parse_int(PQgetvalue(r, 0, 0), 1, 1000000, &f->max_attempts) < 0) {
			serr_set(e, "cannot %s: bad max_attempts", what);
			goto out;
		}
		log_copy(f->parent_run_id, sizeof(f->parent_run_id), PQgetvalue(r, 0, 1));
		log_copy(f->backfill_id, sizeof(f->backfill_id), PQgetvalue(r, 0, 2));
		log_copy(f->resume_from_step, sizeof(f->resume_from_step), PQgetvalue(r, 0, 3));
		log_copy(f->not_before, sizeof(f->not_before), PQgetvalue(r, 0, 4));
		log_copy(f->lease_expires_at, sizeof(f->lease_expires_at), PQgetvalue(r, 0, 5));
		*found = 1;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}
