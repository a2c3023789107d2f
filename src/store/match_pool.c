/*
 * The candidate pool loader and its process-wide cache, and the loader of
 * one job (see match_pool.h).
 */
#include "store/match_pool.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "store/match_rows.h"

/* Candidates read per round of statements: bounds the memory of one result.
 * Tests lower it (pool_cache_chunk_set) to exercise many rounds. */
#define CHUNK 256
static size_t chunk_size = CHUNK;
/* A full load fetches over a second connection (benches turn it off to
 * measure what it saves). */
static int side_enabled = 1;
/* Vectors of one candidate beyond this are left out (with a warning). */
#define CANDIDATE_VECTORS_MAX 1000
#define RECORD_ID_MAX 31

/* Growable float scratch space reused across candidates. */
struct fvec {
	float *v;
	size_t cap; /* floats */
};

static int fvec_reserve(struct fvec *f, size_t n)
{
	size_t bytes;
	float *nv;

	if (n <= f->cap)
		return 0;
	if (n < 2 * f->cap)
		n = 2 * f->cap;
	if (size_mul(n, sizeof(float), &bytes) < 0)
		return -1;
	nv = realloc(f->v, bytes);
	if (!nv)
		return -1;
	f->v = nv;
	f->cap = n;
	return 0;
}

static void fvec_free(struct fvec *f)
{
	free(f->v);
	f->v = NULL;
	f->cap = 0;
}

/* What one candidate is built from while its chunk is read. */
struct cand_scratch {
	struct fvec narr, pos, proj, skv, ratings;
	const char **names;
	size_t names_cap;
};

static void cand_scratch_free(struct cand_scratch *c)
{
	fvec_free(&c->narr);
	fvec_free(&c->pos);
	fvec_free(&c->proj);
	fvec_free(&c->skv);
	fvec_free(&c->ratings);
	free(c->names);
}

static int names_reserve(struct cand_scratch *c, size_t n)
{
	size_t bytes;
	const char **nn;

	if (n <= c->names_cap)
		return 0;
	if (size_mul(n, sizeof(*nn), &bytes) < 0)
		return -1;
	nn = realloc(c->names, bytes);
	if (!nn)
		return -1;
	c->names = nn;
	c->names_cap = n;
	return 0;
}

/* Append one vector to a growable block of rows. */
static int rows_add(struct fvec *f, size_t *nrows, int dim, const char *v, int len)
{
	size_t need;

	if (size_mul(*nrows + 1, (size_t)dim, &need) < 0 || fvec_reserve(f, need) < 0)
		return -2;
	if (match_real_array_parse(v, len, dim, f->v + *nrows * (size_t)dim) < 0)
		return -1;
	(*nrows)++;
	return 0;
}

/* Fill c's vectors from rows [*jc, end) of the vector result that belong to id. */
static int take_vectors(const PGresult *vr, int *jc, const char *id, int dim,
			struct cand_scratch *sc, struct match_candidate_in *c, serr *e)
{
	int nv = PQntuples(vr), taken = 0, rc;

	while (*jc < nv && strcmp(PQgetvalue(vr, *jc, 0), id) < 0)
		(*jc)++;
	for (; *jc < nv && strcmp(PQgetvalue(vr, *jc, 0), id) == 0; (*jc)++) {
		const char *kind = PQgetvalue(vr, *jc, 1), *v = PQgetvalue(vr, *jc, 2);
		int len = PQgetlength(vr, *jc, 2), k;

		if (++taken > CANDIDATE_VECTORS_MAX) {
			if (taken == CANDIDATE_VECTORS_MAX + 1)
				log_warn("candidate has too many vectors; the rest are left out",
					 "record=%s max=%d", id, CANDIDATE_VECTORS_MAX);
			continue;
		}
		rc = 0;
		if ((k = match_narrative_index(kind)) >= 0) {
			rc = match_real_array_parse(v, len, dim, sc->narr.v + (size_t)k * (size_t)dim);
			if (rc == 0)
				c->narrative[k] = sc->narr.v + (size_t)k * (size_t)dim;
		} else if (str_starts_with(kind, "position:")) {
			rc = rows_add(&sc->pos, &c->n_positions, dim, v, len);
		} else if (str_starts_with(kind, "project:")) {
			rc = rows_add(&sc->proj, &c->n_projects, dim, v, len);
		} else if (str_starts_with(kind, "skill:")) {
			for (size_t i = 0; i < c->n_skills; i++)
				if (strcmp(c->skill_names[i], kind + 6) == 0) {
					rc = match_real_array_parse(v, len, dim,
							      sc->skv.v + i * (size_t)dim);
					break;
				}
		}
		if (rc == -2)
			return serr_set(e, "out of memory loading the vectors of candidate '%s'",
					id);
		if (rc < 0)
			return serr_set(e, "cannot load vector '%s' of candidate '%s': not a real[] "
					   "of %d values without NULLs; re-run candidate_pipeline_job "
					   "for it",
					kind, id, dim);
	}
	return 0;
}

/* Fill c's skills (names borrowed from sr) from the rows of sr that belong to id. */
static int take_skills(const PGresult *sr, int *jb, const char *id, int dim,
		       struct cand_scratch *sc, struct match_candidate_in *c, serr *e)
{
	int ns = PQntuples(sr), first;
	size_t n, floats;

	while (*jb < ns && strcmp(PQgetvalue(sr, *jb, 0), id) < 0)
		(*jb)++;
	first = *jb;
	while (*jb < ns && strcmp(PQgetvalue(sr, *jb, 0), id) == 0)
		(*jb)++;
	n = (size_t)(*jb - first);
	if (names_reserve(sc, n + 1) < 0 || fvec_reserve(&sc->ratings, n + 1) < 0 ||
	    size_mul(n + 1, (size_t)dim, &floats) < 0 || fvec_reserve(&sc->skv, floats) < 0)
		return serr_set(e, "out of memory loading the skills of candidate '%s'", id);
	for (size_t i = 0; i < n; i++) {
		int rating = 0;

		sc->names[i] = PQgetvalue(sr, first + (int)i, 1);
		if (parse_int(PQgetvalue(sr, first + (int)i, 2), 1, 10, &rating) < 0)
			rating = 0;
		sc->ratings.v[i] = (float)rating;
	}
	for (size_t i = 0; i < n * (size_t)dim; i++)
		sc->skv.v[i] = NAN;
	c->skill_names = sc->names;
	c->skill_ratings = sc->ratings.v;
	c->skill_vectors = sc->skv.v;
	c->n_skills = n;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Remove the ids of the chunk that the candidate rows do not hold. */
static int remove_missing(struct match_pool *p, const char *const *ids, size_t n,
			  const PGresult *cr, size_t *removed, serr *e)
{
	const char **sorted = NULL;
	size_t bytes;
	int nc = PQntuples(cr), j = 0;

	if (size_mul(n, sizeof(*sorted), &bytes) < 0 || !(sorted = malloc(bytes ? bytes : 1)))
		return serr_set(e, "out of memory refreshing the candidate pool");
	memcpy(sorted, ids, bytes);
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	for (size_t i = 0; i < n; i++) {
		int c = 1;

		while (j < nc && (c = strcmp(PQgetvalue(cr, j, 0), sorted[i])) < 0)
			j++;
		if (j < nc && c == 0)
			continue;
		if (match_pool_remove(p, sorted[i]) == 1)
			(*removed)++;
	}
	free(sorted);
	return 0;
}

/* The three results one chunk of candidates is built from. */
struct chunk_rows {
	PGresult *cr, *sr, *vr;
};

static void chunk_rows_clear(struct chunk_rows *r)
{
	PQclear(r->cr);
	PQclear(r->sr);
	PQclear(r->vr);
	memset(r, 0, sizeof(*r));
}

static int fetch_chunk(struct store *s, const char *model, int dim, const char *const *ids,
		       size_t n, struct chunk_rows *out, serr *e)
{
	struct buf arr;
	char dims[16];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&arr, 0);
	snprintf(dims, sizeof(dims), "%d", dim);
	if (store_text_array(&arr, ids, n) < 0) {
		serr_set(e, "out of memory listing candidates to load");
		goto out;
	}
	{
		const char *pa[] = { buf_cstr(&arr) };
		const char *pv[] = { buf_cstr(&arr), model, dims };

		if (store_exec(s, "load candidates for matching",
			       "SELECT record_id, years_of_experience, comp_min_annual_usd, "
			       "comp_max_annual_usd, timezone, is_excluded, verified, highlighted "
			       "FROM normalized_candidates WHERE record_id = ANY($1::text[]) "
			       "ORDER BY record_id COLLATE \"C\"",
			       1, pa, &out->cr, e) < 0 ||
		    store_exec(s, "load candidate skills for matching",
			       "SELECT record_id, canonical, rating FROM candidate_skills "
			       "WHERE record_id = ANY($1::text[]) "
			       "ORDER BY record_id COLLATE \"C\", position",
			       1, pa, &out->sr, e) < 0 ||
		    match_exec_binary(s, "load candidate vectors for matching",
				"SELECT record_id, kind, vector FROM candidate_vectors "
				"WHERE record_id = ANY($1::text[]) AND model = $2 "
				"AND dimensions = $3::int ORDER BY record_id COLLATE \"C\", kind",
				3, pv, &out->vr, e) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		chunk_rows_clear(out);
	buf_free(&arr);
	return rc;
}

static int apply_chunk(struct match_pool *p, int dim, const char *const *ids, size_t n,
		       const struct chunk_rows *rows, struct cand_scratch *sc, size_t *loaded,
		       size_t *removed, serr *e)
{
	const PGresult *cr = rows->cr;
	int jb = 0, jc = 0;
	size_t nfl;

	if (size_mul((size_t)MN_COUNT, (size_t)dim, &nfl) < 0 || fvec_reserve(&sc->narr, nfl) < 0)
		return serr_set(e, "out of memory loading candidates");
	for (int i = 0; i < PQntuples(cr); i++) {
		struct match_candidate_in c;
		const char *id = PQgetvalue(cr, i, 0);

		memset(&c, 0, sizeof(c));
		c.record_id = id;
		if (strlen(id) > RECORD_ID_MAX) {
			log_warn("candidate record id too long for matching; left out", "record=%s",
				 id);
			continue;
		}
		c.years_experience = match_num_or_nan(cr, i, 1);
		c.comp_min_usd = match_num_or_nan(cr, i, 2);
		c.comp_max_usd = match_num_or_nan(cr, i, 3);
		c.timezone = PQgetisnull(cr, i, 4) ? NULL : PQgetvalue(cr, i, 4);
		c.excluded = match_is_true(cr, i, 5);
		c.verified = match_is_true(cr, i, 6);
		c.highlighted = match_is_true(cr, i, 7);
		if (take_skills(rows->sr, &jb, id, dim, sc, &c, e) < 0 ||
		    take_vectors(rows->vr, &jc, id, dim, sc, &c, e) < 0)
			return -1;
		if (c.n_positions)
			c.positions = sc->pos.v;
		if (c.n_projects)
			c.projects = sc->proj.v;
		if (match_pool_upsert(p, &c, e) < 0)
			return serr_wrap(e, "candidate '%s'", id);
		(*loaded)++;
	}
	return remove_missing(p, ids, n, cr, removed, e);
}

/* A second connection fetching one chunk while the first fetches another:
 * turning vectors into their wire form is the server's main cost, and two
 * backends do it on two cores. */
struct side_fetch {
	struct store *s;
	const char *model;
	int dim;
	const char *const *ids;
	size_t n;
	struct chunk_rows rows;
	int rc;
	serr e;
};

static void *side_fetch_run(void *arg)
{
	struct side_fetch *f = arg;

	f->rc = fetch_chunk(f->s, f->model, f->dim, f->ids, f->n, &f->rows, &f->e);
	return NULL;
}

/* Read ids into p chunk by chunk; with side (a second connection on the same
 * snapshot, may be NULL) two chunks are fetched at a time. */
static int load_candidates(struct store *s, struct store *side, struct match_pool *p,
			   const char *model, int dim, const char *const *ids, size_t n,
			   size_t *loaded, size_t *removed, serr *e)
{
	struct cand_scratch sc;
	struct chunk_rows a, b;
	int rc = -1;

	memset(&sc, 0, sizeof(sc));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	*loaded = 0;
	*removed = 0;
	if (dim <= 0)
		return serr_set(e, "cannot load candidates: %d embedding dimensions", dim);
	for (size_t i = 0; i < n;) {
		size_t cs = chunk_size, m = n - i < cs ? n - i : cs, i2 = i + m;
		size_t m2 = side && i2 < n ? (n - i2 < cs ? n - i2 : cs) : 0;
		struct side_fetch f;
		pthread_t t;
		int started = 0;

		memset(&f, 0, sizeof(f));
		f.s = side;
		f.model = model;
		f.dim = dim;
		f.ids = ids + i2;
		f.n = m2;
		if (m2)
			started = pthread_create(&t, NULL, side_fetch_run, &f) == 0;
		if (m2 && !started)
			f.rc = fetch_chunk(s, model, dim, ids + i2, m2, &f.rows, &f.e);
		if (fetch_chunk(s, model, dim, ids + i, m, &a, e) < 0) {
			if (started)
				pthread_join(t, NULL);
			chunk_rows_clear(&f.rows);
			goto out;
		}
		if (started)
			pthread_join(t, NULL);
		b = f.rows;
		if (m2 && f.rc < 0) {
			if (!started) {
				*e = f.e; /* fetched on s: its transaction is aborted */
				goto out;
			}
			/* the second connection is only a speed-up: fetch its chunk
			 * here and go on without it */
			log_warn("candidate pool: the second connection failed; loading on one",
				 "error=\"%s\"", f.e.msg);
			side = NULL;
			if (fetch_chunk(s, model, dim, ids + i2, m2, &b, e) < 0)
				goto out;
		}
		if (apply_chunk(p, dim, ids + i, m, &a, &sc, loaded, removed, e) < 0 ||
		    (m2 && apply_chunk(p, dim, ids + i2, m2, &b, &sc, loaded, removed, e) < 0))
			goto out;
		chunk_rows_clear(&a);
		chunk_rows_clear(&b);
		i = i2 + m2;
	}
	rc = 0;
out:
	chunk_rows_clear(&a);
	chunk_rows_clear(&b);
	cand_scratch_free(&sc);
	return rc;
}

int pool_load_candidates(struct store *s, struct match_pool *p, const char *model,
			 int dimensions, const char *const *ids, size_t n, size_t *loaded,
			 size_t *removed, serr *e)
{
	return load_candidates(s, NULL, p, model, dimensions, ids, n, loaded, removed, e);
}

/*
 * A second read-only connection on the snapshot of s's open transaction, for
 * a full load: 1 when open; 0 and *side closed when it cannot be had (the
 * load then runs on s alone, which is correct, only slower); -1 with err
 * set when exporting the snapshot failed and s's transaction is aborted.
 */
static int open_side(struct store *s, struct store *side, serr *err)
{
	PGresult *r = NULL;
	struct buf sql;
	const char *id;
	serr e = { "" };
	int ok = 0;

	buf_init(&sql, 256);
	store_init(side);
	/* pg_export_snapshot cannot run under a savepoint: a failure here ends
	 * the load (its transaction is aborted), which the caller reports */
	if (store_exec(s, "export the pool snapshot", "SELECT pg_export_snapshot()", 0, NULL,
		       &r, err) < 0) {
		ok = -1;
		goto out;
	}
	id = PQgetvalue(r, 0, 0);
	/* the id goes into SQL text (SET TRANSACTION SNAPSHOT takes no parameter):
	 * only the server's hex-and-dash form is accepted */
	if (!*id || strlen(id) > 64 || strspn(id, "0123456789ABCDEFabcdef-") != strlen(id)) {
		serr_set(&e, "unexpected snapshot id '%.64s'", id);
		goto out;
	}
	/* lock_timeout: the load's own transaction holds its table locks, and a
	 * session queued for an exclusive lock behind it would otherwise block
	 * this connection forever (the wait is a thread join, which the
	 * server's deadlock detector cannot see); a timed-out chunk is fetched
	 * again on the first connection */
	if (store_open_like(side, s, &e) < 0 ||
	    store_exec(side, "begin the second pool connection",
		       "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL, &e) < 0 ||
	    buf_printf(&sql, "SET TRANSACTION SNAPSHOT '%s'", id) < 0 ||
	    store_exec(side, "share the pool snapshot", buf_cstr(&sql), 0, NULL, NULL, &e) < 0 ||
	    store_exec(side, "bound the second connection's lock waits",
		       "SET LOCAL lock_timeout = '2s'", 0, NULL, NULL, &e) < 0)
		goto out;
	ok = 1;
out:
	if (ok != 1) {
		if (ok == 0)
			log_debug("candidate pool loads on one connection", "reason=\"%s\"", e.msg);
		store_close(side);
	}
	PQclear(r);
	buf_free(&sql);
	return ok;
}

/*
 * Read the skill name vectors of the space into p: all of them (snap NULL),
 * or those written by transactions the snapshot snap did not see.
 */
static int load_name_vectors(struct store *s, struct match_pool *p, const char *model, int dim,
			     const char *snap, struct fvec *scratch, size_t *n_loaded, serr *e)
{
	PGresult *r = NULL;
	char dims[16];
	int rc = -1;

	*n_loaded = 0;
	snprintf(dims, sizeof(dims), "%d", dim);
	if (fvec_reserve(scratch, (size_t)dim) < 0)
		return serr_set(e, "out of memory loading skill name vectors");
	{
		const char *pv[] = { model, dims, snap };

		if (match_exec_binary(s, "load skill name vectors",
				snap ? "SELECT canonical, vector FROM skill_name_vectors "
				       "WHERE model = $1 AND dimensions = $2::int "
				       "AND xid >= pg_snapshot_xmin($3::pg_snapshot) "
				       "AND NOT pg_visible_in_snapshot(xid, $3::pg_snapshot)"
				     : "SELECT canonical, vector FROM skill_name_vectors "
				       "WHERE model = $1 AND dimensions = $2::int",
				snap ? 3 : 2, pv, &r, e) < 0)
			goto out;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		/* binary text is the bytes of the value, not NUL-terminated by contract */
		char name[301];
		int len = PQgetlength(r, i, 0);

		if (len <= 0 || len >= (int)sizeof(name)) {
			log_warn("skill name vector with an empty or over-long name; left out",
				 "bytes=%d", len);
			continue;
		}
		memcpy(name, PQgetvalue(r, i, 0), (size_t)len);
		name[len] = '\0';
		if (match_real_array_parse(PQgetvalue(r, i, 1), PQgetlength(r, i, 1), dim,
				     scratch->v) < 0) {
			serr_set(e, "cannot load the name vector of skill '%s': not a real[] of %d "
				    "values without NULLs", name, dim);
			goto out;
		}
		if (match_pool_skill_vector_put(p, name, scratch->v, e) < 0)
			goto out;
		(*n_loaded)++;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

/* The process-wide pool. */
static struct {
	pthread_mutex_t mu;
	struct match_pool *pool;
	char model[200];
	int dim;
	char db[600];
	/* the snapshot of the last load (pg_snapshot text): a change is new when
	 * its transaction was not visible to it */
	char *snap;
} cache = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void db_identity(struct store *s, char *out, size_t n)
{
	const char *h = PQhost(s->conn), *p = PQport(s->conn), *d = PQdb(s->conn);

	snprintf(out, n, "%s:%s/%s", h ? h : "", p ? p : "", d ? d : "");
}

/* Record ids from a one-column result, borrowed from it. */
static int ids_of(const PGresult *r, const char ***out, size_t *n, serr *e)
{
	size_t rows = (size_t)PQntuples(r), bytes;

	*out = NULL;
	*n = rows;
	if (size_mul(rows + 1, sizeof(**out), &bytes) < 0 || !(*out = malloc(bytes)))
		return serr_set(e, "out of memory listing %zu candidates", rows);
	for (size_t i = 0; i < rows; i++)
		(*out)[i] = PQgetvalue(r, (int)i, 0);
	return 0;
}

static int refresh_locked(struct store *s, const char *model, int dim, struct pool_refresh *st,
			  serr *e)
{
	PGresult *xr = NULL, *ir = NULL;
	const char **ids = NULL;
	char db[600], *snap = NULL;
	size_t n = 0;
	int rc = -1, own_tx = 0, full;

	db_identity(s, db, sizeof(db));
	if (cache.pool && (cache.dim != dim || strcmp(cache.model, model) != 0 ||
			   strcmp(cache.db, db) != 0)) {
		match_pool_free(cache.pool);
		cache.pool = NULL;
	}
	full = cache.pool == NULL;
	/* Its own transaction, always: inside a caller's, the caller's writes
	 * would count as seen by the snapshot and a rollback would leave them in
	 * the pool. */
	if (store_in_tx(s)) {
		serr_set(e, "cannot load the candidate pool inside an open transaction: "
			    "commit or roll it back first");
		goto out;
	}
	if (store_exec(s, "begin the candidate pool load",
		       "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL, e) < 0)
		goto out;
	own_tx = 1;
	if (store_exec(s, "read the snapshot of the candidate pool",
		       "SELECT pg_current_snapshot()::text", 0, NULL, &xr, e) < 0)
		goto out;
	if (!(snap = xstrdup(PQgetvalue(xr, 0, 0)))) {
		serr_set(e, "out of memory reading the snapshot of the candidate pool");
		goto out;
	}
	if (full) {
		if (!(cache.pool = match_pool_new(dim, e)))
			goto out;
		snprintf(cache.model, sizeof(cache.model), "%s", model);
		snprintf(cache.db, sizeof(cache.db), "%s", db);
		cache.dim = dim;
		if (store_exec(s, "list candidates for matching",
			       "SELECT record_id FROM normalized_candidates", 0, NULL, &ir, e) < 0)
			goto out;
	} else {
		/* Every change the last load saw was made by a transaction visible
		 * to its snapshot; the xmin bound keeps this an index range scan. */
		const char *p[] = { cache.snap };
		if (store_exec(s, "list changed candidates",
			       "SELECT record_id FROM candidate_pool_changes "
			       "WHERE xid >= pg_snapshot_xmin($1::pg_snapshot) "
			       "AND NOT pg_visible_in_snapshot(xid, $1::pg_snapshot)",
			       1, p, &ir, e) < 0)
			goto out;
	}
	if (ids_of(ir, &ids, &n, e) < 0)
		goto out;
	{
		struct fvec scratch = { NULL, 0 };
		int nrc = load_name_vectors(s, cache.pool, model, dim, full ? NULL : cache.snap,
					    &scratch, &st->names, e);

		fvec_free(&scratch);
		if (nrc < 0)
			goto out;
	}
	st->full = full;
	st->changed = full ? 0 : n;
	{
		struct store side;
		int have_side = 0, lrc;

		if (side_enabled && full && n > 2 * chunk_size &&
		    (have_side = open_side(s, &side, e)) < 0)
			goto out;
		lrc = load_candidates(s, have_side ? &side : NULL, cache.pool, model, dim, ids, n,
				      &st->loaded, &st->removed, e);
		if (have_side)
			store_close(&side);
		if (lrc < 0)
			goto out;
		st->connections = have_side ? 2 : 1;
	}
	if (own_tx && store_commit(s, e) < 0)
		goto out;
	own_tx = 0;
	free(cache.snap);
	cache.snap = snap;
	snap = NULL;
	st->pool_size = match_pool_size(cache.pool);
	rc = 0;
out:
	if (own_tx)
		store_rollback(s);
	if (rc < 0 && full && cache.pool) {
		/* a half-loaded pool must not pass for a complete one */
		match_pool_free(cache.pool);
		cache.pool = NULL;
	}
	free(ids);
	free(snap);
	PQclear(xr);
	PQclear(ir);
	return rc;
}

int pool_cache_acquire(struct store *s, const char *model, int dimensions,
		       const struct match_pool **out, struct pool_refresh *st, serr *e)
{
	int64_t t0 = mono_ms();

	*out = NULL;
	memset(st, 0, sizeof(*st));
	if (!model || !*model || dimensions <= 0 || dimensions > 16384)
		return serr_set(e, "cannot load the candidate pool: bad embedding space '%s' (%d "
				   "dimensions); check llm.embedding_model and "
				   "llm.embedding_dimensions",
				model ? model : "", dimensions);
	pthread_mutex_lock(&cache.mu);
	if (refresh_locked(s, model, dimensions, st, e) < 0) {
		pthread_mutex_unlock(&cache.mu);
		return serr_wrap(e, "cannot refresh the candidate pool");
	}
	st->ms = mono_ms() - t0;
	*out = cache.pool;
	return 0;
}

void pool_cache_release(void)
{
	pthread_mutex_unlock(&cache.mu);
}

void pool_cache_chunk_set(size_t n)
{
	pthread_mutex_lock(&cache.mu);
	chunk_size = n ? n : CHUNK;
	pthread_mutex_unlock(&cache.mu);
}

void pool_cache_second_connection_set(int on)
{
	pthread_mutex_lock(&cache.mu);
	side_enabled = on != 0;
	pthread_mutex_unlock(&cache.mu);
}

void pool_cache_drop(void)
{
	pthread_mutex_lock(&cache.mu);
	match_pool_free(cache.pool);
	cache.pool = NULL;
	free(cache.snap);
	cache.snap = NULL;
	pthread_mutex_unlock(&cache.mu);
}
