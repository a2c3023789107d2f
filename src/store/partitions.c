/* Registered partitions (see partitions.h). */
#include "store/partitions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/*
 * One statement: CTEs see the table as it was before the statement, so
 * `old` tells new keys from known and restored ones, and the deletion marks only
 * rows the upsert does not touch.
 */
static const char register_sql[] =
	"WITH input AS (SELECT DISTINCT k AS key FROM unnest($2::text[]) AS k),"
	" old AS (SELECT p.key, p.deleted_at FROM partitions p JOIN input i ON i.key = p.key"
	"  WHERE p.kind = $1::text),"
	" up AS (INSERT INTO partitions (kind, key) SELECT $1::text, key FROM input"
	"  ON CONFLICT (kind, key) DO UPDATE SET last_seen_at = now(), deleted_at = NULL"
	"  RETURNING key),"
	" del AS (UPDATE partitions p SET deleted_at = now()"
	"  WHERE p.kind = $1::text AND p.deleted_at IS NULL AND $3::boolean"
	"  AND NOT EXISTS (SELECT 1 FROM input i WHERE i.key = p.key) RETURNING p.key)"
	" SELECT (SELECT count(*) FROM input),"
	" (SELECT count(*) FROM input) - (SELECT count(*) FROM old),"
	" (SELECT count(*) FROM old WHERE deleted_at IS NOT NULL),"
	" (SELECT count(*) FROM del)";

static int kind_check(const char *kind, serr *e)
{
	if (kind && (strcmp(kind, "candidates") == 0 || strcmp(kind, "jobs") == 0))
		return 0;
	return serr_set(e, "partition kind '%s' is unknown: use 'candidates' or 'jobs'",
			kind ? kind : "");
}

static int keys_check(const char *kind, const char *const *keys, size_t n, serr *e)
{
	for (size_t i = 0; i < n; i++) {
		if (!keys[i] || !keys[i][0])
			return serr_set(e, "partition key %zu of '%s' is empty", i, kind);
		if (strlen(keys[i]) > PARTITION_KEY_MAX)
			return serr_set(e, "partition key '%.40s...' of '%s' is longer than %d "
					   "characters",
					keys[i], kind, PARTITION_KEY_MAX);
	}
	return 0;
}

static int do_register(struct store *s, const char *kind, const char *const *keys, size_t n,
		       int mark_missing, struct partition_counts *d, serr *e)
{
	struct buf arr;
	char what[96];
	const char *p[3];
	PGresult *r = NULL;
	int64_t v[4];
	int own_tx = 0, rc = -1;

	buf_init(&arr, 0);
	if (d)
		memset(d, 0, sizeof(*d));
	if (kind_check(kind, e) < 0 || keys_check(kind, keys, n, e) < 0)
		goto out;
	snprintf(what, sizeof(what), "register %zu '%s' partition(s)", n, kind);
	if (store_text_array(&arr, keys, n) < 0) {
		serr_set(e, "cannot %s: too many keys", what);
		goto out;
	}
	p[0] = kind;
	p[1] = arr.data;
	p[2] = mark_missing ? "true" : "false";
	if (!store_in_tx(s)) {
		if (store_begin(s, e) < 0)
			goto out;
		own_tx = 1;
	}
	/* Two syncs of one kind at once would each mark the other's keys deleted. */
	if (store_exec(s, what, "SELECT pg_advisory_xact_lock(hashtext('scout.partitions.' || $1))",
		       1, p, NULL, e) < 0)
		goto out;
	if (store_exec(s, what, register_sql, 3, p, &r, e) < 0)
		goto out;
	for (int i = 0; i < 4; i++) {
		if (parse_i64(PQgetvalue(r, 0, i), INT64_MIN, INT64_MAX, &v[i]) < 0) {
			serr_set(e, "cannot %s: bad count '%s'", what, PQgetvalue(r, 0, i));
			goto out;
		}
	}
	if (own_tx && store_commit(s, e) < 0)
		goto out;
	own_tx = 0;
	if (d) {
		d->seen = v[0];
		d->added = v[1];
		d->restored = v[2];
		d->deleted = v[3];
	}
	rc = 0;
out:
	if (own_tx)
		store_rollback(s);
	PQclear(r);
	buf_free(&arr);
	return rc;
}

int partitions_register(struct store *s, const char *kind, const char *const *keys, size_t n,
			struct partition_counts *d, serr *e)
{
	return do_register(s, kind, keys, n, 1, d, e);
}

int partitions_add(struct store *s, const char *kind, const char *const *keys, size_t n,
		   struct partition_counts *d, serr *e)
{
	return do_register(s, kind, keys, n, 0, d, e);
}

void partition_list_init(struct partition_list *l)
{
	l->items = NULL;
	l->n = 0;
	l->owner = NULL;
}

void partition_list_free(struct partition_list *l)
{
	free(l->items);
	PQclear(l->owner);
	partition_list_init(l);
}

int partitions_list(struct store *s, const char *kind, int include_deleted,
		    struct partition_list *out, serr *e)
{
	const char *p[2] = { kind, include_deleted ? "true" : "false" };
	char what[96];
	PGresult *r = NULL;
	size_t n, bytes;
	int rc = -1;

	partition_list_free(out);
	if (kind_check(kind, e) < 0)
		goto out;
	snprintf(what, sizeof(what), "list '%s' partitions", kind);
	if (store_exec(s, what,
		       "SELECT key, " TS("registered_at") ", " TS("last_seen_at") ", "
		       TS("deleted_at") " FROM partitions WHERE kind = $1"
		       " AND ($2::boolean OR deleted_at IS NULL) ORDER BY key",
		       2, p, &r, e) < 0)
		goto out;
	n = (size_t)PQntuples(r);
	if (size_mul(n ? n : 1, sizeof(*out->items), &bytes) < 0 ||
	    !(out->items = malloc(bytes))) {
		serr_set(e, "cannot %s: out of memory for %zu keys", what, n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		out->items[i].key = store_val(r, (int)i, 0);
		out->items[i].registered_at = store_val(r, (int)i, 1);
		out->items[i].last_seen_at = store_val(r, (int)i, 2);
		out->items[i].deleted_at = store_val(r, (int)i, 3);
	}
	out->n = n;
	out->owner = r;
	r = NULL;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int partitions_count(struct store *s, const char *kind, int64_t *active, int64_t *deleted,
		     serr *e)
{
	const char *p[1] = { kind };
	char what[96];
	PGresult *r = NULL;
	int rc = -1;

	*active = *deleted = 0;
	if (kind_check(kind, e) < 0)
		goto out;
	snprintf(what, sizeof(what), "count '%s' partitions", kind);
	if (store_exec(s, what,
		       "SELECT count(*) FILTER (WHERE deleted_at IS NULL),"
		       " count(*) FILTER (WHERE deleted_at IS NOT NULL)"
		       " FROM partitions WHERE kind = $1",
		       1, p, &r, e) < 0)
		goto out;
	if (parse_i64(PQgetvalue(r, 0, 0), 0, INT64_MAX, active) < 0 ||
	    parse_i64(PQgetvalue(r, 0, 1), 0, INT64_MAX, deleted) < 0) {
		serr_set(e, "cannot %s: bad counts", what);
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int partitions_get(struct store *s, const char *kind, const char *key, int *found, int *deleted,
		   serr *e)
{
	const char *p[2] = { kind, key };
	char what[PARTITION_KEY_MAX + 64];
	PGresult *r = NULL;
	int rc = -1;

	*found = *deleted = 0;
	if (kind_check(kind, e) < 0 || keys_check(kind, &key, 1, e) < 0)
		goto out;
	snprintf(what, sizeof(what), "look up '%s' partition '%s'", kind, key);
	if (store_exec(s, what,
		       "SELECT deleted_at IS NOT NULL FROM partitions WHERE kind = $1 AND key = $2", 2,
		       p, &r, e) < 0)
		goto out;
	if (PQntuples(r) == 1) {
		*found = 1;
		*deleted = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}
