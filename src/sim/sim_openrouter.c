/* The /api/v1 front of the simulator: request checks, answers, PDFs, embeddings, faults and counters (see sim_openrouter.h). */
#include "sim/sim_openrouter.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/base64.h"
#include "core/util.h"
#include "llm/schema.h"
#include "pdf/pdf.h"

#define OR_MAX_MESSAGES 1000
#define OR_MAX_INPUTS 2048
#define OR_MAX_DIM 3072
#define OR_DEFAULT_DIM 1536
/* gpt-4o-mini and text-embedding-3-small list prices, USD per token */
#define OR_PRICE_PROMPT 0.15e-6
#define OR_PRICE_COMPLETION 0.6e-6
#define OR_PRICE_EMBEDDING 0.02e-6

int sim_openrouter_init(struct sim_openrouter *o)
{
	serr e;

	memset(o, 0, sizeof(*o));
	pthread_mutex_init(&o->lock, NULL);
	o->recent = json_array();
	o->pdfcfg_ok = config_init(&o->pdfcfg, &e) == 0;
	return o->recent ? 0 : -1;
}

void sim_openrouter_free(struct sim_openrouter *o)
{
	json_decref(o->recent);
	if (o->pdfcfg_ok)
		config_free(&o->pdfcfg);
	pthread_mutex_destroy(&o->lock);
	memset(o, 0, sizeof(*o));
}

json_t *sim_openrouter_stats(struct sim_openrouter *o)
{
	json_t *j;

	pthread_mutex_lock(&o->lock);
	j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:f}", "chat", (json_int_t)o->chat, "embeddings",
		      (json_int_t)o->embeddings, "embedding_inputs", (json_int_t)o->embedding_inputs,
		      "tokens", (json_int_t)o->tokens, "pdf_files", (json_int_t)o->pdf_files, "cost",
		      o->cost);
	pthread_mutex_unlock(&o->lock);
	return j;
}

void sim_openrouter_reset_stats(struct sim_openrouter *o)
{
	pthread_mutex_lock(&o->lock);
	o->chat = o->embeddings = o->embedding_inputs = o->tokens = o->pdf_files = 0;
	o->cost = 0;
	json_array_clear(o->recent);
	pthread_mutex_unlock(&o->lock);
}

json_t *sim_openrouter_recent(struct sim_openrouter *o)
{
	json_t *j;

	pthread_mutex_lock(&o->lock);
	j = json_deep_copy(o->recent);
	pthread_mutex_unlock(&o->lock);
	return j;
}

void sim_openrouter_set_latency(struct sim_openrouter *o, int ms)
{
	pthread_mutex_lock(&o->lock);
	o->latency_ms = ms;
	pthread_mutex_unlock(&o->lock);
}

int sim_openrouter_latency(struct sim_openrouter *o)
{
	int ms;

	pthread_mutex_lock(&o->lock);
	ms = o->latency_ms;
	pthread_mutex_unlock(&o->lock);
	return ms;
}

/* ---- responses ---- */

static void or_error(struct sim_resp *rs, int status, const char *fmt, ...) SCOUT_PRINTF(3, 4);

/* OpenRouter's error shape: {"error":{"code","message"}} with the same HTTP status. */
static void or_error(struct sim_resp *rs, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sim_resp_json(rs, status, json_pack("{s:{s:i, s:s}}", "error", "code", status, "message", msg));
}

static void provider_error(struct sim_resp *rs, int status, int code, const char *msg)
{
	sim_resp_json(rs, status,
		      json_pack("{s:{s:i, s:s, s:{s:s, s:s}}}", "error", "code", code, "message", msg,
				"metadata", "provider_name", "Sim", "raw", "upstream error"));
}

/* Faults that replace the answer entirely; 1 when one was sent. */
static int early_fault(struct sim_req *rq, struct sim_resp *rs, const struct sim_fault *f)
{
	if (!f)
		return 0;
	switch (f->kind) {
	case SIM_FAULT_429:
		snprintf(rq->fault, sizeof(rq->fault), "429");
		rs->retry_after = 1;
		or_error(rs, 429, "Rate limit exceeded: too many requests. Retry shortly.");
		return 1;
	case SIM_FAULT_402:
		snprintf(rq->fault, sizeof(rq->fault), "402");
		or_error(rs, 402, "Insufficient credits. Add more using https://openrouter.ai/credits");
		return 1;
	case SIM_FAULT_502:
		snprintf(rq->fault, sizeof(rq->fault), "502");
		provider_error(rs, 502, 502, "Provider returned error");
		return 1;
	case SIM_FAULT_503:
		snprintf(rq->fault, sizeof(rq->fault), "503");
		or_error(rs, 503, "No available model provider that meets your routing requirements");
		return 1;
	case SIM_FAULT_500:
		snprintf(rq->fault, sizeof(rq->fault), "500");
		or_error(rs, 500, "Internal Server Error");
		return 1;
	case SIM_FAULT_ERROR_BODY:
		snprintf(rq->fault, sizeof(rq->fault), "error_body");
		provider_error(rs, 200, 502, "Provider returned error");
		return 1;
	default:
		return 0;
	}
}

/* Constant-time comparison, so the key cannot be guessed byte by byte. */
static int same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = (unsigned char)(la != lb);

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static int authorized(const char *api_key, const struct sim_req *rq, struct sim_resp *rs)
{
	const char *h = rq->auth;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
		or_error(rs, 401, "No auth credentials found");
		return 0;
	}
	h += 7;
	while (*h == ' ')
		h++;
	if (!same_secret(h, api_key)) {
		or_error(rs, 401, "User not found.");
		return 0;
	}
	return 1;
}

/* Cut s at byte at or before, never inside a UTF-8 sequence. */
static void cut_utf8(char *s, size_t at)
{
	size_t n = strlen(s);

	if (at >= n)
		return;
	while (at > 0 && ((unsigned char)s[at] & 0xC0) == 0x80)
		at--;
	s[at] = '\0';
}

static long tokens_of(size_t chars)
{
	return (long)((chars + 3) / 4);
}

static void count(struct sim_openrouter *o, long chat, long emb, long inputs, long tokens,
		  long pdfs, double cost)
{
	pthread_mutex_lock(&o->lock);
	o->chat += chat;
	o->embeddings += emb;
	o->embedding_inputs += inputs;
	o->tokens += tokens;
	o->pdf_files += pdfs;
	o->cost += cost;
	pthread_mutex_unlock(&o->lock);
}

/* ---- request checks ---- */

static int valid_model(const json_t *m)
{
	const char *s = json_string_value(m);

	if (!s || !*s || strlen(s) > 200)
		return 0;
	for (; *s; s++)
		if (*s == ' ' || (unsigned char)*s < 0x21)
			return 0;
	return 1;
}

static int valid_schema_name(const char *n)
{
	size_t l = n ? strlen(n) : 0;

	if (l == 0 || l > 64)
		return 0;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') ||
		      *n == '_' || *n == '-'))
			return 0;
	return 1;
}

/* The content parts of a message: NULL when fine, else what is wrong. */
static const char *check_content(const json_t *content, const char *role)
{
	size_t i;
	json_t *p;

	if (json_is_string(content))
		return NULL;
	if (json_is_null(content) && !strcmp(role, "assistant"))
		return NULL;
	if (!json_is_array(content))
		return "content must be a string or an array of content parts";
	json_array_foreach(content, i, p) {
		const char *type = json_string_value(json_object_get(p, "type"));
		json_t *file = json_object_get(p, "file");
		if (!type)
			return "every content part needs a type";
		if (!strcmp(type, "text")) {
			if (!json_is_string(json_object_get(p, "text")))
				return "a text part needs a text string";
		} else if (!strcmp(type, "file")) {
			if (!json_is_string(json_object_get(file, "file_data")))
				return "a file part needs file.file_data (a URL or a data: URL)";
		} else if (strcmp(type, "image_url") != 0) {
			return "content part types are text, image_url and file";
		}
	}
	return NULL;
}

static const char *pdf_engine_of(const json_t *body, const char **bad)
{
	json_t *plugins = json_object_get(body, "plugins"), *pl;
	size_t i;

	*bad = NULL;
	json_array_foreach(plugins, i, pl) {
		const char *id = json_string_value(json_object_get(pl, "id"));
		const char *engine = json_string_value(json_object_get(json_object_get(pl, "pdf"), "engine"));
		if (!id) {
			*bad = "every plugin needs an id";
			return NULL;
		}
		if (strcmp(id, "file-parser") != 0)
			continue;
		if (engine && strcmp(engine, "pdf-text") && strcmp(engine, "mistral-ocr") &&
		    strcmp(engine, "native") && strcmp(engine, "cloudflare-ai")) {
			*bad = "file-parser pdf.engine must be one of pdf-text, mistral-ocr, native, cloudflare-ai";
			return NULL;
		}
		return engine ? engine : "mistral-ocr";
	}
	return NULL;
}

/* 0 when the chat request has the documented shape; else 400 is filled in. */
static int check_chat(const json_t *body, struct sim_resp *rs, const json_t **schema,
		      const char **schema_name)
{
	json_t *msgs = json_object_get(body, "messages"), *m, *rf, *t, *mt, *js;
	const char *bad;
	size_t i;
	serr e;

	*schema = NULL;
	*schema_name = NULL;
	if (!valid_model(json_object_get(body, "model")))
		return or_error(rs, 400, "model: a model id such as 'openai/gpt-4o-mini' is required"), -1;
	if (!json_is_array(msgs) || !json_array_size(msgs) || json_array_size(msgs) > OR_MAX_MESSAGES)
		return or_error(rs, 400, "messages: 1 to %d messages are required", OR_MAX_MESSAGES), -1;
	json_array_foreach(msgs, i, m) {
		const char *role = json_string_value(json_object_get(m, "role"));
		if (!role || (strcmp(role, "system") && strcmp(role, "user") && strcmp(role, "assistant") &&
			      strcmp(role, "developer") && strcmp(role, "tool")))
			return or_error(rs, 400, "messages[%zu].role: system, user, assistant or tool", i), -1;
		if ((bad = check_content(json_object_get(m, "content"), role)) != NULL)
			return or_error(rs, 400, "messages[%zu]: %s", i, bad), -1;
	}
	if ((t = json_object_get(body, "temperature")) &&
	    (!json_is_number(t) || json_number_value(t) < 0 || json_number_value(t) > 2))
		return or_error(rs, 400, "temperature: a number in 0..2"), -1;
	if ((mt = json_object_get(body, "max_tokens")) &&
	    (!json_is_integer(mt) || json_integer_value(mt) < 1))
		return or_error(rs, 400, "max_tokens: a positive integer"), -1;
	if (json_is_true(json_object_get(body, "stream")))
		return or_error(rs, 400, "stream: streaming is not simulated"), -1;
	if ((t = json_object_get(body, "provider")) && !json_is_object(t))
		return or_error(rs, 400, "provider: an object of provider preferences"), -1;
	if ((t = json_object_get(body, "plugins")) && !json_is_array(t))
		return or_error(rs, 400, "plugins: an array"), -1;
	pdf_engine_of(body, &bad);
	if (bad)
		return or_error(rs, 400, "plugins: %s", bad), -1;
	rf = json_object_get(body, "response_format");
	if (!rf)
		return 0;
	t = json_object_get(rf, "type");
	if (!json_is_string(t))
		return or_error(rs, 400, "response_format.type: text, json_object or json_schema"), -1;
	if (!strcmp(json_string_value(t), "text") || !strcmp(json_string_value(t), "json_object"))
		return 0;
	if (strcmp(json_string_value(t), "json_schema") != 0)
		return or_error(rs, 400, "response_format.type: text, json_object or json_schema"), -1;
	js = json_object_get(rf, "json_schema");
	*schema_name = json_string_value(json_object_get(js, "name"));
	*schema = json_object_get(js, "schema");
	if (!valid_schema_name(*schema_name))
		return or_error(rs, 400, "response_format.json_schema.name: 1 to 64 of a-z, A-Z, 0-9, _ and -"), -1;
	if (!json_is_object(*schema))
		return or_error(rs, 400, "response_format.json_schema.schema: a JSON Schema object is required"), -1;
	if ((t = json_object_get(js, "strict")) && !json_is_boolean(t))
		return or_error(rs, 400, "response_format.json_schema.strict: a boolean"), -1;
	if (json_is_true(t) && schema_check_strict(*schema, &e) < 0)
		return or_error(rs, 400, "Invalid schema for response_format '%s': %s", *schema_name, e.msg), -1;
	return 0;
}

/* ---- PDFs ---- */

/* Parse the file parts of user messages (or reuse annotations sent back); text and annotations out. */
static int read_files(struct sim_openrouter *o, const json_t *body, struct buf *text,
		      json_t *annotations, long *parsed, struct sim_resp *rs)
{
	json_t *msgs = json_object_get(body, "messages"), *m, *p;
	size_t i, k;
	const char *bad;

	*parsed = 0;
	pdf_engine_of(body, &bad);
	json_array_foreach(msgs, i, m) {
		const char *role = json_string_value(json_object_get(m, "role"));
		json_t *anns = json_object_get(m, "annotations");
		/* annotations sent back on an assistant turn: the parse is reused */
		json_array_foreach(anns, k, p) {
			json_t *content = json_object_get(json_object_get(p, "file"), "content"), *c;
			size_t j;
			json_array_foreach(content, j, c) {
				const char *tx = json_string_value(json_object_get(c, "text"));
				if (tx && strncmp(tx, "<file", 5) != 0 &&
				    (buf_puts(text, tx) < 0 || buf_putc(text, '\n') < 0))
					return or_error(rs, 413, "annotations are too large"), -1;
			}
		}
		if (!role || strcmp(role, "user") != 0)
			continue;
		json_array_foreach(json_object_get(m, "content"), k, p) {
			const char *type = json_string_value(json_object_get(p, "type"));
			json_t *file = json_object_get(p, "file");
			const char *name = json_string_value(json_object_get(file, "filename"));
			const char *data = json_string_value(json_object_get(file, "file_data"));
			static const char prefix[] = "data:application/pdf;base64,";
			unsigned char *bytes = NULL;
			size_t len = 0;
			struct buf doc;
			enum pdf_status st;
			serr e;
			char hash[65], head[600];
			json_t *ann;
			if (!type || strcmp(type, "file") != 0)
				continue;
			if (!name)
				name = "document.pdf";
			if (strncmp(data, prefix, sizeof(prefix) - 1) != 0)
				return or_error(rs, 400, "file '%s': the simulator reads base64 data:application/pdf URLs only", name), -1;
			if (base64_decode(data + sizeof(prefix) - 1, &bytes, &len) < 0)
				return or_error(rs, 400, "file '%s': file_data is not valid base64", name), -1;
			buf_init(&doc, 4 * 1024 * 1024);
			if (!o->pdfcfg_ok ||
			    pdf_extract_named(&o->pdfcfg, name, bytes, len, &doc, &st, &e) < 0) {
				if (!o->pdfcfg_ok || st != PDF_EMPTY) {
					free(bytes);
					buf_free(&doc);
					return or_error(rs, 400, "Failed to parse file '%s': %s", name,
							o->pdfcfg_ok ? e.msg : "no pdf configuration"), -1;
				}
			}
			sha256_hex(bytes, len, hash);
			free(bytes);
			snprintf(head, sizeof(head), "<file name=\"%.500s\">", name);
			ann = json_pack("{s:s, s:{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s%}]}}", "type", "file",
					"file", "hash", hash, "name", name, "content", "type", "text",
					"text", head, "type", "text", "text", buf_cstr(&doc), doc.len);
			if (!ann || json_array_append_new(annotations, ann) < 0 ||
			    buf_append(text, buf_cstr(&doc), doc.len) < 0 || buf_putc(text, '\n') < 0) {
				buf_free(&doc);
				return or_error(rs, 500, "out of memory reading file '%s'", name), -1;
			}
			buf_free(&doc);
			(*parsed)++;
		}
	}
	return 0;
}

/* The request body kept for tests, with file data replaced by its size. */
static void remember(struct sim_openrouter *o, const json_t *body)
{
	json_t *copy = json_deep_copy(body), *m, *p;
	size_t i, k;

	if (!copy)
		return;
	json_array_foreach(json_object_get(copy, "messages"), i, m)
		json_array_foreach(json_object_get(m, "content"), k, p) {
			json_t *file = json_object_get(p, "file");
			const char *d = json_string_value(json_object_get(file, "file_data"));
			if (d) {
				char note[64];
				snprintf(note, sizeof(note), "[%zu bytes]", strlen(d));
				json_object_set_new(file, "file_data", json_string(note));
			}
		}
	pthread_mutex_lock(&o->lock);
	if (json_array_size(o->recent) >= SIM_OR_RECENT)
		json_array_remove(o->recent, 0);
	json_array_append_new(o->recent, copy);
	pthread_mutex_unlock(&o->lock);
}

/* ---- chat ---- */

static size_t message_chars(const json_t *msgs)
{
	size_t n = 0, i, k;
	json_t *m, *p;

	json_array_foreach(msgs, i, m) {
		json_t *c = json_object_get(m, "content");
		if (json_is_string(c))
			n += json_string_length(c);
		json_array_foreach(c, k, p)
			n += json_string_length(json_object_get(p, "text"));
	}
	return n;
}

static void chat(struct sim_openrouter *o, struct sim_req *rq, struct sim_resp *rs,
		 const json_t *body, const struct sim_fault *fault)
{
	const json_t *schema;
	const char *schema_name, *finish = "stop", *rft;
	struct buf input, docs;
	json_t *annotations = json_array(), *answer = NULL, *msg, *out;
	char *content = NULL, id[40], hex[25];
	long parsed = 0, prompt_t, completion_t;
	json_t *mt = json_object_get(body, "max_tokens");
	long max_tokens = json_is_integer(mt) ? (long)json_integer_value(mt) : 0;
	double cost;
	serr e;

	buf_init(&input, 0);
	buf_init(&docs, 0);
	if (!annotations) {
		or_error(rs, 500, "out of memory");
		goto out;
	}
	if (check_chat(body, rs, &schema, &schema_name) < 0)
		goto out;
	remember(o, body);
	if (read_files(o, body, &docs, annotations, &parsed, rs) < 0)
		goto out;
	if (sim_openrouter_input(json_object_get(body, "messages"), &input) < 0 ||
	    buf_append(&input, buf_cstr(&docs), docs.len) < 0) {
		or_error(rs, 500, "out of memory");
		goto out;
	}
	rft = json_string_value(json_object_get(json_object_get(body, "response_format"), "type"));
	if (schema) {
		answer = sim_openrouter_answer(schema, buf_cstr(&input));
		if (answer && schema_validate(schema, answer, &e) < 0) {
			or_error(rs, 500, "the simulator's answer does not follow the schema '%s': %s",
				 schema_name, e.msg);
			goto out;
		}
		content = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
	} else if (rft && !strcmp(rft, "json_object")) {
		answer = json_pack("{s:s%}", "text", buf_cstr(&input), input.len < 2000 ? input.len : 2000);
		content = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
	} else {
		/* plain text: the document when there is one, else the input itself */
		const struct buf *src = docs.len ? &docs : &input;
		content = strndup(buf_cstr(src), src->len);
	}
	if (!content) {
		or_error(rs, 500, "out of memory (or input that is not utf-8)");
		goto out;
	}
	prompt_t = tokens_of(message_chars(json_object_get(body, "messages")) + docs.len);
	completion_t = tokens_of(strlen(content));
	if (max_tokens > 0 && completion_t > max_tokens) {
		cut_utf8(content, (size_t)max_tokens * 4);
		completion_t = max_tokens;
		finish = "length";
	}
	if (fault && fault->kind == SIM_FAULT_TRUNCATED) {
		snprintf(rq->fault, sizeof(rq->fault), "truncated");
		cut_utf8(content, strlen(content) / 2);
		finish = "length";
	} else if (fault && fault->kind == SIM_FAULT_INVALID_JSON) {
		char *bad = NULL;
		snprintf(rq->fault, sizeof(rq->fault), "invalid_json");
		if (asprintf(&bad, "Sure! Here is the answer: %s", content) >= 0) {
			free(content);
			content = bad;
		}
	} else if (fault && fault->kind == SIM_FAULT_EMPTY_CONTENT) {
		snprintf(rq->fault, sizeof(rq->fault), "empty_content");
		content[0] = '\0';
	}
	cost = prompt_t * OR_PRICE_PROMPT + completion_t * OR_PRICE_COMPLETION;
	rand_hex(hex, 24);
	snprintf(id, sizeof(id), "gen-%s", hex);
	msg = json_pack("{s:s, s:s, s:n}", "role", "assistant", "content", content, "refusal");
	if (msg && json_array_size(annotations))
		json_object_set(msg, "annotations", annotations);
	out = msg ? json_pack("{s:s, s:s, s:O, s:s, s:I, s:[{s:i, s:n, s:s, s:s, s:o}], "
			      "s:{s:I, s:I, s:I, s:f, s:{s:i}, s:{s:i}}}",
			      "id", id, "provider", "Sim", "model", json_object_get(body, "model"),
			      "object", "chat.completion", "created", (json_int_t)(now_ms() / 1000),
			      "choices", "index", 0, "logprobs", "finish_reason", finish,
			      "native_finish_reason", finish, "message", msg, "usage", "prompt_tokens",
			      (json_int_t)prompt_t, "completion_tokens", (json_int_t)completion_t,
			      "total_tokens", (json_int_t)(prompt_t + completion_t), "cost", cost,
			      "prompt_tokens_details", "cached_tokens", 0, "completion_tokens_details",
			      "reasoning_tokens", 0)
		  : NULL;
	if (!out) {
		or_error(rs, 500, "out of memory building the answer");
		goto out;
	}
	count(o, 1, 0, 0, prompt_t + completion_t, parsed, cost);
	sim_resp_json(rs, 200, out);
out:
	free(content);
	json_decref(answer);
	json_decref(annotations);
	buf_free(&input);
	buf_free(&docs);
}

/* ---- embeddings ---- */

static void embeddings(struct sim_openrouter *o, struct sim_req *rq, struct sim_resp *rs,
		       const json_t *body, const struct sim_fault *fault)
{
	json_t *input = json_object_get(body, "input"), *dj = json_object_get(body, "dimensions");
	const char *fmt = json_string_value(json_object_get(body, "encoding_format"));
	int dim = OR_DEFAULT_DIM, b64 = 0;
	size_t n;
	float *v = NULL;
	struct buf out;
	long tokens;
	double cost;
	char hex[25];

	buf_init(&out, 0);
	if (!valid_model(json_object_get(body, "model"))) {
		or_error(rs, 400, "model: an embedding model id such as 'openai/text-embedding-3-small' is required");
		goto done;
	}
	if (dj && (!json_is_integer(dj) || json_integer_value(dj) < 1 || json_integer_value(dj) > OR_MAX_DIM)) {
		or_error(rs, 400, "dimensions: an integer in 1..%d", OR_MAX_DIM);
		goto done;
	}
	if (dj)
		dim = (int)json_integer_value(dj);
	if (fmt && strcmp(fmt, "float") != 0 && strcmp(fmt, "base64") != 0) {
		or_error(rs, 400, "encoding_format: float or base64");
		goto done;
	}
	b64 = fmt && !strcmp(fmt, "base64");
	n = json_is_string(input) ? 1 : json_array_size(input);
	if (n == 0 || n > OR_MAX_INPUTS) {
		or_error(rs, 400, "input: a non-empty string or an array of 1 to %d of them", OR_MAX_INPUTS);
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_is_string(input) ? input : json_array_get(input, i);
		if (!json_is_string(s) || json_string_length(s) == 0) {
			or_error(rs, 400, "input[%zu]: must be a non-empty string", i);
			goto done;
		}
	}
	v = malloc((size_t)dim * sizeof(float));
	if (!v || buf_puts(&out, "{\"object\":\"list\",\"data\":[") < 0)
		goto oom;
	tokens = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_is_string(input) ? input : json_array_get(input, i);
		tokens += tokens_of(json_string_length(s));
		sim_openrouter_embed(json_string_value(s), dim, v);
		if (buf_printf(&out, "%s{\"object\":\"embedding\",\"index\":%zu,\"embedding\":", i ? "," : "", i) < 0)
			goto oom;
		if (b64) {
			if (buf_putc(&out, '"') < 0 || base64_encode(v, (size_t)dim * sizeof(float), &out) < 0 ||
			    buf_putc(&out, '"') < 0)
				goto oom;
		} else {
			if (buf_putc(&out, '[') < 0)
				goto oom;
			for (int k = 0; k < dim; k++)
				if (buf_printf(&out, k ? ",%.7g" : "%.7g", (double)v[k]) < 0)
					goto oom;
			if (buf_putc(&out, ']') < 0)
				goto oom;
		}
		if (buf_putc(&out, '}') < 0)
			goto oom;
	}
	cost = tokens * OR_PRICE_EMBEDDING;
	rand_hex(hex, 24);
	{
		char *m = json_dumps(json_object_get(body, "model"), JSON_ENCODE_ANY);
		int bad = !m || buf_printf(&out, "],\"model\":%s,\"id\":\"gen-emb-%s\",\"usage\":"
						 "{\"prompt_tokens\":%ld,\"total_tokens\":%ld,\"cost\":%.10g}}",
					   m, hex, tokens, tokens, cost) < 0;
		free(m);
		if (bad)
			goto oom;
	}
	count(o, 0, 1, (long)n, tokens, 0, cost);
	if (fault && (fault->kind == SIM_FAULT_TRUNCATED || fault->kind == SIM_FAULT_INVALID_JSON ||
		      fault->kind == SIM_FAULT_EMPTY_CONTENT)) {
		/* a body cut short: not JSON */
		snprintf(rq->fault, sizeof(rq->fault), "truncated");
		out.data[out.len / 2] = '\0';
		out.len /= 2;
	}
	buf_reset(&rs->body);
	rs->body.max = out.len + 1;
	if (buf_append(&rs->body, out.data, out.len) < 0)
		goto oom;
	snprintf(rs->content_type, sizeof(rs->content_type), "application/json");
	rs->status = 200;
	goto done;
oom:
	or_error(rs, 500, "out of memory building embeddings");
done:
	free(v);
	buf_free(&out);
}

void sim_openrouter_handle(struct sim_openrouter *o, const char *api_key, struct sim_req *rq,
			   struct sim_resp *rs, const struct sim_fault *fault)
{
	json_t *body = NULL;
	json_error_t je;
	const char *what = rq->nsegs >= 3 ? rq->segs[2] : "";

	if (rq->too_large) {
		or_error(rs, 413, "Request body too large");
		return;
	}
	if (!authorized(api_key, rq, rs))
		return;
	if (!((rq->nsegs == 4 && !strcmp(what, "chat") && !strcmp(rq->segs[3], "completions")) ||
	      (rq->nsegs == 3 && !strcmp(what, "embeddings")))) {
		or_error(rs, 404, "Not Found: the simulator serves POST /api/v1/chat/completions and "
				  "POST /api/v1/embeddings");
		return;
	}
	if (strcmp(rq->method, "POST") != 0) {
		or_error(rs, 405, "Method Not Allowed: use POST");
		return;
	}
	if (early_fault(rq, rs, fault))
		return;
	body = rq->body.len ? json_loadb(rq->body.data, rq->body.len, 0, &je) : NULL;
	if (!json_is_object(body)) {
		json_decref(body);
		or_error(rs, 400, "Invalid JSON body: expected an object");
		return;
	}
	if (!strcmp(what, "chat"))
		chat(o, rq, rs, body, fault);
	else
		embeddings(o, rq, rs, body, fault);
	json_decref(body);
}
