/*
 * Benchmark of the matchmaking engine on a synthetic pool (default 100,000
 * candidates, 1,536 dimensions, 5 narratives, 2 positions, 1 project, 20
 * skills each, skill names from a vocabulary of synonym pairs with one name
 * vector each). Prints: rank time / time to memcpy the bytes the scan reads
 * (the same number of bytes from the same candidates' blocks, same threads;
 * goal <= 2), rank time per candidate / a straightforward one-thread float64
 * reference per candidate, and the top-20 agreement of the int8 pool with an
 * unquantized float ranking of the whole pool (goal: identical).
 * SCOUT_BENCH_MATCH_N overrides the pool size.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "match/match.h"
#include "match/pool_internal.h"

#define DIM 1536
#define NSK 20
#define NPOS 2
#define NPROJ 1
#define NCLUST 64
#define VOCAB 300
#define JSK 10
#define REF_N 5000

static float *centroids; /* NCLUST * DIM */
static char vocab[VOCAB][16];
/* Name vectors: words 2k and 2k+1 are synonyms (cosine about 0.9), other
 * pairs unrelated. */
static float *namevec; /* VOCAB * DIM */

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static float noise(uint64_t *s)
{
	return (float)((double)(rng(s) >> 11) / 9007199254740992.0 - 0.5);
}

static void gen_vec(uint64_t *s, float *v)
{
	const float *c = centroids + (rng(s) % NCLUST) * DIM;

	for (int i = 0; i < DIM; i++)
		v[i] = c[i] + 0.8f * noise(s);
}

struct gcand {
	char id[16];
	float nar[MN_COUNT][DIM], pos[NPOS * DIM], proj[NPROJ * DIM], sk[NSK * DIM], rat[NSK];
	float skn[NSK * DIM];
	int word[NSK];
	const char *names[NSK];
	struct match_candidate_in in;
};

/* Candidate i is a pure function of i, so the reference can regenerate it. */
static void gen_cand(size_t i, struct gcand *g)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL ^ (i * 0x100000001b3ULL + 1);

	snprintf(g->id, sizeof g->id, "rec%08zu", i);
	memset(&g->in, 0, sizeof g->in);
	for (int n = 0; n < MN_COUNT; n++) {
		gen_vec(&s, g->nar[n]);
		g->in.narrative[n] = g->nar[n];
	}
	for (int k = 0; k < NPOS; k++)
		gen_vec(&s, g->pos + k * DIM);
	for (int k = 0; k < NPROJ; k++)
		gen_vec(&s, g->proj + k * DIM);
	for (int k = 0; k < NSK; k++) {
		gen_vec(&s, g->sk + k * DIM);
		g->word[k] = (int)(rng(&s) % VOCAB);
		g->names[k] = vocab[g->word[k]];
		memcpy(g->skn + k * DIM, namevec + (size_t)g->word[k] * DIM, sizeof(float) * DIM);
		g->rat[k] = (float)(1 + rng(&s) % 10);
	}
	g->in.record_id = g->id;
	g->in.positions = g->pos;
	g->in.n_positions = NPOS;
	g->in.projects = g->proj;
	g->in.n_projects = NPROJ;
	g->in.skill_names = g->names;
	g->in.skill_ratings = g->rat;
	g->in.skill_vectors = g->sk;
	g->in.skill_name_vectors = g->skn;
	g->in.n_skills = NSK;
	g->in.comp_min_usd = 60000 + (double)(rng(&s) % 80000);
	g->in.comp_max_usd = g->in.comp_min_usd + 20000;
	g->in.timezone = (rng(&s) & 1) ? "Europe/Berlin" : "America/New_York";
	g->in.years_experience = (double)(rng(&s) % 15);
	g->in.excluded = rng(&s) % 100 == 0;
	g->in.verified = rng(&s) % 4 == 0;
}

/* ---- memcpy baseline over the same bytes, same thread count ---- */

struct mc {
	const struct match_pool *p;
	size_t from, to;
	uint64_t vectors, n; /* vectors the scan read in all, pool size */
	char *scratch;
	size_t sum;
};

/* Candidate i gets its share of the vectors the scan read (spread evenly), copied
 * from the start of its own block: the same bytes in the same scattered places. */
static void *mc_run(void *arg)
{
	struct mc *m = arg;
	size_t pd = (size_t)m->p->pdim;

	for (size_t i = m->from; i < m->to; i++) {
		const struct mcand *c = m->p->c[i];
		uint64_t k = m->vectors * (i + 1) / m->n - m->vectors * i / m->n;

		if (k > (uint64_t)c->nvec)
			k = (uint64_t)c->nvec;
		memcpy(m->scratch, c->q, (size_t)k * pd);
		m->sum += (unsigned char)m->scratch[i % 64];
	}
	return NULL;
}

static double memcpy_ms(const struct match_pool *p, int threads, uint64_t vectors)
{
	struct mc m[64];
	pthread_t t[64];
	int64_t t0 = mono_ms();

	for (int k = 0; k < threads; k++) {
		m[k] = (struct mc){ p, p->n * (size_t)k / (size_t)threads, p->n * (size_t)(k + 1) / (size_t)threads,
				    vectors, p->n, malloc((size_t)(MN_COUNT + NPOS + NPROJ + NSK) * p->pdim), 0 };
		if (!m[k].scratch || pthread_create(&t[k], NULL, mc_run, &m[k]) != 0) {
			fprintf(stderr, "bench_match: cannot start memcpy thread\n");
			exit(1);
		}
	}
	for (int k = 0; k < threads; k++) {
		pthread_join(t[k], NULL);
		free(m[k].scratch);
	}
	return (double)(mono_ms() - t0);
}

/* ---- straightforward reference: float64 arrays, one thread, same formulas ---- */

static double rcos(const double *a, const double *b)
{
	double d = 0, na = 0, nb = 0;

	for (int i = 0; i < DIM; i++) {
		d += a[i] * b[i];
		na += a[i] * a[i];
		nb += b[i] * b[i];
	}
	return d / sqrt(na * nb);
}

static double clip(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

static void to_d(const float *f, double *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		d[i] = f[i];
}

struct rjob {
	double nar[MN_COUNT][DIM], sk[JSK][DIM], skn[JSK][DIM];
	const char *names[JSK];
	int must[JSK];
	double name_sim[VOCAB][JSK]; /* for the whole-pool ranking; NULL table = compute */
};

static double *rbuf; /* candidate vectors as doubles */

/* cosine of candidate skill k's name with job skill q's name */
static double ref_name_sim(const struct gcand *g, const double *skn, const struct rjob *j,
			   int table, int k, int q)
{
	if (table)
		return j->name_sim[g->word[k]][q];
	return rcos(skn + (size_t)k * DIM, j->skn[q]);
}

/*
 * The score of one candidate in float64 from the float32 vectors, written
 * out plainly. table = 0: every cosine computed here (the timed reference);
 * table = 1: name cosines from a table of the vocabulary (the whole-pool
 * ranking the int8 engine must agree with).
 */
static double ref_score(const struct gcand *g, const struct rjob *j, const struct match_weights *w,
			double tz_job, double off_berlin, double off_ny, const struct match_job_in *job,
			int table)
{
	double *nar = rbuf, *pos = nar + MN_COUNT * DIM, *proj = pos + NPOS * DIM, *sk = proj + NPROJ * DIM;
	double *skn = sk + NSK * DIM;
	double role, dom, cul, v, cov = 0, covw = 0, sem = 0, semw = 0, s, c, l, pen = 0, d, best;

	for (int n = 0; n < MN_COUNT; n++)
		to_d(g->nar[n], nar + n * DIM, DIM);
	to_d(g->pos, pos, NPOS * DIM);
	to_d(g->proj, proj, NPROJ * DIM);
	to_d(g->sk, sk, NSK * DIM);
	if (!table)
		to_d(g->skn, skn, NSK * DIM);
	best = 0;
	for (int k = 0; k < NPOS; k++)
		best = fmax(best, clip(rcos(j->nar[MN_EXPERIENCE], pos + k * DIM)));
	role = (clip(rcos(j->nar[MN_EXPERIENCE], nar)) + best) / 2;
	best = 0;
	for (int k = 0; k < NPROJ; k++)
		best = fmax(best, clip(rcos(j->nar[MN_DOMAIN], proj + k * DIM)));
	dom = (clip(rcos(j->nar[MN_DOMAIN], nar + MN_DOMAIN * DIM)) + best) / 2;
	cul = clip(rcos(j->nar[MN_PERSONALITY], nar + MN_PERSONALITY * DIM));
	v = (w->v_role * role + w->v_domain * dom + w->v_culture * cul) / (w->v_role + w->v_domain + w->v_culture);
	for (int q = 0; q < JSK; q++) {
		double wq = j->must[q] ? w->must_have : w->nice_to_have;
		int m = -1;
		for (int i = 0; i < NSK && m < 0; i++)
			if (strcmp(g->names[i], j->names[q]) == 0)
				m = i;
		if (m < 0) {
			double b = -2;
			for (int i = 0; i < NSK; i++) {
				double cs = ref_name_sim(g, skn, j, table, i, q);
				if (cs > b) { b = cs; m = i; }
			}
			if (b < w->skill_sim_threshold)
				m = -1;
		}
		covw += wq;
		semw += wq;
		if (m >= 0) {
			cov += wq * g->rat[m] / 10.0;
			sem += wq * clip(rcos(sk + m * DIM, j->sk[q]));
		}
	}
	s = (w->s_coverage * cov / covw + w->s_semantic * sem / semw) / (w->s_coverage + w->s_semantic);
	c = g->in.comp_min_usd <= job->salary_max_usd ? 1.0
		: clip(1.0 - (g->in.comp_min_usd - job->salary_max_usd) / job->salary_max_usd / 0.30);
	d = fabs((strcmp(g->in.timezone, "Europe/Berlin") == 0 ? off_berlin : off_ny) - tz_job);
	if (d > 12)
		d = 24 - d;
	l = clip(1.0 - d / 12.0);
	if (g->in.years_experience < job->min_years)
		pen = fmin(w->seniority_penalty_max, w->seniority_penalty_per_year * (job->min_years - g->in.years_experience));
	return w->vector * v + w->skills * s + w->comp * c + w->location * l - pen + (g->in.verified ? w->verified_boost : 0);
}

struct rent {
	double score;
	size_t i;
};

static int cmp_rent(const void *a, const void *b)
{
	const struct rent *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Keep the best MATCH_TOP of the reference ranking (sorted insert: k is small). */
static void ref_top_push(struct rent *top, size_t *n, double score, size_t i)
{
	struct rent e = { score, i };
	size_t k = *n < MATCH_TOP ? (*n)++ : MATCH_TOP;

	if (k == MATCH_TOP && cmp_rent(&e, &top[MATCH_TOP - 1]) >= 0)
		return;
	if (k == MATCH_TOP)
		k = MATCH_TOP - 1;
	while (k > 0 && cmp_rent(&e, &top[k - 1]) < 0) {
		top[k] = top[k - 1];
		k--;
	}
	top[k] = e;
}

/* A unit-ish random vector; synonyms share a base and differ by a little noise. */
static void make_names(uint64_t *s)
{
	float *base = malloc(sizeof(float) * DIM);

	if (!base) {
		fprintf(stderr, "bench_match: out of memory\n");
		exit(1);
	}
	for (int i = 0; i < VOCAB; i++) {
		float *v = namevec + (size_t)i * DIM;
		if (i % 2 == 0)
			for (int d = 0; d < DIM; d++)
				base[d] = noise(s);
		for (int d = 0; d < DIM; d++)
			v[d] = base[d] + 0.3f * noise(s);
		snprintf(vocab[i], sizeof vocab[i], "skill%03d", i);
	}
	free(base);
}

int main(void)
{
	const char *env = getenv("SCOUT_BENCH_MATCH_N");
	int64_t n = 100000, t0;
	struct match_pool *p, *sub;
	struct gcand *g = malloc(sizeof *g);
	struct rjob *rj = malloc(sizeof *rj);
	struct match_job_in job;
	struct match_weights w;
	struct match_result out[MATCH_TOP];
	struct match_exclusion ex[MATCH_TOP];
	struct match_rank_stats st;
	struct rent top[MATCH_TOP];
	float jn[MN_COUNT][DIM], jsk[JSK * DIM], jskn[JSK * DIM];
	size_t nout, nex, ntop = 0;
	double rank_ms = 1e30, copy_ms = 1e30, ref_ms = 0, sub_ms = 1e30, ob, on, oj;
	long threads = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t s = 42;
	int agree = 0, ref_n = 0;
	serr e;

	if (env && parse_i64(env, 1000, 10000000, &n) != 0) {
		fprintf(stderr, "bench_match: SCOUT_BENCH_MATCH_N must be 1000..10000000\n");
		return 1;
	}
	centroids = malloc(sizeof(float) * NCLUST * DIM);
	namevec = malloc(sizeof(float) * VOCAB * DIM);
	rbuf = malloc(sizeof(double) * (MN_COUNT + NPOS + NPROJ + 2 * NSK) * DIM);
	if (!g || !rj || !centroids || !namevec || !rbuf)
		return 1;
	for (int i = 0; i < NCLUST * DIM; i++)
		centroids[i] = noise(&s);
	make_names(&s);
	if (match_tz_offset_hours("Europe/Berlin", now_ms(), &ob, &e) != 0 ||
	    match_tz_offset_hours("America/New_York", now_ms(), &on, &e) != 0)
		return 1;
	oj = ob;

	/* the job first: the whole-pool reference is scored as the pool is built */
	memset(&job, 0, sizeof job);
	job.record_id = "recJOB";
	for (int k = 0; k < MN_COUNT; k++) {
		gen_vec(&s, jn[k]);
		job.narrative[k] = jn[k];
		to_d(jn[k], rj->nar[k], DIM);
	}
	job.role = jn[MN_EXPERIENCE];
	for (int q = 0; q < JSK; q++) {
		/* half the job's skills go by a synonym of a vocabulary word */
		int word = (int)(rng(&s) % VOCAB);
		gen_vec(&s, jsk + q * DIM);
		to_d(jsk + q * DIM, rj->sk[q], DIM);
		rj->names[q] = vocab[word];
		if (q % 2) {
			static char syn[JSK][24];
			snprintf(syn[q], sizeof syn[q], "%s-syn", vocab[word ^ 1]);
			rj->names[q] = syn[q];
		}
		memcpy(jskn + q * DIM, namevec + (size_t)word * DIM, sizeof(float) * DIM);
		to_d(jskn + q * DIM, rj->skn[q], DIM);
		rj->must[q] = q < 4;
	}
	for (int v = 0; v < VOCAB; v++) {
		double d[DIM];
		to_d(namevec + (size_t)v * DIM, d, DIM);
		for (int q = 0; q < JSK; q++)
			rj->name_sim[v][q] = rcos(d, rj->skn[q]);
	}
	job.skill_names = rj->names;
	job.skill_vectors = jsk;
	job.skill_name_vectors = jskn;
	job.must_have = rj->must;
	job.n_skills = JSK;
	job.salary_min_usd = 90000;
	job.salary_max_usd = 110000;
	job.timezone = "Europe/Berlin";
	job.min_years = 5;
	match_weights_default(&w);
	w.highlight_slots = 0;

	p = match_pool_new(DIM, &e);
	sub = match_pool_new(DIM, &e);
	if (!p || !sub)
		return 1;
	t0 = mono_ms();
	for (size_t i = 0; i < (size_t)n; i++) {
		gen_cand(i, g);
		if (match_pool_upsert(p, &g->in, &e) != 0 || (i < REF_N && match_pool_upsert(sub, &g->in, &e) != 0)) {
			fprintf(stderr, "bench_match: %s\n", e.msg);
			return 1;
		}
		if (!g->in.excluded)
			ref_top_push(top, &ntop, ref_score(g, rj, &w, oj, ob, on, &job, 1), i);
		if (i < REF_N) {
			/* the straightforward reference, timed on the first REF_N */
			int64_t r0 = mono_ms();
			volatile double sc = ref_score(g, rj, &w, oj, ob, on, &job, 0);
			(void)sc;
			ref_ms += (double)(mono_ms() - r0);
			ref_n++;
		}
	}
	printf("match pool: %lld candidates x %d vectors x %d dims int8, %d skill names, built with "
	       "the float reference in %.1f s\n", (long long)n, MN_COUNT + NPOS + NPROJ + NSK, DIM,
	       VOCAB, (double)(mono_ms() - t0) / 1000.0);

	/* best of 5: the machines are shared; memcpy right after each ranking */
	for (int r = 0; r < 5; r++) {
		t0 = mono_ms();
		if (match_rank(p, &job, &w, 0, MATCH_TOP, out, &nout, ex, &nex, &st, &e) != 0) {
			fprintf(stderr, "bench_match: %s\n", e.msg);
			return 1;
		}
		rank_ms = fmin(rank_ms, (double)(mono_ms() - t0));
		copy_ms = fmin(copy_ms, memcpy_ms(p, (int)threads, st.vectors_read));
	}
	printf("match scan: per candidate %.2f vectors read (of %d), %.2f int8 dot products; "
	       "%llu name comparisons per ranking\n",
	       (double)st.vectors_read / (double)n, MN_COUNT + NPOS + NPROJ + NSK,
	       (double)st.dots / (double)n, (unsigned long long)st.name_dots);
	printf("match rank: %.0f ms for %lld candidates on %ld threads; memcpy of the same bytes "
	       "(%.0f MB) %.0f ms; ratio %.2f (goal <= 2)\n",
	       rank_ms, (long long)n, threads, (double)st.vectors_read * p->pdim / 1e6, copy_ms,
	       rank_ms / fmax(copy_ms, 1));

	for (int r = 0; r < 3; r++) {
		t0 = mono_ms();
		if (match_rank(sub, &job, &w, 1, MATCH_TOP, out, &nout, NULL, NULL, NULL, &e) != 0)
			return 1;
		sub_ms = fmin(sub_ms, (double)(mono_ms() - t0));
	}
	printf("match reference: float64 one thread %.3f ms/candidate, engine one thread %.4f "
	       "ms/candidate: %.1fx faster (%.1fx on %ld threads)\n",
	       ref_ms / ref_n, sub_ms / ref_n, ref_ms / fmax(sub_ms, 0.5),
	       ref_ms / ref_n / (rank_ms / (double)n), threads);

	/* whole pool: the int8 top 20 against the unquantized ranking */
	if (match_rank(p, &job, &w, 0, MATCH_TOP, out, &nout, NULL, NULL, NULL, &e) != 0)
		return 1;
	for (size_t k = 0; k < nout && k < ntop; k++) {
		char id[16];
		snprintf(id, sizeof id, "rec%08zu", top[k].i);
		agree += strcmp(id, out[k].record_id) == 0;
	}
	printf("match agreement: int8 top-%d identical to the float ranking at %d of %zu positions "
	       "(whole pool of %lld; goal: all)\n", MATCH_TOP, agree, nout, (long long)n);
	match_pool_free(sub);
	match_pool_free(p);
	free(g);
	free(rj);
	free(rbuf);
	free(namevec);
	free(centroids);
	return 0;
}
