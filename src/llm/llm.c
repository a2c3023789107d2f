/* OpenRouter chat completions with structured output, validation re-asks and PDF text (see llm.h). */
#include "llm/llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/log.h"
#include "core/util.h"
#include "llm/llm_http.h"

#define LLM_MAX_ANSWER ((size_t)8 * 1024 * 1024)
#define LLM_MAX_TOKENS_CAP 128000
#define LLM_INVALID_PREFIX "your previous answer was invalid: "

void llm_usage_add(struct llm_usage *to, const struct llm_usage *from)
{
	to->calls += from->calls;
	to->retries += from->retries;
	to->prompt_tokens += from->prompt_tokens;
	to->completion_tokens += from->completion_tokens;
	to->embedding_tokens += from->embedding_tokens;
	to->embedding_inputs += from->embedding_inputs;
	to->cost_usd += from->cost_usd;
}

const char *llm_error_kind_name(enum llm_error_kind k)
{
	switch (k) {
	case LLM_OK:
		return "ok";
	case LLM_ERR_RETRYABLE_EXHAUSTED:
		return "retryable_exhausted";
	case LLM_ERR_BAD_REQUEST:
		return "bad_request";
	case LLM_ERR_AUTH:
		return "auth";
	case LLM_ERR_NO_CREDITS:
		return "no_credits";
	case LLM_ERR_INVALID_ANSWER:
		return "invalid_answer";
	case LLM_ERR_TRANSPORT:
		return "transport";
	}
	return "unknown";
}

int llm_init(struct llm *l, const struct config *cfg, serr *e)
{
	const char *url = cfg->openrouter_api_url;
	size_t n;

	memset(l, 0, sizeof(*l));
	l->cfg = cfg;
	if (!cfg->openrouter_api_key || !*cfg->openrouter_api_key)
		return serr_set(e, "OPENROUTER_API_KEY is not set: create a key at openrouter.ai/keys and export it");
	if (!url || !*url)
		return serr_set(e, "openrouter.api_url is empty: set OPENROUTER_API_URL (default https://openrouter.ai/api/v1)");
	n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	l->root = strndup(url, n);
	if (!l->root)
		return serr_set(e, "out of memory starting the llm client");
	log_add_secret(cfg->openrouter_api_key);
	if (http_client_init(&l->http, e) < 0) {
		free(l->root);
		l->root = NULL;
		return -1;
	}
	return 0;
}

void llm_free(struct llm *l)
{
	if (!l)
		return;
	http_client_free(&l->http);
	free(l->root);
	l->root = NULL;
}

enum llm_error_kind llm_last_error(const struct llm *l)
{
	return l->last_error;
}

void llm_chat_init(struct llm_chat *c)
{
	memset(c, 0, sizeof(*c));
	c->temperature = -1;
}

/* ---- request bodies ---- */

static const char *chat_model(const struct llm *l, const struct llm_chat *req)
{
	return req->model && *req->model ? req->model : l->cfg->llm_chat_model;
}

static int chat_max_tokens(const struct llm *l, const struct llm_chat *req)
{
	int m = req->max_tokens > 0 ? req->max_tokens : l->cfg->llm_max_tokens;

	return m > 0 ? m : 4096;
}

/* A JSON member set or -1 (the reference is stolen, NULL is an allocation failure). */
static int set_new(json_t *o, const char *key, json_t *v)
{
	return v ? json_object_set_new(o, key, v) : -1;
}

/* The file part of a user message: the PDF as a base64 data URL. */
static json_t *pdf_part(const struct llm *l, const void *pdf, size_t len, const char *filename,
			serr *e)
{
	size_t max = (size_t)(l->cfg->pdf_max_mb > 0 ? l->cfg->pdf_max_mb : 20) * 1024 * 1024;
	struct buf url;
	json_t *part = NULL;

	buf_init(&url, 0);
	if (len == 0 || len > max) {
		serr_set(e, "pdf '%s' has %zu bytes: send 1 byte to %zu bytes (pdf.max_file_mb)",
			 filename, len, max);
		goto out;
	}
	if (buf_puts(&url, "data:application/pdf;base64,") < 0 || base64_encode(pdf, len, &url) < 0) {
		serr_set(e, "out of memory encoding pdf '%s'", filename);
		goto out;
	}
	part = json_pack("{s:s, s:{s:s, s:s}}", "type", "file", "file", "filename", filename,
			 "file_data", buf_cstr(&url));
	if (!part)
		serr_set(e, "cannot encode pdf '%s' as json (is the file name valid utf-8?)", filename);
out:
	buf_free(&url);
	return part;
}

static json_t *plugins_for(const char *engine)
{
	return json_pack("[{s:s, s:{s:s}}]", "id", "file-parser", "pdf", "engine", engine);
}

static const char *pdf_engine(const struct llm *l, const char *engine)
{
	if (engine && *engine)
		return engine;
	return l->cfg->llm_pdf_engine && *l->cfg->llm_pdf_engine ? l->cfg->llm_pdf_engine : "pdf-text";
}

/* The first messages of a conversation: system (optional) and the user turn. */
static json_t *first_messages(const struct llm *l, const struct llm_chat *req, serr *e)
{
	json_t *msgs = json_array(), *content = NULL;
	const char *fname = req->pdf_filename && *req->pdf_filename ? req->pdf_filename : "document.pdf";

	if (!msgs)
		goto oom;
	if (req->system && *req->system &&
	    json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "system", "content",
						  req->system)) < 0)
		goto bad_text;
	if (req->pdf) {
		json_t *part = pdf_part(l, req->pdf, req->pdf_len, fname, e);
		if (!part)
			goto fail;
		content = json_pack("[{s:s, s:s}, o]", "type", "text", "text",
				    req->user ? req->user : "", part);
	} else {
		content = json_string(req->user ? req->user : "");
	}
	if (!content)
		goto bad_text;
	if (json_array_append_new(msgs, json_pack("{s:s, s:o}", "role", "user", "content", content)) < 0)
		goto oom;
	return msgs;
bad_text:
	json_decref(msgs);
	return serr_set(e, "the prompt is not valid utf-8 text (or memory ran out)"), NULL;
oom:
	serr_set(e, "out of memory building an llm request");
fail:
	json_decref(msgs);
	return NULL;
}

/* The whole chat request; the messages are borrowed. */
static json_t *chat_body(const struct llm *l, const struct llm_chat *req, json_t *messages,
			 int max_tokens, serr *e)
{
	double temp = req->temperature >= 0 ? req->temperature : l->cfg->llm_temperature;
	json_t *b = json_object();

	if (!b || set_new(b, "model", json_string(chat_model(l, req))) < 0 ||
	    json_object_set(b, "messages", messages) < 0 ||
	    set_new(b, "temperature", json_real(temp)) < 0 ||
	    set_new(b, "max_tokens", json_integer(max_tokens)) < 0 ||
	    set_new(b, "provider", json_pack("{s:b}", "require_parameters", 1)) < 0 ||
	    set_new(b, "usage", json_pack("{s:b}", "include", 1)) < 0)
		goto oom;
	if (req->schema) {
		const char *name = req->schema_name && *req->schema_name ? req->schema_name : "answer";
		if (set_new(b, "response_format",
			    json_pack("{s:s, s:{s:s, s:b, s:O}}", "type", "json_schema", "json_schema",
				      "name", name, "strict", 1, "schema", req->schema)) < 0)
			goto oom;
	} else if (!req->pdf || req->user) {
		if (set_new(b, "response_format", json_pack("{s:s}", "type", "json_object")) < 0)
			goto oom;
	}
	if (req->pdf && set_new(b, "plugins", plugins_for(pdf_engine(l, req->pdf_engine))) < 0)
		goto oom;
	return b;
oom:
	json_decref(b);
	serr_set(e, "out of memory building an llm request (or the model name is not utf-8)");
	return NULL;
}

/* ---- answers ---- */

/* The text of message.content: a string, or an array of {"type":"text","text"} parts. */
static int content_text(const json_t *content, struct buf *out)
{
	size_t i;
	json_t *part;

	if (json_is_string(content))
		return buf_append(out, json_string_value(content), json_string_length(content));
	json_array_foreach(content, i, part) {
		const char *t = json_string_value(json_object_get(part, "text"));
		if (t && buf_puts(out, t) < 0)
			return -1;
	}
	return 0;
}

/* Drop a markdown code fence some OpenAI-compatible servers put around JSON. */
static void strip_fence(const char **p, size_t *n)
{
	const char *s = *p;
	size_t len = *n;

	while (len && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\r' ||
		       s[len - 1] == '\t'))
		len--;
	if (len >= 6 && strncmp(s, "```", 3) == 0 && strncmp(s + len - 3, "```", 3) == 0) {
		const char *nl = memchr(s, '\n', len);
		if (nl) {
			len -= (size_t)(nl + 1 - s) + 3;
			s = nl + 1;
		}
	}
	*p = s;
	*n = len;
}

/* The file annotations' parsed text (without the <file name=".."> wrapper parts). */
static int annotation_text(const json_t *message, struct buf *out, int *found)
{
	json_t *anns = json_object_get(message, "annotations"), *a, *part;
	size_t i, k;

	*found = 0;
	json_array_foreach(anns, i, a) {
		const char *type = json_string_value(json_object_get(a, "type"));
		json_t *content = json_object_get(json_object_get(a, "file"), "content");
		if (!type || strcmp(type, "file") != 0 || !json_is_array(content))
			continue;
		*found = 1;
		json_array_foreach(content, k, part) {
			const char *t = json_string_value(json_object_get(part, "text"));
			size_t tl = t ? strlen(t) : 0;
			if (!t || (tl < 512 && strncmp(t, "<file", 5) == 0 && !strchr(t, '\n') &&
				   t[tl - 1] == '>') ||
			    strcmp(t, "</file>") == 0)
				continue;
			if ((out->len && buf_putc(out, '\n') < 0) || buf_puts(out, t) < 0)
				return -1;
		}
	}
	return 0;
}

enum chat_mode { MODE_JSON, MODE_TEXT };

struct chat_result {
	json_t *answer;	  /* MODE_JSON: the parsed content */
	struct buf text;  /* the raw content (MODE_JSON) or the document text (MODE_TEXT) */
};

/*
 * Read one 200 answer of /chat/completions: LLM_ANS_OK, LLM_ANS_RETRY
 * (error body, empty or invalid content), LLM_ANS_LENGTH (truncated), or
 * LLM_ANS_FAIL. why gets the problem in words.
 */
static int read_chat(const json_t *body, enum chat_mode mode, int want_object,
		     struct chat_result *res, char *why, size_t whysz)
{
	json_t *choice = json_array_get(json_object_get(body, "choices"), 0);
	json_t *msg = json_object_get(choice, "message");
	const char *finish = json_string_value(json_object_get(choice, "finish_reason"));
	json_t *cerr = json_object_get(choice, "error");
	const char *p;
	size_t n;
	json_error_t je;
	int found;

	buf_reset(&res->text);
	if (cerr) {
		llm_error_words(cerr, "the model failed while answering", why, whysz);
		return LLM_ANS_RETRY;
	}
	if (!json_is_object(msg)) {
		snprintf(why, whysz, "the answer has no choices[0].message");
		return LLM_ANS_RETRY;
	}
	if (mode == MODE_TEXT) {
		if (annotation_text(msg, &res->text, &found) < 0) {
			snprintf(why, whysz, "the document text is larger than %zu bytes", res->text.max);
			return LLM_ANS_FAIL;
		}
		if (found)
			return LLM_ANS_OK;
	}
	if (content_text(json_object_get(msg, "content"), &res->text) < 0) {
		snprintf(why, whysz, "the answer is larger than %zu bytes", res->text.max);
		return LLM_ANS_FAIL;
	}
	if (finish && strcmp(finish, "length") == 0) {
		snprintf(why, whysz, "the answer was cut off at max_tokens (finish_reason 'length')");
		return LLM_ANS_LENGTH;
	}
	p = buf_cstr(&res->text);
	n = res->text.len;
	strip_fence(&p, &n);
	if (n == 0) {
		snprintf(why, whysz, "the answer is empty");
		return LLM_ANS_RETRY;
	}
	if (mode == MODE_TEXT)
		return LLM_ANS_OK;
	res->answer = json_loadb(p, n, JSON_DECODE_ANY, &je);
	if (!res->answer) {
		snprintf(why, whysz, "the answer is not valid json (%s at character %d)", je.text,
			 je.position);
		return LLM_ANS_RETRY;
	}
	if (want_object && !json_is_object(res->answer)) {
		json_decref(res->answer);
		res->answer = NULL;
		snprintf(why, whysz, "the answer is json but not an object");
		return LLM_ANS_RETRY;
	}
	return LLM_ANS_OK;
}

/* One chat exchange with every retry rule of llm.h. */
static int chat_exchange(struct llm *l, const struct llm_chat *req, json_t *messages,
			 enum chat_mode mode, struct chat_result *res, struct llm_usage *u, serr *e)
{
	struct llm_post post;
	json_t *body = NULL, *resp = NULL;
	int max_tokens = chat_max_tokens(l, req), grown = 0, retries = 0, rc = -1, st;
	char why[512];
	const char *model = chat_model(l, req);

	llm_post_init(&post, l, "/chat/completions", "chat");
	for (int attempt = 0;; attempt++) {
		if (!body && !(body = chat_body(l, req, messages, max_tokens, e))) {
			l->last_error = LLM_ERR_TRANSPORT;
			goto out;
		}
		if (attempt > 0)
			u->retries++;
		st = llm_post_once(&post, body, &resp, u, why, sizeof(why), e);
		if (st == LLM_ANS_FAIL)
			goto out; /* e and last_error are set */
		if (st == LLM_ANS_OK) {
			json_decref(res->answer);
			res->answer = NULL;
			st = read_chat(resp, mode, req->schema == NULL, res, why, sizeof(why));
		}
		json_decref(resp);
		resp = NULL;
		if (st == LLM_ANS_OK) {
			rc = 0;
			l->last_error = LLM_OK;
			goto out;
		}
		if (st == LLM_ANS_FAIL) {
			l->last_error = LLM_ERR_INVALID_ANSWER;
			serr_set(e, "openrouter: model '%s': %s", model, why);
			goto out;
		}
		if (st == LLM_ANS_LENGTH) {
			if (grown || max_tokens >= LLM_MAX_TOKENS_CAP) {
				l->last_error = LLM_ERR_INVALID_ANSWER;
				serr_set(e, "openrouter: the answer of model '%s' was cut off at max_tokens %d "
					    "even after a retry with a larger budget (finish_reason 'length'); "
					    "raise llm.max_tokens or shorten the input",
					 model, max_tokens);
				goto out;
			}
			grown = 1;
			max_tokens = max_tokens * 2 > LLM_MAX_TOKENS_CAP ? LLM_MAX_TOKENS_CAP : max_tokens * 2;
			json_decref(body);
			body = NULL;
			log_warn("llm answer truncated, retrying with a larger budget", "model=%s max_tokens=%d",
				 model, max_tokens);
			continue;
		}
		if (llm_post_wait(&post, retries++, why, e) < 0)
			goto out;
	}
out:
	json_decref(body);
	return rc;
}

static int finish_call(struct llm *l, struct llm_usage *call, struct llm_usage *usage, int rc,
		       serr *e)
{
	llm_usage_add(&l->total, call);
	if (usage)
		*usage = *call;
	if (rc < 0)
		log_redact(e->msg);
	return rc;
}

int llm_chat_json(struct llm *l, const struct llm_chat *req, json_t **out, struct llm_usage *usage,
		  serr *e)
{
	struct llm_usage call = { 0 };
	struct chat_result res = { 0 };
	json_t *msgs;
	int rc = -1;

	*out = NULL;
	buf_init(&res.text, LLM_MAX_ANSWER);
	l->last_error = LLM_ERR_TRANSPORT;
	msgs = first_messages(l, req, e);
	if (!msgs)
		goto out;
	if (chat_exchange(l, req, msgs, MODE_JSON, &res, &call, e) < 0)
		goto out;
	*out = res.answer;
	res.answer = NULL;
	rc = 0;
out:
	json_decref(res.answer);
	json_decref(msgs);
	buf_free(&res.text);
	return finish_call(l, &call, usage, rc, e);
}

/* Append the model's answer and the reason it was refused, so the next answer can fix it. */
static int add_correction(json_t *msgs, const char *answer, const char *problem)
{
	struct buf m;
	int rc = -1;

	buf_init(&m, 64 * 1024);
	if (buf_printf(&m, LLM_INVALID_PREFIX "%s; answer again", problem) < 0)
		goto out;
	if (json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "assistant", "content",
						  answer)) < 0 ||
	    json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user", "content", m.data)) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&m);
	return rc;
}

int llm_chat_validated(struct llm *l, const struct llm_chat *req, llm_validate_fn fn, void *ud,
		       json_t **out, struct llm_usage *usage, serr *e)
{
	struct llm_usage call = { 0 };
	struct chat_result res = { 0 };
	int attempts = l->cfg->llm_max_attempts > 0 ? l->cfg->llm_max_attempts : 1, rc = -1;
	json_t *msgs;
	serr ve;

	*out = NULL;
	buf_init(&res.text, LLM_MAX_ANSWER);
	l->last_error = LLM_ERR_TRANSPORT;
	msgs = first_messages(l, req, e);
	if (!msgs)
		goto out;
	for (int i = 0; i < attempts; i++) {
		if (i > 0)
			call.retries++;
		if (chat_exchange(l, req, msgs, MODE_JSON, &res, &call, e) < 0)
			goto out;
		serr_clear(&ve);
		if (!fn || fn(ud, res.answer, &ve) == 0) {
			*out = res.answer;
			res.answer = NULL;
			rc = 0;
			goto out;
		}
		if (!ve.msg[0])
			snprintf(ve.msg, sizeof(ve.msg), "the answer does not follow the schema");
		log_warn("llm answer failed validation", "model=%s attempt=%d of=%d problem=\"%.300s\"",
			 chat_model(l, req), i + 1, attempts, ve.msg);
		if (i + 1 < attempts && add_correction(msgs, buf_cstr(&res.text), ve.msg) < 0) {
			l->last_error = LLM_ERR_TRANSPORT;
			serr_set(e, "out of memory building an llm correction request");
			goto out;
		}
		json_decref(res.answer);
		res.answer = NULL;
	}
	l->last_error = LLM_ERR_INVALID_ANSWER;
	serr_set(e, "openrouter: model '%s' gave an invalid answer %d times: %s", chat_model(l, req),
		 attempts, ve.msg);
out:
	json_decref(res.answer);
	json_decref(msgs);
	buf_free(&res.text);
	return finish_call(l, &call, usage, rc, e);
}

int llm_pdf_text(struct llm *l, const void *pdf, size_t len, const char *filename,
		 const char *engine, struct buf *text, struct llm_usage *usage, serr *e)
{
	struct llm_usage call = { 0 };
	struct chat_result res = { 0 };
	struct llm_chat req;
	json_t *msgs;
	int rc = -1;

	llm_chat_init(&req);
	req.user = "Return the complete plain text of the attached document, without commentary.";
	req.pdf = pdf;
	req.pdf_len = len;
	req.pdf_filename = filename;
	req.pdf_engine = pdf_engine(l, engine);
	buf_init(&res.text, text->max);
	l->last_error = LLM_ERR_TRANSPORT;
	msgs = first_messages(l, &req, e);
	if (!msgs)
		goto out;
	if (chat_exchange(l, &req, msgs, MODE_TEXT, &res, &call, e) < 0) {
		serr_wrap(e, "text of pdf '%s' (engine %s)", filename ? filename : "document.pdf",
			  req.pdf_engine);
		goto out;
	}
	if (buf_append(text, res.text.data ? res.text.data : "", res.text.len) < 0) {
		l->last_error = LLM_ERR_INVALID_ANSWER;
		serr_set(e, "the text of pdf '%s' is larger than %zu bytes",
			 filename ? filename : "document.pdf", text->max);
		goto out;
	}
	rc = 0;
out:
	json_decref(msgs);
	buf_free(&res.text);
	return finish_call(l, &call, usage, rc, e);
}
