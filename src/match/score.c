/*
 * Match score components (vector, skills, compensation, location, seniority)
 * and the float path used for explanations and tests. The formulas are the
 * ones written in docs/matching.md; keep both in step.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "match/match_internal.h"

void match_weights_default(struct match_weights *w)
{
	w->vector = 0.40;
	w->skills = 0.40;
	w->comp = 0.10;
	w->location = 0.10;
	w->v_role = 0.40;
	w->v_domain = 0.35;
	w->v_culture = 0.25;
	w->s_coverage = 0.80;
	w->s_semantic = 0.20;
	w->must_have = 2.0;
	w->nice_to_have = 1.0;
	w->skill_sim_threshold = 0.80;
	w->seniority_penalty_per_year = 0.05;
	w->seniority_penalty_max = 0.25;
	w->verified_boost = 0.03;
	w->highlight_slots = 3;
	w->highlight_margin = 0.10;
}

static double clip01(double x)
{
	if (isnan(x) || x < 0)
		return 0;
	return x > 1 ? 1 : x;
}

/* Best clipped cosine of job slot js against candidate slots [c0, c0+n). */
static double best_of(const struct match_core_in *in, int c0, int n, int js)
{
	double best = NAN;

	for (int i = 0; i < n; i++) {
		double c = in->cos(in->ctx, c0 + i, js);
		if (!isnan(c) && (isnan(best) || clip01(c) > best))
			best = clip01(c);
	}
	return best;
}

/* Mean of the pieces that exist: a narrative and the best single item (position
 * or project) both speak for the same component, neither alone dominates. */
static double mean2(double a, double b)
{
	if (isnan(a))
		return b;
	if (isnan(b))
		return a;
	return (a + b) / 2;
}

/* Each cosine is computed once: on the pool path every call is a dot product
 * over a candidate vector, the scan's main cost. */
static void vector_part(const struct match_core_in *in, const struct match_weights *w,
			struct match_result *r)
{
	double exp = in->cos(in->ctx, MN_EXPERIENCE, MJ_ROLE);
	double pos = best_of(in, MN_COUNT, in->n_pos, MJ_ROLE);
	double role, dom_n, domain, cul, culture, sum = 0, wsum = 0;

	if (isnan(exp) && isnan(pos)) {
		/* no role narrative on the job: its experience narrative stands in */
		exp = in->cos(in->ctx, MN_EXPERIENCE, MN_EXPERIENCE);
		pos = best_of(in, MN_COUNT, in->n_pos, MN_EXPERIENCE);
	}
	role = mean2(isnan(exp) ? NAN : clip01(exp), pos);
	dom_n = in->cos(in->ctx, MN_DOMAIN, MN_DOMAIN);
	domain = mean2(isnan(dom_n) ? NAN : clip01(dom_n),
		       best_of(in, MN_COUNT + in->n_pos, in->n_proj, MN_DOMAIN));
	cul = in->cos(in->ctx, MN_PERSONALITY, MN_PERSONALITY);
	culture = isnan(cul) ? NAN : clip01(cul);
	r->v_role = role;
	r->v_domain = domain;
	r->v_culture = culture;
	if (!isnan(role)) { sum += w->v_role * role; wsum += w->v_role; }
	if (!isnan(domain)) { sum += w->v_domain * domain; wsum += w->v_domain; }
	if (!isnan(culture)) { sum += w->v_culture * culture; wsum += w->v_culture; }
	r->vector = wsum > 0 ? sum / wsum : 0.5;
}

static void skill_part(const struct match_core_in *in, const struct match_weights *w,
		       struct match_result *r)
{
	double cov = 0, cov_w = 0, sem = 0, sem_w = 0;
	int sk0 = MN_COUNT + in->n_pos + in->n_proj;

	r->s_coverage = NAN;
	r->s_semantic = NAN;
	if (in->job_n_skills == 0 || in->n_skills == 0) {
		r->skills = 0.5;
		return;
	}
	for (int j = 0; j < in->job_n_skills; j++) {
		double wj = in->must_have && in->must_have[j] ? w->must_have : w->nice_to_have;
		int js = MJ_SKILL0 + j, m = in->skill_match[j];
		double sim = NAN;

		if (m >= 0) {
			double rt = in->ratings ? in->ratings[m] : NAN;
			cov += wj * (isnan(rt) ? 0.5 : clip01(rt / 10.0));
			sim = in->cos(in->ctx, sk0 + m, js);
		}
		cov_w += wj;
		if (m < 0) {
			if (!isnan(in->cos(in->ctx, -1, js))) {
				sem_w += wj; /* job has an expected vector; unmatched counts as 0 */
			}
		} else if (!isnan(sim)) {
			sem += wj * clip01(sim);
			sem_w += wj;
		}
	}
	r->s_coverage = cov_w > 0 ? cov / cov_w : 0;
	if (sem_w > 0) {
		r->s_semantic = sem / sem_w;
		r->skills = (w->s_coverage * r->s_coverage + w->s_semantic * r->s_semantic) /
			    (w->s_coverage + w->s_semantic);
	} else {
		r->skills = r->s_coverage;
	}
}

/* A candidate whose floor is within the job's ceiling fits; above it the score
 * falls linearly to 0 at 30% over budget. */
static double comp_part(const struct match_core_in *in)
{
	double cmin = isnan(in->comp_min) ? in->comp_max : in->comp_min;
	double jmax = isnan(in->sal_max) ? in->sal_min : in->sal_max;

	if (isnan(cmin) || isnan(jmax) || jmax <= 0)
		return 0.5;
	if (cmin <= jmax)
		return 1.0;
	return clip01(1.0 - (cmin - jmax) / jmax / 0.30);
}

/* Hours apart on the 24 h circle; remote roles tolerate 12 h, on-site and
 * hybrid roles only 6 h (a different region means relocating). */
static double location_part(const struct match_core_in *in)
{
	double d, tol = 12.0;

	if (isnan(in->cand_tz) || isnan(in->job_tz))
		return 0.5;
	d = fabs(in->cand_tz - in->job_tz);
	if (d > 12)
		d = 24 - d;
	if (in->work_setup && (strcmp(in->work_setup, "onsite") == 0 ||
			       strcmp(in->work_setup, "hybrid") == 0))
		tol = 6.0;
	return clip01(1.0 - d / tol);
}

void match_components(const struct match_core_in *in, const struct match_weights *w,
		      struct match_result *r)
{
	vector_part(in, w, r);
	skill_part(in, w, r);
	r->comp = comp_part(in);
	r->location = location_part(in);
	r->penalty = 0;
	if (!isnan(in->years) && !isnan(in->min_years) && in->years < in->min_years) {
		r->penalty = w->seniority_penalty_per_year * (in->min_years - in->years);
		if (r->penalty > w->seniority_penalty_max)
			r->penalty = w->seniority_penalty_max;
	}
	r->boost = in->verified ? w->verified_boost : 0;
	r->verified = in->verified != 0;
	r->highlighted = in->highlighted != 0;
	r->surfaced_by_highlight = 0;
	r->score = w->vector * r->vector + w->skills * r->skills + w->comp * r->comp +
		   w->location * r->location - r->penalty + r->boost;
}

/* ---- float path ---- */

struct float_ctx {
	const struct match_candidate_in *c;
	const struct match_job_in *j;
	int dim;
};

static const float *cand_vec(const struct float_ctx *x, int cs)
{
	const struct match_candidate_in *c = x->c;
	size_t i = (size_t)cs;

	if (cs < 0)
		return NULL;
	if (i < MN_COUNT)
		return c->narrative[i];
	i -= MN_COUNT;
	if (i < c->n_positions)
		return c->positions ? c->positions + i * (size_t)x->dim : NULL;
	i -= c->n_positions;
	if (i < c->n_projects)
		return c->projects ? c->projects + i * (size_t)x->dim : NULL;
	i -= c->n_projects;
	if (i < c->n_skills)
		return c->skill_vectors ? c->skill_vectors + i * (size_t)x->dim : NULL;
	return NULL;
}

static const float *job_vec(const struct float_ctx *x, int js)
{
	if (js < MN_COUNT)
		return x->j->narrative[js];
	if (js == MJ_ROLE)
		return x->j->role;
	return x->j->skill_vectors ? x->j->skill_vectors + (size_t)(js - MJ_SKILL0) * (size_t)x->dim : NULL;
}

static double float_cosine(const float *a, const float *b, int dim)
{
	double d = 0, na = 0, nb = 0;

	if (!a || !b || isnan(a[0]) || isnan(b[0]))
		return NAN;
	for (int i = 0; i < dim; i++) {
		d += (double)a[i] * b[i];
		na += (double)a[i] * a[i];
		nb += (double)b[i] * b[i];
	}
	if (na <= 0 || nb <= 0)
		return NAN;
	return d / sqrt(na * nb);
}

static double float_cos(const void *ctx, int cs, int js)
{
	const struct float_ctx *x = ctx;
	const float *b = job_vec(x, js);

	if (!b || isnan(b[0]))
		return NAN;
	if (cs < 0)
		return 1.0; /* existence probe of the job vector */
	return float_cosine(cand_vec(x, cs), b, x->dim);
}

static double float_name_sim(const void *ctx, int i, int j)
{
	const struct float_ctx *x = ctx;
	const float *a = x->c->skill_name_vectors, *b = x->j->skill_name_vectors;

	if (!a || !b)
		return NAN;
	return float_cosine(a + (size_t)i * (size_t)x->dim, b + (size_t)j * (size_t)x->dim,
			    x->dim);
}

static double tz_or_nan(const char *zone, int64_t at)
{
	double h;
	serr e;

	if (!zone || !*zone || match_tz_offset_hours(zone, at, &h, &e) != 0)
		return NAN;
	return h;
}

int match_score_one(const struct match_candidate_in *c, const struct match_job_in *job,
		    const struct match_weights *w, int dim, struct match_result *out, serr *e)
{
	struct float_ctx x = { c, job, dim };
	struct match_core_in in;
	int nm[MATCH_MAX_JOB_SKILLS];
	int64_t now = now_ms();

	if (!c || !job || !w || !out || dim <= 0)
		return serr_set(e, "match_score_one: missing argument or dimension %d", dim);
	if (job->n_skills > MATCH_MAX_JOB_SKILLS)
		return serr_set(e, "job '%s' has %zu skills; at most %d are scored",
				job->record_id ? job->record_id : "", job->n_skills, MATCH_MAX_JOB_SKILLS);
	if (c->n_skills > MATCH_MAX_CAND_SKILLS || c->n_positions > MATCH_MAX_ITEMS ||
	    c->n_projects > MATCH_MAX_ITEMS)
		return serr_set(e, "candidate '%s' has too many skills, positions or projects (limits %d/%d)",
				c->record_id ? c->record_id : "", MATCH_MAX_CAND_SKILLS, MATCH_MAX_ITEMS);
	for (size_t j = 0; j < job->n_skills; j++) {
		double best = -2;

		nm[j] = -1;
		for (size_t i = 0; i < c->n_skills && job->skill_names && c->skill_names; i++)
			if (c->skill_names[i] && job->skill_names[j] &&
			    strcmp(c->skill_names[i], job->skill_names[j]) == 0) {
				nm[j] = (int)i;
				break;
			}
		if (nm[j] >= 0)
			continue;
		/* no canonical-name match: the skill whose name is most similar, above
		 * the threshold (the pool path, score_pooled, does the same) */
		for (size_t i = 0; i < c->n_skills; i++) {
			double v = float_name_sim(&x, (int)i, (int)j);
			if (!isnan(v) && v > best) {
				best = v;
				nm[j] = (int)i;
			}
		}
		if (nm[j] >= 0 && best < w->skill_sim_threshold)
			nm[j] = -1;
	}
	memset(&in, 0, sizeof in);
	in.cos = float_cos;
	in.ctx = &x;
	in.n_pos = (int)c->n_positions;
	in.n_proj = (int)c->n_projects;
	in.n_skills = (int)c->n_skills;
	in.ratings = c->skill_ratings;
	in.skill_match = nm;
	in.job_n_skills = (int)job->n_skills;
	in.must_have = job->must_have;
	in.comp_min = c->comp_min_usd;
	in.comp_max = c->comp_max_usd;
	in.sal_min = job->salary_min_usd;
	in.sal_max = job->salary_max_usd;
	in.cand_tz = tz_or_nan(c->timezone, now);
	in.job_tz = tz_or_nan(job->timezone, now);
	in.work_setup = job->work_setup;
	in.years = c->years_experience;
	in.min_years = job->min_years;
	in.verified = c->verified;
	in.highlighted = c->highlighted;
	memset(out, 0, sizeof *out);
	snprintf(out->record_id, sizeof out->record_id, "%s", c->record_id ? c->record_id : "");
	match_components(&in, w, out);
	return 0;
}
