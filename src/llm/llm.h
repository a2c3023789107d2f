/*
 * The OpenRouter client (any OpenAI-compatible server works through
 * OPENROUTER_API_URL): chat completions whose answer is JSON that follows
 * a schema (response_format json_schema, strict, and provider
 * require_parameters so only providers that honour the schema serve it),
 * the same with a validator that sends an invalid answer back to the
 * model with the reason, batched embeddings, and the text of a PDF through
 * the file-parser plugin.
 *
 * Retries follow OpenRouter's documented errors: 408, 429 (Retry-After
 * honoured), 5xx, 524, 529, timeouts and connection errors, a 200 whose
 * body carries an error, an empty answer or one that is not JSON are
 * retried with exponential backoff and jitter; a truncated answer
 * (finish_reason "length") is retried once with twice the token budget;
 * 400, 401 and 403 are never retried; 402 (no credits) fails at once with
 * LLM_ERR_NO_CREDITS so the caller can pause LLM work. The API key never
 * appears in logs or error messages.
 *
 * A client is used by one thread at a time; give each worker thread its own.
 */
#ifndef SCOUT_LLM_LLM_H
#define SCOUT_LLM_LLM_H

#include <stddef.h>

#include <jansson.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/http.h"

/* What calls cost. Callers aggregate per run and per record with llm_usage_add(). */
struct llm_usage {
	long calls;		/* HTTP requests sent, retries included */
	long retries;		/* of which were retries (or validation re-asks) */
	long prompt_tokens;
	long completion_tokens;
	long embedding_tokens;
	long embedding_inputs;	/* texts embedded */
	double cost_usd;	/* as the API reports it (usage.cost); 0 when it does not */
};

void llm_usage_add(struct llm_usage *to, const struct llm_usage *from);

enum llm_error_kind {
	LLM_OK = 0,
	LLM_ERR_RETRYABLE_EXHAUSTED, /* 408/429/5xx/timeouts/bad answers kept coming */
	LLM_ERR_BAD_REQUEST,	     /* 400, 403 (moderation), 404, 413, 422: never retried */
	LLM_ERR_AUTH,		     /* 401: the api key is wrong or disabled */
	LLM_ERR_NO_CREDITS,	     /* 402: pause LLM work until credits are added */
	LLM_ERR_INVALID_ANSWER,	     /* truncated twice, or failed validation max_attempts times */
	LLM_ERR_TRANSPORT,	     /* the request could not be built or sent at all */
};

const char *llm_error_kind_name(enum llm_error_kind k);

struct llm {
	const struct config *cfg;
	struct http_client http;
	struct llm_usage total;		/* everything this client spent */
	enum llm_error_kind last_error; /* of the last call */
	char *root;			/* API root without trailing '/' */
};

/* Uses openrouter.api_url (OPENROUTER_API_URL), openrouter.api_key and the llm.* options. */
int llm_init(struct llm *l, const struct config *cfg, serr *e) SCOUT_MUST;
void llm_free(struct llm *l);

/* Why the last call failed (LLM_OK after a success); callers pause the llm tag on NO_CREDITS. */
enum llm_error_kind llm_last_error(const struct llm *l);

struct llm_chat {
	const char *model;	 /* NULL: llm.chat_model */
	const char *system;	 /* system message, or NULL */
	const char *user;	 /* user message (the data, delimited by the caller) */
	const json_t *schema;	 /* JSON Schema of the answer (strict); NULL asks for any JSON object */
	const char *schema_name; /* [a-zA-Z0-9_-]{1,64}; NULL: "answer" */
	double temperature;	 /* < 0: llm.temperature */
	int max_tokens;		 /* <= 0: llm.max_tokens */
	const void *pdf;	 /* optional PDF sent along as a file part */
	size_t pdf_len;
	const char *pdf_filename; /* NULL: "document.pdf" */
	const char *pdf_engine;	  /* NULL: llm.pdf_engine */
};

/* Zero everything and select the configured temperature. */
void llm_chat_init(struct llm_chat *c);

/*
 * The answer's content parsed as JSON (*out, new reference; an object when
 * schema is NULL). usage (may be NULL) receives this call's usage, which
 * is also added to l->total.
 */
int llm_chat_json(struct llm *l, const struct llm_chat *req, json_t **out, struct llm_usage *usage,
		  serr *e) SCOUT_MUST;

/*
 * A validator of one answer: 0 when it is fine, else -1 with e saying what
 * is wrong in words the model can act on ("$.skills[2].rating: 11 is above
 * the maximum 10").
 */
typedef int (*llm_validate_fn)(void *ud, const json_t *answer, serr *e);

/*
 * llm_chat_json, then fn on the answer; an answer that fails is sent back
 * (as the assistant's turn, then a user turn "your previous answer was
 * invalid: <error>; answer again") up to llm.max_attempts answers in all.
 * After the last one the call fails with LLM_ERR_INVALID_ANSWER and the
 * validation error.
 */
int llm_chat_validated(struct llm *l, const struct llm_chat *req, llm_validate_fn fn, void *ud,
		       json_t **out, struct llm_usage *usage, serr *e) SCOUT_MUST;

/*
 * Embeddings of n texts (none empty), llm.embedding_batch texts per
 * request, in order: *out is n * *dim floats (malloc'd, caller frees).
 * model NULL: llm.embedding_model; dimensions <= 0: llm.embedding_dimensions.
 */
int llm_embed(struct llm *l, const char *model, int dimensions, const char *const *texts, size_t n,
	      float **out, int *dim, struct llm_usage *usage, serr *e) SCOUT_MUST;

/*
 * The text of a PDF parsed by OpenRouter's file-parser plugin (for CVs
 * local extraction cannot read), appended to text. The engine is always
 * sent explicitly: engine NULL selects llm.pdf_engine ("pdf-text");
 * "mistral-ocr" reads scans. The text comes from the file annotation of
 * the answer, or from the answer itself when there is none.
 */
int llm_pdf_text(struct llm *l, const void *pdf, size_t len, const char *filename,
		 const char *engine, struct buf *text, struct llm_usage *usage, serr *e) SCOUT_MUST;

#endif
