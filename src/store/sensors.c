/* Sensor state, ticks, pending requests and leases (see sensors.h). */
#include "store/sensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define MS(expr) "(floor(extract(epoch FROM " expr ") * 1000))::bigint"
#define TICKS_LIMIT_DEFAULT 100
#define TICKS_LIMIT_MAX 10000
#define PENDING_LIMIT_DEFAULT 1000

static const char *const tick_statuses[] = { "SKIPPED", "SUCCESS", "FAILURE" };

int sensor_tick_status_valid(const char *status)
{
	for (size_t i = 0; status && i < sizeof(tick_statuses) / sizeof(tick_statuses[0]); i++)
		if (strcmp(status, tick_statuses[i]) == 0)
			return 1;
	return 0;
}

static int name_check(const char *name, serr *e)
{
	if (!name || !*name)
		return serr_set(e, "sensor name is empty");
	if (strlen(name) > SENSOR_NAME_MAX)
		return serr_set(e, "sensor name '%.40s...' is longer than %d characters", name,
				SENSOR_NAME_MAX);
	return 0;
}

static int to_i64(const PGresult *r, int row, int col, int64_t *out, const char *what, serr *e)
{
	const char *v = store_val(r, row, col);

	if (!v) {
		*out = -1;
		return 0;
	}
	if (parse_i64(v, INT64_MIN, INT64_MAX, out) < 0)
		return serr_set(e, "cannot %s: '%s' is not a number", what, v);
	return 0;
}

static int to_int(const PGresult *r, int row, int col, int *out, const char *what, serr *e)
{
	int64_t v;

	if (to_i64(r, row, col, &v, what, e) < 0)
		return -1;
	if (v < -2147483647 || v > 2147483647)
		return serr_set(e, "cannot %s: %lld is out of range", what, (long long)v);
	*out = (int)v;
	return 0;
}

/* Room for n items (at least one, so an empty list is not NULL). */
static void *alloc_items(size_t n, size_t size, const char *what, serr *e)
{
	size_t bytes;
	void *p;

	if (size_mul(n ? n : 1, size, &bytes) < 0 || !(p = calloc(1, bytes))) {
		serr_set(e, "cannot %s: out of memory for %zu rows", what, n);
		return NULL;
	}
	return p;
}

int sensors_ensure(struct store *s, const char *name, int default_enabled, serr *e)
{
	char what[SENSOR_NAME_MAX + 64];
	const char *p[2] = { name, default_enabled ? "true" : "false" };

	if (name_check(name, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "create the state of sensor '%s'", name);
	return store_exec(s, what,
			  "INSERT INTO sensor_state (name, enabled) VALUES ($1, $2::boolean)"
			  " ON CONFLICT (name) DO NOTHING",
			  2, p, NULL, e);
}

int sensors_set_enabled(struct store *s, const char *name, int enabled, serr *e)
{
	char what[SENSOR_NAME_MAX + 64];
	const char *p[2] = { name, enabled ? "true" : "false" };

	if (name_check(name, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s sensor '%s'", enabled ? "start" : "stop", name);
	return store_exec(s, what,
			  "INSERT INTO sensor_state (name, enabled) VALUES ($1, $2::boolean)"
			  " ON CONFLICT (name) DO UPDATE SET enabled = EXCLUDED.enabled,"
			  " updated_at = now()",
			  2, p, NULL, e);
}

int sensors_reset_cursor(struct store *s, const char *name, serr *e)
{
	char what[SENSOR_NAME_MAX + 64];
	const char *p[1] = { name };

	if (name_check(name, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "reset the cursor of sensor '%s'", name);
	return store_exec(s, what,
			  "UPDATE sensor_state SET cursor = NULL, updated_at = now() WHERE name = $1",
			  1, p, NULL, e);
}

void sensor_state_list_init(struct sensor_state_list *l)
{
	l->items = NULL;
	l->n = 0;
	l->owner = NULL;
}

void sensor_state_list_free(struct sensor_state_list *l)
{
	free(l->items);
	PQclear(l->owner);
	sensor_state_list_init(l);
}

int sensors_state_list(struct store *s, const char *name, struct sensor_state_list *out, serr *e)
{
	static const char *what = "read the sensors' state";
	const char *p[1] = { name };
	PGresult *r = NULL;
	size_t n;
	int rc = -1;

	sensor_state_list_free(out);
	/* One clock reading for every row, so due times compare on one instant. */
	if (store_exec(s, what,
		       "WITH c AS (SELECT clock_timestamp() AS now)"
		       " SELECT s.name, s.enabled, s.cursor, s.version, " TS("s.last_tick_at") ", "
		       TS("s.next_tick_at") ","
		       " CASE WHEN s.last_tick_at IS NULL THEN NULL ELSE "
		       MS("c.now - s.last_tick_at") " END, " TS("c.now") ", " MS("c.now") ","
		       " t.status, t.reason, t.error, " TS("t.ended_at")
		       " FROM sensor_state s CROSS JOIN c"
		       " LEFT JOIN LATERAL (SELECT status, reason, error, ended_at FROM sensor_ticks"
		       "  WHERE sensor = s.name ORDER BY id DESC LIMIT 1) t ON true"
		       " WHERE $1::text IS NULL OR s.name = $1 ORDER BY s.name",
		       1, p, &r, e) < 0)
		goto out;
	n = (size_t)PQntuples(r);
	if (!(out->items = alloc_items(n, sizeof(*out->items), what, e)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct sensor_state *st = &out->items[i];
		int row = (int)i;

		st->name = store_val(r, row, 0);
		st->enabled = strcmp(PQgetvalue(r, row, 1), "t") == 0;
		st->cursor = store_val(r, row, 2);
		if (to_i64(r, row, 3, &st->version, what, e) < 0)
			goto out;
		st->last_tick_at = store_val(r, row, 4);
		st->next_tick_at = store_val(r, row, 5);
		if (to_i64(r, row, 6, &st->since_tick_ms, what, e) < 0)
			goto out;
		st->now = store_val(r, row, 7);
		if (to_i64(r, row, 8, &st->now_ms, what, e) < 0)
			goto out;
		st->last_status = store_val(r, row, 9);
		st->last_reason = store_val(r, row, 10);
		st->last_error = store_val(r, row, 11);
		st->last_ended_at = store_val(r, row, 12);
	}
	out->n = n;
	out->owner = r;
	r = NULL;
	rc = 0;
out:
	PQclear(r);
	if (rc < 0)
		sensor_state_list_free(out);
	return rc;
}

int sensors_state_advance(struct store *s, const char *name, int64_t expected_version,
			  int set_cursor, const char *cursor, const char *started_at,
			  int interval_s, int *won, serr *e)
{
	char what[SENSOR_NAME_MAX + 64], ver[32], ival[16];
	const char *p[6];
	PGresult *r = NULL;
	int rc = -1;

	*won = 0;
	if (name_check(name, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "commit the tick of sensor '%s'", name);
	snprintf(ver, sizeof(ver), "%lld", (long long)expected_version);
	snprintf(ival, sizeof(ival), "%d", interval_s);
	p[0] = name;
	p[1] = ver;
	p[2] = set_cursor ? "true" : "false";
	p[3] = cursor;
	p[4] = started_at;
	p[5] = ival;
	if (store_exec(s, what,
		       "UPDATE sensor_state SET version = version + 1, updated_at = now(),"
		       " cursor = CASE WHEN $3::boolean THEN $4 ELSE cursor END,"
		       " last_tick_at = $5::timestamptz,"
		       " next_tick_at = $5::timestamptz + make_interval(secs => $6::int)"
		       " WHERE name = $1 AND version = $2::bigint RETURNING version",
		       6, p, &r, e) < 0)
		goto out;
	*won = PQntuples(r) == 1;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int sensors_tick_insert(struct store *s, const struct sensor_tick_rec *t, int64_t *id, serr *e)
{
	char what[SENSOR_NAME_MAX + 64], req[16], nruns[16];
	struct buf ids;
	const char *p[12];
	PGresult *r = NULL;
	int rc = -1;

	buf_init(&ids, 0);
	if (name_check(t->sensor, e) < 0)
		goto out;
	if (!sensor_tick_status_valid(t->status)) {
		serr_set(e, "tick status '%s' is unknown: use SKIPPED, SUCCESS or FAILURE",
			 t->status ? t->status : "");
		goto out;
	}
	snprintf(what, sizeof(what), "record a tick of sensor '%s'", t->sensor);
	if (store_text_array(&ids, t->run_ids, t->nruns) < 0) {
		serr_set(e, "cannot %s: out of memory for %zu run ids", what, t->nruns);
		goto out;
	}
	snprintf(req, sizeof(req), "%d", t->requested);
	snprintf(nruns, sizeof(nruns), "%zu", t->nruns);
	p[0] = t->sensor;
	p[1] = t->started_at;
	p[2] = t->status;
	p[3] = t->reason;
	p[4] = t->error;
	p[5] = t->cursor_before;
	p[6] = t->cursor_after;
	p[7] = req;
	p[8] = buf_cstr(&ids);
	p[9] = nruns;
	p[10] = t->holder;
	p[11] = t->metadata_json;
	if (store_exec(s, what,
		       "INSERT INTO sensor_ticks (sensor, started_at, status, reason, error,"
		       " cursor_before, cursor_after, requested, run_ids, run_count, holder, metadata)"
		       " VALUES ($1, coalesce($2::timestamptz, clock_timestamp()), $3, $4, $5, $6, $7,"
		       " $8::int, $9::text[], $10::int, $11, coalesce($12::jsonb, '{}'))"
		       " RETURNING id",
		       12, p, &r, e) < 0)
		goto out;
	if (id && to_i64(r, 0, 0, id, what, e) < 0)
		goto out;
	rc = 0;
out:
	PQclear(r);
	buf_free(&ids);
	return rc;
}

void sensor_tick_list_init(struct sensor_tick_list *l)
{
	l->items = NULL;
	l->n = 0;
	l->owner = NULL;
}

void sensor_tick_list_free(struct sensor_tick_list *l)
{
	free(l->items);
	PQclear(l->owner);
	sensor_tick_list_init(l);
}

int sensors_ticks(struct store *s, const char *sensor, int limit, struct sensor_tick_list *out,
		  serr *e)
{
	static const char *what = "list sensor ticks";
	char lim[16];
	const char *p[2];
	PGresult *r = NULL;
	size_t n;
	int rc = -1;

	sensor_tick_list_free(out);
	if (limit <= 0)
		limit = TICKS_LIMIT_DEFAULT;
	if (limit > TICKS_LIMIT_MAX)
		limit = TICKS_LIMIT_MAX;
	snprintf(lim, sizeof(lim), "%d", limit);
	p[0] = sensor;
	p[1] = lim;
	if (store_exec(s, what,
		       "SELECT id, sensor, " TS("started_at") ", " TS("ended_at") ", "
		       MS("started_at") ", status, reason, error, cursor_before, cursor_after,"
		       " requested, run_count, array_to_json(run_ids)::text, holder, metadata::text"
		       " FROM sensor_ticks WHERE $1::text IS NULL OR sensor = $1"
		       " ORDER BY id DESC LIMIT $2::int",
		       2, p, &r, e) < 0)
		goto out;
	n = (size_t)PQntuples(r);
	if (!(out->items = alloc_items(n, sizeof(*out->items), what, e)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct sensor_tick *t = &out->items[i];
		int row = (int)i;

		if (to_i64(r, row, 0, &t->id, what, e) < 0 ||
		    to_i64(r, row, 4, &t->started_ms, what, e) < 0 ||
		    to_int(r, row, 10, &t->requested, what, e) < 0 ||
		    to_int(r, row, 11, &t->run_count, what, e) < 0)
			goto out;
		t->sensor = store_val(r, row, 1);
		t->started_at = store_val(r, row, 2);
		t->ended_at = store_val(r, row, 3);
		t->status = store_val(r, row, 5);
		t->reason = store_val(r, row, 6);
		t->error = store_val(r, row, 7);
		t->cursor_before = store_val(r, row, 8);
		t->cursor_after = store_val(r, row, 9);
		t->run_ids_json = store_val(r, row, 12);
		t->holder = store_val(r, row, 13);
		t->metadata_json = store_val(r, row, 14);
	}
	out->n = n;
	out->owner = r;
	r = NULL;
	rc = 0;
out:
	PQclear(r);
	if (rc < 0)
		sensor_tick_list_free(out);
	return rc;
}

int sensors_tick_count(struct store *s, const char *sensor, const char *status, int64_t *n,
		       serr *e)
{
	const char *p[2] = { sensor, status };

	return store_query_i64(s, "count sensor ticks",
			       "SELECT count(*) FROM sensor_ticks WHERE ($1::text IS NULL OR sensor = $1)"
			       " AND ($2::text IS NULL OR status = $2)",
			       2, p, n, e);
}

int sensors_pending_put(struct store *s, const char *sensor, const struct sensor_pending *pd,
			serr *e)
{
	char what[SENSOR_NAME_MAX + 96], prio[16];
	const char *p[6];

	if (name_check(sensor, e) < 0)
		return -1;
	if (!pd->job || !pd->partition_key)
		return serr_set(e, "cannot keep a request of sensor '%s' without job and partition",
				sensor);
	snprintf(what, sizeof(what), "keep the request of sensor '%s' for partition '%.40s'",
		 sensor, pd->partition_key);
	snprintf(prio, sizeof(prio), "%d", pd->priority);
	p[0] = sensor;
	p[1] = pd->job;
	p[2] = pd->partition_key;
	p[3] = pd->run_key;
	p[4] = pd->tags_json;
	p[5] = prio;
	return store_exec(s, what,
			  "INSERT INTO sensor_pending (sensor, job, partition_key, run_key, tags, priority)"
			  " VALUES ($1, $2, $3, $4, coalesce($5::jsonb, '{}'), $6::int)"
			  " ON CONFLICT (sensor, job, partition_key) DO UPDATE SET"
			  " run_key = EXCLUDED.run_key, tags = EXCLUDED.tags,"
			  " priority = EXCLUDED.priority, created_at = now()",
			  6, p, NULL, e);
}

void sensor_pending_list_init(struct sensor_pending_list *l)
{
	l->items = NULL;
	l->n = 0;
	l->owner = NULL;
}

void sensor_pending_list_free(struct sensor_pending_list *l)
{
	free(l->items);
	PQclear(l->owner);
	sensor_pending_list_init(l);
}

int sensors_pending_list(struct store *s, const char *sensor, int limit,
			 struct sensor_pending_list *out, serr *e)
{
	static const char *what = "list the requests waiting for their partition";
	char lim[16];
	const char *p[2];
	PGresult *r = NULL;
	size_t n;
	int rc = -1;

	sensor_pending_list_free(out);
	snprintf(lim, sizeof(lim), "%d", limit > 0 ? limit : PENDING_LIMIT_DEFAULT);
	p[0] = sensor;
	p[1] = lim;
	if (store_exec(s, what,
		       "SELECT job, partition_key, run_key, tags::text, priority FROM sensor_pending"
		       " WHERE sensor = $1 ORDER BY created_at, job, partition_key LIMIT $2::int",
		       2, p, &r, e) < 0)
		goto out;
	n = (size_t)PQntuples(r);
	if (!(out->items = alloc_items(n, sizeof(*out->items), what, e)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct sensor_pending *pd = &out->items[i];
		int row = (int)i;

		pd->job = store_val(r, row, 0);
		pd->partition_key = store_val(r, row, 1);
		pd->run_key = store_val(r, row, 2);
		pd->tags_json = store_val(r, row, 3);
		if (to_int(r, row, 4, &pd->priority, what, e) < 0)
			goto out;
	}
	out->n = n;
	out->owner = r;
	r = NULL;
	rc = 0;
out:
	PQclear(r);
	if (rc < 0)
		sensor_pending_list_free(out);
	return rc;
}

int sensors_pending_delete(struct store *s, const char *sensor, const char *job,
			   const char *partition_key, serr *e)
{
	const char *p[3] = { sensor, job, partition_key };

	return store_exec(s, "forget a request waiting for its partition",
			  "DELETE FROM sensor_pending WHERE sensor = $1 AND job = $2"
			  " AND partition_key = $3",
			  3, p, NULL, e);
}

int sensors_run_key(struct store *s, const char *run_id, struct buf *run_key, int *has_key,
		    serr *e)
{
	char what[96];
	const char *p[1] = { run_id };
	PGresult *r = NULL;
	int rc = -1;

	*has_key = 0;
	buf_reset(run_key);
	snprintf(what, sizeof(what), "read the run key of run '%.40s'", run_id ? run_id : "");
	if (store_exec(s, what, "SELECT run_key FROM runs WHERE id = $1::uuid", 1, p, &r, e) < 0)
		goto out;
	if (PQntuples(r) != 1) {
		serr_set(e, "cannot %s: the run does not exist", what);
		goto out;
	}
	if (store_val(r, 0, 0)) {
		if (buf_puts(run_key, store_val(r, 0, 0)) < 0) {
			serr_set(e, "cannot %s: the key does not fit", what);
			goto out;
		}
		*has_key = 1;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int sensors_latest_run_key(struct store *s, const char *job, const char *partition_key,
			   const char *sensor, struct buf *run_key, int *found, serr *e)
{
	char what[160];
	const char *p[3] = { job, partition_key, sensor };
	PGresult *r = NULL;
	int rc = -1;

	*found = 0;
	buf_reset(run_key);
	snprintf(what, sizeof(what), "read the latest run of '%.60s' for partition '%.40s'",
		 job ? job : "", partition_key ? partition_key : "");
	if (store_exec(s, what,
		       "SELECT run_key FROM runs WHERE job = $1 AND partition_key = $2"
		       " AND run_key IS NOT NULL AND tags->>'sensor' = $3"
		       " ORDER BY created_at DESC, id DESC LIMIT 1",
		       3, p, &r, e) < 0)
		goto out;
	if (PQntuples(r) == 1) {
		if (buf_puts(run_key, PQgetvalue(r, 0, 0)) < 0) {
			serr_set(e, "cannot %s: the key does not fit", what);
			goto out;
		}
		*found = 1;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int named_lease_acquire(struct store *s, const char *name, const char *holder, int ttl_ms, int *held,
		  serr *e)
{
	char what[SENSOR_NAME_MAX + 64], ttl[16];
	const char *p[3] = { name, holder, ttl };
	PGresult *r = NULL;
	int rc = -1;

	*held = 0;
	if (!name || !*name || !holder || !*holder || ttl_ms <= 0)
		return serr_set(e, "a lease needs a name, a holder and a positive duration");
	snprintf(what, sizeof(what), "take the lease '%s'", name);
	snprintf(ttl, sizeof(ttl), "%d", ttl_ms);
	/* The row lock of the upsert serializes contenders; the WHERE keeps a live lease. */
	if (store_exec(s, what,
		       "INSERT INTO leases (name, holder, acquired_at, expires_at)"
		       " VALUES ($1, $2, clock_timestamp(),"
		       "  clock_timestamp() + make_interval(secs => $3::int / 1000.0))"
		       " ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder,"
		       "  expires_at = EXCLUDED.expires_at,"
		       "  acquired_at = CASE WHEN leases.holder = EXCLUDED.holder"
		       "   THEN leases.acquired_at ELSE EXCLUDED.acquired_at END"
		       " WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < clock_timestamp()"
		       " RETURNING holder",
		       3, p, &r, e) < 0)
		goto out;
	*held = PQntuples(r) == 1;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int named_lease_release(struct store *s, const char *name, const char *holder, serr *e)
{
	const char *p[2] = { name, holder };

	return store_exec(s, "release a lease", "DELETE FROM leases WHERE name = $1 AND holder = $2",
			  2, p, NULL, e);
}

int named_lease_holder(struct store *s, const char *name, struct buf *holder, serr *e)
{
	const char *p[1] = { name };
	PGresult *r = NULL;
	int rc = -1;

	buf_reset(holder);
	if (store_exec(s, "read a lease",
		       "SELECT holder FROM leases WHERE name = $1 AND expires_at >= clock_timestamp()",
		       1, p, &r, e) < 0)
		goto out;
	if (PQntuples(r) == 1 && buf_puts(holder, PQgetvalue(r, 0, 0)) < 0) {
		serr_set(e, "cannot read a lease: the holder does not fit");
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}
