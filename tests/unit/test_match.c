/* Unit tests of the matchmaking score engine: each component on hand-computed
 * cases (with missing data), ranking of a planted pool, exclusions, ties,
 * must-have edits and real timezone offsets. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "match/match.h"
#include "match/pool_internal.h"

#define DIM 8

/* Unit vector along axis a (plus b with weight t): cosines are easy to compute by hand. */
static void axis(float *v, int a, int b, float t)
{
	memset(v, 0, DIM * sizeof *v);
	v[a] = 1.0f;
	if (b >= 0)
		v[b] += t;
}

static struct match_candidate_in empty_cand(const char *id)
{
	struct match_candidate_in c;

	memset(&c, 0, sizeof c);
	c.record_id = id;
	c.comp_min_usd = c.comp_max_usd = NAN;
	c.years_experience = NAN;
	return c;
}

static struct match_job_in empty_job(void)
{
	struct match_job_in j;

	memset(&j, 0, sizeof j);
	j.record_id = "recJOB";
	j.salary_min_usd = j.salary_max_usd = NAN;
	j.min_years = NAN;
	return j;
}

static void missing_everything_is_neutral(void **state)
{
	struct match_weights w;
	struct match_candidate_in c = empty_cand("recA");
	struct match_job_in j = empty_job();
	struct match_result r;
	serr e;

	(void)state;
	match_weights_default(&w);
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &r, &e), 0);
	assert_true(fabs(r.vector - 0.5) < 1e-9);
	assert_true(fabs(r.skills - 0.5) < 1e-9);
	assert_true(fabs(r.comp - 0.5) < 1e-9);
	assert_true(fabs(r.location - 0.5) < 1e-9);
	assert_true(r.penalty == 0);
	assert_true(fabs(r.score - 0.5) < 1e-9);
}

static void vector_component_renormalizes_over_present_parts(void **state)
{
	struct match_weights w;
	struct match_candidate_in c = empty_cand("recA");
	struct match_job_in j = empty_job();
	struct match_result r;
	float role[DIM], exp[DIM], jd[DIM], cd[DIM];
	serr e;

	(void)state;
	match_weights_default(&w);
	axis(role, 0, -1, 0);
	axis(exp, 0, -1, 0);      /* role cosine 1 */
	axis(jd, 1, -1, 0);
	axis(cd, 1, 2, 1.0f);     /* domain cosine 1/sqrt(2) */
	j.role = role;
	j.narrative[MN_DOMAIN] = jd;
	c.narrative[MN_EXPERIENCE] = exp;
	c.narrative[MN_DOMAIN] = cd;
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &r, &e), 0);
	assert_true(fabs(r.v_role - 1.0) < 1e-6);
	assert_true(fabs(r.v_domain - 1 / sqrt(2)) < 1e-6);
	assert_true(isnan(r.v_culture));
	assert_true(fabs(r.vector - (0.40 * 1.0 + 0.35 / sqrt(2)) / 0.75) < 1e-6);
}

static void opposite_vectors_clip_to_zero(void **state)
{
	struct match_weights w;
	struct match_candidate_in c = empty_cand("recA");
	struct match_job_in j = empty_job();
	struct match_result r;
	float a[DIM], b[DIM];
	serr e;

	(void)state;
	match_weights_default(&w);
	axis(a, 3, -1, 0);
	axis(b, 3, -1, 0);
	b[3] = -1;
	j.narrative[MN_PERSONALITY] = a;
	c.narrative[MN_PERSONALITY] = b;
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &r, &e), 0);
	assert_true(r.v_culture == 0);
	assert_true(r.vector == 0);
}

static void skills_weigh_must_haves_and_match_by_name_vector(void **state)
{
	struct match_weights w;
	struct match_candidate_in c = empty_cand("recA");
	struct match_job_in j = empty_job();
	struct match_result r;
	const char *jn[] = { "python", "kubernetes", "go" };
	int must[] = { 1, 0, 0 };
	float jv[3 * DIM], cv[2 * DIM], jnv[3 * DIM], cnv[2 * DIM];
	const char *cn[] = { "python", "k8s" };
	float rat[] = { 8, 6 };
	serr e;

	(void)state;
	match_weights_default(&w);
	/* names: k8s is close to kubernetes (cosine 0.995, above 0.80) */
	axis(jnv, 0, -1, 0);
	axis(jnv + DIM, 1, -1, 0);
	axis(jnv + 2 * DIM, 2, -1, 0);
	axis(cnv, 0, -1, 0);
	axis(cnv + DIM, 1, 4, 0.1f);
	/* evidence against expected capability: python identical, k8s at 0.6 */
	axis(jv, 3, -1, 0);
	axis(jv + DIM, 4, -1, 0);
	axis(jv + 2 * DIM, 5, -1, 0);
	axis(cv, 3, -1, 0);
	axis(cv + DIM, 4, 6, 4.0f / 3.0f); /* cosine 1 / sqrt(1 + 16/9) = 0.6 */
	j.skill_names = jn;
	j.skill_vectors = jv;
	j.skill_name_vectors = jnv;
	j.must_have = must;
	j.n_skills = 3;
	c.skill_names = cn;
	c.skill_vectors = cv;
	c.skill_name_vectors = cnv;
	c.skill_ratings = rat;
	c.n_skills = 2;
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &r, &e), 0);
	/* coverage: (2*0.8 + 1*0.6 + 1*0) / 4; semantic: (2*1 + 1*0.6 + 0) / 4 */
	assert_true(fabs(r.s_coverage - 2.2 / 4) < 1e-6);
	assert_true(fabs(r.s_semantic - 2.6 / 4) < 1e-6);
	assert_true(fabs(r.skills - (0.8 * 2.2 / 4 + 0.2 * 2.6 / 4)) < 1e-6);

	w.skill_sim_threshold = 0.999; /* k8s no longer counts as kubernetes */
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &r, &e), 0);
	assert_true(fabs(r.s_coverage - 1.6 / 4) < 1e-6);

	/* identical evidence does not make different skills the same: without
	 * name vectors only the exact name matches */
	w.skill_sim_threshold = 0.80;
	axis(cv + DIM, 4, -1, 0);
	c.skill_name_vectors = NULL;
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &r, &e), 0);
	assert_true(fabs(r.s_coverage - 1.6 / 4) < 1e-6);
	assert_true(fabs(r.s_semantic - 2.0 / 4) < 1e-6);
}

/* The pool path matches names through the pool's name vectors (one per
 * distinct name, whoever brought it) and agrees with the float path. */
static void pool_matches_skills_by_name_vector_like_the_float_path(void **state)
{
	struct match_weights w;
	struct match_candidate_in c = empty_cand("recA"), d = empty_cand("recB");
	struct match_job_in j = empty_job();
	struct match_result one, out[2];
	struct match_rank_stats st;
	struct match_pool *p;
	const char *jn[] = { "kubernetes" };
	const char *cn[] = { "k8s" };
	const char *dn[] = { "cobol" };
	float jv[DIM], jnv[DIM], cv[DIM], cnv[DIM], dv[DIM], rat[] = { 6 };
	size_t n;
	serr e;

	(void)state;
	match_weights_default(&w);
	axis(jnv, 1, -1, 0);
	axis(cnv, 1, 4, 0.1f);
	axis(jv, 4, -1, 0);
	axis(cv, 4, -1, 0);
	axis(dv, 4, -1, 0); /* cobol's evidence reads like the job's capability */
	j.skill_names = jn;
	j.skill_vectors = jv;
	j.skill_name_vectors = jnv;
	j.n_skills = 1;
	c.skill_names = cn;
	c.skill_vectors = cv;
	c.skill_name_vectors = cnv;
	c.skill_ratings = rat;
	c.n_skills = 1;
	d.skill_names = dn;
	d.skill_vectors = dv;
	d.skill_ratings = rat;
	d.n_skills = 1;
	p = match_pool_new(DIM, &e);
	assert_non_null(p);
	assert_int_equal(match_pool_upsert(p, &c, &e), 0);
	assert_int_equal(match_pool_upsert(p, &d, &e), 0);
	assert_true(match_pool_skill_vector_has(p, "k8s"));
	assert_false(match_pool_skill_vector_has(p, "cobol"));
	assert_int_equal(match_rank(p, &j, &w, 1, 2, out, &n, NULL, NULL, &st, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].record_id, "recA");
	assert_true(fabs(out[0].s_coverage - 0.6) < 1e-6);
	assert_true(fabs(out[1].s_coverage - 0) < 1e-6);
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &one, &e), 0);
	assert_true(fabs(one.score - out[0].score) < 0.01);
	assert_int_equal(st.candidates, 2);
	assert_int_equal(st.name_dots, 1); /* cobol has no name vector */
	assert_int_equal(st.vectors_read, 1); /* only the matched skill's evidence */

	/* a name vector arriving later (the loader's put) makes cobol comparable */
	assert_int_equal(match_pool_skill_vector_put(p, "cobol", jnv, &e), 0);
	assert_int_equal(match_rank(p, &j, &w, 1, 2, out, &n, NULL, NULL, &st, &e), 0);
	assert_true(fabs(out[0].s_coverage - 0.6) < 1e-6 && fabs(out[1].s_coverage - 0.6) < 1e-6);
	match_pool_free(p);
}

static void compensation_overlap_and_unknown(void **state)
{
	struct match_weights w;
	struct match_candidate_in c = empty_cand("recA");
	struct match_job_in j = empty_job();
	struct match_result r;
	serr e;

	(void)state;
	match_weights_default(&w);
	j.salary_min_usd = 80000;
	j.salary_max_usd = 100000;
	c.comp_min_usd = 90000;
	c.comp_max_usd = 120000;
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &r, &e), 0);
	assert_true(r.comp == 1.0);
	c.comp_min_usd = 115000; /* 15% over the ceiling: halfway to the 30% cut-off */
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &r, &e), 0);
	assert_true(fabs(r.comp - 0.5) < 1e-9);
	c.comp_min_usd = 200000;
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &r, &e), 0);
	assert_true(r.comp == 0);
	c.comp_min_usd = c.comp_max_usd = NAN;
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &r, &e), 0);
	assert_true(r.comp == 0.5);
}

static void seniority_penalty_per_year_is_capped(void **state)
{
	struct match_weights w;
	struct match_candidate_in c = empty_cand("recA");
	struct match_job_in j = empty_job();
	struct match_result r;
	serr e;

	(void)state;
	match_weights_default(&w);
	j.min_years = 5;
	c.years_experience = 3;
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &r, &e), 0);
	assert_true(fabs(r.penalty - 0.10) < 1e-9);
	c.years_experience = 0;
	j.min_years = 20;
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &r, &e), 0);
	assert_true(fabs(r.penalty - 0.25) < 1e-9);
	c.years_experience = NAN;
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &r, &e), 0);
	assert_true(r.penalty == 0);
}

static void timezone_offsets_come_from_the_tz_database(void **state)
{
	double b, n;
	serr e;
	int64_t jan = 1736942400000LL; /* 2025-01-15T12:00Z */
	int64_t jul = 1752580800000LL; /* 2025-07-15T12:00Z */

	(void)state;
	assert_int_equal(match_tz_offset_hours("Europe/Berlin", jan, &b, &e), 0);
	assert_int_equal(match_tz_offset_hours("America/New_York", jan, &n, &e), 0);
	assert_true(b - n == 6.0);
	assert_int_equal(match_tz_offset_hours("Europe/Berlin", jul, &b, &e), 0);
	assert_true(b == 2.0);
	assert_int_equal(match_tz_offset_hours("Asia/Kolkata", jul, &b, &e), 0);
	assert_true(b == 5.5);
	assert_int_equal(match_tz_offset_hours("Mars/Olympus", jul, &b, &e), -1);
	assert_non_null(strstr(e.msg, "'Mars/Olympus'"));
	assert_int_equal(match_tz_offset_hours("../etc/passwd", jul, &b, &e), -1);
}

static void location_prefers_near_zones_and_onsite_is_stricter(void **state)
{
	struct match_weights w;
	struct match_candidate_in c = empty_cand("recA");
	struct match_job_in j = empty_job();
	struct match_result same, far, far_onsite;
	serr e;

	(void)state;
	match_weights_default(&w);
	j.timezone = "Europe/Berlin";
	c.timezone = "Europe/Paris";
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &same, &e), 0);
	assert_true(same.location == 1.0);
	c.timezone = "Asia/Tokyo";
	j.work_setup = "remote";
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &far, &e), 0);
	j.work_setup = "onsite";
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &far_onsite, &e), 0);
	assert_true(far.location > 0 && far.location < 1);
	assert_true(far_onsite.location == 0);
	c.timezone = NULL;
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &same, &e), 0);
	assert_true(same.location == 0.5);
}

/* ---- pool ---- */

struct planted {
	float nar[MN_COUNT][DIM];
	float skv[2 * DIM];
	float rat[2];
	const char *names[2];
	char id[16];
};

/* fit: narratives along axis 0 and python/sql skills; misfit: axis 5, unrelated skills */
static void plant(struct planted *pc, struct match_candidate_in *c, const char *id, int fit, float jitter)
{
	snprintf(pc->id, sizeof pc->id, "%s", id);
	*c = empty_cand(pc->id);
	for (int n = 0; n < MN_COUNT; n++) {
		axis(pc->nar[n], fit ? 0 : 5, 6, jitter);
		c->narrative[n] = pc->nar[n];
	}
	pc->names[0] = fit ? "python" : "cobol";
	pc->names[1] = fit ? "sql" : "fortran";
	axis(pc->skv, fit ? 1 : 6, 7, jitter);
	axis(pc->skv + DIM, fit ? 2 : 7, 6, jitter);
	pc->rat[0] = 8;
	pc->rat[1] = 7;
	c->skill_names = pc->names;
	c->skill_vectors = pc->skv;
	c->skill_ratings = pc->rat;
	c->n_skills = 2;
}

struct fixture {
	struct match_pool *p;
	struct planted pcs[60];
	struct match_job_in job;
	float jn[MN_COUNT][DIM], jsk[2 * DIM];
	const char *jnames[2];
	int must[2];
};

static struct fixture fx;

static void build_pool(void)
{
	serr e;
	struct match_candidate_in c;

	memset(&fx, 0, sizeof fx);
	fx.p = match_pool_new(DIM, &e);
	assert_non_null(fx.p);
	for (int i = 0; i < 60; i++) {
		char id[16];
		snprintf(id, sizeof id, "rec%s%02d", i % 3 == 0 ? "F" : "M", i);
		plant(&fx.pcs[i], &c, id, i % 3 == 0, 0.01f * (float)(i % 7));
		assert_int_equal(match_pool_upsert(fx.p, &c, &e), 0);
	}
	fx.job = empty_job();
	for (int n = 0; n < MN_COUNT; n++) {
		axis(fx.jn[n], 0, -1, 0);
		fx.job.narrative[n] = fx.jn[n];
	}
	fx.job.role = fx.jn[MN_EXPERIENCE];
	axis(fx.jsk, 1, -1, 0);
	axis(fx.jsk + DIM, 2, -1, 0);
	fx.jnames[0] = "python";
	fx.jnames[1] = "sql";
	fx.must[0] = 1;
	fx.job.skill_names = fx.jnames;
	fx.job.skill_vectors = fx.jsk;
	fx.job.must_have = fx.must;
	fx.job.n_skills = 2;
}

static void planted_fits_rank_above_misfits(void **state)
{
	struct match_weights w;
	struct match_result out[MATCH_TOP];
	size_t n;
	serr e;

	(void)state;
	build_pool();
	match_weights_default(&w);
	assert_int_equal(match_rank(fx.p, &fx.job, &w, 3, MATCH_TOP, out, &n, NULL, NULL, NULL, &e), 0);
	assert_int_equal(n, MATCH_TOP);
	for (size_t i = 0; i < n; i++) {
		assert_true(strncmp(out[i].record_id, "recF", 4) == 0);
		if (i > 0)
			assert_true(out[i - 1].score >= out[i].score);
	}
	match_pool_free(fx.p);
}

static void excluded_and_rejected_are_never_returned_but_reported(void **state)
{
	struct match_weights w;
	struct match_result out[MATCH_TOP];
	struct match_exclusion ex[MATCH_TOP];
	struct match_candidate_in c;
	const char *rej[] = { "recF03" };
	size_t n, ne;
	serr e;

	(void)state;
	build_pool();
	match_weights_default(&w);
	plant(&fx.pcs[0], &c, "recF00", 1, 0);
	c.excluded = 1;
	assert_int_equal(match_pool_upsert(fx.p, &c, &e), 0);
	assert_int_equal(match_pool_size(fx.p), 60);
	fx.job.rejected = rej;
	fx.job.n_rejected = 1;
	assert_int_equal(match_rank(fx.p, &fx.job, &w, 0, MATCH_TOP, out, &n, ex, &ne, NULL, &e), 0);
	for (size_t i = 0; i < n; i++) {
		assert_string_not_equal(out[i].record_id, "recF00");
		assert_string_not_equal(out[i].record_id, "recF03");
	}
	assert_int_equal(ne, 2);
	assert_string_equal(ex[0].record_id, "recF00");
	assert_string_equal(ex[0].reason, "fraud");
	assert_string_equal(ex[1].record_id, "recF03");
	assert_string_equal(ex[1].reason, "rejected for this job");
	match_pool_free(fx.p);
}

static void editing_a_must_have_skill_changes_the_ranking(void **state)
{
	struct match_weights w;
	struct match_result before[5], after[5];
	size_t n;
	serr e;
	const char *edited[] = { "cobol", "fortran" };
	float ev[2 * DIM];

	(void)state;
	build_pool();
	match_weights_default(&w);
	assert_int_equal(match_rank(fx.p, &fx.job, &w, 2, 5, before, &n, NULL, NULL, NULL, &e), 0);
	assert_true(strncmp(before[0].record_id, "recF", 4) == 0);
	/* recruiter now wants cobol and fortran, both must-have, and nothing else */
	axis(ev, 6, -1, 0);
	axis(ev + DIM, 7, -1, 0);
	fx.must[1] = 1;
	fx.job.skill_names = edited;
	fx.job.skill_vectors = ev;
	for (int k = 0; k < MN_COUNT; k++)
		fx.job.narrative[k] = NULL;
	fx.job.role = NULL;
	assert_int_equal(match_rank(fx.p, &fx.job, &w, 2, 5, after, &n, NULL, NULL, NULL, &e), 0);
	assert_true(strncmp(after[0].record_id, "recM", 4) == 0);
	match_pool_free(fx.p);
}

static void ties_break_by_record_id(void **state)
{
	struct match_weights w;
	struct match_pool *p;
	struct match_candidate_in c;
	struct match_result out[3];
	struct match_job_in j = empty_job();
	const char *ids[] = { "recZ", "recB", "recM", "recA" };
	size_t n;
	serr e;

	(void)state;
	match_weights_default(&w);
	p = match_pool_new(DIM, &e);
	assert_non_null(p);
	for (int i = 0; i < 4; i++) {
		c = empty_cand(ids[i]);
		assert_int_equal(match_pool_upsert(p, &c, &e), 0);
	}
	for (int t = 1; t <= 4; t++) {
		assert_int_equal(match_rank(p, &j, &w, t, 3, out, &n, NULL, NULL, NULL, &e), 0);
		assert_int_equal(n, 3);
		assert_string_equal(out[0].record_id, "recA");
		assert_string_equal(out[1].record_id, "recB");
		assert_string_equal(out[2].record_id, "recM");
	}
	assert_int_equal(match_pool_remove(p, "recA"), 1);
	assert_int_equal(match_pool_remove(p, "recA"), 0);
	assert_int_equal(match_rank(p, &j, &w, 0, 3, out, &n, NULL, NULL, NULL, &e), 0);
	assert_string_equal(out[0].record_id, "recB");
	match_pool_free(p);
}

static void highlighted_candidate_is_surfaced_within_margin(void **state)
{
	struct match_weights w;
	struct match_result out[MATCH_TOP];
	struct match_candidate_in c;
	size_t n;
	int found = 0;
	serr e;

	(void)state;
	build_pool();
	match_weights_default(&w);
	w.highlight_margin = 1.0;
	plant(&fx.pcs[1], &c, "recM01", 0, 0);
	c.highlighted = 1;
	assert_int_equal(match_pool_upsert(fx.p, &c, &e), 0);
	assert_int_equal(match_rank(fx.p, &fx.job, &w, 2, MATCH_TOP, out, &n, NULL, NULL, NULL, &e), 0);
	assert_int_equal(n, MATCH_TOP);
	for (size_t i = 0; i < n; i++)
		if (strcmp(out[i].record_id, "recM01") == 0) {
			found = 1;
			assert_true(out[i].highlighted && out[i].surfaced_by_highlight);
		} else {
			assert_false(out[i].surfaced_by_highlight);
		}
	assert_true(found);
	w.highlight_slots = 0;
	assert_int_equal(match_rank(fx.p, &fx.job, &w, 2, MATCH_TOP, out, &n, NULL, NULL, NULL, &e), 0);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(out[i].record_id, "recM01");
	match_pool_free(fx.p);
}

static void pool_rank_agrees_with_the_float_path(void **state)
{
	struct match_weights w;
	struct match_result out[MATCH_TOP], one;
	struct match_candidate_in c;
	size_t n;
	serr e;

	(void)state;
	build_pool();
	match_weights_default(&w);
	assert_int_equal(match_rank(fx.p, &fx.job, &w, 2, MATCH_TOP, out, &n, NULL, NULL, NULL, &e), 0);
	for (size_t i = 0; i < n; i++) {
		int k = (out[i].record_id[4] - '0') * 10 + (out[i].record_id[5] - '0');
		plant(&fx.pcs[k], &c, out[i].record_id, k % 3 == 0, 0.01f * (float)(k % 7));
		assert_int_equal(match_score_one(&c, &fx.job, &w, DIM, &one, &e), 0);
		assert_true(fabs(one.score - out[i].score) < 0.01);
	}
	match_pool_free(fx.p);
}

static void oversized_input_is_refused_with_a_message(void **state)
{
	struct match_pool *p;
	struct match_candidate_in c = empty_cand("rec0123456789012345678901234567890123");
	serr e;

	(void)state;
	p = match_pool_new(DIM, &e);
	assert_non_null(p);
	assert_int_equal(match_pool_upsert(p, &c, &e), -1);
	assert_non_null(strstr(e.msg, "record id"));
	c = empty_cand("recOK");
	c.n_skills = 100000;
	assert_int_equal(match_pool_upsert(p, &c, &e), -1);
	assert_null(match_pool_new(0, &e));
	match_pool_free(p);
}

/* Two candidate skills equally close to a job skill's name: the first one is
 * the match, on both paths; a job skill without a name vector borrows the
 * pool's vector for the same name; names irrelevant to the job are skipped
 * without changing anything. */
static void name_matching_ties_and_the_pools_vector_for_a_job_name(void **state)
{
	struct match_weights w;
	struct match_candidate_in c = empty_cand("recA");
	struct match_job_in j = empty_job();
	struct match_result one, out[1];
	struct match_pool *p;
	const char *jn[] = { "postgresql", "rust" };
	const char *cn[] = { "cobol", "postgres", "pg", "rustlang" };
	float jnv[2 * DIM], cnv[4 * DIM], cv[4 * DIM], jv[2 * DIM], rat[] = { 9, 3, 7, 5 };
	size_t n;
	serr e;

	(void)state;
	match_weights_default(&w);
	axis(jnv, 1, -1, 0);          /* postgresql */
	axis(jnv + DIM, 2, -1, 0);    /* rust */
	axis(cnv, 6, -1, 0);          /* cobol: unrelated to both */
	axis(cnv + DIM, 1, 3, 0.2f);  /* postgres and pg: equally close to postgresql */
	axis(cnv + 2 * DIM, 1, 3, 0.2f);
	axis(cnv + 3 * DIM, 2, 4, 0.1f); /* rustlang: close to rust */
	for (int i = 0; i < 4; i++)
		axis(cv + i * DIM, 5, -1, 0);
	axis(jv, 5, -1, 0);
	axis(jv + DIM, 5, -1, 0);
	j.skill_names = jn;
	j.skill_vectors = jv;
	j.skill_name_vectors = jnv;
	j.n_skills = 2;
	c.skill_names = cn;
	c.skill_vectors = cv;
	c.skill_name_vectors = cnv;
	c.skill_ratings = rat;
	c.n_skills = 4;
	/* coverage: postgresql -> postgres (3, the first of the tie), rust -> rustlang (5) */
	assert_int_equal(match_score_one(&c, &j, &w, DIM, &one, &e), 0);
	assert_true(fabs(one.s_coverage - (0.3 + 0.5) / 2) < 1e-6);
	p = match_pool_new(DIM, &e);
	assert_non_null(p);
	assert_int_equal(match_pool_upsert(p, &c, &e), 0);
	assert_int_equal(match_rank(p, &j, &w, 1, 1, out, &n, NULL, NULL, NULL, &e), 0);
	assert_true(fabs(out[0].s_coverage - one.s_coverage) < 1e-6);

	/* the job knows "rust" only by name; the pool has a vector for it */
	assert_int_equal(match_pool_skill_vector_put(p, "rust", jnv + DIM, &e), 0);
	{
		float jnv2[2 * DIM];
		memcpy(jnv2, jnv, sizeof jnv2);
		for (int d = 0; d < DIM; d++)
			jnv2[DIM + d] = NAN;
		j.skill_name_vectors = jnv2;
		assert_int_equal(match_rank(p, &j, &w, 1, 1, out, &n, NULL, NULL, NULL, &e), 0);
		assert_true(fabs(out[0].s_coverage - (0.3 + 0.5) / 2) < 1e-6);
	}
	match_pool_free(p);
}

/* The dispatched int8 kernel (AVX2 on CPUs that have it) gives exactly the
 * portable kernel's sums, at the extremes of the quantized range too. */
static void dot_kernels_agree_at_the_extremes(void **state)
{
	enum { PD = 1536 };
	static int8_t a[PD], b[PD];
	uint64_t x = 88172645463325252ULL;

	(void)state;
	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < PD; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			a[i] = (int8_t)((int)(x % 255) - 127);
			b[i] = (int8_t)((int)((x >> 20) % 255) - 127);
			if (round == 1) {
				a[i] = 127;
				b[i] = -127;
			} else if (round == 2) {
				a[i] = -127;
				b[i] = -127;
			} else if (round == 3) {
				a[i] = (int8_t)(i % 2 ? 127 : -127);
				b[i] = 127;
			}
		}
		assert_int_equal(match_dot_i8(a, b, PD), match_dot_i8_portable(a, b, PD));
		if (round == 3)
			assert_int_equal(match_dot_i8(a, a, PD), PD * 127 * 127);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dot_kernels_agree_at_the_extremes),
		cmocka_unit_test(name_matching_ties_and_the_pools_vector_for_a_job_name),
		cmocka_unit_test(missing_everything_is_neutral),
		cmocka_unit_test(vector_component_renormalizes_over_present_parts),
		cmocka_unit_test(opposite_vectors_clip_to_zero),
		cmocka_unit_test(skills_weigh_must_haves_and_match_by_name_vector),
		cmocka_unit_test(pool_matches_skills_by_name_vector_like_the_float_path),
		cmocka_unit_test(compensation_overlap_and_unknown),
		cmocka_unit_test(seniority_penalty_per_year_is_capped),
		cmocka_unit_test(timezone_offsets_come_from_the_tz_database),
		cmocka_unit_test(location_prefers_near_zones_and_onsite_is_stricter),
		cmocka_unit_test(planted_fits_rank_above_misfits),
		cmocka_unit_test(excluded_and_rejected_are_never_returned_but_reported),
		cmocka_unit_test(editing_a_must_have_skill_changes_the_ranking),
		cmocka_unit_test(ties_break_by_record_id),
		cmocka_unit_test(highlighted_candidate_is_surfaced_within_margin),
		cmocka_unit_test(pool_rank_agrees_with_the_float_path),
		cmocka_unit_test(oversized_input_is_refused_with_a_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
