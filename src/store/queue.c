/*
 * The run queue (see queue.h): queueing, claims, leases, the end of an
 * attempt, release, the reaper, cancel and re-execution. The state changes
 * that must be atomic (claim, finish, release, reap, cancel) are PL/pgSQL
 * functions from db/migrations/0002_queue.sql, so each is one round trip
 * and one transaction; this file validates input, calls them and reads
 * results. Event writes and reads are in queue_log.c.
 */
#include "store/queue.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "orchestrator/job.h"

#define RUN_KEY_MAX 512
#define TAGS_JSON_MAX (64 * 1024)
#define TAGS_MAX 64
#define TAG_LEN_MAX 128
#define ENQUEUE_TRIES 5
#define BACKFILL_ID_MAX 64

/* 8-4-4-4-12 hex digits: checked before a cast to uuid gives a cryptic error. */
static int uuid_ok(const char *s)
{
	if (!s || strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			     (c >= 'A' && c <= 'F'))) {
			return 0;
		}
	}
	return 1;
}

int queue_run_id_check(const char *run_id, serr *e)
{
	if (!uuid_ok(run_id))
		return serr_set(e, "'%.60s' is not a run id (a UUID as printed by `scout runs`)",
				run_id ? run_id : "");
	return 0;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

/* Append tag to the list unless it is there already. */
static int tag_add(const char **tags, size_t *n, const char *tag, serr *e)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(tags[i], tag) == 0)
			return 0;
	if (*n >= TAGS_MAX)
		return serr_set(e, "a run has more than %d concurrency tags", TAGS_MAX);
	tags[(*n)++] = tag;
	return 0;
}

/*
 * Concurrency tags of a run: the job definition's tags, the keys of the
 * request's tags, and key:value for its short string values, as a text[]
 * literal in arr.
 */
static int concurrency_tags(const struct job_def *def, json_t *obj, struct buf *arr, serr *e)
{
	const char *tags[TAGS_MAX];
	char made[TAGS_MAX][TAG_LEN_MAX * 2 + 2];
	size_t n = 0, nmade = 0;
	const char *key;
	json_t *v;
	char defs[TAGS_MAX][TAG_LEN_MAX + 1];
	size_t ndefs = 0;

	if (def->tags) {
		const char *p = def->tags;
		while (*p) {
			const char *end = strchr(p, ',');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			while (len && (*p == ' ')) {
				p++;
				len--;
			}
			while (len && p[len - 1] == ' ')
				len--;
			if (len > TAG_LEN_MAX)
				return serr_set(e, "tag of job '%s' is longer than %d characters",
						def->name, TAG_LEN_MAX);
			if (len && ndefs < TAGS_MAX) {
				memcpy(defs[ndefs], p, len);
				defs[ndefs][len] = '\0';
				if (tag_add(tags, &n, defs[ndefs], e) < 0)
					return -1;
				ndefs++;
			}
			if (!end)
				break;
			p = end + 1;
		}
	}
	json_object_foreach(obj, key, v)
	{
		if (strlen(key) > TAG_LEN_MAX)
			return serr_set(e, "tag '%.40s...' is longer than %d characters", key,
					TAG_LEN_MAX);
		if (tag_add(tags, &n, key, e) < 0)
			return -1;
		if (json_is_string(v) && json_string_length(v) <= TAG_LEN_MAX && nmade < TAGS_MAX) {
			snprintf(made[nmade], sizeof(made[nmade]), "%s:%s", key, json_string_value(v));
			if (tag_add(tags, &n, made[nmade], e) < 0)
				return -1;
			nmade++;
		}
	}
	if (store_text_array(arr, tags, n) < 0)
		return serr_set(e, "concurrency tags do not fit in memory");
	return 0;
}

/* Checks of a request that need the job's definition; fills max_attempts. */
static int request_check(const struct run_request *r, const struct job_def **def_out,
			 int *max_attempts, serr *e)
{
	const struct job_def *def;

	if (!r || !r->job || !*r->job)
		return serr_set(e, "cannot queue a run: no job given");
	if (!(def = job_def_find(r->job)))
		return serr_set(e, "cannot queue a run of job '%.200s': no such job (see `scout job "
				   "list`)",
				r->job);
	if (def->partitioning == PART_NONE && r->partition_key)
		return serr_set(e, "cannot queue a run of job '%s' for partition '%.60s': the job is "
				   "not partitioned",
				r->job, r->partition_key);
	if (def->partitioning != PART_NONE && !r->partition_key && !def->allow_all)
		return serr_set(e, "cannot queue a run of job '%s': it is partitioned by %s, give a "
				   "partition key",
				r->job, job_partitioning_name(def->partitioning));
	if (r->partition_key && (!*r->partition_key || strlen(r->partition_key) > PARTITION_KEY_MAX))
		return serr_set(e, "cannot queue a run of job '%s': partition key '%.60s' must be 1 "
				   "to %d characters",
				r->job, r->partition_key, PARTITION_KEY_MAX);
	if (r->run_key && (!*r->run_key || strlen(r->run_key) > RUN_KEY_MAX))
		return serr_set(e, "cannot queue a run of job '%s': run key must be 1 to %d "
				   "characters",
				r->job, RUN_KEY_MAX);
	if (r->backfill_id && (!*r->backfill_id || strlen(r->backfill_id) > BACKFILL_ID_MAX))
		return serr_set(e, "cannot queue a run of job '%s': backfill id must be 1 to %d "
				   "characters",
				r->job, BACKFILL_ID_MAX);
	if (r->max_attempts < 0 || r->max_attempts > 100)
		return serr_set(e, "cannot queue a run of job '%s': max_attempts %d is not in 0..100",
				r->job, r->max_attempts);
	*max_attempts = r->max_attempts ? r->max_attempts : def->max_retries + 1;
	if (*max_attempts < 1)
		*max_attempts = 1;
	if (*max_attempts > 100)
		*max_attempts = 100;
	*def_out = def;
	return 0;
}

/* The run that made an insert a no-op: same run key, else the active run of the partition. */
static int enqueue_lookup(struct store *s, const struct run_request *r, const char *what,
			  struct buf *run_id, serr *e)
{
	PGresult *res = NULL;
	const char *p[2];
	int rc = -1;

	p[0] = r->job;
	if (r->run_key) {
		p[1] = r->run_key;
		if (store_exec(s, what, "SELECT id::text FROM runs WHERE job = $1 AND run_key = $2", 2,
			       p, &res, e) < 0)
			goto out;
		if (PQntuples(res) == 1)
			goto found;
		PQclear(res);
		res = NULL;
	}
	if (r->partition_key) {
		p[1] = r->partition_key;
		if (store_exec(s, what,
			       "SELECT id::text FROM runs WHERE job = $1 AND partition_key = $2"
			       " AND status IN ('QUEUED', 'STARTED')",
			       2, p, &res, e) < 0)
			goto out;
		if (PQntuples(res) == 1)
			goto found;
	}
	rc = 0; /* not found: the conflicting run ended meanwhile; insert again */
	goto out;
found:
	if (buf_puts(run_id, PQgetvalue(res, 0, 0)) < 0) {
		serr_set(e, "cannot %s: run id does not fit", what);
		goto out;
	}
	rc = 1;
out:
	PQclear(res);
	return rc;
}

int queue_enqueue(struct store *s, const struct run_request *r, struct buf *run_id, int *created,
		  serr *e)
{
	return queue_enqueue_ex(s, r, 0, run_id, created, e);
}

int queue_enqueue_ex(struct store *s, const struct run_request *r, int flags, struct buf *run_id,
		     int *created, serr *e)
{
	const struct job_def *def = NULL;
	json_t *tags = NULL;
	json_error_t je;
	struct buf arr;
	PGresult *res = NULL;
	char what[300], prio[16], attempts[16];
	const char *p[9];
	int max_attempts = 1, rc = -1;

	if (created)
		*created = 0;
	buf_reset(run_id);
	buf_init(&arr, 0);
	if (request_check(r, &def, &max_attempts, e) < 0)
		goto out;
	snprintf(what, sizeof(what), "queue a run of job '%s'%s%.60s%s", r->job,
		 r->partition_key ? " for partition '" : "", r->partition_key ? r->partition_key : "",
		 r->partition_key ? "'" : "");
	if (r->tags_json) {
		if (strlen(r->tags_json) > TAGS_JSON_MAX) {
			serr_set(e, "cannot %s: tags are larger than %d bytes", what, TAGS_JSON_MAX);
			goto out;
		}
		if (!(tags = json_loads(r->tags_json, JSON_REJECT_DUPLICATES, &je)) ||
		    !json_is_object(tags)) {
			serr_set(e, "cannot %s: tags must be a JSON object (%s)", what,
				 tags ? "got another JSON value" : je.text);
			goto out;
		}
	} else if (!(tags = json_object())) {
		serr_set(e, "cannot %s: out of memory", what);
		goto out;
	}
	if (concurrency_tags(def, tags, &arr, e) < 0) {
		serr_wrap(e, "cannot %s", what);
		goto out;
	}
	snprintf(prio, sizeof(prio), "%d", r->priority);
	snprintf(attempts, sizeof(attempts), "%d", max_attempts);
	p[0] = r->job;
	p[1] = r->partition_key;
	p[2] = r->run_key;
	p[3] = r->tags_json ? r->tags_json : "{}";
	p[4] = prio;
	p[5] = r->backfill_id;
	p[6] = attempts;
	p[7] = buf_cstr(&arr);
	p[8] = flags & QUEUE_NO_ENQUEUED_EVENT ? "f" : "t";
	for (int i = 0; i < ENQUEUE_TRIES; i++) {
		int found;

		/*
		 * Both unique indexes (run key; active run of a partition) turn a
		 * duplicate into DO NOTHING, which waits for a concurrent insert
		 * of the same key to commit or roll back first.
		 */
		if (store_exec(s, what,
			       "WITH ins AS (INSERT INTO runs (job, partition_key, run_key, tags,"
			       " status, priority, backfill_id, max_attempts, concurrency_tags)"
			       " VALUES ($1, $2, $3, $4::jsonb, 'QUEUED', $5::int, $6, $7::int,"
			       " $8::text[]) ON CONFLICT DO NOTHING RETURNING id),"
			       " ev AS (INSERT INTO run_events (run_id, type, level, metadata)"
			       " SELECT id, 'RUN_ENQUEUED', 'info', jsonb_strip_nulls("
			       "jsonb_build_object('priority', $5::int, 'max_attempts', $7::int,"
			       " 'run_key', $3::text, 'backfill_id', $6::text)) FROM ins"
			       " WHERE $9::boolean)"
			       " SELECT id::text FROM ins",
			       9, p, &res, e) < 0)
			goto out;
		if (PQntuples(res) == 1) {
			if (buf_puts(run_id, PQgetvalue(res, 0, 0)) < 0) {
				serr_set(e, "cannot %s: run id does not fit", what);
				goto out;
			}
			if (created)
				*created = 1;
			rc = 0;
			goto out;
		}
		PQclear(res);
		res = NULL;
		if ((found = enqueue_lookup(s, r, what, run_id, e)) < 0)
			goto out;
		if (found) {
			rc = 0;
			goto out;
		}
	}
	serr_set(e, "cannot %s: the run it conflicts with keeps changing; try again", what);
out:
	PQclear(res);
	json_decref(tags);
	buf_free(&arr);
	return rc;
}

int queue_cancel_ex(struct store *s, const char *run_id, const char *reason, char old_status[16],
		    char new_status[16], serr *e)
{
	char what[96];
	const char *p[2] = { run_id, reason ? reason : "canceled by request" };
	PGresult *res = NULL;
	int rc = -1;

	old_status[0] = new_status[0] = '\0';
	if (queue_run_id_check(run_id, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "cancel run '%s'", run_id);
	if (store_exec(s, what, "SELECT c_old, c_new FROM scout_cancel_run($1::uuid, $2)", 2, p,
		       &res, e) < 0)
		goto out;
	if (PQntuples(res) != 1) {
		serr_set(e, "cannot %s: there is no such run (see `scout runs`)", what);
		goto out;
	}
	copy_str(old_status, 16, PQgetvalue(res, 0, 0));
	copy_str(new_status, 16, PQgetvalue(res, 0, 1));
	if (strcmp(old_status, new_status) == 0 && strcmp(old_status, "CANCELING") != 0 &&
	    strcmp(old_status, "CANCELED") != 0) {
		serr_set(e, "cannot %s: it already ended with %s; nothing to cancel", what,
			 old_status);
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int queue_cancel(struct store *s, const char *run_id, serr *e)
{
	char o[16], n[16];

	return queue_cancel_ex(s, run_id, NULL, o, n, e);
}

int queue_limits_parse(struct queue_limits *l, int max_running, const char *tag_spec, serr *e)
{
	json_t *obj = json_object();
	char *dump = NULL;
	const char *p = tag_spec ? tag_spec : "";
	int rc = -1;

	memset(l, 0, sizeof(*l));
	if (!obj)
		return serr_set(e, "out of memory parsing queue.tag_limits");
	if (max_running < 0) {
		serr_set(e, "queue.max_concurrent_runs %d is negative: use 0 for no limit",
			 max_running);
		goto out;
	}
	l->max_running = max_running;
	while (*p) {
		char tag[TAG_LEN_MAX + 1], num[16];
		const char *end = strchr(p, ','), *eq;
		size_t len = end ? (size_t)(end - p) : strlen(p), tl, nl;
		int limit;

		while (len && *p == ' ') {
			p++;
			len--;
		}
		while (len && p[len - 1] == ' ')
			len--;
		if (len) {
			eq = memchr(p, '=', len);
			if (!eq) {
				serr_set(e, "queue.tag_limits entry '%.*s' has no '=': use tag=limit, "
					    "e.g. airtable=2,llm=8",
					 (int)(len > 60 ? 60 : len), p);
				goto out;
			}
			tl = (size_t)(eq - p);
			nl = len - tl - 1;
			while (tl && p[tl - 1] == ' ')
				tl--;
			while (nl && eq[1] == ' ') {
				eq++;
				nl--;
			}
			if (tl == 0 || tl > TAG_LEN_MAX || nl == 0 || nl >= sizeof(num)) {
				serr_set(e, "queue.tag_limits entry '%.*s' needs a tag (1 to %d "
					    "characters) and a limit",
					 (int)(len > 60 ? 60 : len), p, TAG_LEN_MAX);
				goto out;
			}
			memcpy(tag, p, tl);
			tag[tl] = '\0';
			memcpy(num, eq + 1, nl);
			num[nl] = '\0';
			if (parse_int(num, 0, 1000000, &limit) < 0) {
				serr_set(e, "queue.tag_limits: limit '%s' of tag '%s' is not a whole "
					    "number from 0 to 1000000",
					 num, tag);
				goto out;
			}
			if (json_object_get(obj, tag)) {
				serr_set(e, "queue.tag_limits: tag '%s' is given twice", tag);
				goto out;
			}
			if (json_object_set_new(obj, tag, json_integer(limit)) < 0) {
				serr_set(e, "out of memory parsing queue.tag_limits");
				goto out;
			}
		}
		if (!end)
			break;
		p = end + 1;
	}
	if (!(dump = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS))) {
		serr_set(e, "out of memory parsing queue.tag_limits");
		goto out;
	}
	if (strlen(dump) >= sizeof(l->tags_json)) {
		serr_set(e, "queue.tag_limits is longer than %d characters",
			 QUEUE_TAG_LIMITS_MAX - 1);
		goto out;
	}
	memcpy(l->tags_json, dump, strlen(dump) + 1);
	rc = 0;
out:
	free(dump);
	json_decref(obj);
	return rc;
}

/* A lease token unique to this claim: the worker's name and 64 random bits. */
static void owner_new(char out[QUEUE_OWNER_MAX], const char *worker)
{
	char rnd[17];

	rand_hex(rnd, 16);
	snprintf(out, QUEUE_OWNER_MAX, "%.120s#%s", worker, rnd);
}

static int claim_fill(PGresult *res, const char *worker, const char *owner, struct queue_claim *c,
		      serr *e)
{
	memset(c, 0, sizeof(*c));
	copy_str(c->id, sizeof(c->id), PQgetvalue(res, 0, 0));
	copy_str(c->job, sizeof(c->job), PQgetvalue(res, 0, 1));
	c->has_partition = !PQgetisnull(res, 0, 2);
	copy_str(c->partition_key, sizeof(c->partition_key), PQgetvalue(res, 0, 2));
	if (parse_int(PQgetvalue(res, 0, 3), 0, 1000000, &c->attempt) < 0 ||
	    parse_int(PQgetvalue(res, 0, 4), 1, 1000000, &c->max_attempts) < 0)
		return serr_set(e, "cannot claim run '%s': bad attempt counters", c->id);
	copy_str(c->resume_from_step, sizeof(c->resume_from_step), PQgetvalue(res, 0, 5));
	copy_str(c->worker, sizeof(c->worker), worker);
	copy_str(c->owner, sizeof(c->owner), owner);
	return 0;
}

static int lease_ms_check(int lease_ms, serr *e)
{
	if (lease_ms < 100 || lease_ms > 24 * 3600 * 1000)
		return serr_set(e, "queue.lease_ms %d is not between 100 and 86400000", lease_ms);
	return 0;
}

int queue_claim_next(struct store *s, const struct queue_limits *l, const char *worker,
		     int lease_ms, struct queue_claim *c, int *claimed, int64_t *next_due_ms,
		     serr *e)
{
	char owner[QUEUE_OWNER_MAX], lease[16], maxr[16];
	const char *p[5];
	PGresult *res = NULL;
	int rc = -1;

	*claimed = 0;
	if (next_due_ms)
		*next_due_ms = -1;
	if (lease_ms_check(lease_ms, e) < 0)
		return -1;
	owner_new(owner, worker);
	snprintf(lease, sizeof(lease), "%d", lease_ms);
	snprintf(maxr, sizeof(maxr), "%d", l ? l->max_running : 0);
	p[0] = worker;
	p[1] = owner;
	p[2] = lease;
	p[3] = maxr;
	p[4] = l && l->tags_json[0] ? l->tags_json : "{}";
	if (store_exec(s, "claim a queued run",
		       "SELECT * FROM scout_claim_run($1, $2, $3::int, $4::int, $5::jsonb, NULL)", 5,
		       p, &res, e) < 0)
		goto out;
	if (PQntuples(res) == 1) {
		if (claim_fill(res, worker, owner, c, e) < 0)
			goto out;
		*claimed = 1;
	} else if (next_due_ms) {
		PQclear(res);
		res = NULL;
		if (store_exec(s, "find the next due run",
			       "SELECT ceil(extract(epoch FROM min(not_before) - now()) * 1000)::bigint"
			       " FROM runs WHERE status = 'QUEUED' AND not_before > now()",
			       0, NULL, &res, e) < 0)
			goto out;
		if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
		    parse_i64(PQgetvalue(res, 0, 0), INT64_MIN, INT64_MAX, next_due_ms) == 0 &&
		    *next_due_ms < 0)
			*next_due_ms = 0;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int queue_claim_run(struct store *s, const char *run_id, const char *worker, int lease_ms,
		    struct queue_claim *c, int *claimed, serr *e)
{
	char owner[QUEUE_OWNER_MAX], lease[16], what[96];
	const char *p[4];
	PGresult *res = NULL;
	int rc = -1;

	*claimed = 0;
	if (queue_run_id_check(run_id, e) < 0 || lease_ms_check(lease_ms, e) < 0)
		return -1;
	owner_new(owner, worker);
	snprintf(lease, sizeof(lease), "%d", lease_ms);
	snprintf(what, sizeof(what), "claim run '%s'", run_id);
	p[0] = worker;
	p[1] = owner;
	p[2] = lease;
	p[3] = run_id;
	if (store_exec(s, what,
		       "SELECT * FROM scout_claim_run($1, $2, $3::int, 0, NULL, $4::uuid)", 4, p,
		       &res, e) < 0)
		goto out;
	if (PQntuples(res) == 1) {
		if (claim_fill(res, worker, owner, c, e) < 0)
			goto out;
		*claimed = 1;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int queue_lease_check(struct store *s, const struct queue_claim *c, enum queue_lease_state *st,
		      serr *e)
{
	const char *p[2] = { c->id, c->owner };
	char what[96];
	PGresult *res = NULL;

	*st = QUEUE_LEASE_LOST;
	snprintf(what, sizeof(what), "check the lease of run '%s'", c->id);
	if (store_exec(s, what, "SELECT status FROM runs WHERE id = $1::uuid AND lease_owner = $2",
		       2, p, &res, e) < 0)
		return -1;
	if (PQntuples(res) == 1) {
		const char *v = PQgetvalue(res, 0, 0);
		if (strcmp(v, "STARTED") == 0)
			*st = QUEUE_LEASE_HELD;
		else if (strcmp(v, "CANCELING") == 0)
			*st = QUEUE_LEASE_CANCELING;
	}
	PQclear(res);
	return 0;
}

int queue_renew(struct store *s, const char *const *ids, const char *const *owners, size_t n,
		int lease_ms, enum queue_lease_state *states, serr *e)
{
	struct buf a, b;
	char lease[16];
	const char *p[3];
	PGresult *res = NULL;
	int rc = -1;

	for (size_t i = 0; i < n; i++)
		states[i] = QUEUE_LEASE_LOST;
	if (n == 0)
		return 0;
	if (lease_ms_check(lease_ms, e) < 0)
		return -1;
	buf_init(&a, 0);
	buf_init(&b, 0);
	for (size_t i = 0; i < n; i++)
		if (queue_run_id_check(ids[i], e) < 0)
			goto out;
	if (store_text_array(&a, ids, n) < 0 || store_text_array(&b, owners, n) < 0) {
		serr_set(e, "cannot renew leases: out of memory");
		goto out;
	}
	snprintf(lease, sizeof(lease), "%d", lease_ms);
	p[0] = buf_cstr(&a);
	p[1] = buf_cstr(&b);
	p[2] = lease;
	if (store_exec(s, "renew run leases",
		       "UPDATE runs r SET lease_expires_at = now() + $3::int * interval '1 millisecond',"
		       " heartbeat_at = now()"
		       " FROM unnest($1::uuid[], $2::text[]) AS l(id, owner)"
		       " WHERE r.id = l.id AND r.lease_owner = l.owner"
		       " AND r.status IN ('STARTED', 'CANCELING')"
		       " RETURNING r.id::text, r.status",
		       3, p, &res, e) < 0)
		goto out;
	for (int row = 0; row < PQntuples(res); row++) {
		const char *id = PQgetvalue(res, row, 0), *st = PQgetvalue(res, row, 1);
		for (size_t i = 0; i < n; i++)
			if (strcasecmp(ids[i], id) == 0)
				states[i] = strcmp(st, "CANCELING") == 0 ? QUEUE_LEASE_CANCELING
									  : QUEUE_LEASE_HELD;
	}
	rc = 0;
out:
	PQclear(res);
	buf_free(&a);
	buf_free(&b);
	return rc;
}

int queue_finish(struct store *s, const struct queue_claim *c, const char *status,
		 const char *error, int retry_ms, const char *metadata_json,
		 const struct queue_step_end *step, char new_status[16], serr *e)
{
	char what[96], retry[16];
	const char *p[10];
	PGresult *res = NULL;
	int rc = -1;

	new_status[0] = '\0';
	if (!status || (strcmp(status, "SUCCESS") != 0 && strcmp(status, "FAILURE") != 0 &&
			strcmp(status, "CANCELED") != 0))
		return serr_set(e, "run outcome '%s' is unknown: use SUCCESS, FAILURE or CANCELED",
				status ? status : "");
	snprintf(what, sizeof(what), "record the end of run '%s'", c->id);
	snprintf(retry, sizeof(retry), "%d", retry_ms);
	p[0] = c->id;
	p[1] = c->owner;
	p[2] = status;
	p[3] = error;
	p[4] = retry_ms >= 0 ? retry : NULL;
	p[5] = metadata_json;
	p[6] = step ? step->step : NULL;
	p[7] = step ? step->status : NULL;
	p[8] = step ? step->message : NULL;
	p[9] = step ? step->metadata_json : NULL;
	if (step && (!step->step || !step->status ||
		     (strcmp(step->status, "SUCCESS") != 0 && strcmp(step->status, "FAILURE") != 0)))
		return serr_set(e, "cannot %s: the last step needs a name and SUCCESS or FAILURE",
				what);
	if (store_exec(s, what,
		       "SELECT scout_finish_run($1::uuid, $2, $3, $4, $5::int, $6::jsonb, $7, $8, $9,"
		       " $10::jsonb)",
		       10, p, &res, e) < 0)
		goto out;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		copy_str(new_status, 16, PQgetvalue(res, 0, 0));
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int queue_release(struct store *s, const struct queue_claim *c, const char *reason, serr *e)
{
	char what[96];
	const char *p[3] = { c->id, c->owner, reason ? reason : "released by its worker" };

	snprintf(what, sizeof(what), "release run '%s'", c->id);
	return store_exec(s, what, "SELECT scout_release_run($1::uuid, $2, $3)", 3, p, NULL, e);
}

int queue_reap(struct store *s, int limit, struct queue_reaped *out, serr *e)
{
	char lim[16];
	const char *p[1] = { lim };
	PGresult *res = NULL;

	memset(out, 0, sizeof(*out));
	snprintf(lim, sizeof(lim), "%d", limit > 0 ? limit : 100);
	if (store_exec(s, "re-queue runs whose lease expired",
		       "SELECT c_status FROM scout_reap_runs($1::int)", 1, p, &res, e) < 0)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *st = PQgetvalue(res, i, 0);
		if (strcmp(st, "QUEUED") == 0)
			out->requeued++;
		else if (strcmp(st, "FAILURE") == 0)
			out->failed++;
		else
			out->canceled++;
	}
	PQclear(res);
	return 0;
}

int queue_backoff_ms(int base_ms, int max_ms, int attempt, uint64_t rnd)
{
	int64_t cap = base_ms > 0 ? base_ms : 0;

	if (max_ms < 0)
		max_ms = 0;
	for (int i = 1; i < attempt && cap < max_ms; i++)
		cap *= 2;
	if (cap > max_ms)
		cap = max_ms;
	return (int)(rnd % (uint64_t)(cap + 1));
}

/* Why a re-execution inserted nothing: the parent's state or the partition's active run. */
static int reexecute_why(struct store *s, const char *parent_id, const char *what, serr *e)
{
	const char *p[1] = { parent_id };
	PGresult *res = NULL;
	int rc = -1;

	if (store_exec(s, what,
		       "SELECT r.status, (SELECT a.id::text FROM runs a WHERE a.job = r.job"
		       " AND a.partition_key = r.partition_key AND a.status IN ('QUEUED', 'STARTED')"
		       " LIMIT 1) FROM runs r WHERE r.id = $1::uuid",
		       1, p, &res, e) < 0)
		goto out;
	if (PQntuples(res) != 1)
		serr_set(e, "cannot %s: there is no such run (see `scout runs`)", what);
	else if (!PQgetisnull(res, 0, 1))
		serr_set(e, "cannot %s: its partition has an active run '%s'; wait for it or cancel "
			    "it",
			 what, PQgetvalue(res, 0, 1));
	else
		serr_set(e, "cannot %s: it is %s; only a run that ended can be re-executed (cancel "
			    "it first)",
			 what, PQgetvalue(res, 0, 0));
out:
	PQclear(res);
	return rc;
}

int queue_reexecute(struct store *s, const char *parent_id, const char *resume_from_step,
		    struct buf *run_id, serr *e)
{
	char what[96];
	const char *p[2] = { parent_id, resume_from_step };
	PGresult *res = NULL;
	int rc = -1;

	buf_reset(run_id);
	if (queue_run_id_check(parent_id, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "re-execute run '%s'", parent_id);
	if (resume_from_step && (!*resume_from_step || strlen(resume_from_step) >= QUEUE_NAME_MAX))
		return serr_set(e, "cannot %s: step name must be 1 to %d characters", what,
				QUEUE_NAME_MAX - 1);
	if (store_exec(s, what,
		       "WITH ins AS (INSERT INTO runs (job, partition_key, tags, status, priority,"
		       " max_attempts, concurrency_tags, parent_run_id, resume_from_step)"
		       " SELECT job, partition_key, tags || jsonb_build_object('parent_run_id',"
		       " id::text), 'QUEUED', priority, max_attempts, concurrency_tags, id, $2"
		       " FROM runs WHERE id = $1::uuid AND status IN ('SUCCESS', 'FAILURE',"
		       " 'CANCELED') ON CONFLICT DO NOTHING RETURNING id),"
		       " ev AS (INSERT INTO run_events (run_id, type, level, metadata)"
		       " SELECT id, 'RUN_ENQUEUED', 'info', jsonb_strip_nulls(jsonb_build_object("
		       "'parent_run_id', $1::text, 'resume_from_step', $2::text)) FROM ins)"
		       " SELECT id::text FROM ins",
		       2, p, &res, e) < 0)
		goto out;
	if (PQntuples(res) != 1) {
		reexecute_why(s, parent_id, what, e);
		goto out;
	}
	if (buf_puts(run_id, PQgetvalue(res, 0, 0)) < 0) {
		serr_set(e, "cannot %s: run id does not fit", what);
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}
