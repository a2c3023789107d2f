/* The record of scout's own writes to (N) cells (see airtable_writes.h). */
#include "store/airtable_writes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 256

static int names_check(const char *what, const char *table, const char *record_id,
		       const char *field, serr *e)
{
	if (!table || !*table || strlen(table) > NAME_MAX_LEN)
		return serr_set(e, "cannot %s: the table id is empty or too long", what);
	if (!record_id || !*record_id || strlen(record_id) > NAME_MAX_LEN)
		return serr_set(e, "cannot %s: the record id is empty or too long", what);
	if (field && (!*field || strlen(field) > NAME_MAX_LEN))
		return serr_set(e, "cannot %s: the field name is empty or too long", what);
	return 0;
}

int airtable_write_get(struct store *s, const char *table, const char *record_id,
		       const char *field, struct buf *value, int *found, int *is_null, serr *e)
{
	char what[NAME_MAX_LEN + 96];
	const char *p[3] = { table, record_id, field };
	PGresult *r = NULL;
	int rc = -1;

	*found = 0;
	*is_null = 0;
	buf_reset(value);
	snprintf(what, sizeof(what), "read what scout last wrote to '%s' of record '%s'",
		 field ? field : "", record_id ? record_id : "");
	if (!field)
		return serr_set(e, "cannot %s: no field name", what);
	if (names_check(what, table, record_id, field, e) < 0)
		return -1;
	if (store_exec(s, what,
		       "SELECT last_written_value FROM airtable_writes"
		       " WHERE table_id = $1 AND record_id = $2 AND field = $3",
		       3, p, &r, e) < 0)
		return -1;
	if (PQntuples(r) == 1) {
		*found = 1;
		*is_null = PQgetisnull(r, 0, 0);
		if (!*is_null && buf_puts(value, PQgetvalue(r, 0, 0)) < 0) {
			serr_set(e, "cannot %s: the value does not fit its buffer", what);
			goto out;
		}
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int airtable_write_set(struct store *s, const char *table, const char *record_id,
		       const char *field, const char *value, serr *e)
{
	char what[NAME_MAX_LEN + 96];
	const char *p[4] = { table, record_id, field, value };

	snprintf(what, sizeof(what), "remember what scout wrote to '%s' of record '%s'",
		 field ? field : "", record_id ? record_id : "");
	if (!field)
		return serr_set(e, "cannot %s: no field name", what);
	if (names_check(what, table, record_id, field, e) < 0)
		return -1;
	return store_exec(s, what,
			  "INSERT INTO airtable_writes (table_id, record_id, field,"
			  " last_written_value) VALUES ($1, $2, $3, $4)"
			  " ON CONFLICT (table_id, record_id, field) DO UPDATE SET"
			  " last_written_value = EXCLUDED.last_written_value, written_at = now()",
			  4, p, NULL, e);
}

int airtable_writes_get_record(struct store *s, const char *table, const char *record_id,
			       json_t **out, serr *e)
{
	char what[NAME_MAX_LEN + 96];
	const char *p[2] = { table, record_id };
	PGresult *r = NULL;
	json_t *obj = NULL;
	int rc = -1;

	*out = NULL;
	snprintf(what, sizeof(what), "read what scout last wrote to record '%s'",
		 record_id ? record_id : "");
	if (names_check(what, table, record_id, NULL, e) < 0)
		return -1;
	if (store_exec(s, what,
		       "SELECT field, last_written_value FROM airtable_writes"
		       " WHERE table_id = $1 AND record_id = $2 ORDER BY field",
		       2, p, &r, e) < 0)
		return -1;
	obj = json_object();
	if (!obj) {
		serr_set(e, "cannot %s: out of memory", what);
		goto out;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		json_error_t je;
		json_t *v = PQgetisnull(r, i, 1)
				    ? json_null()
				    : json_loads(PQgetvalue(r, i, 1), JSON_DECODE_ANY, &je);

		if (!v) {
			serr_set(e, "cannot %s: the value of '%s' is not JSON text (was it written "
				    "with airtable_write_set?)",
				 what, PQgetvalue(r, i, 0));
			goto out;
		}
		if (json_object_set_new(obj, PQgetvalue(r, i, 0), v) < 0) {
			serr_set(e, "cannot %s: out of memory", what);
			goto out;
		}
	}
	*out = obj;
	obj = NULL;
	rc = 0;
out:
	json_decref(obj);
	PQclear(r);
	return rc;
}

int airtable_writes_set_record(struct store *s, const char *table, const char *record_id,
			       const json_t *fields, serr *e)
{
	char what[NAME_MAX_LEN + 96];
	const char *p[3], *k;
	json_t *enc = NULL, *v;
	char *text = NULL;
	int rc = -1;

	snprintf(what, sizeof(what), "remember what scout wrote to record '%s'",
		 record_id ? record_id : "");
	if (names_check(what, table, record_id, NULL, e) < 0)
		return -1;
	if (!json_is_object(fields))
		return serr_set(e, "cannot %s: the fields are not a JSON object", what);
	/* field -> the value's JSON text (or null), so the server stores text as given. */
	enc = json_object();
	if (!enc)
		goto oom;
	json_object_foreach((json_t *)fields, k, v) {
		char *t;
		json_t *js;

		if (!*k || strlen(k) > NAME_MAX_LEN) {
			serr_set(e, "cannot %s: field name '%.40s' is empty or too long", what, k);
			goto out;
		}
		if (json_is_null(v)) {
			if (json_object_set_new(enc, k, json_null()) < 0)
				goto oom;
			continue;
		}
		t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		js = t ? json_string(t) : NULL;
		free(t);
		if (!js || json_object_set_new(enc, k, js) < 0)
			goto oom;
	}
	text = json_dumps(enc, JSON_COMPACT);
	if (!text)
		goto oom;
	p[0] = table;
	p[1] = record_id;
	p[2] = text;
	rc = store_exec(s, what,
			"INSERT INTO airtable_writes (table_id, record_id, field, last_written_value)"
			" SELECT $1, $2, key, value FROM jsonb_each_text($3::jsonb)"
			" ON CONFLICT (table_id, record_id, field) DO UPDATE SET"
			" last_written_value = EXCLUDED.last_written_value, written_at = now()",
			3, p, NULL, e);
	goto out;
oom:
	serr_set(e, "cannot %s: out of memory", what);
out:
	free(text);
	json_decref(enc);
	return rc;
}

int airtable_value_same(const json_t *a, const json_t *b)
{
	size_t i;
	const char *k;
	json_t *v;

	if (!a || json_is_null(a) || !b || json_is_null(b))
		return (!a || json_is_null(a)) && (!b || json_is_null(b));
	if (json_is_number(a) && json_is_number(b)) {
		double x = json_number_value(a), y = json_number_value(b);
		double scale = fabs(x) > fabs(y) ? fabs(x) : fabs(y);

		return fabs(x - y) <= 1e-9 * (scale > 1 ? scale : 1);
	}
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		json_array_foreach(a, i, v)
			if (!airtable_value_same(v, json_array_get(b, i)))
				return 0;
		return 1;
	}
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, k, v)
			if (!airtable_value_same(v, json_object_get(b, k)))
				return 0;
		return 1;
	}
	return json_equal((json_t *)a, (json_t *)b);
}
