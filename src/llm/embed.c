/* Batched embeddings through /embeddings, with the shared retry rules (see llm.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "llm/llm.h"
#include "llm/llm_http.h"

#define EMBED_MAX_BATCH 2048 /* the API's limit on inputs per request */
#define EMBED_MAX_DIM 65536

static json_t *embed_body(const char *model, int dim, const char *const *texts, size_t n)
{
	json_t *in = json_array(), *b;

	for (size_t i = 0; in && i < n; i++) {
		if (json_array_append_new(in, json_string(texts[i])) < 0) {
			json_decref(in);
			in = NULL;
		}
	}
	if (!in)
		return NULL;
	b = json_pack("{s:s, s:o, s:s}", "model", model, "input", in, "encoding_format", "float");
	if (b && dim > 0 && json_object_set_new(b, "dimensions", json_integer(dim)) < 0) {
		json_decref(b);
		b = NULL;
	}
	return b;
}

/*
 * Copy the vectors of one answer into out (n rows of *dim floats, rows
 * placed by their "index"). *dim == 0 learns the size from the answer and
 * allocates *vec for total rows. LLM_ANS_RETRY with why on a malformed answer.
 */
static int read_vectors(const json_t *resp, size_t n, size_t first, size_t total, int *dim,
			float **vec, char *why, size_t whysz)
{
	json_t *data = json_object_get(resp, "data"), *item, *v;
	unsigned char *seen = NULL;
	size_t i, k, cells;
	int rc = LLM_ANS_RETRY;

	if (!json_is_array(data) || json_array_size(data) != n) {
		snprintf(why, whysz, "the answer has %zu embeddings for %zu inputs",
			 json_array_size(data), n);
		return LLM_ANS_RETRY;
	}
	if (*dim == 0) {
		size_t d = json_array_size(json_object_get(json_array_get(data, 0), "embedding"));
		if (d == 0 || d > EMBED_MAX_DIM) {
			snprintf(why, whysz, "the answer's embedding has %zu dimensions", d);
			return LLM_ANS_RETRY;
		}
		if (size_mul(total, d, &cells) < 0 || !(*vec = calloc(cells, sizeof(float)))) {
			snprintf(why, whysz, "out of memory for %zu embeddings", total);
			return LLM_ANS_FAIL;
		}
		*dim = (int)d;
	}
	seen = calloc(n, 1);
	if (!seen) {
		snprintf(why, whysz, "out of memory reading embeddings");
		return LLM_ANS_FAIL;
	}
	json_array_foreach(data, i, item) {
		json_t *emb = json_object_get(item, "embedding");
		json_t *idx = json_object_get(item, "index");
		json_int_t at = json_is_integer(idx) ? json_integer_value(idx) : (json_int_t)i;
		float *row;
		if (at < 0 || (size_t)at >= n || seen[at]) {
			snprintf(why, whysz, "embedding %zu of the answer has a bad or repeated index", i);
			goto out;
		}
		seen[at] = 1;
		if (!json_is_array(emb) || json_array_size(emb) != (size_t)*dim) {
			snprintf(why, whysz, "embedding %lld has %zu dimensions, not %d", (long long)at,
				 json_array_size(emb), *dim);
			goto out;
		}
		row = *vec + (first + (size_t)at) * (size_t)*dim;
		json_array_foreach(emb, k, v) {
			double x = json_number_value(v);
			if (!json_is_number(v) || !isfinite(x)) {
				snprintf(why, whysz, "embedding %lld holds a value that is not a number",
					 (long long)at);
				goto out;
			}
			row[k] = (float)x;
		}
	}
	rc = LLM_ANS_OK;
out:
	free(seen);
	return rc;
}

/* One batch with every retry rule. */
static int embed_batch(struct llm *l, struct llm_post *post, const char *model, int want_dim,
		       const char *const *texts, size_t n, size_t first, size_t total, int *dim,
		       float **vec, struct llm_usage *u, serr *e)
{
	json_t *body = embed_body(model, want_dim, texts, n), *resp = NULL;
	char why[512];
	int st, rc = -1;

	if (!body) {
		l->last_error = LLM_ERR_TRANSPORT;
		return serr_set(e, "out of memory building an embeddings request (or a text is not utf-8)");
	}
	for (int retries = 0;; retries++) {
		st = llm_post_once(post, body, &resp, u, why, sizeof(why), e);
		if (st == LLM_ANS_FAIL)
			goto out;
		if (st == LLM_ANS_OK) {
			st = read_vectors(resp, n, first, total, dim, vec, why, sizeof(why));
			json_decref(resp);
			resp = NULL;
			if (st == LLM_ANS_OK) {
				rc = 0;
				goto out;
			}
			if (st == LLM_ANS_FAIL) {
				l->last_error = LLM_ERR_TRANSPORT;
				serr_set(e, "openrouter: %s", why);
				goto out;
			}
		}
		if (llm_post_wait(post, retries, why, e) < 0)
			goto out;
		u->retries++;
	}
out:
	json_decref(body);
	return rc;
}

int llm_embed(struct llm *l, const char *model, int dimensions, const char *const *texts, size_t n,
	      float **out, int *dim, struct llm_usage *usage, serr *e)
{
	const struct config *cfg = l->cfg;
	struct llm_usage call = { 0 };
	struct llm_post post;
	size_t batch = cfg->llm_embedding_batch > 0 ? (size_t)cfg->llm_embedding_batch : 64, cells;
	float *vec = NULL;
	int d, rc = -1;

	*out = NULL;
	*dim = 0;
	l->last_error = LLM_ERR_TRANSPORT;
	if (!model || !*model)
		model = cfg->llm_embedding_model;
	if (dimensions <= 0)
		dimensions = cfg->llm_embedding_dimensions > 0 ? cfg->llm_embedding_dimensions : 0;
	if (dimensions > EMBED_MAX_DIM) {
		serr_set(e, "embedding dimensions %d is above %d", dimensions, EMBED_MAX_DIM);
		goto out;
	}
	if (batch > EMBED_MAX_BATCH)
		batch = EMBED_MAX_BATCH;
	for (size_t i = 0; i < n; i++) {
		if (!texts[i] || !*texts[i]) {
			serr_set(e, "text %zu of %zu to embed is empty: the embeddings api refuses empty input",
				 i, n);
			goto out;
		}
	}
	d = dimensions;
	if (d > 0 && n > 0) {
		if (size_mul(n, (size_t)d, &cells) < 0 || !(vec = calloc(cells, sizeof(float)))) {
			serr_set(e, "out of memory for %zu embeddings of %d dimensions", n, d);
			goto out;
		}
	}
	llm_post_init(&post, l, "/embeddings", "embeddings");
	post.embedding = 1;
	post.max_response = 256u * 1024 * 1024;
	for (size_t first = 0; first < n; first += batch) {
		size_t cnt = n - first < batch ? n - first : batch;
		if (first > 0)
			log_debug("llm embeddings batch", "first=%zu count=%zu of=%zu", first, cnt, n);
		if (embed_batch(l, &post, model, dimensions, texts + first, cnt, first, n, &d, &vec,
				&call, e) < 0) {
			serr_wrap(e, "embeddings of texts %zu..%zu with model '%s'", first,
				  first + cnt - 1, model);
			goto out;
		}
	}
	call.embedding_inputs += (long)n;
	*out = vec;
	vec = NULL;
	*dim = d;
	l->last_error = LLM_OK;
	rc = 0;
out:
	free(vec);
	llm_usage_add(&l->total, &call);
	if (usage)
		*usage = call;
	if (rc < 0)
		log_redact(e->msg);
	return rc;
}
