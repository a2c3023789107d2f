/*
 * Vectorization of normalized candidates and jobs. Texts are looked up in
 * the embedding cache by (model, dimensions, SHA-256 of the text); only the
 * misses, each distinct text once, go to the embeddings API, and they are
 * added to the cache before the record's vectors are replaced. A record
 * whose vector kinds and text hashes are unchanged is not written again.
 * Each distinct skill name also gets one name vector (skill_name_vectors),
 * shared by every record that names the skill.
 */
#include "pipeline/vectorize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/context.h"
#include "pipeline/llm_ctx.h"
#include "store/normalized.h"
#include "store/vectors.h"

/* Longest text embedded; the models take about 8,000 tokens. */
#define VECTOR_TEXT_MAX 16000

static const char *const candidate_narratives[] = { "experience", "domain", "personality",
						     "impact", "technical" };
static const char *const job_narratives[] = { "experience", "domain", "personality",
					       "impact", "technical", "role" };

static int add_text(struct vector_texts *t, const char *kind, struct buf *text)
{
	size_t n = text->len;

	while (n && (text->data[n - 1] == ' ' || text->data[n - 1] == '\n'))
		n--;
	if (n == 0)
		return 0;
	if (n > VECTOR_TEXT_MAX) {
		n = VECTOR_TEXT_MAX;
		while (n && ((unsigned char)text->data[n] & 0xC0) == 0x80)
			n--;
	}
	if (json_array_append_new(t->kinds, json_string(kind)) < 0 ||
	    json_array_append_new(t->texts, json_stringn(text->data, n)) < 0)
		return -1;
	return 0;
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* "a: b" or whichever part is present. */
static int pair(struct buf *b, const char *a, const char *sep, const char *c)
{
	buf_reset(b);
	if (buf_puts(b, a) < 0)
		return -1;
	if (*a && *c && buf_puts(b, sep) < 0)
		return -1;
	return buf_puts(b, c);
}

int vectorize_texts(const json_t *nz, int job, struct vector_texts *out, serr *e)
{
	const json_t *nar = json_object_get(nz, "narratives"), *item;
	const char *const *names = job ? job_narratives : candidate_narratives;
	size_t nn = job ? 6 : 5, i;
	struct buf text, kind;
	int rc = -1;

	out->kinds = json_array();
	out->texts = json_array();
	buf_init(&text, 0);
	buf_init(&kind, 512);
	if (!out->kinds || !out->texts)
		goto oom;
	for (i = 0; i < nn; i++) {
		buf_reset(&kind);
		if (pair(&text, str(nar, names[i]), "", "") < 0 ||
		    buf_printf(&kind, "narrative_%s", names[i]) < 0 ||
		    add_text(out, buf_cstr(&kind), &text) < 0)
			goto oom;
	}
	if (!job) {
		json_array_foreach(json_object_get(nz, "skills"), i, item) {
			buf_reset(&kind);
			if (pair(&text, str(item, "canonical"), ": ", str(item, "evidence")) < 0 ||
			    buf_printf(&kind, "skill:%s", str(item, "canonical")) < 0 ||
			    add_text(out, buf_cstr(&kind), &text) < 0)
				goto oom;
		}
		json_array_foreach(json_object_get(nz, "experiences"), i, item) {
			buf_reset(&kind);
			if (pair(&text, str(item, "title"), " at ", str(item, "company")) < 0 ||
			    (*str(item, "description") &&
			     buf_printf(&text, ": %s", str(item, "description")) < 0) ||
			    buf_printf(&kind, "position:%zu", i) < 0 ||
			    add_text(out, buf_cstr(&kind), &text) < 0)
				goto oom;
		}
		json_array_foreach(json_object_get(nz, "projects"), i, item) {
			buf_reset(&kind);
			if (pair(&text, str(item, "name"), ": ", str(item, "description")) < 0 ||
			    buf_printf(&kind, "project:%zu", i) < 0 ||
			    add_text(out, buf_cstr(&kind), &text) < 0)
				goto oom;
		}
	} else {
		const char *lists[2] = { "must_have_skills", "nice_to_have_skills" };
		for (int l = 0; l < 2; l++)
			json_array_foreach(json_object_get(nz, lists[l]), i, item) {
				buf_reset(&kind);
				if (pair(&text, str(item, "canonical"), ": ",
					 str(item, "expected_capability")) < 0 ||
				    buf_printf(&kind, "requirement:%s", str(item, "canonical")) < 0 ||
				    add_text(out, buf_cstr(&kind), &text) < 0)
					goto oom;
			}
	}
	rc = 0;
	goto out;
oom:
	serr_set(e, "out of memory collecting the texts to embed");
out:
	buf_free(&text);
	buf_free(&kind);
	return rc;
}

void vector_texts_free(struct vector_texts *t)
{
	json_decref(t->kinds);
	json_decref(t->texts);
	t->kinds = t->texts = NULL;
}

/* 1 when the stored vectors have exactly the first n kinds and text hashes of t. */
static int unchanged(const struct vector_set *vs, const struct vector_texts *t, size_t n,
		     char (*hashes)[65])
{
	if (vs->n != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *k = json_string_value(json_array_get(t->kinds, i));
		size_t j;

		for (j = 0; j < vs->n; j++)
			if (strcmp(vs->rows[j].kind, k) == 0)
				break;
		if (j == vs->n || strcmp(vs->rows[j].text_hash, hashes[i]) != 0)
			return 0;
	}
	return 1;
}

struct vec_counts {
	long done, skipped, failed, texts, cache_hits, embedded;
	serr first;
};

/*
 * Embed the cache misses among n texts (each distinct text once), fill
 * vec, and add them to the cache.
 */
static int fill_misses(struct job_ctx *ctx, const char *id, const char *model, int dim,
		       const struct vector_texts *t, char (*hashes)[65], float *vec,
		       unsigned char *hit, struct vec_counts *c, enum llm_error_kind *kind,
		       serr *e)
{
	size_t n = json_array_size(t->texts), m = 0;
	const char **texts = calloc(n ? n : 1, sizeof(*texts));
	const char **mh = calloc(n ? n : 1, sizeof(*mh));
	size_t *first_of = calloc(n ? n : 1, sizeof(*first_of));
	float *got = NULL;
	struct llm *l;
	struct llm_usage u;
	int gdim = 0, rc = -1, ok;

	memset(&u, 0, sizeof(u));
	if (!texts || !mh || !first_of) {
		serr_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t k;
		if (hit[i])
			continue;
		for (k = 0; k < m; k++)
			if (strcmp(mh[k], hashes[i]) == 0)
				break;
		if (k == m) {
			texts[m] = json_string_value(json_array_get(t->texts, i));
			mh[m] = hashes[i];
			m++;
		}
		first_of[i] = k;
	}
	if (m == 0) {
		rc = 0;
		goto out;
	}
	if (pipeline_llm(ctx, &l, e) < 0) {
		*kind = LLM_ERR_TRANSPORT;
		goto out;
	}
	ok = llm_embed(l, model, dim, texts, m, &got, &gdim, &u, e);
	*kind = ok == 0 ? LLM_OK : llm_last_error(l);
	if (ok == 0 && gdim != dim) {
		ok = serr_set(e, "the embeddings api answered %d dimensions, %d configured "
				 "(llm.embedding_dimensions)", gdim, dim);
		*kind = LLM_ERR_INVALID_ANSWER;
	}
	if (ok < 0)
		serr_wrap(e, "embedding %zu texts of '%s'", m, id);
	if (pipeline_llm_record(ctx, id, "embed", model, &u, *kind, ok < 0 ? e->msg : NULL,
				ok < 0 ? NULL : e) < 0 || ok < 0)
		goto out;
	c->embedded += (long)m;
	for (size_t i = 0; i < n; i++)
		if (!hit[i])
			memcpy(vec + i * (size_t)dim, got + first_of[i] * (size_t)dim,
			       sizeof(float) * (size_t)dim);
	if (embedding_cache_put_many(ctx->store, model, dim, mh, got, m, e) < 0)
		goto out;
	rc = 0;
out:
	free(texts);
	free(mh);
	free(first_of);
	free(got);
	return rc;
}

/* The record's distinct canonical skill names (borrowed from nz) in a json
 * array of strings. */
static json_t *skill_names_of(const json_t *nz, int job)
{
	static const char *const cand_lists[] = { "skills", NULL };
	static const char *const job_lists[] = { "must_have_skills", "nice_to_have_skills", NULL };
	const char *const *lists = job ? job_lists : cand_lists;
	json_t *names = json_array(), *item;
	size_t i, k;

	if (!names)
		return NULL;
	for (; *lists; lists++)
		json_array_foreach(json_object_get(nz, *lists), i, item) {
			const char *n = str(item, "canonical");
			int dup = 0;

			if (!*n || strlen(n) > 300)
				continue;
			for (k = 0; k < json_array_size(names) && !dup; k++)
				dup = strcmp(json_string_value(json_array_get(names, k)), n) == 0;
			if (!dup && json_array_append_new(names, json_string(n)) < 0) {
				json_decref(names);
				return NULL;
			}
		}
	return names;
}

/*
 * Append the record's skill names that have no name vector yet to t (kind
 * "skill_name"), so they are embedded in the same request as the record's
 * own texts: the feedback loop waits on every round trip.
 */
static int add_missing_names(struct job_ctx *ctx, const char *id, const json_t *nz, int job,
			     struct vector_texts *t, size_t *added, serr *e)
{
	const char *model = ctx->cfg->llm_embedding_model;
	int dim = ctx->cfg->llm_embedding_dimensions, rc = -1;
	json_t *names = skill_names_of(nz, job);
	size_t n = json_array_size(names);
	const char **nv = calloc(n + 1, sizeof(*nv));
	unsigned char *have = calloc(n + 1, 1);

	*added = 0;
	if (!names || !nv || !have) {
		serr_set(e, "out of memory collecting the skill names of '%s'", id);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		nv[i] = json_string_value(json_array_get(names, i));
	if (skill_name_vectors_have(ctx->store, model, dim, nv, n, have, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (have[i])
			continue;
		if (json_array_append_new(t->kinds, json_string("skill_name")) < 0 ||
		    json_array_append_new(t->texts, json_string(nv[i])) < 0) {
			serr_set(e, "out of memory collecting the skill names of '%s'", id);
			goto out;
		}
		(*added)++;
	}
	rc = 0;
out:
	json_decref(names);
	free(nv);
	free(have);
	return rc;
}

/*
 * Vectorize one record: its own vectors (unless their texts are unchanged)
 * and the name vectors of its skills that no record brought before, all
 * cache misses in one embeddings request. Returns 1 when the record's
 * vectors were unchanged.
 */
static int vectorize_one(struct job_ctx *ctx, enum vector_owner owner, const char *id,
			 struct vec_counts *c, enum llm_error_kind *kind, serr *e)
{
	const struct config *cfg = ctx->cfg;
	const char *model = cfg->llm_embedding_model;
	int dim = cfg->llm_embedding_dimensions, found = 0, rc = -1, same;
	struct normalized_candidate nc;
	struct normalized_job nj;
	struct vector_texts t = { NULL, NULL };
	struct vector_set vs;
	struct vector_row *rows = NULL;
	char(*hashes)[65] = NULL;
	float *vec = NULL;
	unsigned char *hit = NULL;
	const char **hp = NULL, **names = NULL;
	const json_t *nz;
	size_t n, nrec, nnames, hits = 0, bytes;

	*kind = LLM_OK;
	normalized_candidate_init(&nc);
	normalized_job_init(&nj);
	vector_set_init(&vs);
	if (dim <= 0 || dim > VECTOR_MAX_DIMENSIONS) {
		serr_set(e, "llm.embedding_dimensions %d is outside 1..%d", dim, VECTOR_MAX_DIMENSIONS);
		goto out;
	}
	if (owner == VECTOR_CANDIDATE ? normalized_candidate_get(ctx->store, id, &nc, &found, e) :
					normalized_job_get(ctx->store, id, &nj, &found, e))
		goto out;
	if (!found) {
		serr_set(e, "'%s' is not normalized: its normalize step must succeed first", id);
		goto out;
	}
	nz = owner == VECTOR_CANDIDATE ? nc.normalized : nj.normalized;
	if (vectorize_texts(nz, owner == VECTOR_JOB, &t, e) < 0)
		goto out;
	nrec = json_array_size(t.texts);
	if (add_missing_names(ctx, id, nz, owner == VECTOR_JOB, &t, &nnames, e) < 0)
		goto out;
	n = json_array_size(t.texts);
	if (size_mul(n ? n : 1, sizeof(float) * (size_t)dim, &bytes) < 0) {
		serr_set(e, "too many texts to embed for '%s'", id);
		goto out;
	}
	hashes = calloc(n ? n : 1, sizeof(*hashes));
	rows = calloc(n ? n : 1, sizeof(*rows));
	hit = calloc(n ? n : 1, 1);
	hp = calloc(n ? n : 1, sizeof(*hp));
	names = calloc(n ? n : 1, sizeof(*names));
	vec = malloc(bytes);
	if (!hashes || !rows || !hit || !hp || !names || !vec) {
		serr_set(e, "out of memory vectorizing '%s'", id);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		embedding_text_hash(json_string_value(json_array_get(t.texts, i)), hashes[i]);
		hp[i] = hashes[i];
	}
	if (vectors_read(ctx->store, owner, id, model, dim, &vs, e) < 0)
		goto out;
	same = unchanged(&vs, &t, nrec, hashes);
	if (same && nnames == 0) {
		rc = 1;
		goto out;
	}
	{
		/* with the record's own vectors unchanged only the names are wanted:
		 * look those up, and mark the rest as had */
		size_t from = same ? nrec : 0;

		if (embedding_cache_get_many(ctx->store, model, dim, hp + from, n - from,
					     vec + from * (size_t)dim, hit + from, &hits, e) < 0)
			goto out;
		memset(hit, 1, from);
	}
	c->texts += (long)(same ? nnames : n);
	c->cache_hits += (long)hits;
	if (fill_misses(ctx, id, model, dim, &t, hashes, vec, hit, c, kind, e) < 0)
		goto out;
	for (size_t i = 0; i < nnames; i++)
		names[i] = json_string_value(json_array_get(t.texts, nrec + i));
	if (skill_name_vectors_put(ctx->store, model, dim, names, vec + nrec * (size_t)dim,
				   nnames, e) < 0) {
		serr_wrap(e, "cannot store the skill name vectors of '%s'", id);
		goto out;
	}
	if (same) {
		rc = 1;
		goto out;
	}
	for (size_t i = 0; i < nrec; i++) {
		rows[i].kind = json_string_value(json_array_get(t.kinds, i));
		rows[i].text_hash = hashes[i];
		rows[i].values = vec + i * (size_t)dim;
	}
	if (vectors_replace(ctx->store, owner, id, model, dim, rows, nrec, e) < 0) {
		serr_wrap(e, "cannot store the vectors of '%s'", id);
		goto out;
	}
	rc = 0;
out:
	normalized_candidate_free(&nc);
	normalized_job_free(&nj);
	vector_set_free(&vs);
	vector_texts_free(&t);
	free(hashes);
	free(rows);
	free(hit);
	free(hp);
	free(names);
	free(vec);
	return rc;
}

static int vectorize_all(struct job_ctx *ctx, enum vector_owner owner, serr *e)
{
	struct pipeline_state *st = ctx->state;
	const char *asset = owner == VECTOR_CANDIDATE ? "candidate_vectors" : "job_vectors";
	struct vec_counts c;
	json_t *ids, *idv, *meta;
	size_t i;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	if (!(ids = pipeline_record_ids(ctx, owner == VECTOR_CANDIDATE ? "raw_candidates" :
									  "raw_jobs", e)))
		return -1;
	json_array_foreach(ids, i, idv) {
		const char *id = json_string_value(idv);
		enum llm_error_kind kind = LLM_OK;
		serr re;
		int r = vectorize_one(ctx, owner, id, &c, &kind, &re);

		if (r == 1) {
			c.skipped++;
		} else if (r == 0) {
			c.done++;
		} else {
			c.failed++;
			log_error("vectorization failed", "record=%s error=\"%s\"", id, re.msg);
			if (c.failed == 1)
				c.first = re;
			if (kind == LLM_ERR_NO_CREDITS || strstr(re.msg, "llm work is paused"))
				break;
		}
	}
	meta = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "vectorized", (json_int_t)c.done,
			 "unchanged", (json_int_t)c.skipped, "failed", (json_int_t)c.failed,
			 "texts", (json_int_t)c.texts, "cache_hits", (json_int_t)c.cache_hits,
			 "embedded", (json_int_t)c.embedded);
	if (!meta || pipeline_usage_meta(&st->usage, meta) < 0) {
		json_decref(meta);
		serr_set(e, "out of memory");
		goto out;
	}
	if (job_ctx_materialize(ctx, asset, meta, e) < 0)
		goto out;
	if (c.failed) {
		if (json_array_size(ids) == 1)
			*e = c.first;
		else
			serr_set(e, "%ld of %zu records failed; the first: %s", c.failed,
				 json_array_size(ids), c.first.msg);
		goto out;
	}
	rc = 0;
out:
	json_decref(ids);
	return rc;
}

int step_vectorize_candidates(struct job_ctx *ctx, serr *e)
{
	return vectorize_all(ctx, VECTOR_CANDIDATE, e);
}

int step_vectorize_jobs(struct job_ctx *ctx, serr *e)
{
	return vectorize_all(ctx, VECTOR_JOB, e);
}
