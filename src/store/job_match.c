/*
 * Loading one job in the matchmaking engine's form (see job_match.h).
 */
#include "store/job_match.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/match_rows.h"

void job_match_input_init(struct job_match_input *j)
{
	memset(j, 0, sizeof(*j));
}

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void job_match_input_free(struct job_match_input *j)
{
	if (!j)
		return;
	free(j->record_id);
	free(j->timezone);
	free(j->work_setup);
	free_strs(j->skill_names, j->in.n_skills);
	free(j->must_have);
	free(j->skill_vectors);
	free(j->skill_name_vectors);
	free(j->narratives);
	free_strs(j->rejected, j->n_rejected);
	job_match_input_init(j);
}

static char *dup_or_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : xstrdup(PQgetvalue(r, row, col));
}

static int job_skills_take(const PGresult *r, int dim, struct job_match_input *j, serr *e)
{
	size_t n = (size_t)PQntuples(r), bytes, floats;

	if (size_mul(n + 1, sizeof(char *), &bytes) < 0 || !(j->skill_names = calloc(n + 1, sizeof(char *))) ||
	    !(j->must_have = calloc(n + 1, sizeof(int))) ||
	    size_mul(n + 1, (size_t)dim, &floats) < 0 || size_mul(floats, sizeof(float), &bytes) < 0 ||
	    !(j->skill_vectors = malloc(bytes)))
		return serr_set(e, "out of memory loading the skills of job '%s'", j->record_id);
	if (!(j->skill_name_vectors = malloc(bytes)))
		return serr_set(e, "out of memory loading the skills of job '%s'", j->record_id);
	for (size_t i = 0; i < n * (size_t)dim; i++)
		j->skill_vectors[i] = j->skill_name_vectors[i] = NAN;
	for (size_t i = 0; i < n; i++) {
		if (!(j->skill_names[i] = xstrdup(PQgetvalue(r, (int)i, 0))))
			return serr_set(e, "out of memory loading the skills of job '%s'",
					j->record_id);
		j->in.n_skills = i + 1;
		j->must_have[i] = match_is_true(r, (int)i, 1);
	}
	return 0;
}

static int job_vectors_take(const PGresult *r, int dim, struct job_match_input *j, serr *e)
{
	for (int i = 0; i < PQntuples(r); i++) {
		const char *kind = PQgetvalue(r, i, 0), *v = PQgetvalue(r, i, 1);
		int len = PQgetlength(r, i, 1), k = match_narrative_index(kind), rc = 0;
		float *dst = NULL;

		if (k >= 0)
			dst = j->narratives + (size_t)k * (size_t)dim;
		else if (strcmp(kind, "narrative_role") == 0)
			dst = j->narratives + (size_t)MN_COUNT * (size_t)dim;
		else if (str_starts_with(kind, "requirement:"))
			for (size_t s = 0; s < j->in.n_skills; s++)
				if (strcmp(j->skill_names[s], kind + 12) == 0)
					dst = j->skill_vectors + s * (size_t)dim;
		if (!dst)
			continue;
		rc = match_real_array_parse(v, len, dim, dst);
		if (rc < 0)
			return serr_set(e, "cannot load vector '%s' of job '%s': not a real[] of %d "
					   "values without NULLs; re-run job_pipeline_job for it",
					kind, j->record_id, dim);
		if (k >= 0)
			j->in.narrative[k] = dst;
		else if (dst == j->narratives + (size_t)MN_COUNT * (size_t)dim)
			j->in.role = dst;
		j->n_vectors++;
	}
	return 0;
}

static int job_names_take(const PGresult *r, int dim, struct job_match_input *j, serr *e)
{
	for (int i = 0; i < PQntuples(r); i++)
		for (size_t k = 0; k < j->in.n_skills; k++)
			if (strcmp(j->skill_names[k], PQgetvalue(r, i, 0)) == 0 &&
			    match_real_array_parse(PQgetvalue(r, i, 1), PQgetlength(r, i, 1), dim,
					     j->skill_name_vectors + k * (size_t)dim) < 0)
				return serr_set(e, "cannot load the name vector of skill '%s' of job "
						   "'%s': not a real[] of %d values without NULLs",
						j->skill_names[k], j->record_id, dim);
	return 0;
}

static int job_rejected_take(const PGresult *r, struct job_match_input *j, serr *e)
{
	size_t n = (size_t)PQntuples(r);

	if (!(j->rejected = calloc(n + 1, sizeof(char *))))
		return serr_set(e, "out of memory loading the rejections of job '%s'",
				j->record_id);
	for (size_t i = 0; i < n; i++) {
		if (!(j->rejected[i] = xstrdup(PQgetvalue(r, (int)i, 0))))
			return serr_set(e, "out of memory loading the rejections of job '%s'",
					j->record_id);
		j->n_rejected = i + 1;
	}
	return 0;
}

int job_match_input_load(struct store *s, const char *model, int dimensions,
			 const char *job_record_id, struct job_match_input *out, int *found,
			 serr *e)
{
	PGresult *jr = NULL, *sr = NULL, *vr = NULL, *rr = NULL, *nr = NULL;
	char dims[16];
	size_t floats, bytes;
	int rc = -1;

	job_match_input_init(out);
	*found = 0;
	if (dimensions <= 0 || dimensions > 16384)
		return serr_set(e, "cannot load job '%s' for matching: %d embedding dimensions",
				job_record_id, dimensions);
	snprintf(dims, sizeof(dims), "%d", dimensions);
	{
		const char *p1[] = { job_record_id };
		const char *pv[] = { job_record_id, model, dims };

		if (store_exec(s, "load the job for matching",
			       "SELECT salary_min_annual_usd, salary_max_annual_usd, timezone, "
			       "work_setup, min_years_experience FROM normalized_jobs "
			       "WHERE record_id = $1",
			       1, p1, &jr, e) < 0)
			goto out;
		if (PQntuples(jr) == 0) {
			rc = 0;
			goto out;
		}
		if (store_exec(s, "load the job's required skills",
			       "SELECT canonical, kind = 'must_have' FROM job_required_skills "
			       "WHERE job_record_id = $1 "
			       "ORDER BY (kind = 'must_have') DESC, position",
			       1, p1, &sr, e) < 0 ||
		    match_exec_binary(s, "load the job's vectors",
				"SELECT kind, vector FROM job_vectors WHERE record_id = $1 "
				"AND model = $2 AND dimensions = $3::int ORDER BY kind",
				3, pv, &vr, e) < 0 ||
		    match_exec_binary(s, "load the name vectors of the job's skills",
				"SELECT s.canonical, v.vector FROM job_required_skills s "
				"JOIN skill_name_vectors v ON v.canonical = s.canonical "
				"AND v.model = $2 AND v.dimensions = $3::int "
				"WHERE s.job_record_id = $1",
				3, pv, &nr, e) < 0 ||
		    store_exec(s, "load the candidates rejected for the job",
			       "SELECT DISTINCT x FROM ats_rows a, unnest(a.ai_rejection || "
			       "a.talent_rejected_job || a.introduction_rejected || "
			       "a.interview_rejected || a.assignment_rejected || "
			       "a.negotiations_rejection) AS x "
			       "WHERE a.job_record_id = $1 ORDER BY x",
			       1, p1, &rr, e) < 0)
			goto out;
	}
	if (!(out->record_id = xstrdup(job_record_id)))
		goto oom;
	out->timezone = dup_or_null(jr, 0, 2);
	out->work_setup = dup_or_null(jr, 0, 3);
	if ((!PQgetisnull(jr, 0, 2) && !out->timezone) ||
	    (!PQgetisnull(jr, 0, 3) && !out->work_setup))
		goto oom;
	if (size_mul((size_t)MN_COUNT + 1, (size_t)dimensions, &floats) < 0 ||
	    size_mul(floats, sizeof(float), &bytes) < 0 || !(out->narratives = malloc(bytes)))
		goto oom;
	if (job_skills_take(sr, dimensions, out, e) < 0 ||
	    job_vectors_take(vr, dimensions, out, e) < 0 ||
	    job_names_take(nr, dimensions, out, e) < 0 || job_rejected_take(rr, out, e) < 0)
		goto out;
	out->in.record_id = out->record_id;
	out->in.salary_min_usd = match_num_or_nan(jr, 0, 0);
	out->in.salary_max_usd = match_num_or_nan(jr, 0, 1);
	out->in.timezone = out->timezone;
	out->in.work_setup = out->work_setup;
	out->in.min_years = match_num_or_nan(jr, 0, 4);
	out->in.skill_names = (const char *const *)out->skill_names;
	out->in.skill_vectors = out->skill_vectors;
	out->in.skill_name_vectors = out->skill_name_vectors;
	out->in.must_have = out->must_have;
	out->in.rejected = (const char *const *)out->rejected;
	out->in.n_rejected = out->n_rejected;
	*found = 1;
	rc = 0;
	goto out;
oom:
	serr_set(e, "out of memory loading job '%s' for matching", job_record_id);
out:
	if (rc < 0 || !*found)
		job_match_input_free(out);
	PQclear(jr);
	PQclear(sr);
	PQclear(vr);
	PQclear(rr);
	PQclear(nr);
	return rc;
}
