/* Partition status derived from runs, and partition input hashes (see partition_status.h). */
#include "store/partition_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "orchestrator/job.h"
#include "store/partitions.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define HASH_MAX 128

static const char *const state_names[PSTATE_COUNT] = { "missing",   "queued", "running",
						       "succeeded", "failed", "stale" };

const char *partition_state_name(enum partition_state s)
{
	return (unsigned)s < PSTATE_COUNT ? state_names[s] : "unknown";
}

int partition_state_parse(const char *name, enum partition_state *out)
{
	for (int i = 0; name && i < PSTATE_COUNT; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum partition_state)i;
			return 0;
		}
	}
	return -1;
}

static int kind_check(const char *kind, serr *e)
{
	if (kind && (strcmp(kind, "candidates") == 0 || strcmp(kind, "jobs") == 0))
		return 0;
	return serr_set(e, "partition kind '%s' is unknown: use 'candidates' or 'jobs'",
			kind ? kind : "");
}

static int key_check(const char *kind, const char *key, serr *e)
{
	if (!key || !*key)
		return serr_set(e, "a partition key of '%s' is empty", kind);
	if (strlen(key) > PARTITION_KEY_MAX)
		return serr_set(e, "partition key '%.40s...' of '%s' is longer than %d characters",
				key, kind, PARTITION_KEY_MAX);
	return 0;
}

static int hash_check(const char *key, const char *hash, serr *e)
{
	if (hash && (!*hash || strlen(hash) > HASH_MAX))
		return serr_set(e, "input hash of partition '%s' must be 1 to %d characters", key,
				HASH_MAX);
	return 0;
}

int partitions_set_input_hash(struct store *s, const char *kind, const char *key,
			      const char *hash, serr *e)
{
	return partitions_set_input_hashes(s, kind, &key, &hash, 1, e);
}

int partitions_set_input_hashes(struct store *s, const char *kind, const char *const *keys,
				const char *const *hashes, size_t n, serr *e)
{
	struct buf ka, ha;
	const char *p[3];
	char what[96];
	PGresult *r = NULL;
	int rc = -1;

	buf_init(&ka, 0);
	buf_init(&ha, 0);
	if (kind_check(kind, e) < 0)
		goto out;
	if (n == 0) {
		rc = 0;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (key_check(kind, keys[i], e) < 0 || hash_check(keys[i], hashes[i], e) < 0)
			goto out;
	snprintf(what, sizeof(what), "set the input hash of %zu '%s' partition(s)", n, kind);
	if (store_text_array(&ka, keys, n) < 0 || store_text_array(&ha, hashes, n) < 0) {
		serr_set(e, "cannot %s: too many keys", what);
		goto out;
	}
	p[0] = kind;
	p[1] = ka.data;
	p[2] = ha.data;
	/* Partitions are never deleted (only marked), so checking first is race-free. */
	if (store_exec(s, what,
		       "SELECT i.k FROM unnest($2::text[]) AS i(k) WHERE NOT EXISTS"
		       " (SELECT 1 FROM partitions p WHERE p.kind = $1 AND p.key = i.k) LIMIT 1",
		       2, p, &r, e) < 0)
		goto out;
	if (PQntuples(r) > 0) {
		serr_set(e, "cannot %s: partition '%s' of '%s' is not registered; register it "
			    "(partitions_add) before recording its input hash",
			 what, PQgetvalue(r, 0, 0), kind);
		goto out;
	}
	PQclear(r);
	r = NULL;
	/* The last hash given for a key wins. */
	if (store_exec(s, what,
		       "UPDATE partitions p SET input_hash = i.h, input_hash_at = now()"
		       " FROM (SELECT DISTINCT ON (k) k, h FROM unnest($2::text[], $3::text[])"
		       "  WITH ORDINALITY AS u(k, h, ord) ORDER BY k, ord DESC) AS i"
		       " WHERE p.kind = $1 AND p.key = i.k"
		       " AND p.input_hash IS DISTINCT FROM i.h",
		       3, p, NULL, e) < 0)
		goto out;
	rc = 0;
out:
	PQclear(r);
	buf_free(&ka);
	buf_free(&ha);
	return rc;
}

/* The partition kind of a partitioned job, from its definition. */
static int job_kind(const char *job, const char **kind, serr *e)
{
	const struct job_def *d = job ? job_def_find(job) : NULL;

	if (!d)
		return serr_set(e, "job '%s' is unknown (see `scout job list`)", job ? job : "");
	if (d->partitioning == PART_NONE)
		return serr_set(e, "job '%s' is not partitioned: it has no partition status", job);
	*kind = job_partitioning_name(d->partitioning);
	return 0;
}

void partition_status_list_init(struct partition_status_list *l)
{
	l->items = NULL;
	l->n = 0;
	l->owner = NULL;
}

void partition_status_list_free(struct partition_status_list *l)
{
	free(l->items);
	PQclear(l->owner);
	partition_status_list_init(l);
}

#define COLUMNS                                                                         \
	"SELECT partition_key, status, last_run_id::text, last_status, " TS("updated_at")   \
	", input_hash FROM partition_runs WHERE job = $1 AND active"
#define PAGE " ORDER BY partition_key LIMIT $2 OFFSET $3"

/*
 * Make sure the job has a row per partition of its kind (the first call
 * for a job creates them); afterwards every view reads partition_runs alone.
 */
static int track(struct store *s, const char *job, const char *kind, const char *what, serr *e)
{
	const char *p[2] = { job, kind };

	return store_exec(s, what, "SELECT scout_track_partition_job($1, $2)", 2, p, NULL, e);
}

static int fill(PGresult *r, const char *what, struct partition_status_list *out, serr *e)
{
	size_t n = (size_t)PQntuples(r), bytes;

	if (size_mul(n ? n : 1, sizeof(*out->items), &bytes) < 0 ||
	    !(out->items = calloc(1, bytes)))
		return serr_set(e, "cannot %s: out of memory for %zu partitions", what, n);
	for (size_t i = 0; i < n; i++) {
		struct partition_status *ps = &out->items[i];
		int row = (int)i;

		ps->key = store_val(r, row, 0);
		if (partition_state_parse(PQgetvalue(r, row, 1), &ps->state) < 0)
			return serr_set(e, "cannot %s: unknown status '%s' of partition '%s'", what,
					PQgetvalue(r, row, 1), ps->key);
		ps->last_run_id = store_val(r, row, 2);
		ps->last_status = store_val(r, row, 3);
		ps->updated_at = store_val(r, row, 4);
		ps->input_hash = store_val(r, row, 5);
	}
	out->n = n;
	out->owner = r;
	return 0;
}

int partition_status_list(struct store *s, const char *job, const enum partition_state *filter,
			  int limit, int64_t offset, struct partition_status_list *out, serr *e)
{
	char what[160], lim[16], off[24];
	const char *p[4], *kind = NULL;
	PGresult *r = NULL;
	int rc = -1;

	partition_status_list_free(out);
	if (job_kind(job, &kind, e) < 0)
		return -1;
	if (filter && (unsigned)*filter >= PSTATE_COUNT)
		return serr_set(e, "partition status %d is unknown", (int)*filter);
	if (limit < 1 || limit > PARTITION_STATUS_LIMIT_MAX || offset < 0)
		return serr_set(e, "partition page of %d from %lld is out of range: use a limit "
				   "of 1 to %d and an offset of 0 or more",
				limit, (long long)offset, PARTITION_STATUS_LIMIT_MAX);
	snprintf(what, sizeof(what), "list the %s%spartitions of job '%s'",
		 filter ? partition_state_name(*filter) : "", filter ? " " : "", job);
	snprintf(lim, sizeof(lim), "%d", limit);
	snprintf(off, sizeof(off), "%lld", (long long)offset);
	p[0] = job;
	p[1] = lim;
	p[2] = off;
	p[3] = filter ? partition_state_name(*filter) : NULL;
	if (track(s, job, kind, what, e) < 0)
		goto out;
	if (store_exec(s, what, filter ? COLUMNS " AND status = $4" PAGE : COLUMNS PAGE,
		       filter ? 4 : 3, p, &r, e) < 0)
		goto out;
	if (fill(r, what, out, e) < 0)
		goto out;
	r = NULL;
	rc = 0;
out:
	if (rc < 0)
		partition_status_list_free(out);
	PQclear(r);
	return rc;
}

int partition_status_get(struct store *s, const char *job, const char *key,
			 struct partition_status_list *out, int *found, serr *e)
{
	char what[PARTITION_KEY_MAX + 160];
	const char *p[2], *kind = NULL;
	PGresult *r = NULL;
	int rc = -1;

	*found = 0;
	partition_status_list_free(out);
	if (job_kind(job, &kind, e) < 0 || key_check(kind, key, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "read the status of partition '%s' of job '%s'", key, job);
	p[0] = job;
	p[1] = key;
	if (track(s, job, kind, what, e) < 0)
		goto out;
	if (store_exec(s, what, COLUMNS " AND partition_key = $2", 2, p, &r, e) < 0)
		goto out;
	if (fill(r, what, out, e) < 0)
		goto out;
	r = NULL;
	*found = out->n == 1;
	rc = 0;
out:
	if (rc < 0)
		partition_status_list_free(out);
	PQclear(r);
	return rc;
}

/* Every active partition of a tracked job has its row: count the rows by status. */
int partition_status_counts(struct store *s, const char *job,
			    struct partition_status_counts *out, serr *e)
{
	char what[160];
	const char *p[1], *kind = NULL;
	PGresult *r = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (job_kind(job, &kind, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "count the partitions of job '%s' by status", job);
	p[0] = job;
	if (track(s, job, kind, what, e) < 0)
		goto out;
	if (store_exec(s, what,
		       "SELECT status, count(*) FROM partition_runs WHERE job = $1 AND active"
		       " GROUP BY status",
		       1, p, &r, e) < 0)
		goto out;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *name = PQgetvalue(r, i, 0);
		enum partition_state st;
		int64_t v;

		if (parse_i64(PQgetvalue(r, i, 1), 0, INT64_MAX, &v) < 0 ||
		    partition_state_parse(name, &st) < 0) {
			serr_set(e, "cannot %s: bad count '%s' of status '%s'", what,
				 PQgetvalue(r, i, 1), name);
			goto out;
		}
		out->n[st] = v;
		out->total += v;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}
