/*
 * Ranking one job against the whole pool: the job's vectors are quantized
 * once, candidate ranges are scored on all cores with per-thread top-k heaps,
 * then merged; exclusions and the highlight rule are applied on the merge.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "match/match_internal.h"
#include "match/pool_internal.h"

struct jprep {
	const struct match_job_in *job;
	int8_t *q;        /* (MJ_SKILL0 + n_skills) * pdim */
	float *scale;
	int *skill_ids;   /* interned id or -1 */
	int8_t *nq;       /* n_skills * pdim: the job's skill name vectors */
	float *nscale;
	size_t n_names;   /* pool skill names when the ranking started */
	float *name_sim;  /* n_names * n_skills cosines (a row per pool name), NAN where
			   * a vector is missing */
	unsigned char *name_hit; /* per pool name: it can match some job skill */
	double *zone_off; /* per pool zone, NAN unknown */
	double job_tz;
	struct idmap rejected;
};

/* Distinct candidate vectors read: one bit per slot (narratives, positions,
 * projects, skills; see MATCH_MAX_*). */
#define SEEN_WORDS ((MN_COUNT + 2 * MATCH_MAX_ITEMS + MATCH_MAX_CAND_SKILLS + 63) / 64)

struct pctx {
	const struct match_pool *p;
	const struct mcand *c;
	const struct jprep *j;
	uint64_t *seen;
	struct match_rank_stats *st;
};

static double pool_cos(const void *ctx, int cs, int js)
{
	const struct pctx *x = ctx;
	float sj = x->j->scale[js], sc;

	if (sj <= 0)
		return NAN;
	if (cs < 0)
		return 1.0;
	sc = x->c->scale[cs];
	if (sc <= 0)
		return NAN;
	if (x->st) {
		uint64_t bit = 1ULL << (cs % 64);
		if (!(x->seen[cs / 64] & bit)) {
			x->seen[cs / 64] |= bit;
			x->st->vectors_read++;
		}
		x->st->dots++;
	}
	return (double)match_dot_i8(x->c->q + mcand_row(x->c, cs) * x->p->pdim,
				    x->j->q + (size_t)js * x->p->pdim, x->p->pdim) * sc * sj;
}

/* Scores one pooled candidate; nm is scratch for the name matches. */
static void score_pooled(const struct match_pool *p, const struct jprep *j, const struct match_weights *w,
			 const struct mcand *c, int *nm, struct match_rank_stats *st,
			 struct match_result *r)
{
	uint64_t seen[SEEN_WORDS] = { 0 };
	struct pctx x = { p, c, j, seen, st };
	struct match_core_in in;
	const struct match_job_in *job = j->job;

	{
		/* One pass over the candidate's skills, every job skill at once (the
		 * table is laid out per pool name): the same rule as match_score_one,
		 * first exact name, else the first most similar name above the
		 * threshold. */
		size_t nk = job->n_skills;
		float best[MATCH_MAX_JOB_SKILLS];
		int arg[MATCH_MAX_JOB_SKILLS];

		for (size_t k = 0; k < nk; k++) {
			nm[k] = -1;
			arg[k] = -1;
			best[k] = -2;
		}
		for (int i = 0; i < c->n_skills; i++) {
			int sid = c->skill_ids[i];
			const float *row;

			/* a name below the threshold for every job skill and equal to
			 * none can never be the match chosen: skip it */
			if (sid < 0 || (size_t)sid >= j->n_names || !j->name_hit[sid])
				continue;
			row = j->name_sim + (size_t)sid * nk;
			for (size_t k = 0; k < nk; k++) {
				if (nm[k] < 0 && sid == j->skill_ids[k])
					nm[k] = i;
				if (row[k] > best[k]) { /* false for NAN */
					best[k] = row[k];
					arg[k] = i;
				}
			}
		}
		for (size_t k = 0; k < nk; k++)
			if (nm[k] < 0 && arg[k] >= 0 && best[k] >= w->skill_sim_threshold)
				nm[k] = arg[k];
	}
	memset(&in, 0, sizeof in);
	in.cos = pool_cos;
	in.ctx = &x;
	in.n_pos = c->n_pos;
	in.n_proj = c->n_proj;
	in.n_skills = c->n_skills;
	in.ratings = c->ratings;
	in.skill_match = nm;
	in.job_n_skills = (int)job->n_skills;
	in.must_have = job->must_have;
	in.comp_min = c->comp_min;
	in.comp_max = c->comp_max;
	in.sal_min = job->salary_min_usd;
	in.sal_max = job->salary_max_usd;
	in.cand_tz = c->tz_id >= 0 ? j->zone_off[c->tz_id] : NAN;
	in.job_tz = j->job_tz;
	in.work_setup = job->work_setup;
	in.years = c->years;
	in.min_years = job->min_years;
	in.verified = c->verified;
	in.highlighted = c->highlighted;
	match_components(&in, w, r);
}

/* ---- top-k heaps of (score, candidate index), worst at the root ---- */

struct hent {
	double score;
	int idx;
};

struct heap {
	struct hent *a;
	size_t n, k;
};

/* Deterministic order: higher score first, then the smaller record id. */
static int better(const struct match_pool *p, const struct hent *x, const struct hent *y)
{
	if (x->score != y->score)
		return x->score > y->score;
	return strcmp(p->c[x->idx]->id, p->c[y->idx]->id) < 0;
}

static void heap_push(const struct match_pool *p, struct heap *h, double score, int idx)
{
	struct hent e = { score, idx };
	size_t i;

	if (h->k == 0)
		return;
	if (h->n == h->k) {
		if (!better(p, &e, &h->a[0]))
			return;
		i = 0;
		for (;;) { /* sift down from the root */
			size_t l = 2 * i + 1, r = l + 1, m = i;
			const struct hent *mv = &e;
			if (l < h->n && better(p, mv, &h->a[l])) { m = l; mv = &h->a[l]; }
			if (r < h->n && better(p, mv, &h->a[r])) { m = r; }
			if (m == i)
				break;
			h->a[i] = h->a[m];
			i = m;
		}
		h->a[i] = e;
		return;
	}
	i = h->n++;
	while (i > 0 && better(p, &h->a[(i - 1) / 2], &e)) {
		h->a[i] = h->a[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->a[i] = e;
}

struct worker {
	const struct match_pool *p;
	struct jprep *j;
	const struct match_weights *w;
	size_t from, to;           /* candidates */
	size_t name_from, name_to; /* pool skill names (first phase) */
	struct heap top, excl, hl;
	int nm[MATCH_MAX_JOB_SKILLS];
	struct match_rank_stats st;
};

/* First phase: the job's skill names against a slice of the pool's names, so
 * the scan matches names by a table look-up instead of a dot product. */
static void *names_run(void *arg)
{
	struct worker *wk = arg;
	const struct match_pool *p = wk->p;
	struct jprep *j = wk->j;

	size_t nk = j->job->n_skills;

	for (size_t sid = wk->name_from; sid < wk->name_to; sid++) {
		float sc = p->name_scale[sid], *row = j->name_sim + sid * nk;

		j->name_hit[sid] = 0;
		for (size_t k = 0; k < nk; k++) {
			if (j->skill_ids[k] == (int)sid)
				j->name_hit[sid] = 1;
			if (j->nscale[k] <= 0 || sc <= 0) {
				row[k] = NAN;
				continue;
			}
			row[k] = (float)((double)match_dot_i8(j->nq + k * (size_t)p->pdim,
							       p->name_q + sid * (size_t)p->pdim,
							       p->pdim) *
					 j->nscale[k] * sc);
			if (row[k] >= wk->w->skill_sim_threshold)
				j->name_hit[sid] = 1;
			wk->st.name_dots++;
		}
	}
	return NULL;
}

static void *worker_run(void *arg)
{
	struct worker *wk = arg;
	struct match_result r;

	for (size_t i = wk->from; i < wk->to; i++) {
		const struct mcand *c = wk->p->c[i];

		/* Prefetch while this candidate is scored: the header of the one
		 * after next, and the rows every score reads (mcand_row) of the next
		 * one, whose header came in the previous round. Each candidate is a
		 * separate block, which the hardware prefetchers do not follow. */
		if (i + 2 < wk->to) {
			const char *h = (const char *)wk->p->c[i + 2];
			for (int l = 0; l < 4; l++)
				__builtin_prefetch(h + 64 * l);
		}
		if (i + 1 < wk->to) {
			const struct mcand *nx = wk->p->c[i + 1];
			size_t rows = (size_t)(MN_IMPACT + nx->n_pos + nx->n_proj);
			size_t bytes = rows * (size_t)wk->p->pdim;

			for (size_t off = 0; off < bytes; off += 64)
				__builtin_prefetch((const char *)nx->q + off);
		}
		score_pooled(wk->p, wk->j, wk->w, c, wk->nm, &wk->st, &r);
		wk->st.candidates++;
		if (c->excluded || (wk->j->rejected.len && idmap_get(&wk->j->rejected, c->id) >= 0)) {
			heap_push(wk->p, &wk->excl, r.score, (int)i);
			continue;
		}
		heap_push(wk->p, &wk->top, r.score, (int)i);
		if (c->highlighted)
			heap_push(wk->p, &wk->hl, r.score, (int)i);
	}
	return NULL;
}

static const struct match_pool *sort_pool;

static int cmp_hent(const void *a, const void *b)
{
	const struct hent *x = a, *y = b;

	if (better(sort_pool, x, y))
		return -1;
	return better(sort_pool, y, x) ? 1 : 0;
}

static void sort_hents(const struct match_pool *p, struct hent *a, size_t n)
{
	/* qsort has no context argument; the merge runs on the calling thread only */
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

	pthread_mutex_lock(&lock);
	sort_pool = p;
	qsort(a, n, sizeof *a, cmp_hent);
	pthread_mutex_unlock(&lock);
}

static int jprep_init(struct jprep *j, const struct match_pool *p, const struct match_job_in *job, serr *e)
{
	size_t nv = MJ_SKILL0 + job->n_skills, bytes;
	int64_t now = now_ms();

	memset(j, 0, sizeof *j);
	j->job = job;
	idmap_init(&j->rejected);
	if (size_mul(nv, (size_t)p->pdim, &bytes) != 0)
		return serr_set(e, "job '%s': vector size overflow", job->record_id);
	j->q = malloc(bytes);
	j->scale = calloc(nv, sizeof *j->scale);
	j->skill_ids = calloc(job->n_skills + 1, sizeof *j->skill_ids);
	j->zone_off = calloc(p->n_zones + 1, sizeof *j->zone_off);
	j->n_names = p->skills.len;
	j->nscale = calloc(job->n_skills + 1, sizeof *j->nscale);
	if (size_mul(job->n_skills + 1, (size_t)p->pdim, &bytes) == 0)
		j->nq = malloc(bytes);
	if (size_mul(job->n_skills, j->n_names, &bytes) == 0 &&
	    size_mul(bytes + 1, sizeof *j->name_sim, &bytes) == 0)
		j->name_sim = malloc(bytes);
	j->name_hit = calloc(j->n_names + 1, 1);
	if (!j->q || !j->scale || !j->skill_ids || !j->zone_off || !j->nscale || !j->nq ||
	    !j->name_sim || !j->name_hit)
		return serr_set(e, "job '%s': out of memory preparing the ranking", job->record_id);
	for (int i = 0; i < MN_COUNT; i++)
		j->scale[i] = match_quantize(job->narrative[i], p->dim, p->pdim, j->q + (size_t)i * p->pdim);
	j->scale[MJ_ROLE] = match_quantize(job->role, p->dim, p->pdim, j->q + (size_t)MJ_ROLE * p->pdim);
	for (size_t k = 0; k < job->n_skills; k++) {
		size_t v = MJ_SKILL0 + k;
		j->scale[v] = match_quantize(job->skill_vectors ? job->skill_vectors + k * (size_t)p->dim : NULL,
					     p->dim, p->pdim, j->q + v * p->pdim);
		j->skill_ids[k] = job->skill_names && job->skill_names[k] ? idmap_get(&p->skills, job->skill_names[k]) : -1;
		j->nscale[k] = match_quantize(job->skill_name_vectors ?
					      job->skill_name_vectors + k * (size_t)p->dim : NULL,
					      p->dim, p->pdim, j->nq + k * (size_t)p->pdim);
		if (j->nscale[k] <= 0 && j->skill_ids[k] >= 0 && p->name_scale[j->skill_ids[k]] > 0) {
			/* the job has no vector for this name; the pool has one */
			j->nscale[k] = p->name_scale[j->skill_ids[k]];
			memcpy(j->nq + k * (size_t)p->pdim,
			       p->name_q + (size_t)j->skill_ids[k] * p->pdim, (size_t)p->pdim);
		}
	}
	for (size_t z = 0; z < p->n_zones; z++) {
		serr ze;
		double h;
		j->zone_off[z] = match_tz_offset_hours(p->zone_names[z], now, &h, &ze) == 0 ? h : NAN;
	}
	j->job_tz = NAN;
	if (job->timezone && *job->timezone) {
		serr ze;
		double h;
		if (match_tz_offset_hours(job->timezone, now, &h, &ze) == 0)
			j->job_tz = h;
	}
	for (size_t i = 0; i < job->n_rejected; i++)
		if (job->rejected[i] && idmap_put(&j->rejected, job->rejected[i], 1) != 0)
			return serr_set(e, "job '%s': out of memory indexing rejections", job->record_id);
	return 0;
}

static void jprep_free(struct jprep *j)
{
	free(j->q);
	free(j->scale);
	free(j->skill_ids);
	free(j->zone_off);
	free(j->nq);
	free(j->nscale);
	free(j->name_sim);
	free(j->name_hit);
	idmap_free(&j->rejected);
}

static void fill_result(const struct match_pool *p, const struct jprep *j, const struct match_weights *w,
			int idx, struct match_result *r)
{
	int nm[MATCH_MAX_JOB_SKILLS];

	memset(r, 0, sizeof *r);
	score_pooled(p, j, w, p->c[idx], nm, NULL, r);
	snprintf(r->record_id, sizeof r->record_id, "%s", p->c[idx]->id);
}

/* Highlight rule: up to highlight_slots highlighted candidates in the list; one
 * outside the top k replaces the lowest non-highlighted entry when its score is
 * within highlight_margin of the k-th score, and is marked surfaced_by_highlight. */
static size_t apply_highlight(const struct match_pool *p, const struct match_weights *w, size_t k,
			      struct hent *top, size_t nt, const struct hent *hl, size_t nh)
{
	size_t have = 0;

	if (nt < k || w->highlight_slots <= 0)
		return nt;
	for (size_t i = 0; i < nt; i++)
		have += p->c[top[i].idx]->highlighted ? 1 : 0;
	for (size_t h = 0; h < nh && have < (size_t)w->highlight_slots; h++) {
		int in_top = 0;
		for (size_t i = 0; i < nt; i++)
			in_top |= top[i].idx == hl[h].idx;
		if (in_top)
			continue;
		if (hl[h].score < top[k - 1].score - w->highlight_margin)
			break;
		for (size_t i = nt; i-- > 0;) {
			if (!p->c[top[i].idx]->highlighted) {
				top[i] = hl[h];
				have++;
				break;
			}
		}
	}
	sort_hents(p, top, nt);
	return nt;
}

static size_t merge(const struct match_pool *p, struct worker *wk, int nthreads, size_t which,
		    struct hent *all)
{
	size_t n = 0;

	for (int t = 0; t < nthreads; t++) {
		struct heap *h = which == 0 ? &wk[t].top : which == 1 ? &wk[t].excl : &wk[t].hl;
		memcpy(all + n, h->a, h->n * sizeof *all);
		n += h->n;
	}
	sort_hents(p, all, n);
	return n;
}

/* Run fn on every worker: threads 1.. in new threads, worker 0 (and any whose
 * thread could not start) on the caller's. */
static void run_all(struct worker *wk, pthread_t *tid, int threads, void *(*fn)(void *))
{
	int started = 0;

	for (int t = 1; t < threads; t++) {
		if (pthread_create(&tid[t], NULL, fn, &wk[t]) != 0)
			break;
		started = t;
	}
	for (int t = started + 1; t < threads; t++)
		fn(&wk[t]);
	fn(&wk[0]);
	for (int t = 1; t <= started; t++)
		pthread_join(tid[t], NULL);
}

int match_rank(const struct match_pool *p, const struct match_job_in *job, const struct match_weights *w,
	       int threads, size_t k, struct match_result *out, size_t *n_out,
	       struct match_exclusion *excl, size_t *n_excl, struct match_rank_stats *stats,
	       serr *e)
{
	struct jprep j;
	struct worker *wk = NULL;
	pthread_t *tid = NULL;
	struct hent *all = NULL;
	size_t nt, ne, nh, cap, slots = w && w->highlight_slots > 0 ? (size_t)w->highlight_slots : 0;
	int rc = -1;

	if (n_out)
		*n_out = 0;
	if (n_excl)
		*n_excl = 0;
	if (!p || !job || !w || !out || !n_out || k == 0 || k > 100000)
		return serr_set(e, "match_rank: missing argument or k %zu out of range 1..100000", k);
	if (!job->record_id)
		return serr_set(e, "match_rank: job without a record id");
	if (job->n_skills > MATCH_MAX_JOB_SKILLS)
		return serr_set(e, "job '%s' has %zu skills; at most %d are scored", job->record_id,
				job->n_skills, MATCH_MAX_JOB_SKILLS);
	if (jprep_init(&j, p, job, e) != 0)
		goto out;
	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (int)n : 1;
	}
	if (threads > 256)
		threads = 256;
	if ((size_t)threads > p->n / 64 + 1)
		threads = (int)(p->n / 64 + 1);
	wk = calloc((size_t)threads, sizeof *wk);
	tid = calloc((size_t)threads, sizeof *tid);
	cap = (size_t)threads * (2 * k + slots) + 1;
	all = calloc(cap, sizeof *all);
	if (!wk || !tid || !all) {
		serr_set(e, "job '%s': out of memory for %d ranking threads", job->record_id, threads);
		goto out;
	}
	for (int t = 0; t < threads; t++) {
		wk[t].p = p;
		wk[t].j = &j;
		wk[t].w = w;
		wk[t].from = p->n * (size_t)t / (size_t)threads;
		wk[t].to = p->n * (size_t)(t + 1) / (size_t)threads;
		wk[t].name_from = j.n_names * (size_t)t / (size_t)threads;
		wk[t].name_to = j.n_names * (size_t)(t + 1) / (size_t)threads;
		wk[t].top.k = k;
		wk[t].excl.k = k;
		wk[t].hl.k = slots;
		wk[t].top.a = calloc(k, sizeof(struct hent));
		wk[t].excl.a = calloc(k, sizeof(struct hent));
		wk[t].hl.a = calloc(slots + 1, sizeof(struct hent));
		if (!wk[t].top.a || !wk[t].excl.a || !wk[t].hl.a) {
			serr_set(e, "job '%s': out of memory for ranking heaps", job->record_id);
			goto out;
		}
	}
	run_all(wk, tid, threads, names_run);
	run_all(wk, tid, threads, worker_run);
	if (stats) {
		memset(stats, 0, sizeof *stats);
		stats->threads = threads;
		for (int t = 0; t < threads; t++) {
			stats->candidates += wk[t].st.candidates;
			stats->vectors_read += wk[t].st.vectors_read;
			stats->dots += wk[t].st.dots;
			stats->name_dots += wk[t].st.name_dots;
		}
	}

	/* highlighted first (they need their own copy), then exclusions, then the top */
	{
		struct hent *hl = calloc((size_t)threads * slots + 1, sizeof *hl);
		struct hent *top = calloc((size_t)threads * k + 1, sizeof *top);
		if (!hl || !top) {
			free(hl);
			free(top);
			serr_set(e, "job '%s': out of memory merging results", job->record_id);
			goto out;
		}
		nh = merge(p, wk, threads, 2, hl);
		nt = merge(p, wk, threads, 0, top);
		if (nt > k)
			nt = k;
		nt = apply_highlight(p, w, k, top, nt, hl, nh);
		for (size_t i = 0; i < nt; i++)
			fill_result(p, &j, w, top[i].idx, &out[i]);
		/* surfaced by highlight = in the list but not in the plain top k */
		{
			size_t n2 = merge(p, wk, threads, 0, all);
			for (size_t i = 0; i < nt; i++) {
				int plain = 0;
				for (size_t t = 0; t < n2 && t < k; t++)
					plain |= all[t].idx == top[i].idx;
				out[i].surfaced_by_highlight = !plain;
			}
		}
		*n_out = nt;
		if (excl && n_excl) {
			ne = merge(p, wk, threads, 1, all);
			for (size_t i = 0; i < ne && *n_excl < k; i++) {
				const struct mcand *c = p->c[all[i].idx];
				if (nt == k && all[i].score < top[k - 1].score)
					break;
				snprintf(excl[*n_excl].record_id, sizeof excl[*n_excl].record_id, "%s", c->id);
				excl[*n_excl].score = all[i].score;
				excl[*n_excl].reason = c->excluded ? "fraud" : "rejected for this job";
				(*n_excl)++;
			}
		}
		free(hl);
		free(top);
	}
	rc = 0;
out:
	if (wk)
		for (int t = 0; t < threads; t++) {
			free(wk[t].top.a);
			free(wk[t].excl.a);
			free(wk[t].hl.a);
		}
	free(wk);
	free(tid);
	free(all);
	jprep_free(&j);
	return rc;
}
