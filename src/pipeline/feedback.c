/*
 * The recruiter's corrections of a job's (N) columns folded back into the
 * stored normalization (docs/feedback.md). feedback_apply is pure and does
 * the mapping; step_apply_job_feedback reads the record, stores the new
 * answer, records the human edits and unchecks Start Matchmaking.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "airtable/airtable.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "llm/normalize_schema.h"
#include "orchestrator/context.h"
#include "pipeline/feedback.h"
#include "pipeline/syncback.h"
#include "store/airtable_writes.h"
#include "store/normalized.h"

#define SKILL_CELL_MAX 16384

void feedback_result_init(struct feedback_result *r)
{
	r->answer = NULL;
	r->applied = NULL;
	r->edits = NULL;
	r->skills_added = 0;
}

void feedback_result_free(struct feedback_result *r)
{
	json_decref(r->answer);
	json_decref(r->applied);
	json_decref(r->edits);
	feedback_result_init(r);
}

static int is_sep(char c)
{
	return c == ',' || c == ';' || c == '\n' || c == '\r';
}

static int has_name(const json_t *names, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(names, i, v)
		if (strcasecmp(json_string_value(v), name) == 0)
			return 1;
	return 0;
}

json_t *feedback_skill_names(const char *cell, const char *column, serr *e)
{
	json_t *names = json_array();
	const char *p = cell ? cell : "";
	char name[NORMALIZE_MAX_NAME + 1];

	if (!names) {
		serr_set(e, "out of memory");
		return NULL;
	}
	if (strlen(p) > SKILL_CELL_MAX) {
		serr_set(e, "'%s' holds more than %d characters: list skill names separated by ', '",
			 column, SKILL_CELL_MAX);
		goto fail;
	}
	while (*p) {
		const char *s = p, *t;
		size_t n;

		while (*p && !is_sep(*p))
			p++;
		t = p;
		while (s < t && isspace((unsigned char)*s))
			s++;
		while (t > s && isspace((unsigned char)t[-1]))
			t--;
		if (*p)
			p++;
		n = (size_t)(t - s);
		if (n == 0)
			continue;
		if (n > NORMALIZE_MAX_NAME) {
			serr_set(e, "'%s' names a skill '%.40s...' longer than %d characters: "
				    "separate skill names with ', '",
				 column, s, NORMALIZE_MAX_NAME);
			goto fail;
		}
		memcpy(name, s, n);
		name[n] = '\0';
		if (has_name(names, name))
			continue;
		if (json_array_size(names) >= FEEDBACK_MAX_SKILLS) {
			serr_set(e, "'%s' lists more than %d skills: keep the %d that matter most",
				 column, FEEDBACK_MAX_SKILLS, FEEDBACK_MAX_SKILLS);
			goto fail;
		}
		if (json_array_append_new(names, json_string(name)) < 0) {
			serr_set(e, "out of memory");
			goto fail;
		}
	}
	return names;
fail:
	json_decref(names);
	return NULL;
}

/* The canonical form the schema asks for: lowercase, trimmed. */
static json_t *canonical_of(const char *name)
{
	char c[NORMALIZE_MAX_NAME + 1];
	size_t i;

	for (i = 0; name[i] && i < NORMALIZE_MAX_NAME; i++)
		c[i] = (char)tolower((unsigned char)name[i]);
	c[i] = '\0';
	return json_string(c);
}

/* The stored skill (either list) of this name or canonical name, or NULL. */
static const json_t *find_skill(const json_t *answer, const char *name, const json_t *canon)
{
	static const char *const lists[] = { "must_have_skills", "nice_to_have_skills" };

	for (size_t l = 0; l < 2; l++) {
		const json_t *arr = json_object_get(answer, lists[l]), *s;
		size_t i;

		json_array_foreach(arr, i, s) {
			const char *n = json_string_value(json_object_get(s, "name"));
			const char *c = json_string_value(json_object_get(s, "canonical"));
			if ((n && strcasecmp(n, name) == 0) ||
			    (c && strcmp(c, json_string_value(canon)) == 0))
				return s;
		}
	}
	return NULL;
}

/*
 * The skill list for names: a stored skill keeps its canonical name and
 * expected capability; a new one gets its name as the capability, which
 * is what the recruiter asked for. skip: names already in the other list.
 */
static json_t *skill_list(const json_t *answer, const json_t *names, const json_t *skip,
			  int *added, serr *e)
{
	json_t *out = json_array(), *v;
	size_t i;

	if (!out)
		goto oom;
	json_array_foreach(names, i, v) {
		const char *name = json_string_value(v);
		json_t *canon = canonical_of(name), *item;
		const json_t *have;

		if (!canon)
			goto oom;
		if (skip && has_name(skip, name)) {
			json_decref(canon);
			continue;
		}
		have = find_skill(answer, name, canon);
		if (have)
			item = json_pack("{s:s,s:O,s:O}", "name", name, "canonical",
					 json_object_get(have, "canonical"), "expected_capability",
					 json_object_get(have, "expected_capability"));
		else
			item = json_pack("{s:s,s:O,s:s}", "name", name, "canonical", canon,
					 "expected_capability", name);
		json_decref(canon);
		if (!item || json_array_append_new(out, item) < 0)
			goto oom;
		if (!have)
			(*added)++;
	}
	return out;
oom:
	json_decref(out);
	serr_set(e, "out of memory");
	return NULL;
}

static int set(json_t *o, const char *key, json_t *v, serr *e)
{
	if (!v || json_object_set_new(o, key, v) < 0)
		return serr_set(e, "out of memory");
	return 0;
}

/* Both the structured value and its (N) twin. */
static int set_pair(json_t *a, const char *key, const char *nkey, const json_t *v, serr *e)
{
	if (set(a, key, json_deep_copy(v), e) < 0 || set(a, nkey, json_deep_copy(v), e) < 0)
		return -1;
	return 0;
}

static int apply_salary(json_t *a, const json_t *min, const json_t *max, serr *e)
{
	json_t *comp;

	if (set(a, "n_salary_min", json_deep_copy(min), e) < 0 ||
	    set(a, "n_salary_max", json_deep_copy(max), e) < 0)
		return -1;
	if (json_is_null(min) && json_is_null(max))
		return set(a, "compensation", json_null(), e);
	/* The (N) columns are annual US dollars: the stated range becomes that too. */
	comp = json_pack("{s:O,s:O,s:s,s:s,s:O,s:O}", "min", min, "max", max, "currency", "USD",
			 "period", "year", "annual_min_usd", min, "annual_max_usd", max);
	return set(a, "compensation", comp, e);
}

static int apply_location(json_t *a, const json_t *v, serr *e)
{
	const char *s = json_string_value(v), *comma;
	json_t *loc;

	if (set(a, "n_location", json_deep_copy(v), e) < 0)
		return -1;
	if (!s || !*s)
		loc = json_pack("{s:n,s:n}", "city", "country");
	else if ((comma = strrchr(s, ',')) != NULL) {
		const char *c = comma + 1;
		while (*c == ' ')
			c++;
		loc = json_pack("{s:s%,s:s}", "city", s, (size_t)(comma - s), "country", c);
	} else
		loc = json_pack("{s:s,s:n}", "city", s, "country");
	return set(a, "location", loc, e);
}

static int apply_narrative(json_t *a, const char *nkey, const json_t *v, serr *e)
{
	json_t *nar = json_object_get(a, "narratives");
	const char *name = nkey + strlen("n_narrative_");

	if (!json_is_object(nar))
		return serr_set(e, "the stored answer has no narratives");
	/* A narrative is required text: a cleared cell leaves it empty, not null. */
	if (!json_is_string(v))
		v = NULL;
	if (set(nar, name, v ? json_deep_copy(v) : json_string(""), e) < 0 ||
	    set(a, nkey, v ? json_deep_copy(v) : json_string(""), e) < 0)
		return -1;
	return 0;
}

/* The cell's value checked against the column type; JSON null for an empty cell. */
static json_t *cell_value(const struct normalize_n_field *nf, const char *col, const json_t *v,
			  serr *e)
{
	if (!v || json_is_null(v))
		return json_null();
	if (strcmp(nf->airtable_type, "number") == 0) {
		if (!json_is_number(v)) {
			serr_set(e, "'%s' holds a value that is not a number: enter a number", col);
			return NULL;
		}
		if (json_number_value(v) < 0 || !isfinite(json_number_value(v))) {
			serr_set(e, "'%s' holds %g: enter zero or more", col, json_number_value(v));
			return NULL;
		}
		return json_real(json_number_value(v));
	}
	if (!json_is_string(v)) {
		serr_set(e, "'%s' holds a value that is not text", col);
		return NULL;
	}
	if (strlen(json_string_value(v)) > NORMALIZE_MAX_TEXT) {
		serr_set(e, "'%s' holds more than %d characters: shorten it", col, NORMALIZE_MAX_TEXT);
		return NULL;
	}
	if (strcmp(nf->airtable_type, "singleSelect") == 0 && json_string_length(v) == 0)
		return json_null();
	return json_deep_copy(v);
}

/* Whether the cell is input: see feedback_apply. *edited = 1 when it differs from scout's write. */
static int cell_is_input(const json_t *written, const char *col, const json_t *v, int *edited)
{
	const json_t *w = json_object_get(written, col);

	*edited = 0;
	if (!w)
		return v && !json_is_null(v);
	if (airtable_value_same(w, v))
		return 0;
	*edited = 1;
	return 1;
}

static int apply_skills(const struct config *cfg, json_t *a, const json_t *fields,
			const json_t *written, const json_t *orig, struct feedback_result *out,
			serr *e)
{
	const char *mcol = cfg->jn_must_have_skills, *ncol = cfg->jn_nice_to_have_skills;
	const json_t *mv = json_object_get(fields, mcol), *nv = json_object_get(fields, ncol);
	json_t *must = NULL, *nice = NULL, *ml = NULL, *nl = NULL;
	int ed, rc = -1, min = cell_is_input(written, mcol, mv, &ed);
	int nin = cell_is_input(written, ncol, nv, &ed);

	if (!min && !nin)
		return 0;
	if ((mv && !json_is_string(mv) && !json_is_null(mv)) ||
	    (nv && !json_is_string(nv) && !json_is_null(nv))) {
		serr_set(e, "'%s' and '%s' must hold text", mcol, ncol);
		goto out;
	}
	/* Either list edited: both are rebuilt, so a skill moved between them moves. */
	must = min ? feedback_skill_names(json_string_value(mv), mcol, e)
		   : feedback_skill_names(json_string_value(json_object_get(orig, "n_must_have_skills")),
					  mcol, e);
	if (!must)
		goto out;
	nice = nin ? feedback_skill_names(json_string_value(nv), ncol, e)
		   : feedback_skill_names(
			     json_string_value(json_object_get(orig, "n_nice_to_have_skills")), ncol,
			     e);
	if (!nice)
		goto out;
	if (!(ml = skill_list(orig, must, NULL, &out->skills_added, e)) ||
	    !(nl = skill_list(orig, nice, must, &out->skills_added, e)))
		goto out;
	if (set(a, "must_have_skills", json_incref(ml), e) < 0 ||
	    set(a, "nice_to_have_skills", json_incref(nl), e) < 0)
		goto out;
	{
		struct buf m, n;
		size_t i;
		json_t *s;
		int ok = 0;

		buf_init(&m, 0);
		buf_init(&n, 0);
		json_array_foreach(ml, i, s)
			ok |= buf_printf(&m, "%s%s", i ? ", " : "",
					 json_string_value(json_object_get(s, "name")));
		json_array_foreach(nl, i, s)
			ok |= buf_printf(&n, "%s%s", i ? ", " : "",
					 json_string_value(json_object_get(s, "name")));
		if (ok < 0 || set(a, "n_must_have_skills", json_string(buf_cstr(&m)), e) < 0 ||
		    set(a, "n_nice_to_have_skills", json_string(buf_cstr(&n)), e) < 0) {
			buf_free(&m);
			buf_free(&n);
			serr_set(e, "out of memory");
			goto out;
		}
		buf_free(&m);
		buf_free(&n);
	}
	rc = 0;
out:
	json_decref(must);
	json_decref(nice);
	json_decref(ml);
	json_decref(nl);
	return rc;
}

static int note(json_t *arr, const char *k1, const char *col, const char *k2, const json_t *v,
		const char *k3, const json_t *w, serr *e)
{
	json_t *o = k3 ? json_pack("{s:s,s:O,s:O}", k1, col, k2, w ? w : json_null(), k3, v)
		       : json_pack("{s:s,s:O}", k1, col, k2, v);

	if (!o || json_array_append_new(arr, o) < 0)
		return serr_set(e, "out of memory");
	return 0;
}

/* One scalar (N) column into the answer. */
static int apply_one(json_t *a, const struct normalize_n_field *nf, const char *col,
		     const json_t *val, serr *e)
{
	const char *p = nf->property;

	if (strcmp(p, "n_job_title") == 0) {
		if (!json_is_string(val) || json_string_length(val) == 0)
			return serr_set(e, "'%s' is empty: give the job a title", col);
		return set_pair(a, "job_title", p, val, e);
	}
	if (strcmp(p, "n_role_summary") == 0)
		return set(a, p, json_is_string(val) ? json_deep_copy(val) : json_string(""), e);
	if (strcmp(p, "n_seniority_level") == 0)
		return set_pair(a, "seniority_level", p, val, e);
	if (strcmp(p, "n_min_years_experience") == 0)
		return set_pair(a, "min_years_experience", p, val, e);
	if (strcmp(p, "n_work_setup") == 0)
		return set_pair(a, "work_setup", p, val, e);
	if (strcmp(p, "n_timezone") == 0)
		return set_pair(a, "timezone", p, val, e);
	if (strcmp(p, "n_location") == 0)
		return apply_location(a, val, e);
	if (str_starts_with(p, "n_narrative_"))
		return apply_narrative(a, p, val, e);
	return 0;
}

static const struct normalize_n_field *n_field(const char *property)
{
	for (size_t i = 0; i < normalize_job_n_count; i++)
		if (normalize_job_n_fields[i].property &&
		    strcmp(normalize_job_n_fields[i].property, property) == 0)
			return &normalize_job_n_fields[i];
	return NULL;
}

/* One end of the salary range: the recruiter's cell when it is input, else the stored figure. */
static json_t *salary_side(const struct config *cfg, const json_t *answer, const json_t *fields,
			   const json_t *written, const char *property, serr *e)
{
	const struct normalize_n_field *nf = n_field(property);
	const char *col;
	const json_t *v;
	json_t *r;
	int ed;

	if (!nf) {
		serr_set(e, "no (N) column holds '%s'", property);
		return NULL;
	}
	col = normalize_n_column(cfg, nf);
	v = json_object_get(fields, col);
	if (cell_is_input(written, col, v, &ed))
		return cell_value(nf, col, v, e);
	v = json_object_get(answer, property);
	r = v ? json_deep_copy(v) : json_null();
	if (!r)
		serr_set(e, "out of memory");
	return r;
}

int feedback_apply(const struct config *cfg, const json_t *answer, const json_t *fields,
		   const json_t *written, struct feedback_result *out, serr *e)
{
	json_t *a = NULL, *smin = NULL, *smax = NULL, *val = NULL;
	int salary = 0, rc = -1;

	feedback_result_init(out);
	if (!json_is_object(answer)) {
		serr_set(e, "the stored normalization is not an object");
		goto out;
	}
	if (!(a = json_deep_copy(answer)) || !(out->applied = json_array()) ||
	    !(out->edits = json_array())) {
		serr_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < normalize_job_n_count; i++) {
		const struct normalize_n_field *nf = &normalize_job_n_fields[i];
		const char *col = normalize_n_column(cfg, nf);
		const json_t *v = json_object_get(fields, col);
		int edited;

		if (!nf->property || !cell_is_input(written, col, v, &edited))
			continue;
		if (!(val = cell_value(nf, col, v, e)))
			goto out;
		if (note(out->applied, "field", col, "value", val, NULL, NULL, e) < 0 ||
		    (edited && note(out->edits, "field", col, "human", val, "scout",
				    json_object_get(written, col), e) < 0))
			goto out;
		if (strcmp(nf->property, "n_salary_min") == 0 ||
		    strcmp(nf->property, "n_salary_max") == 0) {
			salary = 1;
		} else if (strcmp(nf->property, "n_must_have_skills") != 0 &&
			   strcmp(nf->property, "n_nice_to_have_skills") != 0) {
			if (apply_one(a, nf, col, val, e) < 0)
				goto out;
		}
		json_decref(val);
		val = NULL;
	}
	if (salary) {
		/* The side the recruiter did not touch keeps its stored figure. */
		if (!(smin = salary_side(cfg, answer, fields, written, "n_salary_min", e)) ||
		    !(smax = salary_side(cfg, answer, fields, written, "n_salary_max", e)))
			goto out;
		if (apply_salary(a, smin, smax, e) < 0)
			goto out;
	}
	if (apply_skills(cfg, a, fields, written, answer, out, e) < 0)
		goto out;
	if (normalize_validate_job(NULL, a, e) < 0) {
		serr_wrap(e, "the recruiter's (N) values do not make a valid job: correct them and "
			     "check Start Matchmaking again");
		goto out;
	}
	out->answer = a;
	a = NULL;
	rc = 0;
out:
	json_decref(a);
	json_decref(val);
	json_decref(smin);
	json_decref(smax);
	if (rc < 0) {
		json_decref(out->applied);
		json_decref(out->edits);
		out->applied = out->edits = NULL;
	}
	return rc;
}

/* The (N) columns and the checkbox: what the step reads of the record. */
static int record_fields(struct job_ctx *ctx, struct airtable *at, json_t **fields, serr *e)
{
	json_t *rec = NULL;

	if (airtable_get(at, ctx->cfg->jobs_table, ctx->partition, &rec, e) < 0)
		return serr_wrap(e, "cannot read the (N) values of job '%s'", ctx->partition);
	*fields = json_incref(json_object_get(rec, "fields"));
	json_decref(rec);
	if (!json_is_object(*fields)) {
		json_decref(*fields);
		*fields = json_object();
	}
	return *fields ? 0 : serr_set(e, "out of memory");
}

static int record_edits(struct job_ctx *ctx, const json_t *edits, serr *e)
{
	size_t i;
	json_t *ed;

	json_array_foreach(edits, i, ed) {
		if (syncback_human_edit_record(ctx->store, ctx->cfg->jobs_table, ctx->partition,
					       json_string_value(json_object_get(ed, "field")),
					       json_object_get(ed, "scout"),
					       json_object_get(ed, "human"), e) < 0)
			return -1;
	}
	return 0;
}

static int uncheck(struct job_ctx *ctx, struct airtable *at, serr *e)
{
	json_t *recs = json_pack("[{s:s,s:{s:b}}]", "id", ctx->partition, "fields",
				 ctx->cfg->j_start_matchmaking, 0);
	int rc;

	if (!recs)
		return serr_set(e, "out of memory");
	rc = airtable_update(at, ctx->cfg->jobs_table, recs, 0, NULL, e);
	json_decref(recs);
	if (rc < 0)
		return serr_wrap(e, "cannot uncheck '%s' of job '%s'", ctx->cfg->j_start_matchmaking,
				 ctx->partition);
	return 0;
}

int step_apply_job_feedback(struct job_ctx *ctx, serr *e)
{
	struct normalized_job nj;
	struct feedback_result fr;
	struct normalized_in in;
	struct airtable *at;
	json_t *fields = NULL, *written = NULL, *meta;
	int found = 0, checked, rc = -1;

	normalized_job_init(&nj);
	feedback_result_init(&fr);
	if (!ctx->partition) {
		serr_set(e, "step_apply_job_feedback needs a job partition (a Customers STT record id)");
		goto out;
	}
	if (normalized_job_get(ctx->store, ctx->partition, &nj, &found, e) < 0)
		goto out;
	if (!found) {
		serr_set(e, "job '%s' was never normalized: run job_pipeline_job for it first",
			 ctx->partition);
		goto out;
	}
	if (job_ctx_airtable(ctx, &at, e) < 0 || record_fields(ctx, at, &fields, e) < 0)
		goto out;
	if (airtable_writes_get_record(ctx->store, ctx->cfg->jobs_table, ctx->partition, &written,
				       e) < 0)
		goto out;
	if (feedback_apply(ctx->cfg, nj.normalized, fields, written, &fr, e) < 0) {
		serr_wrap(e, "job '%s'", ctx->partition);
		goto out;
	}
	if (json_array_size(fr.applied) > 0) {
		in = (struct normalized_in){
			.record_id = ctx->partition,
			.model = nj.stamp.model,
			.prompt_version = nj.stamp.prompt_version,
			.input_hash = nj.stamp.input_hash,
			.normalized = fr.answer,
			.prompt_injection_flag = nj.prompt_injection_flag,
			.prompt_injection_evidence = nj.prompt_injection_evidence,
		};
		if (normalized_job_replace(ctx->store, &in, e) < 0) {
			serr_wrap(e, "cannot store the recruiter's values of job '%s'", ctx->partition);
			goto out;
		}
	}
	if (record_edits(ctx, fr.edits, e) < 0)
		goto out;
	checked = airtable_bool(fields, ctx->cfg->j_start_matchmaking);
	if (checked && uncheck(ctx, at, e) < 0)
		goto out;
	meta = json_pack("{s:I,s:I,s:i,s:b}", "cells_applied", (json_int_t)json_array_size(fr.applied),
			 "human_edits", (json_int_t)json_array_size(fr.edits), "skills_added",
			 fr.skills_added, "start_matchmaking_unchecked", checked);
	if (!meta) {
		serr_set(e, "out of memory");
		goto out;
	}
	if (job_ctx_materialize(ctx, "normalized_jobs_feedback", meta, e) < 0)
		goto out;
	log_info("job feedback applied", "record=%s cells=%zu edits=%zu skills_added=%d",
		 ctx->partition, json_array_size(fr.applied), json_array_size(fr.edits),
		 fr.skills_added);
	rc = 0;
out:
	normalized_job_free(&nj);
	feedback_result_free(&fr);
	json_decref(fields);
	json_decref(written);
	return rc;
}
