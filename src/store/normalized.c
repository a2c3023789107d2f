/* Normalized candidates and jobs, their child tables and role fitness (see normalized.h). */
#include "store/normalized.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/*
 * A JSON number as smallint when it is whole (8 and 8.0 alike), else NULL,
 * which the NOT NULL column refuses: a fraction is never rounded away.
 */
#define WHOLE(expr) \
	"CASE WHEN (" expr ")::numeric % 1 = 0 THEN (" expr ")::numeric::smallint END"

#define RECORD_ID_MAX 256
#define MODEL_MAX 190
#define HASH_MAX 72
#define EVIDENCE_MAX 4000

/* ---- common parts ---- */

/* Copy src into dst, cut (when too long) at a UTF-8 character boundary. */
static void copy_utf8(char *dst, size_t dstsz, const char *src)
{
	size_t n = strlen(src);

	if (n >= dstsz) {
		n = dstsz - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int record_id_check(const char *what, const char *id, serr *e)
{
	if (!id || !*id)
		return serr_set(e, "cannot %s: no record id", what);
	if (strlen(id) > RECORD_ID_MAX)
		return serr_set(e, "cannot %s: record id '%.40s...' is longer than %d characters",
				what, id, RECORD_ID_MAX);
	return 0;
}

static int stamp_check(const char *what, const struct normalized_in *in, serr *e)
{
	if (record_id_check(what, in->record_id, e) < 0)
		return -1;
	if (!in->model || !*in->model || strlen(in->model) > MODEL_MAX)
		return serr_set(e, "cannot %s '%s': the model name is empty or longer than %d", what,
				in->record_id, MODEL_MAX);
	if (in->prompt_version <= 0)
		return serr_set(e, "cannot %s '%s': prompt version %d is not positive", what,
				in->record_id, in->prompt_version);
	if (!in->input_hash || !*in->input_hash || strlen(in->input_hash) >= HASH_MAX)
		return serr_set(e, "cannot %s '%s': the input hash is empty or too long", what,
				in->record_id);
	if (!json_is_object(in->normalized))
		return serr_set(e, "cannot %s '%s': the normalized answer is not a JSON object",
				what, in->record_id);
	return 0;
}

int norm_stamp_equal(const struct norm_stamp *st, const char *model, int prompt_version,
		     const char *input_hash)
{
	return model && input_hash && st->prompt_version == prompt_version &&
	       strcmp(st->model, model) == 0 && strcmp(st->input_hash, input_hash) == 0;
}

static double num_or_nan(const PGresult *r, int row, int col)
{
	const char *v = store_val(r, row, col);
	double d;

	if (!v || parse_double(v, &d) < 0)
		return NAN;
	return d;
}

static int is_true(const PGresult *r, int row, int col)
{
	const char *v = store_val(r, row, col);

	return v && v[0] == 't';
}

static int int_at(const PGresult *r, int row, int col)
{
	const char *v = store_val(r, row, col);
	int n = 0;

	if (!v || parse_int(v, -2147483647, 2147483647, &n) < 0)
		return 0;
	return n;
}

/* One statement of a replace: its SQL and how many of the shared parameters it takes. */
struct stmt {
	const char *sql;
	int nparams;
};

/*
 * Run the statements in one transaction, each with the first nparams of
 * params. On any failure everything is rolled back and e says which step.
 */
static int run_in_tx(struct store *s, const char *what, const struct stmt *st, size_t n,
		     const char *const *params, serr *e)
{
	if (store_in_tx(s))
		return serr_set(e, "cannot %s inside an open transaction: it needs its own", what);
	if (store_begin(s, e) < 0)
		return serr_wrap(e, "cannot %s", what);
	for (size_t i = 0; i < n; i++)
		if (store_exec(s, what, st[i].sql, st[i].nparams, params, NULL, e) < 0)
			goto fail;
	if (store_commit(s, e) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(s);
	return -1;
}

/* The answer as compact JSON text (malloc'd), or NULL with e set. */
static char *answer_text(const char *what, const char *record_id, const json_t *answer, serr *e)
{
	char *t = json_dumps(answer, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!t)
		serr_set(e, "cannot %s '%s': cannot encode the answer as JSON", what, record_id);
	return t;
}

static int stamp_read(struct store *s, const char *table, const char *label,
		      const char *record_id, struct norm_stamp *out, int *found, serr *e)
{
	char what[RECORD_ID_MAX + 64], sql[160];
	const char *p[1] = { record_id };
	PGresult *r = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	*found = 0;
	snprintf(what, sizeof(what), "read the normalization stamp of %s '%s'", label,
		 record_id ? record_id : "");
	if (record_id_check(what, record_id, e) < 0)
		return -1;
	snprintf(sql, sizeof(sql),
		 "SELECT model, prompt_version, input_hash FROM %s WHERE record_id = $1", table);
	if (store_exec(s, what, sql, 1, p, &r, e) < 0)
		goto out;
	if (PQntuples(r) == 1) {
		snprintf(out->model, sizeof(out->model), "%s", PQgetvalue(r, 0, 0));
		out->prompt_version = int_at(r, 0, 1);
		snprintf(out->input_hash, sizeof(out->input_hash), "%s", PQgetvalue(r, 0, 2));
		*found = 1;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

/* Parse the jsonb column of row 0 into *out. */
static int parse_normalized(const char *what, const PGresult *r, int col, json_t **out, serr *e)
{
	json_error_t je;

	*out = json_loads(PQgetvalue(r, 0, col), 0, &je);
	if (!*out)
		return serr_set(e, "cannot %s: the stored answer is not JSON: %s", what, je.text);
	return 0;
}

/* ---- candidates ---- */

/*
 * $1 record id, $2 answer, $3 model, $4 prompt version, $5 input hash,
 * $6 injection flag, $7 evidence. The recruiter flags are left alone on
 * conflict: a new normalization does not undo a Fraud mark.
 */
static const struct stmt candidate_stmts[] = {
	{ "INSERT INTO normalized_candidates (record_id, model, prompt_version, input_hash,"
	  " normalized, full_name, seniority_level, years_of_experience, comp_min_annual_usd,"
	  " comp_max_annual_usd, comp_currency, comp_period, location_city, location_country,"
	  " timezone, prompt_injection_flag, prompt_injection_evidence, normalized_at)"
	  " SELECT $1, $3, $4::int, $5, n, n->>'full_name', n->>'seniority_level',"
	  " (n->>'years_of_experience')::float8, (n->'compensation'->>'annual_min_usd')::float8,"
	  " (n->'compensation'->>'annual_max_usd')::float8, n->'compensation'->>'currency',"
	  " n->'compensation'->>'period', n->'location'->>'city', n->'location'->>'country',"
	  " n->'location'->>'timezone', $6::boolean, $7, now()"
	  " FROM (SELECT $2::jsonb AS n) AS a"
	  " ON CONFLICT (record_id) DO UPDATE SET model = EXCLUDED.model,"
	  " prompt_version = EXCLUDED.prompt_version, input_hash = EXCLUDED.input_hash,"
	  " normalized = EXCLUDED.normalized, full_name = EXCLUDED.full_name,"
	  " seniority_level = EXCLUDED.seniority_level,"
	  " years_of_experience = EXCLUDED.years_of_experience,"
	  " comp_min_annual_usd = EXCLUDED.comp_min_annual_usd,"
	  " comp_max_annual_usd = EXCLUDED.comp_max_annual_usd,"
	  " comp_currency = EXCLUDED.comp_currency, comp_period = EXCLUDED.comp_period,"
	  " location_city = EXCLUDED.location_city, location_country = EXCLUDED.location_country,"
	  " timezone = EXCLUDED.timezone, prompt_injection_flag = EXCLUDED.prompt_injection_flag,"
	  " prompt_injection_evidence = EXCLUDED.prompt_injection_evidence,"
	  " normalized_at = EXCLUDED.normalized_at",
	  7 },
	{ "DELETE FROM candidate_skills WHERE record_id = $1", 1 },
	{ "DELETE FROM candidate_experiences WHERE record_id = $1", 1 },
	{ "DELETE FROM candidate_projects WHERE record_id = $1", 1 },
	{ "DELETE FROM candidate_attributes WHERE record_id = $1", 1 },
	{ "INSERT INTO candidate_skills (record_id, canonical, name, rating, evidence, position)"
	  " SELECT $1, x->>'canonical', x->>'name', " WHOLE("x->>'rating'") ", x->>'evidence',"
	  " (i - 1)::int FROM jsonb_array_elements($2::jsonb->'skills') WITH ORDINALITY AS t(x, i)",
	  2 },
	{ "INSERT INTO candidate_experiences (record_id, position, company, title, start_month,"
	  " end_month, description, domain)"
	  " SELECT $1, (i - 1)::int, x->>'company', x->>'title', x->>'start', x->>'end',"
	  " x->>'description', x->>'domain'"
	  " FROM jsonb_array_elements($2::jsonb->'experiences') WITH ORDINALITY AS t(x, i)",
	  2 },
	{ "INSERT INTO candidate_projects (record_id, position, name, kind, description, url,"
	  " skills)"
	  " SELECT $1, (i - 1)::int, x->>'name', x->>'kind', x->>'description', x->>'url',"
	  " ARRAY(SELECT jsonb_array_elements_text(x->'skills'))"
	  " FROM jsonb_array_elements($2::jsonb->'projects') WITH ORDINALITY AS t(x, i)",
	  2 },
	{ "INSERT INTO candidate_attributes (record_id, position, name, value, evidence)"
	  " SELECT $1, (i - 1)::int, x->>'name', x->>'value', x->>'evidence'"
	  " FROM jsonb_array_elements($2::jsonb->'soft_attributes') WITH ORDINALITY AS t(x, i)",
	  2 },
};

static int replace_with(struct store *s, const char *label, const struct normalized_in *in,
			const struct stmt *st, size_t n, serr *e)
{
	char what[RECORD_ID_MAX + 64], version[16], evidence[EVIDENCE_MAX + 1];
	const char *p[7];
	char *json = NULL;
	int rc = -1;

	snprintf(what, sizeof(what), "store the normalized %s '%s'", label,
		 in->record_id ? in->record_id : "");
	if (stamp_check(what, in, e) < 0)
		return -1;
	json = answer_text(what, in->record_id, in->normalized, e);
	if (!json)
		return -1;
	snprintf(version, sizeof(version), "%d", in->prompt_version);
	/* Evidence is for people: the start of it is enough. */
	if (in->prompt_injection_evidence)
		copy_utf8(evidence, sizeof(evidence), in->prompt_injection_evidence);
	p[0] = in->record_id;
	p[1] = json;
	p[2] = in->model;
	p[3] = version;
	p[4] = in->input_hash;
	p[5] = in->prompt_injection_flag ? "true" : "false";
	p[6] = in->prompt_injection_evidence ? evidence : NULL;
	rc = run_in_tx(s, what, st, n, p, e);
	free(json);
	return rc;
}

int normalized_candidate_replace(struct store *s, const struct normalized_in *in, serr *e)
{
	return replace_with(s, "candidate", in, candidate_stmts,
			    sizeof(candidate_stmts) / sizeof(candidate_stmts[0]), e);
}

void normalized_candidate_init(struct normalized_candidate *c)
{
	memset(c, 0, sizeof(*c));
	c->years_of_experience = c->comp_min_annual_usd = c->comp_max_annual_usd = NAN;
}

void normalized_candidate_free(struct normalized_candidate *c)
{
	PQclear(c->owner);
	json_decref(c->normalized);
	normalized_candidate_init(c);
}

/*
 * The part both getters share: one row of record_id from sql, whose first
 * five columns are record_id, model, prompt_version, input_hash and the
 * normalized answer. *res is NULL when there is no such row.
 */
static int fetch_normalized_row(struct store *s, const char *what, const char *sql,
				const char *record_id, PGresult **res, json_t **normalized,
				struct norm_stamp *stamp, serr *e)
{
	const char *p[1] = { record_id };
	PGresult *r = NULL;

	*res = NULL;
	if (record_id_check(what, record_id, e) < 0)
		return -1;
	if (store_exec(s, what, sql, 1, p, &r, e) < 0)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	if (parse_normalized(what, r, 4, normalized, e) < 0) {
		PQclear(r);
		return -1;
	}
	snprintf(stamp->model, sizeof(stamp->model), "%s", PQgetvalue(r, 0, 1));
	stamp->prompt_version = int_at(r, 0, 2);
	snprintf(stamp->input_hash, sizeof(stamp->input_hash), "%s", PQgetvalue(r, 0, 3));
	*res = r;
	return 0;
}

int normalized_candidate_get(struct store *s, const char *record_id,
			     struct normalized_candidate *out, int *found, serr *e)
{
	char what[RECORD_ID_MAX + 64];
	PGresult *r = NULL;

	normalized_candidate_free(out);
	*found = 0;
	snprintf(what, sizeof(what), "read the normalized candidate '%s'",
		 record_id ? record_id : "");
	if (fetch_normalized_row(s, what,
				 "SELECT record_id, model, prompt_version, input_hash, normalized::text,"
				 " full_name, seniority_level, years_of_experience, comp_min_annual_usd,"
				 " comp_max_annual_usd, comp_currency, comp_period, location_city,"
				 " location_country, timezone, is_excluded, verified, highlighted,"
				 " prompt_injection_flag, prompt_injection_evidence, " TS("normalized_at")
				 " FROM normalized_candidates WHERE record_id = $1",
				 record_id, &r, &out->normalized, &out->stamp, e) < 0)
		return -1;
	if (!r)
		return 0;
	out->owner = r;
	out->record_id = store_val(r, 0, 0);
	out->full_name = store_val(r, 0, 5);
	out->seniority_level = store_val(r, 0, 6);
	out->years_of_experience = num_or_nan(r, 0, 7);
	out->comp_min_annual_usd = num_or_nan(r, 0, 8);
	out->comp_max_annual_usd = num_or_nan(r, 0, 9);
	out->comp_currency = store_val(r, 0, 10);
	out->comp_period = store_val(r, 0, 11);
	out->location_city = store_val(r, 0, 12);
	out->location_country = store_val(r, 0, 13);
	out->timezone = store_val(r, 0, 14);
	out->is_excluded = is_true(r, 0, 15);
	out->verified = is_true(r, 0, 16);
	out->highlighted = is_true(r, 0, 17);
	out->prompt_injection_flag = is_true(r, 0, 18);
	out->prompt_injection_evidence = store_val(r, 0, 19);
	out->normalized_at = store_val(r, 0, 20);
	*found = 1;
	return 0;
}

int normalized_candidate_stamp(struct store *s, const char *record_id, struct norm_stamp *out,
			       int *found, serr *e)
{
	return stamp_read(s, "normalized_candidates", "candidate", record_id, out, found, e);
}

int normalized_candidate_set_flag(struct store *s, const char *record_id,
				  enum candidate_flag flag, int value, int *found, serr *e)
{
	static const char *const columns[] = { "is_excluded", "verified", "highlighted" };
	char what[RECORD_ID_MAX + 64], sql[128];
	const char *p[2] = { record_id, value ? "true" : "false" };
	PGresult *r = NULL;

	*found = 0;
	if ((int)flag < 0 || (size_t)flag >= sizeof(columns) / sizeof(columns[0]))
		return serr_set(e, "cannot set candidate flag %d: no such flag", (int)flag);
	snprintf(what, sizeof(what), "set '%s' of candidate '%s'", columns[flag],
		 record_id ? record_id : "");
	if (record_id_check(what, record_id, e) < 0)
		return -1;
	snprintf(sql, sizeof(sql),
		 "UPDATE normalized_candidates SET %s = $2::boolean WHERE record_id = $1",
		 columns[flag]);
	if (store_exec(s, what, sql, 2, p, &r, e) < 0)
		return -1;
	*found = strcmp(PQcmdTuples(r), "0") != 0;
	PQclear(r);
	return 0;
}

void candidate_skill_list_free(struct candidate_skill_list *l)
{
	PQclear(l->owner);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* Query rows for a list: *r holds them, *items room for one struct per row. */
static int list_query(struct store *s, const char *what, const char *sql, const char *record_id,
		      size_t item_size, PGresult **r, void **items, size_t *n, serr *e)
{
	const char *p[1] = { record_id };
	size_t bytes;

	*items = NULL;
	*n = 0;
	if (record_id_check(what, record_id, e) < 0)
		return -1;
	if (store_exec(s, what, sql, 1, p, r, e) < 0)
		return -1;
	*n = (size_t)PQntuples(*r);
	if (*n == 0)
		return 0;
	if (size_mul(*n, item_size, &bytes) < 0 || !(*items = calloc(1, bytes))) {
		serr_set(e, "cannot %s: out of memory for %zu rows", what, *n);
		PQclear(*r);
		*r = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int candidate_skills_read(struct store *s, const char *record_id,
			  struct candidate_skill_list *out, serr *e)
{
	char what[RECORD_ID_MAX + 64];
	PGresult *r = NULL;
	void *items;

	candidate_skill_list_free(out);
	snprintf(what, sizeof(what), "read the skills of candidate '%s'", record_id ? record_id : "");
	if (list_query(s, what,
		       "SELECT canonical, name, rating, evidence FROM candidate_skills"
		       " WHERE record_id = $1 ORDER BY position",
		       record_id, sizeof(struct candidate_skill), &r, &items, &out->n, e) < 0)
		return -1;
	out->owner = r;
	out->items = items;
	for (size_t i = 0; i < out->n; i++) {
		out->items[i].canonical = store_val(r, (int)i, 0);
		out->items[i].name = store_val(r, (int)i, 1);
		out->items[i].rating = int_at(r, (int)i, 2);
		out->items[i].evidence = store_val(r, (int)i, 3);
	}
	return 0;
}

/* ---- jobs ---- */

static const struct stmt job_stmts[] = {
	{ "INSERT INTO normalized_jobs (record_id, model, prompt_version, input_hash, normalized,"
	  " job_title, seniority_level, min_years_experience, salary_min_annual_usd,"
	  " salary_max_annual_usd, salary_currency, salary_period, location_city,"
	  " location_country, timezone, work_setup, prompt_injection_flag,"
	  " prompt_injection_evidence, normalized_at)"
	  " SELECT $1, $3, $4::int, $5, n, n->>'job_title', n->>'seniority_level',"
	  " (n->>'min_years_experience')::float8, (n->'compensation'->>'annual_min_usd')::float8,"
	  " (n->'compensation'->>'annual_max_usd')::float8, n->'compensation'->>'currency',"
	  " n->'compensation'->>'period', n->'location'->>'city', n->'location'->>'country',"
	  " n->>'timezone', n->>'work_setup', $6::boolean, $7, now()"
	  " FROM (SELECT $2::jsonb AS n) AS a"
	  " ON CONFLICT (record_id) DO UPDATE SET model = EXCLUDED.model,"
	  " prompt_version = EXCLUDED.prompt_version, input_hash = EXCLUDED.input_hash,"
	  " normalized = EXCLUDED.normalized, job_title = EXCLUDED.job_title,"
	  " seniority_level = EXCLUDED.seniority_level,"
	  " min_years_experience = EXCLUDED.min_years_experience,"
	  " salary_min_annual_usd = EXCLUDED.salary_min_annual_usd,"
	  " salary_max_annual_usd = EXCLUDED.salary_max_annual_usd,"
	  " salary_currency = EXCLUDED.salary_currency, salary_period = EXCLUDED.salary_period,"
	  " location_city = EXCLUDED.location_city, location_country = EXCLUDED.location_country,"
	  " timezone = EXCLUDED.timezone, work_setup = EXCLUDED.work_setup,"
	  " prompt_injection_flag = EXCLUDED.prompt_injection_flag,"
	  " prompt_injection_evidence = EXCLUDED.prompt_injection_evidence,"
	  " normalized_at = EXCLUDED.normalized_at",
	  7 },
	{ "DELETE FROM job_required_skills WHERE job_record_id = $1", 1 },
	{ "INSERT INTO job_required_skills (job_record_id, canonical, name, kind,"
	  " expected_capability, position)"
	  " SELECT $1, x->>'canonical', x->>'name', k, x->>'expected_capability', (i - 1)::int"
	  " FROM (SELECT 'must_have' AS k, x, i FROM"
	  "   jsonb_array_elements($2::jsonb->'must_have_skills') WITH ORDINALITY AS t(x, i)"
	  " UNION ALL SELECT 'nice_to_have', x, i FROM"
	  "   jsonb_array_elements($2::jsonb->'nice_to_have_skills') WITH ORDINALITY AS u(x, i))"
	  " AS skills",
	  2 },
};

int normalized_job_replace(struct store *s, const struct normalized_in *in, serr *e)
{
	return replace_with(s, "job", in, job_stmts, sizeof(job_stmts) / sizeof(job_stmts[0]), e);
}

void normalized_job_init(struct normalized_job *j)
{
	memset(j, 0, sizeof(*j));
	j->min_years_experience = j->salary_min_annual_usd = j->salary_max_annual_usd = NAN;
}

void normalized_job_free(struct normalized_job *j)
{
	PQclear(j->owner);
	json_decref(j->normalized);
	normalized_job_init(j);
}

int normalized_job_get(struct store *s, const char *record_id, struct normalized_job *out,
		       int *found, serr *e)
{
	char what[RECORD_ID_MAX + 64];
	PGresult *r = NULL;

	normalized_job_free(out);
	*found = 0;
	snprintf(what, sizeof(what), "read the normalized job '%s'", record_id ? record_id : "");
	if (fetch_normalized_row(s, what,
				 "SELECT record_id, model, prompt_version, input_hash, normalized::text,"
				 " job_title, seniority_level, min_years_experience, salary_min_annual_usd,"
				 " salary_max_annual_usd, salary_currency, salary_period, location_city,"
				 " location_country, timezone, work_setup, prompt_injection_flag,"
				 " prompt_injection_evidence, " TS("normalized_at")
				 " FROM normalized_jobs WHERE record_id = $1",
				 record_id, &r, &out->normalized, &out->stamp, e) < 0)
		return -1;
	if (!r)
		return 0;
	out->owner = r;
	out->record_id = store_val(r, 0, 0);
	out->job_title = store_val(r, 0, 5);
	out->seniority_level = store_val(r, 0, 6);
	out->min_years_experience = num_or_nan(r, 0, 7);
	out->salary_min_annual_usd = num_or_nan(r, 0, 8);
	out->salary_max_annual_usd = num_or_nan(r, 0, 9);
	out->salary_currency = store_val(r, 0, 10);
	out->salary_period = store_val(r, 0, 11);
	out->location_city = store_val(r, 0, 12);
	out->location_country = store_val(r, 0, 13);
	out->timezone = store_val(r, 0, 14);
	out->work_setup = store_val(r, 0, 15);
	out->prompt_injection_flag = is_true(r, 0, 16);
	out->prompt_injection_evidence = store_val(r, 0, 17);
	out->normalized_at = store_val(r, 0, 18);
	*found = 1;
	return 0;
}

int normalized_job_stamp(struct store *s, const char *record_id, struct norm_stamp *out,
			 int *found, serr *e)
{
	return stamp_read(s, "normalized_jobs", "job", record_id, out, found, e);
}

void job_skill_list_free(struct job_skill_list *l)
{
	PQclear(l->owner);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

int job_skills_read(struct store *s, const char *record_id, struct job_skill_list *out,
		    serr *e)
{
	char what[RECORD_ID_MAX + 64];
	PGresult *r = NULL;
	void *items;

	job_skill_list_free(out);
	snprintf(what, sizeof(what), "read the required skills of job '%s'",
		 record_id ? record_id : "");
	if (list_query(s, what,
		       "SELECT canonical, name, kind, expected_capability FROM job_required_skills"
		       " WHERE job_record_id = $1 ORDER BY kind, position",
		       record_id, sizeof(struct job_skill), &r, &items, &out->n, e) < 0)
		return -1;
	out->owner = r;
	out->items = items;
	for (size_t i = 0; i < out->n; i++) {
		out->items[i].canonical = store_val(r, (int)i, 0);
		out->items[i].name = store_val(r, (int)i, 1);
		out->items[i].must_have = strcmp(PQgetvalue(r, (int)i, 2), "must_have") == 0;
		out->items[i].expected_capability = store_val(r, (int)i, 3);
	}
	return 0;
}

/* ---- role fitness ---- */

int role_fitness_replace(struct store *s, const char *record_id, const char *model,
			 int prompt_version, const json_t *answer, serr *e)
{
	static const struct stmt st[] = {
		{ "DELETE FROM candidate_role_fitness WHERE record_id = $1", 1 },
		{ "INSERT INTO candidate_role_fitness (record_id, category, score, reason, model,"
		  " prompt_version)"
		  " SELECT $1, x->>'category', " WHOLE("x->>'score'") ", x->>'reason', $3, $4::int"
		  " FROM jsonb_array_elements($2::jsonb->'fitness') AS t(x)",
		  4 },
	};
	char what[RECORD_ID_MAX + 64], version[16];
	const char *p[4];
	char *json;
	int rc;

	snprintf(what, sizeof(what), "store the role fitness of candidate '%s'",
		 record_id ? record_id : "");
	if (record_id_check(what, record_id, e) < 0)
		return -1;
	if (!model || !*model || strlen(model) > MODEL_MAX || prompt_version <= 0)
		return serr_set(e, "cannot %s: give a model name and a positive prompt version",
				what);
	if (!json_is_array(json_object_get(answer, "fitness")))
		return serr_set(e, "cannot %s: the answer has no 'fitness' array", what);
	json = answer_text(what, record_id, answer, e);
	if (!json)
		return -1;
	snprintf(version, sizeof(version), "%d", prompt_version);
	p[0] = record_id;
	p[1] = json;
	p[2] = model;
	p[3] = version;
	rc = run_in_tx(s, what, st, sizeof(st) / sizeof(st[0]), p, e);
	free(json);
	return rc;
}

void role_fitness_list_free(struct role_fitness_list *l)
{
	PQclear(l->owner);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

int role_fitness_read(struct store *s, const char *record_id, struct role_fitness_list *out,
		      serr *e)
{
	char what[RECORD_ID_MAX + 64];
	PGresult *r = NULL;
	void *items;

	role_fitness_list_free(out);
	snprintf(what, sizeof(what), "read the role fitness of candidate '%s'",
		 record_id ? record_id : "");
	if (list_query(s, what,
		       "SELECT category, score, reason, model, prompt_version"
		       " FROM candidate_role_fitness WHERE record_id = $1"
		       " ORDER BY score DESC, category",
		       record_id, sizeof(struct role_fitness), &r, &items, &out->n, e) < 0)
		return -1;
	out->owner = r;
	out->items = items;
	for (size_t i = 0; i < out->n; i++) {
		out->items[i].category = store_val(r, (int)i, 0);
		out->items[i].score = int_at(r, (int)i, 1);
		out->items[i].reason = store_val(r, (int)i, 2);
		out->items[i].model = store_val(r, (int)i, 3);
		out->items[i].prompt_version = int_at(r, (int)i, 4);
	}
	return 0;
}

int normalized_counts_get(struct store *s, struct normalized_counts *out, serr *e)
{
	static const char sql[] =
		"SELECT (SELECT count(*) FROM normalized_candidates),"
		" (SELECT count(*) FROM normalized_candidates WHERE prompt_injection_flag),"
		" (SELECT count(*) FROM candidate_skills),"
		" (SELECT count(*) FROM normalized_jobs),"
		" (SELECT count(*) FROM job_required_skills),"
		" (SELECT count(*) FROM candidate_vectors),"
		" (SELECT count(*) FROM job_vectors),"
		" (SELECT count(*) FROM candidate_role_fitness),"
		" (SELECT count(*) FROM llm_calls),"
		" (SELECT coalesce(sum(cost_usd), 0) FROM llm_calls),"
		" (SELECT count(*) FROM human_edits)";
	PGresult *r = NULL;
	int64_t *cols[] = { &out->candidates,	     &out->candidates_flagged, &out->candidate_skills,
			    &out->jobs,		     &out->job_skills,	       &out->candidate_vectors,
			    &out->job_vectors,	     &out->fitness_rows,       &out->llm_calls };
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (store_exec(s, "count normalized rows", sql, 0, NULL, &r, e) < 0)
		return -1;
	for (int i = 0; i < 9; i++) {
		if (parse_i64(store_val(r, 0, i), 0, INT64_MAX, cols[i]) < 0) {
			serr_set(e, "cannot read normalized counts: bad count '%s'", store_val(r, 0, i));
			goto out;
		}
	}
	if (parse_double(store_val(r, 0, 9), &out->llm_cost_usd) < 0 ||
	    parse_i64(store_val(r, 0, 10), 0, INT64_MAX, &out->human_edits) < 0) {
		serr_set(e, "cannot read normalized counts");
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}
