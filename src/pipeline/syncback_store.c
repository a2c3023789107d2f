/*
 * The database half of the sync-back: normalized rows read a chunk at a
 * time (only their n_* properties, so a run over every record stays
 * small), and people's edits of (N) cells kept as feedback (migration
 * 0008, table human_edits).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/syncback.h"
#include "store/store.h"

#define CHUNK_TEXT "100"

/* Keyset paging over one table; the n_* properties are picked by the server. */
static const char *const rows_sql[2] = {
	"SELECT record_id, (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)"
	"   FROM jsonb_each(normalized) WHERE key LIKE 'n\\_%')::text, verified"
	" FROM normalized_candidates"
	" WHERE ($1::text IS NULL OR record_id = $1) AND record_id > $2"
	" ORDER BY record_id LIMIT " CHUNK_TEXT,
	"SELECT record_id, (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)"
	"   FROM jsonb_each(normalized) WHERE key LIKE 'n\\_%')::text, false"
	" FROM normalized_jobs"
	" WHERE ($1::text IS NULL OR record_id = $1) AND record_id > $2"
	" ORDER BY record_id LIMIT " CHUNK_TEXT,
};

int syncback_rows_next(struct store *s, int jobs, const char *record_id,
		       struct syncback_rows *r, serr *e)
{
	const char *p[2] = { record_id, r->last_id };
	const char *what = jobs ? "read the normalized jobs to sync back"
				: "read the normalized candidates to sync back";
	PGresult *res = NULL;
	json_t *rows = NULL;
	int rc = -1;

	if (store_exec(s, what, rows_sql[jobs ? 1 : 0], 2, p, &res, e) < 0)
		return -1;
	rows = json_array();
	if (!rows)
		goto oom;
	for (int i = 0; i < PQntuples(res); i++) {
		json_error_t je;
		const char *id = PQgetvalue(res, i, 0);
		json_t *n = json_loads(PQgetvalue(res, i, 1), 0, &je);

		if (!n) {
			serr_set(e, "cannot %s: the normalized data of '%s' is not JSON (%s)", what,
				 id, je.text);
			goto out;
		}
		if (strlen(id) >= sizeof(r->last_id)) {
			json_decref(n);
			serr_set(e, "cannot %s: record id '%.40s...' is too long", what, id);
			goto out;
		}
		if (json_array_append_new(rows, json_pack("{s:s, s:o, s:b}", "id", id, "n", n,
							  "verified",
							  PQgetvalue(res, i, 2)[0] == 't')) < 0)
			goto oom;
		snprintf(r->last_id, sizeof(r->last_id), "%s", id);
	}
	json_decref(r->rows);
	r->rows = rows;
	rows = NULL;
	rc = 0;
	goto out;
oom:
	serr_set(e, "cannot %s: out of memory", what);
out:
	json_decref(rows);
	PQclear(res);
	return rc;
}

/* JSON text of a cell value, NULL for an empty cell. */
static char *cell_text(const json_t *v)
{
	if (!v || json_is_null(v))
		return NULL;
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

int syncback_human_edit_record(struct store *s, const char *table, const char *record_id,
			       const char *field, const json_t *scout_value,
			       const json_t *human_value, serr *e)
{
	char what[400];
	char *sv = cell_text(scout_value), *hv = cell_text(human_value);
	const char *p[5] = { table, record_id, field, sv, hv };
	int rc = -1;

	snprintf(what, sizeof(what), "record the edit of '%.120s' on record '%.60s' as feedback",
		 field ? field : "", record_id ? record_id : "");
	if ((scout_value && !json_is_null(scout_value) && !sv) ||
	    (human_value && !json_is_null(human_value) && !hv)) {
		serr_set(e, "cannot %s: out of memory", what);
		goto out;
	}
	rc = store_exec(s, what,
			"INSERT INTO human_edits (table_id, record_id, field, scout_value, human_value)"
			" VALUES ($1, $2, $3, $4, $5)"
			" ON CONFLICT (table_id, record_id, field, md5(coalesce(human_value, '')))"
			" DO UPDATE SET seen_at = now(), scout_value = EXCLUDED.scout_value",
			5, p, NULL, e);
out:
	free(sv);
	free(hv);
	return rc;
}
