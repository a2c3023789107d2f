/* Runs, run steps and the run event log (see runs.h). */
#include "store/runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define RUNS_LIMIT_DEFAULT 100
#define RUNS_LIMIT_MAX 10000
#define NAME_MAX_LEN 200

static const char *const run_statuses[] = { "QUEUED",  "STARTED",   "SUCCESS",
					    "FAILURE", "CANCELING", "CANCELED" };
static const char *const step_end_statuses[] = { "SUCCESS", "FAILURE", "SKIPPED" };
static const char *const event_types[] = { "RUN_START",	   "RUN_SUCCESS",  "RUN_FAILURE",
					   "STEP_START",   "STEP_SUCCESS", "STEP_FAILURE",
					   "MATERIALIZATION", "LOG" };
static const char *const levels[] = { "debug", "info", "warn", "error" };

static int one_of(const char *v, const char *const *set, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		if (strcmp(v, set[i]) == 0)
			return 1;
	return 0;
}

#define ONE_OF(v, set) one_of((v), (set), sizeof(set) / sizeof((set)[0]))

int run_status_valid(const char *status)
{
	return ONE_OF(status, run_statuses);
}

static int name_check(const char *what, const char *v, serr *e)
{
	if (!v || !*v)
		return serr_set(e, "%s is empty", what);
	if (strlen(v) > NAME_MAX_LEN)
		return serr_set(e, "%s '%.40s...' is longer than %d characters", what, v,
				NAME_MAX_LEN);
	return 0;
}

int runs_create_ex(struct store *s, const struct run_new *r, struct buf *run_id, int *created,
		   serr *e)
{
	char what[NAME_MAX_LEN + 64], prio[16];
	const char *p[6];
	PGresult *res = NULL;
	int rc = -1;

	if (created)
		*created = 0;
	buf_reset(run_id);
	if (name_check("job name", r->job, e) < 0)
		return -1;
	if (r->status && !run_status_valid(r->status))
		return serr_set(e, "run status '%s' is unknown", r->status);
	snprintf(what, sizeof(what), "create a run of job '%s'", r->job);
	snprintf(prio, sizeof(prio), "%d", r->priority);
	p[0] = r->job;
	p[1] = r->partition_key;
	p[2] = r->run_key;
	p[3] = r->tags_json ? r->tags_json : "{}";
	p[4] = r->status ? r->status : "QUEUED";
	p[5] = prio;
	/* The run key's unique index dedupes: a second request finds the first run. */
	if (store_exec(s, what,
		       "WITH ins AS (INSERT INTO runs (job, partition_key, run_key, tags, status,"
		       " priority) VALUES ($1, $2, $3, $4::jsonb, $5, $6::int)"
		       " ON CONFLICT (job, run_key) WHERE run_key IS NOT NULL DO NOTHING"
		       " RETURNING id)"
		       " SELECT id::text, true FROM ins"
		       " UNION ALL SELECT id::text, false FROM runs"
		       "  WHERE job = $1 AND run_key = $3 AND NOT EXISTS (SELECT 1 FROM ins)",
		       6, p, &res, e) < 0)
		goto out;
	if (PQntuples(res) != 1) {
		serr_set(e, "cannot %s: the run key '%s' is taken by a run that is not visible yet; "
			    "retry",
			 what, r->run_key ? r->run_key : "");
		goto out;
	}
	if (buf_puts(run_id, PQgetvalue(res, 0, 0)) < 0) {
		serr_set(e, "cannot %s: run id does not fit", what);
		goto out;
	}
	if (created)
		*created = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int runs_create(struct store *s, const char *job, const char *partition_key, const char *run_key,
		const char *tags_json, struct buf *run_id, serr *e)
{
	struct run_new r = { job, partition_key, run_key, tags_json, NULL, 0 };

	return runs_create_ex(s, &r, run_id, NULL, e);
}

/* Exactly one row changed, or the run does not exist. */
static int expect_one(const PGresult *r, const char *what, const char *run_id, serr *e)
{
	if (strcmp(PQcmdTuples((PGresult *)r), "1") != 0)
		return serr_set(e, "cannot %s: run '%s' does not exist", what, run_id);
	return 0;
}

int runs_set_status(struct store *s, const char *run_id, const char *status, const char *error,
		    serr *e)
{
	char what[128];
	const char *p[3] = { run_id, status, error };
	PGresult *r = NULL;
	int rc = -1;

	if (!run_status_valid(status))
		return serr_set(e, "run status '%s' is unknown: use QUEUED, STARTED, SUCCESS, "
				   "FAILURE, CANCELING or CANCELED",
				status ? status : "");
	snprintf(what, sizeof(what), "set run '%.40s' to %s", run_id ? run_id : "", status);
	if (store_exec(s, what,
		       "UPDATE runs SET status = $2,"
		       " started_at = CASE WHEN $2 = 'STARTED' THEN coalesce(started_at, now())"
		       "  WHEN $2 = 'QUEUED' THEN NULL ELSE started_at END,"
		       " ended_at = CASE WHEN $2 IN ('SUCCESS', 'FAILURE', 'CANCELED') THEN now()"
		       "  WHEN $2 IN ('QUEUED', 'STARTED') THEN NULL ELSE ended_at END,"
		       " error = CASE WHEN $2 IN ('SUCCESS', 'FAILURE', 'CANCELED') THEN $3"
		       "  ELSE error END"
		       " WHERE id = $1::uuid",
		       3, p, &r, e) < 0)
		goto out;
	if (expect_one(r, what, run_id, e) < 0)
		goto out;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int runs_step_start(struct store *s, const char *run_id, const char *step, serr *e)
{
	char what[NAME_MAX_LEN + 96];
	const char *p[2] = { run_id, step };

	if (name_check("step name", step, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "start step '%s' of run '%.40s'", step, run_id ? run_id : "");
	return store_exec(s, what,
			  "INSERT INTO run_steps (run_id, step, status, started_at)"
			  " VALUES ($1::uuid, $2, 'STARTED', now())"
			  " ON CONFLICT (run_id, step) DO UPDATE SET status = 'STARTED',"
			  " started_at = now(), ended_at = NULL, error = NULL",
			  2, p, NULL, e);
}

int runs_step_end(struct store *s, const char *run_id, const char *step, const char *status,
		  const char *error, serr *e)
{
	char what[NAME_MAX_LEN + 96];
	const char *p[4] = { run_id, step, status, error };

	if (name_check("step name", step, e) < 0)
		return -1;
	if (!ONE_OF(status, step_end_statuses))
		return serr_set(e, "step status '%s' is unknown: use SUCCESS, FAILURE or SKIPPED",
				status ? status : "");
	snprintf(what, sizeof(what), "end step '%s' of run '%.40s'", step, run_id ? run_id : "");
	return store_exec(s, what,
			  "INSERT INTO run_steps (run_id, step, status, ended_at, error)"
			  " VALUES ($1::uuid, $2, $3, now(), $4)"
			  " ON CONFLICT (run_id, step) DO UPDATE SET status = EXCLUDED.status,"
			  " ended_at = now(), error = EXCLUDED.error",
			  4, p, NULL, e);
}

int runs_event_add(struct store *s, const char *run_id, const char *type, const char *step,
		   const char *level, const char *message, const char *metadata_json, serr *e)
{
	char what[128];
	const char *p[6] = { run_id, type, step, level, message, metadata_json };

	if (!ONE_OF(type, event_types))
		return serr_set(e, "event type '%s' is unknown", type ? type : "");
	if (level && !ONE_OF(level, levels))
		return serr_set(e, "event level '%s' is unknown: use debug, info, warn or error",
				level);
	snprintf(what, sizeof(what), "append %s event to run '%.40s'", type, run_id ? run_id : "");
	return store_exec(s, what,
			  "INSERT INTO run_events (run_id, type, step, level, message, metadata)"
			  " VALUES ($1::uuid, $2, $3, $4, $5, $6::jsonb)",
			  6, p, NULL, e);
}

void run_list_init(struct run_list *l)
{
	l->items = NULL;
	l->n = 0;
	l->owner = NULL;
}

void run_list_free(struct run_list *l)
{
	free(l->items);
	PQclear(l->owner);
	run_list_init(l);
}

#define RUN_COLUMNS                                                                            \
	"SELECT id::text, job, partition_key, run_key, status, tags::text, priority, attempt, " \
	TS("created_at") ", " TS("started_at") ", " TS("ended_at") ", error, worker FROM runs"

static int run_list_fill(PGresult *r, const char *what, struct run_list *out, serr *e)
{
	size_t n = (size_t)PQntuples(r), bytes;

	if (size_mul(n ? n : 1, sizeof(*out->items), &bytes) < 0 ||
	    !(out->items = calloc(1, bytes)))
		return serr_set(e, "cannot %s: out of memory for %zu runs", what, n);
	for (size_t i = 0; i < n; i++) {
		struct run_info *ri = &out->items[i];
		int row = (int)i;

		ri->id = store_val(r, row, 0);
		ri->job = store_val(r, row, 1);
		ri->partition_key = store_val(r, row, 2);
		ri->run_key = store_val(r, row, 3);
		ri->status = store_val(r, row, 4);
		ri->tags_json = store_val(r, row, 5);
		if (parse_int(PQgetvalue(r, row, 6), -2147483647, 2147483647, &ri->priority) < 0 ||
		    parse_int(PQgetvalue(r, row, 7), 0, 2147483647, &ri->attempt) < 0)
			return serr_set(e, "cannot %s: bad priority or attempt", what);
		ri->created_at = store_val(r, row, 8);
		ri->started_at = store_val(r, row, 9);
		ri->ended_at = store_val(r, row, 10);
		ri->error = store_val(r, row, 11);
		ri->worker = store_val(r, row, 12);
	}
	out->n = n;
	out->owner = r;
	return 0;
}

int runs_list(struct store *s, const struct run_filter *f, struct run_list *out, serr *e)
{
	char limit[16];
	const char *p[4];
	PGresult *r = NULL;
	int lim = f && f->limit > 0 ? f->limit : RUNS_LIMIT_DEFAULT;

	run_list_free(out);
	if (f && f->status && !run_status_valid(f->status))
		return serr_set(e, "run status '%s' is unknown: use QUEUED, STARTED, SUCCESS, "
				   "FAILURE, CANCELING or CANCELED",
				f->status);
	if (lim > RUNS_LIMIT_MAX)
		lim = RUNS_LIMIT_MAX;
	snprintf(limit, sizeof(limit), "%d", lim);
	p[0] = f ? f->status : NULL;
	p[1] = f ? f->job : NULL;
	p[2] = f ? f->partition_key : NULL;
	p[3] = limit;
	if (store_exec(s, "list runs",
		       RUN_COLUMNS " WHERE ($1::text IS NULL OR status = $1)"
				   " AND ($2::text IS NULL OR job = $2)"
				   " AND ($3::text IS NULL OR partition_key = $3)"
				   " ORDER BY created_at DESC, id LIMIT $4::int",
		       4, p, &r, e) < 0)
		return -1;
	if (run_list_fill(r, "list runs", out, e) < 0) {
		PQclear(r);
		run_list_free(out);
		return -1;
	}
	return 0;
}

int runs_get(struct store *s, const char *run_id, struct run_list *out, serr *e)
{
	char what[96];
	const char *p[1] = { run_id };
	PGresult *r = NULL;

	run_list_free(out);
	snprintf(what, sizeof(what), "read run '%.40s'", run_id ? run_id : "");
	if (store_exec(s, what, RUN_COLUMNS " WHERE id = $1::uuid", 1, p, &r, e) < 0)
		return -1;
	if (run_list_fill(r, what, out, e) < 0) {
		PQclear(r);
		run_list_free(out);
		return -1;
	}
	return 0;
}

void run_event_list_init(struct run_event_list *l)
{
	l->items = NULL;
	l->n = 0;
	l->owner = NULL;
}

void run_event_list_free(struct run_event_list *l)
{
	free(l->items);
	PQclear(l->owner);
	run_event_list_init(l);
}

/*
 * Fill out from a result of (id, run_id, ts, type, step, level, message,
 * metadata) rows; out owns the result afterwards, also on failure.
 */
int run_event_list_fill(PGresult *r, const char *what, struct run_event_list *out, serr *e)
{
	size_t n = (size_t)PQntuples(r), bytes;

	out->owner = r;
	if (size_mul(n ? n : 1, sizeof(*out->items), &bytes) < 0 ||
	    !(out->items = calloc(1, bytes)))
		return serr_set(e, "cannot %s: out of memory for %zu events", what, n);
	for (size_t i = 0; i < n; i++) {
		struct run_event *ev = &out->items[i];
		int row = (int)i;

		if (parse_i64(PQgetvalue(r, row, 0), 0, INT64_MAX, &ev->id) < 0)
			return serr_set(e, "cannot %s: bad event id '%s'", what, PQgetvalue(r, row, 0));
		ev->run_id = store_val(r, row, 1);
		ev->ts = store_val(r, row, 2);
		ev->type = store_val(r, row, 3);
		ev->step = store_val(r, row, 4);
		ev->level = store_val(r, row, 5);
		ev->message = store_val(r, row, 6);
		ev->metadata_json = store_val(r, row, 7);
	}
	out->n = n;
	return 0;
}

int runs_events(struct store *s, const char *run_id, int64_t after_id, int limit,
		struct run_event_list *out, serr *e)
{
	char what[96], after[24], lim[16];
	const char *p[3] = { run_id, after, limit > 0 ? lim : NULL };
	PGresult *r = NULL, *taken;
	int rc = -1;

	run_event_list_free(out);
	snprintf(what, sizeof(what), "list the events of run '%.40s'", run_id ? run_id : "");
	snprintf(after, sizeof(after), "%lld", (long long)after_id);
	snprintf(lim, sizeof(lim), "%d", limit);
	if (store_exec(s, what,
		       "SELECT id, run_id::text, " TS("ts") ", type, step, level, message,"
		       " metadata::text FROM run_events WHERE run_id = $1::uuid AND id > $2::bigint"
		       " ORDER BY id LIMIT $3::int",
		       3, p, &r, e) < 0)
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
