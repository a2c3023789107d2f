/* Stored matchmaking runs and their matches (see matches.h). */
#include "store/matches.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"

#define JOB_ID_MAX 63
#define HISTORY_MAX 1000

void match_run_init(struct match_run *r)
{
	memset(r, 0, sizeof(*r));
}

void match_run_free(struct match_run *r)
{
	if (!r)
		return;
	json_decref(r->weights);
	json_decref(r->excluded);
	free(r->results);
	match_run_init(r);
}

static int uuid_ok(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++, n++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		      (*s >= 'A' && *s <= 'F') || *s == '-'))
			return 0;
	return n == 36;
}

static int put_num(json_t *o, const char *k, double v)
{
	return json_object_set_new(o, k, json_real(v));
}

json_t *match_weights_json(const struct match_weights *w)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (put_num(o, "vector", w->vector) < 0 || put_num(o, "skills", w->skills) < 0 ||
	    put_num(o, "comp", w->comp) < 0 || put_num(o, "location", w->location) < 0 ||
	    put_num(o, "v_role", w->v_role) < 0 || put_num(o, "v_domain", w->v_domain) < 0 ||
	    put_num(o, "v_culture", w->v_culture) < 0 ||
	    put_num(o, "s_coverage", w->s_coverage) < 0 ||
	    put_num(o, "s_semantic", w->s_semantic) < 0 ||
	    put_num(o, "must_have", w->must_have) < 0 ||
	    put_num(o, "nice_to_have", w->nice_to_have) < 0 ||
	    put_num(o, "skill_sim_threshold", w->skill_sim_threshold) < 0 ||
	    put_num(o, "seniority_penalty_per_year", w->seniority_penalty_per_year) < 0 ||
	    put_num(o, "seniority_penalty_max", w->seniority_penalty_max) < 0 ||
	    put_num(o, "verified_boost", w->verified_boost) < 0 ||
	    json_object_set_new(o, "highlight_slots", json_integer(w->highlight_slots)) < 0 ||
	    put_num(o, "highlight_margin", w->highlight_margin) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int result_finite(const struct match_result *r)
{
	const double v[] = { r->score,	  r->vector, r->skills,	  r->comp,
			     r->location, r->penalty, r->boost,	  r->v_role,
			     r->v_domain, r->v_culture, r->s_coverage, r->s_semantic };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!isfinite(v[i]))
			return 0;
	return 1;
}

/* The matches as the JSON array jsonb_to_recordset reads. */
static json_t *results_json(const struct match_run_in *in, serr *e)
{
	json_t *a = json_array(), *o = NULL;

	if (!a)
		goto oom;
	for (size_t i = 0; i < in->n_results; i++) {
		const struct match_result *r = &in->results[i];

		if (!*r->record_id || !result_finite(r)) {
			serr_set(e, "cannot store the matches of job '%s': result %zu ('%s') has "
				    "no record id or a score that is not a number",
				 in->job_record_id, i + 1, r->record_id);
			goto fail;
		}
		o = json_pack("{s:s, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
			      "s:f, s:f, s:b, s:b, s:b}",
			      "candidate", r->record_id, "rank", (int)(i + 1), "score", r->score,
			      "vector", r->vector, "skills", r->skills, "comp", r->comp,
			      "location", r->location, "penalty", r->penalty, "boost", r->boost,
			      "v_role", r->v_role, "v_domain", r->v_domain, "v_culture",
			      r->v_culture, "s_coverage", r->s_coverage, "s_semantic",
			      r->s_semantic, "verified", r->verified != 0, "highlighted",
			      r->highlighted != 0, "surfaced", r->surfaced_by_highlight != 0);
		if (!o || json_array_append_new(a, o) < 0)
			goto oom;
	}
	return a;
oom:
	serr_set(e, "out of memory storing the matches of job '%s'", in->job_record_id);
fail:
	json_decref(a);
	return NULL;
}

static json_t *excluded_json(const struct match_run_in *in, serr *e)
{
	json_t *a = json_array(), *o;

	if (!a)
		goto oom;
	for (size_t i = 0; i < in->n_excluded; i++) {
		const struct match_exclusion *x = &in->excluded[i];

		o = json_pack("{s:s, s:o, s:s}", "record_id", x->record_id, "score",
			      isfinite(x->score) ? json_real(x->score) : json_null(), "reason",
			      x->reason ? x->reason : "excluded");
		if (!o || json_array_append_new(a, o) < 0)
			goto oom;
	}
	return a;
oom:
	serr_set(e, "out of memory storing the exclusions of job '%s'", in->job_record_id);
	json_decref(a);
	return NULL;
}

static int dump(const json_t *j, char **out, serr *e)
{
	*out = json_dumps(j, JSON_COMPACT);
	if (!*out)
		return serr_set(e, "out of memory serializing matches");
	return 0;
}

int matches_store_run(struct store *s, const struct match_run_in *in, char run_id_out[40],
		      serr *e)
{
	json_t *res = NULL, *exc = NULL, *wj = NULL;
	char *res_s = NULL, *exc_s = NULL, *w_s = NULL, pool[32];
	PGresult *r = NULL;
	int rc = -1, own_tx = 0;

	if (!in->job_record_id || !*in->job_record_id || strlen(in->job_record_id) > JOB_ID_MAX)
		return serr_set(e, "cannot store matches: the job record id is empty or longer "
				   "than %d characters",
				JOB_ID_MAX);
	if (in->n_results > MATCH_TOP || (in->n_results && !in->results))
		return serr_set(e, "cannot store the matches of job '%s': %zu results (at most %d)",
				in->job_record_id, in->n_results, MATCH_TOP);
	if (!in->weights)
		return serr_set(e, "cannot store the matches of job '%s': no weights",
				in->job_record_id);
	if (!(res = results_json(in, e)) || !(exc = excluded_json(in, e)))
		goto out;
	if (!(wj = match_weights_json(in->weights))) {
		serr_set(e, "out of memory storing the weights of job '%s'", in->job_record_id);
		goto out;
	}
	if (dump(res, &res_s, e) < 0 || dump(exc, &exc_s, e) < 0 || dump(wj, &w_s, e) < 0)
		goto out;
	snprintf(pool, sizeof(pool), "%zu", in->pool_size);
	if (!store_in_tx(s)) {
		if (store_begin(s, e) < 0)
			goto out;
		own_tx = 1;
	}
	{
		const char *p[] = { in->job_record_id,
				    uuid_ok(in->job_run_id) ? in->job_run_id : NULL,
				    pool, exc_s };
		if (store_exec(s, "record the match run",
			       "INSERT INTO match_runs (job_record_id, job_run_id, pool_size, excluded) "
			       "VALUES ($1, (SELECT id FROM runs WHERE id = $2::uuid), $3::int, "
			       "$4::jsonb) RETURNING run_id::text",
			       4, p, &r, e) < 0)
			goto fail;
	}
	if (run_id_out)
		snprintf(run_id_out, 40, "%s", PQgetvalue(r, 0, 0));
	{
		const char *p[] = { PQgetvalue(r, 0, 0), in->job_record_id, res_s, w_s };
		if (store_exec(s, "store the matches",
			       "INSERT INTO matches (job_record_id, candidate_record_id, run_id, rank, "
			       "score, vector, skills, comp, location, penalty, boost, v_role, "
			       "v_domain, v_culture, s_coverage, s_semantic, verified, highlighted, "
			       "surfaced_by_highlight, weights) "
			       "SELECT $2, x.candidate, $1::uuid, x.rank, x.score, x.vector, x.skills, "
			       "x.comp, x.location, x.penalty, x.boost, x.v_role, x.v_domain, "
			       "x.v_culture, x.s_coverage, x.s_semantic, x.verified, x.highlighted, "
			       "x.surfaced, $4::jsonb "
			       "FROM jsonb_to_recordset($3::jsonb) AS x(candidate text, rank int, "
			       "score float8, vector float8, skills float8, comp float8, "
			       "location float8, penalty float8, boost float8, v_role float8, "
			       "v_domain float8, v_culture float8, s_coverage float8, "
			       "s_semantic float8, verified bool, highlighted bool, surfaced bool)",
			       4, p, NULL, e) < 0)
			goto fail;
	}
	if (own_tx && store_commit(s, e) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	serr_wrap(e, "job '%s'", in->job_record_id);
	if (own_tx)
		store_rollback(s);
out:
	PQclear(r);
	free(res_s);
	free(exc_s);
	free(w_s);
	json_decref(res);
	json_decref(exc);
	json_decref(wj);
	return rc;
}

static double num(const char *v)
{
	double d = NAN;

	if (!v || parse_double(v, &d) < 0)
		return NAN;
	return d;
}

static int flag(const char *v)
{
	return v && (strcmp(v, "t") == 0 || strcmp(v, "true") == 0);
}

/* Fill out from a match_runs row (run_id, job, job_run_id, created_at, pool, weights-less). */
static int run_from_row(struct store *s, PGresult *run, struct match_run *out, serr *e)
{
	PGresult *r = NULL;
	json_error_t je;
	int rc = -1;
	size_t n;

	snprintf(out->run_id, sizeof(out->run_id), "%s", PQgetvalue(run, 0, 0));
	snprintf(out->job_record_id, sizeof(out->job_record_id), "%s", PQgetvalue(run, 0, 1));
	snprintf(out->job_run_id, sizeof(out->job_run_id), "%s", PQgetvalue(run, 0, 2));
	snprintf(out->created_at, sizeof(out->created_at), "%s", PQgetvalue(run, 0, 3));
	out->pool_size = (size_t)num(PQgetvalue(run, 0, 4));
	out->excluded = json_loads(PQgetvalue(run, 0, 5), 0, &je);
	if (!out->excluded) {
		serr_set(e, "cannot read match run '%s': bad exclusions json: %s", out->run_id,
			 je.text);
		goto out;
	}
	{
		const char *p[] = { out->run_id };
		if (store_exec(s, "read the matches",
			       "SELECT candidate_record_id, rank, score, vector, skills, comp, "
			       "location, penalty, boost, v_role, v_domain, v_culture, s_coverage, "
			       "s_semantic, verified, highlighted, surfaced_by_highlight, weights "
			       "FROM matches WHERE run_id = $1::uuid ORDER BY rank",
			       1, p, &r, e) < 0)
			goto out;
	}
	n = (size_t)PQntuples(r);
	if (n) {
		out->results = calloc(n, sizeof(*out->results));
		if (!out->results) {
			serr_set(e, "out of memory reading match run '%s'", out->run_id);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct match_result *m = &out->results[i];
		int c = 0;

		snprintf(m->record_id, sizeof(m->record_id), "%s", PQgetvalue(r, (int)i, c++));
		c++; /* rank: the order */
		m->score = num(PQgetvalue(r, (int)i, c++));
		m->vector = num(PQgetvalue(r, (int)i, c++));
		m->skills = num(PQgetvalue(r, (int)i, c++));
		m->comp = num(PQgetvalue(r, (int)i, c++));
		m->location = num(PQgetvalue(r, (int)i, c++));
		m->penalty = num(PQgetvalue(r, (int)i, c++));
		m->boost = num(PQgetvalue(r, (int)i, c++));
		m->v_role = num(PQgetvalue(r, (int)i, c++));
		m->v_domain = num(PQgetvalue(r, (int)i, c++));
		m->v_culture = num(PQgetvalue(r, (int)i, c++));
		m->s_coverage = num(PQgetvalue(r, (int)i, c++));
		m->s_semantic = num(PQgetvalue(r, (int)i, c++));
		m->verified = flag(PQgetvalue(r, (int)i, c++));
		m->highlighted = flag(PQgetvalue(r, (int)i, c++));
		m->surfaced_by_highlight = flag(PQgetvalue(r, (int)i, c++));
		if (i == 0) {
			out->weights = json_loads(PQgetvalue(r, 0, c), 0, &je);
			if (!out->weights) {
				serr_set(e, "cannot read match run '%s': bad weights json: %s",
					 out->run_id, je.text);
				goto out;
			}
		}
	}
	out->n_results = n;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

#define RUN_COLUMNS                                                                         \
	"run_id::text, job_record_id, coalesce(job_run_id::text, ''), "                     \
	"to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "    \
	"pool_size, excluded::text "

static int read_run(struct store *s, const char *what, const char *sql, const char *param,
		    struct match_run *out, int *found, serr *e)
{
	PGresult *r = NULL;
	int rc = -1;

	match_run_init(out);
	*found = 0;
	if (store_exec(s, what, sql, 1, &param, &r, e) < 0)
		goto out;
	if (PQntuples(r) == 0) {
		rc = 0;
		goto out;
	}
	if (run_from_row(s, r, out, e) < 0) {
		match_run_free(out);
		goto out;
	}
	*found = 1;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int matches_latest(struct store *s, const char *job_record_id, struct match_run *out,
		   int *found, serr *e)
{
	if (read_run(s, "read the latest match run",
		     "SELECT " RUN_COLUMNS "FROM match_runs WHERE job_record_id = $1 "
		     "ORDER BY created_at DESC, run_id DESC LIMIT 1",
		     job_record_id, out, found, e) < 0)
		return serr_wrap(e, "job '%s'", job_record_id);
	return 0;
}

int matches_get_run(struct store *s, const char *run_id, struct match_run *out, int *found,
		    serr *e)
{
	if (!uuid_ok(run_id)) {
		match_run_init(out);
		*found = 0;
		return 0;
	}
	return read_run(s, "read a match run",
			"SELECT " RUN_COLUMNS "FROM match_runs WHERE run_id = $1::uuid", run_id,
			out, found, e);
}

int matches_history(struct store *s, const char *job_record_id, size_t limit,
		    struct match_run_summary **out, size_t *n, serr *e)
{
	PGresult *r = NULL;
	char lim[32];
	size_t rows;
	int rc = -1;

	*out = NULL;
	*n = 0;
	snprintf(lim, sizeof(lim), "%zu", limit == 0 || limit > HISTORY_MAX ? HISTORY_MAX : limit);
	{
		const char *p[] = { job_record_id, lim };
		if (store_exec(s, "read the match history",
			       "SELECT r.run_id::text, to_char(r.created_at AT TIME ZONE 'UTC', "
			       "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), r.pool_size, "
			       "jsonb_array_length(r.excluded), "
			       "(SELECT count(*) FROM matches m WHERE m.run_id = r.run_id), "
			       "t.score, coalesce(t.candidate_record_id, '') "
			       "FROM match_runs r LEFT JOIN matches t "
			       "ON t.run_id = r.run_id AND t.rank = 1 "
			       "WHERE r.job_record_id = $1 "
			       "ORDER BY r.created_at DESC, r.run_id DESC LIMIT $2::int",
			       2, p, &r, e) < 0)
			goto out;
	}
	rows = (size_t)PQntuples(r);
	if (rows) {
		*out = calloc(rows, sizeof(**out));
		if (!*out) {
			serr_set(e, "out of memory reading the match history of job '%s'",
				 job_record_id);
			goto out;
		}
	}
	for (size_t i = 0; i < rows; i++) {
		struct match_run_summary *m = &(*out)[i];

		snprintf(m->run_id, sizeof(m->run_id), "%s", PQgetvalue(r, (int)i, 0));
		snprintf(m->created_at, sizeof(m->created_at), "%s", PQgetvalue(r, (int)i, 1));
		m->pool_size = (size_t)num(PQgetvalue(r, (int)i, 2));
		m->n_excluded = (size_t)num(PQgetvalue(r, (int)i, 3));
		m->n_results = (size_t)num(PQgetvalue(r, (int)i, 4));
		m->top_score = PQgetisnull(r, (int)i, 5) ? NAN : num(PQgetvalue(r, (int)i, 5));
		snprintf(m->top_candidate, sizeof(m->top_candidate), "%s",
			 PQgetvalue(r, (int)i, 6));
	}
	*n = rows;
	rc = 0;
out:
	if (rc < 0)
		serr_wrap(e, "job '%s'", job_record_id);
	PQclear(r);
	return rc;
}
