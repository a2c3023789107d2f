/*
 * The in-memory candidate pool: loaded once, refreshed one candidate at a
 * time (upsert/remove), compact enough for 100,000 candidates (int8 vectors,
 * about 4x smaller than float32).
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "match/match_internal.h"
#include "match/pool_internal.h"

/* q = v * 127 / max|v_i|; the scale brings q back to the unit vector. One
 * pass for the norm and the maximum, one multiply per value: this runs for
 * every vector of every candidate when the pool loads. */
float match_quantize(const float *v, int dim, int pdim, int8_t *q)
{
	double norm = 0;
	float maxabs = 0, inv;

	memset(q, 0, (size_t)pdim);
	if (!v || isnan(v[0]))
		return 0;
	for (int i = 0; i < dim; i++) {
		float a = fabsf(v[i]);

		if (!isfinite(v[i]))
			return 0;
		norm += (double)v[i] * v[i];
		if (a > maxabs)
			maxabs = a;
	}
	if (norm <= 0 || maxabs < FLT_MIN) /* subnormal: 127 / maxabs would overflow */
		return 0;
	inv = 127.0f / maxabs;
	for (int i = 0; i < dim; i++) {
		float x = v[i] * inv; /* within [-127, 127]: rounds half away from zero */
		q[i] = (int8_t)(int)(x + (x >= 0 ? 0.5f : -0.5f));
	}
	return (float)((double)maxabs / sqrt(norm) / 127.0);
}

/* Portable kernel: fixed 64-wide inner blocks let gcc vectorize the reduction. */
static int32_t dot_i8_generic(const int8_t *a, const int8_t *b, int pdim)
{
	int32_t s = 0;

	for (int i = 0; i < pdim; i += 64) {
		int32_t t = 0;
		for (int j = 0; j < 64; j++)
			t += (int16_t)a[i + j] * (int16_t)b[i + j];
		s += t;
	}
	return s;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/*
 * AVX2: |a| (unsigned) times b with a's sign, pairs summed to int16 by
 * maddubs (at most 2 * 127 * 127, no saturation: quantized values lie in
 * [-127, 127]), then to int32 by madd; 64 bytes per step, two accumulators.
 */
__attribute__((target("avx2"))) static int32_t dot_i8_avx2(const int8_t *a, const int8_t *b,
							    int pdim)
{
	const __m256i ones = _mm256_set1_epi16(1);
	__m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
	__m128i lo;

	for (int i = 0; i < pdim; i += 64) {
		__m256i a0 = _mm256_loadu_si256((const __m256i *)(a + i));
		__m256i b0 = _mm256_loadu_si256((const __m256i *)(b + i));
		__m256i a1 = _mm256_loadu_si256((const __m256i *)(a + i + 32));
		__m256i b1 = _mm256_loadu_si256((const __m256i *)(b + i + 32));
		__m256i p0 = _mm256_maddubs_epi16(_mm256_sign_epi8(a0, a0), _mm256_sign_epi8(b0, a0));
		__m256i p1 = _mm256_maddubs_epi16(_mm256_sign_epi8(a1, a1), _mm256_sign_epi8(b1, a1));

		acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(p0, ones));
		acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(p1, ones));
	}
	acc0 = _mm256_add_epi32(acc0, acc1);
	lo = _mm_add_epi32(_mm256_castsi256_si128(acc0), _mm256_extracti128_si256(acc0, 1));
	lo = _mm_add_epi32(lo, _mm_shuffle_epi32(lo, 0x4e));
	lo = _mm_add_epi32(lo, _mm_shuffle_epi32(lo, 0xb1));
	return _mm_cvtsi128_si32(lo);
}
#endif

typedef int32_t (*dot_fn)(const int8_t *, const int8_t *, int);

static dot_fn dot_pick(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		return dot_i8_avx2;
#endif
	return dot_i8_generic;
}

static dot_fn dot_kernel;
static pthread_once_t dot_once = PTHREAD_ONCE_INIT;

static void dot_init(void)
{
	dot_kernel = dot_pick();
}

int32_t match_dot_i8(const int8_t *a, const int8_t *b, int pdim)
{
	pthread_once(&dot_once, dot_init);
	return dot_kernel(a, b, pdim);
}

int32_t match_dot_i8_portable(const int8_t *a, const int8_t *b, int pdim)
{
	return dot_i8_generic(a, b, pdim);
}

struct match_pool *match_pool_new(int dim, serr *e)
{
	struct match_pool *p;

	if (dim <= 0 || dim > 65536) {
		serr_set(e, "match pool: dimension %d out of range 1..65536", dim);
		return NULL;
	}
	p = calloc(1, sizeof *p);
	if (!p) {
		serr_set(e, "match pool: out of memory");
		return NULL;
	}
	p->dim = dim;
	p->pdim = (dim + 63) / 64 * 64;
	idmap_init(&p->ids);
	idmap_init(&p->skills);
	idmap_init(&p->zones);
	return p;
}

static void mcand_free(struct mcand *c)
{
	if (!c)
		return;
	free(c); /* one block: see mcand_build */
}

void match_pool_free(struct match_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		mcand_free(p->c[i]);
	free(p->c);
	for (size_t i = 0; i < p->n_zones; i++)
		free(p->zone_names[i]);
	free(p->zone_names);
	idmap_free(&p->ids);
	idmap_free(&p->skills);
	idmap_free(&p->zones);
	free(p->name_q);
	free(p->name_scale);
	free(p);
}

size_t match_pool_size(const struct match_pool *p)
{
	return p ? p->n : 0;
}

/* Room for skill name id n in the name-vector arrays. */
static int names_reserve(struct match_pool *p, size_t n)
{
	size_t nc = p->names_cap ? p->names_cap : 256, bytes;
	int8_t *nq;
	float *ns;

	if (n < p->names_cap)
		return 0;
	while (nc <= n)
		if (size_mul(nc, 2, &nc) != 0)
			return -1;
	if (size_mul(nc, (size_t)p->pdim, &bytes) != 0 || !(nq = realloc(p->name_q, bytes)))
		return -1;
	p->name_q = nq;
	if (!(ns = realloc(p->name_scale, nc * sizeof *ns)))
		return -1;
	p->name_scale = ns;
	memset(ns + p->names_cap, 0, (nc - p->names_cap) * sizeof *ns);
	p->names_cap = nc;
	return 0;
}

static int intern_skill(struct match_pool *p, const char *s)
{
	int id = idmap_get(&p->skills, s);

	if (id >= 0)
		return id;
	id = (int)p->skills.len;
	if (names_reserve(p, (size_t)id) != 0)
		return -1;
	return idmap_put(&p->skills, s, id) == 0 ? id : -1;
}

int match_pool_skill_vector_put(struct match_pool *p, const char *name, const float *v,
				serr *e)
{
	int id;

	if (!p || !name || !*name)
		return serr_set(e, "match pool: skill name vector without a name");
	if ((id = intern_skill(p, name)) < 0)
		return serr_set(e, "match pool: out of memory adding skill name '%s'", name);
	p->name_scale[id] = match_quantize(v, p->dim, p->pdim, p->name_q + (size_t)id * p->pdim);
	return 0;
}

int match_pool_skill_vector_has(const struct match_pool *p, const char *name)
{
	int id = p && name ? idmap_get(&p->skills, name) : -1;

	return id >= 0 && p->name_scale[id] > 0;
}

static int intern_zone(struct match_pool *p, const char *z)
{
	int id = idmap_get(&p->zones, z);

	if (id >= 0)
		return id;
	if (p->n_zones == p->zones_cap) {
		size_t nc = p->zones_cap ? p->zones_cap * 2 : 16;
		char **nz = realloc(p->zone_names, nc * sizeof *nz);
		if (!nz)
			return -1;
		p->zone_names = nz;
		p->zones_cap = nc;
	}
	p->zone_names[p->n_zones] = xstrdup(z);
	if (!p->zone_names[p->n_zones] || idmap_put(&p->zones, z, (int)p->n_zones) != 0) {
		free(p->zone_names[p->n_zones]);
		return -1;
	}
	return (int)p->n_zones++;
}

static struct mcand *mcand_build(struct match_pool *p, const struct match_candidate_in *in, serr *e)
{
	struct mcand *c = NULL;
	size_t nvec = MN_COUNT + in->n_positions + in->n_projects + in->n_skills;
	size_t qbytes, head, total;
	int v = 0;

	/* One block per candidate (the struct, its scales, skill ids, ratings, then
	 * the 64-byte aligned vectors): the scan misses the cache once per
	 * candidate instead of once per array. Counts were bounded by the caller. */
	head = sizeof *c + nvec * sizeof(float) + (in->n_skills + 1) * (sizeof(int) + sizeof(float));
	head = (head + 63) / 64 * 64;
	if (size_mul(nvec, (size_t)p->pdim, &qbytes) != 0 || size_add(head, qbytes, &total) != 0)
		goto oom;
	if (posix_memalign((void **)&c, 64, total) != 0) {
		c = NULL;
		goto oom;
	}
	memset(c, 0, head);
	c->scale = (float *)(c + 1);
	c->skill_ids = (int *)(c->scale + nvec);
	c->ratings = (float *)(c->skill_ids + in->n_skills + 1);
	c->q = (int8_t *)c + head;
	snprintf(c->id, sizeof c->id, "%s", in->record_id);
	c->n_pos = (int)in->n_positions;
	c->n_proj = (int)in->n_projects;
	c->n_skills = (int)in->n_skills;
	c->nvec = (int)nvec;
	for (int i = 0; i < MN_COUNT; i++, v++)
		c->scale[v] = match_quantize(in->narrative[i], p->dim, p->pdim, c->q + mcand_row(c, v) * p->pdim);
	for (int i = 0; i < c->n_pos; i++, v++)
		c->scale[v] = match_quantize(in->positions ? in->positions + (size_t)i * p->dim : NULL,
					     p->dim, p->pdim, c->q + mcand_row(c, v) * p->pdim);
	for (int i = 0; i < c->n_proj; i++, v++)
		c->scale[v] = match_quantize(in->projects ? in->projects + (size_t)i * p->dim : NULL,
					     p->dim, p->pdim, c->q + mcand_row(c, v) * p->pdim);
	for (int i = 0; i < c->n_skills; i++, v++) {
		c->scale[v] = match_quantize(in->skill_vectors ? in->skill_vectors + (size_t)i * p->dim : NULL,
					     p->dim, p->pdim, c->q + mcand_row(c, v) * p->pdim);
		c->skill_ids[i] = in->skill_names && in->skill_names[i] ? intern_skill(p, in->skill_names[i]) : -2;
		if (c->skill_ids[i] == -1)
			goto oom;
		if (c->skill_ids[i] >= 0 && p->name_scale[c->skill_ids[i]] <= 0 &&
		    in->skill_name_vectors) {
			int8_t *nq = p->name_q + (size_t)c->skill_ids[i] * p->pdim;
			p->name_scale[c->skill_ids[i]] =
				match_quantize(in->skill_name_vectors + (size_t)i * p->dim, p->dim,
					       p->pdim, nq);
		}
		c->ratings[i] = in->skill_ratings ? in->skill_ratings[i] : NAN;
	}
	c->comp_min = in->comp_min_usd;
	c->comp_max = in->comp_max_usd;
	c->years = in->years_experience;
	c->tz_id = -1;
	if (in->timezone && *in->timezone && (c->tz_id = intern_zone(p, in->timezone)) < 0)
		goto oom;
	c->excluded = in->excluded != 0;
	c->verified = in->verified != 0;
	c->highlighted = in->highlighted != 0;
	return c;
oom:
	serr_set(e, "match pool: out of memory adding candidate '%s'", in->record_id);
	mcand_free(c);
	return NULL;
}

int match_pool_upsert(struct match_pool *p, const struct match_candidate_in *in, serr *e)
{
	struct mcand *c;
	int slot;

	if (!p || !in || !in->record_id || !*in->record_id)
		return serr_set(e, "match pool: candidate without a record id");
	if (strlen(in->record_id) >= sizeof c->id)
		return serr_set(e, "match pool: record id '%.40s' longer than %zu characters",
				in->record_id, sizeof c->id - 1);
	if (in->n_skills > MATCH_MAX_CAND_SKILLS || in->n_positions > MATCH_MAX_ITEMS ||
	    in->n_projects > MATCH_MAX_ITEMS)
		return serr_set(e, "match pool: candidate '%s' has %zu skills, %zu positions, %zu projects (limits %d, %d, %d)",
				in->record_id, in->n_skills, in->n_positions, in->n_projects,
				MATCH_MAX_CAND_SKILLS, MATCH_MAX_ITEMS, MATCH_MAX_ITEMS);
	c = mcand_build(p, in, e);
	if (!c)
		return -1;
	slot = idmap_get(&p->ids, c->id);
	if (slot >= 0) {
		mcand_free(p->c[slot]);
		p->c[slot] = c;
		return 0;
	}
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 1024;
		struct mcand **n = realloc(p->c, nc * sizeof *n);
		if (!n) {
			mcand_free(c);
			return serr_set(e, "match pool: out of memory growing to %zu candidates", nc);
		}
		p->c = n;
		p->cap = nc;
	}
	if (idmap_put(&p->ids, c->id, (int)p->n) != 0) {
		mcand_free(c);
		return serr_set(e, "match pool: out of memory indexing candidate '%s'", in->record_id);
	}
	p->c[p->n++] = c;
	return 0;
}

int match_pool_remove(struct match_pool *p, const char *record_id)
{
	int slot = p ? idmap_get(&p->ids, record_id) : -1;

	if (slot < 0)
		return 0;
	(void)idmap_del(&p->ids, record_id);
	mcand_free(p->c[slot]);
	p->n--;
	if ((size_t)slot != p->n) {
		p->c[slot] = p->c[p->n];
		/* overwriting an existing key cannot allocate */
		if (idmap_put(&p->ids, p->c[slot]->id, slot) != 0)
			return 1;
	}
	return 1;
}
