/* Embedding vectors of records and the embedding cache (see vectors.h). */
#include "store/vectors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"

#define RECORD_ID_MAX 256
#define MODEL_MAX 190
#define KIND_MAX 300
/* Rows per INSERT statement and hashes per lookup. */
#define ROWS_PER_STATEMENT 100
#define HASHES_PER_LOOKUP 1000

static const char *const vector_tables[] = { "candidate_vectors", "job_vectors" };

void embedding_text_hash(const char *text, char out[65])
{
	sha256_hex(text ? text : "", text ? strlen(text) : 0, out);
}

static int hash_ok(const char *h)
{
	if (!h || strlen(h) != 64)
		return 0;
	for (; *h; h++)
		if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
			return 0;
	return 1;
}

static int space_check(const char *what, const char *model, int dimensions, serr *e)
{
	if (!model || !*model || strlen(model) > MODEL_MAX)
		return serr_set(e, "cannot %s: the model name is empty or longer than %d", what,
				MODEL_MAX);
	if (dimensions < 1 || dimensions > VECTOR_MAX_DIMENSIONS)
		return serr_set(e, "cannot %s: %d dimensions is outside 1..%d", what, dimensions,
				VECTOR_MAX_DIMENSIONS);
	return 0;
}

/* A PostgreSQL array literal of the floats, with enough digits to read back exactly. */
static int vector_literal(struct buf *b, const float *v, int dimensions, const char *what,
			  serr *e)
{
	if (buf_putc(b, '{') < 0)
		goto full;
	for (int i = 0; i < dimensions; i++) {
		if (!isfinite(v[i]))
			return serr_set(e, "cannot %s: value %d of a vector is not a finite number",
					what, i);
		if (buf_printf(b, i ? ",%.9g" : "%.9g", (double)v[i]) < 0)
			goto full;
	}
	if (buf_putc(b, '}') == 0)
		return 0;
full:
	return serr_set(e, "cannot %s: the statement is over %zu bytes", what, b->max);
}

/* Parse "{1.5,-2,...}" with exactly dimensions finite values into out. */
static int vector_parse(const char *s, float *out, int dimensions)
{
	const char *p = s;
	int i = 0;

	if (!s || *p++ != '{')
		return -1;
	while (*p && *p != '}') {
		char *end;
		float f;

		if (i == dimensions)
			return -1;
		f = strtof(p, &end);
		if (end == p || !isfinite(f))
			return -1;
		out[i++] = f;
		p = end;
		if (*p == ',')
			p++;
	}
	return (*p == '}' && p[1] == '\0' && i == dimensions) ? 0 : -1;
}

void vector_set_init(struct vector_set *v)
{
	memset(v, 0, sizeof(*v));
}

void vector_set_free(struct vector_set *v)
{
	free(v->mem);
	vector_set_init(v);
}

/* One INSERT of rows [from, to) with parameters $1 record, $2 model, $3 dimensions, then 3 per row. */
static int insert_rows(struct store *s, const char *table, const char *record_id,
		       const char *model, const char *dims_text, int dimensions,
		       const struct vector_row *rows, size_t from, size_t to, const char *what,
		       serr *e)
{
	struct buf sql, *lits = NULL;
	const char **p = NULL;
	size_t n = to - from, np = 3 + 3 * n;
	int rc = -1;

	buf_init(&sql, 0);
	p = calloc(np, sizeof(*p));
	lits = calloc(n, sizeof(*lits));
	if (!p || !lits) {
		serr_set(e, "cannot %s: out of memory", what);
		goto out;
	}
	p[0] = record_id;
	p[1] = model;
	p[2] = dims_text;
	if (buf_printf(&sql, "INSERT INTO %s (record_id, kind, model, dimensions, vector, text_hash)"
			     " VALUES ",
		       table) < 0)
		goto full;
	for (size_t i = 0; i < n; i++) {
		size_t k = 3 + 3 * i;

		buf_init(&lits[i], 0);
		if (vector_literal(&lits[i], rows[from + i].values, dimensions, what, e) < 0)
			goto out;
		p[k] = rows[from + i].kind;
		p[k + 1] = buf_cstr(&lits[i]);
		p[k + 2] = rows[from + i].text_hash;
		if (buf_printf(&sql, "%s($1, $%zu, $2, $3::int, $%zu::real[], $%zu)", i ? ", " : "",
			       k + 1, k + 2, k + 3) < 0)
			goto full;
	}
	rc = store_exec(s, what, buf_cstr(&sql), (int)np, p, NULL, e);
	goto out;
full:
	serr_set(e, "cannot %s: the statement does not fit in memory", what);
out:
	for (size_t i = 0; lits && i < n; i++)
		buf_free(&lits[i]);
	free(lits);
	free(p);
	buf_free(&sql);
	return rc;
}

int vectors_replace(struct store *s, enum vector_owner owner, const char *record_id,
		    const char *model, int dimensions, const struct vector_row *rows, size_t n,
		    serr *e)
{
	char what[RECORD_ID_MAX + 64], sql[96], dims_text[16];
	const char *table, *p[1] = { record_id };

	if ((int)owner < 0 || (int)owner > VECTOR_JOB)
		return serr_set(e, "cannot replace vectors: unknown owner kind %d", (int)owner);
	table = vector_tables[owner];
	snprintf(what, sizeof(what), "replace the vectors of %s '%s'",
		 owner == VECTOR_JOB ? "job" : "candidate", record_id ? record_id : "");
	if (!record_id || !*record_id || strlen(record_id) > RECORD_ID_MAX)
		return serr_set(e, "cannot %s: the record id is empty or too long", what);
	if (space_check(what, model, dimensions, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!rows[i].kind || !*rows[i].kind || strlen(rows[i].kind) > KIND_MAX)
			return serr_set(e, "cannot %s: vector %zu has no kind or one over %d bytes",
					what, i, KIND_MAX);
		if (!hash_ok(rows[i].text_hash))
			return serr_set(e, "cannot %s: vector '%.60s' has a text hash that is not 64 "
					   "lowercase hex characters",
					what, rows[i].kind);
		if (!rows[i].values)
			return serr_set(e, "cannot %s: vector '%.60s' has no values", what,
					rows[i].kind);
	}
	if (store_in_tx(s))
		return serr_set(e, "cannot %s inside an open transaction: it needs its own", what);
	snprintf(dims_text, sizeof(dims_text), "%d", dimensions);
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE record_id = $1", table);
	if (store_begin(s, e) < 0)
		return -1;
	if (store_exec(s, what, sql, 1, p, NULL, e) < 0)
		goto fail;
	for (size_t from = 0; from < n; from += ROWS_PER_STATEMENT) {
		size_t to = from + ROWS_PER_STATEMENT < n ? from + ROWS_PER_STATEMENT : n;

		if (insert_rows(s, table, record_id, model, dims_text, dimensions, rows, from, to,
				what, e) < 0)
			goto fail;
	}
	if (store_commit(s, e) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(s);
	return -1;
}

int vectors_read(struct store *s, enum vector_owner owner, const char *record_id,
		 const char *model, int dimensions, struct vector_set *out, serr *e)
{
	char what[RECORD_ID_MAX + 64], sql[160], dims_text[16];
	const char *p[3];
	PGresult *r = NULL;
	size_t n, rows_bytes, floats_bytes, str_bytes = 0, total;
	char *strs;
	float *vals;
	int rc = -1;

	vector_set_free(out);
	if ((int)owner < 0 || (int)owner > VECTOR_JOB)
		return serr_set(e, "cannot read vectors: unknown owner kind %d", (int)owner);
	snprintf(what, sizeof(what), "read the vectors of %s '%s'",
		 owner == VECTOR_JOB ? "job" : "candidate", record_id ? record_id : "");
	if (!record_id || !*record_id || strlen(record_id) > RECORD_ID_MAX)
		return serr_set(e, "cannot %s: the record id is empty or too long", what);
	if (space_check(what, model, dimensions, e) < 0)
		return -1;
	snprintf(dims_text, sizeof(dims_text), "%d", dimensions);
	snprintf(sql, sizeof(sql),
		 "SELECT kind, text_hash, vector::text FROM %s WHERE record_id = $1"
		 " AND model = $2 AND dimensions = $3::int ORDER BY kind",
		 vector_tables[owner]);
	p[0] = record_id;
	p[1] = model;
	p[2] = dims_text;
	if (store_exec(s, what, sql, 3, p, &r, e) < 0)
		return -1;
	n = (size_t)PQntuples(r);
	for (size_t i = 0; i < n; i++)
		str_bytes += (size_t)PQgetlength(r, (int)i, 0) + (size_t)PQgetlength(r, (int)i, 1) + 2;
	if (size_mul(n, sizeof(struct vector_row), &rows_bytes) < 0 ||
	    size_mul(n, (size_t)dimensions * sizeof(float), &floats_bytes) < 0 ||
	    size_add(rows_bytes, floats_bytes, &total) < 0 || size_add(total, str_bytes, &total) < 0 ||
	    !(out->mem = malloc(total ? total : 1))) {
		serr_set(e, "cannot %s: out of memory for %zu vectors", what, n);
		goto out;
	}
	out->rows = out->mem;
	vals = (float *)((char *)out->mem + rows_bytes);
	strs = (char *)out->mem + rows_bytes + floats_bytes;
	for (size_t i = 0; i < n; i++) {
		size_t kl = (size_t)PQgetlength(r, (int)i, 0), hl = (size_t)PQgetlength(r, (int)i, 1);
		float *v = vals + i * (size_t)dimensions;

		if (vector_parse(PQgetvalue(r, (int)i, 2), v, dimensions) < 0) {
			serr_set(e, "cannot %s: vector '%.60s' is not %d finite numbers", what,
				 PQgetvalue(r, (int)i, 0), dimensions);
			goto out;
		}
		memcpy(strs, PQgetvalue(r, (int)i, 0), kl + 1);
		out->rows[i].kind = strs;
		strs += kl + 1;
		memcpy(strs, PQgetvalue(r, (int)i, 1), hl + 1);
		out->rows[i].text_hash = strs;
		strs += hl + 1;
		out->rows[i].values = v;
	}
	out->n = n;
	out->dimensions = dimensions;
	snprintf(out->model, sizeof(out->model), "%s", model);
	rc = 0;
out:
	PQclear(r);
	if (rc < 0)
		vector_set_free(out);
	return rc;
}

/* Requested hashes sorted, so each row found fills every index asking for it. */
struct wanted {
	const char *hash;
	size_t index;
};

static int cmp_wanted(const void *a, const void *b)
{
	return strcmp(((const struct wanted *)a)->hash, ((const struct wanted *)b)->hash);
}

static int lookup_chunk(struct store *s, const char *what, const char *model,
			const char *dims_text, int dimensions, const char *const *hashes,
			size_t from, size_t to, float *out, unsigned char *hit, size_t *hits,
			serr *e)
{
	struct buf arr;
	struct wanted *w = NULL;
	const char *p[3];
	PGresult *r = NULL;
	size_t n = to - from;
	int rc = -1;

	buf_init(&arr, 0);
	w = calloc(n, sizeof(*w));
	if (!w) {
		serr_set(e, "cannot %s: out of memory", what);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		w[i].hash = hashes[from + i];
		w[i].index = from + i;
	}
	qsort(w, n, sizeof(*w), cmp_wanted);
	if (store_text_array(&arr, hashes + from, n) < 0) {
		serr_set(e, "cannot %s: out of memory", what);
		goto out;
	}
	p[0] = model;
	p[1] = dims_text;
	p[2] = buf_cstr(&arr);
	if (store_exec(s, what,
		       "SELECT text_hash, vector::text FROM embedding_cache WHERE model = $1"
		       " AND dimensions = $2::int AND text_hash = ANY($3::text[])",
		       3, p, &r, e) < 0)
		goto out;
	for (int row = 0; row < PQntuples(r); row++) {
		struct wanted key = { PQgetvalue(r, row, 0), 0 }, *m;

		m = bsearch(&key, w, n, sizeof(*w), cmp_wanted);
		if (!m)
			continue;
		while (m > w && strcmp((m - 1)->hash, key.hash) == 0)
			m--;
		for (; m < w + n && strcmp(m->hash, key.hash) == 0; m++) {
			if (vector_parse(PQgetvalue(r, row, 1), out + m->index * (size_t)dimensions,
					 dimensions) < 0) {
				serr_set(e, "cannot %s: cached vector %.12s... is not %d finite numbers",
					 what, key.hash, dimensions);
				goto out;
			}
			if (!hit[m->index])
				(*hits)++;
			hit[m->index] = 1;
		}
	}
	rc = 0;
out:
	PQclear(r);
	buf_free(&arr);
	free(w);
	return rc;
}

int embedding_cache_get_many(struct store *s, const char *model, int dimensions,
			     const char *const *hashes, size_t n, float *out, unsigned char *hit,
			     size_t *hits, serr *e)
{
	const char *what = "look texts up in the embedding cache";
	char dims_text[16];

	*hits = 0;
	if (space_check(what, model, dimensions, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		hit[i] = 0;
		if (!hash_ok(hashes[i]))
			return serr_set(e, "cannot %s: hash %zu is not 64 lowercase hex characters",
					what, i);
	}
	snprintf(dims_text, sizeof(dims_text), "%d", dimensions);
	for (size_t from = 0; from < n; from += HASHES_PER_LOOKUP) {
		size_t to = from + HASHES_PER_LOOKUP < n ? from + HASHES_PER_LOOKUP : n;

		if (lookup_chunk(s, what, model, dims_text, dimensions, hashes, from, to, out, hit,
				 hits, e) < 0)
			return -1;
	}
	return 0;
}

/* Where put_chunk writes: the statement around the rows (constants, never data). */
struct put_target {
	const char *insert; /* "INSERT INTO t (model, dimensions, key, vector) VALUES " */
	const char *conflict;
};

static const struct put_target cache_target = {
	"INSERT INTO embedding_cache (model, dimensions, text_hash, vector) VALUES ",
	" ON CONFLICT (model, dimensions, text_hash) DO NOTHING"
};

static const struct put_target names_target = {
	"INSERT INTO skill_name_vectors (model, dimensions, canonical, vector) VALUES ",
	" ON CONFLICT (model, dimensions, canonical) DO NOTHING"
};

static int put_chunk(struct store *s, const struct put_target *t, const char *what,
		     const char *model, const char *dims_text, int dimensions,
		     const char *const *hashes, const float *vectors, size_t from, size_t to,
		     serr *e)
{
	struct buf sql, *lits = NULL;
	const char **p = NULL;
	size_t n = to - from, np = 2 + 2 * n;
	int rc = -1;

	buf_init(&sql, 0);
	p = calloc(np, sizeof(*p));
	lits = calloc(n, sizeof(*lits));
	if (!p || !lits) {
		serr_set(e, "cannot %s: out of memory", what);
		goto out;
	}
	p[0] = model;
	p[1] = dims_text;
	if (buf_puts(&sql, t->insert) < 0)
		goto full;
	for (size_t i = 0; i < n; i++) {
		size_t k = 2 + 2 * i;

		buf_init(&lits[i], 0);
		if (vector_literal(&lits[i], vectors + (from + i) * (size_t)dimensions, dimensions,
				   what, e) < 0)
			goto out;
		p[k] = hashes[from + i];
		p[k + 1] = buf_cstr(&lits[i]);
		if (buf_printf(&sql, "%s($1, $2::int, $%zu, $%zu::real[])", i ? ", " : "", k + 1,
			       k + 2) < 0)
			goto full;
	}
	if (buf_puts(&sql, t->conflict) < 0)
		goto full;
	rc = store_exec(s, what, buf_cstr(&sql), (int)np, p, NULL, e);
	goto out;
full:
	serr_set(e, "cannot %s: the statement does not fit in memory", what);
out:
	for (size_t i = 0; lits && i < n; i++)
		buf_free(&lits[i]);
	free(lits);
	free(p);
	buf_free(&sql);
	return rc;
}

/* Every row, ROWS_PER_STATEMENT to a statement. */
static int put_all(struct store *s, const struct put_target *t, const char *what,
		   const char *model, int dimensions, const char *const *keys,
		   const float *vectors, size_t n, serr *e)
{
	char dims_text[16];

	snprintf(dims_text, sizeof(dims_text), "%d", dimensions);
	for (size_t from = 0; from < n; from += ROWS_PER_STATEMENT) {
		size_t to = from + ROWS_PER_STATEMENT < n ? from + ROWS_PER_STATEMENT : n;

		if (put_chunk(s, t, what, model, dims_text, dimensions, keys, vectors, from, to,
			      e) < 0)
			return -1;
	}
	return 0;
}

int embedding_cache_put_many(struct store *s, const char *model, int dimensions,
			     const char *const *hashes, const float *vectors, size_t n, serr *e)
{
	const char *what = "store vectors in the embedding cache";

	if (space_check(what, model, dimensions, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!hash_ok(hashes[i]))
			return serr_set(e, "cannot %s: hash %zu is not 64 lowercase hex characters",
					what, i);
	return put_all(s, &cache_target, what, model, dimensions, hashes, vectors, n, e);
}

int skill_name_vectors_have(struct store *s, const char *model, int dimensions,
			    const char *const *names, size_t n, unsigned char *have, serr *e)
{
	const char *what = "look skill name vectors up";
	struct buf arr;
	char dims_text[16];
	PGresult *r = NULL;
	int rc = -1;

	buf_init(&arr, 0);
	memset(have, 0, n);
	if (space_check(what, model, dimensions, e) < 0)
		return -1;
	if (n == 0)
		return 0;
	snprintf(dims_text, sizeof(dims_text), "%d", dimensions);
	if (store_text_array(&arr, names, n) < 0) {
		serr_set(e, "cannot %s: out of memory", what);
		goto out;
	}
	{
		const char *p[] = { model, dims_text, buf_cstr(&arr) };

		if (store_exec(s, what,
			       "SELECT canonical FROM skill_name_vectors WHERE model = $1 "
			       "AND dimensions = $2::int AND canonical = ANY($3::text[])",
			       3, p, &r, e) < 0)
			goto out;
	}
	for (int row = 0; row < PQntuples(r); row++)
		for (size_t i = 0; i < n; i++)
			if (strcmp(PQgetvalue(r, row, 0), names[i]) == 0)
				have[i] = 1;
	rc = 0;
out:
	PQclear(r);
	buf_free(&arr);
	return rc;
}

int skill_name_vectors_put(struct store *s, const char *model, int dimensions,
			   const char *const *names, const float *vectors, size_t n, serr *e)
{
	const char *what = "store skill name vectors";

	if (space_check(what, model, dimensions, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!names[i] || !*names[i] || strlen(names[i]) > KIND_MAX)
			return serr_set(e, "cannot %s: skill name %zu is empty or longer than %d",
					what, i, KIND_MAX);
	return put_all(s, &names_target, what, model, dimensions, names, vectors, n, e);
}
