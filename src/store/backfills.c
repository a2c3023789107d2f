/* Backfills and their selected partitions (see backfills.h). */
#include "store/backfills.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/partitions.h"
#include "store/queue.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define LIST_LIMIT_MAX 1000
#define UNKNOWN_SHOWN 5

static const char *const selection_names[] = { "all", "list", "failed" };

const char *backfill_selection_name(enum backfill_selection s)
{
	return (unsigned)s < 3 ? selection_names[s] : "unknown";
}

int backfill_status_final(const char *status)
{
	return status && (strcmp(status, "COMPLETED") == 0 || strcmp(status, "FAILED") == 0);
}

/* Backfill ids are UUIDs; anything else is refused before it reaches SQL. */
static int id_check(const char *id, serr *e)
{
	size_t n = id ? strlen(id) : 0;

	if (n != 36)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (id[i] != '-')
				goto bad;
		} else if (!isxdigit((unsigned char)id[i])) {
			goto bad;
		}
	}
	return 0;
bad:
	return serr_set(e, "'%.60s' is not a backfill id (see `scout backfills`)", id ? id : "");
}

static int get_i64(const PGresult *r, int row, int col, int64_t *out)
{
	const char *v = store_val(r, row, col);

	*out = 0;
	return v ? parse_i64(v, INT64_MIN, INT64_MAX, out) : 0;
}

/* List mode: every key must be an active partition of kind; name the first few that are not. */
static int list_check(struct store *s, const char *kind, const char *arr, const char *what,
		      serr *e)
{
	char shown[8];
	const char *p[3] = { kind, arr, shown };
	PGresult *r = NULL;
	struct buf names;
	int64_t total = 0;
	int rc = -1;

	buf_init(&names, 1024);
	snprintf(shown, sizeof(shown), "%d", UNKNOWN_SHOWN);
	if (store_exec(s, what,
		       "SELECT k, count(*) OVER () FROM (SELECT DISTINCT k FROM unnest($2::text[]) k"
		       " WHERE NOT EXISTS (SELECT 1 FROM partitions p WHERE p.kind = $1"
		       "  AND p.key = k AND p.deleted_at IS NULL)) u ORDER BY k LIMIT $3::int",
		       3, p, &r, e) < 0)
		goto out;
	if (PQntuples(r) > 0) {
		for (int i = 0; i < PQntuples(r); i++)
			if (buf_printf(&names, "%s'%.60s'", i ? ", " : "", PQgetvalue(r, i, 0)) < 0)
				break;
		serr_set(e, "cannot %s: %s partition(s) of '%s' are not registered or are deleted "
			    "(%s%s); run the job's sync first or leave them out",
			 what, PQgetvalue(r, 0, 1), kind, buf_cstr(&names),
			 get_i64(r, 0, 1, &total) == 0 && total > PQntuples(r) ? ", ..." : "");
		goto out;
	}
	rc = 0;
out:
	buf_free(&names);
	PQclear(r);
	return rc;
}

static const char *const select_sql[] = {
	/* all */
	"INSERT INTO backfill_partitions (backfill_id, partition_key)"
	" SELECT $1::uuid, key FROM partitions WHERE kind = $2 AND deleted_at IS NULL",
	/* list */
	"INSERT INTO backfill_partitions (backfill_id, partition_key)"
	" SELECT DISTINCT $1::uuid, k FROM unnest($2::text[]) k",
	/* failed */
	"INSERT INTO backfill_partitions (backfill_id, partition_key)"
	" SELECT $1::uuid, partition_key FROM partition_runs"
	" WHERE job = $2 AND active AND status = 'failed'",
};

int backfills_create(struct store *s, const char *job, const char *kind,
		     enum backfill_selection sel, const char *const *keys, size_t n,
		     struct buf *id, int64_t *selected, serr *e)
{
	char what[300];
	const char *p[4];
	struct buf arr;
	PGresult *r = NULL;
	int own_tx = 0, rc = -1;

	buf_reset(id);
	buf_init(&arr, 0);
	*selected = 0;
	snprintf(what, sizeof(what), "request a backfill of job '%.200s' (%s)", job ? job : "",
		 backfill_selection_name(sel));
	if ((unsigned)sel > BACKFILL_FAILED) {
		serr_set(e, "cannot %s: unknown selection %d", what, (int)sel);
		goto out;
	}
	if (!job || !*job || !kind) {
		serr_set(e, "cannot %s: no job or partition kind given", what);
		goto out;
	}
	if (sel == BACKFILL_LIST) {
		if (n == 0 || n > BACKFILL_LIST_MAX) {
			serr_set(e, "cannot %s: name 1 to %d partitions", what, BACKFILL_LIST_MAX);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (!keys[i] || !*keys[i] || strlen(keys[i]) > PARTITION_KEY_MAX) {
				serr_set(e, "cannot %s: partition key %zu is empty or longer than %d "
					    "characters",
					 what, i + 1, PARTITION_KEY_MAX);
				goto out;
			}
		}
		if (store_text_array(&arr, keys, n) < 0) {
			serr_set(e, "cannot %s: too many partition keys", what);
			goto out;
		}
	}
	if (!store_in_tx(s)) {
		if (store_begin(s, e) < 0)
			goto out;
		own_tx = 1;
	}
	p[0] = job;
	p[1] = kind;
	/* the job's status rows exist before --failed reads them */
	if (store_exec(s, what, "SELECT scout_track_partition_job($1, $2)", 2, p, NULL, e) < 0)
		goto out;
	if (sel == BACKFILL_LIST && list_check(s, kind, buf_cstr(&arr), what, e) < 0)
		goto out;
	p[0] = job;
	p[1] = kind;
	p[2] = backfill_selection_name(sel);
	if (store_exec(s, what,
		       "INSERT INTO backfills (job, kind, selection) VALUES ($1, $2, $3)"
		       " RETURNING id::text",
		       3, p, &r, e) < 0)
		goto out;
	if (buf_puts(id, PQgetvalue(r, 0, 0)) < 0) {
		serr_set(e, "cannot %s: the id does not fit", what);
		goto out;
	}
	PQclear(r);
	r = NULL;
	p[0] = buf_cstr(id);
	p[1] = sel == BACKFILL_ALL ? kind : sel == BACKFILL_LIST ? buf_cstr(&arr) : job;
	if (store_exec(s, what, select_sql[sel], 2, p, &r, e) < 0)
		goto out;
	if (parse_i64(PQcmdTuples(r), 0, INT64_MAX, selected) < 0 || *selected == 0) {
		serr_set(e, "cannot %s: no partition selected (%s)", what,
			 sel == BACKFILL_FAILED ? "no partition of the job has failed"
			 : sel == BACKFILL_ALL	? "the job's kind has no active partition; run its sync first"
						: "no key given");
		goto out;
	}
	PQclear(r);
	r = NULL;
	if (store_exec(s, what,
		       "UPDATE backfills SET num_selected = (SELECT count(*) FROM backfill_partitions"
		       " WHERE backfill_id = $1::uuid) WHERE id = $1::uuid",
		       1, p, NULL, e) < 0)
		goto out;
	if (own_tx && store_commit(s, e) < 0)
		goto out;
	own_tx = 0;
	rc = 0;
out:
	if (own_tx)
		store_rollback(s);
	if (rc < 0)
		buf_reset(id);
	PQclear(r);
	buf_free(&arr);
	return rc;
}

/* {"backfill": id, "input_hash": hash} with every value escaped by jansson. */
static char *run_tags(const char *id, const char *input_hash)
{
	json_t *o = json_pack("{s:s}", "backfill", id);
	char *out = NULL;

	if (!o)
		return NULL;
	if (input_hash && json_object_set_new(o, "input_hash", json_string(input_hash)) < 0)
		goto out;
	out = json_dumps(o, JSON_COMPACT);
out:
	json_decref(o);
	return out;
}

/* Queue one run per partition of the chunk; fills the arrays of run ids and flags. */
static int enqueue_rows(struct store *s, const char *id, const char *job, const PGresult *rows,
			char **run_ids, const char **elsewhere, struct backfill_chunk *out, serr *e)
{
	struct buf run_id;
	int rc = -1;

	buf_init(&run_id, 128);
	for (int i = 0; i < PQntuples(rows); i++) {
		struct run_request rq = { 0 };
		char *tags = run_tags(id, store_val(rows, i, 1));
		int created = 0, qrc;

		if (!tags) {
			serr_set(e, "cannot queue backfill '%s': out of memory", id);
			goto out;
		}
		rq.job = job;
		rq.partition_key = PQgetvalue(rows, i, 0);
		rq.tags_json = tags;
		rq.backfill_id = id;
		qrc = queue_enqueue(s, &rq, &run_id, &created, e);
		free(tags);
		if (qrc < 0) {
			serr_wrap(e, "backfill '%s'", id);
			goto out;
		}
		if (!(run_ids[i] = xstrdup(buf_cstr(&run_id)))) {
			serr_set(e, "cannot queue backfill '%s': out of memory", id);
			goto out;
		}
		elsewhere[i] = created ? "f" : "t";
		if (created)
			out->queued++;
		else
			out->already_pending++;
	}
	rc = 0;
out:
	buf_free(&run_id);
	return rc;
}

/*
 * Queue a run for each partition in rows and link it (run id, its status,
 * pending elsewhere) to the partition's backfill row.
 */
static int link_runs(struct store *s, const char *id, const char *job, const char *what,
		     const PGresult *rows, struct backfill_chunk *out, serr *e)
{
	size_t n = (size_t)PQntuples(rows), bytes;
	char **run_ids = NULL;
	const char **keys = NULL, **elsewhere = NULL;
	const char *p[4];
	struct buf ka, ra, ea;
	int rc = -1;

	buf_init(&ka, 0);
	buf_init(&ra, 0);
	buf_init(&ea, 0);
	if (size_mul(n ? n : 1, sizeof(char *), &bytes) < 0 || !(run_ids = calloc(1, bytes)) ||
	    !(keys = calloc(1, bytes)) || !(elsewhere = calloc(1, bytes))) {
		serr_set(e, "cannot %s: out of memory for %zu partitions", what, n);
		goto out;
	}
	if (enqueue_rows(s, id, job, rows, run_ids, elsewhere, out, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		keys[i] = PQgetvalue(rows, (int)i, 0);
	if (store_text_array(&ka, keys, n) < 0 ||
	    store_text_array(&ra, (const char *const *)run_ids, n) < 0 ||
	    store_text_array(&ea, elsewhere, n) < 0) {
		serr_set(e, "cannot %s: out of memory", what);
		goto out;
	}
	p[0] = id;
	p[1] = ka.data;
	p[2] = ra.data;
	p[3] = ea.data;
	/*
	 * A run found pending elsewhere may change status meanwhile: its row
	 * lock makes that change wait for this commit, so the status trigger
	 * then finds the link; the status read after the lock is the latest.
	 */
	if (store_exec(s, what, "SELECT 1 FROM runs WHERE id = ANY ($1::uuid[]) FOR SHARE", 1,
		       p + 2, NULL, e) < 0)
		goto out;
	if (store_exec(s, what,
		       "UPDATE backfill_partitions bp SET run_id = u.r::uuid,"
		       " run_status = (SELECT r.status FROM runs r WHERE r.id = u.r::uuid),"
		       " pending_elsewhere = u.el"
		       " FROM unnest($2::text[], $3::text[], $4::boolean[]) AS u(k, r, el)"
		       " WHERE bp.backfill_id = $1::uuid AND bp.partition_key = u.k",
		       4, p, NULL, e) < 0)
		goto out;
	rc = 0;
out:
	for (size_t i = 0; run_ids && i < n; i++)
		free(run_ids[i]);
	free(run_ids);
	free(keys);
	free(elsewhere);
	buf_free(&ka);
	buf_free(&ra);
	buf_free(&ea);
	return rc;
}

/* One chunk of a REQUESTED backfill whose row the open transaction holds. */
static int queue_rows(struct store *s, const char *id, const char *job, const char *kind,
		      int chunk, const char *what, struct backfill_chunk *out, serr *e)
{
	char lim[16], q[24], pend[24];
	const char *p[4] = { id, kind, lim, NULL };
	PGresult *rows = NULL;
	int rc = -1;

	snprintf(lim, sizeof(lim), "%d", chunk);
	if (store_exec(s, what,
		       "SELECT bp.partition_key, p.input_hash FROM backfill_partitions bp"
		       " LEFT JOIN partitions p ON p.kind = $2 AND p.key = bp.partition_key"
		       " WHERE bp.backfill_id = $1::uuid AND bp.run_id IS NULL"
		       " ORDER BY bp.partition_key LIMIT $3::int",
		       3, p, &rows, e) < 0)
		goto out;
	if (PQntuples(rows) > 0 && link_runs(s, id, job, what, rows, out, e) < 0)
		goto out;
	if (store_query_i64(s, what,
			    "SELECT count(*) FROM backfill_partitions WHERE backfill_id = $1::uuid"
			    " AND run_id IS NULL",
			    1, p, &out->remaining, e) < 0)
		goto out;
	snprintf(q, sizeof(q), "%lld", (long long)out->queued);
	snprintf(pend, sizeof(pend), "%lld", (long long)out->already_pending);
	p[1] = q;
	p[2] = pend;
	p[3] = out->remaining == 0 ? "RUNNING" : "REQUESTED";
	if (store_exec(s, what,
		       "UPDATE backfills SET num_queued = num_queued + $2::bigint,"
		       " num_already_pending = num_already_pending + $3::bigint,"
		       " status = $4, updated_at = now() WHERE id = $1::uuid",
		       4, p, NULL, e) < 0)
		goto out;
	rc = 0;
out:
	PQclear(rows);
	return rc;
}

int backfills_queue_chunk(struct store *s, const char *id, int chunk, struct backfill_chunk *out,
			  serr *e)
{
	char what[96];
	const char *p[1] = { id };
	PGresult *b = NULL;
	int own_tx = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	if (id_check(id, e) < 0)
		goto out;
	snprintf(what, sizeof(what), "queue runs of backfill '%s'", id);
	if (chunk < 1 || chunk > BACKFILL_CHUNK_MAX) {
		serr_set(e, "cannot %s: chunk size %d is not within 1 to %d", what, chunk,
			 BACKFILL_CHUNK_MAX);
		goto out;
	}
	if (store_begin(s, e) < 0)
		goto out;
	own_tx = 1;
	/* The row lock serializes chunks, cancel and resume of one backfill. */
	if (store_exec(s, what,
		       "SELECT job, kind, status FROM backfills WHERE id = $1::uuid FOR UPDATE", 1, p,
		       &b, e) < 0)
		goto out;
	if (PQntuples(b) != 1) {
		serr_set(e, "cannot %s: there is no such backfill (see `scout backfills`)", what);
		goto out;
	}
	if (strcmp(PQgetvalue(b, 0, 2), "REQUESTED") != 0)
		out->stopped = 1;
	else if (queue_rows(s, id, PQgetvalue(b, 0, 0), PQgetvalue(b, 0, 1), chunk, what, out,
			    e) < 0)
		goto out;
	if (store_commit(s, e) < 0)
		goto out;
	own_tx = 0;
	rc = 0;
out:
	if (own_tx)
		store_rollback(s);
	PQclear(b);
	return rc;
}

/* Lock the backfill's row in the open transaction and read its status. */
static int lock_status(struct store *s, const char *id, const char *what, char status[16],
		       serr *e)
{
	const char *p[1] = { id };
	PGresult *r = NULL;
	int rc = -1;

	if (store_exec(s, what, "SELECT status FROM backfills WHERE id = $1::uuid FOR UPDATE", 1,
		       p, &r, e) < 0)
		goto out;
	if (PQntuples(r) != 1) {
		serr_set(e, "cannot %s: there is no such backfill (see `scout backfills`)", what);
		goto out;
	}
	snprintf(status, 16, "%s", PQgetvalue(r, 0, 0));
	rc = 0;
out:
	PQclear(r);
	return rc;
}

#define CANCEL_CHUNK "1000"

/* Cancel up to one chunk of the backfill's QUEUED runs; *n counts them. */
static int cancel_chunk(struct store *s, const char *id, const char *what, int64_t *n, serr *e)
{
	const char *p[2] = { id, CANCEL_CHUNK };
	char reason[96], old_st[16], new_st[16];
	PGresult *r = NULL;
	int rc = -1;

	*n = 0;
	snprintf(reason, sizeof(reason), "backfill %s was canceled", id);
	if (store_begin(s, e) < 0)
		return -1;
	/* Locked, so no worker claims them meanwhile; a run claimed first is skipped: it finishes. */
	if (store_exec(s, what,
		       "SELECT id::text FROM runs WHERE backfill_id = $1 AND status = 'QUEUED'"
		       " LIMIT $2::int FOR UPDATE",
		       2, p, &r, e) < 0)
		goto out;
	for (int i = 0; i < PQntuples(r); i++) {
		if (queue_cancel_ex(s, PQgetvalue(r, i, 0), reason, old_st, new_st, e) < 0) {
			serr_wrap(e, "cannot %s", what);
			goto out;
		}
		if (strcmp(new_st, "CANCELED") == 0)
			(*n)++;
	}
	if (store_commit(s, e) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		store_rollback(s);
	PQclear(r);
	return rc;
}

int backfills_cancel(struct store *s, const char *id, int64_t *canceled, serr *e)
{
	char what[96], status[16];
	const char *p[1] = { id };
	int64_t n = 0;
	int own_tx = 0, rc = -1;

	*canceled = 0;
	if (id_check(id, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "cancel backfill '%s'", id);
	if (store_begin(s, e) < 0)
		goto out;
	own_tx = 1;
	if (lock_status(s, id, what, status, e) < 0)
		goto out;
	if (backfill_status_final(status)) {
		serr_set(e, "cannot %s: it already ended (%s); nothing is queued or running", what,
			 status);
		goto out;
	}
	if (store_exec(s, what,
		       "UPDATE backfills SET status = 'CANCELED', updated_at = now(),"
		       " ended_at = coalesce(ended_at, now()) WHERE id = $1::uuid",
		       1, p, NULL, e) < 0)
		goto out;
	if (store_commit(s, e) < 0)
		goto out;
	own_tx = 0;
	/* Chunks of queued runs: a huge backfill never makes one giant transaction. */
	do {
		if (cancel_chunk(s, id, what, &n, e) < 0)
			goto out;
		*canceled += n;
	} while (n > 0);
	rc = 0;
out:
	if (own_tx)
		store_rollback(s);
	return rc;
}

/* Unlink the failed and canceled runs; the backfill goes back to REQUESTED when any partition needs a run. */
static int reset_for_resume(struct store *s, const char *id, const char *what, int64_t *to_queue,
			    serr *e)
{
	char any[2];
	const char *p[2] = { id, any };

	if (store_exec(s, what,
		       "UPDATE backfill_partitions SET run_id = NULL, run_status = NULL,"
		       " pending_elsewhere = false WHERE backfill_id = $1::uuid"
		       " AND run_status IN ('FAILURE', 'CANCELED')",
		       1, p, NULL, e) < 0)
		return -1;
	if (store_query_i64(s, what,
			    "SELECT count(*) FROM backfill_partitions WHERE backfill_id = $1::uuid"
			    " AND run_id IS NULL",
			    1, p, to_queue, e) < 0)
		return -1;
	/* Nothing to queue: RUNNING, settled to COMPLETED or FAILED by the next read. */
	snprintf(any, sizeof(any), "%d", *to_queue > 0);
	return store_exec(s, what,
			  "UPDATE backfills SET status = CASE WHEN $2::int > 0 THEN 'REQUESTED'"
			  " ELSE 'RUNNING' END, ended_at = NULL, num_succeeded = NULL,"
			  " num_failed = NULL, num_canceled = NULL, updated_at = now()"
			  " WHERE id = $1::uuid",
			  2, p, NULL, e);
}

int backfills_resume(struct store *s, const char *id, int64_t *to_queue, serr *e)
{
	char what[96], status[16];
	int own_tx = 0, rc = -1;

	*to_queue = 0;
	if (id_check(id, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "resume backfill '%s'", id);
	if (store_begin(s, e) < 0)
		goto out;
	own_tx = 1;
	if (lock_status(s, id, what, status, e) < 0)
		goto out;
	/* a COMPLETED backfill has nothing to resume */
	if (strcmp(status, "COMPLETED") != 0 && reset_for_resume(s, id, what, to_queue, e) < 0)
		goto out;
	if (store_commit(s, e) < 0)
		goto out;
	own_tx = 0;
	rc = 0;
out:
	if (own_tx)
		store_rollback(s);
	return rc;
}

void backfill_list_init(struct backfill_list *l)
{
	l->items = NULL;
	l->n = 0;
	l->owner = NULL;
}

void backfill_list_free(struct backfill_list *l)
{
	free(l->items);
	PQclear(l->owner);
	backfill_list_init(l);
}

/* Progress of backfill b.id from the latest run of each selected partition. */
#define PROGRESS_LATERAL                                                                     \
	" LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE bp.run_status IS NULL) AS unq,"  \
	"  count(*) FILTER (WHERE bp.run_status = 'QUEUED') AS q,"                          \
	"  count(*) FILTER (WHERE bp.run_status IN ('STARTED', 'CANCELING')) AS run,"       \
	"  count(*) FILTER (WHERE bp.run_status = 'SUCCESS') AS ok,"                        \
	"  count(*) FILTER (WHERE bp.run_status = 'FAILURE') AS bad,"                       \
	"  count(*) FILTER (WHERE bp.run_status = 'CANCELED') AS can"                       \
	"  FROM backfill_partitions bp"                                                     \
	"  WHERE bp.backfill_id = b.id AND b.status NOT IN ('COMPLETED', 'FAILED')) g ON true"

/* RUNNING backfills whose runs all ended settle to COMPLETED or FAILED, keeping the counts. */
static int settle(struct store *s, const char *id, serr *e)
{
	const char *p[1] = { id };

	return store_exec(
		s, "settle finished backfills",
		"UPDATE backfills u SET status = CASE WHEN g.bad + g.can = 0 THEN 'COMPLETED'"
		" ELSE 'FAILED' END, ended_at = now(), updated_at = now(),"
		" num_succeeded = g.ok, num_failed = g.bad, num_canceled = g.can"
		" FROM backfills b" PROGRESS_LATERAL
		" WHERE u.id = b.id AND b.status = 'RUNNING' AND ($1::uuid IS NULL OR b.id = $1::uuid)"
		" AND g.unq + g.q + g.run = 0",
		1, p, NULL, e);
}

static int fill(PGresult *r, struct backfill_list *out, serr *e)
{
	size_t n = (size_t)PQntuples(r), bytes;

	if (size_mul(n ? n : 1, sizeof(*out->items), &bytes) < 0 ||
	    !(out->items = calloc(1, bytes)))
		return serr_set(e, "cannot list backfills: out of memory for %zu", n);
	for (size_t i = 0; i < n; i++) {
		struct backfill *b = &out->items[i];
		struct backfill_progress *g = &b->progress;
		int row = (int)i;

		b->id = store_val(r, row, 0);
		b->job = store_val(r, row, 1);
		b->kind = store_val(r, row, 2);
		b->selection = store_val(r, row, 3);
		b->status = store_val(r, row, 4);
		b->created_at = store_val(r, row, 8);
		b->updated_at = store_val(r, row, 9);
		b->ended_at = store_val(r, row, 10);
		if (get_i64(r, row, 5, &b->num_selected) < 0 ||
		    get_i64(r, row, 6, &b->num_queued) < 0 ||
		    get_i64(r, row, 7, &b->num_already_pending) < 0 ||
		    get_i64(r, row, 11, &g->unqueued) < 0 || get_i64(r, row, 12, &g->queued) < 0 ||
		    get_i64(r, row, 13, &g->running) < 0 ||
		    get_i64(r, row, 14, &g->succeeded) < 0 || get_i64(r, row, 15, &g->failed) < 0 ||
		    get_i64(r, row, 16, &g->canceled) < 0)
			return serr_set(e, "cannot list backfills: bad count in backfill '%s'",
					b->id ? b->id : "");
	}
	out->n = n;
	out->owner = r;
	return 0;
}

int backfills_list(struct store *s, const char *id, int limit, struct backfill_list *out,
		   serr *e)
{
	char lim[16];
	const char *p[2];
	PGresult *r = NULL;
	int rc = -1;

	backfill_list_free(out);
	if (id && id_check(id, e) < 0)
		return -1;
	if (limit < 1 || limit > LIST_LIMIT_MAX)
		return serr_set(e, "backfill list limit %d is not within 1 to %d", limit,
				LIST_LIMIT_MAX);
	if (settle(s, id, e) < 0)
		return -1;
	snprintf(lim, sizeof(lim), "%d", limit);
	p[0] = id;
	p[1] = lim;
	if (store_exec(s, "list backfills",
		       "SELECT b.id::text, b.job, b.kind, b.selection, b.status, b.num_selected,"
		       " b.num_queued, b.num_already_pending, " TS("b.created_at") ", "
		       TS("b.updated_at") ", " TS("b.ended_at") ","
		       " CASE WHEN b.status IN ('COMPLETED', 'FAILED') THEN 0 ELSE g.unq END,"
		       " CASE WHEN b.status IN ('COMPLETED', 'FAILED') THEN 0 ELSE g.q END,"
		       " CASE WHEN b.status IN ('COMPLETED', 'FAILED') THEN 0 ELSE g.run END,"
		       " coalesce(b.num_succeeded, g.ok), coalesce(b.num_failed, g.bad),"
		       " coalesce(b.num_canceled, g.can)"
		       " FROM backfills b" PROGRESS_LATERAL
		       " WHERE $1::uuid IS NULL OR b.id = $1::uuid"
		       " ORDER BY b.created_at DESC, b.id LIMIT $2::int",
		       2, p, &r, e) < 0)
		goto out;
	if (fill(r, out, e) < 0)
		goto out;
	r = NULL;
	rc = 0;
out:
	if (rc < 0)
		backfill_list_free(out);
	PQclear(r);
	return rc;
}

int backfills_stalled(struct store *s, int idle_s, size_t max, char (*ids)[BACKFILL_ID_MAX],
		      size_t *n, serr *e)
{
	char idle[16], lim[24];
	const char *p[2] = { idle, lim };
	PGresult *r = NULL;

	*n = 0;
	if (max == 0)
		return 0;
	snprintf(idle, sizeof(idle), "%d", idle_s);
	snprintf(lim, sizeof(lim), "%zu", max);
	if (store_exec(s, "list stalled backfills",
		       "SELECT id::text FROM backfills WHERE status = 'REQUESTED'"
		       " AND updated_at < now() - make_interval(secs => $1::int)"
		       " ORDER BY created_at LIMIT $2::int",
		       2, p, &r, e) < 0)
		return -1;
	for (int i = 0; i < PQntuples(r) && *n < max; i++)
		snprintf(ids[(*n)++], BACKFILL_ID_MAX, "%s", PQgetvalue(r, i, 0));
	PQclear(r);
	return 0;
}
