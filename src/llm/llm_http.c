/* One classified POST to the LLM API, usage accounting and retry waits (see llm_http.h). */
#include "llm/llm_http.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define LLM_MAX_WAIT_MS 120000
#define LLM_MAX_BACKOFF_MS 60000

void llm_post_init(struct llm_post *p, struct llm *l, const char *path, const char *what)
{
	memset(p, 0, sizeof(*p));
	p->l = l;
	p->what = what;
	p->max_response = 16u * 1024 * 1024;
	p->retry_after_s = -1;
	snprintf(p->url, sizeof(p->url), "%s%s", l->root, path);
}

/* Printable, short, single-line copy of text that came from the server. */
static void shown(const char *s, char *out, size_t outsz)
{
	size_t n = 0;

	for (; s && *s && n + 4 < outsz && n < 300; s++)
		out[n++] = ((unsigned char)*s < 0x20 || *s == 0x7F) ? ' ' : *s;
	if (s && *s && n + 4 < outsz) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

void llm_error_words(const json_t *err, const char *dflt, char *out, size_t outsz)
{
	const char *msg = json_string_value(json_object_get(err, "message"));
	json_t *code = json_object_get(err, "code");
	const char *provider =
		json_string_value(json_object_get(json_object_get(err, "metadata"), "provider_name"));
	char m[400], pv[80];

	if (json_is_string(err))
		msg = json_string_value(err);
	shown(msg ? msg : dflt, m, sizeof(m));
	shown(provider, pv, sizeof(pv));
	if (json_is_integer(code))
		snprintf(out, outsz, "%lld: %s%s%s%s", (long long)json_integer_value(code), m,
			 pv[0] ? " (provider " : "", pv, pv[0] ? ")" : "");
	else if (json_is_string(code))
		snprintf(out, outsz, "%.60s: %s", json_string_value(code), m);
	else
		snprintf(out, outsz, "%s", m);
}

static long usage_long(const json_t *u, const char *key)
{
	json_t *v = json_object_get(u, key);

	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < (1LL << 40))
		return (long)json_integer_value(v);
	if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 1e12)
		return (long)json_real_value(v);
	return 0;
}

static void add_usage(const struct llm_post *p, const json_t *body, struct llm_usage *u)
{
	json_t *usage = json_object_get(body, "usage");
	double cost = json_number_value(json_object_get(usage, "cost"));

	if (!json_is_object(usage))
		return;
	if (p->embedding) {
		u->embedding_tokens += usage_long(usage, "prompt_tokens");
	} else {
		u->prompt_tokens += usage_long(usage, "prompt_tokens");
		u->completion_tokens += usage_long(usage, "completion_tokens");
	}
	if (isfinite(cost) && cost > 0 && cost < 1e6)
		u->cost_usd += cost;
}

static int fail(struct llm_post *p, enum llm_error_kind kind, serr *e, const char *fmt, ...)
	SCOUT_PRINTF(4, 5);

static int fail(struct llm_post *p, enum llm_error_kind kind, serr *e, const char *fmt, ...)
{
	va_list ap;
	char msg[SERR_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->l->last_error = kind;
	serr_set(e, "%s", msg);
	log_redact(e->msg);
	return LLM_ANS_FAIL;
}

/* The outcome of an HTTP error status, per OpenRouter's error codes. */
static int classify_status(struct llm_post *p, long status, const json_t *j, char *why,
			   size_t whysz, serr *e)
{
	char all[600], prefix[32];
	const char *words = all;

	llm_error_words(json_object_get(j, "error"), "no message", all, sizeof(all));
	snprintf(prefix, sizeof(prefix), "%ld: ", status);
	if (strncmp(all, prefix, strlen(prefix)) == 0)
		words = all + strlen(prefix); /* the code repeats the status */
	if (status == 402)
		return fail(p, LLM_ERR_NO_CREDITS, e,
			    "openrouter: out of credits (402); llm work is paused until credits are added");
	if (status == 401)
		return fail(p, LLM_ERR_AUTH, e,
			    "openrouter rejected the api key (401: %s): check OPENROUTER_API_KEY", words);
	if (status == 408 || status == 429 || status >= 500) {
		snprintf(why, whysz, "http %ld: %s", status, words);
		return LLM_ANS_RETRY;
	}
	if (status == 403)
		return fail(p, LLM_ERR_BAD_REQUEST, e,
			    "openrouter refused the %s request (403: %s): the input was flagged by "
			    "moderation or the key may not use this model",
			    p->what, words);
	return fail(p, LLM_ERR_BAD_REQUEST, e,
		    "openrouter refused the %s request (%ld: %s): the request is invalid for this "
		    "api; check the model name and the schema",
		    p->what, status, words);
}

int llm_post_once(struct llm_post *p, const json_t *body, json_t **resp, struct llm_usage *u,
		  char *why, size_t whysz, serr *e)
{
	const struct config *cfg = p->l->cfg;
	struct http_request req;
	struct http_response hr;
	json_t *j = NULL;
	json_error_t je;
	char *s = json_dumps(body, JSON_COMPACT);
	int64_t t0 = mono_ms();
	int rc;

	*resp = NULL;
	http_response_init(&hr);
	p->retry_after_s = -1;
	if (!s) {
		rc = fail(p, LLM_ERR_TRANSPORT, e, "out of memory encoding the %s request", p->what);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = p->url;
	req.body = s;
	req.body_len = strlen(s);
	req.bearer = cfg->openrouter_api_key;
	req.headers[0] = "Accept: application/json";
	req.headers[1] = "X-Title: scout";
	req.timeout_ms = cfg->llm_timeout_ms > 0 ? cfg->llm_timeout_ms : 120000;
	req.max_response = p->max_response;
	u->calls++;
	if (http_client_do(&p->l->http, &req, &hr, e) < 0) {
		if (hr.too_large) {
			rc = fail(p, LLM_ERR_INVALID_ANSWER, e, "openrouter: the %s answer is larger than %zu bytes",
				  p->what, p->max_response);
			goto out;
		}
		snprintf(why, whysz, "%s%s", hr.timed_out ? "timed out: " : "", e->msg);
		log_redact(why);
		rc = LLM_ANS_RETRY;
		goto out;
	}
	p->retry_after_s = hr.retry_after_s;
	log_debug("llm request", "what=%s status=%ld ms=%lld bytes=%zu", p->what, hr.status,
		  (long long)(mono_ms() - t0), hr.body.len);
	if (hr.body.len)
		j = json_loadb(hr.body.data, hr.body.len, 0, &je);
	if (json_is_object(j))
		add_usage(p, j, u);
	if (hr.status != 200) {
		rc = classify_status(p, hr.status, j, why, whysz, e);
		goto out;
	}
	if (!json_is_object(j)) {
		snprintf(why, whysz, "the answer is not a json object");
		rc = LLM_ANS_RETRY;
		goto out;
	}
	if (json_object_get(j, "error")) {
		json_t *err = json_object_get(j, "error");
		char words[600];
		llm_error_words(err, "error without a message", words, sizeof(words));
		if (json_integer_value(json_object_get(err, "code")) == 402) {
			rc = fail(p, LLM_ERR_NO_CREDITS, e,
				  "openrouter: out of credits (402); llm work is paused until credits are added");
			goto out;
		}
		snprintf(why, whysz, "an error in a 200 answer (%s)", words);
		rc = LLM_ANS_RETRY;
		goto out;
	}
	*resp = j;
	j = NULL;
	rc = LLM_ANS_OK;
out:
	json_decref(j);
	free(s);
	http_response_free(&hr);
	return rc;
}

static int64_t backoff_ms(const struct config *cfg, int n)
{
	int64_t base = cfg->llm_backoff_ms > 0 ? cfg->llm_backoff_ms : 1000;
	int64_t d = base << (n < 16 ? n : 16);

	if (d > LLM_MAX_BACKOFF_MS)
		d = LLM_MAX_BACKOFF_MS;
	return d + (int64_t)(rand_u64() % (uint64_t)(d / 2 + 1));
}

int llm_post_wait(struct llm_post *p, int n, const char *why, serr *e)
{
	const struct config *cfg = p->l->cfg;
	int max = cfg->llm_max_retries >= 0 ? cfg->llm_max_retries : 0;
	int64_t wait;

	if (n >= max) {
		p->l->last_error = LLM_ERR_RETRYABLE_EXHAUSTED;
		serr_set(e, "openrouter: the %s request kept failing after %d attempts (last: %s); "
			    "try again later",
			 p->what, n + 1, why);
		log_redact(e->msg);
		return -1;
	}
	if (p->retry_after_s >= 0)
		wait = p->retry_after_s * 1000 > LLM_MAX_WAIT_MS ? LLM_MAX_WAIT_MS
								  : (int64_t)(p->retry_after_s * 1000);
	else
		wait = backoff_ms(cfg, n);
	log_warn("llm request failed, retrying", "what=%s retry=%d wait_ms=%lld problem=\"%.300s\"",
		 p->what, n + 1, (long long)wait, why);
	sleep_ms(wait);
	return 0;
}
